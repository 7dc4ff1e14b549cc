//! Benchmark scorers, re-implemented in Rust so that a run gives the same numbers the official
//! Python scorers give on the same result files:
//!
//! * [`nab`]: the Numenta Anomaly Benchmark score (numenta/NAB `nab/sweeper.py`,
//!   `nab/runner.py`, `nab/optimizer.py`, `config/profiles.json`);
//! * [`skab`]: SKAB's pointwise F1/FAR/MAR and its NAB-like changepoint score
//!   (waico/SKAB `core/metrics.py`, taken from the `tsad` library);
//! * [`cmapss`]: RMSE and the asymmetric PHM08 (NASA) score for C-MAPSS RUL estimates.
//!
//! Each module documents, next to the code, which official function it follows and the few
//! inputs on which it deliberately differs (always inputs on which the official code raises).

pub mod cmapss;
pub mod nab;
pub mod skab;

/// Why benchmark labels or inputs could not be scored.
#[derive(Debug, thiserror::Error)]
pub enum ScoreError {
    /// The label file is not the JSON shape the benchmark publishes.
    #[error("invalid label JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// A label timestamp is not `YYYY-MM-DD HH:MM:SS[.ffffff]`.
    #[error("{file}: unparseable timestamp {value:?}")]
    Timestamp { file: String, value: String },
    /// Timestamps and scores of a file have different lengths.
    #[error("{file}: {timestamps} timestamps but {scores} scores")]
    LengthMismatch { file: String, timestamps: usize, scores: usize },
    /// Timestamps are not strictly ascending (the row index is the time axis of the scorer).
    #[error("{file}: timestamps are not strictly ascending at row {row}")]
    Unsorted { file: String, row: usize },
    /// An anomaly score lies outside `[0, 1]` (or is NaN), which the threshold sweep relies on.
    #[error("{file}: anomaly score {value} at row {row} is outside [0, 1]")]
    ScoreOutOfRange { file: String, row: usize, value: f64 },
    /// A window limit is not a row timestamp, or the window is reversed.
    #[error("{file}: window ({start}, {end}) does not start and end on row timestamps")]
    WindowNotInData { file: String, start: i64, end: i64 },
    /// Windows are not in time order or share rows.
    #[error("{file}: windows overlap or are out of order at window {window}")]
    WindowOrder { file: String, window: usize },
}
