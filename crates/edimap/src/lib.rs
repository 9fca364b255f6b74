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
mod directory;
pub mod manifest;
mod segments;

pub use segments::{interchange, read_message, read_messages, Envelope, Finding, OutMessage, Seg};

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

/// What validating an interchange found.
#[derive(Debug, Clone, Default)]
pub struct Validation {
    /// Each message: its reference, type, and the directory release it was validated
    /// against (none when no shipped release covers it).
    pub messages: Vec<(String, String, Option<String>)>,
    /// Every diagnostic, in input order, with whether it is an error (else a warning).
    pub diagnostics: Vec<(jinguan_edifact::Diagnostic, bool)>,
}

impl Validation {
    /// Whether nothing found is an error.
    pub fn valid(&self) -> bool {
        self.diagnostics.iter().all(|(_, error)| !error)
    }
}

/// Validates an interchange: its envelope and syntax (`check`, already done by the caller),
/// and each message against its UN directory, or against `release` for every message when
/// one is given (an unknown release is an error for the caller).
pub fn validation(
    input: &[u8],
    interchange: &jinguan_edifact::Interchange,
    release: Option<&str>,
) -> Result<Validation, String> {
    let mut found = Validation::default();
    let warnings: Vec<&jinguan_edifact::Diagnostic> = interchange
        .diagnostics
        .iter()
        .filter(|d| !interchange.errors().any(|e| std::ptr::eq(e, *d)))
        .collect();
    for d in &interchange.diagnostics {
        found
            .diagnostics
            .push((d.clone(), !warnings.iter().any(|w| std::ptr::eq(*w, d))));
    }
    let (used, diagnostics) = directory::validate(input, interchange, release)?;
    for (message, release) in interchange.messages.iter().zip(used) {
        found.messages.push((
            message.reference.clone(),
            message.message_type.clone(),
            release,
        ));
    }
    found.diagnostics.extend(diagnostics);
    found.diagnostics.sort_by_key(|(d, _)| d.offset);
    Ok(found)
}

/// Every error in an interchange: its envelope's and syntax's (`check`), and each message's
/// against its UN directory. Warnings are left out.
pub fn errors(
    input: &[u8],
    interchange: &jinguan_edifact::Interchange,
) -> Vec<jinguan_edifact::Diagnostic> {
    validation(input, interchange, None)
        .map(|v| {
            v.diagnostics
                .into_iter()
                .filter(|(_, error)| *error)
                .map(|(d, _)| d)
                .collect()
        })
        .unwrap_or_else(|_| interchange.errors().cloned().collect())
}

/// The 0085 syntax error code of a diagnostic: the envelope's (`U`), the directory validator's
/// (`V`), or a mapping's (`E`: invalid value).
pub fn error_code(code: &str) -> Option<&'static str> {
    contrl::envelope_error(code)
        .or_else(|| jinguan_edifact::validate::syntax_error(code))
        .or(match code {
            c if c.starts_with('E') => Some("12"),
            _ => None,
        })
}
