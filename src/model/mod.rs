//! Typed vocabulary shared by every stage: identifiers, severities, readings.
//!
//! Identifiers are newtypes so an asset id can never be passed where a part
//! number is expected; they serialise as plain strings on the wire and in the
//! database.

mod clock;
mod duration;
mod ids;
mod language;
mod severity;
mod text;

pub use clock::Clock;
pub use duration::{parse_duration, Span};
pub use ids::{
    AssetId, DepotId, EngineerId, FaultCode, MetricName, ModelId, PartNumber, RuleId, SiteId, SkillName, TicketId,
};
pub use language::Language;
pub(crate) use severity::named_enum;
pub use severity::{Severity, TicketKind, UnknownVariant};
pub(crate) use text::serde_as_text;

use serde::{Deserialize, Serialize};

/// Event time in milliseconds since the Unix epoch (UTC).
pub type EpochMs = i64;

/// The wall clock as `EpochMs` (when a person or the engine acts).
pub fn now_ms() -> EpochMs {
    chrono::Utc::now().timestamp_millis()
}

/// One decoded sensor value at an event time.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reading {
    pub ts: EpochMs,
    pub metric: MetricName,
    pub value: f64,
}

/// The mean Earth radius used for great-circle distances.
pub const EARTH_RADIUS_KM: f64 = 6371.0;

/// A geographic position in degrees (WGS84).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GeoPoint {
    pub lat: f64,
    pub lon: f64,
}

impl GeoPoint {
    /// Great-circle distance in kilometres (haversine on a spherical Earth).
    pub fn distance_km(&self, other: &GeoPoint) -> f64 {
        let (lat1, lat2) = (self.lat.to_radians(), other.lat.to_radians());
        let dlat = lat2 - lat1;
        let dlon = (other.lon - self.lon).to_radians();
        let a = (dlat / 2.0).sin().powi(2) + lat1.cos() * lat2.cos() * (dlon / 2.0).sin().powi(2);
        2.0 * EARTH_RADIUS_KM * a.sqrt().asin()
    }

    /// Position on the unit sphere; Euclidean order of these points equals
    /// great-circle order, which lets an R-tree answer nearest-first queries.
    pub fn unit_vector(&self) -> [f64; 3] {
        let (lat, lon) = (self.lat.to_radians(), self.lon.to_radians());
        [lat.cos() * lon.cos(), lat.cos() * lon.sin(), lat.sin()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn distance_between_berlin_and_munich_is_about_504_km() {
        let berlin = GeoPoint { lat: 52.52, lon: 13.405 };
        let munich = GeoPoint { lat: 48.137, lon: 11.575 };
        let d = berlin.distance_km(&munich);
        assert!((d - 504.0).abs() < 5.0, "{d}");
    }

    #[test]
    fn distance_to_itself_is_zero() {
        let p = GeoPoint { lat: 10.0, lon: 20.0 };
        assert_eq!(p.distance_km(&p), 0.0);
    }
}
