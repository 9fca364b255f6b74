//! Identifiers with their real check digits, so that downstream validators accept them.

use std::fmt::Write;

use rand::Rng;

/// The GB 32100 alphabet: digits and upper-case letters without I, O, Z, S, V.
pub(crate) const USCC_ALPHABET: &[u8; 31] = b"0123456789ABCDEFGHJKLMNPQRTUWXY";

/// Mixes a 64-bit value (SplitMix64 finaliser). Used to derive independent seeds.
pub(crate) fn splitmix64(value: u64) -> u64 {
    let mut z = value.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A pre-2015 organisation code (组织机构代码, GB 11714): eight digits and a check character.
pub(crate) fn organisation_code<R: Rng>(rng: &mut R) -> String {
    let mut digits = [0u8; 8];
    // Codes issued to companies mostly begin with 5, 6 or 7.
    digits[0] = [5, 6, 7][rng.gen_range(0..3)];
    for digit in &mut digits[1..] {
        *digit = rng.gen_range(0..10);
    }
    let mut code: String = digits.iter().map(|d| char::from(b'0' + d)).collect();
    code.push(organisation_check(&digits));
    code
}

/// The GB 11714 check character of an organisation code's eight digits.
fn organisation_check(digits: &[u8; 8]) -> char {
    const WEIGHTS: [u32; 8] = [3, 7, 9, 10, 5, 8, 4, 2];
    let sum: u32 = digits
        .iter()
        .zip(WEIGHTS)
        .map(|(d, w)| u32::from(*d) * w)
        .sum();
    match 11 - sum % 11 {
        10 => 'X',
        11 => '0',
        check => char::from(b'0' + check as u8),
    }
}

/// The ISO 6346 check digit of a container's owner code, category and serial number.
pub(crate) fn container_number(owner: &str, serial: u32) -> String {
    let mut number = String::with_capacity(11);
    number.push_str(owner);
    let _ = write!(number, "{serial:06}");
    let mut sum = 0u32;
    for (i, byte) in number.bytes().enumerate() {
        let value = if byte.is_ascii_digit() {
            u32::from(byte - b'0')
        } else {
            letter_value(byte)
        };
        sum += value << i;
    }
    number.push(char::from(b'0' + (sum % 11 % 10) as u8));
    number
}

/// ISO 6346 letter values: A = 10 upwards, skipping multiples of 11.
fn letter_value(letter: u8) -> u32 {
    let mut value = 10;
    for _ in b'A'..letter {
        value += 1;
        if value % 11 == 0 {
            value += 1;
        }
    }
    value
}

/// An air waybill number: airline prefix, seven-digit serial and its modulo-7 check digit.
pub(crate) fn air_waybill(prefix: &str, serial: u32) -> String {
    format!("{prefix}{serial:07}{}", serial % 7)
}

/// A CAS registry number with its check digit.
pub(crate) fn cas_number<R: Rng>(rng: &mut R) -> String {
    let first: u32 = rng.gen_range(50..1_000_000);
    let second: u32 = rng.gen_range(0..100);
    let check = cas_check(&format!("{first}{second:02}"));
    format!("{first}-{second:02}-{check}")
}

/// The CAS check digit: digits weighted 1, 2, 3 ... from the right, modulo 10.
fn cas_check(digits: &str) -> u32 {
    let sum: u32 = digits
        .bytes()
        .rev()
        .enumerate()
        .map(|(i, b)| (i as u32 + 1) * u32::from(b - b'0'))
        .sum();
    sum % 10
}

#[cfg(test)]
mod tests {
    use rand::SeedableRng;

    use super::*;

    #[test]
    fn container_check_digit_matches_iso_example() {
        assert_eq!(container_number("CSQU", 305_438), "CSQU3054383");
    }

    #[test]
    fn organisation_check_matches_a_real_code() {
        // 19220382-1, the organisation code inside USCC 914403001922038216.
        assert_eq!(organisation_check(&[1, 9, 2, 2, 0, 3, 8, 2]), '1');
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(1);
        for _ in 0..100 {
            let code = organisation_code(&mut rng);
            assert_eq!(code.len(), 9);
            assert!(code.bytes().all(|b| USCC_ALPHABET.contains(&b)), "{code}");
        }
    }

    #[test]
    fn cas_check_matches_water() {
        assert_eq!(cas_check("773218"), 5);
    }

    #[test]
    fn air_waybill_check_is_serial_mod_7() {
        assert_eq!(air_waybill("999", 1_234_567), "99912345675");
    }
}
