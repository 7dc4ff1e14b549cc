//! Pre-assignment: the nearest engineer who holds every required skill at
//! the required level, is on shift and has capacity; and the parts, reserved
//! at the nearest depot that has them.

mod stock;

pub(crate) use stock::{part_line_from_row, PART_COLUMNS};

pub(crate) use stock::release_reserved;

use crate::config::DispatchConfig;
use crate::fleet::{Engineer, Fleet};
use crate::model::{DepotId, EngineerId, EpochMs, GeoPoint, SkillName};
use rstar::{PointDistance, RTree, RTreeObject, AABB};
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// An engineer's base on the unit sphere, for nearest-first search.
struct Located {
    point: [f64; 3],
    index: usize,
}

impl RTreeObject for Located {
    type Envelope = AABB<[f64; 3]>;
    fn envelope(&self) -> Self::Envelope {
        AABB::from_point(self.point)
    }
}

impl PointDistance for Located {
    fn distance_2(&self, p: &[f64; 3]) -> f64 {
        self.point.iter().zip(p).map(|(a, b)| (a - b).powi(2)).sum()
    }
}

/// The choice made for one ticket, with its reason for the dispatcher.
#[derive(Debug, Clone, PartialEq)]
pub struct Choice {
    pub engineer: Option<EngineerId>,
    pub travel_minutes: f64,
    /// The chosen engineer (or nobody) cannot be on site before the deadline.
    pub at_risk: bool,
    pub note: String,
}

/// What a ticket needs from an engineer.
#[derive(Debug, Clone, Copy)]
pub struct Need<'a> {
    pub site: GeoPoint,
    pub skills: &'a BTreeMap<SkillName, u8>,
    pub at: EpochMs,
    pub on_site_due: EpochMs,
}

pub struct Dispatcher {
    fleet: Arc<Fleet>,
    engineers: RTree<Located>,
    config: DispatchConfig,
}

impl Dispatcher {
    pub fn new(fleet: Arc<Fleet>, config: DispatchConfig) -> Self {
        let located = fleet
            .engineers()
            .iter()
            .enumerate()
            .map(|(index, e)| Located { point: e.base.unit_vector(), index })
            .collect();
        Dispatcher { engineers: RTree::bulk_load(located), fleet, config }
    }

    pub fn travel_minutes(&self, from: &GeoPoint, to: &GeoPoint) -> f64 {
        from.distance_km(to) * self.config.road_factor / self.config.speed_kmh * 60.0
    }

    /// Walks engineers nearest-first and takes the first who qualifies.
    pub fn choose(&self, need: Need<'_>, loads: &HashMap<EngineerId, u32>) -> Choice {
        let at = chrono::DateTime::from_timestamp_millis(need.at).unwrap_or_default();
        let mut rejected = Rejections::default();
        for located in self.engineers.nearest_neighbor_iter(&need.site.unit_vector()) {
            let e = &self.fleet.engineers()[located.index];
            let load = loads.get(&e.id).copied().unwrap_or(0);
            if let Some(missing) = missing_skill(e, need.skills) {
                rejected.skills += 1;
                rejected.example_skill.get_or_insert(missing);
            } else if !e.shift.covers(at) {
                rejected.shift += 1;
            } else if load >= e.capacity {
                rejected.capacity += 1;
            } else {
                return self.chosen(e, load, need);
            }
        }
        Choice { engineer: None, travel_minutes: 0.0, at_risk: true, note: rejected.explain() }
    }

    fn chosen(&self, e: &Engineer, load: u32, need: Need<'_>) -> Choice {
        let km = e.base.distance_km(&need.site);
        let minutes = self.travel_minutes(&e.base, &need.site);
        let arrival = need.at + (minutes * 60_000.0) as i64;
        let at_risk = arrival > need.on_site_due;
        let verdict = if at_risk {
            "cannot reach the site before the on-site deadline"
        } else {
            "arrives before the on-site deadline"
        };
        let skills: Vec<String> =
            need.skills.iter().map(|(s, lvl)| format!("{s} {}/{lvl}", e.skills.get(s).copied().unwrap_or(0))).collect();
        Choice {
            engineer: Some(e.id.clone()),
            travel_minutes: minutes,
            at_risk,
            note: format!(
                "nearest qualified engineer on shift with capacity: {} ({}), {km:.1} km, ~{minutes:.0} min travel; \
                 skills [{}]; load {load}/{}; {verdict}",
                e.id,
                e.name,
                skills.join(", "),
                e.capacity
            ),
        }
    }

    /// Depots ordered by distance from `site`, with that distance in km.
    pub fn depots_by_distance(&self, site: &GeoPoint) -> Vec<(DepotId, f64)> {
        let mut v: Vec<_> = self.fleet.depots().iter().map(|d| (d.id.clone(), d.location.distance_km(site))).collect();
        v.sort_by(|a, b| a.1.total_cmp(&b.1));
        v
    }
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

fn missing_skill(e: &Engineer, needed: &BTreeMap<SkillName, u8>) -> Option<SkillName> {
    missing_skills(e, needed).into_iter().next()
}

/// The required skills `e` lacks at the required level.
pub fn missing_skills(e: &Engineer, needed: &BTreeMap<SkillName, u8>) -> Vec<SkillName> {
    needed.iter().filter(|(s, lvl)| e.skills.get(*s).is_none_or(|have| have < *lvl)).map(|(s, _)| s.clone()).collect()
}

#[derive(Default)]
struct Rejections {
    skills: u32,
    shift: u32,
    capacity: u32,
    example_skill: Option<SkillName>,
}

impl Rejections {
    fn explain(&self) -> String {
        let skill = self.example_skill.as_ref().map_or(String::new(), |s| format!(" (e.g. {s})"));
        format!(
            "no engineer can be proposed: {} lack a required skill{skill}, {} are off shift, {} are at capacity",
            self.skills, self.shift, self.capacity
        )
    }
}

#[cfg(test)]
mod tests;
