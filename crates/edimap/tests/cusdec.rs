//! CUSDEC → declaration → CUSDEC over the real samples, and declaration → CUSDEC →
//! declaration for a declaration using every part of the mapping.

#![allow(clippy::unwrap_used)] // A panic in a test is a test failure with its message.

use jinguan_edimap::{cusdec, interchange, read_message, Envelope, OutMessage, Seg};
use jinguan_types::declaration::Declaration;

fn envelope() -> Envelope {
    Envelope {
        syntax: ("UNOW".into(), "4".into()),
        sender: "BROKER".into(),
        recipient: "JINGUAN".into(),
        prepared: ("261128".into(), "1200".into()),
        reference: "1".into(),
    }
}

/// The declaration each CUSDEC message of `bytes` gives.
fn declarations(bytes: &[u8]) -> Vec<(cusdec::Read, Vec<Seg>)> {
    let checked = jinguan_edifact::check(bytes);
    checked
        .messages
        .iter()
        .filter(|m| m.message_type == "CUSDEC")
        .map(|m| {
            let segments = read_message(bytes, m);
            (cusdec::read(&segments), segments)
        })
        .collect()
}

fn written(declaration: &Declaration, function: &str) -> Vec<u8> {
    let body = cusdec::write(declaration, function).unwrap();
    interchange(
        &envelope(),
        &[OutMessage {
            reference: "1".into(),
            identifier: cusdec::identifier(),
            segments: body,
        }],
    )
}

#[test]
fn the_real_cusdecs_survive_a_round_trip() {
    let Some(corpus) = jinguan_testkit::corpus() else {
        eprintln!("SKIP: ../shared/corpus absent; the CUSDEC samples not read");
        return;
    };
    let samples = corpus.join("edifact/samples");
    for file in ["smooks/96b_cusdec.edi", "ts-edifact/CUSDEC_D99B_AU_ICS.edi"] {
        let bytes = std::fs::read(samples.join(file)).unwrap();
        let read = declarations(&bytes);
        assert_eq!(read.len(), 1, "{file}");
        let (first, original) = &read[0];
        assert!(first.findings.is_empty(), "{file}: {:?}", first.findings);
        let again = written(&first.declaration, &first.function);
        let interchange = jinguan_edifact::check(&again);
        assert!(
            interchange.is_acceptable(),
            "{file}: {:?}",
            interchange.diagnostics
        );
        let reread = declarations(&again);
        assert_eq!(
            reread[0].0,
            *first,
            "{file}: {}",
            String::from_utf8_lossy(&again)
        );
        // Every segment of the original is in the rewrite (the order of a slot's segments
        // may differ: mapped ones come first).
        let mut before: Vec<String> = original.iter().map(Seg::to_text).collect();
        let mut after: Vec<String> = reread[0].1.iter().map(Seg::to_text).collect();
        before.retain(|s| !s.starts_with("UNH") && !s.starts_with("UNT"));
        after.retain(|s| !s.starts_with("UNH") && !s.starts_with("UNT"));
        before.sort();
        after.sort();
        assert_eq!(before, after, "{file}");
        eprintln!("{file}: {} segments, every one back", before.len());
    }
}

#[test]
fn the_smooks_sample_gives_its_fields() {
    let Some(corpus) = jinguan_testkit::corpus() else {
        eprintln!("SKIP: ../shared/corpus absent");
        return;
    };
    let bytes = std::fs::read(corpus.join("edifact/samples/smooks/96b_cusdec.edi")).unwrap();
    let read = declarations(&bytes);
    let d = &read[0].0.declaration;
    assert_eq!(d.head.declaration_type.as_deref(), Some("T2"));
    assert_eq!(d.head.pre_entry_id.as_deref(), Some("00GB12131439290006"));
    assert_eq!(
        d.head.gross_weight_kg.map(|w| w.to_string()).as_deref(),
        Some("380")
    );
    assert_eq!(d.head.consignee.name.as_deref(), Some("TuneraS.A.R.L."));
    assert_eq!(d.items.len(), 1);
    assert_eq!(d.items[0].seq, Some(1));
    assert_eq!(d.items[0].name.as_deref(), Some("Elektromaterial"));
    let au =
        std::fs::read(corpus.join("edifact/samples/ts-edifact/CUSDEC_D99B_AU_ICS.edi")).unwrap();
    let read = declarations(&au);
    let d = &read[0].0.declaration;
    assert_eq!(d.head.ie_flag, Some(jinguan_types::IeFlag::Export));
    assert_eq!(d.head.departure_port.as_deref(), Some("AUMEL"));
    assert_eq!(d.items[0].name.as_deref(), Some("GOODS DESCRIPTION"));
    // LOC+27+US::5+YY-FO::6: the country read, the segment kept whole for its other parts.
    assert_eq!(d.items[0].origin_country.as_deref(), Some("US"));
}

#[test]
fn a_declaration_survives_cusdec() {
    let json = include_str!("declaration.json");
    let declaration: Declaration = serde_json::from_str(json).unwrap();
    let bytes = written(&declaration, "9");
    let checked = jinguan_edifact::check(&bytes);
    assert!(checked.is_acceptable(), "{:?}", checked.diagnostics);
    let read = declarations(&bytes);
    assert!(read[0].0.findings.is_empty());
    assert_eq!(
        read[0].0.declaration,
        declaration,
        "{}",
        String::from_utf8_lossy(&bytes)
    );
    let text = String::from_utf8_lossy(&bytes);
    for expected in [
        "BGM+929:::ZC+P20261128000001+9'",
        "LOC+22+2201'",
        "DTM+137:20261128:102'",
        "MEA+WT+AAD+KGM:1500.5'",
        "EQD+CN+MSCU7654321+22G1::5'",
        "CST+1+8471300000'",
        "MOA+38:50000.00:USD'",
    ] {
        assert!(text.contains(expected), "{expected} not in {text}");
    }
}

/// Every diagnostic of the interchange's messages against their directories.
fn invalid(bytes: &[u8]) -> Vec<String> {
    let checked = jinguan_edifact::check(bytes);
    let validation = jinguan_edimap::validation(bytes, &checked, None).unwrap();
    assert!(
        validation
            .messages
            .iter()
            .all(|(_, _, release)| release.is_some()),
        "{:?}",
        validation.messages
    );
    validation
        .diagnostics
        .iter()
        .map(|(d, _)| d.to_string())
        .collect()
}

#[test]
fn what_is_written_validates_against_d96b() {
    let json = include_str!("declaration.json");
    let declaration: Declaration = serde_json::from_str(json).unwrap();
    let bytes = written(&declaration, "9");
    assert_eq!(
        invalid(&bytes),
        Vec::<String>::new(),
        "{}",
        String::from_utf8_lossy(&bytes)
    );
    // CUSRES for an acceptance with its assessment, and for a rejection with its errors.
    for response in [
        jinguan_edimap::cusres::Response {
            entry_id: "220120261000000001".into(),
            submission_id: "batch-1/M1".into(),
            customs: "2201".into(),
            status: "accepted".into(),
            first: true,
            receipt_code: "P".into(),
            channel: Some("green".into()),
            time: "202611281200".into(),
            note: "risk: no rule fired; random 2 %".into(),
            errors: vec![],
            taxes: Some((
                "1451.20".parse().unwrap(),
                "0".parse().unwrap(),
                "9812.11".parse().unwrap(),
            )),
        },
        jinguan_edimap::cusres::Response {
            submission_id: "batch-1/M2".into(),
            customs: "2201".into(),
            status: "rejected".into(),
            first: true,
            time: "202611281200".into(),
            note: "C0103 HS code 9999999999 unknown".into(),
            errors: vec![(
                "C0103".into(),
                "HS code 9999999999 unknown on 2026-11-28".into(),
            )],
            ..Default::default()
        },
    ] {
        let bytes = interchange(
            &envelope(),
            &[OutMessage {
                reference: "1".into(),
                identifier: jinguan_edimap::cusres::identifier(),
                segments: jinguan_edimap::cusres::write(&response),
            }],
        );
        assert_eq!(
            invalid(&bytes),
            Vec::<String>::new(),
            "{}",
            String::from_utf8_lossy(&bytes)
        );
        let read = jinguan_edimap::cusres::read(&declarations_of(&bytes));
        assert_eq!(read, response);
    }
}

fn declarations_of(bytes: &[u8]) -> Vec<Seg> {
    let checked = jinguan_edifact::check(bytes);
    read_message(bytes, &checked.messages[0])
}
