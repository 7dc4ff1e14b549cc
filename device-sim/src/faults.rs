//! Fault catalogue: which faults exist, which models they hit and which
//! metrics they move.
//!
//! Progressive faults model real degradation: a metric drifts, accelerating,
//! from its healthy value at `onset` to exactly its functional-failure limit
//! at `functional_failure`, dragging related metrics along; afterwards the
//! asset stays failed. Sensor faults are deliberately *not* like that (a
//! frozen value, a gap, isolated spikes) so the engine can be scored on
//! telling a broken sensor from a breaking machine.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::model::EquipmentKind;

/// Injected fault kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    BearingWear,
    SealLeak,
    CloggedFilter,
    RefrigerantLoss,
    SensorStuck,
    SensorDropout,
    SensorSpikes,
}

impl FaultKind {
    /// Machine degradation that ends in functional failure (needs a repair),
    /// as opposed to a sensor fault.
    pub fn is_progressive(self) -> bool {
        matches!(
            self,
            FaultKind::BearingWear | FaultKind::SealLeak | FaultKind::CloggedFilter | FaultKind::RefrigerantLoss
        )
    }

    /// snake_case name, as serialized.
    pub fn as_str(self) -> &'static str {
        match self {
            FaultKind::BearingWear => "bearing_wear",
            FaultKind::SealLeak => "seal_leak",
            FaultKind::CloggedFilter => "clogged_filter",
            FaultKind::RefrigerantLoss => "refrigerant_loss",
            FaultKind::SensorStuck => "sensor_stuck",
            FaultKind::SensorDropout => "sensor_dropout",
            FaultKind::SensorSpikes => "sensor_spikes",
        }
    }

    /// Progressive faults that can happen to `model`.
    pub fn progressive_for(model: EquipmentKind) -> &'static [FaultKind] {
        use FaultKind::*;
        match model {
            EquipmentKind::CentrifugalPump => &[BearingWear, SealLeak, CloggedFilter],
            EquipmentKind::ScrewCompressor => &[BearingWear, CloggedFilter],
            EquipmentKind::Chiller => &[RefrigerantLoss],
            EquipmentKind::Elevator | EquipmentKind::Spindle => &[BearingWear],
        }
    }

    /// Growth rate of the accelerating degradation curve (higher = later, steeper).
    pub(crate) fn growth(self) -> f64 {
        match self {
            FaultKind::BearingWear => 4.0,
            FaultKind::SealLeak => 3.0,
            FaultKind::CloggedFilter => 1.5,
            _ => 1.0,
        }
    }
}

impl std::fmt::Display for FaultKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One fault in the ground truth.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct InjectedFault {
    pub asset_id: String,
    pub model: EquipmentKind,
    pub fault: FaultKind,
    /// Affected metrics; for progressive faults the ones driven to their
    /// failure limit come first.
    pub metrics: Vec<String>,
    /// Progressive: degradation starts. Sensor: the fault starts (first spike).
    pub onset: DateTime<Utc>,
    /// Progressive only: the primary metrics reach their failure limits.
    pub functional_failure: Option<DateTime<Utc>>,
    /// Sensor only: exclusive end of the faulty span.
    pub sensor_fault_end: Option<DateTime<Utc>>,
    /// `sensor_spikes` only: event time of every spike.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub spike_times: Vec<DateTime<Utc>>,
}

/// How a progressive fault moves one metric.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Shape {
    /// From healthy to the failure limit at functional failure.
    ToLimit,
    /// Covers `frac` of the way to the failure limit, rising only after
    /// `start` (share of the lead) has elapsed.
    TowardLimit { frac: f64, start: f64 },
    /// Relative change of the healthy value reached at functional failure.
    Relative(f64),
}

const BEARING_TEMP: Shape = Shape::TowardLimit { frac: 0.7, start: 0.5 };

/// Names of the metrics `kind` moves on `model`, primary (driven to the limit) first.
pub(crate) fn effect_metrics(kind: FaultKind, model: EquipmentKind) -> Vec<String> {
    effects(kind, model).iter().map(|(m, _)| m.to_string()).collect()
}

pub(crate) fn effects(kind: FaultKind, model: EquipmentKind) -> &'static [(&'static str, Shape)] {
    use EquipmentKind::*;
    use FaultKind::*;
    use Shape::*;
    match (kind, model) {
        (BearingWear, CentrifugalPump) => &[("vibration_rms_mm_s", ToLimit), ("bearing_temp_c", BEARING_TEMP)],
        (BearingWear, ScrewCompressor) => &[("vibration_rms_mm_s", ToLimit), ("discharge_temp_c", BEARING_TEMP)],
        (BearingWear, Elevator) => &[("vibration_rms_mm_s", ToLimit), ("motor_temp_c", BEARING_TEMP)],
        (BearingWear, Spindle) => &[("vibration_rms_mm_s", ToLimit), ("spindle_temp_c", BEARING_TEMP)],
        (SealLeak, CentrifugalPump) => &[("discharge_pressure_bar", ToLimit), ("flow_m3h", Relative(-0.10))],
        (CloggedFilter, CentrifugalPump) => &[("motor_current_a", ToLimit), ("flow_m3h", ToLimit)],
        (CloggedFilter, ScrewCompressor) => {
            &[("motor_current_a", ToLimit), ("discharge_pressure_bar", Relative(-0.08))]
        }
        (RefrigerantLoss, Chiller) => &[("suction_pressure_bar", ToLimit), ("supply_temp_c", ToLimit)],
        _ => &[],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_model_has_a_progressive_fault_with_limited_metrics() {
        for model in EquipmentKind::ALL {
            assert!(!FaultKind::progressive_for(model).is_empty());
            for &kind in FaultKind::progressive_for(model) {
                assert!(kind.is_progressive());
                let table = effects(kind, model);
                assert!(matches!(table.first(), Some((_, Shape::ToLimit))), "{kind:?}/{model}");
                for (name, _) in table {
                    let spec = model.metric_spec(name).expect("metric exists");
                    assert!(spec.failure.is_some(), "{model}/{name} needs a failure limit");
                }
            }
        }
        assert!(!FaultKind::SensorStuck.is_progressive());
    }
}
