//! Segments as owned text, read from a message and written into an interchange.

use jinguan_edifact::serialize::{serialize_with, Options};
use jinguan_edifact::{Message, OwnedSegment, Separators, Tokenizer};

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
        let out = write(std::slice::from_ref(self), false);
        // Written from `String`s with ASCII separators and no syntax level: still UTF-8; the
        // terminator and line feed dropped.
        let end = out.len().saturating_sub(2);
        String::from_utf8_lossy(&out[..end]).into_owned()
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

/// The segments of every message of `interchange` in `input`, in one pass.
pub fn read_messages(input: &[u8], interchange: &jinguan_edifact::Interchange) -> Vec<Vec<Seg>> {
    let mut tokenizer = Tokenizer::new(input);
    let separators = tokenizer.separators();
    let mut segments = tokenizer.by_ref().peekable();
    let mut out = Vec::with_capacity(interchange.messages.len());
    for message in &interchange.messages {
        while segments
            .peek()
            .is_some_and(|s| s.index < message.first_segment)
        {
            segments.next();
        }
        out.push(
            segments
                .by_ref()
                .take(message.segments)
                .map(|segment| owned(&segment, &separators))
                .collect(),
        );
    }
    out
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

impl From<&Seg> for OwnedSegment {
    fn from(seg: &Seg) -> Self {
        OwnedSegment {
            tag: seg.tag.clone(),
            elements: seg.elements.iter().map(|e| vec![e.clone()]).collect(),
        }
    }
}

/// Writes segments with the edifact crate's serializer (releases where needed, trailing
/// empties dropped, text encoded as the `UNB` declares), one per line.
fn write(segments: &[Seg], una: bool) -> Vec<u8> {
    let owned: Vec<OwnedSegment> = segments.iter().map(OwnedSegment::from).collect();
    serialize_with(
        &owned,
        &Separators::default(),
        &Options { una, newline: true },
    )
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
    let s = |v: &str| vec![v.to_owned()];
    let mut segments = vec![Seg::new(
        "UNB",
        vec![
            vec![envelope.syntax.0.clone(), envelope.syntax.1.clone()],
            s(&envelope.sender),
            s(&envelope.recipient),
            vec![envelope.prepared.0.clone(), envelope.prepared.1.clone()],
            s(&envelope.reference),
        ],
    )];
    for message in messages {
        segments.push(Seg::new(
            "UNH",
            vec![s(&message.reference), message.identifier.to_vec()],
        ));
        segments.extend(message.segments.iter().cloned());
        segments.push(Seg::new(
            "UNT",
            vec![
                s(&(message.segments.len() + 2).to_string()),
                s(&message.reference),
            ],
        ));
    }
    segments.push(Seg::new(
        "UNZ",
        vec![s(&messages.len().to_string()), s(&envelope.reference)],
    ));
    write(&segments, true)
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
