//! Ticket endpoints: list with filters, one with evidence and history, the
//! lifecycle actions, a manual reassignment and the customer's acceptance of
//! a quote.

use super::extract::{Json, Page, Path, Query};
use super::{ApiError, AppState, Reads};
use crate::model::TicketId;
use crate::model::{now_ms, AssetId, EngineerId, Severity, TicketKind};
use crate::tickets::report::{FollowUp, PartUsed, ServiceReport};
use crate::tickets::{Actor, TicketFilter, TicketState};
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    state: Option<TicketState>,
    severity: Option<Severity>,
    kind: Option<TicketKind>,
    asset: Option<String>,
    engineer: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

pub async fn list(State(s): State<Reads>, Query(q): Query<ListQuery>) -> Result<axum::Json<Value>, ApiError> {
    let page = Page::new(q.limit, q.offset)?;
    let filter = TicketFilter {
        state: q.state,
        severity: q.severity,
        kind: q.kind,
        asset: q.asset.map(AssetId::new),
        engineer: q.engineer.map(EngineerId::new),
        limit: page.limit,
        offset: page.offset,
    };
    Ok(axum::Json(page.wrap(s.tickets.list_tickets(&filter).await?)))
}

pub async fn one(State(s): State<Reads>, Path(id): Path<String>) -> Result<axum::Json<Value>, ApiError> {
    let detail = s.tickets.ticket(&id).await?.ok_or_else(|| ApiError::not_found("ticket", &id))?;
    Ok(axum::Json(serde_json::to_value(detail).unwrap_or_default()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransitionBody {
    to: TicketState,
    actor: String,
    #[serde(default)]
    note: String,
}

pub async fn transition(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Json(b): Json<TransitionBody>,
) -> Result<axum::Json<Value>, ApiError> {
    require_actor(&b.actor, &b.note)?;
    let t = s.tickets.transition(&id, b.to, Actor::Person(&b.actor), &b.note, now_ms()).await?;
    Ok(axum::Json(serde_json::to_value(t).unwrap_or_default()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReassignBody {
    engineer_id: String,
    actor: String,
    #[serde(default)]
    note: String,
}

/// A dispatcher's override: allowed even against the proposal, but the
/// ticket records the travel time, whether the on-site deadline can still be
/// met, and any required skill the engineer lacks.
pub async fn reassign(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Json(b): Json<ReassignBody>,
) -> Result<axum::Json<Value>, ApiError> {
    require_actor(&b.actor, &b.note)?;
    let engineer = s.fleet.engineer(&b.engineer_id).ok_or_else(|| {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "unknown_engineer", format!("no engineer '{}'", b.engineer_id))
    })?;
    let ticket = s.tickets.ticket(&id).await?.ok_or_else(|| ApiError::not_found("ticket", &id))?.ticket;
    let now = now_ms();
    let from = s.dispatcher.position(&engineer.id);
    let travel = s
        .fleet
        .asset(ticket.asset_id.as_str())
        .zip(from)
        .map(|(a, from)| s.dispatcher.travel_minutes(&from, &a.location));
    let at_risk = travel.is_none_or(|m| now + (m * 60_000.0) as i64 > ticket.due.on_site_due);
    let rule = s.rules.for_model(&ticket.model).and_then(|m| m.rules.iter().find(|r| r.id == ticket.rule_id));
    let missing = rule.map(|r| crate::dispatch::missing_skills(engineer, &r.skills)).unwrap_or_default();
    let mut note = format!(
        "manual assignment by {}: ~{:.0} min travel, {}",
        b.actor,
        travel.unwrap_or(f64::NAN),
        if at_risk {
            "cannot reach the site before the on-site deadline"
        } else {
            "arrives before the on-site deadline"
        }
    );
    if !missing.is_empty() {
        let names: Vec<_> = missing.iter().map(|m| m.as_str()).collect();
        note.push_str(&format!("; lacks required skill(s): {}", names.join(", ")));
    }
    if !b.note.is_empty() {
        note.push_str(&format!("; {}", b.note));
    }
    let t = s.tickets.assign(&id, &engineer.id, &note, at_risk, Actor::Person(&b.actor), now).await?;
    Ok(axum::Json(serde_json::to_value(t).unwrap_or_default()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeclineBody {
    engineer_id: String,
    reason: String,
}

/// The assigned engineer declines: the ticket goes back to open and is
/// dispatched again at once, never to them.
pub async fn decline(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Json(b): Json<DeclineBody>,
) -> Result<axum::Json<Value>, ApiError> {
    require_actor(&b.engineer_id, &b.reason)?;
    if b.reason.trim().is_empty() {
        return Err(ApiError::bad_request("reason must say why the engineer declines"));
    }
    let now = now_ms();
    let declined = s.tickets.decline(&id, &EngineerId::new(&b.engineer_id), &b.reason, now).await?;
    let why = format!("declined by {}", b.engineer_id);
    s.redispatch.redispatch(&declined, None, Actor::Dispatch, &why, now).await?;
    let t = s.tickets.ticket(&id).await?.ok_or_else(|| ApiError::not_found("ticket", &id))?.ticket;
    Ok(axum::Json(serde_json::to_value(t).unwrap_or_default()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcceptQuoteBody {
    /// Who accepted on the customer's side.
    actor: String,
}

/// The customer accepts the ticket's out-of-warranty quote; work may start.
pub async fn accept_quote(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Json(b): Json<AcceptQuoteBody>,
) -> Result<axum::Json<Value>, ApiError> {
    require_actor(&b.actor, "")?;
    s.tickets.accept_quote(&TicketId::new(&id), Actor::Person(&b.actor), now_ms()).await?;
    let t = s.tickets.ticket(&id).await?.ok_or_else(|| ApiError::not_found("ticket", &id))?.ticket;
    Ok(axum::Json(serde_json::to_value(t).unwrap_or_default()))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportBody {
    /// The engineer filing it.
    actor: String,
    cause: String,
    fix: String,
    #[serde(default)]
    prevention: String,
    #[serde(default)]
    parts_used: Vec<PartUsed>,
    first_time_fix: bool,
    repaired_at: crate::model::EpochMs,
}

/// Resolves an on-site ticket with the engineer's service report.
pub async fn report(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Json(b): Json<ReportBody>,
) -> Result<axum::Json<Value>, ApiError> {
    require_actor(&b.actor, &b.cause)?;
    let report = ServiceReport {
        cause: b.cause,
        fix: b.fix,
        prevention: b.prevention,
        parts_used: b.parts_used,
        first_time_fix: b.first_time_fix,
        repaired_at: b.repaired_at,
    };
    s.tickets.resolve_with_report(&TicketId::new(&id), &report, Actor::Person(&b.actor), now_ms()).await?;
    one(State(s.reads), Path(id)).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FollowUpBody {
    actor: String,
    rating: u8,
    #[serde(default)]
    comment: String,
}

/// The customer's rating and comment on a closed ticket.
pub async fn follow_up(
    State(s): State<AppState>,
    Path(id): Path<String>,
    Json(b): Json<FollowUpBody>,
) -> Result<axum::Json<Value>, ApiError> {
    require_actor(&b.actor, &b.comment)?;
    let f = FollowUp { rating: b.rating, comment: b.comment, recorded_by: b.actor, recorded_at: now_ms() };
    s.tickets.record_follow_up(&TicketId::new(&id), &f).await?;
    one(State(s.reads), Path(id)).await
}

pub(super) fn require_actor(actor: &str, note: &str) -> Result<(), ApiError> {
    if actor.trim().is_empty() || actor.len() > 200 {
        return Err(ApiError::bad_request("actor must name who takes the action (at most 200 bytes)"));
    }
    if note.len() > 4000 {
        return Err(ApiError::bad_request("note is limited to 4000 bytes"));
    }
    Ok(())
}
