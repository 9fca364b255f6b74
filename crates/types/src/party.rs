//! Enterprise identifiers.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::ParseError;

/// The 31 characters of GB 32100-2015, in value order. I, O, Z, S and V are left out so that
/// they cannot be mistaken for 1, 0, 2, 5 and U.
const USCC_ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";
/// Position weights 3^i mod 31 for the first 17 characters (GB 32100-2015, 5.3).
const USCC_WEIGHTS: [u32; 17] = [
    1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28,
];

/// A unified social credit code (统一社会信用代码), 18 characters, GB 32100-2015.
///
/// Layout: registration authority (1) + organisation type (1) + administrative division (6
/// digits) + organisation code (9) + check character (1). Construction checks the alphabet,
/// the division digits and the check character.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Uscc([u8; 18]);

impl Uscc {
    /// Parses and checks a USCC.
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let err =
            |reason: &str| ParseError::new("T0101", "unified social credit code", input, reason);
        let bytes = input.as_bytes();
        if bytes.len() != 18 {
            return Err(err("must be 18 characters"));
        }
        let mut values = [0u32; 18];
        for (i, byte) in bytes.iter().enumerate() {
            values[i] =
                uscc_value(*byte).ok_or_else(|| err("character outside GB 32100 alphabet"))?;
        }
        if !bytes[2..8].iter().all(u8::is_ascii_digit) {
            return Err(err(
                "characters 3-8 must be the administrative division digits",
            ));
        }
        let expected = uscc_check_char(bytes[..17].try_into().expect("17 bytes by the slice"))
            .ok_or_else(|| err("character outside GB 32100 alphabet"))?;
        if expected != bytes[17] {
            return Err(err(&format!(
                "check character should be {}",
                expected as char
            )));
        }
        Ok(Self(bytes.try_into().expect("length checked above")))
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("ASCII by construction")
    }

    /// The six-digit administrative division code (characters 3-8).
    pub fn division(&self) -> &str {
        &self.as_str()[2..8]
    }
}

fn uscc_value(byte: u8) -> Option<u32> {
    USCC_ALPHABET
        .iter()
        .position(|c| *c == byte)
        .map(|p| p as u32)
}

/// Computes the GB 32100-2015 check character for the first 17 characters of a USCC.
///
/// Returns `None` when a character is outside the alphabet. Used by generators to make valid
/// codes, and by [`Uscc::parse`] to check them.
pub fn uscc_check_char(first17: &[u8; 17]) -> Option<u8> {
    let mut sum = 0u32;
    for (byte, weight) in first17.iter().zip(USCC_WEIGHTS) {
        sum += uscc_value(*byte)? * weight;
    }
    let check = (31 - sum % 31) % 31;
    Some(USCC_ALPHABET[check as usize])
}

impl Uscc {
    /// Builds a valid USCC from its first 17 characters by appending the check character.
    pub fn with_check(first17: &str) -> Result<Self, ParseError> {
        let bytes: &[u8; 17] = first17.as_bytes().try_into().map_err(|_| {
            ParseError::new(
                "T0101",
                "unified social credit code",
                first17,
                "need 17 characters",
            )
        })?;
        let check = uscc_check_char(bytes).ok_or_else(|| {
            ParseError::new(
                "T0101",
                "unified social credit code",
                first17,
                "bad character",
            )
        })?;
        Self::parse(&format!("{first17}{}", check as char))
    }
}

/// A customs registration code (海关注册编码), 10 characters.
///
/// The first four characters are the digits of the registering customs area or administrative
/// region; the rest are upper-case letters and digits. Construction checks exactly that.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CustomsCode([u8; 10]);

impl CustomsCode {
    /// Parses a customs registration code.
    pub fn parse(input: &str) -> Result<Self, ParseError> {
        let err =
            |reason: &str| ParseError::new("T0102", "customs registration code", input, reason);
        let bytes = input.as_bytes();
        if bytes.len() != 10 {
            return Err(err("must be 10 characters"));
        }
        if !bytes[..4].iter().all(u8::is_ascii_digit) {
            return Err(err("first four characters must be digits"));
        }
        if !bytes
            .iter()
            .all(|b| b.is_ascii_digit() || b.is_ascii_uppercase())
        {
            return Err(err("only digits and upper-case letters"));
        }
        Ok(Self(bytes.try_into().expect("length checked above")))
    }

    /// The code as text.
    pub fn as_str(&self) -> &str {
        std::str::from_utf8(&self.0).expect("ASCII by construction")
    }
}

macro_rules! text_impls {
    ($t:ty) => {
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl FromStr for $t {
            type Err = ParseError;
            fn from_str(s: &str) -> Result<Self, ParseError> {
                Self::parse(s)
            }
        }
        impl Serialize for $t {
            fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
        impl<'de> Deserialize<'de> for $t {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let text = <std::borrow::Cow<'de, str>>::deserialize(d)?;
                Self::parse(&text).map_err(serde::de::Error::custom)
            }
        }
    };
}
pub(crate) use text_impls;

text_impls!(Uscc);
text_impls!(CustomsCode);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uscc_accepts_real_codes() {
        // Codes printed on public declarations and business licences.
        for code in [
            "91440300MA5FHK4H1F",
            "91440300MA5FAQKF5W",
            "91350100M000100Y43",
        ] {
            let uscc = Uscc::parse(code).unwrap();
            assert_eq!(uscc.as_str(), code);
        }
        assert_eq!(
            Uscc::parse("91440300MA5FHK4H1F").unwrap().division(),
            "440300"
        );
    }

    #[test]
    fn uscc_rejects_wrong_check_character() {
        let err = Uscc::parse("91440300MA5FHK4H1G").unwrap_err();
        assert_eq!(err.code, "T0101");
        assert!(err.reason.contains("should be F"), "{err}");
    }

    #[test]
    fn uscc_rejects_bad_shapes() {
        for bad in [
            "",
            "91440300MA5FHK4H1",
            "91440300MA5FHK4H1FF",
            "9144030OMA5FHK4H1F",
            "91A40300MA5FHK4H1F",
            "91440300ma5fhk4h1f",
        ] {
            assert!(Uscc::parse(bad).is_err(), "{bad} accepted");
        }
        // I, O, Z, S, V are not in the alphabet even in the organisation code.
        assert!(Uscc::parse("91440300MA5IHK4H1F").is_err());
    }

    #[test]
    fn uscc_with_check_round_trips() {
        let uscc = Uscc::with_check("91440300MA5FHK4H1").unwrap();
        assert_eq!(uscc.as_str(), "91440300MA5FHK4H1F");
    }

    #[test]
    fn uscc_check_is_zero_when_sum_divides() {
        // Exhaustively every check value is reachable and every computed code parses.
        let mut seen = std::collections::HashSet::new();
        for last in USCC_ALPHABET {
            let mut first = *b"91440300MA5FHK4H1";
            first[16] = *last;
            let check = uscc_check_char(&first).unwrap();
            seen.insert(check);
            let code = format!("{}{}", std::str::from_utf8(&first).unwrap(), check as char);
            Uscc::parse(&code).unwrap();
        }
        assert_eq!(seen.len(), 31);
    }

    #[test]
    fn customs_code_checks_shape() {
        assert_eq!(
            CustomsCode::parse("4403960A3U").unwrap().as_str(),
            "4403960A3U"
        );
        assert_eq!(
            CustomsCode::parse("4403180896").unwrap().to_string(),
            "4403180896"
        );
        assert_eq!(CustomsCode::parse("MA5FAQKF5").unwrap_err().code, "T0102");
        assert!(CustomsCode::parse("A403960A3U").is_err());
        assert!(CustomsCode::parse("4403960a3u").is_err());
    }

    #[test]
    fn serde_validates() {
        let uscc: Uscc = serde_json::from_str("\"91440300MA5FHK4H1F\"").unwrap();
        assert_eq!(
            serde_json::to_string(&uscc).unwrap(),
            "\"91440300MA5FHK4H1F\""
        );
        assert!(serde_json::from_str::<Uscc>("\"91440300MA5FHK4H1X\"").is_err());
    }
}
