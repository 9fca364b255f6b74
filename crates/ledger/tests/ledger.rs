//! Entries, the chain, signed heads and offline verification.

#![allow(clippy::unwrap_used)] // A panic in a test is a test failure with its message.

use jinguan_crypto::{Algorithm, HashAlgorithm, SigningKey, DEFAULT_DISTID};
use jinguan_ledger::merkle::{consistency_proof, inclusion_proof};
use jinguan_ledger::{
    next_entry, verify_entry_in_head, verify_heads_consistent, ChainChecker, Entry, Hash,
    MemoryTree, Submission, Tip, TreeHead,
};
use proptest::prelude::*;

const H: HashAlgorithm = HashAlgorithm::Sm3;

fn submission(i: u64) -> Submission {
    Submission {
        kind: "declaration.submitted".into(),
        schema_version: 1,
        submitter: "91440300MA5FHK4H1F".into(),
        submission_id: format!("sub-{i}"),
        payload: format!("payload {i}").into_bytes(),
        submitter_signature: None,
    }
}

/// A ledger of `n` entries: encoded entries, leaf hashes, tree.
fn build(n: u64) -> (Vec<Entry>, Vec<Vec<u8>>, Vec<Hash>, MemoryTree) {
    let (mut entries, mut encoded, mut leaves) = (Vec::new(), Vec::new(), Vec::new());
    let mut tree = MemoryTree::new(H);
    let mut tip = Tip::EMPTY;
    for i in 0..n {
        let (entry, leaf) = next_entry(
            "customs-5300",
            &tip,
            submission(i),
            1_790_000_000_000 + i as i64,
            H,
        )
        .unwrap();
        tip = Tip {
            size: i + 1,
            last_leaf: leaf,
        };
        encoded.push(entry.encode());
        entries.push(entry);
        leaves.push(leaf);
        tree.push(leaf);
    }
    (entries, encoded, leaves, tree)
}

fn check(encoded: &[Vec<u8>], leaves: &[Hash]) -> Result<ChainChecker, jinguan_ledger::ChainError> {
    let mut checker = ChainChecker::new("customs-5300", H);
    for (i, (bytes, leaf)) in encoded.iter().zip(leaves).enumerate() {
        checker.push(i as u64, bytes, leaf)?;
    }
    Ok(checker)
}

#[test]
fn chain_checker_agrees_with_the_tree_and_the_head() {
    let key = SigningKey::generate(Algorithm::Sm2Sm3, DEFAULT_DISTID).unwrap();
    let (_, encoded, leaves, tree) = build(100);
    let checker = check(&encoded, &leaves).unwrap();
    assert_eq!(checker.root(), tree.root(100));
    let head = TreeHead::sign(&key, "customs-5300", 100, tree.root(100), 1, H).unwrap();
    checker.check_head(&head).unwrap();
    let stale = TreeHead::sign(&key, "customs-5300", 99, tree.root(99), 1, H).unwrap();
    assert_eq!(checker.check_head(&stale).unwrap_err().seq, 99);
}

#[test]
fn tampering_names_the_first_bad_sequence() {
    let (_, encoded, leaves, _) = build(50);
    // Change one byte of entry 17's payload: its leaf no longer matches.
    let mut altered = encoded.clone();
    // The payload's last byte comes just before the 48-byte tail (seq, time, previous hash).
    let last = altered[17].len() - 49;
    altered[17][last] ^= 1;
    assert_eq!(check(&altered, &leaves).unwrap_err().seq, 17);
    // Rewrite entry 17 consistently (new leaf): entry 18's link breaks, 17 is reported
    // because its leaf differs from what the tree stored.
    let mut forged_leaves = leaves.clone();
    forged_leaves[17] = jinguan_ledger::leaf_hash(H, &altered[17]);
    let error = check(&altered, &forged_leaves).unwrap_err();
    assert_eq!(error.seq, 18, "{error}");
    // A missing entry.
    let mut gap = encoded.clone();
    gap.remove(5);
    let mut gap_leaves = leaves.clone();
    gap_leaves.remove(5);
    assert_eq!(check(&gap, &gap_leaves).unwrap_err().seq, 5);
}

#[test]
fn an_entry_proves_against_a_head_with_the_public_key_only() {
    for algorithm in [Algorithm::Sm2Sm3, Algorithm::Ed25519] {
        let key = SigningKey::generate(algorithm, DEFAULT_DISTID).unwrap();
        let public = key.verifying_key();
        let (entries, _, _, tree) = build(37);
        let head = TreeHead::sign(&key, "customs-5300", 37, tree.root(37), 5, H).unwrap();
        let proof = inclusion_proof(&tree, H, 12, 37).unwrap();
        verify_entry_in_head(&entries[12], &proof, &head, &public).unwrap();
        // Any change to the entry, the proof, the head or the signature fails.
        let mut entry = entries[12].clone();
        entry.payload.push(0);
        assert!(verify_entry_in_head(&entry, &proof, &head, &public).is_err());
        assert!(verify_entry_in_head(&entries[13], &proof, &head, &public).is_err());
        let mut bad_head = head.clone();
        bad_head.tree_size = 38;
        assert!(verify_entry_in_head(&entries[12], &proof, &bad_head, &public).is_err());
        let mut bad_head = head.clone();
        bad_head.timestamp_ms += 1;
        assert!(verify_entry_in_head(&entries[12], &proof, &bad_head, &public).is_err());
        let mut bad_head = head.clone();
        bad_head.root_hash.0[0] ^= 1;
        assert!(verify_entry_in_head(&entries[12], &proof, &bad_head, &public).is_err());
        let mut bad_head = head.clone();
        bad_head.signature.bytes[10] ^= 1;
        assert!(verify_entry_in_head(&entries[12], &proof, &bad_head, &public).is_err());
        let other = SigningKey::generate(algorithm, DEFAULT_DISTID)
            .unwrap()
            .verifying_key();
        assert!(verify_entry_in_head(&entries[12], &proof, &head, &other).is_err());
        // Heads 20 and 37 are consistent; with a forged older head they are not.
        let older = TreeHead::sign(&key, "customs-5300", 20, tree.root(20), 4, H).unwrap();
        let consistency = consistency_proof(&tree, H, 20, 37).unwrap();
        verify_heads_consistent(&older, &head, &consistency, &public).unwrap();
        let forged = TreeHead::sign(&key, "customs-5300", 20, tree.root(19), 4, H).unwrap();
        assert!(verify_heads_consistent(&forged, &head, &consistency, &public).is_err());
    }
}

#[test]
fn head_json_round_trips() {
    let key = SigningKey::generate(Algorithm::Sm2Sm3, DEFAULT_DISTID).unwrap();
    let head = TreeHead::sign(&key, "customs-5300", 3, Hash([7; 32]), 9, H).unwrap();
    let json = serde_json::to_string(&head).unwrap();
    assert!(
        json.contains(r#""hash_algorithm":"sm3""#)
            && json.contains(r#""algorithm":"sm2-sm3""#)
            && json.contains(r#""distid":"1234567812345678""#),
        "{json}"
    );
    let back: TreeHead = serde_json::from_str(&json).unwrap();
    assert_eq!(back, head);
    back.verify(&key.verifying_key()).unwrap();
}

#[test]
fn submissions_are_bounded() {
    let mut too_big = submission(0);
    too_big.payload = vec![0; jinguan_ledger::entry::MAX_PAYLOAD_BYTES + 1];
    assert!(next_entry("l", &Tip::EMPTY, too_big, 0, H)
        .unwrap_err()
        .to_string()
        .starts_with("L0303"));
    let mut empty = submission(0);
    empty.submission_id.clear();
    assert!(next_entry("l", &Tip::EMPTY, empty, 0, H).is_err());
    assert!(next_entry("Bad Ledger", &Tip::EMPTY, submission(0), 0, H).is_err());
}

proptest! {
    #[test]
    fn entries_round_trip(payload in proptest::collection::vec(any::<u8>(), 0..600), seq in any::<u64>(), time in any::<i64>()) {
        let entry = Entry {
            ledger: "customs-5300".into(), seq, kind: "k".into(), schema_version: 2,
            submitter: "s".into(), submission_id: "id".into(), time_ms: time,
            prev_leaf_hash: Hash([3; 32]), submitter_signature: None, payload,
        };
        prop_assert_eq!(Entry::decode(&entry.encode()).unwrap(), entry);
    }

    #[test]
    fn prepared_entries_hash_as_whole_ones(payload in proptest::collection::vec(any::<u8>(), 0..600), size in any::<u64>(), time in any::<i64>(), signed in any::<bool>()) {
        let algorithm = if size % 2 == 0 { HashAlgorithm::Sm3 } else { HashAlgorithm::Sha256 };
        let mut submission = submission(3);
        submission.payload = payload;
        if signed {
            let key = SigningKey::generate(Algorithm::Sm2Sm3, DEFAULT_DISTID).unwrap();
            submission.submitter_signature = Some(key.sign(&submission.payload));
        }
        let tip = Tip { size, last_leaf: Hash([9; 32]) };
        let (entry, encoded, leaf) = jinguan_ledger::prepare("customs-5300", submission, algorithm)
            .unwrap()
            .place(&tip, time);
        prop_assert_eq!(&encoded, &entry.encode());
        prop_assert_eq!(leaf, jinguan_ledger::leaf_hash(algorithm, &encoded));
        prop_assert_eq!(Entry::decode(&encoded).unwrap(), entry);
    }

    #[test]
    fn decoding_garbage_never_panics(bytes in proptest::collection::vec(any::<u8>(), 0..300), flip in any::<usize>()) {
        let _ = Entry::decode(&bytes);
        let (_, mut encoded, _, _) = build(1);
        let at = flip % encoded[0].len();
        encoded[0][at] ^= 0x5a;
        let _ = Entry::decode(&encoded[0]);
    }
}
