//! Drives the live per-asset detection code (`AssetDetector`: windows,
//! detectors, rule state machines) with rows from a file, in event time and
//! without a broker. One `Replay` is one asset.

use std::sync::Arc;
use upkeep::detect::{AssetDetector, Finding, WindowParams};
use upkeep::model::{AssetId, EpochMs, MetricName, Reading, Span};
use upkeep::rules::ModelRules;

/// What the engine said after one row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RuleView {
    /// The rule's first check's observed quantity, once it has one.
    pub observed: Option<f64>,
    /// Opened (a ticket would exist) and not cleared.
    pub firing: bool,
    /// Opened at this row: the engine would open a ticket now.
    pub opened: bool,
}

pub struct Replay {
    rules: Arc<ModelRules>,
    detector: AssetDetector,
    asset: AssetId,
    params: WindowParams,
    metrics: Vec<MetricName>,
    findings: Vec<Finding>,
    readings: Vec<Reading>,
}

impl Replay {
    /// `columns` name the values of each row fed; columns no rule reads are ignored.
    pub fn new(rules: Arc<ModelRules>, params: WindowParams, asset: &str, columns: &[String]) -> Self {
        Replay {
            detector: AssetDetector::new(Arc::clone(&rules)),
            rules,
            asset: AssetId::new(asset),
            params,
            metrics: columns.iter().map(MetricName::new).collect(),
            findings: Vec::new(),
            readings: Vec::with_capacity(columns.len()),
        }
    }

    /// Feeds one row as one message of readings at `ts`. Non-finite values are
    /// left out, as the live decoder would reject them.
    pub fn feed(&mut self, ts: EpochMs, row: &[f64]) {
        self.readings.clear();
        self.readings.extend(self.metrics.iter().zip(row).filter(|(_, v)| v.is_finite()).map(|(m, &value)| Reading {
            ts,
            metric: m.clone(),
            value,
        }));
        self.findings.clear();
        // Evidence is not scored here; a long interval keeps it cheap.
        self.detector.process(
            &self.asset,
            &self.readings,
            &self.params,
            Span::from_hours(24 * 365),
            &mut self.findings,
        );
    }

    /// Index of the rule with id `id`.
    pub fn rule_index(&self, id: &str) -> Option<usize> {
        self.rules.rule_index(id)
    }

    /// The state of rule `rule` after the last row fed.
    pub fn view(&self, rule: usize) -> RuleView {
        let (checks, firing) = self.detector.last_evaluation(rule);
        let id = &self.rules.rules[rule].id;
        RuleView {
            observed: checks.first().map(|c| c.observed),
            firing,
            opened: self.findings.iter().any(|f| f.opened && &f.rule == id),
        }
    }
}
