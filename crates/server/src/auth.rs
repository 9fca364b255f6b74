//! Bearer tokens, each bound to a party and a role, expiring, revocable, optionally scoped.
//!
//! Tokens live in `tokens.json` in the data directory, one record per token: an id, the
//! party, the role, when it was made and when it expires, when it was revoked, the actions
//! it is limited to, and the SM3 hash of the token, never the token itself (a copy of the
//! file does not let anyone in; a token is looked up by its hash, so its comparison does not
//! depend on how much of it matches). `jinguan admin token create|list|revoke` keep the
//! file; a running server re-reads it when it changes, so a revocation takes effect at the
//! next request.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::RwLock;
use std::time::SystemTime;

/// What identifies one version of the token file: its modification time, size and inode.
/// The time alone is not enough: the kernel stamps files from a coarse clock, so two writes
/// within a few milliseconds share it; each write is a new file renamed into place, so the
/// inode changes every time.
type Stamp = (SystemTime, u64, u64);

fn stamp(path: &Path) -> Option<Stamp> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path).ok()?;
    Some((meta.modified().ok()?, meta.len(), meta.ino()))
}

use serde::{Deserialize, Serialize};

/// What a token lets its holder do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// An importer or exporter: declares, amends, cancels and reads its own declarations.
    Enterprise,
    /// A customs broker: the same, for the declarations it lodges.
    Broker,
    /// A customs officer: reads every declaration, reviews, inspects, holds, releases.
    Officer,
    /// A bank: pays and guarantees duties.
    Bank,
    /// An administrator: the risk rules, and everything an officer can read.
    Admin,
}

impl Role {
    /// Parses `enterprise`, `broker`, `officer`, `bank` or `admin`.
    pub fn parse(text: &str) -> Option<Self> {
        Some(match text {
            "enterprise" => Self::Enterprise,
            "broker" => Self::Broker,
            "officer" => Self::Officer,
            "bank" => Self::Bank,
            "admin" => Self::Admin,
            _ => return None,
        })
    }

    /// Whether this role sees only the declarations its party is named in.
    pub fn sees_own_only(self) -> bool {
        matches!(self, Self::Enterprise | Self::Broker)
    }
}

/// Who is calling.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Principal {
    /// The party's code (an enterprise's customs code or USCC, a customs district, a bank).
    pub party: String,
    /// Its role.
    pub role: Role,
    /// The actions the token is limited to (names as in `authz::Action::name`); empty: all
    /// its role allows.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// The request this principal is acting in (not part of a token: filled per request).
    #[serde(skip)]
    pub origin: crate::origin::Origin,
}

/// Why a token could not be made or read. Codes are stable API.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// The party code is empty, too long or has characters other than letters and digits.
    #[error("H0410: party code {0:?}: use 1 to 64 letters, digits or '-'")]
    BadParty(String),
    /// The token file cannot be read or written.
    #[error("H0411: token file {path}: {reason}")]
    File {
        /// The file.
        path: String,
        /// What failed.
        reason: String,
    },
}

/// A token as the file keeps it (and `jinguan admin token list` shows it).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct TokenRecord {
    /// A short public name for the token: the first 12 hex digits of its hash.
    #[serde(default)]
    pub id: String,
    /// The party.
    pub party: String,
    /// The role.
    pub role: Role,
    /// When it was made (RFC 3339).
    pub created: String,
    /// When it stops working (RFC 3339); none for tokens made before expiry existed.
    #[serde(default)]
    pub expires: Option<String>,
    /// When it was revoked (RFC 3339).
    #[serde(default)]
    pub revoked: Option<String>,
    /// The actions it is limited to; empty: all its role allows.
    #[serde(default)]
    pub scopes: Vec<String>,
    /// SM3 of the token, hex.
    pub sm3: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct TokenFile {
    tokens: Vec<TokenRecord>,
}

/// The token file's name in a data directory.
pub const TOKEN_FILE: &str = "tokens.json";

fn file_error(path: &Path, reason: impl ToString) -> AuthError {
    AuthError::File {
        path: path.display().to_string(),
        reason: reason.to_string(),
    }
}

fn read(path: &Path) -> Result<TokenFile, AuthError> {
    match std::fs::read(path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| file_error(path, e)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(TokenFile::default()),
        Err(e) => Err(file_error(path, e)),
    }
}

fn digest(token: &str) -> String {
    jinguan_crypto::hex::encode(&jinguan_crypto::sm3(token.as_bytes()))
}

/// How long a token lasts unless asked otherwise.
pub const DEFAULT_TOKEN_DAYS: u32 = 90;

/// What a new token may do beyond its party and role.
#[derive(Debug, Clone, Default)]
pub struct TokenOptions {
    /// Days until it expires (default [`DEFAULT_TOKEN_DAYS`]).
    pub days: Option<u32>,
    /// The actions it is limited to; empty: all its role allows.
    pub scopes: Vec<String>,
}

/// The time now, from the system clock (chrono's own clock feature is not built).
fn utc_now() -> chrono::DateTime<chrono::Utc> {
    let since = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    chrono::DateTime::from_timestamp(i64::try_from(since.as_secs()).unwrap_or(0), 0)
        .unwrap_or_default()
}

fn rfc3339_now_plus(days: i64) -> String {
    (utc_now() + chrono::Duration::days(days)).to_rfc3339()
}

/// Makes a token for `party` in `role`, expiring after [`DEFAULT_TOKEN_DAYS`].
pub fn create_token(data_dir: &Path, party: &str, role: Role) -> Result<String, AuthError> {
    create_token_with(data_dir, party, role, &TokenOptions::default())
}

/// Makes a token for `party` in `role` with `options`, records its hash in `data_dir`'s token
/// file (written whole to a new file, synced, then renamed over the old one) and returns it.
pub fn create_token_with(
    data_dir: &Path,
    party: &str,
    role: Role,
    options: &TokenOptions,
) -> Result<String, AuthError> {
    let valid = !party.is_empty()
        && party.len() <= 64
        && party
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if !valid {
        return Err(AuthError::BadParty(party.to_owned()));
    }
    let path = data_dir.join(TOKEN_FILE);
    let mut file = read(&path)?;
    let token = format!(
        "jg_{}",
        jinguan_crypto::hex::encode(&jinguan_crypto::random_bytes::<24>())
    );
    let sm3 = digest(&token);
    file.tokens.push(TokenRecord {
        id: sm3[..12].to_owned(),
        party: party.to_owned(),
        role,
        created: rfc3339_now_plus(0),
        expires: Some(rfc3339_now_plus(i64::from(
            options.days.unwrap_or(DEFAULT_TOKEN_DAYS),
        ))),
        revoked: None,
        scopes: options.scopes.clone(),
        sm3,
    });
    write_file(data_dir, &file)?;
    Ok(token)
}

/// The tokens on file, newest last.
pub fn list_tokens(data_dir: &Path) -> Result<Vec<TokenRecord>, AuthError> {
    Ok(read(&data_dir.join(TOKEN_FILE))?.tokens)
}

/// Revokes the token with `id`; `Ok(false)` if there is none. Revoking twice keeps the first
/// time.
pub fn revoke_token(data_dir: &Path, id: &str) -> Result<bool, AuthError> {
    let mut file = read(&data_dir.join(TOKEN_FILE))?;
    let Some(record) = file
        .tokens
        .iter_mut()
        .find(|t| t.id == id && !id.is_empty())
    else {
        return Ok(false);
    };
    if record.revoked.is_none() {
        record.revoked = Some(rfc3339_now_plus(0));
        write_file(data_dir, &file)?;
    }
    Ok(true)
}

fn write_file(data_dir: &Path, file: &TokenFile) -> Result<(), AuthError> {
    let path = data_dir.join(TOKEN_FILE);
    let text = serde_json::to_vec_pretty(file).map_err(|e| file_error(&path, e))?;
    let temporary = data_dir.join(format!("{TOKEN_FILE}.new"));
    let write = || -> std::io::Result<()> {
        use std::io::Write;
        let mut out = std::fs::File::create(&temporary)?;
        out.write_all(&text)?;
        out.sync_all()?;
        std::fs::rename(&temporary, &path)?;
        std::fs::File::open(data_dir)?.sync_all()
    };
    write().map_err(|e| file_error(&path, e))
}

/// Why a token was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TokenRefusal {
    /// No such token.
    Unknown,
    /// Revoked.
    Revoked,
    /// Past its expiry.
    Expired,
}

/// The tokens a server accepts.
pub struct Tokens {
    path: Option<PathBuf>,
    state: RwLock<(Option<Stamp>, HashMap<String, Held>)>,
}

/// A token as the server holds it: who it is for, until when, whether revoked.
#[derive(Debug, Clone)]
struct Held {
    principal: Principal,
    expires: Option<chrono::DateTime<chrono::FixedOffset>>,
    revoked: bool,
}

impl Tokens {
    /// The tokens of a data directory's token file (none yet is fine).
    pub fn open(data_dir: &Path) -> Result<Self, AuthError> {
        let tokens = Self {
            path: Some(data_dir.join(TOKEN_FILE)),
            state: RwLock::new((None, HashMap::new())),
        };
        tokens.reload()?;
        Ok(tokens)
    }

    fn reload(&self) -> Result<(), AuthError> {
        let Some(path) = &self.path else {
            return Ok(());
        };
        let modified = stamp(path);
        {
            let state = self.state.read().unwrap_or_else(|e| e.into_inner());
            if state.0.is_some() && state.0 == modified {
                return Ok(());
            }
        }
        let file = read(path)?;
        let map = file
            .tokens
            .into_iter()
            .map(|r| {
                (
                    r.sm3,
                    Held {
                        principal: Principal {
                            party: r.party,
                            role: r.role,
                            scopes: r.scopes,
                            origin: crate::origin::Origin::default(),
                        },
                        // An unreadable expiry is treated as already past.
                        expires: r
                            .expires
                            .map(|e| chrono::DateTime::parse_from_rfc3339(&e).unwrap_or_default()),
                        revoked: r.revoked.is_some(),
                    },
                )
            })
            .collect();
        *self.state.write().unwrap_or_else(|e| e.into_inner()) = (modified, map);
        Ok(())
    }

    /// Who holds `token`, if anyone and if it is still good at `now`.
    pub fn check(&self, token: &str) -> Result<Principal, TokenRefusal> {
        self.check_at(token, utc_now())
    }

    /// [`Tokens::check`] at a given time.
    pub fn check_at(
        &self,
        token: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Principal, TokenRefusal> {
        let key = digest(token);
        // The file first: a token made or revoked since it was last read.
        let _ = self.reload();
        let held = {
            let state = self.state.read().unwrap_or_else(|e| e.into_inner());
            state.1.get(&key).cloned()
        };
        let held = held.ok_or(TokenRefusal::Unknown)?;
        if held.revoked {
            return Err(TokenRefusal::Revoked);
        }
        if held.expires.is_some_and(|e| e <= now) {
            return Err(TokenRefusal::Expired);
        }
        Ok(held.principal)
    }
}

/// Limits failed authentications per client address, against guessing tokens or keys.
///
/// After `limit` failures from one address within `window`, every authentication from it,
/// good or bad, is refused `429 H0429` until the window that began with its first failure
/// ends: answering a right guess during the lock-out would still let guessing go on. Refused
/// attempts are not audited one by one (the failures that led to the lock-out were), so a
/// flood cannot grow the audit ledger without bound.
#[derive(Debug)]
pub struct Throttle {
    limit: u32,
    window: std::time::Duration,
    failures: std::sync::Mutex<HashMap<String, (std::time::Instant, u32)>>,
}

/// Addresses tracked at most; beyond it, windows already over are forgotten first and, if
/// that is not enough, all of them (a flood from many addresses must not exhaust memory).
const THROTTLE_ADDRESSES: usize = 100_000;

impl Throttle {
    /// At most `limit` failures per address per `window`.
    pub fn new(limit: u32, window: std::time::Duration) -> Self {
        Self {
            limit,
            window,
            failures: std::sync::Mutex::default(),
        }
    }

    /// `Some(seconds to wait)` when `address` is locked out now.
    pub fn locked(&self, address: &str) -> Option<u64> {
        let failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        let (since, count) = failures.get(address)?;
        let elapsed = since.elapsed();
        (*count >= self.limit && elapsed < self.window)
            .then(|| (self.window - elapsed).as_secs().max(1))
    }

    /// Notes a failed authentication from `address`.
    pub fn failed(&self, address: &str) {
        let mut failures = self.failures.lock().unwrap_or_else(|e| e.into_inner());
        if failures.len() >= THROTTLE_ADDRESSES && !failures.contains_key(address) {
            let window = self.window;
            failures.retain(|_, (since, _)| since.elapsed() < window);
            if failures.len() >= THROTTLE_ADDRESSES {
                failures.clear();
            }
        }
        let entry = failures
            .entry(address.to_owned())
            .or_insert((std::time::Instant::now(), 0));
        if entry.0.elapsed() >= self.window {
            *entry = (std::time::Instant::now(), 0);
        }
        entry.1 += 1;
    }
}

impl Default for Throttle {
    /// Ten failures a minute.
    fn default() -> Self {
        Self::new(10, std::time::Duration::from_secs(60))
    }
}
