//! Where a request came from: the "from where" of every audit record.
//!
//! A layer gives each request an id (answered in `X-Request-Id`) and notes the peer's
//! address; [`crate::auth::Principal`] carries both to whatever the request writes, so every
//! ledger entry a request causes, a change or a refusal, names the request and its address.
//! The address is the TCP peer's: a forwarding header is the client's word and is not taken.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::OnceLock;

use axum::extract::{ConnectInfo, Request};
use axum::http::HeaderValue;
use axum::middleware::Next;
use axum::response::Response;
use serde::{Deserialize, Serialize};

/// The request an entry was written for.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Origin {
    /// The request's id, as answered in `X-Request-Id`.
    pub request: String,
    /// The peer's IP address, when the request came over a socket.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from: Option<String>,
    /// When the request arrived (ms since the Unix epoch): a message's "received" in its
    /// trace.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub at_ms: i64,
}

fn is_zero(value: &i64) -> bool {
    *value == 0
}

/// A new request id: this process's random prefix and a counter, so ids never repeat
/// within a process and practically never across processes or restarts, without asking the
/// operating system for randomness on every request.
pub(crate) fn next_id() -> String {
    static PREFIX: OnceLock<String> = OnceLock::new();
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let prefix =
        PREFIX.get_or_init(|| jinguan_crypto::hex::encode(&jinguan_crypto::random_bytes::<8>()));
    format!("{prefix}-{}", COUNTER.fetch_add(1, Ordering::Relaxed))
}

/// The layer: an [`Origin`] in the request's extensions, its id in the response's
/// `X-Request-Id`.
pub(crate) async fn layer(mut request: Request, next: Next) -> Response {
    let from = request
        .extensions()
        .get::<ConnectInfo<SocketAddr>>()
        .map(|info| info.0.ip().to_string());
    let at_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
    let origin = Origin {
        request: next_id(),
        from,
        at_ms,
    };
    let header = HeaderValue::from_str(&origin.request).ok();
    request.extensions_mut().insert(origin);
    let mut response = next.run(request).await;
    if let Some(header) = header {
        response.headers_mut().insert("x-request-id", header);
    }
    response
}

/// `payload` as the JSON object it serialises to, with `origin` added: how entries whose
/// payload is a domain value (a rule set, a certificate) say which request wrote them.
pub(crate) fn stamped(
    payload: &impl Serialize,
    origin: &Origin,
) -> Result<Vec<u8>, serde_json::Error> {
    let mut value = serde_json::to_value(payload)?;
    if let serde_json::Value::Object(map) = &mut value {
        map.insert("origin".into(), serde_json::to_value(origin)?);
    }
    serde_json::to_vec(&value)
}
