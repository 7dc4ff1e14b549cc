//! Healthy signal generation: nominal value + load cycle + noise.
//!
//! A healthy metric is `base + load_gain * load(t) + noise`, where `base` is a
//! per-asset offset drawn so that the clean signal always stays inside the
//! nominal band, `load(t)` is a smooth daily working-hours profile with a
//! slower per-asset process wobble, and the noise is Gaussian truncated at
//! [`NOISE_CLAMP`] standard deviations. Bounding every term is what lets the
//! tests assert that healthy signals never touch alarm or failure levels.
//!
//! The noise RNG is consumed for every metric on every tick, whatever faults
//! do to the output, so an asset's healthy signal is identical with or without
//! an injected fault: before onset a faulty asset is exactly its healthy twin.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use rand_distr::{Distribution, StandardNormal};

use crate::model::{EquipmentKind, MetricSpec, NOISE_CLAMP};

/// Independent per-asset random streams; a new purpose gets a new number so
/// adding randomness somewhere never shifts another stream.
#[derive(Clone, Copy)]
pub(crate) enum Stream {
    /// Ranking used to pick which assets get faults.
    Rank = 1,
    /// Fault kind, metric and timing.
    Plan = 2,
    /// Per-asset offsets and load wobble.
    Profile = 3,
    /// Measurement noise.
    Noise = 4,
    /// Spike amplitudes.
    Spikes = 5,
}

fn splitmix64(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// RNG for one asset and purpose, independent of every other asset's.
pub(crate) fn asset_rng(seed: u64, index: usize, stream: Stream) -> StdRng {
    let h = splitmix64(splitmix64(splitmix64(seed) ^ index as u64) ^ stream as u64);
    StdRng::seed_from_u64(h)
}

const HOUR_MS: f64 = 3_600_000.0;
const DAY_MS: i64 = 86_400_000;
/// Temperatures trail the load by this much (thermal inertia).
const THERMAL_LAG_MS: i64 = 40 * 60_000;
/// Share of the load that follows the working-hours profile; the rest is the
/// per-asset process wobble.
const DAILY_WEIGHT: f64 = 0.85;

/// Raised-cosine step from 0 (at `x <= 0`) to 1 (at `x >= 1`).
fn smooth_step(x: f64) -> f64 {
    let x = x.clamp(0.0, 1.0);
    0.5 - 0.5 * (std::f64::consts::PI * x).cos()
}

/// Working-hours profile in `[0, 1]`: 0 at night, 1 from 06:00 to 20:00 UTC,
/// with one-hour smooth ramps centred on those times.
pub(crate) fn daily_load(t_ms: i64) -> f64 {
    let hour = t_ms.rem_euclid(DAY_MS) as f64 / HOUR_MS;
    smooth_step(hour - 5.5) * (1.0 - smooth_step(hour - 19.5))
}

/// Per-asset clean signal parameters and noise source.
pub(crate) struct AssetSignals {
    specs: &'static [MetricSpec],
    base: Vec<f64>,
    wobble_period_ms: f64,
    wobble_phase: f64,
    noise_rng: StdRng,
}

impl AssetSignals {
    pub(crate) fn new(model: EquipmentKind, seed: u64, index: usize) -> Self {
        let specs = model.metric_specs();
        let mut rng = asset_rng(seed, index, Stream::Profile);
        let base = specs
            .iter()
            .map(|m| {
                // Keep base + gain * load inside the band for any load in [0, 1].
                let (lo, hi) = m.nominal;
                let (lo, hi) = if m.load_gain >= 0.0 { (lo, hi - m.load_gain) } else { (lo - m.load_gain, hi) };
                rng.random_range(lo..=hi)
            })
            .collect();
        AssetSignals {
            specs,
            base,
            wobble_period_ms: rng.random_range(45.0..180.0) * 60_000.0,
            wobble_phase: rng.random_range(0.0..std::f64::consts::TAU),
            noise_rng: asset_rng(seed, index, Stream::Noise),
        }
    }

    /// Load in `[0, 1]` at `t_ms`.
    fn load(&self, t_ms: i64) -> f64 {
        let wobble =
            0.5 + 0.5 * (std::f64::consts::TAU * t_ms as f64 / self.wobble_period_ms + self.wobble_phase).sin();
        DAILY_WEIGHT * daily_load(t_ms) + (1.0 - DAILY_WEIGHT) * wobble
    }

    /// Noise-free healthy value of metric `m` at `t_ms`.
    pub(crate) fn clean(&self, m: usize, t_ms: i64) -> f64 {
        let spec = &self.specs[m];
        let t = if spec.thermal { t_ms - THERMAL_LAG_MS } else { t_ms };
        self.base[m] + spec.load_gain * self.load(t)
    }

    /// Next truncated Gaussian noise sample for metric `m`.
    pub(crate) fn noise(&mut self, m: usize) -> f64 {
        let z: f64 = StandardNormal.sample(&mut self.noise_rng);
        z.clamp(-NOISE_CLAMP, NOISE_CLAMP) * self.specs[m].noise_sd
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn daily_load_is_high_in_working_hours_and_smooth() {
        let at = |h: f64| daily_load((h * HOUR_MS) as i64);
        assert_eq!(at(3.0), 0.0);
        assert_eq!(at(12.0), 1.0);
        assert_eq!(at(23.0), 0.0);
        assert!((at(6.0) - 0.5).abs() < 1e-9 && (at(20.0) - 0.5).abs() < 1e-9);
        // One-minute steps never jump by more than the ramp slope allows.
        for minute in 0..(2 * 24 * 60) {
            let t = minute * 60_000;
            assert!((daily_load(t + 60_000) - daily_load(t)).abs() < 0.03);
        }
    }

    #[test]
    fn clean_signal_stays_in_band_and_rngs_are_independent() {
        for kind in EquipmentKind::ALL {
            for index in 0..20 {
                let s = AssetSignals::new(kind, 42, index);
                for (m, spec) in kind.metric_specs().iter().enumerate() {
                    for step in 0..(24 * 12) {
                        let v = s.clean(m, step * 5 * 60_000);
                        assert!(v >= spec.nominal.0 - 1e-9 && v <= spec.nominal.1 + 1e-9);
                    }
                }
            }
        }
        let a: u64 = asset_rng(1, 0, Stream::Noise).random();
        assert_eq!(a, asset_rng(1, 0, Stream::Noise).random::<u64>());
        assert_ne!(a, asset_rng(1, 1, Stream::Noise).random::<u64>());
        assert_ne!(a, asset_rng(2, 0, Stream::Noise).random::<u64>());
        assert_ne!(a, asset_rng(1, 0, Stream::Plan).random::<u64>());
    }
}
