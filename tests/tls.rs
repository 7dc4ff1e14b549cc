//! The engine over TLS with credentials, against a real Mosquitto listener
//! (`.ci/run` starts one on 127.0.0.1:18884 with a CA of its own).
//! `UPKEEP_TEST_MQTTS_URL`, `UPKEEP_TEST_MQTT_CA`, `UPKEEP_TEST_MQTT_USER`,
//! `UPKEEP_TEST_MQTT_PASSWORD` describe it; the plain `UPKEEP_TEST_MQTT_URL`
//! listener of the same broker is used to publish.

mod common;

use std::sync::Arc;
use std::time::Duration;
use upkeep::app::{self, Running};
use upkeep::config::Config;
use upkeep::fleet::{generate, Fleet, FleetSpec};

fn env(name: &str) -> String {
    std::env::var(name).unwrap_or_else(|_| panic!("{name} must be set with UPKEEP_TEST_MQTTS_URL"))
}

async fn engine(url: &str, password: &str, fleet: &Arc<Fleet>, dir: &tempfile::TempDir, run: &str) -> Running {
    let mut config = Config::default();
    config.mqtt.url = url.parse().expect("a broker URL");
    config.mqtt.ca_file = Some(env("UPKEEP_TEST_MQTT_CA").into());
    config.mqtt.username = Some(env("UPKEEP_TEST_MQTT_USER"));
    config.mqtt.password = Some(password.to_owned());
    config.mqtt.client_id = format!("upkeep-tls-{run}-{password}");
    config.mqtt.topic_filter = format!("tls-{run}/+");
    config.database.url =
        format!("sqlite://{}", dir.path().join(format!("{password}.db")).display()).parse().expect("a database URL");
    config.api.listen = ([127, 0, 0, 1], 0).into();
    app::start(&config, Arc::clone(fleet), common::rules()).await.unwrap()
}

#[cfg_attr(
    any(no_mqtts, no_mqtt),
    ignore = "needs UPKEEP_TEST_MQTTS_URL and UPKEEP_TEST_MQTT_URL (Mosquitto with TLS)"
)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_engine_consumes_over_tls_with_credentials_and_a_wrong_password_is_refused() {
    let url = common::server("UPKEEP_TEST_MQTTS_URL");
    let plain = common::server("UPKEEP_TEST_MQTT_URL");
    let fleet = Arc::new(Fleet::new(generate(&common::rules(), FleetSpec { assets: 5, seed: 1 })).unwrap());
    let dir = tempfile::tempdir().unwrap();
    let run = uuid::Uuid::new_v4().simple().to_string();

    let good = engine(&url, &env("UPKEEP_TEST_MQTT_PASSWORD"), &fleet, &dir, &run).await;
    assert!(good.metrics.wait_subscribed(Duration::from_secs(10)).await, "TLS + credentials must connect");

    let sim = upkeep::demo::replay_ending_now(1, chrono::Duration::hours(1));
    let sim = device_sim::Simulator::new(&upkeep::demo::sim_assets(&fleet), &sim).unwrap();
    let publish = device_sim::PublishConfig {
        broker_url: plain,
        client_id: format!("tls-sim-{run}"),
        topic_prefix: format!("tls-{run}"),
        ..device_sim::PublishConfig::default()
    };
    let stats = device_sim::publish(sim, &publish, |_| {}).await.unwrap();
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while good.metrics.messages_acked.load(std::sync::atomic::Ordering::Relaxed) < stats.messages {
        assert!(std::time::Instant::now() < deadline, "messages did not arrive over TLS");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let bad = engine(&url, "wrong-password", &fleet, &dir, &run).await;
    assert!(!bad.metrics.wait_subscribed(Duration::from_secs(2)).await, "a wrong password must not connect");
    assert!(bad.metrics.mqtt_errors.load(std::sync::atomic::Ordering::Relaxed) >= 1);
    bad.stop().await;
    good.stop().await;
}
