//! X.509 certificates: the platform CA issues them to parties (enterprises, agencies) and
//! their people, with SM2 keys by default and Ed25519 where configured.
//!
//! A certificate names its holder three ways, each in a standard attribute so that any X.509
//! tool shows them: the display name in `CN`, the party's code (USCC or customs code of an
//! enterprise, the code of an agency) in `serialNumber` (2.5.4.5), and the role in `OU`.
//! Certificates are signed over the DER of their `TBSCertificate`, SM2 with SM3 under the
//! default distinguishing id (GM/T 0015 and OpenSSL both expect it for certificates), or
//! Ed25519 (RFC 8410). Pure: times are given, not read from a clock.

use std::time::Duration;

use x509_cert::attr::AttributeTypeAndValue;
use x509_cert::der::asn1::{
    Any, BitString, GeneralizedTime, ObjectIdentifier, OctetString, SetOfVec, UtcTime,
};
use x509_cert::der::{Decode, DecodePem, Encode, EncodePem, Tag};
use x509_cert::ext::pkix::{BasicConstraints, KeyUsage, KeyUsages, SubjectKeyIdentifier};
use x509_cert::ext::Extension;
use x509_cert::name::{Name, RdnSequence, RelativeDistinguishedName};
use x509_cert::serial_number::SerialNumber;
use x509_cert::spki::{AlgorithmIdentifierOwned, SubjectPublicKeyInfoOwned};
use x509_cert::time::{Time, Validity};
use x509_cert::{Certificate as X509, TbsCertificate, Version};

use crate::keys::{Algorithm, Signature, VerifyingKey, DEFAULT_DISTID};
use crate::Error;
use crate::Signer;

/// SM2 signature with SM3 (GM/T 0006).
const SM2_WITH_SM3: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.2.156.10197.1.501");
/// Ed25519 (RFC 8410).
const ED25519: ObjectIdentifier = ObjectIdentifier::new_unwrap("1.3.101.112");
const COMMON_NAME: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.3");
const SERIAL_NUMBER: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.5");
const ORGANIZATIONAL_UNIT: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.11");
const ORGANIZATION: ObjectIdentifier = ObjectIdentifier::new_unwrap("2.5.4.10");

/// The longest certificate read (a party's certificate is under 1 KiB; this bounds hostile
/// input before any parsing).
pub const MAX_CERTIFICATE_BYTES: usize = 16 * 1024;

/// Who a certificate names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Holder {
    /// Display name (`CN`).
    pub name: String,
    /// The party's code (`serialNumber`): USCC, customs code or agency code.
    pub party: String,
    /// The role (`OU`): `enterprise`, `broker`, `officer`, `bank`, `admin`, `ca`.
    pub role: String,
}

/// What to certify.
#[derive(Debug, Clone)]
pub struct Request<'a> {
    /// The holder.
    pub holder: Holder,
    /// The holder's public key.
    pub key: &'a VerifyingKey,
    /// Serial number, unique per issuer (positive; at most 20 bytes).
    pub serial: u64,
    /// Valid from, seconds since the Unix epoch.
    pub not_before: i64,
    /// Valid until (inclusive), seconds since the Unix epoch.
    pub not_after: i64,
    /// A CA certificate (may sign certificates) rather than an end entity (signs messages).
    pub ca: bool,
}

/// A parsed certificate with its DER bytes.
#[derive(Debug, Clone)]
pub struct Certificate {
    der: Vec<u8>,
    cert: X509,
}

fn attribute(
    oid: ObjectIdentifier,
    tag: Tag,
    value: &str,
) -> Result<RelativeDistinguishedName, Error> {
    let value = Any::new(tag, value.as_bytes()).map_err(asn1)?;
    let set = SetOfVec::try_from(vec![AttributeTypeAndValue { oid, value }]).map_err(asn1)?;
    Ok(RelativeDistinguishedName(set))
}

/// The `TBSCertificate` TLV inside a certificate's DER, byte for byte.
fn tbs_bytes(der: &[u8]) -> Result<&[u8], Error> {
    use x509_cert::der::{Reader, SliceReader};
    let mut reader = SliceReader::new(der).map_err(asn1)?;
    let outer = x509_cert::der::Header::decode(&mut reader).map_err(asn1)?;
    if outer.tag != Tag::Sequence {
        return Err(Error::Certificate("a certificate is a SEQUENCE".into()));
    }
    reader.tlv_bytes().map_err(asn1)
}

fn asn1(e: x509_cert::der::Error) -> Error {
    Error::Certificate(e.to_string())
}

fn name_of(holder: &Holder) -> Result<Name, Error> {
    let party_ok = (1..=64).contains(&holder.party.len())
        && holder
            .party
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-');
    if !party_ok {
        return Err(Error::Certificate(format!(
            "party code {:?}: 1 to 64 letters, digits or '-'",
            holder.party
        )));
    }
    Ok(RdnSequence(vec![
        attribute(ORGANIZATION, Tag::Utf8String, "Jinguan")?,
        attribute(ORGANIZATIONAL_UNIT, Tag::Utf8String, &holder.role)?,
        attribute(SERIAL_NUMBER, Tag::PrintableString, &holder.party)?,
        attribute(COMMON_NAME, Tag::Utf8String, &holder.name)?,
    ]))
}

fn time(seconds: i64) -> Result<Time, Error> {
    let since = Duration::from_secs(
        u64::try_from(seconds)
            .map_err(|_| Error::Certificate("certificate times start at the Unix epoch".into()))?,
    );
    // RFC 5280 4.1.2.5: UTCTime through 2049, GeneralizedTime after.
    match UtcTime::from_unix_duration(since) {
        Ok(t) => Ok(Time::UtcTime(t)),
        Err(_) => GeneralizedTime::from_unix_duration(since)
            .map(Time::GeneralTime)
            .map_err(asn1),
    }
}

fn algorithm_identifier(algorithm: Algorithm) -> AlgorithmIdentifierOwned {
    AlgorithmIdentifierOwned {
        oid: match algorithm {
            Algorithm::Sm2Sm3 => SM2_WITH_SM3,
            Algorithm::Ed25519 => ED25519,
        },
        parameters: None,
    }
}

fn extension(
    oid: ObjectIdentifier,
    critical: bool,
    value: &impl Encode,
) -> Result<Extension, Error> {
    Ok(Extension {
        extn_id: oid,
        critical,
        extn_value: OctetString::new(value.to_der().map_err(asn1)?).map_err(asn1)?,
    })
}

/// Issues a certificate for `request`, signed by `issuer` whose certificate names `issued_by`.
/// An SM2 issuer must sign with the default distinguishing id, as certificate verifiers
/// assume it.
pub fn issue(
    issuer: &dyn Signer,
    issued_by: &Holder,
    request: &Request<'_>,
) -> Result<Certificate, Error> {
    let issuer_key = issuer.verifying_key();
    if issuer_key.distid().is_some_and(|d| d != DEFAULT_DISTID) {
        return Err(Error::Certificate(
            "an SM2 issuer signs certificates with the default distinguishing id".into(),
        ));
    }
    if request.not_after < request.not_before {
        return Err(Error::Certificate(
            "the certificate ends before it starts".into(),
        ));
    }
    let spki = SubjectPublicKeyInfoOwned::from_der(&request.key.to_spki_der()).map_err(asn1)?;
    let key_id = crate::sm3(&request.key.to_spki_der());
    let usage = if request.ca {
        KeyUsage(KeyUsages::KeyCertSign | KeyUsages::CRLSign)
    } else {
        KeyUsage(KeyUsages::DigitalSignature | KeyUsages::NonRepudiation)
    };
    let extensions = vec![
        extension(
            ObjectIdentifier::new_unwrap("2.5.29.19"),
            true,
            &BasicConstraints {
                ca: request.ca,
                path_len_constraint: request.ca.then_some(0),
            },
        )?,
        extension(ObjectIdentifier::new_unwrap("2.5.29.15"), true, &usage)?,
        extension(
            ObjectIdentifier::new_unwrap("2.5.29.14"),
            false,
            &SubjectKeyIdentifier(OctetString::new(&key_id[..20]).map_err(asn1)?),
        )?,
    ];
    let signature_algorithm = algorithm_identifier(issuer_key.algorithm());
    let tbs = TbsCertificate {
        version: Version::V3,
        serial_number: SerialNumber::from(request.serial),
        signature: signature_algorithm.clone(),
        issuer: name_of(issued_by)?,
        validity: Validity {
            not_before: time(request.not_before)?,
            not_after: time(request.not_after)?,
        },
        subject: name_of(&request.holder)?,
        subject_public_key_info: spki,
        issuer_unique_id: None,
        subject_unique_id: None,
        extensions: Some(extensions),
    };
    let signed = issuer.try_sign(&tbs.to_der().map_err(asn1)?)?;
    let cert = X509 {
        tbs_certificate: tbs,
        signature_algorithm,
        signature: BitString::from_bytes(&signed.bytes).map_err(asn1)?,
    };
    let der = cert.to_der().map_err(asn1)?;
    Ok(Certificate { der, cert })
}

impl Certificate {
    /// Reads a DER certificate.
    pub fn from_der(der: &[u8]) -> Result<Self, Error> {
        if der.len() > MAX_CERTIFICATE_BYTES {
            return Err(Error::Certificate(format!(
                "certificate of {} bytes is over {MAX_CERTIFICATE_BYTES}",
                der.len()
            )));
        }
        let cert = X509::from_der(der).map_err(asn1)?;
        Ok(Self {
            der: der.to_vec(),
            cert,
        })
    }

    /// Reads a PEM certificate (`-----BEGIN CERTIFICATE-----`).
    pub fn from_pem(pem: &str) -> Result<Self, Error> {
        if pem.len() > MAX_CERTIFICATE_BYTES * 2 {
            return Err(Error::Certificate("certificate PEM too long".into()));
        }
        let cert = X509::from_pem(pem.trim()).map_err(asn1)?;
        let der = cert.to_der().map_err(asn1)?;
        Ok(Self { der, cert })
    }

    /// The DER bytes.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// The PEM form.
    pub fn to_pem(&self) -> String {
        self.cert
            .to_pem(x509_cert::der::pem::LineEnding::LF)
            .expect("a parsed certificate encodes")
    }

    /// The serial number, as lower-case hex of its DER content.
    pub fn serial(&self) -> String {
        crate::hex::encode(self.cert.tbs_certificate.serial_number.as_bytes())
    }

    /// SM3 over the DER: the certificate's name in logs and key ids.
    pub fn fingerprint(&self) -> String {
        crate::hex::encode(&crate::sm3(&self.der))
    }

    fn attribute(name: &Name, oid: ObjectIdentifier) -> Option<String> {
        name.0.iter().flat_map(|rdn| rdn.0.iter()).find_map(|atv| {
            (atv.oid == oid)
                .then(|| String::from_utf8(atv.value.value().to_vec()).ok())
                .flatten()
        })
    }

    /// Who it names: `CN`, `serialNumber`, `OU` of the subject.
    pub fn holder(&self) -> Holder {
        Self::holder_of(&self.cert.tbs_certificate.subject)
    }

    /// Who issued it, read the same way.
    pub fn issuer(&self) -> Holder {
        Self::holder_of(&self.cert.tbs_certificate.issuer)
    }

    fn holder_of(name: &Name) -> Holder {
        Holder {
            name: Self::attribute(name, COMMON_NAME).unwrap_or_default(),
            party: Self::attribute(name, SERIAL_NUMBER).unwrap_or_default(),
            role: Self::attribute(name, ORGANIZATIONAL_UNIT).unwrap_or_default(),
        }
    }

    /// Valid from and until (inclusive), seconds since the Unix epoch.
    pub fn validity(&self) -> (i64, i64) {
        let v = &self.cert.tbs_certificate.validity;
        let secs = |t: Time| i64::try_from(t.to_unix_duration().as_secs()).unwrap_or(i64::MAX);
        (secs(v.not_before), secs(v.not_after))
    }

    /// Whether it may sign certificates (basic constraints `cA`).
    pub fn is_ca(&self) -> bool {
        self.extension::<BasicConstraints>(ObjectIdentifier::new_unwrap("2.5.29.19"))
            .is_some_and(|b| b.ca)
    }

    fn extension<'a, T: Decode<'a>>(&'a self, oid: ObjectIdentifier) -> Option<T> {
        self.cert
            .tbs_certificate
            .extensions
            .as_ref()?
            .iter()
            .find(|e| e.extn_id == oid)
            .and_then(|e| T::from_der(e.extn_value.as_bytes()).ok())
    }

    /// The holder's public key; `distid` is the SM2 distinguishing id its signatures use.
    pub fn public_key(&self, distid: &str) -> Result<VerifyingKey, Error> {
        let spki = self
            .cert
            .tbs_certificate
            .subject_public_key_info
            .to_der()
            .map_err(asn1)?;
        VerifyingKey::from_spki_der(&spki, distid)
    }

    /// Checks that `issuer` signed this certificate.
    pub fn verify_signed_by(&self, issuer: &VerifyingKey) -> Result<(), Error> {
        let expected = algorithm_identifier(issuer.algorithm());
        if self.cert.signature_algorithm != expected
            || self.cert.tbs_certificate.signature != expected
        {
            return Err(Error::Certificate(format!(
                "certificate signature algorithm {} is not the issuer's ({})",
                self.cert.signature_algorithm.oid,
                issuer.algorithm()
            )));
        }
        // The bytes as signed, not a re-encoding of what was parsed from them.
        let tbs = tbs_bytes(&self.der)?;
        let bytes = self
            .cert
            .signature
            .as_bytes()
            .ok_or_else(|| Error::Certificate("signature is not whole bytes".into()))?;
        let signature = Signature {
            algorithm: issuer.algorithm(),
            distid: (issuer.algorithm() == Algorithm::Sm2Sm3).then(|| DEFAULT_DISTID.to_owned()),
            bytes: bytes.to_vec(),
        };
        issuer.verify(tbs, &signature)
    }
}

/// A certificate revoked, as a revocation list carries it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Revoked {
    /// The certificate's serial, hex (as [`Certificate::serial`] gives it).
    pub serial: String,
    /// When it was revoked (seconds since the Unix epoch).
    pub at: i64,
}

/// What a revocation list says, and when.
#[derive(Debug, Clone)]
pub struct CrlRequest<'a> {
    /// The list's number: raised with each list issued (RFC 5280 5.2.3).
    pub number: u64,
    /// When it was issued (seconds).
    pub this_update: i64,
    /// When the next one will be issued at the latest (seconds).
    pub next_update: i64,
    /// The certificates revoked and still within their validity.
    pub revoked: &'a [Revoked],
}

/// An X.509 v2 certificate revocation list (RFC 5280 section 5), as DER.
#[derive(Debug, Clone)]
pub struct Crl {
    der: Vec<u8>,
    list: x509_cert::crl::CertificateList,
}

/// Issues a revocation list signed by `issuer`, whose certificate names `issued_by`.
pub fn issue_crl(
    issuer: &dyn Signer,
    issued_by: &Holder,
    request: &CrlRequest<'_>,
) -> Result<Crl, Error> {
    let issuer_key = issuer.verifying_key();
    if issuer_key.distid().is_some_and(|d| d != DEFAULT_DISTID) {
        return Err(Error::Certificate(
            "an SM2 issuer signs revocation lists with the default distinguishing id".into(),
        ));
    }
    let revoked = request
        .revoked
        .iter()
        .map(|r| {
            let bytes = crate::hex::decode(&r.serial)
                .ok_or_else(|| Error::Certificate(format!("serial {:?} is not hex", r.serial)))?;
            Ok(x509_cert::crl::RevokedCert {
                serial_number: SerialNumber::new(&bytes).map_err(asn1)?,
                revocation_date: time(r.at)?,
                crl_entry_extensions: None,
            })
        })
        .collect::<Result<Vec<_>, Error>>()?;
    let signature_algorithm = algorithm_identifier(issuer_key.algorithm());
    let number = x509_cert::der::asn1::Uint::new(&request.number.to_be_bytes()).map_err(asn1)?;
    let tbs = x509_cert::crl::TbsCertList {
        version: Version::V2,
        signature: signature_algorithm.clone(),
        issuer: name_of(issued_by)?,
        this_update: time(request.this_update)?,
        next_update: Some(time(request.next_update)?),
        // RFC 5280: absent, not empty, when nothing is revoked.
        revoked_certificates: (!revoked.is_empty()).then_some(revoked),
        crl_extensions: Some(vec![extension(
            ObjectIdentifier::new_unwrap("2.5.29.20"),
            false,
            &number,
        )?]),
    };
    let signed = issuer.try_sign(&tbs.to_der().map_err(asn1)?)?;
    let list = x509_cert::crl::CertificateList {
        tbs_cert_list: tbs,
        signature_algorithm,
        signature: BitString::from_bytes(&signed.bytes).map_err(asn1)?,
    };
    let der = list.to_der().map_err(asn1)?;
    Ok(Crl { der, list })
}

impl Crl {
    /// Reads a DER revocation list (at most 16 MiB).
    pub fn from_der(der: &[u8]) -> Result<Self, Error> {
        if der.len() > 16 << 20 {
            return Err(Error::Certificate("revocation list over 16 MiB".into()));
        }
        let list = x509_cert::crl::CertificateList::from_der(der).map_err(asn1)?;
        Ok(Self {
            der: der.to_vec(),
            list,
        })
    }

    /// Reads a PEM revocation list (`X509 CRL`).
    pub fn from_pem(pem: &str) -> Result<Self, Error> {
        let (label, der) = x509_cert::der::pem::decode_vec(pem.as_bytes())
            .map_err(|e| Error::Certificate(e.to_string()))?;
        if label != "X509 CRL" {
            return Err(Error::Certificate(format!(
                "PEM {label:?} is not an X509 CRL"
            )));
        }
        Self::from_der(&der)
    }

    /// The DER bytes.
    pub fn der(&self) -> &[u8] {
        &self.der
    }

    /// As PEM, the way OpenSSL writes it.
    pub fn to_pem(&self) -> String {
        x509_cert::der::pem::encode_string(
            "X509 CRL",
            x509_cert::der::pem::LineEnding::LF,
            &self.der,
        )
        .unwrap_or_default()
    }

    /// The serials (hex) and times of the certificates it revokes.
    pub fn revoked(&self) -> Vec<Revoked> {
        let seconds = |t: &Time| i64::try_from(t.to_unix_duration().as_secs()).unwrap_or(i64::MAX);
        self.list
            .tbs_cert_list
            .revoked_certificates
            .iter()
            .flatten()
            .map(|r| Revoked {
                serial: crate::hex::encode(r.serial_number.as_bytes()),
                at: seconds(&r.revocation_date),
            })
            .collect()
    }

    /// Checks that `issuer` signed this list.
    pub fn verify_signed_by(&self, issuer: &VerifyingKey) -> Result<(), Error> {
        let expected = algorithm_identifier(issuer.algorithm());
        if self.list.signature_algorithm != expected
            || self.list.tbs_cert_list.signature != expected
        {
            return Err(Error::Certificate(
                "revocation list signature algorithm is not the issuer's".into(),
            ));
        }
        let tbs = tbs_bytes(&self.der)?;
        let bytes = self
            .list
            .signature
            .as_bytes()
            .ok_or_else(|| Error::Certificate("signature is not whole bytes".into()))?;
        issuer.verify(
            tbs,
            &Signature {
                algorithm: issuer.algorithm(),
                distid: (issuer.algorithm() == Algorithm::Sm2Sm3)
                    .then(|| DEFAULT_DISTID.to_owned()),
                bytes: bytes.to_vec(),
            },
        )
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;
    use crate::SigningKey;

    fn holder(party: &str, role: &str) -> Holder {
        Holder {
            name: format!("{party} {role}"),
            party: party.into(),
            role: role.into(),
        }
    }

    fn request<'a>(key: &'a VerifyingKey, party: &str) -> Request<'a> {
        Request {
            holder: holder(party, "enterprise"),
            key,
            serial: 42,
            not_before: 1_767_225_600,
            not_after: 1_798_761_600,
            ca: false,
        }
    }

    #[test]
    fn an_ed25519_ca_certifies_an_sm2_key_and_the_chain_checks() {
        let ca = SigningKey::generate(Algorithm::Ed25519, DEFAULT_DISTID).unwrap();
        let party = SigningKey::generate(Algorithm::Sm2Sm3, DEFAULT_DISTID).unwrap();
        let cert = issue(
            &ca,
            &holder("CA", "ca"),
            &request(&party.verifying_key(), "5300123456"),
        )
        .unwrap();
        let read = Certificate::from_der(cert.der()).unwrap();
        read.verify_signed_by(&ca.verifying_key()).unwrap();
        assert_eq!(
            read.public_key(DEFAULT_DISTID).unwrap(),
            party.verifying_key()
        );
        // An SM2 key cannot pass for the Ed25519 issuer.
        assert!(read.verify_signed_by(&party.verifying_key()).is_err());
        assert_eq!(read.fingerprint().len(), 64);
    }

    #[test]
    fn hostile_or_wrong_input_is_a_coded_refusal() {
        for bytes in [
            &b""[..],
            b"\x30\x03\x02\x01",
            b"not a certificate",
            &[0x30; 40],
        ] {
            let error = Certificate::from_der(bytes).unwrap_err();
            assert!(error.to_string().starts_with("C0005"), "{error}");
        }
        let huge = vec![0u8; MAX_CERTIFICATE_BYTES + 1];
        assert!(Certificate::from_der(&huge).is_err());
        assert!(Certificate::from_pem(
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"
        )
        .is_err());
        let key = SigningKey::generate(Algorithm::Sm2Sm3, DEFAULT_DISTID).unwrap();
        let vk = key.verifying_key();
        // Party codes are letters and digits; validity must not run backwards.
        assert!(issue(&key, &holder("CA", "ca"), &request(&vk, "91,O=evil")).is_err());
        let mut backwards = request(&vk, "5300123456");
        backwards.not_after = backwards.not_before - 1;
        assert!(issue(&key, &holder("CA", "ca"), &backwards).is_err());
        // An SM2 issuer with its own distinguishing id would make certificates nobody checks.
        let odd = SigningKey::generate(Algorithm::Sm2Sm3, "8765432187654321").unwrap();
        assert!(issue(&odd, &holder("CA", "ca"), &request(&vk, "5300123456")).is_err());
    }

    #[test]
    fn a_changed_byte_breaks_the_signature() {
        let ca = SigningKey::generate(Algorithm::Sm2Sm3, DEFAULT_DISTID).unwrap();
        let cert = issue(
            &ca,
            &holder("CA", "ca"),
            &request(&ca.verifying_key(), "5300123456"),
        )
        .unwrap();
        let mut der = cert.der().to_vec();
        // The serial number's last byte, inside the signed part.
        let at = der.windows(3).position(|w| w == [0x02, 0x01, 42]).unwrap() + 2;
        der[at] = 43;
        let altered = Certificate::from_der(&der).unwrap();
        assert_eq!(altered.serial(), "2b");
        assert!(altered.verify_signed_by(&ca.verifying_key()).is_err());
    }

    #[test]
    fn revocation_lists_list_what_was_revoked_and_verify() {
        let ca = SigningKey::generate(Algorithm::Sm2Sm3, DEFAULT_DISTID).unwrap();
        let issued_by = holder("JINGUANCA", "ca");
        let revoked = [
            Revoked {
                serial: "01a2b3".into(),
                at: 1_767_225_600,
            },
            Revoked {
                serial: "7fffffffffffffff".into(),
                at: 1_767_225_700,
            },
        ];
        let request = CrlRequest {
            number: 7,
            this_update: 1_767_225_800,
            next_update: 1_767_229_400,
            revoked: &revoked,
        };
        let crl = issue_crl(&ca, &issued_by, &request).unwrap();
        let back = Crl::from_pem(&crl.to_pem()).unwrap();
        assert_eq!(back.der(), crl.der());
        assert_eq!(back.revoked(), revoked.to_vec());
        back.verify_signed_by(&ca.verifying_key()).unwrap();
        let other = SigningKey::generate(Algorithm::Sm2Sm3, DEFAULT_DISTID).unwrap();
        assert!(back.verify_signed_by(&other.verifying_key()).is_err());
        let empty = issue_crl(
            &ca,
            &issued_by,
            &CrlRequest {
                revoked: &[],
                ..request
            },
        )
        .unwrap();
        assert!(empty.revoked().is_empty());
        let mut tampered = crl.der().to_vec();
        let last = tampered.len() - 40;
        tampered[last] ^= 1;
        assert!(Crl::from_der(&tampered)
            .and_then(|c| c.verify_signed_by(&ca.verifying_key()))
            .is_err());
    }
}
