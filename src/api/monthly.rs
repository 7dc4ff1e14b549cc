//! The monthly report (`kpi::report`) as JSON, or as CSV to download: per
//! customer, model or engineer, the month's tickets, top faults, repair
//! rate and KPIs against their targets.

use super::{ApiError, Reads};
use crate::kpi::report::{self, By};
use crate::kpi::TicketHistory;
use crate::tickets::complaints::ComplaintFilter;
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use chrono::{Datelike, NaiveDate};
use serde::Deserialize;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MonthlyQuery {
    /// `2026-11`; the month before the current one when absent.
    month: Option<String>,
    by: Option<By>,
    format: Option<Format>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Format {
    Json,
    Csv,
}

/// The first day of `month` (`YYYY-MM`) and of the month after.
fn bounds(month: Option<&str>) -> Result<(NaiveDate, NaiveDate), ApiError> {
    let first = match month {
        Some(m) => NaiveDate::parse_from_str(&format!("{m}-01"), "%Y-%m-%d")
            .map_err(|_| ApiError::bad_request(format!("month must be YYYY-MM, not '{m}'")))?,
        None => {
            let today = chrono::Utc::now().date_naive();
            let this = today.with_day(1).unwrap_or(today);
            this.pred_opt().and_then(|d| d.with_day(1)).unwrap_or(this)
        }
    };
    let next =
        first.checked_add_months(chrono::Months::new(1)).ok_or_else(|| ApiError::bad_request("month out of range"))?;
    Ok((first, next))
}

pub async fn monthly(State(s): State<Reads>, Query(q): Query<MonthlyQuery>) -> Result<Response, ApiError> {
    let (first, next) = bounds(q.month.as_deref())?;
    let ms = |d: NaiveDate| d.and_time(chrono::NaiveTime::MIN).and_utc().timestamp_millis();
    let (from, to) = (ms(first), ms(next));
    let stored = s.tickets.ticket_histories(from - crate::kpi::REPEAT_WITHIN_MS).await?;
    let histories: Vec<TicketHistory> = stored.into_iter().map(|h| TicketHistory::from_stored(h, &s.fleet)).collect();
    let filter = ComplaintFilter { since: Some(from), limit: 10_000, ..Default::default() };
    let complaints = s.complaints.list(&filter).await?;
    let by = q.by.unwrap_or(By::Customer);
    let rows = report::monthly(by, &s.fleet, &histories, &complaints, (from, to));
    let month = first.format("%Y-%m").to_string();
    if q.format == Some(Format::Csv) {
        let name = format!("attachment; filename=\"upkeep-{month}-by-{}.csv\"", by.as_str());
        let headers =
            [(header::CONTENT_TYPE, "text/csv; charset=utf-8".to_owned()), (header::CONTENT_DISPOSITION, name)];
        return Ok((headers, report::csv(by, &rows)).into_response());
    }
    Ok(axum::Json(serde_json::json!({ "month": month, "by": by, "items": rows })).into_response())
}
