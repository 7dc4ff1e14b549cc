use super::points::{event_name, ticket_events};
use super::TelemetryFeed;
use crate::fleet::{generate, Fleet, FleetSpec};
use crate::kpi::TicketHistory;
use crate::model::{AssetId, EngineerId, MetricName, ModelId, Reading, SiteId};
use crate::outputs::influx::line_protocol::{FieldValue, Point};
use crate::outputs::influx::queue::InfluxSink;
use crate::outputs::OutputMetrics;
use crate::outputs::ReadingsTap;
use crate::tickets::{EventRecord, TicketState};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use tokio::sync::mpsc::Receiver;

const T0: i64 = 1_700_000_040_000; // a whole minute

fn fleet() -> Arc<Fleet> {
    let rules = crate::rules::shipped();
    Arc::new(Fleet::new(generate(&rules, FleetSpec { assets: 3, seed: 1 })).unwrap())
}

fn feed(raw_every: i64, rollup: i64) -> (TelemetryFeed, Receiver<Point>, Arc<OutputMetrics>, AssetId, ModelId) {
    let fleet = fleet();
    let a = &fleet.assets()[0];
    let (asset, model) = (a.id.clone(), a.model.clone());
    let metrics = Arc::new(OutputMetrics::new("influx"));
    let (sink, rx) = InfluxSink::detached(1000, Arc::clone(&metrics));
    (TelemetryFeed::new(sink, fleet, raw_every, rollup), rx, metrics, asset, model)
}

fn drain(rx: &mut Receiver<Point>) -> Vec<Point> {
    std::iter::from_fn(|| rx.try_recv().ok()).collect()
}

fn readings(values: &[(i64, f64)]) -> Vec<Reading> {
    values.iter().map(|&(ts, value)| Reading { ts, metric: MetricName::new("temp"), value }).collect()
}

fn field<'a>(p: &'a Point, key: &str) -> &'a FieldValue {
    &p.fields.iter().find(|(k, _)| k == key).unwrap_or_else(|| panic!("{key} missing in {p:?}")).1
}

fn tag<'a>(p: &'a Point, key: &str) -> &'a str {
    &p.tags.iter().find(|(k, _)| k == key).unwrap_or_else(|| panic!("{key} missing in {p:?}")).1
}

#[test]
fn raw_samples_are_thinned_to_one_per_interval() {
    let (mut f, mut rx, _, asset, model) = feed(60_000, 60_000);
    // Every 20 s for 3 minutes: raw points at 0, 60, 120 and 180 s.
    let values: Vec<(i64, f64)> = (0..10).map(|i| (T0 + i * 20_000, i as f64)).collect();
    f.observe(&asset, &model, &readings(&values));
    let raw: Vec<i64> = drain(&mut rx).into_iter().filter(|p| p.measurement == "telemetry").map(|p| p.time).collect();
    assert_eq!(raw, [T0, T0 + 60_000, T0 + 120_000, T0 + 180_000]);
}

#[test]
fn buckets_carry_mean_min_max_and_count_and_go_out_when_the_next_starts() {
    let (mut f, mut rx, _, asset, model) = feed(3_600_000, 60_000);
    f.observe(&asset, &model, &readings(&[(T0, 2.0), (T0 + 10_000, 6.0), (T0 + 50_000, 4.0)]));
    assert!(drain(&mut rx).iter().all(|p| p.measurement == "telemetry"), "the bucket is still open");
    // A non-finite reading is left out; the next minute closes the first bucket.
    f.observe(&asset, &model, &readings(&[(T0 + 55_000, f64::NAN), (T0 + 60_000, 9.0)]));
    let out = drain(&mut rx);
    let rollups: Vec<&Point> = out.iter().filter(|p| p.measurement == "telemetry_rollup").collect();
    assert_eq!(rollups.len(), 1);
    let b = rollups[0];
    assert_eq!(b.time, T0);
    assert_eq!(
        [field(b, "mean"), field(b, "min"), field(b, "max"), field(b, "count")],
        [&FieldValue::Float(4.0), &FieldValue::Float(2.0), &FieldValue::Float(6.0), &FieldValue::Int(3)]
    );
    assert_eq!(tag(b, "metric"), "temp");
    assert_eq!(tag(b, "asset"), asset.as_str());
    assert_ne!(tag(b, "site"), "unknown", "the site comes from the fleet");
    // The open bucket goes out at shutdown.
    f.flush();
    let last: Vec<i64> = drain(&mut rx).iter().map(|p| p.time).collect();
    assert_eq!(last, [T0 + 60_000]);
}

#[test]
fn a_reading_for_a_bucket_already_written_is_counted_not_rewritten() {
    let (mut f, mut rx, metrics, asset, model) = feed(3_600_000, 60_000);
    f.observe(&asset, &model, &readings(&[(T0, 1.0), (T0 + 60_000, 2.0)]));
    drain(&mut rx);
    // T0's bucket is out; a straggler for it must not overwrite it with one sample.
    f.observe(&asset, &model, &readings(&[(T0 + 30_000, 5.0)]));
    assert!(drain(&mut rx).iter().all(|p| p.measurement != "telemetry_rollup"));
    assert_eq!(metrics.rollup_late.load(Relaxed), 1);
    // Idle buckets are written once nothing touched them for the idle time.
    f.idle(std::time::Duration::ZERO);
    assert_eq!(drain(&mut rx).iter().map(|p| p.time).collect::<Vec<_>>(), [T0 + 60_000]);
}

fn event(seq: i64, at: i64, kind: &str, from: Option<&str>, to: Option<&str>, engineer: Option<&str>) -> EventRecord {
    EventRecord {
        seq,
        at,
        kind: kind.parse().unwrap(),
        from_state: from.map(|s| s.parse().unwrap()),
        to_state: to.map(|s| s.parse().unwrap()),
        actor: "test".into(),
        detail: String::new(),
        engineer_id: engineer.map(EngineerId::new),
    }
}

#[test]
fn events_are_named_by_the_state_they_led_to() {
    let transition = |from, to| event(1, 0, "transition", Some(from), Some(to), None);
    assert_eq!(event_name(&event(1, 0, "opened", None, Some("open"), None)), "opened");
    assert_eq!(event_name(&event(1, 0, "unassigned", None, None, None)), "unassigned");
    assert_eq!(event_name(&transition("assigned", "open")), "declined");
    assert_eq!(event_name(&transition("en_route", "on_site")), "on_site");
    assert_eq!(event_name(&transition("on_site", "resolved")), "resolved");
}

#[test]
fn ticket_events_carry_the_ticket_engineer_and_time_since_detection() {
    let detected = T0;
    let mut ticket = crate::tickets::fixtures::ticket("TK-1", "PMP-1", "centrifugal_pump", "BEARING_WEAR", detected);
    ticket.state = TicketState::OnSite;
    ticket.assignment.engineer_id = Some(EngineerId::new("ENG-2"));
    let events = vec![
        event(1, detected, "opened", None, Some("open"), None),
        event(2, detected + 60_000, "assigned", Some("open"), Some("assigned"), Some("ENG-1")),
        event(3, detected + 3 * 3_600_000, "transition", Some("en_route"), Some("on_site"), None),
    ];
    let h = TicketHistory { ticket, site: SiteId::new("S1"), events, parts: Vec::new(), reports: Vec::new() };
    let points: Vec<Point> = ticket_events(&h).collect();
    assert_eq!(points.iter().map(|p| tag(p, "event")).collect::<Vec<_>>(), ["opened", "assigned", "on_site"]);
    assert_eq!(field(&points[1], "engineer"), &FieldValue::Str("ENG-1".into()), "the engineer assigned then");
    assert_eq!(field(&points[2], "engineer"), &FieldValue::Str("ENG-2".into()));
    assert_eq!(field(&points[2], "hours_since_detection"), &FieldValue::Float(3.0));
    assert_eq!(field(&points[0], "ticket"), &FieldValue::Str("TK-1".into()));
    assert_eq!((tag(&points[0], "site"), tag(&points[0], "severity")), ("S1", "major"));
}
