//! The checkpoint's own counters, rendered with the engine's metrics.

use crate::telemetry::prometheus::{single, Kind};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicI64, AtomicU64};
use std::time::Duration;

#[derive(Debug, Default)]
pub struct CheckpointMetrics {
    pub saves: AtomicU64,
    /// Checkpoints or journal writes that failed (disk full, permissions).
    pub errors: AtomicU64,
    /// Saved files skipped at start: corrupt, truncated, another version or settings.
    pub rejected: AtomicU64,
    /// Assets restored and journal batches replayed at start.
    pub restored_assets: AtomicU64,
    pub replayed_batches: AtomicU64,
    pub journal_bytes: AtomicI64,
    pub last_bytes: AtomicU64,
    pub last_assets: AtomicU64,
    /// Wall time of the last save, detection paused meanwhile.
    pub last_micros: AtomicU64,
}

impl CheckpointMetrics {
    pub fn record_save(&self, bytes: u64, assets: u64, took: Duration) {
        self.saves.fetch_add(1, Relaxed);
        self.last_bytes.store(bytes, Relaxed);
        self.last_assets.store(assets, Relaxed);
        self.last_micros.store(took.as_micros() as u64, Relaxed);
    }

    pub fn render(&self, out: &mut String) {
        let counters: [(&str, &str, &AtomicU64); 3] = [
            ("upkeep_checkpoints_total", "Detection checkpoints written", &self.saves),
            ("upkeep_checkpoint_errors_total", "Checkpoint or journal writes that failed", &self.errors),
            (
                "upkeep_checkpoints_rejected_total",
                "Saved detection state skipped at start (corrupt, other version or settings)",
                &self.rejected,
            ),
        ];
        for (name, help, c) in counters {
            single(out, name, Kind::Counter, help, c.load(Relaxed));
        }
        let gauges: [(&str, &str, u64); 5] = [
            (
                "upkeep_checkpoint_restored_assets",
                "Assets whose detection state was restored at start",
                self.restored_assets.load(Relaxed),
            ),
            (
                "upkeep_checkpoint_replayed_batches",
                "Journal batches replayed at start",
                self.replayed_batches.load(Relaxed),
            ),
            ("upkeep_checkpoint_bytes", "Size of the last checkpoint", self.last_bytes.load(Relaxed)),
            ("upkeep_checkpoint_assets", "Assets in the last checkpoint", self.last_assets.load(Relaxed)),
            (
                "upkeep_journal_bytes",
                "Journal written since the last checkpoint",
                self.journal_bytes.load(Relaxed).max(0) as u64,
            ),
        ];
        for (name, help, v) in gauges {
            single(out, name, Kind::Gauge, help, v);
        }
        let seconds = self.last_micros.load(Relaxed) as f64 / 1e6;
        single(out, "upkeep_checkpoint_seconds", Kind::Gauge, "Time the last checkpoint took", seconds);
    }
}
