//! Output formats for the timeline, one file per format behind one trait. Rendering returns bytes
//! and never writes, so every format is snapshot-tested; writing is the caller's job. The HTML,
//! Markdown and CSV formats take their tables, series and shared sentences from one row model,
//! [`rows`], and only lay them out.

mod chart;
mod csv;
mod html;
mod json;
mod markdown;
mod org_html;
mod org_rows;
pub mod org_timeline;
pub mod org_verify;
mod rows;
pub mod status;
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

impl TimelineFormat {
    /// The file name extensions that mean this format (`-o q3.csv`), compared without case.
    pub fn extensions(self) -> &'static [&'static str] {
        match self {
            TimelineFormat::Html => &["html", "htm"],
            TimelineFormat::Csv => &["csv"],
            TimelineFormat::Json => &["json"],
            TimelineFormat::Md => &["md", "markdown"],
        }
    }

    /// The format a file name's extension means, if any.
    pub fn from_extension(ext: &str) -> Option<Self> {
        [Self::Html, Self::Csv, Self::Json, Self::Md]
            .into_iter()
            .find(|f| f.extensions().iter().any(|e| e.eq_ignore_ascii_case(ext)))
    }

    /// The name `--format` takes.
    pub fn name(self) -> &'static str {
        match self {
            TimelineFormat::Html => "html",
            TimelineFormat::Csv => "csv",
            TimelineFormat::Json => "json",
            TimelineFormat::Md => "md",
        }
    }
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
