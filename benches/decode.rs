//! Decode throughput: JSON batch payloads to typed readings (readings/s).

use criterion::{criterion_group, criterion_main, BatchSize, Criterion, Throughput};
use std::hint::black_box;
use upkeep::config::DecodeConfig;
use upkeep::decode::{AssetLookup, Decoder};
use upkeep::model::ModelId;

struct OneModel;

impl AssetLookup for OneModel {
    fn model_of(&self, _asset: &str) -> Option<ModelId> {
        Some(ModelId::new("centrifugal_pump"))
    }
}

const METRICS: [&str; 5] =
    ["bearing_temp_c", "vibration_rms_mm_s", "discharge_pressure_bar", "motor_current_a", "flow_m3h"];

/// A message as the simulator sends it: 10 ticks x 5 metrics.
fn payload(now: i64) -> (Vec<u8>, u64) {
    let mut readings = Vec::new();
    for tick in 0..10i64 {
        for (i, m) in METRICS.iter().enumerate() {
            readings.push(format!(
                r#"{{"ts":{},"metric":"{m}","value":{:.3}}}"#,
                now - 600_000 + tick * 60_000,
                40.0 + i as f64 * 1.7
            ));
        }
    }
    let text = format!(r#"{{"asset_id":"PMP-0001","readings":[{}]}}"#, readings.join(","));
    (text.into_bytes(), readings.len() as u64)
}

fn bench(c: &mut Criterion) {
    let now = chrono::Utc::now().timestamp_millis();
    let (bytes, n) = payload(now);
    let mut decoder = Decoder::new(DecodeConfig::default());
    let mut g = c.benchmark_group("decode");
    g.throughput(Throughput::Elements(n));
    g.bench_function("batch_of_50_readings", |b| {
        b.iter_batched(
            || bytes.clone(),
            |p| black_box(decoder.decode("upkeep/telemetry/PMP-0001", &p, &OneModel, now).unwrap()),
            BatchSize::SmallInput,
        )
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
