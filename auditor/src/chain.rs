//! The trail check: the hash chain, the sequence numbers, the naming of keys, object versions and
//! the daily cadence.
//!
//! # The chain rule (docs/report-format.md)
//!
//! Ordered by `chain.sequence`, the first report has sequence 0 and null `previousKey` and
//! `previousSha256`. Report *n* names report *n − 1* by its object key and carries the lower-case
//! hex SHA-256 of **the exact bytes stored** for it. The auditor hashes the bytes it reads, never a
//! re-serialisation, so one changed byte anywhere in report *n − 1* (white space included) breaks
//! the link from report *n*. No sequence may be skipped or used twice.
//!
//! What this cannot see: an edit to the newest report (it has no successor yet). Object versions
//! (overwrites, delete markers) are the evidence there and are reported for S3 sources.
//!
//! # Cadence
//!
//! Reports are daily. Two consecutive reports further apart than the allowed gap (26 h unless
//! configured) are a *cadence gap*: the trail may be intact, but evidence for those days is missing.
//! Gaps are findings too, listed apart from chain problems.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;

use crate::key::canonical;
use crate::scan::Scanned;
use crate::source::VersionAnomaly;

/// Default allowed time between consecutive reports.
pub const DEFAULT_MAX_GAP_HOURS: f64 = 26.0;

/// One thing wrong with the trail, tied to the key where it shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// Stable code: see the README's table.
    pub code: &'static str,
    pub key: String,
    pub detail: String,
}

/// Missing days between two consecutive reports.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CadenceGap {
    pub after_key: String,
    pub before_key: String,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub hours: f64,
    /// UTC dates with no report at all.
    pub missing_dates: Vec<NaiveDate>,
}

/// The outcome of a trail check.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TrailResult {
    /// True when no chain problem was found (cadence gaps are counted separately).
    pub intact: bool,
    pub reports: usize,
    pub valid_reports: usize,
    pub bytes: u64,
    pub first_sequence: Option<u64>,
    pub last_sequence: Option<u64>,
    pub first_generated_at: Option<DateTime<Utc>>,
    pub last_generated_at: Option<DateTime<Utc>>,
    /// Whether object versions were examined (S3 sources).
    pub versions_checked: bool,
    pub problems: Vec<Problem>,
    pub gaps: Vec<CadenceGap>,
}

impl TrailResult {
    /// Chain problems plus cadence gaps.
    pub fn finding_count(&self) -> usize {
        self.problems.len() + self.gaps.len()
    }
}

/// How strict to be.
#[derive(Debug, Clone, Copy)]
pub struct ChainOptions {
    pub max_gap: Duration,
    /// True when the source should hold the whole trail, so it must start at sequence 0.
    /// False for a period's check, which starts at the report before the period.
    pub from_origin: bool,
}

impl Default for ChainOptions {
    fn default() -> Self {
        ChainOptions {
            max_gap: hours(DEFAULT_MAX_GAP_HOURS),
            from_origin: true,
        }
    }
}

/// Converts hours (fractions allowed) to a duration.
pub fn hours(h: f64) -> Duration {
    Duration::milliseconds((h * 3_600_000.0) as i64)
}

#[derive(Debug, Clone)]
struct Link {
    order: usize,
    key: String,
    canonical: String,
    sha256: String,
    sequence: u64,
    previous: Option<(String, String)>,
    has_previous_field: bool,
    generated_at: Option<DateTime<Utc>>,
}

/// Collects what the chain check needs from each report (about 300 bytes per report, not the
/// report itself) and reports per-report problems as they arrive.
#[derive(Debug, Default)]
pub struct TrailCheck {
    links: Vec<Link>,
    problems: Vec<Problem>,
    reports: usize,
    valid: usize,
    bytes: u64,
    versions_checked: bool,
}

impl TrailCheck {
    pub fn new(versions_checked: bool) -> Self {
        TrailCheck {
            versions_checked,
            ..Self::default()
        }
    }

    /// Records object-version evidence from the listing.
    pub fn add_anomaly(&mut self, anomaly: &VersionAnomaly) {
        let p = match anomaly {
            VersionAnomaly::Overwritten { key, versions } => Problem {
                code: "overwritten",
                key: key.clone(),
                detail: format!(
                    "{versions} object versions: the report was overwritten after it was written"
                ),
            },
            VersionAnomaly::Deleted { key, current } => Problem {
                code: "deleted",
                key: key.clone(),
                detail: if *current {
                    "a delete marker is the current version: the report was deleted".to_owned()
                } else {
                    "a delete marker in the history: the report was deleted and put back".to_owned()
                },
            },
        };
        self.problems.push(p);
    }

    /// Records one scanned report.
    pub fn add(&mut self, s: &Scanned) {
        self.reports += 1;
        self.bytes += s.size;
        let order = self.reports;
        if s.name.is_none() {
            self.problem(
                "key-name",
                &s.key,
                "key does not follow reports/YYYY/MM/DD/<8+ digit sequence>-<reportId>.json"
                    .to_owned(),
            );
        }
        match &s.outcome {
            Err(problem) => {
                self.problem(problem.code(), &s.key, problem.to_string());
                // A broken report still has bytes, and its key still says its sequence, so the
                // link from its successor can be checked and no sequence is reported missing twice.
                if let (Some(name), false) = (&s.name, s.sha256.is_empty()) {
                    self.links.push(Link {
                        order,
                        key: s.key.clone(),
                        canonical: name.canonical.clone(),
                        sha256: s.sha256.clone(),
                        sequence: name.sequence,
                        previous: None,
                        has_previous_field: false,
                        generated_at: None,
                    });
                }
            }
            Ok(d) => {
                self.valid += 1;
                if let Some(name) = &s.name {
                    let mut wrong = Vec::new();
                    if name.sequence != d.sequence {
                        wrong.push(format!(
                            "sequence {} in the key but {} in chain.sequence",
                            name.sequence, d.sequence
                        ));
                    }
                    if name.report_id != d.report_id {
                        wrong.push(format!(
                            "reportId {} in the key but {} in the report",
                            name.report_id, d.report_id
                        ));
                    }
                    if name.date != d.day() {
                        wrong.push(format!(
                            "date {} in the key but generatedAt is {}",
                            name.date, d.generated_at
                        ));
                    }
                    if !wrong.is_empty() {
                        self.problem("key-mismatch", &s.key, wrong.join("; "));
                    }
                }
                let previous = match (&d.previous_key, &d.previous_sha256) {
                    (Some(k), Some(h)) => Some((canonical(k), h.clone())),
                    _ => None,
                };
                let has_previous_field = d.previous_key.is_some() || d.previous_sha256.is_some();
                self.links.push(Link {
                    order,
                    key: s.key.clone(),
                    canonical: s
                        .name
                        .as_ref()
                        .map_or_else(|| canonical(&s.key), |n| n.canonical.clone()),
                    sha256: s.sha256.clone(),
                    sequence: d.sequence,
                    previous,
                    has_previous_field,
                    generated_at: Some(d.generated_at),
                });
            }
        }
    }

    fn problem(&mut self, code: &'static str, key: &str, detail: String) {
        self.problems.push(Problem {
            code,
            key: key.to_owned(),
            detail,
        });
    }

    /// Checks sequences, links, order and cadence over everything added.
    pub fn finish(mut self, opts: ChainOptions) -> TrailResult {
        let mut links = std::mem::take(&mut self.links);
        links.sort_by_key(|l| (l.sequence, l.order));
        let mut groups: BTreeMap<u64, Vec<&Link>> = BTreeMap::new();
        for l in &links {
            groups.entry(l.sequence).or_default().push(l);
        }
        let mut chain = Vec::new();
        let mut expected = if opts.from_origin {
            Some(0)
        } else {
            groups.keys().next().copied()
        };
        for (&seq, group) in &groups {
            let first = group[0];
            if let Some(exp) = expected.filter(|&e| e < seq) {
                let what = if seq - exp == 1 {
                    format!("sequence {exp} is")
                } else {
                    format!("sequences {exp}..{} are", seq - 1)
                };
                chain.push(Problem {
                    code: "missing-sequence",
                    key: first.key.clone(),
                    detail: format!("{what} missing before this report (deleted or never written)"),
                });
            }
            expected = Some(seq + 1);
            for dup in &group[1..] {
                chain.push(Problem {
                    code: "duplicate-sequence",
                    key: dup.key.clone(),
                    detail: format!("sequence {seq} is also used by {}", first.key),
                });
            }
            for l in group {
                self.check_link(
                    l,
                    groups.get(&seq.wrapping_sub(1)).filter(|_| seq > 0),
                    &mut chain,
                );
            }
        }
        // Listing order is key order, which the zero-padded names make sequence order; a report
        // listed out of place, or dated before its predecessor, was not written where it claims.
        let mut prev: Option<&Link> = None;
        for l in &links {
            if let Some(p) = prev {
                if l.order < p.order && l.sequence != p.sequence {
                    chain.push(Problem {
                        code: "out-of-order",
                        key: l.key.clone(),
                        detail: format!(
                            "sequence {} is stored before sequence {} ({})",
                            l.sequence, p.sequence, p.key
                        ),
                    });
                } else if let (Some(a), Some(b)) = (p.generated_at, l.generated_at) {
                    if b < a {
                        chain.push(Problem {
                            code: "out-of-order",
                            key: l.key.clone(),
                            detail: format!(
                                "generatedAt {b} is earlier than {a} of sequence {}",
                                p.sequence
                            ),
                        });
                    }
                }
            }
            prev = Some(l);
        }
        let gaps = cadence(&links, opts.max_gap);
        self.problems.extend(chain);
        let valid: Vec<&Link> = links.iter().filter(|l| l.generated_at.is_some()).collect();
        TrailResult {
            intact: self.problems.is_empty(),
            reports: self.reports,
            valid_reports: self.valid,
            bytes: self.bytes,
            first_sequence: links.first().map(|l| l.sequence),
            last_sequence: links.last().map(|l| l.sequence),
            first_generated_at: valid.iter().filter_map(|l| l.generated_at).min(),
            last_generated_at: valid.iter().filter_map(|l| l.generated_at).max(),
            versions_checked: self.versions_checked,
            problems: self.problems,
            gaps,
        }
    }

    fn check_link(&self, l: &Link, before: Option<&Vec<&Link>>, out: &mut Vec<Problem>) {
        if l.generated_at.is_none() {
            return; // not parsed: already reported, nothing to compare
        }
        if l.sequence == 0 {
            if l.has_previous_field {
                out.push(Problem {
                    code: "broken-link",
                    key: l.key.clone(),
                    detail: "sequence 0 must have null previousKey and previousSha256".to_owned(),
                });
            }
            return;
        }
        let Some((prev_key, prev_sha)) = &l.previous else {
            out.push(Problem {
                code: "broken-link",
                key: l.key.clone(),
                detail: format!(
                    "sequence {} has a null previousKey or previousSha256",
                    l.sequence
                ),
            });
            return;
        };
        let Some(candidates) = before else { return }; // the predecessor is missing: reported once
        match candidates.iter().find(|c| &c.canonical == prev_key) {
            None => out.push(Problem {
                code: "previous-key-mismatch",
                key: l.key.clone(),
                detail: format!("previousKey is {prev_key} but sequence {} is stored as {}", l.sequence - 1, candidates[0].key),
            }),
            Some(c) if &c.sha256 != prev_sha => out.push(Problem {
                code: "hash-mismatch",
                key: l.key.clone(),
                detail: format!(
                    "previousSha256 is {prev_sha} but the stored bytes of {} hash to {}: that report changed after this one was written",
                    c.key, c.sha256
                ),
            }),
            Some(_) => {}
        }
    }
}

fn cadence(links: &[Link], max_gap: Duration) -> Vec<CadenceGap> {
    let mut dated: Vec<(&Link, DateTime<Utc>)> = links
        .iter()
        .filter_map(|l| l.generated_at.map(|t| (l, t)))
        .collect();
    dated.sort_by_key(|(l, t)| (*t, l.sequence));
    dated
        .windows(2)
        .filter(|w| w[1].1 - w[0].1 > max_gap)
        .map(|w| {
            let (from, to) = (w[0].1, w[1].1);
            let missing_dates = from
                .date_naive()
                .iter_days()
                .skip(1)
                .take_while(|d| *d < to.date_naive())
                .collect();
            CadenceGap {
                after_key: w[0].0.key.clone(),
                before_key: w[1].0.key.clone(),
                from,
                to,
                hours: ((to - from).num_minutes() as f64 / 60.0 * 10.0).round() / 10.0,
                missing_dates,
            }
        })
        .collect()
}
