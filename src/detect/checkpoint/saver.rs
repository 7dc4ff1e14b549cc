//! When a checkpoint may be taken, and how the workers hand in their state.
//! A checkpoint must not cover a batch whose findings are not committed
//! yet (after a crash nothing would bring them back), so the engine counts
//! the `Done` events the ticket service has committed and only saves once
//! all of them are; committed positions are also marked in the journal, so
//! a replay re-emits findings only for what was never committed.

use super::{CheckpointFailed, CheckpointFailure, CheckpointMetrics, Checkpoints, Restored, Settings};
use crate::detect::AssetBatch;
use crate::telemetry::InternalEvent;
use std::collections::VecDeque;
use std::sync::atomic::Ordering::{Acquire, Release};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

/// Where workers leave their part of a requested checkpoint.
#[derive(Default)]
pub struct Board {
    requested: AtomicU64,
    parts: Mutex<Vec<Part>>,
    ready: Condvar,
}

struct Part {
    generation: u64,
    bytes: Vec<u8>,
    assets: u64,
}

impl Board {
    /// Called by every worker between steps: hands in its assets (written
    /// by `write`, which returns how many) once per requested generation.
    pub fn serve(&self, served: &mut u64, write: impl FnOnce(&mut Vec<u8>) -> u64) {
        let generation = self.requested.load(Acquire);
        if generation <= *served {
            return;
        }
        *served = generation;
        let mut bytes = Vec::new();
        let n = write(&mut bytes);
        let mut parts = self.parts.lock().unwrap_or_else(|p| p.into_inner());
        parts.push(Part { generation, bytes, assets: n });
        self.ready.notify_all();
    }

    fn request(&self) -> u64 {
        self.requested.fetch_add(1, Release) + 1
    }

    /// Waits for `workers` parts of `generation`.
    fn collect(&self, generation: u64, workers: usize, timeout: Duration) -> Option<(Vec<Vec<u8>>, u64)> {
        let deadline = Instant::now() + timeout;
        let mut parts = self.parts.lock().unwrap_or_else(|p| p.into_inner());
        parts.retain(|p| p.generation == generation);
        while parts.len() < workers {
            let left = deadline.checked_duration_since(Instant::now())?;
            parts = self.ready.wait_timeout(parts, left).unwrap_or_else(|p| p.into_inner()).0;
            parts.retain(|p| p.generation == generation);
        }
        let assets = parts.iter().map(|p| p.assets).sum();
        Some((parts.drain(..).map(|p| p.bytes).collect(), assets))
    }
}

/// The ticket service's side: it reports each `Done` once everything
/// before it is committed.
#[derive(Clone, Default)]
pub struct Commits(Arc<AtomicU64>);

impl Commits {
    /// Every finding received before the latest `Done` is committed.
    pub fn done_committed(&self) {
        self.0.fetch_add(1, Release);
    }

    fn count(&self) -> u64 {
        self.0.load(Ordering::Acquire)
    }
}

/// The engine's side of checkpointing, driven by the worker that feeds it.
pub struct Saver {
    store: Checkpoints,
    pub board: Arc<Board>,
    commits: Commits,
    /// Seqs of the `Done` events sent and not yet seen committed.
    sent: VecDeque<u64>,
    seen: u64,
    workers: usize,
    metrics: Arc<CheckpointMetrics>,
    /// How long the last checkpoint took, encoding included.
    last_took: Duration,
}

/// The most a checkpoint may take at shutdown, which must end within 10 s
/// of SIGTERM: past it, the journal is synced instead and replayed at the
/// next start (it holds everything since the last checkpoint).
const SHUTDOWN_BUDGET: Duration = Duration::from_secs(1);

impl Saver {
    /// Opens the store; `None` (detection runs without) if it cannot be written.
    pub fn open(
        settings: Settings,
        fingerprint: String,
        workers: usize,
        commits: Commits,
        metrics: Arc<CheckpointMetrics>,
    ) -> Option<(Saver, Restored)> {
        match Checkpoints::open(settings, fingerprint, Arc::clone(&metrics)) {
            Ok((store, restored)) => {
                let board = Arc::default();
                let sent = VecDeque::new();
                let last_took = Duration::ZERO;
                let saver = Saver { store, board, commits, sent, seen: 0, workers, metrics, last_took };
                Some((saver, restored))
            }
            Err(e) => {
                CheckpointFailed { failure: CheckpointFailure::Disabled, error: &e }.emit(&metrics);
                None
            }
        }
    }

    pub fn journal(&mut self, batch: &AssetBatch) {
        self.store.append(batch);
    }

    /// Before `Done` events go out for what was journaled.
    pub fn flush(&mut self) {
        self.store.flush();
    }

    pub fn done_sent(&mut self, seq: u64) {
        self.sent.push_back(seq);
    }

    /// Marks newly committed positions in the journal; true once every
    /// `Done` sent is committed.
    pub fn track_commits(&mut self) -> bool {
        let count = self.commits.count();
        let mut newest = None;
        while self.seen < count {
            newest = self.sent.pop_front().or(newest);
            self.seen += 1;
        }
        if let Some(seq) = newest {
            self.store.mark_committed(seq);
            self.store.flush();
        }
        self.sent.is_empty()
    }

    pub fn due(&self) -> bool {
        self.store.due()
    }

    /// Whether a checkpoint fits in a shutdown, judged by the last one.
    pub fn fits_shutdown(&self) -> bool {
        let fits = self.last_took <= SHUTDOWN_BUDGET;
        if !fits {
            tracing::info!(
                last_took_ms = self.last_took.as_millis() as u64,
                "no checkpoint at shutdown (the last took longer than a shutdown may): the journal since it is replayed at the next start"
            );
        }
        fits
    }

    /// At shutdown, after the final checkpoint or in its place: the journal
    /// since the last checkpoint is on disk, not only in the page cache.
    pub fn sync_journal(&mut self) {
        self.store.sync_journal();
    }

    pub fn postpone(&mut self) {
        self.store.postpone();
    }

    /// Requests every worker's part, adds `own` (the calling worker's), and
    /// writes the checkpoint; postponed when the parts are not all in
    /// within `parts_within`.
    pub fn save(&mut self, served: &mut u64, parts_within: Duration, own: impl FnOnce(&mut Vec<u8>) -> u64) {
        let started = Instant::now();
        let generation = self.board.request();
        self.board.serve(served, own);
        let Some((parts, assets)) = self.board.collect(generation, self.workers, parts_within) else {
            let error = format!("none within {parts_within:?}");
            CheckpointFailed { failure: CheckpointFailure::WorkerMissing, error: &error }.emit(&self.metrics);
            self.store.postpone();
            return;
        };
        match self.store.save(&parts, assets) {
            Ok(bytes) => {
                self.last_took = started.elapsed();
                self.metrics.record_save(bytes, assets, self.last_took);
                tracing::debug!(bytes, assets, took_ms = self.last_took.as_millis() as u64, "checkpoint written");
            }
            Err(e) => {
                CheckpointFailed { failure: CheckpointFailure::NotWritten, error: &e }.emit(&self.metrics);
                self.store.postpone();
            }
        }
    }
}
