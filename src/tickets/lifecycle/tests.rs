use super::*;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use TicketState::*;

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
                let view = View { state, engineer: holder, quote_pending };
                for c in commands(&a, &b, &parts) {
                    let Ok(d) = decide(&view, c) else { continue };
                    let why = format!("{view:?} {c:?} -> {d:?}");
                    assert!(consistent(d.to, d.holder), "{why}");
                    assert!(!matches!(state, Closed | Cancelled), "a finished ticket moved: {why}");
                    let handed_back =
                        matches!(d.kind, EventKind::Declined | EventKind::Withdrawn | EventKind::Unassigned);
                    let reassigned = d.kind == EventKind::Reassigned && (state, d.to) == (Assigned, Assigned);
                    assert!(state.can_become(d.to) || handed_back || reassigned, "{why}");
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
    let open = View { state: Open, engineer: None, quote_pending: false };
    let assigned = View { state: Assigned, engineer: Some(&a), quote_pending: true };
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

/// A random walk of commands, each applied to a model ticket when accepted:
/// the states visited are a path of the lifecycle and the model never
/// becomes inconsistent, whatever the order of commands.
#[test]
fn random_walks_of_commands_follow_the_lifecycle() {
    let [a, b] = engineers();
    let parts = vec!["SEAL-20".to_string()];
    let all = commands(&a, &b, &parts);
    let mut rng = StdRng::seed_from_u64(15);
    let (mut finished, mut resolved) = (0, 0);
    for _ in 0..2_000 {
        let (mut state, mut holder, mut quote_pending) = (Open, None, rng.random_bool(0.3));
        for _ in 0..40 {
            let c = all[rng.random_range(0..all.len())];
            let view = View { state, engineer: holder, quote_pending };
            if let Ok(d) = decide(&view, c) {
                assert_eq!(d.from, state);
                (state, holder) = (d.to, d.holder);
                assert!(consistent(state, holder), "{view:?} {c:?}");
            }
            quote_pending &= !rng.random_bool(0.1);
        }
        finished += usize::from(matches!(state, Closed | Cancelled));
        resolved += usize::from(matches!(state, Resolved | Closed));
    }
    assert!(
        finished > 100 && resolved > 10,
        "the walks reach the end states: {finished} finished, {resolved} resolved"
    );
}
