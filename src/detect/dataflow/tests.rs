use super::*;
use crate::detect::checkpoint;
use crate::detect::fixtures::RULES;
use crate::model::{MetricName, Span};
use std::collections::BTreeSet;

fn rules() -> Arc<RuleSet> {
    let model = crate::rules::parse_file(std::path::Path::new("t.toml"), RULES).unwrap();
    let mut set = RuleSet::default();
    set.models.insert(model.model.clone(), Arc::new(model));
    Arc::new(set)
}

fn setup(workers: usize, checkpoint: Option<Settings>) -> EngineSetup {
    EngineSetup {
        rules: rules(),
        params: WindowParams::from_config(&crate::detect::DetectConfig::default()),
        evidence_every: Span::from_hours(1),
        size: EngineSize { workers, queued: 4096 },
        checkpoint,
    }
}

/// An opened finding: asset, rule and event time.
type Opened = (String, String, i64);

/// Feeds an engine as the ticket service would drive it: every `Done` is
/// reported committed once the findings before it were taken.
struct Harness {
    engine: EngineHandle,
    events: EngineEvents,
    metrics: Arc<Metrics>,
    opened: Vec<Opened>,
}

impl Harness {
    fn start(setup: EngineSetup) -> Harness {
        let metrics = Arc::new(Metrics::default());
        let (engine, events) = start(setup, Arc::clone(&metrics), None);
        Harness { engine, events, metrics, opened: Vec::new() }
    }

    /// Feeds `batches`, a few hundred at a time as the held budget would,
    /// and waits until they are all done.
    fn feed(&mut self, batches: &[AssetBatch]) {
        for chunk in batches.chunks(500) {
            self.feed_chunk(chunk);
        }
    }

    fn feed_chunk(&mut self, batches: &[AssetBatch]) {
        let Some(last) = batches.last().map(|b| b.seq) else { return };
        for b in batches {
            self.engine.input.send(b.clone()).unwrap();
        }
        let mut done = 0;
        while done < last {
            match self.events.rx.blocking_recv().expect("engine alive") {
                EngineEvent::Findings(found) => {
                    assert!(done < last, "findings after the final Done");
                    let opened = found.into_iter().filter(|(f, _)| f.opened);
                    self.opened.extend(opened.map(|(f, _)| (f.asset.to_string(), f.rule.to_string(), f.evidence.at)));
                }
                EngineEvent::Done(s) => {
                    assert!(s >= done, "Done never moves backwards");
                    done = s;
                    self.events.commits.done_committed();
                }
            }
        }
    }

    fn finish(self) -> Vec<Opened> {
        let Harness { engine, mut events, opened, .. } = self;
        let commits = events.commits.clone();
        // The final checkpoint waits for the last Done to be committed.
        let drain = std::thread::spawn(move || {
            while let Some(ev) = events.rx.blocking_recv() {
                if matches!(ev, EngineEvent::Done(_)) {
                    commits.done_committed();
                }
            }
        });
        engine.shutdown();
        drain.join().unwrap();
        opened
    }
}

/// `assets` pumps over `minutes`: P-7 overheats from minute 500, P-5's
/// temperature sticks from minute 360 (a flatline needs 2 h of it), P-3's
/// vibration climbs toward its limit from minute 300 (a forecast over 6 h).
fn stream(assets: usize, minutes: i64) -> Vec<AssetBatch> {
    let mut seq = 0;
    let mut out = Vec::new();
    for m in 0..minutes {
        for a in 0..assets {
            seq += 1;
            let temp = match a {
                7 if m >= 500 => 90.0,
                5 if m >= 360 => 61.5,
                _ => 60.0 + (m % 3) as f64 + a as f64 * 0.01,
            };
            let rise = if a == 3 { (m - 300).max(0) as f64 * 0.005 } else { 0.0 };
            let vib = 2.0 + (m % 5) as f64 * 0.1 + rise;
            let flow = 30.0 + (m % 4) as f64;
            let readings = [("temp", temp), ("vib", vib), ("flow", flow)]
                .into_iter()
                .map(|(name, value)| Reading { ts: m * 60_000, metric: MetricName::new(name), value })
                .collect();
            out.push(AssetBatch {
                seq,
                asset: AssetId::new(format!("P-{a}")),
                model: ModelId::new("pump"),
                readings,
                received_us: 0,
            });
        }
    }
    out
}

/// Two workers: batches are exchanged by asset, every batch is covered by
/// a `Done`, and findings for a batch arrive before its `Done`.
#[test]
fn two_workers_detect_every_asset_and_report_progress_in_order() {
    let batches = stream(40, 60);
    let mut h = Harness::start(setup(2, None));
    h.feed(&batches);
    assert_eq!(h.metrics.readings_accepted.load(std::sync::atomic::Ordering::Relaxed), 3 * batches.len() as u64);
    h.finish();
}

fn settings(dir: &std::path::Path) -> Settings {
    // Checkpoints driven by the journal's size, so none happens while idle.
    Settings { dir: dir.to_owned(), every: Duration::from_secs(3600), journal_bytes: 256 << 10 }
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    for entry in std::fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        std::fs::copy(entry.path(), to.join(entry.file_name())).unwrap();
    }
}

/// The files a kill -9 leaves behind are a copy of the directory while the
/// engine runs. Resumed from them, with the broker redelivering the last
/// unacknowledged messages, the engine opens the same findings at the
/// same event times as a run without the crash, each once, and every
/// reading entered detection once.
#[test]
fn resumed_after_a_crash_the_engine_finds_what_an_uninterrupted_run_finds() {
    let batches = stream(12, 720);
    let mut whole = Harness::start(setup(2, None));
    whole.feed(&batches);
    let expected: BTreeSet<Opened> = whole.finish().into_iter().collect();
    let rules: BTreeSet<&str> = expected.iter().map(|(_, r, _)| r.as_str()).collect();
    assert!(rules.contains("hot") && rules.contains("stuck") && rules.contains("trend"), "{expected:?}");
    let cut_minute = 720 * 6 / 10;
    assert!(expected.iter().all(|(_, _, at)| *at > cut_minute * 60_000), "all after the crash: {expected:?}");

    let (running, crashed) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let cut = batches.len() * 6 / 10;
    let mut first = Harness::start(setup(2, Some(settings(running.path()))));
    first.feed(&batches[..cut]);
    std::thread::sleep(Duration::from_millis(300));
    assert!(first.engine.checkpoint.saves.load(std::sync::atomic::Ordering::Relaxed) > 0, "checkpoints were taken");
    copy_dir(running.path(), crashed.path());
    let before = first.finish();

    let mut second = Harness::start(setup(2, Some(settings(crashed.path()))));
    let resumed = Arc::clone(&second.engine.checkpoint);
    assert!(resumed.restored_assets.load(std::sync::atomic::Ordering::Relaxed) == 12, "every asset restored");
    assert!(resumed.replayed_batches.load(std::sync::atomic::Ordering::Relaxed) > 0, "the journal was replayed");
    // Redelivered: the last messages before the crash, then the rest.
    let mut rest: Vec<AssetBatch> = batches[cut - 30..].to_vec();
    for (i, b) in rest.iter_mut().enumerate() {
        b.seq = i as u64 + 1;
    }
    second.feed(&rest);
    let after = second.finish();
    let mut all = before.clone();
    all.extend(after);
    let got: BTreeSet<Opened> = all.iter().cloned().collect();
    assert_eq!(all.len(), got.len(), "no finding opened twice: {all:?}");
    assert_eq!(got, expected);
    let summary = checkpoint::summary(crashed.path()).unwrap().expect("a final checkpoint");
    assert_eq!(summary.readings, 3 * batches.len() as u64, "each reading entered detection once");
}
