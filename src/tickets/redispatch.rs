//! Dispatch after the first choice: an engineer declines a ticket or drops
//! out (off sick, van broken), or an alarm storm makes the one-by-one
//! choices of the last minutes worth re-planning together. A re-plan takes
//! every ticket nobody has accepted yet (open or assigned) and solves their
//! assignment optimally (`Dispatcher::plan`: fewest SLA misses, then least
//! travel); a ticket moves only when the plan gives it someone else, and
//! every move is an event in its history.

use super::lifecycle::{decide, Command};
use super::store::{apply, lock, Assignment};
use super::TicketStore;
use super::{Actor, EventKind};
use super::{StoreError, Ticket, TicketState};
use crate::db::col;
use crate::dispatch::{Candidate, Choice, Dispatcher, Need};
use crate::fleet::Fleet;
use crate::model::{EngineerId, EpochMs, TicketId};
use crate::rules::RuleSet;
use crate::sla::Sla;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;

/// How far an engineer's drop-out plans again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReplanScope {
    /// Everything nobody has accepted, together: a supervisor's call.
    Everything,
    /// Only the tickets taken from the engineer: their own call plans
    /// nobody else's work (a re-plan is not an engineer's to order).
    Withdrawn,
}

/// What a re-plan did.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Replan {
    /// Tickets nobody had accepted, planned together.
    pub considered: usize,
    /// Given to another engineer (or assigned for the first time).
    pub moved: usize,
    /// Taken back to open: no qualified engineer with free capacity left.
    pub unassigned: usize,
    /// Accepted, en route or started by the engineer who dropped out: back to open first.
    pub withdrawn: usize,
}

impl TicketStore {
    /// Marks `engineer` unavailable from `since` to `back_at`, replacing any earlier absence.
    pub async fn set_unavailable(
        &self,
        engineer: &EngineerId,
        since: EpochMs,
        back_at: EpochMs,
        reason: &str,
        actor: &str,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO engineer_absences (engineer_id, since, back_at, reason, actor) VALUES ($1, $2, $3, $4, $5) \
             ON CONFLICT (engineer_id) DO UPDATE SET since = excluded.since, back_at = excluded.back_at, \
             reason = excluded.reason, actor = excluded.actor",
        )
        .bind(engineer.as_str())
        .bind(since)
        .bind(back_at)
        .bind(reason)
        .bind(actor)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Ends `engineer`'s absence; whether there was one.
    pub async fn set_available(&self, engineer: &EngineerId) -> Result<bool, StoreError> {
        let gone = sqlx::query("DELETE FROM engineer_absences WHERE engineer_id = $1")
            .bind(engineer.as_str())
            .execute(&self.pool)
            .await?
            .rows_affected();
        Ok(gone > 0)
    }

    /// Engineers absent at `now`.
    pub async fn unavailable_engineers(&self, now: EpochMs) -> Result<Vec<EngineerId>, StoreError> {
        let rows = sqlx::query("SELECT engineer_id FROM engineer_absences WHERE since <= $1 AND back_at > $1")
            .bind(now)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(|r| Ok(EngineerId::new(col::<String>(r, "engineer_id")?))).collect()
    }

    /// Who declined which ticket not yet accepted.
    pub async fn decliners(&self) -> Result<HashMap<TicketId, Vec<EngineerId>>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT e.ticket_id, COALESCE(e.engineer_id, e.actor) AS engineer_id \
             FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id \
             WHERE e.kind = {} AND t.state IN {}",
            EventKind::Declined.sql(),
            TicketState::sql_list(&TicketState::UNACCEPTED)
        ))
        .fetch_all(&self.pool)
        .await?;
        let mut out: HashMap<TicketId, Vec<EngineerId>> = HashMap::new();
        for r in &rows {
            let ticket = TicketId::new(col::<String>(r, "ticket_id")?);
            out.entry(ticket).or_default().push(EngineerId::new(col::<String>(r, "engineer_id")?));
        }
        Ok(out)
    }

    /// The assigned engineer declines: the ticket goes back to open, with
    /// the reason, and is never offered to them again.
    pub async fn decline(
        &self,
        id: &str,
        engineer: &EngineerId,
        reason: &str,
        now: EpochMs,
    ) -> Result<Ticket, StoreError> {
        let detail = format!("declined by {engineer}: {reason}");
        let declining = Command::Decline { engineer };
        self.reopen(&TicketId::new(id), declining, (Actor::Engineer(engineer), &detail), now).await?;
        self.ticket(id).await?.map(|d| d.ticket).ok_or_else(|| StoreError::NotFound(TicketId::new(id)))
    }

    /// Hands the ticket back to `open` as `command` says (decline,
    /// withdraw, a re-plan finding nobody), the reason becoming its
    /// assignment note.
    async fn reopen(
        &self,
        id: &TicketId,
        command: Command<'_>,
        (actor, detail): (Actor<'_>, &str),
        now: EpochMs,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let locked = lock(&mut tx, id.as_str()).await?;
        let d = decide(&locked.view(), command).map_err(|r| StoreError::refused(id, r))?;
        apply(&mut tx, id, locked.seq, &d, (actor, detail), now).await?;
        sqlx::query("UPDATE tickets SET assignment_note = $1 WHERE id = $2")
            .bind(detail)
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(())
    }

    /// Tickets nobody has accepted yet, soonest on-site deadline first.
    async fn not_yet_accepted(&self) -> Result<Vec<Ticket>, StoreError> {
        let unaccepted = TicketState::sql_list(&TicketState::UNACCEPTED);
        self.tickets_where(&format!("state IN {unaccepted} AND created_at <= $1"), i64::MAX).await
    }

    /// Tickets `engineer` holds and has not started on site.
    async fn held_not_started(&self, engineer: &EngineerId) -> Result<Vec<TicketId>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT id FROM tickets WHERE engineer_id = $1 AND state IN {}",
            TicketState::sql_list(&TicketState::HELD_BEFORE_SITE)
        ))
        .bind(engineer.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok(TicketId::new(col::<String>(r, "id")?))).collect()
    }

    /// Tickets created after `since`: the storm detector's count.
    pub async fn created_since(&self, since: EpochMs) -> Result<usize, StoreError> {
        let row = sqlx::query("SELECT COUNT(*) AS n FROM tickets WHERE created_at > $1")
            .bind(since)
            .fetch_one(&self.pool)
            .await?;
        Ok(col::<i64>(&row, "n")? as usize)
    }
}

/// The ticket moved on since it was read (accepted, reassigned, declined):
/// a decision taken from that read is dropped, not an error.
fn changed_meanwhile(e: &StoreError) -> bool {
    matches!(e, StoreError::InvalidTransition { .. } | StoreError::NotHolder { .. } | StoreError::Conflict(_))
}

/// Everything a second dispatch needs.
pub struct Redispatch {
    pub tickets: TicketStore,
    pub fleet: Arc<Fleet>,
    pub rules: Arc<RuleSet>,
    pub dispatcher: Arc<Dispatcher>,
    /// The tiers a raised severity moves a ticket's deadlines to.
    pub sla: Sla,
    /// One re-plan or drop-out at a time: two plans from the same snapshot
    /// would hand out the same free slot twice.
    planning: tokio::sync::Mutex<()>,
}

impl Redispatch {
    pub fn new(
        tickets: TicketStore,
        fleet: Arc<Fleet>,
        rules: Arc<RuleSet>,
        dispatcher: Arc<Dispatcher>,
        sla: Sla,
    ) -> Redispatch {
        Redispatch { tickets, fleet, rules, dispatcher, sla, planning: tokio::sync::Mutex::new(()) }
    }

    /// What `t` needs from an engineer at `at`, unless its asset or rule is gone.
    fn need<'a>(&'a self, t: &Ticket, at: EpochMs, excluded: &'a [EngineerId]) -> Option<Need<'a>> {
        let asset = self.fleet.asset(t.asset_id.as_str())?;
        let rule = self.rules.rule(&t.model, &t.rule_id)?;
        Some(Need {
            site: asset.location,
            skills: &rule.skills,
            severity: t.severity,
            at,
            on_site_due: t.due.on_site_due,
            excluded,
        })
    }

    /// Who must not get `t`: the absent and whoever declined it.
    fn excluded(t: &Ticket, absent: &[EngineerId], declined: &HashMap<TicketId, Vec<EngineerId>>) -> Vec<EngineerId> {
        absent.iter().chain(declined.get(&t.id).into_iter().flatten()).cloned().collect()
    }

    /// Who must not get `t` at `now`, read from the store.
    async fn excluded_now(&self, t: &Ticket, now: EpochMs) -> Result<Vec<EngineerId>, StoreError> {
        let (absent, declined) = (self.tickets.unavailable_engineers(now).await?, self.tickets.decliners().await?);
        Ok(Self::excluded(t, &absent, &declined))
    }

    /// Dispatches `t` again, never to `not` (the engineer who let it lapse),
    /// the absent or those who declined it. An open ticket nobody can take
    /// records why; an assigned one keeps its engineer, also when they are
    /// still the best choice. The new engineer, if any.
    pub async fn redispatch(
        &self,
        t: &Ticket,
        not: Option<&EngineerId>,
        actor: Actor<'_>,
        why: &str,
        now: EpochMs,
    ) -> Result<Option<EngineerId>, StoreError> {
        let mut excluded = self.excluded_now(t, now).await?;
        excluded.extend(not.cloned());
        let Some(need) = self.need(t, now, &excluded) else { return Ok(None) };
        let choice = self.dispatcher.choose(need, &self.tickets.engineer_loads().await?);
        let note = format!("{why}: {}", choice.note);
        match &choice.engineer {
            Some(e) if t.assignment.engineer_id.as_ref() == Some(e) => {
                self.tickets.note_assignment(&t.id, &note, choice.at_risk).await?;
                return Ok(None);
            }
            Some(e) => {
                let a = Assignment { engineer: e, note: &note, at_risk: choice.at_risk, actor };
                match self.tickets.assign_if(t.id.as_str(), Some(t.assignment.engineer_id.as_ref()), &a, now).await {
                    Ok(_) => {}
                    Err(e) if changed_meanwhile(&e) => return Ok(None),
                    Err(e) => return Err(e),
                }
            }
            None if t.state == TicketState::Open => self.tickets.mark_unassigned(&t.id, &note, now).await?,
            None => {}
        }
        Ok(choice.engineer)
    }

    /// The engineers nearest `t`'s site judged for it now, as dispatch
    /// would (the absent and whoever declined it marked so): the choices a
    /// dispatcher reassigning it picks from. Empty if its asset or rule is gone.
    pub async fn candidates(&self, t: &Ticket, limit: usize, now: EpochMs) -> Result<Vec<Candidate>, StoreError> {
        let excluded = self.excluded_now(t, now).await?;
        let Some(need) = self.need(t, now, &excluded) else { return Ok(Vec::new()) };
        Ok(self.dispatcher.judged(&need, &self.tickets.engineer_loads().await?, limit))
    }

    /// Re-plans every ticket nobody has accepted yet, together.
    /// The solve runs on the blocking pool: at 10,000 engineers a storm's
    /// batch takes seconds, which must not stall the async workers.
    pub async fn replan(self: &Arc<Self>, why: &str, now: EpochMs) -> Result<Replan, StoreError> {
        let _one_at_a_time = self.planning.lock().await;
        self.replan_locked(why, now).await
    }

    async fn replan_locked(self: &Arc<Self>, why: &str, now: EpochMs) -> Result<Replan, StoreError> {
        let tickets = self.tickets.not_yet_accepted().await?;
        let (absent, declined) = (self.tickets.unavailable_engineers(now).await?, self.tickets.decliners().await?);
        let loads = self.tickets.engineer_loads().await?;
        let me = Arc::clone(self);
        let solving = tokio::task::spawn_blocking(move || {
            let planned = me.solve(&tickets, &absent, &declined, loads, now);
            (tickets, planned)
        });
        let (tickets, planned) = match solving.await {
            Ok(done) => done,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(_) => return Ok(Replan::default()),
        };
        let mut out = Replan { considered: planned.len(), ..Replan::default() };
        for (i, c) in planned {
            self.apply(&tickets[i], &c, why, now, &mut out).await?;
        }
        tracing::info!(%why, considered = out.considered, moved = out.moved, unassigned = out.unassigned, "re-planned");
        Ok(out)
    }

    /// The optimal assignment of `tickets` (those whose asset and rule are
    /// known), by index into `tickets`. The planned tickets' own slots are
    /// free for the plan; the others keep theirs.
    fn solve(
        &self,
        tickets: &[Ticket],
        absent: &[EngineerId],
        declined: &HashMap<TicketId, Vec<EngineerId>>,
        mut loads: HashMap<EngineerId, u32>,
        now: EpochMs,
    ) -> Vec<(usize, Choice)> {
        let excluded: Vec<Vec<EngineerId>> = tickets.iter().map(|t| Self::excluded(t, absent, declined)).collect();
        let (planned, needs): (Vec<usize>, Vec<Need<'_>>) = tickets
            .iter()
            .zip(&excluded)
            .enumerate()
            .filter_map(|(i, (t, x))| Some((i, self.need(t, now, x)?)))
            .unzip();
        for e in planned.iter().filter_map(|&i| tickets[i].assignment.engineer_id.as_ref()) {
            if let Some(l) = loads.get_mut(e) {
                *l = l.saturating_sub(1);
            }
        }
        planned.into_iter().zip(self.dispatcher.plan(&needs, &loads)).collect()
    }

    /// Applies one planned choice, only if the ticket is as the plan saw
    /// it: one accepted, reassigned or declined meanwhile stays as it is.
    async fn apply(&self, t: &Ticket, c: &Choice, why: &str, now: EpochMs, out: &mut Replan) -> Result<(), StoreError> {
        if c.engineer == t.assignment.engineer_id {
            return Ok(());
        }
        let note = format!("re-plan ({why}): {}", c.note);
        let held = t.assignment.engineer_id.as_ref();
        let done = match &c.engineer {
            Some(e) => {
                let a = Assignment { engineer: e, note: &note, at_risk: c.at_risk, actor: Actor::Replan };
                self.tickets.assign_if(t.id.as_str(), Some(held), &a, now).await.map(drop)
            }
            None => match held {
                Some(engineer) => {
                    self.tickets.reopen(&t.id, Command::Unplan { engineer }, (Actor::Replan, &note), now).await
                }
                None => Ok(()),
            },
        };
        match done {
            Ok(()) if c.engineer.is_some() => out.moved += 1,
            Ok(()) => out.unassigned += 1,
            Err(e) if changed_meanwhile(&e) => {}
            Err(e) => return Err(e),
        }
        Ok(())
    }

    /// `engineer` drops out until `back_at`: what they hold and have not
    /// started on site goes back to open, then `scope` says what is
    /// planned again without them.
    pub async fn drop_out(
        self: &Arc<Self>,
        engineer: &EngineerId,
        back_at: EpochMs,
        reason: &str,
        (actor, scope): (&str, ReplanScope),
        now: EpochMs,
    ) -> Result<Replan, StoreError> {
        let _one_at_a_time = self.planning.lock().await;
        self.tickets.set_unavailable(engineer, now, back_at, reason, actor).await?;
        let detail = format!("{engineer} unavailable: {reason}");
        let mut withdrawn = Vec::new();
        for id in self.tickets.held_not_started(engineer).await? {
            match self.tickets.reopen(&id, Command::Withdraw { engineer }, (Actor::Person(actor), &detail), now).await {
                Ok(()) => withdrawn.push(id),
                Err(e) if changed_meanwhile(&e) => {}
                Err(e) => return Err(e),
            }
        }
        let replan = match scope {
            ReplanScope::Everything => self.replan_locked(&detail, now).await?,
            ReplanScope::Withdrawn => self.redispatch_each(&withdrawn, &detail, now).await?,
        };
        Ok(Replan { withdrawn: withdrawn.len(), ..replan })
    }

    /// Each of `ids` to the best engineer left, one by one, touching no other ticket.
    async fn redispatch_each(&self, ids: &[TicketId], why: &str, now: EpochMs) -> Result<Replan, StoreError> {
        let mut out = Replan { considered: ids.len(), ..Replan::default() };
        for id in ids {
            let Some(d) = self.tickets.ticket(id.as_str()).await? else { continue };
            match self.redispatch(&d.ticket, None, Actor::Replan, why, now).await? {
                Some(_) => out.moved += 1,
                None => out.unassigned += 1,
            }
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests;
