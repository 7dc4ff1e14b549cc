//! The after-sales writes on a ticket: the assessment (warranty, remedy),
//! the quote and its acceptance, the service report that resolves it and
//! the customer's follow-up. The records themselves and the decisions
//! (`quote`, `remedy`, `report`, `warranty`) know nothing of the store.

use super::{act, apply, lock, TicketStore};
use crate::model::{EpochMs, TicketId};
use crate::tickets::lifecycle::{decide, may_act, Command};
use crate::tickets::remedy::Remedy;
use crate::tickets::report::{FiledReport, FollowUp, InvalidRecord, ServiceReport, REPORT_DUE_MS};
use crate::tickets::warranty::Warranty;
use crate::tickets::{Actor, StoreError};

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
    /// Books the visit window agreed with the customer.
    pub async fn book<'a>(
        &self,
        id: &TicketId,
        a: &crate::tickets::appointment::Appointment,
        actor: impl Into<Actor<'a>>,
        note: &str,
        now: EpochMs,
    ) -> Result<(), StoreError> {
        a.validate(now)?;
        let utc = |t| chrono::DateTime::from_timestamp_millis(t).map(|t| t.format("%Y-%m-%d %H:%M").to_string());
        let window = format!("visit {} to {} UTC", utc(a.from).unwrap_or_default(), utc(a.to).unwrap_or_default());
        let detail = if note.is_empty() { window } else { format!("{window}: {note}") };
        let mut tx = self.pool.begin().await?;
        act(&mut tx, id, Command::Book(a), (actor.into(), &detail), now).await?;
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
        may_act(&locked.view(), actor).map_err(|r| StoreError::refused(id, r))?;
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
    /// Records the follow-up and, when the customer was dissatisfied
    /// enough, the complaint it files, together.
    pub async fn record_follow_up(
        &self,
        id: &TicketId,
        f: &FollowUp,
        complaint: Option<&crate::tickets::complaints::NewComplaint>,
    ) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let locked = lock(&mut tx, id.as_str()).await?;
        if !(1..=5).contains(&f.rating) {
            return Err(InvalidRecord::Rating.into());
        }
        let d = decide(&locked.view(), Command::FollowUp(f)).map_err(|r| StoreError::refused(id, r))?;
        let detail = format!("rating {}/5: {}", f.rating, f.comment);
        apply(&mut tx, id, locked.seq, &d, (Actor::Person(&f.recorded_by), &detail), f.recorded_at).await?;
        if let Some(c) = complaint {
            crate::tickets::complaints::file_in(&mut tx, c).await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
