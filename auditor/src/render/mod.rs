//! Output formats for the timeline, one file per format behind one trait. Rendering returns bytes
//! and never writes, so every format is snapshot-tested; writing is the caller's job.

mod chart;
mod csv;
mod html;
mod json;
mod markdown;
pub mod verify;

use crate::error::RenderError;
use crate::timeline::Timeline;

pub use self::csv::CsvRenderer;
pub use html::HtmlRenderer;
pub use json::JsonRenderer;
pub use markdown::MarkdownRenderer;

/// Turns a timeline into the bytes of one output format.
pub trait Renderer {
    fn render(&self, timeline: &Timeline) -> Result<Vec<u8>, RenderError>;
}

/// Timeline output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum TimelineFormat {
    /// One self-contained page with inline SVG charts; prints to PDF.
    Html,
    /// Spreadsheet sections in one file (see the README for the layout).
    Csv,
    /// The full timeline for machines (field names are stable).
    Json,
    /// Markdown for tickets.
    Md,
}

/// The renderer for `format`.
pub fn renderer(format: TimelineFormat) -> Box<dyn Renderer> {
    match format {
        TimelineFormat::Html => Box::new(HtmlRenderer),
        TimelineFormat::Csv => Box::new(CsvRenderer),
        TimelineFormat::Json => Box::new(JsonRenderer),
        TimelineFormat::Md => Box::new(MarkdownRenderer),
    }
}

/// `12.5` or `—` for a missing figure.
pub(crate) fn opt_f64(v: Option<f64>) -> String {
    v.map_or_else(|| "—".to_owned(), |v| format!("{v}"))
}

pub(crate) fn opt_i64(v: Option<i64>) -> String {
    v.map_or_else(|| "—".to_owned(), |v| v.to_string())
}

/// One-line trail verdict shared by the human formats.
pub(crate) fn trail_verdict(t: &Timeline) -> String {
    let c = &t.chain;
    let chain = if c.intact {
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
    let gaps = match (c.gaps.len(), t.monitoring.days_without_report) {
        (0, 0) => "a report every day".to_owned(),
        (g, d) => format!("{g} cadence gap(s), {d} day(s) without a report"),
    };
    format!("{chain}; {gaps}")
}
