//! UN/EDIFACT syntax (ISO 9735, versions 1 to 4): the service string advice, a zero-copy
//! tokenizer, and the interchange's envelope checked for its control counts and references.
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

pub mod directory;
mod envelope;
pub mod repertoire;
pub mod serialize;
pub mod stream;
mod tokenize;

pub use directory::Directory;
pub use envelope::{check, Interchange, Message};
pub use serialize::{from_json, parse_owned, serialize, to_json, OwnedSegment};
pub use stream::StreamTokenizer;
pub use tokenize::{unescape, Element, Segment, Tokenizer};

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
