//! Fault catalogue, fault planning and the shapes faults give to signals.
//!
//! Progressive faults model real degradation: a metric drifts, accelerating,
//! from its healthy value at `onset` to exactly its functional-failure limit
//! at `functional_failure`, dragging related metrics along; afterwards the
//! asset stays failed. Sensor faults are deliberately *not* like that (a
//! frozen value, a gap, isolated spikes) so the engine can be scored on
//! telling a broken sensor from a breaking machine.
//!
//! Planning uses one RNG per asset (seeded from `(seed, asset index)`), and
//! picks faulty assets by ranking a per-asset random key, so the plan has
//! exact counts and does not depend on the order assets are visited in.

use chrono::{DateTime, Utc};
use rand::rngs::StdRng;
use rand::Rng;
use serde::{Deserialize, Serialize};

use crate::config::{SimConfig, Timeline};
use crate::model::{EquipmentKind, MetricSpec, SimAsset};
use crate::signals::{asset_rng, Stream};
use crate::SimError;

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
            FaultKind::BearingWear
                | FaultKind::SealLeak
                | FaultKind::CloggedFilter
                | FaultKind::RefrigerantLoss
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
    fn growth(self) -> f64 {
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

const BEARING_TEMP: Shape = Shape::TowardLimit {
    frac: 0.7,
    start: 0.5,
};

fn effects(kind: FaultKind, model: EquipmentKind) -> &'static [(&'static str, Shape)] {
    use EquipmentKind::*;
    use FaultKind::*;
    use Shape::*;
    match (kind, model) {
        (BearingWear, CentrifugalPump) => &[
            ("vibration_rms_mm_s", ToLimit),
            ("bearing_temp_c", BEARING_TEMP),
        ],
        (BearingWear, ScrewCompressor) => &[
            ("vibration_rms_mm_s", ToLimit),
            ("discharge_temp_c", BEARING_TEMP),
        ],
        (BearingWear, Elevator) => &[
            ("vibration_rms_mm_s", ToLimit),
            ("motor_temp_c", BEARING_TEMP),
        ],
        (BearingWear, Spindle) => &[
            ("vibration_rms_mm_s", ToLimit),
            ("spindle_temp_c", BEARING_TEMP),
        ],
        (SealLeak, CentrifugalPump) => &[
            ("discharge_pressure_bar", ToLimit),
            ("flow_m3h", Relative(-0.10)),
        ],
        (CloggedFilter, CentrifugalPump) => &[("motor_current_a", ToLimit), ("flow_m3h", ToLimit)],
        (CloggedFilter, ScrewCompressor) => &[
            ("motor_current_a", ToLimit),
            ("discharge_pressure_bar", Relative(-0.08)),
        ],
        (RefrigerantLoss, Chiller) => &[
            ("suction_pressure_bar", ToLimit),
            ("supply_temp_c", ToLimit),
        ],
        _ => &[],
    }
}

/// Accelerating 0→1 curve: `(e^(k p) - 1) / (e^k - 1)` for `p` in `[0, 1]`.
fn accelerating(p: f64, k: f64) -> f64 {
    let p = p.clamp(0.0, 1.0);
    (k * p).exp_m1() / k.exp_m1()
}

/// Healthy-data warm-up before any fault, and the spans sensor faults last.
const WARMUP_HOURS: i64 = 12;
const STUCK_HOURS: (i64, i64) = (6, 24);
const DROPOUT_HOURS: (i64, i64) = (2, 12);
const SPIKE_COUNT: (usize, usize) = (3, 10);
const SPIKE_GAP_HOURS: (i64, i64) = (1, 4);

/// Tick-index window in which faults may be placed.
struct Window {
    earliest: i64,
    latest: i64,
}

impl Window {
    fn new(tl: &Timeline) -> Self {
        let warmup = tl
            .ticks_in(chrono::Duration::hours(WARMUP_HOURS), true)
            .min(tl.n_ticks / 4);
        Window {
            earliest: warmup,
            // Leave at least one full message of post-fault data.
            latest: tl.n_ticks - 1 - tl.ticks_per_message,
        }
    }

    fn span(&self) -> i64 {
        self.latest - self.earliest
    }
}

/// Decides which assets get which fault, when. Deterministic in
/// `(cfg.seed, assets)`. Exactly `round(fault_share * n)` assets get a
/// progressive fault and `round(sensor_fault_share * rest)` a sensor fault,
/// unless the run is too short to fit one. Returns no faults for an invalid
/// `cfg` ([`crate::Simulator::new`] reports that error).
pub fn plan(assets: &[SimAsset], cfg: &SimConfig) -> Vec<InjectedFault> {
    let Ok(tl) = Timeline::new(cfg) else {
        return Vec::new();
    };
    let window = Window::new(&tl);
    let n = assets.len();
    let n_progressive = (cfg.fault_share * n as f64).round() as usize;
    let n_sensor = (cfg.sensor_fault_share * (n - n_progressive.min(n)) as f64).round() as usize;

    let mut ranked: Vec<(u64, usize)> = (0..n)
        .map(|i| (asset_rng(cfg.seed, i, Stream::Rank).random(), i))
        .collect();
    ranked.sort_unstable();

    let mut planned: Vec<(usize, InjectedFault)> = ranked
        .iter()
        .take(n_progressive + n_sensor)
        .enumerate()
        .filter_map(|(rank, &(_, i))| {
            let mut rng = asset_rng(cfg.seed, i, Stream::Plan);
            let asset = &assets[i];
            let fault = if rank < n_progressive {
                plan_progressive(asset, cfg, &tl, &window, &mut rng)
            } else {
                plan_sensor(asset, &tl, &window, &mut rng)
            };
            fault.map(|f| (i, f))
        })
        .collect();
    planned.sort_by_key(|(i, _)| *i);
    planned.into_iter().map(|(_, f)| f).collect()
}

fn plan_progressive(
    asset: &SimAsset,
    cfg: &SimConfig,
    tl: &Timeline,
    window: &Window,
    rng: &mut StdRng,
) -> Option<InjectedFault> {
    if window.span() < 2 {
        return None;
    }
    let kinds = FaultKind::progressive_for(asset.model);
    let fault = kinds[rng.random_range(0..kinds.len())];
    // Leads longer than the window are not possible; draw among those that fit,
    // or (run shorter than min_lead) among the upper half of what fits.
    let hi = tl.ticks_in(cfg.max_lead, false).min(window.span());
    let lo = tl.ticks_in(cfg.min_lead, true);
    let lo = if lo <= hi { lo } else { (hi / 2).max(1) };
    let lead = rng.random_range(lo..=hi);
    let failure = rng.random_range(window.earliest + lead..=window.latest);
    Some(InjectedFault {
        asset_id: asset.id.clone(),
        model: asset.model,
        fault,
        metrics: effects(fault, asset.model)
            .iter()
            .map(|(m, _)| m.to_string())
            .collect(),
        onset: tl.time(failure - lead),
        functional_failure: Some(tl.time(failure)),
        sensor_fault_end: None,
        spike_times: Vec::new(),
    })
}

fn hours_in_ticks(tl: &Timeline, rng: &mut StdRng, (lo, hi): (i64, i64)) -> i64 {
    let lo = tl.ticks_in(chrono::Duration::hours(lo), true);
    let hi = tl.ticks_in(chrono::Duration::hours(hi), false).max(lo);
    rng.random_range(lo..=hi)
}

fn plan_sensor(
    asset: &SimAsset,
    tl: &Timeline,
    window: &Window,
    rng: &mut StdRng,
) -> Option<InjectedFault> {
    let fault = [
        FaultKind::SensorStuck,
        FaultKind::SensorDropout,
        FaultKind::SensorSpikes,
    ][rng.random_range(0..3)];
    let metrics = asset.model.metrics();
    let metric = metrics[rng.random_range(0..metrics.len())];
    let span = window.span();
    // Offsets of the faulty ticks relative to onset; the fault covers [0, len).
    let (len, spikes) = match fault {
        FaultKind::SensorSpikes => {
            let count = rng.random_range(SPIKE_COUNT.0..=SPIKE_COUNT.1);
            let mut gaps: Vec<i64> = (1..count)
                .map(|_| hours_in_ticks(tl, rng, SPIKE_GAP_HOURS))
                .collect();
            let total: i64 = gaps.iter().sum();
            if total > span {
                // Short run: squeeze the gaps, keeping spikes at least 2 ticks apart.
                let scale = span as f64 / total as f64;
                gaps.iter_mut()
                    .for_each(|g| *g = ((*g as f64 * scale) as i64).max(2));
            }
            let offsets: Vec<i64> = std::iter::once(0)
                .chain(gaps.iter().scan(0, |acc, g| {
                    *acc += g;
                    Some(*acc)
                }))
                .collect();
            let last = *offsets.last()?;
            (last + 1, offsets)
        }
        FaultKind::SensorStuck => (hours_in_ticks(tl, rng, STUCK_HOURS).min(span), Vec::new()),
        _ => (hours_in_ticks(tl, rng, DROPOUT_HOURS).min(span), Vec::new()),
    };
    if len < 1 || len > span + 1 {
        return None;
    }
    let onset = rng.random_range(window.earliest..=window.latest + 1 - len);
    Some(InjectedFault {
        asset_id: asset.id.clone(),
        model: asset.model,
        fault,
        metrics: vec![metric.to_string()],
        onset: tl.time(onset),
        functional_failure: None,
        sensor_fault_end: Some(tl.time(onset + len)),
        spike_times: spikes.iter().map(|o| tl.time(onset + o)).collect(),
    })
}

/// A fault compiled against one asset's metric table, applied tick by tick.
pub(crate) enum ActiveFault {
    Progressive {
        onset_ms: i64,
        failure_ms: i64,
        growth: f64,
        effects: Vec<(usize, Shape)>,
    },
    Stuck {
        metric: usize,
        onset_ms: i64,
        end_ms: i64,
        held: Option<f64>,
    },
    Dropout {
        metric: usize,
        onset_ms: i64,
        end_ms: i64,
    },
    Spikes {
        metric: usize,
        /// `(time, factor)` pairs still to come, in time order.
        pending: std::collections::VecDeque<(i64, f64)>,
    },
}

fn metric_index(f: &InjectedFault, name: &str) -> Result<usize, SimError> {
    f.model
        .metrics()
        .iter()
        .position(|m| *m == name)
        .ok_or_else(|| {
            SimError::Plan(format!(
                "{}: {} has no metric {name:?}",
                f.asset_id, f.model
            ))
        })
}

impl ActiveFault {
    /// Compiles `f` for the asset at `index` (the index seeds spike amplitudes).
    pub(crate) fn new(f: &InjectedFault, seed: u64, index: usize) -> Result<Self, SimError> {
        let bad = |msg: &str| SimError::Plan(format!("{} ({}): {msg}", f.asset_id, f.fault));
        let onset_ms = f.onset.timestamp_millis();
        if f.fault.is_progressive() {
            let table = effects(f.fault, f.model);
            if table.is_empty() {
                return Err(bad(&format!("not possible on a {}", f.model)));
            }
            let failure_ms = f
                .functional_failure
                .ok_or_else(|| bad("functional_failure missing"))?
                .timestamp_millis();
            if failure_ms <= onset_ms {
                return Err(bad("functional_failure must be after onset"));
            }
            let effects = table
                .iter()
                .map(|(name, shape)| Ok((metric_index(f, name)?, *shape)))
                .collect::<Result<_, SimError>>()?;
            return Ok(ActiveFault::Progressive {
                onset_ms,
                failure_ms,
                growth: f.fault.growth(),
                effects,
            });
        }
        let name = f.metrics.first().ok_or_else(|| bad("no metric given"))?;
        let metric = metric_index(f, name)?;
        if f.fault == FaultKind::SensorSpikes {
            let mut rng = asset_rng(seed, index, Stream::Spikes);
            let mut times: Vec<i64> = f.spike_times.iter().map(|t| t.timestamp_millis()).collect();
            times.sort_unstable();
            let pending = times
                .into_iter()
                .map(|t| (t, rng.random_range(3.0..=5.0)))
                .collect();
            return Ok(ActiveFault::Spikes { metric, pending });
        }
        let end_ms = f
            .sensor_fault_end
            .ok_or_else(|| bad("sensor_fault_end missing"))?
            .timestamp_millis();
        Ok(if f.fault == FaultKind::SensorStuck {
            ActiveFault::Stuck {
                metric,
                onset_ms,
                end_ms,
                held: None,
            }
        } else {
            ActiveFault::Dropout {
                metric,
                onset_ms,
                end_ms,
            }
        })
    }

    /// Output for metric `m` at `t_ms` given its clean value and noise sample;
    /// `None` means the reading is missing.
    pub(crate) fn apply(
        &mut self,
        m: usize,
        t_ms: i64,
        clean: f64,
        noise: f64,
        spec: &MetricSpec,
    ) -> Option<f64> {
        let healthy = clean + noise;
        match self {
            ActiveFault::Progressive {
                onset_ms,
                failure_ms,
                growth,
                effects,
            } => {
                let Some((_, shape)) = effects.iter().find(|(i, _)| *i == m) else {
                    return Some(healthy);
                };
                if t_ms < *onset_ms {
                    return Some(healthy);
                }
                let p = (t_ms - *onset_ms) as f64 / (*failure_ms - *onset_ms) as f64;
                Some(degraded(*shape, p, *growth, clean, noise, spec))
            }
            ActiveFault::Stuck {
                metric,
                onset_ms,
                end_ms,
                held,
            } if *metric == m => {
                if t_ms < *onset_ms {
                    *held = Some(healthy);
                    Some(healthy)
                } else if t_ms < *end_ms {
                    Some(*held.get_or_insert(healthy))
                } else {
                    Some(healthy)
                }
            }
            ActiveFault::Dropout {
                metric,
                onset_ms,
                end_ms,
            } if *metric == m && (*onset_ms..*end_ms).contains(&t_ms) => None,
            ActiveFault::Spikes { metric, pending } if *metric == m => {
                while pending.front().is_some_and(|(t, _)| *t < t_ms) {
                    pending.pop_front();
                }
                match pending.front() {
                    Some(&(t, factor)) if t == t_ms => {
                        pending.pop_front();
                        Some(clean * factor)
                    }
                    _ => Some(healthy),
                }
            }
            _ => Some(healthy),
        }
    }
}

/// Value of a degrading metric at lead fraction `p` (`p > 1` = failed).
fn degraded(shape: Shape, p: f64, growth: f64, clean: f64, noise: f64, spec: &MetricSpec) -> f64 {
    // Effects only name metrics with a failure limit (checked by a test).
    let limit = spec.failure.map_or(clean, |l| l.value);
    match shape {
        Shape::ToLimit if p > 1.0 => {
            // Failed: held just beyond the limit, never back inside it.
            let sign = spec.failure.map_or(1.0, |l| l.sign());
            limit + sign * (0.01 * limit.abs() + 0.5 * noise.abs())
        }
        Shape::ToLimit => {
            let s = accelerating(p, growth);
            // Noise shrinks as the value pins to the limit at failure.
            (1.0 - s) * clean + s * limit + (1.0 - 0.8 * s) * noise
        }
        Shape::TowardLimit { frac, start } => {
            let s = accelerating((p - start) / (1.0 - start), 2.0);
            clean + frac * s * (limit - clean) + noise
        }
        Shape::Relative(r) => clean * (1.0 + r * accelerating(p, growth)) + noise,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::synthetic_fleet;

    #[test]
    fn every_model_has_a_progressive_fault_with_limited_metrics() {
        for model in EquipmentKind::ALL {
            assert!(!FaultKind::progressive_for(model).is_empty());
            for &kind in FaultKind::progressive_for(model) {
                assert!(kind.is_progressive());
                let table = effects(kind, model);
                assert!(
                    matches!(table.first(), Some((_, Shape::ToLimit))),
                    "{kind:?}/{model}"
                );
                for (name, _) in table {
                    let spec = model.metric_spec(name).expect("metric exists");
                    assert!(
                        spec.failure.is_some(),
                        "{model}/{name} needs a failure limit"
                    );
                }
            }
        }
        assert!(!FaultKind::SensorStuck.is_progressive());
    }

    #[test]
    fn accelerating_curve_goes_from_zero_to_one() {
        assert_eq!(accelerating(0.0, 4.0), 0.0);
        assert!((accelerating(1.0, 4.0) - 1.0).abs() < 1e-12);
        assert!(accelerating(0.5, 4.0) < 0.25, "late, steep rise");
    }

    #[test]
    fn plan_has_exact_counts_and_timing_rules() {
        let assets = synthetic_fleet(200, &EquipmentKind::ALL);
        let cfg = SimConfig::default();
        let faults = plan(&assets, &cfg);
        let progressive: Vec<_> = faults.iter().filter(|f| f.fault.is_progressive()).collect();
        assert_eq!(progressive.len(), 20);
        assert_eq!(faults.len() - progressive.len(), 9); // round(0.05 * 180)
        let warm = cfg.start + chrono::Duration::hours(12);
        for f in &faults {
            let model = assets.iter().find(|a| a.id == f.asset_id).unwrap().model;
            assert_eq!(model, f.model);
            assert!(f.onset >= warm && f.onset < cfg.end());
            if let Some(ff) = f.functional_failure {
                assert!(FaultKind::progressive_for(model).contains(&f.fault));
                let lead = ff - f.onset;
                assert!(lead >= cfg.min_lead && lead <= cfg.max_lead, "{lead}");
                assert!(ff < cfg.end());
            } else {
                let end = f.sensor_fault_end.unwrap();
                assert!(end > f.onset && end <= cfg.end());
                if f.fault == FaultKind::SensorSpikes {
                    assert!((3..=10).contains(&f.spike_times.len()));
                    assert_eq!(f.spike_times[0], f.onset);
                }
            }
        }
        let mut ids: Vec<_> = faults.iter().map(|f| &f.asset_id).collect();
        ids.dedup();
        assert_eq!(ids.len(), faults.len(), "at most one fault per asset");
    }

    #[test]
    fn plan_does_not_depend_on_other_assets_order_and_fits_short_runs() {
        let assets = synthetic_fleet(50, &EquipmentKind::ALL);
        let cfg = SimConfig {
            fault_share: 0.5,
            sensor_fault_share: 0.5,
            ..SimConfig::default()
        };
        assert_eq!(plan(&assets, &cfg), plan(&assets, &cfg));
        let short = SimConfig {
            duration: chrono::Duration::hours(6),
            ..cfg.clone()
        };
        let faults = plan(&assets, &short);
        assert_eq!(faults.len(), 25 + 13);
        for f in &faults {
            let end = f.functional_failure.or(f.sensor_fault_end).unwrap();
            assert!(f.onset >= short.start + chrono::Duration::minutes(90));
            assert!(end <= short.end());
        }
        let invalid = SimConfig {
            ticks_per_message: 0,
            ..cfg
        };
        assert!(plan(&assets, &invalid).is_empty());
    }
}
