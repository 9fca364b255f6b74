//! The official message schemas (XSD) as data: compiled once from the XSD files into a
//! [`Schema`], shipped as JSON, and used both to check an inbound message (structure, order,
//! occurrences, lengths, digits) and to write outbound ones in schema order.
//!
//! The China message XSDs (CEB business and terminal nodes, the 金关二期 bonded families) use a
//! small part of XML Schema: global and local element declarations, `ref`, sequences and
//! `xs:all` (no choices), `xs:include` (chameleon includes too), attributes, simple types
//! restricting `xs:string`, `xs:decimal` and `xs:int` by length, digit, bound and pattern
//! facets, named complex types, simple content with attributes, nillable elements, and
//! `xs:any` for extension blocks.
//! [`compile`] reads exactly that and refuses anything else (`X0301`), so an unexpected
//! construct in a new edition is noticed rather than silently ignored. Tests compare the
//! verdict of [`Schema::validate`] with `xmllint --schema` on the official samples and on
//! mutations of them.
//!
//! Where this differs from a full XSD processor, on purpose: element text is trimmed before
//! its facets are checked (the reader keeps no surrounding white space; the E-Port trims too),
//! and elements of another namespace (`ds:Signature`) are checked by their own verifier.

use std::collections::BTreeMap;

use jinguan_types::{Diagnostic, Severity};
use serde::{Deserialize, Serialize};

use crate::xml::{self, Element, Limits};

/// A compiled schema: every global element that may be a document root, with all references
/// resolved in place.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Schema {
    /// Which edition the schema is (e.g. `ceb-202205`).
    pub edition: String,
    /// The target namespace.
    pub namespace: String,
    /// Global elements by name.
    pub roots: BTreeMap<String, Decl>,
}

/// One element declaration (a particle of a sequence, or a root).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decl {
    /// Local name.
    pub name: String,
    /// The documentation (a Chinese field name, usually).
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub doc: String,
    /// Least occurrences.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub min: u32,
    /// Whether `xsi:nil="true"` may stand for its (then empty) content.
    #[serde(default, skip_serializing_if = "is_default")]
    pub nillable: bool,
    /// Most occurrences; `None` is unbounded.
    #[serde(default = "some_one", skip_serializing_if = "is_some_one")]
    pub max: Option<u32>,
    /// What the element holds.
    pub content: Content,
}

/// What an element holds.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Content {
    /// Text with facets, and possibly attributes (simple content).
    Text {
        /// The facets of the text.
        facets: Facets,
        /// Attributes.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        attributes: Vec<Attribute>,
    },
    /// Child elements in this order (or, for `xs:all`, in any order, each at most once).
    Sequence {
        /// The particles.
        children: Vec<Decl>,
        /// `xs:all`: the particles may come in any order.
        #[serde(default, skip_serializing_if = "is_default")]
        any_order: bool,
        /// Attributes.
        #[serde(default, skip_serializing_if = "Vec::is_empty")]
        attributes: Vec<Attribute>,
    },
    /// Anything (`xs:any` with `processContents="skip"`, or no type at all).
    Any,
    /// An element of another namespace (the XML signature), checked by its own verifier.
    Foreign {
        /// The namespace.
        namespace: String,
    },
}

/// An attribute declaration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attribute {
    /// Name.
    pub name: String,
    /// Whether it must be present.
    pub required: bool,
    /// Its value's facets.
    pub facets: Facets,
}

/// The simple types the schemas use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Base {
    /// `xs:string` (and `xs:ID`, checked as a string).
    #[default]
    String,
    /// `xs:decimal`.
    Decimal,
    /// `xs:int`.
    Int,
    /// `xs:long`.
    Long,
    /// `xs:double` (a lexical check only: the schemas use it for weights and quantities, which
    /// Jinguan reads as decimals).
    Double,
    /// `xs:base64Binary`.
    Base64,
    /// `xs:date` (`YYYY-MM-DD`).
    Date,
    /// `xs:dateTime`.
    DateTime,
}

/// Facets restricting a simple type.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Facets {
    /// The base type.
    #[serde(default, skip_serializing_if = "is_default")]
    pub base: Base,
    /// Exact length in characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub length: Option<u32>,
    /// Least length in characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_length: Option<u32>,
    /// Most length in characters.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<u32>,
    /// Most significant digits of a decimal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub total_digits: Option<u32>,
    /// Most fraction digits of a decimal.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fraction_digits: Option<u32>,
    /// Allowed values, if listed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub enumeration: Vec<String>,
    /// The one value allowed (`fixed` on the declaration); an empty value takes it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fixed: Option<String>,
    /// The value an empty one takes (`default` on the declaration).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub default: Option<String>,
    /// Regular expressions the whole value must match (one per derivation step; alternatives
    /// within a step are joined with `|`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub patterns: Vec<String>,
    /// Bounds of a number: `(value, inclusive)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_bound: Option<(String, bool)>,
    /// Upper bound of a number: `(value, inclusive)`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_bound: Option<(String, bool)>,
}

fn one() -> u32 {
    1
}
fn some_one() -> Option<u32> {
    Some(1)
}
fn is_one(v: &u32) -> bool {
    *v == 1
}
fn is_some_one(v: &Option<u32>) -> bool {
    *v == Some(1)
}
fn is_default<T: Default + PartialEq>(v: &T) -> bool {
    *v == T::default()
}

/// Why a schema could not be compiled.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("X0301: {0}")]
pub struct CompileError(pub String);

const XS: &str = "http://www.w3.org/2001/XMLSchema";

/// Compiles XSD files (each `(file name, bytes)`; `xs:import`ed files of another namespace are
/// not read: their elements become [`Content::Foreign`]) into one schema whose roots are the
/// global elements of all of them that `is_root` accepts (the document elements a message
/// may have). A file another one `xs:include`s must be among `files` (named as its
/// `schemaLocation` names it); its declarations join the includer's, and it is not compiled
/// on its own. The files must share one target namespace (an included file without one takes
/// its includer's, as XSD's chameleon include does).
pub fn compile(
    edition: &str,
    files: &[(&str, &[u8])],
    is_root: impl Fn(&str) -> bool,
) -> Result<Schema, CompileError> {
    let limits = Limits {
        max_bytes: 16 * 1024 * 1024,
        max_depth: 64,
        max_elements: 1_000_000,
    };
    let mut documents = Vec::new();
    for (name, bytes) in files {
        let document =
            xml::parse(bytes, limits).map_err(|e| CompileError(format!("{name}: {e}")))?;
        documents.push((*name, document));
    }
    let included: Vec<&str> = documents.iter().flat_map(|(_, d)| includes(d)).collect();
    let mut roots = BTreeMap::new();
    let mut namespace = String::new();
    for (name, document) in &documents {
        if included.contains(name) {
            continue;
        }
        let mut file = XsdFile::new(document).map_err(|e| CompileError(format!("{name}: {e}")))?;
        let mut pending: Vec<&str> = includes(document).collect();
        let mut seen: Vec<&str> = vec![name];
        while let Some(location) = pending.pop() {
            if seen.contains(&location) {
                continue;
            }
            seen.push(location);
            let (_, part) = documents
                .iter()
                .find(|(n, _)| *n == location)
                .ok_or_else(|| CompileError(format!("{name}: includes {location}, not given")))?;
            let part_file =
                XsdFile::new(part).map_err(|e| CompileError(format!("{location}: {e}")))?;
            if !part_file.target.is_empty() && part_file.target != file.target {
                return Err(CompileError(format!(
                    "{location}: target namespace {} differs from its includer's {}",
                    part_file.target, file.target
                )));
            }
            file.absorb(part_file);
            pending.extend(includes(part));
        }
        if !namespace.is_empty() && namespace != file.target {
            return Err(CompileError(format!(
                "{name}: target namespace {} differs from {namespace}",
                file.target
            )));
        }
        namespace.clone_from(&file.target);
        for (element_name, element) in &file.elements {
            if !is_root(element_name) {
                continue;
            }
            let decl = file
                .element(element, 0)
                .map_err(|e| CompileError(format!("{name}: element {element_name}: {e}")))?;
            roots.insert((*element_name).to_owned(), decl);
        }
    }
    Ok(Schema {
        edition: edition.to_owned(),
        namespace,
        roots,
    })
}

/// The files a schema document includes (their `schemaLocation`s).
fn includes(schema: &Element) -> impl Iterator<Item = &str> {
    schema
        .children
        .iter()
        .filter(|c| c.name == "include")
        .filter_map(|c| c.attribute("schemaLocation"))
}

/// One XSD file's global declarations (with those of the files it includes).
struct XsdFile<'a> {
    target: String,
    /// Prefix → namespace, from the schema element.
    prefixes: Vec<(String, String)>,
    elements: BTreeMap<&'a str, &'a Element>,
    complex_types: BTreeMap<&'a str, &'a Element>,
    simple_types: BTreeMap<&'a str, &'a Element>,
}

impl<'a> XsdFile<'a> {
    fn new(schema: &'a Element) -> Result<Self, String> {
        if schema.name != "schema" {
            return Err(format!(
                "the document element is {}, not schema",
                schema.name
            ));
        }
        let prefixes: Vec<(String, String)> = schema
            .attributes
            .iter()
            .filter_map(|(n, v)| n.strip_prefix("xmlns:").map(|p| (p.to_owned(), v.clone())))
            .collect();
        if !prefixes.iter().any(|(_, ns)| ns == XS) {
            return Err("the schema does not declare the XML Schema namespace".into());
        }
        if schema
            .attribute("elementFormDefault")
            .is_some_and(|v| v != "qualified")
        {
            return Err("only elementFormDefault=\"qualified\" is supported".into());
        }
        let mut file = Self {
            target: schema
                .attribute("targetNamespace")
                .unwrap_or_default()
                .to_owned(),
            prefixes,
            elements: BTreeMap::new(),
            complex_types: BTreeMap::new(),
            simple_types: BTreeMap::new(),
        };
        for child in &schema.children {
            let name = child.attribute("name").unwrap_or_default();
            match child.name.as_str() {
                "element" => {
                    file.elements.insert(name, child);
                }
                "complexType" => {
                    file.complex_types.insert(name, child);
                }
                "simpleType" => {
                    file.simple_types.insert(name, child);
                }
                "annotation" | "import" | "include" => {}
                other => return Err(format!("unsupported top-level xs:{other}")),
            }
        }
        Ok(file)
    }

    /// Takes in an included file's declarations (the includer's own win a clash, which XSD
    /// forbids anyway) and its prefixes where they do not clash.
    fn absorb(&mut self, part: XsdFile<'a>) {
        for (name, element) in part.elements {
            self.elements.entry(name).or_insert(element);
        }
        for (name, complex) in part.complex_types {
            self.complex_types.entry(name).or_insert(complex);
        }
        for (name, simple) in part.simple_types {
            self.simple_types.entry(name).or_insert(simple);
        }
        for (prefix, namespace) in part.prefixes {
            if !self.prefixes.iter().any(|(p, _)| *p == prefix) {
                self.prefixes.push((prefix, namespace));
            }
        }
    }

    /// Splits `prefix:name` into (namespace, local name).
    fn resolve<'n>(&self, qname: &'n str) -> (String, &'n str) {
        match qname.split_once(':') {
            Some((prefix, local)) => (
                self.prefixes
                    .iter()
                    .find(|(p, _)| p == prefix)
                    .map(|(_, ns)| ns.clone())
                    .unwrap_or_default(),
                local,
            ),
            None => (self.target.clone(), qname),
        }
    }

    fn element(&self, element: &Element, depth: usize) -> Result<Decl, String> {
        if depth > 32 {
            return Err("references nest too deeply (a cycle?)".into());
        }
        let (min, max) = occurs(element)?;
        if let Some(reference) = element.attribute("ref") {
            let (namespace, local) = self.resolve(reference);
            if namespace != self.target {
                return Ok(Decl {
                    name: local.to_owned(),
                    doc: String::new(),
                    min,
                    max,
                    nillable: false,
                    content: Content::Foreign { namespace },
                });
            }
            let global = self
                .elements
                .get(local)
                .ok_or_else(|| format!("ref to undeclared element {local}"))?;
            let mut decl = self.element(global, depth + 1)?;
            decl.min = min;
            decl.max = max;
            return Ok(decl);
        }
        let name = element
            .attribute("name")
            .ok_or("an element with neither name nor ref")?
            .to_owned();
        let doc = documentation(element);
        let mut content = if let Some(type_name) = element.attribute("type") {
            self.named_type(type_name, depth)?
        } else if let Some(complex) = element.child("complexType") {
            self.complex(complex, depth)?
        } else if let Some(simple) = element.child("simpleType") {
            Content::Text {
                facets: self.simple(simple)?,
                attributes: Vec::new(),
            }
        } else {
            Content::Any
        };
        if let Content::Text { facets, .. } = &mut content {
            value_constraints(element, facets);
        } else if element.attribute("fixed").is_some() || element.attribute("default").is_some() {
            return Err(format!(
                "{name}: a fixed or default value on an element with children"
            ));
        }
        Ok(Decl {
            name,
            doc,
            min,
            max,
            nillable: matches!(element.attribute("nillable"), Some("true" | "1")),
            content,
        })
    }

    fn named_type(&self, type_name: &str, depth: usize) -> Result<Content, String> {
        let (namespace, local) = self.resolve(type_name);
        if namespace == XS {
            return Ok(Content::Text {
                facets: Facets {
                    base: builtin(local)?,
                    ..Facets::default()
                },
                attributes: Vec::new(),
            });
        }
        if let Some(complex) = self.complex_types.get(local) {
            return self.complex(complex, depth + 1);
        }
        if let Some(simple) = self.simple_types.get(local) {
            return Ok(Content::Text {
                facets: self.simple(simple)?,
                attributes: Vec::new(),
            });
        }
        Err(format!("unknown type {type_name}"))
    }

    fn complex(&self, complex: &Element, depth: usize) -> Result<Content, String> {
        let mut attributes = Vec::new();
        let mut sequence = None;
        let mut text = None;
        for child in &complex.children {
            match child.name.as_str() {
                "annotation" => {}
                "sequence" | "all" => sequence = Some(child),
                "attribute" => attributes.push(self.attribute(child)?),
                "simpleContent" => {
                    let extension = child
                        .child("extension")
                        .ok_or("simpleContent without an extension")?;
                    let base = extension
                        .attribute("base")
                        .ok_or("an extension without a base")?;
                    let facets = match self.named_type(base, depth)? {
                        Content::Text { facets, .. } => facets,
                        _ => {
                            return Err(format!("simple content extends {base}, not a simple type"))
                        }
                    };
                    for attribute in &extension.children {
                        if attribute.name == "attribute" {
                            attributes.push(self.attribute(attribute)?);
                        }
                    }
                    text = Some(facets);
                }
                other => return Err(format!("unsupported xs:{other} in a complex type")),
            }
        }
        if complex
            .attribute("mixed")
            .is_some_and(|v| v == "true" || v == "1")
        {
            return Err("mixed content is not supported".into());
        }
        if let Some(facets) = text {
            return Ok(Content::Text { facets, attributes });
        }
        let mut children = Vec::new();
        let any_order = sequence.is_some_and(|s| s.name == "all");
        if let Some(sequence) = sequence {
            if sequence.attribute("minOccurs").is_some()
                || sequence.attribute("maxOccurs").is_some()
            {
                return Err("occurrences on a sequence are not supported".into());
            }
            for particle in &sequence.children {
                match particle.name.as_str() {
                    "annotation" => {}
                    "element" => {
                        let decl = self.element(particle, depth + 1)?;
                        if any_order && decl.max.is_none_or(|m| m > 1) {
                            return Err(format!("{} repeats inside xs:all", decl.name));
                        }
                        children.push(decl);
                    }
                    "any" if !any_order => {
                        if sequence
                            .children
                            .iter()
                            .filter(|c| c.name != "annotation")
                            .count()
                            != 1
                        {
                            return Err("xs:any beside other particles is not supported".into());
                        }
                        return Ok(Content::Any);
                    }
                    other => return Err(format!("unsupported xs:{other} in a sequence")),
                }
            }
        }
        Ok(Content::Sequence {
            children,
            any_order,
            attributes,
        })
    }

    fn attribute(&self, attribute: &Element) -> Result<Attribute, String> {
        let name = attribute
            .attribute("name")
            .ok_or("an attribute without a name")?
            .to_owned();
        let facets = if let Some(type_name) = attribute.attribute("type") {
            match self.named_type(type_name, 0)? {
                Content::Text { facets, .. } => facets,
                _ => return Err(format!("attribute {name} has a complex type")),
            }
        } else if let Some(simple) = attribute.child("simpleType") {
            self.simple(simple)?
        } else {
            Facets::default()
        };
        let mut facets = facets;
        value_constraints(attribute, &mut facets);
        Ok(Attribute {
            name,
            required: attribute.attribute("use") == Some("required"),
            facets,
        })
    }

    fn simple(&self, simple: &Element) -> Result<Facets, String> {
        let restriction = simple
            .child("restriction")
            .ok_or("a simple type that is not a restriction")?;
        let base = restriction
            .attribute("base")
            .ok_or("a restriction without a base")?;
        let mut facets = match self.named_type(base, 0)? {
            Content::Text { facets, .. } => facets,
            _ => return Err(format!("a restriction of complex type {base}")),
        };
        let mut patterns = Vec::new();
        for facet in &restriction.children {
            let value = facet.attribute("value").unwrap_or_default();
            let number = || {
                value
                    .parse::<u32>()
                    .map_err(|_| format!("facet {} has value {value:?}", facet.name))
            };
            match facet.name.as_str() {
                "annotation" => {}
                "length" => facets.length = Some(number()?),
                "minLength" => facets.min_length = Some(number()?),
                "maxLength" => facets.max_length = Some(number()?),
                "totalDigits" => facets.total_digits = Some(number()?),
                "fractionDigits" => facets.fraction_digits = Some(number()?),
                "enumeration" => facets.enumeration.push(value.to_owned()),
                "pattern" => {
                    patterns.push(value.to_owned());
                }
                "minInclusive" | "minExclusive" | "maxInclusive" | "maxExclusive" => {
                    if !matches!(facets.base, Base::Decimal | Base::Int | Base::Long) {
                        return Err(format!("xs:{} on a non-numeric type", facet.name));
                    }
                    if bound_number(value).is_none() {
                        return Err(format!("facet {} has value {value:?}", facet.name));
                    }
                    let bound = Some((value.to_owned(), facet.name.ends_with("Inclusive")));
                    if facet.name.starts_with("min") {
                        facets.min_bound = bound;
                    } else {
                        facets.max_bound = bound;
                    }
                }
                // Values are trimmed before they are checked; internal runs of white space
                // (which collapse would join) do not occur in codes and numbers.
                "whiteSpace" => {}
                other => return Err(format!("unsupported facet xs:{other}")),
            }
        }
        if !patterns.is_empty() {
            // Patterns of one step are alternatives (XSD 1.0, 4.3.4.3).
            let joined = patterns
                .iter()
                .map(|p| format!("(?:{p})"))
                .collect::<Vec<_>>()
                .join("|");
            pattern_regex(&joined)?;
            facets.patterns.push(joined);
        }
        Ok(facets)
    }
}

/// A bound's value as a number (bounds outside what a decimal holds are refused when compiled).
fn bound_number(text: &str) -> Option<rust_decimal::Decimal> {
    text.trim().parse().ok()
}

/// An XSD pattern as a regular expression anchored at both ends (an XSD pattern matches the
/// whole value). The patterns the schemas use are in the syntax both share; one that is not
/// (`\i`, `\c`, character class subtraction) fails to compile, and so does the schema.
fn pattern_regex(pattern: &str) -> Result<std::sync::Arc<regex::Regex>, String> {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex, OnceLock};
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<regex::Regex>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Mutex::default);
    if let Some(found) = cache.lock().ok().and_then(|c| c.get(pattern).cloned()) {
        return Ok(found);
    }
    if xsd_only_syntax(pattern) {
        return Err(format!("pattern {pattern:?} uses XSD-only syntax"));
    }
    let compiled = regex::Regex::new(&format!("^(?:{pattern})$"))
        .map(Arc::new)
        .map_err(|e| format!("pattern {pattern:?}: {e}"))?;
    if let Ok(mut cache) = cache.lock() {
        cache.insert(pattern.to_owned(), Arc::clone(&compiled));
    }
    Ok(compiled)
}

/// Whether a pattern uses what XSD's regular expressions have and Rust's do not: the name
/// classes `\i`, `\c` (and their complements) or a class subtraction `[a-z-[aeiou]]`.
fn xsd_only_syntax(pattern: &str) -> bool {
    let mut in_class = false;
    let mut chars = pattern.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if matches!(chars.next(), Some('i' | 'I' | 'c' | 'C')) {
                    return true;
                }
            }
            '[' => in_class = true,
            ']' => in_class = false,
            '-' if in_class && chars.peek() == Some(&'[') => return true,
            _ => {}
        }
    }
    false
}

fn value_constraints(declaration: &Element, facets: &mut Facets) {
    facets.fixed = declaration.attribute("fixed").map(str::to_owned);
    facets.default = declaration.attribute("default").map(str::to_owned);
}

fn builtin(local: &str) -> Result<Base, String> {
    Ok(match local {
        // Almost any string is a lexically valid URI reference (XSD 1.0 leaves it to RFC 2396).
        "string" | "ID" | "token" | "normalizedString" | "anyURI" => Base::String,
        "decimal" => Base::Decimal,
        "int" => Base::Int,
        "long" | "integer" => Base::Long,
        "double" | "float" => Base::Double,
        "base64Binary" => Base::Base64,
        "date" => Base::Date,
        "dateTime" => Base::DateTime,
        other => return Err(format!("unsupported built-in type xs:{other}")),
    })
}

fn occurs(element: &Element) -> Result<(u32, Option<u32>), String> {
    let min = match element.attribute("minOccurs") {
        Some(v) => v.parse().map_err(|_| format!("minOccurs={v:?}"))?,
        None => 1,
    };
    let max = match element.attribute("maxOccurs") {
        Some("unbounded") => None,
        Some(v) => Some(v.parse().map_err(|_| format!("maxOccurs={v:?}"))?),
        None => Some(1),
    };
    Ok((min, max))
}

fn documentation(element: &Element) -> String {
    element
        .child("annotation")
        .and_then(|a| a.child("documentation"))
        .map(|d| d.text.split_whitespace().collect::<Vec<_>>().join(" "))
        .unwrap_or_default()
}

/// Codes of schema diagnostics. Stable API.
pub mod codes {
    /// The document element is not a message of this schema.
    pub const UNKNOWN_ROOT: &str = "X0310";
    /// A required element is missing.
    pub const MISSING: &str = "X0311";
    /// An element is not expected here (wrong name or order).
    pub const UNEXPECTED: &str = "X0312";
    /// An element occurs more often than allowed.
    pub const TOO_MANY: &str = "X0313";
    /// A value breaks its length facets.
    pub const LENGTH: &str = "X0314";
    /// A value is not of its type (decimal, int, ...) or breaks its digit facets.
    pub const VALUE: &str = "X0315";
    /// A required attribute is missing, or an attribute is not declared.
    pub const ATTRIBUTE: &str = "X0316";
    /// Text where only elements belong, or elements inside a value.
    pub const CONTENT: &str = "X0317";
    /// A value is not one of the listed values.
    pub const ENUMERATION: &str = "X0318";
}

impl Schema {
    /// Loads a compiled schema shipped as JSON.
    pub fn from_json(json: &str) -> Result<Self, CompileError> {
        serde_json::from_str(json).map_err(|e| CompileError(format!("schema JSON: {e}")))
    }

    /// The compiled schema as JSON, compact and stable (what is shipped).
    pub fn to_json(&self) -> String {
        let mut text = serde_json::to_string(self).unwrap_or_default();
        text.push('\n');
        text
    }

    /// The declaration of a root element.
    pub fn root(&self, name: &str) -> Option<&Decl> {
        self.roots.get(name)
    }

    /// The declaration at a path of element names from a root (`["Package", "DataInfo",
    /// "PocketInfo"]`), through sequences.
    pub fn find(&self, path: &[&str]) -> Option<&Decl> {
        let (first, rest) = path.split_first()?;
        let mut decl = self.roots.get(*first)?;
        for name in rest {
            let Content::Sequence { children, .. } = &decl.content else {
                return None;
            };
            decl = children.iter().find(|c| c.name == *name)?;
        }
        Some(decl)
    }

    /// Checks a document against its root's declaration. An empty result means valid.
    pub fn validate(&self, document: &Element) -> Vec<Diagnostic> {
        let mut diagnostics = Vec::new();
        match self.roots.get(document.name.as_str()) {
            Some(decl) => check_element(
                decl,
                document,
                &Path::root(&document.name),
                &mut diagnostics,
            ),
            None => diagnostics.push(error(
                codes::UNKNOWN_ROOT,
                &Path::root(&document.name),
                format!(
                    "{} is not a message of the {} schema",
                    document.name, self.edition
                ),
            )),
        }
        diagnostics
    }
}

/// Checks one element against a declaration (found with [`Schema::find`], or built from one):
/// what [`Schema::validate`] does for a root, for a part. Paths start at the element's name.
pub fn validate_as(decl: &Decl, element: &Element) -> Vec<Diagnostic> {
    let mut diagnostics = Vec::new();
    check_element(decl, element, &Path::root(&element.name), &mut diagnostics);
    diagnostics
}

/// Where an element is, rendered only when a diagnostic needs it: validating a valid message
/// builds no strings.
#[derive(Clone, Copy)]
struct Path<'a> {
    parent: Option<&'a Path<'a>>,
    name: &'a str,
    /// 1-based position among repeats, 0 when the element cannot repeat.
    index: u32,
    attribute: bool,
}

impl<'a> Path<'a> {
    fn root(name: &'a str) -> Self {
        Self {
            parent: None,
            name,
            index: 0,
            attribute: false,
        }
    }

    fn child(&'a self, name: &'a str, index: u32) -> Path<'a> {
        Path {
            parent: Some(self),
            name,
            index,
            attribute: false,
        }
    }

    fn attribute(&'a self, name: &'a str) -> Path<'a> {
        Path {
            parent: Some(self),
            name,
            index: 0,
            attribute: true,
        }
    }

    fn render(&self) -> String {
        let mut text = self.parent.map(Path::render).unwrap_or_default();
        if self.parent.is_some() {
            text.push('/');
        }
        if self.attribute {
            text.push('@');
        }
        text.push_str(self.name);
        if self.index > 0 {
            text.push_str(&format!("[{}]", self.index));
        }
        text
    }
}

fn error(code: &str, path: &Path<'_>, message: String) -> Diagnostic {
    Diagnostic::new(Severity::Error, code, path.render(), message)
}

fn check_element(decl: &Decl, element: &Element, path: &Path<'_>, out: &mut Vec<Diagnostic>) {
    if decl.nillable
        && element
            .attributes
            .iter()
            .any(|(k, v)| k.ends_with(":nil") && matches!(v.trim(), "true" | "1"))
    {
        // A nil element has no content, and its value's facets do not apply (XSD 1.0, 3.3.4).
        if !element.text.is_empty() || !element.children.is_empty() {
            out.push(error(
                codes::CONTENT,
                path,
                format!("{} is nil and must be empty", decl.name),
            ));
        }
        return;
    }
    match &decl.content {
        Content::Any | Content::Foreign { .. } => {}
        Content::Text { facets, attributes } => {
            check_attributes(attributes, element, path, out);
            if let Some(child) = element.children.first() {
                out.push(error(
                    codes::CONTENT,
                    path,
                    format!(
                        "{} holds a value, not elements (found {})",
                        decl.name, child.name
                    ),
                ));
                return;
            }
            check_value(facets, &element.text, path, &decl.doc, out);
        }
        Content::Sequence {
            children,
            any_order,
            attributes,
        } => {
            check_attributes(attributes, element, path, out);
            if !element.text.is_empty() {
                out.push(error(
                    codes::CONTENT,
                    path,
                    format!("{} holds elements, not text", decl.name),
                ));
            }
            if *any_order {
                check_all(children, element, path, out);
            } else {
                check_sequence(children, element, path, out);
            }
        }
    }
}

/// `xs:all`: each child one of the particles, none twice, the required ones present.
fn check_all(particles: &[Decl], element: &Element, path: &Path<'_>, out: &mut Vec<Diagnostic>) {
    let mut seen = vec![false; particles.len()];
    for child in &element.children {
        let Some(at) = particles.iter().position(|p| p.name == child.name) else {
            out.push(error(
                codes::UNEXPECTED,
                &path.child(&child.name, 0),
                format!("{} is not expected in {}", child.name, element.name),
            ));
            return;
        };
        let child_path = path.child(&child.name, 0);
        if seen[at] {
            out.push(error(
                codes::TOO_MANY,
                &child_path,
                format!("{} occurs more than once", child.name),
            ));
            return;
        }
        seen[at] = true;
        check_element(&particles[at], child, &child_path, out);
    }
    if let Some(particle) = particles
        .iter()
        .zip(&seen)
        .find(|(p, seen)| p.min > 0 && !**seen)
        .map(|(p, _)| p)
    {
        out.push(error(
            codes::MISSING,
            &path.child(&particle.name, 0),
            format!(
                "{} is missing from {}{}",
                particle.name,
                element.name,
                doc_suffix(particle)
            ),
        ));
    }
}

fn check_sequence(
    particles: &[Decl],
    element: &Element,
    path: &Path<'_>,
    out: &mut Vec<Diagnostic>,
) {
    let mut at = 0;
    let mut count = 0u32;
    for child in &element.children {
        // Move past particles that do not match, each satisfied or reported missing.
        loop {
            let Some(particle) = particles.get(at) else {
                out.push(error(
                    codes::UNEXPECTED,
                    &path.child(&child.name, 0),
                    format!(
                        "{} is not expected here (after the last element of {})",
                        child.name, element.name
                    ),
                ));
                return;
            };
            if particle.name == child.name {
                break;
            }
            if count < particle.min {
                let later = particles[at..].iter().any(|p| p.name == child.name);
                let (code, at_path, message) = if later {
                    (
                        codes::MISSING,
                        path.child(&particle.name, 0),
                        format!(
                            "{} is missing from {} before {}{}",
                            particle.name,
                            element.name,
                            child.name,
                            doc_suffix(particle)
                        ),
                    )
                } else {
                    (
                        codes::UNEXPECTED,
                        path.child(&child.name, 0),
                        format!(
                            "{} is not expected here; expected {}{}",
                            child.name,
                            particle.name,
                            doc_suffix(particle)
                        ),
                    )
                };
                out.push(error(code, &at_path, message));
                return;
            }
            at += 1;
            count = 0;
        }
        let particle = &particles[at];
        count += 1;
        // Repeats of one particle are consecutive, so the count is the position.
        let child_path = path.child(&child.name, if particle.max == Some(1) { 0 } else { count });
        if particle.max.is_some_and(|max| count > max) {
            out.push(error(
                codes::TOO_MANY,
                &child_path,
                format!(
                    "{} occurs more than {} times",
                    child.name,
                    particle.max.unwrap_or_default()
                ),
            ));
            return;
        }
        check_element(particle, child, &child_path, out);
    }
    // The particles left must all be satisfied.
    for (i, particle) in particles.iter().enumerate().skip(at) {
        let seen = if i == at { count } else { 0 };
        if seen < particle.min {
            out.push(error(
                codes::MISSING,
                &path.child(&particle.name, 0),
                format!(
                    "{} is missing from {}{}",
                    particle.name,
                    element.name,
                    doc_suffix(particle)
                ),
            ));
            return;
        }
    }
}

fn doc_suffix(decl: &Decl) -> String {
    if decl.doc.is_empty() {
        String::new()
    } else {
        format!(" ({})", decl.doc.chars().take(40).collect::<String>())
    }
}

fn check_attributes(
    declared: &[Attribute],
    element: &Element,
    path: &Path<'_>,
    out: &mut Vec<Diagnostic>,
) {
    for attribute in declared {
        match element.attribute(&attribute.name) {
            Some(value) => check_value(
                &attribute.facets,
                value.trim(),
                &path.attribute(&attribute.name),
                "",
                out,
            ),
            None if attribute.required => out.push(error(
                codes::ATTRIBUTE,
                &path.attribute(&attribute.name),
                format!(
                    "attribute {} is required on {}",
                    attribute.name, element.name
                ),
            )),
            None => {}
        }
    }
    for (name, _) in &element.attributes {
        let namespaced = name == "xmlns" || name.starts_with("xmlns:") || name.contains(':');
        if !namespaced && !declared.iter().any(|a| &a.name == name) {
            out.push(error(
                codes::ATTRIBUTE,
                &path.attribute(name),
                format!("attribute {name} is not declared on {}", element.name),
            ));
        }
    }
}

/// Checks one value against its facets.
fn check_value(facets: &Facets, text: &str, path: &Path<'_>, doc: &str, out: &mut Vec<Diagnostic>) {
    // An empty value takes the declared fixed or default value (XSD 1.0, 3.3.4).
    let text = match (&facets.fixed, &facets.default) {
        (Some(value), _) | (None, Some(value)) if text.is_empty() => value.as_str(),
        _ => text,
    };
    if let Some(fixed) = &facets.fixed {
        if text != fixed {
            let shown: String = text.chars().take(40).collect();
            out.push(error(
                codes::ENUMERATION,
                path,
                format!("{shown:?} is not the fixed value {fixed:?}"),
            ));
            return;
        }
    }
    // Quoted only when a diagnostic is written.
    let (shown, what) = (Shown(text), What(doc));
    match facets.base {
        Base::String => {}
        Base::Decimal => {
            let Some((total, fraction)) = decimal_digits(text) else {
                out.push(error(
                    codes::VALUE,
                    path,
                    format!("{shown:?} is not a decimal number{what}"),
                ));
                return;
            };
            if facets.total_digits.is_some_and(|max| total > max)
                || facets.fraction_digits.is_some_and(|max| fraction > max)
            {
                out.push(error(
                    codes::VALUE,
                    path,
                    format!(
                        "{shown:?} has more digits than {}{}{what}",
                        facets
                            .total_digits
                            .map(|t| format!("{t} in all"))
                            .unwrap_or_default(),
                        facets
                            .fraction_digits
                            .map(|f| format!(", {f} after the point"))
                            .unwrap_or_default()
                    ),
                ));
                return;
            }
        }
        Base::Int => {
            let parsed = text.strip_prefix('+').unwrap_or(text).parse::<i32>();
            if parsed.is_err() || text.starts_with("+-") || text.starts_with("++") {
                out.push(error(
                    codes::VALUE,
                    path,
                    format!("{shown:?} is not a whole number (xs:int){what}"),
                ));
                return;
            }
        }
        Base::Long => {
            let parsed = text.strip_prefix('+').unwrap_or(text).parse::<i64>();
            if parsed.is_err() || text.starts_with("+-") || text.starts_with("++") {
                out.push(error(
                    codes::VALUE,
                    path,
                    format!("{shown:?} is not a whole number (xs:long){what}"),
                ));
                return;
            }
        }
        Base::Double => {
            if !is_double(text) {
                out.push(error(
                    codes::VALUE,
                    path,
                    format!("{shown:?} is not a number (xs:double){what}"),
                ));
                return;
            }
        }
        Base::Base64 => {
            use base64::Engine;
            let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
            if base64::engine::general_purpose::STANDARD
                .decode(compact.as_bytes())
                .is_err()
            {
                out.push(error(
                    codes::VALUE,
                    path,
                    format!("{shown:?} is not base64{what}"),
                ));
                return;
            }
        }
        Base::Date => {
            if chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").is_err() {
                out.push(error(
                    codes::VALUE,
                    path,
                    format!("{shown:?} is not a date (YYYY-MM-DD){what}"),
                ));
                return;
            }
        }
        Base::DateTime => {
            let ok = chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f").is_ok()
                || chrono::DateTime::parse_from_rfc3339(text).is_ok();
            if !ok {
                out.push(error(
                    codes::VALUE,
                    path,
                    format!("{shown:?} is not a date and time (YYYY-MM-DDThh:mm:ss){what}"),
                ));
                return;
            }
        }
    }
    // Length facets apply to strings (in characters); XSD ignores them on numbers.
    if matches!(facets.base, Base::String | Base::Base64) {
        let length = u32::try_from(text.chars().count()).unwrap_or(u32::MAX);
        let bad = facets.length.is_some_and(|l| length != l)
            || facets.min_length.is_some_and(|l| length < l)
            || facets.max_length.is_some_and(|l| length > l);
        if bad {
            let rule = match (facets.length, facets.min_length, facets.max_length) {
                (Some(l), _, _) => format!("exactly {l}"),
                (None, Some(lo), Some(hi)) => format!("{lo} to {hi}"),
                (None, Some(lo), None) => format!("at least {lo}"),
                (None, None, Some(hi)) => format!("at most {hi}"),
                _ => String::new(),
            };
            out.push(error(
                codes::LENGTH,
                path,
                format!("{shown:?} is {length} characters long; it must be {rule}{what}"),
            ));
            return;
        }
    }
    if let Some(pattern) = facets
        .patterns
        .iter()
        .find(|p| pattern_regex(p).is_ok_and(|r| !r.is_match(text)))
    {
        out.push(error(
            codes::VALUE,
            path,
            format!("{shown:?} does not match the pattern {pattern}{what}"),
        ));
        return;
    }
    if matches!(facets.base, Base::Decimal | Base::Int | Base::Long) && !in_bounds(facets, text) {
        let show = |bound: &Option<(String, bool)>, word: &str| {
            bound
                .as_ref()
                .map(|(v, inclusive)| {
                    format!("{word} {v}{}", if *inclusive { " or equal" } else { "" })
                })
                .unwrap_or_default()
        };
        out.push(error(
            codes::VALUE,
            path,
            format!(
                "{shown:?} is out of range ({} {}){what}",
                show(&facets.min_bound, "above"),
                show(&facets.max_bound, "below")
            ),
        ));
        return;
    }
    if !facets.enumeration.is_empty() && !facets.enumeration.iter().any(|v| v == text) {
        out.push(error(
            codes::ENUMERATION,
            path,
            format!(
                "{shown:?} is not one of {}{what}",
                facets.enumeration.join(", ")
            ),
        ));
    }
}

/// Whether a number (already known to be one) lies within its bounds. A number too large for
/// a decimal to hold is outside any bound the schemas set.
fn in_bounds(facets: &Facets, text: &str) -> bool {
    if facets.min_bound.is_none() && facets.max_bound.is_none() {
        return true;
    }
    let Some(value) = bound_number(text.strip_prefix('+').unwrap_or(text)) else {
        return false;
    };
    let above = facets.min_bound.as_ref().is_none_or(|(b, inclusive)| {
        bound_number(b).is_some_and(|b| if *inclusive { value >= b } else { value > b })
    });
    let below = facets.max_bound.as_ref().is_none_or(|(b, inclusive)| {
        bound_number(b).is_some_and(|b| if *inclusive { value <= b } else { value < b })
    });
    above && below
}

/// A value as a diagnostic quotes it: its first 40 characters, debug-quoted.
struct Shown<'a>(&'a str);

impl std::fmt::Debug for Shown<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let head: String = self.0.chars().take(40).collect();
        write!(f, "{head:?}")
    }
}

/// A field's documentation as a diagnostic adds it: ` (...)`, or nothing.
struct What<'a>(&'a str);

impl std::fmt::Display for What<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.0.is_empty() {
            return Ok(());
        }
        let head: String = self.0.chars().take(40).collect();
        write!(f, " ({head})")
    }
}

/// The lexical form of `xs:double`: a decimal with an optional exponent, or `INF`, `-INF`,
/// `NaN` (spelt so: XSD does not take Rust's `inf` or `nan`).
fn is_double(text: &str) -> bool {
    if matches!(text, "INF" | "-INF" | "+INF" | "NaN") {
        return true;
    }
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(at) => (&text[..at], Some(&text[at + 1..])),
        None => (text, None),
    };
    let exponent_ok = exponent.is_none_or(|e| {
        let digits = e.strip_prefix(['+', '-']).unwrap_or(e);
        !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
    });
    exponent_ok && decimal_digits(mantissa).is_some()
}

/// The lexical form of `xs:decimal`, and its (total, fraction) digit counts as XSD counts them
/// (leading zeros of the integer part and trailing zeros of the fraction do not count).
fn decimal_digits(text: &str) -> Option<(u32, u32)> {
    let unsigned = text
        .strip_prefix('-')
        .or_else(|| text.strip_prefix('+'))
        .unwrap_or(text);
    let (integer, fraction) = unsigned.split_once('.').unwrap_or((unsigned, ""));
    if integer.is_empty() && fraction.is_empty() {
        return None;
    }
    if !integer.bytes().all(|b| b.is_ascii_digit()) || !fraction.bytes().all(|b| b.is_ascii_digit())
    {
        return None;
    }
    let integer = integer.trim_start_matches('0');
    let fraction = fraction.trim_end_matches('0');
    let fraction_count = u32::try_from(fraction.len()).ok()?;
    let total = u32::try_from(integer.len()).ok()? + fraction_count;
    Some((total.max(1), fraction_count))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimal_digits_count_as_xsd_does() {
        assert_eq!(decimal_digits("0012.3400"), Some((4, 2)));
        assert_eq!(decimal_digits("-5"), Some((1, 0)));
        assert_eq!(decimal_digits(".5"), Some((1, 1)));
        assert_eq!(decimal_digits("0"), Some((1, 0)));
        assert_eq!(decimal_digits("1e3"), None);
        assert_eq!(decimal_digits(""), None);
        assert_eq!(decimal_digits("."), None);
        assert_eq!(decimal_digits("1,5"), None);
    }

    #[test]
    fn doubles_are_read_as_xsd_writes_them() {
        for ok in [
            "1", "-1.5", "1e3", "1.5E-2", ".5", "INF", "-INF", "NaN", "+2",
        ] {
            assert!(is_double(ok), "{ok}");
        }
        for bad in [
            "", "inf", "nan", "1e", "e3", "1.5.2", "1,5", "0x10", "Infinity",
        ] {
            assert!(!is_double(bad), "{bad}");
        }
    }
}
