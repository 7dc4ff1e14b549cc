//! All detection state of one asset: a window per monitored metric and a
//! state machine per rule of its model. Pure: no I/O, no clocks but event time.

use super::detectors::{flat_for, held_beyond, hours_to_cross, median, slope_per_hour, z_score};
use super::multivariate::Hotelling;
use super::online::OnlineState;
use super::window::{Insert, MetricWindow, WindowParams};
use crate::model::{AssetId, EpochMs, FaultCode, MetricName, ModelId, Reading, RuleId, Severity, TicketKind};
use crate::rules::health::HealthFeatures;
use crate::rules::{Bound, Check, Condition, Detector, Firing, ModelRules, Rule, RuleState, Timing};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

/// A flatline needs this many identical samples before it means anything.
const FLATLINE_MIN_SAMPLES: usize = 5;
/// Raw samples attached to evidence per metric.
const EVIDENCE_SAMPLES: usize = 30;

/// One check's result: the quantity observed and whether it crossed its bound.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct CheckOutcome {
    pub metric: MetricName,
    pub detector: String,
    pub observed: f64,
    pub fired: bool,
}

/// Why a rule fired: every check's outcome and the recent window of the
/// metrics involved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    pub at: EpochMs,
    pub checks: Vec<CheckOutcome>,
    pub windows: Vec<MetricSamples>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MetricSamples {
    pub metric: MetricName,
    pub samples: Vec<(EpochMs, f64)>,
}

/// A rule that fired (or keeps firing) on an asset.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Finding {
    pub asset: AssetId,
    pub model: ModelId,
    pub rule: RuleId,
    pub fault: FaultCode,
    pub kind: TicketKind,
    pub severity: Severity,
    pub opened: bool,
    pub evidence: Evidence,
}

/// What happened to a batch's readings.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BatchCounts {
    pub accepted: u64,
    pub duplicate: u64,
    pub late: u64,
    /// Metrics no rule of the model reads.
    pub unmonitored: u64,
}

pub struct AssetDetector {
    rules: Arc<ModelRules>,
    state: AssetState,
}

/// Everything an asset's detection has learned: what a checkpoint keeps.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AssetState {
    windows: Vec<MetricWindow>,
    firing: Vec<RuleState>,
    /// One learned joint distribution per multivariate metric set, and its
    /// latest T^2 score.
    joints: Vec<(Hotelling, Option<f64>)>,
    /// Streaming degradation features per health metric set.
    healths: Vec<HealthFeatures>,
    /// Every rule's check outcomes at the latest evaluation.
    last: Vec<Vec<CheckOutcome>>,
    newest: Option<EpochMs>,
    /// Event time the outcomes were last taken as scores.
    scored_at: Option<EpochMs>,
    /// Readings that entered the windows (not duplicates, not late).
    accepted: u64,
}

impl AssetState {
    /// Readings the windows have taken since the asset was first seen.
    pub fn accepted(&self) -> u64 {
        self.accepted
    }
}

/// A saved state that does not fit the model's current rules (a metric,
/// rule or multivariate set was added or removed): the asset warms up anew.
#[derive(Debug, thiserror::Error)]
#[error("saved detection state does not fit the rules of model {0}")]
pub struct StateMismatch(pub ModelId);

/// Every check's latest outcome on one asset: the detector outputs
/// (scores, forecasts, health) that dashboards show beside the telemetry.
#[derive(Debug, Clone, PartialEq)]
pub struct AssetScores {
    pub asset: AssetId,
    pub model: ModelId,
    pub at: EpochMs,
    pub checks: Vec<(RuleId, CheckOutcome)>,
}

impl AssetDetector {
    pub fn new(rules: Arc<ModelRules>) -> Self {
        let mut windows = vec![MetricWindow::default(); rules.metrics.len()];
        for (w, _) in windows.iter_mut().zip(&rules.streaming).filter(|(_, s)| **s) {
            w.online = Some(Box::default());
        }
        for (w, _) in windows.iter_mut().zip(&rules.seasonal).filter(|(_, s)| **s) {
            w.seasonal = Some(Box::default());
        }
        let state = AssetState {
            windows,
            firing: vec![RuleState::default(); rules.rules.len()],
            joints: rules.joint_sets.iter().map(|s| (Hotelling::new(s.len()), None)).collect(),
            healths: rules.health_sets.iter().map(|s| HealthFeatures::new(s.len())).collect(),
            last: vec![Vec::new(); rules.rules.len()],
            newest: None,
            scored_at: None,
            accepted: 0,
        };
        AssetDetector { rules, state }
    }

    /// Resumes from a saved state, if it still has the shape of `rules`.
    pub fn restore(rules: Arc<ModelRules>, state: AssetState) -> Result<Self, StateMismatch> {
        let fresh = Self::new(Arc::clone(&rules));
        if fresh.shape() != Self::shape_of(&state) {
            return Err(StateMismatch(rules.model.clone()));
        }
        Ok(AssetDetector { rules, state })
    }

    /// The learned state, for a checkpoint.
    pub fn state(&self) -> &AssetState {
        &self.state
    }

    pub fn model(&self) -> &ModelId {
        &self.rules.model
    }

    fn shape(&self) -> Vec<usize> {
        Self::shape_of(&self.state)
    }

    /// Slot counts and per-slot kinds: a state of another shape would be
    /// read against the wrong metrics or rules.
    fn shape_of(s: &AssetState) -> Vec<usize> {
        let kinds = s.windows.iter().map(|w| usize::from(w.online.is_some()) + 2 * usize::from(w.seasonal.is_some()));
        let dims = s.joints.iter().map(|(h, _)| h.dim()).chain(s.healths.iter().map(HealthFeatures::dim));
        [s.windows.len(), s.firing.len(), s.joints.len(), s.healths.len(), s.last.len()]
            .into_iter()
            .chain(kinds)
            .chain(dims)
            .collect()
    }

    /// The check outcomes of rule `rule` (index in the model's rules) at the
    /// latest evaluation, and whether the rule is firing (opened, not cleared).
    pub fn last_evaluation(&self, rule: usize) -> (&[CheckOutcome], bool) {
        (&self.state.last[rule], self.state.firing[rule].is_firing())
    }

    /// The latest outcomes once `every_ms` of event time has passed since
    /// they were last taken (0 = at every evaluation).
    pub fn take_scores(&mut self, asset: &AssetId, every_ms: i64) -> Option<AssetScores> {
        let now = self.state.newest?;
        if self.state.scored_at.is_some_and(|t| now - t < every_ms) {
            return None;
        }
        self.state.scored_at = Some(now);
        let checks = self
            .rules
            .rules
            .iter()
            .zip(&self.state.last)
            .flat_map(|(rule, outcomes)| outcomes.iter().map(|o| (rule.id.clone(), o.clone())))
            .collect();
        Some(AssetScores { asset: asset.clone(), model: self.rules.model.clone(), at: now, checks })
    }

    /// Feeds one batch (any order within lateness) and evaluates the rules at
    /// the asset's newest event time.
    pub fn process(
        &mut self,
        asset: &AssetId,
        readings: &[Reading],
        p: &WindowParams,
        evidence_every: crate::model::Span,
        findings: &mut Vec<Finding>,
    ) -> BatchCounts {
        let mut counts = BatchCounts::default();
        // The raw buffer must span the longest hold a check looks for; slopes
        // and medians still use the configured window (see `recent`).
        let buffer =
            &WindowParams { window_ms: p.window_ms.max(self.rules.longest_hold.as_millis() + p.lateness_ms), ..*p };
        for r in readings {
            let Some(slot) = self.rules.metric_slot(&r.metric) else {
                counts.unmonitored += 1;
                continue;
            };
            let watermark = self.state.newest.map_or(EpochMs::MIN, |n| n - p.lateness_ms);
            match self.state.windows[slot].insert(r.ts, r.value, watermark, buffer) {
                Insert::Accepted => counts.accepted += 1,
                Insert::Duplicate => counts.duplicate += 1,
                Insert::Late => counts.late += 1,
            }
            self.state.newest = Some(self.state.newest.map_or(r.ts, |n| n.max(r.ts)));
        }
        self.state.accepted += counts.accepted;
        if let Some(now) = self.state.newest.filter(|_| counts.accepted > 0) {
            for w in &mut self.state.windows {
                w.advance(now, now - p.lateness_ms, buffer);
            }
            self.learn_sets(p);
            self.evaluate(asset, now, p, evidence_every, findings);
        }
        counts
    }

    /// Scores, then learns, each multivariate set's vector of newest values;
    /// advances each health set's features by its vector (one batch of an
    /// asset is one operating cycle for them).
    fn learn_sets(&mut self, p: &WindowParams) {
        let newest = |windows: &[MetricWindow], set: &[usize]| -> Option<Vec<f64>> {
            set.iter().map(|&s| windows[s].newest_value()).collect()
        };
        for (set, (model, score)) in self.rules.joint_sets.iter().zip(&mut self.state.joints) {
            *score = newest(&self.state.windows, set).and_then(|x| model.score_and_learn(&x, &p.joint));
        }
        for (set, state) in self.rules.health_sets.iter().zip(&mut self.state.healths) {
            if let Some(x) = newest(&self.state.windows, set) {
                state.update(&x);
            }
        }
    }

    fn evaluate(
        &mut self,
        asset: &AssetId,
        now: EpochMs,
        p: &WindowParams,
        evidence_every: crate::model::Span,
        out: &mut Vec<Finding>,
    ) {
        let rules = Arc::clone(&self.rules);
        for (i, rule) in rules.rules.iter().enumerate() {
            let mut checks = Vec::new();
            let active = self.condition(&rule.when, now, p, &mut checks);
            let timing = Timing { hold_for: rule.hold_for, clear_after: rule.clear_after, evidence_every };
            if let Some(firing) = self.state.firing[i].step(now, active, timing) {
                out.push(self.finding(asset, rule, firing, now, checks.clone()));
            }
            self.state.last[i] = checks;
        }
    }

    fn condition(&mut self, c: &Condition, now: EpochMs, p: &WindowParams, out: &mut Vec<CheckOutcome>) -> bool {
        match c {
            // Every branch is evaluated (no short-circuit) so evidence is complete.
            Condition::All(cs) => cs.iter().map(|c| self.condition(c, now, p, out)).fold(true, |a, b| a & b),
            Condition::Any(cs) => cs.iter().map(|c| self.condition(c, now, p, out)).fold(false, |a, b| a | b),
            Condition::Check(check) => {
                let outcome = self.check(check, now, p);
                let fired = outcome.as_ref().is_some_and(|o| o.fired);
                out.extend(outcome);
                fired
            }
        }
    }

    fn check(&mut self, check: &Check, now: EpochMs, p: &WindowParams) -> Option<CheckOutcome> {
        let (observed, fired) = match &check.detector {
            Detector::Multivariate { bound, metrics } => {
                let t2 = self.state.joints[self.rules.joint_set(metrics)?].1?;
                (t2, bound.breached_by(t2))
            }
            Detector::Health { bound, metrics, model } => {
                let features = self.state.healths[self.rules.health_set(metrics)?].features()?;
                let hi = model.net.index(&features);
                (hi, bound.breached_by(hi))
            }
            d => observe(&mut self.state.windows[self.rules.metric_slot(&check.metric)?], d, now, p)?,
        };
        Some(CheckOutcome { metric: check.metric.clone(), detector: check.detector.name().into(), observed, fired })
    }

    fn finding(
        &mut self,
        asset: &AssetId,
        rule: &Rule,
        firing: Firing,
        now: EpochMs,
        checks: Vec<CheckOutcome>,
    ) -> Finding {
        let mut metrics: Vec<MetricName> = checks.iter().map(|c| c.metric.clone()).collect();
        metrics.sort();
        metrics.dedup();
        let windows = metrics
            .into_iter()
            .filter_map(|m| {
                let (ts, vs) = self.state.windows[self.rules.metric_slot(&m)?].samples();
                let skip = ts.len().saturating_sub(EVIDENCE_SAMPLES);
                Some(MetricSamples {
                    metric: m,
                    samples: ts[skip..].iter().copied().zip(vs[skip..].iter().copied()).collect(),
                })
            })
            .collect();
        Finding {
            asset: asset.clone(),
            model: self.rules.model.clone(),
            rule: rule.id.clone(),
            fault: rule.fault.clone(),
            kind: rule.kind,
            severity: rule.severity,
            opened: firing == Firing::Opened,
            evidence: Evidence { at: now, checks, windows },
        }
    }
}

/// The samples of the configured window only: the buffer may be longer so
/// that long holds can be seen, but slopes and medians keep their span.
fn recent(w: &mut MetricWindow, now: EpochMs, window_ms: i64) -> (&[EpochMs], &[f64]) {
    let (ts, vs) = w.samples();
    let from = ts.partition_point(|&t| t < now - window_ms);
    (&ts[from..], &vs[from..])
}

/// Runs one detector on one metric window: `(observed quantity, fired)`, or
/// `None` while there is not enough data to say.
fn observe(w: &mut MetricWindow, d: &Detector, now: EpochMs, p: &WindowParams) -> Option<(f64, bool)> {
    const MS_PER_HOUR: f64 = 3_600_000.0;
    match *d {
        Detector::Threshold { bound, held } => {
            let (ts, vs) = w.samples();
            let run = held_beyond(ts, vs, |v| bound.breached_by(v));
            let value = *vs.last()?;
            Some((value, run.is_some_and(|r| r >= held.as_millis())))
        }
        Detector::Rate { bound } => {
            let (ts, vs) = recent(w, now, p.window_ms);
            let slope = slope_per_hour(ts, vs)?;
            Some((slope, bound.breached_by(slope)))
        }
        Detector::Baseline { bound } => {
            let base = w.baseline;
            if !base.is_warm(p) {
                return None;
            }
            let z = z_score(median(recent(w, now, p.window_ms).1)?, base.mean, base.std());
            Some((z, bound.breached_by(z)))
        }
        Detector::Stale { after } => {
            let gap = now - w.last_seen()?;
            Some((gap as f64 / MS_PER_HOUR, gap >= after.as_millis()))
        }
        Detector::Flatline { held } => {
            let (ts, vs) = w.samples();
            let flat = flat_for(ts, vs, FLATLINE_MIN_SAMPLES).unwrap_or(0);
            Some((flat as f64 / MS_PER_HOUR, flat >= held.as_millis()))
        }
        Detector::Forecast { bound, horizon, fit } => {
            let points = w.trend_points(now - fit.as_millis(), p);
            let rising = matches!(bound, Bound::Above(_));
            let hours = hours_to_cross(&points, now, bound.limit(), rising)?;
            Some((hours, hours <= horizon.as_hours_f64()))
        }
        Detector::Anomaly { bound } => {
            let score = w.online.as_ref()?.anomaly_score(&p.online)?;
            Some((score, bound.unwrap_or(Bound::Above(p.anomaly_threshold)).breached_by(score)))
        }
        Detector::Robust { bound } => streaming(w.online.as_deref(), bound, |o| o.z),
        Detector::Cusum { bound } => streaming(w.online.as_deref(), bound, |o| o.cusum.statistic()),
        Detector::Seasonal { bound } => {
            let base = w.seasonal.as_ref()?.at(now, p)?;
            let z = z_score(median(recent(w, now, p.window_ms).1)?, base.mean, base.std());
            Some((z, bound.breached_by(z)))
        }
        // Read several windows; evaluated by `AssetDetector::check`.
        Detector::Multivariate { .. } | Detector::Health { .. } => None,
    }
}

/// A streaming statistic, once the robust reference is established.
fn streaming(o: Option<&OnlineState>, bound: Bound, stat: impl Fn(&OnlineState) -> f64) -> Option<(f64, bool)> {
    let o = o.filter(|o| o.reference.is_some())?;
    let v = stat(o);
    Some((v, bound.breached_by(v)))
}

#[cfg(test)]
mod tests;
