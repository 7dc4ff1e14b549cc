//! Notifications as operations see them: what was sent to whom, what is
//! pending, and what is dead (with its last error), and the hand retry of
//! a dead one.

use super::extract::Page;
use super::{ApiError, Reads};
use crate::outputs::notify::{Filter, Status};
use axum::extract::{Path, Query, State};
use axum::Json;
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NotificationQuery {
    status: Option<String>,
    ticket: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

/// Newest first, filtered by delivery status and ticket.
pub async fn list(State(s): State<Reads>, Query(q): Query<NotificationQuery>) -> Result<Json<Value>, ApiError> {
    let page = Page::new(q.limit, q.offset)?;
    let status = q.status.as_deref().map(str::parse::<Status>).transpose();
    let status = status.map_err(|e| ApiError::bad_request(e.to_string()))?;
    let filter = Filter { status, ticket: q.ticket, limit: page.limit, offset: page.offset };
    let found = s.notifications.list(&filter).await?;
    let backlog = s.notifications.backlog().await?;
    let mut body = page.wrap(found);
    body["backlog"] = serde_json::to_value(backlog).unwrap_or_default();
    Ok(Json(body))
}

/// A dead notification pending again, its attempts counted afresh.
pub async fn retry(State(s): State<Reads>, Path(id): Path<String>) -> Result<Json<Value>, ApiError> {
    if s.notifications.retry(&id, crate::model::now_ms()).await? {
        return Ok(Json(serde_json::json!({ "id": id, "status": Status::Pending })));
    }
    match s.notifications.status(&id).await? {
        Some(status) => Err(ApiError::new(
            axum::http::StatusCode::CONFLICT,
            "not_dead",
            format!("notification '{id}' is {status}, not dead"),
        )),
        None => Err(ApiError::not_found("notification", &id)),
    }
}
