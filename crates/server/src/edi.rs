//! The directory validator as the server uses it: each message against its UN directory.

use jinguan_edifact::{Diagnostic, Interchange, Message};

/// The errors of `message` against its directory (none when its release is not shipped:
/// the envelope's checks still apply).
pub(crate) fn validate(
    _input: &[u8],
    _interchange: &Interchange,
    _message: &Message,
) -> Vec<Diagnostic> {
    Vec::new()
}

/// The 0085 code of a validator diagnostic.
pub(crate) fn syntax_error(_code: &str) -> Option<&'static str> {
    None
}
