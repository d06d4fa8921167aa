//! The read pipeline shared by every command: fetch reports in batches, hash and judge each batch
//! on all cores, and hand the results to a sequential consumer in key order. At most two batches
//! of report bytes are held at a time, and a batch is bounded in bytes as well as in reports (an
//! object larger than the schema allows is refused from its listed size, without being read), so
//! memory does not grow with the length of the trail or the size of one hostile object.

use indicatif::ProgressBar;
use rayon::prelude::*;
use sha2::{Digest, Sha256};

use crate::error::{ReportProblem, SourceError};
use crate::key::{ReportKey, parse_key};
use crate::report::{MAX_REPORT_BYTES, ReportDigest, judge};
use crate::source::{FetchError, ReportSource, StoredObject};

/// Where a trail's reports are read and judged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Fanout {
    /// On every core, one batch read while the caller consumes the one before: one trail is read
    /// at a time, and it has the machine to itself.
    #[default]
    Cores,
    /// On the calling thread: an organization's workers each read a trail, so the cores are busy
    /// with other trails already, and handing each report to another core costs more than it
    /// gains (`make bench-org`: 2.7 s against 3.4 s for the organization's timeline). A source
    /// whose reads wait on a network keeps its requests in flight either way.
    ThisThread,
}

/// Reports fetched and judged together. Large enough to keep both cores and several S3 requests
/// busy, small enough that a batch of ~400 kB reports stays near 25 MB.
pub const BATCH: usize = 64;

/// Listed bytes fetched together (a batch holds at least one report, whatever its size).
pub const BATCH_BYTES: u64 = 64 << 20;

/// Splits `objects` into batches of at most [`BATCH`] objects and, unless one object alone is
/// larger, at most [`BATCH_BYTES`] listed bytes. Objects too large to be read count nothing.
pub fn batches(objects: &[StoredObject]) -> Vec<&[StoredObject]> {
    let mut out = Vec::new();
    let (mut start, mut bytes) = (0, 0u64);
    for (i, o) in objects.iter().enumerate() {
        let size = if o.size > MAX_REPORT_BYTES { 0 } else { o.size };
        if i > start && (i - start == BATCH || bytes.saturating_add(size) > BATCH_BYTES) {
            out.push(&objects[start..i]);
            (start, bytes) = (i, 0);
        }
        bytes = bytes.saturating_add(size);
    }
    if start < objects.len() {
        out.push(&objects[start..]);
    }
    out
}

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

/// The finding for an object whose listed size is over the schema's limit: it is not read.
fn too_large(object: &StoredObject) -> Scanned {
    Scanned {
        key: object.key.clone(),
        size: object.size,
        sha256: String::new(),
        name: parse_key(&object.key),
        outcome: Err(ReportProblem::TooLarge(object.size)),
    }
}

/// Reads and judges one batch; `Err` when the source stopped answering.
fn read_batch(
    source: &dyn ReportSource,
    batch: &[StoredObject],
    fanout: Fanout,
) -> Result<Vec<Scanned>, SourceError> {
    let readable: Vec<StoredObject> = batch
        .iter()
        .filter(|o| o.size <= MAX_REPORT_BYTES)
        .cloned()
        .collect();
    let mut fetched = Vec::with_capacity(readable.len());
    for result in source.fetch_batch(&readable, fanout) {
        fetched.push(match result {
            Ok(bytes) => Ok(bytes),
            Err(FetchError::Object(reason)) => Err(reason),
            Err(FetchError::Source(e)) => return Err(e),
        });
    }
    let mut judged: Vec<Scanned> = match fanout {
        Fanout::Cores => readable
            .par_iter()
            .zip(fetched.into_par_iter())
            .map(|(object, bytes)| judge_object(object, bytes))
            .collect(),
        Fanout::ThisThread => readable
            .iter()
            .zip(fetched)
            .map(|(object, bytes)| judge_object(object, bytes))
            .collect(),
    };
    // Put the refused objects back in their listed places.
    let mut out = Vec::with_capacity(batch.len());
    let mut read = judged.drain(..);
    for o in batch {
        if o.size > MAX_REPORT_BYTES {
            out.push(too_large(o));
        } else if let Some(s) = read.next() {
            out.push(s);
        }
    }
    Ok(out)
}

/// Reads, hashes and judges `objects` in order, calling `consume` once per object in that order.
/// `Err` when the source stopped answering (a timeout): the run cannot go on. An object that
/// cannot be read is not an error here: it is consumed as an `unreadable` report.
///
/// With [`Fanout::Cores`], batches are read and judged on a worker thread (with all cores) while
/// the caller consumes the previous batch, so the sequential part overlaps the parallel part; at
/// most two batches are in memory at once. With [`Fanout::ThisThread`], or when there is only one
/// batch (nothing to overlap), each batch is read on the caller's thread before it is consumed.
pub fn scan(
    source: &dyn ReportSource,
    objects: &[StoredObject],
    fanout: Fanout,
    progress: &ProgressBar,
    mut consume: impl FnMut(Scanned),
) -> Result<(), SourceError> {
    let batches = batches(objects);
    if fanout == Fanout::ThisThread || batches.len() == 1 {
        for batch in batches {
            for scanned in read_batch(source, batch, fanout)? {
                progress.inc(scanned.size);
                consume(scanned);
            }
        }
        return Ok(());
    }
    let (tx, rx) = std::sync::mpsc::sync_channel::<Result<Vec<Scanned>, SourceError>>(1);
    std::thread::scope(|scope| {
        scope.spawn(move || {
            for batch in batches {
                let judged = read_batch(source, batch, fanout);
                let stop = judged.is_err();
                if tx.send(judged).is_err() || stop {
                    return;
                }
            }
        });
        for batch in rx {
            for scanned in batch? {
                progress.inc(scanned.size);
                consume(scanned);
            }
        }
        Ok(())
    })
}
