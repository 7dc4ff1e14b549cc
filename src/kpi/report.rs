//! The monthly report the after-sales office reviews: per customer, per
//! model and per engineer, the tickets of the month, the top faults, the
//! repair rate (models) and every rate KPI against its target, decided in
//! the month. Pure, like the other KPIs; the API renders it as JSON or CSV
//! and the console prints it.

use super::rates::{rates, RateKpi};
use super::{Period, TicketHistory};
use crate::fleet::Fleet;
use crate::model::EpochMs;
use crate::tickets::complaints::Complaint;
use crate::tickets::TicketState;
use serde::Serialize;
use std::collections::BTreeMap;

/// The brief's targets, where it sets one (share of tickets meeting it).
pub fn target(kpi: RateKpi) -> Option<f64> {
    match kpi {
        RateKpi::Response1h => Some(0.98),
        RateKpi::Completion24h => Some(0.80),
        RateKpi::Parts24h => Some(0.90),
        RateKpi::FollowUp3d => Some(1.0),
        RateKpi::Satisfaction => Some(0.95),
        _ => None,
    }
}

/// What a report row groups by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum By {
    Customer,
    Model,
    Engineer,
}

impl By {
    pub fn as_str(self) -> &'static str {
        match self {
            By::Customer => "customer",
            By::Model => "model",
            By::Engineer => "engineer",
        }
    }
}

/// One KPI in a row: met of decided, and the target.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KpiCell {
    pub kpi: &'static str,
    pub met: u64,
    pub total: u64,
    pub target: Option<f64>,
}

impl KpiCell {
    pub fn rate(&self) -> Option<f64> {
        (self.total > 0).then(|| self.met as f64 / self.total as f64)
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReportRow {
    pub key: String,
    /// Tickets detected (or reported) in the month, cancelled ones aside.
    pub tickets: u64,
    /// Of them, repairs (not sensor checks).
    pub repairs: u64,
    /// Most frequent faults of the month, at most five.
    pub top_faults: Vec<(String, u64)>,
    /// Models: units repaired in the month / units installed.
    pub repair_rate: Option<f64>,
    /// Complaints received in the month against this customer's units, model or engineer.
    pub complaints: u64,
    pub kpis: Vec<KpiCell>,
}

/// The rows of one month `[from, to)` grouped `by`.
pub fn monthly(
    by: By,
    fleet: &Fleet,
    histories: &[TicketHistory],
    complaints: &[Complaint],
    (from, to): (EpochMs, EpochMs),
) -> Vec<ReportRow> {
    let mut groups: BTreeMap<String, Vec<TicketHistory>> = BTreeMap::new();
    for h in histories {
        if let Some(key) = key_of(by, fleet, h) {
            groups.entry(key).or_default().push(h.clone());
        }
    }
    let within = |at: EpochMs| at >= from && at < to;
    groups
        .into_iter()
        .map(|(key, hs)| {
            let month: Vec<&TicketHistory> = hs
                .iter()
                .filter(|h| within(h.ticket.due.detected_at) && h.ticket.state != TicketState::Cancelled)
                .collect();
            let repairs = month.iter().filter(|h| h.ticket.kind == crate::model::TicketKind::Repair).count() as u64;
            let complained = complaints.iter().filter(|c| within(c.received_at) && complaint_key(by, c) == Some(&*key));
            ReportRow {
                tickets: month.len() as u64,
                repairs,
                top_faults: top_faults(&month),
                repair_rate: (by == By::Model).then(|| repair_rate(fleet, &key, &hs, (from, to))),
                complaints: complained.count() as u64,
                kpis: kpis(&hs, (from, to)),
                key,
            }
        })
        .collect()
}

fn key_of(by: By, fleet: &Fleet, h: &TicketHistory) -> Option<String> {
    match by {
        By::Customer => fleet.asset(h.ticket.asset_id.as_str()).map(|a| a.customer.clone()),
        By::Model => Some(h.ticket.model.to_string()),
        By::Engineer => h.ticket.assignment.engineer_id.as_ref().map(|e| e.to_string()),
    }
}

fn complaint_key(by: By, c: &Complaint) -> Option<&str> {
    match by {
        By::Customer => Some(c.customer.as_str()),
        By::Model => c.model.as_ref().map(|m| m.as_str()),
        By::Engineer => c.engineer_id.as_ref().map(|e| e.as_str()),
    }
}

fn top_faults(month: &[&TicketHistory]) -> Vec<(String, u64)> {
    let mut counts: BTreeMap<&str, u64> = BTreeMap::new();
    for h in month {
        *counts.entry(h.ticket.fault_code.as_str()).or_default() += 1;
    }
    let mut top: Vec<(String, u64)> = counts.into_iter().map(|(f, n)| (f.to_owned(), n)).collect();
    top.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    top.truncate(5);
    top
}

/// Units of `model` with a repair resolved in the month / units installed.
fn repair_rate(fleet: &Fleet, model: &str, hs: &[TicketHistory], (from, to): (EpochMs, EpochMs)) -> f64 {
    let units = fleet.assets().iter().filter(|a| a.model.as_str() == model).count();
    let repaired: std::collections::BTreeSet<&str> = hs
        .iter()
        .filter(|h| h.ticket.kind == crate::model::TicketKind::Repair)
        .filter(|h| h.reached(TicketState::Resolved).is_some_and(|at| at >= from && at < to))
        .map(|h| h.ticket.asset_id.as_str())
        .collect();
    repaired.len() as f64 / units.max(1) as f64
}

/// Every rate KPI decided in the month, summed over the group's tickets.
fn kpis(hs: &[TicketHistory], (from, to): (EpochMs, EpochMs)) -> Vec<KpiCell> {
    let mut sums: BTreeMap<RateKpi, (u64, u64)> = BTreeMap::new();
    for r in rates(hs, Period::Day, from, to - 1) {
        let s = sums.entry(r.kpi).or_default();
        s.0 += r.met;
        s.1 += r.total;
    }
    RateKpi::ALL
        .into_iter()
        .map(|kpi| {
            let (met, total) = sums.get(&kpi).copied().unwrap_or_default();
            KpiCell { kpi: kpi.as_str(), met, total, target: target(kpi) }
        })
        .collect()
}

/// The rows as CSV: one line per row, a `met/total` and a rate column per KPI.
pub fn csv(by: By, rows: &[ReportRow]) -> String {
    let mut out = String::new();
    let mut header = vec![
        by.as_str().to_owned(),
        "tickets".into(),
        "repairs".into(),
        "top_faults".into(),
        "repair_rate".into(),
        "complaints".into(),
    ];
    for kpi in RateKpi::ALL {
        header.push(format!("{kpi}_met"));
        header.push(format!("{kpi}_total"));
        header.push(format!("{kpi}_rate"));
        header.push(format!("{kpi}_target"));
    }
    out.push_str(&header.join(","));
    out.push('\n');
    let opt = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v:.4}"));
    for r in rows {
        let faults: Vec<String> = r.top_faults.iter().map(|(f, n)| format!("{f} {n}")).collect();
        let mut cells = vec![
            quoted(&r.key),
            r.tickets.to_string(),
            r.repairs.to_string(),
            quoted(&faults.join("; ")),
            opt(r.repair_rate),
            r.complaints.to_string(),
        ];
        for k in &r.kpis {
            cells.extend([k.met.to_string(), k.total.to_string(), opt(k.rate()), opt(k.target)]);
        }
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out
}

/// A CSV field, quoted when it holds a comma, quote or line break, and
/// never read as a formula by a spreadsheet.
fn quoted(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) { format!("'{s}") } else { s.to_owned() };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_fields_are_quoted_and_never_formulas() {
        assert_eq!(quoted("Customer 4"), "Customer 4");
        assert_eq!(quoted("a, b"), "\"a, b\"");
        assert_eq!(quoted("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(quoted("=HYPERLINK(1)"), "'=HYPERLINK(1)");
    }
}
