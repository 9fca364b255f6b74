//! Money and quantities, on decimals. No floating point anywhere near an amount.

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

use crate::{CurrencyCode, UnitCode};

/// Rounds to the fen (0.01) half away from zero (四舍五入), the rule for duty and tax amounts.
pub fn round_fen(amount: Decimal) -> Decimal {
    amount.round_dp_with_strategy(2, RoundingStrategy::MidpointAwayFromZero)
}

/// An amount in a currency. The amount keeps full precision until [`Money::round_fen`] is
/// called, so apportioning and conversion do not accumulate rounding errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Money {
    /// The amount, in units of `currency` (yuan, dollars), not in fen or cents.
    pub amount: Decimal,
    /// The currency.
    pub currency: CurrencyCode,
}

impl Money {
    /// An amount in a currency.
    pub fn new(amount: Decimal, currency: CurrencyCode) -> Self {
        Self { amount, currency }
    }

    /// An amount in yuan.
    pub fn cny(amount: Decimal) -> Self {
        Self::new(amount, CurrencyCode::CNY)
    }

    /// The amount rounded to two decimals, half away from zero.
    pub fn round_fen(self) -> Self {
        Self {
            amount: round_fen(self.amount),
            ..self
        }
    }

    /// Converts to yuan at `rate` yuan per unit of this currency (the customs monthly rate).
    pub fn to_cny(self, rate_cny_per_unit: Decimal) -> Self {
        Self::cny(self.amount * rate_cny_per_unit)
    }

    /// The amount in whole fen; `None` if it does not fit in an `i64` or is not whole fen.
    pub fn fen(&self) -> Option<i64> {
        let fen = self.amount * Decimal::ONE_HUNDRED;
        if fen.fract() != Decimal::ZERO {
            return None;
        }
        i64::try_from(fen).ok()
    }
}

impl std::fmt::Display for Money {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{} {}", self.amount, self.currency)
    }
}

/// A quantity with its unit of measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Quantity {
    /// How many units.
    pub value: Decimal,
    /// The customs unit code.
    pub unit: UnitCode,
}

impl Quantity {
    /// A quantity.
    pub fn new(value: Decimal, unit: UnitCode) -> Self {
        Self { value, unit }
    }
}

#[cfg(test)]
mod tests {
    use std::str::FromStr;

    use super::*;

    fn d(s: &str) -> Decimal {
        Decimal::from_str(s).unwrap()
    }

    #[test]
    fn fen_rounding_is_half_away_from_zero() {
        assert_eq!(round_fen(d("1.005")), d("1.01"));
        assert_eq!(round_fen(d("1.004999")), d("1.00"));
        assert_eq!(round_fen(d("2.675")), d("2.68"), "a float would give 2.67");
        assert_eq!(round_fen(d("-1.005")), d("-1.01"));
        assert_eq!(round_fen(d("49.995")), d("50.00"));
    }

    #[test]
    fn money_conversion_keeps_precision_until_rounded() {
        let usd = Money::new(d("13.03"), CurrencyCode::USD);
        let cny = usd.to_cny(d("7.1884"));
        assert_eq!(cny.amount, d("93.664852"));
        assert_eq!(cny.round_fen().amount, d("93.66"));
        assert_eq!(cny.round_fen().fen(), Some(9366));
        assert_eq!(cny.fen(), None);
        // Three tenths is exact in decimal: no 0.30000000000000004.
        assert_eq!(d("0.1") + d("0.2"), d("0.3"));
    }

    #[test]
    fn money_serializes_amount_as_string() {
        let money = Money::cny(d("100.50"));
        let json = serde_json::to_string(&money).unwrap();
        assert_eq!(json, r#"{"amount":"100.50","currency":"CNY"}"#);
        let back: Money = serde_json::from_str(&json).unwrap();
        assert_eq!(back, money);
    }
}
