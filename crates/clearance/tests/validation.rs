//! Validation: generated declarations pass, and each rule is broken once, alone, by changing
//! one thing in a declaration that passed, and must be reported with its code and path.

#![allow(clippy::unwrap_used)] // A panic in a test is a test failure with its message.

use std::sync::OnceLock;

use jinguan_clearance::validation::{is_valid, validate};
use jinguan_refdata::RefData;
use jinguan_testkit::{GenOptions, Generator};
use jinguan_types::declaration::{AttachedDocument, Declaration};
use jinguan_types::{Diagnostic, IeFlag, Severity};
use rust_decimal::Decimal;

fn refdata() -> &'static RefData {
    static DATA: OnceLock<RefData> = OnceLock::new();
    DATA.get_or_init(|| RefData::load().unwrap())
}

fn generator() -> &'static Generator {
    static GENERATOR: OnceLock<Generator> = OnceLock::new();
    GENERATOR.get_or_init(|| {
        Generator::new(
            refdata(),
            GenOptions {
                count: 200,
                seed: 7,
                enterprises: 200,
            },
        )
        .unwrap()
    })
}

fn errors(findings: &[Diagnostic]) -> Vec<String> {
    findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .map(|f| format!("{} {} {}", f.code, f.path, f.message))
        .collect()
}

/// A generated declaration that passes, with at least two items, of the direction asked and
/// none of whose lines needs a licence (so no document is attached that a test's change
/// could rely on).
fn valid(direction: IeFlag) -> Declaration {
    for i in 0..200 {
        let mut d = generator().declaration(i);
        if d.head.ie_flag != Some(direction) || d.items.len() < 2 || !d.documents.is_empty() {
            continue;
        }
        let findings = validate(&mut d, refdata());
        if is_valid(&findings) {
            return d;
        }
    }
    panic!("no valid generated declaration");
}

/// Breaks a valid declaration and checks the finding.
fn broken(direction: IeFlag, code: &str, path: &str, change: impl FnOnce(&mut Declaration)) {
    let mut d = valid(direction);
    change(&mut d);
    let findings = validate(&mut d, refdata());
    assert!(
        findings
            .iter()
            .any(|f| f.severity == Severity::Error && f.code == code && f.path == path),
        "expected {code} at {path}, got {:#?}",
        errors(&findings)
    );
    assert!(!is_valid(&findings));
}

#[test]
fn generated_declarations_pass() {
    let mut with_licences = 0;
    let mut failures = Vec::new();
    for i in 0..200 {
        let mut d = generator().declaration(i);
        with_licences += usize::from(!d.documents.is_empty());
        let findings = validate(&mut d, refdata());
        if !is_valid(&findings) {
            failures.push((i, errors(&findings)));
        }
    }
    // The generator makes no deliberate mistakes: it attaches the licences the lines need
    // (V0209), draws no goods prohibited for the direction (V0210) and names the manual or
    // account book the trade mode draws on (V0110). So every declaration passes, among them
    // many whose goods need a licence.
    assert!(failures.is_empty(), "{failures:#?}");
    assert!(
        with_licences >= 20,
        "only {with_licences} of 200 need a licence"
    );
}

#[test]
fn head_rules() {
    use IeFlag::Import;
    broken(Import, "V0101", "DecHead/IEFlag", |d| d.head.ie_flag = None);
    broken(Import, "V0102", "DecHead/DDate", |d| {
        d.head.declaration_date = None
    });
    broken(Import, "V0103", "DecList", |d| d.items.clear());
    broken(Import, "V0104", "DecList", |d| {
        let item = d.items[0].clone();
        d.items = (1..=51)
            .map(|n| {
                let mut item = item.clone();
                item.seq = Some(n);
                item
            })
            .collect();
    });
    broken(Import, "V0105", "DecList[2]/GNo", |d| {
        d.items[1].seq = Some(7)
    });
    broken(Import, "V0106", "DecHead/NetWt", |d| {
        d.head.gross_weight_kg = Some(Decimal::from(10));
        d.head.net_weight_kg = Some(Decimal::from(11));
    });
    broken(Import, "V0107", "DecHead/PackNo", |d| {
        d.head.packages = Some(0)
    });
    broken(Import, "V0108", "DecHead/TransMode", |d| {
        d.head.transaction_terms = None
    });
    broken(Import, "V0109", "DecHead/TradeMode", |d| {
        d.head.trade_mode = None
    });
    broken(Import, "V0110", "DecHead/ManualNo", |d| {
        d.head.trade_mode = Some("0615".into());
        d.head.levy_nature = Some("503".into());
        d.head.filing_no = None;
    });
    broken(Import, "V0111", "DecHead/CutMode", |d| {
        d.head.trade_mode = Some("0214".into());
        d.head.filing_no = Some("C53001234567".into());
        d.head.levy_nature = Some("101".into());
    });
    broken(Import, "V0112", "DecHead/TradeCode", |d| {
        d.head.consignee.customs_code = None;
        d.head.consignee.uscc = None;
    });
    broken(Import, "V0113", "DecHead/CustomMaster", |d| {
        d.head.declaring_customs = Some("53".into())
    });
    broken(Import, "V0114", "DecHead/IEDate", |d| {
        d.head.despatch_date = Some("2026-10-05".parse().unwrap());
        d.head.ie_date = Some("2026-10-01".parse().unwrap());
    });
    broken(Import, "V0115", "DecHead/TradeCountry", |d| {
        d.head.trade_mode = Some("0110".into());
        d.head.trade_country = Some("CHN".into());
    });
    broken(Import, "V0116", "DecHead/NoteS", |d| {
        d.head.notes = Some("bell\u{7}".into())
    });
    broken(Import, "V0117", "DecHead/EntryId", |d| {
        d.head.entry_id = Some("530020260000000001".into())
    });
    broken(Import, "V0211", "DecHead/NoteS", |d| {
        d.head.notes = Some("备".repeat(256))
    });
}

#[test]
fn item_rules() {
    use IeFlag::{Export, Import};
    broken(Import, "V0201", "DecList[1]/CodeTS", |d| {
        d.items[0].hs_code = None
    });
    broken(Import, "V0201", "DecList[1]/CodeTS", |d| {
        // A valid heading, but not a 10-digit line of the tariff.
        d.items[0].hs_code = Some("8517130099".into())
    });
    broken(Import, "V0202", "DecList[1]/GName", |d| {
        d.items[0].name = None
    });
    broken(Import, "V0203", "DecList[1]/DeclTotal", |d| {
        let item = &mut d.items[0];
        item.declared_qty = Some(Decimal::from(10));
        item.unit_price = Some(Decimal::from(100));
        item.total_price = Some(Decimal::from(1200));
    });
    broken(Import, "V0204", "DecList[2]/DeclTotal", |d| {
        d.items[1].total_price = Some(Decimal::ZERO)
    });
    broken(Import, "V0205", "DecList[1]/TradeCurr", |d| {
        d.items[0].currency = None
    });
    broken(Import, "V0206", "DecList[1]/OriginCountry", |d| {
        d.items[0].origin_country = None
    });
    broken(Export, "V0206", "DecList[1]/DestinationCountry", |d| {
        d.items[0].destination_country = None
    });
    broken(Import, "V0207", "DecList[1]/FirstQty", |d| {
        d.items[0].legal_qty_1 = None
    });
    broken(Import, "V0207", "DecList[1]/FirstQty", |d| {
        // Litres where the line wants its own first unit.
        d.items[0].legal_unit_1 = Some("095".into());
        d.items[0].hs_code = Some("8517130000".into());
    });
    broken(Import, "V0208", "DecList[1]/SecondQty", |d| {
        // Smartphones: 台 (001) and 千克 (035); no second quantity given.
        let item = &mut d.items[0];
        item.hs_code = Some("8517130000".into());
        item.legal_unit_1 = Some("001".into());
        item.legal_qty_1 = Some(Decimal::ONE);
        item.legal_qty_2 = None;
    });
    broken(Import, "V0211", "DecList[1]/GName", |d| {
        d.items[0].name = Some("货".repeat(256))
    });
}

#[test]
fn licences_and_prohibitions() {
    // 0101290010 non-breeding endangered wild horses: conditions AFEB — F (endangered species
    // import certificate) on import, E on export; A and B are inspection only.
    let horse = |d: &mut Declaration| {
        let item = &mut d.items[0];
        item.hs_code = Some("0101290010".into());
        item.legal_unit_1 = Some("035".into());
        item.legal_qty_1 = Some(Decimal::from(400));
        item.legal_unit_2 = Some("006".into());
        item.legal_qty_2 = Some(Decimal::ONE);
    };
    broken(IeFlag::Import, "V0209", "DecList[1]/CodeTS", horse);
    // With the certificate attached, the item passes.
    let mut d = valid(IeFlag::Import);
    horse(&mut d);
    d.documents.push(AttachedDocument {
        code: Some("F".into()),
        number: Some("2026CN0001".into()),
        ..Default::default()
    });
    let findings = validate(&mut d, refdata());
    assert!(
        !findings.iter().any(|f| f.code == "V0209"),
        "{:#?}",
        errors(&findings)
    );
    // On export the horse needs E, not F.
    broken(IeFlag::Export, "V0209", "DecList[1]/CodeTS", |d| {
        horse(d);
        d.documents.push(AttachedDocument {
            code: Some("F".into()),
            ..Default::default()
        });
    });
}

#[test]
fn prohibited_goods_and_used_machinery() {
    // A line whose only condition is `what`, with its first legal unit (kilograms).
    let line = |code: &'static str| {
        move |d: &mut Declaration| {
            let item = &mut d.items[0];
            item.hs_code = Some(code.into());
            item.legal_unit_1 = Some("035".into());
            item.legal_qty_1 = Some(Decimal::from(100));
            item.legal_unit_2 = None;
            item.legal_qty_2 = None;
        }
    };
    // 0501000000 unworked human hair: conditions 9B, import prohibited (禁止进口).
    broken(
        IeFlag::Import,
        "V0210",
        "DecList[1]/CodeTS",
        line("0501000000"),
    );
    // 7011201000 glass envelopes for cathode-ray tubes: condition 6 (旧机电产品禁止进口)
    // bans used goods only. New ones pass; declared used (goods attribute 21, 旧品) they
    // are refused.
    let mut d = valid(IeFlag::Import);
    line("7011201000")(&mut d);
    d.items[0].goods_attributes = Some("19".into());
    let findings = validate(&mut d, refdata());
    assert!(
        !findings.iter().any(|f| f.code == "V0210"),
        "{:#?}",
        errors(&findings)
    );
    broken(IeFlag::Import, "V0210", "DecList[1]/CodeTS", |d| {
        line("7011201000")(d);
        d.items[0].goods_attributes = Some("19,21".into());
    });
}

#[test]
fn every_finding_is_reported_at_once() {
    let mut d = valid(IeFlag::Import);
    d.head.trade_mode = None;
    d.head.packages = None;
    d.items[0].currency = None;
    d.items[1].name = None;
    let findings = validate(&mut d, refdata());
    let codes: Vec<&str> = findings.iter().map(|f| f.code.as_str()).collect();
    for code in ["V0109", "V0107", "V0205", "V0202"] {
        assert!(codes.contains(&code), "{code} missing from {codes:?}");
    }
}

#[test]
fn container_rules() {
    use jinguan_clearance::validation::iso6346;
    use jinguan_types::declaration::Container;
    // The standard's own example: CSQU305438, check digit 3.
    assert!(iso6346("CSQU3054383"));
    assert!(!iso6346("CSQU3054384"));
    assert!(!iso6346("CSQ3054383"));
    assert!(!iso6346("CSQX3054383"));
    let container = |number: &str, items: &str, lcl: &str| Container {
        container_no: Some(number.into()),
        goods_items: Some(items.into()),
        lcl_flag: Some(lcl.into()),
        ..Default::default()
    };
    broken(IeFlag::Import, "V0301", "Container[1]/ContainerId", |d| {
        d.containers = vec![container("CSQU3054384", "1", "0")]
    });
    broken(IeFlag::Import, "V0302", "Container[1]/GoodsNo", |d| {
        d.containers = vec![container("CSQU3054383", "1,99", "0")]
    });
    broken(IeFlag::Import, "V0303", "Container[1]/LclFlag", |d| {
        d.containers = vec![container("CSQU3054383", "1", "Y")]
    });
}
