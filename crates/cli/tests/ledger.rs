//! The ledger commands run for real: proofs verified by the offline verifier, byte flips
//! refused, and the crash test (T1): `ledger stress` killed with SIGKILL at random moments.

#![allow(clippy::unwrap_used)] // A panic in a test is a test failure with its message.

use std::collections::{HashMap, HashSet};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use serde_json::Value;

fn jinguan(args: &[&str], stdin: &[u8]) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_jinguan"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

fn json_of(output: &Output) -> Value {
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

struct TempDir(PathBuf);

impl TempDir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("jinguan-cli-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }

    fn str(&self, name: &str) -> String {
        self.path(name).to_str().unwrap().to_owned()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn append(data: &str, id: &str, payload: &[u8]) -> Output {
    jinguan(
        &[
            "ledger",
            "append",
            "--data-dir",
            data,
            "--ledger",
            "customs-5300",
            "--submission-id",
            id,
            "--kind",
            "test",
        ],
        payload,
    )
}

#[test]
fn append_receipts_idempotency_and_conflict_exit_code() {
    let dir = TempDir::new("append");
    let data = dir.str("data");
    let first = json_of(&append(&data, "s1", b"payload"));
    assert_eq!(first["status"], "created");
    assert_eq!(first["seq"], 0);
    let again = json_of(&append(&data, "s1", b"payload"));
    assert_eq!(again["status"], "exists");
    assert_eq!(again["leaf_hash"], first["leaf_hash"]);
    let conflict = append(&data, "s1", b"other payload");
    assert_eq!(conflict.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&conflict.stderr).starts_with("S0001: "));
}

#[test]
fn a_cli_proof_verifies_offline_and_fails_after_any_change() {
    let dir = TempDir::new("proof");
    let data = dir.str("data");
    for i in 0..13 {
        json_of(&append(
            &data,
            &format!("s{i}"),
            format!("payload {i}").as_bytes(),
        ));
    }
    let head = jinguan(
        &[
            "ledger",
            "head",
            "--data-dir",
            &data,
            "--ledger",
            "customs-5300",
        ],
        b"",
    );
    let entry = jinguan(
        &[
            "ledger",
            "entry",
            "--data-dir",
            &data,
            "--ledger",
            "customs-5300",
            "--seq",
            "6",
        ],
        b"",
    );
    let proof = jinguan(
        &[
            "ledger",
            "proof",
            "--data-dir",
            &data,
            "--ledger",
            "customs-5300",
            "--seq",
            "6",
        ],
        b"",
    );
    for (name, output) in [
        ("head.json", &head),
        ("entry.json", &entry),
        ("proof.json", &proof),
    ] {
        assert!(output.status.success());
        std::fs::write(dir.path(name), &output.stdout).unwrap();
    }
    let public = format!("{data}/keys/public.pem");
    let verify = |dir: &TempDir| {
        verify_proof(
            &public,
            &dir.str("head.json"),
            ("--entry", &dir.str("entry.json")),
            &dir.str("proof.json"),
        )
    };
    assert!(
        verify(&dir).status.success(),
        "{}",
        String::from_utf8_lossy(&verify(&dir).stderr)
    );
    // Change every letter and digit of every file, one at a time: each change must fail.
    let mut checked = 0;
    for name in ["head.json", "entry.json", "proof.json"] {
        let original = std::fs::read(dir.path(name)).unwrap();
        for at in 0..original.len() {
            if !original[at].is_ascii_alphanumeric() {
                continue;
            }
            let mut altered = original.clone();
            altered[at] = if altered[at] == b'1' { b'2' } else { b'1' };
            std::fs::write(dir.path(name), &altered).unwrap();
            let output = verify(&dir);
            assert_eq!(
                output.status.code(),
                Some(1),
                "{name} byte {at} changed and still verified"
            );
            checked += 1;
        }
        std::fs::write(dir.path(name), &original).unwrap();
    }
    assert!(checked > 500, "{checked}");
    assert!(verify(&dir).status.success());

    // Consistency between an early head and the latest.
    let old = stdout_of(&[
        "ledger",
        "head",
        "--data-dir",
        &data,
        "--ledger",
        "customs-5300",
        "--tree-size",
        "5",
    ]);
    std::fs::write(dir.path("old.json"), old).unwrap();
    let consistency = stdout_of(&[
        "ledger",
        "proof",
        "--data-dir",
        &data,
        "--ledger",
        "customs-5300",
        "--from",
        "5",
        "--to",
        "13",
    ]);
    std::fs::write(dir.path("consistency.json"), consistency).unwrap();
    let output = verify_proof(
        &public,
        &dir.str("head.json"),
        ("--old-head", &dir.str("old.json")),
        &dir.str("consistency.json"),
    );
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// A small seeded generator for kill times, so a failing run can be replayed.
fn next(state: &mut u64) -> u64 {
    *state ^= *state << 13;
    *state ^= *state >> 7;
    *state ^= *state << 17;
    *state
}

fn journal_lines(path: &Path) -> Vec<Value> {
    let text = std::fs::read_to_string(path).unwrap_or_default();
    // A kill can cut the last line short; a line only counts once complete.
    text.lines()
        .filter_map(|line| serde_json::from_str(line).ok())
        .collect()
}

#[test]
fn t1_kill_9_loses_no_acknowledged_append() {
    let seed = std::env::var("JINGUAN_CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_1234_u64);
    eprintln!("crash test seed {seed} (set JINGUAN_CRASH_SEED to replay)");
    let mut state = seed | 1;
    let dir = TempDir::new("crash");
    let data = dir.str("data");
    let mut acknowledged: Vec<Value> = Vec::new();
    for cycle in 0..20 {
        let journal = dir.path(&format!("journal-{cycle}.jsonl"));
        let mut child = Command::new(env!("CARGO_BIN_EXE_jinguan"))
            .args([
                "ledger",
                "stress",
                "--data-dir",
                &data,
                "--clients",
                "4",
                "--count",
                "1000000",
                "--journal",
                journal.to_str().unwrap(),
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        // The kill lands at a seeded random moment of real running time: that is the test.
        std::thread::sleep(Duration::from_millis(150 + next(&mut state) % 600));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        acknowledged.extend(journal_lines(&journal));

        // The store opens and verifies after every kill.
        let verify = jinguan(&["ledger", "verify", "--data-dir", &data], b"");
        assert!(
            verify.status.success(),
            "cycle {cycle}: {}",
            String::from_utf8_lossy(&verify.stderr)
        );
        let head = json_of(&jinguan(
            &["ledger", "head", "--data-dir", &data, "--ledger", "stress"],
            b"",
        ));
        let size = head["tree_size"].as_u64().unwrap();
        assert!(
            size >= acknowledged.len() as u64,
            "cycle {cycle}: {size} entries < {} acknowledged",
            acknowledged.len()
        );
    }
    assert!(
        acknowledged.len() > 100,
        "the stress runs acknowledged too little: {}",
        acknowledged.len()
    );
    // Every acknowledgement is present, at its sequence, with its leaf hash, exactly once.
    let mut seen_ids = HashSet::new();
    let mut by_seq: HashMap<u64, &Value> = HashMap::new();
    for line in &acknowledged {
        assert!(
            seen_ids.insert(line["submission_id"].as_str().unwrap().to_owned()),
            "{line}"
        );
        assert!(
            by_seq.insert(line["seq"].as_u64().unwrap(), line).is_none(),
            "sequence reused: {line}"
        );
    }
    let mut sample: Vec<&&Value> = by_seq.values().collect();
    sample.sort_by_key(|v| v["seq"].as_u64());
    let step = (sample.len() / 60).max(1);
    let public = format!("{data}/keys/public.pem");
    let head = stdout_of(&["ledger", "head", "--data-dir", &data, "--ledger", "stress"]);
    std::fs::write(dir.path("head.json"), &head).unwrap();
    let final_size = serde_json::from_slice::<Value>(&head).unwrap()["tree_size"]
        .as_u64()
        .unwrap()
        .to_string();
    for line in sample.iter().step_by(step) {
        let seq = line["seq"].as_u64().unwrap().to_string();
        let entry: Value = serde_json::from_slice(&stdout_of(&[
            "ledger",
            "entry",
            "--data-dir",
            &data,
            "--ledger",
            "stress",
            "--seq",
            &seq,
        ]))
        .unwrap();
        assert_eq!(entry["submission_id"], line["submission_id"]);
        assert_eq!(entry["seq"], line["seq"]);
        // The leaf hash the client was given is the hash of the stored entry.
        let stored: jinguan_ledger::Entry = serde_json::from_value(entry).unwrap();
        let leaf = jinguan_ledger::leaf_hash(jinguan_crypto::HashAlgorithm::Sm3, &stored.encode());
        assert_eq!(
            leaf.to_hex(),
            line["leaf_hash"].as_str().unwrap(),
            "seq {seq}"
        );
        // Every head a client saw is consistent with the final one.
        let size = line["tree_size"].as_u64().unwrap().to_string();
        let old = stdout_of(&[
            "ledger",
            "head",
            "--data-dir",
            &data,
            "--ledger",
            "stress",
            "--tree-size",
            &size,
        ]);
        assert_eq!(
            serde_json::from_slice::<Value>(&old).unwrap()["root_hash"],
            line["root_hash"]
        );
        std::fs::write(dir.path("old.json"), &old).unwrap();
        let proof = stdout_of(&[
            "ledger",
            "proof",
            "--data-dir",
            &data,
            "--ledger",
            "stress",
            "--from",
            &size,
            "--to",
            &final_size,
        ]);
        std::fs::write(dir.path("c.json"), &proof).unwrap();
        let check = verify_proof(
            &public,
            &dir.str("head.json"),
            ("--old-head", &dir.str("old.json")),
            &dir.str("c.json"),
        );
        assert!(
            check.status.success(),
            "{}",
            String::from_utf8_lossy(&check.stderr)
        );
    }
}

/// Runs a command that must succeed and returns its standard output.
fn stdout_of(args: &[&str]) -> Vec<u8> {
    let output = jinguan(args, b"");
    assert!(
        output.status.success(),
        "{args:?}: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    output.stdout
}

/// `jinguan ledger verify-proof` with an entry (`--entry`) or an older head (`--old-head`).
fn verify_proof(public: &str, head: &str, (flag, against): (&str, &str), proof: &str) -> Output {
    jinguan(
        &[
            "ledger",
            "verify-proof",
            "--public-key",
            public,
            "--head",
            head,
            flag,
            against,
            "--proof",
            proof,
        ],
        b"",
    )
}
