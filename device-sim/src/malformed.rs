//! Deliberately broken messages.
//!
//! Real gateways send garbage now and then; the engine must count and drop it
//! without stalling or poisoning state. Each kind breaks exactly one rule of
//! the wire contract so the engine's rejection counters can be checked per
//! kind against the ground truth.

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::sim::Reading;

/// Ways a message can be malformed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MalformedKind {
    /// Payload is not JSON at all (a truncated document).
    InvalidJson,
    /// One reading's value is a JSON string such as `"2.31"`.
    ValueAsString,
    /// One reading's value is `"NaN"` (string) or the overflowing literal `1e999`.
    NonFiniteValue,
    /// Well-formed readings for an asset id that is not in the fleet.
    UnknownAsset,
    /// Timestamps in 1970 or about a thousand years in the future.
    AbsurdTimestamp,
    /// `"readings": []`.
    EmptyReadings,
}

impl MalformedKind {
    /// Rotation order.
    pub const ALL: [MalformedKind; 6] = [
        MalformedKind::InvalidJson,
        MalformedKind::ValueAsString,
        MalformedKind::NonFiniteValue,
        MalformedKind::UnknownAsset,
        MalformedKind::AbsurdTimestamp,
        MalformedKind::EmptyReadings,
    ];

    /// snake_case name, the key used in `GroundTruth::malformed_sent`.
    pub fn as_str(self) -> &'static str {
        match self {
            MalformedKind::InvalidJson => "invalid_json",
            MalformedKind::ValueAsString => "value_as_string",
            MalformedKind::NonFiniteValue => "non_finite_value",
            MalformedKind::UnknownAsset => "unknown_asset",
            MalformedKind::AbsurdTimestamp => "absurd_timestamp",
            MalformedKind::EmptyReadings => "empty_readings",
        }
    }
}

/// About 1000 years, in milliseconds.
const MILLENNIUM_MS: i64 = 1000 * 31_556_952_000;
const DAY_MS: i64 = 86_400_000;
/// Placeholder replaced by a bare `1e999` token after serialization.
const OVERFLOW_MARKER: &str = "\u{0}overflow\u{0}";

/// A malformed replacement for a message of `asset_id` with `readings`.
/// `variant` (how many of this kind came before) alternates sub-variants.
/// Returns `(asset id / topic suffix, payload)`.
pub(crate) fn corrupt(kind: MalformedKind, variant: u64, asset_id: &str, readings: &[Reading]) -> (String, Vec<u8>) {
    let reading = |r: &Reading, ts: i64, value: Value| json!({"ts": ts, "metric": r.metric, "value": value});
    let plain: Vec<Value> = readings.iter().map(|r| reading(r, r.ts, json!(r.value))).collect();
    let with_first = |value: Value| -> Vec<Value> {
        let mut rs = plain.clone();
        if let (Some(first), Some(r)) = (rs.first_mut(), readings.first()) {
            *first = reading(r, r.ts, value);
        }
        rs
    };
    let (id, readings_json) = match kind {
        MalformedKind::InvalidJson => {
            let full = json!({"asset_id": asset_id, "readings": plain}).to_string();
            // Any strict prefix of a JSON object is invalid JSON.
            return (asset_id.to_string(), full.as_bytes()[..full.len() / 2].to_vec());
        }
        MalformedKind::ValueAsString => {
            let text = readings.first().map(|r| r.value.to_string()).unwrap_or_default();
            (asset_id.to_string(), with_first(json!(text)))
        }
        MalformedKind::NonFiniteValue if variant % 2 == 0 => (asset_id.to_string(), with_first(json!("NaN"))),
        MalformedKind::NonFiniteValue => (asset_id.to_string(), with_first(json!(OVERFLOW_MARKER))),
        MalformedKind::UnknownAsset => (format!("UNKNOWN-{:04}", variant + 1), plain),
        MalformedKind::AbsurdTimestamp => {
            let shift = |ts: i64| {
                if variant % 2 == 0 {
                    ts.rem_euclid(DAY_MS) // 1970-01-01, same time of day
                } else {
                    ts + MILLENNIUM_MS
                }
            };
            let rs = readings.iter().map(|r| reading(r, shift(r.ts), json!(r.value))).collect();
            (asset_id.to_string(), rs)
        }
        MalformedKind::EmptyReadings => (asset_id.to_string(), Vec::new()),
    };
    let text = json!({"asset_id": id, "readings": readings_json}).to_string();
    let marker = serde_json::to_string(OVERFLOW_MARKER).unwrap_or_default();
    (id, text.replace(&marker, "1e999").into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Vec<Reading> {
        vec![
            Reading { ts: 1_767_225_600_000, metric: "flow_m3h", value: 120.5 },
            Reading { ts: 1_767_225_600_000, metric: "motor_current_a", value: 40.25 },
        ]
    }

    fn parse(bytes: &[u8]) -> Value {
        serde_json::from_slice(bytes).expect("valid JSON")
    }

    #[test]
    fn each_kind_breaks_one_rule() {
        let rs = sample();
        let (_, p) = corrupt(MalformedKind::InvalidJson, 0, "PMP-0001", &rs);
        assert!(serde_json::from_slice::<Value>(&p).is_err());

        let (_, p) = corrupt(MalformedKind::ValueAsString, 0, "PMP-0001", &rs);
        assert_eq!(parse(&p)["readings"][0]["value"], json!("120.5"));
        assert_eq!(parse(&p)["readings"][1]["value"], json!(40.25));

        let (_, p) = corrupt(MalformedKind::NonFiniteValue, 0, "PMP-0001", &rs);
        assert_eq!(parse(&p)["readings"][0]["value"], json!("NaN"));
        let (_, p) = corrupt(MalformedKind::NonFiniteValue, 1, "PMP-0001", &rs);
        let text = String::from_utf8(p).unwrap();
        assert!(text.contains(r#""value":1e999"#), "{text}");
        assert!(serde_json::from_str::<Value>(&text).is_err(), "serde_json rejects 1e999");

        let (id, p) = corrupt(MalformedKind::UnknownAsset, 4, "PMP-0001", &rs);
        assert_eq!(id, "UNKNOWN-0005");
        assert_eq!(parse(&p)["asset_id"], json!("UNKNOWN-0005"));

        let (_, p) = corrupt(MalformedKind::AbsurdTimestamp, 0, "PMP-0001", &rs);
        assert!(parse(&p)["readings"][0]["ts"].as_i64().unwrap() < DAY_MS);
        let (_, p) = corrupt(MalformedKind::AbsurdTimestamp, 1, "PMP-0001", &rs);
        assert!(parse(&p)["readings"][0]["ts"].as_i64().unwrap() > 30_000_000_000_000);

        let (_, p) = corrupt(MalformedKind::EmptyReadings, 0, "PMP-0001", &rs);
        assert_eq!(parse(&p), json!({"asset_id": "PMP-0001", "readings": []}));
    }

    #[test]
    fn names_match_serde() {
        for kind in MalformedKind::ALL {
            assert_eq!(serde_json::to_value(kind).unwrap(), json!(kind.as_str()));
        }
    }
}
