//! Faults customers report, kept with the ticket they belong to: a row of
//! `customer_reports` and a `customer_reported` event (which notifies the
//! site's supervisor), written together, in the opening's transaction when
//! the call opens the ticket, or in one of their own when it attaches to
//! the ticket already open.

use super::{record_event, Event, StoreError, TicketStore};
use crate::model::{AssetId, EpochMs, FaultCode, Severity, TicketId};
use crate::tickets::{Actor, EventKind};
use sqlx::{Any, Transaction};

/// A fault as a customer reported it (by phone to a dispatcher, or on their page).
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerReport {
    pub asset: AssetId,
    /// Which fault, when the caller could name it (a dispatcher from the
    /// model's list); needed when no ticket is open for the unit.
    pub fault: Option<FaultCode>,
    pub symptom: String,
    /// How to reach the caller back (name, phone).
    pub contact: String,
    /// The severity the caller suggests; never below the fault's own tier.
    pub severity: Option<Severity>,
    pub reported_at: EpochMs,
    /// Who recorded it: the dispatcher's or the customer's principal name.
    pub recorded_by: String,
}

impl CustomerReport {
    /// The history's line: what was reported, and who saw the fault first.
    fn detail(&self, engine_lead_ms: Option<i64>) -> String {
        let who_first = match engine_lead_ms {
            Some(lead) if lead > 0 => format!("the engine had detected it {:.1} h earlier", lead as f64 / 3_600_000.0),
            Some(_) => "reported before the engine detected it".to_owned(),
            None => "this report opened the ticket".to_owned(),
        };
        let suggested = self.severity.map(|s| format!("; suggested severity {s}")).unwrap_or_default();
        format!(
            "{} (contact: {}; recorded by {}){suggested}; {who_first}",
            self.symptom, self.contact, self.recorded_by
        )
    }
}

crate::db::record! {
    /// A customer's report as the KPIs read it.
    #[derive(Debug, Clone, PartialEq, serde::Serialize)]
    pub struct ReportRecord {
        pub reported_at: EpochMs,
        /// How long before the call the engine had detected the fault;
        /// `None`: the call opened the ticket.
        pub engine_lead_ms: Option<i64>,
    }
}

/// Writes the report's row and its event on ticket `id`.
pub(super) async fn insert_report(
    tx: &mut Transaction<'_, Any>,
    id: &TicketId,
    r: &CustomerReport,
    engine_lead_ms: Option<i64>,
    now: EpochMs,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO customer_reports (id, ticket_id, asset_id, fault_code, reported_at, symptom, contact, \
         suggested_severity, recorded_by, engine_lead_ms) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
    )
    .bind(format!("CR-{}", &uuid::Uuid::new_v4().simple().to_string()[..16]))
    .bind(id.as_str())
    .bind(r.asset.as_str())
    .bind(r.fault.as_ref().map_or("", |f| f.as_str()))
    .bind(r.reported_at)
    .bind(&r.symptom)
    .bind(&r.contact)
    .bind(r.severity.map(|s| s.as_str()))
    .bind(&r.recorded_by)
    .bind(engine_lead_ms)
    .execute(&mut **tx)
    .await?;
    let detail = r.detail(engine_lead_ms);
    record_event(tx, id, now, &Event::note(EventKind::CustomerReported, Actor::Person(&r.recorded_by), &detail)).await
}

impl TicketStore {
    /// Attaches the report to ticket `id`, already open. The engine's lead
    /// is how long before the call the ticket was detected, unless an
    /// earlier call opened it (then the engine did not see it first).
    pub async fn attach_report(
        &self,
        id: &TicketId,
        detected_at: EpochMs,
        r: &CustomerReport,
        now: EpochMs,
    ) -> Result<Option<i64>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let opened_by_call =
            sqlx::query("SELECT 1 AS x FROM customer_reports WHERE ticket_id = $1 AND engine_lead_ms IS NULL")
                .bind(id.as_str())
                .fetch_optional(&mut *tx)
                .await?
                .is_some();
        let lead = (!opened_by_call).then_some(r.reported_at - detected_at);
        insert_report(&mut tx, id, r, lead, now).await?;
        tx.commit().await?;
        Ok(lead)
    }
}
