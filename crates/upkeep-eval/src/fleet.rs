//! `upkeep eval fleet`: the device simulator's fleet, with injected faults,
//! decoded and detected by the live code in event time (no broker), and the
//! tickets scored against the simulator's ground truth.

use super::{write, EvalError};
use chrono::{Duration, TimeZone, Utc};
use device_sim::{GroundTruth, SimConfig, Simulator};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::fmt::Write as _;
use upkeep::config::Config;
use upkeep::decode::Decoder;
use upkeep::demo::sim_assets;
use upkeep::detect::{AssetDetector, Finding, WindowParams};
use upkeep::fleet::{generate, Fleet, FleetSpec};
use upkeep::model::{AssetId, EpochMs, FaultCode, Span, TicketKind};
use upkeep::rules::RuleSet;

pub struct FleetOptions {
    pub assets: usize,
    pub days: u32,
    pub seed: u64,
    /// Degradation time from onset to functional failure, shortest and longest.
    pub min_lead_hours: u32,
    pub max_lead_hours: u32,
    pub out: std::path::PathBuf,
}

/// A ticket the engine would have opened.
#[derive(Debug, Clone, PartialEq)]
struct Opened {
    fault: FaultCode,
    kind: TicketKind,
    at: EpochMs,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FleetResult {
    pub assets: usize,
    pub days: u32,
    pub progressive_faults: usize,
    /// Progressive faults with a repair ticket before functional failure.
    pub ticketed_before_failure: usize,
    pub recall: f64,
    /// Hours from the ticket to functional failure.
    pub lead_median_hours: Option<f64>,
    pub lead_p5_hours: Option<f64>,
    pub lead_min_hours: Option<f64>,
    /// Repair tickets on assets without a progressive fault, or before its onset.
    pub false_repair_tickets: usize,
    pub false_repairs_per_1000_asset_days: f64,
    pub sensor_faults: usize,
    /// Repair tickets on assets whose only fault is a sensor fault (should be 0).
    pub repair_tickets_for_sensor_faults: usize,
    /// Sensor-check tickets on assets with a sensor fault.
    pub sensor_checks_for_sensor_faults: usize,
    pub readings: u64,
    pub seconds: f64,
    /// Every progressive fault: how long it degraded and how early it was ticketed.
    pub faults: Vec<FaultOutcome>,
    /// Repair tickets that should not have opened: asset, fault code, the
    /// asset's injected fault (if any), hours after the start.
    pub false_repairs: Vec<(String, String, Option<String>, f64)>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct FaultOutcome {
    pub asset: String,
    pub fault: String,
    pub degradation_hours: f64,
    /// Hours from the first repair ticket to functional failure; `None` if missed.
    pub lead_hours: Option<f64>,
}

pub fn run(o: &FleetOptions, config: &Config, rules: &RuleSet) -> Result<FleetResult, EvalError> {
    let fleet = Fleet::new(generate(rules, FleetSpec { assets: o.assets, seed: o.seed }))
        .map_err(|e| EvalError::Invalid(e.to_string()))?;
    let sim_cfg = SimConfig {
        seed: o.seed,
        start: Utc.timestamp_opt(1_767_225_600, 0).single().unwrap_or_default(),
        duration: Duration::days(i64::from(o.days)),
        min_lead: Duration::hours(i64::from(o.min_lead_hours)),
        max_lead: Duration::hours(i64::from(o.max_lead_hours.max(o.min_lead_hours))),
        ..SimConfig::default()
    };
    let sim = Simulator::new(&sim_assets(&fleet), &sim_cfg).map_err(|e| EvalError::Invalid(e.to_string()))?;
    let truth = sim.truth();
    let started = std::time::Instant::now();
    let (opened, readings) = detect(sim, &fleet, config, rules)?;
    let mut result = score(&truth, &opened, o);
    result.readings = readings;
    result.seconds = started.elapsed().as_secs_f64();
    write(&o.out.join("fleet.json"), serde_json::to_string_pretty(&result).unwrap_or_default())?;
    device_sim::write_truth(&o.out.join("truth.json"), &truth).map_err(|e| EvalError::Invalid(e.to_string()))?;
    Ok(result)
}

/// Decodes every message (the decoder's clock is the message's event time)
/// and runs each asset's detector; returns the tickets that would open.
fn detect(
    sim: Simulator,
    fleet: &Fleet,
    config: &Config,
    rules: &RuleSet,
) -> Result<(HashMap<AssetId, Vec<Opened>>, u64), EvalError> {
    let params = WindowParams::from_config(&config.detect);
    let mut decoder = Decoder::new(config.decode.clone());
    let mut detectors: HashMap<AssetId, AssetDetector> = HashMap::new();
    let mut opened: HashMap<AssetId, Vec<Opened>> = HashMap::new();
    let mut findings: Vec<Finding> = Vec::new();
    let mut readings = 0u64;
    let total = sim.total_messages() as usize;
    let mut progress = super::progress::Progress::new("fleet", total);
    for (i, msg) in sim.enumerate() {
        if i % 10_000 == 0 || i + 1 == total {
            progress.step_to(i + 1, "messages");
        }
        let Ok(d) = decoder.decode(&msg.topic("upkeep/telemetry"), &msg.payload, fleet, msg.last_ts_ms) else {
            continue;
        };
        let Some(model) = rules.for_model(&d.model) else { continue };
        readings += d.readings.len() as u64;
        let det = detectors.entry(d.asset.clone()).or_insert_with(|| AssetDetector::new(model.clone()));
        det.process(&d.asset, &d.readings, &params, Span::from_hours(24), &mut findings);
        for f in findings.drain(..).filter(|f| f.opened) {
            let list = opened.entry(f.asset).or_default();
            if !list.iter().any(|o| o.fault == f.fault) {
                list.push(Opened { fault: f.fault, kind: f.kind, at: f.evidence.at });
            }
        }
    }
    Ok((opened, readings))
}

fn score(truth: &GroundTruth, opened: &HashMap<AssetId, Vec<Opened>>, o: &FleetOptions) -> FleetResult {
    let by_asset: BTreeMap<&str, &device_sim::InjectedFault> =
        truth.faults.iter().map(|f| (f.asset_id.as_str(), f)).collect();
    let progressive: Vec<_> = truth.faults.iter().filter(|f| f.fault.is_progressive()).collect();
    let mut outcomes = Vec::new();
    for f in &progressive {
        let failure = f.functional_failure.map_or(EpochMs::MAX, |t| t.timestamp_millis());
        let first = opened
            .get(&AssetId::new(&f.asset_id))
            .into_iter()
            .flatten()
            .filter(|t| t.kind == TicketKind::Repair && t.at >= f.onset.timestamp_millis() && t.at < failure)
            .map(|t| t.at)
            .min();
        outcomes.push(FaultOutcome {
            asset: f.asset_id.clone(),
            fault: f.fault.to_string(),
            degradation_hours: Span(failure - f.onset.timestamp_millis()).as_hours_f64(),
            lead_hours: first.map(|at| Span(failure - at).as_hours_f64()),
        });
    }
    let mut leads: Vec<f64> = outcomes.iter().filter_map(|o| o.lead_hours).collect();
    leads.sort_by(f64::total_cmp);
    let mut sensor_repairs = 0;
    let mut sensor_checks = 0;
    let mut wrong = Vec::new();
    for (asset, tickets) in opened {
        let fault = by_asset.get(asset.as_str());
        for t in tickets.iter().filter(|t| t.kind == TicketKind::Repair) {
            match fault {
                Some(f) if f.fault.is_progressive() && t.at >= f.onset.timestamp_millis() => continue,
                Some(f) if !f.fault.is_progressive() => sensor_repairs += 1,
                _ => {}
            }
            let hours = Span(t.at - truth.start.timestamp_millis()).as_hours_f64();
            wrong.push((asset.to_string(), t.fault.to_string(), fault.map(|f| f.fault.to_string()), hours));
        }
        if fault.is_some_and(|f| !f.fault.is_progressive()) {
            sensor_checks += tickets.iter().filter(|t| t.kind == TicketKind::SensorCheck).count();
        }
    }
    let asset_days = (truth.assets as f64 * f64::from(o.days)).max(1.0);
    let pct = |q: f64| leads.get(((leads.len() as f64 - 1.0) * q).round() as usize).copied();
    FleetResult {
        assets: truth.assets,
        days: o.days,
        progressive_faults: progressive.len(),
        ticketed_before_failure: leads.len(),
        recall: leads.len() as f64 / progressive.len().max(1) as f64,
        lead_median_hours: pct(0.5),
        lead_p5_hours: pct(0.05),
        lead_min_hours: leads.first().copied(),
        false_repair_tickets: wrong.len(),
        false_repairs_per_1000_asset_days: 1000.0 * wrong.len() as f64 / asset_days,
        sensor_faults: truth.faults.len() - progressive.len(),
        repair_tickets_for_sensor_faults: sensor_repairs,
        sensor_checks_for_sensor_faults: sensor_checks,
        readings: 0,
        seconds: 0.0,
        faults: outcomes,
        false_repairs: wrong,
    }
}

/// Markdown table against the targets.
pub fn markdown(r: &FleetResult) -> String {
    let h = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.1} h"));
    let mut s = String::from("| measure | upkeep | target |\n|---|---|---|\n");
    let _ = writeln!(
        s,
        "| recall of progressive faults (ticket before failure) | {:.1}% ({}/{}) | >= 95% |",
        100.0 * r.recall,
        r.ticketed_before_failure,
        r.progressive_faults
    );
    let _ = writeln!(s, "| lead before functional failure, median | {} | - |", h(r.lead_median_hours));
    let _ = writeln!(s, "| lead before functional failure, 5th percentile | {} | >= 24 h |", h(r.lead_p5_hours));
    let _ = writeln!(
        s,
        "| false repair tickets per 1,000 asset-days | {:.2} ({} tickets, {} assets x {} days) | <= 1 |",
        r.false_repairs_per_1000_asset_days, r.false_repair_tickets, r.assets, r.days
    );
    let _ = writeln!(
        s,
        "| repair tickets for sensor faults | {} of {} sensor faults | 0 |",
        r.repair_tickets_for_sensor_faults, r.sensor_faults
    );
    let _ = writeln!(s, "| sensor-check tickets for sensor faults | {} | - |", r.sensor_checks_for_sensor_faults);
    s
}
