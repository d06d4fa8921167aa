//! The index page of an organization's HTML report: the roll-up (provenance, verdict, the row
//! per account and region with a link to its page, the totals per rule and per day with their
//! chart, the worst exposures, the organization's own findings and each trail's first and newest
//! report). Each trail's page beside it is the single trail's page. Like that page, it is one
//! self-contained `maud` template: inline CSS and SVG, no script, and no link but to the trail
//! pages in the same folder.

use maud::{DOCTYPE, Markup, PreEscaped, html};

use super::chart::daily_chart;
use super::html::{GAP_NOTE, STYLE, provenance, table};
use super::org_rows::OrgRows;
use crate::error::RenderError;
use crate::organization::rollup::OrgTimeline;

/// The file name of a trail's page in the report folder.
pub fn trail_page(account: &str, region: &str) -> String {
    format!("{account}-{region}.html")
}

/// The rows of the per-trail table, with a link to each trail's page (when it has one).
fn trails_with_links(rows: &OrgRows<'_>, t: &OrgTimeline) -> Markup {
    let readable = rows.trails().for_people();
    html! {
        (table(&readable))
        p { "Each trail's page: " }
        ul.pages {
            @for r in &t.by_trail {
                li {
                    @if r.evidence == "unreadable" {
                        (r.trail.label()) " (not read)"
                    } @else {
                        a href=(trail_page(&r.trail.account, &r.trail.region)) { (r.trail.label()) }
                    }
                }
            }
        }
    }
}

/// The index page.
pub fn index(t: &OrgTimeline) -> Result<Vec<u8>, RenderError> {
    let rows = OrgRows::new(t);
    let p = &t.period;
    let (dates, gaps) = rows.days();
    let chart = daily_chart(
        "org-by-rule",
        "Non-compliant resources per rule, per day, over every trail",
        &dates,
        &gaps,
        rows.series(),
    )?;
    let verdict = if rows.clean() { "ok" } else { "bad" };
    let page = html! {
        (DOCTYPE) "\n"
        html lang="en" {
            head {
                meta charset="utf-8";
                meta name="viewport" content="width=device-width,initial-scale=1";
                title { "Organization compliance timeline " (p.label) }
                style { (PreEscaped(STYLE)) "ul.pages{columns:16em;padding-left:1.2em}" }
            }
            body {
                "\n"
                header {
                    h1 { "Organization compliance timeline: " (p.label) }
                    @if let Some(statement) = rows.no_evidence() {
                        p.noevidence role="alert" { (statement) }
                    }
                    (provenance(&rows.provenance().for_people()))
                    p.verdict.(verdict) { (rows.verdict()) }
                    dl.kpi {
                        @for (label, value) in rows.key_figures() {
                            div { dt { (label) } dd { (value) } }
                        }
                    }
                }
                "\n"
                section {
                    h2 { "Per account and region" }
                    (trails_with_links(&rows, t))
                }
                "\n"
                section {
                    h2 { "Findings of the organization" }
                    (table(&rows.problems().for_people()))
                }
                "\n"
                section {
                    h2 { "Rules over every trail" }
                    (table(&rows.rule_totals().for_people()))
                }
                "\n"
                section {
                    h2 { "Non-compliant resources per day, over every trail" }
                    figure {
                        (PreEscaped(chart))
                        figcaption { "Grey bands: days on which at least one trail had no report. " (GAP_NOTE) }
                    }
                    p { (rows.daily_note()) }
                    (table(&rows.daily().for_people()))
                }
                "\n"
                section {
                    h2 { "Worst exposures across the organization" }
                    (table(&rows.worst_exposures().for_people()))
                }
                "\n"
                section {
                    h2 { "Each trail's first and newest report" }
                    (table(&rows.trail_reports().for_people()))
                }
                "\n"
            }
        }
        "\n"
    };
    Ok(page.into_string().into_bytes())
}
