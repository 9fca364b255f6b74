//! The DXP terminal-node envelope (`DxpMsg`, namespace `http://www.chinaport.gov.cn/dxp`,
//! `ceb_terminal_node.xsd`): how an enterprise's client hands a business message to the
//! E-Port's data exchange platform. `TransInfo` says who sends (`SenderId`, a DXP node id of
//! up to 16 characters), to whom (`ReceiverIds`, up to five), when and what (`MsgType`);
//! `Data` is the business message in base64; `AddInfo` carries the file name and business
//! keys. The schema ships compiled (`data/schemas/dxp-terminal.json`, see [`crate::xsd`]).

use std::sync::OnceLock;

use base64::Engine;
use jinguan_types::Diagnostic;

use crate::ceb::Fields;
use crate::xml::{self, Element};
use crate::xsd::Schema;

/// The DXP namespace.
pub const NAMESPACE: &str = "http://www.chinaport.gov.cn/dxp";

/// The compiled terminal-node schema (`DxpMsg`, `DxpRep`).
pub fn schema() -> &'static Schema {
    static SCHEMA: OnceLock<Schema> = OnceLock::new();
    SCHEMA.get_or_init(|| {
        // Checked against the official XSD by a test; failing to read it is a build defect.
        #[allow(clippy::expect_used)]
        Schema::from_json(include_str!("../../../data/schemas/dxp-terminal.json"))
            .expect("the shipped DXP schema is valid JSON")
    })
}

/// A terminal-node message read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Envelope {
    /// The sender's id for this message (`CopMsgId`).
    pub cop_msg_id: String,
    /// The sending node (`SenderId`).
    pub sender_id: String,
    /// The receiving nodes (`ReceiverIds/ReceiverId`).
    pub receiver_ids: Vec<String>,
    /// When it was made (`CreatTime`).
    pub created: String,
    /// The business message's type (`MsgType`, e.g. `CEB311Message`).
    pub msg_type: String,
    /// The business message, decoded.
    pub data: Vec<u8>,
    /// `AddInfo`'s fields (`FileName`, `IsText`, `BizKey`...), as sent.
    pub add_info: Fields,
}

/// Why an envelope could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DxpError {
    /// Not well-formed, hostile or too large.
    #[error(transparent)]
    Xml(#[from] xml::XmlError),
    /// The document is not a `DxpMsg` in the DXP namespace.
    #[error("X0330: {0}")]
    NotDxp(String),
    /// The envelope breaks its schema.
    #[error("X0331: the DxpMsg does not satisfy its schema: {}", .0.iter().map(|d| format!("{}: {}", d.path, d.message)).collect::<Vec<_>>().join("; "))]
    Schema(Vec<Diagnostic>),
    /// `Data` is not base64.
    #[error("X0332: Data is not base64: {0}")]
    Data(String),
}

impl DxpError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Xml(e) => e.code,
            Self::NotDxp(_) => "X0330",
            Self::Schema(_) => "X0331",
            Self::Data(_) => "X0332",
        }
    }
}

fn text_of<'a>(element: &'a Element, name: &str) -> &'a str {
    element.child(name).map_or("", |c| c.text.as_str())
}

/// Reads a `DxpMsg`: checked against the terminal-node schema, `Data` decoded.
pub fn parse(bytes: &[u8]) -> Result<Envelope, DxpError> {
    // The business message inside may be as large as any message; base64 adds a third.
    let limits = xml::Limits {
        max_bytes: xml::Limits::default().max_bytes * 4 / 3 + 64 * 1024,
        ..xml::Limits::default()
    };
    let document = xml::parse(bytes, limits)?;
    if document.name != "DxpMsg"
        || !document
            .attributes
            .iter()
            .any(|(n, v)| (n == "xmlns" || n.starts_with("xmlns:")) && v == NAMESPACE)
    {
        return Err(DxpError::NotDxp(format!(
            "the document element is {}, not a DxpMsg in {NAMESPACE}",
            document.name
        )));
    }
    let diagnostics = schema().validate(&document);
    if !diagnostics.is_empty() {
        return Err(DxpError::Schema(diagnostics));
    }
    let trans = document.child("TransInfo").cloned().unwrap_or_default();
    let compact: String = text_of(&document, "Data")
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    let data = base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .map_err(|e| DxpError::Data(e.to_string()))?;
    let add_info = document
        .child("AddInfo")
        .map(|a| {
            Fields(
                a.children
                    .iter()
                    .map(|c| (c.name.clone(), c.text.clone()))
                    .collect(),
            )
        })
        .unwrap_or_default();
    Ok(Envelope {
        cop_msg_id: text_of(&trans, "CopMsgId").to_owned(),
        sender_id: text_of(&trans, "SenderId").to_owned(),
        receiver_ids: trans
            .child("ReceiverIds")
            .map(|r| r.children.iter().map(|c| c.text.to_string()).collect())
            .unwrap_or_default(),
        created: text_of(&trans, "CreatTime").to_owned(),
        msg_type: text_of(&trans, "MsgType").to_owned(),
        data,
        add_info,
    })
}

/// Writes a `DxpMsg` carrying `data` (a business message, base64-encoded here), checked
/// against the schema before it is returned.
pub fn write(
    cop_msg_id: &str,
    sender_id: &str,
    receiver_ids: &[&str],
    created: chrono::NaiveDateTime,
    msg_type: &str,
    data: &[u8],
    file_name: &str,
) -> Result<String, DxpError> {
    let escape = |t: &str| xml::escape(t).into_owned();
    let mut out = String::with_capacity(data.len() * 4 / 3 + 1024);
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    out.push_str(&format!(
        "<dxp:DxpMsg ver=\"1.0\" xmlns:dxp=\"{NAMESPACE}\">\n"
    ));
    out.push_str("  <dxp:TransInfo>\n");
    out.push_str(&format!(
        "    <dxp:CopMsgId>{}</dxp:CopMsgId>\n",
        escape(cop_msg_id)
    ));
    out.push_str(&format!(
        "    <dxp:SenderId>{}</dxp:SenderId>\n",
        escape(sender_id)
    ));
    out.push_str("    <dxp:ReceiverIds>\n");
    for receiver in receiver_ids {
        out.push_str(&format!(
            "      <dxp:ReceiverId>{}</dxp:ReceiverId>\n",
            escape(receiver)
        ));
    }
    out.push_str("    </dxp:ReceiverIds>\n");
    out.push_str(&format!(
        "    <dxp:CreatTime>{}</dxp:CreatTime>\n",
        created.format("%Y-%m-%dT%H:%M:%S")
    ));
    out.push_str(&format!(
        "    <dxp:MsgType>{}</dxp:MsgType>\n",
        escape(msg_type)
    ));
    out.push_str("  </dxp:TransInfo>\n");
    out.push_str(&format!(
        "  <dxp:Data>{}</dxp:Data>\n",
        base64::engine::general_purpose::STANDARD.encode(data)
    ));
    out.push_str("  <dxp:AddInfo>\n");
    out.push_str(&format!(
        "    <dxp:FileName>{}</dxp:FileName>\n",
        escape(file_name)
    ));
    out.push_str("  </dxp:AddInfo>\n");
    out.push_str("</dxp:DxpMsg>\n");
    let document = xml::parse(
        out.as_bytes(),
        xml::Limits {
            max_bytes: usize::MAX,
            ..xml::Limits::default()
        },
    )?;
    let diagnostics = schema().validate(&document);
    if diagnostics.is_empty() {
        Ok(out)
    } else {
        Err(DxpError::Schema(diagnostics))
    }
}
