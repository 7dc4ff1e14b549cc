//! Test tickets: open repair tickets with the default major-tier deadlines.

use super::{Remedy, Ticket, TicketState, Warranty};
use crate::model::{AssetId, EpochMs, FaultCode, ModelId, RuleId, Severity, TicketId, TicketKind};

const HOUR: i64 = 3_600_000;

/// An open major repair ticket of `fault` on `asset`, detected at
/// `detected`, response due 4 h and on site due 24 h later.
pub(crate) fn ticket(id: &str, asset: &str, model: &str, fault: &str, detected: EpochMs) -> Ticket {
    Ticket {
        id: TicketId::new(id),
        asset_id: AssetId::new(asset),
        model: ModelId::new(model),
        fault_code: FaultCode::new(fault),
        rule_id: RuleId::new(format!("{model}.{}", fault.to_lowercase())),
        kind: TicketKind::Repair,
        severity: Severity::Major,
        state: TicketState::Open,
        description: format!("{fault} on {asset}"),
        detected_at: detected,
        response_due: detected + 4 * HOUR,
        on_site_due: detected + 24 * HOUR,
        engineer_id: None,
        assignment_note: String::new(),
        parts_note: String::new(),
        deadline_at_risk: false,
        warranty: Warranty::InWarranty,
        warranty_note: String::new(),
        remedy: Remedy::Repair,
        remedy_note: String::new(),
        quote: None,
        quote_accepted_at: None,
        progress_code: None,
        service_report: None,
        follow_up: None,
        evidence_count: 1,
        created_at: detected,
        updated_at: detected,
    }
}
