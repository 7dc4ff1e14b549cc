//! End to end on real parts: a broker (embedded rumqttd, or Mosquitto when
//! `UPKEEP_TEST_MQTT_URL` is set), the simulated fleet with injected faults,
//! the engine, a SQLite file. Scored against the simulator's ground truth.

mod common;

use device_sim::{FaultKind, InjectedFault, PublishStats, SimConfig, Simulator};
use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;
use upkeep::app::{self, Running};
use upkeep::config::Config;
use upkeep::db::Db;
use upkeep::fleet::{generate, Fleet, FleetSpec, Shift};
use upkeep::model::EngineerId;
use upkeep::rules::RuleSet;
use upkeep::tickets::{Ticket, TicketFilter};

const ASSETS: usize = 200;

struct Scenario {
    fleet: Arc<Fleet>,
    rules: Arc<RuleSet>,
    sim: SimConfig,
    faults: Vec<InjectedFault>,
    config: Config,
    _dir: tempfile::TempDir,
}

fn scenario(broker_url: &str, workers: usize) -> Scenario {
    let rules = common::rules();
    // Engineers work round the clock: dispatch judges shifts by the wall
    // clock, and what it decides must not depend on the hour the test runs.
    let mut file = generate(&rules, FleetSpec { assets: ASSETS, seed: 11 });
    for e in &mut file.engineers {
        e.shift = Shift::every_day(chrono::NaiveTime::MIN, chrono::NaiveTime::MIN);
        e.days_off.clear();
    }
    let fleet = Arc::new(Fleet::new(file).unwrap());
    let sim = SimConfig {
        interval: chrono::Duration::seconds(120),
        malformed_every: Some(501),
        ..upkeep::demo::replay_ending_now(11, chrono::Duration::days(3))
    };
    let faults = Simulator::new(&upkeep::demo::sim_assets(&fleet), &sim).unwrap().faults().to_vec();
    let dir = tempfile::tempdir().unwrap();
    let run = uuid::Uuid::new_v4().simple().to_string();
    let mut config = Config::default();
    config.mqtt.url = broker_url.parse().expect("a broker URL");
    config.mqtt.client_id = format!("upkeep-e2e-{run}");
    config.mqtt.topic_filter = format!("e2e-{run}/telemetry/+");
    config.database.url = format!("sqlite://{}", dir.path().join("e2e.db").display()).parse().expect("a database URL");
    config.api.listen = ([127, 0, 0, 1], 0).into();
    config.detect.workers = workers;
    Scenario { fleet, rules, sim, faults, config, _dir: dir }
}

async fn play(s: &Scenario, running: &Running) -> PublishStats {
    let sim = Simulator::new(&upkeep::demo::sim_assets(&s.fleet), &s.sim).unwrap();
    common::play(sim, &s.config, running).await
}

fn expected_fault_code(f: FaultKind) -> &'static str {
    match f {
        FaultKind::BearingWear => "BEARING_WEAR",
        FaultKind::SealLeak => "SEAL_LEAK",
        FaultKind::CloggedFilter => "CLOGGED_FILTER",
        FaultKind::RefrigerantLoss => "REFRIGERANT_LOSS",
        other => panic!("{other:?} is not progressive"),
    }
}

async fn repair_tickets(db: &Db) -> HashMap<String, Vec<Ticket>> {
    let filter = TicketFilter { kind: Some(upkeep::model::TicketKind::Repair), limit: 1000, ..Default::default() };
    let mut by_asset: HashMap<String, Vec<Ticket>> = HashMap::new();
    for t in db.tickets().list_tickets(&filter).await.unwrap() {
        by_asset.entry(t.asset_id.to_string()).or_default().push(t);
    }
    by_asset
}

/// Every reserved part sits at the nearest depot that could still supply it:
/// stock only falls, so a nearer depot holding enough now held enough then.
async fn assert_parts_from_nearest_depot(db: &Db, fleet: &Fleet, t: &Ticket) {
    let site = fleet.asset(t.asset_id.as_str()).unwrap().location;
    for line in db.tickets().ticket_parts(t.id.as_str()).await.unwrap() {
        let depot =
            line.depot_id.as_deref().unwrap_or_else(|| panic!("{}: {} not reserved: {}", t.id, line.part, line.note));
        let chosen = fleet.depots().iter().find(|d| d.id.as_str() == depot).unwrap();
        let part = upkeep::model::PartNumber::new(&line.part);
        for d in fleet.depots().iter().filter(|d| d.location.distance_km(&site) < chosen.location.distance_km(&site)) {
            assert!(
                db.stock().on_hand(&d.id, &part).await.unwrap() < line.qty,
                "{}: {} is nearer and has {}",
                t.id,
                d.id,
                line.part
            );
        }
    }
}

/// The ticket's engineer has every skill its rule asks for. Every engineer
/// is on duty (the scenario's fleet works round the clock), so a ticket may
/// stay unassigned only when every qualified engineer is full (nothing is
/// resolved here). Loads only grow during the test, so a qualified engineer
/// below capacity at the end was free when the ticket was dispatched.
fn assert_engineer_qualified(fleet: &Fleet, rules: &RuleSet, t: &Ticket, loads: &HashMap<EngineerId, u32>) {
    let rule = rules.for_model(&t.model).unwrap().rules.iter().find(|r| r.id == t.rule_id).unwrap();
    let qualified = |e: &&upkeep::fleet::Engineer| upkeep::dispatch::missing_skills(e, &rule.skills).is_empty();
    match &t.assignment.engineer_id {
        Some(id) => assert!(qualified(&fleet.engineer(id.as_str()).unwrap()), "{id} lacks a skill for {}", t.id),
        None => {
            let candidates: Vec<_> = fleet.engineers().iter().filter(qualified).filter(|e| !e.flying).collect();
            assert!(!candidates.is_empty(), "the fleet has nobody qualified for {}", t.rule_id);
            for e in candidates {
                let load = loads.get(&e.id).copied().unwrap_or(0);
                assert!(
                    load >= e.capacity,
                    "{} unassigned ({}) though {} had room",
                    t.id,
                    t.assignment.assignment_note,
                    e.id
                );
            }
        }
    }
}

async fn full_pipeline(broker_url: &str, workers: usize) {
    let s = scenario(broker_url, workers);
    let progressive: Vec<_> = s.faults.iter().filter(|f| f.fault.is_progressive()).collect();
    assert!(progressive.len() >= 10, "the scenario must inject faults to be meaningful");

    let running = app::start(&s.config, Arc::clone(&s.fleet), Arc::clone(&s.rules)).await.unwrap();
    let first = play(&s, &running).await;
    let db = running.db.clone();
    let tickets = repair_tickets(&db).await;
    let loads = db.tickets().engineer_loads().await.unwrap();

    for f in &progressive {
        let got = tickets.get(&f.asset_id).map_or(&[][..], Vec::as_slice);
        assert_eq!(got.len(), 1, "{} ({:?}) should have exactly one repair ticket: {got:?}", f.asset_id, f.fault);
        let t = &got[0];
        assert_eq!(t.fault_code.as_str(), expected_fault_code(f.fault), "{}", f.asset_id);
        let failure = f.functional_failure.unwrap().timestamp_millis();
        assert!(
            t.due.detected_at < failure,
            "{}: detected {} after failure {}",
            f.asset_id,
            t.due.detected_at,
            failure
        );
        assert_engineer_qualified(&s.fleet, &s.rules, t, &loads);
        assert_parts_from_nearest_depot(&db, &s.fleet, t).await;
    }
    let faulty: BTreeSet<_> = progressive.iter().map(|f| f.asset_id.clone()).collect();
    let false_repairs: Vec<_> = tickets.iter().filter(|(a, _)| !faulty.contains(*a)).collect();
    assert!(false_repairs.is_empty(), "repair tickets on healthy or sensor-fault assets: {false_repairs:?}");

    let dead = db.dead_letters().dead_letters(None, 1000, 0).await.unwrap();
    assert_eq!(dead.len() as u64, first.malformed, "every malformed message is kept aside");
    assert!(first.malformed > 0);

    // A restarted engine receiving the same messages again opens nothing new.
    let ids: BTreeSet<_> = tickets.values().flatten().map(|t| t.id.clone()).collect();
    running.stop().await;
    let running = app::start(&s.config, Arc::clone(&s.fleet), Arc::clone(&s.rules)).await.unwrap();
    play(&s, &running).await;
    let again: BTreeSet<_> = repair_tickets(&running.db).await.values().flatten().map(|t| t.id.clone()).collect();
    assert_eq!(again, ids, "redelivery must not open duplicate tickets");
    running.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipeline_on_embedded_broker() {
    let port = upkeep::ingest::broker::start(0).unwrap();
    // Two timely workers: batches are exchanged between them by asset id.
    full_pipeline(&format!("mqtt://127.0.0.1:{port}"), 2).await;
}

#[cfg_attr(no_mqtt, ignore = "needs UPKEEP_TEST_MQTT_URL (Mosquitto)")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pipeline_on_mosquitto() {
    let url = common::server("UPKEEP_TEST_MQTT_URL");
    full_pipeline(&url, 1).await;
}
