//! Mailboxes, embedded: every receipt of a declaration lands in the mailbox of each party it
//! names, in the order recorded, once; a party that was away finds them all, in order; what is
//! not acknowledged comes again; acknowledgements are idempotent ledger entries.

#![allow(clippy::unwrap_used)] // A panic in a test is a test failure with its message.

mod common;

use common::{all_to, generated, start, Backend};
use jinguan_server::Role;
use serde_json::{json, Value};

/// A declaration as one CUSDEC in an interchange.
fn cusdec_interchange(declaration: &jinguan_types::declaration::Declaration) -> Vec<u8> {
    use jinguan_edimap::{cusdec, interchange, Envelope, OutMessage};
    interchange(
        &Envelope {
            syntax: ("UNOW".into(), "4".into()),
            sender: "BROKERSYS".into(),
            recipient: "JINGUAN".into(),
            prepared: ("261128".into(), "1200".into()),
            reference: "R1".into(),
        },
        &[OutMessage {
            reference: "1".into(),
            identifier: cusdec::identifier(),
            segments: cusdec::write(declaration, "9").unwrap(),
        }],
    )
}

fn pull(server: &common::Server, token: &str, query: &str) -> Value {
    let (status, mailbox) = server.get(&format!("/api/v1/mailbox{query}"), token);
    assert_eq!(status, 200, "{mailbox}");
    mailbox
}

fn ack(server: &common::Server, token: &str, cursor: i64) -> (u16, Value) {
    server.call(
        "POST",
        "/api/v1/mailbox/ack",
        token,
        &[("Content-Type", "application/json")],
        json!({ "cursor": cursor }).to_string().as_bytes(),
    )
}

exchanges!(receipts_wait_in_order_and_come_until_acknowledged);

fn receipts_wait_in_order_and_come_until_acknowledged(backend: Backend) {
    let server = start("mailbox", backend);
    let broker = server.broker.clone();
    // Every declaration to the yellow channel: each waits for an officer.
    assert_eq!(server.put_rules(&all_to(2, Some("yellow"))).0, 201);
    // The broker is away: declarations are lodged and acted on meanwhile.
    let declarations = generated(6, 91);
    let mut entries = Vec::new();
    for (i, declaration) in declarations.iter().enumerate() {
        let body = serde_json::to_vec(declaration).unwrap();
        let (status, receipt) = server.lodge(&format!("mb-{i}"), "application/json", &body);
        assert_eq!(status, 201, "{receipt}");
        entries.push(receipt["entry_id"].as_str().unwrap().to_owned());
    }
    // A repeat adds nothing to any mailbox.
    let body = serde_json::to_vec(&declarations[0]).unwrap();
    assert_eq!(server.lodge("mb-0", "application/json", &body).0, 200);
    let (status, _) = server.officer(&entries[1], "hold", json!({"reason": "check"}));
    assert_eq!(status, 200);

    // Back: every receipt of every declaration, in the order recorded, each once.
    let all = pull(&server, &broker, "?limit=1000");
    let messages = all["messages"].as_array().unwrap();
    let cursors: Vec<i64> = messages
        .iter()
        .map(|m| m["cursor"].as_i64().unwrap())
        .collect();
    assert_eq!(cursors, (1..=cursors.len() as i64).collect::<Vec<_>>());
    let mut expected = 0;
    for entry in &entries {
        let (status, history) = server.get(&format!("/api/v1/declarations/{entry}"), &broker);
        assert_eq!(status, 200);
        let records = history["history"].as_array().unwrap();
        expected += records.len();
        let mine: Vec<&Value> = messages
            .iter()
            .filter(|m| m["entry_id"] == *entry)
            .collect();
        assert_eq!(mine.len(), records.len(), "{entry}: one message per record");
        for (message, record) in mine.iter().zip(records) {
            assert_eq!(message["seq"], record["seq"]);
            assert_eq!(message["status"], record["status"]);
        }
    }
    assert_eq!(messages.len(), expected);
    let held = messages.last().unwrap();
    assert_eq!(
        (held["entry_id"].as_str(), held["status"].as_str()),
        (Some(entries[1].as_str()), Some("selected"))
    );

    // At least once: unacknowledged, they come again; acknowledged, they do not.
    let again = pull(&server, &broker, "?limit=2");
    assert_eq!(again["messages"].as_array().unwrap().len(), 2);
    assert_eq!(again["messages"][0]["cursor"], 1);
    let (status, reply) = ack(&server, &broker, 3);
    assert_eq!(
        (status, reply["acknowledged"].as_i64()),
        (201, Some(3)),
        "{reply}"
    );
    let after = pull(&server, &broker, "");
    assert_eq!(after["acknowledged"], 3);
    assert_eq!(after["messages"][0]["cursor"], 4);
    // Idempotent: the same or an older cursor changes nothing; past the end is refused.
    assert_eq!(ack(&server, &broker, 3).0, 200);
    assert_eq!(ack(&server, &broker, 2).0, 200);
    let (status, reply) = ack(&server, &broker, 10_000);
    assert_eq!((status, reply["code"].as_str()), (409, Some("H0461")));
    let (_, head) = server.get("/api/v1/ledger/exchange/head", "");
    assert_eq!(head["tree_size"], 1, "one acknowledgement recorded: {head}");
    // The trace of a message: received (from where, by which request), recorded, delivered
    // to the broker's mailbox at its cursor, acknowledged (the first) or not (the fourth).
    let trace = |id: &str, token: &str| server.get(&format!("/api/v1/messages/{id}/trace"), token);
    let first_id = messages[0]["message_id"].as_str().unwrap();
    let (status, first) = trace(first_id, &broker);
    assert_eq!(status, 200, "{first}");
    let steps = first["steps"].as_array().unwrap();
    let names: Vec<&str> = steps.iter().map(|s| s["step"].as_str().unwrap()).collect();
    for step in [
        "received",
        "parsed",
        "routed",
        "processed",
        "receipt_produced",
        "delivered",
        "acknowledged",
    ] {
        assert!(names.contains(&step), "{step} in {names:?}");
    }
    assert_eq!(steps[0]["from"], "127.0.0.1");
    assert!(steps[0]["time"].as_str().unwrap() <= steps[1]["time"].as_str().unwrap());
    let delivered = steps
        .iter()
        .find(|s| s["step"] == "delivered" && s["party"] == "test-broker")
        .unwrap();
    assert_eq!(delivered["cursor"], 1);
    let fourth = messages[3]["message_id"].as_str().unwrap();
    let (_, fourth) = trace(fourth, &broker);
    assert!(
        !fourth["steps"]
            .as_array()
            .unwrap()
            .iter()
            .any(|s| s["step"] == "acknowledged" && s["party"] == "test-broker"),
        "{fourth}"
    );
    // Nobody else's business: another party gets 404, as for the declaration itself.
    let stranger = server.token("someone-else", Role::Broker);
    assert_eq!(trace(first_id, &stranger).0, 404);
    let (status, reply) = trace("customs-0000:999999", &broker);
    assert_eq!((status, reply["code"].as_str()), (404, Some("H0462")));
    // A cursor of one's choosing reads from there, acknowledged or not, whatever it is.
    for after in 0..messages.len() {
        let from = pull(&server, &broker, &format!("?after={after}&limit=2"));
        let cursors: Vec<i64> = from["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["cursor"].as_i64().unwrap())
            .collect();
        let after = after as i64;
        let expected: Vec<i64> = (after + 1..=(after + 2).min(messages.len() as i64)).collect();
        assert_eq!(cursors, expected, "after {after}");
        assert_eq!(from["messages"][0], messages[after as usize]);
    }

    // Another party's mailbox holds only its own declarations: the consignee of the first.
    let consignee = declarations[0].head.consignee.customs_code.clone().unwrap();
    let enterprise = server.token(&consignee, Role::Enterprise);
    let theirs = pull(&server, &enterprise, "?limit=1000");
    let theirs = theirs["messages"].as_array().unwrap();
    assert!(!theirs.is_empty());
    for message in theirs {
        let entry = message["entry_id"].as_str().unwrap();
        let (status, _) = server.get(&format!("/api/v1/declarations/{entry}"), &enterprise);
        assert_eq!(status, 200, "a message about a declaration it reaches");
    }
    // A party named in nothing has an empty mailbox.
    let nobody = server.token("nobody-at-all", Role::Broker);
    assert!(pull(&server, &nobody, "").as_object().unwrap()["messages"]
        .as_array()
        .unwrap()
        .is_empty());
    // In JetStream, mailboxes are read from the stream: without NATS there is no mailbox to
    // read, and the answer says so (the ledger, the declarations and their receipts are
    // untouched).
    if backend == Backend::Nats {
        let mut server = server;
        server.nats.as_mut().unwrap().kill();
        let (status, reply) = server.get("/api/v1/mailbox", &broker);
        assert_eq!(
            (status, reply["code"].as_str()),
            (503, Some("H0503")),
            "{reply}"
        );
        let (status, _) = server.get(&format!("/api/v1/declarations/{}", entries[0]), &broker);
        assert_eq!(status, 200);
    }
}

exchanges!(a_message_sent_again_by_its_sender_gets_the_original_answer);

fn a_message_sent_again_by_its_sender_gets_the_original_answer(backend: Backend) {
    use jinguan_chinaport::decmessage::{write, WriteOptions};
    let server = start("duplicates", backend);
    let broker = server.broker.clone();
    let post = |token: &str, id: Option<&str>, body: &[u8]| {
        let mut headers = vec![("Content-Type", "application/xml")];
        if let Some(id) = id {
            headers.push(("Submission-Id", id));
        }
        server.call("POST", "/api/v1/declarations", token, &headers, body)
    };
    let mut declarations = generated(3, 77);
    // A DecMessage carrying its own reference needs no Submission-Id: the single window's
    // CopMsgId, or else the enterprise's ClientSeqNo.
    declarations[0].envelope = Some(jinguan_types::declaration::Envelope {
        cop_msg_id: Some("COP-20261128-0001".into()),
        ..Default::default()
    });
    declarations[1].signature = Some(jinguan_types::declaration::SignatureBlock {
        client_seq_no: Some("CSN000000000000001".into()),
        ..Default::default()
    });
    for declaration in &declarations[..2] {
        let xml = write(declaration, WriteOptions::default());
        let (status, first) = post(&broker, None, xml.as_bytes());
        assert_eq!(status, 201, "{first}");
        let (status, again) = post(&broker, None, xml.as_bytes());
        assert_eq!(
            status, 200,
            "the repeat answered with the original: {again}"
        );
        assert_eq!(again["entry_id"], first["entry_id"]);
        assert_eq!(again["ledger"], first["ledger"]);
        // The same reference with another body is a conflict, not a new declaration.
        let changed = xml.replacen("<DecHead>", "<DecHead><Note>changed</Note>", 1);
        assert_ne!(changed, xml);
        let (status, conflict) = post(&broker, None, changed.as_bytes());
        assert_eq!(
            (status, conflict["code"].as_str()),
            (409, Some("S0001")),
            "{conflict}"
        );
    }
    // No reference at all: refused, and said why.
    declarations[2].signature = None;
    declarations[2].envelope = None;
    let bare = write(&declarations[2], WriteOptions::default());
    let (status, refusal) = post(&broker, None, bare.as_bytes());
    assert_eq!(
        (status, refusal["code"].as_str()),
        (400, Some("H0001")),
        "{refusal}"
    );

    // A reference is the sender's own: another broker sending the same body under the same
    // id gets its own declaration, never the first sender's receipt.
    let body = serde_json::to_vec(&declarations[2]).unwrap();
    let (status, mine) = server.lodge("shared-ref-1", "application/json", &body);
    assert_eq!(status, 201, "{mine}");
    let other = server.token("other-broker", Role::Broker);
    let (status, theirs) = server.lodge_as(&other, "shared-ref-1", "application/json", &body);
    assert_eq!(status, 201, "{theirs}");
    assert_ne!(theirs["entry_id"], mine["entry_id"]);
    let (status, again) = server.lodge_as(&other, "shared-ref-1", "application/json", &body);
    assert_eq!((status, &again["entry_id"]), (200, &theirs["entry_id"]));
}

exchanges!(every_family_is_routed_to_its_module_and_the_rest_refused_coded);

fn every_family_is_routed_to_its_module_and_the_rest_refused_coded(backend: Backend) {
    use jinguan_chinaport::decmessage::{write, WriteOptions};
    let server = start("routing", backend);
    let broker = server.broker.clone();
    let send = |content_type: &str, id: &str, body: &[u8]| {
        server.call(
            "POST",
            "/api/v1/messages",
            &broker,
            &[("Content-Type", content_type), ("Submission-Id", id)],
            body,
        )
    };
    let declarations = generated(4, 55);
    // Every family that exists: JSON, bare DecMessage, DecMessage in its import wrapper,
    // an EDIFACT CUSDEC.
    let bodies = [
        (
            "application/json",
            serde_json::to_vec(&declarations[0]).unwrap(),
        ),
        (
            "application/xml",
            write(&declarations[1], WriteOptions::default()).into_bytes(),
        ),
        (
            "text/xml",
            write(&declarations[2], WriteOptions { wrap: true }).into_bytes(),
        ),
        ("application/edifact", cusdec_interchange(&declarations[3])),
    ];
    let mut entries = Vec::new();
    for (i, (content_type, body)) in bodies.iter().enumerate() {
        let (status, receipt) = send(content_type, &format!("route-{i}"), body);
        assert_eq!(status, 201, "{content_type}: {receipt}");
        entries.push(receipt["entry_id"].as_str().unwrap().to_owned());
        // A repeat through the same door is the same message.
        let (status, again) = send(content_type, &format!("route-{i}"), body);
        assert_eq!((status, &again["entry_id"]), (200, &receipt["entry_id"]));
    }
    // Each receipt came out of the sender's mailbox and the consignee's, and no one else's.
    let mine = pull(&server, &broker, "?limit=1000");
    let in_mailbox = |mailbox: &Value, entry: &str| {
        mailbox["messages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|m| m["entry_id"] == entry)
    };
    for (entry, declaration) in entries.iter().zip(&declarations) {
        assert!(in_mailbox(&mine, entry), "{entry} in the broker's mailbox");
        let consignee = declaration.head.consignee.customs_code.clone().unwrap();
        let theirs = pull(
            &server,
            &server.token(&consignee, Role::Enterprise),
            "?limit=1000",
        );
        assert!(
            in_mailbox(&theirs, entry),
            "{entry} in its consignee's mailbox"
        );
    }
    let stranger = pull(&server, &server.token("uninvolved", Role::Enterprise), "");
    assert_eq!(stranger["messages"], json!([]));

    // Types no route takes: a coded refusal naming the type, and nothing recorded.
    let sizes = |server: &common::Server| -> Vec<u64> {
        let ledgers = server.store.ledgers().unwrap();
        ledgers
            .iter()
            .map(|l| server.store.head(l).unwrap().tree_size)
            .collect()
    };
    let before = sizes(&server);
    let unroutable: Vec<(&str, Vec<u8>, &str)> = vec![
        (
            "application/xml",
            // A receipt customs sends: nobody sends it in.
            b"<?xml version=\"1.0\"?><CEB312Message guid=\"4CDE1CFD\" version=\"1.0\"/>".to_vec(),
            "CEB312Message",
        ),
        (
            "application/edifact",
            b"UNA:+.? 'UNB+UNOC:3+SENDER+RECEIVER+261128:1200+42'UNH+1+ORDERS:D:96A:UN'BGM+220'UNT+3+1'UNZ+1+42'"
                .to_vec(),
            "ORDERS",
        ),
    ];
    for (i, (content_type, body, name)) in unroutable.iter().enumerate() {
        let (status, refusal) = send(content_type, &format!("unroutable-{i}"), body);
        assert_eq!(
            (status, refusal["code"].as_str()),
            (422, Some("H0470")),
            "{refusal}"
        );
        let message = refusal["message"].as_str().unwrap();
        assert!(
            message.contains(name) && message.contains("xml/decmessage"),
            "{message}"
        );
    }
    for (content_type, body) in [("application/xml", &b"not xml"[..]), ("image/png", b"x")] {
        let (status, refusal) = send(content_type, "unreadable", body);
        assert_eq!(
            (status, refusal["code"].as_str()),
            (422, Some("H0471")),
            "{refusal}"
        );
    }
    assert_eq!(
        sizes(&server),
        before,
        "nothing recorded for what was not routed"
    );
    // A real inventory goes to the cross-border module, whose schema wants it signed: a
    // CEB900 format notice says so.
    if let Some(corpus) = jinguan_testkit::corpus() {
        let sample = corpus.join("china/ceb/misc/CEB621Message_unsigned_example.xml");
        let auth = format!("Bearer {broker}");
        let (status, notice) = server.raw(
            "POST",
            "/api/v1/messages",
            &[
                ("Authorization", &auth),
                ("Content-Type", "application/xml"),
            ],
            &std::fs::read(sample).unwrap(),
        );
        assert_eq!(status, 422);
        let (notice, _) = jinguan_chinaport::ceb::parse(&notice).unwrap();
        assert_eq!(notice.root, "CEB900Message");
        let info = notice.entities[0].head.text("returnInfo");
        assert!(
            info.contains("X0311") && info.contains("Signature"),
            "{info}"
        );
    }
    // No routing for a caller the platform does not know.
    let (status, _) = server.call(
        "POST",
        "/api/v1/messages",
        "not-a-token",
        &[("Content-Type", "application/xml")],
        &unroutable[0].1,
    );
    assert_eq!(status, 401);
    // The table itself is public data.
    let (status, table) = server.get("/api/v1/routes", "");
    assert_eq!(status, 200);
    // Four declaration routes, the 19 CEB messages enterprises send, the DXP envelope, the
    // China manifest and the two 金关二期 messages.
    assert_eq!(table["routes"].as_array().unwrap().len(), 27, "{table}");
}

both!(acknowledged_messages_are_pruned_by_their_partys_retention_and_stay_in_the_ledger);

fn acknowledged_messages_are_pruned_by_their_partys_retention_and_stay_in_the_ledger(
    backend: Backend,
) {
    // Housekeeping often; the platform keeps acknowledged messages a year by default.
    let server = common::start_custom("retention", backend, |app| {
        app.delivery.housekeeping = std::time::Duration::from_millis(50);
        app.delivery.retention_days = 365;
    });
    let broker = server.broker.clone();
    let declarations = generated(4, 17);
    for (i, declaration) in declarations.iter().enumerate() {
        let body = serde_json::to_vec(declaration).unwrap();
        assert_eq!(
            server
                .lodge(&format!("rt-{i}"), "application/json", &body)
                .0,
            201
        );
    }
    let all = pull(&server, &broker, "?after=0");
    let count = all["messages"].as_array().unwrap().len() as i64;
    assert!(count >= 4);
    assert_eq!(ack(&server, &broker, 2).0, 201);
    // Within the platform's year nothing goes.
    std::thread::sleep(std::time::Duration::from_millis(300));
    assert_eq!(
        pull(&server, &broker, "?after=0")["messages"],
        all["messages"]
    );
    // The broker keeps nothing acknowledged (retention 0 days): the two acknowledged go,
    // the rest stay, unacknowledged, whatever their age.
    let (status, reply) = server.call(
        "PUT",
        "/api/v1/parties/test-broker",
        &server.admin.clone(),
        &[("Content-Type", "application/json")],
        json!({"code": "test-broker", "kind": "broker", "name": "Test Broker",
               "banks": ["bank-1"], "mailbox_retention_days": 0})
        .to_string()
        .as_bytes(),
    );
    assert_eq!(status, 200, "{reply}");
    let start = std::time::Instant::now();
    loop {
        let left = pull(&server, &broker, "?after=0");
        let cursors: Vec<i64> = left["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["cursor"].as_i64().unwrap())
            .collect();
        if cursors.first() == Some(&3) {
            assert_eq!(cursors, (3..=count).collect::<Vec<_>>());
            break;
        }
        assert!(start.elapsed().as_secs() < 10, "not pruned: {cursors:?}");
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    // What was pruned stays in the ledger: its message id still traces, and the pruning is
    // itself an exchange-ledger entry.
    let first = all["messages"][0]["message_id"].as_str().unwrap();
    let (status, trace) = server.get(&format!("/api/v1/messages/{first}/trace"), &broker);
    assert_eq!(status, 200, "{trace}");
    let kinds: Vec<String> = (0..server.store.head("exchange").unwrap().tree_size)
        .map(|seq| server.store.entry("exchange", seq).unwrap().0.kind)
        .collect();
    assert!(kinds.iter().any(|k| k == "mailbox.pruned"), "{kinds:?}");
    // Retention is bounded.
    let (status, refusal) = server.call(
        "PUT",
        "/api/v1/parties/test-broker",
        &server.admin.clone(),
        &[("Content-Type", "application/json")],
        json!({"code": "test-broker", "kind": "broker", "name": "Test Broker",
               "mailbox_retention_days": 100_000})
        .to_string()
        .as_bytes(),
    );
    assert_eq!((status, refusal["code"].as_str()), (400, Some("H0450")));
}
