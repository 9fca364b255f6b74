//! Where reference data files come from: compiled into the binary, or a directory on disk.

use std::borrow::Cow;
use std::path::PathBuf;

use crate::Error;

/// Declares the data files shipped inside the binary, by their path under `data/`.
macro_rules! embedded_files {
    ($($path:literal),* $(,)?) => {
        /// Every shipped data file, by its path relative to the repository's `data/` folder.
        pub const EMBEDDED_FILES: &[(&str, &str)] = &[
            $(($path, include_str!(concat!(env!("CARGO_MANIFEST_DIR"), "/../../data/", $path))),)*
        ];
    };
}

embedded_files![
    "tables.csv",
    "datasets.csv",
    "codes/country_region.csv",
    "codes/country_legacy_preferred.csv",
    "codes/currency.csv",
    "codes/transport_mode.csv",
    "codes/supervision_mode_trade_mode.csv",
    "codes/unit_of_measure.csv",
    "codes/package_type.csv",
    "codes/container_spec.csv",
    "codes/port.csv",
    "codes/levy_nature_zhengmianxingzhi.csv",
    "codes/duty_mode_zhengjianmianshuifangshi.csv",
    "codes/transaction_terms_chengjiaofangshi.csv",
    "codes/license_document_codes_jianguanzhengjian.csv",
    "codes/declaration_receipt_channel_codes.csv",
    "codes/customs_directly_subordinate_offices_unverified.csv",
    "codes/declaration_misc_codes.csv",
    "codes/ceb_return_status.csv",
    "codes/ceb_error_codes_202205.csv",
    "codes/ceb_misc_codes.csv",
    "codes/manifest_receipt_codes.csv",
    "codes/jg2_message_types.csv",
    "codes/inv101_field_codes_unverified.csv",
    "hs2022/harmonized-system.csv",
    "hs2022/sections.csv",
    "tariff/2026/tariff_clean.csv",
    "tariff/2026/tariff_extra.csv",
    "tariff/2026/conventional_rates_wide.csv",
    "tariff/2026/known_gaps.csv",
    "exchange_rates/example_2026.csv",
];

/// A place to read data files from.
#[derive(Debug, Clone)]
pub enum Source {
    /// The files compiled into the binary (the default: nothing to install, nothing to lose).
    Embedded,
    /// A directory laid out like the repository's `data/` folder, for operators who load a
    /// newer edition without rebuilding.
    Directory(PathBuf),
}

impl Source {
    /// Reads one file by its path under the data folder. A UTF-8 byte order mark is dropped.
    pub fn read(&self, name: &str) -> Result<Cow<'static, str>, Error> {
        let text: Cow<'static, str> = match self {
            Self::Embedded => EMBEDDED_FILES
                .iter()
                .find(|(path, _)| *path == name)
                .map(|(_, text)| Cow::Borrowed(*text))
                .ok_or_else(|| Error::MissingFile(name.to_owned()))?,
            Self::Directory(dir) => {
                let path = dir.join(name);
                let text = std::fs::read_to_string(&path).map_err(|source| Error::Io {
                    path: path.display().to_string(),
                    source,
                })?;
                Cow::Owned(text)
            }
        };
        Ok(match text {
            Cow::Borrowed(t) => Cow::Borrowed(t.strip_prefix('\u{feff}').unwrap_or(t)),
            Cow::Owned(t) => match t.strip_prefix('\u{feff}') {
                Some(rest) => Cow::Owned(rest.to_owned()),
                None => Cow::Owned(t),
            },
        })
    }
}
