//! The simulator: a lazy iterator of wire messages in event-time order.
//!
//! Messages are produced batch by batch (`ticks_per_message` ticks), asset by
//! asset, straight from per-asset state, so memory is proportional to the
//! number of assets and never to the simulated duration. All assets share the
//! tick grid, so message `last_ts_ms` is non-decreasing.

use std::collections::BTreeMap;

use crate::config::{SimConfig, Timeline};
use crate::faults::{effect_metrics, InjectedFault};
use crate::fleet::SimAsset;
use crate::inject::ActiveFault;
use crate::malformed::{corrupt, MalformedKind};
use crate::model::MetricSpec;
use crate::plan::plan;
use crate::signals::AssetSignals;
use crate::{GroundTruth, SimError};

/// One published message.
#[derive(Debug, Clone, PartialEq)]
pub struct Message {
    /// Asset the message claims to be from (a fake id for `unknown_asset`).
    pub asset_id: String,
    /// Last topic level; the topic is `{topic_prefix}/{topic_suffix}`.
    pub topic_suffix: String,
    /// JSON payload (see the wire contract in the README).
    pub payload: Vec<u8>,
    /// Valid readings in the payload; 0 for malformed messages.
    pub readings: usize,
    /// Event time of the last tick the message covers, epoch ms.
    pub last_ts_ms: i64,
    /// Set when this message was deliberately corrupted.
    pub malformed: Option<MalformedKind>,
}

impl Message {
    /// Full MQTT topic under `prefix`.
    pub fn topic(&self, prefix: &str) -> String {
        format!("{}/{}", prefix.trim_end_matches('/'), self.topic_suffix)
    }
}

/// One reading before encoding.
#[derive(Debug, Clone)]
pub(crate) struct Reading {
    pub ts: i64,
    pub metric: &'static str,
    pub value: f64,
}

/// Encodes a wire payload. Hand-written rather than serde-derived: this is
/// the hot path of load runs, and std's number formatting (shortest
/// round-trip floats) stays fast even in unoptimised dev builds.
fn encode(json_id: &str, readings: &[Reading]) -> Vec<u8> {
    use std::fmt::Write;
    let mut out = String::with_capacity(32 + json_id.len() + readings.len() * 64);
    out.push_str("{\"asset_id\":");
    out.push_str(json_id);
    out.push_str(",\"readings\":[");
    for (i, r) in readings.iter().enumerate() {
        let sep = if i == 0 { "" } else { "," };
        // Writing to a String cannot fail; metric names are plain ASCII.
        let _ = write!(out, "{sep}{{\"ts\":{},\"metric\":\"{}\",\"value\":{}}}", r.ts, r.metric, r.value);
    }
    out.push_str("]}");
    out.into_bytes()
}

struct AssetState {
    id: String,
    /// `id` as a JSON string literal (quoted, escaped), encoded once.
    json_id: String,
    specs: &'static [MetricSpec],
    signals: AssetSignals,
    fault: Option<ActiveFault>,
}

/// Generates the fleet's messages lazily; see the module docs.
pub struct Simulator {
    cfg: SimConfig,
    timeline: Timeline,
    assets: Vec<AssetState>,
    faults: Vec<InjectedFault>,
    /// First tick of the batch being emitted.
    batch_tick: i64,
    /// Next asset within the batch.
    next_asset: usize,
    emitted: u64,
    malformed: BTreeMap<MalformedKind, u64>,
    scratch: Vec<Reading>,
}

fn round3(v: f64) -> f64 {
    (v * 1000.0).round() / 1000.0
}

impl Simulator {
    /// Simulates `assets` with the fault plan [`plan`] draws from `cfg`.
    pub fn new(assets: &[SimAsset], cfg: &SimConfig) -> Result<Self, SimError> {
        cfg.validate()?;
        Self::with_faults(assets, cfg, plan(assets, cfg))
    }

    /// Simulates `assets` with an explicit fault list (e.g. a hand-written
    /// scenario); at most one fault per asset, suitable for its model. For
    /// progressive faults `metrics` is filled in from the fault catalogue.
    pub fn with_faults(assets: &[SimAsset], cfg: &SimConfig, mut faults: Vec<InjectedFault>) -> Result<Self, SimError> {
        let timeline = Timeline::new(cfg)?;
        let mut states: Vec<AssetState> = assets
            .iter()
            .enumerate()
            .map(|(i, a)| {
                if a.id.is_empty() || a.id.contains(['/', '+', '#']) {
                    return Err(SimError::Fleet(format!("asset id {:?} is not a valid topic level", a.id)));
                }
                Ok(AssetState {
                    id: a.id.clone(),
                    json_id: serde_json::Value::from(a.id.as_str()).to_string(),
                    specs: a.model.metric_specs(),
                    signals: AssetSignals::new(a.model, cfg.seed, i),
                    fault: None,
                })
            })
            .collect::<Result<_, _>>()?;
        let index: BTreeMap<&str, usize> = assets.iter().enumerate().map(|(i, a)| (a.id.as_str(), i)).collect();
        if index.len() != assets.len() {
            return Err(SimError::Fleet("duplicate asset ids".into()));
        }
        for f in &mut faults {
            if f.fault.is_progressive() {
                f.metrics = effect_metrics(f.fault, f.model);
            }
            let &i = index
                .get(f.asset_id.as_str())
                .ok_or_else(|| SimError::Plan(format!("unknown asset {:?}", f.asset_id)))?;
            if assets[i].model != f.model {
                return Err(SimError::Plan(format!("{} is a {}, not a {}", f.asset_id, assets[i].model, f.model)));
            }
            if states[i].fault.is_some() {
                return Err(SimError::Plan(format!("{} has more than one fault", f.asset_id)));
            }
            states[i].fault = Some(ActiveFault::new(f, cfg.seed, i)?);
        }
        Ok(Simulator {
            cfg: cfg.clone(),
            timeline,
            assets: states,
            faults,
            batch_tick: 0,
            next_asset: 0,
            emitted: 0,
            malformed: BTreeMap::new(),
            scratch: Vec::new(),
        })
    }

    /// The configuration this simulator runs.
    pub fn config(&self) -> &SimConfig {
        &self.cfg
    }

    /// The injected faults, in fleet order.
    pub fn faults(&self) -> &[InjectedFault] {
        &self.faults
    }

    /// Total number of messages a full iteration yields.
    pub fn total_messages(&self) -> u64 {
        let tl = &self.timeline;
        let batches = (tl.n_ticks + tl.ticks_per_message - 1) / tl.ticks_per_message;
        batches as u64 * self.assets.len() as u64
    }

    /// Ground truth; `malformed_sent` counts the malformed messages yielded so far
    /// (complete once the iterator is exhausted).
    pub fn truth(&self) -> GroundTruth {
        GroundTruth {
            seed: self.cfg.seed,
            start: self.cfg.start,
            end: self.cfg.end(),
            assets: self.assets.len(),
            faults: self.faults.clone(),
            malformed_sent: self.malformed.iter().map(|(k, n)| (k.as_str().to_string(), *n)).collect(),
        }
    }

    /// An endless stream: after each simulated period the next one starts
    /// where it ended (seed + 1, fresh fault plan), so event time keeps
    /// moving forward. For load tests bounded by wall time.
    pub fn looping(assets: &[SimAsset], cfg: &SimConfig) -> Result<impl Iterator<Item = Message>, SimError> {
        let first = Simulator::new(assets, cfg)?;
        let assets = assets.to_vec();
        let mut current = Some(first);
        Ok(std::iter::from_fn(move || loop {
            let sim = current.as_mut()?;
            if let Some(msg) = sim.next() {
                return Some(msg);
            }
            let mut cfg = sim.cfg.clone();
            cfg.start = cfg.end();
            cfg.seed = cfg.seed.wrapping_add(1);
            // Same shape as a config that already validated, so this cannot fail;
            // if it somehow did, the stream ends.
            current = Simulator::new(&assets, &cfg).ok();
        }))
    }

    /// Fills `scratch` with one asset's readings for the current batch.
    fn fill_readings(&mut self, asset: usize, end_tick: i64) {
        self.scratch.clear();
        let state = &mut self.assets[asset];
        for tick in self.batch_tick..end_tick {
            let t = self.timeline.tick_ms(tick);
            for (m, spec) in state.specs.iter().enumerate() {
                let clean = state.signals.clean(m, t);
                let noise = state.signals.noise(m);
                let value = match &mut state.fault {
                    Some(fault) => fault.apply(m, t, clean, noise, spec),
                    None => Some(clean + noise),
                };
                if let Some(v) = value {
                    self.scratch.push(Reading { ts: t, metric: spec.name, value: round3(v) });
                }
            }
        }
    }

    fn malformed_kind(&self) -> Option<MalformedKind> {
        let every = self.cfg.malformed_every?;
        (self.emitted % every == 0).then(|| {
            let k = (self.emitted / every - 1) % MalformedKind::ALL.len() as u64;
            MalformedKind::ALL[k as usize]
        })
    }
}

impl Iterator for Simulator {
    type Item = Message;

    fn next(&mut self) -> Option<Message> {
        if self.assets.is_empty() {
            return None;
        }
        if self.next_asset == self.assets.len() {
            self.next_asset = 0;
            self.batch_tick += self.timeline.ticks_per_message;
        }
        if self.batch_tick >= self.timeline.n_ticks {
            return None;
        }
        let asset = self.next_asset;
        self.next_asset += 1;
        let end_tick = (self.batch_tick + self.timeline.ticks_per_message).min(self.timeline.n_ticks);
        self.fill_readings(asset, end_tick);
        self.emitted += 1;
        let id = &self.assets[asset].id;
        let last_ts_ms = self.timeline.tick_ms(end_tick - 1);

        if let Some(kind) = self.malformed_kind() {
            let count = self.malformed.entry(kind).or_default();
            let (claimed_id, payload) = corrupt(kind, *count, id, &self.scratch);
            *count += 1;
            return Some(Message {
                asset_id: claimed_id.clone(),
                topic_suffix: claimed_id,
                payload,
                readings: 0,
                last_ts_ms,
                malformed: Some(kind),
            });
        }
        let payload = encode(&self.assets[asset].json_id, &self.scratch);
        Some(Message {
            asset_id: id.clone(),
            topic_suffix: id.clone(),
            payload,
            readings: self.scratch.len(),
            last_ts_ms,
            malformed: None,
        })
    }
}

#[cfg(test)]
mod tests;
