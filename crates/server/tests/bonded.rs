//! 金关二期 bonded intake through `POST /api/v1/messages`: INV101 and SAS121 in both forms
//! recorded and numbered, answered with INV201/SAS221 receipts (also in the sender's
//! mailbox), drafts kept unnumbered, broken messages refused with the schema's error, a
//! second declaration of one inventory refused and a change accepted, gate passes checked
//! against the inventories on record, and declared messages requiring a signature. Run on
//! SQLite and on PostgreSQL.

#![allow(clippy::unwrap_used)] // A panic in a test is a test failure with its message.

mod common;

use std::sync::Arc;

use common::{Server, TestClock};
use jinguan_chinaport::xml::{self, Element, Limits};
use jinguan_crypto::{jws, SigningKey};
use jinguan_testkit::bonded::{
    inv101_client, inv101_official, sas121_client, sas121_official, Bonded,
};

both!(bonded_inventories_and_gate_passes_are_checked_numbered_recorded_and_answered);

/// Posts as the broker, signed when a key is given: the status and the receipt read.
fn post(server: &Server, xml: &str, key: Option<(&SigningKey, &str)>) -> (u16, Element) {
    let auth = format!("Bearer {}", server.broker);
    let signature = key.map(|(k, serial)| jws::sign(k, serial, xml.as_bytes()).unwrap());
    let mut headers = vec![
        ("Authorization", auth.as_str()),
        ("Content-Type", "application/xml"),
    ];
    if let Some(signature) = &signature {
        headers.push(("x-jws-signature", signature.as_str()));
    }
    let (status, body) = server.raw("POST", "/api/v1/messages", &headers, xml.as_bytes());
    let receipt = xml::parse(&body, Limits::default())
        .unwrap_or_else(|e| panic!("{status} {e}: {}", String::from_utf8_lossy(&body)));
    (status, receipt)
}

/// (message_type, manageResult, businessId, notes) of a receipt.
fn result(receipt: &Element) -> (String, String, String, Vec<String>) {
    let message_type = receipt
        .child("EnvelopInfo")
        .and_then(|e| e.child("message_type"))
        .map(|e| e.text.to_string())
        .unwrap_or_default();
    let payload = receipt
        .child("DataInfo")
        .and_then(|d| d.child("BussinessData"))
        .and_then(|b| b.children.first())
        .unwrap();
    let appr = payload.child("HdeApprResult").unwrap();
    let text = |name: &str| {
        appr.child(name)
            .map(|e| e.text.to_string())
            .unwrap_or_default()
    };
    let notes = payload
        .children
        .iter()
        .filter(|c| c.name == "CheckInfo")
        .filter_map(|c| c.child("note"))
        .map(|n| n.text.to_string())
        .collect();
    (
        message_type,
        text("manageResult"),
        text("businessId"),
        notes,
    )
}

fn bonded_inventories_and_gate_passes_are_checked_numbered_recorded_and_answered(
    backend: common::Backend,
) {
    let server = common::start_signed("bonded", backend, Arc::new(TestClock::default()));
    let (key, serial) = server.certify_broker();
    let signer = Some((&key, serial.as_str()));

    // An official INV101, declared and signed: numbered QD + district + year + I + serial.
    let b = Bonded::new("NB-0001", 3);
    let (status, receipt) = post(&server, &inv101_official(&b, true), signer);
    let (message_type, manage, number, notes) = result(&receipt);
    assert_eq!(status, 201, "{notes:?}");
    assert_eq!((message_type.as_str(), manage.as_str()), ("INV201", "Y"));
    assert!(number.starts_with("QD2924"), "{number}");
    assert_eq!(number.len(), 18, "{number}");
    assert_eq!(&number[8..9], "I");

    // The same message again: the same answer, nothing recorded twice.
    let (status, again) = post(&server, &inv101_official(&b, true), signer);
    assert_eq!(status, 200);
    assert_eq!(result(&again).2, number);

    // Unsigned, a declared message is refused before anything is recorded.
    let unsigned = Bonded::new("NB-0002", 1);
    let auth = format!("Bearer {}", server.broker);
    let (status, body) = server.raw(
        "POST",
        "/api/v1/messages",
        &[
            ("Authorization", auth.as_str()),
            ("Content-Type", "application/xml"),
        ],
        inv101_client(&unsigned).as_bytes(),
    );
    assert_eq!(status, 401, "{}", String::from_utf8_lossy(&body));
    assert!(String::from_utf8_lossy(&body).contains("H0420"));

    // The client form, as the single window client uploads it: numbered too.
    let (status, receipt) = post(&server, &inv101_client(&unsigned), signer);
    let (_, manage, client_number, notes) = result(&receipt);
    assert_eq!((status, manage.as_str()), (201, "Y"), "{notes:?}");
    assert_ne!(client_number, number);

    // A draft (暂存) is kept unnumbered (this server requires every message signed).
    let mut draft = Bonded::new("NB-0003", 2);
    draft.declare = false;
    let (status, receipt) = post(&server, &inv101_client(&draft), signer);
    let (_, manage, draft_number, _) = result(&receipt);
    assert_eq!(
        (status, manage.as_str(), draft_number.as_str()),
        (201, "Y", "")
    );

    // Broken: refused (退单) with the schema's error, recorded, and in the mailbox.
    let mut broken_b = Bonded::new("NB-0004", 2);
    broken_b.message_id = "M-BROKEN".into();
    let broken =
        inv101_client(&broken_b).replacen("<DclQty>20</DclQty>", "<DclQty>20kg</DclQty>", 1);
    let (status, receipt) = post(&server, &broken, signer);
    let (_, manage, refused_number, notes) = result(&receipt);
    assert_eq!(
        (status, manage.as_str(), refused_number.as_str()),
        (422, "3", "")
    );
    assert!(
        notes
            .iter()
            .any(|n| n.starts_with("[X0315]") && n.contains("InvtListType[2]/DclQty")),
        "{notes:?}"
    );

    // Declaring NB-0001 again (another message) is refused; a change naming its number
    // with a higher chgTmsCnt keeps the number.
    let mut twice = b.clone();
    twice.message_id = "M-TWICE".into();
    let (status, receipt) = post(&server, &inv101_official(&twice, true), signer);
    let (_, manage, _, notes) = result(&receipt);
    assert_eq!((status, manage.as_str()), (422, "3"));
    assert!(notes[0].contains("H0493"), "{notes:?}");
    let mut change = b.clone();
    change.message_id = "M-CHANGE".into();
    let text = inv101_official(&change, true)
        .replacen("<bondInvtNo>", &format!("<bondInvtNo>{number}"), 1)
        .replacen("<chgTmsCnt>0</chgTmsCnt>", "<chgTmsCnt>1</chgTmsCnt>", 1);
    let (status, receipt) = post(&server, &text, signer);
    let (_, manage, changed_number, notes) = result(&receipt);
    assert_eq!((status, manage.as_str()), (201, "Y"), "{notes:?}");
    assert_eq!(changed_number, number);

    // A gate pass carrying an inventory on record is numbered; one carrying none is refused.
    let pass = Bonded::new("PP-0001", 0);
    let (status, receipt) = post(&server, &sas121_official(&pass, &number), signer);
    let (message_type, manage, pass_number, notes) = result(&receipt);
    assert_eq!(
        (status, message_type.as_str(), manage.as_str()),
        (201, "SAS221", "Y"),
        "{notes:?}"
    );
    assert!(pass_number.starts_with("Z2924I"), "{pass_number}");
    let stray = Bonded::new("PP-0002", 0);
    let (status, receipt) = post(
        &server,
        &sas121_client(&stray, "QD292426I999999999"),
        signer,
    );
    let (_, manage, _, notes) = result(&receipt);
    assert_eq!((status, manage.as_str()), (422, "3"));
    assert!(notes[0].contains("H0494"), "{notes:?}");

    // Not a message type taken: named, nothing recorded.
    let ems = inv101_client(&Bonded::new("NB-0005", 1)).replacen(
        "<message_type>INV101</message_type>",
        "<message_type>EMS111</message_type>",
        1,
    );
    let (status, body) = server.raw(
        "POST",
        "/api/v1/messages",
        &[
            ("Authorization", auth.as_str()),
            ("Content-Type", "application/xml"),
        ],
        ems.as_bytes(),
    );
    assert_eq!(status, 422);
    assert!(String::from_utf8_lossy(&body).contains("H0470"));

    // The mailbox holds every receipt written, as XML documents.
    let (status, mailbox) = server.get("/api/v1/mailbox", &server.broker.clone());
    assert_eq!(status, 200, "{mailbox}");
    let kinds: Vec<(String, String)> = mailbox["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["message_type"].as_str().unwrap_or_default().to_owned(),
                m["ledger"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    let inv = kinds
        .iter()
        .filter(|(t, l)| t == "INV201" && l == "bonded")
        .count();
    let sas = kinds
        .iter()
        .filter(|(t, l)| t == "SAS221" && l == "bonded")
        .count();
    // 1 + 1 + 1 (draft) + 1 (broken) + 1 (twice) + 1 (change); 2 passes.
    assert_eq!((inv, sas), (6, 2), "{kinds:?}");
    let last = mailbox["messages"].as_array().unwrap().last().unwrap();
    let reread = xml::parse(last["xml"].as_str().unwrap().as_bytes(), Limits::default()).unwrap();
    assert_eq!(result(&reread).1, "3");
}
