//! Per-sample cost of the streaming benchmark detectors through the live
//! per-asset code (`Replay` drives `AssetDetector`): the NAB `anomaly` rule
//! (median/MAD and nearest neighbours over a 2048-sample ring), the SKAB
//! `multivariate` rule (6-sensor MEWMA T^2, one Cholesky per vector) and a
//! C-MAPSS-sized `health` rule (14 sensors, 5 networks of 32 hidden units).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::path::Path;
use std::sync::Arc;
use upkeep::config::DetectConfig;
use upkeep::rules::health::{feature_count, HealthNet, Mlp};
use upkeep::rules::{parse_file, ModelRules};
use upkeep_eval::cmapss::{self, HealthModel};
use upkeep_eval::replay::Replay;

const ROWS: usize = 4000;

fn noise(i: usize) -> f64 {
    ((i * 7919 + 13) % 211) as f64 / 105.0 - 1.0
}

fn benchmark_rules(file: &str) -> Arc<ModelRules> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules/benchmarks").join(file);
    Arc::new(parse_file(&path, &std::fs::read_to_string(&path).unwrap()).unwrap())
}

/// A health rule over `sensors` metrics with a model of C-MAPSS's size
/// (weights are arbitrary: the cost does not depend on them), written and
/// loaded as `upkeep eval cmapss` does.
fn health_rules(dir: &Path, sensors: &[String]) -> Arc<ModelRules> {
    let f = feature_count(sensors.len());
    let weight = |i: usize| noise(i) * 0.1;
    let net = |k: usize| Mlp {
        w1: (0..f * 32).map(|i| weight(i + k)).collect(),
        b1: vec![0.0; 32],
        w2: (0..32).map(weight).collect(),
        b2: 0.5,
    };
    let net =
        HealthNet { sensors: sensors.len(), mean: vec![10.0; f], std: vec![1.0; f], nets: (0..5).map(net).collect() };
    cmapss::health_rules(&HealthModel { metrics: sensors.to_vec(), net }, dir).unwrap()
}

fn replay_rows(c: &mut Criterion, name: &str, rules: Arc<ModelRules>, columns: &[&str]) {
    let params = upkeep_eval::params(&DetectConfig::default());
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
    replay_rows(c, "anomaly_rule_rows", benchmark_rules("nab.toml"), &["value"]);
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
    replay_rows(c, "multivariate_6_of_8_sensor_rows", benchmark_rules("skab.toml"), &skab);
    let dir = tempfile::tempdir().unwrap();
    let sensors: Vec<String> = (1..=14).map(|i| format!("sensor{i}")).collect();
    let columns: Vec<&str> = sensors.iter().map(String::as_str).collect();
    replay_rows(c, "health_14_sensor_rows", health_rules(dir.path(), &sensors), &columns);
}

criterion_group!(benches, bench);
criterion_main!(benches);
