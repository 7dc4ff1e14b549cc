//! What the ticket service reports about itself: tickets opened (with the
//! latency from the triggering message), evidence appended, findings kept aside.

use super::DeadFindingStage;
use crate::model::{AssetId, FaultCode, RuleId, Severity, TicketId};
use crate::telemetry::{InternalEvent, Metrics};
use std::sync::atomic::Ordering::Relaxed;

/// A ticket opened `latency_s` after its triggering message arrived.
pub struct TicketOpened<'a> {
    pub ticket: &'a TicketId,
    pub asset: &'a AssetId,
    pub fault: &'a FaultCode,
    pub severity: Severity,
    pub latency_s: f64,
}

impl InternalEvent for TicketOpened<'_> {
    type Counters = Metrics;

    fn emit(self, m: &Metrics) {
        m.record_ticket_opened(self.severity, self.latency_s);
        let TicketOpened { ticket, asset, fault, severity, latency_s } = self;
        tracing::info!(%ticket, %asset, %fault, %severity, latency_s, "ticket opened");
    }
}

/// A finding appended as evidence to the ticket already open for it.
pub struct EvidenceAppended;

impl InternalEvent for EvidenceAppended {
    type Counters = Metrics;

    fn emit(self, m: &Metrics) {
        m.evidence_appended.fetch_add(1, Relaxed);
    }
}

/// A finding whose write failed on its own data, kept aside with the reason.
pub struct FindingKeptAside<'a> {
    pub asset: &'a AssetId,
    pub rule: &'a RuleId,
    pub stage: DeadFindingStage,
    pub reason: &'a str,
}

impl InternalEvent for FindingKeptAside<'_> {
    type Counters = Metrics;

    fn emit(self, m: &Metrics) {
        m.dead_findings.fetch_add(1, Relaxed);
        let FindingKeptAside { asset, rule, stage, reason } = self;
        tracing::error!(%asset, %rule, stage = stage.as_str(), %reason, "finding kept aside");
    }
}
