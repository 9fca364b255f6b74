//! UN/EDIFACT at the exchange: interchanges in, CONTRL back, CUSRES in the mailboxes.
//!
//! `POST /api/v1/interchanges` (`Content-Type: application/edifact`) takes an interchange of
//! one or many messages. Its envelope is checked and each message validated against its UN
//! directory; the answer is the CONTRL (`application/edifact`; with `?format=json` the CONTRL
//! and each message's outcome as JSON), `200` when the CONTRL acknowledges the interchange,
//! `422` when it rejects any of it. A message the CONTRL rejects is not processed. Each
//! acknowledged CUSDEC goes through clearance exactly as a declaration posted to
//! `/api/v1/declarations` (one ledger entry each, durable before the answer), so its receipts
//! fill the mailboxes of the parties it names, the sender's among them; CUSCAR and CUSREP are
//! read to the manifest model and kept in the `logistics` ledger. Other message types are
//! acknowledged as syntax but refused by their `UCM` (`0085` code `17`, no agreement).
//!
//! A message's submission id is the caller's `Submission-Id` and its `UNH` reference
//! (`<id>/<ref>`), or without the header `EDIFACT:<sender>:<interchange ref>:<message ref>`:
//! the same interchange sent again is recognised and answered with the same outcomes.
//!
//! Receipts as CUSRES: `GET /api/v1/mailbox?format=edifact` gives the caller's mailbox messages
//! as one interchange of CUSRES messages; `GET /api/v1/declarations/{id}/receipts?format=edifact`
//! a declaration's.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::TimeZone;
use jinguan_edifact::{Diagnostic, Interchange};
use jinguan_edimap::{contrl, cusdec, cusres, manifest, read_messages, Seg};
use serde::Deserialize;
use serde_json::json;

use crate::auth::Principal;
use crate::authz::{authorize, Action};
use crate::{blocking, ApiError, App};

/// The ledger manifests (CUSCAR, CUSREP) are kept in.
pub const LOGISTICS_LEDGER: &str = "logistics";
/// Entry kind of a manifest.
pub const MANIFEST: &str = "manifest";

/// The message types the exchange has an agreement to receive.
const AGREED: &[&str] = &["CUSDEC", "CUSCAR", "CUSREP"];

/// `?format=`.
#[derive(Debug, Deserialize)]
pub(crate) struct Format {
    format: Option<String>,
}

/// The 0085 code of any diagnostic.
pub(crate) fn error_code(code: &str) -> Option<&'static str> {
    jinguan_edimap::error_code(code)
}

/// Every error in `input`: the envelope's, and each message's against its directory.
pub(crate) fn errors(input: &[u8], interchange: &Interchange) -> Vec<Diagnostic> {
    jinguan_edimap::errors(input, interchange)
}

fn china_now(ms: i64) -> chrono::NaiveDateTime {
    let china = chrono::FixedOffset::east_opt(8 * 3600).expect("a valid offset");
    chrono::Utc
        .timestamp_millis_opt(ms)
        .single()
        .map(|t| t.with_timezone(&china).naive_local())
        .unwrap_or_default()
}

/// The message's own bytes (`UNH` to `UNT`), as received, for the record.
fn message_bytes<'a>(input: &'a [u8], interchange: &Interchange, index: usize) -> &'a [u8] {
    let start = interchange.messages[index].offset;
    let end = interchange
        .messages
        .get(index + 1)
        .map_or(input.len(), |next| next.offset);
    input.get(start..end).unwrap_or_default()
}

/// `POST /api/v1/interchanges`.
pub(crate) async fn receive(
    State(app): State<Arc<App>>,
    principal: Result<Principal, ApiError>,
    headers: HeaderMap,
    query: Result<Query<Format>, axum::extract::rejection::QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let principal = principal?;
    authorize(&app, &principal, Action::Declare, "interchanges").await?;
    let Query(format) = query.map_err(|e| ApiError::bad_request("H0004", e.body_text()))?;
    let body = body.map_err(|e| ApiError::bad_request("H0003", e.body_text()))?;
    let content_type = crate::declarations::content_type(&headers);
    if content_type != "application/edifact" {
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "H0415",
            format!("content type {content_type:?}: send application/edifact"),
        ));
    }
    let header_id = headers
        .get("submission-id")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty() && v.len() <= 180)
        .map(str::to_owned);
    let checking = app.clone();
    let denied_id = header_id.clone();
    let (signer, interchange, errors, body) = {
        let headers = headers.clone();
        let principal = principal.clone();
        blocking(move || {
            let signer = crate::pki::check_signature(&checking, &principal, &headers, &body)
                .map_err(|e| {
                    if matches!(e.status, 401 | 403) {
                        let id = denied_id.as_deref().unwrap_or("");
                        crate::audit::denied(&checking, &principal, "interchange", id, &body, e)
                    } else {
                        e
                    }
                })?;
            let interchange = jinguan_edifact::check(&body);
            let errors = errors(&body, &interchange);
            Ok((signer, interchange, errors, body))
        })
        .await?
    };
    let mut refs: Vec<&Diagnostic> = errors.iter().collect();
    // Each acknowledged message, processed in order.
    let mut outcomes = Vec::new();
    let mut mapping_errors: Vec<Diagnostic> = Vec::new();
    let mut unagreed: Vec<&str> = Vec::new();
    // A rejected interchange (UCI action 4) rejects every message in it.
    let verdict = contrl::report(&interchange, &refs, &error_code);
    let interchange_ok = verdict.body.first().is_some_and(|uci| uci.get(3, 0) == "7");
    let mut all_segments = read_messages(&body, &interchange);
    for (index, message) in interchange.messages.iter().enumerate() {
        // A type no agreement covers is refused as such, whatever else is wrong with it.
        if !AGREED.contains(&message.message_type.as_str()) {
            unagreed.push(message.reference.as_str());
            outcomes.push(
                json!({"reference": message.reference, "type": message.message_type,
                "status": "rejected", "by": "no agreement"}),
            );
            continue;
        }
        let acknowledged = interchange_ok && verdict.messages.get(index).is_some_and(|(_, ok)| *ok);
        if !acknowledged {
            outcomes.push(
                json!({"reference": message.reference, "type": message.message_type,
                "status": "rejected", "by": "CONTRL"}),
            );
            continue;
        }
        let submission_id = match &header_id {
            Some(id) => format!("{id}/{}", message.reference),
            None => format!(
                "EDIFACT:{}:{}:{}",
                interchange.sender, interchange.control_reference, message.reference
            ),
        };
        let mut principal = principal.clone();
        principal.origin.request = format!("{}/msg-{}", principal.origin.request, index + 1);
        let segments = std::mem::take(&mut all_segments[index]);
        match message.message_type.as_str() {
            "CUSDEC" => {
                let read = cusdec::read(&segments);
                if let Some(finding) = read.findings.first() {
                    mapping_errors.push(Diagnostic {
                        code: finding.code,
                        message: finding.message.clone(),
                        offset: message.offset,
                        segment: Some(message.first_segment + finding.segment.max(1) - 1),
                        element: None,
                    });
                    outcomes.push(json!({"reference": message.reference, "type": "CUSDEC",
                        "status": "rejected", "by": "mapping", "error": finding.message}));
                    continue;
                }
                let received = crate::declarations::received_of(
                    "application/edifact",
                    message_bytes(&body, &interchange, index),
                );
                let deciding = app.deciding().await;
                let app2 = app.clone();
                let signer = signer.clone();
                let id = submission_id.clone();
                let (created, receipt) = blocking(move || {
                    crate::declarations::intake(
                        &app2,
                        &principal,
                        read.declaration,
                        received,
                        &id,
                        signer,
                        deciding,
                    )
                })
                .await?;
                outcomes.push(json!({"reference": message.reference, "type": "CUSDEC",
                    "submission_id": submission_id, "new": created,
                    "status": receipt.status, "entry_id": receipt.entry_id, "receipt": receipt}));
            }
            "CUSCAR" | "CUSREP" => {
                let manifest = manifest::read(&segments);
                let app2 = app.clone();
                let id = submission_id.clone();
                let text =
                    String::from_utf8_lossy(message_bytes(&body, &interchange, index)).into_owned();
                let appended = blocking(move || {
                    crate::declarations::append(
                        &app2,
                        LOGISTICS_LEDGER,
                        MANIFEST,
                        &principal.party,
                        id,
                        &json!({"manifest": manifest, "received": text,
                            "origin": principal.origin, "party": principal.party}),
                    )
                })
                .await?;
                outcomes.push(
                    json!({"reference": message.reference, "type": message.message_type,
                    "submission_id": submission_id, "status": "recorded",
                    "ledger": LOGISTICS_LEDGER, "seq": appended.seq}),
                );
            }
            other => {
                return Err(crate::internal(format!(
                    "{other} is agreed but not handled"
                )))
            }
        }
    }
    // The CONTRL: syntax and validation errors, and what the mapping could not take.
    refs.extend(mapping_errors.iter());
    let mut report = contrl::report(&interchange, &refs, &error_code);
    refuse_unagreed(&mut report, &unagreed);
    let now = china_now(app.now_ms());
    let contrl_bytes = contrl::interchange(
        &interchange,
        &report,
        (
            now.format("%y%m%d").to_string(),
            now.format("%H%M").to_string(),
        ),
        &format!("{}", app.now_ms() % 100_000_000_000_000),
    );
    let status = if report.accepted {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    match format.format.as_deref() {
        Some("json") => Ok((
            status,
            Json(json!({
                "accepted": report.accepted,
                "contrl": String::from_utf8_lossy(&contrl_bytes),
                "errors": errors.iter().map(|d| json!({"code": d.code, "message": d.message,
                    "segment": d.segment.map(|s| s + 1), "offset": d.offset})).collect::<Vec<_>>(),
                "messages": outcomes,
            })),
        )
            .into_response()),
        None | Some("edifact") => Ok((
            status,
            [("content-type", "application/edifact")],
            contrl_bytes,
        )
            .into_response()),
        Some(other) => Err(ApiError::bad_request(
            "H0004",
            format!("format {other:?}: edifact or json"),
        )),
    }
}

/// Marks the messages no agreement covers as refused (`UCM` action 4, code 17).
fn refuse_unagreed(report: &mut contrl::Report, references: &[&str]) {
    if references.is_empty() {
        return;
    }
    report.accepted = false;
    for (reference, ok) in &mut report.messages {
        if references.contains(&reference.as_str()) {
            *ok = false;
        }
    }
    for seg in &mut report.body {
        if seg.tag == "UCM" && references.contains(&seg.get(0, 0)) {
            seg.elements.truncate(2);
            seg.elements.push(vec!["4".into()]);
            seg.elements.push(vec!["17".into()]);
        }
    }
}

/// A mailbox or history row (`status`, `receipt_code`, `note`, `events`, `time`) as a CUSRES.
pub(crate) fn cusres_of(
    row: &serde_json::Value,
    entry_id: &str,
    submission_id: &str,
    customs: &str,
    assessment: Option<&jinguan_clearance::assessment::Assessment>,
) -> Vec<Seg> {
    let text = |k: &str| row[k].as_str().unwrap_or("").to_owned();
    let events: Vec<&serde_json::Value> = row["events"]
        .as_array()
        .map(|e| e.iter().collect())
        .unwrap_or_default();
    let named = |name: &str| events.iter().find(|e| e["event"] == name);
    // The answer to the declaration itself: the record that accepted or rejected it.
    let first = named("accept").is_some() || named("reject").is_some();
    let time = chrono::DateTime::parse_from_rfc3339(&text("time"))
        .map(|t| {
            let china = chrono::FixedOffset::east_opt(8 * 3600).expect("a valid offset");
            t.with_timezone(&china).format("%Y%m%d%H%M").to_string()
        })
        .unwrap_or_default();
    let status = text("status");
    let channel = named("select_channel")
        .and_then(|e| e["channel"].as_str())
        .map(str::to_owned);
    let errors = if status == "rejected" {
        text("note")
            .split("; ")
            .filter(|e| !e.is_empty())
            .map(|e| match e.split_once(' ') {
                Some((code, message)) => (code.to_owned(), message.to_owned()),
                None => (e.to_owned(), String::new()),
            })
            .collect()
    } else {
        Vec::new()
    };
    cusres::write(&cusres::Response {
        entry_id: if status == "rejected" {
            String::new()
        } else {
            entry_id.to_owned()
        },
        submission_id: submission_id.to_owned(),
        customs: customs.to_owned(),
        status,
        first,
        receipt_code: text("receipt_code"),
        channel,
        time,
        note: text("note"),
        errors,
        taxes: assessment.map(|a| (a.duty, a.consumption_tax, a.vat)),
    })
}

/// CUSRES messages in one interchange from the platform to `party`.
pub(crate) fn cusres_interchange(
    app: &App,
    party: &str,
    messages: Vec<(String, Vec<Seg>)>,
) -> Vec<u8> {
    let now = china_now(app.now_ms());
    let envelope = jinguan_edimap::Envelope {
        syntax: ("UNOW".into(), "4".into()),
        sender: "JINGUAN".into(),
        recipient: party.to_owned(),
        prepared: (
            now.format("%y%m%d").to_string(),
            now.format("%H%M").to_string(),
        ),
        reference: format!("{}", app.now_ms() % 100_000_000_000_000),
    };
    let messages: Vec<jinguan_edimap::OutMessage> = messages
        .into_iter()
        .map(|(reference, segments)| jinguan_edimap::OutMessage {
            reference,
            identifier: cusres::identifier(),
            segments,
        })
        .collect();
    jinguan_edimap::interchange(&envelope, &messages)
}

/// The first submission id and the customs of a declaration (for its CUSRES).
pub(crate) fn reference_of(app: &App, entry_id: &str) -> Result<(String, String), ApiError> {
    use jinguan_store::projection::{Statement, Value};
    let rows = app
        .store
        .query(&Statement::new(
            "SELECT v.submission_id, d.customs FROM decl_version v
             JOIN decl d ON d.entry_id = v.entry_id
             WHERE v.entry_id = ?1 ORDER BY v.version LIMIT 1",
            vec![Value::Text(entry_id.to_owned())],
        ))
        .map_err(ApiError::store)?;
    Ok(rows
        .first()
        .map(|row| {
            (
                crate::declarations::as_text(row.first()),
                crate::declarations::as_text(row.get(1)),
            )
        })
        .unwrap_or_default())
}

/// `POST /api/v1/messages` for a China manifest (MT1401, MT2401, MT2101, MT3101): read into
/// the manifest model CUSCAR is read into and kept, as received, in the `logistics` ledger
/// under the sender's `MessageID` (a repeat answers with the entry made the first time). The
/// answer is the manifest receipt's acceptance (`01` 接受申报) with the entry; a body that is
/// not a manifest read here is `400` with its code.
pub(crate) async fn receive_manifest(
    app: Arc<App>,
    principal: Principal,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    crate::authz::authorize(&app, &principal, crate::authz::Action::Declare, "logistics").await?;
    let body = crate::declarations::body_or_error(body)?;
    let (manifest, warnings) = jinguan_chinaport::manifest::parse(&body)
        .map_err(|e| ApiError::bad_request(e.code(), e.to_string()))?;
    let message_id = manifest
        .references
        .iter()
        .find(|(q, _)| q == "message")
        .map(|(_, v)| v.clone())
        .filter(|v| !v.is_empty() && v.len() <= 180)
        .unwrap_or_else(|| format!("{}:{}", manifest.message_type, manifest.document.1));
    let submission_id = format!(
        "{}:{}:manifest:{message_id}",
        principal.party.len(),
        principal.party
    );
    let text = String::from_utf8_lossy(&body).into_owned();
    let party = principal.party.clone();
    let recorded = manifest.clone();
    let (created, appended) = blocking(move || {
        let appended = crate::declarations::append(
            &app,
            LOGISTICS_LEDGER,
            MANIFEST,
            &party,
            submission_id.clone(),
            &json!({"manifest": recorded, "received": text,
                "origin": principal.origin, "party": party}),
        );
        match appended {
            Ok(appended) => Ok((appended.status == jinguan_store::Status::Created, appended)),
            // The same MessageID again (in another request, so another origin): the entry
            // of the first time if the body is the same, a conflict if it is not.
            Err(e) if e.code == "S0001" => {
                let seq = app
                    .store
                    .seq_of(LOGISTICS_LEDGER, &submission_id)
                    .map_err(ApiError::store)?
                    .ok_or(e.clone())?;
                let (entry, leaf_hash) = app
                    .store
                    .entry(LOGISTICS_LEDGER, seq)
                    .map_err(ApiError::store)?;
                let before: serde_json::Value =
                    serde_json::from_slice(&entry.payload).map_err(crate::internal)?;
                if before["received"].as_str() != Some(text.as_str()) {
                    return Err(e);
                }
                let tree_size = app
                    .store
                    .head(LOGISTICS_LEDGER)
                    .map_err(ApiError::store)?
                    .tree_size;
                Ok((
                    false,
                    jinguan_store::Receipt {
                        ledger: LOGISTICS_LEDGER.into(),
                        seq,
                        leaf_hash,
                        tree_size,
                        status: jinguan_store::Status::Exists,
                    },
                ))
            }
            Err(e) => Err(e),
        }
    })
    .await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        Json(json!({
            "status": "01",
            "status_text": "接受申报",
            "message_type": manifest.message_type,
            "message_id": message_id,
            "document": manifest.document.1,
            "consignments": manifest.consignments.len(),
            "warnings": warnings,
            "ledger": crate::LedgerRef {
                ledger: LOGISTICS_LEDGER.into(),
                seq: appended.seq,
                leaf_hash: appended.leaf_hash,
                tree_size: appended.tree_size,
            },
        })),
    )
        .into_response())
}
