//! The checks a declaration passes before it is accepted: every code against its table on
//! the declaration date (`jinguan_chinaport::check`, `D0xxx`, legacy codes mapped in place),
//! then the rules of declaring (`V0xxx`, below). Everything wrong is reported at once, each
//! finding with its code, the field's path and, for goods, the item.
//!
//! | code | rule |
//! |---|---|
//! | V0101 | the import/export flag is given |
//! | V0102 | the declaration date is given |
//! | V0103 | there is at least one item |
//! | V0104 | at most 50 items |
//! | V0105 | items are numbered 1, 2, 3, … in order |
//! | V0106 | net weight is not above gross weight |
//! | V0107 | the number of packages is given and positive |
//! | V0108 | transaction terms are given |
//! | V0109 | the trade mode is given |
//! | V0110 | processing-trade and bonded trade modes carry a filing number (手册/账册) |
//! | V0111 | the levy nature fits the trade mode (来料 0214 ↔ 502, 进料 0615/0654 ↔ 503) |
//! | V0112 | the consignee is identified (customs code or USCC) |
//! | V0113 | the declaring customs is 4 digits |
//! | V0201 | the commodity code is a line of the tariff |
//! | V0202 | the item has a name |
//! | V0203 | quantity × unit price = total price, within 0.5 % or 1 unit of currency |
//! | V0204 | the total price is positive |
//! | V0205 | the currency is given |
//! | V0206 | the origin country is given (imports) / destination country (exports) |
//! | V0207 | the first legal quantity is given, in the line's first legal unit |
//! | V0208 | the second legal quantity is given when the line has a second legal unit |
//! | V0209 | a licence the line's supervision conditions require for this direction is attached |
//! | V0210 | the goods are not prohibited for this direction (conditions 8, 9; 6 for used goods imported) |
//! | V0211 | text fields are at most 255 characters |
//! | V0114 | dates in order: despatch ≤ import/export date ≤ discharge |
//! | V0115 | a general-trade import does not come from China |
//! | V0116 | text fields hold no control characters |
//! | V0117 | an entry id's import/export digit matches the flag |
//! | V0301 | a container number is ISO 6346 (owner code, category, serial, check digit) |
//! | V0302 | a container's goods items are items of the declaration |
//! | V0303 | the LCL flag (拼箱标识) is 0 or 1 |

use jinguan_refdata::RefData;
use jinguan_types::declaration::{Declaration, GoodsItem};
use jinguan_types::{Diagnostic, HsCode, IeFlag, Severity};
use rust_decimal::Decimal;

/// The goods-attribute code (货物属性, GoodsAttr) of used goods (旧品).
pub const USED_GOODS: &str = "21";

/// Whether an item is declared as used goods: its goods attributes (a comma-separated list
/// of codes) include [`USED_GOODS`].
pub fn is_used(item: &GoodsItem) -> bool {
    item.goods_attributes
        .as_deref()
        .is_some_and(|a| a.split([',', ';', ' ']).any(|c| c.trim() == USED_GOODS))
}

/// Most items a declaration may carry.
pub const MAX_ITEMS: usize = 50;

/// Longest text field, in characters.
pub const MAX_TEXT_CHARS: usize = 255;

/// Trade modes of processing trade (来料 02xx, 进料 06xx) and bonded goods that must name the
/// manual or account book they draw on.
fn needs_filing(trade_mode: &str) -> bool {
    trade_mode.starts_with("02")
        || trade_mode.starts_with("06")
        || matches!(trade_mode, "1233" | "1234" | "5034" | "6033")
}

/// Whether `number` is an ISO 6346 container number: owner code (3 letters), category
/// (`U`, `J` or `Z`), 6-digit serial and the check digit over them.
pub fn iso6346(number: &str) -> bool {
    let bytes = number.as_bytes();
    if bytes.len() != 11
        || !bytes[..3].iter().all(u8::is_ascii_uppercase)
        || !matches!(bytes[3], b'U' | b'J' | b'Z')
        || !bytes[4..].iter().all(u8::is_ascii_digit)
    {
        return false;
    }
    // Letters count from 10 (A), skipping multiples of 11; each position weighs 2^i.
    let value = |b: u8| -> u32 {
        if b.is_ascii_digit() {
            u32::from(b - b'0')
        } else {
            let mut v = 10;
            for _ in b'A'..b {
                v += 1;
                if v % 11 == 0 {
                    v += 1;
                }
            }
            v
        }
    };
    let sum: u32 = bytes[..10]
        .iter()
        .enumerate()
        .map(|(i, b)| value(*b) << i)
        .sum();
    (sum % 11 % 10) == u32::from(bytes[10] - b'0')
}

/// Checks a declaration: codes first (normalising legacy ones in place), then the rules.
/// Errors make it invalid; warnings and notes do not.
pub fn validate(declaration: &mut Declaration, data: &RefData) -> Vec<Diagnostic> {
    let mut findings = jinguan_chinaport::check::check_codes(declaration, data);
    let mut rules = Rules {
        findings: &mut findings,
    };
    rules.head(declaration);
    for (i, item) in declaration.items.iter().enumerate() {
        rules.item(declaration, i, item, data);
    }
    findings
}

/// Whether any finding is an error.
pub fn is_valid(findings: &[Diagnostic]) -> bool {
    !findings.iter().any(|f| f.severity == Severity::Error)
}

struct Rules<'a> {
    findings: &'a mut Vec<Diagnostic>,
}

impl Rules<'_> {
    fn error(&mut self, code: &str, path: impl Into<String>, message: impl Into<String>) {
        self.findings
            .push(Diagnostic::new(Severity::Error, code, path, message.into()));
    }

    fn text(&mut self, value: Option<&str>, path: &str) {
        if value.is_some_and(|v| {
            v.chars()
                .any(|c| c.is_control() && !matches!(c, '\n' | '\t'))
        }) {
            self.error("V0116", path, "control characters are not allowed");
        }
        let length = value.map_or(0, |v| v.chars().count());
        if length > MAX_TEXT_CHARS {
            self.error(
                "V0211",
                path,
                format!("{length} characters, more than {MAX_TEXT_CHARS}"),
            );
        }
    }

    fn head(&mut self, d: &Declaration) {
        let h = &d.head;
        if h.ie_flag.is_none() {
            self.error(
                "V0101",
                "DecHead/IEFlag",
                "the import/export flag is missing",
            );
        }
        if h.declaration_date.is_none() {
            self.error("V0102", "DecHead/DDate", "the declaration date is missing");
        }
        if d.items.is_empty() {
            self.error("V0103", "DecList", "a declaration needs at least one item");
        }
        if d.items.len() > MAX_ITEMS {
            self.error(
                "V0104",
                "DecList",
                format!("{} items, more than {MAX_ITEMS}", d.items.len()),
            );
        }
        for (i, item) in d.items.iter().enumerate() {
            if item.seq != Some(i as u32 + 1) {
                self.error(
                    "V0105",
                    format!("DecList[{}]/GNo", i + 1),
                    format!("item {} is numbered {:?}", i + 1, item.seq),
                );
                break;
            }
        }
        if let (Some(gross), Some(net)) = (h.gross_weight_kg, h.net_weight_kg) {
            if net > gross {
                self.error(
                    "V0106",
                    "DecHead/NetWt",
                    format!("net weight {net} kg is above gross weight {gross} kg"),
                );
            }
        }
        if h.packages.is_none_or(|p| p == 0) {
            self.error(
                "V0107",
                "DecHead/PackNo",
                "the number of packages is missing or zero",
            );
        }
        if h.transaction_terms.is_none() {
            self.error(
                "V0108",
                "DecHead/TransMode",
                "the transaction terms are missing",
            );
        }
        match h.trade_mode.as_deref() {
            None => self.error("V0109", "DecHead/TradeMode", "the trade mode is missing"),
            Some(mode) => {
                if needs_filing(mode) && h.filing_no.as_deref().is_none_or(str::is_empty) {
                    self.error(
                        "V0110",
                        "DecHead/ManualNo",
                        format!("trade mode {mode} draws on a manual or account book: its filing number is missing"),
                    );
                }
                let wanted = match mode {
                    "0214" | "0255" | "0258" => Some("502"),
                    "0615" | "0654" | "0657" => Some("503"),
                    _ => None,
                };
                if let (Some(wanted), Some(levy)) = (wanted, h.levy_nature.as_deref()) {
                    if levy != wanted {
                        self.error(
                            "V0111",
                            "DecHead/CutMode",
                            format!("trade mode {mode} goes with levy nature {wanted}, not {levy}"),
                        );
                    }
                }
            }
        }
        let consignee = &h.consignee;
        if consignee.customs_code.is_none() && consignee.uscc.is_none() {
            self.error(
                "V0112",
                "DecHead/TradeCode",
                "the consignee has neither a customs code nor a USCC",
            );
        }
        if let Some(customs) = h.declaring_customs.as_deref() {
            if customs.len() != 4 || !customs.bytes().all(|b| b.is_ascii_digit()) {
                self.error(
                    "V0113",
                    "DecHead/CustomMaster",
                    format!("declaring customs {customs:?} is not 4 digits"),
                );
            }
        }
        self.text(h.notes.as_deref(), "DecHead/NoteS");
        self.text(h.marks.as_deref(), "DecHead/MarkNo");
        let dates = [
            ("DecHead/DespDate", h.despatch_date),
            ("DecHead/IEDate", h.ie_date),
            ("DecHead/CmplDschrgDt", h.discharge_date),
        ];
        for pair in dates.windows(2) {
            if let [(_, Some(earlier)), (path, Some(later))] = pair {
                if later < earlier {
                    self.error(
                        "V0114",
                        *path,
                        format!("{later} is before the date before it, {earlier}"),
                    );
                }
            }
        }
        if h.ie_flag == Some(IeFlag::Import)
            && h.trade_mode.as_deref() == Some("0110")
            && h.trade_country.as_deref() == Some("CHN")
        {
            self.error(
                "V0115",
                "DecHead/TradeCountry",
                "a general-trade import cannot be shipped from China",
            );
        }
        if let (Some(id), Some(flag)) = (h.entry_id.as_deref(), h.ie_flag) {
            if let Ok(entry) = jinguan_types::EntryId::parse(id) {
                if entry.ie_flag() != flag {
                    self.error(
                        "V0117",
                        "DecHead/EntryId",
                        format!("entry id {id} is numbered for the other direction"),
                    );
                }
            }
        }
        for (i, container) in d.containers.iter().enumerate() {
            let at = |field: &str| format!("Container[{}]/{field}", i + 1);
            if let Some(number) = container.container_no.as_deref() {
                if !iso6346(number) {
                    self.error(
                        "V0301",
                        at("ContainerId"),
                        format!("{number} is not an ISO 6346 container number"),
                    );
                }
            }
            for reference in container.goods_items.iter().flat_map(|g| g.split(',')) {
                let known = reference
                    .trim()
                    .parse::<usize>()
                    .is_ok_and(|n| (1..=d.items.len()).contains(&n));
                if !known && !reference.trim().is_empty() {
                    self.error(
                        "V0302",
                        at("GoodsNo"),
                        format!("goods item {reference:?} is not on the declaration"),
                    );
                }
            }
            if let Some(flag) = container.lcl_flag.as_deref() {
                if !matches!(flag, "0" | "1") {
                    self.error(
                        "V0303",
                        at("LclFlag"),
                        format!("LCL flag {flag:?} is not 0 or 1"),
                    );
                }
            }
        }
    }

    fn item(&mut self, d: &Declaration, i: usize, item: &GoodsItem, data: &RefData) {
        let at = |field: &str| format!("DecList[{}]/{field}", i + 1);
        let import = d.head.ie_flag != Some(IeFlag::Export);
        if item.name.as_deref().is_none_or(str::is_empty) {
            self.error("V0202", at("GName"), "the goods name is missing");
        }
        self.text(item.name.as_deref(), &at("GName"));
        self.text(item.elements.as_deref(), &at("GModel"));
        match item.total_price {
            Some(total) if total > Decimal::ZERO => {
                if let (Some(q), Some(p)) = (item.declared_qty, item.unit_price) {
                    let tolerance = (total * Decimal::new(5, 3)).max(Decimal::ONE);
                    if (q * p - total).abs() > tolerance {
                        self.error(
                            "V0203",
                            at("DeclTotal"),
                            format!("{q} × {p} = {} is not the total {total}", q * p),
                        );
                    }
                }
            }
            _ => self.error(
                "V0204",
                at("DeclTotal"),
                "the total price is missing or not positive",
            ),
        }
        if item.currency.is_none() {
            self.error("V0205", at("TradeCurr"), "the currency is missing");
        }
        if import && item.origin_country.is_none() {
            self.error(
                "V0206",
                at("OriginCountry"),
                "the origin country is missing",
            );
        }
        if !import && item.destination_country.is_none() {
            self.error(
                "V0206",
                at("DestinationCountry"),
                "the destination country is missing",
            );
        }
        let Some(code) = item.hs_code.as_deref() else {
            self.error("V0201", at("CodeTS"), "the commodity code is missing");
            return;
        };
        let line = HsCode::parse_with_ciq(code)
            .ok()
            .and_then(|(hs, _)| data.tariff.get(&hs));
        let Some(line) = line else {
            self.error(
                "V0201",
                at("CodeTS"),
                format!("{code} is not a line of the tariff"),
            );
            return;
        };
        let unit_matches = |declared: Option<&str>, wanted: &str| declared == Some(wanted);
        match (item.legal_qty_1, item.legal_unit_1.as_deref()) {
            (Some(_), unit) if unit_matches(unit, line.unit1.code.as_str()) => {}
            (_, unit) => self.error(
                "V0207",
                at("FirstQty"),
                format!(
                    "the first legal quantity must be given in {} ({}); found unit {unit:?}",
                    line.unit1.code, line.unit1.name
                ),
            ),
        }
        if let Some(second) = &line.unit2 {
            match (item.legal_qty_2, item.legal_unit_2.as_deref()) {
                (Some(_), unit) if unit_matches(unit, second.code.as_str()) => {}
                (_, unit) => self.error(
                    "V0208",
                    at("SecondQty"),
                    format!(
                        "the second legal quantity must be given in {} ({}); found unit {unit:?}",
                        second.code, second.name
                    ),
                ),
            }
        }
        let used = is_used(item);
        self.licences(d, import, used, &at("CodeTS"), line, data);
    }

    /// Licences and prohibitions from the line's supervision conditions (监管条件).
    fn licences(
        &mut self,
        d: &Declaration,
        import: bool,
        used: bool,
        path: &str,
        line: &jinguan_refdata::tariff::TariffLine,
        data: &RefData,
    ) {
        let attached: Vec<&str> = d
            .documents
            .iter()
            .filter_map(|doc| doc.code.as_deref())
            .collect();
        use jinguan_refdata::supervision;
        for condition in line.supervision_conditions.chars() {
            if supervision::prohibits(condition, import, used) {
                self.error(
                    "V0210",
                    path,
                    format!(
                        "{} is prohibited on {} (supervision condition {condition})",
                        line.code,
                        if import { "import" } else { "export" }
                    ),
                );
            }
        }
        let Some(table) = data.table("licence-document") else {
            return;
        };
        for (code, name) in
            supervision::required_licences(&line.supervision_conditions, import, table)
        {
            if !attached.contains(&code.to_string().as_str()) {
                self.error(
                    "V0209",
                    path,
                    format!(
                        "{} needs licence {code} ({name}); no document with that code is attached",
                        line.code
                    ),
                );
            }
        }
    }
}
