//! Publishing tests. Those needing a broker run when `UPKEEP_TEST_MQTT_URL`
//! is set (e.g. `mqtt://127.0.0.1:1883`), are skipped otherwise, and fail
//! when it is unset under `CI=true` so CI cannot silently skip them.

use std::collections::HashMap;

use chrono::Duration as ChronoDuration;
use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use super::*;
use crate::{synthetic_fleet, EquipmentKind, SimConfig};

#[test]
fn broker_urls_are_parsed() {
    let ok = [
        ("mqtt://127.0.0.1:1883", ("127.0.0.1", 1883)),
        ("tcp://broker.local", ("broker.local", 1883)),
        ("mqtt://localhost:2883/", ("localhost", 2883)),
        ("127.0.0.1:1884", ("127.0.0.1", 1884)),
        ("mqtt://[::1]:1885", ("::1", 1885)),
    ];
    for (url, (host, port)) in ok {
        assert_eq!(broker_address(url).unwrap(), (host.to_string(), port), "{url}");
    }
    for url in ["mqtts://x:8883", "mqtt://:1883", "mqtt://x:port", "mqtt://x/topic", "ws://x"] {
        assert!(matches!(broker_address(url), Err(SimError::BrokerUrl { .. })), "{url}");
    }
}

#[tokio::test]
async fn bad_settings_fail_before_connecting() {
    let bad = [
        PublishConfig { qos: 3, ..PublishConfig::default() },
        PublishConfig { rate: Some(0.0), ..PublishConfig::default() },
        PublishConfig { topic_prefix: "a/#".into(), ..PublishConfig::default() },
    ];
    for cfg in bad {
        let result = publish_messages(Vec::new(), &cfg, |_| {}).await;
        assert!(matches!(result, Err(SimError::Config(_))), "{cfg:?}");
    }
}

fn broker_url() -> Option<String> {
    match std::env::var("UPKEEP_TEST_MQTT_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            assert!(std::env::var("CI").as_deref() != Ok("true"), "UPKEEP_TEST_MQTT_URL must be set in CI");
            eprintln!("skipping: set UPKEEP_TEST_MQTT_URL=mqtt://127.0.0.1:1883 to run broker tests");
            None
        }
    }
}

fn unique(name: &str) -> String {
    let nanos =
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or_default();
    format!("device-sim-test-{name}-{}-{nanos}", std::process::id())
}

/// Subscribes to `{prefix}/#` and collects `(topic, payload)` until dropped.
async fn subscribe(url: &str, prefix: &str) -> mpsc::UnboundedReceiver<(String, Vec<u8>)> {
    let (host, port) = broker_address(url).unwrap();
    let mut options = MqttOptions::new(unique("sub"), host, port);
    options.set_max_packet_size(MAX_PACKET, 64 * 1024);
    let (client, mut eventloop) = AsyncClient::new(options, 100);
    client.subscribe(format!("{prefix}/#"), QoS::AtLeastOnce).await.unwrap();
    let (tx, rx) = mpsc::unbounded_channel();
    let (ready_tx, ready_rx) = tokio::sync::oneshot::channel();
    tokio::spawn(async move {
        let _client = client; // keep the request channel open
        let mut ready = Some(ready_tx);
        while let Ok(event) = eventloop.poll().await {
            match event {
                Event::Incoming(Packet::SubAck(_)) => {
                    if let Some(ready) = ready.take() {
                        let _ = ready.send(());
                    }
                }
                Event::Incoming(Packet::Publish(p)) if tx.send((p.topic.clone(), p.payload.to_vec())).is_err() => break,
                _ => {}
            }
        }
    });
    tokio::time::timeout(Duration::from_secs(10), ready_rx).await.unwrap().unwrap();
    rx
}

/// Receives until every expected payload arrived (duplicates allowed).
async fn receive_all(rx: &mut mpsc::UnboundedReceiver<(String, Vec<u8>)>, expected: &[Message], prefix: &str) {
    let mut missing: HashMap<(String, Vec<u8>), usize> = HashMap::new();
    for m in expected {
        *missing.entry((m.topic(prefix), m.payload.clone())).or_default() += 1;
    }
    let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
    while !missing.is_empty() {
        let got = tokio::time::timeout_at(deadline, rx.recv()).await;
        let Ok(Some(key)) = got else {
            panic!("{} messages never arrived", missing.values().sum::<usize>());
        };
        if let Some(n) = missing.get_mut(&key) {
            *n -= 1;
            if *n == 0 {
                missing.remove(&key);
            }
        }
    }
}

fn small_sim(malformed_every: Option<u64>) -> (Simulator, Vec<Message>) {
    let assets = synthetic_fleet(6, &EquipmentKind::ALL);
    let cfg = SimConfig { duration: ChronoDuration::hours(2), malformed_every, ..SimConfig::default() };
    let expected = Simulator::new(&assets, &cfg).unwrap().collect();
    (Simulator::new(&assets, &cfg).unwrap(), expected)
}

#[tokio::test]
async fn publishes_every_message_and_waits_for_acks() {
    let Some(url) = broker_url() else { return };
    let prefix = unique("all");
    let mut rx = subscribe(&url, &prefix).await;
    let (sim, expected) = small_sim(Some(7));
    let cfg = PublishConfig {
        broker_url: url,
        client_id: unique("pub"),
        topic_prefix: prefix.clone(),
        ..PublishConfig::default()
    };
    let stats = publish(sim, &cfg, |_| {}).await.unwrap();
    assert_eq!(stats.messages, expected.len() as u64);
    assert_eq!(stats.messages, 72);
    assert_eq!(stats.readings, expected.iter().map(|m| m.readings as u64).sum::<u64>());
    assert_eq!(stats.malformed, 10);
    assert_eq!(stats.malformed_by_kind.values().sum::<u64>(), 10);
    assert_eq!(stats.last_event_ts_ms, expected.iter().map(|m| m.last_ts_ms).max());
    assert_eq!(stats.reconnects, 0);
    receive_all(&mut rx, &expected, &prefix).await;
}

#[tokio::test]
async fn rate_limit_spreads_messages_and_progress_is_reported() {
    let Some(url) = broker_url() else { return };
    let (sim, expected) = small_sim(None);
    let cfg = PublishConfig {
        broker_url: url,
        client_id: unique("rate"),
        topic_prefix: unique("rate"),
        qos: 0,
        rate: Some(50.0),
        hold_until_due: false,
    };
    let mut calls = 0;
    let stats = publish(sim, &cfg, |_| calls += 1).await.unwrap();
    assert_eq!(stats.messages, expected.len() as u64);
    // 72 messages at 50/s take at least ~1.4 s.
    assert!(stats.elapsed >= Duration::from_millis(1300), "{:?}", stats.elapsed);
    assert!(calls >= 1, "progress called about once a second");
}

#[tokio::test]
async fn live_messages_wait_for_their_event_time() {
    let Some(url) = broker_url() else { return };
    let now = chrono::Utc::now().timestamp_millis();
    let message = |ts: i64| Message {
        asset_id: "PMP-0001".into(),
        topic_suffix: "PMP-0001".into(),
        payload: b"{}".to_vec(),
        readings: 1,
        last_ts_ms: ts,
        malformed: None,
    };
    // Two from the past go at once; the third waits until its time, 1.5 s ahead.
    let messages = vec![message(now - 60_000), message(now - 1_000), message(now + 1_500)];
    let cfg = PublishConfig {
        broker_url: url,
        client_id: unique("live"),
        topic_prefix: unique("live"),
        hold_until_due: true,
        ..PublishConfig::default()
    };
    let stats = publish_messages(messages, &cfg, |_| {}).await.unwrap();
    assert_eq!(stats.messages, 3);
    assert!(stats.elapsed >= Duration::from_millis(1400), "{:?}", stats.elapsed);
    assert!(chrono::Utc::now().timestamp_millis() >= now + 1_500);
}

/// A TCP proxy in front of the broker that cuts the first connection after
/// `cut_after` client bytes, forcing a reconnect mid-stream.
async fn flaky_proxy(broker: (String, u16), cut_after: usize) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("mqtt://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let mut limit = Some(cut_after);
        while let Ok((client, _)) = listener.accept().await {
            let upstream = TcpStream::connect((broker.0.as_str(), broker.1)).await.unwrap();
            tokio::spawn(pipe(client, upstream, limit.take()));
        }
    });
    url
}

async fn pipe(client: TcpStream, upstream: TcpStream, limit: Option<usize>) {
    let (mut client_rx, mut client_tx) = client.into_split();
    let (mut up_rx, mut up_tx) = upstream.into_split();
    let down = tokio::spawn(async move { tokio::io::copy(&mut up_rx, &mut client_tx).await });
    let mut buf = vec![0u8; 4096];
    let mut forwarded = 0;
    while let Ok(n) = client_rx.read(&mut buf).await {
        if n == 0 || limit.is_some_and(|l| forwarded + n > l) {
            break;
        }
        if up_tx.write_all(&buf[..n]).await.is_err() {
            break;
        }
        forwarded += n;
    }
    down.abort();
}

#[tokio::test]
async fn reconnects_and_resends_unacknowledged_messages() {
    let Some(url) = broker_url() else { return };
    let prefix = unique("flaky");
    let mut rx = subscribe(&url, &prefix).await;
    let proxy = flaky_proxy(broker_address(&url).unwrap(), 40_000).await;
    let (sim, expected) = small_sim(None);
    let cfg = PublishConfig {
        broker_url: proxy,
        client_id: unique("flaky"),
        topic_prefix: prefix.clone(),
        ..PublishConfig::default()
    };
    let stats = publish(sim, &cfg, |_| {}).await.unwrap();
    assert!(stats.reconnects >= 1);
    assert_eq!(stats.messages, expected.len() as u64, "each message counted once");
    receive_all(&mut rx, &expected, &prefix).await;
}
