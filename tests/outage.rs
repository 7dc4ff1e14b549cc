//! Outages are survived: the engine loses its broker connection, reconnects
//! with backoff, resumes its persistent session and processes what was
//! published meanwhile: every reading is detected exactly once. (Messages
//! whose acks were lost in the cut are redelivered; being behind the
//! watermark by then, their readings are counted late, not detected twice.)

mod common;
#[path = "common/proxy.rs"]
mod proxy;

use device_sim::{PublishConfig, SimConfig, Simulator};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;
use upkeep::config::Config;
use upkeep::fleet::{generate, Fleet, FleetSpec};
use upkeep::telemetry::Metrics;

async fn wait_for(what: &str, timeout: Duration, done: impl FnMut() -> bool) {
    common::wait_until(timeout, Duration::from_millis(50), done, || format!("waiting for {what}")).await;
}

fn detected(m: &Metrics) -> u64 {
    m.readings_accepted.load(Ordering::Relaxed)
}

async fn outage(broker_host: &str, broker_port: u16) {
    let proxy = proxy::Proxy::start(broker_port).await;
    let rules = common::rules();
    let fleet = Arc::new(Fleet::new(generate(&rules, FleetSpec { assets: 10, seed: 3 })).unwrap());
    let dir = tempfile::tempdir().unwrap();
    let run = uuid::Uuid::new_v4().simple().to_string();
    let mut config = Config::default();
    config.mqtt.url = format!("mqtt://127.0.0.1:{}", proxy.port).parse().expect("a broker URL");
    config.mqtt.client_id = format!("upkeep-outage-{run}");
    config.mqtt.topic_filter = format!("outage-{run}/+");
    config.mqtt.reconnect_min = upkeep::model::Span(100);
    config.mqtt.reconnect_max = upkeep::model::Span(400);
    config.database.url = format!("sqlite://{}", dir.path().join("o.db").display()).parse().expect("a database URL");
    config.api.listen = ([127, 0, 0, 1], 0).into();
    let running = upkeep::app::start(&config, Arc::clone(&fleet), rules).await.unwrap();
    let metrics = Arc::clone(&running.metrics);
    assert!(metrics.wait_subscribed(Duration::from_secs(10)).await, "engine never subscribed");

    let sim = upkeep::demo::replay_ending_now(SimConfig::default().seed, chrono::Duration::hours(12));
    let messages: Vec<_> = Simulator::new(&upkeep::demo::sim_assets(&fleet), &sim).unwrap().collect();
    let readings = |ms: &[device_sim::Message]| ms.iter().map(|m| m.readings as u64).sum::<u64>();
    let (before, during) = messages.split_at(messages.len() / 2);
    let publish = PublishConfig {
        broker_url: format!("mqtt://{broker_host}:{broker_port}"),
        client_id: format!("outage-sim-{run}"),
        topic_prefix: format!("outage-{run}"),
        ..PublishConfig::default()
    };

    device_sim::publish_messages(before.to_vec(), &publish, |_| {}).await.unwrap();
    let half = readings(before);
    wait_for("the first half", Duration::from_secs(60), || detected(&metrics) >= half).await;

    proxy.cut();
    wait_for("the engine to notice", Duration::from_secs(10), || metrics.mqtt_connected.load(Ordering::Relaxed) == 0)
        .await;
    device_sim::publish_messages(during.to_vec(), &publish, |_| {}).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(metrics.mqtt_errors.load(Ordering::Relaxed) >= 1, "reconnect attempts fail while cut");
    proxy.restore();

    let total = readings(&messages);
    wait_for("every reading after the outage", Duration::from_secs(60), || detected(&metrics) >= total).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(metrics.mqtt_connected.load(Ordering::Relaxed), 1);
    assert_eq!(detected(&metrics), total, "each reading detected once: {}", metrics.render());
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_outage_on_the_embedded_broker_loses_nothing() {
    let port = upkeep::ingest::broker::start(0).unwrap();
    outage("127.0.0.1", port).await;
}

#[cfg_attr(no_mqtt, ignore = "needs UPKEEP_TEST_MQTT_URL (Mosquitto)")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broker_outage_on_mosquitto_loses_nothing() {
    let url = common::server("UPKEEP_TEST_MQTT_URL");
    let authority = url.split("://").nth(1).unwrap_or(&url);
    let (host, port) = authority.rsplit_once(':').expect("host:port");
    outage(host, port.parse().unwrap()).await;
}
