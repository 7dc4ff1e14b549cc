//! Operations endpoints: health, Prometheus metrics, the OpenAPI document
//! and the dead letters.

use super::extract::{Page, Query};
use super::{ApiError, AppState, CONSOLE, OPENAPI};
use crate::decode::DeadLetterReason;
use axum::extract::State;
use axum::http::{header, StatusCode};
use axum::response::IntoResponse;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::atomic::Ordering;

/// 200 while the database answers and ingest runs; MQTT state is reported,
/// not required (the engine survives broker outages).
pub async fn health(State(s): State<AppState>) -> Result<axum::Json<Value>, ApiError> {
    s.db.ping().await?;
    if s.metrics.ingest_running.load(Ordering::Relaxed) != 1 {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "ingest_stopped",
            "the ingest pipeline is not running",
        ));
    }
    let mqtt = s.metrics.mqtt_connected.load(Ordering::Relaxed) == 1;
    Ok(axum::Json(json!({ "status": "ok", "database": "ok", "mqtt_connected": mqtt })))
}

pub async fn metrics(State(s): State<AppState>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], s.metrics.render())
}

pub async fn console() -> impl IntoResponse {
    axum::response::Html(CONSOLE)
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
    State(s): State<AppState>,
    Query(q): Query<DeadLetterQuery>,
) -> Result<axum::Json<Value>, ApiError> {
    let page = Page::new(q.limit, q.offset)?;
    let reason = match q.reason.as_deref() {
        None => None,
        Some(r) => {
            Some(DeadLetterReason::parse(r).ok_or_else(|| ApiError::bad_request(format!("unknown reason '{r}'")))?)
        }
    };
    let letters = s.db.dead_letters(reason, page.limit, page.offset).await?;
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
