//! Output of `auditor status`: a summary for people or JSON (`auditor-status/1`). Both open with
//! the provenance.

use std::fmt::Write;

use crate::error::RenderError;
use crate::provenance::stamp;
use crate::render::verify::{gap_sentence, line};
use crate::status::{LISTED, ReportSummary, Status, issues_sentence};

/// Output formats of `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StatusFormat {
    /// A summary for people.
    Text,
    /// The full result for machines (`auditor-status/1`).
    Json,
}

/// Renders a status.
pub fn render(s: &Status, format: StatusFormat) -> Result<Vec<u8>, RenderError> {
    match format {
        StatusFormat::Json => {
            let mut out = serde_json::to_vec_pretty(s)?;
            out.push(b'\n');
            Ok(out)
        }
        StatusFormat::Text => Ok(text(s).into_bytes()),
    }
}

/// A percentage for people: `99.0%`, or `—` when there is none.
fn percent(p: Option<f64>) -> String {
    p.map_or_else(|| "—".to_owned(), |p| format!("{p:.1}%"))
}

fn report_line(r: &ReportSummary) -> String {
    let seq = r
        .sequence
        .map_or_else(String::new, |n| format!("sequence {n}, "));
    let sha = if r.sha256.is_empty() {
        "not read"
    } else {
        &r.sha256
    };
    format!("{} ({seq}SHA-256 {sha})", r.key)
}

/// Up to [`LISTED`] lines of one kind of change, then how many more there are.
fn list(o: &mut String, label: &str, items: impl ExactSizeIterator<Item = String>) {
    let n = items.len();
    for item in items.take(LISTED) {
        let _ = writeln!(o, "  {label:<11}{item}");
    }
    if n > LISTED {
        let _ = writeln!(
            o,
            "  {label:<11}… and {} more (--format json lists all)",
            n - LISTED
        );
    }
}

fn text(s: &Status) -> String {
    let mut o = String::new();
    for (label, _, value) in s.provenance.lines() {
        line(&mut o, &label.to_lowercase(), value);
    }
    let _ = writeln!(o);
    line(&mut o, "newest", report_line(&s.newest));
    match (&s.newest.report, &s.newest.problem) {
        (Some(r), _) => {
            let age = s.provenance.as_of.unwrap_or(s.provenance.generated_at) - r.generated_at;
            line(
                &mut o,
                "generated at",
                format!(
                    "{} ({:.1} h before {})",
                    stamp(r.generated_at),
                    age.num_minutes() as f64 / 60.0,
                    if s.provenance.as_of.is_some() {
                        "--as-of"
                    } else {
                        "now"
                    }
                ),
            );
            let incomplete: Vec<&str> = r
                .rules
                .iter()
                .filter(|r| !r.complete)
                .map(|r| r.rule.as_str())
                .collect();
            line(
                &mut o,
                "completeness",
                match (r.complete, incomplete.is_empty()) {
                    (true, _) => "complete: every rule and status read in full".to_owned(),
                    (false, true) => "INCOMPLETE: see monitoring".to_owned(),
                    (false, false) => {
                        format!("INCOMPLETE: not read in full: {}", incomplete.join(", "))
                    }
                },
            );
            line(&mut o, "monitoring", issues_sentence(&r.issues));
            line(
                &mut o,
                "non-compliant",
                format!("{} in {} rule(s)", r.total_non_compliant, r.rules.len()),
            );
            let width = r
                .rules
                .iter()
                .map(|r| r.rule.chars().count())
                .max()
                .unwrap_or(0);
            for rule in &r.rules {
                let counts = match (rule.compliant, rule.evaluated) {
                    (Some(c), Some(e)) => format!("{c} of {e} evaluated compliant"),
                    _ => "rule incomplete".to_owned(),
                };
                let _ = writeln!(
                    o,
                    "  {:<width$}  {:>6} non-compliant  {:>7} compliant  ({counts})",
                    rule.rule,
                    rule.non_compliant,
                    percent(rule.percent),
                );
            }
        }
        (None, problem) => line(
            &mut o,
            "not a report",
            problem.as_deref().unwrap_or("not read"),
        ),
    }
    match &s.previous {
        None => line(&mut o, "previous", "none"),
        Some(p) => {
            let when = p.report.as_ref().map_or_else(String::new, |r| {
                format!(", generated {}", stamp(r.generated_at))
            });
            line(&mut o, "previous", format!("{}{when}", report_line(p)));
        }
    }
    line(&mut o, "link", &s.chain.statement);
    let c = &s.changes;
    if c.compared {
        line(
            &mut o,
            "since previous",
            format!(
                "{} new, {} fixed, {} still open",
                c.new.len(),
                c.fixed.len(),
                c.still_open.len()
            ),
        );
        let name = |f: &crate::status::Finding| {
            format!("{} {} {}", f.rule, f.resource_type, f.resource_id)
        };
        list(&mut o, "new", c.new.iter().map(name));
        list(&mut o, "fixed", c.fixed.iter().map(name));
        list(
            &mut o,
            "still open",
            c.still_open.iter().map(|s| {
                let (earlier, more) = if s.open_since_or_earlier {
                    (" or earlier", "+")
                } else {
                    ("", "")
                };
                format!(
                    "{} (open since {}{earlier}, {}{more} day(s))",
                    name(&s.finding),
                    s.open_since,
                    s.open_days
                )
            }),
        );
        for n in &c.not_compared {
            let _ = writeln!(o, "  {:<11}{}: {}", "not known", n.rule, n.reason);
        }
        line(&mut o, "open since", &c.open_since);
    } else {
        line(
            &mut o,
            "since previous",
            "not compared: both reports must be valid reports",
        );
    }
    if s.chain.left_out_after_as_of > 0 {
        line(
            &mut o,
            "left out",
            format!(
                "{} report(s) generated after --as-of",
                s.chain.left_out_after_as_of
            ),
        );
    }
    if s.chain.problems.is_empty() {
        line(&mut o, "chain", "INTACT between the two reports");
    } else {
        line(
            &mut o,
            "chain",
            format!("BROKEN, {} problem(s)", s.chain.problems.len()),
        );
        for p in &s.chain.problems {
            let _ = writeln!(o, "  {:<22} {}: {}", p.code, p.key, p.detail);
        }
    }
    if s.chain.gaps.is_empty() {
        line(&mut o, "cadence", "no gaps");
    } else {
        line(&mut o, "cadence", format!("{} gap(s)", s.chain.gaps.len()));
        for g in &s.chain.gaps {
            let _ = writeln!(o, "  {}", gap_sentence(g));
        }
    }
    let verdict = match s.finding_count() {
        0 => "OK: the newest report is recent and linked to the one before it".to_owned(),
        n => format!("FINDINGS: {n} (see above)"),
    };
    line(&mut o, "result", verdict);
    o
}
