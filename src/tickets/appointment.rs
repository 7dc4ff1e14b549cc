//! A visit window agreed with the customer once an engineer holds the
//! ticket (the brief's service promise: an appointment within 60 minutes of
//! dispatch). Booked again when the plan changes; the last one stands.

use crate::model::EpochMs;
use serde::{Deserialize, Serialize};

/// The brief's promise: the visit is agreed within this long of assignment.
pub const BOOK_WITHIN_MS: i64 = 60 * 60_000;
/// The longest window a customer is asked to keep free.
const LONGEST_WINDOW_MS: i64 = 12 * 3_600_000;
/// How far ahead a visit may be booked.
const FURTHEST_AHEAD_MS: i64 = 14 * 86_400_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Appointment {
    pub from: EpochMs,
    pub to: EpochMs,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BadWindow {
    #[error("the window must end after it starts and last at most 12 hours")]
    Shape,
    #[error("the window must end in the future and start within 14 days")]
    When,
}

impl Appointment {
    pub fn validate(&self, now: EpochMs) -> Result<(), BadWindow> {
        if self.to <= self.from || self.to - self.from > LONGEST_WINDOW_MS {
            return Err(BadWindow::Shape);
        }
        if self.to <= now || self.from > now + FURTHEST_AHEAD_MS {
            return Err(BadWindow::When);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_is_short_ahead_and_not_past() {
        let now = 1_000_000_000_000;
        let h = 3_600_000;
        assert_eq!(Appointment { from: now + h, to: now + 3 * h }.validate(now), Ok(()));
        assert_eq!(Appointment { from: now + h, to: now + h }.validate(now), Err(BadWindow::Shape));
        assert_eq!(Appointment { from: now, to: now + 13 * h }.validate(now), Err(BadWindow::Shape));
        assert_eq!(Appointment { from: now - 3 * h, to: now - h }.validate(now), Err(BadWindow::When));
        assert_eq!(
            Appointment { from: now + 15 * 24 * h, to: now + 15 * 24 * h + h }.validate(now),
            Err(BadWindow::When)
        );
    }
}
