//! KPIs that describe the present: open tickets and SLA risk, repair rate
//! per model, fault shares, engineer load, parts stock and site health.

use super::{Group, TicketHistory, HOUR_MS, REPAIR_RATE_FLAG, TRAILING_MS};
use crate::dispatch::StockLevel;
use crate::fleet::Fleet;
use crate::model::{EngineerId, EpochMs, FaultCode, ModelId, Severity, SiteId, TicketKind};
use crate::tickets::complaints::{Complaint, ComplaintKind};
use crate::tickets::TicketState;
use std::collections::{BTreeMap, BTreeSet, HashMap};

/// An open ticket not yet on site is at risk when its on-site deadline is
/// this close, or when dispatch found nobody who can make it.
const AT_RISK_WITHIN_MS: i64 = 2 * HOUR_MS;

/// Open tickets of one group and how their SLA stands.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct OpenRow {
    pub open: u64,
    /// Not yet late, but expected to miss the on-site deadline.
    pub at_risk: u64,
    /// Not accepted and past the response deadline.
    pub response_breached: u64,
    /// No engineer on site and past the on-site deadline.
    pub on_site_breached: u64,
}

/// Every group with a ticket in `histories` gets a row, zero when none is
/// open: a dashboard then shows 0 rather than no data.
pub fn open_tickets(histories: &[TicketHistory], now: EpochMs) -> BTreeMap<Group, OpenRow> {
    let mut rows: BTreeMap<Group, OpenRow> = BTreeMap::new();
    for h in histories {
        let t = &h.ticket;
        let row = rows.entry(h.group()).or_default();
        if !t.state.is_open() {
            continue;
        }
        row.open += 1;
        let on_site = h.reached(TicketState::OnSite).is_some();
        let late_on_site = !on_site && now > t.due.on_site_due;
        row.on_site_breached += u64::from(late_on_site);
        row.response_breached += u64::from(h.reached(TicketState::Accepted).is_none() && now > t.due.response_due);
        let close = t.due.on_site_due - now <= AT_RISK_WITHIN_MS;
        row.at_risk += u64::from(!on_site && !late_on_site && (close || t.assignment.deadline_at_risk));
    }
    rows
}

/// Units of a model repaired in the trailing 30 days against units installed.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelRate {
    pub model: ModelId,
    pub units: u64,
    pub repaired_units: u64,
}

impl ModelRate {
    pub fn rate(&self) -> f64 {
        self.repaired_units as f64 / self.units.max(1) as f64
    }
    pub fn flagged(&self) -> bool {
        self.rate() > REPAIR_RATE_FLAG
    }
}

/// Every model of the fleet; a unit counts once however often it was
/// repaired. Sensor checks are not repairs.
pub fn repair_rate(fleet: &Fleet, histories: &[TicketHistory], now: EpochMs) -> Vec<ModelRate> {
    let mut units: BTreeMap<&ModelId, u64> = BTreeMap::new();
    for a in fleet.assets() {
        *units.entry(&a.model).or_default() += 1;
    }
    let mut repaired: HashMap<&ModelId, BTreeSet<&str>> = HashMap::new();
    for h in histories.iter().filter(|h| h.ticket.kind == TicketKind::Repair) {
        if h.reached(TicketState::Resolved).is_some_and(|t| t > now - TRAILING_MS && t <= now) {
            repaired.entry(&h.ticket.model).or_default().insert(h.ticket.asset_id.as_str());
        }
    }
    units
        .into_iter()
        .map(|(model, units)| ModelRate {
            model: model.clone(),
            units,
            repaired_units: repaired.get(model).map_or(0, |s| s.len() as u64),
        })
        .collect()
}

#[derive(Debug, Clone, PartialEq)]
pub struct FaultRow {
    pub fault: FaultCode,
    pub tickets: u64,
    pub share: f64,
}

/// Share of each fault among the tickets detected in the trailing 30 days
/// (cancelled ones aside), most frequent first.
pub fn fault_share(histories: &[TicketHistory], now: EpochMs) -> Vec<FaultRow> {
    let mut counts: BTreeMap<&FaultCode, u64> = BTreeMap::new();
    for h in histories {
        let t = &h.ticket;
        if !h.cancelled() && t.due.detected_at > now - TRAILING_MS && t.due.detected_at <= now {
            *counts.entry(&t.fault_code).or_default() += 1;
        }
    }
    let total: u64 = counts.values().sum();
    let mut rows: Vec<FaultRow> = counts
        .into_iter()
        .map(|(f, n)| FaultRow { fault: f.clone(), tickets: n, share: n as f64 / total as f64 })
        .collect();
    rows.sort_by(|a, b| b.tickets.cmp(&a.tickets).then_with(|| a.fault.cmp(&b.fault)));
    rows
}

/// Complaints against a model's units and services in the trailing 30
/// days: the complaint rate (target below 1%) and the share of each kind.
#[derive(Debug, Clone, PartialEq)]
pub struct ComplaintRow {
    pub model: ModelId,
    /// Services performed: tickets resolved.
    pub services: u64,
    pub complaints: u64,
    pub kinds: BTreeMap<ComplaintKind, u64>,
}

impl ComplaintRow {
    pub fn rate(&self) -> f64 {
        self.complaints as f64 / self.services.max(1) as f64
    }
}

/// Per model with a service or a complaint in the trailing 30 days.
pub fn complaint_rates(histories: &[TicketHistory], complaints: &[Complaint], now: EpochMs) -> Vec<ComplaintRow> {
    let recent = |at: EpochMs| at > now - TRAILING_MS && at <= now;
    let mut out: BTreeMap<ModelId, ComplaintRow> = BTreeMap::new();
    fn entry<'a>(out: &'a mut BTreeMap<ModelId, ComplaintRow>, model: &ModelId) -> &'a mut ComplaintRow {
        out.entry(model.clone()).or_insert_with(|| ComplaintRow {
            model: model.clone(),
            services: 0,
            complaints: 0,
            kinds: BTreeMap::new(),
        })
    }
    for h in histories {
        if h.reached(TicketState::Resolved).is_some_and(recent) {
            entry(&mut out, &h.ticket.model).services += 1;
        }
    }
    for c in complaints.iter().filter(|c| recent(c.received_at)) {
        let Some(model) = &c.model else { continue };
        let r = entry(&mut out, model);
        r.complaints += 1;
        *r.kinds.entry(c.kind).or_default() += 1;
    }
    out.into_values().collect()
}

#[derive(Debug, Clone, PartialEq)]
pub struct EngineerRow {
    pub engineer: EngineerId,
    pub open: u32,
    pub capacity: u32,
    pub on_shift: bool,
}

impl EngineerRow {
    pub fn utilisation(&self) -> f64 {
        f64::from(self.open) / f64::from(self.capacity.max(1))
    }
}

/// Every engineer's open tickets against their capacity.
pub fn engineer_load(fleet: &Fleet, loads: &HashMap<EngineerId, u32>, now: EpochMs) -> Vec<EngineerRow> {
    let at = chrono::DateTime::from_timestamp_millis(now).unwrap_or_default();
    fleet
        .engineers()
        .iter()
        .map(|e| EngineerRow {
            engineer: e.id.clone(),
            open: loads.get(&e.id).copied().unwrap_or(0),
            capacity: e.capacity,
            on_shift: e.shift.covers(at),
        })
        .collect()
}

#[derive(Debug, Clone, PartialEq)]
pub struct PartRow {
    pub level: StockLevel,
    pub class: String,
    pub safety: i64,
}

impl PartRow {
    pub fn below_safety(&self) -> bool {
        self.level.on_hand < self.safety
    }
}

/// Stock levels with the catalogue's class and safety stock.
pub fn parts_stock(fleet: &Fleet, levels: Vec<StockLevel>) -> Vec<PartRow> {
    let catalogue: HashMap<&str, _> = fleet.file().parts.iter().map(|p| (p.number.as_str(), p)).collect();
    levels
        .into_iter()
        .map(|level| {
            let part = catalogue.get(level.part.as_str());
            PartRow {
                class: part.map_or_else(|| "unknown".into(), |p| format!("{:?}", p.class)),
                safety: part.map_or(0, |p| i64::from(p.safety_stock)),
                level,
            }
        })
        .collect()
}

/// One site: where it is and how many of its assets need attention.
#[derive(Debug, Clone, PartialEq)]
pub struct SiteRow {
    pub site: SiteId,
    pub latitude: f64,
    pub longitude: f64,
    pub assets: u64,
    /// Assets with at least one open ticket.
    pub assets_attention: u64,
    pub open_tickets: u64,
    pub worst: Option<Severity>,
}

impl SiteRow {
    /// Share of the site's assets without an open ticket.
    pub fn health(&self) -> f64 {
        1.0 - self.assets_attention as f64 / self.assets.max(1) as f64
    }
}

/// Every site of the fleet, located at the mean of its assets' positions.
pub fn site_health(fleet: &Fleet, histories: &[TicketHistory]) -> Vec<SiteRow> {
    let mut sites: BTreeMap<&SiteId, SiteRow> = BTreeMap::new();
    for a in fleet.assets() {
        let row = sites.entry(&a.site).or_insert_with(|| SiteRow {
            site: a.site.clone(),
            latitude: 0.0,
            longitude: 0.0,
            assets: 0,
            assets_attention: 0,
            open_tickets: 0,
            worst: None,
        });
        row.assets += 1;
        row.latitude += (a.location.lat - row.latitude) / row.assets as f64;
        row.longitude += (a.location.lon - row.longitude) / row.assets as f64;
    }
    let mut attention: HashMap<&SiteId, BTreeSet<&str>> = HashMap::new();
    for h in histories.iter().filter(|h| h.ticket.state.is_open()) {
        let Some(row) = sites.get_mut(&h.site) else { continue };
        row.open_tickets += 1;
        row.worst = row.worst.max(Some(h.ticket.severity));
        attention.entry(&h.site).or_default().insert(h.ticket.asset_id.as_str());
    }
    for (site, assets) in attention {
        if let Some(row) = sites.get_mut(site) {
            row.assets_attention = assets.len() as u64;
        }
    }
    sites.into_values().collect()
}
