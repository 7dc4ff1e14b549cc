//! `upkeep eval ...`: the benchmark and fleet evaluations on the command line.

use anyhow::Result;
use clap::{Args, Subcommand};
use std::path::PathBuf;
use upkeep::config::Config;
use upkeep::eval::{self, nab::NabOptions, skab::SkabOptions};

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
    }
    Ok(())
}
