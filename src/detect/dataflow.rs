//! Runs detection on timely dataflow. This is the only module that imports
//! timely: batches are exchanged by asset id so each asset's state lives on
//! exactly one worker, and the probe's frontier tells when every batch up to
//! a sequence number has passed detection (so its MQTT message may be acked).

use super::asset::{AssetDetector, AssetScores, BatchCounts, Finding};
use super::checkpoint::CheckpointMetrics;
use super::checkpoint::{encode_assets, Commits, Restored, SavedAsset, SavedAssetRef, Saver, Settings};
use super::internal_events::BatchDetected;
use super::window::WindowParams;
use crate::model::{AssetId, ModelId, Reading, Span};
use crate::rules::RuleSet;
use crate::telemetry::{InternalEvent, Metrics};
use serde::{Deserialize, Serialize};
use std::cell::RefCell;
use std::collections::{HashMap, VecDeque};
use std::hash::{Hash, Hasher};
use std::rc::Rc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, SyncSender, TrySendError};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use timely::dataflow::channels::pact::Exchange;
use timely::dataflow::operators::{Input, Inspect, Operator, Probe};
use timely::dataflow::ProbeHandle;
use tokio::sync::mpsc::{channel, Receiver as EventReceiver, Sender as EventSender};

/// The decoded readings of one message for one asset.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AssetBatch {
    /// Increasing per message; `EngineEvent::Done(seq)` covers it.
    pub seq: u64,
    pub asset: AssetId,
    pub model: ModelId,
    pub readings: Vec<Reading>,
    /// Wall-clock arrival (µs since the epoch), for latency measurement.
    pub received_us: i64,
}

/// What the engine reports, in order: findings of a batch always precede the
/// `Done` that covers it.
#[derive(Debug)]
pub enum EngineEvent {
    Findings(Vec<(Finding, i64)>),
    /// Every batch with `seq <=` this has passed detection.
    Done(u64),
}

/// Where detector outputs go (besides findings), and how often per asset.
/// A callback keeps detection unaware of the sinks; it must not block.
#[derive(Clone)]
pub struct ScoreTap {
    pub every: Span,
    pub send: Arc<dyn Fn(AssetScores) + Send + Sync>,
}

/// Feeds the engine; dropping it shuts the engine down after it drains.
pub struct EngineHandle {
    input: SyncSender<AssetBatch>,
    thread: Option<std::thread::JoinHandle<()>>,
    /// Checkpointing's section of the metrics (registered with the engine's).
    pub checkpoint: Arc<CheckpointMetrics>,
}

/// The engine has stopped (its thread ended); nothing more can be fed.
#[derive(Debug, thiserror::Error)]
#[error("detection engine has stopped")]
pub struct EngineStopped;

impl EngineHandle {
    /// Queues a batch. The queue holds as many batches as the ingest budget
    /// holds messages, so it is full only in a burst the budget let through;
    /// then this waits without blocking the runtime.
    pub async fn send(&self, mut batch: AssetBatch) -> Result<(), EngineStopped> {
        loop {
            match self.input.try_send(batch) {
                Ok(()) => return Ok(()),
                Err(TrySendError::Full(b)) => {
                    batch = b;
                    tokio::time::sleep(Duration::from_millis(1)).await;
                }
                Err(TrySendError::Disconnected(_)) => return Err(EngineStopped),
            }
        }
    }

    /// Closes the input and waits for the workers to finish what they hold
    /// (and to write the final checkpoint).
    pub fn shutdown(mut self) {
        let (dead, _) = std::sync::mpsc::sync_channel(0);
        drop(std::mem::replace(&mut self.input, dead));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// What the engine reports, and where the ticket service tells it that
/// the findings before a `Done` are committed (a checkpoint waits for it).
pub struct EngineEvents {
    rx: EventReceiver<EngineEvent>,
    pub commits: Commits,
}

impl EngineEvents {
    pub async fn recv(&mut self) -> Option<EngineEvent> {
        self.rx.recv().await
    }
}

/// How the engine is run: its workers and how many batches it queues (the
/// ingest budget's messages: every queued batch is a held message).
#[derive(Debug, Clone, Copy)]
pub struct EngineSize {
    pub workers: usize,
    pub queued: usize,
}

/// What detection runs with.
#[derive(Clone)]
pub struct EngineSetup {
    pub rules: Arc<RuleSet>,
    pub params: WindowParams,
    pub evidence_every: Span,
    pub size: EngineSize,
    /// Where detection state is saved; `None` keeps it in memory only.
    pub checkpoint: Option<Settings>,
}

/// Starts the timely workers on their own threads.
pub fn start(setup: EngineSetup, metrics: Arc<Metrics>, scores: Option<ScoreTap>) -> (EngineHandle, EngineEvents) {
    let workers = setup.size.workers.max(1);
    let queued = setup.size.queued.max(1);
    let (input_tx, input_rx) = std::sync::mpsc::sync_channel::<AssetBatch>(queued);
    // Per epoch: a findings event from each worker and one Done; epochs never
    // outnumber queued batches, so the workers do not wait on this in practice.
    let (events_tx, events_rx) = channel((workers + 1) * queued + 16);
    let commits = Commits::default();
    let checkpoint = Arc::new(CheckpointMetrics::default());
    metrics.register(checkpoint.clone());
    let saver = setup.checkpoint.clone().and_then(|settings| {
        let fingerprint = format!("{:?}", setup.params);
        Saver::open(settings, fingerprint, workers, commits.clone(), Arc::clone(&checkpoint))
    });
    let board = saver.as_ref().map(|(s, _)| Arc::clone(&s.board));
    let starting = Arc::new(Mutex::new(Some((input_rx, saver))));
    let thread = std::thread::Builder::new()
        .name("detect".into())
        .spawn(move || {
            let config = timely::Config::process(workers);
            let result = timely::execute(config, move |worker| {
                let ctx = WorkerContext {
                    rules: Arc::clone(&setup.rules),
                    params: setup.params,
                    evidence_every: setup.evidence_every,
                    metrics: Arc::clone(&metrics),
                    scores: scores.clone(),
                };
                let assets: Rc<RefCell<HashMap<AssetId, AssetDetector>>> = Rc::default();
                let probe = ProbeHandle::new();
                let mut input = build(worker, ctx, Rc::clone(&assets), events_tx.clone(), &probe);
                let mut served = 0;
                let taken = starting.lock().ok().and_then(|mut r| r.take());
                if let Some((rx, saver)) = taken {
                    let mut feed =
                        Feed { worker, input: &mut input, probe: &probe, events: &events_tx, pending: VecDeque::new() };
                    feed.run(rx, saver, &assets, &mut served);
                }
                drop(input);
                loop {
                    if let Some(board) = &board {
                        board.serve(&mut served, |out| save_assets(&assets, out));
                    }
                    if !worker.step_or_park(Some(Duration::from_millis(5))) {
                        break;
                    }
                }
            });
            if let Err(e) = result {
                tracing::error!(error = %e, "detection engine failed to start");
            }
        })
        .expect("spawning the detection thread");
    (EngineHandle { input: input_tx, thread: Some(thread), checkpoint }, EngineEvents { rx: events_rx, commits })
}

type FeedInput = timely::dataflow::InputHandle<u64, timely::container::CapacityContainerBuilder<Vec<Work>>>;

/// What enters the dataflow, routed by asset.
#[derive(Debug, Clone, Serialize, Deserialize)]
enum Work {
    Batch(AssetBatch),
    /// A journaled batch whose findings were committed before a restart:
    /// it rebuilds state only.
    Settled(AssetBatch),
    /// A saved asset state to resume from.
    Restore(Box<SavedAsset>),
}

impl Work {
    fn asset(&self) -> &AssetId {
        match self {
            Work::Batch(b) | Work::Settled(b) => &b.asset,
            Work::Restore(s) => &s.asset,
        }
    }
}

/// The dataflow: work exchanged by asset into the detect operator, whose
/// findings go to the events channel; the probe tells how far it got.
fn build(
    worker: &mut timely::worker::Worker,
    ctx: WorkerContext,
    assets: Rc<RefCell<HashMap<AssetId, AssetDetector>>>,
    sink: EventSender<EngineEvent>,
    probe: &ProbeHandle<u64>,
) -> FeedInput {
    worker.dataflow::<u64, _, _>(|scope| {
        let (handle, stream) = scope.new_input::<Vec<Work>>();
        stream
            .unary(Exchange::new(|w: &Work| route(w.asset())), "Detect", move |_cap, _info| {
                move |input, output| {
                    input.for_each(|time, data| {
                        let found = ctx.detect(&mut assets.borrow_mut(), data.drain(..));
                        output.session(&time).give_iterator(found.into_iter());
                    });
                }
            })
            .container::<Vec<(Finding, i64)>>()
            .inspect_core(move |event| {
                if let Ok((_, findings)) = event {
                    let _ = sink.blocking_send(EngineEvent::Findings(findings.clone()));
                }
            })
            .probe_with(probe);
        handle
    })
}

/// Writes a worker's assets as checkpoint records (between steps, while
/// the operator does not hold the map).
fn save_assets(assets: &RefCell<HashMap<AssetId, AssetDetector>>, out: &mut Vec<u8>) -> u64 {
    let map = assets.borrow();
    encode_assets(out, map.iter().map(|(asset, d)| SavedAssetRef { asset, model: d.model(), state: d.state() }))
}

fn route(asset: &AssetId) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    asset.hash(&mut h);
    h.finish()
}

/// What each worker's detect operator needs.
struct WorkerContext {
    rules: Arc<RuleSet>,
    params: WindowParams,
    evidence_every: Span,
    metrics: Arc<Metrics>,
    scores: Option<ScoreTap>,
}

impl WorkerContext {
    fn detect(
        &self,
        assets: &mut HashMap<AssetId, AssetDetector>,
        work: impl Iterator<Item = Work>,
    ) -> Vec<(Finding, i64)> {
        let mut total = BatchCounts::default();
        let mut out = Vec::new();
        let mut findings = Vec::new();
        for w in work {
            let (batch, settled) = match w {
                Work::Batch(b) => (b, false),
                Work::Settled(b) => (b, true),
                Work::Restore(saved) => {
                    self.restore(assets, *saved);
                    continue;
                }
            };
            let Some(model) = self.rules.for_model(&batch.model) else {
                total.unmonitored += batch.readings.len() as u64;
                continue;
            };
            let detector = assets.entry(batch.asset.clone()).or_insert_with(|| AssetDetector::new(Arc::clone(model)));
            let c = detector.process(&batch.asset, &batch.readings, &self.params, self.evidence_every, &mut findings);
            total.accepted += c.accepted;
            total.duplicate += c.duplicate;
            total.late += c.late;
            total.unmonitored += c.unmonitored;
            if settled {
                findings.clear();
                continue;
            }
            if let Some(tap) = &self.scores {
                if let Some(s) = detector.take_scores(&batch.asset, tap.every.as_millis()) {
                    (tap.send)(s);
                }
            }
            out.extend(findings.drain(..).map(|f| (f, batch.received_us)));
        }
        BatchDetected { counts: &total, findings: out.len() as u64 }.emit(&self.metrics);
        out
    }

    /// Resumes an asset from its saved state, unless its model's rules
    /// changed shape since (it then warms up anew).
    fn restore(&self, assets: &mut HashMap<AssetId, AssetDetector>, saved: SavedAsset) {
        let Some(model) = self.rules.for_model(&saved.model) else { return };
        match AssetDetector::restore(Arc::clone(model), saved.state) {
            Ok(d) => {
                assets.insert(saved.asset, d);
            }
            Err(e) => tracing::warn!(asset = %saved.asset, error = %e, "saved state not restored"),
        }
    }
}

/// Worker 0's side: moves queued batches into the dataflow, one epoch per
/// drained group, reports `Done(seq)` as the probe passes each epoch, and
/// takes the checkpoints.
struct Feed<'a> {
    worker: &'a mut timely::worker::Worker,
    input: &'a mut FeedInput,
    probe: &'a ProbeHandle<u64>,
    events: &'a EventSender<EngineEvent>,
    /// Epochs sent and the last seq each covers.
    pending: VecDeque<(u64, u64)>,
}

/// How long a checkpoint waits: for the ticket service to commit what
/// detection has done, then for every worker's part of the state.
#[derive(Debug, Clone, Copy)]
struct Waits {
    commits: Duration,
    parts: Duration,
}

/// While running, a checkpoint that cannot have its parts soon is postponed.
const RUNNING: Waits = Waits { commits: Duration::from_millis(500), parts: Duration::from_secs(10) };
/// At shutdown, which must end within 10 s of SIGTERM, every wait is short:
/// what is not checkpointed stays in the journal, replayed at the next start.
const FINAL: Waits = Waits { commits: Duration::from_secs(2), parts: Duration::from_secs(1) };

impl Feed<'_> {
    fn run(
        &mut self,
        rx: Receiver<AssetBatch>,
        mut saver: Option<(Saver, Restored)>,
        assets: &RefCell<HashMap<AssetId, AssetDetector>>,
        served: &mut u64,
    ) {
        let restored = saver.as_mut().map(|(_, r)| std::mem::take(r)).unwrap_or_default();
        let mut saver = saver.map(|(s, _)| s);
        self.resume(restored, saver.as_mut());
        let mut closed = false;
        while !(closed && self.pending.is_empty()) {
            // Idle: block on the input. Busy: poll it, and let timely park briefly
            // below instead of spinning while other workers finish an epoch.
            let wait = if self.pending.is_empty() { Duration::from_millis(100) } else { Duration::ZERO };
            match rx.recv_timeout(wait) {
                Ok(first) => self.send(std::iter::once(first).chain(rx.try_iter().take(4096)), saver.as_mut()),
                Err(RecvTimeoutError::Timeout) => {}
                Err(RecvTimeoutError::Disconnected) => closed = true,
            }
            self.step(saver.as_mut());
            if let Some(s) = saver.as_mut().filter(|s| !closed && s.due()) {
                self.checkpoint(s, RUNNING, assets, served);
            }
        }
        if let Some(s) = saver.as_mut() {
            if s.fits_shutdown() {
                self.checkpoint(s, FINAL, assets, served);
            }
            // Skipped, postponed or written: what the journal holds is kept.
            s.sync_journal();
        }
    }

    /// The saved state and the journal after it enter first, as epoch 0's
    /// `Done(0)`: the service commits their findings before any new batch.
    fn resume(&mut self, restored: Restored, mut saver: Option<&mut Saver>) {
        for a in restored.assets {
            self.input.send(Work::Restore(Box::new(a)));
        }
        for b in restored.settled {
            self.input.send(Work::Settled(b));
        }
        for b in restored.unsettled {
            self.input.send(Work::Batch(b));
        }
        self.close_epoch(0);
        if let Some(s) = saver.as_mut() {
            s.flush();
        }
    }

    /// Journals, then feeds, a group of batches as one epoch.
    fn send(&mut self, batches: impl Iterator<Item = AssetBatch>, mut saver: Option<&mut Saver>) {
        let mut last_seq = 0;
        for b in batches {
            last_seq = b.seq;
            if let Some(s) = saver.as_mut() {
                s.journal(&b);
            }
            self.input.send(Work::Batch(b));
        }
        self.close_epoch(last_seq);
        // In the kernel before any of it can be reported done and acked.
        if let Some(s) = saver {
            s.flush();
        }
    }

    fn close_epoch(&mut self, seq: u64) {
        self.pending.push_back((*self.input.time(), seq));
        let next = *self.input.time() + 1;
        self.input.advance_to(next);
    }

    /// Runs the workers a little and reports the epochs they finished.
    fn step(&mut self, mut saver: Option<&mut Saver>) {
        self.worker.step_or_park(Some(Duration::from_millis(1)));
        while let Some(&(epoch, seq)) = self.pending.front() {
            if self.probe.less_equal(&epoch) {
                break;
            }
            let _ = self.events.blocking_send(EngineEvent::Done(seq));
            if let Some(s) = saver.as_mut() {
                s.done_sent(seq);
            }
            self.pending.pop_front();
        }
        if let Some(s) = saver {
            s.track_commits();
        }
    }

    /// Lets every epoch finish and its findings commit (up to `wait`), then
    /// saves every worker's state; postponed if the commits lag.
    fn checkpoint(
        &mut self,
        saver: &mut Saver,
        waits: Waits,
        assets: &RefCell<HashMap<AssetId, AssetDetector>>,
        served: &mut u64,
    ) {
        let deadline = std::time::Instant::now() + waits.commits;
        while !self.pending.is_empty() || !saver.track_commits() {
            if std::time::Instant::now() >= deadline || self.events.is_closed() {
                tracing::debug!("checkpoint postponed: findings not yet committed");
                saver.postpone();
                return;
            }
            self.step(Some(saver));
        }
        saver.save(served, waits.parts, |out| save_assets(assets, out));
    }
}

#[cfg(test)]
mod tests;
