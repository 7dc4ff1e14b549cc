//! Ground truth file: what was injected, so tests can score the engine.

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{InjectedFault, SimError};

/// Everything a scorer needs to know about a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct GroundTruth {
    pub seed: u64,
    /// Event time of the first sample.
    pub start: DateTime<Utc>,
    /// Exclusive end of the simulated period.
    pub end: DateTime<Utc>,
    /// Number of simulated assets.
    pub assets: usize,
    /// Injected faults in fleet order (at most one per asset).
    pub faults: Vec<InjectedFault>,
    /// Malformed messages sent, by kind (`invalid_json`, `value_as_string`,
    /// `non_finite_value`, `unknown_asset`, `absurd_timestamp`, `empty_readings`).
    #[serde(default)]
    pub malformed_sent: BTreeMap<String, u64>,
}

/// Writes `truth` as pretty JSON.
pub fn write_truth(path: &Path, truth: &GroundTruth) -> Result<(), SimError> {
    let json =
        serde_json::to_vec_pretty(truth).map_err(|source| SimError::Json { path: path.to_path_buf(), source })?;
    std::fs::write(path, json).map_err(|source| SimError::Io { path: path.to_path_buf(), source })
}

/// Reads a file written by [`write_truth`].
pub fn read_truth(path: &Path) -> Result<GroundTruth, SimError> {
    let bytes = std::fs::read(path).map_err(|source| SimError::Io { path: path.to_path_buf(), source })?;
    serde_json::from_slice(&bytes).map_err(|source| SimError::Json { path: path.to_path_buf(), source })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{synthetic_fleet, EquipmentKind, SimConfig, Simulator};

    #[test]
    fn truth_round_trips_through_a_file() {
        let assets = synthetic_fleet(40, &EquipmentKind::ALL);
        let cfg = SimConfig { fault_share: 0.2, sensor_fault_share: 0.2, ..SimConfig::default() };
        let mut truth = Simulator::new(&assets, &cfg).unwrap().truth();
        truth.malformed_sent.insert("invalid_json".into(), 3);
        let path = std::env::temp_dir().join(format!("device-sim-truth-{}.json", std::process::id()));
        write_truth(&path, &truth).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.contains("\n  \"faults\""), "pretty printed");
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["start"], "2026-01-01T00:00:00Z");
        assert_eq!(value["assets"], 40);
        assert!(value["faults"][0]["fault"].is_string());
        assert_eq!(read_truth(&path).unwrap(), truth);
        std::fs::remove_file(&path).unwrap();
        assert!(matches!(read_truth(&path), Err(SimError::Io { .. })));
    }
}
