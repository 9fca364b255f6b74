//! The declaration lifecycle: every legal path end to end, and every event in every state by
//! every actor checked against a table written here independently of the implementation.

#![allow(clippy::unwrap_used)] // A panic in a test is a test failure with its message.

use jinguan_clearance::{Actor, Channel, Event, Lifecycle, Outcome, State, TransitionError};
use jinguan_types::{EntryId, IeFlag};

use Actor::{Bank, Declarant, Officer, System};

fn entry_id(ie: IeFlag) -> EntryId {
    EntryId::new("5300", 2026, ie, 42).unwrap()
}

/// Applies steps in order, checking the receipt channel code after each.
fn walk(direction: IeFlag, steps: &[(Actor, Event, Option<&str>)]) -> Lifecycle {
    let mut lifecycle = Lifecycle::new(direction);
    assert_eq!(lifecycle.receipt_channel(), Some("L"));
    for (i, (actor, event, code)) in steps.iter().enumerate() {
        lifecycle = lifecycle
            .apply(*actor, *event)
            .unwrap_or_else(|e| panic!("step {i} ({event:?} by {actor:?}): {e}"));
        assert_eq!(
            lifecycle.receipt_channel(),
            *code,
            "after step {i} ({event:?})"
        );
    }
    lifecycle
}

fn front(direction: IeFlag, channel: Channel) -> Vec<(Actor, Event, Option<&'static str>)> {
    let channel_code = match channel {
        Channel::Green => Some("W"),
        Channel::Yellow => None,
        Channel::Red => Some("C"),
    };
    vec![
        (
            System,
            Event::Accept {
                entry_id: entry_id(direction),
            },
            Some("7"),
        ),
        (System, Event::Assess, Some("G")),
        (System, Event::SelectChannel { channel }, channel_code),
    ]
}

#[test]
fn green_import_is_released_after_payment() {
    let mut steps = front(IeFlag::Import, Channel::Green);
    steps.extend([
        (System, Event::RequestPayment, Some("T")),
        (Bank, Event::Pay, None),
        (System, Event::Release, Some("P")),
    ]);
    let done = walk(IeFlag::Import, &steps);
    assert_eq!(done.state, State::Released);
    assert!(done.is_final());
    assert_eq!(done.entry_id, Some(entry_id(IeFlag::Import)));
}

#[test]
fn yellow_export_under_guarantee_then_exit() {
    let mut steps = front(IeFlag::Export, Channel::Yellow);
    steps.extend([
        (
            Officer,
            Event::Review {
                outcome: Outcome::Conform,
            },
            None,
        ),
        (System, Event::RequestPayment, Some("T")),
        (Bank, Event::Guarantee, None),
        (Officer, Event::Release, Some("B")),
        (System, Event::ConfirmExit, Some("R")),
    ]);
    let done = walk(IeFlag::Export, &steps);
    assert_eq!(done.state, State::ExitConfirmed);
    assert!(done.is_final());
}

#[test]
fn a_non_conform_review_escalates_to_inspection() {
    let mut steps = front(IeFlag::Import, Channel::Yellow);
    steps.extend([
        (
            Officer,
            Event::Review {
                outcome: Outcome::NonConform,
            },
            None,
        ),
        (
            Officer,
            Event::Inspect {
                outcome: Outcome::Conform,
            },
            Some("S"),
        ),
        (System, Event::RequestPayment, Some("T")),
        (Bank, Event::Pay, None),
        (Officer, Event::Release, Some("P")),
    ]);
    assert_eq!(walk(IeFlag::Import, &steps).state, State::Released);
}

#[test]
fn a_non_conform_inspection_is_amended_and_goes_round_again() {
    let mut steps = front(IeFlag::Import, Channel::Red);
    steps.extend([
        (
            Officer,
            Event::Inspect {
                outcome: Outcome::NonConform,
            },
            Some("S"),
        ),
        (Declarant, Event::Amend, Some("L")),
    ]);
    let amended = walk(IeFlag::Import, &steps);
    assert_eq!((amended.state, amended.version), (State::Received, 2));
    assert_eq!(amended.entry_id, Some(entry_id(IeFlag::Import)));
    // The new version keeps its entry id; another one is refused.
    let other = EntryId::new("5300", 2026, IeFlag::Import, 43).unwrap();
    let refused = amended
        .apply(System, Event::Accept { entry_id: other })
        .unwrap_err();
    assert_eq!(refused.code(), "W0106");
    let mut again = amended;
    for (actor, event) in [
        (
            System,
            Event::Accept {
                entry_id: entry_id(IeFlag::Import),
            },
        ),
        (System, Event::Assess),
        (
            System,
            Event::SelectChannel {
                channel: Channel::Red,
            },
        ),
        (
            Officer,
            Event::Inspect {
                outcome: Outcome::Conform,
            },
        ),
        (System, Event::RequestPayment),
        (Bank, Event::Pay),
        (Officer, Event::Release),
    ] {
        again = again.apply(actor, event).unwrap();
    }
    assert_eq!((again.state, again.version), (State::Released, 2));
}

#[test]
fn rejection_is_final_and_an_entry_id_must_match_the_direction() {
    let received = Lifecycle::new(IeFlag::Import);
    let wrong = received
        .apply(
            System,
            Event::Accept {
                entry_id: entry_id(IeFlag::Export),
            },
        )
        .unwrap_err();
    assert_eq!(wrong.code(), "W0106");
    let rejected = received.apply(System, Event::Reject).unwrap();
    assert_eq!(rejected.receipt_channel(), Some("E"));
    assert!(rejected.is_final());
    assert_eq!(
        rejected.apply(Declarant, Event::Amend).unwrap_err().code(),
        "W0101"
    );
}

#[test]
fn a_hold_stops_everything_but_its_release() {
    let mut lifecycle = Lifecycle::new(IeFlag::Import);
    let path = [
        (
            System,
            Event::Accept {
                entry_id: entry_id(IeFlag::Import),
            },
        ),
        (System, Event::Assess),
        (
            System,
            Event::SelectChannel {
                channel: Channel::Green,
            },
        ),
        (System, Event::RequestPayment),
        (Bank, Event::Pay),
    ];
    for (actor, event) in path {
        lifecycle = lifecycle.apply(actor, event).unwrap();
        let held = lifecycle.apply(Officer, Event::Hold).unwrap();
        assert_eq!(held.receipt_channel(), Some("H"));
        for (other_actor, other) in all_events(IeFlag::Import) {
            if other == Event::ReleaseHold || !other.allowed(other_actor) {
                continue;
            }
            assert_eq!(
                held.apply(other_actor, other),
                Err(TransitionError::OnHold),
                "{other:?} while held in {:?}",
                lifecycle.state
            );
        }
        assert_eq!(held.apply(Officer, Event::ReleaseHold).unwrap(), lifecycle);
    }
}

#[test]
fn cancellation_before_release_and_by_correction_after() {
    let accepted = Lifecycle::new(IeFlag::Import)
        .apply(
            System,
            Event::Accept {
                entry_id: entry_id(IeFlag::Import),
            },
        )
        .unwrap();
    for actor in [Declarant, Officer] {
        let cancelled = accepted.apply(actor, Event::Cancel).unwrap();
        assert_eq!(cancelled.state, State::Cancelled);
        assert_eq!(cancelled.receipt_channel(), Some("D"));
    }
    let released = walk(IeFlag::Import, &{
        let mut steps = front(IeFlag::Import, Channel::Green);
        steps.extend([
            (System, Event::RequestPayment, Some("T")),
            (Bank, Event::Pay, None),
            (System, Event::Release, Some("P")),
        ]);
        steps
    });
    assert_eq!(
        released.apply(Declarant, Event::Cancel).unwrap_err().code(),
        "W0105"
    );
    assert_eq!(
        released
            .apply(Declarant, Event::CancelByCorrection)
            .unwrap_err()
            .code(),
        "W0102"
    );
    assert_eq!(
        released
            .apply(Officer, Event::CancelByCorrection)
            .unwrap()
            .state,
        State::Cancelled
    );
    assert_eq!(
        released
            .apply(System, Event::ConfirmExit)
            .unwrap_err()
            .code(),
        "W0104"
    );
}

#[test]
fn replay_folds_events_and_names_the_first_refused_one() {
    let events = [
        (
            System,
            Event::Accept {
                entry_id: entry_id(IeFlag::Export),
            },
        ),
        (System, Event::Assess),
        (
            System,
            Event::SelectChannel {
                channel: Channel::Green,
            },
        ),
        (System, Event::RequestPayment),
    ];
    let lifecycle = Lifecycle::replay(IeFlag::Export, &events).unwrap();
    assert_eq!(lifecycle.state, State::AwaitingPayment);
    let mut broken = events.to_vec();
    broken.insert(1, (System, Event::Release));
    let (at, error) = Lifecycle::replay(IeFlag::Export, &broken).unwrap_err();
    assert_eq!((at, error.code()), (1, "W0101"));
}

#[test]
fn events_and_lifecycles_round_trip_as_json() {
    let event = Event::Review {
        outcome: Outcome::NonConform,
    };
    let json = serde_json::to_string(&event).unwrap();
    assert_eq!(json, r#"{"event":"review","outcome":"non_conform"}"#);
    assert_eq!(serde_json::from_str::<Event>(&json).unwrap(), event);
    let lifecycle = Lifecycle::new(IeFlag::Export)
        .apply(
            System,
            Event::Accept {
                entry_id: entry_id(IeFlag::Export),
            },
        )
        .unwrap();
    let json = serde_json::to_string(&lifecycle).unwrap();
    assert_eq!(serde_json::from_str::<Lifecycle>(&json).unwrap(), lifecycle);
}

fn all_states() -> Vec<State> {
    let mut states = vec![
        State::Received,
        State::Rejected,
        State::Accepted,
        State::Assessed,
        State::AwaitingPayment,
        State::Paid,
        State::Guaranteed,
        State::Released,
        State::ExitConfirmed,
        State::Cancelled,
    ];
    for channel in [Channel::Green, Channel::Yellow, Channel::Red] {
        states.push(State::Selected(channel));
    }
    for outcome in [Outcome::Conform, Outcome::NonConform] {
        states.push(State::Reviewed(outcome));
        states.push(State::Inspected(outcome));
    }
    states
}

/// Every event, with every actor.
fn all_events(direction: IeFlag) -> Vec<(Actor, Event)> {
    let mut events = vec![
        Event::Accept {
            entry_id: entry_id(direction),
        },
        Event::Reject,
        Event::Assess,
        Event::RequestPayment,
        Event::Pay,
        Event::NothingDue,
        Event::Guarantee,
        Event::Release,
        Event::ConfirmExit,
        Event::Hold,
        Event::ReleaseHold,
        Event::Amend,
        Event::Cancel,
        Event::CancelByCorrection,
    ];
    for channel in [Channel::Green, Channel::Yellow, Channel::Red] {
        events.push(Event::SelectChannel { channel });
    }
    for outcome in [Outcome::Conform, Outcome::NonConform] {
        events.push(Event::Review { outcome });
        events.push(Event::Inspect { outcome });
    }
    let mut all = Vec::new();
    for event in events {
        for actor in [Declarant, Officer, Bank, System] {
            all.push((actor, event));
        }
    }
    all
}

/// The rules as this test states them: who may cause each event, then what each event does
/// in each state (the next state, or the code it is refused with).
fn expected(
    state: State,
    actor: Actor,
    event: &Event,
    direction: IeFlag,
) -> Result<State, &'static str> {
    use State::*;
    let before_release = !matches!(
        state,
        Received | Rejected | Released | ExitConfirmed | Cancelled
    );
    let actors: &[Actor] = match event {
        Event::Accept { .. }
        | Event::Reject
        | Event::Assess
        | Event::SelectChannel { .. }
        | Event::RequestPayment
        | Event::NothingDue
        | Event::ConfirmExit => &[System],
        Event::Review { .. }
        | Event::Inspect { .. }
        | Event::Hold
        | Event::ReleaseHold
        | Event::CancelByCorrection => &[Officer],
        Event::Pay | Event::Guarantee => &[Bank],
        Event::Release => &[Officer, System],
        Event::Amend => &[Declarant],
        Event::Cancel => &[Declarant, Officer],
    };
    if !actors.contains(&actor) {
        return Err("W0102");
    }
    let next = match (state, event) {
        (Received, Event::Accept { .. }) => Accepted,
        (Received, Event::Reject) => Rejected,
        (Accepted, Event::Assess) => Assessed,
        (Assessed, Event::SelectChannel { channel }) => Selected(*channel),
        (Selected(Channel::Yellow), Event::Review { outcome }) => Reviewed(*outcome),
        (Selected(Channel::Red), Event::Inspect { outcome }) => Inspected(*outcome),
        (Reviewed(Outcome::NonConform), Event::Inspect { outcome }) => Inspected(*outcome),
        (Selected(Channel::Green), Event::RequestPayment) => AwaitingPayment,
        (Reviewed(Outcome::Conform), Event::RequestPayment) => AwaitingPayment,
        (Inspected(Outcome::Conform), Event::RequestPayment) => AwaitingPayment,
        (AwaitingPayment, Event::Pay) => Paid,
        (AwaitingPayment, Event::NothingDue) => Paid,
        (AwaitingPayment, Event::Guarantee) => Guaranteed,
        (Paid, Event::Release) | (Guaranteed, Event::Release) => Released,
        (Released, Event::ConfirmExit) if direction == IeFlag::Export => ExitConfirmed,
        (Released, Event::ConfirmExit) => return Err("W0104"),
        (s, Event::Hold) if before_release => s,
        (Received, Event::Amend) => Received,
        (_, Event::Amend) if before_release => Received,
        (Received, Event::Cancel) => Cancelled,
        (_, Event::Cancel) if before_release => Cancelled,
        (Released | ExitConfirmed, Event::Cancel) => return Err("W0105"),
        (Released | ExitConfirmed, Event::CancelByCorrection) => Cancelled,
        _ => return Err("W0101"),
    };
    Ok(next)
}

#[test]
fn every_event_in_every_state_by_every_actor_follows_the_table() {
    let mut checked = 0;
    for direction in [IeFlag::Import, IeFlag::Export] {
        for state in all_states() {
            let lifecycle = Lifecycle {
                state,
                entry_id: (state != State::Received).then(|| entry_id(direction)),
                ..Lifecycle::new(direction)
            };
            for (actor, event) in all_events(direction) {
                let got = lifecycle.apply(actor, event);
                let want = expected(state, actor, &event, direction);
                match (&got, want) {
                    (Ok(next), Ok(state)) => assert_eq!(next.state, state, "{state:?} {event:?}"),
                    (Err(error), Err(code)) => {
                        assert_eq!(error.code(), code, "{state:?} {event:?} by {actor:?}")
                    }
                    _ => panic!("{state:?} {event:?} by {actor:?}: got {got:?}, want {want:?}"),
                }
                checked += 1;
            }
        }
    }
    assert_eq!(
        checked,
        2 * 17 * 21 * 4,
        "directions × states × events × actors"
    );
}

#[test]
fn every_receipt_channel_code_is_in_the_china_table() {
    let refdata = jinguan_refdata::RefData::load().unwrap();
    let table = refdata.table("receipt-channel").unwrap();
    let mut codes = 0;
    for direction in [IeFlag::Import, IeFlag::Export] {
        for state in all_states() {
            for (held, guaranteed) in [(false, false), (true, false), (false, true)] {
                let lifecycle = Lifecycle {
                    state,
                    held,
                    guaranteed,
                    ..Lifecycle::new(direction)
                };
                if let Some(code) = lifecycle.receipt_channel() {
                    let entry = table
                        .get(code)
                        .unwrap_or_else(|| panic!("{code} not in the table"));
                    assert_eq!(entry.code, code, "codes are case-sensitive");
                    codes += 1;
                }
            }
        }
    }
    assert!(codes > 0);
}
