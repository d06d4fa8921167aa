//! Provenance: what every output opens with, so an auditor can cite it in a working paper and a
//! second person can reproduce it — where the reports say they were made (account, region,
//! environment), the period, the source, when the output was made and by which auditor version,
//! how many reports were checked, and the first and newest of them by key and SHA-256.

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::chain::{ReportRef, TrailResult};

/// The auditor's version, as built.
pub const AUDITOR_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Where an output's figures come from.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Provenance {
    /// Every distinct `account` in the reports checked (more than one is itself worth a look).
    pub accounts: Vec<String>,
    pub regions: Vec<String>,
    pub environments: Vec<String>,
    /// The period the output speaks for, in words.
    pub period: String,
    /// The source as given on the command line.
    pub source: String,
    pub generated_at: DateTime<Utc>,
    /// `--as-of`, when the check speaks for an earlier moment than `generatedAt`.
    pub as_of: Option<DateTime<Utc>>,
    pub auditor_version: &'static str,
    pub reports_checked: usize,
    /// The report with the lowest sequence checked, and the one with the highest.
    pub first_report: Option<ReportRef>,
    pub newest_report: Option<ReportRef>,
}

/// Time as written in every output: RFC 3339 in UTC, to the second.
pub fn stamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

impl Provenance {
    /// The provenance of an output about `chain`.
    pub fn new(
        source: &str,
        period: String,
        generated_at: DateTime<Utc>,
        as_of: Option<DateTime<Utc>>,
        chain: &TrailResult,
    ) -> Self {
        Provenance {
            accounts: chain.accounts.clone(),
            regions: chain.regions.clone(),
            environments: chain.environments.clone(),
            period,
            source: source.to_owned(),
            generated_at,
            as_of,
            auditor_version: AUDITOR_VERSION,
            reports_checked: chain.reports,
            first_report: chain.first_report.clone(),
            newest_report: chain.newest_report.clone(),
        }
    }

    /// Every line as (label for people, field name as data, value), in the order outputs show
    /// them. Values are text taken partly from reports: formats escape or neutralise them.
    pub fn lines(&self) -> Vec<(&'static str, &'static str, String)> {
        let list = |v: &[String]| {
            if v.is_empty() {
                "(no valid report)".to_owned()
            } else {
                v.join(", ")
            }
        };
        let report = |r: &Option<ReportRef>| {
            r.as_ref().map_or_else(
                || "(none)".to_owned(),
                |r| {
                    let sha = if r.sha256.is_empty() {
                        "not read"
                    } else {
                        &r.sha256
                    };
                    format!("{} (SHA-256 {sha})", r.key)
                },
            )
        };
        let mut lines = vec![
            ("Account", "account", list(&self.accounts)),
            ("Region", "region", list(&self.regions)),
            ("Environment", "environment", list(&self.environments)),
            ("Period", "period", self.period.clone()),
            ("Source", "source", self.source.clone()),
            ("Generated", "generated_at", stamp(self.generated_at)),
        ];
        if let Some(t) = self.as_of {
            lines.push(("As of", "as_of", stamp(t)));
        }
        lines.extend([
            (
                "Auditor version",
                "auditor_version",
                self.auditor_version.to_owned(),
            ),
            (
                "Reports checked",
                "reports_checked",
                self.reports_checked.to_string(),
            ),
            ("First report", "first_report", report(&self.first_report)),
            (
                "Newest report",
                "newest_report",
                report(&self.newest_report),
            ),
        ]);
        lines
    }
}
