use super::*;
use crate::detect::fixtures::RULES;
use crate::detect::{AssetDetector, WindowParams};
use crate::model::{MetricName, Reading, Span};
use crate::rules::ModelRules;

fn rules() -> Arc<ModelRules> {
    Arc::new(crate::rules::parse_file(Path::new("t.toml"), RULES).unwrap())
}

fn params() -> WindowParams {
    WindowParams::from_config(&crate::detect::DetectConfig::default())
}

fn batch(seq: u64, asset: &str, minute: i64) -> AssetBatch {
    let readings = ["temp", "vib", "flow"]
        .iter()
        .enumerate()
        .map(|(i, m)| Reading {
            ts: minute * 60_000,
            metric: MetricName::new(*m),
            value: 50.0 + i as f64 + (minute % 7) as f64,
        })
        .collect();
    AssetBatch { seq, asset: AssetId::new(asset), model: ModelId::new("pump"), readings, received_us: 0 }
}

/// A detector that has seen `minutes` of readings.
fn detector(minutes: i64) -> AssetDetector {
    let mut d = AssetDetector::new(rules());
    for m in 0..minutes {
        let b = batch(0, "P-1", m);
        d.process(&b.asset, &b.readings, &params(), Span::from_hours(1), &mut Vec::new());
    }
    d
}

fn settings(dir: &Path) -> Settings {
    Settings { dir: dir.to_owned(), every: Duration::from_secs(3600), journal_bytes: 1 << 30 }
}

fn open(dir: &Path) -> (Checkpoints, Restored, Arc<CheckpointMetrics>) {
    let metrics = Arc::new(CheckpointMetrics::default());
    let (store, restored) = Checkpoints::open(settings(dir), "settings-a".into(), Arc::clone(&metrics)).unwrap();
    (store, restored, metrics)
}

fn save_one(store: &mut Checkpoints, d: &AssetDetector) {
    let mut part = Vec::new();
    let asset = AssetId::new("P-1");
    let n =
        encode_assets(&mut part, std::iter::once(SavedAssetRef { asset: &asset, model: d.model(), state: d.state() }));
    store.save(&[part], n).unwrap();
}

fn state_bytes(s: &AssetState) -> Vec<u8> {
    let mut out = Vec::new();
    encode(&mut out, s);
    out
}

#[test]
fn a_saved_state_comes_back_bit_for_bit_with_an_empty_journal() {
    let dir = tempfile::tempdir().unwrap();
    let d = detector(300);
    let (mut store, restored, _) = open(dir.path());
    assert!(restored.assets.is_empty() && restored.unsettled.is_empty());
    store.append(&batch(1, "P-1", 1));
    store.flush();
    save_one(&mut store, &d);
    drop(store);
    let (_, restored, metrics) = open(dir.path());
    assert_eq!(restored.assets.len(), 1);
    assert_eq!(state_bytes(&restored.assets[0].state), state_bytes(d.state()));
    assert!(restored.settled.is_empty() && restored.unsettled.is_empty(), "the checkpoint covers the journal");
    assert_eq!(metrics.restored_assets.load(Relaxed), 1);
    let summary = summary(dir.path()).unwrap().unwrap();
    assert_eq!((summary.assets, summary.readings, summary.generation), (1, 900, 1));
}

#[test]
fn a_crash_leaves_the_journal_split_at_its_last_commit_mark() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, _, _) = open(dir.path());
    store.append(&batch(1, "P-1", 1));
    store.append(&batch(2, "P-1", 2));
    store.mark_committed(2);
    store.append(&batch(3, "P-1", 3));
    store.flush();
    drop(store);
    let (mut store, restored, _) = open(dir.path());
    let minutes = |bs: &[AssetBatch]| bs.iter().map(|b| b.readings[0].ts / 60_000).collect::<Vec<_>>();
    assert_eq!(minutes(&restored.settled), [1, 2]);
    assert_eq!(minutes(&restored.unsettled), [3]);
    assert!(restored.unsettled.iter().all(|b| b.seq == 0), "replayed batches carry no live seq");
    // The second process commits its replay (Done(0)) before anything else:
    // after that, the first process's batches are all settled.
    store.mark_committed(0);
    store.append(&batch(1, "P-1", 4));
    store.flush();
    drop(store);
    let (_, restored, _) = open(dir.path());
    assert_eq!(minutes(&restored.settled), [1, 2, 3]);
    assert_eq!(minutes(&restored.unsettled), [4]);
}

#[test]
fn a_torn_journal_tail_is_cut_and_appending_goes_on_after_the_last_whole_record() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, _, _) = open(dir.path());
    store.append(&batch(1, "P-1", 1));
    store.flush();
    drop(store);
    let path = dir.path().join(JOURNAL_FILE);
    let mut f = OpenOptions::new().append(true).open(&path).unwrap();
    f.write_all(&[7, 0, 0, 0, 0, 0, 0, 0, 1, 2]).unwrap();
    drop(f);
    let (mut store, restored, _) = open(dir.path());
    assert_eq!(restored.unsettled.len(), 1);
    store.append(&batch(1, "P-1", 2));
    store.flush();
    drop(store);
    let (_, restored, _) = open(dir.path());
    assert_eq!(restored.unsettled.len(), 2, "the batch after the cut was kept");
}

#[test]
fn a_corrupt_truncated_or_foreign_checkpoint_is_skipped_and_kept_aside() {
    let dir = tempfile::tempdir().unwrap();
    let (mut store, _, _) = open(dir.path());
    save_one(&mut store, &detector(120));
    drop(store);
    let path = dir.path().join(CHECKPOINT_FILE);
    let good = std::fs::read(&path).unwrap();
    let mut flipped = good.clone();
    flipped[good.len() / 2] ^= 0x10;
    let cases: Vec<(&str, Vec<u8>)> = vec![
        ("bit flip", flipped),
        ("truncated", good[..good.len() - 9].to_vec()),
        ("header only", good[..HEADER_LEN as usize].to_vec()),
        ("empty", Vec::new()),
        ("not ours", b"PK\x03\x04 some zip file".to_vec()),
    ];
    for (what, bytes) in cases {
        std::fs::write(&path, &bytes).unwrap();
        let (store, restored, metrics) = open(dir.path());
        assert!(restored.assets.is_empty(), "{what}");
        assert_eq!(metrics.rejected.load(Relaxed), 1, "{what} is reported");
        assert!(!path.exists() && path.with_extension("rejected").exists(), "{what} is kept aside");
        drop(store);
    }
    std::fs::write(&path, &good).unwrap();
    let metrics = Arc::new(CheckpointMetrics::default());
    let (_, restored) = Checkpoints::open(settings(dir.path()), "settings-b".into(), Arc::clone(&metrics)).unwrap();
    assert!(restored.assets.is_empty(), "other detection settings");
    assert_eq!(metrics.rejected.load(Relaxed), 1);
}

#[test]
fn a_state_of_another_shape_is_refused() {
    let d = detector(60);
    assert!(AssetDetector::restore(rules(), d.state().clone()).is_ok());
    let more = format!(
        "{RULES}\n[[rule]]\nid = \"press\"\nfault = \"LEAK\"\nseverity = \"major\"\ndescription = \"low\"\nskills = {{ mechanical = 1 }}\n\
         when = {{ metric = \"pressure\", detector = \"threshold\", below = 1.0, held = \"5m\" }}\n"
    );
    let other = Arc::new(crate::rules::parse_file(Path::new("t.toml"), &more).unwrap());
    assert!(AssetDetector::restore(other, d.state().clone()).is_err(), "a rule and a metric were added");
}
