//! The streaming tokenizer: an interchange read from any [`std::io::Read`] through a bounded
//! buffer, one segment at a time, with the same segments, offsets and diagnostics as
//! [`Tokenizer`](crate::Tokenizer) over the whole input in memory.
//!
//! Memory is bounded by [`Options::max_segment_bytes`], whatever the length of the input: the
//! buffer starts at [`Options::buffer_bytes`], is compacted before each refill, and grows only
//! while one segment does not fit, never past the limit. A longer segment is said (`U0006`),
//! its bytes passed over and its position in the segment count kept, so every later segment
//! has the index it has in memory.
//!
//! Where it differs from the in-memory tokenizer, by design:
//! - `U0006` (a segment longer than the limit) exists only here; such a segment is not handed
//!   out, and nothing else is said about it.
//! - Lines are taken as segments when there is no `UNA` and no `'` in the whole input; here,
//!   "the whole input" is what fits in the limit, read ahead before the first segment.

use std::io::{ErrorKind, Read};

use crate::tokenize::{empty, inspect, segment_end, skip_between, unterminated};
use crate::{Diagnostic, Segment, Separators};

/// How much a [`StreamTokenizer`] holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Options {
    /// The buffer's size at first, and the most read at once while segments fit in it.
    pub buffer_bytes: usize,
    /// The longest segment handed out; a longer one is a `U0006` diagnostic. The buffer never
    /// grows past this (and a byte for the terminator).
    pub max_segment_bytes: usize,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            buffer_bytes: 64 * 1024,
            max_segment_bytes: 1024 * 1024,
        }
    }
}

/// Cuts an interchange read from `reader` into segments, one at a time (each borrowed from
/// the buffer until the next is asked for). Separators, byte-order mark, line breaks and
/// indentation as [`Tokenizer`](crate::Tokenizer) has them.
#[derive(Debug)]
pub struct StreamTokenizer<R> {
    reader: R,
    /// The bytes read and not yet passed: `buffer[start..filled]` is the input from offset
    /// `base + start` on. Its length is its capacity: refills write into `buffer[filled..]`.
    buffer: Vec<u8>,
    start: usize,
    filled: usize,
    /// The input offset of `buffer[0]`, moved on by each compaction.
    base: usize,
    /// The reader has said it has nothing more.
    at_end: bool,
    /// The service string advice and the first bytes have been read.
    started: bool,
    index: usize,
    separators: Separators,
    diagnostics: Vec<Diagnostic>,
    options: Options,
}

impl<R: Read> StreamTokenizer<R> {
    /// A tokenizer reading from `reader`, holding at most what `options` allow.
    pub fn new(reader: R, options: Options) -> Self {
        let options = Options {
            buffer_bytes: options.buffer_bytes.max(1),
            max_segment_bytes: options.max_segment_bytes.max(1),
        };
        Self {
            reader,
            buffer: vec![0; options.buffer_bytes],
            start: 0,
            filled: 0,
            base: 0,
            at_end: false,
            started: false,
            index: 0,
            separators: Separators::default(),
            diagnostics: Vec::new(),
            options,
        }
    }

    /// The separators in force (the defaults until the first segment has been asked for).
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

    /// The buffer's size now: at most the segment limit and a byte, whatever the input.
    pub fn buffer_bytes(&self) -> usize {
        self.buffer.len()
    }

    /// The next segment, `None` at the end of the input; an error only when reading fails.
    pub fn next_segment(&mut self) -> std::io::Result<Option<Segment<'_>>> {
        if !self.started {
            self.start_up()?;
        }
        loop {
            if !self.skip_between()? {
                return Ok(None);
            }
            let Some((end, resume, line_break)) = self.find_end()? else {
                // Too long: said and passed over, its index kept.
                self.index += 1;
                continue;
            };
            let start = self.start;
            self.start = resume;
            if end == start {
                self.diagnostics.push(empty(self.base + start, self.index));
                continue;
            }
            let segment = inspect(
                &self.buffer[start..end],
                self.base + start,
                self.index,
                self.separators,
                line_break,
                &mut self.diagnostics,
            );
            self.index += 1;
            return Ok(Some(segment));
        }
    }

    /// Past what lies between segments, refilling as needed; false at the end of the input.
    fn skip_between(&mut self) -> std::io::Result<bool> {
        loop {
            self.start = skip_between(&self.buffer[..self.filled], self.start, &self.separators);
            if self.start < self.filled {
                return Ok(true);
            }
            if self.at_end {
                return Ok(false);
            }
            self.refill()?;
        }
    }

    /// Where the segment at `start` ends: its end, where the next begins, and whether a line
    /// break is inside; `None` when it is longer than the limit (then said and passed over).
    fn find_end(&mut self) -> std::io::Result<Option<(usize, usize, bool)>> {
        loop {
            let found = segment_end(&self.buffer[..self.filled], self.start, &self.separators);
            if let Some(at) = found.at {
                if at - self.start > self.options.max_segment_bytes {
                    self.too_long()?;
                    return Ok(None);
                }
                return Ok(Some((at, at + 1, found.line_break)));
            }
            if self.at_end {
                let (end, line_break) = unterminated(
                    &self.buffer[..self.filled],
                    self.start,
                    self.base,
                    self.index,
                    &mut self.diagnostics,
                );
                return Ok(Some((end, self.filled, line_break)));
            }
            if !self.refill()? {
                self.too_long()?;
                return Ok(None);
            }
        }
    }

    /// The segment at `start` is longer than the limit: said, then its bytes passed over up
    /// to its terminator, keeping only the trailing release characters whose count decides
    /// whether the next terminator is released.
    fn too_long(&mut self) -> std::io::Result<()> {
        self.diagnostics.push(Diagnostic {
            code: "U0006",
            message: format!(
                "a segment longer than {} bytes (passed over)",
                self.options.max_segment_bytes
            ),
            offset: self.base + self.start,
            segment: Some(self.index),
            element: None,
        });
        loop {
            let found = segment_end(&self.buffer[..self.filled], self.start, &self.separators);
            if let Some(at) = found.at {
                self.start = at + 1;
                return Ok(());
            }
            let release = self.separators.release;
            let run = self.buffer[self.start..self.filled]
                .iter()
                .rev()
                .take_while(|b| Some(**b) == release)
                .count();
            // An even run releases nothing: only the parity is carried over.
            self.start = self.filled - run % 2;
            if self.at_end {
                self.start = self.filled;
                return Ok(());
            }
            self.refill()?;
        }
    }

    /// Reads more: the buffer compacted to `start` first, and grown (to the limit) only when
    /// it is full of one segment. False when it is full at the limit and nothing was read.
    fn refill(&mut self) -> std::io::Result<bool> {
        if self.start > 0 {
            self.buffer.copy_within(self.start..self.filled, 0);
            self.base += self.start;
            self.filled -= self.start;
            self.start = 0;
        }
        if self.filled == self.buffer.len() {
            let limit = self.options.max_segment_bytes.saturating_add(1);
            if self.buffer.len() >= limit {
                return Ok(false);
            }
            let grown = self.buffer.len().saturating_mul(2).clamp(16, limit);
            self.buffer.resize(grown, 0);
        }
        loop {
            match self.reader.read(&mut self.buffer[self.filled..]) {
                Ok(0) => {
                    self.at_end = true;
                    return Ok(true);
                }
                Ok(n) => {
                    self.filled += n;
                    return Ok(true);
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// Reads until `self.filled - self.start` is at least `bytes`, the input ends, or the
    /// buffer is full at its limit.
    fn read_ahead(&mut self, bytes: usize) -> std::io::Result<()> {
        while self.filled - self.start < bytes && !self.at_end {
            if !self.refill()? {
                break;
            }
        }
        Ok(())
    }

    /// What [`Tokenizer::new`](crate::Tokenizer::new) does before the first segment: a
    /// byte-order mark and leading white space passed, the `UNA` read, and lines taken as
    /// segments when there is neither an advice nor any `'`.
    fn start_up(&mut self) -> std::io::Result<()> {
        self.started = true;
        self.read_ahead(3)?;
        if self.buffer[self.start..self.filled].starts_with(b"\xEF\xBB\xBF") {
            self.start += 3;
        }
        loop {
            let rest = &self.buffer[self.start..self.filled];
            let white = rest.iter().take_while(|b| b.is_ascii_whitespace()).count();
            self.start += white;
            if white < rest.len() || self.at_end {
                break;
            }
            self.refill()?;
        }
        self.read_ahead(9)?;
        let rest = &self.buffer[self.start..self.filled];
        if rest.starts_with(b"UNA") {
            match Separators::from_una(rest) {
                Ok(advised) => {
                    self.separators = advised;
                    self.start += 9;
                }
                Err(mut e) => {
                    e.offset = self.base + self.start;
                    self.diagnostics.push(e);
                    self.start += rest.len().min(9);
                }
            }
            return Ok(());
        }
        // Read ahead for an apostrophe, as far as the limit allows.
        let mut searched = self.start;
        loop {
            if memchr::memchr(b'\'', &self.buffer[searched..self.filled]).is_some() {
                return Ok(());
            }
            // Compaction moves the bytes searched, never drops them: their count is kept.
            let searched_bytes = self.filled - self.start;
            if self.at_end || !self.refill()? {
                break;
            }
            searched = self.start + searched_bytes;
        }
        if memchr::memchr(b'\n', &self.buffer[self.start..self.filled]).is_some() {
            self.separators.segment = b'\n';
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)] // A panic in a test is a test failure with its message.

    use super::*;
    use crate::Tokenizer;

    /// A reader handing out at most `step` bytes at a time, so that segments straddle refills.
    struct Trickle<'a> {
        bytes: &'a [u8],
        step: usize,
    }

    impl Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            let n = self.bytes.len().min(out.len()).min(self.step);
            out[..n].copy_from_slice(&self.bytes[..n]);
            self.bytes = &self.bytes[n..];
            Ok(n)
        }
    }

    type Seen = (Vec<(usize, usize, Vec<u8>, Vec<u8>)>, Vec<Diagnostic>);

    fn in_memory(input: &[u8]) -> Seen {
        let mut tokenizer = Tokenizer::new(input);
        let segments = tokenizer
            .by_ref()
            .map(|s| (s.offset, s.index, s.tag.to_vec(), s.raw.to_vec()))
            .collect();
        (segments, tokenizer.into_diagnostics())
    }

    fn streamed(input: &[u8], step: usize, options: Options) -> Seen {
        let mut tokenizer = StreamTokenizer::new(Trickle { bytes: input, step }, options);
        let mut segments = Vec::new();
        while let Some(s) = tokenizer.next_segment().unwrap() {
            segments.push((s.offset, s.index, s.tag.to_vec(), s.raw.to_vec()));
        }
        assert!(
            tokenizer.buffer_bytes() <= options.max_segment_bytes.max(options.buffer_bytes) + 1
        );
        (segments, tokenizer.into_diagnostics())
    }

    fn same_as_in_memory(name: &str, input: &[u8]) {
        let expected = in_memory(input);
        for (buffer_bytes, step) in [(1, 1), (2, 3), (7, 5), (16, 16), (64, 1000), (65536, 4096)] {
            let options = Options {
                buffer_bytes,
                max_segment_bytes: 1 << 20,
            };
            assert!(
                streamed(input, step, options) == expected,
                "{name}: buffer {buffer_bytes}, reads of {step}"
            );
        }
    }

    #[test]
    fn every_corpus_sample_streams_as_it_reads_in_memory() {
        let Some(corpus) = jinguan_testkit::corpus() else {
            eprintln!("SKIP: ../shared/corpus absent; the streaming equivalence not checked");
            return;
        };
        let root = corpus.join("edifact");
        let index = std::fs::read_to_string(root.join("INDEX.tsv")).unwrap();
        for line in index.lines().skip(1) {
            let file = line.split('\t').next().unwrap();
            let bytes = std::fs::read(root.join(file)).unwrap();
            same_as_in_memory(file, &bytes);
        }
    }

    #[test]
    fn awkward_inputs_stream_as_they_read_in_memory() {
        let inputs: [&[u8]; 9] = [
            b"",
            b"\xEF\xBB\xBF  \r\nUNA:+.? 'UNB+UNOC:3'UNH+1?''UNT+2+1??'UNZ+1'",
            b"UNA:+",
            b"UNA::.? 'UNB+X'",
            b"UNB+UNOA:1\nUNH+1+X:D:96A:UN\nUNT+2+1\n",
            b"UNB+UNOA:1''nb+X'BGM+1 \r\n",
            b"UNH+1+X\r\n:Y'BGM+A\rB'FTX+???'?''  'x",
            b"UNA:+.?*\rUNB+1\r\nUNH+2?\r3\rUNT+2\r",
            b"UNA:+.\\ 'FTX+A\\'B'UNZ+0'",
        ];
        for input in inputs {
            same_as_in_memory(&String::from_utf8_lossy(input), input);
        }
        // Random bytes from an alphabet of the characters that matter, as in the tokenizer's
        // own test.
        let mut seed = 3u64;
        for length in 0..3000 {
            let bytes: Vec<u8> = (0..length % 61)
                .map(|_| {
                    seed = seed
                        .wrapping_mul(6364136223846793005)
                        .wrapping_add(1442695040888963407);
                    let alphabet = b"UNA:+.? '*\n\r\t?ABZ";
                    alphabet[(seed >> 33) as usize % alphabet.len()]
                })
                .collect();
            same_as_in_memory("random", &bytes);
        }
    }

    #[test]
    fn a_segment_over_the_limit_is_said_and_passed_over() {
        let mut input = b"UNB+UNOA:1'FTX+".to_vec();
        input.extend(std::iter::repeat_n(b'?', 301));
        input.extend(b"''BGM+1'");
        let options = Options {
            buffer_bytes: 8,
            max_segment_bytes: 64,
        };
        let (segments, diagnostics) = streamed(&input, 5, options);
        let tags: Vec<(usize, &[u8])> = segments.iter().map(|s| (s.1, &s.2[..])).collect();
        // The released apostrophe after an odd run stays in the long segment.
        assert_eq!(tags, [(0, &b"UNB"[..]), (2, &b"BGM"[..])]);
        let codes: Vec<&str> = diagnostics.iter().map(|d| d.code).collect();
        assert_eq!(codes, ["U0006"]);
        assert_eq!(
            (diagnostics[0].offset, diagnostics[0].segment),
            (11, Some(1))
        );
    }
}
