//! Closing the loop: a ticket is resolved only with the engineer's service
//! report (cause, fix, prevention advice, parts used, first-time fix), due
//! within 2 hours of the repair (a later one is flagged late); the parts it
//! names are consumed and other reservations released. A closed ticket gets
//! one follow-up record from the customer (rating, comment).

use super::lifecycle::{decide, Command};
use super::store::{apply, insert_event, lock, Event, Locked};
use super::EventKind;
use super::TicketStore;
use super::{StoreError, TicketState};
use crate::model::{EpochMs, TicketId};
use serde::{Deserialize, Serialize};

/// The report is due this long after the repair.
pub const REPORT_DUE_MS: i64 = 2 * 3_600_000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PartUsed {
    pub part: String,
    pub qty: u32,
}

/// What the engineer files.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceReport {
    pub cause: String,
    pub fix: String,
    #[serde(default)]
    pub prevention: String,
    #[serde(default)]
    pub parts_used: Vec<PartUsed>,
    pub first_time_fix: bool,
    /// When the repair was finished.
    pub repaired_at: EpochMs,
}

/// The report as stored: who filed it, when, and whether it was late.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FiledReport {
    #[serde(flatten)]
    pub report: ServiceReport,
    pub filed_by: String,
    pub filed_at: EpochMs,
    /// Filed more than 2 hours after the repair.
    pub late: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FollowUp {
    /// 1 (very dissatisfied) to 5 (very satisfied).
    pub rating: u8,
    #[serde(default)]
    pub comment: String,
    pub recorded_by: String,
    pub recorded_at: EpochMs,
}

/// Why a report or follow-up was refused.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum InvalidRecord {
    #[error("the report needs a cause and a fix")]
    Incomplete,
    #[error("repaired_at lies in the future")]
    RepairedInFuture,
    #[error("a part used needs a part number and a quantity of at least 1")]
    BadPart,
    #[error("rating must be 1 to 5")]
    Rating,
}

impl ServiceReport {
    pub fn validate(&self, now: EpochMs) -> Result<(), InvalidRecord> {
        if self.cause.trim().is_empty() || self.fix.trim().is_empty() {
            return Err(InvalidRecord::Incomplete);
        }
        if self.repaired_at > now {
            return Err(InvalidRecord::RepairedInFuture);
        }
        if self.parts_used.iter().any(|p| p.qty == 0 || p.part.trim().is_empty()) {
            return Err(InvalidRecord::BadPart);
        }
        Ok(())
    }
}

fn json<T: Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::Db(crate::db::DbError::Corrupt(e.to_string())))
}

impl TicketStore {
    /// Resolves an on-site ticket with its service report: consumes the
    /// parts used, releases the other reservations, records the event.
    pub async fn resolve_with_report(
        &self,
        id: &TicketId,
        report: &ServiceReport,
        actor: &str,
        now: EpochMs,
    ) -> Result<FiledReport, StoreError> {
        let filed = FiledReport {
            report: report.clone(),
            filed_by: actor.to_owned(),
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
            .bind(json(&filed)?)
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(filed)
    }

    /// The customer's follow-up of a closed ticket; one per ticket.
    pub async fn record_follow_up(&self, id: &TicketId, f: &FollowUp) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        let Locked { seq, state, .. } = lock(&mut tx, id.as_str()).await?;
        if !(1..=5).contains(&f.rating) {
            return Err(InvalidRecord::Rating.into());
        }
        if state != TicketState::Closed {
            return Err(StoreError::NotClosed(id.clone()));
        }
        let updated = sqlx::query("UPDATE tickets SET follow_up = $1 WHERE id = $2 AND follow_up IS NULL")
            .bind(json(f)?)
            .bind(id.as_str())
            .execute(&mut *tx)
            .await?
            .rows_affected();
        if updated == 0 {
            return Err(StoreError::FollowUpExists(id.clone()));
        }
        let detail = format!("rating {}/5: {}", f.rating, f.comment);
        let event = Event::note(EventKind::FollowUp, &f.recorded_by, &detail);
        insert_event(&mut tx, id, seq, f.recorded_at, &event).await?;
        tx.commit().await?;
        Ok(())
    }
}
