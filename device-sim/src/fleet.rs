//! The fleet to simulate: read from the engine's fleet file, or synthetic.
//!
//! Only `id` and `model` matter to the simulator; the engine's generator
//! writes many more fields, which are ignored so the two can evolve apart.

use std::collections::HashSet;
use std::path::Path;

use serde::{Deserialize, Serialize};

use crate::{EquipmentKind, SimError};

/// One asset to simulate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SimAsset {
    pub id: String,
    pub model: EquipmentKind,
}

#[derive(Deserialize)]
struct FleetFile {
    assets: Vec<FleetEntry>,
}

#[derive(Deserialize)]
struct FleetEntry {
    id: String,
    model: String,
}

/// Reads `assets[].id` and `assets[].model` from the engine's fleet file;
/// every other field is ignored. Duplicate ids are rejected because the
/// simulator's topics and ground truth are keyed by id.
pub fn load_fleet_assets(path: &Path) -> Result<Vec<SimAsset>, SimError> {
    let bytes = std::fs::read(path).map_err(|source| SimError::Io { path: path.to_path_buf(), source })?;
    let file: FleetFile =
        serde_json::from_slice(&bytes).map_err(|source| SimError::Json { path: path.to_path_buf(), source })?;
    let mut seen = HashSet::new();
    file.assets
        .into_iter()
        .map(|entry| {
            let model = entry.model.parse()?;
            if !seen.insert(entry.id.clone()) {
                return Err(SimError::Fleet(format!("duplicate asset id {:?}", entry.id)));
            }
            Ok(SimAsset { id: entry.id, model })
        })
        .collect()
}

/// `n` assets cycling through `models`, with ids numbered per model
/// (`PMP-0001`, `CHL-0001`, `PMP-0002`, ...). For quick runs without a fleet file.
pub fn synthetic_fleet(n: usize, models: &[EquipmentKind]) -> Vec<SimAsset> {
    let mut counters = [0usize; EquipmentKind::ALL.len()];
    (0..n)
        .filter_map(|i| {
            let model = *models.get(i % models.len().max(1))?;
            let counter = &mut counters[model as usize];
            *counter += 1;
            Some(SimAsset { id: format!("{}-{:04}", model.id_prefix(), counter), model })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fleet_file_reads_ids_and_models_only() {
        let dir = std::env::temp_dir().join(format!("device-sim-fleet-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("fleet.json");
        std::fs::write(
            &path,
            r#"{"site":"x","assets":[
                {"id":"PMP-0001","model":"centrifugal_pump","site":"A","criticality":3},
                {"id":"CHL-0001","model":"chiller","extra":{"a":1}}]}"#,
        )
        .unwrap();
        let assets = load_fleet_assets(&path).unwrap();
        assert_eq!(
            assets,
            vec![
                SimAsset { id: "PMP-0001".into(), model: EquipmentKind::CentrifugalPump },
                SimAsset { id: "CHL-0001".into(), model: EquipmentKind::Chiller },
            ]
        );

        std::fs::write(&path, r#"{"assets":[{"id":"X-1","model":"boiler"}]}"#).unwrap();
        assert!(matches!(load_fleet_assets(&path), Err(SimError::UnknownModel(_))));
        std::fs::write(&path, r#"{"assets":[{"id":"X-1","model":"chiller"},{"id":"X-1","model":"chiller"}]}"#).unwrap();
        assert!(matches!(load_fleet_assets(&path), Err(SimError::Fleet(_))));
        std::fs::write(&path, "not json").unwrap();
        assert!(matches!(load_fleet_assets(&path), Err(SimError::Json { .. })));
        assert!(matches!(load_fleet_assets(&dir.join("missing.json")), Err(SimError::Io { .. })));
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn synthetic_ids_are_numbered_per_model() {
        let fleet = synthetic_fleet(5, &[EquipmentKind::CentrifugalPump, EquipmentKind::Chiller]);
        let ids: Vec<_> = fleet.iter().map(|a| a.id.as_str()).collect();
        assert_eq!(ids, ["PMP-0001", "CHL-0001", "PMP-0002", "CHL-0002", "PMP-0003"]);
        assert!(synthetic_fleet(3, &[]).is_empty());
    }
}
