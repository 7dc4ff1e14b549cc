//! Severity tiers and ticket kinds.

use serde::{Deserialize, Serialize};

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

/// `FromStr`, `Display` and `sql()` of a fieldless enum by its `as_str` names, over
/// the listed variants (or its `ALL`): one place for every stored enum.
macro_rules! enum_str {
    (@impl $ty:ty, $what:literal, $all:expr) => {
        impl std::str::FromStr for $ty {
            type Err = $crate::model::UnknownVariant;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $all.into_iter()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| $crate::model::UnknownVariant { what: $what, value: s.to_owned() })
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl $ty {
            /// The name as an SQL literal, `'en_route'`: guards in SQL are
            /// generated from the enum, so they cannot name a value that does not exist.
            pub fn sql(self) -> String {
                format!("'{}'", self.as_str())
            }
        }
    };
    ($ty:ty, $what:literal) => {
        $crate::model::enum_str!(@impl $ty, $what, <$ty>::ALL);
    };
    ($ty:ty, $what:literal, $($variant:expr),+) => {
        $crate::model::enum_str!(@impl $ty, $what, [$($variant),+]);
    };
}
pub(crate) use enum_str;

enum_str!(Severity, "severity");
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
