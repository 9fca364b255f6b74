//! Our reading of the UNECE text against an independent rendering of the same directories:
//! php-edifact's XML (`../shared/corpus/edifact/directories/php-edifact-mapping/<REL>/`).
//! For the customs messages, the segment tables must be equal (segments and groups, status,
//! repeats, nesting), and each segment's elements must agree where the XML is comparable
//! (element and component numbers, status, class and maximum length; the XML drops minimum
//! lengths).

#![allow(clippy::unwrap_used)] // A panic in a test is a test failure with its message.

use std::collections::{BTreeMap, BTreeSet};

use jinguan_edifact::directory::{ElementKind, Format, Node};
use quick_xml::events::{BytesStart, Event};

const RELEASES: [&str; 3] = ["D96B", "D99B", "D21A"];
const MESSAGES: [&str; 6] = ["CUSDEC", "CUSRES", "CUSCAR", "CUSREP", "CUSEXP", "PAXLST"];

fn attribute(element: &BytesStart<'_>, name: &str) -> Option<String> {
    element
        .attributes()
        .flatten()
        .find(|a| a.key.as_ref() == name.as_bytes())
        .map(|a| a.unescape_value().unwrap().into_owned())
}

fn status(element: &BytesStart<'_>) -> &'static str {
    if attribute(element, "required").as_deref() == Some("true") {
        "M"
    } else {
        "C"
    }
}

/// The XML segment table as `TAG M 1` / `SG1 C 99 [` / `]` lines.
fn xml_table(xml: &str) -> Vec<String> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut out = Vec::new();
    loop {
        match reader.read_event().unwrap() {
            Event::Start(e) | Event::Empty(e) if e.name().as_ref() == b"segment" => {
                out.push(format!(
                    "{} {} {}",
                    attribute(&e, "id").unwrap(),
                    status(&e),
                    attribute(&e, "maxrepeat").unwrap()
                ))
            }
            Event::Start(e) if e.name().as_ref() == b"group" => out.push(format!(
                "{} {} {} [",
                attribute(&e, "id").unwrap(),
                status(&e),
                attribute(&e, "maxrepeat").unwrap()
            )),
            Event::End(e) if e.name().as_ref() == b"group" => out.push("]".to_owned()),
            Event::Eof => break,
            _ => {}
        }
    }
    out
}

fn our_table(nodes: &[Node], out: &mut Vec<String>) {
    let status = |m: bool| if m { "M" } else { "C" };
    for node in nodes {
        match node {
            Node::Segment {
                tag,
                mandatory,
                max,
            } => out.push(format!("{tag} {} {max}", status(*mandatory))),
            Node::Group {
                name,
                mandatory,
                max,
                children,
            } => {
                out.push(format!("{name} {} {max} [", status(*mandatory)));
                our_table(children, out);
                out.push("]".to_owned());
            }
        }
    }
}

fn tags(nodes: &[Node], out: &mut BTreeSet<String>) {
    for node in nodes {
        match node {
            Node::Segment { tag, .. } => {
                out.insert(tag.clone());
            }
            Node::Group { children, .. } => tags(children, out),
        }
    }
}

/// The XML segment specifications: per segment, its elements as comparable lines
/// (`C002 C`, then `  1001 C an3` for its components; `1225 C an3` for a simple element).
fn xml_segments(xml: &str) -> BTreeMap<String, Vec<String>> {
    let mut reader = quick_xml::Reader::from_str(xml);
    let mut segments = BTreeMap::new();
    let mut current: Option<(String, Vec<String>)> = None;
    let mut in_composite = false;
    loop {
        let event = reader.read_event().unwrap();
        match &event {
            Event::Start(e) if e.name().as_ref() == b"segment" => {
                current = Some((attribute(e, "id").unwrap(), Vec::new()));
            }
            Event::End(e) if e.name().as_ref() == b"segment" => {
                if let Some((tag, lines)) = current.take() {
                    segments.insert(tag, lines);
                }
            }
            Event::Start(e) | Event::Empty(e) if e.name().as_ref() == b"composite_data_element" => {
                in_composite = matches!(event, Event::Start(_));
                if let Some((_, lines)) = current.as_mut() {
                    lines.push(format!("{} {}", attribute(e, "id").unwrap(), status(e)));
                }
            }
            Event::End(e) if e.name().as_ref() == b"composite_data_element" => in_composite = false,
            Event::Start(e) | Event::Empty(e) if e.name().as_ref() == b"data_element" => {
                if let Some((_, lines)) = current.as_mut() {
                    lines.push(format!(
                        "{}{} {} {}{}",
                        if in_composite { "  " } else { "" },
                        attribute(e, "id").unwrap(),
                        status(e),
                        attribute(e, "type").unwrap_or_default(),
                        attribute(e, "maxlength").unwrap_or_default()
                    ));
                }
            }
            Event::Eof => break,
            _ => {}
        }
    }
    segments
}

fn class(format: &Format) -> String {
    let class = match format.class {
        jinguan_edifact::directory::Class::Alpha => "a",
        jinguan_edifact::directory::Class::Numeric => "n",
        jinguan_edifact::directory::Class::Alphanumeric => "an",
    };
    format!("{class}{}", format.max)
}

fn our_segment(segment: &jinguan_edifact::directory::SegmentDef) -> Vec<String> {
    let status = |m: bool| if m { "M" } else { "C" };
    let mut lines = Vec::new();
    for element in &segment.elements {
        match &element.kind {
            ElementKind::Simple(format) => lines.push(format!(
                "{} {} {}",
                element.id,
                status(element.mandatory),
                class(format)
            )),
            ElementKind::Composite(components) => {
                lines.push(format!("{} {}", element.id, status(element.mandatory)));
                for component in components {
                    lines.push(format!(
                        "  {} {} {}",
                        component.id,
                        status(component.mandatory),
                        class(&component.format)
                    ));
                }
            }
        }
    }
    lines
}

/// Where php-edifact's table differs from the UNECE text, checked by hand against the text:
/// (release, message, the text's line, php-edifact's line).
const TABLE_DEFECTS: [(&str, &str, &str, &str); 1] = [
    // `00560 ---- Segment group 13 ---- C 999999`: php-edifact keeps five digits.
    ("D21A", "CUSRES", "SG13 C 999999 [", "SG13 C 99999 ["),
];

/// Elements as lines, a composite's components after it indented.
fn split(lines: &[String]) -> Vec<(&str, Vec<&str>)> {
    let mut elements: Vec<(&str, Vec<&str>)> = Vec::new();
    for line in lines {
        match (line.strip_prefix("  "), elements.last_mut()) {
            (Some(component), Some((_, components))) => components.push(component),
            _ => elements.push((line, Vec::new())),
        }
    }
    elements
}

/// `n` without a length (php-edifact drops some) agrees with any `n` length.
fn same(ours: &str, theirs: &str) -> bool {
    ours == theirs
        || theirs
            .strip_suffix(|c: char| c.is_ascii_alphabetic())
            .is_some_and(|_| ours.trim_end_matches(|c: char| c.is_ascii_digit()) == theirs)
}

/// The same elements in the same order; each composite's components as php-edifact lists
/// them appear in ours, in order, alike. php-edifact's `segments.xml` leaves out components
/// in places (D.99B `PAC` C531 has none, D.21A `MEA` C502 lacks 6155 and 6154, although the
/// `EDSD` text lists them), so a component it lacks is not a difference.
fn comparable(ours: &[String], theirs: &[String]) -> bool {
    let (ours, theirs) = (split(ours), split(theirs));
    ours.len() == theirs.len()
        && ours
            .iter()
            .zip(&theirs)
            .all(|((a, a_parts), (b, b_parts))| {
                let mut remaining = a_parts.iter();
                same(a, b)
                    && b_parts
                        .iter()
                        .all(|b_part| remaining.any(|a_part| same(a_part, b_part)))
            })
}

#[test]
fn customs_segment_tables_and_segments_equal_the_php_edifact_rendering() {
    let Some(corpus) = jinguan_testkit::corpus() else {
        println!("SKIP: ../shared/corpus absent; the directory cross-check not done");
        return;
    };
    let root = corpus.join("edifact/directories/php-edifact-mapping");
    let (mut tables, mut segments_compared) = (0, 0);
    let mut wrong = Vec::new();
    for release in RELEASES {
        let directory = jinguan_unece::directory(release).unwrap();
        let xml = std::fs::read_to_string(root.join(release).join("segments.xml")).unwrap();
        let theirs = xml_segments(&xml);
        let mut used = BTreeSet::new();
        for message in MESSAGES {
            let path = root
                .join(release)
                .join("messages")
                .join(format!("{}.xml", message.to_lowercase()));
            let xml = std::fs::read_to_string(&path).unwrap();
            let mut ours = Vec::new();
            let definition = directory.message(message).unwrap();
            our_table(&definition.nodes, &mut ours);
            tags(&definition.nodes, &mut used);
            let mut expected = xml_table(&xml);
            for (known_release, known_message, text, theirs) in TABLE_DEFECTS {
                if (known_release, known_message) == (release, message) {
                    for line in expected.iter_mut().filter(|line| line.as_str() == theirs) {
                        *line = text.to_string();
                    }
                }
            }
            if ours != expected {
                wrong.push(format!(
                    "{release} {message}: segment table differs\n ours:   {}\n theirs: {}",
                    ours.join(", "),
                    expected.join(", ")
                ));
            }
            tables += 1;
        }
        for tag in used {
            if tag.starts_with("UN") {
                // Service segments: built in from ISO 9735, not in segments.xml.
                continue;
            }
            let ours = our_segment(directory.segment(tag.as_bytes()).unwrap());
            let Some(expected) = theirs.get(&tag) else {
                wrong.push(format!("{release} {tag}: not in segments.xml"));
                continue;
            };
            if !comparable(&ours, expected) {
                wrong.push(format!(
                    "{release} {tag}: elements differ\n ours:   {}\n theirs: {}",
                    ours.join(", "),
                    expected.join(", ")
                ));
            }
            segments_compared += 1;
        }
    }
    println!(
        "directory cross-check: {tables} segment tables and {segments_compared} segments \
         compared with php-edifact, {} differ",
        wrong.len()
    );
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}
