//! Authorisation in one place.
//!
//! Every route names the [`Action`] it performs ([`ROUTE_ACTIONS`]; a test fails when a
//! route has none) and every action the roles that may perform it ([`POLICY`]). A handler
//! calls [`authorize`] before it reads anything else; a refusal is `403 H0403` and an entry
//! in the audit ledger. Which records a permitted caller reaches is decided where they are
//! read: an enterprise or broker reaches only the declarations its party is named in, and
//! anything else answers `404` as if it did not exist.

use std::sync::Arc;

use crate::auth::{Principal, Role};
use crate::{blocking, ApiError, App};

/// What a caller asks to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Lodge a declaration.
    Declare,
    /// Read declarations, their receipts and history.
    ReadDeclarations,
    /// Amend a declaration.
    Amend,
    /// Cancel a declaration (an officer's after release is the correction procedure).
    Cancel,
    /// Record a document review.
    Review,
    /// Record a physical inspection.
    Inspect,
    /// Hold a declaration.
    Hold,
    /// Release goods, or lift a hold.
    Release,
    /// Confirm an export's exit.
    ConfirmExit,
    /// Report a payment or guarantee.
    Pay,
    /// Read the risk rules in force.
    ReadRules,
    /// Put a rule set in force.
    PutRules,
    /// Back-test a rule set.
    Backtest,
    /// Issue a certificate.
    IssueCertificate,
    /// Read a certificate's status.
    ReadCertificate,
    /// Revoke a certificate.
    RevokeCertificate,
    /// Register a party or change its registration.
    RegisterParty,
    /// Read a party's registration (one's own, or any for officers and admins).
    ReadParties,
    /// List the registry.
    ListParties,
    /// Read and acknowledge one's own mailbox.
    ReadMailbox,
}

impl Action {
    /// Its name in audit records.
    pub fn name(self) -> &'static str {
        match self {
            Self::Declare => "declare",
            Self::ReadDeclarations => "read_declarations",
            Self::Amend => "amend",
            Self::Cancel => "cancel",
            Self::Review => "review",
            Self::Inspect => "inspect",
            Self::Hold => "hold",
            Self::Release => "release",
            Self::ConfirmExit => "confirm_exit",
            Self::Pay => "pay",
            Self::ReadRules => "read_rules",
            Self::PutRules => "put_rules",
            Self::Backtest => "backtest",
            Self::IssueCertificate => "issue_certificate",
            Self::ReadCertificate => "read_certificate",
            Self::RevokeCertificate => "revoke_certificate",
            Self::RegisterParty => "register_party",
            Self::ReadParties => "read_parties",
            Self::ListParties => "list_parties",
            Self::ReadMailbox => "read_mailbox",
        }
    }
}

use Role::{Admin, Bank, Broker, Enterprise, Officer};

/// Who may do what.
pub const POLICY: &[(Action, &[Role])] = &[
    (Action::Declare, &[Enterprise, Broker]),
    (
        Action::ReadDeclarations,
        &[Enterprise, Broker, Officer, Bank, Admin],
    ),
    (Action::Amend, &[Enterprise, Broker]),
    (Action::Cancel, &[Enterprise, Broker, Officer]),
    (Action::Review, &[Officer]),
    (Action::Inspect, &[Officer]),
    (Action::Hold, &[Officer]),
    (Action::Release, &[Officer]),
    (Action::ConfirmExit, &[Officer]),
    (Action::Pay, &[Bank]),
    (Action::ReadRules, &[Officer, Admin]),
    (Action::PutRules, &[Admin]),
    (Action::Backtest, &[Officer, Admin]),
    (Action::IssueCertificate, &[Admin]),
    (
        Action::ReadCertificate,
        &[Enterprise, Broker, Officer, Bank, Admin],
    ),
    (Action::RevokeCertificate, &[Admin]),
    (Action::RegisterParty, &[Admin]),
    (
        Action::ReadParties,
        &[Enterprise, Broker, Officer, Bank, Admin],
    ),
    (Action::ListParties, &[Officer, Admin]),
    (
        Action::ReadMailbox,
        &[Enterprise, Broker, Officer, Bank, Admin],
    ),
];

/// The action each route performs, by method and path; `None`: public, no token.
pub const ROUTE_ACTIONS: &[(&str, &str, Option<Action>)] = &[
    ("get", "/healthz", None),
    ("get", "/metrics", None),
    ("get", "/api/v1/openapi.json", None),
    ("post", "/api/v1/declarations", Some(Action::Declare)),
    (
        "get",
        "/api/v1/declarations",
        Some(Action::ReadDeclarations),
    ),
    (
        "get",
        "/api/v1/declarations/{entry_id}",
        Some(Action::ReadDeclarations),
    ),
    (
        "get",
        "/api/v1/declarations/{entry_id}/receipts",
        Some(Action::ReadDeclarations),
    ),
    (
        "post",
        "/api/v1/declarations/{entry_id}/review",
        Some(Action::Review),
    ),
    (
        "post",
        "/api/v1/declarations/{entry_id}/inspection",
        Some(Action::Inspect),
    ),
    (
        "post",
        "/api/v1/declarations/{entry_id}/hold",
        Some(Action::Hold),
    ),
    (
        "post",
        "/api/v1/declarations/{entry_id}/release",
        Some(Action::Release),
    ),
    (
        "post",
        "/api/v1/declarations/{entry_id}/amend",
        Some(Action::Amend),
    ),
    (
        "post",
        "/api/v1/declarations/{entry_id}/cancel",
        Some(Action::Cancel),
    ),
    (
        "post",
        "/api/v1/declarations/{entry_id}/exit",
        Some(Action::ConfirmExit),
    ),
    ("post", "/api/v1/payments", Some(Action::Pay)),
    ("get", "/api/v1/risk/rules", Some(Action::ReadRules)),
    ("put", "/api/v1/risk/rules", Some(Action::PutRules)),
    ("post", "/api/v1/risk/backtest", Some(Action::Backtest)),
    ("get", "/api/v1/pki/ca", None),
    ("get", "/api/v1/pki/crl", None),
    ("post", "/api/v1/login/challenge", None),
    ("post", "/api/v1/login", None),
    (
        "post",
        "/api/v1/pki/certificates",
        Some(Action::IssueCertificate),
    ),
    (
        "get",
        "/api/v1/pki/certificates/{serial}",
        Some(Action::ReadCertificate),
    ),
    (
        "post",
        "/api/v1/pki/certificates/{serial}/revoke",
        Some(Action::RevokeCertificate),
    ),
    ("post", "/api/v1/parties", Some(Action::RegisterParty)),
    ("get", "/api/v1/parties", Some(Action::ListParties)),
    ("put", "/api/v1/parties/{code}", Some(Action::RegisterParty)),
    ("get", "/api/v1/parties/{code}", Some(Action::ReadParties)),
    ("post", "/api/v1/messages", Some(Action::Declare)),
    (
        "get",
        "/api/v1/crossborder/inventories",
        Some(Action::Review),
    ),
    (
        "get",
        "/api/v1/crossborder/inventories/{invt_no}",
        Some(Action::Review),
    ),
    (
        "post",
        "/api/v1/crossborder/inventories/{invt_no}/decision",
        Some(Action::Release),
    ),
    ("post", "/api/v1/interchanges", Some(Action::Declare)),
    ("get", "/api/v1/routes", None),
    ("get", "/api/v1/mailbox", Some(Action::ReadMailbox)),
    ("post", "/api/v1/mailbox/ack", Some(Action::ReadMailbox)),
    ("get", "/api/v1/mailbox/webhook", Some(Action::ReadMailbox)),
    ("put", "/api/v1/mailbox/webhook", Some(Action::ReadMailbox)),
    (
        "get",
        "/api/v1/messages/{id}/trace",
        Some(Action::ReadDeclarations),
    ),
    ("get", "/api/v1/ledger/{ledger}/head", None),
    ("get", "/api/v1/ledger/{ledger}/entries/{seq}/proof", None),
];

/// The roles that may perform `action`.
pub fn allowed(action: Action) -> &'static [Role] {
    POLICY
        .iter()
        .find(|(a, _)| *a == action)
        .map_or(&[], |(_, roles)| *roles)
}

/// Whether `principal` may perform `action`: its role allows it and, for a scoped token,
/// the scope names it (which records is decided on reading).
pub fn permits(principal: &Principal, action: Action) -> bool {
    allowed(action).contains(&principal.role)
        && (principal.scopes.is_empty() || principal.scopes.iter().any(|s| s == action.name()))
}

/// Every action's name, for checking a token's scopes when it is made.
pub fn action_names() -> Vec<&'static str> {
    POLICY.iter().map(|(action, _)| action.name()).collect()
}

/// Lets `principal` go on with `action` on `subject`, or refuses with `403 H0403` and
/// records the refusal in the audit ledger.
pub(crate) async fn authorize(
    app: &Arc<App>,
    principal: &Principal,
    action: Action,
    subject: &str,
) -> Result<(), ApiError> {
    if permits(principal, action) {
        return Ok(());
    }
    let refusal = if allowed(action).contains(&principal.role) {
        ApiError::forbidden(format!(
            "this token is limited to {:?}; it may not {}",
            principal.scopes,
            action.name()
        ))
    } else {
        ApiError::forbidden(format!(
            "a {:?} token may not {}; it needs one of {:?}",
            principal.role,
            action.name(),
            allowed(action)
        ))
    };
    let (app, principal, subject) = (app.clone(), principal.clone(), subject.to_owned());
    let recorded = blocking(move || {
        Ok(crate::audit::denied(
            &app,
            &principal,
            action.name(),
            &subject,
            b"",
            refusal,
        ))
    })
    .await;
    Err(match recorded {
        Ok(error) | Err(error) => error,
    })
}
