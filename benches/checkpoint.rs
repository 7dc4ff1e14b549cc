//! What a detection checkpoint costs: its size per asset-metric after a day
//! of one-minute readings, and the time to encode, save (written and synced)
//! and restore it for 1,000 pumps, and to journal a batch.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use upkeep::config::DetectConfig;
use upkeep::detect::checkpoint::{encode_assets, CheckpointMetrics, Checkpoints, SavedAssetRef, Settings};
use upkeep::detect::{AssetBatch, AssetDetector, WindowParams};
use upkeep::model::{AssetId, MetricName, ModelId, Reading, Span};

const ASSETS: usize = 1000;
const MINUTES: i64 = 24 * 60;

fn readings(metrics: &[MetricName], minute: i64, asset: usize) -> Vec<Reading> {
    let ts = minute * 60_000;
    let wobble = ((minute + asset as i64) % 7) as f64 * 0.05;
    metrics
        .iter()
        .enumerate()
        .map(|(k, m)| Reading { ts, metric: m.clone(), value: 10.0 + k as f64 + wobble })
        .collect()
}

fn bench(c: &mut Criterion) {
    let rules = upkeep::rules::load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("rules")).unwrap();
    let model = ModelId::new("centrifugal_pump");
    let pump = Arc::clone(rules.models.get(&model).unwrap());
    let params = WindowParams::from_config(&DetectConfig::default());
    let metrics = pump.metrics.clone();
    let ids: Vec<AssetId> = (0..ASSETS).map(|i| AssetId::new(format!("PMP-{i:04}"))).collect();
    let mut detectors: Vec<AssetDetector> = (0..ASSETS).map(|_| AssetDetector::new(Arc::clone(&pump))).collect();
    let mut findings = Vec::new();
    for minute in 0..MINUTES {
        for (i, (d, id)) in detectors.iter_mut().zip(&ids).enumerate() {
            d.process(id, &readings(&metrics, minute, i), &params, Span::from_hours(1), &mut findings);
        }
        findings.clear();
    }
    let encode = || {
        let mut out = Vec::new();
        let saved =
            detectors.iter().zip(&ids).map(|(d, asset)| SavedAssetRef { asset, model: &model, state: d.state() });
        let n = encode_assets(&mut out, saved);
        (out, n)
    };
    let (bytes, _) = encode();
    let per = bytes.len() as f64 / (ASSETS * metrics.len()) as f64;
    println!(
        "checkpoint of {ASSETS} pumps x {} metrics after {MINUTES} minutes: {} bytes, {per:.0} bytes per asset-metric",
        metrics.len(),
        bytes.len()
    );

    let dir = tempfile::tempdir().unwrap();
    let settings = Settings { dir: dir.path().to_owned(), every: Duration::from_secs(3600), journal_bytes: 1 << 40 };
    let open = || {
        let metrics = Arc::new(CheckpointMetrics::default());
        Checkpoints::open(settings.clone(), format!("{params:?}"), metrics).unwrap()
    };
    let (mut store, _) = open();
    let mut g = c.benchmark_group("checkpoint");
    g.sample_size(10);
    g.throughput(Throughput::Bytes(bytes.len() as u64));
    g.bench_function("encode_1000_pumps", |b| b.iter(encode));
    g.bench_function("save_1000_pumps", |b| {
        b.iter_batched(encode, |(part, n)| store.save(&[part], n).unwrap(), BatchSize::PerIteration)
    });
    g.bench_function("restore_1000_pumps", |b| b.iter(|| assert_eq!(open().1.assets.len(), ASSETS)));
    let batches: Vec<AssetBatch> = (0..ASSETS)
        .map(|i| AssetBatch {
            seq: i as u64 + 1,
            asset: ids[i].clone(),
            model: model.clone(),
            readings: readings(&metrics, MINUTES, i),
            received_us: 0,
        })
        .collect();
    g.throughput(Throughput::Elements(ASSETS as u64));
    // A save after each round keeps the journal (and the disk) small; it is not timed.
    g.bench_function("journal_1000_batches", |b| {
        b.iter_custom(|rounds| {
            let mut took = Duration::ZERO;
            for _ in 0..rounds {
                let started = std::time::Instant::now();
                for batch in &batches {
                    store.append(batch);
                }
                store.flush();
                took += started.elapsed();
                store.save(&[], 0).unwrap();
            }
            took
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
