//! The HTTP API over a real socket: declarations in JSON and XML to receipts, repeats and
//! conflicts, every real DecMessage sample, hostile input, tokens, ledger proofs that
//! verify, and the OpenAPI document against the routes served. On SQLite and PostgreSQL.

#![allow(clippy::unwrap_used)] // A panic in a test is a test failure with its message.

mod common;

use common::{generated, start, Backend};
use jinguan_testkit::corpus;
use serde_json::Value;

both!(declarations_get_receipts_repeats_the_original_and_conflicts_409);
both!(every_real_sample_gets_a_receipt_never_a_500);
both!(bad_input_gets_a_coded_error_and_nothing_else_is_lost);
both!(a_receipt_proves_against_the_signed_head);
both!(the_openapi_document_lists_exactly_the_routes_served);

fn without_tree_size(mut receipt: Value) -> Value {
    receipt["ledger"]["tree_size"] = Value::Null;
    receipt
}

fn declarations_get_receipts_repeats_the_original_and_conflicts_409(backend: Backend) {
    let server = start("receipts", backend);
    assert_eq!(server.raw("GET", "/healthz", &[], b"").0, 200);
    let mut accepted = 0;
    for (i, declaration) in generated(40, 5).iter().enumerate() {
        let body = serde_json::to_vec(declaration).unwrap();
        let id = format!("client-{i}");
        let (status, receipt) = server.lodge(&id, "application/json", &body);
        assert!(status == 201 || status == 422, "{status} {receipt}");
        assert_eq!(receipt["submission_id"], id.as_str());
        assert_eq!(receipt["entry_id"].as_str().unwrap().len(), 18);
        if status == 201 {
            accepted += 1;
            assert_eq!(receipt["status"], "accepted");
            assert!(receipt["assessment"]["items"].is_array());
            assert!(receipt["channel"].is_string());
        } else {
            assert_eq!(receipt["status"], "rejected");
            assert!(receipt["errors"][0]["code"].is_string());
        }
        // The same body again: the original receipt, 200 (against a head at least as new).
        let (again, repeat) = server.lodge(&id, "application/json", &body);
        assert_eq!(again, 200, "{repeat}");
        assert!(repeat["ledger"]["tree_size"].as_u64() >= receipt["ledger"]["tree_size"].as_u64());
        assert_eq!(
            without_tree_size(repeat),
            without_tree_size(receipt.clone())
        );
        // The same id with another body: 409 in the envelope.
        let mut other = declaration.clone();
        other.head.notes = Some("changed".into());
        let (conflict, error) = server.lodge(
            &id,
            "application/json",
            &serde_json::to_vec(&other).unwrap(),
        );
        assert_eq!(conflict, 409, "{error}");
        assert_eq!(
            (error["code"].as_str(), error["type"].as_str()),
            (Some("S0001"), Some("conflict"))
        );
        // Recorded either way: the declaration reads back with its outcome.
        let entry_id = receipt["entry_id"].as_str().unwrap();
        let (status, view) =
            server.get(&format!("/api/v1/declarations/{entry_id}"), &server.broker);
        assert_eq!(status, 200, "{view}");
        assert_eq!(view["receipt"]["status"], receipt["status"]);
        assert_eq!(view["versions"].as_array().unwrap().len(), 1);
        // The declaration reads back from the body as received.
        assert_eq!(
            view["declaration"]["items"].as_array().unwrap().len(),
            declaration.items.len()
        );
        assert_eq!(
            view["declaration"]["head"]["contract_no"].as_str(),
            declaration.head.contract_no.as_deref()
        );
    }
    assert!(accepted > 0);
    // The counters saw it all: 40 receipts, 40 repeats, 40 conflicts refused.
    let (status, metrics) = server.raw("GET", "/metrics", &[], b"");
    assert_eq!(status, 200);
    let metrics = String::from_utf8(metrics).unwrap();
    let count = |line: &str| -> u64 {
        metrics
            .lines()
            .find(|l| l.starts_with(line))
            .and_then(|l| l.rsplit(' ').next())
            .unwrap()
            .parse()
            .unwrap()
    };
    assert_eq!(
        count("jinguan_declarations_total{outcome=\"accepted\"}")
            + count("jinguan_declarations_total{outcome=\"rejected\"}"),
        40
    );
    assert_eq!(
        count("jinguan_declarations_total{outcome=\"accepted\"}"),
        accepted
    );
    assert_eq!(count("jinguan_declarations_total{outcome=\"repeat\"}"), 40);
    assert_eq!(count("jinguan_declaration_refusals_total"), 40);
    // The store's group commits are timed (SQLite keeps the timings): one entry per
    // declaration recorded, the test broker's registration, and each district's block of
    // entry-id serials.
    if backend == Backend::Sqlite {
        let reservations = server
            .store
            .head(jinguan_server::serials::LEDGER)
            .unwrap()
            .tree_size;
        assert!(reservations >= 1);
        assert!(count("jinguan_ledger_commit_seconds_count") >= 1);
        assert_eq!(
            count("jinguan_ledger_committed_entries_total"),
            41 + reservations
        );
    }
}

fn every_real_sample_gets_a_receipt_never_a_500(backend: Backend) {
    let Some(dir) = corpus() else { return };
    let server = start("corpus", backend);
    let mut seen = 0;
    for group in ["zzaniu-loop_server", "ryanrong95-HXT"] {
        for entry in std::fs::read_dir(dir.join("china/declaration").join(group)).unwrap() {
            let path = entry.unwrap().path();
            let body = std::fs::read(&path).unwrap();
            let (status, reply) = server.lodge(&format!("sample-{seen}"), "application/xml", &body);
            // Accepted, rejected with coded findings, or (the two malformed samples) a coded
            // 400: never a server error.
            assert!(
                matches!(status, 201 | 422 | 400),
                "{}: {status} {reply}",
                path.display()
            );
            if status == 400 {
                assert!(reply["code"].as_str().unwrap().starts_with('X'), "{reply}");
            } else {
                assert!(reply["entry_id"].is_string());
                if status == 422 {
                    assert!(reply["errors"][0]["code"].is_string(), "{reply}");
                }
            }
            seen += 1;
        }
    }
    assert!(seen >= 15);
}

fn bad_input_gets_a_coded_error_and_nothing_else_is_lost(backend: Backend) {
    let server = start("bad", backend);
    let declarations = generated(1, 5);
    let json = serde_json::to_vec(&declarations[0]).unwrap();
    // 10,000 items: read, then refused by the item limit, every error listed.
    let mut huge = declarations[0].clone();
    let item = huge.items[0].clone();
    huge.items = (0..10_000).map(|_| item.clone()).collect();
    let huge = serde_json::to_vec(&huge).unwrap();
    assert!(
        huge.len() < jinguan_server::MAX_BODY_BYTES,
        "{}",
        huge.len()
    );
    // An unknown country code.
    let mut unknown = declarations[0].clone();
    unknown.head.trade_country = Some("QQQ".into());
    let unknown = serde_json::to_vec(&unknown).unwrap();
    let mut non_utf8 = json.clone();
    non_utf8.insert(10, 0xff);
    let cases: Vec<(&str, &str, Vec<u8>, u16, &str)> = vec![
        (
            "a",
            "application/xml",
            b"<DecMessage><DecHead>".to_vec(),
            400,
            "X0001",
        ),
        ("b", "text/plain", json.clone(), 415, "H0415"),
        (
            "c",
            "application/json",
            b"{\"head\": 7}".to_vec(),
            400,
            "H0002",
        ),
        (
            "d",
            "application/json",
            vec![b' '; 10 * 1024 * 1024],
            413,
            "H0413",
        ),
        (
            "e",
            "application/xml",
            vec![0xff, 0xfe, 0x00, 0x41],
            400,
            "X0005",
        ),
        ("f", "application/json", non_utf8, 400, "H0002"),
        ("g", "application/json", huge, 422, "V0104"),
        ("h", "application/json", unknown, 422, "D"),
        ("", "application/json", json.clone(), 400, "H0001"),
    ];
    for (id, content_type, body, status, code) in cases {
        let (got, reply) = server.lodge(id, content_type, &body);
        assert_eq!(got, status, "{id}: {reply}");
        if got == 422 {
            assert_eq!(reply["status"], "rejected", "{id}");
            let codes: Vec<&str> = reply["errors"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["code"].as_str().unwrap())
                .collect();
            assert!(codes.iter().any(|c| c.starts_with(code)), "{id}: {codes:?}");
        } else {
            assert_eq!(reply["code"], code, "{id}: {reply}");
            assert!(reply["message"].is_string() && reply["type"].is_string());
        }
    }
    // No token, or an unknown one: 401 in the envelope.
    let (status, reply) = server.raw(
        "POST",
        "/api/v1/declarations",
        &[("Content-Type", "application/json"), ("Submission-Id", "x")],
        &json,
    );
    let reply: Value = serde_json::from_slice(&reply).unwrap();
    assert_eq!((status, reply["code"].as_str()), (401, Some("H0401")));
    let (status, reply) = server.lodge_as("jg_not_a_token", "x", "application/json", &json);
    assert_eq!((status, reply["code"].as_str()), (401, Some("H0401")));
    // An officer does not lodge declarations.
    let (status, reply) = server.lodge_as(&server.officer.clone(), "x", "application/json", &json);
    assert_eq!((status, reply["code"].as_str()), (403, Some("H0403")));
    // Unknown routes use the envelope too.
    let (status, reply) = server.get("/api/v1/nothing", &server.officer);
    assert_eq!((status, reply["code"].as_str()), (404, Some("H0404")));
    // After all that, a good declaration still goes through.
    let (status, _) = server.lodge("good", "application/json", &json);
    assert!(status == 201 || status == 422);
}

fn a_receipt_proves_against_the_signed_head(backend: Backend) {
    let server = start("proof", backend);
    let declaration = &generated(1, 5)[0];
    let (_, receipt) = server.lodge(
        "p1",
        "application/json",
        &serde_json::to_vec(declaration).unwrap(),
    );
    let ledger = receipt["ledger"]["ledger"].as_str().unwrap();
    let seq = receipt["ledger"]["seq"].as_u64().unwrap();
    // Heads and proofs are public: no token.
    let (status, head) = server.raw("GET", &format!("/api/v1/ledger/{ledger}/head"), &[], b"");
    assert_eq!(status, 200);
    let (status, proof) = server.raw(
        "GET",
        &format!("/api/v1/ledger/{ledger}/entries/{seq}/proof"),
        &[],
        b"",
    );
    assert_eq!(status, 200);
    let head: jinguan_ledger::TreeHead = serde_json::from_slice(&head).unwrap();
    let proof: jinguan_ledger::InclusionProof = serde_json::from_slice(&proof).unwrap();
    let leaf: jinguan_ledger::Hash =
        serde_json::from_value(receipt["ledger"]["leaf_hash"].clone()).unwrap();
    jinguan_ledger::merkle::verify_inclusion(head.hash_algorithm, &leaf, &proof, &head.root_hash)
        .unwrap();
    let (status, error) = server.get("/api/v1/ledger/customs-9999/head", "");
    assert_eq!((status, error["type"].as_str()), (404, Some("not_found")));
}

fn the_openapi_document_lists_exactly_the_routes_served(backend: Backend) {
    let server = start("openapi", backend);
    let (status, document) = server.raw("GET", "/api/v1/openapi.json", &[], b"");
    assert_eq!(status, 200);
    let document: Value = serde_json::from_slice(&document).unwrap();
    assert_eq!(document["openapi"], "3.1.0");
    let mut documented: Vec<(String, Vec<String>)> = document["paths"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(path, ops)| {
            let mut methods: Vec<String> = ops.as_object().unwrap().keys().cloned().collect();
            methods.sort();
            (path.clone(), methods)
        })
        .collect();
    documented.sort();
    let mut served: Vec<(String, Vec<String>)> = jinguan_server::route_table()
        .into_iter()
        .map(|(path, mut methods)| {
            methods.sort();
            (path, methods)
        })
        .collect();
    served.sort();
    assert_eq!(documented, served);
    // Every documented operation is served: called with an officer's token and dummy
    // parameters it may be refused, but never as an unknown route.
    for (path, methods) in &documented {
        let concrete = path
            .replace("{entry_id}", "220020261000000001")
            .replace("{ledger}", "customs-2200")
            .replace("{seq}", "0");
        for method in methods {
            let (status, reply) = server.call(
                &method.to_uppercase(),
                &concrete,
                &server.officer,
                &[("Content-Type", "application/json")],
                b"{}",
            );
            assert_ne!(reply["code"], "H0404", "{method} {path}: {status}");
            assert!(status < 500, "{method} {path}: {status} {reply}");
            let documented_statuses = &document["paths"][path][method]["responses"];
            assert!(
                documented_statuses.get(status.to_string()).is_some(),
                "{method} {path} answered {status}, not documented"
            );
        }
    }
}

both!(eight_identical_submissions_at_once_make_one_declaration);

/// The same submission sent eight times at once: one declaration is recorded (201), the
/// others get its receipt (200), whichever of them reached the ledger first.
fn eight_identical_submissions_at_once_make_one_declaration(backend: Backend) {
    let server = start("twins", backend);
    let body = serde_json::to_vec(&generated(1, 5)[0]).unwrap();
    let replies: Vec<(u16, Value)> = std::thread::scope(|scope| {
        let workers: Vec<_> = (0..8)
            .map(|_| scope.spawn(|| server.lodge("twin", "application/json", &body)))
            .collect();
        workers.into_iter().map(|w| w.join().unwrap()).collect()
    });
    let created = replies
        .iter()
        .filter(|(s, _)| *s == 201 || *s == 422)
        .count();
    assert_eq!(created, 1, "{replies:?}");
    assert!(
        replies.iter().all(|(s, _)| matches!(s, 200 | 201 | 422)),
        "{replies:?}"
    );
    let first = without_tree_size(replies[0].1.clone());
    for (_, reply) in &replies {
        assert_eq!(without_tree_size(reply.clone()), first);
    }
    let (_, list) = server.get("/api/v1/declarations", &server.officer);
    assert_eq!(list["items"].as_array().unwrap().len(), 1, "{list}");
}
