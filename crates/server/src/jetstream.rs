//! Mailboxes in NATS JetStream (`--exchange nats://…`), for several nodes sharing them.
//!
//! What a party receives is decided where it was before: each receipt is routed to the
//! mailboxes of the parties a declaration names in the record's own transaction (the
//! `mailbox` rows, numbered per party). Those rows are the outbox. A relay on every node
//! ([`Relay`]) publishes them, in cursor order per party, to the stream [`STREAM`] under the
//! party's own subject (`jinguan.mailbox.<party>`), each with `Nats-Msg-Id`
//! `<party>/<cursor>`: a row published twice (two nodes relaying, or one node again after a
//! crash between its commit and its publish) is stored once. Nothing is lost when a node
//! dies: whatever it committed is in the database, and any node's relay publishes it.
//!
//! Reads come from the stream: a party's messages after a cursor are found by a binary
//! search over stream sequences (direct gets, served by any replica) and read in order.
//! Each mailbox has a durable consumer (`mailbox-<party>`, acknowledge-all) whose
//! acknowledgement floor follows the party's acknowledgements, so a mailbox's depth is
//! visible to NATS's own tools; the acknowledgement itself stays a ledger entry, the audit
//! record. Messages are kept for the stream's `max_age` (the exchange's retention), beyond
//! which the ledger is the copy.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex};
use std::time::Duration;

use async_nats::jetstream::{self, consumer, stream};
use futures_util::StreamExt;
use jinguan_store::projection::{Statement, Value};

use crate::declarations::{as_int, as_text};
use crate::{ApiError, App};

/// The stream holding every mailbox.
pub const STREAM: &str = "JINGUAN_MAILBOX";
/// Subjects of mailboxes: this, a dot, the party's token.
pub const SUBJECT_PREFIX: &str = "jinguan.mailbox";
/// The header carrying a message's cursor in its mailbox.
const CURSOR: &str = "Jinguan-Cursor";

/// Where and how the mailboxes live.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// The servers, as `nats://host:port` each.
    pub servers: Vec<String>,
    /// Copies of each message across the cluster (1 to 5).
    pub replicas: usize,
    /// How long a message is kept.
    pub max_age: Duration,
}

impl Config {
    /// Reads `nats://host:port[,host:port…][?replicas=N&max_age_days=D]`.
    pub fn parse(url: &str) -> Result<Self, String> {
        let rest = url
            .strip_prefix("nats://")
            .ok_or_else(|| format!("{url:?}: an exchange URL starts with nats://"))?;
        let (hosts, query) = rest.split_once('?').unwrap_or((rest, ""));
        let servers: Vec<String> = hosts
            .split(',')
            .map(|h| h.trim().trim_start_matches("nats://"))
            .filter(|h| !h.is_empty())
            .map(|h| format!("nats://{h}"))
            .collect();
        if servers.is_empty() {
            return Err(format!("{url:?}: no server named"));
        }
        let mut config = Self {
            servers,
            replicas: 1,
            max_age: Duration::from_secs(30 * 86_400),
        };
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            let number: u64 = value
                .parse()
                .map_err(|_| format!("{url:?}: {key}={value:?} is not a number"))?;
            match key {
                "replicas" if (1..=5).contains(&number) => {
                    config.replicas = usize::try_from(number).unwrap_or(1);
                }
                "max_age_days" if number >= 1 => {
                    config.max_age = Duration::from_secs(number * 86_400);
                }
                _ => {
                    return Err(format!(
                        "{url:?}: {key}={value} is not a setting (replicas=1..5, max_age_days>=1)"
                    ))
                }
            }
        }
        Ok(config)
    }
}

/// A party's token in subjects and consumer names: the code itself when it is letters,
/// digits and dashes, else `x` and its hex (so no code can reach another's subject).
pub fn token(party: &str) -> String {
    if !party.is_empty()
        && party
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        format!("p{party}")
    } else {
        format!("x{}", jinguan_crypto::hex::encode(party.as_bytes()))
    }
}

fn subject(party: &str) -> String {
    format!("{SUBJECT_PREFIX}.{}", token(party))
}

fn nats_error(error: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::SERVICE_UNAVAILABLE,
        "exchange_unavailable",
        "H0503",
        format!("the exchange (NATS JetStream): {error}"),
    )
}

/// The mailboxes' connection to JetStream.
pub struct JetStream {
    // Its own runtime: callers are blocking threads (requests' blocking sections, the relay,
    // the delivery thread), which wait on it.
    runtime: tokio::runtime::Runtime,
    context: jetstream::Context,
    stream: stream::Stream,
    // Per party, the last cursor known to be in the stream.
    published: Mutex<HashMap<String, i64>>,
    // Wakes the relay when a record has filled mailboxes.
    wake: (Mutex<bool>, Condvar),
    // Per party, the newest acknowledgement its durable consumer has yet to follow.
    acks: Mutex<HashMap<String, i64>>,
}

impl std::fmt::Debug for JetStream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JetStream").finish_non_exhaustive()
    }
}

impl JetStream {
    /// Connects and makes sure the stream exists as configured.
    pub fn connect(config: &Config) -> Result<Self, String> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .thread_name("jinguan-nats")
            .enable_all()
            .build()
            .map_err(|e| e.to_string())?;
        let (context, stream) = runtime.block_on(async {
            let servers: Vec<async_nats::ServerAddr> = config
                .servers
                .iter()
                .map(|s| s.parse().map_err(|e| format!("{s}: {e}")))
                .collect::<Result<_, String>>()?;
            let client = async_nats::ConnectOptions::new()
                .name("jinguan")
                .connection_timeout(Duration::from_secs(5))
                .retry_on_initial_connect()
                .connect(servers)
                .await
                .map_err(|e| format!("connecting to {:?}: {e}", config.servers))?;
            let mut context = jetstream::new(client);
            context.set_timeout(Duration::from_secs(5));
            let wanted = stream::Config {
                name: STREAM.into(),
                subjects: vec![format!("{SUBJECT_PREFIX}.>")],
                retention: stream::RetentionPolicy::Limits,
                storage: stream::StorageType::File,
                num_replicas: config.replicas,
                max_age: config.max_age,
                // Long enough to cover a node's restart and its relay's catching up.
                duplicate_window: Duration::from_secs(3600).min(config.max_age),
                allow_direct: true,
                ..Default::default()
            };
            // Several nodes start at once: whoever creates it first, the others find it.
            let mut last = String::new();
            for _ in 0..50 {
                match context.get_or_create_stream(wanted.clone()).await {
                    Ok(stream) => return Ok((context, stream)),
                    Err(e) => last = e.to_string(),
                }
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(format!("the stream {STREAM}: {last}"))
        })?;
        Ok(Self {
            runtime,
            context,
            stream,
            published: Mutex::default(),
            wake: (Mutex::new(false), Condvar::new()),
            acks: Mutex::default(),
        })
    }

    /// Tells the relay that mailboxes have new rows.
    pub fn wake(&self) {
        let (flag, condvar) = &self.wake;
        *flag.lock().unwrap_or_else(|e| e.into_inner()) = true;
        condvar.notify_one();
    }

    fn wait(&self, timeout: Duration) {
        let (flag, condvar) = &self.wake;
        let guard = flag.lock().unwrap_or_else(|e| e.into_inner());
        let (mut guard, _) = condvar
            .wait_timeout_while(guard, timeout, |woken| !*woken)
            .unwrap_or_else(|e| e.into_inner());
        *guard = false;
    }

    /// The last cursor of `party`'s mailbox in the stream (0 when it has none).
    fn last_in_stream(&self, party: &str) -> Result<i64, ApiError> {
        let found = self
            .runtime
            .block_on(self.stream.direct_get_last_for_subject(subject(party)));
        match found {
            Ok(message) => Ok(cursor_of(&message.headers)),
            Err(e) if e.kind() == stream::DirectGetErrorKind::NotFound => Ok(0),
            Err(e) => Err(nats_error(e)),
        }
    }

    /// Publishes every mailbox row not yet in the stream, in order per party. Returns how
    /// many were published.
    pub fn relay_once(&self, app: &App) -> Result<usize, ApiError> {
        let lasts = app
            .store
            .query(&Statement::new(
                "SELECT party, last FROM mailbox_counter",
                vec![],
            ))
            .map_err(ApiError::store)?;
        let mut published = 0;
        for row in lasts {
            let (party, last) = (as_text(row.first()), as_int(row.get(1)));
            published += self.relay_party(app, &party, last)?;
        }
        Ok(published)
    }

    /// Publishes `party`'s rows up to `last` not yet in the stream; how many.
    fn relay_party(&self, app: &App, party: &str, last: i64) -> Result<usize, ApiError> {
        let known = self.known(party);
        if known.is_some_and(|k| k >= last) {
            return Ok(0);
        }
        // What this node published, it knows; the first time, the stream says (another node,
        // or this one before a restart, may have published). What another node publishes
        // meanwhile comes again from here, and the stream keeps it once.
        let mut from = match known {
            Some(known) => known,
            None => self.last_in_stream(party)?,
        };
        let mut published = 0;
        while from < last {
            let rows = crate::exchange::rows_after(app, party, from, 500)?;
            let Some(end) = rows.last().and_then(|m| m["cursor"].as_i64()) else {
                break;
            };
            self.publish(party, &rows)?;
            published += rows.len();
            from = end;
        }
        self.published
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(party.to_owned(), from);
        Ok(published)
    }

    /// Makes sure every row of `party`'s mailbox committed so far is in the stream: a
    /// party reading its mailbox right after an answer finds that answer's receipt there.
    pub fn catch_up(&self, app: &App, party: &str) -> Result<(), ApiError> {
        let rows = app
            .store
            .query(&Statement::new(
                "SELECT last FROM mailbox_counter WHERE party = ?1",
                vec![Value::Text(party.to_owned())],
            ))
            .map_err(ApiError::store)?;
        if let Some(row) = rows.first() {
            self.relay_party(app, party, as_int(row.first()))?;
        }
        Ok(())
    }

    fn known(&self, party: &str) -> Option<i64> {
        self.published
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(party)
            .copied()
    }

    /// Publishes `messages` of `party` (in cursor order), waiting for every acknowledgement.
    fn publish(&self, party: &str, messages: &[serde_json::Value]) -> Result<(), ApiError> {
        let subject = subject(party);
        self.runtime.block_on(async {
            let mut acks = Vec::with_capacity(messages.len());
            for message in messages {
                let cursor = message["cursor"].as_i64().unwrap_or(0);
                let mut headers = async_nats::HeaderMap::new();
                headers.insert("Nats-Msg-Id", format!("{party}/{cursor}").as_str());
                headers.insert(CURSOR, cursor.to_string().as_str());
                let body = serde_json::to_vec(message).map_err(crate::internal)?;
                acks.push(
                    self.context
                        .publish_with_headers(subject.clone(), headers, body.into())
                        .await
                        .map_err(nats_error)?,
                );
            }
            for ack in acks {
                ack.await.map_err(nats_error)?;
            }
            Ok(())
        })
    }

    /// `party`'s messages after `after`, at most `limit`, oldest first, from the stream.
    pub fn read(
        &self,
        party: &str,
        after: i64,
        limit: i64,
    ) -> Result<Vec<serde_json::Value>, ApiError> {
        let subject = subject(party);
        self.runtime.block_on(async {
            let next = |from: u64| {
                let subject = subject.clone();
                async move {
                    match self
                        .stream
                        .direct_get_next_for_subject(subject, Some(from))
                        .await
                    {
                        Ok(message) => Ok(Some(message)),
                        Err(e) if e.kind() == stream::DirectGetErrorKind::NotFound => Ok(None),
                        Err(e) => Err(nats_error(e)),
                    }
                }
            };
            // The first stream sequence whose next message on the subject is past `after`:
            // cursors grow with sequences on one subject, so the search is monotone.
            let Some(first) = next(1).await? else {
                return Ok(Vec::new());
            };
            let mut start = first;
            if cursor_of(&start.headers) <= after {
                let last = match self
                    .stream
                    .direct_get_last_for_subject(subject.clone())
                    .await
                {
                    Ok(message) => message,
                    Err(e) => return Err(nats_error(e)),
                };
                if cursor_of(&last.headers) <= after {
                    return Ok(Vec::new());
                }
                let (mut low, mut high) = (start.sequence + 1, last.sequence);
                let mut found = last;
                while low < high {
                    let middle = low + (high - low) / 2;
                    match next(middle).await? {
                        Some(message) if cursor_of(&message.headers) > after => {
                            high = message.sequence.min(middle).max(low);
                            found = message;
                        }
                        Some(message) => low = message.sequence + 1,
                        None => break,
                    }
                }
                start = match next(low).await? {
                    Some(message) if cursor_of(&message.headers) > after => message,
                    _ => found,
                };
            }
            // From there, one ephemeral consumer (in memory, one replica, no acknowledgement)
            // reads the batch in one fetch, gone as soon as it is read.
            let consumer: consumer::PullConsumer = self
                .stream
                .create_consumer(consumer::pull::Config {
                    deliver_policy: consumer::DeliverPolicy::ByStartSequence {
                        start_sequence: start.sequence,
                    },
                    filter_subject: subject.clone(),
                    ack_policy: consumer::AckPolicy::None,
                    inactive_threshold: Duration::from_secs(10),
                    memory_storage: true,
                    num_replicas: 1,
                    ..Default::default()
                })
                .await
                .map_err(nats_error)?;
            let name = consumer.cached_info().name.clone();
            let wanted = usize::try_from(limit).unwrap_or(usize::MAX);
            let mut batch = consumer
                .fetch()
                .max_messages(wanted)
                .messages()
                .await
                .map_err(nats_error)?;
            let mut messages = Vec::new();
            let mut previous = after;
            while let Some(message) = batch.next().await {
                let message = message.map_err(nats_error)?;
                let cursor = message.headers.as_ref().map_or(0, cursor_of);
                // A row published again after the dedup window would show twice: once is
                // enough.
                if cursor > previous {
                    let value: serde_json::Value =
                        serde_json::from_slice(&message.payload).map_err(crate::internal)?;
                    messages.push(value);
                    previous = cursor;
                }
            }
            let _ = self.stream.delete_consumer(&name).await;
            Ok(messages)
        })
    }

    /// Notes that `party` acknowledged up to `cursor`: the relay moves its durable
    /// consumer's floor there, off the request's path.
    pub fn note_ack(&self, party: &str, cursor: i64) {
        let mut acks = self.acks.lock().unwrap_or_else(|e| e.into_inner());
        let floor = acks.entry(party.to_owned()).or_insert(cursor);
        *floor = (*floor).max(cursor);
        drop(acks);
        self.wake();
    }

    /// Moves the durable consumers of the mailboxes acknowledged since the last call.
    fn move_floors(&self) {
        let acks = std::mem::take(&mut *self.acks.lock().unwrap_or_else(|e| e.into_inner()));
        for (party, cursor) in acks {
            if let Err(e) = self.acknowledge(&party, cursor) {
                eprintln!(
                    "exchange: moving {party}'s consumer to {cursor}: {}",
                    e.message
                );
            }
        }
    }

    /// Moves `party`'s durable consumer's acknowledgement floor up to `cursor` (the ledger
    /// holds the acknowledgement itself).
    fn acknowledge(&self, party: &str, cursor: i64) -> Result<(), ApiError> {
        let name = format!("mailbox-{}", token(party));
        self.runtime.block_on(async {
            let consumer: consumer::PullConsumer = self
                .stream
                .get_or_create_consumer(
                    &name,
                    consumer::pull::Config {
                        durable_name: Some(name.clone()),
                        filter_subject: subject(party),
                        ack_policy: consumer::AckPolicy::All,
                        ack_wait: Duration::from_secs(30),
                        max_ack_pending: 100_000,
                        ..Default::default()
                    },
                )
                .await
                .map_err(nats_error)?;
            loop {
                let mut batch = consumer
                    .fetch()
                    .max_messages(500)
                    .expires(Duration::from_millis(200))
                    .messages()
                    .await
                    .map_err(nats_error)?;
                let mut got = 0;
                let mut last_upto = None;
                let mut beyond = Vec::new();
                while let Some(message) = batch.next().await {
                    let message = message.map_err(nats_error)?;
                    got += 1;
                    let at = message.headers.as_ref().map_or(0, cursor_of);
                    if at <= cursor {
                        last_upto = Some(message);
                    } else {
                        beyond.push(message);
                    }
                }
                // Acknowledge-all: the last one up to the cursor covers those before it.
                if let Some(message) = last_upto {
                    message.ack().await.map_err(nats_error)?;
                }
                let done = !beyond.is_empty() || got == 0;
                for message in beyond {
                    let _ = message.ack_with(jetstream::AckKind::Nak(None)).await;
                }
                if done {
                    return Ok(());
                }
            }
        })
    }
}

fn cursor_of(headers: &async_nats::HeaderMap) -> i64 {
    headers
        .get(CURSOR)
        .and_then(|v| v.as_str().parse().ok())
        .unwrap_or(0)
}

/// The thread that publishes mailbox rows to the stream, until stopped.
pub struct Relay {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Relay {
    /// Starts relaying `app`'s mailboxes (when its exchange is JetStream).
    pub fn start(app: Arc<App>) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let thread = app.jetstream.clone().and_then(|jetstream| {
            std::thread::Builder::new()
                .name("jinguan-relay".into())
                .spawn(move || {
                    while !stopping.load(Ordering::Relaxed) {
                        // A failed round (NATS or the database away) is tried again: every
                        // row stays in the outbox until published.
                        if let Err(e) = jetstream.relay_once(&app) {
                            eprintln!("relay: {}", e.message);
                            std::thread::sleep(Duration::from_millis(200));
                        }
                        jetstream.move_floors();
                        // Woken by this node's records; others' are found within the tick.
                        jetstream.wait(Duration::from_millis(50));
                    }
                })
                .ok()
        });
        Self { stop, thread }
    }

    /// Stops the thread and waits for its round to end.
    pub fn stop(mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exchange_urls_read_or_are_refused() {
        let config = Config::parse("nats://127.0.0.1:4222,127.0.0.1:4223?replicas=3").unwrap();
        assert_eq!(
            config.servers,
            ["nats://127.0.0.1:4222", "nats://127.0.0.1:4223"]
        );
        assert_eq!(config.replicas, 3);
        assert!(Config::parse("http://x").is_err());
        assert!(Config::parse("nats://a?replicas=9").is_err());
        assert!(Config::parse("nats://a?color=red").is_err());
    }

    #[test]
    fn party_tokens_are_subject_safe_and_distinct() {
        assert_eq!(token("test-broker"), "ptest-broker");
        assert_eq!(token("a.b"), "x612e62");
        assert_ne!(token("x612e62"), token("a.b"));
        assert!(!token("a >*").contains([' ', '>', '*', '.']));
    }
}
