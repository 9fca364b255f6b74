//! CUSRES, customs' response to a declaration, written from a clearance outcome.
//!
//! One CUSRES per receipt (D96B):
//!
//! | segment | carries |
//! |---|---|
//! | `BGM+962+<entry id>+9` | accepted (`962` document response); `963` error response when rejected, `961` general response for a later step (release, inspection, payment …) |
//! | `DTM+137:<CCYYMMDDHHMM>:203` | when customs decided |
//! | `FTX+ACB+++<note>` | the note (reasons, or errors in words), 70 characters a component |
//! | `LOC+22+<customs>` | the customs office |
//! | `GIS+<code>:CHN:ZZZ` | China's receipt status code (the `DEC_RESULT` `CHANNEL` code) |
//! | `GIS+<state>:JGS:ZZZ` | the declaration's state after this step, coded in three letters ([`STATES`]: `ACC` accepted, `REL` released …) |
//! | `GIS+<G\|Y\|R>:JGC:ZZZ` | the selectivity channel (green, yellow, red) when decided |
//! | `RFF+ABE:<submission id>` | the declarant's reference, as sent |
//! | `RFF+ABT:<entry id>` | the customs declaration number |
//! | `ERP+1` `ERC+<code>::ZZZ` `FTX+AAO+++<message>` | one group per error of a rejection |
//! | `TAX+5+CUD` / `TAX+7+VAT` / `TAX+7+EXC` + `MOA+55`/`124:<amount>:CNY` | duty, VAT and consumption tax assessed |

use rust_decimal::Decimal;

use crate::segments::{chunks, els, Seg};

/// The message identifier written: `CUSRES:D:96B:UN`.
pub fn identifier() -> [String; 4] {
    ["CUSRES", "D", "96B", "UN"].map(str::to_owned)
}

/// The declaration's states and their three-letter codes (`GIS` 7365 is `an..3`).
pub const STATES: &[(&str, &str)] = &[
    ("received", "RCV"),
    ("rejected", "REJ"),
    ("accepted", "ACC"),
    ("assessed", "ASD"),
    ("selected", "SEL"),
    ("reviewed", "REV"),
    ("inspected", "INS"),
    ("awaiting_payment", "AWP"),
    ("paid", "PAI"),
    ("guaranteed", "GUA"),
    ("released", "REL"),
    ("exit_confirmed", "EXC"),
    ("cancelled", "CAN"),
    ("held", "HLD"),
];

/// The channels and their codes.
const CHANNELS: &[(&str, &str)] = &[("green", "G"), ("yellow", "Y"), ("red", "R")];

fn code_of<'a>(table: &'a [(&str, &'a str)], word: &str) -> Option<&'a str> {
    table.iter().find(|(w, _)| *w == word).map(|(_, c)| *c)
}

fn word_of<'a>(table: &'a [(&'a str, &str)], code: &str) -> Option<&'a str> {
    table.iter().find(|(_, c)| *c == code).map(|(w, _)| *w)
}

/// What customs answers, as the CUSRES carries it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Response {
    /// The entry id (customs declaration number).
    pub entry_id: String,
    /// The declarant's reference (its submission id).
    pub submission_id: String,
    /// Customs office (4 digits).
    pub customs: String,
    /// `accepted`, `rejected`, `released` … (the declaration's state after this step).
    pub status: String,
    /// Whether this answers the declaration itself (else a later step).
    pub first: bool,
    /// China's receipt status code, if any.
    pub receipt_code: String,
    /// Selectivity channel (`green`, `yellow`, `red`), when decided.
    pub channel: Option<String>,
    /// When, `CCYYMMDDHHMM` (China Standard Time).
    pub time: String,
    /// The note.
    pub note: String,
    /// Errors of a rejection: code and message.
    pub errors: Vec<(String, String)>,
    /// Duty, consumption tax and VAT assessed (CNY).
    pub taxes: Option<(Decimal, Decimal, Decimal)>,
}

/// The body of the CUSRES (between `UNH` and `UNT`).
pub fn write(response: &Response) -> Vec<Seg> {
    let document = if response.status == "rejected" {
        "963"
    } else if response.first {
        "962"
    } else {
        "961"
    };
    let mut out = vec![Seg::new("BGM", els(&[document, &response.entry_id, "9"]))];
    if !response.time.is_empty() {
        out.push(Seg::new(
            "DTM",
            vec![vec!["137".into(), response.time.clone(), "203".into()]],
        ));
    }
    for piece in chunks(&response.note, 350).iter().take(9) {
        out.push(Seg::new(
            "FTX",
            vec![vec!["ACB".into()], vec![], vec![], chunks(piece, 70)],
        ));
    }
    if !response.customs.is_empty() {
        out.push(Seg::new("LOC", els(&["22", &response.customs])));
    }
    let gis = |code: &str, list: &str| {
        Seg::new(
            "GIS",
            vec![vec![code.to_owned(), list.to_owned(), "ZZZ".to_owned()]],
        )
    };
    if !response.receipt_code.is_empty() {
        out.push(gis(&response.receipt_code, "CHN"));
    }
    if let Some(state) = code_of(STATES, &response.status) {
        out.push(gis(state, "JGS"));
    }
    if let Some(channel) = response
        .channel
        .as_deref()
        .and_then(|c| code_of(CHANNELS, c))
    {
        out.push(gis(channel, "JGC"));
    }
    if !response.submission_id.is_empty() {
        out.push(Seg::new(
            "RFF",
            vec![vec!["ABE".into(), response.submission_id.clone()]],
        ));
    }
    if !response.entry_id.is_empty() {
        out.push(Seg::new(
            "RFF",
            vec![vec!["ABT".into(), response.entry_id.clone()]],
        ));
    }
    for (code, message) in response.errors.iter().take(99) {
        out.push(Seg::new("ERP", els(&["1"])));
        // Jinguan's error codes: a list of its own (agency mutually defined).
        out.push(Seg::new(
            "ERC",
            vec![vec![code.clone(), String::new(), "ZZZ".into()]],
        ));
        out.push(Seg::new(
            "FTX",
            vec![
                vec!["AAO".into()],
                vec![],
                vec![],
                chunks(message, 70).into_iter().take(5).collect(),
            ],
        ));
    }
    if let Some((duty, consumption, vat)) = response.taxes {
        for (function, kind, qualifier, amount) in [
            ("5", "CUD", "55", duty),
            ("7", "EXC", "124", consumption),
            ("7", "VAT", "124", vat),
        ] {
            out.push(Seg::new("TAX", els(&[function, kind])));
            out.push(Seg::new(
                "MOA",
                vec![vec![qualifier.into(), amount.to_string(), "CNY".into()]],
            ));
        }
    }
    out
}

/// What a CUSRES says, read back (a broker's view, and the tests').
pub fn read(segments: &[Seg]) -> Response {
    let mut response = Response::default();
    let mut taxes = (Decimal::ZERO, Decimal::ZERO, Decimal::ZERO);
    let mut has_taxes = false;
    let mut tax = String::new();
    for seg in segments {
        match (seg.tag.as_str(), seg.get(0, 0)) {
            ("BGM", document) => {
                response.first = document != "961";
                response.entry_id = seg.get(1, 0).to_owned();
            }
            ("DTM", "137") => response.time = seg.get(0, 1).to_owned(),
            ("FTX", "ACB") => {
                response
                    .note
                    .push_str(&seg.elements.get(3).map(|c| c.concat()).unwrap_or_default());
            }
            ("FTX", "AAO") => {
                if let Some(last) = response.errors.last_mut() {
                    last.1 = seg.elements.get(3).map(|c| c.concat()).unwrap_or_default();
                }
            }
            ("LOC", "22") => response.customs = seg.get(1, 0).to_owned(),
            ("GIS", code) => match seg.get(0, 1) {
                "CHN" => response.receipt_code = code.to_owned(),
                "JGS" => response.status = word_of(STATES, code).unwrap_or(code).to_owned(),
                "JGC" => {
                    response.channel = Some(word_of(CHANNELS, code).unwrap_or(code).to_owned());
                }
                _ => {}
            },
            ("RFF", "ABE") => response.submission_id = seg.get(0, 1).to_owned(),
            ("ERC", code) => response.errors.push((code.to_owned(), String::new())),
            ("TAX", _) => tax = seg.get(1, 0).to_owned(),
            ("MOA", _) => {
                if let Ok(amount) = seg.get(0, 1).parse::<Decimal>() {
                    has_taxes = true;
                    match tax.as_str() {
                        "CUD" => taxes.0 = amount,
                        "EXC" => taxes.1 = amount,
                        "VAT" => taxes.2 = amount,
                        _ => {}
                    }
                }
            }
            _ => {}
        }
    }
    if has_taxes {
        response.taxes = Some(taxes);
    }
    response
}
