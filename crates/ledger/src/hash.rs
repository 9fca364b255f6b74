//! 32-byte hashes and the RFC 6962 domain-separated leaf and node hashes.

use std::fmt;

use jinguan_crypto::{hex, HashAlgorithm};
use serde::{Deserialize, Serialize};

/// A 32-byte digest, written as lower-case hex in JSON.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Hash(pub [u8; 32]);

impl Hash {
    /// All zeros: the "previous hash" of the first entry.
    pub const ZERO: Self = Self([0; 32]);

    /// Parses 64 hex characters.
    pub fn from_hex(text: &str) -> Option<Self> {
        hex::decode(text)?.try_into().ok().map(Self)
    }

    /// The hex form.
    pub fn to_hex(&self) -> String {
        hex::encode(&self.0)
    }
}

impl fmt::Debug for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.to_hex())
    }
}

impl fmt::Display for Hash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_hex())
    }
}

impl Serialize for Hash {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_hex())
    }
}

impl<'de> Deserialize<'de> for Hash {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        Self::from_hex(&text)
            .ok_or_else(|| serde::de::Error::custom("expected 64 lower-case hex characters"))
    }
}

/// RFC 6962 leaf hash: H(0x00 ‖ data).
pub fn leaf_hash(algorithm: HashAlgorithm, data: &[u8]) -> Hash {
    Hash(algorithm.digest(&[&[0x00], data]))
}

/// RFC 6962 interior node hash: H(0x01 ‖ left ‖ right).
pub fn node_hash(algorithm: HashAlgorithm, left: &Hash, right: &Hash) -> Hash {
    Hash(algorithm.digest(&[&[0x01], &left.0, &right.0]))
}
