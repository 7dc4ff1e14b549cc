//! Batch re-planning: many tickets assigned together by an optimal
//! assignment (Kuhn-Munkres from the `pathfinding` crate), minimising SLA
//! misses first and travel second, within every engineer's capacity.
//!
//! Each engineer contributes one column per free slot. A ticket only needs
//! its cheapest engineers up to a total free capacity of the batch size:
//! with that many slots, at most batch-1 of them can be taken by the other
//! tickets, so a costlier engineer is never needed (the pruning is exact).

use super::{Choice, Dispatcher, Need, Offer};
use crate::model::EngineerId;
use pathfinding::kuhn_munkres::{kuhn_munkres, Weights};
use std::collections::HashMap;
use std::sync::Arc;

/// The cost of one missed deadline: more than any day's total travel (in
/// seconds), so the sum orders plans by misses first, travel second.
pub const MISS_COST: i64 = 10_000_000_000;
/// Leaving a ticket unassigned: a miss, and worse than any late engineer.
const UNASSIGNED: i64 = 2 * MISS_COST;
/// An engineer outside the ticket's candidates: never better than unassigned.
const EXCLUDED: i64 = UNASSIGNED + 1;

/// One assignment's cost: a miss if the engineer arrives after the
/// on-site deadline, plus travel in seconds.
pub fn plan_cost(offer: &Offer, need: &Need<'_>) -> i64 {
    let miss = if offer.on_time(need) { 0 } else { MISS_COST };
    miss + (offer.travel_minutes * 60.0).round() as i64
}

/// A plan's total in its two parts.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct PlanCost {
    pub misses: usize,
    pub travel_seconds: i64,
}

impl PlanCost {
    pub fn add(&mut self, cost: Option<i64>) {
        match cost {
            Some(c) => {
                self.misses += usize::from(c >= MISS_COST);
                self.travel_seconds += c % MISS_COST;
            }
            None => self.misses += 1,
        }
    }
}

/// The cost matrix without materialising one column per slot: slots of one
/// engineer share a column group.
#[derive(Clone)]
struct SlotCosts {
    rows: usize,
    groups: usize,
    /// rows × groups, negated (the solver maximises).
    cells: Arc<Vec<i64>>,
    slot_group: Arc<Vec<usize>>,
    sign: i64,
}

impl Weights<i64> for SlotCosts {
    fn rows(&self) -> usize {
        self.rows
    }
    /// Every slot, plus one "unassigned" column per ticket so a plan always exists.
    fn columns(&self) -> usize {
        self.slot_group.len() + self.rows
    }
    fn at(&self, row: usize, col: usize) -> i64 {
        let cost = match self.slot_group.get(col) {
            Some(&g) => self.cells[row * self.groups + g],
            None => UNASSIGNED,
        };
        self.sign * cost
    }
    fn neg(&self) -> Self {
        SlotCosts { sign: -self.sign, ..self.clone() }
    }
}

impl Dispatcher {
    /// The optimal joint assignment of `needs` (one choice each, in order)
    /// given the engineers' current `loads`.
    pub fn plan(&self, needs: &[Need<'_>], loads: &HashMap<EngineerId, u32>) -> Vec<Choice> {
        let offers: Vec<Vec<Offer>> = needs.iter().map(|n| self.candidates(n, loads, needs.len())).collect();
        let mut group_of: HashMap<usize, usize> = HashMap::new();
        let mut slot_group = Vec::new();
        for o in offers.iter().flatten() {
            let next = group_of.len();
            let g = *group_of.entry(o.engineer).or_insert(next);
            if g == next {
                let free = self.fleet.engineers()[o.engineer].capacity.saturating_sub(o.load) as usize;
                let wanted = offers.iter().filter(|row| row.iter().any(|x| x.engineer == o.engineer)).count();
                slot_group.extend(std::iter::repeat_n(g, free.min(wanted)));
            }
        }
        let groups = group_of.len();
        let mut cells = vec![EXCLUDED; needs.len() * groups];
        for (row, (need, row_offers)) in needs.iter().zip(&offers).enumerate() {
            for o in row_offers {
                cells[row * groups + group_of[&o.engineer]] = plan_cost(o, need);
            }
        }
        let costs =
            SlotCosts { rows: needs.len(), groups, cells: Arc::new(cells), slot_group: Arc::new(slot_group), sign: -1 };
        let (_, columns) = kuhn_munkres(&costs);
        let engineer_of_group: HashMap<usize, usize> = group_of.iter().map(|(&e, &g)| (g, e)).collect();
        needs
            .iter()
            .zip(&offers)
            .zip(columns)
            .map(|((need, row_offers), col)| {
                let chosen = costs.slot_group.get(col).map(|g| engineer_of_group[g]);
                match chosen.and_then(|e| row_offers.iter().find(|o| o.engineer == e)) {
                    Some(o) => self.chosen(o, need, "batch re-plan (optimal: fewest SLA misses, then least travel)"),
                    None => Choice {
                        engineer: None,
                        travel_minutes: 0.0,
                        arrival: None,
                        at_risk: true,
                        note: "batch re-plan: no qualified engineer with free capacity is left".into(),
                    },
                }
            })
            .collect()
    }

    /// The ticket's engineers in cost order, up to the exactness bound:
    /// free slots of on-time engineers reaching the batch size, or, past the
    /// deadline's reach (everyone further is late), free slots of all.
    fn candidates(&self, need: &Need<'_>, loads: &HashMap<EngineerId, u32>, batch: usize) -> Vec<Offer> {
        let (mut on_time_slots, mut all_slots) = (0usize, 0usize);
        let mut out = Vec::new();
        let positions = self.positions();
        let required = self.skills.required(need.skills);
        for (index, travel) in self.nearest(&positions, &need.site) {
            let past_reach = need.at + (travel * 60_000.0) as i64 > need.on_site_due;
            if on_time_slots >= batch || (past_reach && all_slots >= batch) {
                break;
            }
            let Ok(offer) = self.offer(index, travel, (need, &required), loads) else { continue };
            let free = (self.fleet.engineers()[index].capacity - offer.load) as usize;
            all_slots += free;
            if offer.on_time(need) {
                on_time_slots += free;
            }
            out.push(offer);
        }
        out
    }
}
