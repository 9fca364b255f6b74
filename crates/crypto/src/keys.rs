//! Signing and verifying keys of either algorithm, their PEM forms, and signatures.

use std::fmt;

use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey, EncodePrivateKey, EncodePublicKey};
use serde::{Deserialize, Serialize};
use sm2::elliptic_curve::generic_array::GenericArray;

use crate::{der, sm3, Error};

/// The SM2 distinguishing id (GM/T 0009 default user ID) used when none is given.
pub const DEFAULT_DISTID: &str = "1234567812345678";

/// A signature algorithm, named in every signed structure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Algorithm {
    /// SM2 signature over SM3 (GM/T 0003), with a distinguishing id.
    #[serde(rename = "sm2-sm3")]
    Sm2Sm3,
    /// Ed25519 (RFC 8032).
    #[serde(rename = "ed25519")]
    Ed25519,
}

impl Algorithm {
    /// The id written into signed structures and accepted by `--alg`.
    pub fn id(self) -> &'static str {
        match self {
            Self::Sm2Sm3 => "sm2-sm3",
            Self::Ed25519 => "ed25519",
        }
    }

    /// Parses an id; `sm2` is accepted for `sm2-sm3`.
    pub fn from_id(id: &str) -> Result<Self, Error> {
        match id {
            "sm2" | "sm2-sm3" => Ok(Self::Sm2Sm3),
            "ed25519" => Ok(Self::Ed25519),
            other => Err(Error::UnknownAlgorithm(other.to_owned())),
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// A signature with everything a verifier needs besides the key and the message.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signature {
    /// The algorithm.
    pub algorithm: Algorithm,
    /// The SM2 distinguishing id that went into the digest; `None` for Ed25519.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub distid: Option<String>,
    /// SM2: DER `SEQUENCE { r, s }` as OpenSSL writes it; Ed25519: the 64 raw bytes.
    #[serde(with = "crate::hex::serde_bytes")]
    pub bytes: Vec<u8>,
}

enum SigningInner {
    Sm2 {
        key: sm2::dsa::SigningKey,
        distid: String,
        /// The same key with its per-key work done (see `sm2fast`).
        fast: Option<Box<crate::sm2fast::FastSm2>>,
    },
    Ed25519(ed25519_dalek::SigningKey),
}

/// A private key that signs.
pub struct SigningKey(SigningInner);

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Never print key material.
        write!(
            f,
            "SigningKey({}, {})",
            self.algorithm(),
            self.verifying_key().key_id()
        )
    }
}

impl SigningKey {
    /// A new random key. `distid` is used for SM2 and ignored for Ed25519.
    pub fn generate(algorithm: Algorithm, distid: &str) -> Result<Self, Error> {
        let mut rng = rand_core::OsRng;
        Ok(Self(match algorithm {
            Algorithm::Sm2Sm3 => {
                let secret = sm2::SecretKey::random(&mut rng);
                let key = sm2::dsa::SigningKey::new(distid, &secret)
                    .map_err(|e| Error::Key(e.to_string()))?;
                SigningInner::Sm2 {
                    key,
                    distid: distid.to_owned(),
                    fast: crate::sm2fast::FastSm2::new(&secret, distid).map(Box::new),
                }
            }
            Algorithm::Ed25519 => {
                SigningInner::Ed25519(ed25519_dalek::SigningKey::generate(&mut rng))
            }
        }))
    }

    /// Reads a PKCS#8 PEM private key (`-----BEGIN PRIVATE KEY-----`) of either algorithm.
    pub fn from_pem(pem: &str, distid: &str) -> Result<Self, Error> {
        if let Ok(secret) = sm2::SecretKey::from_pkcs8_pem(pem) {
            let key = sm2::dsa::SigningKey::new(distid, &secret)
                .map_err(|e| Error::Key(e.to_string()))?;
            return Ok(Self(SigningInner::Sm2 {
                key,
                distid: distid.to_owned(),
                fast: crate::sm2fast::FastSm2::new(&secret, distid).map(Box::new),
            }));
        }
        ed25519_dalek::SigningKey::from_pkcs8_pem(pem)
            .map(|key| Self(SigningInner::Ed25519(key)))
            .map_err(|e| Error::Key(format!("not an SM2 or Ed25519 PKCS#8 private key: {e}")))
    }

    /// The PKCS#8 PEM form.
    pub fn to_pem(&self) -> String {
        let pem = match &self.0 {
            SigningInner::Sm2 { key, .. } => {
                sm2::SecretKey::from(key.as_nonzero_scalar()).to_pkcs8_pem(LineEnding::LF)
            }
            SigningInner::Ed25519(key) => key.to_pkcs8_pem(LineEnding::LF),
        };
        pem.expect("encoding a valid key cannot fail").to_string()
    }

    /// The algorithm.
    pub fn algorithm(&self) -> Algorithm {
        match self.0 {
            SigningInner::Sm2 { .. } => Algorithm::Sm2Sm3,
            SigningInner::Ed25519(_) => Algorithm::Ed25519,
        }
    }

    /// The public half.
    pub fn verifying_key(&self) -> VerifyingKey {
        match &self.0 {
            SigningInner::Sm2 { key, distid, .. } => VerifyingKey(VerifyingInner::Sm2 {
                key: sm2::PublicKey::from(key.verifying_key()),
                distid: distid.clone(),
                fast: None,
            }),
            SigningInner::Ed25519(key) => {
                VerifyingKey(VerifyingInner::Ed25519(key.verifying_key()))
            }
        }
    }

    /// Signs `message`.
    pub fn sign(&self, message: &[u8]) -> Signature {
        use sm2::dsa::signature::Signer;
        match &self.0 {
            SigningInner::Sm2 { key, distid, fast } => {
                // The prepared key when it can (the same signature, faster); the `sm2`
                // crate's path for the rare message whose nonce the standard sends round
                // again (r = 0, r + k = n or s = 0), which it handles.
                let (r, s) = match fast.as_ref().and_then(|f| f.sign(message)) {
                    Some((r, s)) => (r, s),
                    None => {
                        let signature: sm2::dsa::Signature = key.sign(message);
                        let bytes = signature.to_bytes();
                        let (r, s) = bytes.split_at(32);
                        (
                            r.try_into().expect("32-byte half"),
                            s.try_into().expect("32-byte half"),
                        )
                    }
                };
                Signature {
                    algorithm: Algorithm::Sm2Sm3,
                    distid: Some(distid.clone()),
                    bytes: der::encode_signature(&r, &s),
                }
            }
            SigningInner::Ed25519(key) => Signature {
                algorithm: Algorithm::Ed25519,
                distid: None,
                bytes: key.sign(message).to_bytes().to_vec(),
            },
        }
    }
}

#[derive(Clone)]
enum VerifyingInner {
    Sm2 {
        key: sm2::PublicKey,
        distid: String,
        /// Z_A and a table of the point, for a key that verifies many signatures
        /// ([`VerifyingKey::prepared`]).
        fast: Option<std::sync::Arc<crate::sm2fast::FastVerify>>,
    },
    Ed25519(ed25519_dalek::VerifyingKey),
}

/// A public key that verifies.
#[derive(Clone)]
pub struct VerifyingKey(VerifyingInner);

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "VerifyingKey({}, {})", self.algorithm(), self.key_id())
    }
}

impl PartialEq for VerifyingKey {
    fn eq(&self, other: &Self) -> bool {
        self.to_pem() == other.to_pem()
    }
}

impl VerifyingKey {
    /// Reads an SPKI PEM public key (`-----BEGIN PUBLIC KEY-----`) of either algorithm.
    /// `distid` is the SM2 distinguishing id this key signs with by default.
    pub fn from_pem(pem: &str, distid: &str) -> Result<Self, Error> {
        if let Ok(key) = sm2::PublicKey::from_public_key_pem(pem) {
            return Ok(Self(VerifyingInner::Sm2 {
                key,
                distid: distid.to_owned(),
                fast: None,
            }));
        }
        ed25519_dalek::VerifyingKey::from_public_key_pem(pem)
            .map(|key| Self(VerifyingInner::Ed25519(key)))
            .map_err(|e| Error::Key(format!("not an SM2 or Ed25519 public key: {e}")))
    }

    /// Reads a DER `SubjectPublicKeyInfo` of either algorithm (as in a certificate).
    pub fn from_spki_der(der: &[u8], distid: &str) -> Result<Self, Error> {
        if let Ok(key) = sm2::PublicKey::from_public_key_der(der) {
            return Ok(Self(VerifyingInner::Sm2 {
                key,
                distid: distid.to_owned(),
                fast: None,
            }));
        }
        ed25519_dalek::VerifyingKey::from_public_key_der(der)
            .map(|key| Self(VerifyingInner::Ed25519(key)))
            .map_err(|e| Error::Key(format!("not an SM2 or Ed25519 public key: {e}")))
    }

    /// The DER `SubjectPublicKeyInfo`.
    pub fn to_spki_der(&self) -> Vec<u8> {
        let der = match &self.0 {
            VerifyingInner::Sm2 { key, .. } => key.to_public_key_der(),
            VerifyingInner::Ed25519(key) => key.to_public_key_der(),
        };
        der.expect("encoding a valid key cannot fail").into_vec()
    }

    /// The same key, verifying signatures made under distinguishing id `distid` by default.
    pub fn with_distid(&self, distid: &str) -> Self {
        match &self.0 {
            VerifyingInner::Sm2 { key, .. } => Self(VerifyingInner::Sm2 {
                key: *key,
                distid: distid.to_owned(),
                fast: None,
            }),
            VerifyingInner::Ed25519(_) => self.clone(),
        }
    }

    /// The same key with its per-key verification work done once (SM2: the identity hash
    /// and a 1,024-point table, some milliseconds), for a key that will verify many
    /// signatures; each then costs about a fifth. Ed25519 keys are returned as they are.
    pub fn prepared(&self) -> Self {
        match &self.0 {
            VerifyingInner::Sm2 { key, distid, .. } => Self(VerifyingInner::Sm2 {
                key: *key,
                distid: distid.clone(),
                fast: crate::sm2fast::FastVerify::new(key, distid).map(std::sync::Arc::new),
            }),
            VerifyingInner::Ed25519(_) => self.clone(),
        }
    }

    /// The SPKI PEM form.
    pub fn to_pem(&self) -> String {
        let pem = match &self.0 {
            VerifyingInner::Sm2 { key, .. } => key.to_public_key_pem(LineEnding::LF),
            VerifyingInner::Ed25519(key) => key.to_public_key_pem(LineEnding::LF),
        };
        pem.expect("encoding a valid key cannot fail")
    }

    /// The SM2 distinguishing id this key was loaded with; `None` for Ed25519.
    pub fn distid(&self) -> Option<&str> {
        match &self.0 {
            VerifyingInner::Sm2 { distid, .. } => Some(distid),
            VerifyingInner::Ed25519(_) => None,
        }
    }

    /// The algorithm.
    pub fn algorithm(&self) -> Algorithm {
        match self.0 {
            VerifyingInner::Sm2 { .. } => Algorithm::Sm2Sm3,
            VerifyingInner::Ed25519(_) => Algorithm::Ed25519,
        }
    }

    /// A short, stable name for the key: hex of the first 8 bytes of SM3 over its SPKI DER.
    pub fn key_id(&self) -> String {
        let digest = sm3(&self.to_spki_der());
        digest[..8].iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Checks `signature` over `message`. The algorithm must match the key's; for SM2 the
    /// signature's own distinguishing id is used, so a signature made under another id fails.
    pub fn verify(&self, message: &[u8], signature: &Signature) -> Result<(), Error> {
        use sm2::dsa::signature::Verifier;
        if signature.algorithm != self.algorithm() {
            return Err(Error::Signature(format!(
                "signature is {}, key is {}",
                signature.algorithm,
                self.algorithm()
            )));
        }
        match &self.0 {
            VerifyingInner::Sm2 {
                key,
                distid: own,
                fast,
            } => {
                let distid = signature.distid.as_deref().ok_or_else(|| {
                    Error::Signature("SM2 signature without a distinguishing id".into())
                })?;
                let (r, s) = der::decode_signature(&signature.bytes)
                    .ok_or_else(|| Error::Signature("not a DER SM2 signature".into()))?;
                // The prepared path holds Z_A for the key's own id only.
                if let (Some(fast), true) = (fast, distid == own) {
                    return if fast.verify(message, &r, &s) {
                        Ok(())
                    } else {
                        Err(Error::Signature("SM2 verification failed".into()))
                    };
                }
                let parsed = sm2::dsa::Signature::from_scalars(
                    *GenericArray::from_slice(&r),
                    *GenericArray::from_slice(&s),
                )
                .map_err(|e| Error::Signature(e.to_string()))?;
                let verifier = sm2::dsa::VerifyingKey::new(distid, *key)
                    .map_err(|e| Error::Key(e.to_string()))?;
                verifier
                    .verify(message, &parsed)
                    .map_err(|_| Error::Signature("SM2 verification failed".into()))
            }
            VerifyingInner::Ed25519(key) => {
                if signature.distid.is_some() {
                    return Err(Error::Signature(
                        "Ed25519 signature with a distinguishing id".into(),
                    ));
                }
                let bytes: [u8; 64] =
                    signature.bytes.as_slice().try_into().map_err(|_| {
                        Error::Signature("Ed25519 signature must be 64 bytes".into())
                    })?;
                key.verify_strict(message, &ed25519_dalek::Signature::from_bytes(&bytes))
                    .map_err(|_| Error::Signature("Ed25519 verification failed".into()))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_prepared_key_answers_as_the_plain_one() {
        let key = SigningKey::generate(Algorithm::Sm2Sm3, DEFAULT_DISTID).expect("key");
        let plain = key.verifying_key();
        let prepared = plain.prepared();
        assert_eq!(prepared, plain);
        let signature = key.sign(b"declaration");
        let mut other_id = signature.clone();
        other_id.distid = Some("8765432187654321".into());
        let mut altered = signature.clone();
        let last = altered.bytes.len() - 1;
        altered.bytes[last] ^= 1;
        for (message, signature) in [
            (&b"declaration"[..], &signature),
            (b"declaration.", &signature),
            (b"declaration", &other_id),
            (b"declaration", &altered),
        ] {
            assert_eq!(
                prepared.verify(message, signature).is_ok(),
                plain.verify(message, signature).is_ok()
            );
        }
        assert!(prepared.verify(b"declaration", &signature).is_ok());
        assert!(prepared.verify(b"declaration", &other_id).is_err());
    }

    #[test]
    fn sign_verify_both_algorithms() {
        for algorithm in [Algorithm::Sm2Sm3, Algorithm::Ed25519] {
            let key = SigningKey::generate(algorithm, DEFAULT_DISTID).unwrap();
            let public = key.verifying_key();
            let signature = key.sign(b"ledger head");
            public.verify(b"ledger head", &signature).unwrap();
            assert!(public.verify(b"ledger heaD", &signature).is_err());
            let mut altered = signature.clone();
            let last = altered.bytes.len() - 1;
            altered.bytes[last] ^= 1;
            assert!(public.verify(b"ledger head", &altered).is_err());
            // PEM round trip keeps both halves.
            let again = SigningKey::from_pem(&key.to_pem(), DEFAULT_DISTID).unwrap();
            assert_eq!(again.verifying_key(), public);
            let public_again = VerifyingKey::from_pem(&public.to_pem(), DEFAULT_DISTID).unwrap();
            public_again.verify(b"ledger head", &signature).unwrap();
            assert_eq!(public_again.key_id().len(), 16);
        }
    }

    #[test]
    fn sm2_distid_is_bound_into_the_signature() {
        let key = SigningKey::generate(Algorithm::Sm2Sm3, "alice@customs").unwrap();
        let signature = key.sign(b"m");
        assert_eq!(signature.distid.as_deref(), Some("alice@customs"));
        key.verifying_key().verify(b"m", &signature).unwrap();
        let mut other = signature.clone();
        other.distid = Some(DEFAULT_DISTID.to_owned());
        assert!(key.verifying_key().verify(b"m", &other).is_err());
    }

    #[test]
    fn algorithm_mismatch_is_refused() {
        let sm2 = SigningKey::generate(Algorithm::Sm2Sm3, DEFAULT_DISTID).unwrap();
        let ed = SigningKey::generate(Algorithm::Ed25519, DEFAULT_DISTID).unwrap();
        let signature = sm2.sign(b"m");
        assert!(ed.verifying_key().verify(b"m", &signature).is_err());
        assert!(SigningKey::from_pem("not a key", DEFAULT_DISTID).is_err());
        assert_eq!(Algorithm::from_id("sm2").unwrap(), Algorithm::Sm2Sm3);
        assert!(Algorithm::from_id("rsa").is_err());
    }

    #[test]
    fn signature_json_is_hex() {
        let signature = Signature {
            algorithm: Algorithm::Ed25519,
            distid: None,
            bytes: vec![0, 171],
        };
        let json = serde_json::to_string(&signature).unwrap();
        assert_eq!(json, r#"{"algorithm":"ed25519","bytes":"00ab"}"#);
        assert_eq!(serde_json::from_str::<Signature>(&json).unwrap(), signature);
        assert!(
            serde_json::from_str::<Signature>(r#"{"algorithm":"ed25519","bytes":"0AB"}"#).is_err()
        );
    }
}
