//! Where reports come from. A source lists the stored report objects (with any evidence of
//! overwrites or deletions it can see) and fetches their exact bytes; everything else works on
//! that abstraction, so tests inject folders and the S3 source is just another implementation.

mod credentials;
pub mod layout;
mod local;
mod s3;

pub use layout::{Discovery, Layout};
pub use local::LocalSource;
pub use s3::{S3Options, S3Source, Timeouts};
pub(crate) use s3::{io_runtime, sdk_config, short as error_text};

use rayon::prelude::*;
use serde::Serialize;

use crate::error::SourceError;
use crate::key::TrailId;
pub use crate::scan::Fanout;

/// One stored report object, as listed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    /// Key relative to the source root, `/`-separated.
    pub key: String,
    pub size: u64,
    /// The object version to read (S3 only).
    pub version_id: Option<String>,
}

/// Evidence from object versioning that a report did not stay as first written.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionAnomaly {
    /// The key holds more than one object version: the report was overwritten.
    Overwritten { key: String, versions: usize },
    /// The key carries a delete marker: the report was deleted (and perhaps put back).
    Deleted { key: String, current: bool },
}

/// Something in the source that may hold a report but could not be listed or read: a dangling
/// symbolic link, a folder that cannot be opened, a file that is not a regular file. Each is a
/// finding named by its path; the rest of the source is still checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnreadableEntry {
    /// Path relative to the source root, `/`-separated, like a key.
    pub key: String,
    pub reason: String,
}

/// Whether the source can show that a report was overwritten or deleted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "state", rename_all = "camelCase")]
pub enum Versioning {
    /// A folder has no object versions: overwrites and deletions show only as chain breaks.
    LocalFolder,
    /// Bucket versioning is on: every version and delete marker was listed.
    Enabled,
    /// Bucket versioning was suspended: new writes replace objects without a trace.
    Suspended,
    /// Bucket versioning was never turned on.
    Disabled,
    /// `GetBucketVersioning` did not say (denied, or not answered by this endpoint).
    Unknown { reason: String },
}

impl Versioning {
    /// True only when overwrites and deletions would have left object versions behind.
    pub fn detects_changes(&self) -> bool {
        matches!(self, Versioning::Enabled)
    }

    /// One sentence for people.
    pub fn sentence(&self) -> String {
        const BLIND: &str = "overwrites and deletions cannot be detected in this bucket";
        match self {
            Versioning::LocalFolder => {
                "not applicable (local folder); overwrites and deletions show only as chain breaks"
                    .to_owned()
            }
            Versioning::Enabled => {
                "checked: bucket versioning is enabled, every object version and delete marker was listed"
                    .to_owned()
            }
            Versioning::Suspended => format!("NOT CHECKED: bucket versioning is suspended: {BLIND}"),
            Versioning::Disabled => format!("NOT CHECKED: bucket versioning is off: {BLIND}"),
            Versioning::Unknown { reason } => format!(
                "UNKNOWN: whether bucket versioning is on could not be determined ({reason}); if it is off, {BLIND}"
            ),
        }
    }
}

/// Everything a source lists, in key order (which the zero-padded naming makes sequence order).
#[derive(Debug, Clone)]
pub struct Listing {
    pub objects: Vec<StoredObject>,
    pub anomalies: Vec<VersionAnomaly>,
    /// Entries that could not be listed or are not regular files.
    pub unreadable: Vec<UnreadableEntry>,
    pub versioning: Versioning,
}

impl VersionAnomaly {
    /// The key the evidence is about.
    pub fn key(&self) -> &str {
        match self {
            VersionAnomaly::Overwritten { key, .. } | VersionAnomaly::Deleted { key, .. } => key,
        }
    }
}

impl Listing {
    /// Keeps only what the generator stores as reports. A source rooted at the bucket root also
    /// lists the generator's bookkeeping (`chain/head.json`, `chain/triggers/…`, see
    /// docs/report-format.md) and anything else kept in the bucket; once any key shows a `reports/`
    /// folder, keys outside one are not reports and are left out (and counted). A source rooted at
    /// or below `reports/` shows no such folder, and every `*.json` under it is a report.
    pub fn keep_reports(&mut self) -> usize {
        fn in_reports(key: &str) -> bool {
            key.split('/').any(|segment| segment == "reports")
        }
        let rooted_above = self.objects.iter().any(|o| in_reports(&o.key))
            || self.anomalies.iter().any(|a| in_reports(a.key()))
            || self.unreadable.iter().any(|u| in_reports(&u.key));
        if !rooted_above {
            return 0;
        }
        let before = self.objects.len() + self.anomalies.len() + self.unreadable.len();
        self.objects.retain(|o| in_reports(&o.key));
        self.anomalies.retain(|a| in_reports(a.key()));
        self.unreadable.retain(|u| in_reports(&u.key));
        before - self.objects.len() - self.anomalies.len() - self.unreadable.len()
    }
}

/// Why an object could not be read.
#[derive(Debug)]
pub enum FetchError {
    /// This object could not be read (denied, gone, refused): a finding named by its key; the
    /// run goes on with the other objects.
    Object(String),
    /// The source itself stopped answering (a timeout, a lost endpoint): the run cannot go on.
    Source(SourceError),
}

/// Largest `chain/head.json` read: the generator's head is a few hundred bytes.
pub const HEAD_MAX_BYTES: u64 = 1 << 20;

/// One stored version of the generator's `chain/head.json`.
#[derive(Debug)]
pub struct HeadCopy {
    /// `current` for a folder; the S3 version id otherwise.
    pub version: String,
    /// True for the current version.
    pub latest: bool,
    pub bytes: Result<Vec<u8>, String>,
}

/// What the source holds of the generator's head (docs/report-format.md, "Objects besides the
/// reports"): bookkeeping beside `reports/`, which the auditor compares with the trail.
#[derive(Debug)]
pub enum HeadLookup {
    /// The source is not rooted where a head can be found; the sentence says why.
    NotLookedFor(String),
    /// Looked for at `location`: every stored version (none when absent), and whether a delete
    /// marker is the current version.
    Looked {
        location: String,
        copies: Vec<HeadCopy>,
        deleted: bool,
    },
}

/// What the source holds of one exceptions register object (docs/report-format.md,
/// "Exceptions"): a key such as `exceptions/<sha256>.json` relative to the trail root, beside
/// `reports/` like the generator's `chain/`.
#[derive(Debug)]
pub enum RegisterLookup {
    /// The source is not rooted where registers are kept, or they could not be listed; the
    /// sentence says why.
    NotLookedFor(String),
    Looked {
        location: String,
        /// True when the source keeps object versions (S3), so a version id was honoured.
        versioned: bool,
        /// Stored versions of the key (a folder: 1 when the file exists, else 0).
        versions: usize,
        /// Delete markers on the key.
        delete_markers: usize,
        /// True when a delete marker is the current version.
        deleted: bool,
        /// The bytes of the version asked for (or of the current version when none is named),
        /// at most [`crate::register::MAX_REGISTER_BYTES`] + 1 of them; `None` when not stored.
        bytes: Option<Result<Vec<u8>, String>>,
    },
}

/// Whether `key` can name a register object: `exceptions/<file>.json`, nothing that climbs out.
pub fn register_key_is_safe(key: &str) -> bool {
    key.strip_prefix("exceptions/").is_some_and(|f| {
        !f.is_empty() && !f.contains(['/', '\\']) && f != ".." && f.ends_with(".json")
    })
}

/// A place holding reports.
pub trait ReportSource: Send + Sync {
    /// How the user named it, for messages.
    fn name(&self) -> &str;
    /// Lists every `*.json` object under the source, sorted by key.
    fn list(&self) -> Result<Listing, SourceError>;
    /// Reads the exact stored bytes of one object.
    fn fetch(&self, object: &StoredObject) -> Result<Vec<u8>, FetchError>;
    /// Reads several objects; results in the order asked: on every core, or on the calling
    /// thread (see [`Fanout`]). Sources with latency override this to keep several requests in
    /// flight, whatever the fan-out.
    fn fetch_batch(
        &self,
        objects: &[StoredObject],
        fanout: Fanout,
    ) -> Vec<Result<Vec<u8>, FetchError>> {
        match fanout {
            Fanout::Cores => objects.par_iter().map(|o| self.fetch(o)).collect(),
            Fanout::ThisThread => objects.iter().map(|o| self.fetch(o)).collect(),
        }
    }
    /// Every stored version of `chain/head.json` beside the reports.
    fn head(&self) -> Result<HeadLookup, SourceError> {
        Ok(HeadLookup::NotLookedFor(
            "this source does not keep the generator's bookkeeping".to_owned(),
        ))
    }
    /// One trail, or an organization's trails (see [`layout`]).
    fn layout(&self) -> Result<Layout, SourceError> {
        Ok(Layout::Single)
    }
    /// A source reading one trail of this organization's bucket, found by [`Self::layout`].
    fn trail(&self, id: &TrailId) -> Result<Box<dyn ReportSource>, SourceError> {
        Err(SourceError::BadLocation(format!(
            "{}: holds no trail {id}",
            self.name()
        )))
    }
    /// The exceptions register at `key` (relative to the trail root): every stored version, and
    /// the bytes of `version_id` (S3) or of the current version.
    fn register(
        &self,
        _key: &str,
        _version_id: Option<&str>,
    ) -> Result<RegisterLookup, SourceError> {
        Ok(RegisterLookup::NotLookedFor(
            "this source does not keep exceptions registers".to_owned(),
        ))
    }
}

/// An error and its causes on one line, each cause once, cut at `limit` characters: the AWS SDK's
/// errors nest the same words several levels deep and may span lines.
fn causes(e: &(dyn std::error::Error + 'static), limit: usize) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut cause = Some(e);
    while let Some(c) = cause {
        let text = c
            .to_string()
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        cause = c.source();
    }
    let text = parts.join(": ");
    match text.char_indices().nth(limit) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

/// Opens `location`: `s3://bucket/prefix` or a local folder.
pub fn open(location: &str, s3: &S3Options) -> Result<Box<dyn ReportSource>, SourceError> {
    if let Some(rest) = location.strip_prefix("s3://") {
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(SourceError::BadLocation(location.to_owned()));
        }
        Ok(Box::new(S3Source::connect(location, bucket, prefix, s3)?))
    } else if location.contains("://") {
        Err(SourceError::BadLocation(location.to_owned()))
    } else {
        Ok(Box::new(LocalSource::new(location)))
    }
}
