//! `jinguan edi validate | contrl | to-json | from-json`.

use std::path::Path;

use crate::{say, Failure};

fn read(file: &Path) -> Result<Vec<u8>, Failure> {
    std::fs::read(file).map_err(|e| Failure::new("E0001", format!("{}: {e}", file.display())))
}

fn write_stdout(bytes: &[u8]) -> Result<(), Failure> {
    use std::io::Write;
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => std::process::exit(0),
        Err(e) => Err(Failure::new("E0004", format!("cannot write output: {e}"))),
    }
}

/// `edi validate`: the envelope's and the directory's errors (and warnings), each with its
/// code, place and 0085 code; exit status 1 when there is an error.
pub(crate) fn validate(file: &Path, directory: Option<&str>, json: bool) -> Result<(), Failure> {
    let bytes = read(file)?;
    let interchange = jinguan_edifact::check(&bytes);
    let report = jinguan_edimap::validation(&bytes, &interchange, directory)
        .map_err(|e| Failure::new("E0601", e))?;
    if json {
        let diagnostics: Vec<serde_json::Value> = report
            .diagnostics
            .iter()
            .map(|(d, error)| {
                serde_json::json!({
                    "code": d.code, "message": d.message, "offset": d.offset,
                    "segment": d.segment.map(|s| s + 1), "element": d.element,
                    "error": error, "syntax_error": jinguan_edimap::error_code(d.code),
                })
            })
            .collect();
        say!(
            "{}",
            serde_json::json!({
                "messages": report.messages.iter().map(|(reference, kind, release)| serde_json::json!({
                    "reference": reference, "type": kind, "directory": release,
                })).collect::<Vec<_>>(),
                "diagnostics": diagnostics,
                "valid": report.valid(),
            })
        );
    } else {
        for (reference, kind, release) in &report.messages {
            match release {
                Some(release) => say!("message {reference:?} {kind}: validated against {release}"),
                None => {
                    say!("message {reference:?} {kind}: no directory shipped for it; envelope only")
                }
            }
        }
        for (d, error) in &report.diagnostics {
            let level = if *error { "error" } else { "warning" };
            let un = jinguan_edimap::error_code(d.code)
                .map(|c| format!(" [0085 {c}]"))
                .unwrap_or_default();
            say!("{level} {d}{un}");
        }
        say!(
            "{}: {} error(s), {} warning(s)",
            if report.valid() { "valid" } else { "invalid" },
            report.diagnostics.iter().filter(|(_, e)| *e).count(),
            report.diagnostics.iter().filter(|(_, e)| !*e).count()
        );
    }
    if report.valid() {
        Ok(())
    } else {
        std::process::exit(1)
    }
}

/// `edi contrl`: the CONTRL answering the interchange, on standard output; exit status 1
/// when it rejects anything.
pub(crate) fn contrl(file: &Path, reference: &str) -> Result<(), Failure> {
    let bytes = read(file)?;
    let interchange = jinguan_edifact::check(&bytes);
    let errors = jinguan_edimap::errors(&bytes, &interchange);
    let refs: Vec<&jinguan_edifact::Diagnostic> = errors.iter().collect();
    let report = jinguan_edimap::contrl::report(&interchange, &refs, &jinguan_edimap::error_code);
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .ok()
        .and_then(|d| chrono::DateTime::from_timestamp(i64::try_from(d.as_secs()).ok()?, 0))
        .unwrap_or_default();
    let out = jinguan_edimap::contrl::interchange(
        &interchange,
        &report,
        (
            now.format("%y%m%d").to_string(),
            now.format("%H%M").to_string(),
        ),
        reference,
    );
    write_stdout(&out)?;
    if report.accepted {
        Ok(())
    } else {
        std::process::exit(1)
    }
}

/// `edi to-json`: the segments in the documented JSON form.
pub(crate) fn to_json(file: &Path) -> Result<(), Failure> {
    let bytes = read(file)?;
    let (segments, separators, diagnostics) = jinguan_edifact::parse_owned(&bytes);
    for d in &diagnostics {
        eprintln!("{d}");
    }
    say!("{}", jinguan_edifact::to_json(&segments, &separators));
    Ok(())
}

/// `edi from-json`: an interchange written from the JSON form (canonical: one segment per
/// line with `--lines`).
pub(crate) fn from_json(file: &Path, lines: bool) -> Result<(), Failure> {
    let bytes = read(file)?;
    let text = String::from_utf8(bytes)
        .map_err(|_| Failure::new("E0602", format!("{}: not UTF-8", file.display())))?;
    let (segments, separators) =
        jinguan_edifact::from_json(&text).map_err(|e| Failure::new("E0603", e.to_string()))?;
    let out = jinguan_edifact::serialize::serialize_with(
        &segments,
        &separators,
        &jinguan_edifact::serialize::Options {
            una: false,
            newline: lines,
        },
    );
    write_stdout(&out)
}
