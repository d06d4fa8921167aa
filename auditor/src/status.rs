//! `auditor status`: the compliance state now. The newest report and the one before it **by
//! sequence** (not by day: a second report on one day, or a day without one, changes nothing),
//! the link between the two, and what changed from one to the other.
//!
//! # What changed
//!
//! A finding is (rule, resourceType, resourceId), as in the timeline. Between the previous report
//! and the newest one a finding is:
//!
//! * **new** — listed in the newest report and not in the previous one, whose rule was complete
//!   there (or absent: a rule monitored for the first time opens all its findings);
//! * **fixed** — listed in the previous report and not in the newest one, whose rule is complete;
//! * **still open** — listed in both.
//!
//! A rule that is incomplete in one of the two reports (its findings were not read in full) cannot
//! say what is *not* listed, so the changes it would imply are not derived: the rule is named
//! under `notCompared` with the reason. A rule missing from the newest report (no longer
//! monitored) is named there too.
//!
//! # Open since
//!
//! A still-open finding's current window opened at the oldest report of the unbroken run of
//! reports listing it. The reports before the previous one are read back by sequence, a few at a
//! time, until every still-open finding's run has ended (a report with the rule complete that no
//! longer lists it, or without the rule), the trail begins, a report cannot be read, or the
//! lookback limit (`--lookback-days`, 31 by default) is reached; a finding still open at the limit
//! reads "2026-06-09 (or earlier)". A report with the rule incomplete neither ends nor extends a
//! run. These earlier reports are only read for dates: their links are not checked here
//! (`auditor verify` checks the whole trail).

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, NaiveDate, Utc};
use serde::Serialize;

use crate::chain::{CadenceGap, Problem};
use crate::provenance::Provenance;
use crate::report::{FindingRef, IssueKind, MonitoringIssue, ReportDigest};
use crate::scan::Scanned;

/// Most findings of each kind the text output lists; JSON lists all.
pub const LISTED: usize = 20;

/// Default days of reports read back for open-since dates.
pub const DEFAULT_LOOKBACK_DAYS: u32 = 31;

/// The whole answer; also the `--format json` document.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Status {
    /// Identifies this document layout: `auditor-status/1`.
    pub format: &'static str,
    pub provenance: Provenance,
    pub newest: ReportSummary,
    /// Null when the newest report is the only one (sequence 0, or nothing before it remains).
    pub previous: Option<ReportSummary>,
    pub changes: Changes,
    pub chain: StatusChain,
}

impl Status {
    /// Chain problems and cadence gaps (the absence rule among them): the exit code's findings.
    pub fn finding_count(&self) -> usize {
        self.chain.problems.len() + self.chain.gaps.len()
    }
}

/// One report, summarised.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportSummary {
    pub key: String,
    /// From the key (for a report that cannot be read) or from the report.
    pub sequence: Option<u64>,
    /// Lower-case hex SHA-256 of the stored bytes; empty when not read.
    pub sha256: String,
    /// Why the object is not a usable report; null when it is one.
    pub problem: Option<String>,
    /// What the report says; null when it is not a usable report.
    pub report: Option<ReportState>,
}

/// What one valid report says.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReportState {
    pub generated_at: DateTime<Utc>,
    pub account: String,
    pub region: String,
    pub environment: String,
    /// The report's `complete`: false when anything was not read in full.
    pub complete: bool,
    pub total_non_compliant: u64,
    pub rules: Vec<RuleState>,
    /// Monitoring stayed on: no issue at all (recorder, rules, delivery channel, completeness).
    pub monitoring_on: bool,
    pub issues: Vec<MonitoringIssue>,
}

/// One rule of one report.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleState {
    pub rule: String,
    pub complete: bool,
    /// Findings listed (`nonCompliant[]`).
    pub non_compliant: u64,
    /// From the rule's counts; null when the rule is incomplete.
    pub compliant: Option<u64>,
    pub evaluated: Option<u64>,
    /// Compliant over evaluated in percent, rounded down to one decimal; null when the rule is
    /// incomplete or evaluated nothing.
    pub percent: Option<f64>,
}

/// A finding.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Finding {
    pub rule: String,
    pub resource_type: String,
    pub resource_id: String,
}

/// A finding open in both reports, and since when.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StillOpen {
    #[serde(flatten)]
    pub finding: Finding,
    /// The date of the oldest report of the run listing it that was read.
    pub open_since: NaiveDate,
    /// True when the run reaches past the reports read: it opened on `openSince` or earlier.
    pub open_since_or_earlier: bool,
    /// Days from `openSince` to the newest report's date.
    pub open_days: i64,
}

/// A rule whose changes are not derived, and why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NotCompared {
    pub rule: String,
    pub reason: String,
}

/// What changed from the previous report to the newest one.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Changes {
    /// Whether the two reports were compared (both exist and are valid reports).
    pub compared: bool,
    pub new: Vec<Finding>,
    pub fixed: Vec<Finding>,
    pub still_open: Vec<StillOpen>,
    pub not_compared: Vec<NotCompared>,
    /// How the open-since dates were found, in words.
    pub open_since: String,
}

/// The trail check of the two reports.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct StatusChain {
    /// True when the newest report's `previousSha256` is the SHA-256 of the previous report's
    /// stored bytes and its `previousKey` names it; null without a previous report.
    pub linked: Option<bool>,
    /// The link in words.
    pub statement: String,
    /// Problems of the two reports (and versions of later keys: a deleted newer report).
    pub problems: Vec<Problem>,
    /// Cadence gaps: between the two, and the absence rule (no report since longer than allowed).
    pub gaps: Vec<CadenceGap>,
    /// Reports generated after `--as-of`, left out.
    pub left_out_after_as_of: usize,
}

/// A report's findings by rule, for comparison.
struct Listed<'r> {
    complete: HashMap<&'r str, bool>,
    findings: HashMap<&'r str, HashSet<&'r FindingRef>>,
}

impl<'r> Listed<'r> {
    fn of(d: &'r ReportDigest) -> Self {
        Listed {
            complete: d
                .rules
                .iter()
                .map(|r| (r.name.as_str(), r.complete))
                .collect(),
            findings: d
                .rules
                .iter()
                .map(|r| (r.name.as_str(), r.findings.iter().collect()))
                .collect(),
        }
    }
}

fn finding(rule: &str, f: &FindingRef) -> Finding {
    Finding {
        rule: rule.to_owned(),
        resource_type: f.resource_type().to_owned(),
        resource_id: f.resource_id().to_owned(),
    }
}

/// A summary of one scanned object.
pub fn summarise(s: &Scanned) -> ReportSummary {
    let (report, problem) = match &s.outcome {
        Ok(d) => (Some(state(d)), None),
        Err(p) => (None, Some(format!("{}: {p}", p.code()))),
    };
    ReportSummary {
        key: s.key.clone(),
        sequence: match &s.outcome {
            Ok(d) => Some(d.sequence),
            Err(_) => s.name.as_ref().map(|n| n.sequence),
        },
        sha256: s.sha256.clone(),
        problem,
        report,
    }
}

fn state(d: &ReportDigest) -> ReportState {
    let rules: Vec<RuleState> = d
        .rules
        .iter()
        .map(|r| RuleState {
            rule: r.name.clone(),
            complete: r.complete,
            non_compliant: r.findings.len() as u64,
            compliant: r.complete.then_some(r.counts.compliant),
            evaluated: r.complete.then(|| r.counts.evaluated()),
            percent: r.complete.then(|| r.counts.percent()).flatten(),
        })
        .collect();
    ReportState {
        generated_at: d.generated_at,
        account: d.account.clone(),
        region: d.region.clone(),
        environment: d.environment_suffix.clone(),
        complete: d.complete,
        total_non_compliant: rules.iter().map(|r| r.non_compliant).sum(),
        rules,
        monitoring_on: d.monitoring_issues.is_empty(),
        issues: d.monitoring_issues.clone(),
    }
}

/// The changes from `previous` to `newest`, with every still-open finding's open-since date set to
/// the previous report's date; [`OpenSince`] moves them back.
pub fn compare(newest: &ReportDigest, previous: &ReportDigest) -> Changes {
    let (now, before) = (Listed::of(newest), Listed::of(previous));
    let mut changes = Changes {
        compared: true,
        ..Changes::default()
    };
    let newest_day = newest.day();
    let previous_day = previous.day();
    for rule in &newest.rules {
        let name = rule.name.as_str();
        let was_complete = before.complete.get(name).copied();
        if !rule.complete {
            changes.not_compared.push(NotCompared {
                rule: rule.name.clone(),
                reason: "incomplete in the newest report: what it does not list is not known"
                    .to_owned(),
            });
        } else if was_complete == Some(false) {
            changes.not_compared.push(NotCompared {
                rule: rule.name.clone(),
                reason: "incomplete in the previous report: what it did not list is not known"
                    .to_owned(),
            });
        }
        let empty = HashSet::new();
        let earlier = before.findings.get(name).unwrap_or(&empty);
        for f in &rule.findings {
            if earlier.contains(f) {
                changes.still_open.push(StillOpen {
                    finding: finding(name, f),
                    open_since: previous_day,
                    open_since_or_earlier: true,
                    open_days: (newest_day - previous_day).num_days(),
                });
            } else if was_complete != Some(false) {
                changes.new.push(finding(name, f));
            }
        }
        if rule.complete {
            let listed = &now.findings[name];
            for f in earlier.iter().filter(|f| !listed.contains(*f)) {
                changes.fixed.push(finding(name, f));
            }
        }
    }
    for rule in previous
        .rules
        .iter()
        .filter(|r| !now.complete.contains_key(r.name.as_str()))
    {
        changes.not_compared.push(NotCompared {
            rule: rule.name.clone(),
            reason: "not in the newest report (no longer monitored?): its findings are neither fixed nor open there".to_owned(),
        });
    }
    changes.new.sort();
    changes.fixed.sort();
    changes.still_open.sort_by(|a, b| a.finding.cmp(&b.finding));
    changes
}

/// Walks back from the previous report, one older report at a time, moving each still-open
/// finding's open-since date to the oldest report of its unbroken run.
pub struct OpenSince {
    /// Still-open findings whose run has not ended yet, by rule: index into `still_open`.
    pending: BTreeMap<String, HashMap<FindingRef, usize>>,
    newest_day: NaiveDate,
    /// Reports read back, and the date of the oldest.
    pub reports_read: usize,
    pub oldest_read: Option<NaiveDate>,
}

impl OpenSince {
    pub fn new(changes: &Changes, newest_day: NaiveDate) -> Self {
        let mut pending: BTreeMap<String, HashMap<FindingRef, usize>> = BTreeMap::new();
        for (i, s) in changes.still_open.iter().enumerate() {
            let f = &s.finding;
            pending
                .entry(f.rule.clone())
                .or_default()
                .insert(FindingRef::new(&f.resource_type, &f.resource_id), i);
        }
        OpenSince {
            pending,
            newest_day,
            reports_read: 0,
            oldest_read: None,
        }
    }

    /// True while some still-open finding's run may go back further.
    pub fn wants_more(&self) -> bool {
        self.pending.values().any(|p| !p.is_empty())
    }

    /// Takes the next older report into account.
    pub fn add(&mut self, report: &ReportDigest, changes: &mut Changes) {
        self.reports_read += 1;
        let day = report.day();
        self.oldest_read = Some(day);
        let rules: HashMap<&str, _> = report.rules.iter().map(|r| (r.name.as_str(), r)).collect();
        for (rule, pending) in &mut self.pending {
            let Some(r) = rules.get(rule.as_str()) else {
                // The rule was not monitored then: every run of it began after this report.
                for (_, i) in pending.drain() {
                    changes.still_open[i].open_since_or_earlier = false;
                }
                continue;
            };
            let listed: HashSet<&FindingRef> = r.findings.iter().collect();
            pending.retain(|f, i| {
                let s = &mut changes.still_open[*i];
                if listed.contains(f) {
                    s.open_since = day;
                    s.open_days = (self.newest_day - day).num_days();
                    true
                } else if r.complete {
                    s.open_since_or_earlier = false;
                    false
                } else {
                    true // incomplete: neither ends nor extends the run
                }
            });
        }
    }

    /// The trail began with the last report added: every run still pending began there.
    pub fn reached_the_start(&mut self, changes: &mut Changes) {
        for (_, pending) in std::mem::take(&mut self.pending) {
            for (_, i) in pending {
                changes.still_open[i].open_since_or_earlier = false;
            }
        }
    }
}

/// The monitoring issues of a report as one line for people.
pub fn issues_sentence(issues: &[MonitoringIssue]) -> String {
    if issues.is_empty() {
        return "on: recorder recording, every rule evaluating, report complete".to_owned();
    }
    let mut by_kind: BTreeMap<IssueKind, Vec<String>> = BTreeMap::new();
    for i in issues {
        by_kind
            .entry(i.kind)
            .or_default()
            .push(format!("{} ({})", i.subject, i.detail));
    }
    let parts: Vec<String> = by_kind
        .into_iter()
        .map(|(k, v)| format!("{}: {}", k.label(), v.join(", ")))
        .collect();
    format!("NOT FULLY ON: {}", parts.join("; "))
}
