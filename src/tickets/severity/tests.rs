use super::*;
use crate::sla::SlaConfig;
use crate::tickets::fixtures::redispatch_on_duty as setup;
use crate::tickets::fixtures::{new_ticket, ticket};
use crate::tickets::{Due, EventKind, OpenOutcome};

const HOUR: i64 = 3_600_000;
const T0: EpochMs = 1_767_225_600_000;

fn standard() -> Sla {
    Sla::new(&SlaConfig::default(), &[]).unwrap()
}

/// The default tier of `severity` for a ticket detected at `T0`.
fn tier(severity: Severity) -> Deadlines {
    standard().deadlines(severity, T0, None)
}

#[test]
fn a_major_ticket_raised_takes_the_emergency_deadlines_counted_from_detection() {
    let t = ticket("TK-1", "PMP-0001", "centrifugal_pump", "BEARING_WEAR", T0);
    let r = raised(&t, tier(Severity::Emergency)).unwrap();
    assert_eq!((r.from, r.to), (Severity::Major, Severity::Emergency));
    assert_eq!(r.due.tier, "emergency");
    assert_eq!(
        (r.due.response_due, r.due.on_site_due, r.due.resolution_due),
        (T0 + HOUR, T0 + 12 * HOUR, T0 + 24 * HOUR)
    );
}

#[test]
fn a_raise_never_moves_a_deadline_later() {
    let mut t = Ticket { severity: Severity::General, ..ticket("TK-1", "PMP-0001", "centrifugal_pump", "X", T0) };
    (t.due.on_site_due, t.due.resolution_due) = (T0 + 2 * HOUR, None);
    let r = raised(&t, tier(Severity::Major)).unwrap();
    assert_eq!(r.to, Severity::Major);
    assert_eq!(r.due.on_site_due, T0 + 2 * HOUR, "the contract's earlier deadline stays");
    assert_eq!(r.due.response_due, T0 + 4 * HOUR);
    assert_eq!(r.due.resolution_due, T0 + 48 * HOUR, "a ticket without one gets the tier's");
    assert_eq!(r.due.tier, "major", "the tier's deadlines now count");
}

#[test]
fn a_raise_that_keeps_every_deadline_keeps_the_tier_name() {
    let mut early = Ticket { severity: Severity::General, ..ticket("TK-1", "PMP-0001", "centrifugal_pump", "X", T0) };
    early.due = Due {
        detected_at: T0,
        response_due: T0 + HOUR,
        on_site_due: T0 + 2 * HOUR,
        resolution_due: Some(T0 + 3 * HOUR),
        sla_tier: "contract CT-1: platinum".into(),
    };
    let r = raised(&early, tier(Severity::Major)).unwrap();
    assert_eq!(r.to, Severity::Major);
    assert_eq!(r.due.tier, "contract CT-1: platinum", "no major deadline is earlier than the contract's");
}

#[test]
fn an_emergency_or_a_finished_ticket_is_not_raised() {
    let t = ticket("TK-1", "PMP-0001", "centrifugal_pump", "X", T0);
    assert_eq!(raised(&Ticket { severity: Severity::Emergency, ..t.clone() }, tier(Severity::Emergency)), None);
    for state in [TicketState::Resolved, TicketState::Closed, TicketState::Cancelled] {
        assert_eq!(raised(&Ticket { state, ..t.clone() }, tier(Severity::Emergency)), None, "{state}");
    }
}

/// A major ticket on asset 0 detected at `at` with the major tier's deadlines, held by `holder`.
async fn held_major(r: &Redispatch, at: EpochMs, holder: &EngineerId) -> TicketId {
    let asset = &r.fleet.assets()[0];
    let due = deadlines_for(&r.sla, &r.fleet, &asset.id, Severity::Major, at);
    let new = crate::tickets::NewTicket {
        severity: Severity::Major,
        response_due: due.response_due,
        on_site_due: due.on_site_due,
        resolution_due: due.resolution_due,
        sla_tier: due.tier,
        ..new_ticket(&r.rules, asset, at)
    };
    let OpenOutcome::Opened(id) = r.tickets.open_or_append(&new, at, true).await.unwrap() else { panic!("not opened") };
    r.tickets.assign(id.as_str(), holder, "test", false, "test", at).await.unwrap();
    id
}

/// Raises the ticket as read now, as the forecast path does; the ticket
/// after, if the raise applied.
async fn raise(r: &Redispatch, id: &TicketId, why: &str, now: EpochMs) -> Option<Ticket> {
    let t = r.tickets.ticket(id.as_str()).await.unwrap().unwrap().ticket;
    let raised = r.raised(&t)?;
    r.tickets.raise(id, &raised, &raised.detail(why), now).await.unwrap().then_some(())?;
    Some(r.tickets.ticket(id.as_str()).await.unwrap().unwrap().ticket)
}

/// Qualified engineers for asset 0's repair rule, nearest first.
fn qualified_by_distance(r: &Redispatch) -> Vec<EngineerId> {
    let asset = &r.fleet.assets()[0];
    let rule = r
        .rules
        .for_model(&asset.model)
        .unwrap()
        .rules
        .iter()
        .find(|x| x.kind == crate::model::TicketKind::Repair)
        .unwrap();
    let mut e: Vec<_> = r
        .fleet
        .engineers()
        .iter()
        .filter(|e| !e.flying && crate::dispatch::missing_skills(e, &rule.skills).is_empty())
        .collect();
    e.sort_by(|a, b| a.base.distance_km(&asset.location).total_cmp(&b.base.distance_km(&asset.location)));
    e.into_iter().map(|e| e.id.clone()).collect()
}

#[tokio::test]
async fn a_raised_ticket_whose_holder_cannot_make_the_new_deadline_goes_to_someone_nearer() {
    let s = setup().await;
    let r = &s.r;
    let now = crate::model::now_ms();
    let farthest = qualified_by_distance(r).pop().unwrap();
    // Detected 11.5 h ago: as an emergency it must be on site within 30 min.
    let detected = now - 11 * HOUR - HOUR / 2;
    let id = held_major(r, detected, &farthest).await;
    let site = r.fleet.assets()[0].location;
    assert!(r.dispatcher.arrival(&farthest, &site, now).unwrap() > now + HOUR / 2, "the fixture's holder is far away");

    let t = raise(r, &id, "forecast", now).await.expect("raised");
    assert_eq!(
        (t.severity, t.due.on_site_due, t.due.response_due),
        (Severity::Emergency, detected + 12 * HOUR, detected + HOUR)
    );
    assert_eq!(t.due.resolution_due, Some(detected + 24 * HOUR));
    let moved = r.redispatch_if_late(&t, Actor::Engine, "forecast", now).await.unwrap().expect("moved");
    assert_ne!(moved, farthest);
    let arrival = |e| r.dispatcher.arrival(e, &site, now).unwrap();
    assert!(arrival(&moved) < arrival(&farthest));
    let d = r.tickets.ticket(id.as_str()).await.unwrap().unwrap();
    assert_eq!(d.ticket.assignment.engineer_id.as_ref(), Some(&moved));
    let kinds: Vec<EventKind> = d.events.iter().map(|e| e.kind).collect();
    assert_eq!(kinds[kinds.len() - 2..], [EventKind::SeverityRaised, EventKind::Reassigned]);
    assert!(d.events[kinds.len() - 2].detail.starts_with("forecast: major -> emergency, on site by "));
}

#[tokio::test]
async fn a_raised_ticket_whose_holder_can_still_make_it_stays_with_them_and_is_raised_once() {
    let s = setup().await;
    let r = &s.r;
    let now = crate::model::now_ms();
    let nearest = qualified_by_distance(r).remove(0);
    let id = held_major(r, now, &nearest).await;

    let t = raise(r, &id, "escalation", now).await.expect("raised");
    assert_eq!(t.due.on_site_due, now + 12 * HOUR);
    assert_eq!(r.redispatch_if_late(&t, Actor::Engine, "forecast", now).await.unwrap(), None);
    assert_eq!(r.tickets.ticket(id.as_str()).await.unwrap().unwrap().ticket.assignment.engineer_id, Some(nearest));
    let stale = r.raised(&Ticket { severity: Severity::Major, ..t.clone() }).unwrap();
    let again = r.tickets.raise(&id, &stale, "a retry", now).await.unwrap();
    assert!(!again, "a retry of the same raise changes nothing: the guard sees the raised severity");
    // An event after the refused retry: the retry gave its number back.
    r.tickets.flag(&id, EventKind::AtRisk, "after the retry", now).await.unwrap();
    let d = r.tickets.ticket(id.as_str()).await.unwrap().unwrap();
    assert_eq!(d.ticket.severity, Severity::Emergency);
    let seqs: Vec<i64> = d.events.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, (1..=seqs.len() as i64).collect::<Vec<_>>(), "numbered once each, a refusal leaves no gap");
}
