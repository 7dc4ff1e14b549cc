//! Outages are survived: the engine loses its broker connection, reconnects
//! with backoff, resumes its persistent session and processes what was
//! published meanwhile, without losing a message.

mod common;
#[path = "common/proxy.rs"]
mod proxy;

use device_sim::{PublishConfig, SimConfig, Simulator};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};
use upkeep::config::Config;
use upkeep::fleet::{generate, Fleet, FleetSpec};

async fn wait_for(what: &str, timeout: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + timeout;
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_outage_loses_nothing() {
    let broker = upkeep::ingest::broker::start(0).unwrap();
    let proxy = proxy::Proxy::start(broker).await;
    let rules = common::rules();
    let fleet = Arc::new(Fleet::new(generate(&rules, FleetSpec { assets: 10, seed: 3 })).unwrap());
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::default();
    config.mqtt.url = format!("mqtt://127.0.0.1:{}", proxy.port);
    config.mqtt.client_id = "upkeep-outage".into();
    config.mqtt.reconnect_min = upkeep::model::Span(100);
    config.mqtt.reconnect_max = upkeep::model::Span(400);
    config.database.url = format!("sqlite://{}", dir.path().join("o.db").display());
    config.api.listen = "127.0.0.1:0".into();
    let running = upkeep::app::start(&config, Arc::clone(&fleet), rules).await.unwrap();
    let metrics = Arc::clone(&running.metrics);
    wait_for("the first connection", Duration::from_secs(10), || metrics.mqtt_connected.load(Ordering::Relaxed) == 1)
        .await;

    let now = chrono::Utc::now();
    let sim = SimConfig {
        start: now - chrono::Duration::hours(12),
        duration: chrono::Duration::hours(12),
        ..SimConfig::default()
    };
    let messages: Vec<_> = Simulator::new(&upkeep::demo::sim_assets(&fleet), &sim).unwrap().collect();
    let (before, during) = messages.split_at(messages.len() / 2);
    let publish = PublishConfig { broker_url: format!("mqtt://127.0.0.1:{broker}"), ..PublishConfig::default() };

    device_sim::publish_messages(before.to_vec(), &publish, |_| {}).await.unwrap();
    let half = before.len() as u64;
    wait_for("the first half", Duration::from_secs(60), || metrics.messages_acked.load(Ordering::Relaxed) >= half)
        .await;

    proxy.cut();
    wait_for("the engine to notice", Duration::from_secs(10), || metrics.mqtt_connected.load(Ordering::Relaxed) == 0)
        .await;
    device_sim::publish_messages(during.to_vec(), &publish, |_| {}).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(metrics.mqtt_errors.load(Ordering::Relaxed) >= 1, "reconnect attempts fail while cut");
    proxy.restore();

    let total = messages.len() as u64;
    wait_for("every message after the outage", Duration::from_secs(60), || {
        metrics.messages_acked.load(Ordering::Relaxed) >= total
    })
    .await;
    assert_eq!(metrics.mqtt_connected.load(Ordering::Relaxed), 1);
    let readings: u64 = messages.iter().map(|m| m.readings as u64).sum();
    assert_eq!(metrics.readings_accepted.load(Ordering::Relaxed), readings, "every reading was detected, once");
    running.stop().await;
}
