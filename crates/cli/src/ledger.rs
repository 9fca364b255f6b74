//! `jinguan keys ...` and `jinguan ledger ...`: the electronic ledger from the command line.
//!
//! A data directory holds `ledger.db` (the SQLite store) and `keys/private.pem` and
//! `keys/public.pem` (the head-signing key, created on first write if absent).
//! JSON formats: hashes, signatures and payloads are lower-case hex; see ARCHITECTURE.md.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use clap::Subcommand;
use jinguan_crypto::{Algorithm, SigningKey, VerifyingKey, DEFAULT_DISTID};
use jinguan_ledger::{ConsistencyProof, Entry, InclusionProof, Submission, TreeHead};
use jinguan_store::sqlite::SqliteStore;
use jinguan_store::{LedgerStore, Options, StoreError};

use crate::{say, Failure};

#[derive(Subcommand)]
pub(crate) enum KeysCommand {
    /// Generate a signing key pair (PKCS#8 `private.pem`, SPKI `public.pem`, OpenSSL-readable).
    New {
        /// Algorithm: sm2 (SM2 with SM3) or ed25519.
        #[arg(long, default_value = "sm2")]
        alg: String,
        /// Directory to write into.
        #[arg(long)]
        out: PathBuf,
    },
}

#[derive(Subcommand)]
pub(crate) enum LedgerCommand {
    /// Append standard input as one entry; prints the JSON receipt. A conflict exits 3.
    Append {
        #[arg(long)]
        data_dir: PathBuf,
        #[arg(long)]
        ledger: String,
        #[arg(long)]
        submission_id: String,
        #[arg(long)]
        kind: String,
        /// Who submits (party id or certificate subject).
        #[arg(long, default_value = "cli")]
        submitter: String,
        #[arg(long, default_value_t = 1)]
        schema_version: u32,
    },
    /// Print the latest signed tree head as JSON.
    Head {
        #[arg(long)]
        data_dir: PathBuf,
        #[arg(long)]
        ledger: String,
        /// The head at exactly this size instead of the latest.
        #[arg(long)]
        tree_size: Option<u64>,
    },
    /// Print one entry as JSON.
    Entry {
        #[arg(long)]
        data_dir: PathBuf,
        #[arg(long)]
        ledger: String,
        #[arg(long)]
        seq: u64,
    },
    /// Print an inclusion proof (`--seq`) or a consistency proof (`--from`, `--to`) as JSON.
    Proof {
        #[arg(long)]
        data_dir: PathBuf,
        #[arg(long)]
        ledger: String,
        #[arg(long, conflicts_with_all = ["from", "to"])]
        seq: Option<u64>,
        /// Tree size for the inclusion proof; the latest head's by default.
        #[arg(long)]
        tree_size: Option<u64>,
        #[arg(long, requires = "to")]
        from: Option<u64>,
        #[arg(long, requires = "from")]
        to: Option<u64>,
    },
    /// Check every entry, link, node and signed head; exits non-zero naming the first bad
    /// sequence number.
    Verify {
        #[arg(long)]
        data_dir: PathBuf,
        /// One ledger; all by default.
        #[arg(long)]
        ledger: Option<String>,
    },
    /// Check an entry against a signed head with the public key alone (or, with
    /// `--old-head`, that one head extends another). Exits 0 or 1.
    VerifyProof {
        #[arg(long)]
        public_key: PathBuf,
        #[arg(long)]
        head: PathBuf,
        #[arg(long, required_unless_present = "old_head")]
        entry: Option<PathBuf>,
        #[arg(long)]
        proof: PathBuf,
        /// An older head, to check a consistency proof instead of an inclusion proof.
        #[arg(long, conflicts_with = "entry")]
        old_head: Option<PathBuf>,
    },
    /// Concurrent appends; after each acknowledgement a journal line is written and flushed.
    Stress {
        #[arg(long)]
        data_dir: PathBuf,
        #[arg(long, default_value_t = 8)]
        clients: usize,
        /// Appends per client.
        #[arg(long, default_value_t = 1000)]
        count: u64,
        /// Journal file (JSON lines).
        #[arg(long)]
        journal: PathBuf,
        #[arg(long, default_value = "stress")]
        ledger: String,
        /// Payload size in bytes.
        #[arg(long, default_value_t = 256)]
        payload_bytes: usize,
    },
}

fn store_failure(error: StoreError) -> Failure {
    let text = error.to_string();
    // The display starts with the code; the failure line prints it once.
    let message = text
        .split_once(": ")
        .map_or(text.clone(), |(_, rest)| rest.to_owned());
    Failure::new(error.code(), message)
}

fn read_text(path: &Path) -> Result<String, Failure> {
    std::fs::read_to_string(path)
        .map_err(|e| Failure::new("E0001", format!("cannot read {}: {e}", path.display())))
}

fn write_new(path: &Path, text: &str) -> Result<(), Failure> {
    let mut file = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .map_err(|e| Failure::new("E0005", format!("cannot create {}: {e}", path.display())))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .map_err(|e| Failure::new("E0004", format!("cannot write {}: {e}", path.display())))
}

pub(crate) fn keys(command: KeysCommand) -> Result<(), Failure> {
    let KeysCommand::New { alg, out } = command;
    let algorithm = Algorithm::from_id(&alg).map_err(|e| Failure::new("C0003", e.to_string()))?;
    let key = SigningKey::generate(algorithm, DEFAULT_DISTID)
        .map_err(|e| Failure::new("C0001", e.to_string()))?;
    std::fs::create_dir_all(&out)
        .map_err(|e| Failure::new("E0005", format!("cannot create {}: {e}", out.display())))?;
    write_new(&out.join("private.pem"), &key.to_pem())?;
    write_new(&out.join("public.pem"), &key.verifying_key().to_pem())?;
    say!(
        "{}",
        serde_json::json!({"algorithm": algorithm, "key_id": key.verifying_key().key_id(), "dir": out})
    );
    Ok(())
}

/// The data directory's signing key (the platform's: it signs tree heads and receipts),
/// sealed under the operator key in `keys/private.sealed`; created (SM2) on first use by a
/// writer, with its public half in `keys/public.pem` for readers and verifiers.
pub(crate) fn signing_key(data_dir: &Path, create: bool) -> Result<Option<SigningKey>, Failure> {
    let keys = data_dir.join("keys");
    let (sealed, legacy) = (keys.join("private.sealed"), keys.join("private.pem"));
    if !create && !sealed.exists() && !legacy.exists() {
        return Ok(None);
    }
    std::fs::create_dir_all(&keys)
        .map_err(|e| Failure::new("E0005", format!("cannot create {}: {e}", keys.display())))?;
    let operator = crate::operator::key()?;
    let (key, fresh) = jinguan_server::pki::sealed_key(&sealed, &legacy, &operator, "platform")
        .map_err(|e| Failure::new("C0004", e))?;
    let public = keys.join("public.pem");
    if fresh || !public.exists() {
        jinguan_server::pki::replace_synced(&public, key.verifying_key().to_pem().as_bytes())
            .map_err(|e| Failure::new("E0004", e))?;
    }
    if fresh {
        eprintln!(
            "created head-signing key {} in {} (sealed under the operator key)",
            key.verifying_key().key_id(),
            keys.display()
        );
    }
    Ok(Some(key))
}

pub(crate) fn open_writer(data_dir: &Path) -> Result<SqliteStore, Failure> {
    let key = signing_key(data_dir, true)?.expect("created above");
    SqliteStore::open(&data_dir.join("ledger.db"), Options::new(key)).map_err(store_failure)
}

fn open_reader(data_dir: &Path) -> Result<SqliteStore, Failure> {
    let public = read_text(&data_dir.join("keys/public.pem"))?;
    let verifying_key = VerifyingKey::from_pem(&public, DEFAULT_DISTID)
        .map_err(|e| Failure::new("C0001", e.to_string()))?;
    SqliteStore::open_read_only(
        &data_dir.join("ledger.db"),
        Options::read_only(verifying_key),
    )
    .map_err(store_failure)
}

fn print_json(value: &impl serde::Serialize) -> Result<(), Failure> {
    let text =
        serde_json::to_string_pretty(value).map_err(|e| Failure::new("E0003", e.to_string()))?;
    say!("{text}");
    Ok(())
}

pub(crate) fn run(command: LedgerCommand) -> Result<(), Failure> {
    match command {
        LedgerCommand::Append {
            data_dir,
            ledger,
            submission_id,
            kind,
            submitter,
            schema_version,
        } => {
            let mut payload = Vec::new();
            std::io::stdin()
                .take(jinguan_ledger::entry::MAX_PAYLOAD_BYTES as u64 + 1)
                .read_to_end(&mut payload)
                .map_err(|e| Failure::new("E0001", format!("cannot read standard input: {e}")))?;
            let store = open_writer(&data_dir)?;
            let submission = Submission {
                kind,
                schema_version,
                submitter,
                submission_id,
                payload,
                submitter_signature: None,
            };
            let receipt = store.append(&ledger, submission).map_err(store_failure)?;
            say!("{}", receipt.to_json());
            Ok(())
        }
        LedgerCommand::Head {
            data_dir,
            ledger,
            tree_size,
        } => {
            let store = open_reader(&data_dir)?;
            let head = match tree_size {
                Some(size) => store.head_at(&ledger, size),
                None => store.head(&ledger),
            };
            print_json(&head.map_err(store_failure)?)
        }
        LedgerCommand::Entry {
            data_dir,
            ledger,
            seq,
        } => {
            let (entry, _) = open_reader(&data_dir)?
                .entry(&ledger, seq)
                .map_err(store_failure)?;
            print_json(&entry)
        }
        LedgerCommand::Proof {
            data_dir,
            ledger,
            seq,
            tree_size,
            from,
            to,
        } => {
            let store = open_reader(&data_dir)?;
            match (seq, from, to) {
                (Some(seq), _, _) => {
                    let size = match tree_size {
                        Some(size) => size,
                        None => store.head(&ledger).map_err(store_failure)?.tree_size,
                    };
                    print_json(
                        &store
                            .inclusion_proof(&ledger, seq, size)
                            .map_err(store_failure)?,
                    )
                }
                (None, Some(from), Some(to)) => print_json(
                    &store
                        .consistency_proof(&ledger, from, to)
                        .map_err(store_failure)?,
                ),
                _ => Err(Failure::new("E0006", "give --seq N, or --from A --to B")),
            }
        }
        LedgerCommand::Verify { data_dir, ledger } => verify(&data_dir, ledger),
        LedgerCommand::VerifyProof {
            public_key,
            head,
            entry,
            proof,
            old_head,
        } => verify_proof(
            &public_key,
            &head,
            entry.as_deref(),
            &proof,
            old_head.as_deref(),
        ),
        LedgerCommand::Stress {
            data_dir,
            clients,
            count,
            journal,
            ledger,
            payload_bytes,
        } => stress(&data_dir, clients, count, &journal, &ledger, payload_bytes),
    }
}

fn verify(data_dir: &Path, ledger: Option<String>) -> Result<(), Failure> {
    let store = open_reader(data_dir)?;
    let ledgers = match ledger {
        Some(ledger) => vec![ledger],
        None => store.ledgers().map_err(store_failure)?,
    };
    for ledger in ledgers {
        let report = store.verify(&ledger).map_err(store_failure)?;
        say!(
            "{}",
            serde_json::json!({"ledger": report.ledger, "entries": report.entries, "heads": report.heads, "root_hash": report.root_hash, "status": "intact"})
        );
    }
    Ok(())
}

fn parse_file<T: serde::de::DeserializeOwned>(path: &Path, what: &str) -> Result<T, Failure> {
    serde_json::from_str(&read_text(path)?)
        .map_err(|e| Failure::new("E0007", format!("{} is not a {what}: {e}", path.display())))
}

fn verify_proof(
    public_key: &Path,
    head: &Path,
    entry: Option<&Path>,
    proof: &Path,
    old_head: Option<&Path>,
) -> Result<(), Failure> {
    let key = VerifyingKey::from_pem(&read_text(public_key)?, DEFAULT_DISTID)
        .map_err(|e| Failure::new("C0001", e.to_string()))?;
    let head: TreeHead = parse_file(head, "tree head")?;
    let result = match (entry, old_head) {
        (Some(entry), _) => {
            let entry: Entry = parse_file(entry, "ledger entry")?;
            let proof: InclusionProof = parse_file(proof, "inclusion proof")?;
            jinguan_ledger::verify_entry_in_head(&entry, &proof, &head, &key)
        }
        (None, Some(old_head)) => {
            let old: TreeHead = parse_file(old_head, "tree head")?;
            let proof: ConsistencyProof = parse_file(proof, "consistency proof")?;
            jinguan_ledger::verify_heads_consistent(&old, &head, &proof, &key)
        }
        (None, None) => return Err(Failure::new("E0006", "give --entry, or --old-head")),
    };
    match result {
        Ok(()) => {
            say!(
                "{}",
                serde_json::json!({"verified": true, "ledger": head.ledger, "tree_size": head.tree_size})
            );
            Ok(())
        }
        Err(error) => {
            let text = error.to_string();
            let message = text
                .split_once(": ")
                .map_or(text.clone(), |(_, rest)| rest.to_owned());
            Err(Failure::new(error.code(), message))
        }
    }
}

fn stress(
    data_dir: &Path,
    clients: usize,
    count: u64,
    journal: &Path,
    ledger: &str,
    payload_bytes: usize,
) -> Result<(), Failure> {
    let store = Arc::new(open_writer(data_dir)?);
    let journal_file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(journal)
        .map_err(|e| Failure::new("E0005", format!("cannot open {}: {e}", journal.display())))?;
    let journal_file = Arc::new(std::sync::Mutex::new(journal_file));
    // Submission ids are unique per run: a restarted stress run never repeats a finished one.
    let run_id = format!("{}-{}", std::process::id(), crate::bench::now_nanos());
    let acknowledged = Arc::new(AtomicU64::new(0));
    let start = std::time::Instant::now();
    let failures: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = (0..clients)
            .map(|client| {
                let (store, journal_file, acknowledged, run_id) = (store.clone(), journal_file.clone(), acknowledged.clone(), run_id.clone());
                scope.spawn(move || -> Result<(), String> {
                    for i in 0..count {
                        let submission_id = format!("{run_id}-c{client}-{i}");
                        let mut payload = format!("{submission_id} ").into_bytes();
                        payload.resize(payload_bytes.max(payload.len()), b'.');
                        let submission = Submission { kind: "stress".into(), schema_version: 1, submitter: format!("client-{client}"), submission_id: submission_id.clone(), payload, submitter_signature: None };
                        let receipt = store.append(ledger, submission).map_err(|e| e.to_string())?;
                        let head = store.head_at(ledger, receipt.tree_size).map_err(|e| e.to_string())?;
                        let line = serde_json::json!({"submission_id": submission_id, "seq": receipt.seq, "leaf_hash": receipt.leaf_hash, "tree_size": head.tree_size, "root_hash": head.root_hash});
                        let mut file = journal_file.lock().expect("journal lock");
                        writeln!(file, "{line}").and_then(|()| file.flush()).map_err(|e| e.to_string())?;
                        acknowledged.fetch_add(1, Ordering::Relaxed);
                    }
                    Ok(())
                })
            })
            .collect();
        handles
            .into_iter()
            .filter_map(|h| h.join().expect("client thread").err())
            .collect()
    });
    let elapsed = start.elapsed().as_secs_f64();
    let done = acknowledged.load(Ordering::Relaxed);
    eprintln!(
        "{done} acknowledged appends in {elapsed:.2} s ({:.0}/s)",
        done as f64 / elapsed
    );
    match failures.first() {
        None => Ok(()),
        Some(first) => Err(Failure::new(
            "S0002",
            format!("{} client(s) failed; first: {first}", failures.len()),
        )),
    }
}
