//! The database's settings.

use crate::model::Span;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite://path.db` (created if missing) or `postgres://...`.
    pub url: String,
    pub max_connections: u32,
    /// A store call without an answer this long is cancelled and retried.
    pub call_timeout: Span,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        DatabaseConfig { url: "sqlite://upkeep.db".into(), max_connections: 8, call_timeout: Span::from_secs(10) }
    }
}
