//! The HTTP API's settings.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApiConfig {
    /// The address the HTTP API binds.
    pub listen: std::net::SocketAddr,
    /// Writes a minute per principal and per client address, all at once at most.
    pub writes_per_minute: u32,
    /// Refused tokens a minute per client address; beyond, the address is
    /// refused (429) before its token is even looked at.
    pub failed_auth_per_minute: u32,
    /// How long a console session lasts after signing in.
    pub session_ttl: crate::model::Span,
    /// Session cookies only over HTTPS (`Secure`, named `__Host-...`): set
    /// it when a TLS proxy fronts the API; `X-Forwarded-Proto: https` from
    /// the proxy does the same per request.
    pub secure_cookies: bool,
    /// Map tiles for the console (`https://tile.example.org/{z}/{x}/{y}.png`);
    /// empty, or when tiles cannot load: sites drawn on a plain projection.
    pub map_tiles: String,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            listen: std::net::SocketAddr::from(([127, 0, 0, 1], 8080)),
            writes_per_minute: 120,
            failed_auth_per_minute: 10,
            session_ttl: crate::model::Span::from_hours(12),
            secure_cookies: false,
            map_tiles: String::new(),
        }
    }
}
