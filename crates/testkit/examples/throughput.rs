//! Measures generation throughput: `cargo run --release -p jinguan-testkit --example
//! throughput -- [count] [threads] [seed]`.
//!
//! Writes JSON lines to a counting sink (no disk in the measurement) sequentially and with
//! `threads` threads, and prints declarations per second and megabytes per second for each.

use std::io::{self, Write};
use std::time::Instant;

use jinguan_testkit::{GenOptions, Generator};

/// A sink that counts the bytes it is given.
struct Counter(u64);

impl Write for Counter {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let count: u64 = args
        .next()
        .map(|a| a.parse())
        .transpose()?
        .unwrap_or(200_000);
    let threads: usize = match args.next() {
        Some(a) => a.parse()?,
        None => std::thread::available_parallelism().map_or(2, |n| n.get()),
    };
    let seed: u64 = args.next().map(|a| a.parse()).transpose()?.unwrap_or(2026);

    let started = Instant::now();
    let refdata = jinguan_refdata::RefData::load()?;
    let loaded = started.elapsed();
    let options = GenOptions {
        count: count as usize,
        seed,
        ..GenOptions::default()
    };
    let generator = Generator::new(&refdata, options)?;
    let built = started.elapsed() - loaded;
    println!("refdata loaded in {loaded:.2?}, generator built in {built:.2?}");

    let report = |label: &str, seconds: f64, bytes: u64| {
        println!(
            "{label:>12}: {count} declarations in {seconds:.2}s = {:.0}/s, {:.1} MB/s, {:.0} bytes each",
            count as f64 / seconds,
            bytes as f64 / seconds / 1e6,
            bytes as f64 / count as f64
        );
    };
    let mut sink = Counter(0);
    let started = Instant::now();
    generator.write_json_lines(0..count, &mut sink)?;
    report("sequential", started.elapsed().as_secs_f64(), sink.0);

    let mut sink = Counter(0);
    let started = Instant::now();
    generator.write_json_lines_parallel(count as usize, threads, &mut sink)?;
    report(
        &format!("{threads} threads"),
        started.elapsed().as_secs_f64(),
        sink.0,
    );
    Ok(())
}
