//! SKAB scoring, following waico/SKAB `core/metrics.py` (`chp_score`, taken from `tsad`) with the
//! settings of SKAB's notebooks: `chp_score(true_outlier, predicted_outlier, metric="binary")` for
//! the outlier problem and `chp_score(true_cp, predicted_cp, metric="nab", window_width="60s",
//! anomaly_window_destination="righter")` for the changepoint problem (defaults otherwise:
//! `intersection_mode="cut right window"`, `clear_anomalies_mode=True`, `scale_func="improved"`,
//! `scale_koef=1`).
//!
//! Outliers ([`outlier_scores`]): TP/FP/FN/TN are counted pointwise and pooled over all files;
//! `F1 = TP / (TP + (FP + FN) / 2)`, `FAR = FP / (FP + TN)`, `MAR = FN / (FN + TP)`.
//!
//! Changepoints ([`changepoint_score`]), per file (`single_detecting_boundaries`,
//! `extract_cp_confusion_matrix`, `single_evaluate_nab`):
//!
//! * each true changepoint `cp` opens the window `[cp, cp + 60 s]`; where a window reaches the
//!   next one's start, the next one starts at this one's end instead ("cut right window");
//! * a window with predicted changepoints is a TP scored at its earliest one by SKAB's tanh
//!   curve ("improved" `my_scale`): with `x` the 1000-point grid over `[-pi/2, pi/2]` and
//!   `event = min(int((t - start) / (end - start) * 1000), 999)`,
//!   `A_fp + (A_tp - A_fp) / 2 * (1 - tanh(x[event]) / tanh(pi/2))`, i.e. `A_tp` at the window
//!   start falling to `A_fp` at its end; further predictions in the window are ignored;
//! * a window without one is a miss scored `A_fn`; every prediction strictly outside all windows
//!   is an FP scored `A_fp` (flat: no distance weighting, no probation, unlike NAB);
//! * SKAB's coefficients are NAB's profiles with the costs negated: `A_tp = tp`, `A_fp = -fp`,
//!   `A_fn = -fn` (Standard 1/-0.11/-1, LowFP 1/-0.22/-1, LowFN 1/-0.11/-2), so the functions
//!   take a [`Profile`].
//!
//! Scores, null scores (`A_fn` per window) and perfect scores (`A_tp` per window) are summed over
//! files and normalised as `100 * (S - null) / (perfect - null)`.
//!
//! Differences: SKAB rounds its outputs to two decimals and reports FAR/MAR in percent; these
//! functions return unrounded values and FAR/MAR as fractions. SKAB's README states its current
//! changepoint leaderboard used 30 s windows while its notebooks use 60 s: [`changepoint_score`]
//! uses the notebooks' 60 s and [`changepoint_score_with_window`] takes the width. A window of
//! zero width (a duplicated changepoint) scores a detection on it as `A_tp`; SKAB fails on
//! `int(nan)` there. A corpus without changepoints divides by zero as SKAB does (-inf with
//! predictions, NaN without).

use std::f64::consts::FRAC_PI_2;

use super::nab::Profile;

/// Width of SKAB's changepoint detection window (`window_width="60s"`), in milliseconds.
pub const WINDOW_MS: i64 = 60_000;

/// Points of the grid SKAB evaluates its scoring curve on (`detalization`).
const DETAIL: usize = 1000;

/// Pooled pointwise outlier-detection scores.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct OutlierScore {
    pub f1: f64,
    /// False alarm rate, as a fraction (SKAB prints it in percent).
    pub far: f64,
    /// Missing alarm rate, as a fraction (SKAB prints it in percent).
    pub mar: f64,
    pub tp: usize,
    pub fp: usize,
    pub fn_: usize,
    pub tn: usize,
}

/// F1, FAR and MAR over `(truth, prediction)` row flags, pooled over all files
/// (`chp_score(..., metric="binary")`). Undefined ratios (e.g. no anomalies at all) are NaN.
///
/// # Panics
/// If a file's truth and prediction differ in length.
pub fn outlier_scores(pairs: &[(Vec<bool>, Vec<bool>)]) -> OutlierScore {
    let (mut tp, mut fp, mut fn_, mut tn) = (0, 0, 0, 0);
    for (truth, predicted) in pairs {
        assert_eq!(truth.len(), predicted.len(), "truth and prediction differ in length");
        for (&t, &p) in truth.iter().zip(predicted) {
            match (t, p) {
                (true, true) => tp += 1,
                (false, true) => fp += 1,
                (true, false) => fn_ += 1,
                (false, false) => tn += 1,
            }
        }
    }
    let (tpf, fpf, fnf, tnf) = (tp as f64, fp as f64, fn_ as f64, tn as f64);
    OutlierScore {
        f1: tpf / (tpf + (fn_ + fp) as f64 / 2.0),
        far: fpf / (fpf + tnf),
        mar: fnf / (fnf + tpf),
        tp,
        fp,
        fn_,
        tn,
    }
}

/// One SKAB file for the changepoint problem.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangepointFile {
    /// Row timestamps, epoch milliseconds, ascending.
    pub timestamps: Vec<i64>,
    /// Timestamps of the labelled changepoints (rows with `changepoint == 1`).
    pub true_cps: Vec<i64>,
    /// Per row, whether the detector reports a changepoint there (SKAB's notebooks derive it as
    /// `abs(prediction.diff())` with the first row equal to the first prediction).
    pub predicted: Vec<bool>,
}

/// SKAB's NAB-like changepoint score with 60 s windows, normalised to 100 for a perfect detector
/// and 0 for the null detector.
///
/// # Panics
/// If a file's timestamps and predictions differ in length.
pub fn changepoint_score(files: &[ChangepointFile], profile: &Profile) -> f64 {
    changepoint_score_with_window(files, profile, WINDOW_MS)
}

/// [`changepoint_score`] with detection windows of `window_ms` milliseconds.
///
/// # Panics
/// If a file's timestamps and predictions differ in length.
pub fn changepoint_score_with_window(files: &[ChangepointFile], profile: &Profile, window_ms: i64) -> f64 {
    let (a_tp, a_fp, a_fn) = (profile.tp, -profile.fp, -profile.fn_);
    let (mut score, mut null, mut perfect) = (0.0, 0.0, 0.0);
    for file in files {
        let windows = detection_windows(&file.true_cps, window_ms);
        let found = Confusion::new(&windows, &predicted_times(file));
        let mut file_score = 0.0;
        file_score += a_fp * found.fps as f64;
        file_score += a_fn * found.fns as f64;
        for &tp in &found.tps {
            file_score += scale(tp, a_tp, a_fp);
        }
        score += file_score;
        null += windows.len() as f64 * a_fn;
        perfect += windows.len() as f64 * a_tp;
    }
    100.0 * (score - null) / (perfect - null)
}

/// Timestamps of the predicted changepoints, ascending.
fn predicted_times(file: &ChangepointFile) -> Vec<i64> {
    assert_eq!(file.timestamps.len(), file.predicted.len(), "timestamps and predictions differ in length");
    let mut times: Vec<i64> =
        file.timestamps.iter().zip(&file.predicted).filter(|(_, &p)| p).map(|(&t, _)| t).collect();
    times.sort_unstable();
    times
}

/// `[cp, cp + width]` per changepoint in time order, each window that reaches into the next
/// pushing the next one's start to its own end ("cut right window").
fn detection_windows(true_cps: &[i64], width: i64) -> Vec<(i64, i64)> {
    let mut cps = true_cps.to_vec();
    cps.sort_unstable();
    let mut windows: Vec<(i64, i64)> = cps.iter().map(|&cp| (cp, cp + width)).collect();
    for i in 1..windows.len() {
        if windows[i - 1].1 >= windows[i].0 {
            windows[i].0 = windows[i - 1].1;
        }
    }
    windows
}

/// SKAB's changepoint confusion (`extract_cp_confusion_matrix` with `point=0`).
struct Confusion {
    fps: usize,
    fns: usize,
    /// Detected windows as (start, earliest prediction in it, end).
    tps: Vec<(i64, i64, i64)>,
}

impl Confusion {
    /// Matches sorted prediction times against windows (closed intervals, checked one by one,
    /// so a prediction on a shared boundary counts for both windows).
    fn new(windows: &[(i64, i64)], predicted: &[i64]) -> Self {
        let mut found = Confusion { fps: 0, fns: 0, tps: Vec::new() };
        let Some(&(first_start, _)) = windows.first() else {
            found.fps = predicted.len();
            return found;
        };
        found.fps += count_between(predicted, None, Some(first_start));
        for (i, &(start, end)) in windows.iter().enumerate() {
            let earliest = predicted.get(predicted.partition_point(|&t| t < start)).filter(|&&t| t <= end);
            match earliest {
                Some(&t) => found.tps.push((start, t, end)),
                None => found.fns += 1,
            }
            found.fps += count_between(predicted, Some(end), windows.get(i + 1).map(|w| w.0));
        }
        found
    }
}

/// Number of sorted `times` strictly between `after` and `before` (open ends when `None`).
fn count_between(times: &[i64], after: Option<i64>, before: Option<i64>) -> usize {
    let from = after.map_or(0, |a| times.partition_point(|&t| t <= a));
    let to = before.map_or(times.len(), |b| times.partition_point(|&t| t < b));
    to.saturating_sub(from)
}

/// SKAB's "improved" scoring curve (`my_scale` with `koef=1`, `clear_anomalies_mode=True`) at a
/// detection `t` in the window `[start, end]`, evaluated on the same 1000-point grid as numpy's
/// `linspace(-pi/2, pi/2, 1000)` so the value matches bit for bit (up to `tanh`'s last ulp).
fn scale((start, t, end): (i64, i64, i64), a_tp: f64, a_fp: f64) -> f64 {
    let ratio = (t - start) as f64 / (end - start) as f64;
    // `as usize` truncates like Python's int() (and maps the NaN of a zero-width window to 0).
    let event = ((ratio * DETAIL as f64) as usize).min(DETAIL - 1);
    let x = if event == DETAIL - 1 {
        FRAC_PI_2 // linspace sets its last point to `stop` exactly
    } else {
        let step = (FRAC_PI_2 - -FRAC_PI_2) / (DETAIL - 1) as f64;
        event as f64 * step - FRAC_PI_2
    };
    let half = (a_tp - a_fp) / 2.0;
    -half * x.tanh() / FRAC_PI_2.tanh() + half + a_fp
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::score::nab::{LOW_FN, LOW_FP, STANDARD};

    const SECOND: i64 = 1_000;
    const EPS: f64 = 1e-9;

    /// Rows every 10 s from 0 to 300 s; changepoints and predictions given in seconds.
    fn cp_file(true_cps: &[i64], predicted_at: &[i64]) -> ChangepointFile {
        let timestamps: Vec<i64> = (0..=30).map(|i| i * 10 * SECOND).collect();
        let predicted = timestamps.iter().map(|t| predicted_at.contains(&(t / SECOND))).collect();
        ChangepointFile { timestamps, true_cps: true_cps.iter().map(|s| s * SECOND).collect(), predicted }
    }

    fn assert_close(actual: f64, expected: f64) {
        assert!((actual - expected).abs() < EPS, "got {actual}, expected {expected}");
    }

    #[test]
    fn outlier_scores_pool_files_pointwise() {
        // File 1: TP, FN, FP, TN; file 2: TN, FP. TP 1, FP 2, FN 1, TN 2:
        // F1 = 1 / (1 + (2 + 1) / 2) = 0.4, FAR = 2 / (2 + 2) = 0.5, MAR = 1 / (1 + 1) = 0.5.
        let pairs = vec![
            (vec![true, true, false, false], vec![true, false, true, false]),
            (vec![false, false], vec![false, true]),
        ];
        let s = outlier_scores(&pairs);
        assert_eq!((s.tp, s.fp, s.fn_, s.tn), (1, 2, 1, 2));
        assert_close(s.f1, 0.4);
        assert_close(s.far, 0.5);
        assert_close(s.mar, 0.5);
    }

    #[test]
    fn null_outlier_detector_has_zero_f1_and_full_mar() {
        // TP 0, FN 2, FP 0, TN 2: F1 = 0 / (0 + 1) = 0, FAR 0, MAR 1 (SKAB's 100 %).
        let s = outlier_scores(&[(vec![true, true, false, false], vec![false; 4])]);
        assert_close(s.f1, 0.0);
        assert_close(s.far, 0.0);
        assert_close(s.mar, 1.0);
    }

    #[test]
    fn detection_at_changepoint_is_perfect() {
        // Window [100 s, 160 s]; detection at 100 s is grid point 0 (x = -pi/2): A_tp = 1.
        // S = 1, null = -1, perfect = 1 -> 100 * 2 / 2 = 100.
        for profile in [STANDARD, LOW_FP, LOW_FN] {
            assert_close(changepoint_score(&[cp_file(&[100], &[100])], &profile), 100.0);
        }
    }

    #[test]
    fn detection_halfway_scores_the_tanh_curve() {
        // 130 s is halfway: event = int(0.5 * 1000) = 500, x = 500 * pi / 999 - pi / 2 = 0.0015724;
        // score = -0.11 + 0.555 * (1 - tanh(x) / tanh(pi / 2)) = 0.4440485;
        // normalised 100 * (0.4440485 + 1) / 2 = 72.2024.
        let x = 500.0 * std::f64::consts::PI / 999.0 - FRAC_PI_2;
        let s = -0.11 + 0.555 * (1.0 - x.tanh() / FRAC_PI_2.tanh());
        assert_close(s, 0.444_048_507_131_383_7);
        assert_close(changepoint_score(&[cp_file(&[100], &[130])], &STANDARD), 100.0 * (s + 1.0) / 2.0);
    }

    #[test]
    fn detection_at_window_end_scores_a_fp() {
        // 160 s is the window end: event 1000 -> 999, x = pi/2, score A_fp = -0.11;
        // 100 * (-0.11 + 1) / 2 = 44.5.
        assert_close(changepoint_score(&[cp_file(&[100], &[160])], &STANDARD), 44.5);
    }

    #[test]
    fn predictions_outside_windows_are_flat_fps_and_misses_cost_a_fn() {
        // 50 s (before) and 170 s (after the window) are FPs at -0.11 each, the window is missed
        // (-1): S = -1.22, null = -1, perfect = 1 -> 100 * (-0.22) / 2 = -11.
        assert_close(changepoint_score(&[cp_file(&[100], &[50, 170])], &STANDARD), -11.0);
        // LowFN: S = -0.22 - 2, null = -2, perfect = 1 -> 100 * (-0.22) / 3.
        assert_close(changepoint_score(&[cp_file(&[100], &[50, 170])], &LOW_FN), -22.0 / 3.0);
        // LowFP: S = -0.44 - 1 -> 100 * (-0.44) / 2 = -22.
        assert_close(changepoint_score(&[cp_file(&[100], &[50, 170])], &LOW_FP), -22.0);
    }

    #[test]
    fn later_detections_in_a_window_are_ignored() {
        assert_close(changepoint_score(&[cp_file(&[100], &[100, 120, 150])], &STANDARD), 100.0);
    }

    #[test]
    fn overlapping_windows_are_cut_and_share_a_boundary() {
        // Changepoints at 100 s and 130 s: [100, 160] and [130, 190] -> the second becomes
        // [160, 190]. A detection at 160 s is the end of window 1 (-0.11) and the start of
        // window 2 (+1): S = 0.89, null = -2, perfect = 2 -> 100 * 2.89 / 4 = 72.25.
        assert_eq!(detection_windows(&[130_000, 100_000], 60_000), vec![(100_000, 160_000), (160_000, 190_000)]);
        assert_close(changepoint_score(&[cp_file(&[100, 130], &[160])], &STANDARD), 72.25);
    }

    #[test]
    fn files_without_changepoints_only_add_fps() {
        // File 1 perfect (+1), file 2 has no changepoint and one prediction (-0.11):
        // S = 0.89, null = -1, perfect = 1 -> 100 * 1.89 / 2 = 94.5.
        let files = [cp_file(&[100], &[100]), cp_file(&[], &[10])];
        assert_close(changepoint_score(&files, &STANDARD), 94.5);
        // Without any changepoint, perfect = null = 0: 100 * -0.11 / 0 = -inf, and 0 / 0 = NaN.
        assert_eq!(changepoint_score(&[cp_file(&[], &[10])], &STANDARD), f64::NEG_INFINITY);
        assert!(changepoint_score(&[cp_file(&[], &[])], &STANDARD).is_nan());
    }

    #[test]
    fn window_width_is_configurable() {
        // 30 s windows: [100, 130]; a detection at 130 s is the window end: A_fp -> 44.5, and one at
        // 140 s is an FP with a missed window -> 100 * (-0.11) / 2 = -5.5.
        assert_close(changepoint_score_with_window(&[cp_file(&[100], &[130])], &STANDARD, 30 * SECOND), 44.5);
        assert_close(changepoint_score_with_window(&[cp_file(&[100], &[140])], &STANDARD, 30 * SECOND), -5.5);
    }
}
