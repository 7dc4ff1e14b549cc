//! What detection hands downstream: findings to commit. The stage that
//! commits them (the ticket service) implements `Committer`; ingest
//! acknowledges a message once its findings are committed.

use super::Finding;

/// The stage gave up a finding's writes (at shutdown): nothing from there
/// on may be acknowledged.
#[derive(Debug)]
pub struct Abandoned;

/// Commits the engine's findings (opens or updates tickets).
pub trait Committer {
    /// Returns once `finding` is committed, or `Abandoned`.
    fn commit(&self, finding: &Finding, received_us: i64) -> impl std::future::Future<Output = Result<(), Abandoned>>;
}

/// A committer shared with other stages (the API opens tickets for
/// customers' reports through the same service).
impl<C: Committer> Committer for std::sync::Arc<C> {
    fn commit(&self, finding: &Finding, received_us: i64) -> impl std::future::Future<Output = Result<(), Abandoned>> {
        (**self).commit(finding, received_us)
    }
}
