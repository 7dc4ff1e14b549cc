//! Offline evaluation: replays benchmark files and the simulated fleet through
//! the live window, detector and rule code (`replay`), writes each
//! benchmark's own result format, scores it (`score`) and writes the report.

pub mod bearings;
pub mod cmapss;
pub mod data;
pub mod dispatch;
pub mod fleet;
pub mod mlp;
pub mod nab;
pub mod plot;
mod progress;
pub mod replay;
pub mod report;
pub mod score;
pub mod skab;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use upkeep::config::DetectConfig;
use upkeep::detect::WindowParams;
use upkeep::rules::{parse_file, ModelRules};

#[derive(Debug, thiserror::Error)]
pub enum EvalError {
    #[error("{path}: {source}")]
    Io { path: PathBuf, source: std::io::Error },
    #[error("{path}:{line}: {reason}")]
    Format { path: PathBuf, line: usize, reason: String },
    #[error(transparent)]
    Rules(#[from] upkeep::rules::RuleError),
    #[error("{0}")]
    Invalid(String),
    #[error(transparent)]
    Score(#[from] score::ScoreError),
    #[error(transparent)]
    Plot(#[from] plot::PlotError),
}

/// Loads a benchmark rule file (one model, the rules are the detectors to try).
pub fn load_rules(path: &Path) -> Result<Arc<ModelRules>, EvalError> {
    Ok(Arc::new(parse_file(path, &read(path)?)?))
}

/// Reads a whole text file, naming it in the error.
pub fn read(path: &Path) -> Result<String, EvalError> {
    std::fs::read_to_string(path).map_err(|source| EvalError::Io { path: path.to_owned(), source })
}

/// Window parameters of the live engine's detection settings.
pub fn params(detect: &DetectConfig) -> WindowParams {
    WindowParams::from_config(detect)
}

/// Creates `path` and its parents.
pub fn create_dir(path: &Path) -> Result<(), EvalError> {
    std::fs::create_dir_all(path).map_err(|source| EvalError::Io { path: path.to_owned(), source })
}

/// Writes `text` to `path`, creating its directory.
pub fn write(path: &Path, text: impl AsRef<[u8]>) -> Result<(), EvalError> {
    if let Some(dir) = path.parent() {
        create_dir(dir)?;
    }
    std::fs::write(path, text).map_err(|source| EvalError::Io { path: path.to_owned(), source })
}
