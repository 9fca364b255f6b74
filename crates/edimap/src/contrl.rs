//! CONTRL, the syntax and service report answering every interchange received.
//!
//! `UCI` answers the interchange: `7` acknowledged, or `4` rejected with the syntax error code
//! (data element 0085) and the service segment (`UNB`/`UNZ`) at fault. One `UCM` per message
//! answers it the same way; under it a `UCS` names each segment in error by its position in
//! the message (`UNH` is 1) and a `UCD` each element in error by its position (and its
//! component's). The error codes come from the diagnostics' codes: the envelope's (`U0xxx`)
//! here, the directory validator's (`V0xxx`) by the function the caller passes.

use jinguan_edifact::{Diagnostic, Interchange};

use crate::segments::{els, Seg};

/// The message identifier written: `CONTRL:D:3:UN` for syntax versions 1 to 3, `CONTRL:4:1:UN`
/// for version 4 (the CONTRL of ISO 9735 version 4).
pub fn identifier(syntax_version: &str) -> [String; 4] {
    if syntax_version == "4" {
        ["CONTRL", "4", "1", "UN"].map(str::to_owned)
    } else {
        ["CONTRL", "D", "3", "UN"].map(str::to_owned)
    }
}

/// The syntax error code (0085) of an envelope or syntax diagnostic.
pub fn envelope_error(code: &str) -> Option<&'static str> {
    Some(match code {
        // Service string advice or a service character in a wrong role.
        "U0001" => "20",
        // Unterminated last segment, empty segment: unspecified.
        "U0002" | "U0004" => "18",
        // A tag that is not a tag: not supported in this position.
        "U0003" => "15",
        // Service segment missing or out of place.
        "U0101" => "33",
        // Counts.
        "U0102" | "U0104" | "U0107" => "29",
        // References.
        "U0103" | "U0105" => "28",
        // Duplicates.
        "U0106" | "U0110" => "26",
        // Not closed; a message header without its identification.
        "U0108" | "U0109" => "13",
        // Syntax identifier unknown.
        "U0111" => "2",
        // Characters outside the declared repertoire.
        "U0201" => "21",
        _ => return None,
    })
}

/// The CONTRL's verdict and body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    /// Whether the interchange as a whole is acknowledged (nothing rejected).
    pub accepted: bool,
    /// Per message: its reference and whether it is acknowledged.
    pub messages: Vec<(String, bool)>,
    /// The body (between `UNH` and `UNT`).
    pub body: Vec<Seg>,
}

/// The CONTRL answering `interchange` given every error found in it (the envelope's and the
/// validator's; warnings left out by the caller). `error_code` gives each diagnostic's 0085
/// code (unknown ones are reported as `18`, unspecified).
pub fn report(
    interchange: &Interchange,
    errors: &[&Diagnostic],
    error_code: &dyn Fn(&str) -> Option<&'static str>,
) -> Report {
    let code = |d: &Diagnostic| error_code(d.code).unwrap_or("18").to_owned();
    // Which message a diagnostic concerns: by segment position.
    let message_of = |d: &Diagnostic| {
        let segment = d.segment?;
        interchange
            .messages
            .iter()
            .position(|m| segment >= m.first_segment && segment < m.first_segment + m.segments)
    };
    let mut per_message: Vec<Vec<&Diagnostic>> = vec![Vec::new(); interchange.messages.len()];
    let mut interchange_level = Vec::new();
    for d in errors {
        match message_of(d) {
            Some(i) => per_message[i].push(d),
            None => interchange_level.push(*d),
        }
    }
    let accepted_messages: Vec<bool> = per_message.iter().map(Vec::is_empty).collect();
    let rejected = !interchange_level.is_empty();
    let accepted = !rejected && accepted_messages.iter().all(|a| *a);
    let mut uci = vec![
        vec![interchange.control_reference.clone()],
        vec![interchange.sender.clone()],
        vec![interchange.recipient.clone()],
        vec![if rejected { "4" } else { "7" }.to_owned()],
    ];
    if let Some(first) = interchange_level.first() {
        uci.push(vec![code(first)]);
        let tag = if matches!(first.code, "U0102" | "U0103") {
            "UNZ"
        } else {
            "UNB"
        };
        uci.push(vec![tag.to_owned()]);
    }
    let mut body = vec![Seg::new("UCI", uci)];
    let mut messages = Vec::new();
    for (message, problems) in interchange.messages.iter().zip(&per_message) {
        let ok = problems.is_empty();
        messages.push((message.reference.clone(), ok));
        let identifier = vec![
            message.message_type.clone(),
            message.version.clone(),
            message.release.clone(),
            message.agency.clone(),
        ];
        let mut ucm = vec![
            vec![message.reference.clone()],
            identifier,
            vec![if ok { "7" } else { "4" }.to_owned()],
        ];
        // A problem of the message's envelope (count, reference) is the UCM's own error.
        let own = problems
            .iter()
            .find(|d| matches!(d.code, "U0104" | "U0105" | "U0106" | "U0108" | "U0109"));
        if let Some(d) = own {
            ucm.push(vec![code(d)]);
            let tag = if matches!(d.code, "U0104" | "U0105") {
                "UNT"
            } else {
                "UNH"
            };
            ucm.push(vec![tag.to_owned()]);
        }
        body.push(Seg::new("UCM", ucm));
        // Segment errors, each segment once, its element errors under it.
        let mut segments: Vec<usize> = problems
            .iter()
            .filter(|d| !own.is_some_and(|o| std::ptr::eq(*o, **d)))
            .filter_map(|d| d.segment)
            .collect();
        segments.sort_unstable();
        segments.dedup();
        for segment in segments.into_iter().take(999) {
            let position = (segment - message.first_segment + 1).to_string();
            let here: Vec<&&Diagnostic> = problems
                .iter()
                .filter(|d| d.segment == Some(segment))
                .filter(|d| !own.is_some_and(|o| std::ptr::eq(*o, **d)))
                .collect();
            let segment_level = here.iter().find(|d| d.element.is_none());
            let mut ucs = els(&[&position]);
            if let Some(d) = segment_level {
                ucs.push(vec![code(d)]);
            }
            body.push(Seg::new("UCS", ucs));
            for d in here.iter().filter(|d| d.element.is_some()).take(99) {
                let (element, component) = d.element.unwrap_or_default();
                let mut at = vec![element.to_string()];
                if component > 0 {
                    at.push(component.to_string());
                }
                body.push(Seg::new("UCD", vec![vec![code(d)], at]));
            }
        }
    }
    Report {
        accepted,
        messages,
        body,
    }
}

/// The whole CONTRL interchange answering `interchange`: from its recipient to its sender, in
/// its syntax level (`UNOC:3` when it named none it could be answered in), `prepared` being
/// `(YYMMDD, HHMM)` and `reference` the new interchange's control reference.
pub fn interchange(
    interchange: &Interchange,
    report: &Report,
    prepared: (String, String),
    reference: &str,
) -> Vec<u8> {
    let syntax = interchange
        .syntax
        .clone()
        .filter(|(id, version)| id.starts_with("UNO") && !version.is_empty())
        .unwrap_or_else(|| ("UNOC".into(), "3".into()));
    let identifier = identifier(&syntax.1);
    let envelope = crate::Envelope {
        sender: if interchange.recipient.is_empty() {
            "JINGUAN".into()
        } else {
            interchange.recipient.clone()
        },
        recipient: interchange.sender.clone(),
        syntax,
        prepared,
        reference: reference.to_owned(),
    };
    crate::interchange(
        &envelope,
        &[crate::OutMessage {
            reference: "1".into(),
            identifier,
            segments: report.body.clone(),
        }],
    )
}
