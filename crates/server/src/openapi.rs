//! The OpenAPI 3.1 document served at `/api/v1/openapi.json`. Its paths and methods are
//! those the router serves (a test holds the two together, and calls every operation).

use serde_json::{json, Map, Value};

/// One operation: method, path, summary, roles allowed, request body kinds, query
/// parameters, statuses answered.
struct Operation {
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    roles: &'static [&'static str],
    body: &'static [&'static str],
    query: &'static [(&'static str, &'static str)],
    statuses: &'static [u16],
}

const DECLARATION_ACTION: &[u16] = &[200, 400, 401, 403, 404, 409];

const OPERATIONS: &[Operation] = &[
    Operation {
        method: "get",
        path: "/healthz",
        summary: "Liveness.",
        roles: &[],
        body: &[],
        query: &[],
        statuses: &[200],
    },
    Operation {
        method: "get",
        path: "/metrics",
        summary: "Counters in the Prometheus text format.",
        roles: &[],
        body: &[],
        query: &[],
        statuses: &[200],
    },
    Operation {
        method: "get",
        path: "/api/v1/openapi.json",
        summary: "This document.",
        roles: &[],
        body: &[],
        query: &[],
        statuses: &[200],
    },
    Operation {
        method: "post",
        path: "/api/v1/declarations",
        summary: "Lodge a declaration (canonical JSON or DecMessage XML) under a Submission-Id; \
                  201 accepted, 422 rejected with every error (recorded), 200 the original \
                  receipt of a repeat, 409 the same id with another body.",
        roles: &["enterprise", "broker"],
        body: &["application/json", "application/xml", "application/edifact"],
        query: &[],
        statuses: &[200, 201, 400, 401, 403, 409, 413, 415, 422],
    },
    Operation {
        method: "get",
        path: "/api/v1/declarations",
        summary: "Declarations the caller may see, by entry id, filtered; page with next_cursor.",
        roles: &["enterprise", "broker", "officer", "bank", "admin"],
        body: &[],
        query: &[
            ("status", "a status name, or held"),
            ("channel", "green, yellow or red"),
            ("customs", "declaring customs district (4 digits)"),
            ("from", "declared on or after (YYYY-MM-DD)"),
            ("to", "declared on or before (YYYY-MM-DD)"),
            ("cursor", "the next_cursor of the previous page"),
            ("limit", "at most this many (1 to 1000, default 100)"),
        ],
        statuses: &[200, 400, 401],
    },
    Operation {
        method: "get",
        path: "/api/v1/declarations/{entry_id}",
        summary: "A declaration: state, current version, versions and history.",
        roles: &["enterprise", "broker", "officer", "bank", "admin"],
        body: &[],
        query: &[],
        statuses: &[200, 401, 404],
    },
    Operation {
        method: "get",
        path: "/api/v1/declarations/{entry_id}/receipts",
        summary: "Every receipt as JSON; with format=xml the latest (or seq=N) as China's \
                  DEC_RESULT; with format=edifact every receipt as a CUSRES (D96B) in one \
                  interchange.",
        roles: &["enterprise", "broker", "officer", "bank", "admin"],
        body: &[],
        query: &[
            ("format", "json (default), xml or edifact"),
            ("seq", "with format=xml: the receipt of this ledger entry"),
        ],
        statuses: &[200, 400, 401, 404],
    },
    Operation {
        method: "post",
        path: "/api/v1/declarations/{entry_id}/review",
        summary:
            "Document review of a yellow declaration: {outcome: conform|non_conform, findings}.",
        roles: &["officer"],
        body: &["application/json"],
        query: &[],
        statuses: DECLARATION_ACTION,
    },
    Operation {
        method: "post",
        path: "/api/v1/declarations/{entry_id}/inspection",
        summary: "Physical inspection (red, or after a non-conform review): {outcome, findings}.",
        roles: &["officer"],
        body: &["application/json"],
        query: &[],
        statuses: DECLARATION_ACTION,
    },
    Operation {
        method: "post",
        path: "/api/v1/declarations/{entry_id}/hold",
        summary: "Hold the declaration: {reason}.",
        roles: &["officer"],
        body: &["application/json"],
        query: &[],
        statuses: DECLARATION_ACTION,
    },
    Operation {
        method: "post",
        path: "/api/v1/declarations/{entry_id}/release",
        summary: "Lift a hold when held; otherwise release the goods once paid or guaranteed.",
        roles: &["officer"],
        body: &["application/json"],
        query: &[],
        statuses: DECLARATION_ACTION,
    },
    Operation {
        method: "post",
        path: "/api/v1/declarations/{entry_id}/amend",
        summary: "A new version before release (JSON or XML, Submission-Id), checked again; \
                  422 W0107 if it fails the checks.",
        roles: &["enterprise", "broker"],
        body: &["application/json", "application/xml"],
        query: &[],
        statuses: &[200, 400, 401, 403, 404, 409, 413, 415, 422],
    },
    Operation {
        method: "post",
        path: "/api/v1/declarations/{entry_id}/cancel",
        summary: "Cancel before release (declarant or officer); after release an officer's \
                  correction procedure.",
        roles: &["enterprise", "broker", "officer"],
        body: &["application/json"],
        query: &[],
        statuses: DECLARATION_ACTION,
    },
    Operation {
        method: "post",
        path: "/api/v1/declarations/{entry_id}/exit",
        summary: "Confirm that released exports left (结关).",
        roles: &["officer"],
        body: &["application/json"],
        query: &[],
        statuses: DECLARATION_ACTION,
    },
    Operation {
        method: "post",
        path: "/api/v1/payments",
        summary: "A bank pays the exact amount due or guarantees at least it: \
                  {entry_id, kind: payment|guarantee, amount, reference}.",
        roles: &["bank"],
        body: &["application/json"],
        query: &[],
        statuses: &[200, 400, 401, 403, 404, 409, 422],
    },
    Operation {
        method: "get",
        path: "/api/v1/risk/rules",
        summary: "The selectivity rule set in force.",
        roles: &["officer", "admin"],
        body: &[],
        query: &[],
        statuses: &[200, 401, 403],
    },
    Operation {
        method: "put",
        path: "/api/v1/risk/rules",
        summary: "Put a newer rule set in force (recorded in the risk ledger first).",
        roles: &["admin"],
        body: &["application/json"],
        query: &[],
        statuses: &[200, 201, 400, 401, 403, 409],
    },
    Operation {
        method: "post",
        path: "/api/v1/risk/backtest",
        summary: "What a rule set (the body, or the one in force) would have selected among \
                  past declarations, beside the live channels; changes nothing.",
        roles: &["officer", "admin"],
        body: &["application/json"],
        query: &[
            ("from", "declared on or after (YYYY-MM-DD)"),
            ("to", "declared on or before (YYYY-MM-DD)"),
        ],
        statuses: &[200, 400, 401, 403],
    },
    Operation {
        method: "get",
        path: "/api/v1/pki/ca",
        summary: "The platform CA certificate (PEM), its serial and SM3 fingerprint (public).",
        roles: &[],
        body: &[],
        query: &[],
        statuses: &[200],
    },
    Operation {
        method: "post",
        path: "/api/v1/login/challenge",
        summary: "Start a certificate-bound login: {certificate: serial} → {challenge, expires} \
                  (two minutes, one use).",
        roles: &[],
        body: &["application/json"],
        query: &[],
        statuses: &[200, 400, 429],
    },
    Operation {
        method: "post",
        path: "/api/v1/login",
        summary: "Finish it: {challenge, signature: detached JWS of the challenge by the \
                  certificate's key} → 201 {token, party, role, certificate, expires}: a \
                  session token (eight hours; ends when the certificate is revoked).",
        roles: &[],
        body: &["application/json"],
        query: &[],
        statuses: &[201, 400, 401, 429],
    },
    Operation {
        method: "post",
        path: "/api/v1/parties",
        summary: "Register a party: {code, kind (enterprise, broker, customs, licensing, tax, \
                  forex, bank), name, uscc?, customs_code?, ciq_code?, address?, credit_class?, \
                  districts? (customs), banks? (enterprise, broker), people?}; a parties-ledger \
                  entry. Districts are a customs party's officers' remit; banks the ones that \
                  reach the party's declarations; the credit class what selectivity sees.",
        roles: &["admin"],
        body: &["application/json"],
        query: &[],
        statuses: &[201, 400, 401, 403, 409],
    },
    Operation {
        method: "get",
        path: "/api/v1/parties",
        summary: "The registry, by code.",
        roles: &["officer", "admin"],
        body: &[],
        query: &[],
        statuses: &[200, 401, 403],
    },
    Operation {
        method: "put",
        path: "/api/v1/parties/{code}",
        summary: "Change a registration (the party whole, as it now is); a parties-ledger entry.",
        roles: &["admin"],
        body: &["application/json"],
        query: &[],
        statuses: &[200, 400, 401, 403, 404],
    },
    Operation {
        method: "get",
        path: "/api/v1/parties/{code}",
        summary: "A registration with its version: any for officers and admins, one's own for \
                  the others (404 otherwise).",
        roles: &["enterprise", "broker", "officer", "bank", "admin"],
        body: &[],
        query: &[],
        statuses: &[200, 401, 403, 404],
    },
    Operation {
        method: "post",
        path: "/api/v1/messages",
        summary: "The exchange's one door: any inbound message, its type read off its bytes \
                  (XML root element, EDIFACT UNH type, JSON declaration) and routed by the \
                  routing table to its module, which answers as at its own door \
                  (declarations: as POST /api/v1/declarations); a type no route takes 422 \
                  H0470, one that cannot be read 422 H0471.",
        roles: &["enterprise", "broker"],
        body: &["application/json", "application/xml", "application/edifact"],
        query: &[],
        statuses: &[200, 201, 400, 401, 403, 409, 413, 415, 422],
    },
    Operation {
        method: "get",
        path: "/api/v1/crossborder/inventories",
        summary: "Cross-border inventories in a status (query status, default held: those \
                  selectivity sent to a document review or an inspection), newest first.",
        roles: &["officer"],
        body: &[],
        query: &[(
            "status",
            "held (default), released, refused, returned, cancelled",
        )],
        statuses: &[200, 401, 403],
    },
    Operation {
        method: "get",
        path: "/api/v1/crossborder/inventories/{invt_no}",
        summary: "One inventory: status, buyer, year, value, tax bill and, when selected, the \
                  channel and every reason.",
        roles: &["officer"],
        body: &[],
        query: &[],
        statuses: &[200, 401, 403, 404],
    },
    Operation {
        method: "post",
        path: "/api/v1/crossborder/inventories/{invt_no}/decision",
        summary: "An officer's decision on a held inventory ({decision: release|refuse|return, \
                  note}): CEB622 800 and the CEB816 tax bill, or 100/700 giving its value back \
                  to the buyer's year; 409 H0496 when it is not held.",
        roles: &["officer"],
        body: &["application/json"],
        query: &[],
        statuses: &[201, 400, 401, 403, 404, 409],
    },
    Operation {
        method: "post",
        path: "/api/v1/interchanges",
        summary: "A UN/EDIFACT interchange of one or many messages: answered with its CONTRL \
                  (200 acknowledged, 422 rejected down to segment and element; format=json: \
                  {accepted, contrl, errors, messages[{reference, type, status, entry_id, \
                  receipt}]}); each acknowledged CUSDEC cleared as a declaration under \
                  <Submission-Id>/<UNH reference>, CUSCAR and CUSREP kept in the logistics \
                  ledger, other types refused (UCM 4, 0085 17).",
        roles: &["enterprise", "broker"],
        body: &["application/edifact"],
        query: &[("format", "edifact (default, the CONTRL) or json")],
        statuses: &[200, 400, 401, 403, 413, 415, 422],
    },
    Operation {
        method: "get",
        path: "/api/v1/routes",
        summary: "The routing table: {routes[{syntax, message_type, module, description}]}.",
        roles: &[],
        body: &[],
        query: &[],
        statuses: &[200],
    },
    Operation {
        method: "get",
        path: "/api/v1/mailbox",
        summary: "The caller's party's mailbox: the receipts of the declarations it is named in, \
                  in the order recorded, after a cursor (by default the last acknowledged: \
                  at-least-once delivery) → {acknowledged, next, messages[{cursor, message_id, \
                  entry_id, time, status, receipt_code, note, events}]}.",
        roles: &["enterprise", "broker", "officer", "bank", "admin"],
        body: &[],
        query: &[
            (
                "after",
                "cursor to read after (default: the last acknowledged)",
            ),
            ("limit", "at most this many (1 to 1000, default 100)"),
            (
                "format",
                "json (default) or edifact: the messages as one interchange of CUSRES, the \
                 cursor in X-Mailbox-Next",
            ),
        ],
        statuses: &[200, 400, 401, 403],
    },
    Operation {
        method: "post",
        path: "/api/v1/mailbox/ack",
        summary: "Acknowledge everything up to {cursor}: an exchange-ledger entry (201); again or \
                  less changes nothing (200); past the last message 409.",
        roles: &["enterprise", "broker", "officer", "bank", "admin"],
        body: &["application/json"],
        query: &[],
        statuses: &[200, 201, 400, 401, 403, 409],
    },
    Operation {
        method: "put",
        path: "/api/v1/mailbox/webhook",
        summary: "Push the caller's party's mailbox to {url} (http://): each batch of \
                  unacknowledged messages POSTed as {party, messages}, signed by the platform \
                  (X-Jws-Signature, detached), acknowledged by a 2xx answer, retried with \
                  backoff, dead-lettered after repeated failures; putting it again resumes a \
                  dead-lettered webhook (201).",
        roles: &["enterprise", "broker", "officer", "bank", "admin"],
        body: &["application/json"],
        query: &[],
        statuses: &[201, 400, 401, 403],
    },
    Operation {
        method: "get",
        path: "/api/v1/mailbox/webhook",
        summary: "The caller's party's webhook: {url, state (active or dead), since, \
                  acknowledged}; 404 when none is registered.",
        roles: &["enterprise", "broker", "officer", "bank", "admin"],
        body: &[],
        query: &[],
        statuses: &[200, 401, 403, 404],
    },
    Operation {
        method: "get",
        path: "/api/v1/messages/{id}/trace",
        summary: "What became of a message (<ledger>:<seq>, as mailbox messages name it): \
                  received (time, request, address), parsed, routed, processed, receipt \
                  produced, delivered (party, cursor) and acknowledged, with times.",
        roles: &["enterprise", "broker", "officer", "bank", "admin"],
        body: &[],
        query: &[],
        statuses: &[200, 401, 403, 404],
    },
    Operation {
        method: "get",
        path: "/api/v1/pki/crl",
        summary: "The CA's certificate revocation list (X.509 v2 CRL, SM2-with-SM3, public): \
                  every certificate revoked and not yet expired; DER, or PEM with ?format=pem. \
                  Reissued when the registry changes and at least hourly.",
        roles: &[],
        body: &[],
        query: &[("format", "der (the default) or pem")],
        statuses: &[200, 400],
    },
    Operation {
        method: "post",
        path: "/api/v1/pki/certificates",
        summary: "Certify a party's public key (SPKI PEM, SM2 or Ed25519) for a role: \
                  {party, role, name, public_key, days?}; recorded in the pki ledger.",
        roles: &["admin"],
        body: &["application/json"],
        query: &[],
        statuses: &[201, 400, 401, 403],
    },
    Operation {
        method: "get",
        path: "/api/v1/pki/certificates/{serial}",
        summary: "A certificate's status (good, revoked, expired, not_yet_valid) and PEM.",
        roles: &["enterprise", "broker", "officer", "bank", "admin"],
        body: &[],
        query: &[],
        statuses: &[200, 401, 404],
    },
    Operation {
        method: "post",
        path: "/api/v1/pki/certificates/{serial}/revoke",
        summary: "Revoke a certificate: {reason}; signatures under it are refused from then on.",
        roles: &["admin"],
        body: &["application/json"],
        query: &[],
        statuses: &[200, 400, 401, 403, 404],
    },
    Operation {
        method: "get",
        path: "/api/v1/ledger/{ledger}/head",
        summary: "The ledger's latest signed tree head (public).",
        roles: &[],
        body: &[],
        query: &[],
        statuses: &[200, 404],
    },
    Operation {
        method: "get",
        path: "/api/v1/ledger/{ledger}/entries/{seq}/proof",
        summary: "The inclusion proof of an entry against the latest signed head (public).",
        roles: &[],
        body: &[],
        query: &[],
        statuses: &[200, 400, 404],
    },
];

fn description(status: u16) -> &'static str {
    match status {
        200 => "OK",
        201 => "Created",
        400 => "Bad request (error envelope)",
        401 => "No token or an unknown one",
        403 => "The role may not do this",
        404 => "Not found (or not the caller's)",
        409 => "Conflict: not possible in this state, or a reused id",
        413 => "Body too large",
        415 => "Unsupported content type",
        422 => "Unprocessable: rejected with coded errors",
        _ => "Other",
    }
}

/// The document.
pub fn document() -> Value {
    let mut paths = Map::new();
    for op in OPERATIONS {
        let mut parameters: Vec<Value> = op
            .path
            .split('/')
            .filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}')))
            .map(|name| json!({"name": name, "in": "path", "required": true, "schema": {"type": "string"}}))
            .collect();
        for (name, text) in op.query {
            parameters.push(json!({"name": name, "in": "query", "required": false,
                "description": text, "schema": {"type": "string"}}));
        }
        if op.body.contains(&"application/xml") {
            parameters.push(
                json!({"name": "Submission-Id", "in": "header", "required": true,
                "description": "the client's id for this submission (1 to 200 characters)",
                "schema": {"type": "string"}}),
            );
            parameters.push(json!({"name": "X-Jws-Signature", "in": "header",
                "required": false,
                "description": "a detached signature of the body's exact bytes: \
                    <base64url protected header>..<base64url signature>, header \
                    {\"alg\":\"SM2-SM3\"|\"EdDSA\",\"kid\":<certificate serial>,\
                    \"b64\":false,\"crit\":[\"b64\"]}; required unless the server takes \
                    unsigned declarations (401 H0420 unsigned, H0421 unknown certificate, \
                    H0422 revoked, H0423 expired, H0426 bad signature, H0427 malformed; \
                    403 H0425 another party's certificate)",
                "schema": {"type": "string"}}));
        }
        let responses: Map<String, Value> = op
            .statuses
            .iter()
            .map(|s| {
                let schema = if *s >= 400 {
                    json!({"$ref": "#/components/schemas/Error"})
                } else {
                    json!({"type": "object"})
                };
                (
                    s.to_string(),
                    json!({"description": description(*s),
                        "content": {"application/json": {"schema": schema}}}),
                )
            })
            .collect();
        let mut operation = json!({
            "summary": op.summary,
            "parameters": parameters,
            "responses": responses,
        });
        if !op.roles.is_empty() {
            operation["security"] = json!([{"bearer": []}]);
            operation["x-roles"] = json!(op.roles);
        }
        if !op.body.is_empty() {
            let content: Map<String, Value> = op
                .body
                .iter()
                .map(|t| (t.to_string(), json!({"schema": {"type": if *t == "application/xml" {"string"} else {"object"}}})))
                .collect();
            operation["requestBody"] = json!({"content": content});
        }
        let entry = paths.entry(op.path.to_owned()).or_insert_with(|| json!({}));
        entry[op.method] = operation;
    }
    json!({
        "openapi": "3.1.0",
        "info": {
            "title": "Jinguan API",
            "version": env!("CARGO_PKG_VERSION"),
            "description": "Declarations, clearance, receipts, risk rules and ledger proofs. \
                            Every failure is {code, message, type, details}.",
        },
        "paths": paths,
        "components": {
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
            "schemas": {"Error": {
                "type": "object",
                "required": ["code", "message", "type", "details"],
                "properties": {
                    "code": {"type": "string"},
                    "message": {"type": "string"},
                    "type": {"type": "string"},
                    "details": {},
                },
            }},
        },
    })
}
