//! Multivariate deviation across an asset's sensors: Hotelling's T^2 against
//! a mean vector and covariance learned online. Correlated sensors (current
//! and vibration, pressure and flow) can each look normal while their joint
//! state is not; T^2 sees that. Memory is `d + d^2` numbers per check.

use ndarray::{Array1, Array2};
use serde::{Deserialize, Serialize};

/// Settings, from `DetectConfig`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MultivariateParams {
    /// Vectors averaged plainly before the statistics are trusted and the
    /// slow exponential learning starts.
    pub warmup: u32,
    /// Exponential weight of one vector once warm.
    pub alpha: f64,
    /// Weight of the newest vector in the smoothed vector that is scored
    /// (1 scores raw vectors): a multivariate EWMA chart, which sees small
    /// sustained shifts that single noisy vectors hide.
    pub smoothing: f64,
}

/// Mean and covariance of the sensor vector, learned online.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Hotelling {
    mean: Array1<f64>,
    cov: Array2<f64>,
    smoothed: Option<Array1<f64>>,
    seen: u32,
}

/// Ridge added to the covariance diagonal, relative to each variance, so a
/// constant or perfectly collinear sensor does not make it singular.
const RIDGE: f64 = 1e-3;
/// A vector whose T^2 per dimension exceeds this is learned 20x slower, so a
/// developing fault does not become the new normal.
const FREEZE_T2_PER_DIM: f64 = 9.0;

impl Hotelling {
    pub fn new(dim: usize) -> Self {
        Hotelling { mean: Array1::zeros(dim), cov: Array2::zeros((dim, dim)), smoothed: None, seen: 0 }
    }

    /// Sensors in the vector.
    pub fn dim(&self) -> usize {
        self.mean.len()
    }

    pub fn is_warm(&self, p: &MultivariateParams) -> bool {
        self.seen >= p.warmup.max(2)
    }

    /// T^2 of the smoothed vector including `x`, divided by the dimension
    /// (about 1 for normal data), before it is learned; `None` while warming up.
    pub fn score_and_learn(&mut self, x: &[f64], p: &MultivariateParams) -> Option<f64> {
        let x = Array1::from(x.to_vec());
        let x = match self.smoothed.take() {
            Some(s) => s * (1.0 - p.smoothing) + x * p.smoothing,
            None => x,
        };
        self.smoothed = Some(x.clone());
        let score = self.is_warm(p).then(|| self.t2(&x) / x.len() as f64);
        self.learn(&x, score, p);
        score
    }

    fn learn(&mut self, x: &Array1<f64>, score: Option<f64>, p: &MultivariateParams) {
        let alpha = match score {
            None => 1.0 / (self.seen as f64 + 1.0),
            Some(s) if s > FREEZE_T2_PER_DIM => p.alpha * 0.05,
            Some(_) => p.alpha,
        };
        let d = x - &self.mean;
        self.mean.scaled_add(alpha, &d);
        let outer = d.view().insert_axis(ndarray::Axis(1)).dot(&d.view().insert_axis(ndarray::Axis(0)));
        self.cov = (&self.cov + &(outer * alpha)) * (1.0 - alpha);
        self.seen = self.seen.saturating_add(1);
    }

    /// `(x - mean)' C^-1 (x - mean)` through a Cholesky factor of the ridged covariance.
    fn t2(&self, x: &Array1<f64>) -> f64 {
        let d = x - &self.mean;
        let mut c = self.cov.clone();
        for i in 0..c.nrows() {
            c[[i, i]] += RIDGE * c[[i, i]].abs().max(1e-12) + 1e-12;
        }
        match cholesky(&c) {
            Some(l) => forward_substitute(&l, &d).iter().map(|v| v * v).sum(),
            None => f64::INFINITY,
        }
    }
}

/// Lower-triangular `L` with `L L' = a`; `None` if `a` is not positive definite.
pub fn cholesky(a: &Array2<f64>) -> Option<Array2<f64>> {
    let n = a.nrows();
    let mut l = Array2::<f64>::zeros((n, n));
    for i in 0..n {
        for j in 0..=i {
            let s: f64 = (0..j).map(|k| l[[i, k]] * l[[j, k]]).sum();
            if i == j {
                let v = a[[i, i]] - s;
                if v <= 0.0 || !v.is_finite() {
                    return None;
                }
                l[[i, j]] = v.sqrt();
            } else {
                l[[i, j]] = (a[[i, j]] - s) / l[[j, j]];
            }
        }
    }
    Some(l)
}

/// Solves `L y = b` for lower-triangular `L`.
fn forward_substitute(l: &Array2<f64>, b: &Array1<f64>) -> Array1<f64> {
    let mut y = Array1::<f64>::zeros(b.len());
    for i in 0..b.len() {
        let s: f64 = (0..i).map(|k| l[[i, k]] * y[k]).sum();
        y[i] = (b[i] - s) / l[[i, i]];
    }
    y
}

#[cfg(test)]
mod tests {
    use super::*;
    use ndarray::array;

    const P: MultivariateParams = MultivariateParams { warmup: 200, alpha: 0.001, smoothing: 1.0 };

    /// Two strongly correlated sensors: b follows a with small noise.
    fn pair(i: usize) -> [f64; 2] {
        let a = ((i * 37) % 100) as f64 / 10.0;
        let e = ((i * 7919) % 11) as f64 / 50.0 - 0.1;
        [a, 2.0 * a + e]
    }

    #[test]
    fn cholesky_factors_a_known_matrix() {
        let a = array![[4.0, 2.0], [2.0, 3.0]];
        let l = cholesky(&a).unwrap();
        assert!((l.dot(&l.t()) - &a).iter().all(|v| v.abs() < 1e-12));
        assert!(cholesky(&array![[1.0, 2.0], [2.0, 1.0]]).is_none());
    }

    #[test]
    fn normal_vectors_score_about_one() {
        let mut h = Hotelling::new(2);
        let scores: Vec<f64> = (0..600).filter_map(|i| h.score_and_learn(&pair(i), &P)).collect();
        assert_eq!(scores.len(), 400);
        let mean = scores.iter().sum::<f64>() / scores.len() as f64;
        assert!((0.5..2.0).contains(&mean), "{mean}");
    }

    #[test]
    fn a_broken_correlation_is_found_though_each_sensor_is_in_range() {
        let mut h = Hotelling::new(2);
        for i in 0..400 {
            h.score_and_learn(&pair(i), &P);
        }
        // a = 5, b = 5: both within their ranges, but b should be near 10.
        let s = h.score_and_learn(&[5.0, 5.0], &P).unwrap();
        assert!(s > 100.0, "{s}");
    }

    #[test]
    fn a_constant_sensor_does_not_break_the_inverse() {
        let mut h = Hotelling::new(2);
        let s = (0..300).filter_map(|i| h.score_and_learn(&[pair(i)[0], 1.0], &P)).last().unwrap();
        assert!(s.is_finite(), "{s}");
    }
}
