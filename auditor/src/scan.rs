//! The read pipeline shared by every command: fetch reports in batches, hash and judge each batch
//! on all cores, and hand the results to a sequential consumer in key order. Only one batch of
//! report bytes is held at a time, so memory does not grow with the length of the trail.

use indicatif::ProgressBar;
use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::error::ReportProblem;
use crate::key::{ReportKey, parse_key};
use crate::report::{ReportDigest, judge};
use crate::source::{ReportSource, StoredObject};

/// Reports fetched and judged together. Large enough to keep both cores and several S3 requests
/// busy, small enough that a batch of ~400 kB reports stays near 25 MB.
pub const BATCH: usize = 64;

/// One stored object after judging.
#[derive(Debug, Clone)]
pub struct Scanned {
    /// The key as listed by the source.
    pub key: String,
    pub size: u64,
    /// Lower-case hex SHA-256 of the exact bytes read.
    pub sha256: String,
    /// The parts of the key, when it follows the naming rule.
    pub name: Option<ReportKey>,
    pub outcome: Result<ReportDigest, ReportProblem>,
}

/// Hashes and judges one object's bytes.
pub fn judge_object(object: &StoredObject, bytes: Result<Vec<u8>, String>) -> Scanned {
    let name = parse_key(&object.key);
    match bytes {
        Ok(bytes) => Scanned {
            key: object.key.clone(),
            size: bytes.len() as u64,
            sha256: hex::encode(Sha256::digest(&bytes)),
            name,
            outcome: judge(&bytes),
        },
        Err(reason) => Scanned {
            key: object.key.clone(),
            size: object.size,
            sha256: String::new(),
            name,
            outcome: Err(ReportProblem::Unreadable(reason)),
        },
    }
}

/// Reads, hashes and judges `objects` in order, calling `consume` once per object in that order.
///
/// Batches are read and judged on a worker thread (with all cores) while the caller consumes the
/// previous batch, so the sequential part overlaps the parallel part; at most two batches are in
/// memory at once.
pub fn scan(
    source: &dyn ReportSource,
    objects: &[StoredObject],
    progress: &ProgressBar,
    mut consume: impl FnMut(Scanned),
) {
    let (tx, rx) = std::sync::mpsc::sync_channel::<Vec<Scanned>>(1);
    std::thread::scope(|scope| {
        scope.spawn(move || {
            for chunk in objects.chunks(BATCH) {
                let fetched = source.fetch_batch(chunk);
                let judged: Vec<Scanned> = chunk
                    .par_iter()
                    .zip(fetched.into_par_iter())
                    .map(|(object, bytes)| judge_object(object, bytes))
                    .collect();
                if tx.send(judged).is_err() {
                    return;
                }
            }
        });
        for batch in rx {
            for scanned in batch {
                progress.inc(scanned.size);
                consume(scanned);
            }
        }
    });
}
