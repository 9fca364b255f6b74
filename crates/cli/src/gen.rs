//! `jinguan gen declarations` and `jinguan bench gen`.

use std::io::{BufWriter, Write};
use std::path::Path;
use std::time::Instant;

use jinguan_chinaport::decmessage::{self, WriteOptions};
use jinguan_refdata::{RefData, Source};
use jinguan_testkit::{GenOptions, Generator};

use crate::bench::summarise;
use crate::{Failure, GenFormat};

fn generator(
    data: &RefData,
    count: usize,
    seed: u64,
    enterprises: usize,
) -> Result<Generator, Failure> {
    Generator::new(
        data,
        GenOptions {
            count,
            seed,
            enterprises,
        },
    )
    .map_err(|e| Failure::new("E0201", format!("cannot build the generator: {e}")))
}

fn threads() -> usize {
    std::thread::available_parallelism().map_or(1, usize::from)
}

fn io_failure(what: &Path) -> impl Fn(std::io::Error) -> Failure + '_ {
    move |e| Failure::new("E0004", format!("cannot write {}: {e}", what.display()))
}

pub(crate) fn declarations(
    data: &RefData,
    count: usize,
    seed: u64,
    format: GenFormat,
    out: Option<&Path>,
    enterprises: usize,
) -> Result<(), Failure> {
    let generator = generator(data, count, seed, enterprises)?;
    if let Some(dir) = out {
        std::fs::create_dir_all(dir).map_err(io_failure(dir))?;
    }
    match (format, out) {
        (GenFormat::Json, None) => {
            let stdout = std::io::stdout().lock();
            let mut writer = BufWriter::with_capacity(1 << 20, stdout);
            let result = generator
                .write_json_lines_parallel(count, threads(), &mut writer)
                .and_then(|()| writer.flush());
            match result {
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                other => other.map_err(io_failure(Path::new("standard output"))),
            }
        }
        (GenFormat::Json, Some(dir)) => {
            let path = dir.join("declarations.jsonl");
            let file = std::fs::File::create(&path).map_err(io_failure(&path))?;
            let mut writer = BufWriter::with_capacity(1 << 20, file);
            generator
                .write_json_lines_parallel(count, threads(), &mut writer)
                .and_then(|()| writer.flush())
                .map_err(io_failure(&path))
        }
        (GenFormat::Decmessage, None) => {
            // A stream of documents, one after another; `--out` gives one file each.
            for declaration in generator.declarations(0..count as u64) {
                crate::emit(&decmessage::write(&declaration, WriteOptions::default()))?;
            }
            Ok(())
        }
        (GenFormat::Decmessage, Some(dir)) => {
            for (i, declaration) in generator.declarations(0..count as u64).enumerate() {
                let path = dir.join(format!("dec-{:07}.xml", i + 1));
                std::fs::write(
                    &path,
                    decmessage::write(&declaration, WriteOptions::default()),
                )
                .map_err(io_failure(&path))?;
            }
            Ok(())
        }
    }
}

pub(crate) fn bench(
    source: &Source,
    count: usize,
    seed: u64,
    threads_wanted: usize,
) -> Result<(), Failure> {
    let data = RefData::load_from(source).map_err(|e| Failure::new("E0002", e.to_string()))?;
    let generator = generator(&data, count, seed, 2000)?;
    let threads = if threads_wanted == 0 {
        threads()
    } else {
        threads_wanted
    };
    crate::say!("synthetic declarations, JSON lines into memory, {count} per run, seed {seed}");
    let mut reference: Option<Vec<u8>> = None;
    for (label, workers) in [("1 thread", 1), ("all threads", threads)] {
        let mut times = Vec::new();
        let mut bytes = 0;
        for _ in 0..3 {
            let mut buffer = Vec::with_capacity(count * 3000);
            let start = Instant::now();
            generator
                .write_json_lines_parallel(count, workers, &mut buffer)
                .map_err(|e| Failure::new("E0004", e.to_string()))?;
            times.push(start.elapsed());
            bytes = buffer.len();
            match &reference {
                None => reference = Some(buffer),
                Some(first) if *first != buffer => {
                    return Err(Failure::new(
                        "E0202",
                        "output differs between runs: not deterministic",
                    ))
                }
                Some(_) => {}
            }
        }
        let summary = summarise(times);
        let rate = count as f64 / summary.best.as_secs_f64();
        crate::say!(
            "  {label:<12} ({workers}) best {:8.1} ms  median {:8.1} ms  {:>9.0} declarations/s  {:6.1} MB/s  (target >= 50,000/s)",
            summary.best.as_secs_f64() * 1e3,
            summary.median.as_secs_f64() * 1e3,
            rate,
            bytes as f64 / summary.best.as_secs_f64() / 1e6
        );
    }
    crate::say!("  output identical across all runs and thread counts: yes");
    Ok(())
}
