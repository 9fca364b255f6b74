//! 金关二期 bonded messages for tests and the demo: 核注清单 (INV101) and 核放单 (SAS121), in the
//! official (bssp XSD) form and in the single window client's upload form.
//!
//! The official form is written field by field in the order of the official schema (every
//! field of `BondInvtBsc` is required there): the values a test chooses, and for the rest
//! the plainest value the field's facets allow (zeros of its exact length, an empty text
//! where only a maximum length is set, `0` for numbers).

use jinguan_chinaport::bonded::{schema, DSIG_NAMESPACE};
use jinguan_chinaport::xml::escape;
use jinguan_chinaport::xsd::{Base, Content, Decl};

/// What a bonded message says; the rest is filled in.
#[derive(Debug, Clone)]
pub struct Bonded {
    /// The enterprise's own number (企业内部清单编号 / 企业预录入编号).
    pub inner_no: String,
    /// The book (账册) it moves.
    pub book_no: String,
    /// The customs district (4 digits).
    pub customs: String,
    /// The enterprise's 10-character customs code.
    pub enterprise: String,
    /// Its 18-character credit code.
    pub credit_code: String,
    /// Its name.
    pub name: String,
    /// `I` or `E`.
    pub direction: char,
    /// How many items.
    pub items: usize,
    /// The sending DXP node.
    pub sender_id: String,
    /// The message id.
    pub message_id: String,
    /// `DelcareFlag` of the client form: declared (1) or a draft (0).
    pub declare: bool,
}

impl Bonded {
    /// A plausible inventory of `items` items into a bonded zone's book.
    pub fn new(inner_no: &str, items: usize) -> Self {
        Self {
            inner_no: inner_no.to_owned(),
            book_no: "T2924W000088".into(),
            customs: "2924".into(),
            enterprise: "4403W60001".into(),
            credit_code: "91440300581559207K".into(),
            name: "深圳市保税供应链有限公司".into(),
            direction: 'I',
            items,
            sender_id: "DXPENT0000016069".into(),
            message_id: format!("M{inner_no}"),
            declare: true,
        }
    }

    fn head_values(&self) -> Vec<(&'static str, String)> {
        let d = self.direction.to_string();
        vec![
            ("etpsInnerInvtNo", self.inner_no.clone()),
            ("putrecNo", self.book_no.clone()),
            ("bizopEtpsSccd", self.credit_code.clone()),
            ("bizopEtpsno", self.enterprise.clone()),
            ("bizopEtpsNm", self.name.clone()),
            ("rvsngdEtpsSccd", self.credit_code.clone()),
            ("rcvgdEtpsno", self.enterprise.clone()),
            ("rcvgdEtpsNm", self.name.clone()),
            ("dclEtpsSccd", self.credit_code.clone()),
            ("dclEtpsno", self.enterprise.clone()),
            ("dclEtpsNm", self.name.clone()),
            ("impexpPortcd", self.customs.clone()),
            ("dclPlcCuscd", self.customs.clone()),
            ("impexpMarkcd", d),
            ("mtpckEndprdMarkcd", "I".into()),
            ("supvModecd", "5000".into()),
            ("trspModecd", "9".into()),
            ("stshipTrsarvNatcd", "142".into()),
            ("dclcusFlag", "2".into()),
            ("invtDclTime", "2026-11-29 10:00:00".into()),
            ("rmk", "bonded zone intake".into()),
        ]
    }

    fn item_values(&self, n: usize) -> Vec<(&'static str, String)> {
        let quantity = 10 * n;
        vec![
            ("gdsSeqno", n.to_string()),
            ("putrecSeqno", n.to_string()),
            ("gdsMtno", format!("MT-{n:04}")),
            ("gdecd", "8542310000".into()),
            ("gdsNm", format!("集成电路 {n}")),
            ("gdsSpcfModelDesc", "0|0|处理器".into()),
            ("dclUnitcd", "007".into()),
            ("lawfUnitcd", "007".into()),
            ("natcd", "502".into()),
            ("dclUprcAmt", "12.5".into()),
            ("dclTotalAmt", format!("{}", quantity * 25 / 2)),
            ("dclCurrcd", "502".into()),
            ("lawfQty", quantity.to_string()),
            ("dclQty", quantity.to_string()),
            ("grossWt", "1.5".into()),
            ("netWt", "1.2".into()),
            ("lvyrlfModecd", "3".into()),
        ]
    }

    fn envelope(&self, message_type: &str, client: bool) -> String {
        let mut out = String::from("<EnvelopInfo>");
        for (name, value) in [
            ("version", "1.0"),
            ("business_id", self.inner_no.as_str()),
            ("message_id", self.message_id.as_str()),
            ("file_name", &format!("{}.xml", self.message_id)),
            ("message_type", message_type),
            ("sender_id", self.sender_id.as_str()),
            ("receiver_id", "DXPDSWNEMS000001"),
            ("send_time", "2026-11-29T10:00:00"),
        ] {
            out.push_str(&format!("<{name}>{}</{name}>", escape(value)));
        }
        if client {
            out.push_str("<Ic_Card>8910001071201</Ic_Card>");
        }
        out.push_str("</EnvelopInfo>");
        out
    }

    fn pocket(&self) -> String {
        format!(
            "<PocketInfo><pocket_id>{}</pocket_id><total_pocket_qty>1</total_pocket_qty>\
             <cur_pocket_no>1</cur_pocket_no></PocketInfo>",
            escape(&self.message_id)
        )
    }
}

/// The plainest value a field's facets allow.
fn plain(decl: &Decl) -> String {
    let Content::Text { facets, .. } = &decl.content else {
        return String::new();
    };
    if let Some(value) = facets.enumeration.first() {
        return value.clone();
    }
    match facets.base {
        Base::Decimal | Base::Int | Base::Long | Base::Double => "0".into(),
        _ => match (facets.length, facets.min_length) {
            (Some(n), _) | (None, Some(n)) => "0".repeat(n as usize),
            _ => String::new(),
        },
    }
}

/// A part (`BondInvtBsc`...) written in the official schema's order, every field present.
fn official_part(message_type: &str, part: &str, values: &[(&str, String)]) -> String {
    let decl = schema(message_type)
        .and_then(|s| s.find(&["Package", "DataInfo", "BussinessData", message_type, part]));
    let Some(Decl {
        content: Content::Sequence { children, .. },
        ..
    }) = decl
    else {
        return String::new();
    };
    let mut out = format!("<{part}>");
    for field in children {
        let value = values
            .iter()
            .find(|(n, _)| *n == field.name)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| plain(field));
        out.push_str(&format!("<{0}>{1}</{0}>", field.name, escape(&value)));
    }
    out.push_str(&format!("</{part}>"));
    out
}

/// The signature block customs' schemas put around a message (the IC card's signature,
/// which the E-Port checks; its values are placeholders here).
fn signed(package: &str, namespace: &str) -> String {
    let xmlns = if namespace.is_empty() {
        String::new()
    } else {
        format!(" xmlns=\"{namespace}\"")
    };
    format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Signature{xmlns}><SignedInfo>\
         <CanonicalizationMethod Algorithm=\"http://www.w3.org/TR/2001/REC-xml-c14n-20010315\"/>\
         <SignatureMethod Algorithm=\"http://www.w3.org/2000/09/xmldsig#rsa-sha1\"/>\
         <Reference URI=\"#Object1\"><DigestMethod Algorithm=\"http://www.w3.org/2000/09/xmldsig#sha1\"/>\
         <DigestValue>AAAA</DigestValue></Reference></SignedInfo><SignatureValue>AAAA</SignatureValue>\
         <KeyInfo><KeyName>8910001071201</KeyName></KeyInfo><Object Id=\"Object1\">{package}</Object>\
         </Signature>\n"
    )
}

/// An INV101 in the official form, in its `Signature` (`enveloped`) or as a bare `Package`.
pub fn inv101_official(b: &Bonded, enveloped: bool) -> String {
    let mut payload = String::from("<INV101>");
    payload.push_str(&official_part("INV101", "BondInvtBsc", &b.head_values()));
    for n in 1..=b.items {
        payload.push_str(&official_part("INV101", "BondInvtDt", &b.item_values(n)));
    }
    payload.push_str("</INV101>");
    let body = format!(
        "{}<DataInfo>{}<BussinessData>{payload}</BussinessData></DataInfo>",
        b.envelope("INV101", false),
        b.pocket()
    );
    if enveloped {
        signed(&format!("<Package>{body}</Package>"), DSIG_NAMESPACE)
    } else {
        format!(
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Package xmlns=\"{DSIG_NAMESPACE}\">{body}</Package>\n"
        )
    }
}

/// The client form's name of an official field.
fn client_name(official: &str) -> String {
    if official == "passportUsedTypecd" {
        return "PassportUsedTypeCd".into();
    }
    let mut chars = official.chars();
    chars
        .next()
        .map(|f| f.to_ascii_uppercase().to_string() + chars.as_str())
        .unwrap_or_default()
}

/// An INV101 as the single window client uploads it (`InvtMessage`, in a `Signature`).
pub fn inv101_client(b: &Bonded) -> String {
    let mut payload = String::from("<InvtMessage><InvtHeadType><SeqNo/>");
    for (name, value) in b.head_values() {
        payload.push_str(&format!(
            "<{0}>{1}</{0}>",
            client_name(name),
            escape(&value)
        ));
    }
    payload.push_str("<InputCode/><AddTime/></InvtHeadType>");
    for n in 1..=b.items {
        payload.push_str("<InvtListType><SeqNo/>");
        for (name, value) in b.item_values(n) {
            payload.push_str(&format!(
                "<{0}>{1}</{0}>",
                client_name(name),
                escape(&value)
            ));
        }
        payload.push_str("</InvtListType>");
    }
    payload.push_str(&format!(
        "<SysId>95</SysId><OperCusRegCode>{}</OperCusRegCode></InvtMessage>",
        escape(&b.enterprise)
    ));
    let flag = if b.declare { "1" } else { "0" };
    signed(
        &format!(
            "<Package>{}<DataInfo><BussinessData>{payload}<DelcareFlag>{flag}</DelcareFlag>\
             </BussinessData></DataInfo></Package>",
            b.envelope("INV101", true)
        ),
        "",
    )
}

fn passport_values(b: &Bonded, related: &str) -> Vec<(&'static str, String)> {
    vec![
        ("passportTypecd", "2".into()),
        ("masterCuscd", b.customs.clone()),
        ("dclTypecd", "1".into()),
        ("ioTypecd", b.direction.to_string()),
        ("bindTypecd", "2".into()),
        ("rltTbTypecd", "1".into()),
        ("rltNo", related.to_owned()),
        ("areainEtpsno", b.enterprise.clone()),
        ("areainEtpsNm", b.name.clone()),
        ("areainEtpsSccd", b.credit_code.clone()),
        ("vehicleNo", "粤B12345".into()),
        ("vehicleIcNo", "IC0001".into()),
        ("vehicleWt", "8000".into()),
        ("vehicleFrameWt", "2000".into()),
        ("totalWt", "12500".into()),
        ("totalGrossWt", "2500".into()),
        ("totalNetWt", "2300".into()),
        ("rmk", "gate pass".into()),
    ]
}

/// A SAS121 in the official form (in its `Signature`), carrying the inventory `related`.
pub fn sas121_official(b: &Bonded, related: &str) -> String {
    let mut values = passport_values(b, related);
    values.push(("sasPassportPreentNo", b.inner_no.clone()));
    let mut payload = String::from("<SAS121>");
    payload.push_str(&official_part("SAS121", "SasPassportBsc", &values));
    payload.push_str(&official_part(
        "SAS121",
        "SasPassportRlt",
        &[
            ("rltNo", related.to_owned()),
            ("rltTbTypecd", "1".to_owned()),
        ],
    ));
    payload.push_str("</SAS121>");
    signed(
        &format!(
            "<Package>{}<DataInfo>{}<BussinessData>{payload}</BussinessData></DataInfo></Package>",
            b.envelope("SAS121", false),
            b.pocket()
        ),
        "",
    )
}

/// A SAS121 as the single window client uploads it (`PassPortMessage`).
pub fn sas121_client(b: &Bonded, related: &str) -> String {
    let mut payload = String::from("<PassPortMessage><PassportHead><SeqNo/><PassportNo/>");
    for (name, value) in passport_values(b, related) {
        payload.push_str(&format!(
            "<{0}>{1}</{0}>",
            client_name(name),
            escape(&value)
        ));
    }
    payload.push_str(&format!(
        "<DclEtpsno>{0}</DclEtpsno><DclEtpsNm>{1}</DclEtpsNm><DclEtpsSccd>{2}</DclEtpsSccd>\
         <EtpsPreentNo>{3}</EtpsPreentNo><Col1/></PassportHead>\
         <PassportAcmp><SeqNo/><PassPortNo/><RtlBillTypecd>1</RtlBillTypecd><RtlBillNo>{4}</RtlBillNo></PassportAcmp>\
         <OperCusRegCode>{0}</OperCusRegCode></PassPortMessage>",
        escape(&b.enterprise),
        escape(&b.name),
        escape(&b.credit_code),
        escape(&b.inner_no),
        escape(related)
    ));
    let flag = if b.declare { "1" } else { "0" };
    signed(
        &format!(
            "<Package>{}<DataInfo><PocketInfo></PocketInfo><BussinessData>{payload}\
             <DelcareFlag>{flag}</DelcareFlag></BussinessData></DataInfo></Package>",
            b.envelope("SAS121", true)
        ),
        "",
    )
}

/// A template from the corpus with its empty elements (`<Name/>`) given values: how the
/// client's own templates are filled in.
pub fn fill_template(template: &str, values: &[(&str, &str)]) -> String {
    let mut out = template.to_owned();
    for (name, value) in values {
        out = out.replacen(
            &format!("<{name}/>"),
            &format!("<{name}>{}</{name}>", escape(value)),
            1,
        );
    }
    out
}
