//! `jinguan bench crossborder`: CEB621 import inventories end to end, on a server this
//! process starts (SQLite in a scratch directory by default, `--store postgres://…`).
//!
//! Each inventory goes the whole way: the signed message read, checked against the official
//! schema, its signature verified, matched against its order, payment and waybill, numbered,
//! taxed against its buyer's yearly total, appended durably to the ledger with its receipts,
//! and answered with the CEB622 receipt. Messages are generated and signed before the clock
//! starts (each client signs on its own machine); `--per-message` inventories travel in one
//! message, as platforms send them in bulk (the schema allows 100).
//!
//! 1. **Documents.** Every parcel's order, payment and waybill are sent first (timed and
//!    reported, but not the figure).
//! 2. **Saturation.** `--count` inventories from `--concurrency` clients: inventories per
//!    second released, with latency percentiles.
//! 3. **Fixed rate.** Inventories due at `--rate` per second for `--seconds`, each latency
//!    from when it was due (so a stall shows in the tail): p50/p90/p99.
//!
//! The peer, in the same run: libxml2 (`xmllint --schema`) checking the same inventory
//! messages against the official XSD, beside our reading and schema check of them.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use clap::Args;
use jinguan_refdata::RefData;
use jinguan_server::Role;
use jinguan_testkit::ceb::{batch, Goods, Parcel, Parties};
use rust_decimal::Decimal;

use crate::{say, Failure};

/// Parameters of `jinguan bench crossborder`.
#[derive(Args)]
pub(crate) struct Params {
    /// Inventories in the saturation phase.
    #[arg(long, default_value_t = 20_000)]
    count: usize,
    /// Inventories per message (1 to 100).
    #[arg(long, default_value_t = 10)]
    per_message: usize,
    /// Concurrent clients.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Inventories per second in the fixed-rate phase.
    #[arg(long, default_value_t = 2000.0)]
    rate: f64,
    /// Seconds of the fixed-rate phase.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// The ledger's store: a `postgres://` URL (default: SQLite in a scratch directory).
    #[arg(long)]
    store: Option<String>,
    /// The official import XSD, for the peer (default: the shared corpus's, where present).
    #[arg(long)]
    xsd: Option<std::path::PathBuf>,
}

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1].as_secs_f64() * 1e3
}

/// Goods the parcels carry: shipped tariff lines with ad valorem VAT and MFN rates.
fn goods(refdata: &RefData) -> Vec<(String, String)> {
    crate::demo_ceb::goods(refdata)
}

fn parcels(goods: &[(String, String)], from: usize, count: usize, nonce: u128) -> Vec<Parcel> {
    (from..from + count)
        .map(|n| {
            let (code, name) = &goods[n % goods.len()];
            Parcel {
                order_no: format!("B{}{n:07}", nonce % 1_000_000),
                // Many buyers, each buying a few times a year well within the limits.
                buyer_id: format!("1101011990{:08}", n % 50_000),
                freight: Decimal::from(8),
                goods: vec![Goods {
                    gcode: code.clone(),
                    name: name.clone(),
                    qty: 1,
                    price: Decimal::from(80 + (n % 400) as u64),
                }],
            }
        })
        .collect()
}

struct Signed {
    documents: Vec<Vec<u8>>,
    inventories: Vec<Vec<u8>>,
}

fn prepare(
    parcels: &[Parcel],
    per_message: usize,
    signer: &(jinguan_crypto::SigningKey, String),
) -> Result<Signed, Failure> {
    let parties = Parties::default();
    let sign = |xml: &str| {
        jinguan_chinaport::xmldsig::sign(xml.as_bytes(), &signer.0, &signer.1, None)
            .map_err(|e| Failure::new("C0002", e.to_string()))
    };
    let mut signed = Signed {
        documents: Vec::new(),
        inventories: Vec::new(),
    };
    for chunk in parcels.chunks(per_message.clamp(1, 100)) {
        let m = batch(&parties, chunk, "20261129100000", true);
        for xml in [&m.order, &m.payment, &m.waybill] {
            signed.documents.push(sign(xml)?);
        }
        signed.inventories.push(sign(&m.inventory)?);
    }
    Ok(signed)
}

/// Sends `bodies` from `concurrency` clients, each body due at `rate` (per body) when given;
/// the latency of each from when it was due (or sent), and the count of each returnStatus.
fn send(
    base: &str,
    token: &str,
    bodies: &[Vec<u8>],
    concurrency: usize,
    rate: Option<f64>,
) -> (
    Duration,
    Vec<Duration>,
    std::collections::BTreeMap<String, u64>,
) {
    let next = AtomicUsize::new(0);
    let latencies = Mutex::new(Vec::with_capacity(bodies.len()));
    let outcomes = Mutex::new(std::collections::BTreeMap::<String, u64>::new());
    let url = format!("{base}/api/v1/messages");
    let start = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..concurrency.max(1) {
            scope.spawn(|| {
                let agent = ureq::AgentBuilder::new()
                    .timeout(Duration::from_secs(120))
                    .max_idle_connections_per_host(1)
                    .build();
                let mut mine = Vec::new();
                let mut counts = std::collections::BTreeMap::<String, u64>::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= bodies.len() {
                        break;
                    }
                    let due = rate.map(|r| start + Duration::from_secs_f64(i as f64 / r));
                    if let Some(wait) = due.and_then(|d| d.checked_duration_since(Instant::now())) {
                        std::thread::sleep(wait);
                    }
                    let sent = due.unwrap_or_else(Instant::now);
                    let answer = agent
                        .post(&url)
                        .set("Authorization", &format!("Bearer {token}"))
                        .set("Content-Type", "application/xml")
                        .send_bytes(&bodies[i]);
                    let text = match answer {
                        Ok(response) | Err(ureq::Error::Status(_, response)) => {
                            response.into_string().unwrap_or_default()
                        }
                        Err(e) => format!("transport: {e}"),
                    };
                    mine.push(sent.elapsed());
                    match jinguan_chinaport::ceb::parse(text.as_bytes()) {
                        Ok((message, _)) => {
                            for entity in &message.entities {
                                let status = entity.head.text("returnStatus").to_owned();
                                *counts.entry(status).or_default() += 1;
                            }
                        }
                        Err(_) => {
                            let shown: String = text.chars().take(120).collect();
                            *counts.entry(format!("error: {shown}")).or_default() += 1;
                        }
                    }
                }
                latencies
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .extend(mine);
                let mut all = outcomes.lock().unwrap_or_else(|e| e.into_inner());
                for (k, v) in counts {
                    *all.entry(k).or_default() += v;
                }
            });
        }
    });
    let wall = start.elapsed();
    let mut latencies = latencies.into_inner().unwrap_or_else(|e| e.into_inner());
    latencies.sort();
    (
        wall,
        latencies,
        outcomes.into_inner().unwrap_or_else(|e| e.into_inner()),
    )
}

pub(crate) fn run(params: &Params, refdata: RefData) -> Result<(), Failure> {
    let scratch =
        std::env::temp_dir().join(format!("jinguan-bench-crossborder-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&scratch);
    let goods = goods(&refdata);
    if goods.is_empty() {
        return Err(Failure::new("E0502", "no tariff line to sell"));
    }
    let app = crate::serve::open_app(
        refdata,
        &scratch,
        params.store.as_deref(),
        crate::serve::Signatures::Required,
    )?;
    let (stop, address, server) = crate::exchange_bench::start_server(app)?;
    let base = format!("http://{address}");
    let token = |party: &str, role| {
        jinguan_server::auth::create_token(&scratch, party, role)
            .map_err(|e| Failure::new("E0407", e.to_string()))
    };
    let broker = token("bench-broker", Role::Broker)?;
    let admin = token("bench-admin", Role::Admin)?;
    let signer = certify(&base, &admin)?;
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_millis());
    let per = params.per_message.clamp(1, 100);
    let fixed = (params.rate * params.seconds as f64) as usize;
    say!(
        "preparing {} parcels ({per} per message), signed...",
        params.count + fixed
    );
    let saturation = prepare(&parcels(&goods, 0, params.count, nonce), per, &signer)?;
    let paced = prepare(&parcels(&goods, params.count, fixed, nonce), per, &signer)?;

    // The peer: libxml2 checking the same inventory messages against the official XSD.
    let peer = peer(params, &saturation.inventories)?;

    // 1. Documents.
    let mut documents = saturation.documents.clone();
    documents.extend(paced.documents.iter().cloned());
    let (wall, _, outcomes) = send(&base, &broker, &documents, params.concurrency, None);
    let document_count = (params.count + fixed) * 3;
    say!(
        "documents (orders, payments, waybills): {document_count} in {:.2} s, {:.0}/s; returns {outcomes:?}",
        wall.as_secs_f64(),
        document_count as f64 / wall.as_secs_f64()
    );
    // 2. Saturation.
    let commits_before = commits(&base);
    let cpu_before = crate::intake_bench::cpu_seconds();
    let (wall, latencies, outcomes) = send(
        &base,
        &broker,
        &saturation.inventories,
        params.concurrency,
        None,
    );
    let released = outcomes.get("800").copied().unwrap_or(0);
    say!(
        "inventories at saturation: {} in {:.2} s: {:.0} inventories/s ({:.0} messages/s); \
         released {released}; returns {outcomes:?}",
        params.count,
        wall.as_secs_f64(),
        params.count as f64 / wall.as_secs_f64(),
        saturation.inventories.len() as f64 / wall.as_secs_f64()
    );
    say!(
        "  per message: p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms",
        percentile(&latencies, 50.0),
        percentile(&latencies, 90.0),
        percentile(&latencies, 99.0)
    );
    // Throughput on a shared machine moves with its neighbours; the CPU an inventory costs
    // moves less, and says what a change saved.
    if let (Some(before), Some(after)) = (cpu_before, crate::intake_bench::cpu_seconds()) {
        let cpu = after - before;
        say!(
            "  CPU: {:.0} µs an inventory, {:.2} cores busy on average (the server and its \
             clients, one process)",
            cpu * 1e6 / params.count as f64,
            cpu / wall.as_secs_f64()
        );
    }
    // How the ledger's writer grouped them: each commit costs a transaction, a durable write
    // and a signed tree head, whatever it carries.
    if let (Some(before), Some(after)) = (commits_before, commits(&base)) {
        let count = (after.count - before.count).max(1.0);
        say!(
            "  group commits: {:.0}, {:.1} entries each, {:.2} ms each ({:.2} ms of it the commit)",
            after.count - before.count,
            (after.entries - before.entries) / count,
            (after.seconds - before.seconds) * 1e3 / count,
            (after.sync_seconds - before.sync_seconds) * 1e3 / count
        );
    }
    // 3. Fixed rate.
    let (wall, latencies, outcomes) = send(
        &base,
        &broker,
        &paced.inventories,
        params.concurrency.max(32),
        Some(params.rate / per as f64),
    );
    say!(
        "inventories at {:.0}/s: {fixed} in {:.2} s ({:.0}/s achieved); returns {outcomes:?}",
        params.rate,
        wall.as_secs_f64(),
        fixed as f64 / wall.as_secs_f64()
    );
    say!(
        "  latency from due: p50 {:.1} ms, p90 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        percentile(&latencies, 50.0),
        percentile(&latencies, 90.0),
        percentile(&latencies, 99.0),
        latencies.last().map_or(0.0, |d| d.as_secs_f64() * 1e3)
    );
    if let Some((ours, theirs, n)) = peer {
        say!(
            "schema check of {n} inventory messages (signed, {per} inventories each): ours \
             (read + check) {:.1} ms, xmllint --schema {:.1} ms (its schema compile left out): \
             ours {:.1}x as fast",
            ours.as_secs_f64() * 1e3,
            theirs.as_secs_f64() * 1e3,
            theirs.as_secs_f64() / ours.as_secs_f64().max(1e-9)
        );
    }
    let _ = stop.send(());
    match server.join() {
        Ok(result) => result?,
        Err(_) => return Err(Failure::new("E0405", "the server thread failed")),
    }
    let _ = std::fs::remove_dir_all(&scratch);
    Ok(())
}

/// The ledger's group commits so far, as the server's `/metrics` counts them.
struct Commits {
    count: f64,
    entries: f64,
    seconds: f64,
    sync_seconds: f64,
}

/// Reads [`Commits`] from `/metrics`; `None` when the store does not count them.
fn commits(base: &str) -> Option<Commits> {
    let text = ureq::get(&format!("{base}/metrics"))
        .call()
        .ok()?
        .into_string()
        .ok()?;
    let value = |name: &str| -> Option<f64> {
        text.lines().find_map(|line| {
            line.strip_prefix(name)?
                .strip_prefix(' ')?
                .trim()
                .parse()
                .ok()
        })
    };
    Some(Commits {
        count: value("jinguan_ledger_commit_seconds_count")?,
        entries: value("jinguan_ledger_committed_entries_total")?,
        seconds: value("jinguan_ledger_commit_seconds_sum")?,
        sync_seconds: value("jinguan_ledger_commit_sync_seconds_total")?,
    })
}

/// Ours and libxml2's time to check the same messages against the schema, where xmllint and
/// the XSD are at hand.
fn peer(
    params: &Params,
    messages: &[Vec<u8>],
) -> Result<Option<(Duration, Duration, usize)>, Failure> {
    let xsd = params.xsd.clone().unwrap_or_else(|| {
        std::path::PathBuf::from(
            "../shared/corpus/china/ceb/gacc-202205/xsd/ceb_import_business.xsd",
        )
    });
    if !xsd.exists()
        || std::process::Command::new("xmllint")
            .arg("--version")
            .output()
            .is_err()
    {
        say!("peer: xmllint or {} not found; not run", xsd.display());
        return Ok(None);
    }
    let sample: Vec<&Vec<u8>> = messages.iter().take(200).collect();
    let dir = std::env::temp_dir().join(format!("jinguan-bench-xsd-{}", std::process::id()));
    std::fs::create_dir_all(&dir).map_err(|e| Failure::new("E0001", e.to_string()))?;
    let mut files = Vec::new();
    for (i, xml) in sample.iter().enumerate() {
        let file = dir.join(format!("{i}.xml"));
        std::fs::write(&file, xml).map_err(|e| Failure::new("E0001", e.to_string()))?;
        files.push(file);
    }
    let xmllint = |files: &[std::path::PathBuf]| {
        let start = Instant::now();
        std::process::Command::new("xmllint")
            .arg("--noout")
            .arg("--schema")
            .arg(&xsd)
            .args(files)
            .output()
            .map(|output| (start.elapsed(), output))
            .map_err(|e| Failure::new("E0001", e.to_string()))
    };
    // xmllint compiles the schema once per run: its cost per message is the difference
    // between checking all the files and checking one, best of three each.
    let mut theirs = Duration::MAX;
    let mut output = None;
    for _ in 0..3 {
        let (all, out) = xmllint(&files)?;
        let (one, _) = xmllint(&files[..1])?;
        theirs = theirs.min(all.saturating_sub(one));
        output = Some(out);
    }
    let output = output.ok_or_else(|| Failure::new("E0001", "xmllint did not run"))?;
    let files = &files[1..];
    let valid = String::from_utf8_lossy(&output.stderr)
        .lines()
        .filter(|l| l.ends_with(" validates"))
        .count()
        .saturating_sub(1);
    // Ours: the same files read from disk, parsed and checked, best of three.
    let mut ours = Duration::MAX;
    for _ in 0..3 {
        let start = Instant::now();
        for file in files {
            let bytes = std::fs::read(file).map_err(|e| Failure::new("E0001", e.to_string()))?;
            let (_, diagnostics) = jinguan_chinaport::ceb::parse(&bytes)
                .map_err(|e| Failure::new("E0503", e.to_string()))?;
            if !diagnostics.is_empty() {
                return Err(Failure::new("E0503", format!("{diagnostics:?}")));
            }
        }
        ours = ours.min(start.elapsed());
    }
    let _ = std::fs::remove_dir_all(&dir);
    if valid != files.len() {
        return Err(Failure::new(
            "E0503",
            format!("xmllint found {} of {} valid", valid, files.len()),
        ));
    }
    Ok(Some((ours, theirs, files.len())))
}

/// Has the admin certify a new key for the bench broker: the key and its serial.
fn certify(base: &str, admin: &str) -> Result<(jinguan_crypto::SigningKey, String), Failure> {
    let key = jinguan_crypto::SigningKey::generate(
        jinguan_crypto::Algorithm::Sm2Sm3,
        jinguan_crypto::DEFAULT_DISTID,
    )
    .map_err(|e| Failure::new("C0001", e.to_string()))?;
    let body = serde_json::json!({
        "party": "bench-broker", "role": "broker", "name": "bench broker",
        "public_key": key.verifying_key().to_pem(),
    });
    let response = ureq::post(&format!("{base}/api/v1/pki/certificates"))
        .set("Authorization", &format!("Bearer {admin}"))
        .set("Content-Type", "application/json")
        .send_string(&body.to_string())
        .map_err(|e| Failure::new("E0410", format!("certifying: {e}")))?;
    let text = response
        .into_string()
        .map_err(|e| Failure::new("E0410", e.to_string()))?;
    let issued: serde_json::Value =
        serde_json::from_str(&text).map_err(|e| Failure::new("E0410", e.to_string()))?;
    let serial = issued["serial"]
        .as_str()
        .ok_or_else(|| Failure::new("E0410", format!("certifying: {issued}")))?;
    Ok((key, serial.to_owned()))
}
