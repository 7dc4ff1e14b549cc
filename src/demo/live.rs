//! The demo's telemetry: days of history replayed fast, then the present
//! in real time (the publisher holds each message until its event time).
//! Faults of the history happen anywhere in it, as in any week, the last
//! ones failing within a day of the present (later, and the live part would
//! be quiet for days; earlier, and the board would start empty); one asset in
//! `LIVE_EVERY` instead develops its fault in the hours around the present,
//! so the board has fresh work when the replay ends and tickets keep
//! arriving while someone watches the console.

use super::DemoError;
use device_sim::{GroundTruth, Message, SimAsset, SimConfig, Simulator};
use std::iter::Peekable;

/// How long the demo goes on in real time after the replay.
const LIVE_DAYS: i64 = 2;
/// One asset in this many plays the live faults.
const LIVE_EVERY: usize = 5;
/// History faults fail up to this many days after the present: those
/// detected in the replay's last day are still being worked when it ends.
const HISTORY_FAULTS_AHEAD_DAYS: i64 = 1;
/// Live faults begin (sensor) or fail (machines) between these hours from
/// the present: the earliest are fresh on the board when the replay ends,
/// the rest arrive while someone watches.
const LIVE_FAULT_HOURS: (i64, i64) = (-3, 6);

/// The history and live streams as one, in event-time order.
pub struct Replay {
    history: Peekable<Simulator>,
    live: Peekable<Simulator>,
    truth: GroundTruth,
}

impl Replay {
    /// `days` of history ending now, then `LIVE_DAYS` in real time.
    pub fn new(assets: &[SimAsset], seed: u64, days: u32) -> Result<Replay, DemoError> {
        let (live, history): (Vec<_>, Vec<_>) =
            assets.iter().enumerate().partition(|(i, _)| i % LIVE_EVERY == LIVE_EVERY - 1);
        let strip = |v: Vec<(usize, &SimAsset)>| v.into_iter().map(|(_, a)| a.clone()).collect::<Vec<_>>();
        let days = chrono::Duration::days(i64::from(days.max(1)));
        let base = super::replay_ending_now(seed, days);
        let base = SimConfig { duration: days + chrono::Duration::days(LIVE_DAYS), ..base };
        let now = chrono::Utc::now();
        let history_end = now + chrono::Duration::days(HISTORY_FAULTS_AHEAD_DAYS);
        let history_cfg =
            SimConfig { malformed_every: Some(997), fault_window: Some((base.start, history_end)), ..base.clone() };
        let live_cfg = SimConfig {
            seed: seed.wrapping_add(1),
            fault_share: 0.2,
            sensor_fault_share: 0.3,
            fault_window: Some((
                now + chrono::Duration::hours(LIVE_FAULT_HOURS.0),
                now + chrono::Duration::hours(LIVE_FAULT_HOURS.1),
            )),
            ..base
        };
        let history = Simulator::new(&strip(history), &history_cfg)?;
        let live = Simulator::new(&strip(live), &live_cfg)?;
        let truth = merged_truth(history.truth(), live.truth());
        Ok(Replay { history: history.peekable(), live: live.peekable(), truth })
    }

    /// What was injected in both streams.
    pub fn truth(&self) -> GroundTruth {
        self.truth.clone()
    }
}

fn merged_truth(mut a: GroundTruth, b: GroundTruth) -> GroundTruth {
    a.assets += b.assets;
    a.faults.extend(b.faults);
    a
}

impl Iterator for Replay {
    type Item = Message;

    fn next(&mut self) -> Option<Message> {
        match (self.history.peek(), self.live.peek()) {
            (Some(h), Some(l)) if l.last_ts_ms < h.last_ts_ms => self.live.next(),
            (Some(_), _) => self.history.next(),
            (None, _) => self.live.next(),
        }
    }
}
