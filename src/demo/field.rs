//! The demo's service team: engineers who accept the tickets dispatch gave
//! them, travel, repair and close, so the after-sales KPIs have something to
//! measure. Each ticket follows its own plan (random, reproducible from the
//! seed and the ticket id) of minutes after detection; a step is taken once
//! its time has come, stamped with that time (the replay runs in the past).
//! Tickets nobody could be assigned wait for a dispatcher, as in real life.
//! Of the tickets detected in the replay's last hours and live, the team
//! leaves the assignments its engineers do not answer (`1 - share` of them)
//! for a dispatcher to reassign, and those of the engineer whose token the
//! demo prints for whoever tries the engineer's page; the older history was
//! worked to its end, as a past week would have been. A ticket a dispatcher
//! reassigned is the people's from then on.

use crate::model::{Clock, EngineerId, EpochMs, TicketId};
use crate::shutdown::Shutdown;
use crate::tickets::report::{FiledReport, PartUsed, ServiceReport};
use crate::tickets::{Actor, StoreError, Ticket, TicketFilter, TicketState, TicketStore};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::hash::{Hash, Hasher};
use std::time::Duration;

const MIN: i64 = 60_000;
const ACTOR: &str = "demo field team";

/// Minutes after detection of each step; `cancel`: a false alarm the
/// engineer cancels instead of accepting.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Plan {
    accept: i64,
    depart: i64,
    arrive: i64,
    resolve: i64,
    close: i64,
    cancel: bool,
}

fn plan(ticket: &TicketId, seed: u64) -> Plan {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    (ticket, seed).hash(&mut h);
    let mut rng = StdRng::seed_from_u64(h.finish());
    // Most accept within the hour; a few are late. Travel and repair vary
    // enough that some miss the on-site deadline or the 24-hour completion.
    let accept = if rng.random_bool(0.9) { rng.random_range(5..55) } else { rng.random_range(60..240) };
    let depart = accept + rng.random_range(10..40);
    let arrive = depart + rng.random_range(30..720);
    let resolve = arrive + rng.random_range(45..480);
    Plan { accept, depart, arrive, resolve, close: resolve + rng.random_range(60..1440), cancel: rng.random_bool(0.05) }
}

/// The next step from `state`, and its minute in the plan.
fn next(state: TicketState, p: &Plan) -> Option<(TicketState, i64)> {
    use TicketState::*;
    match state {
        Assigned if p.cancel => Some((Cancelled, p.accept)),
        Assigned => Some((Accepted, p.accept)),
        Accepted => Some((EnRoute, p.depart)),
        EnRoute => Some((OnSite, p.arrive)),
        OnSite => Some((Resolved, p.resolve)),
        Resolved => Some((Closed, p.close)),
        Open | Closed | Cancelled => None,
    }
}

/// Who the simulated team is.
#[derive(Debug, Clone)]
pub struct Team {
    pub seed: u64,
    /// Share of assignments the engineers answer.
    pub share: f64,
    /// Tickets detected from then on are left to people as above.
    pub people_from: EpochMs,
    /// The engineer a person plays (the demo's engineer token): not simulated.
    pub played: Option<EngineerId>,
}

impl Team {
    /// Whether the team leaves `t` to someone else: a recent ticket of
    /// the played engineer, or a recent assignment its engineer does not
    /// answer (a reassignment draws again for the new engineer).
    fn leaves(&self, t: &Ticket) -> bool {
        let mut h = std::collections::hash_map::DefaultHasher::new();
        (&t.id, &t.assignment.engineer_id, self.seed).hash(&mut h);
        let draw = (h.finish() % 10_000) as f64 / 10_000.0;
        let unanswered = t.state == TicketState::Assigned && draw >= self.share;
        let played = self.played.is_some() && t.assignment.engineer_id == self.played;
        t.due.detected_at >= self.people_from && (unanswered || played)
    }
}

/// Takes every step that is due at `now`, one per ticket.
async fn step(tickets: &TicketStore, team: &Team, now: EpochMs) -> Result<usize, StoreError> {
    let seed = team.seed;
    let mut taken = 0;
    let states = [TicketState::Assigned, TicketState::Accepted, TicketState::EnRoute, TicketState::OnSite];
    for state in states.into_iter().chain([TicketState::Resolved]) {
        let filter = TicketFilter { state: Some(state), limit: 10_000, ..Default::default() };
        for t in tickets.list_tickets(&filter).await? {
            let Some((to, minute)) = next(state, &plan(&t.id, seed)) else { continue };
            // A ticket a person reassigned is the people's from then on, in
            // every state (a person may accept it and leave the rest for later).
            let recent = state == TicketState::Assigned || t.due.detected_at >= team.people_from;
            if team.leaves(&t) || (recent && assigned_by_person(tickets, &t).await?) {
                continue;
            }
            let planned = t.due.detected_at + minute * MIN;
            if planned > now {
                continue;
            }
            // Never before what the engine last did to it: the history reads forwards.
            let at = planned.max(t.updated_at);
            if to == TicketState::EnRoute && t.after_sales.quote.is_some() && t.after_sales.quote_accepted_at.is_none()
            {
                // The customer agrees to the out-of-warranty quote before the engineer sets off.
                match tickets.accept_quote(&t.id, "customer (demo)", at).await {
                    Ok(()) | Err(StoreError::NoQuoteToAccept(_)) => {}
                    Err(e) => return Err(e),
                }
            }
            let done = if to == TicketState::Resolved {
                report(tickets, &t, at).await.map(drop)
            } else {
                tickets.transition(t.id.as_str(), to, ACTOR, "", at).await.map(drop)
            };
            match done {
                // A dispatcher may have moved it meanwhile: their call stands.
                Ok(_) | Err(StoreError::InvalidTransition { .. } | StoreError::Conflict(_)) => taken += 1,
                Err(e) => return Err(e),
            }
        }
    }
    Ok(taken)
}

/// Whether a person (a dispatcher) put the ticket's engineer on it: then
/// people play it from there, however old it is.
async fn assigned_by_person(tickets: &TicketStore, t: &Ticket) -> Result<bool, StoreError> {
    let Some(d) = tickets.ticket(t.id.as_str()).await? else { return Ok(false) };
    let last = d.events.iter().rev().find(|e| e.assigned_engineer().is_some());
    Ok(last.is_some_and(|e| !Actor::STAGES.iter().any(|s| s.as_str() == e.actor)))
}

/// Files the service report that resolves the ticket: the reserved parts
/// were used; nine repairs in ten fix the fault at the first visit.
async fn report(tickets: &TicketStore, t: &Ticket, at: EpochMs) -> Result<FiledReport, StoreError> {
    let parts_used = tickets
        .ticket_parts(t.id.as_str())
        .await?
        .into_iter()
        .filter(|l| l.status == crate::dispatch::PartStatus::Reserved)
        .map(|l| PartUsed { part: l.part, qty: u32::try_from(l.qty).unwrap_or(1) })
        .collect();
    let r = ServiceReport {
        cause: t.description.clone(),
        fix: format!("{} repaired", t.fault_code),
        prevention: "inspect at the next scheduled service".into(),
        parts_used,
        first_time_fix: t.id.as_str().bytes().map(u32::from).sum::<u32>() % 10 != 0,
        repaired_at: at,
    };
    tickets.resolve_with_report(&t.id, &r, ACTOR, at).await
}

/// Works the tickets every two seconds until `stop`, at the engine's time
/// (`clock`: the replay's event time in the demo).
pub async fn run(tickets: TicketStore, clock: Clock, team: Team, mut stop: Shutdown) {
    let mut tick = tokio::time::interval(Duration::from_secs(2));
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = stop.wait() => return,
        }
        if let Err(e) = step(&tickets, &team, clock.now_ms()).await {
            tracing::warn!(error = %e, "demo field team could not update a ticket");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plans_are_reproducible_ordered_and_mostly_on_time() {
        let ids: Vec<TicketId> = (0..500).map(|i| TicketId::new(format!("TK-{i}"))).collect();
        let plans: Vec<Plan> = ids.iter().map(|id| plan(id, 7)).collect();
        assert_eq!(plans[3], plan(&ids[3], 7));
        assert_ne!(plans[3], plan(&ids[3], 8));
        for p in &plans {
            assert!(p.accept < p.depart && p.depart < p.arrive && p.arrive < p.resolve && p.resolve < p.close);
        }
        let within_hour = plans.iter().filter(|p| p.accept <= 60).count();
        let cancelled = plans.iter().filter(|p| p.cancel).count();
        assert!((400..=490).contains(&within_hour), "{within_hour} of 500 accepted within the hour");
        assert!((5..=50).contains(&cancelled), "{cancelled} of 500 cancelled");
    }

    #[test]
    fn the_team_walks_the_lifecycle_and_leaves_unassigned_tickets_alone() {
        let p = Plan { accept: 1, depart: 2, arrive: 3, resolve: 4, close: 5, cancel: false };
        let mut state = TicketState::Assigned;
        let mut path = vec![state];
        while let Some((to, _)) = next(state, &p) {
            assert!(state.can_become(to), "{state} -> {to}");
            state = to;
            path.push(state);
        }
        assert_eq!(state, TicketState::Closed);
        assert_eq!(path.len(), 6);
        assert_eq!(next(TicketState::Open, &p), None);
        assert_eq!(next(TicketState::Assigned, &Plan { cancel: true, ..p }).map(|n| n.0), Some(TicketState::Cancelled));
    }

    #[test]
    fn people_play_only_the_recent_tickets_they_are_given() {
        let played = EngineerId::new("ENG-001");
        let team = |share| Team { seed: 7, share, people_from: 1_000, played: Some(played.clone()) };
        let mut t = crate::tickets::fixtures::ticket("TK-1", "PMP-0001", "centrifugal_pump", "SEAL_LEAK", 2_000);
        t.state = TicketState::Assigned;
        t.assignment.engineer_id = Some(EngineerId::new("ENG-002"));
        assert!(team(0.0).leaves(&t), "nobody answers");
        assert!(!team(1.0).leaves(&t), "everybody answers");
        t.assignment.engineer_id = Some(EngineerId::new("ENG-001"));
        assert!(team(1.0).leaves(&t), "the played engineer's ticket waits for the person");
        t.due.detected_at = 500;
        assert!(!team(0.0).leaves(&t), "older history was worked to its end");
    }
}
