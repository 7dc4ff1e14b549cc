//! Outputs: where the engine's results go besides its own database. The
//! seam takes typed engine events (the readings of every decoded message,
//! the scores of every detection, and a periodic `KpiPass` carrying the
//! ticket events and KPIs it reads from the ticket store) and fans them
//! out to every output that started; each output owns its bounded queue, its retries and its
//! metrics (labelled with its name: `metrics`, `internal_events`), and
//! may run tasks of its own (InfluxDB's writer). Adding an output is a
//! folder here and one line in `Outputs::start`.

pub mod influx;
mod internal_events;
mod kpi_pass;
mod metrics;
pub mod notify;

pub use crate::decode::ReadingsTap;
pub use kpi_pass::{KpiPass, KpiTap, PassSource};
pub use metrics::{OutputMetrics, OutputsSection};

use crate::detect::{AssetScores, ScoreTap};
use crate::dispatch::StockStore;
use crate::fleet::Fleet;
use crate::model::{AssetId, EpochMs, ModelId, Reading, Span};
use crate::shutdown::Trigger;
use crate::telemetry::Metrics;
use crate::tickets::TicketReader;
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;

/// Takes one detection's scores, on a detection worker; must never block.
pub type ScoresTap = Arc<dyn Fn(&AssetScores) + Send + Sync>;

/// What the engine's stages share with the outputs.
pub struct OutputContext<'a> {
    pub db: &'a crate::db::Db,
    pub fleet: &'a Arc<Fleet>,
    /// Rule texts in each language (notifications name the fault in the reader's).
    pub rules: &'a Arc<crate::rules::RuleSet>,
    /// What the KPI pass reads: the ticket store (events, KPIs) and stock.
    pub tickets: &'a TicketReader,
    pub stock: &'a StockStore,
    pub metrics: &'a Arc<Metrics>,
}

/// Every output's settings (each its own section of the configuration).
pub struct OutputsConfig<'a> {
    pub influx: &'a influx::config::InfluxConfig,
    pub notify: &'a notify::config::NotifyConfig,
    /// The broker the engineers' field app listens on for notifications.
    pub mqtt: &'a crate::ingest::MqttConfig,
}

/// One output, started: its taps (each optional) and its tasks.
pub struct Started {
    /// Its counters; their `output` label is its name.
    pub metrics: Arc<OutputMetrics>,
    pub readings: Option<Box<dyn ReadingsTap>>,
    /// At most one detection's scores per asset per this span of event time, and where they go.
    pub scores: Option<(Span, ScoresTap)>,
    pub kpi: Option<KpiRequest>,
    /// Its tasks in the order they stop: each is told, then awaited.
    pub tasks: Vec<(Trigger, JoinHandle<()>)>,
}

/// How often an output wants a KPI pass, over how long a lookback, and
/// where it goes.
pub struct KpiRequest {
    pub every: Span,
    pub lookback: Span,
    pub tap: KpiTap,
}

#[derive(Debug, thiserror::Error)]
pub enum OutputError {
    #[error("InfluxDB output: {0}")]
    Influx(#[from] influx::writer::WriteError),
    #[error("notifications: {0}")]
    Notify(String),
}

/// The started outputs, and the seam's KPI pass when one asked for it.
pub struct Outputs {
    started: Vec<Started>,
    kpi_pass: Option<(Trigger, JoinHandle<()>)>,
}

impl Outputs {
    /// Starts every configured output; one that is not configured is absent.
    pub fn start(config: &OutputsConfig, ctx: &OutputContext<'_>) -> Result<Outputs, OutputError> {
        let started = [influx::start(config.influx, ctx)?, notify::start(config.notify, config.mqtt, ctx)?];
        Ok(Outputs::assemble(started.into_iter().flatten().collect(), ctx))
    }

    /// The started outputs, their metrics registered, and the KPI pass
    /// started when any asked for it.
    fn assemble(started: Vec<Started>, ctx: &OutputContext<'_>) -> Outputs {
        for s in &started {
            tracing::info!(output = s.metrics.output, "output started");
        }
        ctx.metrics.register(Arc::new(OutputsSection(started.iter().map(|s| Arc::clone(&s.metrics)).collect())));
        let mut outputs = Outputs { started, kpi_pass: None };
        outputs.kpi_pass = outputs.start_kpi_pass(ctx);
        outputs
    }

    /// One pass for every output that asked: at the most frequent interval
    /// and over the longest lookback asked for.
    fn start_kpi_pass(&mut self, ctx: &OutputContext<'_>) -> Option<(Trigger, JoinHandle<()>)> {
        let requests: Vec<KpiRequest> = self.started.iter_mut().filter_map(|s| s.kpi.take()).collect();
        let every = requests.iter().map(|r| r.every).min()?;
        let lookback = requests.iter().map(|r| r.lookback).max()?;
        let taps = requests.into_iter().map(|r| r.tap).collect();
        let (trigger, stop) = crate::shutdown::channel();
        let source = PassSource::new(ctx, lookback.as_millis());
        Some((trigger, tokio::spawn(source.run(every.as_std(), taps, stop))))
    }

    /// The readings fan-out for the ingest path (empty when no output wants readings).
    pub fn readings(&mut self) -> Readings {
        Readings(self.started.iter_mut().filter_map(|s| s.readings.take()).collect())
    }

    /// The scores fan-out for the detection workers: detection takes scores
    /// at the most frequent interval any output asked for, and each output
    /// gets them at its own; `None` when none wants scores.
    pub fn scores(&mut self) -> Option<ScoreTap> {
        let taps: Vec<(Span, ScoresTap)> = self.started.iter_mut().filter_map(|s| s.scores.take()).collect();
        let every = taps.iter().map(|(every, _)| *every).min()?;
        let taps: Vec<ScoresTap> =
            taps.into_iter().map(|(own, tap)| if own > every { thinned(own, tap) } else { tap }).collect();
        Some(ScoreTap { every, send: Arc::new(move |s: AssetScores| taps.iter().for_each(|tap| tap(&s))) })
    }

    /// Stops every output's tasks once the engine has stopped feeding them:
    /// the last KPI pass first, so every output gets it before it stops.
    pub async fn stop(self) {
        for (trigger, task) in self.kpi_pass.into_iter().chain(self.started.into_iter().flat_map(|s| s.tasks)) {
            trigger.fire();
            let _ = task.await;
        }
    }
}

/// `tap`, given at most one detection's scores per asset per `every` of
/// event time.
fn thinned(every: Span, tap: ScoresTap) -> ScoresTap {
    let last: std::sync::Mutex<std::collections::HashMap<AssetId, EpochMs>> = Default::default();
    Arc::new(move |s: &AssetScores| {
        let mut last = last.lock().unwrap_or_else(|p| p.into_inner());
        let due = last.get(&s.asset).is_none_or(|at| s.at - at >= every.as_millis());
        if due {
            last.insert(s.asset.clone(), s.at);
            tap(s);
        }
    })
}

/// Every output's readings tap, fed in turn.
pub struct Readings(Vec<Box<dyn ReadingsTap>>);

impl ReadingsTap for Readings {
    fn observe(&mut self, asset: &AssetId, model: &ModelId, readings: &[Reading]) {
        self.0.iter_mut().for_each(|t| t.observe(asset, model, readings));
    }

    fn idle(&mut self, idle: Duration) {
        self.0.iter_mut().for_each(|t| t.idle(idle));
    }

    fn flush(&mut self) {
        self.0.iter_mut().for_each(|t| t.flush());
    }
}

#[cfg(test)]
mod tests;
