//! Private keys at rest: sealed with SM4-GCM under an operator key kept apart from them.
//!
//! A data directory (or its backup, or a copy of its disk) holds only sealed keys; the
//! operator key that opens them lives elsewhere (a file readable by the service account
//! alone, a secrets manager, a KMS-wrapped blob). A sealed key is a small JSON document:
//!
//! ```json
//! {"jinguan_sealed_key": 1, "cipher": "SM4-GCM", "label": "ca", "key_id": "…",
//!  "nonce": "<24 hex>", "sealed": "<base64 of ciphertext and tag>"}
//! ```
//!
//! The plaintext is the key's PKCS#8 PEM, as OpenSSL reads it. The label (which key this
//! is: `ca`, `platform`) and the format version are authenticated, so a sealed key cannot
//! be swapped for another one under the same operator key without the swap being detected.

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use serde::{Deserialize, Serialize};

use crate::keys::SigningKey;
use crate::Error;

/// The key that seals private keys at rest (128 bits, SM4).
#[derive(Clone)]
pub struct OperatorKey([u8; 16]);

impl std::fmt::Debug for OperatorKey {
    // Never printed: a debug line or a log must not carry it.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("OperatorKey(..)")
    }
}

impl OperatorKey {
    /// A new random key.
    pub fn generate() -> Self {
        Self(crate::random_bytes::<16>())
    }

    /// Reads the key from 32 hex digits (surrounding whitespace ignored).
    pub fn from_hex(text: &str) -> Result<Self, Error> {
        crate::hex::decode(text.trim())
            .and_then(|bytes| <[u8; 16]>::try_from(bytes).ok())
            .map(Self)
            .ok_or_else(|| Error::Key("an operator key is 32 hex digits (128 bits)".into()))
    }

    /// The key as 32 hex digits, for writing to its own file.
    pub fn to_hex(&self) -> String {
        crate::hex::encode(&self.0)
    }
}

#[derive(Serialize, Deserialize)]
struct Sealed {
    jinguan_sealed_key: u32,
    cipher: String,
    label: String,
    key_id: String,
    nonce: String,
    sealed: String,
}

const VERSION: u32 = 1;
const CIPHER: &str = "SM4-GCM";

fn aad(label: &str) -> Vec<u8> {
    format!("jinguan-sealed-key/{VERSION}/{label}").into_bytes()
}

/// `key` sealed under `operator` as `label`: the JSON document to write to disk.
pub fn seal(key: &SigningKey, operator: &OperatorKey, label: &str) -> String {
    let nonce = crate::random_bytes::<12>();
    let pem = key.to_pem();
    let sealed = crate::sm4::seal(&operator.0, &nonce, &aad(label), pem.as_bytes());
    let document = Sealed {
        jinguan_sealed_key: VERSION,
        cipher: CIPHER.into(),
        label: label.into(),
        key_id: key.verifying_key().key_id(),
        nonce: crate::hex::encode(&nonce),
        sealed: STANDARD.encode(sealed),
    };
    // Serialising a struct of strings and a number cannot fail.
    serde_json::to_string_pretty(&document).unwrap_or_default() + "\n"
}

/// Opens what [`seal`] wrote for `label`. A wrong operator key, another label, or any
/// change to the document is `C0004`; a document that is not a sealed key is `C0001`.
pub fn open(
    text: &str,
    operator: &OperatorKey,
    label: &str,
    distid: &str,
) -> Result<SigningKey, Error> {
    let document: Sealed =
        serde_json::from_str(text).map_err(|e| Error::Key(format!("not a sealed key: {e}")))?;
    if document.jinguan_sealed_key != VERSION || document.cipher != CIPHER {
        return Err(Error::Key(format!(
            "sealed key version {} with {:?}: this build reads version {VERSION}, {CIPHER}",
            document.jinguan_sealed_key, document.cipher
        )));
    }
    if document.label != label {
        return Err(Error::Decrypt);
    }
    let nonce: [u8; 12] = crate::hex::decode(&document.nonce)
        .and_then(|n| n.try_into().ok())
        .ok_or_else(|| Error::Key("sealed key: bad nonce".into()))?;
    let sealed = STANDARD
        .decode(document.sealed.as_bytes())
        .map_err(|_| Error::Key("sealed key: bad base64".into()))?;
    let pem = crate::sm4::open(&operator.0, &nonce, &aad(label), &sealed)?;
    let pem = String::from_utf8(pem).map_err(|_| Error::Decrypt)?;
    SigningKey::from_pem(&pem, distid)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Algorithm, DEFAULT_DISTID};

    #[test]
    fn seals_and_opens_and_refuses_anything_else() {
        let key = SigningKey::generate(Algorithm::Sm2Sm3, DEFAULT_DISTID).unwrap();
        let operator = OperatorKey::generate();
        let text = seal(&key, &operator, "ca");
        assert!(
            !text.contains(&key.to_pem()[30..80]),
            "no plaintext in the file"
        );
        let opened = open(&text, &operator, "ca", DEFAULT_DISTID).unwrap();
        assert_eq!(opened.to_pem(), key.to_pem());
        // Another operator key, another label, a changed byte: all C0004.
        let other = OperatorKey::generate();
        assert_eq!(
            open(&text, &other, "ca", DEFAULT_DISTID).err(),
            Some(Error::Decrypt)
        );
        assert_eq!(
            open(&text, &operator, "platform", DEFAULT_DISTID).err(),
            Some(Error::Decrypt)
        );
        let relabelled = text.replace("\"label\": \"ca\"", "\"label\": \"platform\"");
        assert_eq!(
            open(&relabelled, &operator, "platform", DEFAULT_DISTID).err(),
            Some(Error::Decrypt)
        );
        let mut document: serde_json::Value = serde_json::from_str(&text).unwrap();
        let sealed = document["sealed"].as_str().unwrap().to_owned();
        let flipped = format!(
            "{}{}",
            if sealed.starts_with('A') { "B" } else { "A" },
            &sealed[1..]
        );
        document["sealed"] = flipped.into();
        assert_eq!(
            open(&document.to_string(), &operator, "ca", DEFAULT_DISTID).err(),
            Some(Error::Decrypt)
        );
        assert!(matches!(
            open("{}", &operator, "ca", DEFAULT_DISTID),
            Err(Error::Key(_))
        ));
        assert!(matches!(
            open("garbage", &operator, "ca", DEFAULT_DISTID),
            Err(Error::Key(_))
        ));
    }

    #[test]
    fn operator_keys_read_back_and_never_print() {
        let operator = OperatorKey::generate();
        let again = OperatorKey::from_hex(&format!(" {}\n", operator.to_hex())).unwrap();
        assert_eq!(again.to_hex(), operator.to_hex());
        assert_eq!(format!("{operator:?}"), "OperatorKey(..)");
        assert!(OperatorKey::from_hex("abcd").is_err());
        assert!(OperatorKey::from_hex(&"zz".repeat(16)).is_err());
    }
}
