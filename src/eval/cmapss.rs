//! `upkeep eval cmapss`: fits a linear health index on run-to-failure
//! training units, writes it as an ordinary `health` rule, and replays test
//! units through that rule with the live code to predict remaining useful
//! life from the index and its fitted degradation trend.

use super::data::{read_cmapss, Table};
use super::progress::Progress;
use super::replay::Replay;
use super::score::cmapss::{score, RulScore, RUL_CAP};
use super::{read, write, EvalError};
use crate::detect::detectors::hours_to_cross;
use crate::detect::multivariate::solve_spd;
use crate::detect::WindowParams;
use crate::rules::{parse_file, ModelRules};
use ndarray::{Array1, Array2};
use serde::Serialize;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// One engine cycle is six minutes of event time, so the live engine's
/// default 30-minute window smooths the health index over the last 6 cycles
/// (measured best of 6, 11, 21 and 31 cycles on the development file).
pub const CYCLE_MS: i64 = 360_000;
/// The health rule fires below this index: about 30 cycles before the end.
pub const TICKET_BELOW: f64 = 30.0 / RUL_CAP;
/// Cycles of index history the degradation trend is fitted over.
const TREND_CYCLES: usize = 40;
/// Ridge penalty on standardised features.
const RIDGE: f64 = 1.0;

pub struct CmapssOptions {
    pub train: PathBuf,
    pub test: Option<PathBuf>,
    pub rul: Option<PathBuf>,
    pub out: PathBuf,
    /// Cross-validation folds over training units when no test file is given.
    pub folds: usize,
    pub seed: u64,
}

/// `bias + sum(weight * window mean)`, trained to read 1 while healthy and
/// `RUL / 125` over the last 125 cycles.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthModel {
    pub metrics: Vec<String>,
    pub weights: Vec<f64>,
    pub bias: f64,
}

/// A unit replayed through the health rule.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct UnitRun {
    pub unit: u32,
    pub cycles: usize,
    /// `(cycle, health index)`.
    pub health: Vec<(i64, f64)>,
    /// Cycle at which the rule opened a ticket.
    pub ticket: Option<i64>,
    pub predicted_rul: f64,
    /// The trend's estimate, for comparison (see `trend_rul`).
    pub trend_rul: Option<f64>,
    pub true_rul: Option<f64>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct CmapssResult {
    pub units: usize,
    pub rmse: f64,
    pub nasa: f64,
    /// How the truth was obtained: the RUL file or cross-validation.
    pub protocol: String,
    /// Median cycles between the ticket and the end of run, full training trajectories.
    pub median_ticket_lead: Option<f64>,
}

pub fn run(o: &CmapssOptions, params: &WindowParams) -> Result<(CmapssResult, Vec<UnitRun>), EvalError> {
    let train = read_cmapss(&o.train, CYCLE_MS)?;
    let all: Vec<&Table> = train.iter().map(|(_, t)| t).collect();
    let model = fit(&all, params.window_ms)?;
    let cv_seed = o.test.is_none().then_some(o.seed);
    let (full, cut) = fold_runs(&train, o.folds.max(2), cv_seed, params)?;
    let (runs, protocol) = match &o.test {
        Some(test) => {
            let rules = health_rules(&model)?;
            (test_runs(&rules, &read_cmapss(test, CYCLE_MS)?, o.rul.as_deref(), params)?, "test file")
        }
        None => (cut, "cross-validation"),
    };
    let scored: Vec<&UnitRun> = runs.iter().filter(|r| r.true_rul.is_some()).collect();
    let pred: Vec<f64> = scored.iter().map(|r| r.predicted_rul).collect();
    let truth: Vec<f64> = scored.iter().filter_map(|r| r.true_rul).collect();
    let RulScore { rmse, nasa, .. } = score(&pred, &truth);
    let mut leads: Vec<f64> = full.iter().filter_map(|r| r.ticket.map(|t| (r.cycles as i64 - t) as f64)).collect();
    leads.sort_by(f64::total_cmp);
    let result = CmapssResult {
        units: scored.len(),
        rmse,
        nasa,
        protocol: format!("{protocol}, {} units", runs.len()),
        median_ticket_lead: leads.get(leads.len() / 2).copied(),
    };
    write(&o.out.join("RUL_pred.txt"), runs.iter().map(|r| format!("{:.1}\n", r.predicted_rul)).collect::<String>())?;
    write(&o.out.join("predictions.csv"), predictions_csv(&runs))?;
    write(&o.out.join("health_rule.toml"), rule_toml(&model))?;
    write(&o.out.join("scores.json"), serde_json::to_string_pretty(&result).unwrap_or_default())?;
    Ok((result, full))
}

/// Window mean of every column at every row, as the live `health` check
/// computes it: samples with event time in `[now - window, now]`.
fn features(t: &Table, window_ms: i64) -> Vec<Vec<f64>> {
    (0..t.rows.len())
        .map(|i| {
            let from = t.ts[..=i].partition_point(|&ts| ts < t.ts[i] - window_ms);
            let rows = &t.rows[from..=i];
            (0..t.columns.len()).map(|c| rows.iter().map(|r| r[c]).sum::<f64>() / rows.len() as f64).collect()
        })
        .collect()
}

/// Ridge regression of the capped, scaled RUL on standardised window means
/// of the sensors that vary; weights are returned on the raw scale.
pub fn fit(units: &[&Table], window_ms: i64) -> Result<HealthModel, EvalError> {
    let columns = units.first().map(|t| t.columns.clone()).unwrap_or_default();
    let mut xs = Vec::new();
    let mut ys = Vec::new();
    for t in units {
        let n = t.rows.len();
        for (i, f) in features(t, window_ms).into_iter().enumerate() {
            xs.push(f);
            ys.push(((n - 1 - i) as f64).min(RUL_CAP) / RUL_CAP);
        }
    }
    let stats: Vec<(f64, f64)> = (0..columns.len()).map(|c| mean_std(xs.iter().map(|x| x[c]))).collect();
    // Sensors and age (settings describe the operating condition), and only those that vary.
    let used: Vec<usize> = (0..columns.len())
        .filter(|&c| !columns[c].starts_with("setting") && stats[c].1 > 1e-6 * stats[c].0.abs().max(1.0))
        .collect();
    let p = used.len();
    let mut a = Array2::<f64>::eye(p) * RIDGE;
    let mut b = Array1::<f64>::zeros(p);
    let y_mean = ys.iter().sum::<f64>() / ys.len().max(1) as f64;
    for (x, y) in xs.iter().zip(&ys) {
        let z = Array1::from_iter(used.iter().map(|&c| (x[c] - stats[c].0) / stats[c].1));
        a = a + z.view().insert_axis(ndarray::Axis(1)).dot(&z.view().insert_axis(ndarray::Axis(0)));
        b.scaled_add(y - y_mean, &z);
    }
    let w = solve_spd(&a, &b).ok_or_else(|| EvalError::Invalid("C-MAPSS training features are degenerate".into()))?;
    let weights: Vec<f64> = used.iter().zip(w.iter()).map(|(&c, wi)| wi / stats[c].1).collect();
    let bias = y_mean - used.iter().zip(&weights).map(|(&c, wi)| wi * stats[c].0).sum::<f64>();
    Ok(HealthModel { metrics: used.iter().map(|&c| columns[c].clone()).collect(), weights, bias })
}

fn mean_std(values: impl Iterator<Item = f64> + Clone) -> (f64, f64) {
    let n = values.clone().count().max(1) as f64;
    let mean = values.clone().sum::<f64>() / n;
    (mean, (values.map(|v| (v - mean).powi(2)).sum::<f64>() / n).sqrt())
}

/// The fitted model as a rule file the live engine can load.
pub fn rule_toml(m: &HealthModel) -> String {
    let list = |v: Vec<String>| v.join(", ");
    format!(
        "# Fitted by `upkeep eval cmapss` on run-to-failure training units.\n\
         model = \"turbofan\"\nasset_prefix = \"FD\"\n\n[[rule]]\nid = \"health\"\nfault = \"engine_degradation\"\n\
         severity = \"major\"\ndescription = \"Health index below {TICKET_BELOW:.3}: about 30 cycles of life left\"\n\
         skills = {{ turbine = 2 }}\nwhen = {{ metrics = [{}], detector = \"health\", weights = [{}], bias = {:e}, below = {TICKET_BELOW} }}\n",
        list(m.metrics.iter().map(|s| format!("\"{s}\"")).collect()),
        list(m.weights.iter().map(|w| format!("{w:e}")).collect()),
        m.bias
    )
}

/// The fitted model as loaded rules: the very text the engine would load.
fn health_rules(model: &HealthModel) -> Result<Arc<ModelRules>, EvalError> {
    Ok(Arc::new(parse_file(Path::new("health_rule.toml"), &rule_toml(model))?))
}

/// Replays `rows` of a unit through the health rule and predicts its RUL.
fn replay_unit(
    rules: &Arc<ModelRules>,
    unit: u32,
    t: &Table,
    rows: usize,
    params: &WindowParams,
) -> Result<UnitRun, EvalError> {
    let mut replay = Replay::new(Arc::clone(rules), *params, &format!("FD-{unit}"), &t.columns);
    let mut run = UnitRun {
        unit,
        cycles: rows,
        health: Vec::new(),
        ticket: None,
        predicted_rul: RUL_CAP,
        trend_rul: None,
        true_rul: None,
    };
    for (&ts, row) in t.ts.iter().zip(&t.rows).take(rows) {
        replay.feed(ts, row);
        let v = replay.view(0);
        if let Some(hi) = v.observed {
            run.health.push((ts / CYCLE_MS, hi));
        }
        if v.opened && run.ticket.is_none() {
            run.ticket = Some(ts / CYCLE_MS);
        }
    }
    run.predicted_rul = predict_rul(&run.health);
    run.trend_rul = trend_rul(&run.health);
    Ok(run)
}

/// RUL from the index level, read as `RUL / 125`.
pub fn predict_rul(health: &[(i64, f64)]) -> f64 {
    health.last().map_or(RUL_CAP, |&(_, level)| (level * RUL_CAP).clamp(0.0, RUL_CAP))
}

/// RUL from the index's degradation trend: cycles until the line fitted over
/// the last `TREND_CYCLES` reaches 0 (the forecast detector's own function).
/// `None` while the trend is not significantly downward.
pub fn trend_rul(health: &[(i64, f64)]) -> Option<f64> {
    let &(now, _) = health.last()?;
    let recent: Vec<(i64, f64)> =
        health[health.len().saturating_sub(TREND_CYCLES)..].iter().map(|&(c, h)| (c * CYCLE_MS, h)).collect();
    hours_to_cross(&recent, now * CYCLE_MS, 0.0, false).map(|h| (h * 3_600_000.0 / CYCLE_MS as f64).min(RUL_CAP))
}

/// Predicts every test unit at its last cycle with the rule fitted on all training units.
fn test_runs(
    rules: &Arc<ModelRules>,
    test: &[(u32, Table)],
    rul: Option<&Path>,
    params: &WindowParams,
) -> Result<Vec<UnitRun>, EvalError> {
    let truth: Vec<f64> = match rul {
        Some(p) => read(p)?.split_whitespace().filter_map(|s| s.parse().ok()).collect(),
        None => Vec::new(),
    };
    let mut progress = Progress::new("cmapss", test.len());
    test.iter()
        .enumerate()
        .map(|(i, (unit, t))| {
            progress.step(&format!("unit {unit}"));
            let mut run = replay_unit(rules, *unit, t, t.rows.len(), params)?;
            run.true_rul = truth.get(i).copied();
            Ok(run)
        })
        .collect()
}

/// Units split into folds by position, each replayed by a model fitted on
/// the other folds (one fit per fold): to its failure (when would the
/// ticket have opened?) and, with a seed, also cut at a seeded random cycle
/// as the official test units are (cross-validation). Returns `(full, cut)`.
fn fold_runs(
    train: &[(u32, Table)],
    folds: usize,
    seed: Option<u64>,
    params: &WindowParams,
) -> Result<(Vec<UnitRun>, Vec<UnitRun>), EvalError> {
    let mut progress = Progress::new("cmapss", train.len());
    let (mut full, mut cut_runs) = (Vec::with_capacity(train.len()), Vec::new());
    for fold in 0..folds {
        let fit_on: Vec<&Table> =
            train.iter().enumerate().filter(|(i, _)| i % folds != fold).map(|(_, u)| &u.1).collect();
        let rules = health_rules(&fit(&fit_on, params.window_ms)?)?;
        for (i, (unit, t)) in train.iter().enumerate().filter(|(i, _)| i % folds == fold) {
            progress.step(&format!("unit {unit}"));
            full.push(replay_unit(&rules, *unit, t, t.rows.len(), params)?);
            if let Some(seed) = seed {
                let n = t.rows.len();
                let span = (n as u64).saturating_sub(31).max(1);
                let cut = (31 + (splitmix(seed ^ (i as u64)) % span) as usize).min(n);
                let mut run = replay_unit(&rules, *unit, t, cut, params)?;
                run.true_rul = Some((n - cut) as f64);
                cut_runs.push(run);
            }
        }
    }
    full.sort_by_key(|r| r.unit);
    cut_runs.sort_by_key(|r| r.unit);
    Ok((full, cut_runs))
}

/// A small, stable hash (splitmix64) so the cut points do not depend on a
/// random-number crate's version.
fn splitmix(x: u64) -> u64 {
    let mut z = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

fn predictions_csv(runs: &[UnitRun]) -> String {
    let mut s = String::from("unit,cycles,predicted_rul,trend_rul,true_rul,ticket_cycle\n");
    let opt = |v: Option<f64>| v.map_or(String::new(), |v| format!("{v:.1}"));
    for r in runs {
        let ticket = r.ticket.map_or(String::new(), |t| t.to_string());
        let (trend, truth) = (opt(r.trend_rul), opt(r.true_rul));
        let _ = writeln!(s, "{},{},{:.1},{trend},{truth},{ticket}", r.unit, r.cycles, r.predicted_rul);
    }
    s
}

/// Markdown table of the result next to the published anchor.
pub fn markdown(r: &CmapssResult) -> String {
    let lead = r.median_ticket_lead.map_or("-".into(), |l| format!("{l:.0} cycles"));
    format!(
        "| model | RMSE (true RUL capped at 125) | NASA score | units | median ticket lead |\n|---|---|---|---|---|\n\
         | upkeep health index ({}) | {:.2} | {:.1} | {} | {lead} |\n| deep CNNs (published, FD001 test set) | about 12.6 | - | 100 | - |\n",
        r.protocol, r.rmse, r.nasa, r.units
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::DetectConfig;

    /// A unit of `life` cycles whose sensor2 tracks the capped RUL exactly
    /// (plus a constant sensor and bounded wiggle); the other sensors are flat.
    fn unit_lines(unit: u32, life: u32) -> String {
        (1..=life)
            .map(|c| {
                let rul = f64::from(life - c).min(RUL_CAP);
                let wiggle = f64::from(c % 3) * 0.01;
                let mut s: Vec<String> = vec![unit.to_string(), c.to_string(), "0".into(), "0".into(), "100".into()];
                s.extend((1..=21).map(|k| match k {
                    2 => format!("{}", 600.0 - rul + wiggle),
                    _ => "1.0".into(),
                }));
                s.join(" ")
            })
            .collect::<Vec<_>>()
            .join("\n")
            + "\n"
    }

    #[test]
    fn a_test_file_is_predicted_and_scored_against_its_rul_file() {
        let dir = tempfile::tempdir().unwrap();
        let train: String = (1..=6).map(|u| unit_lines(u, 150 + 20 * u)).collect();
        // Test units cut 40 and 200 cycles before their end (true RUL 40 and 200).
        let full =
            |u: u32, life: u32, keep: usize| unit_lines(u, life).lines().take(keep).collect::<Vec<_>>().join("\n");
        let test = format!("{}\n{}\n", full(1, 200, 160), full(2, 400, 200));
        for (name, text) in [("train.txt", train.as_str()), ("test.txt", test.as_str()), ("rul.txt", "40\n200\n")] {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        let o = CmapssOptions {
            train: dir.path().join("train.txt"),
            test: Some(dir.path().join("test.txt")),
            rul: Some(dir.path().join("rul.txt")),
            out: dir.path().join("out"),
            folds: 3,
            seed: 1,
        };
        let params = WindowParams::from_config(&DetectConfig::default());
        let (r, _) = run(&o, &params).unwrap();
        assert_eq!(r.units, 2);
        // sensor2 is an exact (lagged by the window mean) image of the capped RUL.
        assert!(r.rmse < 5.0, "{r:?}");
        let preds = std::fs::read_to_string(dir.path().join("out/RUL_pred.txt")).unwrap();
        let p: Vec<f64> = preds.lines().map(|l| l.parse().unwrap()).collect();
        assert!((p[0] - 40.0).abs() < 5.0 && (p[1] - 125.0).abs() < 5.0, "{p:?}");
        // The fitted rule is an ordinary rule file the engine loads.
        let rule = std::fs::read_to_string(dir.path().join("out/health_rule.toml")).unwrap();
        parse_file(Path::new("health_rule.toml"), &rule).unwrap();
    }

    #[test]
    fn rul_is_read_from_the_health_level() {
        assert_eq!(predict_rul(&[]), RUL_CAP);
        assert_eq!(predict_rul(&[(1, 1.2)]), RUL_CAP);
        assert!((predict_rul(&[(1, 0.5), (2, 0.4)]) - 50.0).abs() < 1e-9);
        assert_eq!(predict_rul(&[(1, -0.1)]), 0.0);
    }

    #[test]
    fn a_falling_index_has_a_trend_estimate_and_a_flat_one_none() {
        let falling: Vec<(i64, f64)> = (0..40).map(|c| (c, 1.0 - 0.01 * c as f64)).collect();
        // 0.61 at cycle 39, falling 0.01 per cycle: 61 cycles to 0.
        assert!((trend_rul(&falling).unwrap() - 61.0).abs() < 1e-6);
        let flat: Vec<(i64, f64)> = (0..40).map(|c| (c, 1.0 + if c % 2 == 0 { 0.01 } else { -0.01 })).collect();
        assert_eq!(trend_rul(&flat), None);
    }
}
