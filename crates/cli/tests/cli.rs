//! The `jinguan` binary, run for real: the interfaces later checks depend on.

#![allow(clippy::unwrap_used)] // A panic in a test is a test failure with its message.

use std::path::PathBuf;
use std::process::{Command, Output};

use serde_json::Value;

fn jinguan(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_jinguan"))
        .args(args)
        .output()
        .expect("binary runs")
}

fn stdout_json(args: &[&str]) -> Value {
    let output = jinguan(args);
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).expect("JSON output")
}

#[test]
fn tariff_stats_reports_every_line_and_nothing_unexplained() {
    let stats = stdout_json(&["tariff", "stats", "--json"]);
    assert_eq!(stats["lines"], 12_030);
    assert_eq!(stats["unexplained"], 0);
    let text = String::from_utf8(jinguan(&["tariff", "stats"]).stdout).unwrap();
    assert!(text.contains("12030 lines"), "{text}");
    assert!(text.contains("unexplained rate strings: 0"), "{text}");
}

#[test]
fn tariff_show_beer() {
    let beer = stdout_json(&["tariff", "show", "2203000000", "--json"]);
    assert_eq!(beer["mfn"]["text"], "0元/升");
    assert_eq!(beer["mfn"]["parsed"]["kind"], "specific");
    assert_eq!(beer["mfn"]["parsed"]["amount"], "0");
    assert_eq!(beer["mfn"]["parsed"]["currency"], "CNY");
    assert_eq!(beer["mfn"]["parsed"]["unit"], "095");
    assert_eq!(beer["general"]["parsed"]["amount"], "7.5");
    assert_eq!(beer["general"]["parsed"]["unit_name"], "升");
    assert_eq!(
        beer["vat"]["parsed"],
        serde_json::json!({"kind": "ad_valorem", "percent": "13"})
    );
    let branches = beer["consumption_tax"]["parsed"]["branches"]
        .as_array()
        .unwrap();
    assert_eq!(branches.len(), 2);
    assert_eq!(branches[0]["comparison"], "greater_or_equal");
    assert_eq!(branches[0]["rate"]["amount"], "0.253");
    assert_eq!(branches[1]["comparison"], "less");
    assert_eq!(branches[1]["rate"]["amount"], "0.2227");
}

#[test]
fn tariff_show_rejects_unknown_codes_with_a_coded_line() {
    let output = jinguan(&["tariff", "show", "9999999999"]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(stderr.starts_with("E0101: "), "{stderr}");
    assert_eq!(stderr.lines().count(), 1);
    let output = jinguan(&["tariff", "show", "22030"]);
    assert!(String::from_utf8(output.stderr)
        .unwrap()
        .starts_with("T0201: "));
}

#[test]
fn codes_lists_tables_and_finds_codes() {
    let tables = stdout_json(&["codes", "--json"]);
    assert!(tables
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["name"] == "country" && t["rows"] == 265));
    let chn = stdout_json(&["codes", "country", "CHN", "--json"]);
    assert_eq!(chn["entries"][0]["legacy_customs_code"], "142");
    assert_eq!(chn["table"]["valid_from"], "2018-08-01");
    let lower = stdout_json(&["codes", "licence-document", "a", "--json"]);
    assert_eq!(lower["entries"][0]["name_zh"], "保税核注清单");
    let output = jinguan(&["codes", "licence-document", "W"]);
    assert!(String::from_utf8(output.stderr)
        .unwrap()
        .starts_with("E0103: "));
}

fn corpus_file(name: &str) -> Option<PathBuf> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpus/china/declaration")
        .join(name);
    if path.exists() {
        return Some(path);
    }
    assert!(
        std::env::var("JINGUAN_REQUIRE_CORPUS").is_err(),
        "corpus required: {}",
        path.display()
    );
    eprintln!("SKIP: {} not found", path.display());
    None
}

#[test]
fn declaration_parse_exit_codes() {
    let output = jinguan(&["declaration", "parse", "/nonexistent/dec.xml"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8(output.stderr)
        .unwrap()
        .starts_with("E0001: "));

    let Some(good) = corpus_file("ryanrong95-HXT/DecMessage_import_0110_XDTCDO202405100000002.xml")
    else {
        return;
    };
    let parsed = stdout_json(&["declaration", "parse", good.to_str().unwrap(), "--json"]);
    assert_eq!(parsed["declaration"]["head"]["trade_mode"], "0110");
    assert_eq!(parsed["declaration"]["items"][0]["hs_code"], "8542319090");
    // The owner's customs code in this real sample is 9 characters: a diagnostic, not a failure.
    let diagnostics = parsed["diagnostics"].as_array().unwrap();
    assert!(
        diagnostics.iter().any(|d| d["code"] == "D0502"),
        "{diagnostics:?}"
    );

    let Some(bad) = corpus_file("zzaniu-loop_server/conf_OnlyWindowsNew.xml") else {
        return;
    };
    let output = jinguan(&["declaration", "parse", bad.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert!(
        stderr.starts_with("X0001: ") && stderr.contains("line 92, column"),
        "{stderr}"
    );
    assert_eq!(stderr.lines().count(), 1);
}

#[test]
fn gen_is_deterministic_and_its_xml_reads_back() {
    let args = [
        "gen",
        "declarations",
        "--count",
        "3000",
        "--seed",
        "7",
        "--format",
        "json",
    ];
    let first = jinguan(&args);
    let second = jinguan(&args);
    assert!(first.status.success());
    assert_eq!(first.stdout, second.stdout, "same seed, same bytes");
    assert_eq!(first.stdout.iter().filter(|b| **b == b'\n').count(), 3000);
    let other = jinguan(&[
        "gen",
        "declarations",
        "--count",
        "3000",
        "--seed",
        "8",
        "--format",
        "json",
    ]);
    assert_ne!(first.stdout, other.stdout);

    let dir = std::env::temp_dir().join(format!("jinguan-gen-{}", std::process::id()));
    let output = jinguan(&[
        "gen",
        "declarations",
        "--count",
        "5",
        "--seed",
        "7",
        "--format",
        "decmessage",
        "--out",
        dir.to_str().unwrap(),
    ]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let file = dir.join("dec-0000003.xml");
    let parsed = stdout_json(&["declaration", "parse", file.to_str().unwrap(), "--json"]);
    assert_eq!(
        parsed["diagnostics"].as_array().unwrap().len(),
        0,
        "{parsed}"
    );
    // The XML of declaration 3 carries the same goods as line 3 of the JSON stream.
    let line: Value = serde_json::from_str(
        String::from_utf8_lossy(&first.stdout)
            .lines()
            .nth(2)
            .unwrap(),
    )
    .unwrap();
    assert_eq!(parsed["declaration"]["items"], line["items"]);
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn the_tour_runs_on_the_embedded_data() {
    let output = jinguan(&["tour"]);
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let text = String::from_utf8(output.stdout).unwrap();
    assert!(text.contains("unexplained rate strings: 0"));
    assert_eq!(
        text.matches("round trip identical, 0 code errors").count(),
        3,
        "{text}"
    );
}

/// `jinguan demo` for a thousand declarations: the server comes up on a fresh data directory, prints
/// its URL and tokens, and the feed carries declarations through every state and channel.
#[test]
fn the_demo_serves_and_reaches_every_state() {
    let dir = std::env::temp_dir().join(format!("jinguan-demo-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let output = jinguan(&[
        "demo",
        "--listen",
        "127.0.0.1:0",
        "--data-dir",
        dir.to_str().unwrap(),
        "--rate",
        "10000",
        "--count",
        "1000",
    ]);
    let text = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{text}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(text.contains("http://127.0.0.1:"), "{text}");
    for role in ["broker", "enterprise", "officer", "bank", "admin"] {
        assert!(text.contains(role), "{role}: {text}");
    }
    assert!(
        text.contains("every state and channel was reached"),
        "{text}"
    );
    assert!(dir.join("tokens.json").exists() && dir.join("ledger.db").exists());
    no_secret_in_logs_or_data(&text, &String::from_utf8_lossy(&output.stderr), &dir);
    std::fs::remove_dir_all(&dir).unwrap();
}

/// The secrets a demo run made (its tokens, printed once on its console as the user's
/// credentials, and every private key: the platform's, the CA's, the demo parties') appear
/// nowhere else: not in its log (stderr), not in the ledger's database files, not in the
/// token file, and the data directory's own private keys only sealed.
fn no_secret_in_logs_or_data(console: &str, log: &str, dir: &std::path::Path) {
    let tokens: Vec<&str> = console
        .lines()
        .skip_while(|line| !line.starts_with("Tokens"))
        .skip(1)
        .take_while(|line| !line.trim().is_empty())
        .filter_map(|line| line.split_whitespace().last())
        .collect();
    assert_eq!(tokens.len(), 5, "{console}");
    // A private key's secret: the body of its PEM. The demo parties' keys are handed to the
    // user in demo-keys/ (they are the clients' keys, not the platform's).
    let mut secrets: Vec<String> = tokens.iter().map(|t| (*t).to_owned()).collect();
    let party_keys = dir.join("demo-keys");
    for file in std::fs::read_dir(&party_keys).unwrap() {
        let path = file.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        if text.contains("PRIVATE KEY") {
            secrets.push(pem_body(&text));
        }
    }
    assert!(
        secrets.len() >= 7,
        "tokens and the parties' keys: {}",
        secrets.len()
    );
    // The platform's own keys, opened with the operator key the way the server does.
    let operator = operator_key();
    for (file, label) in [("private.sealed", "platform"), ("ca.sealed", "ca")] {
        let text = std::fs::read_to_string(dir.join("keys").join(file)).unwrap();
        let key = jinguan_crypto::sealed::open(&text, &operator, label, "1234567812345678")
            .unwrap_or_else(|e| panic!("{file}: {e}"));
        secrets.push(pem_body(&key.to_pem()));
    }
    secrets.push(operator.to_hex());
    let mut places = vec![("the log".to_owned(), log.as_bytes().to_vec())];
    for file in std::fs::read_dir(dir).unwrap() {
        let path = file.unwrap().path();
        if path.is_file() {
            places.push((path.display().to_string(), std::fs::read(&path).unwrap()));
        }
    }
    for file in std::fs::read_dir(dir.join("keys")).unwrap() {
        let path = file.unwrap().path();
        let bytes = std::fs::read(&path).unwrap();
        assert!(
            !String::from_utf8_lossy(&bytes).contains("PRIVATE KEY"),
            "{} holds a private key in the clear",
            path.display()
        );
        places.push((path.display().to_string(), bytes));
    }
    assert!(places.iter().any(|(name, _)| name.ends_with("ledger.db")));
    for (name, bytes) in &places {
        for secret in &secrets {
            // Sixty characters of a key's body, or a whole token: either would be a leak.
            let needle = &secret.as_bytes()[..secret.len().min(60)];
            assert!(
                !bytes.windows(needle.len()).any(|w| w == needle),
                "a secret ({}…) is in {name}",
                &secret[..8]
            );
        }
    }
}

fn pem_body(pem: &str) -> String {
    pem.lines().filter(|l| !l.starts_with("-----")).collect()
}

/// The operator key the binary uses here (its environment is the test's).
fn operator_key() -> jinguan_crypto::sealed::OperatorKey {
    let path = std::env::var_os("JINGUAN_OPERATOR_KEY_FILE")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            std::env::var_os("XDG_CONFIG_HOME")
                .map(PathBuf::from)
                .unwrap_or_else(|| PathBuf::from(std::env::var_os("HOME").unwrap()).join(".config"))
                .join("jinguan/operator.key")
        });
    jinguan_crypto::sealed::OperatorKey::from_hex(&std::fs::read_to_string(path).unwrap()).unwrap()
}

/// Keys at rest: a data directory's private keys are sealed under the operator key; another
/// operator key cannot open them (the server refuses to start, C0004); a plaintext key an
/// earlier version left is sealed on first use and removed.
#[test]
fn private_keys_are_sealed_under_the_operator_key() {
    let dir = std::env::temp_dir().join(format!("jinguan-sealed-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(dir.join("keys")).unwrap();
    let d = dir.to_str().unwrap();
    // An older data directory: its head-signing key in the clear.
    let legacy =
        jinguan_crypto::SigningKey::generate(jinguan_crypto::Algorithm::Sm2Sm3, "1234567812345678")
            .unwrap();
    std::fs::write(dir.join("keys/private.pem"), legacy.to_pem()).unwrap();
    let appended = Command::new(env!("CARGO_BIN_EXE_jinguan"))
        .args([
            "ledger",
            "append",
            "--data-dir",
            d,
            "--ledger",
            "customs-5300",
        ])
        .args(["--kind", "test", "--submission-id", "one"])
        .stdin(std::process::Stdio::null())
        .output()
        .unwrap();
    assert!(
        appended.status.success(),
        "{}",
        String::from_utf8_lossy(&appended.stderr)
    );
    assert!(
        !dir.join("keys/private.pem").exists(),
        "the plaintext key is gone"
    );
    let sealed = std::fs::read_to_string(dir.join("keys/private.sealed")).unwrap();
    assert!(!sealed.contains("PRIVATE KEY") && !sealed.contains(&pem_body(&legacy.to_pem())[..60]));
    let opened =
        jinguan_crypto::sealed::open(&sealed, &operator_key(), "platform", "1234567812345678")
            .unwrap();
    assert_eq!(opened.to_pem(), legacy.to_pem(), "the same key, sealed");
    // Another operator key opens nothing: the command stops with C0004 and names the file.
    let other = dir.join("other-operator.key");
    std::fs::write(
        &other,
        jinguan_crypto::sealed::OperatorKey::generate().to_hex(),
    )
    .unwrap();
    let refused = Command::new(env!("CARGO_BIN_EXE_jinguan"))
        .args(["serve", "--data-dir", d, "--listen", "127.0.0.1:0"])
        .env("JINGUAN_OPERATOR_KEY_FILE", &other)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(!refused.status.success());
    assert!(
        stderr.starts_with("C0004") && stderr.contains("private.sealed"),
        "{stderr}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Tokens from the command line: scoped, listed without their hashes, revoked by id.
#[test]
fn admin_tokens_are_scoped_listed_and_revoked() {
    let dir = std::env::temp_dir().join(format!("jinguan-tokens-test-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let d = dir.to_str().unwrap();
    let made = jinguan(&[
        "admin",
        "token",
        "create",
        "--data-dir",
        d,
        "--party",
        "5300123456",
        "--role",
        "broker",
        "--days",
        "30",
        "--scope",
        "declare,read_declarations",
    ]);
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let token = String::from_utf8_lossy(&made.stdout).trim().to_owned();
    let bad = jinguan(&[
        "admin",
        "token",
        "create",
        "--data-dir",
        d,
        "--party",
        "5300123456",
        "--role",
        "broker",
        "--scope",
        "everything",
    ]);
    assert!(!bad.status.success());
    assert!(String::from_utf8_lossy(&bad.stderr).starts_with("E0408"));
    let listed = jinguan(&["admin", "token", "list", "--data-dir", d]);
    let text = String::from_utf8_lossy(&listed.stdout).to_string();
    let line: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    assert_eq!(
        line["scopes"],
        serde_json::json!(["declare", "read_declarations"])
    );
    assert!(
        line.get("sm3").is_none() && !text.contains(&token),
        "{text}"
    );
    let id = line["id"].as_str().unwrap();
    let revoked = jinguan(&["admin", "token", "revoke", "--data-dir", d, "--id", id]);
    assert!(revoked.status.success());
    let listed = jinguan(&["admin", "token", "list", "--data-dir", d]);
    assert!(String::from_utf8_lossy(&listed.stdout).contains("\"revoked\":\"20"));
    let missing = jinguan(&["admin", "token", "revoke", "--data-dir", d, "--id", "nope"]);
    assert!(String::from_utf8_lossy(&missing.stderr).starts_with("E0412"));
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn edi_parse_reads_an_interchange_and_names_what_is_wrong() {
    let dir = std::env::temp_dir().join(format!("jinguan-edi-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("good.edi");
    std::fs::write(
        &good,
        "UNA:+.? '\nUNB+UNOC:3+BROKER+CUSTOMS+261128:1200+77'\nUNH+1+CUSDEC:D:96B:UN'\n\
         BGM+929+DEC?+1'\nUNT+3+1'\nUNZ+1+77'\n",
    )
    .unwrap();
    let parsed = stdout_json(&["edi", "parse", good.to_str().unwrap(), "--json"]);
    assert_eq!(parsed["acceptable"], true, "{parsed}");
    assert_eq!(parsed["messages"][0]["type"], "CUSDEC");
    assert_eq!(parsed["segments"][2]["elements"][1][0], "DEC+1");
    // A wrong UNT count: exit status 1 and the code on standard error.
    let bad = dir.join("bad.edi");
    std::fs::write(
        &bad,
        "UNB+UNOC:3+A+B+261128:1200+1'UNH+1+CUSDEC:D:96B:UN'UNT+9+1'UNZ+1+1'",
    )
    .unwrap();
    let output = jinguan(&["edi", "parse", bad.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&output.stderr).starts_with("U0104"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn edi_contrl_answers_valid_and_invalid_interchanges_and_json_goes_both_ways() {
    let dir = std::env::temp_dir().join(format!("jinguan-contrl-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let good = dir.join("good.edi");
    std::fs::write(
        &good,
        "UNA:+.? '\nUNB+UNOC:3+BROKER+CUSTOMS+261128:1200+77'\nUNH+1+CUSDEC:D:96B:UN'\n\
         BGM+929+DEC?+1+9'\nUNS+D'\nUNS+S'\nUNT+5+1'\nUNZ+1+77'\n",
    )
    .unwrap();
    let output = jinguan(&["edi", "contrl", good.to_str().unwrap(), "--reference", "R9"]);
    assert_eq!(output.status.code(), Some(0), "{output:?}");
    let contrl = String::from_utf8(output.stdout).unwrap();
    // From the recipient back to the sender, acknowledging the interchange and its message.
    assert!(contrl.contains("UNB+UNOC:3+CUSTOMS+BROKER+"), "{contrl}");
    assert!(contrl.contains("UCI+77+BROKER+CUSTOMS+7'"), "{contrl}");
    assert!(contrl.contains("UCM+1+CUSDEC:D:96B:UN+7'"), "{contrl}");
    assert!(contrl.contains("UNZ+1+R9'"), "{contrl}");
    // A wrong UNT count and a message reference used twice: rejected message by message.
    let bad = dir.join("bad.edi");
    std::fs::write(
        &bad,
        "UNB+UNOC:3+A+B+261128:1200+5'UNH+1+CUSDEC:D:96B:UN'BGM+929'UNT+9+1'\
         UNH+1+CUSDEC:D:96B:UN'BGM+929'UNT+3+1'UNZ+2+5'",
    )
    .unwrap();
    let output = jinguan(&["edi", "contrl", bad.to_str().unwrap()]);
    assert_eq!(output.status.code(), Some(1));
    let contrl = String::from_utf8(output.stdout).unwrap();
    let ucms: Vec<&str> = contrl.lines().filter(|l| l.starts_with("UCM")).collect();
    assert_eq!(
        ucms,
        [
            "UCM+1+CUSDEC:D:96B:UN+4+29+UNT'",
            "UCM+1+CUSDEC:D:96B:UN+4+26+UNH'"
        ],
        "{contrl}"
    );
    // The JSON form and back: the same segments.
    let json = jinguan(&["edi", "to-json", good.to_str().unwrap()]);
    assert_eq!(json.status.code(), Some(0));
    let json_file = dir.join("good.json");
    std::fs::write(&json_file, &json.stdout).unwrap();
    let back = jinguan(&["edi", "from-json", json_file.to_str().unwrap(), "--lines"]);
    assert_eq!(back.status.code(), Some(0), "{back:?}");
    let text = String::from_utf8(back.stdout).unwrap();
    assert!(text.contains("BGM+929+DEC?+1+9'\n"), "{text}");
    let original = jinguan_edifact::parse_owned(&std::fs::read(&good).unwrap()).0;
    assert_eq!(jinguan_edifact::parse_owned(text.as_bytes()).0, original);
    let _ = std::fs::remove_dir_all(&dir);
}
