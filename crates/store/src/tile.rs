//! Tiles: how the SQLite store keeps tree nodes, several to a row.
//!
//! A tile at base level `L` (a multiple of [`HEIGHT`]) and index `t` holds the nodes of levels
//! `L .. L+HEIGHT` under the level-`L+HEIGHT` node `t`: 16 base nodes, then 8, 4 and 2 above
//! them, 30 hashes in all (the tile's own root is a base node of the tile above). They are
//! kept in the order appends complete them, so a tile that is still filling is a prefix of its
//! full self and is rewritten in place as it grows; a full tile never changes again.
//!
//! One row per 16 nodes instead of one per node makes an append write about 1/15 of a tree
//! row instead of one, and a proof read two rows at ten million entries (the tiles at base
//! levels 0 and 4) instead of six; the tiles above are few and stay in memory.

use jinguan_ledger::Hash;

use crate::StoreError;

/// Levels per tile.
pub(crate) const HEIGHT: u8 = 4;

/// Hashes in a full tile: 16 + 8 + 4 + 2.
pub(crate) const SLOTS: usize = 30;

/// Where a node lives: its tile's base level and index, and its position in the tile.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Place {
    pub(crate) level: u8,
    pub(crate) index: u64,
    pub(crate) slot: usize,
}

/// The tile and slot of node `(level, index)`.
pub(crate) fn place(level: u8, index: u64) -> Place {
    let base = level - level % HEIGHT;
    let rise = level - base;
    let width = HEIGHT - rise;
    let offset = index & ((1 << width) - 1);
    // The node completes with base node `last`; before it come every node completed by an
    // earlier base node (last >> k of them on level k) and, completed by the same base node,
    // the ones below it on its own path.
    let last = ((offset + 1) << rise) - 1;
    let earlier: u64 = (0..HEIGHT).map(|k| last >> k).sum();
    Place {
        level: base,
        index: index >> width,
        slot: earlier as usize + usize::from(rise),
    }
}

/// A tile's stored form: its hashes, concatenated.
pub(crate) fn encode(hashes: &[Hash]) -> Vec<u8> {
    hashes.iter().flat_map(|h| h.0).collect()
}

/// Reads a stored tile; anything but whole hashes, at most [`SLOTS`], is corruption.
pub(crate) fn decode(bytes: &[u8]) -> Result<Vec<Hash>, StoreError> {
    if bytes.len() % 32 != 0 || bytes.len() / 32 > SLOTS {
        return Err(StoreError::Database(format!(
            "stored tile of {} bytes is not whole hashes",
            bytes.len()
        )));
    }
    Ok(bytes
        .chunks_exact(32)
        .map(|chunk| {
            let mut hash = [0u8; 32];
            hash.copy_from_slice(chunk);
            Hash(hash)
        })
        .collect())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // A panic in a test is a test failure with its message.
mod tests {
    use super::*;

    /// The node at each slot of tile `(level, index)`, as `(level, index)`.
    fn nodes_of(level: u8, index: u64) -> [(u8, u64); SLOTS] {
        let mut nodes = [(0, 0); SLOTS];
        for rise in 0..HEIGHT {
            let width = HEIGHT - rise;
            for offset in 0..1u64 << width {
                let node = (level + rise, (index << width) + offset);
                nodes[place(node.0, node.1).slot] = node;
            }
        }
        nodes
    }

    #[test]
    fn slots_follow_completion_order() {
        // Appending leaves 0..16 completes, in order: leaf 0, leaf 1, (1,0), leaf 2, leaf 3,
        // (1,1), (2,0), ...
        let order = nodes_of(0, 0);
        assert_eq!(
            order[..7],
            [(0, 0), (0, 1), (1, 0), (0, 2), (0, 3), (1, 1), (2, 0)]
        );
        assert_eq!(order[SLOTS - 1], (3, 1));
        for (slot, (level, index)) in order.iter().enumerate() {
            assert_eq!(
                place(*level, *index),
                Place {
                    level: 0,
                    index: 0,
                    slot
                }
            );
        }
    }

    #[test]
    fn every_node_has_one_place() {
        let mut seen = std::collections::HashSet::new();
        for level in 0..12u8 {
            for index in 0..(4096u64 >> level) {
                let p = place(level, index);
                assert!(p.slot < SLOTS);
                assert!(seen.insert((p.level, p.index, p.slot)));
                assert_eq!(nodes_of(p.level, p.index)[p.slot], (level, index));
            }
        }
        // Levels 4 and 8 are base levels of the tiles above.
        assert_eq!(
            place(4, 35),
            Place {
                level: 4,
                index: 2,
                slot: place(0, 3).slot
            }
        );
    }

    #[test]
    fn decoding_refuses_partial_hashes() {
        assert!(decode(&[0; 33]).is_err());
        assert!(decode(&[0; 32 * 31]).is_err());
        assert_eq!(
            decode(&encode(&[Hash([7; 32])])).unwrap(),
            vec![Hash([7; 32])]
        );
    }
}
