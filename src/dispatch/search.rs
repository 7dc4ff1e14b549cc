//! The state of one nearest-first search: the best offers seen so far by
//! kind (local on time, flying team on time, late), and why the others were
//! turned down, for the note the dispatcher reads.

use super::{Need, Offer};
use crate::model::{EpochMs, SkillName};

/// Why an engineer cannot take a ticket at all.
pub(super) enum Rejection<'n> {
    Skill(&'n SkillName),
    /// A flying-team member, kept for emergencies.
    FlyingReserve,
    Capacity,
    /// Not rostered in the next 14 days.
    OffRoster,
    /// Declined the ticket or unavailable.
    Excluded,
}

pub(super) struct Search {
    at: EpochMs,
    due: EpochMs,
    fairness: f64,
    /// Best local engineer on time, with its cost.
    local: Option<(f64, Offer)>,
    flying: Option<Offer>,
    late: Option<Offer>,
    skill: u32,
    reserve: u32,
    capacity: u32,
    off: u32,
    excluded: u32,
    example_skill: Option<SkillName>,
}

impl Search {
    pub(super) fn new(need: &Need<'_>, fairness_minutes_per_job: f64) -> Search {
        Search {
            at: need.at,
            due: need.on_site_due,
            fairness: fairness_minutes_per_job,
            local: None,
            flying: None,
            late: None,
            skill: 0,
            reserve: 0,
            capacity: 0,
            off: 0,
            excluded: 0,
            example_skill: None,
        }
    }

    fn minutes_to_site(&self, o: &Offer) -> f64 {
        (o.arrival - self.at) as f64 / 60_000.0
    }

    pub(super) fn consider(&mut self, o: Offer) {
        if o.arrival > self.due {
            if self.late.is_none_or(|l| o.arrival < l.arrival) {
                self.late = Some(o);
            }
        } else if o.flying {
            if self.flying.is_none_or(|f| o.arrival < f.arrival) {
                self.flying = Some(o);
            }
        } else {
            let cost = self.minutes_to_site(&o) + self.fairness * f64::from(o.load);
            if self.local.is_none_or(|(c, _)| cost < c) {
                self.local = Some((cost, o));
            }
        }
    }

    pub(super) fn reject(&mut self, why: Rejection<'_>) {
        match why {
            Rejection::Skill(s) => {
                self.skill += 1;
                self.example_skill.get_or_insert_with(|| s.clone());
            }
            Rejection::FlyingReserve => self.reserve += 1,
            Rejection::Capacity => self.capacity += 1,
            Rejection::OffRoster => self.off += 1,
            Rejection::Excluded => self.excluded += 1,
        }
    }

    /// Whether no engineer `travel` minutes away or further can beat the
    /// best offer: a local cost is at least the travel, and past the
    /// deadline's reach only a sooner late arrival could still win.
    pub(super) fn settled(&self, travel: f64) -> bool {
        if self.local.is_some_and(|(cost, _)| travel >= cost) {
            return true;
        }
        let reach = self.at + (travel * 60_000.0) as i64;
        reach > self.due
            && (self.local.is_some() || self.flying.is_some() || self.late.is_some_and(|l| l.arrival <= reach))
    }

    pub(super) fn best(&self) -> Option<Offer> {
        self.local.map(|(_, o)| o).or(self.flying).or(self.late)
    }

    /// The reason the best offer won, for the ticket's note.
    pub(super) fn why(&self, best: &Offer) -> &'static str {
        if best.arrival > self.due {
            "nobody qualified can be on site in time; soonest qualified engineer"
        } else if best.flying {
            "flying team: no local engineer can be on site in time"
        } else {
            "qualified engineer on site soonest (fairness-weighted by load)"
        }
    }

    pub(super) fn rejections(&self) -> String {
        let example = self.example_skill.as_ref().map_or(String::new(), |s| format!(" (e.g. {s})"));
        format!(
            "no engineer can be proposed: {} lack a required skill{example}, {} are at capacity, \
             {} are the flying team (emergencies only), {} are off the roster for 14 days, \
             {} declined it or are unavailable",
            self.skill, self.capacity, self.reserve, self.off, self.excluded
        )
    }
}
