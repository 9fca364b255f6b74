//! `jinguan bench signatures`: what checking a declaration's signature costs at intake.
//!
//! SM2 and Ed25519 signing and verification on one thread, against OpenSSL's own measure
//! (`openssl speed`) run in the same invocation as the peer; then verification of a detached
//! signature over a generated declaration's body (the intake case, SM3 of the body included)
//! and the ceiling it puts on intake: verifications a second per core × cores; and the same
//! for a DecMessage carrying an enveloped XML-DSig signature.

use std::process::Command;
use std::time::{Duration, Instant};

use clap::Args;
use jinguan_crypto::{Algorithm, SigningKey, DEFAULT_DISTID};
use jinguan_refdata::RefData;
use jinguan_testkit::{GenOptions, Generator};

use crate::{say, Failure};

/// Parameters of `jinguan bench signatures`.
#[derive(Args)]
pub(crate) struct Params {
    /// Seconds per measurement.
    #[arg(long, default_value_t = 2)]
    seconds: u64,
    /// Print JSON.
    #[arg(long)]
    json: bool,
}

/// Operations a second of `op` over about `seconds`.
fn rate(seconds: u64, mut op: impl FnMut()) -> f64 {
    let budget = Duration::from_secs(seconds.max(1));
    let start = Instant::now();
    let mut done = 0u64;
    while start.elapsed() < budget {
        for _ in 0..16 {
            op();
        }
        done += 16;
    }
    done as f64 / start.elapsed().as_secs_f64()
}

/// `openssl speed` for `algorithm` (`sm2`, `ed25519`): (sign/s, verify/s), if it runs.
fn openssl_speed(algorithm: &str, seconds: u64) -> Option<(f64, f64)> {
    let output = Command::new("openssl")
        .args(["speed", "-seconds", &seconds.to_string(), algorithm])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&output.stdout);
    let marker = if algorithm == "sm2" { "SM2" } else { "Ed25519" };
    let line = text
        .lines()
        .find(|l| l.contains(marker) && l.contains("bits"))?;
    let numbers: Vec<f64> = line
        .split_whitespace()
        .filter_map(|w| w.parse().ok())
        .collect();
    match numbers.as_slice() {
        [.., sign, verify] => Some((*sign, *verify)),
        _ => None,
    }
}

pub(crate) fn run(params: &Params, refdata: &RefData) -> Result<(), Failure> {
    let generator = Generator::new(
        refdata,
        GenOptions {
            count: 1,
            seed: 7,
            enterprises: 10,
        },
    )
    .map_err(|e| Failure::new("E0502", e.to_string()))?;
    let body = serde_json::to_vec(&generator.declaration(0))
        .map_err(|e| Failure::new("E0502", e.to_string()))?;
    let digest = [7u8; 32];
    let mut rows = Vec::new();
    for (name, algorithm, peer) in [
        ("SM2", Algorithm::Sm2Sm3, "sm2"),
        ("Ed25519", Algorithm::Ed25519, "ed25519"),
    ] {
        let key = SigningKey::generate(algorithm, DEFAULT_DISTID)
            .map_err(|e| Failure::new("C0001", e.to_string()))?;
        let public = key.verifying_key();
        let signature = key.sign(&digest);
        let sign = rate(params.seconds, || {
            std::hint::black_box(key.sign(std::hint::black_box(&digest)));
        });
        let verify = rate(params.seconds, || {
            let _ = std::hint::black_box(public.verify(&digest, &signature));
        });
        let value = jinguan_crypto::jws::sign(&key, "1", &body)
            .map_err(|e| Failure::new("C0002", e.to_string()))?;
        let detached = jinguan_crypto::jws::Detached::parse(&value)
            .map_err(|e| Failure::new("C0002", e.to_string()))?;
        detached
            .verify(&public, &body)
            .map_err(|e| Failure::new("C0002", e.to_string()))?;
        // As intake checks: the certificate's key prepared once (see `VerifyingKey::prepared`).
        let prepared = public.prepared();
        let prepared_verify = rate(params.seconds, || {
            let _ = std::hint::black_box(prepared.verify(&digest, &signature));
        });
        let intake = rate(params.seconds, || {
            let parsed = jinguan_crypto::jws::Detached::parse(&value);
            let _ = std::hint::black_box(parsed.map(|d| d.verify(&prepared, &body)));
        });
        let openssl = openssl_speed(peer, params.seconds);
        rows.push(serde_json::json!({
            "algorithm": name,
            "sign_per_s": sign,
            "verify_per_s": verify,
            "prepared_verify_per_s": prepared_verify,
            "openssl_sign_per_s": openssl.map(|o| o.0),
            "openssl_verify_per_s": openssl.map(|o| o.1),
            "intake_verify_per_s": intake,
        }));
    }
    // The XML case: a DecMessage signed the E-Port way, checked as intake checks it (the
    // structure, three canonical forms, the SM3 digest, the SM2 signature).
    let xml = jinguan_chinaport::decmessage::write(
        &generator.declaration(0),
        jinguan_chinaport::decmessage::WriteOptions::default(),
    );
    let key = SigningKey::generate(Algorithm::Sm2Sm3, DEFAULT_DISTID)
        .map_err(|e| Failure::new("C0001", e.to_string()))?;
    let signed = jinguan_chinaport::xmldsig::sign(xml.as_bytes(), &key, "1", None)
        .map_err(|e| Failure::new(e.code(), e.to_string()))?;
    let prepared = key.verifying_key().prepared();
    jinguan_chinaport::xmldsig::read(&signed)
        .and_then(|r| r.verify(&prepared))
        .map_err(|e| Failure::new(e.code(), e.to_string()))?;
    let enveloped = rate(params.seconds, || {
        let checked = jinguan_chinaport::xmldsig::read(&signed).and_then(|r| r.verify(&prepared));
        let _ = std::hint::black_box(checked);
    });
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    let report = serde_json::json!({
        "body_bytes": body.len(),
        "cores": cores,
        "results": rows,
        "enveloped_xml": {"bytes": signed.len(), "verify_per_s": enveloped},
    });
    if params.json {
        say!(
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        );
        return Ok(());
    }
    say!(
        "signatures, one thread (peer: openssl speed, same run); intake = parse + verify a detached signature over a {}-byte declaration",
        body.len()
    );
    say!(
        "  {:<8} {:>10} {:>10} {:>7} {:>10} {:>10} {:>7} {:>10} {:>7} {:>10} {:>11}",
        "",
        "sign/s",
        "openssl",
        "ratio",
        "verify/s",
        "openssl",
        "ratio",
        "prepared/s",
        "ratio",
        "intake/s",
        "ceiling/s"
    );
    for row in &rows {
        let num = |k: &str| row[k].as_f64();
        let ratio = |a: Option<f64>, b: Option<f64>| match (a, b) {
            (Some(a), Some(b)) if b > 0.0 => format!("{:.2}", a / b),
            _ => "-".into(),
        };
        let or_dash = |v: Option<f64>| v.map_or_else(|| "-".into(), |v| format!("{v:.0}"));
        say!(
            "  {:<8} {:>10.0} {:>10} {:>7} {:>10.0} {:>10} {:>7} {:>10.0} {:>7} {:>10.0} {:>11.0}",
            row["algorithm"].as_str().unwrap_or(""),
            num("sign_per_s").unwrap_or(0.0),
            or_dash(num("openssl_sign_per_s")),
            ratio(num("sign_per_s"), num("openssl_sign_per_s")),
            num("verify_per_s").unwrap_or(0.0),
            or_dash(num("openssl_verify_per_s")),
            ratio(num("verify_per_s"), num("openssl_verify_per_s")),
            num("prepared_verify_per_s").unwrap_or(0.0),
            ratio(num("prepared_verify_per_s"), num("openssl_verify_per_s")),
            num("intake_verify_per_s").unwrap_or(0.0),
            num("intake_verify_per_s").unwrap_or(0.0) * cores as f64,
        );
    }
    say!(
        "  enveloped XML-DSig (SM2-SM3, C14N 1.0) on a {}-byte DecMessage: {:.0} checks/s, ceiling {:.0}/s",
        signed.len(),
        enveloped,
        enveloped * cores as f64
    );
    say!("  prepared: a key reused for many signatures (a certificate's at intake), its table built once");
    say!("  ceiling: declarations a second if checking signatures took all {cores} cores");
    Ok(())
}
