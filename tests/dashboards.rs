//! The dashboards on real data: the simulated fleet runs through the engine
//! with the InfluxDB sink on (`UPKEEP_TEST_INFLUX_URL`, required when
//! `CI=true`), dispatchers and engineers then work the tickets it opened,
//! and every query of every dashboard (panels, template variables,
//! annotations), with its variables and time range filled in, must return
//! plausible data from that server. A panel left empty fails the test.

mod common;

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;
use std::sync::Arc;
use upkeep::app;
use upkeep::config::Config;
use upkeep::db::Db;
use upkeep::fleet::{generate, Fleet, FleetSpec};
use upkeep::model::{EngineerId, EpochMs, Span};
use upkeep::tickets::complaints::{ComplaintKind, NewComplaint};
use upkeep::tickets::report::ServiceReport;
use upkeep::tickets::{CustomerReport, Ticket, TicketFilter, TicketState};

const ASSETS: usize = 100;
const MIN: i64 = 60_000;
const HOUR: i64 = 60 * MIN;

/// How the field works a ticket: minutes after detection of acceptance,
/// departure, arrival and resolution. Every fourth ticket is left alone.
const PLANS: [Option<[i64; 4]>; 4] = [
    Some([20, 40, 180, 360]),    // on time everywhere
    Some([120, 180, 600, 1800]), // late response, resolved after 30 h
    Some([30, 60, 300, 720]),
    None,
];

/// Works the tickets like a dispatch desk would, at times relative to each
/// ticket's detection; steps still in the future are not taken. Returns the
/// expected 1-hour response figures (met, decided).
async fn work_tickets(db: &Db, engineer: &EngineerId, tickets: &[Ticket], now: EpochMs) -> (u64, u64) {
    let (mut met, mut decided) = (0, 0);
    for (i, t) in tickets.iter().enumerate() {
        let at = |minutes: i64| t.due.detected_at + minutes * MIN;
        if i % 8 == 7 && at(90) <= now {
            db.tickets()
                .transition(t.id.as_str(), TicketState::Cancelled, "dispatcher", "false alarm", at(90))
                .await
                .unwrap();
            continue;
        }
        if t.state == TicketState::Open && at(5) <= now {
            db.tickets()
                .assign(t.id.as_str(), engineer, "dispatcher's choice", false, "dispatcher", at(5))
                .await
                .unwrap();
        }
        // Every third ticket's customer calls 45 minutes after detection.
        if i % 3 == 1 && at(45) <= now {
            let call = CustomerReport {
                asset: t.asset_id.clone(),
                fault: Some(t.fault_code.clone()),
                symptom: "noise".into(),
                contact: "site manager".into(),
                severity: None,
                reported_at: at(45),
                recorded_by: "dispatcher".into(),
            };
            db.tickets().attach_report(&t.id, t.due.detected_at, &call, at(45)).await.unwrap();
        }
        // Every fourth ticket draws a complaint about the repair's pace.
        if i % 4 == 2 && at(50) <= now {
            let complaint = NewComplaint {
                ticket: Some(t.id.clone()),
                engineer: None,
                model: Some(t.model.clone()),
                asset: Some(t.asset_id.clone()),
                customer: "a customer".into(),
                kind: ComplaintKind::SlowRepair,
                severity: t.severity,
                description: "still waiting".into(),
                received_at: at(50),
                response_due: at(50) + HOUR,
                recorded_by: "dispatcher".into(),
            };
            db.complaints().file(&complaint).await.unwrap();
        }
        let plan = PLANS[i % PLANS.len()];
        if t.due.detected_at + HOUR <= now || plan.is_some_and(|p| at(p[0]) <= now) {
            decided += 1;
            met += u64::from(plan.is_some_and(|p| p[0] <= 60));
        }
        let Some(plan) = plan else { continue };
        let steps = [TicketState::Accepted, TicketState::EnRoute, TicketState::OnSite, TicketState::Resolved];
        for (state, minutes) in steps.into_iter().zip(plan) {
            if at(minutes) > now {
                break;
            }
            if state == TicketState::EnRoute && t.after_sales.quote.is_some() {
                db.tickets().accept_quote(&t.id, "customer", at(minutes)).await.unwrap();
            }
            if state == TicketState::Resolved {
                db.tickets().resolve_with_report(&t.id, &report(at(minutes)), "engineer", at(minutes)).await.unwrap();
            } else {
                db.tickets().transition(t.id.as_str(), state, "engineer", "", at(minutes)).await.unwrap();
            }
        }
    }
    (met, decided)
}

fn report(repaired_at: EpochMs) -> ServiceReport {
    ServiceReport {
        cause: "wear".into(),
        fix: "part replaced".into(),
        prevention: String::new(),
        parts_used: Vec::new(),
        first_time_fix: true,
        repaired_at,
    }
}

/// Every InfluxQL statement in a dashboard: panel targets, template
/// variable queries and annotation queries, wherever they sit.
fn queries(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                match v.as_str() {
                    Some(q) if k == "query" && (q.starts_with("SELECT") || q.starts_with("SHOW")) => {
                        out.push(q.to_owned());
                    }
                    _ => queries(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| queries(v, out)),
        _ => {}
    }
}

/// What Grafana would send: variables and macros filled in.
fn fill(query: &str, asset: &str) -> String {
    let q = query
        .replace("$timeFilter", "time > now() - 5d AND time < now() + 1h")
        .replace("$__interval", "1h")
        .replace("$asset", asset);
    let q = ["$site", "$model", "$metric"].iter().fold(q, |q, v| q.replace(v, ".*"));
    let unfilled = q.match_indices('$').any(|(i, _)| q[i + 1..].starts_with(|c: char| c.is_alphabetic() || c == '_'));
    assert!(!unfilled, "unfilled variable in {q}");
    q
}

/// Rows of every series of a result, checked for errors.
fn rows(answer: &Value, q: &str) -> Vec<(Vec<String>, Vec<Value>)> {
    let result = &answer["results"][0];
    assert!(result.get("error").is_none(), "{q}: {}", result["error"]);
    let mut out = Vec::new();
    for s in result["series"].as_array().into_iter().flatten() {
        let columns: Vec<String> =
            s["columns"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_owned()).collect();
        for v in s["values"].as_array().unwrap() {
            out.push((columns.clone(), v.as_array().unwrap().clone()));
        }
    }
    out
}

/// Ratios and shares lie in [0, 1], counts and hours are not negative,
/// positions are on Earth; nothing is NaN.
fn assert_plausible(q: &str, columns: &[String], values: &[Value]) {
    const RATIOS: [&str; 5] = ["rate", "health", "share", "repair rate", "needing attention"];
    for (c, v) in columns.iter().zip(values) {
        let Some(x) = v.as_f64() else { continue };
        assert!(x.is_finite(), "{q}: {c} = {x}");
        if RATIOS.contains(&c.as_str()) && c != "needing attention" {
            assert!((0.0..=1.0).contains(&x), "{q}: {c} = {x} is not a ratio");
        }
        if ["open", "tickets", "hours_sum", "assets", "units", "on hand", "capacity"].contains(&c.as_str()) {
            assert!(x >= 0.0, "{q}: {c} = {x}");
        }
        if c == "latitude" {
            assert!((-90.0..=90.0).contains(&x), "{q}: {c} = {x}");
        }
    }
}

async fn first_value(base: &str, db: &str, q: &str) -> Vec<Value> {
    let answer = common::influxql(base, db, q).await;
    rows(&answer, q).into_iter().next().map(|(_, v)| v).unwrap_or_default()
}

/// An asset with ticket events and forecasts, so the asset dashboard has
/// something in every panel.
async fn asset_to_show(base: &str, db: &str, tickets: &[Ticket]) -> String {
    let q = r#"SHOW TAG VALUES FROM "detection" WITH KEY = "asset" WHERE "detector" = 'forecast'"#;
    let forecast: BTreeSet<String> = rows(&common::influxql(base, db, q).await, q)
        .into_iter()
        .filter_map(|(_, v)| v.get(1).and_then(Value::as_str).map(str::to_owned))
        .collect();
    tickets
        .iter()
        .map(|t| t.asset_id.to_string())
        .find(|a| forecast.contains(a))
        .unwrap_or_else(|| panic!("no ticketed asset has forecasts; forecast assets: {forecast:?}"))
}

#[cfg_attr(no_influx, ignore = "needs UPKEEP_TEST_INFLUX_URL (InfluxDB)")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_dashboard_query_returns_plausible_data_after_a_simulated_fleet() {
    let base = common::server("UPKEEP_TEST_INFLUX_URL");
    let influx_db = common::fresh_influx_database(&base).await;
    let rules = common::rules();
    let fleet = Arc::new(Fleet::new(generate(&rules, FleetSpec { assets: ASSETS, seed: 5 })).unwrap());
    let sim_cfg = device_sim::SimConfig {
        interval: chrono::Duration::seconds(120),
        malformed_every: Some(499),
        ..upkeep::demo::replay_ending_now(5, chrono::Duration::days(3))
    };
    let sim = device_sim::Simulator::new(&upkeep::demo::sim_assets(&fleet), &sim_cfg).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let port = upkeep::ingest::broker::start(0).unwrap();
    let run = uuid::Uuid::new_v4().simple().to_string();
    let mut config = Config::default();
    config.mqtt.url = format!("mqtt://127.0.0.1:{port}").parse().expect("a broker URL");
    config.mqtt.client_id = format!("upkeep-dash-{run}");
    config.mqtt.topic_filter = format!("dash-{run}/telemetry/+");
    config.database.url = format!("sqlite://{}", dir.path().join("dash.db").display()).parse().expect("a database URL");
    config.api.listen = ([127, 0, 0, 1], 0).into();
    config.influx.url = Some(base.parse().expect("an InfluxDB URL"));
    config.influx.database = influx_db.clone();
    // One pass at start and the last one at stop, after the field work.
    config.influx.kpi_every = Span::from_hours(1);
    // The replay runs days in seconds: thin it so the local server keeps up
    // (a sink that falls behind drops points; here none may be lost).
    config.influx.raw_every = Span::from_mins(10);
    config.influx.rollup = Span::from_mins(10);
    config.influx.scores_every = Span::from_mins(30);
    config.influx.queue_points = 2_000_000;

    let running = app::start(&config, Arc::clone(&fleet), Arc::clone(&rules)).await.unwrap();
    common::play(sim, &config, &running).await;
    let db = running.db.clone();
    let mut tickets = db.tickets().list_tickets(&TicketFilter { limit: 10_000, ..Default::default() }).await.unwrap();
    tickets.sort_by_key(|t| (t.due.detected_at, t.id.to_string()));
    assert!(tickets.len() >= 8, "the scenario must open tickets to be meaningful: {}", tickets.len());
    let now = chrono::Utc::now().timestamp_millis();
    let (response_met, response_decided) = work_tickets(&db, &fleet.engineers()[0].id, &tickets, now).await;
    let metrics = Arc::clone(&running.metrics);
    running.stop().await;
    let exposed = metrics.render();
    let influx = |name: &str| sample(&exposed, &format!("upkeep_output_{name}{{output=\"influx\"}}"));
    let written = influx("points_written_total");
    assert!(written > 10_000.0, "too few points written: {written}");
    let lost = ["points_dropped_total", "points_rejected_total", "points_invalid_total"].map(influx);
    assert_eq!(lost, [0.0; 3], "points dropped, rejected, invalid");
    engine_dashboard_queries_only_exposed_metrics(&exposed);

    // The feed agrees with the store.
    let opened =
        first_value(&base, &influx_db, r#"SELECT count("ticket") FROM "ticket_event" WHERE "event" = 'opened'"#).await;
    assert_eq!(opened.get(1).and_then(Value::as_u64), Some(tickets.len() as u64), "one `opened` event per ticket");
    let q = r#"SELECT sum("met"), sum("total") FROM "kpi" WHERE "kpi" = 'response_1h' AND "period" = '1h'"#;
    let response = first_value(&base, &influx_db, q).await;
    assert_eq!(
        (response[1].as_u64(), response[2].as_u64()),
        (Some(response_met), Some(response_decided)),
        "1-hour response rate: met and decided tickets"
    );
    let daily = first_value(&base, &influx_db, &q.replace("'1h'", "'1d'")).await;
    assert_eq!(daily[1..], response[1..], "daily periods sum to the hourly ones");

    let asset = asset_to_show(&base, &influx_db, &tickets).await;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("dashboards");
    let mut checked = BTreeMap::new();
    for name in ["fleet-overview.json", "asset-detail.json", "service-performance.json"] {
        let dashboard: Value = serde_json::from_str(&std::fs::read_to_string(dir.join(name)).unwrap()).unwrap();
        let mut found = Vec::new();
        queries(&dashboard, &mut found);
        for q in &found {
            let q = fill(q, &asset);
            let answer = common::influxql(&base, &influx_db, &q).await;
            let rows = rows(&answer, &q);
            assert!(!rows.is_empty(), "{name}: no data for {q}");
            for (columns, values) in &rows {
                assert_plausible(&q, columns, values);
            }
        }
        checked.insert(name, found.len());
    }
    eprintln!("queries run per dashboard: {checked:?}");
    assert!(checked.values().all(|&n| n >= 8), "queries checked per dashboard: {checked:?}");
}

/// The value of the sample `series` in a `/metrics` text.
fn sample(exposed: &str, series: &str) -> f64 {
    let line = exposed.lines().find_map(|l| l.strip_prefix(series)?.strip_prefix(' '));
    line.and_then(|v| v.parse().ok()).unwrap_or_else(|| panic!("{series} not exposed"))
}

/// Every metric the engine-health dashboard queries is one the running
/// engine exposes, with every stage's section registered.
fn engine_dashboard_queries_only_exposed_metrics(exposed: &str) {
    let dashboard: Value =
        serde_json::from_str(include_str!("../dashboards/engine-health.json")).expect("engine-health.json");
    let panels = dashboard["panels"].as_array().expect("panels");
    let mut checked = 0;
    // Row panels carry no targets.
    let targets = panels.iter().flat_map(|p| p["targets"].as_array().into_iter().flatten());
    for expr in targets.map(|t| t["expr"].as_str().expect("a PromQL expression")) {
        let names = expr.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).filter(|w| w.starts_with("upkeep_"));
        for name in names {
            assert!(exposed.contains(&format!("\n{name}")), "{name} (in `{expr}`) is not exposed");
            checked += 1;
        }
    }
    assert!(checked >= 20, "only {checked} metric names found in the dashboard");
}
