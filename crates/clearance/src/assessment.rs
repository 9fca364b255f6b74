//! Duties and taxes on valued items, from the tariff's parsed rates.
//!
//! Imports: the duty rate by origin — the general rate for origins on the general-rate list
//! (never a provisional one); otherwise the provisional rate where the line has one, else MFN;
//! and with a proof of origin under an agreement that has a conventional rate on the line, the
//! lower of that and the former. Duty is ad valorem, specific (per legal unit, from the
//! declared legal quantities), compound, or thresholded on the customs value per legal unit.
//! Consumption tax: ad valorem `(value + duty) / (1 − r) × r`, specific `quantity × amount`,
//! compound the two with the specific part inside the base, thresholded by value per unit.
//! VAT: `(value + duty + consumption tax) × r`. Exports: the export duty (the provisional
//! export rate where there is one) `FOB / (1 + r) × r`.
//!
//! Each tax of each item is rounded to the fen; a tax whose total over the declaration is
//! under 50 yuan is waived (免征), and a waived duty or consumption tax is then not in the
//! base of the taxes after it, which count only what is levied (实征). Every line of the
//! result says which rate was used and why.

use jinguan_refdata::rate::{Branch, RateExpr};
use jinguan_refdata::tariff::{Rate, TariffLine};
use jinguan_types::{round_fen, UnitCode};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// A tax below this total per declaration is not collected (yuan).
pub const WAIVER_LIMIT: Decimal = Decimal::from_parts(50, 0, 0, false, 0);

/// Where the goods come from, as far as rates are concerned.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Origin<'a> {
    /// The origin country is on the general-rate list.
    pub general: bool,
    /// The agreement a proof of origin was given under (its id in the tariff, e.g.
    /// `korea_韩国`).
    pub agreement: Option<&'a str>,
}

/// One item to assess.
#[derive(Debug, Clone, Copy)]
pub struct Item<'a> {
    /// Its tariff line.
    pub line: &'a TariffLine,
    /// Customs value in yuan (CIF for imports, FOB for exports; see `valuation`).
    pub customs_value: Decimal,
    /// The declared legal quantities, each with its unit.
    pub quantities: &'a [(UnitCode, Decimal)],
    /// Its origin.
    pub origin: Origin<'a>,
    /// Duties and taxes relieved in full (duty mode `3` 全免, or bonded suspension).
    pub relieved: bool,
}

/// One tax on one item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaxLine {
    /// The rate as the tariff writes it (empty when none applies).
    pub rate: String,
    /// The amount, rounded to the fen (zero when waived or relieved).
    pub amount: Decimal,
    /// Which rate and why.
    pub why: String,
}

/// The taxes on one item.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemTaxes {
    /// Customs duty (imports) or export duty (exports).
    pub duty: TaxLine,
    /// Consumption tax (imports).
    pub consumption_tax: TaxLine,
    /// VAT (imports).
    pub vat: TaxLine,
}

/// A declaration's duties and taxes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assessment {
    /// Per item, in order.
    pub items: Vec<ItemTaxes>,
    /// Total duty collected.
    pub duty: Decimal,
    /// Total consumption tax collected.
    pub consumption_tax: Decimal,
    /// Total VAT collected.
    pub vat: Decimal,
    /// Taxes waived as under 50 yuan (`duty`, `consumption_tax`, `vat`).
    pub waived: Vec<String>,
}

impl Assessment {
    /// Everything due.
    pub fn total(&self) -> Decimal {
        self.duty + self.consumption_tax + self.vat
    }
}

/// Why an item cannot be assessed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AssessmentError {
    /// The line has no usable rate where one is needed.
    #[error("A0201: line {code} has no usable {column} rate")]
    NoRate {
        /// The line.
        code: String,
        /// The rate column.
        column: &'static str,
    },
    /// A per-unit rate needs a legal quantity in its unit.
    #[error("A0202: line {code}: the {column} rate is per unit {unit}, and no legal quantity in that unit is declared")]
    Quantity {
        /// The line.
        code: String,
        /// The rate column.
        column: &'static str,
        /// The unit.
        unit: String,
    },
    /// A rate the engine cannot apply without facts a declaration does not carry.
    #[error("A0203: line {code}: the {column} rate {rate:?} cannot be applied here")]
    Unsupported {
        /// The line.
        code: String,
        /// The rate column.
        column: &'static str,
        /// The rate text.
        rate: String,
    },
}

impl AssessmentError {
    /// The stable code (`A02xx`).
    pub fn code(&self) -> &'static str {
        match self {
            Self::NoRate { .. } => "A0201",
            Self::Quantity { .. } => "A0202",
            Self::Unsupported { .. } => "A0203",
        }
    }
}

/// What applying one rate needs and gives.
struct Apply<'a> {
    item: &'a Item<'a>,
    column: &'static str,
}

impl Apply<'_> {
    fn code(&self) -> String {
        self.item.line.code.to_string()
    }

    fn unsupported(&self, rate: &Rate) -> AssessmentError {
        AssessmentError::Unsupported {
            code: self.code(),
            column: self.column,
            rate: rate.text.to_string(),
        }
    }

    /// The declared legal quantity in `unit`.
    fn quantity(&self, unit: UnitCode) -> Result<Decimal, AssessmentError> {
        self.item
            .quantities
            .iter()
            .find(|(u, _)| *u == unit)
            .map(|(_, q)| *q)
            .ok_or_else(|| AssessmentError::Quantity {
                code: self.code(),
                column: self.column,
                unit: unit.to_string(),
            })
    }

    /// The branch of a thresholded rate that the customs value per unit falls in.
    fn branch<'b>(
        &self,
        rate: &Rate,
        branches: &'b [Branch],
    ) -> Result<&'b Branch, AssessmentError> {
        let first = branches.first().ok_or_else(|| self.unsupported(rate))?;
        let unit = match first.per_unit {
            Some(unit) => unit,
            None => self.item.line.unit1.code,
        };
        let quantity = self.quantity(unit)?;
        if quantity.is_zero() {
            return Err(self.unsupported(rate));
        }
        let per_unit = self.item.customs_value / quantity;
        branches
            .iter()
            // Thresholds in yuan only: a dollar threshold needs the month's rate, not here.
            .filter(|b| b.threshold_currency == jinguan_types::CurrencyCode::CNY)
            .find(|b| b.comparison.holds(per_unit, b.threshold))
            .ok_or_else(|| self.unsupported(rate))
    }

    /// A duty (or an export duty's base amount) under `expr`.
    fn duty(&self, rate: &Rate, expr: &RateExpr) -> Result<Decimal, AssessmentError> {
        let value = self.item.customs_value;
        Ok(match expr {
            RateExpr::AdValorem { percent } => value * percent / Decimal::ONE_HUNDRED,
            RateExpr::Specific(s) => self.quantity(s.unit)? * s.amount,
            RateExpr::Compound { percent, specific } => {
                value * percent / Decimal::ONE_HUNDRED
                    + self.quantity(specific.unit)? * specific.amount
            }
            RateExpr::Thresholded { branches } => {
                let branch = self.branch(rate, branches)?;
                self.duty(rate, &branch.rate)?
            }
            RateExpr::TariffQuota { in_quota } => self.duty(rate, in_quota)?,
            RateExpr::Alternatives { .. } => return Err(self.unsupported(rate)),
        })
    }

    /// Consumption tax under `expr`, on the value plus `duty`.
    fn consumption(
        &self,
        rate: &Rate,
        expr: &RateExpr,
        duty: Decimal,
    ) -> Result<Decimal, AssessmentError> {
        let base = self.item.customs_value + duty;
        let composite = |percent: Decimal, specific: Decimal| {
            let r = percent / Decimal::ONE_HUNDRED;
            (base + specific) / (Decimal::ONE - r) * r + specific
        };
        Ok(match expr {
            RateExpr::AdValorem { percent } => composite(*percent, Decimal::ZERO),
            RateExpr::Specific(s) => self.quantity(s.unit)? * s.amount,
            RateExpr::Compound { percent, specific } => {
                composite(*percent, self.quantity(specific.unit)? * specific.amount)
            }
            RateExpr::Thresholded { branches } => {
                let branch = self.branch(rate, branches)?;
                self.consumption(rate, &branch.rate, duty)?
            }
            RateExpr::TariffQuota { .. } | RateExpr::Alternatives { .. } => {
                return Err(self.unsupported(rate))
            }
        })
    }
}

fn usable(rate: Option<&Rate>) -> Option<(&Rate, &RateExpr)> {
    rate.and_then(|r| r.expr().map(|e| (r, e)))
}

fn no_rate(item: &Item<'_>, column: &'static str) -> AssessmentError {
    AssessmentError::NoRate {
        code: item.line.code.to_string(),
        column,
    }
}

fn line(rate: &Rate, amount: Decimal, why: impl Into<String>) -> TaxLine {
    TaxLine {
        rate: rate.text.to_string(),
        amount: round_fen(amount),
        why: why.into(),
    }
}

fn nothing(why: &str) -> TaxLine {
    TaxLine {
        rate: String::new(),
        amount: Decimal::ZERO,
        why: why.to_owned(),
    }
}

/// The import duty: rate chosen by origin, amount, and why.
fn import_duty(item: &Item<'_>) -> Result<TaxLine, AssessmentError> {
    let l = item.line;
    if item.origin.general {
        let apply = Apply {
            item,
            column: "general",
        };
        let (rate, expr) = usable(l.general.as_ref()).ok_or_else(|| no_rate(item, "general"))?;
        return Ok(line(
            rate,
            apply.duty(rate, expr)?,
            "general rate: the origin is on the general-rate list",
        ));
    }
    let (column, rate, expr, why) = match usable(l.provisional.as_ref()) {
        Some((rate, expr)) => (
            "provisional",
            rate,
            expr,
            "provisional rate, which replaces MFN",
        ),
        None => {
            let (rate, expr) = usable(l.mfn.as_ref()).ok_or_else(|| no_rate(item, "mfn"))?;
            ("mfn", rate, expr, "MFN rate")
        }
    };
    let mut best = (
        Apply { item, column }.duty(rate, expr)?,
        rate,
        why.to_owned(),
    );
    if let Some(agreement) = item.origin.agreement {
        if let Some(conventional) = l.conventional.iter().find(|c| &*c.agreement == agreement) {
            if let Some(RateExpr::TariffQuota { .. }) = conventional.rate.expr() {
                // An in-quota rate needs a quota allocation, which a declaration does not
                // carry yet: the rate stands and says why.
                best.2 = format!(
                    "{why}; the conventional rate under {agreement} applies within a tariff quota only"
                );
            } else if let Some(expr) = conventional.rate.expr() {
                let amount = Apply {
                    item,
                    column: "conventional",
                }
                .duty(&conventional.rate, expr)?;
                if amount < best.0 {
                    best = (
                        amount,
                        &conventional.rate,
                        format!("conventional rate under {agreement} (proof of origin), lower than the {column} rate"),
                    );
                } else {
                    best.2 = format!("{why}; the conventional rate under {agreement} is not lower");
                }
            }
        }
    }
    Ok(line(best.1, best.0, best.2))
}

/// Assesses a declaration's items: imports owe duty, consumption tax and VAT; exports owe
/// export duty (in `duty`) only.
///
/// Taxes are settled in the order each is the base of the next: all duties, then the waiver
/// on their total; consumption taxes on value plus the duty actually levied, then their
/// waiver; VAT on value plus the duty and consumption tax actually levied (实征), then its.
pub fn assess(import: bool, items: &[Item<'_>]) -> Result<Assessment, AssessmentError> {
    let mut taxes = items
        .iter()
        .map(|item| {
            if item.relieved {
                let relieved = nothing("relieved in full by the duty mode");
                return Ok(ItemTaxes {
                    duty: relieved.clone(),
                    consumption_tax: relieved.clone(),
                    vat: relieved,
                });
            }
            let others = if import { "" } else { "not levied on exports" };
            Ok(ItemTaxes {
                duty: if import {
                    import_duty(item)?
                } else {
                    export_duty(item)?
                },
                consumption_tax: nothing(others),
                vat: nothing(others),
            })
        })
        .collect::<Result<Vec<_>, AssessmentError>>()?;
    let mut waived = Vec::new();
    let duty = settle(&mut taxes, "duty", |t| &mut t.duty, &mut waived);
    let (mut consumption_tax, mut vat) = (Decimal::ZERO, Decimal::ZERO);
    if import {
        for (item, t) in items.iter().zip(&mut taxes).filter(|(i, _)| !i.relieved) {
            t.consumption_tax = match usable(item.line.consumption_tax.as_ref()) {
                None => nothing("no consumption tax on this line"),
                Some((rate, expr)) => {
                    let apply = Apply {
                        item,
                        column: "consumption_tax",
                    };
                    let amount = apply.consumption(rate, expr, t.duty.amount)?;
                    line(rate, amount, "consumption tax on value plus duty levied")
                }
            };
        }
        consumption_tax = settle(
            &mut taxes,
            "consumption_tax",
            |t| &mut t.consumption_tax,
            &mut waived,
        );
        for (item, t) in items.iter().zip(&mut taxes).filter(|(i, _)| !i.relieved) {
            let (rate, expr) =
                usable(item.line.vat.as_ref()).ok_or_else(|| no_rate(item, "vat"))?;
            let RateExpr::AdValorem { percent } = expr else {
                return Err(Apply {
                    item,
                    column: "vat",
                }
                .unsupported(rate));
            };
            let base = item.customs_value + t.duty.amount + t.consumption_tax.amount;
            t.vat = line(
                rate,
                base * percent / Decimal::ONE_HUNDRED,
                "VAT on value, duty and consumption tax levied",
            );
        }
        vat = settle(&mut taxes, "vat", |t| &mut t.vat, &mut waived);
    }
    Ok(Assessment {
        items: taxes,
        duty,
        consumption_tax,
        vat,
        waived,
    })
}

/// The share of the statutory VAT and consumption tax collected on cross-border e-commerce
/// retail imports within the limits (财关税〔2018〕49号): 70 %.
pub const CROSS_BORDER_SHARE: Decimal = Decimal::from_parts(7, 0, 0, false, 1);

/// Taxes on a cross-border e-commerce retail import within the per-transaction and yearly
/// limits: no duty; consumption tax and VAT at [`CROSS_BORDER_SHARE`] of the statutory
/// amounts, the statutory VAT on value plus the statutory consumption tax (so the sum is
/// `value × (c + v) / (1 − c) × 70 %` for ad valorem rates). Nothing is waived: the 50-yuan
/// waiver is for declarations, not for retail parcels. `customs_value` of each item is its
/// dutiable price (goods, freight and insurance) in yuan.
pub fn assess_cross_border(items: &[Item<'_>]) -> Result<Assessment, AssessmentError> {
    let mut taxes = Vec::with_capacity(items.len());
    let (mut consumption_tax, mut vat) = (Decimal::ZERO, Decimal::ZERO);
    for item in items {
        let duty = nothing("no duty on cross-border retail imports within the limits");
        let statutory_consumption = match usable(item.line.consumption_tax.as_ref()) {
            None => None,
            Some((rate, expr)) => {
                let apply = Apply {
                    item,
                    column: "consumption_tax",
                };
                Some((rate, apply.consumption(rate, expr, Decimal::ZERO)?))
            }
        };
        let (rate, expr) = usable(item.line.vat.as_ref()).ok_or_else(|| no_rate(item, "vat"))?;
        let RateExpr::AdValorem { percent } = expr else {
            return Err(Apply {
                item,
                column: "vat",
            }
            .unsupported(rate));
        };
        let statutory_ct = statutory_consumption.map_or(Decimal::ZERO, |(_, a)| a);
        let statutory_vat = (item.customs_value + statutory_ct) * percent / Decimal::ONE_HUNDRED;
        let ct_line = match statutory_consumption {
            None => nothing("no consumption tax on this line"),
            Some((ct_rate, amount)) => line(
                ct_rate,
                amount * CROSS_BORDER_SHARE,
                "consumption tax at 70 % of the statutory amount (cross-border retail)",
            ),
        };
        let vat_line = line(
            rate,
            statutory_vat * CROSS_BORDER_SHARE,
            "VAT at 70 % of the statutory amount (cross-border retail)",
        );
        consumption_tax += ct_line.amount;
        vat += vat_line.amount;
        taxes.push(ItemTaxes {
            duty,
            consumption_tax: ct_line,
            vat: vat_line,
        });
    }
    Ok(Assessment {
        items: taxes,
        duty: Decimal::ZERO,
        consumption_tax,
        vat,
        waived: Vec::new(),
    })
}

/// The export duty: the provisional export rate where there is one, else the export rate.
fn export_duty(item: &Item<'_>) -> Result<TaxLine, AssessmentError> {
    let l = item.line;
    let (column, picked) = match usable(l.export_provisional.as_ref()) {
        Some(found) => ("export provisional", Some(found)),
        None => ("export", usable(l.export.as_ref())),
    };
    let Some((rate, expr)) = picked else {
        return Ok(nothing("no export duty on this line"));
    };
    let amount = match expr {
        // Export duty is levied on the FOB value net of itself.
        RateExpr::AdValorem { percent } => {
            let r = percent / Decimal::ONE_HUNDRED;
            item.customs_value / (Decimal::ONE + r) * r
        }
        other => Apply {
            item,
            column: "export",
        }
        .duty(rate, other)?,
    };
    Ok(line(
        rate,
        amount,
        format!("{column} rate, on FOB ÷ (1 + rate)"),
    ))
}

/// Totals one tax over the declaration and waives it if under [`WAIVER_LIMIT`]; returns the
/// total collected.
fn settle(
    taxes: &mut [ItemTaxes],
    name: &'static str,
    pick: fn(&mut ItemTaxes) -> &mut TaxLine,
    waived: &mut Vec<String>,
) -> Decimal {
    let total: Decimal = taxes.iter_mut().map(|t| pick(t).amount).sum();
    if total.is_zero() || total >= WAIVER_LIMIT {
        return total;
    }
    waived.push(name.to_owned());
    for t in taxes {
        let line = pick(t);
        if !line.amount.is_zero() {
            line.why = format!("{}; waived: {total} yuan in all is under 50", line.why);
            line.amount = Decimal::ZERO;
        }
    }
    Decimal::ZERO
}
