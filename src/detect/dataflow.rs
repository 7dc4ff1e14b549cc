//! Runs detection on timely dataflow. This is the only module that imports
//! timely: batches are exchanged by asset id so each asset's state lives on
//! exactly one worker, and the probe's frontier tells when every batch up to
//! a sequence number has passed detection (so its MQTT message may be acked).

use super::asset::{AssetDetector, AssetScores, BatchCounts, Finding};
use super::window::WindowParams;
use crate::model::{AssetId, ModelId, Reading, Span};
use crate::rules::RuleSet;
use crate::telemetry::Metrics;
use serde::{Deserialize, Serialize};
use std::collections::{HashMap, VecDeque};
use std::hash::{Hash, Hasher};
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

    /// Closes the input and waits for the workers to finish what they hold.
    pub fn shutdown(mut self) {
        let (dead, _) = std::sync::mpsc::sync_channel(0);
        drop(std::mem::replace(&mut self.input, dead));
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// How the engine is run: its workers and how many batches it queues (the
/// ingest budget's messages: every queued batch is a held message).
#[derive(Debug, Clone, Copy)]
pub struct EngineSize {
    pub workers: usize,
    pub queued: usize,
}

/// Starts the timely workers on their own threads.
pub fn start(
    rules: Arc<RuleSet>,
    params: WindowParams,
    evidence_every: Span,
    size: EngineSize,
    metrics: Arc<Metrics>,
    scores: Option<ScoreTap>,
) -> (EngineHandle, EventReceiver<EngineEvent>) {
    let workers = size.workers.max(1);
    let (input_tx, input_rx) = std::sync::mpsc::sync_channel::<AssetBatch>(size.queued.max(1));
    // Per epoch: a findings event from each worker and one Done; epochs never
    // outnumber queued batches, so the workers do not wait on this in practice.
    let (events_tx, events_rx) = channel((workers + 1) * size.queued.max(1) + 16);
    let input_rx = Arc::new(Mutex::new(Some(input_rx)));
    let thread = std::thread::Builder::new()
        .name("detect".into())
        .spawn(move || {
            let config = timely::Config::process(workers);
            let result = timely::execute(config, move |worker| {
                let ctx = WorkerContext {
                    rules: Arc::clone(&rules),
                    params,
                    evidence_every,
                    metrics: Arc::clone(&metrics),
                    events: events_tx.clone(),
                    scores: scores.clone(),
                };
                let probe = ProbeHandle::new();
                let mut input = worker.dataflow::<u64, _, _>(|scope| {
                    let (handle, stream) = scope.new_input::<Vec<AssetBatch>>();
                    let sink = ctx.events.clone();
                    stream
                        .unary(Exchange::new(|b: &AssetBatch| route(&b.asset)), "Detect", move |_cap, _info| {
                            let mut assets: HashMap<AssetId, AssetDetector> = HashMap::new();
                            move |input, output| {
                                input.for_each(|time, data| {
                                    let found = ctx.detect(&mut assets, data.drain(..));
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
                        .probe_with(&probe);
                    handle
                });
                let receiver = input_rx.lock().ok().and_then(|mut r| r.take());
                if let Some(rx) = receiver {
                    feed(worker, &mut input, &probe, rx, &events_tx);
                }
                drop(input);
                while worker.step_or_park(None) {}
            });
            if let Err(e) = result {
                tracing::error!(error = %e, "detection engine failed to start");
            }
        })
        .expect("spawning the detection thread");
    (EngineHandle { input: input_tx, thread: Some(thread) }, events_rx)
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
    events: EventSender<EngineEvent>,
    scores: Option<ScoreTap>,
}

impl WorkerContext {
    fn detect(
        &self,
        assets: &mut HashMap<AssetId, AssetDetector>,
        batches: impl Iterator<Item = AssetBatch>,
    ) -> Vec<(Finding, i64)> {
        let mut total = BatchCounts::default();
        let mut out = Vec::new();
        let mut findings = Vec::new();
        for batch in batches {
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
            if let Some(tap) = &self.scores {
                if let Some(s) = detector.take_scores(&batch.asset, tap.every.as_millis()) {
                    (tap.send)(s);
                }
            }
            out.extend(findings.drain(..).map(|f| (f, batch.received_us)));
        }
        self.metrics.record_detection(&total, out.len() as u64);
        out
    }
}

/// Worker 0's loop: moves queued batches into the dataflow, one epoch per
/// drained group, and reports `Done(seq)` as the probe passes each epoch.
fn feed(
    worker: &mut timely::worker::Worker,
    input: &mut timely::dataflow::InputHandle<u64, timely::container::CapacityContainerBuilder<Vec<AssetBatch>>>,
    probe: &ProbeHandle<u64>,
    rx: Receiver<AssetBatch>,
    events: &EventSender<EngineEvent>,
) {
    let mut pending: VecDeque<(u64, u64)> = VecDeque::new();
    let mut closed = false;
    while !(closed && pending.is_empty()) {
        // Idle: block on the input. Busy: poll it, and let timely park briefly
        // below instead of spinning while other workers finish an epoch.
        let wait = if pending.is_empty() { Duration::from_millis(100) } else { Duration::ZERO };
        let first = match rx.recv_timeout(wait) {
            Ok(b) => Some(b),
            Err(RecvTimeoutError::Timeout) => None,
            Err(RecvTimeoutError::Disconnected) => {
                closed = true;
                None
            }
        };
        if let Some(first) = first {
            let mut last_seq = first.seq;
            input.send(first);
            for b in rx.try_iter().take(4096) {
                last_seq = b.seq;
                input.send(b);
            }
            pending.push_back((*input.time(), last_seq));
            let next = *input.time() + 1;
            input.advance_to(next);
        }
        worker.step_or_park(Some(Duration::from_millis(1)));
        while let Some(&(epoch, seq)) = pending.front() {
            if probe.less_equal(&epoch) {
                break;
            }
            let _ = events.blocking_send(EngineEvent::Done(seq));
            pending.pop_front();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{MetricName, Span};

    use crate::detect::fixtures::RULES;

    fn rules() -> Arc<RuleSet> {
        let model = crate::rules::parse_file(std::path::Path::new("t.toml"), RULES).unwrap();
        let mut set = RuleSet::default();
        set.models.insert(model.model.clone(), Arc::new(model));
        Arc::new(set)
    }

    /// Two workers: batches are exchanged by asset, every batch is covered
    /// by a `Done`, and findings for a batch arrive before its `Done`.
    #[test]
    fn two_workers_detect_every_asset_and_report_progress_in_order() {
        let params = WindowParams::from_config(&crate::config::DetectConfig::default());
        let metrics = Arc::new(Metrics::default());
        let size = EngineSize { workers: 2, queued: 4096 };
        let (engine, mut events) = start(rules(), params, Span::from_hours(1), size, Arc::clone(&metrics), None);
        let (assets, minutes) = (40, 60i64);
        let mut seq = 0;
        for m in 0..minutes {
            for a in 0..assets {
                seq += 1;
                let hot = a == 7 && m >= 20;
                let value = if hot { 90.0 } else { 60.0 + (m % 3) as f64 };
                let reading = Reading { ts: m * 60_000, metric: MetricName::new("temp"), value };
                let batch = AssetBatch {
                    seq,
                    asset: AssetId::new(format!("P-{a}")),
                    model: ModelId::new("pump"),
                    readings: vec![reading],
                    received_us: 0,
                };
                engine.input.send(batch).unwrap();
            }
        }
        let mut opened = Vec::new();
        let mut done = 0;
        while done < seq {
            match events.blocking_recv().expect("engine alive") {
                EngineEvent::Findings(found) => {
                    assert!(done < seq, "findings after the final Done");
                    opened.extend(found.into_iter().filter(|(f, _)| f.opened).map(|(f, _)| f.asset.to_string()));
                }
                EngineEvent::Done(s) => {
                    assert!(s >= done, "Done never moves backwards");
                    done = s;
                }
            }
        }
        assert_eq!(opened, ["P-7"]);
        assert_eq!(metrics.readings_accepted.load(std::sync::atomic::Ordering::Relaxed), seq);
        engine.shutdown();
    }
}
