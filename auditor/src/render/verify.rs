//! Output of `auditor verify`: a human summary or JSON.

use std::fmt::Write;

use serde::Serialize;

use crate::chain::TrailResult;
use crate::error::RenderError;

/// Output formats of `verify`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum VerifyFormat {
    /// A summary for people.
    Text,
    /// The full result for machines.
    Json,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct VerifyDocument<'a> {
    format: &'static str,
    source: &'a str,
    findings: usize,
    #[serde(flatten)]
    result: &'a TrailResult,
}

/// Renders a verify result.
pub fn render(source: &str, r: &TrailResult, format: VerifyFormat) -> Result<Vec<u8>, RenderError> {
    match format {
        VerifyFormat::Json => {
            let doc = VerifyDocument {
                format: "auditor-verify/1",
                source,
                findings: r.finding_count(),
                result: r,
            };
            let mut out = serde_json::to_vec_pretty(&doc)?;
            out.push(b'\n');
            Ok(out)
        }
        VerifyFormat::Text => Ok(text(source, r).into_bytes()),
    }
}

fn text(source: &str, r: &TrailResult) -> String {
    let mut o = String::new();
    let _ = writeln!(o, "source:   {source}");
    let span = match (r.first_sequence, r.last_sequence) {
        (Some(a), Some(b)) => format!(", sequences {a}..{b}"),
        _ => String::new(),
    };
    let _ = writeln!(
        o,
        "reports:  {} ({} valid, {:.1} MB{span})",
        r.reports,
        r.valid_reports,
        r.bytes as f64 / 1e6
    );
    if let (Some(a), Some(b)) = (r.first_generated_at, r.last_generated_at) {
        let _ = writeln!(
            o,
            "covering: {} to {}",
            a.format("%Y-%m-%d %H:%M:%SZ"),
            b.format("%Y-%m-%d %H:%M:%SZ")
        );
    }
    if !r.versions_checked {
        let _ = writeln!(
            o,
            "versions: not applicable (local folder); overwrites and deletions show only as chain breaks"
        );
    }
    if r.intact {
        let _ = writeln!(o, "chain:    INTACT");
    } else {
        let _ = writeln!(o, "chain:    BROKEN, {} problem(s)", r.problems.len());
        for p in &r.problems {
            let _ = writeln!(o, "  {:<22} {}: {}", p.code, p.key, p.detail);
        }
    }
    if r.gaps.is_empty() {
        let _ = writeln!(o, "cadence:  no gaps");
    } else {
        let _ = writeln!(o, "cadence:  {} gap(s)", r.gaps.len());
        for g in &r.gaps {
            let days = match (g.missing_dates.first(), g.missing_dates.last()) {
                (Some(a), Some(b)) if a == b => format!("no report on {a}"),
                (Some(a), Some(b)) => format!("no report from {a} to {b}"),
                _ => "late report".to_owned(),
            };
            let _ = writeln!(
                o,
                "  {days}: {} h between {} and {}",
                g.hours, g.after_key, g.before_key
            );
        }
    }
    let verdict = match r.finding_count() {
        0 => "OK: the trail is intact and complete".to_owned(),
        n => format!("FINDINGS: {n} (see above)"),
    };
    let _ = writeln!(o, "result:   {verdict}");
    o
}
