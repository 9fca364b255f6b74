//! Detached signatures over a message's exact bytes, as JWS (RFC 7515 appendix F) with an
//! unencoded payload (RFC 7797); and the platform's own signatures on what it issues, as
//! compact JWS with the payload attached ([`sign_attached`]).
//!
//! The value a client sends beside its message is `<protected>..<signature>`: the protected
//! header in base64url, an empty payload part, and the signature in base64url. What is
//! signed is the ASCII of the protected header's base64url, a `.`, and the message bytes as
//! they are sent: nothing is re-encoded or canonicalised, so any client that can sign bytes
//! can sign a message (OpenSSL: `openssl dgst -sm3 -sign key.pem -sigopt distid:...`).
//!
//! The protected header is `{"alg":A,"kid":K,"b64":false,"crit":["b64"]}`: `alg` is
//! `SM2-SM3` (SM2 over SM3 with the GM/T 0009 default distinguishing id; the signature is the
//! DER `SEQUENCE { r, s }` OpenSSL writes) or `EdDSA` (Ed25519, 64 bytes); `kid` is the
//! serial number, in hex, of the signer's certificate.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::keys::{Algorithm, Signature, VerifyingKey, DEFAULT_DISTID};
use crate::Error;
use crate::Signer;

/// The longest detached signature value read (a header is about 100 bytes and a signature
/// 72; this bounds hostile input before decoding).
pub const MAX_VALUE_BYTES: usize = 4096;

#[derive(Debug, Serialize, Deserialize)]
struct Header {
    alg: String,
    kid: String,
    b64: bool,
    crit: Vec<String>,
}

/// A detached signature as received, parsed but not yet verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Detached {
    /// The signer's certificate serial (hex).
    pub kid: String,
    /// The signature, algorithm named.
    pub signature: Signature,
    protected: String,
}

fn malformed(why: impl Into<String>) -> Error {
    Error::Signature(format!("malformed detached signature: {}", why.into()))
}

fn jose_alg(algorithm: Algorithm) -> &'static str {
    match algorithm {
        Algorithm::Sm2Sm3 => "SM2-SM3",
        Algorithm::Ed25519 => "EdDSA",
    }
}

/// A signature of `bytes` under the JOSE `alg` name (SM2 with the default id).
fn signature_of(alg: &str, bytes: Vec<u8>) -> Result<Signature, Error> {
    let algorithm = match alg {
        "SM2-SM3" => Algorithm::Sm2Sm3,
        "EdDSA" => Algorithm::Ed25519,
        other => return Err(malformed(format!("unknown alg {other:?}"))),
    };
    Ok(Signature {
        algorithm,
        distid: (algorithm == Algorithm::Sm2Sm3).then(|| DEFAULT_DISTID.to_owned()),
        bytes,
    })
}

/// Verifiers assume the default SM2 distinguishing id: a key with another would make
/// signatures nobody accepts.
fn default_distid_only(key: &VerifyingKey) -> Result<(), Error> {
    if key.distid().is_some_and(|d| d != DEFAULT_DISTID) {
        return Err(Error::Key(
            "signatures use the default SM2 distinguishing id".into(),
        ));
    }
    Ok(())
}

/// The bytes a detached signature covers.
fn signing_input(protected: &str, message: &[u8]) -> Vec<u8> {
    let mut input = Vec::with_capacity(protected.len() + 1 + message.len());
    input.extend_from_slice(protected.as_bytes());
    input.push(b'.');
    input.extend_from_slice(message);
    input
}

/// Signs `message` with `key`, naming certificate `kid`; returns the value to send. An SM2
/// key must sign under the default distinguishing id, which is what verifiers assume.
pub fn sign(key: &dyn Signer, kid: &str, message: &[u8]) -> Result<String, Error> {
    let public = key.verifying_key();
    default_distid_only(&public)?;
    let header = Header {
        alg: jose_alg(public.algorithm()).into(),
        kid: kid.into(),
        b64: false,
        crit: vec!["b64".into()],
    };
    let json = serde_json::to_vec(&header).map_err(|e| Error::Signature(e.to_string()))?;
    let protected = URL_SAFE_NO_PAD.encode(json);
    let signature = key.try_sign(&signing_input(&protected, message))?;
    Ok(format!(
        "{protected}..{}",
        URL_SAFE_NO_PAD.encode(&signature.bytes)
    ))
}

impl Detached {
    /// Reads a value sent beside a message. Refuses anything but the form above: an
    /// attached payload, `b64` other than false, an unknown `alg` or critical parameter.
    pub fn parse(value: &str) -> Result<Self, Error> {
        if value.len() > MAX_VALUE_BYTES {
            return Err(malformed(format!("over {MAX_VALUE_BYTES} bytes")));
        }
        let mut parts = value.trim().split('.');
        let (Some(protected), Some(payload), Some(signature), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(malformed("not three parts separated by '.'"));
        };
        if !payload.is_empty() {
            return Err(malformed(
                "the payload part is not empty (it must be detached)",
            ));
        }
        let json = URL_SAFE_NO_PAD
            .decode(protected)
            .map_err(|e| malformed(format!("protected header is not base64url: {e}")))?;
        let header: Header = serde_json::from_slice(&json)
            .map_err(|e| malformed(format!("protected header: {e}")))?;
        if header.b64 || header.crit != ["b64"] {
            return Err(malformed(
                "the header must say \"b64\": false and \"crit\": [\"b64\"]",
            ));
        }
        if header.kid.is_empty() || header.kid.len() > 64 {
            return Err(malformed("kid must name a certificate serial"));
        }
        let bytes = URL_SAFE_NO_PAD
            .decode(signature)
            .map_err(|e| malformed(format!("signature is not base64url: {e}")))?;
        Ok(Self {
            kid: header.kid.to_ascii_lowercase(),
            signature: signature_of(&header.alg, bytes)?,
            protected: protected.to_owned(),
        })
    }

    /// Checks the signature over `message` with the signer's key.
    pub fn verify(&self, key: &VerifyingKey, message: &[u8]) -> Result<(), Error> {
        key.verify(&signing_input(&self.protected, message), &self.signature)
    }
}

/// The header of a signature with its payload attached (the platform's, on receipts).
#[derive(Debug, Serialize, Deserialize)]
struct AttachedHeader {
    alg: String,
    kid: String,
}

/// Signs `payload` with `key`, naming certificate `kid`, in JWS compact serialisation with
/// the payload attached (`<header>.<payload>.<signature>`, all base64url): what the platform
/// puts on the documents it issues, so that the exact bytes signed travel with them.
pub fn sign_attached(key: &dyn Signer, kid: &str, payload: &[u8]) -> Result<String, Error> {
    let public = key.verifying_key();
    default_distid_only(&public)?;
    let header = AttachedHeader {
        alg: jose_alg(public.algorithm()).into(),
        kid: kid.into(),
    };
    let json = serde_json::to_vec(&header).map_err(|e| Error::Signature(e.to_string()))?;
    let input = format!(
        "{}.{}",
        URL_SAFE_NO_PAD.encode(json),
        URL_SAFE_NO_PAD.encode(payload)
    );
    let signature = key.try_sign(input.as_bytes())?;
    Ok(format!(
        "{input}.{}",
        URL_SAFE_NO_PAD.encode(&signature.bytes)
    ))
}

/// Checks a compact JWS with an attached payload against `key`; returns the certificate
/// serial it names and the payload.
pub fn verify_attached(value: &str, key: &VerifyingKey) -> Result<(String, Vec<u8>), Error> {
    if value.len() > 16 * 1024 * 1024 {
        return Err(malformed("over 16 MiB"));
    }
    let mut parts = value.trim().split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(malformed("not three parts separated by '.'"));
    };
    let decode = |part: &str, what: &str| {
        URL_SAFE_NO_PAD
            .decode(part)
            .map_err(|e| malformed(format!("{what} is not base64url: {e}")))
    };
    let parsed: AttachedHeader = serde_json::from_slice(&decode(header, "header")?)
        .map_err(|e| malformed(format!("header: {e}")))?;
    let signature = signature_of(&parsed.alg, decode(signature, "signature")?)?;
    key.verify(format!("{header}.{payload}").as_bytes(), &signature)?;
    Ok((parsed.kid, decode(payload, "payload")?))
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::SigningKey;

    #[test]
    fn signs_and_verifies_the_exact_bytes_with_either_algorithm() {
        for algorithm in [Algorithm::Sm2Sm3, Algorithm::Ed25519] {
            let key = SigningKey::generate(algorithm, DEFAULT_DISTID).unwrap();
            let value = sign(&key, "1A2b", b"{\"head\":{}}").unwrap();
            let parsed = Detached::parse(&value).unwrap();
            assert_eq!(parsed.kid, "1a2b");
            parsed
                .verify(&key.verifying_key(), b"{\"head\":{}}")
                .unwrap();
            // One byte of whitespace is another message.
            assert!(parsed
                .verify(&key.verifying_key(), b"{\"head\": {}}")
                .is_err());
            let other = SigningKey::generate(algorithm, DEFAULT_DISTID).unwrap();
            assert!(parsed
                .verify(&other.verifying_key(), b"{\"head\":{}}")
                .is_err());
        }
    }

    #[test]
    fn attached_signatures_carry_their_payload() {
        let key = SigningKey::generate(Algorithm::Sm2Sm3, DEFAULT_DISTID).unwrap();
        let value = sign_attached(&key, "ab", br#"{"status":"accepted"}"#).unwrap();
        let (kid, payload) = verify_attached(&value, &key.verifying_key()).unwrap();
        assert_eq!(
            (kid.as_str(), &payload[..]),
            ("ab", &br#"{"status":"accepted"}"#[..])
        );
        // Another payload under the same signature fails.
        let parts: Vec<&str> = value.split('.').collect();
        let forged = format!(
            "{}.{}.{}",
            parts[0],
            URL_SAFE_NO_PAD.encode(br#"{"status":"rejected"}"#),
            parts[2]
        );
        assert!(verify_attached(&forged, &key.verifying_key()).is_err());
        let other = SigningKey::generate(Algorithm::Sm2Sm3, DEFAULT_DISTID).unwrap();
        assert!(verify_attached(&value, &other.verifying_key()).is_err());
        assert!(verify_attached("a.b", &key.verifying_key()).is_err());
    }

    #[test]
    fn malformed_values_are_refused_with_the_signature_code() {
        let key = SigningKey::generate(Algorithm::Ed25519, DEFAULT_DISTID).unwrap();
        let good = sign(&key, "01", b"x").unwrap();
        let (protected, signature) = good.split_once("..").unwrap();
        let header = |json: &str| URL_SAFE_NO_PAD.encode(json);
        let attached = format!("{protected}.eA.{signature}");
        let encoded = format!(
            "{}..{signature}",
            header(r#"{"alg":"EdDSA","kid":"01","b64":true,"crit":["b64"]}"#)
        );
        let unknown = format!(
            "{}..{signature}",
            header(r#"{"alg":"HS256","kid":"01","b64":false,"crit":["b64"]}"#)
        );
        let long = "a".repeat(MAX_VALUE_BYTES + 1);
        for value in [
            "",
            "abc",
            "a.b.c.d",
            attached.as_str(),
            encoded.as_str(),
            unknown.as_str(),
            &format!("{protected}..***"),
            &format!("!!..{signature}"),
            long.as_str(),
        ] {
            let error = Detached::parse(value).unwrap_err();
            assert!(error.to_string().starts_with("C0002"), "{value}: {error}");
        }
    }
}
