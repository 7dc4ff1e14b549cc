//! Decode's settings: the limits that make a message a dead letter.

use crate::model::Span;
use serde::{Deserialize, Serialize};

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
