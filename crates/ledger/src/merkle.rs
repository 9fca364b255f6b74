//! The RFC 6962 Merkle tree over leaf hashes, stored as complete subtrees.
//!
//! A tree of any size is a sequence of *complete* (perfect, aligned) subtrees. Node
//! `(level, index)` is the root of the complete subtree over leaves
//! `[index·2^level, (index+1)·2^level)`; level 0 holds the leaf hashes. Appending leaf `n`
//! creates at most `log2(n)+1` nodes, and once written a node never changes. Every hash a
//! proof or a root needs, for any tree size up to the current one, is one of these nodes or
//! is combined from O(log n) of them, so proofs cost O(log n) reads and nothing is ever
//! recomputed over the whole tree.

use jinguan_crypto::HashAlgorithm;
use serde::{Deserialize, Serialize};

use crate::hash::{node_hash, Hash};

/// Read access to stored complete-subtree nodes.
pub trait NodeSource {
    /// Why a node could not be read (the storage's error).
    type Error;

    /// The node `(level, index)`; callers only ask for nodes that exist.
    fn node(&self, level: u8, index: u64) -> Result<Hash, Self::Error>;

    /// The hash of leaves `[start, end)` when that range is not a complete subtree, if the
    /// source already knows it (a cache of the tree's right edge); `None` makes the caller
    /// combine it from complete subtrees.
    fn range(&self, _start: u64, _end: u64) -> Option<Hash> {
        None
    }

    /// Combines two child hashes into their parent. A source that only records which nodes
    /// are read overrides this to skip the hashing.
    fn combine(&self, algorithm: HashAlgorithm, left: &Hash, right: &Hash) -> Hash {
        node_hash(algorithm, left, right)
    }
}

/// The nodes that become complete when leaf `index` (0-based) with hash `leaf` is appended
/// to a tree that already holds leaves `0..index`. The first is `(0, index, leaf)`.
pub fn nodes_completed_by<S: NodeSource>(
    source: &S,
    algorithm: HashAlgorithm,
    index: u64,
    leaf: Hash,
) -> Result<Vec<(u8, u64, Hash)>, S::Error> {
    let mut nodes = vec![(0u8, index, leaf)];
    let (mut level, mut position, mut hash) = (0u8, index, leaf);
    // A right child completes its parent; walk up while we are a right child.
    while position & 1 == 1 {
        // The left sibling completed earlier, so it is already stored.
        let left = source.node(level, position - 1)?;
        hash = node_hash(algorithm, &left, &hash);
        level += 1;
        position >>= 1;
        nodes.push((level, position, hash));
    }
    Ok(nodes)
}

/// The largest power of two strictly less than `n` (n ≥ 2).
fn split(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1 << (63 - (n - 1).leading_zeros())
}

/// MTH of leaves `[start, end)`, where `start` is aligned as RFC 6962 recursion guarantees.
pub fn subtree_hash<S: NodeSource>(
    source: &S,
    algorithm: HashAlgorithm,
    start: u64,
    end: u64,
) -> Result<Hash, S::Error> {
    let size = end - start;
    assert!(size >= 1, "empty range has no subtree hash");
    if size.is_power_of_two() && start % size == 0 {
        return source.node(size.trailing_zeros() as u8, start / size);
    }
    if let Some(hash) = source.range(start, end) {
        return Ok(hash);
    }
    let k = split(size);
    let left = subtree_hash(source, algorithm, start, start + k)?;
    let right = subtree_hash(source, algorithm, start + k, end)?;
    Ok(source.combine(algorithm, &left, &right))
}

/// The hashes of the ranges `[start, size)` that are not complete subtrees, for the starts
/// RFC 6962's recursion reaches: the tree's right edge. Every inclusion and consistency proof
/// for a tree of `size` leaves that needs a hash not stored as a node needs one of these, so a
/// reader can compute them once per tree size and serve them through [`NodeSource::range`].
pub fn right_edge<S: NodeSource>(
    source: &S,
    algorithm: HashAlgorithm,
    size: u64,
) -> Result<Vec<(u64, Hash)>, S::Error> {
    let mut starts = Vec::new();
    let mut start = 0;
    while size - start >= 2 {
        let n = size - start;
        if n.is_power_of_two() {
            break;
        }
        starts.push(start);
        start += split(n);
    }
    // Deepest first: each range's hash reuses the one below it.
    let mut edge: Vec<(u64, Hash)> = Vec::with_capacity(starts.len());
    for &start in starts.iter().rev() {
        let k = split(size - start);
        let left = subtree_hash(source, algorithm, start, start + k)?;
        let right = match edge.last() {
            Some((s, hash)) if *s == start + k => *hash,
            _ => subtree_hash(source, algorithm, start + k, size)?,
        };
        edge.push((start, source.combine(algorithm, &left, &right)));
    }
    Ok(edge)
}

/// The root of the tree of `size` leaves; the hash of the empty string for size 0.
pub fn root<S: NodeSource>(
    source: &S,
    algorithm: HashAlgorithm,
    size: u64,
) -> Result<Hash, S::Error> {
    if size == 0 {
        return Ok(Hash(algorithm.digest(&[])));
    }
    subtree_hash(source, algorithm, 0, size)
}

/// An inclusion (audit) proof, RFC 6962 §2.1.1.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InclusionProof {
    /// 0-based index of the leaf.
    pub leaf_index: u64,
    /// Size of the tree the proof is for.
    pub tree_size: u64,
    /// Sibling hashes from the leaf up to the root.
    pub path: Vec<Hash>,
}

/// A consistency proof between two tree sizes, RFC 6962 §2.1.2.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsistencyProof {
    /// The older size.
    pub first_size: u64,
    /// The newer size.
    pub second_size: u64,
    /// The proof hashes.
    pub path: Vec<Hash>,
}

/// A node source with the right edge of one tree size (from [`right_edge`]) at hand.
pub struct WithEdge<'a, S> {
    /// The stored nodes.
    pub source: &'a S,
    /// The tree size the edge belongs to.
    pub size: u64,
    /// `(start, hash of [start, size))`, as [`right_edge`] returns it.
    pub edge: &'a [(u64, Hash)],
}

impl<S: NodeSource> NodeSource for WithEdge<'_, S> {
    type Error = S::Error;

    fn node(&self, level: u8, index: u64) -> Result<Hash, Self::Error> {
        self.source.node(level, index)
    }

    fn range(&self, start: u64, end: u64) -> Option<Hash> {
        if end != self.size {
            return None;
        }
        self.edge
            .iter()
            .find(|(s, _)| *s == start)
            .map(|(_, hash)| *hash)
    }
}

/// Builds the inclusion proof of leaf `index` in the tree of `size` leaves.
pub fn inclusion_proof<S: NodeSource>(
    source: &S,
    algorithm: HashAlgorithm,
    index: u64,
    size: u64,
) -> Result<InclusionProof, S::Error> {
    assert!(index < size, "leaf {index} is not in a tree of {size}");
    let mut path = Vec::new();
    let (mut start, mut end, mut m) = (0u64, size, index);
    // Walk down from the root, collecting the sibling of each subtree containing the leaf;
    // RFC 6962 lists them bottom-up, so reverse at the end.
    while end - start > 1 {
        let k = split(end - start);
        if m < k {
            path.push(subtree_hash(source, algorithm, start + k, end)?);
            end = start + k;
        } else {
            path.push(subtree_hash(source, algorithm, start, start + k)?);
            start += k;
            m -= k;
        }
    }
    path.reverse();
    Ok(InclusionProof {
        leaf_index: index,
        tree_size: size,
        path,
    })
}

/// Builds the consistency proof from `first` to `second` leaves (0 < first ≤ second).
pub fn consistency_proof<S: NodeSource>(
    source: &S,
    algorithm: HashAlgorithm,
    first: u64,
    second: u64,
) -> Result<ConsistencyProof, S::Error> {
    assert!(0 < first && first <= second, "bad sizes {first}..{second}");
    let mut path = Vec::new();
    if first < second {
        subproof(source, algorithm, first, 0, second, true, &mut path)?;
    }
    Ok(ConsistencyProof {
        first_size: first,
        second_size: second,
        path,
    })
}

/// SUBPROOF(m, D[start:end], b) of RFC 6962 §2.1.2, appending to `path` bottom-up.
fn subproof<S: NodeSource>(
    source: &S,
    algorithm: HashAlgorithm,
    m: u64,
    start: u64,
    end: u64,
    complete: bool,
    path: &mut Vec<Hash>,
) -> Result<(), S::Error> {
    let n = end - start;
    if m == n {
        if !complete {
            path.push(subtree_hash(source, algorithm, start, end)?);
        }
        return Ok(());
    }
    let k = split(n);
    if m <= k {
        subproof(source, algorithm, m, start, start + k, complete, path)?;
        path.push(subtree_hash(source, algorithm, start + k, end)?);
    } else {
        subproof(source, algorithm, m - k, start + k, end, false, path)?;
        path.push(subtree_hash(source, algorithm, start, start + k)?);
    }
    Ok(())
}

/// Why a proof did not verify.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProofError {
    /// Sizes or indexes that cannot go together.
    #[error("L0101: proof shape is invalid: {0}")]
    Shape(String),
    /// The recomputed root differs.
    #[error("L0102: proof does not lead to the expected root")]
    RootMismatch,
}

/// Verifies an inclusion proof (RFC 9162 §2.1.3.2): `leaf` at `proof.leaf_index` is in the
/// tree of `proof.tree_size` leaves whose root is `root`.
pub fn verify_inclusion(
    algorithm: HashAlgorithm,
    leaf: &Hash,
    proof: &InclusionProof,
    root: &Hash,
) -> Result<(), ProofError> {
    if proof.leaf_index >= proof.tree_size {
        return Err(ProofError::Shape("leaf index beyond tree size".into()));
    }
    let (mut fn_, mut sn) = (proof.leaf_index, proof.tree_size - 1);
    let mut r = *leaf;
    for p in &proof.path {
        if sn == 0 {
            return Err(ProofError::Shape(
                "path longer than the tree is deep".into(),
            ));
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(algorithm, p, &r);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            r = node_hash(algorithm, &r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(ProofError::Shape(
            "path shorter than the tree is deep".into(),
        ));
    }
    if r != *root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// Verifies a consistency proof (RFC 9162 §2.1.4.2) between two roots.
pub fn verify_consistency(
    algorithm: HashAlgorithm,
    proof: &ConsistencyProof,
    first_root: &Hash,
    second_root: &Hash,
) -> Result<(), ProofError> {
    let (first, second) = (proof.first_size, proof.second_size);
    if first == 0 || first > second {
        return Err(ProofError::Shape(format!("sizes {first} and {second}")));
    }
    if first < second && proof.path.is_empty() {
        return Err(ProofError::Shape("empty proof for different sizes".into()));
    }
    if first == second {
        if !proof.path.is_empty() {
            return Err(ProofError::Shape("equal sizes take an empty proof".into()));
        }
        return if first_root == second_root {
            Ok(())
        } else {
            Err(ProofError::RootMismatch)
        };
    }
    let mut path: Vec<Hash> = proof.path.clone();
    if first.is_power_of_two() {
        path.insert(0, *first_root);
    }
    let (mut fn_, mut sn) = (first - 1, second - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let (first_hash, rest) = path
        .split_first()
        .ok_or_else(|| ProofError::Shape("empty proof".into()))?;
    let (mut fr, mut sr) = (*first_hash, *first_hash);
    for c in rest {
        if sn == 0 {
            return Err(ProofError::Shape("proof longer than needed".into()));
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(algorithm, c, &fr);
            sr = node_hash(algorithm, c, &sr);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            sr = node_hash(algorithm, &sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(ProofError::Shape("proof shorter than needed".into()));
    }
    if fr != *first_root || sr != *second_root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// Records which nodes an algorithm asks for, answering with placeholders.
///
/// Root and proof construction never branch on hash values, so running one against this
/// source lists exactly the nodes it needs; a store can then fetch them in one query and run
/// it again over [`Prefetched`].
#[derive(Debug, Default)]
pub struct NodeRecorder {
    wanted: std::cell::RefCell<Vec<(u8, u64)>>,
}

impl NodeRecorder {
    /// The nodes asked for, in order, without repeats.
    pub fn into_wanted(self) -> Vec<(u8, u64)> {
        let mut wanted = self.wanted.into_inner();
        let mut seen = std::collections::HashSet::new();
        wanted.retain(|node| seen.insert(*node));
        wanted
    }
}

impl NodeSource for NodeRecorder {
    type Error = std::convert::Infallible;

    fn node(&self, level: u8, index: u64) -> Result<Hash, Self::Error> {
        self.wanted.borrow_mut().push((level, index));
        Ok(Hash::ZERO)
    }

    fn combine(&self, _: HashAlgorithm, _: &Hash, _: &Hash) -> Hash {
        Hash::ZERO
    }
}

/// Nodes fetched ahead of time.
#[derive(Debug, Default)]
pub struct Prefetched(pub std::collections::HashMap<(u8, u64), Hash>);

/// A node a prefetch did not bring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Missing {
    /// Level.
    pub level: u8,
    /// Index.
    pub index: u64,
}

impl NodeSource for Prefetched {
    type Error = Missing;

    fn node(&self, level: u8, index: u64) -> Result<Hash, Missing> {
        self.0
            .get(&(level, index))
            .copied()
            .ok_or(Missing { level, index })
    }
}

/// An in-memory node store: the reference implementation, and what tests and benchmarks use.
#[derive(Debug, Clone, Default)]
pub struct MemoryTree {
    /// `levels[l][i]` is node `(l, i)`.
    levels: Vec<Vec<Hash>>,
    algorithm: HashAlgorithm,
}

impl MemoryTree {
    /// An empty tree.
    pub fn new(algorithm: HashAlgorithm) -> Self {
        Self {
            levels: Vec::new(),
            algorithm,
        }
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.levels.first().map_or(0, |l| l.len() as u64)
    }

    /// Appends a leaf hash.
    pub fn push(&mut self, leaf: Hash) {
        let nodes = nodes_completed_by(self, self.algorithm, self.size(), leaf)
            .expect("memory reads cannot fail");
        for (level, index, hash) in nodes {
            let level = usize::from(level);
            if self.levels.len() <= level {
                self.levels.push(Vec::new());
            }
            debug_assert_eq!(self.levels[level].len() as u64, index);
            self.levels[level].push(hash);
        }
    }

    /// The root at `size`.
    pub fn root(&self, size: u64) -> Hash {
        root(self, self.algorithm, size).expect("memory reads cannot fail")
    }
}

impl NodeSource for MemoryTree {
    type Error = std::convert::Infallible;

    fn node(&self, level: u8, index: u64) -> Result<Hash, Self::Error> {
        Ok(self.levels[usize::from(level)][index as usize])
    }
}
