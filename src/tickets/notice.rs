//! Which ticket events someone must hear about: the outbox rule. A notice
//! is written in its event's own transaction (`notice_outbox`), so a
//! committed event is never left unannounced and an event rolled back is
//! never announced; the notifications output (`outputs::notify`) turns
//! each notice into messages for its recipients and delivers them.

use super::{EventKind, TicketState};
use serde::{Deserialize, Serialize};

crate::model::named_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum Notice: "notice kind" {
        /// An engineer was put on the ticket (first or instead of another).
        Assigned = "assigned",
        /// The holder handed it back.
        Declined = "declined",
        /// Not accepted by its response deadline.
        Escalated = "escalated",
        /// The on-site or the resolution deadline is at risk.
        AtRisk = "at_risk",
        /// Work the warranty does not cover waits for the customer's acceptance.
        QuoteWaiting = "quote_waiting",
        /// The engineer set off to the site.
        OnTheWay = "on_the_way",
        Resolved = "resolved",
        /// Closed: the follow-up call is due.
        FollowUpDue = "follow_up_due",
        /// A customer reported a fault (attached to the ticket already open, or opened by it).
        CustomerReported = "customer_reported",
        ComplaintReceived = "complaint_received",
        /// The visit window agreed, for the customer.
        AppointmentBooked = "appointment_booked",
    }
}

impl Notice {
    /// The notice an event makes, if any.
    pub fn of(kind: EventKind, to: Option<TicketState>) -> Option<Notice> {
        use EventKind as E;
        Some(match (kind, to) {
            (E::Assigned | E::Reassigned, _) => Notice::Assigned,
            (E::Declined, _) => Notice::Declined,
            (E::Escalated, _) => Notice::Escalated,
            (E::AtRisk | E::ResolutionAtRisk, _) => Notice::AtRisk,
            (E::Quoted, _) => Notice::QuoteWaiting,
            (E::Transition, Some(TicketState::EnRoute)) => Notice::OnTheWay,
            (E::Transition, Some(TicketState::Resolved)) => Notice::Resolved,
            (E::Transition, Some(TicketState::Closed)) => Notice::FollowUpDue,
            (E::CustomerReported, _) => Notice::CustomerReported,
            (E::ComplaintReceived, _) => Notice::ComplaintReceived,
            (E::AppointmentBooked, _) => Notice::AppointmentBooked,
            _ => return None,
        })
    }

    /// Emergencies reach people in their quiet hours too.
    pub fn urgent_always(self) -> bool {
        matches!(self, Notice::Escalated)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_events_people_act_on_make_notices_and_bookkeeping_does_not() {
        assert_eq!(Notice::of(EventKind::Reassigned, None), Some(Notice::Assigned));
        assert_eq!(Notice::of(EventKind::Transition, Some(TicketState::EnRoute)), Some(Notice::OnTheWay));
        assert_eq!(Notice::of(EventKind::Transition, Some(TicketState::Closed)), Some(Notice::FollowUpDue));
        assert_eq!(Notice::of(EventKind::Transition, Some(TicketState::Accepted)), None);
        assert_eq!(Notice::of(EventKind::Opened, Some(TicketState::Open)), None);
        assert_eq!(Notice::of(EventKind::Acknowledged, None), None);
        for n in Notice::ALL {
            assert_eq!(n.as_str().parse::<Notice>().unwrap(), n);
        }
    }
}
