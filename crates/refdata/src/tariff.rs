//! The China national tariff: 10-digit lines with every rate parsed.

use std::cell::RefCell;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

use jinguan_types::{HsCode, UnitCode};
use serde::Serialize;

use crate::csvfile::{self, Row};
use crate::rate::{self, RateError, RateExpr};
use crate::source::Source;
use crate::tables::TableMeta;
use crate::Error;

/// One rate cell: the text as published and what it parsed to.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Rate {
    /// The text as published, e.g. `20%+0.912元/升`. Shared: a few hundred distinct strings
    /// fill some 330,000 cells.
    pub text: Arc<str>,
    /// The parsed expression, or why it did not parse.
    #[serde(flatten)]
    pub parsed: Parsed,
}

/// The outcome of parsing a rate cell.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Parsed {
    /// Parsed.
    #[serde(rename = "parsed")]
    Ok(RateExpr),
    /// Not parsed; counted by `jinguan tariff stats`.
    #[serde(rename = "error")]
    Err(String),
}

impl Rate {
    /// The expression, if the text parsed.
    pub fn expr(&self) -> Option<&RateExpr> {
        match &self.parsed {
            Parsed::Ok(expr) => Some(expr),
            Parsed::Err(_) => None,
        }
    }
}

/// A legal unit of quantity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LegalUnit {
    /// Customs unit code.
    pub code: UnitCode,
    /// Chinese name as in the tariff.
    pub name: String,
}

/// A conventional (FTA) rate under one agreement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConventionalRate {
    /// Agreement column name, e.g. `asean_东盟`.
    pub agreement: Arc<str>,
    /// The rate.
    pub rate: Rate,
}

/// One 10-digit tariff line.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TariffLine {
    /// Commodity code.
    pub code: HsCode,
    /// Chinese description. Not unique: the code is the key.
    pub name: String,
    /// First legal unit.
    pub unit1: LegalUnit,
    /// Second legal unit, where there is one.
    pub unit2: Option<LegalUnit>,
    /// Import most-favoured-nation rate (最惠国).
    pub mfn: Option<Rate>,
    /// Import general rate (普通), for origins without MFN treatment.
    pub general: Option<Rate>,
    /// Import provisional rate (暂定), applies instead of MFN where lower.
    pub provisional: Option<Rate>,
    /// Export duty (出口关税); `None` means no export duty.
    pub export: Option<Rate>,
    /// Export provisional rate (出口暂定).
    pub export_provisional: Option<Rate>,
    /// Import VAT.
    pub vat: Option<Rate>,
    /// Import consumption tax.
    pub consumption_tax: Option<Rate>,
    /// Export VAT rebate rate; a list where a finer code decides.
    pub export_rebate: Option<Rate>,
    /// Conventional rates by agreement.
    pub conventional: Vec<ConventionalRate>,
    /// Supervision conditions (监管条件): licence codes, case-sensitive, e.g. `46Oxy`.
    pub supervision_conditions: String,
    /// Inspection category, `import/export` letters, e.g. `P.R/Q.S`.
    pub inspection_category: String,
    /// Declaration elements (申报要素) in order; shared between lines with the same list.
    pub declaration_elements: Arc<[String]>,
    /// Remark (商品备注), truncated at 25 characters in the source.
    pub remark: Option<String>,
}

/// Rate columns, by the name used in statistics and gap lists.
pub const RATE_COLUMNS: &[&str] = &[
    "mfn_rate",
    "general_rate",
    "provisional_rate",
    "export_rate",
    "export_provisional_rate",
    "vat_rate",
    "consumption_tax_rate",
    "export_rebate_rate",
    "conventional",
];

/// Rate columns that every line should fill; a blank there must be a listed known gap.
const REQUIRED_COLUMNS: &[&str] = &[
    "mfn_rate",
    "general_rate",
    "vat_rate",
    "consumption_tax_rate",
    "export_rebate_rate",
];

impl TariffLine {
    /// The rate cell of a column named in [`RATE_COLUMNS`] (not `conventional`).
    pub fn rate(&self, column: &str) -> Option<&Rate> {
        match column {
            "mfn_rate" => self.mfn.as_ref(),
            "general_rate" => self.general.as_ref(),
            "provisional_rate" => self.provisional.as_ref(),
            "export_rate" => self.export.as_ref(),
            "export_provisional_rate" => self.export_provisional.as_ref(),
            "vat_rate" => self.vat.as_ref(),
            "consumption_tax_rate" => self.consumption_tax.as_ref(),
            "export_rebate_rate" => self.export_rebate.as_ref(),
            _ => None,
        }
    }
}

/// The tariff with its lookups.
#[derive(Debug, Clone)]
pub struct Tariff {
    /// Edition and validity.
    pub meta: TableMeta,
    /// Lines in code order.
    pub lines: Vec<TariffLine>,
    by_code: HashMap<HsCode, u32>,
    /// Blank cells in required columns that the source is known to lack: (code, column) → why.
    pub known_gaps: HashMap<(String, String), String>,
}

impl Tariff {
    /// The line for a 10-digit code.
    pub fn get(&self, code: &HsCode) -> Option<&TariffLine> {
        self.by_code.get(code).map(|i| &self.lines[*i as usize])
    }

    /// Counts of rate kinds per column, blanks with their explanation, and failures.
    pub fn stats(&self) -> TariffStats {
        let mut columns: Vec<ColumnStats> = RATE_COLUMNS
            .iter()
            .map(|c| ColumnStats {
                column: (*c).to_owned(),
                ..ColumnStats::default()
            })
            .collect();
        for line in &self.lines {
            for stats in columns.iter_mut() {
                if stats.column == "conventional" {
                    for conventional in &line.conventional {
                        stats.count(line, Some(&conventional.rate), None);
                    }
                    continue;
                }
                let gap = self
                    .known_gaps
                    .get(&(line.code.to_string(), stats.column.clone()));
                stats.count(line, line.rate(&stats.column), gap);
            }
        }
        let unexplained = columns
            .iter()
            .map(|c| c.failures.len() + c.blank_unexplained.len())
            .sum();
        TariffStats {
            edition: self.meta.edition.clone(),
            lines: self.lines.len(),
            columns,
            unexplained,
        }
    }
}

/// Statistics over the whole tariff.
#[derive(Debug, Clone, Serialize)]
pub struct TariffStats {
    /// Tariff edition.
    pub edition: String,
    /// Number of 10-digit lines.
    pub lines: usize,
    /// Per rate column.
    pub columns: Vec<ColumnStats>,
    /// Rate strings that neither parsed nor are explained: failures plus unexplained blanks.
    pub unexplained: usize,
}

/// Statistics of one rate column.
#[derive(Debug, Clone, Default, Serialize)]
pub struct ColumnStats {
    /// Column name.
    pub column: String,
    /// Parsed cells by kind.
    pub kinds: BTreeMap<String, usize>,
    /// Blank cells where blank has a meaning (no provisional rate, no export duty ...).
    pub blank_meaningful: usize,
    /// Blank cells in a required column that are listed as known gaps of the source.
    pub blank_known_gap: usize,
    /// Blank cells in a required column with no explanation (codes).
    pub blank_unexplained: Vec<String>,
    /// Cells that did not parse: (code, text, error).
    pub failures: Vec<(String, String, String)>,
}

impl ColumnStats {
    fn count(&mut self, line: &TariffLine, rate: Option<&Rate>, gap: Option<&String>) {
        match rate {
            Some(Rate {
                parsed: Parsed::Ok(expr),
                ..
            }) => {
                *self.kinds.entry(expr.kind().to_owned()).or_default() += 1;
            }
            Some(Rate {
                text,
                parsed: Parsed::Err(error),
            }) => {
                self.failures
                    .push((line.code.to_string(), text.to_string(), error.clone()));
            }
            None if !REQUIRED_COLUMNS.contains(&self.column.as_str()) => self.blank_meaningful += 1,
            None if gap.is_some() => self.blank_known_gap += 1,
            None => self.blank_unexplained.push(line.code.to_string()),
        }
    }
}

pub(crate) fn load(
    source: &Source,
    meta: TableMeta,
    unit_code: &dyn Fn(&str) -> Option<UnitCode>,
) -> Result<Tariff, Error> {
    // About 330,000 cells hold fewer than 300 distinct strings: parse each string once.
    let cache: RefCell<HashMap<String, Rate>> = RefCell::new(HashMap::with_capacity(512));
    let parse_rate = |text: &str| -> Option<Rate> {
        let text = text.trim();
        if text.is_empty() {
            return None;
        }
        if let Some(rate) = cache.borrow().get(text) {
            return Some(rate.clone());
        }
        let parsed = match rate::parse(text, unit_code) {
            Ok(expr) => Parsed::Ok(expr),
            Err(RateError { reason, at, .. }) => {
                Parsed::Err(format!("at character {at}: {reason}"))
            }
        };
        let rate = Rate {
            text: Arc::from(text),
            parsed,
        };
        cache.borrow_mut().insert(text.to_owned(), rate.clone());
        Some(rate)
    };
    let mut extra = load_extra(source)?;
    let mut conventional = load_conventional(source, &parse_rate)?;
    let mut lines = Vec::with_capacity(12_100);
    let mut elements_cache: HashMap<String, Arc<[String]>> = HashMap::new();
    csvfile::for_each_row(source, &meta.file, |row| {
        let code = hs_code(row)?;
        let unit = |name: &str| -> Result<Option<LegalUnit>, Error> {
            if name.is_empty() {
                return Ok(None);
            }
            let unit =
                unit_code(name).ok_or_else(|| row.bad(format!("{code}: unknown unit {name:?}")))?;
            Ok(Some(LegalUnit {
                code: unit,
                name: name.to_owned(),
            }))
        };
        let (remark, export_provisional) = extra.remove(&code).unwrap_or_default();
        let elements = row.get(13);
        let declaration_elements = match elements_cache.get(elements) {
            Some(shared) => shared.clone(),
            None => {
                let shared: Arc<[String]> = split_elements(elements).into();
                elements_cache.insert(elements.to_owned(), shared.clone());
                shared
            }
        };
        lines.push(TariffLine {
            code,
            name: row.get(1).to_owned(),
            unit1: unit(row.get(2))?
                .ok_or_else(|| row.bad(format!("{code}: no first legal unit")))?,
            unit2: unit(row.get(3))?,
            mfn: parse_rate(row.get(4)),
            general: parse_rate(row.get(5)),
            provisional: parse_rate(row.get(6)),
            export: parse_rate(row.get(7)),
            export_provisional: parse_rate(&export_provisional),
            vat: parse_rate(row.get(8)),
            consumption_tax: parse_rate(row.get(9)),
            export_rebate: parse_rate(row.get(10)),
            conventional: conventional.remove(&code).unwrap_or_default(),
            supervision_conditions: row.get(11).to_owned(),
            inspection_category: row.get(12).to_owned(),
            declaration_elements,
            remark: (!remark.is_empty()).then_some(remark),
        });
        Ok(())
    })?;
    let mut by_code = HashMap::with_capacity(lines.len());
    for (i, line) in lines.iter().enumerate() {
        if by_code.insert(line.code, i as u32).is_some() {
            return Err(Error::bad(
                &meta.file,
                format!("duplicate code {}", line.code),
            ));
        }
    }
    let known_gaps = load_gaps(source)?;
    Ok(Tariff {
        meta,
        lines,
        by_code,
        known_gaps,
    })
}

/// `1:品牌类型;2:出口享惠情况;3:...` → ["品牌类型", "出口享惠情况", ...].
fn split_elements(text: &str) -> Vec<String> {
    text.split(';')
        .filter(|part| !part.trim().is_empty())
        .map(|part| match part.split_once(':') {
            Some((number, name)) if number.chars().all(|c| c.is_ascii_digit()) => name.to_owned(),
            _ => part.to_owned(),
        })
        .collect()
}

/// The commodity code in the first column.
fn hs_code(row: &Row<'_>) -> Result<HsCode, Error> {
    HsCode::parse(row.get(0)).map_err(|e| row.bad(e.to_string()))
}

type Extra = HashMap<HsCode, (String, String)>;

fn load_extra(source: &Source) -> Result<Extra, Error> {
    let mut extra = HashMap::with_capacity(12_100);
    csvfile::for_each_row(source, "tariff/2026/tariff_extra.csv", |row| {
        let code = hs_code(row)?;
        let (remark, export_provisional) = (row.get(1), row.get(2));
        if !remark.is_empty() || !export_provisional.is_empty() {
            extra.insert(code, (remark.to_owned(), export_provisional.to_owned()));
        }
        Ok(())
    })?;
    Ok(extra)
}

fn load_conventional(
    source: &Source,
    parse_rate: &dyn Fn(&str) -> Option<Rate>,
) -> Result<HashMap<HsCode, Vec<ConventionalRate>>, Error> {
    let mut all = HashMap::with_capacity(12_100);
    let mut agreements: Vec<Arc<str>> = Vec::new();
    csvfile::for_each_row(source, "tariff/2026/conventional_rates_wide.csv", |row| {
        if agreements.is_empty() {
            agreements = row.headers.iter().map(Arc::from).collect();
        }
        let code = hs_code(row)?;
        let rates: Vec<ConventionalRate> = row
            .fields()
            .zip(&agreements)
            .skip(1)
            .filter_map(|(text, agreement)| {
                parse_rate(text).map(|rate| ConventionalRate {
                    agreement: agreement.clone(),
                    rate,
                })
            })
            .collect();
        if !rates.is_empty() {
            all.insert(code, rates);
        }
        Ok(())
    })?;
    Ok(all)
}

fn load_gaps(source: &Source) -> Result<HashMap<(String, String), String>, Error> {
    let mut gaps = HashMap::new();
    csvfile::for_each_row(source, "tariff/2026/known_gaps.csv", |row| {
        gaps.insert(
            (row.get(0).to_owned(), row.get(1).to_owned()),
            row.get(2).to_owned(),
        );
        Ok(())
    })?;
    Ok(gaps)
}
