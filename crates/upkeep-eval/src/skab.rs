//! `upkeep eval skab`: each SKAB file through one benchmark rule (one pump
//! testbed asset per file), written as per-row predictions and scored.

use super::data::{files_under, format_time, read_timed_csv, Table};
use super::progress::Progress;
use super::replay::Replay;
use super::score::nab::PROFILES;
use super::score::skab::{changepoint_score, outlier_scores, ChangepointFile, OutlierScore};
use super::{load_rules, write, EvalError};
use serde::Serialize;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use upkeep::detect::WindowParams;

/// SKAB's convention: the first rows of each file are training, not scored.
pub const TRAINING_ROWS: usize = 400;

pub struct SkabOptions {
    pub data: PathBuf,
    pub out: PathBuf,
    pub rules: PathBuf,
    pub rule: String,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SkabResult {
    pub files: usize,
    pub f1: f64,
    pub far: f64,
    pub mar: f64,
    /// Changepoint score per NAB profile (standard, low FP, low FN).
    pub changepoint: Vec<(String, f64)>,
}

/// One labelled file after the replay.
struct Predicted {
    truth: Vec<bool>,
    anomaly: Vec<bool>,
    changepoint: Vec<bool>,
    true_cps: Vec<i64>,
    ts: Vec<i64>,
}

pub fn run(o: &SkabOptions, params: &WindowParams) -> Result<SkabResult, EvalError> {
    let rules = load_rules(&o.rules)?;
    let paths = files_under(&o.data, "csv")?;
    let mut progress = Progress::new("skab", paths.len());
    let mut files = Vec::new();
    for path in &paths {
        progress.step(&path.display().to_string());
        let table = read_timed_csv(path, ';')?;
        let (Some(a), Some(c)) = (column(&table, "anomaly"), column(&table, "changepoint")) else {
            continue; // the anomaly-free run has no labels to score
        };
        // The sensor columns come before the two label columns.
        let sensors = a.min(c);
        let mut replay = Replay::new(rules.clone(), *params, "testbed", &table.columns[..sensors]);
        let rule = replay.rule_index(&o.rule).ok_or_else(|| EvalError::Invalid(format!("no rule '{}'", o.rule)))?;
        let mut p = Predicted { truth: vec![], anomaly: vec![], changepoint: vec![], true_cps: vec![], ts: vec![] };
        let mut was = false;
        for (&ts, full) in table.ts.iter().zip(&table.rows) {
            replay.feed(ts, &full[..sensors]);
            let firing = replay.view(rule).firing;
            p.ts.push(ts);
            p.truth.push(full[a] > 0.5);
            p.anomaly.push(firing);
            // A predicted changepoint where the state changes: onset and recovery.
            p.changepoint.push(firing != was);
            if full[c] > 0.5 {
                p.true_cps.push(ts);
            }
            was = firing;
        }
        write(&result_path(&o.data, &o.out, path), predictions_csv(&p))?;
        files.push(p);
    }
    let result = score(&files);
    write(&o.out.join("scores.json"), serde_json::to_string_pretty(&result).unwrap_or_default())?;
    Ok(result)
}

fn column(t: &Table, name: &str) -> Option<usize> {
    t.columns.iter().position(|c| c == name)
}

fn result_path(data: &Path, out: &Path, path: &Path) -> PathBuf {
    out.join(path.strip_prefix(data).unwrap_or(path))
}

fn predictions_csv(p: &Predicted) -> String {
    let mut s = String::from("datetime;anomaly;changepoint\n");
    for ((&ts, &a), &c) in p.ts.iter().zip(&p.anomaly).zip(&p.changepoint) {
        let when = format_time(ts);
        let _ = writeln!(s, "{when};{};{}", u8::from(a), u8::from(c));
    }
    s
}

/// Scores the rows after the training part, pooled over files.
fn score(files: &[Predicted]) -> SkabResult {
    let test = |v: &[bool]| v.get(TRAINING_ROWS..).unwrap_or_default().to_vec();
    let pairs: Vec<(Vec<bool>, Vec<bool>)> = files.iter().map(|f| (test(&f.truth), test(&f.anomaly))).collect();
    let OutlierScore { f1, far, mar, .. } = outlier_scores(&pairs);
    let cps: Vec<ChangepointFile> = files
        .iter()
        .filter_map(|f| {
            let start = *f.ts.get(TRAINING_ROWS)?;
            Some(ChangepointFile {
                timestamps: f.ts[TRAINING_ROWS..].to_vec(),
                true_cps: f.true_cps.iter().copied().filter(|&t| t >= start).collect(),
                predicted: test(&f.changepoint),
            })
        })
        .collect();
    let changepoint = PROFILES.iter().map(|p| (p.name.to_owned(), changepoint_score(&cps, p))).collect();
    SkabResult { files: files.len(), f1, far, mar, changepoint }
}

/// Markdown table of the result next to the published anchors.
pub fn markdown(r: &SkabResult) -> String {
    let mut s =
        String::from("| detector | outlier F1 | FAR | MAR | changepoint score (standard) |\n|---|---|---|---|---|\n");
    let standard = r.changepoint.first().map_or(f64::NAN, |c| c.1);
    let _ = writeln!(
        s,
        "| upkeep ({} files) | {:.2} | {:.1}% | {:.1}% | {:.1} |",
        r.files,
        r.f1,
        100.0 * r.far,
        100.0 * r.mar,
        standard
    );
    s.push_str("| Conv-AE (published) | 0.78 | 13.6% | 28.0% | - |\n| MSCRED (published) | - | - | - | 32.4 |\n");
    s
}
