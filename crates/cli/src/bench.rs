//! `jinguan bench ...`: benchmarks that print their figures, with a peer where one exists.
//!
//! Timed in-process with `Instant`, best and median of several runs, because these machines
//! are noisy; a peer is measured in the same run and reported as a ratio.

use std::hint::black_box;
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use clap::Subcommand;
use jinguan_refdata::{RefData, Source};
use jinguan_types::HsCode;

use crate::Failure;

#[derive(Subcommand)]
pub(crate) enum BenchCommand {
    /// Reference-data load time at start-up and lookup cost; peer: Python's csv module
    /// loading the same tariff files into dictionaries.
    Refdata {
        /// Number of timed loads.
        #[arg(long, default_value_t = 10)]
        runs: usize,
    },
    /// Durable ledger appends with group commit on SQLite against plain SQLite inserts in
    /// equally sized transactions; inclusion proof generation and verification.
    Ledger(crate::ledger_bench::Params),
    /// The clearance pipeline in process: DecMessage XML parsed, validated, valued, assessed,
    /// given a channel and appended durably to the ledger.
    Pipeline(crate::pipeline_bench::Params),
    /// A load client for a running server's declaration intake over HTTP: throughput at
    /// saturation, or latency percentiles at a fixed rate (`--rate`).
    Intake(crate::intake_bench::Params),
    /// Cross-border e-commerce: CEB621 inventories end to end (read, schema, signature,
    /// matching, tax, durable ledger, receipt) on a server this process starts, at
    /// saturation and at a fixed rate; libxml2's schema check of the same messages beside.
    Crossborder(crate::crossborder_bench::Params),
    /// SM2 and Ed25519 signing and verification on one core beside `openssl speed`, and
    /// the ceiling checking declarations' signatures puts on intake.
    Signatures(crate::signature_bench::Params),
    /// The exchange: mailbox messages routed (with each record), delivered (pulled and
    /// acknowledged by their parties) beside a bare SQL read, and the latency from
    /// submission to receipt in the mailbox at a fixed rate; embedded or NATS JetStream.
    Exchange(crate::exchange_bench::Params),
    /// UN/EDIFACT: tokenizing, every element and component visited, the envelope checked and
    /// streaming with its peak memory, on one core, over an interchange repeated into one large
    /// input and generated CUSDEC interchanges; pydifact and edifact-rs beside (`--peers`).
    Edifact(crate::edifact_bench::Params),
    /// One streaming pass over an interchange, printing its time and peak resident memory (the
    /// child process of `bench edifact`).
    EdifactStream(crate::edifact_bench::StreamParams),
    /// Synthetic declaration generation throughput (JSON lines into memory).
    Gen {
        /// Declarations per run.
        #[arg(long, default_value_t = 100_000)]
        count: usize,
        /// Seed.
        #[arg(long, default_value_t = 7)]
        seed: u64,
        /// Worker threads (0 = one per core).
        #[arg(long, default_value_t = 0)]
        threads: usize,
    },
}

pub(crate) fn run(command: BenchCommand, data_dir: Option<&PathBuf>) -> Result<(), Failure> {
    let source = data_dir.map_or(Source::Embedded, |dir| Source::Directory(dir.clone()));
    match command {
        BenchCommand::Refdata { runs } => refdata(&source, runs.max(1), data_dir),
        BenchCommand::Gen {
            count,
            seed,
            threads,
        } => crate::gen::bench(&source, count, seed, threads),
        BenchCommand::Ledger(params) => crate::ledger_bench::run(&params),
        BenchCommand::Pipeline(params) => {
            let refdata =
                RefData::load_from(&source).map_err(|e| Failure::new("E0302", e.to_string()))?;
            crate::pipeline_bench::run(&params, &refdata)
        }
        BenchCommand::Signatures(params) => {
            let refdata =
                RefData::load_from(&source).map_err(|e| Failure::new("E0302", e.to_string()))?;
            crate::signature_bench::run(&params, &refdata)
        }
        BenchCommand::Edifact(params) => crate::edifact_bench::run(&params),
        BenchCommand::EdifactStream(params) => crate::edifact_bench::stream(&params),
        BenchCommand::Exchange(params) => {
            let refdata =
                RefData::load_from(&source).map_err(|e| Failure::new("E0302", e.to_string()))?;
            crate::exchange_bench::run(&params, refdata)
        }
        BenchCommand::Crossborder(params) => {
            let refdata =
                RefData::load_from(&source).map_err(|e| Failure::new("E0302", e.to_string()))?;
            crate::crossborder_bench::run(&params, refdata)
        }
        BenchCommand::Intake(params) => {
            let refdata =
                RefData::load_from(&source).map_err(|e| Failure::new("E0302", e.to_string()))?;
            crate::intake_bench::run(&params, &refdata)
        }
    }
}

pub(crate) struct Summary {
    pub(crate) best: Duration,
    pub(crate) median: Duration,
}

pub(crate) fn summarise(mut times: Vec<Duration>) -> Summary {
    times.sort();
    Summary {
        best: times[0],
        median: times[times.len() / 2],
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn refdata(source: &Source, runs: usize, data_dir: Option<&PathBuf>) -> Result<(), Failure> {
    let mut times = Vec::with_capacity(runs);
    let mut data = None;
    for _ in 0..runs {
        let start = Instant::now();
        let loaded =
            RefData::load_from(source).map_err(|e| Failure::new("E0002", e.to_string()))?;
        times.push(start.elapsed());
        data = Some(black_box(loaded));
    }
    let data = data.expect("runs >= 1");
    let load = summarise(times);
    crate::say!("reference data load (22 code tables, HS 2022, tariff 12,030 lines with every rate parsed, conventional rates)");
    crate::say!(
        "  jinguan      best {:8.2} ms   median {:8.2} ms   (target <= 200 ms)",
        ms(load.best),
        ms(load.median)
    );
    let tariff_dir = data_dir
        .cloned()
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../data"));
    match python_peer(&tariff_dir, runs) {
        Some(peer) => crate::say!(
            "  python csv   best {:8.2} ms   (tariff + conventional files into dicts, no rate parsing)   jinguan/peer speed ratio {:.1}x",
            peer,
            peer / ms(load.best)
        ),
        None => crate::say!("  python csv   peer not run (python3 or {} not available)", tariff_dir.display()),
    }
    lookups(&data)
}

fn lookups(data: &RefData) -> Result<(), Failure> {
    let codes: Vec<HsCode> = data.tariff.lines.iter().map(|l| l.code).collect();
    // A fixed shuffle so lookups do not walk memory in insertion order.
    let mut order: Vec<usize> = (0..codes.len()).collect();
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    for i in (1..order.len()).rev() {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        order.swap(i, (state % (i as u64 + 1)) as usize);
    }
    let rounds = 50;
    let start = Instant::now();
    let mut found = 0usize;
    for _ in 0..rounds {
        for i in &order {
            found += usize::from(data.tariff.get(black_box(&codes[*i])).is_some());
        }
    }
    let per = start.elapsed().as_nanos() as f64 / (rounds * order.len()) as f64;
    assert_eq!(found, rounds * order.len());
    crate::say!("lookups");
    crate::say!("  tariff line by 10-digit code     {per:8.1} ns");
    let countries: Vec<String> = data
        .table("country")
        .map(|t| t.entries.iter().map(|e| e.code.clone()).collect())
        .unwrap_or_default();
    let start = Instant::now();
    for _ in 0..rounds {
        for code in &countries {
            black_box(data.country(black_box(code)));
        }
    }
    let per = start.elapsed().as_nanos() as f64 / (rounds * countries.len()).max(1) as f64;
    crate::say!("  country by ISO code              {per:8.1} ns");
    let start = Instant::now();
    for _ in 0..rounds {
        for legacy in ["142", "502", "110", "116", "304", "701"] {
            black_box(data.country_from_legacy(black_box(legacy)));
        }
    }
    let per = start.elapsed().as_nanos() as f64 / (rounds * 6) as f64;
    crate::say!("  country from legacy code         {per:8.1} ns");
    Ok(())
}

/// Times Python's csv module building dictionaries from the same tariff files, in-process,
/// so interpreter start-up is not counted against it.
fn python_peer(data_dir: &std::path::Path, runs: usize) -> Option<f64> {
    let tariff = data_dir.join("tariff/2026");
    if !tariff.is_dir() {
        return None;
    }
    let script = format!(
        r#"
import csv, time
best = None
for _ in range({runs}):
    t = time.perf_counter()
    lines = {{r['code']: r for r in csv.DictReader(open('{0}/tariff_clean.csv', encoding='utf-8'))}}
    conv = {{r['code']: r for r in csv.DictReader(open('{0}/conventional_rates_wide.csv', encoding='utf-8'))}}
    extra = {{r['code']: r for r in csv.DictReader(open('{0}/tariff_extra.csv', encoding='utf-8'))}}
    e = time.perf_counter() - t
    best = e if best is None or e < best else best
assert len(lines) == 12030
print(best * 1000)
"#,
        tariff.display()
    );
    let output = Command::new("python3")
        .arg("-c")
        .arg(script)
        .output()
        .ok()?;
    String::from_utf8(output.stdout).ok()?.trim().parse().ok()
}

/// Nanoseconds since the Unix epoch, to make run ids unique.
pub(crate) fn now_nanos() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos())
}
