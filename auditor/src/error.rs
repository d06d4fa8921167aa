//! Error types of the library, one enum per area: reading a source, judging one report, rendering
//! output. A [`ReportProblem`] is not fatal: the scan records it against the report's key and goes on.

use thiserror::Error;

/// The source could not be read at all (listing failed, folder missing, bucket unreachable).
/// This is the "could not run" case: the command exits 2.
#[derive(Debug, Error)]
pub enum SourceError {
    #[error("{source_name}: cannot read the folder: {reason}")]
    Folder { source_name: String, reason: String },
    #[error(
        "{source_name}: S3 request failed: {reason} (check the bucket name, region, credentials and --endpoint-url)"
    )]
    S3 { source_name: String, reason: String },
    /// No usable AWS credentials: the reason says what is missing and how to sign in.
    #[error("{source_name}: {reason}")]
    Credentials { source_name: String, reason: String },
    /// The endpoint stopped answering, or answered in a way that would never end.
    #[error("{source_name}: {endpoint}: {what}; stopped")]
    Stalled {
        source_name: String,
        endpoint: String,
        what: String,
    },
    #[error("{0}: not a valid source; give a folder path or s3://bucket/prefix")]
    BadLocation(String),
    #[error("{0}: the source holds no reports (*.json); check the path or prefix")]
    Empty(String),
}

/// Why one stored object is not a usable report. Each variant names the rule the object broke.
#[derive(Debug, Clone, Error, PartialEq, Eq)]
pub enum ReportProblem {
    #[error("cannot be read: {0}")]
    Unreadable(String),
    #[error(
        "{0} bytes, more than the schema's limit of {max} bytes (x-maxReportBytes); not read",
        max = crate::report::MAX_REPORT_BYTES
    )]
    TooLarge(u64),
    #[error("not UTF-8: invalid byte at offset {0}; reports are UTF-8 JSON")]
    NotUtf8(usize),
    #[error("malformed JSON: {0}")]
    Malformed(String),
    #[error("schemaVersion is {0}; this auditor reads only \"1.0\" reports")]
    WrongSchemaVersion(String),
    #[error("violates the v1 schema at {path}: {message}")]
    Schema { path: String, message: String },
}

impl ReportProblem {
    /// Short stable code used in JSON and CSV output.
    pub fn code(&self) -> &'static str {
        match self {
            ReportProblem::Unreadable(_) => "unreadable",
            ReportProblem::TooLarge(_) => "too-large",
            ReportProblem::NotUtf8(_) => "not-utf8",
            ReportProblem::Malformed(_) => "malformed-json",
            ReportProblem::WrongSchemaVersion(_) => "wrong-schema-version",
            ReportProblem::Schema { .. } => "schema-violation",
        }
    }
}

/// A period argument that cannot be understood.
#[derive(Debug, Error, PartialEq, Eq)]
pub enum PeriodError {
    #[error("--quarter {0}: expected YYYY-QN, e.g. 2026-Q3")]
    Quarter(String),
    #[error("{flag} {value}: expected a date YYYY-MM-DD")]
    Date { flag: &'static str, value: String },
    #[error("--from {from} is after --to {to}")]
    Reversed { from: String, to: String },
    #[error("--from and --to must be given together")]
    HalfOpen,
}

/// Output could not be produced.
#[derive(Debug, Error)]
pub enum RenderError {
    #[error("chart drawing failed: {0}")]
    Chart(String),
    #[error("CSV encoding failed: {0}")]
    Csv(String),
    #[error("JSON encoding failed: {0}")]
    Json(#[from] serde_json::Error),
    /// Writing the output, or a trail's detail kept aside until the roll-up is written.
    #[error("writing the output failed: {0}")]
    Io(#[from] std::io::Error),
}

/// An organization's run stopped: its source stopped answering, or its output could not be written.
#[derive(Debug, Error)]
pub enum OrganizationError {
    #[error(transparent)]
    Source(#[from] SourceError),
    #[error(transparent)]
    Render(#[from] RenderError),
}
