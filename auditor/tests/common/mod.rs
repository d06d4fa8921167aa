//! Fixture trails for the integration tests: small, hand-specified histories written to a
//! temporary folder exactly as the report generator would store them.
#![allow(dead_code)]

use std::fs;
use std::path::PathBuf;

use auditor::synth::{ChainWriter, ReportSpec, RuleSpec};
use chrono::{DateTime, NaiveDate, TimeZone, Utc};

/// Six hours after the last report of [`clean_trail`]: the moment its fixtures speak for. Without
/// it, a ten-day trail from 2026-07 checked today has had no report for months.
pub const AS_OF: &str = "2026-07-10T12:00:00Z";

pub fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").unwrap()
}

/// 06:00 UTC on `day`.
pub fn morning(day: &str) -> DateTime<Utc> {
    Utc.from_utc_datetime(&date(day).and_hms_opt(6, 0, 0).unwrap())
}

/// A written trail: keys in sequence order, and the folder holding them.
pub struct Trail {
    pub dir: tempfile::TempDir,
    pub keys: Vec<String>,
}

impl Trail {
    pub fn root(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }
    pub fn path(&self, i: usize) -> PathBuf {
        self.dir.path().join(&self.keys[i])
    }
    pub fn read(&self, i: usize) -> Vec<u8> {
        fs::read(self.path(i)).unwrap()
    }
    pub fn write(&self, i: usize, bytes: &[u8]) {
        fs::write(self.path(i), bytes).unwrap()
    }
    /// Adds an extra object at `key` (relative to the root).
    pub fn add(&self, key: &str, bytes: &[u8]) {
        let p = self.dir.path().join(key);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, bytes).unwrap();
    }
}

/// Writes reports for `specs` in order, chained from sequence 0.
pub fn write_trail(specs: &[ReportSpec]) -> Trail {
    let dir = tempfile::tempdir().unwrap();
    let mut chain = ChainWriter::new(1);
    let mut keys = Vec::new();
    for s in specs {
        let (key, bytes) = chain.next(s);
        let p = dir.path().join(&key);
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(&p, &bytes).unwrap();
        keys.push(key);
    }
    Trail { dir, keys }
}

/// One report per day from `first`, for `days` days, each with the S3 rule listing `ids(day)`.
pub fn daily(first: &str, days: u32, ids: impl Fn(u32) -> Vec<&'static str>) -> Vec<ReportSpec> {
    (0..days)
        .map(|d| {
            let at = morning(first) + chrono::Duration::days(i64::from(d));
            ReportSpec::new(
                at,
                vec![
                    RuleSpec::standard(0, &ids(d)),
                    RuleSpec::standard(1, &[]),
                    RuleSpec::standard(2, &[]),
                ],
            )
        })
        .collect()
}

/// A clean ten-day trail starting 2026-07-01 with a little churn.
pub fn clean_trail() -> Trail {
    write_trail(&daily("2026-07-01", 10, |d| match d {
        0..=2 => vec!["bucket-a"],
        3..=5 => vec!["bucket-a", "bucket-b"],
        _ => vec!["bucket-b"],
    }))
}
