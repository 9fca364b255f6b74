//! Cross-border e-commerce: three-document matching, the 70 % taxes and the limits, on the
//! shipped tariff.

#![allow(clippy::unwrap_used)] // A panic in a test is a test failure with its message.

use std::str::FromStr;

use jinguan_chinaport::ceb::{Entity, Fields};
use jinguan_clearance::crossborder::{
    self, codes, match_documents, regime, Inventory, Order, Payment, Regime, Reversal, Waybill,
};
use jinguan_refdata::rate::RateExpr;
use jinguan_refdata::tariff::TariffLine;
use jinguan_refdata::RefData;
use rust_decimal::Decimal;

fn d(text: &str) -> Decimal {
    Decimal::from_str(text).unwrap()
}

fn fields(pairs: &[(&str, &str)]) -> Fields {
    Fields(
        pairs
            .iter()
            .map(|(n, v)| ((*n).into(), (*v).into()))
            .collect(),
    )
}

fn flat(name: &str, head_name: Option<&str>, pairs: &[(&str, &str)]) -> Entity {
    Entity {
        name: name.to_owned(),
        head_name: head_name.map(str::to_owned),
        head: fields(pairs),
        ..Entity::default()
    }
}

fn order() -> Order {
    Order::from_entity(&flat(
        "Order",
        Some("OrderHead"),
        &[
            ("orderNo", "O-1"),
            ("ebpCode", "1101110325"),
            ("ebcCode", "1101110326"),
            ("goodsValue", "300"),
            ("freight", "20"),
            ("discount", "0"),
            ("taxTotal", "0"),
            ("acturalPaid", "320"),
            ("currency", "142"),
            ("buyerIdType", "1"),
            ("buyerIdNumber", "110101199003070011"),
            ("buyerName", "王五"),
            ("payCode", "3120980025"),
            ("payTransactionId", "P-1"),
        ],
    ))
    .unwrap()
}

fn payment() -> Payment {
    Payment::from_entity(&flat(
        "Payment",
        Some("PaymentHead"),
        &[
            ("payCode", "3120980025"),
            ("payTransactionId", "P-1"),
            ("orderNo", "O-1"),
            ("ebpCode", "1101110325"),
            ("payerIdType", "1"),
            ("payerIdNumber", "110101199003070011"),
            ("payerName", "王五"),
            ("amountPaid", "320"),
            ("currency", "142"),
        ],
    ))
    .unwrap()
}

fn waybill() -> Waybill {
    Waybill::from_entity(&flat(
        "Logistics",
        Some("LogisticsHead"),
        &[
            ("logisticsCode", "1101180326"),
            ("logisticsNo", "L-1"),
            ("orderNo", "O-1"),
            ("weight", "1.5"),
        ],
    ))
    .unwrap()
}

fn inventory(items: &[(&str, &str, &str)], freight: &str) -> Inventory {
    let mut entity = flat(
        "Inventory",
        Some("InventoryHead"),
        &[
            ("appStatus", "2"),
            ("copNo", "C-1"),
            ("orderNo", "O-1"),
            ("ebpCode", "1101110325"),
            ("ebcCode", "1101110326"),
            ("logisticsCode", "1101180326"),
            ("logisticsNo", "L-1"),
            ("customsCode", "3700"),
            ("declTime", "20261129"),
            ("buyerIdType", "1"),
            ("buyerIdNumber", "110101199003070011"),
            ("buyerName", "王五"),
            ("tradeMode", "9610"),
            ("freight", freight),
            ("insuredFee", "0"),
            ("currency", "142"),
        ],
    );
    entity.list_name = Some("InventoryList".into());
    for (n, (gcode, qty, total)) in items.iter().enumerate() {
        entity.lists.push(fields(&[
            ("gnum", &(n + 1).to_string()),
            ("gcode", gcode),
            ("gname", "goods"),
            ("qty", qty),
            ("qty1", qty),
            ("unit1", "007"),
            ("price", "1"),
            ("totalPrice", total),
        ]));
    }
    Inventory::from_entity(&entity).unwrap()
}

#[test]
fn a_matching_set_clears_and_each_kind_of_mismatch_has_its_code() {
    let good = inventory(&[("3304990099", "2", "300")], "20");
    assert_eq!(
        match_documents(&good, Some(&order()), Some(&payment()), Some(&waybill())),
        vec![]
    );
    let codes_of = |found: Vec<crossborder::Mismatch>| -> Vec<String> {
        found.into_iter().map(|m| m.code).collect()
    };
    // Each document missing.
    assert_eq!(
        codes_of(match_documents(
            &good,
            None,
            Some(&payment()),
            Some(&waybill())
        )),
        [codes::NO_ORDER]
    );
    assert_eq!(
        codes_of(match_documents(
            &good,
            Some(&order()),
            None,
            Some(&waybill())
        )),
        [codes::NO_PAYMENT]
    );
    assert_eq!(
        codes_of(match_documents(
            &good,
            Some(&order()),
            Some(&payment()),
            None
        )),
        [codes::NO_WAYBILL]
    );
    // Another enterprise on the order.
    let mut other = order();
    other.ebc_code = "9999999999".into();
    assert_eq!(
        codes_of(match_documents(
            &good,
            Some(&other),
            Some(&payment()),
            Some(&waybill())
        )),
        [codes::PARTY]
    );
    // Another payment transaction.
    let mut paid = payment();
    paid.pay_transaction_id = "P-2".into();
    assert_eq!(
        codes_of(match_documents(
            &good,
            Some(&order()),
            Some(&paid),
            Some(&waybill())
        )),
        [codes::PAYMENT_KEY]
    );
    // The waybill carries another order.
    let mut carried = waybill();
    carried.order_no = "O-2".into();
    assert_eq!(
        codes_of(match_documents(
            &good,
            Some(&order()),
            Some(&payment()),
            Some(&carried)
        )),
        [codes::WAYBILL_ORDER]
    );
    // Less paid than ordered; goods total not the order's.
    let mut short = payment();
    short.amount_paid = d("300");
    assert_eq!(
        codes_of(match_documents(
            &good,
            Some(&order()),
            Some(&short),
            Some(&waybill())
        )),
        [codes::AMOUNT]
    );
    let cheaper = inventory(&[("3304990099", "2", "250")], "20");
    assert_eq!(
        codes_of(match_documents(
            &cheaper,
            Some(&order()),
            Some(&payment()),
            Some(&waybill())
        )),
        [codes::AMOUNT]
    );
    // Someone else paid.
    let mut stranger = payment();
    stranger.payer.id_number = "110101199003070099".into();
    assert_eq!(
        codes_of(match_documents(
            &good,
            Some(&order()),
            Some(&stranger),
            Some(&waybill())
        )),
        [codes::BUYER]
    );
    // Several at once are all reported.
    assert_eq!(
        codes_of(match_documents(&cheaper, None, Some(&stranger), None)),
        [codes::NO_ORDER, codes::BUYER, codes::NO_WAYBILL]
    );
}

#[test]
fn the_limits_decide_the_regime() {
    assert_eq!(regime(d("5000"), d("0")), Regime::CrossBorder);
    assert_eq!(regime(d("5000.01"), d("0")), Regime::OverTransactionLimit);
    assert_eq!(regime(d("1000"), d("25000")), Regime::CrossBorder);
    assert_eq!(regime(d("1000.01"), d("25000")), Regime::OverYearlyLimit);
}

fn ad_valorem(rate: Option<&jinguan_refdata::tariff::Rate>) -> Option<Decimal> {
    match rate.and_then(|r| r.expr()) {
        Some(RateExpr::AdValorem { percent }) => Some(*percent / Decimal::ONE_HUNDRED),
        _ => None,
    }
}

/// A line with ad valorem VAT and consumption tax, and one with VAT and no consumption tax.
fn lines(refdata: &RefData) -> (&TariffLine, &TariffLine) {
    let with_ct = refdata
        .tariff
        .lines
        .iter()
        .find(|l| {
            ad_valorem(l.vat.as_ref()).is_some()
                && ad_valorem(l.consumption_tax.as_ref()).is_some_and(|c| c > Decimal::ZERO)
                && ad_valorem(l.mfn.as_ref()).is_some_and(|m| m > Decimal::ZERO)
        })
        .unwrap();
    let without = refdata
        .tariff
        .lines
        .iter()
        .find(|l| {
            ad_valorem(l.vat.as_ref()).is_some()
                && l.consumption_tax.as_ref().and_then(|r| r.expr()).is_none()
                && ad_valorem(l.mfn.as_ref()).is_some_and(|m| m > Decimal::ZERO)
        })
        .unwrap();
    (with_ct, without)
}

fn fen(x: Decimal) -> Decimal {
    jinguan_types::round_fen(x)
}

#[test]
fn within_the_limits_duty_is_nil_and_vat_and_consumption_tax_are_seventy_percent() {
    let refdata = RefData::load().unwrap();
    let (with_ct, without) = lines(&refdata);
    let inv = inventory(
        &[
            (&with_ct.code.to_string(), "1", "1000"),
            (&without.code.to_string(), "2", "500"),
        ],
        "30",
    );
    let bill = crossborder::assess(
        &inv,
        &[Some(with_ct), Some(without)],
        Decimal::ONE,
        d("0"),
        2026,
    )
    .unwrap();
    assert_eq!(bill.regime, Regime::CrossBorder);
    // Freight 30 shared by value: 20 and 10.
    assert_eq!(bill.tax_prices, vec![d("1020"), d("510")]);
    assert_eq!(bill.value, d("1530"));
    let c = ad_valorem(with_ct.consumption_tax.as_ref()).unwrap();
    let v1 = ad_valorem(with_ct.vat.as_ref()).unwrap();
    let v2 = ad_valorem(without.vat.as_ref()).unwrap();
    let seventy = d("0.7");
    let ct = d("1020") * c / (Decimal::ONE - c);
    assert_eq!(bill.assessment.duty, Decimal::ZERO);
    assert_eq!(bill.assessment.consumption_tax, fen(ct * seventy));
    assert_eq!(
        bill.assessment.vat,
        fen((d("1020") + ct) * v1 * seventy) + fen(d("510") * v2 * seventy)
    );
    // The same inventory for a buyer near the yearly limit is general trade: duty levied,
    // taxes in full.
    let full = crossborder::assess(
        &inv,
        &[Some(with_ct), Some(without)],
        Decimal::ONE,
        d("25000"),
        2026,
    )
    .unwrap();
    assert_eq!(full.regime, Regime::OverYearlyLimit);
    assert!(full.assessment.duty > Decimal::ZERO);
    assert!(full.assessment.vat > bill.assessment.vat);
    assert!(full.assessment.consumption_tax > bill.assessment.consumption_tax);
}

#[test]
fn crossing_the_yearly_limit_taxes_as_general_trade_from_that_inventory_on_and_a_cancellation_gives_it_back(
) {
    let refdata = RefData::load().unwrap();
    let (_, line) = lines(&refdata);
    let code = line.code.to_string();
    let inv = inventory(&[(&code, "1", "4000")], "0");
    let mut total = Decimal::ZERO;
    let mut regimes = Vec::new();
    let mut bills = Vec::new();
    for _ in 0..8 {
        let bill = crossborder::assess(&inv, &[Some(line)], Decimal::ONE, total, 2026).unwrap();
        total = bill.year_total_after();
        regimes.push(bill.regime);
        bills.push(bill);
    }
    // 6 × 4,000 = 24,000 within; the 7th would make 28,000.
    assert_eq!(&regimes[..6], &[Regime::CrossBorder; 6]);
    assert_eq!(&regimes[6..], &[Regime::OverYearlyLimit; 2]);
    assert_eq!(total, d("32000"));
    // Cancelling the last two gives 8,000 back; a return of half of one item gives its share.
    let cancel = Reversal {
        invt_no: "x".into(),
        order_no: "O-1".into(),
        ebp_code: "1101110325".into(),
        buyer: inv.buyer.clone(),
        reason: "buyer cancelled".into(),
        items: vec![],
    };
    total -= crossborder::refund_value(&inv.quantities(), &bills[7], &cancel);
    total -= crossborder::refund_value(&inv.quantities(), &bills[6], &cancel);
    assert_eq!(total, d("24000"));
    let two = inventory(&[(&code, "2", "1000")], "0");
    let two_bill = crossborder::assess(&two, &[Some(line)], Decimal::ONE, total, 2026).unwrap();
    assert_eq!(two_bill.regime, Regime::CrossBorder);
    let half = Reversal {
        items: vec![(1, d("1"))],
        ..cancel
    };
    assert_eq!(
        crossborder::refund_value(&two.quantities(), &two_bill, &half),
        d("500")
    );
}

#[test]
fn a_missing_line_or_field_is_a_coded_error() {
    let inv = inventory(&[("0000000000", "1", "10")], "0");
    let err = crossborder::assess(&inv, &[None], Decimal::ONE, d("0"), 2026).unwrap_err();
    assert_eq!(err.code(), codes::NO_TARIFF_LINE);
    let bad =
        Order::from_entity(&flat("Order", Some("OrderHead"), &[("goodsValue", "1x")])).unwrap_err();
    assert!(bad.iter().all(|d| d.code == codes::FIELD));
    assert!(
        bad.iter().any(|d| d.path.ends_with("goodsValue")),
        "{bad:?}"
    );
    assert!(bad.iter().any(|d| d.path.ends_with("orderNo")), "{bad:?}");
}

/// xmllint's verdict on `xml` against the official import XSD of the 2022-05 edition.
fn xmllint_import(xml: &str, name: &str) -> Option<(bool, String)> {
    let dir = jinguan_testkit::corpus()?.join("china/ceb/gacc-202205/xsd");
    let file = std::env::temp_dir().join(format!("jinguan-{name}-{}.xml", std::process::id()));
    std::fs::write(&file, xml).unwrap();
    let output = std::process::Command::new("xmllint")
        .arg("--noout")
        .arg("--schema")
        .arg(dir.join("ceb_import_business.xsd"))
        .arg(&file)
        .output()
        .unwrap_or_else(|e| panic!("xmllint must be installed (libxml2-utils): {e}"));
    std::fs::remove_file(&file).unwrap();
    Some((
        output.status.success(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    ))
}

#[test]
fn tax_bills_status_notices_and_format_notices_satisfy_the_official_xsd() {
    use jinguan_chinaport::ceb::{self, Edition};
    let refdata = RefData::load().unwrap();
    let (with_ct, without) = lines(&refdata);
    let mut inv = inventory(
        &[
            (&with_ct.code.to_string(), "1", "1000"),
            (&without.code.to_string(), "2", "500"),
        ],
        "30",
    );
    inv.assure_code = "ass201603081155".into();
    inv.agent_code = "1105910159".into();
    let time = chrono::NaiveDate::from_ymd_opt(2026, 11, 29)
        .unwrap()
        .and_hms_milli_opt(8, 0, 0, 7)
        .unwrap();
    let ids = crossborder::TaxBillIds {
        guid: "7D9E2F4A-1B3C-4D5E-8F60-718293A4B5C6".into(),
        invt_no: "37002026I000000001".into(),
        tax_no: "37002026I00000000101".into(),
        status: "1".into(),
    };
    for year_total in ["0", "25000"] {
        let bill = crossborder::assess(
            &inv,
            &[Some(with_ct), Some(without)],
            Decimal::ONE,
            d(year_total),
            2026,
        )
        .unwrap();
        let tax = crossborder::tax_bill_entity(&inv, &bill, &ids, time);
        let xml = ceb::write(
            Edition::Gacc202205,
            "CEB816Message",
            &ids.guid,
            &[tax],
            None,
        )
        .unwrap();
        assert!(xml.contains("<ceb:taxPrice>1020</ceb:taxPrice>"), "{xml}");
        if let Some((ok, complaint)) = xmllint_import(&xml, "ceb816") {
            assert!(ok, "{complaint}\n{xml}");
        }
    }
    let status = crossborder::tax_status_entity(&inv.assure_code, &ids, time);
    let xml = ceb::write(
        Edition::Gacc202205,
        "CEB818Message",
        &ids.guid,
        &[status],
        None,
    )
    .unwrap();
    if let Some((ok, complaint)) = xmllint_import(&xml, "ceb818") {
        assert!(ok, "{complaint}\n{xml}");
    }
    let original = "<ceb:CEB311Message guid=\"x\"><ceb:Order>&amp; broken";
    let notice = ceb::format_check_entity(
        &ids.guid,
        "-301000",
        "报文格式错误: X0001",
        time,
        "x",
        "CEB311Message",
        original,
    );
    let xml = ceb::write(
        Edition::Gacc202205,
        "CEB900Message",
        &ids.guid,
        &[notice],
        None,
    )
    .unwrap();
    if let Some((ok, complaint)) = xmllint_import(&xml, "ceb900") {
        assert!(ok, "{complaint}\n{xml}");
    }
    // What the schema refuses is not written: a tax bill without its number.
    let mut broken = crossborder::tax_status_entity(&inv.assure_code, &ids, time);
    broken.head.0.retain(|(n, _)| n != "taxNo");
    let err = ceb::write(
        Edition::Gacc202205,
        "CEB818Message",
        &ids.guid,
        &[broken],
        None,
    )
    .unwrap_err();
    assert_eq!(err.diagnostics[0].code, "X0311", "{err}");
}
