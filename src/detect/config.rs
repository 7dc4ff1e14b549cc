//! Detection's settings: windows, detectors, and checkpoints of its state.

use crate::model::Span;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DetectConfig {
    /// Timely worker threads; records are exchanged between them by asset id.
    pub workers: usize,
    /// Raw samples kept per asset and metric (event time).
    pub window: Span,
    /// How far behind an asset's newest reading a reading may arrive and still count.
    pub lateness: Span,
    /// Width of the downsampled buckets that feed baselines and forecasts.
    pub bucket: Span,
    /// How much downsampled history is kept per asset and metric.
    pub history: Span,
    /// Half-life of the learned per-asset baseline.
    pub baseline_half_life: Span,
    /// History needed before the baseline is trusted.
    pub baseline_warmup: Span,
    /// While a rule keeps firing, fresh evidence is attached at most this often.
    pub evidence_every: Span,
    /// Recent samples per metric behind the robust (median/MAD) statistics of
    /// the anomaly, robust and cusum detectors.
    pub robust_samples: usize,
    /// Rarity (distance to the nearest usual values, in robust sigmas) that
    /// scores 0.5 on the anomaly score.
    pub anomaly_z_half: f64,
    /// The anomaly score above which an `anomaly` check without its own bound
    /// fires. Chosen once on the development benchmark files (see README) and
    /// shared by the live engine and `upkeep eval`.
    pub anomaly_threshold: f64,
    /// CUSUM statistic (sigmas) after which it restarts from zero.
    pub cusum_reset: f64,
    /// Sensor vectors averaged before a multivariate check is trusted.
    pub joint_warmup: u32,
    /// Half-life, in sensor vectors, of the learned joint distribution.
    pub joint_half_life: u32,
    /// Span (vectors) of the exponential smoothing applied before scoring;
    /// 1 scores each vector as it comes.
    pub joint_smoothing: u32,
}

impl Default for DetectConfig {
    fn default() -> Self {
        DetectConfig {
            workers: 1,
            window: Span::from_mins(30),
            lateness: Span::from_mins(5),
            bucket: Span::from_mins(10),
            history: Span::from_hours(24),
            baseline_half_life: Span::from_hours(24),
            baseline_warmup: Span::from_hours(6),
            evidence_every: Span::from_hours(1),
            robust_samples: 2048,
            anomaly_z_half: 1.0,
            anomaly_threshold: 0.5,
            cusum_reset: 40.0,
            joint_warmup: 400,
            joint_half_life: 5000,
            joint_smoothing: 30,
        }
    }
}

/// Where and how often detection state is saved, so a restart resumes
/// instead of warming up again (see `detect::checkpoint`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CheckpointConfig {
    pub enabled: bool,
    /// Empty: beside the SQLite file (`FILE.state/`), or `upkeep-state/`
    /// in the working directory with PostgreSQL. One directory per engine.
    pub dir: PathBuf,
    pub every: Span,
    /// A checkpoint is also taken once the journal since the last one is this large.
    pub journal_bytes: u64,
}

impl Default for CheckpointConfig {
    fn default() -> Self {
        CheckpointConfig { enabled: true, dir: PathBuf::new(), every: Span::from_secs(30), journal_bytes: 64 << 20 }
    }
}

impl DetectConfig {
    pub fn validate(&self) -> Result<(), String> {
        if self.workers == 0 {
            return Err("detect.workers must be at least 1".into());
        }
        if self.bucket.as_millis() <= 0 || self.window.as_millis() <= 0 {
            return Err("detect.window and detect.bucket must be positive".into());
        }
        if self.history < self.bucket {
            return Err("detect.history must cover at least one detect.bucket".into());
        }
        if !(0.0..1.0).contains(&self.anomaly_threshold) || self.anomaly_z_half <= 0.0 || self.cusum_reset <= 0.0 {
            return Err("detect.anomaly_threshold must be in [0, 1); anomaly_z_half and cusum_reset above 0".into());
        }
        let joint = self.joint_warmup < 2 || self.joint_half_life == 0 || self.joint_smoothing == 0;
        if self.robust_samples < 16 || joint {
            return Err(
                "detect.robust_samples must be >= 16, joint_warmup >= 2, joint_half_life and joint_smoothing >= 1"
                    .into(),
            );
        }
        Ok(())
    }
}

impl CheckpointConfig {
    pub fn validate(&self) -> Result<(), String> {
        if self.enabled && (self.every.as_millis() <= 0 || self.journal_bytes == 0) {
            return Err("checkpoint.every and checkpoint.journal_bytes must be positive".into());
        }
        Ok(())
    }
}
