//! The InfluxDB output, for the dashboards operations watch: its settings
//! (`config`), the line protocol (`line_protocol`), the HTTP writer of both
//! write APIs (`writer`), the bounded never-blocking queue in front of it
//! (`queue`) and what is written when (`feed`).

pub mod config;
pub mod feed;
pub mod line_protocol;
pub mod queue;
pub mod writer;

use super::{KpiRequest, OutputContext, OutputMetrics, Started};
use config::{InfluxApiKind, InfluxConfig};
use feed::TelemetryFeed;
use line_protocol::Precision;
use queue::{InfluxSink, SinkSettings};
use std::sync::Arc;
use writer::{InfluxApi, InfluxTarget, InfluxWriter, WriteError};

/// The configured write target; `None` without a URL.
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

/// Starts the sink and hands the engine its taps: telemetry (thinned,
/// rolled up), detector scores and KPI passes. `None` when no URL is set.
pub fn start(c: &InfluxConfig, ctx: &OutputContext<'_>) -> Result<Option<Started>, WriteError> {
    let Some(target) = target(c) else { return Ok(None) };
    let writer = InfluxWriter::new(target, c.timeout.as_std())?;
    let (sink_trigger, sink_stop) = crate::shutdown::channel();
    let metrics = Arc::new(OutputMetrics::new("influx"));
    let (sink, sink_task) = InfluxSink::start(writer, settings(c), Arc::clone(&metrics), sink_stop);
    let (tap_sink, tap_fleet) = (sink.clone(), Arc::clone(ctx.fleet));
    let scores: super::ScoresTap = Arc::new(move |s| {
        let site = tap_fleet.site_of(s.asset.as_str());
        feed::score_points(s, &site).for_each(|p| tap_sink.send(p));
    });
    let telemetry =
        TelemetryFeed::new(sink.clone(), Arc::clone(ctx.fleet), c.raw_every.as_millis(), c.rollup.as_millis());
    let kpi_sink = sink.clone();
    let kpi = KpiRequest {
        every: c.kpi_every,
        lookback: c.kpi_lookback,
        tap: Arc::new(move |pass| feed::write_pass(&kpi_sink, pass)),
    };
    Ok(Some(Started {
        metrics,
        readings: Some(Box::new(telemetry)),
        scores: Some((c.scores_every, scores)),
        kpi: Some(kpi),
        // After the seam's last KPI pass, the sink drains its queue.
        tasks: vec![(sink_trigger, sink_task)],
    }))
}
