//! The ingest stage's settings: the broker connection, the bound on what
//! is held between the socket and the ack, and the demo's embedded broker.

use crate::model::Span;
use serde::{Deserialize, Serialize};
use std::path::PathBuf;

/// Connection to the telemetry broker.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct MqttConfig {
    /// `mqtt://host:port` (or `mqtts://host:port` for TLS).
    pub url: String,
    pub client_id: String,
    pub topic_filter: String,
    pub username: Option<String>,
    pub password: Option<String>,
    /// PEM file of the CA that signed the broker's certificate; when unset
    /// with `mqtts://`, the system's trust roots are used.
    pub ca_file: Option<PathBuf>,
    pub keep_alive: Span,
    pub reconnect_min: Span,
    pub reconnect_max: Span,
}

impl Default for MqttConfig {
    fn default() -> Self {
        MqttConfig {
            url: "mqtt://127.0.0.1:1883".into(),
            client_id: "upkeep-engine".into(),
            topic_filter: "upkeep/telemetry/+".into(),
            username: None,
            password: None,
            ca_file: None,
            keep_alive: Span::from_secs(30),
            reconnect_min: Span(500),
            reconnect_max: Span::from_secs(30),
        }
    }
}

/// The bound on what the engine holds between the broker socket and the
/// ack (decoded, in detection, in ticketing). When it is full the engine
/// stops reading and the broker keeps the backlog; set the broker's own
/// in-flight limit for this client at or below `held_messages`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct IngestConfig {
    pub held_messages: usize,
    pub held_bytes: usize,
    /// At shutdown, how long held messages may take to be committed and
    /// acknowledged; what is left is not acked and the broker redelivers it.
    pub drain_timeout: Span,
}

impl Default for IngestConfig {
    fn default() -> Self {
        IngestConfig { held_messages: 1000, held_bytes: 64 << 20, drain_timeout: Span::from_secs(6) }
    }
}

/// The broker `upkeep demo` embeds so the demo needs no installed server.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmbeddedBrokerConfig {
    pub port: u16,
}

impl Default for EmbeddedBrokerConfig {
    fn default() -> Self {
        EmbeddedBrokerConfig { port: 18831 }
    }
}

impl MqttConfig {
    pub fn validate(&self) -> Result<(), String> {
        if self.client_id.trim().is_empty() {
            return Err("mqtt.client_id must not be empty: the persistent session is keyed by it".into());
        }
        if self.keep_alive < Span::from_secs(5) {
            return Err("mqtt.keep_alive must be at least 5s".into());
        }
        if self.reconnect_min > self.reconnect_max {
            return Err("mqtt.reconnect_min must not exceed mqtt.reconnect_max".into());
        }
        Ok(())
    }
}
