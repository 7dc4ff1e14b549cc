//! The engine's own observability: tracing set-up, Prometheus metrics, and
//! the two traits stages report through. Telemetry imports no stage: a
//! stage's own counters are a `Section` it registers, and what it reports
//! is an `InternalEvent` it defines beside its code.

mod metrics;
pub mod prometheus;

pub use metrics::{Metrics, Snapshot};

/// Something the engine reports about itself (a dead letter, a lost
/// connection, a failed write): one struct per event writes its log line
/// and moves its counters together, so neither is forgotten or worded twice.
pub trait InternalEvent {
    /// Where its counters live: the engine's `Metrics`, or a stage's section.
    type Counters: ?Sized;
    fn emit(self, counters: &Self::Counters);
}

/// A stage's own group of metrics, rendered into `/metrics` once registered
/// with `Metrics::register`.
pub trait Section: Send + Sync {
    fn render(&self, out: &mut String);
}

/// Logs to stderr; `RUST_LOG` overrides the default `info` filter.
pub fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // Colours only on a terminal: a log file or journal gets plain text.
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = tracing_subscriber::fmt().with_env_filter(filter).with_ansi(ansi).with_writer(std::io::stderr).try_init();
}
