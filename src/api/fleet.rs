//! Fleet registry endpoints: assets (with their service history), engineers
//! and depots (with live stock).

use super::extract::{Page, PageQuery, Path, Query};
use super::tickets::{sees, view};
use super::{ApiError, AppState, Reads};
use crate::access::Principal;
use crate::kpi::{self, TicketHistory};
use crate::model::{AssetId, EngineerId, EpochMs, GeoPoint, TicketId};
use crate::tickets::TicketFilter;
use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::{json, Value};
use std::collections::HashMap;

/// Open jobs read for the agendas: the most one ticket list returns.
const MAX_OPEN_JOBS: i64 = 1000;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssetQuery {
    model: Option<String>,
    site: Option<String>,
    limit: Option<i64>,
    offset: Option<i64>,
}

/// The units: a customer's own, every one for staff.
pub async fn assets(
    State(s): State<Reads>,
    p: Principal,
    Query(q): Query<AssetQuery>,
) -> Result<axum::Json<Value>, ApiError> {
    let page = Page::new(q.limit, q.offset)?;
    let matching: Vec<_> = s
        .fleet
        .assets()
        .iter()
        .filter(|a| p.sees_asset(&a.customer))
        .filter(|a| q.model.as_deref().is_none_or(|m| a.model.as_str() == m))
        .filter(|a| q.site.as_deref().is_none_or(|x| a.site.as_str() == x))
        .cloned()
        .collect();
    Ok(axum::Json(page.wrap(page.slice(&matching))))
}

/// The asset record plus the tickets upkeep opened for it that the caller
/// may see; another customer's unit answers as unknown.
pub async fn asset(
    State(s): State<Reads>,
    p: Principal,
    Path(id): Path<String>,
) -> Result<axum::Json<Value>, ApiError> {
    let asset = s.fleet.asset(&id).filter(|a| p.sees_asset(&a.customer));
    let asset = asset.ok_or_else(|| ApiError::not_found("asset", &id))?;
    let filter = TicketFilter { asset: Some(AssetId::new(&id)), limit: 1000, ..TicketFilter::default() };
    let tickets = s.tickets.list_tickets(&filter).await?;
    let tickets: Vec<Value> = tickets.iter().filter(|t| sees(&s, &p, t)).map(|t| view(&s, &p, t, None)).collect();
    Ok(axum::Json(json!({ "asset": asset, "tickets": tickets })))
}

/// Engineers with their load, position (and when it was reported), whether
/// they are unavailable, their shifts from yesterday to the day after
/// tomorrow and their agenda (open jobs in working order with travel):
/// personal data, so an engineer sees only themselves.
pub async fn engineers(
    State(s): State<AppState>,
    p: Principal,
    Query(q): Query<PageQuery>,
) -> Result<axum::Json<Value>, ApiError> {
    let page = q.page()?;
    let now = crate::model::now_ms();
    let loads = s.reads.tickets.engineer_loads().await?;
    let absent = s.tickets.unavailable_engineers(now).await?;
    let jobs = open_jobs(&s).await?;
    let (from, to) = timeline(now);
    let reachable: Vec<_> =
        s.fleet.engineers().iter().filter(|e| p.engineer().is_none_or(|own| own == &e.id)).cloned().collect();
    let items = page
        .slice(&reachable)
        .into_iter()
        .map(|e| {
            let shifts: Vec<_> = e
                .shifts_between(from, to)
                .into_iter()
                .map(|(a, b)| [a.timestamp_millis(), b.timestamp_millis()])
                .collect();
            json!({
                "load": loads.get(&e.id).copied().unwrap_or(0),
                "position": s.dispatcher.position(&e.id),
                "position_at": s.dispatcher.position_reported(&e.id),
                "unavailable": absent.contains(&e.id),
                "shifts": shifts,
                "agenda": s.dispatcher.agenda(&e.id, jobs.get(&e.id).map_or(&[], Vec::as_slice), now),
                "engineer": e,
            })
        })
        .collect();
    Ok(axum::Json(page.wrap(items)))
}

/// The span a planning timeline covers around `now`: yesterday to the day
/// after tomorrow (UTC), so every viewer's today and tomorrow is inside.
fn timeline(now: EpochMs) -> (DateTime<Utc>, DateTime<Utc>) {
    let now = DateTime::from_timestamp_millis(now).unwrap_or_default();
    (now - chrono::Duration::days(1), now + chrono::Duration::days(2))
}

/// Each engineer's open jobs in working order: on site first, then en
/// route, accepted, assigned; the earliest on-site deadline first within.
async fn open_jobs(s: &Reads) -> Result<HashMap<EngineerId, Vec<(TicketId, GeoPoint)>>, ApiError> {
    use crate::tickets::TicketState::{Accepted, Assigned, EnRoute, OnSite};
    let filter = TicketFilter { active: true, limit: MAX_OPEN_JOBS, ..TicketFilter::default() };
    let mut held = s.tickets.list_tickets(&filter).await?;
    let rank = |t: &crate::tickets::Ticket| [OnSite, EnRoute, Accepted, Assigned].iter().position(|s| *s == t.state);
    held.sort_by_key(|t| (rank(t), t.due.on_site_due));
    let mut jobs: HashMap<EngineerId, Vec<(TicketId, GeoPoint)>> = HashMap::new();
    for t in held {
        let (Some(e), Some(a)) = (t.assignment.engineer_id, s.fleet.asset(t.asset_id.as_str())) else { continue };
        jobs.entry(e).or_default().push((t.id, a.location));
    }
    Ok(jobs)
}

/// Depots with the stock the database holds now (after reservations).
pub async fn depots(State(s): State<Reads>, Query(q): Query<PageQuery>) -> Result<axum::Json<Value>, ApiError> {
    let page = q.page()?;
    let mut items = Vec::new();
    for d in page.slice(s.fleet.depots()) {
        let mut stock = serde_json::Map::new();
        for part in d.stock.keys() {
            stock.insert(part.to_string(), json!(s.stock.on_hand(&d.id, part).await?));
        }
        items.push(json!({ "id": d.id, "name": d.name, "class": d.class, "location": d.location, "on_hand": stock }));
    }
    Ok(axum::Json(page.wrap(items)))
}

/// Parts below their safety stock at a depot and what to do about each:
/// lend from the nearest depot with surplus, else purchase.
pub async fn replenishment(State(s): State<Reads>, Query(q): Query<PageQuery>) -> Result<axum::Json<Value>, ApiError> {
    let page = q.page()?;
    let levels = s.stock.stock_levels().await?;
    let suggestions = crate::dispatch::replenishment(&s.fleet, &levels);
    Ok(axum::Json(page.wrap(page.slice(&suggestions))))
}

/// Repair rate per model over the trailing 30 days (units with a repair
/// resolved / units installed); a model above 7% is flagged.
pub async fn models(State(s): State<Reads>) -> Result<axum::Json<Value>, ApiError> {
    let now = crate::model::now_ms();
    let stored = s.tickets.ticket_histories(now - 2 * kpi::TRAILING_MS).await?;
    let histories: Vec<TicketHistory> = stored.into_iter().map(|h| TicketHistory::from_stored(h, &s.fleet)).collect();
    let items: Vec<Value> = kpi::repair_rate(&s.fleet, &histories, now)
        .iter()
        .map(|r| {
            let rules = s.rules.for_model(&r.model).map(|m| m.rules.as_slice()).unwrap_or_default();
            let faults: Vec<Value> = rules
                .iter()
                .map(|x| {
                    json!({ "fault": x.fault, "severity": x.severity, "description": x.description,
                                 "translations": x.translations })
                })
                .collect();
            json!({
                "model": r.model,
                "units": r.units,
                "repaired_units": r.repaired_units,
                "repair_rate": r.rate(),
                "flagged": r.flagged(),
                "faults": faults,
            })
        })
        .collect();
    Ok(axum::Json(json!({ "window_days": 30, "flag_above": kpi::REPAIR_RATE_FLAG, "items": items })))
}
