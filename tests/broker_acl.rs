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

fn client(user: &str, password: &str, id: &str) -> (AsyncClient, EventLoop) {
    let url: upkeep::ingest::BrokerUrl = common::server("UPKEEP_TEST_MQTTS_URL").parse().expect("a broker URL");
    let _ = rustls::crypto::ring::default_provider().install_default();
    let ca = std::fs::read(common::server("UPKEEP_TEST_MQTT_CA")).expect("the CA file");
    let mut opts = MqttOptions::new(format!("acl-{id}"), url.host, url.port);
    opts.set_credentials(user, password).set_keep_alive(Duration::from_secs(5));
    opts.set_transport(Transport::tls_with_config(TlsConfiguration::Simple { ca, alpn: None, client_auth: None }));
    AsyncClient::new(opts, 16)
}

/// The next incoming packet, or why the connection failed.
async fn next(events: &mut EventLoop) -> Result<Packet, String> {
    loop {
        match tokio::time::timeout(Duration::from_secs(10), events.poll()).await.expect("the broker answers") {
            Ok(Event::Incoming(p)) => return Ok(p),
            Ok(Event::Outgoing(_)) => {}
            Err(e) => return Err(e.to_string()),
        }
    }
}

/// Connects as `user` on a connection of its own, publishes one QoS 1
/// message and drives the connection until the broker answered it. A
/// refused publish may be acknowledged, or Mosquitto (2.0.11 here) may drop
/// the connection after it: either way the message goes nowhere, which is
/// what the subscriber checks. Whether it was acknowledged is returned.
async fn publish_once(user: &str, password: &str, id: &str, topic: &str, payload: String) -> bool {
    let (c, mut events) = client(user, password, id);
    c.publish(topic, QoS::AtLeastOnce, false, payload).await.unwrap();
    loop {
        match next(&mut events).await {
            Ok(Packet::PubAck(_)) => return true,
            Ok(Packet::ConnAck(ack)) => assert_eq!(ack.code, rumqttc::ConnectReturnCode::Success, "{user} connects"),
            Ok(_) => {}
            Err(_) => return false,
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
    let (engine_user, engine_password) =
        (common::server("UPKEEP_TEST_MQTT_USER"), common::server("UPKEEP_TEST_MQTT_PASSWORD"));
    let (engine, mut engine_events) = client(&engine_user, &engine_password, &format!("sub-{run}"));
    engine.subscribe("upkeep/telemetry/+", QoS::AtLeastOnce).await.unwrap();
    while !matches!(next(&mut engine_events).await, Ok(Packet::SubAck(_))) {}

    let own = format!("own {run}");
    let acked = publish_once(
        "ACL-DEVICE-A",
        &device_password,
        &format!("own-{run}"),
        "upkeep/telemetry/ACL-DEVICE-A",
        own.clone(),
    )
    .await;
    assert!(acked, "a device's publish to its own topic is acknowledged");
    let forged = format!("forged {run}");
    publish_once("ACL-DEVICE-A", &device_password, &format!("forged-{run}"), "upkeep/telemetry/ACL-DEVICE-B", forged)
        .await;
    let by_engine = format!("engine {run}");
    publish_once(&engine_user, &engine_password, &format!("pub-{run}"), "upkeep/telemetry/ACL-DEVICE-B", by_engine)
        .await;

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

    let (intruder, mut intruder_events) = client("ACL-DEVICE-A", "wrong", &format!("intruder-{run}"));
    intruder.publish("upkeep/telemetry/ACL-DEVICE-A", QoS::AtLeastOnce, false, "x").await.unwrap();
    let refused = loop {
        match next(&mut intruder_events).await {
            Ok(Packet::ConnAck(ack)) => break ack.code != rumqttc::ConnectReturnCode::Success,
            Ok(_) => {}
            Err(_) => break true,
        }
    };
    assert!(refused, "a wrong device password is refused");
}
