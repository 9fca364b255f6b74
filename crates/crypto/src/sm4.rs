//! SM4 (GB/T 32907-2016): the block cipher, and SM4-GCM for authenticated encryption at rest.

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::AesGcm;
use sm4::cipher::consts::U12;
use sm4::cipher::{generic_array::GenericArray, BlockEncrypt};

use crate::Error;

type Sm4Gcm = AesGcm<sm4::Sm4, U12>;

/// Encrypts one 16-byte block (for known-answer tests and key wrapping).
pub fn encrypt_block(key: &[u8; 16], block: &[u8; 16]) -> [u8; 16] {
    let cipher = sm4::Sm4::new(GenericArray::from_slice(key));
    let mut out = GenericArray::clone_from_slice(block);
    cipher.encrypt_block(&mut out);
    out.into()
}

/// Encrypts with SM4-GCM. `nonce` must never repeat under one key; `aad` is authenticated
/// but not encrypted (record ids, versions). Returns ciphertext followed by the 16-byte tag.
pub fn seal(key: &[u8; 16], nonce: &[u8; 12], aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
    let cipher = Sm4Gcm::new(GenericArray::from_slice(key));
    cipher
        .encrypt(
            GenericArray::from_slice(nonce),
            Payload {
                msg: plaintext,
                aad,
            },
        )
        .expect("SM4-GCM encryption cannot fail for inputs below 64 GiB")
}

/// Decrypts and authenticates what [`seal`] produced.
pub fn open(key: &[u8; 16], nonce: &[u8; 12], aad: &[u8], sealed: &[u8]) -> Result<Vec<u8>, Error> {
    let cipher = Sm4Gcm::new(GenericArray::from_slice(key));
    cipher
        .decrypt(
            GenericArray::from_slice(nonce),
            Payload { msg: sealed, aad },
        )
        .map_err(|_| Error::Decrypt)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bytes16(text: &str) -> [u8; 16] {
        hex::decode(text).unwrap().try_into().unwrap()
    }

    #[test]
    fn standard_vector() {
        // GB/T 32907-2016 appendix A, example 1: key = plaintext.
        let key = bytes16("0123456789abcdeffedcba9876543210");
        assert_eq!(
            hex::encode(encrypt_block(&key, &key)),
            "681edf34d206965e86b3e94f536e4246"
        );
    }

    #[test]
    fn gcm_round_trip_and_tamper_detection() {
        let key = bytes16("0123456789abcdeffedcba9876543210");
        let nonce = [7u8; 12];
        let sealed = seal(&key, &nonce, b"record 1", b"payload");
        assert_eq!(
            open(&key, &nonce, b"record 1", &sealed).unwrap(),
            b"payload"
        );
        assert_eq!(
            open(&key, &nonce, b"record 2", &sealed),
            Err(Error::Decrypt)
        );
        let mut altered = sealed;
        altered[0] ^= 1;
        assert_eq!(
            open(&key, &nonce, b"record 1", &altered),
            Err(Error::Decrypt)
        );
    }
}
