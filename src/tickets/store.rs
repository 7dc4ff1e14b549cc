//! Ticket persistence (`TicketStore`): opening (at most one open ticket per asset and
//! fault), evidence, lifecycle transitions and their event history.

mod after_sales;
mod opening;
mod read;
mod reports;

pub use after_sales::AfterSales;
pub use opening::Opening;
pub use read::{FollowUpDue, TicketFilter, TicketReader};
pub use reports::{CustomerReport, ReportRecord};

use super::lifecycle::{decide, may_act, Command, Decision, Effect, Refusal, View};
use super::quote::Quote;
use super::remedy::Remedy;
use super::report::{FiledReport, FollowUp};
use super::warranty::Warranty;
use super::TicketState;
use super::{Actor, EventKind};
use crate::db::{col, Classify, Column, DbError, ErrorClass};
use crate::dispatch::PartLine;
use crate::model::{AssetId, EngineerId, EpochMs, FaultCode, ModelId, RuleId, Severity, TicketId, TicketKind};
use serde::Serialize;
use sqlx::{Any, Transaction};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error(transparent)]
    Db(#[from] DbError),
    #[error("ticket {0} not found")]
    NotFound(TicketId),
    #[error("ticket cannot go from {from} to {to}")]
    InvalidTransition { from: TicketState, to: TicketState },
    #[error("ticket {0} changed concurrently; retry")]
    Conflict(TicketId),
    #[error("ticket {0} has a quote the customer has not accepted: work cannot start")]
    QuoteNotAccepted(TicketId),
    #[error("ticket {0} has no quote waiting for acceptance")]
    NoQuoteToAccept(TicketId),
    #[error("a ticket is resolved with its service report (POST .../report)")]
    ReportRequired,
    #[error(transparent)]
    Invalid(#[from] super::report::InvalidRecord),
    #[error("ticket {0} is not closed: follow-ups are for closed tickets")]
    NotClosed(TicketId),
    #[error("ticket {0} already has its follow-up")]
    FollowUpExists(TicketId),
    #[error("ticket {ticket} is not held by engineer {engineer}")]
    NotHolder { ticket: TicketId, engineer: EngineerId },
    #[error("{0}")]
    OwnCommand(&'static str),
    #[error("ticket {0} moved on: nothing left to do")]
    Moot(TicketId),
    #[error("ticket {0}: a visit is booked while an engineer holds it and is not yet on site")]
    NotBookable(TicketId),
    #[error(transparent)]
    BadWindow(#[from] super::appointment::BadWindow),
}

impl StoreError {
    /// The lifecycle's refusal of a command on ticket `id`.
    pub fn refused(id: &TicketId, r: Refusal) -> StoreError {
        match r {
            Refusal::InvalidTransition { from, to } => StoreError::InvalidTransition { from, to },
            Refusal::Conflict => StoreError::Conflict(id.clone()),
            Refusal::QuoteNotAccepted => StoreError::QuoteNotAccepted(id.clone()),
            Refusal::ReportRequired => StoreError::ReportRequired,
            Refusal::OwnCommand(how) => StoreError::OwnCommand(how),
            Refusal::NotHolder(engineer) => StoreError::NotHolder { ticket: id.clone(), engineer },
            Refusal::Moot => StoreError::Moot(id.clone()),
            Refusal::NoQuoteToAccept => StoreError::NoQuoteToAccept(id.clone()),
            Refusal::NotClosed => StoreError::NotClosed(id.clone()),
            Refusal::NotBookable => StoreError::NotBookable(id.clone()),
            Refusal::FollowUpExists => StoreError::FollowUpExists(id.clone()),
        }
    }
}

/// Database errors as the database classes them; a concurrent change is
/// retried; every other case is the request's (or finding's) own.
impl Classify for StoreError {
    fn class(&self) -> ErrorClass {
        match self {
            StoreError::Db(e) => e.class(),
            StoreError::Conflict(_) => ErrorClass::Retry { hint: std::time::Duration::from_millis(20) },
            _ => ErrorClass::Data,
        }
    }
}

impl From<sqlx::Error> for StoreError {
    fn from(e: sqlx::Error) -> Self {
        StoreError::Db(DbError::Sqlx(e))
    }
}

crate::db::record! {
    #[derive(Debug, Clone, PartialEq, Serialize)]
    pub struct Ticket {
        pub id: TicketId,
        pub asset_id: AssetId,
        pub model: ModelId,
        pub fault_code: FaultCode,
        pub rule_id: RuleId,
        pub kind: TicketKind,
        pub severity: Severity,
        pub state: TicketState,
        pub description: String,
        #[serde(flatten)]
        pub due: Due,
        #[serde(flatten)]
        pub assignment: AssignmentRecord,
        #[serde(flatten)]
        pub after_sales: AfterSalesRecord,
        #[serde(flatten)]
        pub closure: Closure,
        pub evidence_count: i64,
        pub created_at: EpochMs,
        pub updated_at: EpochMs,
    }
}

crate::db::record! {
    /// When the fault was detected and what the SLA made due by when.
    #[derive(Debug, Clone, PartialEq, Serialize)]
    pub struct Due {
        pub detected_at: EpochMs,
        pub response_due: EpochMs,
        pub on_site_due: EpochMs,
        /// Absent on tickets opened before resolution deadlines were kept.
        pub resolution_due: Option<EpochMs>,
        /// The tier the deadlines came from: `major`, or a contract's own.
        pub sla_tier: String,
    }
}

crate::db::record! {
    /// Who holds the ticket, why, and what the parts plan says.
    #[derive(Debug, Clone, PartialEq, Serialize)]
    pub struct AssignmentRecord {
        pub engineer_id: Option<EngineerId>,
        pub assignment_note: String,
        pub parts_note: String,
        /// No qualified engineer can reach the site before the on-site deadline.
        pub deadline_at_risk: bool,
        /// When a dispatcher acknowledged it (the board stops putting it first).
        pub acknowledged_at: Option<EpochMs>,
        /// The visit window agreed with the customer, if any.
        pub appointment_from: Option<EpochMs>,
        pub appointment_to: Option<EpochMs>,
    }
}

crate::db::record! {
    /// Warranty, remedy and price, and the customer's way to follow it.
    #[derive(Debug, Clone, PartialEq, Serialize)]
    pub struct AfterSalesRecord {
        pub warranty: Warranty,
        pub warranty_note: String,
        /// Repair, exchange (warranty) or exchange/refund (repeat repairs).
        pub remedy: Remedy,
        pub remedy_note: String,
        /// Out-of-warranty work: the price, accepted (when) by the customer or not yet.
        pub quote: Option<Quote>,
        pub quote_accepted_at: Option<EpochMs>,
        /// Given to the customer: `GET /api/v1/progress/{code}` shows this ticket only.
        pub progress_code: Option<String>,
    }
}

crate::db::record! {
    /// How the work ended: the engineer's report and the customer's follow-up.
    #[derive(Debug, Clone, PartialEq, Serialize)]
    pub struct Closure {
        pub service_report: Option<FiledReport>,
        pub follow_up: Option<FollowUp>,
    }
}

crate::db::text_column!(TicketState, Warranty, Remedy, EventKind);
crate::db::json_column!(Quote, FiledReport, FollowUp);

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct EvidenceRecord {
    pub seq: i64,
    pub at: EpochMs,
    pub body: serde_json::Value,
}

crate::db::record! {
    #[derive(Debug, Clone, PartialEq, Serialize)]
    pub struct EventRecord {
        pub seq: i64,
        pub at: EpochMs,
        pub kind: EventKind,
        pub from_state: Option<TicketState>,
        pub to_state: Option<TicketState>,
        pub actor: String,
        pub detail: String,
        /// The engineer it concerns (assigned, reassigned, declined, withdrawn);
        /// `None` on events written before the column existed.
        #[serde(rename = "engineer")]
        pub engineer_id: Option<EngineerId>,
    }
}

impl EventRecord {
    /// The engineer an `assigned` or `reassigned` event put on the ticket.
    pub fn assigned_engineer(&self) -> Option<&EngineerId> {
        self.engineer_id.as_ref().filter(|_| self.kind.assigns())
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TicketDetail {
    #[serde(flatten)]
    pub ticket: Ticket,
    pub evidence: Vec<EvidenceRecord>,
    pub events: Vec<EventRecord>,
    pub parts: Vec<PartLine>,
}

/// Who gets a ticket, why, and who decided.
#[derive(Debug, Clone, Copy)]
pub struct Assignment<'a> {
    pub engineer: &'a EngineerId,
    pub note: &'a str,
    pub at_risk: bool,
    pub actor: Actor<'a>,
}

/// A ticket about to be opened from a finding.
#[derive(Debug, Clone)]
pub struct NewTicket {
    pub asset: AssetId,
    pub model: ModelId,
    pub fault: FaultCode,
    pub rule: RuleId,
    pub kind: TicketKind,
    pub severity: Severity,
    pub description: String,
    pub detected_at: EpochMs,
    pub response_due: EpochMs,
    pub on_site_due: EpochMs,
    pub resolution_due: EpochMs,
    pub sla_tier: String,
    pub evidence: serde_json::Value,
}

/// What a finding came to: a ticket opened (`T` says how far: its id, an
/// opening still in its transaction, an opening with its dispatch), the
/// evidence appended to the ticket open, or nothing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OpenOutcome<T = TicketId> {
    Opened(T),
    /// A ticket for this asset and fault was already open; the evidence was appended.
    Appended(TicketId),
    /// Evidence only, and no ticket is open for it: nothing was written.
    NotOpen,
}

/// What `begin_opening` found: a ticket inserted and not yet committed,
/// or the evidence appended to the one open (committed), or, where that
/// one closed in between, nothing to do.
pub type Begun = OpenOutcome<Opening>;

/// Tickets, their events, evidence and after-sales records: what the
/// ticket service, re-dispatch, the SLA timers and the API's actions write.
/// It reads through its `TicketReader` (`Deref`): a writer is a reader.
#[derive(Clone, Debug)]
pub struct TicketStore {
    reader: TicketReader,
}

impl crate::db::Db {
    /// Tickets, to read and write.
    pub fn tickets(&self) -> TicketStore {
        TicketStore { reader: self.ticket_reader() }
    }
}

impl std::ops::Deref for TicketStore {
    type Target = TicketReader;

    fn deref(&self) -> &TicketReader {
        &self.reader
    }
}

impl TicketStore {
    /// Appends the evidence to the ticket open for the same asset and
    /// fault; when none is and `may_open`, opens a ticket and commits it
    /// with nothing else decided (the ticket service decides the rest in the
    /// same transaction: `begin_opening`). A rule's first firing may open;
    /// its later evidence only appends, so a ticket cancelled as a false
    /// alarm is not reopened every hour while the condition persists.
    pub async fn open_or_append(&self, t: &NewTicket, now: EpochMs, may_open: bool) -> Result<OpenOutcome, StoreError> {
        if may_open {
            return Ok(match self.begin_opening(t, now).await? {
                Begun::Opened(opening) => OpenOutcome::Opened(opening.commit().await?),
                Begun::Appended(id) => OpenOutcome::Appended(id),
                Begun::NotOpen => OpenOutcome::NotOpen,
            });
        }
        Ok(self.append(t).await?.map_or(OpenOutcome::NotOpen, OpenOutcome::Appended))
    }

    /// Appends `t`'s evidence to the ticket open for its asset and fault;
    /// `None` when none is (nothing is written).
    pub async fn append(&self, t: &NewTicket) -> Result<Option<TicketId>, StoreError> {
        let mut tx = self.pool.begin().await?;
        let appended = append_to_open(&mut tx, t).await?;
        tx.commit().await?;
        Ok(appended)
    }

    /// Opens a ticket in a transaction the caller goes on with (`Opening`:
    /// assessment, assignment, parts, quote, then commit), or appends the
    /// evidence to the ticket already open for the same asset and fault.
    /// Safe against concurrent engines: the unique index decides.
    pub async fn begin_opening(&self, t: &NewTicket, now: EpochMs) -> Result<Begun, StoreError> {
        let mut tx = self.pool.begin().await?;
        if let Some(id) = insert_ticket(&mut tx, t, now).await? {
            return Ok(Begun::Opened(Opening::new(tx, id, now)));
        }
        let appended = append_to_open(&mut tx, t).await?;
        tx.commit().await?;
        Ok(appended.map_or(Begun::NotOpen, Begun::Appended))
    }

    /// Moves a ticket along its lifecycle (accept, depart, arrive, close,
    /// cancel), recording who did it; `lifecycle::decide` says whether and
    /// what else changes (a cancelled ticket's parts go back to stock).
    pub async fn transition<'a>(
        &self,
        id: &str,
        to: TicketState,
        actor: impl Into<Actor<'a>>,
        note: &str,
        now: EpochMs,
    ) -> Result<Ticket, StoreError> {
        let (id, actor) = (TicketId::new(id), actor.into());
        let mut tx = self.pool.begin().await?;
        let locked = lock(&mut tx, id.as_str()).await?;
        may_act(&locked.view(), actor).map_err(|r| StoreError::refused(&id, r))?;
        let d = decide(&locked.view(), Command::Step(to)).map_err(|r| StoreError::refused(&id, r))?;
        apply(&mut tx, &id, locked.seq, &d, (actor, note), now).await?;
        tx.commit().await?;
        self.ticket_row(id.as_str()).await
    }

    /// Assigns (from `open`) or reassigns (while `assigned`) an engineer.
    pub async fn assign<'a>(
        &self,
        id: &str,
        engineer: &EngineerId,
        note: &str,
        at_risk: bool,
        actor: impl Into<Actor<'a>>,
        now: EpochMs,
    ) -> Result<Ticket, StoreError> {
        let a = Assignment { engineer, note, at_risk, actor: actor.into() };
        self.assign_if(id, None, &a, now).await
    }

    /// `assign`, only while the ticket is still held by `expected` (when
    /// given: `Some(None)` = nobody): a plan computed from a snapshot must
    /// not overwrite what changed since (409 `concurrent_update`).
    pub(super) async fn assign_if(
        &self,
        id: &str,
        expected: Option<Option<&EngineerId>>,
        a: &Assignment<'_>,
        now: EpochMs,
    ) -> Result<Ticket, StoreError> {
        let id = TicketId::new(id);
        let mut tx = self.pool.begin().await?;
        assign_in(&mut tx, &id, expected, a, now).await?;
        tx.commit().await?;
        self.ticket_row(id.as_str()).await
    }

    /// The dispatcher's renewed verdict on the holder it keeps: the reason,
    /// and whether the deadline is at risk.
    pub async fn note_assignment(&self, id: &TicketId, note: &str, at_risk: bool) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        set_assignment_note(&mut tx, id, note, at_risk).await?;
        tx.commit().await?;
        Ok(())
    }

    /// Records that no engineer could be proposed, with the reason.
    pub async fn mark_unassigned(&self, id: &TicketId, note: &str, now: EpochMs) -> Result<(), StoreError> {
        let mut tx = self.pool.begin().await?;
        unassigned_in(&mut tx, id, note, now).await?;
        tx.commit().await?;
        Ok(())
    }
}

/// Assigns under the row lock (see `TicketStore::assign_if`), the caller commits.
async fn assign_in(
    tx: &mut Transaction<'_, Any>,
    id: &TicketId,
    expected: Option<Option<&EngineerId>>,
    a: &Assignment<'_>,
    now: EpochMs,
) -> Result<(), StoreError> {
    let Assignment { engineer, note, at_risk, actor } = *a;
    let locked = lock(tx, id.as_str()).await?;
    let d = decide(&locked.view(), Command::Assign { engineer, expected }).map_err(|r| StoreError::refused(id, r))?;
    apply(tx, id, locked.seq, &d, (actor, &format!("{engineer}: {note}")), now).await?;
    set_assignment_note(tx, id, note, at_risk).await
}

/// Records that no engineer could be proposed, with the reason (the caller commits).
async fn unassigned_in(
    tx: &mut Transaction<'_, Any>,
    id: &TicketId,
    note: &str,
    now: EpochMs,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE tickets SET assignment_note = $1, deadline_at_risk = 1, updated_at = $2 WHERE id = $3")
        .bind(note)
        .bind(now)
        .bind(id.as_str())
        .execute(&mut **tx)
        .await?;
    record_event(tx, id, now, &Event::note(EventKind::Unassigned, Actor::Dispatch, note)).await
}

/// A ticket under its row lock, as it stands.
pub(super) struct Locked {
    /// The next event sequence number.
    pub seq: i64,
    pub state: TicketState,
    /// Who holds it now.
    pub engineer: Option<EngineerId>,
    pub quote_pending: bool,
    pub severity: Severity,
    pub escalated: bool,
    pub followed_up: bool,
    pub acknowledged: bool,
}

impl Locked {
    /// What `lifecycle::decide` judges a command against.
    pub fn view(&self) -> View<'_> {
        View {
            state: self.state,
            engineer: self.engineer.as_ref(),
            quote_pending: self.quote_pending,
            severity: self.severity,
            escalated: self.escalated,
            followed_up: self.followed_up,
            acknowledged: self.acknowledged,
        }
    }
}

/// Takes the ticket's row lock (its first statement is a write, so SQLite
/// takes the write lock too) and returns what the writer checks against.
/// Writers on one ticket are thereby serialised.
pub(super) async fn lock(tx: &mut Transaction<'_, Any>, id: &str) -> Result<Locked, StoreError> {
    let row = sqlx::query(
        "UPDATE tickets SET version = version + 1 WHERE id = $1 RETURNING version, state, engineer_id, severity, \
         CASE WHEN quote IS NOT NULL AND quote_accepted_at IS NULL THEN 1 ELSE 0 END AS quote_pending, \
         CASE WHEN escalated_at IS NULL THEN 0 ELSE 1 END AS escalated, \
         CASE WHEN follow_up IS NULL THEN 0 ELSE 1 END AS followed_up, \
         CASE WHEN acknowledged_at IS NULL THEN 0 ELSE 1 END AS acknowledged",
    )
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or_else(|| StoreError::NotFound(TicketId::new(id)))?;
    Ok(Locked {
        seq: col(&row, "version")?,
        state: Column::read(&row, "state")?,
        engineer: Column::read(&row, "engineer_id")?,
        quote_pending: Column::read(&row, "quote_pending")?,
        severity: Column::read(&row, "severity")?,
        escalated: Column::read(&row, "escalated")?,
        followed_up: Column::read(&row, "followed_up")?,
        acknowledged: Column::read(&row, "acknowledged")?,
    })
}

/// Locks the ticket, decides `command` and applies the decision with
/// `(actor, detail)` at `now`: the one path by which any writer changes a
/// ticket or adds to its history (the caller commits). A refused command
/// gives its event number back, so a caller that commits the rest of its
/// transaction leaves the history without a gap.
pub(super) async fn act(
    tx: &mut Transaction<'_, Any>,
    id: &TicketId,
    command: Command<'_>,
    (actor, detail): (Actor<'_>, &str),
    now: EpochMs,
) -> Result<(), StoreError> {
    let locked = lock(tx, id.as_str()).await?;
    match decide(&locked.view(), command) {
        Ok(d) => apply(tx, id, locked.seq, &d, (actor, detail), now).await,
        Err(refusal) => {
            sqlx::query("UPDATE tickets SET version = version - 1 WHERE id = $1")
                .bind(id.as_str())
                .execute(&mut **tx)
                .await?;
            Err(StoreError::refused(id, refusal))
        }
    }
}

/// Applies a lifecycle decision under the lock taken by `lock` (whose
/// `seq` numbers the event): the state and holder, the effects, and the
/// event with `(actor, detail)`. The one path by which a ticket's state changes.
pub(super) async fn apply(
    tx: &mut Transaction<'_, Any>,
    id: &TicketId,
    seq: i64,
    d: &Decision<'_>,
    (actor, detail): (Actor<'_>, &str),
    now: EpochMs,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE tickets SET state = $1, engineer_id = $2, updated_at = $3 WHERE id = $4")
        .bind(d.to.as_str())
        .bind(d.holder.map(|e| e.as_str()))
        .bind(now)
        .bind(id.as_str())
        .execute(&mut **tx)
        .await?;
    for effect in &d.effects {
        apply_effect(tx, id, *effect, now).await?;
    }
    let (from, to) = if d.step { (Some(d.from), Some(d.to)) } else { (None, None) };
    let event = Event { kind: d.kind, from, to, actor, detail, engineer: d.engineer };
    insert_event(tx, id, seq, now, &event).await
}

/// What a decision changes beside the state and holder.
async fn apply_effect(
    tx: &mut Transaction<'_, Any>,
    id: &TicketId,
    effect: Effect<'_>,
    now: EpochMs,
) -> Result<(), StoreError> {
    match effect {
        Effect::ReleaseParts => crate::dispatch::release_reserved(tx, id.as_str()).await?,
        Effect::ConsumeParts(used) => {
            crate::dispatch::consume_reserved(tx, id.as_str(), used).await?;
            crate::dispatch::release_reserved(tx, id.as_str()).await?;
        }
        Effect::MarkEscalated => set(tx, id, "escalated_at = $1", now).await?,
        Effect::MarkAcknowledged => set(tx, id, "acknowledged_at = $1", now).await?,
        Effect::MarkAtRisk => set(tx, id, "deadline_at_risk = $1", 1_i64).await?,
        Effect::SetQuote(q) => set(tx, id, "quote = $1, quote_accepted_at = NULL", json(q)?).await?,
        Effect::AcceptQuote => set(tx, id, "quote_accepted_at = $1", now).await?,
        Effect::SetFollowUp(f) => set(tx, id, "follow_up = $1", json(f)?).await?,
        Effect::SetAppointment(a) => {
            sqlx::query("UPDATE tickets SET appointment_from = $1, appointment_to = $2 WHERE id = $3")
                .bind(a.from)
                .bind(a.to)
                .bind(id.as_str())
                .execute(&mut **tx)
                .await?;
        }
        Effect::Raise(r) => {
            sqlx::query(
                "UPDATE tickets SET severity = $1, sla_tier = $2, response_due = $3, on_site_due = $4, \
                 resolution_due = $5 WHERE id = $6",
            )
            .bind(r.to.as_str())
            .bind(&r.due.tier)
            .bind(r.due.response_due)
            .bind(r.due.on_site_due)
            .bind(r.due.resolution_due)
            .bind(id.as_str())
            .execute(&mut **tx)
            .await?;
        }
    }
    Ok(())
}

/// `UPDATE tickets SET {assignments}` binding `$1` = `value`.
async fn set<T>(tx: &mut Transaction<'_, Any>, id: &TicketId, assignments: &str, value: T) -> Result<(), StoreError>
where
    T: for<'q> sqlx::Encode<'q, Any> + sqlx::Type<Any> + Send + 'static,
{
    let sql = format!("UPDATE tickets SET {assignments} WHERE id = $2");
    sqlx::query(&sql).bind(value).bind(id.as_str()).execute(&mut **tx).await?;
    Ok(())
}

/// A record stored as a JSON column.
pub(super) fn json<T: Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::Db(DbError::Corrupt(e.to_string())))
}

/// A command that found nothing left to do (`Moot`) as `false`.
pub(super) fn moot_is_false(acted: Result<(), StoreError>) -> Result<bool, StoreError> {
    match acted {
        Ok(()) => Ok(true),
        Err(StoreError::Moot(_)) => Ok(false),
        Err(e) => Err(e),
    }
}

/// The dispatcher's reason beside an assignment, and whether the deadline is at risk.
pub(super) async fn set_assignment_note(
    tx: &mut Transaction<'_, Any>,
    id: &TicketId,
    note: &str,
    at_risk: bool,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE tickets SET assignment_note = $1, deadline_at_risk = $2 WHERE id = $3")
        .bind(note)
        .bind(i64::from(at_risk))
        .bind(id.as_str())
        .execute(&mut **tx)
        .await?;
    Ok(())
}

/// 16 base-32 characters from a random UUID (74 random bits): not
/// guessable, easy to read out over the phone (no 0/O, 1/I).
fn new_progress_code() -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
    let bits = uuid::Uuid::new_v4().as_u128();
    (0..16).map(|i| ALPHABET[((bits >> (5 * i)) & 31) as usize] as char).collect()
}

/// One entry of a ticket's history.
pub(super) struct Event<'a> {
    pub kind: EventKind,
    pub from: Option<TicketState>,
    pub to: Option<TicketState>,
    pub actor: Actor<'a>,
    pub detail: &'a str,
    /// The engineer it concerns: assigned, reassigned, declined, withdrawn.
    pub engineer: Option<&'a EngineerId>,
}

impl<'a> Event<'a> {
    /// An entry that leaves the state as it is.
    pub fn note(kind: EventKind, actor: Actor<'a>, detail: &'a str) -> Self {
        Event { kind, from: None, to: None, actor, detail, engineer: None }
    }
}

pub(super) async fn insert_event(
    tx: &mut Transaction<'_, Any>,
    id: &TicketId,
    seq: i64,
    at: EpochMs,
    e: &Event<'_>,
) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO ticket_events (ticket_id, seq, at, kind, from_state, to_state, actor, detail, engineer_id) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
    )
    .bind(id.as_str())
    .bind(seq)
    .bind(at)
    .bind(e.kind.as_str())
    .bind(e.from.map(|s| s.as_str()))
    .bind(e.to.map(|s| s.as_str()))
    .bind(e.actor.as_str())
    .bind(e.detail)
    .bind(e.engineer.map(|x| x.as_str()))
    .execute(&mut **tx)
    .await?;
    if let Some(notice) = super::Notice::of(e.kind, e.to) {
        sqlx::query("INSERT INTO notice_outbox (ticket_id, seq, notice, at) VALUES ($1, $2, $3, $4)")
            .bind(id.as_str())
            .bind(seq)
            .bind(notice.as_str())
            .bind(at)
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

/// Appends an event that does not depend on the current state.
pub(super) async fn record_event(
    tx: &mut Transaction<'_, Any>,
    id: &TicketId,
    at: EpochMs,
    e: &Event<'_>,
) -> Result<(), StoreError> {
    let seq = lock(tx, id.as_str()).await?.seq;
    insert_event(tx, id, seq, at, e).await
}

/// Inserts the ticket with its `opened` event and first evidence; `None`
/// when one is already open for the asset and fault.
async fn insert_ticket(
    tx: &mut Transaction<'_, Any>,
    t: &NewTicket,
    now: EpochMs,
) -> Result<Option<TicketId>, StoreError> {
    let id = TicketId::new(format!("TK-{}", &uuid::Uuid::new_v4().simple().to_string()[..16]));
    let inserted = sqlx::query(&format!(
        "INSERT INTO tickets (id, asset_id, model, fault_code, rule_id, kind, severity, state, description, \
         detected_at, response_due, on_site_due, created_at, updated_at, progress_code, resolution_due, \
         sla_tier) VALUES ($1, $2, $3, $4, $5, $6, $7, {}, $8, $9, $10, $11, $12, $12, $13, $14, $15) \
         ON CONFLICT DO NOTHING",
        TicketState::Open.sql()
    ))
    .bind(id.as_str())
    .bind(t.asset.as_str())
    .bind(t.model.as_str())
    .bind(t.fault.as_str())
    .bind(t.rule.as_str())
    .bind(t.kind.as_str())
    .bind(t.severity.as_str())
    .bind(&t.description)
    .bind(t.detected_at)
    .bind(t.response_due)
    .bind(t.on_site_due)
    .bind(now)
    .bind(new_progress_code())
    .bind(t.resolution_due)
    .bind(&t.sla_tier)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    if inserted == 0 {
        return Ok(None);
    }
    let opened = Event { to: Some(TicketState::Open), ..Event::note(EventKind::Opened, Actor::Engine, &t.description) };
    record_event(tx, &id, now, &opened).await?;
    append_evidence(tx, &id, t.detected_at, &t.evidence).await?;
    Ok(Some(id))
}

/// Appends `t`'s evidence to the ticket open for its asset and fault, if any.
async fn append_to_open(tx: &mut Transaction<'_, Any>, t: &NewTicket) -> Result<Option<TicketId>, StoreError> {
    let open = TicketState::sql_list(&TicketState::OPEN);
    let open =
        sqlx::query(&format!("SELECT id FROM tickets WHERE asset_id = $1 AND fault_code = $2 AND state IN {open}"))
            .bind(t.asset.as_str())
            .bind(t.fault.as_str())
            .fetch_optional(&mut **tx)
            .await?;
    let Some(row) = open else { return Ok(None) };
    let id = TicketId::new(col::<String>(&row, "id")?);
    append_evidence(tx, &id, t.detected_at, &t.evidence).await?;
    Ok(Some(id))
}

async fn append_evidence(
    tx: &mut Transaction<'_, Any>,
    id: &TicketId,
    at: EpochMs,
    body: &serde_json::Value,
) -> Result<(), StoreError> {
    let row =
        sqlx::query("UPDATE tickets SET evidence_count = evidence_count + 1 WHERE id = $1 RETURNING evidence_count")
            .bind(id.as_str())
            .fetch_one(&mut **tx)
            .await?;
    sqlx::query("INSERT INTO ticket_evidence (ticket_id, seq, at, body) VALUES ($1, $2, $3, $4)")
        .bind(id.as_str())
        .bind(col::<i64>(&row, "evidence_count")?)
        .bind(at)
        .bind(body.to_string())
        .execute(&mut **tx)
        .await?;
    Ok(())
}
