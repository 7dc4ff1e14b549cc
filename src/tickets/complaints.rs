//! Complaints: records of their own, against a ticket, an engineer or a
//! model (the brief's largest theme: 66% of one month's complaints were
//! about slow repairs). Each is answered by the SLA's response deadline for
//! its severity, resolved, and accepted or rejected by the customer; a
//! rejected one is resolved again. One on a ticket is in the ticket's
//! history (`complaint_received`), which tells the site's supervisor; a
//! follow-up rated below 3 files one by itself.

use super::store::{record_event, Event};
use super::{Actor, EventKind, StoreError};
use crate::db::DbError;
use crate::model::{AssetId, EngineerId, EpochMs, ModelId, Severity, TicketId};
use serde::{Deserialize, Serialize};
use sqlx::{Any, Transaction};

crate::model::named_enum! {
    /// What the complaint is about.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum ComplaintKind: "complaint kind" {
        /// The repair took too long (the brief's most common complaint).
        SlowRepair = "slow_repair",
        /// The same fault came back.
        RepeatFault = "repeat_fault",
        /// Nobody came when announced.
        NoShow = "no_show",
        /// The engineer arrived without the part.
        PartsDelay = "parts_delay",
        /// The engineer's conduct.
        Conduct = "conduct",
        /// The quality of the work or the product.
        Quality = "quality",
        Billing = "billing",
        /// Rated the service below 3 in the follow-up.
        Dissatisfied = "dissatisfied",
        Other = "other",
    }
}

crate::model::named_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum ComplaintState: "complaint state" {
        Open = "open",
        /// Someone answered the customer (by the response deadline, one hopes).
        Responded = "responded",
        /// A resolution was offered; the customer's answer is awaited.
        Resolved = "resolved",
        Accepted = "accepted",
        /// The customer did not accept the resolution: it is to be resolved again.
        Rejected = "rejected",
    }
}

impl ComplaintState {
    /// Which states each step may start from.
    pub fn before(step: ComplaintStep) -> &'static [ComplaintState] {
        use ComplaintState::*;
        match step {
            ComplaintStep::Respond => &[Open],
            ComplaintStep::Resolve => &[Open, Responded, Rejected],
            ComplaintStep::Answer => &[Resolved],
        }
    }
}

/// The steps of a complaint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ComplaintStep {
    Respond,
    Resolve,
    Answer,
}

crate::db::text_column!(ComplaintKind, ComplaintState);

crate::db::record! {
    #[derive(Debug, Clone, PartialEq, Serialize)]
    pub struct Complaint {
        pub id: String,
        pub ticket_id: Option<TicketId>,
        pub engineer_id: Option<EngineerId>,
        pub model: Option<ModelId>,
        pub asset_id: Option<AssetId>,
        pub customer: String,
        pub kind: ComplaintKind,
        pub severity: Severity,
        pub description: String,
        pub state: ComplaintState,
        pub received_at: EpochMs,
        /// The SLA's response time for the complaint's severity.
        pub response_due: EpochMs,
        pub responded_at: Option<EpochMs>,
        pub response: String,
        pub resolved_at: Option<EpochMs>,
        pub resolution: String,
        /// When the customer accepted or rejected the resolution.
        pub answered_at: Option<EpochMs>,
        pub recorded_by: String,
    }
}

/// A complaint about to be filed.
#[derive(Debug, Clone, PartialEq)]
pub struct NewComplaint {
    pub ticket: Option<TicketId>,
    pub engineer: Option<EngineerId>,
    pub model: Option<ModelId>,
    pub asset: Option<AssetId>,
    pub customer: String,
    pub kind: ComplaintKind,
    pub severity: Severity,
    pub description: String,
    pub received_at: EpochMs,
    pub response_due: EpochMs,
    pub recorded_by: String,
}

crate::db::store!(
    /// Complaints and their answers.
    ComplaintStore,
    complaints
);

/// Writes the complaint and, when it is about a ticket, its event.
pub(super) async fn file_in(tx: &mut Transaction<'_, Any>, c: &NewComplaint) -> Result<String, StoreError> {
    let id = format!("CP-{}", &uuid::Uuid::new_v4().simple().to_string()[..16]);
    sqlx::query(
        "INSERT INTO complaints (id, ticket_id, engineer_id, model, asset_id, customer, kind, severity, description, \
         state, received_at, response_due, recorded_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)",
    )
    .bind(&id)
    .bind(c.ticket.as_ref().map(|t| t.as_str()))
    .bind(c.engineer.as_ref().map(|e| e.as_str()))
    .bind(c.model.as_ref().map(|m| m.as_str()))
    .bind(c.asset.as_ref().map(|a| a.as_str()))
    .bind(&c.customer)
    .bind(c.kind.as_str())
    .bind(c.severity.as_str())
    .bind(&c.description)
    .bind(ComplaintState::Open.as_str())
    .bind(c.received_at)
    .bind(c.response_due)
    .bind(&c.recorded_by)
    .execute(&mut **tx)
    .await?;
    if let Some(ticket) = &c.ticket {
        let detail = format!("{id} ({}, {}): {}", c.kind, c.severity, c.description);
        let event = Event::note(EventKind::ComplaintReceived, Actor::Person(&c.recorded_by), &detail);
        record_event(tx, ticket, c.received_at, &event).await?;
    }
    Ok(id)
}

/// Which complaints a listing shows, newest first.
#[derive(Debug, Clone, Default)]
pub struct ComplaintFilter {
    pub state: Option<ComplaintState>,
    /// Only this customer's (a customer's own view).
    pub customer: Option<String>,
    pub since: Option<EpochMs>,
    pub limit: i64,
    pub offset: i64,
}

impl ComplaintStore {
    pub async fn file(&self, c: &NewComplaint) -> Result<String, StoreError> {
        let mut tx = self.pool.begin().await?;
        let id = file_in(&mut tx, c).await?;
        tx.commit().await?;
        Ok(id)
    }

    pub async fn complaint(&self, id: &str) -> Result<Option<Complaint>, DbError> {
        let sql = format!("SELECT {} FROM complaints WHERE id = $1", Complaint::columns());
        let row = sqlx::query(&sql).bind(id).fetch_optional(&self.pool).await?;
        row.map(|r| crate::db::from_row(&r)).transpose()
    }

    pub async fn list(&self, f: &ComplaintFilter) -> Result<Vec<Complaint>, DbError> {
        let mut sql = format!("SELECT {} FROM complaints WHERE 1 = 1", Complaint::columns());
        let binds = crate::db::where_equal(
            &mut sql,
            &[("state", f.state.map(|s| s.as_str())), ("customer", f.customer.as_deref())],
        );
        if let Some(since) = f.since {
            sql.push_str(&format!(" AND received_at >= {since}"));
        }
        sql.push_str(&format!(
            " ORDER BY received_at DESC, id LIMIT {} OFFSET {}",
            f.limit.clamp(1, 10_000),
            f.offset.max(0)
        ));
        let mut q = sqlx::query(&sql);
        for b in binds {
            q = q.bind(b);
        }
        q.fetch_all(&self.pool).await?.iter().map(crate::db::from_row).collect()
    }

    /// Takes `step` on complaint `id` with its text (a response, a
    /// resolution, or the customer's acceptance); `false` when its state
    /// does not allow the step.
    pub async fn step(
        &self,
        id: &str,
        step: ComplaintStep,
        text: &str,
        accepted: bool,
        now: EpochMs,
    ) -> Result<bool, DbError> {
        let (set, to) = match step {
            ComplaintStep::Respond => ("responded_at = $1, response = $2", ComplaintState::Responded),
            ComplaintStep::Resolve => {
                ("resolved_at = $1, resolution = $2, answered_at = NULL", ComplaintState::Resolved)
            }
            ComplaintStep::Answer if accepted => {
                ("answered_at = $1, response = response || $2", ComplaintState::Accepted)
            }
            ComplaintStep::Answer => ("answered_at = $1, response = response || $2", ComplaintState::Rejected),
        };
        let from: Vec<String> = ComplaintState::before(step).iter().map(|s| s.sql()).collect();
        let sql = format!(
            "UPDATE complaints SET {set}, state = {} WHERE id = $3 AND state IN ({})",
            to.sql(),
            from.join(", ")
        );
        let text = match step {
            ComplaintStep::Answer if text.is_empty() => String::new(),
            ComplaintStep::Answer => format!("\ncustomer: {text}"),
            _ => text.to_owned(),
        };
        let done = sqlx::query(&sql).bind(now).bind(text).bind(id).execute(&self.pool).await?;
        Ok(done.rows_affected() == 1)
    }
}
