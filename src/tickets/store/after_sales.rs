//! The after-sales writes on a ticket: the assessment (warranty, remedy),
//! the quote and its acceptance, the service report that resolves it and
//! the customer's follow-up. The records themselves and the decisions
//! (`quote`, `remedy`, `report`, `warranty`) know nothing of the store.

use super::{act, apply, lock, moot_is_false, record_event, Event, TicketStore};
use crate::db::col;
use crate::model::{AssetId, EpochMs, FaultCode, TicketId, TicketKind};
use crate::tickets::lifecycle::{decide, Command};
use crate::tickets::quote::Quote;
use crate::tickets::remedy::Remedy;
use crate::tickets::report::{FiledReport, FollowUp, InvalidRecord, ServiceReport, REPORT_DUE_MS};
use crate::tickets::warranty::Warranty;
use crate::tickets::{Actor, EventKind, StoreError, TicketState};

/// What a ticket settles besides the repair, decided when it opens:
/// warranty position and remedy, each with its reason.
#[derive(Debug, Clone, PartialEq)]
pub struct AfterSales {
    pub warranty: Warranty,
    pub warranty_note: String,
    pub remedy: Remedy,
    pub remedy_note: String,
}

impl TicketStore {
    /// Quotes out-of-warranty work; whether it was recorded (not on a
    /// ticket that was cancelled or finished meanwhile).
    pub async fn set_quote(&self, id: &TicketId, quote: &Quote, now: EpochMs) -> Result<bool, StoreError> {
        let detail =
            format!("{:.2} {} (parts, labour, travel); to be accepted before work", quote.total, quote.currency);
        let mut tx = self.pool.begin().await?;
        let quoted = moot_is_false(act(&mut tx, id, Command::Quote(quote), (Actor::Engine, &detail), now).await)?;
        tx.commit().await?;
        Ok(quoted)
    }

    /// The customer's acceptance of the ticket's quote (`NotFound` for no such ticket).
    pub async fn accept_quote<'a>(
        &self,
        id: &TicketId,
        actor: impl Into<Actor<'a>>,
        now: EpochMs,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        act(&mut tx, id, Command::AcceptQuote, (actor.into(), ""), now).await?;
        tx.commit().await?;
        Ok(())
    }
}

impl TicketStore {
    /// When earlier repairs of `fault` on `asset` were resolved (repair
    /// tickets only, `except` aside).
    pub async fn prior_repairs(
        &self,
        asset: &AssetId,
        fault: &FaultCode,
        except: &TicketId,
    ) -> Result<Vec<EpochMs>, StoreError> {
        let rows = sqlx::query(&format!(
            "SELECT e.at FROM ticket_events e JOIN tickets t ON t.id = e.ticket_id \
             WHERE t.asset_id = $1 AND t.fault_code = $2 AND t.kind = {} AND t.id <> $3 \
             AND e.to_state = {} ORDER BY e.at",
            TicketKind::Repair.sql(),
            TicketState::Resolved.sql()
        ))
        .bind(asset.as_str())
        .bind(fault.as_str())
        .bind(except.as_str())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(|r| Ok(col::<i64>(r, "at")?)).collect()
    }

    /// Records the after-sales assessment on the ticket, and in its history.
    pub async fn set_after_sales(&self, id: &TicketId, a: &AfterSales, now: EpochMs) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        sqlx::query(
            "UPDATE tickets SET warranty = $1, warranty_note = $2, remedy = $3, remedy_note = $4, updated_at = $5 \
             WHERE id = $6",
        )
        .bind(a.warranty.as_str())
        .bind(&a.warranty_note)
        .bind(a.remedy.as_str())
        .bind(&a.remedy_note)
        .bind(now)
        .bind(id.as_str())
        .execute(&mut *tx)
        .await?;
        let detail = format!("{}: {}; {}: {}", a.warranty, a.warranty_note, a.remedy, a.remedy_note);
        let event = Event::note(EventKind::Assessed, Actor::Engine, detail.trim_end_matches(": "));
        record_event(&mut tx, id, now, &event).await?;
        tx.commit().await?;
        Ok(())
    }
}

impl TicketStore {
    /// Resolves an on-site ticket with its service report: consumes the
    /// parts used, releases the other reservations, records the event.
    pub async fn resolve_with_report<'a>(
        &self,
        id: &TicketId,
        report: &ServiceReport,
        actor: impl Into<Actor<'a>>,
        now: EpochMs,
    ) -> Result<FiledReport, StoreError> {
        let actor = actor.into();
        let filed = FiledReport {
            report: report.clone(),
            filed_by: actor.as_str().to_owned(),
            filed_at: now,
            late: now - report.repaired_at > REPORT_DUE_MS,
        };
        let parts_used: Vec<String> = report.parts_used.iter().map(|u| u.part.clone()).collect();
        let mut tx = self.pool.begin().await?;
        let locked = lock(&mut tx, id.as_str()).await?;
        report.validate(now)?;
        let d = decide(&locked.view(), Command::Resolve { parts_used: &parts_used })
            .map_err(|r| StoreError::refused(id, r))?;
        let late = if filed.late { " (filed late)" } else { "" };
        let detail = format!("service report: {}; fix: {}{late}", report.cause, report.fix);
        apply(&mut tx, id, locked.seq, &d, (actor, &detail), now).await?;
        sqlx::query("UPDATE tickets SET service_report = $1 WHERE id = $2")
            .bind(super::json(&filed)?)
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(filed)
    }

    /// The customer's follow-up of a closed ticket; one per ticket.
    pub async fn record_follow_up(&self, id: &TicketId, f: &FollowUp) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let locked = lock(&mut tx, id.as_str()).await?;
        if !(1..=5).contains(&f.rating) {
            return Err(InvalidRecord::Rating.into());
        }
        let d = decide(&locked.view(), Command::FollowUp(f)).map_err(|r| StoreError::refused(id, r))?;
        let detail = format!("rating {}/5: {}", f.rating, f.comment);
        apply(&mut tx, id, locked.seq, &d, (Actor::Person(&f.recorded_by), &detail), f.recorded_at).await?;
        tx.commit().await?;
        Ok(())
    }
}
