//! The detectors: plain functions over window state, each returning the
//! observed quantity its rule check compares with a bound.

use crate::model::EpochMs;
use ndarray::ArrayView1;

const MS_PER_HOUR: f64 = 3_600_000.0;

/// How long the newest samples have continuously been beyond `beyond`
/// (0 when only the newest one is). `None` when the newest sample is not beyond.
pub fn held_beyond(ts: &[EpochMs], values: &[f64], beyond: impl Fn(f64) -> bool) -> Option<i64> {
    let newest = *ts.last()?;
    let run = values.iter().rev().take_while(|v| beyond(**v)).count();
    (run > 0).then(|| newest - ts[ts.len() - run])
}

/// How long the value has not changed at all (a stuck sensor), given at least
/// `min_samples` identical samples.
pub fn flat_for(ts: &[EpochMs], values: &[f64], min_samples: usize) -> Option<i64> {
    let last = *values.last()?;
    let run = values.iter().rev().take_while(|v| **v == last).count();
    (run >= min_samples).then(|| ts[ts.len() - 1] - ts[ts.len() - run])
}

/// A least-squares line `value = intercept + slope * (t - t0)`, time in hours.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LineFit {
    pub t0: EpochMs,
    pub intercept: f64,
    /// Units per hour.
    pub slope: f64,
    /// Standard error of the slope.
    pub slope_se: f64,
}

impl LineFit {
    pub fn at(&self, t: EpochMs) -> f64 {
        self.intercept + self.slope * (t - self.t0) as f64 / MS_PER_HOUR
    }
}

/// Ordinary least squares over `(t, v)`; needs 3 points spread in time.
pub fn fit_line(ts: &[EpochMs], values: &[f64]) -> Option<LineFit> {
    let n = ts.len().min(values.len());
    if n < 3 {
        return None;
    }
    let t0 = ts[0];
    let x: Vec<f64> = ts[..n].iter().map(|&t| (t - t0) as f64 / MS_PER_HOUR).collect();
    let x = ArrayView1::from(&x);
    let y = ArrayView1::from(&values[..n]);
    let (mx, my) = (x.mean()?, y.mean()?);
    let dx = x.mapv(|v| v - mx);
    let sxx = dx.dot(&dx);
    if sxx <= f64::EPSILON {
        return None;
    }
    let slope = dx.dot(&y.mapv(|v| v - my)) / sxx;
    let intercept = my - slope * mx;
    let sse: f64 = x.iter().zip(y.iter()).map(|(xi, yi)| (yi - intercept - slope * xi).powi(2)).sum();
    let slope_se = (sse / (n as f64 - 2.0) / sxx).sqrt();
    Some(LineFit { t0, intercept, slope, slope_se })
}

/// Slope of the window in units per hour.
pub fn slope_per_hour(ts: &[EpochMs], values: &[f64]) -> Option<f64> {
    fit_line(ts, values).map(|f| f.slope)
}

/// Median of the window (robust to isolated spikes).
pub fn median(values: &[f64]) -> Option<f64> {
    if values.is_empty() {
        return None;
    }
    Some(select_median(&mut values.to_vec()))
}

/// Median of `v`, reordering it in place (no copy; `v` must not be empty).
pub fn select_median(v: &mut [f64]) -> f64 {
    let mid = v.len() / 2;
    *v.select_nth_unstable_by(mid, f64::total_cmp).1
}

/// Deviation of `level` from a baseline, in standard deviations.
pub fn z_score(level: f64, mean: f64, std: f64) -> f64 {
    (level - mean) / std
}

/// A trend must be this many standard errors away from flat before it is
/// extrapolated; noise and daily cycles then rarely forecast a failure.
const MIN_TREND_T: f64 = 4.0;

/// Hours until the trend fitted over `points` reaches `limit` from `now`
/// (0 when already there). `None` when there is no significant trend towards it.
pub fn hours_to_cross(points: &[(EpochMs, f64)], now: EpochMs, limit: f64, rising: bool) -> Option<f64> {
    let (ts, vs): (Vec<EpochMs>, Vec<f64>) = points.iter().copied().unzip();
    let fit = fit_line(&ts, &vs)?;
    let level = fit.at(now);
    let gap = if rising { limit - level } else { level - limit };
    if gap <= 0.0 {
        return Some(0.0);
    }
    let towards = if rising { fit.slope } else { -fit.slope };
    let significant = towards > 0.0 && towards > MIN_TREND_T * fit.slope_se;
    significant.then(|| gap / towards)
}

#[cfg(test)]
mod tests {
    use super::*;

    const H: i64 = 3_600_000;

    #[test]
    fn held_beyond_measures_the_trailing_run_only() {
        let ts = [0, 10, 20, 30, 40];
        let v = [5.0, 1.0, 5.0, 6.0, 7.0];
        assert_eq!(held_beyond(&ts, &v, |x| x > 4.0), Some(20));
        assert_eq!(held_beyond(&ts, &[5.0, 5.0, 5.0, 5.0, 1.0], |x| x > 4.0), None);
        assert_eq!(held_beyond(&[], &[], |x| x > 4.0), None);
    }

    #[test]
    fn a_single_spike_holds_for_zero_time() {
        assert_eq!(held_beyond(&[0, 10, 20], &[1.0, 1.0, 9.0], |x| x > 4.0), Some(0));
    }

    #[test]
    fn flat_for_needs_identical_values() {
        let ts = [0, 10, 20, 30];
        assert_eq!(flat_for(&ts, &[1.0, 2.0, 2.0, 2.0], 3), Some(20));
        assert_eq!(flat_for(&ts, &[1.0, 2.0, 2.0, 2.0], 4), None);
        assert_eq!(flat_for(&ts, &[1.0, 2.0, 2.0, 2.01], 2), None);
    }

    #[test]
    fn fit_recovers_an_exact_line() {
        let ts: Vec<_> = (0..10).map(|i| i * H).collect();
        let vs: Vec<_> = (0..10).map(|i| 3.0 + 0.5 * i as f64).collect();
        let f = fit_line(&ts, &vs).unwrap();
        assert!((f.slope - 0.5).abs() < 1e-12 && (f.intercept - 3.0).abs() < 1e-12);
        assert!(f.slope_se < 1e-9);
        assert!((slope_per_hour(&ts, &vs).unwrap() - 0.5).abs() < 1e-12);
    }

    #[test]
    fn fit_needs_three_points_spread_in_time() {
        assert!(fit_line(&[0, H], &[1.0, 2.0]).is_none());
        assert!(fit_line(&[5, 5, 5], &[1.0, 2.0, 3.0]).is_none());
    }

    #[test]
    fn median_ignores_one_spike() {
        assert_eq!(median(&[1.0, 1.1, 50.0, 0.9, 1.0]), Some(1.0));
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn z_score_is_signed_sigmas() {
        assert_eq!(z_score(13.0, 10.0, 1.5), 2.0);
        assert_eq!(z_score(7.0, 10.0, 1.5), -2.0);
    }

    #[test]
    fn a_rising_trend_is_extrapolated_to_the_limit() {
        let pts: Vec<_> =
            (0..12).map(|i| (i * H, 2.0 + i as f64 * 0.1 + if i % 2 == 0 { 0.01 } else { -0.01 })).collect();
        let now = 11 * H;
        let hours = hours_to_cross(&pts, now, 5.0, true).unwrap();
        // level ~3.1 at now, 0.1 per hour: ~19 h to 5.0
        assert!((hours - 19.0).abs() < 0.5, "{hours}");
        assert_eq!(hours_to_cross(&pts, now, 2.5, true), Some(0.0));
    }

    #[test]
    fn noise_and_trends_away_from_the_limit_give_no_forecast() {
        let noise: Vec<_> = (0..24).map(|i| (i * H, 2.0 + [0.3, -0.2, 0.1, -0.3][i as usize % 4])).collect();
        assert_eq!(hours_to_cross(&noise, 23 * H, 5.0, true), None);
        let falling: Vec<_> = (0..12).map(|i| (i * H, 4.0 - 0.1 * i as f64)).collect();
        assert_eq!(hours_to_cross(&falling, 11 * H, 5.0, true), None);
        assert!(hours_to_cross(&falling, 11 * H, 2.0, false).is_some());
    }
}
