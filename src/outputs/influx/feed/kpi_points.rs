//! KPI rows and snapshots as InfluxDB points (`kpi`, `repair_time`, `detection_lead`, `complaint_rate`,
//! `complaint_kind`,
//! `tickets_open`, `repair_rate`, `fault_share`, `engineer_load`,
//! `parts_stock`, `site_health`).

use crate::kpi::{
    ComplaintRow, EngineerRow, FaultRow, Group, LeadRow, ModelRate, OpenRow, PartRow, RateRow, RepairTimeRow, SiteRow,
};
use crate::model::EpochMs;
use crate::outputs::influx::line_protocol::Point;

fn grouped(measurement: &'static str, g: &Group, time: EpochMs) -> Point {
    Point::new(measurement, time).tag("model", &g.model).tag("severity", g.severity.as_str()).tag("site", &g.site)
}

pub fn rate(r: &RateRow) -> Point {
    grouped("kpi", &r.group, r.start)
        .tag("kpi", r.kpi.as_str())
        .tag("period", r.period.as_str())
        .field("met", r.met)
        .field("total", r.total)
        .field("rate", r.met as f64 / r.total.max(1) as f64)
}

pub fn repair_time(r: &RepairTimeRow) -> Point {
    grouped("repair_time", &r.group, r.start)
        .tag("period", r.period.as_str())
        .tag("cycle", r.cycle.as_str())
        .field("tickets", r.tickets)
        .field("hours_sum", r.hours_sum)
        .field("mean_hours", r.mean_hours())
}

pub fn detection_lead(r: &LeadRow) -> Point {
    grouped("detection_lead", &r.group, r.start)
        .tag("period", r.period.as_str())
        .field("reported", r.reported)
        .field("detected_first", r.detected_first)
        .field("lead_hours_sum", r.lead_hours_sum)
        .field("mean_lead_hours", r.mean_lead_hours())
}

pub fn open(g: &Group, r: &OpenRow, now: EpochMs) -> Point {
    grouped("tickets_open", g, now)
        .field("open", r.open)
        .field("at_risk", r.at_risk)
        .field("response_breached", r.response_breached)
        .field("on_site_breached", r.on_site_breached)
}

pub fn repair_rate(r: &ModelRate, now: EpochMs) -> Point {
    Point::new("repair_rate", now)
        .tag("model", r.model.as_str())
        .field("units", r.units)
        .field("repaired_units", r.repaired_units)
        .field("rate", r.rate())
        .field("flagged", r.flagged())
}

/// A model's complaint rate (`complaint_rate`) and each kind's share of
/// its complaints (`complaint_kind`).
pub fn complaints(r: &ComplaintRow, now: EpochMs) -> impl Iterator<Item = Point> + '_ {
    let rate = Point::new("complaint_rate", now)
        .tag("model", r.model.as_str())
        .field("services", r.services)
        .field("complaints", r.complaints)
        .field("rate", r.rate());
    let kinds = r.kinds.iter().map(move |(kind, n)| {
        Point::new("complaint_kind", now)
            .tag("model", r.model.as_str())
            .tag("kind", kind.as_str())
            .field("complaints", *n)
            .field("share", *n as f64 / r.complaints.max(1) as f64)
    });
    std::iter::once(rate).chain(kinds)
}

pub fn fault(r: &FaultRow, now: EpochMs) -> Point {
    Point::new("fault_share", now).tag("fault", r.fault.as_str()).field("tickets", r.tickets).field("share", r.share)
}

pub fn engineer(r: &EngineerRow, now: EpochMs) -> Point {
    Point::new("engineer_load", now)
        .tag("engineer", r.engineer.as_str())
        .field("open", r.open)
        .field("capacity", r.capacity)
        .field("utilisation", r.utilisation())
        .field("on_shift", r.on_shift)
}

pub fn part(r: &PartRow, now: EpochMs) -> Point {
    Point::new("parts_stock", now)
        .tag("depot", r.level.depot.as_str())
        .tag("part", r.level.part.as_str())
        .tag("class", r.class.as_str())
        .field("on_hand", r.level.on_hand)
        .field("safety", r.safety)
        .field("below_safety", r.below_safety())
}

pub fn site(r: &SiteRow, now: EpochMs) -> Point {
    Point::new("site_health", now)
        .tag("site", r.site.as_str())
        .field("latitude", r.latitude)
        .field("longitude", r.longitude)
        .field("assets", r.assets)
        .field("assets_attention", r.assets_attention)
        .field("health", r.health())
        .field("open_tickets", r.open_tickets)
        .field("worst_severity", r.worst.map_or(0, |s| s as i64 + 1))
}
