//! Equipment models and their metrics.
//!
//! The metric names, nominal bands and failure limits here are part of the
//! contract with the engine (its rules watch these names and thresholds), so
//! they live in one table that the simulator, the tests and the README share.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::SimError;

/// The kinds of equipment the simulator can play.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EquipmentKind {
    CentrifugalPump,
    ScrewCompressor,
    Chiller,
    Elevator,
    Spindle,
}

/// Which side of a limit is bad.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Values at or above the limit are bad.
    Above,
    /// Values at or below the limit are bad.
    Below,
}

/// A threshold with the side on which it is crossed.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Limit {
    pub value: f64,
    pub direction: Direction,
}

impl Limit {
    const fn above(value: f64) -> Self {
        Limit { value, direction: Direction::Above }
    }

    const fn below(value: f64) -> Self {
        Limit { value, direction: Direction::Below }
    }

    /// +1 when "worse" means larger values, -1 when it means smaller ones.
    pub fn sign(&self) -> f64 {
        match self.direction {
            Direction::Above => 1.0,
            Direction::Below => -1.0,
        }
    }

    /// True when `v` is at or beyond the limit.
    pub fn is_reached(&self, v: f64) -> bool {
        match self.direction {
            Direction::Above => v >= self.value,
            Direction::Below => v <= self.value,
        }
    }
}

/// Static description of one metric of an equipment model.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MetricSpec {
    /// Wire name, e.g. `vibration_rms_mm_s`.
    pub name: &'static str,
    /// Healthy band `(low, high)` including the daily load swing.
    pub nominal: (f64, f64),
    /// Change between idle (load 0) and full working-hours load (load 1).
    pub load_gain: f64,
    /// Standard deviation of the measurement noise (truncated at 4 sd).
    pub noise_sd: f64,
    /// Temperatures follow the load with a thermal lag.
    pub thermal: bool,
    /// Alarm level (same direction as the failure limit), if the model has one.
    pub alarm: Option<f64>,
    /// Functional-failure limit, if the metric has one.
    pub failure: Option<Limit>,
}

impl MetricSpec {
    /// Midpoint of the nominal band.
    pub fn mid(&self) -> f64 {
        (self.nominal.0 + self.nominal.1) / 2.0
    }
}

/// Noise is truncated at this many standard deviations so healthy values
/// provably stay inside `nominal ± NOISE_CLAMP * noise_sd`.
pub(crate) const NOISE_CLAMP: f64 = 4.0;

const fn spec(
    name: &'static str,
    nominal: (f64, f64),
    load_gain: f64,
    noise_sd: f64,
    thermal: bool,
    alarm: Option<f64>,
    failure: Option<Limit>,
) -> MetricSpec {
    MetricSpec { name, nominal, load_gain, noise_sd, thermal, alarm, failure }
}

// Columns: name, nominal band, load gain, noise sd, thermal lag, alarm, failure limit.
#[rustfmt::skip]
const PUMP: &[MetricSpec] = &[
    spec("bearing_temp_c",         (45.0, 55.0),   3.0,  0.5,  true,  Some(75.0), Some(Limit::above(90.0))),
    spec("vibration_rms_mm_s",     (1.5, 2.5),     0.3,  0.04, false, Some(4.5),  Some(Limit::above(11.2))),
    spec("discharge_pressure_bar", (5.8, 6.2),    -0.1,  0.06, false, None,       Some(Limit::below(4.0))),
    spec("motor_current_a",        (38.0, 42.0),   1.2,  0.4,  false, None,       Some(Limit::above(52.0))),
    spec("flow_m3h",               (115.0, 125.0), 4.0,  1.2,  false, None,       Some(Limit::below(80.0))),
];

#[rustfmt::skip]
const COMPRESSOR: &[MetricSpec] = &[
    spec("discharge_temp_c",       (75.0, 85.0),   4.0,  0.8,   true,  Some(100.0), Some(Limit::above(110.0))),
    spec("vibration_rms_mm_s",     (1.8, 2.8),     0.3,  0.046, false, Some(4.5),   Some(Limit::above(11.2))),
    spec("discharge_pressure_bar", (7.3, 7.7),     0.05, 0.075, false, None,        Some(Limit::below(6.0))),
    spec("motor_current_a",        (105.0, 115.0), 4.0,  1.1,   false, None,        Some(Limit::above(135.0))),
];

#[rustfmt::skip]
const CHILLER: &[MetricSpec] = &[
    spec("supply_temp_c",        (6.5, 7.5),    0.3,  0.07,  true,  None, Some(Limit::above(12.0))),
    spec("suction_pressure_bar", (3.4, 3.6),   -0.05, 0.035, false, None, Some(Limit::below(2.0))),
    spec("compressor_current_a", (57.0, 63.0),  2.4,  0.6,   false, None, None),
];

#[rustfmt::skip]
const ELEVATOR: &[MetricSpec] = &[
    spec("motor_temp_c",       (45.0, 55.0), 4.0,  0.5,   true,  None,      Some(Limit::above(85.0))),
    spec("vibration_rms_mm_s", (0.6, 1.0),   0.15, 0.016, false, Some(2.8), Some(Limit::above(4.5))),
    spec("motor_current_a",    (23.0, 27.0), 1.0,  0.25,  false, None,      None),
];

#[rustfmt::skip]
const SPINDLE: &[MetricSpec] = &[
    spec("spindle_temp_c",     (32.0, 38.0), 2.5,  0.35, true,  None,      Some(Limit::above(70.0))),
    spec("vibration_rms_mm_s", (0.8, 1.2),   0.15, 0.02, false, Some(2.8), Some(Limit::above(7.1))),
    spec("motor_current_a",    (13.0, 17.0), 0.8,  0.15, false, None,      None),
];

// `metrics()` must return `&'static [&str]`; a test keeps these in sync with the specs.
const PUMP_NAMES: &[&str] =
    &["bearing_temp_c", "vibration_rms_mm_s", "discharge_pressure_bar", "motor_current_a", "flow_m3h"];
const COMPRESSOR_NAMES: &[&str] =
    &["discharge_temp_c", "vibration_rms_mm_s", "discharge_pressure_bar", "motor_current_a"];
const CHILLER_NAMES: &[&str] = &["supply_temp_c", "suction_pressure_bar", "compressor_current_a"];
const ELEVATOR_NAMES: &[&str] = &["motor_temp_c", "vibration_rms_mm_s", "motor_current_a"];
const SPINDLE_NAMES: &[&str] = &["spindle_temp_c", "vibration_rms_mm_s", "motor_current_a"];

impl EquipmentKind {
    /// All models, in a stable order.
    pub const ALL: [EquipmentKind; 5] = [
        EquipmentKind::CentrifugalPump,
        EquipmentKind::ScrewCompressor,
        EquipmentKind::Chiller,
        EquipmentKind::Elevator,
        EquipmentKind::Spindle,
    ];

    /// Metric names this model reports, in payload order.
    pub fn metrics(self) -> &'static [&'static str] {
        match self {
            EquipmentKind::CentrifugalPump => PUMP_NAMES,
            EquipmentKind::ScrewCompressor => COMPRESSOR_NAMES,
            EquipmentKind::Chiller => CHILLER_NAMES,
            EquipmentKind::Elevator => ELEVATOR_NAMES,
            EquipmentKind::Spindle => SPINDLE_NAMES,
        }
    }

    /// Full specs of this model's metrics, same order as [`Self::metrics`].
    pub fn metric_specs(self) -> &'static [MetricSpec] {
        match self {
            EquipmentKind::CentrifugalPump => PUMP,
            EquipmentKind::ScrewCompressor => COMPRESSOR,
            EquipmentKind::Chiller => CHILLER,
            EquipmentKind::Elevator => ELEVATOR,
            EquipmentKind::Spindle => SPINDLE,
        }
    }

    /// Spec of one metric by name.
    pub fn metric_spec(self, name: &str) -> Option<&'static MetricSpec> {
        self.metric_specs().iter().find(|m| m.name == name)
    }

    /// The model's snake_case name as used in fleet files and on the wire.
    pub fn as_str(self) -> &'static str {
        match self {
            EquipmentKind::CentrifugalPump => "centrifugal_pump",
            EquipmentKind::ScrewCompressor => "screw_compressor",
            EquipmentKind::Chiller => "chiller",
            EquipmentKind::Elevator => "elevator",
            EquipmentKind::Spindle => "spindle",
        }
    }

    /// Prefix of synthetic asset ids (`PMP-0001`, ...).
    pub fn id_prefix(self) -> &'static str {
        match self {
            EquipmentKind::CentrifugalPump => "PMP",
            EquipmentKind::ScrewCompressor => "CMP",
            EquipmentKind::Chiller => "CHL",
            EquipmentKind::Elevator => "ELV",
            EquipmentKind::Spindle => "SPN",
        }
    }
}

impl fmt::Display for EquipmentKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for EquipmentKind {
    type Err = SimError;

    /// Accepts the snake_case name, a short alias (`pump`, `compressor`) or
    /// the id prefix (`pmp`, `cmp`, `chl`, `elv`, `spn`), case-insensitively.
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let lower = s.trim().to_ascii_lowercase();
        Ok(match lower.as_str() {
            "centrifugal_pump" | "pump" | "pmp" => EquipmentKind::CentrifugalPump,
            "screw_compressor" | "compressor" | "cmp" => EquipmentKind::ScrewCompressor,
            "chiller" | "chl" => EquipmentKind::Chiller,
            "elevator" | "elv" => EquipmentKind::Elevator,
            "spindle" | "spn" => EquipmentKind::Spindle,
            _ => return Err(SimError::UnknownModel(s.to_string())),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_table_matches_specs() {
        for kind in EquipmentKind::ALL {
            let from_specs: Vec<_> = kind.metric_specs().iter().map(|m| m.name).collect();
            assert_eq!(from_specs, kind.metrics(), "{kind}");
        }
    }

    #[test]
    fn healthy_band_plus_noise_stays_below_alarm_and_failure() {
        for kind in EquipmentKind::ALL {
            for m in kind.metric_specs() {
                let (lo, hi) = m.nominal;
                assert!(m.load_gain.abs() < hi - lo, "{kind}/{}", m.name);
                let top = hi + NOISE_CLAMP * m.noise_sd;
                let bottom = lo - NOISE_CLAMP * m.noise_sd;
                if let Some(alarm) = m.alarm {
                    assert!(top < alarm, "{kind}/{}", m.name);
                }
                if let Some(limit) = m.failure {
                    assert!(!limit.is_reached(top) && !limit.is_reached(bottom));
                }
            }
        }
    }

    #[test]
    fn kind_parses_displays_and_serializes() {
        for kind in EquipmentKind::ALL {
            assert_eq!(kind.to_string().parse::<EquipmentKind>().unwrap(), kind);
            let json = serde_json::to_string(&kind).unwrap();
            assert_eq!(json, format!("\"{kind}\""));
        }
        assert_eq!("Pump".parse::<EquipmentKind>().unwrap(), EquipmentKind::CentrifugalPump);
        assert_eq!("spn".parse::<EquipmentKind>().unwrap(), EquipmentKind::Spindle);
        assert!(matches!("boiler".parse::<EquipmentKind>(), Err(SimError::UnknownModel(_))));
    }
}
