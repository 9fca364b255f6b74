//! `edifact-peer FILE RUNS`: edifact-rs 0.18 parses FILE (already read into memory) RUNS
//! times, every segment's elements and components visited; prints one JSON line with the
//! best time, so the caller compares parse time alone, without process start-up or reading.

use std::time::{Duration, Instant};

fn main() {
    let mut args = std::env::args().skip(1);
    let (Some(file), runs) = (args.next(), args.next()) else {
        eprintln!("usage: edifact-peer FILE RUNS");
        std::process::exit(2);
    };
    let runs: usize = runs.and_then(|r| r.parse().ok()).unwrap_or(3).max(1);
    let input = match std::fs::read(&file) {
        Ok(input) => input,
        Err(e) => {
            eprintln!("{file}: {e}");
            std::process::exit(2);
        }
    };
    let mut best = Duration::MAX;
    let mut outcome = Ok((0usize, 0usize));
    for _ in 0..runs {
        let start = Instant::now();
        outcome = visit(&input);
        best = best.min(start.elapsed());
        if outcome.is_err() {
            break;
        }
    }
    match outcome {
        Ok((segments, components)) => println!(
            "{{\"ok\":true,\"best_s\":{},\"segments\":{segments},\"components\":{components}}}",
            best.as_secs_f64()
        ),
        Err(e) => println!(
            "{{\"ok\":false,\"error\":{:?}}}",
            e.to_string().chars().take(200).collect::<String>()
        ),
    }
}

/// Every segment with its elements (each occurrence) and their components, as the jinguan
/// side does: the components counted.
fn visit(input: &[u8]) -> Result<(usize, usize), edifact_rs::EdifactError> {
    let (mut segments, mut components) = (0usize, 0usize);
    for segment in edifact_rs::from_bytes(input) {
        let segment = segment?;
        segments += 1;
        for element in &segment.elements {
            for occurrence in std::iter::once(&element.components).chain(&element.repeats) {
                for (value, _) in occurrence {
                    std::hint::black_box(value);
                    components += 1;
                }
            }
        }
    }
    Ok((segments, components))
}
