//! The InfluxDB sink's cost: encoding telemetry points into line protocol
//! (CPU only), the telemetry feed (thinning and rollups per reading), and
//! points per second through the whole sink (queue, batches, HTTP) into a
//! real InfluxDB when `UPKEEP_BENCH_INFLUX_URL` is set (e.g. the one
//! `.ci/run` starts: http://127.0.0.1:18086).

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};
use upkeep::fleet::{generate, Fleet, FleetSpec};
use upkeep::model::{AssetId, MetricName, ModelId, Reading};
use upkeep::outputs::influx::feed::TelemetryFeed;
use upkeep::outputs::influx::line_protocol::{Point, Precision};
use upkeep::outputs::influx::queue::{InfluxSink, SinkSettings};
use upkeep::outputs::influx::writer::{InfluxApi, InfluxTarget, InfluxWriter};
use upkeep::outputs::OutputMetrics;
use upkeep::outputs::ReadingsTap;

const POINTS: usize = 100_000;

/// Points shaped like the feed's telemetry rollups: 4 tags, 4 fields.
fn rollup_points(n: usize) -> Vec<Point> {
    (0..n)
        .map(|i| {
            Point::new("telemetry_rollup", 1_700_000_000_000 + (i / 500) as i64 * 60_000)
                .tag("asset", format!("PMP-{:04}", i % 100))
                .tag("model", "centrifugal_pump")
                .tag("site", format!("site-{:02}", i % 7))
                .tag(
                    "metric",
                    ["vibration_rms_mm_s", "bearing_temp_c", "flow_m3h", "motor_current_a", "discharge_pressure_bar"]
                        [i % 5],
                )
                .field("mean", 4.0 + (i % 13) as f64 * 0.1)
                .field("min", 3.5)
                .field("max", 5.25)
                .field("count", 10u64)
        })
        .collect()
}

fn encode(c: &mut Criterion) {
    let points = rollup_points(POINTS);
    let mut g = c.benchmark_group("sink");
    g.throughput(Throughput::Elements(POINTS as u64));
    g.bench_function("encode_rollup_points", |b| {
        let mut out = String::with_capacity(POINTS * 160);
        b.iter(|| {
            out.clear();
            for p in &points {
                p.encode(Precision::Ms, &mut out).unwrap();
            }
            out.len()
        })
    });
    g.finish();
}

/// One reading per metric per minute for 100 assets, through thinning and
/// 1-minute rollups, into a sink whose queue is drained by nobody (so the
/// figure is the feed's own cost, not the server's).
fn feed(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let _guard = rt.enter();
    let rules = upkeep::rules::load_dir(&std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("rules")).unwrap();
    let fleet = Arc::new(Fleet::new(generate(&rules, FleetSpec { assets: 100, seed: 1 })).unwrap());
    let assets: Vec<(AssetId, ModelId)> = fleet.assets().iter().map(|a| (a.id.clone(), a.model.clone())).collect();
    let metrics: Vec<MetricName> = ["a", "b", "c", "d", "e"].map(MetricName::new).to_vec();
    let minutes = 200;
    let readings_total = (assets.len() * metrics.len() * minutes) as u64;
    let mut g = c.benchmark_group("sink");
    g.throughput(Throughput::Elements(readings_total));
    g.bench_function("telemetry_feed_readings", |b| {
        b.iter_custom(|iters| {
            let mut spent = Duration::ZERO;
            for _ in 0..iters {
                let (sink, rx) =
                    InfluxSink::detached(2 * readings_total as usize, Arc::new(OutputMetrics::new("influx")));
                let mut feed = TelemetryFeed::new(sink, Arc::clone(&fleet), 60_000, 60_000);
                let start = Instant::now();
                for m in 0..minutes as i64 {
                    for (asset, model) in &assets {
                        let ts = 1_700_000_000_000 + m * 60_000;
                        let readings: Vec<Reading> = metrics
                            .iter()
                            .map(|metric| Reading { metric: metric.clone(), ts, value: 1.0 + m as f64 })
                            .collect();
                        feed.observe(asset, model, &readings);
                    }
                }
                spent += start.elapsed();
                drop(rx);
            }
            spent
        })
    });
    g.finish();
}

/// Points per second through queue, batching and HTTP into InfluxDB.
fn to_influx(c: &mut Criterion) {
    let Ok(base) = std::env::var("UPKEEP_BENCH_INFLUX_URL") else {
        eprintln!("sink/to_influx skipped: set UPKEEP_BENCH_INFLUX_URL");
        return;
    };
    let rt = tokio::runtime::Runtime::new().unwrap();
    let db = format!("upkeep_bench_{}", std::process::id());
    rt.block_on(async {
        let q = [("q", format!("CREATE DATABASE {db}"))];
        reqwest::Client::new().post(format!("{base}/query")).query(&q).send().await.unwrap();
    });
    let points = rollup_points(POINTS);
    let mut g = c.benchmark_group("sink");
    g.sample_size(10).throughput(Throughput::Elements(POINTS as u64));
    g.bench_function("points_to_influxdb", |b| {
        b.iter_custom(|iters| {
            rt.block_on(async {
                let mut spent = Duration::ZERO;
                for _ in 0..iters {
                    spent += through_sink(&base, &db, &points).await;
                }
                spent
            })
        })
    });
    g.finish();
}

async fn through_sink(base: &str, db: &str, points: &[Point]) -> Duration {
    let target = InfluxTarget {
        url: base.parse().expect("an InfluxDB URL"),
        api: InfluxApi::V1 { database: db.to_owned(), username: None, password: None },
    };
    let writer = InfluxWriter::new(target, Duration::from_secs(30)).unwrap();
    let settings = SinkSettings {
        batch_points: 5000,
        flush_every: Duration::from_millis(200),
        queue_points: points.len(),
        precision: Precision::Ms,
        max_backoff: Duration::from_secs(1),
    };
    let metrics = Arc::new(OutputMetrics::new("influx"));
    let (trigger, stop) = upkeep::shutdown::channel();
    let (sink, task) = InfluxSink::start(writer, settings, Arc::clone(&metrics), stop);
    let start = Instant::now();
    for p in points {
        sink.send(p.clone());
    }
    while metrics.points_written.load(Relaxed) + metrics.points_rejected.load(Relaxed) < points.len() as u64 {
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let spent = start.elapsed();
    assert_eq!(metrics.points_dropped.load(Relaxed) + metrics.points_rejected.load(Relaxed), 0);
    trigger.fire();
    task.await.unwrap();
    spent
}

criterion_group!(benches, encode, feed, to_influx);
criterion_main!(benches);
