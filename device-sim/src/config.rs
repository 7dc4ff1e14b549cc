//! Simulation settings and the tick grid derived from them.
//!
//! All event times (samples, fault onsets, failures) sit on one grid of
//! `start + n * interval`, so ground-truth instants coincide exactly with
//! sample timestamps and tests can look values up by time.

use chrono::{DateTime, Duration, TimeZone, Utc};

use crate::SimError;

/// What to simulate and how to inject faults.
#[derive(Debug, Clone, PartialEq)]
pub struct SimConfig {
    /// Seed for everything random; same seed + same assets = same output.
    pub seed: u64,
    /// Event time of the first sample.
    pub start: DateTime<Utc>,
    /// Simulated time span; samples are taken in `[start, start + duration)`.
    pub duration: Duration,
    /// Sample period (default 60 s).
    pub interval: Duration,
    /// Sample ticks per published message (default 10).
    pub ticks_per_message: usize,
    /// Share of assets that get a progressive (machine) fault (default 0.10).
    pub fault_share: f64,
    /// Share of the remaining assets that get a sensor fault (default 0.05).
    pub sensor_fault_share: f64,
    /// Shortest time from degradation onset to functional failure (default 24 h).
    pub min_lead: Duration,
    /// Longest time from degradation onset to functional failure (default 72 h).
    pub max_lead: Duration,
    /// Replace every Nth message by a malformed one (rotating kinds).
    pub malformed_every: Option<u64>,
    /// Place every fault inside `[from, to)` (as far as the run allows):
    /// a sensor fault starts there, a machine fault develops and fails there.
    /// `None`: anywhere after the warm-up.
    pub fault_window: Option<(DateTime<Utc>, DateTime<Utc>)>,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            seed: 7,
            // 2026-01-01T00:00:00Z: a fixed start keeps default runs reproducible.
            start: Utc.timestamp_opt(1_767_225_600, 0).single().unwrap_or_default(),
            duration: Duration::days(3),
            interval: Duration::seconds(60),
            ticks_per_message: 10,
            fault_share: 0.10,
            sensor_fault_share: 0.05,
            min_lead: Duration::hours(24),
            max_lead: Duration::hours(72),
            malformed_every: None,
            fault_window: None,
        }
    }
}

impl SimConfig {
    /// Checks ranges; [`crate::Simulator::new`] calls this.
    pub fn validate(&self) -> Result<(), SimError> {
        let bad = |msg: &str| Err(SimError::Config(msg.to_string()));
        if self.interval < Duration::milliseconds(1) {
            return bad("interval must be at least 1 ms");
        }
        if self.duration < self.interval {
            return bad("duration must be at least one interval");
        }
        if self.ticks_per_message == 0 {
            return bad("ticks_per_message must be at least 1");
        }
        for (name, share) in [("fault_share", self.fault_share), ("sensor_fault_share", self.sensor_fault_share)] {
            if !(0.0..=1.0).contains(&share) {
                return Err(SimError::Config(format!("{name} must be within [0, 1]")));
            }
        }
        if self.min_lead < self.interval || self.max_lead < self.min_lead {
            return bad("need interval <= min_lead <= max_lead");
        }
        if self.malformed_every == Some(0) {
            return bad("malformed_every must be at least 1");
        }
        if self.fault_window.is_some_and(|(from, to)| from >= to) {
            return bad("fault_window must end after it starts");
        }
        Ok(())
    }

    /// `start + duration`.
    pub fn end(&self) -> DateTime<Utc> {
        self.start + self.duration
    }
}

/// The sample grid of a validated config, in epoch milliseconds.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Timeline {
    pub start_ms: i64,
    pub interval_ms: i64,
    pub n_ticks: i64,
    pub ticks_per_message: i64,
}

impl Timeline {
    pub(crate) fn new(cfg: &SimConfig) -> Result<Self, SimError> {
        cfg.validate()?;
        let interval_ms = cfg.interval.num_milliseconds();
        let duration_ms = cfg.duration.num_milliseconds();
        Ok(Timeline {
            start_ms: cfg.start.timestamp_millis(),
            interval_ms,
            // Ticks strictly before the end.
            n_ticks: (duration_ms + interval_ms - 1) / interval_ms,
            ticks_per_message: cfg.ticks_per_message as i64,
        })
    }

    pub(crate) fn tick_ms(&self, n: i64) -> i64 {
        self.start_ms + n * self.interval_ms
    }

    /// The tick at or after `t` (may lie outside the run).
    pub(crate) fn tick_at(&self, t: DateTime<Utc>) -> i64 {
        (t.timestamp_millis() - self.start_ms + self.interval_ms - 1).div_euclid(self.interval_ms)
    }

    pub(crate) fn time(&self, n: i64) -> DateTime<Utc> {
        DateTime::from_timestamp_millis(self.tick_ms(n)).unwrap_or_default()
    }

    /// Number of whole ticks in `d`, rounded up or down.
    pub(crate) fn ticks_in(&self, d: Duration, round_up: bool) -> i64 {
        let ms = d.num_milliseconds();
        if round_up {
            (ms + self.interval_ms - 1) / self.interval_ms
        } else {
            ms / self.interval_ms
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid_and_grid_is_exact() {
        let cfg = SimConfig::default();
        cfg.validate().unwrap();
        assert_eq!(cfg.start.to_rfc3339(), "2026-01-01T00:00:00+00:00");
        let tl = Timeline::new(&cfg).unwrap();
        assert_eq!(tl.n_ticks, 3 * 24 * 60);
        assert_eq!(tl.tick_ms(1) - tl.tick_ms(0), 60_000);
        assert_eq!(tl.ticks_in(Duration::seconds(90), true), 2);
        assert_eq!(tl.ticks_in(Duration::seconds(90), false), 1);
    }

    #[test]
    fn invalid_values_are_rejected() {
        let cases: Vec<fn(&mut SimConfig)> = vec![
            |c| c.interval = Duration::zero(),
            |c| c.duration = Duration::seconds(1),
            |c| c.ticks_per_message = 0,
            |c| c.fault_share = 1.5,
            |c| c.sensor_fault_share = f64::NAN,
            |c| c.max_lead = Duration::hours(1),
            |c| c.malformed_every = Some(0),
        ];
        for mutate in cases {
            let mut cfg = SimConfig::default();
            mutate(&mut cfg);
            assert!(matches!(cfg.validate(), Err(SimError::Config(_))), "{cfg:?}");
        }
    }
}
