//! Tariff rate expressions: parse the tariff's free text into something a duty engine can
//! evaluate.
//!
//! The tariff writes rates as text: `8%`, `0元/升`, `20%+0.912元/升`, rebate lists `9%,13%`,
//! in-quota notes `关税配额税率：0`, and thresholded rules such as
//! `完税价大于等于2.64295885元：0.253元/升，完税价小于2.64295885元：0.2227元/升。`.
//! [`parse`] turns each into a [`RateExpr`], with units resolved to customs unit codes and
//! every number a decimal.

use std::str::FromStr;

use jinguan_types::{CurrencyCode, UnitCode};
use rust_decimal::Decimal;
use serde::Serialize;

/// A parsed rate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum RateExpr {
    /// A percentage of the dutiable value.
    AdValorem {
        /// Percent, e.g. `13` for 13 %.
        percent: Decimal,
    },
    /// An amount per unit of quantity.
    Specific(SpecificRate),
    /// A percentage plus an amount per unit.
    Compound {
        /// Percent of the dutiable value.
        percent: Decimal,
        /// The per-unit part.
        specific: SpecificRate,
    },
    /// Rules chosen by comparing the dutiable value (per unit) with thresholds.
    Thresholded {
        /// The branches, in the order written; exactly one applies to a value.
        branches: Vec<Branch>,
    },
    /// Several possible rates; the applicable one depends on a finer code (export rebate).
    Alternatives {
        /// The possible rates.
        options: Vec<RateExpr>,
    },
    /// The rate inside a tariff-rate quota (关税配额税率).
    TariffQuota {
        /// The in-quota rate.
        in_quota: Box<RateExpr>,
    },
}

/// An amount per unit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SpecificRate {
    /// Amount per unit.
    pub amount: Decimal,
    /// Currency of the amount (yuan in the tariff).
    pub currency: CurrencyCode,
    /// Customs unit code the amount is per, e.g. `095` litre.
    pub unit: UnitCode,
    /// The unit's Chinese name as written, e.g. `升`.
    pub unit_name: String,
}

/// How a branch compares the value with its threshold.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Comparison {
    /// value < threshold (小于).
    Less,
    /// value <= threshold (不高于, ≤).
    LessOrEqual,
    /// value > threshold (高于, >).
    Greater,
    /// value >= threshold (大于等于, ≥).
    GreaterOrEqual,
}

impl Comparison {
    /// Whether `value` satisfies the comparison against `threshold`.
    pub fn holds(self, value: Decimal, threshold: Decimal) -> bool {
        match self {
            Self::Less => value < threshold,
            Self::LessOrEqual => value <= threshold,
            Self::Greater => value > threshold,
            Self::GreaterOrEqual => value >= threshold,
        }
    }
}

/// One branch of a thresholded rate.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Branch {
    /// The comparison.
    pub comparison: Comparison,
    /// Threshold amount.
    pub threshold: Decimal,
    /// Currency of the threshold (`元` yuan or `美元` US dollars).
    pub threshold_currency: CurrencyCode,
    /// The unit the dutiable value is taken per; `None` means per first legal unit.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub per_unit: Option<UnitCode>,
    /// The rate when the comparison holds.
    pub rate: RateExpr,
}

impl RateExpr {
    /// A short name of the kind, for statistics.
    pub fn kind(&self) -> &'static str {
        match self {
            Self::AdValorem { .. } => "ad_valorem",
            Self::Specific(_) => "specific",
            Self::Compound { .. } => "compound",
            Self::Thresholded { .. } => "thresholded",
            Self::Alternatives { .. } => "alternatives",
            Self::TariffQuota { .. } => "tariff_quota",
        }
    }

    /// The tax for a dutiable value and quantity, unrounded, in yuan.
    ///
    /// `quantity` is in the rate's unit (the legal unit); `usd_cny` converts thresholds written
    /// in US dollars. Returns `None` when the rate cannot be applied without more facts: an
    /// alternative whose choice depends on a finer code, a specific rate without a quantity,
    /// or a dollar threshold without a rate.
    pub fn evaluate(
        &self,
        value_cny: Decimal,
        quantity: Option<Decimal>,
        usd_cny: Option<Decimal>,
    ) -> Option<Decimal> {
        match self {
            Self::AdValorem { percent } => Some(value_cny * percent / Decimal::ONE_HUNDRED),
            Self::Specific(specific) => Some(specific.amount * quantity?),
            Self::Compound { percent, specific } => {
                Some(value_cny * percent / Decimal::ONE_HUNDRED + specific.amount * quantity?)
            }
            Self::Thresholded { branches } => {
                let quantity = quantity.filter(|q| !q.is_zero())?;
                let value_per_unit = value_cny / quantity;
                for branch in branches {
                    let threshold_cny = if branch.threshold_currency == CurrencyCode::CNY {
                        branch.threshold
                    } else {
                        branch.threshold * usd_cny?
                    };
                    if branch.comparison.holds(value_per_unit, threshold_cny) {
                        return branch.rate.evaluate(value_cny, Some(quantity), usd_cny);
                    }
                }
                None
            }
            Self::Alternatives { .. } => None,
            Self::TariffQuota { in_quota } => in_quota.evaluate(value_cny, quantity, usd_cny),
        }
    }
}

/// Why a rate string could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("R0001: cannot parse rate {text:?} at character {at}: {reason}")]
pub struct RateError {
    /// The text.
    pub text: String,
    /// Character offset of the problem.
    pub at: usize,
    /// What was expected.
    pub reason: String,
}

/// Parses a non-empty rate string. `unit_code` resolves a Chinese unit name (`升`) to its
/// customs code.
pub fn parse(
    text: &str,
    unit_code: &dyn Fn(&str) -> Option<UnitCode>,
) -> Result<RateExpr, RateError> {
    // PDF copies left stray spaces inside some rates (`0元/平 方米`); they carry no meaning.
    let chars: Vec<char> = text.chars().filter(|c| !c.is_whitespace()).collect();
    let mut parser = Parser {
        chars: &chars,
        pos: 0,
        text,
        unit_code,
    };
    let expr = parser.rate()?;
    if parser.pos != chars.len() {
        return Err(parser.error("unexpected text after the rate"));
    }
    Ok(expr)
}

struct Parser<'a> {
    chars: &'a [char],
    pos: usize,
    text: &'a str,
    unit_code: &'a dyn Fn(&str) -> Option<UnitCode>,
}

impl Parser<'_> {
    fn error(&self, reason: &str) -> RateError {
        RateError {
            text: self.text.to_owned(),
            at: self.pos,
            reason: reason.to_owned(),
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn eat_str(&mut self, word: &str) -> bool {
        let mut at = self.pos;
        for expected in word.chars() {
            if self.chars.get(at) != Some(&expected) {
                return false;
            }
            at += 1;
        }
        self.pos = at;
        true
    }

    fn eat_any(&mut self, words: &[&str]) -> bool {
        words.iter().any(|w| self.eat_str(w))
    }

    fn rate(&mut self) -> Result<RateExpr, RateError> {
        if self.eat_str("关税配额税率") {
            if !self.eat_any(&["：", ":"]) {
                return Err(self.error("expected ： after 关税配额税率"));
            }
            // In-quota rates are written as bare percentages (`关税配额税率：15`).
            let percent = self.number()?;
            self.eat_str("%");
            return Ok(RateExpr::TariffQuota {
                in_quota: Box::new(RateExpr::AdValorem { percent }),
            });
        }
        if matches!(self.peek(), Some('完' | '计')) {
            return self.thresholded();
        }
        let first = self.simple(None)?;
        if self.peek() != Some(',') {
            return Ok(first);
        }
        let mut options = vec![first];
        while self.eat_str(",") {
            options.push(self.simple(None)?);
        }
        Ok(RateExpr::Alternatives { options })
    }

    /// `N%`, `N元/unit`, `N%+N元/unit`; a bare `0` means nothing is due (0 %).
    /// `default_unit` is the unit a specific part without `/unit` is taken per.
    fn simple(&mut self, default_unit: Option<(UnitCode, &str)>) -> Result<RateExpr, RateError> {
        let number = self.number()?;
        if self.eat_str("%") {
            if self.eat_str("+") {
                let amount = self.number()?;
                let specific = self.specific(amount, default_unit)?;
                return Ok(RateExpr::Compound {
                    percent: number,
                    specific,
                });
            }
            return Ok(RateExpr::AdValorem { percent: number });
        }
        if self.peek() == Some('元') {
            return Ok(RateExpr::Specific(self.specific(number, default_unit)?));
        }
        if number.is_zero() {
            return Ok(RateExpr::AdValorem { percent: number });
        }
        Err(self.error("expected % or 元 after the number"))
    }

    fn specific(
        &mut self,
        amount: Decimal,
        default_unit: Option<(UnitCode, &str)>,
    ) -> Result<SpecificRate, RateError> {
        if !self.eat_str("元") {
            return Err(self.error("expected 元"));
        }
        if self.eat_str("/") {
            let (unit, unit_name) = self.unit()?;
            return Ok(SpecificRate {
                amount,
                currency: CurrencyCode::CNY,
                unit,
                unit_name,
            });
        }
        match default_unit {
            Some((unit, name)) => Ok(SpecificRate {
                amount,
                currency: CurrencyCode::CNY,
                unit,
                unit_name: name.to_owned(),
            }),
            None => Err(self.error("a specific rate needs /unit")),
        }
    }

    /// The longest run of characters that names a known unit.
    fn unit(&mut self) -> Result<(UnitCode, String), RateError> {
        let stop = |c: &char| matches!(c, '：' | ':' | '，' | ',' | '；' | ';' | '。' | '+');
        let end = self.chars[self.pos..]
            .iter()
            .position(stop)
            .map_or(self.chars.len(), |p| self.pos + p);
        for cut in (self.pos + 1..=end).rev() {
            let name: String = self.chars[self.pos..cut].iter().collect();
            if let Some(code) = (self.unit_code)(&name) {
                self.pos = cut;
                return Ok((code, name));
            }
        }
        Err(self.error("unknown unit"))
    }

    fn number(&mut self) -> Result<Decimal, RateError> {
        let start = self.pos;
        while matches!(self.peek(), Some(c) if c.is_ascii_digit() || c == '.') {
            self.pos += 1;
        }
        let digits: String = self.chars[start..self.pos].iter().collect();
        Decimal::from_str(&digits).map_err(|_| {
            self.pos = start;
            self.error("expected a number")
        })
    }

    fn thresholded(&mut self) -> Result<RateExpr, RateError> {
        let mut branches = Vec::new();
        loop {
            if !self.eat_any(&["完税价格", "完税价", "计税价格"]) {
                return Err(self.error("expected 完税价 or 计税价格"));
            }
            let comparison = self.comparison()?;
            let threshold = self.number()?;
            let threshold_currency = if self.eat_str("美元") {
                CurrencyCode::USD
            } else if self.eat_str("元") {
                CurrencyCode::CNY
            } else {
                return Err(self.error("expected 元 or 美元 after the threshold"));
            };
            let per = if self.eat_str("/") {
                Some(self.unit()?)
            } else {
                None
            };
            if !self.eat_any(&["：", ":", "，", ","]) {
                return Err(self.error("expected ： after the condition"));
            }
            let default_unit = per.as_ref().map(|(code, name)| (*code, name.as_str()));
            let rate = self.simple(default_unit)?;
            branches.push(Branch {
                comparison,
                threshold,
                threshold_currency,
                per_unit: per.map(|(code, _)| code),
                rate,
            });
            if self.eat_any(&["。", "."]) || self.pos == self.chars.len() {
                break;
            }
            if !self.eat_any(&["，", "；", ";", ","]) {
                return Err(self.error("expected ， between branches"));
            }
        }
        if branches.len() < 2 {
            return Err(self.error("a thresholded rate needs at least two branches"));
        }
        Ok(RateExpr::Thresholded { branches })
    }

    fn comparison(&mut self) -> Result<Comparison, RateError> {
        // Longest words first: 大于等于 before 大于, 不高于 before 高于.
        const WORDS: &[(&str, Comparison)] = &[
            ("大于等于", Comparison::GreaterOrEqual),
            ("小于等于", Comparison::LessOrEqual),
            ("不高于", Comparison::LessOrEqual),
            ("不低于", Comparison::GreaterOrEqual),
            ("高于", Comparison::Greater),
            ("大于", Comparison::Greater),
            ("低于", Comparison::Less),
            ("小于", Comparison::Less),
            ("≤", Comparison::LessOrEqual),
            ("≥", Comparison::GreaterOrEqual),
            ("<=", Comparison::LessOrEqual),
            (">=", Comparison::GreaterOrEqual),
            ("＞", Comparison::Greater),
            (">", Comparison::Greater),
            ("＜", Comparison::Less),
            ("<", Comparison::Less),
        ];
        for (word, comparison) in WORDS {
            if self.eat_str(word) {
                return Ok(*comparison);
            }
        }
        Err(self.error("expected a comparison (大于等于, 小于, 不高于, 高于, ≤, >)"))
    }
}

#[cfg(test)]
mod tests {
    use expect_test::{expect, Expect};

    use super::*;

    fn units(name: &str) -> Option<UnitCode> {
        let code = match name {
            "升" => "095",
            "千克" => "035",
            "平方米" => "032",
            "台" => "001",
            _ => return None,
        };
        UnitCode::parse(code).ok()
    }

    fn check(text: &str, expected: Expect) {
        let actual = match parse(text, &units) {
            Ok(expr) => serde_json::to_string(&expr).unwrap(),
            Err(err) => err.to_string(),
        };
        expected.assert_eq(&actual);
    }

    #[test]
    fn simple_rates() {
        check("8%", expect![[r#"{"kind":"ad_valorem","percent":"8"}"#]]);
        check("0%", expect![[r#"{"kind":"ad_valorem","percent":"0"}"#]]);
        check(
            "0.5%",
            expect![[r#"{"kind":"ad_valorem","percent":"0.5"}"#]],
        );
        check(
            "0元/升",
            expect![[
                r#"{"kind":"specific","amount":"0","currency":"CNY","unit":"095","unit_name":"升"}"#
            ]],
        );
        check(
            "0元/平 方米",
            expect![[
                r#"{"kind":"specific","amount":"0","currency":"CNY","unit":"032","unit_name":"平方米"}"#
            ]],
        );
        check(
            "20%+0.912元/升",
            expect![[
                r#"{"kind":"compound","percent":"20","specific":{"amount":"0.912","currency":"CNY","unit":"095","unit_name":"升"}}"#
            ]],
        );
    }

    #[test]
    fn lists_and_quotas() {
        check(
            "0%,9%,13%",
            expect![[
                r#"{"kind":"alternatives","options":[{"kind":"ad_valorem","percent":"0"},{"kind":"ad_valorem","percent":"9"},{"kind":"ad_valorem","percent":"13"}]}"#
            ]],
        );
        check(
            "关税配额税率：15",
            expect![[r#"{"kind":"tariff_quota","in_quota":{"kind":"ad_valorem","percent":"15"}}"#]],
        );
    }

    #[test]
    fn thresholds() {
        check(
            "完税价大于等于2.64295885元：0.253元/升，完税价小于2.64295885元：0.2227元/升。",
            expect![[
                r#"{"kind":"thresholded","branches":[{"comparison":"greater_or_equal","threshold":"2.64295885","threshold_currency":"CNY","rate":{"kind":"specific","amount":"0.253","currency":"CNY","unit":"095","unit_name":"升"}},{"comparison":"less","threshold":"2.64295885","threshold_currency":"CNY","rate":{"kind":"specific","amount":"0.2227","currency":"CNY","unit":"095","unit_name":"升"}}]}"#
            ]],
        );
        check(
            "完税价大于等于10000元：15%，完税价小于10000元：0。",
            expect![[
                r#"{"kind":"thresholded","branches":[{"comparison":"greater_or_equal","threshold":"10000","threshold_currency":"CNY","rate":{"kind":"ad_valorem","percent":"15"}},{"comparison":"less","threshold":"10000","threshold_currency":"CNY","rate":{"kind":"ad_valorem","percent":"0"}}]}"#
            ]],
        );
        check(
            "计税价格≤5000美元/台，8.9%；计税价格＞5000美元/台：3.0%+2389.5元",
            expect![[
                r#"{"kind":"thresholded","branches":[{"comparison":"less_or_equal","threshold":"5000","threshold_currency":"USD","per_unit":"001","rate":{"kind":"ad_valorem","percent":"8.9"}},{"comparison":"greater","threshold":"5000","threshold_currency":"USD","per_unit":"001","rate":{"kind":"compound","percent":"3.0","specific":{"amount":"2389.5","currency":"CNY","unit":"001","unit_name":"台"}}}]}"#
            ]],
        );
    }

    #[test]
    fn errors_are_located() {
        check(
            "8",
            expect![[
                r#"R0001: cannot parse rate "8" at character 1: expected % or 元 after the number"#
            ]],
        );
        check(
            "5元/桶子",
            expect![[r#"R0001: cannot parse rate "5元/桶子" at character 3: unknown unit"#]],
        );
        check(
            "abc",
            expect![[r#"R0001: cannot parse rate "abc" at character 0: expected a number"#]],
        );
        check(
            "完税价大于1元：5%",
            expect![[
                r#"R0001: cannot parse rate "完税价大于1元：5%" at character 10: a thresholded rate needs at least two branches"#
            ]],
        );
        check(
            "8%%",
            expect![[
                r#"R0001: cannot parse rate "8%%" at character 2: unexpected text after the rate"#
            ]],
        );
    }

    #[test]
    fn evaluation() {
        let d = |s: &str| Decimal::from_str(s).unwrap();
        let beer = parse(
            "完税价大于等于2.64295885元：0.253元/升，完税价小于2.64295885元：0.2227元/升。",
            &units,
        )
        .unwrap();
        // 1000 litres at 3 yuan a litre: the upper branch.
        assert_eq!(
            beer.evaluate(d("3000"), Some(d("1000")), None),
            Some(d("253.000"))
        );
        // 1000 litres at 2 yuan a litre: the lower branch.
        assert_eq!(
            beer.evaluate(d("2000"), Some(d("1000")), None),
            Some(d("222.7000"))
        );
        let spirits = parse("20%+0.912元/升", &units).unwrap();
        assert_eq!(
            spirits.evaluate(d("1000"), Some(d("10")), None),
            Some(d("209.12"))
        );
        let cars = parse(
            "计税价格≤2000美元/台：12%；计税价格>2000美元/台：1.2%+1749.6元/台",
            &units,
        )
        .unwrap();
        assert_eq!(
            cars.evaluate(d("10000"), Some(d("1")), Some(d("7"))),
            Some(d("1200"))
        );
        assert_eq!(
            cars.evaluate(d("20000"), Some(d("1")), None),
            None,
            "needs the dollar rate"
        );
        let rebate = parse("9%,13%", &units).unwrap();
        assert_eq!(rebate.evaluate(d("100"), None, None), None);
    }
}
