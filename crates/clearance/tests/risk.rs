//! Selectivity: rules as data, explained decisions, deterministic random selection,
//! reference prices, and back-tests that agree with live decisions.

#![allow(clippy::unwrap_used)] // A panic in a test is a test failure with its message.

use chrono::NaiveDate;
use jinguan_clearance::risk::{backtest, draw, Fact, Facts, ReferencePrices, RuleSet, Subject};
use jinguan_clearance::Channel;
use rust_decimal::Decimal;

fn d(text: &str) -> Decimal {
    text.parse().unwrap()
}

fn day(text: &str) -> NaiveDate {
    text.parse().unwrap()
}

const RULES: &str = r#"{
  "version": 3,
  "rules": [
    {"id": "R-TRADE-0110-NEW", "reason": "general trade from a first-time declarant",
     "channel": "yellow", "valid_from": "2026-01-01",
     "when": [{"fact": "trade_mode", "op": "eq", "value": "0110"},
              {"fact": "declarations_before", "op": "lt", "value": 1}]},
    {"id": "R-PHONES-XYZ", "reason": "phones from a country under a fraud alert",
     "channel": "red", "valid_from": "2026-06-01", "valid_to": "2026-12-31",
     "when": [{"fact": "item.hs_code", "op": "prefix", "value": "8517"},
              {"fact": "item.origin_country", "op": "in", "value": ["XYZ", "QQQ"]}]},
    {"id": "R-UNDERVALUED", "reason": "unit value under half the reference price",
     "channel": "yellow", "valid_from": "2026-01-01",
     "when": [{"fact": "item.price_ratio", "op": "lt", "value": "0.5"}]}
  ],
  "random": {"percent": {"general": "10", "advanced": "0", "dishonest": "100"},
             "channel": "yellow", "seed": 2026}
}"#;

fn text(value: &str) -> Fact {
    Fact::Text(value.into())
}

fn item(hs: &str, origin: &str) -> Facts {
    let mut facts = Facts::new();
    facts.insert("hs_code".into(), text(hs));
    facts.insert("origin_country".into(), text(origin));
    facts
}

fn subject(entry_id: &str, class: &str, items: Vec<Facts>) -> Subject {
    let mut head = Facts::new();
    head.insert("trade_mode".into(), text("0110"));
    head.insert("declarations_before".into(), Fact::Number(d("12")));
    Subject {
        entry_id: entry_id.into(),
        credit_class: class.into(),
        head,
        items,
    }
}

#[test]
fn rules_fire_with_their_reasons_and_the_strictest_channel_wins() {
    let rules = RuleSet::from_json(RULES).unwrap();
    let on = day("2026-11-27");
    // Nothing fires for an established declarant of ordinary goods; advanced class is not drawn.
    let plain = subject(
        "530020261000000001",
        "advanced",
        vec![item("8517130000", "KOR")],
    );
    let decision = rules.select(&plain, on);
    assert_eq!(
        (decision.channel, decision.reasons.len(), decision.version),
        (Channel::Green, 0, 3)
    );
    // A first-time declarant: the head rule fires.
    let mut first = plain.clone();
    first
        .head
        .insert("declarations_before".into(), Fact::Number(Decimal::ZERO));
    let decision = rules.select(&first, on);
    assert_eq!(decision.channel, Channel::Yellow);
    assert_eq!(decision.reasons[0].rule, "R-TRADE-0110-NEW");
    assert_eq!(
        decision.reasons[0].text,
        "general trade from a first-time declarant"
    );
    // Add phones from XYZ as item 2: red wins, both reasons listed, the item named.
    first.items.push(item("8517130000", "XYZ"));
    let decision = rules.select(&first, on);
    assert_eq!(decision.channel, Channel::Red);
    let fired: Vec<&str> = decision.reasons.iter().map(|r| r.rule.as_str()).collect();
    assert_eq!(fired, ["R-TRADE-0110-NEW", "R-PHONES-XYZ"]);
    assert_eq!(decision.reasons[1].item, Some(2));
    assert!(decision.reasons[1].text.ends_with("(item 2)"));
    // Outside its validity the phone rule is silent.
    assert!(rules
        .select(&first, day("2027-01-01"))
        .reasons
        .iter()
        .all(|r| r.rule != "R-PHONES-XYZ"));
}

#[test]
fn item_conditions_hold_on_one_and_the_same_item() {
    let rules = RuleSet::from_json(RULES).unwrap();
    // Item 1 is a phone from Korea, item 2 shoes from XYZ: no single item matches both.
    let split = subject(
        "530020261000000002",
        "advanced",
        vec![item("8517130000", "KOR"), item("6403990000", "XYZ")],
    );
    assert_eq!(
        rules.select(&split, day("2026-11-27")).channel,
        Channel::Green
    );
}

#[test]
fn random_selection_is_deterministic_and_at_its_rate() {
    let rules = RuleSet::from_json(RULES).unwrap();
    let on = day("2026-11-27");
    let mut drawn = 0;
    for n in 0..10_000u64 {
        let id = format!("5300202610{n:08}");
        let s = subject(&id, "general", vec![item("8517130000", "KOR")]);
        let first = rules.select(&s, on);
        assert_eq!(first, rules.select(&s, on), "same id, same seed, same draw");
        if first.reasons.iter().any(|r| r.rule == "random") {
            drawn += 1;
            assert_eq!(first.channel, Channel::Yellow);
        }
        // Dishonest: always drawn; advanced: never; an unknown class: not drawn.
        for (class, always) in [("dishonest", true), ("advanced", false), ("unknown", false)] {
            let s = subject(&id, class, vec![item("8517130000", "KOR")]);
            let selected = rules
                .select(&s, on)
                .reasons
                .iter()
                .any(|r| r.rule == "random");
            assert_eq!(selected, always, "{class}");
        }
    }
    // 10 % of 10,000, within what a fair draw gives.
    assert!((900..=1100).contains(&drawn), "{drawn} drawn");
    // Another seed draws differently.
    let id = "530020261000000042";
    let same = (0..50)
        .filter(|seed| draw(id, *seed) == draw(id, 2026))
        .count();
    assert!(same < 5);
}

#[test]
fn reference_prices_are_robust_and_flag_undervaluation() {
    // Unit values 10, 11, 12, 13 and an outlier 100: median 12, deviations 2, 1, 0, 1, 88,
    // median absolute deviation 1; the outlier moves neither.
    let observations = [
        ("8517130000", "KOR", "001", d("10")),
        ("8517130000", "KOR", "001", d("11")),
        ("8517130000", "KOR", "001", d("12")),
        ("8517130000", "KOR", "001", d("13")),
        ("8517130000", "KOR", "001", d("100")),
        ("6403990000", "VNM", "025", d("50")),
    ];
    let prices = ReferencePrices::learn(observations, 3);
    let reference = prices.get("8517130000", "KOR", "001").unwrap();
    assert_eq!(
        (reference.median, reference.spread, reference.samples),
        (d("12"), d("1"), 5)
    );
    assert!(
        prices.get("6403990000", "VNM", "025").is_none(),
        "one observation is not enough"
    );
    // A phone declared at 3 a unit: ratio 0.25, 9 spreads below.
    let mut cheap = item("8517130000", "KOR");
    cheap.insert("legal_unit".into(), text("001"));
    cheap.insert("unit_value_cny".into(), Fact::Number(d("3")));
    prices.annotate(&mut cheap);
    assert_eq!(cheap.get("price_ratio"), Some(&Fact::Number(d("0.25"))));
    assert_eq!(cheap.get("price_deviations"), Some(&Fact::Number(d("-9"))));
    let rules = RuleSet::from_json(RULES).unwrap();
    let decision = rules.select(
        &subject("530020261000000003", "advanced", vec![cheap]),
        day("2026-11-27"),
    );
    assert_eq!(decision.channel, Channel::Yellow);
    assert_eq!(decision.reasons[0].rule, "R-UNDERVALUED");
}

#[test]
fn a_backtest_matches_live_decisions_and_changes_nothing() {
    let rules = RuleSet::from_json(RULES).unwrap();
    let past: Vec<(Subject, NaiveDate)> = (0..500u64)
        .map(|n| {
            let origin = if n % 7 == 0 { "XYZ" } else { "KOR" };
            let class = ["general", "advanced", "dishonest"][(n % 3) as usize];
            let s = subject(
                &format!("5300202610{n:08}"),
                class,
                vec![item("8517130000", origin)],
            );
            (s, day("2026-10-01"))
        })
        .collect();
    let before = rules.clone();
    let report = backtest(&rules, &past);
    assert_eq!(rules, before);
    assert_eq!(report.declarations, 500);
    assert_eq!(report.green + report.yellow + report.red, 500);
    for ((subject, date), (id, decision)) in past.iter().zip(&report.decisions) {
        assert_eq!(&subject.entry_id, id);
        assert_eq!(&rules.select(subject, *date), decision);
    }
    // Every 7th declaration has phones from XYZ: 72 of 500 (n = 0, 7, …, 497).
    assert_eq!(report.fired.get("R-PHONES-XYZ"), Some(&72));
    assert!(report.red >= 72);
}

#[test]
fn a_condition_that_cannot_compare_is_refused() {
    let bad = RULES.replace(
        r#""op": "lt", "value": 1}"#,
        r#""op": "lt", "value": "many"}"#,
    );
    let error = RuleSet::from_json(&bad).unwrap_err();
    assert!(
        error
            .to_string()
            .starts_with("K0101: rule R-TRADE-0110-NEW"),
        "{error}"
    );
    assert!(RuleSet::from_json("{").is_err());
}

#[test]
fn facts_read_back_as_they_were_so_stored_subjects_back_test_alike() {
    use jinguan_clearance::risk::{Fact, Subject};
    let mut item = jinguan_clearance::risk::Facts::new();
    item.insert("hs_code".into(), Fact::Text("8517620000".into()));
    item.insert(
        "unit_value_cny".into(),
        Fact::Number("12.5".parse().unwrap()),
    );
    let subject = Subject {
        entry_id: "530120261000000001".into(),
        credit_class: "general".into(),
        head: Default::default(),
        items: vec![item],
    };
    let json = serde_json::to_string(&subject).unwrap();
    let back: Subject = serde_json::from_str(&json).unwrap();
    assert_eq!(
        back, subject,
        "a code that looks like a number stays a code: {json}"
    );
}
