//! Wiring only: builds every stage from the config and connects them with
//! channels. `start` returns a handle whose `stop` shuts down in data order.

use crate::api::{self, AppState};
use crate::config::Config;
use crate::db::{Db, DbError, Transient};
use crate::detect::{self, WindowParams};
use crate::dispatch::Dispatcher;
use crate::fleet::Fleet;
use crate::ingest::{self, MqttError};
use crate::rules::RuleSet;
use crate::shutdown::{self, Trigger};
use crate::sinks::feed::{Feeds, FeedsStopper};
use crate::sinks::influx::WriteError;
use crate::telemetry::Metrics;
use crate::tickets::escalation::{Escalator, StormConfig};
use crate::tickets::redispatch::Redispatch;
use crate::tickets::{self, ServiceContext};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::unbounded_channel;
use tokio::task::JoinHandle;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Mqtt(#[from] MqttError),
    #[error("InfluxDB sink: {0}")]
    Influx(#[from] WriteError),
    #[error("SLA: {0}")]
    Sla(#[from] crate::sla::SlaError),
    #[error("cannot listen on {addr}: {source}")]
    Listen { addr: String, source: std::io::Error },
}

/// A running engine.
pub struct Running {
    pub api_addr: SocketAddr,
    pub metrics: Arc<Metrics>,
    pub db: Db,
    trigger: Trigger,
    tasks: Vec<JoinHandle<()>>,
    feeds: Option<FeedsStopper>,
}

impl Running {
    /// Stops taking messages, lets detection and ticketing finish what they
    /// hold, acknowledges it, then stops the API; the InfluxDB feeds write
    /// their last points after that.
    pub async fn stop(self) {
        self.trigger.fire();
        for t in self.tasks {
            let _ = t.await;
        }
        if let Some(feeds) = self.feeds {
            feeds.stop().await;
        }
    }
}

pub async fn start(config: &Config, fleet: Arc<Fleet>, rules: Arc<RuleSet>) -> Result<Running, AppError> {
    for gap in crate::dispatch::coverage_gaps(&fleet, &rules) {
        tracing::warn!(%gap, "rules ask for what the fleet cannot supply");
    }
    let sla = crate::sla::Sla::new(&config.sla, &fleet.file().contracts)?;
    let metrics = Arc::new(Metrics::default());
    let db = connect_db(config, &metrics).await?;
    crate::db::with_retry(&metrics, "seeding depot stock", || db.seed_stock(fleet.depots())).await?;
    let (trigger, stop) = shutdown::channel();
    let (feeds, feeds_stopper) =
        match Feeds::start(&config.influx, Arc::clone(&fleet), db.clone(), Arc::clone(&metrics.influx))? {
            Some((f, stopper)) => (Some(f), Some(stopper)),
            None => (None, None),
        };
    let (telemetry_feed, score_tap) = feeds.map(|f| (f.telemetry, f.scores)).unzip();

    let params = WindowParams::from_config(&config.detect);
    let (engine, engine_events) = detect::start(
        Arc::clone(&rules),
        params,
        config.detect.evidence_every,
        config.detect.workers,
        Arc::clone(&metrics),
        score_tap,
    );
    let (acker, event_loop) = ingest::connect(&config.mqtt, Arc::clone(&metrics))?;
    let (deliveries_tx, deliveries_rx) = unbounded_channel();
    let (pending_tx, pending_rx) = unbounded_channel();

    let listener = tokio::net::TcpListener::bind(&config.api.listen)
        .await
        .map_err(|source| AppError::Listen { addr: config.api.listen.clone(), source })?;
    let api_addr =
        listener.local_addr().map_err(|source| AppError::Listen { addr: config.api.listen.clone(), source })?;

    let pipeline = ingest::PipelineContext {
        fleet: Arc::clone(&fleet),
        limits: config.decode.clone(),
        db: db.clone(),
        metrics: Arc::clone(&metrics),
        telemetry: telemetry_feed,
    };
    let dispatcher = Arc::new(Dispatcher::new(Arc::clone(&fleet), config.dispatch.clone()));
    let now = crate::model::now_ms();
    let reading = || db.engineer_positions(dispatcher.fresh_since(now));
    for (engineer, to, at) in crate::db::with_retry(&metrics, "reading engineer positions", reading).await? {
        dispatcher.move_engineer(&engineer, to, at, now);
    }
    let service = ServiceContext {
        db: db.clone(),
        fleet: Arc::clone(&fleet),
        dispatcher: Arc::clone(&dispatcher),
        rules: Arc::clone(&rules),
        sla,
        repairs: config.repairs.clone(),
        quote: config.quote.clone(),
        metrics: Arc::clone(&metrics),
    };
    let redispatch =
        Arc::new(Redispatch::new(db.clone(), Arc::clone(&fleet), Arc::clone(&rules), Arc::clone(&dispatcher)));
    let storm = StormConfig { tickets: config.dispatch.replan_storm, window: config.dispatch.replan_window };
    let escalator = Escalator::new(Arc::clone(&redispatch), config.escalation.clone(), storm);
    let state = AppState { db: db.clone(), fleet, rules, dispatcher, redispatch, metrics: Arc::clone(&metrics) };
    let api_stop = stop.clone();
    let timer_stop = stop.clone();
    // The connection outlives the service so its last acks still go out.
    let (service_done, connection_stop) = shutdown::channel();
    let tasks = vec![
        tokio::spawn(event_loop.run(deliveries_tx, stop, connection_stop)),
        tokio::spawn(ingest::run_pipeline(pipeline, deliveries_rx, engine, pending_tx)),
        tokio::spawn(async move {
            tickets::run_service(service, engine_events, pending_rx, acker).await;
            service_done.fire();
        }),
        tokio::spawn(escalator.run(timer_stop)),
        tokio::spawn(async move {
            if let Err(e) = api::serve(listener, state, api_stop).await {
                tracing::error!(error = %e, "API server failed");
            }
        }),
    ];
    tracing::info!(api = %api_addr, mqtt = %config.mqtt.url, influx = ?config.influx.url, "upkeep engine started");
    Ok(Running { api_addr, metrics, db, trigger, tasks, feeds: feeds_stopper })
}

/// Waits for the database while it is unreachable (an outage at start-up
/// is survived like one later); a malformed URL fails at once.
async fn connect_db(config: &Config, metrics: &Metrics) -> Result<Db, AppError> {
    let mut delay = Duration::from_millis(200);
    loop {
        match Db::connect(&config.database.url, config.database.max_connections).await {
            Ok(db) => return Ok(db),
            Err(e) if e.is_transient() => {
                metrics.store_errors.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                tracing::warn!(error = %e, retry_in_ms = delay.as_millis() as u64, "database not reachable yet");
                tokio::time::sleep(delay).await;
                delay = (delay * 2).min(Duration::from_secs(10));
            }
            Err(e) => return Err(e.into()),
        }
    }
}
