//! UN/EDIFACT syntax (ISO 9735, versions 1 to 4): the service string advice, a zero-copy
//! tokenizer, and the interchange's envelope checked for its control counts and references;
//! and the messages checked against a UN/EDIFACT directory: a [`Directory`] (segment tables as
//! [`directory::MessageDef`] trees, [`directory::SegmentDef`]s, code lists) read from the UNECE
//! text by [`directory`], and [`validate()`] walking a [`Message`]'s segments through it.
//!
//! Pure: bytes in, segments and diagnostics out. Nothing here allocates per segment but the
//! diagnostics; values keep their release characters until [`unescape`] is asked for them.
//! Nothing panics on any input: what could be read is returned with what was wrong, each
//! diagnostic with its byte offset and segment position.
//!
//! Codes are stable API (`U0xxx`):
//!
//! | code | what |
//! |---|---|
//! | `U0001` | a `UNA` shorter than its nine characters, or with two roles on one character |
//! | `U0002` | the last segment has no terminator |
//! | `U0003` | a segment tag that is not three upper-case letters or digits |
//! | `U0004` | an empty segment (two terminators in a row) |
//! | `U0005` | a line break inside a segment |
//! | `U0006` | a segment longer than a [`StreamTokenizer`]'s limit (streaming only) |
//! | `U0101` | `UNB` missing, or a service segment out of its place |
//! | `U0102` | `UNZ` count differs from the messages (or groups) in the interchange |
//! | `U0103` | `UNZ` reference differs from `UNB`'s |
//! | `U0104` | `UNT` count differs from the segments of its message |
//! | `U0105` | `UNT` reference differs from `UNH`'s |
//! | `U0106` | a message reference used twice in one interchange (or group) |
//! | `U0107` | `UNE` count or reference differs from its group |
//! | `U0108` | a message, group or interchange not closed |
//! | `U0109` | `UNH` without a message reference or type |
//! | `U0110` | a group reference used twice in one interchange |
//! | `U0111` | an unknown syntax identifier in `UNB` |
//! | `U0201` | a byte outside the character repertoire `UNB` declares (see [`repertoire`]) |
//!
//! Validation against a directory ([`validate()`]) has its own codes (`V0xxx`), each with the
//! UN/EDIFACT syntax error code (data element 0085) a `CONTRL` reports for it
//! ([`validate::syntax_error`]). `V0001` is a warning ([`validate::is_warning`]); the others
//! make the message unacceptable.
//!
//! | code | 0085 | what |
//! |---|---|---|
//! | `V0001` | – | warning: the message's type is not in the directory (not validated), or the directory is another release than the one the message names |
//! | `V0101` | 15 | a segment not in the message's segment table |
//! | `V0102` | 15 | a segment of the table where it is not allowed |
//! | `V0103` | 13 | a mandatory segment missing |
//! | `V0104` | 13 | a mandatory segment group missing |
//! | `V0105` | 35 | a segment repeated more often than its position allows |
//! | `V0106` | 36 | a segment group repeated more often than it may |
//! | `V0201` | 16 | more elements than the segment defines |
//! | `V0202` | 16 | more components than the composite defines, or components in a simple element |
//! | `V0203` | 35 | an element repeated (syntax 4 repetition separator) more often than it may |
//! | `V0204` | 13 | a mandatory element missing |
//! | `V0205` | 13 | a mandatory component missing from a composite that is there |
//! | `V0301` | 39 | a value longer than its format |
//! | `V0302` | 40 | a value shorter than its format |
//! | `V0303` | 37 | characters the format does not allow (not a number for `n`, digits in `a`) |
//! | `V0304` | 19 | a numeric value with a decimal mark other than the interchange's |
//! | `V0305` | 38 | a numeric value without a digit before its decimal mark |
//! | `V0401` | 12 | a value of a coded element that is not in its code list |

pub mod directory;
mod envelope;
pub mod repertoire;
pub mod serialize;
pub mod stream;
mod tokenize;
pub mod validate;

pub use directory::Directory;
pub use envelope::{check, Interchange, Message};
pub use serialize::{from_json, parse_owned, serialize, to_json, OwnedSegment};
pub use stream::StreamTokenizer;
pub use tokenize::{unescape, Element, Segment, Tokenizer};
pub use validate::{validate, validate_interchange};

/// The characters that structure an interchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Separators {
    /// Between components of a composite element (default `:`).
    pub component: u8,
    /// Between elements (default `+`).
    pub element: u8,
    /// The decimal mark (default `.`; `,` also allowed).
    pub decimal: u8,
    /// Makes the next character literal (default `?`); none when the advice says space.
    pub release: Option<u8>,
    /// Between repeats of an element (syntax version 4; `*` by default there).
    pub repetition: Option<u8>,
    /// Ends a segment (default `'`).
    pub segment: u8,
}

impl Default for Separators {
    fn default() -> Self {
        Self {
            component: b':',
            element: b'+',
            decimal: b'.',
            release: Some(b'?'),
            repetition: None,
            segment: b'\'',
        }
    }
}

/// A problem found, with where.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    /// The stable code (`U0xxx`).
    pub code: &'static str,
    /// What, for people.
    pub message: String,
    /// Byte offset in the input.
    pub offset: usize,
    /// The segment's position (0 for the first), when it concerns one.
    pub segment: Option<usize>,
    /// The element's position in its segment (1 for the first after the tag) and the
    /// component's in that element (0 when the whole element is meant), when it concerns one:
    /// what a CONTRL `UCD` names.
    pub element: Option<(usize, usize)>,
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.segment {
            Some(segment) => write!(
                f,
                "{}: {} (segment {}, byte {})",
                self.code,
                self.message,
                segment + 1,
                self.offset
            ),
            None => write!(f, "{}: {} (byte {})", self.code, self.message, self.offset),
        }
    }
}

impl Separators {
    /// Reads a service string advice: `UNA` and six characters (component, element, decimal,
    /// release, repetition or reserved, segment terminator); a space for release or repetition
    /// means none.
    pub fn from_una(una: &[u8]) -> Result<Self, Diagnostic> {
        let refuse = |message: String| Diagnostic {
            code: "U0001",
            message,
            offset: 0,
            segment: Some(0),
            element: None,
        };
        let Some(&[component, element, decimal, release, repetition, segment]) =
            una.get(3..9).and_then(|s| <&[u8; 6]>::try_from(s).ok())
        else {
            return Err(refuse("UNA needs six characters after it".into()));
        };
        let some = |c: u8| (c != b' ').then_some(c);
        let separators = Self {
            component,
            element,
            decimal,
            release: some(release),
            repetition: some(repetition),
            segment,
        };
        let roles = [
            Some(component),
            Some(element),
            separators.release,
            separators.repetition,
            Some(segment),
        ];
        let roles: Vec<u8> = roles.into_iter().flatten().collect();
        for (i, c) in roles.iter().enumerate() {
            if roles[..i].contains(c) {
                return Err(refuse(format!("UNA gives {:?} two roles", char::from(*c))));
            }
        }
        Ok(separators)
    }
}
