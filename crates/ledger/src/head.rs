//! Signed tree heads: a ledger's size and root, signed, so anyone with the public key can
//! hold the ledger to them.

use jinguan_crypto::{Algorithm, HashAlgorithm, Signature, Signer, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::hash::Hash;

/// A signed tree head. JSON: hashes and signature bytes are lower-case hex.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TreeHead {
    /// Format version of the signed bytes; 1.
    pub version: u8,
    /// The ledger (shard).
    pub ledger: String,
    /// Number of entries covered.
    pub tree_size: u64,
    /// RFC 6962 root over the entries' leaf hashes.
    pub root_hash: Hash,
    /// When the head was signed, milliseconds since the Unix epoch.
    pub timestamp_ms: i64,
    /// Hash algorithm of leaves and nodes.
    pub hash_algorithm: HashAlgorithm,
    /// Id of the signing key (see `VerifyingKey::key_id`).
    pub key_id: String,
    /// Signature over [`TreeHead::signed_bytes`]; carries the algorithm and SM2 distid.
    pub signature: Signature,
}

/// Why a head does not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeadError {
    /// Unknown format version.
    #[error("L0201: unsupported tree head version {0}")]
    Version(u8),
    /// The signature is not valid for these fields under this key.
    #[error("L0202: tree head signature invalid: {0}")]
    Signature(String),
}

impl TreeHead {
    /// Signs a head (`C0002` from the signer when a remote one fails).
    pub fn sign(
        key: &dyn Signer,
        ledger: &str,
        tree_size: u64,
        root_hash: Hash,
        timestamp_ms: i64,
        hash_algorithm: HashAlgorithm,
    ) -> Result<Self, jinguan_crypto::Error> {
        let public = key.verifying_key();
        let key_id = public.key_id();
        let bytes = signed_bytes(
            1,
            ledger,
            tree_size,
            &root_hash,
            timestamp_ms,
            hash_algorithm,
            public.algorithm(),
            public.distid().unwrap_or(""),
            &key_id,
        );
        Ok(Self {
            version: 1,
            ledger: ledger.to_owned(),
            tree_size,
            root_hash,
            timestamp_ms,
            hash_algorithm,
            key_id,
            signature: key.try_sign(&bytes)?,
        })
    }

    /// The exact bytes the signature covers.
    pub fn signed_bytes(&self) -> Vec<u8> {
        signed_bytes(
            self.version,
            &self.ledger,
            self.tree_size,
            &self.root_hash,
            self.timestamp_ms,
            self.hash_algorithm,
            self.signature.algorithm,
            self.signature.distid.as_deref().unwrap_or(""),
            &self.key_id,
        )
    }

    /// Verifies the signature with the public key alone.
    pub fn verify(&self, key: &VerifyingKey) -> Result<(), HeadError> {
        if self.version != 1 {
            return Err(HeadError::Version(self.version));
        }
        if self.key_id != key.key_id() {
            return Err(HeadError::Signature(format!(
                "head names key {}, not {}",
                self.key_id,
                key.key_id()
            )));
        }
        key.verify(&self.signed_bytes(), &self.signature)
            .map_err(|e| HeadError::Signature(e.to_string()))
    }
}

/// Domain-separated, length-prefixed encoding of every field a head binds, including the
/// algorithm ids and the SM2 distinguishing id, so none can be swapped after signing.
#[allow(clippy::too_many_arguments)] // One argument per bound field is the point.
fn signed_bytes(
    version: u8,
    ledger: &str,
    tree_size: u64,
    root: &Hash,
    timestamp_ms: i64,
    hash_algorithm: HashAlgorithm,
    signature_algorithm: Algorithm,
    distid: &str,
    key_id: &str,
) -> Vec<u8> {
    let mut out = Vec::with_capacity(160);
    out.extend_from_slice(b"jinguan tree head\0");
    out.push(version);
    for text in [
        ledger,
        hash_algorithm.id(),
        signature_algorithm.id(),
        distid,
        key_id,
    ] {
        out.extend_from_slice(&(text.len() as u32).to_be_bytes());
        out.extend_from_slice(text.as_bytes());
    }
    out.extend_from_slice(&tree_size.to_be_bytes());
    out.extend_from_slice(&root.0);
    out.extend_from_slice(&timestamp_ms.to_be_bytes());
    out
}
