//! Test tickets: open repair tickets with the default major-tier deadlines.

use super::{AfterSalesRecord, AssignmentRecord, Closure, Due, Remedy, Ticket, TicketState, Warranty};
use crate::model::{AssetId, EpochMs, FaultCode, ModelId, RuleId, Severity, TicketId, TicketKind};
use std::sync::Arc;

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
        due: Due {
            detected_at: detected,
            response_due: detected + 4 * HOUR,
            on_site_due: detected + 24 * HOUR,
            resolution_due: Some(detected + 48 * HOUR),
            sla_tier: "major".into(),
        },
        assignment: AssignmentRecord {
            engineer_id: None,
            assignment_note: String::new(),
            parts_note: String::new(),
            deadline_at_risk: false,
            acknowledged_at: None,
            appointment_from: None,
            appointment_to: None,
        },
        after_sales: AfterSalesRecord {
            warranty: Warranty::InWarranty,
            warranty_note: String::new(),
            remedy: Remedy::Repair,
            remedy_note: String::new(),
            quote: None,
            quote_accepted_at: None,
            progress_code: None,
        },
        closure: Closure { service_report: None, follow_up: None },
        evidence_count: 1,
        created_at: detected,
        updated_at: detected,
    }
}

/// A generated fleet whose engineers all work round the clock, so who is on
/// duty does not depend on when a test runs.
pub(crate) fn fleet_on_duty(
    rules: &crate::rules::RuleSet,
    assets: usize,
    seed: u64,
) -> std::sync::Arc<crate::fleet::Fleet> {
    let mut file = crate::fleet::generate(rules, crate::fleet::FleetSpec { assets, seed });
    for e in &mut file.engineers {
        e.shift = crate::fleet::Shift::every_day(chrono::NaiveTime::MIN, chrono::NaiveTime::MIN);
    }
    std::sync::Arc::new(crate::fleet::Fleet::new(file).expect("a generated fleet is valid"))
}

/// A general repair ticket for `asset` from the first repair rule of its
/// model, detected at `at`: response due 1 h, on site 24 h later.
pub(crate) fn new_ticket(rules: &crate::rules::RuleSet, asset: &crate::fleet::Asset, at: EpochMs) -> super::NewTicket {
    let rule = rules.for_model(&asset.model).and_then(|m| m.rules.iter().find(|r| r.kind == TicketKind::Repair));
    let rule = rule.expect("every shipped model has a repair rule");
    super::NewTicket {
        asset: asset.id.clone(),
        model: asset.model.clone(),
        fault: rule.fault.clone(),
        rule: rule.id.clone(),
        kind: TicketKind::Repair,
        severity: Severity::General,
        description: rule.description.clone(),
        detected_at: at,
        response_due: at + HOUR,
        on_site_due: at + 24 * HOUR,
        resolution_due: at + 48 * HOUR,
        sla_tier: "general".into(),
        evidence: serde_json::json!({}),
    }
}

/// A re-dispatcher over `fleet` with the default dispatch and SLA settings.
pub(crate) fn redispatch(
    db: crate::db::Db,
    rules: std::sync::Arc<crate::rules::RuleSet>,
    fleet: std::sync::Arc<crate::fleet::Fleet>,
) -> std::sync::Arc<super::redispatch::Redispatch> {
    let dispatcher = crate::dispatch::Dispatcher::new(std::sync::Arc::clone(&fleet), Default::default());
    let sla = crate::sla::Sla::new(&Default::default(), &fleet.file().contracts).expect("default tiers");
    std::sync::Arc::new(super::redispatch::Redispatch::new(
        db.tickets(),
        fleet,
        rules,
        std::sync::Arc::new(dispatcher),
        sla,
    ))
}

/// A re-dispatcher on a fresh SQLite file, which lives as long as this.
pub(crate) struct OnDuty {
    pub r: std::sync::Arc<super::redispatch::Redispatch>,
    _dir: tempfile::TempDir,
}

/// A re-dispatcher over 30 assets whose engineers work round the clock.
pub(crate) async fn redispatch_on_duty() -> OnDuty {
    let (db, dir) = crate::db::temp_sqlite().await;
    let rules = std::sync::Arc::new(crate::rules::shipped());
    let fleet = fleet_on_duty(&rules, 30, 5);
    OnDuty { r: redispatch(db, rules, fleet), _dir: dir }
}

/// A ticket service on `db` sharing `redispatch`'s fleet, rules, dispatcher
/// and SLA, on the wall clock.
pub(crate) fn service(db: &crate::db::Db, redispatch: &Arc<super::redispatch::Redispatch>) -> super::ServiceContext {
    let metrics = Arc::new(crate::telemetry::Metrics::default());
    super::ServiceContext {
        tickets: db.tickets(),
        stock: db.stock(),
        dead_findings: db.dead_findings(),
        dispatcher: Arc::clone(&redispatch.dispatcher),
        fleet: Arc::clone(&redispatch.fleet),
        rules: Arc::clone(&redispatch.rules),
        sla: redispatch.sla.clone(),
        redispatch: Arc::clone(redispatch),
        repairs: Default::default(),
        quote: Default::default(),
        metrics: Arc::clone(&metrics),
        retry: crate::db::Retry::new(metrics, crate::shutdown::channel().1, std::time::Duration::from_secs(10)),
        clock: crate::model::Clock::Wall,
    }
}
