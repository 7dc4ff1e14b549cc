//! Per-sample cost of the streaming benchmark detectors through the live
//! per-asset code (`Replay` drives `AssetDetector`): the NAB `anomaly` rule
//! (median/MAD and nearest neighbours over a 2048-sample ring) and the SKAB
//! `multivariate` rule (8-sensor MEWMA T^2, one Cholesky per vector).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::path::Path;
use std::sync::Arc;
use upkeep::config::DetectConfig;
use upkeep::eval::replay::Replay;
use upkeep::rules::parse_file;

const ROWS: usize = 4000;

fn noise(i: usize) -> f64 {
    ((i * 7919 + 13) % 211) as f64 / 105.0 - 1.0
}

fn replay_rows(c: &mut Criterion, name: &str, file: &str, columns: &[&str]) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("rules/benchmarks").join(file);
    let rules = Arc::new(parse_file(&path, &std::fs::read_to_string(&path).unwrap()).unwrap());
    let params = upkeep::eval::params(&DetectConfig::default());
    let columns: Vec<String> = columns.iter().map(|c| c.to_string()).collect();
    let rows: Vec<Vec<f64>> =
        (0..ROWS).map(|i| (0..columns.len()).map(|k| 10.0 + k as f64 + noise(i * 3 + k)).collect()).collect();
    let mut g = c.benchmark_group("streaming");
    g.throughput(Throughput::Elements(ROWS as u64));
    g.sample_size(10);
    g.bench_function(name, |b| {
        b.iter(|| {
            let mut r = Replay::new(Arc::clone(&rules), params, "bench", &columns);
            for (i, row) in rows.iter().enumerate() {
                r.feed(i as i64 * 1000, row);
            }
        })
    });
    g.finish();
}

fn bench(c: &mut Criterion) {
    replay_rows(c, "anomaly_rule_rows", "nab.toml", &["value"]);
    let skab = [
        "Accelerometer1RMS",
        "Accelerometer2RMS",
        "Current",
        "Pressure",
        "Temperature",
        "Thermocouple",
        "Voltage",
        "Volume Flow RateRMS",
    ];
    replay_rows(c, "multivariate_8_sensor_rows", "skab.toml", &skab);
}

criterion_group!(benches, bench);
criterion_main!(benches);
