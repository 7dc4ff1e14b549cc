//! `upkeep eval cmapss`: fits a health model (streaming degradation
//! features read by a small network ensemble, `rules::health`) on
//! run-to-failure training units, writes it as an ordinary `health` rule and
//! its model file, and replays units through that rule with the live code to
//! predict remaining useful life from the index.

use super::data::{read_cmapss, Table};
use super::mlp::{self, MlpParams, SplitMix};
use super::progress::Progress;
use super::replay::Replay;
use super::score::cmapss::{score, RulScore, RUL_CAP};
use super::{create_dir, read, write, EvalError};
use ndarray::Array2;
use serde::Serialize;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use upkeep::detect::detectors::hours_to_cross;
use upkeep::detect::WindowParams;
use upkeep::rules::health::{HealthFeatures, HealthNet};
use upkeep::rules::{parse_file, ModelRules};

/// Event time of one engine cycle (the files count cycles, not time).
pub const CYCLE_MS: i64 = 360_000;
/// The health rule fires below this index: about 30 cycles before the end.
pub const TICKET_BELOW: f64 = 30.0 / RUL_CAP;
/// Cycles of index history the degradation trend is fitted over.
const TREND_CYCLES: usize = 40;
/// A sensor with fewer distinct values than this in training carries no
/// degradation signal (FD001 has seven constant ones and one two-valued).
const MIN_DISTINCT: usize = 3;
/// Names of the rule and model files `eval` writes.
const RULE_FILE: &str = "health_rule.toml";
const MODEL_FILE: &str = "health_model.json";

pub struct CmapssOptions {
    pub train: PathBuf,
    pub test: Option<PathBuf>,
    pub rul: Option<PathBuf>,
    pub out: PathBuf,
    /// Cross-validation folds over training units when no test file is given.
    pub folds: usize,
    pub seed: u64,
    pub mlp: MlpParams,
}

/// A fitted health model and the metrics it reads, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct HealthModel {
    pub metrics: Vec<String>,
    pub net: HealthNet,
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
    let cv_seed = o.test.is_none().then_some(o.seed);
    let (full, cut) = fold_runs(&train, o, cv_seed, params)?;
    let rules = health_rules(&fit(&all, &o.mlp)?, &o.out)?;
    let (runs, protocol) = match &o.test {
        Some(test) => (test_runs(&rules, &read_cmapss(test, CYCLE_MS)?, o.rul.as_deref(), params)?, "test file"),
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
    write(&o.out.join("scores.json"), serde_json::to_string_pretty(&result).unwrap_or_default())?;
    Ok((result, full))
}

/// Fits the health model on run-to-failure units: every cycle's streaming
/// features, standardised, against `min(RUL, 125) / 125`.
pub fn fit(units: &[&Table], p: &MlpParams) -> Result<HealthModel, EvalError> {
    let columns = units.first().map(|t| t.columns.clone()).unwrap_or_default();
    let used: Vec<usize> = (0..columns.len())
        .filter(|&c| columns[c].starts_with("sensor") && distinct_at_least(units, c, MIN_DISTINCT))
        .collect();
    if used.is_empty() {
        return Err(EvalError::Invalid("no C-MAPSS sensor varies in the training units".into()));
    }
    let (mut rows, mut ys) = (Vec::new(), Vec::new());
    for t in units {
        let mut state = HealthFeatures::new(used.len());
        for (i, r) in t.rows.iter().enumerate() {
            state.update(&used.iter().map(|&c| r[c]).collect::<Vec<_>>());
            rows.extend(state.features());
            ys.push(((t.rows.len() - 1 - i) as f64).min(RUL_CAP) / RUL_CAP);
        }
    }
    let width = rows.first().map_or(0, Vec::len);
    let x = Array2::from_shape_vec((rows.len(), width), rows.concat())
        .map_err(|e| EvalError::Invalid(format!("C-MAPSS features: {e}")))?;
    let mean = x.mean_axis(ndarray::Axis(0)).unwrap_or_default();
    let std = x.std_axis(ndarray::Axis(0), 0.0) + 1e-12;
    let z = (&x - &mean) / &std;
    let nets = (0..p.nets as u64).map(|seed| mlp::fit(z.view(), &ys, p.hidden, p.epochs, seed)).collect();
    Ok(HealthModel {
        metrics: used.iter().map(|&c| columns[c].clone()).collect(),
        net: HealthNet { sensors: used.len(), mean: mean.to_vec(), std: std.to_vec(), nets },
    })
}

fn distinct_at_least(units: &[&Table], column: usize, k: usize) -> bool {
    let mut seen: Vec<f64> = Vec::with_capacity(k);
    for v in units.iter().flat_map(|t| t.rows.iter().map(|r| r[column])) {
        if !seen.contains(&v) {
            seen.push(v);
            if seen.len() >= k {
                return true;
            }
        }
    }
    false
}

/// The fitted model as a rule file the live engine can load (the model
/// itself is in `MODEL_FILE` next to it).
pub fn rule_toml(m: &HealthModel) -> String {
    let metrics: Vec<String> = m.metrics.iter().map(|s| format!("\"{s}\"")).collect();
    format!(
        "# Fitted by `upkeep eval cmapss` on run-to-failure training units.\n\
         model = \"turbofan\"\nasset_prefix = \"FD\"\n\n[[rule]]\nid = \"health\"\nfault = \"engine_degradation\"\n\
         severity = \"major\"\ndescription = \"Health index below {TICKET_BELOW:.3}: about 30 cycles of life left\"\n\
         skills = {{ turbine = 2 }}\nwhen = {{ metrics = [{}], detector = \"health\", model = \"{MODEL_FILE}\", below = {TICKET_BELOW} }}\n",
        metrics.join(", ")
    )
}

/// Writes the fitted model's rule and model files to `dir` and loads them
/// back as the engine would.
pub fn health_rules(model: &HealthModel, dir: &Path) -> Result<Arc<ModelRules>, EvalError> {
    create_dir(dir)?;
    write(&dir.join(MODEL_FILE), serde_json::to_string(&model.net).unwrap_or_default())?;
    let text = rule_toml(model);
    write(&dir.join(RULE_FILE), &text)?;
    Ok(Arc::new(parse_file(&dir.join(RULE_FILE), &text)?))
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
    o: &CmapssOptions,
    seed: Option<u64>,
    params: &WindowParams,
) -> Result<(Vec<UnitRun>, Vec<UnitRun>), EvalError> {
    let folds = o.folds.max(2);
    let mut progress = Progress::new("cmapss", train.len());
    let (mut full, mut cut_runs) = (Vec::with_capacity(train.len()), Vec::new());
    for fold in 0..folds {
        let fit_on: Vec<&Table> =
            train.iter().enumerate().filter(|(i, _)| i % folds != fold).map(|(_, u)| &u.1).collect();
        let rules = health_rules(&fit(&fit_on, &o.mlp)?, &o.out.join("folds").join(fold.to_string()))?;
        for (i, (unit, t)) in train.iter().enumerate().filter(|(i, _)| i % folds == fold) {
            progress.step(&format!("unit {unit}"));
            full.push(replay_unit(&rules, *unit, t, t.rows.len(), params)?);
            if let Some(seed) = seed {
                let n = t.rows.len();
                let span = (n as u64).saturating_sub(31).max(1);
                let cut = (31 + (SplitMix::new(seed ^ (i as u64)).next_u64() % span) as usize).min(n);
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
    use upkeep::config::DetectConfig;
    use upkeep::model::MetricName;

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
        let train: String = (1..=12).map(|u| unit_lines(u, 150 + 10 * u)).collect();
        // Test units cut 40 and 150 cycles before their end (true RUL 40 and 150).
        let full =
            |u: u32, life: u32, keep: usize| unit_lines(u, life).lines().take(keep).collect::<Vec<_>>().join("\n");
        let test = format!("{}\n{}\n", full(1, 200, 160), full(2, 260, 110));
        for (name, text) in [("train.txt", train.as_str()), ("test.txt", test.as_str()), ("rul.txt", "40\n150\n")] {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        let o = CmapssOptions {
            train: dir.path().join("train.txt"),
            test: Some(dir.path().join("test.txt")),
            rul: Some(dir.path().join("rul.txt")),
            out: dir.path().join("out"),
            folds: 3,
            seed: 1,
            mlp: MlpParams { hidden: 8, epochs: 100, nets: 1 },
        };
        let params = WindowParams::from_config(&DetectConfig::default());
        let (r, _) = run(&o, &params).unwrap();
        assert_eq!(r.units, 2);
        let preds = std::fs::read_to_string(dir.path().join("out/RUL_pred.txt")).unwrap();
        let p: Vec<f64> = preds.lines().map(|l| l.parse().unwrap()).collect();
        // sensor2 is an exact image of the capped RUL.
        assert!(r.rmse < 6.0 && (p[0] - 40.0).abs() < 8.0 && (p[1] - 125.0).abs() < 8.0, "{r:?} {p:?}");
        // The fitted rule and model are ordinary files the engine loads,
        // reading only the sensor that varies.
        let path = dir.path().join("out/health_rule.toml");
        let rules = parse_file(&path, &std::fs::read_to_string(&path).unwrap()).unwrap();
        assert_eq!(rules.metrics, [MetricName::new("sensor2")]);
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
