//! One typed configuration: embedded defaults, a TOML file, then environment
//! overrides (`UPKEEP__SECTION__KEY=value`), validated once at start-up.

mod env;

pub use crate::api::ApiConfig;
pub use crate::db::DatabaseConfig;
pub use crate::decode::DecodeConfig;
pub use crate::detect::{CheckpointConfig, DetectConfig};
pub use crate::dispatch::DispatchConfig;
pub use crate::fleet::FleetConfig;
pub use crate::ingest::{EmbeddedBrokerConfig, IngestConfig, MqttConfig};
pub use crate::outputs::influx::config::{InfluxApiKind, InfluxConfig};
pub use crate::outputs::notify::config::{NotifyConfig, SmtpConfig, WebhookConfig};
pub use crate::rules::RulesConfig;
pub use crate::sla::{CalendarConfig, SlaConfig, SlaTier};
pub use crate::tickets::{EscalationAction, EscalationConfig, QuoteConfig, RepairsConfig};

use crate::model::Span;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// The commented default configuration printed by `upkeep generate-config`.
pub const DEFAULT_TOML: &str = include_str!("default.toml");

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {reason}")]
    Read { path: PathBuf, reason: std::io::Error },
    #[error("invalid config {origin}: {message}")]
    Invalid { origin: String, message: String },
}

/// Every stage's settings under its section; each stage owns its struct
/// (defaults and checks of its own keys), this only gathers them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub mqtt: MqttConfig,
    pub ingest: IngestConfig,
    pub broker: EmbeddedBrokerConfig,
    pub database: DatabaseConfig,
    pub api: ApiConfig,
    pub fleet: FleetConfig,
    pub rules: RulesConfig,
    pub decode: DecodeConfig,
    pub detect: DetectConfig,
    pub checkpoint: CheckpointConfig,
    pub sla: SlaConfig,
    pub dispatch: DispatchConfig,
    pub repairs: RepairsConfig,
    pub quote: QuoteConfig,
    pub escalation: EscalationConfig,
    pub influx: InfluxConfig,
    pub notify: NotifyConfig,
    pub privacy: crate::access::PrivacyConfig,
    pub oidc: crate::access::OidcConfig,
}

impl Config {
    /// Defaults, overlaid by the file (when given), overlaid by `UPKEEP__*` variables.
    pub fn load(path: Option<&Path>) -> Result<Config, ConfigError> {
        let text = match path {
            Some(p) => std::fs::read_to_string(p).map_err(|reason| ConfigError::Read { path: p.to_owned(), reason })?,
            None => String::new(),
        };
        let origin = path.map_or("(defaults)".into(), |p| p.display().to_string());
        Self::parse(&text, &origin, std::env::vars())
    }

    /// The file's text overlaid by `UPKEEP__*` variables from `vars`, validated.
    pub fn parse(
        text: &str,
        origin: &str,
        vars: impl IntoIterator<Item = (String, String)>,
    ) -> Result<Config, ConfigError> {
        let mut table = parse_table(text, origin)?;
        env::apply_overrides(&mut table, vars.into_iter())?;
        Self::from_table(table, origin.to_owned())
    }

    fn from_table(table: toml::Table, origin: String) -> Result<Config, ConfigError> {
        let config: Config = serde_path_to_error::deserialize(toml::Value::Table(table)).map_err(|e| {
            let message = format!("{}: {}", e.path(), e.inner().message());
            ConfigError::Invalid { origin: origin.clone(), message }
        })?;
        config.validate().map_err(|message| ConfigError::Invalid { origin, message })?;
        Ok(config)
    }

    /// Each stage checks its own keys; what spans stages is checked here.
    fn validate(&self) -> Result<(), String> {
        self.checkpoint.validate()?;
        self.detect.validate()?;
        self.dispatch.validate()?;
        self.mqtt.validate()?;
        self.influx.validate()?;
        self.notify.validate()?;
        self.sla.validate()?;
        if self.ingest.held_messages == 0 || self.ingest.held_bytes < self.decode.max_payload_bytes {
            return Err("ingest.held_messages must be at least 1 and ingest.held_bytes at least \
                        decode.max_payload_bytes (one message must fit)"
                .into());
        }
        if self.decode.max_future > self.detect.lateness.max(Span::from_mins(5)) {
            return Err("decode.max_future must not exceed detect.lateness (or 5m): a reading from the future \
                        would make every later reading late"
                .into());
        }
        Ok(())
    }
}

fn parse_table(text: &str, origin: &str) -> Result<toml::Table, ConfigError> {
    text.parse::<toml::Table>().map_err(|e| ConfigError::Invalid { origin: origin.to_owned(), message: e.to_string() })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Severity;

    #[test]
    fn the_commented_default_file_equals_the_built_in_defaults() {
        let table = parse_table(DEFAULT_TOML, "default.toml").unwrap();
        let parsed = Config::from_table(table, "default.toml".into()).unwrap();
        assert_eq!(parsed, Config::default());
    }

    #[test]
    fn unknown_keys_are_rejected_with_the_key_named() {
        let table = parse_table("[mqtt]\nurll = 'x'\n", "t").unwrap();
        let err = Config::from_table(table, "t".into()).unwrap_err().to_string();
        assert!(err.contains("urll"), "{err}");
    }

    #[test]
    fn invalid_values_are_rejected() {
        let table = parse_table("[detect]\nworkers = 0\n", "t").unwrap();
        assert!(Config::from_table(table, "t".into()).is_err());
    }

    /// URLs, addresses and offsets are parsed once, when the file is read,
    /// and a bad one is reported under its key.
    #[test]
    fn a_value_that_does_not_parse_is_reported_under_its_key() {
        let cases = [
            ("[mqtt]\nurl = 'http://broker'\n", "mqtt.url: invalid broker url"),
            ("[database]\nurl = 'mysql://db/x'\n", "database.url: 'mysql://db/x' is neither"),
            ("[api]\nlisten = 'localhost'\n", "api.listen: invalid socket address"),
            ("[influx]\nurl = 'ftp://x'\n", "influx.url: 'ftp://x' is not an http"),
            (
                "[sla.calendars.b]\ndays = ['Mon']\nstart = '08:00:00'\nend = '17:00:00'\nutc_offset = 'CET'\n",
                "sla.calendars.b.utc_offset: 'CET'",
            ),
            ("[detect]\nwindow = '3 parsecs'\n", "detect.window: invalid duration"),
        ];
        for (text, expected) in cases {
            let table = parse_table(text, "t").unwrap();
            let err = Config::from_table(table, "t".into()).unwrap_err().to_string();
            assert!(err.contains(expected), "{err}\n  expected: {expected}");
        }
        let parsed = Config::parse("[mqtt]\nurl = 'mqtts://broker.example'\n", "t", std::iter::empty()).unwrap();
        assert_eq!((parsed.mqtt.url.tls, parsed.mqtt.url.port), (true, 8883));
    }

    #[test]
    fn sla_defaults_match_the_published_tiers() {
        let sla = SlaConfig::default();
        assert_eq!(sla.tier(Severity::Emergency).on_site, Span::from_hours(12));
        assert_eq!(sla.tier(Severity::Major).response, Span::from_hours(4));
        assert_eq!(sla.tier(Severity::General).on_site, Span::from_hours(48));
        assert_eq!(sla.tier(Severity::General).resolution, Span::from_hours(120));
    }
}
