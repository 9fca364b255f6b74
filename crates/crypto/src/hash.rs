//! Hashing. SM3 is the default everywhere; SHA-256 exists for peers that need it.

use serde::{Deserialize, Serialize};
use sm3::Digest;

/// A hash algorithm, named in every structure that records hashes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum HashAlgorithm {
    /// SM3 (GB/T 32905-2016), 32-byte digests.
    #[default]
    Sm3,
    /// SHA-256 (FIPS 180-4), 32-byte digests.
    Sha256,
}

impl HashAlgorithm {
    /// The id written into signed structures.
    pub fn id(self) -> &'static str {
        match self {
            Self::Sm3 => "sm3",
            Self::Sha256 => "sha256",
        }
    }

    /// Parses an id.
    pub fn from_id(id: &str) -> Result<Self, crate::Error> {
        match id {
            "sm3" => Ok(Self::Sm3),
            "sha256" => Ok(Self::Sha256),
            other => Err(crate::Error::UnknownAlgorithm(other.to_owned())),
        }
    }

    /// A fresh incremental hasher.
    pub fn hasher(self) -> Hasher {
        match self {
            Self::Sm3 => Hasher::Sm3(sm3::Sm3::new()),
            Self::Sha256 => Hasher::Sha256(sha2::Sha256::new()),
        }
    }

    /// The digest of the concatenation of `parts`.
    pub fn digest(self, parts: &[&[u8]]) -> [u8; 32] {
        let mut hasher = self.hasher();
        for part in parts {
            hasher.update(part);
        }
        hasher.finish()
    }
}

/// An incremental hasher of either algorithm.
#[derive(Clone)]
pub enum Hasher {
    /// SM3.
    Sm3(sm3::Sm3),
    /// SHA-256.
    Sha256(sha2::Sha256),
}

impl Hasher {
    /// Feeds bytes.
    pub fn update(&mut self, data: &[u8]) {
        match self {
            Self::Sm3(h) => h.update(data),
            Self::Sha256(h) => h.update(data),
        }
    }

    /// The digest.
    pub fn finish(self) -> [u8; 32] {
        match self {
            Self::Sm3(h) => h.finalize().into(),
            Self::Sha256(h) => h.finalize().into(),
        }
    }
}

/// SM3 of `data`.
pub fn sm3(data: &[u8]) -> [u8; 32] {
    sm3::Sm3::digest(data).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sm3_known_answers() {
        // GB/T 32905-2016, appendix A examples 1 and 2.
        assert_eq!(
            hex::encode(sm3(b"abc")),
            "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"
        );
        let abcd16 = b"abcd".repeat(16);
        assert_eq!(
            hex::encode(sm3(&abcd16)),
            "debe9ff92275b8a138604889c18e5a4d6fdb70e5387e5765293dcba39c0c5732"
        );
        assert_eq!(HashAlgorithm::Sm3.digest(&[b"a", b"bc"]), sm3(b"abc"));
    }

    #[test]
    fn sha256_known_answer() {
        assert_eq!(
            hex::encode(HashAlgorithm::Sha256.digest(&[b"abc"])),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }

    #[test]
    fn ids_round_trip() {
        for alg in [HashAlgorithm::Sm3, HashAlgorithm::Sha256] {
            assert_eq!(HashAlgorithm::from_id(alg.id()).unwrap(), alg);
        }
        assert!(HashAlgorithm::from_id("md5").is_err());
    }
}
