//! `auditor verify` over an organization's bucket: every trail verified as one trail is (the
//! chain, its head `chain/<account>/<region>/head.json`, the witnesses naming it, the absence
//! rule up to now or `--as-of`, object versions), a bounded number at a time, then the
//! organization summary: trails, reports, findings per kind, trails with findings, and the
//! organization's own findings (see [`super::Organization::problems`]).

use std::collections::BTreeMap;

use indicatif::ProgressBar;
use serde::Serialize;

use super::{OrgProvenance, Organization, TrailName, TrailReports, ends_the_run, for_each_trail};
use crate::chain::Problem;
use crate::commands::{self, Verified, VerifyOptions};
use crate::error::SourceError;
use crate::provenance::stamp;
use crate::scan::Fanout;

/// One trail's verification, or why the trail could not be read.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct TrailVerified {
    #[serde(flatten)]
    pub trail: TrailName,
    /// The trail's source (its folder or prefix).
    pub source: String,
    /// Null when the trail was read; else why not (a finding).
    pub unreadable: Option<String>,
    #[serde(skip)]
    pub verified: Option<Verified>,
}

impl TrailVerified {
    /// The trail's findings: its chain problems and cadence gaps, or one when it was not read.
    pub fn finding_count(&self) -> usize {
        self.verified
            .as_ref()
            .map_or(1, |v| v.result.finding_count())
    }
}

/// The organization summary.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrgSummary {
    pub trails: usize,
    pub accounts: usize,
    pub regions: Vec<String>,
    pub reports: usize,
    pub valid_reports: usize,
    pub bytes: u64,
    /// Every finding: the trails' and the organization's.
    pub findings: usize,
    /// Findings per code (`cadence-gap` for gaps), over the trails and the organization.
    pub findings_by_kind: BTreeMap<String, usize>,
    pub trails_with_findings: usize,
    /// Trails that could not be read at all.
    pub trails_unreadable: usize,
}

/// The result of `verify` over an organization.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OrgVerified {
    pub provenance: OrgProvenance,
    pub summary: OrgSummary,
    /// The organization's own findings.
    pub problems: Vec<Problem>,
    /// Per trail, in account and region order.
    pub trails: Vec<TrailVerified>,
}

impl OrgVerified {
    pub fn finding_count(&self) -> usize {
        self.summary.findings
    }
}

/// Verifies every trail of `org` with `opts` (its witnesses are routed to the trails their keys
/// name). A trail that cannot be listed is a finding; an endpoint that stops answering ends the
/// run.
pub fn verify(
    org: &Organization<'_>,
    opts: VerifyOptions,
    progress: &ProgressBar,
) -> Result<OrgVerified, SourceError> {
    let trails = &org.discovery.trails;
    let (mut witnesses, mut problems) = super::route_witnesses(opts.witnesses.clone(), trails);
    problems.extend(org.problems());
    let names = org.names();
    let per_trail: Vec<Vec<crate::witness::Witness>> = trails
        .iter()
        .map(|t| witnesses.remove(t).unwrap_or_default())
        .collect();
    progress.set_length(trails.len() as u64);
    let hidden = ProgressBar::hidden();
    let mut out: Vec<TrailVerified> = Vec::with_capacity(trails.len());
    for_each_trail(
        trails,
        org.jobs,
        |id| {
            let i = trails.binary_search(id).unwrap_or_default();
            let source = org.source.trail(id)?;
            let trail_opts = VerifyOptions {
                witnesses: per_trail[i].clone(),
                fanout: Fanout::ThisThread,
                ..opts.clone()
            };
            let name = source.name().to_owned();
            match commands::verify(source.as_ref(), trail_opts, &hidden) {
                Ok(v) => Ok((name, Ok(v))),
                Err(e) if ends_the_run(&e) => Err(e),
                Err(e) => Ok((name, Err(e.to_string()))),
            }
        },
        |i, (source, verified)| {
            progress.inc(1);
            let (unreadable, verified) = match verified {
                Ok(v) => (None, Some(v)),
                Err(reason) => (Some(reason), None),
            };
            out.push(TrailVerified {
                trail: names[i].clone(),
                source,
                unreadable,
                verified,
            });
            Ok(())
        },
    )?;
    progress.finish_and_clear();
    let moment = opts.as_of.unwrap_or(opts.now);
    let period = format!("every trail, whole, to {}", stamp(moment));
    let mut provenance = org.provenance(period, opts.now, opts.as_of);
    let mut summary = OrgSummary {
        trails: out.len(),
        ..OrgSummary::default()
    };
    let mut accounts = std::collections::BTreeSet::new();
    let mut regions = std::collections::BTreeSet::new();
    for t in &out {
        accounts.insert(t.trail.account.clone());
        regions.insert(t.trail.region.clone());
        let r = t.verified.as_ref().map(|v| &v.result);
        provenance.trails.push(TrailReports {
            account: t.trail.account.clone(),
            region: t.trail.region.clone(),
            first_report: r.and_then(|r| r.first_report.clone()),
            newest_report: r.and_then(|r| r.newest_report.clone()),
        });
        let Some(r) = r else {
            summary.trails_unreadable += 1;
            summary.trails_with_findings += 1;
            *summary
                .findings_by_kind
                .entry("trail-unreadable".to_owned())
                .or_default() += 1;
            continue;
        };
        summary.reports += r.reports;
        summary.valid_reports += r.valid_reports;
        summary.bytes += r.bytes;
        if r.finding_count() > 0 {
            summary.trails_with_findings += 1;
        }
        for p in &r.problems {
            *summary
                .findings_by_kind
                .entry(p.code.to_owned())
                .or_default() += 1;
        }
        if !r.gaps.is_empty() {
            *summary
                .findings_by_kind
                .entry("cadence-gap".to_owned())
                .or_default() += r.gaps.len();
        }
    }
    for p in &problems {
        *summary
            .findings_by_kind
            .entry(p.code.to_owned())
            .or_default() += 1;
    }
    summary.accounts = accounts.len();
    summary.regions = regions.into_iter().collect();
    summary.findings = summary.findings_by_kind.values().sum();
    provenance.reports_checked = summary.reports;
    Ok(OrgVerified {
        provenance,
        summary,
        problems,
        trails: out,
    })
}
