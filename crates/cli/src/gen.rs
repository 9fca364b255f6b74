//! `jinguan gen declarations` and its benchmark.

use std::path::Path;

use jinguan_refdata::{RefData, Source};

use crate::{Failure, GenFormat};

pub(crate) fn declarations(
    _data: &RefData,
    _count: usize,
    _seed: u64,
    _format: GenFormat,
    _out: Option<&Path>,
    _enterprises: usize,
) -> Result<(), Failure> {
    Err(Failure::new("E0900", "generator not wired yet"))
}

pub(crate) fn bench(
    _source: &Source,
    _count: usize,
    _seed: u64,
    _threads: usize,
) -> Result<(), Failure> {
    Err(Failure::new("E0900", "generator not wired yet"))
}
