//! What happens to a ticket: the kinds of its history entries. Stored by
//! their snake_case names; KPIs, dashboards and re-dispatch read them back,
//! so a kind exists here once and SQL names it through `sql`.

use serde::{Deserialize, Serialize};

crate::model::named_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum EventKind: "ticket event kind" {
        /// Opened from a finding.
        Opened = "opened",
        /// A lifecycle step (`from_state` -> `to_state`).
        Transition = "transition",
        /// First engineer proposed.
        Assigned = "assigned",
        /// Another engineer proposed while nobody had accepted.
        Reassigned = "reassigned",
        /// Nobody could be proposed; the detail says why.
        Unassigned = "unassigned",
        /// The holder handed it back.
        Declined = "declined",
        /// Taken from an engineer who dropped out.
        Withdrawn = "withdrawn",
        /// Not accepted by its response deadline.
        Escalated = "escalated",
        /// One severity tier up (forecast or escalation).
        SeverityRaised = "severity_raised",
        /// Flags raised once by the SLA timer.
        AtRisk = "at_risk",
        ResolutionAtRisk = "resolution_at_risk",
        ReportOverdue = "report_overdue",
        /// Warranty and remedy decided.
        Assessed = "assessed",
        Quoted = "quoted",
        QuoteAccepted = "quote_accepted",
        FollowUp = "follow_up",
        /// A dispatcher has seen it and is on it (once; the board stops putting it first).
        Acknowledged = "acknowledged",
        /// A customer reported the fault; the detail says what and, when the
        /// engine had opened the ticket first, how much earlier.
        CustomerReported = "customer_reported",
        /// A complaint about the ticket was filed; the detail names it.
        ComplaintReceived = "complaint_received",
        /// A visit window was agreed with the customer (the ticket keeps the last).
        AppointmentBooked = "appointment_booked",
        /// A person's comment; the detail is its text.
        Commented = "commented",
        /// A photo or document was attached; the detail names it.
        AttachmentAdded = "attachment_added",
        /// A part arrived on site (parts_24h counts its arrival).
        PartArrived = "part_arrived",
    }
}

impl EventKind {
    /// Whether the event put an engineer on the ticket (its `engineer` says who).
    pub fn assigns(self) -> bool {
        matches!(self, Self::Assigned | Self::Reassigned)
    }
}

/// Who did something to a ticket: one of the engine's own stages, the
/// engineer an event concerns, or a person as the request names them
/// (identities come with roles). Stored by its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Actor<'a> {
    /// Detection and the ticket service (opening, assessment, quotes, raises).
    Engine,
    /// Dispatch proposing an engineer, or recording that nobody could be.
    Dispatch,
    /// The SLA timers (escalation, at-risk flags).
    SlaTimer,
    /// A re-plan of the tickets nobody accepted.
    Replan,
    Engineer(&'a crate::model::EngineerId),
    Person(&'a str),
}

impl Actor<'_> {
    /// The engine's own stages, whose names no person may take.
    pub const STAGES: [Actor<'static>; 4] = [Actor::Engine, Actor::Dispatch, Actor::SlaTimer, Actor::Replan];

    pub fn as_str(&self) -> &str {
        match self {
            Actor::Engine => "engine",
            Actor::Dispatch => "dispatch",
            Actor::SlaTimer => "sla timer",
            Actor::Replan => "replan",
            Actor::Engineer(e) => e.as_str(),
            Actor::Person(name) => name,
        }
    }
}

/// A name given by a request is a person's, never one of the engine's stages.
impl<'a> From<&'a str> for Actor<'a> {
    fn from(name: &'a str) -> Self {
        Actor::Person(name)
    }
}

#[cfg(test)]
mod tests {
    use super::EventKind;

    #[test]
    fn every_kind_reads_back_from_its_stored_name_and_serialises_to_it() {
        for k in EventKind::ALL {
            assert_eq!(k.as_str().parse::<EventKind>().unwrap(), k);
            assert_eq!(serde_json::to_value(k).unwrap(), k.as_str());
        }
    }
}
