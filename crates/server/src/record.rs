//! What the server writes to the ledger, and the query tables kept from it.
//!
//! Every change to a declaration is one ledger entry in its customs district's ledger
//! (`customs-NNNN`) whose payload is a [`Record`]: the events it caused (several when the
//! platform carries on by itself, e.g. acceptance, assessment and channel selection), who
//! caused them, the lifecycle after them and, when a version of the declaration was
//! received (first submission or amendment), that version whole. [`Tables`] turns each
//! record into rows of the query tables inside the append's own transaction, so the tables
//! are never ahead of or behind the ledger and can be rebuilt by replaying it.
//!
//! | table | one row per |
//! |---|---|
//! | `decl` | declaration (entry id): where it stands, what is due, and the entry holding its current version (the version itself is read from the ledger, not copied) |
//! | `decl_party` | (declaration, party named in any version): who may see it |
//! | `decl_version` | version: the entry that holds it |
//! | `decl_event` | record: the receipt a declarant is sent |
//! | `mailbox` | (party, cursor): a receipt in the mailbox of a party the declaration names |
//! | `mailbox_counter` | party: the last cursor given in its mailbox |
//! | `decl_request` | (declaration, caller's id): the entry an action or amendment made |
//! | `risk_rules` | rule set put in force |

use chrono::NaiveDate;
use jinguan_clearance::risk::Subject;
use jinguan_clearance::{Actor, Event, Lifecycle};
use jinguan_ledger::Entry;
use jinguan_store::projection::{Dialect, Projection, Statement, Value};
use jinguan_types::declaration::Declaration;
use jinguan_types::IeFlag;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::auth::Role;
use crate::DeclarationReceipt;

/// Entry kind of the first record of a declaration: the body as received and its outcome.
pub const OUTCOME: &str = "declaration.outcome";
/// Entry kind of every later record.
pub const EVENT: &str = "declaration.event";
/// Entry kind of a rule set put in force.
pub const RULES: &str = "risk.rules";
/// The ledger rule sets are kept in.
pub const RISK_LEDGER: &str = "risk";

/// A version of a declaration as received.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Version {
    /// The client's submission id.
    pub submission_id: String,
    /// The declaration, codes normalised. Left out of a first submission's record, which
    /// holds the body as received (`Record::received`): it is read again from that, and the
    /// record, written on the ledger's one writer thread, is a third smaller.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub declaration: Option<Declaration>,
    /// Its declaration date (the date of receipt when it gave none).
    pub declared_on: NaiveDate,
    /// Party codes named in it and the submitter's: who may see the declaration.
    pub parties: Vec<String>,
    /// The receipt its checks produced (ledger position not yet known: zero).
    pub receipt: DeclarationReceipt,
    /// The facts selectivity saw, when accepted.
    pub subject: Option<Subject>,
    /// Duties and taxes due (yuan).
    pub due: Decimal,
}

/// A declaration's body as received, kept byte for byte.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Received {
    /// Its content type (`application/json`, `application/xml`).
    pub content_type: String,
    /// The body, when it is UTF-8.
    pub body: Option<String>,
    /// The body in hex, when it is not.
    pub body_hex: Option<String>,
}

/// A payment or guarantee a bank reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    /// `payment` or `guarantee`.
    pub kind: String,
    /// Amount in yuan.
    pub amount: Decimal,
    /// The bank's own reference.
    pub reference: String,
}

/// One ledger entry's worth of change to a declaration.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Record {
    /// The declaration.
    pub entry_id: String,
    /// Declaring customs district.
    pub customs: String,
    /// Import or export.
    pub direction: IeFlag,
    /// Who caused the first event (later ones in the same record are the platform's).
    pub actor: Actor,
    /// The caller's role, when a person or system outside the platform acted.
    pub role: Option<Role>,
    /// The caller's party code.
    pub party: String,
    /// The events, in order.
    pub events: Vec<Event>,
    /// The lifecycle after them.
    pub lifecycle: Lifecycle,
    /// Text for the declarant: reasons, findings.
    pub note: String,
    /// The version received, on submission and amendment.
    pub version: Option<Version>,
    /// The payment, on payment or guarantee.
    pub payment: Option<Payment>,
    /// The body as received, on first submission (amendments keep theirs in `version`).
    pub received: Option<Received>,
    /// Who signed the body, and the signature as sent: what makes the declaration binding.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signer: Option<crate::pki::Signer>,
    /// The request that caused the record and where it came from (the audit's "from
    /// where").
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub origin: Option<crate::origin::Origin>,
    /// The caller's `Submission-Id` for an action or amendment: a repeat of it answers
    /// without acting again (the entry's own submission id is the step it takes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
}

/// The lifecycle state's name (`received`, `selected`, `awaiting_payment`, …).
pub fn status_name(lifecycle: &Lifecycle) -> String {
    serde_json::to_value(lifecycle.state)
        .ok()
        .and_then(|v| v.get("state").and_then(|s| s.as_str()).map(str::to_owned))
        .unwrap_or_default()
}

/// Every status name, for checking filters.
pub const STATUSES: &[&str] = &[
    "received",
    "rejected",
    "accepted",
    "assessed",
    "selected",
    "reviewed",
    "inspected",
    "awaiting_payment",
    "paid",
    "guaranteed",
    "released",
    "exit_confirmed",
    "cancelled",
];

/// The query tables.
pub struct Tables;

/// A [`Record`] as the projection reads it: the large parts (the declaration, its receipt,
/// the selectivity facts) stay raw JSON text, copied into their columns without being parsed
/// and written again. The projection runs on the ledger's one writer thread, so what it
/// spends per record bounds intake.
#[derive(Deserialize)]
struct Row<'a> {
    entry_id: String,
    customs: String,
    direction: IeFlag,
    actor: Actor,
    party: String,
    #[serde(borrow)]
    events: &'a serde_json::value::RawValue,
    lifecycle: Lifecycle,
    note: String,
    #[serde(borrow)]
    version: Option<RowVersion<'a>>,
    #[serde(borrow)]
    payment: Option<&'a serde_json::value::RawValue>,
    #[serde(default)]
    client_id: Option<String>,
}

#[derive(Deserialize)]
struct RowVersion<'a> {
    submission_id: String,
    declared_on: NaiveDate,
    parties: Vec<String>,
    #[serde(borrow)]
    receipt: &'a serde_json::value::RawValue,
    #[serde(borrow)]
    subject: Option<&'a serde_json::value::RawValue>,
    due: Decimal,
}

/// The one field of a receipt the tables need.
#[derive(Deserialize)]
struct ReceiptChannel {
    channel: Option<jinguan_clearance::Channel>,
}

fn raw(value: &serde_json::value::RawValue) -> Value {
    Value::Text(value.get().to_owned())
}

fn text(value: impl Into<String>) -> Value {
    Value::Text(value.into())
}

fn int(value: impl TryInto<i64>) -> Value {
    Value::Integer(value.try_into().unwrap_or(i64::MAX))
}

fn json(value: &impl Serialize) -> Value {
    Value::Text(serde_json::to_string(value).unwrap_or_default())
}

impl Projection for Tables {
    fn name(&self) -> &str {
        "declarations"
    }

    fn create(&self, dialect: Dialect) -> Vec<String> {
        // Every table is keyed by what it is read by, clustered on SQLite: an intake's rows
        // are then one page write per table rather than a rowid tree plus a key index each.
        // The pages a commit writes are most of the writer's work.
        let clustered = dialect.clustered();
        vec![
            format!(
                "CREATE TABLE IF NOT EXISTS decl (
                entry_id TEXT PRIMARY KEY, ledger TEXT NOT NULL, customs TEXT NOT NULL,
                direction TEXT NOT NULL, status TEXT NOT NULL, channel TEXT NOT NULL,
                held BIGINT NOT NULL, version BIGINT NOT NULL, declared_on TEXT NOT NULL,
                updated_ms BIGINT NOT NULL, due TEXT NOT NULL, lifecycle TEXT NOT NULL,
                version_seq BIGINT NOT NULL, accepted BIGINT NOT NULL){clustered}"
            ),
            "CREATE INDEX IF NOT EXISTS decl_status ON decl (status, entry_id)".into(),
            format!(
                "CREATE TABLE IF NOT EXISTS decl_party (
                party TEXT NOT NULL, entry_id TEXT NOT NULL, PRIMARY KEY (party, entry_id)){clustered}"
            ),
            // The callers' ids of actions and amendments, per declaration: what a repeated
            // request is recognised by.
            format!(
                "CREATE TABLE IF NOT EXISTS decl_request (
                entry_id TEXT NOT NULL, client_id TEXT NOT NULL, seq BIGINT NOT NULL,
                PRIMARY KEY (entry_id, client_id)){clustered}"
            ),
            // Every record finds the parties of its declaration to fill their mailboxes:
            // without this, a scan of every party of every declaration, per record.
            "CREATE INDEX IF NOT EXISTS decl_party_entry ON decl_party (entry_id, party)".into(),
            format!(
                "CREATE TABLE IF NOT EXISTS decl_version (
                entry_id TEXT NOT NULL, version BIGINT NOT NULL, ledger TEXT NOT NULL,
                seq BIGINT NOT NULL, submission_id TEXT NOT NULL, time_ms BIGINT NOT NULL,
                PRIMARY KEY (entry_id, version)){clustered}"
            ),
            // A declaration's history is read by entry id in ledger order; a record is
            // found by its submission id through the store's own index (`seq_of`).
            format!(
                "CREATE TABLE IF NOT EXISTS decl_event (
                ledger TEXT NOT NULL, seq BIGINT NOT NULL, entry_id TEXT NOT NULL,
                submission_id TEXT NOT NULL, time_ms BIGINT NOT NULL, version BIGINT NOT NULL,
                actor TEXT NOT NULL, party TEXT NOT NULL, events TEXT NOT NULL,
                status TEXT NOT NULL, held BIGINT NOT NULL, receipt_code TEXT NOT NULL,
                note TEXT NOT NULL, payment TEXT NOT NULL, PRIMARY KEY (entry_id, seq)){clustered}"
            ),
            // Earlier layouts looked records up by submission id here; the store answers
            // that now. (Their index by entry id is kept where it exists: their table is
            // keyed by ledger and sequence, and it serves the history.)
            "DROP INDEX IF EXISTS decl_event_submission".into(),
            // A party's mailbox: the receipts of the declarations it is named in, numbered
            // in the order they were recorded (its cursor).
            format!(
                "CREATE TABLE IF NOT EXISTS mailbox (
                party TEXT NOT NULL, cursor BIGINT NOT NULL, entry_id TEXT NOT NULL,
                seq BIGINT NOT NULL, time_ms BIGINT NOT NULL,
                PRIMARY KEY (party, cursor)){clustered}"
            ),
            // Each mailbox's last cursor given. Taking the next one is an upsert, which locks
            // the party's row until the transaction ends: two nodes writing to one database
            // number a party's messages one after the other, in commit order, where reading
            // MAX(cursor) would give both the same number.
            format!(
                "CREATE TABLE IF NOT EXISTS mailbox_counter (
                party TEXT PRIMARY KEY, last BIGINT NOT NULL){clustered}"
            ),
            // Mailboxes filled before the counter existed start from where they are.
            "INSERT INTO mailbox_counter (party, last)
             SELECT party, MAX(cursor) FROM mailbox GROUP BY party
             ON CONFLICT (party) DO NOTHING"
                .into(),
            format!(
                "CREATE TABLE IF NOT EXISTS risk_rules (
                version BIGINT PRIMARY KEY, seq BIGINT NOT NULL, time_ms BIGINT NOT NULL,
                party TEXT NOT NULL, rules TEXT NOT NULL){clustered}"
            ),
        ]
    }

    fn reset(&self) -> Vec<String> {
        [
            "decl",
            "decl_party",
            "decl_version",
            "decl_event",
            "risk_rules",
            "mailbox",
            "mailbox_counter",
            "decl_request",
        ]
        .iter()
        .map(|t| format!("DELETE FROM {t}"))
        .collect()
    }

    fn apply(&self, entry: &Entry) -> Vec<Statement> {
        match entry.kind.as_str() {
            OUTCOME | EVENT => match serde_json::from_slice::<Row<'_>>(&entry.payload) {
                Ok(record) => declaration_rows(entry, &record),
                // Not ours to judge here: the server wrote it; a record it cannot read is
                // left to `verify` and the replay tests rather than stopping the writer.
                Err(_) => Vec::new(),
            },
            RULES => vec![Statement::new(
                "INSERT INTO risk_rules (version, seq, time_ms, party, rules)
                 VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT (version) DO NOTHING",
                vec![
                    int(rules_version(&entry.payload)),
                    int(entry.seq),
                    int(entry.time_ms),
                    text(entry.submitter.clone()),
                    text(String::from_utf8_lossy(&entry.payload).into_owned()),
                ],
            )],
            _ => Vec::new(),
        }
    }
}

fn rules_version(payload: &[u8]) -> u64 {
    serde_json::from_slice::<serde_json::Value>(payload)
        .ok()
        .and_then(|v| v.get("version").and_then(serde_json::Value::as_u64))
        .unwrap_or(0)
}

fn declaration_rows(entry: &Entry, record: &Row<'_>) -> Vec<Statement> {
    let status = status_name(&record.lifecycle);
    let held = int(i64::from(record.lifecycle.held));
    let mut statements = Vec::new();
    if let Some(version) = &record.version {
        let channel = serde_json::from_str::<ReceiptChannel>(version.receipt.get())
            .ok()
            .and_then(|r| r.channel)
            .map(|c| format!("{c:?}").to_lowercase())
            .unwrap_or_default();
        statements.push(Statement::new(
            "INSERT INTO decl (entry_id, ledger, customs, direction, status, channel, held,
                version, declared_on, updated_ms, due, lifecycle, version_seq, accepted)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
             ON CONFLICT (entry_id) DO UPDATE SET status = excluded.status,
                channel = excluded.channel, held = excluded.held, version = excluded.version,
                declared_on = excluded.declared_on, updated_ms = excluded.updated_ms,
                due = excluded.due, lifecycle = excluded.lifecycle,
                version_seq = excluded.version_seq, accepted = excluded.accepted",
            vec![
                text(record.entry_id.clone()),
                text(entry.ledger.clone()),
                text(record.customs.clone()),
                text(record.direction.as_str()),
                text(status.clone()),
                text(channel),
                held.clone(),
                int(record.lifecycle.version),
                text(version.declared_on.to_string()),
                int(entry.time_ms),
                text(version.due.to_string()),
                json(&record.lifecycle),
                int(entry.seq),
                int(i64::from(
                    version.subject.is_some_and(|s| s.get() != "null"),
                )),
            ],
        ));
        for party in &version.parties {
            statements.push(Statement::new(
                "INSERT INTO decl_party (party, entry_id) VALUES (?1, ?2)
                 ON CONFLICT (party, entry_id) DO NOTHING",
                vec![text(party.clone()), text(record.entry_id.clone())],
            ));
        }
        statements.push(Statement::new(
            "INSERT INTO decl_version (entry_id, version, ledger, seq, submission_id, time_ms)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6) ON CONFLICT (entry_id, version) DO NOTHING",
            vec![
                text(record.entry_id.clone()),
                int(record.lifecycle.version),
                text(entry.ledger.clone()),
                int(entry.seq),
                text(version.submission_id.clone()),
                int(entry.time_ms),
            ],
        ));
    } else {
        statements.push(Statement::new(
            "UPDATE decl SET status = ?2, held = ?3, lifecycle = ?4, updated_ms = ?5
             WHERE entry_id = ?1",
            vec![
                text(record.entry_id.clone()),
                text(status.clone()),
                held.clone(),
                json(&record.lifecycle),
                int(entry.time_ms),
            ],
        ));
    }
    let actor = serde_json::to_value(record.actor)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    statements.push(Statement::new(
        "INSERT INTO decl_event (ledger, seq, entry_id, submission_id, time_ms, version, actor,
            party, events, status, held, receipt_code, note, payment)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14)
         ON CONFLICT DO NOTHING",
        vec![
            text(entry.ledger.clone()),
            int(entry.seq),
            text(record.entry_id.clone()),
            text(entry.submission_id.clone()),
            int(entry.time_ms),
            int(record.lifecycle.version),
            text(actor),
            text(record.party.clone()),
            raw(record.events),
            text(status),
            held,
            text(record.lifecycle.receipt_channel().unwrap_or("")),
            text(record.note.clone()),
            record
                .payment
                .filter(|p| p.get() != "null")
                .map_or(text(""), raw),
        ],
    ));
    // The receipt, into the mailbox of every party named in the declaration, each mailbox
    // in its own order (the exchange centre's pull delivery reads it).
    if let Some(client_id) = &record.client_id {
        statements.push(Statement::new(
            "INSERT INTO decl_request (entry_id, client_id, seq) VALUES (?1, ?2, ?3)
             ON CONFLICT (entry_id, client_id) DO NOTHING",
            vec![
                text(record.entry_id.clone()),
                text(client_id.clone()),
                int(entry.seq),
            ],
        ));
    }
    // Parties in one order in every transaction, so two never wait on each other's rows.
    statements.push(Statement::new(
        "INSERT INTO mailbox_counter (party, last)
         SELECT p.party, 1 FROM decl_party p WHERE p.entry_id = ?1 ORDER BY p.party
         ON CONFLICT (party) DO UPDATE SET last = mailbox_counter.last + 1",
        vec![text(record.entry_id.clone())],
    ));
    statements.push(Statement::new(
        "INSERT INTO mailbox (party, cursor, entry_id, seq, time_ms)
         SELECT p.party, c.last, ?1, ?2, ?3
         FROM decl_party p JOIN mailbox_counter c ON c.party = p.party
         WHERE p.entry_id = ?1",
        vec![
            text(record.entry_id.clone()),
            int(entry.seq),
            int(entry.time_ms),
        ],
    ));
    statements
}
