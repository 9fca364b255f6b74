//! The HTTP API: declarations in, receipts out, every step in the ledger.
//!
//! `POST /api/v1/declarations` takes a declaration as canonical JSON (`application/json`) or
//! DecMessage XML (`application/xml`) with a `Submission-Id` header. The body is first
//! appended to the ledger of its declaring customs district (`customs-NNNN`) as received, under
//! the client's submission id; the entry's sequence number makes the entry id; the clearance
//! pipeline then validates, values, assesses and selects, and its outcome is appended as a
//! second entry (submission id `<id>/outcome`). Only then is the receipt sent: `201` accepted,
//! `422` rejected (recorded all the same), `200` for a repeat of the same body (the original
//! receipt), `409` for the same id with another body. A declaration without a declaration
//! date is dated on receipt, from the received entry's time, so a repeat gives the same answer.
//!
//! Every failure is one envelope, `{code, message, type, details}`:
//!
//! | status | type | codes |
//! |---|---|---|
//! | 400 | `bad_request` | `H0001` missing or bad `Submission-Id`; `X0xxx` unreadable XML; `H0002` unreadable JSON |
//! | 404 | `not_found` | `H0404` no such route; `S0005` no such ledger or entry |
//! | 409 | `conflict` | `S0001` same submission id, another body |
//! | 413 | `too_large` | `H0413` body over the limit |
//! | 415 | `unsupported_media_type` | `H0415` not JSON or XML |
//! | 500 | `internal` | `S0002`–`S0004` the store failed (nothing acknowledged) |
//!
//! `GET /metrics` gives the counters in the Prometheus text format.
//!
//! Not yet: bearer tokens and roles, officer and payment routes, receipts as China XML, the
//! OpenAPI document.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{DefaultBodyLimit, Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use jinguan_clearance::pipeline::{self, Context, Outcome};
use jinguan_clearance::risk::{ReferencePrices, RuleSet};
use jinguan_ledger::Submission;
use jinguan_refdata::RefData;
use jinguan_store::sqlite::SqliteStore;
use jinguan_store::{LedgerStore, Receipt, Status, StoreError};
use jinguan_types::declaration::Declaration;
use jinguan_types::{EntryId, IeFlag, Severity};
use serde::{Deserialize, Serialize};

/// Largest request body accepted.
pub const MAX_BODY_BYTES: usize = 5 * 1024 * 1024;

/// Counters behind `/metrics`.
#[derive(Debug, Default)]
pub struct Metrics {
    accepted: AtomicU64,
    rejected: AtomicU64,
    repeated: AtomicU64,
    refused: AtomicU64,
}

impl Metrics {
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
             jinguan_declaration_refusals_total {}\n",
            get(&self.accepted),
            get(&self.rejected),
            get(&self.repeated),
            get(&self.refused),
        )
    }
}

/// What the server runs on.
pub struct App {
    /// The ledger.
    pub store: Arc<SqliteStore>,
    /// Reference data.
    pub refdata: Arc<RefData>,
    /// Selectivity rules.
    pub rules: RuleSet,
    /// Reference prices.
    pub references: ReferencePrices,
    /// Origins that pay the general rate.
    pub general_rate_origins: Vec<String>,
    /// Counters for `/metrics`.
    pub metrics: Metrics,
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

    fn store(error: StoreError) -> Self {
        let (status, kind) = match error {
            StoreError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
            StoreError::Conflict { .. } => (StatusCode::CONFLICT, "conflict"),
            StoreError::Rejected(_) => (StatusCode::BAD_REQUEST, "bad_request"),
            _ => (StatusCode::INTERNAL_SERVER_ERROR, "internal"),
        };
        Self::new(status, kind, error.code(), error.to_string())
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let status = StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        (status, Json(self)).into_response()
    }
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
    /// The size of the head signed with it.
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
}

/// The API's routes on `app`.
pub fn router(app: Arc<App>) -> Router {
    Router::new()
        .route(
            "/healthz",
            get(|| async { Json(serde_json::json!({"status": "ok"})) }),
        )
        .route(
            "/metrics",
            get(|State(app): State<Arc<App>>| async move {
                (
                    [("content-type", "text/plain; version=0.0.4")],
                    app.metrics.render(),
                )
            }),
        )
        .route("/api/v1/declarations", post(declare))
        .route("/api/v1/ledger/{ledger}/head", get(head))
        .route("/api/v1/ledger/{ledger}/entries/{seq}/proof", get(proof))
        .fallback(|| async {
            ApiError::new(StatusCode::NOT_FOUND, "not_found", "H0404", "no such route")
        })
        .layer(DefaultBodyLimit::max(MAX_BODY_BYTES))
        .with_state(app)
}

/// Serves `router(app)` on `listener` until `shutdown` completes, then finishes the requests
/// in flight.
pub async fn serve(
    listener: tokio::net::TcpListener,
    app: Arc<App>,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    axum::serve(listener, router(app))
        .with_graceful_shutdown(shutdown)
        .await
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

/// The body as received, kept in the ledger.
#[derive(Serialize, Deserialize)]
struct Received {
    content_type: String,
    body: String,
}

async fn declare(
    State(app): State<Arc<App>>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let answer = receive(app.clone(), headers, body).await;
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
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body.map_err(|e| {
        if e.status() == StatusCode::PAYLOAD_TOO_LARGE {
            ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "too_large",
                "H0413",
                format!("the body is over {MAX_BODY_BYTES} bytes"),
            )
        } else {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_request",
                "H0003",
                e.body_text(),
            )
        }
    })?;
    let submission_id = headers
        .get("submission-id")
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty() && v.len() <= 200)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "bad_request",
                "H0001",
                "a Submission-Id header of 1 to 200 characters is required",
            )
        })?
        .to_owned();
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let declaration = read_declaration(&content_type, &body)?;
    let (created, receipt) =
        blocking(move || process(&app, declaration, &content_type, &body, &submission_id)).await?;
    let status = match (created, receipt.status.as_str()) {
        (false, _) => StatusCode::OK,
        (true, "accepted") => StatusCode::CREATED,
        (true, _) => StatusCode::UNPROCESSABLE_ENTITY,
    };
    Ok((status, Json(receipt)).into_response())
}

fn read_declaration(content_type: &str, body: &[u8]) -> Result<Declaration, ApiError> {
    let bad = |code: &str, message: String| {
        ApiError::new(StatusCode::BAD_REQUEST, "bad_request", code, message)
    };
    match content_type {
        "application/json" => serde_json::from_slice(body)
            .map_err(|e| bad("H0002", format!("not a declaration in JSON: {e}"))),
        "application/xml" | "text/xml" => jinguan_chinaport::decmessage::parse(body)
            .map(|parsed| parsed.declaration)
            .map_err(|e| bad(e.code(), e.to_string())),
        other => Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            "H0415",
            format!("content type {other:?}: send application/json or application/xml"),
        )),
    }
}

/// Records the declaration as received, runs the pipeline, records the outcome. Returns
/// whether the outcome was new, and the receipt.
fn process(
    app: &App,
    mut declaration: Declaration,
    content_type: &str,
    body: &[u8],
    submission_id: &str,
) -> Result<(bool, DeclarationReceipt), ApiError> {
    let customs = declaration
        .head
        .declaring_customs
        .clone()
        .filter(|c| c.len() == 4 && c.bytes().all(|b| b.is_ascii_digit()))
        .unwrap_or_else(|| "0000".into());
    let ledger = format!("customs-{customs}");
    let received = Received {
        content_type: content_type.to_owned(),
        body: String::from_utf8_lossy(body).into_owned(),
    };
    let submitter = declaration
        .head
        .agent
        .customs_code
        .clone()
        .or_else(|| declaration.head.consignee.customs_code.clone())
        .unwrap_or_else(|| "unknown".into());
    let first = app
        .store
        .append(
            &ledger,
            Submission {
                kind: "declaration.received".into(),
                schema_version: 1,
                submitter: submitter.clone(),
                submission_id: submission_id.to_owned(),
                payload: serde_json::to_vec(&received).map_err(internal)?,
                submitter_signature: None,
            },
        )
        .map_err(ApiError::store)?;
    let (entry, _) = app
        .store
        .entry(&ledger, first.seq)
        .map_err(ApiError::store)?;
    let received_at = chrono::DateTime::from_timestamp_millis(entry.time_ms)
        .map(|t| t.date_naive())
        .unwrap_or_default();
    if declaration.head.declaration_date.is_none() {
        declaration.head.declaration_date = Some(received_at);
    }
    let year = u16::try_from(chrono::Datelike::year(&received_at)).unwrap_or(2026);
    let direction = declaration.head.ie_flag.unwrap_or(IeFlag::Import);
    let entry_id = EntryId::new(
        &customs,
        year,
        direction,
        u32::try_from(first.seq % 1_000_000_000).unwrap_or(0),
    )
    .map_err(|e| internal(e.to_string()))?
    .to_string();
    let context = Context {
        refdata: &app.refdata,
        rules: &app.rules,
        references: &app.references,
        general_rate_origins: &app.general_rate_origins,
    };
    let outcome = pipeline::run(&mut declaration, &context, &entry_id, "general");
    let receipt = |ledger_ref: LedgerRef| receipt(submission_id, &entry_id, &outcome, ledger_ref);
    let draft = receipt(LedgerRef {
        ledger: ledger.clone(),
        seq: 0,
        leaf_hash: jinguan_ledger::Hash::ZERO,
        tree_size: 0,
    });
    let second: Receipt = app
        .store
        .append(
            &ledger,
            Submission {
                kind: "declaration.outcome".into(),
                schema_version: 1,
                submitter,
                submission_id: format!("{submission_id}/outcome"),
                payload: serde_json::to_vec(&draft).map_err(internal)?,
                submitter_signature: None,
            },
        )
        .map_err(ApiError::store)?;
    let created = second.status == Status::Created;
    Ok((
        created && first.status == Status::Created,
        receipt(LedgerRef {
            ledger,
            seq: second.seq,
            leaf_hash: second.leaf_hash,
            tree_size: second.tree_size,
        }),
    ))
}

fn receipt(
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
    }
}

fn internal(error: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        StatusCode::INTERNAL_SERVER_ERROR,
        "internal",
        "H0500",
        error.to_string(),
    )
}
