//! The InfluxDB writer against a real server (`UPKEEP_TEST_INFLUX_URL`, the
//! v1 API and InfluxQL of Debian's InfluxDB 1.6; required when `CI=true`).
//! The v2 API cannot be started here (no InfluxDB 2 package): its request
//! shape is checked on a plain TCP listener that records the request. The
//! sink's queue is tested for overload (InfluxDB down, producers never wait)
//! and for an outage followed by recovery (through a link that drops).

mod common;

use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::Duration;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use upkeep::outputs::influx::line_protocol::{FieldValue, Point, Precision};
use upkeep::outputs::influx::queue::{InfluxSink, SinkSettings};
use upkeep::outputs::influx::writer::{InfluxApi, InfluxTarget, InfluxWriter, WriteError};
use upkeep::outputs::{OutputMetrics, OutputsSection};
use upkeep::telemetry::Section;

/// A loopback address nothing listens on (bound, then released).
async fn vacant_address() -> std::net::SocketAddr {
    let probe = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    probe.local_addr().unwrap()
}

fn writer(base: &str, api: InfluxApi) -> InfluxWriter {
    InfluxWriter::new(InfluxTarget { url: base.parse().expect("an InfluxDB URL"), api }, Duration::from_secs(5))
        .unwrap()
}

fn v1(db: &str) -> InfluxApi {
    InfluxApi::V1 { database: db.to_owned(), username: None, password: None }
}

fn lines(points: &[Point], precision: Precision) -> String {
    let mut out = String::new();
    for p in points {
        p.encode(precision, &mut out).unwrap();
    }
    out
}

#[cfg_attr(no_influx, ignore = "needs UPKEEP_TEST_INFLUX_URL (InfluxDB)")]
#[tokio::test]
async fn points_written_through_v1_read_back_with_their_tags_types_and_times() {
    let base = common::server("UPKEEP_TEST_INFLUX_URL");
    let db = common::fresh_influx_database(&base).await;
    let t0 = 1_700_000_000_000;
    let points = [
        Point::new("telemetry raw", t0)
            .tag("asset", "PMP-001")
            .tag("site", "Lyon, Est")
            .tag("path", r"C:\dir")
            .field("value", FieldValue::Float(2.5))
            .field("samples", FieldValue::Int(3)),
        Point::new("telemetry raw", t0 + 1)
            .tag("asset", "PMP-001")
            .tag("site", "Lyon, Est")
            .tag("path", r"C:\dir")
            .field("value", FieldValue::Float(f64::NAN))
            .field("samples", FieldValue::Int(4)),
        Point::new("ticket", t0 + 2)
            .tag("fault", "SEAL_LEAK")
            .field("open", FieldValue::Bool(true))
            .field("note", FieldValue::Str(r#"said "now" \o/"#.into())),
    ];
    let w = writer(&base, v1(&db));
    w.write(lines(&points, Precision::Ms), Precision::Ms).await.unwrap();
    // Nanosecond precision lands on the same instant.
    let late = Point::new("ticket", t0 + 3).tag("fault", "SEAL_LEAK").field("open", FieldValue::Bool(false));
    w.write(lines(&[late], Precision::Ns), Precision::Ns).await.unwrap();

    let r = common::influxql(
        &base,
        &db,
        r#"SELECT "value", "samples", "site", "path" FROM "telemetry raw" WHERE "asset" = 'PMP-001'"#,
    )
    .await;
    let values = &r["results"][0]["series"][0]["values"];
    assert_eq!(values[0], serde_json::json!([t0, 2.5, 3, "Lyon, Est", r"C:\dir"]), "{r}");
    // The NaN field was left out, not the point.
    assert_eq!(values[1], serde_json::json!([t0 + 1, null, 4, "Lyon, Est", r"C:\dir"]), "{r}");
    let r = common::influxql(&base, &db, r#"SELECT "open", "note" FROM "ticket" WHERE "fault" = 'SEAL_LEAK'"#).await;
    let values = &r["results"][0]["series"][0]["values"];
    assert_eq!(values[0], serde_json::json!([t0 + 2, true, r#"said "now" \o/"#]), "{r}");
    assert_eq!(values[1], serde_json::json!([t0 + 3, false, null]), "{r}");
}

#[cfg_attr(no_influx, ignore = "needs UPKEEP_TEST_INFLUX_URL (InfluxDB)")]
#[tokio::test]
async fn errors_say_whether_a_retry_can_help() {
    let base = common::server("UPKEEP_TEST_INFLUX_URL");
    let line = lines(&[Point::new("m", 1).field("v", FieldValue::Int(1))], Precision::Ms);
    // An unknown database: the server says so, and retrying will not help.
    let err = writer(&base, v1("upkeep_no_such_db")).write(line.clone(), Precision::Ms).await.unwrap_err();
    assert!(matches!(&err, WriteError::Rejected { status: 404, body } if body.contains("database not found")), "{err}");
    assert!(!err.is_retriable());
    // Text that is not line protocol is rejected with the reason.
    let db = common::fresh_influx_database(&base).await;
    let err = writer(&base, v1(&db)).write("not line protocol\n", Precision::Ms).await.unwrap_err();
    assert!(matches!(&err, WriteError::Rejected { status: 400, .. }) && !err.is_retriable(), "{err}");
    // Nothing listening: an outage, worth retrying.
    let addr = vacant_address().await;
    let err = writer(&format!("http://{addr}"), v1(&db)).write(line, Precision::Ms).await.unwrap_err();
    assert!(matches!(err, WriteError::Unreachable(_)) && err.is_retriable(), "{err}");
}

/// A server answering one HTTP request with `status`: its base URL, and a
/// task that returns the request text.
async fn recording_server(status: &'static str) -> (String, tokio::task::JoinHandle<String>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    (base, tokio::spawn(record_one(listener, status)))
}

async fn record_one(listener: tokio::net::TcpListener, status: &'static str) -> String {
    let (mut socket, _) = listener.accept().await.unwrap();
    let mut request = Vec::new();
    let mut buf = [0u8; 4096];
    loop {
        let n = socket.read(&mut buf).await.unwrap();
        request.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&request);
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse().unwrap()))
                .unwrap_or(0usize);
            if body.len() >= length {
                break;
            }
        }
    }
    let reply = format!("HTTP/1.1 {status}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n");
    socket.write_all(reply.as_bytes()).await.unwrap();
    String::from_utf8(request).unwrap()
}

#[tokio::test]
async fn v2_writes_to_its_endpoint_with_org_bucket_and_token() {
    let (base, server) = recording_server("204 No Content").await;
    let api = InfluxApi::V2 { org: "acme ops".into(), bucket: "upkeep".into(), token: "s3cret".into() };
    let line = lines(&[Point::new("m", 7).field("v", FieldValue::Int(1))], Precision::Ms);
    writer(&base, api.clone()).write(line, Precision::Ms).await.unwrap();
    let request = server.await.unwrap();
    assert!(
        request.starts_with("POST /api/v2/write?org=acme+ops&bucket=upkeep&precision=ms HTTP/1.1\r\n"),
        "{request}"
    );
    assert!(request.to_ascii_lowercase().contains("\r\nauthorization: token s3cret\r\n"), "{request}");
    assert!(request.ends_with("\r\n\r\nm v=1i 7\n"), "{request}");

    // A server in trouble is worth retrying.
    let (base, server) = recording_server("503 Service Unavailable").await;
    let err = writer(&base, api).write("m v=1i 7\n", Precision::Ms).await.unwrap_err();
    server.await.unwrap();
    assert!(matches!(err, WriteError::Rejected { status: 503, .. }) && err.is_retriable(), "{err}");
}

fn settings(queue_points: usize) -> SinkSettings {
    SinkSettings {
        batch_points: 100,
        flush_every: Duration::from_millis(50),
        queue_points,
        precision: Precision::Ms,
        max_backoff: Duration::from_millis(200),
    }
}

fn numbered(i: i64) -> Point {
    Point::new("sink_test", 1_700_000_000_000 + i).tag("asset", "PMP-001").field("v", FieldValue::Int(i))
}

#[tokio::test]
async fn a_sink_that_cannot_write_never_holds_up_its_producers_and_counts_what_it_drops() {
    let base = format!("http://{}", vacant_address().await);
    let metrics = Arc::new(OutputMetrics::new("influx"));
    let (trigger, stop) = upkeep::shutdown::channel();
    let (sink, task) = InfluxSink::start(writer(&base, v1("db")), settings(1000), Arc::clone(&metrics), stop);
    // `send` is synchronous: 100,000 points while InfluxDB is down.
    for i in 0..100_000 {
        sink.send(numbered(i));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let dropped = metrics.points_dropped.load(Relaxed);
    // At most the queue and one batch in flight are held; the rest is counted.
    assert!((100_000 - 1000 - 100..=100_000 - 1000).contains(&dropped), "{dropped}");
    assert!(metrics.write_retries.load(Relaxed) >= 1);
    let mut text = String::new();
    OutputsSection(vec![Arc::clone(&metrics)]).render(&mut text);
    assert!(text.contains(&format!("upkeep_output_points_dropped_total{{output=\"influx\"}} {dropped}\n")), "{text}");
    assert!(text.contains("upkeep_output_write_retries_total{output=\"influx\"} "), "{text}");
    // Shutdown does not wait out the outage.
    trigger.fire();
    tokio::time::timeout(Duration::from_secs(10), task).await.expect("sink stops during an outage").unwrap();
}

/// Forwards connections on `addr` to `upstream` until `down` fires: InfluxDB
/// as seen through a link that can fail and come back on the same address.
async fn link(addr: std::net::SocketAddr, upstream: String, mut down: upkeep::shutdown::Shutdown) {
    let listener = tokio::net::TcpListener::bind(addr).await.unwrap();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let (mut inbound, _) = accepted.unwrap();
                let upstream = upstream.clone();
                tokio::spawn(async move {
                    let mut outbound = tokio::net::TcpStream::connect(upstream).await.unwrap();
                    let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
                });
            }
            () = down.wait() => return,
        }
    }
}

#[cfg_attr(no_influx, ignore = "needs UPKEEP_TEST_INFLUX_URL (InfluxDB)")]
#[tokio::test]
async fn an_influxdb_outage_is_survived_and_the_queued_points_written_when_it_returns() {
    let base = common::server("UPKEEP_TEST_INFLUX_URL");
    let db = common::fresh_influx_database(&base).await;
    let upstream = base.trim_start_matches("http://").trim_end_matches('/').to_owned();
    let addr = vacant_address().await;

    let metrics = Arc::new(OutputMetrics::new("influx"));
    let (trigger, stop) = upkeep::shutdown::channel();
    let (sink, task) =
        InfluxSink::start(writer(&format!("http://{addr}"), v1(&db)), settings(10_000), Arc::clone(&metrics), stop);
    // Written while the link is down: retried with backoff, held in the queue.
    for i in 0..2_000 {
        sink.send(numbered(i));
    }
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert_eq!(metrics.points_written.load(Relaxed), 0);
    assert!(metrics.write_retries.load(Relaxed) >= 2);
    assert!(metrics.lag_ms.load(Relaxed) > 0);

    let (link_down, link_state) = upkeep::shutdown::channel();
    let proxy = tokio::spawn(link(addr, upstream, link_state));
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while metrics.points_written.load(Relaxed) < 2_000 {
        assert!(std::time::Instant::now() < deadline, "backlog not written: {metrics:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let r = common::influxql(&base, &db, "SELECT count(\"v\"), sum(\"v\") FROM \"sink_test\"").await;
    assert_eq!(r["results"][0]["series"][0]["values"][0][1], 2_000, "{r}");
    assert_eq!(r["results"][0]["series"][0]["values"][0][2], 1_999 * 2_000 / 2, "{r}");
    assert_eq!(metrics.points_dropped.load(Relaxed), 0);
    assert_eq!(metrics.lag_ms.load(Relaxed), 0);
    trigger.fire();
    task.await.unwrap();
    link_down.fire();
    proxy.await.unwrap();
}
