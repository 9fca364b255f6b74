//! Cross-border e-commerce (CEB) messages: received, checked, decided, recorded, answered.
//!
//! `POST /api/v1/messages` routes every enterprise-to-customs CEB message here. A message is
//! read against the official schemas (`422` with a CEB900 format notice when it does not
//! satisfy them), its signature checked (one is required where an entity asks to be
//! declared, `appStatus` 2), and each of its entities decided:
//!
//! - orders (311), payments (411) and waybills (511) are stored, keyed as inventories name
//!   them, and acknowledged `120` (海关入库); other documents likewise;
//! - an import inventory (621) declared is matched against its order, payment and waybill
//!   (`100` 退单 with the mismatches' codes when they disagree), refused as a repeat
//!   (`-621004`) when its order was already declared, else numbered (`preNo`, `invtNo`),
//!   taxed — cross-border at 70 % within the buyer's limits, general trade above them — and
//!   released (`800`), with a CEB816 tax bill;
//! - a cancellation (623) or return (625) of a released inventory gives its value back to
//!   the buyer's yearly total (`399`), with a CEB818 voiding the tax bill of a cancellation.
//!
//! The whole message — body as received, every decision, every receipt written — is one
//! ledger entry (ledger [`LEDGER`]); the query tables below are kept from it in the same
//! transaction, and the receipts go into the sender's mailbox (and the guarantor's, for tax
//! bills). Inventories of one buyer are decided one at a time (striped locks held from
//! reading the yearly total to the durable append), so two at once can never both slip
//! under the limit.
//!
//! | table | one row per |
//! |---|---|
//! | `ceb_doc` | (kind, key): the order, payment, waybill or inventory on record, as decided |
//! | `ceb_invt` | inventory number: the inventory released, its bill and whether reversed |
//! | `ceb_buyer_year` | (buyer, year): what the buyer bought, in fen |

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use chrono::{Datelike, NaiveDateTime};
use jinguan_chinaport::ceb::{self, Edition, Entity, Fields, Message, Outcome};
use jinguan_clearance::crossborder::{
    self, Inventory, ItemQuantity, Order, Payment, Regime, Reversal, TaxBill, TaxBillIds, Waybill,
};
use jinguan_clearance::lifecycle::Channel;
use jinguan_ledger::{Entry, Submission};
use jinguan_store::projection::{Dialect, Projection, Statement, Value};
use jinguan_store::Status;
use jinguan_types::{CurrencyCode, HsCode};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::auth::Principal;
use crate::authz::{authorize, Action as Permission};
use crate::declarations::{as_int, as_text};
use crate::pki::Signer;
use crate::record::Received;
use crate::{blocking, internal, ApiError, App};

/// The ledger CEB messages are recorded in.
pub const LEDGER: &str = "crossborder";
/// Entry kind of a CEB message and what was decided.
pub const KIND: &str = "ceb.message";

/// What this node has decided and the ledger may not hold yet: each buyer's yearly total as
/// decided (loaded from `ceb_buyer_year` on first use, then kept here, so that deciding never
/// waits for an earlier decision's commit), and the orders released and inventories reversed
/// whose entries are still on their way. A decision whose entry is not written is taken back
/// ([`Changes::undo`]).
#[derive(Debug, Default)]
pub struct Decided {
    totals: std::sync::Mutex<Totals>,
    keys: std::sync::Mutex<std::collections::HashSet<String>>,
    recent: std::sync::Mutex<RecentDocs>,
}

/// A buyer's year: (buyer key, year).
type Slot = (String, i32);

/// Buyers' yearly totals as decided on this node ([`Decided`]). Bounded: when full, totals no
/// decision is using are dropped ([`Totals::make_room`]), to be read from the store again when
/// next needed — which is exact only if nothing this node decided for them is still on its
/// way to the store, and if the store was not read before a drop and used after it. So a
/// decision pins each total it reads ([`year_total`]) until its entry is written or given up
/// (the pins go when its [`Changes`] is dropped), and a stored total read is taken only if no
/// total was dropped since the read began (`drops`); else it is read again.
#[derive(Debug, Default)]
struct Totals {
    slots: std::collections::HashMap<Slot, KeptTotal>,
    /// Times totals were dropped: a read of the store that began at another count may have
    /// missed what a dropped total had and the store has since.
    drops: u64,
}

/// A total kept, and how many decisions have pinned it.
#[derive(Debug, Clone, Copy, Default)]
struct KeptTotal {
    total: Decimal,
    pins: u32,
}

/// Buyers' years [`Totals`] keeps: about a hundred bytes each.
const KEPT_TOTALS: usize = 1 << 20;

impl Totals {
    /// A kept total, pinned: it stays until [`Totals::unpin`].
    fn pin(&mut self, slot: &Slot) -> Option<Decimal> {
        let kept = self.slots.get_mut(slot)?;
        kept.pins += 1;
        Some(kept.total)
    }

    /// Keeps and pins `stored`, the store's total for `slot` as read since the drop count was
    /// `read_at`, unless a total was dropped since (`None`: read it again); a total kept
    /// meanwhile wins over the one read.
    fn load(&mut self, slot: Slot, stored: Decimal, read_at: u64) -> Option<Decimal> {
        if let Some(total) = self.pin(&slot) {
            return Some(total);
        }
        if self.drops != read_at {
            return None;
        }
        self.make_room(KEPT_TOTALS);
        self.slots.insert(
            slot,
            KeptTotal {
                total: stored,
                pins: 1,
            },
        );
        Some(stored)
    }

    /// Moves a pinned total.
    fn add(&mut self, slot: &Slot, delta: Decimal) {
        if let Some(kept) = self.slots.get_mut(slot) {
            kept.total += delta;
        }
    }

    fn unpin(&mut self, slot: &Slot) {
        if let Some(kept) = self.slots.get_mut(slot) {
            kept.pins = kept.pins.saturating_sub(1);
        }
    }

    /// At `bound` totals or more, drops unpinned ones down to seven eighths of it.
    fn make_room(&mut self, bound: usize) {
        if self.slots.len() < bound {
            return;
        }
        let keep = bound - bound / 8;
        let mut excess = self.slots.len().saturating_sub(keep);
        self.slots.retain(|_, kept| {
            if excess > 0 && kept.pins == 0 {
                excess -= 1;
                false
            } else {
                true
            }
        });
        self.drops += 1;
    }
}

/// An order, payment or waybill as matching reads it.
#[derive(Debug)]
enum Matched {
    Order(Order),
    Payment(Payment),
    Waybill(Waybill),
}

impl Matched {
    /// A document of `kind` typed, with its kind as kept in `ceb_doc`; `None` for kinds
    /// matching does not read.
    fn read(
        kind: &str,
        entity: &Entity,
    ) -> Option<Result<(&'static str, Self), Vec<jinguan_types::Diagnostic>>> {
        Some(match kind {
            "order" => Order::from_entity(entity).map(|o| ("order", Self::Order(o))),
            "payment" => Payment::from_entity(entity).map(|p| ("payment", Self::Payment(p))),
            "waybill" => Waybill::from_entity(entity).map(|w| ("waybill", Self::Waybill(w))),
            _ => return None,
        })
    }
}

/// The orders, payments and waybills this node recorded last, as `ceb_doc` holds them
/// (`None`: on record but not declared, so nothing to match), for the inventories that
/// follow them within minutes: read here, an inventory's documents cost no query and no
/// JSON. Kept only where this node is the store's sole writer (what it appended is then
/// all `ceb_doc` holds); a document not here is read from the table. Bounded: the oldest
/// go first.
#[derive(Debug, Default)]
struct RecentDocs {
    /// By key, the order, payment and waybill kept under it (an order and its payment share
    /// their key): one lookup by the key as borrowed, no key built to ask.
    docs: std::collections::HashMap<String, [Option<Kept>; 3]>,
    /// What was kept, oldest first: (slot, key).
    order: std::collections::VecDeque<(usize, String)>,
}

/// A document kept, with the entry that recorded it.
type Kept = (u64, Option<Arc<Matched>>);

/// Documents [`RecentDocs`] keeps: a few hundred megabytes at most, some hours of a large
/// platform's parcels.
const RECENT_DOCS: usize = 1 << 18;

/// The slot of a kind [`RecentDocs`] keeps.
fn slot_of(kind: &str) -> Option<usize> {
    match kind {
        "order" => Some(0),
        "payment" => Some(1),
        "waybill" => Some(2),
        _ => None,
    }
}

impl RecentDocs {
    /// Records what entry `seq` put in `ceb_doc`, unless a later entry's is already here.
    fn record(&mut self, seq: u64, kind: &'static str, key: &str, doc: Option<Arc<Matched>>) {
        let Some(slot) = slot_of(kind) else {
            return;
        };
        if let Some(held) = self.docs.get_mut(key).and_then(|kept| kept[slot].as_mut()) {
            if held.0 <= seq {
                *held = (seq, doc);
            }
            return;
        }
        if self.order.len() >= RECENT_DOCS {
            if let Some((old_slot, old_key)) = self.order.pop_front() {
                if let Some(kept) = self.docs.get_mut(&old_key) {
                    kept[old_slot] = None;
                    if kept.iter().all(Option::is_none) {
                        self.docs.remove(&old_key);
                    }
                }
            }
        }
        self.order.push_back((slot, key.to_owned()));
        self.docs.entry(key.to_owned()).or_default()[slot] = Some((seq, doc));
    }

    /// `Some(doc)` when kept (`Some(None)`: on record, not declared); `None` when not known
    /// here.
    fn get(&self, kind: &str, key: &str) -> Option<Option<Arc<Matched>>> {
        let slot = slot_of(kind)?;
        self.docs.get(key)?[slot]
            .as_ref()
            .map(|(_, doc)| doc.clone())
    }
}

/// The changes one message made to [`Decided`]. Dropped, it unpins the totals it read.
#[derive(Debug)]
struct Changes<'a> {
    decided: &'a Decided,
    /// Totals read ([`year_total`]), each pinned once.
    pinned: Vec<Slot>,
    deltas: Vec<(Slot, Decimal)>,
    keys: Vec<String>,
    /// Tax bills of the message's released inventories, with their guarantors.
    bills: Vec<(String, Entity)>,
    /// Summary results (CEB792) of the message's accepted export summaries.
    summaries: Vec<Entity>,
    /// Orders, payments and waybills the message records, for [`RecentDocs`] once written.
    docs: Vec<(&'static str, String, Option<Arc<Matched>>)>,
}

impl Drop for Changes<'_> {
    fn drop(&mut self) {
        let mut totals = self
            .decided
            .totals
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        for slot in &self.pinned {
            totals.unpin(slot);
        }
    }
}

impl<'a> Changes<'a> {
    fn new(decided: &'a Decided) -> Self {
        Self {
            decided,
            pinned: Vec::new(),
            deltas: Vec::new(),
            keys: Vec::new(),
            bills: Vec::new(),
            summaries: Vec::new(),
            docs: Vec::new(),
        }
    }

    /// The entry is written (or refused): its keys are the ledger's to answer for now.
    fn settle(&self, decided: &Decided) {
        let mut keys = decided.keys.lock().unwrap_or_else(|e| e.into_inner());
        for key in &self.keys {
            keys.remove(key);
        }
    }

    /// The entry is written as entry `seq`: its documents are the ones on record.
    fn remember(&mut self, decided: &Decided, seq: u64) {
        let mut recent = decided.recent.lock().unwrap_or_else(|e| e.into_inner());
        for (kind, key, doc) in self.docs.drain(..) {
            recent.record(seq, kind, &key, doc);
        }
    }

    /// The entry was not written: its amounts leave the buyers' totals.
    fn undo(&self, decided: &Decided) {
        let mut totals = decided.totals.lock().unwrap_or_else(|e| e.into_inner());
        for (slot, delta) in &self.deltas {
            // Pinned since it was read: still kept.
            totals.add(slot, -*delta);
        }
    }
}

/// One receipt or notice written, and who receives it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Written {
    /// Its message type (`CEB622Message`).
    pub message_type: String,
    /// The document.
    pub xml: String,
    /// The mailboxes it goes to.
    pub parties: Vec<String>,
}

/// A document stored, as `ceb_doc` keeps it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Doc {
    /// `order`, `payment`, `waybill`, `inventory`, or the entity's name for other kinds.
    pub kind: String,
    /// How it is found: `ebpCode/orderNo` for orders, payments and inventories,
    /// `logisticsCode/logisticsNo` for waybills.
    pub key: String,
    /// The `returnStatus` given.
    pub status: String,
    /// The entity as received.
    pub entity: Entity,
}

/// An inventory released, as `ceb_invt` keeps it: the decision and what its reversals need.
/// The inventory itself is the body as received, beside it in the same entry; it is not
/// copied (it was, as `inventory`, in entries written before; those still read).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(from = "ReleasedStored")]
pub struct Released {
    /// The inventory number given.
    pub invt_no: String,
    /// Its document key.
    pub key: String,
    /// Its buyer's key.
    pub buyer: String,
    /// The year it counts in.
    pub year: i32,
    /// Its customs office (`customsCode`): its reversals are numbered in that office's series.
    pub customs_code: String,
    /// Its guarantor (`assureCode`, empty when none), who gets its tax bill and notices.
    pub assure_code: String,
    /// Its items' numbers and declared quantities, which a partial return is counted against.
    pub items: Vec<ItemQuantity>,
    /// Its bill.
    pub bill: TaxBill,
}

impl Released {
    fn of(invt_no: String, inventory: &Inventory, year: i32, bill: TaxBill) -> Self {
        Self {
            invt_no,
            key: inventory.key(),
            buyer: inventory.buyer.key(),
            year,
            customs_code: inventory.customs_code.clone(),
            assure_code: inventory.assure_code.clone(),
            items: inventory.quantities(),
            bill,
        }
    }
}

/// A [`Released`] as stored, now or in entries that carried the typed inventory instead of
/// the three fields taken from it.
#[derive(Deserialize)]
struct ReleasedStored {
    invt_no: String,
    key: String,
    buyer: String,
    year: i32,
    #[serde(default)]
    customs_code: Option<String>,
    #[serde(default)]
    assure_code: Option<String>,
    #[serde(default)]
    items: Option<Vec<ItemQuantity>>,
    #[serde(default)]
    inventory: Option<Inventory>,
    bill: TaxBill,
}

impl From<ReleasedStored> for Released {
    fn from(stored: ReleasedStored) -> Self {
        let inventory = stored.inventory.as_ref();
        let taken = |own: Option<String>, of: fn(&Inventory) -> &String| {
            own.or_else(|| inventory.map(|i| of(i).clone()))
                .unwrap_or_default()
        };
        Self {
            customs_code: taken(stored.customs_code, |i| &i.customs_code),
            assure_code: taken(stored.assure_code, |i| &i.assure_code),
            items: stored
                .items
                .or_else(|| inventory.map(Inventory::quantities))
                .unwrap_or_default(),
            invt_no: stored.invt_no,
            key: stored.key,
            buyer: stored.buyer,
            year: stored.year,
            bill: stored.bill,
        }
    }
}

/// An inventory selected for a document review (yellow) or an inspection (red): numbered and
/// taxed, its value counted in the buyer's year, waiting in `ceb_invt` (status `held`) for an
/// officer's decision ([`crate::inventories`]).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Held {
    /// What a release would record.
    #[serde(flatten)]
    pub released: Released,
    /// The inventory as sent, for the receipt that answers the decision.
    pub entity: Entity,
    /// Its pre-entry number (`preNo`), which every later receipt repeats.
    pub pre_no: String,
    /// The edition it came in.
    pub edition: String,
    /// Who sent it (the receipt's mailbox).
    pub sender: String,
    /// The tax bill a release sends (CEB816), to the sender and to its guarantor.
    pub tax_bill: Entity,
    /// Why it was selected.
    pub selection: jinguan_clearance::risk::Decision,
}

/// A reversal of a released inventory.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Reversed {
    /// The inventory reversed.
    pub invt_no: String,
    /// `cancelled` (623) or `returned` (625).
    pub status: String,
    /// Its buyer's key.
    pub buyer: String,
    /// The year it counted in.
    pub year: i32,
    /// What goes back to the buyer's yearly total, in yuan.
    pub refund: Decimal,
}

/// The ledger entry of one CEB message.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CebRecord {
    /// Its type (`CEB621Message`).
    pub root: String,
    /// Its `guid`.
    pub guid: String,
    /// The edition whose schema it satisfied.
    pub edition: String,
    /// Who sent it.
    pub party: String,
    /// Who signed it, when signed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signer: Option<Signer>,
    /// The request it came in.
    pub origin: crate::origin::Origin,
    /// The body as received.
    pub received: Received,
    /// Documents stored.
    pub docs: Vec<Doc>,
    /// Inventories released.
    pub released: Vec<Released>,
    /// Reversals.
    pub reversed: Vec<Reversed>,
    /// Inventories held for an officer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub held: Vec<Held>,
    /// Receipts and notices written.
    pub written: Vec<Written>,
}

fn fen(yuan: Decimal) -> i64 {
    let fen = jinguan_types::round_fen(yuan) * Decimal::ONE_HUNDRED;
    i64::try_from(fen.trunc().mantissa()).unwrap_or(i64::MAX)
}

/// The CEB query tables.
pub struct CebTables;

impl Projection for CebTables {
    fn name(&self) -> &str {
        "crossborder"
    }

    fn create(&self, dialect: Dialect) -> Vec<String> {
        let clustered = dialect.clustered();
        vec![
            format!(
                "CREATE TABLE IF NOT EXISTS ceb_doc (
                kind TEXT NOT NULL, key TEXT NOT NULL, ledger TEXT NOT NULL, seq BIGINT NOT NULL,
                status TEXT NOT NULL, party TEXT NOT NULL, entity TEXT NOT NULL,
                PRIMARY KEY (kind, key)){clustered}"
            ),
            format!(
                "CREATE TABLE IF NOT EXISTS ceb_invt (
                invt_no TEXT PRIMARY KEY, key TEXT NOT NULL, ledger TEXT NOT NULL,
                seq BIGINT NOT NULL, buyer TEXT NOT NULL, year BIGINT NOT NULL,
                value_fen BIGINT NOT NULL, status TEXT NOT NULL, released TEXT NOT NULL){clustered}"
            ),
            "CREATE INDEX IF NOT EXISTS ceb_invt_key ON ceb_invt (key)".into(),
            format!(
                "CREATE TABLE IF NOT EXISTS ceb_buyer_year (
                buyer TEXT NOT NULL, year BIGINT NOT NULL, total_fen BIGINT NOT NULL,
                PRIMARY KEY (buyer, year)){clustered}"
            ),
            // Receipts are read from the entries that wrote them ([`receipts_in`]); the copy
            // databases made before kept in a table of their own goes.
            "DROP TABLE IF EXISTS ceb_receipt".into(),
        ]
    }

    fn reset(&self) -> Vec<String> {
        ["ceb_doc", "ceb_invt", "ceb_buyer_year"]
            .iter()
            .map(|t| format!("DELETE FROM {t}"))
            .collect()
    }

    fn apply(&self, entry: &Entry) -> Vec<Statement> {
        if entry.kind == DECISION_KIND {
            return decision_rows(entry);
        }
        if entry.kind != KIND {
            return Vec::new();
        }
        // Read without the body as received and without building the documents: the
        // ledger's one writer thread runs this for every entry, and copies raw JSON where
        // a table keeps JSON.
        let Ok(record) = serde_json::from_slice::<Rows<'_>>(&entry.payload) else {
            return Vec::new();
        };
        rows(entry, &record)
    }
}

/// What the tables take from a [`CebRecord`], borrowed from the entry's payload.
#[derive(Deserialize)]
struct Rows<'a> {
    #[serde(borrow)]
    party: std::borrow::Cow<'a, str>,
    #[serde(borrow, default)]
    docs: Vec<DocRow<'a>>,
    #[serde(borrow, default)]
    released: Vec<&'a serde_json::value::RawValue>,
    #[serde(default)]
    reversed: Vec<Reversed>,
    #[serde(borrow, default)]
    held: Vec<&'a serde_json::value::RawValue>,
    #[serde(borrow, default)]
    written: Vec<WrittenRow<'a>>,
}

#[derive(Deserialize)]
struct DocRow<'a> {
    #[serde(borrow)]
    kind: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    key: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    status: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    entity: &'a serde_json::value::RawValue,
}

#[derive(Deserialize)]
struct ReleasedKeys<'a> {
    #[serde(borrow)]
    invt_no: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    key: std::borrow::Cow<'a, str>,
    #[serde(borrow)]
    buyer: std::borrow::Cow<'a, str>,
    year: i32,
    bill: BillValue,
}

#[derive(Deserialize)]
struct BillValue {
    value: Decimal,
}

#[derive(Deserialize)]
struct WrittenRow<'a> {
    #[serde(borrow)]
    parties: Vec<std::borrow::Cow<'a, str>>,
}

/// The China-format receipts an entry wrote, in order, each as (message type, XML): the
/// `n` of a mailbox row `ceb:<ledger>:<seq>:<n>` indexes these. Empty for an entry of any
/// other kind, or one that does not read.
pub(crate) fn receipts_in(entry: &Entry) -> Vec<(String, String)> {
    #[derive(Deserialize)]
    struct Kept {
        message_type: String,
        xml: String,
    }
    /// A cross-border message's or an officer's decision's receipts.
    #[derive(Deserialize)]
    struct Written {
        #[serde(default)]
        written: Vec<Kept>,
    }
    /// A bonded message's one receipt.
    #[derive(Deserialize)]
    struct Bonded {
        receipt_type: String,
        receipt: String,
    }
    match entry.kind.as_str() {
        KIND | DECISION_KIND => serde_json::from_slice::<Written>(&entry.payload)
            .map(|w| {
                w.written
                    .into_iter()
                    .map(|k| (k.message_type, k.xml))
                    .collect()
            })
            .unwrap_or_default(),
        crate::bonded::KIND => serde_json::from_slice::<Bonded>(&entry.payload)
            .map(|b| vec![(b.receipt_type, b.receipt)])
            .unwrap_or_default(),
        _ => Vec::new(),
    }
}

fn text(value: impl Into<String>) -> Value {
    Value::Text(value.into())
}

fn int(value: i64) -> Value {
    Value::Integer(value)
}

fn seq(entry: &Entry) -> Value {
    int(i64::try_from(entry.seq).unwrap_or(i64::MAX))
}

fn rows(entry: &Entry, record: &Rows<'_>) -> Vec<Statement> {
    let mut statements = Vec::new();
    for doc in &record.docs {
        statements.push(Statement::new(
            "INSERT INTO ceb_doc (kind, key, ledger, seq, status, party, entity)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)
             ON CONFLICT (kind, key) DO UPDATE SET ledger = excluded.ledger,
                seq = excluded.seq, status = excluded.status, party = excluded.party,
                entity = excluded.entity",
            vec![
                text(doc.kind.as_ref()),
                text(doc.key.as_ref()),
                text(entry.ledger.clone()),
                seq(entry),
                text(doc.status.as_ref()),
                text(record.party.as_ref()),
                text(doc.entity.get()),
            ],
        ));
    }
    let numbered = record
        .released
        .iter()
        .map(|r| (r, "released"))
        .chain(record.held.iter().map(|r| (r, "held")));
    for (raw, status) in numbered {
        let Ok(released) = serde_json::from_str::<ReleasedKeys<'_>>(raw.get()) else {
            continue;
        };
        let value = fen(released.bill.value);
        // A held inventory counts in its buyer's year from the start, as a released one
        // does: an officer's refusal gives it back.
        statements.push(Statement::new(
            "INSERT INTO ceb_invt (invt_no, key, ledger, seq, buyer, year, value_fen, status, released)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?9, ?8)
             ON CONFLICT (invt_no) DO NOTHING",
            vec![
                text(released.invt_no.as_ref()),
                text(released.key.as_ref()),
                text(entry.ledger.clone()),
                seq(entry),
                text(released.buyer.as_ref()),
                int(i64::from(released.year)),
                int(value),
                text(raw.get()),
                text(status),
            ],
        ));
        statements.push(Statement::new(
            "INSERT INTO ceb_buyer_year (buyer, year, total_fen) VALUES (?1, ?2, ?3)
             ON CONFLICT (buyer, year) DO UPDATE SET total_fen = ceb_buyer_year.total_fen + ?3",
            vec![
                text(released.buyer.as_ref()),
                int(i64::from(released.year)),
                int(value),
            ],
        ));
    }
    for reversed in &record.reversed {
        statements.push(Statement::new(
            "UPDATE ceb_invt SET status = ?2 WHERE invt_no = ?1",
            vec![
                text(reversed.invt_no.clone()),
                text(reversed.status.clone()),
            ],
        ));
        statements.push(Statement::new(
            "UPDATE ceb_buyer_year SET total_fen = total_fen - ?3 WHERE buyer = ?1 AND year = ?2",
            vec![
                text(reversed.buyer.clone()),
                int(i64::from(reversed.year)),
                int(fen(reversed.refund)),
            ],
        ));
    }
    statements.extend(receipt_statements(
        entry,
        record
            .written
            .iter()
            .map(|w| w.parties.iter().map(AsRef::as_ref).collect()),
    ));
    statements
}

/// The statements that put the China-format receipts an entry wrote into their parties'
/// mailboxes, one row each with id `ceb:<ledger>:<seq>:<n>` (the entry's `n`th receipt): each
/// item is the receipt's parties. The receipts themselves stay in the entry, where
/// [`receipts_in`] reads them; no table keeps them a second time (they are a third of a
/// cross-border entry's bytes, and the writer would write them twice). Shared by every
/// family whose receipts are XML documents (CEB, 金关二期).
pub(crate) fn receipt_statements<'a>(
    entry: &Entry,
    written: impl IntoIterator<Item = Vec<&'a str>>,
) -> Vec<Statement> {
    let mut statements = Vec::new();
    // Parties in one order in every transaction, as the declarations' mailboxes are filled.
    for (n, mut parties) in written.into_iter().enumerate() {
        let id = format!("ceb:{}:{}:{n}", entry.ledger, entry.seq);
        parties.sort_unstable();
        parties.dedup();
        for party in parties {
            statements.push(Statement::new(
                "INSERT INTO mailbox_counter (party, last) VALUES (?1, 1)
                 ON CONFLICT (party) DO UPDATE SET last = mailbox_counter.last + 1",
                vec![text(party)],
            ));
            statements.push(Statement::new(
                "INSERT INTO mailbox (party, cursor, entry_id, seq, time_ms)
                 SELECT ?1, last, ?2, ?3, ?4 FROM mailbox_counter WHERE party = ?1",
                vec![
                    text(party),
                    text(id.clone()),
                    seq(entry),
                    int(entry.time_ms),
                ],
            ));
        }
    }
    statements
}

/// `POST /api/v1/messages` for a CEB message.
pub(crate) async fn receive(
    app: Arc<App>,
    principal: Principal,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    authorize(&app, &principal, Permission::Declare, "crossborder").await?;
    let body = crate::declarations::body_or_error(body)?;
    blocking(move || decide(&app, &principal, &headers, &body)).await
}

/// An XML answer, with the ledger reference of its entry when there is one.
pub(crate) fn xml_response(status: StatusCode, xml: String, reference: Option<String>) -> Response {
    let mut response = (status, xml).into_response();
    response.headers_mut().insert(
        axum::http::header::CONTENT_TYPE,
        HeaderValue::from_static("application/xml; charset=utf-8"),
    );
    if let Some(reference) = reference.and_then(|r| HeaderValue::from_str(&r).ok()) {
        response.headers_mut().insert("x-ledger-ref", reference);
    }
    response
}

/// The time now in China (UTC+8): receipts carry local times, as the E-Port's do.
pub(crate) fn time_of(app: &App) -> NaiveDateTime {
    chrono::DateTime::from_timestamp_millis(app.now_ms() + 8 * 3_600_000)
        .unwrap_or_default()
        .naive_utc()
}

/// A new upper-case 36-character id for a notice.
fn new_guid(app: &App, salt: &str) -> String {
    let digest = jinguan_crypto::sm3(format!("{}:{salt}", app.now_ms()).as_bytes());
    let hex = jinguan_crypto::hex::encode(&digest[..16]).to_ascii_uppercase();
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

fn format_notice(app: &App, original: &[u8], root: &str, guid: &str, info: &str) -> String {
    let text = String::from_utf8_lossy(original);
    let notice = ceb::format_check_entity(
        &new_guid(app, guid),
        "-900001",
        info,
        time_of(app),
        guid,
        root,
        &text,
    );
    ceb::write(
        Edition::Gacc202205,
        "CEB900Message",
        &new_guid(app, "900"),
        &[notice],
        None,
    )
    .unwrap_or_default()
}

fn decide(
    app: &App,
    principal: &Principal,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, ApiError> {
    let (message, diagnostics) =
        ceb::parse(body).map_err(|e| ApiError::bad_request(e.code(), e.to_string()))?;
    if !diagnostics.is_empty() {
        let info = diagnostics
            .iter()
            .take(20)
            .map(|d| format!("[Code:{};Desc:{}: {}]", d.code, d.path, d.message))
            .collect::<Vec<_>>()
            .join("");
        let notice = format_notice(app, body, &message.root, &message.guid, &info);
        return Ok(xml_response(StatusCode::UNPROCESSABLE_ENTITY, notice, None));
    }
    let Some(receipt_root) = ceb::receipt_of(&message.root) else {
        return Err(ApiError::unprocessable(
            "H0490",
            format!(
                "{} is a message customs sends; enterprises send {}",
                message.root,
                ceb::RECEIPT_OF
                    .iter()
                    .map(|(i, _)| *i)
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        ));
    };
    // The signature: checked when there is one; required where an entity is declared.
    // Refusals are audited, as at the declarations' door.
    let refused = |e: ApiError| {
        if matches!(e.status, 401 | 403) {
            crate::audit::denied(app, principal, "declare", &message.guid, body, e)
        } else {
            e
        }
    };
    let signer = crate::pki::check_signature(app, principal, headers, body).map_err(refused)?;
    if signer.is_none() && message.declares() {
        return Err(refused(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "H0420",
            "appStatus 2 (declared) requires the declaring enterprise's XML signature",
        )));
    }
    let edition = message.edition.unwrap_or(Edition::Gacc202205);
    let key = format!(
        "{}:{}:ceb:{}:{}",
        principal.party.len(),
        principal.party,
        message.root,
        message.guid
    );
    // A repeat of a message on record is answered with what was answered then.
    if let Some(answer) = recorded_answer(app, &key)? {
        return Ok(answer);
    }
    // Inventories, cancellations and returns of one buyer are decided one at a time.
    let buyers: Vec<String> = message
        .entities
        .iter()
        .filter_map(|e| {
            let head = &e.head;
            Some(format!(
                "{}:{}",
                head.get("buyerIdType")?,
                head.get("buyerIdNumber")?
            ))
        })
        .collect();
    let guards = app.buyer_locks(&buyers);
    let mut record = CebRecord {
        root: message.root.clone(),
        guid: message.guid.clone(),
        edition: edition.id().to_owned(),
        party: principal.party.clone(),
        signer,
        origin: principal.origin.clone(),
        received: crate::declarations::received_of("application/xml", body),
        docs: Vec::new(),
        released: Vec::new(),
        reversed: Vec::new(),
        held: Vec::new(),
        written: Vec::new(),
    };
    let now = time_of(app);
    let mut changes = Changes::new(&app.crossborder);
    let decided = decide_entities(
        app,
        &message,
        edition,
        receipt_root,
        &mut record,
        &mut changes,
        now,
    );
    let returns = match decided {
        Ok(returns) => returns,
        Err(e) => {
            changes.settle(&app.crossborder);
            changes.undo(&app.crossborder);
            return Err(e);
        }
    };
    // Decided, the totals moved in `Decided`: the buyers' next messages may be decided while
    // this one's receipts and entry are written (if they are not, `undo` takes the amounts
    // back, which only ever makes a later decision stricter).
    drop(guards);
    // One CEB816 for each guarantor's bills (a message of 100 inventories is one notice to
    // the sender and one to each guarantor, not a hundred).
    let mut guarantors: Vec<&str> = changes.bills.iter().map(|(g, _)| g.as_str()).collect();
    guarantors.sort_unstable();
    guarantors.dedup();
    let mut notices = Vec::new();
    for guarantor in guarantors {
        let bills: Vec<Entity> = changes
            .bills
            .iter()
            .filter(|(g, _)| g == guarantor)
            .map(|(_, e)| e.clone())
            .collect();
        let guid = new_guid(app, &format!("{}:{guarantor}", message.guid));
        match ceb::write(Edition::Gacc202205, "CEB816Message", &guid, &bills, None) {
            Ok(xml) => {
                let mut parties = vec![principal.party.clone()];
                if !guarantor.is_empty() {
                    parties.push(guarantor.to_owned());
                }
                notices.push(Written {
                    message_type: "CEB816Message".into(),
                    xml,
                    parties,
                });
            }
            Err(e) => {
                changes.settle(&app.crossborder);
                changes.undo(&app.crossborder);
                return Err(internal(e.to_string()));
            }
        }
    }
    if !changes.summaries.is_empty() {
        let guid = new_guid(app, &format!("{}:792", message.guid));
        match ceb::write(
            Edition::Gacc202205,
            "CEB792Message",
            &guid,
            &changes.summaries,
            None,
        ) {
            Ok(xml) => notices.push(Written {
                message_type: "CEB792Message".into(),
                xml,
                parties: vec![principal.party.clone()],
            }),
            Err(e) => {
                changes.settle(&app.crossborder);
                changes.undo(&app.crossborder);
                return Err(internal(e.to_string()));
            }
        }
    }
    record.written.extend(notices);
    let receipt = match ceb::write(edition, receipt_root, &message.guid, &returns, None) {
        Ok(receipt) => receipt,
        Err(e) => {
            changes.settle(&app.crossborder);
            changes.undo(&app.crossborder);
            return Err(internal(e.to_string()));
        }
    };
    record.written.insert(
        0,
        Written {
            message_type: receipt_root.to_owned(),
            xml: receipt.clone(),
            parties: vec![principal.party.clone()],
        },
    );
    let payload = match serde_json::to_vec(&record) {
        Ok(payload) => payload,
        Err(e) => {
            changes.settle(&app.crossborder);
            changes.undo(&app.crossborder);
            return Err(internal(e));
        }
    };
    let submission = Submission {
        kind: KIND.into(),
        schema_version: 1,
        submitter: principal.party.clone(),
        submission_id: key.clone(),
        payload,
        submitter_signature: None,
    };
    let appended = app.store.append(LEDGER, submission);
    changes.settle(&app.crossborder);
    let appended = match appended {
        Ok(appended) if appended.status == Status::Created => {
            changes.remember(&app.crossborder, appended.seq);
            appended
        }
        Ok(appended) => {
            // Identical content already on record: it counted there, not again here.
            changes.undo(&app.crossborder);
            appended
        }
        // The same message twice at once: the other was recorded first.
        Err(e) if e.code() == "S0001" => {
            changes.undo(&app.crossborder);
            return recorded_answer(app, &key)?.ok_or_else(|| ApiError::store(e));
        }
        Err(e) => {
            changes.undo(&app.crossborder);
            return Err(ApiError::store(e));
        }
    };
    app.mailboxes_filled();
    let status = if appended.status == Status::Created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok(xml_response(
        status,
        receipt,
        Some(format!("{LEDGER}:{}", appended.seq)),
    ))
}

/// Every entity of a message decided, in order: the returns answering them.
fn decide_entities(
    app: &App,
    message: &Message,
    edition: Edition,
    receipt_root: &str,
    record: &mut CebRecord,
    changes: &mut Changes,
    now: NaiveDateTime,
) -> Result<Vec<Entity>, ApiError> {
    let mut returns = Vec::new();
    let prefetched = if message.number() == "621" {
        Prefetched::read(app, &message.entities, now.year())?
    } else {
        Prefetched::default()
    };
    let required = ceb::required_fields(edition, receipt_root);
    for entity in &message.entities {
        let mut outcome = match message.number() {
            "621" => inventory(app, &prefetched, entity, record, changes, now)?,
            "623" | "625" => reversal(app, message, entity, record, changes, now)?,
            "603" => export_inventory(app, entity, record, changes, now)?,
            "701" => summary(app, entity, record, changes, now)?,
            _ => document(app, message, entity, record, changes),
        };
        complete(app, &required, entity, &mut outcome, now)?;
        let returned = ceb::receipt_entity(edition, receipt_root, entity, &outcome, now)
            .ok_or_else(|| internal(format!("no receipt entity for {receipt_root}")))?;
        returns.push(returned);
    }
    Ok(returns)
}

/// Fills what a receipt requires that neither the decision nor the message gave: the
/// pre-entry number (`preNo`, given by the E-Port on receipt whatever customs decides: `B`,
/// the date and a serial of the customs district) and, where the message left its own
/// number out, `copNo` as the order number.
fn complete(
    app: &App,
    required: &[String],
    entity: &Entity,
    outcome: &mut Outcome,
    now: NaiveDateTime,
) -> Result<(), ApiError> {
    let missing = |outcome: &Outcome, name: &str| {
        required.iter().any(|r| r == name)
            && outcome.assigned.get(name).is_none()
            && entity.head.get(name).is_none()
    };
    if missing(outcome, "preNo") {
        let customs = entity.head.get("customsCode").unwrap_or("0000");
        let serial = app.next_serial(customs).map_err(ApiError::store)?;
        outcome
            .assigned
            .set("preNo", format!("B{}{serial:09}", now.format("%Y%m%d")));
    }
    if missing(outcome, "copNo") {
        let order: String = entity.head.text("orderNo").chars().take(20).collect();
        outcome.assigned.set("copNo", order);
    }
    // An export inventory's receipt names its number even when none was given (CEB604
    // requires the element; empty is what a refused one has).
    if missing(outcome, "invtNo") {
        outcome.assigned.set("invtNo", "");
    }
    Ok(())
}

/// The receipt recorded for a message already on the ledger.
fn recorded_answer(app: &App, key: &str) -> Result<Option<Response>, ApiError> {
    let Some(seq) = app.store.seq_of(LEDGER, key).map_err(ApiError::store)? else {
        return Ok(None);
    };
    let (entry, _) = app.store.entry(LEDGER, seq).map_err(ApiError::store)?;
    let record: CebRecord = serde_json::from_slice(&entry.payload).map_err(internal)?;
    let xml = record
        .written
        .first()
        .map(|w| w.xml.clone())
        .unwrap_or_default();
    Ok(Some(xml_response(
        StatusCode::OK,
        xml,
        Some(format!("{LEDGER}:{seq}")),
    )))
}

/// An inventory kept undeclared (暂存, `appStatus` 1): stored as sent, answered `1`.
fn keep_draft(record: &mut CebRecord, kind: &str, key: String, entity: &Entity) -> Outcome {
    record.docs.push(Doc {
        kind: kind.to_owned(),
        key,
        status: "1".into(),
        entity: entity.clone(),
    });
    outcome("1", "电子口岸已暂存", Fields::default())
}

fn outcome(status: &str, info: impl Into<String>, assigned: Fields) -> Outcome {
    Outcome {
        status: status.to_owned(),
        info: info.into(),
        assigned,
    }
}

fn doc_key(kind: &str, head: &Fields) -> String {
    match kind {
        "waybill" => format!(
            "{}/{}",
            head.text("logisticsCode"),
            head.text("logisticsNo")
        ),
        _ => format!("{}/{}", head.text("ebpCode"), head.text("orderNo")),
    }
}

/// Orders, payments, waybills and every other document: stored and acknowledged.
fn document(
    app: &App,
    message: &Message,
    entity: &Entity,
    record: &mut CebRecord,
    changes: &mut Changes,
) -> Outcome {
    let kind = match message.number() {
        "311" => "order",
        "411" => "payment",
        "511" => "waybill",
        _ => entity.name.as_str(),
    };
    let matched = match Matched::read(kind, entity).transpose() {
        Ok(matched) => matched,
        Err(diagnostics) => {
            return outcome(
                &format!("-{}001", message.number()),
                describe(&diagnostics),
                Fields::default(),
            )
        }
    };
    let declared = entity.head.get("appStatus") == Some("2");
    let status = if declared { "120" } else { "1" };
    let key = doc_key(kind, &entity.head);
    if let Some((kind, matched)) = matched.filter(|_| app.store.sole_writer()) {
        changes
            .docs
            .push((kind, key.clone(), declared.then(|| Arc::new(matched))));
    }
    record.docs.push(Doc {
        kind: kind.to_owned(),
        key,
        status: status.to_owned(),
        entity: entity.clone(),
    });
    let info = if declared {
        "[Code:2100;Desc:海关入库]"
    } else {
        "电子口岸已暂存"
    };
    outcome(status, info, Fields::default())
}

fn describe(diagnostics: &[jinguan_types::Diagnostic]) -> String {
    diagnostics
        .iter()
        .map(|d| format!("[Code:{};Desc:{}: {}]", d.code, d.path, d.message))
        .collect::<Vec<_>>()
        .join("")
}

/// What a message's inventories are matched against, read in two queries for the whole
/// message rather than four per inventory: the documents on record under their keys, and
/// the orders whose inventory was already released.
#[derive(Default)]
struct Prefetched {
    /// Orders, payments and waybills by (kind, key), declared and on record.
    documents: std::collections::HashMap<(&'static str, String), Arc<Matched>>,
    released: std::collections::HashSet<String>,
    /// Each e-commerce enterprise's credit class, for selectivity (read once a message).
    credit: std::collections::HashMap<String, String>,
    /// The buyers whose stored yearly totals were read (one query a message, not one an
    /// inventory), and those totals by (buyer, year); a year with no row is zero.
    buyers: std::collections::HashSet<String>,
    totals: std::collections::HashMap<(String, i32), Decimal>,
    /// [`Totals`]' drop count when the buyers were chosen, before their totals were read.
    read_at: u64,
}

impl Prefetched {
    /// What the inventories `entities` need read, `year` being the year most count in.
    fn read(app: &App, entities: &[Entity], year: i32) -> Result<Self, ApiError> {
        let mut found = Self::default();
        found.read_totals(app, entities, year)?;
        let mut wanted: Vec<(&'static str, String)> = Vec::new();
        let mut orders: Vec<String> = Vec::new();
        for entity in entities {
            let order = doc_key("order", &entity.head);
            wanted.push(("order", order.clone()));
            wanted.push(("payment", order.clone()));
            wanted.push(("waybill", doc_key("waybill", &entity.head)));
            orders.push(order);
        }
        wanted.sort_unstable();
        wanted.dedup();
        orders.sort_unstable();
        orders.dedup();
        if wanted.is_empty() {
            return Ok(found);
        }
        // What this node recorded last needs no query; the rest is read by exact key.
        let missing: Vec<(&'static str, String)> = {
            let recent = app
                .crossborder
                .recent
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            wanted
                .into_iter()
                .filter(|(kind, key)| match recent.get(kind, key) {
                    Some(doc) => {
                        if let Some(doc) = doc {
                            found.documents.insert((kind, key.clone()), doc);
                        }
                        false
                    }
                    None => true,
                })
                .collect()
        };
        if !missing.is_empty() {
            let mut values = Vec::new();
            let selects: Vec<String> = ["order", "payment", "waybill"]
                .iter()
                .filter_map(|kind| {
                    let keys: Vec<String> = missing
                        .iter()
                        .filter(|(k, _)| k == kind)
                        .map(|(_, key)| {
                            values.push(text(key.as_str()));
                            format!("?{}", values.len())
                        })
                        .collect();
                    (!keys.is_empty()).then(|| {
                        format!(
                            "SELECT kind, key, entity FROM ceb_doc WHERE kind = '{kind}'
                             AND key IN ({}) AND status = '120'",
                            keys.join(", ")
                        )
                    })
                })
                .collect();
            let rows = app
                .store
                .query(&Statement::new(selects.join(" UNION ALL "), values))
                .map_err(ApiError::store)?;
            for row in rows {
                let Ok(entity) = serde_json::from_str::<Entity>(&as_text(row.get(2))) else {
                    continue;
                };
                if let Some(Ok((kind, matched))) = Matched::read(&as_text(row.first()), &entity) {
                    found
                        .documents
                        .insert((kind, as_text(row.get(1))), Arc::new(matched));
                }
            }
        }
        let placeholders = crate::declarations::placeholders(orders.len());
        let rows = app
            .store
            .query(&Statement::new(
                format!(
                    "SELECT key FROM ceb_invt WHERE status IN ('released', 'held') AND key IN ({placeholders})"
                ),
                orders.iter().map(|k| text(k.as_str())).collect(),
            ))
            .map_err(ApiError::store)?;
        found
            .released
            .extend(rows.iter().map(|row| as_text(row.first())));
        for entity in entities {
            let ebc = entity.head.text("ebcCode");
            if !found.credit.contains_key(ebc) {
                let class = crate::parties::credit_class(app, &[ebc])?;
                found.credit.insert(ebc.to_owned(), class);
            }
        }
        Ok(found)
    }

    /// The stored totals of the buyers of `entities` not yet decided on this node in `year`.
    fn read_totals(&mut self, app: &App, entities: &[Entity], year: i32) -> Result<(), ApiError> {
        let mut buyers: Vec<String> = {
            let totals = app
                .crossborder
                .totals
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            self.read_at = totals.drops;
            entities
                .iter()
                .map(|e| {
                    // As `Buyer::key` spells it; a buyer spelt otherwise is read alone later.
                    format!(
                        "{}:{}",
                        e.head.text("buyerIdType"),
                        e.head.text("buyerIdNumber")
                    )
                })
                .filter(|buyer| !totals.slots.contains_key(&(buyer.clone(), year)))
                .collect()
        };
        buyers.sort_unstable();
        buyers.dedup();
        if buyers.is_empty() {
            return Ok(());
        }
        let placeholders = crate::declarations::placeholders(buyers.len());
        let rows = app
            .store
            .query(&Statement::new(
                format!(
                    "SELECT buyer, year, total_fen FROM ceb_buyer_year WHERE buyer IN ({placeholders})"
                ),
                buyers.iter().map(|b| text(b.as_str())).collect(),
            ))
            .map_err(ApiError::store)?;
        for row in rows {
            let year = i32::try_from(as_int(row.get(1))).unwrap_or_default();
            self.totals.insert(
                (as_text(row.first()), year),
                Decimal::new(as_int(row.get(2)), 2),
            );
        }
        self.buyers.extend(buyers);
        Ok(())
    }

    /// A buyer's stored total for `year`, if this message's read covered the buyer, with
    /// the drop count the read began at.
    fn stored_total(&self, buyer: &str, year: i32) -> Option<(Decimal, u64)> {
        self.buyers.contains(buyer).then(|| {
            let total = self
                .totals
                .get(&(buyer.to_owned(), year))
                .copied()
                .unwrap_or_default();
            (total, self.read_at)
        })
    }

    fn order(&self, key: &str) -> Option<&Order> {
        match self.documents.get(&("order", key.to_owned()))?.as_ref() {
            Matched::Order(order) => Some(order),
            _ => None,
        }
    }

    fn payment(&self, key: &str) -> Option<&Payment> {
        match self.documents.get(&("payment", key.to_owned()))?.as_ref() {
            Matched::Payment(payment) => Some(payment),
            _ => None,
        }
    }

    fn waybill(&self, key: &str) -> Option<&Waybill> {
        match self.documents.get(&("waybill", key.to_owned()))?.as_ref() {
            Matched::Waybill(waybill) => Some(waybill),
            _ => None,
        }
    }
}

/// A buyer's yearly total as decided on this node: what this node has decided, else the
/// stored total (from `known`, the message's read, or read now), kept from then on; pinned
/// for `changes` (see [`Totals`]).
///
/// The stored total is read without holding the totals' lock, which every message takes. It
/// cannot go stale meanwhile: every entry this node decides puts its buyers in memory before
/// it is written, and keeps them there until it is, so a total absent from memory changes
/// in the database only through another node sharing it (whose totals are not shared, as
/// before) — unless it was dropped from memory after the read began, when it is read again.
/// If a decision put it in memory while it was read, memory wins.
fn year_total(
    app: &App,
    changes: &mut Changes,
    known: Option<&Prefetched>,
    buyer: &str,
    year: i32,
) -> Result<Decimal, ApiError> {
    let slot = (buyer.to_owned(), year);
    let totals = &app.crossborder.totals;
    let mut known = known.and_then(|k| k.stored_total(buyer, year));
    loop {
        let drops = {
            let mut held = totals.lock().unwrap_or_else(|e| e.into_inner());
            if let Some(total) = held.pin(&slot) {
                changes.pinned.push(slot);
                return Ok(total);
            }
            held.drops
        };
        let (stored, read_at) = match known.take() {
            Some(known) => known,
            None => {
                let rows = app
                    .store
                    .query(&Statement::new(
                        "SELECT total_fen FROM ceb_buyer_year WHERE buyer = ?1 AND year = ?2",
                        vec![text(buyer), int(i64::from(year))],
                    ))
                    .map_err(ApiError::store)?;
                let total = Decimal::new(rows.first().map_or(0, |r| as_int(r.first())), 2);
                (total, drops)
            }
        };
        let loaded =
            totals
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .load(slot.clone(), stored, read_at);
        if let Some(total) = loaded {
            changes.pinned.push(slot);
            return Ok(total);
        }
    }
}

/// Adds to a buyer's yearly total as decided (pinned by [`year_total`] before).
fn add_to_total(app: &App, changes: &mut Changes, buyer: &str, year: i32, delta: Decimal) {
    let slot = (buyer.to_owned(), year);
    app.crossborder
        .totals
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .add(&slot, delta);
    changes.deltas.push((slot, delta));
}

/// Marks `key` decided and not yet written; false when it already was.
fn claim(app: &App, changes: &mut Changes, key: String) -> bool {
    let fresh = app
        .crossborder
        .keys
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(key.clone());
    if fresh {
        changes.keys.push(key);
    }
    fresh
}

fn in_flight(app: &App, key: &str) -> bool {
    app.crossborder
        .keys
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .contains(key)
}

fn mismatch_info(found: &[crossborder::Mismatch]) -> String {
    found
        .iter()
        .map(|m| format!("[Code:{};Desc:{}]", m.code, m.message))
        .collect()
}

/// An import inventory: matched, numbered, taxed and released.
fn inventory(
    app: &App,
    prefetched: &Prefetched,
    entity: &Entity,
    record: &mut CebRecord,
    changes: &mut Changes,
    now: NaiveDateTime,
) -> Result<Outcome, ApiError> {
    let inv = match Inventory::from_entity(entity) {
        Ok(inv) => inv,
        Err(diagnostics) => {
            return Ok(outcome(
                "-621001",
                describe(&diagnostics),
                Fields::default(),
            ))
        }
    };
    let key = inv.key();
    if !inv.declared {
        return Ok(keep_draft(record, "inventory", key, entity));
    }
    // One declared inventory per order: a second is a repeat, whatever it says.
    let repeated = prefetched.released.contains(&key) || in_flight(app, &format!("invt:{key}"));
    if repeated {
        return Ok(outcome(
            "-621004",
            format!("清单[{key}]已经申报过，请勿重复申报"),
            Fields::default(),
        ));
    }
    let found = crossborder::match_documents(
        &inv,
        prefetched.order(&key),
        prefetched.payment(&key),
        prefetched.waybill(&format!("{}/{}", inv.logistics_code, inv.logistics_no)),
    );
    if !found.is_empty() {
        return Ok(outcome("100", mismatch_info(&found), Fields::default()));
    }
    // Rates: the lines of the items' codes; the currency's rate to yuan for the month.
    let lines: Vec<_> = inv
        .items
        .iter()
        .map(|i| {
            HsCode::parse(&i.gcode)
                .ok()
                .and_then(|c| app.refdata.tariff.get(&c))
        })
        .collect();
    let received_on = now.date();
    let to_yuan = match to_yuan(app, &inv.currency, received_on) {
        Some(rate) => rate,
        None => {
            return Ok(outcome(
                "-621001",
                format!(
                    "[Code:C0609;Desc:no exchange rate for currency {:?}]",
                    inv.currency
                ),
                Fields::default(),
            ))
        }
    };
    let buyer = inv.buyer.key();
    let year = crossborder::year_of(&inv, received_on);
    let before = year_total(app, changes, Some(prefetched), &buyer, year)?;
    let bill = match crossborder::assess(&inv, &lines, to_yuan, before, year) {
        Ok(bill) => bill,
        Err(e) => {
            return Ok(outcome(
                "-621001",
                format!("[Code:{};Desc:{e}]", e.code()),
                Fields::default(),
            ))
        }
    };
    add_to_total(app, changes, &buyer, year, bill.value);
    claim(app, changes, format!("invt:{key}"));
    let serial = app
        .next_serial(&inv.customs_code)
        .map_err(ApiError::store)?;
    let pre_no = format!("B{}{serial:09}", received_on.format("%Y%m%d"));
    let invt_no = format!("{}{}I{serial:09}", inv.customs_code, received_on.year());
    let mut assigned = Fields::default();
    assigned.set("preNo", pre_no);
    assigned.set("invtNo", invt_no.clone());
    let ids = TaxBillIds {
        guid: new_guid(app, &invt_no),
        invt_no: invt_no.clone(),
        tax_no: format!("{invt_no}01"),
        status: "1".into(),
    };
    let tax_bill = crossborder::tax_bill_entity(&inv, &bill, &ids, now);
    // Selectivity, by the rules declarations go through: a yellow or red inventory waits for
    // an officer, its bill with it.
    let credit_class = prefetched
        .credit
        .get(&inv.ebc_code)
        .map_or("general", String::as_str);
    let selection = select(app, &inv, &bill, &invt_no, credit_class, received_on);
    if selection.channel != Channel::Green {
        let (status, what) = if selection.channel == Channel::Red {
            ("500", "查验")
        } else {
            ("300", "人工审核")
        };
        let reasons: String = selection
            .reasons
            .iter()
            .map(|r| format!("[Code:{};Desc:{what}: {}]", r.rule, r.text))
            .collect();
        record.held.push(Held {
            released: Released::of(invt_no, &inv, year, bill),
            entity: entity.clone(),
            pre_no: assigned.text("preNo").to_owned(),
            edition: record.edition.clone(),
            sender: record.party.clone(),
            tax_bill,
            selection,
        });
        return Ok(outcome(status, reasons, assigned));
    }
    // The message's bills go out together, one CEB816 per guarantor (see `decide`).
    changes.bills.push((inv.assure_code.clone(), tax_bill));
    let info = match bill.regime {
        Regime::CrossBorder => "[Code:2600;Desc:放行]".to_owned(),
        other => format!(
            "[Code:2600;Desc:放行][Code:{};Desc:taxed as general trade: {}]",
            other.code().unwrap_or_default(),
            match other {
                Regime::OverTransactionLimit => "above the 5,000 yuan per-transaction limit",
                _ => "above the buyer's 26,000 yuan yearly limit",
            }
        ),
    };
    record
        .released
        .push(Released::of(invt_no, &inv, year, bill));
    Ok(outcome("800", info, assigned))
}

/// The channel an inventory goes to under the rules in force, with every reason: head facts
/// as a declaration's (`trade_mode`, `declaring_customs`, `ie_flag` `I`, `total_value_cny`,
/// `items`, `consignee` the e-commerce enterprise), item facts `hs_code`, `origin_country`,
/// `customs_value_cny`; the draw on the inventory number.
fn select(
    app: &App,
    inv: &Inventory,
    bill: &TaxBill,
    invt_no: &str,
    credit_class: &str,
    on: chrono::NaiveDate,
) -> jinguan_clearance::risk::Decision {
    use jinguan_clearance::risk::{Fact, Facts, Subject};
    let text = |value: &str| Fact::Text(value.to_owned());
    let mut head = Facts::new();
    head.insert("trade_mode".into(), text(&inv.trade_mode));
    head.insert("declaring_customs".into(), text(&inv.customs_code));
    head.insert("ie_flag".into(), text("I"));
    head.insert("consignee".into(), text(&inv.ebc_code));
    head.insert(
        "total_value_cny".into(),
        Fact::Number(bill.value.round_dp(2)),
    );
    head.insert("items".into(), Fact::Number(Decimal::from(inv.items.len())));
    let items = inv
        .items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let mut facts = Facts::new();
            facts.insert("hs_code".into(), text(&item.gcode));
            facts.insert("origin_country".into(), text(&item.country));
            if let Some(price) = bill.tax_prices.get(i) {
                facts.insert("customs_value_cny".into(), Fact::Number(price.round_dp(2)));
            }
            facts
        })
        .collect();
    let subject = Subject {
        entry_id: invt_no.to_owned(),
        credit_class: credit_class.to_owned(),
        head,
        items,
    };
    app.rules().select(&subject, on)
}

fn to_yuan(app: &App, currency: &str, on: chrono::NaiveDate) -> Option<Decimal> {
    if currency == "142" || currency == "CNY" {
        return Some(Decimal::ONE);
    }
    let iso = app
        .refdata
        .currency_from_legacy(currency)
        .or_else(|| CurrencyCode::parse(currency).ok())?;
    app.refdata.exchange_rates.rate_on(iso, on)
}

/// A cancellation or return of a released inventory.
fn reversal(
    app: &App,
    message: &Message,
    entity: &Entity,
    record: &mut CebRecord,
    changes: &mut Changes,
    now: NaiveDateTime,
) -> Result<Outcome, ApiError> {
    let number = message.number();
    let reversal = match Reversal::from_entity(entity) {
        Ok(r) => r,
        Err(diagnostics) => {
            return Ok(outcome(
                &format!("-{number}001"),
                describe(&diagnostics),
                Fields::default(),
            ))
        }
    };
    let rows = app
        .store
        .query(&Statement::new(
            "SELECT status, released FROM ceb_invt WHERE invt_no = ?1",
            vec![text(reversal.invt_no.clone())],
        ))
        .map_err(ApiError::store)?;
    let Some(row) = rows.first() else {
        return Ok(outcome(
            &format!("-{number}004"),
            format!("查无此数据: no released inventory {}", reversal.invt_no),
            Fields::default(),
        ));
    };
    let released: Released = serde_json::from_str(&as_text(row.get(1))).map_err(internal)?;
    let already = as_text(row.first()) != "released"
        || in_flight(app, &format!("reversed:{}", reversal.invt_no));
    if already || released.buyer != reversal.buyer.key() {
        let why = if already {
            format!(
                "inventory {} was already {}",
                reversal.invt_no,
                as_text(row.first())
            )
        } else {
            format!("inventory {} is not this buyer's", reversal.invt_no)
        };
        return Ok(outcome(&format!("-{number}001"), why, Fields::default()));
    }
    let refund = crossborder::refund_value(&released.items, &released.bill, &reversal);
    year_total(app, changes, None, &released.buyer, released.year)?;
    add_to_total(app, changes, &released.buyer, released.year, -refund);
    claim(app, changes, format!("reversed:{}", reversal.invt_no));
    let status = if number == "623" {
        "cancelled"
    } else {
        "returned"
    };
    record.reversed.push(Reversed {
        invt_no: reversal.invt_no.clone(),
        status: status.into(),
        buyer: released.buyer.clone(),
        year: released.year,
        refund,
    });
    if number == "623" {
        // The tax bill of a cancelled inventory is void.
        let ids = TaxBillIds {
            guid: new_guid(app, &reversal.invt_no),
            invt_no: released.invt_no.clone(),
            tax_no: format!("{}01", released.invt_no),
            status: "3".into(),
        };
        let notice = crossborder::tax_status_entity(&released.assure_code, &ids, now);
        let xml = ceb::write(
            Edition::Gacc202205,
            "CEB818Message",
            &ids.guid,
            &[notice],
            None,
        )
        .map_err(|e| internal(e.to_string()))?;
        record.written.push(Written {
            message_type: "CEB818Message".into(),
            xml,
            parties: vec![record.party.clone()],
        });
    }
    let serial = app
        .next_serial(released.customs_code.as_str())
        .map_err(ApiError::store)?;
    let mut assigned = Fields::default();
    assigned.set("preNo", format!("B{}{serial:09}", now.format("%Y%m%d")));
    assigned.set("invtNo", released.invt_no);
    Ok(outcome(
        "399",
        format!(
            "[Code:2800;Desc:审结][{} yuan back to the buyer's {} total]",
            refund, released.year
        ),
        assigned,
    ))
}

/// The node id Jinguan answers DXP envelopes from.
pub const NODE_ID: &str = "DXPJINGUAN000001";

/// `POST /api/v1/messages` for a DXP terminal-node envelope (`DxpMsg`): the envelope checked
/// against its schema, the CEB message it carries decided as if sent bare, and the answer
/// (the receipt, or the CEB900 notice) carried back in an envelope from [`NODE_ID`] to the
/// sending node.
pub(crate) async fn receive_dxp(
    app: Arc<App>,
    principal: Principal,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    authorize(&app, &principal, Permission::Declare, "crossborder").await?;
    let body = crate::declarations::body_or_error(body)?;
    let envelope = jinguan_chinaport::dxp::parse(&body).map_err(|e| {
        let status = if e.code() == "X0331" {
            StatusCode::UNPROCESSABLE_ENTITY
        } else {
            StatusCode::BAD_REQUEST
        };
        ApiError::new(status, "bad_envelope", e.code(), e.to_string())
    })?;
    let carried = crate::routing::identify("application/xml", &envelope.data)
        .ok()
        .map(|(_, root)| root)
        .unwrap_or_default();
    if ceb::receipt_of(&carried).is_none() {
        return Err(ApiError::unprocessable(
            "H0491",
            format!(
                "the envelope carries {carried:?}; DXP envelopes here carry the CEB messages \
                 enterprises send"
            ),
        ));
    }
    let inner = envelope.data.clone();
    let decider = app.clone();
    let answer = blocking(move || decide(&decider, &principal, &headers, &inner)).await?;
    let status = answer.status();
    let reference = answer
        .headers()
        .get("x-ledger-ref")
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let receipt = axum::body::to_bytes(answer.into_body(), usize::MAX)
        .await
        .map_err(internal)?;
    let receipt_type = crate::routing::identify("application/xml", &receipt)
        .map(|(_, root)| root)
        .unwrap_or_default();
    let id = new_guid(&app, &envelope.cop_msg_id);
    let wrapped = jinguan_chinaport::dxp::write(
        &id,
        NODE_ID,
        &[envelope.sender_id.as_str()],
        time_of(&app),
        &receipt_type,
        &receipt,
        &format!("{receipt_type}_{id}.xml"),
    )
    .map_err(|e| internal(e.to_string()))?;
    Ok(xml_response(status, wrapped, reference))
}

/// Entry kind of an officer's decision on a held inventory.
pub const DECISION_KIND: &str = "ceb.decision";

/// What an officer decides of a held inventory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Released (`800`): the tax bill goes out.
    Release,
    /// Sent back (`100` 退单): the value leaves the buyer's year.
    Refuse,
    /// Goods returned abroad after an inspection (`700` 退运): likewise.
    Return,
}

impl Verdict {
    fn status(self) -> &'static str {
        match self {
            Self::Release => "800",
            Self::Refuse => "100",
            Self::Return => "700",
        }
    }

    fn table_status(self) -> &'static str {
        match self {
            Self::Release => "released",
            Self::Refuse => "refused",
            Self::Return => "returned",
        }
    }
}

/// The body of `POST /api/v1/crossborder/inventories/{invt_no}/decision`.
#[derive(Debug, Clone, Deserialize)]
pub struct DecisionBody {
    /// `release`, `refuse` or `return`.
    pub decision: Verdict,
    /// Why, for the trader (`returnInfo`).
    #[serde(default)]
    pub note: String,
}

/// An officer's decision on a held inventory, as the ledger records it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InventoryDecision {
    /// The inventory.
    pub invt_no: String,
    /// The officer's party.
    pub officer: String,
    /// The request it came in.
    pub origin: crate::origin::Origin,
    /// What was decided.
    pub decision: Verdict,
    /// The officer's note.
    pub note: String,
    /// The buyer's key.
    pub buyer: String,
    /// The year it counted in.
    pub year: i32,
    /// What left the buyer's year (zero on release).
    pub refund: Decimal,
    /// Receipts and notices written.
    pub written: Vec<Written>,
}

/// The rows an officer's decision changes.
pub(crate) fn decision_rows(entry: &Entry) -> Vec<Statement> {
    let Ok(decision) = serde_json::from_slice::<InventoryDecision>(&entry.payload) else {
        return Vec::new();
    };
    let mut statements = vec![Statement::new(
        "UPDATE ceb_invt SET status = ?2 WHERE invt_no = ?1 AND status = 'held'",
        vec![
            text(decision.invt_no.clone()),
            text(decision.decision.table_status()),
        ],
    )];
    if !decision.refund.is_zero() {
        statements.push(Statement::new(
            "UPDATE ceb_buyer_year SET total_fen = total_fen - ?3 WHERE buyer = ?1 AND year = ?2",
            vec![
                text(decision.buyer.clone()),
                int(i64::from(decision.year)),
                int(fen(decision.refund)),
            ],
        ));
    }
    statements.extend(receipt_statements(
        entry,
        decision
            .written
            .iter()
            .map(|w| w.parties.iter().map(String::as_str).collect()),
    ));
    statements
}

/// An inventory on record, with its status.
fn inventory_row(app: &App, invt_no: &str) -> Result<(String, String), ApiError> {
    let rows = app
        .store
        .query(&Statement::new(
            "SELECT status, released FROM ceb_invt WHERE invt_no = ?1",
            vec![text(invt_no)],
        ))
        .map_err(ApiError::store)?;
    rows.first()
        .map(|row| (as_text(row.first()), as_text(row.get(1))))
        .ok_or_else(|| ApiError::not_found("H0495", format!("no inventory {invt_no}")))
}

/// `GET /api/v1/crossborder/inventories?status=held`: the inventories waiting for an
/// officer (or in another status), newest first, at most 200.
pub(crate) async fn list_inventories(
    axum::extract::State(app): axum::extract::State<Arc<App>>,
    principal: Principal,
    axum::extract::Query(query): axum::extract::Query<std::collections::HashMap<String, String>>,
) -> Result<Response, ApiError> {
    authorize(&app, &principal, Permission::Review, "crossborder").await?;
    let status = query
        .get("status")
        .cloned()
        .unwrap_or_else(|| "held".into());
    blocking(move || {
        let rows = app
            .store
            .query(&Statement::new(
                "SELECT invt_no, key, buyer, value_fen, status FROM ceb_invt
                 WHERE status = ?1 ORDER BY seq DESC LIMIT 200",
                vec![text(status)],
            ))
            .map_err(ApiError::store)?;
        let items: Vec<serde_json::Value> = rows
            .iter()
            .map(|row| {
                serde_json::json!({
                    "invt_no": as_text(row.first()),
                    "key": as_text(row.get(1)),
                    "buyer": as_text(row.get(2)),
                    "value": (Decimal::from(as_int(row.get(3))) / Decimal::ONE_HUNDRED).to_string(),
                    "status": as_text(row.get(4)),
                })
            })
            .collect();
        Ok(axum::Json(serde_json::json!({ "items": items })).into_response())
    })
    .await
}

/// `GET /api/v1/crossborder/inventories/{invt_no}`: an inventory's status, value, tax and,
/// when it was selected, why.
pub(crate) async fn show_inventory(
    axum::extract::State(app): axum::extract::State<Arc<App>>,
    principal: Principal,
    axum::extract::Path(invt_no): axum::extract::Path<String>,
) -> Result<Response, ApiError> {
    authorize(&app, &principal, Permission::Review, &invt_no).await?;
    blocking(move || {
        let (status, json) = inventory_row(&app, &invt_no)?;
        let mut view: serde_json::Value = serde_json::from_str(&json).map_err(internal)?;
        if let Some(object) = view.as_object_mut() {
            object.insert("status".into(), serde_json::Value::String(status));
            // The entity and bill as sent are the receipts' business; the view keeps what
            // an officer decides on: a held inventory's goods, typed from the entity.
            let inventory = object
                .remove("entity")
                .and_then(|entity| serde_json::from_value::<Entity>(entity).ok())
                .and_then(|entity| Inventory::from_entity(&entity).ok());
            if let Some(inventory) = inventory {
                object.insert(
                    "inventory".into(),
                    serde_json::to_value(inventory).map_err(internal)?,
                );
            }
            object.remove("tax_bill");
        }
        Ok(axum::Json(view).into_response())
    })
    .await
}

/// `POST /api/v1/crossborder/inventories/{invt_no}/decision`: an officer releases a held
/// inventory (`800`, its CEB816 tax bill to the sender and the guarantor), refuses it (`100`)
/// or has its goods returned (`700`), the last two giving its value back to the buyer's
/// year. The sender gets a CEB622 with the new status. One decision per inventory: another
/// is `409 H0496`.
pub(crate) async fn decide_inventory(
    axum::extract::State(app): axum::extract::State<Arc<App>>,
    principal: Principal,
    axum::extract::Path(invt_no): axum::extract::Path<String>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    authorize(&app, &principal, Permission::Release, &invt_no).await?;
    let body = crate::declarations::body_or_error(body)?;
    let body: DecisionBody =
        serde_json::from_slice(&body).map_err(|e| ApiError::bad_request("H0004", e.to_string()))?;
    blocking(move || decide_held(&app, &principal, &invt_no, &body)).await
}

fn decide_held(
    app: &App,
    principal: &Principal,
    invt_no: &str,
    body: &DecisionBody,
) -> Result<Response, ApiError> {
    let _guard = app.buyer_locks(&[format!("decision:{invt_no}")]);
    let (status, json) = inventory_row(app, invt_no)?;
    if status != "held" {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "conflict",
            "H0496",
            format!("inventory {invt_no} is {status}, not held for a decision"),
        ));
    }
    let held: Held = serde_json::from_str(&json).map_err(internal)?;
    let edition = Edition::ALL
        .into_iter()
        .find(|e| e.id() == held.edition)
        .unwrap_or(Edition::Gacc202205);
    let now = time_of(app);
    let verdict = body.decision;
    let mut assigned = Fields::default();
    assigned.set("preNo", held.pre_no.clone());
    assigned.set("invtNo", invt_no);
    let note = if body.note.is_empty() {
        String::new()
    } else {
        format!("[Desc:{}]", body.note)
    };
    let info = match verdict {
        Verdict::Release => format!("[Code:2600;Desc:放行]{note}"),
        Verdict::Refuse => format!("[Desc:退单]{note}"),
        Verdict::Return => format!("[Desc:退运]{note}"),
    };
    let returned = ceb::receipt_entity(
        edition,
        "CEB622Message",
        &held.entity,
        &outcome(verdict.status(), info, assigned),
        now,
    )
    .ok_or_else(|| internal("no receipt entity for CEB622Message"))?;
    let receipt = ceb::write(
        edition,
        "CEB622Message",
        &new_guid(app, &format!("{invt_no}:decision")),
        &[returned],
        None,
    )
    .map_err(|e| internal(e.to_string()))?;
    let mut written = vec![Written {
        message_type: "CEB622Message".into(),
        xml: receipt.clone(),
        parties: vec![held.sender.clone()],
    }];
    let mut changes = Changes::new(&app.crossborder);
    let released = &held.released;
    let refund = if verdict == Verdict::Release {
        let bill = ceb::write(
            Edition::Gacc202205,
            "CEB816Message",
            &new_guid(app, &format!("{invt_no}:bill")),
            std::slice::from_ref(&held.tax_bill),
            None,
        )
        .map_err(|e| internal(e.to_string()))?;
        let mut parties = vec![held.sender.clone()];
        if !released.assure_code.is_empty() {
            parties.push(released.assure_code.clone());
        }
        written.push(Written {
            message_type: "CEB816Message".into(),
            xml: bill,
            parties,
        });
        Decimal::ZERO
    } else {
        year_total(app, &mut changes, None, &released.buyer, released.year)?;
        add_to_total(
            app,
            &mut changes,
            &released.buyer,
            released.year,
            -released.bill.value,
        );
        released.bill.value
    };
    let decision = InventoryDecision {
        invt_no: invt_no.to_owned(),
        officer: principal.party.clone(),
        origin: principal.origin.clone(),
        decision: verdict,
        note: body.note.clone(),
        buyer: released.buyer.clone(),
        year: released.year,
        refund,
        written,
    };
    let payload = serde_json::to_vec(&decision).map_err(|e| {
        changes.undo(&app.crossborder);
        internal(e)
    })?;
    let submission = Submission {
        kind: DECISION_KIND.into(),
        schema_version: 1,
        submitter: principal.party.clone(),
        submission_id: format!("decision:{invt_no}"),
        payload,
        submitter_signature: None,
    };
    let appended = match app.store.append(LEDGER, submission) {
        Ok(appended) => appended,
        Err(e) => {
            changes.undo(&app.crossborder);
            return Err(if e.code() == "S0001" {
                ApiError::new(
                    StatusCode::CONFLICT,
                    "conflict",
                    "H0496",
                    format!("inventory {invt_no} was decided already"),
                )
            } else {
                ApiError::store(e)
            });
        }
    };
    app.mailboxes_filled();
    Ok(xml_response(
        StatusCode::CREATED,
        receipt,
        Some(format!("{LEDGER}:{}", appended.seq)),
    ))
}

/// An export inventory (CEB603): read, its statistics flag checked (`A` only for goods with
/// no export licence or duty), refused as a repeat of its order, else numbered (`invtNo`
/// with `E`) and released (`800`), kept in `ceb_doc` by number (`export-inventory`) and by
/// order (`export-order`). Exports are not taxed and not selected here.
fn export_inventory(
    app: &App,
    entity: &Entity,
    record: &mut CebRecord,
    changes: &mut Changes,
    now: NaiveDateTime,
) -> Result<Outcome, ApiError> {
    use jinguan_clearance::export::{self, ExportInventory};
    let inv = match ExportInventory::from_entity(entity) {
        Ok(inv) => inv,
        Err(diagnostics) => {
            return Ok(outcome(
                "-603001",
                describe(&diagnostics),
                Fields::default(),
            ));
        }
    };
    let key = inv.key();
    if !inv.declared {
        return Ok(keep_draft(record, "export-order", key, entity));
    }
    let repeated = app
        .store
        .query(&Statement::new(
            "SELECT entity FROM ceb_doc WHERE kind = 'export-order' AND key = ?1 AND status = '800'",
            vec![text(key.as_str())],
        ))
        .map_err(ApiError::store)?;
    if !repeated.is_empty() || in_flight(app, &format!("export:{key}")) {
        // The number it was given, when its entry is on record.
        let mut assigned = Fields::default();
        if let Some(kept) = repeated
            .first()
            .and_then(|row| serde_json::from_str::<Entity>(&as_text(row.first())).ok())
        {
            assigned.set("invtNo", kept.head.text("invtNo"));
        }
        return Ok(outcome(
            "-603004",
            format!("清单[{key}]已经申报过，请勿重复申报"),
            assigned,
        ));
    }
    let Some(licences) = app.refdata.table("licence-document") else {
        return Err(internal("the licence-document table is not loaded"));
    };
    let lines = |code: &str| {
        app.refdata
            .tariff
            .lines
            .iter()
            .filter(|l| !code.is_empty() && l.code.as_str().starts_with(code))
            .collect::<Vec<_>>()
    };
    let found = export::check_simplified(&inv, lines, licences);
    if !found.is_empty() {
        return Ok(outcome("100", mismatch_info(&found), Fields::default()));
    }
    claim(app, changes, format!("export:{key}"));
    let serial = app
        .next_serial(&inv.customs_code)
        .map_err(ApiError::store)?;
    let invt_no = format!("{}{}E{serial:09}", inv.customs_code, now.year());
    let mut assigned = Fields::default();
    assigned.set("preNo", format!("B{}{serial:09}", now.format("%Y%m%d")));
    assigned.set("invtNo", invt_no.clone());
    let mut kept = entity.clone();
    kept.head.set("invtNo", invt_no.clone());
    record.docs.push(Doc {
        kind: "export-order".into(),
        key,
        status: "800".into(),
        entity: kept.clone(),
    });
    record.docs.push(Doc {
        kind: "export-inventory".into(),
        key: invt_no,
        status: "800".into(),
        entity: kept,
    });
    Ok(outcome("800", "[Code:2600;Desc:放行]", assigned))
}

/// A summary application (CEB701): the inventories it names checked (released, `B`, the
/// applicant's, of its customs, not summarised — coded `C0650`–`C0654`), then accepted
/// (`120`) with a summary number, the inventories marked summarised, and a CEB792 result to
/// the sender (`decState` `1`: the declaration is made).
fn summary(
    app: &App,
    entity: &Entity,
    record: &mut CebRecord,
    changes: &mut Changes,
    now: NaiveDateTime,
) -> Result<Outcome, ApiError> {
    use jinguan_clearance::export::{self, ExportInventory, OnRecord, SummaryApply};
    let apply = match SummaryApply::from_entity(entity) {
        Ok(apply) => apply,
        Err(diagnostics) => {
            return Ok(outcome(
                "-701001",
                describe(&diagnostics),
                Fields::default(),
            ));
        }
    };
    if !apply.declared {
        return Ok(outcome("1", "电子口岸已暂存", Fields::default()));
    }
    let mut on_record: Vec<(String, String, ExportInventory, Entity)> = Vec::new();
    for invt_no in &apply.invt_nos {
        let rows = app
            .store
            .query(&Statement::new(
                "SELECT status, entity FROM ceb_doc WHERE kind = 'export-inventory' AND key = ?1",
                vec![text(invt_no.as_str())],
            ))
            .map_err(ApiError::store)?;
        let Some(row) = rows.first() else {
            continue;
        };
        let kept: Entity = serde_json::from_str(&as_text(row.get(1))).map_err(internal)?;
        if let Ok(inventory) = ExportInventory::from_entity(&kept) {
            on_record.push((invt_no.clone(), as_text(row.first()), inventory, kept));
        }
    }
    let found = export::summarize(&apply, |invt_no| {
        on_record
            .iter()
            .find(|(n, _, _, _)| n == invt_no)
            .map(|(n, status, inventory, _)| OnRecord {
                invt_no: n,
                // A summarised inventory was released; its status says it was summarised.
                status: if status == "summarised" {
                    "800"
                } else {
                    status
                },
                summarised: status == "summarised" || in_flight(app, &format!("summary:{n}")),
                inventory,
            })
    });
    let gathered = match found {
        Ok(gathered) => gathered,
        Err(found) => return Ok(outcome("100", mismatch_info(&found), Fields::default())),
    };
    for (invt_no, _, _, kept) in &on_record {
        claim(app, changes, format!("summary:{invt_no}"));
        record.docs.push(Doc {
            kind: "export-inventory".into(),
            key: invt_no.clone(),
            status: "summarised".into(),
            entity: kept.clone(),
        });
    }
    let serial = app
        .next_serial(&apply.customs_code)
        .map_err(ApiError::store)?;
    let day = now.format("%Y%m%d");
    let sum_no = format!("S{day}{serial:09}");
    let decl_seq_no = format!("D{day}{serial:09}");
    changes.summaries.push(export::summary_result_entity(
        &apply,
        &gathered,
        &sum_no,
        &decl_seq_no,
        "1",
        now,
    ));
    let mut assigned = Fields::default();
    assigned.set("sumNo", sum_no);
    Ok(outcome("120", "[Code:2100;Desc:海关入库]", assigned))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn waybill(no: &str) -> Option<Arc<Matched>> {
        Some(Arc::new(Matched::Waybill(Waybill {
            logistics_code: "L".into(),
            logistics_no: no.into(),
            order_no: "E".into(),
            freight: None,
            weight: Decimal::ONE,
        })))
    }

    fn waybill_no(kept: Option<Option<Arc<Matched>>>) -> Option<String> {
        match kept?.as_deref()? {
            Matched::Waybill(w) => Some(w.logistics_no.clone()),
            _ => None,
        }
    }

    #[test]
    fn totals_in_use_are_never_dropped_and_a_read_older_than_a_drop_is_refused() {
        let slot = |n: usize| (format!("1:{n}"), 2026);
        let mut totals = Totals::default();
        let start = totals.drops;
        // Read and pinned by a decision, moved by it.
        assert_eq!(
            totals.load(slot(0), Decimal::new(100, 0), start),
            Some(Decimal::new(100, 0))
        );
        totals.add(&slot(0), Decimal::new(5, 0));
        // Kept and unpinned: a later read of the store loses to what is kept.
        for n in 1..16 {
            assert!(totals.load(slot(n), Decimal::ZERO, start).is_some());
            totals.unpin(&slot(n));
        }
        assert_eq!(
            totals.load(slot(0), Decimal::ZERO, start),
            Some(Decimal::new(105, 0))
        );
        totals.unpin(&slot(0));
        assert_eq!(totals.slots[&slot(0)].pins, 1);
        // Full: the unpinned go, down to seven eighths; the pinned one stays.
        totals.make_room(16);
        assert_eq!(totals.slots.len(), 14);
        assert_eq!(totals.drops, start + 1);
        assert_eq!(totals.pin(&slot(0)), Some(Decimal::new(105, 0)));
        totals.unpin(&slot(0));
        // A dropped total read before the drop: refused, to be read again.
        let dropped = (1..16)
            .map(slot)
            .find(|s| !totals.slots.contains_key(s))
            .unwrap();
        assert_eq!(totals.load(dropped.clone(), Decimal::ZERO, start), None);
        assert_eq!(
            totals.load(dropped, Decimal::new(7, 0), start + 1),
            Some(Decimal::new(7, 0))
        );
        // Below the bound nothing goes.
        totals.make_room(1 << 10);
        assert_eq!(totals.drops, start + 1);
    }

    #[test]
    fn recent_documents_keep_the_latest_entry_and_drop_the_oldest() {
        let mut recent = RecentDocs::default();
        recent.record(5, "waybill", "L/1", waybill("five"));
        // Order and payment share a key; each kind is its own.
        recent.record(5, "order", "E/1", None);
        assert_eq!(
            waybill_no(recent.get("waybill", "L/1")),
            Some("five".into())
        );
        assert!(matches!(recent.get("order", "E/1"), Some(None)));
        assert!(recent.get("payment", "E/1").is_none());
        assert!(recent.get("waybill", "E/1").is_none());
        assert!(recent.get("notakind", "L/1").is_none());
        // A later entry replaces; an earlier one (written before, remembered after) does not.
        recent.record(7, "waybill", "L/1", waybill("seven"));
        recent.record(6, "waybill", "L/1", waybill("six"));
        assert_eq!(
            waybill_no(recent.get("waybill", "L/1")),
            Some("seven".into())
        );
        // Kinds it does not keep are not kept.
        recent.record(8, "Summary", "S/1", None);
        assert!(recent.get("Summary", "S/1").is_none());
        // Full: the oldest goes, one slot at a time; a key keeps its other kinds.
        recent.record(5, "payment", "E/1", None);
        for n in 0..RECENT_DOCS - 3 {
            recent.record(9, "waybill", &format!("X/{n}"), None);
        }
        assert!(recent.get("waybill", "L/1").is_some());
        recent.record(9, "waybill", "Y/1", None);
        assert!(recent.get("waybill", "L/1").is_none());
        assert!(recent.get("order", "E/1").is_some());
        recent.record(9, "waybill", "Y/2", None);
        assert!(recent.get("order", "E/1").is_none());
        assert!(recent.get("payment", "E/1").is_some());
        assert_eq!(recent.order.len(), RECENT_DOCS);
        assert!(recent.get("waybill", "Y/2").is_some());
    }

    fn bill() -> serde_json::Value {
        serde_json::json!({
            "regime": "cross_border", "value": "168", "year_total_before": "0.00",
            "year": 2026, "tax_prices": ["100", "68"],
            "assessment": {"items": [], "duty": "0", "consumption_tax": "0", "vat": "15.29",
                           "waived": []}
        })
    }

    #[test]
    fn a_release_recorded_with_its_typed_inventory_still_reads() {
        let item = |gnum: u32, qty: &str| {
            serde_json::json!({
                "gnum": gnum, "item_no": "SKU", "gcode": "2402200000", "gname": "卷烟",
                "country": "116", "qty": qty, "qty1": qty, "unit1": "007", "qty2": null,
                "unit2": "", "price": "1", "total_price": "1"
            })
        };
        let legacy = serde_json::json!({
            "invt_no": "37002026I000000001", "key": "1101110325/B1", "buyer": "1:110101",
            "year": 2026, "bill": bill(),
            "inventory": {
                "cop_no": "C1", "order_no": "B1", "ebp_code": "1101110325",
                "ebc_code": "1101110326", "logistics_code": "1101180326", "logistics_no": "L1",
                "assure_code": "1101110326", "ems_no": "", "customs_code": "3700",
                "decl_date": "2026-11-29", "buyer": {"id_type": "1", "id_number": "110101"},
                "buyer_name": "买家", "agent_code": "1101110326", "trade_mode": "9610",
                "freight": "0", "insured_fee": "0", "currency": "142", "declared": true,
                "items": [item(1, "2"), item(2, "3")]
            }
        });
        let released: Released = serde_json::from_value(legacy).unwrap();
        assert_eq!(
            (
                released.customs_code.as_str(),
                released.assure_code.as_str()
            ),
            ("3700", "1101110326")
        );
        let quantities: Vec<(u32, String)> = released
            .items
            .iter()
            .map(|i| (i.gnum, i.qty.to_string()))
            .collect();
        assert_eq!(quantities, [(1, "2".into()), (2, "3".into())]);
        // Written now, it carries the three fields and not the inventory, and reads back.
        let written = serde_json::to_value(&released).unwrap();
        assert!(written.get("inventory").is_none(), "{written}");
        let again: Released = serde_json::from_value(written).unwrap();
        assert_eq!(again.items, released.items);
        assert_eq!(again.customs_code, "3700");
    }
}
