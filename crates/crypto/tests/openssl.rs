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
