//! Routing: which module handles an inbound message, decided by a table that is data.
//!
//! `POST /api/v1/messages` is the exchange's one door for every family: the message's type is
//! read off its bytes ([`identify`]: the root element of XML, the `UNH` message type of
//! EDIFACT, the content type of JSON), looked up in the routing table, and handed to the
//! module that route names; a type no route takes is answered `422 H0470` naming the types
//! that are routable, and nothing is recorded. The table ships as `routes.json` beside this
//! crate and is what `GET /api/v1/routes` shows; a module a route names must exist, checked
//! when the table is read, so a typo cannot silently drop a family. Who receives the
//! outcome is the module's business: the clearance module puts each receipt in the mailbox
//! of every party the declaration names ([`crate::record`]).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::{Deserialize, Serialize};

use crate::auth::Principal;
use crate::{ApiError, App};

/// The modules messages can be routed to.
pub const MODULES: &[&str] = &["bonded", "clearance", "crossborder", "dxp", "logistics"];

/// The shipped routing table.
pub const SHIPPED: &str = include_str!("../routes.json");

/// A message's syntax, as the exchange tells it apart.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Syntax {
    /// JSON (`application/json`).
    Json,
    /// XML (`application/xml`, `text/xml`).
    Xml,
    /// UN/EDIFACT (`application/edifact`, or text starting `UNA`/`UNB`).
    Edifact,
}

/// One route: messages of `syntax` and `message_type` go to `module`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Route {
    /// The syntax.
    pub syntax: Syntax,
    /// The type: XML's root element (local name), EDIFACT's `UNH` message type, or
    /// `declaration` for JSON.
    pub message_type: String,
    /// The module that handles it (one of [`MODULES`]).
    pub module: String,
    /// What the route is for, for people reading the table.
    #[serde(default)]
    pub description: String,
}

/// The routing table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Routes {
    routes: Vec<Route>,
}

/// A message no route takes, or that cannot be told apart.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Unroutable {
    /// Its type has no route.
    #[error("H0470: no route for {syntax:?} message type {message_type:?}; routable: {routable}")]
    NoRoute {
        /// The syntax read.
        syntax: Syntax,
        /// The type read.
        message_type: String,
        /// The routes there are, as `syntax/type`.
        routable: String,
    },
    /// Its type could not be read.
    #[error("H0471: {0}")]
    Unknown(String),
}

impl Unroutable {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NoRoute { .. } => "H0470",
            Self::Unknown(_) => "H0471",
        }
    }
}

impl Routes {
    /// Reads a table (JSON: `{"routes": [...]}`), refusing a route to a module that does
    /// not exist or two routes for one type.
    pub fn from_json(text: &str) -> Result<Self, String> {
        let routes: Self = serde_json::from_str(text).map_err(|e| format!("routing table: {e}"))?;
        for (i, route) in routes.routes.iter().enumerate() {
            if !MODULES.contains(&route.module.as_str()) {
                return Err(format!(
                    "routing table: route {i} names module {:?}; modules are {MODULES:?}",
                    route.module
                ));
            }
            if routes.routes[..i]
                .iter()
                .any(|r| r.syntax == route.syntax && r.message_type == route.message_type)
            {
                return Err(format!(
                    "routing table: two routes for {:?} {:?}",
                    route.syntax, route.message_type
                ));
            }
        }
        Ok(routes)
    }

    /// The shipped table.
    pub fn shipped() -> Self {
        // Checked by a unit test; a shipped table that does not read is a build defect.
        Self::from_json(SHIPPED).unwrap_or(Self { routes: Vec::new() })
    }

    /// The routes, in order.
    pub fn routes(&self) -> &[Route] {
        &self.routes
    }

    /// The route for a message of `content_type` with `body`.
    pub fn route(&self, content_type: &str, body: &[u8]) -> Result<&Route, Unroutable> {
        let (syntax, message_type) = identify(content_type, body)?;
        self.routes
            .iter()
            .find(|r| r.syntax == syntax && r.message_type == message_type)
            .ok_or_else(|| Unroutable::NoRoute {
                syntax,
                message_type,
                routable: self
                    .routes
                    .iter()
                    .map(|r| format!("{:?}/{}", r.syntax, r.message_type).to_lowercase())
                    .collect::<Vec<_>>()
                    .join(", "),
            })
    }
}

/// How far into a message its type is looked for: a prolog, comments or an EDIFACT service
/// string advice come first, never kilobytes of them.
const SNIFF_BYTES: usize = 4096;

/// A message's syntax and type, read off its first bytes without parsing the whole.
pub fn identify(content_type: &str, body: &[u8]) -> Result<(Syntax, String), Unroutable> {
    let head = &body[..body.len().min(SNIFF_BYTES)];
    match content_type {
        "application/json" => Ok((Syntax::Json, "declaration".into())),
        "application/xml" | "text/xml" => {
            let root = xml_root(head)?;
            // The 金关二期 envelope's root says nothing of what it carries: its type is the
            // envelope's message_type (`Package/INV101`).
            if root == "Package" || root == "Signature" {
                return Ok((Syntax::Xml, format!("Package/{}", envelope_type(head))));
            }
            Ok((Syntax::Xml, root))
        }
        "application/edifact" => Ok((Syntax::Edifact, edifact_type(head)?)),
        other => Err(Unroutable::Unknown(format!(
            "content type {other:?}: send application/json, application/xml or \
             application/edifact"
        ))),
    }
}

/// The local name of the first element: after the XML declaration, processing
/// instructions, comments and a doctype.
fn xml_root(head: &[u8]) -> Result<String, Unroutable> {
    let text = String::from_utf8_lossy(head);
    let mut rest = text.trim_start_matches('\u{feff}');
    loop {
        rest = rest.trim_start();
        if let Some(after) = rest.strip_prefix("<?") {
            rest = after.split_once("?>").map(|(_, r)| r).unwrap_or("");
        } else if let Some(after) = rest.strip_prefix("<!--") {
            rest = after.split_once("-->").map(|(_, r)| r).unwrap_or("");
        } else if let Some(after) = rest.strip_prefix("<!") {
            rest = after.split_once('>').map(|(_, r)| r).unwrap_or("");
        } else if let Some(after) = rest.strip_prefix('<') {
            let name: String = after
                .chars()
                .take_while(|c| !c.is_whitespace() && *c != '>' && *c != '/')
                .collect();
            let local = name.rsplit(':').next().unwrap_or("").to_owned();
            return if local.is_empty() {
                Err(Unroutable::Unknown("no root element".into()))
            } else {
                Ok(local)
            };
        } else {
            return Err(Unroutable::Unknown(
                "not XML: no root element in the first 4 KiB".into(),
            ));
        }
    }
}

/// The `message_type` of a 金关二期 envelope (`EnvelopInfo` comes before the payload, within
/// the first bytes), or empty.
fn envelope_type(head: &[u8]) -> String {
    let text = String::from_utf8_lossy(head);
    text.split_once("<message_type>")
        .and_then(|(_, rest)| rest.split_once("</message_type>"))
        .map(|(value, _)| value.trim().to_owned())
        .filter(|v| v.len() <= 16 && v.chars().all(|c| c.is_ascii_alphanumeric()))
        .unwrap_or_default()
}

/// The message type of the first `UNH` segment (its `S009` element's first component).
fn edifact_type(head: &[u8]) -> Result<String, Unroutable> {
    let text = String::from_utf8_lossy(head);
    // The service string advice, when there is one, says which characters separate.
    let (component, element, segment) = match text.strip_prefix("UNA") {
        Some(una) if una.chars().count() >= 6 => {
            let c: Vec<char> = una.chars().take(6).collect();
            (c[0], c[1], c[5])
        }
        _ => (':', '+', '\''),
    };
    let unh = text
        .split(segment)
        .map(str::trim)
        .find(|s| s.starts_with("UNH"))
        .ok_or_else(|| Unroutable::Unknown("EDIFACT without a UNH segment".into()))?;
    let message_type = unh
        .split(element)
        .nth(2)
        .and_then(|s009| s009.split(component).next())
        .filter(|t| !t.is_empty())
        .ok_or_else(|| Unroutable::Unknown("UNH without a message type".into()))?;
    Ok(message_type.to_owned())
}

/// `POST /api/v1/messages`: any inbound message, routed by its type to its module.
pub(crate) async fn inbound(
    State(app): State<Arc<App>>,
    principal: Result<Principal, ApiError>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    // Who sends comes first: an unauthenticated caller learns nothing of the table.
    let principal = principal?;
    if let Ok(bytes) = &body {
        let content_type = crate::declarations::content_type(&headers);
        let route = app.routes.route(&content_type, bytes).map_err(|e| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "unroutable",
                e.code(),
                e.to_string(),
            )
        })?;
        match route.module.as_str() {
            "clearance" => {}
            "crossborder" => {
                return crate::crossborder::receive(app, principal, headers, body).await;
            }
            "dxp" => {
                return crate::crossborder::receive_dxp(app, principal, headers, body).await;
            }
            "bonded" => {
                return crate::bonded::receive(app, principal, headers, body).await;
            }
            "logistics" => {
                return crate::interchanges::receive_manifest(app, principal, body).await;
            }
            other => return Err(crate::internal(format!("no module {other}"))),
        }
    }
    // A body that could not be read is the module's to refuse, as at its own door.
    crate::declarations::declare(State(app), Ok(principal), headers, body).await
}

/// `GET /api/v1/routes`: the routing table (public: it says what the exchange takes).
pub(crate) async fn table(State(app): State<Arc<App>>) -> Response {
    Json(app.routes.clone()).into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shipped_table_reads_and_routes_declarations() {
        let routes = Routes::from_json(SHIPPED).unwrap();
        assert_eq!(routes, Routes::shipped());
        let xml = b"<?xml version=\"1.0\"?>\n<!-- x --><DecMessage xmlns=\"http://www.chinaport.gov.cn/dec\">";
        assert_eq!(
            routes.route("application/xml", xml).unwrap().module,
            "clearance"
        );
        let wrapped = b"<ns:ImportMessage xmlns:ns=\"x\"/>";
        assert_eq!(
            routes.route("text/xml", wrapped).unwrap().module,
            "clearance"
        );
        assert_eq!(
            routes.route("application/json", b"{}").unwrap().module,
            "clearance"
        );
    }

    #[test]
    fn what_no_route_takes_is_named() {
        let routes = Routes::shipped();
        // Enterprises send CEB311; CEB312 is customs' receipt, which nobody sends in.
        assert_eq!(
            routes
                .route("application/xml", b"<ceb:CEB311Message guid=\"1\">")
                .unwrap()
                .module,
            "crossborder"
        );
        let ceb = routes
            .route("application/xml", b"<CEB312Message guid=\"1\">")
            .unwrap_err();
        assert_eq!(ceb.code(), "H0470");
        assert!(ceb.to_string().contains("CEB312Message"), "{ceb}");
        let orders = routes
            .route(
                "application/edifact",
                b"UNA:+.? 'UNB+UNOC:3+A+B+261128:1200+1'UNH+1+ORDERS:D:96A:UN'",
            )
            .unwrap_err();
        assert!(orders.to_string().contains("\"ORDERS\""), "{orders}");
        let cusdec = b"UNA:+.? 'UNB+UNOC:3+A+B+261128:1200+1'UNH+1+CUSDEC:D:96B:UN'";
        assert_eq!(
            routes.route("application/edifact", cusdec).unwrap().module,
            "clearance"
        );
        let odd = routes
            .route(
                "application/edifact",
                b"UNA|*.? 'UNB*UNOC|3*A*B'UNH*1*CUSRES|D|96B|UN'",
            )
            .unwrap_err();
        assert!(odd.to_string().contains("\"CUSRES\""), "{odd}");
        assert_eq!(
            routes.route("application/xml", b"   ").unwrap_err().code(),
            "H0471"
        );
        assert_eq!(routes.route("image/png", b"x").unwrap_err().code(), "H0471");
        // 金关二期: the envelope's message_type decides.
        let inv = b"<Signature><SignedInfo/><Object><Package><EnvelopInfo><version>1.0</version>\
                    <message_type>INV101</message_type>";
        assert_eq!(
            routes.route("application/xml", inv).unwrap().module,
            "bonded"
        );
        let ems = b"<Package><EnvelopInfo><message_type>EMS111</message_type>";
        let refused = routes.route("application/xml", ems).unwrap_err();
        assert!(refused.to_string().contains("Package/EMS111"), "{refused}");
    }

    #[test]
    fn a_table_naming_no_such_module_is_refused() {
        let bad = r#"{"routes": [{"syntax": "xml", "message_type": "X", "module": "nowhere"}]}"#;
        assert!(Routes::from_json(bad).unwrap_err().contains("nowhere"));
        let twice = r#"{"routes": [{"syntax": "xml", "message_type": "X", "module": "clearance"},
                                   {"syntax": "xml", "message_type": "X", "module": "clearance"}]}"#;
        assert!(Routes::from_json(twice).unwrap_err().contains("two routes"));
    }
}
