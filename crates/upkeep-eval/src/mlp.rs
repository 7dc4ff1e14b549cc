//! Fitting the health model's networks: one hidden layer of rectified
//! units, squared error, mini-batch Adam. Offline, in `upkeep eval`; the
//! engine only evaluates the result (`rules::health`).

use ndarray::{Array1, Array2, ArrayView2, Axis};
use upkeep::rules::health::Mlp;

/// How networks are fitted.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MlpParams {
    pub hidden: usize,
    pub epochs: usize,
    /// Networks averaged into one model (their seeds are 0..nets).
    pub nets: usize,
}

impl Default for MlpParams {
    /// Chosen by cross-validation on the C-MAPSS development units: 16, 32
    /// and 64 hidden units and 30 to 120 epochs were within 0.3 cycles RMSE.
    fn default() -> Self {
        MlpParams { hidden: 32, epochs: 60, nets: 5 }
    }
}

const LEARNING_RATE: f64 = 1e-3;
const BATCH: usize = 64;
/// L2 penalty, scaled by the batch size as scikit-learn's MLP does.
const L2: f64 = 1e-3;
const BETA1: f64 = 0.9;
const BETA2: f64 = 0.999;
const EPS: f64 = 1e-8;

/// splitmix64: small, stable and independent of any random-number crate's
/// version, so a fit is reproducible from its seed.
#[derive(Debug, Clone)]
pub struct SplitMix(u64);

impl SplitMix {
    pub fn new(seed: u64) -> Self {
        SplitMix(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    fn uniform(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
    }

    /// Uniform in [-limit, limit).
    fn symmetric(&mut self, limit: f64) -> f64 {
        (2.0 * self.uniform() - 1.0) * limit
    }

    /// Fisher-Yates.
    fn shuffle(&mut self, v: &mut [usize]) {
        for i in (1..v.len()).rev() {
            let j = (self.next_u64() % (i as u64 + 1)) as usize;
            v.swap(i, j);
        }
    }
}

/// One parameter array and its Adam moments.
struct Param<D: ndarray::Dimension> {
    value: ndarray::Array<f64, D>,
    m: ndarray::Array<f64, D>,
    v: ndarray::Array<f64, D>,
}

impl<D: ndarray::Dimension> Param<D> {
    fn new(value: ndarray::Array<f64, D>) -> Self {
        Param { m: ndarray::Array::zeros(value.raw_dim()), v: ndarray::Array::zeros(value.raw_dim()), value }
    }

    fn step(&mut self, grad: &ndarray::Array<f64, D>, t: i32) {
        let (c1, c2) = (1.0 - BETA1.powi(t), 1.0 - BETA2.powi(t));
        ndarray::Zip::from(&mut self.value).and(&mut self.m).and(&mut self.v).and(grad).for_each(|w, m, v, &g| {
            *m = BETA1 * *m + (1.0 - BETA1) * g;
            *v = BETA2 * *v + (1.0 - BETA2) * g * g;
            *w -= LEARNING_RATE * (*m / c1) / ((*v / c2).sqrt() + EPS);
        });
    }
}

/// Fits one network to `y` from standardised inputs `x` (rows are samples).
pub fn fit(x: ArrayView2<f64>, y: &[f64], hidden: usize, epochs: usize, seed: u64) -> Mlp {
    let (n, d) = x.dim();
    let mut rng = SplitMix::new(seed);
    let limit1 = (6.0 / (d + hidden) as f64).sqrt();
    let w1: Vec<f64> = (0..d * hidden).map(|_| rng.symmetric(limit1)).collect();
    let w1 = Array2::from_shape_vec((d, hidden), w1).expect("d * hidden values");
    let limit2 = (6.0 / (hidden + 1) as f64).sqrt();
    let w2: Array1<f64> = (0..hidden).map(|_| rng.symmetric(limit2)).collect();
    let (mut w1, mut b1, mut w2, mut b2) =
        (Param::new(w1), Param::new(Array1::zeros(hidden)), Param::new(w2), Param::new(Array1::zeros(1)));
    let y = Array1::from(y.to_vec());
    let mut order: Vec<usize> = (0..n).collect();
    let mut t = 0;
    for _ in 0..epochs {
        rng.shuffle(&mut order);
        for batch in order.chunks(BATCH) {
            let xb = x.select(Axis(0), batch);
            let yb = y.select(Axis(0), batch);
            let size = batch.len() as f64;
            let z = xb.dot(&w1.value) + &b1.value;
            let a = z.mapv(|v| v.max(0.0));
            let g = (a.dot(&w2.value) + b2.value[0] - yb) / size;
            let g_w2 = a.t().dot(&g) + &w2.value * (L2 / size);
            let g_b2 = Array1::from_elem(1, g.sum());
            let mut g_a = g.view().insert_axis(Axis(1)).dot(&w2.value.view().insert_axis(Axis(0)));
            ndarray::Zip::from(&mut g_a).and(&z).for_each(|ga, &zv| {
                if zv <= 0.0 {
                    *ga = 0.0;
                }
            });
            let g_w1 = xb.t().dot(&g_a) + &w1.value * (L2 / size);
            let g_b1 = g_a.sum_axis(Axis(0));
            t += 1;
            w1.step(&g_w1, t);
            b1.step(&g_b1, t);
            w2.step(&g_w2, t);
            b2.step(&g_b2, t);
        }
    }
    Mlp { w1: w1.value.into_iter().collect(), b1: b1.value.to_vec(), w2: w2.value.to_vec(), b2: b2.value[0] }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splitmix_matches_the_reference_sequence() {
        // splitmix64 seeded with 0 (Vigna's reference implementation).
        let mut r = SplitMix::new(0);
        assert_eq!(r.next_u64(), 0xE220_A839_7B1D_CDAF);
        assert_eq!(r.next_u64(), 0x6E78_9E6A_A1B9_65F4);
    }

    #[test]
    fn a_shuffle_is_a_permutation() {
        let mut v: Vec<usize> = (0..100).collect();
        SplitMix::new(3).shuffle(&mut v);
        assert_ne!(v, (0..100).collect::<Vec<_>>());
        v.sort_unstable();
        assert_eq!(v, (0..100).collect::<Vec<_>>());
    }

    #[test]
    fn a_network_learns_a_nonlinear_function_and_is_reproducible() {
        // y = |x0| - 0.5 x1 on a grid: not linear in x, easy for rectified units.
        let pts: Vec<(f64, f64)> =
            (0..400).map(|i| (f64::from(i % 20) / 10.0 - 0.95, f64::from(i / 20) / 10.0 - 0.95)).collect();
        let x = Array2::from_shape_fn((pts.len(), 2), |(i, j)| if j == 0 { pts[i].0 } else { pts[i].1 });
        let y: Vec<f64> = pts.iter().map(|(a, b)| a.abs() - 0.5 * b).collect();
        let net = fit(x.view(), &y, 16, 200, 1);
        let mse = pts.iter().zip(&y).map(|(p, t)| (net.predict(&[p.0, p.1]) - t).powi(2)).sum::<f64>() / 400.0;
        assert!(mse < 0.003, "{mse}");
        assert_eq!(fit(x.view(), &y, 16, 5, 1), fit(x.view(), &y, 16, 5, 1));
    }
}
