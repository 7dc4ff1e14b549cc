//! The engine-wide counters and the latency summary, rendered in Prometheus
//! text format with every stage section registered. Labels are bounded
//! enums (severity, dead-letter reason); asset ids are never labels.

use super::prometheus::{header, single, Kind};
use super::Section;
use crate::model::Severity;
use std::fmt::Write;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering::Relaxed};
use std::sync::{Arc, Mutex};

/// Latencies kept for quantiles; older ones are overwritten.
const LATENCY_RESERVOIR: usize = 8192;

#[derive(Default)]
pub struct Metrics {
    pub messages_received: AtomicU64,
    pub messages_acked: AtomicU64,
    pub readings_accepted: AtomicU64,
    pub readings_duplicate: AtomicU64,
    pub readings_late: AtomicU64,
    pub readings_unmonitored: AtomicU64,
    pub findings: AtomicU64,
    pub evidence_appended: AtomicU64,
    pub mqtt_connected: AtomicI64,
    /// 1 once the broker granted the subscription on the current connection.
    pub mqtt_subscribed: AtomicI64,
    /// 1 while the ingest pipeline (decode -> detection) runs.
    pub ingest_running: AtomicI64,
    pub mqtt_errors: AtomicU64,
    pub store_errors: AtomicU64,
    /// Store calls currently waiting out an error (readiness reads it).
    pub store_retrying: AtomicI64,
    /// Findings whose writes failed on their own data, kept aside.
    pub dead_findings: AtomicU64,
    /// Messages and payload bytes held between the socket and their ack.
    pub held_messages: AtomicI64,
    pub held_bytes: AtomicI64,
    /// 1 while intake is paused because the held budget is full.
    pub intake_paused: AtomicI64,
    pub intake_pauses: AtomicU64,
    /// Broker redeliveries of messages still being processed, not taken twice.
    pub redeliveries_skipped: AtomicU64,
    /// Reconnects on which the broker had no session for the engine.
    pub mqtt_sessions_lost: AtomicU64,
    tickets_opened: [AtomicU64; 3],
    latency: Mutex<Reservoir>,
    /// The stages' own sections (checkpoints, outputs, dead-letter reasons).
    sections: Mutex<Vec<Arc<dyn Section>>>,
}

#[derive(Default)]
struct Reservoir {
    samples: Vec<f64>,
    next: usize,
    count: u64,
    sum: f64,
}

/// A consistent read of the counters shown in the demo's progress line.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Snapshot {
    pub readings: u64,
    pub findings: u64,
    pub opened: [u64; 3],
}

impl Metrics {
    /// Adds a stage's section to what `render` exposes.
    pub fn register(&self, section: Arc<dyn Section>) {
        self.sections.lock().unwrap_or_else(|p| p.into_inner()).push(section);
    }

    /// A ticket was opened `latency_s` after its triggering message arrived.
    pub fn record_ticket_opened(&self, severity: Severity, latency_s: f64) {
        self.tickets_opened[severity as usize].fetch_add(1, Relaxed);
        let mut r = self.latency.lock().unwrap_or_else(|p| p.into_inner());
        if r.samples.len() < LATENCY_RESERVOIR {
            r.samples.push(latency_s);
        } else {
            let i = r.next;
            r.samples[i] = latency_s;
        }
        r.next = (r.next + 1) % LATENCY_RESERVOIR;
        r.count += 1;
        r.sum += latency_s;
    }

    /// Waits until the broker granted the subscription (messages published
    /// before that reach nobody), or `timeout` passes; returns whether it did.
    pub async fn wait_subscribed(&self, timeout: std::time::Duration) -> bool {
        let deadline = tokio::time::Instant::now() + timeout;
        while self.mqtt_subscribed.load(Relaxed) != 1 {
            if tokio::time::Instant::now() >= deadline {
                return false;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        true
    }

    pub fn snapshot(&self) -> Snapshot {
        Snapshot {
            readings: self.readings_accepted.load(Relaxed),
            findings: self.findings.load(Relaxed),
            opened: std::array::from_fn(|i| self.tickets_opened[i].load(Relaxed)),
        }
    }

    /// Prometheus text exposition format.
    pub fn render(&self) -> String {
        let mut out = String::new();
        let counters: [(&str, &str, &AtomicU64); 14] = [
            ("upkeep_messages_received_total", "MQTT messages received", &self.messages_received),
            ("upkeep_messages_acked_total", "MQTT messages acknowledged after processing", &self.messages_acked),
            ("upkeep_readings_accepted_total", "Readings that entered detection windows", &self.readings_accepted),
            (
                "upkeep_readings_duplicate_total",
                "Readings redelivered with a known timestamp",
                &self.readings_duplicate,
            ),
            ("upkeep_readings_late_total", "Readings older than the allowed lateness", &self.readings_late),
            ("upkeep_readings_unmonitored_total", "Readings of metrics no rule reads", &self.readings_unmonitored),
            ("upkeep_findings_total", "Rule firings (openings and evidence)", &self.findings),
            ("upkeep_ticket_evidence_appended_total", "Evidence appended to open tickets", &self.evidence_appended),
            ("upkeep_mqtt_errors_total", "MQTT connection errors", &self.mqtt_errors),
            ("upkeep_store_errors_total", "Database errors (retried unless the data's own)", &self.store_errors),
            (
                "upkeep_dead_findings_total",
                "Findings kept aside: their writes failed on their data",
                &self.dead_findings,
            ),
            ("upkeep_intake_pauses_total", "Times intake paused on a full held budget", &self.intake_pauses),
            (
                "upkeep_redeliveries_skipped_total",
                "Redeliveries of messages still in processing, not taken twice",
                &self.redeliveries_skipped,
            ),
            (
                "upkeep_mqtt_sessions_lost_total",
                "Reconnects on which the broker had lost the engine's session (and what it queued for it)",
                &self.mqtt_sessions_lost,
            ),
        ];
        for (name, help, c) in counters {
            single(&mut out, name, Kind::Counter, help, c.load(Relaxed));
        }
        let gauges: [(&str, &str, &AtomicI64); 7] = [
            ("upkeep_mqtt_connected", "1 while connected to the broker", &self.mqtt_connected),
            ("upkeep_mqtt_subscribed", "1 once the telemetry subscription is granted", &self.mqtt_subscribed),
            ("upkeep_ingest_running", "1 while decode and detection run", &self.ingest_running),
            ("upkeep_store_retrying", "Store calls waiting out an error", &self.store_retrying),
            ("upkeep_held_messages", "Messages held between the socket and their ack", &self.held_messages),
            ("upkeep_held_bytes", "Payload bytes held between the socket and their ack", &self.held_bytes),
            ("upkeep_intake_paused", "1 while intake waits for the held budget", &self.intake_paused),
        ];
        for (name, help, g) in gauges {
            single(&mut out, name, Kind::Gauge, help, g.load(Relaxed));
        }
        header(&mut out, "upkeep_tickets_opened_total", Kind::Counter, "Tickets opened, by severity");
        for s in Severity::ALL {
            let _ = writeln!(
                out,
                "upkeep_tickets_opened_total{{severity=\"{}\"}} {}",
                s.as_str(),
                self.tickets_opened[s as usize].load(Relaxed)
            );
        }
        self.render_latency(&mut out);
        for section in self.sections.lock().unwrap_or_else(|p| p.into_inner()).iter() {
            section.render(&mut out);
        }
        out
    }

    fn render_latency(&self, out: &mut String) {
        let r = self.latency.lock().unwrap_or_else(|p| p.into_inner());
        let name = "upkeep_ticket_open_latency_seconds";
        header(out, name, Kind::Summary, "From the triggering message's arrival to the ticket's commit");
        let mut sorted = r.samples.clone();
        sorted.sort_by(f64::total_cmp);
        for q in [0.5, 0.9, 0.99] {
            if let Some(v) = quantile(&sorted, q) {
                let _ = writeln!(out, "{name}{{quantile=\"{q}\"}} {v}");
            }
        }
        let _ = writeln!(out, "{name}_sum {}\n{name}_count {}", r.sum, r.count);
    }
}

fn quantile(sorted: &[f64], q: f64) -> Option<f64> {
    let last = sorted.len().checked_sub(1)?;
    Some(sorted[((last as f64) * q).round() as usize])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_counters_with_bounded_labels() {
        struct Stage;
        impl Section for Stage {
            fn render(&self, out: &mut String) {
                single(out, "upkeep_stage_things_total", Kind::Counter, "A stage's own", 7);
            }
        }
        let m = Metrics::default();
        m.register(Arc::new(Stage));
        m.record_ticket_opened(Severity::Major, 0.25);
        let text = m.render();
        assert!(text.contains("\nupkeep_stage_things_total 7\n"), "registered sections render");
        assert!(text.contains("upkeep_tickets_opened_total{severity=\"major\"} 1"));
        assert!(text.contains("upkeep_ticket_open_latency_seconds{quantile=\"0.5\"} 0.25"));
        assert_eq!(m.snapshot().opened, [0, 1, 0]);
    }

    #[test]
    fn quantiles_come_from_the_sorted_reservoir() {
        let v: Vec<f64> = (1..=100).map(f64::from).collect();
        assert_eq!(quantile(&v, 0.5), Some(51.0));
        assert_eq!(quantile(&v, 0.99), Some(99.0));
        assert_eq!(quantile(&[], 0.5), None);
    }
}
