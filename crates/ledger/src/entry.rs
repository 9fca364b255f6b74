//! Ledger entries and their canonical byte encoding.

use jinguan_crypto::Signature;
use serde::{Deserialize, Serialize};

use crate::hash::Hash;

/// Largest payload accepted, in bytes. A declaration with 50 items is about 40 KiB.
pub const MAX_PAYLOAD_BYTES: usize = 1 << 20;
/// Longest text field (ledger id, kind, submitter, submission id), in bytes.
pub const MAX_TEXT_BYTES: usize = 256;

/// One immutable fact in a ledger.
///
/// The canonical encoding ([`Entry::encode`]) is what the leaf hash covers; it includes
/// `prev_leaf_hash`, which chains every entry to the one before it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    /// The ledger (shard) this entry belongs to, e.g. `customs-5300`.
    pub ledger: String,
    /// 0-based position in the ledger; also the leaf index in its Merkle tree.
    pub seq: u64,
    /// What the payload is, e.g. `declaration.submitted`.
    pub kind: String,
    /// Version of the payload's schema for that kind.
    pub schema_version: u32,
    /// Who submitted it (certificate subject or party id).
    pub submitter: String,
    /// The submitter's idempotency key, unique per ledger.
    pub submission_id: String,
    /// Milliseconds since the Unix epoch, from the appender's injected clock.
    pub time_ms: i64,
    /// Leaf hash of entry `seq - 1`; all zeros for the first entry.
    pub prev_leaf_hash: Hash,
    /// The submitter's signature over the payload, where one was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub submitter_signature: Option<Signature>,
    /// The payload bytes.
    #[serde(with = "jinguan_crypto::hex::serde_bytes")]
    pub payload: Vec<u8>,
}

/// Why bytes are not an entry.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("L0001: malformed entry encoding: {0}")]
pub struct DecodeError(pub String);

const MAGIC: &[u8; 4] = b"JGE1";

impl Entry {
    /// The canonical encoding: magic, then each field length-prefixed (u32 big-endian) or
    /// fixed-width big-endian, in declaration order. One entry has exactly one encoding.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(128 + self.payload.len());
        out.extend_from_slice(MAGIC);
        put_bytes(&mut out, self.ledger.as_bytes());
        out.extend_from_slice(&self.seq.to_be_bytes());
        put_bytes(&mut out, self.kind.as_bytes());
        out.extend_from_slice(&self.schema_version.to_be_bytes());
        put_bytes(&mut out, self.submitter.as_bytes());
        put_bytes(&mut out, self.submission_id.as_bytes());
        out.extend_from_slice(&self.time_ms.to_be_bytes());
        out.extend_from_slice(&self.prev_leaf_hash.0);
        match &self.submitter_signature {
            None => out.push(0),
            Some(signature) => {
                out.push(1);
                put_bytes(&mut out, signature.algorithm.id().as_bytes());
                put_bytes(
                    &mut out,
                    signature.distid.as_deref().unwrap_or("").as_bytes(),
                );
                put_bytes(&mut out, &signature.bytes);
            }
        }
        put_bytes(&mut out, &self.payload);
        out
    }

    /// Decodes [`Entry::encode`]'s output; anything else is an error, never a panic.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut reader = Reader { bytes, at: 0 };
        if reader.take(4)? != MAGIC {
            return Err(DecodeError("bad magic".into()));
        }
        let ledger = reader.text()?;
        let seq = u64::from_be_bytes(reader.array()?);
        let kind = reader.text()?;
        let schema_version = u32::from_be_bytes(reader.array()?);
        let submitter = reader.text()?;
        let submission_id = reader.text()?;
        let time_ms = i64::from_be_bytes(reader.array()?);
        let prev_leaf_hash = Hash(reader.array()?);
        let submitter_signature = match reader.take(1)?[0] {
            0 => None,
            1 => {
                let algorithm = jinguan_crypto::Algorithm::from_id(&reader.text()?)
                    .map_err(|e| DecodeError(e.to_string()))?;
                let distid = reader.text()?;
                let bytes = reader.bytes()?.to_vec();
                Some(Signature {
                    algorithm,
                    distid: (!distid.is_empty()).then_some(distid),
                    bytes,
                })
            }
            other => return Err(DecodeError(format!("bad signature flag {other}"))),
        };
        let payload = reader.bytes()?.to_vec();
        if reader.at != bytes.len() {
            return Err(DecodeError("trailing bytes".into()));
        }
        Ok(Self {
            ledger,
            seq,
            kind,
            schema_version,
            submitter,
            submission_id,
            time_ms,
            prev_leaf_hash,
            submitter_signature,
            payload,
        })
    }
}

fn put_bytes(out: &mut Vec<u8>, bytes: &[u8]) {
    let len = u32::try_from(bytes.len()).expect("fields are bounded far below 4 GiB");
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(bytes);
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], DecodeError> {
        let end = self
            .at
            .checked_add(n)
            .filter(|end| *end <= self.bytes.len());
        let end = end.ok_or_else(|| DecodeError(format!("truncated at byte {}", self.at)))?;
        let slice = &self.bytes[self.at..end];
        self.at = end;
        Ok(slice)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], DecodeError> {
        Ok(self.take(N)?.try_into().expect("take returned N bytes"))
    }

    fn bytes(&mut self) -> Result<&'a [u8], DecodeError> {
        let len = u32::from_be_bytes(self.array()?) as usize;
        if len > MAX_PAYLOAD_BYTES {
            return Err(DecodeError(format!(
                "field of {len} bytes exceeds the limit"
            )));
        }
        self.take(len)
    }

    fn text(&mut self) -> Result<String, DecodeError> {
        let bytes = self.bytes()?;
        String::from_utf8(bytes.to_vec()).map_err(|_| DecodeError("text is not UTF-8".into()))
    }
}
