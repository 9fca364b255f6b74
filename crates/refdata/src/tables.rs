//! Code tables: a generic, data-described table with edition and validity dates.

use std::collections::HashMap;

use chrono::NaiveDate;
use serde::Serialize;

use crate::csvfile::{self, Row};
use crate::source::Source;
use crate::Error;

/// Edition and validity of one data table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TableMeta {
    /// Table name as used by `jinguan codes <table>`.
    pub name: String,
    /// File under the data folder.
    pub file: String,
    /// Edition, e.g. "GACC 2018 merged parameters".
    pub edition: String,
    /// First day the table applies.
    pub valid_from: NaiveDate,
    /// Last day the table applies; `None` while in force.
    pub valid_to: Option<NaiveDate>,
    /// What the table holds.
    pub description: String,
}

impl TableMeta {
    /// Whether the table applies on `date`.
    pub fn is_valid_on(&self, date: NaiveDate) -> bool {
        date >= self.valid_from && self.valid_to.is_none_or(|to| date <= to)
    }
}

/// One row of a code table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CodeEntry {
    /// For tables grouped by field (`declaration-misc`, `ceb-misc`): the field the code
    /// belongs to.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    /// The code, exactly as written (codes are case-sensitive: licence `a` is not `A`).
    pub code: String,
    /// Chinese name.
    pub name_zh: String,
    /// English name, where the source has one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name_en: Option<String>,
    /// The code used by customs before the 2018 merger, where there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub legacy_customs_code: Option<String>,
    /// The former inspection (CIQ) code, where there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub legacy_ciq_code: Option<String>,
}

/// A loaded code table with its lookups.
#[derive(Debug, Clone)]
pub struct CodeTable {
    /// Edition and validity.
    pub meta: TableMeta,
    /// Rows in file order.
    pub entries: Vec<CodeEntry>,
    /// code → first row index with that code.
    by_code: HashMap<String, usize>,
    /// legacy customs code → row indexes sharing it.
    by_legacy: HashMap<String, Vec<usize>>,
}

impl CodeTable {
    /// The first row with `code` (case-sensitive).
    pub fn get(&self, code: &str) -> Option<&CodeEntry> {
        self.by_code.get(code).map(|i| &self.entries[*i])
    }

    /// Every row with `code`: several in grouped tables.
    pub fn get_all<'a>(&'a self, code: &'a str) -> impl Iterator<Item = &'a CodeEntry> + 'a {
        self.entries.iter().filter(move |e| e.code == code)
    }

    /// Rows whose legacy customs code is `legacy`.
    pub fn by_legacy_code(&self, legacy: &str) -> Vec<&CodeEntry> {
        self.by_legacy
            .get(legacy)
            .map(|rows| rows.iter().map(|i| &self.entries[*i]).collect())
            .unwrap_or_default()
    }

    /// Whether `code` exists.
    pub fn contains(&self, code: &str) -> bool {
        self.by_code.contains_key(code)
    }

    /// Number of rows.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the table has no rows.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

/// Column layout of a code table file, read from `tables.csv`.
struct Layout {
    code: usize,
    name_zh: usize,
    name_en: Option<usize>,
    legacy_customs: Option<usize>,
    legacy_ciq: Option<usize>,
    group: Option<usize>,
}

/// Loads one code table listed in `tables.csv`.
pub(crate) fn load_one(source: &Source, name: &str) -> Result<CodeTable, Error> {
    load_matching(source, Some(name))?
        .pop()
        .ok_or_else(|| Error::bad("tables.csv", format!("no {name} table")))
}

/// Loads every code table listed in `tables.csv`.
pub(crate) fn load_all(source: &Source) -> Result<Vec<CodeTable>, Error> {
    load_matching(source, None)
}

fn load_matching(source: &Source, only: Option<&str>) -> Result<Vec<CodeTable>, Error> {
    let mut tables = Vec::new();
    csvfile::for_each_row(source, "tables.csv", |row| {
        let column = |i: usize| -> Result<Option<usize>, Error> {
            row.optional(i)
                .map(|text| {
                    text.parse()
                        .map_err(|_| row.bad(format!("column {text:?}")))
                })
                .transpose()
        };
        let meta = TableMeta {
            name: row.get(0).to_owned(),
            file: row.get(1).to_owned(),
            edition: row.get(2).to_owned(),
            valid_from: date(row, 3)?.ok_or_else(|| row.bad("valid_from missing"))?,
            valid_to: date(row, 4)?,
            description: row.get(11).to_owned(),
        };
        let layout = Layout {
            code: column(5)?.ok_or_else(|| row.bad("code column missing"))?,
            name_zh: column(6)?.ok_or_else(|| row.bad("name column missing"))?,
            name_en: column(7)?,
            legacy_customs: column(8)?,
            legacy_ciq: column(9)?,
            group: column(10)?,
        };
        if only.is_none_or(|name| name == meta.name) {
            tables.push(load_table(source, meta, &layout)?);
        }
        Ok(())
    })?;
    Ok(tables)
}

/// An optional `YYYY-MM-DD` date in field `i`.
pub(crate) fn date(row: &Row<'_>, i: usize) -> Result<Option<NaiveDate>, Error> {
    row.optional(i)
        .map(|text| {
            NaiveDate::parse_from_str(&text, "%Y-%m-%d")
                .map_err(|_| row.bad(format!("date {text:?}")))
        })
        .transpose()
}

fn load_table(source: &Source, meta: TableMeta, layout: &Layout) -> Result<CodeTable, Error> {
    let mut entries = Vec::new();
    csvfile::for_each_row(source, &meta.file, |row| {
        let get = |i: Option<usize>| i.and_then(|i| row.optional(i));
        let code = get(Some(layout.code));
        // Grouped tables use an empty code for "no value" (Type blank = ordinary declaration).
        if code.is_none() && layout.group.is_none() {
            return Err(row.bad(format!("row {} has no code", entries.len() + 1)));
        }
        entries.push(CodeEntry {
            group: get(layout.group),
            code: code.unwrap_or_default(),
            name_zh: get(Some(layout.name_zh)).unwrap_or_default(),
            name_en: get(layout.name_en),
            legacy_customs_code: get(layout.legacy_customs),
            legacy_ciq_code: get(layout.legacy_ciq),
        });
        Ok(())
    })?;
    let mut by_code = HashMap::with_capacity(entries.len());
    let mut by_legacy: HashMap<String, Vec<usize>> = HashMap::new();
    for (i, entry) in entries.iter().enumerate() {
        by_code.entry(entry.code.clone()).or_insert(i);
        if let Some(legacy) = &entry.legacy_customs_code {
            by_legacy.entry(legacy.clone()).or_default().push(i);
        }
    }
    Ok(CodeTable {
        meta,
        entries,
        by_code,
        by_legacy,
    })
}
