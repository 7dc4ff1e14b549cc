//! What happens to a ticket: the kinds of its history entries. Stored by
//! their snake_case names; KPIs, dashboards and re-dispatch read them back,
//! so a kind exists here once and SQL names it through `sql`.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// Opened from a finding.
    Opened,
    /// A lifecycle step (`from_state` -> `to_state`).
    Transition,
    /// First engineer proposed.
    Assigned,
    /// Another engineer proposed while nobody had accepted.
    Reassigned,
    /// Nobody could be proposed; the detail says why.
    Unassigned,
    /// The holder handed it back.
    Declined,
    /// Taken from an engineer who dropped out.
    Withdrawn,
    /// Not accepted by its response deadline.
    Escalated,
    /// One severity tier up (forecast or escalation).
    SeverityRaised,
    /// Flags raised once by the SLA timer.
    AtRisk,
    ResolutionAtRisk,
    ReportOverdue,
    /// Warranty and remedy decided.
    Assessed,
    Quoted,
    QuoteAccepted,
    FollowUp,
}

impl EventKind {
    pub const ALL: [EventKind; 16] = [
        Self::Opened,
        Self::Transition,
        Self::Assigned,
        Self::Reassigned,
        Self::Unassigned,
        Self::Declined,
        Self::Withdrawn,
        Self::Escalated,
        Self::SeverityRaised,
        Self::AtRisk,
        Self::ResolutionAtRisk,
        Self::ReportOverdue,
        Self::Assessed,
        Self::Quoted,
        Self::QuoteAccepted,
        Self::FollowUp,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Opened => "opened",
            Self::Transition => "transition",
            Self::Assigned => "assigned",
            Self::Reassigned => "reassigned",
            Self::Unassigned => "unassigned",
            Self::Declined => "declined",
            Self::Withdrawn => "withdrawn",
            Self::Escalated => "escalated",
            Self::SeverityRaised => "severity_raised",
            Self::AtRisk => "at_risk",
            Self::ResolutionAtRisk => "resolution_at_risk",
            Self::ReportOverdue => "report_overdue",
            Self::Assessed => "assessed",
            Self::Quoted => "quoted",
            Self::QuoteAccepted => "quote_accepted",
            Self::FollowUp => "follow_up",
        }
    }

    /// Whether the event put an engineer on the ticket (its `engineer` says who).
    pub fn assigns(self) -> bool {
        matches!(self, Self::Assigned | Self::Reassigned)
    }
}

crate::model::enum_str!(EventKind, "ticket event kind");

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
