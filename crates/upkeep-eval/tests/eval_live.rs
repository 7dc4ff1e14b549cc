//! `upkeep eval` and the live engine are the same detection code: one
//! benchmark-style file replayed offline and published through a real broker
//! (embedded rumqttd, or Mosquitto when `UPKEEP_TEST_MQTT_URL` is set) opens
//! its tickets at the same event times. And an evaluation run twice writes
//! the same results.

use device_sim::{Message, PublishConfig};
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};
use upkeep::config::Config;
use upkeep::fleet::{generate, Fleet, FleetSpec};
use upkeep::rules::{parse_file, RuleSet};
use upkeep::tickets::TicketFilter;
use upkeep_eval::data::{format_time, read_timed_csv, Table};
use upkeep_eval::nab::{self, NabOptions};
use upkeep_eval::replay::Replay;

const ROWS: usize = 1500;
const MINUTE: i64 = 60_000;

fn bench_rules() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../rules/benchmarks/nab.toml")).unwrap()
}

fn noise(i: usize) -> f64 {
    ((i * 7919 + 13) % 211) as f64 / 105.0 - 1.0
}

/// A NAB-format file: noise with a spike at row 300 and a level shift from
/// row 1300 (more than the rule's 12 h `clear_after` later), one minute apart.
fn write_series(dir: &Path, start: i64) -> std::path::PathBuf {
    let mut csv = String::from("timestamp,value\n");
    for i in 0..ROWS {
        let v = 50.0 + noise(i) + if i == 300 { 30.0 } else { 0.0 } + if i >= 1300 { 12.0 } else { 0.0 };
        csv += &format!("{},{v}\n", format_time(start + i as i64 * MINUTE));
    }
    let path = dir.join("data/synthetic/series.csv");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, csv).unwrap();
    path
}

/// Event times at which rule `upkeep` opens, offline.
fn offline_openings(table: &Table, config: &Config) -> Vec<i64> {
    let rules = Arc::new(parse_file(Path::new("nab.toml"), &bench_rules()).unwrap());
    let mut replay = Replay::new(rules, upkeep_eval::params(&config.detect), "SER-1", &table.columns);
    let rule = replay.rule_index("upkeep").unwrap();
    let mut opened = Vec::new();
    for (&ts, row) in table.ts.iter().zip(&table.rows) {
        replay.feed(ts, row);
        if replay.view(rule).opened {
            opened.push(ts);
        }
    }
    opened
}

fn messages(table: &Table, asset: &str) -> Vec<Message> {
    table
        .ts
        .iter()
        .zip(&table.rows)
        .map(|(&ts, row)| Message {
            asset_id: asset.into(),
            topic_suffix: asset.into(),
            payload: format!(
                r#"{{"asset_id":"{asset}","readings":[{{"ts":{ts},"metric":"value","value":{}}}]}}"#,
                row[0]
            )
            .into_bytes(),
            readings: 1,
            last_ts_ms: ts,
            malformed: None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_engine_and_eval_open_at_the_same_event_times() {
    // Mosquitto where one is configured, else the embedded broker.
    let broker = match std::env::var("UPKEEP_TEST_MQTT_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => format!("mqtt://127.0.0.1:{}", upkeep::ingest::broker::start(0).unwrap()),
    };
    let dir = tempfile::tempdir().unwrap();
    let start = (upkeep::model::now_ms() - 3 * 24 * 3_600_000) / MINUTE * MINUTE;
    let table = read_timed_csv(&write_series(dir.path(), start), ',').unwrap();
    // Unique per run, so a shared Mosquitto keeps runs apart.
    let run = format!("{}-{}", std::process::id(), upkeep::model::now_ms());
    let mut config = Config::default();
    config.mqtt.url = broker.parse().expect("a broker URL");
    config.mqtt.client_id = format!("upkeep-evallive-{run}");
    config.mqtt.topic_filter = format!("evallive-{run}/telemetry/+");
    config.database.url = format!("sqlite://{}", dir.path().join("live.db").display()).parse().expect("a database URL");
    config.api.listen = ([127, 0, 0, 1], 0).into();

    let offline = offline_openings(&table, &config);
    assert_eq!(offline.len(), 2, "the spike and the shift each open once offline: {offline:?}");

    let mut set = RuleSet::default();
    let model = parse_file(Path::new("nab.toml"), &bench_rules()).unwrap();
    set.models.insert(model.model.clone(), Arc::new(model));
    let rules = Arc::new(set);
    let fleet = Arc::new(Fleet::new(generate(&rules, FleetSpec { assets: 1, seed: 3 })).unwrap());
    let asset = fleet.assets()[0].id.to_string();
    let running = upkeep::app::start(&config, Arc::clone(&fleet), Arc::clone(&rules)).await.unwrap();
    assert!(running.metrics.wait_subscribed(Duration::from_secs(10)).await, "engine never subscribed");
    let cfg = PublishConfig {
        broker_url: broker,
        client_id: format!("{}-pub", config.mqtt.client_id),
        topic_prefix: config.mqtt.topic_filter.trim_end_matches("/+").to_owned(),
        ..PublishConfig::default()
    };
    let stats = device_sim::publish_messages(messages(&table, &asset), &cfg, |_| {}).await.unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while running.metrics.messages_acked.load(Ordering::Relaxed) < stats.messages {
        assert!(Instant::now() < deadline, "the engine did not acknowledge every message");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let tickets = running.db.tickets().list_tickets(&TicketFilter { limit: 100, ..Default::default() }).await.unwrap();
    let ticket = tickets.iter().find(|t| t.rule_id.as_str() == "upkeep").expect("the live engine opened a ticket");
    assert_eq!(ticket.due.detected_at, offline[0], "first opening: live vs offline");
    // The second opening finds the ticket still open: it arrives as evidence.
    let evidence = running.db.tickets().ticket(ticket.id.as_str()).await.unwrap().unwrap().evidence;
    assert!(evidence.iter().any(|e| e.at == offline[1]), "second opening {} not in {evidence:?}", offline[1]);
    running.stop().await;
}

#[test]
fn an_evaluation_run_twice_writes_the_same_results() {
    let dir = tempfile::tempdir().unwrap();
    write_series(dir.path(), 1_700_000_000_000 / MINUTE * MINUTE);
    let labels = dir.path().join("windows.json");
    std::fs::write(
        &labels,
        r#"{"synthetic/series.csv": [["2023-11-15 13:00:00.000000", "2023-11-15 18:00:00.000000"]]}"#,
    )
    .unwrap();
    let rules = dir.path().join("nab.toml");
    std::fs::write(&rules, bench_rules()).unwrap();
    let params = upkeep_eval::params(&Config::default().detect);
    let run = |out: &str| {
        let o = NabOptions {
            data: dir.path().join("data"),
            labels: labels.clone(),
            out: dir.path().join(out),
            detector: "upkeep".into(),
            rules: rules.clone(),
        };
        let result = nab::run(&o, &params).unwrap();
        let csv = std::fs::read_to_string(dir.path().join(out).join("upkeep/synthetic/upkeep_series.csv")).unwrap();
        (result, csv)
    };
    let (a, csv_a) = run("a");
    let (b, csv_b) = run("b");
    assert_eq!(a, b);
    assert_eq!(csv_a, csv_b);
    assert_eq!(csv_a.lines().count(), ROWS + 1);
    assert!(csv_a.lines().skip(1).any(|l| l.ends_with(",1")), "the window is labelled in the results file");
}
