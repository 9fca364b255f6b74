//! Certificates and signed submissions.
//!
//! The platform CA (`Authority`: an SM2 key and its self-signed certificate, kept in the data
//! directory) certifies the keys of parties and their people. Every certificate issued and
//! every revocation is an entry in the `pki` ledger, and the `certificate` table follows it,
//! so the registry is as tamper-evident as the declarations it vouches for.
//!
//! A declarant signs what it sends: a detached signature over the body's exact bytes in the
//! `X-Jws-Signature` header (see `jinguan_crypto::jws`), naming its certificate by serial.
//! At intake it is checked before anything else is read: the certificate is ours, in the
//! registry, unrevoked, within its validity, issued to the caller's own party, and the
//! signature verifies. Each failure has its own code.

use std::path::Path;
use std::sync::Arc;

use axum::extract::{Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use jinguan_chinaport::xmldsig::DsigError;
use jinguan_crypto::pki::{Certificate, Holder, Request};
use jinguan_crypto::sealed::OperatorKey;
use jinguan_crypto::{Algorithm, Signer as KeySigner, SigningKey, VerifyingKey, DEFAULT_DISTID};
use jinguan_ledger::Entry;
use jinguan_ledger::Submission;
use jinguan_store::projection::{Dialect, Projection, Statement, Value};
use serde::{Deserialize, Serialize};

use crate::auth::{Principal, Role};
use crate::authz::{authorize, Action as Permission};
use crate::{blocking, ApiError, App};

/// The ledger certificates and revocations are kept in.
pub const PKI_LEDGER: &str = "pki";
/// Entry kind of a certificate issued.
pub const ISSUED: &str = "pki.certificate";
/// Entry kind of a revocation.
pub const REVOKED: &str = "pki.revocation";
/// The header a detached signature of the body travels in.
pub const SIGNATURE_HEADER: &str = "x-jws-signature";
/// How long a party's certificate lasts unless asked otherwise: one year.
pub const DEFAULT_DAYS: i64 = 365;

/// The platform's certificate authority, and the platform's own certified key: the key that
/// signs the ledger's tree heads also signs the receipts the platform issues, and its
/// certificate (issued by the CA) lets anyone holding the CA certificate check both.
pub struct Authority {
    key: Arc<dyn KeySigner>,
    certificate: Certificate,
    platform_key: Arc<dyn KeySigner>,
    platform: Certificate,
    // The platform's public key, prepared: it checks every session token.
    platform_public: VerifyingKey,
    crl: std::sync::Mutex<Option<IssuedCrl>>,
}

/// The revocation list last issued.
struct IssuedCrl {
    /// The registry's size it reflects.
    registry_size: u64,
    /// When (seconds).
    issued: i64,
    /// Its number.
    number: u64,
    der: Vec<u8>,
}

/// How long a revocation list is reissued after at the latest when nothing changes (an hour),
/// and how long past its issue it says the next one will come (two: a client fetching hourly
/// always holds a current one).
const CRL_REISSUE_SECONDS: i64 = 3600;
const CRL_NEXT_UPDATE_SECONDS: i64 = 7200;

impl std::fmt::Debug for Authority {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Authority({})", self.certificate.fingerprint())
    }
}

/// The CA's holder name.
pub fn authority_holder() -> Holder {
    Holder {
        name: "Jinguan platform CA".into(),
        party: "JINGUANCA".into(),
        role: "ca".into(),
    }
}

/// The platform's holder name, in its own certificate.
pub fn platform_holder() -> Holder {
    Holder {
        name: "Jinguan platform".into(),
        party: "JINGUAN".into(),
        role: "platform".into(),
    }
}

impl Authority {
    /// A CA from its key and certificate, which must be a CA certificate for that key, and
    /// the platform's key with the certificate the CA issued for it.
    pub fn new(
        key: Arc<dyn KeySigner>,
        certificate: Certificate,
        platform_key: Arc<dyn KeySigner>,
        platform: Certificate,
    ) -> Result<Self, String> {
        let public = certificate
            .public_key(DEFAULT_DISTID)
            .map_err(|e| e.to_string())?;
        if public != key.verifying_key() || !certificate.is_ca() {
            return Err("the CA certificate is not a CA certificate for the CA key".into());
        }
        platform
            .verify_signed_by(&public)
            .map_err(|e| format!("the platform certificate: {e}"))?;
        if platform
            .public_key(DEFAULT_DISTID)
            .map_err(|e| e.to_string())?
            != platform_key.verifying_key()
        {
            return Err("the platform certificate is for another key".into());
        }
        let platform_public = platform_key.verifying_key().prepared();
        Ok(Self {
            key,
            certificate,
            platform_key,
            platform,
            platform_public,
            crl: std::sync::Mutex::default(),
        })
    }

    fn self_signed(key: &dyn KeySigner, now: i64) -> Result<Certificate, String> {
        let holder = authority_holder();
        jinguan_crypto::pki::issue(
            key,
            &holder,
            &Request {
                holder: holder.clone(),
                key: &key.verifying_key(),
                serial: 1,
                not_before: now - 60,
                not_after: now + 20 * 365 * 86_400,
                ca: true,
            },
        )
        .map_err(|e| e.to_string())
    }

    fn platform_certificate(
        key: &dyn KeySigner,
        ca: &Certificate,
        platform_key: &dyn KeySigner,
        now: i64,
    ) -> Result<Certificate, String> {
        jinguan_crypto::pki::issue(
            key,
            &authority_holder(),
            &Request {
                holder: platform_holder(),
                key: &platform_key.verifying_key(),
                serial: 2,
                not_before: now - 60,
                not_after: ca.validity().1,
                ca: false,
            },
        )
        .map_err(|e| e.to_string())
    }

    /// A new SM2 CA valid for twenty years from `now` (seconds), certifying `platform_key`.
    pub fn generate(now: i64, platform_key: Arc<dyn KeySigner>) -> Result<Self, String> {
        let key: Arc<dyn KeySigner> = Arc::new(
            SigningKey::generate(Algorithm::Sm2Sm3, DEFAULT_DISTID).map_err(|e| e.to_string())?,
        );
        let certificate = Self::self_signed(key.as_ref(), now)?;
        let platform =
            Self::platform_certificate(key.as_ref(), &certificate, platform_key.as_ref(), now)?;
        Self::new(key, certificate, platform_key, platform)
    }

    /// The CA of a data directory (its key sealed under `operator` in `keys/ca.sealed`, its
    /// certificate `keys/ca.crt`) and the platform certificate for `platform_key`
    /// (`keys/platform.crt`), each made on first use.
    pub fn open(
        data_dir: &Path,
        now: i64,
        platform_key: Arc<dyn KeySigner>,
        operator: &OperatorKey,
    ) -> Result<Self, String> {
        let keys = data_dir.join("keys");
        let public = keys.join("ca.crt");
        let platform_file = keys.join("platform.crt");
        let read = |path: &Path| {
            std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))
        };
        std::fs::create_dir_all(&keys).map_err(|e| format!("{}: {e}", keys.display()))?;
        let (key, fresh) = sealed_key(
            &keys.join("ca.sealed"),
            &keys.join("ca-private.pem"),
            operator,
            "ca",
        )?;
        let key: Arc<dyn KeySigner> = Arc::new(key);
        let certificate = if fresh || !public.exists() {
            let made = Self::self_signed(key.as_ref(), now)?;
            replace_synced(&public, made.to_pem().as_bytes())?;
            made
        } else {
            Certificate::from_pem(&read(&public)?).map_err(|e| e.to_string())?
        };
        let platform = if platform_file.exists() && !fresh {
            Certificate::from_pem(&read(&platform_file)?).map_err(|e| e.to_string())?
        } else {
            let made =
                Self::platform_certificate(key.as_ref(), &certificate, platform_key.as_ref(), now)?;
            replace_synced(&platform_file, made.to_pem().as_bytes())?;
            made
        };
        Self::new(key, certificate, platform_key, platform)
    }

    /// The platform's public key (what its certificate certifies), prepared for many checks.
    pub fn platform_key(&self) -> &VerifyingKey {
        &self.platform_public
    }

    /// The platform's certificate: its key signs tree heads and receipts.
    pub fn platform(&self) -> &Certificate {
        &self.platform
    }

    /// The platform's signature on a document it issues (compact JWS, payload attached).
    pub(crate) fn sign_document(&self, payload: &[u8]) -> Result<String, String> {
        jinguan_crypto::jws::sign_attached(
            self.platform_key.as_ref(),
            &self.platform.serial(),
            payload,
        )
        .map_err(|e| e.to_string())
    }

    /// The platform's detached signature of `body` (compact JWS, payload detached): what
    /// signs a webhook's delivery.
    pub(crate) fn sign_detached(&self, body: &[u8]) -> Result<String, String> {
        jinguan_crypto::jws::sign(self.platform_key.as_ref(), &self.platform.serial(), body)
            .map_err(|e| e.to_string())
    }

    /// The current revocation list (DER), given the registry's size and the certificates it
    /// holds revoked and not yet expired: issued anew when the registry has changed since the
    /// last one or that one is an hour old, else the last one again. Numbers rise with each
    /// list (they are the issue time in seconds, or one more than the last).
    pub fn revocation_list(
        &self,
        registry_size: u64,
        revoked: &[jinguan_crypto::pki::Revoked],
        now: i64,
    ) -> Result<Vec<u8>, String> {
        let mut cached = self.crl.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(last) = cached.as_ref() {
            let age = now - last.issued;
            if last.registry_size == registry_size && (0..CRL_REISSUE_SECONDS).contains(&age) {
                return Ok(last.der.clone());
            }
        }
        let last = cached.as_ref().map_or(0, |last| last.number);
        let number = u64::try_from(now).unwrap_or(0).max(last + 1);
        let crl = jinguan_crypto::pki::issue_crl(
            self.key.as_ref(),
            &authority_holder(),
            &jinguan_crypto::pki::CrlRequest {
                number,
                this_update: now,
                next_update: now + CRL_NEXT_UPDATE_SECONDS,
                revoked,
            },
        )
        .map_err(|e| e.to_string())?;
        let der = crl.der().to_vec();
        *cached = Some(IssuedCrl {
            registry_size,
            issued: now,
            number,
            der: der.clone(),
        });
        Ok(der)
    }

    /// The CA certificate.
    pub fn certificate(&self) -> &Certificate {
        &self.certificate
    }

    /// Certifies `key` for `holder` from `not_before` for `days`, under a random serial.
    pub fn issue(
        &self,
        holder: Holder,
        key: &VerifyingKey,
        not_before: i64,
        days: i64,
    ) -> Result<Certificate, String> {
        // 63 random bits: positive, and unique without coordination between servers.
        let serial = u64::from_be_bytes(jinguan_crypto::random_bytes::<8>()) >> 1 | 1;
        jinguan_crypto::pki::issue(
            self.key.as_ref(),
            &authority_holder(),
            &Request {
                holder,
                key,
                serial,
                not_before,
                not_after: not_before + days * 86_400,
                ca: false,
            },
        )
        .map_err(|e| e.to_string())
    }
}

/// Writes a file whole, or not at all: a temporary beside it, synced, renamed over it, and
/// the directory synced, so a crash leaves the old file or the new one, never a torn one.
pub fn replace_synced(path: &Path, bytes: &[u8]) -> Result<(), String> {
    use std::io::Write;
    let failed = |e: std::io::Error| format!("{}: {e}", path.display());
    let temporary = path.with_extension(format!(
        "tmp-{}",
        jinguan_crypto::hex::encode(&jinguan_crypto::random_bytes::<6>())
    ));
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&temporary)
        .map_err(failed)?;
    file.write_all(bytes)
        .and_then(|()| file.sync_all())
        .and_then(|()| std::fs::rename(&temporary, path))
        .map_err(failed)?;
    if let Some(dir) = path.parent() {
        std::fs::File::open(dir)
            .and_then(|d| d.sync_all())
            .map_err(failed)?;
    }
    Ok(())
}

/// The private key sealed at `sealed` under `operator` as `label`, and whether it was made
/// just now. Made (SM2) and sealed on first use; a plaintext PEM an earlier version left at
/// `legacy` is sealed instead, and removed once the sealed file is durable.
pub fn sealed_key(
    sealed: &Path,
    legacy: &Path,
    operator: &OperatorKey,
    label: &str,
) -> Result<(SigningKey, bool), String> {
    if sealed.exists() {
        let text =
            std::fs::read_to_string(sealed).map_err(|e| format!("{}: {e}", sealed.display()))?;
        let key =
            jinguan_crypto::sealed::open(&text, operator, label, DEFAULT_DISTID).map_err(|e| {
                format!(
                    "{}: {e} (is this the operator key the data directory was made with?)",
                    sealed.display()
                )
            })?;
        return Ok((key, false));
    }
    let (key, fresh) = if legacy.exists() {
        let text =
            std::fs::read_to_string(legacy).map_err(|e| format!("{}: {e}", legacy.display()))?;
        let key = SigningKey::from_pem(&text, DEFAULT_DISTID)
            .map_err(|e| format!("{}: {e}", legacy.display()))?;
        (key, false)
    } else {
        let key =
            SigningKey::generate(Algorithm::Sm2Sm3, DEFAULT_DISTID).map_err(|e| e.to_string())?;
        (key, true)
    };
    replace_synced(
        sealed,
        jinguan_crypto::sealed::seal(&key, operator, label).as_bytes(),
    )?;
    if legacy.exists() {
        std::fs::remove_file(legacy).map_err(|e| format!("{}: {e}", legacy.display()))?;
    }
    Ok((key, fresh))
}

/// A certificate issued, as recorded.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Issued {
    /// Serial, hex.
    pub serial: String,
    /// The holder's party code.
    pub party: String,
    /// The holder's role.
    pub role: String,
    /// The holder's name.
    pub name: String,
    /// Valid from (seconds since the epoch).
    pub not_before: i64,
    /// Valid until.
    pub not_after: i64,
    /// SM3 of the DER.
    pub fingerprint: String,
    /// The certificate, PEM.
    pub certificate: String,
}

/// A revocation, as recorded.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Revocation {
    /// Serial, hex.
    pub serial: String,
    /// Why (RFC 5280 reason names: `keyCompromise`, `affiliationChanged`, `superseded`,
    /// `cessationOfOperation`, or free text).
    pub reason: String,
}

/// The `certificate` table.
pub struct CertificateTable;

impl Projection for CertificateTable {
    fn name(&self) -> &str {
        "certificates"
    }

    fn create(&self, dialect: Dialect) -> Vec<String> {
        vec![format!(
            "CREATE TABLE IF NOT EXISTS certificate (
                serial TEXT PRIMARY KEY, party TEXT NOT NULL, role TEXT NOT NULL,
                name TEXT NOT NULL, not_before BIGINT NOT NULL, not_after BIGINT NOT NULL,
                fingerprint TEXT NOT NULL, pem TEXT NOT NULL, issued_seq BIGINT NOT NULL,
                revoked_ms BIGINT NOT NULL, reason TEXT NOT NULL){}",
            dialect.clustered()
        )]
    }

    fn reset(&self) -> Vec<String> {
        vec!["DELETE FROM certificate".into()]
    }

    fn apply(&self, entry: &Entry) -> Vec<Statement> {
        match entry.kind.as_str() {
            ISSUED => match serde_json::from_slice::<Issued>(&entry.payload) {
                Ok(issued) => vec![Statement::new(
                    "INSERT INTO certificate (serial, party, role, name, not_before, not_after,
                        fingerprint, pem, issued_seq, revoked_ms, reason)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 0, '')
                     ON CONFLICT DO NOTHING",
                    vec![
                        Value::Text(issued.serial),
                        Value::Text(issued.party),
                        Value::Text(issued.role),
                        Value::Text(issued.name),
                        Value::Integer(issued.not_before),
                        Value::Integer(issued.not_after),
                        Value::Text(issued.fingerprint),
                        Value::Text(issued.certificate),
                        Value::Integer(i64::try_from(entry.seq).unwrap_or(i64::MAX)),
                    ],
                )],
                Err(_) => Vec::new(),
            },
            REVOKED => match serde_json::from_slice::<Revocation>(&entry.payload) {
                // The first revocation stands; a later one changes nothing.
                Ok(revoked) => vec![Statement::new(
                    "UPDATE certificate SET revoked_ms = ?2, reason = ?3
                     WHERE serial = ?1 AND revoked_ms = 0",
                    vec![
                        Value::Text(revoked.serial),
                        Value::Integer(entry.time_ms.max(1)),
                        Value::Text(revoked.reason),
                    ],
                )],
                Err(_) => Vec::new(),
            },
            _ => Vec::new(),
        }
    }
}

/// A certificate in the registry, as the routes and intake read it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Status {
    /// Serial, hex.
    pub serial: String,
    /// `good`, `revoked`, `expired` or `not_yet_valid`.
    pub status: String,
    /// The holder's party code.
    pub party: String,
    /// The holder's role.
    pub role: String,
    /// The holder's name.
    pub name: String,
    /// Valid from (RFC 3339).
    pub not_before: String,
    /// Valid until (RFC 3339).
    pub not_after: String,
    /// When revoked (RFC 3339), if it was.
    pub revoked_at: Option<String>,
    /// Why, if it was.
    pub reason: Option<String>,
    /// SM3 of the DER, hex.
    pub fingerprint: String,
    /// The certificate, PEM.
    pub certificate: String,
}

pub(crate) fn rfc3339(seconds: i64) -> String {
    chrono::DateTime::from_timestamp(seconds, 0)
        .map(|t| t.to_rfc3339())
        .unwrap_or_default()
}

/// The registry's record of `serial`, with its status at `now_ms`.
pub(crate) fn lookup(app: &App, serial: &str, now_ms: i64) -> Result<Option<Status>, ApiError> {
    read_status(app, serial, now_ms, true)
}

/// [`lookup`], with the certificate itself (`pem`) read only when `with_pem`: a signature
/// check needs only its status, holder and fingerprint (the key is kept by fingerprint), and
/// every signed message asks.
fn read_status(
    app: &App,
    serial: &str,
    now_ms: i64,
    with_pem: bool,
) -> Result<Option<Status>, ApiError> {
    let serial = serial.to_ascii_lowercase();
    // A signature check on the store's sole writer reads the row as this node last read it,
    // unless the registry changed since: no query per signed message.
    let kept = !with_pem && app.store.sole_writer();
    let generation = app.certificate_rows.generation();
    if kept {
        if let Some(row) = app.certificate_rows.get(&serial, generation) {
            return Ok(Some(row.status(serial, now_ms)));
        }
    }
    let sql = if with_pem {
        "SELECT party, role, name, not_before, not_after, fingerprint, pem, revoked_ms, reason
         FROM certificate WHERE serial = ?1"
    } else {
        "SELECT party, role, name, not_before, not_after, fingerprint, '', revoked_ms, reason
         FROM certificate WHERE serial = ?1"
    };
    let rows = app
        .store
        .query(&Statement::new(sql, vec![Value::Text(serial.clone())]))
        .map_err(ApiError::store)?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    let text = |i: usize| crate::declarations::as_text(row.get(i));
    let int = |i: usize| crate::declarations::as_int(row.get(i));
    let row = Row {
        party: text(0),
        role: text(1),
        name: text(2),
        not_before: int(3),
        not_after: int(4),
        fingerprint: text(5),
        certificate: text(6),
        revoked_ms: int(7),
        reason: text(8),
    };
    if kept {
        app.certificate_rows
            .put(serial.clone(), generation, row.clone());
    }
    Ok(Some(row.status(serial, now_ms)))
}

/// A registry row, as [`read_status`] reads it.
#[derive(Debug, Clone)]
pub(crate) struct Row {
    party: String,
    role: String,
    name: String,
    not_before: i64,
    not_after: i64,
    fingerprint: String,
    certificate: String,
    revoked_ms: i64,
    reason: String,
}

impl Row {
    /// The status at `now_ms`: validity is read against the clock each time.
    fn status(self, serial: String, now_ms: i64) -> Status {
        let now = now_ms / 1000;
        let status = if self.revoked_ms > 0 {
            "revoked"
        } else if now < self.not_before {
            "not_yet_valid"
        } else if now > self.not_after {
            "expired"
        } else {
            "good"
        };
        Status {
            serial,
            status: status.into(),
            party: self.party,
            role: self.role,
            name: self.name,
            not_before: rfc3339(self.not_before),
            not_after: rfc3339(self.not_after),
            revoked_at: (self.revoked_ms > 0).then(|| rfc3339(self.revoked_ms / 1000)),
            reason: (self.revoked_ms > 0).then_some(self.reason),
            fingerprint: self.fingerprint,
            certificate: self.certificate,
        }
    }
}

fn append(
    app: &App,
    principal: &Principal,
    kind: &str,
    id: String,
    payload: &impl Serialize,
) -> Result<jinguan_store::Receipt, ApiError> {
    let payload = crate::origin::stamped(payload, &principal.origin).map_err(crate::internal)?;
    let appended = app
        .store
        .append(
            PKI_LEDGER,
            Submission {
                kind: kind.into(),
                schema_version: 1,
                submitter: principal.party.clone(),
                submission_id: id,
                payload,
                submitter_signature: None,
            },
        )
        .map_err(ApiError::store);
    // Written (or not): rows read before are read again.
    app.certificate_rows.changed();
    appended
}

/// `GET /api/v1/pki/ca`: the CA certificate (public).
pub(crate) async fn ca(State(app): State<Arc<App>>) -> Json<serde_json::Value> {
    let certificate = app.authority.certificate();
    Json(serde_json::json!({
        "certificate": certificate.to_pem(),
        "fingerprint": certificate.fingerprint(),
        "serial": certificate.serial(),
    }))
}

/// Query of the revocation list.
#[derive(Debug, Deserialize)]
pub(crate) struct CrlQuery {
    format: Option<String>,
}

/// `GET /api/v1/pki/crl`: the CA's revocation list (public), X.509 v2 CRL signed by the CA:
/// DER (`application/pkix-crl`), or PEM with `?format=pem`. It lists every certificate
/// revoked and not yet expired.
pub(crate) async fn crl(
    State(app): State<Arc<App>>,
    query: Result<axum::extract::Query<CrlQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<axum::response::Response, ApiError> {
    let axum::extract::Query(query) =
        query.map_err(|e| ApiError::bad_request("H0004", e.body_text()))?;
    let pem = match query.format.as_deref() {
        None | Some("der") => false,
        Some("pem") => true,
        Some(other) => {
            return Err(ApiError::bad_request(
                "H0004",
                format!("format {other:?}: der or pem"),
            ))
        }
    };
    let der = blocking(move || {
        let now_ms = app.now_ms();
        let size = app.store.head(PKI_LEDGER).map_or(0, |head| head.tree_size);
        let rows = app
            .store
            .query(&Statement::new(
                "SELECT serial, revoked_ms FROM certificate
                 WHERE revoked_ms > 0 AND not_after >= ?1 ORDER BY serial",
                vec![Value::Integer(now_ms / 1000)],
            ))
            .map_err(ApiError::store)?;
        let revoked: Vec<jinguan_crypto::pki::Revoked> = rows
            .iter()
            .map(|row| jinguan_crypto::pki::Revoked {
                serial: crate::declarations::as_text(row.first()),
                at: crate::declarations::as_int(row.get(1)) / 1000,
            })
            .collect();
        app.authority
            .revocation_list(size, &revoked, now_ms / 1000)
            .map_err(crate::internal)
    })
    .await?;
    Ok(if pem {
        let text = jinguan_crypto::pki::Crl::from_der(&der)
            .map_err(crate::internal)?
            .to_pem();
        ([("content-type", "application/x-pem-file")], text).into_response()
    } else {
        ([("content-type", "application/pkix-crl")], der).into_response()
    })
}

/// What an administrator asks to certify.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct IssueRequest {
    party: String,
    role: String,
    name: String,
    /// SPKI PEM (`openssl pkey -pubout`).
    public_key: String,
    days: Option<i64>,
}

/// `POST /api/v1/pki/certificates` (admin): certify a party's public key.
pub(crate) async fn issue(
    State(app): State<Arc<App>>,
    principal: Result<Principal, ApiError>,
    body: Result<Json<IssueRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Response, ApiError> {
    let principal = principal?;
    authorize(
        &app,
        &principal,
        Permission::IssueCertificate,
        "certificates",
    )
    .await?;
    let Json(request) = body.map_err(|e| ApiError::bad_request("H0430", e.body_text()))?;
    if Role::parse(&request.role).is_none() {
        return Err(ApiError::bad_request(
            "H0430",
            format!(
                "role {:?}: enterprise, broker, officer, bank or admin",
                request.role
            ),
        ));
    }
    let days = request.days.unwrap_or(DEFAULT_DAYS);
    if !(1..=3 * 365).contains(&days) {
        return Err(ApiError::bad_request("H0430", "days: 1 to 1095"));
    }
    let key = VerifyingKey::from_pem(&request.public_key, DEFAULT_DISTID)
        .map_err(|e| ApiError::bad_request("H0430", e.to_string()))?;
    let holder = Holder {
        name: request.name,
        party: request.party,
        role: request.role,
    };
    let now = app.now_ms() / 1000;
    let certificate = app
        .authority
        .issue(holder.clone(), &key, now - 60, days)
        .map_err(|e| ApiError::bad_request("H0430", e))?;
    let (not_before, not_after) = certificate.validity();
    let issued = Issued {
        serial: certificate.serial(),
        party: holder.party,
        role: holder.role,
        name: holder.name,
        not_before,
        not_after,
        fingerprint: certificate.fingerprint(),
        certificate: certificate.to_pem(),
    };
    let answer = issued.clone();
    blocking(move || {
        append(
            &app,
            &principal,
            ISSUED,
            format!("certificate/{}", issued.serial),
            &issued,
        )
    })
    .await?;
    Ok((StatusCode::CREATED, Json(answer)).into_response())
}

/// `GET /api/v1/pki/certificates/{serial}`: a certificate's status (any signed-in caller).
pub(crate) async fn status(
    State(app): State<Arc<App>>,
    principal: Result<Principal, ApiError>,
    UrlPath(serial): UrlPath<String>,
) -> Result<Json<Status>, ApiError> {
    authorize(&app, &principal?, Permission::ReadCertificate, &serial).await?;
    blocking(move || {
        lookup(&app, &serial, app.now_ms())?
            .map(Json)
            .ok_or_else(|| ApiError::not_found("H0421", format!("no certificate {serial}")))
    })
    .await
}

/// Why a certificate is revoked.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RevokeRequest {
    reason: String,
}

/// `POST /api/v1/pki/certificates/{serial}/revoke` (admin).
pub(crate) async fn revoke(
    State(app): State<Arc<App>>,
    principal: Result<Principal, ApiError>,
    UrlPath(serial): UrlPath<String>,
    body: Result<Json<RevokeRequest>, axum::extract::rejection::JsonRejection>,
) -> Result<Json<Status>, ApiError> {
    let principal = principal?;
    authorize(&app, &principal, Permission::RevokeCertificate, &serial).await?;
    let Json(request) = body.map_err(|e| ApiError::bad_request("H0430", e.body_text()))?;
    if request.reason.is_empty() || request.reason.len() > 200 {
        return Err(ApiError::bad_request(
            "H0430",
            "reason: 1 to 200 characters",
        ));
    }
    blocking(move || {
        let serial = serial.to_ascii_lowercase();
        let found = lookup(&app, &serial, app.now_ms())?
            .ok_or_else(|| ApiError::not_found("H0421", format!("no certificate {serial}")))?;
        if found.revoked_at.is_none() {
            let revocation = Revocation {
                serial: serial.clone(),
                reason: request.reason,
            };
            append(
                &app,
                &principal,
                REVOKED,
                format!("revocation/{serial}"),
                &revocation,
            )?;
        }
        lookup(&app, &serial, app.now_ms())?
            .map(Json)
            .ok_or_else(|| ApiError::not_found("H0421", format!("no certificate {serial}")))
    })
    .await
}

/// Who signed a submission, once checked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signer {
    /// The certificate's serial.
    pub certificate: String,
    /// Its holder's party.
    pub party: String,
    /// The detached signature as sent; empty when the signature is enveloped in the body
    /// (XML-DSig), which the record keeps byte for byte.
    #[serde(default)]
    pub jws: String,
}

fn unauthorized(code: &str, message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", code, message)
}

/// Checks the detached signature of `body` in `headers` for `principal`: `Ok(None)` when
/// there is none and signatures are optional.
pub(crate) fn check_signature(
    app: &App,
    principal: &Principal,
    headers: &HeaderMap,
    body: &[u8],
) -> Result<Option<Signer>, ApiError> {
    let Some(value) = headers.get(SIGNATURE_HEADER) else {
        if is_xml(headers) {
            match jinguan_chinaport::xmldsig::read(body) {
                Err(DsigError::Unsigned) => {}
                Ok(signed) => return check_enveloped(app, principal, &signed).map(Some),
                Err(e) => return Err(dsig_refusal(e)),
            }
        }
        return if app.signatures_required {
            Err(unauthorized(
                "H0420",
                format!("unsigned: send a detached signature of the body in {SIGNATURE_HEADER}"),
            ))
        } else {
            Ok(None)
        };
    };
    let value = value
        .to_str()
        .map_err(|_| unauthorized("H0427", "the signature header is not ASCII"))?;
    let known = verify_detached(app, value, body, Some(&principal.party))?;
    Ok(Some(Signer {
        certificate: known.serial,
        party: known.party,
        jws: value.to_owned(),
    }))
}

fn is_xml(headers: &HeaderMap) -> bool {
    headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| matches!(v.trim(), "application/xml" | "text/xml"))
}

/// What an enveloped signature's failure is called here (the detached codes where they
/// mean the same; the document's own XML errors as the `400` they are).
fn dsig_refusal(error: DsigError) -> ApiError {
    let message = error.to_string();
    match error {
        DsigError::Xml(e) => ApiError::bad_request(e.code, e.to_string()),
        DsigError::Unsigned => unauthorized("H0420", message),
        DsigError::Malformed(_) | DsigError::Unsupported(_) => unauthorized("H0427", message),
        DsigError::Digest { .. } => unauthorized("H0428", message),
        DsigError::Signature(_) => unauthorized("H0426", message),
    }
}

/// Checks an enveloped XML-DSig signature for `principal`: the certificate its `KeyName`
/// names goes through the same checks as a detached signature's, then the signature.
fn check_enveloped(
    app: &App,
    principal: &Principal,
    signed: &jinguan_chinaport::xmldsig::Signed,
) -> Result<Signer, ApiError> {
    let serial = signed.key_name.as_deref().ok_or_else(|| {
        unauthorized(
            "H0427",
            "the signature's KeyInfo has no KeyName (the certificate's serial)",
        )
    })?;
    let (known, key) = signing_certificate(app, serial, Some(&principal.party))?;
    signed.verify(&key).map_err(dsig_refusal)?;
    Ok(Signer {
        certificate: known.serial,
        party: known.party,
        jws: String::new(),
    })
}

/// Checks a detached JWS `value` over `message`: its certificate is one we issued, good now
/// (`H0421`–`H0423`), of `party` when one is given (`403 H0425`, before the signature is
/// even checked), issued by our CA (`H0424`), and the signature verifies (`H0426`;
/// malformed `H0427`). Returns the certificate's registry status.
pub(crate) fn verify_detached(
    app: &App,
    value: &str,
    message: &[u8],
    party: Option<&str>,
) -> Result<Status, ApiError> {
    let detached = jinguan_crypto::jws::Detached::parse(value)
        .map_err(|e| unauthorized("H0427", e.to_string()))?;
    let (known, key) = signing_certificate(app, &detached.kid, party)?;
    detached
        .verify(&key, message)
        .map_err(|e| unauthorized("H0426", format!("the signature does not verify: {e}")))?;
    Ok(known)
}

/// The registry's certificate `serial` and its key, if it may sign now for `party` (when
/// given): one we issued (`H0421`), good now (`H0422`, `H0423`), of that party (`403
/// H0425`), issued by our CA (`H0424`).
fn signing_certificate(
    app: &App,
    serial: &str,
    party: Option<&str>,
) -> Result<(Status, VerifyingKey), ApiError> {
    // The status without the certificate: its key is kept by fingerprint once checked.
    let known = read_status(app, serial, app.now_ms(), false)?.ok_or_else(|| {
        unauthorized(
            "H0421",
            format!("certificate {serial} is not one we issued"),
        )
    })?;
    usable(&known)?;
    if party.is_some_and(|party| known.party != party) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "forbidden",
            "H0425",
            format!(
                "certificate {} belongs to {}, not to the caller's party",
                known.serial, known.party
            ),
        ));
    }
    let key = app.certificate_key(&known.fingerprint, || {
        Ok(lookup(app, serial, app.now_ms())?
            .map(|status| status.certificate)
            .unwrap_or_default())
    })?;
    Ok((known, key))
}

/// A certificate in the registry that may sign now: not revoked (`H0422`), within its
/// validity (`H0423`).
pub(crate) fn usable(known: &Status) -> Result<(), ApiError> {
    match known.status.as_str() {
        "good" => Ok(()),
        "revoked" => Err(unauthorized(
            "H0422",
            format!("certificate {} is revoked", known.serial),
        )),
        _ => Err(unauthorized(
            "H0423",
            format!(
                "certificate {} is {} (valid {} to {})",
                known.serial, known.status, known.not_before, known.not_after
            ),
        )),
    }
}

/// The public key of a registry certificate and the certificate's fingerprint, the
/// certificate checked against the CA (the caller keeps the key).
pub(crate) fn certificate_key(
    authority: &Authority,
    pem: &str,
) -> Result<(VerifyingKey, String), ApiError> {
    let certificate = Certificate::from_pem(pem).map_err(crate::internal)?;
    certificate
        .verify_signed_by(
            &authority
                .certificate()
                .public_key(DEFAULT_DISTID)
                .map_err(crate::internal)?,
        )
        .map_err(|e| unauthorized("H0424", format!("certificate not issued by this CA: {e}")))?;
    let key = certificate
        .public_key(DEFAULT_DISTID)
        .map_err(crate::internal)?;
    Ok((key, certificate.fingerprint()))
}

/// What makes a receipt evidence, checkable offline with the CA certificate alone
/// (`jinguan verify-receipt`): the platform's signature over the receipt as sent, the
/// platform's certificate, and the signed tree head and inclusion proof of the receipt's
/// ledger entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attestation {
    /// Compact JWS, payload attached: the receipt's JSON without this field, signed by the
    /// platform key.
    pub signed: String,
    /// The platform certificate (PEM), issued by the CA.
    pub certificate: String,
    /// The ledger head the receipt's `tree_size` names, signed by the platform key.
    pub head: jinguan_ledger::TreeHead,
    /// The inclusion proof of the receipt's entry (`ledger.seq`, `ledger.leaf_hash`) in it.
    pub proof: jinguan_ledger::InclusionProof,
}

/// Signs `receipt` and attaches the ledger's proof of its entry. A rejected submission's
/// receipt is attested like an accepted one: it is on record too.
pub(crate) fn attest(
    app: &App,
    mut receipt: crate::DeclarationReceipt,
) -> Result<crate::DeclarationReceipt, ApiError> {
    receipt.attestation = None;
    let payload = serde_json::to_vec(&receipt).map_err(crate::internal)?;
    let signed = app
        .authority
        .sign_document(&payload)
        .map_err(crate::internal)?;
    let ledger = &receipt.ledger;
    let head = app
        .store
        .head_at(&ledger.ledger, ledger.tree_size)
        .map_err(ApiError::store)?;
    let proof = app
        .store
        .inclusion_proof(&ledger.ledger, ledger.seq, ledger.tree_size)
        .map_err(ApiError::store)?;
    receipt.attestation = Some(Attestation {
        signed,
        certificate: app.authority.platform().to_pem(),
        head,
        proof,
    });
    Ok(receipt)
}

/// What `verify_receipt` found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VerifiedReceipt {
    /// The entry id.
    pub entry_id: String,
    /// `accepted` or `rejected`.
    pub status: String,
    /// The ledger, sequence number and tree size proven.
    pub ledger: String,
    /// The entry's position.
    pub seq: u64,
    /// The signed head's size.
    pub tree_size: u64,
    /// The platform certificate's serial.
    pub platform_certificate: String,
}

/// Checks a receipt offline against the CA certificate alone: the platform certificate was
/// issued by the CA and was valid when the head was signed; the platform signed exactly the
/// receipt shown; it signed the tree head; the receipt's entry is in that tree. Each
/// failure says which. Pure.
pub fn verify_receipt(receipt: &[u8], ca: &Certificate) -> Result<VerifiedReceipt, String> {
    let shown: crate::DeclarationReceipt =
        serde_json::from_slice(receipt).map_err(|e| format!("not a receipt: {e}"))?;
    let attestation = shown
        .attestation
        .clone()
        .ok_or("the receipt carries no attestation")?;
    let ca_key = ca.public_key(DEFAULT_DISTID).map_err(|e| e.to_string())?;
    let platform = Certificate::from_pem(&attestation.certificate).map_err(|e| e.to_string())?;
    platform
        .verify_signed_by(&ca_key)
        .map_err(|e| format!("the platform certificate is not the CA's: {e}"))?;
    if platform.holder().role != "platform" {
        return Err(format!(
            "the certificate is a {}'s, not the platform's",
            platform.holder().role
        ));
    }
    let key = platform
        .public_key(DEFAULT_DISTID)
        .map_err(|e| e.to_string())?;
    let (kid, payload) = jinguan_crypto::jws::verify_attached(&attestation.signed, &key)
        .map_err(|e| format!("the platform's signature: {e}"))?;
    if kid != platform.serial() {
        return Err("the signature names another certificate".into());
    }
    let signed: serde_json::Value =
        serde_json::from_slice(&payload).map_err(|e| format!("signed payload: {e}"))?;
    let mut unsigned = shown.clone();
    unsigned.attestation = None;
    if serde_json::to_value(&unsigned).map_err(|e| e.to_string())? != signed {
        return Err("the receipt differs from what the platform signed".into());
    }
    let head = &attestation.head;
    head.verify(&key)
        .map_err(|e| format!("the tree head: {e}"))?;
    let (from, to) = platform.validity();
    let signed_at = head.timestamp_ms / 1000;
    if signed_at < from || signed_at > to {
        return Err("the platform certificate was not valid when the head was signed".into());
    }
    let at = &shown.ledger;
    if head.ledger != at.ledger || head.tree_size != at.tree_size {
        return Err(format!(
            "the head is for {} at {}, the receipt names {} at {}",
            head.ledger, head.tree_size, at.ledger, at.tree_size
        ));
    }
    let proof = &attestation.proof;
    if proof.leaf_index != at.seq || proof.tree_size != at.tree_size {
        return Err("the proof is for another entry or tree".into());
    }
    jinguan_ledger::merkle::verify_inclusion(
        head.hash_algorithm,
        &at.leaf_hash,
        proof,
        &head.root_hash,
    )
    .map_err(|e| format!("the entry is not in the signed tree: {e}"))?;
    Ok(VerifiedReceipt {
        entry_id: shown.entry_id,
        status: shown.status,
        ledger: at.ledger.clone(),
        seq: at.seq,
        tree_size: at.tree_size,
        platform_certificate: platform.serial(),
    })
}
