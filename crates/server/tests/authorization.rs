//! The authorisation matrix: for every route served, its row in the policy, and every role
//! called on it — allowed roles get past authorisation, the others get `403 H0403` and leave
//! one audit entry each; an enterprise reaches another party's declaration on no route
//! (`404`). A route without a row fails the test.

#![allow(clippy::unwrap_used)] // A panic in a test is a test failure with its message.

mod common;

use common::{generated, start, Backend};
use jinguan_server::authz::{allowed, ROUTE_ACTIONS};
use jinguan_server::Role;

fn audit_size(server: &common::Server) -> u64 {
    let (status, head) = server.get("/api/v1/ledger/audit/head", "");
    if status == 404 {
        return 0;
    }
    head["tree_size"].as_u64().unwrap()
}

both!(every_route_is_in_the_matrix_and_every_role_gets_its_answer);

fn every_route_is_in_the_matrix_and_every_role_gets_its_answer(backend: Backend) {
    let server = start("authz", backend);
    // One declaration lodged by the broker, for the routes that need one.
    let body = serde_json::to_vec(&generated(1, 21)[0]).unwrap();
    let (status, receipt) = server.lodge("matrix-1", "application/json", &body);
    assert!(status == 201 || status == 422, "{receipt}");
    let entry_id = receipt["entry_id"].as_str().unwrap().to_owned();
    let stranger = server.token("some-other-enterprise", Role::Enterprise);
    let tokens = [
        (Role::Enterprise, stranger.clone()),
        (Role::Broker, server.broker.clone()),
        (Role::Officer, server.officer.clone()),
        (Role::Bank, server.bank.clone()),
        (Role::Admin, server.admin.clone()),
    ];
    for (path, methods) in jinguan_server::route_table() {
        for method in methods {
            let row = ROUTE_ACTIONS
                .iter()
                .find(|(m, p, _)| *m == method && *p == path)
                .unwrap_or_else(|| {
                    panic!("{method} {path} has no row in the authorisation matrix")
                });
            let concrete = path
                .replace("{entry_id}", &entry_id)
                .replace("{ledger}", "audit")
                .replace("{seq}", "0")
                .replace("{serial}", "01");
            let Some(action) = row.2 else {
                // Public: no token needed, never 401 or 403.
                let (status, reply) = server.call(&method.to_uppercase(), &concrete, "", &[], b"");
                assert!(
                    status != 401 && status != 403,
                    "{method} {path}: {status} {reply}"
                );
                continue;
            };
            // No token: 401 on every protected route.
            let (status, _) = server.raw(&method.to_uppercase(), &concrete, &[], b"");
            assert_eq!(status, 401, "{method} {path} without a token");
            for (role, token) in &tokens {
                let before = audit_size(&server);
                let (status, reply) = server.call(
                    &method.to_uppercase(),
                    &concrete,
                    token,
                    &[
                        ("Content-Type", "application/json"),
                        ("Submission-Id", "matrix-x"),
                    ],
                    b"{}",
                );
                let refused = status == 403 && reply["code"] == "H0403";
                if allowed(action).contains(role) {
                    assert!(!refused, "{role:?} {method} {path}: {status} {reply}");
                    assert!(status < 500, "{role:?} {method} {path}: {status} {reply}");
                    // The other enterprise is allowed the action but not this declaration.
                    if *role == Role::Enterprise && path.contains("{entry_id}") {
                        assert_eq!(
                            (status, reply["code"].as_str()),
                            (404, Some("H0405")),
                            "another party's declaration, {method} {path}: {reply}"
                        );
                    }
                } else {
                    assert!(refused, "{role:?} {method} {path}: {status} {reply}");
                    assert_eq!(
                        audit_size(&server),
                        before + 1,
                        "{role:?} {method} {path}: one audit entry"
                    );
                }
            }
        }
    }
    // And the matrix names no route that is not served.
    let served = jinguan_server::route_table();
    for (method, path, _) in ROUTE_ACTIONS {
        assert!(
            served
                .iter()
                .any(|(p, ms)| p == path && ms.iter().any(|m| m == method)),
            "the matrix names {method} {path}, which is not served"
        );
    }
}

both!(tokens_expire_are_revoked_and_keep_to_their_scope);

/// A scoped token does only what its scope names (403 otherwise, audited); an expired one and
/// a revoked one are refused with their own codes, the revocation taking effect on a running
/// server at the next request; the token file never holds a token.
fn tokens_expire_are_revoked_and_keep_to_their_scope(backend: Backend) {
    use jinguan_server::auth::{create_token_with, list_tokens, revoke_token, TokenOptions};
    let server = start("tokens", backend);
    let scoped = create_token_with(
        &server.dir,
        "test-broker",
        Role::Broker,
        &TokenOptions {
            days: None,
            scopes: vec!["read_declarations".into()],
        },
    )
    .unwrap();
    let (status, _) = server.get("/api/v1/declarations", &scoped);
    assert_eq!(status, 200);
    let body = serde_json::to_vec(&generated(1, 22)[0]).unwrap();
    let before = audit_size(&server);
    let (status, reply) = server.lodge_as(&scoped, "scoped-1", "application/json", &body);
    assert_eq!(
        (status, reply["code"].as_str()),
        (403, Some("H0403")),
        "{reply}"
    );
    assert_eq!(audit_size(&server), before + 1);

    let expired = create_token_with(
        &server.dir,
        "test-broker",
        Role::Broker,
        &TokenOptions {
            days: Some(0),
            scopes: Vec::new(),
        },
    )
    .unwrap();
    let (status, reply) = server.get("/api/v1/declarations", &expired);
    assert_eq!(
        (status, reply["code"].as_str()),
        (401, Some("H0407")),
        "{reply}"
    );

    let doomed = server.token("test-broker", Role::Broker);
    let (status, _) = server.get("/api/v1/declarations", &doomed);
    assert_eq!(status, 200);
    let tokens = list_tokens(&server.dir).unwrap();
    let hash = jinguan_crypto::hex::encode(&jinguan_crypto::sm3(doomed.as_bytes()));
    let id = tokens.iter().find(|t| t.sm3 == hash).unwrap().id.clone();
    assert!(revoke_token(&server.dir, &id).unwrap());
    assert!(!revoke_token(&server.dir, "no-such-id").unwrap());
    let (status, reply) = server.get("/api/v1/declarations", &doomed);
    assert_eq!(
        (status, reply["code"].as_str()),
        (401, Some("H0406")),
        "{reply}"
    );
    // The others still work, and the file holds hashes, not tokens.
    let (status, _) = server.get("/api/v1/declarations", &server.broker.clone());
    assert_eq!(status, 200);
    let file = std::fs::read_to_string(server.dir.join("tokens.json")).unwrap();
    for token in [&scoped, &expired, &doomed, &server.broker] {
        assert!(!file.contains(token.as_str()));
    }
}

both!(guessing_tokens_locks_the_address_out_and_every_entry_says_from_where);

/// Ten wrong tokens from one address are ten audited `401`s; the eleventh attempt, and then
/// even a good token, is `429 H0429` and leaves nothing in the ledger. Every entry a request
/// wrote, change or denial, names the request and the address it came from.
fn guessing_tokens_locks_the_address_out_and_every_entry_says_from_where(backend: Backend) {
    let server = common::start_throttled("throttle", backend);
    let body = serde_json::to_vec(&generated(1, 31)[0]).unwrap();
    let (status, _, _) = server.exchange(
        "POST",
        "/api/v1/declarations",
        &[
            ("Authorization", &format!("Bearer {}", server.broker)),
            ("Submission-Id", "from-1"),
            ("Content-Type", "application/json"),
        ],
        &body,
    );
    assert!(status == 201 || status == 422, "{status}");
    for guess in 0..10 {
        let (status, reply) = server.get("/api/v1/declarations", &format!("guess-{guess}"));
        assert_eq!((status, reply["code"].as_str()), (401, Some("H0401")));
    }
    let audited = audit_size(&server);
    assert_eq!(audited, 10, "each failed authentication audited once");
    let (status, reply) = server.get("/api/v1/declarations", "guess-10");
    assert_eq!(
        (status, reply["code"].as_str()),
        (429, Some("H0429")),
        "{reply}"
    );
    let (status, reply) = server.get("/api/v1/declarations", &server.broker.clone());
    assert_eq!((status, reply["code"].as_str()), (429, Some("H0429")));
    assert_eq!(audit_size(&server), audited, "a lock-out writes nothing");
    // Every entry: its request, from the loopback address; no token in any of them.
    // (The platform's own entries, such as the block of entry-id serials the declaration
    // drew on, answer no request and come from no address.)
    let own = |request: &str| request.starts_with("reserve/");
    let mut by_request = server.entries_by_request();
    by_request.retain(|request, _| !own(request));
    assert_eq!(
        by_request.len(),
        12,
        "the registration, the declaration, ten denials: {by_request:?}"
    );
    for ledger in server.store.ledgers().unwrap() {
        let size = server.store.head(&ledger).unwrap().tree_size;
        for seq in 0..size {
            let (entry, _) = server.store.entry(&ledger, seq).unwrap();
            let payload: serde_json::Value = serde_json::from_slice(&entry.payload).unwrap();
            if own(payload["origin"]["request"].as_str().unwrap_or("")) {
                continue;
            }
            assert_eq!(payload["origin"]["from"], "127.0.0.1", "{payload}");
            let text = String::from_utf8_lossy(&entry.payload);
            assert!(!text.contains("guess-") && !text.contains(&server.broker));
        }
    }
}
