//! Judging one stored report: UTF-8, JSON, `schemaVersion`, the v1 schema, then a compact digest of
//! the parts the chain check and the timeline need. The schema file in `schema/` is embedded at
//! build time, so the auditor and the report generator always read the same contract.
//!
//! Two schema versions share that file: 1.0, and 1.1, which adds the exceptions register (the
//! register a report was labelled with, and on each finding an exception in force covers, the
//! exception's id, approver and expiry). A 1.0 report predates exceptions: every finding in it
//! reads un-excepted. A trail may mix the two; each report is read by its own version.

use std::sync::OnceLock;

use chrono::{DateTime, NaiveDate, Utc};
use serde::Deserialize;
use serde_json::Value;

use crate::error::ReportProblem;

/// The contract, embedded from `schema/compliance-report.v1.schema.json`.
pub const SCHEMA_TEXT: &str = include_str!("../../schema/compliance-report.v1.schema.json");

/// The `schemaVersion` values this auditor understands: 1.0, and 1.1 (exceptions).
pub const SCHEMA_VERSIONS: [&str; 2] = ["1.0", "1.1"];

/// The largest stored report the schema allows (`x-maxReportBytes`, 128 MiB): a report with
/// 100,000 findings fits even with every resource id at its 768-character maximum. Larger
/// objects are refused before they are read, so one oversized object cannot exhaust memory.
pub const MAX_REPORT_BYTES: u64 = 134_217_728;

/// A report larger than this that the typed check refuses is explained from the typed check
/// alone: the general validator first builds a generic JSON tree, several times the size of the
/// text, which this bound keeps small.
pub const DETAILED_CHECK_MAX_BYTES: usize = 8 << 20;

/// The compiled v1 schema, built once per process.
pub fn schema() -> &'static jsonschema::Validator {
    static VALIDATOR: OnceLock<jsonschema::Validator> = OnceLock::new();
    VALIDATOR.get_or_init(|| {
        // The schema is part of this build and is compiled by the test suite, so failure here is
        // a build defect, not bad input.
        let value: Value = serde_json::from_str(SCHEMA_TEXT).expect("embedded schema is JSON");
        jsonschema::draft202012::new(&value).expect("embedded schema compiles")
    })
}

/// What the auditor keeps of a valid report once its bytes are gone.
#[derive(Debug, Clone, PartialEq)]
pub struct ReportDigest {
    pub report_id: String,
    pub account: String,
    pub region: String,
    pub environment_suffix: String,
    pub generated_at: DateTime<Utc>,
    pub sequence: u64,
    pub previous_key: Option<String>,
    pub previous_sha256: Option<String>,
    pub complete: bool,
    pub rules: Vec<RuleDigest>,
    pub monitoring_issues: Vec<MonitoringIssue>,
    /// What the report says about exceptions: nothing (1.0), no register configured, or the
    /// register its findings were labelled with.
    pub exceptions: Exceptions,
}

/// What one report says about exceptions (docs/report-format.md, "Exceptions").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Exceptions {
    /// Schema 1.0: made before exceptions existed; every finding reads un-excepted.
    NotRecorded,
    /// Schema 1.1 with `exceptionRegister: null`: the generator had no register configured.
    NoRegister,
    /// Schema 1.1: the findings were labelled from this register.
    Register(RegisterRef),
}

impl Exceptions {
    /// The register referenced, if any.
    pub fn register(&self) -> Option<&RegisterRef> {
        match self {
            Exceptions::Register(r) => Some(r),
            _ => None,
        }
    }
}

/// A report's `exceptionRegister`: where the deployed register object is, relative to the trail
/// root (beside `reports/`), and what its stored bytes hash to.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RegisterRef {
    /// `exceptions/<sha256>.json`.
    pub key: String,
    /// The S3 object version; null when the bucket gave none.
    pub version_id: Option<String>,
    pub sha256: String,
    /// How many exceptions the register holds.
    pub entries: u64,
}

/// The label a 1.1 report puts on a finding that an exception in force covers.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, serde::Serialize)]
pub struct ExceptionLabel {
    pub id: String,
    pub approver: String,
    /// The last day the exception is in force: from the day after, the finding is plain
    /// non-compliant again.
    pub expires: NaiveDate,
}

impl ReportDigest {
    /// UTC date of `generatedAt`: the day this report speaks for.
    pub fn day(&self) -> NaiveDate {
        self.generated_at.date_naive()
    }
}

/// One rule of one report.
#[derive(Debug, Clone, PartialEq)]
pub struct RuleDigest {
    pub name: String,
    /// False when the generator could not read the rule's results in full: such a rule neither
    /// opens nor resolves findings, and its counts are not a measure of the day.
    pub complete: bool,
    /// The rule's `counts`: resources evaluated compliant and non-compliant.
    pub counts: RuleCounts,
    pub findings: Vec<FindingRef>,
    /// `counts.excepted` (0 in a 1.0 report).
    pub excepted: u64,
    /// The findings that carry an exception: (index into `findings`, label), by index. Few:
    /// each is a risk someone accepted by name.
    pub labels: Vec<(usize, ExceptionLabel)>,
}

/// What a rule's `counts` say about compliance: the resources the rule evaluated as compliant,
/// and all it evaluated (compliant plus non-compliant; not-applicable resources are not evaluated
/// for compliance and count in neither).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RuleCounts {
    pub compliant: u64,
    pub non_compliant: u64,
}

impl RuleCounts {
    /// Compliant plus non-compliant: the resources the rule evaluated.
    pub fn evaluated(self) -> u64 {
        self.compliant.saturating_add(self.non_compliant)
    }

    /// Compliant over evaluated, in percent, rounded *down* to one decimal: 9,999 of 10,000 reads
    /// 99.9 %, never 100 %, which only all-compliant reaches. `None` when nothing was evaluated.
    pub fn percent(self) -> Option<f64> {
        let evaluated = u128::from(self.evaluated());
        if evaluated == 0 {
            return None;
        }
        let tenths = u128::from(self.compliant) * 1000 / evaluated;
        Some(tenths as f64 / 10.0)
    }
}

/// A non-compliant resource as listed by one rule: `resourceType` and `resourceId` packed into
/// one allocation, because a seven-year trail holds millions of them.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FindingRef {
    packed: Box<str>,
    split: u32,
}

impl FindingRef {
    pub fn new(resource_type: &str, resource_id: &str) -> Self {
        let mut s = String::with_capacity(resource_type.len() + resource_id.len());
        s.push_str(resource_type);
        s.push_str(resource_id);
        FindingRef {
            packed: s.into_boxed_str(),
            split: resource_type.len() as u32,
        }
    }
    pub fn resource_type(&self) -> &str {
        &self.packed[..self.split as usize]
    }
    pub fn resource_id(&self) -> &str {
        &self.packed[self.split as usize..]
    }
}

/// Evidence, in one report, that monitoring itself was not fully on.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MonitoringIssue {
    pub kind: IssueKind,
    /// Recorder, rule or API operation concerned.
    pub subject: String,
    pub detail: String,
}

/// The three things auditors ask about, plus everything else `monitoring.problems[]` can say.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub enum IssueKind {
    /// A configuration recorder was missing, stopped or failing.
    RecorderNotRecording,
    /// A rule was missing, never evaluated, or its last evaluation failed.
    RuleNotEvaluating,
    /// The report says it is incomplete (`complete: false`).
    ReportIncomplete,
    /// Any other monitoring problem (delivery channel, status call).
    MonitoringProblem,
}

impl IssueKind {
    pub fn label(self) -> &'static str {
        match self {
            IssueKind::RecorderNotRecording => "recorder not recording",
            IssueKind::RuleNotEvaluating => "rule not evaluating",
            IssueKind::ReportIncomplete => "report incomplete",
            IssueKind::MonitoringProblem => "monitoring problem",
        }
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawReport<'a> {
    schema_version: &'a str,
    report_id: &'a str,
    account: &'a str,
    region: &'a str,
    environment_suffix: &'a str,
    generated_at: &'a str,
    complete: bool,
    #[serde(borrow)]
    rules: Vec<RawRule<'a>>,
    #[serde(borrow)]
    monitoring: RawMonitoring<'a>,
    #[serde(borrow)]
    errors: Vec<RawError<'a>>,
    #[serde(borrow)]
    chain: RawChain<'a>,
    /// Absent in 1.0; in 1.1 (where the schema requires it) `None` means null.
    #[serde(default, borrow)]
    exception_register: Option<RawRegister<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRegister<'a> {
    key: &'a str,
    version_id: Option<&'a str>,
    sha256: &'a str,
    entries: u64,
}

#[derive(Deserialize)]
struct RawLabel<'a> {
    id: &'a str,
    approver: &'a str,
    expires: &'a str,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawRule<'a> {
    name: &'a str,
    complete: bool,
    counts: RawCounts,
    #[serde(borrow)]
    evaluation_status: Option<RawEvaluationStatus<'a>>,
    #[serde(borrow)]
    non_compliant: Vec<RawFinding<'a>>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawCounts {
    compliant: u64,
    non_compliant: u64,
    #[serde(default)]
    excepted: u64,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEvaluationStatus<'a> {
    last_successful_evaluation_time: Option<&'a str>,
    last_failed_evaluation_time: Option<&'a str>,
    last_error_code: Option<&'a str>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawFinding<'a> {
    resource_type: &'a str,
    resource_id: &'a str,
    #[serde(default, borrow)]
    exception: Option<RawLabel<'a>>,
}

#[derive(Deserialize)]
struct RawMonitoring<'a> {
    #[serde(borrow)]
    recorders: Vec<RawRecorder<'a>>,
    #[serde(borrow)]
    problems: Vec<RawProblem<'a>>,
}

#[derive(Deserialize)]
struct RawRecorder<'a> {
    name: &'a str,
    recording: bool,
}

#[derive(Deserialize)]
struct RawProblem<'a> {
    code: &'a str,
    subject: &'a str,
    message: &'a str,
}

#[derive(Deserialize)]
struct RawError<'a> {
    scope: &'a str,
    subject: &'a str,
    code: &'a str,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawChain<'a> {
    sequence: u64,
    previous_key: Option<&'a str>,
    previous_sha256: Option<&'a str>,
}

/// Judges the stored bytes of one report. Never panics, whatever the bytes, and never holds more
/// than a bounded multiple of [`MAX_REPORT_BYTES`].
pub fn judge(bytes: &[u8]) -> Result<ReportDigest, ReportProblem> {
    if bytes.len() as u64 > MAX_REPORT_BYTES {
        return Err(ReportProblem::TooLarge(bytes.len() as u64));
    }
    let text = std::str::from_utf8(bytes).map_err(|e| ReportProblem::NotUtf8(e.valid_up_to()))?;
    let typed = crate::fastcheck::parse(text);
    if let Ok(report) = &typed {
        if report.violation().is_none() {
            return digest(from_typed(report));
        }
    }
    if text.len() > DETAILED_CHECK_MAX_BYTES {
        return Err(explain_large(text, typed));
    }
    // Not certainly valid: the general validator over the embedded schema decides and explains.
    drop(typed);
    let value: Value =
        serde_json::from_str(text).map_err(|e| ReportProblem::Malformed(e.to_string()))?;
    // Check the version first: a future report should be refused for what it is, not drowned in
    // schema errors about fields this auditor does not know.
    match value.get("schemaVersion") {
        Some(Value::String(v)) if SCHEMA_VERSIONS.contains(&v.as_str()) => {}
        Some(other) => return Err(ReportProblem::WrongSchemaVersion(other.to_string())),
        None if value.is_object() => {
            return Err(ReportProblem::WrongSchemaVersion("missing".to_owned()));
        }
        None => {}
    }
    let validator = schema();
    if !validator.is_valid(&value) {
        let (path, message) = validator
            .iter_errors(&value)
            .next()
            .map(|e| (path_or_root(e.instance_path().to_string()), e.to_string()))
            .unwrap_or_else(|| ("/".to_owned(), "invalid".to_owned()));
        return Err(ReportProblem::Schema { path, message });
    }
    let raw = RawReport::deserialize(&value).map_err(|e| ReportProblem::Schema {
        path: "/".to_owned(),
        message: e.to_string(),
    })?;
    digest(raw)
}

/// Why a large report that the typed check refused is not a valid v1 report, without building a
/// generic JSON tree: the version (read on its own, skipping everything else), then the typed
/// check's parse error or the constraint the report breaks.
fn explain_large(
    text: &str,
    typed: Result<crate::fastcheck::Report<'_>, serde_json::Error>,
) -> ReportProblem {
    #[derive(Deserialize)]
    struct Version<'a> {
        #[serde(rename = "schemaVersion", borrow)]
        schema_version: Option<std::borrow::Cow<'a, str>>,
    }
    match serde_json::from_str::<Version<'_>>(text) {
        Err(e) => return ReportProblem::Malformed(e.to_string()),
        Ok(Version {
            schema_version: None,
        }) => {
            return ReportProblem::WrongSchemaVersion("missing".to_owned());
        }
        Ok(Version {
            schema_version: Some(v),
        }) if !SCHEMA_VERSIONS.contains(&&*v) => {
            return ReportProblem::WrongSchemaVersion(format!("{v:?}"));
        }
        Ok(_) => {}
    }
    let message = match &typed {
        Err(e) => e.to_string(),
        Ok(report) => report.violation().unwrap_or("invalid").to_owned(),
    };
    ReportProblem::Schema {
        path: "/".to_owned(),
        message: format!("{message} (a report over 8 MiB is explained by the typed check alone)"),
    }
}

/// Views a report that passed the typed check as the digest's input.
fn from_typed<'a>(r: &'a crate::fastcheck::Report<'a>) -> RawReport<'a> {
    RawReport {
        schema_version: &r.schema_version,
        report_id: &r.report_id,
        account: &r.account,
        region: &r.region,
        environment_suffix: &r.environment_suffix,
        generated_at: &r.generated_at,
        complete: r.complete,
        rules: r
            .rules
            .iter()
            .map(|rule| RawRule {
                name: &rule.name,
                complete: rule.complete,
                counts: RawCounts {
                    compliant: rule.counts.compliant,
                    non_compliant: rule.counts.non_compliant,
                    excepted: rule.counts.excepted.0.unwrap_or(0),
                },
                evaluation_status: rule
                    .evaluation_status
                    .0
                    .as_ref()
                    .map(|e| RawEvaluationStatus {
                        last_successful_evaluation_time: e
                            .last_successful_evaluation_time
                            .0
                            .as_deref(),
                        last_failed_evaluation_time: e.last_failed_evaluation_time.0.as_deref(),
                        last_error_code: e.last_error_code.0.as_deref(),
                    }),
                non_compliant: rule
                    .non_compliant
                    .iter()
                    .map(|f| RawFinding {
                        resource_type: &f.resource_type,
                        resource_id: &f.resource_id,
                        exception: f.exception.0.as_ref().map(|l| RawLabel {
                            id: &l.id,
                            approver: &l.approver,
                            expires: &l.expires,
                        }),
                    })
                    .collect(),
            })
            .collect(),
        monitoring: RawMonitoring {
            recorders: r
                .monitoring
                .recorders
                .iter()
                .map(|x| RawRecorder {
                    name: &x.name,
                    recording: x.recording,
                })
                .collect(),
            problems: r
                .monitoring
                .problems
                .iter()
                .map(|p| RawProblem {
                    code: &p.code,
                    subject: &p.subject,
                    message: &p.message,
                })
                .collect(),
        },
        errors: r
            .errors
            .iter()
            .map(|e| RawError {
                scope: &e.scope,
                subject: &e.subject,
                code: &e.code,
            })
            .collect(),
        chain: RawChain {
            sequence: r.chain.sequence,
            previous_key: r.chain.previous_key.0.as_deref(),
            previous_sha256: r.chain.previous_sha256.0.as_deref(),
        },
        exception_register: r
            .exception_register
            .0
            .as_ref()
            .and_then(|n| n.0.as_ref())
            .map(|x| RawRegister {
                key: &x.key,
                version_id: x.version_id.0.as_deref(),
                sha256: &x.sha256,
                entries: x.entries,
            }),
    }
}

/// The general validator's verdict alone, for tests that hold the typed check to the schema.
pub fn schema_accepts(text: &str) -> bool {
    serde_json::from_str::<Value>(text).is_ok_and(|v| schema().is_valid(&v))
}

fn path_or_root(p: String) -> String {
    if p.is_empty() { "/".to_owned() } else { p }
}

fn parse_time(field: &str, s: &str) -> Result<DateTime<Utc>, ReportProblem> {
    DateTime::parse_from_rfc3339(s)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| ReportProblem::Schema {
            path: field.to_owned(),
            message: format!("{s:?} is not a valid time: {e}"),
        })
}

/// A `YYYY-MM-DD` date the schema's pattern admitted, checked for being a real date.
pub fn parse_date(field: &str, s: &str) -> Result<NaiveDate, ReportProblem> {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|e| ReportProblem::Schema {
        path: field.to_owned(),
        message: format!("{s:?} is not a valid date: {e}"),
    })
}

fn digest(raw: RawReport<'_>) -> Result<ReportDigest, ReportProblem> {
    let generated_at = parse_time("/generatedAt", raw.generated_at)?;
    let mut issues = Vec::new();
    for r in &raw.monitoring.recorders {
        if !r.recording {
            issues.push(issue(
                IssueKind::RecorderNotRecording,
                r.name,
                "recording is false",
            ));
        }
    }
    for p in &raw.monitoring.problems {
        let kind = match p.code {
            "RECORDER_MISSING" | "RECORDER_NOT_RECORDING" | "RECORDER_FAILURE" => {
                IssueKind::RecorderNotRecording
            }
            "RULE_MISSING" | "RULE_NOT_EVALUATED" | "RULE_EVALUATION_FAILED" => {
                IssueKind::RuleNotEvaluating
            }
            _ => IssueKind::MonitoringProblem,
        };
        issues.push(issue(
            kind,
            p.subject,
            &format!("{}: {}", p.code, p.message),
        ));
    }
    let mut rules = Vec::with_capacity(raw.rules.len());
    for (i, r) in raw.rules.into_iter().enumerate() {
        if let Some(st) = &r.evaluation_status {
            if let Some(failed) = st.last_failed_evaluation_time {
                let failed_at = parse_time(&format!("/rules/{i}/evaluationStatus"), failed)?;
                let ok_at = match st.last_successful_evaluation_time {
                    Some(s) => Some(parse_time(&format!("/rules/{i}/evaluationStatus"), s)?),
                    None => None,
                };
                if ok_at.is_none_or(|ok| failed_at > ok) {
                    let code = st.last_error_code.unwrap_or("unknown error");
                    issues.push(issue(
                        IssueKind::RuleNotEvaluating,
                        r.name,
                        &format!("last evaluation failed ({code})"),
                    ));
                }
            }
        }
        let findings = r
            .non_compliant
            .iter()
            .map(|f| FindingRef::new(f.resource_type, f.resource_id))
            .collect();
        let mut labels = Vec::new();
        for (j, f) in r.non_compliant.iter().enumerate() {
            if let Some(l) = &f.exception {
                let path = format!("/rules/{i}/nonCompliant/{j}/exception/expires");
                labels.push((
                    j,
                    ExceptionLabel {
                        id: l.id.to_owned(),
                        approver: l.approver.to_owned(),
                        expires: parse_date(&path, l.expires)?,
                    },
                ));
            }
        }
        rules.push(RuleDigest {
            name: r.name.to_owned(),
            complete: r.complete,
            counts: RuleCounts {
                compliant: r.counts.compliant,
                non_compliant: r.counts.non_compliant,
            },
            findings,
            excepted: r.counts.excepted,
            labels,
        });
    }
    if !raw.complete {
        if raw.errors.is_empty() {
            issues.push(issue(
                IssueKind::ReportIncomplete,
                "report",
                "complete is false",
            ));
        }
        for e in &raw.errors {
            issues.push(issue(
                IssueKind::ReportIncomplete,
                e.subject,
                &format!("{}: {}", e.scope, e.code),
            ));
        }
    }
    issues.sort();
    issues.dedup();
    let exceptions = match (raw.schema_version, raw.exception_register) {
        ("1.0", _) => Exceptions::NotRecorded,
        (_, None) => Exceptions::NoRegister,
        (_, Some(r)) => Exceptions::Register(RegisterRef {
            key: r.key.to_owned(),
            version_id: r.version_id.map(str::to_owned),
            sha256: r.sha256.to_owned(),
            entries: r.entries,
        }),
    };
    Ok(ReportDigest {
        report_id: raw.report_id.to_owned(),
        account: raw.account.to_owned(),
        region: raw.region.to_owned(),
        environment_suffix: raw.environment_suffix.to_owned(),
        generated_at,
        sequence: raw.chain.sequence,
        previous_key: raw.chain.previous_key.map(str::to_owned),
        previous_sha256: raw.chain.previous_sha256.map(str::to_owned),
        complete: raw.complete,
        rules,
        monitoring_issues: issues,
        exceptions,
    })
}

fn issue(kind: IssueKind, subject: &str, detail: &str) -> MonitoringIssue {
    MonitoringIssue {
        kind,
        subject: subject.to_owned(),
        detail: detail.to_owned(),
    }
}
