//! The zero-setup demo: an embedded broker, a generated fleet, the simulator
//! replaying days of degrading telemetry faster than real time and then
//! going on in real time, the engine and its API, a simulated service team
//! working the tickets at a human pace, with a live progress line.
//! Everything stays on loopback.

mod field;
mod live;
mod tokens;

use crate::app::{self, AppError, Running};
use crate::config::Config;
use crate::db::DatabaseUrl;
use crate::fleet::{generate, Fleet, FleetSpec};
use crate::ingest::broker::{self, BrokerError};
use crate::ingest::BrokerUrl;
use crate::rules::RuleSet;
use crate::shutdown::Shutdown;
use crate::telemetry::Snapshot;
use device_sim::{EquipmentKind, PublishConfig, SimAsset, SimConfig};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error("cannot prepare the demo directory {path}: {source}")]
    Dir { path: PathBuf, source: std::io::Error },
    #[error(transparent)]
    Broker(#[from] BrokerError),
    #[error(transparent)]
    App(#[from] AppError),
    #[error("simulator: {0}")]
    Sim(#[from] device_sim::SimError),
    #[error("fleet: {0}")]
    Fleet(#[from] crate::fleet::FleetError),
    #[error("API tokens: {0}")]
    Access(#[from] crate::access::AccessError),
}

#[derive(Debug, Clone)]
pub struct DemoOptions {
    pub assets: usize,
    pub days: u32,
    pub seed: u64,
    pub data_dir: PathBuf,
    /// Stop after this long (wall clock); `None` runs until Ctrl-C.
    pub duration: Option<Duration>,
    /// Messages per second the simulator publishes at most; `None`: as fast
    /// as the engine takes them, or `INFLUX_PACE` with the InfluxDB sink on.
    pub rate: Option<f64>,
    /// Share of assignments the simulated engineers answer; the rest wait
    /// for a dispatcher.
    pub team_share: f64,
}

/// The replay's last hours, in which (as live) people play their part:
/// unanswered assignments wait for a dispatcher, the printed engineer's
/// tickets for whoever uses that token.
const PEOPLE_HOURS: i64 = 12;

/// Messages per second of the replay when the InfluxDB sink is on: what the
/// local InfluxDB 1.6 took on the 2-core box without the sink dropping
/// points (about 70 k points/s; see README, "Benchmarks and load").
const INFLUX_PACE: f64 = 1000.0;

/// Runs the demo until `stop` is set or the duration has passed.
pub async fn run(
    mut config: Config,
    rules: Arc<RuleSet>,
    opts: DemoOptions,
    mut stop: Shutdown,
) -> Result<(), DemoError> {
    let fleet = prepare(&opts, &rules)?;
    let port = broker::start(config.broker.port)?;
    config.mqtt.url = BrokerUrl { tls: false, host: "127.0.0.1".into(), port };
    config.mqtt.client_id = "upkeep-demo".into();
    config.database.url = DatabaseUrl::sqlite(opts.data_dir.join("upkeep.db").display());
    // The replay's days end now: the engine acts on their event time, so a
    // ticket's history and the simulated field work share one clock.
    let replay_start = crate::model::now_ms() - i64::from(opts.days.max(1)) * 86_400_000;
    let clock = crate::model::Clock::event_time(replay_start);
    let running = app::start_on(&config, Arc::clone(&fleet), rules, clock.clone()).await?;
    println!("upkeep demo: embedded broker on 127.0.0.1:{port}, database {}", config.database.url);
    let tokens = tokens::issue(&running.db.tokens(), &fleet, &opts.data_dir).await?;
    println!(
        "API and console on http://{}; sign in with a token (also in {}):",
        running.api_addr,
        opts.data_dir.join("tokens.env").display()
    );
    for line in tokens {
        println!("{line}");
    }
    println!(
        "a simulated service team accepts, travels to, repairs and closes the assigned tickets; the engineer \
         token's tickets are yours to work at http://{}/field",
        running.api_addr
    );
    let (field_trigger, field_stop) = crate::shutdown::channel();
    let team = field::Team {
        seed: opts.seed,
        share: opts.team_share,
        people_from: crate::model::now_ms() - PEOPLE_HOURS * 3_600_000,
        played: fleet.engineers().first().map(|e| e.id.clone()),
    };
    let field_team = tokio::spawn(field::run(running.db.tickets(), clock, team, field_stop));

    if !running.metrics.wait_subscribed(Duration::from_secs(10)).await {
        tracing::warn!("the engine is not subscribed yet; early simulated messages may be missed");
    }
    let sim = live::Replay::new(&sim_assets(&fleet), opts.seed, opts.days)?;
    let truth_path = opts.data_dir.join("truth.json");
    let mut truth = sim.truth();
    let rate = opts.rate.or(config.influx.url.as_ref().map(|_| INFLUX_PACE));
    if let Some(r) = rate {
        println!("replaying at most {r} messages/s (--rate)");
    }
    let publish_cfg = PublishConfig {
        broker_url: config.mqtt.url.to_string(),
        client_id: "upkeep-demo-sim".into(),
        rate,
        hold_until_due: true,
        ..PublishConfig::default()
    };
    let mut publisher = tokio::spawn(async move { device_sim::publish_messages(sim, &publish_cfg, |_| {}).await });
    let deadline = opts.duration.map(|d| Instant::now() + d);
    let mut ticker = tokio::time::interval(Duration::from_secs(2));
    let mut last = (Instant::now(), Snapshot::default());
    let mut publishing = true;
    loop {
        tokio::select! {
            _ = stop.wait() => break,
            _ = ticker.tick() => {
                last = progress(&running, last).await;
                if deadline.is_some_and(|d| Instant::now() >= d) {
                    break;
                }
            }
            done = &mut publisher, if publishing => {
                publishing = false;
                match done {
                    Ok(Ok(stats)) => {
                        truth.malformed_sent = stats.malformed_by_kind.clone();
                        println!("simulation published {} messages ({} readings) in {:.1}s; the API stays up until Ctrl-C",
                            stats.messages, stats.readings, stats.elapsed.as_secs_f64());
                    }
                    Ok(Err(e)) => tracing::error!(error = %e, "simulator failed"),
                    Err(e) => tracing::error!(error = %e, "simulator task failed"),
                }
            }
        }
    }
    publisher.abort();
    if let Err(e) = device_sim::write_truth(&truth_path, &truth) {
        tracing::warn!(error = %e, "cannot write ground truth");
    }
    let final_snapshot = running.metrics.snapshot();
    let dead_letters = running.dead_letters.total();
    field_trigger.fire();
    let _ = field_team.await;
    running.stop().await;
    println!(
        "stopped: {} readings, {} dead letters, tickets opened {} (ground truth in {})",
        final_snapshot.readings,
        dead_letters,
        by_severity(final_snapshot.opened),
        truth_path.display()
    );
    Ok(())
}

/// A fresh demo directory (old demo database and detection state removed:
/// each demo replays a new stream) and the fleet file.
fn prepare(opts: &DemoOptions, rules: &RuleSet) -> Result<Arc<Fleet>, DemoError> {
    let dir_err = |source| DemoError::Dir { path: opts.data_dir.clone(), source };
    std::fs::create_dir_all(&opts.data_dir).map_err(dir_err)?;
    for name in ["upkeep.db", "upkeep.db-wal", "upkeep.db-shm"] {
        match std::fs::remove_file(opts.data_dir.join(name)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(dir_err(e)),
            _ => {}
        }
    }
    match std::fs::remove_dir_all(opts.data_dir.join("upkeep.db.state")) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(dir_err(e)),
        _ => {}
    }
    let file = generate(rules, FleetSpec { assets: opts.assets, seed: opts.seed });
    let text = serde_json::to_string_pretty(&file).unwrap_or_default();
    std::fs::write(opts.data_dir.join("fleet.json"), text).map_err(dir_err)?;
    Ok(Arc::new(Fleet::new(file)?))
}

/// The fleet's assets of the models the simulator can play.
pub fn sim_assets(fleet: &Fleet) -> Vec<SimAsset> {
    fleet
        .assets()
        .iter()
        .filter_map(|a| Some(SimAsset { id: a.id.to_string(), model: a.model.as_str().parse::<EquipmentKind>().ok()? }))
        .collect()
}

/// A simulated period that ends now (start on a whole minute), so every
/// reading is recent event time and passes the decoder's age limits.
pub fn replay_ending_now(seed: u64, duration: chrono::Duration) -> SimConfig {
    let now = chrono::Utc::now();
    let start = now - duration - chrono::Duration::seconds(now.timestamp() % 60);
    SimConfig { seed, start, duration, ..SimConfig::default() }
}

/// The progress line: the intake's rate, and the tickets still open by
/// their severity as it stands now (raised ones at their new tier).
async fn progress(running: &Running, (then, before): (Instant, Snapshot)) -> (Instant, Snapshot) {
    let now = Instant::now();
    let s = running.metrics.snapshot();
    let rate = (s.readings - before.readings) as f64 / now.duration_since(then).as_secs_f64().max(1e-3);
    let open = match running.db.ticket_reader().open_by_severity().await {
        Ok(open) => by_severity(open),
        Err(e) => format!("unknown ({e})"),
    };
    println!(
        "readings/s {rate:>9.0} | readings {:>10} | dead letters {:>4} | findings {:>5} | opened {:>4} | open now: {open}",
        s.readings,
        running.dead_letters.total(),
        s.findings,
        s.opened.iter().sum::<u64>(),
    );
    (now, s)
}

fn by_severity([general, major, emergency]: [u64; 3]) -> String {
    format!("emergency {emergency}, major {major}, general {general}")
}
