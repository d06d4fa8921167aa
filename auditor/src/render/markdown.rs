//! `--format md`: a summary for tickets. Long periods are summarised by month end and long lists
//! are cut, with a pointer to the JSON or CSV output for the rest.

use std::fmt::Write;

use chrono::Datelike;

use super::{Renderer, opt_f64, opt_i64, trail_verdict};
use crate::error::RenderError;
use crate::timeline::{Day, Timeline};

/// Periods up to this many days get a daily table; longer ones one row per month end.
pub const DAILY_ROWS_MAX: usize = 100;
/// Longest lists shown before cutting.
pub const LIST_MAX: usize = 50;

pub struct MarkdownRenderer;

fn cell(s: &str) -> String {
    s.replace('|', "\\|").replace('\n', " ")
}

impl Renderer for MarkdownRenderer {
    fn render(&self, t: &Timeline) -> Result<Vec<u8>, RenderError> {
        let mut o = String::new();
        let p = &t.period;
        let _ = writeln!(o, "# Compliance timeline: {}\n", p.label);
        let _ = writeln!(
            o,
            "Source `{}`, {} to {} (series through {}, {} days).\n",
            t.source, p.from, p.to, p.through, p.days
        );
        let _ = writeln!(o, "**{}**\n", trail_verdict(t));
        if !t.chain.problems.is_empty() {
            let _ = writeln!(o, "| problem | key | detail |\n| --- | --- | --- |");
            for pr in t.chain.problems.iter().take(LIST_MAX) {
                let _ = writeln!(
                    o,
                    "| {} | `{}` | {} |",
                    pr.code,
                    cell(&pr.key),
                    cell(&pr.detail)
                );
            }
            o.push('\n');
        }
        if !t.chain.gaps.is_empty() {
            let _ = writeln!(
                o,
                "| gap from | gap to | hours | days without report |\n| --- | --- | --- | --- |"
            );
            for g in t.chain.gaps.iter().take(LIST_MAX) {
                let days: Vec<String> = g.missing_dates.iter().map(|d| d.to_string()).collect();
                let _ = writeln!(
                    o,
                    "| {} | {} | {} | {} |",
                    g.from,
                    g.to,
                    g.hours,
                    days.join(", ")
                );
            }
            o.push('\n');
        }
        let _ = writeln!(o, "## Rules\n");
        let _ = writeln!(
            o,
            "| rule | open at start | open at end | opened | resolved | reopened | mean days to remediate | max days to remediate |"
        );
        let _ = writeln!(
            o,
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
        );
        for r in &t.rule_stats {
            let _ = writeln!(
                o,
                "| {} | {} | {} | {} | {} | {} | {} | {} |",
                cell(&r.rule),
                r.open_at_start,
                r.open_at_end,
                r.opened,
                r.resolved,
                r.reopened,
                opt_f64(r.mean_days_to_remediate),
                opt_i64(r.max_days_to_remediate)
            );
        }
        let daily = t.days.len() <= DAILY_ROWS_MAX;
        let _ = writeln!(
            o,
            "\n## Non-compliant resources {}\n",
            if daily {
                "per day"
            } else {
                "at each month end"
            }
        );
        let _ = write!(o, "| date | report |");
        for r in &t.rules {
            let _ = write!(o, " {} |", cell(r));
        }
        let _ = writeln!(o, " total |");
        let _ = writeln!(o, "| --- | --- |{}", " ---: |".repeat(t.rules.len() + 1));
        let rows: Vec<&Day> = if daily {
            t.days.iter().collect()
        } else {
            t.days
                .iter()
                .enumerate()
                .filter(|(i, d)| {
                    t.days
                        .get(i + 1)
                        .is_none_or(|n| n.date.month() != d.date.month())
                })
                .map(|(_, d)| d)
                .collect()
        };
        for d in rows {
            let state = if d.gap { "no report (carried)" } else { "yes" };
            let _ = write!(o, "| {} | {} |", d.date, state);
            for r in &t.rules {
                let _ = write!(o, " {} |", d.by_rule.get(r).copied().unwrap_or(0));
            }
            let _ = writeln!(o, " {} |", d.total);
        }
        let _ = writeln!(o, "\n## Longest-open findings\n");
        if t.longest_open.is_empty() {
            let _ = writeln!(o, "No finding is open at the end of the period.");
        } else {
            let _ = writeln!(
                o,
                "| rule | resource type | resource id | open since | days non-compliant |\n| --- | --- | --- | --- | ---: |"
            );
            for e in &t.longest_open {
                let since = e.windows.last().map(|w| w.opened).unwrap_or(e.first_seen);
                let before = if e.windows.last().is_some_and(|w| w.opened_before_period) {
                    " (or earlier)"
                } else {
                    ""
                };
                let _ = writeln!(
                    o,
                    "| {} | {} | `{}` | {since}{before} | {} |",
                    cell(&e.rule),
                    e.resource_type,
                    cell(&e.resource_id),
                    e.days_non_compliant
                );
            }
        }
        let m = &t.monitoring;
        let _ = writeln!(o, "\n## Monitoring stayed on\n");
        let _ = writeln!(
            o,
            "{} of {} days had a report; monitoring was fully on for {} of them; {} day(s) showed an issue.\n",
            m.days_with_report, m.days_in_series, m.days_monitoring_on, m.days_with_issues
        );
        if !m.days.is_empty() {
            let _ = writeln!(
                o,
                "| date | issue | subject | detail |\n| --- | --- | --- | --- |"
            );
            for d in m.days.iter().take(LIST_MAX) {
                for i in &d.issues {
                    let _ = writeln!(
                        o,
                        "| {} | {} | {} | {} |",
                        d.date,
                        i.kind.label(),
                        cell(&i.subject),
                        cell(&i.detail)
                    );
                }
            }
        }
        let _ = writeln!(o, "\n## Exposure windows\n");
        let _ = writeln!(
            o,
            "| rule | resource type | resource id | first seen | resolved at | days non-compliant | times reopened |\n| --- | --- | --- | --- | --- | ---: | ---: |"
        );
        for e in t.exposures.iter().take(LIST_MAX) {
            let first = if e.opened_before_period {
                format!("{} (or earlier)", e.first_seen)
            } else {
                e.first_seen.to_string()
            };
            let resolved = e
                .resolved_at
                .map_or_else(|| "open".to_owned(), |d| d.to_string());
            let _ = writeln!(
                o,
                "| {} | {} | `{}` | {first} | {resolved} | {} | {} |",
                cell(&e.rule),
                e.resource_type,
                cell(&e.resource_id),
                e.days_non_compliant,
                e.times_reopened
            );
        }
        if t.exposures.len() > LIST_MAX {
            let _ = writeln!(
                o,
                "\n{} more findings: see `--format json` or `--format csv`.",
                t.exposures.len() - LIST_MAX
            );
        }
        Ok(o.into_bytes())
    }
}
