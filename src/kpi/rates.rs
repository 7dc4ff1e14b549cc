//! Rate KPIs (share of tickets meeting a target) and repair times, per
//! period and group.

use super::{Group, Period, TicketHistory, DAY_MS, HOUR_MS, REPEAT_WITHIN_MS};
use crate::model::{AssetId, EpochMs, FaultCode};
use crate::tickets::appointment::BOOK_WITHIN_MS;
use crate::tickets::report::{FOLLOW_UP_WITHIN_MS, SATISFIED_FROM};
use crate::tickets::{EventKind, TicketState};
use std::collections::{BTreeMap, HashMap};

crate::model::named_enum! {
    /// The rate KPIs; each is "tickets meeting the target / tickets decided".
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub enum RateKpi: "rate KPI" {
        /// Accepted by an engineer within 1 h of detection.
        Response1h = "response_1h",
        /// Resolved within 24 h of detection.
        Completion24h = "completion_24h",
        /// Every part the ticket needs on site within 24 h of detection, by
        /// its recorded arrival, else by the engineer's arrival on site
        /// (the work cannot start without them); tickets needing parts.
        Parts24h = "parts_24h",
        /// Resolved at the first visit (the service report says so) and the same
        /// fault not detected again on the unit within 30 days.
        FirstTimeFix = "first_time_fix",
        /// Accepted before the ticket's response deadline.
        ResponseSla = "response_sla",
        /// Engineer on site before the ticket's on-site deadline.
        OnSiteSla = "on_site_sla",
        /// Of the tickets a customer reported, those whose fault the engine
        /// had detected before the first call (counted at that call).
        DetectedFirst = "detected_first",
        /// Closed tickets whose follow-up call came within 3 days of closing.
        FollowUp3d = "follow_up_3d",
        /// Followed-up tickets the customer rated satisfied (4 or 5 of 5).
        Satisfaction = "satisfaction",
        /// Assigned tickets whose visit was agreed with the customer within
        /// 60 minutes of the first assignment.
        Appointment60m = "appointment_60m",
    }
}

impl RateKpi {
    /// When the ticket's outcome became known, and whether it met the
    /// target; `None` while undecided (or never counted: cancelled tickets,
    /// tickets without parts for `Parts24h`).
    fn outcome(self, h: &TicketHistory, repeats: &Repeats, now: EpochMs) -> Option<(EpochMs, bool)> {
        if h.cancelled() {
            return None;
        }
        let t = &h.ticket;
        match self {
            RateKpi::Response1h => by_deadline(h.reached(TicketState::Accepted), t.due.detected_at + HOUR_MS, now),
            RateKpi::Completion24h => by_deadline(h.reached(TicketState::Resolved), t.due.detected_at + DAY_MS, now),
            RateKpi::ResponseSla => by_deadline(h.reached(TicketState::Accepted), t.due.response_due, now),
            RateKpi::OnSiteSla => by_deadline(h.reached(TicketState::OnSite), t.due.on_site_due, now),
            RateKpi::Parts24h => {
                if h.parts.is_empty() {
                    return None;
                }
                let on_site = h.reached(TicketState::OnSite);
                let arrivals: Option<Vec<EpochMs>> = h.parts.iter().map(|p| p.arrived_at.or(on_site)).collect();
                let last = arrivals.and_then(|a| a.into_iter().max());
                by_deadline(last, t.due.detected_at + DAY_MS, now)
            }
            RateKpi::FollowUp3d => {
                let closed = h.reached(TicketState::Closed)?;
                let called = t.closure.follow_up.as_ref().map(|f| f.recorded_at);
                by_deadline(called, closed + FOLLOW_UP_WITHIN_MS, now)
            }
            RateKpi::Satisfaction => {
                let f = t.closure.follow_up.as_ref()?;
                Some((f.recorded_at, f.rating >= SATISFIED_FROM))
            }
            RateKpi::Appointment60m => {
                let assigned = h.events.iter().find(|e| e.kind.assigns())?.at;
                let booked = h.events.iter().find(|e| e.kind == EventKind::AppointmentBooked).map(|e| e.at);
                by_deadline(booked, assigned + BOOK_WITHIN_MS, now)
            }
            RateKpi::DetectedFirst => {
                let first = h.reports.first()?;
                Some((first.reported_at, first.engine_lead_ms.is_some_and(|lead| lead > 0)))
            }
            RateKpi::FirstTimeFix => {
                let resolved = h.reached(TicketState::Resolved)?;
                let reported = t.closure.service_report.as_ref().is_none_or(|r| r.report.first_time_fix);
                let repeated = repeats.detected_within(&t.asset_id, &t.fault_code, resolved, REPEAT_WITHIN_MS);
                Some((resolved, reported && !repeated))
            }
        }
    }
}

/// Met when `done` came by `deadline` (inclusive); missed once it passed.
fn by_deadline(done: Option<EpochMs>, deadline: EpochMs, now: EpochMs) -> Option<(EpochMs, bool)> {
    match done {
        Some(at) if at <= deadline => Some((at, true)),
        _ if deadline < now => Some((deadline, false)),
        _ => None,
    }
}

/// Detection times per unit and fault, to find repeat repairs.
struct Repeats(HashMap<(AssetId, FaultCode), Vec<EpochMs>>);

impl Repeats {
    fn new(histories: &[TicketHistory]) -> Self {
        let mut map: HashMap<(AssetId, FaultCode), Vec<EpochMs>> = HashMap::new();
        for h in histories.iter().filter(|h| !h.cancelled()) {
            map.entry((h.ticket.asset_id.clone(), h.ticket.fault_code.clone()))
                .or_default()
                .push(h.ticket.due.detected_at);
        }
        Repeats(map)
    }

    fn detected_within(&self, asset: &AssetId, fault: &FaultCode, after: EpochMs, within: i64) -> bool {
        self.0
            .get(&(asset.clone(), fault.clone()))
            .is_some_and(|ts| ts.iter().any(|&t| t > after && t <= after + within))
    }
}

/// One KPI's count in one period and group.
#[derive(Debug, Clone, PartialEq)]
pub struct RateRow {
    pub kpi: RateKpi,
    pub period: Period,
    pub start: EpochMs,
    pub group: Group,
    pub met: u64,
    pub total: u64,
}

/// Every rate KPI per `period` for the periods from `from` up to `now`
/// (the current, still growing, period included). Only non-empty rows.
pub fn rates(histories: &[TicketHistory], period: Period, from: EpochMs, now: EpochMs) -> Vec<RateRow> {
    let repeats = Repeats::new(histories);
    let first = period.start_of(from);
    let mut counts: BTreeMap<(RateKpi, EpochMs, Group), (u64, u64)> = BTreeMap::new();
    for h in histories {
        for kpi in RateKpi::ALL {
            let Some((at, met)) = kpi.outcome(h, &repeats, now) else { continue };
            if at < first || at > now {
                continue;
            }
            let c = counts.entry((kpi, period.start_of(at), h.group())).or_default();
            c.0 += u64::from(met);
            c.1 += 1;
        }
    }
    counts
        .into_iter()
        .map(|((kpi, start, group), (met, total))| RateRow { kpi, period, start, group, met, total })
        .collect()
}

/// Tickets resolved in one period and group, and their summed repair cycle
/// (detection to resolution).
#[derive(Debug, Clone, PartialEq)]
pub struct RepairTimeRow {
    pub period: Period,
    pub start: EpochMs,
    pub group: Group,
    pub cycle: Cycle,
    pub tickets: u64,
    pub hours_sum: f64,
}

crate::model::named_enum! {
    /// The brief's kinds of repair cycle, each scored against its own lines.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub enum Cycle: "repair cycle" {
        WarrantyRepair = "warranty_repair",
        Exchange = "exchange",
        Refund = "refund",
        OutOfWarranty = "out_of_warranty",
    }
}

impl Cycle {
    /// The cycle a ticket runs: the remedy decided, else the warranty's position.
    pub fn of(t: &crate::tickets::Ticket) -> Cycle {
        use crate::tickets::{Remedy, Warranty};
        match (t.after_sales.remedy, t.after_sales.warranty) {
            (Remedy::Exchange | Remedy::ExchangeOrRefund, _) => Cycle::Exchange,
            (Remedy::Refund, _) => Cycle::Refund,
            (Remedy::Repair, Warranty::InWarranty | Warranty::Unknown) => Cycle::WarrantyRepair,
            (Remedy::Repair, Warranty::OutOfWarranty | Warranty::Excluded) => Cycle::OutOfWarranty,
        }
    }
}

impl RepairTimeRow {
    pub fn mean_hours(&self) -> f64 {
        self.hours_sum / self.tickets.max(1) as f64
    }
}

/// Mean time to repair per `period`: tickets by the period they were resolved in.
pub fn repair_times(histories: &[TicketHistory], period: Period, from: EpochMs, now: EpochMs) -> Vec<RepairTimeRow> {
    let first = period.start_of(from);
    let mut sums: BTreeMap<(EpochMs, Group, Cycle), (u64, f64)> = BTreeMap::new();
    for h in histories {
        let Some(resolved) = h.reached(TicketState::Resolved).filter(|&t| t >= first && t <= now) else { continue };
        let s = sums.entry((period.start_of(resolved), h.group(), Cycle::of(&h.ticket))).or_default();
        s.0 += 1;
        s.1 += (resolved - h.ticket.due.detected_at) as f64 / HOUR_MS as f64;
    }
    sums.into_iter()
        .map(|((start, group, cycle), (tickets, hours_sum))| RepairTimeRow {
            period,
            start,
            group,
            cycle,
            tickets,
            hours_sum,
        })
        .collect()
}

/// How long before the customers' first calls the engine had detected
/// their faults, per period of the call: calls counted, and the summed
/// lead of those the engine saw first (`detected_first` is their share).
#[derive(Debug, Clone, PartialEq)]
pub struct LeadRow {
    pub period: Period,
    pub start: EpochMs,
    pub group: Group,
    pub reported: u64,
    pub detected_first: u64,
    pub lead_hours_sum: f64,
}

impl LeadRow {
    /// The mean lead over the calls the engine was ahead of.
    pub fn mean_lead_hours(&self) -> f64 {
        self.lead_hours_sum / self.detected_first.max(1) as f64
    }
}

pub fn detection_leads(histories: &[TicketHistory], period: Period, from: EpochMs, now: EpochMs) -> Vec<LeadRow> {
    let first = period.start_of(from);
    let mut sums: BTreeMap<(EpochMs, Group), (u64, u64, f64)> = BTreeMap::new();
    for h in histories {
        let Some(call) = h.reports.first().filter(|r| r.reported_at >= first && r.reported_at <= now) else { continue };
        let s = sums.entry((period.start_of(call.reported_at), h.group())).or_default();
        s.0 += 1;
        if let Some(lead) = call.engine_lead_ms.filter(|&l| l > 0) {
            s.1 += 1;
            s.2 += lead as f64 / HOUR_MS as f64;
        }
    }
    sums.into_iter()
        .map(|((start, group), (reported, detected_first, lead_hours_sum))| LeadRow {
            period,
            start,
            group,
            reported,
            detected_first,
            lead_hours_sum,
        })
        .collect()
}
