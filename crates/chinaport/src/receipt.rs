//! DEC_RESULT, the declaration status receipt (报关单回执) a declarant's software reads.
//!
//! One element per field, no namespace:
//!
//! ```xml
//! <DEC_RESULT>
//!   <CUS_CIQ_NO>…</CUS_CIQ_NO>      统一编号 (the platform's sequence number)
//!   <ENTRY_ID>…</ENTRY_ID>          海关编号, once accepted
//!   <NOTICE_DATE>2026-11-27T10:15:00</NOTICE_DATE>
//!   <CHANNEL>7</CHANNEL>            status code, see the receipt-channel code table
//!   <NOTE>…</NOTE>
//!   <CUSTOM_MASTER>5300</CUSTOM_MASTER>
//!   <I_E_DATE>20261127</I_E_DATE>
//!   <D_DATE>20261127</D_DATE>
//! </DEC_RESULT>
//! ```
//!
//! `NOTICE_DATE` is `yyyy-MM-ddTHH:mm:ss` as the field notes give it; the two dates are
//! written `yyyyMMdd` like the declaration's own. Receipts may arrive repeated and out of
//! order: a reader folds them by `NOTICE_DATE`, it does not trust arrival order.

use chrono::{NaiveDate, NaiveDateTime};
use serde::{Deserialize, Serialize};

use crate::xml::{self, Element, Limits, XmlError};

/// A status receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecResult {
    /// 统一编号: the sequence number the platform gave the submission.
    pub seq_no: String,
    /// 海关编号, once the declaration is accepted.
    pub entry_id: Option<String>,
    /// When the status was reached.
    pub notice_date: NaiveDateTime,
    /// Status code (`CHANNEL`), case-sensitive.
    pub channel: String,
    /// Text for the declarant: the reasons, the findings.
    pub note: String,
    /// Declaring customs.
    pub customs_master: Option<String>,
    /// Import or export date.
    pub ie_date: Option<NaiveDate>,
    /// Declaration date.
    pub d_date: Option<NaiveDate>,
}

const NOTICE_FORMAT: &str = "%Y-%m-%dT%H:%M:%S";
const DATE_FORMAT: &str = "%Y%m%d";

impl DecResult {
    /// The receipt as XML (UTF-8, with its declaration).
    pub fn write(&self) -> String {
        let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<DEC_RESULT>\n");
        let mut field = |name: &str, value: Option<String>| {
            if let Some(value) = value {
                out.push_str(&format!("  <{name}>{}</{name}>\n", xml::escape(&value)));
            }
        };
        field("CUS_CIQ_NO", Some(self.seq_no.clone()));
        field("ENTRY_ID", self.entry_id.clone());
        field(
            "NOTICE_DATE",
            Some(self.notice_date.format(NOTICE_FORMAT).to_string()),
        );
        field("CHANNEL", Some(self.channel.clone()));
        field("NOTE", Some(self.note.clone()));
        field("CUSTOM_MASTER", self.customs_master.clone());
        field(
            "I_E_DATE",
            self.ie_date.map(|d| d.format(DATE_FORMAT).to_string()),
        );
        field(
            "D_DATE",
            self.d_date.map(|d| d.format(DATE_FORMAT).to_string()),
        );
        out.push_str("</DEC_RESULT>\n");
        out
    }

    /// Reads a receipt. Malformed XML, another root, a missing `CUS_CIQ_NO`, `NOTICE_DATE` or
    /// `CHANNEL`, or a date that is not one are errors (`X0001`–`X0006` from the reader,
    /// `X0101` here), never a panic.
    pub fn parse(bytes: &[u8]) -> Result<Self, XmlError> {
        let root = xml::parse(bytes, Limits::default())?;
        let bad = |line: usize, message: String| XmlError {
            code: "X0101",
            line,
            column: 1,
            message,
        };
        if root.name != "DEC_RESULT" {
            return Err(bad(
                root.line,
                format!("root is <{}>, not <DEC_RESULT>", root.name),
            ));
        }
        let text = |name: &str| -> Option<(usize, String)> {
            root.child(name)
                .map(|e: &Element| (e.line, e.text.trim().to_owned()))
                .filter(|(_, t)| !t.is_empty())
        };
        let required =
            |name: &str| text(name).ok_or_else(|| bad(root.line, format!("<{name}> is missing")));
        let date = |name: &str| -> Result<Option<NaiveDate>, XmlError> {
            text(name)
                .map(|(line, t)| {
                    NaiveDate::parse_from_str(&t, DATE_FORMAT)
                        .map_err(|_| bad(line, format!("<{name}> {t:?} is not yyyyMMdd")))
                })
                .transpose()
        };
        let (notice_line, notice) = required("NOTICE_DATE")?;
        Ok(Self {
            seq_no: required("CUS_CIQ_NO")?.1,
            entry_id: text("ENTRY_ID").map(|(_, t)| t),
            notice_date: NaiveDateTime::parse_from_str(&notice, NOTICE_FORMAT).map_err(|_| {
                bad(
                    notice_line,
                    format!("<NOTICE_DATE> {notice:?} is not yyyy-MM-ddTHH:mm:ss"),
                )
            })?,
            channel: required("CHANNEL")?.1,
            note: text("NOTE").map(|(_, t)| t).unwrap_or_default(),
            customs_master: text("CUSTOM_MASTER").map(|(_, t)| t),
            ie_date: date("I_E_DATE")?,
            d_date: date("D_DATE")?,
        })
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)] // A panic in a test is a test failure with its message.
mod tests {
    use super::*;

    fn receipt() -> DecResult {
        DecResult {
            seq_no: "Z11000001313617428".into(),
            entry_id: Some("530020261000000042".into()),
            notice_date: "2026-11-27T10:15:00".parse().unwrap(),
            channel: "7".into(),
            note: "申报成功 <accepted> & numbered".into(),
            customs_master: Some("5300".into()),
            ie_date: None,
            d_date: Some(NaiveDate::from_ymd_opt(2026, 11, 27).unwrap()),
        }
    }

    #[test]
    fn writes_and_reads_back() {
        let written = receipt().write();
        assert!(written.contains("<NOTICE_DATE>2026-11-27T10:15:00</NOTICE_DATE>"));
        assert!(written.contains("<D_DATE>20261127</D_DATE>"));
        assert!(written.contains("&lt;accepted&gt; &amp; numbered"));
        assert!(!written.contains("I_E_DATE"));
        assert_eq!(DecResult::parse(written.as_bytes()).unwrap(), receipt());
    }

    #[test]
    fn refuses_what_is_not_a_receipt() {
        let code = |text: &str| DecResult::parse(text.as_bytes()).unwrap_err().code;
        assert_eq!(code("<DecMessage/>"), "X0101");
        assert_eq!(
            code("<DEC_RESULT><CHANNEL>7</CHANNEL></DEC_RESULT>"),
            "X0101"
        );
        let bad_date = receipt()
            .write()
            .replace("2026-11-27T10:15:00", "27/11/2026");
        assert_eq!(code(&bad_date), "X0101");
        assert_eq!(code("<DEC_RESULT>"), "X0001");
    }
}
