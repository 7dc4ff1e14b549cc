//! The ticket lifecycle decided without I/O. A command, judged against the
//! ticket as it stands under its row lock (`View`), gives the new state,
//! the event to record and the effects to apply, or the reason it is
//! refused. Every writer asks `decide` and applies the answer with
//! `store::apply`, whether the command moves the state (a step, an
//! assignment) or only records what happened to the ticket (an escalation,
//! a raise, a flag, a quote, a follow-up); no other code decides either.

use super::appointment::Appointment;
use super::quote::Quote;
use super::report::FollowUp;
use super::severity::Raised;
use super::{Actor, EventKind, TicketState};
use crate::model::{EngineerId, Severity};

/// What the writer knows of the ticket once it holds the row lock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct View<'a> {
    pub state: TicketState,
    /// Who holds it.
    pub engineer: Option<&'a EngineerId>,
    /// A quote the customer has not accepted: work may not start.
    pub quote_pending: bool,
    pub severity: Severity,
    /// The SLA timer escalated it already (it does so once).
    pub escalated: bool,
    /// The customer's follow-up is recorded (one per ticket).
    pub followed_up: bool,
    /// A dispatcher acknowledged it already.
    pub acknowledged: bool,
}

/// What someone (or the engine) asks of a ticket.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Command<'a> {
    /// Propose `engineer` (assign from open, reassign while nobody accepted).
    /// `expected`: the holder a plan was computed against, when it matters.
    Assign {
        engineer: &'a EngineerId,
        expected: Option<Option<&'a EngineerId>>,
    },
    /// A step a person takes: accept, depart, arrive, close, cancel.
    Step(TicketState),
    /// Resolved on site, with the service report; `parts_used` are consumed.
    Resolve {
        parts_used: &'a [String],
    },
    /// The holder hands it back; never offered to them again.
    Decline {
        engineer: &'a EngineerId,
    },
    /// Taken back from an engineer who dropped out before starting on site.
    Withdraw {
        engineer: &'a EngineerId,
    },
    /// A re-plan found nobody for it: back to open, from its holder.
    Unplan {
        engineer: &'a EngineerId,
    },
    /// Nobody accepted it by its response deadline: escalated, once.
    Escalate,
    /// One tier up, as computed from the ticket at severity `raise.from`.
    Raise(&'a Raised),
    /// A once-only SLA flag: at risk, report overdue, resolution at risk.
    Flag(EventKind),
    /// An out-of-warranty price the customer must accept before work starts.
    Quote(&'a Quote),
    AcceptQuote,
    /// The customer's word on closed work.
    FollowUp(&'a FollowUp),
    /// A visit window agreed with the customer, while an engineer holds it before site.
    Book(&'a Appointment),
}

/// A change beside the state that the store applies in the same transaction.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Effect<'a> {
    /// Reserved parts go back to their depot's stock.
    ReleaseParts,
    /// These reserved parts were used; the rest are released.
    ConsumeParts(&'a [String]),
    MarkEscalated,
    MarkAcknowledged,
    /// The raise's severity, tier and deadlines.
    Raise(&'a Raised),
    /// The on-site deadline is at risk.
    MarkAtRisk,
    SetQuote(&'a Quote),
    AcceptQuote,
    SetFollowUp(&'a FollowUp),
    SetAppointment(&'a Appointment),
}

/// The answer to an accepted command.
#[derive(Debug, Clone, PartialEq)]
pub struct Decision<'a> {
    pub from: TicketState,
    pub to: TicketState,
    pub kind: EventKind,
    /// Who holds the ticket afterwards.
    pub holder: Option<&'a EngineerId>,
    /// The engineer the event concerns.
    pub engineer: Option<&'a EngineerId>,
    pub effects: Vec<Effect<'a>>,
    /// The event records the states it went between (a step), or only what
    /// happened to the ticket (a note: escalated, raised, flagged, quoted).
    pub step: bool,
}

/// Why a command was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    InvalidTransition {
        from: TicketState,
        to: TicketState,
    },
    /// The holder changed since the plan was computed.
    Conflict,
    QuoteNotAccepted,
    /// Resolving needs the service report (`Command::Resolve`).
    ReportRequired,
    /// Assigning and handing back have commands of their own.
    OwnCommand(&'static str),
    NotHolder(EngineerId),
    /// Nothing left to do: the ticket moved on (accepted, finished, raised
    /// or escalated meanwhile).
    Moot,
    NoQuoteToAccept,
    NotClosed,
    FollowUpExists,
    /// Visits are booked while an engineer holds the ticket and is not yet on site.
    NotBookable,
}

/// An engineer acts only on a ticket they hold, judged under the row lock
/// (a reassignment racing their step wins); the office and the engine act
/// on any.
pub fn may_act(view: &View<'_>, actor: Actor<'_>) -> Result<(), Refusal> {
    match actor {
        Actor::Engineer(e) if view.engineer != Some(e) => Err(Refusal::NotHolder(e.clone())),
        _ => Ok(()),
    }
}

/// Decides `command` against the ticket as `view` shows it.
pub fn decide<'a>(view: &View<'a>, command: Command<'a>) -> Result<Decision<'a>, Refusal> {
    let from = view.state;
    let step = |to: TicketState, kind| Decision {
        from,
        to,
        kind,
        holder: view.engineer,
        engineer: None,
        effects: vec![],
        step: true,
    };
    let allowed = |to: TicketState| {
        if from.can_become(to) {
            Ok(())
        } else {
            Err(Refusal::InvalidTransition { from, to })
        }
    };
    match command {
        Command::Assign { engineer, expected } => {
            if !TicketState::UNACCEPTED.contains(&from) {
                return Err(Refusal::InvalidTransition { from, to: TicketState::Assigned });
            }
            if expected.is_some_and(|e| e != view.engineer) {
                return Err(Refusal::Conflict);
            }
            let kind = if from == TicketState::Open { EventKind::Assigned } else { EventKind::Reassigned };
            Ok(Decision { holder: Some(engineer), engineer: Some(engineer), ..step(TicketState::Assigned, kind) })
        }
        Command::Step(TicketState::Assigned) => Err(Refusal::OwnCommand("use /reassign to assign an engineer")),
        Command::Step(TicketState::Open) => Err(Refusal::OwnCommand(
            "an engineer declines with /decline (never offered it again); a dispatcher moves it with /reassign",
        )),
        Command::Step(TicketState::Resolved) => {
            allowed(TicketState::Resolved)?;
            Err(Refusal::ReportRequired)
        }
        Command::Step(to) => {
            allowed(to)?;
            if to == TicketState::EnRoute && view.quote_pending {
                return Err(Refusal::QuoteNotAccepted);
            }
            let effects = if to == TicketState::Cancelled { vec![Effect::ReleaseParts] } else { vec![] };
            Ok(Decision { effects, ..step(to, EventKind::Transition) })
        }
        Command::Resolve { parts_used } => {
            allowed(TicketState::Resolved)?;
            Ok(Decision {
                effects: vec![Effect::ConsumeParts(parts_used)],
                ..step(TicketState::Resolved, EventKind::Transition)
            })
        }
        Command::Decline { engineer } => hand_back(view, engineer, &[TicketState::Assigned], EventKind::Declined),
        Command::Withdraw { engineer } => {
            hand_back(view, engineer, &TicketState::HELD_BEFORE_SITE, EventKind::Withdrawn)
        }
        Command::Unplan { engineer } => hand_back(view, engineer, &[TicketState::Assigned], EventKind::Unassigned),
        note @ (Command::Escalate
        | Command::Raise(_)
        | Command::Flag(_)
        | Command::Quote(_)
        | Command::AcceptQuote
        | Command::FollowUp(_)
        | Command::Book(_)) => record(view, note),
    }
}

/// A command that leaves the state as it is and records what happened.
fn record<'a>(view: &View<'a>, command: Command<'a>) -> Result<Decision<'a>, Refusal> {
    let open = view.state.is_open();
    let (kind, effect) = match command {
        Command::Escalate if TicketState::UNACCEPTED.contains(&view.state) && !view.escalated => {
            (EventKind::Escalated, Some(Effect::MarkEscalated))
        }
        Command::Raise(r) if open && view.severity == r.from => (EventKind::SeverityRaised, Some(Effect::Raise(r))),
        Command::Flag(EventKind::AtRisk) if open => (EventKind::AtRisk, Some(Effect::MarkAtRisk)),
        Command::Flag(kind @ (EventKind::ReportOverdue | EventKind::ResolutionAtRisk)) if open => (kind, None),
        Command::Flag(EventKind::Acknowledged) if open && !view.acknowledged => {
            (EventKind::Acknowledged, Some(Effect::MarkAcknowledged))
        }
        Command::Quote(q) if open => (EventKind::Quoted, Some(Effect::SetQuote(q))),
        Command::AcceptQuote if view.quote_pending => (EventKind::QuoteAccepted, Some(Effect::AcceptQuote)),
        Command::AcceptQuote => return Err(Refusal::NoQuoteToAccept),
        Command::FollowUp(_) if view.state != TicketState::Closed => return Err(Refusal::NotClosed),
        Command::FollowUp(_) if view.followed_up => return Err(Refusal::FollowUpExists),
        Command::FollowUp(f) => (EventKind::FollowUp, Some(Effect::SetFollowUp(f))),
        Command::Book(a) if TicketState::HELD_BEFORE_SITE.contains(&view.state) => {
            (EventKind::AppointmentBooked, Some(Effect::SetAppointment(a)))
        }
        Command::Book(_) => return Err(Refusal::NotBookable),
        _ => return Err(Refusal::Moot),
    };
    let from = view.state;
    let effects = effect.into_iter().collect();
    Ok(Decision { from, to: from, kind, holder: view.engineer, engineer: None, effects, step: false })
}

/// `engineer` gives the ticket back to `open` from one of `states`.
fn hand_back<'a>(
    view: &View<'a>,
    engineer: &'a EngineerId,
    states: &[TicketState],
    kind: EventKind,
) -> Result<Decision<'a>, Refusal> {
    if !states.contains(&view.state) {
        return Err(Refusal::InvalidTransition { from: view.state, to: TicketState::Open });
    }
    if view.engineer != Some(engineer) {
        return Err(Refusal::NotHolder(engineer.clone()));
    }
    Ok(Decision {
        from: view.state,
        to: TicketState::Open,
        kind,
        holder: None,
        engineer: Some(engineer),
        effects: vec![],
        step: true,
    })
}

#[cfg(test)]
mod tests;
