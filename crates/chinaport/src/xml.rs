//! A small, hardened XML reader: bytes in, an element tree out, or a located, coded error.
//!
//! Hardening, because messages come from outside: no DTD is accepted (so no external
//! entities and no entity expansion), only the five predefined entities and character
//! references are understood, input size, nesting depth and element count are bounded, and
//! anything after the document element is an error. GB2312/GBK/GB18030 documents (金关二期
//! receipts use them) are transcoded to UTF-8 as their declaration says.

use std::fmt;

use compact_str::CompactString;
use quick_xml::events::Event;
use quick_xml::Reader;

/// Limits on what a message may contain.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Largest input accepted, in bytes.
    pub max_bytes: usize,
    /// Deepest element nesting accepted.
    pub max_depth: usize,
    /// Most elements accepted.
    pub max_elements: usize,
}

impl Default for Limits {
    fn default() -> Self {
        // A 50-item declaration is about 40 KiB; these leave room for the largest real ones
        // while keeping a hostile message from costing more than a few milliseconds.
        Self {
            max_bytes: 8 * 1024 * 1024,
            max_depth: 32,
            max_elements: 200_000,
        }
    }
}

/// Why a document could not be read. Codes are stable API.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct XmlError {
    /// `X0001` not well-formed, `X0002` too large, `X0003` DTD refused, `X0004` too deep or
    /// too many elements, `X0005` bad encoding, `X0006` empty, `X0007` the element to
    /// canonicalise is not in the document, `X0008` cannot be canonicalised (a relative
    /// namespace URI; see [`crate::c14n`]).
    pub code: &'static str,
    /// 1-based line of the problem.
    pub line: usize,
    /// 1-based column (in characters) of the problem.
    pub column: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for XmlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}: {} at line {}, column {}",
            self.code, self.message, self.line, self.column
        )
    }
}

impl std::error::Error for XmlError {}

/// An element: local name (prefix dropped), attributes, text and children.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Element {
    /// Local name.
    pub name: CompactString,
    /// Attributes as (qualified name, value).
    pub attributes: Vec<(String, String)>,
    /// Concatenated text content, trimmed.
    pub text: CompactString,
    /// Child elements in order.
    pub children: Vec<Element>,
    /// 1-based line where the element starts.
    pub line: usize,
}

impl Element {
    /// The first child with this local name.
    pub fn child(&self, name: &str) -> Option<&Element> {
        self.children.iter().find(|c| c.name == name)
    }

    /// An attribute's value.
    pub fn attribute(&self, name: &str) -> Option<&str> {
        self.attributes
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// Decodes bytes to text, honouring a BOM and the encoding in the XML declaration: UTF-8 is
/// borrowed as it is, only other encodings are copied.
pub fn decode(bytes: &[u8]) -> Result<std::borrow::Cow<'_, str>, XmlError> {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    let head = &bytes[..bytes.len().min(200)];
    let head_text = String::from_utf8_lossy(head).to_ascii_lowercase();
    let declared_gb = head_text.starts_with("<?xml")
        && ["gb2312", "gbk", "gb18030"]
            .iter()
            .any(|e| head_text.split("?>").next().is_some_and(|d| d.contains(e)));
    if declared_gb {
        let (text, _, had_errors) = encoding_rs::GB18030.decode(bytes);
        if had_errors {
            return Err(error_at_start("X0005", "invalid GB18030 byte sequence"));
        }
        return Ok(std::borrow::Cow::Owned(text.into_owned()));
    }
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(std::borrow::Cow::Borrowed(text)),
        Err(e) => {
            let (line, column) = line_column(
                &String::from_utf8_lossy(&bytes[..e.valid_up_to()]),
                e.valid_up_to(),
            );
            Err(XmlError {
                code: "X0005",
                line,
                column,
                message: "invalid UTF-8".to_owned(),
            })
        }
    }
}

fn error_at_start(code: &'static str, message: &str) -> XmlError {
    XmlError {
        code,
        line: 1,
        column: 1,
        message: message.to_owned(),
    }
}

/// 1-based line and character column of a byte offset.
pub(crate) fn line_column(text: &str, offset: usize) -> (usize, usize) {
    let mut offset = offset.min(text.len());
    while !text.is_char_boundary(offset) {
        offset -= 1;
    }
    let before = &text[..offset];
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |p| p + 1);
    (line, before[line_start..].chars().count() + 1)
}

/// What an ASCII byte may be in an XML name: 2 where it may start one (letters, `_ :`), 1
/// where it may only follow (digits, `- .`), 0 where it may not appear. Non-ASCII bytes are
/// 0 here and decided on the decoded characters.
pub(crate) const NAME_BYTES: [u8; 128] = {
    let mut table = [0u8; 128];
    let mut b = 0;
    while b < 128 {
        let c = b as u8;
        table[b] = if c.is_ascii_alphabetic() || c == b'_' || c == b':' {
            2
        } else if c.is_ascii_digit() || c == b'-' || c == b'.' {
            1
        } else {
            0
        };
        b += 1;
    }
    table
};

/// Whether `name` is an XML name (letters, digits, `_ - . :`, not starting with a digit).
fn is_xml_name(name: &str) -> bool {
    // Names are almost always ASCII: a table lookup a byte, without decoding characters.
    if let Some((&first, rest)) = name.as_bytes().split_first() {
        if name.is_ascii() {
            return NAME_BYTES[usize::from(first)] == 2
                && rest.iter().all(|b| NAME_BYTES[usize::from(*b)] != 0);
        }
    }
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_alphabetic() || c == '_' || c == ':')
        && chars.all(|c| c.is_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'))
}

/// Parses a whole document into its root element.
pub fn parse(bytes: &[u8], limits: Limits) -> Result<Element, XmlError> {
    if bytes.len() > limits.max_bytes {
        return Err(error_at_start(
            "X0002",
            &format!(
                "document is {} bytes; the limit is {}",
                bytes.len(),
                limits.max_bytes
            ),
        ));
    }
    let text = decode(bytes)?;
    TreeBuilder {
        text: &text,
        limits,
        stack: Vec::new(),
        children: Vec::new(),
        root: None,
        elements: 0,
        counted: (0, 1),
    }
    .run()
}

struct TreeBuilder<'a> {
    text: &'a str,
    limits: Limits,
    /// The open elements, each with where its children start in `children`.
    stack: Vec<(Element, usize)>,
    /// The children of every open element, in document order: an element's are moved out
    /// in one piece when it closes, into a vector of their exact number (pushing onto each
    /// element's own vector grew it a doubling at a time, moving the elements each time).
    children: Vec<Element>,
    root: Option<Element>,
    elements: usize,
    /// The line at an offset already counted to: elements come in document order, so each
    /// line number counts only the newlines since the last one (not from the start, which
    /// made reading quadratic in the document's length).
    counted: (usize, usize),
}

impl TreeBuilder<'_> {
    fn error(&self, code: &'static str, offset: u64, message: impl Into<String>) -> XmlError {
        let (line, column) = line_column(self.text, usize::try_from(offset).unwrap_or(usize::MAX));
        XmlError {
            code,
            line,
            column,
            message: message.into(),
        }
    }

    /// The 1-based line of `offset`, counting on from the last offset asked for.
    fn line_at(&mut self, offset: usize) -> usize {
        let mut offset = offset.min(self.text.len());
        while !self.text.is_char_boundary(offset) {
            offset -= 1;
        }
        let (from, line) = self.counted;
        let line = if offset >= from {
            line + self.text.as_bytes()[from..offset]
                .iter()
                .filter(|b| **b == b'\n')
                .count()
        } else {
            line_column(self.text, offset).0
        };
        self.counted = (offset, line);
        line
    }

    fn run(mut self) -> Result<Element, XmlError> {
        let mut reader = Reader::from_str(self.text);
        reader.config_mut().check_end_names = true;
        reader.config_mut().check_comments = true;
        loop {
            let start = reader.buffer_position();
            let event = reader.read_event().map_err(|e| {
                self.error(
                    "X0001",
                    reader.error_position(),
                    format!("not well-formed XML: {e}"),
                )
            })?;
            match event {
                Event::Eof => break,
                Event::DocType(_) => {
                    return Err(self.error(
                        "X0003",
                        start,
                        "document type declarations are not accepted",
                    ))
                }
                Event::Decl(_) | Event::PI(_) | Event::Comment(_) => {
                    if self.root.is_some() && matches!(event, Event::Decl(_)) {
                        return Err(self.error(
                            "X0001",
                            start,
                            "content after the document element",
                        ));
                    }
                }
                Event::Start(tag) | Event::Empty(tag) if self.root.is_some() => {
                    let _ = tag;
                    return Err(self.error("X0001", start, "content after the document element"));
                }
                Event::Start(tag) => {
                    let element = self.open(&tag, start)?;
                    self.stack.push((element, self.children.len()));
                }
                Event::Empty(tag) => {
                    let element = self.open(&tag, start)?;
                    self.close(element);
                }
                Event::End(_) => {
                    let (mut element, first) = self
                        .stack
                        .pop()
                        .ok_or_else(|| self.error("X0001", start, "unexpected end tag"))?;
                    element.children = self.children.split_off(first);
                    self.close(element);
                }
                // Whitespace before an element's first text (or outside the document element)
                // would be trimmed away: indentation is skipped unread.
                Event::Text(text)
                    if self.stack.last().is_none_or(|open| open.0.text.is_empty())
                        && text.iter().all(u8::is_ascii_whitespace) => {}
                Event::Text(text) => {
                    let value = text.unescape().map_err(|e| {
                        self.error(
                            "X0001",
                            start,
                            format!("bad character or entity reference: {e}"),
                        )
                    })?;
                    self.text_content(&value, start)?;
                }
                Event::CData(data) => {
                    let value = std::str::from_utf8(data.as_ref())
                        .map_err(|_| self.error("X0005", start, "invalid UTF-8 in CDATA"))?
                        .to_owned();
                    self.text_content(&value, start)?;
                }
            }
        }
        if let Some((open, _)) = self.stack.last() {
            let offset = self.text.len() as u64;
            return Err(self.error(
                "X0001",
                offset,
                format!("element <{}> is not closed", open.name),
            ));
        }
        self.root
            .ok_or_else(|| error_at_start("X0006", "no document element"))
    }

    fn open(
        &mut self,
        tag: &quick_xml::events::BytesStart<'_>,
        offset: u64,
    ) -> Result<Element, XmlError> {
        let raw = tag.name().into_inner();
        let qualified = std::str::from_utf8(raw)
            .map_err(|_| self.error("X0005", offset, "invalid UTF-8 in a name"))?;
        if !is_xml_name(qualified) {
            return Err(self.error(
                "X0001",
                offset,
                format!("not well-formed XML: invalid element name {qualified:?}"),
            ));
        }
        self.elements += 1;
        if self.elements > self.limits.max_elements {
            return Err(self.error(
                "X0004",
                offset,
                format!("more than {} elements", self.limits.max_elements),
            ));
        }
        if self.stack.len() >= self.limits.max_depth {
            return Err(self.error(
                "X0004",
                offset,
                format!("nesting deeper than {}", self.limits.max_depth),
            ));
        }
        // The prefix ends at the first colon, an ASCII byte: found without decoding. A name
        // of up to 24 bytes (nearly every one) is kept inline, not allocated.
        let name = CompactString::from(
            raw.iter()
                .position(|b| *b == b':')
                .map_or(qualified, |colon| &qualified[colon + 1..]),
        );
        let mut attributes = Vec::new();
        for attribute in tag.attributes() {
            let attribute = attribute.map_err(|e| {
                self.error(
                    "X0001",
                    offset,
                    format!("not well-formed XML: bad attribute: {e}"),
                )
            })?;
            let key = String::from_utf8_lossy(attribute.key.as_ref()).into_owned();
            let value = attribute
                .unescape_value()
                .map_err(|e| self.error("X0001", offset, format!("bad attribute value: {e}")))?;
            attributes.push((key, value.into_owned()));
        }
        let line = self.line_at(usize::try_from(offset).unwrap_or(usize::MAX));
        Ok(Element {
            name,
            attributes,
            line,
            ..Element::default()
        })
    }

    fn close(&mut self, mut element: Element) {
        // Most elements hold no text or only their value: copy only what needs trimming.
        let trimmed = element.text.trim();
        if trimmed.len() != element.text.len() {
            element.text = trimmed.into();
        }
        if self.stack.is_empty() {
            self.root = Some(element);
        } else {
            self.children.push(element);
        }
    }

    fn text_content(&mut self, value: &str, offset: u64) -> Result<(), XmlError> {
        match self.stack.last_mut() {
            Some((open, _)) => {
                open.text.push_str(value);
                Ok(())
            }
            None if value.trim().is_empty() => Ok(()),
            None if self.root.is_some() => {
                Err(self.error("X0001", offset, "content after the document element"))
            }
            None => Err(self.error("X0001", offset, "text before the document element")),
        }
    }
}

/// Escapes text for element content and attribute values.
pub fn escape(text: &str) -> std::borrow::Cow<'_, str> {
    quick_xml::escape::escape(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(input: &str) -> String {
        parse(input.as_bytes(), Limits::default())
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn reads_a_tree() {
        let root = parse(
            "<?xml version=\"1.0\"?>\n<a x=\"1\"><b> t&amp;u </b><c/></a>".as_bytes(),
            Limits::default(),
        )
        .unwrap();
        assert_eq!(root.name, "a");
        assert_eq!(root.attribute("x"), Some("1"));
        assert_eq!(root.child("b").unwrap().text, "t&u");
        assert_eq!(root.children.len(), 2);
    }

    #[test]
    fn refuses_hostile_input() {
        assert!(
            error("<!DOCTYPE a [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><a>&x;</a>")
                .starts_with("X0003")
        );
        assert!(error("<a>&x;</a>").starts_with("X0001"));
        let deep = "<a>".repeat(40) + &"</a>".repeat(40);
        assert!(error(&deep).starts_with("X0004"));
        let big = vec![b' '; 9 * 1024 * 1024];
        assert!(parse(&big, Limits::default()).unwrap_err().code == "X0002");
        let many = format!("<a>{}</a>", "<b/>".repeat(10));
        let limits = Limits {
            max_elements: 5,
            ..Limits::default()
        };
        assert_eq!(parse(many.as_bytes(), limits).unwrap_err().code, "X0004");
    }

    #[test]
    fn locates_well_formedness_errors() {
        assert_eq!(error("<a>\n  <b>\n</a>"), "X0001: not well-formed XML: ill-formed document: expected `</b>`, but `</a>` was found at line 3, column 1");
        assert!(error("<a/>\n<b/>").contains("content after the document element at line 2"));
        assert!(error("<a>\n<b/ >\n</a>").contains("line 2"));
        assert!(error("<a>").contains("not closed"));
        assert!(error("").starts_with("X0006"));
        assert!(error("<a>x</a>trailing").contains("content after the document element"));
    }

    #[test]
    fn decodes_gb18030() {
        let (bytes, _, _) =
            encoding_rs::GB18030.encode("<?xml version=\"1.0\" encoding=\"GB2312\"?><a>海关</a>");
        let root = parse(&bytes, Limits::default()).unwrap();
        assert_eq!(root.text, "海关");
        assert_eq!(
            parse(b"<a>\xff</a>", Limits::default()).unwrap_err().code,
            "X0005"
        );
    }
}
