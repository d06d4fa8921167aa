//! The organization's roll-up of a period: a row per account and region, totals per rule and per
//! day over every trail, and the worst exposures across the organization. Each trail's timeline
//! is reduced to its [`TrailFigures`] on the worker that computed it, and the figures are folded
//! here in trail order; the roll-up holds the period's days × rules, a row per trail and the
//! [`WORST_EXPOSURES`] worst exposures, never a trail's findings.
//!
//! Rules of the sums (the same as one trail's, added up): a day's count per rule is the sum of
//! each trail's count that day, carried where a trail had no report (the day says how many
//! trails had none); a day's compliance per rule is compliant over evaluated summed over the
//! trails with a figure that day (and says how many had one); a rule's mean days to remediate is
//! over every window opened and resolved in the period, in any trail.

use std::cmp::Reverse;
use std::collections::BTreeMap;

use chrono::NaiveDate;
use serde::Serialize;

use super::{OrgProvenance, TrailName};
use crate::chain::{Problem, ReportRef};
use crate::period::Period;
use crate::report::RuleCounts;
use crate::timeline::{DayState, Evidence, Exposure, PeriodInfo, Timeline};

/// How many of the organization's worst exposures the roll-up lists.
pub const WORST_EXPOSURES: usize = 50;

/// How many trails lacking evidence the organization's statement names before "and N more".
const NAMED_IN_STATEMENT: usize = 5;

/// The roll-up document: the organization's part of `timeline --format json` (each trail's
/// timeline follows it, under `trails`).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrgTimeline {
    pub format: &'static str,
    pub provenance: OrgProvenance,
    pub source: String,
    pub period: PeriodInfo,
    /// Whether every expected trail covers the period; what is missing, stated plainly.
    pub evidence: Evidence,
    pub summary: OrgTimelineSummary,
    /// The organization's own findings (accounts without a trail, unexpected trails, objects
    /// outside every trail).
    pub problems: Vec<Problem>,
    /// One row per account and region.
    pub by_trail: Vec<TrailRow>,
    /// Rule names in order of first appearance over the trails.
    pub rules: Vec<String>,
    pub rule_totals: Vec<RuleTotals>,
    pub days: Vec<OrgDay>,
    /// The longest exposures in the period over every trail, longest first.
    pub worst_exposures: Vec<OrgExposure>,
    /// Keys the trails' readings skipped because they do not follow the naming rule.
    #[serde(skip)]
    pub unplaced_keys: usize,
}

/// The organization's figures in a few numbers.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrgTimelineSummary {
    pub trails: usize,
    /// Trails whose evidence covers the period, chain intact and without a gap.
    pub trails_clean: usize,
    pub trails_without_full_evidence: usize,
    pub trails_with_chain_problems: usize,
    /// Trails with a cadence gap or a day without a report in the period.
    pub trails_with_gaps: usize,
    pub trails_unreadable: usize,
    pub organization_problems: usize,
    /// Everything that makes the exit code 1, counted as one trail's timeline counts it.
    pub findings: usize,
    pub reports_checked: usize,
}

/// One account and region: its evidence, its trail check and its findings over the period.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TrailRow {
    #[serde(flatten)]
    pub trail: TrailName,
    pub source: String,
    /// As a trail's `evidence.state`, or `unreadable` when the trail could not be listed.
    pub evidence: &'static str,
    /// What is missing, or why the trail could not be read; null when complete.
    pub statement: Option<String>,
    pub reports_checked: usize,
    pub chain_intact: bool,
    pub chain_problems: usize,
    pub cadence_gaps: usize,
    pub days_with_report: usize,
    pub days_without_report: usize,
    pub days_with_monitoring_issues: usize,
    pub open_at_start: u64,
    pub open_at_end: u64,
    pub opened: u64,
    pub resolved: u64,
    /// The trail's findings as its own timeline's exit code counts them.
    pub findings: usize,
    pub first_report: Option<ReportRef>,
    pub newest_report: Option<ReportRef>,
}

impl TrailRow {
    /// True when the trail covers the period with an intact chain and no gap.
    pub fn clean(&self) -> bool {
        self.findings == 0
    }
}

/// One rule over every trail.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleTotals {
    pub rule: String,
    /// Trails whose reports list the rule.
    pub trails: usize,
    pub open_at_start: u64,
    pub open_at_end: u64,
    pub opened: u64,
    pub resolved: u64,
    pub reopened: u64,
    pub mean_days_to_remediate: Option<f64>,
    pub max_days_to_remediate: Option<i64>,
    pub remediated_windows: u64,
    #[serde(skip)]
    remediation_days: i64,
}

/// One day over every trail.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrgDay {
    pub date: NaiveDate,
    pub trails_reported: usize,
    /// Trails without a report that day (their counts are carried, or unknown).
    pub trails_without_report: usize,
    pub total: u64,
    pub by_rule: BTreeMap<String, u64>,
    /// Per rule: compliant over evaluated summed over the trails with a figure that day.
    pub compliance_by_rule: BTreeMap<String, OrgCompliance>,
}

/// A rule's compliance on one day over the trails with a figure.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrgCompliance {
    pub compliant: u64,
    pub evaluated: u64,
    /// Rounded down to 0.1, as for one trail; null when nothing was evaluated.
    pub percent: Option<f64>,
    /// Trails with a figure that day (a report listing the rule as complete).
    pub trails: usize,
}

/// One finding's exposure in one trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrgExposure {
    #[serde(flatten)]
    pub trail: TrailName,
    pub rule: String,
    pub resource_type: String,
    pub resource_id: String,
    pub first_seen: NaiveDate,
    pub opened_before_period: bool,
    pub resolved_at: Option<NaiveDate>,
    pub open_at_end: bool,
    pub days_non_compliant: i64,
    pub times_reopened: u64,
}

impl OrgExposure {
    /// Worst first: most days, then open before resolved, then the earliest first seen.
    fn rank(&self) -> impl Ord + '_ {
        (
            Reverse(self.days_non_compliant),
            !self.open_at_end,
            self.first_seen,
            &self.trail.account,
            &self.trail.region,
            &self.rule,
            &self.resource_id,
        )
    }
}

/// One rule on one day of a trail: the rule, its open count and the (compliant, evaluated)
/// behind its compliance figure, when there is one.
type RuleDay = (String, u64, Option<(u64, u64)>);

/// What the roll-up keeps of one trail's timeline.
#[derive(Debug, Clone)]
pub struct TrailFigures {
    pub row: TrailRow,
    /// Per rule: (rule, its figures).
    rules: Vec<RuleTotals>,
    /// Per day of the series: whether the trail reported, and its figures per rule.
    days: Vec<(bool, Vec<RuleDay>)>,
    worst: Vec<OrgExposure>,
    /// Keys skipped by the trail's reading because they do not follow the naming rule.
    pub unplaced_keys: usize,
}

impl TrailFigures {
    /// Reduces one trail's timeline to what the roll-up needs.
    pub fn of(trail: &TrailName, source: &str, t: &Timeline, unplaced_keys: usize) -> Self {
        let c = &t.chain;
        let sum = |f: fn(&crate::timeline::RuleStats) -> u64| t.rule_stats.iter().map(f).sum();
        let findings = c.finding_count()
            + t.monitoring.days_without_report
            + usize::from(!t.evidence.complete());
        let row = TrailRow {
            trail: trail.clone(),
            source: source.to_owned(),
            evidence: t.evidence.state,
            statement: t.evidence.statement.clone(),
            reports_checked: c.reports,
            chain_intact: c.intact,
            chain_problems: c.problems.len(),
            cadence_gaps: c.gaps.len(),
            days_with_report: t.monitoring.days_with_report,
            days_without_report: t.monitoring.days_without_report,
            days_with_monitoring_issues: t.monitoring.days_with_issues,
            open_at_start: sum(|r| r.open_at_start),
            open_at_end: sum(|r| r.open_at_end),
            opened: sum(|r| r.opened),
            resolved: sum(|r| r.resolved),
            findings,
            first_report: c.first_report.clone(),
            newest_report: c.newest_report.clone(),
        };
        let mut rules: Vec<RuleTotals> = t
            .rule_stats
            .iter()
            .map(|r| RuleTotals {
                rule: r.rule.clone(),
                trails: 1,
                open_at_start: r.open_at_start,
                open_at_end: r.open_at_end,
                opened: r.opened,
                resolved: r.resolved,
                reopened: r.reopened,
                max_days_to_remediate: r.max_days_to_remediate,
                remediated_windows: r.remediated_windows,
                ..RuleTotals::default()
            })
            .collect();
        // The exact sum of remediation days, from the windows (a trail's mean is rounded).
        for e in &t.exposures {
            if let Some(r) = rules.iter_mut().find(|r| r.rule == e.rule) {
                for w in e.windows.iter().filter(|w| !w.opened_before_period) {
                    if let Some(resolved) = w.resolved {
                        r.remediation_days += (resolved - w.opened).num_days();
                    }
                }
            }
        }
        let days = t
            .days
            .iter()
            .map(|d| {
                let per_rule = d
                    .by_rule
                    .iter()
                    .map(|(rule, n)| {
                        let counts = d
                            .compliance_by_rule
                            .get(rule)
                            .copied()
                            .flatten()
                            .map(|c| (c.compliant, c.evaluated));
                        (rule.clone(), *n, counts)
                    })
                    .collect();
                (d.state == DayState::Reported, per_rule)
            })
            .collect();
        // Only the trail's worst can be among the organization's: they are ranked by reference
        // (account and region are the trail's for all), and only those kept are copied.
        fn rank(e: &Exposure) -> (Reverse<i64>, bool, NaiveDate, &str, &str) {
            let (rule, id) = (e.rule.as_str(), e.resource_id.as_str());
            (
                Reverse(e.days_non_compliant),
                !e.open_at_end,
                e.first_seen,
                rule,
                id,
            )
        }
        let mut ranked: Vec<&Exposure> = t.exposures.iter().collect();
        ranked.sort_by(|a, b| rank(a).cmp(&rank(b)));
        let worst: Vec<OrgExposure> = ranked
            .into_iter()
            .take(WORST_EXPOSURES)
            .map(|e| OrgExposure {
                trail: trail.clone(),
                rule: e.rule.clone(),
                resource_type: e.resource_type.clone(),
                resource_id: e.resource_id.clone(),
                first_seen: e.first_seen,
                opened_before_period: e.opened_before_period,
                resolved_at: e.resolved_at,
                open_at_end: e.open_at_end,
                days_non_compliant: e.days_non_compliant,
                times_reopened: e.times_reopened,
            })
            .collect();
        TrailFigures {
            row,
            rules,
            days,
            worst,
            unplaced_keys,
        }
    }

    /// A trail that could not be read at all.
    pub fn unreadable(trail: &TrailName, source: &str, reason: String) -> Self {
        TrailFigures {
            row: TrailRow {
                trail: trail.clone(),
                source: source.to_owned(),
                evidence: "unreadable",
                statement: Some(format!("the trail could not be read: {reason}")),
                reports_checked: 0,
                chain_intact: false,
                chain_problems: 0,
                cadence_gaps: 0,
                days_with_report: 0,
                days_without_report: 0,
                days_with_monitoring_issues: 0,
                open_at_start: 0,
                open_at_end: 0,
                opened: 0,
                resolved: 0,
                findings: 1,
                first_report: None,
                newest_report: None,
            },
            rules: Vec::new(),
            days: Vec::new(),
            worst: Vec::new(),
            unplaced_keys: 0,
        }
    }
}

/// Sorts worst first and keeps [`WORST_EXPOSURES`].
fn keep_worst(list: &mut Vec<OrgExposure>) {
    list.sort_by(|a, b| a.rank().cmp(&b.rank()));
    list.truncate(WORST_EXPOSURES);
}

/// Folds trails' figures, in trail order, into the roll-up.
pub struct Rollup {
    period: PeriodInfo,
    rows: Vec<TrailRow>,
    rules: Vec<RuleTotals>,
    rule_index: BTreeMap<String, usize>,
    /// Per day: trails reported, trails without a report, per rule (count, compliance sums).
    days: Vec<DayTotals>,
    worst: Vec<OrgExposure>,
    unplaced_keys: usize,
}

#[derive(Default)]
struct DayTotals {
    reported: usize,
    without: usize,
    /// Per rule index: (open count, compliant, evaluated, trails with a figure).
    rules: Vec<(u64, u64, u64, usize)>,
}

impl Rollup {
    /// The roll-up of `period` as seen on `today` (the series of a running period stops there).
    pub fn new(period: Period, today: NaiveDate) -> Self {
        let through = (period.from <= today).then(|| period.to.min(today));
        let days = through.map_or(0, |t| (t - period.from).num_days() as usize + 1);
        Rollup {
            period: PeriodInfo {
                label: period.label(),
                from: period.from,
                to: period.to,
                through,
                days,
            },
            rows: Vec::new(),
            rules: Vec::new(),
            rule_index: BTreeMap::new(),
            days: (0..days).map(|_| DayTotals::default()).collect(),
            worst: Vec::new(),
            unplaced_keys: 0,
        }
    }

    fn rule(&mut self, name: &str) -> usize {
        if let Some(&i) = self.rule_index.get(name) {
            return i;
        }
        self.rules.push(RuleTotals {
            rule: name.to_owned(),
            ..RuleTotals::default()
        });
        self.rule_index
            .insert(name.to_owned(), self.rules.len() - 1);
        self.rules.len() - 1
    }

    /// Adds one trail.
    pub fn add(&mut self, f: TrailFigures) {
        self.unplaced_keys += f.unplaced_keys;
        for r in &f.rules {
            let i = self.rule(&r.rule);
            let t = &mut self.rules[i];
            t.trails += 1;
            t.open_at_start += r.open_at_start;
            t.open_at_end += r.open_at_end;
            t.opened += r.opened;
            t.resolved += r.resolved;
            t.reopened += r.reopened;
            t.remediated_windows += r.remediated_windows;
            t.remediation_days += r.remediation_days;
            t.max_days_to_remediate = t.max_days_to_remediate.max(r.max_days_to_remediate);
        }
        if f.days.is_empty() {
            for d in &mut self.days {
                d.without += 1;
            }
        }
        for (i, (reported, per_rule)) in f.days.iter().enumerate() {
            if i >= self.days.len() {
                break;
            }
            let ids: Vec<usize> = per_rule
                .iter()
                .map(|(rule, _, _)| self.rule(rule))
                .collect();
            let day = &mut self.days[i];
            if *reported {
                day.reported += 1;
            } else {
                day.without += 1;
            }
            for (id, (_, n, counts)) in ids.into_iter().zip(per_rule) {
                if day.rules.len() <= id {
                    day.rules.resize(id + 1, (0, 0, 0, 0));
                }
                let r = &mut day.rules[id];
                r.0 += n;
                if let Some((compliant, evaluated)) = counts {
                    r.1 += compliant;
                    r.2 += evaluated;
                    r.3 += 1;
                }
            }
        }
        self.worst.extend(f.worst);
        keep_worst(&mut self.worst);
        self.rows.push(f.row);
    }

    /// The roll-up, with the organization's findings and provenance.
    pub fn finish(self, mut provenance: OrgProvenance, problems: Vec<Problem>) -> OrgTimeline {
        let names: Vec<String> = self.rules.iter().map(|r| r.rule.clone()).collect();
        let days = self
            .days
            .iter()
            .enumerate()
            .map(|(i, d)| {
                let count = |id: usize| d.rules.get(id).copied().unwrap_or_default();
                OrgDay {
                    date: self.period.from + chrono::Days::new(i as u64),
                    trails_reported: d.reported,
                    trails_without_report: d.without,
                    total: d.rules.iter().map(|r| r.0).sum(),
                    by_rule: names
                        .iter()
                        .enumerate()
                        .map(|(id, n)| (n.clone(), count(id).0))
                        .collect(),
                    compliance_by_rule: names
                        .iter()
                        .enumerate()
                        .map(|(id, n)| {
                            let (_, compliant, evaluated, trails) = count(id);
                            let percent = RuleCounts {
                                compliant,
                                non_compliant: evaluated - compliant,
                            }
                            .percent();
                            (
                                n.clone(),
                                OrgCompliance {
                                    compliant,
                                    evaluated,
                                    percent,
                                    trails,
                                },
                            )
                        })
                        .collect(),
                }
            })
            .collect();
        let rule_totals = self
            .rules
            .into_iter()
            .map(|mut r| {
                if r.remediated_windows > 0 {
                    let mean = r.remediation_days as f64 / r.remediated_windows as f64;
                    r.mean_days_to_remediate = Some((mean * 100.0).round() / 100.0);
                }
                r
            })
            .collect();
        for row in &self.rows {
            provenance.trails.push(super::TrailReports {
                account: row.trail.account.clone(),
                region: row.trail.region.clone(),
                first_report: row.first_report.clone(),
                newest_report: row.newest_report.clone(),
            });
        }
        provenance.reports_checked = self.rows.iter().map(|r| r.reports_checked).sum();
        let summary = OrgTimelineSummary {
            trails: self.rows.len(),
            trails_clean: self.rows.iter().filter(|r| r.clean()).count(),
            trails_without_full_evidence: self
                .rows
                .iter()
                .filter(|r| r.evidence != "complete")
                .count(),
            trails_with_chain_problems: self.rows.iter().filter(|r| r.chain_problems > 0).count(),
            trails_with_gaps: self
                .rows
                .iter()
                .filter(|r| r.cadence_gaps > 0 || r.days_without_report > 0)
                .count(),
            trails_unreadable: self
                .rows
                .iter()
                .filter(|r| r.evidence == "unreadable")
                .count(),
            organization_problems: problems.len(),
            findings: problems.len() + self.rows.iter().map(|r| r.findings).sum::<usize>(),
            reports_checked: provenance.reports_checked,
        };
        let evidence = evidence(&self.period.label, &self.rows, &problems);
        OrgTimeline {
            format: "auditor-timeline-organization/1",
            source: provenance.source.clone(),
            provenance,
            period: self.period,
            evidence,
            summary,
            problems,
            by_trail: self.rows,
            rules: names,
            rule_totals,
            days,
            worst_exposures: self.worst,
            unplaced_keys: self.unplaced_keys,
        }
    }
}

/// The organization's evidence: complete only when every trail's is and no expected account or
/// region lacks a trail; otherwise one statement naming what is missing.
fn evidence(label: &str, rows: &[TrailRow], problems: &[Problem]) -> Evidence {
    let lacking: Vec<&TrailRow> = rows.iter().filter(|r| r.evidence != "complete").collect();
    let absent: Vec<&Problem> = problems
        .iter()
        .filter(|p| p.code == "missing-account" || p.code == "missing-trail")
        .collect();
    if lacking.is_empty() && absent.is_empty() {
        return Evidence {
            state: "complete",
            statement: None,
        };
    }
    let mut parts = Vec::new();
    if !lacking.is_empty() {
        let mut named: Vec<String> = lacking
            .iter()
            .take(NAMED_IN_STATEMENT)
            .map(|r| format!("{} ({})", r.trail.label(), r.evidence))
            .collect();
        if lacking.len() > NAMED_IN_STATEMENT {
            named.push(format!("and {} more", lacking.len() - NAMED_IN_STATEMENT));
        }
        parts.push(format!(
            "{} of {} trails lack evidence for part or all of the period: {}",
            lacking.len(),
            rows.len(),
            named.join(", ")
        ));
    }
    if !absent.is_empty() {
        let mut named: Vec<&str> = absent
            .iter()
            .take(NAMED_IN_STATEMENT)
            .map(|p| p.key.as_str())
            .collect();
        let more = absent.len().saturating_sub(NAMED_IN_STATEMENT);
        let more = if more > 0 {
            format!(", and {more} more")
        } else {
            String::new()
        };
        named.sort_unstable();
        parts.push(format!(
            "{} expected account(s) or region(s) have no trail at all: {}{more}",
            absent.len(),
            named.join(", ")
        ));
    }
    let none = !rows.iter().any(|r| r.days_with_report > 0);
    Evidence {
        state: if none { "none" } else { "partial" },
        statement: Some(format!(
            "NO EVIDENCE for part of the organization in {label}: {}",
            parts.join("; ")
        )),
    }
}
