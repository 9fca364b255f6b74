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
    let json = r#"{
      "head": {
        "ie_flag": "I", "declaration_type": "ZC", "pre_entry_id": "P20261128000001",
        "declaring_customs": "2201", "ie_port": "2202", "entry_exit_port": "310001",
        "declaration_date": "2026-11-28", "ie_date": "2026-11-27",
        "consignee": {"customs_code": "3105961234", "uscc": "91310000MA1FL00000", "name": "上海某某进出口有限公司"},
        "agent": {"customs_code": "3105980001", "name": "Broker: Co + Partners 'Ltd'?"},
        "overseas_consignor": {"name_en": "ACME GmbH", "address": "Postfach 1, Empfingen"},
        "trade_mode": "0110", "levy_nature": "101", "transport_mode": "2",
        "transport_means": "MSC ANNA", "bill_of_lading": "MSCU1234567",
        "contract_no": "C-2026-01", "trade_country": "DEU", "departure_port": "DEU003",
        "transaction_terms": "1", "freight": {"mark": "3", "rate": "1200.50", "currency": "USD"},
        "packages": 12, "package_type": "22", "gross_weight_kg": "1500.5", "net_weight_kg": "1400",
        "other_fields": [["EdiRemark", "x"]]
      },
      "items": [
        {"seq": 1, "hs_code": "8471300000", "name": "笔记本电脑", "elements": "0|0|品牌:X|型号:Y",
         "declared_qty": "100", "declared_unit": "台", "total_price": "50000.00", "currency": "USD",
         "origin_country": "DEU", "destination_country": "CHN", "duty_mode": "1"},
        {"seq": 2, "hs_code": "8517130000", "name": "phone", "total_price": "10"}
      ],
      "containers": [{"container_no": "MSCU7654321", "size_code": "22G1"}],
      "documents": [{"code": "A", "number": "A123"}]
    }"#;
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
        "EQD+CN+MSCU7654321+22G1'",
        "CST+1+8471300000'",
        "MOA+38:50000.00:USD'",
    ] {
        assert!(text.contains(expected), "{expected} not in {text}");
    }
}
