//! The store against real databases: SQLite always, PostgreSQL when
//! `UPKEEP_TEST_DATABASE_URL` is set (`.ci/run` sets it).

mod common;

use std::collections::BTreeMap;
use upkeep::db::Db;
use upkeep::decode::{DeadLetter, DeadLetterReason};
use upkeep::dispatch::Delivery;
use upkeep::dispatch::PartStatus;
use upkeep::fleet::{Depot, DepotClass};
use upkeep::model::{
    AssetId, DepotId, EngineerId, FaultCode, GeoPoint, ModelId, PartNumber, RuleId, Severity, TicketId, TicketKind,
};
use upkeep::rules::PartRef;
use upkeep::tickets::quote::{Quote, QuoteLine};
use upkeep::tickets::report::{PartUsed, ServiceReport};
use upkeep::tickets::{
    AfterSales, Begun, NewTicket, OpenOutcome, Opening, Remedy, StoreError, TicketFilter, TicketState, Warranty,
};

fn new_ticket(asset: &str, fault: &str) -> NewTicket {
    NewTicket {
        asset: AssetId::new(asset),
        model: ModelId::new("centrifugal_pump"),
        fault: FaultCode::new(fault),
        rule: RuleId::new("pump.bearing_wear"),
        kind: TicketKind::Repair,
        severity: Severity::Major,
        description: "Bearing wear".into(),
        detected_at: 1_000,
        response_due: 1_000 + 4 * 3_600_000,
        on_site_due: 1_000 + 24 * 3_600_000,
        resolution_due: 1_000 + 48 * 3_600_000,
        sla_tier: "major".into(),
        evidence: serde_json::json!({"checks": [{"metric": "vibration_rms_mm_s", "observed": 5.1}]}),
    }
}

fn report(repaired_at: i64) -> ServiceReport {
    ServiceReport {
        cause: "worn bearing".into(),
        fix: "bearing replaced".into(),
        prevention: "grease monthly".into(),
        parts_used: Vec::new(),
        first_time_fix: true,
        repaired_at,
    }
}

/// A ticket inserted at `at`, its opening not yet committed.
async fn opening(db: &Db, t: &NewTicket, at: i64) -> Opening {
    match db.tickets().begin_opening(t, at).await.unwrap() {
        Begun::Opened(o) => o,
        _ => panic!("expected a new ticket for {}", t.asset),
    }
}

fn opened(o: OpenOutcome) -> TicketId {
    match o {
        OpenOutcome::Opened(id) => id,
        other => panic!("expected a new ticket, got {other:?}"),
    }
}

async fn one_open_ticket_per_asset_and_fault(db: &Db) {
    let id = opened(db.tickets().open_or_append(&new_ticket("PMP-1", "BEARING_WEAR"), 1, true).await.unwrap());
    let again = db.tickets().open_or_append(&new_ticket("PMP-1", "BEARING_WEAR"), 2, true).await.unwrap();
    assert_eq!(again, OpenOutcome::Appended(id.clone()));
    opened(db.tickets().open_or_append(&new_ticket("PMP-1", "SEAL_LEAK"), 3, true).await.unwrap());
    let detail = db.tickets().ticket(id.as_str()).await.unwrap().unwrap();
    assert_eq!(detail.evidence.len(), 2, "repeated detection appends evidence");
    assert_eq!(detail.ticket.evidence_count, 2);
    assert_eq!(detail.evidence[0].body["checks"][0]["observed"], 5.1);

    // Once the ticket is cancelled, evidence alone opens nothing; a new firing opens a new ticket.
    db.tickets().transition(id.as_str(), TicketState::Cancelled, "dispatcher", "duplicate call", 4).await.unwrap();
    assert_eq!(
        db.tickets().open_or_append(&new_ticket("PMP-1", "BEARING_WEAR"), 5, false).await.unwrap(),
        OpenOutcome::NotOpen
    );
    let fresh = opened(db.tickets().open_or_append(&new_ticket("PMP-1", "BEARING_WEAR"), 5, true).await.unwrap());
    assert_ne!(fresh, id);
    db.tickets().assign(fresh.as_str(), &EngineerId::new("ENG-1"), "nearest", false, "dispatch", 6).await.unwrap();
    let after = db.tickets().open_or_append(&new_ticket("PMP-1", "BEARING_WEAR"), 7, false).await.unwrap();
    assert_eq!(after, OpenOutcome::Appended(fresh));
}

async fn lifecycle_is_validated_and_recorded(db: &Db) {
    let id = opened(db.tickets().open_or_append(&new_ticket("PMP-2", "BEARING_WEAR"), 1, true).await.unwrap());
    let err = db.tickets().transition(id.as_str(), TicketState::OnSite, "x", "", 2).await.unwrap_err();
    assert!(matches!(err, StoreError::InvalidTransition { from: TicketState::Open, to: TicketState::OnSite }));
    db.tickets().assign(id.as_str(), &EngineerId::new("ENG-1"), "nearest", false, "dispatch", 3).await.unwrap();
    db.tickets().assign(id.as_str(), &EngineerId::new("ENG-2"), "manual", false, "dispatcher", 4).await.unwrap();
    let err = db.tickets().transition(id.as_str(), TicketState::Open, "ENG-2", "declined", 5).await.unwrap_err();
    assert!(matches!(err, StoreError::OwnCommand(_)), "handing back is a command of its own: {err}");
    let t = db.tickets().decline(id.as_str(), &EngineerId::new("ENG-2"), "declined", 5).await.unwrap();
    assert_eq!((t.state, t.assignment.engineer_id), (TicketState::Open, None), "declining frees the ticket");
    db.tickets().assign(id.as_str(), &EngineerId::new("ENG-3"), "next nearest", false, "dispatch", 6).await.unwrap();
    for to in [TicketState::Accepted, TicketState::EnRoute, TicketState::OnSite] {
        db.tickets().transition(id.as_str(), to, "ENG-3", "", 7).await.unwrap();
    }
    let err = db.tickets().transition(id.as_str(), TicketState::Resolved, "ENG-3", "", 7).await.unwrap_err();
    assert!(matches!(err, StoreError::ReportRequired), "resolving takes the service report: {err}");
    db.tickets().resolve_with_report(&id, &report(7), "ENG-3", 7).await.unwrap();
    db.tickets().transition(id.as_str(), TicketState::Closed, "ENG-3", "", 7).await.unwrap();
    let d = db.tickets().ticket(id.as_str()).await.unwrap().unwrap();
    let kinds: Vec<_> = d.events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(
        kinds,
        [
            "opened",
            "assigned",
            "reassigned",
            "declined",
            "assigned",
            "transition",
            "transition",
            "transition",
            "transition",
            "transition"
        ]
    );
    let seqs: Vec<_> = d.events.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=10).collect::<Vec<_>>(), "gapless event sequence");
    assert!(db.tickets().transition("TK-none", TicketState::Accepted, "x", "", 1).await.is_err());
    let closed = db
        .tickets()
        .list_tickets(&TicketFilter { state: Some(TicketState::Closed), limit: 10, ..Default::default() })
        .await
        .unwrap();
    assert_eq!(closed.len(), 1);
}

/// Opens a repair ticket and takes it to `resolved` at `at`.
async fn repaired(db: &Db, asset: &str, fault: &str, kind: TicketKind, at: i64) -> TicketId {
    let id =
        opened(db.tickets().open_or_append(&NewTicket { kind, ..new_ticket(asset, fault) }, at, true).await.unwrap());
    db.tickets().assign(id.as_str(), &EngineerId::new("ENG-1"), "nearest", false, "dispatch", at).await.unwrap();
    for to in [TicketState::Accepted, TicketState::EnRoute, TicketState::OnSite] {
        db.tickets().transition(id.as_str(), to, "ENG-1", "", at + 1).await.unwrap();
    }
    db.tickets().resolve_with_report(&id, &report(at + 1), "ENG-1", at + 1).await.unwrap();
    id
}

async fn repeat_repairs_are_counted_and_the_remedy_recorded(db: &Db) {
    for at in [10_000, 20_000, 30_000] {
        repaired(db, "PMP-R", "SEAL_LEAK", TicketKind::Repair, at).await;
    }
    // Neither another fault, another unit, a sensor check nor an unresolved ticket counts.
    repaired(db, "PMP-R", "BEARING_WEAR", TicketKind::Repair, 40_000).await;
    repaired(db, "PMP-S", "SEAL_LEAK", TicketKind::Repair, 40_000).await;
    repaired(db, "PMP-R", "SEAL_LEAK", TicketKind::SensorCheck, 40_000).await;
    let prior = db.tickets().prior_repairs(&AssetId::new("PMP-R"), &FaultCode::new("SEAL_LEAK")).await.unwrap();
    assert_eq!(prior, [10_001, 20_001, 30_001], "resolution times of the earlier repairs");
    let (remedy, note) = upkeep::tickets::remedy::decide(
        TicketKind::Repair,
        &AssetId::new("PMP-R"),
        &FaultCode::new("SEAL_LEAK"),
        &prior,
        3,
    );
    assert_eq!(remedy, Remedy::ExchangeOrRefund);
    let after = AfterSales {
        warranty: Warranty::OutOfWarranty,
        warranty_note: "warranty ended".into(),
        remedy,
        remedy_note: note.clone(),
    };
    let mut o = opening(db, &new_ticket("PMP-R", "SEAL_LEAK"), 50_000).await;
    o.set_after_sales(&after).await.unwrap();
    let id = o.commit().await.unwrap();
    let d = db.tickets().ticket(id.as_str()).await.unwrap().unwrap();
    assert_eq!(
        (d.ticket.after_sales.remedy, d.ticket.after_sales.remedy_note.as_str()),
        (Remedy::ExchangeOrRefund, note.as_str())
    );
    assert_eq!(
        (d.ticket.after_sales.warranty, d.ticket.after_sales.warranty_note.as_str()),
        (Warranty::OutOfWarranty, "warranty ended")
    );
    let last = d.events.last().unwrap();
    assert_eq!(last.kind, upkeep::tickets::EventKind::Assessed);
    assert!(last.detail.starts_with("out_of_warranty: warranty ended; exchange_or_refund: "), "{}", last.detail);
}

async fn quoted_work_starts_only_once_the_customer_accepts(db: &Db) {
    // Without a quote, nothing to accept.
    let plain = opened(db.tickets().open_or_append(&new_ticket("PMP-P", "BEARING_WEAR"), 1, true).await.unwrap());
    assert!(matches!(db.tickets().accept_quote(&plain, "customer", 4).await, Err(StoreError::NoQuoteToAccept(_))));
    let line = QuoteLine { item: "labour, skill level 2".into(), qty: 3.0, unit_price: 80.0, amount: 240.0 };
    let quote = Quote { currency: "EUR".into(), lines: vec![line], total: 240.0 };
    let mut o = opening(db, &new_ticket("PMP-Q", "BEARING_WEAR"), 1).await;
    o.quote(&quote).await.unwrap();
    let id = o.commit().await.unwrap();
    db.tickets().assign(id.as_str(), &EngineerId::new("ENG-1"), "nearest", false, "dispatch", 2).await.unwrap();
    db.tickets().transition(id.as_str(), TicketState::Accepted, "ENG-1", "", 3).await.unwrap();
    let err = db.tickets().transition(id.as_str(), TicketState::EnRoute, "ENG-1", "", 5).await.unwrap_err();
    assert!(matches!(err, StoreError::QuoteNotAccepted(_)), "{err}");
    db.tickets().accept_quote(&id, "customer", 6).await.unwrap();
    assert!(
        matches!(db.tickets().accept_quote(&id, "customer", 7).await, Err(StoreError::NoQuoteToAccept(_))),
        "accepted once"
    );
    db.tickets().transition(id.as_str(), TicketState::EnRoute, "ENG-1", "", 8).await.unwrap();
    let d = db.tickets().ticket(id.as_str()).await.unwrap().unwrap();
    assert_eq!((d.ticket.after_sales.quote.as_ref(), d.ticket.after_sales.quote_accepted_at), (Some(&quote), Some(6)));
    let kinds: Vec<&str> = d.events.iter().map(|e| e.kind.as_str()).collect();
    assert_eq!(kinds, ["opened", "quoted", "assigned", "transition", "quote_accepted", "transition"]);
}

async fn engineer_loads_count_open_tickets(db: &Db) {
    for (asset, eng) in [("A-1", "ENG-7"), ("A-2", "ENG-7"), ("A-3", "ENG-8")] {
        let id = opened(db.tickets().open_or_append(&new_ticket(asset, "F"), 1, true).await.unwrap());
        db.tickets().assign(id.as_str(), &EngineerId::new(eng), "", false, "dispatch", 2).await.unwrap();
    }
    let loads = db.tickets().engineer_loads().await.unwrap();
    assert_eq!(loads.get(&EngineerId::new("ENG-7")), Some(&2));
    assert_eq!(loads.get(&EngineerId::new("ENG-8")), Some(&1));
}

async fn declines_and_absences_are_recorded(db: &Db) {
    let eng = EngineerId::new("ENG-D");
    let id = opened(db.tickets().open_or_append(&new_ticket("A-D", "F"), 1, true).await.unwrap());
    db.tickets().assign(id.as_str(), &eng, "", false, "dispatch", 2).await.unwrap();
    let other = db.tickets().decline(id.as_str(), &EngineerId::new("ENG-X"), "not mine", 3).await;
    assert!(matches!(other, Err(StoreError::NotHolder { .. })), "{other:?}");
    let t = db.tickets().decline(id.as_str(), &eng, "no ladder", 3).await.unwrap();
    assert_eq!((t.state, t.assignment.engineer_id), (TicketState::Open, None));
    assert!(matches!(
        db.tickets().decline(id.as_str(), &eng, "again", 4).await,
        Err(StoreError::InvalidTransition { .. })
    ));
    assert_eq!(db.tickets().decliners().await.unwrap().get(&id), Some(&vec![eng.clone()]));
    // SLA flags are raised once per ticket.
    let due = db.tickets().nearing_resolution_deadline(i64::MAX).await.unwrap();
    assert!(due.iter().any(|t| t.id == id));
    db.tickets().flag(&id, upkeep::tickets::EventKind::ResolutionAtRisk, "test", 5).await.unwrap();
    let due = db.tickets().nearing_resolution_deadline(i64::MAX).await.unwrap();
    assert!(!due.iter().any(|t| t.id == id), "flagged once");
    assert!(!db.tickets().report_overdue(i64::MAX).await.unwrap().contains(&id), "not on site");

    db.tickets().set_unavailable(&eng, 10, 20, "off sick", "dispatcher").await.unwrap();
    db.tickets().set_unavailable(&eng, 10, 30, "still off sick", "dispatcher").await.unwrap();
    assert!(db.tickets().unavailable_engineers(9).await.unwrap().is_empty());
    assert_eq!(
        db.tickets().unavailable_engineers(25).await.unwrap(),
        vec![eng.clone()],
        "the later absence replaced the first"
    );
    assert!(db.tickets().unavailable_engineers(30).await.unwrap().is_empty());
    assert!(db.tickets().set_available(&eng).await.unwrap());
    assert!(!db.tickets().set_available(&eng).await.unwrap());

    let (here, there) = (GeoPoint { lat: 50.1, lon: 8.6 }, GeoPoint { lat: 52.5, lon: 13.4 });
    assert!(db.positions().set_position(&eng, 100, here).await.unwrap());
    assert!(!db.positions().set_position(&eng, 50, there).await.unwrap(), "an older report is ignored");
    assert_eq!(db.positions().engineer_positions(0).await.unwrap(), vec![(eng.clone(), here, 100)]);
    assert!(db.positions().set_position(&eng, 200, there).await.unwrap());
    assert_eq!(db.positions().engineer_positions(0).await.unwrap(), vec![(eng.clone(), there, 200)]);
    assert!(db.positions().engineer_positions(201).await.unwrap().is_empty(), "stale at start: not restored");
}

/// Depots as dispatch orders them for a site: `(id, km)`, nearest first,
/// each arriving an hour per km after detection.
fn deliveries(list: &[(&str, f64)]) -> Vec<Delivery> {
    list.iter()
        .map(|(id, km)| Delivery { depot: DepotId::new(*id), km: *km, eta: 1_000 + (km * 3_600_000.0) as i64 })
        .collect()
}

/// An on-site deadline no depot misses, and a purchase in 7 days.
const DUE: i64 = 1_000 + 24 * 3_600_000;
const PURCHASE: (i64, u32) = (1_000 + 7 * 86_400_000, 7);

fn depot(id: &str, part: &str, qty: u32) -> Depot {
    Depot {
        id: DepotId::new(id),
        name: id.into(),
        class: DepotClass::B,
        location: GeoPoint { lat: 50.0, lon: 10.0 },
        stock: BTreeMap::from([(PartNumber::new(part), qty)]),
    }
}

/// Opens a ticket for `asset` and reserves `need` in its opening.
async fn opened_with(
    db: &Db,
    asset: &str,
    need: &PartRef,
    order: &[Delivery],
) -> (TicketId, upkeep::dispatch::PartLine) {
    let mut o = opening(db, &new_ticket(asset, "F"), 1).await;
    let line = o.reserve_part(need, order, DUE, PURCHASE).await.unwrap();
    (o.commit().await.unwrap(), line)
}

async fn parts_are_reserved_nearest_first_then_requested(db: &Db) {
    db.stock().seed_stock(&[depot("near", "BRG", 1), depot("far", "BRG", 5)]).await.unwrap();
    db.stock().seed_stock(&[depot("near", "BRG", 99)]).await.unwrap();
    let order = deliveries(&[("near", 1.0), ("far", 30.0)]);
    let need = PartRef { part: PartNumber::new("BRG"), qty: 2 };
    let (t1, line) = opened_with(db, "B-1", &need, &order).await;
    assert_eq!(line.depot_id.as_deref(), Some("far"), "near holds only 1 of the 2 needed");
    assert!(line.note.starts_with("transfer from far (30.0 km away)"), "{}", line.note);
    assert!(line.note.contains("6.0 h after the on-site deadline"), "due in 24 h, there in 30: {}", line.note);
    assert_eq!(line.eta, Some(1_000 + 30 * 3_600_000));
    assert_eq!(
        db.stock().on_hand(&DepotId::new("near"), &PartNumber::new("BRG")).await.unwrap(),
        1,
        "re-seeding keeps live stock"
    );
    let one = PartRef { part: PartNumber::new("BRG"), qty: 1 };
    assert_eq!(opened_with(db, "B-2", &one, &order).await.1.depot_id.as_deref(), Some("near"));
    let big = PartRef { part: PartNumber::new("BRG"), qty: 10 };
    let (_, req) = opened_with(db, "B-3", &big, &order).await;
    assert_eq!((req.status.as_str(), req.depot_id, req.eta), ("requested", None, Some(PURCHASE.0)));
    assert!(req.note.contains("purchase request raised, supplier lead time 7 d"), "{}", req.note);
    assert_eq!(db.tickets().ticket_parts(t1.as_str()).await.unwrap().len(), 1);
    assert_eq!(db.stock().on_hand(&DepotId::new("far"), &PartNumber::new("BRG")).await.unwrap(), 3);

    // An opening that never commits (the engine stopped half-way) leaves
    // neither a ticket nor stock taken.
    let mut dropped = opening(db, &new_ticket("B-4", "F"), 1).await;
    let gone = dropped.id().clone();
    assert_eq!(dropped.reserve_part(&one, &order, DUE, PURCHASE).await.unwrap().depot_id.as_deref(), Some("far"));
    drop(dropped);
    assert!(db.tickets().ticket(gone.as_str()).await.unwrap().is_none());
    // The next opening takes the unit the dropped one had: it was given back
    // (and its row lock released, or this would wait).
    assert_eq!(opened_with(db, "B-5", &one, &order).await.1.depot_id.as_deref(), Some("far"));
    assert_eq!(db.stock().on_hand(&DepotId::new("far"), &PartNumber::new("BRG")).await.unwrap(), 2);
    assert!(db.tickets().ticket(gone.as_str()).await.unwrap().is_none());

    // Cancelling returns reserved parts to their depot; requested ones stay requested.
    db.tickets().transition(t1.as_str(), TicketState::Cancelled, "dispatcher", "false alarm", 9).await.unwrap();
    assert_eq!(db.stock().on_hand(&DepotId::new("far"), &PartNumber::new("BRG")).await.unwrap(), 4);
    assert_eq!(db.tickets().ticket_parts(t1.as_str()).await.unwrap()[0].status, PartStatus::Released);
}

/// The report says which reserved parts were used: those are consumed, the
/// rest go back to their depot.
async fn a_report_consumes_the_parts_used_and_releases_the_rest(db: &Db) {
    db.stock().seed_stock(&[depot("d-rep", "GASKET", 4), depot("d-rep", "FILTER", 4)]).await.unwrap();
    let order = deliveries(&[("d-rep", 1.0)]);
    let mut o = opening(db, &new_ticket("R-1", "LEAK"), 1).await;
    for part in ["GASKET", "FILTER"] {
        o.reserve_part(&PartRef { part: PartNumber::new(part), qty: 2 }, &order, DUE, PURCHASE).await.unwrap();
    }
    let id = o.commit().await.unwrap();
    db.tickets().assign(id.as_str(), &EngineerId::new("ENG-1"), "nearest", false, "dispatch", 2).await.unwrap();
    for to in [TicketState::Accepted, TicketState::EnRoute, TicketState::OnSite] {
        db.tickets().transition(id.as_str(), to, "ENG-1", "", 3).await.unwrap();
    }
    let used = ServiceReport { parts_used: vec![PartUsed { part: "GASKET".into(), qty: 2 }], ..report(4) };
    let filed = db.tickets().resolve_with_report(&id, &used, "ENG-1", 4 + 3 * 3_600_000).await.unwrap();
    assert!(filed.late, "filed 3 h after the repair: late");
    let status: Vec<(String, PartStatus)> =
        db.tickets().ticket_parts(id.as_str()).await.unwrap().into_iter().map(|l| (l.part, l.status)).collect();
    assert_eq!(status, [("FILTER".into(), PartStatus::Released), ("GASKET".into(), PartStatus::Consumed)]);
    let on_hand =
        |p: &'static str| async move { db.stock().on_hand(&DepotId::new("d-rep"), &PartNumber::new(p)).await.unwrap() };
    assert_eq!((on_hand("GASKET").await, on_hand("FILTER").await), (2, 4));
    let t = db.tickets().ticket(id.as_str()).await.unwrap().unwrap().ticket;
    assert_eq!(t.closure.service_report.map(|r| (r.report.cause, r.late)), Some(("worn bearing".into(), true)));
}

/// Many tickets race for the last units: exactly the stock is handed out.
async fn the_last_unit_is_never_oversold(db: &Db) {
    db.stock().seed_stock(&[depot("solo", "LAST", 5)]).await.unwrap();
    let order = deliveries(&[("solo", 1.0)]);
    let tasks: Vec<_> = (0..40)
        .map(|i| {
            let (db, order) = (db.clone(), order.clone());
            tokio::spawn(async move {
                let need = PartRef { part: PartNumber::new("LAST"), qty: 1 };
                opened_with(&db, &format!("R-{i}"), &need, &order).await.1.status
            })
        })
        .collect();
    let mut reserved = 0;
    for t in tasks {
        if t.await.unwrap() == PartStatus::Reserved {
            reserved += 1;
        }
    }
    assert_eq!(reserved, 5);
    assert_eq!(db.stock().on_hand(&DepotId::new("solo"), &PartNumber::new("LAST")).await.unwrap(), 0);
}

/// Concurrent openings for one asset and fault (two engines, a redelivery)
/// yield one ticket.
async fn concurrent_openings_yield_one_ticket(db: &Db) {
    let tasks: Vec<_> = (0..16)
        .map(|i| {
            let db = db.clone();
            tokio::spawn(async move {
                loop {
                    match db.tickets().open_or_append(&new_ticket("RACE-1", "BEARING_WEAR"), i, true).await {
                        Ok(o) => return o,
                        Err(e) => eprintln!("retrying after {e}"),
                    }
                }
            })
        })
        .collect();
    let mut opened_count = 0;
    for t in tasks {
        if matches!(t.await.unwrap(), OpenOutcome::Opened(_)) {
            opened_count += 1;
        }
    }
    assert_eq!(opened_count, 1);
    let all = db
        .tickets()
        .list_tickets(&TicketFilter { asset: Some(AssetId::new("RACE-1")), limit: 100, ..Default::default() })
        .await
        .unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(all[0].evidence_count, 16);
}

async fn dead_letters_keep_the_raw_bytes(db: &Db) {
    let letter = DeadLetter {
        id: "dl-1".into(),
        received_at: 42,
        topic: "upkeep/telemetry/X".into(),
        reason: DeadLetterReason::InvalidJson,
        detail: "EOF".into(),
        payload: vec![0, 159, 146, 150, b'{'],
    };
    db.dead_letters().insert_dead_letter(&letter).await.unwrap();
    assert_eq!(db.dead_letters().dead_letters(None, 10, 0).await.unwrap(), vec![letter.clone()]);
    assert!(db.dead_letters().dead_letters(Some(DeadLetterReason::Oversize), 10, 0).await.unwrap().is_empty());
}

async fn suite(db: Db) {
    one_open_ticket_per_asset_and_fault(&db).await;
    lifecycle_is_validated_and_recorded(&db).await;
    repeat_repairs_are_counted_and_the_remedy_recorded(&db).await;
    quoted_work_starts_only_once_the_customer_accepts(&db).await;
    a_report_consumes_the_parts_used_and_releases_the_rest(&db).await;
    engineer_loads_count_open_tickets(&db).await;
    declines_and_absences_are_recorded(&db).await;
    parts_are_reserved_nearest_first_then_requested(&db).await;
    the_last_unit_is_never_oversold(&db).await;
    concurrent_openings_yield_one_ticket(&db).await;
    dead_letters_keep_the_raw_bytes(&db).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn store_on_sqlite() {
    let (db, _dir) = common::sqlite().await;
    suite(db).await;
}

#[cfg_attr(no_postgres, ignore = "needs UPKEEP_TEST_DATABASE_URL (PostgreSQL)")]
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn store_on_postgres() {
    let url = common::server("UPKEEP_TEST_DATABASE_URL");
    suite(common::postgres(&url).await).await;
}

#[tokio::test]
async fn migrations_run_once_and_reconnecting_keeps_data() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("m.db").display());
    let db = Db::connect(&url.parse().expect("a database URL"), 2).await.unwrap();
    opened(db.tickets().open_or_append(&new_ticket("M-1", "F"), 1, true).await.unwrap());
    drop(db);
    let again = Db::connect(&url.parse().expect("a database URL"), 2).await.unwrap();
    assert_eq!(again.tickets().list_tickets(&TicketFilter { limit: 10, ..Default::default() }).await.unwrap().len(), 1);
}
