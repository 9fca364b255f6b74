//! The parties registry: enterprises, brokers and agencies (customs, licensing, tax, forex,
//! banks) with their people, each registration and change an entry of the `parties` ledger.
//!
//! A party's code is the one its tokens and certificates carry. What the registry says
//! decides three things elsewhere:
//!
//! - a customs party's **districts** are its officers' remit (the declarations they reach);
//!   a customs code not registered reaches by its own shape — `0000` (the General
//!   Administration) every district, `xx00` (a directly-under customs) its `xx..` districts,
//!   any other code that district alone;
//! - an enterprise's or broker's **banks** (its tax-payment agreements) are the banks that
//!   reach its declarations, to pay or guarantee them; a bank reaches nothing else;
//! - an enterprise's **credit class** (`advanced`, `general`, `dishonest`) is what selectivity
//!   sees for the declarations it is consignee or consignor of (`general` when unregistered).
//!
//! | route | who |
//! |---|---|
//! | `POST /api/v1/parties` | admin: register (`201`; `409 H0451` when the code exists) |
//! | `PUT /api/v1/parties/{code}` | admin: change (`200`; `404 H0453` unknown) |
//! | `GET /api/v1/parties/{code}` | admin and officers any; a party its own (else `404`) |
//! | `GET /api/v1/parties` | admin and officers |

use std::sync::Arc;

use axum::extract::rejection::JsonRejection;
use axum::extract::{Path as UrlPath, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use jinguan_ledger::{Entry, Submission};
use jinguan_store::projection::{Dialect, Projection, Statement, Value};
use serde::{Deserialize, Serialize};

use crate::auth::{Principal, Role};
use crate::authz::{authorize, Action};
use crate::{blocking, ApiError, App};

/// The ledger the registry is kept in.
pub const PARTIES_LEDGER: &str = "parties";
/// Entry kind of a registration.
pub const REGISTERED: &str = "party.registered";
/// Entry kind of a change.
pub const CHANGED: &str = "party.changed";

/// What kind of party.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
    /// An importer or exporter (境内收发货人, 生产销售单位).
    Enterprise,
    /// A customs broker (报关企业).
    Broker,
    /// A customs office: the General Administration, a directly-under customs or a district.
    Customs,
    /// A licensing authority (MOFCOM and others issuing 监管证件).
    Licensing,
    /// A tax office.
    Tax,
    /// A foreign-exchange office (SAFE).
    Forex,
    /// A bank.
    Bank,
}

/// A person acting for a party.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Person {
    /// The party's own id for the person (staff number, 报关员 number).
    pub id: String,
    /// Name.
    pub name: String,
    /// Role on the platform (`officer`, `broker`, …).
    pub role: Role,
}

/// A party as registered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Party {
    /// The code its tokens and certificates carry.
    pub code: String,
    /// What it is.
    pub kind: Kind,
    /// Registered name.
    pub name: String,
    /// Unified social credit code (18 characters, checked).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uscc: Option<String>,
    /// Customs registration code (10 characters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customs_code: Option<String>,
    /// Inspection (CIQ) registration code (10 digits).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ciq_code: Option<String>,
    /// Address.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub address: String,
    /// Enterprises and brokers: `advanced`, `general` or `dishonest`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credit_class: Option<String>,
    /// Customs: the districts (4-digit codes) its officers act in.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub districts: Vec<String>,
    /// Enterprises and brokers: the banks that pay their duties (bank party codes).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub banks: Vec<String>,
    /// Its people.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub people: Vec<Person>,
    /// Days its acknowledged mailbox messages stay readable in the embedded exchange (the
    /// platform's default when unset); past that, the ledger reference is what remains.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mailbox_retention_days: Option<u32>,
}

fn invalid(message: impl Into<String>) -> ApiError {
    ApiError::bad_request("H0450", message)
}

fn code_ok(code: &str) -> bool {
    (1..=64).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

impl Party {
    /// Checks what a registration or change may say (`400 H0450`).
    pub fn check(&self) -> Result<(), ApiError> {
        if !code_ok(&self.code) {
            return Err(invalid(format!(
                "code {:?}: 1 to 64 letters, digits or '-'",
                self.code
            )));
        }
        if self
            .mailbox_retention_days
            .is_some_and(|days| days > 36_500)
        {
            return Err(invalid(
                "mailbox_retention_days: at most 36500 (a hundred years)",
            ));
        }
        if self.name.trim().is_empty() || self.name.len() > 200 || self.address.len() > 400 {
            return Err(invalid("name: 1 to 200 bytes; address: at most 400"));
        }
        if let Some(uscc) = &self.uscc {
            jinguan_types::Uscc::parse(uscc).map_err(|e| invalid(format!("uscc: {e}")))?;
        }
        if let Some(code) = &self.customs_code {
            jinguan_types::CustomsCode::parse(code)
                .map_err(|e| invalid(format!("customs_code: {e}")))?;
        }
        if let Some(ciq) = &self.ciq_code {
            if ciq.len() != 10 || !ciq.bytes().all(|b| b.is_ascii_digit()) {
                return Err(invalid("ciq_code: 10 digits"));
            }
        }
        let trader = matches!(self.kind, Kind::Enterprise | Kind::Broker);
        match &self.credit_class {
            Some(class) if !trader => {
                return Err(invalid(format!(
                    "credit_class {class:?}: only enterprises and brokers have one"
                )))
            }
            Some(class) if !matches!(class.as_str(), "advanced" | "general" | "dishonest") => {
                return Err(invalid(format!(
                    "credit_class {class:?}: advanced, general or dishonest"
                )))
            }
            _ => {}
        }
        if !self.districts.is_empty() && self.kind != Kind::Customs {
            return Err(invalid("districts: only a customs party has them"));
        }
        if let Some(bad) = self
            .districts
            .iter()
            .find(|d| d.len() != 4 || !d.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(invalid(format!("district {bad:?}: 4 digits")));
        }
        if !self.banks.is_empty() && !trader {
            return Err(invalid("banks: only enterprises and brokers name banks"));
        }
        if let Some(bad) = self.banks.iter().find(|b| !code_ok(b)) {
            return Err(invalid(format!("bank {bad:?}: a party code")));
        }
        if self.people.len() > 1000 {
            return Err(invalid("people: at most 1000"));
        }
        if let Some(bad) = self
            .people
            .iter()
            .find(|p| p.id.is_empty() || p.id.len() > 64 || p.name.trim().is_empty())
        {
            return Err(invalid(format!(
                "person {:?}: an id (1 to 64) and a name",
                bad.id
            )));
        }
        Ok(())
    }
}

/// The registry's tables: `party` (one row per party, its record as JSON), `party_district`
/// (customs party → district) and `party_bank` (enterprise or broker → bank).
pub struct PartyTables;

impl Projection for PartyTables {
    fn name(&self) -> &str {
        "parties"
    }

    fn create(&self, dialect: Dialect) -> Vec<String> {
        let clustered = dialect.clustered();
        vec![
            format!(
                "CREATE TABLE IF NOT EXISTS party (
                code TEXT PRIMARY KEY, kind TEXT NOT NULL, uscc TEXT NOT NULL,
                customs_code TEXT NOT NULL, credit_class TEXT NOT NULL, version BIGINT NOT NULL,
                record TEXT NOT NULL){clustered}"
            ),
            "CREATE INDEX IF NOT EXISTS party_uscc ON party (uscc)".into(),
            "CREATE INDEX IF NOT EXISTS party_customs_code ON party (customs_code)".into(),
            format!(
                "CREATE TABLE IF NOT EXISTS party_district (
                party TEXT NOT NULL, district TEXT NOT NULL,
                PRIMARY KEY (party, district)){clustered}"
            ),
            format!(
                "CREATE TABLE IF NOT EXISTS party_bank (
                bank TEXT NOT NULL, party TEXT NOT NULL, PRIMARY KEY (bank, party)){clustered}"
            ),
        ]
    }

    fn reset(&self) -> Vec<String> {
        vec![
            "DELETE FROM party".into(),
            "DELETE FROM party_district".into(),
            "DELETE FROM party_bank".into(),
        ]
    }

    fn apply(&self, entry: &Entry) -> Vec<Statement> {
        if entry.kind != REGISTERED && entry.kind != CHANGED {
            return Vec::new();
        }
        let Ok(party) = serde_json::from_slice::<Party>(&without_origin(&entry.payload)) else {
            return Vec::new();
        };
        let code = Value::Text(party.code.clone());
        let mut statements =
            vec![
            Statement::new(
                "INSERT INTO party (code, kind, uscc, customs_code, credit_class, version, record)
                 VALUES (?1, ?2, ?3, ?4, ?5, 1, ?6)
                 ON CONFLICT (code) DO UPDATE SET kind = ?2, uscc = ?3, customs_code = ?4,
                     credit_class = ?5, version = party.version + 1, record = ?6",
                vec![
                    code.clone(),
                    Value::Text(kind_name(party.kind).into()),
                    Value::Text(party.uscc.clone().unwrap_or_default()),
                    Value::Text(party.customs_code.clone().unwrap_or_default()),
                    Value::Text(party.credit_class.clone().unwrap_or_default()),
                    Value::Text(serde_json::to_string(&party).unwrap_or_default()),
                ],
            ),
            Statement::new("DELETE FROM party_district WHERE party = ?1", vec![code.clone()]),
            Statement::new("DELETE FROM party_bank WHERE party = ?1", vec![code.clone()]),
        ];
        for district in &party.districts {
            statements.push(Statement::new(
                "INSERT INTO party_district (party, district) VALUES (?1, ?2)
                 ON CONFLICT DO NOTHING",
                vec![code.clone(), Value::Text(district.clone())],
            ));
        }
        for bank in &party.banks {
            statements.push(Statement::new(
                "INSERT INTO party_bank (bank, party) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
                vec![Value::Text(bank.clone()), code.clone()],
            ));
        }
        statements
    }
}

/// A registry entry's payload without the request's origin the server stamped on it.
fn without_origin(payload: &[u8]) -> Vec<u8> {
    match serde_json::from_slice::<serde_json::Value>(payload) {
        Ok(serde_json::Value::Object(mut map)) => {
            map.remove("origin");
            serde_json::to_vec(&map).unwrap_or_default()
        }
        _ => payload.to_vec(),
    }
}

fn kind_name(kind: Kind) -> &'static str {
    match kind {
        Kind::Enterprise => "enterprise",
        Kind::Broker => "broker",
        Kind::Customs => "customs",
        Kind::Licensing => "licensing",
        Kind::Tax => "tax",
        Kind::Forex => "forex",
        Kind::Bank => "bank",
    }
}

/// The registered party `code`, if any.
pub(crate) fn find(app: &App, code: &str) -> Result<Option<(Party, i64)>, ApiError> {
    let rows = app
        .store
        .query(&Statement::new(
            "SELECT record, version FROM party WHERE code = ?1",
            vec![Value::Text(code.to_owned())],
        ))
        .map_err(ApiError::store)?;
    Ok(rows.first().and_then(|row| {
        let record = crate::declarations::as_text(row.first());
        let version = crate::declarations::as_int(row.get(1));
        serde_json::from_str(&record).ok().map(|p| (p, version))
    }))
}

/// The credit class of the first of `codes` (USCC, customs code or party code, in order of
/// preference) that is registered with one; `general` when none is.
pub(crate) fn credit_class(app: &App, codes: &[&str]) -> Result<String, ApiError> {
    let codes: Vec<&str> = codes.iter().copied().filter(|c| !c.is_empty()).collect();
    if codes.is_empty() {
        return Ok("general".into());
    }
    // Read as last read where this node is the store's sole writer and no party was written
    // since: selectivity asks for every message.
    let kept = app.store.sole_writer();
    let key = codes.join("\n");
    let generation = app.credit_classes.generation();
    if kept {
        if let Some(class) = app.credit_classes.get(&key, generation) {
            return Ok(class);
        }
    }
    let marks = crate::declarations::placeholders(codes.len());
    let rows = app
        .store
        .query(&Statement::new(
            format!(
                "SELECT code, uscc, customs_code, credit_class FROM party
                 WHERE credit_class <> ''
                   AND (code IN ({marks}) OR uscc IN ({marks}) OR customs_code IN ({marks}))"
            ),
            codes.iter().map(|c| Value::Text((*c).to_owned())).collect(),
        ))
        .map_err(ApiError::store)?;
    let text = |row: &Vec<Value>, i: usize| crate::declarations::as_text(row.get(i));
    let class = codes
        .iter()
        .find_map(|code| {
            rows.iter()
                .find(|row| (0..3).any(|i| text(row, i) == *code))
                .map(|row| text(row, 3))
        })
        .unwrap_or_else(|| "general".into());
    if kept {
        app.credit_classes.put(key, generation, class.clone());
    }
    Ok(class)
}

/// Which declarations `principal` reaches, as a condition on the `decl` table with one `#`
/// for its one value; `None`: all of them.
pub(crate) fn reach(app: &App, principal: &Principal) -> Result<Option<(String, Value)>, ApiError> {
    let party = Value::Text(principal.party.clone());
    Ok(match principal.role {
        Role::Enterprise | Role::Broker => Some((
            "entry_id IN (SELECT entry_id FROM decl_party WHERE party = #)".into(),
            party,
        )),
        Role::Bank => Some((
            "entry_id IN (SELECT p.entry_id FROM decl_party p
                 JOIN party_bank b ON b.party = p.party WHERE b.bank = #)"
                .into(),
            party,
        )),
        Role::Officer => {
            let registered = find(app, &principal.party)?
                .filter(|(p, _)| p.kind == Kind::Customs && !p.districts.is_empty());
            let code = principal.party.as_str();
            if registered.is_some() {
                Some((
                    "customs IN (SELECT district FROM party_district WHERE party = #)".into(),
                    party,
                ))
            } else if code == "0000" {
                None
            } else if code.len() == 4 && code.ends_with("00") && code.is_ascii() {
                Some((
                    "customs LIKE #".into(),
                    Value::Text(format!("{}%", &code[..2])),
                ))
            } else {
                Some(("customs = #".into(), party))
            }
        }
        Role::Admin => None,
    })
}

fn append(
    app: &App,
    principal: &Principal,
    kind: &str,
    party: &Party,
    version: i64,
) -> Result<(), ApiError> {
    let appended = app
        .store
        .append(
            PARTIES_LEDGER,
            Submission {
                kind: kind.into(),
                schema_version: 1,
                submitter: principal.party.clone(),
                submission_id: format!("{}/v{version}", party.code),
                payload: crate::origin::stamped(party, &principal.origin)
                    .map_err(crate::internal)?,
                submitter_signature: None,
            },
        )
        .map_err(ApiError::store);
    // Written (or not): classes read before are read again.
    app.credit_classes.changed();
    appended.map(drop)
}

fn body_of(body: Result<Json<Party>, JsonRejection>) -> Result<Party, ApiError> {
    let Json(party) = body.map_err(|e| invalid(e.body_text()))?;
    party.check()?;
    Ok(party)
}

/// `POST /api/v1/parties` (admin).
pub(crate) async fn register(
    State(app): State<Arc<App>>,
    principal: Principal,
    body: Result<Json<Party>, JsonRejection>,
) -> Result<Response, ApiError> {
    authorize(&app, &principal, Action::RegisterParty, "parties").await?;
    let party = body_of(body)?;
    blocking(move || {
        let _guard = app.stripe(&format!("party/{}", party.code));
        if find(&app, &party.code)?.is_some() {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "conflict",
                "H0451",
                format!("party {} is registered: change it with PUT", party.code),
            ));
        }
        append(&app, &principal, REGISTERED, &party, 1)?;
        Ok((StatusCode::CREATED, Json(json_of(&party, 1))).into_response())
    })
    .await
}

/// `PUT /api/v1/parties/{code}` (admin): the party as it now is, whole.
pub(crate) async fn change(
    State(app): State<Arc<App>>,
    principal: Principal,
    UrlPath(code): UrlPath<String>,
    body: Result<Json<Party>, JsonRejection>,
) -> Result<Response, ApiError> {
    authorize(&app, &principal, Action::RegisterParty, &code).await?;
    let party = body_of(body)?;
    if party.code != code {
        return Err(invalid(format!(
            "the body is for {}, the path for {code}",
            party.code
        )));
    }
    blocking(move || {
        let _guard = app.stripe(&format!("party/{code}"));
        let Some((current, version)) = find(&app, &code)? else {
            return Err(ApiError::not_found(
                "H0453",
                format!("no party {code} to change: register it with POST"),
            ));
        };
        if current == party {
            return Ok(Json(json_of(&party, version)).into_response());
        }
        append(&app, &principal, CHANGED, &party, version + 1)?;
        Ok(Json(json_of(&party, version + 1)).into_response())
    })
    .await
}

fn json_of(party: &Party, version: i64) -> serde_json::Value {
    let mut value = serde_json::to_value(party).unwrap_or_default();
    if let serde_json::Value::Object(map) = &mut value {
        map.insert("version".into(), version.into());
    }
    value
}

/// `GET /api/v1/parties/{code}`.
pub(crate) async fn show(
    State(app): State<Arc<App>>,
    principal: Principal,
    UrlPath(code): UrlPath<String>,
) -> Result<Response, ApiError> {
    authorize(&app, &principal, Action::ReadParties, &code).await?;
    blocking(move || {
        let sees_all = matches!(principal.role, Role::Admin | Role::Officer);
        match find(&app, &code)? {
            Some((party, version)) if sees_all || principal.party == code => {
                Ok(Json(json_of(&party, version)).into_response())
            }
            // Another's, or none: the same answer, audited like any refusal to reach.
            _ => Err(crate::audit::denied(
                &app,
                &principal,
                "read_party",
                &code,
                b"",
                ApiError::not_found("H0452", format!("no party {code}")),
            )),
        }
    })
    .await
}

/// `GET /api/v1/parties` (admin, officers): every party, by code.
pub(crate) async fn list(
    State(app): State<Arc<App>>,
    principal: Principal,
) -> Result<Response, ApiError> {
    authorize(&app, &principal, Action::ListParties, "parties").await?;
    blocking(move || {
        let rows = app
            .store
            .query(&Statement::new(
                "SELECT record, version FROM party ORDER BY code LIMIT 10000",
                vec![],
            ))
            .map_err(ApiError::store)?;
        let parties: Vec<serde_json::Value> = rows
            .iter()
            .filter_map(|row| {
                let party: Party =
                    serde_json::from_str(&crate::declarations::as_text(row.first())).ok()?;
                Some(json_of(&party, crate::declarations::as_int(row.get(1))))
            })
            .collect();
        Ok(Json(serde_json::json!({ "parties": parties })).into_response())
    })
    .await
}
