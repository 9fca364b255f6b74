//! Bearer tokens, each bound to a party and a role.
//!
//! Tokens live in `tokens.json` in the data directory, one record per token: the party, the
//! role, when it was made and the SM3 hash of the token, never the token itself (a copy of
//! the file does not let anyone in). `jinguan admin token create` adds one; a running server
//! sees it at the next request that presents an unknown token (it re-reads the file when
//! the file has changed).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::RwLock;
use std::time::SystemTime;

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

#[derive(Debug, Clone, Serialize, Deserialize)]
struct Record {
    party: String,
    role: Role,
    created: String,
    sm3: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct TokenFile {
    tokens: Vec<Record>,
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

/// Makes a token for `party` in `role`, records its hash in `data_dir`'s token file
/// (written whole to a new file, synced, then renamed over the old one) and returns it.
pub fn create_token(data_dir: &Path, party: &str, role: Role) -> Result<String, AuthError> {
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
    file.tokens.push(Record {
        party: party.to_owned(),
        role,
        created: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .ok()
            .and_then(|d| chrono::DateTime::from_timestamp(i64::try_from(d.as_secs()).ok()?, 0))
            .map(|t| t.to_rfc3339())
            .unwrap_or_default(),
        sm3: digest(&token),
    });
    let text = serde_json::to_vec_pretty(&file).map_err(|e| file_error(&path, e))?;
    let temporary = data_dir.join(format!("{TOKEN_FILE}.new"));
    let write = || -> std::io::Result<()> {
        use std::io::Write;
        let mut out = std::fs::File::create(&temporary)?;
        out.write_all(&text)?;
        out.sync_all()?;
        std::fs::rename(&temporary, &path)?;
        std::fs::File::open(data_dir)?.sync_all()
    };
    write().map_err(|e| file_error(&path, e))?;
    Ok(token)
}

/// The tokens a server accepts.
pub struct Tokens {
    path: Option<PathBuf>,
    state: RwLock<(Option<SystemTime>, HashMap<String, Principal>)>,
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
        let modified = std::fs::metadata(path).and_then(|m| m.modified()).ok();
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
                    Principal {
                        party: r.party,
                        role: r.role,
                    },
                )
            })
            .collect();
        *self.state.write().unwrap_or_else(|e| e.into_inner()) = (modified, map);
        Ok(())
    }

    /// Who holds `token`, if anyone.
    pub fn check(&self, token: &str) -> Option<Principal> {
        let key = digest(token);
        let found = |tokens: &Self| {
            let state = tokens.state.read().unwrap_or_else(|e| e.into_inner());
            state.1.get(&key).cloned()
        };
        found(self).or_else(|| {
            // A token made since the file was last read.
            self.reload().ok()?;
            found(self)
        })
    }
}
