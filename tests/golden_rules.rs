//! Golden files for the rule language: for every shipped equipment model a
//! timestamped input trace (`tests/golden/rules/<model>.csv`: one row per
//! message, a column per metric) and the findings the shipped rules open on
//! it (`<model>.findings`: asset, rule, fault, minute opened after the
//! trace's start). A change to a rule file, a detector or the rule engine
//! that changes what opens, or when, fails here and shows the difference.
//!
//! `UPKEEP_BLESS=1 cargo test --test golden_rules` rewrites the files: the
//! traces from the device simulator (degradation and sensor faults injected
//! on a few units of each model) plus, for every rule, a healthy unit
//! driven through that rule's first threshold, gap or flat line (asset
//! `X-<rule>`), so each rule has an input meant to open it; the findings
//! from the engine as it is. Review the diff before committing it.

use device_sim::{SimConfig, Simulator};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use upkeep::config::DetectConfig;
use upkeep::detect::{AssetDetector, WindowParams};
use upkeep::fleet::{generate, Fleet, FleetSpec};
use upkeep::model::{AssetId, EpochMs, MetricName, ModelId, Reading, Span};
use upkeep::rules::{Bound, Condition, Detector, ModelRules, RuleSet};

/// 2026-01-01T00:00:00Z, where every trace starts.
const START: EpochMs = 1_767_225_600_000;
/// Simulated units per model in a trace: faulty ones, then one healthy.
const UNITS: usize = 4;
/// A rule's excursion unit: a healthy unit's first 36 hours, the
/// excursion starting at hour 24.
const EXCURSION_HOURS: i64 = 36;
const EXCURSION_AT: EpochMs = START + 24 * 3_600_000;

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/rules")
}

fn rules() -> RuleSet {
    upkeep::rules::load_dir(&Path::new(env!("CARGO_MANIFEST_DIR")).join("rules")).expect("shipped rules load")
}

/// One message of a trace: its time, asset and values by metric.
#[derive(Clone)]
struct Row {
    ts: EpochMs,
    asset: String,
    values: Vec<Option<f64>>,
}

struct Trace {
    metrics: Vec<String>,
    rows: Vec<Row>,
}

/// A trace per model from the simulator: three days at five-minute
/// samples, most units with an injected fault.
fn simulate(rules: &RuleSet) -> BTreeMap<String, Trace> {
    let fleet = Fleet::new(generate(rules, FleetSpec { assets: 80, seed: 15 })).unwrap();
    let cfg = SimConfig {
        seed: 15,
        start: chrono::DateTime::from_timestamp_millis(START).unwrap(),
        duration: chrono::Duration::days(3),
        interval: chrono::Duration::minutes(5),
        ticks_per_message: 1,
        fault_share: 0.6,
        sensor_fault_share: 0.6,
        min_lead: chrono::Duration::hours(24),
        max_lead: chrono::Duration::hours(48),
        malformed_every: None,
        fault_window: None,
    };
    let sim = Simulator::new(&upkeep::demo::sim_assets(&fleet), &cfg).unwrap();
    let faulty: BTreeSet<String> = sim.faults().iter().map(|f| f.asset_id.clone()).collect();
    let mut chosen: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for a in fleet.assets().iter().filter(|a| faulty.contains(a.id.as_str())) {
        let units = chosen.entry(a.model.to_string()).or_default();
        if units.len() < UNITS - 1 {
            units.push(a.id.to_string());
        }
    }
    let mut healthy: BTreeMap<String, String> = BTreeMap::new();
    for a in fleet.assets().iter().filter(|a| !faulty.contains(a.id.as_str())) {
        healthy.entry(a.model.to_string()).or_insert_with(|| a.id.to_string());
    }
    for (model, id) in &healthy {
        chosen.entry(model.clone()).or_default().push(id.clone());
    }
    let model_of: BTreeMap<String, String> =
        chosen.iter().flat_map(|(m, ids)| ids.iter().map(move |id| (id.clone(), m.clone()))).collect();
    let mut traces: BTreeMap<String, Trace> = BTreeMap::new();
    for message in sim {
        let Some(model) = model_of.get(&message.asset_id) else { continue };
        let trace =
            traces.entry(model.clone()).or_insert_with(|| Trace { metrics: metrics_of(rules, model), rows: vec![] });
        let payload: serde_json::Value = serde_json::from_slice(&message.payload).unwrap();
        let mut values = vec![None; trace.metrics.len()];
        for r in payload["readings"].as_array().into_iter().flatten() {
            if let Some(i) = trace.metrics.iter().position(|m| r["metric"] == m.as_str()) {
                values[i] = r["value"].as_f64().map(|v| (v * 1000.0).round() / 1000.0);
            }
        }
        trace.rows.push(Row { ts: message.last_ts_ms, asset: message.asset_id, values });
    }
    for (model, trace) in &mut traces {
        let unit: Vec<Row> = trace.rows.iter().filter(|r| r.asset == healthy[model]).map(Row::clone).collect();
        let m = rules.for_model(&ModelId::new(model)).unwrap();
        for rule in &m.rules {
            let mut rows = excursion(&unit, &trace.metrics, &rule.when, &format!("X-{}", rule.id));
            trace.rows.append(&mut rows);
        }
    }
    traces
}

/// `unit`'s first hours renamed `asset`, with the first threshold, stale or
/// flatline check of `when` driven past its limit from `EXCURSION_AT`.
fn excursion(unit: &[Row], metrics: &[String], when: &Condition, asset: &str) -> Vec<Row> {
    let end = START + EXCURSION_HOURS * 3_600_000;
    let mut rows: Vec<Row> =
        unit.iter().filter(|r| r.ts < end).map(|r| Row { asset: asset.to_owned(), ..r.clone() }).collect();
    let Some((check, i)) = when.checks().into_iter().find_map(|c| {
        let i = metrics.iter().position(|m| m == c.metric.as_str())?;
        matches!(c.detector, Detector::Threshold { .. } | Detector::Stale { .. } | Detector::Flatline { .. })
            .then_some((c, i))
    }) else {
        return rows;
    };
    let stuck = rows.iter().rev().find(|r| r.ts < EXCURSION_AT).and_then(|r| r.values[i]);
    for r in rows.iter_mut().filter(|r| r.ts >= EXCURSION_AT) {
        r.values[i] = match check.detector {
            Detector::Threshold { bound: Bound::Above(l), .. } => Some(l * 1.15 + 1.0),
            Detector::Threshold { bound: Bound::Below(l), .. } => Some(l * 0.85 - 1.0),
            Detector::Stale { .. } => None,
            _ => stuck,
        };
    }
    rows
}

fn metrics_of(rules: &RuleSet, model: &str) -> Vec<String> {
    let m = rules.for_model(&ModelId::new(model)).expect("a rule file for every model");
    m.metrics.iter().map(|x| x.to_string()).collect()
}

fn write_trace(path: &Path, t: &Trace) {
    let mut out = format!("ts,asset,{}\n", t.metrics.join(","));
    for r in &t.rows {
        let values: Vec<String> = r.values.iter().map(|v| v.map_or(String::new(), |x| x.to_string())).collect();
        out.push_str(&format!("{},{},{}\n", r.ts, r.asset, values.join(",")));
    }
    std::fs::write(path, out).unwrap();
}

fn read_trace(path: &Path) -> Trace {
    let text =
        std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e} (UPKEEP_BLESS=1 writes it)", path.display()));
    let mut lines = text.lines();
    let metrics: Vec<String> = lines.next().unwrap().split(',').skip(2).map(str::to_owned).collect();
    let rows = lines
        .map(|l| {
            let mut f = l.split(',');
            let ts = f.next().unwrap().parse().unwrap();
            let asset = f.next().unwrap().to_owned();
            Row { ts, asset, values: f.map(|v| v.parse().ok()).collect() }
        })
        .collect();
    Trace { metrics, rows }
}

/// The findings the shipped rules open on `trace`, one line each, in order.
fn findings(rules: &Arc<ModelRules>, trace: &Trace) -> Vec<String> {
    let params = WindowParams::from_config(&DetectConfig::default());
    let metrics: Vec<MetricName> = trace.metrics.iter().map(MetricName::new).collect();
    let mut detectors: BTreeMap<&str, AssetDetector> = BTreeMap::new();
    let mut out = Vec::new();
    let mut found = Vec::new();
    for row in &trace.rows {
        let readings: Vec<Reading> = metrics
            .iter()
            .zip(&row.values)
            .filter_map(|(m, v)| v.map(|value| Reading { ts: row.ts, metric: m.clone(), value }))
            .collect();
        let detector = detectors.entry(&row.asset).or_insert_with(|| AssetDetector::new(Arc::clone(rules)));
        found.clear();
        detector.process(&AssetId::new(&row.asset), &readings, &params, Span::from_hours(24 * 365), &mut found);
        for f in found.iter().filter(|f| f.opened) {
            out.push(format!("{},{},{},{}", f.asset, f.rule, f.fault, (f.evidence.at - START) / 60_000));
        }
    }
    out
}

#[test]
fn the_shipped_rules_open_what_their_golden_files_say() {
    let rules = rules();
    let bless = std::env::var("UPKEEP_BLESS").is_ok_and(|v| v == "1");
    if bless {
        std::fs::create_dir_all(dir()).unwrap();
        for (model, trace) in simulate(&rules) {
            write_trace(&dir().join(format!("{model}.csv")), &trace);
        }
    }
    let mut silent = Vec::new();
    let mut models: Vec<&Arc<ModelRules>> = rules.models.values().collect();
    models.sort_by(|a, b| a.model.cmp(&b.model));
    for m in models {
        let model = m.model.as_str();
        let got = findings(m, &read_trace(&dir().join(format!("{model}.csv"))));
        let path = dir().join(format!("{model}.findings"));
        if bless {
            std::fs::write(&path, got.iter().map(|l| format!("{l}\n")).collect::<String>()).unwrap();
        }
        let expected: Vec<String> = std::fs::read_to_string(&path).unwrap().lines().map(str::to_owned).collect();
        assert_eq!(got, expected, "{model}: findings differ from {} (UPKEEP_BLESS=1 rewrites it)", path.display());
        let fired: BTreeSet<&str> = got.iter().filter_map(|l| l.split(',').nth(1)).collect();
        silent.extend(m.rules.iter().filter(|r| !fired.contains(r.id.as_str())).map(|r| r.id.to_string()));
    }
    assert!(silent.is_empty(), "rules no golden trace opens (a new rule needs UPKEEP_BLESS=1): {silent:?}");
}
