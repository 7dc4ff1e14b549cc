//! Complaints through the API: filed by the office or by customers on
//! their own units and tickets, answered, resolved, and accepted or
//! rejected by the customer. Customers see their own only.

use super::extract::{Page, Path};
use super::{tickets, ApiError, AppState, Reads};
use crate::access::Principal;
use crate::model::{now_ms, AssetId, EngineerId, ModelId, Severity, TicketId};
use crate::tickets::complaints::{
    Complaint, ComplaintFilter, ComplaintKind, ComplaintState, ComplaintStep, NewComplaint,
};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComplaintBody {
    ticket: Option<String>,
    engineer: Option<String>,
    model: Option<String>,
    asset: Option<String>,
    kind: ComplaintKind,
    severity: Option<Severity>,
    description: String,
}

/// What the complaint is against, filled in from its ticket: its unit,
/// model, engineer and customer.
struct Against {
    ticket: Option<TicketId>,
    asset: Option<AssetId>,
    model: Option<ModelId>,
    engineer: Option<EngineerId>,
    customer: String,
}

async fn against(s: &Reads, p: &Principal, b: &ComplaintBody) -> Result<Against, ApiError> {
    let mut a = Against {
        ticket: None,
        asset: b.asset.as_deref().map(AssetId::new),
        model: b.model.as_deref().map(ModelId::new),
        engineer: b.engineer.as_deref().map(EngineerId::new),
        customer: p.customer().unwrap_or_default().to_owned(),
    };
    if let Some(id) = &b.ticket {
        let t = tickets::visible(s, p, id).await?.ticket;
        a.asset = a.asset.or(Some(t.asset_id.clone()));
        a.model = a.model.or(Some(t.model.clone()));
        a.engineer = a.engineer.or(t.assignment.engineer_id.clone());
        a.ticket = Some(t.id);
    }
    if let Some(asset) = &a.asset {
        let unit = s.fleet.asset(asset.as_str()).filter(|u| p.sees_asset(&u.customer));
        let unit = unit.ok_or_else(|| ApiError::not_found("asset", asset.as_str()))?;
        a.model = a.model.or(Some(unit.model.clone()));
        a.customer = unit.customer.clone();
    }
    if a.engineer.as_ref().is_some_and(|e| s.fleet.engineer(e.as_str()).is_none()) {
        return Err(ApiError::not_found("engineer", a.engineer.as_ref().map_or("", |e| e.as_str())));
    }
    if a.ticket.is_none() && a.asset.is_none() && a.engineer.is_none() && a.model.is_none() {
        return Err(ApiError::bad_request("a complaint is against a ticket, an asset, an engineer or a model"));
    }
    Ok(a)
}

/// 201 with the complaint filed; one on a ticket is in its history and
/// tells the site's supervisor.
pub async fn file(
    State(s): State<AppState>,
    p: Principal,
    Json(b): Json<ComplaintBody>,
) -> Result<(StatusCode, Json<Complaint>), ApiError> {
    let description = b.description.trim().to_owned();
    if description.is_empty() || description.chars().count() > 4000 {
        return Err(ApiError::bad_request("description must be 1 to 4000 characters"));
    }
    let a = against(&s.reads, &p, &b).await?;
    let (severity, now) = (b.severity.unwrap_or(Severity::Major), now_ms());
    let c = NewComplaint {
        response_due: s.service.complaint_response_due(a.asset.as_ref(), severity, now),
        ticket: a.ticket,
        engineer: a.engineer,
        model: a.model,
        asset: a.asset,
        customer: a.customer,
        kind: b.kind,
        severity,
        description,
        received_at: now,
        recorded_by: super::auth::actor(&p).as_str().to_owned(),
    };
    let id = s.complaints.file(&c).await?;
    let filed = s.complaints.complaint(&id).await?.ok_or_else(|| ApiError::not_found("complaint", &id))?;
    Ok((StatusCode::CREATED, Json(filed)))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ComplaintQuery {
    state: Option<ComplaintState>,
    limit: Option<i64>,
    offset: Option<i64>,
}

/// Newest first; a customer's own only.
pub async fn list(
    State(s): State<Reads>,
    p: Principal,
    Query(q): Query<ComplaintQuery>,
) -> Result<Json<Value>, ApiError> {
    let page = Page::new(q.limit, q.offset)?;
    let customer = p.customer().map(str::to_owned);
    let f = ComplaintFilter { state: q.state, customer, since: None, limit: page.limit, offset: page.offset };
    Ok(Json(page.wrap(s.complaints.list(&f).await?)))
}

async fn seen(s: &Reads, p: &Principal, id: &str) -> Result<Complaint, ApiError> {
    let c = s.complaints.complaint(id).await?.filter(|c| p.customer().is_none_or(|own| own == c.customer));
    c.ok_or_else(|| ApiError::not_found("complaint", id))
}

pub async fn one(State(s): State<Reads>, p: Principal, Path(id): Path<String>) -> Result<Json<Complaint>, ApiError> {
    Ok(Json(seen(&s, &p, &id).await?))
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepBody {
    #[serde(default)]
    text: String,
    /// The customer's answer to a resolution.
    accepted: Option<bool>,
}

async fn step(
    s: Reads,
    p: Principal,
    id: String,
    step: ComplaintStep,
    b: StepBody,
) -> Result<Json<Complaint>, ApiError> {
    seen(&s, &p, &id).await?;
    let text = b.text.trim();
    if step != ComplaintStep::Answer && text.is_empty() {
        return Err(ApiError::bad_request("text must not be empty"));
    }
    if text.chars().count() > 4000 {
        return Err(ApiError::bad_request("text must be at most 4000 characters"));
    }
    let accepted = match (step, b.accepted) {
        (ComplaintStep::Answer, None) => return Err(ApiError::bad_request("accepted (true or false) is required")),
        (_, a) => a.unwrap_or(false),
    };
    if !s.complaints.step(&id, step, text, accepted, now_ms()).await? {
        let state = seen(&s, &p, &id).await?.state;
        return Err(ApiError::new(StatusCode::CONFLICT, "complaint_state", format!("complaint {id} is {state}")));
    }
    Ok(Json(seen(&s, &p, &id).await?))
}

pub async fn respond(
    State(s): State<Reads>,
    p: Principal,
    Path(id): Path<String>,
    Json(b): Json<StepBody>,
) -> Result<Json<Complaint>, ApiError> {
    step(s, p, id, ComplaintStep::Respond, b).await
}

pub async fn resolve(
    State(s): State<Reads>,
    p: Principal,
    Path(id): Path<String>,
    Json(b): Json<StepBody>,
) -> Result<Json<Complaint>, ApiError> {
    step(s, p, id, ComplaintStep::Resolve, b).await
}

pub async fn answer(
    State(s): State<Reads>,
    p: Principal,
    Path(id): Path<String>,
    Json(b): Json<StepBody>,
) -> Result<Json<Complaint>, ApiError> {
    step(s, p, id, ComplaintStep::Answer, b).await
}
