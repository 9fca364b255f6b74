use std::fmt;

/// Why a string is not a valid value of one of the types in this crate.
///
/// The `code` is stable (it becomes part of receipts and API errors); the message is for people.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{code}: {what} {input:?}: {reason}")]
pub struct ParseError {
    /// Stable error code, e.g. `T0101`.
    pub code: &'static str,
    /// What was being parsed, e.g. "unified social credit code".
    pub what: &'static str,
    /// The rejected input, truncated to 64 characters.
    pub input: String,
    /// Why it was rejected.
    pub reason: String,
}

impl ParseError {
    pub(crate) fn new(
        code: &'static str,
        what: &'static str,
        input: &str,
        reason: impl fmt::Display,
    ) -> Self {
        // Hostile inputs can be huge; an error message must not be.
        let input: String = input.chars().take(64).collect();
        Self {
            code,
            what,
            input,
            reason: reason.to_string(),
        }
    }
}
