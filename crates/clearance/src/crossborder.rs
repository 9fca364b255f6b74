//! Cross-border e-commerce retail imports (跨境电商零售进口, 9610 直购 and 1210 网购保税).
//!
//! Four companies speak about one parcel: the platform or shop sends the order (CEB311), the
//! payment company the payment (CEB411), the logistics company the waybill (CEB511), and the
//! shop or its agent the inventory (清单, CEB621) customs clears. [`match_documents`] checks
//! that the four agree on their keys ("三单对碰"), each disagreement a coded [`Mismatch`].
//! [`assess`] taxes an inventory: within the per-transaction limit (5,000 yuan) and the
//! buyer's yearly limit (26,000 yuan) there is no duty and consumption tax and VAT are
//! collected at 70 %; above either, the inventory is taxed as general trade, in full. Every
//! inventory cleared counts towards its buyer's yearly total; a cancellation (CEB623) or a
//! return (CEB625) gives its amount back ([`refund_value`]).
//!
//! The typed documents are read from the CEB entities of `jinguan_chinaport::ceb`; the
//! caller keeps the yearly totals (the server does, in the ledger).

use std::str::FromStr;

use chrono::{Datelike, NaiveDate};
use jinguan_chinaport::ceb::{Entity, Fields};
use jinguan_refdata::tariff::TariffLine;
use jinguan_types::{round_fen, Diagnostic, Severity, UnitCode};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::assessment::{self, Assessment, AssessmentError, Item, Origin};

/// The most one transaction may be worth (goods, freight and insurance) to be taxed as
/// cross-border retail, in yuan (财关税〔2018〕49号).
pub const TRANSACTION_LIMIT: Decimal = Decimal::from_parts(5000, 0, 0, false, 0);
/// The most a buyer may buy in a calendar year as cross-border retail, in yuan.
pub const YEARLY_LIMIT: Decimal = Decimal::from_parts(26000, 0, 0, false, 0);

/// Codes of this module's findings. Stable API.
pub mod codes {
    /// No order with the inventory's order number and platform.
    pub const NO_ORDER: &str = "C0601";
    /// No payment for the order.
    pub const NO_PAYMENT: &str = "C0602";
    /// No waybill with the inventory's logistics number and company.
    pub const NO_WAYBILL: &str = "C0603";
    /// The e-commerce enterprise or platform differs between documents.
    pub const PARTY: &str = "C0604";
    /// The payment company or transaction differs between order and payment.
    pub const PAYMENT_KEY: &str = "C0605";
    /// The waybill is for another order.
    pub const WAYBILL_ORDER: &str = "C0606";
    /// Amounts disagree (paid, goods value, freight).
    pub const AMOUNT: &str = "C0607";
    /// The buyer's identity differs between documents.
    pub const BUYER: &str = "C0608";
    /// A field is missing or not a number where the model needs it.
    pub const FIELD: &str = "C0609";
    /// Above the per-transaction limit: taxed as general trade.
    pub const OVER_TRANSACTION_LIMIT: &str = "C0620";
    /// Above the buyer's yearly limit: taxed as general trade.
    pub const OVER_YEARLY_LIMIT: &str = "C0621";
    /// An item's commodity code has no tariff line.
    pub const NO_TARIFF_LINE: &str = "C0622";
}

/// Reads typed fields from an entity's head or list, collecting what is missing or bad.
pub(crate) struct Reader<'a> {
    fields: &'a Fields,
    path: String,
    pub(crate) diagnostics: Vec<Diagnostic>,
}

impl<'a> Reader<'a> {
    pub(crate) fn new(fields: &'a Fields, path: impl Into<String>) -> Self {
        Self {
            fields,
            path: path.into(),
            diagnostics: Vec::new(),
        }
    }

    pub(crate) fn text(&self, name: &str) -> String {
        self.fields.text(name).to_owned()
    }

    pub(crate) fn decimal(&mut self, name: &str) -> Decimal {
        self.optional_decimal(name).unwrap_or(Decimal::ZERO)
    }

    fn optional_decimal(&mut self, name: &str) -> Option<Decimal> {
        let text = self.fields.get(name)?;
        match Decimal::from_str(text) {
            Ok(value) => Some(value),
            Err(_) => {
                self.diagnostics.push(Diagnostic::new(
                    Severity::Error,
                    codes::FIELD,
                    format!("{}/{name}", self.path),
                    format!("{text:?} is not a number"),
                ));
                None
            }
        }
    }

    pub(crate) fn required(&mut self, name: &str) -> String {
        let value = self.text(name);
        if value.is_empty() {
            self.diagnostics.push(Diagnostic::new(
                Severity::Error,
                codes::FIELD,
                format!("{}/{name}", self.path),
                format!("{name} is required"),
            ));
        }
        value
    }
}

/// A buyer, as customs counts their yearly purchases: the identity document type and number.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct Buyer {
    /// `buyerIdType` (1 = resident identity card).
    pub id_type: String,
    /// `buyerIdNumber`.
    pub id_number: String,
}

impl Buyer {
    /// The key yearly totals are kept under.
    pub fn key(&self) -> String {
        format!("{}:{}", self.id_type, self.id_number)
    }
}

/// An order (CEB311 `Order`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Order {
    /// Order number.
    pub order_no: String,
    /// Platform code.
    pub ebp_code: String,
    /// E-commerce enterprise code.
    pub ebc_code: String,
    /// Goods value.
    pub goods_value: Decimal,
    /// Freight.
    pub freight: Decimal,
    /// Discount.
    pub discount: Decimal,
    /// Tax the buyer was charged.
    pub tax_total: Decimal,
    /// Actually paid.
    pub actual_paid: Decimal,
    /// Currency (legacy customs code, `142` = yuan).
    pub currency: String,
    /// The buyer.
    pub buyer: Buyer,
    /// The buyer's name.
    pub buyer_name: String,
    /// Payment company code.
    pub pay_code: String,
    /// Payment transaction number.
    pub pay_transaction_id: String,
}

impl Order {
    /// Reads an order entity.
    pub fn from_entity(entity: &Entity) -> Result<Self, Vec<Diagnostic>> {
        let mut r = Reader::new(&entity.head, "Order/OrderHead");
        let order = Self {
            order_no: r.required("orderNo"),
            ebp_code: r.required("ebpCode"),
            ebc_code: r.required("ebcCode"),
            goods_value: r.decimal("goodsValue"),
            freight: r.decimal("freight"),
            discount: r.decimal("discount"),
            tax_total: r.decimal("taxTotal"),
            actual_paid: r.decimal("acturalPaid"),
            currency: r.text("currency"),
            buyer: Buyer {
                id_type: r.required("buyerIdType"),
                id_number: r.required("buyerIdNumber"),
            },
            buyer_name: r.text("buyerName"),
            pay_code: r.text("payCode"),
            pay_transaction_id: r.text("payTransactionId"),
        };
        finish(order, r.diagnostics)
    }
}

/// A payment (CEB411 `PaymentHead`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Payment {
    /// Payment company code.
    pub pay_code: String,
    /// Payment transaction number.
    pub pay_transaction_id: String,
    /// The order paid.
    pub order_no: String,
    /// Platform code.
    pub ebp_code: String,
    /// The payer.
    pub payer: Buyer,
    /// The payer's name.
    pub payer_name: String,
    /// Amount paid.
    pub amount_paid: Decimal,
    /// Currency (legacy customs code).
    pub currency: String,
}

impl Payment {
    /// Reads a payment entity.
    pub fn from_entity(entity: &Entity) -> Result<Self, Vec<Diagnostic>> {
        let mut r = Reader::new(&entity.head, "Payment/PaymentHead");
        let payment = Self {
            pay_code: r.required("payCode"),
            pay_transaction_id: r.required("payTransactionId"),
            order_no: r.required("orderNo"),
            ebp_code: r.required("ebpCode"),
            payer: Buyer {
                id_type: r.required("payerIdType"),
                id_number: r.required("payerIdNumber"),
            },
            payer_name: r.text("payerName"),
            amount_paid: r.decimal("amountPaid"),
            currency: r.text("currency"),
        };
        finish(payment, r.diagnostics)
    }
}

/// A waybill (CEB511 `LogisticsHead`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Waybill {
    /// Logistics company code.
    pub logistics_code: String,
    /// Waybill number.
    pub logistics_no: String,
    /// The order carried.
    pub order_no: String,
    /// Freight, when given.
    pub freight: Option<Decimal>,
    /// Gross weight (kg).
    pub weight: Decimal,
}

impl Waybill {
    /// Reads a waybill entity.
    pub fn from_entity(entity: &Entity) -> Result<Self, Vec<Diagnostic>> {
        let mut r = Reader::new(&entity.head, "Logistics/LogisticsHead");
        let waybill = Self {
            logistics_code: r.required("logisticsCode"),
            logistics_no: r.required("logisticsNo"),
            order_no: r.required("orderNo"),
            freight: r.optional_decimal("freight"),
            weight: r.decimal("weight"),
        };
        finish(waybill, r.diagnostics)
    }
}

/// One goods item of an inventory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InventoryItem {
    /// Item number (`gnum`).
    pub gnum: u32,
    /// The shop's item number.
    pub item_no: String,
    /// Commodity code (10 digits).
    pub gcode: String,
    /// Goods name.
    pub gname: String,
    /// Origin country (legacy customs code).
    pub country: String,
    /// Quantity declared.
    pub qty: Decimal,
    /// First legal quantity.
    pub qty1: Decimal,
    /// First legal unit (3 digits).
    pub unit1: String,
    /// Second legal quantity.
    pub qty2: Option<Decimal>,
    /// Second legal unit.
    pub unit2: String,
    /// Unit price.
    pub price: Decimal,
    /// Total price.
    pub total_price: Decimal,
}

/// An item's number and declared quantity: what a partial return is counted against.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ItemQuantity {
    /// Item number (`gnum`).
    pub gnum: u32,
    /// Quantity declared.
    pub qty: Decimal,
}

/// An import inventory (CEB621 `Inventory`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inventory {
    /// The shop's or agent's number for it (`copNo`).
    pub cop_no: String,
    /// Order number.
    pub order_no: String,
    /// Platform code.
    pub ebp_code: String,
    /// E-commerce enterprise code.
    pub ebc_code: String,
    /// Logistics company code.
    pub logistics_code: String,
    /// Waybill number.
    pub logistics_no: String,
    /// Guarantor code.
    pub assure_code: String,
    /// Bonded account book (1210).
    pub ems_no: String,
    /// Customs of declaration (4 digits).
    pub customs_code: String,
    /// Declaration date.
    pub decl_date: Option<NaiveDate>,
    /// The buyer.
    pub buyer: Buyer,
    /// The buyer's name.
    pub buyer_name: String,
    /// The declaring agent's code.
    pub agent_code: String,
    /// Supervision mode (9610, 1210, 1239).
    pub trade_mode: String,
    /// Freight.
    pub freight: Decimal,
    /// Insurance.
    pub insured_fee: Decimal,
    /// Currency (legacy customs code).
    pub currency: String,
    /// Whether it asks to be declared (`appStatus` 2) rather than stored.
    pub declared: bool,
    /// The goods.
    pub items: Vec<InventoryItem>,
}

impl Inventory {
    /// Reads an inventory entity.
    pub fn from_entity(entity: &Entity) -> Result<Self, Vec<Diagnostic>> {
        let mut r = Reader::new(&entity.head, "Inventory/InventoryHead");
        let decl_time = r.text("declTime");
        let mut inventory = Self {
            cop_no: r.text("copNo"),
            order_no: r.required("orderNo"),
            ebp_code: r.required("ebpCode"),
            ebc_code: r.required("ebcCode"),
            logistics_code: r.required("logisticsCode"),
            logistics_no: r.required("logisticsNo"),
            assure_code: r.text("assureCode"),
            ems_no: r.text("emsNo"),
            customs_code: r.required("customsCode"),
            decl_date: NaiveDate::parse_from_str(&decl_time, "%Y%m%d").ok(),
            buyer: Buyer {
                id_type: r.required("buyerIdType"),
                id_number: r.required("buyerIdNumber"),
            },
            buyer_name: r.text("buyerName"),
            agent_code: r.text("agentCode"),
            trade_mode: r.text("tradeMode"),
            freight: r.decimal("freight"),
            insured_fee: r.decimal("insuredFee"),
            currency: r.text("currency"),
            declared: r.text("appStatus") == "2",
            items: Vec::new(),
        };
        let mut diagnostics = r.diagnostics;
        for (i, list) in entity.lists.iter().enumerate() {
            let mut r = Reader::new(list, format!("Inventory/InventoryList[{}]", i + 1));
            let gnum = r.text("gnum").parse().unwrap_or(0);
            inventory.items.push(InventoryItem {
                gnum,
                item_no: r.text("itemNo"),
                gcode: r.required("gcode"),
                gname: r.text("gname"),
                country: r.text("country"),
                qty: r.decimal("qty"),
                qty1: r.decimal("qty1"),
                unit1: r.text("unit1"),
                qty2: r.optional_decimal("qty2"),
                unit2: r.text("unit2"),
                price: r.decimal("price"),
                total_price: r.decimal("totalPrice"),
            });
            diagnostics.extend(r.diagnostics);
        }
        finish(inventory, diagnostics)
    }

    /// The goods' total price.
    pub fn goods_value(&self) -> Decimal {
        self.items.iter().map(|i| i.total_price).sum()
    }

    /// What the transaction is worth for the limits, in the inventory's currency: goods,
    /// freight and insurance.
    pub fn transaction_value(&self) -> Decimal {
        self.goods_value() + self.freight + self.insured_fee
    }

    /// The key an inventory is known by for its sender: the order, with the platform.
    pub fn key(&self) -> String {
        format!("{}/{}", self.ebp_code, self.order_no)
    }

    /// Each item's number and declared quantity, in item order.
    pub fn quantities(&self) -> Vec<ItemQuantity> {
        self.items
            .iter()
            .map(|item| ItemQuantity {
                gnum: item.gnum,
                qty: item.qty,
            })
            .collect()
    }
}

/// A cancellation (CEB623 `InvtCancel`) or return (CEB625 `InvtRefund`) of an inventory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reversal {
    /// The inventory number customs gave.
    pub invt_no: String,
    /// The order.
    pub order_no: String,
    /// Platform code.
    pub ebp_code: String,
    /// The buyer.
    pub buyer: Buyer,
    /// Why.
    pub reason: String,
    /// Returned items (`gnum`, quantity); empty for a cancellation, which reverses all.
    pub items: Vec<(u32, Decimal)>,
}

impl Reversal {
    /// Reads an `InvtCancel` or `InvtRefund` entity.
    pub fn from_entity(entity: &Entity) -> Result<Self, Vec<Diagnostic>> {
        let path = entity
            .head_name
            .as_deref()
            .unwrap_or(&entity.name)
            .to_owned();
        let mut r = Reader::new(&entity.head, path);
        let mut reversal = Self {
            invt_no: r.required("invtNo"),
            order_no: r.required("orderNo"),
            ebp_code: r.required("ebpCode"),
            buyer: Buyer {
                id_type: r.required("buyerIdType"),
                id_number: r.required("buyerIdNumber"),
            },
            reason: r.text("reason"),
            items: Vec::new(),
        };
        let mut diagnostics = r.diagnostics;
        for (i, list) in entity.lists.iter().enumerate() {
            let mut r = Reader::new(list, format!("InvtRefundList[{}]", i + 1));
            let gnum = r.text("gnum").parse().unwrap_or(0);
            let qty = r.decimal("qty");
            reversal.items.push((gnum, qty));
            diagnostics.extend(r.diagnostics);
        }
        finish(reversal, diagnostics)
    }
}

pub(crate) fn finish<T>(value: T, diagnostics: Vec<Diagnostic>) -> Result<T, Vec<Diagnostic>> {
    if diagnostics.is_empty() {
        Ok(value)
    } else {
        Err(diagnostics)
    }
}

/// One way the documents disagree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mismatch {
    /// The code ([`codes`]).
    pub code: String,
    /// What disagrees, with both values.
    pub message: String,
}

fn mismatch(code: &str, message: String) -> Mismatch {
    Mismatch {
        code: code.to_owned(),
        message,
    }
}

/// Checks an inventory against its order, payment and waybill (三单对碰): all present, and
/// agreeing on order number, platform and enterprise, payment company and transaction,
/// waybill, amounts and buyer. Every disagreement is reported, not only the first.
pub fn match_documents(
    inventory: &Inventory,
    order: Option<&Order>,
    payment: Option<&Payment>,
    waybill: Option<&Waybill>,
) -> Vec<Mismatch> {
    let mut found = Vec::new();
    let i = inventory;
    match order {
        None => found.push(mismatch(
            codes::NO_ORDER,
            format!("no order {} of platform {}", i.order_no, i.ebp_code),
        )),
        Some(o) => {
            if o.ebc_code != i.ebc_code || o.ebp_code != i.ebp_code {
                found.push(mismatch(
                    codes::PARTY,
                    format!(
                        "the order is of platform {} and enterprise {}, the inventory of {} and {}",
                        o.ebp_code, o.ebc_code, i.ebp_code, i.ebc_code
                    ),
                ));
            }
            if o.buyer != i.buyer {
                found.push(mismatch(
                    codes::BUYER,
                    format!(
                        "the order's buyer is {}, the inventory's {}",
                        o.buyer.key(),
                        i.buyer.key()
                    ),
                ));
            }
            if o.goods_value != i.goods_value() {
                found.push(mismatch(
                    codes::AMOUNT,
                    format!(
                        "the order's goods value is {}, the inventory's goods total {}",
                        o.goods_value,
                        i.goods_value()
                    ),
                ));
            }
            if o.freight != i.freight {
                found.push(mismatch(
                    codes::AMOUNT,
                    format!(
                        "the order's freight is {}, the inventory's {}",
                        o.freight, i.freight
                    ),
                ));
            }
        }
    }
    match payment {
        None => found.push(mismatch(
            codes::NO_PAYMENT,
            format!("no payment of order {}", i.order_no),
        )),
        Some(p) => {
            if p.order_no != i.order_no || p.ebp_code != i.ebp_code {
                found.push(mismatch(
                    codes::PARTY,
                    format!(
                        "the payment is for order {} of platform {}",
                        p.order_no, p.ebp_code
                    ),
                ));
            }
            if p.payer != i.buyer {
                found.push(mismatch(
                    codes::BUYER,
                    format!(
                        "the payer is {}, the inventory's buyer {}",
                        p.payer.key(),
                        i.buyer.key()
                    ),
                ));
            }
            if let Some(o) = order {
                let declared_payment = !o.pay_code.is_empty() || !o.pay_transaction_id.is_empty();
                if declared_payment
                    && (o.pay_code != p.pay_code || o.pay_transaction_id != p.pay_transaction_id)
                {
                    found.push(mismatch(
                        codes::PAYMENT_KEY,
                        format!(
                            "the order names payment {}/{}, the payment is {}/{}",
                            o.pay_code, o.pay_transaction_id, p.pay_code, p.pay_transaction_id
                        ),
                    ));
                }
                if o.actual_paid != p.amount_paid {
                    found.push(mismatch(
                        codes::AMOUNT,
                        format!(
                            "the order says {} was paid, the payment {}",
                            o.actual_paid, p.amount_paid
                        ),
                    ));
                }
            }
        }
    }
    match waybill {
        None => found.push(mismatch(
            codes::NO_WAYBILL,
            format!(
                "no waybill {} of logistics company {}",
                i.logistics_no, i.logistics_code
            ),
        )),
        Some(w) => {
            if w.order_no != i.order_no {
                found.push(mismatch(
                    codes::WAYBILL_ORDER,
                    format!(
                        "waybill {} carries order {}, not {}",
                        w.logistics_no, w.order_no, i.order_no
                    ),
                ));
            }
        }
    }
    found
}

/// How an inventory is taxed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Regime {
    /// Within both limits: no duty, 70 % of VAT and consumption tax.
    CrossBorder,
    /// Above the per-transaction limit: general trade taxation.
    OverTransactionLimit,
    /// Above the buyer's yearly limit: general trade taxation.
    OverYearlyLimit,
}

impl Regime {
    /// The code of a general-trade regime's finding, none within the limits.
    pub fn code(self) -> Option<&'static str> {
        match self {
            Self::CrossBorder => None,
            Self::OverTransactionLimit => Some(codes::OVER_TRANSACTION_LIMIT),
            Self::OverYearlyLimit => Some(codes::OVER_YEARLY_LIMIT),
        }
    }
}

/// The regime of a transaction worth `value` yuan for a buyer who has bought `year_total`
/// yuan this year before it.
pub fn regime(value: Decimal, year_total: Decimal) -> Regime {
    if value > TRANSACTION_LIMIT {
        Regime::OverTransactionLimit
    } else if year_total + value > YEARLY_LIMIT {
        Regime::OverYearlyLimit
    } else {
        Regime::CrossBorder
    }
}

/// An inventory's taxes (the electronic tax bill, CEB816).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TaxBill {
    /// How it was taxed.
    pub regime: Regime,
    /// What the transaction is worth in yuan (goods, freight, insurance).
    pub value: Decimal,
    /// The buyer's yearly total before it.
    pub year_total_before: Decimal,
    /// The year counted.
    pub year: i32,
    /// Each item's dutiable price in yuan (`taxPrice`), in item order.
    pub tax_prices: Vec<Decimal>,
    /// The taxes, per item and in total.
    pub assessment: Assessment,
}

impl TaxBill {
    /// The buyer's yearly total after this inventory.
    pub fn year_total_after(&self) -> Decimal {
        self.year_total_before + self.value
    }
}

/// Why an inventory could not be taxed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TaxError {
    /// An item's commodity code has no tariff line.
    #[error("C0622: item {gnum}: no tariff line for commodity code {gcode:?}")]
    NoTariffLine {
        /// The item.
        gnum: u32,
        /// Its code.
        gcode: String,
    },
    /// The rates could not be applied.
    #[error(transparent)]
    Assessment(#[from] AssessmentError),
}

impl TaxError {
    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NoTariffLine { .. } => codes::NO_TARIFF_LINE,
            Self::Assessment(e) => e.code(),
        }
    }
}

/// Taxes an inventory. `lines` are the tariff lines of its items in order (`None` where the
/// code has none), `to_yuan` converts its currency to yuan (1 for `142`), `year_total` is
/// what its buyer bought this year before it. Freight and insurance are shared among the
/// items by value, the last item taking what rounding leaves, so the prices add up exactly.
pub fn assess(
    inventory: &Inventory,
    lines: &[Option<&TariffLine>],
    to_yuan: Decimal,
    year_total: Decimal,
    year: i32,
) -> Result<TaxBill, TaxError> {
    let goods = inventory.goods_value();
    let charges = round_fen((inventory.freight + inventory.insured_fee) * to_yuan);
    let mut tax_prices = Vec::with_capacity(inventory.items.len());
    let mut shared = Decimal::ZERO;
    for (n, item) in inventory.items.iter().enumerate() {
        let share = if n + 1 == inventory.items.len() {
            charges - shared
        } else if goods.is_zero() {
            Decimal::ZERO
        } else {
            round_fen(charges * item.total_price / goods)
        };
        shared += share;
        tax_prices.push(round_fen(item.total_price * to_yuan) + share);
    }
    let value: Decimal = tax_prices.iter().sum();
    let regime = regime(value, year_total);
    let mut quantities: Vec<Vec<(UnitCode, Decimal)>> = Vec::new();
    for item in &inventory.items {
        let mut q = Vec::new();
        if let Ok(unit) = UnitCode::parse(&item.unit1) {
            q.push((unit, item.qty1));
        }
        if let (Ok(unit), Some(qty)) = (UnitCode::parse(&item.unit2), item.qty2) {
            q.push((unit, qty));
        }
        quantities.push(q);
    }
    let mut items = Vec::with_capacity(inventory.items.len());
    for (n, item) in inventory.items.iter().enumerate() {
        let line = lines
            .get(n)
            .copied()
            .flatten()
            .ok_or_else(|| TaxError::NoTariffLine {
                gnum: item.gnum,
                gcode: item.gcode.clone(),
            })?;
        items.push(Item {
            line,
            customs_value: tax_prices[n],
            quantities: &quantities[n],
            origin: Origin::default(),
            relieved: false,
        });
    }
    let assessment = match regime {
        Regime::CrossBorder => assessment::assess_cross_border(&items)?,
        Regime::OverTransactionLimit | Regime::OverYearlyLimit => assessment::assess(true, &items)?,
    };
    Ok(TaxBill {
        regime,
        value,
        year_total_before: year_total,
        year,
        tax_prices,
        assessment,
    })
}

/// The year an inventory counts in: its declaration date's, else `received`'s.
pub fn year_of(inventory: &Inventory, received: NaiveDate) -> i32 {
    inventory.decl_date.unwrap_or(received).year()
}

/// What a reversal gives back to the buyer's yearly total, from the bill of the inventory it
/// reverses: all of it for a cancellation; for a return, each returned item's share (its
/// dutiable price × returned quantity / declared quantity). `items` are the inventory's
/// ([`Inventory::quantities`]), in the bill's item order.
pub fn refund_value(items: &[ItemQuantity], bill: &TaxBill, reversal: &Reversal) -> Decimal {
    if reversal.items.is_empty() {
        return bill.value;
    }
    let mut total = Decimal::ZERO;
    for (gnum, qty) in &reversal.items {
        let Some(n) = items.iter().position(|i| i.gnum == *gnum) else {
            continue;
        };
        let (item, Some(price)) = (&items[n], bill.tax_prices.get(n)) else {
            continue;
        };
        if item.qty.is_zero() {
            continue;
        }
        let returned = (*qty).min(item.qty);
        total += round_fen(*price * returned / item.qty);
    }
    total.min(bill.value)
}

/// The numbers an electronic tax bill carries.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaxBillIds {
    /// The bill's own 36-character id.
    pub guid: String,
    /// The inventory's number (`invtNo`).
    pub invt_no: String,
    /// The bill's number (`taxNo`).
    pub tax_no: String,
    /// `1` issued, `2` summarised for payment, `3` void.
    pub status: String,
}

/// The CEB816 `Tax` entity of a bill: the head (customs duty, VAT, consumption tax, status,
/// the guarantor and companies) and one `TaxListRd` per item with its dutiable price.
pub fn tax_bill_entity(
    inventory: &Inventory,
    bill: &TaxBill,
    ids: &TaxBillIds,
    time: chrono::NaiveDateTime,
) -> Entity {
    let amount = |d: Decimal| round_fen(d).to_string();
    let mut head = Fields::default();
    head.set("guid", ids.guid.clone());
    head.set("returnTime", time.format("%Y%m%d%H%M%S%3f").to_string());
    head.set("invtNo", ids.invt_no.clone());
    head.set("taxNo", ids.tax_no.clone());
    head.set("customsTax", amount(bill.assessment.duty));
    head.set("valueAddedTax", amount(bill.assessment.vat));
    head.set("consumptionTax", amount(bill.assessment.consumption_tax));
    head.set("status", ids.status.clone());
    for (field, value) in [
        ("assureCode", &inventory.assure_code),
        ("ebcCode", &inventory.ebc_code),
        ("logisticsCode", &inventory.logistics_code),
        ("agentCode", &inventory.agent_code),
        ("customsCode", &inventory.customs_code),
    ] {
        if !value.is_empty() {
            head.set(field, value.clone());
        }
    }
    let lists = inventory
        .items
        .iter()
        .zip(&bill.assessment.items)
        .zip(&bill.tax_prices)
        .map(|((item, taxes), price)| {
            let mut list = Fields::default();
            list.set("gnum", item.gnum.to_string());
            list.set("gcode", item.gcode.clone());
            list.set("taxPrice", amount(*price));
            list.set("customsTax", amount(taxes.duty.amount));
            list.set("valueAddedTax", amount(taxes.vat.amount));
            list.set("consumptionTax", amount(taxes.consumption_tax.amount));
            list
        })
        .collect();
    Entity {
        name: "Tax".into(),
        head_name: Some("TaxHeadRd".into()),
        head,
        list_name: Some("TaxListRd".into()),
        lists,
    }
}

/// The CEB818 `Tax` entity saying a bill's status changed (`2` summarised, `3` void).
pub fn tax_status_entity(
    assure_code: &str,
    ids: &TaxBillIds,
    time: chrono::NaiveDateTime,
) -> Entity {
    let mut head = Fields::default();
    head.set("guid", ids.guid.clone());
    head.set("returnTime", time.format("%Y%m%d%H%M%S%3f").to_string());
    head.set("invtNo", ids.invt_no.clone());
    head.set("taxNo", ids.tax_no.clone());
    head.set("status", ids.status.clone());
    if !assure_code.is_empty() {
        head.set("assureCode", assure_code.to_owned());
    }
    Entity {
        name: "Tax".into(),
        head_name: Some("TaxHeadStatus".into()),
        head,
        ..Entity::default()
    }
}
