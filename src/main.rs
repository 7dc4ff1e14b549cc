//! The `upkeep` command line: the demo, the production engine, and the
//! config, rules and fleet tools.

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use upkeep::access::{Principal, Role};
use upkeep::config::{Config, DEFAULT_TOML};
#[cfg(feature = "demo")]
use upkeep::demo::{self, DemoOptions};
use upkeep::fleet::{generate, Fleet, FleetSpec};
use upkeep::rules::{load_dir, RuleSet};

#[derive(Parser)]
#[command(name = "upkeep", version, about = "Equipment telemetry in, pre-assigned service tickets out")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Everything on embedded defaults: broker, simulated fleet, engine, SQLite, API.
    #[cfg(feature = "demo")]
    Demo {
        /// Optional config file (broker port, API address, detection settings).
        #[arg(long)]
        config: Option<PathBuf>,
        #[arg(long, default_value_t = 200)]
        assets: usize,
        /// Simulated days of telemetry, ending now.
        #[arg(long, default_value_t = 7)]
        days: u32,
        #[arg(long, default_value_t = 7)]
        seed: u64,
        /// Stop after this long, e.g. 90s or 10m (default: until Ctrl-C).
        #[arg(long)]
        duration: Option<upkeep::model::Span>,
        #[arg(long, default_value = "upkeep-demo")]
        data_dir: PathBuf,
        /// Messages per second to replay at most (default: as fast as the
        /// engine takes them; 1000 when the InfluxDB sink is on, so InfluxDB keeps up).
        #[arg(long)]
        rate: Option<f64>,
        /// Share of assignments the simulated engineers answer (0 to 1); the
        /// rest wait for a dispatcher.
        #[arg(long, default_value_t = 0.8)]
        team_share: f64,
    },
    /// The production engine against an external broker and database.
    Run {
        /// Config file (default: upkeep.toml when present, else the built-in defaults).
        #[arg(long)]
        config: Option<PathBuf>,
    },
    /// Print the commented default configuration.
    GenerateConfig,
    /// Rule file tools.
    Rules {
        #[command(subcommand)]
        command: RulesCommand,
    },
    /// Fleet file tools.
    Fleet {
        #[command(subcommand)]
        command: FleetCommand,
    },
    /// API tokens: issue one (its secret is printed this once), list, revoke.
    Tokens {
        /// Config file naming the database and fleet (default: upkeep.toml when present).
        #[arg(long)]
        config: Option<PathBuf>,
        #[command(subcommand)]
        command: TokensCommand,
    },
    /// Console users (name and password): add, list, change a password, disable.
    Users {
        /// Config file naming the database and fleet (default: upkeep.toml when present).
        #[arg(long)]
        config: Option<PathBuf>,
        #[command(subcommand)]
        command: UsersCommand,
    },
    /// Detection and dispatch quality: runs the `upkeep-eval` binary installed beside this one.
    #[command(disable_help_flag = true)]
    Eval {
        /// Arguments for `upkeep-eval` (try `upkeep eval --help`).
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<OsString>,
    },
}

/// Whom a token or a user stands for.
#[derive(clap::Args)]
struct Who {
    /// Who it is: shown in the audit log and in ticket histories.
    #[arg(long)]
    name: String,
    /// admin, supervisor, dispatcher, engineer, operations or customer.
    #[arg(long)]
    role: Role,
    /// For an engineer: the engineer id in the fleet file.
    #[arg(long)]
    engineer: Option<String>,
    /// For a customer: the customer as the fleet file names it.
    #[arg(long)]
    customer: Option<String>,
}

#[derive(Subcommand)]
enum TokensCommand {
    /// A new token for a person or system, with its role.
    Issue(Who),
    /// Every token (never a secret), revoked ones included.
    List,
    /// Revoke a token by its id (`TOK-...`).
    Revoke { id: String },
}

#[derive(Subcommand)]
enum UsersCommand {
    /// A new user; the password is read from standard input (one line).
    Add(Who),
    /// Every user (never a password hash).
    List,
    /// A new password from standard input; the user's sessions end.
    Passwd { name: String },
    /// The user can no longer sign in; their sessions end.
    Disable { name: String },
}

#[derive(Subcommand)]
enum RulesCommand {
    /// Validate every rule file in DIR (default: rules/).
    Check { dir: Option<PathBuf> },
}

#[derive(Subcommand)]
enum FleetCommand {
    /// Validate a fleet file against the rules: ids, references, equipment models.
    Check {
        file: PathBuf,
        #[arg(long, default_value = "rules")]
        rules: PathBuf,
    },
    /// Write a reproducible synthetic fleet (assets, engineers, depots, parts) as JSON.
    Generate {
        #[arg(long, default_value_t = 200)]
        assets: usize,
        #[arg(long, default_value_t = 7)]
        seed: u64,
        #[arg(long, default_value = "rules")]
        rules: PathBuf,
        #[arg(long, default_value = "fleet.json")]
        out: PathBuf,
    },
}

/// Errors are printed once: a cause whose text the message already carries
/// is not repeated.
#[tokio::main]
async fn main() -> std::process::ExitCode {
    upkeep::telemetry::init_tracing();
    let Err(e) = command(Cli::parse().command).await else { return std::process::ExitCode::SUCCESS };
    let mut shown = e.to_string();
    eprintln!("error: {shown}");
    for cause in e.chain().skip(1).map(ToString::to_string) {
        if !shown.contains(&cause) {
            eprintln!("  caused by: {cause}");
            shown.push_str(&cause);
        }
    }
    std::process::ExitCode::FAILURE
}

async fn command(command: Command) -> Result<()> {
    match command {
        #[cfg(feature = "demo")]
        Command::Demo { config, assets, days, seed, duration, data_dir, rate, team_share } => {
            anyhow::ensure!((0.0..=1.0).contains(&team_share), "--team-share must be between 0 and 1");
            let config = Config::load(config.as_deref())?;
            let rules = rules(&config.rules.dir)?;
            let opts = DemoOptions {
                assets,
                days,
                seed,
                data_dir,
                duration: duration.map(upkeep::model::Span::as_std),
                rate,
                team_share,
            };
            let (trigger, stop) = upkeep::shutdown::channel();
            tokio::spawn(async move {
                terminated().await;
                trigger.fire();
            });
            demo::run(config, rules, opts, stop).await?;
        }
        Command::Run { config } => run(config.as_deref()).await?,
        Command::Fleet { command: FleetCommand::Check { file, rules: dir } } => {
            let fleet = fleet(&file, &*rules(&dir)?)?;
            println!(
                "ok: {} assets, {} engineers, {} depots",
                fleet.assets().len(),
                fleet.engineers().len(),
                fleet.depots().len()
            );
        }
        Command::GenerateConfig => print!("{DEFAULT_TOML}"),
        Command::Eval { args } => eval(args)?,
        Command::Tokens { config, command } => tokens(&load_config(config.as_deref())?, command).await?,
        Command::Users { config, command } => users(&load_config(config.as_deref())?, command).await?,
        Command::Rules { command: RulesCommand::Check { dir } } => {
            let dir = dir.unwrap_or_else(|| PathBuf::from("rules"));
            let set = rules(&dir)?;
            for m in set.sorted_models() {
                println!(
                    "{:<20} {} rules, metrics: {}",
                    m.model,
                    m.rules.len(),
                    m.metrics.iter().map(|x| x.as_str()).collect::<Vec<_>>().join(", ")
                );
            }
            println!("ok: {} models, {} rules", set.models.len(), set.rule_count());
        }
        Command::Fleet { command: FleetCommand::Generate { assets, seed, rules: dir, out } } => {
            let set = rules(&dir)?;
            let file = generate(&set, FleetSpec { assets, seed });
            std::fs::write(&out, serde_json::to_string_pretty(&file)?)
                .with_context(|| format!("writing {}", out.display()))?;
            println!(
                "wrote {} ({} assets, {} engineers, {} depots)",
                out.display(),
                file.assets.len(),
                file.engineers.len(),
                file.depots.len()
            );
        }
    }
    Ok(())
}

/// `upkeep eval ...` runs the evaluation lab, a binary of its own so the
/// engine carries none of it: the `upkeep-eval` next to this executable
/// (as `cargo build --release` and `cargo install` place it), else the one
/// on the PATH. Its exit status becomes ours.
fn eval(args: Vec<OsString>) -> Result<()> {
    let name = format!("upkeep-eval{}", std::env::consts::EXE_SUFFIX);
    let beside = std::env::current_exe()?.with_file_name(&name);
    let program = if beside.exists() { beside } else { PathBuf::from(name) };
    let status = std::process::Command::new(&program).args(args).status().with_context(|| {
        format!(
            "upkeep eval runs {}: build it with `cargo build --release` (the whole workspace) \
             or install it with `cargo install --path crates/upkeep-eval`",
            program.display()
        )
    })?;
    match status.code() {
        Some(0) => Ok(()),
        Some(code) => std::process::exit(code),
        None => bail!("{} was stopped by a signal", program.display()),
    }
}

fn rules(dir: &Path) -> Result<Arc<RuleSet>> {
    match load_dir(dir) {
        Ok(set) => Ok(Arc::new(set)),
        Err(errors) => {
            for e in &errors {
                eprintln!("error: {e}");
            }
            bail!("{} rule file error(s) in {}", errors.len(), dir.display())
        }
    }
}

/// Resolves on Ctrl-C or SIGTERM (how service managers stop a process).
async fn terminated() {
    let ctrl_c = async {
        if let Err(e) = tokio::signal::ctrl_c().await {
            tracing::error!(error = %e, "cannot listen for Ctrl-C");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(e) => {
                tracing::error!(error = %e, "cannot listen for SIGTERM");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {}
        _ = term => {}
    }
}

/// A fleet file that loads and whose every asset some rule file watches.
fn fleet(path: &Path, rules: &RuleSet) -> Result<Fleet> {
    let fleet = Fleet::load(path)?;
    let text = std::fs::read_to_string(path).ok();
    let unknown = fleet.unknown_models(rules, &path.display().to_string(), text.as_deref());
    if unknown.is_empty() {
        return Ok(fleet);
    }
    for e in &unknown {
        eprintln!("error: {e}");
    }
    bail!("{} asset(s) in {} name an equipment model no rule file covers", unknown.len(), path.display())
}

/// The configuration: a `--config` that does not exist is an error;
/// without one, `upkeep.toml` is read when present.
fn load_config(path: Option<&Path>) -> Result<Config> {
    let default = Path::new("upkeep.toml");
    let file = match path {
        Some(p) if !p.exists() => bail!("config file {} not found", p.display()),
        Some(p) => Some(p),
        None if default.exists() => Some(default),
        None => {
            tracing::info!("no upkeep.toml here: built-in defaults and UPKEEP__* overrides");
            None
        }
    };
    Ok(Config::load(file)?)
}

async fn database(config: &Config) -> Result<upkeep::db::Db> {
    let url = &config.database.url;
    upkeep::db::Db::connect(url, 1).await.with_context(|| format!("database {}", url.redacted()))
}

/// A principal whose engineer or customer exists in the configured fleet.
fn principal(config: &Config, who: Who) -> Result<Principal> {
    let p = Principal::new(&who.name, who.role, who.engineer.map(upkeep::model::EngineerId::new), who.customer)?;
    p.check_against(&Fleet::load(&config.fleet.path)?)?;
    Ok(p)
}

/// One line of standard input: a password, never an argument (which `ps` shows).
fn password_from_stdin() -> Result<String> {
    let mut line = String::new();
    std::io::stdin().read_line(&mut line).context("reading the password from standard input")?;
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

async fn users(config: &Config, command: UsersCommand) -> Result<()> {
    let store = database(config).await?.users();
    let now = upkeep::model::now_ms();
    match command {
        UsersCommand::Add(who) => {
            let p = principal(config, who)?;
            store.add(&p, &password_from_stdin()?, now).await?;
            println!("added {} ({})", p.name, p.role);
        }
        UsersCommand::List => {
            for u in store.list().await? {
                let whom = u.engineer_id.map(|e| e.to_string()).or(u.customer).unwrap_or_default();
                let state = if u.disabled_at.is_some() { "disabled" } else { "active" };
                println!("{}\t{}\t{whom}\t{state}", u.name, u.role);
            }
        }
        UsersCommand::Passwd { name } => {
            if !store.set_password(&name, &password_from_stdin()?).await? {
                bail!("no user {name}");
            }
            println!("password of {name} changed; their sessions ended");
        }
        UsersCommand::Disable { name } => {
            if !store.disable(&name, now).await? {
                bail!("no active user {name}");
            }
            println!("disabled {name}; their sessions ended");
        }
    }
    Ok(())
}

async fn tokens(config: &Config, command: TokensCommand) -> Result<()> {
    let store = database(config).await?.tokens();
    let now = upkeep::model::now_ms();
    match command {
        TokensCommand::Issue(who) => {
            let p = principal(config, who)?;
            let issued = store.issue(&p, now).await?;
            eprintln!("issued {} to {} ({}); the token is shown this once:", issued.record.id, p.name, p.role);
            println!("{}", issued.token);
        }
        TokensCommand::List => {
            for t in store.list().await? {
                let whom = t.engineer_id.map(|e| e.to_string()).or(t.customer).unwrap_or_default();
                let state = if t.revoked_at.is_some() { "revoked" } else { "live" };
                println!("{}\t{}\t{}\t{whom}\t{state}", t.id, t.role, t.name);
            }
        }
        TokensCommand::Revoke { id } => {
            if !store.revoke(&id, now).await? {
                bail!("no live token {id}");
            }
            println!("revoked {id}");
        }
    }
    Ok(())
}

/// Production mode: runs until Ctrl-C or SIGTERM, then drains and acknowledges.
async fn run(path: Option<&Path>) -> Result<()> {
    let config = load_config(path)?;
    let rules = rules(&config.rules.dir)?;
    let fleet = Arc::new(fleet(&config.fleet.path, &rules)?);
    // Ctrl-C also ends a start-up that waits for the database.
    let running = tokio::select! {
        r = upkeep::app::start(&config, fleet, rules) => r?,
        () = terminated() => return Ok(()),
    };
    terminated().await;
    tracing::info!("shutting down");
    running.stop().await;
    Ok(())
}
