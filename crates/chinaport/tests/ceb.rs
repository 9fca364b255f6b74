//! CEB messages: every official sample read, and every receipt and notification Jinguan
//! writes accepted by `xmllint --schema` against the official XSD of its edition.
//!
//! Samples and XSDs are read in place from `../shared/corpus` (see `ceb_schema.rs`).

#![allow(clippy::unwrap_used)] // A panic in a test is a test failure with its message.

use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::NaiveDate;
use jinguan_chinaport::ceb::{self, Edition, Entity, Fields, Outcome};
use jinguan_testkit::corpus;

fn folder(edition: Edition) -> &'static str {
    match edition {
        Edition::Gacc2018 => "gacc-2018-113",
        Edition::Gacc202205 => "gacc-202205",
    }
}

fn flow(root: &str) -> &'static str {
    let n: u32 = root[3..6].parse().unwrap();
    // Import: 311-316, 411-412, 511-514, 621-626, 711-712, 816-818, 900.
    if matches!(n, 311..=314 | 411..=414 | 511..=514 | 621..=626 | 711..=712 | 816..=818 | 900) {
        "import"
    } else {
        "export"
    }
}

fn samples(dir: &Path, edition: Edition) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for f in ["import", "export"] {
        for entry in std::fs::read_dir(dir.join(folder(edition)).join("samples").join(f)).unwrap() {
            out.push(entry.unwrap().path());
        }
    }
    out.sort();
    out
}

/// xmllint's verdict and complaint on one file.
fn xmllint(xsd: &Path, file: &Path) -> (bool, String) {
    let output = Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(xsd)
        .arg(file)
        .output()
        .unwrap_or_else(|e| panic!("xmllint must be installed (libxml2-utils): {e}"));
    (
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

#[test]
fn every_official_sample_is_read_with_its_entities() {
    let Some(dir) = corpus().map(|c| c.join("china/ceb")) else {
        return;
    };
    let mut read = 0;
    for edition in Edition::ALL {
        for path in samples(&dir, edition) {
            let bytes = std::fs::read(&path).unwrap();
            let name = path.display().to_string();
            match ceb::parse(&bytes) {
                Ok((message, _diagnostics)) => {
                    assert!(!message.entities.is_empty(), "{name}");
                    assert_eq!(message.guid.len(), 36, "{name}");
                    for entity in &message.entities {
                        assert!(!entity.head.0.is_empty(), "{name}: {entity:?}");
                    }
                }
                // The one sample whose document element is misnamed (CEB214 for
                // CEB214Message) is not a CEB message, and is told so.
                Err(e) => {
                    assert!(
                        name.ends_with("gacc-202205/samples/export/CEB214Message.xml"),
                        "{name}: {e}"
                    );
                    assert_eq!(e.code(), "X0320");
                }
            }
            read += 1;
        }
    }
    assert_eq!(read, 74);
}

fn now() -> chrono::NaiveDateTime {
    NaiveDate::from_ymd_opt(2026, 11, 29)
        .unwrap()
        .and_hms_milli_opt(10, 11, 12, 345)
        .unwrap()
}

#[test]
fn every_receipt_we_write_satisfies_the_official_xsd() {
    let Some(dir) = corpus().map(|c| c.join("china/ceb")) else {
        return;
    };
    let work = std::env::temp_dir().join(format!("jinguan-ceb-receipts-{}", std::process::id()));
    std::fs::create_dir_all(&work).unwrap();
    let mut written = std::collections::BTreeSet::new();
    for edition in Edition::ALL {
        for path in samples(&dir, edition) {
            let Ok((message, diagnostics)) = ceb::parse(&std::fs::read(&path).unwrap()) else {
                continue;
            };
            let Some(receipt_root) = ceb::receipt_of(&message.root) else {
                continue;
            };
            if !diagnostics.is_empty() {
                continue;
            }
            let mut assigned = Fields::default();
            assigned.set("preNo", "B20261129000000001");
            assigned.set("invtNo", "37002026I000000001");
            let outcome = Outcome {
                status: "120".into(),
                info: "[Code:2100;Desc:海关入库]".into(),
                assigned,
            };
            let entities: Vec<Entity> = message
                .entities
                .iter()
                .map(|e| ceb::receipt_entity(edition, receipt_root, e, &outcome, now()).unwrap())
                .collect();
            let xml = ceb::write(edition, receipt_root, &message.guid, &entities, None)
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let file = work.join(format!("{}-{receipt_root}.xml", folder(edition)));
            std::fs::write(&file, &xml).unwrap();
            let xsd = dir
                .join(folder(edition))
                .join(format!("xsd/ceb_{}_business.xsd", flow(receipt_root)));
            let (ok, complaint) = xmllint(&xsd, &file);
            assert!(ok, "{}: {complaint}\n{xml}", file.display());
            written.insert(receipt_root.to_owned());
        }
    }
    // Every receipt of the catalogue (CEB214 and 216 from the 2022-05 samples alone).
    let expected: std::collections::BTreeSet<String> = ceb::RECEIPT_OF
        .iter()
        .map(|(_, r)| (*r).to_owned())
        .collect();
    assert_eq!(written, expected);
    std::fs::remove_dir_all(&work).unwrap();
}

#[test]
fn a_summary_result_we_write_satisfies_the_official_xsd() {
    let Some(dir) = corpus().map(|c| c.join("china/ceb")) else {
        return;
    };
    // The 2018 edition's sample summary application (CEB701), answered with a result (792)
    // numbering its inventories.
    let sample = dir.join("gacc-2018-113/samples/export/CEB701Message.xml");
    let (apply, diagnostics) = ceb::parse(&std::fs::read(sample).unwrap()).unwrap();
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let head = &apply.entities[0].head;
    let mut result = Fields::default();
    for (field, value) in [
        ("guid", apply.guid.as_str()),
        ("customsCode", head.text("customsCode")),
        ("sumNo", "51322026E000000001"),
        ("opDate", "20261129101112345"),
        ("declSeqNo", "513220261000000001"),
        ("decState", "1"),
        ("agentCode", head.text("agentCode")),
        ("agentName", head.text("agentName")),
        ("ebcCode", head.text("ebcCode")),
        ("ebcName", head.text("ebcName")),
        ("declAgentCode", head.text("declAgentCode")),
        ("declAgentName", head.text("declAgentName")),
        ("grossWeight", "12.5"),
        ("netWeight", "11"),
        ("msgCount", "1"),
        ("msgSeqNo", "1"),
    ] {
        result.set(field, value);
    }
    for edition in Edition::ALL {
        let mut lists = Vec::new();
        for (n, item) in apply.entities[0].lists.iter().enumerate() {
            let mut list = Fields::default();
            list.set("invtNo", item.text("invtNo"));
            list.set("logisticsNo", format!("L{n:08}"));
            // The 2022-05 schema calls the item's sequence gseqno; 2018 has no such field.
            if edition == Edition::Gacc202205 {
                list.set("gseqno", (n + 1).to_string());
            }
            list.set("gnum", "1");
            list.set("gcode", "6109100021");
            lists.push(list);
        }
        let entity = Entity {
            name: "SummaryResult".into(),
            head_name: Some("SummaryResultHead".into()),
            head: result.clone(),
            list_name: Some("SummaryResultList".into()),
            lists,
        };
        let xml = ceb::write(edition, "CEB792Message", &apply.guid, &[entity], None)
            .unwrap_or_else(|e| panic!("{edition:?}: {e}"));
        let file = std::env::temp_dir().join(format!("jinguan-ceb792-{}.xml", std::process::id()));
        std::fs::write(&file, &xml).unwrap();
        let (ok, complaint) = xmllint(
            &dir.join(folder(edition))
                .join("xsd/ceb_export_business.xsd"),
            &file,
        );
        std::fs::remove_file(&file).unwrap();
        assert!(ok, "{edition:?}: {complaint}\n{xml}");
    }
}

/// Byte-level damage to every official sample (truncations, flipped and inserted bytes,
/// swapped spans) never panics the reader or the schema check: each input is a message with
/// diagnostics or a coded refusal.
#[test]
fn damaged_messages_never_panic() {
    let Some(dir) = corpus().map(|c| c.join("china/ceb")) else {
        return;
    };
    let mut state: u64 = 0x5eed_cafe_f00d_0001;
    let mut next = |n: usize| {
        state = state
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        usize::try_from((state >> 33) % n.max(1) as u64).unwrap()
    };
    let (mut refused, mut read) = (0, 0);
    for edition in Edition::ALL {
        for path in samples(&dir, edition) {
            let original = std::fs::read(&path).unwrap();
            for _ in 0..40 {
                let mut bytes = original.clone();
                match next(4) {
                    0 => bytes.truncate(next(bytes.len())),
                    1 => {
                        for _ in 0..1 + next(8) {
                            let at = next(bytes.len());
                            bytes[at] = u8::try_from(next(256)).unwrap();
                        }
                    }
                    2 => {
                        let at = next(bytes.len());
                        let junk: &[u8] =
                            [&b"<"[..], b"&", b"]]>", b"<!--", b"\xff\xfe", b"</ceb:x>"][next(6)];
                        bytes.splice(at..at, junk.iter().copied());
                    }
                    _ => {
                        let a = next(bytes.len());
                        let b = next(bytes.len());
                        let (lo, hi) = (a.min(b), a.max(b));
                        bytes[lo..hi].reverse();
                    }
                }
                match ceb::parse(&bytes) {
                    Ok(_) => read += 1,
                    Err(e) => {
                        assert!(e.code().starts_with('X'), "{e}");
                        refused += 1;
                    }
                }
            }
        }
    }
    assert!(
        refused > 1000 && read > 100,
        "refused {refused}, read {read}"
    );
}

#[test]
fn hostile_xml_is_refused_with_its_code() {
    // Entities: no DTD at all, so neither the billion laughs nor an external entity.
    let laughs = "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"aaaaaaaaaa\"><!ENTITY b \"&a;&a;&a;&a;\">]>\
                  <ceb:CEB311Message xmlns:ceb=\"http://www.chinaport.gov.cn/ceb\">&b;</ceb:CEB311Message>";
    assert_eq!(ceb::parse(laughs.as_bytes()).unwrap_err().code(), "X0003");
    let external = "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>\
                    <ceb:CEB311Message xmlns:ceb=\"http://www.chinaport.gov.cn/ceb\">&e;</ceb:CEB311Message>";
    assert_eq!(ceb::parse(external.as_bytes()).unwrap_err().code(), "X0003");
    // Depth.
    let deep = format!(
        "<ceb:CEB311Message xmlns:ceb=\"http://www.chinaport.gov.cn/ceb\">{}{}</ceb:CEB311Message>",
        "<a>".repeat(10_000),
        "</a>".repeat(10_000)
    );
    assert_eq!(ceb::parse(deep.as_bytes()).unwrap_err().code(), "X0004");
    // Size.
    let huge = format!(
        "<ceb:CEB311Message xmlns:ceb=\"http://www.chinaport.gov.cn/ceb\">{}</ceb:CEB311Message>",
        "x".repeat(9 * 1024 * 1024)
    );
    assert_eq!(ceb::parse(huge.as_bytes()).unwrap_err().code(), "X0002");
    // Not CEB, or CEB's name in another namespace.
    assert_eq!(ceb::parse(b"<DecMessage/>").unwrap_err().code(), "X0320");
    assert_eq!(
        ceb::parse(b"<CEB311Message xmlns=\"urn:other\"/>")
            .unwrap_err()
            .code(),
        "X0320"
    );
}

#[test]
fn the_road_manifests_read_into_the_manifest_model() {
    use jinguan_chinaport::manifest;
    let Some(dir) = corpus().map(|c| c.join("china/manifest")) else {
        return;
    };
    let mut read = 0;
    for group in ["zzaniu-loop_server", "ryanrong95-HXT"] {
        for entry in std::fs::read_dir(dir.join(group)).unwrap() {
            let path = entry.unwrap().path();
            let (m, diagnostics) = manifest::parse(&std::fs::read(&path).unwrap())
                .unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let name = path.display().to_string();
            assert!(diagnostics.is_empty(), "{name}: {diagnostics:?}");
            assert!(
                m.message_type == "MT1401" || m.message_type == "MT2401",
                "{name}"
            );
            assert!(!m.document.1.is_empty(), "{name}");
            assert!(!m.consignments.is_empty(), "{name}");
            assert!(
                m.consignments.iter().all(|c| !c.goods.is_empty()),
                "{name}: {m:?}"
            );
            read += 1;
        }
    }
    assert_eq!(read, 3);
    // The first sample, field by field where it says something.
    let (m, _) =
        manifest::parse(&std::fs::read(dir.join("zzaniu-loop_server/MT1401.xml")).unwrap())
            .unwrap();
    assert_eq!(m.function, "9");
    assert_eq!(m.document, ("MT1401".to_owned(), "ZTDTEST0420".to_owned()));
    assert_eq!(m.conveyance.mode, "3");
    assert_eq!(m.conveyance.carrier, "444444/4");
    assert!(m.places.contains(&("22".to_owned(), "0100".to_owned())));
    assert!(m
        .parties
        .iter()
        .any(|p| p.0 == "AG" && p.1 == "0100111111111"));
    let first = &m.consignments[0];
    assert!(first
        .parties
        .iter()
        .any(|p| p.0 == "CN" && p.2 == "收货人名称"));
    assert_eq!(first.goods[0].seq, "1");
    assert_eq!(first.goods[0].description, "233");
    assert_eq!(first.goods[0].commodity, "2000");
    // Not a manifest, or one of a type not read here.
    assert_eq!(
        manifest::parse(b"<Manifest xmlns=\"urn:Declaration:datamodel:standard:CN:MT9999:1\"><Head><MessageType>MT9999</MessageType></Head></Manifest>")
            .unwrap_err()
            .code(),
        "X0340"
    );
}

const GUID: &str = "9D55BA71-22DE-41F4-8B50-C36C83B3B530";

/// What the schema refuses is not written, nor what XML cannot carry; what is written reads
/// back to what was given.
#[test]
fn write_refuses_what_the_schema_or_xml_refuses() {
    let mut outcome = Outcome {
        status: "800".into(),
        info: "  放行 & <ok>  ".into(),
        assigned: Fields::default(),
    };
    outcome.assigned.set("preNo", "B20261129000000001");
    outcome.assigned.set("invtNo", "37002026I000000001");
    let mut inventory = Entity {
        name: "Inventory".into(),
        ..Entity::default()
    };
    for (name, value) in [
        ("guid", "4CDE1CFD-EDED-46B1-946C-B8022E42FC94"),
        ("customsCode", "3700"),
        ("ebpCode", "1101110325"),
        ("ebcCode", "1101110326"),
        ("agentCode", "1101110326"),
        ("copNo", "C1"),
        ("orderNo", "O1"),
        ("logisticsCode", "1101180326"),
        ("logisticsNo", "L1"),
    ] {
        inventory.head.set(name, value);
    }
    let edition = Edition::Gacc202205;
    let receipt =
        ceb::receipt_entity(edition, "CEB622Message", &inventory, &outcome, now()).unwrap();
    let xml = ceb::write(
        edition,
        "CEB622Message",
        GUID,
        std::slice::from_ref(&receipt),
        None,
    )
    .unwrap();
    let (read, diagnostics) = ceb::parse(xml.as_bytes()).unwrap();
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    assert_eq!(read.entities[0].head.text("returnInfo"), "放行 & <ok>");
    assert_eq!(read.entities[0].head.text("invtNo"), "37002026I000000001");
    // Fields in any order are written in the schema's.
    let mut shuffled = receipt.clone();
    shuffled.head.0.reverse();
    let again = ceb::write(edition, "CEB622Message", GUID, &[shuffled], None).unwrap();
    assert_eq!(again, xml);
    // A field the schema does not declare: written last, and named.
    let mut unknown = receipt.clone();
    unknown.head.0.insert(0, ("notAField".into(), "x".into()));
    let e = ceb::write(edition, "CEB622Message", GUID, &[unknown], None).unwrap_err();
    assert!(e.to_string().contains("notAField"), "{e}");
    // A required field left out: named.
    let mut missing = receipt.clone();
    missing.head.0.retain(|(n, _)| n != "returnStatus");
    let e = ceb::write(edition, "CEB622Message", GUID, &[missing], None).unwrap_err();
    assert!(e.to_string().starts_with("X0321"), "{e}");
    assert!(e.to_string().contains("returnStatus"), "{e}");
    // A control character (which no XML 1.0 document may hold): refused, not written.
    let mut control = receipt;
    control.head.set("returnInfo", "bell \u{7}");
    let e = ceb::write(edition, "CEB622Message", GUID, &[control], None).unwrap_err();
    assert!(e.to_string().contains("U+0007"), "{e}");
}
