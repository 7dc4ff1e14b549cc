//! The customer's view: a ticket's progress by its progress code, without
//! internal notes, engineer identities or evidence, and nothing of any other
//! ticket.

use super::extract::Path;
use super::{ApiError, Reads};
use axum::extract::State;
use serde_json::{json, Value};

/// Codes are 16 characters; anything far longer is not worth a lookup.
const MAX_CODE_LEN: usize = 64;

pub async fn progress(State(s): State<Reads>, Path(code): Path<String>) -> Result<axum::Json<Value>, ApiError> {
    let unknown = || ApiError::not_found("progress code", &code);
    if code.len() > MAX_CODE_LEN {
        return Err(unknown());
    }
    let d = s.tickets.ticket_by_progress_code(&code).await?.ok_or_else(unknown)?;
    let t = &d.ticket;
    let history: Vec<Value> = d
        .events
        .iter()
        .filter_map(|e| e.to_state.as_ref().map(|state| json!({ "at": e.at, "state": state })))
        .collect();
    Ok(axum::Json(json!({
        "ticket": t.id,
        "asset": t.asset_id,
        "fault": t.description,
        "severity": t.severity,
        "state": t.state,
        "detected_at": t.due.detected_at,
        "response_due": t.due.response_due,
        "on_site_due": t.due.on_site_due,
        "resolution_due": t.due.resolution_due,
        "sla_tier": t.due.sla_tier,
        "engineer_assigned": t.assignment.engineer_id.is_some(),
        "warranty": t.after_sales.warranty,
        "remedy": t.after_sales.remedy,
        "quote": t.after_sales.quote,
        "quote_accepted_at": t.after_sales.quote_accepted_at,
        "history": history,
    })))
}
