//! Output of `auditor verify`: a summary for people or JSON. Both open with the provenance.

use std::fmt::Write;

use serde::Serialize;

use crate::chain::{CadenceGap, TrailResult, WitnessTally};
use crate::commands::Verified;
use crate::error::RenderError;
use crate::provenance::stamp;

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
    #[serde(flatten)]
    verified: &'a Verified,
    source: &'a str,
    findings: usize,
    #[serde(flatten)]
    result: &'a TrailResult,
}

/// Renders a verify result.
pub fn render(v: &Verified, format: VerifyFormat) -> Result<Vec<u8>, RenderError> {
    match format {
        VerifyFormat::Json => {
            let doc = VerifyDocument {
                format: "auditor-verify/1",
                verified: v,
                source: &v.provenance.source,
                findings: v.result.finding_count(),
                result: &v.result,
            };
            let mut out = serde_json::to_vec_pretty(&doc)?;
            out.push(b'\n');
            Ok(out)
        }
        VerifyFormat::Text => Ok(text(v).into_bytes()),
    }
}

/// One labelled line, the values aligned.
pub(crate) fn line(o: &mut String, label: &str, value: impl std::fmt::Display) {
    let _ = writeln!(o, "{:<17}{value}", format!("{label}:"));
}

/// What a trailing gap means, or the days a gap left without a report.
pub(crate) fn gap_sentence(g: &CadenceGap) -> String {
    let time = |t: chrono::DateTime<chrono::Utc>| t.format("%Y-%m-%d %H:%M:%SZ").to_string();
    if g.before_key.is_none() {
        return format!(
            "no report since {} ({} h before {}; {} day(s) without a report): the generator stopped or the newest reports were deleted",
            time(g.from),
            g.hours,
            time(g.to),
            g.missing_days
        );
    }
    let days = match (g.missing_dates.first(), g.missing_dates.last()) {
        (Some(a), Some(b)) if a == b => format!("no report on {a}"),
        (Some(a), Some(b)) => format!("no report from {a} to {b}"),
        _ => "late report".to_owned(),
    };
    format!(
        "{days}: {} h between {} and {}",
        g.hours,
        g.after_key.as_deref().unwrap_or("the start"),
        g.before_key.as_deref().unwrap_or_default()
    )
}

fn witness_sentence(t: &WitnessTally, files: &[String]) -> String {
    if files.is_empty() {
        return "none given (--witness FILE checks the trail against the heads the alerts announced)"
            .to_owned();
    }
    let mut s = format!(
        "{} distinct head(s) from {} compared; {} in the trail with the witnessed SHA-256",
        t.compared,
        files.join(", "),
        t.matched
    );
    if let Some(n) = t.newest_sequence {
        let _ = write!(s, "; newest witnessed sequence {n}");
    }
    if t.after_as_of > 0 {
        let _ = write!(s, "; {} after --as-of, not compared", t.after_as_of);
    }
    s
}

fn text(v: &Verified) -> String {
    let r = &v.result;
    let mut o = String::new();
    for (label, _, value) in v.provenance.lines() {
        line(&mut o, &label.to_lowercase(), value);
    }
    let span = match (r.first_sequence, r.last_sequence) {
        (Some(a), Some(b)) => format!(", sequences {a}..{b}"),
        _ => String::new(),
    };
    line(
        &mut o,
        "reports",
        format!(
            "{} ({} valid, {:.1} MB{span})",
            r.reports,
            r.valid_reports,
            r.bytes as f64 / 1e6
        ),
    );
    if let (Some(a), Some(b)) = (r.first_generated_at, r.last_generated_at) {
        line(&mut o, "covering", format!("{} to {}", stamp(a), stamp(b)));
    }
    if v.left_out_after_as_of > 0 {
        line(
            &mut o,
            "left out",
            format!(
                "{} report(s) generated after --as-of",
                v.left_out_after_as_of
            ),
        );
    }
    if let Some(by) = &r.newest_confirmed_by {
        line(
            &mut o,
            "newest link",
            format!("the newest report's bytes are confirmed by the next report, {by}"),
        );
    }
    line(&mut o, "versions", r.versioning.sentence());
    line(&mut o, "head", v.head.sentence());
    line(
        &mut o,
        "witnesses",
        witness_sentence(&r.witnesses, &v.witness_files),
    );
    line(&mut o, "exceptions", v.exceptions.sentence());
    for reg in &v.exceptions.registers {
        let version = reg
            .version_id
            .as_deref()
            .map_or_else(String::new, |v| format!(" (version {v})"));
        let note = reg
            .note
            .as_deref()
            .map_or_else(String::new, |n| format!(": {n}"));
        let _ = writeln!(
            o,
            "  {}{version}, {} exception(s), named by {} report(s): {}{note}",
            reg.key, reg.entries, reg.referenced_by, reg.state
        );
    }
    if r.intact {
        line(&mut o, "chain", "INTACT");
    } else {
        line(
            &mut o,
            "chain",
            format!("BROKEN, {} problem(s)", r.problems.len()),
        );
        for p in &r.problems {
            let _ = writeln!(o, "  {:<22} {}: {}", p.code, p.key, p.detail);
        }
    }
    if r.gaps.is_empty() {
        line(&mut o, "cadence", "no gaps");
    } else {
        line(&mut o, "cadence", format!("{} gap(s)", r.gaps.len()));
        for g in &r.gaps {
            let _ = writeln!(o, "  {}", gap_sentence(g));
        }
    }
    let verdict = match r.finding_count() {
        0 => "OK: the trail is intact and complete".to_owned(),
        n => format!("FINDINGS: {n} (see above)"),
    };
    line(&mut o, "result", verdict);
    o
}
