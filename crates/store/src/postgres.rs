//! The scale-out backend: the ledger in PostgreSQL, safe with several writer processes on one
//! ledger.
//!
//! Same tables and semantics as the SQLite backend. Each process runs one writer thread with
//! group commit; across processes, a batch locks the rows of the ledgers it touches
//! (`SELECT ... FOR UPDATE`) before reading their tips, so sequence numbers stay contiguous
//! and unique whoever writes. The writer's cached right edge is used only while the stored
//! tip still matches it; otherwise it is reloaded. Commits use `synchronous_commit = on`, set
//! explicitly.

use std::collections::HashMap;
use std::sync::mpsc::{self, Receiver, SyncSender};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use jinguan_ledger::merkle::{self, NodeSource};
use jinguan_ledger::{ConsistencyProof, Entry, Hash, InclusionProof, Submission, Tip, TreeHead};
use postgres::{Client, NoTls, Transaction};

use crate::common::{self, Request};
use crate::frontier::Frontier;
use crate::{FailurePoint, LedgerStore, Options, Receipt, StoreError, VerifyReport};

/// Migrations, in order; the index + 1 is the schema version.
const MIGRATIONS: &[&str] = &["
CREATE TABLE ledgers (ledger TEXT PRIMARY KEY, size BIGINT NOT NULL, last_leaf BYTEA NOT NULL);
CREATE TABLE entries (
    ledger TEXT NOT NULL, seq BIGINT NOT NULL, submission_id TEXT NOT NULL, digest BYTEA NOT NULL,
    leaf BYTEA NOT NULL, body BYTEA NOT NULL,
    PRIMARY KEY (ledger, seq), UNIQUE (ledger, submission_id)
);
CREATE TABLE nodes (ledger TEXT NOT NULL, level SMALLINT NOT NULL, idx BIGINT NOT NULL, hash BYTEA NOT NULL,
    PRIMARY KEY (ledger, level, idx));
CREATE TABLE heads (ledger TEXT NOT NULL, tree_size BIGINT NOT NULL, head TEXT NOT NULL, PRIMARY KEY (ledger, tree_size));
"];

fn db(error: postgres::Error) -> StoreError {
    StoreError::Database(error.to_string())
}

fn hash_from(bytes: Vec<u8>) -> Result<Hash, StoreError> {
    bytes
        .try_into()
        .map(Hash)
        .map_err(|_| StoreError::Database("stored hash is not 32 bytes".into()))
}

fn as_i64(value: u64) -> i64 {
    i64::try_from(value).expect("sizes stay below 2^63")
}

fn connect(url: &str) -> Result<Client, StoreError> {
    let mut client = Client::connect(url, NoTls).map_err(db)?;
    // Durability stated here, not inherited from the server's configuration.
    client
        .batch_execute("SET synchronous_commit = on")
        .map_err(db)?;
    Ok(client)
}

/// Applies pending migrations under an advisory lock, so concurrent starters agree.
fn migrate(client: &mut Client) -> Result<(), StoreError> {
    let mut tx = client.transaction().map_err(db)?;
    tx.batch_execute("SELECT pg_advisory_xact_lock(7242019); CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY)")
        .map_err(db)?;
    let done: i32 = tx
        .query_one(
            "SELECT COALESCE(MAX(version), 0) FROM schema_migrations",
            &[],
        )
        .map_err(db)?
        .get(0);
    for (i, sql) in MIGRATIONS
        .iter()
        .enumerate()
        .skip(usize::try_from(done).unwrap_or(0))
    {
        tx.batch_execute(sql).map_err(db)?;
        let version = i32::try_from(i + 1).expect("few migrations");
        tx.execute(
            "INSERT INTO schema_migrations (version) VALUES ($1)",
            &[&version],
        )
        .map_err(db)?;
    }
    tx.commit().map_err(db)
}

/// The PostgreSQL store.
pub struct PostgresStore {
    url: String,
    options: Options,
    sender: Option<SyncSender<Request>>,
    writer: Option<JoinHandle<()>>,
    readers: Mutex<Vec<Client>>,
}

impl PostgresStore {
    /// Connects, migrates, checks every ledger's tip against its last signed head, and starts
    /// the writer.
    pub fn open(url: &str, options: Options) -> Result<Self, StoreError> {
        let signing_key = options.signing_key.clone().ok_or(StoreError::ReadOnly)?;
        let mut client = connect(url)?;
        migrate(&mut client)?;
        let ledgers: Vec<String> = client
            .query("SELECT ledger FROM ledgers", &[])
            .map_err(db)?
            .iter()
            .map(|r| r.get(0))
            .collect();
        for ledger in &ledgers {
            let mut tx = client.transaction().map_err(db)?;
            let frontier = load_frontier(&mut tx, ledger)?;
            check_tip(&mut tx, &options, ledger, &frontier)?;
            tx.commit().map_err(db)?;
        }
        for projection in &options.projections {
            for sql in projection.create(crate::projection::Dialect::Postgres) {
                client.batch_execute(&sql).map_err(db)?;
            }
        }
        let (sender, receiver) = mpsc::sync_channel(options.queue_capacity);
        let writer = Writer {
            client,
            options: options.clone(),
            signing_key,
            frontiers: HashMap::new(),
            stopped: Arc::new(Mutex::new(None)),
        };
        let handle = std::thread::Builder::new()
            .name("ledger-writer-pg".into())
            .spawn(move || writer.run(receiver))
            .map_err(|e| StoreError::Database(format!("cannot start the writer: {e}")))?;
        Ok(Self {
            url: url.to_owned(),
            options,
            sender: Some(sender),
            writer: Some(handle),
            readers: Mutex::new(Vec::new()),
        })
    }

    fn with_reader<T>(
        &self,
        f: impl FnOnce(&mut Transaction<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let pooled = self.readers.lock().expect("reader pool lock").pop();
        let mut client = match pooled {
            Some(client) => client,
            None => connect(&self.url)?,
        };
        let result = (|| {
            let mut tx = client
                .build_transaction()
                .read_only(true)
                .start()
                .map_err(db)?;
            let value = f(&mut tx)?;
            tx.commit().map_err(db)?;
            Ok(value)
        })();
        self.readers.lock().expect("reader pool lock").push(client);
        result
    }

    /// Queues an append without waiting (see `SqliteStore::submit`).
    pub fn submit(
        &self,
        ledger: &str,
        submission: Submission,
    ) -> Result<crate::Pending, StoreError> {
        let sender = self.sender.as_ref().ok_or(StoreError::ReadOnly)?;
        let (reply, answer) = mpsc::sync_channel(1);
        // Not packed: PostgreSQL compresses a large value itself (TOAST).
        let request = Request::new(
            ledger,
            submission,
            self.options.hash_algorithm,
            false,
            reply,
        )?;
        sender
            .send(request)
            .map_err(|_| StoreError::Stopped("the writer has exited".into()))?;
        Ok(crate::Pending::from_receiver(answer))
    }
}

impl Drop for PostgresStore {
    fn drop(&mut self) {
        self.sender.take();
        if let Some(writer) = self.writer.take() {
            let _ = writer.join();
        }
    }
}

/// Reads a ledger's tip and right edge.
fn load_frontier(tx: &mut Transaction<'_>, ledger: &str) -> Result<Frontier, StoreError> {
    let row = tx
        .query_opt(
            "SELECT size, last_leaf FROM ledgers WHERE ledger = $1",
            &[&ledger],
        )
        .map_err(db)?;
    let Some(row) = row else {
        return Ok(Frontier::default());
    };
    let size = u64::try_from(row.get::<_, i64>(0)).unwrap_or(0);
    let tip = Tip {
        size,
        last_leaf: hash_from(row.get(1))?,
    };
    let mut last = vec![(size > 0).then(|| (size - 1, tip.last_leaf))];
    let rows = tx
        .query(
            "SELECT DISTINCT ON (level) level, idx, hash FROM nodes WHERE ledger = $1 ORDER BY level, idx DESC",
            &[&ledger],
        )
        .map_err(db)?;
    for row in rows {
        let level = usize::try_from(row.get::<_, i16>(0)).unwrap_or(0);
        if last.len() <= level {
            last.resize(level + 1, None);
        }
        last[level] = Some((
            u64::try_from(row.get::<_, i64>(1)).unwrap_or(0),
            hash_from(row.get(2))?,
        ));
    }
    Ok(Frontier::from_nodes(tip, last))
}

fn read_head(
    tx: &mut Transaction<'_>,
    ledger: &str,
    tree_size: Option<u64>,
) -> Result<TreeHead, StoreError> {
    let row = match tree_size {
        None => tx.query_opt(
            "SELECT head FROM heads WHERE ledger = $1 ORDER BY tree_size DESC LIMIT 1",
            &[&ledger],
        ),
        Some(size) => tx.query_opt(
            "SELECT head FROM heads WHERE ledger = $1 AND tree_size = $2",
            &[&ledger, &as_i64(size)],
        ),
    }
    .map_err(db)?;
    let json: String = row
        .ok_or_else(|| StoreError::NotFound(format!("no signed head for ledger {ledger}")))?
        .get(0);
    serde_json::from_str(&json)
        .map_err(|e| StoreError::Database(format!("stored head is not JSON: {e}")))
}

fn check_tip(
    tx: &mut Transaction<'_>,
    options: &Options,
    ledger: &str,
    frontier: &Frontier,
) -> Result<(), StoreError> {
    if frontier.tip.size == 0 {
        return Ok(());
    }
    let row = tx
        .query_opt(
            "SELECT body, leaf FROM entries WHERE ledger = $1 AND seq = $2",
            &[&ledger, &as_i64(frontier.tip.size - 1)],
        )
        .map_err(db)?;
    let last_entry = row
        .map(|row| hash_from(row.get(1)).map(|leaf| (row.get::<_, Vec<u8>>(0), leaf)))
        .transpose()?;
    let head = read_head(tx, ledger, None)?;
    common::check_tip(options, ledger, frontier, last_entry, &head)
}

struct Writer {
    client: Client,
    options: Options,
    signing_key: Arc<dyn jinguan_crypto::Signer>,
    /// Cached right edges; trusted only while the locked tip row still matches.
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

    fn write_batch(
        &mut self,
        batch: &mut [Request],
    ) -> Result<Vec<Result<Receipt, StoreError>>, StoreError> {
        let algorithm = self.options.hash_algorithm;
        let now = self.options.clock.now_ms();
        let mut tx = self.client.transaction().map_err(db)?;
        let mut ledgers: Vec<&str> = batch.iter().map(|r| r.ledger.as_str()).collect();
        ledgers.sort_unstable();
        ledgers.dedup();
        // Lock the touched ledgers in a fixed order (no deadlocks between processes) and
        // take their tips as they are now.
        let mut touched: HashMap<String, (Frontier, u64)> = HashMap::new();
        for ledger in ledgers {
            if jinguan_ledger::check_ledger_id(ledger).is_err() {
                continue;
            }
            tx.execute(
                "INSERT INTO ledgers (ledger, size, last_leaf) VALUES ($1, 0, $2) ON CONFLICT (ledger) DO NOTHING",
                &[&ledger, &&Hash::ZERO.0[..]],
            )
            .map_err(db)?;
            let row = tx
                .query_one(
                    "SELECT size FROM ledgers WHERE ledger = $1 FOR UPDATE",
                    &[&ledger],
                )
                .map_err(db)?;
            let size = u64::try_from(row.get::<_, i64>(0)).unwrap_or(0);
            let frontier = match self.frontiers.get(ledger) {
                Some(cached) if cached.tip.size == size => cached.clone(),
                _ => load_frontier(&mut tx, ledger)?,
            };
            touched.insert(ledger.to_owned(), (frontier, size));
        }
        // Earlier uses of this batch's submission ids, one query per ledger. The ledger row
        // lock taken above keeps any other writer from adding one until we commit.
        let mut known: HashMap<(String, String), (u64, Hash, Vec<u8>)> = HashMap::new();
        for ledger in touched.keys() {
            let ids: Vec<&str> = batch
                .iter()
                .filter(|r| r.ledger == *ledger)
                .map(Request::submission_id)
                .collect();
            let rows = tx
                .query(
                    "SELECT submission_id, seq, leaf, digest FROM entries WHERE ledger = $1 AND submission_id = ANY($2)",
                    &[ledger, &ids],
                )
                .map_err(db)?;
            for row in rows {
                let seq = u64::try_from(row.get::<_, i64>(1)).unwrap_or(0);
                known.insert(
                    (ledger.clone(), row.get(0)),
                    (seq, hash_from(row.get(2))?, row.get(3)),
                );
            }
        }
        let mut rows = BulkRows::default();
        let mut results = Vec::with_capacity(batch.len());
        for request in batch.iter_mut() {
            let ledger = request.ledger.clone();
            let Some(prepared) = request.prepared.take() else {
                return Err(StoreError::Database("a request was written twice".into()));
            };
            let key = (ledger.clone(), prepared.submission_id().to_owned());
            if let Some((seq, leaf, digest)) = known.get(&key) {
                results.push(common::repeat(
                    &ledger,
                    key.1,
                    (*seq, *leaf),
                    digest,
                    &request.digest,
                ));
                continue;
            }
            let (frontier, _) = touched
                .get_mut(&ledger)
                .expect("every valid ledger was locked above");
            let appended = common::Appended::on(frontier, prepared, now, algorithm)?;
            appended.record_on(frontier);
            for projection in &self.options.projections {
                let name = projection.name().to_owned();
                rows.projections.extend(
                    projection
                        .apply(&appended.entry)
                        .into_iter()
                        .map(|s| (name.clone(), s)),
                );
            }
            known.insert(
                key,
                (appended.entry.seq, appended.leaf, request.digest.to_vec()),
            );
            results.push(Ok(appended.receipt()));
            rows.push(appended, &request.digest);
        }
        rows.write(&mut tx)?;
        let locked_sizes: HashMap<String, u64> = touched
            .iter()
            .map(|(l, (_, size))| (l.clone(), *size))
            .collect();
        touched.retain(|_, (frontier, before)| frontier.tip.size != *before);
        let order: Vec<(&str, &crate::frontier::Frontier)> =
            touched.iter().map(|(l, (f, _))| (l.as_str(), f)).collect();
        let heads = common::signed_heads_json(self.signing_key.as_ref(), &order, now, algorithm)?;
        for ((ledger, frontier), head_json) in order.into_iter().zip(heads) {
            tx.execute(
                "UPDATE ledgers SET size = $2, last_leaf = $3 WHERE ledger = $1",
                &[
                    &ledger,
                    &as_i64(frontier.tip.size),
                    &&frontier.tip.last_leaf.0[..],
                ],
            )
            .map_err(db)?;
            tx.execute(
                "INSERT INTO heads (ledger, tree_size, head) VALUES ($1, $2, $3)",
                &[&ledger, &as_i64(frontier.tip.size), &head_json],
            )
            .map_err(db)?;
        }
        crate::fail_at(&self.options, FailurePoint::BeforeCommit)?;
        crate::fail_at(&self.options, FailurePoint::Commit)?;
        tx.commit().map_err(db)?;
        for result in results.iter_mut().flatten() {
            // A repeat on a ledger this batch did not extend is covered by the head at the
            // size we found under the row lock: every commit signs one at its final size.
            result.tree_size = match touched.get(&result.ledger) {
                Some((frontier, _)) => frontier.tip.size,
                None => locked_sizes
                    .get(&result.ledger)
                    .copied()
                    .unwrap_or(result.seq + 1),
            };
        }
        for (ledger, (frontier, _)) in touched {
            self.frontiers.insert(ledger, frontier);
        }
        Ok(results)
    }
}

/// A batch's new rows, written with one statement per table (`unnest` over arrays) rather
/// than a round trip per row.
#[derive(Default)]
struct BulkRows {
    ledgers: Vec<String>,
    seqs: Vec<i64>,
    submission_ids: Vec<String>,
    digests: Vec<Vec<u8>>,
    leaves: Vec<Vec<u8>>,
    bodies: Vec<Vec<u8>>,
    node_ledgers: Vec<String>,
    node_levels: Vec<i16>,
    node_indexes: Vec<i64>,
    node_hashes: Vec<Vec<u8>>,
    /// Projection writes in append order: (projection name, statement).
    projections: Vec<(String, crate::projection::Statement)>,
}

impl BulkRows {
    fn push(&mut self, appended: common::Appended, digest: &[u8; 32]) {
        for (level, index, hash) in appended.interior_nodes() {
            self.node_ledgers.push(appended.entry.ledger.clone());
            self.node_levels.push(i16::from(*level));
            self.node_indexes.push(as_i64(*index));
            self.node_hashes.push(hash.0.to_vec());
        }
        self.ledgers.push(appended.entry.ledger);
        self.seqs.push(as_i64(appended.entry.seq));
        self.submission_ids.push(appended.entry.submission_id);
        self.digests.push(digest.to_vec());
        self.leaves.push(appended.leaf.0.to_vec());
        self.bodies.push(appended.encoded);
    }

    fn write(self, tx: &mut Transaction<'_>) -> Result<(), StoreError> {
        if !self.seqs.is_empty() {
            tx.execute(
                "INSERT INTO entries (ledger, seq, submission_id, digest, leaf, body)
                 SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::bytea[], $5::bytea[], $6::bytea[])",
                &[&self.ledgers, &self.seqs, &self.submission_ids, &self.digests, &self.leaves, &self.bodies],
            )
            .map_err(db)?;
        }
        if !self.node_levels.is_empty() {
            tx.execute(
                "INSERT INTO nodes (ledger, level, idx, hash)
                 SELECT * FROM unnest($1::text[], $2::smallint[], $3::bigint[], $4::bytea[])",
                &[
                    &self.node_ledgers,
                    &self.node_levels,
                    &self.node_indexes,
                    &self.node_hashes,
                ],
            )
            .map_err(db)?;
        }
        for (name, statement) in &self.projections {
            execute_projection(tx, name, statement)?;
        }
        Ok(())
    }
}

/// Projection parameters as PostgreSQL values.
fn pg_params(values: &[crate::projection::Value]) -> Vec<Box<dyn postgres::types::ToSql + Sync>> {
    use crate::projection::Value;
    values
        .iter()
        .map(|value| -> Box<dyn postgres::types::ToSql + Sync> {
            match value {
                Value::Null => Box::new(Option::<String>::None),
                Value::Integer(i) => Box::new(*i),
                Value::Text(t) => Box::new(t.clone()),
                Value::Blob(b) => Box::new(b.clone()),
            }
        })
        .collect()
}

/// Runs one projection statement.
fn execute_projection(
    tx: &mut Transaction<'_>,
    name: &str,
    statement: &crate::projection::Statement,
) -> Result<(), StoreError> {
    use crate::projection::to_postgres_placeholders;
    let params = pg_params(&statement.params);
    let refs: Vec<&(dyn postgres::types::ToSql + Sync)> =
        params.iter().map(|p| p.as_ref()).collect();
    tx.execute(to_postgres_placeholders(&statement.sql).as_str(), &refs)
        .map_err(|e| StoreError::Database(format!("projection {name}: {e}")))?;
    Ok(())
}

/// Runs every projection's writes for one entry inside the append's transaction.
fn apply_projections(
    tx: &mut Transaction<'_>,
    options: &Options,
    entry: &Entry,
) -> Result<(), StoreError> {
    for projection in &options.projections {
        for statement in projection.apply(entry) {
            execute_projection(tx, projection.name(), &statement)?;
        }
    }
    Ok(())
}

impl PostgresStore {
    /// Empties a projection's tables and replays every entry into them, in one transaction
    /// that holds appends off (`LOCK TABLE entries IN SHARE MODE`).
    pub fn rebuild_projection(&self, name: &str) -> Result<u64, StoreError> {
        let projection = self
            .options
            .projections
            .iter()
            .find(|p| p.name() == name)
            .ok_or_else(|| StoreError::NotFound(format!("projection {name}")))?
            .clone();
        let mut client = connect(&self.url)?;
        let mut tx = client.transaction().map_err(db)?;
        tx.batch_execute("LOCK TABLE entries IN SHARE MODE")
            .map_err(db)?;
        for sql in projection.reset() {
            tx.batch_execute(&sql).map_err(db)?;
        }
        let rows = tx
            .query("SELECT body FROM entries ORDER BY ledger, seq", &[])
            .map_err(db)?;
        let only = Options {
            projections: vec![projection],
            ..self.options.clone()
        };
        for row in &rows {
            let body: Vec<u8> = row.get(0);
            let entry = Entry::decode(&body).map_err(|e| StoreError::Database(e.to_string()))?;
            apply_projections(&mut tx, &only, &entry)?;
        }
        tx.commit().map_err(db)?;
        Ok(rows.len() as u64)
    }
}

/// Reads nodes for proofs.
struct PgNodes<'a, 't> {
    tx: std::cell::RefCell<&'a mut Transaction<'t>>,
    ledger: &'a str,
}

impl NodeSource for PgNodes<'_, '_> {
    type Error = StoreError;

    fn node(&self, level: u8, index: u64) -> Result<Hash, StoreError> {
        let mut tx = self.tx.borrow_mut();
        let row = if level == 0 {
            tx.query_opt(
                "SELECT leaf FROM entries WHERE ledger = $1 AND seq = $2",
                &[&self.ledger, &as_i64(index)],
            )
        } else {
            tx.query_opt(
                "SELECT hash FROM nodes WHERE ledger = $1 AND level = $2 AND idx = $3",
                &[&self.ledger, &i16::from(level), &as_i64(index)],
            )
        }
        .map_err(db)?;
        hash_from(
            row.ok_or_else(|| {
                StoreError::NotFound(format!("tree node ({level}, {index}) of {}", self.ledger))
            })?
            .get(0),
        )
    }
}

fn size_of(tx: &mut Transaction<'_>, ledger: &str) -> Result<u64, StoreError> {
    let row = tx
        .query_opt("SELECT size FROM ledgers WHERE ledger = $1", &[&ledger])
        .map_err(db)?;
    let row = row.ok_or_else(|| StoreError::NotFound(format!("ledger {ledger}")))?;
    Ok(u64::try_from(row.get::<_, i64>(0)).unwrap_or(0))
}

impl LedgerStore for PostgresStore {
    fn append(&self, ledger: &str, submission: Submission) -> Result<Receipt, StoreError> {
        self.submit(ledger, submission)?.wait()
    }

    fn ledgers(&self) -> Result<Vec<String>, StoreError> {
        self.with_reader(|tx| {
            let rows = tx
                .query(
                    "SELECT ledger FROM ledgers WHERE size > 0 ORDER BY ledger",
                    &[],
                )
                .map_err(db)?;
            Ok(rows.iter().map(|r| r.get(0)).collect())
        })
    }

    fn head(&self, ledger: &str) -> Result<TreeHead, StoreError> {
        self.with_reader(|tx| read_head(tx, ledger, None))
    }

    fn head_at(&self, ledger: &str, tree_size: u64) -> Result<TreeHead, StoreError> {
        self.with_reader(|tx| read_head(tx, ledger, Some(tree_size)))
    }

    fn entry(&self, ledger: &str, seq: u64) -> Result<(Entry, Hash), StoreError> {
        self.with_reader(|tx| {
            let row = tx
                .query_opt(
                    "SELECT body, leaf FROM entries WHERE ledger = $1 AND seq = $2",
                    &[&ledger, &as_i64(seq)],
                )
                .map_err(db)?
                .ok_or_else(|| StoreError::NotFound(format!("entry {seq} of ledger {ledger}")))?;
            let body: Vec<u8> = row.get(0);
            let entry =
                Entry::decode(&body).map_err(|e| common::corrupt(ledger, seq, e.to_string()))?;
            Ok((entry, hash_from(row.get(1))?))
        })
    }

    fn seq_of(&self, ledger: &str, submission_id: &str) -> Result<Option<u64>, StoreError> {
        self.with_reader(|tx| {
            let row = tx
                .query_opt(
                    "SELECT seq FROM entries WHERE ledger = $1 AND submission_id = $2",
                    &[&ledger, &submission_id],
                )
                .map_err(db)?;
            row.map(|row| {
                u64::try_from(row.get::<_, i64>(0))
                    .map_err(|_| common::corrupt(ledger, 0, "negative sequence number"))
            })
            .transpose()
        })
    }

    fn inclusion_proof(
        &self,
        ledger: &str,
        seq: u64,
        tree_size: u64,
    ) -> Result<InclusionProof, StoreError> {
        self.with_reader(|tx| {
            let size = size_of(tx, ledger)?;
            common::inclusion_bounds(seq, tree_size, size)?;
            let nodes = PgNodes {
                tx: std::cell::RefCell::new(tx),
                ledger,
            };
            merkle::inclusion_proof(&nodes, self.options.hash_algorithm, seq, tree_size)
        })
    }

    fn consistency_proof(
        &self,
        ledger: &str,
        first: u64,
        second: u64,
    ) -> Result<ConsistencyProof, StoreError> {
        self.with_reader(|tx| {
            let size = size_of(tx, ledger)?;
            common::consistency_bounds(first, second, size)?;
            let nodes = PgNodes {
                tx: std::cell::RefCell::new(tx),
                ledger,
            };
            merkle::consistency_proof(&nodes, self.options.hash_algorithm, first, second)
        })
    }

    fn verify(&self, ledger: &str) -> Result<VerifyReport, StoreError> {
        self.with_reader(|tx| verify_ledger(tx, &self.options, ledger))
    }

    fn query(
        &self,
        statement: &crate::projection::Statement,
    ) -> Result<Vec<Vec<crate::projection::Value>>, StoreError> {
        use crate::projection::Value;
        use postgres::types::Type;
        let params = pg_params(&statement.params);
        let refs: Vec<&(dyn postgres::types::ToSql + Sync)> =
            params.iter().map(|p| p.as_ref()).collect();
        let sql = crate::projection::to_postgres_placeholders(&statement.sql);
        self.with_reader(|tx| {
            let rows = tx.query(sql.as_str(), &refs).map_err(db)?;
            rows.iter()
                .map(|row| {
                    row.columns()
                        .iter()
                        .enumerate()
                        .map(|(i, column)| {
                            let ty = column.type_();
                            let value = if *ty == Type::INT8 {
                                row.try_get::<_, Option<i64>>(i)
                                    .map(|v| v.map(Value::Integer))
                            } else if *ty == Type::INT4 {
                                row.try_get::<_, Option<i32>>(i)
                                    .map(|v| v.map(|n| Value::Integer(n.into())))
                            } else if *ty == Type::BYTEA {
                                row.try_get::<_, Option<Vec<u8>>>(i)
                                    .map(|v| v.map(Value::Blob))
                            } else {
                                row.try_get::<_, Option<String>>(i)
                                    .map(|v| v.map(Value::Text))
                            };
                            value.map(|v| v.unwrap_or(Value::Null)).map_err(db)
                        })
                        .collect()
                })
                .collect()
        })
    }
}

fn verify_ledger(
    tx: &mut Transaction<'_>,
    options: &Options,
    ledger: &str,
) -> Result<VerifyReport, StoreError> {
    let heads: Vec<(u64, String)> = tx
        .query(
            "SELECT tree_size, head FROM heads WHERE ledger = $1",
            &[&ledger],
        )
        .map_err(db)?
        .iter()
        .map(|r| (u64::try_from(r.get::<_, i64>(0)).unwrap_or(0), r.get(1)))
        .collect();
    let mut audit = common::Audit::new(options, ledger, heads, false);
    // Two cursors read side by side in chunks, so memory stays bounded at any ledger size:
    // entries in sequence order, and interior nodes in the order the audit asks for them
    // (by the sequence number that completes each, then by level).
    let entries = tx
        .bind(
            "SELECT seq, body, leaf FROM entries WHERE ledger = $1 ORDER BY seq",
            &[&ledger],
        )
        .map_err(db)?;
    let nodes = tx
        .bind(
            "SELECT level, idx, hash FROM nodes WHERE ledger = $1
             ORDER BY (idx + 1) * (1::bigint << level) - 1, level",
            &[&ledger],
        )
        .map_err(db)?;
    let mut pending: std::collections::VecDeque<((u8, u64), Hash)> =
        std::collections::VecDeque::new();
    let mut nodes_done = false;
    loop {
        let chunk = tx.query_portal(&entries, CURSOR_CHUNK).map_err(db)?;
        if chunk.is_empty() {
            break;
        }
        for row in chunk {
            let seq = u64::try_from(row.get::<_, i64>(0)).unwrap_or(u64::MAX);
            let body: Vec<u8> = row.get(1);
            audit.entry(seq, &body, hash_from(row.get(2))?, |level, index| {
                if pending.is_empty() && !nodes_done {
                    let rows = tx.query_portal(&nodes, CURSOR_CHUNK).map_err(db)?;
                    nodes_done = rows.is_empty();
                    for row in rows {
                        let level = u8::try_from(row.get::<_, i16>(0)).unwrap_or(u8::MAX);
                        let index = u64::try_from(row.get::<_, i64>(1)).unwrap_or(u64::MAX);
                        pending.push_back(((level, index), hash_from(row.get(2))?));
                    }
                }
                // The next stored node must be the one asked for; anything else (missing,
                // extra, out of place) is reported by the audit as a bad node.
                match pending.pop_front() {
                    Some((key, hash)) if key == (level, index) => Ok(Some(hash)),
                    _ => Ok(None),
                }
            })?;
        }
    }
    audit.finish(size_of(tx, ledger)?)
}

/// Rows fetched per round trip when streaming a whole ledger.
const CURSOR_CHUNK: i32 = 10_000;

/// Creates an empty database `name` on the server `url` reaches (which must name a database
/// it can connect to, such as `postgres`) and returns the connection string for it. For
/// benchmarks and operators setting up a new ledger store.
pub fn create_database(url: &str, name: &str) -> Result<String, StoreError> {
    if !name
        .bytes()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return Err(StoreError::Database(format!(
            "database name {name:?} must be [a-z0-9_]"
        )));
    }
    let mut admin = connect(url)?;
    admin
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .map_err(db)?;
    Ok(format!("{url} dbname={name}"))
}
