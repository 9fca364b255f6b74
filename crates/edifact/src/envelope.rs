//! The envelope: `UNB … UNZ` around optional `UNG … UNE` groups around `UNH … UNT` messages,
//! each closing segment's count and reference checked against what it closes.

use std::collections::HashSet;

use crate::{Diagnostic, Segment, Separators, Tokenizer};

/// One message of an interchange.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// Its reference (`UNH` 0062).
    pub reference: String,
    /// Type, version, release, agency and association code (`UNH` S009), e.g. `CUSDEC`, `D`,
    /// `96B`, `UN`, `CD001A`.
    pub message_type: String,
    /// Version (`D`).
    pub version: String,
    /// Release (`96B`).
    pub release: String,
    /// Controlling agency (`UN`).
    pub agency: String,
    /// Association assigned code, if any.
    pub association: String,
    /// Position of its `UNH` among the segments.
    pub first_segment: usize,
    /// Its segments, `UNH` and `UNT` included (as counted, whatever `UNT` says).
    pub segments: usize,
    /// Byte offset of its `UNH`.
    pub offset: usize,
    /// The group it is in, by reference.
    pub group: Option<String>,
}

/// What an interchange holds and what is wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interchange {
    /// The separators it was read with.
    pub separators: Separators,
    /// Syntax identifier (`UNOC`) and version (`3`) from `UNB`.
    pub syntax: Option<(String, String)>,
    /// Sender and recipient identifications from `UNB`.
    pub sender: String,
    /// Recipient.
    pub recipient: String,
    /// The interchange control reference (`UNB` 0020).
    pub control_reference: String,
    /// Its messages.
    pub messages: Vec<Message>,
    /// Functional groups.
    pub groups: usize,
    /// Interchanges (`UNB … UNZ`) one after the other in the input; the identification
    /// fields are the first's.
    pub interchanges: usize,
    /// Segments read.
    pub segments: usize,
    /// What is wrong, in input order.
    pub diagnostics: Vec<Diagnostic>,
}

impl Interchange {
    /// Diagnostics that make the interchange unacceptable (all but warnings: a line break
    /// inside a segment, messages without an envelope).
    pub fn errors(&self) -> impl Iterator<Item = &Diagnostic> {
        self.diagnostics
            .iter()
            .filter(|d| !matches!(d.code, "U0005" | "U0112"))
    }

    /// Whether nothing in it is an error.
    pub fn is_acceptable(&self) -> bool {
        self.errors().next().is_none()
    }
}

/// Syntax identifiers of ISO 9735 and the IATA ones seen in traffic.
const SYNTAXES: &[&str] = &[
    "UNOA", "UNOB", "UNOC", "UNOD", "UNOE", "UNOF", "UNOG", "UNOH", "UNOI", "UNOJ", "UNOK", "UNOL",
    "UNOW", "UNOX", "UNOY", "UNOZ", "IATA", "IATB",
];

fn text(segment: &Segment<'_>, element: usize, component: usize) -> String {
    segment
        .element(element)
        .and_then(|e| e.component(component))
        .map(|v| String::from_utf8_lossy(&v).into_owned())
        .unwrap_or_default()
}

struct Open {
    reference: String,
    first: usize,
    offset: usize,
    count: usize,
}

/// Reads `input` as an interchange and checks its envelope.
pub fn check(input: &[u8]) -> Interchange {
    let mut tokenizer = Tokenizer::new(input);
    let mut interchange = Interchange {
        separators: tokenizer.separators(),
        syntax: None,
        sender: String::new(),
        recipient: String::new(),
        control_reference: String::new(),
        messages: Vec::new(),
        groups: 0,
        interchanges: 0,
        segments: 0,
        diagnostics: Vec::new(),
    };
    let mut problems = Vec::new();
    let said = |code: &'static str, message: String, segment: &Segment<'_>| Diagnostic {
        code,
        message,
        offset: segment.offset,
        segment: Some(segment.index),
        element: None,
    };
    let mut opened = false;
    let mut closed = false;
    let mut group: Option<(Open, usize)> = None;
    let mut message: Option<Open> = None;
    let mut message_references = HashSet::new();
    let mut group_references = HashSet::new();
    let mut top_level = 0usize;
    let mut control_reference = String::new();
    let mut last_offset = 0;
    for segment in tokenizer.by_ref() {
        interchange.segments += 1;
        last_offset = segment.offset;
        if let Some(open) = message.as_mut() {
            open.count += 1;
        }
        if closed {
            if segment.tag == b"UNB" {
                // The next interchange of the same file: its controls are its own.
                opened = false;
                closed = false;
                top_level = 0;
                message_references.clear();
                group_references.clear();
            } else {
                problems.push(said("U0101", "a segment after UNZ".into(), &segment));
                continue;
            }
        }
        match segment.tag {
            b"UNB" => {
                if opened || message.is_some() {
                    problems.push(said("U0101", "UNB inside an interchange".into(), &segment));
                    continue;
                }
                opened = true;
                interchange.interchanges += 1;
                let syntax = (text(&segment, 0, 0), text(&segment, 0, 1));
                if !SYNTAXES.contains(&syntax.0.as_str()) {
                    problems.push(said(
                        "U0111",
                        format!("syntax identifier {:?} is not one of ISO 9735's", syntax.0),
                        &segment,
                    ));
                }
                control_reference = text(&segment, 4, 0);
                if interchange.interchanges == 1 {
                    interchange.syntax = Some(syntax);
                    interchange.sender = text(&segment, 1, 0);
                    interchange.recipient = text(&segment, 2, 0);
                    interchange.control_reference.clone_from(&control_reference);
                }
            }
            b"UNG" => {
                if !opened || message.is_some() || group.is_some() {
                    problems.push(said("U0101", "UNG out of place".into(), &segment));
                }
                let reference = text(&segment, 4, 0);
                if !group_references.insert(reference.clone()) {
                    problems.push(said(
                        "U0110",
                        format!("group reference {reference:?} used twice"),
                        &segment,
                    ));
                }
                message_references.clear();
                interchange.groups += 1;
                top_level += 1;
                group = Some((
                    Open {
                        reference,
                        first: segment.index,
                        offset: segment.offset,
                        count: 0,
                    },
                    0,
                ));
            }
            b"UNE" => {
                if message.is_some() {
                    problems.push(said(
                        "U0108",
                        "UNE before the message's UNT".into(),
                        &segment,
                    ));
                    message = None;
                }
                match group.take() {
                    None => problems.push(said("U0101", "UNE without UNG".into(), &segment)),
                    Some((open, messages)) => {
                        let count = text(&segment, 0, 0);
                        let reference = text(&segment, 1, 0);
                        if count.parse::<usize>().ok() != Some(messages)
                            || reference != open.reference
                        {
                            problems.push(said(
                                "U0107",
                                format!(
                                    "UNE says {count} messages, reference {reference:?}; the group \
                                     has {messages}, reference {:?}",
                                    open.reference
                                ),
                                &segment,
                            ));
                        }
                    }
                }
            }
            b"UNH" => {
                if let Some(open) = message.take() {
                    problems.push(Diagnostic {
                        code: "U0108",
                        message: format!("message {:?} has no UNT", open.reference),
                        offset: open.offset,
                        segment: Some(open.first),
                        element: None,
                    });
                }
                let reference = text(&segment, 0, 0);
                let s009 = |n| text(&segment, 1, n);
                if reference.is_empty() || s009(0).is_empty() && s009(1).is_empty() {
                    problems.push(said(
                        "U0109",
                        "UNH needs a message reference and a message identifier".into(),
                        &segment,
                    ));
                }
                if !reference.is_empty() && !message_references.insert(reference.clone()) {
                    problems.push(said(
                        "U0106",
                        format!("message reference {reference:?} used twice"),
                        &segment,
                    ));
                }
                if !opened && interchange.messages.is_empty() {
                    problems.push(said(
                        "U0112",
                        "messages without an interchange envelope (no UNB)".into(),
                        &segment,
                    ));
                }
                interchange.messages.push(Message {
                    reference: reference.clone(),
                    message_type: s009(0),
                    version: s009(1),
                    release: s009(2),
                    agency: s009(3),
                    association: s009(4),
                    first_segment: segment.index,
                    segments: 0,
                    offset: segment.offset,
                    group: group.as_ref().map(|(g, _)| g.reference.clone()),
                });
                match group.as_mut() {
                    Some((_, messages)) => *messages += 1,
                    None => top_level += 1,
                }
                message = Some(Open {
                    reference,
                    first: segment.index,
                    offset: segment.offset,
                    count: 1,
                });
            }
            b"UNT" => match message.take() {
                None => problems.push(said("U0101", "UNT without UNH".into(), &segment)),
                Some(open) => {
                    if let Some(last) = interchange.messages.last_mut() {
                        last.segments = open.count;
                    }
                    let count = text(&segment, 0, 0);
                    if count.parse::<usize>().ok() != Some(open.count) {
                        problems.push(said(
                            "U0104",
                            format!("UNT says {count} segments; the message has {}", open.count),
                            &segment,
                        ));
                    }
                    let reference = text(&segment, 1, 0);
                    if reference != open.reference {
                        problems.push(said(
                            "U0105",
                            format!("UNT reference {reference:?}, UNH's {:?}", open.reference),
                            &segment,
                        ));
                    }
                }
            },
            b"UNZ" => {
                if let Some(open) = message.take() {
                    problems.push(Diagnostic {
                        code: "U0108",
                        message: format!("message {:?} has no UNT", open.reference),
                        offset: open.offset,
                        segment: Some(open.first),
                        element: None,
                    });
                }
                if group.take().is_some() {
                    problems.push(said("U0108", "a group has no UNE".into(), &segment));
                }
                if !opened {
                    problems.push(said("U0101", "UNZ without UNB".into(), &segment));
                }
                closed = true;
                let count = text(&segment, 0, 0);
                if count.parse::<usize>().ok() != Some(top_level) {
                    problems.push(said(
                        "U0102",
                        format!(
                            "UNZ says {count}; the interchange has {top_level} {}",
                            if interchange.groups > 0 {
                                "groups"
                            } else {
                                "messages"
                            }
                        ),
                        &segment,
                    ));
                }
                let reference = text(&segment, 1, 0);
                if opened && reference != control_reference {
                    problems.push(said(
                        "U0103",
                        format!("UNZ reference {reference:?}, UNB's {control_reference:?}"),
                        &segment,
                    ));
                }
            }
            _ => {
                if message.is_none() {
                    problems.push(said(
                        "U0101",
                        format!(
                            "segment {} outside a message",
                            String::from_utf8_lossy(segment.tag)
                        ),
                        &segment,
                    ));
                }
            }
        }
    }
    if let Some(open) = message {
        if let Some(last) = interchange.messages.last_mut() {
            last.segments = open.count;
        }
        problems.push(Diagnostic {
            code: "U0108",
            message: format!("message {:?} has no UNT", open.reference),
            offset: open.offset,
            segment: Some(open.first),
            element: None,
        });
    }
    if opened && !closed {
        problems.push(Diagnostic {
            code: "U0108",
            message: "the interchange has no UNZ".into(),
            offset: last_offset,
            segment: None,
            element: None,
        });
    }
    if interchange.segments == 0 {
        problems.push(Diagnostic {
            code: "U0101",
            message: "no segments".into(),
            offset: 0,
            segment: None,
            element: None,
        });
    }
    let mut diagnostics = tokenizer.into_diagnostics();
    diagnostics.extend(problems);
    // Bytes outside the repertoire UNB declares (U0201), once the syntax identifier is known.
    diagnostics.extend(crate::repertoire::check(input, &interchange));
    diagnostics.sort_by_key(|d| d.offset);
    interchange.diagnostics = diagnostics;
    interchange
}

#[cfg(test)]
mod tests {
    use super::*;

    const GOOD: &[u8] = b"UNA:+.? 'UNB+UNOC:3+SENDER+RECEIVER+261128:1200+42'\
UNH+1+CUSDEC:D:96B:UN:CD001A'BGM+929'UNT+3+1'\
UNH+2+CUSDEC:D:96B:UN'BGM+929'UNT+3+2'UNZ+2+42'";

    fn codes(input: &[u8]) -> Vec<&'static str> {
        check(input).diagnostics.iter().map(|d| d.code).collect()
    }

    #[test]
    fn a_good_interchange_is_read_whole() {
        let interchange = check(GOOD);
        assert!(interchange.is_acceptable(), "{:?}", interchange.diagnostics);
        assert_eq!(interchange.syntax, Some(("UNOC".into(), "3".into())));
        assert_eq!(
            (
                interchange.sender.as_str(),
                interchange.control_reference.as_str()
            ),
            ("SENDER", "42")
        );
        assert_eq!(interchange.messages.len(), 2);
        let first = &interchange.messages[0];
        assert_eq!(
            (
                first.message_type.as_str(),
                first.release.as_str(),
                first.association.as_str()
            ),
            ("CUSDEC", "96B", "CD001A")
        );
        assert_eq!(first.segments, 3);
    }

    #[test]
    fn every_count_and_reference_is_checked() {
        let replace = |from: &str, to: &str| {
            String::from_utf8_lossy(GOOD)
                .replacen(from, to, 1)
                .into_bytes()
        };
        assert_eq!(codes(&replace("UNT+3+1", "UNT+4+1")), ["U0104"]);
        assert_eq!(codes(&replace("UNT+3+1", "UNT+3+9")), ["U0105"]);
        assert_eq!(codes(&replace("UNZ+2+42", "UNZ+3+42")), ["U0102"]);
        assert_eq!(codes(&replace("UNZ+2+42", "UNZ+2+43")), ["U0103"]);
        // A second message under the first's reference: used twice, and its UNT's no longer
        // matches.
        assert_eq!(codes(&replace("UNH+2+", "UNH+1+")), ["U0106", "U0105"]);
        assert_eq!(codes(&replace("UNOC:3", "XXXX:3")), ["U0111"]);
        assert_eq!(codes(&replace("UNT+3+2'", "")), ["U0108"]);
        assert_eq!(codes(&replace("UNZ+2+42'", "")), ["U0108"]);
        assert_eq!(
            codes(&replace("UNH+1+CUSDEC:D:96B:UN:CD001A", "UNH+1")),
            ["U0109"]
        );
        let grouped = b"UNB+UNOA:2+S+R+261128:1200+7'UNG+CUSDEC+S+R+261128:1200+G1+UN+D:96B'\
UNH+1+CUSDEC:D:96B:UN'UNT+2+1'UNE+1+G1'UNZ+1+7'";
        assert!(
            check(grouped).is_acceptable(),
            "{:?}",
            check(grouped).diagnostics
        );
        let wrong = String::from_utf8_lossy(grouped).replace("UNE+1+G1", "UNE+2+G1");
        assert_eq!(codes(wrong.as_bytes()), ["U0107"]);
    }

    #[test]
    fn interchanges_one_after_another_each_check_their_own_controls() {
        let two = [
            GOOD,
            b"UNB+UNOA:2+S+R+261128:1201+43'UNH+1+ORDERS:D:96A:UN'UNT+2+1'UNZ+1+43'",
        ]
        .concat();
        let interchange = check(&two);
        assert!(interchange.is_acceptable(), "{:?}", interchange.diagnostics);
        assert_eq!(
            (interchange.interchanges, interchange.messages.len()),
            (2, 3)
        );
        assert_eq!(interchange.control_reference, "42");
        let wrong = String::from_utf8_lossy(&two).replace("UNZ+1+43", "UNZ+1+42");
        assert_eq!(codes(wrong.as_bytes()), ["U0103"]);
    }

    #[test]
    fn bare_messages_are_read_with_a_warning() {
        let interchange = check(b"UNH+1+ORDERS:D:96A:UN'BGM+220'UNT+3+1'");
        assert!(interchange.is_acceptable());
        assert_eq!(codes(b"UNH+1+ORDERS:D:96A:UN'BGM+220'UNT+3+1'"), ["U0112"]);
        assert_eq!(codes(b""), ["U0101"]);
    }
}
