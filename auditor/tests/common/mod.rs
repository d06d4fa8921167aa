//! Fixture trails for the integration tests: small, hand-specified histories written to a
//! temporary folder exactly as the report generator would store them.
#![allow(dead_code)]

pub mod emulator;
pub mod stub;

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

impl Trail {
    /// Every report as (key, stored bytes), in sequence order.
    pub fn stored(&self) -> Vec<(String, Vec<u8>)> {
        (0..self.keys.len())
            .map(|i| (self.keys[i].clone(), self.read(i)))
            .collect()
    }

    /// Lower-case hex SHA-256 of report `i` as stored.
    pub fn sha(&self, i: usize) -> String {
        auditor::synth::sha256_hex(&self.read(i))
    }

    /// The alert's witness line for report `i`.
    pub fn witness_line(&self, i: usize) -> String {
        format!("witness: {i} {} {}", self.keys[i], self.sha(i))
    }

    /// The generator's `chain/head.json` naming report `i` as the newest committed one.
    pub fn head_json(&self, i: usize) -> Vec<u8> {
        serde_json::to_vec(&serde_json::json!({
            "format": "compliance-chain-head/1",
            "last": {"sequence": i, "key": self.keys[i], "sha256": self.sha(i)},
            "pending": null,
            "writerMayAddFields": true
        }))
        .unwrap()
    }

    /// Rewrites report `from` with `edit` and recomputes every later link, as an attacker with
    /// write access to the bucket would: the trail stays consistent in itself.
    pub fn reforge(&self, from: usize, edit: impl Fn(&mut serde_json::Value)) {
        for i in from..self.keys.len() {
            let mut v: serde_json::Value = serde_json::from_slice(&self.read(i)).unwrap();
            if i == from {
                edit(&mut v);
            } else {
                v["chain"]["previousSha256"] = self.sha(i - 1).into();
            }
            self.write(i, &auditor::synth::encode(&v));
        }
    }
}

/// Runs the command line in-process at a fixed `now`: (exit code, stdout, stderr), the exit code
/// mapped as `main.rs` maps it.
pub fn run_at(now: &str, args: &[&str]) -> (i32, String, String) {
    use clap::Parser;
    let (mut out, mut err) = (Vec::new(), Vec::new());
    let mut io = auditor::cli::Io {
        stdout: &mut out,
        stderr: &mut err,
        now: DateTime::parse_from_rfc3339(now)
            .unwrap()
            .with_timezone(&Utc),
        progress: false,
    };
    let argv = std::iter::once("auditor").chain(args.iter().copied());
    let code = match auditor::cli::Cli::try_parse_from(argv) {
        Err(e) => {
            err.extend(e.to_string().into_bytes());
            2
        }
        Ok(cli) => match auditor::cli::run(cli, &mut io) {
            Ok(outcome) => i32::from(outcome.exit_code()),
            Err(e) => {
                err.extend(format!("auditor: error: {e:#}\n").into_bytes());
                2
            }
        },
    };
    (
        code,
        String::from_utf8(out).unwrap(),
        String::from_utf8(err).unwrap(),
    )
}

/// The `code` of every problem in a verify or timeline-chain JSON result.
pub fn problem_codes(v: &serde_json::Value) -> Vec<String> {
    let mut c: Vec<String> = v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].as_str().unwrap().to_owned())
        .collect();
    c.sort();
    c
}

/// The problems with `code`, as (key, detail).
pub fn problems_with(v: &serde_json::Value, code: &str) -> Vec<(String, String)> {
    v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["code"] == code)
        .map(|p| {
            (
                p["key"].as_str().unwrap().to_owned(),
                p["detail"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// An organization's bucket written to a temporary folder: trails under
/// `reports/<account>/<region>/`, each with the generator's head `chain/<account>/<region>/head.json`.
pub struct OrgBucket {
    pub dir: tempfile::TempDir,
    /// Each trail's keys in sequence order, by (account, region).
    pub trails: std::collections::BTreeMap<(String, String), Vec<String>>,
}

impl OrgBucket {
    pub fn root(&self) -> PathBuf {
        self.dir.path().to_path_buf()
    }
    /// The stored path of report `i` of a trail.
    pub fn path(&self, account: &str, region: &str, i: usize) -> PathBuf {
        self.dir
            .path()
            .join(&self.trails[&(account.to_owned(), region.to_owned())][i])
    }
    /// Every object as (key, bytes), for an S3 bucket.
    pub fn stored(&self) -> Vec<(String, Vec<u8>)> {
        let mut out = Vec::new();
        let mut stack = vec![self.dir.path().to_path_buf()];
        while let Some(dir) = stack.pop() {
            for e in fs::read_dir(dir).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else {
                    let key = p.strip_prefix(self.dir.path()).unwrap();
                    out.push((key.to_str().unwrap().to_owned(), fs::read(&p).unwrap()));
                }
            }
        }
        out.sort();
        out
    }
}

/// Writes each trail's `specs` under `reports/<account>/<region>/`, chained from sequence 0, the
/// specs' account and region set to the trail's, and its head naming the newest report.
pub fn write_organization(trails: &[(&str, &str, Vec<ReportSpec>)]) -> OrgBucket {
    let dir = tempfile::tempdir().unwrap();
    let mut written = std::collections::BTreeMap::new();
    for (n, (account, region, specs)) in trails.iter().enumerate() {
        let mut chain = ChainWriter::under(&format!("reports/{account}/{region}/"), n as u64 + 1);
        let mut keys = Vec::new();
        for s in specs {
            let mut s = s.clone();
            s.account = (*account).to_owned();
            s.region = (*region).to_owned();
            let (key, bytes) = chain.next(&s);
            let p = dir.path().join(&key);
            fs::create_dir_all(p.parent().unwrap()).unwrap();
            fs::write(&p, &bytes).unwrap();
            keys.push(key);
        }
        let (sequence, key, sha256) = chain.last().unwrap();
        let head = serde_json::json!({
            "format": "compliance-chain-head/1",
            "last": {"sequence": sequence, "key": key, "sha256": sha256},
            "pending": null
        });
        let p = dir
            .path()
            .join(format!("chain/{account}/{region}/head.json"));
        fs::create_dir_all(p.parent().unwrap()).unwrap();
        fs::write(p, serde_json::to_vec(&head).unwrap()).unwrap();
        written.insert(((*account).to_owned(), (*region).to_owned()), keys);
    }
    OrgBucket {
        dir,
        trails: written,
    }
}
