//! Duties and taxes on real 2026 tariff lines, table-driven. Each case's figures are worked
//! out in its comment from the line's rates, quoted there as the tariff writes them.

#![allow(clippy::unwrap_used)] // A panic in a test is a test failure with its message.

use jinguan_clearance::assessment::{assess, Item, Origin};
use jinguan_refdata::RefData;
use jinguan_types::{HsCode, UnitCode};
use rust_decimal::Decimal;

fn d(text: &str) -> Decimal {
    text.parse().unwrap()
}

fn unit(code: &str) -> UnitCode {
    UnitCode::parse(code).unwrap()
}

const LITRE: &str = "095";
const KG: &str = "035";
const VEHICLE: &str = "003";
const SET: &str = "001";
const SQUARE_METRE: &str = "032";

struct Case {
    name: &'static str,
    code: &'static str,
    import: bool,
    value: &'static str,
    quantities: &'static [(&'static str, &'static str)],
    general: bool,
    agreement: Option<&'static str>,
    /// Expected duty, consumption tax and VAT totals, after the waiver.
    expected: (&'static str, &'static str, &'static str),
}

const CASES: &[Case] = &[
    // 8517130000 smartphones: MFN 0%, VAT 13%, consumption tax 0%.
    // Duty 7,100 × 0 = 0; tax 0; VAT 7,100 × 13% = 923.00.
    Case {
        name: "ad valorem zero duty, VAT only",
        code: "8517130000",
        import: true,
        value: "7100",
        quantities: &[(SET, "1"), (KG, "0.2")],
        general: false,
        agreement: None,
        expected: ("0", "0", "923.00"),
    },
    // 8517130000 from a general-rate origin: general 20%: duty 1,420.00;
    // VAT (7,100 + 1,420) × 13% = 1,107.60.
    Case {
        name: "general rate for a listed origin",
        code: "8517130000",
        import: true,
        value: "7100",
        quantities: &[(SET, "1"), (KG, "0.2")],
        general: true,
        agreement: None,
        expected: ("1420.00", "0", "1107.60"),
    },
    // 0302141000 fresh Atlantic salmon: MFN 10%, provisional 7%, VAT 9%.
    // Provisional replaces MFN: duty 10,000 × 7% = 700.00; VAT 10,700 × 9% = 963.00.
    Case {
        name: "provisional rate replaces MFN",
        code: "0302141000",
        import: true,
        value: "10000",
        quantities: &[(KG, "500")],
        general: false,
        agreement: None,
        expected: ("700.00", "0", "963.00"),
    },
    // 0302141000 under the China–Korea FTA with proof of origin: conventional 0% < 7%:
    // duty 0; VAT 10,000 × 9% = 900.00.
    Case {
        name: "conventional rate lower than provisional",
        code: "0302141000",
        import: true,
        value: "10000",
        quantities: &[(KG, "500")],
        general: false,
        agreement: Some("korea_韩国"),
        expected: ("0", "0", "900.00"),
    },
    // 0302141000 from a general-rate origin: general 40%, never provisional:
    // duty 4,000.00; VAT 14,000 × 9% = 1,260.00.
    Case {
        name: "general rate never takes the provisional",
        code: "0302141000",
        import: true,
        value: "10000",
        quantities: &[(KG, "500")],
        general: true,
        agreement: None,
        expected: ("4000.00", "0", "1260.00"),
    },
    // 8703234110 passenger car: MFN 15%, consumption tax 5%, VAT 13%.
    // Duty 200,000 × 15% = 30,000.00; tax (200,000 + 30,000) / 0.95 × 0.05 = 12,105.263… →
    // 12,105.26; VAT (230,000 + 12,105.26) × 13% = 31,473.6838 → 31,473.68.
    Case {
        name: "ad valorem consumption tax in the composite base",
        code: "8703234110",
        import: true,
        value: "200000",
        quantities: &[(VEHICLE, "1"), (KG, "1500")],
        general: false,
        agreement: None,
        expected: ("30000.00", "12105.26", "31473.68"),
    },
    // 2208300000 whisky: MFN 10%, consumption tax 20%+0.912元/升, VAT 13%; 100 litres.
    // Duty 1,000.00; specific part 100 × 0.912 = 91.2; tax (10,000 + 1,000 + 91.2) / 0.8 × 0.2
    // + 91.2 = 2,772.8 + 91.2 = 2,864.00; VAT (11,000 + 2,864) × 13% = 1,802.32.
    Case {
        name: "compound consumption tax",
        code: "2208300000",
        import: true,
        value: "10000",
        quantities: &[(LITRE, "100"), (KG, "150")],
        general: false,
        agreement: None,
        expected: ("1000.00", "2864.00", "1802.32"),
    },
    // 2203000000 beer: MFN 0元/升, consumption tax 完税价≥2.64295885元: 0.253元/升, below:
    // 0.2227元/升, VAT 13%; 1,000 litres worth 3,000: 3.00 a litre ≥ 2.643, so
    // 1,000 × 0.253 = 253.00; duty 0; VAT (3,000 + 253) × 13% = 422.89.
    Case {
        name: "specific duty of zero, thresholded tax above",
        code: "2203000000",
        import: true,
        value: "3000",
        quantities: &[(LITRE, "1000"), (KG, "1100")],
        general: false,
        agreement: None,
        expected: ("0", "253.00", "422.89"),
    },
    // 2203000000 beer worth 2,000 for 1,000 litres: 2.00 < 2.643: 1,000 × 0.2227 = 222.70;
    // VAT (2,000 + 222.70) × 13% = 288.951 → 288.95.
    Case {
        name: "thresholded tax below",
        code: "2203000000",
        import: true,
        value: "2000",
        quantities: &[(LITRE, "1000"), (KG, "1100")],
        general: false,
        agreement: None,
        expected: ("0", "222.70", "288.95"),
    },
    // 2203000000 beer from a general-rate origin: 7.5元/升 × 1,000 = 7,500.00;
    // tax 3.00 a litre ≥ 2.643: 253.00; VAT (3,000 + 7,500 + 253) × 13% = 1,397.89.
    Case {
        name: "specific general rate",
        code: "2203000000",
        import: true,
        value: "3000",
        quantities: &[(LITRE, "1000"), (KG, "1100")],
        general: true,
        agreement: None,
        expected: ("7500.00", "253.00", "1397.89"),
    },
    // 3304990099 cosmetics: MFN 1%, consumption tax 完税价≥10000元 (per kg): 15%, below: 0,
    // VAT 13%; 2 kg worth 50,000: 25,000 a kg ≥ 10,000. Duty 500.00; tax 50,500 / 0.85 ×
    // 0.15 = 8,911.7647 → 8,911.76; VAT (50,500 + 8,911.76) × 13% = 7,723.5288 → 7,723.53.
    Case {
        name: "thresholded ad valorem tax above",
        code: "3304990099",
        import: true,
        value: "50000",
        quantities: &[(KG, "2")],
        general: false,
        agreement: None,
        expected: ("500.00", "8911.76", "7723.53"),
    },
    // 3304990099 cosmetics, 1 kg worth 5,000: below 10,000, tax 0%. Duty 50.00;
    // VAT 5,050 × 13% = 656.50.
    Case {
        name: "thresholded ad valorem tax below",
        code: "3304990099",
        import: true,
        value: "5000",
        quantities: &[(KG, "1")],
        general: false,
        agreement: None,
        expected: ("50.00", "0", "656.50"),
    },
    // 8517130000 worth 300: VAT 39.00 < 50 is waived; duty 0.
    Case {
        name: "a tax under 50 yuan is waived",
        code: "8517130000",
        import: true,
        value: "300",
        quantities: &[(SET, "1"), (KG, "0.2")],
        general: false,
        agreement: None,
        expected: ("0", "0", "0"),
    },
    // 3304990099 cosmetics, 1 kg worth 4,000: duty 40.00 < 50 is waived, so none is levied
    // and VAT is on the value alone (实征 duty 0): 4,000 × 13% = 520.00.
    Case {
        name: "a waived duty is not in the VAT base",
        code: "3304990099",
        import: true,
        value: "4000",
        quantities: &[(KG, "1")],
        general: false,
        agreement: None,
        expected: ("0", "0", "520.00"),
    },
    // 0301921010 eel fry, export duty 20%: FOB 12,000 / 1.2 × 0.2 = 2,000.00.
    Case {
        name: "export duty on FOB net of itself",
        code: "0301921010",
        import: false,
        value: "12000",
        quantities: &[(KG, "10")],
        general: false,
        agreement: None,
        expected: ("2000.00", "0", "0"),
    },
    // 8517130000 exported: no export duty on the line.
    Case {
        name: "no export duty",
        code: "8517130000",
        import: false,
        value: "7100",
        quantities: &[(SET, "1")],
        general: false,
        agreement: None,
        expected: ("0", "0", "0"),
    },
    // 0207141100 frozen chicken pieces: MFN 0.6元/千克, VAT 9%; 1,000 kg worth 20,000.
    // Duty 1,000 × 0.6 = 600.00; VAT (20,000 + 600) × 9% = 1,854.00.
    Case {
        name: "specific MFN duty per kilogram",
        code: "0207141100",
        import: true,
        value: "20000",
        quantities: &[(KG, "1000")],
        general: false,
        agreement: None,
        expected: ("600.00", "0", "1854.00"),
    },
    // 0207141100 from a general-rate origin: 4.2元/千克 × 1,000 = 4,200.00;
    // VAT 24,200 × 9% = 2,178.00.
    Case {
        name: "specific general rate per kilogram",
        code: "0207141100",
        import: true,
        value: "20000",
        quantities: &[(KG, "1000")],
        general: true,
        agreement: None,
        expected: ("4200.00", "0", "2178.00"),
    },
    // 0207141100 under the Korea FTA: conventional 0元/千克 → 0 < 600: duty 0;
    // VAT 20,000 × 9% = 1,800.00.
    Case {
        name: "specific conventional rate",
        code: "0207141100",
        import: true,
        value: "20000",
        quantities: &[(KG, "1000")],
        general: false,
        agreement: Some("korea_韩国"),
        expected: ("0", "0", "1800.00"),
    },
    // 0207141100 under the Nicaragua FTA: conventional 7% = 1,400 > MFN 600: MFN kept,
    // duty 600.00; VAT 1,854.00.
    Case {
        name: "a conventional rate higher than MFN is not applied",
        code: "0207141100",
        import: true,
        value: "20000",
        quantities: &[(KG, "1000")],
        general: false,
        agreement: Some("nicaragua_尼加拉瓜"),
        expected: ("600.00", "0", "1854.00"),
    },
    // 3702422900 film: MFN 1.6元/平方米, provisional 1元/平方米, VAT 13%; 500 m² worth
    // 10,000. Provisional: 500 × 1 = 500.00; VAT 10,500 × 13% = 1,365.00.
    Case {
        name: "specific provisional rate on the second legal unit",
        code: "3702422900",
        import: true,
        value: "10000",
        quantities: &[(KG, "80"), (SQUARE_METRE, "500")],
        general: false,
        agreement: None,
        expected: ("500.00", "0", "1365.00"),
    },
    // 3702422900 under the Mauritius FTA: conventional 1.4% × 10,000 = 140 < 500:
    // duty 140.00; VAT 10,140 × 13% = 1,318.20.
    Case {
        name: "ad valorem conventional against a specific provisional rate",
        code: "3702422900",
        import: true,
        value: "10000",
        quantities: &[(KG, "80"), (SQUARE_METRE, "500")],
        general: false,
        agreement: Some("mauritius_毛里求斯"),
        expected: ("140.00", "0", "1318.20"),
    },
    // 3702422900 under APTA: conventional 8% = 800 > provisional 500: provisional kept.
    Case {
        name: "a conventional rate higher than the provisional is not applied",
        code: "3702422900",
        import: true,
        value: "10000",
        quantities: &[(KG, "80"), (SQUARE_METRE, "500")],
        general: false,
        agreement: Some("apta_亚太"),
        expected: ("500.00", "0", "1365.00"),
    },
    // 3702422900 from a general-rate origin: 110元/平方米 × 500 = 55,000.00;
    // VAT 65,000 × 13% = 8,450.00.
    Case {
        name: "specific general rate per square metre",
        code: "3702422900",
        import: true,
        value: "10000",
        quantities: &[(KG, "80"), (SQUARE_METRE, "500")],
        general: true,
        agreement: None,
        expected: ("55000.00", "0", "8450.00"),
    },
    // 4001100000 natural rubber latex: MFN 20%, provisional 完税价不高于9元/千克：10%，高于：
    // 0%+0.9元/千克, VAT 9%. 1,000 kg worth 8,000: 8 ≤ 9 → 10%: 800.00;
    // VAT 8,800 × 9% = 792.00.
    Case {
        name: "thresholded provisional rate, ad valorem branch",
        code: "4001100000",
        import: true,
        value: "8000",
        quantities: &[(KG, "1000")],
        general: false,
        agreement: None,
        expected: ("800.00", "0", "792.00"),
    },
    // 4001100000, 1,000 kg worth 12,000: 12 > 9 → 0% + 0.9 × 1,000 = 900.00;
    // VAT 12,900 × 9% = 1,161.00.
    Case {
        name: "thresholded provisional rate, compound branch",
        code: "4001100000",
        import: true,
        value: "12000",
        quantities: &[(KG, "1000")],
        general: false,
        agreement: None,
        expected: ("900.00", "0", "1161.00"),
    },
    // 4001100000 under the Korea FTA: conventional 4% × 12,000 = 480 < 900: 480.00;
    // VAT 12,480 × 9% = 1,123.20.
    Case {
        name: "conventional rate lower than a thresholded provisional one",
        code: "4001100000",
        import: true,
        value: "12000",
        quantities: &[(KG, "1000")],
        general: false,
        agreement: Some("korea_韩国"),
        expected: ("480.00", "0", "1123.20"),
    },
    // 1701120001 raw beet sugar (in-quota line): MFN 15%, VAT 13%; under the Mauritius FTA
    // the conventional rate is 关税配额税率：15, an in-quota rate that needs a quota
    // allocation: MFN stands. Duty 10,000 × 15% = 1,500.00; VAT 11,500 × 13% = 1,495.00.
    Case {
        name: "a tariff-quota conventional rate is not applied without a quota",
        code: "1701120001",
        import: true,
        value: "10000",
        quantities: &[(KG, "20000")],
        general: false,
        agreement: Some("mauritius_毛里求斯"),
        expected: ("1500.00", "0", "1495.00"),
    },
    // 0506909091 bones exported: export 40%, export provisional 0%: the provisional applies,
    // no duty.
    Case {
        name: "export provisional rate replaces the export rate",
        code: "0506909091",
        import: false,
        value: "10000",
        quantities: &[(KG, "100")],
        general: false,
        agreement: None,
        expected: ("0", "0", "0"),
    },
];

#[test]
fn each_case_comes_to_its_worked_figures() {
    let refdata = RefData::load().unwrap();
    for case in CASES {
        let line = refdata
            .tariff
            .get(&HsCode::parse(case.code).unwrap())
            .unwrap_or_else(|| panic!("{}: no line {}", case.name, case.code));
        let quantities: Vec<(UnitCode, Decimal)> = case
            .quantities
            .iter()
            .map(|(u, q)| (unit(u), d(q)))
            .collect();
        let item = Item {
            line,
            customs_value: d(case.value),
            quantities: &quantities,
            origin: Origin {
                general: case.general,
                agreement: case.agreement,
            },
            relieved: false,
        };
        let assessment =
            assess(case.import, &[item]).unwrap_or_else(|e| panic!("{}: {e}", case.name));
        let got = (assessment.duty, assessment.consumption_tax, assessment.vat);
        let want = (d(case.expected.0), d(case.expected.1), d(case.expected.2));
        assert_eq!(got, want, "{}: {:#?}", case.name, assessment.items);
        for taxes in &assessment.items {
            for line in [&taxes.duty, &taxes.consumption_tax, &taxes.vat] {
                assert!(!line.why.is_empty(), "{}: every figure says why", case.name);
            }
        }
    }
    assert!(CASES.len() >= 28);
}

#[test]
fn the_waiver_counts_the_whole_declaration() {
    // Two phones worth 300 each: VAT 39.00 each, 78.00 in all ≥ 50: collected.
    let refdata = RefData::load().unwrap();
    let line = refdata
        .tariff
        .get(&HsCode::parse("8517130000").unwrap())
        .unwrap();
    let quantities = [(unit(SET), d("1"))];
    let item = Item {
        line,
        customs_value: d("300"),
        quantities: &quantities,
        origin: Origin::default(),
        relieved: false,
    };
    let assessment = assess(true, &[item, item]).unwrap();
    assert_eq!(assessment.vat, d("78.00"));
    assert!(assessment.waived.is_empty());
    let single = assess(true, &[item]).unwrap();
    assert_eq!(single.waived, vec!["vat"]);
    assert!(single.items[0].vat.why.contains("waived"));
}

#[test]
fn relief_and_missing_facts() {
    let refdata = RefData::load().unwrap();
    let beer = refdata
        .tariff
        .get(&HsCode::parse("2203000000").unwrap())
        .unwrap();
    let no_litres = [(unit(KG), d("1100"))];
    let item = Item {
        line: beer,
        customs_value: d("3000"),
        quantities: &no_litres,
        origin: Origin::default(),
        relieved: false,
    };
    // A per-litre rate without litres declared is refused, with the unit named.
    let error = assess(true, &[item]).unwrap_err();
    assert_eq!(error.code(), "A0202");
    assert!(error.to_string().contains("095"), "{error}");
    // Relieved in full (duty mode 全免): nothing due, and said why.
    let relieved = assess(
        true,
        &[Item {
            relieved: true,
            ..item
        }],
    )
    .unwrap();
    assert_eq!(relieved.total(), Decimal::ZERO);
    assert!(relieved.items[0].duty.why.contains("relieved"));
}

/// The transaction terms decide what is added to the price; the taxes follow the value.
#[test]
fn each_transaction_term_reaches_the_taxes() {
    use jinguan_clearance::valuation::{value, Basis, Charge, Price, Terms};
    use jinguan_types::CurrencyCode;
    let refdata = RefData::load().unwrap();
    let phone = refdata
        .tariff
        .get(&HsCode::parse("8517130000").unwrap())
        .unwrap();
    let quantities = [(unit(SET), d("10"))];
    // 1,000 USD at 7.1 = 7,100; freight 100 USD = 710; insurance 0.3 %. Smartphones: duty
    // 0%, VAT 13%.
    // CIF: 7,100 → VAT 923.00.
    // FOB: 7,100 + 710 + 0.3 % × 7,810 (23.43) = 7,833.43 → VAT 1,018.3459 → 1,018.35.
    // C&F: freight in the price; insurance 0.3 % × 7,100 = 21.30 → 7,121.30 → VAT 925.769 →
    //      925.77.
    // C&I: insurance in the price; freight 710 → 7,810 → VAT 1,015.30.
    for (terms, want) in [
        (Terms::Cif, "923.00"),
        (Terms::Fob, "1018.35"),
        (Terms::Cfr, "925.77"),
        (Terms::Ci, "1015.30"),
    ] {
        let basis = Basis {
            import: true,
            terms,
            prices: vec![Price {
                amount: d("1000"),
                currency: CurrencyCode::USD,
            }],
            freight: Some(Charge::Total {
                amount: d("100"),
                currency: CurrencyCode::USD,
            }),
            insurance: Some(Charge::Rate { percent: d("0.3") }),
            other: None,
            gross_weight_kg: Some(d("5")),
        };
        let valued = value(&basis, |c| (c == CurrencyCode::USD).then(|| d("7.1"))).unwrap();
        let item = Item {
            line: phone,
            customs_value: valued.items[0].customs_value,
            quantities: &quantities,
            origin: Origin::default(),
            relieved: false,
        };
        assert_eq!(assess(true, &[item]).unwrap().vat, d(want), "{terms:?}");
    }
}

#[test]
fn the_duty_line_says_which_rate_and_why() {
    let refdata = RefData::load().unwrap();
    let line = |code: &str| refdata.tariff.get(&HsCode::parse(code).unwrap()).unwrap();
    let kg = [(unit(KG), d("500"))];
    let item = |code: &str, agreement: Option<&'static str>| Item {
        line: line(code),
        customs_value: d("10000"),
        quantities: &kg,
        origin: Origin {
            general: false,
            agreement,
        },
        relieved: false,
    };
    let why = |code: &str, agreement| {
        let assessed = assess(true, &[item(code, agreement)]).unwrap();
        let duty = &assessed.items[0].duty;
        (duty.rate.clone(), duty.why.clone())
    };
    let (rate, text) = why("0302141000", None);
    assert_eq!(rate, "7%");
    assert!(text.contains("provisional"), "{text}");
    let (rate, text) = why("0302141000", Some("korea_韩国"));
    assert_eq!(rate, "0%");
    assert!(
        text.contains("korea_韩国") && text.contains("lower"),
        "{text}"
    );
    let (_, text) = why("1701120001", Some("mauritius_毛里求斯"));
    assert!(text.contains("tariff quota"), "{text}");
}
