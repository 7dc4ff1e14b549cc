//! Every output's counters, one family per counter with a sample per output
//! (`upkeep_output_points_written_total{output="influx"}`): a second
//! output adds samples, not names, and the dashboards need no new panels.

use crate::telemetry::prometheus::{header, Kind};
use crate::telemetry::Section;
use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

/// What one output did, for `/metrics`.
#[derive(Debug)]
pub struct OutputMetrics {
    /// The output's name, its `output` label.
    pub output: &'static str,
    pub points_written: AtomicU64,
    pub batches_written: AtomicU64,
    /// Points in the last batch written.
    pub last_batch_points: AtomicU64,
    /// Write attempts that failed and were retried.
    pub write_retries: AtomicU64,
    /// Points in batches the destination refused for good (bad request, no database).
    pub points_rejected: AtomicU64,
    /// Points dropped because the queue was full.
    pub points_dropped: AtomicU64,
    /// Points that could not be encoded (no finite field, bad name).
    pub points_invalid: AtomicU64,
    /// Readings left out of their rollup bucket: it had been written already.
    pub rollup_late: AtomicU64,
    /// Milliseconds the oldest unwritten point of the current batch has waited.
    pub lag_ms: AtomicI64,
}

impl OutputMetrics {
    pub fn new(output: &'static str) -> OutputMetrics {
        OutputMetrics {
            output,
            points_written: AtomicU64::new(0),
            batches_written: AtomicU64::new(0),
            last_batch_points: AtomicU64::new(0),
            write_retries: AtomicU64::new(0),
            points_rejected: AtomicU64::new(0),
            points_dropped: AtomicU64::new(0),
            points_invalid: AtomicU64::new(0),
            rollup_late: AtomicU64::new(0),
            lag_ms: AtomicI64::new(0),
        }
    }
}

type Family = (&'static str, Kind, &'static str, fn(&OutputMetrics) -> f64);

const FAMILIES: [Family; 9] = [
    ("points_written_total", Kind::Counter, "Points written", |m| m.points_written.load(Relaxed) as f64),
    ("batches_written_total", Kind::Counter, "Write requests accepted", |m| m.batches_written.load(Relaxed) as f64),
    ("write_retries_total", Kind::Counter, "Failed writes retried after a backoff", |m| {
        m.write_retries.load(Relaxed) as f64
    }),
    ("points_rejected_total", Kind::Counter, "Points in batches refused for good", |m| {
        m.points_rejected.load(Relaxed) as f64
    }),
    ("points_dropped_total", Kind::Counter, "Points dropped because the output's queue was full", |m| {
        m.points_dropped.load(Relaxed) as f64
    }),
    ("points_invalid_total", Kind::Counter, "Points that could not be encoded", |m| {
        m.points_invalid.load(Relaxed) as f64
    }),
    ("rollup_late_total", Kind::Counter, "Readings that arrived after their rollup bucket was written", |m| {
        m.rollup_late.load(Relaxed) as f64
    }),
    ("last_batch_points", Kind::Gauge, "Points in the last batch written", |m| {
        m.last_batch_points.load(Relaxed) as f64
    }),
    ("lag_seconds", Kind::Gauge, "How long the oldest unwritten point has waited", |m| {
        (m.lag_ms.load(Relaxed) / 1000) as f64
    }),
];

/// The outputs' section of `/metrics`: each family once, a sample per output.
pub struct OutputsSection(pub Vec<Arc<OutputMetrics>>);

impl Section for OutputsSection {
    fn render(&self, out: &mut String) {
        for (suffix, kind, help, value) in FAMILIES {
            let name = format!("upkeep_output_{suffix}");
            header(out, &name, kind, help);
            for m in &self.0 {
                let _ = writeln!(out, "{name}{{output=\"{}\"}} {}", m.output, value(m));
            }
        }
    }
}
