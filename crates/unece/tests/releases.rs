//! Every shipped release opens, with its messages, segments and code lists, in well under a
//! second.

#![allow(clippy::unwrap_used)] // A panic in a test is a test failure with its message.

use std::time::Instant;

#[test]
fn every_release_opens_with_its_customs_messages() {
    for release in jinguan_unece::releases() {
        let started = Instant::now();
        let directory = jinguan_unece::directory(release).unwrap();
        let took = started.elapsed();
        println!(
            "{release}: {} messages, {} segments, {} code lists, read in {} ms",
            directory.messages.len(),
            directory.segments.len(),
            directory.codes.len(),
            took.as_millis()
        );
        assert_eq!(directory.release, *release);
        for message in ["CUSDEC", "CUSRES", "CUSCAR", "CUSREP", "INVOIC", "ORDERS"] {
            assert!(directory.message(message).is_some(), "{release} {message}");
        }
        for tag in ["UNH", "UNT", "UNS", "BGM", "NAD", "LOC", "DTM"] {
            assert!(
                directory.segment(tag.as_bytes()).is_some(),
                "{release} {tag}"
            );
        }
        // Every segment a table names is in the segment directory.
        for message in directory.messages.values() {
            let mut tags = Vec::new();
            collect(&message.nodes, &mut tags);
            for tag in tags {
                assert!(
                    directory.segments.contains_key(&tag),
                    "{release} {}: {tag} not in the segment directory",
                    message.message_type
                );
            }
        }
        assert!(directory.codes["1225"].contains("9"), "{release} 1225");
        // Kept: the second call is the same directory.
        assert!(std::ptr::eq(
            directory,
            jinguan_unece::directory(release).unwrap()
        ));
    }
}

fn collect(nodes: &[jinguan_edifact::directory::Node], tags: &mut Vec<String>) {
    for node in nodes {
        match node {
            jinguan_edifact::directory::Node::Segment { tag, .. } => tags.push(tag.clone()),
            jinguan_edifact::directory::Node::Group { children, .. } => collect(children, tags),
        }
    }
}
