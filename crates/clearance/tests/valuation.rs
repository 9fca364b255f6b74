//! Customs value, each figure worked out by hand in the comment above its assertion. Rates are
//! fixed here (USD 7.1, EUR 8.15 yuan), as a month's customs rates would be.

#![allow(clippy::unwrap_used)] // A panic in a test is a test failure with its message.

use jinguan_clearance::valuation::{value, Basis, Charge, Price, Terms, ValuationError};
use jinguan_types::CurrencyCode;
use rust_decimal::Decimal;

fn d(text: &str) -> Decimal {
    text.parse().unwrap()
}

fn currency(code: &str) -> CurrencyCode {
    CurrencyCode::parse(code).unwrap()
}

fn rate(c: CurrencyCode) -> Option<Decimal> {
    match c.as_str() {
        "CNY" => Some(Decimal::ONE),
        "USD" => Some(d("7.1")),
        "EUR" => Some(d("8.15")),
        _ => None,
    }
}

fn usd(amount: &str) -> Price {
    Price {
        amount: d(amount),
        currency: CurrencyCode::USD,
    }
}

fn basis(import: bool, terms: Terms, prices: Vec<Price>) -> Basis {
    Basis {
        import,
        terms,
        prices,
        freight: None,
        insurance: None,
        other: None,
        gross_weight_kg: None,
    }
}

#[test]
fn cif_import_is_its_price_in_yuan() {
    // 1,000 USD × 7.1 = 7,100 yuan; CIF already includes freight and insurance.
    let v = value(&basis(true, Terms::Cif, vec![usd("1000")]), rate).unwrap();
    assert_eq!(v.total, d("7100"));
    assert!(!v.insurance_presumed);
}

#[test]
fn fob_import_adds_freight_and_insurance_on_price_plus_freight() {
    // Price 7,100; freight 100 USD = 710; insurance 0.3 % × (7,100 + 710) = 23.43;
    // value 7,100 + 710 + 23.43 = 7,833.43.
    let mut b = basis(true, Terms::Fob, vec![usd("1000")]);
    b.freight = Some(Charge::Total {
        amount: d("100"),
        currency: CurrencyCode::USD,
    });
    b.insurance = Some(Charge::Rate { percent: d("0.3") });
    let v = value(&b, rate).unwrap();
    assert_eq!(v.items[0].freight, d("710"));
    assert_eq!(v.items[0].insurance, d("23.43"));
    assert_eq!(v.total, d("7833.43"));
}

#[test]
fn insurance_not_declared_is_presumed_at_three_per_mille() {
    // Freight 50 USD a tonne × 2,000 kg = 100 USD = 710; presumed insurance
    // 0.3 % × (7,100 + 710) = 23.43; value 7,833.43, flagged as presumed.
    let mut b = basis(true, Terms::Fob, vec![usd("1000")]);
    b.freight = Some(Charge::PerTonne {
        amount: d("50"),
        currency: CurrencyCode::USD,
    });
    b.gross_weight_kg = Some(d("2000"));
    let v = value(&b, rate).unwrap();
    assert_eq!(v.total, d("7833.43"));
    assert!(v.insurance_presumed);
}

#[test]
fn cfr_import_adds_insurance_only() {
    // C&F price 2,000 EUR × 8.15 = 16,300; insurance total 10 EUR = 81.5; freight declared
    // but already in the price, so not added: 16,381.5.
    let mut b = basis(
        true,
        Terms::Cfr,
        vec![Price {
            amount: d("2000"),
            currency: currency("EUR"),
        }],
    );
    b.freight = Some(Charge::Total {
        amount: d("300"),
        currency: CurrencyCode::USD,
    });
    b.insurance = Some(Charge::Total {
        amount: d("10"),
        currency: currency("EUR"),
    });
    let v = value(&b, rate).unwrap();
    assert_eq!(v.items[0].freight, Decimal::ZERO);
    assert_eq!(v.total, d("16381.5"));
}

#[test]
fn head_charges_are_shared_by_value() {
    // Items 3,000 and 1,000 USD: 21,300 and 7,100 yuan, shares 3/4 and 1/4.
    // Freight 5 % of 28,400 = 1,420 → 1,065 and 355. Insurance 0.3 % × (28,400 + 1,420) =
    // 89.46 → 67.095 and 22.365. Other charges 200 CNY → 150 and 50.
    // Values 21,300 + 1,065 + 67.095 + 150 = 22,582.095 and 7,100 + 355 + 22.365 + 50 = 7,527.365.
    let mut b = basis(true, Terms::Fob, vec![usd("3000"), usd("1000")]);
    b.freight = Some(Charge::Rate { percent: d("5") });
    b.insurance = Some(Charge::Rate { percent: d("0.3") });
    b.other = Some(Charge::Total {
        amount: d("200"),
        currency: CurrencyCode::CNY,
    });
    let v = value(&b, rate).unwrap();
    assert_eq!(v.items[0].customs_value, d("22582.095"));
    assert_eq!(v.items[1].customs_value, d("7527.365"));
    assert_eq!(v.total, d("30109.46"));
}

#[test]
fn cif_export_takes_freight_and_insurance_off() {
    // CIF 1,000 USD less freight 50 and insurance 5 = FOB 945 USD × 7.1 = 6,709.5.
    let mut b = basis(false, Terms::Cif, vec![usd("1000")]);
    b.freight = Some(Charge::Total {
        amount: d("50"),
        currency: CurrencyCode::USD,
    });
    b.insurance = Some(Charge::Total {
        amount: d("5"),
        currency: CurrencyCode::USD,
    });
    b.other = Some(Charge::Total {
        amount: d("20"),
        currency: CurrencyCode::USD,
    });
    let v = value(&b, rate).unwrap();
    assert_eq!(v.items[0].freight, d("-355"));
    assert_eq!(
        v.items[0].other,
        Decimal::ZERO,
        "no other charges in an FOB value"
    );
    assert_eq!(v.total, d("6709.5"));
}

#[test]
fn fob_export_is_its_price() {
    // 1,000 USD FOB × 7.1 = 7,100; no freight needed.
    let v = value(&basis(false, Terms::Fob, vec![usd("1000")]), rate).unwrap();
    assert_eq!(v.total, d("7100"));
}

#[test]
fn what_cannot_be_valued_is_refused_with_a_code() {
    let fob = basis(true, Terms::Fob, vec![usd("1000")]);
    assert_eq!(value(&fob, rate).unwrap_err(), ValuationError::Freight);
    let mut per_tonne = fob.clone();
    per_tonne.freight = Some(Charge::PerTonne {
        amount: d("50"),
        currency: CurrencyCode::USD,
    });
    assert_eq!(value(&per_tonne, rate).unwrap_err().code(), "A0104");
    let yen = basis(
        true,
        Terms::Cif,
        vec![Price {
            amount: d("1"),
            currency: currency("JPY"),
        }],
    );
    assert_eq!(value(&yen, rate).unwrap_err().code(), "A0102");
    assert_eq!(
        value(&basis(true, Terms::Cif, vec![]), rate)
            .unwrap_err()
            .code(),
        "A0106"
    );
    assert_eq!(Terms::from_code("9").unwrap_err().code(), "A0101");
    assert_eq!(Terms::from_code("2").unwrap(), Terms::Cfr);
}

#[test]
fn charges_come_from_the_declared_mark_rate_and_currency() {
    assert_eq!(Charge::from_fields(None, Some(d("1")), None).unwrap(), None);
    assert_eq!(
        Charge::from_fields(Some("1"), Some(d("0.3")), None).unwrap(),
        Some(Charge::Rate { percent: d("0.3") })
    );
    assert_eq!(
        Charge::from_fields(Some("3"), Some(d("100")), Some(CurrencyCode::USD)).unwrap(),
        Some(Charge::Total {
            amount: d("100"),
            currency: CurrencyCode::USD
        })
    );
    assert_eq!(
        Charge::from_fields(Some("3"), Some(d("100")), None)
            .unwrap_err()
            .code(),
        "A0105"
    );
    assert_eq!(
        Charge::from_fields(Some("4"), Some(d("1")), None)
            .unwrap_err()
            .code(),
        "A0105"
    );
}
