//! An entry's bytes as the embedded store keeps them: its canonical encoding, or that
//! encoding with everything before the entry's place compressed.
//!
//! A cross-border message's entry is mostly XML and JSON (a 54 KB entry packs to about
//! 7 KB), and every byte the single writer puts in the log is written twice, to the log and
//! at the checkpoint. The submitting thread compresses ([`pack_head`]) while it hashes, so
//! the writer only appends the place it decides ([`stored`]); reads restore the canonical
//! encoding ([`canonical`]), which alone is hashed and checked. The packed form:
//!
//! ```text
//! "JGZ1"                    4 bytes
//! head length               u32 big-endian: the canonical encoding up to the place
//! head                      LZ4 block
//! place                     the canonical encoding's last PLACE_BYTES, as they are
//! ```

use std::borrow::Cow;

use jinguan_ledger::PLACE_BYTES;

const PACKED: &[u8; 4] = b"JGZ1";

/// The longest head unpacked: the largest payload the ledger takes, with room for the rest
/// of the head. A stored length above it is damage, not an allocation to make.
const MAX_HEAD: usize = jinguan_ledger::entry::MAX_PAYLOAD_BYTES + 4096;

/// `head` packed, with the magic and its length, ready for the place to follow; `None` when
/// that would not be smaller (short entries stay canonical).
pub(crate) fn pack_head(head: &[u8]) -> Option<Vec<u8>> {
    let length = u32::try_from(head.len()).ok()?;
    let bound = lz4_flex::block::get_maximum_output_size(head.len());
    let mut packed = vec![0; 8 + bound + PLACE_BYTES];
    packed[..4].copy_from_slice(PACKED);
    packed[4..8].copy_from_slice(&length.to_be_bytes());
    let written = lz4_flex::block::compress_into(head, &mut packed[8..8 + bound]).ok()?;
    if 8 + written >= head.len() {
        return None;
    }
    packed.truncate(8 + written);
    Some(packed)
}

/// What to store for an entry whose canonical encoding is `canonical`: `packed` (its head,
/// from [`pack_head`]) followed by the place, or `canonical` itself.
pub(crate) fn stored(packed: Option<Vec<u8>>, canonical: &[u8]) -> Cow<'_, [u8]> {
    match packed {
        Some(mut packed) if canonical.len() >= PLACE_BYTES => {
            packed.extend_from_slice(&canonical[canonical.len() - PLACE_BYTES..]);
            Cow::Owned(packed)
        }
        _ => Cow::Borrowed(canonical),
    }
}

/// The canonical encoding of an entry as stored, packed or not. Damage (a truncated or
/// inconsistent packed form) is an error saying what is wrong, never a panic; the caller
/// names the entry.
pub(crate) fn canonical(stored: Vec<u8>) -> Result<Vec<u8>, String> {
    if stored.get(..4) != Some(PACKED.as_slice()) {
        return Ok(stored);
    }
    let damaged = |why: &str| format!("packed entry: {why}");
    if stored.len() < 8 + PLACE_BYTES {
        return Err(damaged("truncated"));
    }
    let length = u32::from_be_bytes([stored[4], stored[5], stored[6], stored[7]]) as usize;
    if length > MAX_HEAD {
        return Err(damaged(&format!(
            "head of {length} bytes exceeds the limit"
        )));
    }
    let place = stored.len() - PLACE_BYTES;
    let mut out = vec![0; length + PLACE_BYTES];
    let unpacked = lz4_flex::block::decompress_into(&stored[8..place], &mut out[..length])
        .map_err(|e| damaged(&e.to_string()))?;
    if unpacked != length {
        return Err(damaged(&format!(
            "head unpacks to {unpacked} bytes, not {length}"
        )));
    }
    out[length..].copy_from_slice(&stored[place..]);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn encoding_of(payload: &[u8]) -> (Vec<u8>, Vec<u8>) {
        let submission = jinguan_ledger::Submission {
            kind: "test.packed".into(),
            schema_version: 1,
            submitter: "tester".into(),
            submission_id: "s-1".into(),
            submitter_signature: None,
            payload: payload.to_vec(),
        };
        let prepared =
            jinguan_ledger::prepare("packed", submission, jinguan_crypto::HashAlgorithm::Sm3)
                .unwrap();
        let head = prepared.encoded_head().to_vec();
        let tip = jinguan_ledger::Tip {
            size: 7,
            last_leaf: jinguan_ledger::Hash([9; 32]),
        };
        let (_, encoding, _) = prepared.place(&tip, 1_700_000_000_000);
        (head, encoding)
    }

    #[test]
    fn a_packed_entry_reads_back_as_its_canonical_encoding() {
        let xml = "<ceb:InventoryReturn><ceb:returnStatus>800</ceb:returnStatus>".repeat(200);
        let (head, encoding) = encoding_of(xml.as_bytes());
        assert_eq!(encoding.len() - head.len(), PLACE_BYTES);
        let packed = pack_head(&head).expect("repetitive XML packs");
        let kept = stored(Some(packed), &encoding).into_owned();
        assert!(
            kept.len() * 10 < encoding.len(),
            "{} of {}",
            kept.len(),
            encoding.len()
        );
        assert_eq!(canonical(kept).unwrap(), encoding);
        assert!(jinguan_ledger::Entry::decode(&encoding).is_ok());
    }

    #[test]
    fn what_would_not_shrink_is_kept_as_it_is() {
        let noise: Vec<u8> = (0u32..64)
            .map(|i| (i.wrapping_mul(2_654_435_761) >> 24) as u8)
            .collect();
        let (head, encoding) = encoding_of(&noise);
        assert!(pack_head(&head).is_none());
        let kept = stored(None, &encoding);
        assert_eq!(kept.as_ref(), encoding.as_slice());
        assert_eq!(canonical(kept.into_owned()).unwrap(), encoding);
    }

    #[test]
    fn damage_is_an_error_never_a_panic() {
        let (head, encoding) = encoding_of("<a>b</a>".repeat(500).as_bytes());
        let kept = stored(pack_head(&head), &encoding).into_owned();
        // Every truncation, and a flipped byte at every position, either fails or gives
        // bytes that the entry decoder then judges: nothing panics, nothing is allocated
        // past the limit.
        for end in 0..kept.len() {
            let _ = canonical(kept[..end].to_vec());
        }
        for at in 0..kept.len() {
            let mut bad = kept.clone();
            bad[at] ^= 0x5a;
            if let Ok(bytes) = canonical(bad) {
                let _ = jinguan_ledger::Entry::decode(&bytes);
            }
        }
        let mut huge = kept.clone();
        huge[4..8].copy_from_slice(&u32::MAX.to_be_bytes());
        let error = canonical(huge).unwrap_err();
        assert!(error.contains("exceeds the limit"), "{error}");
        let mut short = kept;
        short[4..8].copy_from_slice(&((head.len() + 1) as u32).to_be_bytes());
        assert!(canonical(short).is_err());
    }
}
