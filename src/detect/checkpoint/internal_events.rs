//! What checkpointing reports about itself: its section of `/metrics`, and
//! the failures and rejected files that each log and count together.

use crate::telemetry::prometheus::{single, Kind};
use crate::telemetry::{InternalEvent, Section};
use std::fmt::Display;
use std::path::Path;
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
    /// Wall time of the last save from request to file (collecting the
    /// workers' parts included), detection paused meanwhile.
    pub last_micros: AtomicU64,
}

impl CheckpointMetrics {
    pub fn record_save(&self, bytes: u64, assets: u64, took: Duration) {
        self.saves.fetch_add(1, Relaxed);
        self.last_bytes.store(bytes, Relaxed);
        self.last_assets.store(assets, Relaxed);
        self.last_micros.store(took.as_micros() as u64, Relaxed);
    }
}

impl Section for CheckpointMetrics {
    fn render(&self, out: &mut String) {
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

/// What a failed checkpoint costs, said in its log line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckpointFailure {
    /// The store cannot be opened: detection runs from memory only.
    Disabled,
    /// A worker did not hand in its state in time.
    WorkerMissing,
    /// The file could not be written.
    NotWritten,
    /// The journal could not be written: given up until the next checkpoint.
    JournalNotWritable,
}

impl CheckpointFailure {
    fn consequence(self) -> &'static str {
        match self {
            CheckpointFailure::Disabled => "checkpoints disabled: detection state will not survive a restart",
            CheckpointFailure::WorkerMissing => "a detection worker did not hand in its state: checkpoint skipped",
            CheckpointFailure::NotWritten => "checkpoint not written; the journal keeps growing until one is",
            CheckpointFailure::JournalNotWritable => {
                "journal not writable: a crash before the next checkpoint loses detection state"
            }
        }
    }
}

/// A checkpoint or journal write that failed.
pub struct CheckpointFailed<'a> {
    pub failure: CheckpointFailure,
    pub error: &'a dyn Display,
}

impl InternalEvent for CheckpointFailed<'_> {
    type Counters = CheckpointMetrics;

    fn emit(self, m: &CheckpointMetrics) {
        m.errors.fetch_add(1, Relaxed);
        tracing::error!(error = %self.error, "{}", self.failure.consequence());
    }
}

/// Saved state skipped at start: detection warms up anew (a checkpoint) or
/// without the batches since it (a journal).
pub struct SavedStateRejected<'a> {
    pub path: &'a Path,
    pub error: &'a dyn Display,
}

impl InternalEvent for SavedStateRejected<'_> {
    type Counters = CheckpointMetrics;

    fn emit(self, m: &CheckpointMetrics) {
        m.rejected.fetch_add(1, Relaxed);
        tracing::warn!(path = %self.path.display(), error = %self.error, "saved detection state skipped (kept aside as .rejected where it was a checkpoint)");
    }
}
