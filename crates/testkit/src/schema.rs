//! Schema checks for tests: `xmllint --schema` as the oracle, and a small deterministic
//! generator for mutating samples reproducibly.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs `xmllint --noout --schema xsd` over `files` (200 at a time): true where a file
/// validates. Panics when xmllint is missing or gives no verdict on a file: a test that
/// needs the oracle must not pass without it.
pub fn xmllint(xsd: &Path, files: &[PathBuf]) -> Vec<bool> {
    let mut verdicts = Vec::with_capacity(files.len());
    for chunk in files.chunks(200) {
        let output = Command::new("xmllint")
            .arg("--noout")
            .arg("--schema")
            .arg(xsd)
            .args(chunk)
            .output()
            .unwrap_or_else(|e| panic!("xmllint must be installed (libxml2-utils): {e}"));
        let stderr = String::from_utf8_lossy(&output.stderr);
        for file in chunk {
            let name = file.to_string_lossy();
            let ok = stderr.lines().any(|l| l == format!("{name} validates"));
            let failed = stderr
                .lines()
                .any(|l| l == format!("{name} fails to validate"));
            assert!(ok != failed, "xmllint gave no verdict on {name}: {stderr}");
            verdicts.push(ok);
        }
    }
    verdicts
}

/// A small linear congruential generator: mutation tests must be reproducible without a
/// seed to log.
#[derive(Debug, Clone)]
pub struct Lcg(pub u64);

impl Lcg {
    /// A number below `n` (`n` > 0).
    pub fn next(&mut self, n: usize) -> usize {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        usize::try_from((self.0 >> 33) % n.max(1) as u64).unwrap_or(0)
    }
}
