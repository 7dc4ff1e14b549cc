use super::*;
use TicketState::*;

/// A major ticket in `state`, never escalated or followed up.
fn view<'a>(state: TicketState, engineer: Option<&'a EngineerId>, quote_pending: bool) -> View<'a> {
    View {
        state,
        engineer,
        quote_pending,
        severity: Severity::Major,
        escalated: false,
        followed_up: false,
        acknowledged: false,
    }
}

fn engineers() -> [EngineerId; 2] {
    [EngineerId::new("ENG-A"), EngineerId::new("ENG-B")]
}

/// Every command there is, for engineers `a` and `b`.
fn commands<'a>(a: &'a EngineerId, b: &'a EngineerId, parts: &'a [String]) -> Vec<Command<'a>> {
    let mut all: Vec<Command<'a>> = TicketState::ALL.into_iter().map(Command::Step).collect();
    for e in [a, b] {
        all.push(Command::Assign { engineer: e, expected: None });
        all.push(Command::Assign { engineer: e, expected: Some(None) });
        all.push(Command::Assign { engineer: e, expected: Some(Some(a)) });
        all.push(Command::Decline { engineer: e });
        all.push(Command::Withdraw { engineer: e });
        all.push(Command::Unplan { engineer: e });
    }
    all.push(Command::Resolve { parts_used: parts });
    all
}

/// Whether `d` from `state` is a step the lifecycle names: a transition,
/// a hand-back to open, or a reassignment that keeps it assigned.
fn named_step(state: TicketState, d: &Decision<'_>) -> bool {
    let handed_back = matches!(d.kind, EventKind::Declined | EventKind::Withdrawn | EventKind::Unassigned);
    let reassigned = d.kind == EventKind::Reassigned && (state, d.to) == (Assigned, Assigned);
    state.can_become(d.to) || handed_back || reassigned
}

/// Whether a ticket in `state` held by `holder` is consistent: held exactly
/// while someone is assigned to it and it is not finished or back to open.
fn consistent(state: TicketState, holder: Option<&EngineerId>) -> bool {
    match state {
        Open => holder.is_none(),
        Assigned | Accepted | EnRoute | OnSite => holder.is_some(),
        Resolved | Closed | Cancelled => true,
    }
}

#[test]
fn every_accepted_command_keeps_the_ticket_consistent_and_every_step_is_one_the_lifecycle_names() {
    let [a, b] = engineers();
    let parts = vec!["BRG-6310".to_string()];
    for state in TicketState::ALL {
        for holder in [None, Some(&a)] {
            if !consistent(state, holder) {
                continue;
            }
            for quote_pending in [false, true] {
                let view = view(state, holder, quote_pending);
                for c in commands(&a, &b, &parts) {
                    let Ok(d) = decide(&view, c) else { continue };
                    let why = format!("{view:?} {c:?} -> {d:?}");
                    assert!(consistent(d.to, d.holder), "{why}");
                    assert!(!matches!(state, Closed | Cancelled), "a finished ticket moved: {why}");
                    assert!(named_step(state, &d), "{why}");
                    assert_eq!(d.to == Cancelled, d.effects == [Effect::ReleaseParts], "{why}");
                    assert_eq!(d.to == Resolved, d.effects == [Effect::ConsumeParts(&parts)], "{why}");
                    assert!(!(d.to == EnRoute && quote_pending), "work started on an unaccepted quote: {why}");
                    assert_eq!(d.engineer.is_some(), d.kind != EventKind::Transition, "{why}");
                }
            }
        }
    }
}

#[test]
fn refusals_name_why() {
    let [a, b] = engineers();
    let open = view(Open, None, false);
    let assigned = view(Assigned, Some(&a), true);
    let accepted = View { state: Accepted, ..assigned };
    assert_eq!(decide(&open, Command::Step(Accepted)), Err(Refusal::InvalidTransition { from: Open, to: Accepted }));
    assert!(matches!(decide(&open, Command::Step(Assigned)), Err(Refusal::OwnCommand(_))));
    assert!(matches!(decide(&assigned, Command::Step(Open)), Err(Refusal::OwnCommand(_))));
    assert_eq!(decide(&accepted, Command::Step(EnRoute)), Err(Refusal::QuoteNotAccepted));
    let on_site = View { state: OnSite, ..assigned };
    assert_eq!(decide(&on_site, Command::Step(Resolved)), Err(Refusal::ReportRequired));
    assert_eq!(decide(&assigned, Command::Decline { engineer: &b }), Err(Refusal::NotHolder(b.clone())));
    let plan = Command::Assign { engineer: &b, expected: Some(None) };
    assert_eq!(decide(&assigned, plan), Err(Refusal::Conflict), "the plan saw nobody; a holds it now");
    assert_eq!(
        decide(&accepted, Command::Decline { engineer: &a }),
        Err(Refusal::InvalidTransition { from: Accepted, to: Open }),
        "accepted work is withdrawn, not declined"
    );
    assert_eq!(decide(&accepted, Command::Withdraw { engineer: &a }).unwrap().to, Open);
}

proptest::proptest! {
    #![proptest_config(proptest::prelude::ProptestConfig::with_cases(2000))]
    /// Any sequence of commands, each applied to a model ticket when
    /// accepted (a quote may be accepted between any two): the states
    /// visited are a path of the lifecycle and the model never becomes
    /// inconsistent. A failure shrinks to the shortest such sequence.
    #[test]
    fn any_sequence_of_commands_follows_the_lifecycle(
        quoted in proptest::prelude::any::<bool>(),
        steps in proptest::collection::vec((0..64usize, proptest::prelude::any::<bool>()), 0..40),
    ) {
        let [a, b] = engineers();
        let parts = vec!["SEAL-20".to_string()];
        let all = commands(&a, &b, &parts);
        let (mut state, mut holder, mut quote_pending) = (Open, None, quoted);
        for (pick, quote_accepted) in steps {
            let c = all[pick % all.len()];
            let v = view(state, holder, quote_pending);
            if let Ok(d) = decide(&v, c) {
                proptest::prop_assert_eq!(d.from, state);
                proptest::prop_assert!(named_step(state, &d), "{:?} {:?}", v, c);
                (state, holder) = (d.to, d.holder);
                proptest::prop_assert!(consistent(state, holder), "{:?} {:?}", v, c);
            }
            quote_pending &= !quote_accepted;
        }
    }
}

/// The commands reach the lifecycle's end states: the path the walks
/// above are checked along is walked to its end.
#[test]
fn the_commands_walk_a_ticket_to_its_end() {
    let [a, _] = engineers();
    let parts = vec!["SEAL-20".to_string()];
    let steps = [
        Command::Assign { engineer: &a, expected: None },
        Command::Step(Accepted),
        Command::Step(EnRoute),
        Command::Step(OnSite),
        Command::Resolve { parts_used: &parts },
        Command::Step(Closed),
    ];
    let (mut state, mut holder) = (Open, None);
    for c in steps {
        let d = decide(&view(state, holder, false), c).unwrap_or_else(|r| panic!("{c:?} refused: {r:?}"));
        (state, holder) = (d.to, d.holder);
    }
    assert_eq!(state, Closed);
}

/// The commands that only record what happened to a ticket: each leaves
/// the state and the holder as they are, writes its one effect, records
/// no states, and is refused where it has nothing to do.
#[test]
fn notes_never_move_the_ticket_and_are_refused_where_moot() {
    use crate::tickets::quote::Quote;
    use crate::tickets::report::FollowUp;
    use crate::tickets::severity::Raised;
    let [a, _] = engineers();
    let raise = Raised {
        from: Severity::Major,
        to: Severity::Emergency,
        due: crate::sla::Deadlines { tier: "emergency".into(), response_due: 1, on_site_due: 2, resolution_due: 3 },
    };
    let quote = Quote { currency: "EUR".into(), lines: Vec::new(), total: 275.0 };
    let follow_up = FollowUp { rating: 5, comment: String::new(), recorded_by: "ops".into(), recorded_at: 0 };
    let notes = [
        (Command::Escalate, Effect::MarkEscalated),
        (Command::Raise(&raise), Effect::Raise(&raise)),
        (Command::Flag(EventKind::AtRisk), Effect::MarkAtRisk),
        (Command::Flag(EventKind::Acknowledged), Effect::MarkAcknowledged),
        (Command::Quote(&quote), Effect::SetQuote(&quote)),
        (Command::AcceptQuote, Effect::AcceptQuote),
        (Command::FollowUp(&follow_up), Effect::SetFollowUp(&follow_up)),
    ];
    for state in TicketState::ALL {
        let holder = (!matches!(state, Open)).then_some(&a);
        for quote_pending in [false, true] {
            let v = view(state, holder, quote_pending);
            for (c, effect) in notes {
                let Ok(d) = decide(&v, c) else { continue };
                let why = format!("{v:?} {c:?} -> {d:?}");
                assert_eq!((d.from, d.to, d.holder), (state, state, holder), "{why}");
                assert_eq!((d.effects.as_slice(), d.step), (&[effect][..], false), "{why}");
            }
        }
    }
    let assigned = view(Assigned, Some(&a), false);
    assert!(decide(&assigned, Command::Escalate).is_ok());
    let escalated = View { escalated: true, ..assigned };
    assert_eq!(decide(&escalated, Command::Escalate), Err(Refusal::Moot), "escalated once");
    assert_eq!(decide(&view(Accepted, Some(&a), false), Command::Escalate), Err(Refusal::Moot), "accepted meanwhile");
    let emergency = View { severity: Severity::Emergency, ..assigned };
    assert_eq!(decide(&emergency, Command::Raise(&raise)), Err(Refusal::Moot), "raised meanwhile");
    assert_eq!(decide(&view(Resolved, Some(&a), false), Command::Flag(EventKind::AtRisk)), Err(Refusal::Moot));
    assert_eq!(decide(&assigned, Command::Flag(EventKind::Transition)), Err(Refusal::Moot), "flags only");
    assert_eq!(decide(&assigned, Command::AcceptQuote), Err(Refusal::NoQuoteToAccept));
    assert_eq!(decide(&assigned, Command::FollowUp(&follow_up)), Err(Refusal::NotClosed));
    let followed = View { followed_up: true, ..view(Closed, Some(&a), false) };
    assert_eq!(decide(&followed, Command::FollowUp(&follow_up)), Err(Refusal::FollowUpExists));
    let acknowledged = View { acknowledged: true, ..assigned };
    assert_eq!(decide(&acknowledged, Command::Flag(EventKind::Acknowledged)), Err(Refusal::Moot), "acknowledged once");
}

#[test]
fn an_engineer_acts_only_on_what_they_hold_and_the_office_on_anything() {
    let [a, b] = engineers();
    let held_by_a = view(TicketState::Assigned, Some(&a), false);
    assert!(may_act(&held_by_a, Actor::Engineer(&a)).is_ok());
    assert_eq!(may_act(&held_by_a, Actor::Engineer(&b)), Err(Refusal::NotHolder(b.clone())), "reassigned meanwhile");
    assert!(may_act(&view(TicketState::Open, None, false), Actor::Engineer(&a)).is_err());
    assert!(may_act(&held_by_a, Actor::Person("a dispatcher")).is_ok());
    assert!(may_act(&held_by_a, Actor::SlaTimer).is_ok());
}
