//! Differential test against pydifact 0.2.3 (PyPI): on every corpus sample pydifact accepts,
//! `parse_owned` must read the same segments, tags, elements and components (unescaped and
//! decoded). `tests/pydifact_dump.py` runs pydifact over all the samples in one Python
//! process.
//!
//! Normalisations, each for a difference in what the two models can say rather than in what
//! they read:
//! - trailing empty components are dropped on both sides: pydifact's model has no place for
//!   them (`A:` is the simple element `A`), and ISO 9735 lets a sender omit them;
//! - pydifact 0.2.3 has no repetition separator (syntax 4): it reads `A:1*B:2` as the
//!   components `A`, `1*B`, `2`. Our occurrences are joined back with the repetition
//!   character before comparing, which is what pydifact's reading is;
//! - line breaks inside a segment are taken out of pydifact's values: ISO 9735 has no line
//!   breaks in data, so an unreleased one inside a segment is the sender's wrapping, which the
//!   tokenizer drops (with the warning `U0005`); pydifact keeps them as text. The count of
//!   files that needed this is printed;
//! - a UTF-8 byte-order mark is taken off before pydifact reads the file (it would make it part
//!   of the first tag), and the `UNA` pydifact yields as a segment is not one (the dump leaves
//!   it out).
//!
//! Needs `python3` with pydifact 0.2.3 (`python3 -m pip install pydifact==0.2.3`); without it
//! the test prints SKIP, unless `JINGUAN_REQUIRE_PYDIFACT=1` (CI) makes that a failure.

#![allow(clippy::unwrap_used)] // A panic in a test is a test failure with its message.

use std::io::Write;
use std::process::{Command, Stdio};

use jinguan_edifact::{parse_owned, OwnedSegment, Separators};

#[derive(serde::Deserialize)]
struct Dumped {
    file: String,
    accepted: bool,
    error: Option<String>,
    segments: Vec<DumpedSegment>,
}

#[derive(serde::Deserialize, Debug, PartialEq)]
struct DumpedSegment {
    tag: String,
    elements: Vec<Vec<String>>,
}

fn trim_components(mut components: Vec<String>) -> Vec<String> {
    while components.len() > 1 && components.last().is_some_and(String::is_empty) {
        components.pop();
    }
    components
}

/// Our segment as pydifact's model can say it (see the normalisations above).
fn as_pydifact_reads(segment: &OwnedSegment, separators: &Separators) -> DumpedSegment {
    let repetition = separators.repetition.map(char::from);
    let elements = segment
        .elements
        .iter()
        .map(|occurrences| {
            let mut joined: Vec<String> = Vec::new();
            for (i, components) in occurrences.iter().enumerate() {
                let mut components = components.iter().cloned();
                if let (true, Some(repetition), Some(last)) = (i > 0, repetition, joined.last_mut())
                {
                    last.push(repetition);
                    last.push_str(&components.next().unwrap_or_default());
                }
                joined.extend(components);
            }
            trim_components(joined)
        })
        .collect();
    DumpedSegment {
        tag: segment.tag.clone(),
        elements,
    }
}

fn pydifact_available() -> bool {
    Command::new("python3")
        .args([
            "-c",
            "import importlib.metadata as m, sys; \
             sys.exit(0 if m.version('pydifact') == '0.2.3' else 1)",
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn parse_owned_reads_what_pydifact_reads() {
    let required = std::env::var_os("JINGUAN_REQUIRE_PYDIFACT").is_some_and(|v| v == "1");
    let Some(corpus) = jinguan_testkit::corpus() else {
        // Whether the corpus must be there is JINGUAN_REQUIRE_CORPUS's to say (testkit).
        eprintln!("SKIP: ../shared/corpus absent; the pydifact comparison not done");
        return;
    };
    if !pydifact_available() {
        assert!(
            !required,
            "JINGUAN_REQUIRE_PYDIFACT=1 but python3 has no pydifact 0.2.3 \
             (python3 -m pip install pydifact==0.2.3)"
        );
        eprintln!("SKIP: python3 with pydifact 0.2.3 not found; the pydifact comparison not done");
        return;
    }
    let root = corpus.join("edifact");
    let index = std::fs::read_to_string(root.join("INDEX.tsv")).unwrap();
    let files: Vec<String> = index
        .lines()
        .skip(1)
        .map(|line| line.split('\t').next().unwrap().to_owned())
        .collect();
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/pydifact_dump.py");
    let mut child = Command::new("python3")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let paths: String = files
        .iter()
        .map(|f| format!("{}\n", root.join(f).display()))
        .collect();
    // Written from a thread: the dump's output could fill the pipe before all paths are read.
    let writer = std::thread::spawn(move || stdin.write_all(paths.as_bytes()));
    let output = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(output.status.success(), "pydifact_dump.py failed");
    let dumped: Vec<Dumped> = String::from_utf8(output.stdout)
        .unwrap()
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    assert_eq!(dumped.len(), files.len(), "one line per file");

    let (mut accepted, mut identical, mut wrapped) = (0, 0, 0);
    let mut refused = Vec::new();
    let mut different = Vec::new();
    for (file, dump) in files.iter().zip(&dumped) {
        assert!(
            dump.file.ends_with(file.as_str()),
            "{} for {file}",
            dump.file
        );
        if !dump.accepted {
            let error = dump.error.as_deref().unwrap_or("");
            let error: String = error
                .lines()
                .next()
                .unwrap_or("")
                .chars()
                .take(100)
                .collect();
            refused.push(format!("{file}: {error}"));
            continue;
        }
        accepted += 1;
        let input = std::fs::read(root.join(file)).unwrap();
        let (segments, separators, _) = parse_owned(&input);
        let ours: Vec<DumpedSegment> = segments
            .iter()
            .map(|s| as_pydifact_reads(s, &separators))
            .collect();
        let theirs: Vec<DumpedSegment> = dump
            .segments
            .iter()
            .map(|s| DumpedSegment {
                tag: s.tag.clone(),
                elements: s.elements.iter().cloned().map(trim_components).collect(),
            })
            .collect();
        if ours == theirs {
            identical += 1;
            continue;
        }
        let unwrapped: Vec<DumpedSegment> = theirs
            .iter()
            .map(|s| DumpedSegment {
                tag: s.tag.clone(),
                elements: s
                    .elements
                    .iter()
                    .map(|components| {
                        let unwrapped = components.iter().map(|c| c.replace(['\r', '\n'], ""));
                        trim_components(unwrapped.collect())
                    })
                    .collect(),
            })
            .collect();
        if ours == unwrapped {
            identical += 1;
            wrapped += 1;
            continue;
        }
        let first = ours
            .iter()
            .zip(&theirs)
            .position(|(a, b)| a != b)
            .unwrap_or(ours.len().min(theirs.len()));
        different.push(format!(
            "{file}: {} segments, pydifact {}; first difference at segment {first}:\n  ours     {:?}\n  pydifact {:?}",
            ours.len(),
            theirs.len(),
            ours.get(first),
            theirs.get(first)
        ));
    }
    println!(
        "pydifact 0.2.3: {} files, {accepted} accepted by pydifact, {identical} read identically \
         ({wrapped} once pydifact's line breaks inside segments are dropped), {} different",
        files.len(),
        different.len()
    );
    for line in &refused {
        println!("  refused by pydifact: {line}");
    }
    assert!(
        different.is_empty(),
        "{} files read differently:\n{}",
        different.len(),
        different.join("\n")
    );
}
