//! `jinguan bench ledger`: durable appends against the plain-SQLite floor, and proof cost.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::Instant;

use jinguan_crypto::{Algorithm, SigningKey, DEFAULT_DISTID};
use jinguan_ledger::Submission;
use jinguan_store::sqlite::{plain_insert_peer, SqliteStore};
use jinguan_store::{LedgerStore, Options};

use crate::{say, Failure};

/// What `jinguan bench ledger` measures.
#[derive(clap::Args)]
pub(crate) struct Params {
    /// Appends to time.
    #[arg(long, default_value_t = 200_000)]
    appends: u64,
    /// Concurrent submitters.
    #[arg(long, default_value_t = 8)]
    submitters: u64,
    /// Appends each submitter keeps in flight.
    #[arg(long, default_value_t = 512)]
    in_flight: usize,
    /// Payload size.
    #[arg(long, default_value_t = 256)]
    payload_bytes: usize,
    /// Ledger size for the proof benchmark (built with the same appends).
    #[arg(long, default_value_t = 1_000_000)]
    proof_entries: u64,
    /// Directory for the databases (a temporary one by default, removed after).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Also run the append load against this PostgreSQL (key=value connection string).
    #[arg(long)]
    postgres: Option<String>,
    /// Append rounds, each ours then the peers'; the summary gives medians.
    #[arg(long, default_value_t = 3)]
    rounds: u64,
    /// Only the proof benchmark, on the ledger a previous run left in `--dir`.
    #[arg(long, requires = "dir")]
    proofs_only: bool,
}

/// Either backend's pipelined submit.
type Submit<'a> =
    &'a (dyn Fn(Submission) -> Result<jinguan_store::Pending, jinguan_store::StoreError> + Sync);

fn failure(e: impl std::fmt::Display) -> Failure {
    Failure::new("E0301", e.to_string())
}

fn submission(client: u64, i: u64, payload_bytes: usize) -> Submission {
    let submission_id = format!("c{client}-{i}");
    let mut payload = submission_id.clone().into_bytes();
    payload.resize(payload_bytes, b'.');
    Submission {
        kind: "bench".into(),
        schema_version: 1,
        submitter: format!("client-{client}"),
        submission_id,
        payload,
        submitter_signature: None,
    }
}

/// Appends `count` entries from `submitters` threads, each keeping `in_flight` pending.
fn append_load(
    submit: Submit<'_>,
    first: u64,
    count: u64,
    params: &Params,
) -> Result<f64, Failure> {
    let per = count / params.submitters;
    let start = Instant::now();
    std::thread::scope(|scope| -> Result<(), Failure> {
        let handles: Vec<_> = (0..params.submitters)
            .map(|client| {
                scope.spawn(move || -> Result<(), Failure> {
                    let mut pending = VecDeque::with_capacity(params.in_flight);
                    for i in first..first + per {
                        if pending.len() == params.in_flight {
                            let ticket: jinguan_store::Pending =
                                pending.pop_front().expect("full queue");
                            ticket.wait().map_err(failure)?;
                        }
                        pending.push_back(
                            submit(submission(client, i, params.payload_bytes)).map_err(failure)?,
                        );
                    }
                    for ticket in pending {
                        ticket.wait().map_err(failure)?;
                    }
                    Ok(())
                })
            })
            .collect();
        for handle in handles {
            handle.join().expect("submitter thread")?;
        }
        Ok(())
    })?;
    Ok(start.elapsed().as_secs_f64())
}

pub(crate) fn run(params: &Params) -> Result<(), Failure> {
    let dir = params.dir.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("jinguan-bench-{}", std::process::id()))
    });
    let key_file = dir.join("bench-key.pem");
    if params.proofs_only {
        let pem = std::fs::read_to_string(&key_file).map_err(failure)?;
        let key = SigningKey::from_pem(&pem, DEFAULT_DISTID).map_err(failure)?;
        let store = SqliteStore::open_read_only(&dir.join("ledger.db"), Options::new(key))
            .map_err(failure)?;
        return proofs(&store);
    }
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(failure)?;
    let key = SigningKey::generate(Algorithm::Sm2Sm3, DEFAULT_DISTID).map_err(failure)?;
    // Kept beside the ledger so `--proofs-only` can reopen it.
    std::fs::write(&key_file, key.to_pem()).map_err(failure)?;
    let store = SqliteStore::open(&dir.join("ledger.db"), Options::new(key)).map_err(failure)?;
    let appends = params.appends - params.appends % params.submitters;
    say!(
        "ledger appends: SQLite WAL synchronous=FULL, {} submitters x {} in flight, {}-byte payloads, SM3 leaves, SM2-signed head per commit",
        params.submitters,
        params.in_flight,
        params.payload_bytes
    );
    let submit = |s: Submission| store.submit("bench", s);
    // Rounds alternate our appends with the peers' inserts, so a slow spell of this shared
    // machine's disk falls on both; the summary takes medians.
    let mut ours = Vec::new();
    let mut bare = Vec::new();
    let mut indexed = Vec::new();
    for round in 0..params.rounds {
        let commits_before = store.commits();
        let seconds = append_load(&submit, round * 1_000_000_000, appends, params)?;
        let commits = (store.commits() - commits_before).max(1);
        let rate = appends as f64 / seconds;
        let batch = appends / commits;
        say!("  round {}: jinguan group commit  {appends} appends in {seconds:.2} s = {rate:>9.0}/s  ({commits} commits, {batch} per commit)", round + 1);
        ours.push(rate);
        for (label, same_indexes, rates) in [
            ("plain SQLite inserts ", false, &mut bare),
            ("  + same indexes    ", true, &mut indexed),
        ] {
            let file = dir.join(format!("peer-{round}-{same_indexes}.db"));
            let peer_seconds = plain_insert_peer(
                &file,
                appends,
                batch.max(1),
                params.payload_bytes,
                same_indexes,
            )
            .map_err(failure)?
            .as_secs_f64();
            for suffix in ["", "-wal", "-shm"] {
                let _ = std::fs::remove_file(format!("{}{suffix}", file.display()));
            }
            let peer_rate = appends as f64 / peer_seconds;
            say!(
                "           {label}  {appends} rows    in {peer_seconds:.2} s = {peer_rate:>9.0}/s  ({batch} rows per transaction, same durability)  jinguan/peer {:.2}",
                rate / peer_rate
            );
            rates.push(peer_rate);
        }
    }
    let (ours, bare, indexed) = (median(&mut ours), median(&mut bare), median(&mut indexed));
    say!("  median of {} rounds: jinguan {ours:.0}/s (target >= 100,000/s); plain SQLite {bare:.0}/s, jinguan/peer {:.2}; with the same indexes and tree rows {indexed:.0}/s, jinguan/peer {:.2}",
        params.rounds, ours / bare, ours / indexed);

    let have = store.head("bench").map_err(failure)?.tree_size;
    if params.proof_entries > have {
        let grow = params.proof_entries - have;
        let grow = grow - grow % params.submitters;
        let seconds = append_load(&submit, 1_000_000_000, grow, params)?;
        say!(
            "  (grew the ledger to {} entries at {:.0}/s for the proof benchmark)",
            have + grow,
            grow as f64 / seconds
        );
    }
    proofs(&store)?;
    drop(store);
    if let Some(url) = &params.postgres {
        postgres(url, appends, params)?;
    }
    // A directory the caller named is kept for inspection.
    if params.dir.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}

/// The same append load against PostgreSQL, in a fresh database it creates (and leaves, for
/// inspection; its name is printed).
fn postgres(url: &str, appends: u64, params: &Params) -> Result<(), Failure> {
    let key = SigningKey::generate(Algorithm::Sm2Sm3, DEFAULT_DISTID).map_err(failure)?;
    let database = format!("jinguan_bench_{}", crate::bench::now_nanos());
    let url = jinguan_store::postgres::create_database(url, &database).map_err(failure)?;
    let store =
        jinguan_store::postgres::PostgresStore::open(&url, Options::new(key)).map_err(failure)?;
    let ledger = "bench".to_owned();
    let submit = |s: Submission| store.submit(&ledger, s);
    let seconds = append_load(&submit, 0, appends, params)?;
    say!(
        "  jinguan on PostgreSQL {appends} appends in {seconds:.2} s = {:>9.0}/s  (synchronous_commit=on, group commit, row lock per ledger; database {database})",
        appends as f64 / seconds
    );
    Ok(())
}

/// The median of a non-empty list (the upper one of an even count).
fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

fn proofs(store: &SqliteStore) -> Result<(), Failure> {
    let head = store.head("bench").map_err(failure)?;
    let size = head.tree_size;
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut random_seq = || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % size
    };
    // A first round from a freshly opened store pays for filling the caches; a server meets
    // that once. The second round asks for other, random leaves: the caches then hold what a
    // running server's would (the upper tree), and every leaf-level read is still new.
    let samples = 20_000;
    let mut rounds = Vec::new();
    let mut generated = Vec::with_capacity(samples);
    for _ in 0..2 {
        generated.clear();
        let start = Instant::now();
        for _ in 0..samples {
            let seq = random_seq();
            generated.push((
                seq,
                store.inclusion_proof("bench", seq, size).map_err(failure)?,
            ));
        }
        rounds.push(start.elapsed().as_secs_f64() * 1e6 / samples as f64);
    }
    let leaves: Vec<_> = generated
        .iter()
        .map(|(seq, _)| store.entry("bench", *seq).map(|(_, leaf)| leaf))
        .collect::<Result<_, _>>()
        .map_err(failure)?;
    let start = Instant::now();
    for ((_, proof), leaf) in generated.iter().zip(&leaves) {
        jinguan_ledger::merkle::verify_inclusion(head.hash_algorithm, leaf, proof, &head.root_hash)
            .map_err(failure)?;
    }
    let per_verify = start.elapsed().as_secs_f64() * 1e6 / samples as f64;
    say!(
        "inclusion proofs at {size} entries ({} hashes each), {samples} random leaves per round:",
        generated[0].1.path.len()
    );
    say!(
        "  generate {:8.1} µs (first round, cold caches {:.1} µs)   verify {per_verify:8.1} µs   (targets <= 50 µs each)",
        rounds[1],
        rounds[0]
    );
    Ok(())
}
