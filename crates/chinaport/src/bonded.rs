//! 金关二期 bonded and processing-trade intake: the 核注清单 (bonded inventory, `INV101`) and
//! the 核放单 (gate pass, `SAS121`), and the receipts customs answers them with (`INV201`,
//! `SAS221`).
//!
//! Both come in the 金关二期 envelope: `Signature` › `Object` › `Package` ›
//! `EnvelopInfo{version, business_id, message_id, file_name, message_type, sender_id,
//! receiver_id, send_time}` + `DataInfo{PocketInfo, BussinessData{payload}}`, or a bare
//! `Package`. The payload is in one of two forms, and both are read:
//!
//! - **official** (the bssp XSDs in `../shared/corpus/china/bonded/jg2-xsd-bssp`, compiled
//!   into `data/schemas/jg2-*.json`): `INV101{BondInvtBsc, BondInvtDt*}` in the XML-DSig
//!   namespace, `SAS121{SasPassportBsc, SasPassportDt*, SasPassportRlt*}` in none. Checked
//!   against the official schema exactly as `xmllint --schema` checks it (tests compare).
//! - **client** (what the single window's desktop client uploads, in no namespace):
//!   `InvtMessage{InvtHeadType, InvtListType*, SysId, OperCusRegCode}` and
//!   `PassPortMessage{PassportHead, PassportAcmp*, OperCusRegCode}`, PascalCase, with
//!   `DelcareFlag` (0 暂存 draft, 1 申报 declared) beside the payload. No official schema of
//!   this form is published; each field the official form also has is checked against the
//!   official field's type and facets, an empty element counts as absent, the fields only
//!   the client form has ([`CLIENT_ONLY`]) are kept as sent, and any other name is refused.
//!
//! Either way the message is read into the same typed model ([`BondedInventory`],
//! [`Passport`]) and the fields as sent are kept under their official names, so that what
//! is recorded is the message, not a summary of it. The business checks after the schema's
//! (required fields of the client form, I/E marks, item numbering) have their own codes.
//!
//! Receipts: [`write_receipt`] writes an `INV201` (a bare `Package` in the XML-DSig
//! namespace, valid by `INV201.xsd`) or a `SAS221` (its `Package` in no namespace, the
//! `SAS221` element in `cn.gov.customs.hde.app.sas`, valid by `SAS221.xsd`) and checks what
//! it wrote against the official schema before returning it.

use std::sync::OnceLock;

use chrono::NaiveDateTime;
use jinguan_types::{Diagnostic, Severity};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::ceb::Fields;
use crate::xml::{self, Element};
use crate::xsd::{self, Content, Decl, Schema};

/// The XML-DSig namespace, which the official INV family's schemas target.
pub const DSIG_NAMESPACE: &str = "http://www.w3.org/2000/09/xmldsig#";
/// The namespace of the `SAS221` receipt.
pub const SAS_RECEIPT_NAMESPACE: &str = "cn.gov.customs.hde.app.sas";

/// Codes of bonded-message diagnostics and errors. Stable API.
pub mod codes {
    /// Not a 金关二期 message: no `Package`, or a message type Jinguan does not take.
    pub const NOT_BONDED: &str = "X0350";
    /// `BussinessData` does not hold the payload its message type names.
    pub const PAYLOAD: &str = "X0351";
    /// A field the message needs is missing (client form; the official schema requires
    /// them itself).
    pub const REQUIRED: &str = "X0352";
    /// A mark or flag that is not one of its codes.
    pub const CODE: &str = "X0353";
    /// Items not numbered 1, 2, 3... in order.
    pub const NUMBERING: &str = "X0354";
    /// A field name the client form does not have.
    pub const UNKNOWN_FIELD: &str = "X0355";
    /// A receipt written does not satisfy its schema (a defect, never the sender's).
    pub const WRITE: &str = "X0356";
}

/// The message types taken in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Kind {
    /// 核注清单 (bonded inventory).
    #[serde(rename = "INV101")]
    Inv101,
    /// 核放单 (gate pass).
    #[serde(rename = "SAS121")]
    Sas121,
}

impl Kind {
    /// Every kind.
    pub const ALL: [Kind; 2] = [Kind::Inv101, Kind::Sas121];

    /// The envelope's `message_type`.
    pub fn message_type(self) -> &'static str {
        match self {
            Kind::Inv101 => "INV101",
            Kind::Sas121 => "SAS121",
        }
    }

    /// The message type of customs' receipt.
    pub fn receipt_type(self) -> &'static str {
        match self {
            Kind::Inv101 => "INV201",
            Kind::Sas121 => "SAS221",
        }
    }

    /// The kind of a `message_type`.
    pub fn of(message_type: &str) -> Option<Kind> {
        Kind::ALL
            .into_iter()
            .find(|k| k.message_type() == message_type.trim())
    }

    /// The namespace the official form is in (none for the SAS family).
    pub fn namespace(self) -> &'static str {
        match self {
            Kind::Inv101 => DSIG_NAMESPACE,
            Kind::Sas121 => "",
        }
    }

    fn client_payload(self) -> &'static str {
        match self {
            Kind::Inv101 => "InvtMessage",
            Kind::Sas121 => "PassPortMessage",
        }
    }

    /// (client element, official element) of the head and of the item lists.
    fn parts(self) -> [(&'static str, &'static str); 2] {
        match self {
            Kind::Inv101 => [
                ("InvtHeadType", "BondInvtBsc"),
                ("InvtListType", "BondInvtDt"),
            ],
            Kind::Sas121 => [
                ("PassportHead", "SasPassportBsc"),
                ("PassportAcmp", "SasPassportRlt"),
            ],
        }
    }
}

/// The payload's form.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Form {
    /// The bssp XSD form (`INV101`, `SAS121`).
    Official,
    /// The single window client's upload form (`InvtMessage`, `PassPortMessage`).
    Client,
}

/// Fields only the client form has (none of them is in the official schema), by part.
pub const CLIENT_ONLY: &[(&str, &[&str])] = &[
    (
        "InvtHeadType",
        &[
            "SeqNo",
            "InputCode",
            "InputCreditCode",
            "InputName",
            "InputTime",
            "CorrEntryDclEtpsSccd",
            "CorrEntryDclEtpsNo",
            "CorrEntryDclEtpsNm",
            "RltEntryRvsngdEtpsSccd",
            "RltEntryRcvgdEtpsno",
            "RltEntryRcvgdEtpsNm",
            "RltEntryDclEtpsSccd",
            "RltEntryDclEtpsNm",
            "RltEntryDclEtpsno",
            "ListType",
            "IcCardNo",
            "ListStat",
            "DecType",
            "InvtType",
            "AddTime",
        ],
    ),
    ("InvtListType", &["SeqNo", "AddTime"]),
    (
        "PassportHead",
        &[
            "SeqNo",
            "AreainOriactNo",
            "DclEtpsno",
            "DclEtpsNm",
            "DclEtpsSccd",
            "InputCode",
            "InputSccd",
            "InputName",
            "EtpsPreentNo",
        ],
    ),
    ("PassportAcmp", &["SeqNo"]),
];

/// Client names whose official counterpart is not the name with its first letter lowered.
const RENAMED: &[(&str, &str, &str)] = &[
    ("InvtHeadType", "PassportUsedTypeCd", "passportUsedTypecd"),
    ("PassportAcmp", "PassPortNo", "passportNo"),
    ("PassportAcmp", "RtlBillTypecd", "rltTbTypecd"),
    ("PassportAcmp", "RtlBillNo", "rltNo"),
];

/// The compiled official schema of a message type (`INV101`, `INV201`, `SAS121`, `SAS221`).
pub fn schema(message_type: &str) -> Option<&'static Schema> {
    static SCHEMAS: OnceLock<Vec<Schema>> = OnceLock::new();
    let schemas = SCHEMAS.get_or_init(|| {
        [
            include_str!("../../../data/schemas/jg2-INV101.json"),
            include_str!("../../../data/schemas/jg2-INV201.json"),
            include_str!("../../../data/schemas/jg2-SAS121.json"),
            include_str!("../../../data/schemas/jg2-SAS221.json"),
        ]
        .iter()
        // Checked against the official XSDs by a test; one that does not read is a build
        // defect, and is left out rather than taking the server down.
        .filter_map(|json| Schema::from_json(json).ok())
        .collect()
    });
    schemas
        .iter()
        .find(|s| s.edition.strip_prefix("jg2-") == Some(message_type))
}

/// The 金关二期 envelope's header.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    /// `version`.
    pub version: String,
    /// `business_id`.
    pub business_id: String,
    /// `message_id`: the sender's id of this message.
    pub message_id: String,
    /// `file_name`.
    pub file_name: String,
    /// `message_type` (`INV101`, `SAS121`).
    pub message_type: String,
    /// `sender_id`: the sending DXP node.
    pub sender_id: String,
    /// `receiver_id`.
    pub receiver_id: String,
    /// `send_time` as sent.
    pub send_time: String,
    /// `Ic_Card` (client form only): the operator's IC card.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub ic_card: String,
}

/// An enterprise as the bonded messages name one.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Enterprise {
    /// Customs registration code (10 characters).
    pub code: String,
    /// Unified social credit code (18 characters).
    pub credit_code: String,
    /// Name.
    pub name: String,
}

/// Import or export (`I`/`E`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// `I`.
    Import,
    /// `E`.
    Export,
}

impl Direction {
    fn of(code: &str) -> Option<Self> {
        match code {
            "I" => Some(Self::Import),
            "E" => Some(Self::Export),
            _ => None,
        }
    }

    /// The mark (`I`/`E`).
    pub fn mark(self) -> char {
        match self {
            Self::Import => 'I',
            Self::Export => 'E',
        }
    }
}

/// A 核注清单: the one bonded document that moves a book's balances.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BondedInventory {
    /// 企业内部清单编号: the enterprise's own number, the key it is known by until customs
    /// numbers it.
    pub inner_no: String,
    /// 清单预录入编号.
    pub pre_entry_no: String,
    /// 保税清单编号, when customs has numbered it (a change names it).
    pub bond_invt_no: String,
    /// 变更次数: 0 for a new inventory.
    pub change_count: i64,
    /// 备案编号: the book (账册 `E…`/`T…`) or manual (手册 `B…`/`C…`) it moves.
    pub book_no: String,
    /// 经营企业.
    pub operator: Enterprise,
    /// 加工/收发货企业.
    pub receiver: Enterprise,
    /// 申报企业.
    pub declarant: Enterprise,
    /// 进出口标记.
    pub direction: Option<Direction>,
    /// 料件成品标记: `I` materials (料件), `E` finished products (成品).
    pub materials_or_products: String,
    /// 监管方式 (4 digits: 0615 进料对口, 5000 料件进出区...).
    pub supervision_mode: String,
    /// 运输方式.
    pub transport_mode: String,
    /// 进出口口岸 (4-digit customs code).
    pub port: String,
    /// 申报地关区.
    pub customs: String,
    /// 起运/运抵国.
    pub country: String,
    /// 是否报关: `1` a declaration follows, `2` none.
    pub declaration_flag: String,
    /// The items.
    pub items: Vec<InventoryItem>,
}

/// One item of a 核注清单.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InventoryItem {
    /// 商品序号.
    pub seq: i64,
    /// 备案序号: the book item it moves.
    pub book_seq: Option<i64>,
    /// 商品料号.
    pub material_no: String,
    /// 商品编码 (10 digits).
    pub hs_code: String,
    /// 商品名称.
    pub name: String,
    /// 规格型号.
    pub model: String,
    /// 申报计量单位.
    pub unit: String,
    /// 法定计量单位.
    pub legal_unit: String,
    /// 原产/最终目的国.
    pub country: String,
    /// 申报单价.
    pub unit_price: Option<Decimal>,
    /// 申报总价.
    pub total: Option<Decimal>,
    /// 币制.
    pub currency: String,
    /// 申报数量.
    pub quantity: Option<Decimal>,
    /// 法定数量.
    pub legal_quantity: Option<Decimal>,
    /// 毛重 (kg).
    pub gross_weight: Option<Decimal>,
    /// 净重 (kg).
    pub net_weight: Option<Decimal>,
    /// 征减免方式.
    pub duty_mode: String,
}

/// A 核放单: the pass a vehicle shows at a bonded zone's gate.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Passport {
    /// The enterprise's pre-entry number (client `EtpsPreentNo`, official
    /// `sasPassportPreentNo`).
    pub pre_entry_no: String,
    /// 核放单编号, when customs has numbered it.
    pub passport_no: String,
    /// 核放单类型.
    pub passport_type: String,
    /// 主管关区.
    pub customs: String,
    /// 申报类型.
    pub declaration_type: String,
    /// 进出区标志 (`I` into the zone, `E` out of it).
    pub direction: Option<Direction>,
    /// 绑定类型.
    pub bind_type: String,
    /// 关联单证类型.
    pub related_type: String,
    /// 关联单证编号 (the 核注清单 it carries, usually).
    pub related_no: String,
    /// 区内企业.
    pub zone_enterprise: Enterprise,
    /// 申报企业 (client form).
    pub declarant: Enterprise,
    /// 承运车牌号.
    pub vehicle_no: String,
    /// 车辆IC卡号.
    pub vehicle_ic_no: String,
    /// 集装箱号.
    pub container_no: String,
    /// 车自重 (kg).
    pub vehicle_weight: Option<Decimal>,
    /// 车架重 (kg).
    pub frame_weight: Option<Decimal>,
    /// 集装箱重 (kg).
    pub container_weight: Option<Decimal>,
    /// 总重量 (kg).
    pub total_weight: Option<Decimal>,
    /// 货物总毛重 (kg).
    pub gross_weight: Option<Decimal>,
    /// 货物总净重 (kg).
    pub net_weight: Option<Decimal>,
    /// The documents it carries: (type, number).
    pub related: Vec<(String, String)>,
}

/// What a message carries, typed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "lowercase")]
pub enum Document {
    /// An INV101.
    Inventory(BondedInventory),
    /// A SAS121.
    Passport(Passport),
}

/// A 金关二期 message read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BondedMessage {
    /// Its type.
    pub kind: Kind,
    /// The payload's form.
    pub form: Form,
    /// The envelope.
    pub envelope: Envelope,
    /// Whether it is declared (`DelcareFlag` 1; the official form is always declared) rather
    /// than kept as a draft (暂存, 0).
    pub declared: bool,
    /// Whether it came in a `Signature` (the enveloping form).
    pub enveloped: bool,
    /// The typed document.
    pub document: Document,
    /// The head's fields as sent, under their official names.
    pub head: Fields,
    /// The items' (and related documents') fields as sent, under their official names.
    pub items: Vec<Fields>,
    /// Fields only the client form has, and the payload's own (`SysId`, `OperCusRegCode`),
    /// as `part/name`.
    pub extra: Fields,
}

impl BondedMessage {
    /// The key the sender knows the document by: the inventory's inner number, the pass's
    /// pre-entry number.
    pub fn sender_key(&self) -> &str {
        match &self.document {
            Document::Inventory(i) => &i.inner_no,
            Document::Passport(p) => &p.pre_entry_no,
        }
    }

    /// The number customs gave it, when the message names one (a change).
    pub fn number(&self) -> &str {
        match &self.document {
            Document::Inventory(i) => &i.bond_invt_no,
            Document::Passport(p) => &p.passport_no,
        }
    }
}

/// Why a document is not a bonded message at all. Content problems are diagnostics.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BondedError {
    /// Not well-formed, hostile or too large.
    #[error(transparent)]
    Xml(#[from] xml::XmlError),
    /// Not a 金关二期 message Jinguan takes.
    #[error("X0350: {0}")]
    NotBonded(String),
}

impl BondedError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Xml(e) => e.code,
            Self::NotBonded(_) => codes::NOT_BONDED,
        }
    }
}

fn diagnostic(code: &str, path: impl Into<String>, message: impl Into<String>) -> Diagnostic {
    Diagnostic::new(Severity::Error, code, path.into(), message.into())
}

/// The `Package` of a document (its root, or `Signature/Object/Package`).
fn package(root: &Element) -> Option<&Element> {
    match root.name.as_str() {
        "Package" => Some(root),
        "Signature" => root.child("Object")?.child("Package"),
        _ => None,
    }
}

/// The message type a document's envelope names, read from a parsed document.
pub fn message_type(root: &Element) -> Option<&str> {
    Some(
        package(root)?
            .child("EnvelopInfo")?
            .child("message_type")?
            .text
            .as_str(),
    )
}

/// Reads a bonded message: the envelope, the payload in either form checked against the
/// official schema (see the module's documentation), the business checks, and the typed
/// model. An empty diagnostics list means it may be recorded.
pub fn parse(bytes: &[u8]) -> Result<(BondedMessage, Vec<Diagnostic>), BondedError> {
    let document = xml::parse(bytes, xml::Limits::default())?;
    read(&document)
}

/// [`parse`] of a document already read.
pub fn read(root: &Element) -> Result<(BondedMessage, Vec<Diagnostic>), BondedError> {
    let package = package(root).ok_or_else(|| {
        BondedError::NotBonded(format!(
            "the document element is {}; a 金关二期 message is a Package, or a Signature \
             whose Object holds one",
            root.name
        ))
    })?;
    let stated = message_type(root).unwrap_or_default();
    let kind = Kind::of(stated).ok_or_else(|| {
        BondedError::NotBonded(format!(
            "message_type {stated:?} is not one Jinguan takes (INV101, SAS121)"
        ))
    })?;
    let data = package.child("DataInfo");
    let business = data.and_then(|d| d.child("BussinessData"));
    let payload = business.and_then(|b| b.children.first());
    let form = match payload.map(|p| p.name.as_str()) {
        Some(name) if name == kind.client_payload() => Form::Client,
        _ => Form::Official,
    };
    let mut diagnostics = Vec::new();
    let mut extra = Fields::default();
    let envelope = envelope(package, form, &mut diagnostics);
    let (head, items, declared) = match form {
        Form::Official => {
            diagnostics.extend(official_checks(kind, root));
            let official = payload.filter(|p| p.name == kind.message_type());
            let (head, items) = official
                .map(|p| official_fields(kind, p))
                .unwrap_or_default();
            (head, items, true)
        }
        Form::Client => {
            let payload = payload.unwrap_or(root);
            let (head, items) = client_fields(kind, payload, &mut extra, &mut diagnostics);
            let flag = business
                .and_then(|b| b.child("DelcareFlag"))
                .map(|f| f.text.as_str())
                .unwrap_or("");
            if !matches!(flag, "0" | "1") {
                diagnostics.push(diagnostic(
                    codes::CODE,
                    "Package/DataInfo/BussinessData/DelcareFlag",
                    format!("DelcareFlag {flag:?} is neither 0 (暂存, draft) nor 1 (申报)"),
                ));
            }
            (head, items, flag == "1")
        }
    };
    let document = match kind {
        Kind::Inv101 => Document::Inventory(inventory(&head, &items)),
        Kind::Sas121 => Document::Passport(passport(&head, &items, &extra)),
    };
    business_checks(kind, form, &document, &head, &items, &mut diagnostics);
    Ok((
        BondedMessage {
            kind,
            form,
            envelope,
            declared,
            enveloped: root.name == "Signature",
            document,
            head,
            items,
            extra,
        },
        diagnostics,
    ))
}

fn envelope(package: &Element, form: Form, diagnostics: &mut Vec<Diagnostic>) -> Envelope {
    let info = package.child("EnvelopInfo");
    let text = |name: &str| {
        info.and_then(|i| i.child(name))
            .map(|e| e.text.to_string())
            .unwrap_or_default()
    };
    if form == Form::Client {
        // The client's envelope: the official one's fields, and Ic_Card. Both families'
        // HDE_W3C_Common.xsd declare EnvelopInfo alike (only their namespaces differ), and the
        // client form has none, so the SAS family's declaration serves either.
        if let (Some(info), Some(decl)) = (
            info,
            schema("SAS121").and_then(|s| s.find(&["Package", "EnvelopInfo"])),
        ) {
            let mut official = info.clone();
            // As in its payload, an element the client left empty is absent.
            official
                .children
                .retain(|c| c.name != "Ic_Card" && !(c.text.is_empty() && c.children.is_empty()));
            diagnostics.extend(
                xsd::validate_as(decl, &official)
                    .into_iter()
                    .map(|d| under("Package", d)),
            );
        }
    }
    Envelope {
        version: text("version"),
        business_id: text("business_id"),
        message_id: text("message_id"),
        file_name: text("file_name"),
        message_type: text("message_type"),
        sender_id: text("sender_id"),
        receiver_id: text("receiver_id"),
        send_time: text("send_time"),
        ic_card: text("Ic_Card"),
    }
}

/// A diagnostic of a part, its path put under the part's parent.
fn under(parent: &str, mut d: Diagnostic) -> Diagnostic {
    d.path = format!("{parent}/{}", d.path);
    d
}

/// Whether the document element is in `namespace` (its default namespace, or its prefix's).
fn in_namespace(root: &Element, namespace: &str) -> bool {
    let declared = |key: &str| {
        root.attributes
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    };
    // The reader keeps local names; a prefixed root is found by its declaration's value.
    let default = declared("xmlns").unwrap_or("");
    if namespace.is_empty() {
        return default.is_empty()
            && !root
                .attributes
                .iter()
                .any(|(k, v)| k.starts_with("xmlns:") && v == DSIG_NAMESPACE);
    }
    default == namespace
        || root
            .attributes
            .iter()
            .any(|(k, v)| k.starts_with("xmlns:") && v == namespace)
}

fn official_checks(kind: Kind, root: &Element) -> Vec<Diagnostic> {
    let Some(schema) = schema(kind.message_type()) else {
        return vec![diagnostic(
            codes::NOT_BONDED,
            root.name.clone(),
            format!("the {} schema is not available", kind.message_type()),
        )];
    };
    if !in_namespace(root, kind.namespace()) {
        let wanted = if kind.namespace().is_empty() {
            "no namespace".to_owned()
        } else {
            format!("the namespace {}", kind.namespace())
        };
        return vec![diagnostic(
            xsd::codes::UNKNOWN_ROOT,
            root.name.clone(),
            format!(
                "an official {} is in {wanted} (or is sent in the client's InvtMessage or \
                 PassPortMessage form)",
                kind.message_type()
            ),
        )];
    }
    schema.validate(root)
}

fn official_fields(kind: Kind, payload: &Element) -> (Fields, Vec<Fields>) {
    let [(_, head_name), (_, list_name)] = kind.parts();
    let of = |e: &Element| {
        Fields(
            e.children
                .iter()
                .map(|c| (c.name.clone(), c.text.clone()))
                .collect(),
        )
    };
    let head = payload.child(head_name).map(of).unwrap_or_default();
    let items = payload
        .children
        .iter()
        .filter(|c| c.name == list_name)
        .map(of)
        .collect();
    (head, items)
}

/// The official name of a client field.
fn official_name(part: &str, client: &str) -> String {
    if let Some((_, _, official)) = RENAMED.iter().find(|(p, c, _)| *p == part && *c == client) {
        return (*official).to_owned();
    }
    let mut chars = client.chars();
    match chars.next() {
        Some(first) => first.to_ascii_lowercase().to_string() + chars.as_str(),
        None => String::new(),
    }
}

fn client_only(part: &str, name: &str) -> bool {
    CLIENT_ONLY
        .iter()
        .any(|(p, names)| *p == part && names.contains(&name))
}

/// The official declaration of a part (`BondInvtBsc`...), found in the official schema.
fn official_part(kind: Kind, name: &str) -> Option<&'static Decl> {
    let schema = schema(kind.message_type())?;
    schema.find(&[
        "Package",
        "DataInfo",
        "BussinessData",
        kind.message_type(),
        name,
    ])
}

/// The client form read: each part's fields renamed to the official ones and checked against
/// the official field's declaration.
fn client_fields(
    kind: Kind,
    payload: &Element,
    extra: &mut Fields,
    diagnostics: &mut Vec<Diagnostic>,
) -> (Fields, Vec<Fields>) {
    let base = format!("Package/DataInfo/BussinessData/{}", payload.name);
    let [(head_part, head_official), (list_part, list_official)] = kind.parts();
    let mut head = Fields::default();
    let mut items = Vec::new();
    let mut heads = 0;
    let mut lists = 0;
    for part in &payload.children {
        let (official, index) = if part.name == head_part {
            heads += 1;
            (head_official, 0)
        } else if part.name == list_part {
            lists += 1;
            (list_official, lists)
        } else if matches!(part.name.as_str(), "SysId" | "OperCusRegCode") {
            extra.set(&part.name, part.text.clone());
            continue;
        } else {
            diagnostics.push(diagnostic(
                codes::UNKNOWN_FIELD,
                format!("{base}/{}", part.name),
                format!("{} is not a part of {}", part.name, payload.name),
            ));
            continue;
        };
        let path = if index > 0 {
            format!("{base}/{}[{index}]", part.name)
        } else {
            format!("{base}/{}", part.name)
        };
        if index == 0 && heads > 1 {
            diagnostics.push(diagnostic(
                xsd::codes::TOO_MANY,
                path,
                format!("{} occurs more than once", part.name),
            ));
            continue;
        }
        let fields = client_part(kind, official, part, &path, extra, diagnostics);
        if index == 0 {
            head = fields;
        } else {
            items.push(fields);
        }
    }
    if heads == 0 {
        diagnostics.push(diagnostic(
            xsd::codes::MISSING,
            format!("{base}/{head_part}"),
            format!("{head_part} is missing from {}", payload.name),
        ));
    }
    (head, items)
}

fn client_part(
    kind: Kind,
    official: &str,
    part: &Element,
    path: &str,
    extra: &mut Fields,
    diagnostics: &mut Vec<Diagnostic>,
) -> Fields {
    let decl = official_part(kind, official);
    let declared = |name: &str| match decl.map(|d| &d.content) {
        Some(Content::Sequence { children, .. }) => children.iter().find(|c| c.name == name),
        _ => None,
    };
    let mut fields = Fields::default();
    for field in &part.children {
        if !field.children.is_empty() {
            diagnostics.push(diagnostic(
                xsd::codes::CONTENT,
                format!("{path}/{}", field.name),
                format!("{} holds a value, not elements", field.name),
            ));
            continue;
        }
        // An empty element is a field the sender left blank: absent.
        if field.text.is_empty() {
            continue;
        }
        if client_only(&part.name, &field.name) {
            extra.set(&format!("{}/{}", part.name, field.name), field.text.clone());
            continue;
        }
        let name = official_name(&part.name, &field.name);
        let Some(field_decl) = declared(&name) else {
            diagnostics.push(diagnostic(
                codes::UNKNOWN_FIELD,
                format!("{path}/{}", field.name),
                format!("{} is not a field of {}", field.name, part.name),
            ));
            continue;
        };
        if fields.get(&name).is_some() {
            diagnostics.push(diagnostic(
                xsd::codes::TOO_MANY,
                format!("{path}/{}", field.name),
                format!("{} occurs more than once", field.name),
            ));
            continue;
        }
        diagnostics.extend(
            xsd::validate_as(field_decl, field)
                .into_iter()
                .map(|d| under(path, d)),
        );
        fields.set(&name, field.text.clone());
    }
    fields
}

fn enterprise(head: &Fields, credit: &str, code: &str, name: &str) -> Enterprise {
    Enterprise {
        code: head.text(code).to_owned(),
        credit_code: head.text(credit).to_owned(),
        name: head.text(name).to_owned(),
    }
}

fn number(fields: &Fields, name: &str) -> Option<Decimal> {
    fields.get(name).and_then(|v| v.trim().parse().ok())
}

fn whole(fields: &Fields, name: &str) -> Option<i64> {
    fields.get(name).and_then(|v| v.trim().parse().ok())
}

fn inventory(head: &Fields, items: &[Fields]) -> BondedInventory {
    BondedInventory {
        inner_no: head.text("etpsInnerInvtNo").to_owned(),
        pre_entry_no: head.text("invtPreentNo").to_owned(),
        bond_invt_no: head.text("bondInvtNo").to_owned(),
        change_count: whole(head, "chgTmsCnt").unwrap_or(0),
        book_no: head.text("putrecNo").to_owned(),
        operator: enterprise(head, "bizopEtpsSccd", "bizopEtpsno", "bizopEtpsNm"),
        receiver: enterprise(head, "rvsngdEtpsSccd", "rcvgdEtpsno", "rcvgdEtpsNm"),
        declarant: enterprise(head, "dclEtpsSccd", "dclEtpsno", "dclEtpsNm"),
        direction: Direction::of(head.text("impexpMarkcd")),
        materials_or_products: head.text("mtpckEndprdMarkcd").to_owned(),
        supervision_mode: head.text("supvModecd").to_owned(),
        transport_mode: head.text("trspModecd").to_owned(),
        port: head.text("impexpPortcd").to_owned(),
        customs: head.text("dclPlcCuscd").to_owned(),
        country: head.text("stshipTrsarvNatcd").to_owned(),
        declaration_flag: head.text("dclcusFlag").to_owned(),
        items: items
            .iter()
            .map(|item| InventoryItem {
                seq: whole(item, "gdsSeqno").unwrap_or(0),
                book_seq: whole(item, "putrecSeqno"),
                material_no: item.text("gdsMtno").to_owned(),
                hs_code: item.text("gdecd").to_owned(),
                name: item.text("gdsNm").to_owned(),
                model: item.text("gdsSpcfModelDesc").to_owned(),
                unit: item.text("dclUnitcd").to_owned(),
                legal_unit: item.text("lawfUnitcd").to_owned(),
                country: item.text("natcd").to_owned(),
                unit_price: number(item, "dclUprcAmt"),
                total: number(item, "dclTotalAmt"),
                currency: item.text("dclCurrcd").to_owned(),
                quantity: number(item, "dclQty"),
                legal_quantity: number(item, "lawfQty"),
                gross_weight: number(item, "grossWt"),
                net_weight: number(item, "netWt"),
                duty_mode: item.text("lvyrlfModecd").to_owned(),
            })
            .collect(),
    }
}

fn passport(head: &Fields, items: &[Fields], extra: &Fields) -> Passport {
    let pre_entry_no = head
        .get("sasPassportPreentNo")
        .or_else(|| extra.get("PassportHead/EtpsPreentNo"))
        .unwrap_or_default()
        .to_owned();
    Passport {
        pre_entry_no,
        passport_no: head.text("passportNo").to_owned(),
        passport_type: head.text("passportTypecd").to_owned(),
        customs: head.text("masterCuscd").to_owned(),
        declaration_type: head.text("dclTypecd").to_owned(),
        direction: Direction::of(head.text("ioTypecd")),
        bind_type: head.text("bindTypecd").to_owned(),
        related_type: head.text("rltTbTypecd").to_owned(),
        related_no: head.text("rltNo").to_owned(),
        zone_enterprise: enterprise(head, "areainEtpsSccd", "areainEtpsno", "areainEtpsNm"),
        declarant: Enterprise {
            code: extra.text("PassportHead/DclEtpsno").to_owned(),
            credit_code: extra.text("PassportHead/DclEtpsSccd").to_owned(),
            name: extra.text("PassportHead/DclEtpsNm").to_owned(),
        },
        vehicle_no: head.text("vehicleNo").to_owned(),
        vehicle_ic_no: head.text("vehicleIcNo").to_owned(),
        container_no: head.text("containerNo").to_owned(),
        vehicle_weight: number(head, "vehicleWt"),
        frame_weight: number(head, "vehicleFrameWt"),
        container_weight: number(head, "containerWt"),
        total_weight: number(head, "totalWt"),
        gross_weight: number(head, "totalGrossWt"),
        net_weight: number(head, "totalNetWt"),
        related: items
            .iter()
            .filter(|i| i.get("rltNo").is_some())
            .map(|i| (i.text("rltTbTypecd").to_owned(), i.text("rltNo").to_owned()))
            .collect(),
    }
}

/// What a message needs beyond its schema: the fields without which it cannot be recorded
/// (the client form leaves every field optional), the I/E marks and flags as codes, and
/// items numbered 1, 2, 3...
fn business_checks(
    kind: Kind,
    form: Form,
    document: &Document,
    head: &Fields,
    items: &[Fields],
    diagnostics: &mut Vec<Diagnostic>,
) {
    let [(client_head, official_head), (client_list, official_list)] = kind.parts();
    let (head_part, list_part) = match form {
        Form::Official => (official_head, official_list),
        Form::Client => (client_head, client_list),
    };
    let payload = match form {
        Form::Official => kind.message_type(),
        Form::Client => kind.client_payload(),
    };
    let base = format!("Package/DataInfo/BussinessData/{payload}");
    let shown = |official: &str| match form {
        Form::Official => official.to_owned(),
        Form::Client => RENAMED
            .iter()
            .find(|(p, _, o)| *p == head_part && *o == official)
            .map(|(_, c, _)| (*c).to_owned())
            .unwrap_or_else(|| {
                let mut chars = official.chars();
                chars
                    .next()
                    .map(|f| f.to_ascii_uppercase().to_string() + chars.as_str())
                    .unwrap_or_default()
            }),
    };
    let required: &[(&str, &str)] = match kind {
        Kind::Inv101 => &[
            ("etpsInnerInvtNo", "企业内部清单编号"),
            ("putrecNo", "备案编号"),
            ("bizopEtpsno", "经营企业编号"),
            ("rcvgdEtpsno", "收发货企业编号"),
            ("dclEtpsno", "申报企业编号"),
            ("impexpMarkcd", "进出口标记"),
            ("mtpckEndprdMarkcd", "料件成品标记"),
            ("supvModecd", "监管方式"),
            ("dclPlcCuscd", "申报地关区"),
            ("dclcusFlag", "是否报关标志"),
        ],
        Kind::Sas121 => &[
            ("passportTypecd", "核放单类型"),
            ("masterCuscd", "主管关区"),
            ("ioTypecd", "进出区标志"),
            ("areainEtpsno", "区内企业编号"),
            ("vehicleNo", "承运车牌号"),
        ],
    };
    for (field, meaning) in required {
        if head.get(field).is_none() {
            let name = shown(field);
            diagnostics.push(diagnostic(
                codes::REQUIRED,
                format!("{base}/{head_part}/{name}"),
                format!("{name} ({meaning}) is required"),
            ));
        }
    }
    let marks: &[(&str, &[&str])] = match kind {
        Kind::Inv101 => &[
            ("impexpMarkcd", &["I", "E"]),
            ("mtpckEndprdMarkcd", &["I", "E"]),
            ("dclcusFlag", &["1", "2"]),
        ],
        Kind::Sas121 => &[("ioTypecd", &["I", "E"])],
    };
    for (field, allowed) in marks {
        if let Some(value) = head.get(field) {
            if !allowed.contains(&value) {
                let name = shown(field);
                diagnostics.push(diagnostic(
                    codes::CODE,
                    format!("{base}/{head_part}/{name}"),
                    format!("{name} {value:?} is not one of {}", allowed.join(", ")),
                ));
            }
        }
    }
    match document {
        Document::Inventory(inventory) => {
            if inventory.items.is_empty() {
                diagnostics.push(diagnostic(
                    codes::REQUIRED,
                    format!("{base}/{list_part}"),
                    format!("a 核注清单 has at least one {list_part}"),
                ));
            }
            for (i, item) in inventory.items.iter().enumerate() {
                let expected = i64::try_from(i + 1).unwrap_or(i64::MAX);
                if item.seq != expected {
                    diagnostics.push(diagnostic(
                        codes::NUMBERING,
                        format!("{base}/{list_part}[{}]", i + 1),
                        format!(
                            "item {} is numbered {} (商品序号 run 1, 2, 3... in order)",
                            i + 1,
                            item.seq
                        ),
                    ));
                    break;
                }
                if form == Form::Client {
                    for (field, meaning) in [
                        ("gdecd", "商品编码"),
                        ("gdsNm", "商品名称"),
                        ("dclUnitcd", "申报计量单位"),
                        ("dclQty", "申报数量"),
                        ("dclCurrcd", "币制"),
                        ("dclTotalAmt", "申报总价"),
                    ] {
                        if items.get(i).and_then(|f| f.get(field)).is_none() {
                            let name = shown(field);
                            diagnostics.push(diagnostic(
                                codes::REQUIRED,
                                format!("{base}/{list_part}[{}]/{name}", i + 1),
                                format!("{name} ({meaning}) is required"),
                            ));
                        }
                    }
                }
            }
        }
        Document::Passport(passport) => {
            if kind == Kind::Sas121 && passport.pre_entry_no.is_empty() {
                let name = match form {
                    Form::Official => "sasPassportPreentNo",
                    Form::Client => "EtpsPreentNo",
                };
                diagnostics.push(diagnostic(
                    codes::REQUIRED,
                    format!("{base}/{head_part}/{name}"),
                    format!("{name} (企业预录入编号) is required"),
                ));
            }
        }
    }
}

/// What customs answers a bonded message with.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Receipt {
    /// The answer's own message id.
    pub message_id: String,
    /// The node that answers (`sender_id`).
    pub sender_id: String,
    /// The number customs gave the document (`businessId`), empty when none was given.
    pub business_id: String,
    /// 处理结果 (`manageResult`): `Y` recorded (入库), `3` refused (退单).
    pub manage_result: String,
    /// 业务类型 (`typecd`): `1` declared, `0` kept as a draft.
    pub typecd: String,
    /// A remark (`rmk`).
    pub rmk: String,
    /// Each problem found (`CheckInfo/note`).
    pub notes: Vec<String>,
}

/// Why a receipt could not be written.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("X0356: the {message_type} written does not satisfy its schema: {}", .diagnostics.iter().map(|d| format!("{}: {}", d.path, d.message)).collect::<Vec<_>>().join("; "))]
pub struct WriteError {
    /// The receipt's type.
    pub message_type: String,
    /// What the schema found.
    pub diagnostics: Vec<Diagnostic>,
}

fn element(out: &mut String, name: &str, value: &str) {
    out.push('<');
    out.push_str(name);
    out.push('>');
    out.push_str(&xml::escape(value));
    out.push_str("</");
    out.push_str(name);
    out.push('>');
}

/// Characters at most, as the schemas count them.
fn clip(value: &str, max: usize) -> String {
    value.chars().take(max).collect()
}

/// Writes customs' receipt of `message` (an `INV201` or a `SAS221` in a bare `Package`, to
/// the message's sender) and checks it against the official schema before returning it.
pub fn write_receipt(
    message: &BondedMessage,
    receipt: &Receipt,
    now: NaiveDateTime,
) -> Result<String, WriteError> {
    let kind = message.kind;
    let receipt_type = kind.receipt_type();
    let mut out = String::with_capacity(2048);
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    match kind.namespace() {
        "" => out.push_str("<Package>"),
        ns => out.push_str(&format!("<Package xmlns=\"{ns}\">")),
    }
    out.push_str("<EnvelopInfo>");
    element(&mut out, "version", "1.0");
    if !receipt.business_id.is_empty() {
        element(&mut out, "business_id", &clip(&receipt.business_id, 128));
    }
    element(&mut out, "message_id", &clip(&receipt.message_id, 128));
    element(
        &mut out,
        "file_name",
        &clip(&format!("{}.xml", receipt.message_id), 128),
    );
    element(&mut out, "message_type", receipt_type);
    element(&mut out, "sender_id", &clip(&receipt.sender_id, 16));
    let receiver = if message.envelope.sender_id.chars().count() >= 4 {
        clip(&message.envelope.sender_id, 16)
    } else {
        "NONE".to_owned()
    };
    element(&mut out, "receiver_id", &receiver);
    element(
        &mut out,
        "send_time",
        &now.format("%Y-%m-%dT%H:%M:%S").to_string(),
    );
    out.push_str("</EnvelopInfo><DataInfo><PocketInfo>");
    element(&mut out, "pocket_id", &clip(&receipt.message_id, 128));
    element(&mut out, "total_pocket_qty", "1");
    element(&mut out, "cur_pocket_no", "1");
    out.push_str("</PocketInfo><BussinessData>");
    let receipt_start = out.len();
    match kind {
        Kind::Inv101 => out.push_str("<INV201>"),
        Kind::Sas121 => out.push_str(&format!("<SAS221 xmlns=\"{SAS_RECEIPT_NAMESPACE}\">")),
    }
    out.push_str("<HdeApprResult>");
    element(&mut out, "etpsPreentNo", &clip(message.sender_key(), 64));
    element(&mut out, "businessId", &clip(&receipt.business_id, 64));
    let change_count = match &message.document {
        Document::Inventory(i) => i.change_count,
        Document::Passport(_) => whole(&message.head, "chgTmsCnt").unwrap_or(0),
    };
    element(&mut out, "tmsCnt", &change_count.to_string());
    element(&mut out, "typecd", &clip(&receipt.typecd, 1));
    element(&mut out, "manageResult", &clip(&receipt.manage_result, 1));
    let date = match kind {
        // INV201's DateTime is "yyyy-MM-dd HH:mm:ss"; SAS221's an xs:date.
        Kind::Inv101 => now.format("%Y-%m-%d %H:%M:%S").to_string(),
        Kind::Sas121 => now.format("%Y-%m-%d").to_string(),
    };
    element(&mut out, "manageDate", &date);
    element(&mut out, "rmk", &clip(&receipt.rmk, 255));
    out.push_str("</HdeApprResult>");
    match kind {
        Kind::Inv101 => {
            for note in &receipt.notes {
                out.push_str("<CheckInfo>");
                element(&mut out, "note", &clip(note, 255));
                out.push_str("</CheckInfo>");
            }
            out.push_str("</INV201>");
        }
        Kind::Sas121 => {
            if !receipt.notes.is_empty() {
                out.push_str("<CheckInfo>");
                element(&mut out, "note", &clip(&receipt.notes.join("; "), 255));
                out.push_str("</CheckInfo>");
            }
            out.push_str("</SAS221>");
        }
    }
    let receipt_end = out.len();
    out.push_str("</BussinessData></DataInfo></Package>\n");
    check_written(kind, &out, receipt_start..receipt_end)?;
    Ok(out)
}

/// A receipt checked against the official schemas: the whole `Package` by `INV201.xsd`; for
/// `SAS221`, its element by `SAS221.xsd` and the envelope around it by the SAS family's.
fn check_written(
    kind: Kind,
    written: &str,
    receipt: std::ops::Range<usize>,
) -> Result<(), WriteError> {
    let fail = |diagnostics: Vec<Diagnostic>| WriteError {
        message_type: kind.receipt_type().to_owned(),
        diagnostics,
    };
    let missing = || {
        fail(vec![diagnostic(
            codes::WRITE,
            kind.receipt_type(),
            "its schema is not available",
        )])
    };
    let read = |text: &str| {
        xml::parse(text.as_bytes(), xml::Limits::default()).map_err(|e| {
            fail(vec![diagnostic(
                codes::WRITE,
                kind.receipt_type(),
                e.to_string(),
            )])
        })
    };
    let document = read(written)?;
    let mut found = Vec::new();
    match kind {
        Kind::Inv101 => {
            found = schema("INV201").ok_or_else(missing)?.validate(&document);
        }
        Kind::Sas121 => {
            let sas = schema("SAS121").ok_or_else(missing)?;
            let inner = read(written.get(receipt).unwrap_or_default())?;
            found.extend(schema("SAS221").ok_or_else(missing)?.validate(&inner));
            for (path, name) in [
                (&["Package", "EnvelopInfo"][..], "EnvelopInfo"),
                (&["Package", "DataInfo", "PocketInfo"][..], "PocketInfo"),
            ] {
                let decl = sas.find(path).ok_or_else(missing)?;
                let part = document
                    .child(name)
                    .or_else(|| document.child("DataInfo").and_then(|d| d.child(name)));
                match part {
                    Some(part) => found.extend(xsd::validate_as(decl, part)),
                    None => return Err(missing()),
                }
            }
        }
    }
    if found.is_empty() {
        Ok(())
    } else {
        Err(fail(found))
    }
}
