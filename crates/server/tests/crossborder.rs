//! Cross-border e-commerce through `POST /api/v1/messages`: the four companies' messages
//! matched, inventories taxed and released with their receipts and tax bills in the sender's
//! mailbox, repeats answered as before, mismatches and bad messages coded, and a buyer's
//! yearly limit held under concurrency. Run on SQLite and on PostgreSQL.

#![allow(clippy::unwrap_used)] // A panic in a test is a test failure with its message.

mod common;

use std::sync::Arc;

use common::{Server, TestClock};
use jinguan_chinaport::ceb;
use jinguan_chinaport::xmldsig;
use jinguan_crypto::SigningKey;
use jinguan_refdata::rate::RateExpr;
use jinguan_refdata::RefData;
use jinguan_testkit::ceb::{cancellation, messages, Goods, Parcel, Parties};
use rust_decimal::Decimal;
use serde_json::{json, Value};

both!(a_parcel_is_matched_taxed_released_and_answered);
both!(an_inventory_is_matched_with_its_documents_as_last_recorded);
both!(a_buyer_crossing_the_yearly_limit_is_taxed_as_general_trade_even_at_once);
both!(china_manifests_are_read_and_kept_in_the_logistics_ledger);
both!(an_inventory_the_rules_select_waits_for_an_officer);
both!(export_inventories_are_released_and_summarised_into_a_declaration);

/// Rules that select nothing (no rule, no draw): these tests are about matching and tax, and
/// an inventory drawn at random would wait for an officer.
fn no_selection(server: &Server) {
    let rules =
        json!({"version": 2, "rules": [], "random": {"percent": {}, "channel": "red", "seed": 1}});
    assert_eq!(server.put_rules(&rules).0, 201);
}

/// Posts a CEB message as the broker: the status and the receipt's first return, read.
fn post(server: &Server, xml: &[u8]) -> (u16, Vec<u8>) {
    let auth = format!("Bearer {}", server.broker);
    server.raw(
        "POST",
        "/api/v1/messages",
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/xml"),
        ],
        xml,
    )
}

/// The (returnStatus, returnInfo, invtNo) of a receipt's first return.
fn first_return(body: &[u8]) -> (String, String, String) {
    let (message, diagnostics) =
        ceb::parse(body).unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(body)));
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let head = &message.entities[0].head;
    (
        head.text("returnStatus").to_owned(),
        head.text("returnInfo").to_owned(),
        head.text("invtNo").to_owned(),
    )
}

fn signed(xml: &str, key: &SigningKey, serial: &str) -> Vec<u8> {
    xmldsig::sign(xml.as_bytes(), key, serial, None).unwrap()
}

/// A line of the shipped tariff with ad valorem VAT and no consumption tax.
fn plain_code() -> String {
    plain_codes(1).remove(0)
}

/// `n` such lines.
fn plain_codes(n: usize) -> Vec<String> {
    let refdata = RefData::load().unwrap();
    let mut codes: Vec<String> = Vec::new();
    for line in refdata.tariff.lines.iter().filter(|l| {
            matches!(
                l.vat.as_ref().and_then(|r| r.expr()),
                Some(RateExpr::AdValorem { .. })
            ) && l.consumption_tax.as_ref().and_then(|r| r.expr()).is_none()
                && matches!(l.mfn.as_ref().and_then(|r| r.expr()), Some(RateExpr::AdValorem { percent }) if !percent.is_zero())
        }) {
        let code = line.code.to_string();
        if !codes.contains(&code) {
            codes.push(code);
        }
        if codes.len() == n {
            break;
        }
    }
    assert_eq!(codes.len(), n);
    codes
}

fn parcel(order: &str, buyer: &str, code: &str, price: i64) -> Parcel {
    Parcel {
        order_no: order.into(),
        buyer_id: buyer.into(),
        freight: Decimal::ZERO,
        goods: vec![Goods {
            gcode: code.into(),
            name: "商品".into(),
            qty: 1,
            price: Decimal::from(price),
        }],
    }
}

/// Sends the order, payment and waybill of a parcel, each acknowledged 120.
fn send_documents(
    server: &Server,
    key: &SigningKey,
    serial: &str,
    m: &jinguan_testkit::ceb::Messages,
) {
    for xml in [&m.order, &m.payment, &m.waybill] {
        let (status, body) = post(server, &signed(xml, key, serial));
        assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
        assert_eq!(first_return(&body).0, "120");
    }
}

fn a_parcel_is_matched_taxed_released_and_answered(backend: common::Backend) {
    let server = common::start_signed("ceb", backend, Arc::new(TestClock::default()));
    no_selection(&server);
    let (key, serial) = server.certify_broker();
    let parties = Parties::default();
    let code = plain_code();
    let p = parcel("ORD-1", "110101199003070011", &code, 300);
    let m = messages(&parties, &p, "20261129100000", true);

    // The inventory before its documents: sent back (100) naming all three missing.
    let (status, body) = post(&server, &signed(&m.inventory, &key, &serial));
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
    let (returned, info, _) = first_return(&body);
    assert_eq!(returned, "100");
    for code in ["C0601", "C0602", "C0603"] {
        assert!(info.contains(code), "{info}");
    }

    // The order in a DXP terminal-node envelope, as the E-Port's client sends it: the receipt
    // comes back in an envelope addressed to the sending node.
    let time = chrono::NaiveDate::from_ymd_opt(2026, 11, 29)
        .unwrap()
        .and_hms_opt(10, 0, 0)
        .unwrap();
    let envelope = jinguan_chinaport::dxp::write(
        "cop-1",
        "DXPENT0000000001",
        &["DXPEDCCEB0000002"],
        time,
        "CEB311Message",
        &signed(&m.order, &key, &serial),
        "order.xml",
    )
    .unwrap();
    let (status, body) = post(&server, envelope.as_bytes());
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
    let answer = jinguan_chinaport::dxp::parse(&body).unwrap();
    assert_eq!(answer.receiver_ids, ["DXPENT0000000001"]);
    assert_eq!(answer.msg_type, "CEB312Message");
    assert_eq!(first_return(&answer.data).0, "120");
    for xml in [&m.payment, &m.waybill] {
        let (status, body) = post(&server, &signed(xml, &key, &serial));
        assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
    }
    // The same inventory again is the same message: answered as before, nothing new.
    let (status, again) = post(&server, &signed(&m.inventory, &key, &serial));
    assert_eq!(status, 200);
    assert_eq!(first_return(&again).0, "100");
    // A new one (another guid) is decided now: matched, numbered, taxed, released.
    let fresh = reguid(&m.inventory, 621, 6210, "ORD-1");
    let (status, body) = post(&server, &signed(&fresh, &key, &serial));
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
    let (returned, info, invt_no) = first_return(&body);
    assert_eq!(returned, "800", "{info}");
    assert_eq!(invt_no.len(), 18);
    assert!(invt_no.starts_with("37002026I"), "{invt_no}");

    // The mailbox: acknowledgements, the receipt and the tax bill, as XML documents.
    let (status, mailbox) = server.get("/api/v1/mailbox", &server.broker.clone());
    assert_eq!(status, 200, "{mailbox}");
    let kinds: Vec<&str> = mailbox["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|m| m["message_type"].as_str())
        .collect();
    assert_eq!(
        kinds,
        [
            "CEB622Message",
            "CEB312Message",
            "CEB412Message",
            "CEB512Message",
            "CEB622Message",
            "CEB816Message"
        ]
    );
    let bill = mailbox["messages"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["message_type"] == "CEB816Message")
        .unwrap()["xml"]
        .as_str()
        .unwrap()
        .to_owned();
    let (tax, diagnostics) = ceb::parse(bill.as_bytes()).unwrap();
    assert!(diagnostics.is_empty(), "{diagnostics:?}");
    let head = &tax.entities[0].head;
    assert_eq!(head.text("invtNo"), invt_no);
    assert_eq!(head.text("customsTax"), "0");
    assert!(head.text("valueAddedTax").parse::<Decimal>().unwrap() > Decimal::ZERO);

    // A second inventory for the same order is a repeat (-621004), whatever its guid.
    let repeat = reguid(&m.inventory, 621, 6211, "ORD-1");
    let (_, body) = post(&server, &signed(&repeat, &key, &serial));
    assert_eq!(first_return(&body).0, "-621004");

    // Declared without a signature: refused, nothing recorded.
    let other = messages(
        &parties,
        &parcel("ORD-2", "110101199003070011", &code, 10),
        "20261129100000",
        true,
    );
    let auth = format!("Bearer {}", server.broker);
    let (status, refused) = server.call(
        "POST",
        "/api/v1/messages",
        &server.broker.clone(),
        &[("Content-Type", "application/xml")],
        other.order.as_bytes(),
    );
    assert_eq!(
        (status, refused["code"].as_str()),
        (401, Some("H0420")),
        "{refused}"
    );
    // Not valid by the schema: 422 and a CEB900 notice naming what is wrong.
    let broken = other.order.replace("<ceb:orderNo>ORD-2</ceb:orderNo>", "");
    let (status, body) = server.raw(
        "POST",
        "/api/v1/messages",
        &[
            ("Authorization", &auth),
            ("Content-Type", "application/xml"),
        ],
        &signed(&broken, &key, &serial),
    );
    assert_eq!(status, 422);
    let (notice, _) = ceb::parse(&body).unwrap();
    assert_eq!(notice.root, "CEB900Message");
    assert!(notice.entities[0]
        .head
        .text("returnInfo")
        .contains("orderNo"));

    // Cancelled: accepted (399) with a notice voiding the tax bill.
    let cancel = cancellation(&parties, &p, &invt_no, "20261129110000");
    let (status, body) = post(&server, &signed(&cancel, &key, &serial));
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
    assert_eq!(first_return(&body).0, "399");
    let (_, body) = post(
        &server,
        &signed(&reguid(&cancel, 623, 6230, "ORD-1"), &key, &serial),
    );
    assert_eq!(first_return(&body).0, "-623001", "cancelled twice");
    let _ = Value::Null;
}

fn a_buyer_crossing_the_yearly_limit_is_taxed_as_general_trade_even_at_once(
    backend: common::Backend,
) {
    let server = common::start_signed("cebyear", backend, Arc::new(TestClock::default()));
    no_selection(&server);
    let (key, serial) = server.certify_broker();
    let parties = Parties::default();
    let code = plain_code();
    let buyer = "110101199003070022";
    // 24,000 of purchases in six inventories, all within the limits.
    for n in 0..6 {
        let p = parcel(&format!("Y-{n}"), buyer, &code, 4000);
        let m = messages(&parties, &p, "20261129100000", true);
        send_documents(&server, &key, &serial, &m);
        let (_, body) = post(&server, &signed(&m.inventory, &key, &serial));
        let (status, info, _) = first_return(&body);
        assert_eq!(status, "800", "{info}");
        assert!(!info.contains("C0621"), "{info}");
    }
    // Eight of 1,000 at once: two fit under 26,000, six do not, whatever the order.
    let batch: Vec<_> = (0..8)
        .map(|n| {
            let m = messages(
                &parties,
                &parcel(&format!("Z-{n}"), buyer, &code, 1000),
                "20261129100000",
                true,
            );
            send_documents(&server, &key, &serial, &m);
            signed(&m.inventory, &key, &serial)
        })
        .collect();
    let infos: Vec<String> = std::thread::scope(|scope| {
        let handles: Vec<_> = batch
            .iter()
            .map(|xml| scope.spawn(|| post(&server, xml)))
            .collect();
        handles
            .into_iter()
            .map(|h| {
                let (status, body) = h.join().unwrap();
                assert_eq!(status, 201);
                let (returned, info, _) = first_return(&body);
                assert_eq!(returned, "800", "{info}");
                info
            })
            .collect()
    });
    let over = infos.iter().filter(|i| i.contains("C0621")).count();
    assert_eq!(over, 6, "{infos:?}");
}

/// A buyer's yearly total as stored, read by a node that has not decided for the buyer (the
/// path a node takes after a restart, or beside another on one PostgreSQL database): the
/// purchases another node released count, so the inventory that crosses the limit is taxed as
/// general trade.
#[test]
fn a_node_new_to_a_buyer_counts_the_stored_yearly_total() {
    if !common::postgres_available() {
        return;
    }
    let mut first = common::start_signed(
        "cebnode",
        common::Backend::Postgres,
        Arc::new(TestClock::default()),
    );
    // The rules in force are the shared ledger's: the second node starts under them.
    no_selection(&first);
    let second = common::start_beside(&mut first);
    let parties = Parties::default();
    let code = plain_code();
    let buyer = "110101199003070033";
    // A parcel of `value` for `buyer` sent through `node` with its documents: the return's
    // status and info.
    let send = |node: &Server, key: &SigningKey, serial: &str, id: &str, buyer: &str, value| {
        let m = messages(
            &parties,
            &parcel(id, buyer, &code, value),
            "20261129100000",
            true,
        );
        send_documents(node, key, serial, &m);
        let (status, body) = post(node, &signed(&m.inventory, key, serial));
        assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
        let (returned, info, _) = first_return(&body);
        (returned, info)
    };
    // 24,000 released by the first node, within the limits.
    let (key, serial) = first.certify_broker();
    for n in 0..6 {
        let (status, info) = send(&first, &key, &serial, &format!("N-{n}"), buyer, 4000);
        assert_eq!(status, "800", "{info}");
        assert!(!info.contains("C0621"), "{info}");
    }
    // 3,000 more through the second node (its own CA, so its own certificate): over 26,000.
    let (key, serial) = second.certify_broker();
    let (returned, info) = send(&second, &key, &serial, "N-6", buyer, 3000);
    assert_eq!(returned, "800", "{info}");
    assert!(info.contains("C0621"), "taxed as cross-border: {info}");
    // Another buyer, new to both: cross-border, as before.
    let (returned, info) = send(&second, &key, &serial, "N-7", "110101199003070044", 3000);
    assert_eq!(returned, "800", "{info}");
    assert!(!info.contains("C0621"), "{info}");
}

fn china_manifests_are_read_and_kept_in_the_logistics_ledger(backend: common::Backend) {
    let Some(corpus) = jinguan_testkit::corpus() else {
        return;
    };
    let server = common::start("manifest", backend);
    let auth = format!("Bearer {}", server.broker);
    let send = |body: &[u8]| {
        let (status, reply) = server.raw(
            "POST",
            "/api/v1/messages",
            &[
                ("Authorization", &auth),
                ("Content-Type", "application/xml"),
            ],
            body,
        );
        (
            status,
            serde_json::from_slice::<Value>(&reply).unwrap_or(Value::Null),
        )
    };
    let sample =
        std::fs::read(corpus.join("china/manifest/zzaniu-loop_server/MT1401.xml")).unwrap();
    let (status, reply) = send(&sample);
    assert_eq!(status, 201, "{reply}");
    assert_eq!(reply["status"], "01");
    assert_eq!(reply["message_type"], "MT1401");
    assert_eq!(reply["document"], "ZTDTEST0420");
    let seq = reply["ledger"]["seq"].as_u64().unwrap();
    let (entry, _) = server.store.entry("logistics", seq).unwrap();
    let record: Value = serde_json::from_slice(&entry.payload).unwrap();
    assert_eq!(record["manifest"]["conveyance"]["carrier"], "444444/4");
    assert_eq!(record["received"].as_str().unwrap().as_bytes(), &sample[..]);
    // The same message again: the entry of the first time.
    let (status, again) = send(&sample);
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["ledger"]["seq"].as_u64(), Some(seq));
    // Not a manifest read here: coded.
    let (status, refused) = send(
        b"<Manifest xmlns=\"urn:Declaration:datamodel:standard:CN:MT9999:1\"><Head><MessageType>MT9999</MessageType></Head></Manifest>",
    );
    assert_eq!(
        (status, refused["code"].as_str()),
        (400, Some("X0340")),
        "{refused}"
    );
}

/// Sends a parcel's documents and inventory: the inventory's (returnStatus, returnInfo, invtNo).
fn declare_parcel(
    server: &Server,
    key: &SigningKey,
    serial: &str,
    parcel: &Parcel,
) -> (String, String, String) {
    let m = messages(&Parties::default(), parcel, "20261129100000", true);
    send_documents(server, key, serial, &m);
    let (status, body) = post(server, &signed(&m.inventory, key, serial));
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
    first_return(&body)
}

fn an_inventory_the_rules_select_waits_for_an_officer(backend: common::Backend) {
    let server = common::start_signed("ceb_held", backend, Arc::new(TestClock::default()));
    let (key, serial) = server.certify_broker();
    let codes = plain_codes(2);
    let (inspected, plain) = (&codes[0], &codes[1]);
    // Inventories of the first code go to an inspection; nothing is drawn at random.
    let rules = json!({
        "version": 2,
        "rules": [{"id": "CEB-INSPECT", "reason": "cross-border goods of this heading inspected",
                   "channel": "red", "valid_from": "2020-01-01",
                   "when": [{"fact": "item.hs_code", "op": "eq", "value": inspected},
                            {"fact": "trade_mode", "op": "eq", "value": "9610"}]}],
        "random": {"percent": {}, "channel": "red", "seed": 1}
    });
    assert_eq!(server.put_rules(&rules).0, 201);
    let buyer = "110101199003070033";
    // 23,000 yuan released this year (five of 4,600, green).
    for n in 0..5 {
        let (status, info, _) = declare_parcel(
            &server,
            &key,
            &serial,
            &parcel(&format!("ORD-G{n}"), buyer, plain, 4600),
        );
        assert_eq!(status, "800", "{info}");
    }
    // Selected: numbered, taxed, held for the inspection (500), its value counted.
    let (status, info, held_no) = declare_parcel(
        &server,
        &key,
        &serial,
        &parcel("ORD-H1", buyer, inspected, 2900),
    );
    assert_eq!(status, "500", "{info}");
    assert!(info.contains("CEB-INSPECT"), "{info}");
    assert_eq!(held_no.len(), 18);
    // The officer's worklist shows it; a broker may not see it or decide it.
    let (status, list) = server.get("/api/v1/crossborder/inventories", &server.officer.clone());
    assert_eq!(status, 200, "{list}");
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{list}");
    assert_eq!(items[0]["invt_no"], held_no.as_str());
    assert_eq!(items[0]["value"], "2900");
    let (status, shown) = server.get(
        &format!("/api/v1/crossborder/inventories/{held_no}"),
        &server.officer.clone(),
    );
    assert_eq!(status, 200, "{shown}");
    assert_eq!(shown["status"], "held");
    assert_eq!(shown["selection"]["channel"], "red");
    assert_eq!(shown["selection"]["reasons"][0]["rule"], "CEB-INSPECT");
    // What the officer inspects: the goods as declared, and what a return is counted against.
    let declared = &shown["inventory"]["items"][0];
    assert_eq!(declared["gnum"], 1, "{shown}");
    assert!(
        declared["gcode"].as_str().is_some_and(|c| c.len() == 10),
        "{shown}"
    );
    assert_eq!(shown["items"][0]["qty"], declared["qty"], "{shown}");
    let decide = |token: &str, no: &str, body: Value| {
        server.post_json(
            &format!("/api/v1/crossborder/inventories/{no}/decision"),
            token,
            &body,
        )
    };
    let (status, refused) = decide(
        &server.broker.clone(),
        &held_no,
        json!({"decision": "release"}),
    );
    assert_eq!(status, 403, "{refused}");
    // With it counted, 2,000 more crosses 26,000: general trade.
    let (status, info, _) = declare_parcel(
        &server,
        &key,
        &serial,
        &parcel("ORD-G5", buyer, plain, 2000),
    );
    assert_eq!(status, "800");
    assert!(info.contains("C0621"), "{info}");
    // The inspection finds against it: returned (700), its 2,900 leave the buyer's year.
    let (status, answer) = decide(
        &server.officer.clone(),
        &held_no,
        json!({"decision": "return", "note": "goods do not match the declaration"}),
    );
    assert_eq!(status, 201, "{answer}");
    let (status, again) = decide(
        &server.officer.clone(),
        &held_no,
        json!({"decision": "release"}),
    );
    assert_eq!(
        (status, again["code"].as_str()),
        (409, Some("H0496")),
        "{again}"
    );
    // 23,000 + 2,000 + 900 = 25,900: within the limit again.
    let (status, info, _) =
        declare_parcel(&server, &key, &serial, &parcel("ORD-G6", buyer, plain, 900));
    assert_eq!(status, "800");
    assert!(!info.contains("C0621"), "{info}");
    // Another selected one, released by the officer: 800 and its tax bill.
    let (status, _, second) = declare_parcel(
        &server,
        &key,
        &serial,
        &parcel("ORD-H2", "110101199003070044", inspected, 100),
    );
    assert_eq!(status, "500");
    let (status, _) = decide(
        &server.officer.clone(),
        &second,
        json!({"decision": "release"}),
    );
    assert_eq!(status, 201);
    let (_, mailbox) = server.get("/api/v1/mailbox", &server.broker.clone());
    let messages = mailbox["messages"].as_array().unwrap();
    let receipts: Vec<(String, String)> = messages
        .iter()
        .filter(|m| m["message_type"] == "CEB622Message")
        .map(|m| first_return(m["xml"].as_str().unwrap().as_bytes()))
        .map(|(status, _, no)| (status, no))
        .collect();
    assert!(
        receipts.contains(&("700".to_owned(), held_no.clone())),
        "{receipts:?}"
    );
    assert!(
        receipts.contains(&("800".to_owned(), second.clone())),
        "{receipts:?}"
    );
    let bills: Vec<String> = messages
        .iter()
        .filter(|m| m["message_type"] == "CEB816Message")
        .map(|m| {
            let (bill, _) = ceb::parse(m["xml"].as_str().unwrap().as_bytes()).unwrap();
            bill.entities[0].head.text("invtNo").to_owned()
        })
        .collect();
    assert!(bills.contains(&second), "{bills:?}");
    assert!(
        !bills.contains(&held_no),
        "a returned inventory has no bill: {bills:?}"
    );
    let (_, list) = server.get("/api/v1/crossborder/inventories", &server.officer.clone());
    assert_eq!(list["items"].as_array().map(Vec::len), Some(0), "{list}");
}

/// The first entity of an official sample (the 2022-05 export samples carry two
/// `BaseTransfer` blocks, which the schema refuses; their entities are read all the same).
fn sample_entity(name: &str) -> Option<ceb::Entity> {
    let dir = jinguan_testkit::corpus()?;
    let bytes = std::fs::read(dir.join("china/ceb/gacc-202205/samples/export").join(name)).unwrap();
    let (message, _) = ceb::parse(&bytes).unwrap();
    Some(message.entities[0].clone())
}

fn transfer() -> ceb::Fields {
    let mut fields = ceb::Fields::default();
    for (name, value) in [
        ("copCode", "1105910159"),
        ("copName", "东方物通科技(北京)有限公司"),
        ("dxpMode", "DXP"),
        ("dxpId", "DXPENT0000000001"),
    ] {
        fields.set(name, value);
    }
    fields
}

fn export_inventories_are_released_and_summarised_into_a_declaration(backend: common::Backend) {
    let (Some(inventory), Some(apply)) = (
        sample_entity("CEB603Message.xml"),
        sample_entity("CEB701Message.xml"),
    ) else {
        return;
    };
    let server = common::start_signed("cebexport", backend, Arc::new(TestClock::default()));
    no_selection(&server);
    let (key, serial) = server.certify_broker();
    let refdata = RefData::load().unwrap();
    let licences = refdata.table("licence-document").unwrap();
    // Goods that need an export licence, and goods that need none and bear no export duty.
    let licensed = refdata
        .tariff
        .lines
        .iter()
        .find(|l| {
            !jinguan_refdata::supervision::required_licences(
                &l.supervision_conditions,
                false,
                licences,
            )
            .is_empty()
        })
        .unwrap()
        .code
        .to_string();
    // A heading all of whose lines need no licence and bear no export duty.
    let plain_line = |l: &jinguan_refdata::tariff::TariffLine| {
        jinguan_refdata::supervision::required_licences(&l.supervision_conditions, false, licences)
            .is_empty()
            && l.export
                .as_ref()
                .and_then(|r| r.expr())
                .is_none_or(|e| matches!(e, RateExpr::AdValorem { percent } if percent.is_zero()))
    };
    let free = refdata
        .tariff
        .lines
        .iter()
        .map(|l| l.code.to_string())
        .find(|code| {
            refdata
                .tariff
                .lines
                .iter()
                .filter(|l| l.code.to_string().starts_with(&code[..4]))
                .all(plain_line)
        })
        .unwrap();
    let export = |n: u32, order: u32, flag: &str, gcode: &str| {
        let mut entity = inventory.clone();
        let guid = jinguan_testkit::ceb::guid(603, &format!("EXP-{n}"));
        entity.head.set("guid", guid.clone());
        entity.head.set("orderNo", format!("EXP-{order}"));
        entity.head.set("logisticsNo", format!("LEXP-{order}"));
        entity.head.set("statisticsFlag", flag);
        entity.lists.truncate(1);
        entity.lists[0].set("gcode", gcode);
        let xml = ceb::write(
            ceb::Edition::Gacc202205,
            "CEB603Message",
            &guid,
            &[entity],
            Some(&transfer()),
        )
        .unwrap();
        let (status, body) = post(&server, &signed(&xml, &key, &serial));
        assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
        first_return(&body)
    };
    // B (汇总申报), full code: released with an export inventory number.
    let (status, info, summarised) = export(1, 1, "B", &free);
    assert_eq!(status, "800", "{info}");
    assert!(summarised.starts_with("15002026E"), "{summarised}");
    // The same order again (another message): a repeat.
    assert_eq!(export(2, 1, "B", &free).0, "-603004");
    // A (简化申报) for goods that need an export licence: sent back, coded.
    let (status, info, _) = export(3, 3, "A", &licensed);
    assert_eq!(status, "100");
    assert!(info.contains("C0641"), "{info}");
    // A by heading, for free goods: released.
    let (status, info, simplified) = export(4, 4, "A", &format!("{}000000", &free[..4]));
    assert_eq!(status, "800", "{info}");

    let summary = |n: u32, invt_nos: &[&str]| {
        let mut entity = apply.clone();
        let guid = jinguan_testkit::ceb::guid(701, &format!("SUM-{n}"));
        entity.head.set("guid", guid.clone());
        entity.head.set("customsCode", "1500");
        entity.head.set("copNo", format!("SUM-{n}"));
        entity.lists = invt_nos
            .iter()
            .map(|no| {
                let mut list = ceb::Fields::default();
                list.set("invtNo", *no);
                list
            })
            .collect();
        let xml = ceb::write(
            ceb::Edition::Gacc202205,
            "CEB701Message",
            &guid,
            &[entity],
            Some(&transfer()),
        )
        .unwrap();
        let (status, body) = post(&server, &signed(&xml, &key, &serial));
        assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
        first_return(&body)
    };
    // A simplified inventory is never summarised; an unknown one is not on record.
    let (status, info, _) = summary(1, &[&summarised, &simplified]);
    assert_eq!(status, "100");
    assert!(info.contains("C0652"), "{info}");
    let (status, info, _) = summary(2, &["15002026E999999999"]);
    assert_eq!(status, "100");
    assert!(info.contains("C0650"), "{info}");
    // The B inventory alone: accepted, and a CEB792 result names it.
    let (status, info, _) = summary(3, &[&summarised]);
    assert_eq!(status, "120", "{info}");
    let (status, info, _) = summary(4, &[&summarised]);
    assert_eq!(status, "100");
    assert!(info.contains("C0653"), "{info}");
    let (_, mailbox) = server.get("/api/v1/mailbox", &server.broker.clone());
    let results: Vec<ceb::Message> = mailbox["messages"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|m| m["message_type"] == "CEB792Message")
        .map(|m| {
            let (message, diagnostics) = ceb::parse(m["xml"].as_str().unwrap().as_bytes()).unwrap();
            assert!(diagnostics.is_empty(), "{diagnostics:?}");
            message
        })
        .collect();
    assert_eq!(results.len(), 1);
    let result = &results[0].entities[0];
    assert!(result.head.text("sumNo").starts_with('S'));
    assert_eq!(result.lists.len(), 1);
    assert_eq!(result.lists[0].text("invtNo"), summarised);
    assert_eq!(result.lists[0].text("gcode"), free);
}

/// Documents replaced after they were recorded (a changed order, then one taken back to a
/// draft) are what the next inventory meets: whatever this node keeps of what it recorded
/// last is never older than the table.
fn an_inventory_is_matched_with_its_documents_as_last_recorded(backend: common::Backend) {
    let server = common::start_signed("cebrecent", backend, Arc::new(TestClock::default()));
    no_selection(&server);
    let (key, serial) = server.certify_broker();
    let parties = Parties::default();
    let code = plain_code();
    let buyer = "110101199003070022";
    let first = messages(
        &parties,
        &parcel("ORD-9", buyer, &code, 300),
        "20261129100000",
        true,
    );
    send_documents(&server, &key, &serial, &first);
    // The order changed (another guid, another amount): recorded in its place.
    let changed = messages(
        &parties,
        &parcel("ORD-9", buyer, &code, 400),
        "20261129100500",
        true,
    );
    let order = reguid(&changed.order, 311, 3110, "ORD-9");
    let (status, body) = post(&server, &signed(&order, &key, &serial));
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
    let (_, body) = post(&server, &signed(&first.inventory, &key, &serial));
    let (returned, info, _) = first_return(&body);
    assert_eq!(returned, "100", "{info}");
    assert!(info.contains("C0607"), "the changed order's amount: {info}");
    // Back to a draft (appStatus 1): no declared order on record at all.
    let draft = messages(
        &parties,
        &parcel("ORD-9", buyer, &code, 300),
        "20261129101000",
        false,
    );
    let order = reguid(&draft.order, 311, 3111, "ORD-9");
    let (status, body) = post(&server, &signed(&order, &key, &serial));
    assert_eq!(status, 201, "{}", String::from_utf8_lossy(&body));
    assert_eq!(first_return(&body).0, "1");
    let inventory = reguid(&first.inventory, 621, 6212, "ORD-9");
    let (_, body) = post(&server, &signed(&inventory, &key, &serial));
    let (returned, info, _) = first_return(&body);
    assert_eq!(returned, "100", "{info}");
    assert!(info.contains("C0601") && !info.contains("C0602"), "{info}");
    // Declared again as first sent: matched and released.
    let order = reguid(&first.order, 311, 3112, "ORD-9");
    let (status, _) = post(&server, &signed(&order, &key, &serial));
    assert_eq!(status, 201);
    let inventory = reguid(&first.inventory, 621, 6213, "ORD-9");
    let (_, body) = post(&server, &signed(&inventory, &key, &serial));
    let (returned, info, _) = first_return(&body);
    assert_eq!(returned, "800", "{info}");
}

/// A message of the parcel `order` sent again as another message: its guid (of `kind`)
/// replaced by the guid of `new`.
fn reguid(xml: &str, kind: u32, new: u32, order: &str) -> String {
    xml.replace(
        &jinguan_testkit::ceb::guid(kind, order),
        &jinguan_testkit::ceb::guid(new, order),
    )
}
