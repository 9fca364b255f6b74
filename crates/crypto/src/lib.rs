//! Cryptography for Jinguan: SM3 hashing, SM2 and Ed25519 signatures behind one
//! [`SigningKey`]/[`VerifyingKey`] interface, and SM4-GCM for encryption at rest.
//!
//! Every [`Signature`] carries its algorithm id and, for SM2, the distinguishing id (GM/T 0009
//! "user ID", default [`DEFAULT_DISTID`]) that went into the signed digest: a verifier never
//! has to guess either. Keys load from and save to the PEM that OpenSSL 3 reads and writes
//! (`openssl genpkey -algorithm SM2`, PKCS#8 private keys and SPKI public keys); SM2
//! signatures are DER `SEQUENCE { r, s }` as `openssl dgst -sm3 -sign` produces.
//!
//! [`pki`] issues and reads the X.509 certificates that bind those keys to parties. Whatever
//! signs for the platform does so through the [`Signer`] interface (a software key here, an
//! HSM or a KMS by the same interface); [`sealed`] keeps software keys encrypted at rest.
//!
//! Architecture invariant: no other crate links the SM or Ed25519 crates; they go through
//! this one.

mod der;
mod hash;
pub mod hex;
pub mod jws;
mod keys;
pub mod pki;
pub mod sealed;
mod signer;
mod sm2fast;
pub mod sm4;

pub use hash::{sm3, HashAlgorithm, Hasher};
pub use keys::{Algorithm, Signature, SigningKey, VerifyingKey, DEFAULT_DISTID};
pub use signer::Signer;

/// Why a key, signature or ciphertext was refused. Codes are stable API.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Error {
    /// A key could not be read or is of another algorithm.
    #[error("C0001: bad key: {0}")]
    Key(String),
    /// The signature is malformed, of another algorithm or distinguishing id, or does not
    /// verify.
    #[error("C0002: signature does not verify: {0}")]
    Signature(String),
    /// An algorithm name that is not one of ours.
    #[error("C0003: unknown algorithm {0:?}")]
    UnknownAlgorithm(String),
    /// Decryption failed: wrong key, or the data was altered.
    #[error("C0004: decryption failed")]
    Decrypt,
    /// A certificate could not be read, made or checked.
    #[error("C0005: bad certificate: {0}")]
    Certificate(String),
}

/// `N` bytes from the operating system's secure random source (for tokens and nonces).
pub fn random_bytes<const N: usize>() -> [u8; N] {
    use rand_core::RngCore;
    let mut bytes = [0u8; N];
    rand_core::OsRng.fill_bytes(&mut bytes);
    bytes
}
