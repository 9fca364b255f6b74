//! The read-only commands: tariff, codes, declaration parse.

use std::fmt::Write as _;
use std::path::Path;

use jinguan_refdata::rate::{Comparison, RateExpr, SpecificRate};
use jinguan_refdata::tariff::{Parsed, Rate, TariffLine, RATE_COLUMNS};
use jinguan_refdata::RefData;
use jinguan_types::{HsCode, Severity};
use serde::Serialize;

use crate::Failure;

fn print_json(value: &impl Serialize) -> Result<(), Failure> {
    let text =
        serde_json::to_string_pretty(value).map_err(|e| Failure::new("E0003", e.to_string()))?;
    crate::say!("{text}");
    Ok(())
}

fn specific(rate: &SpecificRate) -> String {
    format!(
        "{} {} per {} ({})",
        rate.amount, rate.currency, rate.unit_name, rate.unit
    )
}

/// A rate in words, e.g. `20% + 0.912 CNY per 升 (095)`.
pub(crate) fn rate_words(expr: &RateExpr) -> String {
    match expr {
        RateExpr::AdValorem { percent } => format!("{percent}% ad valorem"),
        RateExpr::Specific(rate) => specific(rate),
        RateExpr::Compound {
            percent,
            specific: rate,
        } => format!("{percent}% + {}", specific(rate)),
        RateExpr::Thresholded { branches } => {
            let parts: Vec<String> = branches
                .iter()
                .map(|b| {
                    let comparison = match b.comparison {
                        Comparison::Less => "<",
                        Comparison::LessOrEqual => "<=",
                        Comparison::Greater => ">",
                        Comparison::GreaterOrEqual => ">=",
                    };
                    let per = b
                        .per_unit
                        .map_or("legal unit".to_owned(), |u| format!("unit {u}"));
                    format!(
                        "if value per {per} {comparison} {} {}: {}",
                        b.threshold,
                        b.threshold_currency,
                        rate_words(&b.rate)
                    )
                })
                .collect();
            parts.join("; ")
        }
        RateExpr::Alternatives { options } => {
            let parts: Vec<String> = options.iter().map(rate_words).collect();
            format!("one of {} (by finer code)", parts.join(" | "))
        }
        RateExpr::TariffQuota { in_quota } => format!("in quota: {}", rate_words(in_quota)),
    }
}

fn rate_line(out: &mut String, label: &str, rate: Option<&Rate>, blank: &str) {
    let text = match rate {
        None => format!("(blank: {blank})"),
        Some(Rate {
            text,
            parsed: Parsed::Ok(expr),
        }) => format!("{text}  →  {}", rate_words(expr)),
        Some(Rate {
            text,
            parsed: Parsed::Err(error),
        }) => format!("{text}  →  UNPARSED {error}"),
    };
    let _ = writeln!(out, "  {label:<22} {text}");
}

pub(crate) fn tariff_show(data: &RefData, code: &str, json: bool) -> Result<(), Failure> {
    let hs = HsCode::parse(code).map_err(|e| Failure::new(e.code, e.to_string()))?;
    let line = data.tariff.get(&hs).ok_or_else(|| {
        Failure::new(
            "E0101",
            format!("{code} is not in the {}", data.tariff.meta.edition),
        )
    })?;
    if json {
        #[derive(Serialize)]
        struct Shown<'a> {
            edition: &'a str,
            #[serde(flatten)]
            line: &'a TariffLine,
            hs2022_subheading: Option<&'a str>,
        }
        let subheading = data
            .hs
            .get(hs.subheading().as_str())
            .map(|e| e.description.as_str());
        return print_json(&Shown {
            edition: &data.tariff.meta.edition,
            line,
            hs2022_subheading: subheading,
        });
    }
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} {}  ({})",
        line.code, line.name, data.tariff.meta.edition
    );
    if let Some(entry) = data.hs.get(hs.subheading().as_str()) {
        let _ = writeln!(out, "  HS 2022 {}: {}", entry.code, entry.description);
    }
    let unit2 = line
        .unit2
        .as_ref()
        .map_or("-".to_owned(), |u| format!("{} ({})", u.name, u.code));
    let _ = writeln!(
        out,
        "  legal units            {} ({}), {}",
        line.unit1.name, line.unit1.code, unit2
    );
    rate_line(&mut out, "MFN", line.mfn.as_ref(), "unknown");
    rate_line(&mut out, "general", line.general.as_ref(), "unknown");
    rate_line(
        &mut out,
        "provisional",
        line.provisional.as_ref(),
        "no provisional rate",
    );
    rate_line(
        &mut out,
        "export duty",
        line.export.as_ref(),
        "no export duty",
    );
    rate_line(
        &mut out,
        "export provisional",
        line.export_provisional.as_ref(),
        "none",
    );
    rate_line(&mut out, "VAT", line.vat.as_ref(), "unknown");
    rate_line(
        &mut out,
        "consumption tax",
        line.consumption_tax.as_ref(),
        "unknown",
    );
    rate_line(
        &mut out,
        "export rebate",
        line.export_rebate.as_ref(),
        "unknown",
    );
    for conventional in &line.conventional {
        rate_line(
            &mut out,
            &conventional.agreement,
            Some(&conventional.rate),
            "",
        );
    }
    let _ = writeln!(
        out,
        "  supervision conditions {}",
        line.supervision_conditions
    );
    let _ = writeln!(out, "  inspection category    {}", line.inspection_category);
    let _ = writeln!(
        out,
        "  declaration elements   {}",
        line.declaration_elements.join(" | ")
    );
    if let Some(remark) = &line.remark {
        let _ = writeln!(out, "  remark                 {remark}");
    }
    crate::emit(&out)?;
    Ok(())
}

pub(crate) fn tariff_stats(data: &RefData, json: bool) -> Result<(), Failure> {
    let stats = data.tariff.stats();
    if json {
        return print_json(&stats);
    }
    let mut out = String::new();
    let _ = writeln!(out, "{}: {} lines", stats.edition, stats.lines);
    let _ = writeln!(
        out,
        "{:<24} {:>10} {:>9} {:>9} {:>12} {:>9} {:>9} {:>8} {:>9} {:>10} {:>11}",
        "column",
        "ad_valorem",
        "specific",
        "compound",
        "thresholded",
        "alternat.",
        "quota",
        "blank",
        "gap",
        "unexpl.",
        "unparsed"
    );
    for column in &stats.columns {
        let kind = |k: &str| column.kinds.get(k).copied().unwrap_or(0);
        let _ = writeln!(
            out,
            "{:<24} {:>10} {:>9} {:>9} {:>12} {:>9} {:>9} {:>8} {:>9} {:>10} {:>11}",
            column.column,
            kind("ad_valorem"),
            kind("specific"),
            kind("compound"),
            kind("thresholded"),
            kind("alternatives"),
            kind("tariff_quota"),
            column.blank_meaningful,
            column.blank_known_gap,
            column.blank_unexplained.len(),
            column.failures.len()
        );
    }
    let _ = writeln!(
        out,
        "blank = no such rate (no provisional rate, no export duty, no agreement rate)"
    );
    let _ = writeln!(out, "gap = blank in a required column, listed with its reason in data/tariff/2026/known_gaps.csv");
    let _ = writeln!(out, "unexplained rate strings: {}", stats.unexplained);
    debug_assert_eq!(RATE_COLUMNS.len(), stats.columns.len());
    crate::emit(&out)?;
    Ok(())
}

pub(crate) fn codes(
    data: &RefData,
    table: Option<&str>,
    code: Option<&str>,
    json: bool,
) -> Result<(), Failure> {
    let Some(name) = table else {
        let metas: Vec<_> = data.tables.iter().map(|t| (&t.meta, t.len())).collect();
        if json {
            #[derive(Serialize)]
            struct Listed<'a> {
                #[serde(flatten)]
                meta: &'a jinguan_refdata::TableMeta,
                rows: usize,
            }
            let listed: Vec<Listed> = metas
                .iter()
                .map(|(meta, rows)| Listed { meta, rows: *rows })
                .collect();
            return print_json(&listed);
        }
        for (meta, rows) in metas {
            let to = meta
                .valid_to
                .map_or("in force".to_owned(), |d| d.to_string());
            crate::say!(
                "{:<20} {:>5} rows  {} .. {}  {}  — {}",
                meta.name,
                rows,
                meta.valid_from,
                to,
                meta.edition,
                meta.description
            );
        }
        return Ok(());
    };
    let table = data.table(name).ok_or_else(|| {
        let names: Vec<&str> = data.tables.iter().map(|t| t.meta.name.as_str()).collect();
        Failure::new(
            "E0102",
            format!("no code table {name:?}; tables: {}", names.join(", ")),
        )
    })?;
    let entries: Vec<_> = match code {
        Some(code) => {
            let found: Vec<_> = table.get_all(code).collect();
            if found.is_empty() {
                return Err(Failure::new(
                    "E0103",
                    format!("{code:?} is not in table {name} (codes are case-sensitive)"),
                ));
            }
            found
        }
        None => table.entries.iter().collect(),
    };
    if json {
        #[derive(Serialize)]
        struct Shown<'a> {
            table: &'a jinguan_refdata::TableMeta,
            entries: Vec<&'a jinguan_refdata::CodeEntry>,
        }
        return print_json(&Shown {
            table: &table.meta,
            entries,
        });
    }
    let mut out = String::new();
    for entry in entries {
        let group = entry
            .group
            .as_deref()
            .map(|g| format!("[{g}] "))
            .unwrap_or_default();
        let en = entry
            .name_en
            .as_deref()
            .map(|n| format!("  {n}"))
            .unwrap_or_default();
        let legacy = entry
            .legacy_customs_code
            .as_deref()
            .map(|l| format!("  (legacy {l})"))
            .unwrap_or_default();
        let _ = writeln!(
            out,
            "{group}{:<8} {}{en}{legacy}",
            entry.code, entry.name_zh
        );
    }
    crate::emit(&out)?;
    Ok(())
}

pub(crate) fn declaration_parse(data: &RefData, file: &Path, json: bool) -> Result<(), Failure> {
    let bytes = std::fs::read(file)
        .map_err(|e| Failure::new("E0001", format!("cannot read {}: {e}", file.display())))?;
    let parsed = jinguan_chinaport::decmessage::parse(&bytes).map_err(|e| {
        Failure::new(
            e.code(),
            format!("{}: {}", file.display(), strip_code(&e.to_string())),
        )
    })?;
    let mut declaration = parsed.declaration;
    let mut diagnostics = parsed.diagnostics;
    diagnostics.extend(jinguan_chinaport::check::check_codes(
        &mut declaration,
        data,
    ));
    if json {
        #[derive(Serialize)]
        struct Output<'a> {
            declaration: &'a jinguan_types::declaration::Declaration,
            diagnostics: &'a [jinguan_types::Diagnostic],
        }
        return print_json(&Output {
            declaration: &declaration,
            diagnostics: &diagnostics,
        });
    }
    let head = &declaration.head;
    let show = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".to_owned());
    crate::say!(
        "{} declaration, trade mode {}, customs {}, {} item(s), consignee {} {}",
        head.ie_flag
            .map_or("?", |f| if f == jinguan_types::IeFlag::Import {
                "import"
            } else {
                "export"
            }),
        show(&head.trade_mode),
        show(&head.declaring_customs),
        declaration.items.len(),
        show(&head.consignee.customs_code),
        show(&head.consignee.name)
    );
    for item in &declaration.items {
        crate::say!(
            "  {:>3} {} {} {} {} {}",
            item.seq.map_or("-".to_owned(), |s| s.to_string()),
            show(&item.hs_code),
            show(&item.name),
            item.total_price.map_or("-".to_owned(), |v| v.to_string()),
            show(&item.currency),
            show(&item.origin_country)
        );
    }
    let errors = diagnostics
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .count();
    crate::say!("{} diagnostic(s), {errors} error(s)", diagnostics.len());
    for d in &diagnostics {
        crate::say!("  {:?} {} {}: {}", d.severity, d.code, d.path, d.message);
    }
    Ok(())
}

/// Drops the leading `CODE: ` of an error's text, since the failure line prints the code.
fn strip_code(text: &str) -> &str {
    match text.split_once(": ") {
        Some((code, rest)) if code.len() == 5 && code.is_ascii() => rest,
        _ => text,
    }
}
