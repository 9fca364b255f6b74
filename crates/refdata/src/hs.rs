//! The HS 2022 nomenclature: sections, chapters, headings and subheadings.

use std::collections::HashMap;

use serde::Serialize;

use crate::csvfile;
use crate::source::Source;
use crate::tables::TableMeta;
use crate::Error;

/// Level of an HS entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HsLevel {
    /// 2 digits.
    Chapter,
    /// 4 digits.
    Heading,
    /// 6 digits.
    Subheading,
}

/// One entry of the nomenclature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HsEntry {
    /// 2, 4 or 6 digits.
    pub code: String,
    /// Roman section number, e.g. `IV`.
    pub section: String,
    /// English description.
    pub description: String,
    /// Level.
    pub level: HsLevel,
}

/// The nomenclature.
#[derive(Debug, Clone)]
pub struct HsNomenclature {
    /// Edition and validity.
    pub meta: TableMeta,
    /// Sections: (roman number, name).
    pub sections: Vec<(String, String)>,
    /// Entries in file order.
    pub entries: Vec<HsEntry>,
    by_code: HashMap<String, usize>,
}

impl HsNomenclature {
    /// The entry for a 2-, 4- or 6-digit code.
    pub fn get(&self, code: &str) -> Option<&HsEntry> {
        self.by_code.get(code).map(|i| &self.entries[*i])
    }

    /// Number of entries at a level.
    pub fn count(&self, level: HsLevel) -> usize {
        self.entries.iter().filter(|e| e.level == level).count()
    }
}

pub(crate) fn load(source: &Source, meta: TableMeta) -> Result<HsNomenclature, Error> {
    let mut entries = Vec::with_capacity(7_000);
    csvfile::for_each_row(source, &meta.file, |row| {
        // UN Comtrade appends aggregate rows (section `TOTAL`: 99, 9999, the grand total)
        // that are not part of the nomenclature.
        if row.get(0) == "TOTAL" {
            return Ok(());
        }
        let code = row.get(1).to_owned();
        let level = match code.len() {
            2 => HsLevel::Chapter,
            4 => HsLevel::Heading,
            6 => HsLevel::Subheading,
            _ => return Err(row.bad(format!("code {code:?} is not 2, 4 or 6 digits"))),
        };
        entries.push(HsEntry {
            code,
            section: row.get(0).to_owned(),
            description: row.get(2).to_owned(),
            level,
        });
        Ok(())
    })?;
    let by_code = entries
        .iter()
        .enumerate()
        .map(|(i, e)| (e.code.clone(), i))
        .collect();
    let mut sections = Vec::new();
    csvfile::for_each_row(source, "hs2022/sections.csv", |row| {
        sections.push((row.get(0).to_owned(), row.get(1).to_owned()));
        Ok(())
    })?;
    Ok(HsNomenclature {
        meta,
        sections,
        entries,
        by_code,
    })
}
