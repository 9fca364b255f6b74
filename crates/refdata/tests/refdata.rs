//! Reference data loaded from the shipped files: table sizes, mappings, the tariff.

#![allow(clippy::unwrap_used)] // A panic in a test is a test failure with its message.

use std::str::FromStr;
use std::sync::OnceLock;

use jinguan_refdata::rate::RateExpr;
use jinguan_refdata::tariff::Parsed;
use jinguan_refdata::RefData;
use jinguan_types::HsCode;
use rust_decimal::Decimal;

fn data() -> &'static RefData {
    static DATA: OnceLock<RefData> = OnceLock::new();
    DATA.get_or_init(|| RefData::load().expect("shipped data loads"))
}

#[test]
fn gacc_2018_tables_have_their_published_sizes() {
    for (name, rows) in [
        ("country", 265),
        ("currency", 22),
        ("transport-mode", 18),
        ("trade-mode", 98),
        ("unit", 123),
        ("package", 13),
        ("container", 8),
        ("port", 4334),
        ("levy-nature", 45),
        ("duty-mode", 9),
        ("transaction-terms", 7),
        ("licence-document", 52),
    ] {
        let table = data()
            .table(name)
            .unwrap_or_else(|| panic!("{name} missing"));
        assert_eq!(table.len(), rows, "{name}");
        assert!(!table.meta.edition.is_empty());
    }
}

#[test]
fn every_table_carries_edition_and_validity() {
    let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 27).unwrap();
    for table in &data().tables {
        assert!(
            table.meta.is_valid_on(day),
            "{} not valid today",
            table.meta.name
        );
    }
    assert_eq!(data().is_valid_on("tariff", day), Some(true));
    let next_year = chrono::NaiveDate::from_ymd_opt(2027, 1, 1).unwrap();
    assert_eq!(
        data().is_valid_on("tariff", next_year),
        Some(false),
        "the 2026 tariff ends with 2026"
    );
    let before = chrono::NaiveDate::from_ymd_opt(2018, 7, 31).unwrap();
    assert_eq!(data().is_valid_on("country", before), Some(false));
}

#[test]
fn country_legacy_codes_map_both_ways() {
    let d = data();
    for (iso, legacy) in [
        ("CHN", "142"),
        ("USA", "502"),
        ("HKG", "110"),
        ("JPN", "116"),
        ("DEU", "304"),
        ("CHE", "331"),
    ] {
        assert_eq!(d.country_to_legacy(iso), Some(legacy), "{iso}");
        let mapping = d.country_from_legacy(legacy).unwrap();
        assert_eq!(mapping.iso.as_str(), iso, "{legacy}");
        assert!(mapping.also.is_empty());
    }
    // Shared legacy codes resolve by the documented preference and report the others.
    let unknown = d.country_from_legacy("701").unwrap();
    assert_eq!(unknown.iso.as_str(), "ZZZ");
    assert_eq!(unknown.also, vec!["ATA".to_owned()]);
    assert_eq!(d.country_from_legacy("326").unwrap().iso.as_str(), "NOR");
    assert!(d.country_from_legacy("000").is_none());
    assert!(
        d.country_from_legacy("299").is_none(),
        "Africa other must not become South Africa"
    );
    assert_eq!(d.country_from_legacy("244").unwrap().iso.as_str(), "ZAF");
    // Every legacy code maps back to a row carrying that legacy code.
    let table = d.table("country").unwrap();
    for entry in &table.entries {
        // The GACC 2018 table gives "Africa other" (299) the code ZAF, already South Africa's.
        if table.get(&entry.code) != Some(entry) {
            assert_eq!(entry.code, "ZAF");
            continue;
        }
        let legacy = entry.legacy_customs_code.as_deref().unwrap();
        let Some(mapped) = d.country_from_legacy(legacy) else {
            assert_eq!(legacy, "299", "only Africa other lacks a mapping");
            continue;
        };
        assert_eq!(
            d.country(mapped.iso.as_str())
                .unwrap()
                .legacy_customs_code
                .as_deref(),
            Some(legacy)
        );
    }
}

#[test]
fn currency_legacy_codes_map_both_ways() {
    let d = data();
    for (iso, legacy) in [
        ("CNY", "142"),
        ("USD", "502"),
        ("EUR", "300"),
        ("HKD", "110"),
        ("JPY", "116"),
    ] {
        assert_eq!(d.currency_to_legacy(iso), Some(legacy));
        assert_eq!(d.currency_from_legacy(legacy).unwrap().as_str(), iso);
    }
    assert!(d.currency_from_legacy("999").is_none());
    assert!(d.currency("XXX").is_none());
}

#[test]
fn licence_codes_are_case_sensitive() {
    let table = data().table("licence-document").unwrap();
    assert_eq!(
        table.get("A").unwrap().name_zh,
        "检验检疫（原入境货物通关单）"
    );
    assert_eq!(table.get("a").unwrap().name_zh, "保税核注清单");
    assert!(table.get("W").is_none());
}

#[test]
fn hs_nomenclature_levels() {
    let hs = &data().hs;
    assert_eq!(hs.sections.len(), 21);
    assert_eq!(
        hs.count(jinguan_refdata::hs::HsLevel::Chapter),
        96,
        "01-97 without reserved 77"
    );
    assert!(hs.count(jinguan_refdata::hs::HsLevel::Subheading) > 5_600);
    assert_eq!(hs.get("2203").unwrap().description, "Beer made from malt");
    for new_heading in ["2404", "3827", "8485", "8524", "8549"] {
        assert!(
            hs.get(new_heading).is_some(),
            "HS 2022 heading {new_heading}"
        );
    }
}

#[test]
fn tariff_has_every_line_and_no_unexplained_rate() {
    let tariff = &data().tariff;
    assert_eq!(tariff.lines.len(), 12_030);
    let stats = tariff.stats();
    for column in &stats.columns {
        assert!(
            column.failures.is_empty(),
            "{}: {:?}",
            column.column,
            column.failures
        );
        assert!(
            column.blank_unexplained.is_empty(),
            "{}: {:?}",
            column.column,
            column.blank_unexplained
        );
    }
    assert_eq!(stats.unexplained, 0);
    let mfn = stats
        .columns
        .iter()
        .find(|c| c.column == "mfn_rate")
        .unwrap();
    assert_eq!(mfn.kinds.get("specific"), Some(&39));
    assert_eq!(mfn.kinds.get("thresholded"), Some(&1));
    assert_eq!(mfn.kinds.get("ad_valorem"), Some(&11_989));
    let rebate = stats
        .columns
        .iter()
        .find(|c| c.column == "export_rebate_rate")
        .unwrap();
    assert_eq!(rebate.kinds.get("alternatives"), Some(&464));
    // Every line's HS 6 exists in the nomenclature, except chapter 98 (national lines).
    for line in &tariff.lines {
        if line.code.chapter() != 98 {
            assert!(
                data().hs.get(line.code.subheading().as_str()).is_some(),
                "{}",
                line.code
            );
        }
    }
}

#[test]
fn beer_rates() {
    let d = |s: &str| Decimal::from_str(s).unwrap();
    let beer = data()
        .tariff
        .get(&HsCode::parse("2203000000").unwrap())
        .unwrap();
    assert_eq!(beer.unit1.code.as_str(), "095");
    assert_eq!(beer.unit2.as_ref().unwrap().code.as_str(), "035");
    let RateExpr::Specific(mfn) = beer.mfn.as_ref().unwrap().expr().unwrap() else {
        panic!("MFN")
    };
    assert_eq!(
        (mfn.amount, mfn.unit.as_str(), mfn.currency.as_str()),
        (d("0"), "095", "CNY")
    );
    let RateExpr::Specific(general) = beer.general.as_ref().unwrap().expr().unwrap() else {
        panic!()
    };
    assert_eq!(general.amount, d("7.5"));
    assert_eq!(
        beer.vat.as_ref().unwrap().expr(),
        Some(&RateExpr::AdValorem { percent: d("13") })
    );
    let RateExpr::Thresholded { branches } = beer.consumption_tax.as_ref().unwrap().expr().unwrap()
    else {
        panic!("consumption tax")
    };
    assert_eq!(branches.len(), 2);
    assert!(matches!(
        beer.export_rebate.as_ref().unwrap().parsed,
        Parsed::Ok(_)
    ));
}

#[test]
fn known_gaps_are_blank_in_the_tariff() {
    // A listed gap that the tariff actually fills would hide a data change.
    let tariff = &data().tariff;
    for (code, column) in tariff.known_gaps.keys() {
        let line = tariff.get(&HsCode::parse(code).unwrap()).unwrap();
        assert!(line.rate(column).is_none(), "{code} {column} is filled");
    }
}

#[test]
fn directory_source_gives_the_same_data() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../data");
    let from_dir = RefData::load_from(&jinguan_refdata::Source::Directory(dir)).unwrap();
    assert_eq!(from_dir.tariff.lines, data().tariff.lines);
    assert_eq!(from_dir.tables.len(), data().tables.len());
    let missing = RefData::load_from(&jinguan_refdata::Source::Directory("/nonexistent".into()));
    assert!(missing.unwrap_err().to_string().starts_with("F0002"));
}
