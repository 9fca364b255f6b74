//! The tokenizer: an interchange's bytes cut into segments, elements and components, with the
//! release character honoured and nothing copied.

use std::borrow::Cow;

use crate::{Diagnostic, Separators};

/// One segment: its tag and what follows, as slices of the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Segment<'a> {
    /// The tag (`UNH`, `BGM`, …).
    pub tag: &'a [u8],
    /// The whole segment without its terminator.
    pub raw: &'a [u8],
    /// Byte offset of the segment in the input.
    pub offset: usize,
    /// Position among the segments (0 for the first).
    pub index: usize,
    separators: Separators,
}

/// One element of a segment (a simple value or a composite), release characters kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Element<'a> {
    /// Its bytes as sent.
    pub raw: &'a [u8],
    separators: Separators,
}

/// Splits `raw` at `separator` bytes not released.
fn split(raw: &[u8], separator: u8, release: Option<u8>) -> impl Iterator<Item = &[u8]> {
    let mut start = 0;
    let mut i = 0;
    let mut done = false;
    std::iter::from_fn(move || {
        if done {
            return None;
        }
        while i < raw.len() {
            let byte = raw[i];
            if Some(byte) == release {
                i += 2;
                continue;
            }
            if byte == separator {
                let part = &raw[start..i];
                i += 1;
                start = i;
                return Some(part);
            }
            i += 1;
        }
        done = true;
        Some(&raw[start.min(raw.len())..])
    })
}

impl<'a> Segment<'a> {
    /// The elements after the tag, in order (an empty one for each `++`).
    pub fn elements(&self) -> impl Iterator<Item = Element<'a>> + '_ {
        let separators = self.separators;
        split(self.raw, separators.element, separators.release)
            .skip(1)
            .map(move |raw| Element { raw, separators })
    }

    /// Element `n` (0 for the first after the tag), if the segment has it.
    pub fn element(&self, n: usize) -> Option<Element<'a>> {
        self.elements().nth(n)
    }

    /// The separators it was read with.
    pub fn separators(&self) -> Separators {
        self.separators
    }
}

impl<'a> Element<'a> {
    /// The components of a composite (one for a simple element), release characters kept.
    pub fn components(&self) -> impl Iterator<Item = &'a [u8]> {
        split(self.raw, self.separators.component, self.separators.release)
    }

    /// Component `n` with its release characters taken out.
    pub fn component(&self, n: usize) -> Option<Cow<'a, [u8]>> {
        self.components()
            .nth(n)
            .map(|raw| unescape(raw, &self.separators))
    }

    /// The whole element with its release characters taken out (components still joined).
    pub fn value(&self) -> Cow<'a, [u8]> {
        unescape(self.raw, &self.separators)
    }
}

/// A value as meant: each release character dropped and the character after it kept; line
/// breaks (which only wrapping puts inside a segment) dropped.
pub fn unescape<'a>(raw: &'a [u8], separators: &Separators) -> Cow<'a, [u8]> {
    let special = |b: u8| Some(b) == separators.release || b == b'\r' || b == b'\n';
    if !raw.iter().any(|b| special(*b)) {
        return Cow::Borrowed(raw);
    }
    let mut out = Vec::with_capacity(raw.len());
    let mut bytes = raw.iter();
    while let Some(&byte) = bytes.next() {
        if Some(byte) == separators.release {
            if let Some(&next) = bytes.next() {
                out.push(next);
            }
        } else if byte != b'\r' && byte != b'\n' {
            out.push(byte);
        }
    }
    Cow::Owned(out)
}

/// Cuts an interchange into segments. The separators come from its `UNA`, else the defaults
/// (and a newline ends segments when there is neither `UNA` nor any `'`); a byte-order mark
/// and line breaks or indentation between segments are passed over.
#[derive(Debug)]
pub struct Tokenizer<'a> {
    input: &'a [u8],
    position: usize,
    index: usize,
    separators: Separators,
    diagnostics: Vec<Diagnostic>,
}

impl<'a> Tokenizer<'a> {
    /// A tokenizer over `input`.
    pub fn new(input: &'a [u8]) -> Self {
        let mut position = 0;
        if input.starts_with(b"\xEF\xBB\xBF") {
            position = 3;
        }
        while input.get(position).is_some_and(|b| b.is_ascii_whitespace()) {
            position += 1;
        }
        let mut diagnostics = Vec::new();
        let mut separators = Separators::default();
        let rest = &input[position..];
        if rest.starts_with(b"UNA") {
            match Separators::from_una(rest) {
                Ok(advised) => {
                    separators = advised;
                    position += 9;
                }
                Err(mut e) => {
                    e.offset = position;
                    diagnostics.push(e);
                    position += rest.len().min(9);
                }
            }
        } else if memchr::memchr(b'\'', rest).is_none() && memchr::memchr(b'\n', rest).is_some() {
            // No advice and no apostrophe anywhere: lines are segments.
            separators.segment = b'\n';
        }
        Self {
            input,
            position,
            index: 0,
            separators,
            diagnostics,
        }
    }

    /// The separators in force.
    pub fn separators(&self) -> Separators {
        self.separators
    }

    /// What was found wrong so far.
    pub fn diagnostics(&self) -> &[Diagnostic] {
        &self.diagnostics
    }

    /// What was found wrong, taken.
    pub fn into_diagnostics(self) -> Vec<Diagnostic> {
        self.diagnostics
    }

    fn skip_between(&mut self) {
        self.position = skip_between(self.input, self.position, &self.separators);
    }
}

/// Where the segment starting at `from` ends, and whether a line break comes before its end.
#[derive(Debug, Clone, Copy)]
pub(crate) struct End {
    /// The terminator's position: the first terminator not released (an odd run of release
    /// characters before it releases it); none when the input ends first.
    pub(crate) at: Option<usize>,
    /// A line break (`\r` or `\n`) between `from` and the terminator. Only meaningful when
    /// the terminator was found: an unterminated last segment is trimmed before it is looked at.
    pub(crate) line_break: bool,
}

/// Finds the end of the segment starting at `from` in one pass: a line break inside a
/// segment is looked for in the same scan as its terminator, because a second pass over every
/// segment cost as much as the first. Release characters are not searched for: a terminator is
/// released by the run of them just before it, counted backwards when one is found.
pub(crate) fn segment_end(input: &[u8], from: usize, separators: &Separators) -> End {
    let terminator = separators.segment;
    let mut line_break = false;
    let mut search = from;
    loop {
        let rest = input.get(search..).unwrap_or_default();
        // Once a line break is seen, or when lines are segments, only the terminator matters.
        let found = if line_break || terminator == b'\n' {
            find3(rest, terminator, terminator, terminator)
        } else {
            find3(rest, terminator, b'\n', b'\r')
        };
        let Some(found) = found else {
            return End {
                at: None,
                line_break,
            };
        };
        let at = search + found;
        search = at + 1;
        let byte = input[at];
        if byte != terminator {
            line_break = true;
            continue;
        }
        if released(input, from, at, separators.release) {
            // A released terminator stays in the segment; when it is itself a line break it
            // counts as one.
            line_break |= matches!(byte, b'\r' | b'\n');
            continue;
        }
        return End {
            at: Some(at),
            line_break,
        };
    }
}

/// Words looked at before a vector search takes over: most segments end within them.
const SHORT_WORDS: usize = 4;

/// The first of three bytes in `haystack`. Most segments are shorter than 32 bytes, where a
/// call into a vector search costs more than the search: the first words are looked at in
/// place, eight bytes at a time, and the vector search is left the rest.
#[inline]
fn find3(haystack: &[u8], a: u8, b: u8, c: u8) -> Option<usize> {
    let (wa, wb, wc) = (LOW * u64::from(a), LOW * u64::from(b), LOW * u64::from(c));
    let mut checked = 0;
    for chunk in haystack.chunks_exact(8).take(SHORT_WORDS) {
        let Ok(bytes) = <[u8; 8]>::try_from(chunk) else {
            break;
        };
        let word = u64::from_le_bytes(bytes);
        let hits = zero_byte(word ^ wa) | zero_byte(word ^ wb) | zero_byte(word ^ wc);
        if hits != 0 {
            return Some(checked + (hits.trailing_zeros() / 8) as usize);
        }
        checked += 8;
    }
    let rest = haystack.get(checked..).unwrap_or_default();
    memchr::memchr3(a, b, c, rest).map(|at| checked + at)
}

const LOW: u64 = 0x0101_0101_0101_0101;
const HIGH: u64 = 0x8080_8080_8080_8080;

/// The high bit of each zero byte of `x` set. Bits above the first zero byte may be set
/// falsely (a borrow), so only the lowest set bit may be relied on.
#[inline]
fn zero_byte(x: u64) -> u64 {
    x.wrapping_sub(LOW) & !x & HIGH
}

/// Whether the byte at `at` is released: an odd run of release characters between `from` and
/// it. The common case, no release character just before, is one comparison.
fn released(input: &[u8], from: usize, at: usize, release: Option<u8>) -> bool {
    let Some(release) = release else {
        return false;
    };
    let before = input.get(from..at).unwrap_or_default();
    if before.last() != Some(&release) {
        return false;
    }
    let run = before.iter().rev().take_while(|b| **b == release).count();
    run % 2 == 1
}

/// Past the line breaks and indentation between segments: never past a service character,
/// which an advice may make of a newline, a carriage return or a space (a segment may start
/// with the element separator: it has an empty tag).
pub(crate) fn skip_between(input: &[u8], mut position: usize, separators: &Separators) -> usize {
    let service = |byte: u8| {
        byte == separators.segment
            || byte == separators.element
            || byte == separators.component
            || Some(byte) == separators.release
            || Some(byte) == separators.repetition
    };
    while let Some(&byte) = input.get(position) {
        if matches!(byte, b'\r' | b'\n' | b' ' | b'\t') && !service(byte) {
            position += 1;
        } else {
            break;
        }
    }
    position
}

/// Upper-case letters and digits: what a tag is made of.
const TAG_BYTE: [bool; 256] = {
    let mut table = [false; 256];
    let mut byte = 0;
    while byte < 256 {
        table[byte] = (byte as u8).is_ascii_uppercase() || (byte as u8).is_ascii_digit();
        byte += 1;
    }
    table
};

/// The tag of a segment's bytes and whether it is a well-formed one (three upper-case letters
/// or digits). The usual shape, three tag bytes then a separator, is checked without a scan.
fn tag<'a>(raw: &'a [u8], separators: &Separators) -> (&'a [u8], bool) {
    let is_separator = |b: u8| b == separators.element || b == separators.component;
    if let Some(&[a, b, c, d]) = raw.get(..4).and_then(|s| <&[u8; 4]>::try_from(s).ok()) {
        let three_tag_bytes =
            TAG_BYTE[usize::from(a)] & TAG_BYTE[usize::from(b)] & TAG_BYTE[usize::from(c)];
        // Separators may be advised to be letters or digits; only then can one hide among the
        // three, and only then is it looked for there.
        if three_tag_bytes
            && is_separator(d)
            && !(TAG_BYTE[usize::from(separators.element)]
                || TAG_BYTE[usize::from(separators.component)])
        {
            return (&raw[..3], true);
        }
    }
    let tag_end = raw
        .iter()
        .position(|b| is_separator(*b))
        .unwrap_or(raw.len());
    let tag = &raw[..tag_end];
    let valid = tag.len() == 3 && tag.iter().all(|b| TAG_BYTE[usize::from(*b)]);
    (tag, valid)
}

/// A segment's bytes looked at: its tag checked and a line break inside it said, the same for
/// the in-memory and the streaming tokenizer.
pub(crate) fn inspect<'a>(
    raw: &'a [u8],
    offset: usize,
    index: usize,
    separators: Separators,
    line_break: bool,
    diagnostics: &mut Vec<Diagnostic>,
) -> Segment<'a> {
    let (tag, valid) = tag(raw, &separators);
    if !valid {
        diagnostics.push(Diagnostic {
            code: "U0003",
            message: format!(
                "segment tag {:?} is not three upper-case letters or digits",
                String::from_utf8_lossy(&tag[..tag.len().min(16)])
            ),
            offset,
            segment: Some(index),
            element: None,
        });
    }
    if separators.segment != b'\n' && line_break {
        diagnostics.push(line_break_inside(offset, index));
    }
    Segment {
        tag,
        raw,
        offset,
        index,
        separators,
    }
}

fn line_break_inside(offset: usize, index: usize) -> Diagnostic {
    Diagnostic {
        code: "U0005",
        message: "a line break inside the segment (taken as wrapping)".into(),
        offset,
        segment: Some(index),
        element: None,
    }
}

/// The last segment without its terminator: its bytes up to the end of the input less trailing
/// whitespace, said as such, and whether a line break is inside what is left. `base` is the
/// input offset of `input[0]` (not 0 for a streaming buffer).
pub(crate) fn unterminated(
    input: &[u8],
    start: usize,
    base: usize,
    index: usize,
    diagnostics: &mut Vec<Diagnostic>,
) -> (usize, bool) {
    let mut end = input.len();
    while end > start && input[end - 1].is_ascii_whitespace() {
        end -= 1;
    }
    diagnostics.push(Diagnostic {
        code: "U0002",
        message: "the last segment has no terminator".into(),
        offset: base + start,
        segment: Some(index),
        element: None,
    });
    let line_break = memchr::memchr2(b'\n', b'\r', &input[start..end]).is_some();
    (end, line_break)
}

/// An empty segment (two terminators in a row), said.
pub(crate) fn empty(offset: usize, index: usize) -> Diagnostic {
    Diagnostic {
        code: "U0004",
        message: "an empty segment".into(),
        offset,
        segment: Some(index),
        element: None,
    }
}

impl<'a> Iterator for Tokenizer<'a> {
    type Item = Segment<'a>;

    fn next(&mut self) -> Option<Segment<'a>> {
        let input = self.input;
        loop {
            self.skip_between();
            let start = self.position;
            if start >= input.len() {
                return None;
            }
            let found = segment_end(input, start, &self.separators);
            let (end, line_break) = match found.at {
                Some(end) => {
                    self.position = end + 1;
                    (end, found.line_break)
                }
                None => {
                    self.position = input.len();
                    unterminated(input, start, 0, self.index, &mut self.diagnostics)
                }
            };
            let raw = &input[start..end];
            if raw.is_empty() {
                self.diagnostics.push(empty(start, self.index));
                continue;
            }
            let segment = inspect(
                raw,
                start,
                self.index,
                self.separators,
                line_break,
                &mut self.diagnostics,
            );
            self.index += 1;
            return Some(segment);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tags(input: &[u8]) -> Vec<String> {
        Tokenizer::new(input)
            .map(|s| String::from_utf8_lossy(s.tag).into_owned())
            .collect()
    }

    #[test]
    fn segments_elements_and_components_with_releases() {
        let input = b"UNA:+.? 'UNB+UNOC:3+A?+B+C'FTX+AAI+++It?'s 50?:50??'UNZ+1+1'";
        let mut tokenizer = Tokenizer::new(input);
        let segments: Vec<Segment<'_>> = tokenizer.by_ref().collect();
        assert!(
            tokenizer.diagnostics().is_empty(),
            "{:?}",
            tokenizer.diagnostics()
        );
        assert_eq!(segments.len(), 3);
        assert_eq!(segments[0].tag, b"UNB");
        let syntax = segments[0].element(0).unwrap();
        assert_eq!(syntax.component(0).unwrap().as_ref(), b"UNOC");
        assert_eq!(syntax.component(1).unwrap().as_ref(), b"3");
        assert_eq!(segments[0].element(1).unwrap().value().as_ref(), b"A+B");
        let text = segments[1].element(3).unwrap();
        assert_eq!(text.value().as_ref(), b"It's 50:50?");
        assert_eq!(segments[1].element(1).unwrap().raw, b"");
    }

    #[test]
    fn other_separators_line_breaks_and_a_bom() {
        assert_eq!(
            tags(b"\xEF\xBB\xBFUNA=*.? ~\r\nUNB*UNOA=2*X~\r\n\tUNH*1*ORDERS=D=96A=UN~"),
            ["UNB", "UNH"]
        );
        // Backslash release, as in IATA interchanges.
        let mut t = Tokenizer::new(b"UNA:+.\\ 'FTX+A\\'B'UNZ+0'");
        let first = t.next().unwrap();
        assert_eq!(first.element(0).unwrap().value().as_ref(), b"A'B");
        // Lines as segments when there is no apostrophe at all.
        assert_eq!(
            tags(b"UNB+UNOA:1+X\nUNH+1+X:D:96A:UN\nUNT+2+1\n"),
            ["UNB", "UNH", "UNT"]
        );
    }

    #[test]
    fn what_is_wrong_is_said_and_the_rest_read() {
        let mut t = Tokenizer::new(b"UNB+UNOA:1''nb+X'BGM+1");
        let segments: Vec<_> = t.by_ref().collect();
        assert_eq!(segments.len(), 3);
        let codes: Vec<&str> = t.diagnostics().iter().map(|d| d.code).collect();
        assert_eq!(codes, ["U0004", "U0003", "U0002"]);
        assert!(Separators::from_una(b"UNA::.? '").is_err());
        assert!(Separators::from_una(b"UNA:+").is_err());
    }

    #[test]
    fn any_bytes_at_all_never_panic() {
        let mut seed = 7u64;
        for length in 0..2000 {
            let bytes: Vec<u8> = (0..length % 97)
                .map(|_| {
                    seed = seed
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    let alphabet = b"UNA:+.? '*\n\r?ABZ";
                    alphabet[(seed >> 33) as usize % alphabet.len()]
                })
                .collect();
            for segment in Tokenizer::new(&bytes) {
                for element in segment.elements() {
                    let _ = element.value();
                    for _ in element.components() {}
                }
            }
        }
    }
}
