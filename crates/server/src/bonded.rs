//! 金关二期 bonded intake: 核注清单 (INV101) and 核放单 (SAS121) received, checked, numbered,
//! recorded and answered (INV201, SAS221).
//!
//! `POST /api/v1/messages` routes a `Package` (bare, or in its `Signature`) whose
//! `message_type` is INV101 or SAS121 here. The message is read in either of its forms (see
//! [`jinguan_chinaport::bonded`]): official-schema and business problems refuse it (`422`,
//! manageResult `3` 退单, each problem a `CheckInfo` note); a declared one (`DelcareFlag` 1,
//! or any official-form message) needs the declaring enterprise's detached signature of the
//! body (the IC card's signature inside is the E-Port's to check, and is kept as received).
//! Then:
//!
//! - a draft (暂存, `DelcareFlag` 0) is stored as sent, unnumbered, answered `Y`;
//! - a declared inventory is numbered (`QD` + customs district + year + I/E + serial, as
//!   customs numbers 核注清单) and recorded, answered `Y` (入库) with its number; a change
//!   names that number and a higher `chgTmsCnt`, and keeps it; declaring the same inner number
//!   again without that is refused (`H0493`);
//! - a declared gate pass that names a 核注清单 (`rltTbTypecd` 1) must name one on record
//!   (`H0494`), and is numbered `Z` + district + I/E + year + serial.
//!
//! Accepted or refused, the message — the body as received, the typed document, every
//! problem, the receipt — is one ledger entry ([`LEDGER`]), and the receipt goes into the
//! sender's mailbox. The books those inventories move are kept by a later module; here they
//! are accepted, checked and stored faithfully.
//!
//! | table | one row per |
//! |---|---|
//! | `bonded_doc` | (kind, party, sender's key): the inventory or pass on record, its number and status |

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode};
use axum::response::Response;
use chrono::NaiveDateTime;
use jinguan_chinaport::bonded::{self, BondedMessage, Document, Kind, Receipt};
use jinguan_ledger::{Entry, Submission};
use jinguan_store::projection::{Dialect, Projection, Statement, Value};
use jinguan_store::Status;
use serde::{Deserialize, Serialize};

use crate::auth::Principal;
use crate::authz::{authorize, Action as Permission};
use crate::crossborder::{time_of, xml_response};
use crate::declarations::as_text;
use crate::pki::Signer;
use crate::record::Received;
use crate::{blocking, internal, ApiError, App};

/// The ledger bonded messages are recorded in.
pub const LEDGER: &str = "bonded";
/// Entry kind of a bonded message and what was decided.
pub const KIND: &str = "bonded.message";
/// The node customs' receipts come from (`sender_id`).
pub const NODE_ID: &str = "DXPEDCEMS0000001";

/// One bonded message as the ledger records it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BondedRecord {
    /// Who sent it.
    pub party: String,
    /// Who signed it, when signed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signer: Option<Signer>,
    /// The request it came in.
    pub origin: crate::origin::Origin,
    /// The body as received.
    pub received: Received,
    /// The message read.
    pub message: BondedMessage,
    /// `recorded` (declared and numbered), `draft` (暂存) or `refused`.
    pub status: String,
    /// The number customs gave it (empty when none).
    pub number: String,
    /// Why it was refused: `[code] path: message` each.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub problems: Vec<String>,
    /// The receipt written (`INV201`, `SAS221`).
    pub receipt_type: String,
    /// Its XML.
    pub receipt: String,
}

/// The bonded query table.
pub struct BondedTables;

impl Projection for BondedTables {
    fn name(&self) -> &str {
        "bonded"
    }

    fn create(&self, dialect: Dialect) -> Vec<String> {
        let clustered = dialect.clustered();
        vec![
            format!(
                "CREATE TABLE IF NOT EXISTS bonded_doc (
                kind TEXT NOT NULL, party TEXT NOT NULL, key TEXT NOT NULL,
                number TEXT NOT NULL, status TEXT NOT NULL, change_count BIGINT NOT NULL,
                ledger TEXT NOT NULL, seq BIGINT NOT NULL, document TEXT NOT NULL,
                PRIMARY KEY (kind, party, key)){clustered}"
            ),
            "CREATE INDEX IF NOT EXISTS bonded_doc_number ON bonded_doc (kind, number)".into(),
        ]
    }

    fn reset(&self) -> Vec<String> {
        vec!["DELETE FROM bonded_doc".into()]
    }

    fn apply(&self, entry: &Entry) -> Vec<Statement> {
        if entry.kind != KIND {
            return Vec::new();
        }
        let Ok(record) = serde_json::from_slice::<BondedRecord>(&entry.payload) else {
            return Vec::new();
        };
        let seq = Value::Integer(i64::try_from(entry.seq).unwrap_or(i64::MAX));
        let mut statements = Vec::new();
        if record.status != "refused" {
            let (change_count, document) = match &record.message.document {
                Document::Inventory(i) => (i.change_count, serde_json::to_string(i)),
                Document::Passport(p) => (0, serde_json::to_string(p)),
            };
            statements.push(Statement::new(
                "INSERT INTO bonded_doc (kind, party, key, number, status, change_count, ledger,
                    seq, document)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
                 ON CONFLICT (kind, party, key) DO UPDATE SET number = excluded.number,
                    status = excluded.status, change_count = excluded.change_count,
                    ledger = excluded.ledger, seq = excluded.seq, document = excluded.document",
                vec![
                    Value::Text(record.message.kind.message_type().to_owned()),
                    Value::Text(record.party.clone()),
                    Value::Text(record.message.sender_key().to_owned()),
                    Value::Text(record.number.clone()),
                    Value::Text(record.status.clone()),
                    Value::Integer(change_count),
                    Value::Text(entry.ledger.clone()),
                    seq,
                    Value::Text(document.unwrap_or_default()),
                ],
            ));
        }
        statements.extend(crate::crossborder::receipt_statements(
            entry,
            [vec![record.party.as_str()]],
        ));
        statements
    }
}

/// `POST /api/v1/messages` for an INV101 or SAS121.
pub(crate) async fn receive(
    app: Arc<App>,
    principal: Principal,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    authorize(&app, &principal, Permission::Declare, "bonded").await?;
    let body = crate::declarations::body_or_error(body)?;
    blocking(move || decide(&app, &principal, &headers, &body)).await
}

/// A document on record: its number, status and change count.
struct OnRecord {
    number: String,
    status: String,
    change_count: i64,
}

fn on_record(app: &App, kind: Kind, party: &str, key: &str) -> Result<Option<OnRecord>, ApiError> {
    let rows = app
        .store
        .query(&Statement::new(
            "SELECT number, status, change_count FROM bonded_doc
             WHERE kind = ?1 AND party = ?2 AND key = ?3",
            vec![
                Value::Text(kind.message_type().to_owned()),
                Value::Text(party.to_owned()),
                Value::Text(key.to_owned()),
            ],
        ))
        .map_err(ApiError::store)?;
    Ok(rows.first().map(|row| OnRecord {
        number: as_text(row.first()),
        status: as_text(row.get(1)),
        change_count: crate::declarations::as_int(row.get(2)),
    }))
}

fn inventory_numbered(app: &App, number: &str) -> Result<bool, ApiError> {
    let rows = app
        .store
        .query(&Statement::new(
            "SELECT 1 FROM bonded_doc WHERE kind = 'INV101' AND number = ?1 AND status = 'recorded'",
            vec![Value::Text(number.to_owned())],
        ))
        .map_err(ApiError::store)?;
    Ok(!rows.is_empty())
}

/// The receipt recorded for a message already on the ledger.
fn recorded_answer(app: &App, key: &str) -> Result<Option<Response>, ApiError> {
    let Some(seq) = app.store.seq_of(LEDGER, key).map_err(ApiError::store)? else {
        return Ok(None);
    };
    let (entry, _) = app.store.entry(LEDGER, seq).map_err(ApiError::store)?;
    let record: BondedRecord = serde_json::from_slice(&entry.payload).map_err(internal)?;
    let status = if record.status == "refused" {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok(Some(xml_response(
        status,
        record.receipt,
        Some(format!("{LEDGER}:{seq}")),
    )))
}

/// What was decided of a message.
struct Decision {
    status: &'static str,
    number: String,
    problems: Vec<String>,
}

fn refused(problems: Vec<String>) -> Decision {
    Decision {
        status: "refused",
        number: String::new(),
        problems,
    }
}

fn decide(
    app: &App,
    principal: &Principal,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Response, ApiError> {
    let (message, diagnostics) = bonded::parse(body).map_err(|e| match e {
        bonded::BondedError::Xml(x) => ApiError::bad_request(x.code, x.to_string()),
        other => ApiError::unprocessable(other.code(), other.to_string()),
    })?;
    // A declared message needs the declaring enterprise's signature of the body; a draft
    // may carry one. Refusals are audited, as at the declarations' door.
    let reference = format!(
        "{}:{}",
        message.kind.message_type(),
        message.envelope.message_id
    );
    let refusal = |e: ApiError| {
        if matches!(e.status, 401 | 403) {
            crate::audit::denied(app, principal, "declare", &reference, body, e)
        } else {
            e
        }
    };
    let signer = if headers.contains_key(crate::pki::SIGNATURE_HEADER) {
        crate::pki::check_signature(app, principal, headers, body).map_err(refusal)?
    } else if message.declared || app.signatures_required {
        return Err(refusal(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "H0420",
            format!(
                "a declared {} requires the declaring enterprise's signature of the body in {}",
                message.kind.message_type(),
                crate::pki::SIGNATURE_HEADER
            ),
        )));
    } else {
        None
    };
    let key = format!(
        "{}:{}:bonded:{}:{}",
        principal.party.len(),
        principal.party,
        message.kind.message_type(),
        message.envelope.message_id
    );
    if let Some(answer) = recorded_answer(app, &key)? {
        return Ok(answer);
    }
    // One message of a document at a time on this node, from the check of what is on record
    // to the durable append.
    let sender_key = message.sender_key().to_owned();
    let _guard = app.buyer_locks(&[format!(
        "bonded:{}:{}:{sender_key}",
        principal.party,
        message.kind.message_type()
    )]);
    let now = time_of(app);
    let decision = if diagnostics.is_empty() {
        decide_document(app, principal, &message, now)?
    } else {
        refused(
            diagnostics
                .iter()
                .take(50)
                .map(|d| format!("[{}] {}: {}", d.code, d.path, d.message))
                .collect(),
        )
    };
    let (manage_result, rmk) = match decision.status {
        "refused" => ("3", "退单"),
        "draft" => ("Y", "暂存"),
        _ => ("Y", "入库"),
    };
    let receipt = Receipt {
        message_id: format!(
            "{}{}",
            message.kind.receipt_type(),
            now.format("%Y%m%d%H%M%S%3f")
        ),
        sender_id: NODE_ID.into(),
        business_id: decision.number.clone(),
        manage_result: manage_result.into(),
        typecd: if message.declared { "1" } else { "0" }.into(),
        rmk: rmk.into(),
        notes: decision.problems.clone(),
    };
    let xml =
        bonded::write_receipt(&message, &receipt, now).map_err(|e| internal(e.to_string()))?;
    let receipt_type = message.kind.receipt_type();
    let record = BondedRecord {
        party: principal.party.clone(),
        signer,
        origin: principal.origin.clone(),
        received: crate::declarations::received_of("application/xml", body),
        message,
        status: decision.status.to_owned(),
        number: decision.number,
        problems: decision.problems,
        receipt_type: receipt_type.to_owned(),
        receipt: xml.clone(),
    };
    let submission = Submission {
        kind: KIND.into(),
        schema_version: 1,
        submitter: principal.party.clone(),
        submission_id: key.clone(),
        payload: serde_json::to_vec(&record).map_err(internal)?,
        submitter_signature: None,
    };
    let appended = match app.store.append(LEDGER, submission) {
        Ok(appended) => appended,
        // The same message twice at once: the other was recorded first.
        Err(e) if e.code() == "S0001" => {
            return recorded_answer(app, &key)?.ok_or_else(|| ApiError::store(e));
        }
        Err(e) => return Err(ApiError::store(e)),
    };
    app.mailboxes_filled();
    let status = match (record.status.as_str(), appended.status) {
        ("refused", _) => StatusCode::UNPROCESSABLE_ENTITY,
        (_, Status::Created) => StatusCode::CREATED,
        _ => StatusCode::OK,
    };
    Ok(xml_response(
        status,
        xml,
        Some(format!("{LEDGER}:{}", appended.seq)),
    ))
}

/// A valid message decided against what is on record.
fn decide_document(
    app: &App,
    principal: &Principal,
    message: &BondedMessage,
    now: NaiveDateTime,
) -> Result<Decision, ApiError> {
    let kind = message.kind;
    let recorded = on_record(app, kind, &principal.party, message.sender_key())?;
    let change_count = match &message.document {
        Document::Inventory(i) => i.change_count,
        Document::Passport(_) => 0,
    };
    if let Some(recorded) = &recorded {
        if recorded.status == "recorded" {
            let is_change = !message.number().is_empty()
                && message.number() == recorded.number
                && change_count > recorded.change_count;
            if !is_change || !message.declared {
                return Ok(refused(vec![format!(
                    "[H0493] {}: {} was declared already as {} (change {}); a change names \
                     that number and a higher chgTmsCnt",
                    kind.message_type(),
                    message.sender_key(),
                    recorded.number,
                    recorded.change_count
                )]));
            }
            return Ok(Decision {
                status: "recorded",
                number: recorded.number.clone(),
                problems: Vec::new(),
            });
        }
    }
    if let Document::Passport(passport) = &message.document {
        if passport.related_type == "1"
            && !passport.related_no.is_empty()
            && !inventory_numbered(app, &passport.related_no)?
        {
            return Ok(refused(vec![format!(
                "[H0494] rltNo: the 核注清单 {} this pass carries is not on record",
                passport.related_no
            )]));
        }
    }
    if !message.declared {
        return Ok(Decision {
            status: "draft",
            number: String::new(),
            problems: Vec::new(),
        });
    }
    let yy = now.format("%y").to_string();
    let number = match &message.document {
        Document::Inventory(inventory) => {
            let customs = district(&inventory.customs);
            let mark = inventory.direction.map(|d| d.mark()).unwrap_or('I');
            let serial = app
                .next_serial(&format!("QD{customs}"))
                .map_err(ApiError::store)?;
            format!("QD{customs}{yy}{mark}{serial:09}")
        }
        Document::Passport(passport) => {
            let customs = district(&passport.customs);
            let mark = passport.direction.map(|d| d.mark()).unwrap_or('I');
            let serial = app
                .next_serial(&format!("Z{customs}"))
                .map_err(ApiError::store)?;
            format!("Z{customs}{mark}{yy}{serial:09}")
        }
    };
    Ok(Decision {
        status: "recorded",
        number,
        problems: Vec::new(),
    })
}

/// A customs district code as numbers carry it: four characters.
fn district(code: &str) -> String {
    let code: String = code.chars().take(4).collect();
    format!("{code:0>4}")
}
