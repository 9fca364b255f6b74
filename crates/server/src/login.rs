//! Certificate-bound login, for people: a challenge signed with the holder's own key.
//!
//! 1. `POST /api/v1/login/challenge` `{"certificate": "<serial>"}` → `{"challenge", "expires"}`:
//!    32 random bytes (hex), good for two minutes and for one login.
//! 2. The holder signs the challenge's text with the certificate's key, as a detached JWS
//!    (`jinguan sign`, or OpenSSL as the README shows for declarations).
//! 3. `POST /api/v1/login` `{"challenge", "signature"}` → `201 {"token", "party", "role",
//!    "expires"}`: a session token for the certificate's party and role (its `OU`), good for
//!    eight hours and for as long as the certificate stays good.
//!
//! The session token is the platform's signature over who and until when (`jgs.` and a
//! compact JWS): any node holding the platform certificate checks it without shared state,
//! and each use re-reads the certificate's status, so revoking the certificate ends its
//! sessions at once. Challenges are kept in memory by the node that made them (a login goes
//! to the node that gave its challenge), bounded in number. Failed logins count against the
//! address like failed tokens ([`crate::auth::Throttle`]) and are audited; a login is an
//! entry in the `audit` ledger (`audit.login`).

use std::collections::HashMap;
use std::sync::Arc;

use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

use crate::auth::{Principal, Role};
use crate::origin::Origin;
use crate::{blocking, ApiError, App};

/// What a session token starts with.
pub const SESSION_PREFIX: &str = "jgs.";
/// How long a challenge may be answered (ms).
const CHALLENGE_MS: i64 = 120_000;
/// How long a session lasts (ms).
const SESSION_MS: i64 = 8 * 3600 * 1000;
/// Challenges outstanding at most: beyond, new ones wait for old ones to expire.
const MAX_CHALLENGES: usize = 10_000;

/// Challenges given and not yet answered: challenge → (certificate serial, expiry ms).
#[derive(Debug, Default)]
pub struct Challenges(std::sync::Mutex<HashMap<String, (String, i64)>>);

/// What a session token says, signed by the platform.
#[derive(Debug, Serialize, Deserialize)]
struct Session {
    party: String,
    role: Role,
    certificate: String,
    expires_ms: i64,
}

fn refused(code: &str, message: impl Into<String>) -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        code,
        message.into(),
    )
}

/// Asking for a challenge.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ChallengeRequest {
    certificate: String,
}

/// `POST /api/v1/login/challenge` (public).
pub(crate) async fn challenge(
    State(app): State<Arc<App>>,
    origin: Option<axum::Extension<Origin>>,
    body: Result<Json<ChallengeRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let address = origin.and_then(|o| o.0.from).unwrap_or_default();
    if let Some(wait) = app.throttle.locked(&address) {
        return Err(crate::too_many(wait));
    }
    let Json(request) = body.map_err(|e| ApiError::bad_request("H0440", e.body_text()))?;
    let serial = request.certificate.to_ascii_lowercase();
    if serial.is_empty() || serial.len() > 64 || !serial.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(ApiError::bad_request(
            "H0440",
            "certificate: the serial in hex",
        ));
    }
    let now = app.now_ms();
    let challenge = jinguan_crypto::hex::encode(&jinguan_crypto::random_bytes::<32>());
    {
        let mut outstanding = app.challenges.0.lock().unwrap_or_else(|e| e.into_inner());
        if outstanding.len() >= MAX_CHALLENGES {
            outstanding.retain(|_, (_, expires)| *expires > now);
            if outstanding.len() >= MAX_CHALLENGES {
                return Err(crate::too_many(CHALLENGE_MS as u64 / 1000));
            }
        }
        outstanding.insert(challenge.clone(), (serial, now + CHALLENGE_MS));
    }
    Ok(Json(serde_json::json!({
        "challenge": challenge,
        "expires": crate::pki::rfc3339((now + CHALLENGE_MS) / 1000),
    }))
    .into_response())
}

/// Answering one.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct LoginRequest {
    challenge: String,
    signature: String,
}

/// `POST /api/v1/login` (public): a session for the holder of the challenged certificate.
pub(crate) async fn login(
    State(app): State<Arc<App>>,
    origin: Option<axum::Extension<Origin>>,
    body: Result<Json<LoginRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let origin = origin.map(|o| o.0).unwrap_or_default();
    let address = origin.from.clone().unwrap_or_default();
    if let Some(wait) = app.throttle.locked(&address) {
        return Err(crate::too_many(wait));
    }
    let Json(request) = body.map_err(|e| ApiError::bad_request("H0440", e.body_text()))?;
    blocking(move || {
        let outcome = open_session(&app, &request, &origin);
        outcome.map_err(|error| {
            if error.status == StatusCode::UNAUTHORIZED.as_u16() {
                app.throttle.failed(&address);
                crate::audit::unauthenticated(&app, &origin, "/api/v1/login", error)
            } else {
                error
            }
        })
    })
    .await
}

fn open_session(app: &App, request: &LoginRequest, origin: &Origin) -> Result<Response, ApiError> {
    let now = app.now_ms();
    // Taken out whatever follows: a challenge answers one attempt, right or wrong.
    let given = app
        .challenges
        .0
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .remove(&request.challenge);
    let Some((serial, expires)) = given.filter(|(_, expires)| *expires > now) else {
        return Err(refused(
            "H0441",
            "no such challenge, or it expired or was used: ask for another",
        ));
    };
    let _ = expires;
    let detached = jinguan_crypto::jws::Detached::parse(&request.signature)
        .map_err(|e| refused("H0427", e.to_string()))?;
    if detached.kid.to_ascii_lowercase() != serial {
        return Err(refused(
            "H0442",
            format!(
                "the challenge was for certificate {serial}, the signature names {}",
                detached.kid
            ),
        ));
    }
    let known =
        crate::pki::verify_detached(app, &request.signature, request.challenge.as_bytes(), None)?;
    let role = Role::parse(&known.role).ok_or_else(|| {
        refused(
            "H0443",
            format!(
                "certificate {serial} is for role {:?}, which cannot sign in",
                known.role
            ),
        )
    })?;
    let session = Session {
        party: known.party.clone(),
        role,
        certificate: known.serial.clone(),
        expires_ms: now + SESSION_MS,
    };
    let payload = serde_json::to_vec(&session).map_err(crate::internal)?;
    let token = format!(
        "{SESSION_PREFIX}{}",
        app.authority
            .sign_document(&payload)
            .map_err(crate::internal)?
    );
    record_login(app, &session, origin)?;
    Ok((
        StatusCode::CREATED,
        Json(serde_json::json!({
            "token": token,
            "party": session.party,
            "role": session.role,
            "certificate": session.certificate,
            "expires": crate::pki::rfc3339(session.expires_ms / 1000),
        })),
    )
        .into_response())
}

/// A login, in the audit ledger: who, with which certificate, from where.
fn record_login(app: &App, session: &Session, origin: &Origin) -> Result<(), ApiError> {
    let payload = serde_json::to_vec(&serde_json::json!({
        "party": session.party,
        "role": session.role,
        "certificate": session.certificate,
        "origin": origin,
    }))
    .map_err(crate::internal)?;
    app.store
        .append(
            crate::audit::AUDIT_LEDGER,
            jinguan_ledger::Submission {
                kind: LOGIN.into(),
                schema_version: 1,
                submitter: session.party.clone(),
                submission_id: format!("login/{}", origin.request),
                payload,
                submitter_signature: None,
            },
        )
        .map_err(ApiError::store)?;
    Ok(())
}

/// Entry kind of a login.
pub const LOGIN: &str = "audit.login";

/// Who holds session `token`, if it is the platform's, unexpired, and its certificate is
/// still good: `Err((code, message))` otherwise.
pub(crate) fn check_session(app: &App, token: &str) -> Result<Principal, (&'static str, String)> {
    let signed = token
        .strip_prefix(SESSION_PREFIX)
        .ok_or(("H0401", "not a session token".to_owned()))?;
    let (_, payload) = jinguan_crypto::jws::verify_attached(signed, app.authority.platform_key())
        .map_err(|_| ("H0401", "unknown token".to_owned()))?;
    let session: Session =
        serde_json::from_slice(&payload).map_err(|_| ("H0401", "unknown token".to_owned()))?;
    let now = app.now_ms();
    if session.expires_ms <= now {
        return Err(("H0407", "the session has expired: sign in again".to_owned()));
    }
    let known = crate::pki::lookup(app, &session.certificate, now)
        .map_err(|e| ("H0500", e.message))?
        .ok_or(("H0401", "unknown token".to_owned()))?;
    if known.status != "good" {
        return Err((
            "H0406",
            format!(
                "certificate {} is {}: the session ended",
                known.serial, known.status
            ),
        ));
    }
    Ok(Principal {
        party: session.party,
        role: session.role,
        scopes: Vec::new(),
        origin: Origin::default(),
    })
}
