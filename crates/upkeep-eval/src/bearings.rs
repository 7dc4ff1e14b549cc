//! `upkeep eval bearings`: run-to-failure bearings (FEMTO/PRONOSTIA features
//! and the IMS set) replayed bearing by bearing: when would the engine have
//! opened a ticket, and how long before the end of the run?

use super::data::{files_under, read_femto, read_timed_csv, Table};
use super::progress::Progress;
use super::replay::Replay;
use super::{load_rules, write, EvalError};
use serde::Serialize;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::sync::Arc;
use upkeep::detect::WindowParams;
use upkeep::model::{EpochMs, Span};
use upkeep::rules::ModelRules;

pub struct BearingOptions {
    /// FEMTO feature files (any depth).
    pub femto: Option<PathBuf>,
    /// IMS merged file: timestamp, Bearing 1..4.
    pub ims: Option<PathBuf>,
    pub out: PathBuf,
    pub rules: PathBuf,
}

/// One bearing's replay.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct BearingRun {
    pub dataset: String,
    pub bearing: String,
    /// Whether the run ends in the bearing's failure.
    pub fails: bool,
    pub start: EpochMs,
    pub end: EpochMs,
    pub ticket: Option<EpochMs>,
    /// `(time, value)` of the plotted signal and of the rule's observed quantity.
    #[serde(skip)]
    pub signal: Vec<(EpochMs, f64)>,
    #[serde(skip)]
    pub observed: Vec<(EpochMs, f64)>,
    /// The rule's bound on the observed quantity.
    pub threshold: Option<f64>,
}

impl BearingRun {
    /// Hours from ticket to the end of the run, for a failing bearing.
    pub fn lead_hours(&self) -> Option<f64> {
        self.ticket.filter(|_| self.fails).map(|t| Span(self.end - t).as_hours_f64())
    }

    /// Hours since the start of the run at event time `t`.
    pub fn hours_at(&self, t: EpochMs) -> f64 {
        Span(t - self.start).as_hours_f64()
    }
}

pub fn run(o: &BearingOptions, params: &WindowParams) -> Result<Vec<BearingRun>, EvalError> {
    let rules = load_rules(&o.rules)?;
    let mut runs = Vec::new();
    if let Some(dir) = &o.femto {
        let paths = files_under(dir, "csv")?;
        let mut progress = Progress::new("femto", paths.len());
        for path in paths {
            progress.step(&path.display().to_string());
            let name = path.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            runs.push(replay(&rules, "femto", params, "FEMTO", &name, true, &read_femto(&path)?)?);
        }
    }
    if let Some(path) = &o.ims {
        let table = read_timed_csv(path, ',')?;
        for (c, name) in table.columns.iter().enumerate() {
            // Bearing 1 fails (outer race) at the end of test 2; the others do not.
            let single = Table {
                columns: vec!["rms_h".into()],
                ts: table.ts.clone(),
                rows: table.rows.iter().map(|r| vec![r[c]]).collect(),
            };
            runs.push(replay(&rules, "ims", params, "IMS test 2", name, c == 0, &single)?);
        }
    }
    write(&o.out.join("tickets.csv"), tickets_csv(&runs))?;
    write(&o.out.join("tickets.json"), serde_json::to_string_pretty(&runs).unwrap_or_default())?;
    Ok(runs)
}

fn replay(
    rules: &Arc<ModelRules>,
    rule_id: &str,
    params: &WindowParams,
    dataset: &str,
    bearing: &str,
    fails: bool,
    t: &Table,
) -> Result<BearingRun, EvalError> {
    let mut r = Replay::new(Arc::clone(rules), *params, bearing, &t.columns);
    let rule = r.rule_index(rule_id).ok_or_else(|| EvalError::Invalid(format!("no rule '{rule_id}' for bearings")))?;
    let threshold = rules.rules[rule].when.checks().first().and_then(|c| c.detector.bound()).map(|b| b.limit());
    let mut run = BearingRun {
        dataset: dataset.into(),
        bearing: bearing.into(),
        fails,
        start: t.ts.first().copied().unwrap_or_default(),
        end: t.ts.last().copied().unwrap_or_default(),
        ticket: None,
        signal: Vec::with_capacity(t.rows.len()),
        observed: Vec::new(),
        threshold,
    };
    for (&ts, row) in t.ts.iter().zip(&t.rows) {
        r.feed(ts, row);
        let v = r.view(rule);
        run.signal.push((ts, row[0]));
        run.observed.extend(v.observed.map(|o| (ts, o)));
        if v.opened && run.ticket.is_none() {
            run.ticket = Some(ts);
        }
    }
    Ok(run)
}

fn tickets_csv(runs: &[BearingRun]) -> String {
    let mut s = String::from("dataset,bearing,fails,run_hours,ticket_hours,lead_hours\n");
    for r in runs {
        let ticket = r.ticket.map_or(String::new(), |t| format!("{:.2}", r.hours_at(t)));
        let lead = r.lead_hours().map_or(String::new(), |l| format!("{l:.2}"));
        let _ = writeln!(s, "{},{},{},{:.2},{ticket},{lead}", r.dataset, r.bearing, r.fails, r.hours_at(r.end));
    }
    s
}

/// Markdown table: one line per bearing.
pub fn markdown(runs: &[BearingRun]) -> String {
    let mut s = String::from(
        "| data set | bearing | run ends in failure | run (h) | ticket after (h) | lead before end (h) |\n|---|---|---|---|---|---|\n",
    );
    for r in runs {
        let ticket = r.ticket.map_or("no ticket".into(), |t| format!("{:.1}", r.hours_at(t)));
        let lead = r.lead_hours().map_or("-".into(), |l| format!("{l:.1}"));
        let _ = writeln!(
            s,
            "| {} | {} | {} | {:.1} | {ticket} | {lead} |",
            r.dataset,
            r.bearing,
            if r.fails { "yes" } else { "no" },
            r.hours_at(r.end)
        );
    }
    s
}
