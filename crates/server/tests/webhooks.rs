//! Push delivery: a party's mailbox POSTed to its webhook, signed by the platform; a receiver
//! that fails, times out, takes a batch but loses its answer, then recovers gets every
//! message, repeats only as at-least-once allows and recognisable by message id; after too
//! many failures the webhook is dead-lettered, messages wait (pull still works), and the
//! party's registering it again delivers them.

#![allow(clippy::unwrap_used)] // A panic in a test is a test failure with its message.

mod common;

use std::collections::{BTreeMap, VecDeque};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{generated, start_custom, Backend};
use jinguan_crypto::jws::Detached;
use jinguan_crypto::pki::Certificate;
use jinguan_crypto::DEFAULT_DISTID;
use serde_json::{json, Value};

/// What the receiver does with one request.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Mode {
    /// Answers 200.
    Take,
    /// Answers 500.
    Fail,
    /// Answers nothing for longer than the platform waits.
    Hang,
    /// Reads the batch, then closes without an answer (the answer "lost").
    Drop,
}

/// One request a receiver got: what it did, the body, the signature header.
type Seen = (Mode, Vec<u8>, String);

/// A webhook receiver on loopback, doing what its script says request by request (then
/// taking everything), and noting every request: its mode, body and signature.
struct Receiver {
    url: String,
    seen: Arc<Mutex<Vec<Seen>>>,
}

impl Receiver {
    fn start(script: &[Mode]) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        let script = Arc::new(Mutex::new(script.iter().copied().collect::<VecDeque<_>>()));
        let seen = Arc::new(Mutex::new(Vec::new()));
        let seen2 = seen.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(mut stream) = stream else { continue };
                let (script, seen) = (script.clone(), seen2.clone());
                std::thread::spawn(move || {
                    let Some((signature, body)) = read_request(&mut stream) else {
                        return;
                    };
                    let mode = script.lock().unwrap().pop_front().unwrap_or(Mode::Take);
                    seen.lock().unwrap().push((mode, body, signature));
                    let answer: &[u8] = match mode {
                        Mode::Take => b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                        Mode::Fail => b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\nConnection: close\r\n\r\n",
                        Mode::Hang => {
                            std::thread::sleep(Duration::from_secs(2));
                            return;
                        }
                        Mode::Drop => return,
                    };
                    let _ = stream.write_all(answer);
                });
            }
        });
        Self { url, seen }
    }

    /// The requests whose batch the receiver may have processed (all but those it refused),
    /// in the order received, each with whether it answered 200.
    fn received(&self) -> Vec<(bool, Vec<u8>, String)> {
        self.seen
            .lock()
            .unwrap()
            .iter()
            .filter(|(mode, _, _)| *mode != Mode::Fail)
            .map(|(mode, body, signature)| (*mode == Mode::Take, body.clone(), signature.clone()))
            .collect()
    }

    fn requests(&self) -> usize {
        self.seen.lock().unwrap().len()
    }
}

/// One HTTP request's `X-Jws-Signature` and body (by `Content-Length`).
fn read_request(stream: &mut std::net::TcpStream) -> Option<(String, Vec<u8>)> {
    let mut buffer = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(end) = buffer.windows(4).position(|w| w == b"\r\n\r\n") {
            break end + 4;
        }
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buffer[..head_end]).into_owned();
    let header = |name: &str| {
        head.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name)
                .then(|| value.trim().to_owned())
        })
    };
    let length: usize = header("content-length")?.parse().ok()?;
    while buffer.len() < head_end + length {
        let n = stream.read(&mut chunk).ok()?;
        if n == 0 {
            return None;
        }
        buffer.extend_from_slice(&chunk[..n]);
    }
    Some((
        header("x-jws-signature").unwrap_or_default(),
        buffer[head_end..head_end + length].to_vec(),
    ))
}

fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "waited {limit:?} for {what}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn register(server: &common::Server, token: &str, url: &str) -> (u16, Value) {
    server.call(
        "PUT",
        "/api/v1/mailbox/webhook",
        token,
        &[("Content-Type", "application/json")],
        json!({ "url": url }).to_string().as_bytes(),
    )
}

/// Lodges `count` declarations (ids `prefix-i`); the platform certificate from a receipt.
fn lodge(server: &common::Server, prefix: &str, count: u64, seed: u64) -> String {
    let mut certificate = String::new();
    for (i, declaration) in generated(count, seed).iter().enumerate() {
        let body = serde_json::to_vec(declaration).unwrap();
        let (status, receipt) = server.lodge(&format!("{prefix}-{i}"), "application/json", &body);
        assert_eq!(status, 201, "{receipt}");
        certificate = receipt["attestation"]["certificate"]
            .as_str()
            .unwrap()
            .to_owned();
    }
    certificate
}

/// Every message the broker's mailbox holds, by cursor: its message id.
fn mailbox(server: &common::Server) -> BTreeMap<i64, String> {
    let (status, all) = server.get("/api/v1/mailbox?after=0&limit=1000", &server.broker.clone());
    assert_eq!(status, 200, "{all}");
    all["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["cursor"].as_i64().unwrap(),
                m["message_id"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// What the receiver took (answered 200), checked: each batch signed by the platform over
/// its exact bytes, for the broker, in cursor order; a message received twice is the same
/// message (same cursor, same id). Returns cursor → message id of those taken and how many
/// messages the receiver got more than once (counting batches it kept but did not answer).
fn taken(receiver: &Receiver, platform: &str) -> (BTreeMap<i64, String>, usize) {
    let key = Certificate::from_pem(platform)
        .unwrap()
        .public_key(DEFAULT_DISTID)
        .unwrap();
    let mut taken = BTreeMap::new();
    let mut received = BTreeMap::new();
    let mut repeats = 0;
    for (answered, body, signature) in receiver.received() {
        Detached::parse(&signature)
            .unwrap()
            .verify(&key, &body)
            .expect("a delivery signed by the platform over its exact bytes");
        let batch: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(batch["party"], "test-broker");
        let cursors: Vec<i64> = batch["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["cursor"].as_i64().unwrap())
            .collect();
        assert!(cursors.windows(2).all(|w| w[1] == w[0] + 1), "{cursors:?}");
        for message in batch["messages"].as_array().unwrap() {
            let cursor = message["cursor"].as_i64().unwrap();
            let id = message["message_id"].as_str().unwrap().to_owned();
            if let Some(before) = received.insert(cursor, id.clone()) {
                assert_eq!(before, id, "cursor {cursor} delivered as two messages");
                repeats += 1;
            }
            if answered {
                taken.insert(cursor, id);
            }
        }
    }
    (taken, repeats)
}

fn options() -> jinguan_server::webhooks::DeliveryOptions {
    jinguan_server::webhooks::DeliveryOptions {
        timeout: Duration::from_millis(300),
        max_failures: 6,
        tick: Duration::from_millis(20),
        ..Default::default()
    }
}

exchanges!(a_receiver_that_fails_times_out_and_recovers_gets_every_message);

fn a_receiver_that_fails_times_out_and_recovers_gets_every_message(backend: Backend) {
    let server = start_custom("webhook", backend, |app| app.delivery = options());
    let broker = server.broker.clone();
    // Messages wait before there is a webhook.
    let platform = lodge(&server, "wh-a", 4, 31);
    // Two failures, a timeout, a batch taken whose answer is lost, then it works.
    let receiver = Receiver::start(&[Mode::Fail, Mode::Fail, Mode::Hang, Mode::Drop]);
    let (status, hook) = register(&server, &broker, &receiver.url);
    assert_eq!(status, 201, "{hook}");
    assert_eq!(hook["state"], "active");
    // More arrive while it recovers.
    lodge(&server, "wh-b", 3, 32);
    let expected = mailbox(&server);
    let last = *expected.keys().last().unwrap();
    wait_for(
        "every message acknowledged by delivery",
        Duration::from_secs(30),
        || server.get("/api/v1/mailbox/webhook", &broker).1["acknowledged"] == last,
    );
    let (got, repeats) = taken(&receiver, &platform);
    assert_eq!(got, expected, "each message delivered, none lost");
    // The batch whose answer was lost came again: a repeat, recognisable by its id.
    assert!(repeats >= 1, "the lost answer's batch was delivered again");
    assert!(receiver.requests() >= 5, "{} requests", receiver.requests());
    let (_, hook) = server.get("/api/v1/mailbox/webhook", &broker);
    assert_eq!(hook["state"], "active", "{hook}");
    // Acknowledged by delivery, so a pull has nothing new.
    let (_, pulled) = server.get("/api/v1/mailbox", &broker);
    assert_eq!(pulled["messages"], json!([]), "{pulled}");
}

exchanges!(a_webhook_failing_too_often_is_dead_lettered_and_resumed_by_the_party);

fn a_webhook_failing_too_often_is_dead_lettered_and_resumed_by_the_party(backend: Backend) {
    let server = start_custom("deadletter", backend, |app| app.delivery = options());
    let broker = server.broker.clone();
    assert_eq!(
        server.get("/api/v1/mailbox/webhook", &broker).0,
        404,
        "no webhook yet"
    );
    let platform = lodge(&server, "dl-a", 3, 41);
    let receiver = Receiver::start(&[Mode::Fail; 6]);
    assert_eq!(register(&server, &broker, &receiver.url).0, 201);
    wait_for("the webhook dead-lettered", Duration::from_secs(30), || {
        server.get("/api/v1/mailbox/webhook", &broker).1["state"] == "dead"
    });
    assert_eq!(receiver.requests(), 6, "given up after six failures");
    // Dead: nothing more is tried, the messages wait and pull still has them.
    lodge(&server, "dl-b", 2, 42);
    std::thread::sleep(Duration::from_millis(500));
    assert_eq!(receiver.requests(), 6, "a dead webhook is not called");
    let expected = mailbox(&server);
    let (_, pulled) = server.get("/api/v1/mailbox", &broker);
    assert_eq!(pulled["messages"].as_array().unwrap().len(), expected.len());
    // The party registers it again: all of them come.
    let (status, hook) = register(&server, &broker, &receiver.url);
    assert_eq!(status, 201, "{hook}");
    assert_eq!(hook["state"], "active");
    let last = *expected.keys().last().unwrap();
    wait_for("delivery after resuming", Duration::from_secs(30), || {
        server.get("/api/v1/mailbox/webhook", &broker).1["acknowledged"] == last
    });
    let (got, repeats) = taken(&receiver, &platform);
    assert_eq!(got, expected);
    assert_eq!(repeats, 0, "nothing taken was sent again");
    // A bad URL is a coded refusal.
    let (status, refusal) = register(&server, &broker, "ftp://example.org/x");
    assert_eq!((status, refusal["code"].as_str()), (400, Some("H0463")));
}
