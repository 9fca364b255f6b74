//! The electronic ledger (电子底账): entries, their hash chain, the RFC 6962 Merkle tree,
//! signed tree heads, inclusion and consistency proofs, and the checks that need only a
//! public key.
//!
//! This crate is pure: no IO, no clock, no randomness except inside key generation in
//! `jinguan-crypto`. Storage (`jinguan-store`) supplies nodes through [`merkle::NodeSource`]
//! and persists what [`next_entry`] and [`merkle::nodes_completed_by`] return.
//!
//! Principal types: [`Entry`], [`Hash`], [`TreeHead`], [`InclusionProof`],
//! [`ConsistencyProof`], [`Tip`], [`Submission`], [`ChainChecker`].

pub mod entry;
pub mod hash;
pub mod head;
pub mod merkle;

use jinguan_crypto::{HashAlgorithm, Signature};

pub use entry::{Entry, PLACE_BYTES};
pub use hash::{leaf_hash, node_hash, Hash};
pub use head::{HeadError, TreeHead};
pub use merkle::{ConsistencyProof, InclusionProof, MemoryTree, NodeSource, ProofError};

/// What a submitter asks to append.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Submission {
    /// Entry kind.
    pub kind: String,
    /// Payload schema version.
    pub schema_version: u32,
    /// Submitter identity.
    pub submitter: String,
    /// Idempotency key.
    pub submission_id: String,
    /// Payload.
    pub payload: Vec<u8>,
    /// Optional signature over the payload.
    pub submitter_signature: Option<Signature>,
}

/// The end of a ledger: what the next append builds on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Tip {
    /// Number of entries.
    pub size: u64,
    /// Leaf hash of the last entry ([`Hash::ZERO`] when empty).
    pub last_leaf: Hash,
}

impl Tip {
    /// The tip of an empty ledger.
    pub const EMPTY: Self = Self {
        size: 0,
        last_leaf: Hash::ZERO,
    };
}

/// Why a submission cannot be appended. Codes are stable API.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejection {
    /// A ledger id must be 1-64 characters of `a-z 0-9 - _ .`.
    #[error("L0301: invalid ledger id {0:?}")]
    LedgerId(String),
    /// A text field is empty or too long.
    #[error("L0302: field {field} must be 1 to {max} bytes")]
    Field {
        /// The field.
        field: &'static str,
        /// Its limit.
        max: usize,
    },
    /// The payload is too large.
    #[error("L0303: payload of {0} bytes exceeds {max}", max = entry::MAX_PAYLOAD_BYTES)]
    PayloadTooLarge(usize),
}

impl Rejection {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::LedgerId(_) => "L0301",
            Self::Field { .. } => "L0302",
            Self::PayloadTooLarge(_) => "L0303",
        }
    }
}

/// Checks a ledger id.
pub fn check_ledger_id(ledger: &str) -> Result<(), Rejection> {
    let ok = (1..=64).contains(&ledger.len())
        && ledger.bytes().all(|b| {
            b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'_' | b'.')
        });
    if ok {
        Ok(())
    } else {
        Err(Rejection::LedgerId(ledger.chars().take(80).collect()))
    }
}

/// Checks a submission's bounds before anything is written.
pub fn check_submission(submission: &Submission) -> Result<(), Rejection> {
    for (field, value) in [
        ("kind", &submission.kind),
        ("submitter", &submission.submitter),
        ("submission_id", &submission.submission_id),
    ] {
        if value.is_empty() || value.len() > entry::MAX_TEXT_BYTES {
            return Err(Rejection::Field {
                field,
                max: entry::MAX_TEXT_BYTES,
            });
        }
    }
    if submission.payload.len() > entry::MAX_PAYLOAD_BYTES {
        return Err(Rejection::PayloadTooLarge(submission.payload.len()));
    }
    Ok(())
}

/// Builds the next entry on `tip` and its leaf hash. Pure: the time comes from the caller.
pub fn next_entry(
    ledger: &str,
    tip: &Tip,
    submission: Submission,
    time_ms: i64,
    algorithm: HashAlgorithm,
) -> Result<(Entry, Hash), Rejection> {
    next_entry_encoded(ledger, tip, submission, time_ms, algorithm)
        .map(|(entry, _, leaf)| (entry, leaf))
}

/// [`next_entry`], also returning the canonical encoding the leaf hash covers, so a store
/// writes exactly the bytes that were hashed without encoding twice.
pub fn next_entry_encoded(
    ledger: &str,
    tip: &Tip,
    submission: Submission,
    time_ms: i64,
    algorithm: HashAlgorithm,
) -> Result<(Entry, Vec<u8>, Hash), Rejection> {
    Ok(prepare(ledger, submission, algorithm)?.place(tip, time_ms))
}

/// A submission checked, encoded and hashed as far as it can be before its place in a
/// ledger is known (see [`Entry::encode`]). Preparing costs nearly all of an entry's
/// hashing; a store does it on the submitting thread, and its single appender only places
/// the entry.
#[derive(Clone)]
pub struct Prepared {
    ledger: String,
    submission: Submission,
    /// The encoding's head, with room for its tail.
    encoded: Vec<u8>,
    /// The leaf hash's state after `0x00 ‖ encoded`.
    hasher: jinguan_crypto::Hasher,
}

impl std::fmt::Debug for Prepared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Prepared")
            .field("ledger", &self.ledger)
            .field("submission_id", &self.submission.submission_id)
            .finish_non_exhaustive()
    }
}

/// Checks a submission for `ledger` and prepares it (see [`Prepared`]).
pub fn prepare(
    ledger: &str,
    submission: Submission,
    algorithm: HashAlgorithm,
) -> Result<Prepared, Rejection> {
    check_ledger_id(ledger)?;
    check_submission(&submission)?;
    let s = &submission;
    let signature_bytes = s.submitter_signature.as_ref().map_or(0, |sig| {
        sig.algorithm.id().len() + sig.distid.as_ref().map_or(0, String::len) + sig.bytes.len() + 12
    });
    let mut encoded = Vec::with_capacity(
        entry::OVERHEAD
            + ledger.len()
            + s.kind.len()
            + s.submitter.len()
            + s.submission_id.len()
            + signature_bytes
            + s.payload.len(),
    );
    entry::encode_head(
        &mut encoded,
        ledger,
        &s.kind,
        s.schema_version,
        &s.submitter,
        &s.submission_id,
        s.submitter_signature.as_ref(),
        &s.payload,
    );
    let mut hasher = algorithm.hasher();
    hasher.update(&[0x00]);
    hasher.update(&encoded);
    Ok(Prepared {
        ledger: ledger.to_owned(),
        submission,
        encoded,
        hasher,
    })
}

impl Prepared {
    /// The ledger it is for.
    pub fn ledger(&self) -> &str {
        &self.ledger
    }

    /// The submitter's idempotency key.
    pub fn submission_id(&self) -> &str {
        &self.submission.submission_id
    }

    /// The canonical encoding up to the entry's place (what [`Prepared::place`] completes
    /// with [`PLACE_BYTES`] more).
    pub fn encoded_head(&self) -> &[u8] {
        &self.encoded
    }

    /// A digest of everything the submitter decided (ledger, kind, schema version,
    /// submitter, submission id, signature, payload): equal for a repeated submission with
    /// the same content, different otherwise. Costs one block, not a pass over the payload.
    pub fn content_digest(&self) -> [u8; 32] {
        self.hasher.clone().finish()
    }

    /// Places it as the next entry on `tip`: the entry, its canonical encoding and its leaf
    /// hash (the same as [`leaf_hash`] over the encoding).
    pub fn place(self, tip: &Tip, time_ms: i64) -> (Entry, Vec<u8>, Hash) {
        let Self {
            ledger,
            submission,
            mut encoded,
            mut hasher,
        } = self;
        let head = encoded.len();
        entry::encode_tail(&mut encoded, tip.size, time_ms, &tip.last_leaf);
        hasher.update(&encoded[head..]);
        let leaf = Hash(hasher.finish());
        let entry = Entry {
            ledger,
            seq: tip.size,
            kind: submission.kind,
            schema_version: submission.schema_version,
            submitter: submission.submitter,
            submission_id: submission.submission_id,
            time_ms,
            prev_leaf_hash: tip.last_leaf,
            submitter_signature: submission.submitter_signature,
            payload: submission.payload,
        };
        (entry, encoded, leaf)
    }
}

/// What is wrong at the first bad position of a ledger.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("L0401: ledger {ledger} is broken at sequence {seq}: {reason}")]
pub struct ChainError {
    /// The ledger.
    pub ledger: String,
    /// The first bad sequence number.
    pub seq: u64,
    /// What is wrong there.
    pub reason: String,
}

/// Checks a ledger entry by entry in O(log n) memory: sequence, ledger id, chain link, the
/// stored leaf hash, and finally the root against a signed head.
#[derive(Debug, Clone)]
pub struct ChainChecker {
    ledger: String,
    algorithm: HashAlgorithm,
    tip: Tip,
    /// Roots of the complete subtrees of the tree so far, largest first.
    frontier: Vec<(u64, Hash)>,
}

impl ChainChecker {
    /// Starts at the beginning of `ledger`.
    pub fn new(ledger: &str, algorithm: HashAlgorithm) -> Self {
        Self {
            ledger: ledger.to_owned(),
            algorithm,
            tip: Tip::EMPTY,
            frontier: Vec::new(),
        }
    }

    fn fail(&self, seq: u64, reason: impl Into<String>) -> ChainError {
        ChainError {
            ledger: self.ledger.clone(),
            seq,
            reason: reason.into(),
        }
    }

    /// Checks the next entry, given as its stored bytes and the leaf hash stored beside it.
    pub fn push(
        &mut self,
        seq: u64,
        encoded: &[u8],
        stored_leaf: &Hash,
    ) -> Result<Entry, ChainError> {
        if seq != self.tip.size {
            return Err(self.fail(
                self.tip.size,
                format!("entry missing; next stored is {seq}"),
            ));
        }
        let entry = Entry::decode(encoded).map_err(|e| self.fail(seq, e.to_string()))?;
        if entry.seq != seq || entry.ledger != self.ledger {
            return Err(self.fail(
                seq,
                format!("entry says ledger {} seq {}", entry.ledger, entry.seq),
            ));
        }
        if entry.prev_leaf_hash != self.tip.last_leaf {
            return Err(self.fail(seq, "previous-hash link does not match the entry before"));
        }
        let leaf = leaf_hash(self.algorithm, encoded);
        if leaf != *stored_leaf {
            return Err(self.fail(seq, "content does not match its stored leaf hash"));
        }
        self.tip = Tip {
            size: seq + 1,
            last_leaf: leaf,
        };
        let mut node = (1u64, leaf);
        while let Some(&(size, left)) = self.frontier.last() {
            if size != node.0 {
                break;
            }
            self.frontier.pop();
            node = (size * 2, node_hash(self.algorithm, &left, &node.1));
        }
        self.frontier.push(node);
        Ok(entry)
    }

    /// The tip so far.
    pub fn tip(&self) -> Tip {
        self.tip
    }

    /// The root of the entries checked so far.
    pub fn root(&self) -> Hash {
        let mut iter = self.frontier.iter().rev();
        let Some(&(_, mut root)) = iter.next() else {
            return Hash(self.algorithm.digest(&[]));
        };
        for (_, left) in iter {
            root = node_hash(self.algorithm, left, &root);
        }
        root
    }

    /// Checks that the entries so far are exactly what `head` signed.
    pub fn check_head(&self, head: &TreeHead) -> Result<(), ChainError> {
        if head.tree_size != self.tip.size {
            return Err(self.fail(
                self.tip.size.min(head.tree_size),
                format!(
                    "head covers {} entries, ledger has {}",
                    head.tree_size, self.tip.size
                ),
            ));
        }
        if head.root_hash != self.root() {
            return Err(self.fail(
                head.tree_size.saturating_sub(1),
                "root does not match the last signed head",
            ));
        }
        Ok(())
    }
}

/// Why an offline check failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    /// The head's signature.
    #[error(transparent)]
    Head(#[from] HeadError),
    /// The proof.
    #[error(transparent)]
    Proof(#[from] ProofError),
    /// The pieces do not belong together.
    #[error("L0501: {0}")]
    Mismatch(String),
}

impl VerifyError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Head(HeadError::Version(_)) => "L0201",
            Self::Head(HeadError::Signature(_)) => "L0202",
            Self::Proof(ProofError::Shape(_)) => "L0101",
            Self::Proof(ProofError::RootMismatch) => "L0102",
            Self::Mismatch(_) => "L0501",
        }
    }
}

/// Checks, with the public key alone, that `entry` is in the ledger `head` signed: the head's
/// signature, that entry, proof and head name the same ledger, position and size, and the
/// inclusion proof from the entry's recomputed leaf hash to the signed root.
pub fn verify_entry_in_head(
    entry: &Entry,
    proof: &InclusionProof,
    head: &TreeHead,
    key: &jinguan_crypto::VerifyingKey,
) -> Result<(), VerifyError> {
    head.verify(key)?;
    if entry.ledger != head.ledger {
        return Err(VerifyError::Mismatch(format!(
            "entry is in ledger {}, head is for {}",
            entry.ledger, head.ledger
        )));
    }
    if proof.tree_size != head.tree_size || proof.leaf_index != entry.seq {
        return Err(VerifyError::Mismatch(format!(
            "proof is for leaf {} of {}, entry is {} and head covers {}",
            proof.leaf_index, proof.tree_size, entry.seq, head.tree_size
        )));
    }
    let leaf = leaf_hash(head.hash_algorithm, &entry.encode());
    merkle::verify_inclusion(head.hash_algorithm, &leaf, proof, &head.root_hash)?;
    Ok(())
}

/// Checks, with the public key alone, that `newer` extends `older`: both signatures, same
/// ledger and algorithm, and the consistency proof between their roots.
pub fn verify_heads_consistent(
    older: &TreeHead,
    newer: &TreeHead,
    proof: &ConsistencyProof,
    key: &jinguan_crypto::VerifyingKey,
) -> Result<(), VerifyError> {
    older.verify(key)?;
    newer.verify(key)?;
    if older.ledger != newer.ledger || older.hash_algorithm != newer.hash_algorithm {
        return Err(VerifyError::Mismatch(
            "heads of different ledgers or algorithms".into(),
        ));
    }
    if proof.first_size != older.tree_size || proof.second_size != newer.tree_size {
        return Err(VerifyError::Mismatch(format!(
            "proof is for sizes {}..{}, heads are {}..{}",
            proof.first_size, proof.second_size, older.tree_size, newer.tree_size
        )));
    }
    merkle::verify_consistency(
        older.hash_algorithm,
        proof,
        &older.root_hash,
        &newer.root_hash,
    )?;
    Ok(())
}
