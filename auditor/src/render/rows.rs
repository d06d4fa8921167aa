//! The one row model behind the HTML, Markdown and CSV formats. Every table of the timeline (its
//! caption, columns and cells), every daily series and every sentence the formats share is derived
//! here once; the formats only lay the result out in their own syntax.
//!
//! A `Cell` keeps its value typed and decides in one place how it reads for people (HTML,
//! Markdown) and how it is written as data (CSV): that is where the wording of a cell lives. A
//! `Column` derives its cell from each item and says who reads it: most columns are read by both,
//! a few only by people (a cell that summarises others) or only as data (a flag people read from
//! another cell). [`Table::for_people`] and [`Table::data_rows`] turn a table into text cells for
//! the two audiences.
//!
//! Wording chosen for auditors, the same in every format: a finding already open when the period
//! began reads "2026-07-01 (or earlier)" (the date stays first, the qualifier is set apart the way
//! a table cell qualifies a value); an open finding's resolution reads "open"; a missing figure
//! reads "—" (a day without evidence has no compliance percentage: never 100 %, never 0 %);
//! headings are in sentence case.
//!
//! Exceptions (schema 1.1): for people, "Non-compliant" counts the open findings that are not
//! excepted, and "Excepted" those under an exception in force, side by side; as data, `rule:<name>`
//! keeps counting every open finding (excepted ones included, as the reports' `counts.nonCompliant`
//! does) and `excepted:<name>` gives the excepted ones, so a spreadsheet sees the same figures in
//! a trail of 1.0 reports and one of 1.1 reports. The columns about exceptions are shown to people
//! only when the period has a report that records exceptions; the data always has them.
//!
//! Row limits: a table cut for people says how many rows were left out and where they are. The
//! exposure windows are cut per rule, never as a whole, so one rule with many findings cannot
//! hide the others.
//!
//! Hostile content: every text cell may hold what a report, an object key or the command line
//! put there. As data (CSV), a text cell that begins with `=`, `+`, `-`, `@`, a tab or a carriage
//! return is prefixed with a single quote, as the OWASP guidance on CSV injection advises, so a
//! spreadsheet shows it as text instead of evaluating it as a formula; numbers, dates and flags
//! the auditor writes itself are never text cells and are written as they are. For people, the
//! HTML template escapes every value and the Markdown format escapes HTML and Markdown syntax.

use std::borrow::Cow;
use std::collections::BTreeMap;

use chrono::{DateTime, Datelike, NaiveDate, Utc};

mod exceptions;

use crate::chain::{CadenceGap, Problem};
use crate::excepted::ExceptedSpan;
use crate::organization::rollup::RuleTotals;
use crate::report::MonitoringIssue;
use crate::timeline::{Day, DayState, Exposure, MonitoringDay, RuleStats, Timeline, Window};

/// One line of a daily chart and one column of the daily table: open findings per day.
#[derive(Clone)]
pub struct Series<'t> {
    pub name: &'t str,
    pub values: Vec<u64>,
}

/// One provenance item: label for people, field name as data, value.
pub type ProvenanceLine = (&'static str, &'static str, String);

/// A daily chart: its element id, its title and its lines.
pub struct Chart<'r, 't> {
    pub id: &'static str,
    pub title: &'static str,
    pub series: &'r [Series<'t>],
}

/// Periods up to this many days get a row per day in the daily table for people; longer ones a row
/// per month end (the CSV and JSON outputs always have every day).
pub const DAILY_ROWS_MAX: usize = 100;

/// Who reads a column.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Shown {
    Both,
    People,
    Data,
}

/// One column of a table under construction: its heading for people, its field name as data,
/// whether it holds numbers (right-aligned for people), who reads it, and how its cell is derived
/// from one item. Cells come from their column, so a row cannot fall out of step with the header.
struct Column<'c, 't, T> {
    header: Header,
    cell: Box<dyn Fn(T) -> Cell<'t> + 'c>,
}

/// What a table keeps of a column once its cells are derived.
struct Header {
    heading: String,
    field: String,
    numeric: bool,
    shown: Shown,
    /// The heading over a run of columns (a rule's figures), for people.
    group: Option<String>,
    /// Free text that may run long (a detail, a list of dates): wrapped for people, where every
    /// other cell keeps to one line.
    prose: bool,
}

/// A rule's remediation figures, in one trail ([`RuleStats`]) or over every trail of an
/// organization ([`RuleTotals`]).
#[derive(Clone, Copy)]
pub(super) struct Remediation {
    opened: u64,
    resolved: u64,
    reopened: u64,
    mean_days: Option<f64>,
    max_days: Option<i64>,
    windows: u64,
}

/// Both carry the figures under the same names.
macro_rules! remediation_of {
    ($($stats:ty),+) => {$(
        impl From<&$stats> for Remediation {
            fn from(r: &$stats) -> Self {
                Remediation {
                    opened: r.opened,
                    resolved: r.resolved,
                    reopened: r.reopened,
                    mean_days: r.mean_days_to_remediate,
                    max_days: r.max_days_to_remediate,
                    windows: r.remediated_windows,
                }
            }
        }
    )+};
}

remediation_of!(RuleStats, RuleTotals);

/// A document's figures as a data table of `field,value` rows, the CSV section `summary`.
pub(super) fn summary_table<'c, 't, const N: usize>(
    fields: [(&'static str, Cell<'t>); N],
) -> Table<'c, 't, (&'static str, Cell<'t>)> {
    let columns = Columns::new()
        .data("field", |(k, _): (&str, Cell<'t>)| text(k))
        .data("value", |(_, v)| v);
    Table::build(
        "summary",
        "Summary",
        columns,
        fields.into_iter(),
        usize::MAX,
    )
}

/// The columns of one table over items of type `T`, added in order.
pub(super) struct Columns<'c, 't, T>(Vec<Column<'c, 't, T>>);

impl<'c, 't, T> Columns<'c, 't, T> {
    pub(super) fn new() -> Self {
        Columns(Vec::new())
    }

    fn add(
        mut self,
        shown: Shown,
        heading: &str,
        field: &str,
        cell: impl Fn(T) -> Cell<'t> + 'c,
    ) -> Self {
        self.0.push(Column {
            header: Header {
                heading: heading.to_owned(),
                field: field.to_owned(),
                numeric: false,
                shown,
                group: None,
                prose: false,
            },
            cell: Box::new(cell),
        });
        self
    }

    /// A column read by people and written as data.
    pub(super) fn col(self, heading: &str, field: &str, cell: impl Fn(T) -> Cell<'t> + 'c) -> Self {
        self.add(Shown::Both, heading, field, cell)
    }

    /// A numeric column read by people and written as data.
    pub(super) fn num(self, heading: &str, field: &str, cell: impl Fn(T) -> Cell<'t> + 'c) -> Self {
        self.col(heading, field, cell).numeric()
    }

    /// A column only people read.
    pub(super) fn people(self, heading: &str, cell: impl Fn(T) -> Cell<'t> + 'c) -> Self {
        self.add(Shown::People, heading, "", cell)
    }

    /// A column only written as data.
    pub(super) fn data(self, field: &str, cell: impl Fn(T) -> Cell<'t> + 'c) -> Self {
        self.add(Shown::Data, "", field, cell)
    }

    /// Marks the last column added as numeric.
    pub(super) fn numeric(mut self) -> Self {
        if let Some(c) = self.0.last_mut() {
            c.header.numeric = true;
        }
        self
    }

    /// Marks the last column added as free text that may run long.
    pub(super) fn prose(mut self) -> Self {
        if let Some(c) = self.0.last_mut() {
            c.header.prose = true;
        }
        self
    }

    /// Puts the last column added under the heading `group`.
    pub(super) fn group(mut self, group: &str) -> Self {
        if let Some(c) = self.0.last_mut() {
            c.header.group = Some(group.to_owned());
        }
        self
    }
}

impl<'c, 't, T: 'c> Columns<'c, 't, T> {
    /// A rule's remediation columns, the same in one trail's table and the organization's.
    pub(super) fn remediation(self, of: fn(T) -> Remediation) -> Self {
        self.num("Opened", "opened", move |x| count(of(x).opened))
            .num("Resolved", "resolved", move |x| count(of(x).resolved))
            .num("Reopened", "reopened", move |x| count(of(x).reopened))
            .num(
                "Mean days to remediate",
                "mean_days_to_remediate",
                move |x| Cell::Figure(of(x).mean_days),
            )
            .num("Max days to remediate", "max_days_to_remediate", move |x| {
                Cell::Figure(of(x).max_days.map(|d| d as f64))
            })
            .data("remediated_windows", move |x| count(of(x).windows))
    }
}

/// One value of a table, typed until a format asks for its text. Formats never read a cell
/// themselves: [`Table::for_people`] and [`Table::data_rows`] do.
#[derive(Clone)]
pub enum Cell<'t> {
    /// Words or a name, the same for people and as data; neutralised as data when it could be
    /// read as a formula.
    Text(Cow<'t, str>),
    /// A number the auditor wrote itself: never neutralised.
    Number(String),
    /// An identifier people may copy (an object key, a resource id): monospace for people;
    /// neutralised as data like text.
    Id(Cow<'t, str>),
    /// A figure that may be unknown: `—` for people, empty as data.
    Figure(Option<f64>),
    /// A percentage that may be unknown: `97.5%` or `—` for people, `97.5` or empty as data.
    Percent(Option<f64>),
    /// The n-th of m exposure windows of a finding: `2 of 3` for people, `2` as data.
    Nth {
        n: usize,
        of: usize,
    },
    Date(NaiveDate),
    /// The day a finding was first seen or opened. For a finding already open in the report before
    /// the period that day is the period start, which people read as "(or earlier)".
    Since {
        date: NaiveDate,
        before_period: bool,
    },
    /// The day a finding was resolved: "open" for people while it is not, empty as data.
    Resolved(Option<NaiveDate>),
    Flag(bool),
    /// A report time: `2026-07-03 06:00:00 UTC` for people, RFC 3339 as data.
    Time(DateTime<Utc>),
    /// Days without a report: comma-separated for people, space-separated as data.
    Dates(&'t [NaiveDate]),
    /// Where a day's figures come from: "yes" or "no report (…)" for people, the state as data.
    Day(DayState),
    /// A value the source does not give (a reason no verified register holds): `—` for people,
    /// empty as data.
    Unknown,
}

impl Cell<'_> {
    fn for_people(&self) -> String {
        match self {
            Cell::Text(s) | Cell::Id(s) => s.to_string(),
            Cell::Number(n) => n.clone(),
            Cell::Figure(v) => v.map_or_else(|| "—".to_owned(), |v| v.to_string()),
            Cell::Percent(v) => v.map_or_else(|| "—".to_owned(), |v| format!("{v:.1}%")),
            Cell::Nth { n, of } => format!("{n} of {of}"),
            Cell::Date(d)
            | Cell::Since {
                date: d,
                before_period: false,
            } => d.to_string(),
            Cell::Since {
                date,
                before_period: true,
            } => format!("{date} (or earlier)"),
            Cell::Resolved(d) => d.map_or_else(|| "open".to_owned(), |d| d.to_string()),
            Cell::Time(t) => t.to_string(),
            Cell::Dates(ds) => join(ds, ", "),
            Cell::Flag(b) => b.to_string(),
            Cell::Day(DayState::Reported) => "yes".to_owned(),
            Cell::Day(DayState::Carried) => "no report (carried)".to_owned(),
            Cell::Day(DayState::Unknown) => "no report (unknown)".to_owned(),
            Cell::Unknown => "—".to_owned(),
        }
    }

    fn as_data(&self) -> String {
        match self {
            Cell::Text(s) | Cell::Id(s) => neutralise(s),
            Cell::Number(n) => n.clone(),
            Cell::Figure(v) => v.map_or_else(String::new, |v| v.to_string()),
            Cell::Percent(v) => v.map_or_else(String::new, |v| format!("{v:.1}")),
            Cell::Nth { n, .. } => n.to_string(),
            Cell::Date(d) | Cell::Since { date: d, .. } => d.to_string(),
            Cell::Resolved(d) => d.map_or_else(String::new, |d| d.to_string()),
            Cell::Flag(b) => b.to_string(),
            Cell::Time(t) => t.to_rfc3339(),
            Cell::Dates(ds) => join(ds, " "),
            Cell::Day(DayState::Reported) => "reported".to_owned(),
            Cell::Day(DayState::Carried) => "carried".to_owned(),
            Cell::Day(DayState::Unknown) => "unknown".to_owned(),
            Cell::Unknown => String::new(),
        }
    }
}

/// A text cell as CSV data: one that a spreadsheet would evaluate (it begins with `=`, `+`, `-`,
/// `@`, a tab or a carriage return) gets a leading single quote (OWASP, "CSV Injection").
pub fn neutralise(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_owned()
    }
}

fn join(dates: &[NaiveDate], sep: &str) -> String {
    let days: Vec<String> = dates.iter().map(NaiveDate::to_string).collect();
    days.join(sep)
}

pub(super) fn text<'t>(s: impl Into<Cow<'t, str>>) -> Cell<'t> {
    Cell::Text(s.into())
}

pub(super) fn count(n: impl ToString) -> Cell<'static> {
    Cell::Number(n.to_string())
}

pub(super) fn id<'t>(s: impl Into<Cow<'t, str>>) -> Cell<'t> {
    Cell::Id(s.into())
}

/// One table of the timeline: its columns and the items of its rows. Cells are derived when a
/// format asks for them, so a long table is written row by row and never held as cells.
pub struct Table<'c, 't, T> {
    /// Section name in the CSV output.
    pub name: &'static str,
    pub caption: &'static str,
    /// What people read instead of an empty table; `None` leaves the table out for them.
    empty: Option<&'static str>,
    columns: Columns<'c, 't, T>,
    items: Vec<T>,
    /// For people: how many rows the row limit left out and where they are, one sentence per
    /// cut (per rule for a table cut per rule).
    more: Vec<String>,
}

impl<'c, 't, T: Clone> Table<'c, 't, T> {
    /// A table of the first `limit` of `items`; the rest are counted as `more`.
    pub(super) fn build<I>(
        name: &'static str,
        caption: &'static str,
        columns: Columns<'c, 't, T>,
        items: I,
        limit: usize,
    ) -> Self
    where
        I: ExactSizeIterator<Item = T>,
    {
        let left_out = items.len().saturating_sub(limit);
        Table {
            name,
            caption,
            empty: None,
            columns,
            more: (left_out > 0)
                .then(|| format!("{left_out} more rows in the JSON and CSV outputs."))
                .into_iter()
                .collect(),
            items: items.take(limit).collect(),
        }
    }

    /// A table of at most `limit` items per group (`group` names an item's group; items of a
    /// group are contiguous), so a cut never hides a whole group; `left_out(group, shown, total)`
    /// says, for each group cut, how many rows were left out and where they are.
    fn build_per_group(
        name: &'static str,
        caption: &'static str,
        columns: Columns<'c, 't, T>,
        items: impl Iterator<Item = T>,
        group: impl Fn(&T) -> &str,
        limit: usize,
        left_out: impl Fn(&str, usize, usize) -> String,
    ) -> Self {
        let mut kept = Vec::new();
        let mut more = Vec::new();
        let mut current: Option<(String, usize)> = None;
        let close = |current: Option<(String, usize)>, more: &mut Vec<String>| {
            if let Some((g, total)) = current.filter(|(_, total)| *total > limit) {
                more.push(left_out(&g, limit, total));
            }
        };
        for item in items {
            let g = group(&item);
            match &mut current {
                Some((name, total)) if name == g => *total += 1,
                _ => {
                    close(current.take(), &mut more);
                    current = Some((g.to_owned(), 1));
                }
            }
            if current.as_ref().is_some_and(|(_, total)| *total <= limit) {
                kept.push(item);
            }
        }
        close(current, &mut more);
        Table {
            name,
            caption,
            empty: None,
            columns,
            more,
            items: kept,
        }
    }

    pub(super) fn when_empty(self, sentence: &'static str) -> Self {
        Table {
            empty: Some(sentence),
            ..self
        }
    }

    fn shown_to(&self, reader: Shown) -> Vec<&Column<'c, 't, T>> {
        let columns = self.columns.0.iter();
        columns
            .filter(|c| c.header.shown == Shown::Both || c.header.shown == reader)
            .collect()
    }

    /// The table as people read it.
    pub fn for_people(&self) -> ReadableTable {
        let columns = self.shown_to(Shown::People);
        ReadableTable {
            caption: self.caption,
            empty: self.empty,
            more: self.more.clone(),
            columns: columns
                .iter()
                .map(|c| Heading {
                    text: c.header.heading.clone(),
                    numeric: c.header.numeric,
                    group: c.header.group.clone(),
                    prose: c.header.prose,
                })
                .collect(),
            rows: self
                .items
                .iter()
                .map(|item| {
                    columns
                        .iter()
                        .map(|c| {
                            let cell = (c.cell)(item.clone());
                            Text {
                                text: cell.for_people(),
                                code: matches!(cell, Cell::Id(_)),
                            }
                        })
                        .collect()
                })
                .collect(),
        }
    }

    /// The field names of the data columns.
    pub fn fields(&self) -> Vec<&str> {
        let columns = self.shown_to(Shown::Data);
        columns.iter().map(|c| c.header.field.as_str()).collect()
    }

    /// The rows as data, one at a time.
    pub fn data_rows(&self) -> impl Iterator<Item = Vec<String>> + '_ {
        let columns = self.shown_to(Shown::Data);
        self.items.iter().map(move |item| {
            columns
                .iter()
                .map(|c| (c.cell)(item.clone()).as_data())
                .collect()
        })
    }
}

/// A column heading for people.
pub struct Heading {
    pub text: String,
    pub numeric: bool,
    /// The heading over a run of columns this one belongs to (a rule's figures).
    pub group: Option<String>,
    /// Free text that may run long: wrapped, where other cells keep to one line.
    pub prose: bool,
}

/// A cell for people; `code` marks an identifier (shown monospace).
pub struct Text {
    pub text: String,
    pub code: bool,
}

/// A table as people read it (HTML, Markdown).
pub struct ReadableTable {
    pub caption: &'static str,
    pub columns: Vec<Heading>,
    pub rows: Vec<Vec<Text>>,
    /// What to say instead of the table when it has no rows; `None`: say nothing.
    pub empty: Option<&'static str>,
    /// The sentences under a table cut by its row limit: how many rows were left out, where.
    pub more: Vec<String>,
}

/// Which days the daily table lists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DayRows {
    Every,
    /// The last day of each month in the series (and the last day of the series).
    MonthEnds,
}

/// What people read instead of an empty findings table when no report speaks for the period.
const NOTHING_KNOWN: &str = "Nothing is known about findings in the period: no report in it (figures are carried, not observed).";

/// Everything the HTML, Markdown and CSV formats show, derived from one [`Timeline`].
pub struct Rows<'t> {
    t: &'t Timeline,
    /// Open findings not excepted, per rule per day, in the order of `Timeline::rules`.
    by_rule: Vec<Series<'t>>,
    /// Open findings per resource type per day, in the order of `Timeline::resource_types`.
    by_type: Vec<Series<'t>>,
    /// The lines of the per-rule chart: `by_rule`, and the excepted findings of all rules when
    /// the period records exceptions.
    rule_chart: Vec<Series<'t>>,
    /// True when a report of the period records exceptions (schema 1.1): people then see the
    /// excepted figures beside the non-compliant ones.
    recorded: bool,
}

/// The exception spans of a window for people and as data: `EXC-1 (2026-07-03 to 2026-07-05)`,
/// several joined by `; `.
fn spans(s: &[ExceptedSpan]) -> String {
    let each: Vec<String> = s
        .iter()
        .map(|s| format!("{} ({} to {})", s.id, s.from, s.to))
        .collect();
    each.join("; ")
}

impl<'t> Rows<'t> {
    pub fn new(t: &'t Timeline) -> Self {
        let series = |names: &'t [String], count: fn(&'t Day) -> &'t BTreeMap<String, u64>| {
            names
                .iter()
                .map(|name| Series {
                    name,
                    values: t
                        .days
                        .iter()
                        .map(|d| count(d).get(name).copied().unwrap_or(0))
                        .collect(),
                })
                .collect()
        };
        let mut by_rule: Vec<Series<'t>> = series(&t.rules, |d| &d.by_rule);
        for s in &mut by_rule {
            for (v, d) in s.values.iter_mut().zip(&t.days) {
                *v = v.saturating_sub(d.excepted_by_rule.get(s.name).copied().unwrap_or(0));
            }
        }
        let recorded = t.exceptions.reports_with_exceptions > 0;
        let mut rule_chart = by_rule.clone();
        if recorded {
            rule_chart.push(Series {
                name: "excepted (all rules)",
                values: t.days.iter().map(|d| d.excepted).collect(),
            });
        }
        Rows {
            t,
            by_rule,
            by_type: series(&t.resource_types, |d| &d.by_resource_type),
            rule_chart,
            recorded,
        }
    }

    /// The plain statement of missing evidence, when the period lacks any: it opens every
    /// format (a red banner in HTML, the first words in Markdown) and is written to stderr.
    pub fn no_evidence(&self) -> Option<&'t str> {
        self.t.evidence.statement.as_deref()
    }

    /// One line on the trail check: the chain verdict and the cadence. A period without a report
    /// is never called intact: there is nothing in it to verify.
    pub fn verdict(&self) -> String {
        let c = &self.t.chain;
        let chain = if self.t.evidence.none() {
            format!(
                "No report in the period: nothing in it can be verified ({} report(s) around it checked)",
                c.reports
            )
        } else if c.intact {
            format!(
                "Trail intact: {} reports checked, every link verified",
                c.reports
            )
        } else {
            format!(
                "Trail BROKEN: {} problem(s) in {} reports checked",
                c.problems.len(),
                c.reports
            )
        };
        let gaps = match (c.gaps.len(), self.t.monitoring.days_without_report) {
            (0, 0) => "a report every day".to_owned(),
            (g, d) => format!("{g} cadence gap(s), {d} day(s) without a report"),
        };
        format!("{chain}; {gaps}")
    }

    /// True when the trail is intact, has no cadence gap, and covers the period.
    pub fn trail_clean(&self) -> bool {
        self.t.chain.intact && self.t.chain.gaps.is_empty() && self.t.evidence.complete()
    }

    /// What the output is drawn from (see [`crate::provenance`]), one row per item.
    pub fn provenance(&self) -> Table<'_, 't, ProvenanceLine> {
        let columns = Columns::new()
            .people("Provenance", |(label, _, _): ProvenanceLine| text(label))
            .data("field", |(_, field, _)| text(field))
            .col("Value", "value", |(_, field, value)| match field {
                "source" | "first_report" | "newest_report" => id(value),
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

    /// The headline figures of the period, as (label, value).
    pub fn key_figures(&self) -> Vec<(&'static str, String)> {
        let sum = |f: fn(&RuleStats) -> u64| {
            self.t
                .rule_stats
                .iter()
                .map(f)
                .fold(0u64, u64::saturating_add)
        };
        let m = &self.t.monitoring;
        let mut figures = vec![("Open at period end", sum(|r| r.open_at_end).to_string())];
        if self.recorded {
            figures.push(("Of those, excepted", sum(|r| r.excepted_at_end).to_string()));
        }
        figures.extend([
            ("Opened in period", sum(|r| r.opened).to_string()),
            ("Resolved in period", sum(|r| r.resolved).to_string()),
            (
                "Days with a report",
                format!("{} / {}", m.days_with_report, m.days_in_series),
            ),
            ("Days monitoring fully on", m.days_monitoring_on.to_string()),
        ]);
        figures
    }

    /// The sentence that opens the "Monitoring stayed on" section.
    pub fn monitoring_summary(&self) -> String {
        let m = &self.t.monitoring;
        format!(
            "{} of {} days had a report; monitoring was fully on for {} of them; {} day(s) showed an issue.",
            m.days_with_report, m.days_in_series, m.days_monitoring_on, m.days_with_issues
        )
    }

    /// How to read the compliance columns of the daily table.
    pub fn compliance_note(&self) -> String {
        let mut s = "Compliant: resources a rule evaluated compliant over all it evaluated (compliant plus non-compliant; not-applicable ones are not evaluated), from the counts of the day's report, rounded down to 0.1% (99.96% reads 99.9%, never 100%). — marks a day without evidence of the rule: no report that day (the non-compliant count is carried), the rule incomplete in it, or nothing evaluated.".to_owned();
        if self.recorded {
            s.push_str(" Non-compliant: open findings without an exception in force that day; Excepted: open findings under one (an exception labels a finding, it never removes it). An excepted finding counts as non-compliant in the compliance figure: an exception is accepted risk, not compliance.");
        }
        s
    }

    /// How to read the exposure windows: the answer to "was this resource compliant on day D?".
    pub fn exposure_note(&self) -> String {
        let mut s = "A finding was non-compliant on a day D when one of its windows has Opened on or before D and Resolved after D (or is open); on a day without a report the state is carried from the last report (see the daily table). Days: the window's days within the period.".to_owned();
        if self.recorded {
            s.push_str(" Excepted days: of those, the days under an exception in force, and which exception (first and last day); from the day after an exception expires the finding is plain non-compliant again.");
        }
        s
    }

    /// The daily charts: per rule (not excepted; with the excepted findings of all rules as one
    /// more line when the period records exceptions) and per resource type.
    pub fn charts(&self) -> [Chart<'_, 't>; 2] {
        [
            Chart {
                id: "by-rule",
                title: if self.recorded {
                    "Non-compliant resources per rule (not excepted), and excepted ones, per day"
                } else {
                    "Non-compliant resources per rule, per day"
                },
                series: &self.rule_chart,
            },
            Chart {
                id: "by-type",
                title: "Non-compliant findings per resource type, per day",
                series: &self.by_type,
            },
        ]
    }

    /// The days of the series and, for each, whether it had no report (a gap).
    pub fn days(&self) -> (Vec<NaiveDate>, Vec<bool>) {
        self.t.days.iter().map(|d| (d.date, d.gap)).unzip()
    }

    /// Period, trail and monitoring figures, one per row (data only).
    pub fn summary(&self) -> Table<'_, 't, (&'static str, Cell<'t>)> {
        let t = self.t;
        let (c, m, p) = (&t.chain, &t.monitoring, &t.period);
        let through = p.through.map_or_else(|| text(""), Cell::Date);
        let evidence = text(t.evidence.statement.as_deref().unwrap_or_default());
        let x = &t.exceptions;
        let fields: [(&'static str, Cell<'t>); 18] = [
            ("source", text(&t.source)),
            ("period", text(&p.label)),
            ("from", Cell::Date(p.from)),
            ("to", Cell::Date(p.to)),
            ("through", through),
            ("evidence", text(t.evidence.state)),
            ("evidence_statement", evidence),
            ("chain_intact", Cell::Flag(c.intact)),
            ("reports_checked", count(c.reports)),
            ("chain_problems", count(c.problems.len())),
            ("cadence_gaps", count(c.gaps.len())),
            ("days_with_report", count(m.days_with_report)),
            ("days_without_report", count(m.days_without_report)),
            ("days_with_monitoring_issues", count(m.days_with_issues)),
            ("reports_with_exceptions", count(x.reports_with_exceptions)),
            (
                "reports_without_exceptions",
                count(x.reports_without_exceptions),
            ),
            ("exceptions_in_force", count(x.in_force.len())),
            (
                "exceptions_expired_while_open",
                count(x.expired_while_open.len()),
            ),
        ];
        summary_table(fields)
    }

    /// Which days the daily table shows people: every day up to [`DAILY_ROWS_MAX`], else month
    /// ends.
    pub fn daily_rows_for_people(&self) -> DayRows {
        if self.t.days.len() <= DAILY_ROWS_MAX {
            DayRows::Every
        } else {
            DayRows::MonthEnds
        }
    }

    /// One row per day (or per month end): where the figures come from, and per rule the
    /// findings open and not excepted, the excepted ones (when the period records exceptions)
    /// and the compliance percentage (compliant over evaluated, from the counts of the day's
    /// report; `—` on a day without evidence of the rule), then the totals; as data also the
    /// report key, every open finding per rule (`rule:`, excepted ones included) and the excepted
    /// ones, each rule's compliant and evaluated counts and the open findings per resource type.
    pub fn daily(&self, which: DayRows) -> Table<'_, 't, usize> {
        let days = &self.t.days;
        let mut columns = Columns::new()
            .col("Date", "date", |i: usize| Cell::Date(days[i].date))
            .col("Report", "state", |i| Cell::Day(days[i].state))
            .data("gap", |i| Cell::Flag(days[i].gap))
            .data("report", |i| {
                id(days[i].report.as_deref().unwrap_or_default())
            })
            .data("total", |i| count(days[i].total))
            .data("excepted", |i| count(days[i].excepted));
        for s in &self.by_rule {
            let name = s.name;
            let compliance =
                move |i: usize| days[i].compliance_by_rule.get(name).copied().flatten();
            let excepted =
                move |i: usize| count(days[i].excepted_by_rule.get(name).copied().unwrap_or(0));
            columns = columns
                .people("Non-compliant", |i| count(s.values[i]))
                .numeric()
                .group(name)
                .data(&format!("rule:{name}"), move |i| {
                    count(days[i].by_rule.get(name).copied().unwrap_or(0))
                });
            columns = if self.recorded {
                columns
                    .num("Excepted", &format!("excepted:{name}"), excepted)
                    .group(name)
            } else {
                columns.data(&format!("excepted:{name}"), excepted)
            };
            columns = columns
                .num("Compliant", &format!("compliance_pct:{name}"), move |i| {
                    Cell::Percent(compliance(i).and_then(|c| c.percent))
                })
                .group(name)
                .data(&format!("compliant:{name}"), move |i| {
                    compliance(i).map_or_else(|| text(""), |c| count(c.compliant))
                })
                .data(&format!("evaluated:{name}"), move |i| {
                    compliance(i).map_or_else(|| text(""), |c| count(c.evaluated))
                });
        }
        for s in &self.by_type {
            columns = columns.data(&format!("type:{}", s.name), |i| count(s.values[i]));
        }
        let mut columns = columns
            .people("Total", |i| {
                count(days[i].total.saturating_sub(days[i].excepted))
            })
            .numeric();
        if self.recorded {
            columns = columns
                .people("Excepted", |i| count(days[i].excepted))
                .numeric();
        }
        let picked: Vec<usize> = (0..days.len())
            .filter(|&i| {
                which == DayRows::Every
                    || days
                        .get(i + 1)
                        .is_none_or(|n| n.date.month() != days[i].date.month())
            })
            .collect();
        Table::build(
            "daily",
            "Open findings per day",
            columns,
            picked.into_iter(),
            usize::MAX,
        )
    }

    /// Per-rule findings and remediation figures.
    pub fn rules(&self) -> Table<'_, 't, &'t RuleStats> {
        let columns = Columns::new()
            .col("Rule", "rule", |r: &'t RuleStats| text(&r.rule))
            .num("Open at start", "open_at_start", |r| count(r.open_at_start))
            .num("Open at end", "open_at_end", |r| count(r.open_at_end));
        let excepted = |r: &'t RuleStats| count(r.excepted_at_end);
        let columns = if self.recorded {
            columns.num("Of those, excepted", "excepted_at_end", excepted)
        } else {
            columns.data("excepted_at_end", excepted)
        };
        let columns = columns.remediation(Remediation::from);
        Table::build(
            "rules",
            "Per-rule findings and remediation in the period",
            columns,
            self.t.rule_stats.iter(),
            usize::MAX,
        )
    }

    /// Every exposure window of every finding in the period, one row each, at most `per_rule` of
    /// each rule: a finding was non-compliant on a day D when one of its windows has opened ≤ D
    /// and D < resolved (or the window is open). A reopened finding has a row per window.
    pub fn exposure_windows(&self, per_rule: usize) -> Table<'_, 't, (&'t Exposure, usize)> {
        let windows = self
            .t
            .exposures
            .iter()
            .flat_map(|e| (0..e.windows.len()).map(move |i| (e, i)));
        let window = |(e, i): (&'t Exposure, usize)| -> &'t Window { &e.windows[i] };
        let columns: Columns<'_, 't, (&'t Exposure, usize)> = Columns::new()
            .col("Rule", "rule", |(e, _): (&'t Exposure, usize)| {
                text(&e.rule)
            })
            .col("Resource type", "resource_type", |(e, _)| {
                text(&e.resource_type)
            })
            .col("Resource id", "resource_id", |(e, _)| id(&e.resource_id))
            .col("Window", "window", |(e, i)| Cell::Nth {
                n: i + 1,
                of: e.windows.len(),
            })
            .data("windows", |(e, _)| count(e.windows.len()))
            .col("Opened", "opened", move |x| {
                let w = window(x);
                Cell::Since {
                    date: w.opened,
                    before_period: w.opened_before_period,
                }
            })
            .data("opened_before_period", move |x| {
                Cell::Flag(window(x).opened_before_period)
            })
            .col("Resolved", "resolved", move |x| {
                Cell::Resolved(window(x).resolved)
            })
            .num("Days", "days", move |x| count(window(x).days));
        let excepted_days = move |x| count(window(x).excepted_days);
        let exceptions = move |x| text(spans(&window(x).exceptions));
        let columns = if self.recorded {
            columns
                .num("Excepted days", "excepted_days", excepted_days)
                .col("Exceptions", "exceptions", exceptions)
                .prose()
        } else {
            columns
                .data("excepted_days", excepted_days)
                .data("exceptions", exceptions)
        };
        Table::build_per_group(
            "exposure_windows",
            "Exposure windows: one row per window in which a finding was non-compliant",
            columns,
            windows,
            |(e, _)| e.rule.as_str(),
            per_rule,
            |rule, shown, total| {
                format!(
                    "{rule}: {} of {total} windows not shown here (the first {shown} are); every window is in the CSV output (section exposure_windows) and the JSON output (exposures[].windows).",
                    total - shown
                )
            },
        )
        .when_empty(if self.t.evidence.none() {
            NOTHING_KNOWN
        } else {
            "No finding was open in the period."
        })
    }

    /// The findings still open at the end, oldest current window first.
    pub fn longest_open(&self) -> Table<'_, 't, &'t Exposure> {
        let through = self.t.period.through;
        let at_end = move |e: &'t Exposure| {
            let span = e
                .windows
                .last()
                .and_then(|w| w.exceptions.last())
                .filter(|s| Some(s.to) == through);
            text(span.map_or("", |s| s.id.as_str()))
        };
        let columns = longest_open_columns();
        let columns = if self.recorded {
            columns.col("Exception at end", "exception_at_end", at_end)
        } else {
            columns.data("exception_at_end", at_end)
        };
        Table::build(
            "longest_open",
            "Findings still open at the end of the period, oldest first",
            columns,
            self.t.longest_open.iter(),
            usize::MAX,
        )
        .when_empty(if self.t.evidence.none() {
            NOTHING_KNOWN
        } else {
            "No finding is open at the end of the period."
        })
    }

    /// Each monitoring issue of each day, the first `limit` of them.
    pub fn monitoring(
        &self,
        limit: usize,
    ) -> Table<'_, 't, (&'t MonitoringDay, &'t MonitoringIssue)> {
        let issues: Vec<(&'t MonitoringDay, &'t MonitoringIssue)> = self
            .t
            .monitoring
            .days
            .iter()
            .flat_map(|d| d.issues.iter().map(move |i| (d, i)))
            .collect();
        let columns = Columns::new()
            .col(
                "Date",
                "date",
                |(d, _): (&'t MonitoringDay, &'t MonitoringIssue)| Cell::Date(d.date),
            )
            .col("Issue", "kind", |(_, i)| text(i.kind.label()))
            .col("Subject", "subject", |(_, i)| text(&i.subject))
            .prose()
            .col("Detail", "detail", |(_, i)| text(&i.detail))
            .prose()
            .data("reports", |(d, _)| text(d.reports.join(" ")));
        Table::build(
            "monitoring",
            "Days on which monitoring was not fully on",
            columns,
            issues.into_iter(),
            limit,
        )
    }

    /// The chain problems of the period's part of the trail, the first `limit` of them.
    pub fn chain_problems(&self, limit: usize) -> Table<'_, 't, &'t Problem> {
        let columns = Columns::new()
            .col("Problem", "code", |p: &'t Problem| text(p.code))
            .col("Key", "key", |p| id(&p.key))
            .col("Detail", "detail", |p| text(&p.detail))
            .prose();
        Table::build(
            "chain_problems",
            "Chain problems",
            columns,
            self.t.chain.problems.iter(),
            limit,
        )
        .when_empty(if self.t.evidence.none() {
            "No chain problem in the reports around the period; there is none in it to check."
        } else {
            "No chain problem: every report in the period validates and links to its predecessor."
        })
    }

    /// Stretches longer than allowed without a report, the first `limit` of them.
    pub fn cadence_gaps(&self, limit: usize) -> Table<'_, 't, &'t CadenceGap> {
        let columns = Columns::new()
            .col("Gap from", "from", |g: &'t CadenceGap| Cell::Time(g.from))
            .col("Gap to", "to", |g| Cell::Time(g.to))
            .num("Hours", "hours", |g| Cell::Figure(Some(g.hours)))
            .num("Days", "missing_days", |g| count(g.missing_days))
            .col("Days without a report", "missing_dates", |g| {
                Cell::Dates(&g.missing_dates)
            })
            .prose()
            .data("after_key", |g| {
                id(g.after_key.as_deref().unwrap_or_default())
            })
            .data("before_key", |g| {
                id(g.before_key.as_deref().unwrap_or_default())
            });
        Table::build(
            "cadence_gaps",
            "Cadence gaps (no report for longer than allowed)",
            columns,
            self.t.chain.gaps.iter(),
            limit,
        )
        .when_empty("No cadence gap.")
    }
}

/// The columns of the longest-open list: people read when the current window opened ("Open
/// since"), which orders the list; as data each row has the finding's figures over the period.
fn longest_open_columns<'t>() -> Columns<'static, 't, &'t Exposure> {
    Columns::new()
        .col("Rule", "rule", |e: &'t Exposure| text(&e.rule))
        .col("Resource type", "resource_type", |e| text(&e.resource_type))
        .col("Resource id", "resource_id", |e| id(&e.resource_id))
        .data("first_seen", |e| Cell::Since {
            date: e.first_seen,
            before_period: e.opened_before_period,
        })
        .data("opened_before_period", |e| {
            Cell::Flag(e.opened_before_period)
        })
        .data("resolved_at", |e| Cell::Resolved(e.resolved_at))
        .data("open_at_end", |e| Cell::Flag(e.open_at_end))
        .people("Open since", |e| {
            let current = e.windows.last();
            Cell::Since {
                date: current.map_or(e.first_seen, |w| w.opened),
                before_period: current.is_some_and(|w| w.opened_before_period),
            }
        })
        .num("Days non-compliant", "days_non_compliant", |e| {
            count(e.days_non_compliant)
        })
        .data("times_reopened", |e| count(e.times_reopened))
}
