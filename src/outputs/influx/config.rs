//! The `[influx]` section: where the sink writes and what the feed sends.

use crate::model::Span;
use serde::{Deserialize, Serialize};

/// Which InfluxDB write API to speak.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum InfluxApiKind {
    /// `/write?db=` (InfluxDB 1.x; 2.x through its compatibility API).
    V1,
    /// `/api/v2/write` with org, bucket and token (InfluxDB 2.x, 3.x, Cloud).
    V2,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct InfluxConfig {
    /// Base URL such as `http://127.0.0.1:8086`; unset leaves the sink off.
    pub url: Option<HttpUrl>,
    pub api: InfluxApiKind,
    /// v1: the database (created by the operator beforehand).
    pub database: String,
    pub username: Option<String>,
    pub password: Option<String>,
    /// v2: organisation, bucket and API token.
    pub org: String,
    pub bucket: String,
    pub token: Option<String>,
    /// Per write request.
    pub timeout: Span,
    /// Points per write request at most; a partial batch waits `flush_every`.
    pub batch_points: usize,
    pub flush_every: Span,
    /// Points waiting to be written at most; more are dropped and counted.
    pub queue_points: usize,
    /// Longest pause between retries while InfluxDB is down.
    pub max_backoff: Span,
    /// At most one raw sample per asset and metric this often (event time).
    pub raw_every: Span,
    /// Width of the mean/min/max buckets per asset and metric.
    pub rollup: Span,
    /// Detector outputs per asset at most this often (event time).
    pub scores_every: Span,
    /// How often ticket events, KPIs and snapshots are written (wall clock).
    pub kpi_every: Span,
    /// How far back KPI periods are recomputed (and backfilled at start).
    pub kpi_lookback: Span,
}

impl Default for InfluxConfig {
    fn default() -> Self {
        InfluxConfig {
            url: None,
            api: InfluxApiKind::V1,
            database: "upkeep".into(),
            username: None,
            password: None,
            org: "upkeep".into(),
            bucket: "upkeep".into(),
            token: None,
            timeout: Span::from_secs(10),
            batch_points: 5000,
            flush_every: Span::from_secs(1),
            queue_points: 200_000,
            max_backoff: Span::from_secs(30),
            raw_every: Span::from_mins(1),
            rollup: Span::from_mins(1),
            scores_every: Span::from_mins(5),
            kpi_every: Span::from_mins(1),
            kpi_lookback: Span::from_hours(24 * 30),
        }
    }
}

impl InfluxConfig {
    pub fn validate(&self) -> Result<(), String> {
        if self.batch_points == 0 || self.queue_points < self.batch_points {
            return Err("influx.batch_points must be >= 1 and influx.queue_points >= batch_points".into());
        }
        let positive = [self.timeout, self.flush_every, self.max_backoff, self.rollup, self.kpi_every];
        if positive.iter().any(|s| s.as_millis() <= 0) {
            return Err("influx.timeout, flush_every, max_backoff, rollup and kpi_every must be positive".into());
        }
        if self.raw_every.as_millis() < 0 || self.scores_every.as_millis() < 0 {
            return Err("influx.raw_every and influx.scores_every must not be negative".into());
        }
        if self.kpi_lookback < Span::from_hours(24) {
            return Err("influx.kpi_lookback must cover at least one day (the daily KPI period)".into());
        }
        if self.api == InfluxApiKind::V2 && self.url.is_some() && self.token.is_none() {
            return Err("influx.api = \"v2\" needs influx.token".into());
        }
        Ok(())
    }
}

/// An `http://` or `https://` base URL, checked when the configuration is read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct HttpUrl(String);

crate::model::serde_as_text!(HttpUrl);

impl HttpUrl {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl std::str::FromStr for HttpUrl {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        match reqwest::Url::parse(s) {
            Ok(u) if matches!(u.scheme(), "http" | "https") && u.has_host() => Ok(HttpUrl(s.to_owned())),
            _ => Err(format!("'{s}' is not an http:// or https:// URL")),
        }
    }
}

impl std::fmt::Display for HttpUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
