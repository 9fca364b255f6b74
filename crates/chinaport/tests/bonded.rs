//! 金关二期 INV101 and SAS121: the shipped schemas are what the official bssp XSDs compile to;
//! official-form messages and mutations of them get `xmllint --schema`'s verdict; the single
//! window client's templates from the corpus, filled in, are accepted, and broken ones are
//! refused with the schema's error; the receipts written satisfy the official INV201 and
//! SAS221 XSDs by xmllint.
//!
//! The XSDs and templates are read in place from `../shared/corpus/china/bonded`;
//! `JINGUAN_REQUIRE_CORPUS=1` makes their absence a failure. `JINGUAN_BLESS=1` rewrites the
//! shipped JSON after an XSD change.

#![allow(clippy::unwrap_used)] // A panic in a test is a test failure with its message.

use std::path::{Path, PathBuf};

use jinguan_chinaport::bonded::{self, Document, Form, Kind, Receipt};
use jinguan_chinaport::xml::{self, Element, Limits};
use jinguan_chinaport::xsd;
use jinguan_testkit::bonded::{
    fill_template, inv101_client, inv101_official, sas121_client, sas121_official, Bonded,
};
use jinguan_testkit::corpus;
use jinguan_testkit::schema::{xmllint, Lcg};

fn bonded_dir() -> Option<PathBuf> {
    corpus().map(|c| c.join("china/bonded"))
}

/// (message type, folder, files it includes).
const SCHEMAS: &[(&str, &str, &[&str])] = &[
    (
        "INV101",
        "EMS",
        &["HDE_W3C_Common.xsd", "Common_ComplexType.xsd"],
    ),
    (
        "INV201",
        "EMS",
        &["HDE_W3C_Common.xsd", "Common_ComplexType.xsd"],
    ),
    ("SAS121", "SAS", &["HDE_W3C_Common.xsd", "base.xsd"]),
    ("SAS221", "SAS", &[]),
];

fn xsd_path(dir: &Path, message_type: &str) -> PathBuf {
    let (_, folder, _) = SCHEMAS.iter().find(|(t, _, _)| *t == message_type).unwrap();
    dir.join("jg2-xsd-bssp")
        .join(folder)
        .join(format!("{message_type}.xsd"))
}

#[test]
fn the_shipped_schemas_are_what_the_official_xsds_compile_to() {
    let Some(dir) = bonded_dir() else {
        return;
    };
    for (message_type, folder, parts) in SCHEMAS {
        let base = dir.join("jg2-xsd-bssp").join(folder);
        let mut files = vec![(
            format!("{message_type}.xsd"),
            std::fs::read(base.join(format!("{message_type}.xsd"))).unwrap(),
        )];
        for part in *parts {
            files.push(((*part).to_owned(), std::fs::read(base.join(part)).unwrap()));
        }
        let borrowed: Vec<(&str, &[u8])> = files
            .iter()
            .map(|(n, b)| (n.as_str(), b.as_slice()))
            .collect();
        let fresh = xsd::compile(&format!("jg2-{message_type}"), &borrowed, |name| {
            name == "Signature" || name == "Package" || name == *message_type
        })
        .unwrap();
        let shipped_path = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../../data/schemas")
            .join(format!("jg2-{message_type}.json"));
        if std::env::var_os("JINGUAN_BLESS").is_some() {
            std::fs::write(&shipped_path, fresh.to_json()).unwrap();
        }
        assert!(
            bonded::schema(message_type).unwrap().to_json() == fresh.to_json(),
            "{} is stale: rerun this test with JINGUAN_BLESS=1",
            shipped_path.display()
        );
    }
}

fn work_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("jinguan-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn official_samples() -> Vec<(Kind, String)> {
    let mut out = Vec::new();
    for (n, items) in [1usize, 3, 20].into_iter().enumerate() {
        let mut b = Bonded::new(&format!("QDINNER{n:04}"), items);
        b.direction = if n % 2 == 0 { 'I' } else { 'E' };
        out.push((Kind::Inv101, inv101_official(&b, n != 1)));
        out.push((Kind::Sas121, sas121_official(&b, "QD292426I000000001")));
    }
    out
}

#[test]
fn official_messages_are_read_and_xmllint_agrees() {
    let Some(dir) = bonded_dir() else {
        return;
    };
    let work = work_dir("bonded-official");
    for (i, (kind, text)) in official_samples().into_iter().enumerate() {
        let (message, diagnostics) = bonded::parse(text.as_bytes()).unwrap();
        assert!(diagnostics.is_empty(), "{kind:?} {i}: {diagnostics:?}");
        assert_eq!(message.kind, kind);
        assert_eq!(message.form, Form::Official);
        assert!(message.declared);
        match &message.document {
            Document::Inventory(inventory) => {
                assert!(inventory.inner_no.starts_with("QDINNER"));
                assert_eq!(inventory.book_no, "T2924W000088");
                assert!(!inventory.items.is_empty());
                assert_eq!(inventory.items[0].hs_code, "8542310000");
                assert_eq!(inventory.items[0].unit_price, Some("12.5".parse().unwrap()));
            }
            Document::Passport(passport) => {
                assert_eq!(passport.related_no, "QD292426I000000001");
                assert_eq!(passport.vehicle_no, "粤B12345");
                assert_eq!(passport.total_weight, Some("12500".parse().unwrap()));
            }
        }
        let file = work.join(format!("{i}.xml"));
        std::fs::write(&file, &text).unwrap();
        let verdict = xmllint(&xsd_path(&dir, kind.message_type()), &[file])[0];
        assert!(verdict, "xmllint refuses official sample {i} ({kind:?})");
    }
    std::fs::remove_dir_all(&work).unwrap();
}

/// Writes an element back as XML, unprefixed (the root keeps its namespace declarations).
fn write(element: &Element, out: &mut String) {
    out.push('<');
    out.push_str(&element.name);
    for (key, value) in &element.attributes {
        out.push_str(&format!(" {key}=\"{}\"", xml::escape(value)));
    }
    out.push('>');
    out.push_str(&xml::escape(&element.text));
    for child in &element.children {
        write(child, out);
    }
    out.push_str(&format!("</{}>", element.name));
}

fn paths(element: &Element, at: &mut Vec<usize>, out: &mut Vec<Vec<usize>>) {
    for (i, child) in element.children.iter().enumerate() {
        at.push(i);
        out.push(at.clone());
        paths(child, at, out);
        at.pop();
    }
}

/// One mutation: an element removed, repeated, swapped with the next, renamed; a value made
/// too long, made letters, given too many digits, emptied; or the namespace dropped.
fn mutate(document: &Element, rng: &mut Lcg) -> (String, Element) {
    let mut copy = document.clone();
    let mut all = Vec::new();
    paths(&copy, &mut Vec::new(), &mut all);
    let path = all[rng.next(all.len())].clone();
    let index = *path.last().unwrap();
    let mut parent = &mut copy;
    for &i in &path[..path.len() - 1] {
        parent = &mut parent.children[i];
    }
    let leaf = parent.children[index].children.is_empty();
    let what = match rng.next(9) {
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
        3 if leaf => {
            let target = &mut parent.children[index];
            target.text = "9"
                .repeat(target.text.chars().count() + 1 + rng.next(30))
                .into();
            "lengthen"
        }
        4 if leaf => {
            parent.children[index].text = "12a".into();
            "letters"
        }
        5 => {
            parent.children[index].name = "notInTheSchema".into();
            "rename"
        }
        6 if leaf => {
            let digits = rng.next(30);
            parent.children[index].text =
                format!("{}.{}", "1".repeat(digits), "5".repeat(rng.next(8))).into();
            "digits"
        }
        7 if leaf => {
            parent.children[index].text.clear();
            "empty"
        }
        8 => {
            copy.attributes.retain(|(k, _)| k != "xmlns");
            "no namespace"
        }
        _ => "none",
    };
    (what.to_owned(), copy)
}

#[test]
fn mutated_official_messages_get_xmllints_verdict() {
    let Some(dir) = bonded_dir() else {
        return;
    };
    let work = work_dir("bonded-mutants");
    let mut rng = Lcg(0x6a67_325f_696e_7631);
    let (mut valid, mut invalid) = (0, 0);
    for kind in Kind::ALL {
        let mut files = Vec::new();
        let mut ours = Vec::new();
        let mut labels = Vec::new();
        for (n, (sample_kind, text)) in official_samples().into_iter().enumerate() {
            if sample_kind != kind {
                continue;
            }
            let document = xml::parse(text.as_bytes(), Limits::default()).unwrap();
            for m in 0..60 {
                let (what, mutant) = mutate(&document, &mut rng);
                let mut text = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
                write(&mutant, &mut text);
                let file = work.join(format!("{}-{n}-{m}.xml", kind.message_type()));
                std::fs::write(&file, &text).unwrap();
                let reread = xml::parse(text.as_bytes(), Limits::default()).unwrap();
                let schema = bonded::schema(kind.message_type()).unwrap();
                // The official schema's verdict alone (the business checks come after it).
                let namespace_ok = match kind.namespace() {
                    "" => reread.attribute("xmlns").is_none(),
                    ns => reread.attribute("xmlns") == Some(ns),
                };
                let verdict = namespace_ok && schema.validate(&reread).is_empty();
                ours.push(verdict);
                labels.push(format!("{} ({what})", file.display()));
                files.push(file);
            }
        }
        let theirs = xmllint(&xsd_path(&dir, kind.message_type()), &files);
        for ((label, ours), theirs) in labels.iter().zip(&ours).zip(theirs) {
            assert_eq!(
                *ours, theirs,
                "{label}: xmllint says {theirs}, we say {ours}"
            );
            if theirs {
                valid += 1;
            } else {
                invalid += 1;
            }
        }
    }
    std::fs::remove_dir_all(&work).unwrap();
    println!("bonded mutants: {valid} valid and {invalid} invalid, each as xmllint says");
    assert!(invalid > 150, "{invalid}");
    assert!(valid > 10, "{valid}");
}

/// A schema error in an official message comes back from `parse` with the schema's code.
#[test]
fn a_broken_official_message_is_refused_with_the_schema_error() {
    let b = Bonded::new("QDBROKEN0001", 2);
    let good = inv101_official(&b, true);
    let broken = good.replacen("<dclQty>20</dclQty>", "<dclQty>twenty</dclQty>", 1);
    assert_ne!(good, broken);
    let (_, diagnostics) = bonded::parse(broken.as_bytes()).unwrap();
    assert_eq!(diagnostics.len(), 1, "{diagnostics:?}");
    assert_eq!(diagnostics[0].code, "X0315");
    assert!(
        diagnostics[0].path.ends_with("BondInvtDt[2]/dclQty"),
        "{}",
        diagnostics[0].path
    );
    // Out of its namespace, an official INV101 is no message of the schema (as xmllint says:
    // no matching global declaration).
    let stray = good.replacen(&format!(" xmlns=\"{}\"", bonded::DSIG_NAMESPACE), "", 1);
    let (_, diagnostics) = bonded::parse(stray.as_bytes()).unwrap();
    assert_eq!(diagnostics[0].code, "X0310", "{diagnostics:?}");
}

fn template(dir: &Path, name: &str) -> String {
    std::fs::read_to_string(dir.join("zzaniu-loop_server").join(name)).unwrap()
}

const INV_TEMPLATES: [&str; 4] = [
    "INV101_goldtwo_newsinvt_template.xml",
    "INV101_special_newsinvt_template.xml",
    "INV101_tainvt_template.xml",
    "INV101_tminvt_template.xml",
];

/// What a broker's staff would type into an INV101 template.
const INV_VALUES: &[(&str, &str)] = &[
    ("EtpsInnerInvtNo", "NB20261129001"),
    ("PutrecNo", "T2924W000088"),
    ("BizopEtpsSccd", "91440300581559207K"),
    ("BizopEtpsno", "4403W60001"),
    ("BizopEtpsNm", "深圳市倍通供应链服务有限公司"),
    ("DclEtpsSccd", "91440300796611420W"),
    ("DclEtpsno", "4403180896"),
    ("DclEtpsNm", "深圳倍通物流科技有限公司"),
    ("ImpexpPortcd", "5349"),
    ("DclPlcCuscd", "5349"),
    ("ImpexpMarkcd", "I"),
    ("MtpckEndprdMarkcd", "I"),
    ("SupvModecd", "5034"),
    ("TrspModecd", "9"),
    ("DclcusFlag", "2"),
    ("StshipTrsarvNatcd", "142"),
    ("GdsSeqno", "1"),
    ("PutrecSeqno", "12"),
    ("GdsMtno", "A-100"),
    ("Gdecd", "8471300000"),
    ("GdsNm", "笔记本电脑"),
    ("GdsSpcfModelDesc", "0|0|便携式"),
    ("DclUnitcd", "001"),
    ("LawfUnitcd", "001"),
    ("Natcd", "502"),
    ("DclUprcAmt", "450.00"),
    ("DclTotalAmt", "4500.00"),
    ("DclCurrcd", "502"),
    ("LawfQty", "10"),
    ("DclQty", "10"),
];

#[test]
fn the_clients_templates_filled_in_are_accepted_and_empty_ones_refused() {
    let Some(dir) = bonded_dir() else {
        return;
    };
    for name in INV_TEMPLATES {
        let raw = template(&dir, name);
        // As downloaded (every business field blank): refused, naming what is missing.
        let (_, diagnostics) = bonded::parse(raw.as_bytes()).unwrap();
        assert!(
            diagnostics.iter().any(|d| d.code == "X0352"
                && d.path.ends_with("InvtHeadType/PutrecNo")
                && d.message.contains("备案编号")),
            "{name}: {diagnostics:?}"
        );
        let filled = fill_template(&raw, INV_VALUES).replacen(
            "<DelcareFlag>0</DelcareFlag>",
            "<DelcareFlag>1</DelcareFlag>",
            1,
        );
        let (message, diagnostics) = bonded::parse(filled.as_bytes()).unwrap();
        assert!(diagnostics.is_empty(), "{name}: {diagnostics:?}");
        assert_eq!(message.form, Form::Client);
        assert!(message.declared);
        assert!(message.enveloped);
        assert_eq!(message.envelope.ic_card, "8910001071201");
        assert_eq!(message.envelope.sender_id, "DXPENT0000016069");
        assert!(
            message.extra.get("SysId").is_some(),
            "{name}: {:?}",
            message.extra
        );
        let Document::Inventory(inventory) = &message.document else {
            panic!("{name}: not an inventory");
        };
        assert_eq!(inventory.inner_no, "NB20261129001");
        assert_eq!(inventory.receiver.code, "4403W60001");
        assert_eq!(inventory.items.len(), 1);
        assert_eq!(inventory.items[0].book_seq, Some(12));
        assert_eq!(inventory.items[0].total, Some("4500.00".parse().unwrap()));
        // What the client form leaves blank is not recorded as a value.
        assert_eq!(message.head.get("bondInvtNo"), None);
        assert_eq!(message.head.get("putrecNo"), Some("T2924W000088"));

        // A broken one: the official field's facets apply under the client's name.
        let broken = fill_template(&raw, INV_VALUES).replacen(
            "<DclQty>10</DclQty>",
            "<DclQty>1O</DclQty>",
            1,
        );
        let (_, diagnostics) = bonded::parse(broken.as_bytes()).unwrap();
        assert_eq!(diagnostics.len(), 1, "{name}: {diagnostics:?}");
        assert_eq!(diagnostics[0].code, "X0315");
        assert!(
            diagnostics[0].path.ends_with("InvtListType[1]/DclQty"),
            "{}",
            diagnostics[0].path
        );
        let long = fill_template(&raw, INV_VALUES).replacen(
            "<BizopEtpsno>4403W60001</BizopEtpsno>",
            "<BizopEtpsno>4403W600012</BizopEtpsno>",
            1,
        );
        let (_, diagnostics) = bonded::parse(long.as_bytes()).unwrap();
        assert_eq!(diagnostics[0].code, "X0314", "{diagnostics:?}");
        let stranger =
            fill_template(&raw, INV_VALUES).replacen("<Rmk/>", "<Rmk/><NotAField>1</NotAField>", 1);
        let (_, diagnostics) = bonded::parse(stranger.as_bytes()).unwrap();
        assert_eq!(diagnostics[0].code, "X0355", "{diagnostics:?}");
    }
    let raw = template(&dir, "SAS121_passport_template.xml");
    let filled = fill_template(
        &raw,
        &[
            ("PassportTypecd", "2"),
            ("MasterCuscd", "5349"),
            ("DclTypecd", "1"),
            ("IoTypecd", "I"),
            ("BindTypecd", "2"),
            ("RltTbTypecd", "1"),
            ("RltNo", "QD534926I000000001"),
            ("AreainEtpsno", "4403W60001"),
            ("AreainEtpsNm", "深圳市倍通供应链服务有限公司"),
            ("AreainEtpsSccd", "91440300581559207K"),
            ("VehicleNo", "粤B12345"),
            ("VehicleWt", "8000"),
            ("TotalWt", "12500.5"),
            ("RtlBillTypecd", "1"),
            ("RtlBillNo", "QD534926I000000001"),
        ],
    );
    let (message, diagnostics) = bonded::parse(filled.as_bytes()).unwrap();
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    assert!(!message.declared, "the template's DelcareFlag is 0 (暂存)");
    let Document::Passport(passport) = &message.document else {
        panic!("not a passport");
    };
    assert_eq!(passport.pre_entry_no, "TESTSAS121000001");
    assert_eq!(passport.declarant.code, "4403180896");
    assert_eq!(passport.total_weight, Some("12500.5".parse().unwrap()));
    assert_eq!(
        passport.related,
        vec![("1".to_owned(), "QD534926I000000001".to_owned())]
    );
    let (_, diagnostics) = bonded::parse(raw.as_bytes()).unwrap();
    assert!(
        diagnostics
            .iter()
            .any(|d| d.code == "X0352" && d.path.ends_with("PassportHead/VehicleNo")),
        "{diagnostics:?}"
    );
    let weight = filled.replacen("<TotalWt>12500.5</TotalWt>", "<TotalWt>heavy</TotalWt>", 1);
    let (_, diagnostics) = bonded::parse(weight.as_bytes()).unwrap();
    assert_eq!(diagnostics[0].code, "X0315", "{diagnostics:?}");
}

#[test]
fn the_generated_client_messages_read_like_the_official_ones() {
    let mut b = Bonded::new("NB0001", 3);
    let official = bonded::parse(inv101_official(&b, true).as_bytes()).unwrap();
    let client = bonded::parse(inv101_client(&b).as_bytes()).unwrap();
    assert!(official.1.is_empty(), "{:?}", official.1);
    assert!(client.1.is_empty(), "{:?}", client.1);
    assert_eq!(official.0.document, client.0.document);
    b.declare = false;
    let passport = bonded::parse(sas121_client(&b, "QD1").as_bytes()).unwrap();
    assert!(passport.1.is_empty(), "{:?}", passport.1);
    assert!(!passport.0.declared);
    // Items out of order and an I/E mark that is neither.
    let text = inv101_client(&Bonded::new("NB0002", 2))
        .replacen("<GdsSeqno>2</GdsSeqno>", "<GdsSeqno>3</GdsSeqno>", 1)
        .replacen(
            "<ImpexpMarkcd>I</ImpexpMarkcd>",
            "<ImpexpMarkcd>X</ImpexpMarkcd>",
            1,
        );
    let (_, diagnostics) = bonded::parse(text.as_bytes()).unwrap();
    let found: Vec<&str> = diagnostics.iter().map(|d| d.code.as_str()).collect();
    assert_eq!(found, ["X0353", "X0354"], "{diagnostics:?}");
}

#[test]
fn receipts_satisfy_the_official_xsds_by_xmllint() {
    let Some(dir) = bonded_dir() else {
        return;
    };
    let work = work_dir("bonded-receipts");
    let now = chrono::NaiveDate::from_ymd_opt(2026, 11, 29)
        .unwrap()
        .and_hms_opt(10, 30, 0)
        .unwrap();
    let b = Bonded::new("NB0003", 2);
    let mut inv_files = Vec::new();
    let mut sas_files = Vec::new();
    for (i, text) in [
        inv101_official(&b, true),
        inv101_client(&b),
        sas121_official(&b, "QD1"),
        sas121_client(&b, "QD1"),
    ]
    .iter()
    .enumerate()
    {
        let (message, _) = bonded::parse(text.as_bytes()).unwrap();
        for (j, receipt) in [
            Receipt {
                message_id: format!("R{i}"),
                sender_id: "DXPEDCEMS0000001".into(),
                business_id: "QD292426I000000007".into(),
                manage_result: "Y".into(),
                typecd: "1".into(),
                rmk: "入库".into(),
                notes: Vec::new(),
            },
            Receipt {
                message_id: format!("R{i}-refused"),
                sender_id: "DXPEDCEMS0000001".into(),
                business_id: String::new(),
                manage_result: "3".into(),
                typecd: "1".into(),
                rmk: "退单".into(),
                notes: vec![
                    "[X0315] BondInvtDt[1]/dclQty: \"x\" is not a decimal number".into(),
                    "[X0352] PutrecNo is required & <needed>".into(),
                ],
            },
        ]
        .iter()
        .enumerate()
        {
            let written = bonded::write_receipt(&message, receipt, now).unwrap();
            let (reread, _) = (
                xml::parse(written.as_bytes(), Limits::default()).unwrap(),
                (),
            );
            assert_eq!(reread.name, "Package");
            let file = work.join(format!("{i}-{j}.xml"));
            match message.kind {
                Kind::Inv101 => {
                    std::fs::write(&file, &written).unwrap();
                    inv_files.push(file);
                }
                Kind::Sas121 => {
                    // The SAS221 element is what SAS221.xsd declares; the envelope around
                    // it is the SAS family's, checked when written.
                    let start = written.find("<SAS221").unwrap();
                    let end = written.find("</SAS221>").unwrap() + "</SAS221>".len();
                    std::fs::write(&file, &written[start..end]).unwrap();
                    sas_files.push(file);
                }
            }
        }
    }
    for (message_type, files) in [("INV201", &inv_files), ("SAS221", &sas_files)] {
        let verdicts = xmllint(&xsd_path(&dir, message_type), files);
        assert!(
            verdicts.iter().all(|v| *v),
            "{message_type}: xmllint refuses {verdicts:?}"
        );
    }
    println!(
        "bonded receipts: {} INV201 and {} SAS221 valid by xmllint",
        inv_files.len(),
        sas_files.len()
    );
    std::fs::remove_dir_all(&work).unwrap();
}

/// Damaged messages (bytes flipped, cut, repeated) never panic the reader.
#[test]
fn damaged_messages_never_panic() {
    let mut rng = Lcg(0x0062_6f6e_6465_6421);
    let b = Bonded::new("NB0004", 3);
    let samples = [
        inv101_official(&b, true),
        inv101_client(&b),
        sas121_official(&b, "QD1"),
        sas121_client(&b, "QD1"),
    ];
    let mut read = 0;
    for sample in &samples {
        let bytes = sample.as_bytes();
        for _ in 0..400 {
            let mut damaged = bytes.to_vec();
            match rng.next(3) {
                0 => {
                    for _ in 0..1 + rng.next(8) {
                        let at = rng.next(damaged.len());
                        damaged[at] = u8::try_from(rng.next(256)).unwrap();
                    }
                }
                1 => damaged.truncate(rng.next(damaged.len())),
                _ => {
                    let at = rng.next(damaged.len());
                    let chunk = damaged[at..(at + 40).min(damaged.len())].to_vec();
                    damaged.splice(at..at, chunk);
                }
            }
            if bonded::parse(&damaged).is_ok() {
                read += 1;
            }
        }
    }
    // Most damage breaks well-formedness; some must reach the schema and business checks.
    assert!(read > 10, "{read}");
}
