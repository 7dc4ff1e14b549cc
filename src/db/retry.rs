//! Store calls that must commit: retried with backoff until they do, unless
//! the error is the data's own fault, or the engine is abandoning its work at
//! shutdown (then nothing is acknowledged and the broker redelivers).

use super::class::{Classify, ErrorClass};
use super::internal_events::{StoreCallFailed, Then};
use crate::retry::Backoff;
use crate::shutdown::Shutdown;
use crate::telemetry::{InternalEvent, Metrics};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// Why a call did not commit.
#[derive(Debug, thiserror::Error)]
pub enum Failure<E> {
    #[error("{0}")]
    Data(E),
    #[error("abandoned at shutdown")]
    Abandoned,
}

/// How a stage retries: counted in the metrics (`upkeep_store_errors_total`,
/// and `upkeep_store_retrying` while a call waits for the store), given up
/// only when `abandon` fires. A call that takes longer than `call_timeout`
/// is cancelled and retried: a database behind a silent network partition
/// never answers, and no error would ever come.
#[derive(Clone)]
pub struct Retry {
    metrics: Arc<Metrics>,
    abandon: Shutdown,
    call_timeout: Duration,
    max: Duration,
}

/// Why an attempt failed: the call's own error, or no answer in time.
enum Attempt<E> {
    Failed(E),
    TimedOut,
}

impl Retry {
    pub fn new(metrics: Arc<Metrics>, abandon: Shutdown, call_timeout: Duration) -> Retry {
        Retry { metrics, abandon, call_timeout, max: Duration::from_secs(5) }
    }

    async fn attempt<T, E, Fut>(&self, call: Fut) -> Result<T, Attempt<E>>
    where
        Fut: std::future::Future<Output = Result<T, E>>,
    {
        match tokio::time::timeout(self.call_timeout, call).await {
            Ok(r) => r.map_err(Attempt::Failed),
            Err(_) => Err(Attempt::TimedOut),
        }
    }

    /// Runs `op` until it commits. Retry and fatal errors are retried (a
    /// fatal one is logged as an error: an operator must fix the database);
    /// a data error is returned at once.
    pub async fn committed<T, E, F, Fut>(&self, what: &str, mut op: F) -> Result<T, Failure<E>>
    where
        E: std::fmt::Display + Classify,
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, E>>,
    {
        let mut backoff: Option<Backoff> = None;
        let mut abandon = self.abandon.clone();
        let result = loop {
            let failure = match self.attempt(op()).await {
                Ok(v) => break Ok(v),
                Err(f) => f,
            };
            let (class, error) = match failure {
                Attempt::TimedOut => {
                    (ErrorClass::Retry { hint: self.call_timeout / 10 }, "no answer in time".to_owned())
                }
                Attempt::Failed(e) if e.class() == ErrorClass::Data => {
                    StoreCallFailed { what, error: &e, then: Then::KeptAside }.emit(&self.metrics);
                    break Err(Failure::Data(e));
                }
                Attempt::Failed(e) => (e.class(), e.to_string()),
            };
            let hint = match class {
                ErrorClass::Retry { hint } => hint,
                _ => Duration::from_secs(1),
            };
            let b = backoff.get_or_insert_with(|| {
                self.metrics.store_retrying.fetch_add(1, Ordering::Relaxed);
                Backoff::new(hint, self.max)
            });
            let delay = b.next_delay();
            let then = Then::Retry { after: delay, fatal: class == ErrorClass::Fatal };
            StoreCallFailed { what, error: &error, then }.emit(&self.metrics);
            tokio::select! {
                () = tokio::time::sleep(delay) => {}
                () = abandon.wait() => break Err(Failure::Abandoned),
            }
        };
        if backoff.is_some() {
            self.metrics.store_retrying.fetch_sub(1, Ordering::Relaxed);
        }
        result
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::db::DbError;
    use std::sync::atomic::AtomicU32;

    fn retry() -> (Retry, crate::shutdown::Trigger, Arc<Metrics>) {
        let metrics = Arc::new(Metrics::default());
        let (trigger, abandon) = crate::shutdown::channel();
        (Retry::new(Arc::clone(&metrics), abandon, Duration::from_millis(200)), trigger, metrics)
    }

    fn failing(code: &'static str) -> DbError {
        DbError::Sqlx(sqlx::Error::Protocol(code.into()))
    }

    #[tokio::test]
    async fn unclassified_and_fatal_errors_are_retried_until_the_call_commits() {
        let (retry, _t, metrics) = retry();
        let calls = AtomicU32::new(0);
        let out = retry
            .committed("writing", || async {
                match calls.fetch_add(1, Ordering::Relaxed) {
                    0 => Err(failing("reset")),
                    1 => Err(DbError::Sqlx(sqlx::Error::Configuration("bad".into()))),
                    n => Ok(n),
                }
            })
            .await;
        assert_eq!(out.ok(), Some(2));
        assert_eq!(metrics.store_errors.load(Ordering::Relaxed), 2);
        assert_eq!(metrics.store_retrying.load(Ordering::Relaxed), 0, "no longer waiting");
    }

    #[tokio::test]
    async fn a_call_that_never_answers_is_cancelled_and_retried() {
        let (retry, _t, metrics) = retry();
        let calls = AtomicU32::new(0);
        let out = retry
            .committed("writing", || async {
                if calls.fetch_add(1, Ordering::Relaxed) == 0 {
                    std::future::pending::<()>().await;
                }
                Ok::<_, DbError>(7)
            })
            .await;
        assert_eq!(out.ok(), Some(7));
        assert_eq!(metrics.store_errors.load(Ordering::Relaxed), 1);
    }

    #[tokio::test]
    async fn a_data_error_is_returned_at_once() {
        let (retry, _t, _) = retry();
        let out: Result<(), _> = retry.committed("writing", || async { Err(DbError::Corrupt("row".into())) }).await;
        assert!(matches!(out, Err(Failure::Data(DbError::Corrupt(_)))));
    }

    #[tokio::test]
    async fn an_outage_is_waited_out_until_the_engine_abandons_it() {
        let (retry, trigger, metrics) = retry();
        let waiting = tokio::spawn(async move {
            let r: Result<(), _> = retry.committed("writing", || async { Err(failing("refused")) }).await;
            r
        });
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert_eq!(metrics.store_retrying.load(Ordering::Relaxed), 1);
        trigger.fire();
        let out = tokio::time::timeout(Duration::from_secs(1), waiting).await.expect("ends at once").unwrap();
        assert!(matches!(out, Err(Failure::Abandoned)));
    }
}
