//! upkeep turns equipment telemetry into service tickets before the customer
//! notices the fault. Modules follow the data:
//!
//! `ingest` (MQTT) -> `decode` (bytes to readings, dead letters) ->
//! `detect` (windows, detectors, timely dataflow) -> `rules` (conditions to
//! findings) -> `tickets` (lifecycle, store) -> `dispatch` (engineer and
//! parts) -> `api` (HTTP); `kpi` computes the after-sales KPIs and
//! `outputs` fans telemetry, detector scores, ticket events and KPIs out to
//! each configured output (InfluxDB, in `outputs/influx`). `fleet` is the
//! registry, `config` the settings,
//! `telemetry` the engine's own metrics, `app` the wiring.

pub mod access;
pub mod api;
pub mod app;
pub mod config;
pub mod db;
pub mod decode;
#[cfg(feature = "demo")]
pub mod demo;
pub mod detect;
pub mod dispatch;
pub mod fleet;
pub mod ingest;
pub mod kpi;
pub mod model;
pub mod outputs;
pub mod retry;
pub mod rules;
pub mod shutdown;
pub mod sla;
pub mod telemetry;
pub mod tickets;
