//! Interoperability with OpenSSL 3, both ways, through the `openssl` command line.

#![allow(clippy::unwrap_used)] // A panic in a test is a test failure with its message.

use std::path::{Path, PathBuf};
use std::process::Command;

use jinguan_crypto::{Algorithm, Signature, SigningKey, VerifyingKey, DEFAULT_DISTID};

fn workdir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("jinguan-openssl-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

fn openssl(args: &[&str]) -> (bool, String) {
    let output = Command::new("openssl")
        .args(args)
        .output()
        .expect("openssl is installed");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    (output.status.success(), text)
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn rust_signs_openssl_verifies_sm2() {
    let dir = workdir("rs2ossl");
    let key = SigningKey::generate(Algorithm::Sm2Sm3, DEFAULT_DISTID).unwrap();
    std::fs::write(dir.join("public.pem"), key.verifying_key().to_pem()).unwrap();
    std::fs::write(dir.join("message"), b"declaration 5354 2026 1 000000001").unwrap();
    let signature = key.sign(b"declaration 5354 2026 1 000000001");
    std::fs::write(dir.join("sig.der"), &signature.bytes).unwrap();
    let verify = |distid: &str| {
        openssl(&[
            "dgst",
            "-sm3",
            "-verify",
            path(&dir.join("public.pem")),
            "-sigopt",
            &format!("distid:{distid}"),
            "-signature",
            path(&dir.join("sig.der")),
            path(&dir.join("message")),
        ])
    };
    let (ok, text) = verify(DEFAULT_DISTID);
    assert!(ok && text.contains("Verified OK"), "{text}");
    let (ok, text) = verify("8765432187654321");
    assert!(!ok, "a wrong distid must fail: {text}");
    // OpenSSL also reads the private key we write.
    std::fs::write(dir.join("private.pem"), key.to_pem()).unwrap();
    let (ok, text) = openssl(&[
        "pkey",
        "-in",
        path(&dir.join("private.pem")),
        "-noout",
        "-text",
    ]);
    assert!(ok && text.contains("SM2"), "{text}");
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn openssl_signs_rust_verifies_sm2() {
    let dir = workdir("ossl2rs");
    let private = dir.join("private.pem");
    let (ok, text) = openssl(&["genpkey", "-algorithm", "SM2", "-out", path(&private)]);
    assert!(ok, "{text}");
    let (ok, text) = openssl(&[
        "pkey",
        "-in",
        path(&private),
        "-pubout",
        "-out",
        path(&dir.join("public.pem")),
    ]);
    assert!(ok, "{text}");
    std::fs::write(dir.join("message"), b"abc").unwrap();
    let (ok, text) = openssl(&[
        "dgst",
        "-sm3",
        "-sign",
        path(&private),
        "-sigopt",
        "distid:1234567812345678",
        "-out",
        path(&dir.join("sig.der")),
        path(&dir.join("message")),
    ]);
    assert!(ok, "{text}");
    let public = VerifyingKey::from_pem(
        &std::fs::read_to_string(dir.join("public.pem")).unwrap(),
        DEFAULT_DISTID,
    )
    .unwrap();
    let signature = Signature {
        algorithm: Algorithm::Sm2Sm3,
        distid: Some(DEFAULT_DISTID.to_owned()),
        bytes: std::fs::read(dir.join("sig.der")).unwrap(),
    };
    public.verify(b"abc", &signature).unwrap();
    let wrong = Signature {
        distid: Some("8765432187654321".to_owned()),
        ..signature.clone()
    };
    assert!(
        public.verify(b"abc", &wrong).is_err(),
        "a wrong distid must fail"
    );
    assert!(public.verify(b"abd", &signature).is_err());
    // Our reader takes OpenSSL's private key too, and signs what OpenSSL verifies.
    let key =
        SigningKey::from_pem(&std::fs::read_to_string(&private).unwrap(), DEFAULT_DISTID).unwrap();
    assert_eq!(key.verifying_key(), public);
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn ed25519_both_ways() {
    let dir = workdir("ed25519");
    let key = SigningKey::generate(Algorithm::Ed25519, DEFAULT_DISTID).unwrap();
    std::fs::write(dir.join("public.pem"), key.verifying_key().to_pem()).unwrap();
    std::fs::write(dir.join("message"), b"head").unwrap();
    std::fs::write(dir.join("sig"), key.sign(b"head").bytes).unwrap();
    let (ok, text) = openssl(&[
        "pkeyutl",
        "-verify",
        "-rawin",
        "-pubin",
        "-inkey",
        path(&dir.join("public.pem")),
        "-in",
        path(&dir.join("message")),
        "-sigfile",
        path(&dir.join("sig")),
    ]);
    assert!(
        ok && text.contains("Signature Verified Successfully"),
        "{text}"
    );
    let private = dir.join("private.pem");
    assert!(openssl(&["genpkey", "-algorithm", "ED25519", "-out", path(&private)]).0);
    let (ok, text) = openssl(&[
        "pkeyutl",
        "-sign",
        "-rawin",
        "-inkey",
        path(&private),
        "-in",
        path(&dir.join("message")),
        "-out",
        path(&dir.join("sig2")),
    ]);
    assert!(ok, "{text}");
    let ours =
        SigningKey::from_pem(&std::fs::read_to_string(&private).unwrap(), DEFAULT_DISTID).unwrap();
    let signature = Signature {
        algorithm: Algorithm::Ed25519,
        distid: None,
        bytes: std::fs::read(dir.join("sig2")).unwrap(),
    };
    ours.verifying_key().verify(b"head", &signature).unwrap();
    std::fs::remove_dir_all(dir).unwrap();
}

fn holder(name: &str, party: &str, role: &str) -> jinguan_crypto::pki::Holder {
    jinguan_crypto::pki::Holder {
        name: name.into(),
        party: party.into(),
        role: role.into(),
    }
}

/// 2026-01-01 and 2027-01-01, UTC.
const JAN_2026: i64 = 1_767_225_600;
const JAN_2027: i64 = 1_798_761_600;

#[test]
fn certificates_we_issue_parse_and_verify_in_openssl() {
    use jinguan_crypto::pki::{issue, Certificate, Request};
    let dir = workdir("certs");
    let ca_key = SigningKey::generate(Algorithm::Sm2Sm3, DEFAULT_DISTID).unwrap();
    let ca_holder = holder("Jinguan platform CA", "JINGUANCA", "ca");
    let ca = issue(
        &ca_key,
        &ca_holder,
        &Request {
            holder: ca_holder.clone(),
            key: &ca_key.verifying_key(),
            serial: 1,
            not_before: JAN_2026,
            not_after: JAN_2027,
            ca: true,
        },
    )
    .unwrap();
    let party_key = SigningKey::generate(Algorithm::Sm2Sm3, DEFAULT_DISTID).unwrap();
    let party = issue(
        &ca_key,
        &ca_holder,
        &Request {
            holder: holder("上海示例进出口有限公司", "91310000MA1FL8XQ3A", "enterprise"),
            key: &party_key.verifying_key(),
            serial: 0x1234_5678_9abc,
            not_before: JAN_2026,
            not_after: JAN_2027,
            ca: false,
        },
    )
    .unwrap();
    std::fs::write(dir.join("ca.pem"), ca.to_pem()).unwrap();
    std::fs::write(dir.join("party.pem"), party.to_pem()).unwrap();
    let (ok, text) = openssl(&[
        "x509",
        "-in",
        path(&dir.join("party.pem")),
        "-noout",
        "-text",
        "-nameopt",
        "utf8,sep_comma_plus",
    ]);
    assert!(ok, "{text}");
    for expected in [
        "SM2-with-SM3",
        "serialNumber=91310000MA1FL8XQ3A",
        "OU=enterprise",
        "CN=上海示例进出口有限公司",
        "(0x123456789abc)",
        "Digital Signature, Non Repudiation",
        "CA:FALSE",
        "Jan  1 00:00:00 2027 GMT",
    ] {
        assert!(text.contains(expected), "{expected:?} not in\n{text}");
    }
    // OpenSSL checks the chain: our SM2 signature over the TBSCertificate, the CA's basic
    // constraints and key usage, the validity against a time inside it. The distinguishing
    // id is GM/T 0015's default for certificates; OpenSSL 3.0's `verify` assumes an empty
    // one unless told, so it is told (`-vfyopt`), and without it the signature fails.
    let vfyopt = format!("distid:{DEFAULT_DISTID}");
    let (ok, _) = openssl(&[
        "verify",
        "-attime",
        &(JAN_2026 + 86_400).to_string(),
        "-CAfile",
        path(&dir.join("ca.pem")),
        path(&dir.join("party.pem")),
    ]);
    assert!(
        !ok,
        "OpenSSL's empty default id verified a signature made under another id"
    );
    let (ok, text) = openssl(&[
        "verify",
        "-vfyopt",
        &vfyopt,
        "-attime",
        &(JAN_2026 + 86_400).to_string(),
        "-CAfile",
        path(&dir.join("ca.pem")),
        path(&dir.join("party.pem")),
    ]);
    assert!(ok && text.contains("OK"), "{text}");
    // And outside it, it refuses.
    let (ok, _) = openssl(&[
        "verify",
        "-vfyopt",
        &vfyopt,
        "-attime",
        &(JAN_2027 + 86_400).to_string(),
        "-CAfile",
        path(&dir.join("ca.pem")),
        path(&dir.join("party.pem")),
    ]);
    assert!(!ok, "an expired certificate verified");
    // What we read back is what we wrote.
    let read = Certificate::from_pem(&party.to_pem()).unwrap();
    assert_eq!(read.holder().party, "91310000MA1FL8XQ3A");
    assert_eq!(read.holder().role, "enterprise");
    assert_eq!(read.issuer().party, "JINGUANCA");
    assert_eq!(read.validity(), (JAN_2026, JAN_2027));
    assert_eq!(read.serial(), "123456789abc");
    assert!(!read.is_ca() && ca.is_ca());
    read.verify_signed_by(&ca_key.verifying_key()).unwrap();
    let stranger = SigningKey::generate(Algorithm::Sm2Sm3, DEFAULT_DISTID).unwrap();
    assert!(read.verify_signed_by(&stranger.verifying_key()).is_err());
    assert_eq!(
        read.public_key(DEFAULT_DISTID).unwrap(),
        party_key.verifying_key()
    );
    std::fs::remove_dir_all(dir).unwrap();
}

#[test]
fn openssl_made_certificates_and_keys_work_here() {
    use jinguan_crypto::pki::{issue, Certificate, Request};
    let dir = workdir("osslcert");
    // A self-signed SM2 certificate made entirely by OpenSSL: we read it and check its
    // signature with its own key.
    let key = dir.join("key.pem");
    let (ok, text) = openssl(&["genpkey", "-algorithm", "SM2", "-out", path(&key)]);
    assert!(ok, "{text}");
    let cert = dir.join("self.pem");
    let (ok, text) = openssl(&[
        "req",
        "-new",
        "-x509",
        "-key",
        path(&key),
        "-sm3",
        "-sigopt",
        &format!("distid:{DEFAULT_DISTID}"),
        "-subj",
        "/O=Example/OU=broker/serialNumber=5300123456/CN=Example Broker",
        "-days",
        "30",
        "-out",
        path(&cert),
    ]);
    assert!(ok, "{text}");
    let read = Certificate::from_pem(&std::fs::read_to_string(&cert).unwrap()).unwrap();
    assert_eq!(read.holder().party, "5300123456");
    assert_eq!(read.holder().role, "broker");
    let own = read.public_key(DEFAULT_DISTID).unwrap();
    read.verify_signed_by(&own).unwrap();
    // The OpenSSL-made key imported here, certified by our CA, and a message it signs in
    // OpenSSL verifies with the certificate's key.
    let imported = VerifyingKey::from_pem(
        &std::fs::read_to_string(&key)
            .map(|_| {
                let (ok, text) = openssl(&["pkey", "-in", path(&key), "-pubout"]);
                assert!(ok, "{text}");
                text
            })
            .unwrap(),
        DEFAULT_DISTID,
    )
    .unwrap();
    let ca_key = SigningKey::generate(Algorithm::Sm2Sm3, DEFAULT_DISTID).unwrap();
    let ca_holder = holder("CA", "JINGUANCA", "ca");
    let issued = issue(
        &ca_key,
        &ca_holder,
        &Request {
            holder: holder("Example Broker", "5300123456", "broker"),
            key: &imported,
            serial: 7,
            not_before: JAN_2026,
            not_after: JAN_2027,
            ca: false,
        },
    )
    .unwrap();
    std::fs::write(dir.join("message"), b"<DecMessage/>").unwrap();
    let (ok, text) = openssl(&[
        "dgst",
        "-sm3",
        "-sign",
        path(&key),
        "-sigopt",
        &format!("distid:{DEFAULT_DISTID}"),
        "-out",
        path(&dir.join("sig.der")),
        path(&dir.join("message")),
    ]);
    assert!(ok, "{text}");
    let signature = Signature {
        algorithm: Algorithm::Sm2Sm3,
        distid: Some(DEFAULT_DISTID.into()),
        bytes: std::fs::read(dir.join("sig.der")).unwrap(),
    };
    let holder_key = issued.public_key(DEFAULT_DISTID).unwrap();
    holder_key.verify(b"<DecMessage/>", &signature).unwrap();
    assert!(holder_key.verify(b"<DecMessage />", &signature).is_err());
    std::fs::remove_dir_all(dir).unwrap();
}

/// A client with nothing but OpenSSL and a shell makes a detached signature we accept: the
/// protected header in base64url, then `openssl dgst -sm3 -sign` over "header.body".
#[test]
fn openssl_makes_a_detached_signature_we_verify() {
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use base64::Engine;
    let dir = workdir("jws");
    let key = dir.join("key.pem");
    let (ok, text) = openssl(&["genpkey", "-algorithm", "SM2", "-out", path(&key)]);
    assert!(ok, "{text}");
    let body = br#"{"head":{"ie_flag":"I"},"items":[]}"#;
    let protected =
        URL_SAFE_NO_PAD.encode(r#"{"alg":"SM2-SM3","kid":"7b","b64":false,"crit":["b64"]}"#);
    let mut input = format!("{protected}.").into_bytes();
    input.extend_from_slice(body);
    std::fs::write(dir.join("input"), &input).unwrap();
    let (ok, text) = openssl(&[
        "dgst",
        "-sm3",
        "-sign",
        path(&key),
        "-sigopt",
        &format!("distid:{DEFAULT_DISTID}"),
        "-out",
        path(&dir.join("sig.der")),
        path(&dir.join("input")),
    ]);
    assert!(ok, "{text}");
    let value = format!(
        "{protected}..{}",
        URL_SAFE_NO_PAD.encode(std::fs::read(dir.join("sig.der")).unwrap())
    );
    let (ok, public) = openssl(&["pkey", "-in", path(&key), "-pubout"]);
    assert!(ok, "{public}");
    let public = VerifyingKey::from_pem(&public, DEFAULT_DISTID).unwrap();
    let detached = jinguan_crypto::jws::Detached::parse(&value).unwrap();
    assert_eq!(detached.kid, "7b");
    detached.verify(&public, body).unwrap();
    assert!(detached.verify(&public, b"{}").is_err());
    std::fs::remove_dir_all(dir).unwrap();
}

/// A revocation list we issue reads in OpenSSL with its revoked serials and number, and its
/// SM2 signature verifies in OpenSSL under the standard id (and not under another).
#[test]
fn revocation_lists_we_issue_work_in_openssl() {
    use jinguan_crypto::pki::{issue, issue_crl, CrlRequest, Request, Revoked};
    let dir = workdir("crl");
    let ca_key = SigningKey::generate(Algorithm::Sm2Sm3, DEFAULT_DISTID).unwrap();
    let ca_holder = holder("Jinguan platform CA", "JINGUANCA", "ca");
    let certify = |holder: jinguan_crypto::pki::Holder, key: &SigningKey, serial, ca| {
        issue(
            &ca_key,
            &ca_holder,
            &Request {
                holder,
                key: &key.verifying_key(),
                serial,
                not_before: JAN_2026,
                not_after: JAN_2027 + 10 * 365 * 86_400,
                ca,
            },
        )
        .unwrap()
    };
    let ca = certify(ca_holder.clone(), &ca_key, 1, true);
    let party_key = SigningKey::generate(Algorithm::Sm2Sm3, DEFAULT_DISTID).unwrap();
    let good = certify(
        holder("Good", "5300111111", "broker"),
        &party_key,
        0x51,
        false,
    );
    let bad = certify(
        holder("Bad", "5300222222", "broker"),
        &party_key,
        0x1234_5678,
        false,
    );
    let revoked = [Revoked {
        serial: bad.serial(),
        at: JAN_2026 + 86_400,
    }];
    let now = i64::try_from(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs(),
    )
    .unwrap();
    let crl = issue_crl(
        &ca_key,
        &ca_holder,
        &CrlRequest {
            number: 3,
            this_update: now - 60,
            next_update: now + 86_400,
            revoked: &revoked,
        },
    )
    .unwrap();
    std::fs::write(dir.join("ca.pem"), ca.to_pem()).unwrap();
    std::fs::write(dir.join("good.pem"), good.to_pem()).unwrap();
    std::fs::write(dir.join("bad.pem"), bad.to_pem()).unwrap();
    std::fs::write(dir.join("crl.pem"), crl.to_pem()).unwrap();
    let (ok, text) = openssl(&["crl", "-in", path(&dir.join("crl.pem")), "-noout", "-text"]);
    assert!(ok, "{text}");
    assert!(text.contains("Serial Number: 12345678"), "{text}");
    assert!(
        text.contains("X509v3 CRL Number:") && text.contains("\n                3\n"),
        "{text}"
    );
    assert!(
        text.contains("SM2-with-SM3") || text.contains("SM2-SM3"),
        "{text}"
    );
    // The signature, checked by OpenSSL over the list's exact to-be-signed bytes under the
    // standard SM2 id (GM/T 0009; GB/T 35275 for signed objects). OpenSSL 3.0's own CRL
    // check (`verify -crl_check`) cannot be used: it verifies CRL signatures with an empty
    // SM2 id and offers no option to set one (it has `-vfyopt` for certificates only), so
    // every standard SM2 CRL fails there with "CRL signature failure".
    let (tbs, signature) = tbs_and_signature(crl.der());
    std::fs::write(dir.join("tbs.der"), tbs).unwrap();
    std::fs::write(dir.join("sig.der"), signature).unwrap();
    std::fs::write(dir.join("ca-public.pem"), ca_key.verifying_key().to_pem()).unwrap();
    let verify = |distid: &str| {
        openssl(&[
            "dgst",
            "-sm3",
            "-verify",
            path(&dir.join("ca-public.pem")),
            "-sigopt",
            &format!("distid:{distid}"),
            "-signature",
            path(&dir.join("sig.der")),
            path(&dir.join("tbs.der")),
        ])
    };
    let (ok, text) = verify("1234567812345678");
    assert!(ok && text.contains("Verified OK"), "{text}");
    let (ok, _) = verify("8765432187654321");
    assert!(!ok, "another id must not verify");
}

/// A DER `SEQUENCE { tbs, algorithm, BIT STRING signature }` split into the tbs TLV and
/// the signature's bytes.
fn tbs_and_signature(der: &[u8]) -> (&[u8], &[u8]) {
    fn tlv(bytes: &[u8]) -> (usize, usize) {
        // (header length, content length)
        let first = bytes[1];
        if first & 0x80 == 0 {
            return (2, usize::from(first));
        }
        let n = usize::from(first & 0x7f);
        let length = bytes[2..2 + n]
            .iter()
            .fold(0usize, |acc, b| acc << 8 | usize::from(*b));
        (2 + n, length)
    }
    let (outer, _) = tlv(der);
    let rest = &der[outer..];
    let (h, l) = tlv(rest);
    let tbs = &rest[..h + l];
    let rest = &rest[h + l..];
    let (h, l) = tlv(rest);
    let rest = &rest[h + l..];
    let (h, l) = tlv(rest);
    assert_eq!(rest[0], 0x03, "a BIT STRING");
    (tbs, &rest[h + 1..h + l])
}
