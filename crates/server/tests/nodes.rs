//! Two nodes on one PostgreSQL database: declarations lodged at both get distinct entry ids,
//! and two officers acting on one declaration at once through different nodes take one step,
//! never two: the second decision, made from the state the first changed, is refused
//! (`409`), and neither node stops.

#![allow(clippy::unwrap_used)] // A panic in a test is a test failure with its message.

mod common;

use std::collections::BTreeSet;
use std::sync::Barrier;

use common::{all_to, generated, start, start_beside, Backend};
use serde_json::json;

#[test]
fn two_nodes_take_one_step_per_decision_and_never_reuse_an_entry_id() {
    if !common::postgres_available() {
        return;
    }
    let mut first = start("node_a", Backend::Postgres);
    let second = start_beside(&mut first);
    // Every declaration waits for an officer.
    assert_eq!(first.put_rules(&all_to(2, Some("yellow"))).0, 201);
    let declarations = generated(30, 404);
    let mut entries = Vec::new();
    std::thread::scope(|scope| {
        let halves: Vec<_> = [&first, &second]
            .into_iter()
            .enumerate()
            .map(|(n, node)| {
                let declarations = &declarations;
                scope.spawn(move || {
                    let mut mine = Vec::new();
                    for (i, declaration) in
                        declarations.iter().enumerate().filter(|(i, _)| i % 2 == n)
                    {
                        let body = serde_json::to_vec(declaration).unwrap();
                        let (status, receipt) =
                            node.lodge(&format!("two-{i}"), "application/json", &body);
                        assert_eq!(status, 201, "{receipt}");
                        mine.push(receipt["entry_id"].as_str().unwrap().to_owned());
                    }
                    mine
                })
            })
            .collect();
        for half in halves {
            entries.extend(half.join().unwrap());
        }
    });
    let distinct: BTreeSet<&String> = entries.iter().collect();
    assert_eq!(
        distinct.len(),
        entries.len(),
        "an entry id given twice: {entries:?}"
    );

    // Two officers, one per node, review each declaration at the same moment (with their own
    // Submission-Ids, and without): one review each time, the other refused.
    let mut outcomes = std::collections::BTreeMap::<u16, usize>::new();
    let mut raced = 0;
    for (i, entry) in entries.iter().enumerate() {
        let barrier = Barrier::new(2);
        let answers: Vec<(u16, String)> = std::thread::scope(|scope| {
            let racers: Vec<_> = [&first, &second]
                .into_iter()
                .enumerate()
                .map(|(n, node)| {
                    let barrier = &barrier;
                    scope.spawn(move || {
                        let mut headers = vec![("Content-Type", "application/json")];
                        let id = format!("review-{i}-{n}");
                        if i % 2 == 0 {
                            headers.push(("Submission-Id", id.as_str()));
                        }
                        barrier.wait();
                        let (status, reply) = node.call(
                            "POST",
                            &format!("/api/v1/declarations/{entry}/review"),
                            &node.officer.clone(),
                            &headers,
                            json!({"outcome": "conform", "findings": []})
                                .to_string()
                                .as_bytes(),
                        );
                        (status, reply["code"].as_str().unwrap_or("").to_owned())
                    })
                })
                .collect();
            racers.into_iter().map(|r| r.join().unwrap()).collect()
        });
        // A declaration the rules left past review (nothing due, say) is no race.
        if answers.iter().all(|(_, code)| code == "W0101") {
            continue;
        }
        raced += 1;
        let statuses: Vec<u16> = answers.iter().map(|(status, _)| *status).collect();
        for status in &statuses {
            *outcomes.entry(*status).or_default() += 1;
        }
        assert_eq!(
            statuses.iter().filter(|s| **s == 200).count(),
            1,
            "{entry}: exactly one review taken: {statuses:?}"
        );
        assert!(
            statuses.iter().all(|s| matches!(s, 200 | 409)),
            "{statuses:?}"
        );
        let (_, declaration) = first.get(
            &format!("/api/v1/declarations/{entry}"),
            &first.officer.clone(),
        );
        let reviews = declaration["history"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|record| record["events"].to_string().contains("review"))
            .count();
        assert_eq!(reviews, 1, "{entry}: {declaration}");
    }
    assert!(
        raced >= entries.len() / 3,
        "only {raced} declarations could be reviewed"
    );
    eprintln!("two nodes, {raced} races: answers {outcomes:?}");
    // Both nodes still take work.
    for (n, node) in [&first, &second].into_iter().enumerate() {
        let body = serde_json::to_vec(&generated(1, 900 + n as u64)[0]).unwrap();
        assert_eq!(
            node.lodge(&format!("after-{n}"), "application/json", &body)
                .0,
            201
        );
    }
}
