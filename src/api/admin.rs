//! The admin's routes: API tokens (issued with their secret shown once,
//! listed without it, revoked), console users (added, listed without their
//! hashes, disabled) and the audit log.

use super::extract::{Json, Path, Query};
use super::internal_events::TokenIssued;
use super::{extract::PageQuery, ApiError, AppState, Reads};
use crate::access::{Principal, Role};
use crate::model::{now_ms, EngineerId};
use crate::telemetry::InternalEvent;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::Value;

pub async fn tokens(State(s): State<AppState>) -> Result<axum::Json<Value>, ApiError> {
    Ok(axum::Json(serde_json::json!({ "items": s.tokens.list().await? })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct IssueBody {
    name: String,
    role: Role,
    engineer_id: Option<String>,
    customer: Option<String>,
}

/// A new token; its secret is in this answer and nowhere else.
pub async fn issue(
    State(s): State<AppState>,
    Json(b): Json<IssueBody>,
) -> Result<(StatusCode, axum::Json<Value>), ApiError> {
    let p = Principal::new(&b.name, b.role, b.engineer_id.map(EngineerId::new), b.customer)?;
    p.check_against(&s.fleet)?;
    let issued = s.tokens.issue(&p, now_ms()).await?;
    TokenIssued { id: &issued.record.id, name: &p.name, role: p.role }.emit(&s.api_metrics);
    Ok((StatusCode::CREATED, axum::Json(serde_json::to_value(issued).unwrap_or_default())))
}

pub async fn revoke(State(s): State<AppState>, Path(id): Path<String>) -> Result<StatusCode, ApiError> {
    match s.tokens.revoke(&id, now_ms()).await? {
        true => Ok(StatusCode::NO_CONTENT),
        false => Err(ApiError::not_found("live token", &id)),
    }
}

pub async fn users(State(s): State<AppState>) -> Result<axum::Json<Value>, ApiError> {
    Ok(axum::Json(serde_json::json!({ "items": s.users.list().await? })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UserBody {
    name: String,
    role: Role,
    engineer_id: Option<String>,
    customer: Option<String>,
    password: String,
}

pub async fn add_user(State(s): State<AppState>, Json(b): Json<UserBody>) -> Result<StatusCode, ApiError> {
    let p = Principal::new(&b.name, b.role, b.engineer_id.map(EngineerId::new), b.customer)?;
    p.check_against(&s.fleet)?;
    s.users.add(&p, &b.password, now_ms()).await?;
    Ok(StatusCode::CREATED)
}

/// The user can no longer sign in and their sessions end.
pub async fn disable_user(State(s): State<AppState>, Path(name): Path<String>) -> Result<StatusCode, ApiError> {
    match s.users.disable(&name, now_ms()).await? {
        true => Ok(StatusCode::NO_CONTENT),
        false => Err(ApiError::not_found("active user", &name)),
    }
}

/// Every write through the API, newest first.
pub async fn audit(State(s): State<Reads>, Query(q): Query<PageQuery>) -> Result<axum::Json<Value>, ApiError> {
    let page = q.page()?;
    Ok(axum::Json(page.wrap(s.audit.list(page.limit, page.offset).await?)))
}
