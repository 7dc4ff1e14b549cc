//! C-MAPSS remaining-useful-life (RUL) metrics: RMSE and the asymmetric scoring function of the
//! PHM08 challenge (Saxena et al., 2008), one prediction per test engine (its last cycle), with
//! the true RUL from `RUL_FD00x.txt`.
//!
//! Convention: [`score`] caps the true RUL at [`RUL_CAP`] = 125 cycles (the piecewise-linear
//! target of Heimes 2008 that the usual deep-learning results on C-MAPSS are reported with) and
//! uses the same capped truth for both RMSE and the NASA score, so both metrics judge one error
//! `d = predicted - min(true, 125)`. Predictions are used as given. [`rmse`] and [`nasa`] are the
//! plain formulas and cap nothing; call them on the raw `RUL_FD00x.txt` values for the uncapped
//! variants some papers report.

/// Upper bound of the piecewise-linear RUL target, in cycles.
pub const RUL_CAP: f64 = 125.0;

/// Early predictions (d < 0) are divided by 13, late ones (d >= 0) by 10: late costs more.
const EARLY_SCALE: f64 = 13.0;
const LATE_SCALE: f64 = 10.0;

/// A RUL clipped to the piecewise-linear target's plateau.
pub fn cap(rul: f64) -> f64 {
    rul.min(RUL_CAP)
}

/// RMSE and NASA score of a test set.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RulScore {
    /// RMSE against the capped true RUL.
    pub rmse: f64,
    /// NASA score (a sum, lower is better) against the capped true RUL.
    pub nasa: f64,
    /// Number of engines scored.
    pub n: usize,
}

/// Root-mean-square error of `pred` against `truth`, without capping. NaN when empty.
///
/// # Panics
/// If the slices differ in length.
pub fn rmse(pred: &[f64], truth: &[f64]) -> f64 {
    assert_eq!(pred.len(), truth.len(), "predictions and truths differ in length");
    let squares: f64 = pred.iter().zip(truth).map(|(p, t)| (p - t).powi(2)).sum();
    (squares / pred.len() as f64).sqrt()
}

/// PHM08 score `sum(exp(-d/13) - 1 for d < 0, exp(d/10) - 1 for d >= 0)` with
/// `d = pred - truth`, without capping. Zero when empty.
///
/// # Panics
/// If the slices differ in length.
pub fn nasa(pred: &[f64], truth: &[f64]) -> f64 {
    assert_eq!(pred.len(), truth.len(), "predictions and truths differ in length");
    pred.iter().zip(truth).map(|(p, t)| nasa_term(p - t)).sum()
}

/// One engine's NASA penalty for the error `d = predicted - true`.
fn nasa_term(d: f64) -> f64 {
    if d < 0.0 {
        (-d / EARLY_SCALE).exp() - 1.0
    } else {
        (d / LATE_SCALE).exp() - 1.0
    }
}

/// RMSE and NASA score of `pred` against the true RUL capped at [`RUL_CAP`].
///
/// # Panics
/// If the slices differ in length.
pub fn score(pred: &[f64], truth: &[f64]) -> RulScore {
    let capped: Vec<f64> = truth.iter().map(|&t| cap(t)).collect();
    RulScore { rmse: rmse(pred, &capped), nasa: nasa(pred, &capped), n: pred.len() }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_close(actual: f64, expected: f64) {
        assert!((actual - expected).abs() < 1e-12, "got {actual}, expected {expected}");
    }

    #[test]
    fn cap_clips_at_125() {
        assert_eq!(cap(145.0), 125.0);
        assert_eq!(cap(125.0), 125.0);
        assert_eq!(cap(7.0), 7.0);
    }

    #[test]
    fn rmse_is_uncapped() {
        // Errors -2 and 0 -> sqrt((4 + 0) / 2) = sqrt(2); 150 vs 130 -> 20 even above the cap.
        assert_close(rmse(&[1.0, 2.0], &[3.0, 2.0]), 2f64.sqrt());
        assert_close(rmse(&[150.0], &[130.0]), 20.0);
    }

    #[test]
    fn nasa_penalises_late_more_than_early() {
        // d = -13: exp(13 / 13) - 1 = e - 1; d = +10: exp(10 / 10) - 1 = e - 1; d = 0: 0.
        let e = std::f64::consts::E;
        assert_close(nasa(&[10.0], &[23.0]), e - 1.0);
        assert_close(nasa(&[20.0], &[10.0]), e - 1.0);
        assert_close(nasa(&[5.0], &[5.0]), 0.0);
        // Same |d| = 13: early e - 1 = 1.71828, late exp(1.3) - 1 = 2.66930.
        assert!(nasa(&[23.0], &[10.0]) > nasa(&[10.0], &[23.0]));
        assert_close(nasa(&[10.0, 20.0], &[23.0, 10.0]), 2.0 * (e - 1.0));
    }

    #[test]
    fn score_caps_the_true_rul_for_both_metrics() {
        // Truths 145 and 50 cap to 125 and 50. Predictions 125 and 60: d = 0 and +10.
        // RMSE = sqrt((0 + 100) / 2) = sqrt(50); NASA = 0 + (e - 1).
        let s = score(&[125.0, 60.0], &[145.0, 50.0]);
        assert_eq!(s.n, 2);
        assert_close(s.rmse, 50f64.sqrt());
        assert_close(s.nasa, std::f64::consts::E - 1.0);
    }
}
