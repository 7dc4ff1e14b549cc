//! The customer's side of the loop as the office works it: faults
//! customers report (by phone to a dispatcher, or on their own page),
//! which go through the ticket service (the same deadlines, assessment and
//! dispatch as a detected fault) or attach to the ticket already open for
//! the unit; and the follow-up calls due on closed tickets.

use super::auth::actor;
use super::extract::Path;
use super::{tickets, ApiError, AppState};
use crate::access::Principal;
use crate::model::{now_ms, AssetId, EpochMs, FaultCode, Severity};
use crate::tickets::{CustomerReport, ReportError, Reported};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportBody {
    asset: String,
    /// The fault, from the model's list (`GET /api/v1/models`); needed when
    /// no ticket is open for the unit.
    fault: Option<String>,
    symptom: String,
    contact: String,
    severity: Option<Severity>,
    /// When the customer called; now when absent.
    reported_at: Option<EpochMs>,
}

/// How far back a call may be entered (taken down on paper, typed in later).
const BACKDATE_LIMIT_MS: i64 = 7 * 86_400_000;

impl ReportBody {
    fn into_report(self, p: &Principal) -> Result<CustomerReport, ApiError> {
        let (symptom, contact) = (self.symptom.trim().to_owned(), self.contact.trim().to_owned());
        if symptom.is_empty() || symptom.chars().count() > 2000 {
            return Err(ApiError::bad_request("symptom must be 1 to 2000 characters"));
        }
        if contact.is_empty() || contact.chars().count() > 200 {
            return Err(ApiError::bad_request("contact must be 1 to 200 characters"));
        }
        let now = now_ms();
        let reported_at = self.reported_at.unwrap_or(now);
        if reported_at > now + 60_000 || reported_at < now - BACKDATE_LIMIT_MS {
            return Err(ApiError::bad_request("reported_at must lie within the last 7 days and not in the future"));
        }
        Ok(CustomerReport {
            asset: AssetId::new(self.asset),
            fault: self.fault.filter(|f| !f.is_empty()).map(FaultCode::new),
            symptom,
            contact,
            severity: self.severity,
            reported_at,
            recorded_by: actor(p).as_str().to_owned(),
        })
    }
}

/// 201 with the ticket the report opened, or 200 with the open ticket it
/// was attached to; `engine_lead_ms` says how long before the call the
/// engine had detected the fault.
pub async fn report(
    State(s): State<AppState>,
    p: Principal,
    Json(b): Json<ReportBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let seen = s.fleet.asset(&b.asset).is_some_and(|a| p.sees_asset(&a.customer));
    if !seen {
        return Err(ApiError::not_found("asset", &b.asset));
    }
    let r = b.into_report(&p)?;
    let (status, outcome, ticket, lead) = match s.service.report(&r).await.map_err(refused)? {
        Reported::Opened { ticket } => (StatusCode::CREATED, "opened", ticket, None),
        Reported::Attached { ticket, engine_lead_ms } => (StatusCode::OK, "attached", ticket, engine_lead_ms),
    };
    let Json(view) = tickets::one(State(s.reads.clone()), p, Path(ticket.to_string())).await?;
    Ok((status, Json(json!({ "outcome": outcome, "engine_lead_ms": lead, "ticket": view }))))
}

fn refused(e: ReportError) -> ApiError {
    let message = e.to_string();
    let unprocessable = |code| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message.clone());
    match e {
        ReportError::UnknownAsset(id) => ApiError::not_found("asset", &id),
        ReportError::UnknownFault { .. } => unprocessable("unknown_fault"),
        ReportError::FaultNeeded { .. } => unprocessable("fault_needed"),
        ReportError::Raced(_) => ApiError::new(StatusCode::CONFLICT, "raced", message.clone()),
        ReportError::Store(store) => store.into(),
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FollowUpQuery {
    limit: Option<i64>,
    offset: Option<i64>,
}

/// Closed tickets whose follow-up call is still to be made, the most
/// overdue first; each call is due within 3 days of closing.
pub async fn follow_ups_due(
    State(s): State<super::Reads>,
    axum::extract::Query(q): axum::extract::Query<FollowUpQuery>,
) -> Result<Json<Value>, ApiError> {
    let page = super::extract::Page::new(q.limit, q.offset)?;
    let now = now_ms();
    let due = s.tickets.follow_ups_due(page.limit, page.offset).await?;
    let items = due
        .into_iter()
        .map(|d| {
            let customer = s.fleet.asset(d.ticket.asset_id.as_str()).map(|a| a.customer.clone());
            json!({ "ticket": d.ticket.id, "asset": d.ticket.asset_id, "customer": customer, "fault": d.ticket.description,
                    "closed_at": d.closed_at, "due_at": d.due_at, "overdue": d.due_at < now,
                    "progress_code": d.ticket.after_sales.progress_code })
        })
        .collect();
    Ok(Json(page.wrap(items)))
}
