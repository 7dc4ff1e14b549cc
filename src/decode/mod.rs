//! Bytes to typed readings, pure. Anything invalid becomes a `DecodeError`
//! with a bounded reason, so the message can be counted and kept aside.

mod config;
mod dead_letter;
mod internal_events;
mod wire;

pub use config::DecodeConfig;
pub use dead_letter::{DeadLetter, DeadLetterReason, DeadLetterStore};
pub use internal_events::{DeadLetterMetrics, DeadLettered};

use crate::model::{AssetId, EpochMs, MetricName, ModelId, Reading};
use std::collections::HashSet;
use std::time::Duration;
use wire::{WirePayload, WireReading};

/// Finds an asset's model; decoding rejects assets the registry does not know.
pub trait AssetLookup {
    fn model_of(&self, asset: &str) -> Option<ModelId>;
}

impl AssetLookup for crate::fleet::Fleet {
    fn model_of(&self, asset: &str) -> Option<ModelId> {
        self.asset(asset).map(|a| a.model.clone())
    }
}

/// A valid message: the readings of one known asset.
#[derive(Debug, Clone, PartialEq)]
pub struct Decoded {
    pub asset: AssetId,
    pub model: ModelId,
    pub readings: Vec<Reading>,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum DecodeError {
    #[error("payload of {size} bytes exceeds the limit of {max}")]
    Oversize { size: usize, max: usize },
    #[error("invalid JSON: {0}")]
    InvalidJson(String),
    #[error("wrong field type or shape: {0}")]
    WrongType(String),
    #[error("unknown asset '{0}'")]
    UnknownAsset(String),
    #[error("non-finite value for '{metric}'")]
    NonFinite { metric: String },
    #[error("timestamp {ts} is outside the accepted range [{min}, {max}]")]
    AbsurdTimestamp { ts: String, min: EpochMs, max: EpochMs },
    #[error("message holds no readings")]
    Empty,
    #[error("asset '{asset}' is not a level of topic '{topic}'")]
    TopicMismatch { asset: String, topic: String },
    #[error("{count} readings exceed the limit of {max} per message")]
    TooManyReadings { count: usize, max: usize },
}

impl DecodeError {
    pub fn reason(&self) -> DeadLetterReason {
        use DeadLetterReason as R;
        match self {
            DecodeError::Oversize { .. } | DecodeError::TooManyReadings { .. } => R::Oversize,
            DecodeError::InvalidJson(_) => R::InvalidJson,
            DecodeError::WrongType(_) | DecodeError::Empty => R::InvalidSchema,
            DecodeError::UnknownAsset(_) => R::UnknownAsset,
            DecodeError::NonFinite { .. } => R::NonFinite,
            DecodeError::AbsurdTimestamp { .. } => R::AbsurdTimestamp,
            DecodeError::TopicMismatch { .. } => R::TopicMismatch,
        }
    }
}

/// Takes the readings of each decoded message on the ingest path, in
/// arrival order. It must never block: an output queues and counts what it
/// cannot take.
pub trait ReadingsTap: Send {
    fn observe(&mut self, asset: &AssetId, model: &ModelId, readings: &[Reading]);
    /// Ingest has been idle for `idle`: write what waits for more.
    fn idle(&mut self, idle: Duration);
    /// Ingest ends: write everything held.
    fn flush(&mut self);
}

/// Distinct metric names kept for reuse; past this, names are not cached
/// (a device inventing names cannot grow memory without bound).
const MAX_NAMES: usize = 10_000;

/// Decodes messages under fixed limits. It hands out one shared
/// `MetricName` per distinct metric, so the hot path does not allocate a
/// name per reading.
pub struct Decoder {
    limits: DecodeConfig,
    names: HashSet<MetricName>,
}

impl Decoder {
    pub fn new(limits: DecodeConfig) -> Self {
        Decoder { limits, names: HashSet::new() }
    }

    /// Decodes one MQTT payload received on `topic` at wall-clock time `now`.
    /// The asset id must be one of the topic's levels, so that a device allowed
    /// on its own topic (broker ACLs) cannot report for another asset.
    pub fn decode(
        &mut self,
        topic: &str,
        payload: &[u8],
        assets: &impl AssetLookup,
        now: EpochMs,
    ) -> Result<Decoded, DecodeError> {
        if payload.len() > self.limits.max_payload_bytes {
            return Err(DecodeError::Oversize { size: payload.len(), max: self.limits.max_payload_bytes });
        }
        let wire: WirePayload = serde_json::from_slice(payload).map_err(classify_json_error)?;
        let model = assets.model_of(&wire.asset_id).ok_or_else(|| DecodeError::UnknownAsset(wire.asset_id.clone()))?;
        if !topic.split('/').any(|level| level == wire.asset_id) {
            return Err(DecodeError::TopicMismatch { asset: wire.asset_id, topic: topic.to_owned() });
        }
        let asset = AssetId::new(&wire.asset_id);
        let raw = wire.into_readings()?;
        if raw.is_empty() {
            return Err(DecodeError::Empty);
        }
        if raw.len() > self.limits.max_readings {
            return Err(DecodeError::TooManyReadings { count: raw.len(), max: self.limits.max_readings });
        }
        let (min, max) = (now - self.limits.max_age.as_millis(), now + self.limits.max_future.as_millis());
        let readings = raw.into_iter().map(|r| self.validate(r, min, max)).collect::<Result<Vec<_>, _>>()?;
        Ok(Decoded { asset, model, readings })
    }

    fn validate(&mut self, r: WireReading, min: EpochMs, max: EpochMs) -> Result<Reading, DecodeError> {
        if r.value.is_wrong_type() {
            return Err(DecodeError::WrongType(format!("value of '{}' is a string", r.metric)));
        }
        let value = r.value.finite().ok_or_else(|| DecodeError::NonFinite { metric: r.metric.clone() })?;
        let ts = r.ts.epoch_ms().filter(|t| (min..=max).contains(t)).ok_or_else(|| DecodeError::AbsurdTimestamp {
            ts: r.ts.to_string(),
            min,
            max,
        })?;
        if r.metric.is_empty() || r.metric.len() > 128 {
            return Err(DecodeError::WrongType(format!("metric name of {} characters", r.metric.len())));
        }
        Ok(Reading { ts, metric: self.name(&r.metric), value })
    }

    fn name(&mut self, name: &str) -> MetricName {
        if let Some(known) = self.names.get(name) {
            return known.clone();
        }
        let fresh = MetricName::new(name);
        if self.names.len() < MAX_NAMES {
            self.names.insert(fresh.clone());
        }
        fresh
    }
}

/// serde_json reports syntax and type errors alike; the reason tells them apart.
fn classify_json_error(e: serde_json::Error) -> DecodeError {
    use serde_json::error::Category;
    let text = e.to_string();
    match e.classify() {
        Category::Data if text.contains("number out of range") => DecodeError::NonFinite { metric: "?".into() },
        Category::Data => DecodeError::WrongType(text),
        Category::Syntax if text.contains("number out of range") => DecodeError::NonFinite { metric: "?".into() },
        Category::Syntax | Category::Eof | Category::Io => DecodeError::InvalidJson(text),
    }
}

#[cfg(test)]
mod tests;
