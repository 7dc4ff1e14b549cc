//! Ticket endpoints: list with filters, one with evidence and history, the
//! lifecycle actions, a manual reassignment and the customer's acceptance of
//! a quote.

use super::auth::actor;
use super::extract::{Json, Page, Path, Query};
use super::{ApiError, AppState, Reads};
use crate::access::{Principal, Scope};
use crate::model::TicketId;
use crate::model::{now_ms, AssetId, EngineerId, Severity, TicketKind};
use crate::tickets::report::{FollowUp, PartUsed, ServiceReport};
use crate::tickets::{Actor, Ticket, TicketDetail, TicketFilter, TicketState};
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
    /// Only tickets still open (the dispatcher's board).
    active: Option<bool>,
    limit: Option<i64>,
    offset: Option<i64>,
}

/// The tickets the caller may see: an engineer's own, a customer's on its
/// units (in the customer's view), every ticket for staff.
pub async fn list(
    State(s): State<Reads>,
    p: Principal,
    Query(q): Query<ListQuery>,
) -> Result<axum::Json<Value>, ApiError> {
    let page = Page::new(q.limit, q.offset)?;
    let mut filter = TicketFilter {
        state: q.state,
        severity: q.severity,
        kind: q.kind,
        asset: q.asset.map(AssetId::new),
        engineer: q.engineer.map(EngineerId::new),
        assets: None,
        active: q.active.unwrap_or(false),
        limit: page.limit,
        offset: page.offset,
    };
    match &p.scope {
        Scope::All => {}
        Scope::Engineer(e) if filter.engineer.as_ref().is_none_or(|f| f == e) => filter.engineer = Some(e.clone()),
        Scope::Engineer(_) => return Ok(axum::Json(page.wrap(Vec::<Value>::new()))),
        Scope::Customer(_) => {
            // Which engineer holds what is internal: no filtering by it either.
            filter.engineer = None;
            filter.assets =
                Some(s.fleet.assets().iter().filter(|a| p.sees_asset(&a.customer)).map(|a| a.id.clone()).collect())
        }
    }
    let tickets = s.tickets.list_tickets(&filter).await?;
    let items: Vec<Value> = tickets.iter().map(|t| view(&s, &p, t, None)).collect();
    Ok(axum::Json(page.wrap(items)))
}

/// One ticket; for staff with the rule that raised it (its checks, limits,
/// skills and translated descriptions), which the console's chart and
/// checks-in-words read.
pub async fn one(State(s): State<Reads>, p: Principal, Path(id): Path<String>) -> Result<axum::Json<Value>, ApiError> {
    let d = visible(&s, &p, &id).await?;
    let mut v = view(&s, &p, &d.ticket, Some(&d));
    if p.customer().is_none() {
        v["rule"] = serde_json::to_value(s.rules.rule(&d.ticket.model, &d.ticket.rule_id)).unwrap_or_default();
    }
    Ok(axum::Json(v))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AcknowledgeBody {
    ids: Vec<String>,
}

/// Tickets acknowledged at once, at most.
const MAX_ACKNOWLEDGE: usize = 200;

/// A dispatcher has seen these tickets (an alarm storm's board at once);
/// those no longer open, or unknown, come back as skipped.
pub async fn acknowledge(
    State(s): State<AppState>,
    p: Principal,
    Json(b): Json<AcknowledgeBody>,
) -> Result<axum::Json<Value>, ApiError> {
    if b.ids.is_empty() || b.ids.len() > MAX_ACKNOWLEDGE {
        return Err(ApiError::bad_request(format!("ids must name 1 to {MAX_ACKNOWLEDGE} tickets")));
    }
    let now = now_ms();
    let (mut acknowledged, mut skipped) = (Vec::new(), Vec::new());
    for id in b.ids {
        let id = TicketId::new(id);
        if s.tickets.acknowledge(&id, actor(&p), now).await? {
            acknowledged.push(id);
        } else {
            skipped.push(id);
        }
    }
    Ok(axum::Json(serde_json::json!({ "acknowledged": acknowledged, "skipped": skipped })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CandidatesQuery {
    limit: Option<usize>,
}

/// The engineers nearest the ticket's site judged for it now, as dispatch
/// judges them: those who could take it first, on time before late.
pub async fn candidates(
    State(s): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    Query(q): Query<CandidatesQuery>,
) -> Result<axum::Json<Value>, ApiError> {
    let t = visible(&s, &p, &id).await?.ticket;
    let limit = q.limit.unwrap_or(20);
    if !(1..=200).contains(&limit) {
        return Err(ApiError::bad_request("limit must be between 1 and 200"));
    }
    let items = s.redispatch.candidates(&t, limit, now_ms()).await?;
    Ok(axum::Json(serde_json::json!({ "ticket": t.id, "on_site_due": t.due.on_site_due, "items": items })))
}

/// The ticket `id` if the caller may see it; otherwise, as for a ticket
/// that does not exist, 404 (another's ticket is not confirmed to exist).
pub(super) async fn visible(s: &Reads, p: &Principal, id: &str) -> Result<TicketDetail, ApiError> {
    let d = s.tickets.ticket(id).await?.filter(|d| sees(s, p, &d.ticket));
    d.ok_or_else(|| ApiError::not_found("ticket", id))
}

pub(super) fn sees(s: &Reads, p: &Principal, t: &Ticket) -> bool {
    let customer = s.fleet.asset(t.asset_id.as_str()).map(|a| a.customer.as_str());
    p.sees_ticket(t.assignment.engineer_id.as_ref(), customer)
}

/// A ticket as the caller sees it: the customer's view for customers; the
/// whole record for staff; no progress code for engineers (it is the
/// customer's key).
pub(super) fn view(s: &Reads, p: &Principal, t: &Ticket, detail: Option<&TicketDetail>) -> Value {
    if p.customer().is_some() {
        return super::progress::customer_view(s, t, detail.map(|d| d.events.as_slice()));
    }
    let mut v = match detail {
        Some(d) => serde_json::to_value(d),
        None => serde_json::to_value(t),
    }
    .unwrap_or_default();
    if p.engineer().is_some() {
        if let Some(o) = v.as_object_mut() {
            o.remove("progress_code");
        }
    }
    v["translations"] = super::progress::translations(s, t);
    v
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TransitionBody {
    to: TicketState,
    #[serde(default)]
    note: String,
}

/// A lifecycle step; an engineer takes the field's steps on their own tickets.
pub async fn transition(
    State(s): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    Json(b): Json<TransitionBody>,
) -> Result<axum::Json<Value>, ApiError> {
    check_note(&b.note)?;
    visible(&s, &p, &id).await?;
    if !p.may_step_to(b.to) {
        return Err(ApiError::forbidden(format!("a {} may not move a ticket to {}", p.role, b.to)));
    }
    let t = s.tickets.transition(&id, b.to, actor(&p), &b.note, now_ms()).await?;
    Ok(axum::Json(view(&s, &p, &t, None)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReassignBody {
    engineer_id: String,
    #[serde(default)]
    note: String,
}

/// A dispatcher's override: allowed even against the proposal, but the
/// ticket records the travel time, whether the on-site deadline can still be
/// met, and any required skill the engineer lacks.
pub async fn reassign(
    State(s): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    Json(b): Json<ReassignBody>,
) -> Result<axum::Json<Value>, ApiError> {
    check_note(&b.note)?;
    let engineer = s.fleet.engineer(&b.engineer_id).ok_or_else(|| {
        ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "unknown_engineer", format!("no engineer '{}'", b.engineer_id))
    })?;
    let ticket = visible(&s, &p, &id).await?.ticket;
    let now = now_ms();
    let from = s.dispatcher.position(&engineer.id);
    let travel = s
        .fleet
        .asset(ticket.asset_id.as_str())
        .zip(from)
        .map(|(a, from)| s.dispatcher.travel_minutes(&from, &a.location));
    let at_risk = travel.is_none_or(|m| now + (m * 60_000.0) as i64 > ticket.due.on_site_due);
    let rule = s.rules.rule(&ticket.model, &ticket.rule_id);
    let missing = rule.map(|r| crate::dispatch::missing_skills(engineer, &r.skills)).unwrap_or_default();
    let mut note = format!(
        "manual assignment by {}: ~{:.0} min travel, {}",
        p.name,
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
    let t = s.tickets.assign(&id, &engineer.id, &note, at_risk, actor(&p), now).await?;
    Ok(axum::Json(view(&s, &p, &t, None)))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeclineBody {
    /// Who declines: the caller, when an engineer; named by the office
    /// when it passes on an engineer's call.
    engineer_id: Option<String>,
    reason: String,
}

/// The assigned engineer declines: the ticket goes back to open and is
/// dispatched again at once, never to them.
pub async fn decline(
    State(s): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    Json(b): Json<DeclineBody>,
) -> Result<axum::Json<Value>, ApiError> {
    check_note(&b.reason)?;
    if b.reason.trim().is_empty() {
        return Err(ApiError::bad_request("reason must say why the engineer declines"));
    }
    let engineer = match (p.engineer(), b.engineer_id) {
        (Some(own), None) => own.clone(),
        (Some(own), Some(named)) if own.as_str() == named => own.clone(),
        (Some(_), Some(_)) => return Err(ApiError::forbidden("an engineer declines only for themselves")),
        (None, Some(named)) => EngineerId::new(named),
        (None, None) => return Err(ApiError::bad_request("engineer_id must name who declines")),
    };
    visible(&s, &p, &id).await?;
    let now = now_ms();
    let declined = s.tickets.decline(&id, &engineer, &b.reason, now).await?;
    let why = format!("declined by {engineer}");
    s.redispatch.redispatch(&declined, None, Actor::Dispatch, &why, now).await?;
    let t = s.tickets.ticket(&id).await?.ok_or_else(|| ApiError::not_found("ticket", &id))?.ticket;
    // Re-dispatched, it is someone else's now: an engineer learns only that it went.
    match sees(&s, &p, &t) {
        true => Ok(axum::Json(view(&s, &p, &t, None))),
        false => Ok(axum::Json(serde_json::json!({ "id": t.id, "declined_by": engineer }))),
    }
}

/// The customer accepts the ticket's out-of-warranty quote; work may start.
pub async fn accept_quote(
    State(s): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    visible(&s, &p, &id).await?;
    s.tickets.accept_quote(&TicketId::new(&id), actor(&p), now_ms()).await?;
    one(State(s.reads), p, Path(id)).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReportBody {
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
    p: Principal,
    Path(id): Path<String>,
    Json(b): Json<ReportBody>,
) -> Result<axum::Json<Value>, ApiError> {
    check_note(&b.cause)?;
    visible(&s, &p, &id).await?;
    let report = ServiceReport {
        cause: b.cause,
        fix: b.fix,
        prevention: b.prevention,
        parts_used: b.parts_used,
        first_time_fix: b.first_time_fix,
        repaired_at: b.repaired_at,
    };
    s.tickets.resolve_with_report(&TicketId::new(&id), &report, actor(&p), now_ms()).await?;
    one(State(s.reads), p, Path(id)).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FollowUpBody {
    rating: u8,
    #[serde(default)]
    comment: String,
}

impl FollowUpBody {
    /// The follow-up as `who` records it now.
    pub(super) fn into_follow_up(self, who: &str) -> Result<FollowUp, ApiError> {
        check_note(&self.comment)?;
        Ok(FollowUp { rating: self.rating, comment: self.comment, recorded_by: who.to_owned(), recorded_at: now_ms() })
    }
}

/// The customer's rating and comment on a closed ticket (given by the
/// customer, or taken down by the office on a call).
pub async fn follow_up(
    State(s): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    Json(b): Json<FollowUpBody>,
) -> Result<axum::Json<Value>, ApiError> {
    visible(&s, &p, &id).await?;
    s.service.follow_up(&TicketId::new(&id), &b.into_follow_up(&p.name)?).await?;
    one(State(s.reads), p, Path(id)).await
}

pub(super) fn check_note(note: &str) -> Result<(), ApiError> {
    if note.len() > 4000 {
        return Err(ApiError::bad_request("note is limited to 4000 bytes"));
    }
    Ok(())
}
