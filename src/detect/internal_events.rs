//! What detection reports about itself per batch it takes in.

use super::BatchCounts;
use crate::telemetry::{InternalEvent, Metrics};
use std::sync::atomic::Ordering::Relaxed;

/// A batch through detection: what became of its readings, and how many
/// findings it raised. Counted only: it happens for every message.
pub struct BatchDetected<'a> {
    pub counts: &'a BatchCounts,
    pub findings: u64,
}

impl InternalEvent for BatchDetected<'_> {
    type Counters = Metrics;

    fn emit(self, m: &Metrics) {
        let c = self.counts;
        m.readings_accepted.fetch_add(c.accepted, Relaxed);
        m.readings_duplicate.fetch_add(c.duplicate, Relaxed);
        m.readings_late.fetch_add(c.late, Relaxed);
        m.readings_unmonitored.fetch_add(c.unmonitored, Relaxed);
        m.findings.fetch_add(self.findings, Relaxed);
    }
}
