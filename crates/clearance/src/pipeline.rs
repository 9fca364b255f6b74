//! A declaration from receipt to channel, in one call: validation, valuation, assessment and
//! selectivity, on the canonical model. A certificate of origin (attached document `Y`)
//! claims the conventional rate of the agreement each import item's origin is party to. Pure: the caller brings the reference data, the rules,
//! the reference prices, the declarant's credit class and the entry id, and records the
//! result (the ledger append is the caller's).

use jinguan_refdata::RefData;
use jinguan_types::declaration::{Charge as DeclaredCharge, Declaration};
use jinguan_types::{CurrencyCode, Diagnostic, HsCode, IeFlag, UnitCode};
use rust_decimal::Decimal;
use serde::Serialize;

use crate::assessment::{self, Assessment, Item, Origin};
use crate::risk::{Decision, Fact, Facts, ReferencePrices, RuleSet, Subject};
use crate::validation;
use crate::valuation::{self, Basis, Charge, Price, Terms, Valuation};

/// What the pipeline works with besides the declaration.
#[derive(Debug, Clone, Copy)]
pub struct Context<'a> {
    /// Code tables, tariff, exchange rates.
    pub refdata: &'a RefData,
    /// Selectivity rules.
    pub rules: &'a RuleSet,
    /// Reference prices learnt from released declarations.
    pub references: &'a ReferencePrices,
    /// Origins that pay the general rate (ISO alpha-3).
    pub general_rate_origins: &'a [String],
}

/// The pipeline's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Outcome {
    /// Every finding of validation (errors reject the declaration).
    pub findings: Vec<Diagnostic>,
    /// Whether it was accepted.
    pub accepted: bool,
    /// Its valuation, when accepted.
    pub valuation: Option<Valuation>,
    /// Its duties and taxes, when accepted.
    pub assessment: Option<Assessment>,
    /// Its channel and reasons, when accepted.
    pub decision: Option<Decision>,
    /// The facts selectivity saw, when accepted: kept so a back-test sees the same data, and
    /// the unit values reference prices learn from.
    pub subject: Option<Subject>,
}

fn rejected(mut findings: Vec<Diagnostic>, code: &str, path: &str, message: String) -> Outcome {
    findings.push(Diagnostic::new(
        jinguan_types::Severity::Error,
        code,
        path,
        message,
    ));
    Outcome {
        findings,
        accepted: false,
        valuation: None,
        assessment: None,
        decision: None,
        subject: None,
    }
}

fn currency(code: Option<&str>) -> Option<CurrencyCode> {
    code.and_then(|c| CurrencyCode::parse(c).ok())
}

fn charge(declared: &DeclaredCharge) -> Result<Option<Charge>, valuation::ValuationError> {
    Charge::from_fields(
        declared.mark.as_deref(),
        declared.rate,
        currency(declared.currency.as_deref()),
    )
}

/// Runs a declaration through validation, valuation, assessment and selectivity. Codes are
/// normalised in place (legacy codes mapped). A declaration that fails validation, or cannot
/// be valued or assessed, is rejected with every finding; otherwise it is accepted with its
/// figures and channel.
pub fn run(
    declaration: &mut Declaration,
    context: &Context<'_>,
    entry_id: &str,
    credit_class: &str,
) -> Outcome {
    let findings = validation::validate(declaration, context.refdata);
    if !validation::is_valid(&findings) {
        return Outcome {
            findings,
            accepted: false,
            valuation: None,
            assessment: None,
            decision: None,
            subject: None,
        };
    }
    let head = &declaration.head;
    let import = head.ie_flag != Some(IeFlag::Export);
    let date = head.declaration_date.unwrap_or_default();
    let terms = match Terms::from_code(head.transaction_terms.as_deref().unwrap_or("")) {
        Ok(terms) => terms,
        Err(e) => return rejected(findings, e.code(), "DecHead/TransMode", e.to_string()),
    };
    let charges = (|| {
        Ok::<_, valuation::ValuationError>((
            charge(&head.freight)?,
            charge(&head.insurance)?,
            charge(&head.other_charges)?,
        ))
    })();
    let (freight, insurance, other) = match charges {
        Ok(charges) => charges,
        Err(e) => return rejected(findings, e.code(), "DecHead/FeeMark", e.to_string()),
    };
    let prices = declaration
        .items
        .iter()
        .map(|item| Price {
            amount: item.total_price.unwrap_or_default(),
            currency: currency(item.currency.as_deref()).unwrap_or(CurrencyCode::CNY),
        })
        .collect();
    let basis = Basis {
        import,
        terms,
        prices,
        freight,
        insurance,
        other,
        gross_weight_kg: head.gross_weight_kg,
    };
    let rates = &context.refdata.exchange_rates;
    let valued = match valuation::value(&basis, |c| rates.rate_on(c, date)) {
        Ok(valued) => valued,
        Err(e) => return rejected(findings, e.code(), "DecHead", e.to_string()),
    };
    // Lines and quantities, each item's own.
    let mut lines = Vec::with_capacity(declaration.items.len());
    let mut quantities = Vec::with_capacity(declaration.items.len());
    for item in &declaration.items {
        let line = item
            .hs_code
            .as_deref()
            .and_then(|c| HsCode::parse_with_ciq(c).ok())
            .and_then(|(hs, _)| context.refdata.tariff.get(&hs));
        let Some(line) = line else {
            // Validation has checked every line; nothing else reaches here.
            return rejected(
                findings,
                "V0201",
                "DecList",
                "a commodity code is not a tariff line".into(),
            );
        };
        lines.push(line);
        let mut q = Vec::new();
        for (unit, qty) in [
            (item.legal_unit_1.as_deref(), item.legal_qty_1),
            (item.legal_unit_2.as_deref(), item.legal_qty_2),
        ] {
            if let (Some(unit), Some(qty)) = (unit.and_then(|u| UnitCode::parse(u).ok()), qty) {
                q.push((unit, qty));
            }
        }
        quantities.push(q);
    }
    // A certificate of origin (随附单证 Y) claims the conventional rate of the agreement the
    // origin country is party to; where it is party to several, the one that costs least.
    let proof_of_origin = declaration
        .documents
        .iter()
        .any(|d| d.code.as_deref() == Some(PROOF_OF_ORIGIN));
    let mut items: Vec<Item<'_>> = declaration
        .items
        .iter()
        .enumerate()
        .map(|(i, item)| Item {
            line: lines[i],
            customs_value: valued.items[i].customs_value,
            quantities: &quantities[i],
            origin: Origin {
                general: item
                    .origin_country
                    .as_ref()
                    .is_some_and(|o| context.general_rate_origins.contains(o)),
                agreement: None,
            },
            relieved: item.duty_mode.as_deref() == Some("3"),
        })
        .collect();
    if import && proof_of_origin {
        for (item, declared) in items.iter_mut().zip(&declaration.items) {
            let origin = declared.origin_country.as_deref().unwrap_or("");
            item.origin.agreement = cheapest_agreement(item, agreements_of(origin));
        }
    }
    let assessed = match assessment::assess(import, &items) {
        Ok(assessed) => assessed,
        Err(e) => return rejected(findings, e.code(), "DecList", e.to_string()),
    };
    let subject = subject(
        declaration,
        &valued,
        &quantities,
        context,
        entry_id,
        credit_class,
    );
    let decision = context.rules.select(&subject, date);
    Outcome {
        findings,
        accepted: true,
        valuation: Some(valued),
        assessment: Some(assessed),
        decision: Some(decision),
        subject: Some(subject),
    }
}

/// The attached-document code of a certificate of origin (原产地证明).
pub const PROOF_OF_ORIGIN: &str = "Y";

/// Preferential trade agreements with a conventional-rate column in the tariff, and the
/// origins (ISO alpha-3) party to each, as the agreements' texts list them.
pub const AGREEMENTS: &[(&str, &[&str])] = &[
    ("apta_亚太", &["BGD", "IND", "KOR", "LAO", "LKA", "MNG"]),
    (
        "asean_东盟",
        &[
            "BRN", "KHM", "IDN", "LAO", "MYS", "MMR", "PHL", "SGP", "THA", "VNM",
        ],
    ),
    ("australia_澳大利亚", &["AUS"]),
    ("cambodia_柬埔寨", &["KHM"]),
    ("cepa_hongkong_香港", &["HKG"]),
    ("cepa_macao_澳门", &["MAC"]),
    ("chile_智利", &["CHL"]),
    ("costa_rica_哥斯达黎加", &["CRI"]),
    ("ecfa_taiwan_台湾", &["TWN"]),
    ("ecuador_厄瓜多尔", &["ECU"]),
    ("georgia_格鲁吉亚", &["GEO"]),
    ("iceland_冰岛", &["ISL"]),
    ("korea_韩国", &["KOR"]),
    ("mauritius_毛里求斯", &["MUS"]),
    ("new_zealand_新西兰", &["NZL"]),
    ("nicaragua_尼加拉瓜", &["NIC"]),
    ("pakistan_巴基斯坦", &["PAK"]),
    ("peru_秘鲁", &["PER"]),
    ("serbia_塞尔维亚", &["SRB"]),
    ("singapore_新加坡", &["SGP"]),
    ("switzerland_瑞士", &["CHE"]),
];

/// The agreements an origin is party to.
pub fn agreements_of(origin: &str) -> impl Iterator<Item = &'static str> + '_ {
    AGREEMENTS
        .iter()
        .filter(move |(_, parties)| parties.contains(&origin))
        .map(|(agreement, _)| *agreement)
}

/// Of the agreements offered, the one whose rate makes the item's duty least (none when no
/// agreement lowers it, so the reason given stays the plain one).
fn cheapest_agreement<'a>(
    item: &Item<'a>,
    agreements: impl Iterator<Item = &'static str>,
) -> Option<&'a str> {
    // Compared on the item scaled a thousandfold in value and quantity: every rate kind
    // (ad valorem, specific, compound, thresholded on unit value) scales with it, and the
    // 50-yuan waiver, which is the declaration's business, cannot make two rates look equal.
    let scale = Decimal::ONE_THOUSAND;
    let quantities: Vec<(UnitCode, Decimal)> = item
        .quantities
        .iter()
        .map(|(u, q)| (*u, *q * scale))
        .collect();
    let duty_with = |agreement: Option<&'a str>| {
        let mut one = *item;
        one.origin.agreement = agreement;
        one.customs_value *= scale;
        one.quantities = &quantities;
        assessment::assess(true, &[one])
            .ok()
            .and_then(|a| a.items.first().map(|t| t.duty.amount))
    };
    let plain = duty_with(None)?;
    agreements
        .filter_map(|a| duty_with(Some(a)).map(|duty| (a, duty)))
        .filter(|(_, duty)| *duty < plain)
        .min_by_key(|(_, duty)| *duty)
        .map(|(a, _)| a)
}

/// The facts selectivity sees.
fn subject(
    declaration: &Declaration,
    valued: &Valuation,
    quantities: &[Vec<(UnitCode, Decimal)>],
    context: &Context<'_>,
    entry_id: &str,
    credit_class: &str,
) -> Subject {
    let head = &declaration.head;
    let mut facts = Facts::new();
    let text = |facts: &mut Facts, name: &str, value: Option<&String>| {
        if let Some(value) = value {
            facts.insert(name.to_owned(), Fact::Text(value.clone()));
        }
    };
    text(&mut facts, "trade_mode", head.trade_mode.as_ref());
    text(
        &mut facts,
        "declaring_customs",
        head.declaring_customs.as_ref(),
    );
    text(&mut facts, "trade_country", head.trade_country.as_ref());
    text(&mut facts, "transport_mode", head.transport_mode.as_ref());
    text(
        &mut facts,
        "consignee",
        head.consignee.customs_code.as_ref(),
    );
    if let Some(flag) = head.ie_flag {
        facts.insert("ie_flag".into(), Fact::Text(flag.as_str().into()));
    }
    facts.insert(
        "total_value_cny".into(),
        Fact::Number(valued.total.round_dp(2)),
    );
    facts.insert(
        "items".into(),
        Fact::Number(Decimal::from(declaration.items.len())),
    );
    let items = declaration
        .items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let mut f = Facts::new();
            text(&mut f, "hs_code", item.hs_code.as_ref());
            text(&mut f, "origin_country", item.origin_country.as_ref());
            text(
                &mut f,
                "destination_country",
                item.destination_country.as_ref(),
            );
            let value = valued.items[i].customs_value;
            f.insert("customs_value_cny".into(), Fact::Number(value.round_dp(2)));
            if let Some((unit, qty)) = quantities[i].first().filter(|(_, q)| !q.is_zero()) {
                f.insert("legal_unit".into(), Fact::Text(unit.to_string()));
                f.insert(
                    "unit_value_cny".into(),
                    Fact::Number((value / qty).round_dp(4)),
                );
            }
            if let Some((_, kg)) = quantities[i]
                .iter()
                .find(|(u, q)| u.as_str() == "035" && !q.is_zero())
            {
                f.insert(
                    "value_per_kg".into(),
                    Fact::Number((value / kg).round_dp(4)),
                );
            }
            context.references.annotate(&mut f);
            f
        })
        .collect();
    Subject {
        entry_id: entry_id.to_owned(),
        credit_class: credit_class.to_owned(),
        head: facts,
        items,
    }
}
