//! The whole pipeline on generated declarations and on the real DecMessage samples: every one
//! comes out accepted with figures and a channel, or rejected with coded findings; never a
//! panic; the same input always gives the same outcome.

#![allow(clippy::unwrap_used)] // A panic in a test is a test failure with its message.

use jinguan_clearance::pipeline::{run, Context};
use jinguan_clearance::risk::{ReferencePrices, RuleSet, DEMO_RULES};
use jinguan_clearance::Channel;
use jinguan_refdata::RefData;
use jinguan_testkit::{corpus, GenOptions, Generator};
use jinguan_types::Severity;

#[test]
fn generated_declarations_are_accepted_or_rejected_with_codes() {
    let refdata = RefData::load().unwrap();
    let rules = RuleSet::from_json(DEMO_RULES).unwrap();
    let references = ReferencePrices::default();
    let general = vec!["PRK".to_owned()];
    let context = Context {
        refdata: &refdata,
        rules: &rules,
        references: &references,
        general_rate_origins: &general,
    };
    let generator = Generator::new(
        &refdata,
        GenOptions {
            count: 300,
            seed: 11,
            enterprises: 300,
        },
    )
    .unwrap();
    let (mut accepted, mut channels) = (0, [0usize; 3]);
    for i in 0..300 {
        let declaration = generator.declaration(i);
        let entry_id = format!("53002026{:010}", i);
        let outcome = run(&mut declaration.clone(), &context, &entry_id, "general");
        // Deterministic: the same declaration and entry id, the same outcome.
        assert_eq!(
            outcome,
            run(&mut declaration.clone(), &context, &entry_id, "general")
        );
        if outcome.accepted {
            accepted += 1;
            let assessment = outcome.assessment.as_ref().unwrap();
            let valuation = outcome.valuation.as_ref().unwrap();
            assert_eq!(assessment.items.len(), declaration.items.len());
            assert!(valuation.total > rust_decimal::Decimal::ZERO);
            let decision = outcome.decision.unwrap();
            channels[match decision.channel {
                Channel::Green => 0,
                Channel::Yellow => 1,
                Channel::Red => 2,
            }] += 1;
            // A channel other than green always says why.
            assert!(decision.channel == Channel::Green || !decision.reasons.is_empty());
        } else {
            assert!(
                outcome
                    .findings
                    .iter()
                    .any(|f| f.severity == Severity::Error && !f.code.is_empty()),
                "rejected without a coded error"
            );
        }
    }
    eprintln!("{accepted} of 300 accepted; channels green/yellow/red {channels:?}");
    assert!(accepted >= 100, "{accepted}");
    assert!(
        channels[0] > 0 && channels[1] + channels[2] > 0,
        "{channels:?}"
    );
}

#[test]
fn real_samples_come_out_accepted_or_rejected_with_codes() {
    let Some(dir) = corpus() else { return };
    let refdata = RefData::load().unwrap();
    let rules = RuleSet::from_json(DEMO_RULES).unwrap();
    let references = ReferencePrices::default();
    let context = Context {
        refdata: &refdata,
        rules: &rules,
        references: &references,
        general_rate_origins: &[],
    };
    let mut seen = 0;
    for group in ["zzaniu-loop_server", "ryanrong95-HXT"] {
        for entry in std::fs::read_dir(dir.join("china/declaration").join(group)).unwrap() {
            let path = entry.unwrap().path();
            let Ok(parsed) = jinguan_chinaport::decmessage::parse(&std::fs::read(&path).unwrap())
            else {
                continue; // The malformed samples are the parser's tests.
            };
            let mut declaration = parsed.declaration;
            let outcome = run(&mut declaration, &context, "530020261000000001", "general");
            let errors: Vec<_> = outcome
                .findings
                .iter()
                .filter(|f| f.severity == Severity::Error)
                .map(|f| format!("{} {}", f.code, f.path))
                .collect();
            assert_eq!(outcome.accepted, errors.is_empty(), "{}", path.display());
            eprintln!(
                "{}: {}",
                path.file_name().unwrap().to_string_lossy(),
                if outcome.accepted {
                    format!("accepted, {:?}", outcome.decision.unwrap().channel)
                } else {
                    format!("rejected: {}", errors.join(", "))
                }
            );
            seen += 1;
        }
    }
    assert!(seen >= 13, "{seen} samples");
}

/// A certificate of origin (document Y) on goods of Korean origin claims the conventional
/// rate where one of Korea's agreements (the China–Korea FTA, APTA) has a lower one; without
/// it, or on lines where no agreement is lower, the duty is the plain one.
#[test]
fn a_certificate_of_origin_claims_the_cheapest_agreement_rate() {
    let refdata = RefData::load().unwrap();
    let rules = RuleSet::from_json(DEMO_RULES).unwrap();
    let references = ReferencePrices::default();
    let context = Context {
        refdata: &refdata,
        rules: &rules,
        references: &references,
        general_rate_origins: &[],
    };
    let generator = Generator::new(
        &refdata,
        GenOptions {
            count: 400,
            seed: 21,
            enterprises: 400,
        },
    )
    .unwrap();
    let (mut lowered, mut unchanged) = (0, 0);
    for i in 0..400 {
        let mut plain = generator.declaration(i);
        if plain.head.ie_flag != Some(jinguan_types::IeFlag::Import) {
            continue;
        }
        for item in &mut plain.items {
            item.origin_country = Some("KOR".into());
        }
        plain.documents.retain(|d| d.code.as_deref() != Some("Y"));
        let mut claimed = plain.clone();
        claimed
            .documents
            .push(jinguan_types::declaration::AttachedDocument {
                code: Some("Y".into()),
                number: Some("KR-2026-000123".into()),
                other_fields: Vec::new(),
            });
        let entry_id = format!("53002026{:010}", i);
        let without = run(&mut plain, &context, &entry_id, "general");
        let with = run(&mut claimed, &context, &entry_id, "general");
        let (Some(without), Some(with)) = (without.assessment, with.assessment) else {
            continue;
        };
        for (a, b) in without.items.iter().zip(&with.items) {
            assert!(b.duty.amount <= a.duty.amount || without.waived != with.waived);
            if b.duty.why.contains("korea_韩国") || b.duty.why.contains("apta_亚太") {
                assert!(
                    b.duty.why.contains("conventional rate under"),
                    "{}",
                    b.duty.why
                );
                lowered += 1;
            } else {
                assert_eq!(b.duty.rate, a.duty.rate, "{}", b.duty.why);
                unchanged += 1;
            }
        }
    }
    assert!(
        lowered >= 10 && unchanged >= 1,
        "{lowered} lowered, {unchanged} unchanged"
    );
}
