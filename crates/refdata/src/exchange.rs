//! Customs monthly exchange rates (海关汇率): currency, month, yuan per unit.
//!
//! The rate for a month is published by customs before the month starts. The shipped file is
//! example data; operators load the official table with [`ExchangeRates::parse`].

use std::collections::BTreeMap;
use std::str::FromStr;

use chrono::{Datelike, NaiveDate};
use jinguan_types::CurrencyCode;
use rust_decimal::Decimal;

use crate::Error;

/// Exchange rates keyed by currency and month.
#[derive(Debug, Clone, Default)]
pub struct ExchangeRates {
    /// (currency, year, month) → yuan per unit.
    rates: BTreeMap<(CurrencyCode, i32, u32), Decimal>,
    /// True when the table is marked example data (`source` column `example`).
    pub is_example: bool,
}

impl ExchangeRates {
    /// Parses the table format: lines starting with `#` are comments; header
    /// `currency,month,cny_per_unit,source`; month as `YYYY-MM`; rate a positive decimal.
    pub fn parse(file: &str, text: &str) -> Result<Self, Error> {
        let body: String = text
            .lines()
            .filter(|l| !l.trim_start().starts_with('#'))
            .collect::<Vec<_>>()
            .join("\n");
        let mut reader = csv::Reader::from_reader(body.as_bytes());
        let mut table = Self::default();
        for (row, record) in reader.records().enumerate() {
            let record = record.map_err(|e| Error::csv(file, e))?;
            let get = |i| record.get(i).unwrap_or("").trim();
            let bad = |what: &str| Error::bad(file, format!("row {}: {what}", row + 1));
            let currency = CurrencyCode::parse(get(0)).map_err(|e| bad(&e.to_string()))?;
            let month = NaiveDate::parse_from_str(&format!("{}-01", get(1)), "%Y-%m-%d")
                .map_err(|_| bad("month must be YYYY-MM"))?;
            let rate = Decimal::from_str(get(2)).map_err(|_| bad("rate must be a decimal"))?;
            if rate <= Decimal::ZERO {
                return Err(bad("rate must be positive"));
            }
            if get(3) == "example" {
                table.is_example = true;
            }
            if table
                .rates
                .insert((currency, month.year(), month.month()), rate)
                .is_some()
            {
                return Err(bad("duplicate currency and month"));
            }
        }
        Ok(table)
    }

    /// Yuan per unit of `currency` for the month containing `date`. CNY is always 1.
    pub fn rate_on(&self, currency: CurrencyCode, date: NaiveDate) -> Option<Decimal> {
        if currency == CurrencyCode::CNY {
            return Some(Decimal::ONE);
        }
        self.rates
            .get(&(currency, date.year(), date.month()))
            .copied()
    }

    /// Number of (currency, month) rates.
    pub fn len(&self) -> usize {
        self.rates.len()
    }

    /// Whether the table is empty.
    pub fn is_empty(&self) -> bool {
        self.rates.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_looks_up_by_month() {
        let text = "# comment\ncurrency,month,cny_per_unit,source\nUSD,2026-11,7.0550,official\n";
        let table = ExchangeRates::parse("t.csv", text).unwrap();
        let nov = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        let dec = NaiveDate::from_ymd_opt(2026, 12, 1).unwrap();
        assert_eq!(
            table.rate_on(CurrencyCode::USD, nov),
            Some(Decimal::from_str("7.0550").unwrap())
        );
        assert_eq!(table.rate_on(CurrencyCode::USD, dec), None);
        assert_eq!(table.rate_on(CurrencyCode::CNY, dec), Some(Decimal::ONE));
        assert!(!table.is_example);
    }

    #[test]
    fn rejects_bad_rows() {
        for bad in [
            "USD,2026-13,7,x",
            "USD,2026-11,-1,x",
            "usd,2026-11,7,x",
            "USD,2026-11,abc,x",
        ] {
            let text = format!("currency,month,cny_per_unit,source\n{bad}\n");
            assert!(ExchangeRates::parse("t.csv", &text).is_err(), "{bad}");
        }
        let dup = "currency,month,cny_per_unit,source\nUSD,2026-11,7,x\nUSD,2026-11,7.1,x\n";
        assert!(ExchangeRates::parse("t.csv", dup).is_err());
    }
}
