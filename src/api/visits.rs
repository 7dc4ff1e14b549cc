//! Booking the visit with the customer: the engineer holding the ticket, or
//! the office, records the window agreed (the customer is told).

use super::auth::actor;
use super::extract::Path;
use super::tickets::{check_note, one, visible};
use super::{ApiError, AppState};
use crate::access::Principal;
use crate::model::{now_ms, EpochMs, TicketId};
use crate::tickets::appointment::Appointment;
use axum::extract::State;
use axum::Json;
use serde::Deserialize;
use serde_json::Value;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VisitBody {
    from: EpochMs,
    to: EpochMs,
    #[serde(default)]
    note: String,
}

/// The ticket with its appointment, as the caller sees it.
pub async fn book(
    State(s): State<AppState>,
    p: Principal,
    Path(id): Path<String>,
    Json(b): Json<VisitBody>,
) -> Result<Json<Value>, ApiError> {
    check_note(&b.note)?;
    visible(&s, &p, &id).await?;
    let window = Appointment { from: b.from, to: b.to };
    s.tickets.book(&TicketId::new(&id), &window, actor(&p), &b.note, now_ms()).await?;
    one(State(s.reads.clone()), p, Path(id)).await
}
