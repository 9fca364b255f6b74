//! XML-DSig enveloped signatures on China single-window messages, with SM2-SM3.
//!
//! The form is the one the E-Port's clients put on CEB, 金关二期 and declaration messages
//! (see `CEB621Message_signed_example.xml` in the corpus): one `ds:Signature` as the last
//! child of the document element, whose `SignedInfo` has Canonical XML 1.0 (inclusive,
//! without comments), one `Reference URI=""` with the enveloped-signature transform, a
//! digest of the canonical document without the signature, and `KeyInfo` naming the
//! certificate (`KeyName`: its serial; `X509Data/X509Certificate`: the certificate itself).
//!
//! | what | identifier |
//! |---|---|
//! | canonicalisation | `http://www.w3.org/TR/2001/REC-xml-c14n-20010315` |
//! | transform | `http://www.w3.org/2000/09/xmldsig#enveloped-signature` |
//! | digest SM3 | `http://www.chinaport.gov.cn/2022/04/xmldsig#sm3` |
//! | digest SHA-256 | `http://www.w3.org/2001/04/xmlenc#sha256` |
//! | signature SM2 with SM3 | `http://www.chinaport.gov.cn/2022/04/xmldsig#sm2-sm3` (DER `SEQUENCE {r, s}`, default id) |
//! | signature Ed25519 | `http://www.w3.org/2021/04/xmldsig-more#eddsa-ed25519` (RFC 9231) |
//!
//! Anything else (the sample's `rsa-sha1` and `sha1` included) is refused as unsupported:
//! it is read and reported, never half-checked. Against wrapping attacks the verifier takes
//! nothing on trust: exactly one `ds:Signature` in the document, a direct child of the
//! document element, holding the document's only `ds:SignedInfo` as its first child; the
//! reference is the whole document; the transforms are exactly enveloped-signature
//! (optionally followed by the same canonicalisation).
//!
//! Pure: bytes in, bytes out; the certificate's key is the caller's to find and trust.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use jinguan_crypto::{Algorithm, HashAlgorithm, Signature, Signer, VerifyingKey, DEFAULT_DISTID};

use crate::c14n::{canonicalize, canonicalize_enveloped, Scope};
use crate::xml::{Element, Limits, XmlError};

/// The XML-DSig namespace.
pub const DSIG_NS: &str = "http://www.w3.org/2000/09/xmldsig#";
/// Canonical XML 1.0, without comments.
pub const C14N: &str = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315";
/// The enveloped-signature transform.
pub const ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";
/// SM3 digest.
pub const SM3: &str = "http://www.chinaport.gov.cn/2022/04/xmldsig#sm3";
/// SHA-256 digest.
pub const SHA256: &str = "http://www.w3.org/2001/04/xmlenc#sha256";
/// SM2 signature with SM3.
pub const SM2_SM3: &str = "http://www.chinaport.gov.cn/2022/04/xmldsig#sm2-sm3";
/// Ed25519 signature.
pub const ED25519: &str = "http://www.w3.org/2021/04/xmldsig-more#eddsa-ed25519";

/// Why a signed document was refused. Codes are stable API.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DsigError {
    /// The document could not be read (its `X0xxx` code).
    #[error(transparent)]
    Xml(#[from] XmlError),
    /// `X0201`: there is no `ds:Signature`.
    #[error("X0201: the document is not signed (no ds:Signature)")]
    Unsigned,
    /// `X0202`: the signature's structure is not the enveloped form (a part missing or
    /// repeated, in the wrong place, or not base64).
    #[error("X0202: malformed signature: {0}")]
    Malformed(String),
    /// `X0203`: an algorithm, transform or reference this verifier does not accept.
    #[error("X0203: unsupported: {0}")]
    Unsupported(String),
    /// `X0204`: the document was changed after it was signed (its digest differs).
    #[error(
        "X0204: the signed content was changed: digest {found} where the signature says {signed}"
    )]
    Digest {
        /// The digest signed (base64).
        signed: String,
        /// The digest of the document as received (base64).
        found: String,
    },
    /// `X0205`: the signature over `SignedInfo` does not verify under the key.
    #[error("X0205: the signature does not verify: {0}")]
    Signature(String),
}

impl DsigError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Xml(e) => e.code,
            Self::Unsigned => "X0201",
            Self::Malformed(_) => "X0202",
            Self::Unsupported(_) => "X0203",
            Self::Digest { .. } => "X0204",
            Self::Signature(_) => "X0205",
        }
    }
}

/// A signature as read, its digest checked, not yet its signature value.
#[derive(Debug, Clone)]
pub struct Signed {
    /// `KeyName`: the signing certificate's serial, when given.
    pub key_name: Option<String>,
    /// `X509Certificate`s (DER), as sent.
    pub certificates: Vec<Vec<u8>>,
    /// The signature method identifier.
    pub signature_method: String,
    /// The digest method identifier.
    pub digest_method: String,
    signed_info: Vec<u8>,
    signature: Signature,
}

fn malformed(message: impl Into<String>) -> DsigError {
    DsigError::Malformed(message.into())
}

/// Signatures are small; documents are bounded by the reader's limits.
fn limits() -> Limits {
    Limits::default()
}

/// The one child of `element` with local name `name`.
fn only_child<'a>(element: &'a Element, name: &str) -> Result<&'a Element, DsigError> {
    let mut found = element.children.iter().filter(|c| c.name == name);
    match (found.next(), found.next()) {
        (Some(child), None) => Ok(child),
        (None, _) => Err(malformed(format!("{} has no {name}", element.name))),
        (Some(_), Some(_)) => Err(malformed(format!(
            "{} has more than one {name}",
            element.name
        ))),
    }
}

fn algorithm_of(element: &Element) -> Result<&str, DsigError> {
    element
        .attribute("Algorithm")
        .ok_or_else(|| malformed(format!("{} has no Algorithm", element.name)))
}

fn base64(text: &str, what: &str) -> Result<Vec<u8>, DsigError> {
    let compact: String = text.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    STANDARD
        .decode(compact.as_bytes())
        .map_err(|e| malformed(format!("{what} is not base64: {e}")))
}

fn digest_algorithm(uri: &str) -> Result<HashAlgorithm, DsigError> {
    match uri {
        SM3 => Ok(HashAlgorithm::Sm3),
        SHA256 => Ok(HashAlgorithm::Sha256),
        other => Err(DsigError::Unsupported(format!("digest method {other}"))),
    }
}

fn signature_algorithm(uri: &str) -> Result<Algorithm, DsigError> {
    match uri {
        SM2_SM3 => Ok(Algorithm::Sm2Sm3),
        ED25519 => Ok(Algorithm::Ed25519),
        other => Err(DsigError::Unsupported(format!("signature method {other}"))),
    }
}

/// Reads the enveloped signature of `document` and checks its digest: `Ok` means the
/// document is, byte for byte in canonical form, what `SignedInfo` says was signed; whether
/// the signer's key signed that `SignedInfo` is [`Signed::verify`]'s to say.
pub fn read(document: &[u8]) -> Result<Signed, DsigError> {
    // One pass gives the content, the signature and its SignedInfo, each canonical, and how
    // many signatures and SignedInfos there are anywhere.
    let enveloped = canonicalize_enveloped(document, DSIG_NS, limits())?;
    let Some(signature_xml) = enveloped.signature else {
        return Err(DsigError::Unsigned);
    };
    // No second Signature or SignedInfo anywhere: what is verified is the only candidate.
    if enveloped.signatures > 1 || enveloped.signed_infos > 1 {
        return Err(malformed(
            "more than one ds:Signature or ds:SignedInfo in the document",
        ));
    }
    if !enveloped.signature_at_top {
        return Err(malformed(
            "the ds:Signature must be a direct child of the document element",
        ));
    }
    let content = enveloped.content;
    let signature = crate::xml::parse(&signature_xml, limits())?;
    if signature.children.first().map(|c| c.name.as_str()) != Some("SignedInfo") {
        return Err(malformed("SignedInfo must be the first child of Signature"));
    }
    let signed_info = only_child(&signature, "SignedInfo")?;
    let c14n = algorithm_of(only_child(signed_info, "CanonicalizationMethod")?)?;
    if c14n != C14N {
        return Err(DsigError::Unsupported(format!("canonicalisation {c14n}")));
    }
    let signature_method = algorithm_of(only_child(signed_info, "SignatureMethod")?)?.to_owned();
    let reference = only_child(signed_info, "Reference")?;
    if reference.attribute("URI") != Some("") {
        return Err(DsigError::Unsupported(format!(
            "reference URI {:?}: only the whole document (URI=\"\")",
            reference.attribute("URI").unwrap_or("(none)")
        )));
    }
    let transforms: Vec<&str> = only_child(reference, "Transforms")?
        .children
        .iter()
        .map(algorithm_of)
        .collect::<Result<_, _>>()?;
    if !(transforms == [ENVELOPED] || transforms == [ENVELOPED, C14N]) {
        return Err(DsigError::Unsupported(format!(
            "transforms {transforms:?}: only enveloped-signature (then C14N 1.0)"
        )));
    }
    let digest_method = algorithm_of(only_child(reference, "DigestMethod")?)?.to_owned();
    let digest_value = base64(&only_child(reference, "DigestValue")?.text, "DigestValue")?;
    let key_info = signature.child("KeyInfo");
    let key_name = key_info
        .and_then(|k| k.child("KeyName"))
        .map(|k| k.text.clone());
    let certificates = key_info
        .and_then(|k| k.child("X509Data"))
        .map(|data| {
            data.children
                .iter()
                .filter(|c| c.name == "X509Certificate")
                .map(|c| base64(&c.text, "X509Certificate"))
                .collect::<Result<Vec<_>, _>>()
        })
        .transpose()?
        .unwrap_or_default();
    let signature_value = base64(
        &only_child(&signature, "SignatureValue")?.text,
        "SignatureValue",
    )?;
    // Algorithms last: the structure is reported first, as it was read.
    let algorithm = signature_algorithm(&signature_method)?;
    let hashed = digest_algorithm(&digest_method)?.digest(&[&content]);
    if hashed[..] != digest_value[..] {
        return Err(DsigError::Digest {
            signed: STANDARD.encode(&digest_value),
            found: STANDARD.encode(hashed),
        });
    }
    let signed_info = enveloped
        .signed_info
        .ok_or_else(|| malformed("SignedInfo must be the first child of Signature"))?;
    Ok(Signed {
        key_name: key_name.map(String::from),
        certificates,
        signature_method,
        digest_method,
        signed_info,
        signature: Signature {
            algorithm,
            distid: (algorithm == Algorithm::Sm2Sm3).then(|| DEFAULT_DISTID.to_owned()),
            bytes: signature_value,
        },
    })
}

impl Signed {
    /// Checks the signature over the canonical `SignedInfo` with `key`.
    pub fn verify(&self, key: &VerifyingKey) -> Result<(), DsigError> {
        if key.algorithm() != self.signature.algorithm {
            return Err(DsigError::Signature(format!(
                "signed with {}, the key is {}",
                self.signature.algorithm,
                key.algorithm()
            )));
        }
        key.verify(&self.signed_info, &self.signature)
            .map_err(|e| DsigError::Signature(e.to_string()))
    }
}

/// Signs `document` (UTF-8, unsigned) the enveloped way: the signature goes in as the last
/// child of the document element, digest SM3 (whatever the key), naming `key_name` (the
/// certificate's serial) and carrying `certificate` (DER) when given. Nothing else in the
/// document changes, byte for byte.
pub fn sign(
    document: &[u8],
    signer: &dyn Signer,
    key_name: &str,
    certificate: Option<&[u8]>,
) -> Result<Vec<u8>, DsigError> {
    let text = std::str::from_utf8(document)
        .map_err(|_| DsigError::Unsupported("signing a document that is not UTF-8".into()))?;
    match read(document) {
        Err(DsigError::Unsigned) => {}
        Err(e @ DsigError::Xml(_)) => return Err(e),
        _ => return Err(malformed("the document is already signed")),
    }
    let method = match signer.verifying_key().algorithm() {
        Algorithm::Sm2Sm3 => SM2_SM3,
        Algorithm::Ed25519 => ED25519,
    };
    let content = canonicalize(document, Scope::Document, limits())?;
    let digest = STANDARD.encode(HashAlgorithm::Sm3.digest(&[&content]));
    let escape = |s: &str| crate::xml::escape(s).into_owned();
    let certificate = certificate
        .map(|der| {
            format!(
                "<ds:X509Data><ds:X509Certificate>{}</ds:X509Certificate></ds:X509Data>",
                STANDARD.encode(der)
            )
        })
        .unwrap_or_default();
    let element = format!(
        "<ds:Signature xmlns:ds=\"{DSIG_NS}\"><ds:SignedInfo>\
         <ds:CanonicalizationMethod Algorithm=\"{C14N}\"></ds:CanonicalizationMethod>\
         <ds:SignatureMethod Algorithm=\"{method}\"></ds:SignatureMethod>\
         <ds:Reference URI=\"\"><ds:Transforms>\
         <ds:Transform Algorithm=\"{ENVELOPED}\"></ds:Transform></ds:Transforms>\
         <ds:DigestMethod Algorithm=\"{SM3}\"></ds:DigestMethod>\
         <ds:DigestValue>{digest}</ds:DigestValue></ds:Reference></ds:SignedInfo>\
         <ds:SignatureValue></ds:SignatureValue>\
         <ds:KeyInfo><ds:KeyName>{}</ds:KeyName>{certificate}</ds:KeyInfo></ds:Signature>",
        escape(key_name)
    );
    let at = root_end(text)?;
    // Where the value goes once made: inside the (empty) SignatureValue, outside SignedInfo.
    let value_at = at
        + element
            .find("</ds:SignatureValue>")
            .ok_or_else(|| malformed("no SignatureValue in the template"))?;
    let mut signed = String::with_capacity(text.len() + element.len() + 128);
    signed.push_str(&text[..at]);
    signed.push_str(&element);
    signed.push_str(&text[at..]);
    // What is signed is SignedInfo as it reads in place (inclusive C14N brings in the
    // namespaces of its ancestors).
    let signed_info = canonicalize(
        signed.as_bytes(),
        Scope::Only(DSIG_NS, "SignedInfo"),
        limits(),
    )?;
    let value = signer
        .try_sign(&signed_info)
        .map_err(|e| DsigError::Signature(e.to_string()))?;
    signed.insert_str(value_at, &STANDARD.encode(&value.bytes));
    Ok(signed.into_bytes())
}

/// The byte offset of the document element's end tag (where an enveloped signature goes).
fn root_end(text: &str) -> Result<usize, DsigError> {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(text);
    let mut depth = 0usize;
    loop {
        let start = usize::try_from(reader.buffer_position()).unwrap_or(usize::MAX);
        match reader.read_event() {
            Ok(Event::Start(_)) => depth += 1,
            Ok(Event::End(_)) => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return Ok(start);
                }
            }
            Ok(Event::Empty(_)) if depth == 0 => {
                return Err(malformed(
                    "the document element is empty (<a/>): write it as <a></a> to sign it",
                ))
            }
            Ok(Event::Eof) => return Err(malformed("no document element")),
            Ok(_) => {}
            Err(e) => {
                return Err(DsigError::Xml(XmlError {
                    code: "X0001",
                    line: 0,
                    column: 0,
                    message: e.to_string(),
                }))
            }
        }
    }
}
