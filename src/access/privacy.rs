//! Personal data kept no longer than needed: engineers' reported positions
//! older than `privacy.position_retention`, and audit entries older than
//! `privacy.audit_retention`, are deleted, checked hourly.

use super::AuditStore;
use crate::dispatch::PositionStore;
use crate::model::{EpochMs, Span};
use crate::shutdown::Shutdown;
use serde::{Deserialize, Serialize};
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PrivacyConfig {
    /// An engineer's reported position is deleted this long after it was taken.
    pub position_retention: Span,
    /// An audit entry (who wrote what) is deleted this long after the write.
    pub audit_retention: Span,
}

impl Default for PrivacyConfig {
    fn default() -> Self {
        PrivacyConfig { position_retention: Span::from_hours(30 * 24), audit_retention: Span::from_hours(365 * 24) }
    }
}

/// How often the purge runs.
const EVERY: Duration = Duration::from_secs(3600);

/// Purges at start and then hourly until `stop`; a failed purge is logged
/// and tried again at the next hour.
pub async fn run(positions: PositionStore, audit: AuditStore, config: PrivacyConfig, mut stop: Shutdown) {
    let mut tick = tokio::time::interval(EVERY);
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            () = stop.wait() => return,
        }
        let now = crate::model::now_ms();
        match purge(&positions, &config, now).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(purged = n, "engineer positions past their retention deleted"),
            Err(error) => tracing::warn!(%error, "position purge failed; tried again in an hour"),
        }
        match audit.purge_before(now - config.audit_retention.as_millis()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(purged = n, "audit entries past their retention deleted"),
            Err(error) => tracing::warn!(%error, "audit purge failed; tried again in an hour"),
        }
    }
}

/// Deletes the positions taken before `now - position_retention`.
pub async fn purge(store: &PositionStore, config: &PrivacyConfig, now: EpochMs) -> Result<u64, crate::db::DbError> {
    store.purge_before(now - config.position_retention.as_millis()).await
}
