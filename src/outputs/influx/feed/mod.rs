//! What upkeep writes to InfluxDB and when (schema: README, "InfluxDB
//! schema"): telemetry from the decode step, detector outputs from the
//! detection workers, ticket events and KPIs from the seam's KPI pass. All
//! of it goes through one bounded, never-blocking sink.

mod kpi_points;
mod ops;
mod points;
mod telemetry;
#[cfg(test)]
mod tests;

pub use ops::write_pass;
pub use points::scores as score_points;
pub use telemetry::TelemetryFeed;
