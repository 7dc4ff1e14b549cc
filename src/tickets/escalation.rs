//! SLA timers on the wall clock, not on telemetry: a ticket nobody accepted
//! by its response deadline is escalated once (reassigned, severity raised,
//! supervisor notified: as configured), and a ticket not yet on site close
//! to its on-site deadline is flagged at risk before it is missed. An
//! alarm storm (many tickets at once) re-plans every ticket not yet
//! accepted. `pass` takes the time as an argument, so tests drive the clock.

use super::lifecycle::Command;
use super::redispatch::Redispatch;
use super::severity::Raised;
use super::store::{act, moot_is_false};
use super::EventKind;
use super::{Actor, TicketStore};
use super::{EscalationAction, EscalationConfig};
use super::{StoreError, Ticket, TicketState};
use crate::model::{EpochMs, Span, TicketId};
use crate::shutdown::Shutdown;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

impl TicketStore {
    /// Open or assigned tickets past their response deadline, not yet escalated.
    pub async fn response_overdue(&self, now: EpochMs) -> Result<Vec<Ticket>, StoreError> {
        let unaccepted = TicketState::sql_list(&TicketState::UNACCEPTED);
        self.tickets_where(&format!("state IN {unaccepted} AND response_due < $1 AND escalated_at IS NULL"), now).await
    }

    /// Tickets not yet on site whose on-site deadline is within reach of
    /// `horizon`, not yet flagged (by event: a reassignment resets the
    /// dispatcher's `deadline_at_risk` verdict, not the timer's flag).
    pub async fn nearing_on_site_deadline(&self, horizon: EpochMs) -> Result<Vec<Ticket>, StoreError> {
        let not_on_site =
            format!("state IN {} AND on_site_due <= $1", TicketState::sql_list(&TicketState::BEFORE_SITE));
        self.not_yet_flagged(&not_on_site, horizon, EventKind::AtRisk).await
    }

    pub(super) async fn tickets_where(&self, condition: &str, at: EpochMs) -> Result<Vec<Ticket>, StoreError> {
        let rows =
            sqlx::query(&format!("SELECT {} FROM tickets WHERE {condition} ORDER BY on_site_due", Ticket::columns()))
                .bind(at)
                .fetch_all(&self.pool)
                .await?;
        rows.iter().map(|r| crate::db::from_row(r).map_err(StoreError::from)).collect()
    }

    /// Marks the ticket escalated (once), and raises it as `raise` says in
    /// the same transaction. `None` when it was escalated already (or
    /// accepted meanwhile), else whether the raise applied.
    pub async fn escalate(
        &self,
        id: &TicketId,
        raise: Option<&Raised>,
        detail: &str,
        now: EpochMs,
    ) -> Result<Option<bool>, StoreError> {
        let mut tx = self.pool.begin().await?;
        match act(&mut tx, id, Command::Escalate, (Actor::SlaTimer, detail), now).await {
            Err(StoreError::Moot(_)) => return Ok(None),
            escalated => escalated?,
        }
        let raised = match raise {
            Some(r) => moot_is_false(
                act(&mut tx, id, Command::Raise(r), (Actor::SlaTimer, &r.detail("escalation")), now).await,
            )?,
            None => false,
        };
        tx.commit().await?;
        Ok(Some(raised))
    }

    /// Tickets matching `condition` (binding `$1` = `at`) that have no
    /// `kind` event yet: each such flag is raised once.
    async fn not_yet_flagged(&self, condition: &str, at: EpochMs, kind: EventKind) -> Result<Vec<Ticket>, StoreError> {
        let unflagged = format!(
            "{condition} AND NOT EXISTS (SELECT 1 FROM ticket_events x WHERE x.ticket_id = tickets.id AND x.kind = {})",
            kind.sql()
        );
        self.tickets_where(&unflagged, at).await
    }

    /// Tickets on site since before `since` with no service report, not yet flagged.
    pub async fn report_overdue(&self, since: EpochMs) -> Result<Vec<TicketId>, StoreError> {
        let on_site = TicketState::OnSite.sql();
        let on_site_before = format!(
            "state = {on_site} AND EXISTS \
             (SELECT 1 FROM ticket_events e WHERE e.ticket_id = tickets.id AND e.to_state = {on_site} AND e.at < $1)"
        );
        Ok(self
            .not_yet_flagged(&on_site_before, since, EventKind::ReportOverdue)
            .await?
            .into_iter()
            .map(|t| t.id)
            .collect())
    }

    /// Unresolved tickets whose resolution deadline falls before `horizon`, not yet flagged.
    pub async fn nearing_resolution_deadline(&self, horizon: EpochMs) -> Result<Vec<Ticket>, StoreError> {
        let open = TicketState::sql_list(&TicketState::OPEN);
        let unresolved = format!("state IN {open} AND resolution_due IS NOT NULL AND resolution_due <= $1");
        self.not_yet_flagged(&unresolved, horizon, EventKind::ResolutionAtRisk).await
    }

    /// A dispatcher has seen the open ticket `id`; false when it is no
    /// longer open, acknowledged already, or unknown, so a storm's batch
    /// skips what moved on.
    pub async fn acknowledge(&self, id: &TicketId, actor: Actor<'_>, now: EpochMs) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let done = act(&mut tx, id, Command::Flag(EventKind::Acknowledged), (actor, ""), now).await;
        let done = match done {
            Err(StoreError::NotFound(_)) => Ok(false),
            other => moot_is_false(other),
        }?;
        tx.commit().await?;
        Ok(done)
    }

    /// Records a once-only SLA flag (`kind`: at risk, report overdue,
    /// resolution at risk) while the ticket is open; whether it was recorded.
    pub async fn flag(&self, id: &TicketId, kind: EventKind, detail: &str, now: EpochMs) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let flagged = moot_is_false(act(&mut tx, id, Command::Flag(kind), (Actor::SlaTimer, detail), now).await)?;
        tx.commit().await?;
        Ok(flagged)
    }
}

/// `"{pending} N min before the {deadline} deadline"`, or how long ago it was missed.
fn countdown(due: EpochMs, now: EpochMs, pending: &str, deadline: &str) -> String {
    let left = (due - now) / 60_000;
    if left >= 0 {
        format!("{pending} {left} min before the {deadline} deadline")
    } else {
        format!("{deadline} deadline missed by {} min", -left)
    }
}

/// What the timer needs to act.
pub struct Escalator {
    pub redispatch: Arc<Redispatch>,
    pub config: EscalationConfig,
    pub storm: StormConfig,
    /// When the last storm re-plan ran: at most one per window.
    last_replan: AtomicI64,
}

/// An alarm storm: `tickets` tickets created within `window` re-plan every
/// ticket not yet accepted (0 turns it off).
#[derive(Debug, Clone, Copy)]
pub struct StormConfig {
    pub tickets: u32,
    pub window: Span,
}

/// What one pass did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PassCounts {
    pub escalated: usize,
    pub reassigned: usize,
    pub flagged_at_risk: usize,
    /// Tickets given another engineer by a storm re-plan.
    pub replanned: usize,
    /// On site too long without a service report.
    pub reports_overdue: usize,
    /// Not resolved close to the resolution deadline.
    pub resolution_at_risk: usize,
    /// Engineers whose reported position went stale: home base again.
    pub positions_expired: usize,
}

impl Escalator {
    pub fn new(redispatch: Arc<Redispatch>, config: EscalationConfig, storm: StormConfig) -> Self {
        Escalator { redispatch, config, storm, last_replan: AtomicI64::new(EpochMs::MIN) }
    }

    /// Every `check_every` until `stop`, at the engine's time (`clock`).
    pub async fn run(self, clock: crate::model::Clock, mut stop: Shutdown) {
        let mut tick = tokio::time::interval(self.config.check_every.as_std());
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                () = stop.wait() => return,
            }
            if let Err(e) = self.pass(clock.now_ms()).await {
                tracing::warn!(error = %e, "SLA timer pass failed; retried at the next tick");
            }
        }
    }

    /// One pass at `now`.
    pub async fn pass(&self, now: EpochMs) -> Result<PassCounts, StoreError> {
        let positions_expired = self.redispatch.dispatcher.expire_positions(now);
        let replanned = self.storm_replan(now).await?;
        let mut counts = PassCounts { replanned, positions_expired, ..PassCounts::default() };
        let has = |a| self.config.actions.contains(&a);
        let tickets = &self.redispatch.tickets;
        for t in tickets.response_overdue(now).await? {
            let late_min = (now - t.due.response_due) / 60_000;
            let detail = format!("not accepted {late_min} min after its response deadline");
            let raise = has(EscalationAction::RaiseSeverity).then(|| self.redispatch.raised(&t)).flatten();
            let Some(raised) = tickets.escalate(&t.id, raise.as_ref(), &detail, now).await? else { continue };
            let raise = raise.filter(|_| raised);
            counts.escalated += 1;
            if has(EscalationAction::NotifySupervisor) {
                tracing::warn!(ticket = %t.id, asset = %t.asset_id, severity = %t.severity, %detail, "escalated to the supervisor");
            }
            // Dispatch again at the severity and deadlines just set (an emergency may take the flying team).
            let mut t = t;
            if let Some(r) = &raise {
                r.apply_to(&mut t);
            }
            let moved = if has(EscalationAction::Reassign) {
                self.redispatch
                    .redispatch(&t, t.assignment.engineer_id.as_ref(), Actor::SlaTimer, "escalation", now)
                    .await?
            } else if raise.is_some() {
                self.redispatch.redispatch_if_late(&t, Actor::SlaTimer, "escalation", now).await?
            } else {
                None
            };
            counts.reassigned += usize::from(moved.is_some());
        }
        let horizon = now + self.config.at_risk_within.as_millis();
        for t in tickets.nearing_on_site_deadline(horizon).await? {
            let detail = countdown(t.due.on_site_due, now, "no engineer on site", "on-site");
            counts.flagged_at_risk += usize::from(tickets.flag(&t.id, EventKind::AtRisk, &detail, now).await?);
        }
        for t in tickets.nearing_resolution_deadline(horizon).await? {
            let detail = countdown(t.due.resolution_due.unwrap_or(now), now, "not resolved", "resolution");
            if tickets.flag(&t.id, EventKind::ResolutionAtRisk, &detail, now).await? {
                tracing::warn!(ticket = %t.id, %detail, "resolution deadline at risk");
                counts.resolution_at_risk += 1;
            }
        }
        let after = self.config.report_overdue_after;
        for id in tickets.report_overdue(now - after.as_millis()).await? {
            let detail = format!("on site for more than {after} without a service report: report overdue");
            if tickets.flag(&id, EventKind::ReportOverdue, &detail, now).await? {
                tracing::warn!(ticket = %id, %detail, "service report overdue");
                counts.reports_overdue += 1;
            }
        }
        Ok(counts)
    }

    /// Re-plans everything not yet accepted when an alarm storm has
    /// opened `storm.tickets` tickets within `storm.window`; once per window.
    async fn storm_replan(&self, now: EpochMs) -> Result<usize, StoreError> {
        let window = self.storm.window.as_millis();
        if self.storm.tickets == 0 || now.saturating_sub(self.last_replan.load(Ordering::Relaxed)) < window {
            return Ok(0);
        }
        let created = self.redispatch.tickets.created_since(now - window).await?;
        if created < self.storm.tickets as usize {
            return Ok(0);
        }
        let why = format!("alarm storm: {created} tickets within {}", self.storm.window);
        let r = self.redispatch.replan(&why, now).await?;
        self.last_replan.store(now, Ordering::Relaxed);
        tracing::warn!(%why, considered = r.considered, moved = r.moved, "storm re-plan");
        Ok(r.moved)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dispatch::{Dispatcher, Need};
    use crate::model::{EngineerId, Severity};
    use crate::tickets::{OpenOutcome, TicketState};

    const MIN: i64 = 60_000;

    #[tokio::test]
    async fn an_unaccepted_ticket_is_escalated_once_and_a_late_one_flagged_before_its_deadline() {
        let (db, _dir) = crate::db::temp_sqlite().await;
        let rules = Arc::new(crate::rules::shipped());
        let fleet = crate::tickets::fixtures::fleet_on_duty(&rules, 10, 4);
        let asset = &fleet.assets()[0];
        let t0 = crate::model::now_ms();
        let new = crate::tickets::fixtures::new_ticket(&rules, asset, t0);
        let rule = rules.rule(&asset.model, &new.rule).unwrap();
        let OpenOutcome::Opened(id) = db.tickets().open_or_append(&new, t0, true).await.unwrap() else { panic!() };
        let dispatcher = Arc::new(Dispatcher::new(Arc::clone(&fleet), Default::default()));
        let first: EngineerId = dispatcher
            .choose(
                Need {
                    site: asset.location,
                    skills: &rule.skills,
                    severity: new.severity,
                    at: t0,
                    on_site_due: new.on_site_due,
                    excluded: &[],
                },
                &Default::default(),
            )
            .engineer
            .unwrap();
        db.tickets().assign(id.as_str(), &first, "nearest", false, "dispatch", t0).await.unwrap();
        let config = EscalationConfig {
            actions: vec![
                EscalationAction::Reassign,
                EscalationAction::RaiseSeverity,
                EscalationAction::NotifySupervisor,
            ],
            ..EscalationConfig::default()
        };
        let redispatch = crate::tickets::fixtures::redispatch(db.clone(), rules, fleet);
        let timer = Escalator::new(redispatch, config, StormConfig { tickets: 0, window: Span::from_mins(15) });

        assert_eq!(timer.pass(t0 + 30 * MIN).await.unwrap(), PassCounts::default(), "within the response deadline");
        let counts = timer.pass(t0 + 61 * MIN).await.unwrap();
        assert_eq!((counts.escalated, counts.reassigned, counts.flagged_at_risk), (1, 1, 0));
        let d = db.tickets().ticket(id.as_str()).await.unwrap().unwrap();
        assert_eq!(d.ticket.severity, Severity::Major, "raised one tier");
        assert!(d.ticket.assignment.engineer_id.as_ref().is_some_and(|e| e != &first), "taken from {first}");
        let kinds: Vec<&str> = d.events.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(kinds, ["opened", "assigned", "escalated", "severity_raised", "reassigned"]);
        assert_eq!(d.ticket.due.response_due, t0 + 60 * MIN, "the major tier's 4 h is later than the 1 h it had");
        assert_eq!(timer.pass(t0 + 62 * MIN).await.unwrap().escalated, 0, "escalated once");

        // Two hours before the on-site deadline, nobody on site: flagged, once.
        assert_eq!(timer.pass(t0 + 21 * 60 * MIN).await.unwrap().flagged_at_risk, 0);
        assert_eq!(timer.pass(t0 + 22 * 60 * MIN + MIN).await.unwrap().flagged_at_risk, 1);
        assert_eq!(timer.pass(t0 + 22 * 60 * MIN + 2 * MIN).await.unwrap().flagged_at_risk, 0);
        let t = db.tickets().ticket(id.as_str()).await.unwrap().unwrap().ticket;
        assert!(t.assignment.deadline_at_risk);
        // A reassignment resets the dispatcher's verdict, not the timer's flag: still once.
        db.tickets()
            .assign(id.as_str(), &first, "back", false, "dispatcher", t0 + 22 * 60 * MIN + 3 * MIN)
            .await
            .unwrap();
        assert_eq!(timer.pass(t0 + 22 * 60 * MIN + 4 * MIN).await.unwrap().flagged_at_risk, 0);
    }

    #[tokio::test]
    async fn a_report_overdue_and_a_resolution_deadline_at_risk_are_each_flagged_once() {
        let (db, _dir) = crate::db::temp_sqlite().await;
        let rules = Arc::new(crate::rules::shipped());
        let fleet = crate::tickets::fixtures::fleet_on_duty(&rules, 10, 4);
        let t0 = crate::model::now_ms();
        let new = crate::tickets::fixtures::new_ticket(&rules, &fleet.assets()[0], t0);
        let OpenOutcome::Opened(id) = db.tickets().open_or_append(&new, t0, true).await.unwrap() else { panic!() };
        let engineer = fleet.engineers()[0].id.clone();
        db.tickets().assign(id.as_str(), &engineer, "test", false, "dispatch", t0).await.unwrap();
        for to in [TicketState::Accepted, TicketState::EnRoute, TicketState::OnSite] {
            db.tickets().transition(id.as_str(), to, engineer.as_str(), "", t0 + MIN).await.unwrap();
        }
        let redispatch = crate::tickets::fixtures::redispatch(db.clone(), rules, fleet);
        let config = EscalationConfig { actions: vec![], ..EscalationConfig::default() };
        let timer = Escalator::new(redispatch, config, StormConfig { tickets: 0, window: Span::from_mins(15) });

        assert_eq!(timer.pass(t0 + 4 * 60 * MIN).await.unwrap().reports_overdue, 0, "within 5 h on site");
        assert_eq!(timer.pass(t0 + 5 * 60 * MIN + 2 * MIN).await.unwrap().reports_overdue, 1);
        assert_eq!(timer.pass(t0 + 6 * 60 * MIN).await.unwrap().reports_overdue, 0, "flagged once");
        let events = db.tickets().ticket(id.as_str()).await.unwrap().unwrap().events;
        let flagged = events.iter().find(|e| e.kind == EventKind::ReportOverdue).unwrap();
        assert!(flagged.detail.contains("without a service report"), "{}", flagged.detail);

        // Resolution due 48 h after detection: flagged 2 h before, once.
        assert_eq!(timer.pass(t0 + 45 * 60 * MIN).await.unwrap().resolution_at_risk, 0);
        assert_eq!(timer.pass(t0 + 46 * 60 * MIN + MIN).await.unwrap().resolution_at_risk, 1);
        assert_eq!(timer.pass(t0 + 50 * 60 * MIN).await.unwrap().resolution_at_risk, 0);
        let events = db.tickets().ticket(id.as_str()).await.unwrap().unwrap().events;
        let at_risk = events.iter().find(|e| e.kind == EventKind::ResolutionAtRisk).unwrap();
        assert_eq!(at_risk.detail, "not resolved 119 min before the resolution deadline");
    }
}
