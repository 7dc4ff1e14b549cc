//! Raising a ticket's severity, whether a forecast says the failure comes
//! before the on-site deadline or the response deadline lapsed. One tier up
//! means the new tier's deadlines (counted from detection, as at opening,
//! under the customer's contract) wherever they are earlier than the
//! ticket's, and a new engineer when the one holding it can no longer be on
//! site in time. Deciding is pure (`raised`); `Redispatch::raise` applies it.

use super::redispatch::Redispatch;
use super::store::{record_event, Event};
use super::TicketStore;
use super::{Actor, EventKind, StoreError, Ticket, TicketState};
use crate::fleet::Fleet;
use crate::model::{AssetId, EngineerId, EpochMs, Severity, TicketId};
use crate::sla::{Deadlines, Sla};
use sqlx::{Any, Transaction};

/// Deadlines for a ticket of `severity` on `asset` detected at `at`: its
/// customer's contract in force that day, else the standard tier.
pub fn deadlines_for(sla: &Sla, fleet: &Fleet, asset: &AssetId, severity: Severity, at: EpochMs) -> Deadlines {
    let day = chrono::DateTime::from_timestamp_millis(at).unwrap_or_default().date_naive();
    let contract = fleet.asset(asset.as_str()).and_then(|a| fleet.contract(&a.customer, day));
    sla.deadlines(severity, at, contract)
}

/// A ticket one tier up.
#[derive(Debug, Clone, PartialEq)]
pub struct Raised {
    pub from: Severity,
    pub to: Severity,
    /// Each deadline the earlier of the ticket's and the new tier's.
    pub due: Deadlines,
}

impl Raised {
    /// The ticket as the raise leaves it: the new severity and deadlines.
    pub fn apply_to(&self, t: &mut Ticket) {
        t.severity = self.to;
        t.due.response_due = self.due.response_due;
        t.due.on_site_due = self.due.on_site_due;
        t.due.resolution_due = Some(self.due.resolution_due);
    }
}

/// What raising `t` one tier means, given the new tier's deadlines `tier`;
/// `None` for an emergency (the top) or a ticket no longer open.
pub fn raised(t: &Ticket, tier: Deadlines) -> Option<Raised> {
    if t.severity == Severity::Emergency || !t.state.is_open() {
        return None;
    }
    let mut due = Deadlines {
        tier: t.due.sla_tier.clone(),
        response_due: tier.response_due.min(t.due.response_due),
        on_site_due: tier.on_site_due.min(t.due.on_site_due),
        resolution_due: t.due.resolution_due.map_or(tier.resolution_due, |r| r.min(tier.resolution_due)),
    };
    // The tier's name only where one of its deadlines now counts.
    if (due.response_due, due.on_site_due, Some(due.resolution_due))
        != (t.due.response_due, t.due.on_site_due, t.due.resolution_due)
    {
        due.tier = tier.tier;
    }
    Some(Raised { from: t.severity, to: t.severity.raised(), due })
}

impl Raised {
    /// The history line: the tiers and the deadline that now counts.
    pub(super) fn detail(&self, why: &str) -> String {
        let on_site = chrono::DateTime::from_timestamp_millis(self.due.on_site_due).unwrap_or_default();
        format!("{why}: {} -> {}, on site by {}", self.from, self.to, on_site.format("%Y-%m-%d %H:%M UTC"))
    }
}

impl TicketStore {
    /// Writes `r` in `tx` if the ticket is still open at severity `r.from`
    /// (a concurrent raise wins once), with a `severity_raised` event.
    pub(super) async fn apply_raise(
        tx: &mut Transaction<'_, Any>,
        id: &TicketId,
        r: &Raised,
        detail: &str,
        now: EpochMs,
    ) -> Result<bool, StoreError> {
        let changed = sqlx::query(&format!(
            "UPDATE tickets SET severity = $1, sla_tier = $2, response_due = $3, on_site_due = $4, \
             resolution_due = $5, updated_at = $6 WHERE id = $7 AND severity = $8 AND state IN {}",
            TicketState::sql_list(&TicketState::OPEN)
        ))
        .bind(r.to.as_str())
        .bind(&r.due.tier)
        .bind(r.due.response_due)
        .bind(r.due.on_site_due)
        .bind(r.due.resolution_due)
        .bind(now)
        .bind(id.as_str())
        .bind(r.from.as_str())
        .execute(&mut **tx)
        .await?
        .rows_affected();
        if changed == 0 {
            return Ok(false);
        }
        record_event(tx, id, now, &Event::note(EventKind::SeverityRaised, Actor::Engine, detail)).await?;
        Ok(true)
    }

    /// `r` on its own (the forecast path). Decided once from the ticket as
    /// read, it is guarded by the severity it raises from: a retry after a
    /// commit changes nothing, and a ticket never rises two tiers at once.
    pub async fn raise(&self, id: &TicketId, r: &Raised, detail: &str, now: EpochMs) -> Result<bool, StoreError> {
        // The guarded UPDATE takes the row lock; `record_event` numbers the event.
        let mut tx = self.pool.begin().await?;
        if !Self::apply_raise(&mut tx, id, r, detail, now).await? {
            return Ok(false);
        }
        tx.commit().await?;
        Ok(true)
    }
}

impl Redispatch {
    /// The deadlines `t` would have one tier up.
    pub fn raised(&self, t: &Ticket) -> Option<Raised> {
        raised(t, deadlines_for(&self.sla, &self.fleet, &t.asset_id, t.severity.raised(), t.due.detected_at))
    }

    /// After a raise: an open ticket is dispatched again (the new tier may
    /// call for the flying team); an assigned one only when its holder
    /// cannot be on site by the new deadline. Accepted work stays where it is.
    pub async fn redispatch_if_late(
        &self,
        t: &Ticket,
        actor: Actor<'_>,
        why: &str,
        now: EpochMs,
    ) -> Result<Option<EngineerId>, StoreError> {
        let late = match (t.state, &t.assignment.engineer_id) {
            (TicketState::Open, _) => true,
            (TicketState::Assigned, Some(holder)) => !self.holder_on_time(t, holder, now),
            _ => false,
        };
        if !late {
            return Ok(None);
        }
        self.redispatch(t, None, actor, &format!("{why}; severity raised"), now).await
    }

    fn holder_on_time(&self, t: &Ticket, holder: &EngineerId, now: EpochMs) -> bool {
        let site = self.fleet.asset(t.asset_id.as_str()).map(|a| a.location);
        site.and_then(|s| self.dispatcher.arrival(holder, &s, now)).is_some_and(|at| at <= t.due.on_site_due)
    }
}

#[cfg(test)]
mod tests;
