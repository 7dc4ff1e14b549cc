//! `upkeep eval ...`: the benchmark and fleet evaluations on the command line.

use anyhow::Result;
use clap::{Args, Subcommand};
use std::path::PathBuf;
use upkeep::config::Config;
use upkeep_eval as eval;
use upkeep_eval::{
    bearings::BearingOptions, cmapss::CmapssOptions, fleet::FleetOptions, mlp::MlpParams, nab::NabOptions,
    report::ReportOptions, skab::SkabOptions,
};

#[derive(Args)]
pub struct Common {
    /// Config file whose [detect] settings (and fixed anomaly threshold) are used.
    #[arg(long, global = true)]
    config: Option<PathBuf>,
}

#[derive(Subcommand)]
pub enum EvalCommand {
    /// NAB: writes OUT/NAME/<category>/NAME_<file>.csv and scores them.
    Nab {
        #[arg(long)]
        data: PathBuf,
        #[arg(long)]
        labels: PathBuf,
        #[arg(long)]
        out: PathBuf,
        /// A rule id of the rule file: the detector configuration to run.
        #[arg(long, default_value = "upkeep")]
        detector: String,
        #[arg(long, default_value = "rules/benchmarks/nab.toml")]
        rules: PathBuf,
    },
    /// SKAB: per-file predictions (anomaly and changepoint per row), F1/FAR/MAR and the changepoint score.
    Skab {
        #[arg(long)]
        data: PathBuf,
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value = "upkeep")]
        rule: String,
        #[arg(long, default_value = "rules/benchmarks/skab.toml")]
        rules: PathBuf,
    },
    /// C-MAPSS: fits a health-index rule on --train, predicts RUL per test unit (RUL_pred.txt) and scores it.
    Cmapss {
        #[arg(long)]
        train: PathBuf,
        /// Test units (truncated trajectories); without it, units of --train are cross-validated.
        #[arg(long)]
        test: Option<PathBuf>,
        /// True RUL per test unit, one per line.
        #[arg(long)]
        rul: Option<PathBuf>,
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 5)]
        folds: usize,
        #[arg(long, default_value_t = 7)]
        seed: u64,
    },
    /// Run-to-failure bearings (FEMTO features, IMS test 2): the time a ticket would have opened, per bearing.
    Bearings {
        #[arg(long)]
        femto: Option<PathBuf>,
        #[arg(long)]
        ims: Option<PathBuf>,
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value = "rules/benchmarks/bearing.toml")]
        rules: PathBuf,
    },
    /// The simulated fleet with injected faults: recall, lead time and false tickets against ground truth.
    Fleet {
        #[arg(long, default_value_t = 1000)]
        assets: usize,
        #[arg(long, default_value_t = 14)]
        days: u32,
        #[arg(long, default_value_t = 7)]
        seed: u64,
        /// Shortest degradation time from onset to functional failure.
        #[arg(long, default_value_t = 48)]
        min_lead_hours: u32,
        #[arg(long, default_value_t = 168)]
        max_lead_hours: u32,
        #[arg(long)]
        out: PathBuf,
    },
    /// Every evaluation on a datasets directory laid out as ../shared/datasets: OUT/report.md and plots.
    Report {
        #[arg(long, default_value = "../shared/datasets")]
        datasets: PathBuf,
        #[arg(long, default_value = "eval-out")]
        out: PathBuf,
        #[arg(long, default_value = "rules/benchmarks")]
        benchmark_rules: PathBuf,
        #[arg(long, default_value_t = 1000)]
        fleet_assets: usize,
        #[arg(long, default_value_t = 14)]
        fleet_days: u32,
    },
    /// A generated day of tickets through the live dispatch (with storm re-planning) against the offline optimum.
    Dispatch {
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Engineers in the region (50 to 10,000); about a third as many tickets.
        #[arg(long, default_value_t = 500)]
        engineers: usize,
        /// Minutes after assignment at which engineers accept (re-plans move only unaccepted tickets).
        #[arg(long, default_value_t = 30)]
        accept_minutes: i64,
        #[arg(long, value_enum, default_value_t = Format::Text)]
        format: Format,
    },
}

#[derive(Clone, Copy, clap::ValueEnum)]
pub enum Format {
    Text,
    Json,
}

pub fn run(command: EvalCommand, common: Common) -> Result<()> {
    let config = Config::load(common.config.as_deref())?;
    let params = eval::params(&config.detect);
    match command {
        EvalCommand::Nab { data, labels, out, detector, rules } => {
            let r = eval::nab::run(&NabOptions { data, labels, out, detector, rules }, &params)?;
            print!("{}", eval::nab::markdown(&r));
        }
        EvalCommand::Skab { data, out, rule, rules } => {
            let r = eval::skab::run(&SkabOptions { data, out, rules, rule }, &params)?;
            print!("{}", eval::skab::markdown(&r));
        }
        EvalCommand::Cmapss { train, test, rul, out, folds, seed } => {
            let (r, _) = eval::cmapss::run(
                &CmapssOptions { train, test, rul, out, folds, seed, mlp: MlpParams::default() },
                &params,
            )?;
            print!("{}", eval::cmapss::markdown(&r));
        }
        EvalCommand::Bearings { femto, ims, out, rules } => {
            let runs = eval::bearings::run(&BearingOptions { femto, ims, out, rules }, &params)?;
            print!("{}", eval::bearings::markdown(&runs));
        }
        EvalCommand::Dispatch { seed, engineers, accept_minutes, format } => {
            let o = eval::dispatch::DispatchOptions { seed, engineers, accept_minutes };
            let r = eval::dispatch::run(&o, &config.dispatch, &config.sla)?;
            match format {
                Format::Text => print!("{}", eval::dispatch::text(&r)),
                Format::Json => println!("{}", serde_json::to_string(&r)?),
            }
        }
        EvalCommand::Report { datasets, out, benchmark_rules, fleet_assets, fleet_days } => {
            let o = ReportOptions { datasets, out, benchmark_rules, fleet_assets, fleet_days };
            print!("{}", eval::report::run(&o, &config, &product_rules(&config)?)?);
        }
        EvalCommand::Fleet { assets, days, seed, min_lead_hours, max_lead_hours, out } => {
            let rules = product_rules(&config)?;
            let o = FleetOptions { assets, days, seed, min_lead_hours, max_lead_hours, out };
            let r = eval::fleet::run(&o, &config, &rules)?;
            print!("{}", eval::fleet::markdown(&r));
            println!("({} readings in {:.1} s)", r.readings, r.seconds);
        }
    }
    Ok(())
}

/// The live engine's rules (the fleet evaluation plays the product's models).
fn product_rules(config: &Config) -> Result<upkeep::rules::RuleSet> {
    upkeep::rules::load_dir(&config.rules.dir)
        .map_err(|errors| anyhow::anyhow!(errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("\n")))
}
