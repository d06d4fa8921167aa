//! Output of `auditor verify` over an organization: text for people, or JSON. Both open with the
//! organization's provenance; each trail's section opens with its first and newest report.

use std::fmt::Write;

use serde::Serialize;

use super::verify::{VerifyFormat, gap_sentence, line};
use crate::chain::TrailResult;
use crate::commands::Verified;
use crate::error::RenderError;
use crate::organization::TrailName;
use crate::organization::verify::{OrgSummary, OrgVerified, TrailVerified};

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct Document<'a> {
    format: &'static str,
    provenance: &'a crate::organization::OrgProvenance,
    summary: &'a OrgSummary,
    problems: &'a [crate::chain::Problem],
    trails: Vec<TrailDocument<'a>>,
}

#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
struct TrailDocument<'a> {
    #[serde(flatten)]
    trail: &'a TrailName,
    source: &'a str,
    unreadable: Option<&'a str>,
    findings: usize,
    #[serde(flatten)]
    verified: Option<&'a Verified>,
    #[serde(flatten)]
    result: Option<&'a TrailResult>,
}

/// Renders an organization's verify result.
pub fn render(v: &OrgVerified, format: VerifyFormat) -> Result<Vec<u8>, RenderError> {
    match format {
        VerifyFormat::Json => {
            let doc = Document {
                format: "auditor-verify-organization/1",
                provenance: &v.provenance,
                summary: &v.summary,
                problems: &v.problems,
                trails: v
                    .trails
                    .iter()
                    .map(|t| TrailDocument {
                        trail: &t.trail,
                        source: &t.source,
                        unreadable: t.unreadable.as_deref(),
                        findings: t.finding_count(),
                        verified: t.verified.as_ref(),
                        result: t.verified.as_ref().map(|v| &v.result),
                    })
                    .collect(),
            };
            let mut out = serde_json::to_vec_pretty(&doc)?;
            out.push(b'\n');
            Ok(out)
        }
        VerifyFormat::Text => Ok(text(v).into_bytes()),
    }
}

fn report(r: Option<&crate::chain::ReportRef>) -> String {
    r.map_or_else(
        || "(none)".to_owned(),
        |r| format!("{} (SHA-256 {})", r.key, r.sha256),
    )
}

fn trail_text(o: &mut String, t: &TrailVerified) {
    let Some(v) = &t.verified else {
        let _ = writeln!(
            o,
            "trail {}: NOT READ: {}",
            t.trail.label(),
            t.unreadable.as_deref().unwrap_or_default()
        );
        return;
    };
    let r = &v.result;
    let span = match (r.first_sequence, r.last_sequence) {
        (Some(a), Some(b)) => format!(", sequences {a}..{b}"),
        _ => String::new(),
    };
    let verdict = match r.finding_count() {
        0 => "OK".to_owned(),
        n => format!("FINDINGS {n}"),
    };
    let _ = writeln!(
        o,
        "trail {}: {verdict}, {} reports{span}",
        t.trail.label(),
        r.reports
    );
    let _ = writeln!(o, "  first:  {}", report(r.first_report.as_ref()));
    let _ = writeln!(o, "  newest: {}", report(r.newest_report.as_ref()));
    if r.finding_count() == 0 {
        return;
    }
    let _ = writeln!(o, "  head:   {}", v.head.sentence());
    for p in &r.problems {
        let _ = writeln!(o, "  {:<22} {}: {}", p.code, p.key, p.detail);
    }
    for g in &r.gaps {
        let _ = writeln!(o, "  {:<22} {}", "cadence-gap", gap_sentence(g));
    }
}

fn text(v: &OrgVerified) -> String {
    let mut o = String::new();
    for (label, _, value) in v.provenance.lines() {
        line(&mut o, &label.to_lowercase(), value);
    }
    o.push('\n');
    for t in &v.trails {
        trail_text(&mut o, t);
    }
    if !v.trails.is_empty() {
        o.push('\n');
    }
    let s = &v.summary;
    line(
        &mut o,
        "trails",
        format!(
            "{} ({} accounts; regions {}), {} with findings",
            s.trails,
            s.accounts,
            if s.regions.is_empty() {
                "none".to_owned()
            } else {
                s.regions.join(", ")
            },
            s.trails_with_findings
        ),
    );
    line(
        &mut o,
        "reports",
        format!(
            "{} ({} valid, {:.1} MB)",
            s.reports,
            s.valid_reports,
            s.bytes as f64 / 1e6
        ),
    );
    if let Some(v) = v.trails.iter().find_map(|t| t.verified.as_ref()) {
        line(&mut o, "versions", v.result.versioning.sentence());
    }
    if v.problems.is_empty() {
        line(
            &mut o,
            "organization",
            if v.provenance.accounts_from.is_some() {
                "every account listed has its trails, none is unexpected, nothing lies outside the trails"
            } else {
                "nothing lies outside the trails (without --accounts, accounts without a trail cannot be found)"
            },
        );
    } else {
        line(
            &mut o,
            "organization",
            format!("{} finding(s) of the organization itself", v.problems.len()),
        );
        for p in &v.problems {
            let _ = writeln!(o, "  {:<22} {}: {}", p.code, p.key, p.detail);
        }
    }
    let kinds: Vec<String> = s
        .findings_by_kind
        .iter()
        .map(|(k, n)| format!("{k} {n}"))
        .collect();
    line(
        &mut o,
        "findings",
        if kinds.is_empty() {
            "none".to_owned()
        } else {
            format!("{}: {}", s.findings, kinds.join(", "))
        },
    );
    let verdict = match s.findings {
        0 => "OK: every trail is intact and complete".to_owned(),
        n => format!(
            "FINDINGS: {n} in {} trail(s) and the organization (see above)",
            s.trails_with_findings
        ),
    };
    line(&mut o, "result", verdict);
    o
}
