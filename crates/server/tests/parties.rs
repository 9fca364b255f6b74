//! The parties registry and what it decides: registrations and changes are ledger entries
//! checked on the way in; an officer reaches its customs' districts and no others, a bank the
//! declarations of the parties that pay through it and no others; an enterprise's credit
//! class is what selectivity sees.

#![allow(clippy::unwrap_used)] // A panic in a test is a test failure with its message.

mod common;

use std::collections::BTreeSet;

use common::{generated, start, Backend};
use jinguan_server::Role;
use serde_json::{json, Value};

fn code(reply: &(u16, Value)) -> (u16, String) {
    (reply.0, reply.1["code"].as_str().unwrap_or("").to_owned())
}

both!(the_registry_is_checked_and_kept_in_the_ledger);

fn the_registry_is_checked_and_kept_in_the_ledger(backend: Backend) {
    let server = start("registry", backend);
    let admin = server.admin.clone();
    let enterprise = json!({
        "code": "3201327693", "kind": "enterprise", "name": "南京宏远电子科技有限公司",
        "uscc": "91320100527388304A", "customs_code": "3201327693", "ciq_code": "3200600001",
        "address": "南京市江宁区", "credit_class": "advanced", "banks": ["bank-1"],
        "people": [{"id": "D-001", "name": "何芳", "role": "enterprise"}],
    });
    let (status, made) = server.post_json("/api/v1/parties", &admin, &enterprise);
    assert_eq!((status, made["version"].as_i64()), (201, Some(1)), "{made}");
    // Registered once; a second registration of the code is a conflict.
    assert_eq!(
        code(&server.post_json("/api/v1/parties", &admin, &enterprise)),
        (409, "H0451".into())
    );
    // What a registration may not say.
    for (field, value) in [
        ("uscc", json!("91320100527388304B")),
        ("credit_class", json!("excellent")),
        ("districts", json!(["2200"])),
        ("kind", json!("pirate")),
        ("code", json!("bad code!")),
    ] {
        let mut bad = enterprise.clone();
        bad["code"] = json!("other-1");
        bad[field] = value;
        let reply = server.post_json("/api/v1/parties", &admin, &bad);
        assert_eq!(code(&reply), (400, "H0450".into()), "{field}: {}", reply.1);
    }
    // A change is the party whole, a new version, another ledger entry; the same again is
    // no change.
    let mut changed = enterprise.clone();
    changed["credit_class"] = json!("general");
    let path = "/api/v1/parties/3201327693";
    let put = |body: &Value| {
        server.call(
            "PUT",
            path,
            &admin,
            &[("Content-Type", "application/json")],
            body.to_string().as_bytes(),
        )
    };
    let (status, now) = put(&changed);
    assert_eq!((status, now["version"].as_i64()), (200, Some(2)), "{now}");
    let (status, again) = put(&changed);
    assert_eq!((status, again["version"].as_i64()), (200, Some(2)));
    let mut elsewhere = changed.clone();
    elsewhere["code"] = json!("someone-else");
    assert_eq!(code(&put(&elsewhere)), (400, "H0450".into()));
    assert_eq!(
        code(
            &server.call(
                "PUT",
                "/api/v1/parties/nobody",
                &admin,
                &[("Content-Type", "application/json")],
                json!({"code": "nobody", "kind": "bank", "name": "x"})
                    .to_string()
                    .as_bytes(),
            )
        ),
        (404, "H0453".into())
    );
    let (_, head) = server.get("/api/v1/ledger/parties/head", "");
    assert_eq!(
        head["tree_size"], 3,
        "test-broker, this one, its change: {head}"
    );
    // Who reads what: an officer any, the party its own, another party nothing.
    let own = server.token("3201327693", Role::Enterprise);
    let (status, shown) = server.get(path, &own);
    assert_eq!(
        (status, shown["credit_class"].as_str()),
        (200, Some("general"))
    );
    let (status, _) = server.get(path, &server.officer.clone());
    assert_eq!(status, 200);
    let stranger = server.token("9999999999", Role::Enterprise);
    assert_eq!(code(&server.get(path, &stranger)), (404, "H0452".into()));
    assert_eq!(
        code(&server.get("/api/v1/parties", &stranger)),
        (403, "H0403".into())
    );
    let (status, all) = server.get("/api/v1/parties", &admin);
    assert_eq!(status, 200);
    assert_eq!(all["parties"].as_array().unwrap().len(), 2);
    // Only an administrator registers.
    assert_eq!(
        code(&server.post_json("/api/v1/parties", &server.officer.clone(), &enterprise)),
        (403, "H0403".into())
    );
}

both!(officers_and_banks_reach_their_remit_only);

fn officers_and_banks_reach_their_remit_only(backend: Backend) {
    let server = start("remit", backend);
    // Declarations lodged by the test broker in several districts.
    let mut lodged: Vec<(String, String)> = Vec::new();
    for (i, declaration) in generated(30, 77).iter().enumerate() {
        let body = serde_json::to_vec(declaration).unwrap();
        let (status, receipt) = server.lodge(&format!("remit-{i}"), "application/json", &body);
        assert!(status == 201 || status == 422, "{receipt}");
        let entry_id = receipt["entry_id"].as_str().unwrap().to_owned();
        let customs = entry_id[..4].to_owned();
        lodged.push((entry_id, customs));
    }
    let districts: BTreeSet<&str> = lodged.iter().map(|(_, c)| c.as_str()).collect();
    assert!(districts.len() >= 3, "several districts: {districts:?}");
    let first = *districts.iter().next().unwrap();
    let listed = |token: &str| -> BTreeSet<String> {
        let (status, list) = server.get("/api/v1/declarations?limit=1000", token);
        assert_eq!(status, 200, "{list}");
        list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["entry_id"].as_str().unwrap().to_owned())
            .collect()
    };
    let expect = |keep: &dyn Fn(&str) -> bool| -> BTreeSet<String> {
        lodged
            .iter()
            .filter(|(_, c)| keep(c))
            .map(|(e, _)| e.clone())
            .collect()
    };
    // The General Administration reaches all; a district officer its district; a
    // directly-under customs (xx00) its xx.. districts.
    assert_eq!(listed(&server.officer.clone()), expect(&|_| true));
    let district = server.token(first, Role::Officer);
    assert_eq!(listed(&district), expect(&|c| c == first));
    let head_office = format!("{}00", &first[..2]);
    let directly_under = server.token(&head_office, Role::Officer);
    assert_eq!(
        listed(&directly_under),
        expect(&|c| c.starts_with(&first[..2]))
    );
    // A registered customs party: its districts, whatever its code looks like.
    let chosen: Vec<&str> = districts.iter().copied().skip(1).take(2).collect();
    let (status, reply) = server.post_json(
        "/api/v1/parties",
        &server.admin.clone(),
        &json!({"code": "EAST-9", "kind": "customs", "name": "Test customs", "districts": chosen}),
    );
    assert_eq!(status, 201, "{reply}");
    let registered = server.token("EAST-9", Role::Officer);
    assert_eq!(listed(&registered), expect(&|c| chosen.contains(&c)));
    // Outside the remit: not there, read or acted on (404, audited), inside: there.
    let outside = lodged.iter().find(|(_, c)| c != first).unwrap();
    let inside = lodged.iter().find(|(_, c)| c == first).unwrap();
    let path = |entry: &str| format!("/api/v1/declarations/{entry}");
    assert_eq!(
        code(&server.get(&path(&outside.0), &district)),
        (404, "H0405".into())
    );
    assert_eq!(server.get(&path(&inside.0), &district).0, 200);
    let hold = |token: &str, entry: &str| {
        server.call(
            "POST",
            &format!("{}/hold", path(entry)),
            token,
            &[("Content-Type", "application/json")],
            json!({"reason": "check"}).to_string().as_bytes(),
        )
    };
    assert_eq!(code(&hold(&district, &outside.0)), (404, "H0405".into()));
    // A bank: the test broker pays through bank-1, so bank-1 reaches all it lodged; bank-2
    // has no client and reaches nothing, not even to pay.
    assert_eq!(listed(&server.bank.clone()), expect(&|_| true));
    let other_bank = server.token("bank-2", Role::Bank);
    assert!(listed(&other_bank).is_empty());
    let (status, reply) = server.call(
        "POST",
        "/api/v1/payments",
        &other_bank,
        &[("Content-Type", "application/json")],
        json!({"entry_id": inside.0, "kind": "payment", "amount": "1", "reference": "x"})
            .to_string()
            .as_bytes(),
    );
    assert_eq!(
        (status, reply["code"].as_str()),
        (404, Some("H0405")),
        "{reply}"
    );
}

both!(the_credit_class_on_record_is_what_selectivity_sees);

fn the_credit_class_on_record_is_what_selectivity_sees(backend: Backend) {
    let server = start("credit", backend);
    // Every dishonest declarant's declaration to red; nobody else drawn.
    let rules = json!({"version": 2, "rules": [],
        "random": {"percent": {"dishonest": "100"}, "channel": "red", "seed": 1}});
    assert_eq!(server.put_rules(&rules).0, 201);
    let declarations = generated(2, 5);
    let consignee = |i: usize| declarations[i].head.consignee.clone();
    assert_ne!(consignee(0).uscc, consignee(1).uscc);
    let register_dishonest = |i: usize, name: &str| {
        let (status, reply) = server.post_json(
            "/api/v1/parties",
            &server.admin.clone(),
            &json!({"code": consignee(i).customs_code.unwrap(), "kind": "enterprise",
                    "name": name, "uscc": consignee(i).uscc.unwrap(),
                    "credit_class": "dishonest"}),
        );
        assert_eq!(status, 201, "{reply}");
    };
    register_dishonest(0, "Dishonest Ltd");
    let channel = |i: usize| {
        let body = serde_json::to_vec(&declarations[i]).unwrap();
        let (status, receipt) = server.lodge(&format!("credit-{i}"), "application/json", &body);
        assert_eq!(status, 201, "{receipt}");
        receipt["channel"].as_str().unwrap().to_owned()
    };
    assert_eq!(channel(0), "red");
    assert_ne!(channel(1), "red");
    // Registered dishonest after its first declaration was selected as a stranger: the class
    // read then (and kept, on the embedded store) is not what the next one sees.
    register_dishonest(1, "Dishonest Too Ltd");
    let body = serde_json::to_vec(&declarations[1]).unwrap();
    let (status, receipt) = server.lodge("credit-1-again", "application/json", &body);
    assert_eq!(status, 201, "{receipt}");
    assert_eq!(receipt["channel"].as_str(), Some("red"), "{receipt}");
}
