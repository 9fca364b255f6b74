//! Cross-border exports: the statistics flag's rule against the tariff, and a summary
//! checked against the inventories on record, each refusal with its code.

#![allow(clippy::unwrap_used)] // A panic in a test is a test failure with its message.

use jinguan_chinaport::ceb::{Entity, Fields};
use jinguan_clearance::export::{
    check_simplified, codes, summarize, summary_result_entity, ExportInventory, OnRecord,
    SummaryApply,
};
use jinguan_refdata::RefData;

fn fields(pairs: &[(&str, &str)]) -> Fields {
    let mut f = Fields::default();
    for (name, value) in pairs {
        f.set(name, *value);
    }
    f
}

fn inventory(order: &str, flag: &str, gcode: &str, ebc: &str) -> ExportInventory {
    let entity = Entity {
        name: "Inventory".into(),
        head_name: Some("InventoryHead".into()),
        head: fields(&[
            ("appStatus", "2"),
            ("customsCode", "1500"),
            ("ebpCode", "1105910159"),
            ("orderNo", order),
            ("logisticsCode", "1105910159"),
            ("logisticsNo", &format!("L{order}")),
            ("copNo", &format!("C{order}")),
            ("statisticsFlag", flag),
            ("ebcCode", ebc),
            ("grossWeight", "2.5"),
            ("netWeight", "2"),
        ]),
        list_name: Some("InventoryList".into()),
        lists: vec![fields(&[
            ("gnum", "1"),
            ("gcode", gcode),
            ("qty", "1"),
            ("price", "9"),
        ])],
    };
    ExportInventory::from_entity(&entity).unwrap()
}

fn apply(invt_nos: &[&str]) -> SummaryApply {
    let entity = Entity {
        name: "SummaryApply".into(),
        head_name: Some("SummaryApplyHead".into()),
        head: fields(&[
            ("guid", "G-1"),
            ("appStatus", "2"),
            ("customsCode", "1500"),
            ("copNo", "S-1"),
            ("ebcCode", "1105910159"),
        ]),
        list_name: Some("SummaryApplyList".into()),
        lists: invt_nos.iter().map(|n| fields(&[("invtNo", n)])).collect(),
    };
    SummaryApply::from_entity(&entity).unwrap()
}

#[test]
fn a_summary_gathers_released_b_inventories_of_its_applicant_only() {
    let mine = inventory("O1", "B", "8471300000", "1105910159");
    let also = inventory("O2", "B", "8471300000", "1105910159");
    let simple = inventory("O3", "A", "8471000000", "1105910159");
    let theirs = inventory("O4", "B", "8471300000", "9999999999");
    let records = [
        ("N1", "800", false, &mine),
        ("N2", "800", false, &also),
        ("N3", "800", false, &simple),
        ("N4", "800", false, &theirs),
        ("N5", "800", true, &mine),
        ("N6", "100", false, &mine),
    ];
    let find = |no: &str| {
        records
            .iter()
            .find(|(n, _, _, _)| *n == no)
            .map(|(n, status, summarised, inventory)| OnRecord {
                invt_no: n,
                status,
                summarised: *summarised,
                inventory,
            })
    };
    let summary = summarize(&apply(&["N1", "N2", "N1"]), find).unwrap();
    assert_eq!(summary.lines.len(), 2, "a repeated number counts once");
    assert_eq!(summary.gross_weight, "5.0".parse().unwrap());
    let time = chrono::NaiveDate::from_ymd_opt(2026, 11, 29)
        .unwrap()
        .and_hms_opt(9, 0, 0)
        .unwrap();
    let result = summary_result_entity(&apply(&["N1"]), &summary, "S1", "D1", "1", time);
    assert_eq!(result.lists[1].text("gseqno"), "2");
    for (names, code) in [
        (&["N3"][..], codes::SIMPLIFIED),
        (&["N4"], codes::NOT_THE_APPLICANTS),
        (&["N5"], codes::SUMMARISED),
        (&["N6"], codes::UNKNOWN_INVENTORY),
        (&["N9"], codes::UNKNOWN_INVENTORY),
        (&[], codes::EMPTY),
    ] {
        let found = summarize(&apply(names), find).unwrap_err();
        assert_eq!(found[0].code, code, "{names:?}: {found:?}");
    }
}

#[test]
fn simplified_is_for_headings_without_export_licences_or_duty() {
    let refdata = RefData::load().unwrap();
    let licences = refdata.table("licence-document").unwrap();
    let lines = |heading: &str| {
        refdata
            .tariff
            .lines
            .iter()
            .filter(|l| l.code.to_string().starts_with(heading))
            .collect::<Vec<_>>()
    };
    let licensed = refdata
        .tariff
        .lines
        .iter()
        .find(|l| {
            !jinguan_refdata::supervision::required_licences(
                &l.supervision_conditions,
                false,
                licences,
            )
            .is_empty()
        })
        .unwrap()
        .code
        .to_string();
    let found = check_simplified(
        &inventory("O1", "A", &licensed, "1105910159"),
        lines,
        licences,
    );
    assert_eq!(found[0].code, codes::NOT_SIMPLE, "{found:?}");
    // The same goods summarised (B) are fine; an unknown flag or heading is coded.
    assert!(check_simplified(&inventory("O1", "B", &licensed, "X"), lines, licences).is_empty());
    assert_eq!(
        check_simplified(&inventory("O1", "C", &licensed, "X"), lines, licences)[0].code,
        codes::FLAG
    );
    assert_eq!(
        check_simplified(&inventory("O1", "A", "0000000000", "X"), lines, licences)[0].code,
        codes::NO_TARIFF_LINE
    );
}
