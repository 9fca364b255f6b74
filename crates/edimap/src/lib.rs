//! UN/EDIFACT customs messages mapped to and from Jinguan's canonical models.
//!
//! - [`cusdec`]: a CUSDEC (D96B and D99B usages) read into a
//!   [`jinguan_types::declaration::Declaration`], and a declaration written as a D96B CUSDEC; the mapping
//!   table is `docs/edifact-mapping.md`. Nothing read is lost: segments with no field of their
//!   own are kept in the declaration's `other_fields` and written back in their place.
//! - [`cusres`]: the CUSRES a declarant receives for a clearance outcome (accepted, rejected with
//!   its errors, channel, assessment, release).
//! - [`manifest`]: CUSCAR and CUSREP read into the [`manifest::Manifest`] model (conveyance,
//!   places, parties, consignments, equipment) kept for the logistics module.
//!
//! Pure: messages in, models out, and back. Reading never fails on a well-enveloped message:
//! what a segment cannot give (a date that is not a date, an amount that is not a number) is a
//! [`Finding`] and the segment is kept verbatim instead.

pub mod contrl;
pub mod cusdec;
pub mod cusres;
pub mod manifest;
mod segments;

pub use segments::{interchange, read_message, Envelope, Finding, OutMessage, Seg};

/// Why a model could not be written as a message.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Error {
    /// A value does not fit where the message has room for it.
    #[error("E0301: {0}")]
    TooLong(String),
    /// The input holds no message of the kind asked for.
    #[error("E0302: {0}")]
    NoMessage(String),
}

impl Error {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooLong(_) => "E0301",
            Self::NoMessage(_) => "E0302",
        }
    }
}
