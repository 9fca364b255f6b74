//! The UN/EDIFACT directories of UNECE, shipped as published and read on first use.
//!
//! Nine releases are embedded unmodified (`unece/*.zip`, with the UN licence `LICENAGR.TXT`
//! that allows distributing unmodified copies): D.95B, D.96A, D.96B, D.99A, D.99B, D.01B,
//! D.03B, D.16A and D.21A. [`releases`] names them; [`directory`] opens one — its message
//! files (`TRMD`/`EDMD`), segment specifications (`TRSD`/`EDSD`) and code lists (`UNCL`), each
//! a zip inside the release's zip — and reads them into a [`jinguan_edifact::Directory`] once,
//! kept for the life of the process. [`for_message`] picks a message's own release, and
//! [`nearest`] names the shipped release closest to one that is not shipped.
//!
//! A release is read whole on first use, all its message types with it: 40 to 80 ms in a
//! release build (about 200 messages, 160 segments, 270 code lists; inflating is most of it),
//! little enough that reading each message type on demand is not worth its locking.
//!
//! The only IO is decompressing bytes compiled into the binary; the reading of the text is
//! `jinguan_edifact::directory`'s.

use std::io::{Cursor, Read};
use std::sync::OnceLock;

use jinguan_edifact::Directory;

/// What went wrong opening a release.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// Not one of [`releases`].
    #[error("release {0} is not shipped (shipped: {list})", list = RELEASES.map(|(r, _)| r).join(", "))]
    UnknownRelease(String),
    /// An archive that could not be read.
    #[error("{archive}: {message}")]
    Archive {
        /// The archive, `d96b.zip!TRMD.ZIP` for one inside another.
        archive: String,
        /// What the zip reader said.
        message: String,
    },
    /// A file of the release that is not a directory text.
    #[error("{file}: {source}")]
    Text {
        /// The file, `d96b.zip!TRMD.ZIP!CUSDEC_D.96B`.
        file: String,
        /// What was wrong.
        source: jinguan_edifact::directory::Error,
    },
}

/// The shipped releases with their archives, oldest first.
const RELEASES: [(&str, &[u8]); 9] = [
    ("D95B", include_bytes!("../unece/d95b.zip")),
    ("D96A", include_bytes!("../unece/d96a.zip")),
    ("D96B", include_bytes!("../unece/d96b.zip")),
    ("D99A", include_bytes!("../unece/d99a.zip")),
    ("D99B", include_bytes!("../unece/d99b.zip")),
    ("D01B", include_bytes!("../unece/d01b.zip")),
    ("D03B", include_bytes!("../unece/d03b.zip")),
    ("D16A", include_bytes!("../unece/d16a.zip")),
    ("D21A", include_bytes!("../unece/d21a.zip")),
];

const NAMES: [&str; 9] = [
    "D95B", "D96A", "D96B", "D99A", "D99B", "D01B", "D03B", "D16A", "D21A",
];

/// A file inside an archive larger than this is refused rather than inflated: the largest
/// real one (a `UNCL`) is under 2 MB, so anything bigger is not a directory file.
const ENTRY_BYTES_MAX: u64 = 64 * 1024 * 1024;

/// The releases shipped, oldest first, as `UNH` names them with the version: `D96B`.
pub fn releases() -> &'static [&'static str] {
    &NAMES
}

/// The directory of `release` (`D96B`, also `D.96B` or `d96b`), read on first use and kept.
pub fn directory(release: &str) -> Result<&'static Directory, Error> {
    static CACHE: [OnceLock<Result<Directory, Error>>; 9] = [const { OnceLock::new() }; 9];
    let wanted = normalize(release);
    let Some(index) = NAMES.iter().position(|name| *name == wanted) else {
        return Err(Error::UnknownRelease(release.to_owned()));
    };
    let (name, bytes) = RELEASES[index];
    CACHE[index]
        .get_or_init(|| load(name, bytes))
        .as_ref()
        .map_err(Clone::clone)
}

/// The directory a message names in its `UNH` (version `D` and its release, `96B`), if it
/// is shipped: the `directory_for` of [`jinguan_edifact::validate_interchange`].
pub fn for_message(message: &jinguan_edifact::Message) -> Option<&'static Directory> {
    if message.version != "D" {
        return None;
    }
    directory(&format!("D{}", message.release)).ok()
}

/// The shipped release closest to `release` (`D97B` → `D96B`), counting two releases a
/// year; between two equally close, the older. `None` when `release` is not of the form
/// `D` + two digits + `A`/`B`.
pub fn nearest(release: &str) -> Option<&'static str> {
    let wanted = ordinal(&normalize(release))?;
    NAMES
        .iter()
        .filter_map(|name| Some((ordinal(name)?.abs_diff(wanted), *name)))
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, name)| name)
}

/// `D.96B`, `d96b`, `96B` → `D96B`.
fn normalize(release: &str) -> String {
    let upper: String = release
        .chars()
        .filter(|c| *c != '.')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    if upper.starts_with('D') {
        upper
    } else {
        format!("D{upper}")
    }
}

/// Releases in order: 1990 A is 0, … (D.90A to D.89B wrap at the century).
fn ordinal(release: &str) -> Option<u32> {
    let bytes = release.as_bytes();
    let [b'D', tens, units, half] = bytes else {
        return None;
    };
    if !tens.is_ascii_digit() || !units.is_ascii_digit() {
        return None;
    }
    let year = u32::from(tens - b'0') * 10 + u32::from(units - b'0');
    // 90..99 are the 1990s, 00..89 this century.
    let year = if year >= 90 { year - 90 } else { year + 10 };
    let half = match half {
        b'A' => 0,
        b'B' => 1,
        _ => return None,
    };
    Some(year * 2 + half)
}

fn archive_error(archive: &str, error: impl std::fmt::Display) -> Error {
    Error::Archive {
        archive: archive.to_owned(),
        message: error.to_string(),
    }
}

/// The files of a zip archive as (name, bytes), directories and macOS resource forks left out.
fn entries(name: &str, bytes: &[u8]) -> Result<Vec<(String, Vec<u8>)>, Error> {
    let mut archive =
        zip::ZipArchive::new(Cursor::new(bytes)).map_err(|e| archive_error(name, e))?;
    let mut files = Vec::new();
    for i in 0..archive.len() {
        let mut file = archive.by_index(i).map_err(|e| archive_error(name, e))?;
        let path = file.name().to_owned();
        if file.is_dir() || path.starts_with("__MACOSX") || path.contains("/._") {
            continue;
        }
        if file.size() > ENTRY_BYTES_MAX {
            return Err(archive_error(name, format!("{path} is too large")));
        }
        let mut contents = Vec::with_capacity(usize::try_from(file.size()).unwrap_or(0));
        file.read_to_end(&mut contents)
            .map_err(|e| archive_error(&format!("{name}!{path}"), e))?;
        let base = path.rsplit('/').next().unwrap_or(&path).to_owned();
        files.push((base, contents));
    }
    Ok(files)
}

/// Which part of a directory an inner archive holds, by its name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Part {
    Messages,
    Segments,
    Codes,
}

fn part(inner: &str) -> Option<Part> {
    match inner.to_ascii_uppercase().as_str() {
        "TRMD.ZIP" | "EDMD.ZIP" => Some(Part::Messages),
        "TRSD.ZIP" | "EDSD.ZIP" => Some(Part::Segments),
        "UNCL.ZIP" => Some(Part::Codes),
        _ => None,
    }
}

fn load(release: &'static str, bytes: &[u8]) -> Result<Directory, Error> {
    let outer = format!("{}.zip", release.to_ascii_lowercase());
    let mut directory = Directory::new(release);
    let mut found = [false; 3];
    for (inner, contents) in entries(&outer, bytes)? {
        let Some(part) = part(&inner) else {
            continue;
        };
        let archive = format!("{outer}!{inner}");
        for (file, text) in entries(&archive, &contents)? {
            let upper = file.to_ascii_uppercase();
            let read = match part {
                // `CUSDEC_D.96B`; the index files (`EDMDI1.99A`) have no underscore.
                Part::Messages => match upper.split_once("_D.") {
                    Some((message_type, _)) => directory.add_message(message_type, &text),
                    None => continue,
                },
                // `TRSD.96B`, not its indexes `TRSDI1.96B`.
                Part::Segments if upper.starts_with("TRSD.") || upper.starts_with("EDSD.") => {
                    directory.add_segments(&text)
                }
                Part::Codes if upper.starts_with("UNCL") => directory.add_codes(&text),
                Part::Segments | Part::Codes => continue,
            };
            read.map_err(|source| Error::Text {
                file: format!("{archive}!{file}"),
                source,
            })?;
            found[part as usize] = true;
        }
    }
    if let Some(missing) = found.iter().position(|found| !found) {
        let what = ["message files", "segment specifications", "code lists"][missing];
        return Err(archive_error(&outer, format!("no {what} found")));
    }
    Ok(directory)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn nearest_release() {
        assert_eq!(nearest("D97B"), Some("D96B"));
        assert_eq!(nearest("D11A"), Some("D16A"));
        assert_eq!(nearest("D.96B"), Some("D96B"));
        assert_eq!(nearest("D93A"), Some("D95B"));
        assert_eq!(nearest("D24A"), Some("D21A"));
        assert_eq!(nearest("S93A"), None);
    }

    #[test]
    fn a_message_names_its_directory() {
        let input = b"UNH+1+CUSDEC:D:96B:UN'BGM+929+1'UNT+3+1'UNH+2+INVOIC:D:97B:UN'UNT+2+2'";
        let interchange = jinguan_edifact::check(input);
        let found: Vec<Option<&str>> = interchange
            .messages
            .iter()
            .map(|m| for_message(m).map(|d| d.release.as_str()))
            .collect();
        assert_eq!(found, [Some("D96B"), None]);
        let said = jinguan_edifact::validate_interchange(input, &interchange, for_message);
        let codes: Vec<&str> = said.iter().map(|d| d.code).collect();
        // CUSDEC D96B: neither of its two mandatory UNS (before the detail and the summary
        // sections); INVOIC D97B: not shipped, a warning.
        assert_eq!(codes, ["V0103", "V0103", "V0001"], "{said:?}");
    }

    #[test]
    fn unknown_release() {
        assert!(matches!(directory("D97B"), Err(Error::UnknownRelease(_))));
    }
}
