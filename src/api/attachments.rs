//! Comments and attachments on a ticket: the engineer's photos from site,
//! the office's notes. Staff only (the policy keeps customers out; a
//! customer's view carries neither).

use super::auth::actor;
use super::extract::Path;
use super::tickets::{check_note, one, visible};
use super::{ApiError, AppState, Reads};
use crate::access::Principal;
use crate::model::{now_ms, TicketId};
use crate::tickets::attachments::{check, AttachmentInfo, MAX_BYTES};
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CommentBody {
    text: String,
}

pub async fn comment(
    State(s): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    Json(b): Json<CommentBody>,
) -> Result<Json<Value>, ApiError> {
    let text = b.text.trim();
    if text.is_empty() {
        return Err(ApiError::bad_request("text must not be empty"));
    }
    check_note(text)?;
    visible(&s, &p, &id).await?;
    s.tickets.comment(&TicketId::new(&id), text, actor(&p), now_ms()).await?;
    one(State(s.reads.clone()), p, Path(id)).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AttachQuery {
    #[serde(default)]
    caption: String,
}

/// The body is the file itself; its `Content-Type` must match its bytes.
pub async fn attach(
    State(s): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    Query(q): Query<AttachQuery>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    check_note(&q.caption)?;
    visible(&s, &p, &id).await?;
    let too_big = || ApiError::new(StatusCode::PAYLOAD_TOO_LARGE, "too_large", "an attachment is at most 5 MiB");
    let bytes = axum::body::to_bytes(body, MAX_BYTES).await.map_err(|_| too_big())?;
    let declared = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or_default();
    let media = check(declared, &bytes)
        .map_err(|e| ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, "bad_attachment", e.to_string()))?;
    let ticket = TicketId::new(&id);
    let aid = s.attachments.add(&ticket, (media, &bytes), q.caption.trim(), actor(&p), now_ms()).await?;
    Ok((StatusCode::CREATED, Json(serde_json::json!({ "id": aid, "media": media, "bytes": bytes.len() }))))
}

pub async fn list(
    State(s): State<Reads>,
    p: Principal,
    Path(id): Path<String>,
) -> Result<Json<Vec<AttachmentInfo>>, ApiError> {
    visible(&s, &p, &id).await?;
    Ok(Json(s.attachments.list(&id).await?))
}

/// The file, served so a browser never runs it: its own type, no sniffing,
/// a sandbox, and no caching beyond the session.
pub async fn file(
    State(s): State<Reads>,
    p: Principal,
    Path((id, aid)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    visible(&s, &p, &id).await?;
    let (media, bytes) =
        s.attachments.content(&id, &aid).await?.ok_or_else(|| ApiError::not_found("attachment", &aid))?;
    let headers = [
        (header::CONTENT_TYPE, media.as_str()),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::CONTENT_SECURITY_POLICY, "sandbox; default-src 'none'"),
        (header::CACHE_CONTROL, "private, max-age=300"),
    ];
    Ok((headers, bytes).into_response())
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ArrivedBody {
    /// When the part arrived; now when absent.
    at: Option<crate::model::EpochMs>,
}

/// A part of the ticket arrived on site; 409 when recorded already.
pub async fn part_arrived(
    State(s): State<AppState>,
    p: Principal,
    Path((id, part)): Path<(String, String)>,
    Json(b): Json<ArrivedBody>,
) -> Result<Json<Value>, ApiError> {
    visible(&s, &p, &id).await?;
    let now = now_ms();
    let at = b.at.unwrap_or(now);
    if at > now + 60_000 {
        return Err(ApiError::bad_request("at lies in the future"));
    }
    if !s.tickets.part_arrived(&TicketId::new(&id), &part, at, actor(&p), now).await? {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "arrived_already",
            format!("{part} of {id} has arrived already"),
        ));
    }
    one(State(s.reads.clone()), p, Path(id)).await
}
