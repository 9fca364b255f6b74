//! Hostile XML and the headers every answer carries.

#![allow(clippy::unwrap_used)] // A panic in a test is a test failure with its message.

mod common;

use std::time::{Duration, Instant};

use common::{start, Backend};

/// Peak resident memory of this process (the server runs in it), in KiB.
fn peak_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap()
}

/// Billion laughs (nested internal entities), an external entity naming a local file, a
/// parameter entity fetching a URL, and an undeclared entity without any DTD: each refused
/// at once with a coded error, nothing expanded, nothing read, memory flat.
#[test]
fn entity_attacks_are_refused_quickly_in_bounded_memory() {
    let server = start("xxe", Backend::Sqlite);
    let mut laughs =
        String::from("<?xml version=\"1.0\"?>\n<!DOCTYPE DecMessage [\n<!ENTITY lol \"lol\">\n");
    for i in 1..=9 {
        let previous = if i == 1 {
            "lol".to_owned()
        } else {
            format!("lol{}", i - 1)
        };
        laughs.push_str(&format!(
            "<!ENTITY lol{i} \"{}\">\n",
            format!("&{previous};").repeat(10)
        ));
    }
    laughs.push_str("]>\n<DecMessage><DecHead><Notes>&lol9;</Notes></DecHead></DecMessage>");
    // The same shape padded to near the body limit: the parser must stop at the DTD, not
    // after reading and expanding it.
    let mut padded = String::from("<?xml version=\"1.0\"?><!DOCTYPE DecMessage [<!ENTITY a \"");
    padded.push_str(&"x".repeat(4 * 1024 * 1024));
    padded.push_str("\">]><DecMessage>&a;&a;&a;&a;&a;&a;&a;&a;</DecMessage>");
    let cases: Vec<(&str, String)> = vec![
        ("billion laughs", laughs),
        ("padded entity", padded),
        (
            "external entity",
            "<?xml version=\"1.0\"?><!DOCTYPE DecMessage [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]><DecMessage><DecHead><Notes>&xxe;</Notes></DecHead></DecMessage>".into(),
        ),
        (
            "parameter entity",
            "<?xml version=\"1.0\"?><!DOCTYPE DecMessage [<!ENTITY % remote SYSTEM \"http://127.0.0.1:9/x.dtd\">%remote;]><DecMessage/>".into(),
        ),
        (
            "undeclared entity",
            "<?xml version=\"1.0\"?><DecMessage><DecHead><Notes>&xxe;</Notes></DecHead></DecMessage>".into(),
        ),
    ];
    let before = peak_kib();
    for (name, body) in &cases {
        let started = Instant::now();
        let (status, reply) = server.lodge(name, "application/xml", body.as_bytes());
        let took = started.elapsed();
        let code = reply["code"].as_str().unwrap_or("");
        assert_eq!(status, 400, "{name}: {reply}");
        assert!(code.starts_with('X'), "{name}: {reply}");
        assert!(took < Duration::from_secs(2), "{name} took {took:?}");
        let text = reply.to_string();
        assert!(
            !text.contains("root:") && !text.contains("lollol"),
            "{name}: {text}"
        );
    }
    // Peak memory grew by less than a few copies of the largest body (5 MiB limit):
    // nothing was expanded.
    let grown = peak_kib().saturating_sub(before);
    assert!(grown < 64 * 1024, "peak RSS grew by {grown} KiB");
    // Nothing was recorded.
    let (_, list) = server.get("/api/v1/declarations", &server.officer.clone());
    assert_eq!(list["items"].as_array().map(Vec::len), Some(0), "{list}");
}

/// Every answer, success or error, found or not, carries the security headers.
#[test]
fn every_answer_carries_the_security_headers() {
    let server = start("headers", Backend::Sqlite);
    let officer = format!("Bearer {}", server.officer);
    for (method, path, auth) in [
        ("GET", "/healthz", None),
        ("GET", "/api/v1/openapi.json", None),
        ("GET", "/api/v1/declarations", Some(officer.as_str())),
        ("GET", "/api/v1/declarations", None),
        ("GET", "/no/such/route", None),
        ("POST", "/api/v1/declarations", Some(officer.as_str())),
        ("GET", "/api/v1/pki/ca", None),
    ] {
        let headers: Vec<(&str, &str)> = auth.map(|a| ("Authorization", a)).into_iter().collect();
        let (status, head, _) = server.exchange(method, path, &headers, b"");
        let head = head.to_ascii_lowercase();
        for (name, value) in jinguan_server::SECURITY_HEADERS {
            assert!(
                head.contains(&format!("{name}: {}", value.to_ascii_lowercase())),
                "{method} {path} ({status}) lacks {name}:\n{head}"
            );
        }
    }
}
