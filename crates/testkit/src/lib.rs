//! Realistic, deterministic synthetic declarations for tests, demos and load runs.
//!
//! A [`Generator`] is built once from the reference data and [`GenOptions`]: it precomputes
//! the eligible tariff lines (weighted towards the chapters China trades most, without
//! chapter 98, and for each direction without the goods prohibited in it), a population of
//! enterprises with valid identifiers and skewed activity (a few traders file most
//! declarations, most hire a customs broker), and the weighted tables every field is drawn
//! from. After that, [`Generator::declaration`]
//! builds declaration `i` from its own random stream, seeded from `(seed, i)` alone, so that:
//!
//! - the same seed gives the same declarations, byte for byte, on every run;
//! - any range can be generated on its own, and chunks generated on several threads
//!   concatenate to exactly the sequential output ([`Generator::write_json_lines_parallel`]).
//!
//! What is realistic: codes exist in their reference tables (countries, ports, currencies,
//! trade modes, levy natures, package types); legal units are the tariff's; the quantity in
//! kilograms is the net weight; head net weight is the sum of the items', and gross weight
//! exceeds it; unit price is total price over quantity; USCCs carry the GB 32100 check
//! character. Declarations are what a careful broker lodges, with no deliberate mistakes: the
//! licences the lines' supervision conditions require in the direction are attached, once
//! each; an invoice currency other than the dollar and the yuan is used only in months the
//! reference data has its customs exchange rate; trade modes that draw on a manual or account
//! book name it. What is not: names, bill and contract numbers are invented, and the six-digit
//! domestic port codes ([`Head::entry_exit_port`]) are placeholders in the right shape (the
//! reference data has no table of them).
//!
//! Determinism holds for a given build: amounts come from `f64` arithmetic (including `exp`)
//! rounded to decimals, and the random algorithms are those of the `rand` versions pinned in
//! `Cargo.lock`. Another platform's maths library could, rarely, round an amount differently.
//!
//! ```no_run
//! let refdata = jinguan_refdata::RefData::load()?;
//! let generator = jinguan_testkit::Generator::new(
//!     &refdata,
//!     jinguan_testkit::GenOptions { count: 1000, seed: 7, ..Default::default() },
//! )?;
//! let mut out = std::io::stdout().lock();
//! generator.write_json_lines_parallel(1000, 2, &mut out)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [`Head::entry_exit_port`]: jinguan_types::declaration::Head::entry_exit_port

pub mod bonded;
mod catalog;
pub mod ceb;
mod generate;
mod goods;
mod ids;
pub mod nats;
mod output;
mod population;
pub mod schema;
mod weighted;

use std::fmt;

use chrono::{Datelike, NaiveDate, Weekday};
use jinguan_refdata::{CodeTable, ExchangeRates, RefData};
use jinguan_types::CurrencyCode;
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

use crate::catalog::Office;
use crate::goods::Goods;
use crate::population::Population;
use crate::weighted::Weighted;

pub use population::Enterprise;

/// What to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenOptions {
    /// How many declarations a run should produce. The generator itself can make any index;
    /// callers pass this on to the output functions.
    pub count: usize,
    /// Seed of everything: the enterprise population and every declaration.
    pub seed: u64,
    /// Size of the enterprise population, brokers included.
    pub enterprises: usize,
}

impl Default for GenOptions {
    fn default() -> Self {
        Self {
            count: 10_000,
            seed: 2026,
            enterprises: 2000,
        }
    }
}

/// The generator could not be built: the reference data lacks something it needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildError {
    message: String,
}

impl BuildError {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        Self {
            message: message.into(),
        }
    }
}

impl fmt::Display for BuildError {
    // Only the cause: callers say what they were doing ("cannot build the generator: ...").
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for BuildError {}

/// A foreign trading partner with its ports and currency.
#[derive(Debug, Clone)]
struct Partner {
    /// ISO alpha-3 code.
    code: &'static str,
    /// Its ports in the port table, major ones weighted up; `None` if the table has none.
    ports: Option<Weighted<String>>,
    /// Its own currency and units per US dollar, when it invoices in it.
    currency: Option<(&'static str, f64)>,
    /// The months of 2026 for which the reference data has a customs exchange rate for
    /// `currency` (bit `m - 1` for month `m`): only then is it invoiced in that currency,
    /// since the goods could not be valued otherwise.
    rated_months: u16,
}

impl Partner {
    /// Its own currency, if it can invoice in it on `date`: the reference data has the
    /// month's customs exchange rate.
    fn currency_on(&self, date: NaiveDate) -> Option<(&'static str, f64)> {
        self.currency
            .filter(|_| date.year() == 2026 && self.rated_months & (1 << (date.month0())) != 0)
    }
}

/// A trade mode with the levy nature and duty mode that go with it.
#[derive(Debug, Clone, Copy)]
struct TradeMode {
    code: &'static str,
    levy_nature: Option<&'static str>,
    duty_mode: &'static str,
}

impl TradeMode {
    /// Whether goods move under a processing-trade manual: their items then carry contract
    /// item numbers and the head the manual's filing number.
    fn processing(&self) -> bool {
        matches!(self.code, "0615" | "0214")
    }

    /// Whether the head must name a manual or account book (手册/账册): processing trade
    /// (来料 02xx, 进料 06xx) and bonded goods, as the clearance pipeline checks (V0110).
    fn needs_filing(&self) -> bool {
        self.code.starts_with("02")
            || self.code.starts_with("06")
            || matches!(self.code, "1233" | "1234" | "5034" | "6033")
    }
}

/// An office with its domestic port checked against the port table.
#[derive(Debug, Clone, Copy)]
struct OfficeChoice {
    office: &'static Office,
    chn_port: Option<&'static str>,
}

/// Makes declarations. Cheap to share between threads: generation takes `&self`.
#[derive(Debug, Clone)]
pub struct Generator {
    options: GenOptions,
    goods: Goods,
    population: Population,
    /// Offices by cluster.
    clusters: Vec<Weighted<OfficeChoice>>,
    /// The sea offices of each cluster, where heavy air consignments are moved.
    sea_offices: Vec<Option<Weighted<OfficeChoice>>>,
    partners: Vec<Partner>,
    import_partners: Weighted<usize>,
    export_partners: Weighted<usize>,
    road_partners: Weighted<usize>,
    rail_partners: Weighted<usize>,
    /// Ports of call for imports that are transhipped.
    transit_ports: Vec<&'static str>,
    /// By enterprise profile, then import (0) or export (1).
    trade_modes: Vec<[Weighted<TradeMode>; 2]>,
    carton_packages: Weighted<&'static str>,
    pallet_packages: Weighted<&'static str>,
    /// Container size codes for 20- and 40-foot boxes, when the table has them.
    container_sizes: (Option<&'static str>, Option<&'static str>),
    /// Declaration days of 2026, fewer at weekends and holidays.
    days: Weighted<NaiveDate>,
    /// Goods items per declaration.
    item_counts: Weighted<u32>,
    /// US dollar and yuan with their units per dollar.
    usd: (&'static str, f64),
    cny: (&'static str, f64),
}

/// Share of imports among declarations.
const IMPORT_SHARE: f64 = 0.45;

impl Generator {
    /// Precomputes the tables and the enterprise population.
    pub fn new(refdata: &RefData, options: GenOptions) -> Result<Self, BuildError> {
        let tables = Tables::get(refdata)?;
        let goods = Goods::new(refdata)?;
        let mut rng =
            ChaCha8Rng::seed_from_u64(ids::splitmix64(options.seed ^ 0x0E17_E4F0_9C1A_55E5));
        let population = Population::new(options.enterprises, &goods, &mut rng)?;
        let clusters = catalog::CLUSTERS
            .iter()
            .map(|cluster| office_choices(tables.ports, cluster, false).map_err(BuildError::new))
            .collect::<Result<Vec<_>, _>>()?;
        let sea_offices = catalog::CLUSTERS
            .iter()
            .map(|cluster| office_choices(tables.ports, cluster, true).ok())
            .collect();
        let partners = Partners::new(&tables)?;
        let transit_ports = catalog::TRANSIT_PORTS
            .iter()
            .copied()
            .filter(|p| tables.ports.contains(p))
            .collect();
        let trade_modes = trade_modes(&tables)?;
        let [usd, cny] = dollar_and_yuan(tables.currencies)?;
        let container = |code: &'static str| tables.containers.contains(code).then_some(code);
        Ok(Self {
            options,
            goods,
            population,
            clusters,
            sea_offices,
            partners: partners.list,
            import_partners: partners.import,
            export_partners: partners.export,
            road_partners: partners.road,
            rail_partners: partners.rail,
            transit_ports,
            trade_modes,
            carton_packages: packages(tables.packages, catalog::CARTON_PACKAGES)?,
            pallet_packages: packages(tables.packages, catalog::PALLET_PACKAGES)?,
            container_sizes: (container("21"), container("11")),
            days: days_of_2026()?,
            item_counts: item_counts()?,
            usd,
            cny,
        })
    }

    /// The options the generator was built with.
    pub fn options(&self) -> &GenOptions {
        &self.options
    }

    /// The enterprise population: brokers first, then traders from the busiest down.
    pub fn enterprises(&self) -> &[Enterprise] {
        &self.population.enterprises
    }
}

/// The code tables of the reference data that the catalogue's codes are checked against, and
/// the exchange rates that decide which currencies can be invoiced in.
struct Tables<'a> {
    countries: &'a CodeTable,
    ports: &'a CodeTable,
    currencies: &'a CodeTable,
    trade_modes: &'a CodeTable,
    levy_natures: &'a CodeTable,
    packages: &'a CodeTable,
    containers: &'a CodeTable,
    rates: &'a ExchangeRates,
}

impl<'a> Tables<'a> {
    fn get(refdata: &'a RefData) -> Result<Self, BuildError> {
        let table = |name: &str| {
            refdata
                .table(name)
                .ok_or_else(|| BuildError::new(format!("reference data has no {name} table")))
        };
        Ok(Self {
            countries: table("country")?,
            ports: table("port")?,
            currencies: table("currency")?,
            trade_modes: table("trade-mode")?,
            levy_natures: table("levy-nature")?,
            packages: table("package")?,
            containers: table("container")?,
            rates: &refdata.exchange_rates,
        })
    }
}

/// The offices of a cluster (or only its sea offices), each with its domestic port when the
/// port table has it.
fn office_choices(
    ports: &CodeTable,
    offices: &'static [Office],
    sea_only: bool,
) -> Result<Weighted<OfficeChoice>, String> {
    Weighted::from_pairs(
        offices
            .iter()
            .filter(|o| !sea_only || o.mode == catalog::SEA)
            .map(|office| {
                let chn_port = ports.contains(office.chn_port).then_some(office.chn_port);
                (OfficeChoice { office, chn_port }, office.weight)
            }),
    )
}

/// The trading partners, with their indexes weighted for imports, exports, and trade by
/// road and by rail.
struct Partners {
    list: Vec<Partner>,
    import: Weighted<usize>,
    export: Weighted<usize>,
    road: Weighted<usize>,
    rail: Weighted<usize>,
}

impl Partners {
    fn new(tables: &Tables<'_>) -> Result<Self, BuildError> {
        let mut list = PartnerList {
            tables,
            partners: Vec::new(),
        };
        let mut import_pairs = Vec::new();
        let mut export_pairs = Vec::new();
        for (code, import, export, major) in catalog::PARTNERS {
            if let Some(i) = list.index(code, major) {
                import_pairs.push((i, *import));
                export_pairs.push((i, *export));
            }
        }
        let road_pairs: Vec<(usize, f64)> = catalog::ROAD_PARTNERS
            .iter()
            .filter_map(|(code, w)| Some((list.index(code, &[])?, *w)))
            .collect();
        let rail_pairs: Vec<(usize, f64)> = catalog::RAIL_PARTNERS
            .iter()
            .filter_map(|(code, w)| Some((list.index(code, &[])?, *w)))
            .collect();
        let weighted = |pairs: Vec<(usize, f64)>, what: &str| {
            Weighted::from_pairs(pairs).map_err(|e| BuildError::new(format!("{what}: {e}")))
        };
        Ok(Self {
            import: weighted(import_pairs, "import partners")?,
            export: weighted(export_pairs, "export partners")?,
            road: weighted(road_pairs, "road partners")?,
            rail: weighted(rail_pairs, "rail partners")?,
            list: list.partners,
        })
    }
}

/// Partners in the order they are first named, so that each country has one index.
struct PartnerList<'a> {
    tables: &'a Tables<'a>,
    partners: Vec<Partner>,
}

impl PartnerList<'_> {
    /// The index of the partner with ISO alpha-3 `code`, added on first use with `major`
    /// as its major ports; `None` when the country table lacks the code.
    fn index(&mut self, code: &'static str, major: &[&str]) -> Option<usize> {
        if let Some(i) = self.partners.iter().position(|p| p.code == code) {
            return Some(i);
        }
        self.tables.countries.get(code)?;
        let currency = catalog::LOCAL_CURRENCY
            .iter()
            .find(|(country, _)| *country == code)
            .and_then(|(_, currency)| per_usd(currency))
            .filter(|(currency, _)| self.tables.currencies.contains(currency));
        let rated_months = currency.map_or(0, |(c, _)| rated_months(self.tables.rates, c));
        self.partners.push(Partner {
            code,
            ports: partner_ports(self.tables.ports, code, major),
            currency,
            rated_months,
        });
        Some(self.partners.len() - 1)
    }
}

/// The months of 2026 with a customs exchange rate for `currency`, bit `m - 1` for month `m`.
/// Declarations are all of 2026 ([`days_of_2026`]).
fn rated_months(rates: &ExchangeRates, currency: &str) -> u16 {
    let Ok(currency) = CurrencyCode::parse(currency) else {
        return 0;
    };
    (1..=12u32)
        .filter(|month| {
            NaiveDate::from_ymd_opt(2026, *month, 1)
                .is_some_and(|first| rates.rate_on(currency, first).is_some())
        })
        .fold(0, |months, month| months | 1 << (month - 1))
}

/// A country's ports, weighted; `None` when the port table has none.
fn partner_ports(ports: &CodeTable, code: &str, major: &[&str]) -> Option<Weighted<String>> {
    // Ports by country: codes start with the ISO alpha-3 code; `XXX000` stands for the
    // whole country and is used only when a country has no other port.
    let all: Vec<&str> = ports
        .entries
        .iter()
        .map(|e| e.code.as_str())
        .filter(|c| c.len() == 6 && c.starts_with(code))
        .collect();
    let others: Vec<&str> = all
        .iter()
        .copied()
        .filter(|c| !c.ends_with("000"))
        .collect();
    let majors: Vec<&str> = major
        .iter()
        .copied()
        .filter(|c| ports.contains(c))
        .collect();
    let mut pairs: Vec<(String, f64)> = Vec::new();
    // Four fifths of the traffic goes through the major ports.
    for port in &majors {
        pairs.push(((*port).to_owned(), 80.0 / majors.len() as f64));
    }
    for port in others.iter().filter(|c| !majors.contains(c)) {
        pairs.push(((*port).to_owned(), 20.0 / others.len() as f64));
    }
    if pairs.is_empty() {
        if let Some(whole) = all.first() {
            pairs.push(((*whole).to_owned(), 1.0));
        }
    }
    if pairs.is_empty() {
        None
    } else {
        Weighted::from_pairs(pairs).ok()
    }
}

/// Trade modes by enterprise profile (indexed by `Profile as usize`), each for imports and
/// for exports.
fn trade_modes(tables: &Tables<'_>) -> Result<Vec<[Weighted<TradeMode>; 2]>, BuildError> {
    Ok(vec![
        trade_modes_of(tables, catalog::GENERAL_TRADE_MODES)?,
        trade_modes_of(tables, catalog::PROCESSING_TRADE_MODES)?,
        trade_modes_of(tables, catalog::ECOMMERCE_TRADE_MODES)?,
        trade_modes_of(tables, catalog::MARKET_TRADE_MODES)?,
    ])
}

/// The trade modes of `list` that the trade mode table has, weighted for imports and for
/// exports.
fn trade_modes_of(
    tables: &Tables<'_>,
    list: &[(&'static str, f64, f64)],
) -> Result<[Weighted<TradeMode>; 2], BuildError> {
    let trade_mode = |code: &'static str| {
        let (levy, duty_mode) = catalog::levy_for(code);
        TradeMode {
            code,
            levy_nature: tables.levy_natures.contains(levy).then_some(levy),
            duty_mode,
        }
    };
    let known = || {
        list.iter()
            .filter(|(code, _, _)| tables.trade_modes.contains(code))
    };
    let import = Weighted::from_pairs(known().map(|(c, i, _)| (trade_mode(c), *i)));
    let export = Weighted::from_pairs(known().map(|(c, _, e)| (trade_mode(c), *e)));
    Ok([
        import.map_err(|e| BuildError::new(format!("import trade modes: {e}")))?,
        export.map_err(|e| BuildError::new(format!("export trade modes: {e}")))?,
    ])
}

/// The package types of `list` that the package table has.
fn packages(
    table: &CodeTable,
    list: &[(&'static str, f64)],
) -> Result<Weighted<&'static str>, BuildError> {
    Weighted::from_pairs(
        list.iter()
            .copied()
            .filter(|(code, _)| table.contains(code)),
    )
    .map_err(|e| BuildError::new(format!("package types: {e}")))
}

/// The US dollar and the yuan with their units per dollar.
fn dollar_and_yuan(currencies: &CodeTable) -> Result<[(&'static str, f64); 2], BuildError> {
    let usd = per_usd("USD").filter(|(c, _)| currencies.contains(c));
    let cny = per_usd("CNY").filter(|(c, _)| currencies.contains(c));
    let (Some(usd), Some(cny)) = (usd, cny) else {
        return Err(BuildError::new("currency table lacks USD or CNY"));
    };
    Ok([usd, cny])
}

/// A currency with its rough units per US dollar.
fn per_usd(code: &str) -> Option<(&'static str, f64)> {
    catalog::PER_USD.iter().find(|(c, _)| *c == code).copied()
}

/// Every day of 2026, weighted: weekends and the Spring Festival and National Day holidays
/// see far fewer declarations.
fn days_of_2026() -> Result<Weighted<NaiveDate>, BuildError> {
    let first = NaiveDate::from_ymd_opt(2026, 1, 1)
        .ok_or_else(|| BuildError::new("2026-01-01 is not a date"))?;
    let pairs = first
        .iter_days()
        .take_while(|d| d.year() == 2026)
        .map(|day| {
            let mut weight = match day.weekday() {
                Weekday::Sat => 0.35,
                Weekday::Sun => 0.25,
                _ => 1.0,
            };
            let (month, date) = (day.month(), day.day());
            // Spring Festival 2026 falls on 17 February.
            if month == 2 && (15..=23).contains(&date) {
                weight *= 0.3;
            }
            if month == 10 && date <= 7 {
                weight *= 0.4;
            }
            (day, weight)
        });
    Weighted::from_pairs(pairs).map_err(BuildError::new)
}

/// Goods items per declaration: a geometric law truncated to 1..=20 whose ratio gives a mean
/// of about five. Single-item declarations are the most common, as in real traffic.
fn item_counts() -> Result<Weighted<u32>, BuildError> {
    const RATIO: f64 = 0.812;
    Weighted::from_pairs((1..=20u32).map(|n| (n, RATIO.powi(n as i32 - 1))))
        .map_err(BuildError::new)
}

/// The shared corpus of real third-party material (`../shared/corpus` beside the repository,
/// or `$JINGUAN_CORPUS`), if it is there. Where it is absent, tests say so and pass — unless
/// `JINGUAN_REQUIRE_CORPUS` is set (CI sets it when the corpus exists), then this panics, so
/// corpus tests cannot silently skip.
pub fn corpus() -> Option<std::path::PathBuf> {
    let dir = std::env::var_os("JINGUAN_CORPUS")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus")
        });
    if dir.join("china/declaration").is_dir() {
        return Some(dir);
    }
    assert!(
        std::env::var("JINGUAN_REQUIRE_CORPUS").is_err(),
        "corpus required but absent at {}",
        dir.display()
    );
    eprintln!(
        "SKIP: corpus not found at {}; set JINGUAN_CORPUS",
        dir.display()
    );
    None
}
