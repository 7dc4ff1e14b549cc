//! The time as the engine sees it when it acts (opens, dispatches, stamps
//! events): the wall clock in production, a clock a test sets, so that what
//! dispatch decides (who is on shift) never depends on the hour a test runs.

use super::EpochMs;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

#[derive(Debug, Clone, Default)]
pub enum Clock {
    #[default]
    Wall,
    /// Stands where it was last set; clones share it.
    Set(Arc<AtomicI64>),
}

impl Clock {
    /// A clock standing at `at`.
    pub fn at(at: EpochMs) -> Clock {
        Clock::Set(Arc::new(AtomicI64::new(at)))
    }

    pub fn now_ms(&self) -> EpochMs {
        match self {
            Clock::Wall => super::now_ms(),
            Clock::Set(at) => at.load(Ordering::Relaxed),
        }
    }

    /// Moves a set clock to `at` (the wall clock cannot be moved).
    pub fn set(&self, at: EpochMs) {
        if let Clock::Set(now) = self {
            now.store(at, Ordering::Relaxed);
        }
    }
}
