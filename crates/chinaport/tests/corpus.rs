//! Conformance against the real DecMessage samples in the shared corpus.
//!
//! The samples carry no licence that allows copying them into this repository, so they are
//! read in place from `../shared/corpus` (or `$JINGUAN_CORPUS`). Where the folder is absent
//! the tests say so and pass, unless `JINGUAN_REQUIRE_CORPUS=1` (set by CI when the corpus is
//! present) makes absence a failure.

#![allow(clippy::unwrap_used)] // A panic in a test is a test failure with its message.

use jinguan_chinaport::decmessage::{self, WriteOptions};

use jinguan_testkit::corpus;

/// Samples SOURCES.md flags as not well-formed, with where the reader must say it breaks.
const MALFORMED: &[(&str, &str)] = &[
    ("zzaniu-loop_server/conf_OnlyWindowsNew.xml", "line 92"),
    (
        "zzaniu-loop_server/test2_test1_1.xml",
        "content after the document element",
    ),
];

fn samples(dir: &std::path::Path) -> Vec<(String, Vec<u8>)> {
    let mut out = Vec::new();
    for group in ["zzaniu-loop_server", "ryanrong95-HXT"] {
        let mut entries: Vec<_> = std::fs::read_dir(dir.join("china/declaration").join(group))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for path in entries {
            let name = format!("{group}/{}", path.file_name().unwrap().to_string_lossy());
            out.push((name, std::fs::read(&path).unwrap()));
        }
    }
    out
}

#[test]
fn every_well_formed_sample_parses_and_round_trips() {
    let Some(dir) = corpus() else { return };
    let mut parsed = 0;
    for (name, bytes) in samples(&dir) {
        if MALFORMED.iter().any(|(m, _)| *m == name) {
            continue;
        }
        let first = decmessage::parse(&bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        for wrap in [false, true] {
            let text = decmessage::write(&first.declaration, WriteOptions { wrap });
            let second = decmessage::parse(text.as_bytes())
                .unwrap_or_else(|e| panic!("{name}: {e}\n{text}"));
            let mut expected = first.declaration.clone();
            if wrap && expected.envelope.is_none() {
                // Wrapping adds a default envelope; everything else must be identical.
                expected.envelope = second.declaration.envelope.clone();
            }
            assert_eq!(
                second.declaration, expected,
                "{name} (wrap {wrap}) did not round-trip"
            );
        }
        parsed += 1;
    }
    assert_eq!(parsed, 13, "all well-formed samples");
}

#[test]
fn malformed_samples_fail_with_line_and_column() {
    let Some(dir) = corpus() else { return };
    for (name, expected) in MALFORMED {
        let bytes = std::fs::read(dir.join("china/declaration").join(name)).unwrap();
        let error = decmessage::parse(&bytes).unwrap_err();
        let message = error.to_string();
        assert_eq!(error.code(), "X0001", "{name}: {message}");
        assert!(message.contains(expected), "{name}: {message}");
        assert!(
            message.contains("line ") && message.contains("column "),
            "{message}"
        );
    }
}

#[test]
fn the_2024_import_sample_reads_into_the_model() {
    let Some(dir) = corpus() else { return };
    let path = dir
        .join("china/declaration/ryanrong95-HXT/DecMessage_import_0110_XDTCDO202405100000002.xml");
    let parsed = decmessage::parse(&std::fs::read(path).unwrap()).unwrap();
    let declaration = parsed.declaration;
    let head = &declaration.head;
    assert_eq!(head.ie_flag, Some(jinguan_types::IeFlag::Import));
    assert_eq!(head.trade_mode.as_deref(), Some("0110"));
    assert_eq!(head.declaring_customs.as_deref(), Some("5354"));
    assert_eq!(head.consignee.uscc.as_deref(), Some("91440300MA5FHK4H1F"));
    assert_eq!(head.ie_date, chrono::NaiveDate::from_ymd_opt(2024, 5, 10));
    assert_eq!(head.gross_weight_kg.unwrap().to_string(), "2.00000");
    assert_eq!(declaration.items.len(), 1);
    let item = &declaration.items[0];
    assert_eq!(item.hs_code.as_deref(), Some("8542319090"));
    assert_eq!(item.origin_country.as_deref(), Some("CHE"));
    assert_eq!(item.total_price.unwrap().to_string(), "13.03");
    assert_eq!(declaration.electronic_documents.len(), 3);
    assert_eq!(
        declaration.signature.unwrap().client_seq_no.as_deref(),
        Some("XDTCDO202405100000002")
    );
    assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
}

#[test]
fn the_wrapped_2018_export_keeps_its_envelope_and_items() {
    let Some(dir) = corpus() else { return };
    let path =
        dir.join("china/declaration/zzaniu-loop_server/test2_test1_Dec201801181647076926.xml");
    let parsed = decmessage::parse(&std::fs::read(path).unwrap()).unwrap();
    let envelope = parsed.declaration.envelope.as_ref().unwrap();
    assert_eq!(envelope.cop_msg_id.as_deref(), Some("出口普通报关单.xml"));
    assert_eq!(envelope.format.as_deref(), Some("xml"));
    assert_eq!(envelope.msg_type, None, "the sample leaves MsgType empty");
    assert_eq!(
        parsed.declaration.head.ie_flag,
        Some(jinguan_types::IeFlag::Export)
    );
    assert_eq!(parsed.declaration.head.trade_mode.as_deref(), Some("0615"));
    assert!(parsed.declaration.items.len() > 1);
}

#[test]
fn code_checks_map_legacy_codes_and_round_trip() {
    let Some(dir) = corpus() else { return };
    let data = jinguan_refdata::RefData::load().unwrap();
    let mut legacy_mapped = 0;
    for (name, bytes) in samples(&dir) {
        if MALFORMED.iter().any(|(m, _)| *m == name) {
            continue;
        }
        let mut first = decmessage::parse(&bytes).unwrap().declaration;
        let diagnostics = jinguan_chinaport::check::check_codes(&mut first, &data);
        legacy_mapped += diagnostics
            .iter()
            .filter(|d| d.code == "D0101" || d.code == "D0201")
            .count();
        let text = decmessage::write(&first, WriteOptions::default());
        let mut second = decmessage::parse(text.as_bytes()).unwrap().declaration;
        let again = jinguan_chinaport::check::check_codes(&mut second, &data);
        assert_eq!(second, first, "{name}");
        assert!(
            again.iter().all(|d| d.code != "D0101" && d.code != "D0201"),
            "{name}: mapped twice"
        );
    }
    assert!(
        legacy_mapped > 5,
        "the 2017-2018 samples use legacy codes: {legacy_mapped}"
    );
}

#[test]
fn the_2018_export_maps_legacy_codes() {
    let Some(dir) = corpus() else { return };
    let data = jinguan_refdata::RefData::load().unwrap();
    let path =
        dir.join("china/declaration/zzaniu-loop_server/test2_test1_Dec201801181647076926.xml");
    let mut declaration = decmessage::parse(&std::fs::read(path).unwrap())
        .unwrap()
        .declaration;
    let before = declaration.items[0].currency.clone();
    let diagnostics = jinguan_chinaport::check::check_codes(&mut declaration, &data);
    let after = declaration.items[0].currency.clone();
    if before.as_deref() == Some("502") {
        assert_eq!(after.as_deref(), Some("USD"));
    }
    for diagnostic in &diagnostics {
        assert!(
            !diagnostic.message.is_empty() && diagnostic.path.contains('/'),
            "{diagnostic:?}"
        );
    }
    assert!(
        diagnostics.iter().any(|d| d.code == "D0101"),
        "{diagnostics:#?}"
    );
}
