//! Cross-border e-commerce messages (CEB, 公告2018年第113号 and its 2022-05 revision).
//!
//! A CEB business message is a root `CEBnnnMessage` (`guid`, `version` attributes, namespace
//! `http://www.chinaport.gov.cn/ceb`) holding one or more business entities, a
//! `BaseTransfer` (who sends, over which DXP node), optional `BaseSubscribe` and
//! `ExtendMessage` blocks, and an XML signature that is mandatory where `appStatus` is 2.
//! The schemas of both editions are shipped compiled (`data/schemas/ceb-*.json`, see
//! [`crate::xsd`]).

use std::sync::OnceLock;

use compact_str::CompactString;
use jinguan_types::Diagnostic;

use crate::xml::Element;
use crate::xsd::{Content, Decl, Schema};

/// The CEB namespace.
pub const NAMESPACE: &str = "http://www.chinaport.gov.cn/ceb";

/// An edition of the CEB specification.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Edition {
    /// 公告2018年第113号 (2018).
    Gacc2018,
    /// The 2022-05 revision (adds CEB213-216 returns and tally messages).
    Gacc202205,
}

impl Edition {
    /// The identifier of the edition's compiled schema.
    pub fn id(self) -> &'static str {
        match self {
            Self::Gacc2018 => "ceb-2018-113",
            Self::Gacc202205 => "ceb-202205",
        }
    }

    /// Both editions, newest first.
    pub const ALL: [Edition; 2] = [Self::Gacc202205, Self::Gacc2018];
}

/// The compiled schema of an edition (import and export business messages together).
pub fn schema(edition: Edition) -> &'static Schema {
    static SCHEMAS: [OnceLock<Schema>; 2] = [OnceLock::new(), OnceLock::new()];
    let (slot, json) = match edition {
        Edition::Gacc2018 => (
            &SCHEMAS[0],
            include_str!("../../../data/schemas/ceb-2018-113.json"),
        ),
        Edition::Gacc202205 => (
            &SCHEMAS[1],
            include_str!("../../../data/schemas/ceb-202205.json"),
        ),
    };
    slot.get_or_init(|| {
        // The shipped JSON is checked by a test against the official XSDs; failing to read
        // it is a build defect, not an input error.
        #[allow(clippy::expect_used)]
        Schema::from_json(json).expect("the shipped CEB schema is valid JSON")
    })
}

/// Messages an enterprise sends, each with the receipt customs answers it with.
pub const RECEIPT_OF: &[(&str, &str)] = &[
    ("CEB311Message", "CEB312Message"),
    ("CEB411Message", "CEB412Message"),
    ("CEB511Message", "CEB512Message"),
    ("CEB513Message", "CEB514Message"),
    ("CEB621Message", "CEB622Message"),
    ("CEB623Message", "CEB624Message"),
    ("CEB625Message", "CEB626Message"),
    ("CEB711Message", "CEB712Message"),
    ("CEB303Message", "CEB304Message"),
    ("CEB403Message", "CEB404Message"),
    ("CEB505Message", "CEB506Message"),
    ("CEB507Message", "CEB508Message"),
    ("CEB509Message", "CEB510Message"),
    ("CEB603Message", "CEB604Message"),
    ("CEB605Message", "CEB606Message"),
    ("CEB607Message", "CEB608Message"),
    ("CEB213Message", "CEB214Message"),
    ("CEB215Message", "CEB216Message"),
    ("CEB701Message", "CEB702Message"),
];

/// Messages customs sends on its own: tax bills (816), their status (818), the format-check
/// notice (900) and the export summary result (792).
pub const NOTIFICATIONS: &[&str] = &[
    "CEB816Message",
    "CEB818Message",
    "CEB900Message",
    "CEB792Message",
];

/// The receipt that answers an inbound message type.
pub fn receipt_of(inbound: &str) -> Option<&'static str> {
    RECEIPT_OF
        .iter()
        .find(|(i, _)| *i == inbound)
        .map(|(_, r)| *r)
}

/// Element values in document order (names are local).
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Fields(pub Vec<(CompactString, CompactString)>);

impl Fields {
    /// The value of a field, if present and not empty.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }

    /// The value of a field, empty when absent.
    pub fn text(&self, name: &str) -> &str {
        self.get(name).unwrap_or("")
    }

    /// Sets a field, replacing its value if present.
    pub fn set(&mut self, name: &str, value: impl Into<CompactString>) {
        let value = value.into();
        match self.0.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = value,
            None => self.0.push((name.into(), value)),
        }
    }

    /// The fields an element's children are: their names and texts moved, not copied.
    fn taken(children: Vec<Element>) -> Self {
        Self(children.into_iter().map(|c| (c.name, c.text)).collect())
    }
}

/// One business entity of a message: an order, a payment, an inventory, a receipt...
/// Entities with a head and item lists (`InventoryHead` + `InventoryList`) have both; flat
/// ones (`InvtCancel`, `PaymentReturn`) have their fields as the head and no lists.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Entity {
    /// The entity's element name (`Inventory`, `InvtCancel`, ...).
    pub name: String,
    /// The head's element name when the entity has one (`InventoryHead`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub head_name: Option<String>,
    /// The head's (or the flat entity's) fields.
    pub head: Fields,
    /// The item lists' element name (`InventoryList`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub list_name: Option<String>,
    /// The items.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lists: Vec<Fields>,
}

/// A CEB message read.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Message {
    /// The root element, e.g. `CEB621Message`.
    pub root: String,
    /// The edition whose schema it satisfies (the newest one, when both do).
    #[serde(skip)]
    pub edition: Option<Edition>,
    /// The message's `guid` attribute.
    pub guid: String,
    /// The `version` attribute.
    pub version: String,
    /// The business entities.
    pub entities: Vec<Entity>,
    /// The sender's transfer block (`copCode`, `copName`, `dxpMode`, `dxpId`).
    pub base_transfer: Fields,
    /// Whether it carries an XML signature (checked by [`crate::xmldsig`]).
    pub signed: bool,
}

impl Message {
    /// The message type number (`621` of `CEB621Message`).
    pub fn number(&self) -> &str {
        self.root
            .strip_prefix("CEB")
            .and_then(|r| r.strip_suffix("Message"))
            .unwrap_or("")
    }

    /// Whether some entity asks to be declared (`appStatus` 2), which requires a signature.
    pub fn declares(&self) -> bool {
        self.entities
            .iter()
            .any(|e| e.head.get("appStatus") == Some("2"))
    }
}

/// Why a document is not a CEB message at all. Content problems are diagnostics instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CebError {
    /// Not well-formed, hostile or too large.
    #[error(transparent)]
    Xml(#[from] crate::xml::XmlError),
    /// The document element is not a CEB message in the CEB namespace.
    #[error("X0320: {0}")]
    NotCeb(String),
}

impl CebError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Xml(e) => e.code,
            Self::NotCeb(_) => "X0320",
        }
    }
}

/// Reads a CEB message: the document checked against the schema of each edition (the
/// newest that accepts it; the 2022-05 one's diagnostics when neither does), and its
/// entities. The diagnostics are the schema's: an empty list means the message is valid.
pub fn parse(bytes: &[u8]) -> Result<(Message, Vec<Diagnostic>), CebError> {
    message_of(crate::xml::parse(bytes, crate::xml::Limits::default())?)
}

/// [`parse`] of a document already read.
pub fn read(document: &Element) -> Result<(Message, Vec<Diagnostic>), CebError> {
    message_of(document.clone())
}

/// The message a tree is: its names and texts move into the message, not copied.
fn message_of(document: Element) -> Result<(Message, Vec<Diagnostic>), CebError> {
    let (mut message, diagnostics) = checked(&document)?;
    for child in document.children {
        match child.name.as_str() {
            "BaseTransfer" => message.base_transfer = Fields::taken(child.children),
            "Signature" => message.signed = true,
            "BaseSubscribe" | "ExtendMessage" => {}
            _ => message.entities.push(entity(child)),
        }
    }
    Ok((message, diagnostics))
}

/// The message a document is, without its entities yet (after its root and namespace are
/// checked and the edition whose schema it satisfies found), and what the schema found.
fn checked(document: &Element) -> Result<(Message, Vec<Diagnostic>), CebError> {
    if !document.name.starts_with("CEB") {
        return Err(CebError::NotCeb(format!(
            "the document element is {}, not a CEBnnnMessage",
            document.name
        )));
    }
    if !document
        .attributes
        .iter()
        .any(|(n, v)| (n == "xmlns" || n.starts_with("xmlns:")) && v == NAMESPACE)
    {
        return Err(CebError::NotCeb(format!(
            "{} is not in the CEB namespace {NAMESPACE}",
            document.name
        )));
    }
    let mut edition = None;
    let mut diagnostics = Vec::new();
    for candidate in Edition::ALL {
        let found = schema(candidate).validate(document);
        if found.is_empty() {
            edition = Some(candidate);
            diagnostics.clear();
            break;
        }
        if candidate == Edition::Gacc202205 {
            diagnostics = found;
        }
    }
    let message = Message {
        root: document.name.to_string(),
        edition,
        guid: document.attribute("guid").unwrap_or_default().to_owned(),
        version: document.attribute("version").unwrap_or_default().to_owned(),
        entities: Vec::with_capacity(document.children.len()),
        base_transfer: Fields::default(),
        signed: false,
    };
    Ok((message, diagnostics))
}

/// The entity an element is: a flat one's fields are its head; a nested one has a head (the
/// first part) and item lists (the rest). Its strings are moved, not copied.
fn entity(element: Element) -> Entity {
    let nested = element.children.iter().any(|c| !c.children.is_empty());
    if !nested {
        return Entity {
            head: Fields::taken(element.children),
            name: element.name.into(),
            ..Entity::default()
        };
    }
    let mut entity = Entity {
        name: element.name.into(),
        lists: Vec::with_capacity(element.children.len().saturating_sub(1)),
        ..Entity::default()
    };
    for (i, part) in element.children.into_iter().enumerate() {
        if i == 0 {
            entity.head_name = Some(part.name.into());
            entity.head = Fields::taken(part.children);
        } else {
            if entity.list_name.is_none() {
                entity.list_name = Some(part.name.into());
            }
            entity.lists.push(Fields::taken(part.children));
        }
    }
    entity
}

/// Why a message could not be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("X0321: the {root} written does not satisfy its schema: {}", .diagnostics.iter().map(|d| format!("{}: {}", d.path, d.message)).collect::<Vec<_>>().join("; "))]
pub struct WriteError {
    /// The message type.
    pub root: String,
    /// What the schema found.
    pub diagnostics: Vec<Diagnostic>,
}

/// Writes a message of `root` type holding `entities`, with each field placed where the
/// schema orders it, and checks the result against the schema before returning it: what
/// this returns validates, or it is an error naming what is wrong — except for a signature
/// the schema requires (CEB623, 625, 711), which the sender adds afterwards.
pub fn write(
    edition: Edition,
    root: &str,
    guid: &str,
    entities: &[Entity],
    base_transfer: Option<&Fields>,
) -> Result<String, WriteError> {
    let fail = |diagnostics: Vec<Diagnostic>| WriteError {
        root: root.to_owned(),
        diagnostics,
    };
    let schema = schema(edition);
    let Some(decl) = schema.root(root) else {
        return Err(fail(vec![Diagnostic::new(
            jinguan_types::Severity::Error,
            crate::xsd::codes::UNKNOWN_ROOT,
            root,
            format!("{root} is not a message of {}", schema.edition),
        )]));
    };
    let mut out = String::with_capacity(1024);
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!(
        "<ceb:{root} guid=\"{}\" version=\"1.0\" xmlns:ceb=\"{NAMESPACE}\">\n",
        escape(guid)
    ));
    // The tree of what is written, as a reader would build it from the text (values
    // trimmed), built alongside: the schema checks it without the text being read back.
    let mut document = Element {
        name: root.into(),
        attributes: vec![
            ("guid".to_owned(), guid.to_owned()),
            ("version".to_owned(), "1.0".to_owned()),
            ("xmlns:ceb".to_owned(), NAMESPACE.to_owned()),
        ],
        ..Element::default()
    };
    if let Content::Sequence { children, .. } = &decl.content {
        for particle in children {
            if particle.name == "BaseTransfer" {
                if let Some(fields) = base_transfer {
                    let element =
                        write_fields(&mut out, "BaseTransfer", &particle.content, fields, 1);
                    document.children.push(element);
                }
                continue;
            }
            for entity in entities.iter().filter(|e| e.name == particle.name) {
                document
                    .children
                    .push(write_entity(&mut out, particle, entity));
            }
        }
    }
    out.push_str(&format!("</ceb:{root}>\n"));
    // Text XML cannot carry (a control character) would make the document unreadable.
    if let Some((at, c)) = crate::c14n::first_bad_char(&out) {
        let (line, column) = crate::xml::line_column(&out, at);
        return Err(fail(vec![Diagnostic::new(
            jinguan_types::Severity::Error,
            "X0001",
            root,
            format!(
                "character U+{:04X} cannot be written in XML (line {line}, column {column})",
                u32::from(c)
            ),
        )]));
    }
    // A signature the schema requires is added by the signer, after writing (xmldsig::sign
    // puts it last, where these schemas have it): its absence is all that is allowed here.
    let diagnostics: Vec<Diagnostic> = schema
        .validate(&document)
        .into_iter()
        .filter(|d| {
            !(d.code == crate::xsd::codes::MISSING && d.path == format!("{root}/Signature"))
        })
        .collect();
    if diagnostics.is_empty() {
        Ok(out)
    } else {
        Err(fail(diagnostics))
    }
}

fn write_entity(out: &mut String, particle: &Decl, entity: &Entity) -> Element {
    let Content::Sequence { children, .. } = &particle.content else {
        return Element {
            name: particle.name.as_str().into(),
            ..Element::default()
        };
    };
    let nested = children
        .iter()
        .any(|c| matches!(c.content, Content::Sequence { .. }));
    if !nested {
        return write_fields(out, &particle.name, &particle.content, &entity.head, 1);
    }
    let mut element = Element {
        name: particle.name.as_str().into(),
        ..Element::default()
    };
    out.push_str(&format!("  <ceb:{}>\n", particle.name));
    for (i, part) in children.iter().enumerate() {
        if i == 0 {
            let head = write_fields(out, &part.name, &part.content, &entity.head, 2);
            element.children.push(head);
        } else {
            for list in &entity.lists {
                let list = write_fields(out, &part.name, &part.content, list, 2);
                element.children.push(list);
            }
        }
    }
    out.push_str(&format!("  </ceb:{}>\n", particle.name));
    element
}

/// Writes `fields` as the children of `name`, in the order the schema declares them; a field
/// the schema does not declare is written last, for the check to name. Returns the element
/// written.
fn write_fields(
    out: &mut String,
    name: &str,
    content: &Content,
    fields: &Fields,
    depth: usize,
) -> Element {
    // Receipts and tax bills are written for every inventory: pieces pushed, no `format!`.
    let indent = "  ".repeat(depth);
    out.push_str(&indent);
    out.push_str("<ceb:");
    out.push_str(name);
    out.push_str(">\n");
    let declared: &[crate::xsd::Decl] = match content {
        Content::Sequence { children, .. } => children,
        _ => &[],
    };
    // Each field's place in the schema's sequence (undeclared ones after all, for the check
    // to name); a stable sort keeps repeated fields in their order.
    let mut order: Vec<(usize, usize)> = fields
        .0
        .iter()
        .enumerate()
        .map(|(i, (n, _))| {
            let place = declared.iter().position(|d| d.name == *n);
            (place.unwrap_or(usize::MAX), i)
        })
        .collect();
    order.sort_by_key(|&(place, _)| place);
    let mut element = Element {
        name: name.into(),
        children: Vec::with_capacity(order.len()),
        ..Element::default()
    };
    for (_, i) in order {
        let Some((field, value)) = fields.0.get(i) else {
            continue;
        };
        out.push_str(&indent);
        out.push_str("  <ceb:");
        out.push_str(field);
        out.push('>');
        out.push_str(&escape(value));
        out.push_str("</ceb:");
        out.push_str(field);
        out.push_str(">\n");
        element.children.push(Element {
            name: field.clone(),
            text: value.trim().into(),
            ..Element::default()
        });
    }
    out.push_str(&indent);
    out.push_str("</ceb:");
    out.push_str(name);
    out.push_str(">\n");
    element
}

fn escape(text: &str) -> std::borrow::Cow<'_, str> {
    crate::xml::escape(text)
}

/// The fields a message's (first) entity must have, by its schema: for a receipt, what
/// every return must carry.
pub fn required_fields(edition: Edition, root: &str) -> Vec<String> {
    let Some(decl) = schema(edition).root(root) else {
        return Vec::new();
    };
    let Content::Sequence { children, .. } = &decl.content else {
        return Vec::new();
    };
    let Some(Content::Sequence {
        children: fields, ..
    }) = children.first().map(|c| &c.content)
    else {
        return Vec::new();
    };
    fields
        .iter()
        .filter(|f| f.min > 0)
        .map(|f| f.name.clone())
        .collect()
}

/// What a receipt says about one entity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    /// `returnStatus`: `2` declared, `120` stored by customs, `399` cleared, `800` released,
    /// `100` returned; negative numbers are processing errors (`ceb_error_codes`).
    pub status: String,
    /// `returnInfo`, e.g. `[Code:2600;Desc:放行]`.
    pub info: String,
    /// Numbers customs assigned (`preNo`, `invtNo`, ...), written where the receipt has them.
    pub assigned: Fields,
}

/// The receipt entity answering `entity` of an inbound message: every field the receipt's
/// schema declares is taken from the entity's head where it has one of that name (the ids
/// a receipt echoes), then from `outcome.assigned`; `returnStatus`, `returnTime`
/// (`yyyyMMddHHmmssSSS`) and `returnInfo` from the outcome.
pub fn receipt_entity(
    edition: Edition,
    receipt_root: &str,
    entity: &Entity,
    outcome: &Outcome,
    time: chrono::NaiveDateTime,
) -> Option<Entity> {
    let decl = schema(edition).root(receipt_root)?;
    let Content::Sequence { children, .. } = &decl.content else {
        return None;
    };
    let particle = children.first()?;
    let Content::Sequence {
        children: fields, ..
    } = &particle.content
    else {
        return None;
    };
    let mut head = Fields::default();
    for field in fields {
        let value = match field.name.as_str() {
            "returnStatus" => Some(outcome.status.as_str().into()),
            "returnInfo" => Some(outcome.info.as_str().into()),
            "returnTime" => Some(CompactString::from(
                time.format("%Y%m%d%H%M%S%3f").to_string(),
            )),
            // A value assigned wins, even empty: a receipt may have to carry an element
            // the decision has nothing for (CEB604's invtNo of a refused inventory).
            name => outcome
                .assigned
                .0
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
                .or_else(|| entity.head.get(name).map(CompactString::from)),
        };
        if let Some(value) = value {
            head.0.push((field.name.as_str().into(), value));
        }
    }
    Some(Entity {
        name: particle.name.clone(),
        head,
        ..Entity::default()
    })
}

/// The CEB900 `MessageReturn` entity: a message failed its format check. `original` is the
/// message as received (kept whole, as the specification asks, so the sender can match it).
pub fn format_check_entity(
    guid: &str,
    status: &str,
    info: &str,
    time: chrono::NaiveDateTime,
    original_id: &str,
    original_type: &str,
    original: &str,
) -> Entity {
    let mut head = Fields::default();
    head.set("guid", guid);
    head.set("returnStatus", status);
    head.set("returnInfo", info.chars().take(5000).collect::<String>());
    head.set("returnTime", time.format("%Y%m%d%H%M%S%3f").to_string());
    head.set(
        "oriCopMsgId",
        original_id.chars().take(255).collect::<String>(),
    );
    head.set(
        "oriMessageType",
        original_type.chars().take(15).collect::<String>(),
    );
    head.set("oriBizMessage", original);
    Entity {
        name: "MessageReturn".into(),
        head,
        ..Entity::default()
    }
}
