//! A message checked against its directory: segment order and group nesting against the
//! message's segment table, repeats, mandatory segments, groups, elements and components,
//! element formats and code values.
//!
//! The segment table is walked by a state machine without backtracking: a level per open
//! segment group, each at the node last matched with how often it has repeated. A segment is
//! looked for from the current node onwards, first in the innermost group, then outwards (which
//! closes the inner groups); a node already repeated its maximum is passed over, so that `RFF
//! RFF` under a group `RFF M 1` starts the group's next repetition. Because each group starts
//! with its trigger segment, the first match is the right one; the work per segment is bounded
//! by the table's width times its depth, and nothing is allocated per segment unless something
//! is wrong (or a value carries release characters).
//!
//! Diagnostics use the `V0xxx` codes of the crate's table; [`syntax_error`] maps each to the
//! UN/EDIFACT syntax error code (data element 0085) a `CONTRL` reports. `V0001` is a warning
//! (see [`is_warning`]): the message could not be checked, or was checked against another
//! release than the one it names.

use std::borrow::Cow;

use crate::directory::{Class, ComponentDef, Directory, ElementDef, ElementKind, Format, Node};
use crate::{unescape, Diagnostic, Message, Segment, Separators, Tokenizer};

/// Checks `message` of `input` (an interchange as [`crate::check`] read it) against
/// `directory`. Returns what is wrong, in segment order (missing segments where they were
/// noticed missing).
pub fn validate(
    directory: &Directory,
    input: &[u8],
    message: &Message,
    separators: &Separators,
) -> Vec<Diagnostic> {
    let segments = Tokenizer::new(input)
        .skip(message.first_segment)
        .take(message.segments);
    validate_segments(directory, message, segments, separators)
}

/// Checks every message of `interchange` (read from `input` by [`crate::check`]) in one pass
/// over the input, each against the directory `directory_for` picks for it (`None`: no
/// directory for the release it names, so it is not validated, which the warning `V0001`
/// says). [`validate`] for one message tokenizes from the start of the input up to it; this
/// is the form for interchanges of many messages.
pub fn validate_interchange<'d>(
    input: &[u8],
    interchange: &crate::Interchange,
    mut directory_for: impl FnMut(&Message) -> Option<&'d Directory>,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let mut segments = Tokenizer::new(input).peekable();
    for message in &interchange.messages {
        let Some(directory) = directory_for(message) else {
            out.push(Diagnostic {
                code: "V0001",
                message: format!(
                    "no directory for {}{} ({}): not validated",
                    message.version, message.release, message.message_type
                ),
                offset: message.offset,
                segment: Some(message.first_segment),
                element: None,
            });
            continue;
        };
        // Up to the message's UNH; messages are in input order, so this only moves forward.
        while segments
            .peek()
            .is_some_and(|segment| segment.index < message.first_segment)
        {
            segments.next();
        }
        let own = segments.by_ref().take(message.segments);
        out.extend(validate_segments(
            directory,
            message,
            own,
            &interchange.separators,
        ));
    }
    out
}

/// Checks a message's segments (`UNH` to `UNT`) against `directory`: [`validate`] for a
/// caller that already has them, e.g. from one pass over an interchange of many messages.
pub fn validate_segments<'a>(
    directory: &Directory,
    message: &Message,
    segments: impl IntoIterator<Item = Segment<'a>>,
    separators: &Separators,
) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    let warn = |text: String| Diagnostic {
        code: "V0001",
        message: text,
        offset: message.offset,
        segment: Some(message.first_segment),
        element: None,
    };
    let Some(definition) = directory.message(&message.message_type) else {
        out.push(warn(format!(
            "message type {:?} is not in directory {}: not validated",
            message.message_type, directory.release
        )));
        return out;
    };
    let named = format!("{}{}", message.version, message.release);
    if named != directory.release {
        out.push(warn(format!(
            "the message names directory {named:?}; validated against {}",
            directory.release
        )));
    }
    let mut machine = Machine::new(&definition.nodes);
    let mut last = (message.offset, message.first_segment);
    for segment in segments {
        last = (segment.offset, segment.index);
        machine.step(&segment, &mut out);
        if let Some(definition) = directory.segment(segment.tag) {
            check_elements(directory, definition, &segment, separators, &mut out);
        }
    }
    machine.finish(last, &mut out);
    out
}

/// Whether a validation diagnostic is a warning (the message stays acceptable): `V0001`
/// only. Warnings of the envelope are the ones [`crate::Interchange::errors`] leaves out.
pub fn is_warning(code: &str) -> bool {
    code == "V0001"
}

/// The UN/EDIFACT syntax error code (data element 0085, as a `CONTRL` `UCS`/`UCD` carries it)
/// for a `V` code; `None` for a warning or a code that is not a validation code.
pub fn syntax_error(code: &str) -> Option<&'static str> {
    Some(match code {
        // 15: not supported in this position.
        "V0101" | "V0102" => "15",
        // 13: missing.
        "V0103" | "V0104" | "V0204" | "V0205" => "13",
        // 35: too many repetitions; 36: too many segment group repetitions.
        "V0105" | "V0203" => "35",
        "V0106" => "36",
        // 16: too many constituents.
        "V0201" | "V0202" => "16",
        "V0301" => "39",
        "V0302" => "40",
        "V0303" => "37",
        // 19: invalid decimal notation; 38: missing digit in front of decimal sign.
        "V0304" => "19",
        "V0305" => "38",
        // 12: invalid value.
        "V0401" => "12",
        _ => return None,
    })
}

/// Where the walk is in one level of the table.
#[derive(Debug, Clone, Copy)]
struct Level<'d> {
    nodes: &'d [Node],
    /// The node last matched (0 before anything is, with `count` 0).
    at: usize,
    /// How often the node at `at` has occurred in a row (a group: its instances).
    count: u32,
}

/// The table walk: the levels of the groups open, outermost first.
struct Machine<'d> {
    levels: Vec<Level<'d>>,
}

/// Group nesting in the directories goes to about ten; a table deeper than this is walked
/// only this deep (a segment below it is reported out of place), which bounds the work.
const DEPTH_MAX: usize = 32;

fn node_name(node: &Node) -> String {
    match node {
        Node::Segment { tag, .. } => tag.clone(),
        Node::Group { name, .. } => {
            format!("segment group {name} ({})", node.trigger().unwrap_or("?"))
        }
    }
}

impl<'d> Machine<'d> {
    fn new(nodes: &'d [Node]) -> Self {
        let mut levels = Vec::with_capacity(16);
        levels.push(Level {
            nodes,
            at: 0,
            count: 0,
        });
        Machine { levels }
    }

    /// The first node from the current ones onwards that `tag` starts, innermost level first;
    /// a node already at its maximum is passed over.
    fn find(&self, tag: &[u8]) -> Option<(usize, usize)> {
        for (k, level) in self.levels.iter().enumerate().rev() {
            for (i, node) in level.nodes.iter().enumerate().skip(level.at) {
                if i == level.at && level.count >= node.max() {
                    continue;
                }
                if node.trigger().map(str::as_bytes) == Some(tag) {
                    return Some((k, i));
                }
            }
        }
        None
    }

    /// A node at its maximum that `tag` would repeat once more, innermost first. A group's
    /// trigger is not one: its repeat is the group's, found a level out.
    fn find_exhausted(&self, tag: &[u8]) -> Option<(usize, usize)> {
        self.levels.iter().enumerate().rev().find_map(|(k, level)| {
            if k > 0 && level.at == 0 {
                return None;
            }
            let node = level.nodes.get(level.at)?;
            (level.count > 0 && node.trigger().map(str::as_bytes) == Some(tag))
                .then_some((k, level.at))
        })
    }

    fn step(&mut self, segment: &Segment<'_>, out: &mut Vec<Diagnostic>) {
        let said = |code: &'static str, message: String| Diagnostic {
            code,
            message,
            offset: segment.offset,
            segment: Some(segment.index),
            element: None,
        };
        let tag = String::from_utf8_lossy(segment.tag);
        if let Some((k, i)) = self.find(segment.tag) {
            self.enter(k, i, segment, out);
            return;
        }
        if let Some((k, i)) = self.find_exhausted(segment.tag) {
            self.enter(k, i, segment, out);
            return;
        }
        let in_table = contains_tag(self.levels[0].nodes, segment.tag);
        if in_table {
            out.push(said(
                "V0102",
                format!("segment {tag} is not allowed in this position"),
            ));
        } else {
            out.push(said(
                "V0101",
                format!("segment {tag} is not in this message's segment table"),
            ));
        }
    }

    /// Moves to node `i` of level `k` for `segment`, closing the levels inside `k` and
    /// reporting what was passed over missing or repeated too often.
    fn enter(&mut self, k: usize, i: usize, segment: &Segment<'_>, out: &mut Vec<Diagnostic>) {
        let at = (segment.offset, segment.index);
        while self.levels.len() > k + 1 {
            if let Some(level) = self.levels.pop() {
                missing_after(&level, level.nodes.len(), at, out);
            }
        }
        let Some(level) = self.levels.get_mut(k) else {
            return;
        };
        let Some(node) = level.nodes.get(i) else {
            return;
        };
        if i == level.at && level.count > 0 {
            level.count = level.count.saturating_add(1);
        } else {
            missing_after(level, i, at, out);
            level.at = i;
            level.count = 1;
        }
        if level.count > node.max() {
            let (code, what) = match node {
                Node::Segment { .. } => ("V0105", "segment"),
                Node::Group { .. } => ("V0106", "group"),
            };
            out.push(Diagnostic {
                code,
                message: format!(
                    "{} repeated {} times; the {what} allows {}",
                    node_name(node),
                    level.count,
                    node.max()
                ),
                offset: segment.offset,
                segment: Some(segment.index),
                element: None,
            });
        }
        if let Node::Group { children, .. } = node {
            if self.levels.len() < DEPTH_MAX {
                // The trigger segment (its first child) is the one just read.
                self.levels.push(Level {
                    nodes: children,
                    at: 0,
                    count: 1,
                });
            }
        }
    }

    /// The message is over: everything mandatory not yet seen is missing.
    fn finish(&mut self, at: (usize, usize), out: &mut Vec<Diagnostic>) {
        while let Some(level) = self.levels.pop() {
            missing_after(&level, level.nodes.len(), at, out);
        }
    }
}

/// Reports the mandatory nodes between the level's current node and `until` (exclusive) as
/// missing (the current node too when nothing was matched in the level yet).
fn missing_after(level: &Level<'_>, until: usize, at: (usize, usize), out: &mut Vec<Diagnostic>) {
    let from = if level.count == 0 {
        level.at
    } else {
        level.at + 1
    };
    for node in level.nodes.iter().take(until).skip(from) {
        if !node.mandatory() {
            continue;
        }
        let code = match node {
            Node::Segment { .. } => "V0103",
            Node::Group { .. } => "V0104",
        };
        out.push(Diagnostic {
            code,
            message: format!("mandatory {} missing", node_name(node)),
            offset: at.0,
            segment: Some(at.1),
            element: None,
        });
    }
}

fn contains_tag(nodes: &[Node], tag: &[u8]) -> bool {
    nodes.iter().any(|node| match node {
        Node::Segment { tag: own, .. } => own.as_bytes() == tag,
        Node::Group { children, .. } => contains_tag(children, tag),
    })
}

/// Splits `raw` at `separator` bytes not released (a released byte is kept with its release
/// character, as the tokenizer keeps it).
fn parts(raw: &[u8], separator: u8, release: Option<u8>) -> Parts<'_> {
    Parts {
        raw,
        separator,
        release,
        start: 0,
        done: false,
    }
}

struct Parts<'a> {
    raw: &'a [u8],
    separator: u8,
    release: Option<u8>,
    start: usize,
    done: bool,
}

impl<'a> Iterator for Parts<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.done {
            return None;
        }
        let mut i = self.start;
        while i < self.raw.len() {
            let byte = self.raw[i];
            if Some(byte) == self.release {
                i += 2;
                continue;
            }
            if byte == self.separator {
                let part = &self.raw[self.start..i];
                self.start = i + 1;
                return Some(part);
            }
            i += 1;
        }
        self.done = true;
        self.raw.get(self.start..)
    }
}

/// What is being checked, for the diagnostics.
#[derive(Clone, Copy)]
struct Place<'s> {
    segment: &'s Segment<'s>,
    element: usize,
    component: usize,
}

impl Place<'_> {
    fn said(&self, code: &'static str, message: String) -> Diagnostic {
        Diagnostic {
            code,
            message,
            offset: self.segment.offset,
            segment: Some(self.segment.index),
            element: Some((self.element, self.component)),
        }
    }
}

fn check_elements(
    directory: &Directory,
    definition: &crate::directory::SegmentDef,
    segment: &Segment<'_>,
    separators: &Separators,
    out: &mut Vec<Diagnostic>,
) {
    let sent = segment.separators();
    let mut present = 0;
    for (n, raw) in parts(segment.raw, sent.element, sent.release)
        .skip(1)
        .enumerate()
    {
        let place = Place {
            segment,
            element: n + 1,
            component: 0,
        };
        let Some(element) = definition.elements.get(n) else {
            if !raw.is_empty()
                || parts(segment.raw, sent.element, sent.release)
                    .skip(n + 2)
                    .any(|e| !e.is_empty())
            {
                out.push(place.said(
                    "V0201",
                    format!(
                        "{} has {} elements at most; element {} is one too many",
                        definition.tag,
                        definition.elements.len(),
                        n + 1
                    ),
                ));
            }
            break;
        };
        present = n + 1;
        if raw.is_empty() {
            if element.mandatory {
                out.push(place.said("V0204", missing_element(definition, element)));
            }
            continue;
        }
        let repeats = match sent.repetition {
            Some(repetition) => parts(raw, repetition, sent.release),
            // No repetition separator: one part, the whole element.
            None => parts(raw, sent.element, sent.release),
        };
        for (r, value) in repeats.enumerate() {
            if r >= usize::from(element.repeat) {
                out.push(place.said(
                    "V0203",
                    format!(
                        "{} {} repeated more than {} times",
                        definition.tag, element.id, element.repeat
                    ),
                ));
                break;
            }
            check_element(directory, element, value, place, &sent, separators, out);
        }
    }
    for (n, element) in definition.elements.iter().enumerate().skip(present) {
        if element.mandatory {
            let place = Place {
                segment,
                element: n + 1,
                component: 0,
            };
            out.push(place.said("V0204", missing_element(definition, element)));
        }
    }
}

fn missing_element(definition: &crate::directory::SegmentDef, element: &ElementDef) -> String {
    format!(
        "mandatory element {} {} ({}) missing",
        definition.tag, element.id, element.name
    )
}

fn check_element(
    directory: &Directory,
    element: &ElementDef,
    raw: &[u8],
    place: Place<'_>,
    sent: &Separators,
    separators: &Separators,
    out: &mut Vec<Diagnostic>,
) {
    match &element.kind {
        ElementKind::Simple(format) => {
            let mut components = parts(raw, sent.component, sent.release);
            let value = components.next().unwrap_or_default();
            if components.next().is_some() {
                out.push(place.said(
                    "V0202",
                    format!("{} is a simple element: it has no components", element.id),
                ));
            }
            check_value(
                directory,
                &element.id,
                *format,
                value,
                true,
                place,
                sent,
                separators,
                out,
            );
        }
        ElementKind::Composite(components) => {
            check_composite(
                directory, element, components, raw, place, sent, separators, out,
            );
        }
    }
}

#[allow(clippy::too_many_arguments)] // The context of one value, passed down as it is.
fn check_composite(
    directory: &Directory,
    element: &ElementDef,
    definitions: &[ComponentDef],
    raw: &[u8],
    place: Place<'_>,
    sent: &Separators,
    separators: &Separators,
    out: &mut Vec<Diagnostic>,
) {
    // A code list responsible agency other than UN/ECE (3055 = 6) means the composite's codes
    // are from another list than UNCL's: they are not checked.
    let agency = definitions
        .iter()
        .position(|c| c.id == "3055")
        .and_then(|i| parts(raw, sent.component, sent.release).nth(i))
        .filter(|value| !value.is_empty());
    let other_agency = agency.is_some_and(|value| value != b"6");
    let mut present = 0;
    for (n, value) in parts(raw, sent.component, sent.release).enumerate() {
        let place = Place {
            component: n + 1,
            ..place
        };
        let Some(component) = definitions.get(n) else {
            out.push(place.said(
                "V0202",
                format!(
                    "{} has {} components at most; component {} is one too many",
                    element.id,
                    definitions.len(),
                    n + 1
                ),
            ));
            break;
        };
        present = n + 1;
        if value.is_empty() {
            if component.mandatory {
                out.push(place.said("V0205", missing_component(element, component)));
            }
            continue;
        }
        let codes_checked = !other_agency || component.id == "3055";
        check_value(
            directory,
            &component.id,
            component.format,
            value,
            codes_checked,
            place,
            sent,
            separators,
            out,
        );
    }
    for (n, component) in definitions.iter().enumerate().skip(present) {
        if component.mandatory {
            let place = Place {
                component: n + 1,
                ..place
            };
            out.push(place.said("V0205", missing_component(element, component)));
        }
    }
}

fn missing_component(element: &ElementDef, component: &ComponentDef) -> String {
    format!(
        "mandatory component {} ({}) of {} missing",
        component.id, component.name, element.id
    )
}

#[allow(clippy::too_many_arguments)] // The context of one value, passed down as it is.
fn check_value(
    directory: &Directory,
    id: &str,
    format: Format,
    raw: &[u8],
    codes_checked: bool,
    place: Place<'_>,
    sent: &Separators,
    separators: &Separators,
    out: &mut Vec<Diagnostic>,
) {
    let value: Cow<'_, [u8]> = unescape(raw, sent);
    if value.is_empty() {
        return;
    }
    let shown = || String::from_utf8_lossy(&value).into_owned();
    let length = match format.class {
        Class::Numeric => match numeric_digits(&value, separators.decimal) {
            Ok(digits) => digits,
            Err((code, why)) => {
                out.push(place.said(
                    code,
                    format!("{id} is numeric ({format}): {:?} {why}", shown()),
                ));
                return;
            }
        },
        Class::Alpha if value.iter().any(u8::is_ascii_digit) => {
            out.push(place.said(
                "V0303",
                format!("{id} is alphabetic ({format}): {:?} has digits", shown()),
            ));
            return;
        }
        Class::Alpha | Class::Alphanumeric => characters(&value),
    };
    if length > usize::from(format.max) {
        out.push(place.said(
            "V0301",
            format!("{id} is {format}: {:?} is {length} long", shown()),
        ));
    } else if length < usize::from(format.min) {
        out.push(place.said(
            "V0302",
            format!("{id} is {format}: {:?} is {length} long", shown()),
        ));
    }
    if !codes_checked {
        return;
    }
    if let Some(codes) = directory.codes.get(id) {
        let known = std::str::from_utf8(&value).is_ok_and(|code| codes.contains(code));
        if !known {
            out.push(place.said(
                "V0401",
                format!(
                    "{:?} is not a code of {id} in {}",
                    shown(),
                    directory.release
                ),
            ));
        }
    }
}

/// Characters in a value: bytes, unless it is UTF-8 with non-ASCII characters (UNOW/UNOY),
/// where a character is several bytes. A value in an ISO 8859 part is almost never valid
/// UTF-8 once it has a non-ASCII byte, so this counts it by bytes as it should.
fn characters(value: &[u8]) -> usize {
    if value.is_ascii() {
        return value.len();
    }
    match std::str::from_utf8(value) {
        Ok(text) => text.chars().count(),
        Err(_) => value.len(),
    }
}

/// The digits of a numeric value (its length: a leading minus and the decimal mark are not
/// counted), or why it is not one.
fn numeric_digits(value: &[u8], decimal: u8) -> Result<usize, (&'static str, &'static str)> {
    let unsigned = value.strip_prefix(b"-").unwrap_or(value);
    let mut digits = 0;
    let mut marks = 0;
    for (i, &byte) in unsigned.iter().enumerate() {
        if byte.is_ascii_digit() {
            digits += 1;
        } else if byte == decimal {
            marks += 1;
            if i == 0 {
                return Err(("V0305", "has no digit before its decimal mark"));
            }
        } else if byte == b'.' || byte == b',' {
            return Err(("V0304", "has a decimal mark other than the interchange's"));
        } else {
            return Err(("V0303", "has a character that is not a digit"));
        }
    }
    if marks > 1 {
        return Err(("V0303", "has more than one decimal mark"));
    }
    if digits == 0 {
        return Err(("V0303", "has no digit"));
    }
    Ok(digits)
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::directory::{parse_message, SegmentDef};
    use proptest::strategy::Strategy;

    /// A small directory: a table with a header segment, a repeating group with a nested one,
    /// and a mandatory summary segment; segments with simple, composite and coded elements.
    fn directory() -> Directory {
        let mut directory = Directory::new("D96B");
        let table = [
            "4.3.1  Segment table",
            "0010   UNH Message header                            M   1",
            "0020   BGM Beginning of message                      M   1",
            "0030   DTM Date/time/period                          C   2",
            "0040       ---- Segment group 1  ------------------ C   2----+",
            "0050   NAD Name and address                          M   1    |",
            "0060       ---- Segment group 2  ------------------ C   1---+|",
            "0070   CTA Contact information                       M   1   ||",
            "0080   COM Communication contact                     C   5---++",
            "0090   UNS Section control                           M   1",
            "0100   CNT Control total                             M   1",
            "0110   UNT Message trailer                           M   1",
        ]
        .join("\n");
        directory.messages.insert(
            "TEST".into(),
            parse_message("TEST", table.as_bytes()).unwrap(),
        );
        let specification = [
            "----------------------------------------------------------------------",
            "      BGM    BEGINNING OF MESSAGE",
            "010   C002  DOCUMENT/MESSAGE NAME                          C",
            "      1001   Document/message name, coded                  C  an..3",
            "      3055   Code list responsible agency, coded           C  an..3",
            "      1000   Document/message name                         C  an..35",
            "020   1004  DOCUMENT/MESSAGE NUMBER                        M  an..35",
            "030   1225  MESSAGE FUNCTION, CODED                        C  an..3",
            "----------------------------------------------------------------------",
            "      DTM    DATE/TIME/PERIOD",
            "010   C507  DATE/TIME/PERIOD                               M",
            "      2005   Date/time/period qualifier                    M  an..3",
            "      2380   Date/time/period                              C  an..35",
            "      2379   Date/time/period format qualifier             C  an..3",
            "----------------------------------------------------------------------",
            "      CNT    CONTROL TOTAL",
            "010   C270  CONTROL                                        M",
            "      6069   Control qualifier                             M  an..3",
            "      6066   Control value                                 M  n..18",
            "      6411   Measure unit qualifier                        C  an..3",
            "----------------------------------------------------------------------",
            "      NAD    NAME AND ADDRESS",
            "010   3035  PARTY QUALIFIER                                M  an..3",
            "020   3207  COUNTRY, CODED                                 C  a2",
        ]
        .join("\n");
        directory.add_segments(specification.as_bytes()).unwrap();
        for tag in ["CTA", "COM"] {
            directory.segments.insert(
                tag.into(),
                SegmentDef {
                    tag: tag.into(),
                    name: tag.into(),
                    elements: Vec::new(),
                },
            );
        }
        directory.codes.insert(
            "1225".into(),
            ["9", "5"].into_iter().map(String::from).collect(),
        );
        directory.codes.insert(
            "1001".into(),
            ["380", "785"].into_iter().map(String::from).collect(),
        );
        directory
    }

    /// Validates a message body (UNH … UNT) and lists the diagnostics as `code segment
    /// (element, component)` lines.
    fn check(body: &str) -> String {
        let directory = directory();
        let input = format!("UNB+UNOC:3+S+R+200101:1200+1'{body}UNZ+1+1'");
        let interchange = crate::check(input.as_bytes());
        let mut lines = Vec::new();
        for message in &interchange.messages {
            for d in validate(
                &directory,
                input.as_bytes(),
                message,
                &interchange.separators,
            ) {
                let element = d
                    .element
                    .map(|(e, c)| format!(" ({e},{c})"))
                    .unwrap_or_default();
                lines.push(format!(
                    "{} {}{element}: {}",
                    d.code,
                    d.segment.unwrap_or(0),
                    d.message
                ));
            }
        }
        lines.join("\n")
    }

    const HEAD: &str = "UNH+1+TEST:D:96B:UN'BGM+380+1+9'";

    #[test]
    fn a_well_formed_message_is_clean() {
        let body = format!(
            "{HEAD}DTM+137:20200101:102'NAD+BY'CTA'COM'COM'NAD+SE+CN'UNS+S'CNT+2:1.5'UNT+11+1'"
        );
        assert_eq!(check(&body), "");
    }

    #[test]
    fn group_repeats_start_on_the_trigger() {
        // NAD NAD: the second starts the group's second repetition; a third is one too many.
        let body = format!("{HEAD}NAD+BY'NAD+SE'NAD+DP'UNS+S'CNT+2:1'UNT+8+1'");
        assert_eq!(
            check(&body),
            "V0106 5: segment group SG1 (NAD) repeated 3 times; the group allows 2"
        );
    }

    #[test]
    fn missing_and_misplaced_segments() {
        // BGM missing; DTM after the group is out of place; UNS and CNT missing at the end.
        let body = "UNH+1+TEST:D:96B:UN'NAD+BY'DTM+137'FTX+AAI'UNT+5+1'";
        assert_eq!(
            check(body),
            "V0103 2: mandatory BGM missing\n\
             V0102 3: segment DTM is not allowed in this position\n\
             V0101 4: segment FTX is not in this message's segment table\n\
             V0103 5: mandatory UNS missing\n\
             V0103 5: mandatory CNT missing"
        );
    }

    #[test]
    fn repeats_of_a_segment() {
        let body = format!("{HEAD}DTM+137'DTM+138'DTM+139'UNS+S'CNT+2:1'UNT+8+1'");
        assert_eq!(
            check(&body),
            "V0105 5: DTM repeated 3 times; the segment allows 2"
        );
    }

    #[test]
    fn a_nested_group_missing_its_mandatory_trigger_never_opens() {
        // COM without CTA: SG2 cannot start, so COM is out of place.
        let body = format!("{HEAD}NAD+BY'COM'UNS+S'CNT+2:1'UNT+7+1'");
        assert_eq!(
            check(&body),
            "V0102 4: segment COM is not allowed in this position"
        );
    }

    #[test]
    fn elements_and_components() {
        let body =
            "UNH+1+TEST:D:96B:UN'BGM+380:6:x:y++9+extra'DTM'NAD'NAD+BY+C1'UNS+S'CNT+2:1,5'UNT+8+1'";
        assert_eq!(
            check(body),
            "V0202 2 (1,4): C002 has 3 components at most; component 4 is one too many\n\
             V0204 2 (2,0): mandatory element BGM 1004 (DOCUMENT/MESSAGE NUMBER) missing\n\
             V0201 2 (4,0): BGM has 3 elements at most; element 4 is one too many\n\
             V0204 3 (1,0): mandatory element DTM C507 (DATE/TIME/PERIOD) missing\n\
             V0204 4 (1,0): mandatory element NAD 3035 (PARTY QUALIFIER) missing\n\
             V0303 5 (2,0): 3207 is alphabetic (a2): \"C1\" has digits\n\
             V0304 7 (1,2): 6066 is numeric (n..18): \"1,5\" has a decimal mark other than the interchange's"
        );
    }

    #[test]
    fn formats_and_codes() {
        let long = "X".repeat(36);
        let body = format!(
            "UNH+1+TEST:D:96B:UN'BGM+999+{long}+1?+'BGM+999:ZZZ+1'DTM+137:20200101'UNS+S'CNT+2:-.5'UNT+7+1'"
        );
        assert_eq!(
            check(&body),
            "V0401 2 (1,1): \"999\" is not a code of 1001 in D96B\n\
             V0301 2 (2,0): 1004 is an..35: \"XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX\" is 36 long\n\
             V0401 2 (3,0): \"1+\" is not a code of 1225 in D96B\n\
             V0105 3: BGM repeated 2 times; the segment allows 1\n\
             V0305 6 (1,2): 6066 is numeric (n..18): \"-.5\" has no digit before its decimal mark"
        );
    }

    #[test]
    fn unknown_types_and_other_releases_are_warnings() {
        let directory = directory();
        let input =
            b"UNH+1+ORDERS:D:96B:UN'UNT+2+1'UNH+2+TEST:D:97B:UN'BGM+380+1'UNS+S'CNT+2:1'UNT+5+2'";
        let interchange = crate::check(input);
        let codes: Vec<Vec<&str>> = interchange
            .messages
            .iter()
            .map(|m| {
                validate(&directory, input, m, &interchange.separators)
                    .iter()
                    .map(|d| d.code)
                    .collect()
            })
            .collect();
        assert_eq!(codes, [vec!["V0001"], vec!["V0001"]]);
        assert!(is_warning("V0001"));
        assert!(!is_warning("V0103"));
        assert_eq!(syntax_error("V0001"), None);
        assert_eq!(syntax_error("V0106"), Some("36"));
    }

    proptest::proptest! {
        /// Any bytes, shaped like segments of the test table or not: diagnostics, never a
        /// panic, and every one of them a code of the table with its place.
        #[test]
        fn any_message_validates_without_a_panic(
            parts in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::sample::select(vec![
                        "BGM", "DTM", "NAD", "CTA", "COM", "UNS", "CNT", "FTX", "UNT", "+", ":",
                        "'", "?", "*", "-", ".", ",", "380", "9", "1.5", "ZZZ", "",
                    ]).prop_map(String::from),
                    "[ -~]{0,6}",
                ],
                0..60,
            )
        ) {
            let body = format!("UNH+1+TEST:D:96B:UN'{}'UNT+2+1'", parts.concat());
            let directory = directory();
            for input in [body.clone(), format!("UNA:+.?*'{body}")] {
                let interchange = crate::check(input.as_bytes());
                for message in &interchange.messages {
                    for d in validate(&directory, input.as_bytes(), message, &interchange.separators) {
                        proptest::prop_assert!(is_warning(d.code) || syntax_error(d.code).is_some());
                        proptest::prop_assert!(d.offset <= input.len());
                    }
                }
            }
        }

        /// The directory readers on any bytes: a directory or an error, never a panic.
        #[test]
        fn directory_text_never_panics(
            lines in proptest::collection::vec(
                proptest::prop_oneof![
                    proptest::sample::select(vec![
                        "4.3.1  Segment table",
                        "0010   UNH Message header                            M   1",
                        "0120       ---- Segment group 1  ------------------ C   99----+",
                        "0190   FTX Free text                                 C   1---++",
                        "0130   RFF Reference                                 M   1    |",
                        "----------------------------------------------------------------------",
                        "      BGM    BEGINNING OF MESSAGE",
                        "010   C002  DOCUMENT/MESSAGE NAME                          C",
                        "      1001   Document/message name, coded                  C  an..3",
                        "020   1225  MESSAGE FUNCTION, CODED                        M  an..3",
                        "* 1001  Document/message name, coded",
                        "  Repr: an..3",
                        "        1 Certificate of analysis",
                        "     1     Certificate of analysis",
                        "",
                    ]).prop_map(|line| line.as_bytes().to_vec()),
                    proptest::collection::vec(proptest::num::u8::ANY, 0..80),
                ],
                0..40,
            )
        ) {
            let text = lines.join(&b"\r\n"[..]);
            let _ = crate::directory::parse_message("X", &text);
            let _ = crate::directory::parse_segments(&text);
            let _ = crate::directory::parse_code_lists(&text);
        }
    }

    #[test]
    fn one_pass_over_an_interchange_is_the_same_as_message_by_message() {
        let directory = directory();
        let input = format!(
            "UNB+UNOC:3+S+R+200101:1200+1'{HEAD}NAD+BY'NAD+SE'NAD+DP'UNS+S'CNT+2:1'UNT+8+1'\
             UNH+2+ORDERS:D:96B:UN'UNT+2+2'\
             UNH+3+TEST:D:96B:UN'BGM+999+1'UNS+S'CNT+2:1'UNT+5+3'UNZ+3+1'"
        );
        let interchange = crate::check(input.as_bytes());
        let each: Vec<Diagnostic> = interchange
            .messages
            .iter()
            .flat_map(|m| validate(&directory, input.as_bytes(), m, &interchange.separators))
            .collect();
        let once = validate_interchange(input.as_bytes(), &interchange, |_| Some(&directory));
        assert_eq!(once, each);
        let codes: Vec<&str> = once.iter().map(|d| d.code).collect();
        assert_eq!(codes, ["V0106", "V0001", "V0401"]);
        let none = validate_interchange(input.as_bytes(), &interchange, |_| None);
        assert!(none.iter().all(|d| d.code == "V0001") && none.len() == 3);
    }

    #[test]
    fn every_code_of_the_table_maps() {
        for code in [
            "V0101", "V0102", "V0103", "V0104", "V0105", "V0106", "V0201", "V0202", "V0203",
            "V0204", "V0205", "V0301", "V0302", "V0303", "V0304", "V0305", "V0401",
        ] {
            assert!(syntax_error(code).is_some(), "{code}");
        }
    }
}
