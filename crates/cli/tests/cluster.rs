//! The exchange scaled out: three NATS JetStream nodes (clustered on loopback, mailboxes
//! replicated three times) and two `jinguan serve` nodes sharing one PostgreSQL database.
//! Brokers' clients lodge declarations at both nodes; during the traffic one NATS node and
//! one Jinguan node are killed with SIGKILL, and a client whose request failed sends it again
//! (same Submission-Id) to the node left. Afterwards: every acknowledged inbound message has
//! exactly one result (sending it again answers the same declaration, and there are as many
//! declarations as acknowledged messages), and its receipt is in the broker's mailbox, read
//! from the surviving cluster. The counts are printed.

#![allow(clippy::unwrap_used)] // A panic in a test is a test failure with its message.

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jinguan_testkit::nats;
use serde_json::Value;

struct Node {
    child: Child,
    base: String,
}

impl Node {
    fn kill(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Node {
    fn drop(&mut self) {
        self.kill();
    }
}

fn serve(data: &Path, operator: &Path, store: &str, exchange: &str, log: &Path) -> Node {
    let mut child = Command::new(env!("CARGO_BIN_EXE_jinguan"))
        .args(["serve", "--data-dir"])
        .arg(data)
        .args(["--listen", "127.0.0.1:0", "--signatures", "optional"])
        .args(["--store", store, "--exchange", exchange])
        .env("JINGUAN_OPERATOR_KEY_FILE", operator)
        .stdout(Stdio::piped())
        .stderr(Stdio::from(std::fs::File::create(log).unwrap()))
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| {
            panic!(
                "no address in {line:?}: {}",
                std::fs::read_to_string(log).unwrap_or_default()
            )
        })
        .to_owned();
    Node { child, base }
}

/// One request; `None` when no answer came (the node is gone).
fn call(
    base: &str,
    method: &str,
    path: &str,
    token: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> Option<(u16, Value)> {
    let agent = ureq::AgentBuilder::new()
        .timeout(Duration::from_secs(10))
        .build();
    let mut request = agent
        .request(method, &format!("{base}{path}"))
        .set("Authorization", &format!("Bearer {token}"));
    for (name, value) in headers {
        request = request.set(name, value);
    }
    let response = match request.send_bytes(body) {
        Ok(response) | Err(ureq::Error::Status(_, response)) => response,
        Err(_) => return None,
    };
    let status = response.status();
    let text = response.into_string().unwrap_or_default();
    Some((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
}

#[test]
fn killing_a_nats_node_and_a_jinguan_node_loses_no_acknowledged_message() {
    let Some(binary) = nats::binary() else {
        eprintln!("SKIP: nats-server not installed; the cluster test not run");
        return;
    };
    let Ok(pg) = std::env::var("JINGUAN_PG_URL") else {
        assert!(
            std::env::var("JINGUAN_REQUIRE_PG").is_err(),
            "JINGUAN_REQUIRE_PG set but JINGUAN_PG_URL is not"
        );
        eprintln!("SKIP: JINGUAN_PG_URL not set; the cluster test not run");
        return;
    };
    let work = std::env::temp_dir().join(format!("jinguan-cluster-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&work);
    std::fs::create_dir_all(&work).unwrap();
    let database = format!("jg_cluster_{}", std::process::id());
    jinguan_store::postgres::create_database(&pg, &database).unwrap();
    // `serve --store` takes a URL; the test server is named by key=value pairs.
    let setting = |key: &str, default: &str| {
        pg.split_whitespace()
            .find_map(|pair| pair.strip_prefix(&format!("{key}=")).map(str::to_owned))
            .unwrap_or_else(|| default.to_owned())
    };
    let store = format!(
        "postgres://{}@{}:{}/{database}",
        setting("user", "postgres"),
        setting("host", "127.0.0.1"),
        setting("port", "5432")
    );
    let (mut nats_nodes, exchange) = nats::cluster(&binary, &work.join("nats"));
    let exchange = format!("{exchange}?replicas=3");
    let data = work.join("data");
    let operator = work.join("operator.key");
    let token = {
        let output = Command::new(env!("CARGO_BIN_EXE_jinguan"))
            .args(["admin", "token", "create", "--data-dir"])
            .arg(&data)
            .args(["--party", "cluster-broker", "--role", "broker"])
            .env("JINGUAN_OPERATOR_KEY_FILE", &operator)
            .output()
            .unwrap();
        assert!(output.status.success(), "{output:?}");
        String::from_utf8(output.stdout).unwrap().trim().to_owned()
    };
    // One node first: it makes the CA and the platform key the other then opens.
    let first = serve(
        &data,
        &operator,
        &store,
        &exchange,
        &work.join("node-0.log"),
    );
    let second = serve(
        &data,
        &operator,
        &store,
        &exchange,
        &work.join("node-1.log"),
    );
    let bases = [first.base.clone(), second.base.clone()];
    let nodes = Arc::new(Mutex::new([Some(first), Some(second)]));

    let refdata = jinguan_refdata::RefData::load().unwrap();
    let total = 240;
    let generator = jinguan_testkit::Generator::new(
        &refdata,
        jinguan_testkit::GenOptions {
            count: total,
            seed: 606,
            enterprises: 50,
        },
    )
    .unwrap();
    let bodies: Vec<Vec<u8>> = (0..total)
        .map(|i| serde_json::to_vec(&generator.declaration(i as u64)).unwrap())
        .collect();
    let bodies = Arc::new(bodies);
    // Acknowledged: submission id → (entry id, status); and how many requests failed.
    let acknowledged = Arc::new(Mutex::new(BTreeMap::<String, (String, u16)>::new()));
    let failed = Arc::new(AtomicUsize::new(0));
    let sent = Arc::new(AtomicUsize::new(0));
    let clients: Vec<_> = (0..4)
        .map(|client| {
            let (bodies, acknowledged, failed, sent, bases, token) = (
                bodies.clone(),
                acknowledged.clone(),
                failed.clone(),
                sent.clone(),
                bases.clone(),
                token.clone(),
            );
            std::thread::spawn(move || {
                for i in (client..total).step_by(4) {
                    let id = format!("cluster-{i}");
                    let mut node = i % 2;
                    let started = Instant::now();
                    loop {
                        sent.fetch_add(1, Ordering::Relaxed);
                        let answer = call(
                            &bases[node],
                            "POST",
                            "/api/v1/declarations",
                            &token,
                            &[("Content-Type", "application/json"), ("Submission-Id", &id)],
                            &bodies[i],
                        );
                        match answer {
                            Some((status @ (200 | 201 | 422), receipt)) => {
                                let entry = receipt["entry_id"].as_str().unwrap().to_owned();
                                acknowledged
                                    .lock()
                                    .unwrap()
                                    .insert(id.clone(), (entry, status));
                                break;
                            }
                            other => {
                                // No answer, or one saying the node could not finish: the
                                // client sends it again, to the other node.
                                failed.fetch_add(1, Ordering::Relaxed);
                                assert!(
                                    started.elapsed() < Duration::from_secs(60),
                                    "{id} never acknowledged: {other:?}"
                                );
                                node = 1 - node;
                                std::thread::sleep(Duration::from_millis(50));
                            }
                        }
                    }
                }
            })
        })
        .collect();
    // A third of the way in: one NATS node and one Jinguan node die.
    let start = Instant::now();
    while acknowledged.lock().unwrap().len() < total / 3 {
        assert!(start.elapsed() < Duration::from_secs(120), "no progress");
        std::thread::sleep(Duration::from_millis(10));
    }
    nats_nodes[1].kill();
    if let Some(mut node) = nodes.lock().unwrap()[1].take() {
        node.kill();
    }
    let acknowledged_at_kill = acknowledged.lock().unwrap().len();
    for client in clients {
        client.join().unwrap();
    }
    let acknowledged = acknowledged.lock().unwrap().clone();
    assert_eq!(
        acknowledged.len(),
        total,
        "every message acknowledged in the end"
    );
    let survivor = &bases[0];

    // Exactly one result each: sent again, the same declaration answers; and the broker has
    // exactly as many declarations as messages were acknowledged.
    let entries: BTreeSet<&String> = acknowledged.values().map(|(entry, _)| entry).collect();
    assert_eq!(entries.len(), total, "one declaration per message");
    for (i, body) in bodies.iter().enumerate() {
        let id = format!("cluster-{i}");
        let (status, receipt) = call(
            survivor,
            "POST",
            "/api/v1/declarations",
            &token,
            &[("Content-Type", "application/json"), ("Submission-Id", &id)],
            body,
        )
        .unwrap();
        assert_eq!(status, 200, "{id}: {receipt}");
        assert_eq!(
            receipt["entry_id"].as_str(),
            Some(acknowledged[&id].0.as_str())
        );
    }
    let (status, listed) = call(
        survivor,
        "GET",
        "/api/v1/declarations?limit=1000",
        &token,
        &[],
        b"",
    )
    .unwrap();
    assert_eq!(status, 200, "{listed}");
    assert_eq!(
        listed["items"].as_array().map(Vec::len),
        Some(total),
        "{listed}"
    );

    // Every receipt delivered: the broker's mailbox, read from the two NATS nodes left,
    // holds each declaration's receipt, numbered 1, 2, 3, … without a gap or a repeat.
    let mut mailbox: Vec<Value> = Vec::new();
    let start = Instant::now();
    loop {
        let after = mailbox.last().map_or(0, |m| m["cursor"].as_i64().unwrap());
        match call(
            survivor,
            "GET",
            &format!("/api/v1/mailbox?after={after}&limit=1000"),
            &token,
            &[],
            b"",
        ) {
            Some((200, page)) => {
                let page = page["messages"].as_array().unwrap().clone();
                if page.is_empty() {
                    break;
                }
                mailbox.extend(page);
            }
            other => {
                // The NATS client may still be moving to a live node.
                assert!(
                    start.elapsed() < Duration::from_secs(60),
                    "mailbox unreadable: {other:?}"
                );
                std::thread::sleep(Duration::from_millis(200));
            }
        }
    }
    let cursors: Vec<i64> = mailbox
        .iter()
        .map(|m| m["cursor"].as_i64().unwrap())
        .collect();
    assert_eq!(cursors, (1..=mailbox.len() as i64).collect::<Vec<_>>());
    let delivered: BTreeSet<&str> = mailbox
        .iter()
        .map(|m| m["entry_id"].as_str().unwrap())
        .collect();
    for (id, (entry, _)) in &acknowledged {
        assert!(
            delivered.contains(entry.as_str()),
            "{id} ({entry}): receipt not delivered"
        );
    }
    let repeats = acknowledged
        .values()
        .filter(|(_, status)| *status == 200)
        .count();
    println!(
        "cluster: {total} messages, {} requests sent ({} failed and sent again), {} \
         acknowledged before the kills, {repeats} answered as repeats of a result recorded \
         before a failure, {} declarations, {} receipts in the broker's mailbox",
        sent.load(Ordering::Relaxed),
        failed.load(Ordering::Relaxed),
        acknowledged_at_kill,
        entries.len(),
        mailbox.len()
    );
    drop(nodes);
    drop(nats_nodes);
    let _ = std::fs::remove_dir_all(&work);
}
