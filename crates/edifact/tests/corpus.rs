//! Conformance over the EDIFACT corpus (`../shared/corpus/edifact/samples`): every sample is
//! read without a panic; each usable sample's envelope is acceptable unless
//! `tests/expectations.tsv` lists the diagnostics it has and why; every negative sample whose
//! defect is in the syntax or the envelope is rejected with the code listed there (defects
//! only a directory can see wait for the directory validator, and are listed as such).

#![allow(clippy::unwrap_used)] // A panic in a test is a test failure with its message.

use std::collections::BTreeMap;

/// `file<TAB>codes<TAB>why` lines: the diagnostics (comma-separated codes, `-` for none,
/// `directory` for a defect the syntax cannot see) each listed file has.
fn expectations() -> BTreeMap<String, (String, String)> {
    include_str!("expectations.tsv")
        .lines()
        .filter(|line| !line.starts_with('#') && !line.trim().is_empty())
        .map(|line| {
            let mut fields = line.split('\t');
            let file = fields.next().unwrap().to_owned();
            let codes = fields.next().unwrap_or("").to_owned();
            let why = fields.next().unwrap_or("").to_owned();
            (file, (codes, why))
        })
        .collect()
}

#[test]
fn every_sample_reads_and_every_defect_is_named() {
    let Some(corpus) = jinguan_testkit::corpus() else {
        eprintln!("SKIP: ../shared/corpus absent; the EDIFACT conformance run not done");
        return;
    };
    let root = corpus.join("edifact");
    let index = std::fs::read_to_string(root.join("INDEX.tsv")).unwrap();
    let expected = expectations();
    let mut seen = 0;
    let (mut clean, mut as_expected, mut negatives, mut deferred) = (0, 0, 0, 0);
    let mut wrong = Vec::new();
    for line in index.lines().skip(1) {
        let fields: Vec<&str> = line.split('\t').collect();
        let (file, kind) = (fields[0], fields[1]);
        let bytes = std::fs::read(root.join(file)).unwrap();
        seen += 1;
        let interchange = jinguan_edifact::check(&bytes);
        let mut codes: Vec<&str> = interchange.errors().map(|d| d.code).collect();
        codes.sort_unstable();
        codes.dedup();
        let got = if codes.is_empty() {
            "-".to_owned()
        } else {
            codes.join(",")
        };
        if let Some(out) = std::env::var_os("JINGUAN_EDIFACT_SEEN") {
            // For reviewing a change: every file's codes, to compare with the expectations.
            use std::io::Write;
            let mut f = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(out)
                .unwrap();
            writeln!(f, "{file}\t{kind}\t{got}").unwrap();
        }
        match (kind, expected.get(file)) {
            (_, Some((listed, _))) if listed == "directory" => {
                deferred += 1;
            }
            (_, Some((listed, _))) => {
                if *listed == got {
                    as_expected += 1;
                    negatives += usize::from(kind == "invalid");
                } else {
                    wrong.push(format!("{file}: listed {listed}, got {got}"));
                }
            }
            ("invalid", None) => {
                wrong.push(format!("{file}: a negative sample not listed (got {got})"))
            }
            (_, None) => {
                if got == "-" {
                    clean += 1;
                } else {
                    let said: Vec<String> = interchange
                        .errors()
                        .take(3)
                        .map(ToString::to_string)
                        .collect();
                    wrong.push(format!("{file}: {got}: {}", said.join("; ")));
                }
            }
        }
    }
    println!(
        "EDIFACT conformance: {seen} files; {clean} read clean, {as_expected} with exactly their \
         listed diagnostics ({negatives} of them negative samples rejected), {deferred} negatives \
         whose defect needs the directory validator"
    );
    assert!(
        wrong.is_empty(),
        "{} files not as expected:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    assert_eq!(seen, index.lines().count() - 1);
}
