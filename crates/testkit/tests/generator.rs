//! Properties of the synthetic declarations: determinism, parallel equivalence, shape, and
//! consistency with the reference data.

#![allow(clippy::unwrap_used)] // A panic in a test is a test failure with its message.

use std::collections::HashSet;
use std::sync::OnceLock;

use chrono::Datelike;
use jinguan_refdata::RefData;
use jinguan_testkit::{GenOptions, Generator};
use jinguan_types::declaration::Declaration;
use jinguan_types::{CurrencyCode, CustomsCode, HsCode, IeFlag, Uscc};
use rust_decimal::{Decimal, RoundingStrategy};

fn refdata() -> &'static RefData {
    static DATA: OnceLock<RefData> = OnceLock::new();
    DATA.get_or_init(|| RefData::load().expect("embedded reference data loads"))
}

fn generator(seed: u64) -> Generator {
    Generator::new(
        refdata(),
        GenOptions {
            count: 2000,
            seed,
            enterprises: 2000,
        },
    )
    .unwrap()
}

fn sample() -> &'static [Declaration] {
    static SAMPLE: OnceLock<Vec<Declaration>> = OnceLock::new();
    SAMPLE.get_or_init(|| generator(42).declarations(0..2000).collect())
}

fn json(generator: &Generator, count: u64) -> Vec<u8> {
    let mut out = Vec::new();
    generator.write_json_lines(0..count, &mut out).unwrap();
    out
}

#[test]
fn same_seed_gives_identical_bytes_and_other_seeds_differ() {
    let first = json(&generator(7), 300);
    let second = json(&generator(7), 300);
    assert_eq!(first, second);
    assert_eq!(first.iter().filter(|b| **b == b'\n').count(), 300);
    let other = json(&generator(8), 300);
    assert_ne!(first, other);
}

#[test]
fn parallel_output_is_byte_identical_to_sequential() {
    let generator = generator(11);
    // More than two chunks, and a last chunk that is not full.
    let count = 2500;
    let sequential = json(&generator, count as u64);
    for threads in [1, 2, 3, 8] {
        let mut parallel = Vec::new();
        generator
            .write_json_lines_parallel(count, threads, &mut parallel)
            .unwrap();
        assert!(
            parallel == sequential,
            "{threads} threads differ from sequential output"
        );
    }
    let mut empty = Vec::new();
    generator
        .write_json_lines_parallel(0, 2, &mut empty)
        .unwrap();
    assert!(empty.is_empty());
}

#[test]
fn a_declaration_does_not_depend_on_its_neighbours() {
    let generator = generator(5);
    let whole: Vec<Declaration> = generator.declarations(0..60).collect();
    let part: Vec<Declaration> = generator.declarations(50..60).collect();
    assert_eq!(&whole[50..], &part[..]);
    assert_eq!(generator.declaration(55), whole[55]);
}

#[test]
fn every_line_is_one_json_declaration() {
    let text = String::from_utf8(json(&generator(3), 50)).unwrap();
    for line in text.lines() {
        let back: Declaration = serde_json::from_str(line).unwrap();
        assert_eq!(serde_json::to_string(&back).unwrap(), line);
    }
}

#[test]
fn item_counts_are_one_to_twenty_with_mean_about_five() {
    let counts: Vec<usize> = sample().iter().map(|d| d.items.len()).collect();
    assert!(counts.iter().all(|n| (1..=20).contains(n)));
    let mean = counts.iter().sum::<usize>() as f64 / counts.len() as f64;
    assert!((4.0..=6.0).contains(&mean), "mean {mean}");
    // Single-item declarations are the most common.
    let ones = counts.iter().filter(|n| **n == 1).count();
    assert!(counts
        .iter()
        .all(|n| counts.iter().filter(|m| *m == n).count() <= ones));
}

#[test]
fn goods_come_from_the_tariff_with_its_legal_units() {
    let data = refdata();
    for declaration in sample() {
        for item in &declaration.items {
            let code = HsCode::parse(item.hs_code.as_deref().unwrap()).unwrap();
            let line = data.tariff.get(&code).expect("code in the tariff");
            assert_ne!(code.chapter(), 98);
            // Nothing prohibited in the declaration's direction: 9 on import, 8 on export
            // (6 bans used machinery only; generated goods are new).
            let banned: &[char] = match declaration.head.ie_flag {
                Some(IeFlag::Import) => &['9'],
                _ => &['8'],
            };
            assert!(
                !line.supervision_conditions.contains(banned),
                "{code} is prohibited ({})",
                line.supervision_conditions
            );
            assert_eq!(item.name.as_deref(), Some(line.name.as_str()));
            assert_eq!(item.legal_unit_1.as_deref(), Some(line.unit1.code.as_str()));
            assert_eq!(
                item.legal_unit_2.as_deref(),
                line.unit2.as_ref().map(|u| u.code.as_str())
            );
            assert_eq!(item.legal_qty_2.is_some(), line.unit2.is_some());
            let declared = item.declared_unit.as_deref().unwrap();
            assert!(
                declared == line.unit1.code.as_str()
                    || line
                        .unit2
                        .as_ref()
                        .is_some_and(|u| u.code.as_str() == declared)
            );
            // The elements have one field per published element.
            let elements = item.elements.as_deref().unwrap();
            assert_eq!(
                elements.split('|').count(),
                line.declaration_elements.len(),
                "{code}: {elements}"
            );
            let mut fields = elements.split('|');
            let brand_type = fields.next().unwrap();
            assert!(
                ["0", "1", "2", "3", "4"].contains(&brand_type),
                "{elements}"
            );
            let preference = fields.next().unwrap();
            match declaration.head.ie_flag {
                Some(IeFlag::Import) => assert_eq!(preference, "3"),
                _ => assert!(["0", "1", "2"].contains(&preference), "{elements}"),
            }
        }
    }
}

#[test]
fn quantities_prices_and_weights_agree() {
    let kilogram = "035";
    for declaration in sample() {
        let head = &declaration.head;
        let net = head.net_weight_kg.unwrap();
        let gross = head.gross_weight_kg.unwrap();
        assert!(gross >= net, "gross {gross} < net {net}");
        assert!(net > Decimal::ZERO);
        let mut kilograms = Decimal::ZERO;
        let mut all_weighed = true;
        for item in &declaration.items {
            let total = item.total_price.unwrap();
            let qty = item.declared_qty.unwrap();
            assert!(total > Decimal::ZERO && qty > Decimal::ZERO);
            assert_eq!(total.scale(), 2);
            let expected =
                (total / qty).round_dp_with_strategy(4, RoundingStrategy::MidpointAwayFromZero);
            assert_eq!(item.unit_price, Some(expected));
            // The quantity in kilograms is the item's net weight.
            if item.legal_unit_1.as_deref() == Some(kilogram) {
                kilograms += item.legal_qty_1.unwrap();
            } else if item.legal_unit_2.as_deref() == Some(kilogram) {
                kilograms += item.legal_qty_2.unwrap();
            } else {
                all_weighed = false;
            }
            let declared = item.declared_unit.as_deref();
            if declared == item.legal_unit_1.as_deref() {
                assert_eq!(item.declared_qty, item.legal_qty_1);
            } else {
                assert_eq!(item.declared_qty, item.legal_qty_2);
            }
        }
        // Head net weight is the sum of the items' net weights.
        if all_weighed {
            assert_eq!(net, kilograms);
        } else {
            assert!(net > kilograms);
        }
        assert!(head.packages.unwrap() >= 1);
    }
}

#[test]
fn enterprises_have_valid_identifiers() {
    let generator = generator(42);
    assert_eq!(generator.enterprises().len(), 2000);
    assert!(generator.enterprises().iter().any(|e| e.broker));
    let mut usccs = HashSet::new();
    let mut codes = HashSet::new();
    for enterprise in generator.enterprises() {
        let uscc = Uscc::parse(&enterprise.uscc).unwrap();
        assert!(enterprise.uscc.starts_with("91"));
        assert_eq!(uscc.division(), enterprise.division);
        let code = CustomsCode::parse(&enterprise.customs_code).unwrap();
        // The customs code starts with the region of the registration division.
        assert_eq!(&code.as_str()[..4], &enterprise.division[..4]);
        assert_eq!(
            code.as_str().as_bytes()[5] == b'8',
            enterprise.broker,
            "{}",
            enterprise.customs_code
        );
        assert!(
            usccs.insert(enterprise.uscc.clone()),
            "duplicate {}",
            enterprise.uscc
        );
        assert!(
            codes.insert(enterprise.customs_code.clone()),
            "duplicate {}",
            enterprise.customs_code
        );
    }
    for declaration in sample() {
        let head = &declaration.head;
        for party in [&head.consignee, &head.owner, &head.agent, &head.input_unit] {
            Uscc::parse(party.uscc.as_deref().unwrap()).unwrap();
            CustomsCode::parse(party.customs_code.as_deref().unwrap()).unwrap();
            assert!(party.name.as_deref().unwrap().ends_with("公司"));
        }
        let owner_code = head.owner.customs_code.as_deref().unwrap();
        for item in &declaration.items {
            assert_eq!(item.domestic_district.as_deref(), Some(&owner_code[..5]));
        }
    }
}

#[test]
fn codes_exist_in_their_tables() {
    let data = refdata();
    let table = |name: &str| data.table(name).unwrap();
    let has = |name: &str, code: Option<&str>| {
        let code = code.unwrap_or_else(|| panic!("{name} missing"));
        assert!(table(name).contains(code), "{code} not in {name}");
    };
    for declaration in sample() {
        let head = &declaration.head;
        has("trade-mode", head.trade_mode.as_deref());
        has("levy-nature", head.levy_nature.as_deref());
        has("transport-mode", head.transport_mode.as_deref());
        has("country", head.trade_country.as_deref());
        has("country", head.trade_area_country.as_deref());
        has("transaction-terms", head.transaction_terms.as_deref());
        has("package", head.package_type.as_deref());
        let country = head.trade_country.as_deref().unwrap();
        let (foreign, domestic) = match head.ie_flag {
            Some(IeFlag::Import) => (&head.departure_port, None),
            _ => (&head.destination_port, head.departure_port.as_ref()),
        };
        let foreign = foreign.as_deref().unwrap();
        has("port", Some(foreign));
        assert!(
            foreign.starts_with(country),
            "port {foreign} not in {country}"
        );
        if let Some(port) = head.destination_port.as_deref() {
            has("port", Some(port));
        }
        if let Some(port) = domestic {
            has("port", Some(port));
            assert!(port.starts_with("CHN"));
        }
        for code in [&head.declaring_customs, &head.ie_port] {
            let code = code.as_deref().unwrap();
            assert!(
                code.len() == 4 && code.bytes().all(|b| b.is_ascii_digit()),
                "{code}"
            );
        }
        for charge in [&head.freight, &head.insurance, &head.other_charges] {
            if let Some(currency) = charge.currency.as_deref() {
                has("currency", Some(currency));
            }
        }
        for container in &declaration.containers {
            has("container", container.size_code.as_deref());
        }
        for item in &declaration.items {
            has("currency", item.currency.as_deref());
            has("country", item.origin_country.as_deref());
            has("country", item.destination_country.as_deref());
            has("duty-mode", item.duty_mode.as_deref());
            for unit in [&item.declared_unit, &item.legal_unit_1, &item.legal_unit_2]
                .into_iter()
                .flatten()
            {
                has("unit", Some(unit));
            }
        }
    }
}

#[test]
fn head_fields_are_consistent() {
    let mut seq_nos = HashSet::new();
    let mut imports = 0;
    for declaration in sample() {
        let head = &declaration.head;
        let import = head.ie_flag == Some(IeFlag::Import);
        imports += usize::from(import);
        let levy = match head.trade_mode.as_deref().unwrap() {
            "0110" => Some("101"),
            "0615" => Some("503"),
            "0214" => Some("502"),
            _ => None,
        };
        if levy.is_some() {
            assert_eq!(head.levy_nature.as_deref(), levy);
        }
        if matches!(head.trade_mode.as_deref(), Some("0615" | "0214")) {
            assert!(head
                .filing_no
                .as_deref()
                .is_some_and(|f| f.starts_with('C') && f.len() == 12));
        }
        // Bonded warehouse goods name the warehouse's account book.
        if head.trade_mode.as_deref() == Some("1233") {
            assert!(head
                .filing_no
                .as_deref()
                .is_some_and(|f| f.starts_with('L') && f.len() == 12));
        }
        let ie_date = head.ie_date.unwrap();
        let declared = head.declaration_date.unwrap();
        assert_eq!((ie_date.year(), declared.year()), (2026, 2026));
        if import {
            assert!(ie_date <= declared);
        } else {
            assert!(ie_date >= declared);
        }
        // Freight is declared when it is not in the price: FOB imports, CIF or C&F exports.
        let terms = head.transaction_terms.as_deref().unwrap();
        assert!(["1", "2", "3"].contains(&terms));
        let freight = head.freight.mark.is_some();
        assert_eq!(
            freight,
            if import { terms == "3" } else { terms != "3" },
            "{terms}"
        );
        let currency = declaration.items[0].currency.clone();
        assert!(declaration.items.iter().all(|i| i.currency == currency));
        let seq_no = declaration
            .signature
            .as_ref()
            .and_then(|s| s.client_seq_no.clone())
            .unwrap();
        assert!(seq_nos.insert(seq_no), "duplicate client_seq_no");
    }
    let share = imports as f64 / sample().len() as f64;
    assert!((0.40..=0.50).contains(&share), "import share {share}");
}

#[test]
fn licences_are_attached_once_and_currencies_have_a_rate() {
    let data = refdata();
    let licences = data.table("licence-document").unwrap();
    let mut with_licences = 0;
    for declaration in sample() {
        let codes: Vec<&str> = declaration
            .documents
            .iter()
            .map(|d| d.code.as_deref().unwrap())
            .collect();
        with_licences += usize::from(!codes.is_empty());
        for (i, code) in codes.iter().enumerate() {
            assert!(licences.contains(code), "{code}");
            assert!(!codes[..i].contains(code), "{code} attached twice");
        }
        for document in &declaration.documents {
            assert!(document.number.as_deref().is_some_and(|n| n.len() >= 12));
        }
        // Every attached licence is one an item's line names in its supervision conditions.
        for code in &codes {
            assert!(declaration.items.iter().any(|item| {
                let hs = HsCode::parse(item.hs_code.as_deref().unwrap()).unwrap();
                data.tariff
                    .get(&hs)
                    .unwrap()
                    .supervision_conditions
                    .contains(*code)
            }));
        }
        // An invoice currency is one customs has the month's rate for.
        let date = declaration.head.declaration_date.unwrap();
        for item in &declaration.items {
            let currency = CurrencyCode::parse(item.currency.as_deref().unwrap()).unwrap();
            assert!(
                data.exchange_rates.rate_on(currency, date).is_some(),
                "no {currency} rate on {date}"
            );
        }
    }
    // Automatic import licences for machinery, export licences and the like are common.
    assert!(with_licences * 5 > sample().len(), "{with_licences}");
}

#[test]
fn activity_is_skewed_and_brokers_declare() {
    let declarations = sample();
    let mut by_consignee = std::collections::HashMap::new();
    let mut by_broker = 0;
    for declaration in declarations {
        let head = &declaration.head;
        *by_consignee
            .entry(head.consignee.customs_code.clone())
            .or_insert(0usize) += 1;
        let agent = head.agent.customs_code.as_deref().unwrap();
        by_broker += usize::from(agent.as_bytes()[5] == b'8');
    }
    let mut counts: Vec<usize> = by_consignee.into_values().collect();
    counts.sort_unstable_by(|a, b| b.cmp(a));
    let top20: usize = counts.iter().take(20).sum();
    assert!(
        top20 * 10 > declarations.len(),
        "top 20 file {top20} of {}",
        declarations.len()
    );
    assert!(
        by_broker * 2 > declarations.len(),
        "brokers declare {by_broker}"
    );
}

#[test]
fn tiny_populations_work() {
    for enterprises in [0, 1, 2, 5] {
        let generator = Generator::new(
            refdata(),
            GenOptions {
                count: 10,
                seed: 1,
                enterprises,
            },
        )
        .unwrap();
        for declaration in generator.declarations(0..20) {
            assert!(!declaration.items.is_empty());
        }
    }
}

#[test]
fn generated_declarations_survive_decmessage_and_pass_code_checks() {
    use jinguan_chinaport::check::check_codes;
    use jinguan_chinaport::decmessage::{self, WriteOptions};
    for declaration in &sample()[..500] {
        for wrap in [false, true] {
            let xml = decmessage::write(declaration, WriteOptions { wrap });
            let parsed = decmessage::parse(xml.as_bytes()).unwrap();
            assert!(parsed.diagnostics.is_empty(), "{:?}", parsed.diagnostics);
            let mut read_back = parsed.declaration;
            if wrap {
                read_back.envelope = None;
            }
            assert_eq!(&read_back, declaration);
            let diagnostics = check_codes(&mut read_back, refdata());
            assert!(diagnostics.is_empty(), "{diagnostics:#?}");
        }
    }
}
