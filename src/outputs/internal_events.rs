//! What an output reports about itself: points it could not queue, encode
//! or write, each logged and counted together under the output's name.

use super::OutputMetrics;
use crate::telemetry::InternalEvent;
use std::fmt::Display;
use std::sync::atomic::Ordering::Relaxed;

/// A point that did not fit in the output's queue. Logged at the first and
/// every 10,000th: an outage fills the queue many times a second.
pub struct PointDropped;

impl InternalEvent for PointDropped {
    type Counters = OutputMetrics;

    fn emit(self, m: &OutputMetrics) {
        let dropped = m.points_dropped.fetch_add(1, Relaxed) + 1;
        if dropped % 10_000 == 1 {
            tracing::warn!(output = m.output, dropped, "output queue full: points dropped");
        }
    }
}

/// A point that could not be encoded. Logged at the first and every 1,000th.
pub struct PointInvalid<'a> {
    pub error: &'a dyn Display,
}

impl InternalEvent for PointInvalid<'_> {
    type Counters = OutputMetrics;

    fn emit(self, m: &OutputMetrics) {
        let invalid = m.points_invalid.fetch_add(1, Relaxed) + 1;
        if invalid % 1000 == 1 {
            tracing::warn!(output = m.output, error = %self.error, invalid, "point not written");
        }
    }
}

/// A write that failed and is retried after a backoff.
pub struct WriteRetried<'a> {
    pub error: &'a dyn Display,
    pub points: u64,
}

impl InternalEvent for WriteRetried<'_> {
    type Counters = OutputMetrics;

    fn emit(self, m: &OutputMetrics) {
        m.write_retries.fetch_add(1, Relaxed);
        tracing::warn!(output = m.output, error = %self.error, points = self.points, "write failed; retrying");
    }
}

/// A write refused for good (or failed during shutdown): its points are gone.
pub struct WriteRejected<'a> {
    pub error: &'a dyn Display,
    pub points: u64,
}

impl InternalEvent for WriteRejected<'_> {
    type Counters = OutputMetrics;

    fn emit(self, m: &OutputMetrics) {
        m.points_rejected.fetch_add(self.points, Relaxed);
        tracing::error!(output = m.output, error = %self.error, points = self.points, "write dropped");
    }
}
