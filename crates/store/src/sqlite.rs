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
use crate::{FailurePoint, LedgerStore, Options, Receipt, StoreError, VerifyReport};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS ledgers (
    ledger TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    last_leaf BLOB NOT NULL
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS entries (
    ledger TEXT NOT NULL,
    seq INTEGER NOT NULL,
    submission_id TEXT NOT NULL,
    digest BLOB NOT NULL,
    leaf BLOB NOT NULL,
    body BLOB NOT NULL,
    PRIMARY KEY (ledger, seq)
) WITHOUT ROWID;
CREATE UNIQUE INDEX IF NOT EXISTS entries_by_submission ON entries (ledger, submission_id);
CREATE TABLE IF NOT EXISTS nodes (
    ledger TEXT NOT NULL,
    level INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    hash BLOB NOT NULL,
    PRIMARY KEY (ledger, level, idx)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS heads (
    ledger TEXT NOT NULL,
    tree_size INTEGER NOT NULL,
    head TEXT NOT NULL,
    PRIMARY KEY (ledger, tree_size)
) WITHOUT ROWID;
";

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
    Ok(conn)
}

/// The SQLite store.
pub struct SqliteStore {
    path: PathBuf,
    options: Options,
    sender: Option<SyncSender<Request>>,
    writer: Option<JoinHandle<()>>,
    stopped: Arc<Mutex<Option<String>>>,
    readers: Mutex<Vec<Connection>>,
    commits: Arc<std::sync::atomic::AtomicU64>,
    write_conn: Option<Arc<Mutex<Connection>>>,
    node_cache: NodeCache,
}

impl SqliteStore {
    /// Opens (creating if needed) a store read-write. Refuses if any ledger's data does not
    /// match its last signed head.
    pub fn open(path: &Path, options: Options) -> Result<Self, StoreError> {
        let signing_key = options.signing_key.clone().ok_or(StoreError::ReadOnly)?;
        let conn = connect(path, false, options.sqlite_vfs.as_deref())?;
        conn.pragma_update(None, "wal_autocheckpoint", options.wal_autocheckpoint_pages)
            .map_err(db)?;
        conn.execute_batch(SCHEMA).map_err(db)?;
        check_meta(&conn, options.hash_algorithm)?;
        let frontiers = load_frontiers(&conn, &options)?;
        for projection in &options.projections {
            for sql in projection.create() {
                conn.execute_batch(&sql).map_err(db)?;
            }
        }
        let conn = Arc::new(Mutex::new(conn));
        let (sender, receiver) = mpsc::sync_channel(options.queue_capacity);
        let stopped = Arc::new(Mutex::new(None));
        let commits = Arc::new(std::sync::atomic::AtomicU64::new(0));
        let writer = Writer {
            commits: commits.clone(),
            conn: conn.clone(),
            options: options.clone(),
            signing_key,
            frontiers,
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
            stopped,
            readers: Mutex::new(Vec::new()),
            commits,
            write_conn: Some(conn),
            node_cache: NodeCache::default(),
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
            stopped: Arc::new(Mutex::new(None)),
            readers: Mutex::new(vec![conn]),
            commits: Arc::new(std::sync::atomic::AtomicU64::new(0)),
            write_conn: None,
            node_cache: NodeCache::default(),
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
    match stored {
        None => {
            conn.execute(
                "INSERT INTO meta (key, value) VALUES ('hash_algorithm', ?1)",
                [algorithm.id()],
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
        // Level 0 is the last entry's leaf; higher levels are in `nodes`.
        let mut last = vec![(size > 0).then(|| (size - 1, tip.last_leaf))];
        for level in 1..64u8 {
            let node: Option<(u64, Vec<u8>)> = conn
                .query_row(
                    "SELECT idx, hash FROM nodes WHERE ledger = ?1 AND level = ?2 ORDER BY idx DESC LIMIT 1",
                    params![ledger, level],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
                .optional()
                .map_err(db)?;
            match node {
                Some((index, hash)) => last.push(Some((index, hash_from(hash)?))),
                None => break,
            }
        }
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
            "SELECT body, leaf FROM entries WHERE ledger = ?1 AND seq = ?2",
            params![ledger, frontier.tip.size - 1],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .optional()
        .map_err(db)?;
    let last_entry = last_entry
        .map(|(body, leaf)| hash_from(leaf).map(|leaf| (body, leaf)))
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

/// The writer thread's state.
struct Writer {
    /// Group commits done, shared with the store for reports.
    commits: Arc<std::sync::atomic::AtomicU64>,
    /// The one read-write connection; shared so maintenance (projection rebuilds) can take
    /// it between batches.
    conn: Arc<Mutex<Connection>>,
    options: Options,
    signing_key: Arc<jinguan_crypto::SigningKey>,
    frontiers: HashMap<String, Frontier>,
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
        let algorithm = self.options.hash_algorithm;
        let now = self.options.clock.now_ms();
        let mut conn = self.conn.lock().expect("write connection lock");
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db)?;
        // Work on copies of the touched edges: if the commit fails, memory still matches disk.
        let mut touched: HashMap<String, Frontier> = HashMap::new();
        let mut results = Vec::with_capacity(batch.len());
        {
            let mut find = tx
                .prepare_cached("SELECT seq, leaf, digest FROM entries WHERE ledger = ?1 AND submission_id = ?2")
                .map_err(db)?;
            // The unique index on (ledger, submission_id) is the idempotency check: a repeat
            // inserts nothing and is then looked up. Any other conflict is an error.
            let mut insert_entry = tx
                .prepare_cached(
                    "INSERT INTO entries (ledger, seq, submission_id, digest, leaf, body) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                     ON CONFLICT (ledger, submission_id) DO NOTHING",
                )
                .map_err(db)?;
            let mut insert_node = tx
                .prepare_cached(
                    "INSERT INTO nodes (ledger, level, idx, hash) VALUES (?1, ?2, ?3, ?4)",
                )
                .map_err(db)?;
            for request in batch.iter_mut() {
                let ledger = request.ledger.as_str();
                let submission = std::mem::take(&mut request.submission);
                if let Err(refusal) = common::check_request(ledger, &submission) {
                    results.push(Err(refusal));
                    continue;
                }
                let frontier = match touched.get_mut(ledger) {
                    Some(frontier) => frontier,
                    None => {
                        let start = self.frontiers.get(ledger).cloned().unwrap_or_default();
                        touched.entry(ledger.to_owned()).or_insert(start)
                    }
                };
                let submission_id = submission.submission_id.clone();
                let appended = common::Appended::on(frontier, ledger, submission, now, algorithm)?;
                let inserted = insert_entry
                    .execute(params![
                        ledger,
                        appended.entry.seq,
                        submission_id,
                        &request.digest[..],
                        &appended.leaf.0[..],
                        appended.encoded
                    ])
                    .map_err(db)?;
                if inserted == 0 {
                    let (seq, stored_leaf, stored_digest): (u64, Vec<u8>, Vec<u8>) = find
                        .query_row(params![ledger, submission_id], |r| {
                            Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                        })
                        .map_err(db)?;
                    let original = (seq, hash_from(stored_leaf)?);
                    results.push(common::repeat(
                        ledger,
                        submission_id,
                        original,
                        &stored_digest,
                        &request.digest,
                    ));
                    continue;
                }
                appended.record_on(frontier);
                for (level, index, hash) in appended.interior_nodes() {
                    insert_node
                        .execute(params![ledger, level, index, &hash.0[..]])
                        .map_err(db)?;
                }
                apply_projections(&tx, &self.options, &appended.entry)?;
                results.push(Ok(appended.receipt()));
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
        for (ledger, frontier) in &touched {
            let head_json =
                common::signed_head_json(&self.signing_key, ledger, frontier, now, algorithm)?;
            tx.execute(
                "INSERT INTO ledgers (ledger, size, last_leaf) VALUES (?1, ?2, ?3)
                 ON CONFLICT (ledger) DO UPDATE SET size = excluded.size, last_leaf = excluded.last_leaf",
                params![ledger, frontier.tip.size, &frontier.tip.last_leaf.0[..]],
            )
            .map_err(db)?;
            tx.execute(
                "INSERT INTO heads (ledger, tree_size, head) VALUES (?1, ?2, ?3)",
                params![ledger, frontier.tip.size, head_json],
            )
            .map_err(db)?;
        }
        crate::fail_at(&self.options, FailurePoint::BeforeCommit)?;
        crate::fail_at(&self.options, FailurePoint::Commit)?;
        tx.commit().map_err(db)?;
        self.commits
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
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

/// Interior nodes at this level and above are kept in memory once read: a node never changes
/// after its commit, there are at most n/64 of them per ledger, and they are the ones every
/// proof needs.
const CACHED_LEVEL: u8 = 6;

/// Per ledger: (level, index) → hash, for levels from [`CACHED_LEVEL`].
type NodeCache = std::sync::RwLock<HashMap<String, HashMap<(u8, u64), Hash>>>;

impl SqliteStore {
    /// The nodes a proof needs: upper levels from the cache, the rest in one round of queries.
    fn fetch_nodes(
        &self,
        conn: &Connection,
        ledger: &str,
        wanted: &[(u8, u64)],
    ) -> Result<merkle::Prefetched, StoreError> {
        let mut found = HashMap::with_capacity(wanted.len());
        let mut missing = Vec::with_capacity(wanted.len());
        {
            let cache = self.node_cache.read().expect("node cache lock");
            let cached = cache.get(ledger);
            for node in wanted {
                match cached.and_then(|c| c.get(node)) {
                    Some(hash) => {
                        found.insert(*node, *hash);
                    }
                    None => missing.push(*node),
                }
            }
        }
        let fetched = prefetch(conn, ledger, &missing)?;
        let upper: Vec<((u8, u64), Hash)> = fetched
            .0
            .iter()
            .filter(|((level, _), _)| *level >= CACHED_LEVEL)
            .map(|(k, v)| (*k, *v))
            .collect();
        if !upper.is_empty() {
            let mut cache = self.node_cache.write().expect("node cache lock");
            cache.entry(ledger.to_owned()).or_default().extend(upper);
        }
        found.extend(fetched.0);
        Ok(merkle::Prefetched(found))
    }
}

/// Fetches a set of nodes: leaves from `entries`, interior nodes from `nodes`.
fn prefetch(
    conn: &Connection,
    ledger: &str,
    wanted: &[(u8, u64)],
) -> Result<merkle::Prefetched, StoreError> {
    // Point lookups through two fixed prepared statements, inside the caller's read
    // transaction: an `IN` list would change the SQL text with every proof's shape and defeat
    // the statement cache.
    let mut leaf = conn
        .prepare_cached("SELECT leaf FROM entries WHERE ledger = ?1 AND seq = ?2")
        .map_err(db)?;
    let mut node = conn
        .prepare_cached("SELECT hash FROM nodes WHERE ledger = ?1 AND level = ?2 AND idx = ?3")
        .map_err(db)?;
    let mut found = HashMap::with_capacity(wanted.len());
    for &(level, index) in wanted {
        let hash: Option<Vec<u8>> = if level == 0 {
            leaf.query_row(params![ledger, index], |r| r.get(0))
                .optional()
                .map_err(db)?
        } else {
            node.query_row(params![ledger, level, index], |r| r.get(0))
                .optional()
                .map_err(db)?
        };
        if let Some(hash) = hash {
            found.insert((level, index), hash_from(hash)?);
        }
    }
    Ok(merkle::Prefetched(found))
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
                .prepare("SELECT body FROM entries ORDER BY ledger, seq")
                .map_err(db)?;
            let mut cursor = rows.query([]).map_err(db)?;
            let only = Options {
                projections: vec![projection.clone()],
                ..self.options.clone()
            };
            while let Some(row) = cursor.next().map_err(db)? {
                let body: Vec<u8> = row.get(0).map_err(db)?;
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
        let digest = crate::submission_digest(self.options.hash_algorithm, &submission);
        let request = Request {
            ledger: ledger.to_owned(),
            submission,
            digest,
            reply,
        };
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
                .prepare_cached("SELECT body, leaf FROM entries WHERE ledger = ?1 AND seq = ?2")
                .and_then(|mut s| s.query_row(params![ledger, seq], |r| Ok((r.get(0)?, r.get(1)?))))
                .optional()
                .map_err(db)?;
            let (body, leaf) =
                row.ok_or_else(|| StoreError::NotFound(format!("entry {seq} of ledger {ledger}")))?;
            let entry =
                Entry::decode(&body).map_err(|e| common::corrupt(ledger, seq, e.to_string()))?;
            Ok((entry, hash_from(leaf)?))
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
                let recorder = merkle::NodeRecorder::default();
                let _ = merkle::inclusion_proof(&recorder, algorithm, seq, tree_size);
                let nodes = self.fetch_nodes(conn, ledger, &recorder.into_wanted())?;
                merkle::inclusion_proof(&nodes, algorithm, seq, tree_size).map_err(missing(ledger))
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
                let recorder = merkle::NodeRecorder::default();
                let _ = merkle::consistency_proof(&recorder, algorithm, first, second);
                let nodes = self.fetch_nodes(conn, ledger, &recorder.into_wanted())?;
                merkle::consistency_proof(&nodes, algorithm, first, second).map_err(missing(ledger))
            }
        })
    }

    fn verify(&self, ledger: &str) -> Result<VerifyReport, StoreError> {
        self.with_reader(|conn| verify_ledger(conn, &self.options, ledger))
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
    let mut audit = common::Audit::new(options, ledger, heads);
    let mut stored_node = conn
        .prepare_cached("SELECT hash FROM nodes WHERE ledger = ?1 AND level = ?2 AND idx = ?3")
        .map_err(db)?;
    let mut statement = conn
        .prepare("SELECT seq, body, leaf FROM entries WHERE ledger = ?1 ORDER BY seq")
        .map_err(db)?;
    let mut rows = statement.query([ledger]).map_err(db)?;
    while let Some(row) = rows.next().map_err(db)? {
        let seq: u64 = row.get(0).map_err(db)?;
        let body: Vec<u8> = row.get(1).map_err(db)?;
        let leaf = hash_from(row.get(2).map_err(db)?)?;
        audit.entry(seq, &body, leaf, |level, index| {
            let hash: Option<Vec<u8>> = stored_node
                .query_row(params![ledger, level, index], |r| r.get(0))
                .optional()
                .map_err(db)?;
            hash.map(hash_from).transpose()
        })?;
    }
    audit.finish(SqliteStore::size(conn, ledger)?)
}

/// The benchmark peer: plain inserts of `rows` ledger-shaped rows (`payload_bytes` each),
/// `per_transaction` rows per transaction, WAL with `synchronous=FULL` — the same durability as
/// our appends, without hashing, chaining, signing or queueing. With `same_indexes`, each row
/// also goes through a unique (ledger, submission id) index and writes one tree-node row, as
/// an append does; without, it is a bare insert. Returns the elapsed time.
pub fn plain_insert_peer(
    path: &Path,
    rows: u64,
    per_transaction: u64,
    payload_bytes: usize,
    same_indexes: bool,
) -> Result<std::time::Duration, StoreError> {
    let mut conn = connect(path, false, None)?;
    conn.execute_batch(
        "CREATE TABLE plain (ledger TEXT NOT NULL, seq INTEGER NOT NULL, submission_id TEXT NOT NULL,
         leaf BLOB NOT NULL, body BLOB NOT NULL, PRIMARY KEY (ledger, seq)) WITHOUT ROWID;
         CREATE TABLE plain_nodes (ledger TEXT NOT NULL, level INTEGER NOT NULL, idx INTEGER NOT NULL,
         hash BLOB NOT NULL, PRIMARY KEY (ledger, level, idx)) WITHOUT ROWID;",
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
    let start = std::time::Instant::now();
    let mut seq = 0u64;
    while seq < rows {
        let tx = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(db)?;
        {
            let mut insert = tx
                .prepare_cached("INSERT INTO plain (ledger, seq, submission_id, leaf, body) VALUES (?1, ?2, ?3, ?4, ?5)")
                .map_err(db)?;
            let mut node = tx
                .prepare_cached(
                    "INSERT INTO plain_nodes (ledger, level, idx, hash) VALUES (?1, ?2, ?3, ?4)",
                )
                .map_err(db)?;
            for _ in 0..per_transaction.min(rows - seq) {
                // Ids shaped like the benchmark's (client, counter), so index inserts scatter alike.
                let id = format!("c{}-{}", seq % 8, seq / 8);
                insert
                    .execute(params!["bench", seq, id, &leaf[..], &body])
                    .map_err(db)?;
                if same_indexes {
                    node.execute(params!["bench", 1 + seq.trailing_zeros(), seq, &leaf[..]])
                        .map_err(db)?;
                }
                seq += 1;
            }
        }
        tx.commit().map_err(db)?;
    }
    Ok(start.elapsed())
}
