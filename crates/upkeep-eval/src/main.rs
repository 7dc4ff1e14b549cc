//! `upkeep-eval`, also reached as `upkeep eval ...` when it is installed
//! beside `upkeep`: detection and dispatch quality on the command line.

mod cli;

use clap::Parser;

#[derive(Parser)]
#[command(
    name = "upkeep eval",
    version,
    about = "Detection quality on public benchmarks and the simulated fleet; dispatch quality against the optimum"
)]
struct Cli {
    #[command(subcommand)]
    command: cli::EvalCommand,
    #[command(flatten)]
    common: cli::Common,
}

fn main() -> std::process::ExitCode {
    upkeep::telemetry::init_tracing();
    let cli = Cli::parse();
    match cli::run(cli.command, cli.common) {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}
