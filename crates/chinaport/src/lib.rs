//! China single-window message families, read into and written from the canonical model.
//!
//! This crate starts with DecMessage, the goods declaration (报关单) of the single window and
//! the QP client: [`decmessage::parse`] reads a document (bare or in its `ImportMessage`
//! wrapper) into a [`jinguan_types::declaration::Declaration`] plus diagnostics;
//! [`decmessage::write`] writes one back. [`check::check_codes`] then normalises legacy codes to
//! ISO and reports unknown codes against the reference data.
//!
//! Architecture invariant: parsing never panics and never fails on content. Only input that
//! is not well-formed XML, is hostile (DTDs, oversize, over-deep), or is not a declaration at
//! all returns an error, with a stable code and a line and column. Everything else is
//! `(model, diagnostics)`.

pub mod bonded;
pub mod c14n;
pub mod ceb;
pub mod check;
pub mod decmessage;
pub mod dxp;
mod fields;
pub mod manifest;
pub mod receipt;
pub mod xml;
pub mod xmldsig;
pub mod xsd;
