//! `--format md`: a summary for tickets. Long periods are summarised by month end and long lists
//! are cut (the exposure windows per rule), with a pointer to the JSON or CSV output for the rest. The tables and sentences come
//! from [`Rows`]; this file only lays them out as Markdown.
//!
//! Every cell and line that carries text from a report, a key or the command line is escaped:
//! `&`, `<` and `>` become entities (no raw HTML reaches a renderer that allows it), Markdown's
//! inline syntax characters are backslash-escaped, line breaks become spaces, and identifiers go
//! in code spans unless they hold a character a code span would show raw.

use std::fmt::Write;

use super::Renderer;
use super::rows::{DayRows, ReadableTable, Rows};
use crate::error::RenderError;
use crate::timeline::Timeline;

/// Longest lists shown before cutting.
pub const LIST_MAX: usize = 50;
/// Exposure windows shown per rule; every window is in the CSV and JSON outputs.
pub const WINDOWS_PER_RULE: usize = 25;

pub struct MarkdownRenderer;

/// Text that reads as itself in Markdown: HTML and inline syntax escaped, on one line, safe in a
/// table cell.
pub fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '\n' | '\r' => out.push(' '),
            '\\' | '`' | '*' | '_' | '[' | ']' | '|' | '~' | '#' | '!' => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out
}

/// An identifier as a code span, safe in a table cell. Inside a code span nothing is markup,
/// but neither are entities: an identifier holding `<`, `>`, `&` or a backtick is written as
/// escaped text instead, so no raw HTML character reaches the output either way.
pub fn code(s: &str) -> String {
    if s.contains(['<', '>', '&', '`']) {
        return escape(s);
    }
    format!("`{}`", s.replace(['\n', '\r'], " ").replace('|', "\\|"))
}

/// A pipe table, or the table's sentence for "no rows", then the note on rows left out.
pub(super) fn table(o: &mut String, t: &ReadableTable) {
    if t.rows.is_empty() {
        if let Some(sentence) = t.empty {
            let _ = writeln!(o, "{}", escape(sentence));
        }
        return;
    }
    o.push('|');
    for h in &t.columns {
        match &h.group {
            Some(g) => {
                let _ = write!(o, " {}: {} |", escape(g), escape(&h.text));
            }
            None => {
                let _ = write!(o, " {} |", escape(&h.text));
            }
        }
    }
    o.push_str("\n|");
    for h in &t.columns {
        o.push_str(if h.numeric { " ---: |" } else { " --- |" });
    }
    o.push('\n');
    for row in &t.rows {
        o.push('|');
        for c in row {
            if c.code {
                let _ = write!(o, " {} |", code(&c.text));
            } else {
                let _ = write!(o, " {} |", escape(&c.text));
            }
        }
        o.push('\n');
    }
    for more in &t.more {
        let _ = writeln!(o, "\n{}", escape(more));
    }
}

impl Renderer for MarkdownRenderer {
    fn render(&self, t: &Timeline) -> Result<Vec<u8>, RenderError> {
        let rows = Rows::new(t);
        let mut o = String::new();
        let p = &t.period;
        let _ = writeln!(o, "# Compliance timeline: {}\n", escape(&p.label));
        if let Some(statement) = rows.no_evidence() {
            let _ = writeln!(o, "**{}**\n", escape(statement));
        }
        table(&mut o, &rows.provenance().for_people());
        let series = match p.through {
            Some(through) => format!("series through {through}, {} days", p.days),
            None => "no series: the period has not started".to_owned(),
        };
        let _ = writeln!(o, "\n{} to {} ({series}).\n", p.from, p.to);
        let _ = writeln!(o, "**{}**\n", escape(&rows.verdict()));
        // The verdict already says when the trail has no problem and no gap.
        let trail = [
            rows.chain_problems(LIST_MAX).for_people(),
            rows.cadence_gaps(LIST_MAX).for_people(),
        ];
        for trail in trail {
            if !trail.rows.is_empty() {
                table(&mut o, &trail);
                o.push('\n');
            }
        }
        let _ = writeln!(o, "## Rules\n");
        table(&mut o, &rows.rules().for_people());
        let which = rows.daily_rows_for_people();
        let heading = match which {
            DayRows::Every => "per day",
            DayRows::MonthEnds => "at each month end",
        };
        let _ = writeln!(o, "\n## Non-compliant resources and compliance {heading}\n");
        let _ = writeln!(o, "{}\n", escape(rows.compliance_note()));
        table(&mut o, &rows.daily(which).for_people());
        let _ = writeln!(o, "\n## Longest-open findings\n");
        table(&mut o, &rows.longest_open().for_people());
        let _ = writeln!(o, "\n## Monitoring stayed on\n");
        let _ = writeln!(o, "{}\n", escape(&rows.monitoring_summary()));
        table(&mut o, &rows.monitoring(LIST_MAX).for_people());
        let _ = writeln!(o, "\n## Exposure windows\n");
        let _ = writeln!(o, "{}\n", escape(rows.exposure_note()));
        table(
            &mut o,
            &rows.exposure_windows(WINDOWS_PER_RULE).for_people(),
        );
        Ok(o.into_bytes())
    }
}
