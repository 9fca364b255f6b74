//! Customs clearance as pure functions: no IO, no clock, no randomness of its own.
//!
//! - [`lifecycle`]: a declaration's states from receipt to release (and exit), the events
//!   that move it, who may cause each, and the China receipt channel code of each state.
//!
//! Principal types: [`Lifecycle`], [`State`], [`Event`], [`Actor`], [`TransitionError`].

pub mod lifecycle;

pub use lifecycle::{Actor, Channel, Event, Lifecycle, Outcome, State, TransitionError};
