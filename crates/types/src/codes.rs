//! Syntactic code types. Whether a code exists in its table is `jinguan-refdata`'s business.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::party::text_impls;
use crate::ParseError;

/// Declares a fixed-width ASCII code type whose characters all satisfy `$class`.
macro_rules! fixed_code {
    ($(#[$doc:meta])* $name:ident, $len:expr, $code:expr, $what:expr, $class:expr, $class_text:expr) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name([u8; $len]);

        impl $name {
            /// Parses the code, checking its length and character class.
            pub fn parse(input: &str) -> Result<Self, ParseError> {
                let bytes = input.as_bytes();
                if bytes.len() != $len {
                    return Err(ParseError::new(
                        $code,
                        $what,
                        input,
                        concat!("must be ", stringify!($len), " characters"),
                    ));
                }
                let class: fn(&u8) -> bool = $class;
                if !bytes.iter().all(class) {
                    return Err(ParseError::new($code, $what, input, $class_text));
                }
                Ok(Self(bytes.try_into().expect("length checked above")))
            }

            /// The code as text.
            pub fn as_str(&self) -> &str {
                std::str::from_utf8(&self.0).expect("ASCII by construction")
            }
        }

        text_impls!($name);
    };
}

fixed_code!(
    /// A 10-digit China commodity code (商品编码): HS 6 + 2 national tariff digits + 2
    /// statistical digits.
    HsCode, 10, "T0201", "commodity code", u8::is_ascii_digit, "only digits"
);
fixed_code!(
    /// A 6-digit HS 2022 subheading.
    Hs6, 6, "T0202", "HS subheading", u8::is_ascii_digit, "only digits"
);
fixed_code!(
    /// The 3-digit inspection and quarantine suffix (检验检疫编码 = HS code + this).
    CiqCode, 3, "T0203", "CIQ code", u8::is_ascii_digit, "only digits"
);
fixed_code!(
    /// An ISO 3166 alpha-3 country or region code, as declarations use since 2018.
    /// The legacy 3-digit customs codes are mapped by `jinguan-refdata`.
    CountryCode, 3, "T0301", "country code", u8::is_ascii_uppercase, "only upper-case letters"
);
fixed_code!(
    /// An ISO 4217 alpha-3 currency code. Legacy 3-digit customs codes are mapped by
    /// `jinguan-refdata`.
    CurrencyCode, 3, "T0302", "currency code", u8::is_ascii_uppercase, "only upper-case letters"
);
fixed_code!(
    /// A 3-digit customs unit of measure code (`035` = kilogram, `095` = litre).
    UnitCode, 3, "T0303", "unit code", u8::is_ascii_digit, "only digits"
);

impl HsCode {
    /// Parses a 10-digit code or a 13-digit code with its CIQ suffix.
    pub fn parse_with_ciq(input: &str) -> Result<(Self, Option<CiqCode>), ParseError> {
        match input.len() {
            13 => Ok((
                Self::parse(&input[..10])?,
                Some(CiqCode::parse(&input[10..])?),
            )),
            _ => Ok((Self::parse(input)?, None)),
        }
    }

    /// The HS 2022 subheading (first six digits).
    pub fn subheading(&self) -> Hs6 {
        Hs6(self.0[..6].try_into().expect("10 > 6"))
    }

    /// The chapter, 1..=98.
    pub fn chapter(&self) -> u8 {
        (self.0[0] - b'0') * 10 + (self.0[1] - b'0')
    }

    /// The 4-digit heading.
    pub fn heading(&self) -> &str {
        &self.as_str()[..4]
    }
}

impl Hs6 {
    /// The chapter, 1..=98.
    pub fn chapter(&self) -> u8 {
        (self.0[0] - b'0') * 10 + (self.0[1] - b'0')
    }
}

impl CurrencyCode {
    /// Chinese yuan renminbi, the currency of every duty and tax.
    pub const CNY: Self = Self(*b"CNY");
    /// US dollar.
    pub const USD: Self = Self(*b"USD");
}

impl CountryCode {
    /// China.
    pub const CHN: Self = Self(*b"CHN");
}

impl UnitCode {
    /// Kilogram (千克).
    pub const KILOGRAM: Self = Self(*b"035");
    /// Litre (升).
    pub const LITRE: Self = Self(*b"095");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hs_code_parts() {
        let code = HsCode::parse("2203000000").unwrap();
        assert_eq!(code.chapter(), 22);
        assert_eq!(code.heading(), "2203");
        assert_eq!(code.subheading().as_str(), "220300");
        let (code, ciq) = HsCode::parse_with_ciq("8542319090999").unwrap();
        assert_eq!(code.as_str(), "8542319090");
        assert_eq!(ciq.unwrap().as_str(), "999");
        assert_eq!(HsCode::parse("22030000").unwrap_err().code, "T0201");
        assert!(HsCode::parse("220300000A").is_err());
        assert!(HsCode::parse_with_ciq("854231909099").is_err());
    }

    #[test]
    fn country_and_currency_syntax() {
        assert_eq!(CountryCode::parse("HKG").unwrap().as_str(), "HKG");
        assert!(CountryCode::parse("hkg").is_err());
        assert!(
            CountryCode::parse("110").is_err(),
            "legacy codes are mapped by refdata"
        );
        assert_eq!(CurrencyCode::parse("USD").unwrap(), CurrencyCode::USD);
        assert!(UnitCode::parse("35").is_err());
        assert_eq!(UnitCode::parse("035").unwrap(), UnitCode::KILOGRAM);
    }
}
