//! Findings to tickets: open (or append evidence), pre-assign an engineer,
//! reserve parts; then acknowledge the MQTT messages whose batches are done.
//! Every write commits before anything behind it is acknowledged: store
//! errors are waited out, a write that fails on its own data keeps the
//! finding aside (a dead finding), and work abandoned at shutdown stops the
//! acks, so the broker redelivers it.

use super::dead_finding::{DeadFinding, Stage};
use super::internal_events::{EvidenceAppended, FindingKeptAside, TicketOpened};
use super::quote;
use super::redispatch::Redispatch;
use super::remedy::{self, Remedy};
use super::severity::deadlines_for;
use super::store::{Begun, NewTicket, Opening};
use super::warranty::{self, Assessment, Warranty};
use super::{Actor, AfterSales, CustomerReport, DeadFindingStore, StoreError, Ticket, TicketStore};
use super::{QuoteConfig, RepairsConfig};
use crate::db::{Classify, ErrorClass, Failure, Retry};
use crate::detect::{Abandoned, Committer, Finding};
use crate::dispatch::StockStore;
use crate::dispatch::{Dispatcher, Need, PartLine};
use crate::fleet::Fleet;
use crate::model::{Clock, EngineerId, EpochMs, TicketId, TicketKind};
use crate::rules::{Rule, RuleSet};
use crate::sla::Sla;
use crate::telemetry::{InternalEvent, Metrics};
use std::collections::HashMap;
use std::sync::Arc;

mod after_call;
mod reported;

pub use reported::{ReportError, Reported};

pub struct ServiceContext {
    pub tickets: TicketStore,
    pub stock: StockStore,
    pub dead_findings: DeadFindingStore,
    pub fleet: Arc<Fleet>,
    pub rules: Arc<RuleSet>,
    pub dispatcher: Arc<Dispatcher>,
    /// Deadlines: standard tiers, or the customer's contract.
    pub sla: Sla,
    /// Raising severity and moving a ticket whose holder can no longer make it.
    pub redispatch: Arc<Redispatch>,
    /// Repeat repairs and the warranty's refund policy.
    pub repairs: RepairsConfig,
    pub quote: QuoteConfig,
    pub metrics: Arc<Metrics>,
    pub retry: Retry,
    /// When it acts: dispatch judges shifts and stamps events by it.
    pub clock: Clock,
}

/// The ticket service commits the engine's findings; ingest acknowledges
/// their messages once it has.
impl Committer for ServiceContext {
    async fn commit(&self, finding: &Finding, received_us: i64) -> Result<(), Abandoned> {
        self.clock.observe(finding.evidence.at);
        self.apply(finding, received_us).await
    }
}

impl ServiceContext {
    async fn apply(&self, f: &Finding, received_us: i64) -> Result<(), Abandoned> {
        let Some(rule) = self.rule(f) else {
            return self.keep_aside(f, Stage::Open, &format!("rule {} is not loaded", f.rule)).await;
        };
        let detected_at = f.evidence.at;
        let due = deadlines_for(&self.sla, &self.fleet, &f.asset, f.severity, detected_at);
        let new = NewTicket {
            asset: f.asset.clone(),
            model: f.model.clone(),
            fault: f.fault.clone(),
            rule: f.rule.clone(),
            kind: f.kind,
            severity: f.severity,
            description: rule.description.clone(),
            detected_at,
            response_due: due.response_due,
            on_site_due: due.on_site_due,
            resolution_due: due.resolution_due,
            sla_tier: due.tier,
            evidence: serde_json::to_value(&f.evidence).unwrap_or_default(),
        };
        let opening = || self.open(f.opened, rule, &new, None);
        let Some(committed) = self.commit(f, Stage::Open, "opening a ticket", opening).await? else {
            return Ok(());
        };
        match committed {
            Committed::Opened((id, dispatched)) => {
                if let Some(note) = &dispatched.unassigned {
                    tracing::warn!(ticket = %id, %note, "no engineer proposed");
                }
                for line in &dispatched.parts {
                    self.warn_below_safety(line).await;
                }
                let latency_s = (chrono::Utc::now().timestamp_micros() - received_us) as f64 / 1e6;
                let (asset, fault, severity) = (&f.asset, &f.fault, f.severity);
                TicketOpened { ticket: &id, asset, fault, severity, latency_s }.emit(&self.metrics);
            }
            Committed::Appended(id) => {
                EvidenceAppended.emit(&self.metrics);
                self.raise_if_worse(&id, f).await?;
            }
            Committed::NotOpen => {}
        }
        Ok(())
    }

    /// Opens the ticket with everything decided at its opening, in one
    /// transaction: the after-sales assessment, the pre-assignment, the
    /// parts and, for work the warranty does not cover, the quote. Or
    /// appends the evidence to the ticket already open. A customer's call
    /// that opens the ticket is recorded in the same transaction. The reads
    /// it decides from come first, outside the transaction (SQLite's write
    /// lock is held for the writes only). Retried whole; what is only
    /// logged is logged by the caller, once, after the commit.
    async fn open(
        &self,
        opened: bool,
        rule: &Rule,
        t: &NewTicket,
        report: Option<&CustomerReport>,
    ) -> Result<Committed, StepFailed> {
        let now = self.clock.now_ms();
        if !opened {
            let appended = self.tickets.append(t).await.map_err(step("appending evidence"))?;
            return Ok(appended.map_or(Committed::NotOpen, Committed::Appended));
        }
        let (prior, workforce) = self.facts(t).await.map_err(step("reading repairs, loads and absences"))?;
        let mut o = match self.tickets.begin_opening(t, now).await.map_err(step("inserting the ticket"))? {
            Begun::Opened(o) => o,
            Begun::Appended(id) => return Ok(Committed::Appended(id)),
            Begun::NotOpen => return Ok(Committed::NotOpen),
        };
        let after = self.assess(rule, t, prior);
        o.set_after_sales(&after).await.map_err(step("recording the assessment"))?;
        let dispatched = self.dispatch(&mut o, rule, t, &workforce).await?;
        let covered = matches!(after.warranty, Warranty::InWarranty | Warranty::Unknown);
        if !covered && t.kind == TicketKind::Repair {
            let quote = self.quote_for(rule, dispatched.travel_minutes);
            o.quote(&quote).await.map_err(step("recording the quote"))?;
        }
        if let Some(r) = report {
            o.customer_report(r).await.map_err(step("recording the customer's report"))?;
        }
        let id = o.commit().await.map_err(step("committing"))?;
        Ok(Committed::Opened((id, dispatched)))
    }

    /// What an opening decides from: earlier repairs of the fault on the
    /// unit, and the engineers' loads and who is absent now.
    async fn facts(&self, t: &NewTicket) -> Result<(Vec<EpochMs>, Workforce), StoreError> {
        let prior = self.tickets.prior_repairs(&t.asset, &t.fault).await?;
        let loads = self.tickets.engineer_loads().await?;
        let absent = self.tickets.unavailable_engineers(self.clock.now_ms()).await?;
        Ok((prior, Workforce { loads, absent }))
    }

    /// Runs a write until it commits. `None` when it failed on its own data:
    /// the finding is then kept aside with the reason.
    async fn commit<T, E, F, Fut>(&self, f: &Finding, stage: Stage, what: &str, op: F) -> Result<Option<T>, Abandoned>
    where
        E: std::fmt::Display + Classify,
        F: FnMut() -> Fut,
        Fut: std::future::Future<Output = Result<T, E>>,
    {
        match self.retry.committed(what, op).await {
            Ok(v) => Ok(Some(v)),
            Err(Failure::Data(e)) => self.keep_aside(f, stage, &format!("{what}: {e}")).await.map(|()| None),
            Err(Failure::Abandoned) => Err(Abandoned),
        }
    }

    /// Stores a dead finding; one that cannot be stored either is logged whole.
    async fn keep_aside(&self, f: &Finding, stage: Stage, reason: &str) -> Result<(), Abandoned> {
        let dead = DeadFinding::new(f, stage, reason, self.clock.now_ms());
        FindingKeptAside { asset: &f.asset, rule: &f.rule, stage, reason }.emit(&self.metrics);
        match self.retry.committed("storing a dead finding", || self.dead_findings.insert_dead_finding(&dead)).await {
            Ok(()) => Ok(()),
            Err(Failure::Data(e)) => {
                tracing::error!(error = %e, finding = %dead.finding, "dead finding not stored; the finding is logged here");
                Ok(())
            }
            Err(Failure::Abandoned) => Err(Abandoned),
        }
    }

    /// The after-sales decision: warranty from the asset file; the remedy
    /// from repeat repairs (`prior`: earlier repairs of this fault on this
    /// unit in the store, plus the asset's service history) or else the warranty.
    fn assess(&self, rule: &Rule, t: &NewTicket, mut prior: Vec<EpochMs>) -> AfterSales {
        let asset = self.fleet.asset(t.asset.as_str());
        let on = chrono::DateTime::from_timestamp_millis(t.detected_at).unwrap_or_default().date_naive();
        let assessed = asset.map_or_else(
            || Assessment { warranty: Warranty::Unknown, note: "unit not in the registry".into() },
            |a| warranty::assess(a, on),
        );
        if let Some(a) = asset {
            let recorded = a.history.iter().filter(|r| r.fault == t.fault);
            prior.extend(recorded.map(|r| r.date.and_time(chrono::NaiveTime::MIN).and_utc().timestamp_millis()));
        }
        let mut remedy = remedy::decide(t.kind, &t.asset, &t.fault, &prior, self.repairs.repeat_limit);
        if remedy.0 == Remedy::Repair && t.kind == TicketKind::Repair {
            let policy = warranty::Policy { core: rule.core, refund_within: self.repairs.refund_within };
            remedy = asset.and_then(|a| warranty::remedy(&assessed, a, on, &policy)).unwrap_or(remedy);
        }
        AfterSales {
            warranty: assessed.warranty,
            warranty_note: assessed.note,
            remedy: remedy.0,
            remedy_note: remedy.1,
        }
    }

    /// The quote for work the warranty does not cover: the rule's parts at
    /// list price, labour at its highest skill level, the engineer's travel.
    fn quote_for(&self, rule: &Rule, travel_minutes: f64) -> quote::Quote {
        let price = |p: &crate::rules::PartRef| self.fleet.part(&p.part).map_or(0.0, |c| c.list_price);
        let parts: Vec<(String, u32, f64)> = rule.parts.iter().map(|p| (p.part.to_string(), p.qty, price(p))).collect();
        let level = rule.skills.values().copied().max().unwrap_or(1);
        quote::build(&quote::Job { parts: &parts, level, travel_minutes }, &self.quote)
    }

    /// Severity rises (never falls) when fresh evidence forecasts the
    /// threshold crossing before the ticket's on-site deadline.
    async fn raise_if_worse(&self, id: &TicketId, f: &Finding) -> Result<(), Abandoned> {
        let Some(crossing) = forecast_crossing(f) else { return Ok(()) };
        let Some(t) = self.read_ticket(f, id).await?.filter(|t| crossing < t.due.on_site_due) else { return Ok(()) };
        let Some(r) = self.redispatch.raised(&t) else { return Ok(()) };
        let hours = (crossing - f.evidence.at) as f64 / 3_600_000.0;
        let detail = r.detail(&format!("forecast: threshold crossed in {hours:.1} h, before the on-site deadline"));
        let raising = || self.tickets.raise(id, &r, &detail, self.clock.now_ms());
        self.commit(f, Stage::Severity, "raising the severity", raising).await?;
        let Some(t) = self.read_ticket(f, id).await?.filter(|t| t.severity == r.to) else { return Ok(()) };
        tracing::warn!(ticket = %id, severity = %t.severity, %detail, "severity raised");
        let moving = || self.redispatch.redispatch_if_late(&t, Actor::Engine, "forecast", self.clock.now_ms());
        self.commit(f, Stage::Severity, "dispatching the raised ticket", moving).await.map(drop)
    }

    /// The ticket as it stands (`None` if it is gone or the read was kept aside).
    async fn read_ticket(&self, f: &Finding, id: &TicketId) -> Result<Option<Ticket>, Abandoned> {
        let reading = || self.tickets.ticket(id.as_str());
        Ok(self.commit(f, Stage::Severity, "reading the ticket", reading).await?.flatten().map(|d| d.ticket))
    }

    fn rule(&self, f: &Finding) -> Option<&Rule> {
        self.rules.rule(&f.model, &f.rule)
    }

    /// A reservation that took a depot below the part's safety stock is
    /// logged; `GET /api/v1/parts/replenishment` lists what to do about it.
    async fn warn_below_safety(&self, line: &crate::dispatch::PartLine) {
        let (Some(depot), Some(part)) = (&line.depot_id, self.fleet.part(&crate::model::PartNumber::new(&line.part)))
        else {
            return;
        };
        let depot = crate::model::DepotId::new(depot);
        if let Ok(on_hand) = self.stock.on_hand(&depot, &part.number).await {
            if on_hand < i64::from(part.safety_stock) {
                tracing::warn!(%depot, part = %part.number, on_hand, safety_stock = part.safety_stock, "stock below safety level: replenishment suggested");
            }
        }
    }

    /// Proposes the engineer and reserves the parts, storing the reasons.
    /// Shift and arrival are judged from now (or the detection time, if a
    /// replay runs ahead of the clock): a backlog must not pick someone whose
    /// shift ended meanwhile. Parts are reserved in part-number order, so
    /// concurrent openings on PostgreSQL lock depot rows in one order.
    async fn dispatch(
        &self,
        o: &mut Opening,
        rule: &Rule,
        t: &NewTicket,
        workforce: &Workforce,
    ) -> Result<Dispatched, StepFailed> {
        let Some(asset) = self.fleet.asset(t.asset.as_str()) else {
            let note = "unit not in the registry: no site to send an engineer to";
            o.unassigned(note).await.map_err(step("recording no assignment"))?;
            return Ok(Dispatched { parts: Vec::new(), travel_minutes: 0.0, unassigned: Some(note.into()) });
        };
        let at = self.clock.now_ms().max(t.detected_at);
        let need = Need {
            site: asset.location,
            skills: &rule.skills,
            severity: t.severity,
            at,
            on_site_due: t.on_site_due,
            excluded: &workforce.absent,
        };
        let choice = self.dispatcher.choose(need, &workforce.loads);
        match &choice.engineer {
            Some(e) => o.assign(e, &choice.note, choice.at_risk).await.map_err(step("assigning"))?,
            None => o.unassigned(&choice.note).await.map_err(step("recording no assignment"))?,
        }
        let deliveries = self.dispatcher.deliveries(&asset.location, at);
        let mut needs: Vec<&crate::rules::PartRef> = rule.parts.iter().collect();
        needs.sort_by(|a, b| a.part.cmp(&b.part));
        let mut parts = Vec::with_capacity(needs.len());
        for need in needs {
            let lead_days = self.fleet.part(&need.part).map_or(PURCHASE_DAYS_UNKNOWN, |p| p.lead_time_days);
            let purchase = (at + i64::from(lead_days) * 86_400_000, lead_days);
            let line =
                o.reserve_part(need, &deliveries, t.on_site_due, purchase).await.map_err(step("reserving parts"))?;
            parts.push(line);
        }
        if !parts.is_empty() {
            let note =
                parts.iter().map(|l| format!("{} x{}: {}", l.part, l.qty, l.note)).collect::<Vec<_>>().join("; ");
            o.set_parts_note(&note).await.map_err(step("noting parts"))?;
        }
        let unassigned = choice.engineer.is_none().then_some(choice.note);
        Ok(Dispatched { parts, travel_minutes: choice.travel_minutes, unassigned })
    }
}

/// Whom dispatch can choose from, read before an opening begins.
struct Workforce {
    /// Open tickets per engineer.
    loads: HashMap<EngineerId, u32>,
    /// Engineers absent now.
    absent: Vec<EngineerId>,
}

/// What dispatch decided inside an opening.
struct Dispatched {
    parts: Vec<PartLine>,
    travel_minutes: f64,
    /// Why nobody was proposed, when nobody was.
    unassigned: Option<String>,
}

/// What a finding committed; an opening's dispatch is logged once it has.
type Committed = super::OpenOutcome<(TicketId, Dispatched)>;

/// The step of an opening that failed, so that a finding kept aside says
/// which; classed as the store's error is.
#[derive(Debug, thiserror::Error)]
#[error("{step}: {source}")]
struct StepFailed {
    step: &'static str,
    source: StoreError,
}

impl Classify for StepFailed {
    fn class(&self) -> ErrorClass {
        self.source.class()
    }
}

fn step(name: &'static str) -> impl FnOnce(StoreError) -> StepFailed {
    move |source| StepFailed { step: name, source }
}

/// Supplier lead time assumed for a part missing from the catalogue.
const PURCHASE_DAYS_UNKNOWN: u32 = 14;

/// The earliest time a firing forecast check predicts its threshold is crossed.
fn forecast_crossing(f: &Finding) -> Option<crate::model::EpochMs> {
    f.evidence
        .checks
        .iter()
        .filter(|c| c.detector == "forecast" && c.fired && c.observed.is_finite() && c.observed >= 0.0)
        .map(|c| f.evidence.at + (c.observed * 3_600_000.0) as i64)
        .min()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::detect::Evidence;
    use crate::fleet::{generate, FleetSpec, ServiceRecord};
    use crate::model::TicketKind;
    use crate::sla::SlaConfig;
    use crate::tickets::TicketFilter;

    fn context(db: &crate::db::Db, fleet: &Arc<Fleet>, rules: &Arc<RuleSet>) -> ServiceContext {
        let dispatcher = Arc::new(Dispatcher::new(Arc::clone(fleet), Default::default()));
        let sla = Sla::new(&SlaConfig::default(), &fleet.file().contracts).unwrap();
        let redispatch = Redispatch::new(db.tickets(), Arc::clone(fleet), Arc::clone(rules), dispatcher, sla);
        crate::tickets::fixtures::service(db, &Arc::new(redispatch))
    }

    /// A service on a fresh SQLite file with the shipped rules and a
    /// generated fleet of `assets` (seed 3).
    async fn shipped(assets: usize) -> (crate::db::Db, tempfile::TempDir, Arc<RuleSet>, Arc<Fleet>, ServiceContext) {
        let (db, dir) = crate::db::temp_sqlite().await;
        let rules = Arc::new(crate::rules::shipped());
        let fleet = Arc::new(Fleet::new(generate(&rules, FleetSpec { assets, seed: 3 })).unwrap());
        let ctx = context(&db, &fleet, &rules);
        (db, dir, rules, fleet, ctx)
    }

    /// A repair finding of the first repair rule of `asset`'s model.
    fn finding(rules: &RuleSet, fleet: &Fleet, asset: usize) -> Finding {
        let a = &fleet.assets()[asset];
        let rule = rules.for_model(&a.model).unwrap().rules.iter().find(|r| r.kind == TicketKind::Repair).unwrap();
        Finding {
            asset: a.id.clone(),
            model: a.model.clone(),
            rule: rule.id.clone(),
            fault: rule.fault.clone(),
            kind: rule.kind,
            severity: rule.severity,
            opened: true,
            evidence: Evidence { at: crate::model::now_ms(), checks: Vec::new(), windows: Vec::new() },
        }
    }

    #[tokio::test]
    async fn an_asset_file_with_three_repairs_of_the_fault_makes_the_ticket_recommend_an_exchange() {
        let (db, _dir) = crate::db::temp_sqlite().await;
        let rules = Arc::new(crate::rules::shipped());
        let mut file = generate(&rules, FleetSpec { assets: 10, seed: 3 });
        let fault = finding(&rules, &Fleet::new(file.clone()).unwrap(), 0).fault;
        let day = |d| chrono::NaiveDate::from_ymd_opt(2026, 3, d).unwrap();
        file.assets[0].history =
            (1..=3).map(|d| ServiceRecord { date: day(d), fault: fault.clone(), note: "repaired".into() }).collect();
        // Unit 0 in warranty for decades yet; unit 1's ended in 2020.
        file.assets[0].warranty_until = chrono::NaiveDate::from_ymd_opt(2099, 1, 1).unwrap();
        file.assets[1].warranty_until = chrono::NaiveDate::from_ymd_opt(2020, 1, 1).unwrap();
        file.assets[1].exclusions.clear();
        let fleet = Arc::new(Fleet::new(file).unwrap());
        db.stock().seed_stock(fleet.depots()).await.unwrap();
        let ctx = context(&db, &fleet, &rules);
        ctx.apply(&finding(&rules, &fleet, 0), 0).await.unwrap();
        ctx.apply(&finding(&rules, &fleet, 1), 0).await.unwrap();
        let tickets = db.tickets().list_tickets(&TicketFilter { limit: 10, ..Default::default() }).await.unwrap();
        let remedy_of =
            |i: usize| tickets.iter().find(|t| t.asset_id == fleet.assets()[i].id).map(|t| t.after_sales.remedy);
        assert_eq!(remedy_of(0), Some(Remedy::ExchangeOrRefund));
        assert_eq!(remedy_of(1), Some(Remedy::Repair), "no repair history: an ordinary repair");
        let t = tickets.iter().find(|t| t.asset_id == fleet.assets()[0].id).unwrap();
        assert!(
            t.after_sales.remedy_note.contains("2026-03-01, 2026-03-02, 2026-03-03"),
            "{}",
            t.after_sales.remedy_note
        );
        // Work the warranty does not cover is quoted; covered work is not.
        let warranty_of =
            |i: usize| tickets.iter().find(|t| t.asset_id == fleet.assets()[i].id).map(|t| t.after_sales.warranty);
        assert_eq!((warranty_of(0), warranty_of(1)), (Some(Warranty::InWarranty), Some(Warranty::OutOfWarranty)));
        for t in &tickets {
            let quoted = t.after_sales.quote.as_ref().map(|q| q.total);
            match t.after_sales.warranty {
                Warranty::OutOfWarranty | Warranty::Excluded => assert!(quoted.is_some_and(|x| x > 0.0), "{t:?}"),
                _ => assert_eq!(quoted, None),
            }
        }
        // Every ticket carries its unit's warranty position as of detection.
        let today = chrono::DateTime::from_timestamp_millis(t.due.detected_at).unwrap().date_naive();
        for t in &tickets {
            let expected = warranty::assess(fleet.asset(t.asset_id.as_str()).unwrap(), today);
            assert_eq!((t.after_sales.warranty, &t.after_sales.warranty_note), (expected.warranty, &expected.note));
        }
    }

    /// Dispatch judges shifts by the service's clock, not the hour the test runs.
    #[tokio::test]
    async fn dispatch_at_three_in_the_morning_plans_for_the_day_shift_and_at_ten_for_now() {
        let (db, _dir) = crate::db::temp_sqlite().await;
        let rules = Arc::new(crate::rules::shipped());
        let mut file = generate(&rules, FleetSpec { assets: 10, seed: 3 });
        let hour = |h| chrono::NaiveTime::from_hms_opt(h, 0, 0).unwrap();
        for e in &mut file.engineers {
            e.shift = crate::fleet::Shift::every_day(hour(8), hour(16));
            e.days_off.clear();
        }
        let fleet = Arc::new(Fleet::new(file).unwrap());
        db.stock().seed_stock(fleet.depots()).await.unwrap();
        let day = chrono::NaiveDate::from_ymd_opt(2026, 3, 2).unwrap();
        let at = |h| day.and_time(hour(h)).and_utc().timestamp_millis();
        let ctx = ServiceContext { clock: Clock::at(at(3)), ..context(&db, &fleet, &rules) };
        for (asset, h) in [(0, 3), (1, 10)] {
            ctx.clock.set(at(h));
            let f = finding(&rules, &fleet, asset);
            ctx.apply(&Finding { evidence: Evidence { at: at(h), ..f.evidence.clone() }, ..f }, 0).await.unwrap();
        }
        let tickets = db.tickets().list_tickets(&TicketFilter { limit: 10, ..Default::default() }).await.unwrap();
        let note =
            |i: usize| &tickets.iter().find(|t| t.asset_id == fleet.assets()[i].id).unwrap().assignment.assignment_note;
        assert!(note(0).contains("starts in 5.0 h"), "at 03:00 the 08:00 shift: {}", note(0));
        assert!(note(1).contains("on shift"), "at 10:00 on shift: {}", note(1));
        let opened = db.tickets().ticket(tickets[0].id.as_str()).await.unwrap().unwrap().events[0].at;
        assert!([at(3), at(10)].contains(&opened), "events are stamped on the service's clock");
    }

    #[tokio::test]
    async fn a_finding_that_cannot_become_a_ticket_is_kept_aside_not_dropped() {
        let (db, _dir, rules, fleet, ctx) = shipped(4).await;
        let f = Finding { rule: crate::model::RuleId::new("pump.retired_rule"), ..finding(&rules, &fleet, 0) };
        ctx.apply(&f, 0).await.unwrap();
        let kept = db.dead_findings().dead_findings(10, 0).await.unwrap();
        assert_eq!(kept.len(), 1);
        assert_eq!((kept[0].stage, kept[0].rule_id.as_str()), (Stage::Open, "pump.retired_rule"));
        assert!(kept[0].reason.contains("not loaded"), "{}", kept[0].reason);
        assert_eq!(kept[0].finding["asset"], f.asset.as_str());
        assert_eq!(ctx.metrics.dead_findings.load(std::sync::atomic::Ordering::Relaxed), 1);
        assert!(db.tickets().list_tickets(&TicketFilter { limit: 10, ..Default::default() }).await.unwrap().is_empty());
    }

    /// An opening is one transaction: a write refused on its data half-way
    /// (a trigger refuses the parts line, after the stock was taken) leaves
    /// no ticket and takes no stock; the finding is kept aside naming the step.
    #[tokio::test]
    async fn an_opening_refused_half_way_leaves_no_ticket_and_takes_no_stock() {
        let (db, _dir, rules, fleet, ctx) = shipped(4).await;
        db.stock().seed_stock(fleet.depots()).await.unwrap();
        let stock = db.stock().stock_levels().await.unwrap();
        let refuse = "CREATE TRIGGER refuse_parts BEFORE INSERT ON ticket_parts \
                      BEGIN SELECT RAISE(ABORT, 'parts refused'); END";
        sqlx::query(refuse).execute(&db.pool).await.unwrap();
        let f = finding(&rules, &fleet, 0);
        assert!(!ctx.rule(&f).unwrap().parts.is_empty(), "the rule needs parts");
        ctx.apply(&f, 0).await.unwrap();
        assert!(db.tickets().list_tickets(&TicketFilter { limit: 10, ..Default::default() }).await.unwrap().is_empty());
        assert_eq!(db.stock().stock_levels().await.unwrap(), stock);
        let kept = db.dead_findings().dead_findings(10, 0).await.unwrap();
        assert_eq!(kept.len(), 1);
        let reason = &kept[0].reason;
        assert!(reason.contains("reserving parts") && reason.contains("parts refused"), "{reason}");
    }

    /// The whole opening is one transaction: the ticket comes with its
    /// assessment, its dispatch decision (here: why nobody) and its history.
    #[tokio::test]
    async fn a_unit_missing_from_the_registry_opens_a_ticket_that_says_why_nobody_was_sent() {
        let (db, _dir, rules, fleet, ctx) = shipped(4).await;
        let f = Finding { asset: crate::model::AssetId::new("PMP-NOT-IN-FILE"), ..finding(&rules, &fleet, 0) };
        ctx.apply(&f, 0).await.unwrap();
        let t = &db.tickets().list_tickets(&TicketFilter { limit: 10, ..Default::default() }).await.unwrap()[0];
        assert_eq!(t.assignment.engineer_id, None);
        assert!(t.assignment.assignment_note.contains("not in the registry"), "{}", t.assignment.assignment_note);
        assert!(t.assignment.deadline_at_risk);
        let d = db.tickets().ticket(t.id.as_str()).await.unwrap().unwrap();
        let kinds: Vec<&str> = d.events.iter().map(|e| e.kind.as_str()).collect();
        assert_eq!(kinds, ["opened", "assessed", "unassigned"]);
    }

    #[tokio::test]
    async fn a_customer_with_a_contract_gets_its_tier_and_deadlines_others_the_standard_ones() {
        let (db, _dir) = crate::db::temp_sqlite().await;
        let rules = Arc::new(crate::rules::shipped());
        let mut file = generate(&rules, FleetSpec { assets: 10, seed: 3 });
        let contract = file.contracts[0].clone();
        file.assets[0].customer = contract.customer.clone();
        file.assets[1].customer = "Customer without contract".into();
        let fleet = Arc::new(Fleet::new(file).unwrap());
        let ctx = context(&db, &fleet, &rules);
        for i in [0, 1] {
            let f = Finding { severity: crate::model::Severity::Emergency, ..finding(&rules, &fleet, i) };
            ctx.apply(&f, 0).await.unwrap();
        }
        let tickets = db.tickets().list_tickets(&TicketFilter { limit: 10, ..Default::default() }).await.unwrap();
        let of = |i: usize| tickets.iter().find(|t| t.asset_id == fleet.assets()[i].id).unwrap();
        let (covered, standard) = (of(0), of(1));
        assert_eq!(covered.due.sla_tier, format!("contract {}: platinum", contract.id));
        assert_eq!(covered.due.on_site_due - covered.due.detected_at, 4 * 3_600_000, "the contract's 4 h");
        assert_eq!(covered.due.resolution_due, Some(covered.due.detected_at + 12 * 3_600_000));
        assert_eq!(standard.due.sla_tier, "emergency");
        assert_eq!(standard.due.on_site_due - standard.due.detected_at, 12 * 3_600_000, "the standard 12 h");
    }

    #[tokio::test]
    async fn a_forecast_of_failure_before_the_on_site_deadline_raises_the_severity_never_lowers_it() {
        let (db, _dir, rules, fleet, ctx) = shipped(10).await;
        let mut f = finding(&rules, &fleet, 2);
        f.severity = crate::model::Severity::General;
        ctx.apply(&f, 0).await.unwrap();
        let severity = || async {
            db.tickets().list_tickets(&TicketFilter { limit: 10, ..Default::default() }).await.unwrap()[0].severity
        };
        let opened_as = severity().await;
        let forecast = |hours: f64| crate::detect::CheckOutcome {
            metric: crate::model::MetricName::new("vibration_rms_mm_s"),
            detector: "forecast".into(),
            observed: hours,
            fired: true,
        };
        // Crossing forecast far beyond the on-site deadline: unchanged.
        let later = Finding {
            opened: false,
            evidence: Evidence { checks: vec![forecast(500.0)], ..f.evidence.clone() },
            ..f.clone()
        };
        ctx.apply(&later, 0).await.unwrap();
        assert_eq!(severity().await, opened_as);
        // Crossing in 2 h, well before it: one tier up, then again, then it stays at emergency.
        let worse = Finding {
            opened: false,
            evidence: Evidence { checks: vec![forecast(2.0)], ..f.evidence.clone() },
            ..f.clone()
        };
        ctx.apply(&worse, 0).await.unwrap();
        assert_eq!(severity().await, opened_as.raised());
        ctx.apply(&worse, 0).await.unwrap();
        ctx.apply(&worse, 0).await.unwrap();
        assert_eq!(severity().await, crate::model::Severity::Emergency);
        // Milder evidence never lowers it.
        ctx.apply(&later, 0).await.unwrap();
        assert_eq!(severity().await, crate::model::Severity::Emergency);
    }
}
