//! `jinguan bench edifact`: the EDIFACT engine's throughput on one core — tokenizing, every
//! element and component visited, the envelope checked, and streaming from a file with its
//! peak memory — beside pydifact and edifact-rs measured in the same run, as ratios.
//!
//! Everyone is timed in process over input already in memory (the peers time their own parse
//! loop and print it, so their start-up and file reading are not counted), best of several
//! runs, and does the same work: every segment with every element and component visited. The
//! streaming pass runs in a child process so that its peak resident memory is its own.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use jinguan_edifact::stream::Options;
use jinguan_edifact::{StreamTokenizer, Tokenizer};

use crate::{say, Failure};

/// `jinguan bench edifact` flags.
#[derive(clap::Args)]
pub(crate) struct Params {
    /// An interchange, repeated `--repeat` times into one input (the copies after the first
    /// without their `UNA`, so the input is interchanges one after another).
    #[arg(long)]
    file: Option<PathBuf>,
    /// Copies of `--file` in the input.
    #[arg(long, default_value_t = 50)]
    repeat: usize,
    /// Timed runs of our passes and edifact-rs (pydifact: at most 3, one above 5 MB).
    #[arg(long, default_value_t = 5)]
    runs: usize,
    /// Also a generated D96B CUSDEC interchange of this many MB (0: none), and one of
    /// `--small-mb` to show that streaming memory does not grow with the input.
    #[arg(long, default_value_t = 0)]
    generate_mb: usize,
    /// The smaller generated interchange, in MB.
    #[arg(long, default_value_t = 10)]
    small_mb: usize,
    /// Measure pydifact 0.2.3 and edifact-rs 0.18.0 over the same inputs.
    #[arg(long)]
    peers: bool,
    /// The edifact-rs peer (`tools/edifact-peer`, built with `cargo build --release` there);
    /// by default `edifact-peer` beside this binary.
    #[arg(long)]
    peer_bin: Option<PathBuf>,
    /// pydifact parses about 0.25 MB/s: inputs larger than this many MB are not given to it
    /// (the ratio is read off the smaller rows).
    #[arg(long, default_value_t = 25)]
    pydifact_max_mb: usize,
    /// The Python that has pydifact 0.2.3.
    #[arg(long, default_value = "python3")]
    python: String,
    /// Where the inputs are written for the streaming pass and the peers.
    #[arg(long)]
    work_dir: Option<PathBuf>,
}

/// `jinguan bench edifact-stream` flags: one streaming pass, as the child of `bench edifact`.
#[derive(clap::Args)]
pub(crate) struct StreamParams {
    /// The interchange.
    file: PathBuf,
    /// The streaming buffer's first size.
    #[arg(long, default_value_t = 64 * 1024)]
    buffer_bytes: usize,
    /// The longest segment the stream holds.
    #[arg(long, default_value_t = 1024 * 1024)]
    max_segment_bytes: usize,
}

fn io_failure(what: &Path, e: impl std::fmt::Display) -> Failure {
    Failure::new("E0001", format!("{}: {e}", what.display()))
}

/// One input of the table.
struct Input {
    name: String,
    path: PathBuf,
    bytes: Vec<u8>,
}

pub(crate) fn run(params: &Params) -> Result<(), Failure> {
    let work_dir = params.work_dir.clone().unwrap_or_else(std::env::temp_dir);
    std::fs::create_dir_all(&work_dir).map_err(|e| io_failure(&work_dir, e))?;
    let mut inputs = Vec::new();
    if let Some(file) = &params.file {
        inputs.push(repeated(file, params.repeat.max(1), &work_dir)?);
    }
    if params.generate_mb > 0 {
        let mut sizes = vec![params.small_mb, params.generate_mb];
        sizes.retain(|mb| *mb > 0);
        sizes.dedup();
        for mb in sizes {
            let path = work_dir.join(format!("jinguan-cusdec-d96b-{mb}mb.edi"));
            let bytes = generate_cusdec(mb * 1_000_000);
            std::fs::write(&path, &bytes).map_err(|e| io_failure(&path, e))?;
            let name = format!("CUSDEC D96B generated, {mb} MB");
            inputs.push(Input { name, path, bytes });
        }
    }
    if inputs.is_empty() {
        return Err(Failure::new(
            "E0002",
            "give --file or --generate-mb: there is nothing to measure",
        ));
    }
    let peer_bin = params.peer_bin.clone().unwrap_or_else(|| {
        let exe = std::env::current_exe().unwrap_or_default();
        exe.with_file_name("edifact-peer")
    });
    let mut table = String::from(
        "| input | MB | tokenize MB/s | parse MB/s | check MB/s | validate MB/s | stream MB/s | \
         stream peak RSS MB | pydifact s | ours/pydifact | edifact-rs MB/s | ours/edifact-rs |\n\
         |---|---|---|---|---|---|---|---|---|---|---|---|\n",
    );
    for input in &inputs {
        let row = measure(input, params, &peer_bin)?;
        table.push_str(&row);
        table.push('\n');
        eprintln!("measured {}", input.name);
    }
    say!("{table}");
    say!(
        "tokenize: every segment cut and its tag checked; parse: and every element and \
         component visited (the work the peers do; the ratios are of this column); check: \
         the envelope (counts, references) and the character repertoire; validate: check and \
         every message against its UN directory (segment table, elements, formats, codes; the \
         directory read once, before the runs); stream: parse from \
         the file through a 64 KiB buffer in a child process, file reading included, its peak \
         resident memory (VmHWM) beside. Best of {} runs; pydifact best of at most 3 (1 above \
         5 MB).",
        params.runs.max(1)
    );
    Ok(())
}

/// The best time of `runs` runs of `work`, and what the last returned.
fn best_of(runs: usize, work: &dyn Fn() -> usize) -> (Duration, usize) {
    let mut best = Duration::MAX;
    let mut count = 0;
    for _ in 0..runs.max(1) {
        let start = Instant::now();
        count = std::hint::black_box(work());
        best = best.min(start.elapsed());
    }
    (best, count)
}

/// Every segment, element and component of `input` visited; the components counted.
fn parse(input: &[u8]) -> usize {
    let mut components = 0usize;
    for segment in Tokenizer::new(input) {
        for element in segment.elements() {
            components += element.components().count();
        }
    }
    components
}

fn measure(input: &Input, params: &Params, peer_bin: &Path) -> Result<String, Failure> {
    let bytes = &input.bytes;
    let mb = bytes.len() as f64 / 1e6;
    let rate = |d: Duration| mb / d.as_secs_f64();
    let (tokenize, segments) = best_of(params.runs, &|| {
        Tokenizer::new(bytes)
            .map(|s| usize::from(s.tag[0]) & 1)
            .sum::<usize>()
    });
    let (parsed, components) = best_of(params.runs, &|| parse(bytes));
    let (checked, errors) = best_of(params.runs, &|| {
        jinguan_edifact::check(bytes).errors().count()
    });
    let (validated, findings) = best_of(params.runs, &|| {
        let interchange = jinguan_edifact::check(bytes);
        jinguan_edimap::validation(bytes, &interchange, None).map_or(0, |v| v.diagnostics.len())
    });
    std::hint::black_box((segments, components, errors, findings));
    let stream = stream_child(&input.path)?;
    let mut row = String::new();
    let _ = write!(
        row,
        "| {} | {mb:.1} | {:.0} | {:.0} | {:.0} | {:.0} | {} | {} |",
        input.name,
        rate(tokenize),
        rate(parsed),
        rate(checked),
        rate(validated),
        stream
            .get("seconds")
            .and_then(serde_json::Value::as_f64)
            .map_or("failed".into(), |s| format!("{:.0}", mb / s)),
        stream
            .get("vm_hwm_kb")
            .and_then(serde_json::Value::as_f64)
            .map_or("?".into(), |kb| format!("{:.1}", kb / 1024.0)),
    );
    if !params.peers {
        row.push_str(" – | – | – | – |");
        return Ok(row);
    }
    let pydifact_runs = if mb > 5.0 { 1 } else { params.runs.clamp(1, 3) };
    let pydifact = if mb > params.pydifact_max_mb as f64 {
        Err(format!("not run (over {} MB)", params.pydifact_max_mb))
    } else {
        pydifact(&params.python, &input.path, pydifact_runs)
    };
    match pydifact {
        Ok(seconds) => {
            let _ = write!(
                row,
                " {seconds:.2} | {:.0}× |",
                seconds / parsed.as_secs_f64()
            );
        }
        Err(why) => {
            let said = if why.starts_with("not run") {
                ""
            } else {
                "fails: "
            };
            let _ = write!(row, " {said}{why} | – |");
        }
    }
    match edifact_rs(peer_bin, &input.path, params.runs) {
        Ok(seconds) => {
            let _ = write!(
                row,
                " {:.0} | {:.1}× |",
                mb / seconds,
                seconds / parsed.as_secs_f64()
            );
        }
        Err(why) => {
            let _ = write!(row, " fails: {why} | – |");
        }
    }
    Ok(row)
}

/// `--file` repeated, written for the streaming pass and the peers. Bytes that are not UTF-8
/// are taken as Latin-1 and written as UTF-8, for everyone: edifact-rs refuses anything else.
fn repeated(file: &Path, repeat: usize, work_dir: &Path) -> Result<Input, Failure> {
    let one = std::fs::read(file).map_err(|e| io_failure(file, e))?;
    let one = match std::str::from_utf8(&one) {
        Ok(_) => one,
        Err(_) => one
            .iter()
            .map(|b| char::from(*b))
            .collect::<String>()
            .into_bytes(),
    };
    let start = one.iter().take_while(|b| b.is_ascii_whitespace()).count();
    // A UNA is only read at the start of an input; later copies go without theirs.
    let without_una = if one[start..].starts_with(b"UNA") {
        &one[(start + 9).min(one.len())..]
    } else {
        &one[..]
    };
    let mut bytes = Vec::with_capacity(one.len() * repeat);
    bytes.extend_from_slice(&one);
    for _ in 1..repeat {
        bytes.extend_from_slice(without_una);
    }
    let stem = file
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    let path = work_dir.join(format!("jinguan-{stem}-x{repeat}.edi"));
    std::fs::write(&path, &bytes).map_err(|e| io_failure(&path, e))?;
    let name = format!(
        "{} ×{repeat}",
        file.file_name().unwrap_or_default().to_string_lossy()
    );
    Ok(Input { name, path, bytes })
}

/// The streaming pass in a child process: its figures as the child printed them.
fn stream_child(file: &Path) -> Result<serde_json::Value, Failure> {
    let exe = std::env::current_exe().map_err(|e| Failure::new("E0001", e.to_string()))?;
    let output = Command::new(exe)
        .args(["bench", "edifact-stream"])
        .arg(file)
        .output()
        .map_err(|e| Failure::new("E0001", format!("bench edifact-stream: {e}")))?;
    let text = String::from_utf8_lossy(&output.stdout);
    Ok(serde_json::from_str(text.trim()).unwrap_or(serde_json::Value::Null))
}

/// `jinguan bench edifact-stream FILE`: every segment, element and component of FILE visited
/// through a [`StreamTokenizer`]; prints the time, the counts and the process's peak resident
/// memory.
pub(crate) fn stream(params: &StreamParams) -> Result<(), Failure> {
    let start = Instant::now();
    let file = std::fs::File::open(&params.file).map_err(|e| io_failure(&params.file, e))?;
    let options = Options {
        buffer_bytes: params.buffer_bytes,
        max_segment_bytes: params.max_segment_bytes,
    };
    let mut tokenizer = StreamTokenizer::new(file, options);
    let (mut segments, mut components, mut bytes) = (0usize, 0usize, 0usize);
    while let Some(segment) = tokenizer
        .next_segment()
        .map_err(|e| io_failure(&params.file, e))?
    {
        segments += 1;
        bytes = segment.offset + segment.raw.len();
        for element in segment.elements() {
            components += element.components().count();
        }
    }
    let seconds = start.elapsed().as_secs_f64();
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    let vm_hwm_kb = status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok());
    say!(
        "{}",
        serde_json::json!({
            "bytes": bytes, "segments": segments, "components": components,
            "seconds": seconds, "vm_hwm_kb": vm_hwm_kb,
            "buffer_bytes": tokenizer.buffer_bytes(),
            "diagnostics": tokenizer.diagnostics().len(),
        })
    );
    Ok(())
}

/// pydifact parsing the file in one Python process, best of `runs`, the file read and decoded
/// before the clock starts.
const PYDIFACT: &str = r#"
import json, sys, time
from pydifact.parser import Parser
path, runs = sys.argv[1], int(sys.argv[2])
text = open(path, "rb").read().decode("utf-8")
best = None
try:
    for _ in range(runs):
        start = time.perf_counter()
        segments = components = 0
        for segment in Parser().parse(text):
            segments += 1
            for element in segment.elements:
                components += len(element) if isinstance(element, list) else 1
        elapsed = time.perf_counter() - start
        best = elapsed if best is None else min(best, elapsed)
    print(json.dumps({"ok": True, "best_s": best, "segments": segments, "components": components}))
except Exception as e:
    print(json.dumps({"ok": False, "error": type(e).__name__ + ": " + str(e)[:160]}))
"#;

fn pydifact(python: &str, file: &Path, runs: usize) -> Result<f64, String> {
    let output = Command::new(python)
        .arg("-c")
        .arg(PYDIFACT)
        .arg(file)
        .arg(runs.to_string())
        .output()
        .map_err(|e| format!("{python}: {e}"))?;
    peer_seconds(&output.stdout, &output.stderr)
}

fn edifact_rs(peer_bin: &Path, file: &Path, runs: usize) -> Result<f64, String> {
    let output = Command::new(peer_bin)
        .arg(file)
        .arg(runs.to_string())
        .output()
        .map_err(|e| {
            format!(
                "{}: {e} (build tools/edifact-peer first)",
                peer_bin.display()
            )
        })?;
    peer_seconds(&output.stdout, &output.stderr)
}

/// A peer's `{"ok": true, "best_s": …}` line, or why it has none.
fn peer_seconds(stdout: &[u8], stderr: &[u8]) -> Result<f64, String> {
    let text = String::from_utf8_lossy(stdout);
    let line = text.lines().last().unwrap_or_default();
    let value: serde_json::Value = serde_json::from_str(line).unwrap_or_default();
    if let Some(seconds) = value.get("best_s").and_then(serde_json::Value::as_f64) {
        return Ok(seconds);
    }
    let why = value
        .get("error")
        .and_then(serde_json::Value::as_str)
        .map(str::to_owned)
        .unwrap_or_else(|| {
            let stderr = String::from_utf8_lossy(stderr);
            stderr.lines().last().unwrap_or("no output").to_owned()
        });
    Err(why.replace('|', "/"))
}

/// A valid D96B CUSDEC interchange (UNOC) of about `target_bytes`: messages shaped like the
/// Smooks sample (`samples/smooks/96b_cusdec.edi`), each with its own reference, one to five
/// goods items, some texts with released characters, `UNT` and `UNZ` counts right.
pub(crate) fn generate_cusdec(target_bytes: usize) -> Vec<u8> {
    let control = "00GB1213143930";
    let mut out = Vec::with_capacity(target_bytes + 4096);
    out.extend_from_slice(b"UNA:+.? '");
    let _ = write!(
        out,
        "UNB+UNOC:3+NTA.GB+NTA.DE+001213:1439+{control}++++++1'"
    );
    let trailer = format!("UNZ+999999999+{control}'").len();
    let mut messages = 0usize;
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = |bound: u64| {
        seed = seed
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (seed >> 33) % bound
    };
    while out.len() + trailer < target_bytes {
        messages += 1;
        let reference = messages;
        let items = 1 + next(5) as usize;
        let weight = 100 + next(20_000);
        let mut segments: Vec<String> = vec![
            format!("UNH+{reference}+CUSDEC:D:96B:UN:CD001A"),
            format!("BGM+:::T2+00GB{:014}", 12131439290006 + reference as u64),
            "LOC+36+DE".into(),
            "LOC+35+FR".into(),
            "LOC+45+GB000003".into(),
            "LOC+118+FR000001".into(),
            format!("DTM+148:200012{:02}", 1 + next(28)),
            "DTM+182:20001209".into(),
            "DTM+268:20010102".into(),
            "GIS+0:109".into(),
            format!("MEA+WT+AAD+KGM:{weight}"),
            "FTX+DIN++0".into(),
            "FTX+ALL++++AA".into(),
            "FTX+ADO++A1".into(),
            "TDT+12+++++++:::LKW81:FR".into(),
            "TPL+::::FR".into(),
            "NAD+AF+++BennstransGmbH+Postfach+Empfingen+AA+72186+DE".into(),
            "NAD+CZ+++BennstransGmbH+Postfach+Empfingen+AA+72186+DE".into(),
            "NAD+CN+++TuneraS.A.R.L.+ZoneIndustrielle+MenzelDjemil+AA+7080+TN".into(),
            "UNS+D".into(),
        ];
        for item in 1..=items {
            let text = if next(7) == 0 {
                "Kunde?'s Ware 50?:50 ?+ Zubehoer"
            } else {
                "Elektromaterial"
            };
            segments.extend([
                format!("CST+{item}"),
                format!("FTX+AAA+++{text}+NL"),
                format!("MEA+WT+AAB+KGM:{}", weight / items as u64 + 38),
                format!("MEA+WT+AAA+KGM:{}", weight / items as u64),
                format!("PAC+{}+++CS:380", 1 + next(40)),
                "PCI+28+1-380+AA".into(),
                format!("DOC+190:::T2+144IC CV {}/26 M:::AA", 1000 + next(9000)),
                format!("DOC+916:::380+{}:::NL", 4_000_000 + next(999_999)),
                "DOC+916:::730+CH/A-32:AA:Extra:NL".into(),
                "TOD+2".into(),
                "FTX+ACB++DG2".into(),
            ]);
        }
        segments.push("UNS+S".into());
        segments.push(format!("CNT+5:{items}"));
        segments.push(format!("CNT+11:{weight}"));
        let count = segments.len() + 1;
        segments.push(format!("UNT+{count}+{reference}"));
        for segment in segments {
            out.extend_from_slice(segment.as_bytes());
            out.push(b'\'');
        }
    }
    let _ = write!(out, "UNZ+{messages}+{control}'");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generated_cusdec_is_a_clean_interchange_of_the_size_asked() {
        let bytes = generate_cusdec(200_000);
        assert!(
            (195_000..=201_000).contains(&bytes.len()),
            "{}",
            bytes.len()
        );
        let interchange = jinguan_edifact::check(&bytes);
        assert!(
            interchange.diagnostics.is_empty(),
            "{:?}",
            &interchange.diagnostics[..interchange.diagnostics.len().min(3)]
        );
        assert!(interchange.messages.len() > 100);
    }
}
