//! Streaming statistics updated on every accepted sample of a metric: robust
//! location and scale (median and MAD over a bounded ring), a two-sided CUSUM
//! on the robustly standardised residual, and the anomaly score: how far a
//! sample lies from the values the signal has recently taken (nearest
//! neighbours in the ring). Memory per metric is fixed by `capacity`.

use super::detectors::select_median;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// MAD times this estimates the standard deviation of normal data.
const MAD_TO_SIGMA: f64 = 1.4826;
/// CUSUM slack in sigmas: drifts smaller than this are not accumulated.
const CUSUM_SLACK: f64 = 0.5;
/// Samples needed before robust statistics are reported.
const MIN_SAMPLES: usize = 16;

/// Robust location and scale of recent samples.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Robust {
    pub median: f64,
    /// Sigma estimate: 1.4826 MAD, floored so a quantised or flat signal
    /// does not turn its first small change into an infinite z-score.
    pub sigma: f64,
}

impl Robust {
    /// Median and scaled MAD of `values`; `None` for fewer than `MIN_SAMPLES`.
    pub fn of(values: &[f64]) -> Option<Self> {
        Self::with_scratch(values, &mut Vec::new())
    }

    /// As `of`, reusing `scratch` so the hot path does not allocate.
    fn with_scratch(values: &[f64], scratch: &mut Vec<f64>) -> Option<Self> {
        if values.len() < MIN_SAMPLES {
            return None;
        }
        scratch.clear();
        scratch.extend_from_slice(values);
        let v = scratch;
        let median = select_median(v);
        // Floor for quantised signals (MAD 0): a share of the 10-90% range,
        // which, unlike the full range, a few spikes do not inflate.
        let n = v.len();
        let q10 = *v.select_nth_unstable_by(n / 10, f64::total_cmp).1;
        let q90 = *v.select_nth_unstable_by(n * 9 / 10, f64::total_cmp).1;
        let floor = ((q90 - q10) * 0.1).max(median.abs() * 1e-3).max(1e-9);
        v.iter_mut().for_each(|x| *x = (*x - median).abs());
        let mad = select_median(v);
        Some(Robust { median, sigma: (MAD_TO_SIGMA * mad).max(floor) })
    }

    /// Signed deviation of `x` in robust sigmas.
    pub fn z(&self, x: f64) -> f64 {
        (x - self.median) / self.sigma
    }
}

/// Two-sided CUSUM of standardised residuals (Page's test). Each side sums
/// `|z| - slack` while the process stays on that side, so a sustained shift
/// of one sigma grows by half a sigma per sample while noise returns to 0.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Cusum {
    pub up: f64,
    pub down: f64,
}

impl Cusum {
    pub fn update(&mut self, z: f64) {
        self.up = (self.up + z - CUSUM_SLACK).max(0.0);
        self.down = (self.down - z - CUSUM_SLACK).max(0.0);
    }

    pub fn statistic(&self) -> f64 {
        self.up.max(self.down)
    }

    /// Restart after an alarm so the next shift is measured from the new level.
    pub fn reset(&mut self) {
        *self = Cusum::default();
    }
}

/// Per-metric streaming state.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct OnlineState {
    ring: VecDeque<f64>,
    /// Robust statistics of the ring before the newest sample entered it.
    pub reference: Option<Robust>,
    /// z of the newest sample against `reference`.
    pub z: f64,
    /// Distance from the newest sample to its `NEIGHBOURS`-th nearest
    /// predecessor in the ring, in robust sigmas: small wherever the signal
    /// has often been, even for a two-level or cyclic signal whose median
    /// sits between its levels.
    pub rarity: f64,
    pub cusum: Cusum,
    /// Samples since `reference` was computed.
    stale_for: u32,
    /// Working memory for the median; not state.
    #[serde(skip)]
    scratch: Vec<f64>,
}

/// The median and MAD of thousands of samples move little per sample: they
/// are recomputed every this many samples (a quarter of the per-sample cost).
const REFRESH_EVERY: u32 = 16;

/// Settings of the streaming statistics, from `DetectConfig`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OnlineParams {
    /// Samples in the robust reference ring.
    pub capacity: usize,
    /// CUSUM statistic (sigmas) at which it has said all it can and restarts.
    pub cusum_reset: f64,
    /// Rarity (robust sigmas) mapped to an anomaly score of 0.5.
    pub z_half: f64,
}

impl OnlineState {
    /// Scores `x` against the samples before it, then admits it to the ring.
    pub fn update(&mut self, x: f64, p: &OnlineParams) {
        if self.reference.is_none() || self.stale_for >= REFRESH_EVERY {
            self.reference = Robust::with_scratch(self.ring.make_contiguous(), &mut self.scratch);
            self.stale_for = 0;
        }
        self.stale_for += 1;
        if let Some(r) = self.reference {
            // Clamp: one absurd sample must not dominate the CUSUM for hours.
            self.z = r.z(x).clamp(-50.0, 50.0);
            if self.cusum.statistic() >= p.cusum_reset {
                self.cusum.reset();
            }
            self.cusum.update(self.z);
            self.rarity = nearest_distance(self.ring.make_contiguous(), x, &mut self.scratch) / r.sigma;
        }
        if self.ring.len() >= p.capacity.max(MIN_SAMPLES) {
            self.ring.pop_front();
        }
        self.ring.push_back(x);
    }

    /// Anomaly score in [0, 1): the sample's rarity squashed so that
    /// `z_half` sigmas score 0.5. Rarity rather than distance from the
    /// median, so multi-level and cyclic signals do not alarm on every
    /// regular transition (measured on NAB: see the README).
    /// `None` until the reference ring has enough samples.
    pub fn anomaly_score(&self, p: &OnlineParams) -> Option<f64> {
        self.reference?;
        Some(squash(self.rarity / p.z_half))
    }
}

/// Neighbours that must lie close to a sample for it to count as usual.
const NEIGHBOURS: usize = 3;

/// Distance from `x` to its `NEIGHBOURS`-th nearest value in `ring`.
fn nearest_distance(ring: &[f64], x: f64, d: &mut Vec<f64>) -> f64 {
    d.clear();
    d.extend(ring.iter().map(|h| (h - x).abs()));
    let k = NEIGHBOURS.min(d.len()) - 1;
    *d.select_nth_unstable_by(k, f64::total_cmp).1
}

/// Maps `[0, inf)` onto `[0, 1)`, 1 to 0.5.
pub fn squash(u: f64) -> f64 {
    let u = u.max(0.0);
    u / (1.0 + u)
}

#[cfg(test)]
mod tests {
    use super::*;

    const P: OnlineParams = OnlineParams { capacity: 64, cusum_reset: 1e9, z_half: 1.0 };

    fn noise(i: usize) -> f64 {
        // Deterministic, roughly uniform in [-1, 1].
        ((i * 7919) % 201) as f64 / 100.0 - 1.0
    }

    fn feed(values: impl IntoIterator<Item = f64>) -> (OnlineState, Vec<f64>) {
        let mut s = OnlineState::default();
        let scores = values
            .into_iter()
            .map(|x| {
                s.update(x, &P);
                s.anomaly_score(&P).unwrap_or(0.0)
            })
            .collect();
        (s, scores)
    }

    #[test]
    fn median_and_mad_ignore_a_spike() {
        let mut v: Vec<f64> = (0..20).map(|i| 10.0 + noise(i)).collect();
        v[5] = 1000.0;
        let r = Robust::of(&v).unwrap();
        assert!((r.median - 10.0).abs() < 0.3, "{r:?}");
        assert!(r.sigma < 1.5, "{r:?}");
        assert!(Robust::of(&v[..10]).is_none());
    }

    #[test]
    fn a_flat_signal_has_a_floored_scale() {
        let r = Robust::of(&[5.0; 20]).unwrap();
        assert!(r.sigma > 0.0 && r.z(5.0) == 0.0);
    }

    #[test]
    fn a_spike_scores_high_and_noise_low() {
        let (_, scores) = feed((0..200).map(|i| if i == 150 { 20.0 } else { noise(i) }));
        assert!(scores[150] > 0.7, "{}", scores[150]);
        let quiet = scores[20..150].iter().cloned().fold(0.0, f64::max);
        assert!(quiet < 0.45, "{quiet}");
    }

    #[test]
    fn a_small_step_is_accumulated_by_the_cusum() {
        let mut s = OnlineState::default();
        let mut stat = Vec::new();
        for i in 0..200 {
            s.update(noise(i) + if i >= 120 { 1.5 } else { 0.0 }, &P);
            stat.push(s.cusum.statistic());
        }
        assert!(stat[20..120].iter().all(|&c| c < 8.0), "{:?}", &stat[20..120]);
        assert!(stat[140] > 15.0 && s.cusum.up > s.cusum.down, "{}", stat[140]);
    }

    #[test]
    fn a_two_level_signal_is_not_rare_at_its_transitions() {
        // A square wave: the median sits on one level, but both are usual.
        let square = |i: usize| if (i / 20) % 2 == 0 { 20.0 } else { 68.0 } + noise(i) * 0.1;
        let (_, scores) = feed((0..400).map(square));
        let worst = scores[100..].iter().cloned().fold(0.0, f64::max);
        assert!(worst < 0.5, "{worst}");
        let (_, scores) = feed((0..400).map(|i| if i == 300 { 44.0 } else { square(i) }));
        assert!(scores[300] > 0.5, "{}", scores[300]);
    }

    #[test]
    fn the_cusum_restarts_after_its_alarm_level() {
        let p = OnlineParams { cusum_reset: 5.0, ..P };
        let mut s = OnlineState::default();
        for i in 0..200 {
            s.update(noise(i) + if i >= 100 { 3.0 } else { 0.0 }, &p);
            assert!(s.cusum.statistic() < 5.0 + 50.0);
        }
        // The reference ring has absorbed the new level: back to quiet.
        assert!(s.cusum.statistic() < 5.0, "{:?}", s.cusum);
    }

    #[test]
    fn the_ring_is_bounded() {
        let (s, _) = feed((0..1000).map(noise));
        assert_eq!(s.ring.len(), 64);
    }

    #[test]
    fn squash_maps_one_to_a_half() {
        assert_eq!(squash(1.0), 0.5);
        assert_eq!(squash(0.0), 0.0);
        assert!(squash(1e9) < 1.0);
    }
}
