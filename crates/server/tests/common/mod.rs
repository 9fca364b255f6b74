//! The test server: the real router on a real socket, on SQLite or a fresh PostgreSQL
//! database, with tokens made the way `jinguan admin token create` makes them.

#![allow(dead_code)] // Each test binary uses its own part of the harness.

use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use jinguan_clearance::risk::{RuleSet, DEMO_RULES};
use jinguan_crypto::{Algorithm, SigningKey, DEFAULT_DISTID};
use jinguan_refdata::RefData;
use jinguan_server::{App, Role, Tokens};
use jinguan_store::{LedgerStore, Options};
use jinguan_testkit::{GenOptions, Generator};
use serde_json::{json, Value};

/// Which store a server runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
    /// SQLite for the ledger, mailboxes in NATS JetStream (a node of its own per server).
    Nats,
}

/// Runs a test on SQLite and, when `JINGUAN_PG_URL` names a server, on PostgreSQL
/// (`JINGUAN_REQUIRE_PG=1` makes its absence a failure).
#[macro_export]
macro_rules! both {
    ($name:ident) => {
        mod $name {
            #[test]
            fn sqlite() {
                super::$name($crate::common::Backend::Sqlite);
            }

            #[test]
            fn postgres() {
                if $crate::common::postgres_available() {
                    super::$name($crate::common::Backend::Postgres);
                }
            }
        }
    };
}

/// Runs a mailbox test on every exchange: embedded on SQLite and on PostgreSQL, and in NATS
/// JetStream when `nats-server` is installed (`JINGUAN_REQUIRE_NATS=1` makes its absence a
/// failure).
#[macro_export]
macro_rules! exchanges {
    ($name:ident) => {
        mod $name {
            #[test]
            fn sqlite() {
                super::$name($crate::common::Backend::Sqlite);
            }

            #[test]
            fn postgres() {
                if $crate::common::postgres_available() {
                    super::$name($crate::common::Backend::Postgres);
                }
            }

            #[test]
            fn nats() {
                if jinguan_testkit::nats::binary().is_some() {
                    super::$name($crate::common::Backend::Nats);
                } else {
                    eprintln!("SKIP: nats-server not installed; the JetStream exchange not tested");
                }
            }
        }
    };
}

pub fn postgres_available() -> bool {
    if std::env::var("JINGUAN_PG_URL").is_ok() {
        return true;
    }
    assert!(
        std::env::var("JINGUAN_REQUIRE_PG").is_err(),
        "JINGUAN_REQUIRE_PG set but JINGUAN_PG_URL is not"
    );
    eprintln!("SKIP: JINGUAN_PG_URL not set; API tests on PostgreSQL not run");
    false
}

/// A request as journaled: method, path, status, request id, error code (if any).
pub type Exchanged = (String, String, u16, String, String);

pub struct Server {
    pub address: SocketAddr,
    pub dir: PathBuf,
    pub broker: String,
    pub officer: String,
    pub bank: String,
    pub admin: String,
    /// The server's store, for reading what requests wrote.
    pub store: Arc<dyn LedgerStore>,
    /// Every request made through [`Server::exchange`].
    pub journal: Mutex<Vec<Exchanged>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
    /// The NATS node its mailboxes live in ([`Backend::Nats`]).
    pub nats: Option<jinguan_testkit::nats::Node>,
    /// Its PostgreSQL database, when on PostgreSQL.
    pub pg_url: Option<String>,
    /// The key that signs its heads and receipts (PEM).
    pub key_pem: String,
    /// Whether the audit is checked when it stops.
    pub check_on_drop: bool,
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        // Every server a test ran is audited on the way out: its ledgers against the
        // requests the test made (not while a failed test unwinds: its own message matters).
        if !std::thread::panicking() && self.check_on_drop {
            self.check_audit();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

impl Server {
    /// Each ledger entry by the request that wrote it: (ledger, kind) per request id.
    pub fn entries_by_request(&self) -> HashMap<String, Vec<(String, String)>> {
        let mut by_request: HashMap<String, Vec<(String, String)>> = HashMap::new();
        for ledger in self.store.ledgers().unwrap() {
            let size = self.store.head(&ledger).unwrap().tree_size;
            for seq in 0..size {
                let (entry, _) = self.store.entry(&ledger, seq).unwrap();
                let payload: Value = serde_json::from_slice(&entry.payload).unwrap();
                let request = payload["origin"]["request"].as_str().unwrap_or_else(|| {
                    panic!("{ledger} entry {seq} ({}) names no request", entry.kind)
                });
                by_request
                    .entry(request.to_owned())
                    .or_default()
                    .push((ledger.clone(), entry.kind));
            }
        }
        by_request
    }

    /// Audit completeness over everything the test asked: no entry without a request the
    /// test made; no request with two entries; every denial (401, 403, and 404 H0405 or H0452 for a declaration or party not there or not the caller's) and every creation
    /// (201) exactly one; every read, malformed request, conflict and lock-out none.
    pub fn check_audit(&self) {
        let mut by_request = self.entries_by_request();
        // What the platform writes of itself answers no request: the delivery thread's
        // acknowledgements and dead letters name the delivery, entry-id serial reservations
        // the reservation, pruning by retention the mailbox pruned.
        by_request.retain(|request, _| {
            !["delivery/", "reserve/", "retention/"]
                .iter()
                .any(|internal| request.starts_with(internal))
        });
        // An interchange's messages are recorded each under its own sub-request
        // (`<request>/msg-<n>`): counted with the request.
        let mut merged: HashMap<String, Vec<(String, String)>> = HashMap::new();
        for (request, entries) in by_request {
            let parent = request
                .split_once("/msg-")
                .map_or(request.clone(), |(parent, _)| parent.to_owned());
            merged.entry(parent).or_default().extend(entries);
        }
        let mut by_request = merged;
        let journal = self.journal.lock().unwrap();
        for (method, path, status, request, code) in journal.iter() {
            let entries = by_request.remove(request).unwrap_or_default();
            if path.starts_with("/api/v1/interchanges") && matches!(*status, 200 | 422) {
                // One entry per message processed, none of them a denial.
                assert!(
                    entries.iter().all(|(_, kind)| kind != "audit.denial"),
                    "{method} {path}: {entries:?}"
                );
                continue;
            }
            let expected = match (*status, method.as_str()) {
                (401 | 403, _) => Some(1),
                (404, _) if code == "H0405" || code == "H0452" => Some(1),
                (201, _) => Some(1),
                (400 | 409 | 413 | 415 | 429, _) | (_, "GET") => Some(0),
                _ => None,
            };
            let what = format!("{method} {path} -> {status} (request {request}): {entries:?}");
            assert!(entries.len() <= 1, "two entries for one request: {what}");
            if let Some(expected) = expected {
                assert_eq!(entries.len(), expected, "audit entries for {what}");
            }
            if matches!(status, 401 | 403) || code == "H0405" || code == "H0452" {
                assert_eq!(entries[0].1, "audit.denial", "a denial's entry: {what}");
            }
        }
        assert!(
            by_request.is_empty(),
            "entries written by requests the test did not make: {by_request:?}"
        );
    }
}

fn open_store(
    name: &str,
    backend: Backend,
    dir: &std::path::Path,
    key: SigningKey,
    existing: Option<&str>,
) -> (Arc<dyn LedgerStore>, Option<String>) {
    let mut options = Options::new(key);
    options.projections = jinguan_server::projections();
    match backend {
        Backend::Sqlite | Backend::Nats => (
            Arc::new(
                jinguan_store::sqlite::SqliteStore::open(&dir.join("ledger.db"), options).unwrap(),
            ),
            None,
        ),
        Backend::Postgres => {
            let url = existing.map_or_else(
                || {
                    let base = std::env::var("JINGUAN_PG_URL").unwrap();
                    let database = format!("jg_api_{name}_{}", std::process::id());
                    let mut admin = postgres::Client::connect(&base, postgres::NoTls).unwrap();
                    admin
                        .batch_execute(&format!("DROP DATABASE IF EXISTS {database}"))
                        .unwrap();
                    jinguan_store::postgres::create_database(&base, &database).unwrap()
                },
                str::to_owned,
            );
            let store = jinguan_store::postgres::PostgresStore::open(&url, options).unwrap();
            (Arc::new(store), Some(url))
        }
    }
}

/// A server with the shipped demo rules.
pub fn start(name: &str, backend: Backend) -> Server {
    start_with(name, backend, RuleSet::from_json(DEMO_RULES).unwrap())
}

/// A server whose rule set in force is `rules`, taking unsigned declarations.
pub fn start_with(name: &str, backend: Backend, rules: RuleSet) -> Server {
    start_configured(name, backend, rules, None, None, |_| {})
}

/// A second node beside `first` (PostgreSQL): the same database and head-signing key, its own
/// tokens for the same parties, its own socket. Neither checks the audit on the way out:
/// each would find the other's requests in the shared ledgers.
pub fn start_beside(first: &mut Server) -> Server {
    first.check_on_drop = false;
    let beside = (first.pg_url.clone().unwrap(), first.key_pem.clone());
    let rules = RuleSet::from_json(DEMO_RULES).unwrap();
    NEXT_BESIDE.with(|b| *b.borrow_mut() = Some(beside));
    let mut second = start_configured("beside", Backend::Postgres, rules, None, None, |_| {});
    second.check_on_drop = false;
    second
}

thread_local! {
    static NEXT_BESIDE: std::cell::RefCell<Option<(String, String)>> =
        const { std::cell::RefCell::new(None) };
}

/// A server with the demo rules, unsigned declarations, and `configure` applied to its app
/// before it serves.
pub fn start_custom(name: &str, backend: Backend, configure: impl FnOnce(&mut App)) -> Server {
    let rules = RuleSet::from_json(DEMO_RULES).unwrap();
    start_configured(name, backend, rules, None, None, configure)
}

/// A server with the demo rules, unsigned declarations and the shipped limit on failed
/// authentications (other test servers allow many, so that tests of refusals are not cut
/// short by it).
pub fn start_throttled(name: &str, backend: Backend) -> Server {
    start_configured(
        name,
        backend,
        RuleSet::from_json(DEMO_RULES).unwrap(),
        None,
        Some(jinguan_server::auth::Throttle::default()),
        |_| {},
    )
}

/// A clock a test moves: the system's time plus an offset.
#[derive(Debug, Default)]
pub struct TestClock {
    pub offset_ms: std::sync::atomic::AtomicI64,
}

impl jinguan_store::Clock for TestClock {
    fn now_ms(&self) -> i64 {
        jinguan_store::Clock::now_ms(&jinguan_store::SystemClock)
            + self.offset_ms.load(std::sync::atomic::Ordering::Relaxed)
    }
}

/// A server with the demo rules that requires declarations to be signed, on `clock`.
pub fn start_signed(name: &str, backend: Backend, clock: Arc<TestClock>) -> Server {
    start_configured(
        name,
        backend,
        RuleSet::from_json(DEMO_RULES).unwrap(),
        Some(clock),
        None,
        |_| {},
    )
}

fn start_configured(
    name: &str,
    backend: Backend,
    rules: RuleSet,
    signed: Option<Arc<TestClock>>,
    throttle: Option<jinguan_server::auth::Throttle>,
    configure: impl FnOnce(&mut App),
) -> Server {
    let tag = format!(
        "{name}_{}",
        match backend {
            Backend::Sqlite => "sl",
            Backend::Postgres => "pg",
            Backend::Nats => "nats",
        }
    );
    let dir = std::env::temp_dir().join(format!("jinguan-api-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let token = |party: &str, role| jinguan_server::auth::create_token(&dir, party, role).unwrap();
    let (broker, officer, bank, admin) = (
        token("test-broker", Role::Broker),
        // The General Administration's officer: every district is in its remit.
        token("0000", Role::Officer),
        token("bank-1", Role::Bank),
        token("admin-1", Role::Admin),
    );
    // The platform key signs tree heads (the store's) and receipts (the app's).
    let beside = NEXT_BESIDE.with(|b| b.borrow_mut().take());
    let key = match &beside {
        Some((_, pem)) => SigningKey::from_pem(pem, DEFAULT_DISTID).unwrap(),
        None => SigningKey::generate(Algorithm::Sm2Sm3, DEFAULT_DISTID).unwrap(),
    };
    let key_pem = key.to_pem();
    let platform_key = SigningKey::from_pem(&key_pem, DEFAULT_DISTID).unwrap();
    let (store, pg_url) = open_store(
        &tag,
        backend,
        &dir,
        key,
        beside.as_ref().map(|b| b.0.as_str()),
    );
    let kept = store.clone();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let mut app = App::new(
        store,
        Arc::new(RefData::load().unwrap()),
        rules,
        Tokens::open(&dir).unwrap(),
        jinguan_server::Authority::generate(i64::try_from(now).unwrap(), Arc::new(platform_key))
            .unwrap(),
    )
    .unwrap();
    app.signatures_required = signed.is_some();
    app.throttle = throttle
        .unwrap_or_else(|| jinguan_server::auth::Throttle::new(100_000, Duration::from_secs(60)));
    if let Some(clock) = signed {
        app.clock = clock;
    }
    configure(&mut app);
    let nats = (backend == Backend::Nats).then(|| {
        let binary = jinguan_testkit::nats::binary().unwrap();
        let node = jinguan_testkit::nats::Node::start(
            &binary,
            "test",
            &dir.join("nats"),
            jinguan_testkit::nats::free_port(),
            None,
        );
        let config = jinguan_server::jetstream::Config::parse(&node.url()).unwrap();
        app.jetstream = Some(Arc::new(
            jinguan_server::jetstream::JetStream::connect(&config).unwrap(),
        ));
        node
    });
    let app = Arc::new(app);
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
    let server = Server {
        address: address.recv().unwrap(),
        dir,
        broker,
        officer,
        bank,
        admin,
        store: kept,
        journal: Mutex::default(),
        stop: Some(stop),
        thread: Some(thread),
        nats,
        pg_url,
        key_pem,
        check_on_drop: true,
    };
    if beside.is_some() {
        // Registered by the first node.
        return server;
    }
    // The test broker pays its duties through the test bank (its tax-payment agreement):
    // that is what puts its declarations in the bank's reach.
    let (status, reply) = server.post_json(
        "/api/v1/parties",
        &server.admin.clone(),
        &json!({"code": "test-broker", "kind": "broker", "name": "Test Broker",
                "banks": ["bank-1"]}),
    );
    assert_eq!(status, 201, "{reply}");
    server
}

impl Server {
    /// A new token for `party` in `role`, made while the server runs.
    pub fn token(&self, party: &str, role: Role) -> String {
        jinguan_server::auth::create_token(&self.dir, party, role).unwrap()
    }

    /// One HTTP/1.1 request on its own connection: the status and the body's bytes.
    pub fn raw(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> (u16, Vec<u8>) {
        let (status, _, body) = self.exchange(method, path, headers, body);
        (status, body)
    }

    /// One HTTP/1.1 request on its own connection: the status, the response head (status
    /// line and headers, as text) and the body's bytes.
    pub fn exchange(
        &self,
        method: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> (u16, String, Vec<u8>) {
        let mut stream = TcpStream::connect(self.address).unwrap();
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
        let split = response
            .windows(4)
            .position(|w| w == b"\r\n\r\n")
            .unwrap_or(response.len());
        let head = String::from_utf8_lossy(&response[..split]);
        let status: u16 = head.split(' ').nth(1).unwrap().parse().unwrap();
        let mut body = response[(split + 4).min(response.len())..].to_vec();
        if head
            .to_ascii_lowercase()
            .contains("transfer-encoding: chunked")
        {
            body = dechunk(&body);
        }
        let request = head
            .lines()
            .find_map(|line| {
                let (name, value) = line.split_once(':')?;
                name.eq_ignore_ascii_case("x-request-id")
                    .then(|| value.trim().to_owned())
            })
            .unwrap_or_default();
        let code = serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|v| v["code"].as_str().map(str::to_owned))
            .unwrap_or_default();
        self.journal.lock().unwrap().push((
            method.to_owned(),
            path.to_owned(),
            status,
            request,
            code,
        ));
        (status, head.into_owned(), body)
    }

    /// A request with a token; the status and the JSON body.
    pub fn call(
        &self,
        method: &str,
        path: &str,
        token: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> (u16, Value) {
        let auth = format!("Bearer {token}");
        let mut all = vec![("Authorization", auth.as_str())];
        all.extend_from_slice(headers);
        let (status, body) = self.raw(method, path, &all, body);
        (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
    }

    pub fn get(&self, path: &str, token: &str) -> (u16, Value) {
        self.call("GET", path, token, &[], b"")
    }

    /// `POST` of a JSON body (no submission id).
    pub fn post_json(&self, path: &str, token: &str, body: &Value) -> (u16, Value) {
        self.call(
            "POST",
            path,
            token,
            &[("Content-Type", "application/json")],
            body.to_string().as_bytes(),
        )
    }

    /// Lodges a declaration as the broker.
    pub fn lodge(&self, id: &str, content_type: &str, body: &[u8]) -> (u16, Value) {
        self.lodge_as(&self.broker.clone(), id, content_type, body)
    }

    pub fn lodge_as(&self, token: &str, id: &str, content_type: &str, body: &[u8]) -> (u16, Value) {
        self.call(
            "POST",
            "/api/v1/declarations",
            token,
            &[("Content-Type", content_type), ("Submission-Id", id)],
            body,
        )
    }

    /// Puts a rule set in force as the admin.
    /// Certifies a new SM2 key for the test broker: the key and the certificate's serial.
    pub fn certify_broker(&self) -> (SigningKey, String) {
        let key = SigningKey::generate(Algorithm::Sm2Sm3, DEFAULT_DISTID).unwrap();
        let (status, issued) = self.post_json(
            "/api/v1/pki/certificates",
            &self.admin.clone(),
            &json!({
                "party": "test-broker", "role": "broker", "name": "test-broker signer",
                "public_key": key.verifying_key().to_pem(),
            }),
        );
        assert_eq!(status, 201, "{issued}");
        (key, issued["serial"].as_str().unwrap().to_owned())
    }

    pub fn put_rules(&self, rules: &Value) -> (u16, Value) {
        self.call(
            "PUT",
            "/api/v1/risk/rules",
            &self.admin.clone(),
            &[("Content-Type", "application/json")],
            rules.to_string().as_bytes(),
        )
    }

    /// An officer's action on a declaration.
    pub fn officer(&self, entry_id: &str, action: &str, body: Value) -> (u16, Value) {
        self.post_json(
            &format!("/api/v1/declarations/{entry_id}/{action}"),
            &self.officer.clone(),
            &body,
        )
    }
}

fn dechunk(mut body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(end) = body.windows(2).position(|w| w == b"\r\n") else {
            return out;
        };
        let size = usize::from_str_radix(std::str::from_utf8(&body[..end]).unwrap().trim(), 16)
            .unwrap_or(0);
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&body[end + 2..end + 2 + size]);
        body = &body[end + 2 + size + 2..];
    }
}

/// A rule set that sends everything to `channel` (green when `None`), with no random draw.
pub fn all_to(version: u32, channel: Option<&str>) -> Value {
    let rules: Vec<Value> = channel
        .map(|c| {
            vec![
                json!({"id": format!("ALL-{c}"), "reason": format!("everything to {c}"),
                "channel": c, "valid_from": "2000-01-01", "when": []}),
            ]
        })
        .unwrap_or_default();
    json!({"version": version, "rules": rules,
        "random": {"percent": {}, "channel": "red", "seed": 1}})
}

/// Generated declarations, deterministic.
pub fn generated(count: u64, seed: u64) -> Vec<jinguan_types::declaration::Declaration> {
    let refdata = RefData::load().unwrap();
    let generator = Generator::new(
        &refdata,
        GenOptions {
            count: count as usize,
            seed,
            enterprises: 100,
        },
    )
    .unwrap();
    (0..count).map(|i| generator.declaration(i)).collect()
}
