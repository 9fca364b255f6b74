//! `jinguan bench pipeline`: declarations through the in-process clearance pipeline — parse the
//! DecMessage XML, validate, value, assess, select a channel, append the outcome durably to the
//! ledger, get the receipt — on generated declarations.

use std::collections::VecDeque;
use std::path::PathBuf;
use std::time::Instant;

use jinguan_chinaport::decmessage::{self, WriteOptions};
use jinguan_clearance::pipeline::{self, Context};
use jinguan_clearance::risk::{ReferencePrices, RuleSet};
use jinguan_crypto::{Algorithm, SigningKey, DEFAULT_DISTID};
use jinguan_ledger::Submission;
use jinguan_refdata::RefData;
use jinguan_store::sqlite::SqliteStore;
use jinguan_store::Options;
use jinguan_testkit::{GenOptions, Generator};

use crate::{say, Failure};

/// What `jinguan bench pipeline` measures.
#[derive(clap::Args)]
pub(crate) struct Params {
    /// Declarations to put through.
    #[arg(long, default_value_t = 20_000)]
    count: u64,
    /// Worker threads parsing and assessing (0 = one per core).
    #[arg(long, default_value_t = 0)]
    threads: usize,
    /// Directory for the ledger (a temporary one by default, removed after).
    #[arg(long)]
    dir: Option<PathBuf>,
}

/// What the ledger keeps of each declaration: as received (codes normalised) and its outcome.
#[derive(serde::Serialize)]
struct Record<'a> {
    declaration: &'a jinguan_types::declaration::Declaration,
    outcome: &'a pipeline::Outcome,
}

fn failure(e: impl std::fmt::Display) -> Failure {
    Failure::new("E0302", e.to_string())
}

pub(crate) fn run(params: &Params, refdata: &RefData) -> Result<(), Failure> {
    let generator = Generator::new(
        refdata,
        GenOptions {
            count: params.count as usize,
            seed: 7,
            enterprises: 2000,
        },
    )
    .map_err(|e| failure(format!("{e:?}")))?;
    // The input, as a server receives it: DecMessage XML. Made before the clock starts.
    let mut items = 0;
    let messages: Vec<String> = (0..params.count)
        .map(|i| {
            let declaration = generator.declaration(i);
            items += declaration.items.len();
            decmessage::write(&declaration, WriteOptions::default())
        })
        .collect();
    let dir = params.dir.clone().unwrap_or_else(|| {
        std::env::temp_dir().join(format!("jinguan-pipeline-{}", std::process::id()))
    });
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).map_err(failure)?;
    let key = SigningKey::generate(Algorithm::Sm2Sm3, DEFAULT_DISTID).map_err(failure)?;
    let store = SqliteStore::open(&dir.join("ledger.db"), Options::new(key)).map_err(failure)?;
    let rules = RuleSet::from_json(jinguan_clearance::risk::DEMO_RULES).map_err(failure)?;
    let references = ReferencePrices::default();
    let context = Context {
        refdata,
        rules: &rules,
        references: &references,
        general_rate_origins: &[],
    };
    let threads = if params.threads == 0 {
        std::thread::available_parallelism().map_or(2, |n| n.get())
    } else {
        params.threads
    };
    say!(
        "clearance pipeline: {} generated declarations (mean {:.1} items) as DecMessage XML; parse, validate, value, assess, select, durable ledger append; {threads} workers",
        params.count,
        items as f64 / params.count as f64
    );
    let start = Instant::now();
    let accepted = std::thread::scope(|scope| -> Result<u64, Failure> {
        let handles: Vec<_> = (0..threads)
            .map(|worker| {
                let (messages, store, context) = (&messages, &store, &context);
                scope.spawn(move || -> Result<u64, Failure> {
                    let mut accepted = 0;
                    let mut pending = VecDeque::new();
                    for i in (worker..messages.len()).step_by(threads) {
                        let parsed = decmessage::parse(messages[i].as_bytes()).map_err(failure)?;
                        let mut declaration = parsed.declaration;
                        let entry_id = format!("53002026{i:010}");
                        let outcome =
                            pipeline::run(&mut declaration, context, &entry_id, "general");
                        accepted += u64::from(outcome.accepted);
                        // The ledger records the declaration as received and what became of it.
                        let payload = serde_json::to_vec(&Record {
                            declaration: &declaration,
                            outcome: &outcome,
                        })
                        .map_err(failure)?;
                        let submission = Submission {
                            kind: "declaration.processed".into(),
                            schema_version: 1,
                            submitter: declaration
                                .head
                                .agent
                                .customs_code
                                .clone()
                                .unwrap_or_else(|| "unknown".into()),
                            submission_id: entry_id,
                            payload,
                            submitter_signature: None,
                        };
                        pending
                            .push_back(store.submit("customs-5300", submission).map_err(failure)?);
                        if pending.len() >= 256 {
                            pending
                                .pop_front()
                                .map(|p| p.wait())
                                .transpose()
                                .map_err(failure)?;
                        }
                    }
                    for ticket in pending {
                        ticket.wait().map_err(failure)?;
                    }
                    Ok(accepted)
                })
            })
            .collect();
        let mut accepted = 0;
        for handle in handles {
            accepted += handle.join().map_err(|_| failure("a worker panicked"))??;
        }
        Ok(accepted)
    })?;
    let seconds = start.elapsed().as_secs_f64();
    let rate = params.count as f64 / seconds;
    say!(
        "  {} declarations in {seconds:.2} s = {rate:.0}/s ({accepted} accepted, the rest rejected with coded findings), every one durably in the ledger; target >= 5,000/s",
        params.count
    );
    drop(store);
    if params.dir.is_none() {
        let _ = std::fs::remove_dir_all(&dir);
    }
    Ok(())
}
