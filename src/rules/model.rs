//! Validated rule objects, built by the loader from the raw file contents.

use super::health::HealthNet;
use crate::model::{FaultCode, MetricName, ModelId, PartNumber, RuleId, Severity, SkillName, Span, TicketKind};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// Which side of a limit counts as abnormal.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Bound {
    Above(f64),
    Below(f64),
}

impl Bound {
    pub fn limit(self) -> f64 {
        match self {
            Bound::Above(l) | Bound::Below(l) => l,
        }
    }

    /// Whether `value` is on the abnormal side of the limit.
    pub fn breached_by(self, value: f64) -> bool {
        match self {
            Bound::Above(l) => value > l,
            Bound::Below(l) => value < l,
        }
    }
}

/// One detector applied to one metric; what `above`/`below` compare depends on
/// the detector (the value, the slope per hour, the z-score, the forecast limit).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "detector", rename_all = "snake_case")]
pub enum Detector {
    /// The value stays beyond the bound for at least `held`.
    Threshold { bound: Bound, held: Span },
    /// Least-squares slope over the window, in units per hour.
    Rate { bound: Bound },
    /// Deviation of the window median from the asset's learned baseline, in sigmas.
    Baseline { bound: Bound },
    /// No reading of the metric for `after` while the asset keeps reporting.
    Stale { after: Span },
    /// The value does not change at all for `held` (a stuck sensor).
    Flatline { held: Span },
    /// The trend over the last `fit` reaches the bound within `horizon`.
    Forecast { bound: Bound, horizon: Span, fit: Span },
    /// The streaming anomaly score in [0, 1) (point deviation or accumulated
    /// shift); without a bound, above `detect.anomaly_threshold` from config.
    Anomaly { bound: Option<Bound> },
    /// The newest sample's deviation from the median of recent samples, in
    /// robust sigmas (MAD), signed.
    Robust { bound: Bound },
    /// The two-sided CUSUM statistic of robust residuals, in sigmas.
    Cusum { bound: Bound },
    /// Deviation of the window median from the baseline of the same hour of
    /// day, in sigmas.
    Seasonal { bound: Bound },
    /// Hotelling's T^2 per dimension of the listed metrics' newest values
    /// against their learned joint distribution (about 1 when normal).
    Multivariate { bound: Bound, metrics: Vec<MetricName> },
    /// A health index read by a fitted model from streaming degradation
    /// features of the listed metrics: 1 healthy, 0 at end of life (see
    /// `rules::health` and `upkeep eval cmapss`).
    Health { bound: Bound, metrics: Vec<MetricName>, model: HealthModelFile },
}

impl Detector {
    /// Metrics the detector reads besides its check's own metric.
    pub fn extra_metrics(&self) -> &[MetricName] {
        match self {
            Detector::Multivariate { metrics, .. } | Detector::Health { metrics, .. } => metrics,
            _ => &[],
        }
    }

    /// Whether the detector needs the per-sample streaming statistics.
    pub fn is_streaming(&self) -> bool {
        matches!(self, Detector::Anomaly { .. } | Detector::Robust { .. } | Detector::Cusum { .. })
    }

    /// The limit the detector's observed quantity is compared with; `None`
    /// for detectors bounded by a duration (and for `anomaly` without one).
    pub fn bound(&self) -> Option<Bound> {
        match self {
            Detector::Threshold { bound, .. }
            | Detector::Rate { bound }
            | Detector::Baseline { bound }
            | Detector::Forecast { bound, .. }
            | Detector::Robust { bound }
            | Detector::Cusum { bound }
            | Detector::Seasonal { bound }
            | Detector::Multivariate { bound, .. }
            | Detector::Health { bound, .. } => Some(*bound),
            Detector::Anomaly { bound } => *bound,
            Detector::Stale { .. } | Detector::Flatline { .. } => None,
        }
    }

    pub fn name(&self) -> &'static str {
        match self {
            Detector::Threshold { .. } => "threshold",
            Detector::Rate { .. } => "rate",
            Detector::Baseline { .. } => "baseline",
            Detector::Stale { .. } => "stale",
            Detector::Flatline { .. } => "flatline",
            Detector::Forecast { .. } => "forecast",
            Detector::Anomaly { .. } => "anomaly",
            Detector::Robust { .. } => "robust",
            Detector::Cusum { .. } => "cusum",
            Detector::Seasonal { .. } => "seasonal",
            Detector::Multivariate { .. } => "multivariate",
            Detector::Health { .. } => "health",
        }
    }
}

/// A fitted health model, loaded from a file named relative to its rule file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HealthModelFile {
    /// The file as the rule names it.
    pub file: String,
    #[serde(skip)]
    pub net: Arc<HealthNet>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Check {
    pub metric: MetricName,
    #[serde(flatten)]
    pub detector: Detector,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Condition {
    All(Vec<Condition>),
    Any(Vec<Condition>),
    Check(Check),
}

impl Condition {
    /// Every check in the tree, depth first.
    pub fn checks(&self) -> Vec<&Check> {
        match self {
            Condition::Check(c) => vec![c],
            Condition::All(cs) | Condition::Any(cs) => cs.iter().flat_map(Condition::checks).collect(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PartRef {
    pub part: PartNumber,
    pub qty: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rule {
    pub id: RuleId,
    pub fault: FaultCode,
    pub kind: TicketKind,
    pub severity: Severity,
    pub description: String,
    /// The description in other languages, by tag (`zh-CN`).
    pub translations: BTreeMap<String, String>,
    /// A fault of a core component: in warranty and within the first year
    /// after installation the unit is exchanged, not repaired.
    pub core: bool,
    /// The condition must hold this long (event time) before the rule fires.
    pub hold_for: Span,
    /// Once firing, the condition must stay false this long before the rule clears.
    pub clear_after: Span,
    pub skills: BTreeMap<SkillName, u8>,
    pub parts: Vec<PartRef>,
    pub when: Condition,
}

/// The rules of one equipment model, with the metrics they read.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelRules {
    pub model: ModelId,
    /// Prefix of generated asset ids of this model (e.g. `PMP`).
    pub asset_prefix: String,
    pub rules: Vec<Rule>,
    /// Metrics referenced by any rule; detection keeps state for these only.
    pub metrics: Vec<MetricName>,
    /// The longest `held` of any check: raw windows must span at least this.
    pub longest_hold: Span,
    /// Metric slots whose checks need per-sample streaming statistics.
    pub streaming: Vec<bool>,
    /// Metric slots read by `seasonal` checks (hour-of-day baselines).
    pub seasonal: Vec<bool>,
    /// Distinct metric lists of multivariate checks, as metric slots; each
    /// gets one learned joint distribution per asset.
    pub joint_sets: Vec<Vec<usize>>,
    /// Distinct metric lists of health checks, as metric slots; each gets
    /// one streaming feature state per asset.
    pub health_sets: Vec<Vec<usize>>,
}

impl ModelRules {
    pub fn new(model: ModelId, asset_prefix: String, rules: Vec<Rule>) -> Self {
        let checks = || rules.iter().flat_map(|r| r.when.checks());
        let mut metrics: Vec<MetricName> =
            checks().flat_map(|c| std::iter::once(&c.metric).chain(c.detector.extra_metrics())).cloned().collect();
        metrics.sort();
        metrics.dedup();
        let slot = |m: &MetricName| metrics.binary_search(m).unwrap_or_default();
        let flagged = |wanted: fn(&Detector) -> bool| {
            let mut flags = vec![false; metrics.len()];
            checks().filter(|c| wanted(&c.detector)).for_each(|c| flags[slot(&c.metric)] = true);
            flags
        };
        let streaming = flagged(Detector::is_streaming);
        let seasonal = flagged(|d| matches!(d, Detector::Seasonal { .. }));
        let sets = |wanted: fn(&Detector) -> bool| {
            let mut sets: Vec<Vec<usize>> = Vec::new();
            for c in checks().filter(|c| wanted(&c.detector)) {
                let set: Vec<usize> = c.detector.extra_metrics().iter().map(slot).collect();
                if !sets.contains(&set) {
                    sets.push(set);
                }
            }
            sets
        };
        let joint_sets = sets(|d| matches!(d, Detector::Multivariate { .. }));
        let health_sets = sets(|d| matches!(d, Detector::Health { .. }));
        let longest_hold = checks()
            .map(|c| match c.detector {
                Detector::Threshold { held, .. } | Detector::Flatline { held } => held,
                _ => Span(0),
            })
            .max()
            .unwrap_or_default();
        ModelRules { model, asset_prefix, rules, metrics, longest_hold, streaming, seasonal, joint_sets, health_sets }
    }

    /// Index into `joint_sets` of a multivariate check's metric list
    /// (called per evaluation: compares in place, allocates nothing).
    pub fn joint_set(&self, metrics: &[MetricName]) -> Option<usize> {
        self.find_set(&self.joint_sets, metrics)
    }

    /// Index into `health_sets` of a health check's metric list.
    pub fn health_set(&self, metrics: &[MetricName]) -> Option<usize> {
        self.find_set(&self.health_sets, metrics)
    }

    fn find_set(&self, sets: &[Vec<usize>], metrics: &[MetricName]) -> Option<usize> {
        sets.iter().position(|set| {
            set.len() == metrics.len() && set.iter().zip(metrics).all(|(&slot, m)| self.metrics[slot] == *m)
        })
    }

    /// Index of the rule with id `id` in `rules`.
    pub fn rule_index(&self, id: &str) -> Option<usize> {
        self.rules.iter().position(|r| r.id.as_str() == id)
    }

    pub fn metric_slot(&self, metric: &MetricName) -> Option<usize> {
        self.metrics.binary_search(metric).ok()
    }
}

/// All loaded rules, by equipment model.
#[derive(Debug, Clone, Default)]
pub struct RuleSet {
    pub models: HashMap<ModelId, Arc<ModelRules>>,
}

impl RuleSet {
    pub fn for_model(&self, model: &ModelId) -> Option<&Arc<ModelRules>> {
        self.models.get(model)
    }

    /// Rule `id` of `model`, unless either is gone (rules reloaded since).
    pub fn rule(&self, model: &ModelId, id: &RuleId) -> Option<&Rule> {
        self.for_model(model)?.rules.iter().find(|r| &r.id == id)
    }

    pub fn rule_count(&self) -> usize {
        self.models.values().map(|m| m.rules.len()).sum()
    }

    /// Models sorted by name, for stable output.
    pub fn sorted_models(&self) -> Vec<&ModelRules> {
        let mut v: Vec<&ModelRules> = self.models.values().map(|m| m.as_ref()).collect();
        v.sort_by(|a, b| a.model.cmp(&b.model));
        v
    }
}
