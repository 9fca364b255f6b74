//! Reference data: code tables, the HS 2022 nomenclature, the China 2026 tariff with every rate
//! parsed, and customs exchange rates; each table with its edition and validity dates.
//!
//! The data files live in the repository's `data/` folder (provenance in `data/README.md`) and
//! are compiled into the binary, so a fresh install needs nothing else; operators may load a
//! newer edition from a directory with [`Source::Directory`]. [`RefData::load`] parses every
//! file into in-memory lookups once, at start-up.
//!
//! Principal types: [`RefData`], [`CodeTable`], [`Tariff`] and [`TariffLine`], [`RateExpr`]
//! (parsed by [`rate::parse`]), [`HsNomenclature`], [`ExchangeRates`].
//!
//! This crate does no IO except reading its data files at load time.

mod csvfile;
pub mod exchange;
pub mod hs;
pub mod rate;
mod source;
pub mod supervision;
pub mod tables;
pub mod tariff;

use std::collections::HashMap;

use chrono::NaiveDate;
use jinguan_types::{CountryCode, CurrencyCode, UnitCode};

pub use exchange::ExchangeRates;
pub use hs::HsNomenclature;
pub use rate::RateExpr;
pub use source::{Source, EMBEDDED_FILES};
pub use tables::{CodeEntry, CodeTable, TableMeta};
pub use tariff::{Tariff, TariffLine};

/// Failure to load reference data. The data is the product's foundation: any of these stops
/// start-up with the file and the reason.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A file the manifest names is not there.
    #[error("F0001: data file {0} is missing")]
    MissingFile(String),
    /// A file could not be read.
    #[error("F0002: cannot read {path}: {source}")]
    Io {
        /// Path.
        path: String,
        /// Cause.
        source: std::io::Error,
    },
    /// A file's content is not what its table promises.
    #[error("F0003: {file}: {message}")]
    Bad {
        /// File under the data folder.
        file: String,
        /// What is wrong.
        message: String,
    },
}

impl Error {
    pub(crate) fn bad(file: &str, message: impl Into<String>) -> Self {
        Self::Bad {
            file: file.to_owned(),
            message: message.into(),
        }
    }

    pub(crate) fn csv(file: &str, error: csv::Error) -> Self {
        Self::bad(file, error.to_string())
    }
}

/// A legacy customs code mapped to its ISO code.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LegacyMapping<C> {
    /// The ISO code chosen.
    pub iso: C,
    /// Other ISO codes that share the legacy code (empty when the mapping is one to one).
    pub also: Vec<String>,
}

/// All reference data, loaded.
#[derive(Debug, Clone)]
pub struct RefData {
    /// Code tables in `tables.csv` order.
    pub tables: Vec<CodeTable>,
    /// The national tariff.
    pub tariff: Tariff,
    /// The HS nomenclature.
    pub hs: HsNomenclature,
    /// Customs monthly exchange rates.
    pub exchange_rates: ExchangeRates,
    /// Edition and validity of the tariff, nomenclature and rate files.
    pub datasets: Vec<TableMeta>,
    table_index: HashMap<String, usize>,
    unit_by_name: HashMap<String, UnitCode>,
    /// Legacy country codes shared by several ISO codes → the ISO code they mean.
    country_legacy_preferred: HashMap<String, String>,
}

impl RefData {
    /// Loads the data compiled into the binary.
    pub fn load() -> Result<Self, Error> {
        Self::load_from(&Source::Embedded)
    }

    /// Loads from a source. The tariff, the largest file, is parsed on a second thread.
    pub fn load_from(source: &Source) -> Result<Self, Error> {
        let datasets = load_datasets(source)?;
        let dataset = |name: &str| -> Result<TableMeta, Error> {
            datasets
                .iter()
                .find(|d| d.name == name)
                .cloned()
                .ok_or_else(|| Error::bad("datasets.csv", format!("no {name} row")))
        };
        let units = tables::load_one(source, "unit")?;
        let mut unit_by_name = HashMap::with_capacity(units.len());
        for entry in &units.entries {
            let code = UnitCode::parse(&entry.code)
                .map_err(|e| Error::bad(&units.meta.file, e.to_string()))?;
            unit_by_name.insert(entry.name_zh.clone(), code);
        }
        let tariff_meta = dataset("tariff")?;
        let hs_meta = dataset("hs2022")?;
        let rates_meta = dataset("exchange-rates")?;
        // The tariff is most of the work; everything else loads beside it.
        let (tariff, rest) = std::thread::scope(|scope| {
            let unit_by_name = &unit_by_name;
            let lookup = move |name: &str| unit_by_name.get(name).copied();
            let tariff = scope.spawn(move || tariff::load(source, tariff_meta, &lookup));
            let rest = (|| -> Result<_, Error> {
                let tables = tables::load_all(source)?;
                let hs = hs::load(source, hs_meta)?;
                let text = source.read(&rates_meta.file)?;
                let rates = ExchangeRates::parse(&rates_meta.file, &text)?;
                let preferred = load_legacy_preferred(source)?;
                Ok((tables, hs, rates, preferred))
            })();
            (tariff.join().expect("tariff loader does not panic"), rest)
        });
        let tariff = tariff?;
        let (tables, hs, exchange_rates, country_legacy_preferred) = rest?;
        let table_index: HashMap<String, usize> = tables
            .iter()
            .enumerate()
            .map(|(i, t)| (t.meta.name.clone(), i))
            .collect();
        for required in ["country", "currency", "unit", "port"] {
            if !table_index.contains_key(required) {
                return Err(Error::bad("tables.csv", format!("no {required} table")));
            }
        }
        Ok(Self {
            tables,
            tariff,
            hs,
            exchange_rates,
            datasets,
            table_index,
            unit_by_name,
            country_legacy_preferred,
        })
    }

    /// A code table by name (`country`, `licence-document`, ...).
    pub fn table(&self, name: &str) -> Option<&CodeTable> {
        self.table_index.get(name).map(|i| &self.tables[*i])
    }

    fn required(&self, name: &str) -> &CodeTable {
        self.table(name)
            .expect("load() checks that the named tables exist")
    }

    /// The customs unit code for a Chinese unit name (`千克` → `035`).
    pub fn unit_by_name(&self, name: &str) -> Option<UnitCode> {
        self.unit_by_name.get(name).copied()
    }

    /// The country row for an ISO alpha-3 code.
    pub fn country(&self, code: &str) -> Option<&CodeEntry> {
        self.required("country").get(code)
    }

    /// The ISO code for a legacy 3-digit customs country code (`502` → `USA`).
    ///
    /// `None` when the code is unknown, or shared by several countries with no safe choice
    /// (`299`, Africa other): guessing would change the declared origin.
    pub fn country_from_legacy(&self, legacy: &str) -> Option<LegacyMapping<CountryCode>> {
        let rows = self.required("country").by_legacy_code(legacy);
        let chosen = match (rows.len(), self.country_legacy_preferred.get(legacy)) {
            (0, _) => return None,
            (1, _) => rows[0].code.clone(),
            (_, Some(preferred)) if preferred.is_empty() => return None,
            (_, Some(preferred)) => preferred.clone(),
            (_, None) => rows[0].code.clone(),
        };
        let also = rows
            .iter()
            .map(|r| r.code.clone())
            .filter(|c| *c != chosen)
            .collect();
        Some(LegacyMapping {
            iso: CountryCode::parse(&chosen).ok()?,
            also,
        })
    }

    /// The legacy 3-digit customs code for an ISO country code (`USA` → `502`).
    pub fn country_to_legacy(&self, iso: &str) -> Option<&str> {
        self.country(iso)?.legacy_customs_code.as_deref()
    }

    /// The currency row for an ISO code.
    pub fn currency(&self, code: &str) -> Option<&CodeEntry> {
        self.required("currency").get(code)
    }

    /// The ISO code for a legacy 3-digit customs currency code (`502` → `USD`).
    pub fn currency_from_legacy(&self, legacy: &str) -> Option<CurrencyCode> {
        let rows = self.required("currency").by_legacy_code(legacy);
        CurrencyCode::parse(&rows.first()?.code).ok()
    }

    /// The legacy 3-digit customs code for an ISO currency (`USD` → `502`).
    pub fn currency_to_legacy(&self, iso: &str) -> Option<&str> {
        self.currency(iso)?.legacy_customs_code.as_deref()
    }

    /// Whether a table (or dataset) of that name applies on `date`.
    pub fn is_valid_on(&self, name: &str, date: NaiveDate) -> Option<bool> {
        let meta = self
            .table(name)
            .map(|t| &t.meta)
            .or_else(|| self.datasets.iter().find(|d| d.name == name))?;
        Some(meta.is_valid_on(date))
    }
}

fn load_datasets(source: &Source) -> Result<Vec<TableMeta>, Error> {
    let mut datasets = Vec::new();
    csvfile::for_each_row(source, "datasets.csv", |row| {
        datasets.push(TableMeta {
            name: row.get(0).to_owned(),
            file: row.get(1).to_owned(),
            edition: row.get(2).to_owned(),
            valid_from: tables::date(row, 3)?.ok_or_else(|| row.bad("valid_from missing"))?,
            valid_to: tables::date(row, 4)?,
            description: row.get(5).to_owned(),
        });
        Ok(())
    })?;
    Ok(datasets)
}

fn load_legacy_preferred(source: &Source) -> Result<HashMap<String, String>, Error> {
    let mut map = HashMap::new();
    csvfile::for_each_row(source, "codes/country_legacy_preferred.csv", |row| {
        map.insert(row.get(0).to_owned(), row.get(1).to_owned());
        Ok(())
    })?;
    Ok(map)
}
