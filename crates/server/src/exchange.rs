//! The exchange centre's mailboxes, embedded: every party's receipts, in order, delivered by
//! pull with acknowledgement.
//!
//! Each record of a declaration puts its receipt into the mailbox of every party the
//! declaration names, in the same transaction as the record itself ([`crate::record`]'s
//! `mailbox` table, numbered per party: the cursor). So a receipt is in its mailboxes exactly
//! when it is in the ledger, never one without the other, and a mailbox's order is the order
//! its receipts were recorded.
//!
//! - `GET /api/v1/mailbox?after=<cursor>&limit=<n>`: the caller's party's messages after
//!   `cursor` (by default after the last acknowledged one: what was not acknowledged comes
//!   again, at least once), oldest first.
//! - `POST /api/v1/mailbox/ack {"cursor": n}`: everything up to `n` was received. An entry of
//!   the `exchange` ledger (who acknowledged what, from where); acknowledging again, or less,
//!   changes nothing (`200`, no entry); beyond the last message is `409 H0461`.
//! - `GET /api/v1/messages/{id}/trace`: what became of a message (`<ledger>:<seq>`, the id
//!   every mailbox message carries): received (when, from where, by which request), parsed,
//!   routed (to which ledger), processed and its receipt produced (one transaction: the entry's
//!   time), delivered (to which mailboxes, at which cursor) and acknowledged (by whom, when).

use std::sync::Arc;

use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use jinguan_ledger::{Entry, Submission};
use jinguan_store::projection::{Dialect, Projection, Statement, Value};
use serde::{Deserialize, Serialize};

use crate::auth::Principal;
use crate::authz::{authorize, Action};
use crate::declarations::{as_int, as_text};
use crate::{blocking, ApiError, App};

/// The ledger acknowledgements are kept in.
pub const EXCHANGE_LEDGER: &str = "exchange";
/// Entry kind of an acknowledgement.
pub const ACK: &str = "mailbox.ack";
/// Entry kind of a mailbox pruned by its retention: acknowledged messages up to a cursor
/// are no longer readable from it (each remains in the ledger, which the message id names).
pub const PRUNED: &str = "mailbox.pruned";

/// An acknowledgement, as recorded.
#[derive(Debug, Serialize, Deserialize)]
struct Ack {
    party: String,
    cursor: i64,
}

/// The `mailbox_ack` table: each party's last acknowledged cursor.
pub struct AckTable;

impl Projection for AckTable {
    fn name(&self) -> &str {
        "mailbox acknowledgements"
    }

    fn create(&self, dialect: Dialect) -> Vec<String> {
        vec![format!(
            "CREATE TABLE IF NOT EXISTS mailbox_ack (
                party TEXT PRIMARY KEY, cursor BIGINT NOT NULL, time_ms BIGINT NOT NULL){}",
            dialect.clustered()
        )]
    }

    fn reset(&self) -> Vec<String> {
        vec!["DELETE FROM mailbox_ack".into()]
    }

    fn apply(&self, entry: &Entry) -> Vec<Statement> {
        if entry.kind != ACK && entry.kind != PRUNED {
            return Vec::new();
        }
        let Ok(ack) = serde_json::from_slice::<Ack>(&entry.payload) else {
            return Vec::new();
        };
        if entry.kind == PRUNED {
            return vec![Statement::new(
                "DELETE FROM mailbox WHERE party = ?1 AND cursor <= ?2",
                vec![Value::Text(ack.party), Value::Integer(ack.cursor)],
            )];
        }
        vec![Statement::new(
            "INSERT INTO mailbox_ack (party, cursor, time_ms) VALUES (?1, ?2, ?3)
             ON CONFLICT (party) DO UPDATE SET cursor = ?2, time_ms = ?3
             WHERE mailbox_ack.cursor < ?2",
            vec![
                Value::Text(ack.party),
                Value::Integer(ack.cursor),
                Value::Integer(entry.time_ms),
            ],
        )]
    }
}

/// Query of a pull.
#[derive(Debug, Deserialize)]
pub(crate) struct Pull {
    after: Option<i64>,
    limit: Option<i64>,
    /// `json` (the default) or `edifact`: the messages as one interchange of CUSRES.
    format: Option<String>,
}

pub(crate) fn acknowledged(app: &App, party: &str) -> Result<i64, ApiError> {
    let rows = app
        .store
        .query(&Statement::new(
            "SELECT cursor FROM mailbox_ack WHERE party = ?1",
            vec![Value::Text(party.to_owned())],
        ))
        .map_err(ApiError::store)?;
    Ok(rows.first().map_or(0, |row| as_int(row.first())))
}

fn last_cursor(app: &App, party: &str) -> Result<i64, ApiError> {
    let rows = app
        .store
        .query(&Statement::new(
            "SELECT COALESCE(MAX(cursor), 0) FROM mailbox WHERE party = ?1",
            vec![Value::Text(party.to_owned())],
        ))
        .map_err(ApiError::store)?;
    Ok(rows.first().map_or(0, |row| as_int(row.first())))
}

/// `party`'s messages after `after`, at most `limit`, oldest first: from JetStream when the
/// mailboxes live there, else from the database.
pub(crate) fn messages_after(
    app: &App,
    party: &str,
    after: i64,
    limit: i64,
) -> Result<Vec<serde_json::Value>, ApiError> {
    match &app.jetstream {
        Some(jetstream) => {
            jetstream.catch_up(app, party)?;
            jetstream.read(party, after, limit)
        }
        None => rows_after(app, party, after, limit),
    }
}

/// `party`'s mailbox rows after `after`, at most `limit`, oldest first, from the database
/// (the embedded mailboxes, and JetStream's outbox).
pub(crate) fn rows_after(
    app: &App,
    party: &str,
    after: i64,
    limit: i64,
) -> Result<Vec<serde_json::Value>, ApiError> {
    let rows = app
        .store
        .query(&Statement::new(
            // A declaration's receipt is its record's row in decl_event; a cross-border or
            // bonded message's receipt or notice (`ceb:<ledger>:<seq>:<n>`) is in the entry
            // that wrote it.
            "SELECT m.cursor, m.entry_id, e.ledger, m.seq, m.time_ms, e.status,
                    e.receipt_code, e.note, e.events, e.version
             FROM mailbox m
             LEFT JOIN decl_event e ON e.entry_id = m.entry_id AND e.seq = m.seq
             WHERE m.party = ?1 AND m.cursor > ?2
               AND (e.entry_id IS NOT NULL OR m.entry_id LIKE 'ceb:%')
             ORDER BY m.cursor LIMIT ?3",
            vec![
                Value::Text(party.to_owned()),
                Value::Integer(after),
                Value::Integer(limit),
            ],
        ))
        .map_err(ApiError::store)?;
    // Each entry read once, however many of its receipts the page holds.
    let mut written: std::collections::HashMap<(String, i64), Vec<(String, String)>> =
        std::collections::HashMap::new();
    let mut messages = Vec::with_capacity(rows.len());
    for row in &rows {
        let get = |i: usize| row.get(i);
        let seq = as_int(get(3));
        let entry_id = as_text(get(1));
        let receipt = receipt_id(&entry_id);
        let ledger = receipt.map_or_else(|| as_text(get(2)), |(ledger, _)| ledger.to_owned());
        // What every message says of itself; then a CEB or bonded receipt's document, or a
        // declaration's record.
        let mut message = serde_json::json!({
            "cursor": as_int(get(0)),
            "message_id": format!("{ledger}:{seq}"),
            "entry_id": entry_id,
            "ledger": ledger,
            "seq": seq,
            "time": crate::declarations::time_text(as_int(get(4))),
        });
        let own = if let Some((_, n)) = receipt {
            let receipts = match written.entry((ledger.clone(), seq)) {
                std::collections::hash_map::Entry::Occupied(kept) => kept.into_mut(),
                std::collections::hash_map::Entry::Vacant(slot) => {
                    let (entry, _) = app
                        .store
                        .entry(&ledger, u64::try_from(seq).unwrap_or_default())
                        .map_err(ApiError::store)?;
                    slot.insert(crate::crossborder::receipts_in(&entry))
                }
            };
            let Some((message_type, xml)) = receipts.get(n) else {
                return Err(crate::internal(format!(
                    "mailbox row {entry_id}: the entry has no such receipt"
                )));
            };
            serde_json::json!({"message_type": message_type, "xml": xml})
        } else {
            serde_json::json!({
                "status": as_text(get(5)),
                "receipt_code": as_text(get(6)),
                "note": as_text(get(7)),
                "events": serde_json::from_str::<serde_json::Value>(&as_text(get(8)))
                    .unwrap_or_default(),
                "version": as_int(get(9)),
            })
        };
        if let (Some(message), serde_json::Value::Object(own)) = (message.as_object_mut(), own) {
            message.extend(own);
        }
        messages.push(message);
    }
    Ok(messages)
}

/// The ledger and receipt number of a China-format receipt's mailbox id
/// `ceb:<ledger>:<seq>:<n>` (the sequence number is the row's own `seq`).
fn receipt_id(id: &str) -> Option<(&str, usize)> {
    let mut parts = id.strip_prefix("ceb:")?.splitn(3, ':');
    let ledger = parts.next()?;
    let _seq = parts.next()?;
    Some((ledger, parts.next()?.parse().ok()?))
}

/// `GET /api/v1/mailbox`: the caller's party's messages after a cursor.
pub(crate) async fn pull(
    State(app): State<Arc<App>>,
    principal: Principal,
    query: Result<Query<Pull>, QueryRejection>,
) -> Result<Response, ApiError> {
    authorize(&app, &principal, Action::ReadMailbox, "mailbox").await?;
    let Query(query) = query.map_err(|e| ApiError::bad_request("H0004", e.body_text()))?;
    let limit = query.limit.unwrap_or(100).clamp(1, 1000);
    blocking(move || {
        let acked = acknowledged(&app, &principal.party)?;
        let after = query.after.unwrap_or(acked).max(0);
        let messages = messages_after(&app, &principal.party, after, limit)?;
        let next = messages
            .last()
            .and_then(|m| m["cursor"].as_i64())
            .unwrap_or(after);
        match query.format.as_deref() {
            None | Some("json") => {}
            Some("edifact") => {
                // Each message a CUSRES whose reference is its cursor; where the cursor
                // stands travels in headers, as acknowledging needs it.
                let mut cusres = Vec::new();
                // CEB receipts are XML documents of their own; EDIFACT carries declarations'.
                for m in messages.iter().filter(|m| m.get("xml").is_none()) {
                    let entry_id = m["entry_id"].as_str().unwrap_or("");
                    let (submission_id, customs) =
                        crate::interchanges::reference_of(&app, entry_id)?;
                    cusres.push((
                        m["cursor"].to_string(),
                        crate::interchanges::cusres_of(m, entry_id, &submission_id, &customs, None),
                    ));
                }
                let body = crate::interchanges::cusres_interchange(&app, &principal.party, cusres);
                return Ok((
                    [
                        ("content-type", "application/edifact".to_owned()),
                        ("x-mailbox-next", next.to_string()),
                        ("x-mailbox-acknowledged", acked.to_string()),
                    ],
                    body,
                )
                    .into_response());
            }
            Some(other) => {
                return Err(ApiError::bad_request(
                    "H0004",
                    format!("format {other:?}: json or edifact"),
                ))
            }
        }
        Ok(Json(serde_json::json!({
            "party": principal.party,
            "acknowledged": acked,
            "next": next,
            "messages": messages,
        }))
        .into_response())
    })
    .await
}

/// Body of an acknowledgement.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct AckBody {
    cursor: i64,
}

/// `POST /api/v1/mailbox/ack`.
pub(crate) async fn ack(
    State(app): State<Arc<App>>,
    principal: Principal,
    body: Result<Json<AckBody>, JsonRejection>,
) -> Result<Response, ApiError> {
    authorize(&app, &principal, Action::ReadMailbox, "mailbox").await?;
    let Json(body) = body.map_err(|e| ApiError::bad_request("H0460", e.body_text()))?;
    blocking(move || {
        let _guard = app.stripe(&format!("mailbox/{}", principal.party));
        let acked = acknowledged(&app, &principal.party)?;
        if body.cursor <= acked {
            return Ok(Json(serde_json::json!({"acknowledged": acked})).into_response());
        }
        let last = last_cursor(&app, &principal.party)?;
        if body.cursor > last {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "conflict",
                "H0461",
                format!(
                    "cursor {} is past the last message ({last}) of the mailbox",
                    body.cursor
                ),
            ));
        }
        record_ack(&app, &principal.party, body.cursor, &principal.origin)?;
        Ok((
            StatusCode::CREATED,
            Json(serde_json::json!({"acknowledged": body.cursor})),
        )
            .into_response())
    })
    .await
}

/// `GET /api/v1/messages/{id}/trace`, for whoever reaches the declaration.
pub(crate) async fn trace(
    State(app): State<Arc<App>>,
    principal: Principal,
    axum::extract::Path(id): axum::extract::Path<String>,
) -> Result<Response, ApiError> {
    authorize(&app, &principal, Action::ReadDeclarations, &id).await?;
    blocking(move || {
        let not_found = || ApiError::not_found("H0462", format!("no message {id}"));
        let (ledger, seq) = id
            .rsplit_once(':')
            .and_then(|(ledger, seq)| Some((ledger.to_owned(), seq.parse::<u64>().ok()?)))
            .ok_or_else(not_found)?;
        let rows = app
            .store
            .query(&Statement::new(
                "SELECT entry_id, submission_id, time_ms, status, receipt_code, note
                 FROM decl_event WHERE ledger = ?1 AND seq = ?2",
                vec![
                    Value::Text(ledger.clone()),
                    Value::Integer(i64::try_from(seq).unwrap_or(i64::MAX)),
                ],
            ))
            .map_err(ApiError::store)?;
        let row = rows.first().ok_or_else(not_found)?;
        let entry_id = as_text(row.first());
        // Whoever may not reach the declaration learns nothing of its messages.
        crate::declarations::load(&app, &principal, &entry_id)?;
        let recorded = as_int(row.get(2));
        let (entry, _) = app.store.entry(&ledger, seq).map_err(ApiError::store)?;
        let origin = serde_json::from_slice::<serde_json::Value>(&entry.payload)
            .ok()
            .and_then(|v| v.get("origin").cloned())
            .unwrap_or_default();
        let at = |ms: i64| crate::declarations::time_text(ms);
        let mut steps = vec![
            serde_json::json!({"step": "received",
                "time": origin["at_ms"].as_i64().map(at),
                "request": origin["request"], "from": origin["from"]}),
            serde_json::json!({"step": "parsed", "time": at(recorded), "kind": entry.kind}),
            serde_json::json!({"step": "routed", "time": at(recorded), "ledger": ledger,
                "entry_id": entry_id}),
            serde_json::json!({"step": "processed", "time": at(recorded),
                "status": as_text(row.get(3))}),
            serde_json::json!({"step": "receipt_produced", "time": at(recorded),
                "receipt_code": as_text(row.get(4)), "note": as_text(row.get(5))}),
        ];
        let deliveries = app
            .store
            .query(&Statement::new(
                "SELECT m.party, m.cursor, m.time_ms, a.cursor, a.time_ms
                 FROM mailbox m LEFT JOIN mailbox_ack a ON a.party = m.party
                 WHERE m.entry_id = ?1 AND m.seq = ?2 ORDER BY m.party",
                vec![
                    Value::Text(entry_id.clone()),
                    Value::Integer(i64::try_from(seq).unwrap_or(i64::MAX)),
                ],
            ))
            .map_err(ApiError::store)?;
        for delivery in &deliveries {
            let party = as_text(delivery.first());
            let cursor = as_int(delivery.get(1));
            steps.push(serde_json::json!({"step": "delivered", "party": party,
                "cursor": cursor, "time": at(as_int(delivery.get(2)))}));
            if as_int(delivery.get(3)) >= cursor {
                steps.push(serde_json::json!({"step": "acknowledged", "party": party,
                    "time": at(as_int(delivery.get(4)))}));
            }
        }
        Ok(Json(serde_json::json!({
            "message_id": id,
            "entry_id": entry_id,
            "submission_id": as_text(row.get(1)),
            "steps": steps,
        }))
        .into_response())
    })
    .await
}

/// Records that `party` received everything up to `cursor` (an `exchange`-ledger entry).
pub(crate) fn record_ack(
    app: &App,
    party: &str,
    cursor: i64,
    origin: &crate::origin::Origin,
) -> Result<(), ApiError> {
    let payload = crate::origin::stamped(
        &Ack {
            party: party.to_owned(),
            cursor,
        },
        origin,
    )
    .map_err(crate::internal)?;
    app.store
        .append(
            EXCHANGE_LEDGER,
            Submission {
                kind: ACK.into(),
                schema_version: 1,
                submitter: party.to_owned(),
                submission_id: format!("ack/{party}/{cursor}"),
                payload,
                submitter_signature: None,
            },
        )
        .map_err(ApiError::store)?;
    if let Some(jetstream) = &app.jetstream {
        // The ledger holds the acknowledgement; the consumer's floor follows it, and a
        // failure to move it costs only what NATS tools show of the mailbox's depth.
        jetstream.note_ack(party, cursor);
    }
    Ok(())
}

/// Prunes every mailbox of the acknowledged messages its retention has passed (the party's
/// `mailbox_retention_days`, else the platform's): one `exchange`-ledger entry per mailbox
/// pruned, naming the cursor it was pruned through. Returns how many mailboxes.
pub(crate) fn prune(app: &App) -> Result<usize, ApiError> {
    let acknowledged = app
        .store
        .query(&Statement::new(
            "SELECT party, cursor FROM mailbox_ack",
            vec![],
        ))
        .map_err(ApiError::store)?;
    let now = app.clock.now_ms();
    let mut pruned = 0;
    for row in acknowledged {
        let (party, acked) = (as_text(row.first()), as_int(row.get(1)));
        let days = crate::parties::find(app, &party)?
            .and_then(|(p, _)| p.mailbox_retention_days)
            .unwrap_or(app.delivery.retention_days);
        let cutoff = now - i64::from(days) * 86_400_000;
        let through = app
            .store
            .query(&Statement::new(
                "SELECT MAX(cursor) FROM mailbox WHERE party = ?1 AND cursor <= ?2 AND time_ms <= ?3",
                vec![
                    Value::Text(party.clone()),
                    Value::Integer(acked),
                    Value::Integer(cutoff),
                ],
            ))
            .map_err(ApiError::store)?;
        let Some(Value::Integer(through)) = through.first().and_then(|r| r.first()).cloned() else {
            continue;
        };
        let origin = crate::origin::Origin {
            request: format!("retention/{party}/{through}"),
            from: None,
            at_ms: now,
        };
        let payload = crate::origin::stamped(
            &Ack {
                party: party.clone(),
                cursor: through,
            },
            &origin,
        )
        .map_err(crate::internal)?;
        app.store
            .append(
                EXCHANGE_LEDGER,
                Submission {
                    kind: PRUNED.into(),
                    schema_version: 1,
                    submitter: "platform".into(),
                    submission_id: origin.request.clone(),
                    payload,
                    submitter_signature: None,
                },
            )
            .map_err(ApiError::store)?;
        pruned += 1;
    }
    Ok(pruned)
}
