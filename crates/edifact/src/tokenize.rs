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

    /// Where the terminator of the segment starting at `from` is: the first terminator not
    /// released (an odd run of release characters before it releases it).
    fn terminator(&self, from: usize) -> Option<usize> {
        let input = self.input;
        let mut search = from;
        loop {
            let at = search + memchr::memchr(self.separators.segment, &input[search..])?;
            let Some(release) = self.separators.release else {
                return Some(at);
            };
            let run = input[from..at]
                .iter()
                .rev()
                .take_while(|b| **b == release)
                .count();
            if run % 2 == 0 {
                return Some(at);
            }
            search = at + 1;
        }
    }

    fn skip_between(&mut self) {
        let terminator = self.separators.segment;
        while let Some(&byte) = self.input.get(self.position) {
            if byte != terminator && matches!(byte, b'\r' | b'\n' | b' ' | b'\t') {
                self.position += 1;
            } else {
                break;
            }
        }
    }
}

impl<'a> Iterator for Tokenizer<'a> {
    type Item = Segment<'a>;

    fn next(&mut self) -> Option<Segment<'a>> {
        loop {
            self.skip_between();
            let start = self.position;
            if start >= self.input.len() {
                return None;
            }
            let end = match self.terminator(start) {
                Some(end) => {
                    self.position = end + 1;
                    end
                }
                None => {
                    self.position = self.input.len();
                    let mut end = self.input.len();
                    while end > start && self.input[end - 1].is_ascii_whitespace() {
                        end -= 1;
                    }
                    self.diagnostics.push(Diagnostic {
                        code: "U0002",
                        message: "the last segment has no terminator".into(),
                        offset: start,
                        segment: Some(self.index),
                        element: None,
                    });
                    end
                }
            };
            let raw = &self.input[start..end];
            if raw.is_empty() {
                self.diagnostics.push(Diagnostic {
                    code: "U0004",
                    message: "an empty segment".into(),
                    offset: start,
                    segment: Some(self.index),
                    element: None,
                });
                continue;
            }
            let separators = self.separators;
            let tag_end = raw
                .iter()
                .position(|b| *b == separators.element || *b == separators.component)
                .unwrap_or(raw.len());
            let tag = &raw[..tag_end];
            if tag.len() != 3
                || !tag
                    .iter()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
            {
                self.diagnostics.push(Diagnostic {
                    code: "U0003",
                    message: format!(
                        "segment tag {:?} is not three upper-case letters or digits",
                        String::from_utf8_lossy(&tag[..tag.len().min(16)])
                    ),
                    offset: start,
                    segment: Some(self.index),
                    element: None,
                });
            }
            if separators.segment != b'\n' && memchr::memchr2(b'\n', b'\r', raw).is_some() {
                self.diagnostics.push(Diagnostic {
                    code: "U0005",
                    message: "a line break inside the segment (taken as wrapping)".into(),
                    offset: start,
                    segment: Some(self.index),
                    element: None,
                });
            }
            let segment = Segment {
                tag,
                raw,
                offset: start,
                index: self.index,
                separators,
            };
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
