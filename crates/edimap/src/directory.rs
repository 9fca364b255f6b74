//! Each message against the UN directory of its release.

use jinguan_edifact::{Diagnostic, Interchange, Message};

/// The release used, and each diagnostic with whether it is an error.
pub(crate) type Checked = (Option<String>, Vec<(Diagnostic, bool)>);

/// Validates `message` against its own release's directory when that release is shipped
/// (`jinguan_unece`), or against `release` when one is given. A message of a release not
/// shipped, of another agency than `UN`, or of a type its directory does not have, is not
/// validated: a warning (`V0001`) says so, and the envelope's checks still hold. A release
/// asked for that is not shipped is an error of the caller.
pub(crate) fn validate(
    input: &[u8],
    interchange: &Interchange,
    message: &Message,
    release: Option<&str>,
) -> Result<Checked, String> {
    let own = format!("{}{}", message.version, message.release);
    let chosen = match release {
        Some(release) => Some(release.to_owned()),
        None if message.agency == "UN" && message.version == "D" => Some(own.clone()),
        None => None,
    };
    let directory = match chosen.as_deref().map(jinguan_unece::directory) {
        Some(Ok(directory)) => directory,
        Some(Err(e)) if release.is_some() => return Err(e.to_string()),
        _ => {
            let warning = Diagnostic {
                code: "V0001",
                message: format!(
                    "{} {}:{}:{} has no UN directory shipped (releases {}): not validated",
                    message.message_type,
                    message.version,
                    message.release,
                    message.agency,
                    jinguan_unece::releases().join(", ")
                ),
                offset: message.offset,
                segment: Some(message.first_segment),
                element: None,
            };
            return Ok((None, vec![(warning, false)]));
        }
    };
    let found =
        jinguan_edifact::validate::validate(directory, input, message, &interchange.separators);
    let diagnostics = found
        .into_iter()
        .map(|d| {
            let error = !jinguan_edifact::validate::is_warning(d.code);
            (d, error)
        })
        .collect();
    Ok((Some(directory.release.clone()), diagnostics))
}
