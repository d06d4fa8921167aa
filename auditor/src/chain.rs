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
//! What the chain alone cannot see: an edit to the newest report (it has no successor yet), and a
//! deletion of the newest reports, or a rewrite of every report from some point on (each link
//! recomputed), which leave a shorter or different trail that is still consistent. Evidence from
//! outside the trail covers these: object versions (overwrites, delete markers) for S3 sources,
//! the successor of a period's or an `--as-of` moment's newest report, the generator's
//! `chain/head.json` and its versions, and *witnesses* — heads announced by the alerts and kept
//! outside the bucket (see [`crate::witness`]). Each witnessed report must be in the trail with
//! exactly the witnessed SHA-256, and no witnessed sequence may lie beyond the newest report.
//!
//! # Time
//!
//! The check knows "now": a report dated after it is a finding (a report cannot come from the
//! future), and the evidence must reach the moment the check speaks for (now, `--as-of`, or a
//! period's end). Reports are daily. Two consecutive reports further apart than the allowed gap
//! (26 h unless configured) are a *cadence gap*, and so is a newest report older than the allowed
//! gap at that moment ("no report since …: the generator stopped or the newest reports were
//! deleted"), and, for a period the trail should cover from its first day, a first report later
//! than the allowed gap after that day. The trail may be intact while evidence is missing; gaps
//! are findings too, listed apart from chain problems.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::{DateTime, Duration, NaiveDate, Utc};
use serde::Serialize;

use crate::key::{canonical, same_report};
use crate::scan::Scanned;
use crate::source::{UnreadableEntry, VersionAnomaly, Versioning};
use crate::witness::{Origin, Witness};

/// Default allowed time between consecutive reports.
pub const DEFAULT_MAX_GAP_HOURS: f64 = 26.0;

/// At most this many dates of one gap are listed (ten years); `missingDays` counts them all.
pub const MISSING_DATES_LISTED: usize = 3660;

/// One thing wrong with the trail, tied to the key where it shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    /// Stable code: see the README's table.
    pub code: &'static str,
    pub key: String,
    pub detail: String,
}

/// A stretch longer than allowed without a report: between two consecutive reports, or from the
/// newest report to the moment the evidence must reach (`beforeKey` null), or from the first
/// moment the evidence must cover to the first report (`afterKey` null).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CadenceGap {
    pub after_key: Option<String>,
    pub before_key: Option<String>,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub hours: f64,
    /// UTC dates with no report at all (the first [`MISSING_DATES_LISTED`]).
    pub missing_dates: Vec<NaiveDate>,
    /// How many UTC dates have no report.
    pub missing_days: u64,
}

/// A report named by its key and the SHA-256 of its stored bytes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReportRef {
    pub sequence: u64,
    pub key: String,
    /// Empty when the object was not read (too large).
    pub sha256: String,
}

/// How the heads of one kind (witness files, or the generator's head versions) compared.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct WitnessTally {
    /// Distinct heads compared with the trail.
    pub compared: usize,
    /// Of those, in the trail with exactly the witnessed SHA-256.
    pub matched: usize,
    /// Naming a report dated after `--as-of`: not compared.
    pub after_as_of: usize,
    /// The highest sequence compared.
    pub newest_sequence: Option<u64>,
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
    /// The report with the lowest sequence checked, and the one with the highest.
    pub first_report: Option<ReportRef>,
    pub newest_report: Option<ReportRef>,
    /// The later report whose link confirmed the newest report's stored bytes, when one was read
    /// (the first report after a period or after `--as-of`).
    pub newest_confirmed_by: Option<String>,
    /// Where the reports say they were made (every distinct value).
    pub accounts: Vec<String>,
    pub regions: Vec<String>,
    pub environments: Vec<String>,
    /// True only when object versions could show overwrites and deletions (versioning enabled).
    pub versions_checked: bool,
    pub versioning: Versioning,
    /// Heads from `--witness` files compared with the trail.
    pub witnesses: WitnessTally,
    /// Versions of the generator's `chain/head.json` compared with the trail.
    pub head_versions: WitnessTally,
    pub problems: Vec<Problem>,
    pub gaps: Vec<CadenceGap>,
}

impl TrailResult {
    /// Chain problems plus cadence gaps.
    pub fn finding_count(&self) -> usize {
        self.problems.len() + self.gaps.len()
    }
}

/// How strict to be, and the moments the check speaks for.
#[derive(Debug, Clone, Copy)]
pub struct ChainOptions {
    pub max_gap: Duration,
    /// True when the source should hold the whole trail, so it must start at sequence 0.
    /// False for a period's check, which starts at the report before the period.
    pub from_origin: bool,
    /// The real time of the check: a report dated after it is a finding.
    pub now: DateTime<Utc>,
    /// The first moment the evidence must cover (a period's start, when no report before the
    /// period was found); `None` for the whole trail, which begins with its first report.
    pub evidence_from: Option<DateTime<Utc>>,
    /// The moment the evidence must reach: now, `--as-of`, or a period's end if earlier.
    pub evidence_to: DateTime<Utc>,
}

impl ChainOptions {
    /// The whole trail, checked at `now`.
    pub fn whole_trail(now: DateTime<Utc>, max_gap: Duration) -> Self {
        ChainOptions {
            max_gap,
            from_origin: true,
            now,
            evidence_from: None,
            evidence_to: now,
        }
    }

    /// The same, with the evidence required to reach `moment` (an earlier `--as-of`).
    pub fn reaching(self, moment: DateTime<Utc>) -> Self {
        ChainOptions {
            evidence_to: moment,
            ..self
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
#[derive(Debug)]
pub struct TrailCheck {
    links: Vec<Link>,
    problems: Vec<Problem>,
    reports: usize,
    valid: usize,
    bytes: u64,
    versioning: Versioning,
    accounts: BTreeSet<String>,
    regions: BTreeSet<String>,
    environments: BTreeSet<String>,
    /// The lowest-sequence valid report read beyond the checked part (after a period or after
    /// `--as-of`): only its link back into the checked part is used.
    successor: Option<Link>,
}

impl TrailCheck {
    pub fn new(versioning: Versioning) -> Self {
        TrailCheck {
            links: Vec::new(),
            problems: Vec::new(),
            reports: 0,
            valid: 0,
            bytes: 0,
            versioning,
            accounts: BTreeSet::new(),
            regions: BTreeSet::new(),
            environments: BTreeSet::new(),
            successor: None,
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

    /// Records a problem found outside the reports (the generator's head).
    pub fn add_problem(&mut self, problem: Problem) {
        self.problems.push(problem);
    }

    /// Records an entry of the source that could not be listed or read.
    pub fn add_unreadable(&mut self, entry: &UnreadableEntry) {
        self.problem("unreadable", &entry.key, entry.reason.clone());
    }

    /// Records a key dated after today, which is not read (it lies beyond `--as-of`).
    pub fn add_future_key(&mut self, key: &str, date: NaiveDate, now: DateTime<Utc>) {
        self.problem(
            "future-report",
            key,
            format!(
                "the key is dated {date}, after now ({}): a report cannot come from the future",
                now.format("%Y-%m-%d %H:%M:%SZ")
            ),
        );
    }

    fn link(s: &Scanned, order: usize) -> Option<Link> {
        match &s.outcome {
            // A broken report still has bytes, and its key still says its sequence, so the link
            // from its successor can be checked and no sequence is reported missing twice.
            Err(_) => s.name.as_ref().map(|name| Link {
                order,
                key: s.key.clone(),
                canonical: name.canonical.clone(),
                sha256: s.sha256.clone(),
                sequence: name.sequence,
                previous: None,
                has_previous_field: false,
                generated_at: None,
            }),
            Ok(d) => Some(Link {
                order,
                key: s.key.clone(),
                canonical: s
                    .name
                    .as_ref()
                    .map_or_else(|| canonical(&s.key), |n| n.canonical.clone()),
                sha256: s.sha256.clone(),
                sequence: d.sequence,
                previous: match (&d.previous_key, &d.previous_sha256) {
                    (Some(k), Some(h)) => Some((canonical(k), h.clone())),
                    _ => None,
                },
                has_previous_field: d.previous_key.is_some() || d.previous_sha256.is_some(),
                generated_at: Some(d.generated_at),
            }),
        }
    }

    /// Records one scanned report.
    pub fn add(&mut self, s: &Scanned) {
        self.reports += 1;
        self.bytes = self.bytes.saturating_add(s.size);
        let order = self.reports;
        if s.name.is_none() {
            self.problem(
                "key-name",
                &s.key,
                "key does not follow reports/[<account>/<region>/]YYYY/MM/DD/<8+ digit sequence>-<reportId>.json"
                    .to_owned(),
            );
        }
        match &s.outcome {
            Err(problem) => self.problem(problem.code(), &s.key, problem.to_string()),
            Ok(d) => {
                self.valid += 1;
                self.accounts.insert(d.account.clone());
                self.regions.insert(d.region.clone());
                self.environments.insert(d.environment_suffix.clone());
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
                    // An organization's trail folder names whose reports it holds.
                    if let Some(trail) = &name.trail {
                        if trail.account != d.account || trail.region != d.region {
                            wrong.push(format!(
                                "trail {trail} in the key but account {} and region {} in the report",
                                d.account, d.region
                            ));
                        }
                    }
                    if !wrong.is_empty() {
                        self.problem("key-mismatch", &s.key, wrong.join("; "));
                    }
                }
            }
        }
        if let Some(link) = Self::link(s, order) {
            self.links.push(link);
        }
    }

    /// Offers a valid report from beyond the checked part; the one with the lowest sequence is
    /// kept, and only its link back to the newest checked report is verified.
    pub fn add_successor(&mut self, s: &Scanned) {
        if s.outcome.is_err() {
            return;
        }
        if let Some(link) = Self::link(s, usize::MAX) {
            if self
                .successor
                .as_ref()
                .is_none_or(|c| link.sequence < c.sequence)
            {
                self.successor = Some(link);
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

    /// Checks sequences, links, order, time and cadence over everything added, and compares the
    /// trail with `witnesses` (heads recorded outside it, or by the generator beside it).
    pub fn finish(mut self, opts: ChainOptions, witnesses: &[Witness]) -> TrailResult {
        let mut links = std::mem::take(&mut self.links);
        links.sort_by_key(|l| (l.sequence, l.order));
        let mut groups: BTreeMap<u64, Vec<&Link>> = BTreeMap::new();
        for l in &links {
            groups.entry(l.sequence).or_default().push(l);
        }
        let mut chain = Vec::new();
        // The sequence the next group should have; `None` once u64::MAX has been used.
        let mut expected = if opts.from_origin {
            Some(0)
        } else {
            groups.keys().next().copied()
        };
        for (&seq, group) in &groups {
            let first = group[0];
            if let Some(exp) = expected.filter(|&e| e < seq) {
                chain.push(Problem {
                    code: "missing-sequence",
                    key: first.key.clone(),
                    detail: format!(
                        "{} missing before this report (deleted or never written)",
                        missing(exp, seq - 1)
                    ),
                });
            }
            expected = seq.checked_add(1);
            for dup in &group[1..] {
                chain.push(Problem {
                    code: "duplicate-sequence",
                    key: dup.key.clone(),
                    detail: format!("sequence {seq} is also used by {}", first.key),
                });
            }
            let before = seq.checked_sub(1).and_then(|p| groups.get(&p));
            for l in group {
                check_link(l, before, &mut chain);
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
        for l in &links {
            if let Some(t) = l.generated_at.filter(|t| *t > opts.now) {
                chain.push(Problem {
                    code: "future-report",
                    key: l.key.clone(),
                    detail: format!(
                        "generatedAt {} is after now ({}): a report cannot come from the future; its time, or the clock that wrote it, is wrong",
                        t.format("%Y-%m-%d %H:%M:%SZ"),
                        opts.now.format("%Y-%m-%d %H:%M:%SZ")
                    ),
                });
            }
        }
        let newest_confirmed_by = self.check_successor(&groups, &mut chain);
        let (witness_tally, head_tally) = compare_witnesses(&groups, witnesses, &mut chain);
        let gaps = cadence(&links, &opts);
        self.problems.extend(chain);
        let valid: Vec<&Link> = links.iter().filter(|l| l.generated_at.is_some()).collect();
        let reference = |l: &Link| ReportRef {
            sequence: l.sequence,
            key: l.key.clone(),
            sha256: l.sha256.clone(),
        };
        TrailResult {
            intact: self.problems.is_empty(),
            reports: self.reports,
            valid_reports: self.valid,
            bytes: self.bytes,
            first_sequence: links.first().map(|l| l.sequence),
            last_sequence: links.last().map(|l| l.sequence),
            first_generated_at: valid.iter().filter_map(|l| l.generated_at).min(),
            last_generated_at: valid.iter().filter_map(|l| l.generated_at).max(),
            first_report: links.first().map(reference),
            newest_report: links.last().map(reference),
            newest_confirmed_by,
            accounts: self.accounts.into_iter().collect(),
            regions: self.regions.into_iter().collect(),
            environments: self.environments.into_iter().collect(),
            versions_checked: self.versioning.detects_changes(),
            versioning: self.versioning,
            witnesses: witness_tally,
            head_versions: head_tally,
            problems: self.problems,
            gaps,
        }
    }

    /// Checks the successor's link back to the newest checked report; the successor's key when
    /// the link holds.
    fn check_successor(
        &self,
        groups: &BTreeMap<u64, Vec<&Link>>,
        out: &mut Vec<Problem>,
    ) -> Option<String> {
        let s = self.successor.as_ref()?;
        let (&newest, group) = groups.iter().next_back()?;
        if s.sequence <= newest {
            out.push(Problem {
                code: "out-of-order",
                key: s.key.clone(),
                detail: format!(
                    "this later report has sequence {}, not after the newest report checked (sequence {newest}, {})",
                    s.sequence, group[0].key
                ),
            });
            return None;
        }
        if s.sequence - newest > 1 {
            out.push(Problem {
                code: "missing-sequence",
                key: s.key.clone(),
                detail: format!(
                    "{} missing between the newest report checked ({}) and this later one (deleted or never written)",
                    missing(newest + 1, s.sequence - 1),
                    group[0].key
                ),
            });
            return None;
        }
        let before = out.len();
        check_link(s, Some(group), out);
        (out.len() == before).then(|| s.key.clone())
    }
}

/// "sequence 5 is" or "sequences 5..9 are", for `first..=last` (`first <= last`).
fn missing(first: u64, last: u64) -> String {
    if first == last {
        format!("sequence {first} is")
    } else {
        format!("sequences {first}..{last} are")
    }
}

fn check_link(l: &Link, before: Option<&Vec<&Link>>, out: &mut Vec<Problem>) {
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
    match candidates
        .iter()
        .find(|c| same_report(&c.canonical, prev_key))
    {
        None => out.push(Problem {
            code: "previous-key-mismatch",
            key: l.key.clone(),
            detail: format!(
                "previousKey is {prev_key} but sequence {} is stored as {}",
                l.sequence.saturating_sub(1),
                candidates[0].key
            ),
        }),
        // Not read (too large, reported as such): its bytes cannot be compared.
        Some(c) if c.sha256.is_empty() => {}
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

/// Compares each distinct witnessed head with the trail. A witnessed report must be stored at
/// its sequence under its key with exactly its SHA-256, and no witnessed sequence may lie beyond
/// the newest report: a rewritten report, a re-forged chain and a deleted tail up to the last
/// witness are thereby found, whatever the trail says about itself.
fn compare_witnesses(
    groups: &BTreeMap<u64, Vec<&Link>>,
    witnesses: &[Witness],
    out: &mut Vec<Problem>,
) -> (WitnessTally, WitnessTally) {
    let mut tallies = (WitnessTally::default(), WitnessTally::default());
    // The generator rewrites its head several times per report, so most head versions name
    // the same report: compare each (kind, sequence, key, sha256) once and count the rest.
    let mut distinct: HashMap<(bool, u64, String, String), (usize, usize)> = HashMap::new();
    let mut order = Vec::new();
    for (i, w) in witnesses.iter().enumerate() {
        let is_head = matches!(w.origin, Origin::Head { .. });
        let id = (is_head, w.sequence, canonical(&w.key), w.sha256.clone());
        match distinct.get_mut(&id) {
            Some((_, more)) => *more += 1,
            None => {
                distinct.insert(id.clone(), (i, 0));
                order.push(id);
            }
        }
    }
    let newest = groups
        .iter()
        .next_back()
        .map(|(&s, g)| (s, g[0].key.as_str()));
    for id in order {
        let (i, more) = distinct[&id];
        let w = &witnesses[i];
        let (is_head, sequence, key, sha) = id;
        // Codes for: a sequence beyond the newest report, a report missing, a report changed.
        let (tally, [ahead, absent, changed]) = if is_head {
            (
                &mut tallies.1,
                ["head-ahead", "head-missing", "head-mismatch"],
            )
        } else {
            (
                &mut tallies.0,
                ["witness-ahead", "witness-missing", "witness-mismatch"],
            )
        };
        tally.compared += 1;
        tally.newest_sequence = tally.newest_sequence.max(Some(sequence));
        let origin = if more > 0 {
            format!("{} (and {more} more)", w.origin)
        } else {
            w.origin.to_string()
        };
        let mut finding = |code: &'static str, detail: String| {
            out.push(Problem {
                code,
                key: w.key.clone(),
                detail,
            })
        };
        match newest {
            None => {
                finding(
                    ahead,
                    format!(
                        "{origin} names sequence {sequence}, but the trail holds no readable report"
                    ),
                );
                continue;
            }
            Some((n, newest_key)) if sequence > n => {
                finding(
                    ahead,
                    format!(
                        "{origin} names sequence {sequence} (SHA-256 {sha}), but the newest report in the trail is sequence {n} ({newest_key}): {} missing: the newest reports were deleted",
                        missing(n + 1, sequence)
                    ),
                );
                continue;
            }
            Some(_) => {}
        }
        let stored = groups.get(&sequence);
        match stored.and_then(|g| g.iter().find(|l| same_report(&l.canonical, &key))) {
            None => {
                let instead = stored.map_or_else(
                    || format!("the trail has no report with sequence {sequence}"),
                    |g| format!("sequence {sequence} is stored as {}", g[0].key),
                );
                finding(
                    absent,
                    format!(
                        "{origin} names this report as sequence {sequence}, but {instead}: it was deleted or replaced"
                    ),
                );
            }
            // Not read (too large, reported as such): nothing to compare.
            Some(l) if l.sha256.is_empty() => {}
            Some(l) if l.sha256 != sha => finding(
                changed,
                format!(
                    "{origin} recorded SHA-256 {sha}, but the stored bytes hash to {}: the report was rewritten after it was recorded",
                    l.sha256
                ),
            ),
            Some(_) => tally.matched += 1,
        }
    }
    tallies
}

/// The gap from `from` to `to`. Its missing dates lie strictly between the two days, except that
/// when the gap opens at the start of the evidence (no report `after`), its first day is missing
/// too.
fn gap(
    after: Option<&Link>,
    before: Option<&Link>,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> CadenceGap {
    let (first, last) = (from.date_naive(), to.date_naive());
    let skip = usize::from(after.is_some());
    let missing_days = u64::try_from((last - first).num_days() - skip as i64).unwrap_or(0);
    let missing_dates = first
        .iter_days()
        .skip(skip)
        .take_while(|d| *d < last)
        .take(MISSING_DATES_LISTED)
        .collect();
    CadenceGap {
        after_key: after.map(|l| l.key.clone()),
        before_key: before.map(|l| l.key.clone()),
        from,
        to,
        hours: ((to - from).num_minutes() as f64 / 60.0 * 10.0).round() / 10.0,
        missing_dates,
        missing_days,
    }
}

/// Gaps between consecutive dated reports, before the first (when the evidence must start
/// earlier) and after the newest (up to the moment the evidence must reach). Reports dated after
/// now are findings of their own and take no part: the evidence cannot reach into the future.
fn cadence(links: &[Link], opts: &ChainOptions) -> Vec<CadenceGap> {
    let mut dated: Vec<(&Link, DateTime<Utc>)> = links
        .iter()
        .filter_map(|l| l.generated_at.map(|t| (l, t)))
        .filter(|(_, t)| *t <= opts.now)
        .collect();
    dated.sort_by_key(|(l, t)| (*t, l.sequence));
    let mut gaps = Vec::new();
    if let Some(start) = opts.evidence_from {
        match dated.first() {
            Some(&(l, t)) if t - start > opts.max_gap => gaps.push(gap(None, Some(l), start, t)),
            None if opts.evidence_to - start > opts.max_gap => {
                gaps.push(gap(None, None, start, opts.evidence_to));
            }
            _ => {}
        }
    }
    gaps.extend(
        dated
            .windows(2)
            .filter(|w| w[1].1 - w[0].1 > opts.max_gap)
            .map(|w| gap(Some(w[0].0), Some(w[1].0), w[0].1, w[1].1)),
    );
    if let Some(&(l, t)) = dated.last() {
        if opts.evidence_to - t > opts.max_gap {
            gaps.push(gap(Some(l), None, t, opts.evidence_to));
        }
    }
    gaps
}
