//! Where reports come from. A source lists the stored report objects (with any evidence of
//! overwrites or deletions it can see) and fetches their exact bytes; everything else works on
//! that abstraction, so tests inject folders and the S3 source is just another implementation.

mod local;
mod s3;

pub use local::LocalSource;
pub use s3::{S3Options, S3Source};

use rayon::prelude::*;

use crate::error::SourceError;

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

/// Everything a source lists, in key order (which the zero-padded naming makes sequence order).
#[derive(Debug, Default, Clone)]
pub struct Listing {
    pub objects: Vec<StoredObject>,
    pub anomalies: Vec<VersionAnomaly>,
    /// Whether object versions were examined (S3) or cannot exist (folders).
    pub versions_checked: bool,
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
        fn anomaly_key(a: &VersionAnomaly) -> &str {
            match a {
                VersionAnomaly::Overwritten { key, .. } | VersionAnomaly::Deleted { key, .. } => {
                    key
                }
            }
        }
        let rooted_above = self.objects.iter().any(|o| in_reports(&o.key))
            || self.anomalies.iter().any(|a| in_reports(anomaly_key(a)));
        if !rooted_above {
            return 0;
        }
        let before = self.objects.len() + self.anomalies.len();
        self.objects.retain(|o| in_reports(&o.key));
        self.anomalies.retain(|a| in_reports(anomaly_key(a)));
        before - self.objects.len() - self.anomalies.len()
    }
}

/// A place holding reports.
pub trait ReportSource: Send + Sync {
    /// How the user named it, for messages.
    fn name(&self) -> &str;
    /// Lists every `*.json` object under the source, sorted by key.
    fn list(&self) -> Result<Listing, SourceError>;
    /// Reads the exact stored bytes of one object.
    fn fetch(&self, object: &StoredObject) -> Result<Vec<u8>, String>;
    /// Reads several objects; results in the order asked. Sources with latency override this to
    /// keep several requests in flight.
    fn fetch_batch(&self, objects: &[StoredObject]) -> Vec<Result<Vec<u8>, String>> {
        objects.par_iter().map(|o| self.fetch(o)).collect()
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
