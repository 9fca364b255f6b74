//! Entry-id serials, safe with several nodes on one database.
//!
//! An entry id's last nine digits are a serial per customs district. A node takes them in
//! blocks: it appends an `entry_ids.reserved` entry (ledger [`LEDGER`]) asking for
//! [`BLOCK`] serials of a district, and the `serial_block` table, written in that entry's
//! own transaction, gives it the next free range; appends to one ledger are serialised by the
//! store (whichever node writes), so no two reservations overlap and no two nodes ever give
//! the same entry id. A node that stops leaves the rest of its block unused: gaps in the
//! numbering are expected, and each is explained by a reservation on the ledger.
//!
//! A block is [`BLOCK`] serials, or more for a district whose last block went quickly
//! ([`next_block`]): each reservation waits for a commit with the district's numbering held,
//! so at thousands of entries a second a hundred at a time would stall every decision of the
//! district a hundred times a minute, and fill a tenth of the ledger with reservations.

use jinguan_ledger::{Entry, Submission};
use jinguan_store::projection::{Dialect, Projection, Statement, Value};
use jinguan_store::{LedgerStore, StoreError};
use serde::{Deserialize, Serialize};

/// The ledger of reservations.
pub const LEDGER: &str = "entry-ids";
/// Entry kind of a reservation.
pub const RESERVED: &str = "entry_ids.reserved";
/// Serials reserved at a time, at first and whenever a district is quiet.
pub const BLOCK: i64 = 100;
/// The most a block grows to: what a node could leave unused of a district if it stopped.
pub const MAX_BLOCK: i64 = 10_000;
/// A block used up within this many milliseconds of its reservation is followed by one twice
/// its size.
const QUICK_MS: i64 = 10_000;

/// The size of the block that follows one of `size` serials reserved at `reserved_ms` and
/// used up at `now_ms`.
pub fn next_block(size: i64, reserved_ms: i64, now_ms: i64) -> i64 {
    if now_ms.saturating_sub(reserved_ms) < QUICK_MS {
        size.saturating_mul(2).clamp(BLOCK, MAX_BLOCK)
    } else {
        BLOCK
    }
}
/// Serials are nine digits.
const LIMIT: i64 = 999_999_999;

#[derive(Debug, Serialize, Deserialize)]
struct Reservation {
    customs: String,
    size: i64,
    origin: crate::origin::Origin,
}

/// The `serial_block` table: each reservation's range.
pub struct SerialTable;

impl Projection for SerialTable {
    fn name(&self) -> &str {
        "serials"
    }

    fn create(&self, dialect: Dialect) -> Vec<String> {
        vec![format!(
            "CREATE TABLE IF NOT EXISTS serial_block (
                reservation TEXT PRIMARY KEY, customs TEXT NOT NULL, first BIGINT NOT NULL,
                last BIGINT NOT NULL){}",
            dialect.clustered()
        )]
    }

    fn reset(&self) -> Vec<String> {
        vec!["DELETE FROM serial_block".into()]
    }

    fn apply(&self, entry: &Entry) -> Vec<Statement> {
        if entry.kind != RESERVED {
            return Vec::new();
        }
        let Ok(reservation) = serde_json::from_slice::<Reservation>(&entry.payload) else {
            return Vec::new();
        };
        // After the last block of the district, or, before there were blocks, after the
        // highest serial any declaration of it has.
        vec![Statement::new(
            "INSERT INTO serial_block (reservation, customs, first, last)
             SELECT ?1, ?2, n + 1, n + ?3 FROM (SELECT COALESCE(
                 (SELECT MAX(last) FROM serial_block WHERE customs = ?2),
                 (SELECT MAX(CAST(substr(entry_id, 10, 9) AS BIGINT)) FROM decl
                  WHERE customs = ?2),
                 0) AS n) base",
            vec![
                Value::Text(entry.submission_id.clone()),
                Value::Text(reservation.customs),
                Value::Integer(reservation.size),
            ],
        )]
    }
}

/// Reserves a block of `size` of `customs`'s serials: the first and last of it.
pub fn reserve(
    store: &dyn LedgerStore,
    customs: &str,
    size: i64,
) -> Result<(i64, i64), StoreError> {
    let request = format!("reserve/{}", crate::origin::next_id());
    let payload = serde_json::to_vec(&Reservation {
        customs: customs.to_owned(),
        size: size.clamp(1, MAX_BLOCK),
        origin: crate::origin::Origin {
            request: request.clone(),
            from: None,
            at_ms: 0,
        },
    })
    .map_err(|e| StoreError::Database(e.to_string()))?;
    store.append(
        LEDGER,
        Submission {
            kind: RESERVED.into(),
            schema_version: 1,
            submitter: "platform".into(),
            submission_id: request.clone(),
            payload,
            submitter_signature: None,
        },
    )?;
    let rows = store.query(&Statement::new(
        "SELECT first, last FROM serial_block WHERE reservation = ?1",
        vec![Value::Text(request)],
    ))?;
    match rows.first().map(|r| (r.first(), r.get(1))) {
        Some((Some(Value::Integer(first)), Some(Value::Integer(last)))) if *first <= LIMIT => {
            Ok((*first, (*last).min(LIMIT)))
        }
        Some(_) => Err(StoreError::Database(format!(
            "customs {customs} has used every entry-id serial"
        ))),
        None => Err(StoreError::Database(
            "a serial reservation recorded no block".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_block_used_up_quickly_is_followed_by_a_larger_one_up_to_the_most() {
        assert_eq!(next_block(BLOCK, 0, 1_000), 2 * BLOCK);
        assert_eq!(next_block(6_400, 0, QUICK_MS - 1), MAX_BLOCK);
        assert_eq!(next_block(MAX_BLOCK, 0, 1), MAX_BLOCK);
        // A quiet district goes back to the first size.
        assert_eq!(next_block(MAX_BLOCK, 0, QUICK_MS), BLOCK);
        assert_eq!(next_block(BLOCK, 5_000, 5_000 + QUICK_MS), BLOCK);
        // A clock that went back counts as quick, never as a negative size.
        assert_eq!(next_block(BLOCK, 9_000, 1_000), 2 * BLOCK);
    }
}
