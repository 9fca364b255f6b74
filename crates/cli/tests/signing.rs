//! A client signs its declarations as the README says: a key made by OpenSSL, certified by
//! the platform CA through the API, and the detached signature made either by `jinguan sign`
//! or by OpenSSL alone (`examples/openssl-sign.sh`). `jinguan serve` requires signatures by
//! default and takes both; unsigned and mis-signed bodies are refused with their codes.

#![allow(clippy::unwrap_used)] // A panic in a test is a test failure with its message.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use serde_json::{json, Value};

fn jinguan(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO_BIN_EXE_jinguan"))
        .args(args)
        .output()
        .expect("binary runs")
}

fn stdout(output: &std::process::Output) -> String {
    assert!(
        output.status.success(),
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout.clone())
        .unwrap()
        .trim()
        .to_owned()
}

struct Server {
    child: Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(dir: &Path) -> Server {
    let mut child = Command::new(env!("CARGO_BIN_EXE_jinguan"))
        .args([
            "serve",
            "--data-dir",
            dir.to_str().unwrap(),
            "--listen",
            "127.0.0.1:0",
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let base = line
        .split_whitespace()
        .find(|w| w.starts_with("http://"))
        .unwrap_or_else(|| panic!("no address in {line:?}"))
        .to_owned();
    Server { child, base }
}

fn call(
    server: &Server,
    path: &str,
    token: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> (u16, Value) {
    let mut request = ureq::post(&format!("{}{path}", server.base))
        .set("Authorization", &format!("Bearer {token}"));
    for (name, value) in headers {
        request = request.set(name, value);
    }
    let response = match request.send_bytes(body) {
        Ok(response) | Err(ureq::Error::Status(_, response)) => response,
        Err(e) => panic!("{path}: {e}"),
    };
    let status = response.status();
    let text = response.into_string().unwrap_or_default();
    (status, serde_json::from_str(&text).unwrap_or(Value::Null))
}

fn openssl(args: &[&str]) -> String {
    let output = Command::new("openssl").args(args).output().unwrap();
    stdout(&output)
}

fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("jinguan-sign-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn a_client_signs_with_openssl_keys_and_the_server_checks() {
    let work = scratch("work");
    let data = work.join("data");
    let path = |name: &str| work.join(name).to_str().unwrap().to_owned();
    let token = |party: &str, role: &str| {
        stdout(&jinguan(&[
            "admin",
            "token",
            "create",
            "--data-dir",
            data.to_str().unwrap(),
            "--party",
            party,
            "--role",
            role,
        ]))
    };
    let (admin, broker) = (token("ops-admin", "admin"), token("5300123456", "broker"));
    let server = serve(&data);

    // The client's key, made by OpenSSL; its public half certified by the platform CA.
    openssl(&["genpkey", "-algorithm", "SM2", "-out", &path("key.pem")]);
    let public = openssl(&["pkey", "-in", &path("key.pem"), "-pubout"]);
    let request = json!({"party": "5300123456", "role": "broker", "name": "Example Broker", "public_key": public});
    let (status, issued) = call(
        &server,
        "/api/v1/pki/certificates",
        &admin,
        &[("Content-Type", "application/json")],
        request.to_string().as_bytes(),
    );
    assert_eq!(status, 201, "{issued}");
    std::fs::write(path("cert.pem"), issued["certificate"].as_str().unwrap()).unwrap();
    let serial = issued["serial"].as_str().unwrap();
    // OpenSSL reads the certificate.
    let text = openssl(&["x509", "-in", &path("cert.pem"), "-noout", "-subject"]);
    assert!(
        text.contains("serialNumber") && text.contains("5300123456"),
        "{text}"
    );

    // Declarations to send, generated, one file each.
    stdout(&jinguan(&[
        "gen",
        "declarations",
        "--count",
        "3",
        "--seed",
        "9",
        "--format",
        "json",
        "--out",
        &path("decls"),
    ]));
    let lines = std::fs::read_to_string(work.join("decls/declarations.jsonl")).unwrap();
    let files: Vec<PathBuf> = lines
        .lines()
        .enumerate()
        .map(|(i, line)| {
            let file = work.join(format!("declaration-{i}.json"));
            std::fs::write(&file, line).unwrap();
            file
        })
        .collect();
    let lodge = |file: &Path, id: &str, signature: Option<&str>| {
        let body = std::fs::read(file).unwrap();
        let mut headers = vec![("Content-Type", "application/json"), ("Submission-Id", id)];
        if let Some(signature) = signature {
            headers.push(("X-Jws-Signature", signature));
        }
        call(&server, "/api/v1/declarations", &broker, &headers, &body)
    };

    // Unsigned: refused, the server requires signatures by default.
    let (status, error) = lodge(&files[0], "unsigned", None);
    assert_eq!(
        (status, error["code"].as_str()),
        (401, Some("H0420")),
        "{error}"
    );

    // Signed by `jinguan sign`.
    let signed = stdout(&jinguan(&[
        "sign",
        files[0].to_str().unwrap(),
        "--key",
        &path("key.pem"),
        "--cert",
        &path("cert.pem"),
    ]));
    let (status, receipt) = lodge(&files[0], "by-jinguan", Some(&signed));
    assert!(status == 201 || status == 422, "{status} {receipt}");

    // DecMessage XML signed the E-Port way (`--enveloped`): the signature travels inside the
    // document, no header; the certificate rides along in KeyInfo.
    stdout(&jinguan(&[
        "gen",
        "declarations",
        "--count",
        "1",
        "--seed",
        "10",
        "--format",
        "decmessage",
        "--out",
        &path("xml"),
    ]));
    let output = jinguan(&[
        "sign",
        &path("xml/dec-0000001.xml"),
        "--key",
        &path("key.pem"),
        "--cert",
        &path("cert.pem"),
        "--enveloped",
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let signed_xml = output.stdout;
    assert!(String::from_utf8_lossy(&signed_xml).contains("xmldsig#sm2-sm3"));
    let (status, reply) = call(
        &server,
        "/api/v1/declarations",
        &broker,
        &[
            ("Content-Type", "application/xml"),
            ("Submission-Id", "enveloped"),
        ],
        &signed_xml,
    );
    assert!(status == 201 || status == 422, "{status} {reply}");

    // The receipt is evidence: it verifies offline with the CA certificate alone, and not
    // once anything in it is changed.
    let ca = ureq::get(&format!("{}/api/v1/pki/ca", server.base))
        .call()
        .unwrap()
        .into_string()
        .unwrap();
    let ca: Value = serde_json::from_str(&ca).unwrap();
    std::fs::write(path("ca.pem"), ca["certificate"].as_str().unwrap()).unwrap();
    std::fs::write(path("receipt.json"), receipt.to_string()).unwrap();
    let verified = stdout(&jinguan(&[
        "verify-receipt",
        &path("receipt.json"),
        "--ca",
        &path("ca.pem"),
    ]));
    let verified: Value = serde_json::from_str(&verified).unwrap();
    assert_eq!(verified["verified"], true);
    assert_eq!(verified["entry_id"], receipt["entry_id"]);
    let mut tampered = receipt.clone();
    tampered["channel"] = json!(if receipt["channel"] == "green" {
        "red"
    } else {
        "green"
    });
    std::fs::write(path("tampered.json"), tampered.to_string()).unwrap();
    let output = jinguan(&[
        "verify-receipt",
        &path("tampered.json"),
        "--ca",
        &path("ca.pem"),
    ]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("C0006"));

    // Signed by OpenSSL and a shell, as the README shows.
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/openssl-sign.sh");
    let output = Command::new("sh")
        .arg(&script)
        .args([files[1].to_str().unwrap(), &path("key.pem"), serial])
        .output()
        .unwrap();
    let by_openssl = stdout(&output);
    let (status, receipt) = lodge(&files[1], "by-openssl", Some(&by_openssl));
    assert!(status == 201 || status == 422, "{status} {receipt}");

    // A signature of one file sent with another: refused as not verifying.
    let (status, error) = lodge(&files[2], "mismatch", Some(&by_openssl));
    assert_eq!(
        (status, error["code"].as_str()),
        (401, Some("H0426")),
        "{error}"
    );

    // `jinguan sign` refuses a certificate of another key rather than make a useless signature.
    openssl(&["genpkey", "-algorithm", "SM2", "-out", &path("other.pem")]);
    let output = jinguan(&[
        "sign",
        files[0].to_str().unwrap(),
        "--key",
        &path("other.pem"),
        "--cert",
        &path("cert.pem"),
    ]);
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("C0005"));
    drop(server);
    std::fs::remove_dir_all(&work).unwrap();
}
