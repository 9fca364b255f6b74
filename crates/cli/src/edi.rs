//! `jinguan edi …`: UN/EDIFACT interchanges read, checked and measured.

use std::path::Path;

use clap::Subcommand;

use crate::{say, Failure};

mod tools;

/// The `edi` subcommands.
#[derive(Subcommand)]
pub(crate) enum EdiCommand {
    /// Read an interchange: its separators, envelope, messages and segments, and every
    /// diagnostic (code, byte offset, segment). Exit status 1 when it is not acceptable.
    Parse {
        /// The interchange.
        file: std::path::PathBuf,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// Validate an interchange: its envelope and syntax, and each message against its UN
    /// directory (segment order and groups, mandatory and conditional, repeats, element
    /// formats, code lists). Exit status 1 when there is an error.
    Validate {
        /// The interchange.
        file: std::path::PathBuf,
        /// Validate every message against this release (e.g. `D96B`) instead of its own.
        #[arg(long)]
        directory: Option<String>,
        /// Print JSON.
        #[arg(long)]
        json: bool,
    },
    /// The CONTRL (syntax and service report) answering an interchange, on standard output.
    /// Exit status 1 when it rejects anything.
    Contrl {
        /// The interchange.
        file: std::path::PathBuf,
        /// The CONTRL interchange's control reference.
        #[arg(long, default_value = "1")]
        reference: String,
    },
    /// The segments of an interchange in Jinguan's JSON form (separators, then each segment's
    /// tag and elements as component arrays).
    ToJson {
        /// The interchange.
        file: std::path::PathBuf,
    },
    /// An interchange written from the JSON form (canonical).
    FromJson {
        /// The JSON.
        file: std::path::PathBuf,
        /// One segment per line.
        #[arg(long)]
        lines: bool,
    },
}

fn read(file: &Path) -> Result<Vec<u8>, Failure> {
    std::fs::read(file).map_err(|e| Failure::new("E0001", format!("{}: {e}", file.display())))
}

fn lossy(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

pub(crate) fn run(command: EdiCommand) -> Result<(), Failure> {
    match command {
        EdiCommand::Parse { file, json } => parse(&file, json),
        EdiCommand::Validate {
            file,
            directory,
            json,
        } => tools::validate(&file, directory.as_deref(), json),
        EdiCommand::Contrl { file, reference } => tools::contrl(&file, &reference),
        EdiCommand::ToJson { file } => tools::to_json(&file),
        EdiCommand::FromJson { file, lines } => tools::from_json(&file, lines),
    }
}

fn parse(file: &Path, json: bool) -> Result<(), Failure> {
    let bytes = read(file)?;
    let interchange = jinguan_edifact::check(&bytes);
    let separators = interchange.separators;
    let segments: Vec<serde_json::Value> = jinguan_edifact::Tokenizer::new(&bytes)
        .map(|segment| {
            let elements: Vec<Vec<String>> = segment
                .elements()
                .map(|element| {
                    element
                        .components()
                        .map(|c| lossy(&jinguan_edifact::unescape(c, &separators)))
                        .collect()
                })
                .collect();
            serde_json::json!({
                "tag": lossy(segment.tag),
                "offset": segment.offset,
                "elements": elements,
            })
        })
        .collect();
    let diagnostics: Vec<serde_json::Value> = interchange
        .diagnostics
        .iter()
        .map(|d| {
            serde_json::json!({
                "code": d.code, "message": d.message, "offset": d.offset, "segment": d.segment,
            })
        })
        .collect();
    let messages: Vec<serde_json::Value> = interchange
        .messages
        .iter()
        .map(|m| {
            serde_json::json!({
                "reference": m.reference, "type": m.message_type, "version": m.version,
                "release": m.release, "agency": m.agency, "association": m.association,
                "segments": m.segments, "group": m.group,
            })
        })
        .collect();
    let char_of = |b: Option<u8>| b.map(|b| char::from(b).to_string());
    if json {
        say!(
            "{}",
            serde_json::json!({
                "separators": {
                    "component": char_of(Some(separators.component)),
                    "element": char_of(Some(separators.element)),
                    "decimal": char_of(Some(separators.decimal)),
                    "release": char_of(separators.release),
                    "repetition": char_of(separators.repetition),
                    "segment": char_of(Some(separators.segment)),
                },
                "syntax": interchange.syntax,
                "sender": interchange.sender,
                "recipient": interchange.recipient,
                "control_reference": interchange.control_reference,
                "interchanges": interchange.interchanges,
                "groups": interchange.groups,
                "messages": messages,
                "segments": segments,
                "diagnostics": diagnostics,
                "acceptable": interchange.is_acceptable(),
            })
        );
    } else {
        let (id, version) = interchange.syntax.clone().unwrap_or_default();
        say!(
            "interchange {:?} from {:?} to {:?}, syntax {id}:{version}, {} segments, {} messages",
            interchange.control_reference,
            interchange.sender,
            interchange.recipient,
            interchange.segments,
            interchange.messages.len()
        );
        for m in &interchange.messages {
            say!(
                "  message {:?}: {}:{}:{}:{}{} ({} segments)",
                m.reference,
                m.message_type,
                m.version,
                m.release,
                m.agency,
                if m.association.is_empty() {
                    String::new()
                } else {
                    format!(":{}", m.association)
                },
                m.segments
            );
        }
        for segment in &segments {
            let elements: Vec<String> = segment["elements"]
                .as_array()
                .map(|e| {
                    e.iter()
                        .map(|c| {
                            c.as_array()
                                .map(|c| {
                                    c.iter()
                                        .filter_map(|v| v.as_str())
                                        .collect::<Vec<_>>()
                                        .join(":")
                                })
                                .unwrap_or_default()
                        })
                        .collect()
                })
                .unwrap_or_default();
            say!(
                "    {} {}",
                segment["tag"].as_str().unwrap_or(""),
                elements.join(" | ")
            );
        }
        for d in &interchange.diagnostics {
            say!("{d}");
        }
    }
    let first = interchange.errors().next().cloned();
    match first {
        None => Ok(()),
        Some(first) => Err(Failure::new(
            first.code,
            format!(
                "{} error(s); the first: {first}",
                interchange.errors().count()
            ),
        )),
    }
}
