//! The notifications' section of `/metrics`: deliveries made, sent,
//! failed and dead per channel, and the backlog as the store holds it.

use super::outbox::{Backlog, Channel};
use crate::telemetry::prometheus::{header, Kind};
use crate::telemetry::Section;
use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};

#[derive(Debug, Default)]
pub struct NotifyMetrics {
    created: [AtomicU64; 3],
    sent: [AtomicU64; 3],
    failed: [AtomicU64; 3],
    dead: [AtomicU64; 3],
    backlog: [AtomicI64; 3],
}

fn slot(c: Channel) -> usize {
    Channel::ALL.iter().position(|&x| x == c).unwrap_or(0)
}

impl NotifyMetrics {
    pub fn created(&self, c: Channel) {
        self.created[slot(c)].fetch_add(1, Relaxed);
    }
    pub fn sent(&self, c: Channel) {
        self.sent[slot(c)].fetch_add(1, Relaxed);
    }
    pub fn failed(&self, c: Channel, dead: bool) {
        self.failed[slot(c)].fetch_add(1, Relaxed);
        if dead {
            self.dead[slot(c)].fetch_add(1, Relaxed);
        }
    }
    pub fn backlog(&self, b: Backlog) {
        for (gauge, value) in self.backlog.iter().zip([b.outbox, b.pending, b.dead]) {
            gauge.store(value, Relaxed);
        }
    }
}

impl Section for NotifyMetrics {
    fn render(&self, out: &mut String) {
        let counters: [(&str, &str, &[AtomicU64; 3]); 4] = [
            ("created_total", "Deliveries made from ticket events", &self.created),
            ("sent_total", "Deliveries the channel confirmed", &self.sent),
            ("failed_attempts_total", "Delivery attempts that failed", &self.failed),
            ("dead_total", "Deliveries given up (dead) since start", &self.dead),
        ];
        for (suffix, help, values) in counters {
            let name = format!("upkeep_notifications_{suffix}");
            header(out, &name, Kind::Counter, help);
            for c in Channel::ALL {
                let _ = writeln!(out, "{name}{{channel=\"{c}\"}} {}", values[slot(c)].load(Relaxed));
            }
        }
        let name = "upkeep_notifications";
        header(out, name, Kind::Gauge, "Notices in the outbox, deliveries waiting and dead, as stored");
        for (state, gauge) in ["outbox", "pending", "dead"].iter().zip(&self.backlog) {
            let _ = writeln!(out, "{name}{{status=\"{state}\"}} {}", gauge.load(Relaxed));
        }
    }
}
