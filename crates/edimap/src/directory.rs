//! Each message against the UN directory of its release, in one pass over the interchange.

use jinguan_edifact::{Diagnostic, Directory, Interchange, Message};

/// What validation found: per message the release used (none: not validated), and every
/// diagnostic with whether it is an error.
pub(crate) type Checked = (Vec<Option<String>>, Vec<(Diagnostic, bool)>);

/// The directory `message` is validated against: `release` when one is given, else its own
/// release when it is a UN directory release that is shipped (`jinguan_unece`).
fn directory_for(message: &Message, release: Option<&str>) -> Option<&'static Directory> {
    match release {
        Some(release) => jinguan_unece::directory(release).ok(),
        None if message.agency == "UN" => jinguan_unece::for_message(message),
        None => None,
    }
}

/// Validates every message of `interchange`; a message of a release not shipped, of another
/// agency than `UN`, or of a type its directory does not have, is not validated: a warning
/// (`V0001`) says so, and the envelope's checks still hold. A release asked for that is not
/// shipped is an error of the caller.
pub(crate) fn validate(
    input: &[u8],
    interchange: &Interchange,
    release: Option<&str>,
) -> Result<Checked, String> {
    if let Some(release) = release {
        jinguan_unece::directory(release).map_err(|e| e.to_string())?;
    }
    let used = interchange
        .messages
        .iter()
        .map(|m| directory_for(m, release).map(|d| d.release.clone()))
        .collect();
    let found = jinguan_edifact::validate::validate_interchange(input, interchange, |m| {
        directory_for(m, release)
    });
    let diagnostics = found
        .into_iter()
        .map(|d| {
            let error = !jinguan_edifact::validate::is_warning(d.code);
            (d, error)
        })
        .collect();
    Ok((used, diagnostics))
}
