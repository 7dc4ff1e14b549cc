//! Severity tiers and ticket kinds.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// SLA tier of a ticket; ordered from least to most urgent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    General,
    Major,
    Emergency,
}

impl Severity {
    pub const ALL: [Severity; 3] = [Severity::General, Severity::Major, Severity::Emergency];

    /// The next tier up; emergency stays emergency.
    pub fn raised(self) -> Severity {
        match self {
            Severity::General => Severity::Major,
            Severity::Major | Severity::Emergency => Severity::Emergency,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::General => "general",
            Severity::Major => "major",
            Severity::Emergency => "emergency",
        }
    }
}

/// What a ticket asks for: a repair of the machine, or a check of a sensor
/// whose signal is implausible (stuck, missing). Sensor checks are not repairs
/// and never count against the machine's repair rate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TicketKind {
    Repair,
    SensorCheck,
}

impl TicketKind {
    pub fn as_str(self) -> &'static str {
        match self {
            TicketKind::Repair => "repair",
            TicketKind::SensorCheck => "sensor_check",
        }
    }
}

/// A name that is not one of the enum's variants.
#[derive(Debug, thiserror::Error)]
#[error("unknown {what} '{value}'")]
pub struct UnknownVariant {
    pub what: &'static str,
    pub value: String,
}

macro_rules! enum_str {
    ($ty:ty, $what:literal, $($variant:expr),+) => {
        impl FromStr for $ty {
            type Err = UnknownVariant;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                [$($variant),+]
                    .into_iter()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| UnknownVariant { what: $what, value: s.to_owned() })
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

enum_str!(Severity, "severity", Severity::General, Severity::Major, Severity::Emergency);
enum_str!(TicketKind, "ticket kind", TicketKind::Repair, TicketKind::SensorCheck);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn severity_round_trips_through_its_name() {
        for s in Severity::ALL {
            assert_eq!(s.as_str().parse::<Severity>().unwrap(), s);
        }
        assert!("urgent".parse::<Severity>().is_err());
    }

    #[test]
    fn emergency_outranks_major_outranks_general() {
        assert!(Severity::Emergency > Severity::Major && Severity::Major > Severity::General);
    }
}
