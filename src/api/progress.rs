//! The customer's view of a ticket: its progress without internal notes,
//! evidence or engineer identities beyond a first name. Served by progress
//! code to anyone holding it, and to a signed-in customer for its own tickets.

use super::extract::{Json, Path};
use super::tickets::FollowUpBody;
use super::{ApiError, AppState, Reads};
use crate::model::now_ms;
use crate::tickets::{Actor, EventRecord, Ticket, TicketDetail};
use axum::extract::State;
use serde_json::{json, Value};

/// Codes are 16 characters; anything far longer is not worth a lookup.
const MAX_CODE_LEN: usize = 64;

pub async fn progress(State(s): State<Reads>, Path(code): Path<String>) -> Result<axum::Json<Value>, ApiError> {
    let d = by_code(&s, &code).await?;
    Ok(axum::Json(customer_view(&s, &d.ticket, Some(&d.events))))
}

/// The ticket's description in the other languages of the pages, from
/// the rule that raised it (empty when the rule is gone).
pub(super) fn translations(s: &Reads, t: &Ticket) -> Value {
    s.rules.rule(&t.model, &t.rule_id).map_or(json!({}), |r| json!(r.translations))
}

/// Who acts when the holder of a progress code does (the customer's page).
const CODE_HOLDER: &str = "customer (progress code)";

async fn by_code(s: &Reads, code: &str) -> Result<TicketDetail, ApiError> {
    let unknown = || ApiError::not_found("progress code", code);
    if code.len() > MAX_CODE_LEN {
        return Err(unknown());
    }
    s.tickets.ticket_by_progress_code(code).await?.ok_or_else(unknown)
}

/// The customer accepts the out-of-warranty quote from their page.
pub async fn accept_quote(State(s): State<AppState>, Path(code): Path<String>) -> Result<axum::Json<Value>, ApiError> {
    let d = by_code(&s, &code).await?;
    s.tickets.accept_quote(&d.ticket.id, Actor::Person(CODE_HOLDER), now_ms()).await?;
    progress(State(s.reads), Path(code)).await
}

/// The customer rates the closed work from their page.
pub async fn follow_up(
    State(s): State<AppState>,
    Path(code): Path<String>,
    Json(b): Json<FollowUpBody>,
) -> Result<axum::Json<Value>, ApiError> {
    let d = by_code(&s, &code).await?;
    s.service.follow_up(&d.ticket.id, &b.into_follow_up(CODE_HOLDER)?).await?;
    progress(State(s.reads), Path(code)).await
}

/// The ticket as its customer sees it; the history (state changes and when)
/// when the events are at hand.
pub(super) fn customer_view(s: &Reads, t: &Ticket, events: Option<&[EventRecord]>) -> Value {
    let engineer = t.assignment.engineer_id.as_ref().and_then(|e| s.fleet.engineer(e.as_str()));
    let first_name = engineer.and_then(|e| e.name.split_whitespace().next());
    let mut v = json!({
        "ticket": t.id,
        "asset": t.asset_id,
        "fault": t.description,
        "translations": translations(s, t),
        "severity": t.severity,
        "state": t.state,
        "detected_at": t.due.detected_at,
        "response_due": t.due.response_due,
        "on_site_due": t.due.on_site_due,
        "resolution_due": t.due.resolution_due,
        "sla_tier": t.due.sla_tier,
        "engineer_assigned": t.assignment.engineer_id.is_some(),
        "engineer_first_name": first_name,
        "appointment_from": t.assignment.appointment_from,
        "appointment_to": t.assignment.appointment_to,
        "warranty": t.after_sales.warranty,
        "remedy": t.after_sales.remedy,
        "quote": t.after_sales.quote,
        "quote_accepted_at": t.after_sales.quote_accepted_at,
        "progress_code": t.after_sales.progress_code,
        "follow_up": t.closure.follow_up.as_ref().map(|f| json!({ "rating": f.rating, "recorded_at": f.recorded_at })),
    });
    if let Some(events) = events {
        let history: Vec<Value> =
            events.iter().filter_map(|e| e.to_state.map(|state| json!({ "at": e.at, "state": state }))).collect();
        v["history"] = Value::Array(history);
    }
    v
}
