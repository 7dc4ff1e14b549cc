//! String identifiers as distinct types.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::sync::Arc;

macro_rules! string_id {
    ($(#[$doc:meta] $name:ident),* $(,)?) => {$(
        #[$doc]
        #[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
        #[serde(transparent)]
        pub struct $name(Arc<str>);

        impl $name {
            pub fn new(value: impl AsRef<str>) -> Self {
                Self(Arc::from(value.as_ref()))
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self::new(value)
            }
        }

        /// The shared text, without a copy (e.g. as an InfluxDB tag value).
        impl From<&$name> for Arc<str> {
            fn from(value: &$name) -> Self {
                Arc::clone(&value.0)
            }
        }

        impl std::borrow::Borrow<str> for $name {
            fn borrow(&self) -> &str {
                &self.0
            }
        }

        /// Any text is a valid id (read back from a stored column).
        impl std::str::FromStr for $name {
            type Err = std::convert::Infallible;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                Ok(Self::new(s))
            }
        }
    )*};
}

string_id! {
    /// An installed unit, e.g. `PMP-0001`.
    AssetId,
    /// A sensor channel of an asset, e.g. `vibration_rms_mm_s`.
    MetricName,
    /// An equipment model (rules are written per model), e.g. `centrifugal_pump`.
    ModelId,
    /// A fault code named by a rule, e.g. `BEARING_WEAR`.
    FaultCode,
    /// A rule's unique id, e.g. `pump.bearing_wear`.
    RuleId,
    /// A skill an engineer is certified for, e.g. `mechanical`.
    SkillName,
    /// A spare part number, e.g. `BRG-6205`.
    PartNumber,
    /// A field service engineer.
    EngineerId,
    /// A parts depot.
    DepotId,
    /// A customer site where assets are installed.
    SiteId,
    /// A service ticket.
    TicketId,
}
