//! Signed submissions: certificates issued through the API, detached signatures over the
//! body checked at intake before anything else, each failure its own code and one audit
//! entry. Run on SQLite and on PostgreSQL.

#![allow(clippy::unwrap_used)] // A panic in a test is a test failure with its message.

mod common;

use std::sync::atomic::Ordering;
use std::sync::Arc;

use common::{generated, Server, TestClock};
use jinguan_crypto::pki::Certificate;
use jinguan_crypto::{jws, Algorithm, SigningKey, DEFAULT_DISTID};
use serde_json::{json, Value};

both!(signed_declarations_are_checked_before_anything_else);

/// Certifies a new key for `party` as the admin; the key and the certificate's serial.
fn certify(server: &Server, party: &str, role: &str, algorithm: Algorithm) -> (SigningKey, String) {
    let key = SigningKey::generate(algorithm, DEFAULT_DISTID).unwrap();
    let (status, issued) = server.post_json(
        "/api/v1/pki/certificates",
        &server.admin.clone(),
        &json!({
            "party": party, "role": role, "name": format!("{party} signer"),
            "public_key": key.verifying_key().to_pem(),
        }),
    );
    assert_eq!(status, 201, "{issued}");
    (key, issued["serial"].as_str().unwrap().to_owned())
}

fn lodge_signed(server: &Server, id: &str, body: &[u8], signature: Option<&str>) -> (u16, Value) {
    let mut headers = vec![("Content-Type", "application/json"), ("Submission-Id", id)];
    if let Some(signature) = signature {
        headers.push(("X-Jws-Signature", signature));
    }
    server.call(
        "POST",
        "/api/v1/declarations",
        &server.broker.clone(),
        &headers,
        body,
    )
}

fn audit_size(server: &Server) -> u64 {
    let (status, head) = server.get("/api/v1/ledger/audit/head", "");
    if status == 404 {
        return 0;
    }
    head["tree_size"].as_u64().unwrap()
}

fn signed_declarations_are_checked_before_anything_else(backend: common::Backend) {
    let clock = Arc::new(TestClock::default());
    let server = common::start_signed("signed", backend, clock.clone());
    let bodies: Vec<Vec<u8>> = generated(4, 11)
        .iter()
        .map(|d| serde_json::to_vec(d).unwrap())
        .collect();

    // Only an administrator certifies; the certificate names the party and chains to the CA.
    let (status, refused) = server.post_json(
        "/api/v1/pki/certificates",
        &server.broker.clone(),
        &json!({"party": "test-broker", "role": "broker", "name": "x", "public_key": ""}),
    );
    assert_eq!((status, refused["code"].as_str()), (403, Some("H0403")));
    let (key, serial) = certify(&server, "test-broker", "broker", Algorithm::Sm2Sm3);
    let (_, ca) = server.get("/api/v1/pki/ca", "");
    let ca = Certificate::from_pem(ca["certificate"].as_str().unwrap()).unwrap();
    let (status, issued) = server.get(
        &format!("/api/v1/pki/certificates/{serial}"),
        &server.broker.clone(),
    );
    assert_eq!(
        (status, issued["status"].as_str()),
        (200, Some("good")),
        "{issued}"
    );
    let certificate = Certificate::from_pem(issued["certificate"].as_str().unwrap()).unwrap();
    certificate
        .verify_signed_by(&ca.public_key(DEFAULT_DISTID).unwrap())
        .unwrap();
    assert_eq!(certificate.holder().party, "test-broker");

    // The broker asking for a certificate, above, was the first refusal on record.
    let mut denials = 1;
    let mut refused =
        |server: &Server, id: &str, body: &[u8], signature: Option<&str>, expected: (u16, &str)| {
            let before = audit_size(server);
            let (status, error) = lodge_signed(server, id, body, signature);
            assert_eq!(
                (status, error["code"].as_str().unwrap_or("")),
                expected,
                "{error}"
            );
            denials += 1;
            assert_eq!(audit_size(server), before + 1, "one audit entry per denial");
        };
    // Unsigned.
    refused(&server, "u-1", &bodies[0], None, (401, "H0420"));
    // Malformed.
    refused(
        &server,
        "m-1",
        &bodies[0],
        Some("not a jws"),
        (401, "H0427"),
    );
    // Signed over another body (tampered in transit).
    let other = jws::sign(&key, &serial, &bodies[1]).unwrap();
    refused(&server, "t-1", &bodies[0], Some(&other), (401, "H0426"));
    // A certificate we never issued.
    let stranger = SigningKey::generate(Algorithm::Sm2Sm3, DEFAULT_DISTID).unwrap();
    let unknown = jws::sign(&stranger, "7fffffff", &bodies[0]).unwrap();
    refused(&server, "k-1", &bodies[0], Some(&unknown), (401, "H0421"));
    // Another party's certificate, with its own key, presented by the broker's token.
    let (other_key, other_serial) = certify(&server, "other-broker", "broker", Algorithm::Ed25519);
    let wrong_party = jws::sign(&other_key, &other_serial, &bodies[0]).unwrap();
    refused(
        &server,
        "p-1",
        &bodies[0],
        Some(&wrong_party),
        (403, "H0425"),
    );
    // The right key under another serial is the other certificate: it fails as another party's.
    let mislabelled = jws::sign(&key, &other_serial, &bodies[0]).unwrap();
    refused(
        &server,
        "p-2",
        &bodies[0],
        Some(&mislabelled),
        (403, "H0425"),
    );
    // None of that recorded a declaration.
    let (_, list) = server.get("/api/v1/declarations", &server.officer.clone());
    assert_eq!(list["items"].as_array().map(Vec::len), Some(0), "{list}");

    // Signed as sent: accepted, and the signer is on record.
    let good = jws::sign(&key, &serial, &bodies[0]).unwrap();
    let (status, receipt) = lodge_signed(&server, "ok-1", &bodies[0], Some(&good));
    assert!(status == 201 || status == 422, "{status} {receipt}");
    let (status, entry) = server.get(
        &format!(
            "/api/v1/ledger/{}/entries/{}/proof",
            receipt["ledger"]["ledger"].as_str().unwrap(),
            receipt["ledger"]["seq"]
        ),
        "",
    );
    assert_eq!(status, 200, "{entry}");

    // The receipt is evidence, checkable with the CA certificate alone; any change breaks it.
    let ca_pem = ca.to_pem();
    let ca = Certificate::from_pem(&ca_pem).unwrap();
    let text = receipt.to_string();
    let verified = jinguan_server::pki::verify_receipt(text.as_bytes(), &ca).unwrap();
    assert_eq!(verified.entry_id, receipt["entry_id"].as_str().unwrap());
    let mut changes: Vec<Value> = Vec::new();
    for (pointer, value) in [
        ("/status", json!("accepted-ish")),
        (
            "/ledger/seq",
            json!(receipt["ledger"]["seq"].as_u64().unwrap() + 1),
        ),
        ("/attestation/proof/tree_size", json!(1_000_000)),
        (
            "/attestation/head/root_hash",
            receipt["attestation"]["proof"]["path"][0].clone(),
        ),
        ("/attestation/certificate", json!(issued["certificate"])),
    ] {
        let mut changed = receipt.clone();
        if let Some(slot) = changed.pointer_mut(pointer) {
            *slot = value;
            changes.push(changed);
        }
    }
    assert!(changes.len() >= 4, "{receipt}");
    for changed in &changes {
        assert!(
            jinguan_server::pki::verify_receipt(changed.to_string().as_bytes(), &ca).is_err(),
            "{changed}"
        );
    }
    // Another platform's CA does not vouch for it.
    let stranger_ca = jinguan_server::Authority::generate(
        1_767_225_600,
        std::sync::Arc::new(SigningKey::generate(Algorithm::Sm2Sm3, DEFAULT_DISTID).unwrap()),
    )
    .unwrap();
    assert!(jinguan_server::pki::verify_receipt(
        text.as_bytes(),
        &Certificate::from_pem(&stranger_ca.certificate().to_pem()).unwrap()
    )
    .is_err());

    // Expired: a year and a day later the same certificate no longer signs.
    clock.offset_ms.store(366 * 86_400_000, Ordering::Relaxed);
    let later = jws::sign(&key, &serial, &bodies[2]).unwrap();
    refused(&server, "e-1", &bodies[2], Some(&later), (401, "H0423"));
    clock.offset_ms.store(0, Ordering::Relaxed);

    // Revoked: refused from then on; the status says so.
    let (status, revoked) = server.post_json(
        &format!("/api/v1/pki/certificates/{serial}/revoke"),
        &server.admin.clone(),
        &json!({"reason": "keyCompromise"}),
    );
    assert_eq!(
        (status, revoked["status"].as_str()),
        (200, Some("revoked")),
        "{revoked}"
    );
    let after = jws::sign(&key, &serial, &bodies[3]).unwrap();
    refused(&server, "r-1", &bodies[3], Some(&after), (401, "H0422"));
    // The revocation list (public) now names it, signed by the CA; DER unless asked for PEM.
    let (status, head, der) = server.exchange("GET", "/api/v1/pki/crl", &[], b"");
    assert_eq!(status, 200);
    assert!(head
        .to_ascii_lowercase()
        .contains("content-type: application/pkix-crl"));
    let crl = jinguan_crypto::pki::Crl::from_der(&der).unwrap();
    let (_, ca) = server.get("/api/v1/pki/ca", "");
    let ca = Certificate::from_pem(ca["certificate"].as_str().unwrap()).unwrap();
    crl.verify_signed_by(&ca.public_key(DEFAULT_DISTID).unwrap())
        .unwrap();
    let listed: Vec<String> = crl.revoked().into_iter().map(|r| r.serial).collect();
    assert_eq!(listed, vec![serial.clone()]);
    let (status, pem) = server.raw("GET", "/api/v1/pki/crl?format=pem", &[], b"");
    assert_eq!(status, 200);
    let again = jinguan_crypto::pki::Crl::from_pem(std::str::from_utf8(&pem).unwrap()).unwrap();
    assert_eq!(again.der(), der, "nothing changed: the same list");
    let (status, _) = server.raw("GET", "/api/v1/pki/crl?format=xml", &[], b"");
    assert_eq!(status, 400);
    assert_eq!(audit_size(&server), denials);
    // What the audit trail holds names the code, never the signature or the body.
    let (status, last) = server.get(
        &format!("/api/v1/ledger/audit/entries/{}/proof", denials - 1),
        "",
    );
    assert_eq!(status, 200, "{last}");
}

both!(people_sign_in_with_their_certificate);

/// Certificate-bound login: a challenge for a certificate, signed with its key, gives a
/// session for its party and role, which works like a token, ends when the certificate is
/// revoked, and is audited; every wrong answer is a distinct 401, one use per challenge.
fn people_sign_in_with_their_certificate(backend: common::Backend) {
    let clock = Arc::new(TestClock::default());
    let server = common::start_signed("login", backend, clock.clone());
    let (key, serial) = certify(&server, "2200", "officer", Algorithm::Sm2Sm3);
    let (other_key, other_serial) = certify(&server, "2200", "officer", Algorithm::Sm2Sm3);
    let challenge = |serial: &str| {
        let (status, reply) = server.call(
            "POST",
            "/api/v1/login/challenge",
            "",
            &[("Content-Type", "application/json")],
            json!({"certificate": serial}).to_string().as_bytes(),
        );
        assert_eq!(status, 200, "{reply}");
        reply["challenge"].as_str().unwrap().to_owned()
    };
    let login = |challenge: &str, signature: &str| {
        server.call(
            "POST",
            "/api/v1/login",
            "",
            &[("Content-Type", "application/json")],
            json!({"challenge": challenge, "signature": signature})
                .to_string()
                .as_bytes(),
        )
    };
    let code =
        |(status, reply): (u16, Value)| (status, reply["code"].as_str().unwrap_or("").to_owned());

    // Wrong answers: another key, another certificate than the one challenged, an unknown
    // challenge, a used one.
    let first = challenge(&serial);
    let forged = jws::sign(&other_key, &serial, first.as_bytes()).unwrap();
    assert_eq!(code(login(&first, &forged)), (401, "H0426".into()));
    assert_eq!(
        code(login(
            &first,
            &jws::sign(&key, &serial, first.as_bytes()).unwrap()
        )),
        (401, "H0441".into()),
        "a challenge answers one attempt"
    );
    let second = challenge(&serial);
    let by_other = jws::sign(&other_key, &other_serial, second.as_bytes()).unwrap();
    assert_eq!(code(login(&second, &by_other)), (401, "H0442".into()));
    assert_eq!(code(login("00", "x..y")), (401, "H0441".into()));

    // The right answer: a session for the certificate's party and role.
    let third = challenge(&serial);
    let (status, session) = login(&third, &jws::sign(&key, &serial, third.as_bytes()).unwrap());
    assert_eq!(status, 201, "{session}");
    assert_eq!(
        (session["party"].as_str(), session["role"].as_str()),
        (Some("2200"), Some("officer"))
    );
    let token = session["token"].as_str().unwrap().to_owned();
    assert!(token.starts_with("jgs."));
    let (status, _) = server.get("/api/v1/declarations", &token);
    assert_eq!(status, 200);
    let (status, reply) = server.get("/api/v1/risk/rules", &token);
    assert_eq!(status, 200, "an officer's session reads the rules: {reply}");
    let (status, reply) = server.call(
        "PUT",
        "/api/v1/risk/rules",
        &token,
        &[("Content-Type", "application/json")],
        b"{}",
    );
    assert_eq!(
        (status, reply["code"].as_str()),
        (403, Some("H0403")),
        "but may not put them"
    );
    // A session token changed in one character is nobody's.
    let mut tampered = token.clone().into_bytes();
    let i = tampered.len() - 5;
    tampered[i] = if tampered[i] == b'A' { b'B' } else { b'A' };
    let (status, _) = server.get(
        "/api/v1/declarations",
        &String::from_utf8(tampered).unwrap(),
    );
    assert_eq!(status, 401);
    // Eight hours later it has expired.
    clock
        .offset_ms
        .store(8 * 3600 * 1000 + 1, Ordering::Relaxed);
    assert_eq!(
        code(server.get("/api/v1/declarations", &token)),
        (401, "H0407".into())
    );
    clock.offset_ms.store(0, Ordering::Relaxed);
    // Revoking the certificate ends the session at once.
    let (status, _) = server.post_json(
        &format!("/api/v1/pki/certificates/{serial}/revoke"),
        &server.admin.clone(),
        &json!({"reason": "left the service"}),
    );
    assert_eq!(status, 200);
    assert_eq!(
        code(server.get("/api/v1/declarations", &token)),
        (401, "H0406".into())
    );
    // The login is in the audit ledger, with where it came from.
    let by_request = server.entries_by_request();
    let logins: Vec<_> = by_request
        .values()
        .flatten()
        .filter(|(_, kind)| kind == "audit.login")
        .collect();
    assert_eq!(logins.len(), 1, "{by_request:?}");
}

both!(declarations_in_xml_carry_an_enveloped_signature);

/// A DecMessage signed the E-Port way (an enveloped ds:Signature, SM2-SM3, C14N 1.0) is
/// taken without any header and kept byte for byte; changed after signing, signed by another
/// party's certificate or by a key other than the certificate's, it is refused with the same
/// codes a detached signature would get (the changed content with its own, H0428).
fn declarations_in_xml_carry_an_enveloped_signature(backend: common::Backend) {
    use jinguan_chinaport::decmessage::{write, WriteOptions};
    use jinguan_chinaport::xmldsig;
    let clock = Arc::new(TestClock::default());
    let server = common::start_signed("enveloped", backend, clock);
    let (key, serial) = certify(&server, "test-broker", "broker", Algorithm::Sm2Sm3);
    let (other_key, other_serial) = certify(&server, "someone-else", "broker", Algorithm::Sm2Sm3);
    let documents: Vec<String> = generated(4, 41)
        .iter()
        .map(|d| write(d, WriteOptions::default()))
        .collect();
    let lodge = |id: &str, body: &[u8]| {
        server.call(
            "POST",
            "/api/v1/declarations",
            &server.broker.clone(),
            &[("Content-Type", "application/xml"), ("Submission-Id", id)],
            body,
        )
    };
    let outcome =
        |(status, reply): (u16, Value)| (status, reply["code"].as_str().unwrap_or("").to_owned());
    let signed = xmldsig::sign(documents[0].as_bytes(), &key, &serial, None).unwrap();
    let (status, receipt) = lodge("x-1", &signed);
    assert!(status == 201 || status == 422, "{receipt}");
    // Kept as sent, signature and all; the record names the certificate.
    let ledger = receipt["ledger"]["ledger"].as_str().unwrap();
    let seq = receipt["ledger"]["seq"].as_u64().unwrap();
    let (entry, _) = server.store.entry(ledger, seq).unwrap();
    let record: Value = serde_json::from_slice(&entry.payload).unwrap();
    assert_eq!(record["signer"]["certificate"], serial.as_str());
    assert_eq!(
        record["received"]["body"].as_str().unwrap().as_bytes(),
        &signed[..]
    );

    assert_eq!(
        outcome(lodge("x-2", documents[1].as_bytes())),
        (401, "H0420".into())
    );
    let signed =
        String::from_utf8(xmldsig::sign(documents[1].as_bytes(), &key, &serial, None).unwrap())
            .unwrap();
    let changed = signed.replacen("<GNo>1</GNo>", "<GNo>9</GNo>", 1);
    assert_ne!(changed, signed);
    assert_eq!(
        outcome(lodge("x-3", changed.as_bytes())),
        (401, "H0428".into())
    );
    let by_other = xmldsig::sign(documents[2].as_bytes(), &other_key, &other_serial, None).unwrap();
    assert_eq!(outcome(lodge("x-4", &by_other)), (403, "H0425".into()));
    let wrong_key = xmldsig::sign(documents[2].as_bytes(), &other_key, &serial, None).unwrap();
    assert_eq!(outcome(lodge("x-5", &wrong_key)), (401, "H0426".into()));
    let unknown = xmldsig::sign(documents[3].as_bytes(), &key, "abcdef", None).unwrap();
    assert_eq!(outcome(lodge("x-6", &unknown)), (401, "H0421".into()));
    // The right signature on the same document that was refused when changed: taken.
    let (status, _) = lodge("x-7", signed.as_bytes());
    assert!(status == 201 || status == 422);
}
