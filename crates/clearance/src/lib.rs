//! Customs clearance as pure functions: no IO, no clock, no randomness of its own.
//!
//! - [`lifecycle`]: a declaration's states from receipt to release (and exit), the events
//!   that move it, who may cause each, and the China receipt channel code of each state.
//! - [`assessment`]: duty, consumption tax and VAT (or export duty) per item from the
//!   tariff's parsed rates, the rate chosen by origin and every figure explained.
//! - [`pipeline`]: all of it on one declaration — validation, valuation, assessment and the
//!   channel — with every finding.
//! - [`risk`]: selectivity rules as data, random selection by credit class, reference
//!   prices learnt from released declarations, every decision explained, back-tests.
//! - [`validation`]: every code on the declaration date and the rules of declaring, all
//!   findings at once, each with code, path and item.
//! - [`valuation`]: each item's customs value in yuan (CIF for imports, FOB for exports) from
//!   the price terms and the head's freight, insurance and other charges.
//!
//! Principal types: [`Lifecycle`], [`State`], [`Event`], [`Actor`], [`TransitionError`].

pub mod assessment;
pub mod crossborder;
pub mod export;
pub mod lifecycle;
pub mod pipeline;
pub mod risk;
pub mod validation;
pub mod valuation;

pub use lifecycle::{Actor, Channel, Event, Lifecycle, Outcome, State, TransitionError};
