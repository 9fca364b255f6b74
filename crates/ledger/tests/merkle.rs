//! The Merkle tree against RFC 6962 test vectors and a naive reference, and proofs under
//! tampering.

#![allow(clippy::unwrap_used)] // A panic in a test is a test failure with its message.

use jinguan_crypto::HashAlgorithm;
use jinguan_ledger::merkle::{
    consistency_proof, inclusion_proof, right_edge, verify_consistency, verify_inclusion,
    NodeRecorder, WithEdge,
};
use jinguan_ledger::{leaf_hash, node_hash, Hash, MemoryTree};
use proptest::prelude::*;

/// RFC 6962 MTH, written straight from the definition.
fn naive_root(algorithm: HashAlgorithm, leaves: &[Hash]) -> Hash {
    match leaves.len() {
        0 => Hash(algorithm.digest(&[])),
        1 => leaves[0],
        n => {
            let k = (n - 1).next_power_of_two() / if (n - 1).is_power_of_two() { 1 } else { 2 };
            let k = if k >= n { k / 2 } else { k };
            node_hash(
                algorithm,
                &naive_root(algorithm, &leaves[..k]),
                &naive_root(algorithm, &leaves[k..]),
            )
        }
    }
}

fn tree(algorithm: HashAlgorithm, n: usize) -> (MemoryTree, Vec<Hash>) {
    let mut tree = MemoryTree::new(algorithm);
    let leaves: Vec<Hash> = (0..n)
        .map(|i| leaf_hash(algorithm, &(i as u64).to_be_bytes()))
        .collect();
    for leaf in &leaves {
        tree.push(*leaf);
    }
    (tree, leaves)
}

#[test]
fn rfc6962_sha256_test_vectors() {
    // The leaves and roots used by Certificate Transparency implementations' tests.
    let inputs: [&[u8]; 8] = [
        b"",
        b"\x00",
        b"\x10",
        b"\x20\x21",
        b"\x30\x31",
        b"\x40\x41\x42\x43",
        b"\x50\x51\x52\x53\x54\x55\x56\x57",
        b"\x60\x61\x62\x63\x64\x65\x66\x67\x68\x69\x6a\x6b\x6c\x6d\x6e\x6f",
    ];
    let roots = [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
        "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
        "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
        "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
    ];
    let mut tree = MemoryTree::new(HashAlgorithm::Sha256);
    for (input, root) in inputs.iter().zip(roots) {
        tree.push(leaf_hash(HashAlgorithm::Sha256, input));
        assert_eq!(
            tree.root(tree.size()).to_hex(),
            root,
            "size {}",
            tree.size()
        );
    }
    assert_eq!(
        tree.root(0).to_hex(),
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
        "the empty tree hashes the empty string"
    );
}

#[test]
fn roots_match_the_definition_at_every_size() {
    for algorithm in [HashAlgorithm::Sm3, HashAlgorithm::Sha256] {
        let (tree, leaves) = tree(algorithm, 130);
        for size in 0..=130 {
            assert_eq!(
                tree.root(size as u64),
                naive_root(algorithm, &leaves[..size]),
                "size {size}"
            );
        }
    }
}

#[test]
fn every_inclusion_proof_verifies_and_any_change_fails() {
    let algorithm = HashAlgorithm::Sm3;
    let (tree, leaves) = tree(algorithm, 70);
    for size in 1..=70u64 {
        let root = tree.root(size);
        for index in 0..size {
            let proof = inclusion_proof(&tree, algorithm, index, size).unwrap();
            verify_inclusion(algorithm, &leaves[index as usize], &proof, &root).unwrap();
            // Another leaf, another index, another size, another root: all fail.
            let other = leaves[((index + 1) % size) as usize];
            if size > 1 {
                assert!(verify_inclusion(algorithm, &other, &proof, &root).is_err());
                let mut moved = proof.clone();
                moved.leaf_index = (index + 1) % size;
                assert!(
                    verify_inclusion(algorithm, &leaves[index as usize], &moved, &root).is_err()
                );
            }
            // (The size in a proof is only a claim: verifiers take it from the signed head,
            // which binds size and root together; see `verify_entry_in_head`.)
            assert!(verify_inclusion(
                algorithm,
                &leaves[index as usize],
                &proof,
                &leaf_hash(algorithm, b"x")
            )
            .is_err());
            for i in 0..proof.path.len() {
                let mut altered = proof.clone();
                altered.path[i].0[(i * 7) % 32] ^= 0x40;
                assert!(
                    verify_inclusion(algorithm, &leaves[index as usize], &altered, &root).is_err()
                );
            }
        }
    }
}

#[test]
fn every_consistency_proof_verifies_and_any_change_fails() {
    let algorithm = HashAlgorithm::Sm3;
    let (tree, _) = tree(algorithm, 40);
    for second in 1..=40u64 {
        for first in 1..=second {
            let proof = consistency_proof(&tree, algorithm, first, second).unwrap();
            let (first_root, second_root) = (tree.root(first), tree.root(second));
            verify_consistency(algorithm, &proof, &first_root, &second_root).unwrap();
            if first < second {
                assert!(verify_consistency(algorithm, &proof, &second_root, &first_root).is_err());
                for i in 0..proof.path.len() {
                    let mut altered = proof.clone();
                    altered.path[i].0[0] ^= 1;
                    assert!(
                        verify_consistency(algorithm, &altered, &first_root, &second_root).is_err()
                    );
                }
                let mut truncated = proof.clone();
                truncated.path.pop();
                assert!(
                    verify_consistency(algorithm, &truncated, &first_root, &second_root).is_err()
                );
            }
        }
    }
}

proptest! {
    #[test]
    fn consistency_between_random_pairs(size in 1u64..3000, a in any::<u64>(), b in any::<u64>()) {
        let algorithm = HashAlgorithm::Sm3;
        let (tree, _) = tree(algorithm, size as usize);
        let first = 1 + a % size;
        let second = first + b % (size - first + 1);
        let proof = consistency_proof(&tree, algorithm, first, second).unwrap();
        prop_assert!(verify_consistency(algorithm, &proof, &tree.root(first), &tree.root(second)).is_ok());
        prop_assert!(proof.path.len() <= 2 * 64);
    }

    #[test]
    fn inclusion_in_random_trees(size in 1u64..5000, i in any::<u64>()) {
        let algorithm = HashAlgorithm::Sm3;
        let (tree, leaves) = tree(algorithm, size as usize);
        let index = i % size;
        let proof = inclusion_proof(&tree, algorithm, index, size).unwrap();
        prop_assert!(verify_inclusion(algorithm, &leaves[index as usize], &proof, &tree.root(size)).is_ok());
    }

    #[test]
    fn right_edge_cache_gives_the_same_proofs(size in 1u64..3000, i in any::<u64>(), a in any::<u64>()) {
        let algorithm = HashAlgorithm::Sm3;
        let (tree, _) = tree(algorithm, size as usize);
        let edge = right_edge(&tree, algorithm, size).unwrap();
        prop_assert!(edge.len() <= 64);
        let cached = WithEdge { source: &tree, size, edge: &edge };
        let index = i % size;
        prop_assert_eq!(
            inclusion_proof(&cached, algorithm, index, size).unwrap(),
            inclusion_proof(&tree, algorithm, index, size).unwrap()
        );
        let first = 1 + a % size;
        prop_assert_eq!(
            consistency_proof(&cached, algorithm, first, size).unwrap(),
            consistency_proof(&tree, algorithm, first, size).unwrap()
        );
        // With the edge at hand a proof reads at most one stored node per level.
        let recorder = NodeRecorder::default();
        let recorded = WithEdge { source: &recorder, size, edge: &edge };
        let _ = inclusion_proof(&recorded, algorithm, index, size);
        prop_assert!(recorder.into_wanted().len() <= 64);
    }
}
