//! The audit trail: denials recorded in the `audit` ledger.
//!
//! A state change is its own entry in its ledger (a declaration's district, `pki`, `risk`),
//! naming who (party and role), what, when (the entry's time) and from where (the request's
//! [`Origin`]: its id and the peer's address). A refusal changes nothing there, so it is
//! written here: who asked (or, for a token that did not authenticate, nobody), for what, the
//! code it was refused with, the request's origin and the SM3 of what it sent (never the
//! body, a token or a signature value: an audit trail must not become a store of secrets or
//! of traffic).

use jinguan_ledger::Submission;
use serde::Serialize;

use crate::auth::{Principal, Role};
use crate::origin::Origin;
use crate::{ApiError, App};

/// The ledger denials are kept in.
pub const AUDIT_LEDGER: &str = "audit";
/// Entry kind of a denial.
pub const DENIAL: &str = "audit.denial";

/// A refusal, as recorded.
#[derive(Debug, Serialize)]
struct Denial<'a> {
    party: &'a str,
    role: Option<Role>,
    action: &'a str,
    subject: &'a str,
    code: &'a str,
    status: u16,
    body_sm3: String,
    origin: &'a Origin,
}

/// Records that `principal` was refused `error` doing `action` on `subject` (with `body`),
/// then hands the error back. If the record cannot be written the refusal still stands, and
/// the caller is told the trail failed rather than nothing.
pub(crate) fn denied(
    app: &App,
    principal: &Principal,
    action: &str,
    subject: &str,
    body: &[u8],
    error: ApiError,
) -> ApiError {
    let code = error.code.clone();
    record(
        app,
        &Denial {
            party: &principal.party,
            role: Some(principal.role),
            action,
            subject,
            code: &code,
            status: error.status,
            body_sm3: jinguan_crypto::hex::encode(&jinguan_crypto::sm3(body)),
            origin: &principal.origin,
        },
        error,
    )
}

/// Records that a request from `origin` to `path` did not authenticate (`error`: no token,
/// an unknown, revoked or expired one, a failed login). The token itself is never written.
pub(crate) fn unauthenticated(app: &App, origin: &Origin, path: &str, error: ApiError) -> ApiError {
    let code = error.code.clone();
    record(
        app,
        &Denial {
            party: "",
            role: None,
            action: "authenticate",
            subject: path,
            code: &code,
            status: error.status,
            body_sm3: String::new(),
            origin,
        },
        error,
    )
}

fn record(app: &App, denial: &Denial<'_>, error: ApiError) -> ApiError {
    let payload = match serde_json::to_vec(denial) {
        Ok(payload) => payload,
        Err(e) => return crate::internal(e),
    };
    let id = format!(
        "denial/{}",
        jinguan_crypto::hex::encode(&jinguan_crypto::random_bytes::<16>())
    );
    let written = app.store.append(
        AUDIT_LEDGER,
        Submission {
            kind: DENIAL.into(),
            schema_version: 1,
            // A ledger entry names a submitter; one that did not authenticate is nobody.
            submitter: if denial.party.is_empty() {
                "anonymous".to_owned()
            } else {
                denial.party.to_owned()
            },
            submission_id: id,
            payload,
            submitter_signature: None,
        },
    );
    match written {
        Ok(_) => error,
        Err(e) => ApiError::store(e),
    }
}
