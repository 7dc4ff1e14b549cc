//! The HTTP API's settings.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApiConfig {
    /// The address the HTTP API binds.
    pub listen: std::net::SocketAddr,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig { listen: std::net::SocketAddr::from(([127, 0, 0, 1], 8080)) }
    }
}
