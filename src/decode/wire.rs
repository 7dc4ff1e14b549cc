//! The JSON wire format (see `schemas/telemetry.schema.json`): one reading,
//! or a batch of readings, for one asset.

use super::DecodeError;
use crate::model::EpochMs;
use serde::Deserialize;
use std::fmt;

#[derive(Deserialize)]
pub(super) struct WirePayload {
    pub asset_id: String,
    readings: Option<Vec<WireReading>>,
    #[serde(flatten)]
    single: SingleFields,
}

#[derive(Deserialize, Default)]
struct SingleFields {
    ts: Option<WireTs>,
    metric: Option<String>,
    value: Option<WireValue>,
}

#[derive(Deserialize)]
pub(super) struct WireReading {
    pub ts: WireTs,
    pub metric: String,
    pub value: WireValue,
}

/// Event time as epoch milliseconds or an RFC 3339 string.
#[derive(Deserialize)]
#[serde(untagged)]
pub(super) enum WireTs {
    Millis(i64),
    Text(String),
}

impl WireTs {
    pub fn epoch_ms(&self) -> Option<EpochMs> {
        match self {
            WireTs::Millis(ms) => Some(*ms),
            WireTs::Text(t) => chrono::DateTime::parse_from_rfc3339(t).ok().map(|d| d.timestamp_millis()),
        }
    }
}

impl fmt::Display for WireTs {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            WireTs::Millis(ms) => write!(f, "{ms}"),
            WireTs::Text(t) => write!(f, "{t:?}"),
        }
    }
}

/// A number, or a string that some devices send for NaN/Infinity (rejected as non-finite).
#[derive(Deserialize)]
#[serde(untagged)]
pub(super) enum WireValue {
    Number(f64),
    Text(String),
}

impl WireValue {
    pub fn finite(&self) -> Option<f64> {
        match self {
            WireValue::Number(v) if v.is_finite() => Some(*v),
            _ => None,
        }
    }
}

impl WirePayload {
    /// Either the `readings` list or the single-reading fields, never both.
    pub fn into_readings(self) -> Result<Vec<WireReading>, DecodeError> {
        let s = self.single;
        match (self.readings, s.ts, s.metric, s.value) {
            (Some(list), None, None, None) => Ok(list),
            (None, Some(ts), Some(metric), Some(value)) => Ok(vec![WireReading { ts, metric, value }]),
            (None, None, None, None) => Err(DecodeError::Empty),
            _ => Err(DecodeError::WrongType("give either `readings` or `ts`, `metric` and `value`".into())),
        }
    }
}

impl WireValue {
    /// A string value that is not a spelling of NaN/Infinity is a type error, not a non-finite value.
    pub fn is_wrong_type(&self) -> bool {
        match self {
            WireValue::Number(_) => false,
            WireValue::Text(t) => {
                !matches!(t.to_ascii_lowercase().trim_start_matches(['+', '-']), "nan" | "inf" | "infinity")
            }
        }
    }
}
