//! The broker side of who may do what, on the real Mosquitto `.ci/run`
//! starts: its TLS listener takes passwords and the shipped ACL
//! (`deploy/mosquitto.acl`). A device publishes to its own topic and is
//! refused another unit's; the engine's user reads and cannot publish.
//! `UPKEEP_TEST_MQTTS_URL`, `UPKEEP_TEST_MQTT_CA`, `UPKEEP_TEST_MQTT_USER`,
//! `UPKEEP_TEST_MQTT_PASSWORD` and `UPKEEP_TEST_MQTT_DEVICE_PASSWORD` (for
//! the users `ACL-DEVICE-A` and `ACL-DEVICE-B`) describe it.

mod common;

use rumqttc::{AsyncClient, Event, EventLoop, MqttOptions, Packet, QoS, TlsConfiguration, Transport};
use std::time::Duration;

fn client(user: &str, password: &str, run: &str) -> (AsyncClient, EventLoop) {
    let url: upkeep::ingest::BrokerUrl = common::server("UPKEEP_TEST_MQTTS_URL").parse().expect("a broker URL");
    let _ = rustls::crypto::ring::default_provider().install_default();
    let ca = std::fs::read(common::server("UPKEEP_TEST_MQTT_CA")).expect("the CA file");
    let mut opts = MqttOptions::new(format!("acl-{user}-{run}"), url.host, url.port);
    opts.set_credentials(user, password).set_keep_alive(Duration::from_secs(5));
    opts.set_transport(Transport::tls_with_config(TlsConfiguration::Simple { ca, alpn: None, client_auth: None }));
    AsyncClient::new(opts, 16)
}

/// Drives a publisher's connection until its QoS 1 publishes are acknowledged.
async fn publish_all(client: &AsyncClient, events: &mut EventLoop, messages: &[(&str, String)]) {
    for (topic, payload) in messages {
        client.publish(*topic, QoS::AtLeastOnce, false, payload.clone()).await.unwrap();
    }
    let mut acked = 0;
    while acked < messages.len() {
        match tokio::time::timeout(Duration::from_secs(10), events.poll()).await.expect("the broker answers") {
            Ok(Event::Incoming(Packet::PubAck(_))) => acked += 1,
            Ok(_) => {}
            Err(e) => panic!("publisher connection failed: {e}"),
        }
    }
}

#[cfg_attr(
    any(no_mqtts, no_mqtt_acl),
    ignore = "needs UPKEEP_TEST_MQTTS_URL and UPKEEP_TEST_MQTT_DEVICE_PASSWORD (Mosquitto with the shipped ACL)"
)]
#[tokio::test]
async fn a_device_publishes_only_its_own_topic_and_the_engine_only_reads() {
    let run = uuid::Uuid::new_v4().simple().to_string();
    let device_password = common::server("UPKEEP_TEST_MQTT_DEVICE_PASSWORD");
    let (engine, mut engine_events) =
        client(&common::server("UPKEEP_TEST_MQTT_USER"), &common::server("UPKEEP_TEST_MQTT_PASSWORD"), &run);
    engine.subscribe("upkeep/telemetry/+", QoS::AtLeastOnce).await.unwrap();
    loop {
        match tokio::time::timeout(Duration::from_secs(10), engine_events.poll()).await.expect("the broker answers") {
            Ok(Event::Incoming(Packet::SubAck(_))) => break,
            Ok(_) => {}
            Err(e) => panic!("the engine's user must connect: {e}"),
        }
    }
    let (device, mut device_events) = client("ACL-DEVICE-A", &device_password, &run);
    let own = format!("own {run}");
    let forged = format!("forged {run}");
    let by_engine = format!("engine {run}");
    publish_all(
        &device,
        &mut device_events,
        &[("upkeep/telemetry/ACL-DEVICE-A", own.clone()), ("upkeep/telemetry/ACL-DEVICE-B", forged.clone())],
    )
    .await;
    engine.publish("upkeep/telemetry/ACL-DEVICE-B", QoS::AtLeastOnce, false, by_engine.clone()).await.unwrap();

    // Everything this run published that reaches the engine's subscription
    // within 3 s (other suites share the broker: only this run's payloads count).
    let mut received = Vec::new();
    let until = tokio::time::Instant::now() + Duration::from_secs(3);
    while let Ok(event) = tokio::time::timeout_at(until, engine_events.poll()).await {
        if let Ok(Event::Incoming(Packet::Publish(p))) = event {
            let text = String::from_utf8_lossy(&p.payload).into_owned();
            if text.ends_with(&run) {
                received.push((p.topic.clone(), text));
            }
        }
    }
    assert_eq!(
        received,
        [("upkeep/telemetry/ACL-DEVICE-A".to_owned(), own)],
        "forged and engine publishes are refused"
    );

    let (intruder, mut intruder_events) = client("ACL-DEVICE-A", "wrong", &run);
    intruder.publish("upkeep/telemetry/ACL-DEVICE-A", QoS::AtLeastOnce, false, "x").await.unwrap();
    let refused = loop {
        match tokio::time::timeout(Duration::from_secs(10), intruder_events.poll()).await.expect("the broker answers") {
            Ok(Event::Incoming(Packet::ConnAck(ack))) => break ack.code != rumqttc::ConnectReturnCode::Success,
            Ok(_) => {}
            Err(_) => break true,
        }
    };
    assert!(refused, "a wrong device password is refused");
}
