//! The storage contract, run against every backend. PostgreSQL joins when `JINGUAN_PG_URL`
//! names a server (CI starts one).

#![allow(clippy::unwrap_used)] // A panic in a test is a test failure with its message.

use std::collections::HashMap;
use std::collections::HashSet;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::Arc;

use jinguan_crypto::{Algorithm, SigningKey, DEFAULT_DISTID};
use jinguan_ledger::{verify_entry_in_head, verify_heads_consistent, Submission};
use jinguan_store::postgres::PostgresStore;
use jinguan_store::sqlite::SqliteStore;
use jinguan_store::{Clock, FailurePoint, LedgerStore, Options, Status, StoreError};

/// A clock that ticks one millisecond per reading, from a fixed start.
struct TickClock(AtomicI64);

impl Clock for TickClock {
    fn now_ms(&self) -> i64 {
        self.0.fetch_add(1, Ordering::Relaxed)
    }
}

fn options(key_pem: &str) -> Options {
    let mut options = Options::new(SigningKey::from_pem(key_pem, DEFAULT_DISTID).unwrap());
    options.clock = Arc::new(TickClock(AtomicI64::new(1_790_000_000_000)));
    options
}

fn submission(id: &str, payload: &str) -> Submission {
    Submission {
        kind: "test.fact".into(),
        schema_version: 1,
        submitter: "91440300MA5FHK4H1F".into(),
        submission_id: id.into(),
        payload: payload.as_bytes().to_vec(),
        submitter_signature: None,
    }
}

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("jinguan-store-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn db(&self) -> PathBuf {
        self.0.join("ledger.db")
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn key() -> String {
    SigningKey::generate(Algorithm::Sm2Sm3, DEFAULT_DISTID)
        .unwrap()
        .to_pem()
}

/// One place to store a ledger, reopenable: a SQLite file or a fresh PostgreSQL database.
enum Backend {
    Sqlite(TempDir),
    Postgres { url: String },
}

impl Backend {
    fn sqlite(name: &str) -> Self {
        Self::Sqlite(TempDir::new(name))
    }

    /// A fresh database on the server named by `JINGUAN_PG_URL`; `None` (with a note) when
    /// unset, unless `JINGUAN_REQUIRE_PG=1` makes that a failure.
    fn postgres(name: &str) -> Option<Self> {
        let Ok(base) = std::env::var("JINGUAN_PG_URL") else {
            assert!(
                std::env::var("JINGUAN_REQUIRE_PG").is_err(),
                "JINGUAN_REQUIRE_PG set but JINGUAN_PG_URL is not"
            );
            eprintln!("SKIP: JINGUAN_PG_URL not set; PostgreSQL contract tests not run");
            return None;
        };
        let database = format!("jg_{name}_{}", std::process::id());
        let mut admin = postgres::Client::connect(&base, postgres::NoTls).unwrap();
        admin
            .batch_execute(&format!("DROP DATABASE IF EXISTS {database}"))
            .unwrap();
        admin
            .batch_execute(&format!("CREATE DATABASE {database}"))
            .unwrap();
        Some(Self::Postgres {
            url: format!("{base} dbname={database}"),
        })
    }

    fn open(&self, options: Options) -> Result<Box<dyn LedgerStore>, StoreError> {
        Ok(match self {
            Self::Sqlite(dir) => Box::new(SqliteStore::open(&dir.db(), options)?),
            Self::Postgres { url } => Box::new(PostgresStore::open(url, options)?),
        })
    }
}

/// Runs a contract test on SQLite and, where a server is configured, on PostgreSQL.
macro_rules! contract {
    ($name:ident) => {
        mod $name {
            #[test]
            fn sqlite() {
                super::$name(&super::Backend::sqlite(stringify!($name)));
            }

            #[test]
            fn postgres() {
                if let Some(backend) = super::Backend::postgres(stringify!($name)) {
                    super::$name(&backend);
                }
            }
        }
    };
}

contract!(appended_entries_prove_against_signed_heads);
contract!(same_submission_returns_the_original_receipt_and_other_content_conflicts);
contract!(eight_concurrent_identical_submissions_create_one_entry);
contract!(concurrent_appends_are_contiguous_and_survive_reopening);
contract!(a_failed_commit_stops_the_writer_and_loses_nothing_acknowledged);

fn appended_entries_prove_against_signed_heads(backend: &Backend) {
    let pem = key();
    let store = backend.open(options(&pem)).unwrap();
    let mut receipts = Vec::new();
    for i in 0..40 {
        let ledger = if i % 3 == 0 {
            "customs-5300"
        } else {
            "customs-2200"
        };
        receipts.push(
            store
                .append(
                    ledger,
                    submission(&format!("s{i}"), &format!("payload {i}")),
                )
                .unwrap(),
        );
    }
    let public = SigningKey::from_pem(&pem, DEFAULT_DISTID)
        .unwrap()
        .verifying_key();
    for receipt in &receipts {
        assert_eq!(receipt.status, Status::Created);
        let head = store.head_at(&receipt.ledger, receipt.tree_size).unwrap();
        let (entry, leaf) = store.entry(&receipt.ledger, receipt.seq).unwrap();
        assert_eq!(leaf, receipt.leaf_hash);
        let proof = store
            .inclusion_proof(&receipt.ledger, receipt.seq, head.tree_size)
            .unwrap();
        verify_entry_in_head(&entry, &proof, &head, &public).unwrap();
    }
    let latest = store.head("customs-2200").unwrap();
    assert_eq!(latest.tree_size, 26);
    let early = store
        .head_at("customs-2200", receipts[1].tree_size)
        .unwrap();
    let consistency = store
        .consistency_proof("customs-2200", early.tree_size, latest.tree_size)
        .unwrap();
    verify_heads_consistent(&early, &latest, &consistency, &public).unwrap();
    assert_eq!(store.ledgers().unwrap(), ["customs-2200", "customs-5300"]);
    assert_eq!(store.verify("customs-5300").unwrap().entries, 14);
}

fn same_submission_returns_the_original_receipt_and_other_content_conflicts(backend: &Backend) {
    let store = backend.open(options(&key())).unwrap();
    let first = store.append("l", submission("abc", "one")).unwrap();
    store.append("l", submission("other", "x")).unwrap();
    let again = store.append("l", submission("abc", "one")).unwrap();
    assert_eq!(
        (again.seq, again.leaf_hash, again.status),
        (first.seq, first.leaf_hash, Status::Exists)
    );
    match store.append("l", submission("abc", "two")) {
        Err(StoreError::Conflict { seq, .. }) => assert_eq!(seq, first.seq),
        other => panic!("expected a conflict, got {other:?}"),
    }
    assert_eq!(
        store.head("l").unwrap().tree_size,
        2,
        "nothing appended by the retry or the conflict"
    );
    // The idempotency index answers by submission id, per ledger.
    assert_eq!(store.seq_of("l", "abc").unwrap(), Some(first.seq));
    assert_eq!(store.seq_of("l", "other").unwrap(), Some(1));
    assert_eq!(store.seq_of("l", "never").unwrap(), None);
    assert_eq!(store.seq_of("no such ledger", "abc").unwrap(), None);
}

/// Retries of stored submissions arriving among new ones, from several threads at once, so
/// that group commits mix them: every id keeps one sequence number and leaf, and the ledger
/// holds each id once.
fn retries_mixed_with_new_submissions_keep_one_entry_per_id(backend: &Backend) {
    let pem = key();
    let store: Arc<dyn LedgerStore> = Arc::from(backend.open(options(&pem)).unwrap());
    let receipts: Vec<Vec<(String, u64, jinguan_ledger::Hash, Status)>> =
        std::thread::scope(|scope| {
            let handles: Vec<_> = (0..4)
                .map(|t| {
                    let store = store.clone();
                    scope.spawn(move || {
                        let mut seen = Vec::new();
                        for i in 0..150 {
                            // Every third submission repeats one this thread stored earlier,
                            // or one another thread may have stored by now.
                            let id = if i % 3 == 2 {
                                format!("t{}-{}", (t + i) % 4, i / 2)
                            } else {
                                format!("t{t}-{i}")
                            };
                            let r = store.append("l", submission(&id, &id)).unwrap();
                            seen.push((id, r.seq, r.leaf_hash, r.status));
                        }
                        seen
                    })
                })
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
    let mut by_id: HashMap<String, (u64, jinguan_ledger::Hash)> = HashMap::new();
    let mut created = 0;
    for (id, seq, leaf, status) in receipts.into_iter().flatten() {
        created += usize::from(status == Status::Created);
        let first = *by_id.entry(id.clone()).or_insert((seq, leaf));
        assert_eq!(first, (seq, leaf), "{id} answered with two entries");
    }
    assert_eq!(created, by_id.len(), "one created receipt per id");
    let report = store.verify("l").unwrap();
    assert_eq!(report.entries, by_id.len() as u64);
    let mut seqs: Vec<u64> = by_id.values().map(|(seq, _)| *seq).collect();
    seqs.sort_unstable();
    assert_eq!(seqs, (0..by_id.len() as u64).collect::<Vec<_>>());
}

contract!(retries_mixed_with_new_submissions_keep_one_entry_per_id);

fn eight_concurrent_identical_submissions_create_one_entry(backend: &Backend) {
    let store: Arc<dyn LedgerStore> = Arc::from(backend.open(options(&key())).unwrap());
    for round in 0..20 {
        let id = format!("same-{round}");
        let statuses: Vec<Status> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|_| {
                    let store = store.clone();
                    let id = id.clone();
                    scope.spawn(move || store.append("l", submission(&id, "identical")).unwrap())
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap().status)
                .collect()
        });
        assert_eq!(
            statuses.iter().filter(|s| **s == Status::Created).count(),
            1,
            "round {round}: {statuses:?}"
        );
        assert_eq!(statuses.iter().filter(|s| **s == Status::Exists).count(), 7);
    }
    assert_eq!(store.head("l").unwrap().tree_size, 20);
}

fn concurrent_appends_are_contiguous_and_survive_reopening(backend: &Backend) {
    let pem = key();
    {
        let store: Arc<dyn LedgerStore> = Arc::from(backend.open(options(&pem)).unwrap());
        std::thread::scope(|scope| {
            for t in 0..8 {
                let store = store.clone();
                scope.spawn(move || {
                    for i in 0..250 {
                        let ledger = ["a", "b", "c"][(t + i) % 3];
                        store
                            .append(
                                ledger,
                                submission(&format!("t{t}-{i}"), &format!("{t}/{i}")),
                            )
                            .unwrap();
                    }
                });
            }
        });
    }
    let store = backend.open(options(&pem)).unwrap();
    let mut total = 0;
    for ledger in ["a", "b", "c"] {
        let report = store.verify(ledger).unwrap();
        total += report.entries;
        let mut ids = HashSet::new();
        for seq in 0..report.entries {
            assert!(ids.insert(store.entry(ledger, seq).unwrap().0.submission_id));
        }
    }
    assert_eq!(total, 2000);
    // Appending continues from the reloaded edge.
    let next = store.append("a", submission("after-reopen", "x")).unwrap();
    assert_eq!(store.verify("a").unwrap().entries, next.seq + 1);
}

fn a_failed_commit_stops_the_writer_and_loses_nothing_acknowledged(backend: &Backend) {
    let pem = key();
    let fire = Arc::new(AtomicBool::new(false));
    let mut failing = options(&pem);
    let trigger = fire.clone();
    failing.failure_hook = Some(Arc::new(move |point| {
        point == FailurePoint::Commit && trigger.load(Ordering::SeqCst)
    }));
    let acknowledged = {
        let store = backend.open(failing).unwrap();
        let acknowledged: Vec<_> = (0..10)
            .map(|i| {
                store
                    .append("l", submission(&format!("ok{i}"), "x"))
                    .unwrap()
            })
            .collect();
        fire.store(true, Ordering::SeqCst);
        assert!(matches!(
            store.append("l", submission("lost", "x")),
            Err(StoreError::Stopped(_))
        ));
        fire.store(false, Ordering::SeqCst);
        // Even with the fault gone, this process acknowledges nothing more.
        assert!(matches!(
            store.append("l", submission("later", "x")),
            Err(StoreError::Stopped(_))
        ));
        acknowledged
    };
    let store = backend.open(options(&pem)).unwrap();
    let report = store.verify("l").unwrap();
    assert_eq!(report.entries, 10);
    for receipt in acknowledged {
        assert_eq!(store.entry("l", receipt.seq).unwrap().1, receipt.leaf_hash);
    }
}

#[test]
fn tampering_is_named_by_verify_and_refused_on_open() {
    let dir = TempDir::new("t4");
    let pem = key();
    {
        let store = SqliteStore::open(&dir.db(), options(&pem)).unwrap();
        for i in 0..30 {
            store
                .append(
                    "l",
                    submission(&format!("s{i}"), &format!("PAYLOAD-{i:06}-MARKER")),
                )
                .unwrap();
        }
    }
    // Flip one byte of entry 17's payload inside the database file itself.
    flip_payload(&dir.db(), 17, 3);
    verify_names(&dir.db(), &pem, 17);
    // The last entry altered: read-write start is refused, naming it.
    flip_payload(&dir.db(), 29, 8);
    match SqliteStore::open(&dir.db(), options(&pem)) {
        Err(StoreError::Corrupt(error)) => assert_eq!(error.seq, 29, "{error}"),
        Err(other) => panic!("expected corruption at 29, got {other}"),
        Ok(_) => panic!("a corrupt store opened read-write"),
    }
}

#[test]
fn a_packed_entry_tampered_with_is_named_by_verify() {
    // Payloads like a message's: long and repetitive, so the embedded store packs them. The
    // marker is the first thing in each and stays legible in the packed form.
    let dir = TempDir::new("t4packed");
    let pem = key();
    let filler =
        "<ceb:InventoryReturn><ceb:returnStatus>800</ceb:returnStatus></ceb:InventoryReturn>";
    {
        let store = SqliteStore::open(&dir.db(), options(&pem)).unwrap();
        for i in 0..30 {
            let payload = format!("PAYLOAD-{i:06}-MARKER{}", filler.repeat(100));
            store
                .append("l", submission(&format!("s{i}"), &payload))
                .unwrap();
        }
        // What is stored is several times smaller than the entries, and reads back whole.
        let (entry, _) = store.entry("l", 12).unwrap();
        assert!(entry.payload.ends_with(filler.as_bytes()));
    }
    let size = std::fs::metadata(dir.db()).unwrap().len()
        + std::fs::metadata(dir.db().with_extension("db-wal")).map_or(0, |m| m.len());
    assert!(
        size < 30 * filler.len() as u64 * 100,
        "{size} bytes on disk"
    );
    // A byte of the text changed: the entry unpacks, its hash does not match.
    flip_payload(&dir.db(), 17, 3);
    verify_names(&dir.db(), &pem, 17);
    // The packed form's own length changed: the entry does not even unpack; it is named
    // all the same, by verify and when read.
    let mut bytes = std::fs::read(dir.db()).unwrap();
    let marker = b"PAYLOAD-000005-MARKER";
    let mut changed = 0;
    for at in 0..bytes.len().saturating_sub(marker.len()) {
        if &bytes[at..at + marker.len()] == marker {
            let start = (0..at)
                .rev()
                .find(|&k| bytes[k..].starts_with(b"JGZ1"))
                .unwrap();
            bytes[start + 7] ^= 0x01;
            changed += 1;
        }
    }
    assert!(changed > 0);
    std::fs::write(dir.db(), &bytes).unwrap();
    verify_names(&dir.db(), &pem, 5);
    let read_only = SqliteStore::open_read_only(&dir.db(), options(&pem)).unwrap();
    match read_only.entry("l", 5) {
        Err(StoreError::Corrupt(error)) => {
            assert_eq!(error.seq, 5, "{error}");
            assert!(error.reason.contains("packed entry"), "{error}");
        }
        other => panic!(
            "expected corruption at 5, got {:?}",
            other.map(|(e, _)| e.seq)
        ),
    }
    assert!(read_only.entry("l", 6).is_ok());
}

/// Asserts that `verify`, on the store read-only, names entry `seq` of ledger `l` as corrupt.
fn verify_names(db: &std::path::Path, pem: &str, seq: u64) {
    let read_only = SqliteStore::open_read_only(db, options(pem)).unwrap();
    match read_only.verify("l") {
        Err(StoreError::Corrupt(error)) => assert_eq!(error.seq, seq, "{error}"),
        other => panic!("expected corruption at {seq}, got {other:?}"),
    }
}

/// Flips one bit of entry `seq`'s payload wherever the database file holds it (B-tree
/// page splits can leave stale copies in free pages), as a failing disk or an intruder might.
fn flip_payload(db: &std::path::Path, seq: u64, offset: usize) {
    let mut bytes = std::fs::read(db).unwrap();
    let marker = format!("PAYLOAD-{seq:06}-MARKER");
    let places: Vec<usize> = bytes
        .windows(marker.len())
        .enumerate()
        .filter(|(_, w)| *w == marker.as_bytes())
        .map(|(i, _)| i)
        .collect();
    assert!(!places.is_empty(), "payload {seq} is in the main file");
    for at in places {
        bytes[at + offset] ^= 0x01;
    }
    std::fs::write(db, &bytes).unwrap();
}

#[test]
fn postgres_several_writers_share_one_ledger() {
    // Two stores are two writers with their own connections and cached edges, as two
    // processes would be; PostgreSQL sees no difference.
    let Some(backend) = Backend::postgres("multiwriter") else {
        return;
    };
    let pem = key();
    let writers: Vec<Arc<dyn LedgerStore>> = (0..3)
        .map(|_| Arc::from(backend.open(options(&pem)).unwrap()))
        .collect();
    std::thread::scope(|scope| {
        for (w, store) in writers.iter().enumerate() {
            for t in 0..3 {
                let store = store.clone();
                scope.spawn(move || {
                    for i in 0..60 {
                        store
                            .append("shared", submission(&format!("w{w}-t{t}-{i}"), "x"))
                            .unwrap();
                    }
                });
            }
        }
    });
    let report = writers[0].verify("shared").unwrap();
    assert_eq!(report.entries, 3 * 3 * 60);
    let mut ids = HashSet::new();
    for seq in 0..report.entries {
        assert!(ids.insert(writers[1].entry("shared", seq).unwrap().0.submission_id));
    }
    drop(writers);
    // A fresh writer continues the same chain.
    let store = backend.open(options(&pem)).unwrap();
    assert_eq!(
        store.append("shared", submission("last", "x")).unwrap().seq,
        540
    );
    store.verify("shared").unwrap();
}

/// A projection as a domain module would write one: per ledger and kind, how many entries
/// and the last sequence number.
struct KindCounts;

impl jinguan_store::projection::Projection for KindCounts {
    fn name(&self) -> &str {
        "kind_counts"
    }

    fn create(&self, dialect: jinguan_store::projection::Dialect) -> Vec<String> {
        vec![format!(
            "CREATE TABLE IF NOT EXISTS kind_counts (ledger TEXT NOT NULL, kind TEXT NOT NULL, entries BIGINT NOT NULL, last_seq BIGINT NOT NULL, PRIMARY KEY (ledger, kind)){}",
            dialect.clustered()
        )]
    }

    fn reset(&self) -> Vec<String> {
        vec!["DELETE FROM kind_counts".into()]
    }

    fn apply(&self, entry: &jinguan_ledger::Entry) -> Vec<jinguan_store::projection::Statement> {
        use jinguan_store::projection::{Statement, Value};
        vec![Statement::new(
            "INSERT INTO kind_counts (ledger, kind, entries, last_seq) VALUES (?1, ?2, 1, ?3)
             ON CONFLICT (ledger, kind) DO UPDATE SET entries = kind_counts.entries + 1, last_seq = excluded.last_seq",
            vec![Value::Text(entry.ledger.clone()), Value::Text(entry.kind.clone()), Value::Integer(entry.seq as i64)],
        )]
    }
}

fn kind_counts(backend: &Backend) -> Vec<(String, String, i64, i64)> {
    let sql = "SELECT ledger, kind, entries, last_seq FROM kind_counts ORDER BY ledger, kind";
    match backend {
        Backend::Sqlite(dir) => {
            let conn = rusqlite::Connection::open(dir.db()).unwrap();
            let mut statement = conn.prepare(sql).unwrap();
            let rows = statement
                .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
                .unwrap();
            rows.map(|r| r.unwrap()).collect()
        }
        Backend::Postgres { url } => {
            let mut client = postgres::Client::connect(url, postgres::NoTls).unwrap();
            client
                .query(sql, &[])
                .unwrap()
                .iter()
                .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
                .collect()
        }
    }
}

fn projections_follow_appends_and_replay_to_the_same_rows(backend: &Backend) {
    let pem = key();
    let mut opts = options(&pem);
    opts.projections = vec![Arc::new(KindCounts)];
    let store = backend.open(opts.clone()).unwrap();
    for i in 0..120u64 {
        let mut s = submission(&format!("p{i}"), "x");
        s.kind = [
            "declaration.submitted",
            "declaration.accepted",
            "licence.issued",
        ][(i % 3) as usize]
            .into();
        store
            .append(["customs-5300", "customs-2200"][(i % 2) as usize], s)
            .unwrap();
    }
    // A repeat and a conflict change nothing in the projection.
    store
        .append("customs-5300", {
            let mut s = submission("p0", "x");
            s.kind = "declaration.submitted".into();
            s
        })
        .unwrap();
    let live = kind_counts(backend);
    assert_eq!(live.iter().map(|r| r.2).sum::<i64>(), 120);
    drop(store);
    let replayed = match backend {
        Backend::Sqlite(dir) => SqliteStore::open(&dir.db(), opts)
            .unwrap()
            .rebuild_projection("kind_counts")
            .unwrap(),
        Backend::Postgres { url } => PostgresStore::open(url, opts)
            .unwrap()
            .rebuild_projection("kind_counts")
            .unwrap(),
    };
    assert_eq!(replayed, 120);
    assert_eq!(
        kind_counts(backend),
        live,
        "replaying the ledger rebuilds the same projection"
    );
}

contract!(projections_follow_appends_and_replay_to_the_same_rows);

/// Overwrites one stored interior node, as a disk error or an intruder might.
fn zero_node(backend: &Backend, level: i64, index: i64) {
    match backend {
        Backend::Sqlite(dir) => {
            // SQLite keeps nodes in tiles of 30, in the order appends complete them: node
            // (1, 1) is the sixth hash of tile (0, 0), after leaves 0 and 1, node (1, 0) and
            // leaves 2 and 3.
            assert_eq!(
                (level, index),
                (1, 1),
                "only this node's place is worked out"
            );
            let conn = rusqlite::Connection::open(dir.db()).unwrap();
            let changed = conn
                .execute(
                    "UPDATE tiles SET hashes = CAST(substr(hashes, 1, 160) || zeroblob(32) || substr(hashes, 193) AS BLOB)
                     WHERE level = 0 AND idx = 0",
                    [],
                )
                .unwrap();
            assert_eq!(changed, 1);
        }
        Backend::Postgres { url } => {
            let mut client = postgres::Client::connect(url, postgres::NoTls).unwrap();
            let changed = client
                .execute("UPDATE nodes SET hash = '\\x0000000000000000000000000000000000000000000000000000000000000000' WHERE level = $1 AND idx = $2", &[&(level as i16), &index])
                .unwrap();
            assert_eq!(changed, 1);
        }
    }
}

fn verify_names_an_altered_tree_node(backend: &Backend) {
    let pem = key();
    {
        let store = backend.open(options(&pem)).unwrap();
        for i in 0..20 {
            store
                .append("l", submission(&format!("s{i}"), "x"))
                .unwrap();
        }
    }
    // Node (1, 1) covers entries 2 and 3; no head's root is computed through it directly.
    zero_node(backend, 1, 1);
    let store = backend.open(options(&pem)).unwrap();
    match store.verify("l") {
        Err(StoreError::Corrupt(error)) => assert_eq!(error.seq, 3, "{error}"),
        other => panic!("expected the node to be found, got {other:?}"),
    }
}

contract!(verify_names_an_altered_tree_node);

contract!(every_acknowledged_append_proves_at_once_under_load);

/// What a receipt promises, at once and under load: the head of its size and the entry's
/// inclusion proof can be read back the moment the append is acknowledged, while other
/// threads keep appending (the tree grows past several tile boundaries meanwhile).
fn every_acknowledged_append_proves_at_once_under_load(backend: &Backend) {
    let pem = key();
    let public = SigningKey::from_pem(&pem, DEFAULT_DISTID)
        .unwrap()
        .verifying_key();
    let store: Arc<dyn LedgerStore> = Arc::from(backend.open(options(&pem)).unwrap());
    let failures = std::sync::Mutex::new(Vec::new());
    std::thread::scope(|scope| {
        for t in 0..16 {
            let (store, failures, public) = (store.clone(), &failures, &public);
            scope.spawn(move || {
                for i in 0..160 {
                    let ledger = ["p", "q"][(t + i) % 2];
                    let receipt = store
                        .append(
                            ledger,
                            submission(&format!("t{t}-{i}"), &format!("{t}/{i}")),
                        )
                        .unwrap();
                    let proven = store.head_at(ledger, receipt.tree_size).and_then(|head| {
                        store
                            .inclusion_proof(ledger, receipt.seq, receipt.tree_size)
                            .map(|proof| (head, proof))
                    });
                    match proven {
                        Ok((head, proof)) => {
                            let (entry, _) = store.entry(ledger, receipt.seq).unwrap();
                            verify_entry_in_head(&entry, &proof, &head, public).unwrap();
                        }
                        Err(e) => failures.lock().unwrap().push(format!(
                            "{ledger} seq {} size {}: {e}; again: {:?}",
                            receipt.seq,
                            receipt.tree_size,
                            store
                                .inclusion_proof(ledger, receipt.seq, receipt.tree_size)
                                .map(|_| "proves")
                        )),
                    }
                }
            });
        }
    });
    let failures = failures.into_inner().unwrap();
    assert!(
        failures.is_empty(),
        "{} failed: {:?}",
        failures.len(),
        &failures[..failures.len().min(5)]
    );
}
