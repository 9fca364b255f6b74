//! Risk and selectivity: which channel a declaration goes to, and why.
//!
//! Rules are data ([`RuleSet`], JSON): each has an id, a reason a trader can read, a validity
//! period, the channel it sends a declaration to, and conditions that must all hold — on head
//! facts (trade mode, countries, the declarant's credit class, …) and, when any condition
//! names an item fact, on one and the same item (commodity code, origin, unit value in yuan
//! per legal unit, value per kilogram, ratio to the reference price). The channel is the
//! strictest any fired rule names (red over yellow over green); random selection may raise
//! it, at a rate per credit class, decided by a hash of (entry id, seed) so the same
//! declaration under the same seed always draws the same. Every rule that fired, and the
//! draw, is listed with its reason.
//!
//! [`ReferencePrices`] learns, from released declarations, a robust median and spread (median
//! absolute deviation) of the unit value per (commodity, origin, legal unit); rules compare
//! an item's `price_ratio` with it. [`backtest`] runs a rule set over past declarations and
//! reports what it would have selected, changing nothing.

use std::collections::{BTreeMap, HashMap};

use chrono::NaiveDate;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::lifecycle::Channel;

/// A small demonstration rule set (two rules and a 3 % draw for the general credit class),
/// used by `jinguan serve` until rules are managed through the API, and by the benchmarks.
pub const DEMO_RULES: &str = r#"{
  "version": 1,
  "rules": [
    {"id": "PHONES", "reason": "mobile phones: documents reviewed", "channel": "yellow",
     "valid_from": "2020-01-01", "when": [{"fact": "item.hs_code", "op": "prefix", "value": "8517"}]},
    {"id": "LARGE", "reason": "value over 5 million yuan", "channel": "red",
     "valid_from": "2020-01-01", "when": [{"fact": "total_value_cny", "op": "gt", "value": 5000000}]}
  ],
  "random": {"percent": {"general": "3"}, "channel": "red", "seed": 1}
}"#;

/// A fact about a declaration or an item. Stored tagged (`{"number": "12.5"}`,
/// `{"text": "8517"}`): decimals travel as strings, so an untagged form could not tell a
/// commodity code from a figure when read back, and a back-test over stored facts would
/// then decide differently from the live selection.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Fact {
    /// A figure.
    Number(Decimal),
    /// A code or text.
    Text(String),
}

/// Named facts.
pub type Facts = BTreeMap<String, Fact>;

/// What selectivity looks at: head facts and each item's facts.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Subject {
    /// The entry id (or another stable id), the input of the random draw.
    pub entry_id: String,
    /// The declarant's credit class (e.g. `advanced`, `general`, `dishonest`).
    pub credit_class: String,
    /// Head facts.
    pub head: Facts,
    /// Per item.
    pub items: Vec<Facts>,
}

/// A comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Op {
    /// Equal.
    Eq,
    /// Not equal.
    Ne,
    /// One of a list.
    In,
    /// Text starting with.
    Prefix,
    /// Greater than.
    Gt,
    /// Greater or equal.
    Ge,
    /// Less than.
    Lt,
    /// Less or equal.
    Le,
}

/// One condition: `fact op value`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Condition {
    /// The fact's name; `item.` names an item fact (e.g. `item.hs_code`).
    pub fact: String,
    /// The comparison.
    pub op: Op,
    /// What it is compared with (a list for `in`).
    pub value: serde_json::Value,
}

/// A rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Rule {
    /// Stable id.
    pub id: String,
    /// Why it selects, for the trader and the officer.
    pub reason: String,
    /// The channel it sends a declaration to.
    pub channel: Channel,
    /// First day it applies.
    pub valid_from: NaiveDate,
    /// Last day it applies, if it ends.
    #[serde(default)]
    pub valid_to: Option<NaiveDate>,
    /// All must hold.
    pub when: Vec<Condition>,
}

/// Random selection: percent of declarations per credit class, and the channel they go to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RandomSelection {
    /// Percent selected, per credit class (a class not listed is not drawn).
    pub percent: BTreeMap<String, Decimal>,
    /// Channel of a drawn declaration.
    pub channel: Channel,
    /// The seed, so a draw can be replayed.
    pub seed: u64,
}

/// A versioned rule set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RuleSet {
    /// Version, raised at each change.
    pub version: u32,
    /// The rules.
    pub rules: Vec<Rule>,
    /// Random selection.
    pub random: RandomSelection,
}

/// Why a declaration went where it did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reason {
    /// The rule id (`random` for the draw).
    pub rule: String,
    /// The channel that rule asks for.
    pub channel: Channel,
    /// The rule's reason, with the item (1-based) it matched, if any.
    pub text: String,
    /// The item it matched.
    pub item: Option<usize>,
}

/// The channel and every reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Decision {
    /// Green, yellow or red.
    pub channel: Channel,
    /// Every rule that fired, and the draw if it selected.
    pub reasons: Vec<Reason>,
    /// The rule set version that decided.
    pub version: u32,
}

/// A rule set that cannot be used.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("K0101: rule {rule}: {reason}")]
pub struct RuleError {
    /// The rule.
    pub rule: String,
    /// What is wrong.
    pub reason: String,
}

fn rank(channel: Channel) -> u8 {
    match channel {
        Channel::Green => 0,
        Channel::Yellow => 1,
        Channel::Red => 2,
    }
}

impl RuleSet {
    /// Parses a rule set from JSON and checks every condition's value fits its comparison.
    pub fn from_json(text: &str) -> Result<Self, RuleError> {
        let set: Self = serde_json::from_str(text).map_err(|e| RuleError {
            rule: "-".into(),
            reason: format!("not a rule set: {e}"),
        })?;
        for rule in &set.rules {
            for condition in &rule.when {
                let ok = match condition.op {
                    Op::In => condition.value.is_array(),
                    Op::Gt | Op::Ge | Op::Lt | Op::Le => number(&condition.value).is_some(),
                    Op::Eq | Op::Ne | Op::Prefix => !condition.value.is_array(),
                };
                if !ok {
                    return Err(RuleError {
                        rule: rule.id.clone(),
                        reason: format!(
                            "{:?} cannot compare with {}",
                            condition.op, condition.value
                        ),
                    });
                }
            }
        }
        Ok(set)
    }

    /// Decides a declaration's channel on `date`.
    pub fn select(&self, subject: &Subject, date: NaiveDate) -> Decision {
        let mut reasons = Vec::new();
        for rule in &self.rules {
            if date < rule.valid_from || rule.valid_to.is_some_and(|to| date > to) {
                continue;
            }
            let on_items = rule.when.iter().any(|c| c.fact.starts_with("item."));
            if !on_items {
                if rule.when.iter().all(|c| holds(c, &subject.head, None)) {
                    reasons.push(Reason {
                        rule: rule.id.clone(),
                        channel: rule.channel,
                        text: rule.reason.clone(),
                        item: None,
                    });
                }
                continue;
            }
            if let Some(i) = subject.items.iter().position(|item| {
                rule.when
                    .iter()
                    .all(|c| holds(c, &subject.head, Some(item)))
            }) {
                reasons.push(Reason {
                    rule: rule.id.clone(),
                    channel: rule.channel,
                    text: format!("{} (item {})", rule.reason, i + 1),
                    item: Some(i + 1),
                });
            }
        }
        if let Some(percent) = self.random.percent.get(&subject.credit_class) {
            let draw = draw(&subject.entry_id, self.random.seed);
            // The draw is in hundredths of a percent: 0..10,000.
            if Decimal::from(draw) < percent * Decimal::ONE_HUNDRED {
                reasons.push(Reason {
                    rule: "random".into(),
                    channel: self.random.channel,
                    text: format!(
                        "random selection: {percent}% of {} declarations",
                        subject.credit_class
                    ),
                    item: None,
                });
            }
        }
        let channel = reasons
            .iter()
            .map(|r| r.channel)
            .max_by_key(|c| rank(*c))
            .unwrap_or(Channel::Green);
        Decision {
            channel,
            reasons,
            version: self.version,
        }
    }
}

/// The random draw for an entry id: 0..10,000, from SplitMix64 over the id's bytes and the
/// seed. Stable across platforms and versions: changing it changes which past declarations a
/// back-test would have drawn.
pub fn draw(entry_id: &str, seed: u64) -> u64 {
    let mut state = seed;
    let mut mix = |value: u64| {
        state = state
            .wrapping_add(value)
            .wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let mut last = 0;
    for chunk in entry_id.as_bytes().chunks(8) {
        let mut bytes = [0u8; 8];
        bytes[..chunk.len()].copy_from_slice(chunk);
        last = mix(u64::from_le_bytes(bytes));
    }
    mix(last) % 10_000
}

fn number(value: &serde_json::Value) -> Option<Decimal> {
    match value {
        serde_json::Value::Number(n) => n.to_string().parse().ok(),
        serde_json::Value::String(s) => s.parse().ok(),
        _ => None,
    }
}

fn text(value: &serde_json::Value) -> String {
    match value {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn holds(condition: &Condition, head: &Facts, item: Option<&Facts>) -> bool {
    let fact = match condition.fact.strip_prefix("item.") {
        Some(name) => item.and_then(|i| i.get(name)),
        None => head.get(&condition.fact),
    };
    // A fact the declaration does not have satisfies nothing, not even `ne`.
    let Some(fact) = fact else { return false };
    let value = &condition.value;
    match (condition.op, fact) {
        (Op::Eq, Fact::Text(t)) => *t == text(value),
        (Op::Ne, Fact::Text(t)) => *t != text(value),
        (Op::Eq, Fact::Number(n)) => number(value) == Some(*n),
        (Op::Ne, Fact::Number(n)) => number(value) != Some(*n),
        (Op::In, fact) => value.as_array().is_some_and(|list| {
            list.iter().any(|v| match fact {
                Fact::Text(t) => *t == text(v),
                Fact::Number(n) => number(v) == Some(*n),
            })
        }),
        (Op::Prefix, Fact::Text(t)) => t.starts_with(&text(value)),
        (op, Fact::Number(n)) => match number(value) {
            Some(v) => match op {
                Op::Gt => *n > v,
                Op::Ge => *n >= v,
                Op::Lt => *n < v,
                Op::Le => *n <= v,
                _ => false,
            },
            None => false,
        },
        _ => false,
    }
}

/// A reference price: median and median absolute deviation of unit values.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reference {
    /// Median unit value (yuan per legal unit).
    pub median: Decimal,
    /// Median absolute deviation from it.
    pub spread: Decimal,
    /// Observations behind it.
    pub samples: usize,
}

/// Reference prices per (commodity code, origin, legal unit).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReferencePrices {
    prices: HashMap<(String, String, String), Reference>,
}

fn median(values: &mut [Decimal]) -> Decimal {
    values.sort();
    let n = values.len();
    if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / Decimal::TWO
    }
}

impl ReferencePrices {
    /// Learns from released declarations' items: (commodity, origin, unit, unit value).
    /// Keys with fewer than `min_samples` observations get no reference.
    pub fn learn<'a>(
        observations: impl IntoIterator<Item = (&'a str, &'a str, &'a str, Decimal)>,
        min_samples: usize,
    ) -> Self {
        let mut grouped: HashMap<(String, String, String), Vec<Decimal>> = HashMap::new();
        for (code, origin, unit, value) in observations {
            grouped
                .entry((code.to_owned(), origin.to_owned(), unit.to_owned()))
                .or_default()
                .push(value);
        }
        let prices = grouped
            .into_iter()
            .filter(|(_, values)| values.len() >= min_samples.max(1))
            .map(|(key, mut values)| {
                let m = median(&mut values);
                let mut deviations: Vec<Decimal> = values.iter().map(|v| (*v - m).abs()).collect();
                let reference = Reference {
                    median: m,
                    spread: median(&mut deviations),
                    samples: values.len(),
                };
                (key, reference)
            })
            .collect();
        Self { prices }
    }

    /// The reference for a key, if learnt.
    pub fn get(&self, code: &str, origin: &str, unit: &str) -> Option<Reference> {
        self.prices
            .get(&(code.to_owned(), origin.to_owned(), unit.to_owned()))
            .copied()
    }

    /// Adds `price_ratio` (unit value ÷ median) and `price_deviations` ((unit value − median)
    /// ÷ spread, when the spread is not zero) to an item's facts, from its `hs_code`,
    /// `origin_country`, `legal_unit` and `unit_value_cny` facts.
    pub fn annotate(&self, item: &mut Facts) {
        let text = |name: &str| match item.get(name) {
            Some(Fact::Text(t)) => Some(t.clone()),
            _ => None,
        };
        let (Some(code), Some(origin), Some(unit)) =
            (text("hs_code"), text("origin_country"), text("legal_unit"))
        else {
            return;
        };
        let Some(Fact::Number(value)) = item.get("unit_value_cny").cloned() else {
            return;
        };
        let Some(reference) = self.get(&code, &origin, &unit) else {
            return;
        };
        if !reference.median.is_zero() {
            item.insert(
                "price_ratio".into(),
                Fact::Number((value / reference.median).round_dp(4)),
            );
        }
        if !reference.spread.is_zero() {
            item.insert(
                "price_deviations".into(),
                Fact::Number(((value - reference.median) / reference.spread).round_dp(4)),
            );
        }
    }
}

/// What a rule set would have selected among past declarations.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Backtest {
    /// Declarations evaluated.
    pub declarations: usize,
    /// How many went to each channel.
    pub green: usize,
    /// Yellow.
    pub yellow: usize,
    /// Red.
    pub red: usize,
    /// Per rule id, how many declarations it fired on.
    pub fired: BTreeMap<String, usize>,
    /// Each declaration's decision, by entry id.
    pub decisions: Vec<(String, Decision)>,
}

/// Runs `rules` over past declarations (each with its declaration date), changing nothing.
pub fn backtest(rules: &RuleSet, past: &[(Subject, NaiveDate)]) -> Backtest {
    let mut report = Backtest {
        declarations: past.len(),
        green: 0,
        yellow: 0,
        red: 0,
        fired: BTreeMap::new(),
        decisions: Vec::with_capacity(past.len()),
    };
    for (subject, date) in past {
        let decision = rules.select(subject, *date);
        match decision.channel {
            Channel::Green => report.green += 1,
            Channel::Yellow => report.yellow += 1,
            Channel::Red => report.red += 1,
        }
        for reason in &decision.reasons {
            *report.fired.entry(reason.rule.clone()).or_default() += 1;
        }
        report.decisions.push((subject.entry_id.clone(), decision));
    }
    report
}
