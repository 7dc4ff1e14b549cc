//! Engineer availability, position and re-planning: an engineer drops out
//! (their tickets not yet started are re-planned without them) or comes
//! back, their app reports where they are, and a dispatcher re-plans every
//! ticket not yet accepted on demand.

use super::auth::actor;
use super::extract::{Json, Path};
use super::tickets::check_note;
use super::{ApiError, AppState};
use crate::access::{Action, Principal};
use crate::fleet::Engineer;
use crate::model::{now_ms, EpochMs, GeoPoint};
use crate::tickets::redispatch::ReplanScope;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct UnavailableBody {
    reason: String,
    /// When they are back (RFC 3339); until then, or until `available`, if absent.
    until: Option<chrono::DateTime<chrono::Utc>>,
}

/// The engineer drops out now: tickets they hold and have not started on
/// site go back to open and everything not yet accepted is re-planned.
pub async fn unavailable(
    State(s): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    Json(b): Json<UnavailableBody>,
) -> Result<axum::Json<Value>, ApiError> {
    check_note(&b.reason)?;
    if b.reason.trim().is_empty() {
        return Err(ApiError::bad_request("reason must say why the engineer is unavailable"));
    }
    let engineer = reachable(&s, &p, &id)?;
    let now = now_ms();
    let back_at = b.until.map_or(EpochMs::MAX, |t| t.timestamp_millis());
    if back_at <= now {
        return Err(ApiError::bad_request("until must be in the future"));
    }
    let scope = if p.may(Action::Replan) { ReplanScope::Everything } else { ReplanScope::Withdrawn };
    let replan = s.redispatch.drop_out(&engineer.id, back_at, &b.reason, (actor(&p).as_str(), scope), now).await?;
    Ok(axum::Json(json!({ "engineer_id": engineer.id, "available": false, "until": b.until, "replan": replan })))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PositionBody {
    lat: f64,
    lon: f64,
    /// When the position was taken (RFC 3339); now if absent. An older
    /// report than the one stored is ignored.
    at: Option<chrono::DateTime<chrono::Utc>>,
}

/// A device clock this far ahead is tolerated; further, and a report would
/// shadow every real one until that time.
const CLOCK_SKEW_MS: EpochMs = 5 * 60_000;

/// The engineer's app reports where they are: their next journey starts there.
pub async fn position(
    State(s): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    Json(b): Json<PositionBody>,
) -> Result<axum::Json<Value>, ApiError> {
    if !(-90.0..=90.0).contains(&b.lat) || !(-180.0..=180.0).contains(&b.lon) {
        return Err(ApiError::bad_request("lat must be within [-90, 90] and lon within [-180, 180]"));
    }
    let engineer = reachable(&s, &p, &id)?;
    let now = now_ms();
    let at = b.at.map_or(now, |t| t.timestamp_millis());
    if at > now + CLOCK_SKEW_MS {
        return Err(ApiError::bad_request("at lies in the future: check the device clock"));
    }
    let to = GeoPoint { lat: b.lat, lon: b.lon };
    let latest = s.positions.set_position(&engineer.id, at, to).await?;
    if latest {
        s.dispatcher.move_engineer(&engineer.id, to, at, now);
    }
    Ok(axum::Json(
        json!({ "engineer_id": engineer.id, "position": s.dispatcher.position(&engineer.id), "latest": latest }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReasonBody {
    #[serde(default)]
    reason: String,
}

/// The engineer is back before their absence ran out.
pub async fn available(
    State(s): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    Json(b): Json<ReasonBody>,
) -> Result<axum::Json<Value>, ApiError> {
    check_note(&b.reason)?;
    let engineer = reachable(&s, &p, &id)?;
    let was_absent = s.tickets.set_available(&engineer.id).await?;
    tracing::info!(engineer = %engineer.id, actor = %p.name, was_absent, "engineer available again");
    Ok(axum::Json(json!({ "engineer_id": engineer.id, "available": true, "was_absent": was_absent })))
}

/// A dispatcher re-plans every ticket not yet accepted, together.
pub async fn replan(
    State(s): State<AppState>,
    p: Principal,
    Json(b): Json<ReasonBody>,
) -> Result<axum::Json<Value>, ApiError> {
    check_note(&b.reason)?;
    let why = if b.reason.is_empty() { format!("requested by {}", p.name) } else { b.reason.clone() };
    let replan = s.redispatch.replan(&why, now_ms()).await?;
    Ok(axum::Json(json!({ "replan": replan })))
}

/// The engineer `id` if the caller may act for them: staff for anyone, an
/// engineer only for themselves (anyone else answers as unknown).
fn reachable<'a>(s: &'a AppState, p: &Principal, id: &str) -> Result<&'a Engineer, ApiError> {
    let own = p.engineer().is_none_or(|e| e.as_str() == id);
    s.fleet.engineer(id).filter(|_| own).ok_or_else(|| ApiError::not_found("engineer", id))
}
