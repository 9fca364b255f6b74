//! The HTTP API over a real socket: declarations in JSON and XML to receipts, repeats and
//! conflicts, every real DecMessage sample, hostile input, and ledger proofs that verify.

#![allow(clippy::unwrap_used)] // A panic in a test is a test failure with its message.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::sync::Arc;

use jinguan_clearance::risk::{ReferencePrices, RuleSet, DEMO_RULES};
use jinguan_crypto::{Algorithm, SigningKey, DEFAULT_DISTID};
use jinguan_refdata::RefData;
use jinguan_server::{App, Metrics};
use jinguan_store::sqlite::SqliteStore;
use jinguan_store::Options;
use jinguan_testkit::{corpus, GenOptions, Generator};
use serde_json::Value;

struct Server {
    address: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    dir: std::path::PathBuf,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn start(name: &str) -> Server {
    let dir = std::env::temp_dir().join(format!("jinguan-api-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let key = SigningKey::generate(Algorithm::Sm2Sm3, DEFAULT_DISTID).unwrap();
    let store = SqliteStore::open(&dir.join("ledger.db"), Options::new(key)).unwrap();
    let app = Arc::new(App {
        store: Arc::new(store),
        refdata: Arc::new(RefData::load().unwrap()),
        rules: RuleSet::from_json(DEMO_RULES).unwrap(),
        references: ReferencePrices::default(),
        general_rate_origins: Vec::new(),
        metrics: Metrics::default(),
    });
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (ready, address) = std::sync::mpsc::channel();
    let thread = std::thread::spawn(move || {
        let runtime = tokio::runtime::Runtime::new().unwrap();
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
            ready.send(listener.local_addr().unwrap()).unwrap();
            jinguan_server::serve(listener, app, async {
                let _ = stopped.await;
            })
            .await
            .unwrap();
        });
    });
    Server {
        address: address.recv().unwrap(),
        stop: Some(stop),
        thread: Some(thread),
        dir,
    }
}

/// One HTTP/1.1 request on its own connection; the status and the body as text.
fn request_text(server: &Server, path: &str) -> (u16, String) {
    let mut stream = TcpStream::connect(server.address).unwrap();
    let head = format!("GET {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\n\r\n");
    stream.write_all(head.as_bytes()).unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let status = response.split(' ').nth(1).unwrap().parse().unwrap();
    let body = response.split("\r\n\r\n").nth(1).unwrap_or("").to_owned();
    (status, body)
}

/// One HTTP/1.1 request on its own connection; the status and the JSON body.
fn request(
    server: &Server,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, Value) {
    let mut stream = TcpStream::connect(server.address).unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: test\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    // A server refusing a large body may close before reading it all.
    let _ = stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(body));
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    let text = String::from_utf8_lossy(&response);
    let status: u16 = text.split(' ').nth(1).unwrap().parse().unwrap();
    let body = text.split("\r\n\r\n").nth(1).unwrap_or("");
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

fn post(server: &Server, id: &str, content_type: &str, body: &[u8]) -> (u16, Value) {
    request(
        server,
        "POST",
        "/api/v1/declarations",
        &[("Content-Type", content_type), ("Submission-Id", id)],
        body,
    )
}

fn generated(count: u64) -> Vec<jinguan_types::declaration::Declaration> {
    let refdata = RefData::load().unwrap();
    let generator = Generator::new(
        &refdata,
        GenOptions {
            count: count as usize,
            seed: 5,
            enterprises: 100,
        },
    )
    .unwrap();
    (0..count).map(|i| generator.declaration(i)).collect()
}

#[test]
fn declarations_get_receipts_repeats_the_original_and_conflicts_409() {
    let server = start("receipts");
    assert_eq!(request(&server, "GET", "/healthz", &[], b"").0, 200);
    let mut accepted = 0;
    for (i, declaration) in generated(40).iter().enumerate() {
        let body = serde_json::to_vec(declaration).unwrap();
        let id = format!("client-{i}");
        let (status, receipt) = post(&server, &id, "application/json", &body);
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
        // The same body again: the original receipt, 200.
        let (again, repeat) = post(&server, &id, "application/json", &body);
        assert_eq!((again, &repeat), (200, &receipt));
        // The same id with another body: 409 in the envelope.
        let mut other = declaration.clone();
        other.head.notes = Some("changed".into());
        let (conflict, error) = post(
            &server,
            &id,
            "application/json",
            &serde_json::to_vec(&other).unwrap(),
        );
        assert_eq!(conflict, 409, "{error}");
        assert_eq!(
            (error["code"].as_str(), error["type"].as_str()),
            (Some("S0001"), Some("conflict"))
        );
    }
    assert!(accepted > 0);
    // The counters saw it all: 40 receipts, 40 repeats, 40 conflicts refused.
    let (status, metrics) = request_text(&server, "/metrics");
    assert_eq!(status, 200);
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
}

#[test]
fn every_real_sample_gets_a_receipt_never_a_500() {
    let Some(dir) = corpus() else { return };
    let server = start("corpus");
    let mut seen = 0;
    for group in ["zzaniu-loop_server", "ryanrong95-HXT"] {
        for entry in std::fs::read_dir(dir.join("china/declaration").join(group)).unwrap() {
            let path = entry.unwrap().path();
            let body = std::fs::read(&path).unwrap();
            let (status, reply) =
                post(&server, &format!("sample-{seen}"), "application/xml", &body);
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
            }
            seen += 1;
        }
    }
    assert!(seen >= 15);
}

#[test]
fn bad_input_gets_a_coded_error_and_nothing_else_is_lost() {
    let server = start("bad");
    let json = serde_json::to_vec(&generated(1)[0]).unwrap();
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
        ("", "application/json", json.clone(), 400, "H0001"),
    ];
    for (id, content_type, body, status, code) in cases {
        let (got, error) = post(&server, id, content_type, &body);
        assert_eq!(got, status, "{id}: {error}");
        assert_eq!(error["code"], code, "{id}: {error}");
        assert!(error["message"].is_string() && error["type"].is_string());
    }
    // Unknown routes use the envelope too.
    let (status, error) = request(&server, "GET", "/api/v1/nothing", &[], b"");
    assert_eq!((status, error["code"].as_str()), (404, Some("H0404")));
    // After all that, a good declaration still goes through.
    let (status, _) = post(&server, "good", "application/json", &json);
    assert!(status == 201 || status == 422);
}

#[test]
fn a_receipt_proves_against_the_signed_head() {
    let server = start("proof");
    let declaration = &generated(1)[0];
    let (_, receipt) = post(
        &server,
        "p1",
        "application/json",
        &serde_json::to_vec(declaration).unwrap(),
    );
    let ledger = receipt["ledger"]["ledger"].as_str().unwrap();
    let seq = receipt["ledger"]["seq"].as_u64().unwrap();
    let (status, head) = request(
        &server,
        "GET",
        &format!("/api/v1/ledger/{ledger}/head"),
        &[],
        b"",
    );
    assert_eq!(status, 200);
    let (status, proof) = request(
        &server,
        "GET",
        &format!("/api/v1/ledger/{ledger}/entries/{seq}/proof"),
        &[],
        b"",
    );
    assert_eq!(status, 200, "{proof}");
    let head: jinguan_ledger::TreeHead = serde_json::from_value(head).unwrap();
    let proof: jinguan_ledger::InclusionProof = serde_json::from_value(proof).unwrap();
    let leaf: jinguan_ledger::Hash =
        serde_json::from_value(receipt["ledger"]["leaf_hash"].clone()).unwrap();
    jinguan_ledger::merkle::verify_inclusion(head.hash_algorithm, &leaf, &proof, &head.root_hash)
        .unwrap();
    let (status, error) = request(&server, "GET", "/api/v1/ledger/customs-9999/head", &[], b"");
    assert_eq!((status, error["type"].as_str()), (404, Some("not_found")));
}
