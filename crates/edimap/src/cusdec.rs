//! CUSDEC, the customs declaration message, and the canonical declaration.
//!
//! The table of which segment and qualifier feeds which field is `docs/edifact-mapping.md`;
//! in short: `BGM` gives the direction (929 import, 830 export), the document type and the
//! declarant's reference; `LOC`, `DTM`, `MEA`, `RFF`, `PAC`, `TDT`, `NAD`, `EQD` and `DOC` the
//! head's places, dates, weights, references, packages, conveyance, parties, containers and
//! documents; each goods item is a `CST` group (item number and commodity code) with its
//! description (`FTX+AAA`), countries (`LOC+27`, `LOC+28`) and value (`MOA+38`).
//!
//! Two rules keep a round trip exact:
//! - Fields with no UN home (China's trade mode, levy nature, entry/exit port, the lists a
//!   DecMessage carries …) travel as compact JSON in `FTX+ZZZ++JINGUAN+…` (text subject
//!   "mutually defined", reference `JINGUAN`), 70 characters per component, five per segment.
//! - A segment the mapping does not name, or names but with more than the mapping writes
//!   (a code list agency, an address), is kept verbatim in `other_fields` under
//!   `EDIFACT:<slot>` (or `EDIFACT:<slot>=<field>` when it also gave that field) and written
//!   back in its slot; when the field still has the value the segment gave, the kept segment
//!   is written instead of the mapped one.

use jinguan_types::declaration::{Declaration, GoodsItem};
use jinguan_types::IeFlag;
use serde_json::{Map, Value};

use crate::segments::{chunks, els, Finding, Seg};
use crate::Error;

/// The message identifier written: `CUSDEC:D:96B:UN`.
pub fn identifier() -> [String; 4] {
    ["CUSDEC", "D", "96B", "UN"].map(str::to_owned)
}

/// What a CUSDEC gave.
#[derive(Debug, Clone, PartialEq)]
pub struct Read {
    /// The declaration.
    pub declaration: Declaration,
    /// The message function (`BGM` 1225: 9 original, 1 cancellation, 5 replace …).
    pub function: String,
    /// Values that did not fit their fields (their segments are kept verbatim).
    pub findings: Vec<Finding>,
}

/// Key prefix of kept segments.
const KEPT: &str = "EDIFACT:";
/// The reference marking Jinguan's extension text.
const EXTENSION: &str = "JINGUAN";

/// Header slots in D96B order: plain segments, then groups by their trigger.
const HEAD_SLOTS: &[&str] = &[
    "CST", "LOC", "DTM", "GIS", "FII", "MEA", "EQD", "SEL", "FTX", "RFF", "PAC", "TDT", "DOC",
    "NAD", "TOD", "MOA",
];
/// Header groups: trigger and the segments that may follow it in its group.
const HEAD_GROUPS: &[(&str, &[&str])] = &[
    ("RFF", &["DTM"]),
    ("PAC", &["PCI", "FTX"]),
    ("TDT", &["TPL"]),
    ("DOC", &["DTM", "LOC"]),
    ("NAD", &["RFF", "CTA", "COM"]),
    ("TOD", &["LOC", "FTX"]),
    ("MOA", &["CUX", "DTM"]),
];
/// Item (SG30) slots in D96B order.
const ITEM_SLOTS: &[&str] = &[
    "FTX", "LOC", "DTM", "MEA", "NAD", "TDT", "PAC", "MOA", "RFF", "DOC", "TOD", "GDS", "GIS",
    "TAX", "QVR", "GIR",
];
/// Item groups.
const ITEM_GROUPS: &[(&str, &[&str])] = &[
    ("PAC", &["PCI", "FTX"]),
    ("MOA", &["CUX", "DTM"]),
    ("RFF", &["DTM", "GIN", "MOA", "IMD", "FTX"]),
    ("DOC", &["DTM", "LOC", "NAD"]),
    ("TOD", &["LOC", "FTX"]),
    ("GDS", &["FTX"]),
    ("GIS", &["PCD", "DTM", "RFF"]),
    ("TAX", &["MOA", "GIS"]),
    ("QVR", &["QTY", "RFF", "DTM"]),
    (
        "GIR",
        &[
            "GIS", "NAD", "MEA", "MOA", "CUX", "DTM", "TAX", "DOC", "LOC",
        ],
    ),
];

/// Slots segments fall in, tracked while reading a section.
struct Slotter {
    groups: &'static [(&'static str, &'static [&'static str])],
    open: Option<&'static str>,
}

impl Slotter {
    fn slot(&mut self, tag: &str) -> String {
        if let Some(&(trigger, _)) = self.groups.iter().find(|(t, _)| *t == tag) {
            self.open = Some(trigger);
            return trigger.to_owned();
        }
        if let Some(open) = self.open {
            let members = self
                .groups
                .iter()
                .find(|(t, _)| *t == open)
                .map_or(&[][..], |(_, m)| *m);
            if members.contains(&tag) {
                return open.to_owned();
            }
        }
        self.open = None;
        tag.to_owned()
    }
}

fn date_in(seg: &Seg) -> Option<String> {
    let (value, format) = (seg.get(0, 1), seg.get(0, 2));
    let ok = value.len() == 8
        && value.bytes().all(|b| b.is_ascii_digit())
        && (format.is_empty() || format == "102");
    ok.then(|| format!("{}-{}-{}", &value[..4], &value[4..6], &value[6..]))
        .filter(|d| d.parse::<chrono::NaiveDate>().is_ok())
}

fn date_out(qualifier: &str, date: &str) -> Seg {
    Seg::new(
        "DTM",
        vec![vec![qualifier.into(), date.replace('-', ""), "102".into()]],
    )
}

fn number_in(text: &str) -> Option<String> {
    let text = text.replace(',', ".");
    text.parse::<rust_decimal::Decimal>()
        .ok()
        .map(|d| d.to_string())
}

fn party_in(seg: &Seg) -> Value {
    let mut party = Map::new();
    if seg.has(1) {
        party.insert("customs_code".into(), seg.get(1, 0).into());
    }
    let name: String = seg.elements.get(3).map(|c| c.concat()).unwrap_or_default();
    if !name.is_empty() {
        party.insert("name".into(), name.into());
    }
    Value::Object(party)
}

fn party_out(role: &str, party: &Value) -> Seg {
    let text = |k: &str| party.get(k).and_then(Value::as_str).unwrap_or("");
    let code = text("customs_code");
    let mut elements = vec![
        vec![role.to_owned()],
        if code.is_empty() {
            vec![]
        } else {
            // China customs' registration code: a list of its own, agency mutually defined.
            vec![code.to_owned(), "CUS".into(), "ZZZ".into()]
        },
        vec![],
        chunks(text("name"), 35),
    ];
    while elements.last().is_some_and(Vec::is_empty) {
        elements.pop();
    }
    Seg::new("NAD", elements)
}

fn overseas_in(seg: &Seg) -> Value {
    let mut party = Map::new();
    let joined = |e: usize| seg.elements.get(e).map(|c| c.concat()).unwrap_or_default();
    for (key, value) in [
        ("code", seg.get(1, 0).to_owned()),
        ("name_cn", joined(2)),
        ("name_en", joined(3)),
        ("address", joined(4)),
    ] {
        if !value.is_empty() {
            party.insert(key.into(), value.into());
        }
    }
    Value::Object(party)
}

fn overseas_out(role: &str, party: &Value) -> Seg {
    let text = |k: &str| party.get(k).and_then(Value::as_str).unwrap_or("");
    let code = text("code");
    let mut elements = vec![
        vec![role.to_owned()],
        if code.is_empty() {
            vec![]
        } else {
            vec![code.to_owned()]
        },
        chunks(text("name_cn"), 35),
        chunks(text("name_en"), 35),
        chunks(text("address"), 35),
    ];
    while elements.last().is_some_and(Vec::is_empty) {
        elements.pop();
    }
    Seg::new("NAD", elements)
}

/// A mapped header segment: which field of the head it feeds, given the direction.
fn head_field(seg: &Seg, import: bool) -> Option<(&'static str, Value)> {
    let q = seg.get(0, 0);
    let plain = |v: &str| (!v.is_empty()).then(|| Value::String(v.to_owned()));
    match (seg.tag.as_str(), q) {
        ("LOC", "22") => Some(("declaring_customs", plain(seg.get(1, 0))?)),
        ("LOC", "41") if import => Some(("ie_port", plain(seg.get(1, 0))?)),
        ("LOC", "42") if !import => Some(("ie_port", plain(seg.get(1, 0))?)),
        ("LOC", "9") => Some(("departure_port", plain(seg.get(1, 0))?)),
        ("LOC", "8") => Some(("destination_port", plain(seg.get(1, 0))?)),
        ("LOC", "14") => Some(("goods_place", plain(seg.get(1, 0))?)),
        ("LOC", "35") if import => Some(("trade_country", plain(seg.get(1, 0))?)),
        ("LOC", "28") if !import => Some(("trade_country", plain(seg.get(1, 0))?)),
        ("DTM", "137") => Some(("declaration_date", date_in(seg)?.into())),
        ("DTM", "132") if import => Some(("ie_date", date_in(seg)?.into())),
        ("DTM", "133") if !import => Some(("ie_date", date_in(seg)?.into())),
        ("MEA", "WT") if seg.get(2, 0) == "KGM" || seg.get(2, 0) == "KG" => {
            let field = match seg.get(1, 0) {
                "AAD" => "gross_weight_kg",
                "AAA" => "net_weight_kg",
                _ => return None,
            };
            Some((field, number_in(seg.get(2, 1))?.into()))
        }
        ("RFF", "BM") => Some(("bill_of_lading", plain(seg.get(0, 1))?)),
        ("RFF", "CT") => Some(("contract_no", plain(seg.get(0, 1))?)),
        ("RFF", "IP") => Some(("licence_no", plain(seg.get(0, 1))?)),
        ("TDT", _) => Some(("transport_means", plain(seg.get(7, 3))?)),
        ("NAD", "CN") if import => Some(("consignee", party_in(seg))),
        ("NAD", "CZ") if !import => Some(("consignee", party_in(seg))),
        ("NAD", "CZ") => Some(("overseas_consignor", overseas_in(seg))),
        ("NAD", "CN") => Some(("overseas_consignee", overseas_in(seg))),
        ("NAD", "UC") if import => Some(("owner", party_in(seg))),
        ("NAD", "MF") if !import => Some(("owner", party_in(seg))),
        ("NAD", "DT") => Some(("agent", party_in(seg))),
        ("NAD", "AE") => Some(("input_unit", party_in(seg))),
        _ => None,
    }
}

/// The segment a head field is written as.
fn head_segment(field: &str, value: &Value, import: bool) -> Option<Seg> {
    let text = value.as_str().unwrap_or("");
    let loc = |q: &str| Seg::new("LOC", els(&[q, text]));
    Some(match field {
        "declaring_customs" => loc("22"),
        "ie_port" => loc(if import { "41" } else { "42" }),
        "departure_port" => loc("9"),
        "destination_port" => loc("8"),
        "goods_place" => loc("14"),
        "trade_country" => loc(if import { "35" } else { "28" }),
        "declaration_date" => date_out("137", text),
        "ie_date" => date_out(if import { "132" } else { "133" }, text),
        "gross_weight_kg" | "net_weight_kg" => Seg::new(
            "MEA",
            vec![
                vec!["WT".into()],
                vec![if field == "gross_weight_kg" {
                    "AAD"
                } else {
                    "AAA"
                }
                .into()],
                vec!["KGM".into(), text.into()],
            ],
        ),
        "bill_of_lading" | "contract_no" | "licence_no" => {
            let q = match field {
                "bill_of_lading" => "BM",
                "contract_no" => "CT",
                _ => "IP",
            };
            Seg::new("RFF", vec![vec![q.into(), text.into()]])
        }
        "transport_means" => Seg::new(
            "TDT",
            vec![
                vec!["12".into()],
                vec![],
                vec![],
                vec![],
                vec![],
                vec![],
                vec![],
                vec![String::new(), String::new(), String::new(), text.into()],
            ],
        ),
        "consignee" => party_out(if import { "CN" } else { "CZ" }, value),
        "owner" => party_out(if import { "UC" } else { "MF" }, value),
        "agent" => party_out("DT", value),
        "input_unit" => party_out("AE", value),
        "overseas_consignor" if import => overseas_out("CZ", value),
        "overseas_consignee" if !import => overseas_out("CN", value),
        _ => return None,
    })
}

/// Whether a party's every field has a place in its `NAD` (else the extension carries it).
fn fits(field: &str, value: &Value) -> bool {
    let allowed: &[&str] = match field {
        "consignee" | "owner" | "agent" | "input_unit" => &["customs_code", "name"],
        "overseas_consignor" | "overseas_consignee" => &["code", "name_cn", "name_en", "address"],
        _ => return true,
    };
    value.as_object().is_some_and(|party| {
        party.iter().all(|(k, v)| {
            allowed.contains(&k.as_str()) && v.as_str().is_some_and(|t| t.chars().count() <= 175)
        })
    })
}

/// Head fields in the order their segments are written (within a slot).
const HEAD_FIELDS: &[&str] = &[
    "declaring_customs",
    "ie_port",
    "departure_port",
    "destination_port",
    "trade_country",
    "goods_place",
    "declaration_date",
    "ie_date",
    "gross_weight_kg",
    "net_weight_kg",
    "bill_of_lading",
    "contract_no",
    "licence_no",
    "transport_means",
    "consignee",
    "overseas_consignor",
    "overseas_consignee",
    "owner",
    "agent",
    "input_unit",
];

fn item_field(seg: &Seg) -> Option<Vec<(&'static str, Value)>> {
    let plain = |v: &str| Value::String(v.to_owned());
    match (seg.tag.as_str(), seg.get(0, 0)) {
        ("FTX", "AAA") => {
            let name: String = seg.elements.get(3).map(|c| c.concat())?;
            Some(vec![("name", plain(&name))])
        }
        ("LOC", "27") if seg.has(1) => Some(vec![("origin_country", plain(seg.get(1, 0)))]),
        ("LOC", "28") if seg.has(1) => Some(vec![("destination_country", plain(seg.get(1, 0)))]),
        ("MOA", "38") => {
            let mut out = vec![("total_price", number_in(seg.get(0, 1))?.into())];
            if !seg.get(0, 2).is_empty() {
                out.push(("currency", plain(seg.get(0, 2))));
            }
            Some(out)
        }
        _ => None,
    }
}

/// The slot and segment an item field is written as (`currency` goes with `total_price`).
fn item_segment(field: &str, item: &Map<String, Value>) -> Option<Seg> {
    let text = |k: &str| item.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    Some(match field {
        "name" => Seg::new(
            "FTX",
            vec![
                vec!["AAA".into()],
                vec![],
                vec![],
                chunks(&text("name"), 70),
            ],
        ),
        "origin_country" => Seg::new("LOC", els(&["27", &text("origin_country")])),
        "destination_country" => Seg::new("LOC", els(&["28", &text("destination_country")])),
        "total_price" => {
            let mut c = vec!["38".to_owned(), text("total_price")];
            if item.contains_key("currency") {
                c.push(text("currency"));
            }
            Seg::new("MOA", vec![c])
        }
        _ => return None,
    })
}

const ITEM_FIELDS: &[&str] = &[
    "name",
    "origin_country",
    "destination_country",
    "total_price",
];

/// The extension text, as FTX segments (at most `limit`).
fn extension_out(object: &Map<String, Value>, limit: usize) -> Result<Vec<Seg>, Error> {
    if object.is_empty() {
        return Ok(Vec::new());
    }
    let json = Value::Object(object.clone()).to_string();
    let pieces = chunks(&json, 70);
    let segments: Vec<Seg> = pieces
        .chunks(5)
        .map(|five| {
            Seg::new(
                "FTX",
                vec![
                    vec!["ZZZ".into()],
                    vec![],
                    vec![EXTENSION.into()],
                    five.to_vec(),
                ],
            )
        })
        .collect();
    if segments.len() > limit {
        return Err(Error::TooLong(format!(
            "{} characters of fields with no UN home need {} FTX segments; {limit} fit here",
            json.len(),
            segments.len()
        )));
    }
    Ok(segments)
}

fn is_extension(seg: &Seg) -> bool {
    seg.tag == "FTX" && seg.get(0, 0) == "ZZZ" && seg.get(2, 0) == EXTENSION
}

/// Merges `extra` into `into`, the extension's values winning (they are what was written).
fn merge(into: &mut Map<String, Value>, extra: Map<String, Value>) {
    for (k, v) in extra {
        into.insert(k, v);
    }
}

/// An item being read: its fields, its kept segments, its extension text.
type ItemRead = (Map<String, Value>, Vec<(String, Value)>, String);

/// Reads a CUSDEC's segments (`UNH` to `UNT`, as [`crate::segments::read_message`] gives).
pub fn read(segments: &[Seg]) -> Read {
    let mut findings = Vec::new();
    let mut head = Map::new();
    let mut head_kept: Vec<(String, Value)> = Vec::new();
    let mut head_extension = String::new();
    let mut top = Map::new();
    let mut items: Vec<ItemRead> = Vec::new();
    let mut function = String::new();
    let mut import = true;
    #[derive(PartialEq)]
    enum Section {
        Head,
        Detail,
        Summary,
    }
    let mut section = Section::Head;
    let mut head_slots = Slotter {
        groups: HEAD_GROUPS,
        open: None,
    };
    let mut item_slots = Slotter {
        groups: ITEM_GROUPS,
        open: None,
    };
    let body = segments.iter().filter(|s| s.tag != "UNH" && s.tag != "UNT");
    for seg in body {
        match (seg.tag.as_str(), seg.get(0, 0)) {
            ("UNS", "D") => {
                section = Section::Detail;
                continue;
            }
            ("UNS", "S") => {
                section = Section::Summary;
                continue;
            }
            _ => {}
        }
        match section {
            Section::Head => {
                if seg.tag == "BGM" {
                    let document = seg.get(0, 0);
                    match document {
                        "929" => {
                            head.insert("ie_flag".into(), "I".into());
                        }
                        "830" => {
                            head.insert("ie_flag".into(), "E".into());
                            import = false;
                        }
                        _ => {}
                    }
                    if !seg.get(0, 3).is_empty() {
                        head.insert("declaration_type".into(), seg.get(0, 3).into());
                    }
                    if !seg.get(1, 0).is_empty() {
                        head.insert("pre_entry_id".into(), seg.get(1, 0).into());
                    }
                    function = seg.get(2, 0).to_owned();
                    let rebuilt = bgm(&head, &function, document);
                    if rebuilt != *seg {
                        head_kept.push((format!("{KEPT}BGM"), seg.to_text().into()));
                    }
                    continue;
                }
                if is_extension(seg) {
                    head_extension
                        .push_str(&seg.elements.get(3).map_or(String::new(), |c| c.concat()));
                    continue;
                }
                let slot = head_slots.slot(&seg.tag);
                keep_or_map(
                    seg,
                    &slot,
                    head_field(seg, import),
                    |field, value| head_segment(field, value, import),
                    &mut head,
                    &mut head_kept,
                    &mut top,
                );
            }
            Section::Detail => {
                if seg.tag == "CST" {
                    item_slots.open = None;
                    let mut item = Map::new();
                    let mut kept = Vec::new();
                    let seq = seg.get(0, 0);
                    if let Ok(n) = seq.parse::<u32>() {
                        item.insert("seq".into(), n.into());
                    }
                    if !seg.get(1, 0).is_empty() {
                        item.insert("hs_code".into(), seg.get(1, 0).into());
                    }
                    if cst(&item) != *seg {
                        kept.push((format!("{KEPT}CST"), seg.to_text().into()));
                    }
                    items.push((item, kept, String::new()));
                    continue;
                }
                let Some((item, kept, extension)) = items.last_mut() else {
                    // Detail groups before the first item (DMS, LIN …): the head keeps them.
                    head_kept.push((format!("{KEPT}DETAIL"), seg.to_text().into()));
                    continue;
                };
                if is_extension(seg) {
                    extension.push_str(&seg.elements.get(3).map_or(String::new(), |c| c.concat()));
                    continue;
                }
                let slot = item_slots.slot(&seg.tag);
                match item_field(seg) {
                    Some(fields) => {
                        let mut as_map = Map::new();
                        for (k, v) in &fields {
                            as_map.insert((*k).to_owned(), v.clone());
                        }
                        let first = fields[0].0;
                        let taken = fields.iter().any(|(k, _)| item.contains_key(*k));
                        let exact = item_segment(first, &as_map).as_ref() == Some(seg);
                        if taken {
                            kept.push((format!("{KEPT}{slot}"), seg.to_text().into()));
                        } else {
                            for (k, v) in fields {
                                item.insert(k.to_owned(), v);
                            }
                            if !exact {
                                kept.push((format!("{KEPT}{slot}={first}"), seg.to_text().into()));
                            }
                        }
                    }
                    None => kept.push((format!("{KEPT}{slot}"), seg.to_text().into())),
                }
            }
            Section::Summary => {
                head_kept.push((format!("{KEPT}SUMMARY"), seg.to_text().into()));
            }
        }
    }
    let mut findings_extension = |text: &str, position: &str| -> Map<String, Value> {
        if text.is_empty() {
            return Map::new();
        }
        match serde_json::from_str::<Value>(text) {
            Ok(Value::Object(map)) => map,
            _ => {
                findings.push(Finding {
                    code: "E0101",
                    message: format!(
                        "the JINGUAN extension text of the {position} is not a JSON object"
                    ),
                    segment: 0,
                });
                Map::new()
            }
        }
    };
    let mut extension = findings_extension(&head_extension, "head");
    if let Some(Value::Object(extra_head)) = extension.remove("head") {
        merge(&mut head, extra_head);
    }
    merge(&mut top, extension);
    let mut item_values = Vec::new();
    for (mut item, kept, extension) in items {
        let extra = findings_extension(&extension, "item");
        merge(&mut item, extra);
        append_kept(&mut item, kept);
        item_values.push(Value::Object(item));
    }
    append_kept(&mut head, head_kept);
    top.insert("head".into(), Value::Object(head));
    top.insert("items".into(), Value::Array(item_values));
    let declaration = match serde_json::from_value::<Declaration>(Value::Object(top)) {
        Ok(declaration) => declaration,
        Err(e) => {
            findings.push(Finding {
                code: "E0102",
                message: format!("the fields read do not make a declaration: {e}"),
                segment: 0,
            });
            Declaration::default()
        }
    };
    Read {
        declaration,
        function,
        findings,
    }
}

/// Adds kept segments to a head's or item's `other_fields`, after any it already has.
fn append_kept(object: &mut Map<String, Value>, kept: Vec<(String, Value)>) {
    if kept.is_empty() {
        return;
    }
    let entry = object
        .entry("other_fields")
        .or_insert_with(|| Value::Array(Vec::new()));
    if let Value::Array(list) = entry {
        for (k, v) in kept {
            list.push(Value::Array(vec![Value::String(k), v]));
        }
    }
}

/// Maps a header segment to its field, or keeps it.
fn keep_or_map(
    seg: &Seg,
    slot: &str,
    mapped: Option<(&'static str, Value)>,
    build: impl Fn(&str, &Value) -> Option<Seg>,
    head: &mut Map<String, Value>,
    kept: &mut Vec<(String, Value)>,
    top: &mut Map<String, Value>,
) {
    // Containers and documents in their plainest form are lists of the declaration.
    if seg.tag == "EQD" && seg.get(0, 0) == "CN" && seg.has(1) && container(seg) == *seg {
        push(top, "containers", container_in(seg));
        return;
    }
    if seg.tag == "DOC" && seg.has(0) && document(seg) == *seg {
        push(top, "documents", document_in(seg));
        return;
    }
    match mapped {
        Some((field, value)) if !head.contains_key(field) => {
            let exact = build(field, &value).as_ref() == Some(seg);
            head.insert(field.to_owned(), value);
            if !exact {
                kept.push((format!("{KEPT}{slot}={field}"), seg.to_text().into()));
            }
        }
        _ => kept.push((format!("{KEPT}{slot}"), seg.to_text().into())),
    }
}

fn push(top: &mut Map<String, Value>, list: &str, value: Value) {
    if let Value::Array(values) = top.entry(list).or_insert_with(|| Value::Array(Vec::new())) {
        values.push(value);
    }
}

fn container_in(seg: &Seg) -> Value {
    let mut c = Map::new();
    c.insert("container_no".into(), seg.get(1, 0).into());
    if !seg.get(2, 0).is_empty() {
        c.insert("size_code".into(), seg.get(2, 0).into());
    }
    Value::Object(c)
}

fn container(seg: &Seg) -> Seg {
    container_out(&container_in(seg))
}

fn container_out(value: &Value) -> Seg {
    let text = |k: &str| value.get(k).and_then(Value::as_str).unwrap_or("");
    let mut e = els(&["CN", text("container_no")]);
    if !text("size_code").is_empty() {
        // An ISO 6346 size and type code: agency 5, ISO.
        e.push(vec![text("size_code").into(), String::new(), "5".into()]);
    }
    Seg::new("EQD", e)
}

fn document_in(seg: &Seg) -> Value {
    let mut d = Map::new();
    d.insert("code".into(), seg.get(0, 0).into());
    if !seg.get(1, 0).is_empty() {
        d.insert("number".into(), seg.get(1, 0).into());
    }
    Value::Object(d)
}

fn document(seg: &Seg) -> Seg {
    document_out(&document_in(seg))
}

fn document_out(value: &Value) -> Seg {
    let text = |k: &str| value.get(k).and_then(Value::as_str).unwrap_or("");
    // China's attached-document codes (随附单证代码): a list of its own.
    let mut e = vec![vec![text("code").to_owned(), "CHN".into(), "ZZZ".into()]];
    if !text("number").is_empty() {
        e.push(vec![text("number").into()]);
    }
    Seg::new("DOC", e)
}

fn bgm(head: &Map<String, Value>, function: &str, document: &str) -> Seg {
    let text = |k: &str| head.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    let mut name = vec![document.to_owned()];
    let kind = text("declaration_type");
    if !kind.is_empty() {
        name.extend([String::new(), String::new(), kind]);
    }
    let mut elements = vec![name, vec![text("pre_entry_id")], vec![function.to_owned()]];
    while elements
        .last()
        .is_some_and(|e| e.iter().all(String::is_empty))
    {
        elements.pop();
    }
    Seg::new("BGM", elements)
}

fn cst(item: &Map<String, Value>) -> Seg {
    let seq = item.get("seq").map(|v| v.to_string()).unwrap_or_default();
    let hs = item.get("hs_code").and_then(Value::as_str).unwrap_or("");
    let mut elements = vec![vec![seq]];
    if !hs.is_empty() {
        elements.push(vec![hs.to_owned()]);
    }
    Seg::new("CST", elements)
}

/// Kept segments of an object (`other_fields` entries under `EDIFACT:`), by slot, with the
/// field each stands for; the rest of `other_fields` stays.
fn take_kept(object: &mut Map<String, Value>) -> Vec<(String, Option<String>, Seg)> {
    let mut kept = Vec::new();
    if let Some(Value::Array(list)) = object.get_mut("other_fields") {
        list.retain(|pair| {
            let key = pair.get(0).and_then(Value::as_str).unwrap_or("");
            let Some(rest) = key.strip_prefix(KEPT) else {
                return true;
            };
            let Some(seg) = pair.get(1).and_then(Value::as_str).and_then(Seg::from_text) else {
                return true;
            };
            let (slot, field) = match rest.split_once('=') {
                Some((slot, field)) => (slot.to_owned(), Some(field.to_owned())),
                None => (rest.to_owned(), None),
            };
            kept.push((slot, field, seg));
            false
        });
        if list.is_empty() {
            object.remove("other_fields");
        }
    }
    kept
}

/// Writes a declaration as the body of a D96B CUSDEC (the segments between `UNH` and `UNT`),
/// `function` being `BGM` 1225 (`9` for an original).
pub fn write(declaration: &Declaration, function: &str) -> Result<Vec<Seg>, Error> {
    let Value::Object(mut top) = serde_json::to_value(declaration)
        .map_err(|e| Error::TooLong(format!("declaration not serialisable: {e}")))?
    else {
        return Err(Error::TooLong("declaration not an object".into()));
    };
    let Some(Value::Object(mut head)) = top.remove("head") else {
        return Err(Error::TooLong("declaration without a head".into()));
    };
    let items = match top.remove("items") {
        Some(Value::Array(items)) => items,
        _ => Vec::new(),
    };
    let import = declaration.head.ie_flag != Some(IeFlag::Export);
    let kept = take_kept(&mut head);
    let mut out = Vec::new();
    // BGM: the one kept verbatim when it still says what the fields say.
    let document = match declaration.head.ie_flag {
        Some(IeFlag::Import) => "929",
        Some(IeFlag::Export) => "830",
        None => "",
    };
    let written_bgm = bgm(&head, function, document);
    let original = kept
        .iter()
        .find(|(slot, _, _)| slot == "BGM")
        .map(|(_, _, seg)| seg.clone())
        .filter(|original| {
            original.get(0, 0) == document
                && head
                    .get("declaration_type")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    == original.get(0, 3)
                && head
                    .get("pre_entry_id")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    == original.get(1, 0)
                && original.get(2, 0) == function
        });
    out.push(original.unwrap_or(written_bgm));
    for key in ["ie_flag", "declaration_type", "pre_entry_id"] {
        head.remove(key);
    }
    // Mapped head fields: a kept original stands in for its field's segment when it still
    // gives the field's value (written among the kept ones, in the order they came).
    let mut mapped: Vec<(String, Seg)> = Vec::new();
    let mut standing: Vec<usize> = Vec::new();
    for field in HEAD_FIELDS {
        let Some(value) = head.get(*field).cloned() else {
            continue;
        };
        if !fits(field, &value) {
            continue;
        }
        let Some(seg) = head_segment(field, &value, import) else {
            continue;
        };
        head.remove(*field);
        let original = kept.iter().position(|(_, f, original)| {
            f.as_deref() == Some(*field)
                && head_field(original, import).is_some_and(|(g, v)| g == *field && v == value)
        });
        match original {
            Some(i) => standing.push(i),
            None => mapped.push((seg.tag.clone(), seg)),
        }
    }
    let kept_of = |slot: &str| -> Vec<Seg> {
        kept.iter()
            .enumerate()
            .filter(|(i, (s, field, _))| s == slot && (field.is_none() || standing.contains(i)))
            .map(|(_, (_, _, seg))| seg.clone())
            .collect()
    };
    // Containers and documents in their plainest form.
    let mut plain_list = |list: &str, write: fn(&Value) -> Seg, fields: &[&str]| -> Vec<Seg> {
        let Some(Value::Array(values)) = top.get(list) else {
            return Vec::new();
        };
        let plain = values.iter().all(|v| {
            v.as_object().is_some_and(|o| {
                o.keys().all(|k| fields.contains(&k.as_str())) && o.contains_key(fields[0])
            })
        });
        if !plain {
            return Vec::new();
        }
        let segs = values.iter().map(write).collect();
        top.remove(list);
        segs
    };
    let containers = plain_list("containers", container_out, &["container_no", "size_code"]);
    let documents = plain_list("documents", document_out, &["code", "number"]);
    let mut head_extension = Map::new();
    if !head.is_empty() {
        head_extension.insert("head".into(), Value::Object(head));
    }
    merge(&mut head_extension, top);
    let extension = extension_out(&head_extension, 90)?;
    for slot in HEAD_SLOTS {
        out.extend(
            mapped
                .iter()
                .filter(|(tag, _)| tag == slot)
                .map(|(_, s)| s.clone()),
        );
        match *slot {
            "EQD" => out.extend(containers.iter().cloned()),
            "DOC" => out.extend(documents.iter().cloned()),
            _ => {}
        }
        out.extend(kept_of(slot));
        if *slot == "FTX" {
            out.extend(extension.iter().cloned());
        }
    }
    out.push(Seg::new("UNS", els(&["D"])));
    out.extend(kept_of("DETAIL"));
    for item in items {
        let Value::Object(mut item) = item else {
            continue;
        };
        let kept = take_kept(&mut item);
        let original_cst = kept
            .iter()
            .find(|(slot, field, _)| slot == "CST" && field.is_none())
            .map(|(_, _, s)| s.clone())
            .filter(|s| {
                s.get(0, 0) == item.get("seq").map(|v| v.to_string()).unwrap_or_default()
                    && s.get(1, 0) == item.get("hs_code").and_then(Value::as_str).unwrap_or("")
            });
        out.push(original_cst.unwrap_or_else(|| cst(&item)));
        item.remove("seq");
        item.remove("hs_code");
        let mut mapped: Vec<(String, Seg)> = Vec::new();
        let mut standing: Vec<usize> = Vec::new();
        for field in ITEM_FIELDS {
            if !item.contains_key(*field) {
                continue;
            }
            let Some(seg) = item_segment(field, &item) else {
                continue;
            };
            let value = item_field(&seg);
            let original = kept.iter().position(|(_, f, original)| {
                f.as_deref() == Some(*field) && item_field(original) == value
            });
            item.remove(*field);
            if *field == "total_price" {
                item.remove("currency");
            }
            match original {
                Some(i) => standing.push(i),
                None => mapped.push((seg.tag.clone(), seg)),
            }
        }
        let extension = extension_out(&item, 8)?;
        for slot in ITEM_SLOTS {
            out.extend(
                mapped
                    .iter()
                    .filter(|(tag, _)| tag == slot)
                    .map(|(_, s)| s.clone()),
            );
            out.extend(
                kept.iter()
                    .enumerate()
                    .filter(|(i, (s, f, _))| s == slot && (f.is_none() || standing.contains(i)))
                    .map(|(_, (_, _, seg))| seg.clone()),
            );
            if *slot == "FTX" {
                out.extend(extension.iter().cloned());
            }
        }
    }
    out.push(Seg::new("UNS", els(&["S"])));
    out.extend(kept_of("SUMMARY"));
    Ok(out)
}

/// Convenience: the items of a declaration as the model has them.
pub fn items(declaration: &Declaration) -> &[GoodsItem] {
    &declaration.items
}
