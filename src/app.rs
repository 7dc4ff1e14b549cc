//! Wiring only: builds every stage from the config and connects them with
//! channels. `start` returns a handle whose `stop` shuts down in data order.

use crate::api::{self, AppState};
use crate::config::Config;
use crate::db::{Classify, Db, DbError, ErrorClass, Failure, Retry, StoreCallFailed, Then};
use crate::decode::DeadLetterMetrics;
use crate::detect::checkpoint::Settings;
use crate::detect::{self, EngineSetup, EngineSize, WindowParams};
use crate::dispatch::Dispatcher;
use crate::fleet::Fleet;
use crate::ingest::{self, Budget, Limits, MqttError};
use crate::outputs::{OutputContext, OutputError, Outputs, OutputsConfig};
use crate::rules::RuleSet;
use crate::shutdown::{self, Trigger};
use crate::telemetry::InternalEvent;
use crate::telemetry::Metrics;
use crate::tickets::escalation::{Escalator, StormConfig};
use crate::tickets::redispatch::Redispatch;
use crate::tickets::ServiceContext;
use std::net::SocketAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc::channel;
use tokio::task::JoinHandle;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error(transparent)]
    Mqtt(#[from] MqttError),
    #[error(transparent)]
    Output(#[from] OutputError),
    #[error("SLA: {0}")]
    Sla(#[from] crate::sla::SlaError),
    #[error("cannot listen on {addr}: {source}")]
    Listen { addr: SocketAddr, source: std::io::Error },
    #[error("database {url}: {source}")]
    Database { url: String, source: DbError },
    #[error("stopped before the engine was up")]
    Abandoned,
    #[error(
        "api.listen is {addr}, reachable beyond this machine, and no identity exists to check callers \
         against (no API token, console user or [oidc] issuer): issue a token (`upkeep tokens issue \
         --role admin --name NAME`) or listen on 127.0.0.1"
    )]
    Unprotected { addr: SocketAddr },
    #[error("API tokens: {0}")]
    Access(#[from] crate::access::AccessError),
}

impl<E: Into<AppError>> From<Failure<E>> for AppError {
    fn from(f: Failure<E>) -> Self {
        match f {
            Failure::Data(e) => e.into(),
            Failure::Abandoned => AppError::Abandoned,
        }
    }
}

/// A running engine.
pub struct Running {
    pub api_addr: SocketAddr,
    pub metrics: Arc<Metrics>,
    /// Decode's section of the metrics: dead letters by reason.
    pub dead_letters: Arc<DeadLetterMetrics>,
    pub db: Db,
    trigger: Trigger,
    /// Fired when draining takes longer than `drain_timeout`: store retries
    /// give up and what is left stays unacknowledged.
    abandon: Trigger,
    drain_timeout: Duration,
    tasks: Vec<JoinHandle<()>>,
    outputs: Outputs,
}

impl Running {
    /// Stops taking messages, lets detection and ticketing finish what they
    /// hold, acknowledges it, then stops the API; the outputs write their
    /// last points after that.
    pub async fn stop(self) {
        self.trigger.fire();
        let mut tasks = self.tasks;
        let drained = tokio::time::timeout(self.drain_timeout, async {
            for t in &mut tasks {
                let _ = t.await;
            }
        });
        if drained.await.is_err() {
            tracing::warn!(
                timeout_ms = self.drain_timeout.as_millis() as u64,
                "draining took too long: what is not committed stays unacknowledged"
            );
            self.abandon.fire();
            for t in tasks {
                if !t.is_finished() {
                    let _ = t.await;
                }
            }
        }
        self.outputs.stop().await;
        let m = &self.metrics;
        let (received, acked) = (m.messages_received.load(Relaxed), m.messages_acked.load(Relaxed));
        tracing::info!(received, acked, "engine stopped");
    }
}

pub async fn start(config: &Config, fleet: Arc<Fleet>, rules: Arc<RuleSet>) -> Result<Running, AppError> {
    start_on(config, fleet, rules, crate::model::Clock::Wall).await
}

/// `start`, the ticket service acting on `clock` (the demo's replay follows event time).
pub async fn start_on(
    config: &Config,
    fleet: Arc<Fleet>,
    rules: Arc<RuleSet>,
    clock: crate::model::Clock,
) -> Result<Running, AppError> {
    for gap in crate::dispatch::coverage_gaps(&fleet, &rules) {
        tracing::warn!(%gap, "rules ask for what the fleet cannot supply");
    }
    let sla = crate::sla::Sla::new(&config.sla, &fleet.file().contracts)?;
    let metrics = Arc::new(Metrics::default());
    let dead_letters = Arc::new(DeadLetterMetrics::default());
    metrics.register(dead_letters.clone());
    let (trigger, stop) = shutdown::channel();
    let (abandon, abandoned) = shutdown::channel();
    let db = connect_db(config, &metrics, stop.clone()).await?;
    let retry = Retry::new(Arc::clone(&metrics), abandoned, config.database.call_timeout.as_std());
    let (tickets, stock) = (db.tickets(), db.stock());
    retry.committed("seeding depot stock", || stock.seed_stock(fleet.depots())).await?;
    let oidc = crate::access::Verifier::new(&config.oidc).await?.map(Arc::new);
    let identities = oidc.is_some() || db.tokens().live().await? > 0 || db.users().active().await? > 0;
    if !config.api.listen.ip().is_loopback() && !identities {
        return Err(AppError::Unprotected { addr: config.api.listen });
    }
    let reader = db.ticket_reader();
    let outputs_ctx =
        OutputContext { db: &db, fleet: &fleet, rules: &rules, tickets: &reader, stock: &stock, metrics: &metrics };
    let outputs_config = OutputsConfig { influx: &config.influx, notify: &config.notify, mqtt: &config.mqtt };
    let mut outputs = Outputs::start(&outputs_config, &outputs_ctx)?;
    let score_tap = outputs.scores();

    let params = WindowParams::from_config(&config.detect);
    let held = Limits { messages: config.ingest.held_messages, bytes: config.ingest.held_bytes };
    // Every queue on the data path holds at most the budget's messages (plus
    // the slack of one poll); none can grow past it.
    let queued = held.messages + 64;
    let setup = EngineSetup {
        rules: Arc::clone(&rules),
        params,
        evidence_every: config.detect.evidence_every,
        size: EngineSize { workers: config.detect.workers, queued },
        checkpoint: checkpoint_settings(config),
    };
    let (engine, engine_events) = detect::start(setup, Arc::clone(&metrics), score_tap);
    let budget = Budget::new(held, Arc::clone(&metrics));
    let (acker, event_loop) = ingest::connect(&config.mqtt, Arc::clone(&metrics), budget)?;
    let (deliveries_tx, deliveries_rx) = channel(queued);
    let (pending_tx, pending_rx) = channel(queued);

    let listener = tokio::net::TcpListener::bind(&config.api.listen)
        .await
        .map_err(|source| AppError::Listen { addr: config.api.listen, source })?;
    let api_addr = listener.local_addr().map_err(|source| AppError::Listen { addr: config.api.listen, source })?;

    let pipeline = ingest::PipelineContext {
        fleet: Arc::clone(&fleet),
        limits: config.decode.clone(),
        dead_letters: db.dead_letters(),
        metrics: Arc::clone(&metrics),
        dead_letter_metrics: Arc::clone(&dead_letters),
        retry: retry.clone(),
        outputs: Box::new(outputs.readings()),
    };
    let dispatcher = Arc::new(Dispatcher::new(Arc::clone(&fleet), config.dispatch.clone()));
    let now = crate::model::now_ms();
    let positions = db.positions();
    let reading = || positions.engineer_positions(dispatcher.fresh_since(now));
    for (engineer, to, at) in retry.committed("reading engineer positions", reading).await? {
        dispatcher.move_engineer(&engineer, to, at, now);
    }
    let redispatch = Arc::new(Redispatch::new(
        tickets.clone(),
        Arc::clone(&fleet),
        Arc::clone(&rules),
        Arc::clone(&dispatcher),
        sla.clone(),
    ));
    let service = Arc::new(ServiceContext {
        tickets: tickets.clone(),
        stock: stock.clone(),
        dead_findings: db.dead_findings(),
        fleet: Arc::clone(&fleet),
        dispatcher: Arc::clone(&dispatcher),
        rules: Arc::clone(&rules),
        sla,
        redispatch: Arc::clone(&redispatch),
        repairs: config.repairs.clone(),
        quote: config.quote.clone(),
        metrics: Arc::clone(&metrics),
        retry,
        clock: clock.clone(),
    });
    let storm = StormConfig { tickets: config.dispatch.replan_storm, window: config.dispatch.replan_window };
    let escalator = Escalator::new(Arc::clone(&redispatch), config.escalation.clone(), storm);
    let state = AppState::new(&config.api, oidc, &db, Arc::clone(&service), Arc::clone(&metrics));
    let api_stop = stop.clone();
    let timer_stop = stop.clone();
    let privacy_stop = stop.clone();
    // The connection outlives the service so its last acks still go out.
    let (service_done, connection_stop) = shutdown::channel();
    let tasks = vec![
        tokio::spawn(event_loop.run(deliveries_tx, stop, connection_stop)),
        tokio::spawn(ingest::run_pipeline(pipeline, deliveries_rx, engine, pending_tx)),
        tokio::spawn(async move {
            ingest::acknowledge_committed(service, engine_events, pending_rx, acker).await;
            service_done.fire();
        }),
        tokio::spawn(escalator.run(clock, timer_stop)),
        tokio::spawn(crate::access::privacy::run(db.positions(), db.audit(), config.privacy.clone(), privacy_stop)),
        tokio::spawn(async move {
            if let Err(e) = api::serve(listener, state, api_stop).await {
                tracing::error!(error = %e, "API server failed");
            }
        }),
    ];
    tracing::info!(api = %api_addr, mqtt = %config.mqtt.url, influx = ?config.influx.url, "upkeep engine started");
    let drain_timeout = config.ingest.drain_timeout.as_std();
    Ok(Running { api_addr, metrics, dead_letters, db, trigger, abandon, drain_timeout, tasks, outputs })
}

/// Waits for the database while it is unreachable (an outage at start-up
/// is survived like one later); wrong settings (URL, credentials, a missing
/// database) fail at once, naming the URL.
async fn connect_db(config: &Config, metrics: &Metrics, mut stop: shutdown::Shutdown) -> Result<Db, AppError> {
    let url = &config.database.url;
    let mut backoff = crate::retry::Backoff::new(Duration::from_millis(200), Duration::from_secs(10));
    loop {
        match Db::connect(url, config.database.max_connections).await {
            Ok(db) => return Ok(db),
            Err(e) if matches!(e.class(), ErrorClass::Retry { .. }) => {
                let after = backoff.next_delay();
                let (what, error) = (format!("connecting to {}", url.redacted()), e);
                StoreCallFailed { what: &what, error: &error, then: Then::Retry { after, fatal: false } }.emit(metrics);
                tokio::select! {
                    () = tokio::time::sleep(after) => {}
                    () = stop.wait() => return Err(AppError::Abandoned),
                }
            }
            Err(source) => return Err(AppError::Database { url: url.redacted(), source }),
        }
    }
}

/// The checkpoint directory: configured, or beside the SQLite file, or
/// `upkeep-state` in the working directory with PostgreSQL.
fn checkpoint_settings(config: &Config) -> Option<Settings> {
    let c = &config.checkpoint;
    if !c.enabled {
        return None;
    }
    let dir = if !c.dir.as_os_str().is_empty() {
        c.dir.clone()
    } else if let Some(file) = config.database.url.sqlite_file() {
        std::path::PathBuf::from(format!("{file}.state"))
    } else {
        "upkeep-state".into()
    };
    Some(Settings { dir, every: c.every.as_std(), journal_bytes: c.journal_bytes })
}
