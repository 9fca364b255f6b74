//! `jinguan serve`: the HTTP API on a data directory; `jinguan admin token create`.

use std::path::Path;
use std::sync::Arc;

use jinguan_clearance::risk::{RuleSet, DEMO_RULES};
use jinguan_refdata::RefData;
use jinguan_server::{App, Role, Tokens};
use jinguan_store::LedgerStore;

use crate::{say, Failure};

fn store_failure(e: jinguan_store::StoreError) -> Failure {
    Failure::new(e.code(), e.to_string())
}

/// Opens the app on a data directory: its head-signing key and tokens, and the ledger in
/// the directory (SQLite) or at `store` (`postgres://...`).
pub(crate) fn open_app(
    refdata: RefData,
    data_dir: &Path,
    store: Option<&str>,
    signatures: Signatures,
) -> Result<Arc<App>, Failure> {
    std::fs::create_dir_all(data_dir).map_err(|e| {
        Failure::new(
            "E0401",
            format!("cannot create {}: {e}", data_dir.display()),
        )
    })?;
    let key = crate::ledger::signing_key(data_dir, true)?
        .ok_or_else(|| Failure::new("C0001", "no signing key"))?;
    // The same key signs the ledger's heads (in the store) and the platform's receipts.
    let platform_key: Arc<dyn jinguan_crypto::Signer> = Arc::new(key);
    let mut options = jinguan_store::Options::with_signer(platform_key.clone());
    options.projections = jinguan_server::projections();
    let store: Arc<dyn LedgerStore> = match store {
        None => Arc::new(
            jinguan_store::sqlite::SqliteStore::open(&data_dir.join("ledger.db"), options)
                .map_err(store_failure)?,
        ),
        Some(url) if url.starts_with("postgres://") || url.starts_with("postgresql://") => {
            Arc::new(
                jinguan_store::postgres::PostgresStore::open(url, options)
                    .map_err(store_failure)?,
            )
        }
        Some(other) => {
            return Err(Failure::new(
                "E0406",
                format!(
                    "--store {other:?}: give a postgres:// URL, or nothing for the embedded store"
                ),
            ))
        }
    };
    let rules = RuleSet::from_json(DEMO_RULES).map_err(|e| Failure::new("E0402", e.to_string()))?;
    let tokens = Tokens::open(data_dir).map_err(|e| Failure::new("E0407", e.to_string()))?;
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(0));
    let operator = crate::operator::key()?;
    let authority = jinguan_server::Authority::open(data_dir, now, platform_key, &operator)
        .map_err(|e| Failure::new("C0005", format!("the platform CA: {e}")))?;
    let mut app =
        App::new(store, Arc::new(refdata), rules, tokens, authority).map_err(store_failure)?;
    app.signatures_required = signatures == Signatures::Required;
    Ok(Arc::new(app))
}

/// Serves `app` on `listen` until Ctrl-C; `ready` is called with the bound address first.
pub(crate) fn serve_until_interrupted(
    app: Arc<App>,
    listen: &str,
    ready: impl FnOnce(std::net::SocketAddr) -> Result<(), Failure>,
    stop: impl std::future::Future<Output = ()> + Send + 'static,
) -> Result<(), Failure> {
    let runtime = tokio::runtime::Runtime::new()
        .map_err(|e| Failure::new("E0403", format!("cannot start the runtime: {e}")))?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(listen)
            .await
            .map_err(|e| Failure::new("E0404", format!("cannot listen on {listen}: {e}")))?;
        let address = listener
            .local_addr()
            .map_err(|e| Failure::new("E0404", e.to_string()))?;
        ready(address)?;
        let shutdown = async {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                () = stop => {}
            }
        };
        jinguan_server::serve(listener, app, shutdown)
            .await
            .map_err(|e| Failure::new("E0405", e.to_string()))
    })
}

/// Whether declarations must be signed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub(crate) enum Signatures {
    /// Every declaration and amendment carries a detached signature by a certificate of the
    /// caller's party (`X-Jws-Signature`).
    Required,
    /// Unsigned ones are taken too (signed ones are still checked): for trials and load
    /// tests without certificates.
    Optional,
}

pub(crate) fn run(
    refdata: RefData,
    data_dir: &Path,
    listen: &str,
    store: Option<&str>,
    signatures: Signatures,
    exchange: Option<&str>,
) -> Result<(), Failure> {
    let mut app = open_app(refdata, data_dir, store, signatures)?;
    let mailboxes = match exchange {
        Some(url) => {
            let config = jinguan_server::jetstream::Config::parse(url)
                .map_err(|e| Failure::new("E0420", e))?;
            let jetstream = jinguan_server::jetstream::JetStream::connect(&config)
                .map_err(|e| Failure::new("E0421", e))?;
            let app = std::sync::Arc::get_mut(&mut app).ok_or_else(|| {
                Failure::new("E0421", "the app was shared before its exchange was set")
            })?;
            app.jetstream = Some(std::sync::Arc::new(jetstream));
            format!("NATS JetStream ({})", config.servers.join(", "))
        }
        None => "embedded".to_owned(),
    };
    let where_ = store.map_or_else(
        || data_dir.display().to_string(),
        |_| "PostgreSQL".to_owned(),
    );
    serve_until_interrupted(
        app,
        listen,
        |address| {
            say!("jinguan serving on http://{address} (ledger in {where_}, mailboxes {mailboxes})");
            Ok(())
        },
        std::future::pending(),
    )
}

pub(crate) fn create_token(
    data_dir: &Path,
    party: &str,
    role: &str,
    days: u32,
    scopes: Vec<String>,
) -> Result<(), Failure> {
    let known = jinguan_server::authz::action_names();
    if let Some(unknown) = scopes.iter().find(|s| !known.contains(&s.as_str())) {
        return Err(Failure::new(
            "E0408",
            format!("scope {unknown:?}: one of {}", known.join(", ")),
        ));
    }
    let role = Role::parse(role).ok_or_else(|| {
        Failure::new(
            "E0408",
            format!("role {role:?}: enterprise, broker, officer, bank or admin"),
        )
    })?;
    std::fs::create_dir_all(data_dir).map_err(|e| {
        Failure::new(
            "E0401",
            format!("cannot create {}: {e}", data_dir.display()),
        )
    })?;
    let options = jinguan_server::auth::TokenOptions {
        days: Some(days),
        scopes,
    };
    let token = jinguan_server::auth::create_token_with(data_dir, party, role, &options)
        .map_err(|e| Failure::new("E0407", e.to_string()))?;
    say!("{token}");
    Ok(())
}

/// `jinguan admin token list`: one JSON line per token, without its hash.
pub(crate) fn list_tokens(data_dir: &Path) -> Result<(), Failure> {
    let tokens = jinguan_server::auth::list_tokens(data_dir)
        .map_err(|e| Failure::new("E0407", e.to_string()))?;
    for token in tokens {
        let mut shown = serde_json::to_value(&token).unwrap_or_default();
        if let Some(fields) = shown.as_object_mut() {
            fields.remove("sm3");
        }
        say!("{shown}");
    }
    Ok(())
}

/// `jinguan admin token revoke`.
pub(crate) fn revoke_token(data_dir: &Path, id: &str) -> Result<(), Failure> {
    match jinguan_server::auth::revoke_token(data_dir, id) {
        Ok(true) => {
            say!("revoked {id}");
            Ok(())
        }
        Ok(false) => Err(Failure::new("E0412", format!("no token with id {id:?}"))),
        Err(e) => Err(Failure::new("E0407", e.to_string())),
    }
}
