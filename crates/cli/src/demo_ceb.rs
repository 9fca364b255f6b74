//! The demo's cross-border e-commerce traffic: parcels whose order, payment, waybill and
//! inventory four companies send (signed with the demo broker's key, as its e-commerce
//! clients' agent), some cancelled, some sent back for a missing payment, and one heavy
//! buyer who crosses the yearly limit and is taxed as general trade from then on.

use std::collections::BTreeMap;

use jinguan_chinaport::{ceb, xmldsig};
use jinguan_refdata::rate::RateExpr;
use jinguan_refdata::RefData;
use jinguan_testkit::ceb::{cancellation, messages, Goods, Messages, Parcel, Parties};
use rust_decimal::Decimal;

/// What the demo sells: lines of the shipped tariff with ad valorem VAT and MFN rates (one
/// with consumption tax, cosmetics-like, where there is one).
pub(crate) fn goods(refdata: &RefData) -> Vec<(String, String)> {
    let ad_valorem = |rate: Option<&jinguan_refdata::tariff::Rate>| {
        matches!(
            rate.and_then(|r| r.expr()),
            Some(RateExpr::AdValorem { .. })
        )
    };
    let mut out: Vec<(String, String)> = refdata
        .tariff
        .lines
        .iter()
        .filter(|l| ad_valorem(l.vat.as_ref()) && ad_valorem(l.mfn.as_ref()))
        .filter(|l| l.consumption_tax.as_ref().and_then(|r| r.expr()).is_none())
        .step_by(997)
        .take(6)
        .map(|l| (l.code.to_string(), l.name.chars().take(30).collect()))
        .collect();
    if let Some(l) = refdata.tariff.lines.iter().find(|l| {
        ad_valorem(l.vat.as_ref())
            && ad_valorem(l.mfn.as_ref())
            && ad_valorem(l.consumption_tax.as_ref())
    }) {
        out.push((l.code.to_string(), l.name.chars().take(30).collect()));
    }
    out
}

/// The demo's cross-border state: what it sells, and released inventories it may cancel.
pub(crate) struct CrossBorder {
    goods: Vec<(String, String)>,
    parties: Parties,
}

impl CrossBorder {
    pub(crate) fn new(goods: Vec<(String, String)>) -> Self {
        Self {
            goods,
            parties: Parties::default(),
        }
    }
}

/// Something that posts XML and answers with the status and the body.
pub(crate) trait PostXml {
    fn post_xml(&self, token: &str, body: &[u8]) -> (u16, String);
    /// An officer's decision on a held inventory: the status.
    fn decide(&self, token: &str, invt_no: &str, decision: &str) -> u16;
}

fn parcel(cb: &CrossBorder, n: u64) -> Parcel {
    // Buyer 0 is the heavy one: 4,000 yuan every time, over 26,000 after six parcels.
    let heavy = n % 7 == 0;
    let buyer = if heavy { 0 } else { 1 + n % 40 };
    let count = if heavy {
        1
    } else {
        usize::try_from(1 + n % 3).unwrap_or(1)
    };
    let goods = (0..count)
        .map(|k| {
            let index = usize::try_from(n).unwrap_or(0).wrapping_add(k) % cb.goods.len();
            let (code, name) = &cb.goods[index];
            Goods {
                gcode: code.clone(),
                name: name.clone(),
                qty: 1,
                price: if heavy {
                    Decimal::from(4000)
                } else {
                    Decimal::from(50 + (n * 37 + k as u64 * 11) % 900)
                },
            }
        })
        .collect();
    Parcel {
        order_no: format!("DEMO{n:08}"),
        buyer_id: format!("1101011990010{:05}", buyer),
        freight: Decimal::from(10),
        goods,
    }
}

fn note(reached: &mut BTreeMap<String, u64>, what: &str) {
    *reached.entry(what.to_owned()).or_default() += 1;
}

/// The first return of a receipt: (returnStatus, returnInfo, invtNo).
fn first_return(body: &str) -> Option<(String, String, String)> {
    let (message, _) = ceb::parse(body.as_bytes()).ok()?;
    let head = &message.entities.first()?.head;
    Some((
        head.text("returnStatus").to_owned(),
        head.text("returnInfo").to_owned(),
        head.text("invtNo").to_owned(),
    ))
}

/// Carries parcel `n`: its four messages, and for some a cancellation.
#[allow(clippy::too_many_arguments)] // The demo's one call site names each.
pub(crate) fn carry(
    client: &impl PostXml,
    token: &str,
    officer: &str,
    signer: &(jinguan_crypto::SigningKey, String),
    cb: &CrossBorder,
    n: u64,
    time: &str,
    reached: &mut BTreeMap<String, u64>,
) {
    let p = parcel(cb, n);
    let Messages {
        order,
        payment,
        waybill,
        inventory,
    } = messages(&cb.parties, &p, time, true);
    let sign = |xml: &str| xmldsig::sign(xml.as_bytes(), &signer.0, &signer.1, None).ok();
    // One parcel in fifteen comes without its payment: the inventory is sent back.
    let documents: Vec<&String> = if n % 15 == 14 {
        vec![&order, &waybill]
    } else {
        vec![&order, &payment, &waybill]
    };
    for xml in documents {
        if let Some(body) = sign(xml) {
            let (status, _) = client.post_xml(token, &body);
            if status != 201 {
                note(reached, "ceb-document-refused");
            }
        }
    }
    let Some(body) = sign(&inventory) else {
        return;
    };
    let (status, answer) = client.post_xml(token, &body);
    let Some((returned, info, invt_no)) = first_return(&answer).filter(|_| status == 201) else {
        note(reached, "ceb-refused");
        return;
    };
    note(reached, &format!("ceb:{returned}"));
    if info.contains("C0621") {
        note(reached, "ceb:general-trade");
    }
    // Selected for a review (300) or an inspection (500): the officer releases most, and
    // has one in four returned.
    if returned == "300" || returned == "500" {
        let decision = if n % 4 == 1 { "return" } else { "release" };
        if client.decide(officer, &invt_no, decision) == 201 {
            note(reached, &format!("ceb:officer-{decision}"));
        }
    }
    // One released parcel in ten is cancelled by the shop.
    if returned == "800" && n % 10 == 3 {
        if let Some(body) = sign(&cancellation(&cb.parties, &p, &invt_no, time)) {
            let (status, answer) = client.post_xml(token, &body);
            if let Some((returned, _, _)) = first_return(&answer).filter(|_| status == 201) {
                note(reached, &format!("ceb:{returned}"));
            }
        }
    }
}
