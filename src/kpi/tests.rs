//! Known-answer tests of the KPIs on hand-built ticket histories. Times are
//! offsets from `base()`, Monday 2026-11-02 00:00 UTC; each test writes out
//! the arithmetic behind its expected numbers.

use super::*;
use crate::dispatch::{PartStatus, StockLevel};
use crate::fleet::{Asset, DepotClass, Engineer, Fleet, FleetFile, Part, Shift};
use crate::model::{AssetId, DepotId, EngineerId, GeoPoint, PartNumber, SkillName, TicketKind};
use crate::tickets::EventKind;
use chrono::{NaiveDate, NaiveTime, TimeZone, Utc, Weekday};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::{BTreeMap, HashMap};
use RateKpi::*;
use TicketState as S;

const MIN: i64 = 60_000;
const H: i64 = HOUR_MS;
const D: i64 = DAY_MS;

/// Monday 2026-11-02 00:00 UTC.
fn base() -> EpochMs {
    Utc.with_ymd_and_hms(2026, 11, 2, 0, 0, 0).unwrap().timestamp_millis()
}

/// What a ticket is about: the KPIs group by site, model and severity, and
/// match repeats by asset and fault.
#[derive(Clone, Copy)]
struct On<'a> {
    site: &'a str,
    asset: &'a str,
    model: &'a str,
    fault: &'a str,
    severity: Severity,
}

const PUMP: On<'static> = On { site: "S1", asset: "A1", model: "pump", fault: "BEARING", severity: Severity::Major };

/// An open repair ticket detected at `detected`, response due 4 h and on
/// site due 24 h later, with its `opened` event.
fn ticket(id: &str, on: On, detected: EpochMs) -> TicketHistory {
    let ticket = Ticket {
        severity: on.severity,
        ..crate::tickets::fixtures::ticket(id, on.asset, on.model, on.fault, detected)
    };
    let opened = EventRecord {
        seq: 1,
        at: detected,
        kind: EventKind::Opened,
        from_state: None,
        to_state: Some(S::Open),
        actor: "engine".into(),
        detail: ticket.description.clone(),
        engineer_id: None,
    };
    TicketHistory { ticket, site: SiteId::new(on.site), events: vec![opened], parts: Vec::new(), reports: Vec::new() }
}

/// Moves the ticket through `steps`, one transition event each.
fn walk(mut h: TicketHistory, steps: &[(TicketState, EpochMs)]) -> TicketHistory {
    for &(to, at) in steps {
        let from = h.ticket.state;
        assert!(from.can_become(to), "test history steps {from} -> {to}");
        h.events.push(EventRecord {
            seq: h.events.len() as i64 + 1,
            at,
            kind: EventKind::Transition,
            from_state: Some(from),
            to_state: Some(to),
            actor: "test".into(),
            detail: String::new(),
            engineer_id: None,
        });
        h.ticket.state = to;
        h.ticket.updated_at = at;
    }
    h
}

/// Assigned and accepted at `at`.
fn accepted(h: TicketHistory, at: EpochMs) -> TicketHistory {
    walk(h, &[(S::Assigned, at), (S::Accepted, at)])
}

/// Accepted at `accepted_at`, on its way at once, on site at `at`.
fn on_site(h: TicketHistory, accepted_at: EpochMs, at: EpochMs) -> TicketHistory {
    walk(accepted(h, accepted_at), &[(S::EnRoute, accepted_at), (S::OnSite, at)])
}

/// Accepted and on site at detection, resolved at `at`.
fn resolved(h: TicketHistory, at: EpochMs) -> TicketHistory {
    let detected = h.ticket.due.detected_at;
    walk(on_site(h, detected, detected), &[(S::Resolved, at)])
}

fn due(mut h: TicketHistory, response: EpochMs, on_site: EpochMs) -> TicketHistory {
    h.ticket.due.response_due = response;
    h.ticket.due.on_site_due = on_site;
    h
}

fn part(number: &str, depot: Option<&str>) -> PartLine {
    PartLine {
        part: number.into(),
        qty: 1,
        depot_id: depot.map(Into::into),
        status: if depot.is_some() { PartStatus::Reserved } else { PartStatus::Requested },
        note: String::new(),
        eta: None,
        arrived_at: None,
    }
}

fn group(site: &str, model: &str, severity: Severity) -> Group {
    Group { site: SiteId::new(site), model: ModelId::new(model), severity }
}

/// (start, met, total) of one KPI's rows, in row order.
fn kpi_rows(rows: &[RateRow], kpi: RateKpi) -> Vec<(EpochMs, u64, u64)> {
    rows.iter().filter(|r| r.kpi == kpi).map(|r| (r.start, r.met, r.total)).collect()
}

/// (met, total) of one KPI over all rows.
fn tally(rows: &[RateRow], kpi: RateKpi) -> (u64, u64) {
    rows.iter().filter(|r| r.kpi == kpi).fold((0, 0), |(m, t), r| (m + r.met, t + r.total))
}

fn asset(id: &str, model: &str, site: &str, lat: f64, lon: f64) -> Asset {
    Asset {
        id: AssetId::new(id),
        model: ModelId::new(model),
        serial: format!("SN-{id}"),
        customer: "ACME".into(),
        site: SiteId::new(site),
        location: GeoPoint { lat, lon },
        installed: NaiveDate::from_ymd_opt(2025, 1, 15).unwrap(),
        warranty_until: NaiveDate::from_ymd_opt(2027, 1, 15).unwrap(),
        history: Vec::new(),
        exclusions: Vec::new(),
    }
}

fn engineer(id: &str, shift: Shift, capacity: u32) -> Engineer {
    Engineer {
        id: EngineerId::new(id),
        name: id.into(),
        base: GeoPoint { lat: 50.0, lon: 10.0 },
        skills: BTreeMap::from([(SkillName::new("mechanical"), 2)]),
        shift,
        capacity,
        days_off: Vec::new(),
        flying: false,
        position: None,
        contact: None,
    }
}

fn catalogue_part(number: &str, class: DepotClass, safety_stock: u32) -> Part {
    Part {
        number: PartNumber::new(number),
        description: number.into(),
        class,
        list_price: 10.0,
        safety_stock,
        lead_time_days: 2,
    }
}

fn fleet(assets: Vec<Asset>, engineers: Vec<Engineer>, parts: Vec<Part>) -> Fleet {
    Fleet::new(FleetFile {
        assets,
        engineers,
        depots: Vec::new(),
        parts,
        contracts: Vec::new(),
        sites: Vec::new(),
        customers: Vec::new(),
    })
    .unwrap()
}

fn hm(h: u32, m: u32) -> NaiveTime {
    NaiveTime::from_hms_opt(h, m, 0).unwrap()
}

#[test]
fn the_base_time_is_a_monday_at_midnight_utc() {
    // 2026-11-02 is 20 759 days after 1970-01-01: 20_759 * 86_400_000 = 1_793_577_600_000 ms.
    assert_eq!(base(), 20_759 * D);
    assert_eq!(base(), 1_793_577_600_000);
    let at = chrono::DateTime::from_timestamp_millis(base()).unwrap();
    assert_eq!(chrono::Datelike::weekday(&at), Weekday::Mon);
}

#[test]
fn periods_start_at_utc_hour_and_day_boundaries() {
    let b = base();
    // b + 5 h 12 min 0.123 s lies in hour b + 5 h and day b.
    let t = b + 5 * H + 12 * MIN + 123;
    assert_eq!(Period::Hour.start_of(t), b + 5 * H);
    assert_eq!(Period::Day.start_of(t), b);
    assert_eq!(Period::Day.start_of(b), b);
    // Before the epoch the period still starts at or before t: -1 ms is in the hour from -3_600_000.
    assert_eq!(Period::Hour.start_of(-1), -H);
    assert_eq!((Period::Hour.as_str(), Period::Day.as_str()), ("1h", "1d"));
}

#[test]
fn reached_is_the_first_entry_into_a_state() {
    let b = base();
    // Assigned at +1 h, declined (back to open) at +2 h, assigned again at +3 h, accepted at +4 h.
    let h = walk(
        ticket("T1", PUMP, b),
        &[(S::Assigned, b + H), (S::Open, b + 2 * H), (S::Assigned, b + 3 * H), (S::Accepted, b + 4 * H)],
    );
    assert_eq!(h.reached(S::Open), Some(b));
    assert_eq!(h.reached(S::Assigned), Some(b + H));
    assert_eq!(h.reached(S::Accepted), Some(b + 4 * H));
    assert_eq!(h.reached(S::OnSite), None);
    assert_eq!(h.group(), group("S1", "pump", Severity::Major));
}

#[test]
fn response_1h_is_met_by_acceptance_up_to_and_including_the_hour() {
    let b = base();
    let d = b + 10 * H;
    let hs = [
        // accepted after 59 min: met, decided at 10:59 (hour 10)
        accepted(ticket("T1", On { asset: "A1", ..PUMP }, d), d + 59 * MIN),
        // accepted at exactly 1 h: met, decided at 11:00 (hour 11)
        accepted(ticket("T2", On { asset: "A2", ..PUMP }, d), d + H),
        // accepted 1 ms late: missed, decided when the hour closed at 11:00 (hour 11)
        accepted(ticket("T3", On { asset: "A3", ..PUMP }, d), d + H + 1),
    ];
    let rows = rates(&hs, Period::Hour, b, b + 2 * D);
    assert_eq!(kpi_rows(&rows, Response1h), [(b + 10 * H, 1, 1), (b + 11 * H, 1, 2)]);
    assert!(rows.iter().all(|r| r.period == Period::Hour && r.group == group("S1", "pump", Severity::Major)));
}

#[test]
fn response_1h_waits_for_the_hour_to_close_before_counting_a_miss() {
    let b = base();
    let d = b + 10 * H;
    let waiting = [ticket("T1", PUMP, d)];
    // now = 10:59:59.999, the hour is still open: not counted at all.
    assert!(kpi_rows(&rates(&waiting, Period::Hour, b, d + H - 1), Response1h).is_empty());
    // now = 12:30: missed, counted at the deadline 11:00, not at now.
    assert_eq!(kpi_rows(&rates(&waiting, Period::Hour, b, d + 2 * H + 30 * MIN), Response1h), [(d + H, 0, 1)]);
    // Accepted at 10:20, now = 10:30: met already although the hour runs on.
    let early = [accepted(ticket("T2", PUMP, d), d + 20 * MIN)];
    assert_eq!(kpi_rows(&rates(&early, Period::Hour, b, d + 30 * MIN), Response1h), [(d, 1, 1)]);
}

#[test]
fn completion_24h_is_met_by_resolution_up_to_and_including_24_hours() {
    let b = base();
    let d = b + 6 * H; // every deadline is d + 24 h = b + 1 d + 6 h (day b + 1 d)
    let hs = [
        resolved(ticket("T1", On { asset: "A1", ..PUMP }, d), d + 24 * H), // exactly 24 h: met, day b+1d
        resolved(ticket("T2", On { asset: "A2", ..PUMP }, d), d + 24 * H + 1), // missed at the deadline, day b+1d
        resolved(ticket("T3", On { asset: "A3", ..PUMP }, d), d + 5 * H),  // met at 11:00, day b
        accepted(ticket("T4", On { asset: "A4", ..PUMP }, d), d + H),      // never resolved: missed at the deadline
    ];
    // Day b: T3 met (1/1). Day b+1d: T1 met, T2 and T4 missed (1/3).
    let rows = rates(&hs, Period::Day, b, b + 3 * D);
    assert_eq!(kpi_rows(&rows, Completion24h), [(b, 1, 1), (b + D, 1, 3)]);
    // While T4's 24 h run (now 1 ms before the deadline) it is not counted.
    let open = [hs[3].clone()];
    assert!(kpi_rows(&rates(&open, Period::Day, b, d + 24 * H - 1), Completion24h).is_empty());
}

#[test]
fn response_and_on_site_slas_use_the_tickets_own_deadlines() {
    let b = base();
    let d = b + 8 * H;
    let hs = [
        // T1: response due 08:30, accepted 08:45 -> ResponseSla missed at 08:30 (hour 8);
        //     on site due 20:00, on site 20:00 exactly -> OnSiteSla met at 20:00 (hour 20);
        //     Response1h (due 09:00) met at 08:45 (hour 8).
        on_site(due(ticket("T1", On { asset: "A1", ..PUMP }, d), d + 30 * MIN, d + 12 * H), d + 45 * MIN, d + 12 * H),
        // T2: response due 16:00, accepted 16:00 exactly -> met (hour 16); on site due 20:00,
        //     on site 21:00 -> missed at 20:00 (hour 20); Response1h missed at 09:00 (hour 9).
        on_site(due(ticket("T2", On { asset: "A2", ..PUMP }, d), d + 8 * H, d + 12 * H), d + 8 * H, d + 13 * H),
        // T3: never accepted; response due 10:00 -> missed (hour 10); on site due d + 48 h =
        //     b + 2 d + 8 h -> missed there; Response1h missed at 09:00 (hour 9).
        due(ticket("T3", On { asset: "A3", ..PUMP }, d), d + 2 * H, d + 48 * H),
    ];
    let rows = rates(&hs, Period::Hour, b, b + 3 * D);
    assert_eq!(kpi_rows(&rows, ResponseSla), [(b + 8 * H, 0, 1), (b + 10 * H, 0, 1), (b + 16 * H, 1, 1)]);
    assert_eq!(kpi_rows(&rows, OnSiteSla), [(b + 20 * H, 1, 2), (b + 2 * D + 8 * H, 0, 1)]);
    assert_eq!(kpi_rows(&rows, Response1h), [(b + 8 * H, 1, 1), (b + 9 * H, 0, 2)]);
}

#[test]
fn cancelled_tickets_count_for_no_rate_kpi() {
    let b = base();
    // T1 never accepted, parts reserved, cancelled after every deadline passed;
    // T2 accepted within the hour (would be met), then cancelled.
    let mut t1 = ticket("T1", On { asset: "A1", ..PUMP }, b + H);
    t1.parts = vec![part("BRG-6205", Some("D1"))];
    let hs = [
        walk(t1, &[(S::Cancelled, b + 2 * D)]),
        walk(accepted(ticket("T2", On { asset: "A2", ..PUMP }, b + H), b + H + 10 * MIN), &[(S::Cancelled, b + 3 * H)]),
    ];
    assert_eq!(rates(&hs, Period::Day, b, b + 5 * D), []);
    assert_eq!(rates(&hs, Period::Hour, b, b + 5 * D), []);
}

#[test]
fn parts_24h_counts_only_tickets_that_need_parts() {
    let b = base();
    let d = b + 3 * H;
    // T1 needs no parts: never counted.
    let t1 = ticket("T1", On { asset: "A1", ..PUMP }, d);
    // T2: both lines recorded as arrived, the later at d + 5 h: met then (hour 8).
    let mut t2 = ticket("T2", On { asset: "A2", ..PUMP }, d);
    t2.parts = vec![part("BRG-6205", Some("D1")), part("SEAL-20", Some("D2"))];
    t2.parts[0].arrived_at = Some(d + 2 * H);
    t2.parts[1].arrived_at = Some(d + 5 * H);
    // T3: one line never arrived: missed, decided at d + 24 h = b + 1 d + 3 h.
    let mut t3 = ticket("T3", On { asset: "A3", ..PUMP }, d);
    t3.parts = vec![part("BRG-6205", Some("D1")), part("SEAL-20", None)];
    t3.parts[0].arrived_at = Some(d + H);
    // T4: no arrival recorded, the engineer on site at d + 20 h with them: met then (hour 23).
    let mut t4 = on_site(ticket("T4", On { asset: "A4", ..PUMP }, d), d + 10 * H, d + 20 * H);
    t4.parts = vec![part("BRG-6205", Some("D1"))];
    let hs = [t1, t2, t3, t4];
    assert_eq!(
        kpi_rows(&rates(&hs, Period::Hour, b, d + 24 * H - 1), Parts24h),
        [(b + 8 * H, 1, 1), (b + 23 * H, 1, 1)]
    );
    // Missed once the 24 hours have passed.
    assert_eq!(
        kpi_rows(&rates(&hs, Period::Hour, b, d + 24 * H + 1), Parts24h),
        [(b + 8 * H, 1, 1), (b + 23 * H, 1, 1), (b + D + 3 * H, 0, 1)]
    );
}

#[test]
fn first_time_fix_is_missed_only_by_the_same_fault_on_the_same_unit_within_30_days() {
    let b = base();
    let r = b + D; // every first ticket is detected at r - 5 h and resolved at r
    let first = |id: &str, asset: &'static str| resolved(ticket(id, On { asset, ..PUMP }, r - 5 * H), r);
    let hs = [
        first("T1", "A1"),
        ticket("R1", On { asset: "A1", ..PUMP }, r + 10 * D), // same unit and fault after 10 d: T1 missed
        first("T2", "A2"),
        ticket("R2", On { asset: "A2", fault: "SEAL", ..PUMP }, r + 5 * D), // other fault: T2 met
        first("T3", "A3"),
        ticket("R3", On { asset: "A4", ..PUMP }, r + 2 * D), // other unit: T3 met
        first("T4", "A5"),
        ticket("R4", On { asset: "A5", ..PUMP }, r + 30 * D + 1), // 1 ms past the 30 days: T4 met
        first("T5", "A6"),
        ticket("R5", On { asset: "A6", ..PUMP }, r + 30 * D), // at exactly 30 days: T5 missed
        accepted(ticket("T6", On { asset: "A7", ..PUMP }, r), r + H), // not resolved: not counted
    ];
    // Met: T2, T3, T4 = 3 of 5 decided (R1..R5 are open and count for nothing).
    // Now is long after every 30-day window, so every outcome is known.
    assert_eq!(tally(&rates(&hs, Period::Day, b, r + 61 * D), FirstTimeFix), (3, 5));
}

#[test]
fn first_time_fix_is_counted_at_resolution_and_a_repeat_turns_it_into_a_miss() {
    // mod.rs: a first-time fix counts in the period of the repair; a repeat
    // within 30 days turns it into a miss there (the feed rewrites it).
    let b = base();
    let r = b + 10 * H;
    let t1 = resolved(ticket("T1", PUMP, b + 2 * H), r);
    // now = r + 2 h, no repeat yet: met, on day b.
    assert_eq!(kpi_rows(&rates(std::slice::from_ref(&t1), Period::Day, b, r + 2 * H), FirstTimeFix), [(b, 1, 1)]);
    // The same fault detected again on the unit at b + 3 d: missed, still on day b.
    let repeat = ticket("T2", PUMP, b + 3 * D);
    assert_eq!(kpi_rows(&rates(&[t1, repeat], Period::Day, b, b + 3 * D + H), FirstTimeFix), [(b, 0, 1)]);
}

#[test]
fn rate_rows_of_a_past_period_do_not_change_later_but_for_first_time_fix() {
    // mod.rs: periods are final once passed, except first-time fix, which a
    // repeat within 30 days can still turn into a miss. T1 is detected,
    // accepted, on site and resolved on day b; the same fault comes back at b + 3 d.
    let b = base();
    let t1 = resolved(ticket("T1", PUMP, b + 2 * H), b + 10 * H);
    let day_b = |rows: Vec<RateRow>, ftf: bool| {
        rows.into_iter().filter(|r| r.start == b && (r.kpi == FirstTimeFix) == ftf).collect::<Vec<_>>()
    };
    let before = rates(std::slice::from_ref(&t1), Period::Day, b, b + D + H);
    let after = rates(&[t1, ticket("T2", PUMP, b + 3 * D)], Period::Day, b, b + 3 * D + H);
    assert_eq!(day_b(before.clone(), false), day_b(after.clone(), false));
    assert_eq!(kpi_rows(&day_b(before, true), FirstTimeFix), [(b, 1, 1)]);
    assert_eq!(kpi_rows(&day_b(after, true), FirstTimeFix), [(b, 0, 1)]);
}

#[test]
fn rows_start_at_the_utc_hour_and_day_holding_the_outcome() {
    let b = base();
    let d = b + D + 23 * H + 30 * MIN; // Tuesday 23:30
    let hs = [
        // accepted 23:50 Tue: met in hour b+1d+23h, day b+1d
        accepted(ticket("T1", On { asset: "A1", ..PUMP }, d), d + 20 * MIN),
        // accepted 00:10 Wed: met in hour b+2d, day b+2d
        accepted(ticket("T2", On { asset: "A2", ..PUMP }, d), d + 40 * MIN),
        // never accepted: missed at 00:30 Wed, hour b+2d, day b+2d
        ticket("T3", On { asset: "A3", ..PUMP }, d),
    ];
    let hourly = rates(&hs, Period::Hour, b, b + 3 * D);
    assert_eq!(kpi_rows(&hourly, Response1h), [(b + D + 23 * H, 1, 1), (b + 2 * D, 1, 2)]);
    let daily = rates(&hs, Period::Day, b, b + 3 * D);
    assert_eq!(kpi_rows(&daily, Response1h), [(b + D, 1, 1), (b + 2 * D, 1, 2)]);
    assert!(daily.iter().all(|r| r.period == Period::Day));
}

#[test]
fn rows_are_split_by_site_model_and_severity() {
    let b = base();
    let d = b + 2 * H;
    let met = |id: &str, on: On| accepted(ticket(id, on, d), d + 10 * MIN);
    let hs = [
        met("T1", PUMP),
        // same group as T1, accepted after 2 h: missed at 03:00, same day
        accepted(ticket("T2", On { asset: "A2", ..PUMP }, d), d + 2 * H),
        met("T3", On { site: "S2", asset: "B1", ..PUMP }),
        met("T4", On { asset: "C1", model: "chiller", ..PUMP }),
        met("T5", On { asset: "A3", severity: Severity::Emergency, ..PUMP }),
    ];
    let rows = rates(&hs, Period::Day, b, b + D);
    let got: Vec<_> = rows.iter().filter(|r| r.kpi == Response1h).map(|r| (r.group.clone(), r.met, r.total)).collect();
    // Ordered by site, model, then severity (general < major < emergency).
    assert_eq!(
        got,
        [
            (group("S1", "chiller", Severity::Major), 1, 1),
            (group("S1", "pump", Severity::Major), 1, 2),
            (group("S1", "pump", Severity::Emergency), 1, 1),
            (group("S2", "pump", Severity::Major), 1, 1),
        ]
    );
}

#[test]
fn outcomes_before_the_period_of_from_or_after_now_are_left_out() {
    let b = base();
    let (from, now) = (b + 5 * H + 30 * MIN, b + 8 * H);
    let hs = [
        // met at 04:59: before hour 5 (the hour of `from`), inside day b
        accepted(ticket("T1", On { asset: "A1", ..PUMP }, b + 4 * H + 30 * MIN), b + 4 * H + 59 * MIN),
        // met at 05:00: before `from` but in its hour, so counted
        accepted(ticket("T2", On { asset: "A2", ..PUMP }, b + 4 * H + 30 * MIN), b + 5 * H),
        // accepted at 08:01, after now: left out
        accepted(ticket("T3", On { asset: "A3", ..PUMP }, b + 7 * H + 30 * MIN), b + 8 * H + MIN),
        // not accepted, its hour closes at 08:30, after now: undecided
        ticket("T4", On { asset: "A4", ..PUMP }, b + 7 * H + 30 * MIN),
    ];
    assert_eq!(kpi_rows(&rates(&hs, Period::Hour, from, now), Response1h), [(b + 5 * H, 1, 1)]);
    // The day of `from` starts at b: T1 and T2 both counted.
    assert_eq!(kpi_rows(&rates(&hs, Period::Day, from, now), Response1h), [(b, 2, 2)]);
}

/// A ticket at a random point of its life, in one of a few groups, on one
/// of a few units (so repeats happen), with 0-2 part lines.
fn random_history(rng: &mut StdRng, i: usize) -> TicketHistory {
    const ASSETS: [&str; 4] = ["A1", "A2", "A3", "A4"];
    let on = On {
        site: ["S1", "S2"][rng.random_range(0..2)],
        asset: ASSETS[rng.random_range(0..ASSETS.len())],
        model: ["pump", "chiller"][rng.random_range(0..2)],
        fault: ["BEARING", "SEAL"][rng.random_range(0..2)],
        severity: Severity::ALL[rng.random_range(0..3)],
    };
    let detected = base() + rng.random_range(0..3 * 24 * 60) * MIN;
    let mut h = due(
        ticket(&format!("T{i}"), on, detected),
        detected + rng.random_range(1..8) * H,
        detected + rng.random_range(4..48) * H,
    );
    let path = [S::Assigned, S::Accepted, S::EnRoute, S::OnSite, S::Resolved];
    let mut at = detected;
    let mut steps = Vec::new();
    for &to in &path[..rng.random_range(0..=path.len())] {
        at += rng.random_range(0..12 * 60) * MIN;
        steps.push((to, at));
    }
    h = walk(h, &steps);
    if h.ticket.state.can_become(S::Cancelled) && rng.random_bool(0.15) {
        h = walk(h, &[(S::Cancelled, at + H)]);
    }
    for p in 0..rng.random_range(0..3) {
        h.parts.push(part(&format!("P{p}"), rng.random_bool(0.7).then_some("D1")));
    }
    h
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(64))]
    /// Whatever the tickets, a day's rows are the sums of its hours' rows
    /// (`seed` draws the histories; a failure shrinks to the fewest).
    #[test]
    fn daily_rows_are_the_sums_of_their_hourly_rows(seed in proptest::prelude::any::<u64>(), count in 1..40usize) {
        daily_sums_of_hourly(seed, count);
    }
}

/// The check behind `daily_rows_are_the_sums_of_their_hourly_rows`.
fn daily_sums_of_hourly(seed: u64, count: usize) {
    let b = base();
    let mut rng = StdRng::seed_from_u64(seed);
    let hs: Vec<_> = (0..count).map(|i| random_history(&mut rng, i)).collect();
    let now = b + 3 * D + rng.random_range(0..24 * 60) * MIN;
    // `from` on a day boundary, so the hourly and daily windows start together.
    let mut summed: BTreeMap<(RateKpi, EpochMs, Group), (u64, u64)> = BTreeMap::new();
    for r in rates(&hs, Period::Hour, b, now) {
        let s = summed.entry((r.kpi, Period::Day.start_of(r.start), r.group)).or_default();
        s.0 += r.met;
        s.1 += r.total;
    }
    let daily: BTreeMap<_, _> =
        rates(&hs, Period::Day, b, now).into_iter().map(|r| ((r.kpi, r.start, r.group), (r.met, r.total))).collect();
    assert_eq!(summed, daily, "seed {seed}");

    let mut summed: BTreeMap<(EpochMs, Group), (u64, f64)> = BTreeMap::new();
    for r in repair_times(&hs, Period::Hour, b, now) {
        let s = summed.entry((Period::Day.start_of(r.start), r.group)).or_default();
        s.0 += r.tickets;
        s.1 += r.hours_sum;
    }
    let daily = repair_times(&hs, Period::Day, b, now);
    assert_eq!(daily.len(), summed.len(), "seed {seed}");
    for r in daily {
        let (tickets, hours) = summed[&(r.start, r.group.clone())];
        assert_eq!(r.tickets, tickets, "seed {seed}");
        assert!((r.hours_sum - hours).abs() < 1e-9, "seed {seed}: {} vs {hours}", r.hours_sum);
    }
}

#[test]
fn repair_times_average_detection_to_resolution_by_the_period_resolved_in() {
    let b = base();
    let hs = [
        resolved(ticket("T1", On { asset: "A1", ..PUMP }, b), b + 10 * H), // 10 h, resolved day b, hour 10
        resolved(ticket("T2", On { asset: "A2", ..PUMP }, b - 4 * H), b + 14 * H), // 18 h, day b, hour 14
        resolved(ticket("T3", On { asset: "A3", ..PUMP }, b + D), b + D + 2 * H), // 2 h, day b+1d, hour b+1d+2h
        accepted(ticket("T4", On { asset: "A4", ..PUMP }, b + H), b + 2 * H), // not resolved
        resolved(ticket("T5", On { asset: "A5", ..PUMP }, b - 2 * D), b - H), // resolved before day b
        resolved(ticket("T6", On { asset: "A6", ..PUMP }, b + D + 20 * H), b + 2 * D + H), // after now
    ];
    let now = b + 2 * D;
    let rows = |p| -> Vec<_> {
        repair_times(&hs, p, b, now).into_iter().map(|r| (r.start, r.tickets, r.hours_sum, r.mean_hours())).collect()
    };
    // Day b: (10 + 18) / 2 = 14 h; day b+1d: 2 h.
    assert_eq!(rows(Period::Day), [(b, 2, 28.0, 14.0), (b + D, 1, 2.0, 2.0)]);
    assert_eq!(
        rows(Period::Hour),
        [(b + 10 * H, 1, 10.0, 10.0), (b + 14 * H, 1, 18.0, 18.0), (b + D + 2 * H, 1, 2.0, 2.0)]
    );
}

/// `h` with customers' calls at `calls` (time, the engine's lead; `None`: the call opened it).
fn called(mut h: TicketHistory, calls: &[(EpochMs, Option<i64>)]) -> TicketHistory {
    h.reports = calls
        .iter()
        .map(|&(reported_at, engine_lead_ms)| crate::tickets::ReportRecord { reported_at, engine_lead_ms })
        .collect();
    h
}

#[test]
fn calls_count_once_at_the_first_and_the_engine_is_first_only_with_a_lead() {
    let b = base();
    let hs = [
        // T1: detected at b, called at b + 5 h (lead 5 h), called again later: one call counted.
        called(ticket("T1", On { asset: "A1", ..PUMP }, b), &[(b + 5 * H, Some(5 * H)), (b + 6 * H, Some(6 * H))]),
        // T2: the call opened it: not first.
        called(ticket("T2", On { asset: "A2", ..PUMP }, b + H), &[(b + H, None)]),
        // T3: detected at b + 3 h, called at b + 4 h: lead 1 h.
        called(ticket("T3", On { asset: "A3", ..PUMP }, b + 3 * H), &[(b + 4 * H, Some(H))]),
        // T4: no call: not counted.
        ticket("T4", On { asset: "A4", ..PUMP }, b),
    ];
    let now = b + D;
    let first: Vec<(u64, u64)> = rates(&hs, Period::Day, b, now)
        .into_iter()
        .filter(|r| r.kpi == DetectedFirst)
        .map(|r| (r.met, r.total))
        .collect();
    assert_eq!(first, [(2, 3)], "T1 and T3 of three called");
    let leads = detection_leads(&hs, Period::Day, b, now);
    assert_eq!(leads.len(), 1);
    let l = &leads[0];
    // (5 h + 1 h) / 2 calls the engine was ahead of = 3 h.
    assert_eq!((l.reported, l.detected_first, l.lead_hours_sum, l.mean_lead_hours()), (3, 2, 6.0, 3.0));
}

#[test]
fn repair_cycles_split_by_kind() {
    let b = base();
    let mut out = resolved(ticket("T1", On { asset: "A1", ..PUMP }, b), b + 10 * H);
    out.ticket.after_sales.warranty = crate::tickets::Warranty::OutOfWarranty;
    let mut exchange = resolved(ticket("T2", On { asset: "A2", ..PUMP }, b), b + 30 * H);
    exchange.ticket.after_sales.remedy = crate::tickets::Remedy::ExchangeOrRefund;
    let warranty = resolved(ticket("T3", On { asset: "A3", ..PUMP }, b), b + 2 * H);
    let rows: Vec<(Cycle, u64, f64)> = repair_times(&[out, exchange, warranty], Period::Day, b, b + 2 * D)
        .into_iter()
        .map(|r| (r.cycle, r.tickets, r.hours_sum))
        .collect();
    // Day b holds the warranty repair (2 h) and the out-of-warranty one (10 h); the exchange ends on day b+1.
    assert_eq!(rows, [(Cycle::WarrantyRepair, 1, 2.0), (Cycle::OutOfWarranty, 1, 10.0), (Cycle::Exchange, 1, 30.0)]);
}

#[test]
fn open_tickets_count_breaches_and_risk_per_group() {
    let b = base();
    let now = b + 12 * H;
    let d = b + 6 * H;
    let pump = |id: &str, response: EpochMs, on_site: EpochMs| due(ticket(id, PUMP, d), response, on_site);
    let flagged = |mut h: TicketHistory| {
        h.ticket.assignment.deadline_at_risk = true;
        h
    };
    let hs = [
        // a: open, deadlines ahead (response 14:00, on site +34 h): nothing
        due(ticket("a", PUMP, b + 10 * H), b + 14 * H, b + 34 * H),
        // b: assigned, not accepted, response due 10:00 passed: response breached
        walk(pump("b", b + 10 * H, b + 30 * H), &[(S::Assigned, d + H)]),
        // c: accepted, on site due 11:00 passed: on-site breached
        accepted(pump("c", b + 10 * H, b + 11 * H), d + H),
        // d: accepted, on site due 13:00, 1 h left: at risk
        accepted(pump("d", b + 10 * H, b + 13 * H), d + H),
        // e: accepted, on site due 14:00, exactly 2 h left: at risk
        accepted(pump("e", b + 10 * H, b + 14 * H), d + H),
        // f: accepted, on site due 14:00 + 1 ms: not at risk
        accepted(pump("f", b + 10 * H, b + 14 * H + 1), d + H),
        // g: accepted, on site due in 18 h but dispatch flagged the deadline: at risk
        flagged(accepted(pump("g", b + 10 * H, b + 30 * H), d + H)),
        // h: on site late (due 11:00, there 11:30): neither breached nor at risk now
        on_site(pump("h", b + 10 * H, b + 11 * H), d + H, b + 11 * H + 30 * MIN),
        // k: open, response due exactly now: not yet past it
        pump("k", now, b + 40 * H),
        // l: flagged but already late on site: breached, not at risk
        flagged(accepted(pump("l", b + 10 * H, b + 11 * H), d + H)),
        // m: flagged but on site: not at risk
        flagged(on_site(pump("m", b + 10 * H, b + 30 * H), d + H, d + 2 * H)),
        // resolved and cancelled tickets are not open
        resolved(pump("n", b + 10 * H, b + 11 * H), d + 3 * H),
        walk(pump("o", b + 10 * H, b + 11 * H), &[(S::Cancelled, d + H)]),
        // another group: open, response due 13:00, on site due 13:30: at risk only
        due(
            ticket("p", On { site: "S2", asset: "B1", severity: Severity::Emergency, ..PUMP }, d),
            b + 13 * H,
            b + 13 * H + 30 * MIN,
        ),
        // a group with only a resolved ticket gets a row of zeros (a dashboard shows 0)
        resolved(ticket("q", On { site: "S3", asset: "C1", ..PUMP }, d), d + H),
    ];
    let rows = open_tickets(&hs, now);
    let expected = BTreeMap::from([
        // open: a b c d e f g h k l m = 11; response breached: b; on site breached: c, l; at risk: d, e, g
        (
            group("S1", "pump", Severity::Major),
            OpenRow { open: 11, at_risk: 3, response_breached: 1, on_site_breached: 2 },
        ),
        (
            group("S2", "pump", Severity::Emergency),
            OpenRow { open: 1, at_risk: 1, response_breached: 0, on_site_breached: 0 },
        ),
        (group("S3", "pump", Severity::Major), OpenRow::default()),
    ]);
    assert_eq!(rows, expected);
}

#[test]
fn repair_rate_counts_repaired_units_per_model_over_the_trailing_30_days() {
    let b = base();
    let now = b + 40 * D;
    let mut assets: Vec<Asset> = (0..100).map(|i| asset(&format!("P{i:03}"), "pump", "S1", 50.0, 10.0)).collect();
    assets.extend((0..10).map(|i| asset(&format!("C{i}"), "chiller", "S1", 50.0, 10.0)));
    assets.extend((0..5).map(|i| asset(&format!("F{i}"), "fan", "S2", 51.0, 11.0)));
    let fleet = fleet(assets, Vec::new(), Vec::new());
    let repair = |id: &str, asset: &'static str, model: &'static str, at: EpochMs| {
        resolved(ticket(id, On { asset, model, ..PUMP }, at - 5 * H), at)
    };
    let mut sensor_check = repair("S8", "P008", "pump", now - D);
    sensor_check.ticket.kind = TicketKind::SensorCheck;
    let hs = [
        repair("T0a", "P000", "pump", now - 10 * D), // P000 repaired twice: one unit
        repair("T0b", "P000", "pump", now - 5 * D),
        repair("T1", "P001", "pump", now - D),
        repair("T2", "P002", "pump", now - D),
        repair("T3", "P003", "pump", now - D),
        repair("T4", "P004", "pump", now - D),
        repair("T5", "P005", "pump", now - D),
        repair("T6", "P006", "pump", now - 30 * D + 1), // 1 ms inside the 30 days
        repair("T7", "P007", "pump", now - 30 * D),     // exactly 30 days ago: outside
        sensor_check,                                   // not a repair
        accepted(ticket("T9", On { asset: "P009", ..PUMP }, now - D), now - D + H), // not resolved
        repair("T10", "P010", "pump", now + H),         // resolved after now
        repair("C0", "C0", "chiller", now - 2 * D),
    ];
    let got: Vec<_> = repair_rate(&fleet, &hs, now)
        .iter()
        .map(|r| (r.model.to_string(), r.units, r.repaired_units, r.rate(), r.flagged()))
        .collect();
    // chiller 1/10 = 10% > 7%: flagged; fan 0/5; pump P000..P006 = 7/100 = 7%: not above 7%, not flagged.
    assert_eq!(
        got,
        [
            ("chiller".to_owned(), 10, 1, 0.1, true),
            ("fan".to_owned(), 5, 0, 0.0, false),
            ("pump".to_owned(), 100, 7, 0.07, false),
        ]
    );
}

#[test]
fn a_model_is_flagged_only_above_seven_percent() {
    let rate = |units, repaired_units| ModelRate { model: ModelId::new("pump"), units, repaired_units };
    assert_eq!(REPAIR_RATE_FLAG, 0.07);
    assert!(!rate(100, 7).flagged()); // 7 / 100 = 7%: not above
    assert!(rate(100, 8).flagged()); // 8%
    assert!(rate(14, 1).flagged()); // 1 / 14 = 7.14%
    assert!(!rate(15, 1).flagged()); // 1 / 15 = 6.67%
    assert_eq!(rate(0, 0).rate(), 0.0); // a model without units divides by 1
}

#[test]
fn fault_shares_sum_to_one_most_frequent_first() {
    let b = base();
    let now = b + 40 * D;
    let mut n = 0;
    let mut detected = |fault: &'static str, at: EpochMs| {
        n += 1;
        ticket(&format!("T{n}"), On { asset: "A1", fault, ..PUMP }, at)
    };
    let hs = [
        detected("BEARING", now - D),
        detected("BEARING", now - 2 * D),
        detected("BEARING", now - 29 * D),
        detected("BEARING", now), // detected at now: inside
        detected("OVERHEAT", now - 3 * D),
        detected("OVERHEAT", now - 4 * D),
        detected("SEAL", now - 3 * D),
        detected("SEAL", now - 30 * D), // exactly 30 days ago: outside
        detected("SEAL", now - 31 * D),
        detected("VIBRATION", now - 5 * D),
        walk(detected("BEARING", now - D), &[(S::Cancelled, now - D + H)]), // cancelled: left out
    ];
    let got: Vec<_> = fault_share(&hs, now).into_iter().map(|r| (r.fault.to_string(), r.tickets, r.share)).collect();
    // 8 tickets: BEARING 4/8, OVERHEAT 2/8, SEAL 1/8, VIBRATION 1/8 (ties by name).
    assert_eq!(
        got,
        [
            ("BEARING".to_owned(), 4, 0.5),
            ("OVERHEAT".to_owned(), 2, 0.25),
            ("SEAL".to_owned(), 1, 0.125),
            ("VIBRATION".to_owned(), 1, 0.125),
        ]
    );
    assert_eq!(got.iter().map(|r| r.2).sum::<f64>(), 1.0);
    assert_eq!(fault_share(&[], now), []);
}

#[test]
fn engineer_load_is_open_tickets_over_capacity_and_the_shift_at_now() {
    use Weekday::*;
    let b = base(); // Monday 00:00
    let fleet = fleet(
        Vec::new(),
        vec![
            engineer("E1", Shift { days: vec![Mon, Tue, Wed, Thu, Fri], start: hm(8, 0), end: hm(16, 0) }, 4),
            engineer("E2", Shift::every_day(hm(22, 0), hm(6, 0)), 2),
            engineer("E3", Shift { days: vec![Sat, Sun], start: hm(0, 0), end: hm(0, 0) }, 5),
        ],
        Vec::new(),
    );
    let loads = HashMap::from([
        (EngineerId::new("E1"), 3),
        (EngineerId::new("E3"), 5),
        (EngineerId::new("E9"), 1), // not in the fleet: no row
    ]);
    let rows = |now| -> Vec<_> {
        engineer_load(&fleet, &loads, now)
            .iter()
            .map(|r| (r.engineer.to_string(), r.open, r.capacity, r.utilisation(), r.on_shift))
            .collect()
    };
    // Monday 09:00: E1 on its day shift, 3/4 = 0.75; E2 off (nights), 0/2; E3 off (weekends), 5/5 = 1.
    assert_eq!(
        rows(b + 9 * H),
        [("E1".to_owned(), 3, 4, 0.75, true), ("E2".to_owned(), 0, 2, 0.0, false), ("E3".to_owned(), 5, 5, 1.0, false),]
    );
    // Monday 23:00: only E2's night shift covers it.
    let on_shift: Vec<bool> = rows(b + 23 * H).into_iter().map(|r| r.4).collect();
    assert_eq!(on_shift, [false, true, false]);
}

#[test]
fn parts_stock_compares_with_the_catalogues_safety_stock() {
    let fleet = fleet(
        Vec::new(),
        Vec::new(),
        vec![catalogue_part("BRG-6205", DepotClass::A, 5), catalogue_part("SEAL-20", DepotClass::C, 2)],
    );
    let level = |depot: &str, part: &str, on_hand| StockLevel {
        depot: DepotId::new(depot),
        part: PartNumber::new(part),
        on_hand,
    };
    let rows = parts_stock(
        &fleet,
        vec![
            level("D1", "BRG-6205", 4),
            level("D2", "BRG-6205", 5),
            level("D1", "SEAL-20", 0),
            level("D1", "XYZ-1", 0),
        ],
    );
    let got: Vec<_> = rows
        .iter()
        .map(|r| (r.level.depot.to_string(), r.level.part.to_string(), r.class.as_str(), r.safety, r.below_safety()))
        .collect();
    let row = |d: &str, p: &str, class, safety, below| (d.to_owned(), p.to_owned(), class, safety, below);
    assert_eq!(
        got,
        [
            row("D1", "BRG-6205", "A", 5, true),     // 4 < 5
            row("D2", "BRG-6205", "A", 5, false),    // 5 = 5: at safety stock, not below
            row("D1", "SEAL-20", "C", 2, true),      // 0 < 2
            row("D1", "XYZ-1", "unknown", 0, false), // not in the catalogue: safety 0
        ]
    );
    assert_eq!(rows[0].level.on_hand, 4);
}

#[test]
fn site_health_locates_sites_and_counts_assets_needing_attention() {
    let b = base();
    let fleet = fleet(
        vec![
            asset("A1", "pump", "S1", 10.0, 20.0),
            asset("A2", "pump", "S1", 12.0, 24.0),
            asset("A3", "chiller", "S1", 14.0, 22.0),
            asset("B1", "pump", "S2", -5.0, 100.0),
            asset("C1", "pump", "S3", 1.0, 2.0),
            asset("C2", "pump", "S3", 3.0, 4.0),
        ],
        Vec::new(),
        Vec::new(),
    );
    let s1 = |id: &str, asset: &'static str, fault: &'static str, severity| {
        ticket(id, On { asset, fault, severity, ..PUMP }, b)
    };
    let hs = [
        s1("T1", "A1", "BEARING", Severity::Major),
        accepted(s1("T2", "A1", "SEAL", Severity::General), b + H), // second open ticket on A1
        s1("T3", "A2", "BEARING", Severity::Emergency),
        resolved(s1("T4", "A3", "BEARING", Severity::Emergency), b + H), // not open
        walk(s1("T5", "A3", "SEAL", Severity::Emergency), &[(S::Cancelled, b + H)]), // not open
        resolved(ticket("T6", On { site: "S2", asset: "B1", ..PUMP }, b), b + H),
        ticket("T7", On { site: "unknown", asset: "X1", ..PUMP }, b), // asset not in the fleet
    ];
    let rows = site_health(&fleet, &hs);
    assert_eq!(rows.iter().map(|r| r.site.as_str()).collect::<Vec<_>>(), ["S1", "S2", "S3"]);
    // S1: mean of (10, 20), (12, 24), (14, 22) = (12, 22); A1 and A2 need attention
    // (3 open tickets), health 1 - 2/3 = 1/3, worst emergency (T3).
    let s1 = &rows[0];
    assert!((s1.latitude - 12.0).abs() < 1e-9 && (s1.longitude - 22.0).abs() < 1e-9, "{s1:?}");
    assert_eq!((s1.assets, s1.assets_attention, s1.open_tickets, s1.worst), (3, 2, 3, Some(Severity::Emergency)));
    assert!((s1.health() - 1.0 / 3.0).abs() < 1e-9);
    // S2: one asset, only a resolved ticket: healthy.
    let s2 = &rows[1];
    assert_eq!((s2.latitude, s2.longitude), (-5.0, 100.0));
    assert_eq!((s2.assets, s2.assets_attention, s2.open_tickets, s2.worst), (1, 0, 0, None));
    assert_eq!(s2.health(), 1.0);
    // S3: mean of (1, 2) and (3, 4) = (2, 3), no tickets.
    let s3 = &rows[2];
    assert!((s3.latitude - 2.0).abs() < 1e-9 && (s3.longitude - 3.0).abs() < 1e-9, "{s3:?}");
    assert_eq!((s3.assets, s3.assets_attention, s3.worst, s3.health()), (2, 0, None, 1.0));
}

#[test]
fn a_report_saying_the_first_visit_did_not_fix_it_is_a_first_time_fix_miss() {
    use crate::tickets::report::{FiledReport, ServiceReport};
    let b = base();
    let r = b + 10 * H;
    let with_report = |id: &str, asset: &'static str, first: bool| {
        let mut h = resolved(ticket(id, On { asset, ..PUMP }, b + 2 * H), r);
        let report = ServiceReport {
            cause: "wear".into(),
            fix: "replaced".into(),
            prevention: String::new(),
            parts_used: Vec::new(),
            first_time_fix: first,
            repaired_at: r,
        };
        h.ticket.closure.service_report =
            Some(FiledReport { report, filed_by: "eng".into(), filed_at: r, late: false });
        h
    };
    // T1 reported fixed first time, T2 not; T3 has no report (counted by repeats only): 2 of 3 met.
    let hs = [
        with_report("T1", "A1", true),
        with_report("T2", "A2", false),
        resolved(ticket("T3", On { asset: "A3", ..PUMP }, b + 2 * H), r),
    ];
    assert_eq!(tally(&rates(&hs, Period::Day, b, r + H), FirstTimeFix), (2, 3));
}

fn followed_up(mut h: TicketHistory, rating: u8, at: EpochMs) -> TicketHistory {
    let f = crate::tickets::report::FollowUp {
        rating,
        comment: String::new(),
        recorded_by: "office".into(),
        recorded_at: at,
    };
    h.ticket.closure.follow_up = Some(f);
    h
}

#[test]
fn follow_ups_count_within_three_days_of_closing_and_satisfaction_from_four_stars() {
    let b = base();
    let closed = |id: &str, asset: &str| {
        walk(resolved(ticket(id, On { asset, ..PUMP }, b), b + 2 * H), &[(S::Closed, b + 3 * H)])
    };
    let hs = [
        followed_up(closed("T1", "A1"), 5, b + D), // called in time, satisfied
        followed_up(closed("T2", "A2"), 2, b + 3 * H + 4 * D), // called after 4 days: late, dissatisfied
        closed("T3", "A3"),                        // never called: missed once 3 days passed
        closed("T4", "A4"),                        // never called, but see `now` below
    ];
    let now = b + 5 * D;
    let count = |kpi| -> (u64, u64) {
        rates(&hs, Period::Day, b, now)
            .iter()
            .filter(|r| r.kpi == kpi)
            .fold((0, 0), |a, r| (a.0 + r.met, a.1 + r.total))
    };
    assert_eq!(count(FollowUp3d), (1, 4), "T1 of four closed tickets");
    assert_eq!(count(Satisfaction), (1, 2), "T1 of the two rated");
}

#[test]
fn the_complaint_rate_is_complaints_over_services_per_model_in_thirty_days() {
    use crate::tickets::complaints::{Complaint, ComplaintKind, ComplaintState};
    let b = base();
    let now = b + 10 * D;
    let hs: Vec<TicketHistory> =
        (0..4).map(|i| resolved(ticket(&format!("T{i}"), On { asset: "A1", ..PUMP }, b + i * H), b + D)).collect();
    let complaint = |kind, at| Complaint {
        id: "CP".into(),
        ticket_id: None,
        engineer_id: None,
        model: Some(crate::model::ModelId::new("pump")),
        asset_id: None,
        customer: "c".into(),
        kind,
        severity: Severity::Major,
        description: String::new(),
        state: ComplaintState::Open,
        received_at: at,
        response_due: at + H,
        responded_at: None,
        response: String::new(),
        resolved_at: None,
        resolution: String::new(),
        answered_at: None,
        recorded_by: "office".into(),
    };
    let complaints = [
        complaint(ComplaintKind::SlowRepair, b + 2 * D),
        complaint(ComplaintKind::SlowRepair, b + 3 * D),
        complaint(ComplaintKind::Billing, b + 4 * D),
        complaint(ComplaintKind::Billing, now - 31 * D), // outside the 30 days
    ];
    let rows = complaint_rates(&hs, &complaints, now);
    assert_eq!(rows.len(), 1);
    // 3 complaints over 4 services.
    assert_eq!((rows[0].services, rows[0].complaints, rows[0].rate()), (4, 3, 0.75));
    assert_eq!(rows[0].kinds, BTreeMap::from([(ComplaintKind::SlowRepair, 2), (ComplaintKind::Billing, 1)]));
}

#[test]
fn the_visit_is_booked_within_an_hour_of_the_first_assignment() {
    let b = base();
    let event = |kind, at| EventRecord {
        seq: 9,
        at,
        kind,
        from_state: None,
        to_state: None,
        actor: "test".into(),
        detail: String::new(),
        engineer_id: None,
    };
    let with = |mut h: TicketHistory, events: &[(EventKind, EpochMs)]| {
        h.events.extend(events.iter().map(|&(k, at)| event(k, at)));
        h
    };
    let hs = [
        with(
            ticket("T1", On { asset: "A1", ..PUMP }, b),
            &[(EventKind::Assigned, b), (EventKind::AppointmentBooked, b + 60 * MIN)],
        ),
        with(
            ticket("T2", On { asset: "A2", ..PUMP }, b),
            &[(EventKind::Assigned, b), (EventKind::AppointmentBooked, b + 61 * MIN)],
        ),
        with(ticket("T3", On { asset: "A3", ..PUMP }, b), &[(EventKind::Assigned, b)]), // never booked: missed after 1 h
        ticket("T4", On { asset: "A4", ..PUMP }, b),                                    // never assigned: not counted
    ];
    let (met, total) = rates(&hs, Period::Day, b, b + D)
        .iter()
        .filter(|r| r.kpi == Appointment60m)
        .fold((0, 0), |a, r| (a.0 + r.met, a.1 + r.total));
    assert_eq!((met, total), (1, 3), "T1 at exactly 60 minutes; T2 a minute late; T3 never");
}
