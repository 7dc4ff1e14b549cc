//! Fault planning: which assets get which fault, and when.
//!
//! Planning uses one RNG per asset (seeded from `(seed, asset index)`) and
//! picks faulty assets by ranking a per-asset random key, so the plan has
//! exact counts and an asset's fault never depends on the order assets are
//! visited in. All times sit on the sample grid.

use rand::rngs::StdRng;
use rand::Rng;

use crate::config::{SimConfig, Timeline};
use crate::faults::{effect_metrics, FaultKind, InjectedFault};
use crate::fleet::SimAsset;
use crate::signals::{asset_rng, Stream};

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
    fn new(tl: &Timeline, cfg: &SimConfig) -> Self {
        let warmup = tl.ticks_in(chrono::Duration::hours(WARMUP_HOURS), true).min(tl.n_ticks / 4);
        // Leave at least one full message of post-fault data.
        let latest = tl.n_ticks - 1 - tl.ticks_per_message;
        match cfg.fault_window {
            Some((from, to)) => {
                Window { earliest: warmup.max(tl.tick_at(from)), latest: latest.min(tl.tick_at(to) - 1) }
            }
            None => Window { earliest: warmup, latest },
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
    let window = Window::new(&tl, cfg);
    let n = assets.len();
    let n_progressive = (cfg.fault_share * n as f64).round() as usize;
    let n_sensor = (cfg.sensor_fault_share * (n - n_progressive.min(n)) as f64).round() as usize;

    let mut ranked: Vec<(u64, usize)> = (0..n).map(|i| (asset_rng(cfg.seed, i, Stream::Rank).random(), i)).collect();
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
        metrics: effect_metrics(fault, asset.model),
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

fn plan_sensor(asset: &SimAsset, tl: &Timeline, window: &Window, rng: &mut StdRng) -> Option<InjectedFault> {
    let fault = [FaultKind::SensorStuck, FaultKind::SensorDropout, FaultKind::SensorSpikes][rng.random_range(0..3)];
    let metrics = asset.model.metrics();
    let metric = metrics[rng.random_range(0..metrics.len())];
    let span = window.span();
    // Offsets of the faulty ticks relative to onset; the fault covers [0, len).
    let (len, spikes) = match fault {
        FaultKind::SensorSpikes => {
            let count = rng.random_range(SPIKE_COUNT.0..=SPIKE_COUNT.1);
            let mut gaps: Vec<i64> = (1..count).map(|_| hours_in_ticks(tl, rng, SPIKE_GAP_HOURS)).collect();
            let total: i64 = gaps.iter().sum();
            if total > span {
                // Short run: squeeze the gaps, keeping spikes at least 2 ticks apart.
                let scale = span as f64 / total as f64;
                gaps.iter_mut().for_each(|g| *g = ((*g as f64 * scale) as i64).max(2));
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{synthetic_fleet, EquipmentKind};

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
    fn plan_is_deterministic_and_fits_short_runs() {
        let assets = synthetic_fleet(50, &EquipmentKind::ALL);
        let cfg = SimConfig { fault_share: 0.5, sensor_fault_share: 0.5, ..SimConfig::default() };
        assert_eq!(plan(&assets, &cfg), plan(&assets, &cfg));
        let short = SimConfig { duration: chrono::Duration::hours(6), ..cfg.clone() };
        let faults = plan(&assets, &short);
        assert_eq!(faults.len(), 25 + 13);
        for f in &faults {
            let end = f.functional_failure.or(f.sensor_fault_end).unwrap();
            assert!(f.onset >= short.start + chrono::Duration::minutes(90));
            assert!(end <= short.end());
        }
        let invalid = SimConfig { ticks_per_message: 0, ..cfg };
        assert!(plan(&assets, &invalid).is_empty());
    }

    #[test]
    fn a_fault_window_holds_every_fault() {
        let assets = synthetic_fleet(100, &EquipmentKind::ALL);
        let base = SimConfig { fault_share: 0.3, sensor_fault_share: 0.3, ..SimConfig::default() };
        let (from, to) = (base.start + chrono::Duration::hours(50), base.start + chrono::Duration::hours(56));
        let cfg = SimConfig { fault_window: Some((from, to)), ..base.clone() };
        let faults = plan(&assets, &cfg);
        assert_eq!(faults.len(), 30 + 21);
        for f in &faults {
            assert!(f.onset >= from && f.onset < to, "{f:?}");
            let end = f.functional_failure.or(f.sensor_fault_end).unwrap();
            assert!(end <= to, "{f:?}");
        }
        let after_the_run =
            SimConfig { fault_window: Some((base.end(), base.end() + chrono::Duration::days(1))), ..base };
        assert!(plan(&assets, &after_the_run).is_empty());
    }
}
