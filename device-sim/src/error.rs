//! One error type for the library so callers (the binary, the engine's tests)
//! can match on what went wrong without string parsing.

use std::path::PathBuf;

/// Everything that can go wrong while loading inputs, simulating or publishing.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// Reading or writing a file failed.
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    /// A JSON file could not be parsed or written.
    #[error("{path}: invalid JSON: {source}")]
    Json {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    /// An equipment model name that the simulator does not know.
    #[error("unknown equipment model {0:?} (expected one of centrifugal_pump, screw_compressor, chiller, elevator, spindle)")]
    UnknownModel(String),
    /// The fleet file is readable but not usable (e.g. duplicate asset ids).
    #[error("fleet: {0}")]
    Fleet(String),
    /// A configuration value is out of range.
    #[error("invalid configuration: {0}")]
    Config(String),
    /// An explicit fault plan does not fit the fleet.
    #[error("invalid fault plan: {0}")]
    Plan(String),
    /// The broker URL is not `mqtt://host[:port]` / `tcp://host[:port]`.
    #[error("invalid broker URL {url:?}: {reason}")]
    BrokerUrl { url: String, reason: String },
    /// The broker stayed unreachable (or kept refusing us) for too long.
    #[error("MQTT: {0}")]
    Mqtt(String),
    /// Fetching the engine's metrics endpoint failed.
    #[error("HTTP {url}: {reason}")]
    Http { url: String, reason: String },
}
