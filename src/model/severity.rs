//! Severity tiers and ticket kinds.

use serde::{Deserialize, Serialize};

/// A fieldless enum declared with its stored names: the enum, `ALL` in
/// declaration order, `as_str`, `FromStr` and `Display` by those names, and
/// `sql()`. Adding a variant is one line; every stored enum is declared so.
macro_rules! named_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $ty:ident: $what:literal {
            $($(#[$vmeta:meta])* $variant:ident = $name:literal,)+
        }
    ) => {
        $(#[$meta])*
        $vis enum $ty {
            $($(#[$vmeta])* $variant,)+
        }

        impl $ty {
            pub const ALL: [$ty; [$($name),+].len()] = [$($ty::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($ty::$variant => $name,)+
                }
            }

            /// The name as an SQL literal, `'en_route'`: guards in SQL are
            /// generated from the enum, so they cannot name a value that does not exist.
            pub fn sql(self) -> String {
                format!("'{}'", self.as_str())
            }
        }

        impl std::str::FromStr for $ty {
            type Err = $crate::model::UnknownVariant;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                <$ty>::ALL
                    .into_iter()
                    .find(|v| v.as_str() == s)
                    .ok_or_else(|| $crate::model::UnknownVariant { what: $what, value: s.to_owned() })
            }
        }

        impl std::fmt::Display for $ty {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use named_enum;

/// A name that is not one of the enum's variants.
#[derive(Debug, thiserror::Error)]
#[error("unknown {what} '{value}'")]
pub struct UnknownVariant {
    pub what: &'static str,
    pub value: String,
}

named_enum! {
    /// SLA tier of a ticket; ordered from least to most urgent.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum Severity: "severity" {
        General = "general",
        Major = "major",
        Emergency = "emergency",
    }
}

impl Severity {
    /// The next tier up; emergency stays emergency.
    pub fn raised(self) -> Severity {
        match self {
            Severity::General => Severity::Major,
            Severity::Major | Severity::Emergency => Severity::Emergency,
        }
    }
}

named_enum! {
    /// What a ticket asks for: a repair of the machine, or a check of a sensor
    /// whose signal is implausible (stuck, missing). Sensor checks are not repairs
    /// and never count against the machine's repair rate.
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum TicketKind: "ticket kind" {
        Repair = "repair",
        SensorCheck = "sensor_check",
    }
}

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
