//! Cross-border e-commerce retail exports (跨境电商零售出口, 9610).
//!
//! The shop or its agent declares each parcel on an export inventory (出口清单, CEB603), with
//! one of two statistics flags: `A` 简化申报 (simplified: no customs declaration follows;
//! only for goods that need no export licence and bear no export duty, declared by their
//! 4-digit heading, padded to the ten digits the schema wants) or `B` 汇总申报 (summarised: the full commodity code, and the
//! released inventories are later gathered by a summary application, 汇总申请单 CEB701, into
//! one customs declaration, answered by the summary result 汇总结果单 CEB792).
//!
//! [`ExportInventory`] and [`SummaryApply`] are the typed documents; [`check_simplified`]
//! applies the `A` rule against the tariff; [`summarize`] checks a summary application
//! against the inventories on record (each known, released, `B`, the applicant's and of
//! the same customs, not summarised already) and builds the result, whose entity
//! [`summary_result_entity`] writes.

use chrono::NaiveDate;
use jinguan_chinaport::ceb::{Entity, Fields};
use jinguan_refdata::tariff::TariffLine;
use jinguan_types::Diagnostic;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::crossborder::{finish, Mismatch, Reader};

/// Codes of this module's findings. Stable API.
pub mod codes {
    /// `A` (simplified) for goods that need an export licence or bear export duty.
    pub const NOT_SIMPLE: &str = "C0641";
    /// A commodity code (or heading) with no tariff line.
    pub const NO_TARIFF_LINE: &str = "C0642";
    /// A statistics flag that is neither `A` nor `B`.
    pub const FLAG: &str = "C0643";
    /// A summary names an inventory not on record as released.
    pub const UNKNOWN_INVENTORY: &str = "C0650";
    /// A summary names another enterprise's inventory, or one of another customs.
    pub const NOT_THE_APPLICANTS: &str = "C0651";
    /// A summary names an inventory declared `A` (simplified), which is never summarised.
    pub const SIMPLIFIED: &str = "C0652";
    /// A summary names an inventory summarised already.
    pub const SUMMARISED: &str = "C0653";
    /// A summary names no inventory.
    pub const EMPTY: &str = "C0654";
}

/// One item of an export inventory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportItem {
    /// Item number.
    pub gnum: u32,
    /// Commodity code (10 digits for `B`; the 4-digit heading allowed for `A`).
    pub gcode: String,
    /// Name.
    pub gname: String,
    /// Declared quantity.
    pub qty: Decimal,
    /// Declared unit.
    pub unit: String,
    /// Unit price.
    pub price: Decimal,
    /// Total price.
    pub total_price: Decimal,
    /// Currency.
    pub currency: String,
    /// Destination country.
    pub country: String,
}

/// An export inventory (CEB603 `Inventory`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportInventory {
    /// The enterprise's own number.
    pub cop_no: String,
    /// The order.
    pub order_no: String,
    /// Platform.
    pub ebp_code: String,
    /// E-commerce enterprise (the exporter).
    pub ebc_code: String,
    /// Logistics company.
    pub logistics_code: String,
    /// Waybill number.
    pub logistics_no: String,
    /// Declaring customs.
    pub customs_code: String,
    /// Port of exit customs.
    pub port_code: String,
    /// Export date (`ieDate`, `yyyyMMdd`).
    pub ie_date: Option<NaiveDate>,
    /// `A` simplified or `B` summarised.
    pub statistics_flag: String,
    /// Trade mode (9610).
    pub trade_mode: String,
    /// Gross weight, kg.
    pub gross_weight: Decimal,
    /// Net weight, kg.
    pub net_weight: Decimal,
    /// Declared (`appStatus` 2) rather than kept.
    pub declared: bool,
    /// The items.
    pub items: Vec<ExportItem>,
}

impl ExportInventory {
    /// Reads a CEB603 `Inventory` entity.
    pub fn from_entity(entity: &Entity) -> Result<Self, Vec<Diagnostic>> {
        let mut r = Reader::new(&entity.head, "Inventory/InventoryHead");
        let ie_date = r.text("ieDate");
        let mut inventory = Self {
            cop_no: r.required("copNo"),
            order_no: r.required("orderNo"),
            ebp_code: r.required("ebpCode"),
            ebc_code: r.required("ebcCode"),
            logistics_code: r.required("logisticsCode"),
            logistics_no: r.required("logisticsNo"),
            customs_code: r.required("customsCode"),
            port_code: r.text("portCode"),
            ie_date: NaiveDate::parse_from_str(&ie_date, "%Y%m%d").ok(),
            statistics_flag: r.required("statisticsFlag"),
            trade_mode: r.text("tradeMode"),
            gross_weight: r.decimal("grossWeight"),
            net_weight: r.decimal("netWeight"),
            declared: r.text("appStatus") == "2",
            items: Vec::new(),
        };
        let mut diagnostics = std::mem::take(&mut r.diagnostics);
        for (i, list) in entity.lists.iter().enumerate() {
            let mut r = Reader::new(list, format!("Inventory/InventoryList[{}]", i + 1));
            inventory.items.push(ExportItem {
                gnum: r.text("gnum").parse().unwrap_or(0),
                gcode: r.required("gcode"),
                gname: r.text("gname"),
                qty: r.decimal("qty"),
                unit: r.text("unit"),
                price: r.decimal("price"),
                total_price: r.decimal("totalPrice"),
                currency: r.text("currency"),
                country: r.text("country"),
            });
            diagnostics.extend(r.diagnostics);
        }
        finish(inventory, diagnostics)
    }

    /// The key an export inventory is known by for its sender: the order, with the platform.
    pub fn key(&self) -> String {
        format!("{}/{}", self.ebp_code, self.order_no)
    }
}

/// Checks the statistics flag: `B` takes any goods; `A` (simplified, declared by heading:
/// the first four digits of the code) only goods none of whose tariff lines under that
/// heading needs an export licence (the supervision conditions' licences for export) or
/// bears an export duty. `lines` gives the
/// tariff lines under a code or heading (empty: no such code). The licence table names the
/// supervision conditions.
pub fn check_simplified<'t>(
    inventory: &ExportInventory,
    lines: impl Fn(&str) -> Vec<&'t TariffLine>,
    licences: &jinguan_refdata::tables::CodeTable,
) -> Vec<Mismatch> {
    let mut found = Vec::new();
    match inventory.statistics_flag.as_str() {
        "B" => return found,
        "A" => {}
        other => {
            found.push(Mismatch {
                code: codes::FLAG.into(),
                message: format!(
                    "statisticsFlag {other:?} is neither A (简化申报) nor B (汇总申报)"
                ),
            });
            return found;
        }
    }
    for item in &inventory.items {
        // Simplified inventories give the heading: its four digits count, the rest is
        // padding (the schema wants ten).
        let heading: String = item.gcode.chars().take(4).collect();
        let under = lines(&heading);
        if under.is_empty() {
            found.push(Mismatch {
                code: codes::NO_TARIFF_LINE.into(),
                message: format!("item {}: no tariff line under {:?}", item.gnum, item.gcode),
            });
            continue;
        }
        let licensed = under.iter().find_map(|line| {
            jinguan_refdata::supervision::required_licences(
                &line.supervision_conditions,
                false,
                licences,
            )
            .first()
            .map(|(code, name)| (line.code.to_string(), *code, *name))
        });
        if let Some((code, condition, name)) = licensed {
            found.push(Mismatch {
                code: codes::NOT_SIMPLE.into(),
                message: format!(
                    "item {}: {code} needs {name} ({condition}) to leave: declare B (汇总申报) \
                     with the full code",
                    item.gnum
                ),
            });
            continue;
        }
        let dutiable = under.iter().find(|line| {
            line.export
                .as_ref()
                .and_then(|r| r.expr())
                .is_some_and(|expr| !matches!(expr, jinguan_refdata::rate::RateExpr::AdValorem { percent } if percent.is_zero()))
        });
        if let Some(line) = dutiable {
            found.push(Mismatch {
                code: codes::NOT_SIMPLE.into(),
                message: format!(
                    "item {}: {} bears export duty ({}): declare B (汇总申报) with the full code",
                    item.gnum,
                    line.code,
                    line.export
                        .as_ref()
                        .map(|r| r.text.to_string())
                        .unwrap_or_default()
                ),
            });
        }
    }
    found
}

/// A summary application (CEB701 `SummaryApply`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SummaryApply {
    /// The application's own id.
    pub guid: String,
    /// Declaring customs.
    pub customs_code: String,
    /// The enterprise's own number.
    pub cop_no: String,
    /// The exporter (e-commerce enterprise).
    pub ebc_code: String,
    /// Its name.
    pub ebc_name: String,
    /// The agent.
    pub agent_code: String,
    /// Its name.
    pub agent_name: String,
    /// The declaring agent.
    pub decl_agent_code: String,
    /// Its name.
    pub decl_agent_name: String,
    /// `1` by consignor, `2` by consignor and producer.
    pub summary_flag: String,
    /// Declared rather than kept.
    pub declared: bool,
    /// The inventories gathered.
    pub invt_nos: Vec<String>,
}

impl SummaryApply {
    /// Reads a CEB701 `SummaryApply` entity.
    pub fn from_entity(entity: &Entity) -> Result<Self, Vec<Diagnostic>> {
        let mut r = Reader::new(&entity.head, "SummaryApply/SummaryApplyHead");
        let apply = Self {
            guid: r.required("guid"),
            customs_code: r.required("customsCode"),
            cop_no: r.required("copNo"),
            ebc_code: r.required("ebcCode"),
            ebc_name: r.text("ebcName"),
            agent_code: r.text("agentCode"),
            agent_name: r.text("agentName"),
            decl_agent_code: r.text("declAgentCode"),
            decl_agent_name: r.text("declAgentName"),
            summary_flag: r.text("summaryFlag"),
            declared: r.text("appStatus") == "2",
            invt_nos: entity
                .lists
                .iter()
                .filter_map(|l| l.get("invtNo").map(str::to_owned))
                .collect(),
        };
        finish(apply, r.diagnostics)
    }
}

/// An export inventory on record: its number, status and the inventory.
#[derive(Debug, Clone)]
pub struct OnRecord<'a> {
    /// The number customs gave.
    pub invt_no: &'a str,
    /// Released (`800`), or another status.
    pub status: &'a str,
    /// Summarised already.
    pub summarised: bool,
    /// The inventory.
    pub inventory: &'a ExportInventory,
}

/// What a summary gathers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Summary {
    /// Total gross weight, kg.
    pub gross_weight: Decimal,
    /// Total net weight, kg.
    pub net_weight: Decimal,
    /// (invtNo, logisticsNo, gnum, gcode) of every item.
    pub lines: Vec<(String, String, u32, String)>,
}

/// Checks a summary application against the inventories it names (`find` gives each on
/// record) and gathers them.
pub fn summarize<'a>(
    apply: &SummaryApply,
    find: impl Fn(&str) -> Option<OnRecord<'a>>,
) -> Result<Summary, Vec<Mismatch>> {
    let mut found = Vec::new();
    let mut summary = Summary {
        gross_weight: Decimal::ZERO,
        net_weight: Decimal::ZERO,
        lines: Vec::new(),
    };
    if apply.invt_nos.is_empty() {
        found.push(Mismatch {
            code: codes::EMPTY.into(),
            message: "the summary names no inventory".into(),
        });
    }
    for (i, invt_no) in apply.invt_nos.iter().enumerate() {
        if apply.invt_nos[..i].contains(invt_no) {
            continue;
        }
        let Some(record) = find(invt_no).filter(|r| r.status == "800") else {
            found.push(Mismatch {
                code: codes::UNKNOWN_INVENTORY.into(),
                message: format!("{invt_no}: no released export inventory"),
            });
            continue;
        };
        let inventory = record.inventory;
        if inventory.ebc_code != apply.ebc_code || inventory.customs_code != apply.customs_code {
            found.push(Mismatch {
                code: codes::NOT_THE_APPLICANTS.into(),
                message: format!(
                    "{invt_no}: declared by {} at {}, not by {} at {}",
                    inventory.ebc_code, inventory.customs_code, apply.ebc_code, apply.customs_code
                ),
            });
            continue;
        }
        if inventory.statistics_flag == "A" {
            found.push(Mismatch {
                code: codes::SIMPLIFIED.into(),
                message: format!("{invt_no}: declared A (简化申报), which is not summarised"),
            });
            continue;
        }
        if record.summarised {
            found.push(Mismatch {
                code: codes::SUMMARISED.into(),
                message: format!("{invt_no}: summarised already"),
            });
            continue;
        }
        summary.gross_weight += inventory.gross_weight;
        summary.net_weight += inventory.net_weight;
        for item in &inventory.items {
            summary.lines.push((
                invt_no.clone(),
                inventory.logistics_no.clone(),
                item.gnum,
                item.gcode.clone(),
            ));
        }
    }
    if found.is_empty() {
        Ok(summary)
    } else {
        Err(found)
    }
}

/// The CEB792 `SummaryResult` of an accepted summary: its numbers (`sumNo`, `declSeqNo`),
/// the declaration's state (`decState`), the totals and every item gathered.
pub fn summary_result_entity(
    apply: &SummaryApply,
    summary: &Summary,
    sum_no: &str,
    decl_seq_no: &str,
    dec_state: &str,
    time: chrono::NaiveDateTime,
) -> Entity {
    let mut head = Fields::default();
    head.set("guid", apply.guid.clone());
    head.set("customsCode", apply.customs_code.clone());
    head.set("sumNo", sum_no);
    head.set("opDate", time.format("%Y%m%d%H%M%S%3f").to_string());
    head.set("declSeqNo", decl_seq_no);
    head.set("decState", dec_state);
    for (field, value) in [
        ("agentCode", &apply.agent_code),
        ("agentName", &apply.agent_name),
        ("ebcCode", &apply.ebc_code),
        ("ebcName", &apply.ebc_name),
        ("declAgentCode", &apply.decl_agent_code),
        ("declAgentName", &apply.decl_agent_name),
    ] {
        head.set(field, value.clone());
    }
    head.set("grossWeight", summary.gross_weight.normalize().to_string());
    head.set("netWeight", summary.net_weight.normalize().to_string());
    head.set("msgCount", "1");
    head.set("msgSeqNo", "1");
    let lists = summary
        .lines
        .iter()
        .enumerate()
        .map(|(seq, (invt_no, logistics_no, gnum, gcode))| {
            let mut list = Fields::default();
            list.set("invtNo", invt_no.clone());
            list.set("logisticsNo", logistics_no.clone());
            // The 2022-05 schema numbers the result's lines (the 2018 one did not).
            list.set("gseqno", (seq + 1).to_string());
            list.set("gnum", gnum.to_string());
            list.set("gcode", gcode.clone());
            list
        })
        .collect();
    Entity {
        name: "SummaryResult".into(),
        head_name: Some("SummaryResultHead".into()),
        head,
        list_name: Some("SummaryResultList".into()),
        lists,
    }
}
