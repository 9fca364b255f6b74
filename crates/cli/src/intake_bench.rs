//! `jinguan bench intake`: a load client for a running server's `POST /api/v1/declarations`.
//!
//! Declarations are generated and serialised before the clock starts. Without `--rate` the
//! client runs closed-loop at saturation: `--concurrency` workers, each on its own kept-alive
//! connection, send the next declaration as soon as the last was answered. With `--rate R`
//! it runs open-loop: declaration `i` is due at `start + i / R` and its latency is measured
//! from that moment, not from when a worker got to it, so a stalled server shows in the
//! tail instead of silently slowing the client (coordinated omission). The client's own CPU
//! time is read from `/proc/self/stat` and reported, so its cost is on the record.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use clap::Args;
use jinguan_refdata::RefData;
use jinguan_testkit::{GenOptions, Generator};

use crate::{say, Failure};

/// Parameters of `jinguan bench intake`.
#[derive(Args)]
pub(crate) struct Params {
    /// The server, e.g. http://127.0.0.1:8080.
    #[arg(long)]
    url: String,
    /// Concurrent connections.
    #[arg(long, default_value_t = 16)]
    concurrency: usize,
    /// Declarations to send.
    #[arg(long, default_value_t = 10_000)]
    count: usize,
    /// Send at this fixed rate (declarations per second) instead of at saturation.
    #[arg(long)]
    rate: Option<f64>,
    /// A broker or enterprise token (default: the JINGUAN_TOKEN environment variable).
    #[arg(long)]
    token: Option<String>,
    /// Sign every declaration with this private key (PEM) — the server's default is to
    /// require signatures. Signatures are made before the run, as each client would make its
    /// own on its own machine, so the figures are the server's.
    #[arg(long, requires = "cert")]
    key: Option<std::path::PathBuf>,
    /// The key's certificate (PEM), issued by the server's CA.
    #[arg(long, requires = "key")]
    cert: Option<std::path::PathBuf>,
    /// Generator seed.
    #[arg(long, default_value_t = 7)]
    seed: u64,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// CPU seconds this process has used (user + system), from `/proc/self/stat`.
pub(crate) fn cpu_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the parenthesised command name; utime and stime are the 12th and 13th.
    let rest = stat.rsplit_once(") ")?.1;
    let fields: Vec<&str> = rest.split(' ').collect();
    let ticks: f64 = fields.get(11)?.parse::<f64>().ok()? + fields.get(12)?.parse::<f64>().ok()?;
    // The kernel's USER_HZ is 100 on every Linux this runs on.
    Some(ticks / 100.0)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

pub(crate) fn run(params: &Params, refdata: &RefData) -> Result<(), Failure> {
    let token = params
        .token
        .clone()
        .or_else(|| std::env::var("JINGUAN_TOKEN").ok())
        .ok_or_else(|| Failure::new("E0501", "give --token or set JINGUAN_TOKEN"))?;
    let generator = Generator::new(
        refdata,
        GenOptions {
            count: params.count,
            seed: params.seed,
            enterprises: 2000,
        },
    )
    .map_err(|e| Failure::new("E0502", e.to_string()))?;
    let bodies: Vec<Vec<u8>> = (0..params.count as u64)
        .map(|i| serde_json::to_vec(&generator.declaration(i)).unwrap_or_default())
        .collect();
    let signatures: Option<Vec<String>> = match (&params.key, &params.cert) {
        (Some(key), Some(cert)) => {
            let read = |path: &std::path::Path| {
                std::fs::read_to_string(path)
                    .map_err(|e| Failure::new("E0001", format!("{}: {e}", path.display())))
            };
            let key =
                jinguan_crypto::SigningKey::from_pem(&read(key)?, jinguan_crypto::DEFAULT_DISTID)
                    .map_err(|e| Failure::new("C0001", e.to_string()))?;
            let serial = jinguan_crypto::pki::Certificate::from_pem(&read(cert)?)
                .map_err(|e| Failure::new("C0005", e.to_string()))?
                .serial();
            Some(
                bodies
                    .iter()
                    .map(|body| jinguan_crypto::jws::sign(&key, &serial, body))
                    .collect::<Result<_, _>>()
                    .map_err(|e| Failure::new("C0002", e.to_string()))?,
            )
        }
        _ => None,
    };
    let mean_items = (0..params.count.min(1000) as u64)
        .map(|i| generator.declaration(i).items.len())
        .sum::<usize>() as f64
        / params.count.clamp(1, 1000) as f64;
    // Submission ids unique to this run, so a second run against the same server is new work.
    let nonce = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0);
    let url = format!("{}/api/v1/declarations", params.url.trim_end_matches('/'));
    let next = AtomicUsize::new(0);
    let statuses: Mutex<std::collections::BTreeMap<u16, u64>> = Mutex::default();
    // The error codes of refusals, so a run that is not all acceptances says why.
    let refusals: Mutex<std::collections::BTreeMap<String, u64>> = Mutex::default();
    let latencies: Mutex<Vec<Duration>> = Mutex::new(Vec::with_capacity(params.count));
    let failures = AtomicU64::new(0);
    let cpu_before = cpu_seconds();
    let start = Instant::now();
    std::thread::scope(|scope| {
        for _ in 0..params.concurrency.max(1) {
            scope.spawn(|| {
                let agent = ureq::AgentBuilder::new()
                    .timeout(Duration::from_secs(60))
                    .max_idle_connections_per_host(1)
                    .build();
                let mut mine = Vec::new();
                let mut counts = std::collections::BTreeMap::<u16, u64>::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    if i >= bodies.len() {
                        break;
                    }
                    let due = params
                        .rate
                        .map(|rate| start + Duration::from_secs_f64(i as f64 / rate));
                    if let Some(due) = due {
                        if let Some(wait) = due.checked_duration_since(Instant::now()) {
                            std::thread::sleep(wait);
                        }
                    }
                    let sent = due.unwrap_or_else(Instant::now);
                    let mut request = agent
                        .post(&url)
                        .set("Authorization", &format!("Bearer {token}"))
                        .set("Content-Type", "application/json")
                        .set("Submission-Id", &format!("bench-{nonce}-{i}"));
                    if let Some(signatures) = &signatures {
                        request = request.set("X-Jws-Signature", &signatures[i]);
                    }
                    let answer = request.send_bytes(&bodies[i]);
                    let status = match answer {
                        Ok(response) => {
                            let status = response.status();
                            let _ = response.into_string();
                            status
                        }
                        Err(ureq::Error::Status(status, response)) => {
                            let code = response
                                .into_string()
                                .ok()
                                .and_then(|text| {
                                    serde_json::from_str::<serde_json::Value>(&text).ok()
                                })
                                .map(|v| {
                                    format!(
                                        "{}: {}",
                                        v["code"].as_str().unwrap_or(""),
                                        v["message"].as_str().unwrap_or("")
                                    )
                                })
                                .unwrap_or_default();
                            if status != 422 {
                                *refusals
                                    .lock()
                                    .unwrap_or_else(|e| e.into_inner())
                                    .entry(code)
                                    .or_default() += 1;
                            }
                            status
                        }
                        Err(_) => {
                            failures.fetch_add(1, Ordering::Relaxed);
                            0
                        }
                    };
                    mine.push(sent.elapsed());
                    *counts.entry(status).or_default() += 1;
                }
                latencies
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .extend(mine);
                let mut all = statuses.lock().unwrap_or_else(|e| e.into_inner());
                for (status, n) in counts {
                    *all.entry(status).or_default() += n;
                }
            });
        }
    });
    let wall = start.elapsed();
    let cpu = match (cpu_before, cpu_seconds()) {
        (Some(a), Some(b)) => Some(b - a),
        _ => None,
    };
    let mut latencies = latencies.into_inner().unwrap_or_else(|e| e.into_inner());
    latencies.sort();
    let statuses = statuses.into_inner().unwrap_or_else(|e| e.into_inner());
    let refusals = refusals.into_inner().unwrap_or_else(|e| e.into_inner());
    let answered: u64 = statuses
        .iter()
        .filter(|(s, _)| matches!(**s, 200 | 201 | 422))
        .map(|(_, n)| n)
        .sum();
    let throughput = answered as f64 / wall.as_secs_f64();
    let ms = |d: Duration| d.as_secs_f64() * 1e3;
    let report = serde_json::json!({
        "mode": if params.rate.is_some() { "fixed rate" } else { "saturation" },
        "target_rate": params.rate,
        "concurrency": params.concurrency,
        "count": params.count,
        "signed": signatures.is_some(),
        "mean_items": mean_items,
        "wall_s": wall.as_secs_f64(),
        "answered_per_s": throughput,
        "statuses": statuses,
        "refusal_codes": refusals,
        "transport_failures": failures.load(Ordering::Relaxed),
        "latency_ms": {
            "p50": ms(percentile(&latencies, 50.0)),
            "p90": ms(percentile(&latencies, 90.0)),
            "p99": ms(percentile(&latencies, 99.0)),
            "max": ms(latencies.last().copied().unwrap_or_default()),
        },
        "client_cpu_s": cpu,
        "client_cores_used": cpu.map(|c| c / wall.as_secs_f64()),
    });
    if params.json {
        say!(
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        );
        return Ok(());
    }
    say!(
        "intake over HTTP ({}, concurrency {}, {} declarations of mean {mean_items:.1} items, {})",
        report["mode"].as_str().unwrap_or(""),
        params.concurrency,
        params.count,
        if signatures.is_some() {
            "signed"
        } else {
            "unsigned"
        }
    );
    say!(
        "  answered       {throughput:>10.0} declarations/s over {:.2} s",
        wall.as_secs_f64()
    );
    say!(
        "  statuses       {statuses:?}; transport failures {}",
        failures.load(Ordering::Relaxed)
    );
    if !refusals.is_empty() {
        say!("  refused        {refusals:?} (error codes; 422 rejections not counted)");
    }
    say!(
        "  latency        p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        ms(percentile(&latencies, 50.0)),
        ms(percentile(&latencies, 90.0)),
        ms(percentile(&latencies, 99.0)),
        ms(latencies.last().copied().unwrap_or_default())
    );
    if let Some(cpu) = cpu {
        say!(
            "  load client    {cpu:.2} CPU-s ({:.2} cores on average) — taken from the same machine",
            cpu / wall.as_secs_f64()
        );
    }
    Ok(())
}
