//! The right edge of a ledger's tree, kept in memory by the writer so appends read nothing.

use jinguan_crypto::HashAlgorithm;
use jinguan_ledger::merkle::{self, NodeSource};
use jinguan_ledger::{Hash, Tip};

/// The last complete node at each level, which is every stored node an append or the root
/// needs (see `jinguan_ledger::merkle`).
#[derive(Debug, Clone, Default)]
pub(crate) struct Frontier {
    pub(crate) tip: Tip,
    last: Vec<Option<(u64, Hash)>>,
}

/// Asked for a node the frontier does not hold: a bug, or a store whose tables disagree.
#[derive(Debug)]
pub(crate) struct NotOnEdge {
    pub(crate) level: u8,
    pub(crate) index: u64,
}

impl NodeSource for Frontier {
    type Error = NotOnEdge;

    fn node(&self, level: u8, index: u64) -> Result<Hash, NotOnEdge> {
        match self.last.get(usize::from(level)).copied().flatten() {
            Some((i, hash)) if i == index => Ok(hash),
            _ => Err(NotOnEdge { level, index }),
        }
    }
}

impl Frontier {
    /// Builds from the last node of each level, as loaded from storage.
    pub(crate) fn from_nodes(tip: Tip, last: Vec<Option<(u64, Hash)>>) -> Self {
        Self { tip, last }
    }

    /// Records nodes completed by an append and advances the tip.
    pub(crate) fn record(&mut self, nodes: &[(u8, u64, Hash)], leaf: Hash) {
        for (level, index, hash) in nodes {
            let level = usize::from(*level);
            if self.last.len() <= level {
                self.last.resize(level + 1, None);
            }
            self.last[level] = Some((*index, *hash));
        }
        self.tip = Tip {
            size: self.tip.size + 1,
            last_leaf: leaf,
        };
    }

    /// The root at the current size.
    pub(crate) fn root(&self, algorithm: HashAlgorithm) -> Result<Hash, NotOnEdge> {
        merkle::root(self, algorithm, self.tip.size)
    }
}

/// Rebuilds every tree node from the leaves, as `verify` walks a ledger, and compares each
/// with the stored one: a node altered anywhere, not only on a path to some head's root, is
/// found and named by the entry that completed it.
#[derive(Debug, Default)]
pub(crate) struct NodeAuditor {
    edge: Frontier,
    /// The lowest level the backend stores as tree nodes (0 if leaves are among them).
    lowest: u8,
}

impl NodeAuditor {
    /// An auditor for a backend that stores leaves among its tree nodes, or only above them.
    pub(crate) fn new(leaves_in_tree: bool) -> Self {
        Self {
            edge: Frontier::default(),
            lowest: if leaves_in_tree { 0 } else { 1 },
        }
    }

    /// Adds leaf `seq`; `stored(level, index)` reads a stored node.
    pub(crate) fn push(
        &mut self,
        ledger: &str,
        algorithm: HashAlgorithm,
        seq: u64,
        leaf: Hash,
        mut stored: impl FnMut(u8, u64) -> Result<Option<Hash>, crate::StoreError>,
    ) -> Result<(), crate::StoreError> {
        let nodes = merkle::nodes_completed_by(&self.edge, algorithm, seq, leaf).map_err(|e| {
            crate::StoreError::Database(format!("audit edge ({}, {})", e.level, e.index))
        })?;
        for (level, index, hash) in nodes.iter().filter(|(level, _, _)| *level >= self.lowest) {
            if stored(*level, *index)? != Some(*hash) {
                return Err(crate::StoreError::Corrupt(jinguan_ledger::ChainError {
                    ledger: ledger.to_owned(),
                    seq,
                    reason: format!("stored tree node ({level}, {index}) is missing or wrong"),
                }));
            }
        }
        self.edge.record(&nodes, leaf);
        Ok(())
    }
}
