//! The bound on everything held between the broker socket and the ack: a
//! budget of messages and payload bytes. Each received message takes a share
//! (`Held`) that travels with it and is returned when it is acknowledged or
//! dropped. When the budget is full the event loop stops reading new
//! messages (the broker keeps the backlog) while the connection stays up.

use crate::telemetry::Metrics;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use tokio::sync::Notify;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    pub messages: usize,
    pub bytes: usize,
}

/// What is held lives in the `upkeep_held_*` gauges themselves: one count,
/// read by the event loop and by Prometheus alike.
pub struct Budget {
    limits: Limits,
    freed: Notify,
    metrics: Arc<Metrics>,
}

/// One message's share of the budget, returned on drop.
#[derive(Debug)]
pub struct Held {
    budget: Arc<Budget>,
    bytes: usize,
}

impl std::fmt::Debug for Budget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Budget").field("limits", &self.limits).field("held", &self.held()).finish()
    }
}

impl Budget {
    pub fn new(limits: Limits, metrics: Arc<Metrics>) -> Arc<Budget> {
        let limits = Limits { messages: limits.messages.max(1), bytes: limits.bytes.max(1) };
        Arc::new(Budget { limits, freed: Notify::new(), metrics })
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Accounts a message that has arrived (it is in memory already, so this
    /// never refuses); the caller pauses intake while `is_full`.
    pub fn take(self: &Arc<Self>, bytes: usize) -> Held {
        self.metrics.held_messages.fetch_add(1, Ordering::Relaxed);
        self.metrics.held_bytes.fetch_add(bytes as i64, Ordering::Relaxed);
        Held { budget: Arc::clone(self), bytes }
    }

    pub fn held(&self) -> Limits {
        let count = |g: &std::sync::atomic::AtomicI64| usize::try_from(g.load(Ordering::Relaxed)).unwrap_or(0);
        Limits { messages: count(&self.metrics.held_messages), bytes: count(&self.metrics.held_bytes) }
    }

    pub fn is_full(&self) -> bool {
        let h = self.held();
        h.messages >= self.limits.messages || h.bytes >= self.limits.bytes
    }

    /// Resolves once the budget has room again.
    pub async fn room(&self) {
        loop {
            let freed = self.freed.notified();
            if !self.is_full() {
                return;
            }
            freed.await;
        }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        let m = &self.budget.metrics;
        m.held_messages.fetch_sub(1, Ordering::Relaxed);
        m.held_bytes.fetch_sub(self.bytes as i64, Ordering::Relaxed);
        self.budget.freed.notify_waiters();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn budget(messages: usize, bytes: usize) -> Arc<Budget> {
        Budget::new(Limits { messages, bytes }, Arc::new(Metrics::default()))
    }

    #[test]
    fn full_on_either_count_and_shares_return_on_drop() {
        let b = budget(2, 100);
        let one = b.take(10);
        assert!(!b.is_full());
        let two = b.take(10);
        assert!(b.is_full(), "two messages");
        drop(one);
        assert!(!b.is_full());
        let big = b.take(95);
        assert!(b.is_full(), "105 bytes");
        drop((two, big));
        assert_eq!(b.held(), Limits { messages: 0, bytes: 0 });
        assert_eq!(b.metrics.held_messages.load(Ordering::Relaxed), 0);
    }

    #[tokio::test]
    async fn room_waits_until_a_share_comes_back() {
        let b = budget(1, 1 << 20);
        let held = b.take(1);
        let waiter = tokio::spawn({
            let b = Arc::clone(&b);
            async move { b.room().await }
        });
        tokio::time::sleep(Duration::from_millis(50)).await;
        assert!(!waiter.is_finished(), "full: waits");
        drop(held);
        tokio::time::timeout(Duration::from_secs(1), waiter).await.expect("room after the drop").unwrap();
    }
}
