//! The engine's own observability: tracing set-up and Prometheus metrics.

mod metrics;
pub mod prometheus;

pub use metrics::{Metrics, Snapshot};

/// Logs to stderr; `RUST_LOG` overrides the default `info` filter.
pub fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // Colours only on a terminal: a log file or journal gets plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_ansi(ansi).with_writer(std::io::stderr).try_init();
}
