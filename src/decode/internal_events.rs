//! What decode reports about itself: messages it kept aside, counted by
//! reason in its own section of `/metrics`.

use super::{DeadLetterReason, DecodeError};
use crate::telemetry::prometheus::{header, Kind};
use crate::telemetry::{InternalEvent, Section};
use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};

/// Dead letters by reason (`upkeep_dead_letters_total{reason}`).
#[derive(Debug, Default)]
pub struct DeadLetterMetrics {
    by_reason: [AtomicU64; DeadLetterReason::ALL.len()],
}

impl DeadLetterMetrics {
    pub fn count(&self, reason: DeadLetterReason) -> u64 {
        self.by_reason[reason as usize].load(Relaxed)
    }

    pub fn total(&self) -> u64 {
        self.by_reason.iter().map(|c| c.load(Relaxed)).sum()
    }
}

impl Section for DeadLetterMetrics {
    fn render(&self, out: &mut String) {
        header(out, "upkeep_dead_letters_total", Kind::Counter, "Invalid messages kept aside, by reason");
        for r in DeadLetterReason::ALL {
            let _ = writeln!(out, "upkeep_dead_letters_total{{reason=\"{}\"}} {}", r.as_str(), self.count(r));
        }
    }
}

/// A message decode refused: it goes to the dead letters with its reason.
pub struct DeadLettered<'a> {
    pub topic: &'a str,
    pub error: &'a DecodeError,
}

impl InternalEvent for DeadLettered<'_> {
    type Counters = DeadLetterMetrics;

    fn emit(self, m: &DeadLetterMetrics) {
        let reason = self.error.reason();
        m.by_reason[reason as usize].fetch_add(1, Relaxed);
        tracing::warn!(topic = %self.topic, reason = reason.as_str(), error = %self.error, "dead letter");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_dead_letter_is_counted_under_its_reason() {
        let m = DeadLetterMetrics::default();
        DeadLettered { topic: "t", error: &DecodeError::InvalidJson("eof".into()) }.emit(&m);
        assert_eq!((m.count(DeadLetterReason::InvalidJson), m.total()), (1, 1));
        let mut out = String::new();
        m.render(&mut out);
        assert!(out.contains("upkeep_dead_letters_total{reason=\"invalid_json\"} 1"), "{out}");
        assert!(out.contains("upkeep_dead_letters_total{reason=\"oversize\"} 0"), "every reason is exposed");
    }
}
