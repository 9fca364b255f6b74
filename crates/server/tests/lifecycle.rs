//! Declarations through their lives over HTTP: every legal path end to end, illegal
//! transitions refused with their codes, who may do what, an enterprise kept to its own
//! declarations, receipts in JSON and China's XML, lists, and risk rules put in force and
//! back-tested. On SQLite and PostgreSQL.

#![allow(clippy::unwrap_used)] // A panic in a test is a test failure with its message.

mod common;

use std::sync::atomic::{AtomicU64, Ordering};

use common::{all_to, generated, start, start_with, Backend, Server};
use jinguan_clearance::risk::RuleSet;
use jinguan_server::Role;
use jinguan_types::declaration::Declaration;
use serde_json::{json, Value};

both!(every_legal_path_end_to_end_and_illegal_ones_refused);
both!(an_enterprise_sees_and_touches_only_its_own_declarations);
both!(back_tests_match_live_decisions_and_the_same_seed_gives_the_same_channels);

static NEXT: AtomicU64 = AtomicU64::new(0);

/// Lodges generated declarations until one is accepted and fits `want`; its entry id,
/// receipt and declaration.
fn lodge_until(
    server: &Server,
    pool: &[Declaration],
    want: impl Fn(&Declaration, &Value) -> bool,
) -> (String, Value, Declaration) {
    for declaration in pool {
        let id = format!("pick-{}", NEXT.fetch_add(1, Ordering::Relaxed));
        let (status, receipt) = server.lodge(
            &id,
            "application/json",
            &serde_json::to_vec(declaration).unwrap(),
        );
        if status == 201 && want(declaration, &receipt) {
            return (
                receipt["entry_id"].as_str().unwrap().to_owned(),
                receipt,
                declaration.clone(),
            );
        }
    }
    panic!("no generated declaration fits");
}

fn is_import(d: &Declaration) -> bool {
    d.head.ie_flag == Some(jinguan_types::IeFlag::Import)
}

fn due(receipt: &Value) -> rust_decimal::Decimal {
    let a = &receipt["assessment"];
    ["duty", "consumption_tax", "vat"]
        .iter()
        .map(|k| {
            a[k].as_str()
                .unwrap()
                .parse::<rust_decimal::Decimal>()
                .unwrap()
        })
        .sum()
}

fn pay(server: &Server, entry_id: &str, kind: &str, amount: &str) -> (u16, Value) {
    server.post_json(
        "/api/v1/payments",
        &server.bank.clone(),
        &json!({"entry_id": entry_id, "kind": kind, "amount": amount, "reference": "B-1"}),
    )
}

fn refused(reply: (u16, Value), status: u16, code: &str) {
    assert_eq!(
        (reply.0, reply.1["code"].as_str()),
        (status, Some(code)),
        "{}",
        reply.1
    );
}

fn every_legal_path_end_to_end_and_illegal_ones_refused(backend: Backend) {
    let server = start("paths", backend);
    let pool = generated(300, 11);
    let conform = json!({"outcome": "conform", "findings": []});
    let non_conform = json!({"outcome": "non_conform", "findings": ["short by 12 cartons"]});

    // Green import with duties: awaiting payment, then released on payment.
    assert_eq!(server.put_rules(&all_to(2, None)).0, 201);
    let (a, receipt, _) = lodge_until(&server, &pool, |d, r| is_import(d) && !due(r).is_zero());
    assert_eq!(receipt["channel"], "green");
    let (_, view) = server.get(&format!("/api/v1/declarations/{a}"), &server.broker);
    assert_eq!(
        (view["status"].as_str(), view["receipt_code"].as_str()),
        (Some("awaiting_payment"), Some("T"))
    );
    assert_eq!(
        view["due"]
            .as_str()
            .unwrap()
            .parse::<rust_decimal::Decimal>()
            .unwrap(),
        due(&receipt)
    );
    refused(pay(&server, &a, "payment", "0.01"), 422, "W0201");
    refused(server.officer(&a, "release", json!({})), 409, "W0101");
    let (status, view) = pay(&server, &a, "payment", view["due"].as_str().unwrap());
    assert_eq!(status, 200, "{view}");
    assert_eq!(
        (view["status"].as_str(), view["receipt_code"].as_str()),
        (Some("released"), Some("P"))
    );
    let events: Vec<&str> = view["history"].as_array().unwrap().last().unwrap()["events"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["event"].as_str().unwrap())
        .collect();
    assert_eq!(
        events,
        ["pay", "release"],
        "a green declaration is released when paid"
    );
    refused(server.officer(&a, "exit", json!({})), 409, "W0104");
    refused(
        server.post_json(
            &format!("/api/v1/declarations/{a}/cancel"),
            &server.broker,
            &json!({}),
        ),
        409,
        "W0105",
    );
    let (status, view) = server.officer(&a, "cancel", json!({"reason": "correction"}));
    assert_eq!(
        (status, view["status"].as_str()),
        (200, Some("cancelled")),
        "{view}"
    );

    // Green export: released (at once when nothing is due), then exit confirmed.
    let (b, receipt, _) = lodge_until(&server, &pool, |d, _| !is_import(d));
    if !due(&receipt).is_zero() {
        pay(&server, &b, "payment", &due(&receipt).to_string());
    }
    let (_, view) = server.get(&format!("/api/v1/declarations/{b}"), &server.officer);
    assert_eq!(view["status"], "released", "{view}");
    let (_, view) = server.officer(&b, "exit", json!({"reason": "manifest tallied"}));
    assert_eq!(
        (view["status"].as_str(), view["receipt_code"].as_str()),
        (Some("exit_confirmed"), Some("R"))
    );

    // Yellow: review conform, guarantee, officer release (担保放行, B).
    assert_eq!(server.put_rules(&all_to(3, Some("yellow"))).0, 201);
    let (c, receipt, _) = lodge_until(&server, &pool, |d, r| is_import(d) && !due(r).is_zero());
    assert_eq!(receipt["channel"], "yellow");
    refused(
        pay(&server, &c, "payment", &due(&receipt).to_string()),
        409,
        "W0101",
    );
    refused(
        server.officer(&c, "inspection", conform.clone()),
        409,
        "W0101",
    );
    let (_, view) = server.officer(&c, "review", conform.clone());
    assert_eq!(view["status"], "awaiting_payment", "{view}");
    let (_, view) = pay(
        &server,
        &c,
        "guarantee",
        &(due(&receipt) + rust_decimal::Decimal::ONE).to_string(),
    );
    assert_eq!(view["status"], "guaranteed", "{view}");
    let (_, view) = server.officer(&c, "release", json!({}));
    assert_eq!(
        (view["status"].as_str(), view["receipt_code"].as_str()),
        (Some("released"), Some("B"))
    );

    // Yellow, non-conform review escalated to inspection; a hold on the way.
    let (d, receipt, _) = lodge_until(&server, &pool, |d, r| is_import(d) && !due(r).is_zero());
    let (_, view) = server.officer(&d, "review", non_conform.clone());
    assert_eq!(view["status"], "reviewed");
    assert_eq!(view["state"]["detail"], "non_conform");
    let hold = |id: &str| {
        server.call(
            "POST",
            &format!("/api/v1/declarations/{d}/hold"),
            &server.officer,
            &[("Content-Type", "application/json"), ("Submission-Id", id)],
            br#"{"reason": "intelligence"}"#,
        )
    };
    let (status, view) = hold("h-1");
    assert_eq!(
        (
            status,
            view["held"].as_bool(),
            view["receipt_code"].as_str()
        ),
        (200, Some(true), Some("H"))
    );
    // The same action id again is the same action: nothing more recorded.
    let records = view["history"].as_array().unwrap().len();
    let (status, again) = hold("h-1");
    assert_eq!(
        (status, again["history"].as_array().unwrap().len()),
        (200, records)
    );
    refused(
        server.officer(&d, "inspection", conform.clone()),
        409,
        "W0103",
    );
    refused(pay(&server, &d, "payment", "1"), 422, "W0201");
    let (_, view) = server.officer(&d, "release", json!({"reason": "cleared"}));
    assert_eq!(
        (view["held"].as_bool(), view["status"].as_str()),
        (Some(false), Some("reviewed"))
    );
    let (_, view) = server.officer(&d, "inspection", conform.clone());
    assert_eq!(view["status"], "awaiting_payment");
    let (_, view) = pay(&server, &d, "payment", &due(&receipt).to_string());
    assert_eq!(view["status"], "paid");
    let (_, view) = server.officer(&d, "release", json!({}));
    assert_eq!(
        (view["status"].as_str(), view["receipt_code"].as_str()),
        (Some("released"), Some("P"))
    );

    // Red: inspection non-conform, amended (a new version, checked again), then cleared.
    assert_eq!(server.put_rules(&all_to(4, Some("red"))).0, 201);
    let (e, _, declaration) = lodge_until(&server, &pool, |d, _| is_import(d));
    refused(server.officer(&e, "review", conform.clone()), 409, "W0101");
    refused(
        server.post_json(
            &format!("/api/v1/declarations/{e}/inspection"),
            &server.officer,
            &json!({"outcome": "maybe"}),
        ),
        400,
        "H0004",
    );
    let (_, view) = server.officer(&e, "inspection", non_conform.clone());
    assert_eq!(
        (view["status"].as_str(), view["receipt_code"].as_str()),
        (Some("inspected"), Some("S"))
    );
    let mut amended = declaration.clone();
    amended.head.notes = Some("quantity corrected".into());
    let amend = |body: &Declaration, id: &str| {
        server.call(
            "POST",
            &format!("/api/v1/declarations/{e}/amend"),
            &server.broker,
            &[("Content-Type", "application/json"), ("Submission-Id", id)],
            &serde_json::to_vec(body).unwrap(),
        )
    };
    let mut broken = amended.clone();
    broken.head.trade_country = Some("QQQ".into());
    let (status, reply) = amend(&broken, "v2-broken");
    assert_eq!(
        (status, reply["code"].as_str()),
        (422, Some("W0107")),
        "{reply}"
    );
    assert!(!reply["details"]["errors"].as_array().unwrap().is_empty());
    let (status, view) = amend(&amended, "v2");
    assert_eq!(status, 200, "{view}");
    assert_eq!(
        (
            view["version"].as_i64(),
            view["status"].as_str(),
            view["channel"].as_str()
        ),
        (Some(2), Some("selected"), Some("red"))
    );
    assert_eq!(view["versions"].as_array().unwrap().len(), 2);
    assert_eq!(view["declaration"]["head"]["notes"], "quantity corrected");
    let (_, view) = server.officer(&e, "inspection", conform.clone());
    assert!(
        matches!(view["status"].as_str(), Some("awaiting_payment" | "paid")),
        "{view}"
    );

    // Red, cancelled by the declarant: final.
    let (f, _, _) = lodge_until(&server, &pool, |_, _| true);
    let (_, view) = server.post_json(
        &format!("/api/v1/declarations/{f}/cancel"),
        &server.broker,
        &json!({"reason": "not shipped"}),
    );
    assert_eq!(
        (view["status"].as_str(), view["receipt_code"].as_str()),
        (Some("cancelled"), Some("D"))
    );
    refused(
        server.officer(&f, "inspection", conform.clone()),
        409,
        "W0101",
    );
    refused(server.officer(&f, "hold", json!({})), 409, "W0101");

    // Roles: a bank does not review, a broker does not pay, nobody acts on what is not there.
    refused(
        server.post_json(
            &format!("/api/v1/declarations/{e}/review"),
            &server.bank,
            &conform,
        ),
        403,
        "H0403",
    );
    refused(
        server.post_json(
            "/api/v1/payments",
            &server.broker,
            &json!({"entry_id": e, "amount": "1"}),
        ),
        403,
        "H0403",
    );
    refused(
        server.officer("220020269999999999", "hold", json!({})),
        404,
        "H0405",
    );

    // Receipts: every record as JSON; the latest with a China code as DEC_RESULT XML.
    let (status, receipts) = server.get(
        &format!("/api/v1/declarations/{a}/receipts"),
        &server.broker,
    );
    assert_eq!(status, 200);
    let codes: Vec<&str> = receipts["receipts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["channel"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["T", "P", "D"], "{receipts}");
    let (status, xml) = server.raw(
        "GET",
        &format!("/api/v1/declarations/{a}/receipts?format=xml"),
        &[("Authorization", &format!("Bearer {}", server.broker))],
        b"",
    );
    assert_eq!(status, 200);
    let result = jinguan_chinaport::receipt::DecResult::parse(&xml).unwrap();
    assert_eq!(
        (result.channel.as_str(), result.entry_id.as_deref()),
        ("D", Some(a.as_str()))
    );

    // Lists: by status and channel, and pages that cover everything once.
    let (_, released) = server.get("/api/v1/declarations?status=released", &server.officer);
    let released: Vec<&str> = released["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["entry_id"].as_str().unwrap())
        .collect();
    assert!(
        released.contains(&b.as_str()) || released.contains(&c.as_str()),
        "{released:?}"
    );
    assert!(!released.contains(&a.as_str()));
    let (_, red) = server.get("/api/v1/declarations?channel=red", &server.officer);
    assert!(red["items"]
        .as_array()
        .unwrap()
        .iter()
        .all(|i| i["channel"] == "red"));
    let (_, all) = server.get("/api/v1/declarations?limit=1000", &server.officer);
    let total = all["items"].as_array().unwrap().len();
    let mut paged = Vec::new();
    let mut cursor = String::new();
    loop {
        let (_, page) = server.get(
            &format!("/api/v1/declarations?limit=3&cursor={cursor}"),
            &server.officer,
        );
        for item in page["items"].as_array().unwrap() {
            paged.push(item["entry_id"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(next) => cursor = next.to_owned(),
            None => break,
        }
    }
    assert_eq!(paged.len(), total);
    let (status, error) = server.get("/api/v1/declarations?status=lost", &server.officer);
    assert_eq!((status, error["code"].as_str()), (400, Some("H0004")));
}

fn an_enterprise_sees_and_touches_only_its_own_declarations(backend: Backend) {
    let server = start("isolation", backend);
    server.put_rules(&all_to(2, Some("yellow")));
    let pool = generated(200, 12);
    let (mine, _, declaration) = lodge_until(&server, &pool, |_, _| true);
    let consignee = declaration
        .head
        .consignee
        .customs_code
        .clone()
        .or(declaration.head.consignee.uscc.clone())
        .unwrap();
    let own = server.token(&consignee, Role::Enterprise);
    let other = server.token("1111111111", Role::Enterprise);
    let other_broker = server.token("other-broker", Role::Broker);
    // The consignee, the broker that lodged it, and customs see it.
    for token in [&own, &server.broker, &server.officer] {
        let (status, view) = server.get(&format!("/api/v1/declarations/{mine}"), token);
        assert_eq!(status, 200, "{view}");
    }
    // Anyone else: as if it did not exist.
    for token in [&other, &other_broker] {
        for path in [
            format!("/api/v1/declarations/{mine}"),
            format!("/api/v1/declarations/{mine}/receipts"),
        ] {
            let (status, reply) = server.get(&path, token);
            assert_eq!(
                (status, reply["code"].as_str()),
                (404, Some("H0405")),
                "{path}"
            );
        }
        let (status, reply) = server.post_json(
            &format!("/api/v1/declarations/{mine}/cancel"),
            token,
            &json!({}),
        );
        assert_eq!((status, reply["code"].as_str()), (404, Some("H0405")));
        let (status, reply) = server.call(
            "POST",
            &format!("/api/v1/declarations/{mine}/amend"),
            token,
            &[("Content-Type", "application/json"), ("Submission-Id", "x")],
            &serde_json::to_vec(&declaration).unwrap(),
        );
        assert_eq!((status, reply["code"].as_str()), (404, Some("H0405")));
        let (_, list) = server.get("/api/v1/declarations", token);
        assert!(list["items"].as_array().unwrap().is_empty(), "{list}");
    }
    let (_, list) = server.get("/api/v1/declarations", &own);
    let listed: Vec<&str> = list["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["entry_id"].as_str().unwrap())
        .collect();
    assert!(listed.contains(&mine.as_str()));
    // Still untouched, and its own enterprise can act on it.
    let (_, view) = server.post_json(
        &format!("/api/v1/declarations/{mine}/cancel"),
        &own,
        &json!({}),
    );
    assert_eq!(view["status"], "cancelled", "{view}");
}

fn back_tests_match_live_decisions_and_the_same_seed_gives_the_same_channels(backend: Backend) {
    let rules = json!({"version": 1, "rules": [
        {"id": "PHONES", "reason": "phones", "channel": "yellow", "valid_from": "2000-01-01",
         "when": [{"fact": "item.hs_code", "op": "prefix", "value": "85"}]}],
        "random": {"percent": {"general": "30"}, "channel": "red", "seed": 9}});
    let rule_set = RuleSet::from_json(&rules.to_string()).unwrap();
    let first = start_with("backtest1", backend, rule_set.clone());
    let second = start_with("backtest2", backend, rule_set);
    let pool = generated(40, 13);
    let mut channels = Vec::new();
    for (i, declaration) in pool.iter().enumerate() {
        let body = serde_json::to_vec(declaration).unwrap();
        let (_, one) = first.lodge(&format!("s{i}"), "application/json", &body);
        let (_, two) = second.lodge(&format!("s{i}"), "application/json", &body);
        assert_eq!(one["channel"], two["channel"], "same seed, same channel");
        channels.push(one["channel"].clone());
    }
    let red = channels.iter().filter(|c| *c == "red").count();
    let accepted = channels.iter().filter(|c| c.is_string()).count();
    assert!(red > 0 && red < accepted, "{red} red of {accepted}");
    // The rules in force, back-tested: exactly the live decisions.
    let (status, report) = first.call("POST", "/api/v1/risk/backtest", &first.officer, &[], b"");
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["declarations"].as_u64(), Some(accepted as u64));
    assert_eq!(report["changed_count"], 0, "{report}");
    assert_eq!(report["live"], report["would_select"]);
    // Another rule set: what would change, nothing changed.
    let (_, report) = first.post_json(
        "/api/v1/risk/backtest",
        &first.officer,
        &all_to(5, Some("red")),
    );
    assert_eq!(
        report["changed_count"].as_u64(),
        Some((accepted - red) as u64)
    );
    assert_eq!(
        report["would_select"]["red"].as_u64(),
        Some(accepted as u64)
    );
    let (_, list) = first.get(
        "/api/v1/declarations?channel=red&limit=1000",
        &first.officer,
    );
    assert_eq!(
        list["items"].as_array().unwrap().len(),
        red,
        "a back-test changes nothing"
    );
    // Rules: read by officers, replaced by admins only, newer versions only, checked.
    let (_, current) = first.get("/api/v1/risk/rules", &first.officer);
    assert_eq!(current["version"], 1);
    refused(
        first.call(
            "PUT",
            "/api/v1/risk/rules",
            &first.officer,
            &[],
            all_to(2, None).to_string().as_bytes(),
        ),
        403,
        "H0403",
    );
    refused(first.put_rules(&all_to(1, None)), 409, "K0102");
    refused(first.put_rules(&json!({"version": 3, "rules": [{"id": "X", "reason": "x", "channel": "red", "valid_from": "2000-01-01", "when": [{"fact": "items", "op": "gt", "value": "many"}]}], "random": {"percent": {}, "channel": "red", "seed": 1}})), 400, "K0101");
    assert_eq!(first.put_rules(&all_to(2, None)).0, 201);
    assert_eq!(
        first.put_rules(&all_to(2, None)).0,
        200,
        "the same rule set again"
    );
    let (_, current) = first.get("/api/v1/risk/rules", &first.admin);
    assert_eq!(current["version"], 2);
}

both!(reference_prices_learnt_from_releases_flag_an_undervalued_declaration);

/// Six declarations of the same goods released at one price teach the reference price; a
/// seventh at a tenth of it goes red with the rule that fired, while one at the usual price
/// stays green.
fn reference_prices_learnt_from_releases_flag_an_undervalued_declaration(backend: Backend) {
    let rules = json!({"version": 1, "rules": [
        {"id": "UNDERVALUED", "reason": "unit value under half the reference price",
         "channel": "red", "valid_from": "2000-01-01",
         "when": [{"fact": "item.price_ratio", "op": "lt", "value": 0.5}]}],
        "random": {"percent": {}, "channel": "red", "seed": 1}});
    let server = start_with(
        "reference",
        backend,
        RuleSet::from_json(&rules.to_string()).unwrap(),
    );
    let pool = generated(300, 17);
    let base = pool
        .iter()
        .find(|d| is_import(d) && d.items.len() == 1)
        .expect("a one-item import")
        .clone();
    let body = |d: &Declaration| serde_json::to_vec(d).unwrap();
    for i in 0..6 {
        let (status, receipt) =
            server.lodge(&format!("usual-{i}"), "application/json", &body(&base));
        assert_eq!(
            (status, receipt["channel"].as_str()),
            (201, Some("green")),
            "{receipt}"
        );
        let entry_id = receipt["entry_id"].as_str().unwrap();
        let due = due(&receipt);
        if !due.is_zero() {
            let (_, view) = pay(&server, entry_id, "payment", &due.to_string());
            assert_eq!(view["status"], "released", "{view}");
        }
    }
    let mut cheap = base.clone();
    let tenth = rust_decimal::Decimal::new(1, 1);
    for item in &mut cheap.items {
        item.total_price = item.total_price.map(|p| (p * tenth).round_dp(2));
        item.unit_price = item.unit_price.map(|p| (p * tenth).round_dp(4));
    }
    let (status, receipt) = server.lodge("cheap", "application/json", &body(&cheap));
    assert_eq!(status, 201, "{receipt}");
    assert_eq!(receipt["channel"], "red", "{receipt}");
    assert_eq!(receipt["reasons"][0]["rule"], "UNDERVALUED");
    let (_, receipt) = server.lodge("usual-again", "application/json", &body(&base));
    assert_eq!(receipt["channel"], "green", "{receipt}");
}
