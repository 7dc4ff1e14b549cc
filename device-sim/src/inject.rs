//! Applying a planned fault to an asset's signals, tick by tick.
//!
//! Each sample starts as the healthy value (clean signal + noise); the active
//! fault then bends, freezes, drops or spikes it. The shapes are chosen so
//! the ground truth is exact: a progressive fault's primary metrics equal
//! their failure limits at `functional_failure` (noise fades out as they pin
//! to it) and stay beyond them afterwards.

use std::collections::VecDeque;

use rand::Rng;

use crate::faults::{effects, FaultKind, InjectedFault, Shape};
use crate::model::MetricSpec;
use crate::signals::{asset_rng, Stream};
use crate::SimError;

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
        pending: VecDeque<(i64, f64)>,
    },
}

fn metric_index(f: &InjectedFault, name: &str) -> Result<usize, SimError> {
    f.model
        .metrics()
        .iter()
        .position(|m| *m == name)
        .ok_or_else(|| SimError::Plan(format!("{}: {} has no metric {name:?}", f.asset_id, f.model)))
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
            let failure_ms = f.functional_failure.ok_or_else(|| bad("functional_failure missing"))?.timestamp_millis();
            if failure_ms <= onset_ms {
                return Err(bad("functional_failure must be after onset"));
            }
            let effects = table
                .iter()
                .map(|(name, shape)| Ok((metric_index(f, name)?, *shape)))
                .collect::<Result<_, SimError>>()?;
            return Ok(ActiveFault::Progressive { onset_ms, failure_ms, growth: f.fault.growth(), effects });
        }
        let name = f.metrics.first().ok_or_else(|| bad("no metric given"))?;
        let metric = metric_index(f, name)?;
        if f.fault == FaultKind::SensorSpikes {
            let mut rng = asset_rng(seed, index, Stream::Spikes);
            let mut times: Vec<i64> = f.spike_times.iter().map(|t| t.timestamp_millis()).collect();
            times.sort_unstable();
            let pending = times.into_iter().map(|t| (t, rng.random_range(3.0..=5.0))).collect();
            return Ok(ActiveFault::Spikes { metric, pending });
        }
        let end_ms = f.sensor_fault_end.ok_or_else(|| bad("sensor_fault_end missing"))?.timestamp_millis();
        Ok(if f.fault == FaultKind::SensorStuck {
            ActiveFault::Stuck { metric, onset_ms, end_ms, held: None }
        } else {
            ActiveFault::Dropout { metric, onset_ms, end_ms }
        })
    }

    /// Output for metric `m` at `t_ms` given its clean value and noise sample;
    /// `None` means the reading is missing.
    pub(crate) fn apply(&mut self, m: usize, t_ms: i64, clean: f64, noise: f64, spec: &MetricSpec) -> Option<f64> {
        let healthy = clean + noise;
        match self {
            ActiveFault::Progressive { onset_ms, failure_ms, growth, effects } => {
                let Some((_, shape)) = effects.iter().find(|(i, _)| *i == m) else {
                    return Some(healthy);
                };
                if t_ms < *onset_ms {
                    return Some(healthy);
                }
                let p = (t_ms - *onset_ms) as f64 / (*failure_ms - *onset_ms) as f64;
                Some(degraded(*shape, p, *growth, clean, noise, spec))
            }
            ActiveFault::Stuck { metric, onset_ms, end_ms, held } if *metric == m => {
                if t_ms < *onset_ms {
                    *held = Some(healthy);
                    Some(healthy)
                } else if t_ms < *end_ms {
                    Some(*held.get_or_insert(healthy))
                } else {
                    Some(healthy)
                }
            }
            ActiveFault::Dropout { metric, onset_ms, end_ms }
                if *metric == m && (*onset_ms..*end_ms).contains(&t_ms) =>
            {
                None
            }
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

/// Accelerating 0→1 curve: `(e^(k p) - 1) / (e^k - 1)` for `p` in `[0, 1]`.
fn accelerating(p: f64, k: f64) -> f64 {
    let p = p.clamp(0.0, 1.0);
    (k * p).exp_m1() / k.exp_m1()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accelerating_curve_goes_from_zero_to_one() {
        assert_eq!(accelerating(0.0, 4.0), 0.0);
        assert!((accelerating(1.0, 4.0) - 1.0).abs() < 1e-12);
        assert!(accelerating(0.5, 4.0) < 0.25, "late, steep rise");
    }
}
