//! Storage for the electronic ledger: one contract ([`LedgerStore`]), an embedded SQLite
//! backend ([`sqlite::SqliteStore`], the default) and, for scale-out, PostgreSQL.
//!
//! The contract, which the shared test suite holds every backend to:
//! - [`LedgerStore::append`] returns only after the entry, its tree nodes and a signed tree
//!   head covering it are durably committed;
//! - the same submission id with the same content returns the original receipt with status
//!   `exists`; with other content it is [`StoreError::Conflict`];
//! - sequence numbers per ledger are contiguous from 0 and never reused;
//! - after a failed write the store is stopped: every later append fails with
//!   [`StoreError::Stopped`] and nothing more is acknowledged (fail-stop);
//! - a store whose last signed head does not match its data refuses to open read-write and
//!   names the first bad sequence number.
//!
//! Principal types: [`LedgerStore`], [`Receipt`], [`StoreError`], [`Clock`], [`Options`].

mod common;
mod frontier;
mod packed;
pub mod postgres;
pub mod projection;
pub mod sqlite;
mod tile;

use std::sync::Arc;

use jinguan_crypto::{HashAlgorithm, Signer};
use jinguan_ledger::{ConsistencyProof, Entry, Hash, InclusionProof, Submission, TreeHead};
use serde_json::json;

/// Where time comes from. Injected so tests and replays are deterministic.
pub trait Clock: Send + Sync {
    /// Milliseconds since the Unix epoch.
    fn now_ms(&self) -> i64;
}

/// The system clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now_ms(&self) -> i64 {
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
        now.map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
    }
}

/// Whether an append created an entry or found the original.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// A new entry was appended.
    Created,
    /// The same submission was appended before; this is its original receipt.
    Exists,
}

/// What an acknowledged append returns.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Receipt {
    /// The ledger.
    pub ledger: String,
    /// The entry's sequence number.
    pub seq: u64,
    /// The entry's leaf hash.
    pub leaf_hash: Hash,
    /// Size of the signed head that covers the entry (ask for proofs against it).
    pub tree_size: u64,
    /// Created or exists.
    pub status: Status,
}

impl Receipt {
    /// The JSON form printed by `jinguan ledger append`.
    pub fn to_json(&self) -> serde_json::Value {
        json!({
            "ledger": self.ledger,
            "seq": self.seq,
            "leaf_hash": self.leaf_hash,
            "tree_size": self.tree_size,
            "status": self.status,
        })
    }
}

/// Storage failures and refusals. Codes are stable API.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The submission itself is not acceptable (bounds, ledger id).
    #[error(transparent)]
    Rejected(#[from] jinguan_ledger::Rejection),
    /// The submission id was used before with other content.
    #[error("S0001: submission id {submission_id:?} already used in ledger {ledger} with other content (seq {seq})")]
    Conflict {
        /// The ledger.
        ledger: String,
        /// The id.
        submission_id: String,
        /// The original entry.
        seq: u64,
    },
    /// An earlier write failed; this process acknowledges nothing more.
    #[error("S0002: the ledger writer has stopped after a failed write: {0}")]
    Stopped(String),
    /// Stored data does not verify.
    #[error("S0003: {0}")]
    Corrupt(#[from] jinguan_ledger::ChainError),
    /// The database failed.
    #[error("S0004: database error: {0}")]
    Database(String),
    /// No such ledger, entry or head.
    #[error("S0005: not found: {0}")]
    NotFound(String),
    /// Opened read-only.
    #[error("S0006: the store is open read-only")]
    ReadOnly,
    /// A failure point fired (tests only).
    #[error("S0007: injected failure at {0}")]
    Injected(&'static str),
}

impl StoreError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Rejected(rejection) => rejection.code(),
            Self::Conflict { .. } => "S0001",
            Self::Stopped(_) => "S0002",
            Self::Corrupt(_) => "S0003",
            Self::Database(_) => "S0004",
            Self::NotFound(_) => "S0005",
            Self::ReadOnly => "S0006",
            Self::Injected(_) => "S0007",
        }
    }
}

/// The places on the commit path where tests can make a write fail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailurePoint {
    /// After the batch's rows are written, before commit.
    BeforeCommit,
    /// The commit (and its fsync) itself.
    Commit,
}

/// A test hook deciding whether a failure point fires.
pub type FailureHook = Arc<dyn Fn(FailurePoint) -> bool + Send + Sync>;

/// How to open a store.
#[derive(Clone)]
pub struct Options {
    /// Signs tree heads. A read-only store may have only the verifying key.
    pub signing_key: Option<Arc<dyn Signer>>,
    /// Verifies tree heads on open and in `verify`.
    pub verifying_key: jinguan_crypto::VerifyingKey,
    /// Leaf and node hash.
    pub hash_algorithm: HashAlgorithm,
    /// Time source for entries and heads.
    pub clock: Arc<dyn Clock>,
    /// Most submissions per group commit.
    pub max_batch: usize,
    /// Capacity of the writer's queue; submitters wait when it is full.
    pub queue_capacity: usize,
    /// Test-only failure injection.
    pub failure_hook: Option<FailureHook>,
    /// Query tables written in the same transaction as each append.
    pub projections: Vec<Arc<dyn projection::Projection>>,
    /// SQLite only: log pages (4 KiB) written since the last checkpoint that start the next,
    /// on the checkpointer thread (default 10,000: fewer, larger checkpoints copy a page
    /// rewritten by many commits once; 0 turns checkpoints off until the store closes).
    pub wal_autocheckpoint_pages: u32,
    /// SQLite only: the registered VFS (storage layer) to open files through; `None` is the
    /// platform's default. The durability tests name a fault-injecting one here.
    pub sqlite_vfs: Option<String>,
}

impl Options {
    /// Read-write options for a signer (a [`jinguan_crypto::SigningKey`], or an HSM's or a
    /// KMS's [`Signer`]), with the system clock and SM3.
    pub fn new(signing_key: impl Signer + 'static) -> Self {
        Self::with_signer(Arc::new(signing_key))
    }

    /// [`Options::new`] for a signer already shared (the platform's key signs receipts too).
    pub fn with_signer(signing_key: Arc<dyn Signer>) -> Self {
        let verifying_key = signing_key.verifying_key();
        Self {
            signing_key: Some(signing_key),
            ..Self::read_only(verifying_key)
        }
    }

    /// Read-only options: heads are checked with `verifying_key`; nothing can be signed.
    pub fn read_only(verifying_key: jinguan_crypto::VerifyingKey) -> Self {
        Self {
            signing_key: None,
            verifying_key,
            hash_algorithm: HashAlgorithm::Sm3,
            clock: Arc::new(SystemClock),
            max_batch: 4096,
            queue_capacity: 65_536,
            failure_hook: None,
            projections: Vec::new(),
            wal_autocheckpoint_pages: 10_000,
            sqlite_vfs: None,
        }
    }
}

/// What `verify` found.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct VerifyReport {
    /// The ledger.
    pub ledger: String,
    /// Entries checked.
    pub entries: u64,
    /// Signed heads checked.
    pub heads: u64,
    /// The root of the last signed head.
    pub root_hash: Hash,
}

/// Upper bounds (milliseconds) of the commit-time histogram buckets; a last bucket holds
/// the rest.
pub const COMMIT_BUCKETS_MS: [u64; 10] = [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000];

/// How long group commits take, from taking a batch to its durable commit, and how much of
/// that was the commit itself (the fsync). Shared by the writer and whoever reports it.
#[derive(Debug, Default)]
pub struct CommitTimes {
    buckets: [std::sync::atomic::AtomicU64; 11],
    count: std::sync::atomic::AtomicU64,
    entries: std::sync::atomic::AtomicU64,
    total_us: std::sync::atomic::AtomicU64,
    sync_us: std::sync::atomic::AtomicU64,
}

/// A reading of [`CommitTimes`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CommitReading {
    /// Commits per bucket of [`COMMIT_BUCKETS_MS`] (not cumulative), then those over the last.
    pub buckets: [u64; 11],
    /// Commits.
    pub count: u64,
    /// Entries they carried.
    pub entries: u64,
    /// Their total time, microseconds.
    pub total_us: u64,
    /// Of which in the commit itself, microseconds.
    pub sync_us: u64,
}

impl CommitTimes {
    /// Records one commit of `entries` entries.
    pub fn record(&self, entries: usize, total: std::time::Duration, sync: std::time::Duration) {
        use std::sync::atomic::Ordering::Relaxed;
        let ms = u64::try_from(total.as_millis()).unwrap_or(u64::MAX);
        let bucket = COMMIT_BUCKETS_MS
            .iter()
            .position(|bound| ms < *bound)
            .unwrap_or(COMMIT_BUCKETS_MS.len());
        self.buckets[bucket].fetch_add(1, Relaxed);
        self.count.fetch_add(1, Relaxed);
        self.entries.fetch_add(entries as u64, Relaxed);
        let us = |d: std::time::Duration| u64::try_from(d.as_micros()).unwrap_or(u64::MAX);
        self.total_us.fetch_add(us(total), Relaxed);
        self.sync_us.fetch_add(us(sync), Relaxed);
    }

    /// The counts so far.
    pub fn read(&self) -> CommitReading {
        use std::sync::atomic::Ordering::Relaxed;
        CommitReading {
            buckets: std::array::from_fn(|i| self.buckets[i].load(Relaxed)),
            count: self.count.load(Relaxed),
            entries: self.entries.load(Relaxed),
            total_us: self.total_us.load(Relaxed),
            sync_us: self.sync_us.load(Relaxed),
        }
    }
}

/// An append in flight: [`Pending::wait`] returns its receipt once it is durable.
pub struct Pending(std::sync::mpsc::Receiver<Result<Receipt, StoreError>>);

impl Pending {
    pub(crate) fn from_receiver(
        receiver: std::sync::mpsc::Receiver<Result<Receipt, StoreError>>,
    ) -> Self {
        Self(receiver)
    }

    /// Waits for the group commit that carries this append.
    pub fn wait(self) -> Result<Receipt, StoreError> {
        self.0
            .recv()
            .map_err(|_| StoreError::Stopped("the writer has exited".into()))?
    }
}

/// The storage contract every backend meets.
pub trait LedgerStore: Send + Sync {
    /// Appends durably, or returns the original receipt, or refuses.
    fn append(&self, ledger: &str, submission: Submission) -> Result<Receipt, StoreError>;
    /// The ledgers in this store.
    fn ledgers(&self) -> Result<Vec<String>, StoreError>;
    /// The latest signed head of a ledger.
    fn head(&self, ledger: &str) -> Result<TreeHead, StoreError>;
    /// The signed head at exactly `tree_size`, if one was signed.
    fn head_at(&self, ledger: &str, tree_size: u64) -> Result<TreeHead, StoreError>;
    /// An entry and its leaf hash.
    fn entry(&self, ledger: &str, seq: u64) -> Result<(Entry, Hash), StoreError>;
    /// The sequence number of the entry appended under `submission_id`, if there is one: the
    /// store's own idempotency index, so callers need no copy of it.
    fn seq_of(&self, ledger: &str, submission_id: &str) -> Result<Option<u64>, StoreError>;
    /// The inclusion proof of entry `seq` in the tree of `tree_size` entries.
    fn inclusion_proof(
        &self,
        ledger: &str,
        seq: u64,
        tree_size: u64,
    ) -> Result<InclusionProof, StoreError>;
    /// The consistency proof between two tree sizes.
    fn consistency_proof(
        &self,
        ledger: &str,
        first: u64,
        second: u64,
    ) -> Result<ConsistencyProof, StoreError>;
    /// Checks every entry, link, stored node and signed head of a ledger.
    fn verify(&self, ledger: &str) -> Result<VerifyReport, StoreError>;
    /// Reads projection tables: one portable `SELECT` (placeholders `?N`), its rows in one
    /// consistent snapshot that includes every acknowledged append. Columns must be
    /// integers (`BIGINT`), text or bytes.
    fn query(
        &self,
        statement: &projection::Statement,
    ) -> Result<Vec<Vec<projection::Value>>, StoreError>;
    /// Group-commit timings, where the backend keeps them.
    fn commit_times(&self) -> Option<CommitReading> {
        None
    }
    /// Whether this process is the only one appending to the store, so that what it has
    /// appended is all there is: true of the embedded store, whose writer keeps the ledgers'
    /// frontiers in memory and so cannot share the file; false where nodes share a
    /// database. A caller may then keep in memory what its own appends put in the tables.
    fn sole_writer(&self) -> bool {
        false
    }
}

/// Fires a failure point if the test hook says so.
pub(crate) fn fail_at(options: &Options, point: FailurePoint) -> Result<(), StoreError> {
    match &options.failure_hook {
        Some(hook) if hook(point) => Err(StoreError::Injected(match point {
            FailurePoint::BeforeCommit => "before commit",
            FailurePoint::Commit => "commit (fsync)",
        })),
        _ => Ok(()),
    }
}
