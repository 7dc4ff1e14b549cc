//! Pre-assignment: the engineer who holds every required skill at the
//! required level, has capacity and can be on site soonest (with a fairness
//! weight on the load they already carry); the flying team as the reserve for
//! emergencies; and the parts, reserved at the nearest depot that has them.
//! `plan` re-plans many tickets at once with an optimal assignment.

mod config;
mod parts;
mod picker;
mod plan;
mod positions;
mod search;
mod skills;
mod stock;

pub use config::DispatchConfig;
pub use parts::{purchase_note, replenishment, reservation_note, Delivery, Replenishment, Restock};
pub use picker::{Candidate, Unfit, Visit};
pub use plan::{plan_cost, PlanCost, MISS_COST};
pub use positions::PositionStore;
pub(crate) use stock::{consume_reserved, part_lines, release_reserved, reserve, set_parts_note};
pub use stock::{PartLine, PartStatus, StockLevel, StockStore};

use crate::fleet::{Engineer, Fleet};
use crate::model::{EngineerId, EpochMs, GeoPoint, Severity, SkillName};
use positions::Positions;
use search::{Rejection, Search};
use skills::{Required, SkillTable};
use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, RwLock};

/// The choice made for one ticket, with its reason for the dispatcher.
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    pub engineer: Option<EngineerId>,
    pub travel_minutes: f64,
    /// When the engineer can be on site (shift start plus travel).
    pub arrival: Option<EpochMs>,
    /// The chosen engineer (or nobody) cannot be on site before the deadline.
    pub at_risk: bool,
    pub note: String,
}

/// What a ticket needs from an engineer.
#[derive(Debug, Clone, Copy)]
pub struct Need<'a> {
    pub site: GeoPoint,
    pub skills: &'a BTreeMap<SkillName, u8>,
    pub severity: Severity,
    pub at: EpochMs,
    pub on_site_due: EpochMs,
    /// Engineers who declined this ticket or are unavailable (off sick,
    /// dropped out): never offered it.
    pub excluded: &'a [EngineerId],
}

/// One qualified engineer with capacity, judged for one ticket.
#[derive(Debug, Clone, Copy)]
pub struct Offer {
    /// Index into `Fleet::engineers`.
    pub engineer: usize,
    pub travel_minutes: f64,
    /// Earliest time on site: the next moment at work plus travel.
    pub arrival: EpochMs,
    pub load: u32,
    pub flying: bool,
}

impl Offer {
    pub fn on_time(&self, need: &Need<'_>) -> bool {
        self.arrival <= need.on_site_due
    }
}

pub struct Dispatcher {
    fleet: Arc<Fleet>,
    /// Read by every choice, written when an engineer reports a position.
    positions: RwLock<Positions>,
    skills: SkillTable,
    config: DispatchConfig,
}

impl Dispatcher {
    pub fn new(fleet: Arc<Fleet>, config: DispatchConfig) -> Self {
        Dispatcher { positions: RwLock::new(Positions::new(&fleet)), skills: SkillTable::new(&fleet), fleet, config }
    }

    fn positions(&self) -> std::sync::RwLockReadGuard<'_, Positions> {
        self.positions.read().unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Where the engineer's next journey starts.
    pub fn position(&self, engineer: &EngineerId) -> Option<GeoPoint> {
        let index = self.fleet.engineer_index(engineer.as_str())?;
        Some(self.positions().point(index))
    }

    /// When the engineer's app last reported where they are, while that
    /// report still counts; `None`: they start from home.
    pub fn position_reported(&self, engineer: &EngineerId) -> Option<EpochMs> {
        let index = self.fleet.engineer_index(engineer.as_str())?;
        self.positions().reported(index)
    }

    /// The engineer reported being at `to` at `at`; false for an unknown
    /// engineer or a report already stale at `now`.
    pub fn move_engineer(&self, engineer: &EngineerId, to: GeoPoint, at: EpochMs, now: EpochMs) -> bool {
        let Some(index) = self.fleet.engineer_index(engineer.as_str()) else { return false };
        if at < self.fresh_since(now) {
            return false;
        }
        self.positions.write().unwrap_or_else(std::sync::PoisonError::into_inner).set(index, to, at);
        true
    }

    /// Positions reported before this no longer count at `now`
    /// (`position_fresh_for` earlier).
    pub fn fresh_since(&self, now: EpochMs) -> EpochMs {
        now - self.config.position_fresh_for.as_millis()
    }

    /// Positions gone stale by `now` are forgotten: those engineers start
    /// from home again. How many.
    pub fn expire_positions(&self, now: EpochMs) -> usize {
        self.positions.write().unwrap_or_else(std::sync::PoisonError::into_inner).expire(self.fresh_since(now))
    }

    pub fn fleet(&self) -> &Fleet {
        &self.fleet
    }

    pub fn travel_minutes(&self, from: &GeoPoint, to: &GeoPoint) -> f64 {
        self.minutes_for_km(from.distance_km(to))
    }

    /// Road minutes for `km` of great-circle distance.
    fn minutes_for_km(&self, km: f64) -> f64 {
        km * self.config.road_factor / self.config.speed_kmh * 60.0
    }

    /// Engineers nearest-first from `site` with their travel time; travel
    /// never decreases along the walk, which lets callers stop early.
    fn nearest<'a>(&'a self, positions: &'a Positions, site: &GeoPoint) -> impl Iterator<Item = (usize, f64)> + 'a {
        positions.nearest(site).map(|(index, km)| (index, self.minutes_for_km(km)))
    }

    /// Whether engineer `index` can take the ticket, and when they would be
    /// on site; or why not.
    /// The checks run cheapest first (no allocation, the load's hash
    /// lookup only for the qualified): this runs for every engineer walked.
    fn offer<'n>(
        &self,
        index: usize,
        travel_minutes: f64,
        (need, required): (&Need<'n>, &Required<'n>),
        loads: &HashMap<EngineerId, u32>,
    ) -> Result<Offer, Rejection<'n>> {
        let e = &self.fleet.engineers()[index];
        if let Some(missing) = self.skills.first_missing(index, required) {
            return Err(Rejection::Skill(missing));
        }
        if e.flying && need.severity != Severity::Emergency {
            return Err(Rejection::FlyingReserve);
        }
        if need.excluded.contains(&e.id) {
            return Err(Rejection::Excluded);
        }
        let load = loads.get(&e.id).copied().unwrap_or(0);
        if load >= e.capacity {
            return Err(Rejection::Capacity);
        }
        let arrival = arrival_after(e, travel_minutes, need.at).ok_or(Rejection::OffRoster)?;
        Ok(Offer { engineer: index, travel_minutes, arrival, load, flying: e.flying })
    }

    /// When `engineer` could be on site at `site`, judged at `at`: their
    /// next moment at work plus travel from their last known position.
    /// `None` for an unknown engineer or one with no shift ahead.
    pub fn arrival(&self, engineer: &EngineerId, site: &GeoPoint, at: EpochMs) -> Option<EpochMs> {
        let e = self.fleet.engineer(engineer.as_str())?;
        let travel = self.travel_minutes(&self.position(engineer)?, site);
        arrival_after(e, travel, at)
    }

    /// Walks engineers nearest-first and keeps the best offer: a local
    /// engineer on time with the least time to site plus the fairness weight
    /// of their load; else the flying team on time; else whoever is there
    /// soonest (flagged at risk). Stops as soon as nobody further can win.
    pub fn choose(&self, need: Need<'_>, loads: &HashMap<EngineerId, u32>) -> Choice {
        let mut search = Search::new(&need, self.config.fairness_minutes_per_job);
        let positions = self.positions();
        let required = self.skills.required(need.skills);
        for (index, travel) in self.nearest(&positions, &need.site) {
            if search.settled(travel) {
                break;
            }
            match self.offer(index, travel, (&need, &required), loads) {
                Ok(offer) => search.consider(offer),
                Err(why) => search.reject(why),
            }
        }
        match search.best() {
            Some(offer) => self.chosen(&offer, &need, search.why(&offer)),
            None => {
                Choice { engineer: None, travel_minutes: 0.0, arrival: None, at_risk: true, note: search.rejections() }
            }
        }
    }

    fn chosen(&self, offer: &Offer, need: &Need<'_>, why: &str) -> Choice {
        let e = &self.fleet.engineers()[offer.engineer];
        let on_time = offer.on_time(need);
        let verdict = if on_time {
            "arrives before the on-site deadline"
        } else {
            "cannot reach the site before the on-site deadline"
        };
        let wait = (offer.arrival - need.at) as f64 / 60_000.0 - offer.travel_minutes;
        let shift = if wait >= 1.0 { format!("starts in {:.1} h, ", wait / 60.0) } else { "on shift, ".into() };
        let skills: Vec<String> =
            need.skills.iter().map(|(s, lvl)| format!("{s} {}/{lvl}", e.skills.get(s).copied().unwrap_or(0))).collect();
        let km = offer.travel_minutes / 60.0 * self.config.speed_kmh / self.config.road_factor;
        Choice {
            engineer: Some(e.id.clone()),
            travel_minutes: offer.travel_minutes,
            arrival: Some(offer.arrival),
            at_risk: !on_time,
            note: format!(
                "{why}: {} ({}), {shift}{km:.1} km, ~{:.0} min travel; skills [{}]; load {}/{}; {verdict}",
                e.id,
                e.name,
                offer.travel_minutes,
                skills.join(", "),
                offer.load,
                e.capacity
            ),
        }
    }
}

/// The next moment `e` is at work after `at`, plus the travel.
fn arrival_after(e: &Engineer, travel_minutes: f64, at: EpochMs) -> Option<EpochMs> {
    let start = e.available_from(chrono::DateTime::from_timestamp_millis(at)?)?;
    Some(start.timestamp_millis() + (travel_minutes * 60_000.0) as i64)
}

/// What the rules ask for that the fleet cannot supply: a skill level no
/// engineer holds, a part no depot stocks. Each would make every such ticket
/// unassigned or a parts request, so it is reported at start-up.
pub fn coverage_gaps(fleet: &Fleet, rules: &crate::rules::RuleSet) -> Vec<String> {
    let mut gaps = std::collections::BTreeSet::new();
    for model in rules.sorted_models() {
        for rule in &model.rules {
            for (skill, level) in &rule.skills {
                if !fleet.engineers().iter().any(|e| e.skills.get(skill).is_some_and(|l| l >= level)) {
                    gaps.insert(format!("rule {}: no engineer holds {skill} at level {level}", rule.id));
                }
            }
            for p in &rule.parts {
                if !fleet.depots().iter().any(|d| d.stock.contains_key(&p.part)) {
                    gaps.insert(format!("rule {}: no depot stocks part {}", rule.id, p.part));
                }
            }
        }
    }
    gaps.into_iter().collect()
}

/// The required skills `e` lacks at the required level.
pub fn missing_skills(e: &Engineer, needed: &BTreeMap<SkillName, u8>) -> Vec<SkillName> {
    needed.iter().filter(|(s, lvl)| e.skills.get(*s).is_none_or(|have| have < *lvl)).map(|(s, _)| s.clone()).collect()
}

#[cfg(test)]
mod tests;
