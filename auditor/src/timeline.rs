//! The period report: a daily series of open findings per rule and per resource type, exposure
//! windows per finding, per-rule remediation figures, the longest-lived open findings, the days on
//! which monitoring itself was not fully on, and the trail check of the period.
//!
//! Rules of the aggregation (docs/report-format.md, "A finding"):
//! - A finding is (rule name, resourceType, resourceId).
//! - The state of a day is the last report generated that UTC day; earlier reports that day count
//!   only for monitoring evidence.
//! - A rule marked `complete: false` neither opens nor resolves findings: its last known state is
//!   carried forward.
//! - A day without a report carries the last known state forward and is flagged as a gap, never
//!   shown as compliant.
//! - The report before the period (if any) gives the state at the start of the period; findings
//!   open in it are "opened before the period" and their first-seen date is the period start.
//! - A rule's compliance on a day is compliant over evaluated (compliant plus non-compliant) from
//!   the `counts` of the report that gave the day's state, when that report lists the rule as
//!   complete. A day without a report, or with the rule incomplete or absent, has no figure: it
//!   is unknown, never carried, never 100 % and never 0 %.
//! - Exceptions (schema 1.1, see [`crate::excepted`]): a finding labelled with an exception is
//!   still open and counts as non-compliant in the totals and the compliance figure; the days it
//!   was excepted are counted apart, per rule and per day and per exposure window, and end the
//!   day after the exception's expiry at the latest. A 1.0 report labels nothing.

use std::collections::BTreeMap;
use std::collections::HashMap;
use std::collections::hash_map::Entry;

use chrono::NaiveDate;
use serde::Serialize;

use crate::chain::TrailResult;
use crate::excepted::{ExceptedSpan, ExceptionsSection, SectionInput};
use crate::period::Period;
use crate::provenance::Provenance;
use crate::register::{RegisterSummary, VerifiedRegisters};
use crate::report::{
    ExceptionLabel, Exceptions, FindingRef, MonitoringIssue, RegisterRef, ReportDigest, RuleCounts,
};

/// How many long-lived open findings the report lists.
pub const LONGEST_OPEN: usize = 20;

/// The whole period report; also the `--format json` document (field names are stable).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Timeline {
    /// Identifies this document layout.
    pub format: &'static str,
    /// Where the figures come from, for citing and reproducing them.
    pub provenance: Provenance,
    pub source: String,
    pub period: PeriodInfo,
    /// Whether the reports cover the period; what is missing, stated plainly.
    pub evidence: Evidence,
    /// The trail check over the period's reports and the link into the period.
    pub chain: TrailResult,
    /// Rule names in order of first appearance.
    pub rules: Vec<String>,
    /// Resource types, sorted.
    pub resource_types: Vec<String>,
    pub days: Vec<Day>,
    pub rule_stats: Vec<RuleStats>,
    pub exposures: Vec<Exposure>,
    pub longest_open: Vec<Exposure>,
    pub monitoring: Monitoring,
    /// Exceptions in force in the period, and those that expired while their finding was open.
    pub exceptions: ExceptionsSection,
}

/// The period and how far into it the series goes.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PeriodInfo {
    pub label: String,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Last day in the series: `to`, or today when the period is still running; null when the
    /// period has not started.
    pub through: Option<NaiveDate>,
    pub days: usize,
}

/// Whether the period is covered by reports.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Evidence {
    /// `complete`; `partial` (no report for longer than allowed at the start or at the end of
    /// the period, or up to now); `none` (no report in the period); `notStarted`.
    pub state: &'static str,
    /// The plain statement of what is missing; null when the evidence is complete.
    pub statement: Option<String>,
}

impl Evidence {
    /// True when the period is fully covered.
    pub fn complete(&self) -> bool {
        self.state == "complete"
    }
    /// True when no report in the period speaks for any of its days.
    pub fn none(&self) -> bool {
        self.state == "none" || self.state == "notStarted"
    }
}

/// Whether a day's figures come from a report.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum DayState {
    /// A report of that day gave the figures.
    Reported,
    /// No report that day: the last known state is carried forward (a gap).
    Carried,
    /// No report that day and none before it in the period's reach: nothing is known (a gap).
    Unknown,
}

/// One day of the series.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Day {
    pub date: NaiveDate,
    pub state: DayState,
    /// True when no report was made that day.
    pub gap: bool,
    /// Key of the report that gave the state, when `state` is `reported`.
    pub report: Option<String>,
    /// Open findings, excepted ones included (the reports' `counts.nonCompliant` meaning).
    pub total: u64,
    /// Of `total`, those under an exception in force that day.
    pub excepted: u64,
    /// Open findings per rule, excepted ones included.
    pub by_rule: BTreeMap<String, u64>,
    /// Per rule: of `by_rule`, those under an exception in force that day.
    pub excepted_by_rule: BTreeMap<String, u64>,
    pub by_resource_type: BTreeMap<String, u64>,
    /// Per rule: compliance from the day's report; null when the day has no evidence of it (no
    /// report that day, or the rule incomplete or absent in it).
    pub compliance_by_rule: BTreeMap<String, Option<DayCompliance>>,
}

/// One rule's compliance on one day, from the counts of the report that gave the day's state.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct DayCompliance {
    pub compliant: u64,
    /// Compliant plus non-compliant resources (not-applicable ones are not evaluated).
    pub evaluated: u64,
    /// Compliant over evaluated in percent, rounded down to one decimal; null when the rule
    /// evaluated nothing that day.
    pub percent: Option<f64>,
}

impl From<RuleCounts> for DayCompliance {
    fn from(c: RuleCounts) -> Self {
        DayCompliance {
            compliant: c.compliant,
            evaluated: c.evaluated(),
            percent: c.percent(),
        }
    }
}

/// Remediation figures for one rule over the period.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleStats {
    pub rule: String,
    pub open_at_start: u64,
    pub open_at_end: u64,
    /// Of `open_at_end`, those under an exception in force on the last day.
    pub excepted_at_end: u64,
    /// Exposure windows that began in the period (first openings and reopenings).
    pub opened: u64,
    /// Exposure windows that ended in the period.
    pub resolved: u64,
    /// Of `opened`, how many were reopenings of a finding fixed earlier in the period.
    pub reopened: u64,
    /// Mean days from opening to resolution, over windows opened and resolved in the period.
    pub mean_days_to_remediate: Option<f64>,
    pub max_days_to_remediate: Option<i64>,
    /// How many windows the mean and max are computed over.
    pub remediated_windows: u64,
}

/// One finding's exposure over the period.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Exposure {
    pub rule: String,
    pub resource_type: String,
    pub resource_id: String,
    /// First day the finding was open in the period (the period start if it was open before).
    #[serde(serialize_with = "iso_date")]
    pub first_seen: NaiveDate,
    pub opened_before_period: bool,
    /// Day of the report that last resolved it; null while it is open at the end.
    #[serde(serialize_with = "iso_date_or_null")]
    pub resolved_at: Option<NaiveDate>,
    pub open_at_end: bool,
    /// Days open within the period, over all windows (excepted days included).
    pub days_non_compliant: i64,
    /// Of those, days under an exception.
    pub days_excepted: i64,
    pub times_reopened: u64,
    pub windows: Vec<Window>,
}

/// One stretch of non-compliance: from the report that listed it to the report that no longer did.
/// The finding was non-compliant on every day from `opened` up to the day before `resolved` (or
/// to the end of the series while it is open).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Window {
    #[serde(serialize_with = "iso_date")]
    pub opened: NaiveDate,
    #[serde(serialize_with = "iso_date_or_null")]
    pub resolved: Option<NaiveDate>,
    pub opened_before_period: bool,
    /// Days of this window within the period (an open window runs to the end of the series).
    pub days: i64,
    /// Of those, days under an exception.
    pub excepted_days: i64,
    /// Which days: each run under one exception label.
    pub exceptions: Vec<ExceptedSpan>,
}

/// `YYYY-MM-DD`, as chrono writes a date of years 0 to 9999, without its formatting machinery:
/// an organization's timeline writes millions of exposure dates.
fn iso_date<S: serde::Serializer>(d: &NaiveDate, s: S) -> Result<S::Ok, S::Error> {
    use chrono::Datelike;
    let (y, m, day) = (d.year(), d.month(), d.day());
    if !(0..=9999).contains(&y) {
        return s.collect_str(d);
    }
    let digit = |n: u32| b'0' + (n % 10) as u8;
    let y = y as u32;
    let text = [
        digit(y / 1000),
        digit(y / 100),
        digit(y / 10),
        digit(y),
        b'-',
        digit(m / 10),
        digit(m),
        b'-',
        digit(day / 10),
        digit(day),
    ];
    // Ten ASCII digits and dashes.
    s.serialize_str(std::str::from_utf8(&text).unwrap_or_default())
}

fn iso_date_or_null<S: serde::Serializer>(d: &Option<NaiveDate>, s: S) -> Result<S::Ok, S::Error> {
    match d {
        Some(d) => iso_date(d, s),
        None => s.serialize_none(),
    }
}

/// "Monitoring stayed on": the days on which a report showed monitoring not fully on.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Monitoring {
    pub days_in_series: usize,
    pub days_with_report: usize,
    pub days_without_report: usize,
    pub days_with_issues: usize,
    /// Days with a report and no issue at all.
    pub days_monitoring_on: usize,
    pub days: Vec<MonitoringDay>,
}

/// Issues seen in the reports of one day.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MonitoringDay {
    pub date: NaiveDate,
    pub reports: Vec<String>,
    pub issues: Vec<MonitoringIssue>,
}

/// Indices are `usize` throughout: a report may hold up to 1,000 rules and a trail any number of
/// distinct rule names, resource types and findings, and no index may wrap.
struct FindingState {
    rule: usize,
    resource_type: usize,
    finding: FindingRef,
    windows: Vec<Window>,
    seen: u64,
    /// The exception label the last report listing it gave (index into the builder's labels),
    /// and the day that report's state began.
    label: Option<u32>,
    label_since: NaiveDate,
}

impl FindingState {
    fn is_open(&self) -> bool {
        self.windows.last().is_some_and(|w| w.resolved.is_none())
    }
}

struct DaySnapshot {
    date: NaiveDate,
    state: DayState,
    report: Option<String>,
    by_rule: Vec<u64>,
    by_type: Vec<u64>,
    /// Per rule id: the counts of the day's report for each complete rule in it; empty for a
    /// day without a report.
    counts: Vec<Option<RuleCounts>>,
    /// Per rule id: open findings under an exception in force that day; empty when none.
    excepted: Vec<u64>,
    /// The register the state's report names (index into the builder's registers).
    register: Option<usize>,
}

/// Folds reports, in sequence order, into a [`Timeline`]. Memory grows with the number of distinct
/// findings and days, not with the number or size of reports.
pub struct TimelineBuilder {
    period: Period,
    today: NaiveDate,
    /// `None` while the period has not started.
    through: Option<NaiveDate>,
    rules: Vec<String>,
    rule_index: HashMap<String, usize>,
    types: Vec<String>,
    type_index: HashMap<String, usize>,
    findings: HashMap<(usize, FindingRef), usize, ahash::RandomState>,
    states: Vec<FindingState>,
    open: Vec<Vec<usize>>,
    type_open: Vec<u64>,
    stamp: u64,
    known: bool,
    open_at_start: Option<Vec<u64>>,
    pending: Option<(String, ReportDigest)>,
    next_day: NaiveDate,
    days: Vec<DaySnapshot>,
    monitoring: BTreeMap<NaiveDate, MonitoringDay>,
    /// Distinct exception labels seen, and their index.
    labels: Vec<ExceptionLabel>,
    label_index: HashMap<ExceptionLabel, u32>,
    /// Per rule id: open labelled findings by their label's expiry, so a day's excepted count
    /// is the labels expiring on or after it.
    labelled: Vec<BTreeMap<NaiveDate, u64>>,
    /// Distinct (register, environment suffix) pairs the reports name, and the current one.
    registers: Vec<(RegisterRef, String)>,
    register_index: HashMap<(RegisterRef, String), usize>,
    current_register: Option<usize>,
    /// The period's reports of schema 1.0 and of 1.1.
    reports_by_version: [usize; 2],
    /// The registers as the register check read them (see [`Self::attach_registers`]).
    verified: VerifiedRegisters,
    register_summary: RegisterSummary,
}

impl TimelineBuilder {
    /// `today` stops the series for a period that is still running; a period that starts after
    /// `today` has no series at all.
    pub fn new(period: Period, today: NaiveDate) -> Self {
        let through = (period.from <= today).then(|| period.to.min(today));
        TimelineBuilder {
            period,
            today,
            through,
            rules: Vec::new(),
            rule_index: HashMap::new(),
            types: Vec::new(),
            type_index: HashMap::new(),
            findings: HashMap::with_hasher(ahash::RandomState::new()),
            states: Vec::new(),
            open: Vec::new(),
            type_open: Vec::new(),
            stamp: 0,
            known: false,
            open_at_start: None,
            pending: None,
            next_day: period.from,
            days: Vec::new(),
            monitoring: BTreeMap::new(),
            labels: Vec::new(),
            label_index: HashMap::new(),
            labelled: Vec::new(),
            registers: Vec::new(),
            register_index: HashMap::new(),
            current_register: None,
            reports_by_version: [0, 0],
            verified: VerifiedRegisters::new(),
            register_summary: RegisterSummary::default(),
        }
    }

    /// Gives the builder the registers the register check read (the entries of each verified
    /// one, for the exceptions section) and its summary; call before [`Self::finish`].
    pub fn attach_registers(&mut self, summary: RegisterSummary, verified: VerifiedRegisters) {
        self.register_summary = summary;
        self.verified = verified;
    }

    /// The period being built.
    pub fn period(&self) -> Period {
        self.period
    }

    /// Adds one valid report. Reports before the period set the starting state; reports after the
    /// series end are ignored.
    pub fn add(&mut self, key: &str, report: ReportDigest) {
        let day = report.day();
        if day < self.period.from {
            // A report from before the period sets the starting state, but only before any report
            // of the period: one that comes after them (its date and its key disagree) is out of
            // order, which the trail check reports, and cannot rewind the state to the period's
            // first day (it would open an exception before the window it labels).
            if self.pending.is_none() && self.days.is_empty() {
                self.apply(report, self.period.from, true);
            }
            return;
        }
        if self.through.is_none_or(|t| day > t) {
            return;
        }
        let v11 = !matches!(report.exceptions, Exceptions::NotRecorded);
        self.reports_by_version[usize::from(v11)] += 1;
        if !report.monitoring_issues.is_empty() {
            let entry = self.monitoring.entry(day).or_insert_with(|| MonitoringDay {
                date: day,
                reports: Vec::new(),
                issues: Vec::new(),
            });
            entry.reports.push(key.to_owned());
            entry
                .issues
                .extend(report.monitoring_issues.iter().cloned());
            entry.issues.sort();
            entry.issues.dedup();
        }
        match &self.pending {
            Some((_, p)) if p.day() == day => {
                if report.generated_at >= p.generated_at {
                    self.pending = Some((key.to_owned(), report));
                }
            }
            // Dated before the day already being built: out of order, reported by the trail
            // check; the state cannot be rewound, so it is not applied.
            Some((_, p)) if day < p.day() => {}
            _ => {
                self.flush();
                self.pending = Some((key.to_owned(), report));
            }
        }
    }

    fn flush(&mut self) {
        let Some((key, report)) = self.pending.take() else {
            return;
        };
        let day = report.day();
        self.fill_until(day);
        self.start();
        let mut counts: Vec<(usize, RuleCounts)> = Vec::new();
        for rule in report.rules.iter().filter(|r| r.complete) {
            counts.push((self.rule_id(&rule.name), rule.counts));
        }
        self.apply(report, day, false);
        self.snapshot(day, DayState::Reported, Some(key));
        if let Some(s) = self.days.last_mut() {
            s.counts = vec![None; self.rules.len()];
            for (r, c) in counts {
                s.counts[r] = Some(c);
            }
        }
        self.next_day = day.succ_opt().unwrap_or(day);
    }

    fn start(&mut self) {
        if self.open_at_start.is_none() {
            self.open_at_start = Some(self.open.iter().map(|o| o.len() as u64).collect());
        }
    }

    fn fill_until(&mut self, day: NaiveDate) {
        while self.next_day < day && self.through.is_some_and(|t| self.next_day <= t) {
            self.start();
            let state = if self.known {
                DayState::Carried
            } else {
                DayState::Unknown
            };
            self.snapshot(self.next_day, state, None);
            self.next_day = self.next_day.succ_opt().unwrap_or(NaiveDate::MAX);
        }
    }

    fn snapshot(&mut self, date: NaiveDate, state: DayState, report: Option<String>) {
        let by_rule = self.open.iter().map(|o| o.len() as u64).collect();
        // An exception is in force through its expiry day: the labels expiring on or after
        // `date` count; a day with none keeps no per-rule list.
        let excepted = if self.labelled.iter().all(BTreeMap::is_empty) {
            Vec::new()
        } else {
            let in_force = |m: &BTreeMap<NaiveDate, u64>| m.range(date..).map(|(_, n)| n).sum();
            self.labelled.iter().map(in_force).collect()
        };
        self.days.push(DaySnapshot {
            date,
            state,
            report,
            by_rule,
            by_type: self.type_open.clone(),
            counts: Vec::new(),
            excepted,
            register: self.current_register,
        });
    }

    fn label_id(&mut self, label: ExceptionLabel) -> u32 {
        if let Some(&i) = self.label_index.get(&label) {
            return i;
        }
        let i = self.labels.len() as u32;
        self.labels.push(label.clone());
        self.label_index.insert(label, i);
        i
    }

    fn register_id(&mut self, register: &RegisterRef, suffix: &str) -> usize {
        let key = (register.clone(), suffix.to_owned());
        if let Some(&i) = self.register_index.get(&key) {
            return i;
        }
        let i = self.registers.len();
        self.registers.push(key.clone());
        self.register_index.insert(key, i);
        i
    }

    /// Gives finding `idx` the label `label` as of `day`, ending its previous one.
    fn relabel(&mut self, idx: usize, label: Option<u32>, day: NaiveDate) {
        let st = &mut self.states[idx];
        let span = Span {
            labels: &self.labels,
            first: self.period.from,
            through: self.through,
        };
        span.end(st, &mut self.labelled[st.rule], day);
        st.label = label;
        st.label_since = day;
        if let Some(l) = label {
            *self.labelled[st.rule]
                .entry(self.labels[l as usize].expires)
                .or_default() += 1;
        }
    }

    fn rule_id(&mut self, name: &str) -> usize {
        if let Some(&i) = self.rule_index.get(name) {
            return i;
        }
        let i = self.rules.len();
        self.rules.push(name.to_owned());
        self.rule_index.insert(name.to_owned(), i);
        self.open.push(Vec::new());
        self.labelled.push(BTreeMap::new());
        i
    }

    fn type_id(&mut self, name: &str) -> usize {
        if let Some(&i) = self.type_index.get(name) {
            return i;
        }
        let i = self.types.len();
        self.types.push(name.to_owned());
        self.type_index.insert(name.to_owned(), i);
        self.type_open.push(0);
        i
    }

    /// Makes `report` the current state as of `day`.
    fn apply(&mut self, report: ReportDigest, day: NaiveDate, before_period: bool) {
        self.known = true;
        self.current_register = report
            .exceptions
            .register()
            .map(|r| self.register_id(r, &report.environment_suffix));
        for rule in report.rules {
            let r = self.rule_id(&rule.name);
            if !rule.complete {
                continue; // carry this rule's state forward
            }
            self.stamp += 1;
            let stamp = self.stamp;
            // Labels come by finding index, so they are matched in one pass.
            let mut labels = rule.labels.into_iter().peekable();
            // Findings come sorted by resource type: look the type up once per run of equal types.
            let mut last_type: Option<(String, usize)> = None;
            for (j, finding) in rule.findings.into_iter().enumerate() {
                let label = labels
                    .next_if(|(i, _)| *i == j)
                    .map(|(_, l)| self.label_id(l));
                let t = match &last_type {
                    Some((name, id)) if name == finding.resource_type() => *id,
                    _ => {
                        let id = self.type_id(finding.resource_type());
                        last_type = Some((finding.resource_type().to_owned(), id));
                        id
                    }
                };
                let next = self.states.len();
                let idx = match self.findings.entry((r, finding)) {
                    Entry::Occupied(e) => *e.get(),
                    Entry::Vacant(e) => {
                        let finding = e.key().1.clone();
                        e.insert(next);
                        self.states.push(FindingState {
                            rule: r,
                            resource_type: t,
                            finding,
                            windows: Vec::new(),
                            seen: 0,
                            label: None,
                            label_since: day,
                        });
                        next
                    }
                };
                let st = &mut self.states[idx];
                st.seen = stamp;
                if !st.is_open() {
                    st.windows.push(Window {
                        opened: day,
                        resolved: None,
                        opened_before_period: before_period,
                        days: 0,
                        excepted_days: 0,
                        exceptions: Vec::new(),
                    });
                    self.open[r].push(idx);
                    self.type_open[t] += 1;
                }
                if st.label != label {
                    self.relabel(idx, label, day);
                }
            }
            let (states, type_open) = (&mut self.states, &mut self.type_open);
            let span = Span {
                labels: &self.labels,
                first: self.period.from,
                through: self.through,
            };
            let labelled = &mut self.labelled[r];
            self.open[r].retain(|&idx| {
                let st = &mut states[idx];
                if st.seen == stamp {
                    return true;
                }
                span.end(st, labelled, day);
                st.label = None;
                type_open[st.resource_type] = type_open[st.resource_type].saturating_sub(1);
                if before_period {
                    st.windows.pop(); // fixed before the period began: not part of this report
                } else if let Some(w) = st.windows.last_mut() {
                    w.resolved = Some(day);
                }
                false
            });
        }
    }

    /// Ends the series and assembles the report.
    pub fn finish(mut self, source: &str, chain: TrailResult, provenance: Provenance) -> Timeline {
        self.flush();
        let end = self
            .through
            .map_or(self.period.from, |t| t.succ_opt().unwrap_or(t));
        self.fill_until(end);
        self.start();
        // The labels of findings open at the end run to the end of the series.
        let span = Span {
            labels: &self.labels,
            first: self.period.from,
            through: self.through,
        };
        for r in 0..self.open.len() {
            for &idx in &self.open[r] {
                span.end(&mut self.states[idx], &mut self.labelled[r], end);
            }
        }
        let mut type_order: Vec<usize> = (0..self.types.len()).collect();
        type_order.sort_by(|&a, &b| self.types[a].cmp(&self.types[b]));
        let days = self
            .days
            .iter()
            .map(|s| self.day_row(s))
            .collect::<Vec<_>>();
        let mut exposures: Vec<Exposure> = self
            .states
            .iter()
            .filter(|s| !s.windows.is_empty())
            .map(|s| self.exposure(s, end))
            .collect();
        exposures.sort_by(|a, b| {
            (&a.rule, &a.resource_type, &a.resource_id).cmp(&(
                &b.rule,
                &b.resource_type,
                &b.resource_id,
            ))
        });
        // Ordered by reference, and only the ones kept are copied.
        let mut open_at_end: Vec<&Exposure> = exposures.iter().filter(|e| e.open_at_end).collect();
        fn key(e: &Exposure) -> (Option<NaiveDate>, &str, &str) {
            (e.windows.last().map(|w| w.opened), &e.rule, &e.resource_id)
        }
        open_at_end.sort_by(|a, b| key(a).cmp(&key(b)));
        let longest: Vec<Exposure> = open_at_end
            .into_iter()
            .take(LONGEST_OPEN)
            .cloned()
            .collect();
        let with_report = days
            .iter()
            .filter(|d| d.state == DayState::Reported)
            .count();
        let monitoring_days: Vec<MonitoringDay> =
            std::mem::take(&mut self.monitoring).into_values().collect();
        let monitoring = Monitoring {
            days_in_series: days.len(),
            days_with_report: with_report,
            days_without_report: days.len() - with_report,
            days_with_issues: monitoring_days.len(),
            days_monitoring_on: with_report - monitoring_days.len().min(with_report),
            days: monitoring_days,
        };
        let rule_stats = (0..self.rules.len())
            .map(|r| self.rule_stats(r, days.last()))
            .collect();
        let evidence = self.evidence(&days, &chain);
        let (in_force, expired_while_open) = crate::excepted::build(&SectionInput {
            days: self.days.iter().map(|d| (d.date, d.register)).collect(),
            registers: &self.registers,
            verified: &self.verified,
            exposures: &exposures,
            through: self.through,
        });
        let exceptions = ExceptionsSection {
            reports_without_exceptions: self.reports_by_version[0],
            reports_with_exceptions: self.reports_by_version[1],
            registers: std::mem::take(&mut self.register_summary.registers),
            in_force,
            expired_while_open,
        };
        Timeline {
            format: "auditor-timeline/1",
            provenance,
            source: source.to_owned(),
            period: PeriodInfo {
                label: self.period.label(),
                from: self.period.from,
                to: self.period.to,
                through: self.through,
                days: days.len(),
            },
            evidence,
            chain,
            rules: self.rules.clone(),
            resource_types: type_order.iter().map(|&i| self.types[i].clone()).collect(),
            days,
            rule_stats,
            exposures,
            longest_open: longest,
            monitoring,
            exceptions,
        }
    }

    fn day_row(&self, s: &DaySnapshot) -> Day {
        let count = |v: &Vec<u64>, i: usize| v.get(i).copied().unwrap_or(0);
        Day {
            date: s.date,
            state: s.state,
            gap: s.state != DayState::Reported,
            report: s.report.clone(),
            total: s.by_rule.iter().sum(),
            excepted: s.excepted.iter().sum(),
            by_rule: self
                .rules
                .iter()
                .enumerate()
                .map(|(i, n)| (n.clone(), count(&s.by_rule, i)))
                .collect(),
            excepted_by_rule: self
                .rules
                .iter()
                .enumerate()
                .map(|(i, n)| (n.clone(), count(&s.excepted, i)))
                .collect(),
            by_resource_type: self
                .types
                .iter()
                .enumerate()
                .map(|(i, n)| (n.clone(), count(&s.by_type, i)))
                .collect(),
            compliance_by_rule: self
                .rules
                .iter()
                .enumerate()
                .map(|(i, n)| {
                    let counts = s.counts.get(i).copied().flatten();
                    (n.clone(), counts.map(DayCompliance::from))
                })
                .collect(),
        }
    }

    fn exposure(&self, s: &FindingState, end: NaiveDate) -> Exposure {
        let last = s.windows.last().expect("only findings with windows");
        Exposure {
            rule: self.rules[s.rule].clone(),
            resource_type: s.finding.resource_type().to_owned(),
            resource_id: s.finding.resource_id().to_owned(),
            first_seen: s.windows[0].opened,
            opened_before_period: s.windows[0].opened_before_period,
            resolved_at: last.resolved,
            open_at_end: last.resolved.is_none(),
            days_non_compliant: s
                .windows
                .iter()
                .map(|w| (w.resolved.unwrap_or(end) - w.opened).num_days())
                .sum(),
            days_excepted: s.windows.iter().map(|w| w.excepted_days).sum(),
            times_reopened: s.windows.len().saturating_sub(1) as u64,
            windows: s
                .windows
                .iter()
                .map(|w| Window {
                    days: (w.resolved.unwrap_or(end) - w.opened).num_days(),
                    ..w.clone()
                })
                .collect(),
        }
    }

    fn rule_stats(&self, r: usize, last_day: Option<&Day>) -> RuleStats {
        let mut stats = RuleStats {
            rule: self.rules[r].clone(),
            open_at_start: self
                .open_at_start
                .as_ref()
                .and_then(|o| o.get(r))
                .copied()
                .unwrap_or(0),
            open_at_end: self.open[r].len() as u64,
            excepted_at_end: last_day
                .and_then(|d| d.excepted_by_rule.get(&self.rules[r]))
                .copied()
                .unwrap_or(0),
            opened: 0,
            resolved: 0,
            reopened: 0,
            mean_days_to_remediate: None,
            max_days_to_remediate: None,
            remediated_windows: 0,
        };
        let mut total = 0i64;
        for s in self.states.iter().filter(|s| s.rule == r) {
            for (i, w) in s.windows.iter().enumerate() {
                if !w.opened_before_period {
                    stats.opened += 1;
                    if i > 0 {
                        stats.reopened += 1;
                    }
                }
                if let Some(res) = w.resolved {
                    stats.resolved += 1;
                    if !w.opened_before_period {
                        let days = (res - w.opened).num_days();
                        total += days;
                        stats.remediated_windows += 1;
                        stats.max_days_to_remediate = stats.max_days_to_remediate.max(Some(days));
                    }
                }
            }
        }
        if stats.remediated_windows > 0 {
            let mean = total as f64 / stats.remediated_windows as f64;
            stats.mean_days_to_remediate = Some((mean * 100.0).round() / 100.0);
        }
        stats
    }

    /// What the period's evidence lacks, stated plainly: no report at all, a period that has not
    /// started, or no report for longer than allowed before the period's end (or now) or after
    /// its start. The statement opens every output and is written to stderr.
    fn evidence(&self, days: &[Day], chain: &TrailResult) -> Evidence {
        let label = self.period.label();
        let Some(through) = self.through else {
            return Evidence {
                state: "notStarted",
                statement: Some(format!(
                    "NO EVIDENCE: the period {label} has not started (today is {})",
                    self.today
                )),
            };
        };
        if !days.iter().any(|d| d.state == DayState::Reported) {
            return Evidence {
                state: "none",
                statement: Some(format!(
                    "NO EVIDENCE: no report in the period {label} ({} day(s) from {} through {through}); any figure shown is carried from an earlier report, not observed",
                    days.len(),
                    self.period.from
                )),
            };
        }
        let time = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%d %H:%M UTC").to_string();
        let mut missing = Vec::new();
        for g in &chain.gaps {
            match (&g.after_key, &g.before_key) {
                (_, None) => missing.push(format!(
                    "no report from {} to {} ({} day(s) without a report): the generator stopped or the newest reports were deleted",
                    time(g.from),
                    time(g.to),
                    g.missing_days
                )),
                (None, Some(_)) => missing.push(format!(
                    "no report from the start of the period to {} ({} day(s) without a report)",
                    time(g.to),
                    g.missing_days
                )),
                _ => {}
            }
        }
        if missing.is_empty() {
            Evidence {
                state: "complete",
                statement: None,
            }
        } else {
            Evidence {
                state: "partial",
                statement: Some(format!(
                    "NO EVIDENCE for part of {label}: {}",
                    missing.join("; ")
                )),
            }
        }
    }
}

/// Ends finding labels: the days a label covered within the series become a span of the
/// finding's current window.
struct Span<'a> {
    labels: &'a [ExceptionLabel],
    /// The period's first day: earlier days are not counted.
    first: NaiveDate,
    /// The series' last day (none before the period starts).
    through: Option<NaiveDate>,
}

impl Span<'_> {
    /// Ends `st`'s label on `day` (the first day it no longer applies): the days from when it
    /// began to the day before, at most to its expiry, within the series, go to the current
    /// window, joined to the window's last span when that one ran under the same label up to
    /// the day before. The label's count leaves `labelled`.
    fn end(&self, st: &mut FindingState, labelled: &mut BTreeMap<NaiveDate, u64>, day: NaiveDate) {
        let Some(l) = st.label.take() else { return };
        let label = &self.labels[l as usize];
        if let Some(n) = labelled.get_mut(&label.expires) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                labelled.remove(&label.expires);
            }
        }
        let Some(through) = self.through else { return };
        let from = st.label_since.max(self.first);
        let to = day
            .pred_opt()
            .unwrap_or(NaiveDate::MIN)
            .min(label.expires)
            .min(through);
        let Some(w) = st.windows.last_mut() else {
            return;
        };
        if from > to {
            return;
        }
        w.excepted_days += (to - from).num_days() + 1;
        match w.exceptions.last_mut() {
            Some(s)
                if s.id == label.id
                    && s.approver == label.approver
                    && s.expires == label.expires
                    && s.to.succ_opt() == Some(from) =>
            {
                s.to = to;
            }
            _ => w.exceptions.push(ExceptedSpan {
                id: label.id.clone(),
                approver: label.approver.clone(),
                expires: label.expires,
                from,
                to,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Serialize)]
    struct Dated {
        #[serde(serialize_with = "iso_date")]
        day: NaiveDate,
        #[serde(serialize_with = "iso_date_or_null")]
        maybe: Option<NaiveDate>,
    }

    #[derive(Serialize)]
    struct AsChrono {
        day: NaiveDate,
        maybe: Option<NaiveDate>,
    }

    /// The fast date writer writes what chrono's serializer writes, in every year it handles and
    /// beyond them.
    #[test]
    fn dates_are_written_as_chrono_writes_them() {
        let mut days = vec![NaiveDate::MIN, NaiveDate::MAX];
        for y in [-1, 0, 1, 9, 10, 99, 100, 999, 1000, 1999, 2026, 9999, 10000] {
            for (m, d) in [(1, 1), (2, 28), (9, 30), (10, 9), (12, 31)] {
                days.extend(NaiveDate::from_ymd_opt(y, m, d));
            }
        }
        for day in days {
            for maybe in [None, Some(day)] {
                let fast = serde_json::to_string(&Dated { day, maybe }).unwrap();
                let chrono = serde_json::to_string(&AsChrono { day, maybe }).unwrap();
                assert_eq!(fast, chrono, "{day}");
            }
        }
    }
}
