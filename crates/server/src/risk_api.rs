//! Risk rule routes: the rule set in force, replacing it, and back-testing one.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::{BytesRejection, QueryRejection};
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use chrono::NaiveDate;
use jinguan_clearance::risk::{backtest as run_backtest, RuleSet, Subject};
use jinguan_clearance::Channel;
use jinguan_ledger::Submission;
use jinguan_store::projection::{Statement, Value};
use jinguan_store::Status;
use serde::Deserialize;
use serde_json::json;

use crate::auth::Principal;
use crate::authz::{authorize, Action as Permission};
use crate::record::{RISK_LEDGER, RULES};
use crate::{blocking, internal, ApiError, App};

fn parse_rules(body: Result<Bytes, BytesRejection>) -> Result<RuleSet, ApiError> {
    let body = body.map_err(|e| ApiError::bad_request("H0003", e.body_text()))?;
    let text = std::str::from_utf8(&body)
        .map_err(|_| ApiError::bad_request("K0101", "a rule set is UTF-8 JSON"))?;
    RuleSet::from_json(text).map_err(|e| ApiError::bad_request("K0101", e.to_string()))
}

/// `GET /api/v1/risk/rules`: the rule set in force.
pub(crate) async fn rules(
    State(app): State<Arc<App>>,
    principal: Principal,
) -> Result<Response, ApiError> {
    authorize(&app, &principal, Permission::ReadRules, "risk rules").await?;
    Ok(Json(app.rules().as_ref().clone()).into_response())
}

/// `PUT /api/v1/risk/rules`: puts a newer rule set in force (admin). It is appended to the
/// `risk` ledger first; the same version and content again is a no-op `200`.
pub(crate) async fn put_rules(
    State(app): State<Arc<App>>,
    principal: Principal,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    authorize(&app, &principal, Permission::PutRules, "risk rules").await?;
    let rules = parse_rules(body)?;
    blocking(move || {
        let _guard = app.stripe("risk rules");
        let current = app.rules();
        let payload = crate::origin::stamped(&rules, &principal.origin).map_err(internal)?;
        let repeat = rules.version == current.version && rules == *current;
        if repeat {
            // Nothing changes, so nothing is written (the entry would differ from the first
            // only by its request): the answer points at the entry that put it in force.
            return existing_rules(&app, rules.version);
        }
        if rules.version <= current.version && !repeat {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "conflict",
                "K0102",
                format!(
                    "version {} is not newer than version {} in force",
                    rules.version, current.version
                ),
            ));
        }
        let receipt = app
            .store
            .append(
                RISK_LEDGER,
                Submission {
                    kind: RULES.into(),
                    schema_version: 1,
                    submitter: principal.party.clone(),
                    submission_id: format!("rules-v{}", rules.version),
                    payload,
                    submitter_signature: None,
                },
            )
            .map_err(ApiError::store)?;
        let version = rules.version;
        app.set_rules(rules);
        let status = if receipt.status == Status::Created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        };
        Ok((
            status,
            Json(json!({"version": version, "ledger": receipt.to_json()})),
        )
            .into_response())
    })
    .await
}

/// Query of the back-test.
#[derive(Debug, Deserialize)]
pub(crate) struct Range {
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
}

/// `POST /api/v1/risk/backtest`: what the rule set in the body (or, with an empty body, the
/// one in force) would have selected among the accepted declarations on record, declared
/// between `from` and `to`, beside what was selected live. Changes nothing.
pub(crate) async fn backtest(
    State(app): State<Arc<App>>,
    principal: Principal,
    range: Result<Query<Range>, QueryRejection>,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    authorize(&app, &principal, Permission::Backtest, "risk rules").await?;
    let Query(range) = range.map_err(|e| ApiError::bad_request("H0004", e.body_text()))?;
    let empty = body
        .as_ref()
        .map(|b| b.iter().all(u8::is_ascii_whitespace))
        .unwrap_or(false);
    let rules = if empty {
        app.rules().as_ref().clone()
    } else {
        parse_rules(body)?
    };
    blocking(move || {
        let mut sql = String::from(
            "SELECT entry_id, declared_on, ledger, version_seq, channel FROM decl WHERE accepted = 1",
        );
        let mut params = Vec::new();
        if let Some(from) = range.from {
            params.push(Value::Text(from.to_string()));
            sql.push_str(&format!(" AND declared_on >= ?{}", params.len()));
        }
        if let Some(to) = range.to {
            params.push(Value::Text(to.to_string()));
            sql.push_str(&format!(" AND declared_on <= ?{}", params.len()));
        }
        sql.push_str(" ORDER BY entry_id");
        let rows = app
            .store
            .query(&Statement::new(sql, params))
            .map_err(ApiError::store)?;
        let mut past: Vec<(Subject, NaiveDate)> = Vec::with_capacity(rows.len());
        let mut live: Vec<Option<Channel>> = Vec::with_capacity(rows.len());
        for row in &rows {
            let (
                Some(Value::Text(date)),
                Some(Value::Text(ledger)),
                Some(Value::Integer(seq)),
                Some(Value::Text(channel)),
            ) = (row.get(1), row.get(2), row.get(3), row.get(4))
            else {
                continue;
            };
            let Ok(date) = date.parse() else { continue };
            let Some(subject) =
                crate::version_subject(&app, ledger, *seq).map_err(ApiError::store)?
            else {
                continue;
            };
            past.push((subject, date));
            live.push(serde_json::from_value(json!(channel)).ok());
        }
        let report = run_backtest(&rules, &past);
        let mut changed = Vec::new();
        let mut live_counts = [0usize; 3];
        for ((entry_id, decision), was) in report.decisions.iter().zip(&live) {
            if let Some(was) = was {
                live_counts[match was {
                    Channel::Green => 0,
                    Channel::Yellow => 1,
                    Channel::Red => 2,
                }] += 1;
            }
            if *was != Some(decision.channel) {
                changed.push(json!({
                    "entry_id": entry_id,
                    "live": was,
                    "would_be": decision.channel,
                    "reasons": decision.reasons,
                }));
            }
        }
        let changed_count = changed.len();
        changed.truncate(1000);
        Ok(Json(json!({
            "rules_version": rules.version,
            "declarations": report.declarations,
            "would_select": {"green": report.green, "yellow": report.yellow, "red": report.red},
            "live": {"green": live_counts[0], "yellow": live_counts[1], "red": live_counts[2]},
            "fired": report.fired,
            "changed_count": changed_count,
            "changed": changed,
        }))
        .into_response())
    })
    .await
}

/// The answer to a rule set put again: where the entry that put it in force is.
fn existing_rules(app: &App, version: u32) -> Result<Response, ApiError> {
    let id = format!("rules-v{version}");
    let seq = app
        .store
        .seq_of(RISK_LEDGER, &id)
        .map_err(ApiError::store)?
        .ok_or_else(|| internal(format!("rule set {id} in force but not on record")))?;
    let (_, leaf_hash) = app.store.entry(RISK_LEDGER, seq).map_err(ApiError::store)?;
    let head = app.store.head(RISK_LEDGER).map_err(ApiError::store)?;
    let receipt = jinguan_store::Receipt {
        ledger: RISK_LEDGER.to_owned(),
        seq,
        leaf_hash,
        tree_size: head.tree_size,
        status: Status::Exists,
    };
    Ok((
        StatusCode::OK,
        Json(json!({"version": version, "ledger": receipt.to_json()})),
    )
        .into_response())
}
