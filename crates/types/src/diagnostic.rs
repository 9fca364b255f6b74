//! Diagnostics: what a parser or checker noticed, without failing.

use serde::{Deserialize, Serialize};

/// How serious a diagnostic is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Something was normalised (a legacy code mapped to ISO); nothing is wrong.
    Info,
    /// Suspicious but usable.
    Warning,
    /// The value is wrong; a declaration carrying it would be rejected.
    Error,
}

/// A located, coded remark about an input. Codes are stable API.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Diagnostic {
    /// Severity.
    pub severity: Severity,
    /// Stable code, e.g. `D0301` (unknown country code).
    pub code: String,
    /// Where: a path such as `DecHead/TradeCountry` or `DecList[2]/CodeTS`.
    pub path: String,
    /// Human-readable explanation, quoting the offending value.
    pub message: String,
}

impl Diagnostic {
    /// Builds a diagnostic.
    pub fn new(
        severity: Severity,
        code: impl Into<String>,
        path: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Self {
            severity,
            code: code.into(),
            path: path.into(),
            message: message.into(),
        }
    }
}
