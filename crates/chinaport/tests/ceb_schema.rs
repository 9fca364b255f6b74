//! The CEB schemas: the shipped compiled form equals what the official XSDs compile to, and
//! [`Schema::validate`] gives `xmllint --schema`'s verdict on every official sample and on
//! mutations of them (a missing, repeated, reordered or unknown element, a value too long, a
//! number that is not one, a missing attribute).
//!
//! The XSDs and samples are read in place from `../shared/corpus` (their licence does not let
//! us copy them); `JINGUAN_REQUIRE_CORPUS=1` makes their absence a failure. Set
//! `JINGUAN_BLESS=1` to rewrite the shipped JSON after an XSD change.

#![allow(clippy::unwrap_used)] // A panic in a test is a test failure with its message.

use std::path::{Path, PathBuf};

use jinguan_chinaport::ceb::{self, schema, Edition};
use jinguan_chinaport::xml::{self, Element, Limits};
use jinguan_chinaport::xsd::{self, Schema};
use jinguan_testkit::corpus;
use jinguan_testkit::schema::{xmllint, Lcg};

const EDITIONS: [(Edition, &str); 2] = [
    (Edition::Gacc2018, "gacc-2018-113"),
    (Edition::Gacc202205, "gacc-202205"),
];

/// Official samples the official XSD itself rejects (xmllint says so too; the test below
/// checks that both verdicts agree on them like on every other).
const INVALID_SAMPLES: &[(&str, &str)] = &[
    // The document element is CEB214, not CEB214Message.
    ("gacc-202205/samples/export/CEB214Message.xml", "X0310"),
    // BaseTransfer twice.
    ("gacc-202205/samples/export/CEB303Message.xml", "X0313"),
    ("gacc-202205/samples/export/CEB403Message.xml", "X0313"),
    ("gacc-202205/samples/export/CEB505Message.xml", "X0313"),
    ("gacc-202205/samples/export/CEB507Message.xml", "X0313"),
    ("gacc-202205/samples/export/CEB509Message.xml", "X0313"),
    ("gacc-202205/samples/export/CEB603Message.xml", "X0313"),
    ("gacc-202205/samples/export/CEB605Message.xml", "X0313"),
    ("gacc-202205/samples/export/CEB607Message.xml", "X0313"),
    // gnum where the 2022 schema has gseqno.
    ("gacc-202205/samples/export/CEB792Message.xml", "X0311"),
];

fn ceb_dir() -> Option<PathBuf> {
    corpus().map(|c| c.join("china/ceb"))
}

fn xsd_files(edition_dir: &Path) -> Vec<(String, Vec<u8>)> {
    ["ceb_import_business.xsd", "ceb_export_business.xsd"]
        .iter()
        .map(|name| {
            (
                (*name).to_owned(),
                std::fs::read(edition_dir.join("xsd").join(name)).unwrap(),
            )
        })
        .collect()
}

fn compiled(edition: Edition, edition_dir: &Path) -> Schema {
    let files = xsd_files(edition_dir);
    let borrowed: Vec<(&str, &[u8])> = files
        .iter()
        .map(|(n, b)| (n.as_str(), b.as_slice()))
        .collect();
    xsd::compile(edition.id(), &borrowed, |name| name.starts_with("CEB")).unwrap()
}

#[test]
fn the_shipped_schemas_are_what_the_official_xsds_compile_to() {
    let Some(dir) = ceb_dir() else {
        return;
    };
    for (edition, folder) in EDITIONS {
        let fresh = compiled(edition, &dir.join(folder));
        let shipped_path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../data/schemas")
            .join(format!("{}.json", edition.id()));
        if std::env::var_os("JINGUAN_BLESS").is_some() {
            std::fs::write(&shipped_path, fresh.to_json()).unwrap();
        }
        // Compared as JSON, so that a failure does not print half a megabyte.
        assert!(
            schema(edition).to_json() == fresh.to_json(),
            "{} is stale: rerun this test with JINGUAN_BLESS=1",
            shipped_path.display()
        );
        assert!(fresh.roots.contains_key("CEB621Message"));
    }
    // Every message root of the catalogue is in the 2022 edition.
    let catalogue = std::fs::read_to_string(dir.join("ceb_message_catalog_202205.csv")).unwrap();
    let roots: Vec<&str> = catalogue
        .lines()
        .skip(1)
        .filter_map(|l| l.split(',').next())
        .collect();
    assert_eq!(roots.len(), 42);
    for root in roots {
        assert!(
            schema(Edition::Gacc202205).root(root).is_some(),
            "{root} missing"
        );
    }
}

fn samples(edition_dir: &Path) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    for flow in ["import", "export"] {
        let mut paths: Vec<PathBuf> = std::fs::read_dir(edition_dir.join("samples").join(flow))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        paths.sort();
        for path in paths {
            out.push((flow.to_owned(), path));
        }
    }
    out
}

/// `ceb::parse`, which moves the tree's strings into the message, reads what `ceb::read`
/// reads from the same tree borrowed.
fn same_message(bytes: &[u8], label: &str) {
    let borrowed = ceb::read(&xml::parse(bytes, Limits::default()).unwrap());
    assert_eq!(ceb::parse(bytes), borrowed, "{label}");
}

fn ours(edition: Edition, bytes: &[u8]) -> Vec<jinguan_types::Diagnostic> {
    let document = xml::parse(bytes, Limits::default()).unwrap();
    schema(edition).validate(&document)
}

#[test]
fn every_official_sample_gets_xmllints_verdict() {
    let Some(dir) = ceb_dir() else {
        return;
    };
    let mut checked = 0;
    for (edition, folder) in EDITIONS {
        for (flow, path) in samples(&dir.join(folder)) {
            let xsd = dir
                .join(folder)
                .join(format!("xsd/ceb_{flow}_business.xsd"));
            let theirs = xmllint(&xsd, std::slice::from_ref(&path))[0];
            let bytes = std::fs::read(&path).unwrap();
            let diagnostics = ours(edition, &bytes);
            same_message(&bytes, &path.display().to_string());
            let relative = path
                .strip_prefix(&dir)
                .unwrap()
                .to_str()
                .unwrap()
                .to_owned();
            assert_eq!(
                diagnostics.is_empty(),
                theirs,
                "{relative}: xmllint says {theirs}, we say {diagnostics:?}"
            );
            let known = INVALID_SAMPLES.iter().find(|(p, _)| *p == relative);
            assert_eq!(known.is_some(), !theirs, "{relative}");
            if let Some((_, code)) = known {
                assert_eq!(diagnostics[0].code, *code, "{relative}: {diagnostics:?}");
            }
            checked += 1;
        }
    }
    assert_eq!(checked, 74);
    println!(
        "CEB samples: {checked} checked against xmllint, {} invalid by the official XSD",
        INVALID_SAMPLES.len()
    );
}

/// Writes an element back as XML (namespace prefix `ceb`, declared on the root).
fn write(element: &Element, root: bool, signature: bool, out: &mut String) {
    // The signature and everything in it are in the XML-DSig namespace.
    let signature = signature || element.name == "Signature";
    let name = if signature {
        format!("ds:{}", element.name)
    } else {
        format!("ceb:{}", element.name)
    };
    out.push('<');
    out.push_str(&name);
    if root {
        out.push_str(" xmlns:ceb=\"http://www.chinaport.gov.cn/ceb\" xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"");
    }
    for (key, value) in &element.attributes {
        if key.starts_with("xmlns") {
            continue;
        }
        out.push_str(&format!(" {key}=\"{}\"", xml::escape(value)));
    }
    out.push('>');
    out.push_str(&xml::escape(&element.text));
    for child in &element.children {
        write(child, false, signature, out);
    }
    out.push_str(&format!("</{name}>"));
}

/// Every path to an element, as child indexes from the root.
fn paths(element: &Element, at: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
    for (i, child) in element.children.iter().enumerate() {
        if child.name == "Signature" {
            continue;
        }
        at.push(i);
        out.push(at.clone());
        paths(child, at, out);
        at.pop();
    }
}

fn parent_of<'a>(root: &'a mut Element, path: &[usize]) -> &'a mut Element {
    let mut node = root;
    for &i in &path[..path.len() - 1] {
        node = &mut node.children[i];
    }
    node
}

fn mutate(document: &Element, rng: &mut Lcg) -> (String, Element) {
    let mut copy = document.clone();
    let mut all = Vec::new();
    paths(&copy, &mut Vec::new(), &mut all);
    let path = all[rng.next(all.len())].clone();
    let index = *path.last().unwrap();
    let parent = parent_of(&mut copy, &path);
    let kind = rng.next(8);
    let what = match kind {
        0 => {
            parent.children.remove(index);
            "remove"
        }
        1 => {
            let twin = parent.children[index].clone();
            parent.children.insert(index, twin);
            "duplicate"
        }
        2 if index + 1 < parent.children.len() => {
            parent.children.swap(index, index + 1);
            "swap"
        }
        3 => {
            let target = &mut parent.children[index];
            if target.children.is_empty() {
                target.text = "9"
                    .repeat(target.text.chars().count() + 1 + rng.next(40))
                    .into();
            }
            "lengthen"
        }
        4 => {
            let target = &mut parent.children[index];
            if target.children.is_empty() {
                target.text = "12a".into();
            }
            "letters"
        }
        5 => {
            let mut stranger = parent.children[index].clone();
            stranger.name = "notInTheSchema".into();
            parent.children.insert(index, stranger);
            "unknown"
        }
        6 => {
            copy.attributes.retain(|(k, _)| k != "guid");
            "no guid"
        }
        _ => {
            let target = &mut parent.children[index];
            if target.children.is_empty() {
                target.text =
                    format!("{}.{}", "1".repeat(rng.next(22)), "5".repeat(rng.next(8))).into();
            }
            "digits"
        }
    };
    (what.to_owned(), copy)
}

#[test]
fn mutated_samples_get_xmllints_verdict() {
    let Some(dir) = ceb_dir() else {
        return;
    };
    let work = std::env::temp_dir().join(format!("jinguan-ceb-mutants-{}", std::process::id()));
    std::fs::create_dir_all(&work).unwrap();
    let mut rng = Lcg(0x006a_696e_6775_616e);
    let (mut valid, mut invalid) = (0, 0);
    for (edition, folder) in EDITIONS {
        for flow in ["import", "export"] {
            let xsd = dir
                .join(folder)
                .join(format!("xsd/ceb_{flow}_business.xsd"));
            let mut files = Vec::new();
            let mut verdicts_ours = Vec::new();
            let mut labels = Vec::new();
            for (sample_flow, path) in samples(&dir.join(folder)) {
                if sample_flow != flow {
                    continue;
                }
                let bytes = std::fs::read(&path).unwrap();
                let document = xml::parse(&bytes, Limits::default()).unwrap();
                if !schema(edition).validate(&document).is_empty() {
                    continue;
                }
                for n in 0..12 {
                    let (what, mutant) = mutate(&document, &mut rng);
                    let mut text = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
                    write(&mutant, true, false, &mut text);
                    let file = work.join(format!(
                        "{folder}-{}-{n}.xml",
                        path.file_stem().unwrap().to_str().unwrap()
                    ));
                    std::fs::write(&file, &text).unwrap();
                    let reread = xml::parse(text.as_bytes(), Limits::default()).unwrap();
                    verdicts_ours.push(schema(edition).validate(&reread));
                    same_message(text.as_bytes(), &file.display().to_string());
                    labels.push(format!("{} ({what})", file.display()));
                    files.push(file);
                }
            }
            let theirs = xmllint(&xsd, &files);
            for ((label, ours), theirs) in labels.iter().zip(&verdicts_ours).zip(theirs) {
                assert_eq!(
                    ours.is_empty(),
                    theirs,
                    "{label}: xmllint says {theirs}, we say {ours:?}"
                );
                if theirs {
                    valid += 1;
                } else {
                    invalid += 1;
                }
            }
        }
    }
    std::fs::remove_dir_all(&work).unwrap();
    println!("CEB mutants: {valid} valid and {invalid} invalid, each as xmllint says");
    assert!(invalid > 300, "{invalid}");
    assert!(valid > 20, "{valid}");
}

#[test]
fn the_dxp_envelope_schema_is_the_official_one_and_what_we_write_satisfies_it() {
    let Some(dir) = ceb_dir() else {
        return;
    };
    let xsd = dir.join("gacc-202205/xsd/ceb_terminal_node.xsd");
    let fresh = xsd::compile(
        "dxp-terminal",
        &[("ceb_terminal_node.xsd", &std::fs::read(&xsd).unwrap())],
        |name| name == "DxpMsg" || name == "DxpRep",
    )
    .unwrap();
    let shipped_path =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data/schemas/dxp-terminal.json");
    if std::env::var_os("JINGUAN_BLESS").is_some() {
        std::fs::write(&shipped_path, fresh.to_json()).unwrap();
    }
    assert!(
        jinguan_chinaport::dxp::schema().to_json() == fresh.to_json(),
        "{} is stale: rerun this test with JINGUAN_BLESS=1",
        shipped_path.display()
    );
    // An envelope carrying an official sample, written and read back; xmllint agrees.
    let sample = std::fs::read(dir.join("gacc-202205/samples/import/CEB311Message.xml")).unwrap();
    let time = chrono::NaiveDate::from_ymd_opt(2026, 11, 29)
        .unwrap()
        .and_hms_opt(10, 0, 0)
        .unwrap();
    let envelope = jinguan_chinaport::dxp::write(
        "msg-1",
        "DXPENT0000000001",
        &["DXPEDCCEB0000002"],
        time,
        "CEB311Message",
        &sample,
        "CEB311Message.xml",
    )
    .unwrap();
    let work = std::env::temp_dir().join(format!("jinguan-dxp-{}", std::process::id()));
    std::fs::create_dir_all(&work).unwrap();
    let file = work.join("dxp.xml");
    std::fs::write(&file, &envelope).unwrap();
    assert_eq!(xmllint(&xsd, std::slice::from_ref(&file)), vec![true]);
    let read = jinguan_chinaport::dxp::parse(envelope.as_bytes()).unwrap();
    assert_eq!(read.data, sample);
    assert_eq!(read.sender_id, "DXPENT0000000001");
    assert_eq!(read.msg_type, "CEB311Message");
    // Broken envelopes: both verdicts agree, and ours is coded.
    let broken = [
        envelope.replace("DXPENT0000000001", "DXPENT00000000012345"),
        envelope.replace("<dxp:MsgType>CEB311Message</dxp:MsgType>\n", ""),
        envelope.replace("ver=\"1.0\"", "ver=\"2.0\""),
        envelope.replace("2026-11-29T10:00:00", "20261129100000"),
    ];
    for (i, text) in broken.iter().enumerate() {
        let file = work.join(format!("broken-{i}.xml"));
        std::fs::write(&file, text).unwrap();
        assert_eq!(
            xmllint(&xsd, std::slice::from_ref(&file)),
            vec![false],
            "{i}"
        );
        assert_eq!(
            jinguan_chinaport::dxp::parse(text.as_bytes())
                .unwrap_err()
                .code(),
            "X0331",
            "{i}"
        );
    }
    std::fs::remove_dir_all(&work).unwrap();
}
