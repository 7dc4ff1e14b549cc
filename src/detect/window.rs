//! Per asset-metric state: the raw event-time window, downsampled buckets
//! (bounded history for trends) and the learned baseline.
//!
//! Memory is bounded per metric by `window / sample period` raw samples plus
//! `history / bucket` buckets, whatever the message rate.

use super::multivariate::MultivariateParams;
use super::online::{OnlineParams, OnlineState};
use crate::model::EpochMs;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// Window sizes and the baseline's learning rate, derived from `DetectConfig`.
#[derive(Debug, Clone, Copy)]
pub struct WindowParams {
    pub window_ms: i64,
    pub bucket_ms: i64,
    pub history_ms: i64,
    pub lateness_ms: i64,
    /// EWMA weight of one closed bucket.
    pub baseline_alpha: f64,
    /// Closed buckets needed before the baseline is trusted.
    pub warmup_buckets: u32,
    pub online: OnlineParams,
    pub joint: MultivariateParams,
    /// Bound of `anomaly` checks that give none.
    pub anomaly_threshold: f64,
}

impl WindowParams {
    pub fn from_config(c: &crate::detect::DetectConfig) -> Self {
        let bucket_ms = c.bucket.as_millis().max(1);
        let half_life_buckets = c.baseline_half_life.as_millis() as f64 / bucket_ms as f64;
        WindowParams {
            window_ms: c.window.as_millis(),
            bucket_ms,
            history_ms: c.history.as_millis(),
            lateness_ms: c.lateness.as_millis(),
            baseline_alpha: 1.0 - 0.5f64.powf(1.0 / half_life_buckets.max(1.0)),
            warmup_buckets: (c.baseline_warmup.as_millis() / bucket_ms).max(1) as u32,
            online: OnlineParams { capacity: c.robust_samples, cusum_reset: c.cusum_reset, z_half: c.anomaly_z_half },
            joint: MultivariateParams {
                warmup: c.joint_warmup,
                alpha: 1.0 - 0.5f64.powf(1.0 / f64::from(c.joint_half_life.max(1))),
                smoothing: 2.0 / (f64::from(c.joint_smoothing.max(1)) + 1.0),
            },
            anomaly_threshold: c.anomaly_threshold,
        }
    }
}

/// Aggregate of the samples whose event time falls in `[start, start + bucket)`.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Bucket {
    pub start: EpochMs,
    sum: f64,
    count: u32,
    min: f64,
    max: f64,
}

impl Bucket {
    fn new(start: EpochMs) -> Self {
        Bucket { start, sum: 0.0, count: 0, min: f64::INFINITY, max: f64::NEG_INFINITY }
    }

    fn add(&mut self, v: f64) {
        self.sum += v;
        self.count += 1;
        self.min = self.min.min(v);
        self.max = self.max.max(v);
    }

    /// Mean without the extreme samples once there are enough of them, so a
    /// single spike does not bend trends or baselines.
    pub fn level(&self) -> f64 {
        if self.count >= 4 {
            (self.sum - self.min - self.max) / (self.count - 2) as f64
        } else {
            self.sum / self.count.max(1) as f64
        }
    }
}

/// Exponentially weighted mean and variance of closed-bucket levels.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Baseline {
    pub mean: f64,
    pub var: f64,
    pub buckets: u32,
}

impl Baseline {
    /// Beyond this many sigmas a bucket is treated as anomalous and learned
    /// only slowly, so a developing fault does not become the new normal.
    const FREEZE_SIGMAS: f64 = 4.0;

    /// Folds in one closed bucket's level; the first `warmup` buckets are
    /// averaged plainly, after that outliers are learned only slowly.
    fn learn(&mut self, x: f64, alpha: f64, warmup: u32) {
        if self.buckets == 0 {
            *self = Baseline { mean: x, var: 0.0, buckets: 1 };
            return;
        }
        let warm = self.buckets >= warmup;
        let outlier = warm && (x - self.mean).abs() > Self::FREEZE_SIGMAS * self.std();
        let alpha = match (warm, outlier) {
            (false, _) => 1.0 / (self.buckets as f64 + 1.0),
            (true, false) => alpha,
            (true, true) => alpha * 0.05,
        };
        let d = x - self.mean;
        self.mean += alpha * d;
        self.var = (1.0 - alpha) * (self.var + alpha * d * d);
        self.buckets = self.buckets.saturating_add(1);
    }

    /// Standard deviation with a floor, so a very quiet signal does not turn
    /// noise-level changes into huge z-scores.
    pub fn std(&self) -> f64 {
        self.var.sqrt().max(0.01 * self.mean.abs()).max(1e-9)
    }

    pub fn is_warm(&self, p: &WindowParams) -> bool {
        self.buckets >= p.warmup_buckets
    }
}

/// Hours in a day: the seasonal profile keeps one baseline per hour of day.
const SLOTS: usize = 24;
const MS_PER_SLOT: i64 = 3_600_000;

/// A baseline per hour of day (UTC), for signals that follow a daily cycle
/// (load, ambient temperature): the night's level is judged against past
/// nights, not against the daily mean.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct SeasonalProfile {
    slots: [Baseline; SLOTS],
}

impl SeasonalProfile {
    fn slot(t: EpochMs) -> usize {
        (t.div_euclid(MS_PER_SLOT) as usize) % SLOTS
    }

    fn learn(&mut self, bucket_start: EpochMs, level: f64, p: &WindowParams) {
        // A slot sees one day's worth of its buckets per day. It is trusted,
        // and so learns anomalous buckets only slowly, from the same count on.
        self.slots[Self::slot(bucket_start)].learn(level, p.baseline_alpha, Self::warm_buckets(p));
    }

    fn warm_buckets(p: &WindowParams) -> u32 {
        (MS_PER_SLOT / p.bucket_ms).max(1) as u32 * SEASONAL_WARM_DAYS
    }

    /// The baseline for the hour of day of `t`, once that hour has been seen
    /// on enough days.
    pub fn at(&self, t: EpochMs, p: &WindowParams) -> Option<Baseline> {
        let b = self.slots[Self::slot(t)];
        (b.buckets >= Self::warm_buckets(p)).then_some(b)
    }
}

/// Days of history each hour of day needs before the seasonal baseline is used.
const SEASONAL_WARM_DAYS: u32 = 3;

/// What happened to one inserted sample.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Insert {
    Accepted,
    /// Same timestamp as a sample already held (a redelivery): replaced, not counted twice.
    Duplicate,
    /// Older than the watermark; counted and not used.
    Late,
}

/// Samples are kept sorted by event time.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct MetricWindow {
    ts: VecDeque<EpochMs>,
    values: VecDeque<f64>,
    buckets: VecDeque<Bucket>,
    /// Start of the first bucket not yet folded into the baseline.
    next_unlearned: Option<EpochMs>,
    /// Newest event time ever seen, kept after the window empties (for staleness).
    last_seen: Option<EpochMs>,
    pub baseline: Baseline,
    /// Hour-of-day baselines and per-sample streaming statistics, kept (on
    /// the heap, off the hot path) only for metrics whose checks need them.
    pub seasonal: Option<Box<SeasonalProfile>>,
    pub online: Option<Box<OnlineState>>,
}

impl MetricWindow {
    /// Inserts a sample unless it is behind `watermark`.
    pub fn insert(&mut self, ts: EpochMs, value: f64, watermark: EpochMs, p: &WindowParams) -> Insert {
        if ts < watermark || self.next_unlearned.is_some_and(|n| ts < n) {
            return Insert::Late;
        }
        let pos = self.ts.partition_point(|&t| t < ts);
        if self.ts.get(pos) == Some(&ts) {
            self.values[pos] = value;
            return Insert::Duplicate;
        }
        self.ts.insert(pos, ts);
        self.values.insert(pos, value);
        self.bucket_for(ts, p).add(value);
        // Streaming statistics see samples in arrival order (reordering is
        // bounded by the lateness, and a median is insensitive to it).
        if let Some(o) = &mut self.online {
            o.update(value, &p.online);
        }
        self.last_seen = Some(self.last_seen.map_or(ts, |l| l.max(ts)));
        Insert::Accepted
    }

    fn bucket_for(&mut self, ts: EpochMs, p: &WindowParams) -> &mut Bucket {
        let start = ts.div_euclid(p.bucket_ms) * p.bucket_ms;
        let pos = self.buckets.partition_point(|b| b.start < start);
        if self.buckets.get(pos).is_none_or(|b| b.start != start) {
            self.buckets.insert(pos, Bucket::new(start));
        }
        &mut self.buckets[pos]
    }

    /// Evicts what fell out of the window and history, and folds buckets that
    /// can no longer change (wholly behind the watermark) into the baseline.
    pub fn advance(&mut self, newest: EpochMs, watermark: EpochMs, p: &WindowParams) {
        while self.ts.front().is_some_and(|&t| t < newest - p.window_ms) {
            self.ts.pop_front();
            self.values.pop_front();
        }
        // Buckets are sorted: the ones to learn follow the last learned one
        // and end at the first still open, so only those are visited.
        let first = self.next_unlearned.map_or(0, |n| self.buckets.partition_point(|b| b.start < n));
        for b in self.buckets.range(first..) {
            if b.start + p.bucket_ms > watermark {
                break;
            }
            self.baseline.learn(b.level(), p.baseline_alpha, p.warmup_buckets);
            if let Some(s) = &mut self.seasonal {
                s.learn(b.start, b.level(), p);
            }
            self.next_unlearned = Some(b.start + p.bucket_ms);
        }
        while self.buckets.front().is_some_and(|b| b.start + p.bucket_ms < newest - p.history_ms) {
            self.buckets.pop_front();
        }
    }

    /// The value of the newest sample in the raw window.
    pub fn newest_value(&self) -> Option<f64> {
        self.values.back().copied()
    }

    /// Event time of the newest sample ever accepted, even if evicted since.
    pub fn last_seen(&self) -> Option<EpochMs> {
        self.last_seen
    }

    /// Timestamps and values of the raw window, as contiguous slices.
    pub fn samples(&mut self) -> (&[EpochMs], &[f64]) {
        (self.ts.make_contiguous(), self.values.make_contiguous())
    }

    /// `(bucket midpoint, level)` of the buckets starting at or after `since`.
    pub fn trend_points(&self, since: EpochMs, p: &WindowParams) -> Vec<(EpochMs, f64)> {
        self.buckets
            .iter()
            .filter(|b| b.start >= since && b.count > 0)
            .map(|b| (b.start + p.bucket_ms / 2, b.level()))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params() -> WindowParams {
        WindowParams {
            window_ms: 10_000,
            bucket_ms: 5_000,
            history_ms: 60_000,
            lateness_ms: 2_000,
            baseline_alpha: 0.1,
            warmup_buckets: 2,
            ..WindowParams::from_config(&crate::detect::DetectConfig::default())
        }
    }

    fn feed(w: &mut MetricWindow, samples: &[(EpochMs, f64)]) -> Vec<Insert> {
        let p = params();
        let mut newest = EpochMs::MIN;
        samples
            .iter()
            .map(|&(ts, v)| {
                let watermark = newest.saturating_sub(p.lateness_ms);
                let r = w.insert(ts, v, watermark, &p);
                newest = newest.max(ts);
                w.advance(newest, newest - p.lateness_ms, &p);
                r
            })
            .collect()
    }

    #[test]
    fn samples_stay_sorted_and_old_ones_are_evicted() {
        let mut w = MetricWindow::default();
        let data: Vec<_> = (0..30).map(|i| (i * 1000, i as f64)).collect();
        feed(&mut w, &data);
        let (ts, _) = w.samples();
        assert_eq!(ts.first(), Some(&19_000));
        assert_eq!(ts.last(), Some(&29_000));
    }

    #[test]
    fn reordering_within_lateness_gives_the_same_window() {
        let in_order: Vec<_> = (0..20).map(|i| (i * 1000, (i * 7 % 5) as f64)).collect();
        let mut shuffled = in_order.clone();
        for pair in shuffled.chunks_mut(2) {
            pair.reverse();
        }
        let (mut a, mut b) = (MetricWindow::default(), MetricWindow::default());
        feed(&mut a, &in_order);
        let results = feed(&mut b, &shuffled);
        assert!(results.iter().all(|r| *r == Insert::Accepted));
        assert_eq!(a.samples(), b.samples());
        assert_eq!(a.baseline, b.baseline);
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(500))]
        /// Readings that arrive out of order but never behind the watermark
        /// (each overtaken by at most the next reading, with the lateness at
        /// two sample spacings) leave the same window and baseline as the
        /// same readings in order (the baseline up to the rounding of sums
        /// taken in another order).
        #[test]
        fn any_reordering_within_the_lateness_gives_the_same_window(
            values in proptest::collection::vec(-50.0..50.0f64, 5..60),
            jitter in proptest::collection::vec(0.0..1.99f64, 60),
        ) {
            let in_order: Vec<(EpochMs, f64)> = values.iter().enumerate().map(|(i, &v)| (i as EpochMs * 1000, v)).collect();
            let mut keyed: Vec<(f64, (EpochMs, f64))> =
                in_order.iter().enumerate().map(|(i, &s)| (i as f64 + jitter[i], s)).collect();
            keyed.sort_by(|a, b| a.0.total_cmp(&b.0));
            let shuffled: Vec<_> = keyed.into_iter().map(|(_, s)| s).collect();
            let (mut a, mut b) = (MetricWindow::default(), MetricWindow::default());
            feed(&mut a, &in_order);
            let results = feed(&mut b, &shuffled);
            proptest::prop_assert!(results.iter().all(|r| *r == Insert::Accepted), "{:?}", results);
            proptest::prop_assert_eq!(a.samples(), b.samples());
            let close = |x: f64, y: f64| (x - y).abs() <= 1e-9 * x.abs().max(1.0);
            let (x, y) = (a.baseline, b.baseline);
            proptest::prop_assert!(x.buckets == y.buckets && close(x.mean, y.mean) && close(x.var, y.var), "{:?} {:?}", x, y);
        }
    }

    #[test]
    fn a_reading_behind_the_watermark_is_late_and_ignored() {
        let mut w = MetricWindow::default();
        let r = feed(&mut w, &[(10_000, 1.0), (11_000, 1.0), (5_000, 99.0)]);
        assert_eq!(r[2], Insert::Late);
        assert_eq!(w.samples().0.len(), 2);
    }

    #[test]
    fn a_redelivered_reading_is_a_duplicate_not_a_second_sample() {
        let mut w = MetricWindow::default();
        let r = feed(&mut w, &[(1_000, 1.0), (2_000, 2.0), (2_000, 2.0)]);
        assert_eq!(r[2], Insert::Duplicate);
        assert_eq!(w.samples().0.len(), 2);
    }

    #[test]
    fn the_baseline_learns_closed_buckets_only() {
        let mut w = MetricWindow::default();
        let data: Vec<_> = (0..=12).map(|i| (i * 1000, 10.0)).collect();
        feed(&mut w, &data);
        // watermark 10s: buckets [0,5s) and [5s,10s) are closed.
        assert_eq!(w.baseline.buckets, 2);
        assert!((w.baseline.mean - 10.0).abs() < 1e-9);
    }

    #[test]
    fn a_single_spike_does_not_move_a_bucket_level() {
        let mut b = Bucket::new(0);
        for v in [1.0, 1.0, 50.0, 1.0, 1.0] {
            b.add(v);
        }
        assert_eq!(b.level(), 1.0);
    }

    #[test]
    fn an_anomalous_bucket_barely_moves_a_warm_baseline() {
        let p = params();
        let mut base = Baseline::default();
        for x in [10.0, 10.2, 9.8, 10.1, 9.9] {
            base.learn(x, p.baseline_alpha, p.warmup_buckets);
        }
        let before = base.mean;
        base.learn(100.0, p.baseline_alpha, p.warmup_buckets);
        assert!((base.mean - before).abs() < 1.0, "{} -> {}", before, base.mean);
    }
}
