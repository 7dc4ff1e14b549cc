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
    pub url: BrokerUrl,
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
            url: BrokerUrl { tls: false, host: "127.0.0.1".into(), port: 1883 },
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

/// Where the broker listens: `mqtt://host:port`, or `mqtts://` for TLS
/// (`tcp://` and `ssl://` are accepted too); the port defaults to 1883 or 8883.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BrokerUrl {
    pub tls: bool,
    pub host: String,
    pub port: u16,
}

crate::model::serde_as_text!(BrokerUrl);

impl std::str::FromStr for BrokerUrl {
    type Err = String;

    fn from_str(url: &str) -> Result<Self, String> {
        let bad = || format!("invalid broker url '{url}': expected mqtt://host:port or mqtts://host:port");
        let (scheme, rest) = url.split_once("://").ok_or_else(bad)?;
        let tls = match scheme {
            "mqtt" | "tcp" => false,
            "mqtts" | "ssl" => true,
            _ => return Err(bad()),
        };
        let authority = rest.split(['/', '?']).next().unwrap_or_default();
        let (host, port) = match authority.rsplit_once(':') {
            Some((h, p)) => (h, p.parse().map_err(|_| bad())?),
            None => (authority, if tls { 8883 } else { 1883 }),
        };
        if host.is_empty() {
            return Err(bad());
        }
        Ok(BrokerUrl { tls, host: host.trim_matches(['[', ']']).to_owned(), port })
    }
}

impl std::fmt::Display for BrokerUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scheme = if self.tls { "mqtts" } else { "mqtt" };
        match self.host.contains(':') {
            true => write!(f, "{scheme}://[{}]:{}", self.host, self.port),
            false => write!(f, "{scheme}://{}:{}", self.host, self.port),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn broker_urls_give_scheme_host_and_port() {
        let url = |s: &str| s.parse::<BrokerUrl>().map(|u| (u.tls, u.host, u.port));
        assert_eq!(url("mqtt://127.0.0.1:1883"), Ok((false, "127.0.0.1".into(), 1883)));
        assert_eq!(url("mqtts://broker.example"), Ok((true, "broker.example".into(), 8883)));
        assert_eq!(url("tcp://[::1]:18831"), Ok((false, "::1".into(), 18831)));
        for bad in ["127.0.0.1:1883", "http://h:1", "mqtt://:1883", "mqtt://h:port"] {
            assert!(url(bad).is_err(), "{bad}");
        }
        let written = "mqtt://[::1]:18831".parse::<BrokerUrl>().unwrap().to_string();
        assert_eq!(written, "mqtt://[::1]:18831", "an IPv6 host is written back in brackets");
    }
}
