//! The HTTP API: declarations in, receipts out, every step in the ledger.
//!
//! `POST /api/v1/declarations` takes a declaration as canonical JSON (`application/json`) or
//! DecMessage XML (`application/xml`) with a `Submission-Id` header. The clearance pipeline
//! validates, values, assesses and selects it under the next entry id of its declaring
//! customs district, and one entry is appended to that district's ledger (`customs-NNNN`)
//! under the client's submission id: the body byte for byte as received, and the outcome (a
//! [`record::Record`]). Only then is the receipt sent: `201` accepted, `422` rejected
//! (recorded all the same), `200` for a repeat of the same body (the original receipt, read
//! back from the ledger), `409` for the same id with another body. A declaration without a
//! declaration date is dated on receipt.
//!
//! Every later change (review, inspection, hold, payment, release, exit, amendment,
//! cancellation) is one more record in the same ledger, its query rows written in the same
//! transaction ([`record::Tables`]). Where the platform carries on by itself it does so in
//! the same record: a green declaration is sent for payment at once and released when paid;
//! a declaration with nothing due is settled without a bank. Yellow and red declarations are
//! released by an officer once paid or guaranteed.
//!
//! Callers present a bearer token bound to a party and a role ([`auth`]); an enterprise or a
//! broker sees only the declarations its party is named in (or submitted), and anything else
//! is `404` to it, as if it did not exist. Ledger heads and proofs are public: anyone may
//! audit.
//!
//! Every failure is one envelope, `{code, message, type, details}`:
//!
//! | status | type | codes |
//! |---|---|---|
//! | 400 | `bad_request` | `H0440` bad login request; `H0450` a bad party registration; `H0460` a bad acknowledgement; `H0463` a bad webhook; `H0001` missing or bad `Submission-Id`; `X0xxx` unreadable XML; `H0002` unreadable JSON; `H0003` unreadable body; `H0004` bad query or action body; `K0101` bad rule set; `H0430` bad certificate request |
//! | 401 | `unauthorized` | `H0401` no token or an unknown one; `H0406` a revoked token (or a session whose certificate is no longer good); `H0407` an expired token or session; login ([`login`]): `H0441` unknown, expired or used challenge, `H0442` signature by another certificate than the one challenged, `H0443` a certificate whose role cannot sign in; a declaration's signature ([`pki`]): `H0420` unsigned, `H0421` certificate not ours, `H0422` revoked, `H0423` expired or not yet valid, `H0424` not issued by this CA, `H0426` does not verify, `H0427` malformed or unsupported, `H0428` an enveloped XML signature over content since changed |
//! | 403 | `forbidden` | `H0403` the role (or the token's scope) may not do this; `W0102` the actor may not cause the event; `H0425` the signing certificate is another party's |
//! | 404 | `not_found` | `H0404` no such route; `H0405` no such declaration (or not yours); `S0005` no such ledger or entry; `H0421` no such certificate; `H0452` no such party (or not yours); `H0453` no such party to change; `H0462` no such message; `H0464` no webhook registered |
//! | 409 | `conflict` | `S0001` same submission id, another body; `W0101`, `W0103`–`W0106` the event cannot happen now; `K0102` a rule set no newer than the one in force; `H0451` a party already registered; `H0461` an acknowledgement past the mailbox's last message; `H0409` the declaration changed while an action or amendment was decided (another took the step: decide again) |
//! | 413 | `too_large` | `H0413` body over the limit |
//! | 429 | `too_many_requests` | `H0429` too many failed authentications from the address |
//! | 415 | `unsupported_media_type` | `H0415` not JSON or XML |
//! | 422 | `unprocessable` | `W0107` an amendment that fails the checks or changes customs or direction; `W0201` a payment that does not match what is due; `H0470` a message type no route takes, `H0471` a message whose type cannot be read |
//! | 500 | `internal` | `S0002`–`S0004` the store failed (nothing acknowledged); `H0500` |
//! | 503 | `exchange_unavailable` | `H0503` NATS JetStream, where the mailboxes live, cannot be reached |
//!
//! `GET /metrics` gives the counters in the Prometheus text format; `GET
//! /api/v1/openapi.json` describes every route ([`openapi`]).

pub mod audit;
pub mod auth;
pub mod authz;
pub mod bonded;
pub mod crossborder;
mod declarations;
pub mod exchange;
pub mod interchanges;
pub mod jetstream;
pub mod login;
pub mod openapi;
pub mod origin;
pub mod parties;
pub mod pki;
pub mod record;
mod risk_api;
pub mod routing;
pub mod serials;
pub mod webhooks;

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use axum::extract::{DefaultBodyLimit, FromRequestParts, Path, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, MethodRouter};
use axum::{Json, Router};
use jinguan_clearance::risk::{ReferencePrices, RuleSet};
use jinguan_refdata::RefData;
use jinguan_store::projection::{Statement, Value};
use jinguan_store::{LedgerStore, StoreError};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

pub use auth::{Principal, Role, Tokens};
pub use pki::Authority;

/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 5 * 1024 * 1024;

/// Counters behind `/metrics`.
#[derive(Debug, Default)]
pub struct Metrics {
    accepted: AtomicU64,
    rejected: AtomicU64,
    repeated: AtomicU64,
    refused: AtomicU64,
    events: AtomicU64,
    events_refused: AtomicU64,
}

impl Metrics {
    /// The Prometheus text exposition of the counters, and of the store's group commits
    /// when it times them.
    pub fn render_with(&self, commits: Option<jinguan_store::CommitReading>) -> String {
        let mut text = self.render();
        if let Some(reading) = commits {
            use std::fmt::Write;
            text.push_str(
                "# HELP jinguan_ledger_commit_seconds Group commits of the ledger, from taking a batch to its durable commit.\n\
                 # TYPE jinguan_ledger_commit_seconds histogram\n",
            );
            let mut cumulative = 0;
            for (i, bound) in jinguan_store::COMMIT_BUCKETS_MS.iter().enumerate() {
                cumulative += reading.buckets[i];
                let _ = writeln!(
                    text,
                    "jinguan_ledger_commit_seconds_bucket{{le=\"{}\"}} {cumulative}",
                    *bound as f64 / 1000.0
                );
            }
            let _ = writeln!(
                text,
                "jinguan_ledger_commit_seconds_bucket{{le=\"+Inf\"}} {}\n\
                 jinguan_ledger_commit_seconds_sum {}\n\
                 jinguan_ledger_commit_seconds_count {}\n\
                 # HELP jinguan_ledger_commit_sync_seconds_total Time spent in the commit itself (the fsync).\n\
                 # TYPE jinguan_ledger_commit_sync_seconds_total counter\n\
                 jinguan_ledger_commit_sync_seconds_total {}\n\
                 # HELP jinguan_ledger_committed_entries_total Entries written by group commits.\n\
                 # TYPE jinguan_ledger_committed_entries_total counter\n\
                 jinguan_ledger_committed_entries_total {}",
                reading.count,
                reading.total_us as f64 / 1e6,
                reading.count,
                reading.sync_us as f64 / 1e6,
                reading.entries,
            );
        }
        text
    }

    /// The Prometheus text exposition of the counters.
    pub fn render(&self) -> String {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        format!(
            "# HELP jinguan_declarations_total Declarations answered with a receipt, by outcome.\n\
             # TYPE jinguan_declarations_total counter\n\
             jinguan_declarations_total{{outcome=\"accepted\"}} {}\n\
             jinguan_declarations_total{{outcome=\"rejected\"}} {}\n\
             jinguan_declarations_total{{outcome=\"repeat\"}} {}\n\
             # HELP jinguan_declaration_refusals_total Declaration requests refused with an error envelope.\n\
             # TYPE jinguan_declaration_refusals_total counter\n\
             jinguan_declaration_refusals_total {}\n\
             # HELP jinguan_lifecycle_actions_total Officer, bank and declarant actions recorded.\n\
             # TYPE jinguan_lifecycle_actions_total counter\n\
             jinguan_lifecycle_actions_total {}\n\
             # HELP jinguan_lifecycle_refusals_total Officer, bank and declarant actions refused.\n\
             # TYPE jinguan_lifecycle_refusals_total counter\n\
             jinguan_lifecycle_refusals_total {}\n",
            get(&self.accepted),
            get(&self.rejected),
            get(&self.repeated),
            get(&self.refused),
            get(&self.events),
            get(&self.events_refused),
        )
    }
}

/// Reference prices and what they are learnt from.
struct Learning {
    observations: Vec<(String, String, String, Decimal)>,
    since: usize,
}

/// Reference prices need this many observations of a (commodity, origin, unit).
pub const REFERENCE_MIN_SAMPLES: usize = 5;

/// What the server runs on.
pub struct App {
    /// The ledger and its query tables (opened with [`projections`]).
    pub store: Arc<dyn LedgerStore>,
    /// Reference data.
    pub refdata: Arc<RefData>,
    /// Origins that pay the general rate.
    pub general_rate_origins: Vec<String>,
    /// Who may call.
    pub tokens: Tokens,
    /// Counters for `/metrics`.
    pub metrics: Metrics,
    rules: RwLock<Arc<RuleSet>>,
    references: RwLock<Arc<ReferencePrices>>,
    learning: Mutex<Learning>,
    // Striped locks serialising changes to one declaration (read state, decide, append).
    stripes: Vec<Mutex<()>>,
    // Striped locks serialising the decisions of one cross-border buyer (read the yearly
    // total, decide, move it), so that two inventories at once never both slip under a limit.
    // Many: a message of 100 inventories takes 100 buyers' stripes, and two messages that
    // share none are decided side by side.
    buyer_stripes: Vec<Mutex<()>>,
    // Cross-border decisions whose entries may not be written yet.
    crossborder: crossborder::Decided,
    // Per customs district, this node's block of entry-id serials.
    serials: Mutex<std::collections::HashMap<String, SerialBlock>>,
    // Declarations being decided at once: one per core. Deciding is all processor work;
    // unbounded, a burst put dozens of threads on two cores and the ledger's one writer,
    // which every receipt waits for, got a dozenth of a core: commits slowed, more requests
    // piled up, and the burst fed itself.
    deciding: Arc<tokio::sync::Semaphore>,
    /// The platform CA.
    pub authority: Authority,
    /// Failed authentications allowed per client address (see [`auth::Throttle`]).
    pub throttle: auth::Throttle,
    /// Login challenges outstanding ([`login`]).
    pub challenges: login::Challenges,
    /// Whether declarants must sign what they submit (see [`pki`]).
    pub signatures_required: bool,
    /// Where the time comes from (the system clock; tests move it to see certificates
    /// expire).
    pub clock: Arc<dyn jinguan_store::Clock>,
    /// How mailboxes are pushed to webhooks ([`webhooks`]).
    pub delivery: webhooks::DeliveryOptions,
    /// Which module handles which inbound message ([`routing`]).
    pub routes: routing::Routes,
    /// Where mailboxes are read from: NATS JetStream when set ([`jetstream`]), else the
    /// database.
    pub jetstream: Option<Arc<jetstream::JetStream>>,
    // Public keys of registry certificates already checked against the CA, by the
    // certificate's fingerprint (SM3 of its DER, hex, as the registry keeps it): intake
    // verifies a signature per message, and reading, parsing and checking the certificate
    // each time would cost as much again.
    certificate_keys: RwLock<std::collections::HashMap<String, jinguan_crypto::VerifyingKey>>,
    // Registry rows read for signature checks, where this node is the store's sole writer.
    certificate_rows: ReadCache<pki::Row>,
    // Credit classes read for selectivity, likewise.
    pub(crate) credit_classes: ReadCache<String>,
}

/// Certificate keys kept prepared at most ([`App`]'s `certificate_keys`): 2,048 senders'
/// keys, 128 MiB of tables.
const CERTIFICATE_KEYS: usize = 2048;

/// Inserts into a cache of at most `bound` entries: full, one entry goes first (whichever the
/// map yields: there is no order worth keeping, and an entry dropped is only made again on its
/// next use — a prepared key, 64 KiB of table, or a row read again).
fn keep_bounded<V>(
    map: &mut std::collections::HashMap<String, V>,
    key: String,
    value: V,
    bound: usize,
) {
    if map.len() >= bound && !map.contains_key(&key) {
        if let Some(dropped) = map.keys().next().cloned() {
            map.remove(&dropped);
        }
    }
    map.insert(key, value);
}

/// A node's block of a district's entry-id serials ([`serials`]).
#[derive(Debug, Clone, Copy)]
struct SerialBlock {
    /// The next serial to give.
    next: i64,
    /// The block's last.
    last: i64,
    /// Its size as reserved.
    size: i64,
    /// When it was reserved (milliseconds since the epoch).
    reserved_ms: i64,
}

/// What a node that is its store's sole writer has read from a table that one ledger's
/// appends alone write (`certificate` from `pki`, `party` from `parties`), by key, each with
/// the ledger's generation when it was read: every append to that ledger moves the
/// generation on once it is done ([`ReadCache::changed`]), so nothing read before a change
/// is used after it. Bounded.
#[derive(Debug)]
pub(crate) struct ReadCache<V> {
    generation: std::sync::atomic::AtomicU64,
    kept: Mutex<std::collections::HashMap<String, (u64, V)>>,
    bound: usize,
}

impl<V: Clone> ReadCache<V> {
    fn new(bound: usize) -> Self {
        Self {
            generation: std::sync::atomic::AtomicU64::new(0),
            kept: Mutex::default(),
            bound,
        }
    }

    /// The generation now: read before the table is.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(std::sync::atomic::Ordering::Acquire)
    }

    /// Moves the generation on: the table changed (or may have: an append that failed counts
    /// too).
    pub(crate) fn changed(&self) {
        self.generation
            .fetch_add(1, std::sync::atomic::Ordering::AcqRel);
    }

    /// What was read under `key` at `generation`, if anything was.
    pub(crate) fn get(&self, key: &str, generation: u64) -> Option<V> {
        let kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        kept.get(key)
            .filter(|(read, _)| *read == generation)
            .map(|(_, value)| value.clone())
    }

    /// Keeps what was read under `key` at `generation`.
    pub(crate) fn put(&self, key: String, generation: u64, value: V) {
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        keep_bounded(&mut kept, key, (generation, value), self.bound);
    }
}

/// The query tables the server needs its store opened with.
pub fn projections() -> Vec<Arc<dyn jinguan_store::projection::Projection>> {
    vec![
        Arc::new(record::Tables),
        Arc::new(pki::CertificateTable),
        Arc::new(parties::PartyTables),
        Arc::new(exchange::AckTable),
        Arc::new(webhooks::WebhookTable),
        Arc::new(serials::SerialTable),
        Arc::new(crossborder::CebTables),
        Arc::new(bonded::BondedTables),
    ]
}

impl App {
    /// An app over `store` (opened with [`projections`]). The rule set in force is the
    /// newest put through the API, or `default_rules` when none was; reference prices are
    /// learnt from the released declarations on record.
    pub fn new(
        store: Arc<dyn LedgerStore>,
        refdata: Arc<RefData>,
        default_rules: RuleSet,
        tokens: Tokens,
        authority: Authority,
    ) -> Result<Self, StoreError> {
        let newest = store.query(&Statement::new(
            "SELECT rules FROM risk_rules ORDER BY version DESC LIMIT 1",
            vec![],
        ))?;
        let rules = match newest.first().and_then(|row| row.first()) {
            Some(Value::Text(text)) => RuleSet::from_json(text)
                .map_err(|e| StoreError::Database(format!("rule set on record: {e}")))?,
            _ => default_rules,
        };
        let app = Self {
            store,
            refdata,
            general_rate_origins: Vec::new(),
            tokens,
            metrics: Metrics::default(),
            rules: RwLock::new(Arc::new(rules)),
            references: RwLock::new(Arc::new(ReferencePrices::default())),
            learning: Mutex::new(Learning {
                observations: Vec::new(),
                since: 0,
            }),
            stripes: (0..64).map(|_| Mutex::new(())).collect(),
            buyer_stripes: (0..4096).map(|_| Mutex::new(())).collect(),
            crossborder: crossborder::Decided::default(),
            serials: Mutex::default(),
            deciding: Arc::new(tokio::sync::Semaphore::new(
                std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get),
            )),
            authority,
            throttle: auth::Throttle::default(),
            challenges: login::Challenges::default(),
            signatures_required: true,
            clock: Arc::new(jinguan_store::SystemClock),
            delivery: webhooks::DeliveryOptions::default(),
            routes: routing::Routes::shipped(),
            jetstream: None,
            certificate_keys: RwLock::default(),
            certificate_rows: ReadCache::new(1 << 16),
            credit_classes: ReadCache::new(1 << 16),
        };
        let released = app.store.query(&Statement::new(
            "SELECT ledger, version_seq FROM decl
             WHERE status IN ('released', 'exit_confirmed') AND accepted = 1",
            vec![],
        ))?;
        for row in released {
            if let (Some(Value::Text(ledger)), Some(Value::Integer(seq))) =
                (row.first(), row.get(1))
            {
                if let Some(subject) = version_subject(&app, ledger, *seq)? {
                    app.observe(&subject);
                }
            }
        }
        app.relearn(true);
        Ok(app)
    }

    /// The rule set in force.
    pub fn rules(&self) -> Arc<RuleSet> {
        self.rules.read().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn set_rules(&self, rules: RuleSet) {
        *self.rules.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(rules);
    }

    /// The reference prices in use.
    pub fn references(&self) -> Arc<ReferencePrices> {
        self.references
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Takes a released declaration's unit values as observations.
    fn observe(&self, subject: &jinguan_clearance::risk::Subject) {
        use jinguan_clearance::risk::Fact;
        let mut learning = self.learning.lock().unwrap_or_else(|e| e.into_inner());
        for item in &subject.items {
            let text = |name: &str| match item.get(name) {
                Some(Fact::Text(t)) => Some(t.clone()),
                _ => None,
            };
            if let (Some(code), Some(origin), Some(unit), Some(Fact::Number(value))) = (
                text("hs_code"),
                text("origin_country"),
                text("legal_unit"),
                item.get("unit_value_cny"),
            ) {
                learning.observations.push((code, origin, unit, *value));
                learning.since += 1;
            }
        }
    }

    /// Relearns the reference prices when an eighth more has been observed since the last
    /// time: at once while there is little to learn from, and, as relearning costs
    /// O(n log n) in all n observations, at a constant cost per observation later (relearning
    /// on every release would make intake quadratic).
    fn relearn(&self, now: bool) {
        let mut learning = self.learning.lock().unwrap_or_else(|e| e.into_inner());
        let due = now || learning.since >= (learning.observations.len() / 8).max(1);
        if !due {
            return;
        }
        learning.since = 0;
        let prices = ReferencePrices::learn(
            learning
                .observations
                .iter()
                .map(|(c, o, u, v)| (c.as_str(), o.as_str(), u.as_str(), *v)),
            REFERENCE_MIN_SAMPLES,
        );
        drop(learning);
        *self.references.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(prices);
    }

    /// The time now, in milliseconds since the epoch.
    fn now_ms(&self) -> i64 {
        self.clock.now_ms()
    }

    /// The next entry-id serial of a customs district: one more than the last on record
    /// (read once per district, then counted here; a serial whose append failed is not
    /// reused, and a gap is harmless).
    fn next_serial(&self, customs: &str) -> Result<u32, StoreError> {
        let mut serials = self.serials.lock().unwrap_or_else(|e| e.into_inner());
        let block = match serials.get_mut(customs) {
            Some(block) if block.next <= block.last => block,
            // None left here: a new block, for this node alone (see [`serials`]), larger
            // when the last went quickly.
            held => {
                let now = self.now_ms();
                let size = held.map_or(serials::BLOCK, |block| {
                    serials::next_block(block.size, block.reserved_ms, now)
                });
                let (next, last) = serials::reserve(self.store.as_ref(), customs, size)?;
                serials.insert(
                    customs.to_owned(),
                    SerialBlock {
                        next,
                        last,
                        size,
                        reserved_ms: now,
                    },
                );
                serials
                    .get_mut(customs)
                    .expect("the block was just inserted")
            }
        };
        let next = block.next;
        block.next += 1;
        u32::try_from(next).map_err(|e| StoreError::Database(e.to_string()))
    }

    /// Records have filled mailboxes: the relay to JetStream, if any, goes at once.
    pub(crate) fn mailboxes_filled(&self) {
        if let Some(jetstream) = &self.jetstream {
            jetstream.wake();
        }
    }

    /// A turn to decide a declaration (see `deciding`); it ends when dropped.
    async fn deciding(&self) -> tokio::sync::OwnedSemaphorePermit {
        self.deciding
            .clone()
            .acquire_owned()
            .await
            .expect("the semaphore is never closed")
    }

    /// The key of the registry certificate with this fingerprint (SM3 of its DER, hex),
    /// checked against the CA on first use, when `pem` reads it: kept from then on under the
    /// fingerprint, and only if the certificate read has that fingerprint.
    fn certificate_key(
        &self,
        fingerprint: &str,
        pem: impl FnOnce() -> Result<String, ApiError>,
    ) -> Result<jinguan_crypto::VerifyingKey, ApiError> {
        if let Some(key) = self
            .certificate_keys
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(fingerprint)
        {
            return Ok(key.clone());
        }
        let pem = pem()?;
        // Prepared: a certificate's key verifies every declaration its holder sends.
        let (key, read) = pki::certificate_key(&self.authority, &pem)?;
        let key = key.prepared();
        if read == fingerprint {
            keep_bounded(
                &mut self
                    .certificate_keys
                    .write()
                    .unwrap_or_else(|e| e.into_inner()),
                read,
                key.clone(),
                CERTIFICATE_KEYS,
            );
        }
        Ok(key)
    }

    /// The locks of these buyers' stripes, taken in stripe order (so two callers never wait
    /// on each other crosswise).
    pub(crate) fn buyer_locks(&self, buyers: &[String]) -> Vec<std::sync::MutexGuard<'_, ()>> {
        let mut stripes: Vec<usize> = buyers
            .iter()
            .map(|b| {
                b.bytes()
                    .fold(0usize, |h, c| h.wrapping_mul(31).wrapping_add(c.into()))
                    % self.buyer_stripes.len()
            })
            .collect();
        stripes.sort_unstable();
        stripes.dedup();
        stripes
            .into_iter()
            .map(|i| {
                self.buyer_stripes[i]
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
            })
            .collect()
    }

    pub(crate) fn stripe(&self, entry_id: &str) -> std::sync::MutexGuard<'_, ()> {
        let hash = entry_id
            .bytes()
            .fold(0usize, |h, b| h.wrapping_mul(31).wrapping_add(b.into()));
        self.stripes[hash % self.stripes.len()]
            .lock()
            .unwrap_or_else(|e| e.into_inner())
    }
}

/// The selectivity facts of the version held by entry `seq` of `ledger`, if it was accepted.
fn version_subject(
    app: &App,
    ledger: &str,
    seq: i64,
) -> Result<Option<jinguan_clearance::risk::Subject>, StoreError> {
    // Only the facts are wanted; the rest of the record is skipped unparsed.
    #[derive(Deserialize)]
    struct Only {
        version: Option<OnlyVersion>,
    }
    #[derive(Deserialize)]
    struct OnlyVersion {
        subject: Option<jinguan_clearance::risk::Subject>,
    }
    let seq = u64::try_from(seq).map_err(|e| StoreError::Database(e.to_string()))?;
    let (entry, _) = app.store.entry(ledger, seq)?;
    let only: Only = serde_json::from_slice(&entry.payload)
        .map_err(|e| StoreError::Database(format!("record {ledger}/{seq}: {e}")))?;
    Ok(only.version.and_then(|v| v.subject))
}

/// The error envelope.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiError {
    /// Stable code.
    pub code: String,
    /// What went wrong.
    pub message: String,
    /// Its kind (`bad_request`, `not_found`, …).
    #[serde(rename = "type")]
    pub kind: String,
    /// More, where there is more.
    pub details: serde_json::Value,
    #[serde(skip)]
    status: u16,
}

impl ApiError {
    fn new(status: StatusCode, kind: &str, code: &str, message: impl Into<String>) -> Self {
        Self {
            code: code.to_owned(),
            message: message.into(),
            kind: kind.to_owned(),
            details: serde_json::Value::Null,
            status: status.as_u16(),
        }
    }

    fn bad_request(code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", code, message)
    }

    pub(crate) fn not_found(code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", code, message)
    }

    fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", "H0403", message)
    }

    fn unprocessable(code: &str, message: impl Into<String>) -> Self {
        Self::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unprocessable",
            code,
            message,
        )
    }

    fn with_details(mut self, details: serde_json::Value) -> Self {
        self.details = details;
        self
    }

    fn store(error: StoreError) -> Self {
        let (status, kind) = match error {
            StoreError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            StoreError::Conflict { .. } => (StatusCode::CONFLICT, "conflict"),
            StoreError::Rejected(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            _ => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        };
        Self::new(status, kind, error.code(), error.to_string())
    }

    fn transition(error: &jinguan_clearance::TransitionError) -> Self {
        if error.code() == "W0102" {
            Self::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                error.code(),
                error.to_string(),
            )
        } else {
            Self::new(
                StatusCode::CONFLICT,
                "conflict",
                error.code(),
                error.to_string(),
            )
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, Json(self)).into_response()
    }
}

impl FromRequestParts<Arc<App>> for Principal {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, app: &Arc<App>) -> Result<Self, ApiError> {
        let origin = parts
            .extensions
            .get::<origin::Origin>()
            .cloned()
            .unwrap_or_default();
        let address = origin.from.clone().unwrap_or_default();
        if let Some(wait) = app.throttle.locked(&address) {
            return Err(too_many(wait));
        }
        let token = parts
            .headers
            .get("authorization")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.strip_prefix("Bearer "))
            .map(str::trim);
        let checked = match token {
            None => Err(("H0401", "send Authorization: Bearer <token>".to_owned())),
            Some(token) if token.starts_with(login::SESSION_PREFIX) => {
                let (app, token) = (app.clone(), token.to_owned());
                // A session re-reads its certificate's status: a query, off the runtime.
                tokio::task::spawn_blocking(move || login::check_session(&app, &token))
                    .await
                    .unwrap_or_else(|e| Err(("H0500", e.to_string())))
            }
            Some(token) => app.tokens.check(token).map_err(|refusal| {
                let (code, message) = match refusal {
                    auth::TokenRefusal::Unknown => ("H0401", "unknown token"),
                    auth::TokenRefusal::Revoked => ("H0406", "the token was revoked"),
                    auth::TokenRefusal::Expired => ("H0407", "the token has expired"),
                };
                (code, message.to_owned())
            }),
        };
        match checked {
            Ok(mut principal) => {
                principal.origin = origin;
                Ok(principal)
            }
            Err((code, message)) => {
                app.throttle.failed(&address);
                let error = ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "unauthorized",
                    code,
                    message.to_owned(),
                );
                let (app, path) = (app.clone(), parts.uri.path().to_owned());
                let recorded =
                    blocking(move || Ok(audit::unauthenticated(&app, &origin, &path, error))).await;
                Err(match recorded {
                    Ok(error) | Err(error) => error,
                })
            }
        }
    }
}

/// `429 H0429`: an address locked out after failed authentications.
pub(crate) fn too_many(wait_seconds: u64) -> ApiError {
    ApiError::new(
        StatusCode::TOO_MANY_REQUESTS,
        "too_many_requests",
        "H0429",
        format!("too many failed authentications from this address; try again in {wait_seconds} s"),
    )
}

/// Where a receipt's entries are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerRef {
    /// The ledger.
    pub ledger: String,
    /// The outcome entry's sequence number.
    pub seq: u64,
    /// Its leaf hash.
    pub leaf_hash: jinguan_ledger::Hash,
    /// The size of a signed head that covers it.
    pub tree_size: u64,
}

/// What a declarant gets back.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DeclarationReceipt {
    /// The client's id.
    pub submission_id: String,
    /// The entry id, assigned on receipt.
    pub entry_id: String,
    /// `accepted` or `rejected`.
    pub status: String,
    /// Green, yellow or red, when accepted.
    pub channel: Option<jinguan_clearance::Channel>,
    /// Why that channel.
    pub reasons: Vec<jinguan_clearance::risk::Reason>,
    /// Duties and taxes, when accepted.
    pub assessment: Option<jinguan_clearance::assessment::Assessment>,
    /// Every error found.
    pub errors: Vec<jinguan_types::Diagnostic>,
    /// Where the outcome is in the ledger.
    pub ledger: LedgerRef,
    /// The platform's signature on this receipt and the ledger's proof of the entry, on the
    /// receipts it sends (see [`pki::attest`]); not in the copy the record keeps.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attestation: Option<pki::Attestation>,
}

type Routes = Vec<(&'static str, Vec<&'static str>, MethodRouter<Arc<App>>)>;

fn routes() -> Routes {
    use declarations as d;
    vec![
        (
            "/healthz",
            vec!["get"],
            get(|| async { Json(serde_json::json!({"status": "ok"})) }),
        ),
        (
            "/metrics",
            vec!["get"],
            get(|State(app): State<Arc<App>>| async move {
                (
                    [("content-type", "text/plain; version=0.0.4")],
                    app.metrics.render_with(app.store.commit_times()),
                )
            }),
        ),
        (
            "/api/v1/openapi.json",
            vec!["get"],
            get(|| async { Json(openapi::document()) }),
        ),
        (
            "/api/v1/declarations",
            vec!["get", "post"],
            get(d::list).post(d::declare),
        ),
        ("/api/v1/declarations/{entry_id}", vec!["get"], get(d::show)),
        (
            "/api/v1/declarations/{entry_id}/receipts",
            vec!["get"],
            get(d::receipts),
        ),
        (
            "/api/v1/declarations/{entry_id}/review",
            vec!["post"],
            post(d::review),
        ),
        (
            "/api/v1/declarations/{entry_id}/inspection",
            vec!["post"],
            post(d::inspection),
        ),
        (
            "/api/v1/declarations/{entry_id}/hold",
            vec!["post"],
            post(d::hold),
        ),
        (
            "/api/v1/declarations/{entry_id}/release",
            vec!["post"],
            post(d::release),
        ),
        (
            "/api/v1/declarations/{entry_id}/amend",
            vec!["post"],
            post(d::amend),
        ),
        (
            "/api/v1/declarations/{entry_id}/cancel",
            vec!["post"],
            post(d::cancel),
        ),
        (
            "/api/v1/declarations/{entry_id}/exit",
            vec!["post"],
            post(d::exit),
        ),
        ("/api/v1/payments", vec!["post"], post(d::pay)),
        (
            "/api/v1/risk/rules",
            vec!["get", "put"],
            get(risk_api::rules).put(risk_api::put_rules),
        ),
        (
            "/api/v1/risk/backtest",
            vec!["post"],
            post(risk_api::backtest),
        ),
        ("/api/v1/pki/ca", vec!["get"], get(pki::ca)),
        ("/api/v1/pki/crl", vec!["get"], get(pki::crl)),
        (
            "/api/v1/login/challenge",
            vec!["post"],
            post(login::challenge),
        ),
        ("/api/v1/login", vec!["post"], post(login::login)),
        ("/api/v1/pki/certificates", vec!["post"], post(pki::issue)),
        (
            "/api/v1/pki/certificates/{serial}",
            vec!["get"],
            get(pki::status),
        ),
        (
            "/api/v1/pki/certificates/{serial}/revoke",
            vec!["post"],
            post(pki::revoke),
        ),
        (
            "/api/v1/parties",
            vec!["get", "post"],
            get(parties::list).post(parties::register),
        ),
        (
            "/api/v1/parties/{code}",
            vec!["get", "put"],
            get(parties::show).put(parties::change),
        ),
        ("/api/v1/messages", vec!["post"], post(routing::inbound)),
        (
            "/api/v1/crossborder/inventories",
            vec!["get"],
            get(crossborder::list_inventories),
        ),
        (
            "/api/v1/crossborder/inventories/{invt_no}",
            vec!["get"],
            get(crossborder::show_inventory),
        ),
        (
            "/api/v1/crossborder/inventories/{invt_no}/decision",
            vec!["post"],
            post(crossborder::decide_inventory),
        ),
        (
            "/api/v1/interchanges",
            vec!["post"],
            post(interchanges::receive),
        ),
        ("/api/v1/routes", vec!["get"], get(routing::table)),
        ("/api/v1/mailbox", vec!["get"], get(exchange::pull)),
        ("/api/v1/mailbox/ack", vec!["post"], post(exchange::ack)),
        (
            "/api/v1/mailbox/webhook",
            vec!["get", "put"],
            get(webhooks::show).put(webhooks::register),
        ),
        (
            "/api/v1/messages/{id}/trace",
            vec!["get"],
            get(exchange::trace),
        ),
        ("/api/v1/ledger/{ledger}/head", vec!["get"], get(head)),
        (
            "/api/v1/ledger/{ledger}/entries/{seq}/proof",
            vec!["get"],
            get(proof),
        ),
    ]
}

/// Every route: its path and methods (lower case), as the router serves them.
pub fn route_table() -> Vec<(String, Vec<String>)> {
    routes()
        .into_iter()
        .map(|(path, methods, _)| {
            (
                path.to_owned(),
                methods.into_iter().map(str::to_owned).collect(),
            )
        })
        .collect()
}

/// The API's routes on `app`.
pub fn router(app: Arc<App>) -> Router {
    let mut router = Router::new();
    for (path, _, methods) in routes() {
        router = router.route(path, methods);
    }
    router
        .fallback(|| async {
            ApiError::new(StatusCode::NOT_FOUND, "not_found", "H0404", "no such route")
        })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .layer(axum::middleware::map_response(security_headers))
        .layer(axum::middleware::from_fn(origin::layer))
        .with_state(app)
}

/// Headers on every response, errors included: an API answer is data, never a page to
/// render, frame, sniff, cache or refer from (OWASP ASVS V3, V14).
pub const SECURITY_HEADERS: &[(&str, &str)] = &[
    ("x-content-type-options", "nosniff"),
    ("cache-control", "no-store"),
    ("x-frame-options", "DENY"),
    (
        "content-security-policy",
        "default-src 'none'; frame-ancestors 'none'",
    ),
    ("referrer-policy", "no-referrer"),
    ("cross-origin-resource-policy", "same-origin"),
];

async fn security_headers(mut response: Response) -> Response {
    let headers = response.headers_mut();
    for (name, value) in SECURITY_HEADERS {
        headers.insert(
            axum::http::HeaderName::from_static(name),
            axum::http::HeaderValue::from_static(value),
        );
    }
    response
}

/// Serves `router(app)` on `listener` until `shutdown` completes, then finishes the requests
/// in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Arc<App>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let keep = app.clone();
    let deliverer = webhooks::Deliverer::start(app.clone());
    let relay = jetstream::Relay::start(app.clone());
    let served = axum::serve(
        listener,
        router(app).into_make_service_with_connect_info::<std::net::SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await;
    // The last reference goes on a blocking thread: closing a store may block (the
    // PostgreSQL client runs its own runtime to close connections), never inside ours; the
    // delivery thread, which holds one too, ends first.
    let _ = tokio::task::spawn_blocking(move || {
        deliverer.stop();
        relay.stop();
        drop(keep);
    })
    .await;
    served
}

async fn blocking<T: Send + 'static>(
    work: impl FnOnce() -> Result<T, ApiError> + Send + 'static,
) -> Result<T, ApiError> {
    tokio::task::spawn_blocking(work).await.map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "H0500",
            e.to_string(),
        )
    })?
}

async fn head(
    State(app): State<Arc<App>>,
    Path(ledger): Path<String>,
) -> Result<Response, ApiError> {
    blocking(move || app.store.head(&ledger).map_err(ApiError::store))
        .await
        .map(|head| Json(head).into_response())
}

async fn proof(
    State(app): State<Arc<App>>,
    Path((ledger, seq)): Path<(String, u64)>,
) -> Result<Response, ApiError> {
    blocking(move || {
        let head = app.store.head(&ledger).map_err(ApiError::store)?;
        app.store
            .inclusion_proof(&ledger, seq, head.tree_size)
            .map_err(ApiError::store)
    })
    .await
    .map(|proof| Json(proof).into_response())
}

pub(crate) fn internal(error: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "H0500",
        error.to_string(),
    )
}

#[cfg(test)]
mod tests {
    #[test]
    fn a_bounded_cache_drops_one_entry_when_full_and_none_on_a_replacement() {
        let mut map = std::collections::HashMap::new();
        for n in 0..3 {
            super::keep_bounded(&mut map, format!("k{n}"), n, 3);
        }
        assert_eq!(map.len(), 3);
        // The same key again replaces its value; nothing else goes.
        super::keep_bounded(&mut map, "k1".into(), 10, 3);
        assert_eq!((map.len(), map["k1"]), (3, 10));
        // A new key: one of the others goes, the new one stays.
        super::keep_bounded(&mut map, "k3".into(), 3, 3);
        assert_eq!((map.len(), map["k3"]), (3, 3));
        for n in 4..100 {
            super::keep_bounded(&mut map, format!("k{n}"), n, 3);
            assert!(map.len() <= 3);
        }
        assert_eq!(map["k99"], 99);
    }
}
