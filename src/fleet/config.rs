//! Where the fleet file is.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FleetConfig {
    /// JSON fleet file: assets, engineers, depots, parts.
    pub path: PathBuf,
}

impl Default for FleetConfig {
    fn default() -> Self {
        FleetConfig { path: "fleet.json".into() }
    }
}
