//! Code checks of a declaration against the reference data.
//!
//! [`check_codes`] maps legacy 3-digit customs codes (country `142`, currency `502`) to their
//! ISO codes in place, and reports every code that is not in its table. It never removes a
//! value: an unknown code stays in the model so the receipt can quote it.
//!
//! Diagnostic codes (stable): `D01xx` countries, `D02xx` currencies, `D03xx` other code
//! tables, `D04xx` commodity codes, `D05xx` identifiers.

use jinguan_refdata::RefData;
use jinguan_types::declaration::Declaration;
use jinguan_types::{CustomsCode, Diagnostic, EntryId, HsCode, Severity, Uscc};

struct Checker<'a> {
    data: &'a RefData,
    diagnostics: Vec<Diagnostic>,
}

impl Checker<'_> {
    fn push(&mut self, severity: Severity, code: &str, path: &str, message: String) {
        self.diagnostics
            .push(Diagnostic::new(severity, code, path, message));
    }

    fn country(&mut self, value: &mut Option<String>, path: &str) {
        let Some(code) = value.as_deref() else { return };
        if self.data.country(code).is_some() {
            return;
        }
        if code.len() == 3 && code.bytes().all(|b| b.is_ascii_digit()) {
            if let Some(mapping) = self.data.country_from_legacy(code) {
                let mut message = format!("legacy country code {code} read as {}", mapping.iso);
                if !mapping.also.is_empty() {
                    message.push_str(&format!(" (also used for {})", mapping.also.join(", ")));
                }
                self.push(Severity::Info, "D0101", path, message);
                *value = Some(mapping.iso.to_string());
                return;
            }
        }
        self.push(
            Severity::Error,
            "D0102",
            path,
            format!("unknown country code {code:?}"),
        );
    }

    fn currency(&mut self, value: &mut Option<String>, path: &str) {
        let Some(code) = value.as_deref() else { return };
        if self.data.currency(code).is_some() {
            return;
        }
        if let Some(iso) = self.data.currency_from_legacy(code) {
            self.push(
                Severity::Info,
                "D0201",
                path,
                format!("legacy currency code {code} read as {iso}"),
            );
            *value = Some(iso.to_string());
            return;
        }
        self.push(
            Severity::Error,
            "D0202",
            path,
            format!("unknown currency code {code:?}"),
        );
    }

    /// A code that must exist in `table`. Tables with legacy codes map them like countries.
    fn table_code(&mut self, table: &str, value: &mut Option<String>, path: &str) {
        let Some(code) = value.as_deref() else { return };
        let Some(codes) = self.data.table(table) else {
            return;
        };
        if codes.contains(code) {
            return;
        }
        let legacy = codes.by_legacy_code(code);
        // Several ports share a legacy code; the country-level row (`XXX000`) is the meaning.
        let chosen = match legacy.as_slice() {
            [] => None,
            [only] => Some(*only),
            many => many.iter().find(|e| e.code.ends_with("000")).copied(),
        };
        if let Some(entry) = chosen {
            let message = format!("legacy {table} code {code} read as {}", entry.code);
            self.push(Severity::Info, "D0301", path, message);
            *value = Some(entry.code.clone());
            return;
        }
        let message = if legacy.len() > 1 {
            let candidates: Vec<&str> = legacy.iter().map(|e| e.code.as_str()).collect();
            format!(
                "legacy {table} code {code:?} is ambiguous ({})",
                candidates.join(", ")
            )
        } else {
            format!("unknown {table} code {code:?}")
        };
        self.push(Severity::Error, "D0302", path, message);
    }

    fn identifiers(&mut self, declaration: &Declaration) {
        let head = &declaration.head;
        let parties = [
            ("consignee", &head.consignee),
            ("owner", &head.owner),
            ("agent", &head.agent),
            ("input_unit", &head.input_unit),
        ];
        for (role, party) in parties {
            if let Some(uscc) = &party.uscc {
                if let Err(e) = Uscc::parse(uscc) {
                    self.push(
                        Severity::Error,
                        "D0501",
                        &format!("DecHead/{role}/uscc"),
                        e.to_string(),
                    );
                }
            }
            if let Some(code) = &party.customs_code {
                if let Err(e) = CustomsCode::parse(code) {
                    self.push(
                        Severity::Error,
                        "D0502",
                        &format!("DecHead/{role}/customs_code"),
                        e.to_string(),
                    );
                }
            }
        }
        if let Some(entry_id) = &head.entry_id {
            if let Err(e) = EntryId::parse(entry_id) {
                self.push(Severity::Error, "D0503", "DecHead/EntryId", e.to_string());
            }
        }
    }

    fn commodity(&mut self, value: Option<&str>, path: &str) {
        let Some(code) = value else { return };
        match HsCode::parse(code) {
            Err(e) => self.push(Severity::Error, "D0401", path, e.to_string()),
            Ok(hs) if self.data.tariff.get(&hs).is_none() => self.push(
                Severity::Error,
                "D0402",
                path,
                format!(
                    "commodity code {code} is not in the {}",
                    self.data.tariff.meta.edition
                ),
            ),
            Ok(_) => {}
        }
    }
}

/// Checks every coded field; maps legacy codes to ISO in place; returns what it found.
pub fn check_codes(declaration: &mut Declaration, data: &RefData) -> Vec<Diagnostic> {
    let mut checker = Checker {
        data,
        diagnostics: Vec::new(),
    };
    checker.identifiers(declaration);
    let head = &mut declaration.head;
    checker.country(&mut head.trade_country, "DecHead/TradeCountry");
    checker.country(&mut head.trade_area_country, "DecHead/TradeAreaCode");
    checker.currency(&mut head.freight.currency, "DecHead/FeeCurr");
    checker.currency(&mut head.insurance.currency, "DecHead/InsurCurr");
    checker.currency(&mut head.other_charges.currency, "DecHead/OtherCurr");
    checker.table_code("port", &mut head.departure_port, "DecHead/DespPortCode");
    checker.table_code("port", &mut head.destination_port, "DecHead/DistinatePort");
    checker.table_code("trade-mode", &mut head.trade_mode, "DecHead/TradeMode");
    checker.table_code("levy-nature", &mut head.levy_nature, "DecHead/CutMode");
    checker.table_code(
        "transport-mode",
        &mut head.transport_mode,
        "DecHead/TrafMode",
    );
    checker.table_code(
        "transaction-terms",
        &mut head.transaction_terms,
        "DecHead/TransMode",
    );
    checker.table_code("package", &mut head.package_type, "DecHead/WrapType");
    for (i, item) in declaration.items.iter_mut().enumerate() {
        let path = |field: &str| format!("DecList[{}]/{field}", i + 1);
        checker.commodity(item.hs_code.as_deref(), &path("CodeTS"));
        checker.country(&mut item.origin_country, &path("OriginCountry"));
        checker.country(&mut item.destination_country, &path("DestinationCountry"));
        checker.currency(&mut item.currency, &path("TradeCurr"));
        checker.table_code("unit", &mut item.declared_unit, &path("GUnit"));
        checker.table_code("unit", &mut item.legal_unit_1, &path("FirstUnit"));
        checker.table_code("unit", &mut item.legal_unit_2, &path("SecondUnit"));
        checker.table_code("duty-mode", &mut item.duty_mode, &path("DutyMode"));
        for (j, licence) in item.licences.iter_mut().enumerate() {
            let licence_path = format!("DecList[{}]/DecGoodsLimit[{}]/LicTypeCode", i + 1, j + 1);
            checker.table_code("licence-document", &mut licence.licence_type, &licence_path);
        }
    }
    for (i, document) in declaration.documents.iter_mut().enumerate() {
        let path = format!("LicenseDocu[{}]/DocuCode", i + 1);
        checker.table_code("licence-document", &mut document.code, &path);
    }
    for (i, container) in declaration.containers.iter_mut().enumerate() {
        let path = format!("Container[{}]/ContainerMd", i + 1);
        checker.table_code("container", &mut container.size_code, &path);
    }
    checker.diagnostics
}
