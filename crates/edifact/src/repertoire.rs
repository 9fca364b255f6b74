//! Character repertoires: the syntax level `UNB` declares (`UNOA` … `UNOY`, `IATA`, `IATB`),
//! what bytes each allows inside segments, and the text callers get from a value's bytes.
//!
//! | identifier | repertoire | bytes allowed in a segment | text from |
//! |---|---|---|---|
//! | `UNOA`, `IATA` | level A: `A`–`Z`, `0`–`9`, space and `.,-()/='+:?!"%&*;<>` | exactly those | UTF-8, else ISO 8859-1 |
//! | `UNOB`, `IATB` | level B: level A, `a`–`z` and `_` (ISO 646's invariant characters) | exactly those | UTF-8, else ISO 8859-1 |
//! | `UNOC` … `UNOK`, `UNOL` | ISO 8859-1, -2, -5, -7, -3, -4, -6, -8, -9, -15 | the part's graphic characters: no C0 or C1 control, no DEL, no position the part leaves undefined | the part |
//! | `UNOW` | ISO 10646 in UTF-8 | valid UTF-8 without control characters | UTF-8, else ISO 8859-1 |
//! | `UNOX`, `UNOY`, `UNOZ` | ISO 2022 code extension; ISO 10646 octets; not in ISO 9735 | anything (not checked) | UTF-8, else ISO 8859-1 |
//!
//! Why these choices:
//! - Code list 0001 defines level B as "the basic code table of ISO 646 with the exceptions of
//!   alternative graphic character allocations and national or application-oriented graphic
//!   character allocations": that leaves ISO 646's invariant set, so `@ [ \ ] ^ \` { | } ~ # $`
//!   are outside it. Level A is level B without lower case; its list is ISO 9735's (and
//!   EANCOM's), which has no `_`.
//! - ISO 8859 parts define graphic characters only; controls are not text in any of them. Line
//!   breaks and indentation between segments are not part of a segment and are never checked;
//!   a line break inside one is wrapping, already a `U0005` warning, and not counted again.
//! - `UNOX` (escape sequences switching character sets) cannot be checked byte by byte, and
//!   `UNOY` (UCS-2/UCS-4 octets) cannot even be tokenized by separators that are single bytes:
//!   both are accepted as sent. `UNOZ` is seen in traffic (it is in the envelope's list) but no
//!   edition of code list 0001 defines it.
//! - Separators and the release character are service characters, not data, and are allowed
//!   whatever the level (level B's defaults are the information separators IS1, IS3 and IS4).
//! - Text for levels that allow ASCII only, and for UTF-8, falls back to ISO 8859-1 when the
//!   bytes are not UTF-8: a sender declaring `UNOA` and sending Latin-1 (common) still reads
//!   as meant, and every byte string decodes to some text without loss.

use std::borrow::Cow;

use crate::{Diagnostic, Interchange, Separators, Tokenizer};

/// A syntax level's character repertoire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repertoire {
    /// Level A (`UNOA`, `IATA`): upper case, digits, space and a few punctuation marks.
    LevelA,
    /// Level B (`UNOB`, `IATB`): level A with lower case.
    LevelB,
    /// An ISO 8859 part (`UNOC` is part 1, `UNOD` part 2, …), by its number.
    Iso8859(u8),
    /// ISO 10646 in UTF-8 (`UNOW`).
    Utf8,
    /// Not checked (`UNOX`, `UNOY`, `UNOZ`, or no syntax identifier known).
    Unchecked,
}

impl Repertoire {
    /// The repertoire a syntax identifier (`UNB` 0001) names; `None` for an identifier ISO 9735
    /// does not know (that is `U0111` already).
    pub fn of(syntax_id: &str) -> Option<Self> {
        Some(match syntax_id {
            "UNOA" | "IATA" => Self::LevelA,
            "UNOB" | "IATB" => Self::LevelB,
            "UNOC" => Self::Iso8859(1),
            "UNOD" => Self::Iso8859(2),
            "UNOE" => Self::Iso8859(5),
            "UNOF" => Self::Iso8859(7),
            "UNOG" => Self::Iso8859(3),
            "UNOH" => Self::Iso8859(4),
            "UNOI" => Self::Iso8859(6),
            "UNOJ" => Self::Iso8859(8),
            "UNOK" => Self::Iso8859(9),
            "UNOL" => Self::Iso8859(15),
            "UNOW" => Self::Utf8,
            "UNOX" | "UNOY" | "UNOZ" => Self::Unchecked,
            _ => return None,
        })
    }

    /// Whether `byte` may stand in a segment under a single-byte repertoire (level A, B or an
    /// ISO 8859 part). UTF-8 is checked by sequences, not bytes; see [`check`].
    fn allows(self, byte: u8, upper: Option<&UpperHalf>) -> bool {
        const LEVEL_A_PUNCTUATION: &[u8] = b" .,-()/='+:?!\"%&*;<>";
        let level_a = byte.is_ascii_uppercase()
            || byte.is_ascii_digit()
            || LEVEL_A_PUNCTUATION.contains(&byte);
        match self {
            Self::LevelA => level_a,
            Self::LevelB => level_a || byte.is_ascii_lowercase() || byte == b'_',
            Self::Iso8859(_) => match byte {
                0x20..=0x7E => true,
                0xA0..=0xFF => upper.is_some_and(|u| u.0[usize::from(byte - 0xA0)] != '\u{FFFD}'),
                _ => false,
            },
            Self::Utf8 | Self::Unchecked => true,
        }
    }
}

/// The characters of an ISO 8859 part's positions `0xA0` to `0xFF` (`U+FFFD` where the part
/// defines none). Below `0xA0` every part is ISO 646 and the C1 controls, byte for character.
struct UpperHalf([char; 96]);

impl UpperHalf {
    fn of(part: u8) -> Self {
        let mut table = ['\u{FFFD}'; 96];
        let encoding = match part {
            // encoding_rs (following WHATWG) maps the labels of parts 1 and 9 to windows-1252 and
            // windows-1254, which agree with those parts from 0xA0 up; part 1 is the identity.
            1 => {
                for (i, c) in table.iter_mut().enumerate() {
                    *c = char::from(0xA0 + i as u8);
                }
                return Self(table);
            }
            2 => encoding_rs::ISO_8859_2,
            3 => encoding_rs::ISO_8859_3,
            4 => encoding_rs::ISO_8859_4,
            5 => encoding_rs::ISO_8859_5,
            6 => encoding_rs::ISO_8859_6,
            7 => encoding_rs::ISO_8859_7,
            8 => encoding_rs::ISO_8859_8,
            9 => encoding_rs::WINDOWS_1254,
            15 => encoding_rs::ISO_8859_15,
            _ => return Self(table),
        };
        for (i, c) in table.iter_mut().enumerate() {
            let byte = [0xA0 + i as u8];
            let (text, _) = encoding.decode_without_bom_handling(&byte);
            *c = text.chars().next().unwrap_or('\u{FFFD}');
        }
        Self(table)
    }

    fn char_of(&self, byte: u8) -> char {
        match byte {
            0xA0..=0xFF => self.0[usize::from(byte - 0xA0)],
            _ => char::from(byte),
        }
    }

    fn byte_of(&self, c: char) -> Option<u8> {
        if u32::from(c) < 0xA0 {
            return u8::try_from(u32::from(c)).ok();
        }
        if c == '\u{FFFD}' {
            return None;
        }
        let i = self.0.iter().position(|t| *t == c)?;
        u8::try_from(0xA0 + i).ok()
    }
}

/// UTF-8 when the bytes are UTF-8, else ISO 8859-1 (which every byte string is).
fn utf8_else_latin1(bytes: &[u8]) -> Cow<'_, str> {
    match std::str::from_utf8(bytes) {
        Ok(text) => Cow::Borrowed(text),
        Err(_) => Cow::Owned(bytes.iter().map(|b| char::from(*b)).collect()),
    }
}

/// A value's text under the syntax identifier `UNB` declares (`UNOC` …); see the module's
/// table. Never fails: a byte its part leaves undefined becomes `U+FFFD`, and bytes that are
/// not UTF-8 where UTF-8 or ASCII is declared are read as ISO 8859-1.
pub fn decode<'a>(bytes: &'a [u8], syntax_id: &str) -> Cow<'a, str> {
    if bytes.is_ascii() {
        // Every repertoire is ISO 646 below 0x80: the common case costs nothing.
        return utf8_else_latin1(bytes);
    }
    match Repertoire::of(syntax_id) {
        Some(Repertoire::Iso8859(part)) => {
            let upper = UpperHalf::of(part);
            Cow::Owned(bytes.iter().map(|b| upper.char_of(*b)).collect())
        }
        _ => utf8_else_latin1(bytes),
    }
}

/// Text as the bytes of the repertoire `syntax_id` names: the ISO 8859 part for `UNOC` …
/// `UNOL`, UTF-8 otherwise (what [`decode`] reads back unchanged). A character the part does
/// not have is written `?`.
pub fn encode<'a>(text: &'a str, syntax_id: &str) -> Cow<'a, [u8]> {
    if text.is_ascii() {
        return Cow::Borrowed(text.as_bytes());
    }
    match Repertoire::of(syntax_id) {
        Some(Repertoire::Iso8859(part)) => {
            let upper = UpperHalf::of(part);
            Cow::Owned(
                text.chars()
                    .map(|c| upper.byte_of(c).unwrap_or(b'?'))
                    .collect(),
            )
        }
        _ => Cow::Borrowed(text.as_bytes()),
    }
}

/// Checks every segment of `input` against the repertoire its interchange's `UNB` declares:
/// one `U0201` per segment with a byte outside it, at the first such byte (its offset, the
/// segment, and the element and component it is in), saying how many more the segment has.
/// Segments before any `UNB` declare nothing and are not checked; `interchange` is what
/// [`crate::check`] read from the same input.
pub fn check(input: &[u8], interchange: &Interchange) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    if interchange.syntax.is_none() {
        return diagnostics;
    }
    let mut repertoire = Repertoire::Unchecked;
    let mut syntax_id = String::new();
    let mut upper = None;
    let mut fits = [true; 256];
    for segment in Tokenizer::new(input) {
        let separators = segment.separators();
        if segment.tag == b"UNB" {
            syntax_id = segment
                .element(0)
                .and_then(|e| e.component(0))
                .map(|v| String::from_utf8_lossy(&v).into_owned())
                .unwrap_or_default();
            repertoire = Repertoire::of(&syntax_id).unwrap_or(Repertoire::Unchecked);
            upper = match repertoire {
                Repertoire::Iso8859(part) => Some(UpperHalf::of(part)),
                _ => None,
            };
            fits = bytes_that_fit(repertoire, upper.as_ref(), &separators);
        }
        // One table look-up per byte finds the segments to look at closely: checking every
        // byte against the separators and the repertoire costs more than reading the input.
        if segment.raw.iter().all(|b| fits[usize::from(*b)]) {
            continue;
        }
        let outside = outside_positions(segment.raw, repertoire, upper.as_ref(), &separators);
        let Some(&first) = outside.first() else {
            continue;
        };
        let byte = segment.raw[first];
        let shown = if byte.is_ascii_graphic() {
            format!(" {:?}", char::from(byte))
        } else {
            String::new()
        };
        let more = match outside.len() - 1 {
            0 => String::new(),
            n => format!(" ({n} more in the segment)"),
        };
        diagnostics.push(Diagnostic {
            code: "U0201",
            message: format!(
                "byte 0x{byte:02X}{shown} is not in the {syntax_id} character repertoire{more}"
            ),
            offset: segment.offset + first,
            segment: Some(segment.index),
            element: position(&segment.raw[..first], &separators),
        });
    }
    diagnostics
}

/// Which bytes surely fit wherever they stand: for a single-byte repertoire exactly the bytes
/// in it (and the service characters and line breaks); for UTF-8 the ASCII ones, a byte from
/// 0x80 up sending its segment to the closer look; for an unchecked one, all.
fn bytes_that_fit(
    repertoire: Repertoire,
    upper: Option<&UpperHalf>,
    separators: &Separators,
) -> [bool; 256] {
    let mut fits = [false; 256];
    for (byte, fit) in (0..=255u8).zip(fits.iter_mut()) {
        let service = [separators.component, separators.element, separators.segment]
            .contains(&byte)
            || Some(byte) == separators.release
            || Some(byte) == separators.repetition
            || byte == b'\r'
            || byte == b'\n';
        *fit = service
            || match repertoire {
                Repertoire::Utf8 => matches!(byte, 0x20..=0x7E),
                other => other.allows(byte, upper),
            };
    }
    fits
}

/// Where in `raw` bytes outside `repertoire` are, service characters and line breaks (wrapping)
/// passed over.
fn outside_positions(
    raw: &[u8],
    repertoire: Repertoire,
    upper: Option<&UpperHalf>,
    separators: &Separators,
) -> Vec<usize> {
    let service = |b: u8| {
        b == separators.component
            || b == separators.element
            || b == separators.segment
            || Some(b) == separators.release
            || Some(b) == separators.repetition
            || b == b'\r'
            || b == b'\n'
    };
    if repertoire != Repertoire::Utf8 {
        return (0..raw.len())
            .filter(|i| !service(raw[*i]) && !repertoire.allows(raw[*i], upper))
            .collect();
    }
    let mut outside = Vec::new();
    let mut start = 0;
    for chunk in raw.utf8_chunks() {
        for (i, c) in chunk.valid().char_indices() {
            let at = start + i;
            if c.is_control() && !service(raw[at]) {
                outside.push(at);
            }
        }
        start += chunk.valid().len();
        outside.extend(start..start + chunk.invalid().len());
        start += chunk.invalid().len();
    }
    outside
}

/// The element (1 for the first after the tag) and component (1 for the first) the byte after
/// `before` is in; `None` in the tag.
fn position(before: &[u8], separators: &Separators) -> Option<(usize, usize)> {
    let (mut element, mut component) = (0, 1);
    let mut bytes = before.iter();
    while let Some(&b) = bytes.next() {
        if Some(b) == separators.release {
            bytes.next();
        } else if b == separators.element {
            element += 1;
            component = 1;
        } else if b == separators.component {
            component += 1;
        } else if Some(b) == separators.repetition {
            component = 1;
        }
    }
    (element > 0).then_some((element, component))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn codes(input: &[u8]) -> Vec<(usize, Option<(usize, usize)>)> {
        let interchange = crate::check(input);
        interchange
            .diagnostics
            .iter()
            .filter(|d| d.code == "U0201")
            .map(|d| (d.offset, d.element))
            .collect()
    }

    fn interchange(syntax: &str, text: &[u8]) -> Vec<u8> {
        [
            format!("UNB+{syntax}:3+S+R+261128:1200+1'UNH+1+ORDERS:D:96A:UN'FTX+AAI+++").as_bytes(),
            text,
            b"'UNT+3+1'UNZ+1+1'",
        ]
        .concat()
    }

    #[test]
    fn each_level_allows_its_own_characters() {
        // Where the FTX text starts in `interchange`'s output.
        const FTX_VALUE: usize = 61;
        assert_eq!(&interchange("UNOA", b"X")[FTX_VALUE..FTX_VALUE + 2], b"X'");
        assert_eq!(codes(&interchange("UNOA", b"ABC 1.5 (X)/Y")), []);
        assert_eq!(
            codes(&interchange("UNOA", b"Abc")),
            [(FTX_VALUE + 1, Some((4, 1)))]
        );
        assert_eq!(codes(&interchange("UNOB", b"Abc_d")), []);
        assert_eq!(
            codes(&interchange("UNOB", b"a@b")),
            [(FTX_VALUE + 1, Some((4, 1)))]
        );
        assert_eq!(codes(&interchange("UNOC", b"Caf\xE9 \xA0")), []);
        // C1 controls are not graphic characters of any ISO 8859 part.
        assert_eq!(
            codes(&interchange("UNOC", b"A:\x85")),
            [(FTX_VALUE + 2, Some((4, 2)))]
        );
        // ISO 8859-3 leaves 0xA5 undefined.
        assert_eq!(codes(&interchange("UNOG", b"\xA5")).len(), 1);
        assert_eq!(codes(&interchange("UNOW", "Grüße €".as_bytes())), []);
        assert_eq!(codes(&interchange("UNOW", b"Gr\xFC\xDFe")).len(), 1);
        assert_eq!(codes(&interchange("UNOW", b"tab\there")).len(), 1);
        assert_eq!(codes(&interchange("UNOY", b"\x00\xFF")), []);
    }

    #[test]
    fn separators_releases_and_wrapping_are_not_data() {
        // The released '+' is data and in level A; the line break is wrapping (U0005).
        assert_eq!(codes(&interchange("UNOA", b"A?+B\r\nC")), []);
        let una = b"UNA\x1F\x1D.? \x1CUNB\x1DUNOB\x1F3\x1DS\x1DR\x1D261128\x1F1200\x1D1\x1C\
UNH\x1D1\x1DORDERS\x1FD\x1F96A\x1FUN\x1CUNT\x1D2\x1D1\x1CUNZ\x1D1\x1D1\x1C";
        assert_eq!(codes(una), []);
    }

    #[test]
    fn one_diagnostic_per_segment_at_its_first_byte() {
        let interchange = crate::check(&interchange("UNOA", b"abc"));
        let said: Vec<&Diagnostic> = interchange
            .diagnostics
            .iter()
            .filter(|d| d.code == "U0201")
            .collect();
        assert_eq!(said.len(), 1);
        assert_eq!(said[0].segment, Some(2));
        assert!(said[0].message.contains("2 more"), "{}", said[0].message);
    }

    #[test]
    fn the_quick_table_agrees_with_the_close_look() {
        let separators = Separators::default();
        for syntax in ["UNOA", "UNOB", "UNOC", "UNOG", "UNOJ", "UNOW"] {
            let repertoire = Repertoire::of(syntax).unwrap();
            let upper = match repertoire {
                Repertoire::Iso8859(part) => Some(UpperHalf::of(part)),
                _ => None,
            };
            let fits = bytes_that_fit(repertoire, upper.as_ref(), &separators);
            for byte in 0..=255u8 {
                let outside = outside_positions(&[byte], repertoire, upper.as_ref(), &separators);
                // The table may send a segment to the close look (UTF-8's high bytes), never
                // pass one the close look refuses.
                assert!(
                    !fits[usize::from(byte)] || outside.is_empty(),
                    "{syntax} {byte:#x}"
                );
                if repertoire != Repertoire::Utf8 {
                    assert_eq!(
                        fits[usize::from(byte)],
                        outside.is_empty(),
                        "{syntax} {byte:#x}"
                    );
                }
            }
        }
    }

    #[test]
    fn text_under_each_level() {
        assert_eq!(decode(b"Caf\xE9", "UNOC"), "Café");
        assert_eq!(decode(b"\xB1", "UNOD"), "ą");
        assert_eq!(decode(b"\xD0", "UNOE"), "а");
        assert_eq!(decode(b"\xFD", "UNOK"), "ı");
        assert_eq!(decode(b"\xA4", "UNOL"), "€");
        assert_eq!(decode(b"\x80", "UNOK"), "\u{80}");
        assert_eq!(decode("Grüße".as_bytes(), "UNOW"), "Grüße");
        assert_eq!(decode(b"Gr\xFC\xDFe", "UNOA"), "Grüße");
        for syntax in ["UNOC", "UNOD", "UNOE", "UNOF", "UNOG", "UNOK", "UNOL"] {
            for byte in 0..=255u8 {
                let bytes = [byte];
                let text = decode(&bytes, syntax);
                if text != "\u{FFFD}" {
                    assert_eq!(encode(&text, syntax).as_ref(), [byte], "{syntax} {byte:#x}");
                }
            }
        }
        assert_eq!(encode("ą", "UNOC").as_ref(), b"?");
        assert_eq!(encode("ą", "UNOW").as_ref(), "ą".as_bytes());
    }
}
