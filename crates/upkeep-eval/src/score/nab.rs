//! The Numenta Anomaly Benchmark (NAB) score, following numenta/NAB v1.1 (`nab/sweeper.py`,
//! `nab/scorer.py`, `nab/optimizer.py`, `nab/runner.py::normalize`, `nab/util.py`,
//! `config/profiles.json`).
//!
//! How one file is scored (`Sweeper.calcSweepScore` / `calcScoreByThreshold`):
//!
//! * The first `min(floor(0.15 * rows), 0.15 * 5000)` rows are probationary: they are neither
//!   detections nor misses, and a window with no row after the probation is not scored at all.
//! * Every other row gets a weight as if it were a detection. Inside a window of `w` rows whose
//!   last row is `r`, row `i` sits at `-(r - i + 1) / w` (so -1 at the first row, `-1/w` at the
//!   last) and weighs `scaled_sigmoid(pos) * tp / scaled_sigmoid(-1)`, i.e. exactly `tp` at the
//!   window start. Outside windows, a row after a window of `w` rows ending at `r` sits at
//!   `(i - r) / (w - 1)` and weighs `scaled_sigmoid(pos) * fp` (negative; -fp beyond 3); a row
//!   before the first window weighs `-fp`.
//! * At a threshold, the detections are the rows whose anomaly score is `>=` it
//!   (`util.convertAnomalyScoresToDetections`). A window scores the largest weight among its
//!   detections (the earliest one, since weights fall through the window) or `-fn` if it has
//!   none; every detection outside windows adds its (negative) weight.
//!
//! The corpus raw score is the sum over files; it is normalised as in `Runner.normalize`:
//! `100 * (raw - null) / (perfect - null)`, where `perfect` is `tp` times the number of windows
//! listed for the corpus and `null` is the raw score of NAB's null detector on the same corpus.
//! That detector outputs a constant 0.5, so after threshold optimisation it either detects
//! nothing or every row, whichever scores higher (nothing on a tie): on the NAB corpus that is
//! "nothing", `-fn` per scored window, but on corpora dense with windows it can be "every row".
//!
//! [`sweep`] is the optimiser of NAB v1.1 (`optimizer.optimizeThreshold`): it pools the rows of
//! all files, tries the start value 1.1 (no detections) and every distinct anomaly score, keeps
//! the best (ties go to the highest threshold, as Python's stable sort does), then scores the
//! corpus at that threshold as `scoreCorpus` does.
//!
//! Differences, all on inputs the official code rejects or crashes on ([`NabFile::validate`]
//! reports them): windows are located by the rows `start <= t <= end` instead of by exact
//! timestamps (the labeler raises unless both limits are row timestamps); a threshold below every
//! score of a file detects every row (`Sweeper.scoreDataSet` finds no row and crashes); a false
//! positive after a one-row window weighs `-fp` (Python divides by zero). Sums are accumulated in
//! row order rather than Python's order, so totals can differ in the last few bits (~1e-12).

use std::collections::BTreeMap;

use chrono::NaiveDateTime;

use super::ScoreError;

/// A NAB application profile: the cost matrix of `config/profiles.json`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Profile {
    pub name: &'static str,
    pub tp: f64,
    pub fp: f64,
    pub fn_: f64,
    /// Listed by NAB but unused by its scorer (true negatives score zero).
    pub tn: f64,
}

/// `standard` in `config/profiles.json`.
pub const STANDARD: Profile = Profile { name: "standard", tp: 1.0, fp: 0.11, fn_: 1.0, tn: 1.0 };
/// `reward_low_FP_rate` in `config/profiles.json`.
pub const LOW_FP: Profile = Profile { name: "reward_low_FP_rate", tp: 1.0, fp: 0.22, fn_: 1.0, tn: 1.0 };
/// `reward_low_FN_rate` in `config/profiles.json`.
pub const LOW_FN: Profile = Profile { name: "reward_low_FN_rate", tp: 1.0, fp: 0.11, fn_: 2.0, tn: 1.0 };
/// The three profiles NAB reports, in the order of its results table.
pub const PROFILES: [Profile; 3] = [STANDARD, LOW_FP, LOW_FN];

/// `Runner.probationaryPercent`.
const PROBATION_PERCENT: f64 = 0.15;

/// The sweep's starting threshold: above every valid score, so it stands for "no detections".
pub const NO_DETECTION_THRESHOLD: f64 = 1.1;

/// One data file's detector output and its labelled anomaly windows.
#[derive(Debug, Clone, PartialEq)]
pub struct NabFile {
    /// Relative path as in the label file, e.g. `realKnownCause/nyc_taxi.csv`.
    pub name: String,
    /// Row timestamps, epoch milliseconds, strictly ascending.
    pub timestamps: Vec<i64>,
    /// The detector's `anomaly_score` per row, in `[0, 1]`.
    pub scores: Vec<f64>,
    /// Labelled windows `(start, end)`, epoch milliseconds, both ends inclusive.
    pub windows: Vec<(i64, i64)>,
}

impl NabFile {
    /// Checks what NAB's labeler and sweeper assume: one score per row, ascending timestamps,
    /// scores in `[0, 1]`, and ordered, disjoint windows that start and end on row timestamps.
    /// The scoring functions give NAB's numbers exactly on files that pass.
    pub fn validate(&self) -> Result<(), ScoreError> {
        let file = || self.name.clone();
        if self.timestamps.len() != self.scores.len() {
            return Err(ScoreError::LengthMismatch {
                file: file(),
                timestamps: self.timestamps.len(),
                scores: self.scores.len(),
            });
        }
        if let Some(row) = self.timestamps.windows(2).position(|pair| pair[0] >= pair[1]) {
            return Err(ScoreError::Unsorted { file: file(), row: row + 1 });
        }
        if let Some((row, &value)) = self.scores.iter().enumerate().find(|(_, v)| !(0.0..=1.0).contains(*v)) {
            return Err(ScoreError::ScoreOutOfRange { file: file(), row, value });
        }
        for &(start, end) in &self.windows {
            let on_rows = self.timestamps.binary_search(&start).is_ok() && self.timestamps.binary_search(&end).is_ok();
            if !on_rows || start > end {
                return Err(ScoreError::WindowNotInData { file: file(), start, end });
            }
        }
        if let Some(window) = self.windows.windows(2).position(|pair| pair[1].0 <= pair[0].1) {
            return Err(ScoreError::WindowOrder { file: file(), window: window + 1 });
        }
        Ok(())
    }
}

/// A corpus score at one threshold.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CorpusScore {
    /// The normalised NAB score: 100 for a perfect detector, 0 for the null detector.
    pub score: f64,
    /// Sum of the files' raw scores (the `Totals` row of NAB's `*_scores.csv`).
    pub raw: f64,
    /// Raw score of NAB's null detector: the better of no detections and every row detected.
    pub null: f64,
    /// `tp` times the number of listed windows: a detection at the start of every window.
    pub perfect: f64,
    /// Row counts after the probation, as in NAB's `*_scores.csv`.
    pub tp: usize,
    pub fp: usize,
    pub fn_: usize,
    pub tn: usize,
}

/// Number of leading probationary rows of a file of `rows` rows:
/// `min(floor(0.15 * rows), 750)` (`util.getProbationPeriod`).
pub fn probation_length(rows: usize) -> usize {
    let limit = (PROBATION_PERCENT * rows as f64).floor().min(PROBATION_PERCENT * 5000.0);
    // NAB keeps row `i` when `i >= limit`; `ceil` turns that float bound into a row count.
    limit.ceil() as usize
}

/// The logistic function, as `sweeper.sigmoid`.
fn sigmoid(x: f64) -> f64 {
    1.0 / (1.0 + (-x).exp())
}

/// `sweeper.scaledSigmoid`: +0.987 at relative position -1 (window start), 0 at the window's
/// right edge, falling to -1 past it; flat -1 beyond 3 window-lengths.
fn scaled_sigmoid(position: f64) -> f64 {
    if position > 3.0 {
        -1.0
    } else {
        2.0 * sigmoid(-5.0 * position) - 1.0
    }
}

/// A non-probationary row, weighted as if it were a detection.
#[derive(Debug, Clone, Copy)]
struct Row {
    score: f64,
    weight: f64,
    /// Corpus-wide window id, `None` outside windows.
    window: Option<usize>,
}

/// Rows of the corpus that can be scored, plus the initial part of each window: `-fn` for a
/// window with scorable rows (a miss until detected), 0 for a window inside the probation.
struct Scorable {
    rows: Vec<Row>,
    parts: Vec<f64>,
}

impl Scorable {
    fn new(files: &[NabFile], profile: &Profile) -> Self {
        let mut scorable = Scorable { rows: Vec::new(), parts: Vec::new() };
        for file in files {
            scorable.add_file(file, profile);
        }
        scorable
    }

    /// Appends one file's rows (`Sweeper.calcSweepScore`); its windows get the next ids.
    fn add_file(&mut self, file: &NabFile, profile: &Profile) {
        assert_eq!(file.timestamps.len(), file.scores.len(), "{}: timestamps and scores differ in length", file.name);
        let spans = window_spans(file);
        let first_id = self.parts.len();
        self.parts.resize(first_id + spans.len(), 0.0);
        let mut next = 0; // first window that has not ended before the current row
        for (i, &score) in file.scores.iter().enumerate().skip(probation_length(file.scores.len())) {
            while next < spans.len() && spans[next].1 < i {
                next += 1;
            }
            let row = match spans.get(next) {
                Some(&span) if span.0 <= i => {
                    self.parts[first_id + next] = -profile.fn_;
                    Row { score, weight: tp_weight(span, i, profile), window: Some(first_id + next) }
                }
                _ => Row { score, weight: fp_weight(next.checked_sub(1).map(|k| spans[k]), i, profile), window: None },
            };
            self.rows.push(row);
        }
    }

    /// Raw score with no detections.
    fn undetected(&self) -> f64 {
        self.parts.iter().sum()
    }

    /// Raw score and counts when rows scoring `>= threshold` are detections.
    fn at(&self, threshold: f64) -> (f64, Counts) {
        let mut parts = self.parts.clone();
        let mut fp_sum = 0.0;
        let mut counts = Counts::default();
        for row in &self.rows {
            let detected = row.score >= threshold;
            counts.add(detected, row.window.is_some());
            match row.window {
                Some(w) if detected => parts[w] = parts[w].max(row.weight),
                None if detected => fp_sum += row.weight,
                _ => {}
            }
        }
        (fp_sum + parts.iter().sum::<f64>(), counts)
    }

    /// The threshold with the best raw score (`Sweeper.calcScoreByThreshold` over the pooled
    /// corpus, then the first maximum in descending-threshold order).
    fn best_threshold(mut self) -> f64 {
        self.rows.sort_by(|a, b| b.score.total_cmp(&a.score));
        let mut fp_sum = 0.0;
        let mut window_sum = self.undetected();
        let (mut best_threshold, mut best_raw) = (NO_DETECTION_THRESHOLD, window_sum);
        for group in self.rows.chunk_by(|a, b| a.score == b.score) {
            for row in group {
                match row.window {
                    Some(w) if row.weight > self.parts[w] => {
                        window_sum += row.weight - self.parts[w];
                        self.parts[w] = row.weight;
                    }
                    Some(_) => {}
                    None => fp_sum += row.weight,
                }
            }
            if fp_sum + window_sum > best_raw {
                (best_threshold, best_raw) = (group[0].score, fp_sum + window_sum);
            }
        }
        best_threshold
    }
}

/// Row counts over scorable rows.
#[derive(Debug, Clone, Copy, Default)]
struct Counts {
    tp: usize,
    fp: usize,
    fn_: usize,
    tn: usize,
}

impl Counts {
    fn add(&mut self, detected: bool, in_window: bool) {
        match (detected, in_window) {
            (true, true) => self.tp += 1,
            (true, false) => self.fp += 1,
            (false, true) => self.fn_ += 1,
            (false, false) => self.tn += 1,
        }
    }

    fn merge(&mut self, other: Counts) {
        self.tp += other.tp;
        self.fp += other.fp;
        self.fn_ += other.fn_;
        self.tn += other.tn;
    }
}

/// Each window as its inclusive row range, in time order; windows covering no row are dropped.
fn window_spans(file: &NabFile) -> Vec<(usize, usize)> {
    let mut spans: Vec<(usize, usize)> = file
        .windows
        .iter()
        .filter_map(|&(start, end)| {
            let first = file.timestamps.partition_point(|&t| t < start);
            let past = file.timestamps.partition_point(|&t| t <= end);
            (first < past).then(|| (first, past - 1))
        })
        .collect();
    spans.sort_unstable();
    spans
}

/// Weight of a detection at row `i` inside the window `span`.
fn tp_weight((first, last): (usize, usize), i: usize, profile: &Profile) -> f64 {
    let width = (last - first + 1) as f64;
    let position = -((last - i + 1) as f64) / width;
    scaled_sigmoid(position) * profile.tp / scaled_sigmoid(-1.0)
}

/// Weight of a detection at row `i` outside windows, after the window `previous` if any.
fn fp_weight(previous: Option<(usize, usize)>, i: usize, profile: &Profile) -> f64 {
    match previous {
        None => -profile.fp,
        Some((first, last)) => {
            let width = (last - first + 1) as f64;
            scaled_sigmoid((i - last) as f64 / (width - 1.0)) * profile.fp
        }
    }
}

/// NAB score of the corpus when rows scoring `>= threshold` are detections (`scorer.scoreCorpus`
/// then `Runner.normalize`). Pass the whole corpus: the normalisation counts its windows.
///
/// # Panics
/// If a file has a different number of timestamps and scores (NAB asserts the same).
pub fn score_corpus(files: &[NabFile], threshold: f64, profile: &Profile) -> CorpusScore {
    let (mut raw, mut none, mut all) = (0.0, 0.0, 0.0);
    let mut counts = Counts::default();
    for file in files {
        let scorable = Scorable::new(std::slice::from_ref(file), profile);
        let (file_raw, file_counts) = scorable.at(threshold);
        raw += file_raw;
        counts.merge(file_counts);
        none += scorable.undetected();
        all += scorable.at(f64::NEG_INFINITY).0;
    }
    // The null detector's optimised threshold: 0.5 (every row) only if it beats 1.1 (none).
    let null = if all > none { all } else { none };
    let perfect = profile.tp * files.iter().map(|f| f.windows.len()).sum::<usize>() as f64;
    CorpusScore {
        score: 100.0 * (raw - null) / (perfect - null),
        raw,
        null,
        perfect,
        tp: counts.tp,
        fp: counts.fp,
        fn_: counts.fn_,
        tn: counts.tn,
    }
}

/// NAB's threshold optimisation: the threshold (among 1.1 and every distinct anomaly score)
/// with the best corpus score, and the corpus score there.
///
/// # Panics
/// If a file has a different number of timestamps and scores.
pub fn sweep(files: &[NabFile], profile: &Profile) -> (f64, CorpusScore) {
    let threshold = Scorable::new(files, profile).best_threshold();
    (threshold, score_corpus(files, threshold, profile))
}

/// Reads NAB's `labels/combined_windows.json`: data file path to its windows, as epoch
/// milliseconds (the naive timestamps are taken as UTC, like the data files).
pub fn read_windows(text: &str) -> Result<BTreeMap<String, Vec<(i64, i64)>>, ScoreError> {
    let raw: BTreeMap<String, Vec<(String, String)>> = serde_json::from_str(text)?;
    raw.into_iter()
        .map(|(file, windows)| {
            let parsed = windows
                .iter()
                .map(|(start, end)| Ok((label_time(&file, start)?, label_time(&file, end)?)))
                .collect::<Result<Vec<_>, ScoreError>>()?;
            Ok((file, parsed))
        })
        .collect()
}

/// A label timestamp, or the error naming its file.
fn label_time(file: &str, value: &str) -> Result<i64, ScoreError> {
    parse_nab_time(value).ok_or_else(|| ScoreError::Timestamp { file: file.to_owned(), value: value.to_owned() })
}

/// Parses NAB's `YYYY-MM-DD HH:MM:SS[.ffffff]` (data and label files) as UTC epoch
/// milliseconds; sub-millisecond digits are truncated.
pub fn parse_nab_time(s: &str) -> Option<i64> {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f").ok().map(|t| t.and_utc().timestamp_millis())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MINUTE: i64 = 60_000;
    const EPS: f64 = 1e-12;

    /// A file of `rows` one-minute rows with windows given as inclusive row ranges and the
    /// anomaly score 1.0 at `detections`, 0.0 elsewhere (scored at threshold 0.5).
    fn file(rows: usize, windows: &[(usize, usize)], detections: &[usize]) -> NabFile {
        let mut scores = vec![0.0; rows];
        for &row in detections {
            scores[row] = 1.0;
        }
        NabFile {
            name: "test.csv".into(),
            timestamps: (0..rows as i64).map(|i| i * MINUTE).collect(),
            scores,
            windows: windows.iter().map(|&(a, b)| (a as i64 * MINUTE, b as i64 * MINUTE)).collect(),
        }
    }

    fn raw(files: &[NabFile], profile: &Profile) -> f64 {
        score_corpus(files, 0.5, profile).raw
    }

    fn assert_close(actual: f64, expected: f64) {
        assert!((actual - expected).abs() < EPS, "got {actual}, expected {expected}");
    }

    #[test]
    fn probation_is_fifteen_percent_capped_at_750_rows() {
        // floor(0.15 * 20) = 3; floor(0.15 * 4999) = floor(749.85) = 749; 0.15 * 10000 = 1500 -> 750.
        assert_eq!(probation_length(20), 3);
        assert_eq!(probation_length(4999), 749);
        assert_eq!(probation_length(5000), 750);
        assert_eq!(probation_length(10_000), 750);
        assert_eq!(probation_length(0), 0);
    }

    #[test]
    fn scaled_sigmoid_matches_nab_reference_points() {
        // 2*sigmoid(5) - 1 = tanh(2.5) = 0.98661; 2*sigmoid(2.5) - 1 = tanh(1.25) = 0.84828;
        // 0 at the right edge; flat -1 beyond 3.
        assert_close(scaled_sigmoid(-1.0), 2.5f64.tanh());
        assert_close(scaled_sigmoid(-0.5), 1.25f64.tanh());
        assert_close(scaled_sigmoid(0.0), 0.0);
        assert_close(scaled_sigmoid(3.0), -(7.5f64.tanh()));
        assert_eq!(scaled_sigmoid(3.01), -1.0);
    }

    #[test]
    fn detection_at_window_start_scores_tp_weight() {
        // 20 rows (probation 3), window rows 10..=14 (width 5). Row 10 sits at -(14-10+1)/5 = -1,
        // weight scaledSigmoid(-1) * tp / scaledSigmoid(-1) = tp = 1.
        let files = [file(20, &[(10, 14)], &[10])];
        assert_close(raw(&files, &STANDARD), 1.0);
        let at = score_corpus(&files, 0.5, &STANDARD);
        // 17 scorable rows: 5 in the window (1 detected), 12 outside (none detected).
        assert_eq!((at.tp, at.fp, at.fn_, at.tn), (1, 0, 4, 12));
    }

    #[test]
    fn detection_at_window_end_scores_sigmoid_of_last_position() {
        // Row 14 sits at -(14-14+1)/5 = -0.2: 2*sigmoid(1) - 1 = tanh(0.5) = 0.462117, divided by
        // tanh(2.5) = 0.986614 -> 0.468387.
        let files = [file(20, &[(10, 14)], &[14])];
        assert_close(raw(&files, &STANDARD), 0.5f64.tanh() / 2.5f64.tanh());
        assert_close(raw(&files, &STANDARD), 0.468_386_843_902_278_1);
    }

    #[test]
    fn only_the_earliest_detection_in_a_window_counts() {
        // Rows 12, 13, 14 detected: the window keeps row 12's weight, -(14-12+1)/5 = -0.6 ->
        // tanh(1.5) / tanh(2.5) = 0.917429; the later detections neither add nor cost.
        let files = [file(20, &[(10, 14)], &[12, 13, 14])];
        assert_close(raw(&files, &STANDARD), 1.5f64.tanh() / 2.5f64.tanh());
    }

    #[test]
    fn missed_window_costs_fn_weight() {
        let files = [file(20, &[(10, 14)], &[])];
        assert_close(raw(&files, &STANDARD), -1.0);
        assert_close(raw(&files, &LOW_FN), -2.0);
    }

    #[test]
    fn fp_before_any_window_costs_full_fp_weight() {
        // Row 5 precedes the only window: -fp = -0.11, plus the missed window -1.
        let files = [file(20, &[(10, 14)], &[5])];
        assert_close(raw(&files, &STANDARD), -1.11);
        assert_close(raw(&files, &LOW_FP), -1.22);
    }

    #[test]
    fn fp_just_after_window_is_weighted_by_distance() {
        // Window rows 10..=14 detected at 10 (+1). Row 16 is (16-14)/(5-1) = 0.5 past it:
        // 2*sigmoid(-2.5) - 1 = -tanh(1.25) = -0.848284, times fp 0.11 = -0.093311.
        let files = [file(20, &[(10, 14)], &[10, 16])];
        assert_close(raw(&files, &STANDARD), 1.0 - 0.11 * 1.25f64.tanh());
        assert_close(raw(&files, &STANDARD), 1.0 - 0.093_311_200_395_326_42);
    }

    #[test]
    fn fp_far_after_window_costs_full_fp_weight() {
        // Window rows 5..=7 (width 3) missed (-1); row 19 is (19-7)/(3-1) = 6 > 3 past it: -0.11.
        let files = [file(20, &[(5, 7)], &[19])];
        assert_close(raw(&files, &STANDARD), -1.11);
    }

    #[test]
    fn probation_excludes_early_detections() {
        // Probation is rows 0..=2: a detection at row 2 is ignored (-1 for the missed window only),
        // one at row 3 is an FP before any window (-0.11 more).
        assert_close(raw(&[file(20, &[(10, 14)], &[2])], &STANDARD), -1.0);
        assert_close(raw(&[file(20, &[(10, 14)], &[3])], &STANDARD), -1.11);
    }

    #[test]
    fn window_straddling_probation_keeps_its_full_width() {
        // Window rows 1..=5 (width 5); row 3 is the first scorable row, at -(5-3+1)/5 = -0.6:
        // tanh(1.5) / tanh(2.5).
        let files = [file(20, &[(1, 5)], &[3])];
        assert_close(raw(&files, &STANDARD), 1.5f64.tanh() / 2.5f64.tanh());
    }

    #[test]
    fn window_inside_probation_is_not_scored() {
        // Window rows 0..=2 lies in the probation: no miss is charged (raw 0, null 0), but the
        // window still counts towards `perfect`, as NAB counts every labelled window.
        let at = score_corpus(&[file(20, &[(0, 2)], &[])], 0.5, &STANDARD);
        assert_close(at.raw, 0.0);
        assert_close(at.null, 0.0);
        assert_close(at.perfect, 1.0);
    }

    #[test]
    fn normalisation_gives_100_for_perfect_and_0_for_null() {
        // Two sparse files, three windows: perfect = 3; null = -3 (detecting every row would add
        // 70 and 35 FPs before the first windows, far below -3).
        let perfect = [file(200, &[(100, 104), (150, 154)], &[100, 150]), file(100, &[(50, 54)], &[50])];
        let null = [file(200, &[(100, 104), (150, 154)], &[]), file(100, &[(50, 54)], &[])];
        for profile in &PROFILES {
            assert_close(score_corpus(&perfect, 0.5, profile).score, 100.0);
            assert_close(score_corpus(&null, 0.5, profile).score, 0.0);
        }
        // One of the three windows found at its start, nothing else: 100 * (1 - 1 - 1 + 3) / 6.
        let one = [file(200, &[(100, 104), (150, 154)], &[100]), file(100, &[(50, 54)], &[])];
        let at = score_corpus(&one, 0.5, &STANDARD);
        assert_close(at.null, -3.0);
        assert_close(at.perfect, 3.0);
        assert_close(at.raw, -1.0);
        assert_close(at.score, 100.0 * 2.0 / 6.0);
    }

    #[test]
    fn null_baseline_detects_every_row_when_that_scores_higher() {
        // 20 rows, window rows 3..=17 covers almost every scorable row. Detecting every row:
        // row 3 is the window start (+1), rows 18 and 19 are 1/14 and 2/14 past it:
        // -0.11 * (tanh(5/28) + tanh(5/14)) = -0.0569. That beats no detections (-1), so NAB's null
        // detector ends up there and a detector firing on every row scores 0.
        let null = 1.0 - 0.11 * ((5.0f64 / 28.0).tanh() + (5.0f64 / 14.0).tanh());
        let every_row = file(20, &[(3, 17)], &(0..20).collect::<Vec<_>>());
        let at = score_corpus(&[every_row], 0.5, &STANDARD);
        assert_close(at.null, null);
        assert_close(at.score, 0.0);
        // A single detection at the window start: 100 * (1 - null) / (1 - null) = 100.
        assert_close(score_corpus(&[file(20, &[(3, 17)], &[3])], 0.5, &STANDARD).score, 100.0);
    }

    #[test]
    fn detection_uses_greater_or_equal() {
        let mut f = file(20, &[(10, 14)], &[]);
        f.scores[10] = 0.7;
        assert_close(score_corpus(std::slice::from_ref(&f), 0.7, &STANDARD).raw, 1.0);
        assert_close(score_corpus(&[f], 0.700_000_1, &STANDARD).raw, -1.0);
    }

    #[test]
    fn sweep_picks_hand_computed_threshold() {
        // 200 rows (probation 30), window rows 100..=104. Scores: row 50 = 0.95 (FP before the
        // window, -0.11), row 100 = 0.9 (window start, +1), row 107 = 0.8 (FP 3/4 of a window past
        // it, -0.11 * tanh(1.875) = -0.105), every other row 0.
        // Raw by threshold: 1.1 -> -1; 0.95 -> -1.11; 0.9 -> 0.89; 0.8 -> 0.785; 0 -> 70 FPs
        // before the window alone cost -7.7. Best 0.9; null = -1 (no detections beats every row),
        // perfect = 1: 100 * (0.89 + 1) / (1 + 1) = 94.5.
        let mut f = file(200, &[(100, 104)], &[]);
        f.scores[50] = 0.95;
        f.scores[100] = 0.9;
        f.scores[107] = 0.8;
        let (threshold, at) = sweep(&[f], &STANDARD);
        assert_eq!(threshold, 0.9);
        assert_close(at.raw, 0.89);
        assert_close(at.null, -1.0);
        assert_close(at.score, 94.5);
        // 170 scorable rows: 5 in the window (row 100 detected), 165 outside (row 50 detected).
        assert_eq!((at.tp, at.fp, at.fn_, at.tn), (1, 1, 4, 164));
    }

    #[test]
    fn sweep_prefers_highest_threshold_on_ties() {
        // Row 10 = 0.9 (+1) and row 12 = 0.7 (later in the same window, adds nothing): 0.9 and
        // 0.7 tie at raw 1; NAB's stable sort keeps the higher one.
        let mut f = file(20, &[(10, 14)], &[]);
        f.scores[10] = 0.9;
        f.scores[12] = 0.7;
        assert_eq!(sweep(&[f], &STANDARD).0, 0.9);
    }

    #[test]
    fn sweep_without_useful_detections_returns_start_threshold() {
        // 200 rows (probation 30), window rows 100..=104, only row 50 scores 0.9: threshold 0.9
        // gives -1.11, threshold 0 adds 70 FPs before the window (-7.7) against +1; nothing beats
        // no detections (-1), so the threshold stays at the start value 1.1.
        let mut f = file(200, &[(100, 104)], &[]);
        f.scores[50] = 0.9;
        let (threshold, at) = sweep(&[f], &STANDARD);
        assert_eq!(threshold, NO_DETECTION_THRESHOLD);
        assert_close(at.score, 0.0);
    }

    /// Deterministic pseudo-random corpus with coarse scores (many ties) and several windows.
    fn random_corpus(seed: u64) -> Vec<NabFile> {
        let mut state = seed;
        let mut next = move || {
            state = state.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            (state >> 33) as usize
        };
        (0..4)
            .map(|_| {
                let rows = 60 + next() % 90;
                let mut f = file(rows, &[], &[]);
                f.scores = (0..rows).map(|_| (next() % 21) as f64 / 20.0).collect();
                let mut start = 5 + next() % 10;
                while start + 12 < rows {
                    let end = start + 3 + next() % 8;
                    f.windows.push((start as i64 * MINUTE, end as i64 * MINUTE));
                    start = end + 2 + next() % 30;
                }
                f
            })
            .collect()
    }

    #[test]
    fn sweep_is_the_best_of_all_distinct_thresholds() {
        for seed in 1..=20 {
            let corpus = random_corpus(seed);
            for profile in &PROFILES {
                let (best, at) = sweep(&corpus, profile);
                let mut candidates: Vec<f64> = corpus.iter().flat_map(|f| f.scores.iter().copied()).collect();
                candidates.push(NO_DETECTION_THRESHOLD);
                for t in candidates {
                    let raw = score_corpus(&corpus, t, profile).raw;
                    assert!(raw <= at.raw + 1e-9, "seed {seed}: threshold {t} beats {best}");
                    assert!(t <= best || raw < at.raw, "seed {seed}: higher threshold {t} ties {best}");
                }
            }
        }
    }

    #[test]
    fn validate_accepts_nab_shaped_files_and_rejects_the_rest() {
        assert!(file(20, &[(10, 14)], &[]).validate().is_ok());
        let mut off_grid = file(20, &[(10, 14)], &[]);
        off_grid.windows[0].0 += 1;
        assert!(matches!(off_grid.validate(), Err(ScoreError::WindowNotInData { .. })));
        let overlapping = file(40, &[(10, 14), (14, 20)], &[]);
        assert!(matches!(overlapping.validate(), Err(ScoreError::WindowOrder { window: 1, .. })));
        let mut out_of_range = file(20, &[], &[]);
        out_of_range.scores[4] = 1.5;
        assert!(matches!(out_of_range.validate(), Err(ScoreError::ScoreOutOfRange { row: 4, .. })));
        let mut short = file(20, &[], &[]);
        short.scores.pop();
        assert!(matches!(short.validate(), Err(ScoreError::LengthMismatch { .. })));
        let mut unsorted = file(20, &[], &[]);
        unsorted.timestamps.swap(3, 4);
        assert!(matches!(unsorted.validate(), Err(ScoreError::Unsorted { row: 4, .. })));
    }

    #[test]
    fn parses_nab_timestamps_with_and_without_fraction() {
        // 2014-02-19 10:50:00 UTC = 1392807000 s.
        assert_eq!(parse_nab_time("2014-02-19 10:50:00.000000"), Some(1_392_807_000_000));
        assert_eq!(parse_nab_time("2014-02-19 10:50:00"), Some(1_392_807_000_000));
        assert_eq!(parse_nab_time("2014-02-19 10:50:00.250"), Some(1_392_807_000_250));
        assert_eq!(parse_nab_time("2014-02-19T10:50:00"), None);
        assert_eq!(parse_nab_time("yesterday"), None);
    }

    #[test]
    fn reads_combined_windows_json() {
        let text = r#"{
            "realKnownCause/nyc_taxi.csv": [
                ["2014-10-30 15:30:00.000000", "2014-11-03 22:30:00.000000"],
                ["2014-11-25 12:00:00.000000", "2014-11-29 19:00:00.000000"]
            ],
            "artificialNoAnomaly/art_flatline.csv": []
        }"#;
        let windows = read_windows(text).unwrap();
        assert_eq!(windows["artificialNoAnomaly/art_flatline.csv"], vec![]);
        let taxi = &windows["realKnownCause/nyc_taxi.csv"];
        assert_eq!(taxi.len(), 2);
        // 2014-10-30 15:30 UTC = 1414683000 s; the window spans 4 days 7 hours = 206 * 1800 s.
        assert_eq!(taxi[0], (1_414_683_000_000, 1_414_683_000_000 + 206 * 1_800_000));
        assert!(matches!(read_windows(r#"{"a.csv": [["2014-10-30", "x"]]}"#), Err(ScoreError::Timestamp { .. })));
        assert!(matches!(read_windows("[1, 2]"), Err(ScoreError::Json(_))));
    }
}
