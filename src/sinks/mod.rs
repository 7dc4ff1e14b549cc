//! Where upkeep's outputs go besides its own database: InfluxDB, for the
//! dashboards operations watch.

pub mod feed;
pub mod influx;
pub mod line_protocol;
pub mod queue;
