//! The delivery worker: expands the outbox's notices into deliveries, then
//! sends what is due, each at least once. A delivery is marked sent only
//! after its channel confirmed it (2xx, SMTP 250, PUBACK); a crash in
//! between sends it again with the same idempotency key. Failures wait a
//! doubling backoff; after `max_attempts`, or a refusal for good, the
//! delivery is dead: kept, counted and listed, retried only by hand.

use super::channel::{Channels, SendError};
use super::config::NotifyConfig;
use super::metrics::NotifyMetrics;
use super::outbox::{Notification, NotificationStore};
use super::recipients::Planner;
use crate::fleet::Fleet;
use crate::model::now_ms;
use crate::rules::RuleSet;
use crate::shutdown::Shutdown;
use crate::tickets::{StoreError, TicketReader};
use std::sync::Arc;

/// How often sent deliveries past their keeping are forgotten.
const PURGE_EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

pub struct Worker {
    pub config: NotifyConfig,
    pub store: NotificationStore,
    pub tickets: TicketReader,
    pub fleet: Arc<Fleet>,
    pub rules: Arc<RuleSet>,
    pub channels: Channels,
    pub metrics: Arc<NotifyMetrics>,
}

impl Worker {
    pub async fn run(self, mut stop: Shutdown) {
        let mut last_purge = None;
        while !stop.is_set() {
            self.pass(&stop).await;
            if last_purge.is_none_or(|at: tokio::time::Instant| at.elapsed() > PURGE_EVERY) {
                last_purge = Some(tokio::time::Instant::now());
                self.forget_old().await;
            }
            tokio::select! {
                _ = stop.wait() => {}
                _ = tokio::time::sleep(self.config.poll.as_std()) => {}
            }
        }
    }

    /// Sent deliveries past `keep_sent` are forgotten; dead ones stay until handled.
    async fn forget_old(&self) {
        match self.store.forget_sent(now_ms() - self.config.keep_sent.as_millis()).await {
            Ok(0) => {}
            Ok(n) => tracing::info!(forgotten = n, "notifications: sent deliveries past their keeping forgotten"),
            Err(e) => tracing::debug!(error = %e, "notifications: forgetting old deliveries failed; next time"),
        }
    }

    /// One pass; a store error is logged and the pass tried again next
    /// time (the outbox keeps everything meanwhile).
    pub async fn pass(&self, stop: &Shutdown) {
        if let Err(e) = self.expand().await {
            tracing::warn!(error = %e, "notifications: reading the outbox failed; trying again");
        }
        if let Err(e) = self.deliver(stop).await {
            tracing::warn!(error = %e, "notifications: recording a delivery failed; trying again");
        }
        match self.store.backlog().await {
            Ok(b) => self.metrics.backlog(b),
            Err(e) => tracing::debug!(error = %e, "notifications: backlog not read"),
        }
    }

    async fn expand(&self) -> Result<(), StoreError> {
        let planner = Planner { config: &self.config, fleet: &self.fleet, rules: &self.rules };
        for notice in self.store.notices(self.config.batch * 4).await? {
            let deliveries = match self.tickets.ticket_event(notice.ticket.as_str(), notice.seq).await? {
                Some((ticket, event)) => planner.plan(&notice, &ticket, &event, now_ms()),
                None => {
                    tracing::warn!(ticket = %notice.ticket, seq = notice.seq, "a notice without its event; dropped");
                    Vec::new()
                }
            };
            self.store.expand(&notice, &deliveries).await?;
            deliveries.iter().for_each(|d| self.metrics.created(d.channel));
        }
        Ok(())
    }

    async fn deliver(&self, stop: &Shutdown) -> Result<(), StoreError> {
        // Past this an attempt is over (sent, failed or timed out), so a
        // claim that outlives it marks an engine that died mid-attempt.
        let hold = self.config.timeout.as_millis() * 2 + 1000;
        for n in self.store.due(now_ms(), self.config.batch).await? {
            if stop.is_set() {
                break;
            }
            if !self.store.claim(&n, now_ms() + hold).await? {
                continue;
            }
            let outcome = self.channels.send(&n).await;
            self.record(&n, outcome).await?;
        }
        Ok(())
    }

    async fn record(&self, n: &Notification, outcome: Result<(), SendError>) -> Result<(), StoreError> {
        let attempts = n.attempts + 1;
        match outcome {
            Ok(()) => {
                self.store.sent(&n.id, attempts, now_ms()).await?;
                self.metrics.sent(n.channel);
            }
            Err(e) => {
                let dead = matches!(e, SendError::Rejected(_)) || attempts >= i64::from(self.config.max_attempts);
                let next = (!dead).then(|| now_ms() + self.backoff(attempts));
                self.store.failed(&n.id, attempts, next, &e.to_string()).await?;
                self.metrics.failed(n.channel, dead);
                if dead {
                    tracing::warn!(id = %n.id, attempts, error = %e, "notification dead: kept for a person to retry");
                } else {
                    tracing::info!(id = %n.id, attempts, error = %e, "notification not delivered; will retry");
                }
            }
        }
        Ok(())
    }

    /// `retry_min` doubled per failed attempt, at most `retry_max`.
    fn backoff(&self, attempts: i64) -> i64 {
        let doubled = self.config.retry_min.as_millis().saturating_mul(1 << (attempts - 1).clamp(0, 30));
        doubled.min(self.config.retry_max.as_millis())
    }
}
