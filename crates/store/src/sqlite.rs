//! The embedded backend: one SQLite file in WAL mode with `synchronous=FULL`, one writer
//! thread doing group commit over a bounded queue, and readers on their own connections.
//!
//! Tables: `ledgers` (tip per ledger), `entries` (canonical bytes, leaf hash, submission id
//! and content digest), `nodes` (complete Merkle subtrees), `heads` (every signed head, as
//! JSON). Appends are batched: the writer takes everything queued (up to `max_batch`), writes
//! it in one `BEGIN IMMEDIATE` transaction with one new signed head per touched ledger,
//! commits (one fsync of the WAL), and only then answers the submitters.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use jinguan_crypto::HashAlgorithm;
use jinguan_ledger::merkle;
use jinguan_ledger::{ConsistencyProof, Entry, Hash, InclusionProof, Submission, Tip, TreeHead};
use rusqlite::{params, Connection, OpenFlags, OptionalExtension, TransactionBehavior};

use crate::common::{self, Request};
use crate::frontier::Frontier;
use crate::packed;
use crate::tile;
use crate::{FailurePoint, LedgerStore, Options, Receipt, StoreError, VerifyReport};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ledgers (
    ledger TEXT PRIMARY KEY,
    num INTEGER NOT NULL UNIQUE,
    size INTEGER NOT NULL,
    last_leaf BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS entries (
    id INTEGER PRIMARY KEY,
    ledger INTEGER NOT NULL,
    submission_id TEXT NOT NULL,
    digest BLOB NOT NULL,
    leaf BLOB NOT NULL,
    body BLOB NOT NULL
);
CREATE UNIQUE INDEX IF NOT EXISTS entries_by_submission ON entries (ledger, submission_id);
CREATE TABLE IF NOT EXISTS tiles (
    ledger TEXT NOT NULL,
    level INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    hashes BLOB NOT NULL,
    PRIMARY KEY (ledger, level, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS heads (
    ledger TEXT NOT NULL,
    tree_size INTEGER NOT NULL,
    head TEXT NOT NULL,
    PRIMARY KEY (ledger, tree_size)
) WITHOUT ROWID;
";

/// The table layout this code reads and writes (`2`: tree nodes in tiles, entries keyed by
/// [`entry_id`]).
const LAYOUT: &str = "2";

/// Bits of an entry's row id that hold its sequence number; the ledger's number is above.
const SEQ_BITS: u32 = 40;

/// An entry's row id: its ledger's number (from `ledgers.num`) and its sequence number.
/// Entries are a rowid table because their rows are large (SQLite keeps such rows best in
/// one): appends then add at the right end of the table's tree, and a ledger's entries are
/// one range of ids, in order.
fn entry_id(num: i64, seq: u64) -> i64 {
    (num << SEQ_BITS) | (seq as i64 & ((1 << SEQ_BITS) - 1))
}

/// SQL for the row id of entry `?2` of the ledger named `?1` (the shift is [`SEQ_BITS`]).
const ENTRY_ID: &str = "((SELECT num FROM ledgers WHERE ledger = ?1) << 40) + ?2";
const _: () = assert!(SEQ_BITS == 40, "ENTRY_ID's SQL spells the shift out");

fn db(error: rusqlite::Error) -> StoreError {
    StoreError::Database(error.to_string())
}

fn hash_from(bytes: Vec<u8>) -> Result<Hash, StoreError> {
    bytes
        .try_into()
        .map(Hash)
        .map_err(|_| StoreError::Database("stored hash is not 32 bytes".into()))
}

/// Opens a connection with the durability settings stated here rather than left to defaults.
fn connect(path: &Path, read_only: bool, vfs: Option<&str>) -> Result<Connection, StoreError> {
    let flags = if read_only {
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX
    } else {
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX
    };
    let conn = match vfs {
        Some(vfs) => Connection::open_with_flags_and_vfs(path, flags, vfs),
        None => Connection::open_with_flags(path, flags),
    }
    .map_err(db)?;
    conn.busy_timeout(std::time::Duration::from_secs(30))
        .map_err(db)?;
    if !read_only {
        // WAL so readers never block the writer; FULL so every commit is fsynced before we
        // acknowledge it.
        conn.pragma_update(None, "journal_mode", "WAL")
            .map_err(db)?;
    }
    conn.pragma_update(None, "synchronous", "FULL")
        .map_err(db)?;
    // The writer runs a dozen statements a batch (entries, tiles, heads, each projection
    // table) and readers as many kinds of query: rusqlite's default cache of 16 evicted
    // some each batch, and preparing again costs more than running them.
    conn.set_prepared_statement_cache_capacity(64);
    if read_only {
        // Proofs are random point reads: map the file (no copy, no system call per page, up
        // to SQLite's 2 GiB limit) and keep the B-tree's inner pages in a larger cache.
        conn.pragma_update(None, "mmap_size", 1i64 << 31)
            .map_err(db)?;
        conn.pragma_update(None, "cache_size", -65_536)
            .map_err(db)?;
    }
    Ok(conn)
}

/// The SQLite store.
pub struct SqliteStore {
    path: PathBuf,
    options: Options,
    sender: Option<SyncSender<Request>>,
    writer: Option<JoinHandle<()>>,
    checkpointer: Option<JoinHandle<()>>,
    stopped: Arc<Mutex<Option<String>>>,
    readers: Mutex<Vec<Connection>>,
    commits: Arc<std::sync::atomic::AtomicU64>,
    times: Arc<crate::CommitTimes>,
    write_conn: Option<Arc<Mutex<Connection>>>,
    tile_cache: TileCache,
    edge_cache: Mutex<HashMap<String, Arc<Edge>>>,
}

impl SqliteStore {
    /// Opens (creating if needed) a store read-write. Refuses if any ledger's data does not
    /// match its last signed head.
    pub fn open(path: &Path, options: Options) -> Result<Self, StoreError> {
        let signing_key = options.signing_key.clone().ok_or(StoreError::ReadOnly)?;
        let conn = connect(path, false, options.sqlite_vfs.as_deref())?;
        // The writer never checkpoints: copying the log into the main file is the
        // checkpointer thread's job, on the other core.
        conn.pragma_update(None, "wal_autocheckpoint", 0)
            .map_err(db)?;
        conn.execute_batch(SCHEMA).map_err(db)?;
        check_meta(&conn, options.hash_algorithm)?;
        let frontiers = load_frontiers(&conn, &options)?;
        let tiles = load_open_tiles(&conn, frontiers.keys().cloned())?;
        let nums = conn
            .prepare("SELECT ledger, num FROM ledgers")
            .and_then(|mut s| {
                s.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?
                    .collect::<Result<HashMap<String, i64>, _>>()
            })
            .map_err(db)?;
        for projection in &options.projections {
            for sql in projection.create(crate::projection::Dialect::Sqlite) {
                conn.execute_batch(&sql).map_err(db)?;
            }
        }
        let conn = Arc::new(Mutex::new(conn));
        let (sender, receiver) = mpsc::sync_channel(options.queue_capacity);
        let stopped = Arc::new(Mutex::new(None));
        let commits = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let times = Arc::new(crate::CommitTimes::default());
        let (checkpoints, checkpointer) = if options.wal_autocheckpoint_pages > 0 {
            let (notify, wake) = mpsc::sync_channel(1);
            let written = Arc::new(std::sync::atomic::AtomicU64::new(0));
            let checkpointer = Checkpointer {
                conn: connect(path, false, options.sqlite_vfs.as_deref())?,
                threshold: u64::from(options.wal_autocheckpoint_pages) * 4096,
                written: written.clone(),
                stopped: stopped.clone(),
            };
            let handle = std::thread::Builder::new()
                .name("ledger-checkpointer".into())
                .spawn(move || checkpointer.run(wake))
                .map_err(|e| StoreError::Database(format!("cannot start the checkpointer: {e}")))?;
            (Some((notify, written)), Some(handle))
        } else {
            (None, None)
        };
        let writer = Writer {
            checkpoints,
            commits: commits.clone(),
            times: times.clone(),
            conn: conn.clone(),
            options: options.clone(),
            signing_key,
            frontiers,
            nums,
            tiles,
            stopped: stopped.clone(),
        };
        let handle = std::thread::Builder::new()
            .name("ledger-writer".into())
            .spawn(move || writer.run(receiver))
            .map_err(|e| StoreError::Database(format!("cannot start the writer: {e}")))?;
        Ok(Self {
            path: path.to_owned(),
            options,
            sender: Some(sender),
            writer: Some(handle),
            checkpointer,
            stopped,
            readers: Mutex::new(Vec::new()),
            commits,
            times,
            write_conn: Some(conn),
            tile_cache: TileCache::default(),
            edge_cache: Mutex::default(),
        })
    }

    /// Opens read-only (for `verify`, proofs and heads on a store another process writes, or
    /// one that refuses read-write start).
    pub fn open_read_only(path: &Path, options: Options) -> Result<Self, StoreError> {
        if !path.exists() {
            return Err(StoreError::NotFound(format!(
                "no ledger database at {}",
                path.display()
            )));
        }
        let conn = connect(path, true, options.sqlite_vfs.as_deref())?;
        Ok(Self {
            path: path.to_owned(),
            options,
            sender: None,
            writer: None,
            checkpointer: None,
            stopped: Arc::new(Mutex::new(None)),
            readers: Mutex::new(vec![conn]),
            commits: Arc::new(std::sync::atomic::AtomicU64::new(0)),
            times: Arc::default(),
            write_conn: None,
            tile_cache: TileCache::default(),
            edge_cache: Mutex::default(),
        })
    }

    fn with_reader<T>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let pooled = self.readers.lock().expect("reader pool lock").pop();
        let conn = match pooled {
            Some(conn) => conn,
            None => connect(&self.path, true, self.options.sqlite_vfs.as_deref())?,
        };
        // One read transaction per call: a consistent snapshot across its queries, and one
        // WAL read lock instead of one per statement.
        // Cached statements: parsing SQL costs more than a proof's lookups.
        let begin = conn
            .prepare_cached("BEGIN DEFERRED")
            .and_then(|mut s| s.execute([]));
        begin.map_err(db)?;
        let result = f(&conn);
        let ended = conn
            .prepare_cached("COMMIT")
            .and_then(|mut s| s.execute([]))
            .map(drop)
            .map_err(db);
        self.readers.lock().expect("reader pool lock").push(conn);
        ended.and(result)
    }

    /// Group commits (transactions, each one fsync) done since open.
    pub fn commits(&self) -> u64 {
        self.commits.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Whether the writer has stopped after a failure, and why.
    pub fn stopped(&self) -> Option<String> {
        self.stopped.lock().expect("stopped flag lock").clone()
    }
}

impl Drop for SqliteStore {
    fn drop(&mut self) {
        // Closing the queue lets the writer finish what is queued and exit.
        self.sender.take();
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
        // The writer held the checkpointer's wake-up channel; with it gone, it exits too.
        if let Some(checkpointer) = self.checkpointer.take() {
            let _ = checkpointer.join();
        }
    }
}

/// Copies committed log frames into the main file on its own thread and connection, so the
/// writer's thread spends its time on appends. Checkpoints are passive (they never block
/// the writer or readers); if the log still grows past four times the threshold because
/// commits keep landing during passes, one `RESTART` checkpoint waits for the writer's
/// current commit and lets the log start over.
struct Checkpointer {
    conn: Connection,
    /// Log bytes written since the last checkpoint that call for the next one.
    threshold: u64,
    /// Log bytes written since the last checkpoint, as the writer counts them.
    written: Arc<std::sync::atomic::AtomicU64>,
    stopped: Arc<Mutex<Option<String>>>,
}

impl Checkpointer {
    fn run(self, wake: Receiver<()>) {
        use std::sync::atomic::Ordering;
        while wake.recv().is_ok() {
            if self.written.load(Ordering::Relaxed) < self.threshold {
                continue;
            }
            self.written.store(0, Ordering::Relaxed);
            let passive = self.checkpoint("PASSIVE");
            let result = match passive {
                Ok(frames) if frames * 4096 > 4 * self.threshold => self.checkpoint("RESTART"),
                other => other,
            };
            if let Err(error) = result {
                // The log still holds every commit, so nothing acknowledged is at risk; but
                // a disk that fails here fails the writer next, so stop now (fail-stop).
                *self.stopped.lock().expect("stopped flag lock") =
                    Some(format!("checkpoint failed: {error}"));
                return;
            }
        }
    }

    /// Runs one checkpoint; returns the frames in the log.
    fn checkpoint(&self, mode: &str) -> Result<u64, StoreError> {
        let (_busy, log, _done): (i64, i64, i64) = self
            .conn
            .query_row(&format!("PRAGMA wal_checkpoint({mode})"), [], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .map_err(db)?;
        Ok(u64::try_from(log).unwrap_or(0))
    }
}

fn check_meta(conn: &Connection, algorithm: HashAlgorithm) -> Result<(), StoreError> {
    let stored: Option<String> = conn
        .query_row(
            "SELECT value FROM meta WHERE key = 'hash_algorithm'",
            [],
            |r| r.get(0),
        )
        .optional()
        .map_err(db)?;
    let layout: Option<String> = conn
        .query_row("SELECT value FROM meta WHERE key = 'layout'", [], |r| {
            r.get(0)
        })
        .optional()
        .map_err(db)?;
    if stored.is_some() && layout.as_deref() != Some(LAYOUT) {
        return Err(StoreError::Database(format!(
            "store layout {} is not {LAYOUT}; it was written by another version",
            layout.as_deref().unwrap_or("1 (node rows)")
        )));
    }
    match stored {
        None => {
            conn.execute(
                "INSERT INTO meta (key, value) VALUES ('hash_algorithm', ?1), ('layout', ?2)",
                [algorithm.id(), LAYOUT],
            )
            .map_err(db)?;
            Ok(())
        }
        Some(id) if id == algorithm.id() => Ok(()),
        Some(id) => Err(StoreError::Database(format!(
            "store uses {id}, options say {}",
            algorithm.id()
        ))),
    }
}

/// Loads each ledger's right edge and checks it against the last signed head: the tip row,
/// the last entry's leaf, and the root recomputed from stored nodes.
fn load_frontiers(
    conn: &Connection,
    options: &Options,
) -> Result<HashMap<String, Frontier>, StoreError> {
    let mut frontiers = HashMap::new();
    let mut statement = conn
        .prepare("SELECT ledger, size, last_leaf FROM ledgers")
        .map_err(db)?;
    let rows: Vec<(String, u64, Vec<u8>)> = statement
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .map_err(db)?
        .collect::<Result<_, _>>()
        .map_err(db)?;
    for (ledger, size, last_leaf) in rows {
        let tip = Tip {
            size,
            last_leaf: hash_from(last_leaf)?,
        };
        // The last complete node of each level: node (l, size/2^l - 1), from the tiles.
        let wanted: Vec<(u8, u64)> = (0..64u8)
            .take_while(|level| size >> level > 0)
            .map(|level| (level, (size >> level) - 1))
            .collect();
        let found = prefetch(conn, &ledger, &wanted, None)?;
        let last = wanted
            .iter()
            .map(|node| found.0.get(node).map(|hash| (node.1, *hash)))
            .collect();
        let frontier = Frontier::from_nodes(tip, last);
        check_tip(conn, options, &ledger, &frontier)?;
        frontiers.insert(ledger, frontier);
    }
    Ok(frontiers)
}

fn check_tip(
    conn: &Connection,
    options: &Options,
    ledger: &str,
    frontier: &Frontier,
) -> Result<(), StoreError> {
    if frontier.tip.size == 0 {
        return Ok(());
    }
    let last_entry: Option<(Vec<u8>, Vec<u8>)> = conn
        .query_row(
            &format!("SELECT body, leaf FROM entries WHERE id = {ENTRY_ID}"),
            params![ledger, frontier.tip.size - 1],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(db)?;
    let last_entry = last_entry
        .map(|(body, leaf)| {
            let body = packed::canonical(body)
                .map_err(|e| common::corrupt(ledger, frontier.tip.size - 1, e))?;
            Ok::<_, StoreError>((body, hash_from(leaf)?))
        })
        .transpose()?;
    let head = read_head(conn, ledger, None)?;
    common::check_tip(options, ledger, frontier, last_entry, &head)
}

fn read_head(
    conn: &Connection,
    ledger: &str,
    tree_size: Option<u64>,
) -> Result<TreeHead, StoreError> {
    let json: Option<String> = match tree_size {
        None => conn
            .prepare_cached(
                "SELECT head FROM heads WHERE ledger = ?1 ORDER BY tree_size DESC LIMIT 1",
            )
            .and_then(|mut s| s.query_row([ledger], |r| r.get(0))),
        Some(size) => conn
            .prepare_cached("SELECT head FROM heads WHERE ledger = ?1 AND tree_size = ?2")
            .and_then(|mut s| s.query_row(params![ledger, size], |r| r.get(0))),
    }
    .optional()
    .map_err(db)?;
    let json =
        json.ok_or_else(|| StoreError::NotFound(format!("no signed head for ledger {ledger}")))?;
    serde_json::from_str(&json)
        .map_err(|e| StoreError::Database(format!("stored head is not JSON: {e}")))
}

/// The last tile of each base level of each ledger: the ones appends still fill.
fn load_open_tiles(
    conn: &Connection,
    ledgers: impl Iterator<Item = String>,
) -> Result<HashMap<String, Vec<OpenTile>>, StoreError> {
    let mut open = HashMap::new();
    for ledger in ledgers {
        let mut tiles = Vec::new();
        for level in (0..64u8).step_by(usize::from(tile::HEIGHT)) {
            let last: Option<(u64, Vec<u8>)> = conn
                .query_row(
                    "SELECT idx, hashes FROM tiles WHERE ledger = ?1 AND level = ?2 ORDER BY idx DESC LIMIT 1",
                    params![ledger, level],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()
                .map_err(db)?;
            let Some((index, bytes)) = last else { break };
            tiles.push(OpenTile {
                index,
                hashes: tile::decode(&bytes)?,
                dirty: false,
            });
        }
        open.insert(ledger, tiles);
    }
    Ok(open)
}

/// A tile appends are filling, as the writer holds it.
#[derive(Debug, Default)]
struct OpenTile {
    index: u64,
    hashes: Vec<Hash>,
    /// Changed since it was last written.
    dirty: bool,
}

/// The writer thread's state.
struct Writer {
    /// Wakes the checkpointer after a commit, with the log bytes written so far (about).
    checkpoints: Option<(SyncSender<()>, Arc<std::sync::atomic::AtomicU64>)>,
    /// Group commits done, shared with the store for reports.
    commits: Arc<std::sync::atomic::AtomicU64>,
    /// Their timings, shared likewise.
    times: Arc<crate::CommitTimes>,
    /// The one read-write connection; shared so maintenance (projection rebuilds) can take
    /// it between batches.
    conn: Arc<Mutex<Connection>>,
    options: Options,
    signing_key: Arc<dyn jinguan_crypto::Signer>,
    frontiers: HashMap<String, Frontier>,
    /// Each ledger's number, the high bits of its entries' row ids.
    nums: HashMap<String, i64>,
    /// Per ledger, the last tile of each base level. Changed in place by a batch: a batch
    /// that fails stops the writer, so nothing reads them after a failure.
    tiles: HashMap<String, Vec<OpenTile>>,
    stopped: Arc<Mutex<Option<String>>>,
}

impl Writer {
    fn run(mut self, receiver: Receiver<Request>) {
        let stopped = self.stopped.clone();
        common::serve(receiver, self.options.max_batch, &stopped, |batch| {
            self.write_batch(batch)
        });
    }

    /// Writes one batch in one transaction. Per-request refusals are results; an `Err` is a
    /// failure of the whole write.
    fn write_batch(
        &mut self,
        batch: &mut [Request],
    ) -> Result<Vec<Result<Receipt, StoreError>>, StoreError> {
        let started = std::time::Instant::now();
        let algorithm = self.options.hash_algorithm;
        let now = self.options.clock.now_ms();
        let mut conn = self.conn.lock().expect("write connection lock");
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db)?;
        // Work on copies of the touched edges: if the commit fails, memory still matches disk.
        let mut touched: HashMap<String, Frontier> = HashMap::new();
        let mut results = Vec::with_capacity(batch.len());
        // Tiles this batch filled and left; the ones still filling are written at the end.
        let mut full_tiles: Vec<(String, u8, u64, Vec<u8>)> = Vec::new();
        let mut log_bytes = 0u64;
        {
            let mut find = tx
                .prepare_cached(&format!(
                    "SELECT id & {}, leaf, digest FROM entries WHERE ledger = ?1 AND submission_id = ?2",
                    (1i64 << SEQ_BITS) - 1
                ))
                .map_err(db)?;
            // The unique index on (ledger, submission_id) is the idempotency check: a repeat
            // inserts nothing and is then looked up. Any other conflict is an error.
            let mut insert_entry = tx
                .prepare_cached(
                    "INSERT INTO entries (id, ledger, submission_id, digest, leaf, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                     ON CONFLICT (ledger, submission_id) DO NOTHING",
                )
                .map_err(db)?;
            for request in batch.iter_mut() {
                let ledger = request.ledger.as_str();
                let Some(prepared) = request.prepared.take() else {
                    return Err(StoreError::Database("a request was written twice".into()));
                };
                let frontier = match touched.get_mut(ledger) {
                    Some(frontier) => frontier,
                    None => {
                        let start = self.frontiers.get(ledger).cloned().unwrap_or_default();
                        touched.entry(ledger.to_owned()).or_insert(start)
                    }
                };
                let appended = common::Appended::on(frontier, prepared, now, algorithm)?;
                let submission_id = appended.entry.submission_id.as_str();
                let num = match self.nums.get(ledger) {
                    Some(num) => *num,
                    None => {
                        // A new ledger takes the next number; it is stored with its tip row
                        // in this transaction (a failed one stops the writer).
                        let num = self.nums.values().max().map_or(1, |n| n + 1);
                        self.nums.insert(ledger.to_owned(), num);
                        num
                    }
                };
                let stored = packed::stored(request.packed.take(), &appended.encoded);
                let inserted = insert_entry
                    .execute(params![
                        entry_id(num, appended.entry.seq),
                        num,
                        submission_id,
                        &request.digest[..],
                        &appended.leaf.0[..],
                        &stored[..]
                    ])
                    .map_err(db)?;
                if inserted == 0 {
                    let (seq, stored_leaf, stored_digest): (u64, Vec<u8>, Vec<u8>) = find
                        .query_row(params![num, submission_id], |r| {
                            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                        })
                        .map_err(db)?;
                    let original = (seq, hash_from(stored_leaf)?);
                    results.push(common::repeat(
                        ledger,
                        submission_id.to_owned(),
                        original,
                        &stored_digest,
                        &request.digest,
                    ));
                    continue;
                }
                appended.record_on(frontier);
                // Roughly what it adds to the log: the row, its index entry, its tile share.
                log_bytes += stored.len() as u64 + 128;
                if !self.tiles.contains_key(ledger) {
                    self.tiles.insert(ledger.to_owned(), Vec::new());
                }
                let open = self.tiles.get_mut(ledger).expect("inserted above");
                for &(level, index, hash) in &appended.nodes {
                    place_node(open, level, index, hash, |tile, index, hashes| {
                        full_tiles.push((ledger.to_owned(), tile, index, tile::encode(hashes)));
                    })?;
                }
                apply_projections(&tx, &self.options, &appended.entry)?;
                results.push(Ok(appended.receipt()));
                request.spent = Some(appended);
            }
        }
        {
            let mut write_tile = tx
                .prepare_cached(
                    "INSERT OR REPLACE INTO tiles (ledger, level, idx, hashes) VALUES (?1, ?2, ?3, ?4)",
                )
                .map_err(db)?;
            for (ledger, level, index, bytes) in &full_tiles {
                write_tile
                    .execute(params![ledger, level, index, bytes])
                    .map_err(db)?;
            }
            for ledger in touched.keys() {
                let open = self
                    .tiles
                    .get_mut(ledger)
                    .map_or(&mut [][..], |t| &mut t[..]);
                for (k, open) in open.iter_mut().enumerate().filter(|(_, t)| t.dirty) {
                    let level = k as u8 * tile::HEIGHT;
                    write_tile
                        .execute(params![
                            ledger,
                            level,
                            open.index,
                            tile::encode(&open.hashes)
                        ])
                        .map_err(db)?;
                    open.dirty = false;
                }
            }
        }
        // Ledgers that only saw repeats have nothing new to sign.
        touched.retain(|ledger, frontier| {
            frontier.tip.size
                != self
                    .frontiers
                    .get(ledger)
                    .map_or(0, |before| before.tip.size)
        });
        let order: Vec<(&str, &crate::frontier::Frontier)> =
            touched.iter().map(|(l, f)| (l.as_str(), f)).collect();
        let heads = common::signed_heads_json(self.signing_key.as_ref(), &order, now, algorithm)?;
        for ((ledger, frontier), head_json) in order.into_iter().zip(heads) {
            let num = self.nums.get(ledger).copied().unwrap_or_default();
            tx.prepare_cached(
                "INSERT INTO ledgers (ledger, num, size, last_leaf) VALUES (?1, ?2, ?3, ?4)
                 ON CONFLICT (ledger) DO UPDATE SET size = excluded.size, last_leaf = excluded.last_leaf",
            )
            .and_then(|mut s| {
                s.execute(params![ledger, num, frontier.tip.size, &frontier.tip.last_leaf.0[..]])
            })
            .map_err(db)?;
            tx.prepare_cached("INSERT INTO heads (ledger, tree_size, head) VALUES (?1, ?2, ?3)")
                .and_then(|mut s| s.execute(params![ledger, frontier.tip.size, head_json]))
                .map_err(db)?;
        }
        crate::fail_at(&self.options, FailurePoint::BeforeCommit)?;
        crate::fail_at(&self.options, FailurePoint::Commit)?;
        let syncing = std::time::Instant::now();
        tx.commit().map_err(db)?;
        self.times
            .record(batch.len(), started.elapsed(), syncing.elapsed());
        self.commits
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        if let Some((wake, written)) = &self.checkpoints {
            written.fetch_add(log_bytes, std::sync::atomic::Ordering::Relaxed);
            // A full channel means a wake-up is already pending.
            let _ = wake.try_send(());
        }
        // Durable: now memory may move forward, and receipts name the covering head.
        for result in results.iter_mut().flatten() {
            result.tree_size = match touched
                .get(&result.ledger)
                .or_else(|| self.frontiers.get(&result.ledger))
            {
                Some(frontier) => frontier.tip.size,
                None => result.seq + 1,
            };
        }
        self.frontiers.extend(touched);
        Ok(results)
    }
}

/// Puts a node an append completed into its tile; `left(level, index, hashes)` receives a
/// tile the node moves past, for writing.
fn place_node(
    open: &mut Vec<OpenTile>,
    level: u8,
    index: u64,
    hash: Hash,
    mut left: impl FnMut(u8, u64, &[Hash]),
) -> Result<(), StoreError> {
    let place = tile::place(level, index);
    let k = usize::from(place.level / tile::HEIGHT);
    if open.len() <= k {
        open.resize_with(k + 1, OpenTile::default);
    }
    let current = &mut open[k];
    if current.hashes.is_empty() || current.index != place.index {
        if current.dirty {
            left(place.level, current.index, &current.hashes);
        }
        *current = OpenTile {
            index: place.index,
            hashes: Vec::with_capacity(tile::SLOTS),
            dirty: false,
        };
    }
    if current.hashes.len() != place.slot {
        return Err(StoreError::Database(format!(
            "tree node ({level}, {index}) does not follow the {} nodes of its tile",
            current.hashes.len()
        )));
    }
    current.hashes.push(hash);
    current.dirty = true;
    Ok(())
}

/// Tiles at this base level and above are kept in memory once read: a full tile never
/// changes, there is one per 4,096 entries of a ledger, and every proof needs some.
const CACHED_TILE_LEVEL: u8 = 8;

/// Per ledger: (base level, index) → the tile's hashes, for levels from
/// [`CACHED_TILE_LEVEL`]. A tile still filling is cached as read and read again when a
/// proof needs a node it did not have yet.
type TileCache = std::sync::RwLock<HashMap<String, HashMap<TileKey, Arc<Vec<Hash>>>>>;

/// A tile's base level and index.
type TileKey = (u8, u64);

/// The right edge of one tree size of one ledger (see [`merkle::right_edge`]).
struct Edge {
    size: u64,
    hashes: Vec<(u64, Hash)>,
}

impl Edge {
    fn over<'a, S>(&'a self, source: &'a S) -> merkle::WithEdge<'a, S> {
        merkle::WithEdge {
            source,
            size: self.size,
            edge: &self.hashes,
        }
    }
}

impl SqliteStore {
    /// The right edge of `ledger`'s tree of `size` leaves. Proofs at one size (usually the
    /// latest) share it, so it is kept for the last size asked per ledger: without it every
    /// proof would hash up to log2(size) nodes along the edge again.
    fn edge(&self, conn: &Connection, ledger: &str, size: u64) -> Result<Arc<Edge>, StoreError> {
        if let Some(edge) = self.edge_cache.lock().expect("edge cache lock").get(ledger) {
            if edge.size == size {
                return Ok(edge.clone());
            }
        }
        let algorithm = self.options.hash_algorithm;
        let recorder = merkle::NodeRecorder::default();
        let _ = merkle::right_edge(&recorder, algorithm, size);
        let nodes = self.fetch_nodes(conn, ledger, &recorder.into_wanted())?;
        let hashes = merkle::right_edge(&nodes, algorithm, size).map_err(missing(ledger))?;
        let edge = Arc::new(Edge { size, hashes });
        self.edge_cache
            .lock()
            .expect("edge cache lock")
            .insert(ledger.to_owned(), edge.clone());
        Ok(edge)
    }

    /// The nodes a proof needs, each tile read once, the upper tiles from memory.
    fn fetch_nodes(
        &self,
        conn: &Connection,
        ledger: &str,
        wanted: &[(u8, u64)],
    ) -> Result<merkle::Prefetched, StoreError> {
        prefetch(conn, ledger, wanted, Some(&self.tile_cache))
    }
}

/// Reads tile `(level, index)`; a tile not written yet is empty.
fn read_tile(
    conn: &Connection,
    ledger: &str,
    level: u8,
    index: u64,
) -> Result<Vec<Hash>, StoreError> {
    // A fixed prepared statement, run inside the caller's read transaction.
    let bytes: Option<Vec<u8>> = conn
        .prepare_cached("SELECT hashes FROM tiles WHERE ledger = ?1 AND level = ?2 AND idx = ?3")
        .and_then(|mut s| s.query_row(params![ledger, level, index], |r| r.get(0)))
        .optional()
        .map_err(db)?;
    bytes.map_or(Ok(Vec::new()), |bytes| tile::decode(&bytes))
}

/// Fetches a set of nodes from their tiles, through `cache` where given.
fn prefetch(
    conn: &Connection,
    ledger: &str,
    wanted: &[(u8, u64)],
    cache: Option<&TileCache>,
) -> Result<merkle::Prefetched, StoreError> {
    let mut found = HashMap::with_capacity(wanted.len());
    // A proof touches a handful of tiles: a list beats a map.
    let mut read: Vec<(TileKey, Arc<Vec<Hash>>)> = Vec::new();
    for &(level, index) in wanted {
        let place = tile::place(level, index);
        let key = (place.level, place.index);
        // A tile already read for this proof serves only if it holds this slot: a tile still
        // filling may have come from the cache as an earlier prefix (enough for the node it
        // was read for, not for one completed since), and is then read again.
        let hashes = match read.iter().find(|(k, _)| *k == key) {
            Some((_, hashes)) if place.slot < hashes.len() => hashes.clone(),
            _ => {
                let hashes = cached_tile(conn, ledger, key, place.slot, cache)?;
                read.retain(|(k, _)| *k != key);
                read.push((key, hashes.clone()));
                hashes
            }
        };
        if let Some(hash) = hashes.get(place.slot) {
            found.insert((level, index), *hash);
        }
    }
    Ok(merkle::Prefetched(found))
}

/// A tile from the cache if it is there and holds `slot`, else from the database.
fn cached_tile(
    conn: &Connection,
    ledger: &str,
    (level, index): (u8, u64),
    slot: usize,
    cache: Option<&TileCache>,
) -> Result<Arc<Vec<Hash>>, StoreError> {
    let cache = cache.filter(|_| level >= CACHED_TILE_LEVEL);
    if let Some(cache) = cache {
        let tiles = cache.read().expect("tile cache lock");
        if let Some(hashes) = tiles.get(ledger).and_then(|t| t.get(&(level, index))) {
            if slot < hashes.len() {
                return Ok(hashes.clone());
            }
        }
    }
    let hashes = Arc::new(read_tile(conn, ledger, level, index)?);
    if let Some(cache) = cache {
        cache
            .write()
            .expect("tile cache lock")
            .entry(ledger.to_owned())
            .or_default()
            .insert((level, index), hashes.clone());
    }
    Ok(hashes)
}

fn missing(ledger: &str) -> impl Fn(merkle::Missing) -> StoreError + '_ {
    move |m| StoreError::NotFound(format!("tree node ({}, {}) of {ledger}", m.level, m.index))
}

/// Runs every projection's writes for one entry inside the append's transaction.
fn apply_projections(
    conn: &Connection,
    options: &Options,
    entry: &Entry,
) -> Result<(), StoreError> {
    for projection in &options.projections {
        for statement in projection.apply(entry) {
            let params: Vec<&dyn rusqlite::ToSql> =
                statement.params.iter().map(sql_value).collect();
            conn.prepare_cached(&statement.sql)
                .and_then(|mut prepared| prepared.execute(params.as_slice()))
                .map_err(|e| {
                    StoreError::Database(format!("projection {}: {e}", projection.name()))
                })?;
        }
    }
    Ok(())
}

fn sql_value(value: &crate::projection::Value) -> &dyn rusqlite::ToSql {
    use crate::projection::Value;
    match value {
        Value::Null => &rusqlite::types::Null,
        Value::Integer(i) => i,
        Value::Text(t) => t,
        Value::Blob(b) => b,
    }
}

impl SqliteStore {
    /// Empties a projection's tables and replays every entry of every ledger into them, in
    /// one transaction, between two group commits. Returns the entries replayed.
    pub fn rebuild_projection(&self, name: &str) -> Result<u64, StoreError> {
        let projection = self
            .options
            .projections
            .iter()
            .find(|p| p.name() == name)
            .ok_or_else(|| StoreError::NotFound(format!("projection {name}")))?;
        let conn = self.write_conn.as_ref().ok_or(StoreError::ReadOnly)?;
        let mut conn = conn.lock().expect("write connection lock");
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db)?;
        for sql in projection.reset() {
            tx.execute_batch(&sql).map_err(db)?;
        }
        let mut replayed = 0;
        {
            let mut rows = tx
                .prepare("SELECT body FROM entries ORDER BY id")
                .map_err(db)?;
            let mut cursor = rows.query([]).map_err(db)?;
            let only = Options {
                projections: vec![projection.clone()],
                ..self.options.clone()
            };
            while let Some(row) = cursor.next().map_err(db)? {
                let body =
                    packed::canonical(row.get(0).map_err(db)?).map_err(StoreError::Database)?;
                let entry =
                    Entry::decode(&body).map_err(|e| StoreError::Database(e.to_string()))?;
                apply_projections(&tx, &only, &entry)?;
                replayed += 1;
            }
        }
        tx.commit().map_err(db)?;
        Ok(replayed)
    }
}

impl SqliteStore {
    fn size(conn: &Connection, ledger: &str) -> Result<u64, StoreError> {
        conn.prepare_cached("SELECT size FROM ledgers WHERE ledger = ?1")
            .map_err(db)?
            .query_row([ledger], |r| r.get(0))
            .optional()
            .map_err(db)?
            .ok_or_else(|| StoreError::NotFound(format!("ledger {ledger}")))
    }
}

impl SqliteStore {
    /// Queues an append without waiting, so one submitter can have many in flight (as a
    /// server with many concurrent requests does). Blocks only while the queue is full.
    pub fn submit(
        &self,
        ledger: &str,
        submission: Submission,
    ) -> Result<crate::Pending, StoreError> {
        let sender = self.sender.as_ref().ok_or(StoreError::ReadOnly)?;
        let (reply, answer) = mpsc::sync_channel(1);
        let request = Request::new(ledger, submission, self.options.hash_algorithm, true, reply)?;
        sender
            .send(request)
            .map_err(|_| StoreError::Stopped("the writer has exited".into()))?;
        Ok(crate::Pending::from_receiver(answer))
    }
}

impl LedgerStore for SqliteStore {
    fn append(&self, ledger: &str, submission: Submission) -> Result<Receipt, StoreError> {
        self.submit(ledger, submission)?.wait()
    }

    fn ledgers(&self) -> Result<Vec<String>, StoreError> {
        self.with_reader(|conn| {
            let mut statement = conn
                .prepare("SELECT ledger FROM ledgers ORDER BY ledger")
                .map_err(db)?;
            let rows = statement.query_map([], |r| r.get(0)).map_err(db)?;
            rows.collect::<Result<_, _>>().map_err(db)
        })
    }

    fn head(&self, ledger: &str) -> Result<TreeHead, StoreError> {
        self.with_reader(|conn| read_head(conn, ledger, None))
    }

    fn head_at(&self, ledger: &str, tree_size: u64) -> Result<TreeHead, StoreError> {
        self.with_reader(|conn| read_head(conn, ledger, Some(tree_size)))
    }

    fn entry(&self, ledger: &str, seq: u64) -> Result<(Entry, Hash), StoreError> {
        self.with_reader(|conn| {
            let row: Option<(Vec<u8>, Vec<u8>)> = conn
                .prepare_cached(&format!(
                    "SELECT body, leaf FROM entries WHERE id = {ENTRY_ID}"
                ))
                .and_then(|mut s| s.query_row(params![ledger, seq], |r| Ok((r.get(0)?, r.get(1)?))))
                .optional()
                .map_err(db)?;
            let (body, leaf) =
                row.ok_or_else(|| StoreError::NotFound(format!("entry {seq} of ledger {ledger}")))?;
            let body = packed::canonical(body).map_err(|e| common::corrupt(ledger, seq, e))?;
            let entry =
                Entry::decode(&body).map_err(|e| common::corrupt(ledger, seq, e.to_string()))?;
            Ok((entry, hash_from(leaf)?))
        })
    }

    fn seq_of(&self, ledger: &str, submission_id: &str) -> Result<Option<u64>, StoreError> {
        self.with_reader(|conn| {
            conn.prepare_cached(&format!(
                "SELECT id & {} FROM entries
                 WHERE ledger = (SELECT num FROM ledgers WHERE ledger = ?1) AND submission_id = ?2",
                (1i64 << SEQ_BITS) - 1
            ))
            .and_then(|mut s| s.query_row(params![ledger, submission_id], |r| r.get(0)))
            .optional()
            .map_err(db)
        })
    }

    fn inclusion_proof(
        &self,
        ledger: &str,
        seq: u64,
        tree_size: u64,
    ) -> Result<InclusionProof, StoreError> {
        self.with_reader(|conn| {
            let size = Self::size(conn, ledger)?;
            common::inclusion_bounds(seq, tree_size, size)?;
            {
                // Two passes: list the nodes the proof needs, fetch them in one round, build.
                let algorithm = self.options.hash_algorithm;
                let edge = self.edge(conn, ledger, tree_size)?;
                let recorder = merkle::NodeRecorder::default();
                let _ = merkle::inclusion_proof(&edge.over(&recorder), algorithm, seq, tree_size);
                let nodes = self.fetch_nodes(conn, ledger, &recorder.into_wanted())?;
                merkle::inclusion_proof(&edge.over(&nodes), algorithm, seq, tree_size)
                    .map_err(missing(ledger))
            }
        })
    }

    fn consistency_proof(
        &self,
        ledger: &str,
        first: u64,
        second: u64,
    ) -> Result<ConsistencyProof, StoreError> {
        self.with_reader(|conn| {
            let size = Self::size(conn, ledger)?;
            common::consistency_bounds(first, second, size)?;
            {
                let algorithm = self.options.hash_algorithm;
                let edge = self.edge(conn, ledger, second)?;
                let recorder = merkle::NodeRecorder::default();
                let _ = merkle::consistency_proof(&edge.over(&recorder), algorithm, first, second);
                let nodes = self.fetch_nodes(conn, ledger, &recorder.into_wanted())?;
                merkle::consistency_proof(&edge.over(&nodes), algorithm, first, second)
                    .map_err(missing(ledger))
            }
        })
    }

    fn verify(&self, ledger: &str) -> Result<VerifyReport, StoreError> {
        self.with_reader(|conn| verify_ledger(conn, &self.options, ledger))
    }

    fn commit_times(&self) -> Option<crate::CommitReading> {
        Some(self.times.read())
    }

    fn sole_writer(&self) -> bool {
        // Opened read-only, it is another process that writes.
        self.sender.is_some()
    }

    fn query(
        &self,
        statement: &crate::projection::Statement,
    ) -> Result<Vec<Vec<crate::projection::Value>>, StoreError> {
        use crate::projection::Value;
        use rusqlite::types::ValueRef;
        self.with_reader(|conn| {
            let mut prepared = conn.prepare_cached(&statement.sql).map_err(db)?;
            let columns = prepared.column_count();
            let params: Vec<&dyn rusqlite::ToSql> =
                statement.params.iter().map(sql_value).collect();
            let mut rows = prepared.query(params.as_slice()).map_err(db)?;
            let mut out = Vec::new();
            while let Some(row) = rows.next().map_err(db)? {
                let mut values = Vec::with_capacity(columns);
                for i in 0..columns {
                    values.push(match row.get_ref(i).map_err(db)? {
                        ValueRef::Null => Value::Null,
                        ValueRef::Integer(n) => Value::Integer(n),
                        ValueRef::Text(t) => Value::Text(String::from_utf8_lossy(t).into_owned()),
                        ValueRef::Blob(b) => Value::Blob(b.to_vec()),
                        ValueRef::Real(_) => {
                            return Err(StoreError::Database(format!(
                                "column {i} of a projection query is a float"
                            )))
                        }
                    });
                }
                out.push(values);
            }
            Ok(out)
        })
    }
}

/// Walks a whole ledger: every entry against the chain and its leaf, every stored node
/// against its children, every signed head's signature and root.
fn verify_ledger(
    conn: &Connection,
    options: &Options,
    ledger: &str,
) -> Result<VerifyReport, StoreError> {
    let heads: Vec<(u64, String)> = {
        let mut statement = conn
            .prepare("SELECT tree_size, head FROM heads WHERE ledger = ?1")
            .map_err(db)?;
        let rows = statement
            .query_map([ledger], |r| Ok((r.get(0)?, r.get(1)?)))
            .map_err(db)?;
        rows.collect::<Result<_, _>>().map_err(db)?
    };
    // Leaves are in the tiles too: the audit checks them there as well.
    let mut audit = common::Audit::new(options, ledger, heads, true);
    // The audit asks for nodes in the order appends completed them, so each tile is read
    // once: keep the last one read of each base level.
    let mut last_tiles: Vec<Option<(u64, Vec<Hash>)>> = Vec::new();
    let mut statement = conn
        .prepare(&format!(
            "SELECT id & {mask}, body, leaf FROM entries WHERE id BETWEEN {first} AND {first} + {mask} ORDER BY id",
            first = ENTRY_ID.replace("?2", "0"),
            mask = (1i64 << SEQ_BITS) - 1
        ))
        .map_err(db)?;
    let mut rows = statement.query([ledger]).map_err(db)?;
    while let Some(row) = rows.next().map_err(db)? {
        let seq: u64 = row.get(0).map_err(db)?;
        let body = packed::canonical(row.get(1).map_err(db)?)
            .map_err(|e| common::corrupt(ledger, seq, e))?;
        let leaf = hash_from(row.get(2).map_err(db)?)?;
        audit.entry(seq, &body, leaf, |level, index| {
            let place = tile::place(level, index);
            let k = usize::from(place.level / tile::HEIGHT);
            if last_tiles.len() <= k {
                last_tiles.resize(k + 1, None);
            }
            let fresh = match &last_tiles[k] {
                Some((i, hashes)) => *i != place.index || hashes.len() <= place.slot,
                None => true,
            };
            if fresh {
                let hashes = read_tile(conn, ledger, place.level, place.index)?;
                last_tiles[k] = Some((place.index, hashes));
            }
            Ok(last_tiles[k]
                .as_ref()
                .and_then(|(_, hashes)| hashes.get(place.slot).copied()))
        })?;
    }
    audit.finish(SqliteStore::size(conn, ledger)?)
}

/// The benchmark peer: plain inserts of `rows` ledger-shaped rows (`payload_bytes` each),
/// `per_transaction` rows per transaction, WAL with `synchronous=FULL` — the same durability as
/// our appends, without hashing, chaining, signing or queueing. With `same_indexes`, each row
/// also goes through a unique (ledger, submission id) index, and tile rows are written as
/// appends write them (one as each fills, the filling ones again at each commit); without, it
/// is a bare insert. Returns the elapsed time.
pub fn plain_insert_peer(
    path: &Path,
    rows: u64,
    per_transaction: u64,
    payload_bytes: usize,
    same_indexes: bool,
) -> Result<std::time::Duration, StoreError> {
    let mut conn = connect(path, false, None)?;
    conn.execute_batch(
        "CREATE TABLE plain (id INTEGER PRIMARY KEY, ledger INTEGER NOT NULL, submission_id TEXT NOT NULL,
         digest BLOB NOT NULL, leaf BLOB NOT NULL, body BLOB NOT NULL);
         CREATE TABLE plain_tiles (ledger TEXT NOT NULL, level INTEGER NOT NULL, idx INTEGER NOT NULL,
         hashes BLOB NOT NULL, PRIMARY KEY (ledger, level, idx)) WITHOUT ROWID;",
    )
    .map_err(db)?;
    if same_indexes {
        conn.execute_batch(
            "CREATE UNIQUE INDEX plain_by_submission ON plain (ledger, submission_id);",
        )
        .map_err(db)?;
    }
    let body = vec![b'.'; payload_bytes];
    let leaf = [7u8; 32];
    let tile_bytes = vec![7u8; 32 * tile::SLOTS];
    let start = std::time::Instant::now();
    let mut seq = 0u64;
    while seq < rows {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db)?;
        {
            let mut insert = tx
                .prepare_cached("INSERT INTO plain (id, ledger, submission_id, digest, leaf, body) VALUES (?1, ?2, ?3, ?4, ?4, ?5)")
                .map_err(db)?;
            let mut node = tx
                .prepare_cached(
                    "INSERT OR REPLACE INTO plain_tiles (ledger, level, idx, hashes) VALUES (?1, ?2, ?3, ?4)",
                )
                .map_err(db)?;
            for _ in 0..per_transaction.min(rows - seq) {
                // Ids shaped like the benchmark's (client, counter), so index inserts scatter alike.
                let id = format!("c{}-{}", seq % 8, seq / 8);
                insert
                    .execute(params![entry_id(1, seq), 1, id, &leaf[..], &body])
                    .map_err(db)?;
                // A tile row each time an append fills one, at base levels 0, 4, 8, ...
                let mut filled = seq + 1;
                let mut level = 0;
                while same_indexes && filled % 16 == 0 {
                    filled /= 16;
                    node.execute(params!["bench", level, filled - 1, &tile_bytes])
                        .map_err(db)?;
                    level += 4;
                }
                seq += 1;
            }
            // And the tiles still filling, rewritten at each commit as an append does.
            let mut filling = seq;
            let mut level = 0;
            while same_indexes && filling % 16 != 0 {
                node.execute(params![
                    "bench",
                    level,
                    filling / 16,
                    &tile_bytes[..32 * (filling % 16) as usize]
                ])
                .map_err(db)?;
                filling /= 16;
                level += 4;
            }
        }
        tx.commit().map_err(db)?;
    }
    Ok(start.elapsed())
}
