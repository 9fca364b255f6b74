//! An owned model of an interchange's segments, its canonical serialization, and a JSON form.
//!
//! [`parse_owned`] reads segments into [`OwnedSegment`]s: values unescaped and decoded to text
//! under the syntax identifier their `UNB` declares ([`crate::repertoire::decode`]).
//! [`serialize`] writes them back in one canonical form:
//!
//! - a `UNA` when asked for or when the separators are not ISO 9735's defaults (a repetition
//!   separator is not a default: without `UNA` a reader would not know it);
//! - a release character before every value byte that is a separator, the segment terminator,
//!   the release character itself or a line break;
//! - trailing empty components, occurrences and elements left out (ISO 9735 lets a sender omit
//!   them, and they carry nothing);
//! - text encoded in the repertoire of the last `UNB` written (ISO 8859 parts for `UNOC` …,
//!   UTF-8 otherwise; [`crate::repertoire::encode`]);
//! - one terminator per segment, and no line breaks unless [`Options::newline`] asks for one
//!   after each segment.
//!
//! Invariants (property-tested in `tests/roundtrip.rs`): `serialize(parse_owned(x))` is a fixed
//! point for any bytes `x` (serializing what it parses to gives the same bytes), and
//! `parse_owned(serialize(m))` is `m` with [`OwnedSegment::canonical`] applied, for every model
//! whose values are representable. A value is representable when the separators can carry it:
//! without a release character it has no separator, terminator or line break (unreleased line
//! breaks inside a segment are wrapping and are dropped on reading); its element has several
//! occurrences only when there is a repetition separator; its characters are in the declared
//! ISO 8859 part. A tag is written as it is: it must be three upper-case letters or digits.
//!
//! The JSON form ([`to_json`], [`from_json`]):
//!
//! ```json
//! {
//!   "separators": {"component": ":", "element": "+", "decimal": ".", "release": "?",
//!                  "repetition": null, "segment": "'"},
//!   "segments": [
//!     {"tag": "BGM", "elements": [["929"], ["ABC", "", "9"]]},
//!     {"tag": "NAD", "elements": [["BY"], [["A", "1"], ["B", "2"]]]}
//!   ]
//! }
//! ```
//!
//! A separator is a one-character string (the byte as ISO 8859-1), `null` for a release or
//! repetition character the interchange has none of. An element is an array of its components'
//! values; an element that occurs more than once (syntax 4's repetition separator) is an array
//! of such arrays, one per occurrence, as `NAD`'s second element above.

use serde::{Deserialize, Serialize};

use crate::repertoire::{decode, encode};
use crate::{Diagnostic, Separators, Tokenizer};

/// One segment, owned: its tag and its elements, each a list of occurrences (more than one
/// only with syntax 4's repetition separator), each a list of component values, unescaped text.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OwnedSegment {
    /// The tag (`BGM`).
    pub tag: String,
    /// Elements → occurrences → components.
    pub elements: Vec<Vec<Vec<String>>>,
}

impl OwnedSegment {
    /// A segment of simple and composite elements that do not repeat.
    pub fn new(tag: &str, elements: &[&[&str]]) -> Self {
        Self {
            tag: tag.to_owned(),
            elements: elements
                .iter()
                .map(|components| vec![components.iter().map(|c| (*c).to_owned()).collect()])
                .collect(),
        }
    }

    /// Component `component` of the first occurrence of element `element` (both from 0), if
    /// there.
    pub fn value(&self, element: usize, component: usize) -> Option<&str> {
        self.elements
            .get(element)?
            .first()?
            .get(component)
            .map(String::as_str)
    }

    /// The segment as [`parse_owned`] reads it back after [`serialize`]: trailing empty
    /// components, occurrences and elements dropped, and an empty occurrence or element kept as
    /// one empty component (which is what `++` reads as).
    pub fn canonical(&self) -> Self {
        let mut elements: Vec<Vec<Vec<String>>> = self
            .elements
            .iter()
            .map(|occurrences| {
                let mut occurrences: Vec<Vec<String>> = occurrences
                    .iter()
                    .map(|components| {
                        let mut components = components.clone();
                        while components.last().is_some_and(String::is_empty) {
                            components.pop();
                        }
                        if components.is_empty() {
                            components.push(String::new());
                        }
                        components
                    })
                    .collect();
                while occurrences.last().is_some_and(|o| is_empty(o)) {
                    occurrences.pop();
                }
                if occurrences.is_empty() {
                    occurrences.push(vec![String::new()]);
                }
                occurrences
            })
            .collect();
        while elements
            .last()
            .is_some_and(|e| e.iter().all(|o| is_empty(o)))
        {
            elements.pop();
        }
        Self {
            tag: self.tag.clone(),
            elements,
        }
    }
}

fn is_empty(components: &[String]) -> bool {
    components.iter().all(String::is_empty)
}

/// How [`serialize_with`] writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Options {
    /// Write a `UNA` even when the separators are the defaults.
    pub una: bool,
    /// A line feed after each segment terminator (and after the `UNA`), for people reading;
    /// readers pass over line breaks between segments. Ignored when the terminator is itself a
    /// line feed.
    pub newline: bool,
}

/// The canonical bytes of `segments` (see the module's documentation), with a `UNA` when `una`
/// is set or the separators are not the defaults.
pub fn serialize(segments: &[OwnedSegment], separators: &Separators, una: bool) -> Vec<u8> {
    serialize_with(
        segments,
        separators,
        &Options {
            una,
            newline: false,
        },
    )
}

/// [`serialize`] with every option.
pub fn serialize_with(
    segments: &[OwnedSegment],
    separators: &Separators,
    options: &Options,
) -> Vec<u8> {
    let newline = options.newline && separators.segment != b'\n';
    let mut body = Vec::new();
    let mut first_segment_end = None;
    let mut syntax_id = String::new();
    for segment in segments {
        // The tag a reader will see is the one written (service characters and leading white
        // space left out): when that is `UNB`, its syntax identifier rules from here, as it
        // will for the reader.
        let mut written_tag = Vec::new();
        write_tag(&mut written_tag, &segment.tag, &syntax_id, separators);
        if written_tag == b"UNB" {
            syntax_id = segment.value(0, 0).unwrap_or_default().to_owned();
        }
        let start = body.len();
        write_segment(&mut body, segment, separators, &syntax_id);
        if body.len() == start + 1 {
            // An empty tag and nothing after it would be an empty segment, which a reader
            // passes over: there is nothing to write.
            body.truncate(start);
            continue;
        }
        first_segment_end.get_or_insert(body.len());
        if newline {
            body.push(b'\n');
        }
    }
    // Without a UNA, a reader takes a first segment starting "UNA" for the advice, and passes
    // over a byte-order mark or white space before it: then the advice must be written.
    let first = &body[..first_segment_end.unwrap_or(0)];
    let ambiguous = first.starts_with(b"UNA")
        || first.starts_with(b"\xEF\xBB\xBF")
        || first.first().is_some_and(u8::is_ascii_whitespace);
    let mut out = Vec::with_capacity(body.len() + 10);
    if options.una || ambiguous || *separators != Separators::default() {
        out.extend_from_slice(b"UNA");
        out.extend_from_slice(&[
            separators.component,
            separators.element,
            separators.decimal,
            separators.release.unwrap_or(b' '),
            separators.repetition.unwrap_or(b' '),
            separators.segment,
        ]);
        if newline {
            out.push(b'\n');
        }
    }
    out.extend_from_slice(&body);
    out
}

fn write_segment(out: &mut Vec<u8>, segment: &OwnedSegment, separators: &Separators, syntax: &str) {
    write_tag(out, &segment.tag, syntax, separators);
    let elements = segment
        .elements
        .iter()
        .rposition(|e| !e.iter().all(|o| is_empty(o)))
        .map_or(0, |last| last + 1);
    for occurrences in &segment.elements[..elements] {
        out.push(separators.element);
        let occurrences_written = occurrences
            .iter()
            .rposition(|o| !is_empty(o))
            .map_or(0, |last| last + 1);
        // Without a repetition separator only the first occurrence can be written.
        let occurrences_written = match separators.repetition {
            Some(_) => occurrences_written,
            None => occurrences_written.min(1),
        };
        for (i, components) in occurrences[..occurrences_written].iter().enumerate() {
            if let (true, Some(repetition)) = (i > 0, separators.repetition) {
                out.push(repetition);
            }
            let components_written = components
                .iter()
                .rposition(|c| !c.is_empty())
                .map_or(0, |last| last + 1);
            for (j, value) in components[..components_written].iter().enumerate() {
                if j > 0 {
                    out.push(separators.component);
                }
                write_value(out, &encode(value, syntax), separators);
            }
        }
    }
    out.push(separators.segment);
}

/// A tag, less what a reader would not read back as the tag: a tag is not unescaped, so a
/// character whose bytes hold a separator, terminator or release character (only ever in a tag
/// that is not three letters or digits, `U0003`) cannot be written, nor white space before it,
/// which readers pass over between segments. Whole characters go, so that what is kept decodes
/// to itself.
fn write_tag(out: &mut Vec<u8>, tag: &str, syntax: &str, separators: &Separators) {
    let service = |b: &u8| {
        *b == separators.component
            || *b == separators.element
            || *b == separators.segment
            || Some(*b) == separators.release
    };
    let mut leading = true;
    let mut buffer = [0u8; 4];
    for c in tag.chars() {
        let bytes = encode(c.encode_utf8(&mut buffer), syntax);
        if bytes.iter().any(service) || leading && matches!(c, '\r' | '\n' | ' ' | '\t') {
            continue;
        }
        leading = false;
        out.extend_from_slice(&bytes);
    }
}

/// A value's bytes with a release character before each one a reader would take as structure.
fn write_value(out: &mut Vec<u8>, bytes: &[u8], separators: &Separators) {
    let Some(release) = separators.release else {
        out.extend_from_slice(bytes);
        return;
    };
    for &byte in bytes {
        if byte == separators.component
            || byte == separators.element
            || byte == separators.segment
            || byte == release
            || Some(byte) == separators.repetition
            // A reader drops line breaks inside a segment as wrapping unless released.
            || byte == b'\r'
            || byte == b'\n'
        {
            out.push(release);
        }
        out.push(byte);
    }
}

/// Splits `raw` at `separator` bytes not released (as the tokenizer does for elements).
fn split(raw: &[u8], separator: u8, release: Option<u8>) -> Vec<&[u8]> {
    let mut parts = Vec::new();
    let (mut start, mut i) = (0, 0);
    while i < raw.len() {
        if Some(raw[i]) == release {
            i += 2;
            continue;
        }
        if raw[i] == separator {
            parts.push(&raw[start..i]);
            start = i + 1;
        }
        i += 1;
    }
    parts.push(&raw[start.min(raw.len())..]);
    parts
}

/// Reads `input` into owned segments (the `UNA` is not one: its separators are returned), with
/// what the tokenizer found wrong. Values are unescaped and decoded as the last `UNB` before
/// them declares ([`crate::repertoire::decode`]). Never fails: what could be read is returned.
pub fn parse_owned(input: &[u8]) -> (Vec<OwnedSegment>, Separators, Vec<Diagnostic>) {
    let mut tokenizer = Tokenizer::new(input);
    let separators = tokenizer.separators();
    let mut segments = Vec::new();
    let mut syntax_id = String::new();
    for segment in tokenizer.by_ref() {
        if segment.tag == b"UNB" {
            syntax_id = segment
                .element(0)
                .and_then(|e| e.component(0))
                .map(|v| String::from_utf8_lossy(&v).into_owned())
                .unwrap_or_default();
        }
        let elements = segment
            .elements()
            .map(|element| {
                let occurrences = match separators.repetition {
                    Some(repetition) => split(element.raw, repetition, separators.release),
                    None => vec![element.raw],
                };
                occurrences
                    .into_iter()
                    .map(|occurrence| {
                        split(occurrence, separators.component, separators.release)
                            .into_iter()
                            .map(|raw| {
                                decode(&crate::unescape(raw, &separators), &syntax_id).into_owned()
                            })
                            .collect()
                    })
                    .collect()
            })
            .collect();
        segments.push(OwnedSegment {
            tag: decode(segment.tag, &syntax_id).into_owned(),
            elements,
        });
    }
    (segments, separators, tokenizer.into_diagnostics())
}

/// What [`from_json`] cannot read.
#[derive(Debug, thiserror::Error)]
pub enum JsonError {
    /// Not JSON, or not the documented shape.
    #[error("not an interchange in the JSON form: {0}")]
    Shape(#[from] serde_json::Error),
    /// A separator that is not a single character from U+0000 to U+00FF.
    #[error("separator {role} is {value:?}: it must be one character from U+0000 to U+00FF")]
    Separator {
        /// Which separator (`component`, `element`, …).
        role: &'static str,
        /// What was given.
        value: String,
    },
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonSeparators {
    component: String,
    element: String,
    decimal: String,
    release: Option<String>,
    repetition: Option<String>,
    segment: String,
}

#[derive(Serialize, Deserialize)]
#[serde(untagged)]
enum JsonElement {
    Components(Vec<String>),
    Occurrences(Vec<Vec<String>>),
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonSegment {
    tag: String,
    elements: Vec<JsonElement>,
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct JsonDocument {
    separators: JsonSeparators,
    segments: Vec<JsonSegment>,
}

/// The JSON form of segments and their separators (see the module's documentation).
pub fn to_json(segments: &[OwnedSegment], separators: &Separators) -> String {
    let one = |b: u8| char::from(b).to_string();
    let document = JsonDocument {
        separators: JsonSeparators {
            component: one(separators.component),
            element: one(separators.element),
            decimal: one(separators.decimal),
            release: separators.release.map(one),
            repetition: separators.repetition.map(one),
            segment: one(separators.segment),
        },
        segments: segments
            .iter()
            .map(|segment| JsonSegment {
                tag: segment.tag.clone(),
                elements: segment
                    .elements
                    .iter()
                    .map(|occurrences| match occurrences.as_slice() {
                        [one] => JsonElement::Components(one.clone()),
                        _ => JsonElement::Occurrences(occurrences.clone()),
                    })
                    .collect(),
            })
            .collect(),
    };
    serde_json::to_string(&document).expect("strings and arrays always serialize")
}

/// Segments and separators from their JSON form. An element given as `[]` is one empty
/// occurrence.
pub fn from_json(json: &str) -> Result<(Vec<OwnedSegment>, Separators), JsonError> {
    let document: JsonDocument = serde_json::from_str(json)?;
    let byte = |role: &'static str, value: &str| -> Result<u8, JsonError> {
        let mut chars = value.chars();
        match (chars.next(), chars.next()) {
            (Some(c), None) => u8::try_from(u32::from(c)).ok(),
            _ => None,
        }
        .ok_or_else(|| JsonError::Separator {
            role,
            value: value.to_owned(),
        })
    };
    let given = &document.separators;
    let separators = Separators {
        component: byte("component", &given.component)?,
        element: byte("element", &given.element)?,
        decimal: byte("decimal", &given.decimal)?,
        release: given
            .release
            .as_deref()
            .map(|r| byte("release", r))
            .transpose()?,
        repetition: given
            .repetition
            .as_deref()
            .map(|r| byte("repetition", r))
            .transpose()?,
        segment: byte("segment", &given.segment)?,
    };
    let segments = document
        .segments
        .into_iter()
        .map(|segment| OwnedSegment {
            tag: segment.tag,
            elements: segment
                .elements
                .into_iter()
                .map(|element| match element {
                    JsonElement::Components(components) => vec![components],
                    JsonElement::Occurrences(occurrences) => occurrences,
                })
                .collect(),
        })
        .collect();
    Ok((segments, separators))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn canonical(input: &[u8]) -> String {
        let (segments, separators, _) = parse_owned(input);
        String::from_utf8_lossy(&serialize(&segments, &separators, false)).into_owned()
    }

    #[test]
    fn the_canonical_form() {
        // Line breaks go, trailing empties go, releases are where they are needed only.
        assert_eq!(
            canonical(
                b"UNB+UNOA:3+S+R+261128:1200+1'\r\nFTX+AAI+++It?'s 50?:50??:+::'\nBGM+929++'"
            ),
            "UNB+UNOA:3+S+R+261128:1200+1'FTX+AAI+++It?'s 50?:50??'BGM+929'"
        );
        // Non-default separators bring a UNA; a space in it says "no release character".
        assert_eq!(
            canonical(b"UNA=*.? ~UNB*UNOA=2*X~FTX*A+B'C~"),
            "UNA=*.? ~UNB*UNOA=2*X~FTX*A+B'C~"
        );
        // Repeats with syntax 4's separator.
        assert_eq!(
            canonical(b"UNA:+.?*'NAD+BY+A:1*B:2**'"),
            "UNA:+.?*'NAD+BY+A:1*B:2'"
        );
        let (segments, _, _) = parse_owned(b"UNA:+.?*'NAD+BY+A:1*B:2?*'");
        assert_eq!(segments[0].elements[1], [vec!["A", "1"], vec!["B", "2*"]]);
    }

    #[test]
    fn text_is_encoded_in_the_declared_part() {
        let input = b"UNB+UNOD:3+S+R+261128:1200+1'FTX+AAI+++\xB1'";
        let (segments, separators, _) = parse_owned(input);
        assert_eq!(segments[1].value(3, 0), Some("ą"));
        assert_eq!(serialize(&segments, &separators, false), input);
    }

    #[test]
    fn newline_and_una_options() {
        let segments = [OwnedSegment::new("BGM", &[&["929"], &["A+B"]])];
        let written = serialize_with(
            &segments,
            &Separators::default(),
            &Options {
                una: true,
                newline: true,
            },
        );
        assert_eq!(written, b"UNA:+.? '\nBGM+929+A?+B'\n");
        assert_eq!(parse_owned(&written).0, segments);
    }

    #[test]
    fn json_round_trip_and_shape() {
        let (segments, separators, _) =
            parse_owned(b"UNA:+.?*'BGM+929+ABC::9'NAD+BY+A:1*B:2'FTX+A++X?'Y'");
        let json = to_json(&segments, &separators);
        assert!(
            json.contains(r#"{"tag":"NAD","elements":[["BY"],[["A","1"],["B","2"]]]}"#),
            "{json}"
        );
        assert!(json.contains(r#""repetition":"*""#), "{json}");
        assert_eq!(from_json(&json).unwrap(), (segments, separators));
        let bad = json.replace(r#""segment":"'""#, r#""segment":"''""#);
        assert!(matches!(
            from_json(&bad),
            Err(JsonError::Separator {
                role: "segment",
                ..
            })
        ));
        assert!(matches!(from_json("{}"), Err(JsonError::Shape(_))));
    }
}
