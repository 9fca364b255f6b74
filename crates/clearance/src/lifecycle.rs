//! A declaration's life, as a state machine.
//!
//! ```text
//! received ─accept─► accepted ─assess─► assessed ─select─► green ──────────────┐
//!    │                                                    yellow ─review─► reviewed ─┤ (conform)
//!    └─reject─► rejected                                  red ─inspect─► inspected ──┤ (conform)
//!                                         reviewed (non-conform) ─inspect─► inspected │
//!        awaiting payment ◄─request payment─────────────────────────────────────────┘
//!        awaiting payment ─pay / nothing due─► paid ─┐
//!                         ─guarantee─► guaranteed ─┴─release─► released ─exit─► exit confirmed (exports)
//! ```
//!
//! Besides the main path: an officer may **hold** a declaration anywhere from acceptance to
//! release (while held, nothing but **release from hold** happens); the declarant may
//! **amend** it before release (a new version, back to *received* to be checked again, its
//! entry id kept) or **cancel** it before release (an officer may too); after release only a
//! **correction** procedure, run by an officer, cancels it. A non-conform review or inspection
//! stops the main path until the declaration is amended, escalated (review to inspection),
//! held or cancelled. Every other event is refused with a code.
//!
//! The state machine only decides; the ledger records each accepted event, and the current
//! state is the fold of a declaration's events ([`Lifecycle::replay`]).
//!
//! Each state maps to the China receipt channel code (DEC_RESULT `CHANNEL`,
//! `corpus/china/codes/compiled/declaration_receipt_channel_codes.csv`) a declarant's
//! software expects, where one fits ([`Lifecycle::receipt_channel`]).

use jinguan_types::{EntryId, IeFlag};
use serde::{Deserialize, Serialize};

/// The selectivity channel.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// Release after payment, no officer involved.
    Green,
    /// Document review by an officer.
    Yellow,
    /// Physical inspection.
    Red,
}

/// What a review or an inspection found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// Goods and documents match the declaration.
    Conform,
    /// They do not; the findings travel with the event.
    NonConform,
}

/// Where a declaration stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "state", content = "detail")]
pub enum State {
    /// Submitted and acknowledged, not yet checked (again, after an amendment).
    Received,
    /// Refused at the checks; final.
    Rejected,
    /// Checked and numbered.
    Accepted,
    /// Duties and taxes worked out.
    Assessed,
    /// A channel chosen by risk.
    Selected(Channel),
    /// Documents reviewed.
    Reviewed(Outcome),
    /// Goods inspected.
    Inspected(Outcome),
    /// Duties and taxes due.
    AwaitingPayment,
    /// Paid.
    Paid,
    /// Secured by a guarantee instead of payment.
    Guaranteed,
    /// Released (放行); final for imports.
    Released,
    /// Exit confirmed against the manifest (结关); final.
    ExitConfirmed,
    /// Cancelled (删单); final.
    Cancelled,
}

/// Who causes an event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Actor {
    /// The enterprise or its broker.
    Declarant,
    /// A customs officer.
    Officer,
    /// A bank, for payments and guarantees.
    Bank,
    /// The platform itself (checks, assessment, selectivity, automatic release, manifests).
    System,
}

/// What happens to a declaration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "event")]
pub enum Event {
    /// The checks passed; the entry id is assigned (kept across amendments).
    Accept {
        /// The entry id.
        entry_id: EntryId,
    },
    /// The checks failed.
    Reject,
    /// Duties and taxes worked out.
    Assess,
    /// Risk chose a channel.
    SelectChannel {
        /// The channel.
        channel: Channel,
    },
    /// An officer reviewed the documents.
    Review {
        /// The finding.
        outcome: Outcome,
    },
    /// An officer inspected the goods.
    Inspect {
        /// The finding.
        outcome: Outcome,
    },
    /// Duties and taxes are now due.
    RequestPayment,
    /// A bank paid them.
    Pay,
    /// Nothing is due (every tax exempt, zero or waived under 50 yuan): settled without a bank.
    NothingDue,
    /// A bank guaranteed them.
    Guarantee,
    /// Released.
    Release,
    /// The goods left (exports).
    ConfirmExit,
    /// An officer holds the declaration.
    Hold,
    /// An officer lifts the hold.
    ReleaseHold,
    /// The declarant submits a new version.
    Amend,
    /// Cancelled before release.
    Cancel,
    /// Cancelled after release, by a correction procedure.
    CancelByCorrection,
}

impl Event {
    /// Who may cause this event.
    pub fn allowed(&self, actor: Actor) -> bool {
        use Actor::*;
        match self {
            Event::Accept { .. }
            | Event::Reject
            | Event::Assess
            | Event::SelectChannel { .. }
            | Event::RequestPayment
            | Event::NothingDue
            | Event::ConfirmExit => actor == System,
            Event::Review { .. }
            | Event::Inspect { .. }
            | Event::Hold
            | Event::ReleaseHold
            | Event::CancelByCorrection => actor == Officer,
            Event::Pay | Event::Guarantee => actor == Bank,
            // Green-channel release after payment is automatic; others an officer's.
            Event::Release => matches!(actor, Officer | System),
            Event::Amend => actor == Declarant,
            Event::Cancel => matches!(actor, Declarant | Officer),
        }
    }

    /// The event's name, as in its JSON form.
    pub fn name(&self) -> &'static str {
        match self {
            Event::Accept { .. } => "accept",
            Event::Reject => "reject",
            Event::Assess => "assess",
            Event::SelectChannel { .. } => "select_channel",
            Event::Review { .. } => "review",
            Event::Inspect { .. } => "inspect",
            Event::RequestPayment => "request_payment",
            Event::Pay => "pay",
            Event::NothingDue => "nothing_due",
            Event::Guarantee => "guarantee",
            Event::Release => "release",
            Event::ConfirmExit => "confirm_exit",
            Event::Hold => "hold",
            Event::ReleaseHold => "release_hold",
            Event::Amend => "amend",
            Event::Cancel => "cancel",
            Event::CancelByCorrection => "cancel_by_correction",
        }
    }
}

/// Why an event was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransitionError {
    /// The event cannot happen in this state.
    #[error("W0101: {event} is not possible while the declaration is {state:?}")]
    NotNow {
        /// The state.
        state: State,
        /// The event's name.
        event: &'static str,
    },
    /// This actor may not cause this event.
    #[error("W0102: a {actor:?} may not {event}")]
    NotYours {
        /// The actor.
        actor: Actor,
        /// The event's name.
        event: &'static str,
    },
    /// The declaration is on hold.
    #[error("W0103: the declaration is on hold; only an officer's release from hold is possible")]
    OnHold,
    /// Exit confirmation of an import.
    #[error("W0104: exit is confirmed for exports only")]
    NotAnExport,
    /// Cancellation after release without a correction procedure.
    #[error("W0105: a released declaration is cancelled only by a correction procedure")]
    Released,
    /// An entry id that does not fit the declaration.
    #[error("W0106: entry id {entry_id} does not fit: {reason}")]
    EntryId {
        /// The entry id offered.
        entry_id: String,
        /// What does not fit.
        reason: &'static str,
    },
}

impl TransitionError {
    /// The stable code (`W01xx`).
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotNow { .. } => "W0101",
            Self::NotYours { .. } => "W0102",
            Self::OnHold => "W0103",
            Self::NotAnExport => "W0104",
            Self::Released => "W0105",
            Self::EntryId { .. } => "W0106",
        }
    }
}

/// A declaration's lifecycle: its state and what the state alone does not say.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lifecycle {
    /// Import or export.
    pub direction: IeFlag,
    /// Where it stands.
    pub state: State,
    /// Whether an officer holds it.
    pub held: bool,
    /// The version (1, then one more per amendment).
    pub version: u32,
    /// The entry id, from the first acceptance on.
    pub entry_id: Option<EntryId>,
    /// Whether duties were secured by a guarantee rather than paid (a release then is 担保放行).
    pub guaranteed: bool,
}

impl Lifecycle {
    /// A declaration just received.
    pub fn new(direction: IeFlag) -> Self {
        Self {
            direction,
            state: State::Received,
            held: false,
            version: 1,
            entry_id: None,
            guaranteed: false,
        }
    }

    /// Whether nothing more can happen to it, short of a correction procedure.
    pub fn is_final(&self) -> bool {
        matches!(
            self.state,
            State::Rejected | State::Cancelled | State::ExitConfirmed
        ) || (self.state == State::Released && self.direction == IeFlag::Import)
    }

    /// The lifecycle after `event` caused by `actor`, or why it cannot happen. Pure: the
    /// caller records the event and keeps the result.
    pub fn apply(&self, actor: Actor, event: Event) -> Result<Self, TransitionError> {
        use State::*;
        if !event.allowed(actor) {
            return Err(TransitionError::NotYours {
                actor,
                event: event.name(),
            });
        }
        let not_now = || TransitionError::NotNow {
            state: self.state,
            event: event.name(),
        };
        if self.held {
            return match event {
                Event::ReleaseHold => Ok(Self {
                    held: false,
                    ..self.clone()
                }),
                _ => Err(TransitionError::OnHold),
            };
        }
        let mut next = self.clone();
        let before_release = matches!(
            self.state,
            Accepted
                | Assessed
                | Selected(_)
                | Reviewed(_)
                | Inspected(_)
                | AwaitingPayment
                | Paid
                | Guaranteed
        );
        next.state = match (self.state, event) {
            (Received, Event::Accept { entry_id }) => {
                if entry_id.ie_flag() != self.direction {
                    return Err(TransitionError::EntryId {
                        entry_id: entry_id.to_string(),
                        reason: "its import/export digit is not the declaration's",
                    });
                }
                if self.entry_id.is_some_and(|kept| kept != entry_id) {
                    return Err(TransitionError::EntryId {
                        entry_id: entry_id.to_string(),
                        reason: "an amended declaration keeps the entry id it was given",
                    });
                }
                next.entry_id = Some(entry_id);
                Accepted
            }
            (Received, Event::Reject) => Rejected,
            (Accepted, Event::Assess) => Assessed,
            (Assessed, Event::SelectChannel { channel }) => Selected(channel),
            (Selected(Channel::Yellow), Event::Review { outcome }) => Reviewed(outcome),
            (Selected(Channel::Red), Event::Inspect { outcome })
            | (Reviewed(Outcome::NonConform), Event::Inspect { outcome }) => Inspected(outcome),
            (Selected(Channel::Green), Event::RequestPayment)
            | (Reviewed(Outcome::Conform), Event::RequestPayment)
            | (Inspected(Outcome::Conform), Event::RequestPayment) => AwaitingPayment,
            (AwaitingPayment, Event::Pay | Event::NothingDue) => Paid,
            (AwaitingPayment, Event::Guarantee) => {
                next.guaranteed = true;
                Guaranteed
            }
            (Paid | Guaranteed, Event::Release) => Released,
            (Released, Event::ConfirmExit) => {
                if self.direction != IeFlag::Export {
                    return Err(TransitionError::NotAnExport);
                }
                ExitConfirmed
            }
            (_, Event::Hold) if before_release => {
                next.held = true;
                self.state
            }
            (Received, Event::Amend) => {
                next.version += 1;
                Received
            }
            (_, Event::Amend) if before_release => {
                next.version += 1;
                next.guaranteed = false;
                Received
            }
            (Received, Event::Cancel) => Cancelled,
            (_, Event::Cancel) if before_release => Cancelled,
            (Released | ExitConfirmed, Event::Cancel) => return Err(TransitionError::Released),
            (Released | ExitConfirmed, Event::CancelByCorrection) => Cancelled,
            _ => return Err(not_now()),
        };
        Ok(next)
    }

    /// Folds a declaration's recorded events into its lifecycle; the first refused event
    /// (a ledger that does not follow the rules) is returned with its position.
    pub fn replay<'a>(
        direction: IeFlag,
        events: impl IntoIterator<Item = &'a (Actor, Event)>,
    ) -> Result<Self, (usize, TransitionError)> {
        let mut lifecycle = Self::new(direction);
        for (i, (actor, event)) in events.into_iter().enumerate() {
            lifecycle = lifecycle.apply(*actor, *event).map_err(|e| (i, e))?;
        }
        Ok(lifecycle)
    }

    /// The China receipt channel code (DEC_RESULT `CHANNEL`) that reports this state, where
    /// one fits: `L` received (入库成功), `E` rejected (退单), `7` accepted (申报成功), `G`
    /// assessed (审结), `W` green (无纸验放通知), `C` red (查验通知), `S` inspected (施检), `T`
    /// awaiting payment (需交税费), `P` released (放行) or `B` released under guarantee
    /// (担保放行), `R` exit confirmed (结关), `D` cancelled (删单), `H` held (挂起). Yellow,
    /// reviewed, paid and guaranteed have no code of their own: `None`.
    pub fn receipt_channel(&self) -> Option<&'static str> {
        if self.held {
            return Some("H");
        }
        match self.state {
            State::Received => Some("L"),
            State::Rejected => Some("E"),
            State::Accepted => Some("7"),
            State::Assessed => Some("G"),
            State::Selected(Channel::Green) => Some("W"),
            State::Selected(Channel::Red) => Some("C"),
            State::Inspected(_) => Some("S"),
            State::AwaitingPayment => Some("T"),
            State::Released if self.guaranteed => Some("B"),
            State::Released => Some("P"),
            State::ExitConfirmed => Some("R"),
            State::Cancelled => Some("D"),
            State::Selected(Channel::Yellow)
            | State::Reviewed(_)
            | State::Paid
            | State::Guaranteed => None,
        }
    }
}
