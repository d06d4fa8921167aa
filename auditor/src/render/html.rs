//! `--format html`: one self-contained page (inline CSS and SVG, no script, no fetch of any kind)
//! laid out for a screenshot and for printing to PDF: a summary header with the trail verdict,
//! the per-rule table, the daily charts, the trail problems, the longest-open findings, the
//! monitoring days and the exposure windows.

use std::fmt::Write;

use super::chart::{Series, daily_chart};
use super::{Renderer, opt_f64, opt_i64, trail_verdict};
use crate::error::RenderError;
use crate::timeline::{Exposure, Timeline};

/// Exposure rows shown in the page; the rest are in JSON and CSV output.
pub const EXPOSURE_ROWS_MAX: usize = 500;

pub struct HtmlRenderer;

/// Escapes text for HTML element content and quoted attributes.
pub fn escape(s: &str) -> String {
    let mut o = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => o.push_str("&amp;"),
            '<' => o.push_str("&lt;"),
            '>' => o.push_str("&gt;"),
            '"' => o.push_str("&quot;"),
            '\'' => o.push_str("&#39;"),
            c => o.push(c),
        }
    }
    o
}

const STYLE: &str = "body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:24px auto;max-width:1000px;color:#222;line-height:1.4}
h1{font-size:1.6em;margin:0 0 4px}h2{font-size:1.2em;margin:28px 0 8px;border-bottom:1px solid #ccc;padding-bottom:4px}
.meta{color:#555;margin:0 0 12px}.verdict{padding:10px 14px;border-radius:6px;font-weight:600}
.ok{background:#e6f4ea;border:1px solid #8bc79a}.bad{background:#fdecea;border:1px solid #e0928a}
dl.kpi{display:flex;flex-wrap:wrap;gap:12px;margin:12px 0}dl.kpi div{border:1px solid #ddd;border-radius:6px;padding:6px 12px;min-width:120px}
dl.kpi dt{font-size:.8em;color:#555}dl.kpi dd{margin:0;font-size:1.3em;font-weight:600}
table{border-collapse:collapse;width:100%;margin:8px 0 16px;font-size:.9em}caption{text-align:left;font-weight:600;padding:4px 0}
th,td{border:1px solid #ddd;padding:4px 6px;text-align:left;vertical-align:top}td.n,th.n{text-align:right}
thead th{background:#f3f3f3}code{font-size:.95em;word-break:break-all}figure{margin:8px 0 16px}figcaption{font-size:.85em;color:#555}
svg.chart{width:100%;height:auto}.none{color:#555;font-style:italic}
@media print{body{margin:0;max-width:none;font-size:10pt}h2{break-after:avoid}table,figure{break-inside:avoid}thead{display:table-header-group}tr{break-inside:avoid}}";

fn table_head(o: &mut String, caption: &str, cols: &[(&str, bool)]) {
    let _ = write!(
        o,
        "<table><caption>{}</caption><thead><tr>",
        escape(caption)
    );
    for (c, numeric) in cols {
        let _ = write!(
            o,
            "<th scope=\"col\"{}>{}</th>",
            if *numeric { " class=\"n\"" } else { "" },
            escape(c)
        );
    }
    o.push_str("</tr></thead><tbody>");
}

fn exposure_table(o: &mut String, caption: &str, list: &[Exposure], limit: usize) {
    table_head(
        o,
        caption,
        &[
            ("Rule", false),
            ("Resource type", false),
            ("Resource id", false),
            ("First seen", false),
            ("Resolved at", false),
            ("Days non-compliant", true),
            ("Times reopened", true),
        ],
    );
    for e in list.iter().take(limit) {
        let first = if e.opened_before_period {
            format!("{} or earlier", e.first_seen)
        } else {
            e.first_seen.to_string()
        };
        let resolved = e
            .resolved_at
            .map_or_else(|| "open".to_owned(), |d| d.to_string());
        let _ = write!(
            o,
            "<tr><td>{}</td><td>{}</td><td><code>{}</code></td><td>{}</td><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
            escape(&e.rule),
            escape(&e.resource_type),
            escape(&e.resource_id),
            first,
            resolved,
            e.days_non_compliant,
            e.times_reopened
        );
    }
    o.push_str("</tbody></table>");
    if list.len() > limit {
        let _ = write!(
            o,
            "<p class=\"none\">{} more rows in the JSON and CSV outputs.</p>",
            list.len() - limit
        );
    }
}

impl Renderer for HtmlRenderer {
    fn render(&self, t: &Timeline) -> Result<Vec<u8>, RenderError> {
        let mut o = String::new();
        let p = &t.period;
        let _ = write!(
            o,
            "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width,initial-scale=1\"><title>Compliance timeline {}</title><style>{STYLE}</style></head><body>\n",
            escape(&p.label)
        );
        let verdict_class = if t.chain.intact && t.chain.gaps.is_empty() {
            "ok"
        } else {
            "bad"
        };
        let _ = write!(
            o,
            "<header><h1>Compliance timeline: {}</h1><p class=\"meta\">Source <code>{}</code> &middot; {} to {} &middot; series through {} ({} days)</p><p class=\"verdict {verdict_class}\">{}</p>",
            escape(&p.label),
            escape(&t.source),
            p.from,
            p.to,
            p.through,
            p.days,
            escape(&trail_verdict(t))
        );
        let open_end: u32 = t.rule_stats.iter().map(|r| r.open_at_end).sum();
        let opened: u32 = t.rule_stats.iter().map(|r| r.opened).sum();
        let resolved: u32 = t.rule_stats.iter().map(|r| r.resolved).sum();
        let m = &t.monitoring;
        o.push_str("<dl class=\"kpi\">");
        for (k, v) in [
            ("Open at period end", open_end.to_string()),
            ("Opened in period", opened.to_string()),
            ("Resolved in period", resolved.to_string()),
            (
                "Days with a report",
                format!("{} / {}", m.days_with_report, m.days_in_series),
            ),
            ("Days monitoring fully on", m.days_monitoring_on.to_string()),
        ] {
            let _ = write!(o, "<div><dt>{k}</dt><dd>{v}</dd></div>");
        }
        o.push_str("</dl></header>\n<section><h2>Rules</h2>");
        table_head(
            &mut o,
            "Per-rule findings and remediation in the period",
            &[
                ("Rule", false),
                ("Open at start", true),
                ("Open at end", true),
                ("Opened", true),
                ("Resolved", true),
                ("Reopened", true),
                ("Mean days to remediate", true),
                ("Max days to remediate", true),
            ],
        );
        for r in &t.rule_stats {
            let _ = write!(
                o,
                "<tr><td>{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td><td class=\"n\">{}</td></tr>",
                escape(&r.rule),
                r.open_at_start,
                r.open_at_end,
                r.opened,
                r.resolved,
                r.reopened,
                opt_f64(r.mean_days_to_remediate),
                opt_i64(r.max_days_to_remediate)
            );
        }
        o.push_str("</tbody></table></section>\n<section><h2>Non-compliant resources per day</h2>");
        let dates: Vec<_> = t.days.iter().map(|d| d.date).collect();
        let gaps: Vec<bool> = t.days.iter().map(|d| d.gap).collect();
        let by_rule: Vec<Series<'_>> = t
            .rules
            .iter()
            .map(|r| Series {
                name: r,
                values: t
                    .days
                    .iter()
                    .map(|d| d.by_rule.get(r).copied().unwrap_or(0))
                    .collect(),
            })
            .collect();
        let by_type: Vec<Series<'_>> = t
            .resource_types
            .iter()
            .map(|r| Series {
                name: r,
                values: t
                    .days
                    .iter()
                    .map(|d| d.by_resource_type.get(r).copied().unwrap_or(0))
                    .collect(),
            })
            .collect();
        let note = "Grey bands: days without a report. The last known state is carried forward there, never shown as compliant.";
        for (id, title, series) in [
            (
                "by-rule",
                "Non-compliant resources per rule, per day",
                by_rule,
            ),
            (
                "by-type",
                "Non-compliant findings per resource type, per day",
                by_type,
            ),
        ] {
            let svg = daily_chart(id, title, &dates, &gaps, &series)?;
            let _ = write!(
                o,
                "<figure>{svg}<figcaption>{}. {note}</figcaption></figure>",
                escape(title)
            );
        }
        o.push_str("</section>\n<section><h2>Trail check</h2>");
        if t.chain.problems.is_empty() {
            o.push_str("<p class=\"none\">No chain problem: every report in the period validates and links to its predecessor.</p>");
        } else {
            table_head(
                &mut o,
                "Chain problems",
                &[("Problem", false), ("Key", false), ("Detail", false)],
            );
            for pr in &t.chain.problems {
                let _ = write!(
                    o,
                    "<tr><td>{}</td><td><code>{}</code></td><td>{}</td></tr>",
                    pr.code,
                    escape(&pr.key),
                    escape(&pr.detail)
                );
            }
            o.push_str("</tbody></table>");
        }
        if t.chain.gaps.is_empty() {
            o.push_str("<p class=\"none\">No cadence gap.</p>");
        } else {
            table_head(
                &mut o,
                "Cadence gaps (no report for longer than allowed)",
                &[
                    ("From", false),
                    ("To", false),
                    ("Hours", true),
                    ("Days without a report", false),
                ],
            );
            for g in &t.chain.gaps {
                let days: Vec<String> = g.missing_dates.iter().map(|d| d.to_string()).collect();
                let _ = write!(
                    o,
                    "<tr><td>{}</td><td>{}</td><td class=\"n\">{}</td><td>{}</td></tr>",
                    g.from,
                    g.to,
                    g.hours,
                    days.join(", ")
                );
            }
            o.push_str("</tbody></table>");
        }
        o.push_str("</section>\n<section><h2>Longest-open findings</h2>");
        if t.longest_open.is_empty() {
            o.push_str("<p class=\"none\">No finding is open at the end of the period.</p>");
        } else {
            exposure_table(
                &mut o,
                "Findings still open at the end of the period, oldest first",
                &t.longest_open,
                usize::MAX,
            );
        }
        o.push_str("</section>\n<section><h2>Monitoring stayed on</h2>");
        let _ = write!(
            o,
            "<p>{} of {} days had a report; monitoring was fully on for {} of them; {} day(s) showed an issue.</p>",
            m.days_with_report, m.days_in_series, m.days_monitoring_on, m.days_with_issues
        );
        if !m.days.is_empty() {
            table_head(
                &mut o,
                "Days on which monitoring was not fully on",
                &[
                    ("Date", false),
                    ("Issue", false),
                    ("Subject", false),
                    ("Detail", false),
                ],
            );
            for d in &m.days {
                for i in &d.issues {
                    let _ = write!(
                        o,
                        "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                        d.date,
                        i.kind.label(),
                        escape(&i.subject),
                        escape(&i.detail)
                    );
                }
            }
            o.push_str("</tbody></table>");
        }
        o.push_str("</section>\n<section><h2>Exposure windows</h2>");
        exposure_table(
            &mut o,
            "Every finding open at some point in the period",
            &t.exposures,
            EXPOSURE_ROWS_MAX,
        );
        o.push_str("</section>\n</body></html>\n");
        Ok(o.into_bytes())
    }
}
