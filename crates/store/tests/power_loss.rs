//! T2 power loss and T3 fsync errors, on the real SQLite store opened through a
//! fault-injecting storage layer (`jinguan-faultfs`). Every write reaches the real file, so
//! SQLite runs as in production; the layer also keeps what a disk would hold after a power
//! cut — each file's content up to its last sync, and the writes issued since.
//!
//! Seeded: set `JINGUAN_POWER_SEED` to replay a run.

#![allow(clippy::unwrap_used)] // A panic in a test is a test failure with its message.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{mpsc, Arc, Mutex};
use std::time::Duration;

use jinguan_crypto::{Algorithm, SigningKey, DEFAULT_DISTID};
use jinguan_faultfs::Image;
use jinguan_ledger::Submission;
use jinguan_store::sqlite::SqliteStore;
use jinguan_store::{LedgerStore, Options, Receipt, StoreError};

fn next(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

fn seed(test: u64) -> u64 {
    let seed = std::env::var("JINGUAN_POWER_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x0b5e_55ed_u64);
    eprintln!("seed {seed} (set JINGUAN_POWER_SEED to replay)");
    (seed ^ test.wrapping_mul(0x9e37_79b9_7f4a_7c15)) | 1
}

/// A fresh directory, memory-backed where there is such a place: images are many and
/// short-lived.
fn scratch(test: &str) -> PathBuf {
    let base = if Path::new("/dev/shm").is_dir() {
        PathBuf::from("/dev/shm")
    } else {
        std::env::temp_dir()
    };
    let root = base.join(format!("jinguan-{test}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).unwrap();
    root
}

fn key_pem() -> String {
    SigningKey::generate(Algorithm::Sm2Sm3, DEFAULT_DISTID)
        .unwrap()
        .to_pem()
}

fn options(pem: &str, vfs: Option<&str>) -> Options {
    let mut options = Options::new(SigningKey::from_pem(pem, DEFAULT_DISTID).unwrap());
    options.sqlite_vfs = vfs.map(str::to_owned);
    options
}

fn submission(client: usize, i: usize) -> Submission {
    Submission {
        kind: "power".into(),
        schema_version: 1,
        submitter: format!("client-{client}"),
        submission_id: format!("c{client}-{i}"),
        payload: vec![b'x'; 200 + (i % 300)],
        submitter_signature: None,
    }
}

/// Opens a crash image read-write on the ordinary storage layer (a restart after the power
/// cut) and checks that every acknowledged append is there, unchanged. With `audit`, also
/// checks every entry, link, node and signed head, so nothing half-written is visible.
/// Returns the recovered size.
fn recover(dir: &Path, pem: &str, known: &[Receipt], audit: bool, what: &str) -> u64 {
    let store = SqliteStore::open(&dir.join("ledger.db"), options(pem, None))
        .unwrap_or_else(|e| panic!("{what}: refused to open read-write: {e}"));
    let size = match store.head("power") {
        Ok(head) => head.tree_size,
        Err(StoreError::NotFound(_)) if known.is_empty() => 0,
        Err(e) => panic!("{what}: no head: {e}"),
    };
    let highest = known.iter().map(|r| r.seq + 1).max().unwrap_or(0);
    assert!(
        size >= highest,
        "{what}: {size} entries, but entry {} was acknowledged",
        highest.saturating_sub(1)
    );
    for receipt in known {
        let (_, leaf) = store
            .entry("power", receipt.seq)
            .unwrap_or_else(|e| panic!("{what}: acknowledged entry {} lost: {e}", receipt.seq));
        assert_eq!(
            leaf, receipt.leaf_hash,
            "{what}: entry {} changed",
            receipt.seq
        );
    }
    if audit && size > 0 {
        let report = store
            .verify("power")
            .unwrap_or_else(|e| panic!("{what}: {e}"));
        assert_eq!(report.entries, size, "{what}");
    }
    size
}

/// T2: while four clients append, crash images are cut at seeded write, truncate and sync
/// operations — commits half-written, checkpoints half-copied into the main file, the log
/// being restarted. Each must open read-write with every acknowledged append intact and
/// nothing half-visible.
#[test]
fn t2_power_loss_at_seeded_points_keeps_every_acknowledged_append() {
    const IMAGES: usize = 300;
    let control = jinguan_faultfs::register("jinguan-t2");
    let mut rng = seed(2);
    let root = scratch("t2");
    let pem = key_pem();
    let mut live = options(&pem, Some("jinguan-t2"));
    // Frequent checkpoints: crash points then also fall in main-file writes and log restarts.
    live.wal_autocheckpoint_pages = 128;
    let store = Arc::new(SqliteStore::open(&root.join("ledger.db"), live).unwrap());
    let acked: Arc<Mutex<Vec<Receipt>>> = Arc::default();

    // The hook runs inside the storage layer before an operation, with the writer blocked
    // there: the acknowledged set it reads cannot include anything that operation makes
    // durable.
    let (images, checks) = mpsc::sync_channel::<(u64, PathBuf, usize, Image)>(2);
    {
        let (acked, root) = (acked.clone(), root.clone());
        let mut taken = 0;
        control.set_hook(Some(Box::new(move |op, disk| {
            if taken == IMAGES || next(&mut rng) % 5 != 0 {
                return;
            }
            let known = acked.lock().unwrap().len();
            let dir = root.join(format!("crash-{op}"));
            let image = disk.materialise(&dir, next(&mut rng)).unwrap();
            taken += 1;
            // Blocks while the checker is behind: the writer waits, nothing is skipped. If
            // the checker has failed there is no one to tell.
            let _ = images.send((op, dir, known, image));
        })));
    }
    let stop = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..4)
        .map(|client| {
            let (store, acked, stop) = (store.clone(), acked.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut i = 0;
                while !stop.load(Ordering::SeqCst) {
                    let tickets: Vec<_> = (i..i + 32)
                        .map(|k| store.submit("power", submission(client, k)).unwrap())
                        .collect();
                    i += 32;
                    for ticket in tickets {
                        let receipt = ticket.wait().unwrap();
                        acked.lock().unwrap().push(receipt);
                    }
                }
            })
        })
        .collect();

    let (mut mid_write, mut dropped, mut torn, mut unacknowledged_whole) = (0, 0, 0, 0);
    for n in 0..IMAGES {
        let (op, dir, known, image) = checks
            .recv_timeout(Duration::from_secs(120))
            .expect("the writer stopped producing crash points");
        let known = acked.lock().unwrap()[..known].to_vec();
        let what = format!("crash point {n} at operation {op} ({image:?})");
        let size = recover(&dir, &pem, &known, n % 3 == 0, &what);
        if image.pending > 0 {
            mid_write += 1;
        }
        dropped += usize::from(image.dropped > 0 || image.applied < image.pending);
        torn += usize::from(image.torn);
        unacknowledged_whole += usize::from(size > known.len() as u64);
        std::fs::remove_dir_all(&dir).unwrap();
    }
    stop.store(true, Ordering::SeqCst);
    for client in clients {
        client.join().unwrap();
    }
    control.set_hook(None);
    let total = acked.lock().unwrap().len();
    eprintln!(
        "{IMAGES} crash points over {total} appends and {} storage operations: {mid_write} with \
         unsynced writes, {dropped} dropped some, {torn} tore one; {unacknowledged_whole} \
         recovered appends not yet acknowledged, whole",
        control.ops()
    );
    assert!(
        mid_write >= IMAGES / 2,
        "too few points fell mid-write: {mid_write}"
    );
    assert!(torn >= IMAGES / 4, "too few torn writes: {torn}");
    drop(store);
    std::fs::remove_dir_all(&root).unwrap();
}

/// T2, the process's side: the disk goes away at a seeded operation in the middle of the
/// clients' appends. From then on nothing is acknowledged, and the crash image (durable
/// writes, a seeded part of the unsynced ones, one torn) holds everything that was.
#[test]
fn power_cut_mid_commit_acknowledges_nothing_it_cannot_keep() {
    let control = jinguan_faultfs::register("jinguan-cut");
    let mut rng = seed(3);
    let root = scratch("cut");
    let pem = key_pem();
    for run in 0..20 {
        control.reset();
        let dir = root.join(format!("run-{run}"));
        std::fs::create_dir_all(&dir).unwrap();
        let mut live = options(&pem, Some("jinguan-cut"));
        live.wal_autocheckpoint_pages = 64;
        let store = Arc::new(SqliteStore::open(&dir.join("ledger.db"), live).unwrap());
        control.crash_at(control.ops() + 1 + next(&mut rng) % 600);
        let clients: Vec<_> = (0..2)
            .map(|client| {
                let store = store.clone();
                std::thread::spawn(move || {
                    let mut acked = Vec::new();
                    for round in 0.. {
                        let tickets: Vec<_> = (0..16)
                            .map(|k| store.submit("power", submission(client, round * 16 + k)))
                            .collect();
                        let mut failed = false;
                        for ticket in tickets {
                            match ticket.and_then(|t| t.wait()) {
                                Ok(receipt) => acked.push(receipt),
                                Err(StoreError::Stopped(_)) => failed = true,
                                Err(e) => panic!("unexpected error: {e}"),
                            }
                        }
                        if failed {
                            return acked;
                        }
                    }
                    unreachable!()
                })
            })
            .collect();
        let known: Vec<Receipt> = clients
            .into_iter()
            .flat_map(|c| c.join().unwrap())
            .collect();
        assert!(control.crashed(), "run {run}");
        assert!(
            store.stopped().is_some(),
            "run {run}: the writer kept going"
        );
        assert!(
            matches!(
                store.append("power", submission(9, run)),
                Err(StoreError::Stopped(_))
            ),
            "run {run}: acknowledged after the crash"
        );
        drop(store);
        let image = control
            .materialise(&dir.join("image"), next(&mut rng))
            .unwrap();
        let what = format!("run {run} ({} acknowledged, {image:?})", known.len());
        recover(&dir.join("image"), &pem, &known, true, &what);
        std::fs::remove_dir_all(&dir).unwrap();
    }
    std::fs::remove_dir_all(&root).unwrap();
}

/// T3: an fsync error (injected under SQLite, where the operating system reports it) stops
/// the writer. The submissions of the failed commit and every later one are refused, even
/// though the next fsync would succeed; a restart finds every acknowledged append.
#[test]
fn t3_fsync_error_stops_the_writer() {
    let control = jinguan_faultfs::register("jinguan-t3");
    let root = scratch("t3");
    let pem = key_pem();
    let db = root.join("ledger.db");
    let store = Arc::new(SqliteStore::open(&db, options(&pem, Some("jinguan-t3"))).unwrap());
    let armed = Arc::new(AtomicBool::new(false));
    let clients: Vec<_> = (0..4)
        .map(|client| {
            let (store, armed, control) = (store.clone(), armed.clone(), control.clone());
            std::thread::spawn(move || {
                let mut acked = Vec::new();
                let mut i = 0;
                loop {
                    i += 1;
                    match store.append("power", submission(client, i)) {
                        Ok(receipt) => acked.push(receipt),
                        Err(StoreError::Stopped(_)) => break,
                        Err(e) => panic!("unexpected error: {e}"),
                    }
                    if client == 0 && i == 50 {
                        control.fail_sync(1);
                        armed.store(true, Ordering::SeqCst);
                    }
                }
                // Stopped for good: the fault has passed, yet nothing more is acknowledged.
                for k in 0..20 {
                    assert!(matches!(
                        store.append("power", submission(client, 10_000 + k)),
                        Err(StoreError::Stopped(_))
                    ));
                }
                acked
            })
        })
        .collect();
    let known: Vec<Receipt> = clients
        .into_iter()
        .flat_map(|c| c.join().unwrap())
        .collect();
    assert!(armed.load(Ordering::SeqCst));
    assert_eq!(control.failed_syncs(), 1);
    let reason = store.stopped().expect("the writer stopped");
    assert!(
        reason.contains("fsync") || reason.contains("disk I/O"),
        "{reason}"
    );
    drop(store);
    // The failed commit's frames were written, only their sync failed: after a restart
    // they may be there or not, but whole either way.
    let size = recover(&root, &pem, &known, true, "after the fsync error");
    eprintln!(
        "fsync failed after {} acknowledged appends; {size} recovered ({})",
        known.len(),
        reason
    );
    std::fs::remove_dir_all(&root).unwrap();
}
