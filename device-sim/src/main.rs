//! `device-sim` command line: simulate a fleet, publish it over MQTT, write
//! the ground truth; or (`--load`) hammer the broker/engine for a fixed wall
//! time and report sustained throughput. All logic lives in the library; this
//! file only maps flags to it and prints progress.

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use chrono::{DateTime, Utc};
use clap::Parser;
use device_sim::{
    fetch_upkeep_metrics, load_fleet_assets, publish, publish_messages, synthetic_fleet, write_truth, EquipmentKind,
    PublishConfig, PublishStats, SimConfig, Simulator,
};

/// Simulated equipment fleet publishing telemetry to MQTT, with recorded ground truth.
#[derive(Parser, Debug)]
#[command(version, about)]
struct Args {
    /// Fleet file written by the engine's generator (reads assets[].id and assets[].model).
    #[arg(long, required_unless_present = "assets", conflicts_with = "assets")]
    fleet: Option<PathBuf>,
    /// Instead of --fleet: simulate N synthetic assets (PMP-0001, CHL-0001, ...).
    #[arg(long, value_name = "N")]
    assets: Option<usize>,
    /// Models for --assets, assigned round-robin (pump, compressor, chiller, elevator, spindle).
    #[arg(long, value_delimiter = ',', default_value = "pump,compressor,chiller,elevator,spindle")]
    models: Vec<EquipmentKind>,
    /// Broker URL, mqtt://host:port (plain TCP).
    #[arg(long, default_value = "mqtt://127.0.0.1:1883")]
    broker: String,
    /// MQTT client id [default: device-sim-<pid>].
    #[arg(long)]
    client_id: Option<String>,
    /// Messages go to <topic-prefix>/<asset id>.
    #[arg(long, default_value = "upkeep/telemetry")]
    topic_prefix: String,
    /// MQTT QoS (0, 1 or 2).
    #[arg(long, default_value_t = 1)]
    qos: u8,
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Simulated days.
    #[arg(long, default_value_t = 3.0)]
    days: f64,
    /// Event time of the first sample (RFC 3339) [default: 2026-01-01T00:00:00Z].
    #[arg(long)]
    start: Option<DateTime<Utc>>,
    /// Sample period (e.g. 60s, 5m).
    #[arg(long, default_value = "60s", value_parser = parse_duration)]
    interval: Duration,
    #[arg(long, default_value_t = 10)]
    ticks_per_message: usize,
    /// Share of assets with a progressive (machine) fault.
    #[arg(long, default_value_t = 0.10)]
    fault_share: f64,
    /// Share of the other assets with a sensor fault.
    #[arg(long, default_value_t = 0.05)]
    sensor_fault_share: f64,
    /// Shortest onset-to-failure lead time.
    #[arg(long, default_value = "24h", value_parser = parse_duration)]
    min_lead: Duration,
    /// Longest onset-to-failure lead time.
    #[arg(long, default_value = "72h", value_parser = parse_duration)]
    max_lead: Duration,
    /// Write the ground truth (pretty JSON) here.
    #[arg(long, conflicts_with = "load")]
    truth: Option<PathBuf>,
    /// Maximum messages per second [default: unlimited].
    #[arg(long)]
    rate: Option<f64>,
    /// Hold each message until the wall clock reaches its event time: a
    /// run that reaches the present goes on in real time.
    #[arg(long, conflicts_with = "load")]
    live: bool,
    /// Replace every Nth message by a malformed one.
    #[arg(long, value_name = "N")]
    malformed_every: Option<u64>,
    /// Load test: publish as fast as possible for --duration wall time.
    #[arg(long)]
    load: bool,
    /// Wall time of a --load run.
    #[arg(long, default_value = "60s", value_parser = parse_duration, requires = "load")]
    duration: Duration,
    /// After a --load run, GET this Prometheus endpoint and print its upkeep_* lines.
    #[arg(long, requires = "load")]
    metrics_url: Option<String>,
}

/// Parses `500ms`, `60s`, `5m`, `1.5h`, `2d` (a bare number means seconds).
fn parse_duration(s: &str) -> Result<Duration, String> {
    let s = s.trim();
    let split = s.find(|c: char| c.is_ascii_alphabetic()).unwrap_or(s.len());
    let (number, unit) = s.split_at(split);
    let n: f64 = number.parse().map_err(|_| format!("invalid duration {s:?}"))?;
    let seconds = match unit {
        "ms" => 0.001,
        "" | "s" => 1.0,
        "m" | "min" => 60.0,
        "h" => 3600.0,
        "d" => 86_400.0,
        _ => return Err(format!("unknown unit in {s:?} (use ms, s, m, h, d)")),
    };
    Duration::try_from_secs_f64(n * seconds).map_err(|e| format!("{s:?}: {e}"))
}

fn chrono_duration(d: Duration) -> Result<chrono::Duration> {
    chrono::Duration::from_std(d).context("duration out of range")
}

/// Prints one line per progress callback with current and average rates.
struct Progress {
    last: PublishStats,
}

impl Progress {
    fn report(&mut self, s: &PublishStats) {
        let dt = (s.elapsed - self.last.elapsed).as_secs_f64().max(1e-9);
        let event_time = s
            .last_event_ts_ms
            .and_then(DateTime::from_timestamp_millis)
            .map_or_else(|| "-".to_string(), |t| t.format("%Y-%m-%dT%H:%MZ").to_string());
        println!(
            "[{:>5.0}s] {:>9} msgs {:>8.0} msg/s | {:>11} readings {:>9.0} readings/s | malformed {} | reconnects {} | event time {}",
            s.elapsed.as_secs_f64(),
            s.messages,
            (s.messages - self.last.messages) as f64 / dt,
            s.readings,
            (s.readings - self.last.readings) as f64 / dt,
            s.malformed,
            s.reconnects,
            event_time,
        );
        self.last = s.clone();
    }
}

fn print_summary(s: &PublishStats) {
    let secs = s.elapsed.as_secs_f64().max(1e-9);
    println!(
        "done: {} messages, {} readings in {:.1}s ({:.0} msg/s, {:.0} readings/s), {} malformed {:?}, {} reconnects",
        s.messages,
        s.readings,
        secs,
        s.messages as f64 / secs,
        s.readings as f64 / secs,
        s.malformed,
        s.malformed_by_kind,
        s.reconnects,
    );
}

#[tokio::main]
async fn main() -> Result<()> {
    let args = Args::parse();
    let assets = match (&args.fleet, args.assets) {
        (Some(path), _) => load_fleet_assets(path)?,
        (None, Some(n)) => synthetic_fleet(n, &args.models),
        (None, None) => bail!("give --fleet or --assets"),
    };
    if assets.is_empty() {
        bail!("no assets to simulate");
    }
    if !(args.days.is_finite() && args.days > 0.0) {
        bail!("--days must be positive");
    }
    let defaults = SimConfig::default();
    let cfg = SimConfig {
        seed: args.seed,
        start: args.start.unwrap_or(defaults.start),
        duration: chrono::Duration::milliseconds((args.days * 86_400_000.0).round() as i64),
        interval: chrono_duration(args.interval)?,
        ticks_per_message: args.ticks_per_message,
        fault_share: args.fault_share,
        sensor_fault_share: args.sensor_fault_share,
        min_lead: chrono_duration(args.min_lead)?,
        max_lead: chrono_duration(args.max_lead)?,
        malformed_every: args.malformed_every,
        fault_window: None,
    };
    let publish_cfg = PublishConfig {
        broker_url: args.broker.clone(),
        client_id: args.client_id.clone().unwrap_or_else(|| PublishConfig::default().client_id),
        topic_prefix: args.topic_prefix.clone(),
        qos: args.qos,
        rate: args.rate,
        hold_until_due: args.live,
    };
    let mut progress = Progress { last: PublishStats::default() };

    if args.load {
        let deadline = Instant::now() + args.duration;
        let messages = Simulator::looping(&assets, &cfg)?.take_while(move |_| Instant::now() < deadline);
        println!("load test: {} assets, {:?} wall time, broker {}", assets.len(), args.duration, args.broker);
        let stats = publish_messages(messages, &publish_cfg, |s| progress.report(s)).await?;
        print_summary(&stats);
        let secs = stats.elapsed.as_secs_f64().max(1e-9);
        println!(
            "sustained: {:.0} messages/s, {:.0} readings/s",
            stats.messages as f64 / secs,
            stats.readings as f64 / secs
        );
        if let Some(url) = &args.metrics_url {
            println!("engine metrics from {url}:");
            for line in fetch_upkeep_metrics(url).await? {
                println!("  {line}");
            }
        }
        return Ok(());
    }

    let sim = Simulator::new(&assets, &cfg)?;
    let mut truth = sim.truth();
    let mut by_kind: BTreeMap<String, usize> = BTreeMap::new();
    for f in &truth.faults {
        *by_kind.entry(f.fault.to_string()).or_default() += 1;
    }
    println!(
        "simulating {} assets from {} to {} every {:?}: {} messages, faults {:?}",
        assets.len(),
        truth.start.to_rfc3339(),
        truth.end.to_rfc3339(),
        args.interval,
        sim.total_messages(),
        by_kind,
    );
    let stats = publish(sim, &publish_cfg, |s| progress.report(s)).await?;
    print_summary(&stats);
    truth.malformed_sent = stats.malformed_by_kind.clone();
    if let Some(path) = &args.truth {
        write_truth(path, &truth)?;
        println!("ground truth written to {}", path.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn durations_parse() {
        assert_eq!(parse_duration("60s"), Ok(Duration::from_secs(60)));
        assert_eq!(parse_duration("90"), Ok(Duration::from_secs(90)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_duration("1.5h"), Ok(Duration::from_secs(5400)));
        assert_eq!(parse_duration("2d"), Ok(Duration::from_secs(172_800)));
        assert_eq!(parse_duration("5m"), Ok(Duration::from_secs(300)));
        assert!(parse_duration("5x").is_err() && parse_duration("s").is_err() && parse_duration("-1s").is_err());
    }

    #[test]
    fn cli_is_consistent_and_parses_the_documented_examples() {
        Args::command().debug_assert();
        let args = Args::try_parse_from([
            "device-sim",
            "--fleet",
            "fleet.json",
            "--broker",
            "mqtt://127.0.0.1:1883",
            "--seed",
            "7",
            "--days",
            "3",
            "--interval",
            "60s",
            "--ticks-per-message",
            "10",
            "--fault-share",
            "0.1",
            "--sensor-fault-share",
            "0.05",
            "--truth",
            "truth.json",
            "--start",
            "2026-01-01T00:00:00Z",
            "--rate",
            "500",
            "--malformed-every",
            "100",
        ])
        .unwrap();
        assert_eq!(args.fleet, Some(PathBuf::from("fleet.json")));
        assert_eq!(args.start.map(|t| t.timestamp()), Some(1_767_225_600));
        let quick = Args::try_parse_from(["device-sim", "--assets", "50", "--models", "pump,chiller"]).unwrap();
        assert_eq!(quick.models, [EquipmentKind::CentrifugalPump, EquipmentKind::Chiller]);
        let load = Args::try_parse_from([
            "device-sim",
            "--assets",
            "1000",
            "--load",
            "--duration",
            "30s",
            "--metrics-url",
            "http://127.0.0.1:8080/metrics",
        ])
        .unwrap();
        assert!(load.load && load.duration == Duration::from_secs(30));
        for bad in [
            vec!["device-sim"],
            vec!["device-sim", "--fleet", "f.json", "--assets", "3"],
            vec!["device-sim", "--assets", "3", "--duration", "10s"],
            vec!["device-sim", "--assets", "3", "--load", "--truth", "t.json"],
            vec!["device-sim", "--assets", "3", "--models", "boiler"],
        ] {
            assert!(Args::try_parse_from(&bad).is_err(), "{bad:?}");
        }
    }
}
