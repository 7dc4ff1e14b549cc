//! What the office records after the work: the customer's follow-up (a
//! rating below 3 files a complaint by itself) and complaints, each
//! answered by the SLA's response deadline for its severity.

use super::ServiceContext;
use crate::model::{AssetId, EpochMs, Severity, TicketId};
use crate::tickets::complaints::{ComplaintKind, NewComplaint};
use crate::tickets::report::{FollowUp, COMPLAINT_BELOW};
use crate::tickets::severity::deadlines_for;
use crate::tickets::StoreError;

impl ServiceContext {
    /// When a complaint of `severity` received at `at` must be answered:
    /// the SLA's response time (the customer's contract, when the unit is known).
    pub fn complaint_response_due(&self, asset: Option<&AssetId>, severity: Severity, at: EpochMs) -> EpochMs {
        match asset {
            Some(a) => deadlines_for(&self.sla, &self.fleet, a, severity, at).response_due,
            None => self.sla.deadlines(severity, at, None).response_due,
        }
    }

    /// Records the follow-up of ticket `id`; a rating below 3 files a
    /// `dissatisfied` complaint (major) in the same transaction.
    pub async fn follow_up(&self, id: &TicketId, f: &FollowUp) -> Result<(), StoreError> {
        let complaint = match f.rating < COMPLAINT_BELOW {
            true => self.dissatisfied(id, f).await?,
            false => None,
        };
        self.tickets.record_follow_up(id, f, complaint.as_ref()).await
    }

    async fn dissatisfied(&self, id: &TicketId, f: &FollowUp) -> Result<Option<NewComplaint>, StoreError> {
        let Some(d) = self.tickets.ticket(id.as_str()).await? else { return Ok(None) };
        let t = d.ticket;
        let customer = self.fleet.asset(t.asset_id.as_str()).map(|a| a.customer.clone()).unwrap_or_default();
        let severity = Severity::Major;
        Ok(Some(NewComplaint {
            ticket: Some(t.id.clone()),
            engineer: t.assignment.engineer_id.clone(),
            model: Some(t.model.clone()),
            response_due: self.complaint_response_due(Some(&t.asset_id), severity, f.recorded_at),
            asset: Some(t.asset_id),
            customer,
            kind: ComplaintKind::Dissatisfied,
            severity,
            description: format!("rated the service {}/5 in the follow-up: {}", f.rating, f.comment),
            received_at: f.recorded_at,
            recorded_by: f.recorded_by.clone(),
        }))
    }
}
