//! SM2 signing with the costs that do not depend on the message paid once per key.
//!
//! The `sm2` crate signs by the standard (GB/T 32918.2, A1–A7) but recomputes, per
//! signature, the signer's identity hash Z_A, the inverse of `1 + d`, and `[k]G` by a generic
//! double-and-add. A ledger server signs a tree head per ledger per commit, so this is on its
//! writer's path. Here Z_A and `(1 + d)^-1` are kept with the key, and `[k]G` uses a table of
//! `j·16^i·G` (64 rows of 16 points, built on first use): 64 mixed additions, each row's point
//! chosen by constant-time selection over the whole row so the nonce's digits do not show in
//! memory access. The nonce is the `sm2` crate's (RFC 6979 with SM3 over the same inputs),
//! so signatures are byte-identical to its own (tested), and OpenSSL verifies them.
//!
//! Verification likewise (`FastVerify`, for a key that verifies many signatures, as a
//! declarant's certificate key does at intake): Z_A kept, and `[s]G + [t]P` from a shared
//! table of G with 256 multiples a row (32 additions) and one of P with 16 (64 additions),
//! 96 additions instead of two generic multiplications. Everything in a verification is
//! public, so tables are indexed directly.
//!
//! The points are added here, on the curve's own field elements, rather than through the
//! `sm2` crate's point types: those convert a sum to affine form by the field's generic
//! inversion, which cost about as much as the 128 additions together. Here the one inversion
//! a signature needs is Fermat's (`z^(p−2)`, a fixed sequence of field multiplications, so it
//! takes the same time for every `z`), a verification needs none (it compares `X` with
//! `x·Z` for the one or two x its signature allows), and a table's points are made affine
//! with one inversion a row (Montgomery's trick).

use primeorder::PrimeCurveParams;
use sm2::elliptic_curve::bigint::ArrayEncoding;
use sm2::elliptic_curve::ops::Reduce;
use sm2::elliptic_curve::sec1::ToEncodedPoint;
use sm2::elliptic_curve::subtle::{Choice, ConditionallySelectable, ConstantTimeEq};
use sm2::elliptic_curve::PrimeField;
use sm2::{AffinePoint, FieldBytes, Scalar, U256};
use sm3::{Digest, Sm3};

/// The curve's coefficient a (p − 3) and b, big-endian (GB/T 32918.5).
const A: [u8; 32] = hex32("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFC");
const B: [u8; 32] = hex32("28E9FA9E9D9F5E344D5A9E4BCF6509A7F39789F515AB8F92DDBCBD414D940E93");
/// The field's modulus p, big-endian.
const MODULUS: [u8; 32] = hex32("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF00000000FFFFFFFFFFFFFFFF");
/// The group order n, big-endian.
const ORDER: [u8; 32] = hex32("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123");
/// p − 2, the exponent that inverts a field element (Fermat), as little-endian 64-bit words.
const P_MINUS_2: [u64; 4] = [
    0xFFFF_FFFF_FFFF_FFFD,
    0xFFFF_FFFF_0000_0000,
    0xFFFF_FFFF_FFFF_FFFF,
    0xFFFF_FFFE_FFFF_FFFF,
];

const fn hex32(text: &str) -> [u8; 32] {
    let bytes = text.as_bytes();
    let mut out = [0u8; 32];
    let mut i = 0;
    while i < 32 {
        out[i] = (nibble(bytes[2 * i]) << 4) | nibble(bytes[2 * i + 1]);
        i += 1;
    }
    out
}

const fn nibble(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'A'..=b'F' => c - b'A' + 10,
        _ => panic!("not an upper-case hex digit"),
    }
}

/// An element of the curve's base field GF(p).
type Fe = <sm2::Sm2 as PrimeCurveParams>::FieldElement;

/// `z^-1` as `z^(p−2)`: the exponent is fixed, so the squarings and multiplications are the
/// same for every `z` (0 gives 0).
fn invert(z: &Fe) -> Fe {
    z.pow_vartime(&P_MINUS_2)
}

/// A point other than the identity, in affine coordinates.
#[derive(Clone, Copy, Debug)]
struct Affine {
    x: Fe,
    y: Fe,
}

impl Affine {
    fn of(point: &AffinePoint) -> Option<Self> {
        let encoded = point.to_encoded_point(false);
        let coordinate =
            |bytes: &[u8]| Option::<Fe>::from(Fe::from_repr(*FieldBytes::from_slice(bytes)));
        Some(Self {
            x: coordinate(encoded.x()?)?,
            y: coordinate(encoded.y()?)?,
        })
    }
}

impl ConditionallySelectable for Affine {
    fn conditional_select(a: &Self, b: &Self, choice: Choice) -> Self {
        Self {
            x: Fe::conditional_select(&a.x, &b.x, choice),
            y: Fe::conditional_select(&a.y, &b.y, choice),
        }
    }
}

/// A point in homogeneous projective coordinates (x = X/Z, y = Y/Z); the identity is
/// (0 : 1 : 0).
#[derive(Clone, Copy, Debug)]
struct Projective {
    x: Fe,
    y: Fe,
    z: Fe,
}

impl Projective {
    const IDENTITY: Self = Self {
        x: Fe::ZERO,
        y: Fe::ONE,
        z: Fe::ZERO,
    };

    fn from_affine(point: &Affine) -> Self {
        Self {
            x: point.x,
            y: point.y,
            z: Fe::ONE,
        }
    }

    /// `self + rhs` by the complete mixed addition for a = −3 (Renes, Costello, Batina,
    /// "Complete addition formulas for prime order elliptic curves", 2015, algorithm 5):
    /// right for every `self`, the identity and `rhs` itself included.
    fn add_affine(&self, rhs: &Affine) -> Self {
        let b = <sm2::Sm2 as PrimeCurveParams>::EQUATION_B;
        let triple = |v: Fe| v.double() + v;
        let xx = self.x * rhs.x;
        let yy = self.y * rhs.y;
        let xy = (self.x + self.y) * (rhs.x + rhs.y) - (xx + yy);
        let yz = rhs.y * self.z + self.y;
        let xz = rhs.x * self.z + self.x;
        let bz3 = triple(xz - b * self.z);
        let yy_minus = yy - bz3;
        let yy_plus = yy + bz3;
        let z3 = triple(self.z);
        let bxz3 = triple(b * xz - (z3 + xx));
        let xx3 = triple(xx) - z3;
        Self {
            x: yy_plus * xy - yz * bxz3,
            y: yy_plus * yy_minus + xx3 * bxz3,
            z: yy_minus * yz + xy * xx3,
        }
    }

    /// The affine x coordinate, big-endian; `None` for the identity.
    fn affine_x(&self) -> Option<FieldBytes> {
        if bool::from(self.z.is_zero()) {
            return None;
        }
        Some((self.x * invert(&self.z)).to_repr())
    }
}

impl ConditionallySelectable for Projective {
    fn conditional_select(a: &Self, b: &Self, choice: Choice) -> Self {
        Self {
            x: Fe::conditional_select(&a.x, &b.x, choice),
            y: Fe::conditional_select(&a.y, &b.y, choice),
            z: Fe::conditional_select(&a.z, &b.z, choice),
        }
    }
}

/// `j·16^i·Q` for `i` in 0..64 and `j` in 1..16 (column 0, never read, repeats column 1):
/// `[k]Q` in 64 additions.
type Table = [[Affine; 16]; 64];

/// `j·256^i·G` for `i` in 0..32 and `j` in 1..256 (column 0 likewise): `[k]G` in 32
/// additions, for verification only (half a megabyte, built once; signing keeps [`Table`],
/// whose rows it scans whole in constant time).
type WideTable = [[Affine; 256]; 32];

/// The generator's coordinates.
fn generator() -> Affine {
    let (x, y) = <sm2::Sm2 as PrimeCurveParams>::GENERATOR;
    Affine { x, y }
}

/// The generator's table, built on first use and shared by every key.
fn generator_table() -> Option<&'static Table> {
    static TABLE: std::sync::OnceLock<Option<Box<Table>>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| build_table(generator())).as_deref()
}

/// The generator's [`WideTable`], built on first use and shared by every verifying key.
fn wide_generator_table() -> Option<&'static WideTable> {
    static TABLE: std::sync::OnceLock<Option<Box<WideTable>>> = std::sync::OnceLock::new();
    TABLE.get_or_init(|| build_table(generator())).as_deref()
}

/// A signing key with its per-key work done.
pub(crate) struct FastSm2 {
    d: Scalar,
    d_plus_1_inv: Scalar,
    z: [u8; 32],
}

impl FastSm2 {
    /// Prepares `key` (with its distinguishing id) for signing. `None` for the one key
    /// whose `1 + d` has no inverse (`d = n − 1`), which the standard excludes anyway.
    pub(crate) fn new(key: &sm2::SecretKey, distid: &str) -> Option<Self> {
        let d: Scalar = *key.to_nonzero_scalar();
        let d_plus_1_inv = Option::<Scalar>::from((d + Scalar::ONE).invert())?;
        let public = key.public_key();
        generator_table()?;
        Some(Self {
            d,
            d_plus_1_inv,
            z: identity_hash(distid, public.as_affine())?,
        })
    }

    /// Signs `message`: the signature's `(r, s)`, each 32 bytes big-endian.
    pub(crate) fn sign(&self, message: &[u8]) -> Option<([u8; 32], [u8; 32])> {
        // A1–A2: e = SM3(Z_A ‖ M).
        let mut hasher = Sm3::new();
        hasher.update(self.z);
        hasher.update(message);
        let digest = hasher.finalize();
        let e = <Scalar as Reduce<U256>>::reduce_bytes(FieldBytes::from_slice(&digest));
        // A3: k by RFC 6979, exactly as the `sm2` crate derives it.
        let k = Scalar::from_repr(rfc6979::generate_k::<Sm3, _>(
            &self.d.to_repr(),
            FieldBytes::from_slice(&ORDER),
            &e.to_repr(),
            &[],
        ));
        let k = Option::<Scalar>::from(k)?;
        // A4: (x1, y1) = [k]G.
        let x1 = mul_generator(generator_table()?, &k).affine_x()?;
        // A5: r = (e + x1) mod n; r ≠ 0 and r + k ≠ n.
        let r = e + <Scalar as Reduce<U256>>::reduce_bytes(&x1);
        if bool::from(r.is_zero() | (r + k).ct_eq(&Scalar::ZERO)) {
            return None;
        }
        // A6: s = (1 + d)^-1 · (k − r·d) mod n; s ≠ 0.
        let s = self.d_plus_1_inv * (k - r * self.d);
        if bool::from(s.is_zero()) {
            return None;
        }
        Some((r.to_repr().into(), s.to_repr().into()))
    }
}

/// `[k]G` for a secret `k`: each row's point is chosen by constant-time selection over the
/// whole row, and a zero digit adds all the same and keeps the sum, so neither memory access
/// nor the work done depends on the digits.
fn mul_generator(table: &Table, k: &Scalar) -> Projective {
    let digits = k.to_repr();
    let mut sum = Projective::IDENTITY;
    for (i, row) in table.iter().enumerate() {
        // Row i holds j·16^i·G; its digit is the i-th nibble from the low end.
        let digit = digit(&digits, i) as u8;
        let mut chosen = row[1];
        for (j, point) in row.iter().enumerate().skip(2) {
            chosen.conditional_assign(point, (j as u8).ct_eq(&digit));
        }
        let added = sum.add_affine(&chosen);
        sum.conditional_assign(&added, !digit.ct_eq(&0));
    }
    sum
}

/// The `i`-th base-16 digit of `k`, from the low end.
fn digit(k: &FieldBytes, i: usize) -> usize {
    window(k, i, 4)
}

/// The `i`-th digit of `bits` bits (4 or 8: a digit never straddles two bytes) of `k`, from
/// the low end.
fn window(k: &FieldBytes, i: usize, bits: usize) -> usize {
    let at = i * bits;
    let byte = k.get(31 - at / 8).copied().unwrap_or(0);
    usize::from(byte >> (at % 8)) & ((1 << bits) - 1)
}

/// `[k]Q` from `Q`'s table (of rows of `W` multiples, `W` a power of two) added to `sum`, in
/// variable time: for public scalars only.
fn add_public<const W: usize>(
    mut sum: Projective,
    table: &[[Affine; W]],
    k: &Scalar,
) -> Projective {
    let digits = k.to_repr();
    let bits = W.trailing_zeros() as usize;
    for (i, row) in table.iter().enumerate() {
        let j = window(&digits, i, bits);
        if j != 0 {
            sum = sum.add_affine(&row[j]);
        }
    }
    sum
}

/// A verifying key with its per-key work done: Z_A and the table of its point.
pub(crate) struct FastVerify {
    z: [u8; 32],
    table: Box<Table>,
}

impl FastVerify {
    /// Prepares `key` (with the distinguishing id its signatures use). `None` if the id is
    /// too long for the standard's 16-bit length or the key is the identity.
    pub(crate) fn new(key: &sm2::PublicKey, distid: &str) -> Option<Self> {
        wide_generator_table()?;
        Some(Self {
            z: identity_hash(distid, key.as_affine())?,
            table: build_table(Affine::of(key.as_affine())?)?,
        })
    }

    /// Whether `(r, s)` is a signature of `message` (GB/T 32918.2, B1–B7).
    pub(crate) fn verify(&self, message: &[u8], r: &[u8; 32], s: &[u8; 32]) -> bool {
        // B1–B2: r and s in [1, n − 1].
        let scalar = |bytes: &[u8; 32]| {
            Option::<Scalar>::from(Scalar::from_repr(*FieldBytes::from_slice(bytes)))
                .filter(|v| !bool::from(v.is_zero()))
        };
        let (Some(r), Some(s)) = (scalar(r), scalar(s)) else {
            return false;
        };
        // B3–B4: e = SM3(Z_A ‖ M).
        let mut hasher = Sm3::new();
        hasher.update(self.z);
        hasher.update(message);
        let digest = hasher.finalize();
        let e = <Scalar as Reduce<U256>>::reduce_bytes(FieldBytes::from_slice(&digest));
        // B5: t = (r + s) mod n, t ≠ 0.
        let t = r + s;
        if bool::from(t.is_zero()) {
            return false;
        }
        // B6: (x1, y1) = [s]G + [t]P.
        let Some(generator) = wide_generator_table() else {
            return false;
        };
        let point = add_public(
            add_public(Projective::IDENTITY, generator, &s),
            self.table.as_slice(),
            &t,
        );
        // B7: R = (e + x1) mod n = r, that is x1 mod n = r − e.
        x_is(&point, &(r - e))
    }
}

/// Whether the affine x of `point` (the identity has none), reduced mod n, is `c`, checked
/// without making the point affine (an inversion, a fifth of a verification): x is below p,
/// and n < p < 2n, so x mod n = c means x = c, or x = c + n where that is below p; either
/// is `X = x·Z`. (Public values: it may branch.)
fn x_is(point: &Projective, c: &Scalar) -> bool {
    if bool::from(point.z.is_zero()) {
        return false;
    }
    let is = |x: &FieldBytes| {
        Option::<Fe>::from(Fe::from_repr(*x))
            .is_some_and(|x| bool::from((x * point.z).ct_eq(&point.x)))
    };
    let c = c.to_repr();
    if is(&c) {
        return true;
    }
    let (c, n, p) = (
        U256::from_be_slice(&c),
        U256::from_be_slice(&ORDER),
        U256::from_be_slice(&MODULUS),
    );
    c < p.wrapping_sub(&n) && is(&c.wrapping_add(&n).to_be_byte_array())
}

/// The table of `point` ([`Table`], [`WideTable`]): each row's `W` multiples summed in
/// projective form, then made affine together with one inversion (Montgomery's trick); the
/// `W`-th is the next row's unit. `None` if a multiple is the identity, which no point of the
/// curve's prime order gives.
fn build_table<const W: usize, const R: usize>(point: Affine) -> Option<Box<[[Affine; W]; R]>> {
    // Row by row on the heap: a wide table is too large for a thread's stack.
    let mut rows: Vec<[Affine; W]> = Vec::with_capacity(R);
    let mut unit = point;
    for _ in 0..R {
        // multiples[j - 1] = j·unit, j = 1..=W.
        let mut multiples = vec![Projective::from_affine(&unit); W];
        for j in 1..W {
            multiples[j] = multiples[j - 1].add_affine(&unit);
        }
        // prefix[j] = z_0 · … · z_j; one inversion of the whole product, then each z's
        // inverse peeled off from the top.
        let mut prefix = vec![Fe::ONE; W];
        let mut product = Fe::ONE;
        for (slot, multiple) in prefix.iter_mut().zip(&multiples) {
            product *= multiple.z;
            *slot = product;
        }
        if bool::from(product.is_zero()) {
            return None;
        }
        let mut inverse = invert(&product);
        let mut affine = vec![unit; W];
        for j in (0..W).rev() {
            let z_inv = if j == 0 {
                inverse
            } else {
                inverse * prefix[j - 1]
            };
            inverse *= multiples[j].z;
            affine[j] = Affine {
                x: multiples[j].x * z_inv,
                y: multiples[j].y * z_inv,
            };
        }
        let mut row = [unit; W];
        row[1..].copy_from_slice(&affine[..W - 1]);
        row[0] = affine[0];
        unit = affine[W - 1];
        rows.push(row);
    }
    rows.into_boxed_slice().try_into().ok()
}

/// Z_A = SM3(ENTL_A ‖ ID_A ‖ a ‖ b ‖ x_G ‖ y_G ‖ x_A ‖ y_A) (GB/T 32918.2, 5.5).
fn identity_hash(distid: &str, public: &AffinePoint) -> Option<[u8; 32]> {
    let bits = u16::try_from(distid.len().checked_mul(8)?).ok()?;
    let generator = AffinePoint::GENERATOR.to_encoded_point(false);
    let key = public.to_encoded_point(false);
    let mut hasher = Sm3::new();
    hasher.update(bits.to_be_bytes());
    hasher.update(distid.as_bytes());
    hasher.update(A);
    hasher.update(B);
    hasher.update(generator.x()?);
    hasher.update(generator.y()?);
    hasher.update(key.x()?);
    hasher.update(key.y()?);
    Some(hasher.finalize().into())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use sm2::dsa::signature::{Signer, Verifier};
    use sm2::elliptic_curve::bigint::ArrayEncoding;
    use sm2::elliptic_curve::{Field, PrimeField};
    use sm2::{Scalar, U256};

    use super::{Fe, Projective, MODULUS, ORDER};

    /// `X/Z = x` for a random `Z`: what a sum in projective form with affine x `x` may be.
    fn with_x(x: U256) -> Projective {
        let z = Fe::random(&mut rand_core::OsRng);
        let x = Fe::from_repr(x.to_be_byte_array()).unwrap();
        Projective {
            x: x * z,
            y: Fe::ONE,
            z,
        }
    }

    fn scalar(value: U256) -> Scalar {
        Scalar::from_repr(value.to_be_byte_array()).unwrap()
    }

    /// The comparison verification ends with, `x mod n = c`, made without an inversion: on
    /// both sides of n (an x in [n, p) counts as x − n), and never for another value.
    #[test]
    fn the_x_comparison_reduces_mod_n() {
        let (n, p) = (U256::from_be_slice(&ORDER), U256::from_be_slice(&MODULUS));
        let five = U256::from_u64(5);
        for (x, c, expected) in [
            (five, five, true),
            (five, U256::from_u64(6), false),
            (U256::ZERO, U256::ZERO, true),
            (n.wrapping_add(&five), five, true),
            (n.wrapping_add(&five), U256::from_u64(4), false),
            (
                p.wrapping_sub(&U256::ONE),
                p.wrapping_sub(&n).wrapping_sub(&U256::ONE),
                true,
            ),
            (p.wrapping_sub(&U256::ONE), p.wrapping_sub(&n), false),
            (n.wrapping_sub(&U256::ONE), n.wrapping_sub(&U256::ONE), true),
            (
                n.wrapping_sub(&U256::ONE),
                p.wrapping_sub(&n).wrapping_sub(&U256::ONE),
                false,
            ),
            // c + n past p (here past 2^256, wrapping to an x below n): only x = c matches.
            (
                n.wrapping_add(&n).wrapping_sub(&U256::ONE),
                n.wrapping_sub(&U256::ONE),
                false,
            ),
        ] {
            let point = with_x(x);
            assert_eq!(super::x_is(&point, &scalar(c)), expected, "x {x}, c {c}");
        }
        // The identity has no x.
        let identity = Projective {
            x: Fe::ZERO,
            y: Fe::ONE,
            z: Fe::ZERO,
        };
        assert!(!super::x_is(&identity, &Scalar::ZERO));
    }

    /// The prepared verifier agrees with the `sm2` crate's on good signatures, on every
    /// single-bit change of message or signature, and on another key's signatures.
    #[test]
    fn verification_agrees_with_the_sm2_crate() {
        for round in 0..12u32 {
            let secret = sm2::SecretKey::random(&mut rand_core::OsRng);
            let distid = if round % 3 == 0 {
                "jinguan"
            } else {
                "1234567812345678"
            };
            let signer = sm2::dsa::SigningKey::new(distid, &secret).unwrap();
            let public = secret.public_key();
            let reference = sm2::dsa::VerifyingKey::new(distid, public).unwrap();
            let fast = super::FastVerify::new(&public, distid).unwrap();
            let message: Vec<u8> = (0..(round * 37)).map(|i| (i * 3 + round) as u8).collect();
            let signature: sm2::dsa::Signature = signer.sign(&message);
            let bytes = signature.to_bytes();
            let (r, s): ([u8; 32], [u8; 32]) = (
                bytes[..32].try_into().unwrap(),
                bytes[32..].try_into().unwrap(),
            );
            assert!(fast.verify(&message, &r, &s));
            let mut flipped = message.clone();
            flipped.push(1);
            assert!(!fast.verify(&flipped, &r, &s));
            for bit in [0usize, 7, 100, 255] {
                let mut r2 = r;
                r2[bit / 8] ^= 1 << (bit % 8);
                let mut s2 = s;
                s2[bit / 8] ^= 1 << (bit % 8);
                for (a, b) in [(r2, s), (r, s2)] {
                    let theirs = sm2::dsa::Signature::from_bytes(&{
                        let mut both = [0u8; 64];
                        both[..32].copy_from_slice(&a);
                        both[32..].copy_from_slice(&b);
                        both
                    })
                    .map(|sig| reference.verify(&message, &sig).is_ok())
                    .unwrap_or(false);
                    assert_eq!(fast.verify(&message, &a, &b), theirs);
                    assert!(!theirs);
                }
            }
            let other = sm2::SecretKey::random(&mut rand_core::OsRng);
            let other = super::FastVerify::new(&other.public_key(), distid).unwrap();
            assert!(!other.verify(&message, &r, &s));
            assert!(!fast.verify(&message, &[0; 32], &s));
        }
    }

    /// The tables and the additions give the `sm2` crate's multiples of G and of a random
    /// point, both coordinates, for scalars whose digits are zero, fifteen, or random, for
    /// n − 1 (whose x is G's own) and for 0 (the identity, which has no x).
    #[test]
    fn multiples_are_the_sm2_crates() {
        use super::{add_public, build_table, generator_table, invert, mul_generator};
        use super::{wide_generator_table, Affine, Projective, Table};
        use sm2::elliptic_curve::point::AffineCoordinates;
        use sm2::elliptic_curve::sec1::ToEncodedPoint;
        use sm2::elliptic_curve::{Field, PrimeField};
        use sm2::{ProjectivePoint, Scalar};

        let coordinates = |point: &Projective| {
            let z = invert(&point.z);
            ((point.x * z).to_repr(), (point.y * z).to_repr())
        };
        let expected = |point: ProjectivePoint| {
            let affine = point.to_affine();
            let encoded = affine.to_encoded_point(false);
            (
                *sm2::FieldBytes::from_slice(encoded.x().unwrap()),
                *sm2::FieldBytes::from_slice(encoded.y().unwrap()),
            )
        };
        let mut scalars: Vec<Scalar> = [1u64, 2, 3, 15, 16, 17, 255, 256, 0x1_0000_0001]
            .into_iter()
            .map(Scalar::from)
            .collect();
        scalars.push(-Scalar::ONE);
        scalars.push(Scalar::from_repr([0xff; 32].into()).unwrap_or(Scalar::ONE.double()));
        for _ in 0..16 {
            scalars.push(Scalar::random(&mut rand_core::OsRng));
        }
        let generator = generator_table().unwrap();
        let wide = wide_generator_table().unwrap();
        let other = ProjectivePoint::GENERATOR * Scalar::random(&mut rand_core::OsRng);
        let other_table: Box<Table> = build_table(Affine::of(&other.to_affine()).unwrap()).unwrap();
        for k in &scalars {
            let theirs = expected(ProjectivePoint::GENERATOR * k);
            assert_eq!(coordinates(&mul_generator(generator, k)), theirs, "{k:?}");
            assert_eq!(
                coordinates(&add_public(Projective::IDENTITY, generator.as_slice(), k)),
                theirs
            );
            assert_eq!(
                coordinates(&add_public(Projective::IDENTITY, wide.as_slice(), k)),
                theirs,
                "{k:?}"
            );
            assert_eq!(
                coordinates(&add_public(Projective::IDENTITY, other_table.as_slice(), k)),
                expected(other * k)
            );
        }
        let minus_one = mul_generator(generator, &-Scalar::ONE);
        assert_eq!(
            minus_one.affine_x().unwrap(),
            ProjectivePoint::GENERATOR.to_affine().x()
        );
        assert!(mul_generator(generator, &Scalar::ZERO).affine_x().is_none());
        assert!(
            add_public(Projective::IDENTITY, generator.as_slice(), &Scalar::ZERO)
                .affine_x()
                .is_none()
        );
        assert!(
            add_public(Projective::IDENTITY, wide.as_slice(), &Scalar::ZERO)
                .affine_x()
                .is_none()
        );
        // A point added to itself is its double, and to its negation the identity.
        let g = Affine::of(&ProjectivePoint::GENERATOR.to_affine()).unwrap();
        let doubled = Projective::from_affine(&g).add_affine(&g);
        assert_eq!(
            coordinates(&doubled),
            expected(ProjectivePoint::GENERATOR + ProjectivePoint::GENERATOR)
        );
        let negated = Affine { x: g.x, y: -g.y };
        assert!(Projective::from_affine(&g)
            .add_affine(&negated)
            .affine_x()
            .is_none());
    }

    /// Byte-identical to the `sm2` crate's signatures, for many keys and messages.
    #[test]
    fn signatures_are_the_sm2_crates_own() {
        for round in 0..40u32 {
            let secret = sm2::SecretKey::random(&mut rand_core::OsRng);
            let distid = if round % 2 == 0 {
                "1234567812345678"
            } else {
                "jinguan"
            };
            let reference = sm2::dsa::SigningKey::new(distid, &secret).unwrap();
            let fast = super::FastSm2::new(&secret, distid).unwrap();
            for length in [0usize, 1, 31, 32, 33, 120, 1000] {
                let message: Vec<u8> = (0..length).map(|i| (i as u32 * 7 + round) as u8).collect();
                let expected: sm2::dsa::Signature = reference.sign(&message);
                let (r, s) = fast.sign(&message).unwrap();
                let bytes = expected.to_bytes();
                assert_eq!(
                    (&bytes[..32], &bytes[32..]),
                    (&r[..], &s[..]),
                    "round {round}, {length} bytes"
                );
            }
        }
    }
}
