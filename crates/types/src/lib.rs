//! Jinguan's vocabulary: identifiers, codes, money and quantities, and the canonical
//! declaration model that every message family maps to.
//!
//! Every type here validates on construction ("parse, don't validate"): once you hold a
//! [`Uscc`], an [`EntryId`] or an [`HsCode`], it is well formed. Whether a *code* exists in a
//! code table (is `XYZ` a country?) is a question for `jinguan-refdata`, which knows the tables
//! and their validity dates; the types here only check syntax.
//!
//! Principal types:
//! - identifiers: [`Uscc`] (unified social credit code), [`CustomsCode`] (10-character
//!   customs registration code), [`EntryId`] (18-digit customs entry number);
//! - codes: [`HsCode`], [`Hs6`], [`CiqCode`], [`CountryCode`], [`CurrencyCode`], [`UnitCode`];
//! - amounts: [`Money`] (decimal, rounded to the fen), [`Quantity`] (decimal with a unit);
//! - the canonical declaration: [`declaration::Declaration`].

mod codes;
pub mod declaration;
pub mod diagnostic;
mod entry_id;
mod error;
pub mod manifest;
mod money;
mod party;

pub use codes::{CiqCode, CountryCode, CurrencyCode, Hs6, HsCode, UnitCode};
pub use diagnostic::{Diagnostic, Severity};
pub use entry_id::{EntryId, IeFlag};
pub use error::ParseError;
pub use money::{round_fen, Money, Quantity};
pub use party::{CustomsCode, Uscc};
