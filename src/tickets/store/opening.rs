//! A ticket's opening as one transaction: inserted, assessed, assigned (or
//! noted unassigned), its parts reserved and its quote set, then committed
//! together. Nothing half-done survives: an engine stopped or a store
//! outage mid-way leaves no ticket without its dispatch and no stock taken
//! for a ticket that does not exist (the opening is retried, or the broker
//! redelivers its message); a write that fails on its data keeps the whole
//! finding aside. The reads it decides from are made before it begins, so
//! it holds SQLite's write lock only for its writes.

use super::{act, assign_in, record_event, unassigned_in, Assignment, Event, StoreError};
use crate::dispatch::{Delivery, PartLine};
use crate::model::{EngineerId, EpochMs, TicketId};
use crate::rules::PartRef;
use crate::tickets::lifecycle::Command;
use crate::tickets::quote::Quote;
use crate::tickets::{Actor, AfterSales, EventKind};
use sqlx::{Any, Transaction};

/// A ticket inserted and not yet committed. Dropped without `commit`,
/// everything it wrote is rolled back.
pub struct Opening {
    tx: Transaction<'static, Any>,
    id: TicketId,
    now: EpochMs,
}

impl Opening {
    pub(super) fn new(tx: Transaction<'static, Any>, id: TicketId, now: EpochMs) -> Self {
        Opening { tx, id, now }
    }

    pub fn id(&self) -> &TicketId {
        &self.id
    }

    /// Records the after-sales assessment on the ticket, and in its history.
    pub async fn set_after_sales(&mut self, a: &AfterSales) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE tickets SET warranty = $1, warranty_note = $2, remedy = $3, remedy_note = $4, updated_at = $5 \
             WHERE id = $6",
        )
        .bind(a.warranty.as_str())
        .bind(&a.warranty_note)
        .bind(a.remedy.as_str())
        .bind(&a.remedy_note)
        .bind(self.now)
        .bind(self.id.as_str())
        .execute(&mut *self.tx)
        .await?;
        let detail = format!("{}: {}; {}: {}", a.warranty, a.warranty_note, a.remedy, a.remedy_note);
        let event = Event::note(EventKind::Assessed, Actor::Engine, detail.trim_end_matches(": "));
        record_event(&mut self.tx, &self.id, self.now, &event).await
    }

    /// Pre-assigns the engineer dispatch chose, with its reason.
    pub async fn assign(&mut self, engineer: &EngineerId, note: &str, at_risk: bool) -> Result<(), StoreError> {
        let a = Assignment { engineer, note, at_risk, actor: Actor::Dispatch };
        assign_in(&mut self.tx, &self.id, None, &a, self.now).await
    }

    /// Records that no engineer could be proposed, and why.
    pub async fn unassigned(&mut self, note: &str) -> Result<(), StoreError> {
        unassigned_in(&mut self.tx, &self.id, note, self.now).await
    }

    /// Reserves `need` at the soonest depot holding enough, or requests it
    /// (`crate::dispatch::reserve`).
    pub async fn reserve_part(
        &mut self,
        need: &PartRef,
        deliveries: &[Delivery],
        on_site_due: EpochMs,
        purchase: (EpochMs, u32),
    ) -> Result<PartLine, StoreError> {
        Ok(crate::dispatch::reserve(&mut self.tx, &self.id, need, deliveries, on_site_due, purchase).await?)
    }

    /// Records the customer's call that opened this ticket.
    pub async fn customer_report(&mut self, r: &super::CustomerReport) -> Result<(), StoreError> {
        super::reports::insert_report(&mut self.tx, &self.id, r, None, self.now).await
    }

    /// The summary of the parts decision, on the ticket itself.
    pub async fn set_parts_note(&mut self, note: &str) -> Result<(), StoreError> {
        Ok(crate::dispatch::set_parts_note(&mut self.tx, &self.id, note).await?)
    }

    /// Quotes the work the warranty does not cover.
    pub async fn quote(&mut self, quote: &Quote) -> Result<(), StoreError> {
        let detail =
            format!("{:.2} {} (parts, labour, travel); to be accepted before work", quote.total, quote.currency);
        act(&mut self.tx, &self.id, Command::Quote(quote), (Actor::Engine, &detail), self.now).await
    }

    /// Commits everything the opening wrote; the ticket's id.
    pub async fn commit(self) -> Result<TicketId, StoreError> {
        self.tx.commit().await?;
        Ok(self.id)
    }
}
