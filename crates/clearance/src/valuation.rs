//! Customs value: what each item is worth, in yuan, at the border.
//!
//! Imports are valued CIF (the price plus freight and insurance to the place of import),
//! exports FOB (the price without them). The price's terms (成交方式) say what it already
//! includes; the declaration's head carries freight, insurance and other charges, each as a
//! percentage (mark 1), an amount per tonne of gross weight (mark 2) or a total (mark 3), in
//! its own currency. Head-level charges are shared over the items in proportion to their
//! value; every currency becomes yuan at the customs rate of the month (the caller's `rate`).
//! Amounts keep full decimal precision: rounding to the fen happens once, on each tax.
//!
//! Where an import's insurance is not declared, it is presumed at 3 ‰ of price plus freight
//! (《中华人民共和国海关审定进出口货物完税价格办法》), and the valuation says so.

use jinguan_types::CurrencyCode;
use rust_decimal::Decimal;
use serde::Serialize;

/// How the price was agreed (成交方式), by its code in the declaration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Terms {
    /// `1` CIF: price includes freight and insurance.
    Cif,
    /// `2` C&F (CFR): price includes freight.
    Cfr,
    /// `3` FOB: neither.
    Fob,
    /// `4` C&I: price includes insurance.
    Ci,
    /// `5` market price: taken as a border value.
    Market,
    /// `6` 垫仓: taken as a border value.
    Padding,
    /// `7` EXW: valued like FOB (freight declared must then run from the works).
    Exw,
}

impl Terms {
    /// The terms for a declaration code (`1`–`7`).
    pub fn from_code(code: &str) -> Result<Self, ValuationError> {
        Ok(match code {
            "1" => Self::Cif,
            "2" => Self::Cfr,
            "3" => Self::Fob,
            "4" => Self::Ci,
            "5" => Self::Market,
            "6" => Self::Padding,
            "7" => Self::Exw,
            other => return Err(ValuationError::Terms(other.to_owned())),
        })
    }

    fn includes_freight(self) -> bool {
        matches!(self, Self::Cif | Self::Cfr | Self::Market | Self::Padding)
    }

    fn includes_insurance(self) -> bool {
        matches!(self, Self::Cif | Self::Ci | Self::Market | Self::Padding)
    }
}

/// A head-level charge as declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "mark", rename_all = "snake_case")]
pub enum Charge {
    /// Mark 1: a percentage (of the price; for insurance, of price plus freight).
    Rate {
        /// Percent, e.g. `0.3` for 0.3 %.
        percent: Decimal,
    },
    /// Mark 2: an amount per tonne of gross weight.
    PerTonne {
        /// Amount per tonne.
        amount: Decimal,
        /// Its currency.
        currency: CurrencyCode,
    },
    /// Mark 3: a total amount.
    Total {
        /// The amount.
        amount: Decimal,
        /// Its currency.
        currency: CurrencyCode,
    },
}

impl Charge {
    /// A charge from the declaration's mark, rate and currency fields; `None` when the mark
    /// is absent (nothing declared).
    pub fn from_fields(
        mark: Option<&str>,
        rate: Option<Decimal>,
        currency: Option<CurrencyCode>,
    ) -> Result<Option<Self>, ValuationError> {
        let Some(mark) = mark.filter(|m| !m.is_empty()) else {
            return Ok(None);
        };
        let rate = rate.ok_or(ValuationError::Charge("a charge mark without an amount"))?;
        let currency = || currency.ok_or(ValuationError::Charge("an amount without a currency"));
        Ok(Some(match mark {
            "1" => Self::Rate { percent: rate },
            "2" => Self::PerTonne {
                amount: rate,
                currency: currency()?,
            },
            "3" => Self::Total {
                amount: rate,
                currency: currency()?,
            },
            _ => return Err(ValuationError::Charge("a charge mark other than 1, 2 or 3")),
        }))
    }
}

/// An item's price as declared.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Price {
    /// The item's total price.
    pub amount: Decimal,
    /// Its currency.
    pub currency: CurrencyCode,
}

/// What is valued: the terms, the items' prices and the head's charges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Basis {
    /// Import (CIF value) or export (FOB value).
    pub import: bool,
    /// The price terms.
    pub terms: Terms,
    /// Each item's total price.
    pub prices: Vec<Price>,
    /// Freight (运费).
    pub freight: Option<Charge>,
    /// Insurance (保费).
    pub insurance: Option<Charge>,
    /// Other charges (杂费), added to an import's value.
    pub other: Option<Charge>,
    /// Gross weight, for charges per tonne.
    pub gross_weight_kg: Option<Decimal>,
}

/// One item's value, in yuan.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ItemValue {
    /// The price converted.
    pub price: Decimal,
    /// Its share of the freight added (imports) or taken off (exports, negative).
    pub freight: Decimal,
    /// Its share of the insurance, likewise.
    pub insurance: Decimal,
    /// Its share of other charges.
    pub other: Decimal,
    /// The customs value: CIF for imports, FOB for exports.
    pub customs_value: Decimal,
}

/// A declaration's valuation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Valuation {
    /// Per item, in declaration order.
    pub items: Vec<ItemValue>,
    /// The sum of the items' customs values.
    pub total: Decimal,
    /// Whether an import's insurance was presumed at 3 ‰ because none was declared.
    pub insurance_presumed: bool,
}

/// Why a declaration cannot be valued.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValuationError {
    /// Terms code unknown.
    #[error("A0101: transaction terms {0:?} are not 1-7")]
    Terms(String),
    /// No customs rate for a currency in the month.
    #[error("A0102: no customs exchange rate for {0} in the month")]
    Rate(String),
    /// Freight is needed and not declared.
    #[error("A0103: the price does not include freight and none is declared")]
    Freight,
    /// A charge per tonne without the gross weight.
    #[error("A0104: a charge per tonne needs the gross weight")]
    Weight,
    /// A charge that cannot be used as declared.
    #[error("A0105: {0}")]
    Charge(&'static str),
    /// Nothing to value.
    #[error("A0106: no items with a price")]
    Empty,
}

impl ValuationError {
    /// The stable code (`A01xx`).
    pub fn code(&self) -> &'static str {
        match self {
            Self::Terms(_) => "A0101",
            Self::Rate(_) => "A0102",
            Self::Freight => "A0103",
            Self::Weight => "A0104",
            Self::Charge(_) => "A0105",
            Self::Empty => "A0106",
        }
    }
}

/// The presumed insurance rate when an import declares none: 3 ‰.
const PRESUMED_INSURANCE_PERCENT: Decimal = Decimal::from_parts(3, 0, 0, false, 1);

/// Values a declaration. `rate(currency)` is the customs rate (yuan per unit) of the month.
pub fn value(
    basis: &Basis,
    rate: impl Fn(CurrencyCode) -> Option<Decimal>,
) -> Result<Valuation, ValuationError> {
    if basis.prices.is_empty() {
        return Err(ValuationError::Empty);
    }
    let to_cny = |amount: Decimal, currency: CurrencyCode| {
        rate(currency)
            .map(|r| amount * r)
            .ok_or_else(|| ValuationError::Rate(currency.to_string()))
    };
    let prices = basis
        .prices
        .iter()
        .map(|p| to_cny(p.amount, p.currency))
        .collect::<Result<Vec<_>, _>>()?;
    let total: Decimal = prices.iter().sum();
    if total <= Decimal::ZERO {
        return Err(ValuationError::Empty);
    }
    let per_tonne = |amount: Decimal, currency: CurrencyCode| {
        let weight = basis.gross_weight_kg.ok_or(ValuationError::Weight)?;
        Ok::<_, ValuationError>(to_cny(amount, currency)? * weight / Decimal::ONE_THOUSAND)
    };
    let charge = |charge: &Charge, base: Decimal| match *charge {
        Charge::Rate { percent } => Ok(base * percent / Decimal::ONE_HUNDRED),
        Charge::PerTonne { amount, currency } => per_tonne(amount, currency),
        Charge::Total { amount, currency } => to_cny(amount, currency),
    };
    // Freight and insurance matter when the price and the value differ on them: an import
    // priced without them adds them, an export priced with them takes them off.
    let freight_counts = basis.import != basis.terms.includes_freight();
    let insurance_counts = basis.import != basis.terms.includes_insurance();
    let freight = match (&basis.freight, freight_counts) {
        (_, false) => Decimal::ZERO,
        (Some(declared), true) => charge(declared, total)?,
        (None, true) => return Err(ValuationError::Freight),
    };
    let mut insurance_presumed = false;
    let insurance = match (&basis.insurance, insurance_counts) {
        (_, false) => Decimal::ZERO,
        (Some(Charge::PerTonne { .. }), true) => {
            return Err(ValuationError::Charge("insurance is not charged per tonne"))
        }
        (Some(declared), true) => charge(declared, total + freight)?,
        (None, true) if basis.import => {
            insurance_presumed = true;
            (total + freight) * PRESUMED_INSURANCE_PERCENT / Decimal::ONE_HUNDRED
        }
        // An export priced with insurance but declaring none: nothing to take off.
        (None, true) => Decimal::ZERO,
    };
    // Other charges are part of an import's value; an export's FOB value does not carry them.
    let other = match &basis.other {
        Some(declared) if basis.import => charge(declared, total)?,
        _ => Decimal::ZERO,
    };
    let sign = if basis.import {
        Decimal::ONE
    } else {
        Decimal::NEGATIVE_ONE
    };
    let items = prices
        .iter()
        .map(|price| {
            let share = *price / total;
            let freight = sign * freight * share;
            let insurance = sign * insurance * share;
            let other = other * share;
            ItemValue {
                price: *price,
                freight,
                insurance,
                other,
                customs_value: *price + freight + insurance + other,
            }
        })
        .collect::<Vec<_>>();
    Ok(Valuation {
        total: items.iter().map(|i| i.customs_value).sum(),
        items,
        insurance_presumed,
    })
}
