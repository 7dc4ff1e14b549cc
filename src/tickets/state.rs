//! The ticket lifecycle as a pure state machine: which transitions are
//! allowed. The store records each one as an event.

use serde::{Deserialize, Serialize};

crate::model::named_enum! {
    #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
    #[serde(rename_all = "snake_case")]
    pub enum TicketState: "ticket state" {
        Open = "open",
        Assigned = "assigned",
        Accepted = "accepted",
        EnRoute = "en_route",
        OnSite = "on_site",
        Resolved = "resolved",
        Closed = "closed",
        Cancelled = "cancelled",
    }
}

impl TicketState {
    /// Open tickets block a second ticket for the same asset and fault
    /// (mirrors the `tickets_one_open` index).
    pub const OPEN: [TicketState; 5] = [Self::Open, Self::Assigned, Self::Accepted, Self::EnRoute, Self::OnSite];
    /// Nobody has accepted them yet: re-plans and escalations may move them.
    pub const UNACCEPTED: [TicketState; 2] = [Self::Open, Self::Assigned];
    /// No engineer on site yet: the on-site deadline still runs; cancelling is allowed.
    pub const BEFORE_SITE: [TicketState; 4] = [Self::Open, Self::Assigned, Self::Accepted, Self::EnRoute];
    /// An engineer holds them and has not started on site.
    pub const HELD_BEFORE_SITE: [TicketState; 3] = [Self::Assigned, Self::Accepted, Self::EnRoute];

    pub fn is_open(self) -> bool {
        Self::OPEN.contains(&self)
    }

    /// `states` as an SQL list for `state IN ...`: `('open', 'assigned')`.
    pub fn sql_list(states: &[TicketState]) -> String {
        format!("({})", states.iter().map(|s| s.sql()).collect::<Vec<_>>().join(", "))
    }

    /// Whether `self -> to` is a valid step. Declining sends an assigned
    /// ticket back to `open`; work that has started cannot be cancelled.
    pub fn can_become(self, to: TicketState) -> bool {
        use TicketState::*;
        matches!(
            (self, to),
            (Open, Assigned)
                | (Assigned, Accepted)
                | (Assigned, Open)
                | (Accepted, EnRoute)
                | (EnRoute, OnSite)
                | (OnSite, Resolved)
                | (Resolved, Closed)
                | (Open | Assigned | Accepted | EnRoute, Cancelled)
        )
    }
}

#[cfg(test)]
mod tests {
    use super::TicketState::*;
    use super::*;

    #[test]
    fn sql_lists_are_the_enum_names_quoted() {
        assert_eq!(TicketState::sql_list(&TicketState::UNACCEPTED), "('open', 'assigned')");
        assert_eq!(
            TicketState::sql_list(&TicketState::OPEN),
            "('open', 'assigned', 'accepted', 'en_route', 'on_site')"
        );
    }

    #[test]
    fn cancelling_is_allowed_exactly_before_anyone_is_on_site() {
        for s in TicketState::ALL {
            assert_eq!(s.can_become(Cancelled), TicketState::BEFORE_SITE.contains(&s), "{s}");
        }
    }

    #[test]
    fn the_happy_path_is_allowed_step_by_step() {
        let path = [Open, Assigned, Accepted, EnRoute, OnSite, Resolved, Closed];
        for w in path.windows(2) {
            assert!(w[0].can_become(w[1]), "{} -> {}", w[0], w[1]);
        }
    }

    #[test]
    fn skipping_steps_and_leaving_terminal_states_is_refused() {
        assert!(!Open.can_become(OnSite));
        assert!(!Assigned.can_become(Resolved));
        for to in TicketState::ALL {
            assert!(!Closed.can_become(to) && !Cancelled.can_become(to));
        }
    }

    #[test]
    fn cancelling_is_possible_until_the_engineer_is_on_site() {
        assert!(EnRoute.can_become(Cancelled));
        assert!(!OnSite.can_become(Cancelled));
        assert!(!Resolved.can_become(Cancelled));
    }

    #[test]
    fn openness_matches_the_states_that_allow_further_work() {
        let open: Vec<_> = TicketState::ALL.into_iter().filter(|s| s.is_open()).collect();
        assert_eq!(open, [Open, Assigned, Accepted, EnRoute, OnSite]);
    }

    #[test]
    fn names_round_trip() {
        for s in TicketState::ALL {
            assert_eq!(s.as_str().parse::<TicketState>().unwrap(), s);
        }
    }
}
