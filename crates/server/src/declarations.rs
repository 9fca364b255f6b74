//! Declaration routes: intake, reading, receipts and every lifecycle action.

use std::sync::atomic::Ordering;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::{NaiveDate, TimeZone};
use jinguan_clearance::lifecycle::Outcome as Finding;
use jinguan_clearance::pipeline::{self, Context, Outcome};
use jinguan_clearance::{Actor, Channel, Event, Lifecycle, State as Stage};
use jinguan_ledger::Submission;
use jinguan_store::projection::{Statement, Value};
use jinguan_store::{Receipt, Status};
use jinguan_types::declaration::Declaration;
use jinguan_types::{EntryId, IeFlag, Severity};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::auth::{Principal, Role};
use crate::authz::{authorize, Action as Permission};
use crate::record::{self, Payment, Record, Version};
use crate::{blocking, internal, ApiError, App, DeclarationReceipt, LedgerRef, MAX_BODY_BYTES};

use crate::record::Received;

pub(crate) fn body_or_error(body: Result<Bytes, BytesRejection>) -> Result<Bytes, ApiError> {
    body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                "H0413",
                format!("the body is over {MAX_BODY_BYTES} bytes"),
            )
        } else {
            ApiError::bad_request("H0003", e.body_text())
        }
    })
}

fn submission_id(headers: &HeaderMap) -> Option<String> {
    headers
        .get("submission-id")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty() && v.len() <= 200)
        .map(str::to_owned)
}

fn required_submission_id(headers: &HeaderMap) -> Result<String, ApiError> {
    submission_id(headers).ok_or_else(|| {
        ApiError::bad_request(
            "H0001",
            "a Submission-Id header of 1 to 200 characters is required",
        )
    })
}

pub(crate) fn content_type(headers: &HeaderMap) -> String {
    headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

fn read_declaration(content_type: &str, body: &[u8]) -> Result<Declaration, ApiError> {
    match content_type {
        "application/json" => serde_json::from_slice(body)
            .map_err(|e| ApiError::bad_request("H0002", format!("not a declaration in JSON: {e}"))),
        "application/xml" | "text/xml" => jinguan_chinaport::decmessage::parse(body)
            .map(|parsed| parsed.declaration)
            .map_err(|e| ApiError::bad_request(e.code(), e.to_string())),
        "application/edifact" => edifact_declaration(body),
        other => Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "H0415",
            format!(
                "content type {other:?}: send application/json, application/xml or \
                 application/edifact"
            ),
        )),
    }
}

/// The declaration of an interchange holding one CUSDEC: its envelope and the message
/// against its directory checked first (a failure is `400 H0480` naming every error).
fn edifact_declaration(body: &[u8]) -> Result<Declaration, ApiError> {
    let interchange = jinguan_edifact::check(body);
    let errors = crate::interchanges::errors(body, &interchange);
    if let Some(first) = errors.first() {
        let all: Vec<String> = errors.iter().take(20).map(ToString::to_string).collect();
        return Err(ApiError::bad_request(
            "H0480",
            format!(
                "the interchange has {} error(s), first {}: {}",
                errors.len(),
                first.code,
                all.join("; ")
            ),
        ));
    }
    let cusdecs: Vec<_> = interchange
        .messages
        .iter()
        .filter(|m| m.message_type == "CUSDEC")
        .collect();
    let [message] = cusdecs.as_slice() else {
        return Err(ApiError::bad_request(
            "H0481",
            format!(
                "a declaration is one CUSDEC message; this interchange has {} (post several to \
                 /api/v1/interchanges)",
                cusdecs.len()
            ),
        ));
    };
    let read = jinguan_edimap::cusdec::read(&jinguan_edimap::read_message(body, message));
    if let Some(finding) = read.findings.first() {
        return Err(ApiError::bad_request(finding.code, finding.message.clone()));
    }
    Ok(read.declaration)
}

/// `POST /api/v1/declarations`.
pub(crate) async fn declare(
    State(app): State<Arc<App>>,
    principal: Result<Principal, ApiError>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let answer = receive(app.clone(), principal, headers, body).await;
    let counter = match &answer {
        Ok(response) => match response.status() {
            StatusCode::CREATED => &app.metrics.accepted,
            StatusCode::UNPROCESSABLE_ENTITY => &app.metrics.rejected,
            _ => &app.metrics.repeated,
        },
        Err(_) => &app.metrics.refused,
    };
    counter.fetch_add(1, Ordering::Relaxed);
    answer
}

async fn receive(
    app: Arc<App>,
    principal: Result<Principal, ApiError>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let principal = principal?;
    authorize(&app, &principal, Permission::Declare, "declarations").await?;
    let body = body_or_error(body)?;
    let header_id = submission_id(&headers);
    let content_type = content_type(&headers);
    let deciding = app.deciding().await;
    let attesting = app.clone();
    let (created, receipt) = blocking(move || {
        // The signature first: nothing of an unsigned or forged body is read.
        let signer =
            crate::pki::check_signature(&app, &principal, &headers, &body).map_err(|e| {
                // Refusals are audited; a body that is not even XML is just a bad request.
                if matches!(e.status, 401 | 403) {
                    let id = header_id.as_deref().unwrap_or("");
                    crate::audit::denied(&app, &principal, "declare", id, &body, e)
                } else {
                    e
                }
            })?;
        let declaration = read_declaration(&content_type, &body)?;
        // A DecMessage may name itself; JSON has its Submission-Id for that.
        let xml = content_type != "application/json";
        let edifact = content_type == "application/edifact";
        let submission_id = header_id
            .or_else(|| {
                // A CUSDEC names itself by the declarant's reference (BGM 1004).
                edifact
                    .then(|| declaration.head.pre_entry_id.clone())
                    .flatten()
                    .filter(|id| !id.is_empty() && id.len() <= 180)
                    .map(|id| format!("BGM:{id}"))
            })
            .or_else(|| xml.then(|| message_reference(&declaration)).flatten())
            .ok_or_else(|| {
                ApiError::bad_request(
                    "H0001",
                    "a Submission-Id header of 1 to 200 characters is required (a DecMessage \
                     may carry its reference instead: CopMsgId or ClientSeqNo)",
                )
            })?;
        intake(
            &app,
            &principal,
            declaration,
            received_of(&content_type, &body),
            &submission_id,
            signer,
            deciding,
        )
    })
    .await?;
    let status = match (created, receipt.status.as_str()) {
        (false, _) => StatusCode::OK,
        (true, "accepted") => StatusCode::CREATED,
        (true, _) => StatusCode::UNPROCESSABLE_ENTITY,
    };
    let receipt = blocking(move || crate::pki::attest(&attesting, receipt)).await?;
    Ok((status, Json(receipt)).into_response())
}

/// The sender's own reference carried inside a message, standing for a `Submission-Id`
/// when none is sent: the single-window envelope's `CopMsgId`, else the signature block's
/// `ClientSeqNo` (the enterprise's idempotency key), each named by its kind so that the two
/// never collide with each other or with a header's id.
fn message_reference(declaration: &Declaration) -> Option<String> {
    let usable = |v: &Option<String>| {
        v.as_deref()
            .map(str::trim)
            .filter(|v| !v.is_empty() && v.len() <= 180)
            .map(str::to_owned)
    };
    declaration
        .envelope
        .as_ref()
        .and_then(|e| usable(&e.cop_msg_id))
        .map(|id| format!("CopMsgId:{id}"))
        .or_else(|| {
            declaration
                .signature
                .as_ref()
                .and_then(|s| usable(&s.client_seq_no))
                .map(|id| format!("ClientSeqNo:{id}"))
        })
}

/// The key a submission is known by on its ledger: the submitter's party and its id, so
/// that one sender's id never answers for another's (a repeat is the same sender and the
/// same reference). Length-prefixed so no two (party, id) pairs share a key.
fn scoped_id(party: &str, submission_id: &str) -> String {
    format!("{}:{party}:{submission_id}", party.len())
}

/// A body as received: text when it is UTF-8, hex when not.
pub(crate) fn received_of(content_type: &str, body: &[u8]) -> Received {
    let (text, hex) = match std::str::from_utf8(body) {
        Ok(text) => (Some(text.to_owned()), None),
        Err(_) => (None, Some(jinguan_crypto::hex::encode(body))),
    };
    Received {
        content_type: content_type.to_owned(),
        body: text,
        body_hex: hex,
    }
}

fn customs_of(declaration: &Declaration) -> String {
    declaration
        .head
        .declaring_customs
        .clone()
        .filter(|c| c.len() == 4 && c.bytes().all(|b| b.is_ascii_digit()))
        .unwrap_or_else(|| "0000".into())
}

/// Party codes a declaration names: who may see it besides officers.
fn parties(declaration: &Declaration, submitter: &str) -> Vec<String> {
    let head = &declaration.head;
    let mut parties: Vec<String> = [&head.consignee, &head.owner, &head.agent]
        .iter()
        .flat_map(|p| [p.customs_code.clone(), p.uscc.clone()])
        .flatten()
        .filter(|c| !c.is_empty())
        .collect();
    parties.push(submitter.to_owned());
    parties.sort();
    parties.dedup();
    parties
}

pub(crate) fn append(
    app: &App,
    ledger: &str,
    kind: &str,
    submitter: &str,
    submission_id: String,
    payload: &impl Serialize,
) -> Result<Receipt, ApiError> {
    let submission = Submission {
        kind: kind.into(),
        ..submission(submitter, submission_id, payload)?
    };
    app.store
        .append(ledger, submission)
        .map_err(ApiError::store)
}

/// A declaration outcome for the ledger (`kind` [`record::OUTCOME`]).
fn submission(
    submitter: &str,
    submission_id: String,
    payload: &impl Serialize,
) -> Result<Submission, ApiError> {
    Ok(Submission {
        kind: record::OUTCOME.into(),
        schema_version: 1,
        submitter: submitter.to_owned(),
        submission_id,
        payload: serde_json::to_vec(payload).map_err(internal)?,
        submitter_signature: None,
    })
}

/// The original receipt of a submission on record, if there is one: `Ok(None)` when the id
/// is new, `S0001` when it was used with another body.
fn recorded_outcome(
    app: &App,
    ledger: &str,
    submission_id: &str,
    received: &Received,
) -> Result<Option<DeclarationReceipt>, ApiError> {
    let Some(seq) = app
        .store
        .seq_of(ledger, submission_id)
        .map_err(ApiError::store)?
    else {
        return Ok(None);
    };
    let (entry, leaf) = app.store.entry(ledger, seq).map_err(ApiError::store)?;
    let record: Record = serde_json::from_slice(&entry.payload).map_err(internal)?;
    if record.received.as_ref() != Some(received) {
        return Err(ApiError::store(jinguan_store::StoreError::Conflict {
            ledger: ledger.to_owned(),
            submission_id: submission_id.to_owned(),
            seq,
        }));
    }
    let head = app.store.head(ledger).map_err(ApiError::store)?;
    Ok(record.version.map(|v| DeclarationReceipt {
        ledger: LedgerRef {
            ledger: ledger.to_owned(),
            seq,
            leaf_hash: leaf,
            tree_size: head.tree_size,
        },
        ..v.receipt
    }))
}

/// What the platform does next by itself, if anything: send for payment after a green
/// channel or a conform review or inspection, settle when nothing is due, release a green
/// declaration once paid. Nothing while held.
fn follow_on(lifecycle: &Lifecycle, channel: Option<Channel>, due: Decimal) -> Option<Event> {
    if lifecycle.held {
        return None;
    }
    match lifecycle.state {
        Stage::Selected(Channel::Green)
        | Stage::Reviewed(Finding::Conform)
        | Stage::Inspected(Finding::Conform) => Some(Event::RequestPayment),
        Stage::AwaitingPayment if due.is_zero() => Some(Event::NothingDue),
        Stage::Paid | Stage::Guaranteed if channel == Some(Channel::Green) => Some(Event::Release),
        _ => None,
    }
}

/// Applies `first` by `actor`, then the platform's follow-ons.
fn apply_events(
    lifecycle: &Lifecycle,
    actor: Actor,
    first: &[Event],
    channel: Option<Channel>,
    due: Decimal,
) -> Result<(Lifecycle, Vec<Event>), jinguan_clearance::TransitionError> {
    let mut current = lifecycle.clone();
    let mut events = Vec::new();
    for event in first {
        current = current.apply(actor, *event)?;
        events.push(*event);
    }
    while let Some(event) = follow_on(&current, channel, due) {
        current = current.apply(Actor::System, event)?;
        events.push(event);
    }
    Ok((current, events))
}

/// Runs the pipeline on a version and works out its events from `lifecycle`.
struct Checked {
    outcome: Outcome,
    lifecycle: Lifecycle,
    events: Vec<Event>,
    due: Decimal,
}

fn check(
    app: &App,
    declaration: &mut Declaration,
    entry_id: &EntryId,
    lifecycle: &Lifecycle,
    leading: &[Event],
    actor: Actor,
) -> Result<Checked, jinguan_clearance::TransitionError> {
    let rules = app.rules();
    let references = app.references();
    let context = Context {
        refdata: &app.refdata,
        rules: &rules,
        references: &references,
        general_rate_origins: &app.general_rate_origins,
    };
    // The consignee's (境内收发货人) class, else the owner's, from the registry.
    let head = &declaration.head;
    let codes = [
        head.consignee.uscc.as_deref(),
        head.consignee.customs_code.as_deref(),
        head.owner.uscc.as_deref(),
        head.owner.customs_code.as_deref(),
    ];
    let codes: Vec<&str> = codes.into_iter().flatten().collect();
    let class = crate::parties::credit_class(app, &codes).unwrap_or_else(|_| "general".into());
    let outcome = pipeline::run(declaration, &context, &entry_id.to_string(), &class);
    let due = outcome
        .assessment
        .as_ref()
        .map(|a| a.total())
        .unwrap_or_default();
    let channel = outcome.decision.as_ref().map(|d| d.channel);
    let mut first = leading.to_vec();
    let (lifecycle, events) = if outcome.accepted {
        let lifecycle = leading
            .iter()
            .try_fold(lifecycle.clone(), |l, e| l.apply(actor, *e))?;
        let system = [
            Event::Accept {
                entry_id: *entry_id,
            },
            Event::Assess,
            Event::SelectChannel {
                channel: channel.unwrap_or(Channel::Red),
            },
        ];
        let (after, more) = apply_events(&lifecycle, Actor::System, &system, channel, due)?;
        first.extend(more);
        (after, first)
    } else {
        let lifecycle = leading
            .iter()
            .try_fold(lifecycle.clone(), |l, e| l.apply(actor, *e))?;
        let after = lifecycle.apply(Actor::System, Event::Reject)?;
        first.push(Event::Reject);
        (after, first)
    };
    Ok(Checked {
        outcome,
        lifecycle,
        events,
        due,
    })
}

fn receipt_of(
    submission_id: &str,
    entry_id: &str,
    outcome: &Outcome,
    ledger: LedgerRef,
) -> DeclarationReceipt {
    DeclarationReceipt {
        submission_id: submission_id.to_owned(),
        entry_id: entry_id.to_owned(),
        status: if outcome.accepted {
            "accepted"
        } else {
            "rejected"
        }
        .into(),
        channel: outcome.decision.as_ref().map(|d| d.channel),
        reasons: outcome
            .decision
            .as_ref()
            .map(|d| d.reasons.clone())
            .unwrap_or_default(),
        assessment: outcome.assessment.clone(),
        errors: outcome
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .cloned()
            .collect(),
        ledger,
        attestation: None,
    }
}

fn zero_ref(ledger: &str) -> LedgerRef {
    LedgerRef {
        ledger: ledger.to_owned(),
        seq: 0,
        leaf_hash: jinguan_ledger::Hash::ZERO,
        tree_size: 0,
    }
}

fn note_of(outcome: &Outcome) -> String {
    if outcome.accepted {
        outcome
            .decision
            .as_ref()
            .map(|d| {
                d.reasons
                    .iter()
                    .map(|r| r.text.clone())
                    .collect::<Vec<_>>()
                    .join("; ")
            })
            .unwrap_or_default()
    } else {
        outcome
            .findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .map(|f| format!("{} {}", f.code, f.message))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// Checks the declaration and records it, as received and with its outcome, in one ledger
/// entry; answers only once that entry is durable. Returns whether it was new, and the
/// receipt (for a repeat, the original one).
pub(crate) fn intake(
    app: &App,
    principal: &Principal,
    mut declaration: Declaration,
    received: Received,
    submission_id: &str,
    signer: Option<crate::pki::Signer>,
    deciding: tokio::sync::OwnedSemaphorePermit,
) -> Result<(bool, DeclarationReceipt), ApiError> {
    let customs = customs_of(&declaration);
    let ledger = format!("customs-{customs}");
    let key = scoped_id(&principal.party, submission_id);
    if let Some(receipt) = recorded_outcome(app, &ledger, &key, &received)? {
        return Ok((false, receipt));
    }
    let received_on = chrono::DateTime::from_timestamp_millis(app.now_ms())
        .map(|t| t.date_naive())
        .unwrap_or_default();
    if declaration.head.declaration_date.is_none() {
        declaration.head.declaration_date = Some(received_on);
    }
    let declared_on = declaration.head.declaration_date.unwrap_or(received_on);
    let year = u16::try_from(chrono::Datelike::year(&received_on)).unwrap_or(2026);
    let direction = declaration.head.ie_flag.unwrap_or(IeFlag::Import);
    let serial = app.next_serial(&customs).map_err(ApiError::store)?;
    let entry_id = EntryId::new(&customs, year, direction, serial).map_err(internal)?;
    let checked = check(
        app,
        &mut declaration,
        &entry_id,
        &Lifecycle::new(direction),
        &[],
        Actor::System,
    )
    .map_err(|e| ApiError::transition(&e))?;
    let entry_text = entry_id.to_string();
    let draft = receipt_of(
        submission_id,
        &entry_text,
        &checked.outcome,
        zero_ref(&ledger),
    );
    let record = Record {
        entry_id: entry_text.clone(),
        customs,
        direction,
        actor: Actor::Declarant,
        role: Some(principal.role),
        party: principal.party.clone(),
        events: checked.events,
        lifecycle: checked.lifecycle,
        note: note_of(&checked.outcome),
        version: Some(Version {
            submission_id: submission_id.to_owned(),
            parties: parties(&declaration, &principal.party),
            declaration: None,
            declared_on,
            receipt: draft.clone(),
            subject: checked.outcome.subject.clone(),
            due: checked.due,
        }),
        payment: None,
        received: Some(received),
        signer,
        origin: Some(principal.origin.clone()),
        client_id: None,
    };
    let submission = submission(&principal.party, key.clone(), &record)?;
    // Decided: waiting for the ledger takes no processor, so another may decide meanwhile.
    drop(deciding);
    let appended = match app
        .store
        .append(&ledger, submission)
        .map_err(ApiError::store)
    {
        Ok(appended) => appended,
        // The same id arrived twice at once: the other one was recorded first (it has its
        // own entry id, so the contents differ); answer with it if the bodies are the same.
        Err(e) if e.code == "S0001" => {
            let Some(received) = record.received.as_ref() else {
                return Err(e);
            };
            return match recorded_outcome(app, &ledger, &key, received)? {
                Some(receipt) => Ok((false, receipt)),
                None => Err(e),
            };
        }
        Err(e) => return Err(e),
    };
    after_record(app, &record);
    Ok((
        appended.status == Status::Created,
        DeclarationReceipt {
            ledger: LedgerRef {
                ledger,
                seq: appended.seq,
                leaf_hash: appended.leaf_hash,
                tree_size: appended.tree_size,
            },
            ..draft
        },
    ))
}

/// Learns from a release.
fn after_record(app: &App, record: &Record) {
    app.mailboxes_filled();
    if record.events.contains(&Event::Release) {
        if let Some(subject) = current_subject(app, record) {
            app.observe(&subject);
            app.relearn(false);
        }
    }
}

fn current_subject(app: &App, record: &Record) -> Option<jinguan_clearance::risk::Subject> {
    if let Some(version) = &record.version {
        return version.subject.clone();
    }
    let rows = app
        .store
        .query(&Statement::new(
            "SELECT ledger, version_seq FROM decl WHERE entry_id = ?1",
            vec![Value::Text(record.entry_id.clone())],
        ))
        .ok()?;
    let row = rows.first()?;
    crate::version_subject(app, &as_text(row.first()), as_int(row.get(1))).ok()?
}

/// A declaration as the query tables hold it.
pub(crate) struct Current {
    entry_id: String,
    ledger: String,
    customs: String,
    direction: IeFlag,
    status: String,
    channel: Option<Channel>,
    held: bool,
    version: i64,
    declared_on: String,
    updated_ms: i64,
    due: Decimal,
    lifecycle: Lifecycle,
    version_seq: i64,
    // Its records so far, read in the same statement as its state: the step a decision
    // taken from this state would be.
    records: i64,
}

/// `?1, ?2, ... ?n`: the placeholders of an `IN (...)` list of `n` parameters.
pub(crate) fn placeholders(n: usize) -> String {
    (1..=n)
        .map(|i| format!("?{i}"))
        .collect::<Vec<_>>()
        .join(", ")
}

pub(crate) fn as_text(value: Option<&Value>) -> String {
    match value {
        Some(Value::Text(t)) => t.clone(),
        Some(Value::Integer(i)) => i.to_string(),
        _ => String::new(),
    }
}

pub(crate) fn as_int(value: Option<&Value>) -> i64 {
    match value {
        Some(Value::Integer(i)) => *i,
        _ => 0,
    }
}

fn channel_of(text: &str) -> Option<Channel> {
    serde_json::from_value(json!(text)).ok()
}

/// Loads a declaration the caller may see, or `H0405`.
pub(crate) fn load(app: &App, principal: &Principal, entry_id: &str) -> Result<Current, ApiError> {
    let not_found = || {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            "H0405",
            format!("no declaration {entry_id}"),
        )
    };
    let mut sql = String::from(
        "SELECT entry_id, ledger, customs, direction, status, channel, held, version,
                declared_on, updated_ms, due, lifecycle, version_seq,
                (SELECT COUNT(*) FROM decl_event e WHERE e.entry_id = decl.entry_id)
         FROM decl WHERE entry_id = ?1",
    );
    let mut params = vec![Value::Text(entry_id.to_owned())];
    if let Some((condition, value)) = crate::parties::reach(app, principal)? {
        sql.push_str(&format!(" AND ({})", condition.replace('#', "?2")));
        params.push(value);
    }
    let rows = app
        .store
        .query(&Statement::new(sql, params))
        .map_err(ApiError::store)?;
    let Some(row) = rows.into_iter().next() else {
        // Not there, or not the caller's: either way a refusal to reach it, audited (the
        // caller is told only that there is none).
        return Err(crate::audit::denied(
            app,
            principal,
            "reach_declaration",
            entry_id,
            b"",
            not_found(),
        ));
    };
    let get = |i: usize| row.get(i);
    Ok(Current {
        entry_id: as_text(get(0)),
        ledger: as_text(get(1)),
        customs: as_text(get(2)),
        direction: if as_text(get(3)) == "E" {
            IeFlag::Export
        } else {
            IeFlag::Import
        },
        status: as_text(get(4)),
        channel: channel_of(&as_text(get(5))),
        held: as_int(get(6)) != 0,
        version: as_int(get(7)),
        declared_on: as_text(get(8)),
        updated_ms: as_int(get(9)),
        due: as_text(get(10)).parse().unwrap_or_default(),
        lifecycle: serde_json::from_str(&as_text(get(11))).map_err(internal)?,
        version_seq: as_int(get(12)),
        records: as_int(get(13)),
    })
}

pub(crate) fn time_text(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
        .unwrap_or_default()
}

/// One record of a declaration's history.
fn history(app: &App, entry_id: &str) -> Result<Vec<serde_json::Value>, ApiError> {
    let rows = app
        .store
        .query(&Statement::new(
            "SELECT ledger, seq, time_ms, version, actor, party, events, status, held,
                    receipt_code, note, payment
             FROM decl_event WHERE entry_id = ?1 ORDER BY seq",
            vec![Value::Text(entry_id.to_owned())],
        ))
        .map_err(ApiError::store)?;
    Ok(rows
        .iter()
        .map(|row| {
            let get = |i: usize| row.get(i);
            json!({
                "ledger": as_text(get(0)),
                "seq": as_int(get(1)),
                "time": time_text(as_int(get(2))),
                "version": as_int(get(3)),
                "actor": as_text(get(4)),
                "party": as_text(get(5)),
                "events": serde_json::from_str::<serde_json::Value>(&as_text(get(6))).unwrap_or_default(),
                "status": as_text(get(7)),
                "held": as_int(get(8)) != 0,
                "receipt_code": as_text(get(9)),
                "note": as_text(get(10)),
                "payment": serde_json::from_str::<serde_json::Value>(&as_text(get(11))).unwrap_or_default(),
            })
        })
        .collect())
}

/// A first submission's declaration, read again from its body as received and normalised
/// as the checks normalised it.
fn as_received(app: &App, received: &Received, declared_on: &str) -> Result<Declaration, ApiError> {
    let bytes = match (&received.body, &received.body_hex) {
        (Some(text), _) => text.as_bytes().to_vec(),
        (None, Some(hex)) => jinguan_crypto::hex::decode(hex)
            .ok_or_else(|| internal("a recorded body is not hex"))?,
        (None, None) => return Err(internal("a record without its body")),
    };
    let mut declaration = read_declaration(&received.content_type, &bytes)?;
    if declaration.head.declaration_date.is_none() {
        declaration.head.declaration_date = declared_on.parse().ok();
    }
    jinguan_clearance::validation::validate(&mut declaration, &app.refdata);
    Ok(declaration)
}

/// The receipt kept with a declaration's current version.
fn version_receipt(app: &App, current: &Current) -> Result<Option<DeclarationReceipt>, ApiError> {
    let seq = u64::try_from(current.version_seq).map_err(internal)?;
    let (entry, _) = app
        .store
        .entry(&current.ledger, seq)
        .map_err(ApiError::store)?;
    let record: Record = serde_json::from_slice(&entry.payload).map_err(internal)?;
    Ok(record.version.map(|v| v.receipt))
}

fn view(app: &App, current: &Current) -> Result<serde_json::Value, ApiError> {
    // The current version is read from the ledger entry that holds it.
    let seq = u64::try_from(current.version_seq).map_err(internal)?;
    let (entry, _) = app
        .store
        .entry(&current.ledger, seq)
        .map_err(ApiError::store)?;
    let record: Record = serde_json::from_slice(&entry.payload).map_err(internal)?;
    let declaration = match (
        record.version.as_ref().and_then(|v| v.declaration.as_ref()),
        &record.received,
    ) {
        (Some(declaration), _) => json!(declaration),
        (None, Some(received)) => json!(as_received(app, received, &current.declared_on)?),
        (None, None) => serde_json::Value::Null,
    };
    let receipt = record.version.map(|v| json!(v.receipt)).unwrap_or_default();
    let versions = app
        .store
        .query(&Statement::new(
            "SELECT version, ledger, seq, submission_id, time_ms FROM decl_version
             WHERE entry_id = ?1 ORDER BY version",
            vec![Value::Text(current.entry_id.clone())],
        ))
        .map_err(ApiError::store)?
        .iter()
        .map(|row| {
            json!({
                "version": as_int(row.first()),
                "ledger": as_text(row.get(1)),
                "seq": as_int(row.get(2)),
                "submission_id": as_text(row.get(3)),
                "time": time_text(as_int(row.get(4))),
            })
        })
        .collect::<Vec<_>>();
    Ok(json!({
        "entry_id": current.entry_id,
        "ledger": current.ledger,
        "customs": current.customs,
        "direction": current.direction,
        "status": current.status,
        "state": current.lifecycle.state,
        "held": current.held,
        "guaranteed": current.lifecycle.guaranteed,
        "channel": current.channel,
        "version": current.version,
        "declared_on": current.declared_on,
        "updated": time_text(current.updated_ms),
        "due": current.due.to_string(),
        "receipt_code": current.lifecycle.receipt_channel(),
        "receipt": receipt,
        "declaration": declaration,
        "versions": versions,
        "history": history(app, &current.entry_id)?,
    }))
}

/// `GET /api/v1/declarations/{entry_id}`.
pub(crate) async fn show(
    State(app): State<Arc<App>>,
    principal: Principal,
    Path(entry_id): Path<String>,
) -> Result<Response, ApiError> {
    authorize(&app, &principal, Permission::ReadDeclarations, &entry_id).await?;
    blocking(move || {
        let current = load(&app, &principal, &entry_id)?;
        view(&app, &current)
    })
    .await
    .map(|v| Json(v).into_response())
}

/// Filters of `GET /api/v1/declarations`.
#[derive(Debug, Deserialize)]
pub(crate) struct Filter {
    status: Option<String>,
    channel: Option<String>,
    customs: Option<String>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    cursor: Option<String>,
    limit: Option<u32>,
}

/// `GET /api/v1/declarations`.
pub(crate) async fn list(
    State(app): State<Arc<App>>,
    principal: Principal,
    filter: Result<Query<Filter>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    authorize(
        &app,
        &principal,
        Permission::ReadDeclarations,
        "declarations",
    )
    .await?;
    let Query(filter) = filter.map_err(|e| ApiError::bad_request("H0004", e.body_text()))?;
    blocking(move || {
        let mut sql = String::from(
            "SELECT entry_id, customs, direction, status, channel, held, version, declared_on,
                    due, updated_ms FROM decl WHERE entry_id > ?1",
        );
        let mut params = vec![Value::Text(filter.cursor.clone().unwrap_or_default())];
        let mut add = |clause: &str, value: Value| {
            params.push(value);
            sql.push_str(&clause.replace('#', &format!("?{}", params.len())));
        };
        match filter.status.as_deref() {
            None => {}
            Some("held") => add(" AND held = #", Value::Integer(1)),
            Some(status) if record::STATUSES.contains(&status) => {
                add(" AND status = #", Value::Text(status.into()))
            }
            Some(other) => {
                return Err(ApiError::bad_request(
                    "H0004",
                    format!(
                        "status {other:?}: one of {} or held",
                        record::STATUSES.join(", ")
                    ),
                ))
            }
        }
        if let Some(channel) = &filter.channel {
            if channel_of(channel).is_none() {
                return Err(ApiError::bad_request(
                    "H0004",
                    format!("channel {channel:?}: green, yellow or red"),
                ));
            }
            add(" AND channel = #", Value::Text(channel.clone()));
        }
        if let Some(customs) = &filter.customs {
            add(" AND customs = #", Value::Text(customs.clone()));
        }
        if let Some(from) = filter.from {
            add(" AND declared_on >= #", Value::Text(from.to_string()));
        }
        if let Some(to) = filter.to {
            add(" AND declared_on <= #", Value::Text(to.to_string()));
        }
        if let Some((condition, value)) = crate::parties::reach(&app, &principal)? {
            add(&format!(" AND ({condition})"), value);
        }
        let limit = filter.limit.unwrap_or(100).clamp(1, 1000);
        sql.push_str(&format!(" ORDER BY entry_id LIMIT {limit}"));
        let rows = app
            .store
            .query(&Statement::new(sql, params))
            .map_err(ApiError::store)?;
        let items: Vec<serde_json::Value> = rows
            .iter()
            .map(|row| {
                let get = |i: usize| row.get(i);
                json!({
                    "entry_id": as_text(get(0)),
                    "customs": as_text(get(1)),
                    "direction": as_text(get(2)),
                    "status": as_text(get(3)),
                    "channel": channel_of(&as_text(get(4))),
                    "held": as_int(get(5)) != 0,
                    "version": as_int(get(6)),
                    "declared_on": as_text(get(7)),
                    "due": as_text(get(8)),
                    "updated": time_text(as_int(get(9))),
                })
            })
            .collect();
        let next = (items.len() == limit as usize)
            .then(|| items.last().map(|i| i["entry_id"].clone()))
            .flatten();
        Ok(json!({"items": items, "next_cursor": next}))
    })
    .await
    .map(|v| Json(v).into_response())
}

/// Query of `GET .../receipts`.
#[derive(Debug, Deserialize)]
pub(crate) struct ReceiptQuery {
    format: Option<String>,
    seq: Option<i64>,
}

/// `GET /api/v1/declarations/{entry_id}/receipts`: every receipt as JSON, or with
/// `?format=xml` the latest (or `&seq=N` that one) as China's DEC_RESULT.
pub(crate) async fn receipts(
    State(app): State<Arc<App>>,
    principal: Principal,
    Path(entry_id): Path<String>,
    query: Result<Query<ReceiptQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, ApiError> {
    authorize(&app, &principal, Permission::ReadDeclarations, &entry_id).await?;
    let Query(query) = query.map_err(|e| ApiError::bad_request("H0004", e.body_text()))?;
    blocking(move || {
        let current = load(&app, &principal, &entry_id)?;
        let history = history(&app, &entry_id)?;
        let receipts: Vec<serde_json::Value> = history
            .iter()
            .map(|h| {
                json!({
                    "entry_id": entry_id,
                    "ledger": h["ledger"],
                    "seq": h["seq"],
                    "notice_time": h["time"],
                    "channel": h["receipt_code"],
                    "status": h["status"],
                    "held": h["held"],
                    "events": h["events"],
                    "note": h["note"],
                })
            })
            .collect();
        match query.format.as_deref() {
            None | Some("json") => {
                Ok(Json(json!({"entry_id": entry_id, "receipts": receipts})).into_response())
            }
            Some("xml") => {
                let chosen = history
                    .iter()
                    .rev()
                    .filter(|h| h["receipt_code"].as_str().is_some_and(|c| !c.is_empty()))
                    .find(|h| query.seq.is_none_or(|s| h["seq"].as_i64() == Some(s)))
                    .ok_or_else(|| {
                        ApiError::new(
                            StatusCode::NOT_FOUND,
                            "not_found",
                            "H0405",
                            "no such receipt with a China status code",
                        )
                    })?;
                // Receipt times are China Standard Time, as a declarant's software expects.
                let china =
                    chrono::FixedOffset::east_opt(8 * 3600).ok_or_else(|| internal("offset"))?;
                let notice =
                    chrono::DateTime::parse_from_rfc3339(chosen["time"].as_str().unwrap_or(""))
                        .map(|t| china.from_utc_datetime(&t.naive_utc()).naive_local())
                        .unwrap_or_default();
                let status = chosen["status"].as_str().unwrap_or("");
                let result = jinguan_chinaport::receipt::DecResult {
                    seq_no: format!("{}", chosen["seq"]),
                    entry_id: (status != "rejected").then(|| entry_id.clone()),
                    notice_date: notice,
                    channel: chosen["receipt_code"].as_str().unwrap_or("").to_owned(),
                    note: chosen["note"].as_str().unwrap_or("").to_owned(),
                    customs_master: Some(current.customs.clone()),
                    ie_date: None,
                    d_date: current.declared_on.parse().ok(),
                };
                Ok((
                    [("content-type", "application/xml; charset=utf-8")],
                    result.write(),
                )
                    .into_response())
            }
            Some("edifact") => {
                // Every receipt as a CUSRES, in one interchange to the caller; the assessment
                // from the version's own receipt.
                let (submission_id, customs) = crate::interchanges::reference_of(&app, &entry_id)?;
                let assessment = version_receipt(&app, &current)?.and_then(|r| r.assessment);
                let messages = history
                    .iter()
                    .enumerate()
                    .map(|(i, h)| {
                        let assessed = h["events"]
                            .as_array()
                            .is_some_and(|e| e.iter().any(|e| e["event"] == "assess"));
                        (
                            (i + 1).to_string(),
                            crate::interchanges::cusres_of(
                                h,
                                &entry_id,
                                &submission_id,
                                &customs,
                                assessment.as_ref().filter(|_| assessed),
                            ),
                        )
                    })
                    .collect();
                Ok((
                    [("content-type", "application/edifact")],
                    crate::interchanges::cusres_interchange(&app, &principal.party, messages),
                )
                    .into_response())
            }
            Some(other) => Err(ApiError::bad_request(
                "H0004",
                format!("format {other:?}: json, xml or edifact"),
            )),
        }
    })
    .await
}

/// What an action asks for.
struct Action {
    actor: Actor,
    events: Vec<Event>,
    note: String,
    payment: Option<Payment>,
}

/// Records an action on a declaration the caller may see: decides under the declaration's
/// lock, appends one record, answers with the declaration as it now stands. A repeated
/// `Submission-Id` gets the declaration back without acting again.
/// The submission id of the step a decision from `current` takes: the entry id and how many
/// records it had in the very snapshot the decision was taken from (one statement reads both,
/// so a record landing between two reads cannot give a stale decision a fresh number). Two
/// decisions from the same state (two nodes, or a node racing a request it did not see) name
/// the same step, and the store takes only the first: the second is refused (`S0001`) before
/// anything of it is written, never recorded as a second step.
fn step_id(current: &Current) -> String {
    format!("{}/event-{}", current.entry_id, current.records)
}

/// Whether the caller's request `client_id` on `entry_id` was already recorded (records of
/// earlier versions were known by `<entry id>/<client id>` on the ledger itself).
fn seen(app: &App, ledger: &str, entry_id: &str, client_id: &str) -> Result<bool, ApiError> {
    let rows = app
        .store
        .query(&Statement::new(
            "SELECT seq FROM decl_request WHERE entry_id = ?1 AND client_id = ?2",
            vec![
                Value::Text(entry_id.to_owned()),
                Value::Text(client_id.to_owned()),
            ],
        ))
        .map_err(ApiError::store)?;
    if !rows.is_empty() {
        return Ok(true);
    }
    Ok(app
        .store
        .seq_of(ledger, &format!("{entry_id}/{client_id}"))
        .map_err(ApiError::store)?
        .is_some())
}

/// What to answer when the step an action or amendment decided was taken meanwhile by
/// another decision (`S0001` on its step id): the original if it was this very request
/// (its `Submission-Id` recorded), else `409 H0409`: decide again from the new state.
fn raced(
    app: &App,
    principal: &Principal,
    entry_id: &str,
    client_id: Option<&str>,
    appended: &Result<Receipt, ApiError>,
) -> Result<Option<(StatusCode, serde_json::Value)>, ApiError> {
    let Err(e) = appended else {
        return Ok(None);
    };
    if e.code != "S0001" {
        return Ok(None);
    }
    let now = load(app, principal, entry_id)?;
    if let Some(id) = client_id {
        if seen(app, &now.ledger, entry_id, id)? {
            return Ok(Some((StatusCode::OK, view(app, &now)?)));
        }
    }
    Err(ApiError::new(
        StatusCode::CONFLICT,
        "conflict",
        "H0409",
        format!(
            "declaration {entry_id} changed while this was decided (another request took the \
             step first); read it and decide again"
        ),
    ))
}

fn act(
    app: &App,
    principal: &Principal,
    entry_id: &str,
    client_id: Option<String>,
    decide: impl FnOnce(&Current) -> Result<Action, ApiError>,
) -> Result<(StatusCode, serde_json::Value), ApiError> {
    let _guard = app.stripe(entry_id);
    let current = load(app, principal, entry_id)?;
    if let Some(id) = &client_id {
        if seen(app, &current.ledger, entry_id, id)? {
            return Ok((StatusCode::OK, view(app, &current)?));
        }
    }
    let submission_id = step_id(&current);
    let action = decide(&current)?;
    let (lifecycle, events) = apply_events(
        &current.lifecycle,
        action.actor,
        &action.events,
        current.channel,
        current.due,
    )
    .map_err(|e| ApiError::transition(&e))?;
    let record = Record {
        entry_id: entry_id.to_owned(),
        customs: current.customs.clone(),
        direction: current.direction,
        actor: action.actor,
        role: Some(principal.role),
        party: principal.party.clone(),
        events,
        lifecycle,
        note: action.note,
        version: None,
        payment: action.payment,
        received: None,
        signer: None,
        origin: Some(principal.origin.clone()),
        client_id: client_id.clone(),
    };
    let appended = append(
        app,
        &current.ledger,
        record::EVENT,
        &principal.party,
        submission_id,
        &record,
    );
    if let Some(answer) = raced(app, principal, entry_id, client_id.as_deref(), &appended)? {
        return Ok(answer);
    }
    appended?;
    after_record(app, &record);
    let now = load(app, principal, entry_id)?;
    Ok((StatusCode::OK, view(app, &now)?))
}

async fn acting(
    app: Arc<App>,
    principal: Principal,
    headers: &HeaderMap,
    entry_id: String,
    decide: impl FnOnce(&Current) -> Result<Action, ApiError> + Send + 'static,
) -> Result<Response, ApiError> {
    let metrics = app.clone();
    let answer = async {
        let client_id = submission_id(headers);
        blocking(move || {
            act(&app, &principal, &entry_id, client_id, decide).map_err(|e| {
                // A refusal of the actor (W0102) is a denial like any other: audited.
                if e.status == StatusCode::FORBIDDEN.as_u16() {
                    crate::audit::denied(&app, &principal, "act", &entry_id, b"", e)
                } else {
                    e
                }
            })
        })
        .await
    }
    .await;
    let counter = if answer.is_ok() {
        &metrics.metrics.events
    } else {
        &metrics.metrics.events_refused
    };
    counter.fetch_add(1, Ordering::Relaxed);
    answer.map(|(status, v)| (status, Json(v)).into_response())
}

/// The body of a review or an inspection.
#[derive(Debug, Deserialize)]
pub(crate) struct FindingBody {
    outcome: Finding,
    #[serde(default)]
    findings: Vec<String>,
}

/// The body of a hold, release, cancellation or exit (all optional).
#[derive(Debug, Default, Deserialize)]
pub(crate) struct Note {
    #[serde(default)]
    reason: String,
}

fn json_body<T: serde::de::DeserializeOwned + Default>(
    body: Result<Bytes, BytesRejection>,
) -> Result<T, ApiError> {
    let body = body_or_error(body)?;
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(&body).map_err(|e| ApiError::bad_request("H0004", e.to_string()))
}

fn required_json<T: serde::de::DeserializeOwned>(
    body: Result<Bytes, BytesRejection>,
) -> Result<T, ApiError> {
    let body = body_or_error(body)?;
    serde_json::from_slice(&body).map_err(|e| ApiError::bad_request("H0004", e.to_string()))
}

fn findings_text(body: &FindingBody) -> String {
    body.findings.join("; ")
}

/// `POST .../review`: `{"outcome": "conform" | "non_conform", "findings": [...]}`.
pub(crate) async fn review(
    State(app): State<Arc<App>>,
    principal: Principal,
    Path(entry_id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    authorize(&app, &principal, Permission::Review, &entry_id).await?;
    let body: FindingBody = required_json(body)?;
    acting(app, principal, &headers, entry_id, move |_| {
        Ok(Action {
            actor: Actor::Officer,
            events: vec![Event::Review {
                outcome: body.outcome,
            }],
            note: findings_text(&body),
            payment: None,
        })
    })
    .await
}

/// `POST .../inspection`: as review.
pub(crate) async fn inspection(
    State(app): State<Arc<App>>,
    principal: Principal,
    Path(entry_id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    authorize(&app, &principal, Permission::Inspect, &entry_id).await?;
    let body: FindingBody = required_json(body)?;
    acting(app, principal, &headers, entry_id, move |_| {
        Ok(Action {
            actor: Actor::Officer,
            events: vec![Event::Inspect {
                outcome: body.outcome,
            }],
            note: findings_text(&body),
            payment: None,
        })
    })
    .await
}

/// `POST .../hold`.
pub(crate) async fn hold(
    State(app): State<Arc<App>>,
    principal: Principal,
    Path(entry_id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    authorize(&app, &principal, Permission::Hold, &entry_id).await?;
    let body: Note = json_body(body)?;
    acting(app, principal, &headers, entry_id, move |_| {
        Ok(Action {
            actor: Actor::Officer,
            events: vec![Event::Hold],
            note: body.reason,
            payment: None,
        })
    })
    .await
}

/// `POST .../release`: lifts a hold when the declaration is held, otherwise releases the
/// goods (once paid or guaranteed).
pub(crate) async fn release(
    State(app): State<Arc<App>>,
    principal: Principal,
    Path(entry_id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    authorize(&app, &principal, Permission::Release, &entry_id).await?;
    let body: Note = json_body(body)?;
    acting(app, principal, &headers, entry_id, move |current| {
        Ok(Action {
            actor: Actor::Officer,
            events: vec![if current.held {
                Event::ReleaseHold
            } else {
                Event::Release
            }],
            note: body.reason,
            payment: None,
        })
    })
    .await
}

/// `POST .../cancel`: by the declarant before release; by an officer before release, or
/// after it by a correction procedure.
pub(crate) async fn cancel(
    State(app): State<Arc<App>>,
    principal: Principal,
    Path(entry_id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    authorize(&app, &principal, Permission::Cancel, &entry_id).await?;
    let body: Note = json_body(body)?;
    let officer = principal.role == Role::Officer;
    acting(app, principal, &headers, entry_id, move |current| {
        let released = matches!(
            current.lifecycle.state,
            Stage::Released | Stage::ExitConfirmed
        );
        Ok(Action {
            actor: if officer {
                Actor::Officer
            } else {
                Actor::Declarant
            },
            events: vec![if officer && released {
                Event::CancelByCorrection
            } else {
                Event::Cancel
            }],
            note: body.reason,
            payment: None,
        })
    })
    .await
}

/// `POST .../exit`: an officer confirms, against the manifest, that exported goods left.
pub(crate) async fn exit(
    State(app): State<Arc<App>>,
    principal: Principal,
    Path(entry_id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    authorize(&app, &principal, Permission::ConfirmExit, &entry_id).await?;
    let body: Note = json_body(body)?;
    acting(app, principal, &headers, entry_id, move |_| {
        Ok(Action {
            // The confirmation is the platform's, on the officer's word.
            actor: Actor::System,
            events: vec![Event::ConfirmExit],
            note: body.reason,
            payment: None,
        })
    })
    .await
}

/// The body of `POST /api/v1/payments`.
#[derive(Debug, Deserialize)]
pub(crate) struct PaymentBody {
    entry_id: String,
    #[serde(default = "payment_kind")]
    kind: String,
    amount: Decimal,
    #[serde(default)]
    reference: String,
}

fn payment_kind() -> String {
    "payment".into()
}

/// `POST /api/v1/payments`: a bank pays (the exact amount due) or guarantees (at least it).
pub(crate) async fn pay(
    State(app): State<Arc<App>>,
    principal: Principal,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    authorize(&app, &principal, Permission::Pay, "payments").await?;
    let body: PaymentBody = required_json(body)?;
    let entry_id = body.entry_id.clone();
    acting(app, principal, &headers, entry_id, move |current| {
        let event = match body.kind.as_str() {
            "payment" if body.amount == current.due => Event::Pay,
            "guarantee" if body.amount >= current.due => Event::Guarantee,
            "payment" | "guarantee" => {
                return Err(ApiError::unprocessable(
                    "W0201",
                    format!(
                        "a {} of {} yuan does not settle the {} yuan due",
                        body.kind, body.amount, current.due
                    ),
                )
                .with_details(json!({"due": current.due.to_string()})))
            }
            other => {
                return Err(ApiError::bad_request(
                    "H0004",
                    format!("kind {other:?}: payment or guarantee"),
                ))
            }
        };
        Ok(Action {
            actor: Actor::Bank,
            events: vec![event],
            note: format!(
                "{} {} yuan, reference {}",
                body.kind, body.amount, body.reference
            ),
            payment: Some(Payment {
                kind: body.kind,
                amount: body.amount,
                reference: body.reference,
            }),
        })
    })
    .await
}

/// `POST .../amend`: a new version (JSON or XML, with `Submission-Id`), checked again and
/// kept under the same entry id. A version that fails the checks, or changes the declaring
/// customs or the direction, is refused with `W0107` and changes nothing.
pub(crate) async fn amend(
    State(app): State<Arc<App>>,
    principal: Principal,
    Path(entry_id): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    authorize(&app, &principal, Permission::Amend, &entry_id).await?;
    let body = body_or_error(body)?;
    let client_id = required_submission_id(&headers)?;
    let metrics = app.clone();
    let answer = blocking(move || {
        let signer =
            crate::pki::check_signature(&app, &principal, &headers, &body).map_err(|e| {
                if matches!(e.status, 401 | 403) {
                    crate::audit::denied(&app, &principal, "amend", &entry_id, &body, e)
                } else {
                    e
                }
            })?;
        let content_type = content_type(&headers);
        let declaration = read_declaration(&content_type, &body)?;
        // A signed amendment keeps the bytes its signature covers.
        let received = signer.as_ref().map(|_| received_of(&content_type, &body));
        amend_now(
            &app,
            &principal,
            &entry_id,
            &client_id,
            declaration,
            (received, signer),
        )
    })
    .await;
    let counter = if answer.is_ok() {
        &metrics.metrics.events
    } else {
        &metrics.metrics.events_refused
    };
    counter.fetch_add(1, Ordering::Relaxed);
    answer.map(|(status, v)| (status, Json(v)).into_response())
}

fn amend_now(
    app: &App,
    principal: &Principal,
    entry_id: &str,
    client_id: &str,
    mut declaration: Declaration,
    (received, signer): (Option<Received>, Option<crate::pki::Signer>),
) -> Result<(StatusCode, serde_json::Value), ApiError> {
    let _guard = app.stripe(entry_id);
    let current = load(app, principal, entry_id)?;
    if seen(app, &current.ledger, entry_id, client_id)? {
        return Ok((StatusCode::OK, view(app, &current)?));
    }
    let submission_id = step_id(&current);
    let refuse = |message: String| ApiError::unprocessable("W0107", message);
    if customs_of(&declaration) != current.customs {
        return Err(refuse(format!(
            "an amendment keeps the declaring customs {}",
            current.customs
        )));
    }
    if declaration.head.ie_flag.unwrap_or(IeFlag::Import) != current.direction {
        return Err(refuse(
            "an amendment keeps the import/export direction".into(),
        ));
    }
    let id: EntryId = entry_id.parse().map_err(internal)?;
    if declaration.head.declaration_date.is_none() {
        declaration.head.declaration_date = current.declared_on.parse().ok();
    }
    let declared_on = declaration.head.declaration_date.unwrap_or_default();
    let checked = check(
        app,
        &mut declaration,
        &id,
        &current.lifecycle,
        &[Event::Amend],
        Actor::Declarant,
    )
    .map_err(|e| ApiError::transition(&e))?;
    if !checked.outcome.accepted {
        let draft = receipt_of(
            client_id,
            entry_id,
            &checked.outcome,
            zero_ref(&current.ledger),
        );
        return Err(
            refuse("the amended declaration fails the checks; nothing changed".into())
                .with_details(json!({"errors": draft.errors})),
        );
    }
    let draft = receipt_of(
        client_id,
        entry_id,
        &checked.outcome,
        zero_ref(&current.ledger),
    );
    let record = Record {
        entry_id: entry_id.to_owned(),
        customs: current.customs.clone(),
        direction: current.direction,
        actor: Actor::Declarant,
        role: Some(principal.role),
        party: principal.party.clone(),
        events: checked.events,
        lifecycle: checked.lifecycle,
        note: note_of(&checked.outcome),
        version: Some(Version {
            submission_id: client_id.to_owned(),
            parties: parties(&declaration, &principal.party),
            declaration: Some(declaration),
            declared_on,
            receipt: draft,
            subject: checked.outcome.subject.clone(),
            due: checked.due,
        }),
        payment: None,
        received,
        signer,
        origin: Some(principal.origin.clone()),
        client_id: Some(client_id.to_owned()),
    };
    let appended = append(
        app,
        &current.ledger,
        record::EVENT,
        &principal.party,
        submission_id,
        &record,
    );
    if let Some(answer) = raced(app, principal, entry_id, Some(client_id), &appended)? {
        return Ok(answer);
    }
    appended?;
    after_record(app, &record);
    let now = load(app, principal, entry_id)?;
    Ok((StatusCode::OK, view(app, &now)?))
}
