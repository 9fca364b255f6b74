//! Cross-border e-commerce traffic: for one parcel, the four messages four companies send
//! (order CEB311, payment CEB411, waybill CEB511, inventory CEB621), agreeing as customs
//! expects, each written through the official schema (so each is valid by construction).
//! Used by the server's tests, the demo and the benchmark.

use jinguan_chinaport::ceb::{self, Edition, Entity, Fields};
use rust_decimal::Decimal;

/// Who a parcel's messages come from and who buys it.
#[derive(Debug, Clone)]
pub struct Parties {
    /// The platform (ebp).
    pub platform: String,
    /// The e-commerce enterprise (ebc), which also declares the inventory.
    pub shop: String,
    /// The payment company.
    pub payer: String,
    /// The logistics company.
    pub carrier: String,
    /// The guarantor.
    pub guarantor: String,
    /// The customs district (4 digits).
    pub customs: String,
}

impl Default for Parties {
    fn default() -> Self {
        Self {
            platform: "1101110325".into(),
            shop: "1101110326".into(),
            payer: "3120980025".into(),
            carrier: "1101180326".into(),
            guarantor: "1101110326".into(),
            customs: "3700".into(),
        }
    }
}

/// One goods line of a parcel.
#[derive(Debug, Clone)]
pub struct Goods {
    /// The 10-digit commodity code.
    pub gcode: String,
    /// The name.
    pub name: String,
    /// How many.
    pub qty: u32,
    /// Unit price in yuan.
    pub price: Decimal,
}

/// A parcel: its order number, buyer and goods.
#[derive(Debug, Clone)]
pub struct Parcel {
    /// Order number (unique per platform).
    pub order_no: String,
    /// The buyer's identity card number (18 characters).
    pub buyer_id: String,
    /// Freight in yuan.
    pub freight: Decimal,
    /// The goods.
    pub goods: Vec<Goods>,
}

impl Parcel {
    /// What the goods cost.
    pub fn goods_value(&self) -> Decimal {
        self.goods
            .iter()
            .map(|g| g.price * Decimal::from(g.qty))
            .sum()
    }
}

/// The four messages of a parcel, as XML.
#[derive(Debug, Clone)]
pub struct Messages {
    /// CEB311.
    pub order: String,
    /// CEB411.
    pub payment: String,
    /// CEB511.
    pub waybill: String,
    /// CEB621.
    pub inventory: String,
}

fn fields(pairs: &[(&str, String)]) -> Fields {
    Fields(
        pairs
            .iter()
            .map(|(n, v)| ((*n).into(), v.as_str().into()))
            .collect(),
    )
}

/// A guid (36 characters, upper case) derived from a message's kind and number.
pub fn guid(kind: u32, n: &str) -> String {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in format!("{kind}:{n}").bytes() {
        hash = (hash ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3);
    }
    let more = hash.rotate_left(29) ^ 0x9e37_79b9_7f4a_7c15;
    let hex = format!("{hash:016X}{more:016X}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[0..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..32]
    )
}

fn transfer(code: &str) -> Fields {
    fields(&[
        ("copCode", code.to_owned()),
        ("copName", format!("企业{code}")),
        ("dxpMode", "DXP".to_owned()),
        (
            "dxpId",
            format!("DXPENT{:0>10}", &code[code.len().saturating_sub(10)..]),
        ),
    ])
}

/// The four messages of `parcel` between `parties`, dated `app_time` (`yyyyMMddHHmmss`),
/// declared (`appStatus` 2) when `declare`, else stored (1).
pub fn messages(parties: &Parties, parcel: &Parcel, app_time: &str, declare: bool) -> Messages {
    batch(parties, std::slice::from_ref(parcel), app_time, declare)
}

/// The four messages of several parcels, each message carrying one entity per parcel (up to
/// 100, the schemas' limit), as a platform sending in bulk does. The messages' guids are
/// those of the first parcel.
pub fn batch(parties: &Parties, parcels: &[Parcel], app_time: &str, declare: bool) -> Messages {
    let mut entities: [Vec<Entity>; 4] = Default::default();
    for parcel in parcels {
        let [order, payment, waybill, inventory] = entities_of(parties, parcel, app_time, declare);
        entities[0].push(order);
        entities[1].push(payment);
        entities[2].push(waybill);
        entities[3].push(inventory);
    }
    let first = parcels.first().map_or("", |p| p.order_no.as_str());
    let write = |root: &str, kind: u32, entities: &[Entity], sender: &str| {
        ceb::write(
            Edition::Gacc202205,
            root,
            &guid(kind, first),
            entities,
            Some(&transfer(sender)),
        )
        .unwrap_or_else(|e| panic!("a generated {root} must satisfy its schema: {e}"))
    };
    Messages {
        order: write("CEB311Message", 311, &entities[0], &parties.platform),
        payment: write("CEB411Message", 411, &entities[1], &parties.payer),
        waybill: write("CEB511Message", 511, &entities[2], &parties.carrier),
        inventory: write("CEB621Message", 621, &entities[3], &parties.shop),
    }
}

/// The order, payment, waybill and inventory entities of one parcel.
fn entities_of(parties: &Parties, parcel: &Parcel, app_time: &str, declare: bool) -> [Entity; 4] {
    let status = if declare { "2" } else { "1" };
    let paid = parcel.goods_value() + parcel.freight;
    let buyer_name = "测试买家".to_owned();
    let order_no = parcel.order_no.clone();
    let logistics_no = format!("L{}", parcel.order_no);
    let pay_id = format!("P{}", parcel.order_no);
    let head = |kind: u32| {
        vec![
            ("guid", guid(kind, &order_no)),
            ("appType", "1".to_owned()),
            ("appTime", app_time.to_owned()),
            ("appStatus", status.to_owned()),
        ]
    };
    let mut order_head = head(311);
    order_head.extend([
        ("orderType", "I".to_owned()),
        ("orderNo", order_no.clone()),
        ("ebpCode", parties.platform.clone()),
        ("ebpName", "测试平台".to_owned()),
        ("ebcCode", parties.shop.clone()),
        ("ebcName", "测试电商".to_owned()),
        ("goodsValue", parcel.goods_value().to_string()),
        ("freight", parcel.freight.to_string()),
        ("discount", "0".to_owned()),
        ("taxTotal", "0".to_owned()),
        ("acturalPaid", paid.to_string()),
        ("currency", "142".to_owned()),
        ("buyerRegNo", format!("buyer{}", &parcel.buyer_id[12..])),
        ("buyerName", buyer_name.clone()),
        ("buyerTelephone", "13800000000".to_owned()),
        ("buyerIdType", "1".to_owned()),
        ("buyerIdNumber", parcel.buyer_id.clone()),
        ("payCode", parties.payer.clone()),
        ("payName", "测试支付".to_owned()),
        ("payTransactionId", pay_id.clone()),
        ("consignee", buyer_name.clone()),
        ("consigneeTelephone", "13800000000".to_owned()),
        ("consigneeAddress", "北京市海淀区".to_owned()),
    ]);
    let order_lists = parcel
        .goods
        .iter()
        .enumerate()
        .map(|(i, g)| {
            fields(&[
                ("gnum", (i + 1).to_string()),
                ("itemNo", format!("SKU{i}")),
                ("itemName", g.name.clone()),
                ("gmodel", "1件".to_owned()),
                ("unit", "007".to_owned()),
                ("qty", g.qty.to_string()),
                ("price", g.price.to_string()),
                ("totalPrice", (g.price * Decimal::from(g.qty)).to_string()),
                ("currency", "142".to_owned()),
                ("country", "116".to_owned()),
            ])
        })
        .collect();
    let order = Entity {
        name: "Order".into(),
        head_name: Some("OrderHead".into()),
        head: fields(&order_head),
        list_name: Some("OrderList".into()),
        lists: order_lists,
    };
    let mut payment_head = head(411);
    payment_head.extend([
        ("payCode", parties.payer.clone()),
        ("payName", "测试支付".to_owned()),
        ("payTransactionId", pay_id),
        ("orderNo", order_no.clone()),
        ("ebpCode", parties.platform.clone()),
        ("ebpName", "测试平台".to_owned()),
        ("payerIdType", "1".to_owned()),
        ("payerIdNumber", parcel.buyer_id.clone()),
        ("payerName", buyer_name.clone()),
        ("amountPaid", paid.to_string()),
        ("currency", "142".to_owned()),
        ("payTime", app_time.to_owned()),
    ]);
    let payment = Entity {
        name: "Payment".into(),
        head_name: Some("PaymentHead".into()),
        head: fields(&payment_head),
        ..Entity::default()
    };
    let mut waybill_head = head(511);
    waybill_head.extend([
        ("logisticsCode", parties.carrier.clone()),
        ("logisticsName", "测试物流".to_owned()),
        ("logisticsNo", logistics_no.clone()),
        ("orderNo", order_no.clone()),
        ("freight", parcel.freight.to_string()),
        ("insuredFee", "0".to_owned()),
        ("currency", "142".to_owned()),
        ("weight", "1.2".to_owned()),
        ("packNo", "1".to_owned()),
        ("consignee", buyer_name.clone()),
        ("consigneeAddress", "北京市海淀区".to_owned()),
        ("consigneeTelephone", "13800000000".to_owned()),
    ]);
    let waybill = Entity {
        name: "Logistics".into(),
        head_name: Some("LogisticsHead".into()),
        head: fields(&waybill_head),
        ..Entity::default()
    };
    let mut inventory_head = head(621);
    inventory_head.extend([
        ("orderNo", order_no.clone()),
        ("ebpCode", parties.platform.clone()),
        ("ebpName", "测试平台".to_owned()),
        ("ebcCode", parties.shop.clone()),
        ("ebcName", "测试电商".to_owned()),
        ("logisticsNo", logistics_no),
        ("logisticsCode", parties.carrier.clone()),
        ("logisticsName", "测试物流".to_owned()),
        ("copNo", format!("C{order_no}")),
        ("assureCode", parties.guarantor.clone()),
        ("ieFlag", "I".to_owned()),
        ("declTime", app_time[..8].to_owned()),
        ("customsCode", parties.customs.clone()),
        ("portCode", parties.customs.clone()),
        ("buyerIdType", "1".to_owned()),
        ("buyerIdNumber", parcel.buyer_id.clone()),
        ("buyerName", buyer_name),
        ("buyerTelephone", "13800000000".to_owned()),
        ("consigneeAddress", "北京市海淀区".to_owned()),
        ("agentCode", parties.shop.clone()),
        ("agentName", "测试电商".to_owned()),
        ("tradeMode", "9610".to_owned()),
        ("trafMode", "5".to_owned()),
        ("country", "116".to_owned()),
        ("freight", parcel.freight.to_string()),
        ("insuredFee", "0".to_owned()),
        ("currency", "142".to_owned()),
        ("packNo", "1".to_owned()),
        ("grossWeight", "1.2".to_owned()),
        ("netWeight", "1".to_owned()),
    ]);
    let inventory_lists = parcel
        .goods
        .iter()
        .enumerate()
        .map(|(i, g)| {
            fields(&[
                ("gnum", (i + 1).to_string()),
                ("itemNo", format!("SKU{i}")),
                ("itemName", g.name.clone()),
                ("gcode", g.gcode.clone()),
                ("gname", g.name.clone()),
                ("gmodel", "1件".to_owned()),
                ("country", "116".to_owned()),
                ("currency", "142".to_owned()),
                ("qty", g.qty.to_string()),
                ("unit", "007".to_owned()),
                ("qty1", g.qty.to_string()),
                ("unit1", "007".to_owned()),
                ("price", g.price.to_string()),
                ("totalPrice", (g.price * Decimal::from(g.qty)).to_string()),
            ])
        })
        .collect();
    let inventory = Entity {
        name: "Inventory".into(),
        head_name: Some("InventoryHead".into()),
        head: fields(&inventory_head),
        list_name: Some("InventoryList".into()),
        lists: inventory_lists,
    };
    [order, payment, waybill, inventory]
}

/// A cancellation (CEB623) of a released inventory `invt_no` of `parcel`.
pub fn cancellation(parties: &Parties, parcel: &Parcel, invt_no: &str, app_time: &str) -> String {
    let order_no = &parcel.order_no;
    let head = fields(&[
        ("guid", guid(623, order_no)),
        ("appType", "1".to_owned()),
        ("appTime", app_time.to_owned()),
        ("appStatus", "2".to_owned()),
        ("customsCode", parties.customs.clone()),
        ("orderNo", order_no.clone()),
        ("ebpCode", parties.platform.clone()),
        ("ebpName", "测试平台".to_owned()),
        ("ebcCode", parties.shop.clone()),
        ("ebcName", "测试电商".to_owned()),
        ("logisticsNo", format!("L{order_no}")),
        ("logisticsCode", parties.carrier.clone()),
        ("logisticsName", "测试物流".to_owned()),
        ("copNo", format!("C{order_no}")),
        ("invtNo", invt_no.to_owned()),
        ("buyerIdType", "1".to_owned()),
        ("buyerIdNumber", parcel.buyer_id.clone()),
        ("buyerName", "测试买家".to_owned()),
        ("buyerTelephone", "13800000000".to_owned()),
        ("agentCode", parties.shop.clone()),
        ("agentName", "测试电商".to_owned()),
        ("reason", "买家取消订单".to_owned()),
    ]);
    let entity = Entity {
        name: "InvtCancel".into(),
        head,
        ..Entity::default()
    };
    ceb::write(
        Edition::Gacc202205,
        "CEB623Message",
        &guid(623, order_no),
        &[entity],
        Some(&transfer(&parties.shop)),
    )
    .unwrap_or_else(|e| panic!("a generated CEB623Message must satisfy its schema: {e}"))
}
