//! Segments as owned text, read from a message and written into an interchange.

use jinguan_edifact::{Message, Separators, Tokenizer};

/// One segment: its tag and its elements, each a list of components, values unescaped.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Seg {
    /// The tag (`BGM`).
    pub tag: String,
    /// Elements after the tag, each its components.
    pub elements: Vec<Vec<String>>,
}

/// Something read that did not fit its field; the segment is kept verbatim instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Stable code (`E01xx`).
    pub code: &'static str,
    /// What, for people.
    pub message: String,
    /// The segment's position in its message (1 for `UNH`), as a CONTRL or CUSRES names it.
    pub segment: usize,
}

impl Seg {
    /// A segment from its tag and elements given as component lists.
    pub fn new(tag: &str, elements: Vec<Vec<String>>) -> Self {
        Self {
            tag: tag.to_owned(),
            elements,
        }
    }

    /// Component `c` of element `e` (both 0-based), empty when absent.
    pub fn get(&self, e: usize, c: usize) -> &str {
        self.elements
            .get(e)
            .and_then(|element| element.get(c))
            .map_or("", String::as_str)
    }

    /// Whether element `e` has a non-empty component.
    pub fn has(&self, e: usize) -> bool {
        self.elements
            .get(e)
            .is_some_and(|element| element.iter().any(|c| !c.is_empty()))
    }

    /// The segment as one line of text with the default separators (for keeping it verbatim).
    pub fn to_text(&self) -> String {
        let mut out = Vec::new();
        write_segment(&mut out, self, &Separators::default());
        // Written from `String`s with ASCII separators: still UTF-8.
        String::from_utf8_lossy(&out[..out.len().saturating_sub(1)]).into_owned()
    }

    /// Reads a segment kept verbatim by [`Seg::to_text`].
    pub fn from_text(text: &str) -> Option<Self> {
        let mut with_terminator = text.as_bytes().to_vec();
        with_terminator.push(b'\'');
        let mut tokenizer = Tokenizer::new(&with_terminator);
        let separators = tokenizer.separators();
        let segment = tokenizer.next()?;
        Some(owned(&segment, &separators))
    }
}

/// Text of a value: UTF-8 when it is, else each byte as its ISO 8859-1 character (the
/// repertoires of UNOA to UNOC are within it).
pub(crate) fn text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(text) => text.to_owned(),
        Err(_) => bytes.iter().map(|&b| char::from(b)).collect(),
    }
}

/// A segment read, in the normal form the mappings compare with: trailing empty components
/// and elements left out (an empty element is an empty list), as the writer leaves them out.
fn owned(segment: &jinguan_edifact::Segment<'_>, separators: &Separators) -> Seg {
    let mut elements: Vec<Vec<String>> = segment
        .elements()
        .map(|element| {
            let mut components: Vec<String> = element
                .components()
                .map(|c| text(&jinguan_edifact::unescape(c, separators)))
                .collect();
            while components.last().is_some_and(String::is_empty) {
                components.pop();
            }
            components
        })
        .collect();
    while elements.last().is_some_and(Vec::is_empty) {
        elements.pop();
    }
    Seg {
        tag: text(segment.tag),
        elements,
    }
}

/// The segments of `message` in `input` (its `UNH` first, its `UNT` last).
pub fn read_message(input: &[u8], message: &Message) -> Vec<Seg> {
    let mut tokenizer = Tokenizer::new(input);
    let separators = tokenizer.separators();
    let end = message.first_segment + message.segments;
    tokenizer
        .by_ref()
        .skip(message.first_segment)
        .take(end - message.first_segment)
        .map(|segment| owned(&segment, &separators))
        .collect()
}

fn write_value(out: &mut Vec<u8>, value: &str, separators: &Separators) {
    let release = separators.release.unwrap_or(b'?');
    for &b in value.as_bytes() {
        let special = b == separators.component
            || b == separators.element
            || b == separators.segment
            || Some(b) == separators.release
            || Some(b) == separators.repetition;
        if special {
            out.push(release);
        }
        out.push(b);
    }
}

/// Writes one segment, trailing empty components and elements left out.
fn write_segment(out: &mut Vec<u8>, segment: &Seg, separators: &Separators) {
    out.extend_from_slice(segment.tag.as_bytes());
    let used = segment
        .elements
        .iter()
        .rposition(|e| e.iter().any(|c| !c.is_empty()))
        .map_or(0, |i| i + 1);
    for element in &segment.elements[..used] {
        out.push(separators.element);
        let components = element
            .iter()
            .rposition(|c| !c.is_empty())
            .map_or(0, |i| i + 1);
        for (i, component) in element[..components].iter().enumerate() {
            if i > 0 {
                out.push(separators.component);
            }
            write_value(out, component, separators);
        }
    }
    out.push(separators.segment);
}

/// A message to put in an interchange: its type identifier and its segments between `UNH`
/// and `UNT` (both written by [`interchange`]).
#[derive(Debug, Clone)]
pub struct OutMessage {
    /// Reference (`UNH` 0062).
    pub reference: String,
    /// Type, version, release, agency (`CUSRES`, `D`, `96B`, `UN`).
    pub identifier: [String; 4],
    /// The body.
    pub segments: Vec<Seg>,
}

/// The interchange header's fields.
#[derive(Debug, Clone)]
pub struct Envelope {
    /// Syntax identifier and version (`UNOC`, `3`).
    pub syntax: (String, String),
    /// Sender identification.
    pub sender: String,
    /// Recipient identification.
    pub recipient: String,
    /// Preparation date `YYMMDD` and time `HHMM`.
    pub prepared: (String, String),
    /// Interchange control reference.
    pub reference: String,
}

/// A whole interchange: `UNA` (the defaults, stated), `UNB`, each message framed by `UNH`
/// and `UNT` with its segment count, `UNZ` with the message count; one segment per line.
pub fn interchange(envelope: &Envelope, messages: &[OutMessage]) -> Vec<u8> {
    let separators = Separators::default();
    let mut out = b"UNA:+.? '\n".to_vec();
    let s = |v: &str| vec![v.to_owned()];
    let unb = Seg::new(
        "UNB",
        vec![
            vec![envelope.syntax.0.clone(), envelope.syntax.1.clone()],
            s(&envelope.sender),
            s(&envelope.recipient),
            vec![envelope.prepared.0.clone(), envelope.prepared.1.clone()],
            s(&envelope.reference),
        ],
    );
    write_segment(&mut out, &unb, &separators);
    out.push(b'\n');
    for message in messages {
        let unh = Seg::new(
            "UNH",
            vec![s(&message.reference), message.identifier.to_vec()],
        );
        write_segment(&mut out, &unh, &separators);
        out.push(b'\n');
        for segment in &message.segments {
            write_segment(&mut out, segment, &separators);
            out.push(b'\n');
        }
        let unt = Seg::new(
            "UNT",
            vec![
                s(&(message.segments.len() + 2).to_string()),
                s(&message.reference),
            ],
        );
        write_segment(&mut out, &unt, &separators);
        out.push(b'\n');
    }
    let unz = Seg::new(
        "UNZ",
        vec![s(&messages.len().to_string()), s(&envelope.reference)],
    );
    write_segment(&mut out, &unz, &separators);
    out.push(b'\n');
    out
}

/// Elements from plain values, one component each.
pub(crate) fn els(values: &[&str]) -> Vec<Vec<String>> {
    values.iter().map(|v| vec![(*v).to_owned()]).collect()
}

/// Splits text into pieces of at most `width` characters (never inside a character).
pub(crate) fn chunks(text: &str, width: usize) -> Vec<String> {
    let mut out = Vec::new();
    let mut current = String::new();
    for ch in text.chars() {
        if current.chars().count() == width {
            out.push(std::mem::take(&mut current));
        }
        current.push(ch);
    }
    if !current.is_empty() {
        out.push(current);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_segment_survives_its_text_form_with_separators_in_values() {
        let seg = Seg::new(
            "FTX",
            vec![
                vec!["ZZZ".into()],
                vec![],
                vec![],
                vec!["a:b".into(), "c+d'e?f".into()],
            ],
        );
        let text = seg.to_text();
        assert_eq!(text, "FTX+ZZZ+++a?:b:c?+d?'e??f");
        assert_eq!(Seg::from_text(&text), Some(seg));
    }

    #[test]
    fn chunks_keep_characters_whole() {
        assert_eq!(chunks("报关单abc", 2), vec!["报关", "单a", "bc"]);
        assert!(chunks("", 3).is_empty());
    }
}
