//! `jinguan bench exchange`: the exchange's own throughput and latency, on a server it starts
//! in this process (SQLite by default, `--store postgres://…`, `--exchange nats://…`).
//!
//! 1. **Routing.** `--count` declarations are lodged over HTTP (unsigned, `--concurrency`
//!    clients); each record routes its receipt to the mailbox of every party the declaration
//!    names, inside the record's own transaction. Reported: mailbox messages routed per
//!    second — bounded by intake, since routing rides on each record's commit.
//! 2. **Delivery.** Every mailbox is then drained by its own party, as a client would: pull
//!    up to 1,000, acknowledge, again until empty, `--concurrency` parties at once. Reported:
//!    messages delivered per second (pulled and acknowledged), beside the peer: the same
//!    rows read by a bare SQL query on the same store, in the same run.
//! 3. **Latency.** Declarations lodged at a fixed `--rate` for `--seconds` while the broker
//!    polls its mailbox; each receipt's latency runs from the moment its declaration was due
//!    (not when a client got to it) to the poll that first showed it (polls 5 ms apart
//!    when there is nothing new). p50/p90/p99.

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use clap::Args;
use jinguan_refdata::RefData;
use jinguan_server::Role;
use jinguan_store::projection::{Statement, Value};
use jinguan_testkit::{GenOptions, Generator};

use crate::{say, Failure};

/// Parameters of `jinguan bench exchange`.
#[derive(Args)]
pub(crate) struct Params {
    /// Declarations lodged before delivery is measured.
    #[arg(long, default_value_t = 6000)]
    count: usize,
    /// Concurrent clients (lodging, then parties draining their mailboxes).
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Declarations per second in the latency phase.
    #[arg(long, default_value_t = 1000.0)]
    rate: f64,
    /// Seconds of the latency phase.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// The ledger's store: a `postgres://` URL (default: SQLite in a scratch directory).
    #[arg(long)]
    store: Option<String>,
    /// Mailboxes in NATS JetStream at this URL (default: embedded).
    #[arg(long)]
    exchange: Option<String>,
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1].as_secs_f64() * 1e3
}

struct Client {
    base: String,
    agent: ureq::Agent,
}

impl Client {
    fn new(base: &str) -> Self {
        Self {
            base: base.to_owned(),
            agent: ureq::AgentBuilder::new()
                .timeout(Duration::from_secs(60))
                .build(),
        }
    }

    fn lodge(&self, token: &str, id: &str, body: &[u8]) -> Option<serde_json::Value> {
        let answer = self
            .agent
            .post(&format!("{}/api/v1/declarations", self.base))
            .set("Authorization", &format!("Bearer {token}"))
            .set("Content-Type", "application/json")
            .set("Submission-Id", id)
            .send_bytes(body);
        match answer {
            Ok(response) | Err(ureq::Error::Status(422, response)) => response
                .into_string()
                .ok()
                .and_then(|text| serde_json::from_str(&text).ok()),
            Err(_) => None,
        }
    }

    fn pull(&self, token: &str, query: &str) -> Result<serde_json::Value, Failure> {
        self.agent
            .get(&format!("{}/api/v1/mailbox{query}", self.base))
            .set("Authorization", &format!("Bearer {token}"))
            .call()
            .map_err(|e| Failure::new("E0503", format!("pull: {e}")))?
            .into_string()
            .ok()
            .and_then(|text| serde_json::from_str(&text).ok())
            .ok_or_else(|| Failure::new("E0503", "pull: not JSON"))
    }

    fn ack(&self, token: &str, cursor: i64) -> Result<(), Failure> {
        self.agent
            .post(&format!("{}/api/v1/mailbox/ack", self.base))
            .set("Authorization", &format!("Bearer {token}"))
            .set("Content-Type", "application/json")
            .send_string(&serde_json::json!({ "cursor": cursor }).to_string())
            .map_err(|e| Failure::new("E0503", format!("ack: {e}")))?;
        Ok(())
    }
}

/// Serves `app` on a loopback port from a thread of its own: the stop signal, the address
/// and the thread.
#[allow(clippy::type_complexity)]
pub(crate) fn start_server(
    app: Arc<jinguan_server::App>,
) -> Result<
    (
        tokio::sync::oneshot::Sender<()>,
        std::net::SocketAddr,
        std::thread::JoinHandle<Result<(), Failure>>,
    ),
    Failure,
> {
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let (ready, address) = std::sync::mpsc::channel();
    let server = std::thread::spawn(move || -> Result<(), Failure> {
        let runtime =
            tokio::runtime::Runtime::new().map_err(|e| Failure::new("E0403", e.to_string()))?;
        runtime.block_on(async move {
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .map_err(|e| Failure::new("E0404", e.to_string()))?;
            let _ = ready.send(
                listener
                    .local_addr()
                    .map_err(|e| Failure::new("E0404", e.to_string()))?,
            );
            jinguan_server::serve(listener, app, async {
                let _ = stopped.await;
            })
            .await
            .map_err(|e| Failure::new("E0405", e.to_string()))
        })
    });
    let address = address
        .recv()
        .map_err(|_| Failure::new("E0404", "the server did not start"))?;
    Ok((stop, address, server))
}

pub(crate) fn run(params: &Params, refdata: RefData) -> Result<(), Failure> {
    let scratch =
        std::env::temp_dir().join(format!("jinguan-bench-exchange-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    let generator = Generator::new(
        &refdata,
        GenOptions {
            count: params.count,
            seed: 11,
            enterprises: 200,
        },
    )
    .map_err(|e| Failure::new("E0502", e.to_string()))?;
    let latency_count = (params.rate * params.seconds as f64) as usize;
    let bodies: Vec<Vec<u8>> = (0..(params.count + latency_count) as u64)
        .map(|i| serde_json::to_vec(&generator.declaration(i)).unwrap_or_default())
        .collect();
    let mut app = crate::serve::open_app(
        refdata,
        &scratch,
        params.store.as_deref(),
        crate::serve::Signatures::Optional,
    )?;
    if let Some(url) = &params.exchange {
        let config =
            jinguan_server::jetstream::Config::parse(url).map_err(|e| Failure::new("E0420", e))?;
        let jetstream = jinguan_server::jetstream::JetStream::connect(&config)
            .map_err(|e| Failure::new("E0421", e))?;
        Arc::get_mut(&mut app)
            .ok_or_else(|| Failure::new("E0421", "the app was shared"))?
            .jetstream = Some(Arc::new(jetstream));
    }
    let store = app.store.clone();
    let (stop, address, server) = start_server(app)?;
    let base = format!("http://{address}");
    let token = |party: &str, role| {
        jinguan_server::auth::create_token(&scratch, party, role)
            .map_err(|e| Failure::new("E0407", e.to_string()))
    };
    let broker = token("bench-broker", Role::Broker)?;
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());

    // 1. Routing: records, each routing its receipt to every party it names.
    let next = AtomicUsize::new(0);
    let start = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..params.concurrency.max(1) {
            scope.spawn(|| {
                let client = Client::new(&base);
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= params.count {
                        break;
                    }
                    let _ = client.lodge(&broker, &format!("x-{nonce}-{i}"), &bodies[i]);
                }
            });
        }
    });
    let lodging = start.elapsed();
    let mailboxes = store
        .query(&Statement::new(
            "SELECT party, last FROM mailbox_counter",
            vec![],
        ))
        .map_err(|e| Failure::new("E0503", e.to_string()))?;
    let parties: Vec<String> = mailboxes
        .iter()
        .filter_map(|row| match row.first() {
            Some(Value::Text(party)) => Some(party.clone()),
            _ => None,
        })
        .collect();
    let routed: i64 = mailboxes
        .iter()
        .map(|row| match row.get(1) {
            Some(Value::Integer(n)) => *n,
            _ => 0,
        })
        .sum();

    // 2. Delivery: each party drains its own mailbox.
    let tokens: HashMap<String, String> = parties
        .iter()
        .map(|party| {
            let role = if party == "bench-broker" {
                Role::Broker
            } else {
                Role::Enterprise
            };
            token(party, role).map(|t| (party.clone(), t))
        })
        .collect::<Result<_, _>>()?;
    let queue = Mutex::new(parties.clone());
    let delivered = AtomicUsize::new(0);
    let failed: Mutex<Option<Failure>> = Mutex::new(None);
    let start = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..params.concurrency.max(1) {
            scope.spawn(|| {
                let client = Client::new(&base);
                loop {
                    let Some(party) = queue.lock().unwrap_or_else(|e| e.into_inner()).pop() else {
                        break;
                    };
                    let token = &tokens[&party];
                    let drained = (|| -> Result<(), Failure> {
                        loop {
                            let page = client.pull(token, "?limit=1000")?;
                            let count = page["messages"].as_array().map_or(0, Vec::len);
                            let Some(cursor) = page["next"].as_i64().filter(|_| count > 0) else {
                                return Ok(());
                            };
                            client.ack(token, cursor)?;
                            delivered.fetch_add(count, Ordering::Relaxed);
                        }
                    })();
                    if let Err(e) = drained {
                        *failed.lock().unwrap_or_else(|e| e.into_inner()) = Some(e);
                        break;
                    }
                }
            });
        }
    });
    let delivery = start.elapsed();
    if let Some(failure) = failed.into_inner().unwrap_or_else(|e| e.into_inner()) {
        return Err(failure);
    }
    // The peer: the same rows by a bare query on the same store (no HTTP, no JSON, no
    // acknowledgement).
    let start = Instant::now();
    let mut read = 0usize;
    for party in &parties {
        read += store
            .query(&Statement::new(
                "SELECT m.cursor, m.entry_id, e.ledger, m.seq, m.time_ms, e.status,
                        e.receipt_code, e.note, e.events, e.version
                 FROM mailbox m JOIN decl_event e ON e.entry_id = m.entry_id AND e.seq = m.seq
                 WHERE m.party = ?1 ORDER BY m.cursor",
                vec![Value::Text(party.clone())],
            ))
            .map_err(|e| Failure::new("E0503", e.to_string()))?
            .len();
    }
    let peer = start.elapsed();

    // 3. Latency at a fixed rate: due → first seen in the broker's mailbox.
    let seen: Mutex<HashMap<String, Instant>> = Mutex::default();
    let sent: Mutex<HashMap<String, Instant>> = Mutex::default();
    let done = std::sync::atomic::AtomicBool::new(false);
    let next = AtomicUsize::new(0);
    let start = Instant::now();
    std::thread::scope(|scope| {
        scope.spawn(|| {
            let client = Client::new(&base);
            // From the end of what was delivered above.
            let mut after = client
                .pull(&broker, "?limit=1")
                .ok()
                .and_then(|p| p["acknowledged"].as_i64())
                .unwrap_or(0);
            loop {
                let finished = done.load(Ordering::Relaxed);
                let Ok(page) = client.pull(&broker, &format!("?after={after}&limit=1000")) else {
                    break;
                };
                let now = Instant::now();
                let messages = page["messages"].as_array().cloned().unwrap_or_default();
                for message in &messages {
                    if let Some(entry) = message["entry_id"].as_str() {
                        seen.lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .entry(entry.to_owned())
                            .or_insert(now);
                    }
                    after = message["cursor"].as_i64().unwrap_or(after);
                }
                if finished && messages.is_empty() {
                    break;
                }
                // A poll every 5 ms or so when there is nothing new: the resolution of the
                // figures, without the poller taking a core from the server.
                if messages.is_empty() {
                    std::thread::sleep(Duration::from_millis(5));
                }
            }
        });
        let senders: Vec<_> = (0..64)
            .map(|_| {
                scope.spawn(|| {
                    let client = Client::new(&base);
                    loop {
                        let i = next.fetch_add(1, Ordering::Relaxed);
                        if i >= latency_count {
                            break;
                        }
                        let due = start + Duration::from_secs_f64(i as f64 / params.rate);
                        if let Some(wait) = due.checked_duration_since(Instant::now()) {
                            std::thread::sleep(wait);
                        }
                        let body = &bodies[params.count + i];
                        if let Some(receipt) =
                            client.lodge(&broker, &format!("l-{nonce}-{i}"), body)
                        {
                            if let Some(entry) = receipt["entry_id"].as_str() {
                                sent.lock()
                                    .unwrap_or_else(|e| e.into_inner())
                                    .insert(entry.to_owned(), due);
                            }
                        }
                    }
                })
            })
            .collect();
        for sender in senders {
            let _ = sender.join();
        }
        done.store(true, Ordering::Relaxed);
    });
    let latency_wall = start.elapsed();
    let seen = seen.into_inner().unwrap_or_else(|e| e.into_inner());
    let sent = sent.into_inner().unwrap_or_else(|e| e.into_inner());
    let mut latencies: Vec<Duration> = sent
        .iter()
        .filter_map(|(entry, due)| seen.get(entry).map(|at| at.saturating_duration_since(*due)))
        .collect();
    latencies.sort();
    let _ = stop.send(());
    let _ = server.join();
    let _ = std::fs::remove_dir_all(&scratch);

    let per_s = |n: f64, d: Duration| n / d.as_secs_f64();
    let delivered = delivered.load(Ordering::Relaxed);
    let report = serde_json::json!({
        "exchange": if params.exchange.is_some() { "nats" } else { "embedded" },
        "store": if params.store.is_some() { "postgres" } else { "sqlite" },
        "routing": {
            "declarations": params.count,
            "mailbox_messages_routed": routed,
            "mailboxes": parties.len(),
            "wall_s": lodging.as_secs_f64(),
            "declarations_per_s": per_s(params.count as f64, lodging),
            "messages_routed_per_s": per_s(routed as f64, lodging),
        },
        "delivery": {
            "messages_delivered": delivered,
            "wall_s": delivery.as_secs_f64(),
            "messages_delivered_per_s": per_s(delivered as f64, delivery),
            "peer_bare_sql_rows_per_s": per_s(read as f64, peer),
            "ratio_to_peer": per_s(delivered as f64, delivery) / per_s(read as f64, peer).max(1e-9),
        },
        "latency": {
            "target_rate": params.rate,
            "achieved_rate": per_s(sent.len() as f64, latency_wall),
            "receipts": sent.len(),
            "seen_in_mailbox": latencies.len(),
            "submission_to_mailbox_ms": {
                "p50": percentile(&latencies, 50.0),
                "p90": percentile(&latencies, 90.0),
                "p99": percentile(&latencies, 99.0),
                "max": latencies.last().map_or(0.0, |d| d.as_secs_f64() * 1e3),
            },
        },
    });
    say!(
        "{}",
        serde_json::to_string_pretty(&report).unwrap_or_default()
    );
    if delivered as i64 != routed {
        return Err(Failure::new(
            "E0504",
            format!("{routed} messages routed but {delivered} delivered"),
        ));
    }
    Ok(())
}
