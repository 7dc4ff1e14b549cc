//! The time as the engine sees it when it acts (opens, dispatches, stamps
//! events): the wall clock in production; in a replay (the demo) the event
//! time of what it acts on, so a ticket's history is on one clock with the
//! simulated field work; a clock a test sets, so that what dispatch decides
//! (who is on shift) never depends on the hour a test runs.

use super::EpochMs;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

#[derive(Debug, Clone, Default)]
pub enum Clock {
    #[default]
    Wall,
    /// Stands where it was last set; clones share it.
    Set(Arc<AtomicI64>),
    /// A replay's time: the newest event time observed, running on with the
    /// wall clock between observations (so work planned after the replay's
    /// last event still comes due); never goes back; clones share it.
    EventTime(Arc<Mutex<Replay>>),
}

/// Where an event-time clock stands: an event time, and the wall-clock time it was observed.
#[derive(Debug)]
pub struct Replay {
    event: EpochMs,
    observed_at: EpochMs,
}

impl Replay {
    fn now(&self) -> EpochMs {
        self.event + (super::now_ms() - self.observed_at).max(0)
    }
}

impl Clock {
    /// A clock standing at `at`.
    pub fn at(at: EpochMs) -> Clock {
        Clock::Set(Arc::new(AtomicI64::new(at)))
    }

    /// A clock following event time, from `start`.
    pub fn event_time(start: EpochMs) -> Clock {
        Clock::EventTime(Arc::new(Mutex::new(Replay { event: start, observed_at: super::now_ms() })))
    }

    pub fn now_ms(&self) -> EpochMs {
        match self {
            Clock::Wall => super::now_ms(),
            Clock::Set(at) => at.load(Ordering::Relaxed),
            Clock::EventTime(replay) => replay.lock().unwrap_or_else(|e| e.into_inner()).now(),
        }
    }

    /// The engine is about to act on something that happened at `at`: an
    /// event-time clock moves there if that is later.
    pub fn observe(&self, at: EpochMs) {
        if let Clock::EventTime(replay) = self {
            let mut r = replay.lock().unwrap_or_else(|e| e.into_inner());
            if at > r.now() {
                *r = Replay { event: at, observed_at: super::now_ms() };
            }
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
        c.observe(5_000_000);
        c.observe(3_000);
        let now = shared.now_ms();
        assert!((5_000_000..5_010_000).contains(&now), "at the newest event, running on with the wall clock: {now}");
        std::thread::sleep(std::time::Duration::from_millis(20));
        assert!(shared.now_ms() >= now + 20, "it keeps running between events");
        Clock::Wall.observe(0);
        let set = Clock::at(7);
        set.observe(9);
        assert_eq!(set.now_ms(), 7, "only set moves a set clock");
    }
}
