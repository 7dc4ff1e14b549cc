//! Faults customers report go through the same path as detected ones:
//! deadlines from the SLA (the customer's contract), the after-sales
//! assessment, dispatch and parts in one opening. When a ticket is already
//! open for the unit (and the fault, when named), the call is attached to
//! it instead, never a twin, and its history says whether the engine saw
//! the fault first and by how much.

use super::{Committed, ServiceContext, StepFailed};
use crate::model::{EpochMs, TicketId};
use crate::rules::Rule;
use crate::tickets::severity::deadlines_for;
use crate::tickets::{CustomerReport, NewTicket, StoreError, Ticket, TicketFilter};

/// What became of a report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reported {
    /// Attached to the ticket already open; how long before the call the
    /// engine had detected it (`None`: an earlier call opened it).
    Attached { ticket: TicketId, engine_lead_ms: Option<i64> },
    /// No ticket was open: this report opened one.
    Opened { ticket: TicketId },
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("unit '{0}' is not in the registry")]
    UnknownAsset(String),
    #[error("model {model} has no fault '{fault}'; its faults: {known}")]
    UnknownFault { model: String, fault: String, known: String },
    #[error("no ticket is open for unit {asset}: name the fault (model {model}'s faults: {known})")]
    FaultNeeded { asset: String, model: String, known: String },
    #[error("the ticket open for unit {0} closed while the report was recorded: report it again")]
    Raced(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<StepFailed> for ReportError {
    fn from(e: StepFailed) -> Self {
        ReportError::Store(e.source)
    }
}

impl ServiceContext {
    /// Records a customer's report: attached to the open ticket, or opening one.
    pub async fn report(&self, r: &CustomerReport) -> Result<Reported, ReportError> {
        let asset = self.fleet.asset(r.asset.as_str()).ok_or_else(|| ReportError::UnknownAsset(r.asset.to_string()))?;
        let faults = self.rules.for_model(&asset.model).map(|m| m.rules.as_slice()).unwrap_or_default();
        let known = || faults.iter().map(|x| x.fault.as_str()).collect::<Vec<_>>().join(", ");
        let rule = match &r.fault {
            Some(f) => Some(faults.iter().find(|x| &x.fault == f).ok_or_else(|| ReportError::UnknownFault {
                model: asset.model.to_string(),
                fault: f.to_string(),
                known: known(),
            })?),
            None => None,
        };
        // A person acts now on the wall clock, as every API action does.
        let now = crate::model::now_ms();
        if let Some(open) = self.open_ticket_for(r).await? {
            return self.attach(&open, r, now).await;
        }
        let rule = rule.ok_or_else(|| ReportError::FaultNeeded {
            asset: r.asset.to_string(),
            model: asset.model.to_string(),
            known: known(),
        })?;
        let new = self.reported_ticket(rule, r);
        match self.open(true, rule, &new, Some(r)).await? {
            Committed::Opened((ticket, _)) => {
                tracing::info!(%ticket, asset = %r.asset, fault = %rule.fault, "ticket opened by a customer's report");
                Ok(Reported::Opened { ticket })
            }
            // The engine opened one for the fault in between: the call joins it.
            Committed::Appended(id) => match self.tickets.ticket(id.as_str()).await? {
                Some(d) => self.attach(&d.ticket, r, now).await,
                None => Err(StoreError::NotFound(id).into()),
            },
            Committed::NotOpen => Err(ReportError::Raced(r.asset.to_string())),
        }
    }

    async fn attach(&self, open: &Ticket, r: &CustomerReport, now: EpochMs) -> Result<Reported, ReportError> {
        let engine_lead_ms = self.tickets.attach_report(&open.id, open.due.detected_at, r, now).await?;
        Ok(Reported::Attached { ticket: open.id.clone(), engine_lead_ms })
    }

    /// The open ticket that covers the report: the unit's ticket for the
    /// fault named, or else its most urgent open ticket.
    async fn open_ticket_for(&self, r: &CustomerReport) -> Result<Option<Ticket>, StoreError> {
        let filter = TicketFilter { asset: Some(r.asset.clone()), active: true, limit: 100, ..Default::default() };
        let open = self.tickets.list_tickets(&filter).await?;
        Ok(open.into_iter().find(|t| r.fault.as_ref().is_none_or(|f| &t.fault_code == f)))
    }

    /// The ticket a report opens: the fault's rule, detected when the call
    /// came in, at the severity suggested but never below the fault's tier.
    fn reported_ticket(&self, rule: &Rule, r: &CustomerReport) -> NewTicket {
        let severity = r.severity.map_or(rule.severity, |s| s.max(rule.severity));
        let due = deadlines_for(&self.sla, &self.fleet, &r.asset, severity, r.reported_at);
        let evidence = serde_json::json!({
            "at": r.reported_at,
            "reported": { "symptom": r.symptom, "contact": r.contact, "recorded_by": r.recorded_by,
                          "suggested_severity": r.severity },
        });
        let asset = self.fleet.asset(r.asset.as_str());
        NewTicket {
            asset: r.asset.clone(),
            model: asset.map(|a| a.model.clone()).unwrap_or_else(|| crate::model::ModelId::new("unknown")),
            fault: rule.fault.clone(),
            rule: rule.id.clone(),
            kind: rule.kind,
            severity,
            description: rule.description.clone(),
            detected_at: r.reported_at,
            response_due: due.response_due,
            on_site_due: due.on_site_due,
            resolution_due: due.resolution_due,
            sla_tier: due.tier,
            evidence,
        }
    }
}
