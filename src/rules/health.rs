//! Health index for remaining useful life: streaming degradation features of
//! an asset's sensors, read by a small fitted network. The index is the
//! predicted remaining life as a fraction of the life horizon it was fitted
//! to: 1 healthy, 0 at end of life (see `upkeep eval cmapss`).
//!
//! Degradation accelerates near the end and each unit starts from its own
//! level of wear, so the features are level (smoothed), short and
//! whole-life trend, drift from the unit's own start, and age; a linear map
//! of smoothed levels alone measured 20.5 cycles RMSE on C-MAPSS where this
//! reads 10-11. Memory per asset is `SLOPE_CYCLES * d + 7 * d` numbers.

use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// Span of the exponential smoothing of each sensor (weight `2 / (span + 1)`).
const EWMA_SPAN: f64 = 20.0;
/// Updates the short trend is fitted over.
const SLOPE_CYCLES: usize = 30;
/// Updates averaged into the unit's own starting level.
const BASE_CYCLES: u32 = 30;

/// Features per update for `d` sensors: smoothed level, short slope,
/// whole-life slope, drift from start (each `d`), and age.
pub fn feature_count(d: usize) -> usize {
    4 * d + 1
}

/// Bounded streaming state of one asset's sensor vector.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HealthFeatures {
    updates: u32,
    ewma: Vec<f64>,
    base_sum: Vec<f64>,
    /// The last `SLOPE_CYCLES` vectors, flattened oldest first.
    recent: VecDeque<f64>,
    /// First vector: whole-life sums are kept relative to it for precision.
    first: Vec<f64>,
    sum_t: f64,
    sum_tt: f64,
    sum_x: Vec<f64>,
    sum_tx: Vec<f64>,
}

impl HealthFeatures {
    pub fn new(d: usize) -> Self {
        HealthFeatures {
            updates: 0,
            ewma: vec![0.0; d],
            base_sum: vec![0.0; d],
            recent: VecDeque::with_capacity(SLOPE_CYCLES * d),
            first: Vec::new(),
            sum_t: 0.0,
            sum_tt: 0.0,
            sum_x: vec![0.0; d],
            sum_tx: vec![0.0; d],
        }
    }

    /// Sensors in the vector.
    pub fn dim(&self) -> usize {
        self.ewma.len()
    }

    /// Learns one sensor vector (one operating cycle).
    pub fn update(&mut self, x: &[f64]) {
        let t = f64::from(self.updates);
        if self.updates == 0 {
            self.ewma.copy_from_slice(x);
            self.first = x.to_vec();
        }
        self.updates += 1;
        let alpha = 2.0 / (EWMA_SPAN + 1.0);
        for (e, v) in self.ewma.iter_mut().zip(x) {
            *e += alpha * (v - *e);
        }
        if self.updates <= BASE_CYCLES {
            self.base_sum.iter_mut().zip(x).for_each(|(b, v)| *b += v);
        }
        if self.recent.len() == SLOPE_CYCLES * x.len() {
            self.recent.drain(..x.len());
        }
        self.recent.extend(x);
        self.sum_t += t;
        self.sum_tt += t * t;
        for (i, v) in x.iter().enumerate() {
            let centred = v - self.first[i];
            self.sum_x[i] += centred;
            self.sum_tx[i] += t * centred;
        }
    }

    /// The features after the last update; `None` before the first.
    pub fn features(&self) -> Option<Vec<f64>> {
        if self.updates == 0 {
            return None;
        }
        let d = self.ewma.len();
        let n = f64::from(self.updates);
        let base_n = f64::from(self.updates.min(BASE_CYCLES));
        let mut f = Vec::with_capacity(feature_count(d));
        f.extend_from_slice(&self.ewma);
        f.extend(self.short_slopes());
        let spread = self.sum_tt - self.sum_t * self.sum_t / n;
        f.extend((0..d).map(|i| {
            if self.updates < 2 {
                0.0
            } else {
                (self.sum_tx[i] - self.sum_t * self.sum_x[i] / n) / spread
            }
        }));
        f.extend((0..d).map(|i| self.ewma[i] - self.base_sum[i] / base_n));
        f.push(n);
        Some(f)
    }

    /// Least-squares slope per update of each sensor over the recent
    /// vectors (two sequential passes over the ring).
    fn short_slopes(&self) -> Vec<f64> {
        let d = self.ewma.len();
        let m = self.recent.len() / d;
        if m < 2 {
            return vec![0.0; d];
        }
        let mut mean = vec![0.0; d];
        for (k, v) in self.recent.iter().enumerate() {
            mean[k % d] += v / m as f64;
        }
        let centre = (m - 1) as f64 / 2.0;
        let mut num = vec![0.0; d];
        for (k, v) in self.recent.iter().enumerate() {
            num[k % d] += ((k / d) as f64 - centre) * (v - mean[k % d]);
        }
        let den: f64 = (0..m).map(|j| (j as f64 - centre).powi(2)).sum();
        num.into_iter().map(|n| n / den).collect()
    }
}

/// One hidden layer of rectified units and a linear output.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mlp {
    /// Input-to-hidden weights, row-major `inputs x hidden`.
    pub w1: Vec<f64>,
    pub b1: Vec<f64>,
    pub w2: Vec<f64>,
    pub b2: f64,
}

impl Mlp {
    pub fn hidden(&self) -> usize {
        self.b1.len()
    }

    pub fn predict(&self, z: &[f64]) -> f64 {
        let h = self.hidden();
        let mut hidden = self.b1.clone();
        for (row, &zi) in self.w1.chunks_exact(h).zip(z) {
            hidden.iter_mut().zip(row).for_each(|(a, w)| *a += zi * w);
        }
        self.b2 + hidden.iter().zip(&self.w2).map(|(a, w)| a.max(0.0) * w).sum::<f64>()
    }
}

/// A fitted health model: feature standardisation and an ensemble of
/// networks whose mean is the index.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HealthNet {
    /// Sensors the model reads, in order.
    pub sensors: usize,
    pub mean: Vec<f64>,
    pub std: Vec<f64>,
    pub nets: Vec<Mlp>,
}

impl HealthNet {
    /// Why the model cannot be used as loaded, if it cannot.
    pub fn invalid(&self) -> Option<String> {
        let f = feature_count(self.sensors);
        if self.mean.len() != f || self.std.len() != f {
            return Some(format!("{} sensors need {f} feature means and deviations", self.sensors));
        }
        if self.nets.is_empty() {
            return Some("no networks".into());
        }
        let shapes_ok = self.nets.iter().all(|n| n.w1.len() == f * n.hidden() && n.w2.len() == n.hidden());
        let finite = self.mean.iter().chain(&self.std).all(|v| v.is_finite())
            && self.std.iter().all(|&s| s > 0.0)
            && self.nets.iter().all(|n| n.w1.iter().chain(&n.b1).chain(&n.w2).chain([&n.b2]).all(|v| v.is_finite()));
        match (shapes_ok, finite) {
            (false, _) => Some(format!("network weights do not match {f} inputs")),
            (_, false) => Some("weights must be finite and deviations positive".into()),
            _ => None,
        }
    }

    /// The health index for one feature vector.
    pub fn index(&self, features: &[f64]) -> f64 {
        let z: Vec<f64> = features.iter().zip(&self.mean).zip(&self.std).map(|((x, m), s)| (x - m) / s).collect();
        self.nets.iter().map(|n| n.predict(&z)).sum::<f64>() / self.nets.len() as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fed(rows: impl Iterator<Item = Vec<f64>>) -> (HealthFeatures, Vec<f64>) {
        let mut h = HealthFeatures::new(1);
        for r in rows {
            h.update(&r);
        }
        let last = h.features().expect("fed at least once");
        (h, last)
    }

    #[test]
    fn a_line_has_its_slope_on_both_horizons_and_its_drift_from_start() {
        // x = 10 + 0.5 t for 100 updates.
        let (_, f) = fed((0..100).map(|t| vec![10.0 + 0.5 * f64::from(t)]));
        assert_eq!(f.len(), feature_count(1));
        assert!((f[1] - 0.5).abs() < 1e-12, "short slope {}", f[1]);
        assert!((f[2] - 0.5).abs() < 1e-9, "whole-life slope {}", f[2]);
        // The EWMA lags a line by slope * (span - 1) / 2; the base is the mean of t = 0..29.
        let ewma = 10.0 + 0.5 * 99.0 - 0.5 * (EWMA_SPAN - 1.0) / 2.0;
        assert!((f[0] - ewma).abs() < 1e-3, "ewma {}", f[0]);
        assert!((f[3] - (f[0] - (10.0 + 0.5 * 14.5))).abs() < 1e-9, "drift {}", f[3]);
        assert_eq!(f[4], 100.0);
    }

    #[test]
    fn a_constant_has_no_trend_and_the_first_update_is_defined() {
        assert_eq!(HealthFeatures::new(1).features(), None);
        let (_, first) = fed(std::iter::once(vec![3.0]));
        assert_eq!(first, vec![3.0, 0.0, 0.0, 0.0, 1.0]);
        let (_, f) = fed(std::iter::repeat_n(vec![3.0], 50));
        assert_eq!(&f[..4], &[3.0, 0.0, 0.0, 0.0]);
    }

    #[test]
    fn the_short_slope_forgets_what_is_older_than_its_window() {
        // Flat for 100 updates, then rising 1 per update for SLOPE_CYCLES.
        let rows = (0..100).map(|_| vec![0.0]).chain((1..=SLOPE_CYCLES).map(|k| vec![k as f64]));
        let (h, f) = fed(rows);
        assert!((f[1] - 1.0).abs() < 1e-12, "{}", f[1]);
        assert!(f[2] > 0.0 && f[2] < 0.5, "{}", f[2]);
        assert_eq!(h.recent.len(), SLOPE_CYCLES);
    }

    #[test]
    fn the_network_computes_relu_layers_and_the_ensemble_mean() {
        // Two inputs, two hidden units: h = relu(x0 - x1), relu(x1); out = 2 h0 + h1 + 0.5.
        let net = Mlp { w1: vec![1.0, 0.0, -1.0, 1.0], b1: vec![0.0, 0.0], w2: vec![2.0, 1.0], b2: 0.5 };
        assert_eq!(net.predict(&[3.0, 1.0]), 2.0 * 2.0 + 1.0 + 0.5);
        assert_eq!(net.predict(&[1.0, 3.0]), 3.0 + 0.5);
        let other = Mlp { b2: 1.5, ..net.clone() };
        // One sensor: 5 features, standardised by (x - 1) / 2.
        let wide = |m: &Mlp| Mlp { w1: [m.w1.clone(), vec![0.0; 6]].concat(), ..m.clone() };
        let model =
            HealthNet { sensors: 1, mean: vec![1.0; 5], std: vec![2.0; 5], nets: vec![wide(&net), wide(&other)] };
        assert_eq!(model.invalid(), None);
        // z = (3, 1, ..) -> 5.5 and 6.5.
        assert_eq!(model.index(&[7.0, 3.0, 1.0, 1.0, 1.0]), 6.0);
    }

    #[test]
    fn malformed_models_are_rejected() {
        let net = Mlp { w1: vec![0.0; 10], b1: vec![0.0; 2], w2: vec![0.0; 2], b2: 0.0 };
        let ok = HealthNet { sensors: 1, mean: vec![0.0; 5], std: vec![1.0; 5], nets: vec![net.clone()] };
        assert_eq!(ok.invalid(), None);
        assert!(HealthNet { sensors: 2, ..ok.clone() }.invalid().is_some());
        assert!(HealthNet { nets: vec![], ..ok.clone() }.invalid().is_some());
        assert!(HealthNet { std: vec![0.0; 5], ..ok.clone() }.invalid().is_some());
        let short = Mlp { w1: vec![0.0; 9], ..net };
        assert!(HealthNet { nets: vec![short], ..ok }.invalid().is_some());
    }
}
