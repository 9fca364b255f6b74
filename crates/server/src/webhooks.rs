//! Push delivery: a party's mailbox posted to its webhook, signed by the platform, retried
//! with backoff, dead-lettered after a limit, resumed by the party.
//!
//! `PUT /api/v1/mailbox/webhook {"url": "http://…"}` registers (or re-registers, which also
//! resumes a dead-lettered one) the caller's party's webhook; `GET` shows it. Both are
//! `exchange`-ledger entries (`mailbox.webhook`, and `mailbox.webhook.dead` when given up on)
//! with the `webhook` table following them.
//!
//! A delivery thread ([`Deliverer`], started by [`crate::serve`]; it also prunes mailboxes
//! by their retention, [`crate::exchange::prune`]) posts each active webhook's
//! unacknowledged messages, oldest first and at most 100 at a time, as
//! `{"party", "messages": [...]}` (each message with its `cursor` and `message_id`, so a
//! receiver recognises a repeat), with the platform's detached signature of the exact body in
//! `X-Jws-Signature` (checkable with the platform certificate every receipt carries). A `2xx`
//! answer acknowledges them (as the party's own `POST /api/v1/mailbox/ack` would); anything
//! else, or no answer within the timeout, is retried after 100 ms, 200 ms, … (at most 10 s);
//! after [`DeliveryOptions::max_failures`] failures in a row the webhook is dead-lettered and
//! the messages wait in the mailbox (pull still works) until the party registers it again.
//! Delivery is at least once: a receiver that took a batch but whose answer was lost gets it
//! again.

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::extract::rejection::JsonRejection;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use jinguan_ledger::{Entry, Submission};
use jinguan_store::projection::{Dialect, Projection, Statement, Value};
use serde::{Deserialize, Serialize};

use crate::auth::Principal;
use crate::authz::{authorize, Action};
use crate::declarations::{as_int, as_text};
use crate::exchange::EXCHANGE_LEDGER;
use crate::{blocking, ApiError, App};

/// Entry kind of a webhook registered.
pub const REGISTERED: &str = "mailbox.webhook";
/// Entry kind of a webhook given up on.
pub const DEAD: &str = "mailbox.webhook.dead";

/// How push delivery behaves.
#[derive(Debug, Clone)]
pub struct DeliveryOptions {
    /// How long a receiver has to answer.
    pub timeout: Duration,
    /// Failures in a row before a webhook is dead-lettered.
    pub max_failures: u32,
    /// How often the mailboxes are looked at.
    pub tick: Duration,
    /// Days acknowledged messages stay in a mailbox when its party sets none.
    pub retention_days: u32,
    /// How often mailboxes are pruned of what their retention has passed.
    pub housekeeping: Duration,
}

impl Default for DeliveryOptions {
    fn default() -> Self {
        Self {
            timeout: Duration::from_secs(5),
            max_failures: 8,
            tick: Duration::from_millis(100),
            retention_days: 90,
            housekeeping: Duration::from_secs(60),
        }
    }
}

#[derive(Debug, Serialize, Deserialize)]
struct Webhook {
    party: String,
    url: String,
    #[serde(default)]
    failures: u32,
}

/// The `webhook` table: each party's webhook and whether it is active or dead.
pub struct WebhookTable;

impl Projection for WebhookTable {
    fn name(&self) -> &str {
        "webhooks"
    }

    fn create(&self, dialect: Dialect) -> Vec<String> {
        vec![format!(
            "CREATE TABLE IF NOT EXISTS webhook (
                party TEXT PRIMARY KEY, url TEXT NOT NULL, state TEXT NOT NULL,
                updated_ms BIGINT NOT NULL){}",
            dialect.clustered()
        )]
    }

    fn reset(&self) -> Vec<String> {
        vec!["DELETE FROM webhook".into()]
    }

    fn apply(&self, entry: &Entry) -> Vec<Statement> {
        let state = match entry.kind.as_str() {
            REGISTERED => "active",
            DEAD => "dead",
            _ => return Vec::new(),
        };
        let Ok(hook) = serde_json::from_slice::<Webhook>(&entry.payload) else {
            return Vec::new();
        };
        vec![Statement::new(
            "INSERT INTO webhook (party, url, state, updated_ms) VALUES (?1, ?2, ?3, ?4)
             ON CONFLICT (party) DO UPDATE SET url = ?2, state = ?3, updated_ms = ?4",
            vec![
                Value::Text(hook.party),
                Value::Text(hook.url),
                Value::Text(state.into()),
                Value::Integer(entry.time_ms),
            ],
        )]
    }
}

fn append(
    app: &App,
    kind: &str,
    hook: &Webhook,
    origin: &crate::origin::Origin,
) -> Result<(), ApiError> {
    app.store
        .append(
            EXCHANGE_LEDGER,
            Submission {
                kind: kind.into(),
                schema_version: 1,
                submitter: hook.party.clone(),
                // Each change its own entry: the request (or delivery) that made it.
                submission_id: format!("{kind}/{}/{}", hook.party, origin.request),
                payload: crate::origin::stamped(hook, origin).map_err(crate::internal)?,
                submitter_signature: None,
            },
        )
        .map_err(ApiError::store)?;
    Ok(())
}

/// Body of a registration.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct Registration {
    url: String,
}

/// `PUT /api/v1/mailbox/webhook`: the caller's party's webhook (registered or resumed).
pub(crate) async fn register(
    State(app): State<Arc<App>>,
    principal: Principal,
    body: Result<Json<Registration>, JsonRejection>,
) -> Result<Response, ApiError> {
    authorize(&app, &principal, Action::ReadMailbox, "webhook").await?;
    let Json(body) = body.map_err(|e| ApiError::bad_request("H0463", e.body_text()))?;
    let valid = body.url.len() <= 2048
        && body
            .url
            .strip_prefix("http://")
            .is_some_and(|rest| !rest.is_empty() && !rest.starts_with('/'));
    if !valid {
        return Err(ApiError::bad_request(
            "H0463",
            "url: an http:// URL of at most 2048 bytes (put TLS in front of the receiver)",
        ));
    }
    blocking(move || {
        let hook = Webhook {
            party: principal.party.clone(),
            url: body.url,
            failures: 0,
        };
        append(&app, REGISTERED, &hook, &principal.origin)?;
        Ok((
            StatusCode::CREATED,
            Json(status_of(&app, &principal.party)?),
        )
            .into_response())
    })
    .await
}

fn status_of(app: &App, party: &str) -> Result<serde_json::Value, ApiError> {
    let rows = app
        .store
        .query(&Statement::new(
            "SELECT url, state, updated_ms FROM webhook WHERE party = ?1",
            vec![Value::Text(party.to_owned())],
        ))
        .map_err(ApiError::store)?;
    let row = rows
        .first()
        .ok_or_else(|| ApiError::not_found("H0464", "no webhook registered"))?;
    Ok(serde_json::json!({
        "party": party,
        "url": as_text(row.first()),
        "state": as_text(row.get(1)),
        "since": crate::declarations::time_text(as_int(row.get(2))),
        "acknowledged": crate::exchange::acknowledged(app, party)?,
    }))
}

/// `GET /api/v1/mailbox/webhook`: the caller's party's webhook and its state.
pub(crate) async fn show(
    State(app): State<Arc<App>>,
    principal: Principal,
) -> Result<Response, ApiError> {
    authorize(&app, &principal, Action::ReadMailbox, "webhook").await?;
    blocking(move || Ok(Json(status_of(&app, &principal.party)?).into_response())).await
}

/// The delivery thread's state: per party, failures in a row and when to try next.
#[derive(Default)]
struct Backoff(HashMap<String, (u32, Instant)>);

/// The thread that pushes mailboxes to webhooks, until stopped.
pub struct Deliverer {
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Deliverer {
    /// Starts delivering `app`'s mailboxes.
    pub fn start(app: Arc<App>) -> Self {
        let stop = Arc::new(AtomicBool::new(false));
        let stopping = stop.clone();
        let thread = std::thread::Builder::new()
            .name("jinguan-delivery".into())
            .spawn(move || {
                let agent = ureq::AgentBuilder::new()
                    .timeout(app.delivery.timeout)
                    .redirects(0)
                    .build();
                let mut backoff = Backoff::default();
                let mut pruned = Instant::now();
                while !stopping.load(Ordering::Relaxed) {
                    // A round that fails (the store unreachable) is tried again next tick.
                    let _ = round(&app, &agent, &mut backoff);
                    if pruned.elapsed() >= app.delivery.housekeeping {
                        let _ = crate::exchange::prune(&app);
                        pruned = Instant::now();
                    }
                    std::thread::sleep(app.delivery.tick);
                }
            })
            .ok();
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

fn round(app: &App, agent: &ureq::Agent, backoff: &mut Backoff) -> Result<(), ApiError> {
    let hooks = app
        .store
        .query(&Statement::new(
            "SELECT party, url FROM webhook WHERE state = 'active' ORDER BY party",
            vec![],
        ))
        .map_err(ApiError::store)?;
    let now = Instant::now();
    for hook in hooks {
        let (party, url) = (as_text(hook.first()), as_text(hook.get(1)));
        if backoff.0.get(&party).is_some_and(|(_, next)| *next > now) {
            continue;
        }
        let acked = crate::exchange::acknowledged(app, &party)?;
        let messages = crate::exchange::messages_after(app, &party, acked, 100)?;
        let Some(last) = messages.last().and_then(|m| m["cursor"].as_i64()) else {
            continue;
        };
        let body = serde_json::to_vec(&serde_json::json!({"party": party, "messages": messages}))
            .map_err(crate::internal)?;
        let signature = app
            .authority
            .sign_detached(&body)
            .map_err(crate::internal)?;
        let answer = agent
            .post(&url)
            .set("Content-Type", "application/json")
            .set("X-Jws-Signature", &signature)
            .send_bytes(&body);
        let at_ms = app.clock.now_ms();
        // Named by party, cursor and time: a second dead letter at the same cursor (after
        // the party resumed it) is a new entry, not a repeat of the first.
        let origin = crate::origin::Origin {
            request: format!("delivery/{party}/{last}/{at_ms}"),
            from: None,
            at_ms,
        };
        match answer {
            Ok(response) if (200..300).contains(&response.status()) => {
                backoff.0.remove(&party);
                let _guard = app.stripe(&format!("mailbox/{party}"));
                // The party may have acknowledged meanwhile by pulling.
                if crate::exchange::acknowledged(app, &party)? < last {
                    crate::exchange::record_ack(app, &party, last, &origin)?;
                }
            }
            _ => {
                let failures = backoff.0.get(&party).map_or(0, |(n, _)| *n) + 1;
                if failures >= app.delivery.max_failures {
                    backoff.0.remove(&party);
                    let hook = Webhook {
                        party: party.clone(),
                        url,
                        failures,
                    };
                    append(app, DEAD, &hook, &origin)?;
                } else {
                    let wait =
                        Duration::from_millis(100 << failures.min(7)).min(Duration::from_secs(10));
                    backoff.0.insert(party, (failures, Instant::now() + wait));
                }
            }
        }
    }
    Ok(())
}
