//! The synthetic declarations are a real broker's: the clearance pipeline accepts nearly all
//! of them (licences attached, no prohibited goods, rates for the invoice currency, filing
//! numbers where the trade mode draws on a manual or account book).

#![allow(clippy::unwrap_used)] // A panic in a test is a test failure with its message.

use std::collections::BTreeMap;

use jinguan_clearance::pipeline::{run, Context};
use jinguan_clearance::risk::{ReferencePrices, RuleSet, DEMO_RULES};
use jinguan_refdata::RefData;
use jinguan_testkit::{GenOptions, Generator};
use jinguan_types::Severity;

/// Declarations run per population.
const COUNT: u64 = 1000;
/// Least share accepted.
const MIN_ACCEPTED: f64 = 0.95;

#[test]
fn nearly_all_generated_declarations_are_accepted() {
    let refdata = RefData::load().unwrap();
    let rules = RuleSet::from_json(DEMO_RULES).unwrap();
    let references = ReferencePrices::default();
    let context = Context {
        refdata: &refdata,
        rules: &rules,
        references: &references,
        general_rate_origins: &[],
    };
    let mut failures = Vec::new();
    // A small population (a few traders, few brokers) and a large one.
    for (seed, enterprises) in [(7, 40), (2026, 2000)] {
        let generator = Generator::new(
            &refdata,
            GenOptions {
                count: COUNT as usize,
                seed,
                enterprises,
            },
        )
        .unwrap();
        let mut accepted = 0u64;
        // Rejected declarations by error code (a declaration counts once per code).
        let mut rejections: BTreeMap<String, usize> = BTreeMap::new();
        for i in 0..COUNT {
            let mut declaration = generator.declaration(i);
            let entry_id = format!("53002026{i:010}");
            let outcome = run(&mut declaration, &context, &entry_id, "general");
            if outcome.accepted {
                accepted += 1;
                continue;
            }
            let mut codes: Vec<&str> = outcome
                .findings
                .iter()
                .filter(|f| f.severity == Severity::Error)
                .map(|f| f.code.as_str())
                .collect();
            codes.sort_unstable();
            codes.dedup();
            for code in codes {
                *rejections.entry(code.to_owned()).or_default() += 1;
            }
        }
        let report = format!(
            "seed {seed}, {enterprises} enterprises: {accepted} of {COUNT} accepted; \
             rejected declarations by error code {rejections:?}"
        );
        eprintln!("{report}");
        if (accepted as f64) < MIN_ACCEPTED * COUNT as f64 {
            failures.push(report);
        }
    }
    assert!(
        failures.is_empty(),
        "fewer than {MIN_ACCEPTED} accepted:\n{}",
        failures.join("\n")
    );
}
