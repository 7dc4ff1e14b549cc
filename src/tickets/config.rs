//! The ticket service's settings: repeat repairs, quotes, SLA timers.

use crate::model::Span;
use serde::{Deserialize, Serialize};

/// Repeat repairs: after `repeat_limit` repairs of the same fault on one unit
/// the next ticket recommends an exchange or refund (0 turns this off).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RepairsConfig {
    pub repeat_limit: u32,
    /// Warranty policy: a unit failing in warranty this soon after
    /// installation (dead on arrival) is refunded (0 turns this off).
    pub refund_within: Span,
}

impl Default for RepairsConfig {
    fn default() -> Self {
        RepairsConfig { repeat_limit: 3, refund_within: Span::from_hours(30 * 24) }
    }
}

/// What happens to a ticket nobody accepted by its response deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EscalationAction {
    /// Take it from the engineer who did not accept and dispatch it to another.
    Reassign,
    /// One severity tier up (never down).
    RaiseSeverity,
    /// An `escalated` event and a warning for the supervisor.
    NotifySupervisor,
}

/// SLA timers, run on the wall clock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EscalationConfig {
    pub actions: Vec<EscalationAction>,
    /// A ticket not yet on site is flagged at risk this long before its on-site deadline.
    pub at_risk_within: Span,
    /// On site this long without a service report: the report is overdue
    /// (a repair takes about 3 h and its report is due 2 h after it).
    pub report_overdue_after: Span,
    pub check_every: Span,
}

impl Default for EscalationConfig {
    fn default() -> Self {
        EscalationConfig {
            actions: vec![EscalationAction::Reassign, EscalationAction::NotifySupervisor],
            at_risk_within: Span::from_hours(2),
            report_overdue_after: Span::from_hours(5),
            check_every: Span::from_mins(1),
        }
    }
}

/// Prices of out-of-warranty quotes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QuoteConfig {
    pub currency: String,
    /// Labour per hour by the certified level the repair needs (1, 2, 3).
    pub labour_per_hour: [f64; 3],
    /// Hours of labour quoted per repair.
    pub repair_hours: f64,
    pub travel_per_hour: f64,
}

impl Default for QuoteConfig {
    fn default() -> Self {
        QuoteConfig {
            currency: "EUR".into(),
            labour_per_hour: [60.0, 80.0, 100.0],
            repair_hours: 3.0,
            travel_per_hour: 50.0,
        }
    }
}
