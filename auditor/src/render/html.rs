//! `--format html`: one self-contained page (inline CSS and SVG, no script, no fetch of any kind)
//! laid out for a screen, a phone and printing to PDF: a summary header with a red "no evidence"
//! banner when reports are missing for the period, the provenance and the trail verdict, the
//! per-rule table, the daily charts, the daily table of non-compliant resources and compliance
//! per rule, the trail problems, the longest-open findings, the monitoring days and the exposure
//! windows.
//!
//! Layout: at phone width (390 px) nothing overflows the page; each table and chart scrolls
//! inside its own box instead. Printed (A4, 12 mm margins), the header and the rules share the
//! first page and every later section starts a new page; tables repeat their header rows, and the
//! charts fill the page width with text of about 10 pt (see `chart.rs`).
//!
//! The page is a `maud` template: every value is escaped unless it is wrapped in `PreEscaped`,
//! which only the style sheet, one entity and the charts (SVG that `plotters` escapes itself) are.
//! The tables, sentences and chart series come from [`Rows`]; this file only lays them out.

use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::Renderer;
use super::chart::daily_chart;
use super::rows::{Heading, ReadableTable, Rows};
use crate::error::RenderError;
use crate::timeline::Timeline;

/// Exposure windows shown in the page per rule; every window is in the JSON and CSV outputs.
pub const WINDOWS_PER_RULE: usize = 100;

pub struct HtmlRenderer;

pub(super) const STYLE: &str = "*,*::before,*::after{box-sizing:border-box}
body{font-family:system-ui,-apple-system,'Segoe UI',Roboto,sans-serif;margin:24px auto;max-width:1000px;padding:0 16px;color:#222;line-height:1.4}
h1{font-size:1.6em;margin:0 0 4px}h2{font-size:1.2em;margin:28px 0 8px;border-bottom:1px solid #ccc;padding-bottom:4px}
.meta{color:#555;margin:0 0 12px}.verdict{padding:10px 14px;border-radius:6px;font-weight:600}
.ok{background:#e6f4ea;border:1px solid #8bc79a}.bad{background:#fdecea;border:1px solid #e0928a}
dl.kpi{display:flex;flex-wrap:wrap;gap:12px;margin:12px 0}dl.kpi div{border:1px solid #ddd;border-radius:6px;padding:6px 12px;min-width:120px;flex:1 1 120px}
dl.kpi dt{font-size:.8em;color:#555}dl.kpi dd{margin:0;font-size:1.3em;font-weight:600}
.scroll{overflow-x:auto;max-width:100%;margin:8px 0 16px}
table{border-collapse:collapse;width:100%;font-size:.9em}caption{text-align:left;font-weight:600;padding:4px 0}
th,td{border:1px solid #ddd;padding:4px 6px;text-align:left;vertical-align:top}td{white-space:nowrap}td.n,th.n{text-align:right}
td.prose{white-space:normal;min-width:16em}thead th{background:#f3f3f3}th.group{text-align:center}
code{font-size:.95em;word-break:break-all;white-space:normal}
figure{margin:8px 0 16px;overflow-x:auto}figcaption{font-size:.85em;color:#555}
svg.chart{display:block;width:100%;max-width:800px;min-width:560px;height:auto}.none{color:#555;font-style:italic}
.noevidence{background:#b00020;color:#fff;padding:12px 14px;border-radius:6px;font-weight:700;font-size:1.1em}
table.provenance{width:auto}table.provenance th{font-weight:400;color:#555;background:none;white-space:nowrap}
table.provenance td{white-space:normal;word-break:break-word}
@page{size:A4;margin:12mm}
@media print{body{margin:0;max-width:none;padding:0;font-size:10pt}section+section{break-before:page}h2{break-after:avoid}section+section h2{margin-top:0}
.scroll,figure{overflow:visible}svg.chart{min-width:0;max-width:none}figure{break-inside:avoid}table{font-size:9pt}
thead{display:table-header-group}tr{break-inside:avoid}*{-webkit-print-color-adjust:exact;print-color-adjust:exact}}";

const MIDDOT: PreEscaped<&str> = PreEscaped("&middot;");

pub(super) const GAP_NOTE: &str = "Grey bands: days without a report. The last known state is carried forward there, never shown as compliant.";

/// The header rows: one, or two when columns are grouped under a heading (a rule's figures):
/// the group spans its columns, and the ungrouped columns span both rows.
fn head(columns: &[Heading]) -> Markup {
    let mut runs: Vec<(Option<&str>, Vec<&Heading>)> = Vec::new();
    for h in columns {
        match runs.last_mut() {
            Some((Some(g), hs)) if h.group.as_deref() == Some(*g) => hs.push(h),
            _ => runs.push((h.group.as_deref(), vec![h])),
        }
    }
    let grouped = runs.iter().any(|(g, _)| g.is_some());
    html! {
        @if grouped {
            tr {
                @for (group, hs) in &runs {
                    @if let Some(g) = group {
                        th scope="colgroup" colspan=(hs.len()) class="group" { (g) }
                    } @else {
                        @for h in hs {
                            th scope="col" rowspan="2" class=[h.numeric.then_some("n")] { (h.text) }
                        }
                    }
                }
            }
            tr {
                @for (_, hs) in runs.iter().filter(|(g, _)| g.is_some()) {
                    @for h in hs {
                        th scope="col" class=[h.numeric.then_some("n")] { (h.text) }
                    }
                }
            }
        } @else {
            tr {
                @for h in columns {
                    th scope="col" class=[h.numeric.then_some("n")] { (h.text) }
                }
            }
        }
    }
}

/// The class of a body cell: right-aligned figures, wrapping prose, or neither.
fn cell_class(h: &Heading) -> Option<&'static str> {
    match (h.numeric, h.prose) {
        (true, _) => Some("n"),
        (false, true) => Some("prose"),
        (false, false) => None,
    }
}

/// A captioned table in its own scrolling box, or the table's sentence for "no rows", then the
/// notes on rows left out.
pub(super) fn table(t: &ReadableTable) -> Markup {
    html! {
        @if t.rows.is_empty() {
            @if let Some(sentence) = t.empty {
                p.none { (sentence) }
            }
        } @else {
            div.scroll {
                table {
                    caption { (t.caption) }
                    thead { (head(&t.columns)) }
                    tbody {
                        @for row in &t.rows {
                            tr {
                                @for (c, h) in row.iter().zip(&t.columns) {
                                    td class=[cell_class(h)] {
                                        @if c.code { code { (c.text) } } @else { (c.text) }
                                    }
                                }
                            }
                        }
                    }
                }
            }
            @for more in &t.more {
                p.none { (more) }
            }
        }
    }
}

/// The provenance as a two-column table: what, and its value.
pub(super) fn provenance(t: &ReadableTable) -> Markup {
    html! {
        div.scroll {
            table.provenance {
                caption { (t.caption) }
                tbody {
                    @for row in &t.rows {
                        @if let [label, value] = row.as_slice() {
                            tr {
                                th scope="row" { (label.text) }
                                td { @if value.code { code { (value.text) } } @else { (value.text) } }
                            }
                        }
                    }
                }
            }
        }
    }
}

impl Renderer for HtmlRenderer {
    fn render(&self, t: &Timeline) -> Result<Vec<u8>, RenderError> {
        let rows = Rows::new(t);
        let p = &t.period;
        let (dates, gaps) = rows.days();
        let mut charts = Vec::new();
        for c in rows.charts() {
            let svg = daily_chart(c.id, c.title, &dates, &gaps, c.series)?;
            charts.push((c.title, PreEscaped(svg)));
        }
        let verdict = if rows.trail_clean() { "ok" } else { "bad" };
        let daily_rows = rows.daily_rows_for_people();
        let daily_heading = match daily_rows {
            super::rows::DayRows::Every => "per day",
            super::rows::DayRows::MonthEnds => "at each month end",
        };
        let page = html! {
            (DOCTYPE) "\n"
            html lang="en" {
                head {
                    meta charset="utf-8";
                    meta name="viewport" content="width=device-width,initial-scale=1";
                    title { "Compliance timeline " (p.label) }
                    style { (PreEscaped(STYLE)) }
                }
                body {
                    "\n"
                    header {
                        h1 { "Compliance timeline: " (p.label) }
                        @if let Some(statement) = rows.no_evidence() {
                            p.noevidence role="alert" { (statement) }
                        }
                        (provenance(&rows.provenance().for_people()))
                        p.meta {
                            (p.from) " to " (p.to)
                            " " (MIDDOT) " "
                            @if let Some(through) = p.through {
                                "series through " (through) " (" (p.days) " days)"
                            } @else {
                                "no series: the period has not started"
                            }
                        }
                        p.verdict.(verdict) { (rows.verdict()) }
                        dl.kpi {
                            @for (label, value) in rows.key_figures() {
                                div { dt { (label) } dd { (value) } }
                            }
                        }
                    }
                    "\n"
                    section {
                        h2 { "Rules" }
                        (table(&rows.rules().for_people()))
                    }
                    "\n"
                    section {
                        h2 { "Non-compliant resources per day" }
                        @for (title, svg) in &charts {
                            figure { (svg) figcaption { (title) ". " (GAP_NOTE) } }
                        }
                    }
                    "\n"
                    section {
                        h2 { "Non-compliant resources and compliance per rule, " (daily_heading) }
                        p { (rows.compliance_note()) }
                        (table(&rows.daily(daily_rows).for_people()))
                    }
                    "\n"
                    section {
                        h2 { "Trail check" }
                        (table(&rows.chain_problems(usize::MAX).for_people()))
                        (table(&rows.cadence_gaps(usize::MAX).for_people()))
                    }
                    "\n"
                    section {
                        h2 { "Longest-open findings" }
                        (table(&rows.longest_open().for_people()))
                    }
                    "\n"
                    section {
                        h2 { "Monitoring stayed on" }
                        p { (rows.monitoring_summary()) }
                        (table(&rows.monitoring(usize::MAX).for_people()))
                    }
                    "\n"
                    section {
                        h2 { "Exposure windows" }
                        p { (rows.exposure_note()) }
                        (table(&rows.exposure_windows(WINDOWS_PER_RULE).for_people()))
                    }
                    "\n"
                }
            }
            "\n"
        };
        Ok(page.into_string().into_bytes())
    }
}
