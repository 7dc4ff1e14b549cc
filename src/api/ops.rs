//! Operations endpoints: liveness and readiness, Prometheus metrics, the
//! OpenAPI document, dead letters and dead findings.

use super::extract::{Page, PageQuery, Query};
use super::{ApiError, Reads, OPENAPI};
use crate::decode::DeadLetterReason;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::atomic::Ordering;
use std::time::Duration;

/// How long a probe waits for the database: both routes answer within 1 s.
const PING_TIMEOUT: Duration = Duration::from_millis(500);

/// Liveness: 200 while ingest runs, whatever its dependencies do (the engine
/// survives their outages); their state is reported, not required.
pub async fn health(State(s): State<Reads>) -> Result<axum::Json<Value>, ApiError> {
    if s.metrics.ingest_running.load(Ordering::Relaxed) != 1 {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "ingest_stopped",
            "the ingest pipeline is not running",
        ));
    }
    let database = if database_answers(&s).await { "ok" } else { "unreachable" };
    let mqtt = s.metrics.mqtt_connected.load(Ordering::Relaxed) == 1;
    Ok(axum::Json(json!({ "status": "ok", "database": database, "mqtt_connected": mqtt })))
}

/// Readiness: 503 naming every failing component while it lasts: the
/// database (not answering, or a store call waiting out an error), the
/// broker (not connected or not subscribed), the backlog (intake paused on a
/// full budget), ingest (stopped).
pub async fn ready(State(s): State<Reads>) -> Result<axum::Json<Value>, ApiError> {
    let m = &s.metrics;
    let mut failing = Vec::new();
    if m.ingest_running.load(Ordering::Relaxed) != 1 {
        failing.push("ingest: not running");
    }
    if !database_answers(&s).await {
        failing.push("database: not answering");
    } else if m.store_retrying.load(Ordering::Relaxed) > 0 {
        failing.push("database: writes are being retried");
    }
    if m.mqtt_connected.load(Ordering::Relaxed) != 1 || m.mqtt_subscribed.load(Ordering::Relaxed) != 1 {
        failing.push("broker: not connected and subscribed");
    }
    if m.intake_paused.load(Ordering::Relaxed) == 1 {
        failing.push("backlog: the held budget is full");
    }
    if failing.is_empty() {
        return Ok(axum::Json(json!({ "status": "ready" })));
    }
    Err(ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "not_ready", failing.join("; ")))
}

async fn database_answers(s: &Reads) -> bool {
    matches!(tokio::time::timeout(PING_TIMEOUT, s.tickets.ping()).await, Ok(Ok(())))
}

pub async fn metrics(State(s): State<Reads>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], s.metrics.render())
}

pub async fn openapi() -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/json")], OPENAPI)
}

pub async fn not_found() -> ApiError {
    ApiError::new(StatusCode::NOT_FOUND, "no_such_route", "no such endpoint; see /openapi.json")
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeadLetterQuery {
    reason: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

/// Newest first; the raw payload is returned as text (lossy) and as hex (exact).
pub async fn dead_letters(
    State(s): State<Reads>,
    Query(q): Query<DeadLetterQuery>,
) -> Result<axum::Json<Value>, ApiError> {
    let page = Page::new(q.limit, q.offset)?;
    let reason = q.reason.as_deref().map(str::parse::<DeadLetterReason>).transpose();
    let reason = reason.map_err(|e| ApiError::bad_request(e.to_string()))?;
    let letters = s.dead_letters.dead_letters(reason, page.limit, page.offset).await?;
    let items = letters
        .into_iter()
        .map(|d| {
            let text = String::from_utf8_lossy(&d.payload).into_owned();
            let hex = d.payload_hex();
            json!({ "id": d.id, "received_at": d.received_at, "topic": d.topic, "reason": d.reason,
                    "detail": d.detail, "payload_text": text, "payload_hex": hex, "payload_len": d.payload.len() })
        })
        .collect();
    Ok(axum::Json(page.wrap(items)))
}

/// Findings kept aside because a write failed on their data, newest first.
pub async fn dead_findings(State(s): State<Reads>, Query(q): Query<PageQuery>) -> Result<axum::Json<Value>, ApiError> {
    let page = q.page()?;
    let found = s.dead_findings.dead_findings(page.limit, page.offset).await?;
    let items = found.into_iter().map(|d| serde_json::to_value(d).unwrap_or_default()).collect();
    Ok(axum::Json(page.wrap(items)))
}
