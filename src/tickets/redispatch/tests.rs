use super::*;
use crate::model::Span;
use crate::tickets::escalation::{Escalator, StormConfig};
use crate::tickets::fixtures::{new_ticket, redispatch_on_duty as setup};
use crate::tickets::EscalationConfig;
use crate::tickets::OpenOutcome;

const MIN: i64 = 60_000;

/// Opens a ticket for asset `i` at `at`, unassigned.
async fn open(r: &Redispatch, i: usize, at: EpochMs) -> TicketId {
    let new = new_ticket(&r.rules, &r.fleet.assets()[i], at);
    let OpenOutcome::Opened(id) = r.tickets.open_or_append(&new, at, true).await.unwrap() else { panic!("not opened") };
    id
}

async fn ticket(r: &Redispatch, id: &TicketId) -> Ticket {
    r.tickets.ticket(id.as_str()).await.unwrap().unwrap().ticket
}

async fn event_kinds(r: &Redispatch, id: &TicketId) -> Vec<&'static str> {
    r.tickets.ticket(id.as_str()).await.unwrap().unwrap().events.into_iter().map(|e| e.kind.as_str()).collect()
}

/// The qualified engineer farthest from asset `i`: a poor first choice.
fn farthest_qualified(r: &Redispatch, t: &Ticket) -> EngineerId {
    let site = r.fleet.asset(t.asset_id.as_str()).unwrap().location;
    let rule = r.rules.for_model(&t.model).unwrap().rules.iter().find(|x| x.id == t.rule_id).unwrap();
    let qualified =
        r.fleet.engineers().iter().filter(|e| !e.flying && crate::dispatch::missing_skills(e, &rule.skills).is_empty());
    qualified.max_by(|a, b| a.base.distance_km(&site).total_cmp(&b.base.distance_km(&site))).unwrap().id.clone()
}

#[tokio::test]
async fn a_declined_ticket_goes_to_someone_else_and_never_back_to_the_decliner() {
    let s = setup().await;
    let r = &s.r;
    let t0 = crate::model::now_ms();
    let id = open(r, 0, t0).await;
    let first = r.redispatch(&ticket(r, &id).await, None, Actor::Dispatch, "opened", t0).await.unwrap().unwrap();

    let stranger = r.fleet.engineers().iter().find(|e| e.id != first).unwrap().id.clone();
    let refused = r.tickets.decline(id.as_str(), &stranger, "not mine", t0 + MIN).await;
    assert!(matches!(refused, Err(StoreError::NotHolder { .. })), "{refused:?}");

    let declined = r.tickets.decline(id.as_str(), &first, "van in the workshop", t0 + MIN).await.unwrap();
    assert_eq!((declined.state, declined.assignment.engineer_id.as_ref()), (TicketState::Open, None));
    let second = r.redispatch(&declined, None, Actor::Dispatch, "declined", t0 + MIN).await.unwrap().unwrap();
    assert_ne!(second, first);
    assert_eq!(event_kinds(r, &id).await, ["opened", "assigned", "declined", "assigned"]);
    let history = r.tickets.ticket(id.as_str()).await.unwrap().unwrap().events;
    assert_eq!((history[2].actor.as_str(), history[2].from_state), (first.as_str(), Some(TicketState::Assigned)));
    assert_eq!(history[2].engineer_id.as_ref(), Some(&first), "the decliner is a column of the event");
    assert_eq!(history[3].assigned_engineer(), Some(&second));
    assert!(history[2].detail.contains("van in the workshop"), "{}", history[2].detail);

    // A re-plan keeps honouring the decline, however close the decliner is.
    r.replan("test", t0 + 2 * MIN).await.unwrap();
    assert_ne!(ticket(r, &id).await.assignment.engineer_id, Some(first.clone()));
    assert_eq!(r.tickets.decliners().await.unwrap()[&id], vec![first]);
}

#[tokio::test]
async fn an_engineer_who_drops_out_hands_back_what_they_have_not_started_and_gets_nothing_new() {
    let s = setup().await;
    let r = &s.r;
    let t0 = crate::model::now_ms();
    let ids = [open(r, 0, t0).await, open(r, 1, t0).await, open(r, 2, t0).await];
    let sick = farthest_qualified(r, &ticket(r, &ids[0]).await);
    for id in &ids {
        r.tickets.assign(id.as_str(), &sick, "test", false, "dispatcher", t0).await.unwrap();
    }
    r.tickets.transition(ids[1].as_str(), TicketState::Accepted, sick.as_str(), "", t0).await.unwrap();
    for to in [TicketState::Accepted, TicketState::EnRoute, TicketState::OnSite] {
        r.tickets.transition(ids[2].as_str(), to, sick.as_str(), "", t0).await.unwrap();
    }

    let back = t0 + 8 * 60 * MIN;
    let replan = r.drop_out(&sick, back, "off sick", ("dispatcher", ReplanScope::Everything), t0 + MIN).await.unwrap();
    assert_eq!(replan.withdrawn, 2, "assigned and accepted go back; on site stays: {replan:?}");
    for id in &ids[..2] {
        let t = ticket(r, id).await;
        assert!(t.assignment.engineer_id.as_ref().is_some_and(|e| e != &sick), "{t:?}");
    }
    assert_eq!(ticket(r, &ids[2]).await.assignment.engineer_id, Some(sick.clone()));
    let kinds = event_kinds(r, &ids[1]).await;
    assert_eq!(kinds[kinds.len() - 2..], ["withdrawn", "assigned"]);

    // While away nobody offers them work; afterwards they are back.
    assert_eq!(r.tickets.unavailable_engineers(t0 + 2 * MIN).await.unwrap(), vec![sick.clone()]);
    assert!(r.tickets.unavailable_engineers(back).await.unwrap().is_empty());
    let fresh = open(r, 3, t0 + 2 * MIN).await;
    r.tickets.assign(fresh.as_str(), &sick, "test", false, "dispatcher", t0 + 2 * MIN).await.unwrap();
    r.replan("test", t0 + 3 * MIN).await.unwrap();
    assert_ne!(ticket(r, &fresh).await.assignment.engineer_id, Some(sick.clone()));
    assert!(r.tickets.set_available(&sick).await.unwrap());
    assert!(r.tickets.unavailable_engineers(t0 + 4 * MIN).await.unwrap().is_empty());
}

#[tokio::test]
async fn an_alarm_storm_replans_poor_assignments_once_per_window() {
    let s = setup().await;
    let r = &s.r;
    let t0 = crate::model::now_ms();
    let mut ids = Vec::new();
    for i in 0..4 {
        ids.push(open(r, i, t0 + i as i64 * MIN).await);
    }
    for id in &ids {
        let far = farthest_qualified(r, &ticket(r, id).await);
        r.tickets.assign(id.as_str(), &far, "poor first choice", false, "dispatcher", t0 + 4 * MIN).await.unwrap();
    }
    let storm = StormConfig { tickets: 4, window: Span::from_mins(15) };
    let timer = Escalator::new(Arc::clone(&s.r), EscalationConfig { actions: vec![], ..Default::default() }, storm);
    let travel = |t: &Ticket| {
        let site = r.fleet.asset(t.asset_id.as_str()).unwrap().location;
        r.fleet.engineer(t.assignment.engineer_id.as_ref().unwrap().as_str()).unwrap().base.distance_km(&site)
    };
    let before: f64 = {
        let mut km = 0.0;
        for id in &ids {
            km += travel(&ticket(r, id).await);
        }
        km
    };

    let moved = timer.pass(t0 + 5 * MIN).await.unwrap().replanned;
    assert_eq!(moved, 4, "every ticket had its farthest engineer");
    let mut after = 0.0;
    for id in &ids {
        let t = ticket(r, id).await;
        after += travel(&t);
        assert_eq!(event_kinds(r, id).await.last().copied(), Some("reassigned"));
        assert!(
            t.assignment.assignment_note.starts_with("re-plan (alarm storm: 4 tickets within 15m)"),
            "{}",
            t.assignment.assignment_note
        );
    }
    assert!(after < before / 2.0, "{after:.0} km against {before:.0} km");

    // Within the window: no second re-plan, even after another poor assignment.
    let far = farthest_qualified(r, &ticket(r, &ids[0]).await);
    r.tickets.assign(ids[0].as_str(), &far, "poor again", false, "dispatcher", t0 + 6 * MIN).await.unwrap();
    assert_eq!(timer.pass(t0 + 10 * MIN).await.unwrap().replanned, 0);
    // After it, four tickets are no longer a storm within the last 15 minutes.
    assert_eq!(timer.pass(t0 + 30 * MIN).await.unwrap().replanned, 0);
    assert_eq!(ticket(r, &ids[0]).await.assignment.engineer_id, Some(far));
}

#[tokio::test]
async fn a_plan_made_from_a_snapshot_never_overwrites_what_changed_since() {
    let s = setup().await;
    let r = &s.r;
    let t0 = crate::model::now_ms();
    let id = open(r, 0, t0).await;
    let snapshot = ticket(r, &id).await;
    let far = farthest_qualified(r, &snapshot);
    // A dispatcher assigns it while a re-plan still holds the unassigned snapshot.
    r.tickets.assign(id.as_str(), &far, "by hand", false, "dispatcher", t0).await.unwrap();
    let planned =
        Assignment { engineer: &r.fleet.engineers()[0].id, note: "plan", at_risk: false, actor: Actor::Replan };
    let stale = r.tickets.assign_if(id.as_str(), Some(None), &planned, t0 + MIN).await;
    assert!(matches!(stale, Err(StoreError::Conflict(_))), "{stale:?}");
    assert_eq!(ticket(r, &id).await.assignment.engineer_id, Some(far.clone()), "the dispatcher's choice stands");
    // Re-dispatching from the stale snapshot changes nothing either.
    assert_eq!(r.redispatch(&snapshot, None, Actor::Dispatch, "stale", t0 + MIN).await.unwrap(), None);
    assert_eq!(ticket(r, &id).await.assignment.engineer_id, Some(far));
}

#[tokio::test]
async fn an_engineers_own_drop_out_plans_only_what_was_theirs() {
    let s = setup().await;
    let r = &s.r;
    let t0 = crate::model::now_ms();
    let (mine, theirs) = (open(r, 0, t0).await, open(r, 1, t0).await);
    let sick = r.redispatch(&ticket(r, &mine).await, None, Actor::Dispatch, "opened", t0).await.unwrap().unwrap();
    let far = farthest_qualified(r, &ticket(r, &theirs).await);
    assert_ne!(sick, far, "the set-up needs two engineers");
    r.tickets
        .assign(theirs.as_str(), &far, "a poor choice a full re-plan would undo", false, "dispatcher", t0)
        .await
        .unwrap();
    let before = event_kinds(r, &theirs).await;
    let own = (sick.as_str(), ReplanScope::Withdrawn);
    let replan = r.drop_out(&sick, t0 + 60 * MIN, "flat tyre", own, t0 + MIN).await.unwrap();
    assert_eq!((replan.withdrawn, replan.considered), (1, 1), "{replan:?}");
    assert!(ticket(r, &mine).await.assignment.engineer_id.is_some_and(|e| e != sick));
    assert_eq!(
        ticket(r, &theirs).await.assignment.engineer_id,
        Some(far),
        "a colleague's ticket is not theirs to move"
    );
    assert_eq!(event_kinds(r, &theirs).await, before);
}
