//! The signer interface: what signs heads, receipts and certificates without the caller
//! ever holding the private key.
//!
//! [`SigningKey`] is the software implementation. A hardware security module or a cloud
//! KMS implements [`Signer`] the same way (its `try_sign` a call to the device or service)
//! and is handed to the store and the CA in its place; nothing else changes.

use crate::keys::{Signature, SigningKey, VerifyingKey};
use crate::Error;

/// Signs with a private key it may never show.
pub trait Signer: Send + Sync {
    /// The public half (its algorithm and, for SM2, distinguishing id included).
    fn verifying_key(&self) -> VerifyingKey;

    /// Signs `message`. A remote signer may fail (device absent, service down); the software
    /// key never does.
    fn try_sign(&self, message: &[u8]) -> Result<Signature, Error>;
}

impl Signer for SigningKey {
    fn verifying_key(&self) -> VerifyingKey {
        SigningKey::verifying_key(self)
    }

    fn try_sign(&self, message: &[u8]) -> Result<Signature, Error> {
        Ok(self.sign(message))
    }
}
