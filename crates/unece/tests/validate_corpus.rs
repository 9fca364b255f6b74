//! Validation over the EDIFACT corpus (`../shared/corpus/edifact/samples`): every message
//! whose directory release is shipped is validated against it. A file whose messages get
//! validation errors must be listed in `tests/validation.tsv` with exactly those codes and the
//! reason (each looked at by hand); so must the negative samples whose defect only a directory
//! can see, which are validated against the nearest shipped release where theirs is not
//! shipped (the release column says which).

#![allow(clippy::unwrap_used)] // A panic in a test is a test failure with its message.

use std::collections::{BTreeMap, BTreeSet};

struct Listed {
    codes: String,
    release: String,
}

/// `file<TAB>codes<TAB>release<TAB>why` lines; release `-` for the message's own.
fn listed() -> BTreeMap<String, Listed> {
    include_str!("validation.tsv")
        .lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(|line| {
            let mut fields = line.split('\t');
            let file = fields.next().unwrap().to_owned();
            let codes = fields.next().unwrap_or("").to_owned();
            let release = fields.next().unwrap_or("-").to_owned();
            (file, Listed { codes, release })
        })
        .collect()
}

#[test]
fn every_message_of_a_shipped_release_validates_as_listed() {
    let Some(corpus) = jinguan_testkit::corpus() else {
        println!("SKIP: ../shared/corpus absent; the EDIFACT validation run not done");
        return;
    };
    let root = corpus.join("edifact");
    let index = std::fs::read_to_string(root.join("INDEX.tsv")).unwrap();
    let listed = listed();
    let (mut files, mut messages, mut clean, mut as_listed, mut negatives) = (0, 0, 0, 0, 0);
    let mut wrong = Vec::new();
    let mut seen_listed = BTreeSet::new();
    let (mut validating, mut bytes_validated) = (std::time::Duration::ZERO, 0);
    // The same for messages without a diagnostic: the speed of the path taken most.
    let (mut validating_clean, mut bytes_clean) = (std::time::Duration::ZERO, 0);
    for line in index.lines().skip(1) {
        let fields: Vec<&str> = line.split('\t').collect();
        let (file, kind) = (fields[0], fields[1]);
        let bytes = std::fs::read(root.join(file)).unwrap();
        let interchange = jinguan_edifact::check(&bytes);
        let entry = listed.get(file);
        let mut codes = BTreeSet::new();
        let mut said = Vec::new();
        let mut all = Vec::new();
        let mut validated = 0;
        for message in &interchange.messages {
            let named = format!("{}{}", message.version, message.release);
            let release = match entry.map(|e| e.release.as_str()) {
                Some(release) if release != "-" => release.to_owned(),
                _ => named,
            };
            let Ok(directory) = jinguan_unece::directory(&release) else {
                continue;
            };
            validated += 1;
            let started = std::time::Instant::now();
            let found =
                jinguan_edifact::validate(directory, &bytes, message, &interchange.separators);
            let took = started.elapsed();
            // The message's share of the file: validation time over the bytes it covers.
            let share = bytes.len() / interchange.messages.len().max(1);
            validating += took;
            bytes_validated += share;
            if found.is_empty() {
                validating_clean += took;
                bytes_clean += share;
            }
            for diagnostic in found {
                if jinguan_edifact::validate::is_warning(diagnostic.code) {
                    continue;
                }
                codes.insert(diagnostic.code);
                all.push(diagnostic.to_string());
                if said.len() < 4 {
                    said.push(diagnostic.to_string());
                }
            }
        }
        if validated == 0 {
            if entry.is_some() {
                wrong.push(format!(
                    "{file}: listed, but no message of a shipped release"
                ));
            }
            continue;
        }
        files += 1;
        messages += validated;
        let got = if codes.is_empty() {
            "-".to_owned()
        } else {
            codes.into_iter().collect::<Vec<_>>().join(",")
        };
        if let Some(out) = std::env::var_os("JINGUAN_VALIDATION_SEEN") {
            // For reviewing a change: every file's codes and first diagnostics.
            use std::io::Write;
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(out)
                .unwrap();
            writeln!(f, "{file}\t{kind}\t{got}\t{}", all.join(" | ")).unwrap();
        }
        match entry {
            Some(entry) => {
                seen_listed.insert(file.to_owned());
                if entry.codes == got {
                    as_listed += 1;
                    negatives += usize::from(kind == "invalid");
                } else {
                    wrong.push(format!(
                        "{file}: listed {}, got {got}: {}",
                        entry.codes,
                        said.join("; ")
                    ));
                }
            }
            None if got == "-" => clean += 1,
            None => wrong.push(format!("{file}: {got}: {}", said.join("; "))),
        }
    }
    for file in listed.keys().filter(|f| !seen_listed.contains(*f)) {
        if !wrong.iter().any(|w| w.starts_with(file.as_str())) {
            wrong.push(format!("{file}: listed but not validated"));
        }
    }
    println!(
        "EDIFACT validation: {messages} messages in {files} files validated against a shipped \
         directory; {clean} files clean, {as_listed} with exactly their listed diagnostics \
         ({negatives} of them negative samples rejected); {:.1} MB validated at {:.0} MB/s, \
         the {:.1} MB of messages without a diagnostic at {:.0} MB/s",
        bytes_validated as f64 / 1e6,
        bytes_validated as f64 / 1e6 / validating.as_secs_f64().max(1e-9),
        bytes_clean as f64 / 1e6,
        bytes_clean as f64 / 1e6 / validating_clean.as_secs_f64().max(1e-9)
    );
    assert!(
        wrong.is_empty(),
        "{} files not as expected:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
}

/// Every corpus message against every shipped release, whatever release it names (so types
/// missing from a release, segments defined differently, other code lists): diagnostics,
/// never a panic.
#[test]
fn every_message_against_every_release_without_a_panic() {
    let Some(corpus) = jinguan_testkit::corpus() else {
        println!("SKIP: ../shared/corpus absent; the cross-release validation run not done");
        return;
    };
    let root = corpus.join("edifact");
    let index = std::fs::read_to_string(root.join("INDEX.tsv")).unwrap();
    let directories: Vec<_> = jinguan_unece::releases()
        .iter()
        .map(|release| jinguan_unece::directory(release).unwrap())
        .collect();
    let (mut runs, mut diagnostics) = (0, 0);
    for line in index.lines().skip(1) {
        let file = line.split('\t').next().unwrap();
        let bytes = std::fs::read(root.join(file)).unwrap();
        // The large benchmark files add time, not cases.
        if bytes.len() > 100_000 {
            continue;
        }
        let interchange = jinguan_edifact::check(&bytes);
        for message in &interchange.messages {
            for directory in &directories {
                runs += 1;
                diagnostics +=
                    jinguan_edifact::validate(directory, &bytes, message, &interchange.separators)
                        .len();
            }
        }
    }
    println!("EDIFACT cross-release validation: {runs} runs, {diagnostics} diagnostics, no panic");
    assert!(runs > 0);
}
