//! `upkeep eval report`: runs every evaluation on a datasets directory laid
//! out as `../shared/datasets` (see its README) and writes `report.md` with
//! one table per benchmark next to the published anchors, plus a PNG per
//! run-to-failure unit (signal, health index or detector output, threshold,
//! ticket time).

use super::bearings::{self, BearingOptions, BearingRun};
use super::cmapss::{self, CmapssOptions, UnitRun, TICKET_BELOW};
use super::data::{read_cmapss, Table};
use super::fleet::{self, FleetOptions};
use super::mlp::MlpParams;
use super::nab::{self, NabOptions};
use super::plot::{write_png, Chart, Series};
use super::skab::{self, SkabOptions};
use super::{create_dir, write, EvalError};
use std::path::{Path, PathBuf};
use upkeep::config::Config;
use upkeep::rules::RuleSet;

pub struct ReportOptions {
    pub datasets: PathBuf,
    pub out: PathBuf,
    /// Where the benchmark rule files are (`nab.toml`, `skab.toml`, `bearing.toml`).
    pub benchmark_rules: PathBuf,
    pub fleet_assets: usize,
    pub fleet_days: u32,
}

const SIGNAL: [u8; 3] = [31, 119, 180];
const HEALTH: [u8; 3] = [44, 160, 44];
const TICKET: [u8; 3] = [214, 39, 40];
const END: [u8; 3] = [0, 0, 0];

pub fn run(o: &ReportOptions, config: &Config, rules: &RuleSet) -> Result<String, EvalError> {
    let params = super::params(&config.detect);
    let d = &o.datasets;
    let mut md = String::from("# upkeep detection report\n\nWritten by `upkeep eval report`; every number comes from replaying the files through the live window, detector and rule code.\n\n");
    let nab_opts = NabOptions {
        data: d.join("nab/data"),
        labels: d.join("nab/labels/combined_windows.json"),
        out: o.out.join("nab"),
        detector: "upkeep".into(),
        rules: o.benchmark_rules.join("nab.toml"),
    };
    md += &format!(
        "## NAB ({} threshold fixed in config)\n\n{}\n",
        config.detect.anomaly_threshold,
        nab::markdown(&nab::run(&nab_opts, &params)?)
    );
    let skab_opts = SkabOptions {
        data: d.join("skab"),
        out: o.out.join("skab"),
        rules: o.benchmark_rules.join("skab.toml"),
        rule: "upkeep".into(),
    };
    md += &format!("## SKAB\n\n{}\n", skab::markdown(&skab::run(&skab_opts, &params)?));
    let train = d.join("cmapss/train_FD001_dev.txt");
    let cm_opts = CmapssOptions {
        train: train.clone(),
        test: None,
        rul: None,
        out: o.out.join("cmapss"),
        folds: 5,
        seed: 7,
        mlp: MlpParams::default(),
    };
    let (cm, units) = cmapss::run(&cm_opts, &params)?;
    md += &format!("## C-MAPSS FD001\n\n{}\n", cmapss::markdown(&cm));
    plot_units(&units, &read_cmapss(&train, cmapss::CYCLE_MS)?, &o.out.join("plots/cmapss"))?;
    md += "Plots: `plots/cmapss/unit_<n>.png`.\n\n";
    let br_opts = BearingOptions {
        femto: Some(d.join("femto")),
        ims: Some(d.join("ims_bearing/merged_dataset_BearingTest_2.csv")),
        out: o.out.join("bearings"),
        rules: o.benchmark_rules.join("bearing.toml"),
    };
    let runs = bearings::run(&br_opts, &params)?;
    plot_bearings(&runs, &o.out.join("plots/bearings"))?;
    md +=
        &format!("## Bearings\n\n{}\nPlots: `plots/bearings/<data set>_<bearing>.png`.\n\n", bearings::markdown(&runs));
    let fl_opts = FleetOptions {
        assets: o.fleet_assets,
        days: o.fleet_days,
        seed: 7,
        min_lead_hours: 48,
        max_lead_hours: 168,
        out: o.out.join("fleet"),
    };
    md += &format!("## Simulated fleet\n\n{}", fleet::markdown(&fleet::run(&fl_opts, config, rules)?));
    write(&o.out.join("report.md"), &md)?;
    Ok(md)
}

/// The sensor that follows the health index most closely (|correlation|).
fn telling_sensor(t: &Table, health: &[(i64, f64)]) -> usize {
    let h: Vec<f64> = health.iter().map(|p| p.1).collect();
    let corr = |c: usize| {
        let x: Vec<f64> = t.rows.iter().rev().take(h.len()).rev().map(|r| r[c]).collect();
        pearson(&x, &h).abs()
    };
    (0..t.columns.len())
        .filter(|&c| t.columns[c].starts_with("sensor"))
        .max_by(|&a, &b| corr(a).total_cmp(&corr(b)))
        .unwrap_or(0)
}

fn pearson(x: &[f64], y: &[f64]) -> f64 {
    let n = x.len().min(y.len()) as f64;
    let (mx, my) = (x.iter().sum::<f64>() / n, y.iter().sum::<f64>() / n);
    let cov: f64 = x.iter().zip(y).map(|(a, b)| (a - mx) * (b - my)).sum();
    let vx: f64 = x.iter().map(|a| (a - mx).powi(2)).sum();
    let vy: f64 = y.iter().map(|b| (b - my).powi(2)).sum();
    let r = cov / (vx * vy).sqrt();
    if r.is_finite() {
        r
    } else {
        0.0
    }
}

fn plot_units(units: &[UnitRun], tables: &[(u32, Table)], dir: &Path) -> Result<(), EvalError> {
    create_dir(dir)?;
    for u in units {
        let Some((_, t)) = tables.iter().find(|(n, _)| *n == u.unit) else { continue };
        let c = telling_sensor(t, &u.health);
        let signal: Vec<(f64, f64)> =
            t.ts.iter().zip(&t.rows).map(|(&ts, r)| ((ts / cmapss::CYCLE_MS) as f64, r[c])).collect();
        let health: Vec<(f64, f64)> = u.health.iter().map(|&(x, y)| (x as f64, y)).collect();
        let mut markers = vec![(u.cycles as f64, "failure", END)];
        markers.extend(u.ticket.map(|t| (t as f64, "ticket", TICKET)));
        let title = format!("C-MAPSS FD001 unit {}", u.unit);
        let chart = Chart {
            title: &title,
            x_label: "cycle",
            top: vec![Series { label: &t.columns[c], points: &signal, color: SIGNAL }],
            bottom: vec![Series { label: "health index", points: &health, color: HEALTH }],
            threshold: Some(TICKET_BELOW),
            markers,
        };
        write_png(&chart, &dir.join(format!("unit_{}.png", u.unit)))?;
    }
    Ok(())
}

fn plot_bearings(runs: &[BearingRun], dir: &Path) -> Result<(), EvalError> {
    create_dir(dir)?;
    for r in runs {
        let hours = |pts: &[(i64, f64)]| -> Vec<(f64, f64)> { pts.iter().map(|&(t, v)| (r.hours_at(t), v)).collect() };
        let (signal, observed) = (hours(&r.signal), hours(&r.observed));
        let mut markers = vec![(r.hours_at(r.end), if r.fails { "failure" } else { "end" }, END)];
        markers.extend(r.ticket.map(|t| (r.hours_at(t), "ticket", TICKET)));
        let title = format!("{} {}", r.dataset, r.bearing);
        let chart = Chart {
            title: &title,
            x_label: "hours",
            top: vec![Series { label: "vibration rms", points: &signal, color: SIGNAL }],
            bottom: vec![Series { label: "detector", points: &observed, color: HEALTH }],
            threshold: r.threshold,
            markers,
        };
        let name = format!("{}_{}.png", r.dataset, r.bearing).replace(' ', "_");
        write_png(&chart, &dir.join(name))?;
    }
    Ok(())
}
