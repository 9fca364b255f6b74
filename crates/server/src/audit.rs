//! The audit trail: denials recorded in the `audit` ledger.
//!
//! A state change is its own record in its declaration's ledger (who, what, when, from which
//! party); a refusal changes nothing there, so it is written here: who asked, for what, the
//! code it was refused with, and the SM3 of what it sent (never the body, a token or a
//! signature value: an audit trail must not become a store of secrets or of traffic).

use jinguan_ledger::Submission;
use serde::Serialize;

use crate::auth::Principal;
use crate::{ApiError, App};

/// The ledger denials are kept in.
pub const AUDIT_LEDGER: &str = "audit";
/// Entry kind of a denial.
pub const DENIAL: &str = "audit.denial";

/// A refusal, as recorded.
#[derive(Debug, Serialize)]
struct Denial<'a> {
    party: &'a str,
    role: crate::Role,
    action: &'a str,
    subject: &'a str,
    code: &'a str,
    status: u16,
    body_sm3: String,
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
    let denial = Denial {
        party: &principal.party,
        role: principal.role,
        action,
        subject,
        code: &error.code,
        status: error.status,
        body_sm3: jinguan_crypto::hex::encode(&jinguan_crypto::sm3(body)),
    };
    let payload = match serde_json::to_vec(&denial) {
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
            submitter: principal.party.clone(),
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
