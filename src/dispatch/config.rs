//! Dispatch's settings: travel, fairness, storms, parts handling.

use crate::model::Span;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DispatchConfig {
    /// Road distance per great-circle kilometre.
    pub road_factor: f64,
    /// Average travel speed on roads.
    pub speed_kmh: f64,
    /// Fairness of load: each open ticket an engineer already holds counts
    /// as this many minutes of extra time to site when choosing, so work
    /// spreads over engineers who can all make the deadline.
    pub fairness_minutes_per_job: f64,
    /// An alarm storm: this many tickets opened within `replan_window`
    /// re-plans every assigned, not yet accepted ticket together.
    pub replan_storm: u32,
    pub replan_window: Span,
    /// Picking and packing at a depot before a part leaves for a site.
    pub parts_handling: Span,
    /// A reported position older than this no longer says where an
    /// engineer starts (yesterday's last job site): home base again.
    pub position_fresh_for: Span,
    /// Time on site assumed per job when an engineer's agenda is laid out
    /// (the console's timeline); dispatch itself does not use it.
    pub visit: Span,
}

impl Default for DispatchConfig {
    fn default() -> Self {
        DispatchConfig {
            road_factor: 1.3,
            speed_kmh: 60.0,
            fairness_minutes_per_job: 30.0,
            replan_storm: 10,
            replan_window: Span::from_mins(15),
            parts_handling: Span::from_hours(2),
            position_fresh_for: Span::from_hours(12),
            visit: Span::from_hours(2),
        }
    }
}

impl DispatchConfig {
    pub fn validate(&self) -> Result<(), String> {
        if self.speed_kmh <= 0.0 || self.road_factor < 1.0 {
            return Err("dispatch.speed_kmh must be > 0 and dispatch.road_factor >= 1".into());
        }
        Ok(())
    }
}
