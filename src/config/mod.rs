//! One typed configuration: embedded defaults, a TOML file, then environment
//! overrides (`UPKEEP__SECTION__KEY=value`), validated once at start-up.

mod env;

pub use crate::outputs::influx::config::{InfluxApiKind, InfluxConfig};

pub use crate::sla::{CalendarConfig, SlaConfig, SlaTier};

use crate::model::Span;
use chrono::{NaiveTime, Weekday};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
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
}

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

/// Where and how often detection state is saved, so a restart resumes
/// instead of warming up again (see `detect::checkpoint`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CheckpointConfig {
    pub enabled: bool,
    /// Empty: beside the SQLite file (`FILE.state/`), or `upkeep-state/`
    /// in the working directory with PostgreSQL. One directory per engine.
    pub dir: PathBuf,
    pub every: Span,
    /// A checkpoint is also taken once the journal since the last one is this large.
    pub journal_bytes: u64,
}

impl Default for CheckpointConfig {
    fn default() -> Self {
        CheckpointConfig { enabled: true, dir: PathBuf::new(), every: Span::from_secs(30), journal_bytes: 64 << 20 }
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

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DatabaseConfig {
    /// `sqlite://path.db` (created if missing) or `postgres://...`.
    pub url: String,
    pub max_connections: u32,
    /// A store call without an answer this long is cancelled and retried.
    pub call_timeout: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApiConfig {
    pub listen: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FleetConfig {
    /// JSON fleet file: assets, engineers, depots, parts.
    pub path: PathBuf,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RulesConfig {
    pub dir: PathBuf,
}

/// Limits that make a message invalid (it then goes to the dead letters).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DecodeConfig {
    pub max_payload_bytes: usize,
    pub max_readings: usize,
    /// Readings older than this (against the wall clock) are absurd.
    pub max_age: Span,
    /// Readings further ahead of the wall clock than this are absurd.
    pub max_future: Span,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DetectConfig {
    /// Timely worker threads; records are exchanged between them by asset id.
    pub workers: usize,
    /// Raw samples kept per asset and metric (event time).
    pub window: Span,
    /// How far behind an asset's newest reading a reading may arrive and still count.
    pub lateness: Span,
    /// Width of the downsampled buckets that feed baselines and forecasts.
    pub bucket: Span,
    /// How much downsampled history is kept per asset and metric.
    pub history: Span,
    /// Half-life of the learned per-asset baseline.
    pub baseline_half_life: Span,
    /// History needed before the baseline is trusted.
    pub baseline_warmup: Span,
    /// While a rule keeps firing, fresh evidence is attached at most this often.
    pub evidence_every: Span,
    /// Recent samples per metric behind the robust (median/MAD) statistics of
    /// the anomaly, robust and cusum detectors.
    pub robust_samples: usize,
    /// Rarity (distance to the nearest usual values, in robust sigmas) that
    /// scores 0.5 on the anomaly score.
    pub anomaly_z_half: f64,
    /// The anomaly score above which an `anomaly` check without its own bound
    /// fires. Chosen once on the development benchmark files (see README) and
    /// shared by the live engine and `upkeep eval`.
    pub anomaly_threshold: f64,
    /// CUSUM statistic (sigmas) after which it restarts from zero.
    pub cusum_reset: f64,
    /// Sensor vectors averaged before a multivariate check is trusted.
    pub joint_warmup: u32,
    /// Half-life, in sensor vectors, of the learned joint distribution.
    pub joint_half_life: u32,
    /// Span (vectors) of the exponential smoothing applied before scoring;
    /// 1 scores each vector as it comes.
    pub joint_smoothing: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct DispatchConfig {
    /// Road distance per great-circle kilometre.
    pub road_factor: f64,
    /// Average travel speed on roads.
    pub speed_kmh: f64,
    /// Fairness of load: each open ticket an engineer already holds counts
    /// as this many minutes of extra time to site when choosing, so work
    /// spreads over engineers who can all make the deadline.
    pub fairness_minutes_per_job: f64,
    /// An alarm storm: this many tickets opened within `replan_window`
    /// re-plans every assigned, not yet accepted ticket together.
    pub replan_storm: u32,
    pub replan_window: Span,
    /// Picking and packing at a depot before a part leaves for a site.
    pub parts_handling: Span,
    /// A reported position older than this no longer says where an
    /// engineer starts (yesterday's last job site): home base again.
    pub position_fresh_for: Span,
}

/// Repeat repairs: after `repeat_limit` repairs of the same fault on one unit
/// the next ticket recommends an exchange or refund (0 turns this off).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RepairsConfig {
    pub repeat_limit: u32,
    /// Warranty policy: a unit failing in warranty this soon after
    /// installation (dead on arrival) is refunded (0 turns this off).
    pub refund_within: Span,
}

/// What happens to a ticket nobody accepted by its response deadline.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EscalationAction {
    /// Take it from the engineer who did not accept and dispatch it to another.
    Reassign,
    /// One severity tier up (never down).
    RaiseSeverity,
    /// An `escalated` event and a warning for the supervisor.
    NotifySupervisor,
}

/// SLA timers, run on the wall clock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EscalationConfig {
    pub actions: Vec<EscalationAction>,
    /// A ticket not yet on site is flagged at risk this long before its on-site deadline.
    pub at_risk_within: Span,
    /// On site this long without a service report: the report is overdue
    /// (a repair takes about 3 h and its report is due 2 h after it).
    pub report_overdue_after: Span,
    pub check_every: Span,
}

impl Default for EscalationConfig {
    fn default() -> Self {
        EscalationConfig {
            actions: vec![EscalationAction::Reassign, EscalationAction::NotifySupervisor],
            at_risk_within: Span::from_hours(2),
            report_overdue_after: Span::from_hours(5),
            check_every: Span::from_mins(1),
        }
    }
}

/// Prices of out-of-warranty quotes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct QuoteConfig {
    pub currency: String,
    /// Labour per hour by the certified level the repair needs (1, 2, 3).
    pub labour_per_hour: [f64; 3],
    /// Hours of labour quoted per repair.
    pub repair_hours: f64,
    pub travel_per_hour: f64,
}

impl Default for QuoteConfig {
    fn default() -> Self {
        QuoteConfig {
            currency: "EUR".into(),
            labour_per_hour: [60.0, 80.0, 100.0],
            repair_hours: 3.0,
            travel_per_hour: 50.0,
        }
    }
}

impl Default for RepairsConfig {
    fn default() -> Self {
        RepairsConfig { repeat_limit: 3, refund_within: Span::from_hours(30 * 24) }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            mqtt: MqttConfig::default(),
            ingest: IngestConfig::default(),
            broker: EmbeddedBrokerConfig { port: 18831 },
            database: DatabaseConfig {
                url: "sqlite://upkeep.db".into(),
                max_connections: 8,
                call_timeout: Span::from_secs(10),
            },
            api: ApiConfig { listen: "127.0.0.1:8080".into() },
            fleet: FleetConfig { path: "fleet.json".into() },
            rules: RulesConfig { dir: "rules".into() },
            decode: DecodeConfig::default(),
            detect: DetectConfig::default(),
            checkpoint: CheckpointConfig::default(),
            sla: SlaConfig::default(),
            dispatch: DispatchConfig {
                road_factor: 1.3,
                speed_kmh: 60.0,
                fairness_minutes_per_job: 30.0,
                replan_storm: 10,
                replan_window: Span::from_mins(15),
                parts_handling: Span::from_hours(2),
                position_fresh_for: Span::from_hours(12),
            },
            repairs: RepairsConfig::default(),
            quote: QuoteConfig::default(),
            escalation: EscalationConfig::default(),
            influx: InfluxConfig::default(),
        }
    }
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

impl Default for EmbeddedBrokerConfig {
    fn default() -> Self {
        Config::default().broker
    }
}
impl Default for DatabaseConfig {
    fn default() -> Self {
        Config::default().database
    }
}
impl Default for ApiConfig {
    fn default() -> Self {
        Config::default().api
    }
}
impl Default for FleetConfig {
    fn default() -> Self {
        Config::default().fleet
    }
}
impl Default for RulesConfig {
    fn default() -> Self {
        Config::default().rules
    }
}
impl Default for DispatchConfig {
    fn default() -> Self {
        Config::default().dispatch
    }
}

impl Default for DecodeConfig {
    fn default() -> Self {
        DecodeConfig {
            max_payload_bytes: 256 * 1024,
            max_readings: 10_000,
            max_age: Span::from_hours(24 * 365),
            max_future: Span::from_mins(5),
        }
    }
}

impl Default for DetectConfig {
    fn default() -> Self {
        DetectConfig {
            workers: 1,
            window: Span::from_mins(30),
            lateness: Span::from_mins(5),
            bucket: Span::from_mins(10),
            history: Span::from_hours(24),
            baseline_half_life: Span::from_hours(24),
            baseline_warmup: Span::from_hours(6),
            evidence_every: Span::from_hours(1),
            robust_samples: 2048,
            anomaly_z_half: 1.0,
            anomaly_threshold: 0.5,
            cusum_reset: 40.0,
            joint_warmup: 400,
            joint_half_life: 5000,
            joint_smoothing: 30,
        }
    }
}

impl Default for SlaConfig {
    fn default() -> Self {
        let tier = |r, o, res| SlaTier {
            response: Span::from_hours(r),
            on_site: Span::from_hours(o),
            resolution: Span::from_hours(res),
            calendar: crate::sla::ROUND_THE_CLOCK.into(),
        };
        let business_hours = CalendarConfig {
            days: vec![Weekday::Mon, Weekday::Tue, Weekday::Wed, Weekday::Thu, Weekday::Fri],
            start: NaiveTime::from_hms_opt(8, 0, 0).unwrap_or_default(),
            end: NaiveTime::from_hms_opt(17, 0, 0).unwrap_or_default(),
            utc_offset: "+01:00".into(),
            holidays: ["2026-12-25", "2026-12-26", "2027-01-01"].iter().filter_map(|d| d.parse().ok()).collect(),
        };
        SlaConfig {
            emergency: tier(1, 12, 24),
            major: tier(4, 24, 48),
            general: tier(8, 48, 120),
            calendars: BTreeMap::from([("business_hours".to_owned(), business_hours)]),
        }
    }
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
        let config: Config = toml::Value::Table(table).try_into().map_err(|e: toml::de::Error| {
            ConfigError::Invalid { origin: origin.clone(), message: e.message().to_owned() }
        })?;
        config.validate().map_err(|message| ConfigError::Invalid { origin, message })?;
        Ok(config)
    }

    fn validate(&self) -> Result<(), String> {
        let c = &self.checkpoint;
        if c.enabled && (c.every.as_millis() <= 0 || c.journal_bytes == 0) {
            return Err("checkpoint.every and checkpoint.journal_bytes must be positive".into());
        }
        let d = &self.detect;
        if d.workers == 0 {
            return Err("detect.workers must be at least 1".into());
        }
        if d.bucket.as_millis() <= 0 || d.window.as_millis() <= 0 {
            return Err("detect.window and detect.bucket must be positive".into());
        }
        if d.history < d.bucket {
            return Err("detect.history must cover at least one detect.bucket".into());
        }
        if !(0.0..1.0).contains(&d.anomaly_threshold) || d.anomaly_z_half <= 0.0 || d.cusum_reset <= 0.0 {
            return Err("detect.anomaly_threshold must be in [0, 1); anomaly_z_half and cusum_reset above 0".into());
        }
        if d.robust_samples < 16 || d.joint_warmup < 2 || d.joint_half_life == 0 || d.joint_smoothing == 0 {
            return Err(
                "detect.robust_samples must be >= 16, joint_warmup >= 2, joint_half_life and joint_smoothing >= 1"
                    .into(),
            );
        }
        if self.dispatch.speed_kmh <= 0.0 || self.dispatch.road_factor < 1.0 {
            return Err("dispatch.speed_kmh must be > 0 and dispatch.road_factor >= 1".into());
        }
        if self.mqtt.client_id.trim().is_empty() {
            return Err("mqtt.client_id must not be empty: the persistent session is keyed by it".into());
        }
        if self.ingest.held_messages == 0 || self.ingest.held_bytes < self.decode.max_payload_bytes {
            return Err("ingest.held_messages must be at least 1 and ingest.held_bytes at least \
                        decode.max_payload_bytes (one message must fit)"
                .into());
        }
        if self.mqtt.keep_alive < Span::from_secs(5) {
            return Err("mqtt.keep_alive must be at least 5s".into());
        }
        if self.decode.max_future > self.detect.lateness.max(Span::from_mins(5)) {
            return Err("decode.max_future must not exceed detect.lateness (or 5m): a reading from the future \
                        would make every later reading late"
                .into());
        }
        self.influx.validate()?;
        if self.mqtt.reconnect_min > self.mqtt.reconnect_max {
            return Err("mqtt.reconnect_min must not exceed mqtt.reconnect_max".into());
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

    #[test]
    fn sla_defaults_match_the_published_tiers() {
        let sla = SlaConfig::default();
        assert_eq!(sla.tier(Severity::Emergency).on_site, Span::from_hours(12));
        assert_eq!(sla.tier(Severity::Major).response, Span::from_hours(4));
        assert_eq!(sla.tier(Severity::General).on_site, Span::from_hours(48));
        assert_eq!(sla.tier(Severity::General).resolution, Span::from_hours(120));
    }
}
