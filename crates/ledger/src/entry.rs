//! Ledger entries and their canonical byte encoding.

use jinguan_crypto::Signature;
use serde::{Deserialize, Serialize};

use crate::hash::Hash;

/// Largest payload accepted, in bytes. A declaration with 50 items is about 40 KiB; the
/// bound is set above the API's request limit (5 MiB) so that whatever the API accepts,
/// however hostile (10,000 items), can be recorded with every finding about it.
pub const MAX_PAYLOAD_BYTES: usize = 16 << 20;
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

const MAGIC: &[u8; 4] = b"JGE2";

/// Bytes the encoding adds to a submission's own fields, at most: magic, five length
/// prefixes, schema version, signature flag, and the tail.
pub(crate) const OVERHEAD: usize = 4 + 5 * 4 + 4 + 1 + TAIL_BYTES;

/// The tail's size: sequence number, time, previous leaf hash.
const TAIL_BYTES: usize = 8 + 8 + 32;

/// The head of the canonical encoding: everything the submitter decides, known before the
/// entry's place in the ledger is.
#[allow(clippy::too_many_arguments)] // The fields of an entry, in encoding order.
pub(crate) fn encode_head(
    out: &mut Vec<u8>,
    ledger: &str,
    kind: &str,
    schema_version: u32,
    submitter: &str,
    submission_id: &str,
    signature: Option<&Signature>,
    payload: &[u8],
) {
    out.extend_from_slice(MAGIC);
    put_bytes(out, ledger.as_bytes());
    put_bytes(out, kind.as_bytes());
    out.extend_from_slice(&schema_version.to_be_bytes());
    put_bytes(out, submitter.as_bytes());
    put_bytes(out, submission_id.as_bytes());
    match signature {
        None => out.push(0),
        Some(signature) => {
            out.push(1);
            put_bytes(out, signature.algorithm.id().as_bytes());
            put_bytes(out, signature.distid.as_deref().unwrap_or("").as_bytes());
            put_bytes(out, &signature.bytes);
        }
    }
    put_bytes(out, payload);
}

/// The length of the canonical encoding's tail, the entry's place: sequence number (u64),
/// time (i64) and previous leaf hash (32 bytes).
pub const PLACE_BYTES: usize = 8 + 8 + 32;

/// The tail of the canonical encoding: the entry's place, decided when it is appended.
pub(crate) fn encode_tail(out: &mut Vec<u8>, seq: u64, time_ms: i64, prev_leaf_hash: &Hash) {
    out.extend_from_slice(&seq.to_be_bytes());
    out.extend_from_slice(&time_ms.to_be_bytes());
    out.extend_from_slice(&prev_leaf_hash.0);
}

impl Entry {
    /// The canonical encoding: magic, then what the submitter decides (ledger, kind, schema
    /// version, submitter, submission id, signature, payload), then the entry's place
    /// (sequence number, time, previous leaf hash); text and bytes length-prefixed (u32
    /// big-endian), integers fixed-width big-endian. One entry has exactly one encoding.
    /// The place comes last so a submitter can hash everything before it ahead of time
    /// ([`crate::prepare`]) and the appender hashes only the last few dozen bytes.
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(OVERHEAD + 64 + self.payload.len());
        encode_head(
            &mut out,
            &self.ledger,
            &self.kind,
            self.schema_version,
            &self.submitter,
            &self.submission_id,
            self.submitter_signature.as_ref(),
            &self.payload,
        );
        encode_tail(&mut out, self.seq, self.time_ms, &self.prev_leaf_hash);
        out
    }

    /// Decodes [`Entry::encode`]'s output; anything else is an error, never a panic.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut reader = Reader { bytes, at: 0 };
        if reader.take(4)? != MAGIC {
            return Err(DecodeError("bad magic".into()));
        }
        let ledger = reader.text()?;
        let kind = reader.text()?;
        let schema_version = u32::from_be_bytes(reader.array()?);
        let submitter = reader.text()?;
        let submission_id = reader.text()?;
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
        let seq = u64::from_be_bytes(reader.array()?);
        let time_ms = i64::from_be_bytes(reader.array()?);
        let prev_leaf_hash = Hash(reader.array()?);
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
