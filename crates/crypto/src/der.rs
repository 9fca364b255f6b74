//! DER for the one structure SM2 signatures need: `SEQUENCE { INTEGER r, INTEGER s }`.
//!
//! Hand-written because it is 60 lines and strict: the decoder accepts only minimal,
//! canonical encodings, so one signature has exactly one byte form.

/// Encodes two 32-byte big-endian unsigned integers.
pub(crate) fn encode_signature(r: &[u8; 32], s: &[u8; 32]) -> Vec<u8> {
    let mut body = Vec::with_capacity(72);
    for value in [r, s] {
        let start = value.iter().position(|b| *b != 0).unwrap_or(31);
        let digits = &value[start..];
        let pad = digits[0] & 0x80 != 0;
        body.push(0x02);
        body.push((digits.len() + usize::from(pad)) as u8);
        if pad {
            body.push(0);
        }
        body.extend_from_slice(digits);
    }
    let mut out = Vec::with_capacity(body.len() + 2);
    out.push(0x30);
    out.push(body.len() as u8);
    out.extend_from_slice(&body);
    out
}

/// Decodes a canonical DER signature into (r, s), each 32 bytes big-endian.
pub(crate) fn decode_signature(der: &[u8]) -> Option<([u8; 32], [u8; 32])> {
    let (&tag, rest) = der.split_first()?;
    let (&len, mut body) = rest.split_first()?;
    if tag != 0x30 || len & 0x80 != 0 || usize::from(len) != body.len() {
        return None;
    }
    let mut values = [[0u8; 32]; 2];
    for value in &mut values {
        let (&tag, rest) = body.split_first()?;
        let (&len, rest) = rest.split_first()?;
        let len = usize::from(len);
        if tag != 0x02 || len == 0 || len > 33 || rest.len() < len {
            return None;
        }
        let (digits, after) = rest.split_at(len);
        // Minimal encoding: no needless leading zero, and no negative numbers.
        if digits[0] & 0x80 != 0 || (len > 1 && digits[0] == 0 && digits[1] & 0x80 == 0) {
            return None;
        }
        let digits = if digits[0] == 0 && len > 1 {
            &digits[1..]
        } else {
            digits
        };
        if digits.len() > 32 {
            return None;
        }
        value[32 - digits.len()..].copy_from_slice(digits);
        body = after;
    }
    body.is_empty().then_some((values[0], values[1]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_and_rejects_non_canonical() {
        let mut r = [0u8; 32];
        r[31] = 1;
        let s = [0xffu8; 32];
        let der = encode_signature(&r, &s);
        assert_eq!(der[..5], [0x30, 0x26, 0x02, 0x01, 0x01]);
        assert_eq!(decode_signature(&der), Some((r, s)));
        let mut padded = der.clone();
        padded.insert(4, 0);
        padded[1] += 1;
        padded[3] += 1;
        assert_eq!(decode_signature(&padded), None, "needless leading zero");
        assert_eq!(decode_signature(&der[..der.len() - 1]), None);
        assert_eq!(decode_signature(&[]), None);
        let mut trailing = der;
        trailing.push(0);
        assert_eq!(decode_signature(&trailing), None);
    }
}
