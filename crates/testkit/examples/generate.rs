//! Writes synthetic declarations as JSON lines to standard output:
//! `cargo run --release -p jinguan-testkit --example generate -- [count] [seed] [threads]`.

use std::io::{BufWriter, Write};

use jinguan_testkit::{GenOptions, Generator};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let count: u64 = args.next().map(|a| a.parse()).transpose()?.unwrap_or(10);
    let seed: u64 = args.next().map(|a| a.parse()).transpose()?.unwrap_or(2026);
    let threads: usize = args.next().map(|a| a.parse()).transpose()?.unwrap_or(1);
    let refdata = jinguan_refdata::RefData::load()?;
    let options = GenOptions {
        count: count as usize,
        seed,
        ..GenOptions::default()
    };
    let generator = Generator::new(&refdata, options)?;
    let mut out = BufWriter::new(std::io::stdout().lock());
    generator.write_json_lines_parallel(count as usize, threads, &mut out)?;
    out.flush()?;
    Ok(())
}
