//! Closing the loop: a ticket is resolved only with the engineer's service
//! report (cause, fix, prevention advice, parts used, first-time fix), due
//! within 2 hours of the repair (a later one is flagged late); the parts it
//! names are consumed and other reservations released. A closed ticket gets
//! one follow-up record from the customer (rating, comment).

use crate::model::EpochMs;
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

/// Every closed ticket gets a follow-up call within this long of closing
/// (the brief: a follow-up for every ticket, 100%).
pub const FOLLOW_UP_WITHIN_MS: i64 = 3 * 86_400_000;

/// A rating at or above this is a satisfied service; below
/// `COMPLAINT_BELOW` the follow-up opens a complaint by itself.
pub const SATISFIED_FROM: u8 = 4;
pub const COMPLAINT_BELOW: u8 = 3;

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
