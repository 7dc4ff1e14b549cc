//! What upkeep writes to InfluxDB and when (schema: README, "InfluxDB
//! schema"): telemetry from the decode step, detector outputs from the
//! detection workers, ticket events and KPIs from a periodic pass over the
//! ticket store. All of it goes through one bounded, never-blocking sink.

mod kpi_points;
mod ops;
mod points;
mod telemetry;
#[cfg(test)]
mod tests;

pub use telemetry::TelemetryFeed;

use ops::OpsFeed;

use super::influx::{InfluxApi, InfluxTarget, InfluxWriter, WriteError};
use super::line_protocol::Precision;
use super::queue::{InfluxSink, SinkMetrics, SinkSettings};
use crate::config::{InfluxApiKind, InfluxConfig};
use crate::db::Db;
use crate::detect::ScoreTap;
use crate::fleet::Fleet;
use crate::shutdown::{self, Trigger};
use std::sync::Arc;
use tokio::task::JoinHandle;

/// The configured write target.
fn target(c: &InfluxConfig) -> Option<InfluxTarget> {
    let api = match c.api {
        InfluxApiKind::V1 => {
            InfluxApi::V1 { database: c.database.clone(), username: c.username.clone(), password: c.password.clone() }
        }
        InfluxApiKind::V2 => {
            InfluxApi::V2 { org: c.org.clone(), bucket: c.bucket.clone(), token: c.token.clone().unwrap_or_default() }
        }
    };
    Some(InfluxTarget { url: c.url.clone()?, api })
}

fn settings(c: &InfluxConfig) -> SinkSettings {
    SinkSettings {
        batch_points: c.batch_points,
        flush_every: c.flush_every.as_std(),
        queue_points: c.queue_points,
        precision: Precision::Ms,
        max_backoff: c.max_backoff.as_std(),
    }
}

/// What the engine's stages feed.
pub struct Feeds {
    pub telemetry: TelemetryFeed,
    pub scores: ScoreTap,
}

impl Feeds {
    /// Starts the sink and the operations feed; `None` when no URL is set.
    pub fn start(
        c: &InfluxConfig,
        fleet: Arc<Fleet>,
        db: Db,
        metrics: Arc<SinkMetrics>,
    ) -> Result<Option<(Feeds, FeedsStopper)>, WriteError> {
        let Some(target) = target(c) else { return Ok(None) };
        let writer = InfluxWriter::new(target, c.timeout.as_std())?;
        let (sink_trigger, sink_stop) = shutdown::channel();
        let (sink, sink_task) = InfluxSink::start(writer, settings(c), metrics, sink_stop);
        let tap_sink = sink.clone();
        let tap_fleet = Arc::clone(&fleet);
        let scores = ScoreTap {
            every: c.scores_every,
            send: Arc::new(move |s| {
                let site = tap_fleet.site_of(s.asset.as_str());
                points::scores(&s, &site).for_each(|p| tap_sink.send(p));
            }),
        };
        let telemetry =
            TelemetryFeed::new(sink.clone(), Arc::clone(&fleet), c.raw_every.as_millis(), c.rollup.as_millis());
        let feed = OpsFeed { sink, db, fleet, every: c.kpi_every.as_std(), lookback_ms: c.kpi_lookback.as_millis() };
        let (ops_trigger, ops_stop) = shutdown::channel();
        let ops_task = tokio::spawn(feed.run(ops_stop));
        let stopper = FeedsStopper { ops: (ops_trigger, ops_task), sink: (sink_trigger, sink_task) };
        Ok(Some((Feeds { telemetry, scores }, stopper)))
    }
}

/// Stops what `Feeds::start` started, once the engine has stopped feeding
/// it: the last KPI pass first, then the sink drains its queue.
pub struct FeedsStopper {
    ops: (Trigger, JoinHandle<()>),
    sink: (Trigger, JoinHandle<()>),
}

impl FeedsStopper {
    pub async fn stop(self) {
        for (trigger, task) in [self.ops, self.sink] {
            trigger.fire();
            let _ = task.await;
        }
    }
}
