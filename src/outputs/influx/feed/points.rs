//! Engine data as InfluxDB points: one function per measurement of the
//! schema (README, "InfluxDB schema"). Tags are the dimensions dashboards
//! group and filter by; everything else is a field.

use super::telemetry::Bucket;
use crate::detect::AssetScores;
use crate::kpi::TicketHistory;
use crate::model::{AssetId, EpochMs, MetricName, ModelId, SiteId};
use crate::outputs::influx::line_protocol::Point;
use crate::tickets::{EventKind, EventRecord, TicketState};

/// The tags of one telemetry series.
pub struct SeriesTags<'a> {
    pub asset: &'a AssetId,
    pub model: &'a ModelId,
    pub site: &'a SiteId,
    pub metric: &'a MetricName,
}

/// Tags are added in key order throughout: the encoder then needs no sort.
fn series(measurement: &'static str, t: &SeriesTags<'_>, time: EpochMs) -> Point {
    Point::new(measurement, time)
        .tag("asset", t.asset)
        .tag("metric", t.metric)
        .tag("model", t.model)
        .tag("site", t.site)
}

/// `telemetry`: one raw sample.
pub fn raw(t: &SeriesTags<'_>, ts: EpochMs, value: f64) -> Point {
    series("telemetry", t, ts).field("value", value)
}

/// `telemetry_rollup`: one bucket, stamped with its start.
pub fn rollup(t: &SeriesTags<'_>, b: &Bucket) -> Point {
    series("telemetry_rollup", t, b.start)
        .field("mean", b.sum / b.count as f64)
        .field("min", b.min)
        .field("max", b.max)
        .field("count", b.count)
}

/// `detection`: every check's latest observed quantity and whether it fired.
pub fn scores<'a>(s: &'a AssetScores, site: &SiteId) -> impl Iterator<Item = Point> + 'a {
    let site = site.clone();
    s.checks.iter().map(move |(rule, c)| {
        Point::new("detection", s.at)
            .tag("asset", &s.asset)
            .tag("detector", c.detector.as_str())
            .tag("metric", &c.metric)
            .tag("model", &s.model)
            .tag("rule", rule)
            .tag("site", &site)
            .field("value", c.observed)
            .field("fired", c.fired)
    })
}

/// The name dashboards show for a history event: the state a transition
/// led to, `declined` for an assignment handed back, else the event kind.
pub fn event_name(e: &EventRecord) -> &'static str {
    match (e.kind, e.from_state, e.to_state) {
        (EventKind::Transition, Some(TicketState::Assigned), Some(TicketState::Open)) => EventKind::Declined.as_str(),
        (EventKind::Transition, _, Some(to)) => to.as_str(),
        (kind, _, _) => kind.as_str(),
    }
}

/// `ticket_event`: one point per event of the ticket's history.
pub fn ticket_events(h: &TicketHistory) -> impl Iterator<Item = Point> + '_ {
    let t = &h.ticket;
    h.events.iter().map(move |e| {
        let engineer = e.assigned_engineer().or(t.assignment.engineer_id.as_ref()).map_or("", |id| id.as_str());
        Point::new("ticket_event", e.at)
            .tag("asset", &t.asset_id)
            .tag("event", event_name(e))
            .tag("fault", &t.fault_code)
            .tag("kind", t.kind.as_str())
            .tag("model", &t.model)
            .tag("severity", t.severity.as_str())
            .tag("site", &h.site)
            .field("ticket", t.id.as_str())
            .field("engineer", engineer)
            .field("hours_since_detection", (e.at - t.due.detected_at) as f64 / 3_600_000.0)
            .field("at_risk", t.assignment.deadline_at_risk)
    })
}
