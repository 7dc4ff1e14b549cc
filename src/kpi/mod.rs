//! The after-sales KPIs of `../shared/docs/domain.md`, computed from ticket
//! histories. Pure: the caller loads the histories and says what `now` is.
//!
//! Rate KPIs count each ticket once, at the moment its outcome became
//! known: when it met the target, or when the target's window closed
//! without it. Periods (hours, days) are therefore final once they have
//! passed, sums over periods are exact, and a dashboard can divide summed
//! `met` by summed `total` over any range. The exception is the first-time
//! fix: it counts in the period of the repair, as the field reports it, and
//! a repeat of the fault within 30 days turns it into a miss there later
//! (the feed rewrites periods within its lookback, 30 days by default).

mod rates;
pub mod report;
mod snapshot;
#[cfg(test)]
mod tests;

pub use rates::{detection_leads, rates, repair_times, Cycle, LeadRow, RateKpi, RateRow, RepairTimeRow};
pub use snapshot::{
    complaint_rates, engineer_load, fault_share, open_tickets, parts_stock, repair_rate, site_health, ComplaintRow,
    EngineerRow, FaultRow, ModelRate, OpenRow, PartRow, SiteRow,
};

use crate::dispatch::PartLine;
use crate::fleet::Fleet;
use crate::model::{EpochMs, ModelId, Severity, SiteId};
use crate::tickets::{EventRecord, ReportRecord, StoredHistory, Ticket, TicketState};

const HOUR_MS: i64 = 3_600_000;
const DAY_MS: i64 = 24 * HOUR_MS;
/// Trailing window of the repair rate, fault shares and repeat repairs.
pub const TRAILING_MS: i64 = 30 * DAY_MS;
/// A repair repeated within this long after resolution was not a first-time fix.
pub const REPEAT_WITHIN_MS: i64 = 30 * DAY_MS;
/// Repair rate per model above which the model is flagged.
pub const REPAIR_RATE_FLAG: f64 = 0.07;

/// A ticket with its whole history, as the KPIs read it.
#[derive(Debug, Clone)]
pub struct TicketHistory {
    pub ticket: Ticket,
    /// The asset's site (from the fleet).
    pub site: SiteId,
    /// In sequence order.
    pub events: Vec<EventRecord>,
    pub parts: Vec<PartLine>,
    /// Customers' reports of the fault, oldest first.
    pub reports: Vec<ReportRecord>,
}

impl TicketHistory {
    /// A stored history with its asset's site from the fleet.
    pub fn from_stored(h: StoredHistory, fleet: &Fleet) -> Self {
        TicketHistory {
            site: fleet.site_of(h.ticket.asset_id.as_str()),
            ticket: h.ticket,
            events: h.events,
            parts: h.parts,
            reports: h.reports,
        }
    }

    /// When the ticket first entered `state`.
    pub fn reached(&self, state: TicketState) -> Option<EpochMs> {
        self.events.iter().find(|e| e.to_state == Some(state)).map(|e| e.at)
    }

    pub fn group(&self) -> Group {
        Group { site: self.site.clone(), model: self.ticket.model.clone(), severity: self.ticket.severity }
    }

    fn cancelled(&self) -> bool {
        self.ticket.state == TicketState::Cancelled
    }
}

/// The dimensions every KPI row is split by.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Group {
    pub site: SiteId,
    pub model: ModelId,
    pub severity: Severity,
}

crate::model::named_enum! {
    /// KPI aggregation periods (UTC boundaries).
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
    pub enum Period: "KPI period" {
        Hour = "1h",
        Day = "1d",
    }
}

impl Period {
    pub fn millis(self) -> i64 {
        match self {
            Period::Hour => HOUR_MS,
            Period::Day => DAY_MS,
        }
    }

    /// Start of the period holding `t`.
    pub fn start_of(self, t: EpochMs) -> EpochMs {
        t.div_euclid(self.millis()) * self.millis()
    }
}
