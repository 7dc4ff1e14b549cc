//! The time as the engine sees it when it acts (opens, dispatches, stamps
//! events): the wall clock in production; in a replay (the demo) the event
//! time of what it acts on, so a ticket's history is on one clock with the
//! simulated field work; a clock a test sets, so that what dispatch decides
//! (who is on shift) never depends on the hour a test runs.

use super::EpochMs;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

#[derive(Debug, Clone, Default)]
pub enum Clock {
    #[default]
    Wall,
    /// Stands where it was last set; clones share it.
    Set(Arc<AtomicI64>),
    /// The newest event time observed (never goes back); clones share it.
    EventTime(Arc<AtomicI64>),
}

impl Clock {
    /// A clock standing at `at`.
    pub fn at(at: EpochMs) -> Clock {
        Clock::Set(Arc::new(AtomicI64::new(at)))
    }

    /// A clock following event time, from `start`.
    pub fn event_time(start: EpochMs) -> Clock {
        Clock::EventTime(Arc::new(AtomicI64::new(start)))
    }

    pub fn now_ms(&self) -> EpochMs {
        match self {
            Clock::Wall => super::now_ms(),
            Clock::Set(at) | Clock::EventTime(at) => at.load(Ordering::Relaxed),
        }
    }

    /// The engine is about to act on something that happened at `at`: an
    /// event-time clock moves there if that is later.
    pub fn observe(&self, at: EpochMs) {
        if let Clock::EventTime(now) = self {
            now.fetch_max(at, Ordering::Relaxed);
        }
    }

    /// Moves a set clock to `at` (the wall clock cannot be moved).
    pub fn set(&self, at: EpochMs) {
        if let Clock::Set(now) = self {
            now.store(at, Ordering::Relaxed);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Clock;

    #[test]
    fn an_event_time_clock_follows_the_newest_event_and_never_goes_back() {
        let c = Clock::event_time(1_000);
        let shared = c.clone();
        c.observe(5_000);
        c.observe(3_000);
        assert_eq!(shared.now_ms(), 5_000);
        Clock::Wall.observe(0);
        let set = Clock::at(7);
        set.observe(9);
        assert_eq!(set.now_ms(), 7, "only set moves a set clock");
    }
}
