//! Raising a ticket's severity, whether a forecast says the failure comes
//! before the on-site deadline or the response deadline lapsed. One tier up
//! means the new tier's deadlines (counted from detection, as at opening,
//! under the customer's contract) wherever they are earlier than the
//! ticket's, and a new engineer when the one holding it can no longer be on
//! site in time. Deciding is pure (`raised`); `Redispatch::raise` applies it.

use super::lifecycle::Command;
use super::redispatch::Redispatch;
use super::store::{act, moot_is_false};
use super::TicketStore;
use super::{Actor, StoreError, Ticket, TicketState};
use crate::fleet::Fleet;
use crate::model::{AssetId, EngineerId, EpochMs, Severity, TicketId};
use crate::sla::{Deadlines, Sla};

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

    /// The history line: the tiers and the deadline that now counts.
    pub(super) fn detail(&self, why: &str) -> String {
        let on_site = chrono::DateTime::from_timestamp_millis(self.due.on_site_due).unwrap_or_default();
        format!("{why}: {} -> {}, on site by {}", self.from, self.to, on_site.format("%Y-%m-%d %H:%M UTC"))
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

impl TicketStore {
    /// `r` on its own (the forecast path). Decided once from the ticket as
    /// read, it is guarded by the severity it raises from: a retry after a
    /// commit changes nothing, and a ticket never rises two tiers at once.
    pub async fn raise(&self, id: &TicketId, r: &Raised, detail: &str, now: EpochMs) -> Result<bool, StoreError> {
        let mut tx = self.pool.begin().await?;
        let raised = moot_is_false(act(&mut tx, id, Command::Raise(r), (Actor::Engine, detail), now).await)?;
        tx.commit().await?;
        Ok(raised)
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
