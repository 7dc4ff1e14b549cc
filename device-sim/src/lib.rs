//! Simulated equipment fleet for exercising the upkeep engine end to end.
//!
//! The engine turns MQTT telemetry into service tickets; to test it we need
//! telemetry whose *truth* is known: which asset degrades, from when, and when
//! it functionally fails. `device-sim` plays a fleet of assets with plausible
//! signals (daily load cycle, noise, per-asset offsets), injects progressive
//! machine faults and sensor faults at seeded times, streams batched JSON
//! messages in event-time order (faster than real time) and records the
//! ground truth so tests can score the engine's tickets against it.
//!
//! Everything is reproducible from [`SimConfig::seed`]: each asset draws from
//! its own RNG seeded from `(seed, asset index)`, so results don't depend on
//! iteration order. Messages are generated lazily tick by tick, so a fleet of
//! 10,000 assets over days costs a few megabytes, not gigabytes.
//!
//! Typical use:
//! ```no_run
//! # async fn run() -> Result<(), device_sim::SimError> {
//! use device_sim::*;
//! let assets = load_fleet_assets(std::path::Path::new("fleet.json"))?;
//! let sim = Simulator::new(&assets, &SimConfig::default())?;
//! let mut truth = sim.truth();
//! let stats = publish(sim, &PublishConfig::default(), |_| {}).await?;
//! truth.malformed_sent = stats.malformed_by_kind.clone();
//! write_truth(std::path::Path::new("truth.json"), &truth)?;
//! # Ok(()) }
//! ```

mod config;
mod error;
mod faults;
mod fleet;
mod inject;
mod malformed;
mod model;
mod plan;
mod publish;
mod scrape;
mod signals;
mod sim;
mod truth;

pub use config::SimConfig;
pub use error::SimError;
pub use faults::{FaultKind, InjectedFault};
pub use fleet::{load_fleet_assets, synthetic_fleet, SimAsset};
pub use malformed::MalformedKind;
pub use model::{Direction, EquipmentKind, Limit, MetricSpec};
pub use plan::plan;
pub use publish::{publish, publish_messages, PublishConfig, PublishStats};
pub use scrape::fetch_upkeep_metrics;
pub use sim::{Message, Simulator};
pub use truth::{read_truth, write_truth, GroundTruth};
