//! Detection core throughput on one core: windows, detectors and rule state
//! machines of the shipped rules, over a fleet of simulated assets
//! (readings/s). No timely, no I/O: the cost per reading of `detect` itself.

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use std::path::Path;
use std::sync::Arc;
use upkeep::config::DetectConfig;
use upkeep::detect::{AssetDetector, WindowParams};
use upkeep::model::{AssetId, MetricName, Reading, Span};

const ASSETS: usize = 1000;
const TICKS_PER_BATCH: i64 = 10;

fn bench(c: &mut Criterion) {
    let rules = upkeep::rules::load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("rules")).unwrap();
    let pump = Arc::clone(rules.models.get(&upkeep::model::ModelId::new("centrifugal_pump")).unwrap());
    let params = WindowParams::from_config(&DetectConfig::default());
    let metrics: Vec<MetricName> = pump.metrics.clone();
    let ids: Vec<AssetId> = (0..ASSETS).map(|i| AssetId::new(format!("PMP-{i:04}"))).collect();
    let mut detectors: Vec<AssetDetector> = (0..ASSETS).map(|_| AssetDetector::new(Arc::clone(&pump))).collect();
    let per_batch = TICKS_PER_BATCH as u64 * metrics.len() as u64;
    let mut minute = 0i64;
    let mut findings = Vec::new();
    let mut g = c.benchmark_group("detect");
    g.throughput(Throughput::Elements(per_batch * ASSETS as u64));
    g.sample_size(20);
    // Batches are built outside the timed part: decode's cost is benched apart.
    let mut next_batches = || {
        let batches: Vec<Vec<Reading>> = (0..ASSETS).map(|i| batch(&metrics, minute, i)).collect();
        minute += TICKS_PER_BATCH;
        batches
    };
    g.bench_function("fleet_of_1000_pumps_10_ticks", |b| {
        b.iter_batched(
            &mut next_batches,
            |batches| {
                for ((d, id), batch) in detectors.iter_mut().zip(&ids).zip(&batches) {
                    d.process(id, batch, &params, Span::from_hours(1), &mut findings);
                }
                findings.clear();
            },
            BatchSize::PerIteration,
        )
    });
    g.finish();
}

/// Ten one-minute ticks of every metric, with a little variation per asset.
fn batch(metrics: &[MetricName], minute: i64, asset: usize) -> Vec<Reading> {
    (0..TICKS_PER_BATCH)
        .flat_map(|t| {
            let ts = (minute + t) * 60_000;
            metrics.iter().enumerate().map(move |(k, m)| Reading {
                ts,
                metric: m.clone(),
                value: 10.0 + k as f64 + ((minute + t + asset as i64) % 7) as f64 * 0.05,
            })
        })
        .collect()
}

criterion_group!(benches, bench);
criterion_main!(benches);
