//! The organization roll-up's tables and sentences, in the one row model of [`super::rows`]: the
//! HTML index page, the Markdown and the CSV sections take them from here and only lay them out.
//! Each trail's own detail comes from [`super::rows::Rows`] as for one trail; as CSV data its
//! rows get the trail's account and region in front ([`trail_sections`]).

use chrono::NaiveDate;

use super::rows::{
    Cell, Columns, ProvenanceLine, Remediation, Rows, Series, Table, count, id, summary_table, text,
};
use crate::chain::{Problem, ReportRef};
use crate::organization::TrailName;
use crate::organization::TrailReports;
use crate::organization::rollup::{OrgDay, OrgExposure, OrgTimeline, RuleTotals, TrailRow};
use crate::timeline::{DayState, Timeline};

/// Everything the roll-up shows, derived from one [`OrgTimeline`].
pub struct OrgRows<'t> {
    t: &'t OrgTimeline,
    by_rule: Vec<Series<'t>>,
}

fn report_cell(r: &Option<ReportRef>) -> Cell<'_> {
    match r {
        Some(r) if r.sha256.is_empty() => id(format!("{} (not read)", r.key)),
        Some(r) => id(format!("{} (SHA-256 {})", r.key, r.sha256)),
        None => text("(none)"),
    }
}

impl<'t> OrgRows<'t> {
    pub fn new(t: &'t OrgTimeline) -> Self {
        let by_rule = t
            .rules
            .iter()
            .map(|name| Series {
                name,
                values: t
                    .days
                    .iter()
                    .map(|d| d.by_rule.get(name).copied().unwrap_or(0))
                    .collect(),
            })
            .collect();
        OrgRows { t, by_rule }
    }

    /// The statement of missing evidence, when the organization lacks any.
    pub fn no_evidence(&self) -> Option<&'t str> {
        self.t.evidence.statement.as_deref()
    }

    /// One line on the organization: trails clean, with problems, without evidence, missing.
    pub fn verdict(&self) -> String {
        let s = &self.t.summary;
        if s.findings == 0 {
            return format!(
                "Every trail intact and reporting every day: {} trails, {} reports checked",
                s.trails, s.reports_checked
            );
        }
        format!(
            "FINDINGS: {} of {} trails clean; {} with chain problems, {} with cadence gaps or days without a report, {} without evidence for part of the period, {} unreadable; {} finding(s) of the organization itself",
            s.trails_clean,
            s.trails,
            s.trails_with_chain_problems,
            s.trails_with_gaps,
            s.trails_without_full_evidence,
            s.trails_unreadable,
            s.organization_problems
        )
    }

    /// True when nothing is wrong anywhere in the organization.
    pub fn clean(&self) -> bool {
        self.t.summary.findings == 0
    }

    /// The headline figures, as (label, value).
    pub fn key_figures(&self) -> [(&'static str, String); 5] {
        let sum = |f: fn(&RuleTotals) -> u64| self.t.rule_totals.iter().map(f).sum::<u64>();
        let s = &self.t.summary;
        [
            ("Trails clean", format!("{} / {}", s.trails_clean, s.trails)),
            ("Open at period end", sum(|r| r.open_at_end).to_string()),
            ("Opened in period", sum(|r| r.opened).to_string()),
            ("Resolved in period", sum(|r| r.resolved).to_string()),
            ("Organization findings", s.organization_problems.to_string()),
        ]
    }

    /// What the roll-up is drawn from, one row per item.
    pub fn provenance(&self) -> Table<'_, 't, ProvenanceLine> {
        let columns = Columns::new()
            .people("Provenance", |(label, _, _): ProvenanceLine| text(label))
            .data("field", |(_, field, _)| text(field))
            .col("Value", "value", |(_, field, value)| match field {
                "source" => id(value),
                _ => text(value),
            });
        Table::build(
            "provenance",
            "Provenance",
            columns,
            self.t.provenance.lines().into_iter(),
            usize::MAX,
        )
    }

    /// Every trail's first and newest report checked: the rest of the provenance.
    pub fn trail_reports(&self) -> Table<'_, 't, &'t TrailReports> {
        let sha = |r: &'t Option<ReportRef>| {
            r.as_ref()
                .map_or_else(|| text(""), |r| id(r.sha256.as_str()))
        };
        let key =
            |r: &'t Option<ReportRef>| r.as_ref().map_or_else(|| text(""), |r| id(r.key.as_str()));
        let columns = Columns::new()
            .col("Account", "account", |r: &'t TrailReports| text(&r.account))
            .col("Region", "region", |r| text(&r.region))
            .people("First report", |r| report_cell(&r.first_report))
            .data("first_report", move |r| key(&r.first_report))
            .data("first_sha256", move |r| sha(&r.first_report))
            .people("Newest report", |r| report_cell(&r.newest_report))
            .data("newest_report", move |r| key(&r.newest_report))
            .data("newest_sha256", move |r| sha(&r.newest_report));
        Table::build(
            "trail_reports",
            "Each trail's first and newest report checked",
            columns,
            self.t.provenance.trails.iter(),
            usize::MAX,
        )
    }

    /// The organization's figures, one per row (data only).
    pub fn summary(&self) -> Table<'_, 't, (&'static str, Cell<'t>)> {
        let t = self.t;
        let (s, p) = (&t.summary, &t.period);
        let through = p.through.map_or_else(|| text(""), Cell::Date);
        let fields: [(&'static str, Cell<'t>); 15] = [
            ("source", text(&t.source)),
            ("period", text(&p.label)),
            ("from", Cell::Date(p.from)),
            ("to", Cell::Date(p.to)),
            ("through", through),
            ("evidence", text(t.evidence.state)),
            (
                "evidence_statement",
                text(t.evidence.statement.as_deref().unwrap_or_default()),
            ),
            ("trails", count(s.trails)),
            ("trails_clean", count(s.trails_clean)),
            (
                "trails_with_chain_problems",
                count(s.trails_with_chain_problems),
            ),
            ("trails_with_gaps", count(s.trails_with_gaps)),
            (
                "trails_without_full_evidence",
                count(s.trails_without_full_evidence),
            ),
            ("trails_unreadable", count(s.trails_unreadable)),
            ("organization_problems", count(s.organization_problems)),
            ("reports_checked", count(s.reports_checked)),
        ];
        summary_table(fields)
    }

    /// One row per account and region.
    pub fn trails(&self) -> Table<'_, 't, &'t TrailRow> {
        let columns = Columns::new()
            .col("Account", "account", |r: &'t TrailRow| {
                text(&r.trail.account)
            })
            .col("Name", "name", |r| {
                text(r.trail.name.as_deref().unwrap_or_default())
            })
            .col("Region", "region", |r| text(&r.trail.region))
            .col("Evidence", "evidence", |r| text(r.evidence))
            .num("Reports", "reports_checked", |r| count(r.reports_checked))
            .people("Chain", |r| {
                text(match (r.evidence, r.chain_intact) {
                    ("unreadable", _) => "not read".to_owned(),
                    (_, true) => "intact".to_owned(),
                    (_, false) => format!("BROKEN ({})", r.chain_problems),
                })
            })
            .data("chain_intact", |r| Cell::Flag(r.chain_intact))
            .data("chain_problems", |r| count(r.chain_problems))
            .num("Gaps", "cadence_gaps", |r| count(r.cadence_gaps))
            .num("Days without report", "days_without_report", |r| {
                count(r.days_without_report)
            })
            .data("days_with_report", |r| count(r.days_with_report))
            .data("days_with_monitoring_issues", |r| {
                count(r.days_with_monitoring_issues)
            })
            .data("open_at_start", |r| count(r.open_at_start))
            .num("Open at end", "open_at_end", |r| count(r.open_at_end))
            .num("Opened", "opened", |r| count(r.opened))
            .num("Resolved", "resolved", |r| count(r.resolved))
            .num("Findings", "findings", |r| count(r.findings))
            .data("evidence_statement", |r| {
                text(r.statement.as_deref().unwrap_or_default())
            })
            .data("source", |r| id(r.source.as_str()));
        Table::build(
            "trails",
            "Per account and region",
            columns,
            self.t.by_trail.iter(),
            usize::MAX,
        )
        .when_empty("No trail in the bucket.")
    }

    /// The rules over every trail.
    pub fn rule_totals(&self) -> Table<'_, 't, &'t RuleTotals> {
        let columns = Columns::new()
            .col("Rule", "rule", |r: &'t RuleTotals| text(&r.rule))
            .num("Trails", "trails", |r| count(r.trails))
            .num("Open at start", "open_at_start", |r| count(r.open_at_start))
            .num("Open at end", "open_at_end", |r| count(r.open_at_end))
            .remediation(Remediation::from);
        Table::build(
            "rule_totals",
            "Per rule, over every trail",
            columns,
            self.t.rule_totals.iter(),
            usize::MAX,
        )
    }

    /// The organization's daily totals: per rule the open findings and the compliance over the
    /// trails with a figure; the trails with and without a report that day.
    pub fn daily(&self) -> Table<'_, 't, &'t OrgDay> {
        let mut columns = Columns::new()
            .col("Date", "date", |d: &'t OrgDay| Cell::Date(d.date))
            .num("Trails reporting", "trails_reported", |d| {
                count(d.trails_reported)
            })
            .num("Trails without report", "trails_without_report", |d| {
                count(d.trails_without_report)
            })
            .data("total", |d| count(d.total));
        for name in &self.t.rules {
            let name = name.as_str();
            let compliance = move |d: &'t OrgDay| d.compliance_by_rule.get(name);
            columns = columns
                .num(
                    "Non-compliant",
                    &format!("rule:{name}"),
                    move |d: &'t OrgDay| count(d.by_rule.get(name).copied().unwrap_or(0)),
                )
                .group(name)
                .num("Compliant", &format!("compliance_pct:{name}"), move |d| {
                    Cell::Percent(compliance(d).and_then(|c| c.percent))
                })
                .group(name)
                .data(&format!("compliant:{name}"), move |d| {
                    compliance(d).map_or_else(|| text(""), |c| count(c.compliant))
                })
                .data(&format!("evaluated:{name}"), move |d| {
                    compliance(d).map_or_else(|| text(""), |c| count(c.evaluated))
                })
                .data(&format!("trails_with_figure:{name}"), move |d| {
                    compliance(d).map_or_else(|| count(0), |c| count(c.trails))
                });
        }
        let columns = columns.people("Total", |d| count(d.total)).numeric();
        Table::build(
            "daily_totals",
            "Open findings per day, over every trail",
            columns,
            self.t.days.iter(),
            usize::MAX,
        )
    }

    /// The days of the series, and for each whether some trail had no report (a grey band).
    pub fn days(&self) -> (Vec<NaiveDate>, Vec<bool>) {
        self.t
            .days
            .iter()
            .map(|d| (d.date, d.trails_without_report > 0))
            .unzip()
    }

    /// The organization's daily chart per rule.
    pub fn series(&self) -> &[Series<'t>] {
        &self.by_rule
    }

    /// The longest exposures over every trail.
    pub fn worst_exposures(&self) -> Table<'_, 't, &'t OrgExposure> {
        let columns = Columns::new()
            .col("Account", "account", |e: &'t OrgExposure| {
                text(&e.trail.account)
            })
            .col("Region", "region", |e| text(&e.trail.region))
            .col("Rule", "rule", |e| text(&e.rule))
            .col("Resource type", "resource_type", |e| text(&e.resource_type))
            .col("Resource id", "resource_id", |e| id(e.resource_id.as_str()))
            .col("First seen", "first_seen", |e| Cell::Since {
                date: e.first_seen,
                before_period: e.opened_before_period,
            })
            .data("opened_before_period", |e| {
                Cell::Flag(e.opened_before_period)
            })
            .col("Resolved", "resolved_at", |e| Cell::Resolved(e.resolved_at))
            .num("Days non-compliant", "days_non_compliant", |e| {
                count(e.days_non_compliant)
            })
            .num("Reopened", "times_reopened", |e| count(e.times_reopened));
        Table::build(
            "worst_exposures",
            "The longest exposures in the period, over every trail",
            columns,
            self.t.worst_exposures.iter(),
            usize::MAX,
        )
        .when_empty("No finding was open in the period in any trail.")
    }

    /// The organization's own findings.
    pub fn problems(&self) -> Table<'_, 't, &'t Problem> {
        let columns = Columns::new()
            .col("Finding", "code", |p: &'t Problem| text(p.code))
            .col("Key", "key", |p| id(p.key.as_str()))
            .col("Detail", "detail", |p| text(&p.detail))
            .prose();
        Table::build(
            "organization_problems",
            "Findings of the organization itself",
            columns,
            self.t.problems.iter(),
            usize::MAX,
        )
        .when_empty(
            "None: every account listed has its trails, no trail is unexpected, nothing lies outside the trails.",
        )
    }

    /// How to read the daily totals.
    pub fn daily_note(&self) -> &'static str {
        "Each day adds up every trail's figures: a trail without a report that day counts with its carried state (the trails without a report are counted beside it). Compliant: compliant over evaluated, summed over the trails with a figure that day, rounded down to 0.1%."
    }
}

/// One CSV section of a trail's detail: its name, header and rows.
pub type TrailSection = (&'static str, Vec<String>, Vec<Vec<String>>);

/// A table of one trail as a CSV section, each row with the trail's account and region in front.
fn section<T: Clone>(
    name: &'static str,
    trail: &TrailName,
    table: &Table<'_, '_, T>,
) -> TrailSection {
    let mut header = vec!["account".to_owned(), "region".to_owned()];
    header.extend(table.fields().into_iter().map(str::to_owned));
    let rows = table
        .data_rows()
        .map(|fields| {
            let mut row = vec![
                super::rows::neutralise(&trail.account),
                super::rows::neutralise(&trail.region),
            ];
            row.extend(fields);
            row
        })
        .collect();
    (name, header, rows)
}

/// The CSV sections of a trail's detail, in the same order for every trail: its daily series
/// (a row per day and rule, so every trail has the same columns), exposure windows, chain
/// problems, cadence gaps and monitoring days.
pub fn trail_sections(trail: &TrailName, t: &Timeline) -> Vec<TrailSection> {
    let rows = Rows::new(t);
    vec![
        section("trail_daily", trail, &daily_long(t)),
        section(
            "trail_exposure_windows",
            trail,
            &rows.exposure_windows(usize::MAX),
        ),
        section(
            "trail_chain_problems",
            trail,
            &rows.chain_problems(usize::MAX),
        ),
        section("trail_cadence_gaps", trail, &rows.cadence_gaps(usize::MAX)),
        section("trail_monitoring", trail, &rows.monitoring(usize::MAX)),
    ]
}

/// The names of the sections [`trail_sections`] gives, in order.
pub const TRAIL_SECTIONS: [&str; 5] = [
    "trail_daily",
    "trail_exposure_windows",
    "trail_chain_problems",
    "trail_cadence_gaps",
    "trail_monitoring",
];

/// A trail's daily series as one row per day and rule, so every trail shares the columns.
fn daily_long(t: &Timeline) -> Table<'_, '_, (usize, usize)> {
    let days = &t.days;
    let rules = &t.rules;
    let compliance =
        move |(d, r): (usize, usize)| days[d].compliance_by_rule.get(&rules[r]).copied().flatten();
    let columns = Columns::new()
        .data("date", |(d, _): (usize, usize)| Cell::Date(days[d].date))
        .data("state", |(d, _)| Cell::Day(days[d].state))
        .data("gap", |(d, _)| {
            Cell::Flag(days[d].state != DayState::Reported)
        })
        .data("report", |(d, _)| {
            id(days[d].report.as_deref().unwrap_or_default())
        })
        .data("rule", |(_, r)| text(rules[r].as_str()))
        .data("non_compliant", |(d, r)| {
            count(days[d].by_rule.get(&rules[r]).copied().unwrap_or(0))
        })
        .data("compliance_pct", move |x| {
            Cell::Percent(compliance(x).and_then(|c| c.percent))
        })
        .data("compliant", move |x| {
            compliance(x).map_or_else(|| text(""), |c| count(c.compliant))
        })
        .data("evaluated", move |x| {
            compliance(x).map_or_else(|| text(""), |c| count(c.evaluated))
        });
    let items: Vec<(usize, usize)> = (0..days.len())
        .flat_map(|d| (0..rules.len()).map(move |r| (d, r)))
        .collect();
    Table::build("trail_daily", "", columns, items.into_iter(), usize::MAX)
}
