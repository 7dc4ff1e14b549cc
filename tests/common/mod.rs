//! Shared helpers for the integration suites: real servers from environment
//! variables (required when `CI=true`), fresh databases per test.

#![allow(dead_code)]

use std::path::Path;
use std::sync::Arc;
use upkeep::db::Db;
use upkeep::rules::RuleSet;

/// The address in `var`. A suite that needs a server is ignored at build
/// time when its variable is missing (`build.rs`, which also keeps every
/// suite under `CI=true`), so a missing address here is a failure, also
/// under `--include-ignored`, never a silent pass.
pub fn server(var: &str) -> String {
    match std::env::var(var) {
        Ok(v) if !v.is_empty() => v,
        _ => panic!("{var} must be set for this suite (without it, `cargo test` lists the suite as ignored)"),
    }
}

/// Polls `done` every `every` until it holds; past `timeout` the test fails
/// with `why()` (what it saw, for the failure message).
pub async fn wait_until(
    timeout: std::time::Duration,
    every: std::time::Duration,
    mut done: impl FnMut() -> bool,
    why: impl Fn() -> String,
) {
    let deadline = tokio::time::Instant::now() + timeout;
    while !done() {
        assert!(tokio::time::Instant::now() < deadline, "timed out after {timeout:?}: {}", why());
        tokio::time::sleep(every).await;
    }
}

pub fn rules() -> Arc<RuleSet> {
    Arc::new(upkeep::rules::load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("rules")).expect("shipped rules load"))
}

/// A fresh SQLite file in a temporary directory (kept alive by the guard).
pub async fn sqlite() -> (Db, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("test.db").display());
    (Db::connect(&url.parse().expect("a database URL"), 8).await.unwrap(), dir)
}

/// A fresh PostgreSQL database created on the server at `admin_url`.
pub async fn postgres(admin_url: &str) -> Db {
    use sqlx::Connection;
    sqlx::any::install_default_drivers();
    let name = format!("upkeep_test_{}", uuid::Uuid::new_v4().simple());
    let mut admin = sqlx::AnyConnection::connect(admin_url).await.expect("PostgreSQL reachable");
    sqlx::query(&format!("CREATE DATABASE {name}")).execute(&mut admin).await.unwrap();
    let base = admin_url.rsplit_once('/').map_or(admin_url, |(b, _)| b);
    Db::connect(&format!("{base}/{name}").parse().expect("a database URL"), 8).await.unwrap()
}

/// Runs one InfluxQL statement on the server at `base` and returns its JSON answer.
pub async fn influxql(base: &str, db: &str, q: &str) -> serde_json::Value {
    let client = reqwest::Client::new();
    let r = client.post(format!("{base}/query")).query(&[("db", db), ("q", q), ("epoch", "ms")]).send().await.unwrap();
    assert!(r.status().is_success(), "{q}: {}", r.status());
    serde_json::from_str(&r.text().await.unwrap()).unwrap()
}

/// An InfluxDB database of its own for one test.
pub async fn fresh_influx_database(base: &str) -> String {
    let db = format!("upkeep_test_{}", uuid::Uuid::new_v4().simple());
    influxql(base, "", &format!("CREATE DATABASE {db}")).await;
    db
}

/// Publishes the whole simulated period and waits until the engine has
/// acknowledged every message (acks follow detection and ticket commits).
pub async fn play(
    sim: device_sim::Simulator,
    config: &upkeep::config::Config,
    running: &upkeep::app::Running,
) -> device_sim::PublishStats {
    use std::sync::atomic::Ordering;
    use std::time::{Duration, Instant};
    let prefix = config.mqtt.topic_filter.trim_end_matches("/+").to_owned();
    let cfg = device_sim::PublishConfig {
        broker_url: config.mqtt.url.to_string(),
        client_id: format!("{}-sim", config.mqtt.client_id),
        topic_prefix: prefix,
        ..device_sim::PublishConfig::default()
    };
    let before = running.metrics.messages_acked.load(Ordering::Relaxed);
    assert!(running.metrics.wait_subscribed(Duration::from_secs(10)).await, "engine never subscribed");
    let stats = device_sim::publish(sim, &cfg, |_| {}).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while running.metrics.messages_acked.load(Ordering::Relaxed) - before < stats.messages {
        let m = &running.metrics;
        assert!(
            Instant::now() < deadline,
            "engine did not acknowledge every message in time: published {}, received {}, acked {} (since {before})\n{}",
            stats.messages,
            m.messages_received.load(Ordering::Relaxed),
            m.messages_acked.load(Ordering::Relaxed),
            m.render().lines().filter(|l| !l.starts_with('#')).collect::<Vec<_>>().join("\n"),
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    stats
}
