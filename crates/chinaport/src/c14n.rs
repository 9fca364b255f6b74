//! Canonical XML 1.0, inclusive, without comments (W3C REC-xml-c14n-20010315): the byte form
//! that XML-DSig digests and signs (`http://www.w3.org/TR/2001/REC-xml-c14n-20010315`).
//!
//! [`canonicalize`] reads a document and writes its canonical form in one pass, with an
//! explicit element stack (no recursion, so no stack overflow on deep input) and time linear in
//! the input. It has its own small scanner rather than the event reader behind
//! [`crate::xml::parse`] because canonical form depends on details a general reader smooths
//! over: which characters were literal and which came from references (attribute-value
//! normalisation turns a literal tab into a space but keeps `&#9;` a tab), the exact PI data,
//! and what is or is not well-formed (a signature over something a validator would refuse is
//! worthless). Every rule is then visible here.
//!
//! Hardening is that of [`crate::xml`]: any DOCTYPE is refused (`X0003`), so there are no
//! entities beyond the five predefined ones and no default attributes; size, depth and element
//! count are bounded by [`Limits`]; errors carry a stable code and a line and column; no input
//! makes it panic. Input is decoded as [`crate::xml::decode`] does (UTF-8 with or without BOM,
//! or GB2312/GBK/GB18030 as declared); output is always UTF-8.
//!
//! What the W3C rules come to (section 2 of the recommendation, checked against
//! `xmllint --c14n` by the tests): line ends become LF before anything else; no XML
//! declaration or DTD; comments dropped; whitespace outside the document element dropped; a PI
//! before it is followed by LF, one after it preceded by LF; references replaced and CDATA
//! sections replaced by their text, then `& < >` and CR escaped in text and `& < "` TAB LF CR
//! in attribute values; empty elements written as start-end pairs; namespace declarations
//! written only where the nearest written ancestor does not already have the same binding,
//! sorted by prefix and before the attributes, which are sorted by (namespace URI, local name).

use std::borrow::Cow;
use std::collections::HashMap;

use crate::xml::{decode, line_column, Limits, XmlError};

/// The namespace the `xml` prefix is bound to, implicitly and always.
const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";
/// The namespace of namespace declarations themselves; no prefix may be bound to it.
const XMLNS_NS: &str = "http://www.w3.org/2000/xmlns/";

/// Which part of a document to canonicalise.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope<'a> {
    /// The whole document.
    Document,
    /// The whole document minus the first element with this (namespace URI, local name) and
    /// its subtree: the enveloped-signature transform (`URI=""` plus enveloped-signature),
    /// where the element is `ds:Signature` (namespace `http://www.w3.org/2000/09/xmldsig#`,
    /// local name `Signature`). The text around the element stays. If there is no such
    /// element, the whole document is canonicalised.
    Without(&'a str, &'a str),
    /// Only the first element with this (namespace URI, local name) and its subtree, as a
    /// document subset: inclusive C14N writes on this apex element every namespace in scope
    /// from its ancestors (so `ds:SignedInfo` inside a `ds:Signature` inside a
    /// `ceb:CEB621Message` gets both `xmlns:ceb` and `xmlns:ds`), plus the attributes in the
    /// `xml` namespace (`xml:lang`, `xml:space`, ...) it inherits from its ancestors and does
    /// not override. If there is no such element the result is an `X0007` error.
    Only(&'a str, &'a str),
}

/// Canonicalises a document (or the part `scope` names) to Canonical XML 1.0 without
/// comments, as UTF-8 bytes.
///
/// Errors: `X0001` not well-formed or not namespace-well-formed, `X0002` larger than
/// `limits.max_bytes`, `X0003` a DOCTYPE, `X0004` deeper than `limits.max_depth` or more than
/// `limits.max_elements` elements, `X0005` bad encoding or an encoding that is not supported,
/// `X0006` no document element, `X0007` the element [`Scope::Only`] names is not there,
/// `X0008` a relative namespace URI, which the recommendation says canonicalisation must
/// refuse (their meaning is implementation-specific, so no canonical form exists).
pub fn canonicalize(bytes: &[u8], scope: Scope<'_>, limits: Limits) -> Result<Vec<u8>, XmlError> {
    if bytes.len() > limits.max_bytes {
        return Err(too_large(bytes.len(), limits));
    }
    let decoded = decode(bytes)?;
    // An XML processor normalises line ends before parsing (XML 1.0 section 2.11), and
    // canonical form is defined on what the processor sees, so this comes first.
    let text = normalize_line_ends(&decoded);
    let (mode, target) = match scope {
        Scope::Document => (Mode::Document, ("", "")),
        Scope::Without(ns, local) => (Mode::Without, (ns, local)),
        Scope::Only(ns, local) => (Mode::Only, (ns, local)),
    };
    let mut canon = Canon::new(&text, limits, mode, target, bytes.is_ascii());
    let outcome = canon.run();
    checked(&text, outcome).map(|()| canon.out)
}

/// What [`canonicalize_enveloped`] makes of a signed document in one pass.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Enveloped {
    /// The document without its first `Signature` element, as
    /// [`Scope::Without`] makes it: what the enveloped-signature reference digests.
    pub content: Vec<u8>,
    /// That element alone, as [`Scope::Only`] makes it; `None` when there is none.
    pub signature: Option<Vec<u8>>,
    /// The first `SignedInfo` element inside it, as [`Scope::Only`] makes it (the same bytes
    /// as from the whole document, since it inherits the same context); `None` when the
    /// signature holds none.
    pub signed_info: Option<Vec<u8>>,
    /// How many `Signature` elements the document holds, anywhere.
    pub signatures: usize,
    /// How many `SignedInfo` elements the document holds, anywhere.
    pub signed_infos: usize,
    /// Whether the first `Signature` is a child of the document element.
    pub signature_at_top: bool,
}

/// Canonicalises a signed document for checking an enveloped signature, in one pass over it:
/// the content without the first `{ns}Signature`, that element alone and the first
/// `{ns}SignedInfo` within it (each exactly as [`canonicalize`] makes it), and how many of
/// each the document holds. The signature's two forms are made from its own span of the
/// text with the namespaces and `xml:*` attributes in scope there, so the document is read
/// once, not once per form. Errors are [`canonicalize`]'s.
pub fn canonicalize_enveloped(
    bytes: &[u8],
    ns: &str,
    limits: Limits,
) -> Result<Enveloped, XmlError> {
    if bytes.len() > limits.max_bytes {
        return Err(too_large(bytes.len(), limits));
    }
    let decoded = decode(bytes)?;
    let text = normalize_line_ends(&decoded);
    let mut canon = Canon::new(
        &text,
        limits,
        Mode::Without,
        (ns, "Signature"),
        bytes.is_ascii(),
    );
    canon.census = Some(Census {
        also: "SignedInfo",
        ..Census::default()
    });
    let outcome = canon.run();
    checked(&text, outcome)?;
    let census = canon.census.take().unwrap_or_default();
    let mut enveloped = Enveloped {
        content: std::mem::take(&mut canon.out),
        signature: None,
        signed_info: None,
        signatures: census.targets,
        signed_infos: census.also_seen,
        signature_at_top: census.depth == Some(1),
    };
    if let (Some((start, end)), Some(context)) = (census.span, census.context.as_ref()) {
        let part = text.get(start..end).unwrap_or("");
        // The span was read without fault as part of the document; read alone, with the
        // context it had there, it is the same element.
        let subset = |local| -> Result<Option<Vec<u8>>, XmlError> {
            let mut sub = Canon::new(part, limits, Mode::Only, (ns, local), true);
            sub.seed(context);
            match sub.run() {
                Ok(()) => Ok(Some(sub.out)),
                Err(fail) if fail.code == "X0007" => Ok(None),
                Err(fail) => Err(to_error(
                    &text,
                    Fail {
                        offset: start + fail.offset,
                        ..fail
                    },
                )),
            }
        };
        enveloped.signature = subset("Signature")?;
        enveloped.signed_info = subset("SignedInfo")?;
    }
    Ok(enveloped)
}

fn too_large(len: usize, limits: Limits) -> XmlError {
    XmlError {
        code: "X0002",
        line: 1,
        column: 1,
        message: format!("document is {len} bytes; the limit is {}", limits.max_bytes),
    }
}

/// The scanner's outcome, with characters outside XML's Char production (checked in a
/// separate pass) reported when they come first in the document, as a reader would find them.
fn checked(text: &str, outcome: Res<()>) -> Result<(), XmlError> {
    let bad_char = first_bad_char(text)
        .filter(|(at, _)| outcome.as_ref().err().is_none_or(|f| *at < f.offset));
    if let Some((at, c)) = bad_char {
        return Err(to_error(
            text,
            Fail::new(
                "X0001",
                at,
                format!(
                    "not well-formed XML: character U+{:04X} is not allowed",
                    u32::from(c)
                ),
            ),
        ));
    }
    outcome.map_err(|fail| to_error(text, fail))
}

/// What an enveloped pass counts and keeps besides the content.
#[derive(Default)]
struct Census<'t> {
    /// The local name (in the target's namespace) counted besides the target's.
    also: &'static str,
    /// Elements like the target met, anywhere.
    targets: usize,
    /// Elements named `also` met, anywhere.
    also_seen: usize,
    /// Nesting depth of the first target (1: a child of the document element).
    depth: Option<usize>,
    /// Byte span of the first target in the text, start tag to end tag.
    span: Option<(usize, usize)>,
    /// The namespaces in scope around the first target and its ancestors' `xml:*`
    /// attributes, outermost first.
    context: Option<Context<'t>>,
}

/// What a subtree inherits from where it stands: namespace bindings and `xml:*` attributes.
type Context<'t> = (Vec<(&'t str, Cow<'t, str>)>, Vec<XmlAttr<'t>>);

/// `(qualified name, local name, value)` of an `xml:*` attribute.
type XmlAttr<'t> = (&'t str, &'t str, Cow<'t, str>);

/// A problem at a byte offset of the line-end-normalised text; made an [`XmlError`] (with a
/// line and column) only when reported, so the scanner never counts lines.
struct Fail {
    code: &'static str,
    offset: usize,
    message: String,
}

impl Fail {
    fn new(code: &'static str, offset: usize, message: impl Into<String>) -> Self {
        Self {
            code,
            offset,
            message: message.into(),
        }
    }

    /// The usual case: not well-formed, at `offset`.
    fn syntax(offset: usize, message: impl std::fmt::Display) -> Self {
        Self::new("X0001", offset, format!("not well-formed XML: {message}"))
    }
}

fn to_error(text: &str, fail: Fail) -> XmlError {
    let (line, column) = line_column(text, fail.offset);
    XmlError {
        code: fail.code,
        line,
        column,
        message: fail.message,
    }
}

type Res<T> = Result<T, Fail>;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Document,
    Without,
    Only,
}

/// An open element.
struct Frame<'t> {
    /// Its qualified name, as written, for matching the end tag and writing it.
    qname: &'t str,
    /// Whether it is written.
    output: bool,
    /// Where its namespace declarations start in `Canon::declared`.
    ns_start: usize,
    /// Where its `xml:*` attributes start in `Canon::xml_attrs`.
    xml_start: usize,
    /// Whether it is the element the scope names (whose end a census records).
    target: bool,
}

/// An attribute as read from a start tag, its value already normalised.
struct RawAttr<'t> {
    qname: &'t str,
    value: Cow<'t, str>,
    offset: usize,
}

/// An attribute with its name resolved, ready to sort and write.
struct Attr<'t> {
    ns: Cow<'t, str>,
    local: &'t str,
    qname: &'t str,
    value: Cow<'t, str>,
}

struct Canon<'t, 's> {
    /// The whole document, line ends normalised.
    text: &'t str,
    /// Byte offset of the scanner in `text`.
    pos: usize,
    limits: Limits,
    mode: Mode,
    /// The (namespace URI, local name) of the element `Without` or `Only` names.
    target: (&'s str, &'s str),
    /// Whether that element has been met; only the first counts.
    found: bool,
    /// Whether the input bytes were all ASCII (then any ASCII-compatible declared encoding
    /// reads the same).
    ascii_only: bool,
    out: Vec<u8>,
    /// Prefix (`""` for the default namespace) to the stack of its bindings in scope, the
    /// innermost last: lookups are O(1) whatever the nesting or number of declarations.
    bindings: HashMap<&'t str, Vec<Cow<'t, str>>>,
    /// The prefix last resolved and its URI, while no binding has changed since: nearly
    /// every name in a document has the prefix of the one before, and this answers it
    /// without hashing.
    last: Option<(&'t str, Cow<'t, str>)>,
    /// Prefixes declared by the open elements, in order, to unbind them at their end tags.
    declared: Vec<&'t str>,
    /// The `xml:*` attributes of the open elements, kept only while an `Only` target (or a
    /// census's) may still come: its apex inherits them.
    xml_attrs: Vec<XmlAttr<'t>>,
    frames: Vec<Frame<'t>>,
    elements: usize,
    root_seen: bool,
    root_closed: bool,
    /// Reused for each start tag's attributes.
    raw: Vec<RawAttr<'t>>,
    /// What an enveloped pass also records ([`canonicalize_enveloped`]).
    census: Option<Census<'t>>,
}

impl<'t, 's> Canon<'t, 's> {
    fn new(
        text: &'t str,
        limits: Limits,
        mode: Mode,
        target: (&'s str, &'s str),
        ascii_only: bool,
    ) -> Self {
        Canon {
            text,
            pos: 0,
            limits,
            mode,
            target,
            found: false,
            ascii_only,
            out: Vec::with_capacity(text.len()),
            bindings: HashMap::new(),
            last: None,
            declared: Vec::new(),
            xml_attrs: Vec::new(),
            frames: Vec::new(),
            elements: 0,
            root_seen: false,
            root_closed: false,
            raw: Vec::new(),
            census: None,
        }
    }

    /// Reads a subtree as if it stood where `context` was taken: its bindings in scope, its
    /// ancestors' `xml:*` attributes inherited.
    fn seed(&mut self, context: &Context<'t>) {
        self.last = None;
        for (prefix, uri) in &context.0 {
            self.bindings.entry(prefix).or_default().push(uri.clone());
        }
        self.xml_attrs.clone_from(&context.1);
    }

    /// The bindings in scope around the element just opened (its own declarations, the
    /// last `own` of [`Canon::declared`], left out) and its ancestors' `xml:*` attributes.
    fn context(&self, own: usize) -> Context<'t> {
        let own = self.declared.get(own..).unwrap_or(&[]);
        let bindings = self
            .bindings
            .iter()
            .filter_map(|(prefix, stack)| {
                let skip = usize::from(own.contains(prefix));
                let uri = stack
                    .len()
                    .checked_sub(1 + skip)
                    .and_then(|i| stack.get(i))?;
                Some((*prefix, uri.clone()))
            })
            .collect();
        (bindings, self.xml_attrs.clone())
    }

    fn rest(&self) -> &'t str {
        self.text.get(self.pos..).unwrap_or("")
    }

    fn starts(&self, prefix: &str) -> bool {
        self.rest().starts_with(prefix)
    }

    fn peek(&self) -> Option<u8> {
        self.text.as_bytes().get(self.pos).copied()
    }

    /// Skips XML whitespace; whether there was any.
    fn skip_ws(&mut self) -> bool {
        let n = self.rest().bytes().take_while(|b| is_ws(*b)).count();
        self.pos += n;
        n > 0
    }

    fn expect(&mut self, token: &str, what: &str) -> Res<()> {
        if self.starts(token) {
            self.pos += token.len();
            Ok(())
        } else {
            Err(Fail::syntax(self.pos, format!("expected {what}")))
        }
    }

    /// Reads an XML Name.
    fn name(&mut self) -> Res<&'t str> {
        let rest = self.rest();
        // Names are almost always ASCII: bytes first, characters only past the first
        // non-ASCII byte.
        let bytes = rest.as_bytes();
        let class = |i: usize| {
            bytes
                .get(i)
                .and_then(|b| crate::xml::NAME_BYTES.get(usize::from(*b)))
                .copied()
                .unwrap_or(0)
        };
        let mut end = 0;
        if class(0) == 2 {
            end = 1;
            while class(end) != 0 {
                end += 1;
            }
        }
        if rest.as_bytes().get(end).is_some_and(|b| !b.is_ascii()) {
            let start = end;
            for (i, c) in rest.get(start..).unwrap_or("").char_indices() {
                let ok = if start + i == 0 {
                    is_name_start_char(c)
                } else {
                    is_name_char(c)
                };
                if !ok {
                    break;
                }
                end = start + i + c.len_utf8();
            }
        }
        match rest.get(..end) {
            Some(name) if !name.is_empty() => {
                self.pos += end;
                Ok(name)
            }
            _ => Err(Fail::syntax(self.pos, "expected a name")),
        }
    }

    /// Whether content at the current point is written: inside a written element, or at top
    /// level when the whole document is wanted.
    fn emitting(&self) -> bool {
        self.frames
            .last()
            .map_or(self.mode != Mode::Only, |f| f.output)
    }

    fn run(&mut self) -> Res<()> {
        self.xml_declaration()?;
        while self.pos < self.text.len() {
            if self.frames.is_empty() {
                self.misc()?;
            } else {
                self.content()?;
            }
        }
        if let Some(open) = self.frames.last() {
            return Err(Fail::syntax(
                self.text.len(),
                format!("element <{}> is not closed", open.qname),
            ));
        }
        if !self.root_seen {
            return Err(Fail::new("X0006", 0, "no document element"));
        }
        if self.mode == Mode::Only && !self.found {
            return Err(Fail::new(
                "X0007",
                0,
                format!(
                    "element {{{}}}{} to canonicalise is not in the document",
                    self.target.0, self.target.1
                ),
            ));
        }
        Ok(())
    }

    /// The XML declaration, if the document starts with one: checked, then dropped.
    fn xml_declaration(&mut self) -> Res<()> {
        if !self.text.starts_with("<?xml")
            || !self.text.as_bytes().get(5).copied().is_some_and(is_ws)
        {
            // `<?xml-stylesheet ...?>` is a PI; `<?xml?>` is refused by `pi`.
            return Ok(());
        }
        self.pos = 5;
        // Pseudo-attributes in their fixed order: version, then encoding, then standalone.
        let mut next = 0;
        loop {
            let had_ws = self.skip_ws();
            if self.starts("?>") {
                self.pos += 2;
                break;
            }
            if !had_ws {
                return Err(Fail::syntax(self.pos, "bad XML declaration"));
            }
            let at = self.pos;
            let name = self.name()?;
            self.skip_ws();
            self.expect("=", "'=' in the XML declaration")?;
            self.skip_ws();
            let value = self.declaration_value()?;
            let ok = match name {
                "version" if next == 0 => {
                    next = 1;
                    value
                        .strip_prefix("1.")
                        .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
                }
                "encoding" if next == 1 => {
                    next = 2;
                    self.check_encoding(value, at)?;
                    true
                }
                "standalone" if (1..=2).contains(&next) => {
                    next = 3;
                    matches!(value, "yes" | "no")
                }
                _ => false,
            };
            if !ok {
                return Err(Fail::syntax(at, "bad XML declaration"));
            }
        }
        if next == 0 {
            return Err(Fail::syntax(0, "XML declaration without a version"));
        }
        Ok(())
    }

    fn declaration_value(&mut self) -> Res<&'t str> {
        let at = self.pos;
        let quote = match self.peek() {
            Some(q @ (b'"' | b'\'')) => q,
            _ => return Err(Fail::syntax(at, "expected a quoted value")),
        };
        let rest = self.text.get(at + 1..).unwrap_or("");
        let end = rest
            .bytes()
            .position(|b| b == quote)
            .ok_or_else(|| Fail::syntax(at, "unterminated value"))?;
        self.pos = at + 1 + end + 1;
        Ok(rest.get(..end).unwrap_or(""))
    }

    /// The input was decoded as UTF-8 unless it declared a GB encoding; any other declared
    /// encoding reads the same only if the bytes are ASCII. Refusing beats mis-reading: a
    /// digest over wrongly decoded text would never verify, and nobody could tell why.
    fn check_encoding(&self, name: &str, at: usize) -> Res<()> {
        let valid = name.bytes().next().is_some_and(|b| b.is_ascii_alphabetic())
            && name
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'));
        if !valid {
            return Err(Fail::syntax(at, "bad encoding name"));
        }
        let lower = name.to_ascii_lowercase();
        let decoded_right = matches!(
            lower.as_str(),
            "utf-8" | "utf8" | "gb2312" | "gbk" | "gb18030"
        );
        let wide =
            lower.starts_with("utf-16") || lower.starts_with("utf-32") || lower.starts_with("ucs");
        if wide || (!decoded_right && !self.ascii_only) {
            return Err(Fail::new(
                "X0005",
                at,
                format!("encoding {name} is not supported"),
            ));
        }
        Ok(())
    }

    /// Outside the document element: whitespace, comments and PIs only, and the element.
    fn misc(&mut self) -> Res<()> {
        if self.skip_ws() {
            return Ok(());
        }
        if self.starts("<?") {
            return self.pi();
        }
        if self.starts("<!--") {
            return self.comment();
        }
        if self.starts("<!DOCTYPE") {
            return Err(doctype(self.pos));
        }
        if self.root_seen {
            return Err(Fail::syntax(self.pos, "content after the document element"));
        }
        if self.starts("<") && !self.starts("</") && !self.starts("<!") {
            return self.start_tag();
        }
        Err(Fail::syntax(self.pos, "text before the document element"))
    }

    /// Inside an element.
    fn content(&mut self) -> Res<()> {
        match self.peek() {
            Some(b'<') => {
                if self.starts("</") {
                    self.end_tag()
                } else if self.starts("<?") {
                    self.pi()
                } else if self.starts("<!--") {
                    self.comment()
                } else if self.starts("<![CDATA[") {
                    self.cdata()
                } else if self.starts("<!DOCTYPE") {
                    Err(doctype(self.pos))
                } else if self.starts("<!") {
                    Err(Fail::syntax(self.pos, "unexpected markup declaration"))
                } else {
                    self.start_tag()
                }
            }
            Some(b'&') => {
                let c = self.reference()?;
                if self.emitting() {
                    let mut buf = [0; 4];
                    escape_text(c.encode_utf8(&mut buf), &mut self.out);
                }
                Ok(())
            }
            _ => self.char_data(),
        }
    }

    fn char_data(&mut self) -> Res<()> {
        let rest = self.rest();
        let len = rest
            .bytes()
            .position(|b| b == b'<' || b == b'&')
            .unwrap_or(rest.len());
        let run = rest.get(..len).unwrap_or("");
        // Most runs hold no ']': a byte scan spares them building a substring searcher.
        if let Some(i) = run
            .as_bytes()
            .contains(&b']')
            .then(|| run.find("]]>"))
            .flatten()
        {
            return Err(Fail::syntax(self.pos + i, "']]>' in text"));
        }
        if self.emitting() {
            escape_text(run, &mut self.out);
        }
        self.pos += len;
        Ok(())
    }

    /// A character or predefined entity reference, at `&`: the character it stands for.
    fn reference(&mut self) -> Res<char> {
        let at = self.pos;
        self.pos += 1;
        if self.starts("#") {
            self.pos += 1;
            let hex = self.starts("x");
            if hex {
                self.pos += 1;
            }
            let radix = if hex { 16 } else { 10 };
            let digits = self
                .rest()
                .bytes()
                .take_while(|b| b.is_ascii_digit() || (hex && b.is_ascii_hexdigit()))
                .count();
            let value = self
                .rest()
                .get(..digits)
                .filter(|d| !d.is_empty())
                .and_then(|d| u32::from_str_radix(d, radix).ok())
                .and_then(char::from_u32)
                .filter(|c| is_xml_char(*c));
            self.pos += digits;
            let c = value.ok_or_else(|| Fail::syntax(at, "bad character reference"))?;
            self.expect(";", "';' after a character reference")?;
            return Ok(c);
        }
        let name = self.name().map_err(|_| Fail::syntax(at, "bare '&'"))?;
        self.expect(";", "';' after an entity reference")?;
        match name {
            "lt" => Ok('<'),
            "gt" => Ok('>'),
            "amp" => Ok('&'),
            "apos" => Ok('\''),
            "quot" => Ok('"'),
            _ => Err(Fail::syntax(
                at,
                format!("undeclared entity &{name}; (only the five predefined ones exist without a DTD)"),
            )),
        }
    }

    /// A comment, at `<!--`: checked and dropped.
    fn comment(&mut self) -> Res<()> {
        let at = self.pos;
        self.pos += 4;
        let rest = self.rest();
        let dashes = rest
            .find("--")
            .ok_or_else(|| Fail::syntax(at, "unterminated comment"))?;
        if rest.as_bytes().get(dashes + 2) != Some(&b'>') {
            return Err(Fail::syntax(self.pos + dashes, "'--' in a comment"));
        }
        self.pos += dashes + 3;
        Ok(())
    }

    /// A CDATA section, at `<![CDATA[`: written as escaped text.
    fn cdata(&mut self) -> Res<()> {
        let at = self.pos;
        self.pos += 9;
        let rest = self.rest();
        let end = rest
            .find("]]>")
            .ok_or_else(|| Fail::syntax(at, "unterminated CDATA section"))?;
        if self.emitting() {
            escape_text(rest.get(..end).unwrap_or(""), &mut self.out);
        }
        self.pos += end + 3;
        Ok(())
    }

    /// A processing instruction, at `<?`: kept, the whitespace after its target dropped.
    fn pi(&mut self) -> Res<()> {
        let at = self.pos;
        self.pos += 2;
        let target = self.name()?;
        if target.eq_ignore_ascii_case("xml") {
            return Err(Fail::syntax(
                at,
                "an XML declaration is allowed only at the very start (and PI target 'xml' is reserved)",
            ));
        }
        let data = if self.starts("?>") {
            ""
        } else {
            if !self.skip_ws() {
                return Err(Fail::syntax(
                    self.pos,
                    "expected whitespace after the PI target",
                ));
            }
            let rest = self.rest();
            let end = rest
                .find("?>")
                .ok_or_else(|| Fail::syntax(at, "unterminated processing instruction"))?;
            self.pos += end;
            rest.get(..end).unwrap_or("")
        };
        self.pos += 2;
        if !self.emitting() {
            return Ok(());
        }
        let top_level = self.frames.is_empty();
        if top_level && self.root_closed {
            self.out.push(b'\n');
        }
        self.out.extend_from_slice(b"<?");
        self.out.extend_from_slice(target.as_bytes());
        if !data.is_empty() {
            self.out.push(b' ');
            self.out.extend_from_slice(data.as_bytes());
        }
        self.out.extend_from_slice(b"?>");
        if top_level && !self.root_seen {
            self.out.push(b'\n');
        }
        Ok(())
    }

    /// A start tag or empty-element tag, at `<`.
    fn start_tag(&mut self) -> Res<()> {
        let at = self.pos;
        self.pos += 1;
        let qname = self.name()?;
        self.elements += 1;
        if self.elements > self.limits.max_elements {
            return Err(Fail::new(
                "X0004",
                at,
                format!("more than {} elements", self.limits.max_elements),
            ));
        }
        if self.frames.len() >= self.limits.max_depth {
            return Err(Fail::new(
                "X0004",
                at,
                format!("nesting deeper than {}", self.limits.max_depth),
            ));
        }
        let mut raw = std::mem::take(&mut self.raw);
        raw.clear();
        let empty = loop {
            let had_ws = self.skip_ws();
            if self.starts("/>") {
                self.pos += 2;
                break true;
            }
            if self.starts(">") {
                self.pos += 1;
                break false;
            }
            if self.pos >= self.text.len() {
                return Err(Fail::syntax(
                    at,
                    format!("start tag <{qname}> is not closed"),
                ));
            }
            if !had_ws {
                return Err(Fail::syntax(
                    self.pos,
                    "expected whitespace, '>' or '/>' in a start tag",
                ));
            }
            let attr_at = self.pos;
            let name = self.name()?;
            self.skip_ws();
            self.expect("=", "'=' after an attribute name")?;
            self.skip_ws();
            let value = self.attribute_value()?;
            raw.push(RawAttr {
                qname: name,
                value,
                offset: attr_at,
            });
        };
        let opened = self.open(qname, at, empty, &raw);
        self.raw = raw;
        opened
    }

    /// An attribute value, at its opening quote, normalised as a non-validating processor
    /// does (XML 1.0 section 3.3.3; without a DTD every attribute is CDATA): each literal
    /// whitespace character becomes a space, references become what they stand for (so
    /// `&#xA;` stays a line feed, to be written back as `&#xA;`).
    fn attribute_value(&mut self) -> Res<Cow<'t, str>> {
        let at = self.pos;
        let quote = match self.peek() {
            Some(q @ (b'"' | b'\'')) => q,
            _ => return Err(Fail::syntax(at, "expected a quoted attribute value")),
        };
        let start = at + 1;
        let rest = self.text.get(start..).unwrap_or("");
        let len = rest
            .bytes()
            .position(|b| b == quote)
            .ok_or_else(|| Fail::syntax(at, "unterminated attribute value"))?;
        let literal = rest.get(..len).unwrap_or("");
        if let Some(lt) = literal.find('<') {
            return Err(Fail::syntax(start + lt, "'<' in an attribute value"));
        }
        let end = start + len;
        if !literal
            .bytes()
            .any(|b| matches!(b, b'&' | b'\t' | b'\n' | b'\r'))
        {
            self.pos = end + 1;
            return Ok(Cow::Borrowed(literal));
        }
        let mut value = String::with_capacity(len);
        self.pos = start;
        while self.pos < end {
            match self.peek() {
                Some(b'&') => {
                    // A reference ends with ';', which is no quote: it cannot run past `end`
                    // and succeed.
                    value.push(self.reference()?);
                }
                Some(b'\t' | b'\n' | b'\r') => {
                    value.push(' ');
                    self.pos += 1;
                }
                _ => {
                    let piece = self.text.get(self.pos..end).unwrap_or("");
                    let n = piece
                        .bytes()
                        .position(|b| matches!(b, b'&' | b'\t' | b'\n' | b'\r'))
                        .unwrap_or(piece.len());
                    value.push_str(piece.get(..n).unwrap_or(""));
                    self.pos += n.max(1);
                }
            }
        }
        if self.pos != end {
            return Err(Fail::syntax(at, "bad attribute value"));
        }
        self.pos = end + 1;
        Ok(Cow::Owned(value))
    }

    /// Resolves a qualified name to (namespace URI, local name). Unprefixed attributes are in
    /// no namespace; unprefixed elements are in the default one.
    fn resolve(
        &mut self,
        qname: &'t str,
        element: bool,
        at: usize,
    ) -> Res<(Cow<'t, str>, &'t str)> {
        let (prefix, local) = split_qname(qname)
            .ok_or_else(|| Fail::syntax(at, format!("{qname:?} is not a valid qualified name")))?;
        match prefix {
            Some("xml") => Ok((Cow::Borrowed(XML_NS), local)),
            Some("xmlns") => Err(Fail::syntax(
                at,
                format!("prefix xmlns is reserved for declarations, not usable in {qname:?}"),
            )),
            Some(prefix) => match &self.last {
                Some((last, uri)) if *last == prefix => Ok((uri.clone(), local)),
                _ => match self.bindings.get(prefix).and_then(|s| s.last()) {
                    Some(uri) => {
                        self.last = Some((prefix, uri.clone()));
                        Ok((uri.clone(), local))
                    }
                    None => Err(Fail::syntax(
                        at,
                        format!("namespace prefix {prefix:?} is not declared"),
                    )),
                },
            },
            None if element => Ok((
                self.bindings
                    .get("")
                    .and_then(|s| s.last())
                    .cloned()
                    .unwrap_or(Cow::Borrowed("")),
                local,
            )),
            None => Ok((Cow::Borrowed(""), local)),
        }
    }

    /// Binds the element's namespaces, resolves its names, decides whether it is written, and
    /// writes its start tag.
    fn open(&mut self, qname: &'t str, at: usize, empty: bool, raw: &[RawAttr<'t>]) -> Res<()> {
        // Namespace declarations, sorted by prefix (the default namespace's "" first): the
        // order to write them in, and duplicates end up adjacent.
        let mut decls: Vec<(&'t str, &Cow<'t, str>, usize)> = Vec::new();
        for a in raw {
            let prefix = if a.qname == "xmlns" {
                Some("")
            } else {
                a.qname.strip_prefix("xmlns:")
            };
            if let Some(prefix) = prefix {
                if prefix.is_empty() && a.qname != "xmlns" || split_qname(a.qname).is_none() {
                    return Err(Fail::syntax(
                        a.offset,
                        format!("bad namespace declaration {:?}", a.qname),
                    ));
                }
                decls.push((prefix, &a.value, a.offset));
            }
        }
        decls.sort_by(|a, b| a.0.cmp(b.0));
        for pair in decls.windows(2) {
            if let [a, b] = pair {
                if a.0 == b.0 {
                    return Err(Fail::syntax(b.2, format!("duplicate attribute {:?}", b.0)));
                }
            }
        }
        let ns_start = self.declared.len();
        if !decls.is_empty() {
            self.last = None;
        }
        for (prefix, uri, offset) in &decls {
            check_binding(prefix, uri, *offset)?;
            self.bindings
                .entry(prefix)
                .or_default()
                .push(Cow::clone(uri));
            self.declared.push(prefix);
        }

        let (ns, local) = self.resolve(qname, true, at)?;
        let mut attrs = Vec::with_capacity(raw.len().saturating_sub(decls.len()));
        for a in raw {
            if a.qname == "xmlns" || a.qname.starts_with("xmlns:") {
                continue;
            }
            let (ns, local) = self.resolve(a.qname, false, a.offset)?;
            attrs.push(Attr {
                ns,
                local,
                qname: a.qname,
                value: a.value.clone(),
            });
        }
        // Canonical attribute order, and duplicates (also `a:x` and `b:x` with a and b bound
        // to the same URI, which namespace well-formedness forbids) end up adjacent.
        attrs.sort_by(|a, b| (a.ns.as_ref(), a.local).cmp(&(b.ns.as_ref(), b.local)));
        for pair in attrs.windows(2) {
            if let [a, b] = pair {
                if a.ns == b.ns && a.local == b.local {
                    return Err(Fail::syntax(
                        at,
                        format!("duplicate attribute {:?}", b.qname),
                    ));
                }
            }
        }

        let like_target = ns == self.target.0 && local == self.target.1;
        let is_target = self.mode != Mode::Document && !self.found && like_target;
        if let Some(census) = self.census.as_mut() {
            census.targets += usize::from(like_target);
            census.also_seen += usize::from(ns == self.target.0 && local == census.also);
        }
        if is_target && self.census.is_some() {
            let context = self.context(ns_start);
            let depth = self.frames.len();
            if let Some(census) = self.census.as_mut() {
                census.depth = Some(depth);
                census.span = Some((at, self.text.len()));
                census.context = Some(context);
            }
        }
        if is_target {
            self.found = true;
        }
        let parent_output = self.frames.last().is_some_and(|f| f.output);
        let output = match self.mode {
            Mode::Document => true,
            Mode::Without => (parent_output || self.frames.is_empty()) && !is_target,
            Mode::Only => parent_output || is_target,
        };
        // The apex of the written part has no written ancestor to inherit from: it carries
        // every namespace in scope (and, for a subset, the inherited xml:* attributes).
        let apex = output && !parent_output;

        if output {
            self.write_start(qname, apex, &decls, &mut attrs);
        }

        let xml_start = self.xml_attrs.len();
        if (self.mode == Mode::Only || self.census.is_some()) && !self.found {
            for a in &attrs {
                if a.ns == XML_NS {
                    self.xml_attrs.push((a.qname, a.local, a.value.clone()));
                }
            }
        }
        self.root_seen = true;
        let frame = Frame {
            qname,
            output,
            ns_start,
            xml_start,
            target: is_target,
        };
        if empty {
            if output {
                self.write_end(qname);
            }
            self.close(&frame);
        } else {
            self.frames.push(frame);
        }
        Ok(())
    }

    fn write_start(
        &mut self,
        qname: &str,
        apex: bool,
        decls: &[(&'t str, &Cow<'t, str>, usize)],
        attrs: &mut Vec<Attr<'t>>,
    ) {
        self.out.push(b'<');
        self.out.extend_from_slice(qname.as_bytes());
        if apex {
            let mut in_scope: Vec<(&str, &str)> = self
                .bindings
                .iter()
                .filter_map(|(prefix, stack)| stack.last().map(|uri| (*prefix, uri.as_ref())))
                .filter(|(prefix, uri)| *prefix != "xml" && !(prefix.is_empty() && uri.is_empty()))
                .collect();
            in_scope.sort_unstable();
            for (prefix, uri) in in_scope {
                write_namespace(&mut self.out, prefix, uri);
            }
        } else {
            for (prefix, uri, _) in decls {
                if *prefix == "xml" {
                    continue;
                }
                // This element's binding is on top of the stack; the parent's (the nearest
                // written ancestor's) is the one below, or none, which for the default
                // namespace means "". Equal means superfluous.
                let parent = self
                    .bindings
                    .get(prefix)
                    .and_then(|stack| stack.len().checked_sub(2).and_then(|i| stack.get(i)))
                    .map_or("", |u| u.as_ref());
                if parent != uri.as_ref() {
                    write_namespace(&mut self.out, prefix, uri);
                }
            }
        }
        if apex && self.mode == Mode::Only {
            self.inherit_xml_attrs(attrs);
        }
        for a in attrs.iter() {
            self.out.push(b' ');
            self.out.extend_from_slice(a.qname.as_bytes());
            self.out.extend_from_slice(b"=\"");
            escape_attr(&a.value, &mut self.out);
            self.out.push(b'"');
        }
        self.out.push(b'>');
    }

    /// Adds to the apex of a subset the `xml:*` attributes of its ancestors (nearest first)
    /// that it does not have itself, and re-sorts (C14N 1.0 section 2.4).
    fn inherit_xml_attrs(&self, attrs: &mut Vec<Attr<'t>>) {
        let before = attrs.len();
        for (qname, local, value) in self.xml_attrs.iter().rev() {
            if !attrs.iter().any(|a| a.ns == XML_NS && a.local == *local) {
                attrs.push(Attr {
                    ns: Cow::Borrowed(XML_NS),
                    local,
                    qname,
                    value: value.clone(),
                });
            }
        }
        if attrs.len() != before {
            attrs.sort_by(|a, b| (a.ns.as_ref(), a.local).cmp(&(b.ns.as_ref(), b.local)));
        }
    }

    fn write_end(&mut self, qname: &str) {
        self.out.extend_from_slice(b"</");
        self.out.extend_from_slice(qname.as_bytes());
        self.out.push(b'>');
    }

    /// Unbinds what an element bound.
    fn close(&mut self, frame: &Frame<'t>) {
        if frame.target {
            if let Some(span) = self.census.as_mut().and_then(|c| c.span.as_mut()) {
                span.1 = self.pos;
            }
        }
        if self.declared.len() > frame.ns_start {
            self.last = None;
        }
        for prefix in self.declared.drain(frame.ns_start..) {
            if let Some(stack) = self.bindings.get_mut(prefix) {
                stack.pop();
            }
        }
        self.xml_attrs.truncate(frame.xml_start);
        if self.frames.is_empty() {
            self.root_closed = true;
        }
    }

    /// An end tag, at `</`.
    fn end_tag(&mut self) -> Res<()> {
        let at = self.pos;
        self.pos += 2;
        let name = self.name()?;
        self.skip_ws();
        self.expect(">", "'>' to end the end tag")?;
        let frame = self
            .frames
            .pop()
            .ok_or_else(|| Fail::syntax(at, "unexpected end tag"))?;
        if frame.qname != name {
            return Err(Fail::syntax(
                at,
                format!("expected </{}>, found </{name}>", frame.qname),
            ));
        }
        if frame.output {
            self.write_end(name);
        }
        self.close(&frame);
        Ok(())
    }
}

fn doctype(at: usize) -> Fail {
    Fail::new("X0003", at, "document type declarations are not accepted")
}

/// Checks a namespace declaration against Namespaces in XML 1.0 (and its errata) and C14N.
fn check_binding(prefix: &str, uri: &str, at: usize) -> Res<()> {
    let problem = if prefix == "xmlns" {
        Some("prefix xmlns must not be declared")
    } else if prefix == "xml" && uri != XML_NS {
        Some("prefix xml must not be bound to another namespace")
    } else if prefix != "xml" && uri == XML_NS {
        Some("only prefix xml may be bound to the XML namespace")
    } else if uri == XMLNS_NS {
        Some("no prefix may be bound to the xmlns namespace")
    } else if !prefix.is_empty() && uri.is_empty() {
        Some("a prefix cannot be undeclared in XML 1.0")
    } else {
        None
    };
    if let Some(problem) = problem {
        return Err(Fail::syntax(at, problem));
    }
    if uri.is_empty() {
        return Ok(());
    }
    if !has_scheme(uri) {
        // C14N section 2 (after the W3C XML Plenary decision on relative namespace URIs):
        // their meaning is not defined, so canonicalisation must fail on them.
        return Err(Fail::new(
            "X0008",
            at,
            format!("relative namespace URI {uri:?} cannot be canonicalised"),
        ));
    }
    if !is_absolute_uri(uri) {
        // Namespaces in XML: a namespace name MUST be a URI reference. libxml2 (xmlsec) fails
        // on these too, so a form we produced could not be checked there.
        return Err(Fail::syntax(
            at,
            format!("namespace name {uri:?} is not a URI (RFC 3986)"),
        ));
    }
    Ok(())
}

/// The scheme of a URI, if it starts with one (RFC 3986: ALPHA *( ALPHA / DIGIT / "+" / "-"
/// / "." ) ":"); a URI reference without one is relative.
fn scheme(uri: &str) -> Option<(&str, &str)> {
    let (scheme, rest) = uri.split_once(':')?;
    let valid = scheme
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic())
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'));
    valid.then_some((scheme, rest))
}

fn has_scheme(uri: &str) -> bool {
    scheme(uri).is_some()
}

/// Whether `uri` follows RFC 3986's `URI` production: scheme, then an optional `//`
/// authority, a path, an optional query and an optional fragment, each of the characters
/// that part allows (ASCII only: IRIs are Namespaces 1.1).
fn is_absolute_uri(uri: &str) -> bool {
    let Some((_, rest)) = scheme(uri) else {
        return false;
    };
    let (rest, fragment) = rest.split_once('#').unwrap_or((rest, ""));
    let (hier, query) = rest.split_once('?').unwrap_or((rest, ""));
    if !uri_chars(fragment, b":@/?") || !uri_chars(query, b":@/?") {
        return false;
    }
    let path = match hier.strip_prefix("//") {
        Some(after) => {
            let end = after.find('/').unwrap_or(after.len());
            if !authority(after.get(..end).unwrap_or("")) {
                return false;
            }
            after.get(end..).unwrap_or("")
        }
        None => hier,
    };
    uri_chars(path, b":@/")
}

/// RFC 3986 `authority`: `[ userinfo "@" ] host [ ":" port ]`.
fn authority(authority: &str) -> bool {
    let (userinfo, host_port) = authority.split_once('@').unwrap_or(("", authority));
    if !uri_chars(userinfo, b":") {
        return false;
    }
    let (host_ok, port) = match host_port.strip_prefix('[') {
        Some(literal) => match literal.split_once(']') {
            Some((inside, after)) => (
                !inside.is_empty() && uri_chars(inside, b":"),
                match after {
                    "" => Some(""),
                    _ => after.strip_prefix(':'),
                },
            ),
            None => (false, None),
        },
        None => {
            let (host, port) = host_port.split_once(':').unwrap_or((host_port, ""));
            (uri_chars(host, b""), Some(port))
        }
    };
    host_ok && port.is_some_and(|p| p.bytes().all(|b| b.is_ascii_digit()))
}

/// Whether `part` is made of RFC 3986 unreserved characters, sub-delims, percent-encodings
/// and the `extra` ASCII characters that part also allows.
fn uri_chars(part: &str, extra: &[u8]) -> bool {
    let bytes = part.as_bytes();
    let mut i = 0;
    while let Some(&b) = bytes.get(i) {
        if b == b'%' {
            let hex = |j: usize| bytes.get(j).is_some_and(u8::is_ascii_hexdigit);
            if !(hex(i + 1) && hex(i + 2)) {
                return false;
            }
            i += 3;
            continue;
        }
        let ok = b.is_ascii_alphanumeric()
            || matches!(b, b'-' | b'.' | b'_' | b'~')
            || matches!(
                b,
                b'!' | b'$' | b'&' | b'\'' | b'(' | b')' | b'*' | b'+' | b',' | b';' | b'='
            )
            || extra.contains(&b);
        if !ok {
            return false;
        }
        i += 1;
    }
    true
}

/// Splits a QName into (prefix, local name); `None` if it is a Name but not a QName (an
/// empty side, or more than one colon).
fn split_qname(name: &str) -> Option<(Option<&str>, &str)> {
    // Names are short: a plain byte loop beats setting up a substring searcher, twice.
    let Some(colon) = name.bytes().position(|b| b == b':') else {
        return Some((None, name));
    };
    let (prefix, local) = (name.get(..colon)?, name.get(colon + 1..)?);
    (!prefix.is_empty()
        && !local.bytes().any(|b| b == b':')
        && local.chars().next().is_some_and(is_name_start_char))
    .then_some((Some(prefix), local))
}

fn write_namespace(out: &mut Vec<u8>, prefix: &str, uri: &str) {
    if prefix.is_empty() {
        out.extend_from_slice(b" xmlns=\"");
    } else {
        out.extend_from_slice(b" xmlns:");
        out.extend_from_slice(prefix.as_bytes());
        out.extend_from_slice(b"=\"");
    }
    escape_attr(uri, out);
    out.push(b'"');
}

/// Text escaping of C14N: `&` `<` `>` and CR (which can only come from `&#xD;`, literal ones
/// being gone with line-end normalisation).
fn escape_text(text: &str, out: &mut Vec<u8>) {
    escape(text, out, |b| match b {
        b'&' => Some(b"&amp;"),
        b'<' => Some(b"&lt;"),
        b'>' => Some(b"&gt;"),
        b'\r' => Some(b"&#xD;"),
        _ => None,
    });
}

/// Attribute-value escaping of C14N: `&` `<` `"` and TAB, LF, CR (which survive normalisation
/// only as references, and must stay distinguishable from spaces).
fn escape_attr(text: &str, out: &mut Vec<u8>) {
    escape(text, out, |b| match b {
        b'&' => Some(b"&amp;"),
        b'<' => Some(b"&lt;"),
        b'"' => Some(b"&quot;"),
        b'\t' => Some(b"&#x9;"),
        b'\n' => Some(b"&#xA;"),
        b'\r' => Some(b"&#xD;"),
        _ => None,
    });
}

/// Copies `text`, replacing the ASCII bytes `replace` maps (byte-wise is safe: ASCII bytes
/// never occur inside a multi-byte UTF-8 sequence).
fn escape(text: &str, out: &mut Vec<u8>, replace: impl Fn(u8) -> Option<&'static [u8]>) {
    let bytes = text.as_bytes();
    let mut copied = 0;
    for (i, b) in bytes.iter().enumerate() {
        if let Some(replacement) = replace(*b) {
            out.extend_from_slice(bytes.get(copied..i).unwrap_or_default());
            out.extend_from_slice(replacement);
            copied = i + 1;
        }
    }
    out.extend_from_slice(bytes.get(copied..).unwrap_or_default());
}

/// CRLF and lone CR to LF (XML 1.0 section 2.11).
fn normalize_line_ends(text: &str) -> Cow<'_, str> {
    if !text.contains('\r') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    for (i, piece) in text.split('\r').enumerate() {
        let piece = if i == 0 {
            piece
        } else {
            out.push('\n');
            piece.strip_prefix('\n').unwrap_or(piece)
        };
        out.push_str(piece);
    }
    Cow::Owned(out)
}

fn is_ws(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\n' | b'\r')
}

/// The first character outside XML 1.0 `Char`, with its offset. In a Rust string (no
/// surrogates, nothing past U+10FFFF) that is an ASCII control other than TAB, LF and CR, or
/// U+FFFE or U+FFFF (bytes EF BF BE and EF BF BF), so a byte scan finds it.
pub(crate) fn first_bad_char(text: &str) -> Option<(usize, char)> {
    let bytes = text.as_bytes();
    let bad = |i: usize, b: u8| {
        (b < 0x20 && !matches!(b, b'\t' | b'\n' | b'\r'))
            || (b == 0xEF
                && bytes.get(i + 1) == Some(&0xBF)
                && matches!(bytes.get(i + 2), Some(0xBE | 0xBF)))
    };
    // Each block is screened without branches (so the compiler vectorises it) and looked
    // into only when it holds a control character or the lead byte of U+FFFE/U+FFFF.
    const BLOCK: usize = 64;
    let suspect = |b: u8| (b < 0x20) & (b != b'\t') & (b != b'\n') & (b != b'\r') | (b == 0xEF);
    let at = bytes
        .chunks(BLOCK)
        .enumerate()
        .filter(|(_, block)| block.iter().fold(false, |any, &b| any | suspect(b)))
        .find_map(|(n, block)| {
            let from = n * BLOCK;
            block
                .iter()
                .enumerate()
                .find(|&(i, &b)| bad(from + i, b))
                .map(|(i, _)| from + i)
        })?;
    let c = text.get(at..)?.chars().next()?;
    Some((at, c))
}

/// XML 1.0 `Char`.
fn is_xml_char(c: char) -> bool {
    matches!(c, '\t' | '\n' | '\r' | '\u{20}'..='\u{D7FF}' | '\u{E000}'..='\u{FFFD}' | '\u{10000}'..)
}

/// XML 1.0 (fifth edition) `NameStartChar`.
fn is_name_start_char(c: char) -> bool {
    matches!(c,
        ':' | 'A'..='Z' | '_' | 'a'..='z'
        | '\u{C0}'..='\u{D6}' | '\u{D8}'..='\u{F6}' | '\u{F8}'..='\u{2FF}'
        | '\u{370}'..='\u{37D}' | '\u{37F}'..='\u{1FFF}' | '\u{200C}'..='\u{200D}'
        | '\u{2070}'..='\u{218F}' | '\u{2C00}'..='\u{2FEF}' | '\u{3001}'..='\u{D7FF}'
        | '\u{F900}'..='\u{FDCF}' | '\u{FDF0}'..='\u{FFFD}' | '\u{10000}'..='\u{EFFFF}')
}

/// XML 1.0 (fifth edition) `NameChar`.
fn is_name_char(c: char) -> bool {
    is_name_start_char(c)
        || matches!(c,
            '-' | '.' | '0'..='9' | '\u{B7}' | '\u{300}'..='\u{36F}' | '\u{203F}'..='\u{2040}')
}
