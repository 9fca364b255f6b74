//! `jinguan demo`: a guided tour on the embedded data, for a newcomer's first command.

use std::time::Instant;

use jinguan_chinaport::check::check_codes;
use jinguan_chinaport::decmessage::{self, WriteOptions};
use jinguan_refdata::RefData;
use jinguan_testkit::{GenOptions, Generator};
use jinguan_types::{HsCode, Severity};

use crate::describe::rate_words;
use crate::{say, Failure};

pub(crate) fn run(
    data_dir: Option<&std::path::PathBuf>,
    rates: Option<&std::path::PathBuf>,
) -> Result<(), Failure> {
    let start = Instant::now();
    let data: RefData = crate::load_data(data_dir, rates)?;
    let load_ms = start.elapsed().as_secs_f64() * 1e3;
    say!("Jinguan (金关) demo on the embedded reference data");
    say!("");
    say!("1. Reference data loaded in {load_ms:.0} ms:");
    for table in &data.tables {
        say!(
            "   {:<18} {:>5} codes  ({}, valid from {})",
            table.meta.name,
            table.len(),
            table.meta.edition,
            table.meta.valid_from
        );
    }
    let stats = data.tariff.stats();
    say!(
        "   {:<18} {:>5} lines  ({}); unexplained rate strings: {}",
        "tariff",
        stats.lines,
        stats.edition,
        stats.unexplained
    );
    say!("   {:<18} {:>5} entries", "HS 2022", data.hs.entries.len());
    say!("");
    let beer_code = HsCode::parse("2203000000").map_err(|e| Failure::new(e.code, e.to_string()))?;
    if let Some(beer) = data.tariff.get(&beer_code) {
        say!("2. A tariff line: {} {}", beer.code, beer.name);
        for (label, rate) in [
            ("MFN", &beer.mfn),
            ("general", &beer.general),
            ("VAT", &beer.vat),
            ("consumption tax", &beer.consumption_tax),
        ] {
            if let Some(expr) = rate.as_ref().and_then(|r| r.expr()) {
                say!("   {label:<16} {}", rate_words(expr));
            }
        }
        say!("");
    }
    let generator = Generator::new(
        &data,
        GenOptions {
            count: 3,
            seed: 2026,
            enterprises: 200,
        },
    )
    .map_err(|e| Failure::new("E0201", e.to_string()))?;
    say!("3. Three synthetic declarations (seed 2026), each written as DecMessage XML and read back:");
    for declaration in generator.declarations(0..3) {
        let xml = decmessage::write(&declaration, WriteOptions::default());
        let parsed =
            decmessage::parse(xml.as_bytes()).map_err(|e| Failure::new(e.code(), e.to_string()))?;
        let mut read_back = parsed.declaration;
        let diagnostics = check_codes(&mut read_back, &data);
        let errors = diagnostics
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .count();
        let head = &declaration.head;
        say!(
            "   {} {} trade mode {} customs {}: {} items, {} bytes of XML, round trip {}, {} code errors",
            head.consignee.name.as_deref().unwrap_or("-"),
            head.ie_flag.map_or("?", |f| f.as_str()),
            head.trade_mode.as_deref().unwrap_or("-"),
            head.declaring_customs.as_deref().unwrap_or("-"),
            declaration.items.len(),
            xml.len(),
            if read_back == declaration { "identical" } else { "DIFFERENT" },
            errors
        );
        if read_back != declaration {
            return Err(Failure::new(
                "E0203",
                "a generated declaration did not survive XML and back",
            ));
        }
    }
    say!("");
    say!("Next: jinguan tariff show <code>, jinguan codes, jinguan declaration parse <file>,");
    say!("      jinguan gen declarations --count 100000 --seed 7 --format json, jinguan bench refdata");
    Ok(())
}
