//! The per-asset, per-rule state machine that turns a condition's truth over
//! event time into firings: `for` before opening, hysteresis before clearing,
//! and fresh evidence at a bounded rate while the fault persists.

use crate::model::{EpochMs, Span};
use serde::{Deserialize, Serialize};

/// What a step of the state machine emits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Firing {
    /// The condition has held for the rule's `for`: a ticket should open.
    Opened,
    /// Still firing; new evidence for the open ticket.
    Evidence,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum RuleState {
    #[default]
    Idle,
    Pending {
        since: EpochMs,
    },
    Active {
        last_emitted: EpochMs,
    },
    Clearing {
        false_since: EpochMs,
        last_emitted: EpochMs,
    },
}

/// Timing of one rule.
#[derive(Debug, Clone, Copy)]
pub struct Timing {
    pub hold_for: Span,
    pub clear_after: Span,
    pub evidence_every: Span,
}

impl RuleState {
    /// Opened and not yet cleared.
    pub fn is_firing(&self) -> bool {
        matches!(self, RuleState::Active { .. } | RuleState::Clearing { .. })
    }

    /// Advances with the condition's value at event time `now`.
    pub fn step(&mut self, now: EpochMs, active: bool, t: Timing) -> Option<Firing> {
        use RuleState::*;
        let (next, out) = match (*self, active) {
            (Idle, false) => (Idle, None),
            (Idle, true) | (Pending { .. }, true) => {
                let since = if let Pending { since } = *self { since } else { now };
                if now - since >= t.hold_for.as_millis() {
                    (Active { last_emitted: now }, Some(Firing::Opened))
                } else {
                    (Pending { since }, None)
                }
            }
            (Pending { .. }, false) => (Idle, None),
            (Active { last_emitted } | Clearing { last_emitted, .. }, true) => {
                if now - last_emitted >= t.evidence_every.as_millis() {
                    (Active { last_emitted: now }, Some(Firing::Evidence))
                } else {
                    (Active { last_emitted }, None)
                }
            }
            (Active { last_emitted }, false) => (Clearing { false_since: now, last_emitted }, None),
            (Clearing { false_since, last_emitted }, false) => {
                if now - false_since >= t.clear_after.as_millis() {
                    (Idle, None)
                } else {
                    (Clearing { false_since, last_emitted }, None)
                }
            }
        };
        *self = next;
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const M: i64 = 60_000;

    fn timing() -> Timing {
        Timing { hold_for: Span::from_mins(10), clear_after: Span::from_mins(30), evidence_every: Span::from_mins(60) }
    }

    fn run(steps: &[(i64, bool)]) -> Vec<Option<Firing>> {
        let mut s = RuleState::default();
        steps.iter().map(|&(min, active)| s.step(min * M, active, timing())).collect()
    }

    #[test]
    fn opens_only_after_the_condition_held_for_its_duration() {
        let out = run(&[(0, true), (5, true), (10, true)]);
        assert_eq!(out, [None, None, Some(Firing::Opened)]);
    }

    #[test]
    fn a_blip_shorter_than_for_never_opens() {
        let out = run(&[(0, true), (5, false), (9, true), (15, true)]);
        assert!(out.iter().all(Option::is_none));
    }

    #[test]
    fn flapping_within_the_hysteresis_does_not_reopen() {
        let out = run(&[(0, true), (10, true), (20, false), (30, true), (40, false), (50, true)]);
        assert_eq!(out.iter().filter(|o| **o == Some(Firing::Opened)).count(), 1);
    }

    #[test]
    fn clears_after_staying_false_then_opens_again() {
        let out = run(&[(0, true), (10, true), (20, false), (51, false), (60, true), (70, true)]);
        assert_eq!(out[1], Some(Firing::Opened));
        assert_eq!(out[5], Some(Firing::Opened));
    }

    #[test]
    fn evidence_is_emitted_at_most_once_per_interval_while_firing() {
        let out = run(&[(0, true), (10, true), (40, true), (69, true), (70, true), (100, true)]);
        assert_eq!(out[1], Some(Firing::Opened));
        assert_eq!(out[2], None);
        assert_eq!(out[3], None);
        assert_eq!(out[4], Some(Firing::Evidence));
        assert_eq!(out[5], None);
    }

    #[test]
    fn zero_hold_opens_on_the_first_true() {
        let mut s = RuleState::default();
        let t = Timing { hold_for: Span(0), ..timing() };
        assert_eq!(s.step(0, true, t), Some(Firing::Opened));
    }
}
