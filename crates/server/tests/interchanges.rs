//! EDIFACT at the exchange: an interchange of CUSDECs posted by a broker is answered with a
//! CONTRL, each declaration cleared and its CUSRES in the broker's mailbox; a broken
//! interchange gets a CONTRL rejecting it down to the segment, and nothing is recorded; the
//! same interchange again gives the same outcomes; a CUSCAR is kept in the logistics ledger;
//! the declarations endpoint takes a single CUSDEC.

#![allow(clippy::unwrap_used)] // A panic in a test is a test failure with its message.

mod common;

use common::{generated, start, Backend};
use jinguan_edimap::{cusdec, cusres, interchange, read_message, Envelope, OutMessage, Seg};
use serde_json::Value;

fn cusdecs(seeds: &[u64], reference: &str) -> Vec<u8> {
    let messages: Vec<OutMessage> = seeds
        .iter()
        .enumerate()
        .map(|(i, seed)| OutMessage {
            reference: format!("M{}", i + 1),
            identifier: cusdec::identifier(),
            segments: {
                let mut declaration = generated(1, *seed)[0].clone();
                declaration.head.pre_entry_id = Some(format!("REF{seed}"));
                cusdec::write(&declaration, "9").unwrap()
            },
        })
        .collect();
    interchange(
        &Envelope {
            syntax: ("UNOW".into(), "4".into()),
            sender: "BROKERSYS".into(),
            recipient: "JINGUAN".into(),
            prepared: ("261128".into(), "1200".into()),
            reference: reference.into(),
        },
        &messages,
    )
}

fn post(server: &common::Server, id: &str, body: &[u8]) -> (u16, Value) {
    server.call(
        "POST",
        "/api/v1/interchanges?format=json",
        &server.broker.clone(),
        &[
            ("Content-Type", "application/edifact"),
            ("Submission-Id", id),
        ],
        body,
    )
}

fn sizes(server: &common::Server) -> Vec<(String, u64)> {
    server
        .store
        .ledgers()
        .unwrap()
        .into_iter()
        .filter(|l| l.starts_with("customs-") || l == "logistics")
        .map(|l| {
            let size = server.store.head(&l).unwrap().tree_size;
            (l, size)
        })
        .collect()
}

/// The segments of every message of an interchange.
fn messages(bytes: &[u8]) -> Vec<Vec<Seg>> {
    let checked = jinguan_edifact::check(bytes);
    assert!(checked.is_acceptable(), "{:?}", checked.diagnostics);
    checked
        .messages
        .iter()
        .map(|m| read_message(bytes, m))
        .collect()
}

both!(an_interchange_of_cusdecs_gets_contrl_and_cusres);

fn an_interchange_of_cusdecs_gets_contrl_and_cusres(backend: Backend) {
    let server = start("interchanges", backend);
    let body = cusdecs(&[31, 32, 33], "IC0001");
    let (status, reply) = post(&server, "batch-1", &body);
    assert_eq!(status, 200, "{reply}");
    assert_eq!(reply["accepted"], true);
    // The CONTRL: the interchange and its three messages acknowledged.
    let contrl = reply["contrl"].as_str().unwrap().as_bytes().to_vec();
    let segments = &messages(&contrl)[0];
    let uci = segments.iter().find(|s| s.tag == "UCI").unwrap();
    assert_eq!(
        (uci.get(0, 0), uci.get(1, 0), uci.get(3, 0)),
        ("IC0001", "BROKERSYS", "7")
    );
    let ucms: Vec<&Seg> = segments.iter().filter(|s| s.tag == "UCM").collect();
    assert_eq!(ucms.len(), 3);
    assert!(ucms.iter().all(|u| u.get(2, 0) == "7"), "{ucms:?}");
    // Each declaration went through clearance, under its own submission id.
    let outcomes = reply["messages"].as_array().unwrap();
    assert_eq!(outcomes.len(), 3);
    let mut entries = Vec::new();
    for (i, outcome) in outcomes.iter().enumerate() {
        assert_eq!(outcome["submission_id"], format!("batch-1/M{}", i + 1));
        assert_eq!(outcome["new"], true);
        let status = outcome["status"].as_str().unwrap();
        assert!(status == "accepted" || status == "rejected", "{outcome}");
        entries.push((
            outcome["entry_id"].as_str().unwrap().to_owned(),
            status.to_owned(),
        ));
    }
    // What was recorded is what the CUSDEC said.
    let (_, shown) = server.get(
        &format!("/api/v1/declarations/{}", entries[0].0),
        &server.broker.clone(),
    );
    let recorded: jinguan_types::declaration::Declaration =
        serde_json::from_value(shown["declaration"].clone()).unwrap();
    assert_eq!(recorded.items.len(), generated(1, 31)[0].items.len());
    assert_eq!(recorded.head.consignee, generated(1, 31)[0].head.consignee);

    // The same interchange again: the same outcomes, nothing new recorded.
    let before = sizes(&server);
    let (status, again) = post(&server, "batch-1", &body);
    assert_eq!(status, 200, "{again}");
    for (outcome, (entry, _)) in again["messages"].as_array().unwrap().iter().zip(&entries) {
        assert_eq!(outcome["new"], false);
        assert_eq!(outcome["entry_id"].as_str(), Some(entry.as_str()));
    }
    assert_eq!(sizes(&server), before);

    // The broker's mailbox as CUSRES: one per receipt, naming the declarant's reference.
    let (status, head, mailbox) = server.exchange(
        "GET",
        "/api/v1/mailbox?format=edifact",
        &[("Authorization", &format!("Bearer {}", server.broker))],
        b"",
    );
    assert_eq!(status, 200);
    assert!(
        head.to_ascii_lowercase()
            .contains("content-type: application/edifact"),
        "{head}"
    );
    let responses: Vec<cusres::Response> = messages(&mailbox)
        .iter()
        .map(|m| {
            assert_eq!(m[0].get(1, 0), "CUSRES");
            cusres::read(m)
        })
        .collect();
    for (i, (entry, status)) in entries.iter().enumerate() {
        let reference = format!("batch-1/M{}", i + 1);
        let answer = responses
            .iter()
            .find(|r| r.submission_id == reference && r.first)
            .unwrap_or_else(|| panic!("no CUSRES answering {reference}: {responses:?}"));
        // The receipt's status is the state the record left it in (an automatic release
        // on the green channel is `released`).
        assert_eq!(
            answer.status == "rejected",
            status == "rejected",
            "{answer:?}"
        );
        if status == "accepted" {
            assert_eq!(&answer.entry_id, entry);
            assert!(answer.channel.is_some(), "{answer:?}");
        } else {
            assert!(!answer.errors.is_empty(), "{answer:?}");
        }
    }

    // A declaration's receipts as CUSRES, with its assessment.
    let accepted = entries.iter().find(|(_, s)| s == "accepted");
    if let Some((entry, _)) = accepted {
        let (status, receipts) = server.raw(
            "GET",
            &format!("/api/v1/declarations/{entry}/receipts?format=edifact"),
            &[("Authorization", &format!("Bearer {}", server.broker))],
            b"",
        );
        assert_eq!(status, 200);
        let first = cusres::read(&messages(&receipts)[0]);
        assert_eq!(first.entry_id, *entry);
        let i = entries.iter().position(|(e, _)| e == entry).unwrap();
        assert_eq!(first.submission_id, format!("batch-1/M{}", i + 1));
        assert!(first.taxes.is_some(), "{first:?}");
    }
}

both!(a_broken_interchange_is_rejected_down_to_the_segment_and_nothing_is_recorded);

fn a_broken_interchange_is_rejected_down_to_the_segment_and_nothing_is_recorded(backend: Backend) {
    let server = start("interchanges_bad", backend);
    let good = cusdecs(&[41, 42], "IC0002");
    // The second message's UNT counts one segment too many.
    let text = String::from_utf8(good).unwrap();
    let last_unt = text.rfind("UNT+").unwrap();
    let count_end = text[last_unt + 4..].find('+').unwrap() + last_unt + 4;
    let count: usize = text[last_unt + 4..count_end].parse().unwrap();
    let broken = format!(
        "{}{}{}",
        &text[..last_unt + 4],
        count + 1,
        &text[count_end..]
    );
    let before = sizes(&server);
    let (status, reply) = post(&server, "batch-2", broken.as_bytes());
    assert_eq!(status, 422, "{reply}");
    assert_eq!(reply["accepted"], false);
    let contrl = reply["contrl"].as_str().unwrap().as_bytes().to_vec();
    let segments = &messages(&contrl)[0];
    let ucms: Vec<&Seg> = segments.iter().filter(|s| s.tag == "UCM").collect();
    assert_eq!(ucms[0].get(2, 0), "7", "the first message is fine");
    assert_eq!(
        (
            ucms[1].get(0, 0),
            ucms[1].get(2, 0),
            ucms[1].get(3, 0),
            ucms[1].get(4, 0)
        ),
        ("M2", "4", "29", "UNT"),
        "{ucms:?}"
    );
    // The good message was processed, the broken one not.
    let outcomes = reply["messages"].as_array().unwrap();
    assert_eq!(outcomes[1]["status"], "rejected");
    assert_eq!(outcomes[1]["by"], "CONTRL");
    assert!(outcomes[0]["entry_id"].is_string());
    let after = sizes(&server);
    let grown: u64 =
        after.iter().map(|(_, s)| s).sum::<u64>() - before.iter().map(|(_, s)| s).sum::<u64>();
    assert_eq!(
        grown, 1,
        "one declaration recorded: {before:?} -> {after:?}"
    );

    // A value the directory does not have (message function "ZZ9" in BGM 1225): the
    // message rejected, the segment and element named, nothing recorded.
    let before = sizes(&server);
    let text = String::from_utf8(cusdecs(&[43], "IC0009")).unwrap();
    let bgm = text.find("\nBGM+").unwrap() + 1;
    let end = text[bgm..].find('\'').unwrap() + bgm;
    let function = text[..end].rfind('+').unwrap();
    let wrong = format!("{}+ZZ9{}", &text[..function], &text[end..]);
    let (status, reply) = post(&server, "batch-4", wrong.as_bytes());
    assert_eq!(status, 422, "{reply}");
    let contrl = reply["contrl"].as_str().unwrap().as_bytes().to_vec();
    let segments = &messages(&contrl)[0];
    let tail: Vec<String> = segments
        .iter()
        .skip_while(|s| s.tag != "UCM")
        .filter(|s| s.tag != "UNT")
        .map(Seg::to_text)
        .collect();
    assert_eq!(
        tail,
        ["UCM+M1+CUSDEC:D:96B:UN+4", "UCS+2", "UCD+12+3"],
        "{reply}"
    );
    assert_eq!(sizes(&server), before);

    // A broken envelope rejects everything: UCI action 4, nothing recorded.
    let before = sizes(&server);
    let unz = broken.rfind("UNZ+").unwrap();
    let no_unz = &broken[..unz];
    let (status, reply) = post(&server, "batch-3", no_unz.as_bytes());
    assert_eq!(status, 422, "{reply}");
    let contrl = reply["contrl"].as_str().unwrap().as_bytes().to_vec();
    let uci = messages(&contrl)[0]
        .iter()
        .find(|s| s.tag == "UCI")
        .cloned()
        .unwrap();
    assert_eq!(uci.get(3, 0), "4", "{uci:?}");
    assert_eq!(sizes(&server), before);

    // Not EDIFACT's content type; a message type no agreement covers.
    let (status, reply) = server.call(
        "POST",
        "/api/v1/interchanges",
        &server.broker.clone(),
        &[("Content-Type", "application/json")],
        b"{}",
    );
    assert_eq!((status, reply["code"].as_str()), (415, Some("H0415")));
    let orders = b"UNB+UNOC:3+BROKERSYS+JINGUAN+261128:1200+IC9'UNH+1+ORDERS:D:96A:UN'BGM+220+PO1+9'UNT+3+1'UNZ+1+IC9'";
    let (status, body) = server.raw(
        "POST",
        "/api/v1/interchanges",
        &[
            ("Authorization", &format!("Bearer {}", server.broker)),
            ("Content-Type", "application/edifact"),
        ],
        orders,
    );
    assert_eq!(status, 422);
    let ucm = messages(&body)[0]
        .iter()
        .find(|s| s.tag == "UCM")
        .cloned()
        .unwrap();
    assert_eq!((ucm.get(2, 0), ucm.get(3, 0)), ("4", "17"), "{ucm:?}");
}

both!(a_cuscar_is_kept_and_a_single_cusdec_is_a_declaration);

fn a_cuscar_is_kept_and_a_single_cusdec_is_a_declaration(backend: Backend) {
    let server = start("interchanges_cuscar", backend);
    if let Some(corpus) = jinguan_testkit::corpus() {
        let cuscar =
            std::fs::read(corpus.join("edifact/samples/ts-edifact/CUSCAR_D99B_AU_ICS.edi"))
                .unwrap();
        let (status, reply) = post(&server, "manifest-1", &cuscar);
        assert_eq!(status, 200, "{reply}");
        let outcomes = reply["messages"].as_array().unwrap();
        assert_eq!(outcomes.len(), 1);
        assert!(outcomes
            .iter()
            .all(|o| o["status"] == "recorded" && o["ledger"] == "logistics"));
        let (entry, _) = server.store.entry("logistics", 0).unwrap();
        let kept: Value = serde_json::from_slice(&entry.payload).unwrap();
        let manifest = &kept["manifest"];
        assert_eq!(manifest["message_type"], "CUSCAR");
        assert!(
            !manifest["consignments"].as_array().unwrap().is_empty(),
            "{manifest}"
        );
    } else {
        eprintln!("SKIP: ../shared/corpus absent; the CUSCAR sample not posted");
    }
    // One CUSDEC to the declarations endpoint: a receipt like any declaration's; the BGM
    // reference names it when no Submission-Id is sent.
    let body = cusdecs(&[51], "IC0003");
    let (status, receipt) = server.call(
        "POST",
        "/api/v1/declarations",
        &server.broker.clone(),
        &[("Content-Type", "application/edifact")],
        &body,
    );
    assert!(status == 201 || status == 422, "{status} {receipt}");
    assert!(
        receipt["submission_id"]
            .as_str()
            .unwrap()
            .starts_with("BGM:"),
        "{receipt}"
    );
    // Through the exchange's one door too.
    let body = cusdecs(&[52], "IC0004");
    let (status, receipt) = server.call(
        "POST",
        "/api/v1/messages",
        &server.broker.clone(),
        &[
            ("Content-Type", "application/edifact"),
            ("Submission-Id", "door-1"),
        ],
        &body,
    );
    assert!(status == 201 || status == 422, "{status} {receipt}");
    // Two CUSDECs are an interchange's business.
    let (status, refusal) = server.call(
        "POST",
        "/api/v1/declarations",
        &server.broker.clone(),
        &[
            ("Content-Type", "application/edifact"),
            ("Submission-Id", "two"),
        ],
        &cusdecs(&[53, 54], "IC0005"),
    );
    assert_eq!(
        (status, refusal["code"].as_str()),
        (400, Some("H0481")),
        "{refusal}"
    );
}
