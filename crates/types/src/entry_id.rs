//! The customs entry number (海关编号).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::party::text_impls;
use crate::ParseError;

/// Import or export.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum IeFlag {
    /// Import (进口), `I` in messages.
    #[serde(rename = "I")]
    Import,
    /// Export (出口), `E` in messages.
    #[serde(rename = "E")]
    Export,
}

impl IeFlag {
    /// Parses the message letter `I` or `E`.
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        match input {
            "I" => Ok(Self::Import),
            "E" => Ok(Self::Export),
            _ => Err(ParseError::new(
                "T0401",
                "import/export flag",
                input,
                "must be I or E",
            )),
        }
    }

    /// The message letter.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Import => "I",
            Self::Export => "E",
        }
    }

    /// The digit that stands for this direction inside an entry id.
    fn entry_digit(self) -> u8 {
        match self {
            Self::Import => b'1',
            Self::Export => b'0',
        }
    }
}

/// An 18-digit customs entry id: declaring customs (4) + year (4) + I/E digit (1: `1` import,
/// `0` export) + serial (9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EntryId([u8; 18]);

impl EntryId {
    /// Parses and checks the structure.
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let err = |reason: &str| ParseError::new("T0402", "entry id", input, reason);
        let bytes = input.as_bytes();
        if bytes.len() != 18 || !bytes.iter().all(u8::is_ascii_digit) {
            return Err(err("must be 18 digits"));
        }
        let year: u16 = input[4..8].parse().map_err(|_| err("bad year"))?;
        if !(1980..=2999).contains(&year) {
            return Err(err("year out of range"));
        }
        if !matches!(bytes[8], b'0' | b'1') {
            return Err(err("ninth digit must be 1 (import) or 0 (export)"));
        }
        Ok(Self(bytes.try_into().expect("length checked above")))
    }

    /// Builds an entry id from its parts; `serial` must be below 10^9.
    pub fn new(customs: &str, year: u16, ie: IeFlag, serial: u32) -> Result<Self, ParseError> {
        if serial >= 1_000_000_000 {
            return Err(ParseError::new(
                "T0402",
                "entry id",
                &serial.to_string(),
                "serial too big",
            ));
        }
        let text = format!(
            "{customs:0>4}{year:04}{}{serial:09}",
            ie.entry_digit() as char
        );
        Self::parse(&text)
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("ASCII by construction")
    }

    /// The 4-digit declaring customs code.
    pub fn customs(&self) -> &str {
        &self.as_str()[..4]
    }

    /// The year of acceptance.
    pub fn year(&self) -> u16 {
        self.as_str()[4..8].parse().expect("digits by construction")
    }

    /// Import or export.
    pub fn ie_flag(&self) -> IeFlag {
        if self.0[8] == b'1' {
            IeFlag::Import
        } else {
            IeFlag::Export
        }
    }

    /// The 9-digit serial within customs, year and direction.
    pub fn serial(&self) -> u32 {
        self.as_str()[9..].parse().expect("digits by construction")
    }
}

text_impls!(EntryId);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entry_id_structure() {
        let id = EntryId::parse("535420241000012345").unwrap();
        assert_eq!(id.customs(), "5354");
        assert_eq!(id.year(), 2024);
        assert_eq!(id.ie_flag(), IeFlag::Import);
        assert_eq!(id.serial(), 12345);
        let export = EntryId::new("5317", 2026, IeFlag::Export, 7).unwrap();
        assert_eq!(export.as_str(), "531720260000000007");
        assert_eq!(export.ie_flag(), IeFlag::Export);
    }

    #[test]
    fn entry_id_rejects() {
        for bad in [
            "53542024100001234",
            "5354202410000123456",
            "53542024200001234X",
            "535420242000012345",
            "535419001000012345",
        ] {
            let err = EntryId::parse(bad).unwrap_err();
            assert_eq!(err.code, "T0402", "{bad}");
        }
        assert!(EntryId::new("5354", 2026, IeFlag::Import, 1_000_000_000).is_err());
    }

    #[test]
    fn ie_flag_letters() {
        assert_eq!(IeFlag::parse("I").unwrap(), IeFlag::Import);
        assert_eq!(IeFlag::parse("E").unwrap().as_str(), "E");
        assert!(IeFlag::parse("i").is_err());
    }
}
