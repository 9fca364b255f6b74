//! What the backends share: the request queue and group-commit loop, the checks made on
//! open, and the full-ledger audit behind `verify`.

use std::sync::mpsc::{Receiver, SyncSender, TryRecvError};
use std::sync::Mutex;

use jinguan_crypto::{HashAlgorithm, Signer};
use jinguan_ledger::merkle;
use jinguan_ledger::{ChainChecker, Entry, Hash, Prepared, Submission, TreeHead};

use crate::frontier::{Frontier, NodeAuditor};
use crate::{Options, Receipt, Status, StoreError, VerifyReport};

/// One queued append.
pub(crate) struct Request {
    pub(crate) ledger: String,
    /// Checked, encoded and mostly hashed by the submitting thread; the writer takes it.
    pub(crate) prepared: Option<Prepared>,
    /// Content digest, computed by the submitting thread so the writer does less.
    pub(crate) digest: [u8; 32],
    /// The encoding's head compressed, when the store keeps entries packed
    /// ([`crate::packed`]) and it shrinks: done here, off the writer's thread.
    pub(crate) packed: Option<Vec<u8>>,
    pub(crate) reply: SyncSender<Result<Receipt, StoreError>>,
    /// What the writer made of it, kept only to be freed off the writer's thread.
    pub(crate) spent: Option<Appended>,
}

impl Request {
    /// A request for the writer, prepared on the calling thread: a submission out of bounds
    /// is refused here and never queued, and the writer is left with a few dozen bytes to
    /// hash per entry instead of the whole of it.
    pub(crate) fn new(
        ledger: &str,
        submission: Submission,
        algorithm: HashAlgorithm,
        pack: bool,
        reply: SyncSender<Result<Receipt, StoreError>>,
    ) -> Result<Self, StoreError> {
        let prepared =
            jinguan_ledger::prepare(ledger, submission, algorithm).map_err(StoreError::Rejected)?;
        let digest = prepared.content_digest();
        let packed = if pack {
            crate::packed::pack_head(prepared.encoded_head())
        } else {
            None
        };
        Ok(Self {
            ledger: ledger.to_owned(),
            prepared: Some(prepared),
            digest,
            packed,
            reply,
            spent: None,
        })
    }

    /// The submission id, while the request still holds its submission.
    pub(crate) fn submission_id(&self) -> &str {
        self.prepared.as_ref().map_or("", Prepared::submission_id)
    }
}

/// The writer loop: take everything queued (up to `max_batch`), write it as one group commit,
/// answer. After a failed write, record why in `stopped` and answer every later request
/// with `S0002` (fail-stop).
///
/// Answers are sent, and the batch freed, by a second thread: the writer's own is the
/// bottleneck of the whole store and goes straight on to the next batch.
pub(crate) fn serve(
    receiver: Receiver<Request>,
    max_batch: usize,
    stopped: &Mutex<Option<String>>,
    mut write: impl FnMut(&mut [Request]) -> Result<Vec<Result<Receipt, StoreError>>, StoreError>,
) {
    type Answered = (
        Vec<Request>,
        Result<Vec<Result<Receipt, StoreError>>, String>,
    );
    let (answers, answering) = std::sync::mpsc::sync_channel::<Answered>(2);
    std::thread::scope(|scope| {
        scope.spawn(move || {
            for (batch, outcome) in answering {
                match outcome {
                    Ok(results) => {
                        for (request, result) in batch.into_iter().zip(results) {
                            let _ = request.reply.send(result);
                        }
                    }
                    Err(reason) => {
                        for request in batch {
                            let _ = request.reply.send(Err(StoreError::Stopped(reason.clone())));
                        }
                    }
                }
            }
        });
        while let Ok(first) = receiver.recv() {
            let mut batch = vec![first];
            while batch.len() < max_batch {
                match receiver.try_recv() {
                    Ok(request) => batch.push(request),
                    Err(TryRecvError::Empty | TryRecvError::Disconnected) => break,
                }
            }
            let reason = stopped.lock().expect("stopped flag lock").clone();
            let outcome = match reason {
                Some(reason) => Err(reason),
                None => write(&mut batch).map_err(|error| {
                    // The database may hold a half-done transaction and the writer's memory
                    // may be ahead of it: acknowledge nothing from now on.
                    let reason = error.to_string();
                    *stopped.lock().expect("stopped flag lock") = Some(reason.clone());
                    reason
                }),
            };
            if answers.send((batch, outcome)).is_err() {
                return;
            }
        }
        drop(answers);
    });
}

pub(crate) fn corrupt(ledger: &str, seq: u64, reason: impl Into<String>) -> StoreError {
    StoreError::Corrupt(jinguan_ledger::ChainError {
        ledger: ledger.to_owned(),
        seq,
        reason: reason.into(),
    })
}

/// The checks made when a store opens read-write, given what the backend read: the last
/// entry's bytes and stored leaf, and the latest signed head.
pub(crate) fn check_tip(
    options: &Options,
    ledger: &str,
    frontier: &Frontier,
    last_entry: Option<(Vec<u8>, Hash)>,
    head: &TreeHead,
) -> Result<(), StoreError> {
    let size = frontier.tip.size;
    let last = size - 1;
    let (body, leaf) = last_entry.ok_or_else(|| corrupt(ledger, last, "last entry missing"))?;
    if jinguan_ledger::leaf_hash(options.hash_algorithm, &body) != leaf
        || leaf != frontier.tip.last_leaf
    {
        return Err(corrupt(
            ledger,
            last,
            "last entry does not match its leaf hash",
        ));
    }
    head.verify(&options.verifying_key)
        .map_err(|e| corrupt(ledger, last, e.to_string()))?;
    let root = frontier.root(options.hash_algorithm).map_err(|e| {
        corrupt(
            ledger,
            last,
            format!("tree node ({}, {}) missing", e.level, e.index),
        )
    })?;
    if head.tree_size != size || head.root_hash != root {
        return Err(corrupt(
            ledger,
            head.tree_size.min(size).saturating_sub(1),
            "root does not match the last signed head",
        ));
    }
    Ok(())
}

/// A whole-ledger audit, fed entry by entry in sequence order by a backend.
pub(crate) struct Audit<'a> {
    options: &'a Options,
    ledger: &'a str,
    checker: ChainChecker,
    nodes: NodeAuditor,
    /// Signed heads as (size, JSON), largest first, so the next due is at the end.
    heads: Vec<(u64, String)>,
    heads_checked: u64,
    last_root: Hash,
}

impl<'a> Audit<'a> {
    /// Starts an audit; `heads` in any order. With `leaves_in_tree` the backend stores leaf
    /// hashes among the tree nodes too, and those copies are checked like the rest.
    pub(crate) fn new(
        options: &'a Options,
        ledger: &'a str,
        mut heads: Vec<(u64, String)>,
        leaves_in_tree: bool,
    ) -> Self {
        heads.sort_by_key(|(size, _)| std::cmp::Reverse(*size));
        Self {
            options,
            ledger,
            checker: ChainChecker::new(ledger, options.hash_algorithm),
            nodes: NodeAuditor::new(leaves_in_tree),
            heads,
            heads_checked: 0,
            last_root: Hash(options.hash_algorithm.digest(&[])),
        }
    }

    /// Checks the next entry, the interior nodes it completes, and any head signed at the
    /// size it brings the ledger to.
    pub(crate) fn entry(
        &mut self,
        seq: u64,
        body: &[u8],
        leaf: Hash,
        stored_node: impl FnMut(u8, u64) -> Result<Option<Hash>, StoreError>,
    ) -> Result<(), StoreError> {
        let (ledger, algorithm) = (self.ledger, self.options.hash_algorithm);
        self.checker.push(seq, body, &leaf)?;
        self.nodes.push(ledger, algorithm, seq, leaf, stored_node)?;
        while self
            .heads
            .last()
            .is_some_and(|(size, _)| *size == self.checker.tip().size)
        {
            let (size, json) = self.heads.pop().expect("checked above");
            let head: TreeHead = serde_json::from_str(&json)
                .map_err(|e| corrupt(ledger, size - 1, format!("head JSON: {e}")))?;
            head.verify(&self.options.verifying_key)
                .map_err(|e| corrupt(ledger, size - 1, e.to_string()))?;
            self.checker.check_head(&head)?;
            self.last_root = head.root_hash;
            self.heads_checked += 1;
        }
        Ok(())
    }

    /// Ends the audit against the tip row's size.
    pub(crate) fn finish(self, tip_size: u64) -> Result<VerifyReport, StoreError> {
        let entries = self.checker.tip().size;
        if let Some((size, _)) = self.heads.last() {
            return Err(corrupt(
                self.ledger,
                entries,
                format!("a signed head covers {size} entries; only {entries} stored"),
            ));
        }
        if tip_size != entries {
            return Err(corrupt(
                self.ledger,
                entries.min(tip_size),
                format!("tip says {tip_size} entries, {entries} stored"),
            ));
        }
        Ok(VerifyReport {
            ledger: self.ledger.to_owned(),
            entries,
            heads: self.heads_checked,
            root_hash: self.last_root,
        })
    }
}

/// The answer to a submission id seen before: its original receipt when the content is the
/// same, a conflict otherwise. `tree_size` is filled in after the commit.
pub(crate) fn repeat(
    ledger: &str,
    submission_id: String,
    (seq, leaf): (u64, Hash),
    stored_digest: &[u8],
    digest: &[u8; 32],
) -> Result<Receipt, StoreError> {
    if stored_digest == digest {
        Ok(Receipt {
            ledger: ledger.to_owned(),
            seq,
            leaf_hash: leaf,
            tree_size: 0,
            status: Status::Exists,
        })
    } else {
        Err(StoreError::Conflict {
            ledger: ledger.to_owned(),
            submission_id,
            seq,
        })
    }
}

/// A new entry on a frontier: the entry, the bytes its leaf hash covers, the leaf, and the
/// tree nodes it completes.
pub(crate) struct Appended {
    pub(crate) entry: Entry,
    pub(crate) encoded: Vec<u8>,
    pub(crate) leaf: Hash,
    pub(crate) nodes: Vec<(u8, u64, Hash)>,
}

impl Appended {
    /// Builds the next entry on `frontier`; [`Appended::record_on`] moves the frontier past
    /// it once the entry is known to be new.
    pub(crate) fn on(
        frontier: &Frontier,
        prepared: Prepared,
        now: i64,
        algorithm: HashAlgorithm,
    ) -> Result<Self, StoreError> {
        let (entry, encoded, leaf) = prepared.place(&frontier.tip, now);
        let nodes = merkle::nodes_completed_by(frontier, algorithm, entry.seq, leaf)
            .map_err(edge_missing)?;
        Ok(Self {
            entry,
            encoded,
            leaf,
            nodes,
        })
    }

    /// Moves `frontier` past this entry.
    pub(crate) fn record_on(&self, frontier: &mut Frontier) {
        frontier.record(&self.nodes, self.leaf);
    }

    /// Its receipt; `tree_size` is filled in after the commit.
    pub(crate) fn receipt(&self) -> Receipt {
        Receipt {
            ledger: self.entry.ledger.clone(),
            seq: self.entry.seq,
            leaf_hash: self.leaf,
            tree_size: 0,
            status: Status::Created,
        }
    }

    /// The interior nodes to store; level 0 is the leaf hash, stored with the entry.
    pub(crate) fn interior_nodes(&self) -> impl Iterator<Item = &(u8, u64, Hash)> {
        self.nodes.iter().filter(|(level, _, _)| *level > 0)
    }
}

fn edge_missing(e: crate::frontier::NotOnEdge) -> StoreError {
    StoreError::Database(format!("edge node ({}, {}) missing", e.level, e.index))
}

/// Signs the head for a frontier's current size, as JSON for the `heads` table.
pub(crate) fn signed_head_json(
    key: &dyn Signer,
    ledger: &str,
    frontier: &Frontier,
    now: i64,
    algorithm: HashAlgorithm,
) -> Result<String, StoreError> {
    let root = frontier.root(algorithm).map_err(edge_missing)?;
    let head = TreeHead::sign(key, ledger, frontier.tip.size, root, now, algorithm)
        .map_err(|e| StoreError::Database(format!("signing the head of {ledger}: {e}")))?;
    serde_json::to_string(&head).map_err(|e| StoreError::Database(e.to_string()))
}

/// Signs the heads of every ledger a commit touched, as JSON, in the order given. A batch
/// spread over many ledgers (one per customs district) signs as many heads, and an SM2
/// signature costs far more than the rest of an entry's work; the writer is the one thread
/// every append waits for, so the signatures are shared among the machine's cores.
pub(crate) fn signed_heads_json(
    key: &dyn Signer,
    touched: &[(&str, &Frontier)],
    now: i64,
    algorithm: HashAlgorithm,
) -> Result<Vec<String>, StoreError> {
    // Below a few heads a thread costs more than it saves. (The core count is asked only
    // then: the standard library reads cgroup files for it, each time.)
    let cores = || std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get);
    if touched.len() < 4 || cores() == 1 {
        return touched
            .iter()
            .map(|(ledger, frontier)| signed_head_json(key, ledger, frontier, now, algorithm))
            .collect();
    }
    let chunk = touched.len().div_ceil(cores());
    std::thread::scope(|scope| {
        let workers: Vec<_> = touched
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|(ledger, frontier)| {
                            signed_head_json(key, ledger, frontier, now, algorithm)
                        })
                        .collect::<Result<Vec<String>, StoreError>>()
                })
            })
            .collect();
        let mut heads = Vec::with_capacity(touched.len());
        for worker in workers {
            let part = worker
                .join()
                .map_err(|_| StoreError::Database("a head-signing thread panicked".into()))??;
            heads.extend(part);
        }
        Ok(heads)
    })
}

/// Refuses an inclusion proof outside the ledger.
pub(crate) fn inclusion_bounds(seq: u64, tree_size: u64, size: u64) -> Result<(), StoreError> {
    if seq >= tree_size || tree_size > size {
        return Err(StoreError::NotFound(format!(
            "entry {seq} in a tree of {tree_size} (ledger has {size})"
        )));
    }
    Ok(())
}

/// Refuses a consistency proof outside the ledger.
pub(crate) fn consistency_bounds(first: u64, second: u64, size: u64) -> Result<(), StoreError> {
    if first == 0 || first > second || second > size {
        return Err(StoreError::NotFound(format!(
            "sizes {first}..{second} (ledger has {size})"
        )));
    }
    Ok(())
}
