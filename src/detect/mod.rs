//! Windows and detectors (pure), the per-asset state that applies the rules,
//! and the one module that runs them on timely dataflow.

mod asset;
pub mod checkpoint;
mod commit;
mod config;
mod dataflow;
pub mod detectors;
#[cfg(test)]
mod fixtures;
mod internal_events;
pub mod multivariate;
pub mod online;
mod window;

pub use asset::{AssetDetector, AssetScores, AssetState, BatchCounts, CheckOutcome, Evidence, Finding};
pub use commit::{Abandoned, Committer};
pub use config::{CheckpointConfig, DetectConfig};
pub use dataflow::{start, AssetBatch, EngineEvent, EngineEvents, EngineHandle, EngineSetup, EngineSize, ScoreTap};
pub use window::{Insert, MetricWindow, WindowParams};
