//! The dispatcher's view of one ticket's choices: every engineer the nearest
//! `limit` could take it, judged the way `choose` judges them (skills against
//! the rule's levels, flying reserve, exclusions, capacity, roster, arrival),
//! and each engineer's agenda (the open jobs they hold, in order, with
//! travel), so a reassignment is picked from the same judgement dispatch
//! makes, never typed as a free-text id.

use super::search::Rejection;
use super::skills::Required;
use super::{arrival_after, Dispatcher, Need};
use crate::model::{EngineerId, EpochMs, GeoPoint, SkillName, TicketId};
use serde::Serialize;
use std::collections::HashMap;

/// Why an engineer cannot take a ticket, for the picker.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Unfit {
    MissingSkill,
    FlyingReserve,
    AtCapacity,
    OffRoster,
    DeclinedOrAbsent,
}

/// One engineer judged for one ticket.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Candidate {
    pub engineer_id: EngineerId,
    pub name: String,
    pub travel_minutes: f64,
    /// When they could be on site (next moment at work plus travel).
    pub arrival: Option<EpochMs>,
    pub on_time: bool,
    pub load: u32,
    pub capacity: u32,
    pub flying: bool,
    /// Each skill the rule needs: (skill, their level, level needed).
    pub skills: Vec<(SkillName, u8, u8)>,
    /// `None`: dispatch could give them the ticket.
    pub unfit: Option<Unfit>,
}

/// One job on an engineer's agenda: travel from the previous stop, on site
/// from `arrive` to `leave` (an assumed visit length).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Visit {
    pub ticket: TicketId,
    pub travel_minutes: f64,
    pub depart: EpochMs,
    pub arrive: EpochMs,
    pub leave: EpochMs,
}

impl Dispatcher {
    /// Engineers judged for `need`, nearest first until `limit` could take
    /// it (however far the walk goes: a rare skill must still find its
    /// engineers), with up to `limit` of the nearest who cannot, for
    /// context; those who could first, on time before late, soonest first.
    pub fn judged(&self, need: &Need<'_>, loads: &HashMap<EngineerId, u32>, limit: usize) -> Vec<Candidate> {
        let positions = self.positions();
        let required = self.skills.required(need.skills);
        let (mut out, mut fit, mut unfit) = (Vec::new(), 0, 0);
        for (index, travel) in self.nearest(&positions, &need.site) {
            if fit >= limit {
                break;
            }
            let c = self.judge(index, travel, (need, &required), loads);
            let count = if c.unfit.is_none() { &mut fit } else { &mut unfit };
            *count += 1;
            if *count <= limit {
                out.push(c);
            }
        }
        out.sort_by_key(|c| (c.unfit.is_some(), !c.on_time, c.arrival.unwrap_or(EpochMs::MAX)));
        out
    }

    /// One engineer judged for one ticket, `travel` minutes away.
    fn judge(
        &self,
        index: usize,
        travel: f64,
        (need, required): (&Need<'_>, &Required<'_>),
        loads: &HashMap<EngineerId, u32>,
    ) -> Candidate {
        let e = &self.fleet.engineers()[index];
        let offer = self.offer(index, travel, (need, required), loads);
        let skills = need.skills.iter().map(|(s, lvl)| (s.clone(), e.skills.get(s).copied().unwrap_or(0), *lvl));
        let arrival = offer.as_ref().map(|o| o.arrival).ok().or_else(|| arrival_after(e, travel, need.at));
        Candidate {
            engineer_id: e.id.clone(),
            name: e.name.clone(),
            travel_minutes: travel,
            arrival,
            on_time: arrival.is_some_and(|a| a <= need.on_site_due),
            load: loads.get(&e.id).copied().unwrap_or(0),
            capacity: e.capacity,
            flying: e.flying,
            skills: skills.collect(),
            unfit: offer.err().map(Unfit::from),
        }
    }

    /// The engineer's `stops` in the order given, from their last known
    /// position at `now`: each leg's travel, waiting for the shift where
    /// needed, `visit_minutes` on site. Empty for an unknown engineer.
    pub fn agenda(&self, engineer: &EngineerId, stops: &[(TicketId, GeoPoint)], now: EpochMs) -> Vec<Visit> {
        let (Some(e), Some(mut at_point)) = (self.fleet.engineer(engineer.as_str()), self.position(engineer)) else {
            return Vec::new();
        };
        let visit = self.config.visit.as_millis();
        let mut free = now;
        let mut out = Vec::with_capacity(stops.len());
        for (ticket, site) in stops {
            let travel = self.travel_minutes(&at_point, site);
            let Some(arrive) = arrival_after(e, travel, free) else { break };
            let depart = arrive - (travel * 60_000.0) as EpochMs;
            out.push(Visit { ticket: ticket.clone(), travel_minutes: travel, depart, arrive, leave: arrive + visit });
            (free, at_point) = (arrive + visit, *site);
        }
        out
    }
}

impl From<Rejection<'_>> for Unfit {
    fn from(r: Rejection<'_>) -> Unfit {
        match r {
            Rejection::Skill(_) => Unfit::MissingSkill,
            Rejection::FlyingReserve => Unfit::FlyingReserve,
            Rejection::Capacity => Unfit::AtCapacity,
            Rejection::OffRoster => Unfit::OffRoster,
            Rejection::Excluded => Unfit::DeclinedOrAbsent,
        }
    }
}
