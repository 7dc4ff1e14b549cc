//! What store calls report about themselves: each failure is counted
//! (`upkeep_store_errors_total`) and logged with what follows from it.

use crate::telemetry::{InternalEvent, Metrics};
use std::fmt::Display;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

/// What follows a failed store call.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Then {
    /// It failed on its own data: the caller keeps it aside.
    KeptAside,
    /// Retried after `after`; `fatal` when an operator must fix the
    /// database (its URL, credentials, schema), logged as an error.
    Retry { after: Duration, fatal: bool },
}

/// A store call that failed.
pub struct StoreCallFailed<'a> {
    /// What the call was doing, as the log line says it.
    pub what: &'a str,
    pub error: &'a dyn Display,
    pub then: Then,
}

impl InternalEvent for StoreCallFailed<'_> {
    type Counters = Metrics;

    fn emit(self, m: &Metrics) {
        m.store_errors.fetch_add(1, Relaxed);
        let StoreCallFailed { what, error, then } = self;
        match then {
            Then::KeptAside => tracing::error!(%error, "{what} failed on its data; kept aside"),
            Then::Retry { after, fatal: true } => {
                let retry_in_ms = after.as_millis() as u64;
                tracing::error!(%error, retry_in_ms, "{what} failed: check the database configuration; retrying");
            }
            Then::Retry { after, fatal: false } => {
                tracing::warn!(%error, retry_in_ms = after.as_millis() as u64, "{what} failed; retrying");
            }
        }
    }
}
