//! A fast, typed check of the v1 schema, used before the general JSON Schema validator.
//!
//! Building a `serde_json::Value` for a 400 kB report costs about three times as much as reading
//! it into typed structs, and seven years of reports are a gigabyte. So each report is first read
//! into the structs below, which spell out every constraint of
//! `schema/compliance-report.v1.schema.json` (closed objects, required and nullable fields,
//! enums, patterns, lengths, minimums). The rule that keeps this safe: this check may only be
//! *stricter* than the schema. When it accepts, the schema accepts too (a property test checks
//! this against the validator on damaged reports); when it refuses, the report goes through the
//! embedded schema with the general validator, which has the final word and gives the message.
//!
//! Schema 1.1's fields (the exceptions register) are optional here and required or forbidden by
//! `schemaVersion` in the checks, as the schema's `if`/`then`/`else` does. A field that may be
//! absent but never null is read as [`Present`], so a `null` is refused rather than taken for
//! absence.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::ops::Deref;

use serde::de::Visitor;
use serde::{Deserialize, Deserializer};

/// A string of the report, borrowed from the report's bytes unless it holds an escape. serde
/// borrows a `Cow` only for a field whose type is written `Cow` (not behind an alias, not inside
/// an `Option`), so without this every string of every report was copied and freed again: a
/// tenth of an organization's timeline (`make bench-org`) went to that.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Text<'a>(Cow<'a, str>);

impl Deref for Text<'_> {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl PartialEq<&str> for Text<'_> {
    fn eq(&self, other: &&str) -> bool {
        *self.0 == **other
    }
}

impl<'de: 'a, 'a> Deserialize<'de> for Text<'a> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Str;
        impl<'de> Visitor<'de> for Str {
            type Value = Text<'de>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a string")
            }
            fn visit_borrowed_str<E: serde::de::Error>(self, v: &'de str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Borrowed(v)))
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v.to_owned())))
            }
            fn visit_string<E: serde::de::Error>(self, v: String) -> Result<Text<'de>, E> {
                Ok(Text(Cow::Owned(v)))
            }
        }
        d.deserialize_str(Str)
    }
}

/// A field that must be present and may be null (serde treats a missing `Option` as `None`).
#[derive(Debug)]
pub struct Nullable<T>(pub Option<T>);

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Nullable<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        Option::<T>::deserialize(d).map(Nullable)
    }
}

/// A field that may be absent (`#[serde(default)]`) but, when present, must not be null: the
/// schema's optional, non-nullable properties (serde would read a `null` `Option` as absent).
#[derive(Debug)]
pub struct Present<T>(pub Option<T>);

impl<T> Default for Present<T> {
    fn default() -> Self {
        Present(None)
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Present<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::deserialize(d).map(|v| Present(Some(v)))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Report<'a> {
    #[serde(borrow)]
    pub schema_version: Text<'a>,
    #[serde(borrow)]
    pub report_id: Text<'a>,
    #[serde(borrow)]
    pub generated_at: Text<'a>,
    #[serde(borrow)]
    generator: Generator<'a>,
    #[serde(borrow)]
    trigger: Trigger<'a>,
    #[serde(borrow)]
    pub account: Text<'a>,
    #[serde(borrow)]
    pub region: Text<'a>,
    #[serde(borrow)]
    pub environment_suffix: Text<'a>,
    pub complete: bool,
    #[serde(borrow)]
    pub rules: Vec<Rule<'a>>,
    #[serde(borrow)]
    summary: Summary<'a>,
    #[serde(borrow)]
    pub monitoring: Monitoring<'a>,
    #[serde(borrow)]
    pub errors: Vec<Error<'a>>,
    #[serde(borrow)]
    pub chain: Chain<'a>,
    /// 1.1 only (required there), nullable.
    #[serde(default, borrow)]
    pub exception_register: Present<Nullable<RegisterRef<'a>>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct RegisterRef<'a> {
    #[serde(borrow)]
    pub key: Text<'a>,
    #[serde(borrow)]
    pub version_id: Nullable<Text<'a>>,
    #[serde(borrow)]
    pub sha256: Text<'a>,
    pub entries: u64,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Label<'a> {
    #[serde(borrow)]
    pub id: Text<'a>,
    #[serde(borrow)]
    pub approver: Text<'a>,
    #[serde(borrow)]
    pub expires: Text<'a>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Generator<'a> {
    #[serde(borrow)]
    name: Text<'a>,
    #[serde(borrow)]
    version: Text<'a>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Trigger<'a> {
    #[serde(rename = "type", borrow)]
    kind: Text<'a>,
    #[serde(borrow)]
    id: Text<'a>,
    #[serde(borrow)]
    received_at: Text<'a>,
    #[serde(borrow)]
    note: Nullable<Text<'a>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Rule<'a> {
    #[serde(borrow)]
    pub name: Text<'a>,
    #[serde(borrow)]
    managed_identifier: Text<'a>,
    #[serde(borrow)]
    compliance_type: Text<'a>,
    pub complete: bool,
    pub counts: Counts,
    #[serde(borrow)]
    pub evaluation_status: Nullable<EvaluationStatus<'a>>,
    #[serde(borrow)]
    pub non_compliant: Vec<Finding<'a>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Counts {
    pub compliant: u64,
    pub non_compliant: u64,
    #[serde(rename = "notApplicable")]
    _not_applicable: u64,
    /// 1.1 only (required there).
    #[serde(default)]
    pub excepted: Present<u64>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct EvaluationStatus<'a> {
    #[serde(rename = "firstEvaluationStarted")]
    _first_evaluation_started: bool,
    #[serde(borrow)]
    pub last_successful_evaluation_time: Nullable<Text<'a>>,
    #[serde(borrow)]
    pub last_failed_evaluation_time: Nullable<Text<'a>>,
    #[serde(borrow)]
    pub last_error_code: Nullable<Text<'a>>,
    #[serde(borrow)]
    last_error_message: Nullable<Text<'a>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Finding<'a> {
    #[serde(borrow)]
    pub resource_type: Text<'a>,
    #[serde(borrow)]
    pub resource_id: Text<'a>,
    #[serde(borrow)]
    annotation: Nullable<Text<'a>>,
    #[serde(borrow)]
    result_recorded_time: Text<'a>,
    /// 1.1 only, optional.
    #[serde(default, borrow)]
    pub exception: Present<Label<'a>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct Summary<'a> {
    #[serde(rename = "totalNonCompliant")]
    _total_non_compliant: u64,
    #[serde(rename = "rulesNonCompliant")]
    _rules_non_compliant: u64,
    #[serde(borrow)]
    by_rule: BTreeMap<Text<'a>, u64>,
    #[serde(borrow)]
    by_resource_type: BTreeMap<Text<'a>, u64>,
    /// 1.1 only (required there).
    #[serde(default)]
    total_excepted: Present<u64>,
    /// 1.1 only (required there).
    #[serde(default, borrow)]
    excepted_by_rule: Present<BTreeMap<Text<'a>, u64>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Monitoring<'a> {
    #[serde(rename = "healthy")]
    _healthy: bool,
    #[serde(borrow)]
    pub recorders: Vec<Recorder<'a>>,
    #[serde(borrow)]
    delivery_channels: Vec<DeliveryChannel<'a>>,
    #[serde(borrow)]
    pub problems: Vec<Problem<'a>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Recorder<'a> {
    #[serde(borrow)]
    pub name: Text<'a>,
    pub recording: bool,
    #[serde(borrow)]
    last_status: Nullable<Text<'a>>,
    #[serde(borrow)]
    last_status_change_time: Nullable<Text<'a>>,
    #[serde(borrow)]
    last_error_code: Nullable<Text<'a>>,
    #[serde(borrow)]
    last_error_message: Nullable<Text<'a>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct DeliveryChannel<'a> {
    #[serde(borrow)]
    name: Text<'a>,
    #[serde(borrow)]
    config_history_last_status: Nullable<Text<'a>>,
    #[serde(borrow)]
    config_snapshot_last_status: Nullable<Text<'a>>,
    #[serde(borrow)]
    config_stream_last_status: Nullable<Text<'a>>,
    #[serde(borrow)]
    last_error_code: Nullable<Text<'a>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Problem<'a> {
    #[serde(borrow)]
    pub code: Text<'a>,
    #[serde(borrow)]
    pub subject: Text<'a>,
    #[serde(borrow)]
    pub message: Text<'a>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Error<'a> {
    #[serde(borrow)]
    pub scope: Text<'a>,
    #[serde(borrow)]
    pub subject: Text<'a>,
    #[serde(borrow)]
    pub code: Text<'a>,
    #[serde(borrow)]
    pub message: Text<'a>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Chain<'a> {
    pub sequence: u64,
    #[serde(borrow)]
    pub previous_key: Nullable<Text<'a>>,
    #[serde(borrow)]
    pub previous_sha256: Nullable<Text<'a>>,
}

/// Reads `text` and returns the report only when it certainly satisfies the v1 schema.
pub fn check(text: &str) -> Option<Report<'_>> {
    let r = parse(text).ok()?;
    r.valid().then_some(r)
}

/// Reads `text` into the typed structs; the constraints are checked by [`Report::violation`].
pub fn parse(text: &str) -> Result<Report<'_>, serde_json::Error> {
    serde_json::from_str(text)
}

/// JSON Schema lengths count code points, not bytes.
fn len_within(s: &str, min: usize, max: usize) -> bool {
    // Byte length bounds the code-point count from above, so most strings need no counting.
    if s.len() <= max && s.len() >= min && s.is_ascii() {
        return true;
    }
    let n = s.chars().count();
    n >= min && n <= max
}

fn all(s: &str, f: impl Fn(u8) -> bool) -> bool {
    s.bytes().all(f)
}

fn digits(s: &str, n: usize) -> bool {
    s.len() == n && all(s, |b| b.is_ascii_digit())
}

fn lower_hex(b: u8) -> bool {
    b.is_ascii_digit() || (b'a'..=b'f').contains(&b)
}

fn lower(s: &str) -> bool {
    !s.is_empty() && all(s, |b| b.is_ascii_lowercase())
}

/// `^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`
fn uuid(s: &str) -> bool {
    s.len() == 36
        && s.bytes().enumerate().all(|(i, b)| match i {
            8 | 13 | 18 | 23 => b == b'-',
            _ => lower_hex(b),
        })
}

/// `^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?Z$`
fn timestamp(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() < 20 || b[b.len() - 1] != b'Z' {
        return false;
    }
    let shape = b"dddd-dd-ddTdd:dd:dd";
    if !shape.iter().zip(b).all(|(p, c)| {
        if *p == b'd' {
            c.is_ascii_digit()
        } else {
            p == c
        }
    }) {
        return false;
    }
    let frac = &b[19..b.len() - 1];
    frac.is_empty()
        || (frac[0] == b'.'
            && (2..=10).contains(&frac.len())
            && frac[1..].iter().all(u8::is_ascii_digit))
}

fn timestamp_or_null(s: &Nullable<Text<'_>>) -> bool {
    s.0.as_deref().is_none_or(timestamp)
}

/// `^[A-Za-z0-9]+::[A-Za-z0-9]+::[A-Za-z0-9]+$`, at most 256 characters (a byte scan: this runs
/// for every finding; the pattern admits ASCII only, so bytes are characters).
fn resource_type(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() > limits::NAME {
        return false;
    }
    let (mut parts, mut run, mut i) = (0, 0, 0);
    while i < b.len() {
        if b[i].is_ascii_alphanumeric() {
            run += 1;
            i += 1;
        } else if b[i] == b':' && b.get(i + 1) == Some(&b':') && run > 0 && parts < 2 {
            parts += 1;
            run = 0;
            i += 2;
        } else {
            return false;
        }
    }
    parts == 2 && run > 0
}

/// `^[a-z]{2}(-gov)?-[a-z]+-[0-9]$`
pub(crate) fn region(s: &str) -> bool {
    let p: Vec<&str> = s.split('-').collect();
    let two = |x: &str| x.len() == 2 && lower(x);
    let digit = |x: &str| digits(x, 1);
    match p.as_slice() {
        [a, b, c] => two(a) && lower(b) && digit(c),
        [a, "gov", b, c] => two(a) && lower(b) && digit(c),
        _ => false,
    }
}

/// `^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$`, at most 16 characters.
fn environment_suffix(s: &str) -> bool {
    let edge = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 16
        && edge(b[0])
        && edge(b[b.len() - 1])
        && all(s, |c| edge(c) || c == b'-')
}

/// `^[0-9]{4}-[0-9]{2}-[0-9]{2}$`
fn date(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 10
        && b.iter().enumerate().all(|(i, c)| match i {
            4 | 7 => *c == b'-',
            _ => c.is_ascii_digit(),
        })
}

fn sha256(s: &str) -> bool {
    s.len() == 64 && all(s, lower_hex)
}

/// `^exceptions/[0-9a-f]{64}\.json$`
fn register_key(s: &str) -> bool {
    s.strip_prefix("exceptions/")
        .and_then(|r| r.strip_suffix(".json"))
        .is_some_and(sha256)
}

/// An exception label: id `^[A-Za-z0-9._-]{1,64}$`, approver 1 to 256 characters, expires a date.
fn label(l: &Label<'_>) -> bool {
    (1..=limits::EXCEPTION_ID).contains(&l.id.len())
        && all(&l.id, |b| {
            b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-'
        })
        && len_within(&l.approver, 1, limits::APPROVER)
        && date(&l.expires)
}

fn register_ref(r: &RegisterRef<'_>) -> bool {
    register_key(&r.key)
        && sha256(&r.sha256)
        && r.version_id
            .0
            .as_deref()
            .is_none_or(|v| len_within(v, 1, limits::VERSION_ID))
}

/// `^reports/([0-9]{12}/[a-z]{2}(-gov)?-[a-z]+-[0-9]/)?[0-9]{4}/[0-9]{2}/[0-9]{2}/[0-9]{8,}-[0-9a-f-]{36}\.json$`:
/// a single-account trail's key, or an organization trail's with its account and region.
fn previous_key(s: &str) -> bool {
    let Some(rest) = s
        .strip_prefix("reports/")
        .and_then(|r| r.strip_suffix(".json"))
    else {
        return false;
    };
    let parts: Vec<&str> = rest.split('/').collect();
    let (trail, [y, m, d, file]) = match parts.as_slice() {
        [y, m, d, file] => (None, [*y, *m, *d, *file]),
        [account, region_name, y, m, d, file] => {
            (Some((*account, *region_name)), [*y, *m, *d, *file])
        }
        _ => return false,
    };
    let Some((seq, id)) = file.split_once('-') else {
        return false;
    };
    trail.is_none_or(|(account, r)| digits(account, 12) && region(r))
        && digits(y, 4)
        && digits(m, 2)
        && digits(d, 2)
        && seq.len() >= 8
        && all(seq, |b| b.is_ascii_digit())
        && id.len() == 36
        && all(id, |b| lower_hex(b) || b == b'-')
}

fn one_of(s: &str, allowed: &[&str]) -> bool {
    allowed.contains(&s)
}

fn null_or_one_of(s: &Nullable<Text<'_>>, allowed: &[&str]) -> bool {
    s.0.as_deref().is_none_or(|v| one_of(v, allowed))
}

/// The schema's limits (`maxItems`, `maxProperties`, `maxLength`), spelled out once here; a test
/// reads each one back from the embedded schema and fails when the two disagree.
pub mod limits {
    /// `rules`: AWS Config's quota of rules per account and Region.
    pub const RULES: usize = 1000;
    /// A rule's `nonCompliant`: room above the 100,000 findings the generator is sized for.
    pub const FINDINGS_PER_RULE: usize = 250_000;
    /// `summary.byRule` and `summary.byResourceType` entries.
    pub const SUMMARY_ENTRIES: usize = 1000;
    pub const ERRORS: usize = 2000;
    pub const PROBLEMS: usize = 4000;
    pub const RECORDERS: usize = 100;
    pub const DELIVERY_CHANNELS: usize = 100;
    /// Rule names (AWS Config's ConfigRuleName).
    pub const RULE_NAME: usize = 128;
    /// AWS Config's SourceIdentifier, recorder and delivery channel names, resource types.
    pub const NAME: usize = 256;
    /// AWS Config's EvaluationResultQualifier.ResourceId.
    pub const RESOURCE_ID: usize = 768;
    pub const ANNOTATION: usize = 256;
    pub const ERROR_CODE: usize = 256;
    pub const MESSAGE: usize = 4096;
    pub const REGION: usize = 32;
    pub const PREVIOUS_KEY: usize = 128;
    /// An exception's id in the register.
    pub const EXCEPTION_ID: usize = 64;
    /// An exception's approver (an e-mail address is at most 254 characters).
    pub const APPROVER: usize = 256;
    /// S3 version ids are "no more than 1,024 bytes long" (AWS API reference, e.g. Amazon MWAA
    /// `RequirementsS3ObjectVersion`); a string of 1,024 bytes has at most 1,024 characters.
    pub const VERSION_ID: usize = 1024;
}

/// Fails with `what` unless `ok`.
fn need(ok: bool, what: &'static str) -> Result<(), &'static str> {
    if ok { Ok(()) } else { Err(what) }
}

fn text_within(s: &Nullable<Text<'_>>, max: usize) -> bool {
    s.0.as_deref().is_none_or(|t| len_within(t, 0, max))
}

impl Report<'_> {
    fn valid(&self) -> bool {
        self.violation().is_none()
    }

    /// The first constraint of the schema this report breaks, in words; `None` when it breaks none.
    /// The hot path only asks whether there is one; a report too large for the general validator
    /// is refused with this sentence instead.
    pub fn violation(&self) -> Option<&'static str> {
        self.check_all().err()
    }

    fn check_all(&self) -> Result<(), &'static str> {
        use limits::*;
        const DELIVERY: &[&str] = &["Success", "Failure", "Not_Applicable"];
        const PROBLEM_CODES: &[&str] = &[
            "RECORDER_MISSING",
            "RECORDER_NOT_RECORDING",
            "RECORDER_FAILURE",
            "DELIVERY_CHANNEL_MISSING",
            "DELIVERY_FAILURE",
            "RULE_MISSING",
            "RULE_NOT_EVALUATED",
            "RULE_EVALUATION_FAILED",
            "STATUS_UNAVAILABLE",
        ];
        let t = &self.trigger;
        let c = &self.chain;
        let m = &self.monitoring;
        let v11 = self.schema_version == "1.1";
        need(
            v11 || self.schema_version == "1.0",
            "schemaVersion must be \"1.0\" or \"1.1\"",
        )?;
        let s = &self.summary;
        if v11 {
            need(
                self.exception_register.0.is_some(),
                "a 1.1 report must have exceptionRegister",
            )?;
            need(
                self.exception_register
                    .0
                    .as_ref()
                    .and_then(|n| n.0.as_ref())
                    .is_none_or(register_ref),
                "exceptionRegister breaks the schema",
            )?;
            need(
                s.total_excepted.0.is_some(),
                "a 1.1 report must have summary.totalExcepted",
            )?;
            need(
                s.excepted_by_rule.0.as_ref().is_some_and(|m| {
                    m.len() <= SUMMARY_ENTRIES && m.keys().all(|k| len_within(k, 0, RULE_NAME))
                }),
                "summary.exceptedByRule is missing or breaks its limits",
            )?;
        } else {
            need(
                self.exception_register.0.is_none()
                    && s.total_excepted.0.is_none()
                    && s.excepted_by_rule.0.is_none(),
                "a 1.0 report has no exceptions fields",
            )?;
        }
        need(uuid(&self.report_id), "reportId must be a lower-case UUID")?;
        need(
            timestamp(&self.generated_at),
            "generatedAt must be an RFC 3339 UTC time",
        )?;
        need(
            len_within(&self.generator.name, 1, 128) && len_within(&self.generator.version, 1, 64),
            "generator name or version is empty or too long",
        )?;
        need(
            one_of(&t.kind, &["schedule", "on-demand", "queue"])
                && len_within(&t.id, 1, 256)
                && timestamp(&t.received_at)
                && text_within(&t.note, 1024),
            "trigger breaks the schema",
        )?;
        need(digits(&self.account, 12), "account must be 12 digits")?;
        need(
            region(&self.region) && self.region.len() <= REGION,
            "region is not an AWS Region name",
        )?;
        need(
            environment_suffix(&self.environment_suffix),
            "environmentSuffix breaks its pattern",
        )?;
        need(self.rules.len() <= RULES, "rules has more than 1000 items")?;
        for rule in &self.rules {
            rule.check_all(v11)?;
        }
        need(
            s.by_rule.len() <= SUMMARY_ENTRIES && s.by_resource_type.len() <= SUMMARY_ENTRIES,
            "summary.byRule or summary.byResourceType has more than 1000 entries",
        )?;
        need(
            s.by_rule.keys().all(|k| len_within(k, 0, RULE_NAME)),
            "a summary.byRule name is longer than 128 characters",
        )?;
        need(
            s.by_resource_type.keys().all(|k| resource_type(k)),
            "a summary.byResourceType key is not a resource type",
        )?;
        need(
            m.recorders.len() <= RECORDERS,
            "monitoring.recorders has more than 100 items",
        )?;
        need(
            m.recorders.iter().all(|r| {
                len_within(&r.name, 1, NAME)
                    && null_or_one_of(
                        &r.last_status,
                        &["PENDING", "SUCCESS", "FAILURE", "NOT_APPLICABLE"],
                    )
                    && timestamp_or_null(&r.last_status_change_time)
                    && text_within(&r.last_error_code, ERROR_CODE)
                    && text_within(&r.last_error_message, MESSAGE)
            }),
            "a monitoring.recorders entry breaks the schema",
        )?;
        need(
            m.delivery_channels.len() <= DELIVERY_CHANNELS,
            "monitoring.deliveryChannels has more than 100 items",
        )?;
        need(
            m.delivery_channels.iter().all(|d| {
                len_within(&d.name, 1, NAME)
                    && null_or_one_of(&d.config_history_last_status, DELIVERY)
                    && null_or_one_of(&d.config_snapshot_last_status, DELIVERY)
                    && null_or_one_of(&d.config_stream_last_status, DELIVERY)
                    && text_within(&d.last_error_code, ERROR_CODE)
            }),
            "a monitoring.deliveryChannels entry breaks the schema",
        )?;
        need(
            m.problems.len() <= PROBLEMS,
            "monitoring.problems has more than 4000 items",
        )?;
        need(
            m.problems.iter().all(|p| {
                one_of(&p.code, PROBLEM_CODES)
                    && len_within(&p.subject, 0, NAME)
                    && len_within(&p.message, 1, MESSAGE)
            }),
            "a monitoring.problems entry breaks the schema",
        )?;
        need(
            self.errors.len() <= ERRORS,
            "errors has more than 2000 items",
        )?;
        need(
            self.errors.iter().all(|e| {
                one_of(&e.scope, &["rule", "monitoring", "deadline"])
                    && len_within(&e.subject, 0, NAME)
                    && len_within(&e.code, 1, ERROR_CODE)
                    && len_within(&e.message, 0, MESSAGE)
            }),
            "an errors entry breaks the schema",
        )?;
        need(
            c.previous_key
                .0
                .as_deref()
                .is_none_or(|k| k.len() <= PREVIOUS_KEY && previous_key(k)),
            "chain.previousKey breaks its pattern",
        )?;
        need(
            c.previous_sha256
                .0
                .as_deref()
                .is_none_or(|h| h.len() == 64 && all(h, lower_hex)),
            "chain.previousSha256 is not 64 lower-case hex digits",
        )
    }
}

impl Rule<'_> {
    /// `v11`: the report is of schema 1.1, where `counts.excepted` is required and a finding
    /// may carry an exception; in 1.0 neither may appear.
    fn check_all(&self, v11: bool) -> Result<(), &'static str> {
        use limits::*;
        need(
            len_within(&self.name, 1, RULE_NAME),
            "a rule name is empty or longer than 128 characters",
        )?;
        need(
            !self.managed_identifier.is_empty()
                && self.managed_identifier.len() <= NAME
                && all(&self.managed_identifier, |b| {
                    b.is_ascii_uppercase() || b.is_ascii_digit() || b == b'_'
                }),
            "a rule's managedIdentifier breaks its pattern",
        )?;
        need(
            one_of(
                &self.compliance_type,
                &[
                    "COMPLIANT",
                    "NON_COMPLIANT",
                    "NOT_APPLICABLE",
                    "INSUFFICIENT_DATA",
                    "UNKNOWN",
                ],
            ),
            "a rule's complianceType is not one of the schema's values",
        )?;
        need(
            self.evaluation_status.0.as_ref().is_none_or(|e| {
                timestamp_or_null(&e.last_successful_evaluation_time)
                    && timestamp_or_null(&e.last_failed_evaluation_time)
                    && text_within(&e.last_error_code, ERROR_CODE)
                    && text_within(&e.last_error_message, MESSAGE)
            }),
            "a rule's evaluationStatus breaks the schema",
        )?;
        need(
            self.counts.excepted.0.is_some() == v11,
            "counts.excepted is required in a 1.1 report and absent in a 1.0 one",
        )?;
        need(
            self.non_compliant.len() <= FINDINGS_PER_RULE,
            "a rule's nonCompliant has more than 250000 items",
        )?;
        need(
            self.non_compliant.iter().all(|f| {
                resource_type(&f.resource_type)
                    && len_within(&f.resource_id, 1, RESOURCE_ID)
                    && text_within(&f.annotation, ANNOTATION)
                    && timestamp(&f.result_recorded_time)
                    && match &f.exception.0 {
                        None => true,
                        Some(l) => v11 && label(l),
                    }
            }),
            "a nonCompliant entry breaks the schema",
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A string without escapes is borrowed from the report, also inside `Option` (`Nullable`),
    /// and in map keys; one with an escape is decoded into its own copy.
    #[test]
    fn strings_are_borrowed_unless_escaped() {
        #[derive(Deserialize)]
        struct Sample<'a> {
            #[serde(borrow)]
            plain: Text<'a>,
            #[serde(borrow)]
            escaped: Text<'a>,
            #[serde(borrow)]
            nullable: Nullable<Text<'a>>,
            #[serde(borrow)]
            keys: BTreeMap<Text<'a>, u64>,
        }
        let json = r#"{"plain":"i-0abc","escaped":"a\"b","nullable":"x","keys":{"k":1}}"#;
        let s: Sample<'_> = serde_json::from_str(json).unwrap();
        assert!(matches!(s.plain.0, Cow::Borrowed("i-0abc")));
        assert!(matches!(&s.escaped.0, Cow::Owned(o) if o == "a\"b"));
        assert!(matches!(
            s.nullable.0.map(|t| t.0),
            Some(Cow::Borrowed("x"))
        ));
        assert!(s.keys.keys().all(|k| matches!(k.0, Cow::Borrowed("k"))));
        assert!(serde_json::from_str::<Sample<'_>>(&json.replace("\"i-0abc\"", "7")).is_err());
    }

    /// Every limit spelled out in [`limits`] is the schema's, read back from the embedded schema.
    #[test]
    fn limits_are_the_schemas() {
        let schema: serde_json::Value = serde_json::from_str(crate::report::SCHEMA_TEXT).unwrap();
        let at = |pointer: &str| {
            schema
                .pointer(pointer)
                .and_then(serde_json::Value::as_u64)
                .unwrap_or_else(|| panic!("{pointer} is not in the schema")) as usize
        };
        let rule = "/$defs/rule/properties";
        let mon = "/$defs/monitoring/properties";
        let cases = [
            ("/properties/rules/maxItems", limits::RULES),
            (
                &format!("{rule}/nonCompliant/maxItems"),
                limits::FINDINGS_PER_RULE,
            ),
            (
                "/properties/summary/properties/byRule/maxProperties",
                limits::SUMMARY_ENTRIES,
            ),
            (
                "/properties/summary/properties/byResourceType/maxProperties",
                limits::SUMMARY_ENTRIES,
            ),
            (
                "/properties/summary/properties/byRule/propertyNames/maxLength",
                limits::RULE_NAME,
            ),
            ("/properties/errors/maxItems", limits::ERRORS),
            (&format!("{mon}/problems/maxItems"), limits::PROBLEMS),
            (&format!("{mon}/recorders/maxItems"), limits::RECORDERS),
            (
                &format!("{mon}/deliveryChannels/maxItems"),
                limits::DELIVERY_CHANNELS,
            ),
            (
                &format!("{mon}/recorders/items/properties/name/maxLength"),
                limits::NAME,
            ),
            (
                &format!("{mon}/deliveryChannels/items/properties/name/maxLength"),
                limits::NAME,
            ),
            (
                &format!("{mon}/problems/items/properties/subject/maxLength"),
                limits::NAME,
            ),
            (
                &format!("{mon}/problems/items/properties/message/maxLength"),
                limits::MESSAGE,
            ),
            (&format!("{rule}/name/maxLength"), limits::RULE_NAME),
            (&format!("{rule}/managedIdentifier/maxLength"), limits::NAME),
            ("/$defs/resourceType/maxLength", limits::NAME),
            (
                "/$defs/finding/properties/resourceId/maxLength",
                limits::RESOURCE_ID,
            ),
            (
                "/$defs/finding/properties/annotation/maxLength",
                limits::ANNOTATION,
            ),
            ("/$defs/errorCode/maxLength", limits::ERROR_CODE),
            ("/$defs/errorMessage/maxLength", limits::MESSAGE),
            ("/$defs/error/properties/subject/maxLength", limits::NAME),
            ("/$defs/error/properties/code/maxLength", limits::ERROR_CODE),
            ("/$defs/error/properties/message/maxLength", limits::MESSAGE),
            ("/properties/region/maxLength", limits::REGION),
            (
                "/properties/chain/properties/previousKey/maxLength",
                limits::PREVIOUS_KEY,
            ),
            (
                "/$defs/exceptionLabel/properties/approver/maxLength",
                limits::APPROVER,
            ),
            (
                "/$defs/exceptionRegister/properties/versionId/maxLength",
                limits::VERSION_ID,
            ),
            (
                "/properties/summary/properties/exceptedByRule/maxProperties",
                limits::SUMMARY_ENTRIES,
            ),
            (
                "/properties/summary/properties/exceptedByRule/propertyNames/maxLength",
                limits::RULE_NAME,
            ),
        ];
        for (pointer, limit) in cases {
            assert_eq!(at(pointer), limit, "{pointer}");
        }
        assert_eq!(
            at("/x-maxReportBytes") as u64,
            crate::report::MAX_REPORT_BYTES,
            "x-maxReportBytes"
        );
    }

    #[test]
    fn patterns_match_the_schema_regexes() {
        assert!(uuid("0b6f3c1e-8d2a-5f4e-9c1b-2a3d4e5f6a7b"));
        assert!(!uuid("0B6F3C1E-8D2A-5F4E-9C1B-2A3D4E5F6A7B"));
        assert!(timestamp("2026-11-26T06:00:00Z") && timestamp("2026-11-26T06:00:00.123456789Z"));
        assert!(
            !timestamp("2026-11-26T06:00:00.Z") && !timestamp("2026-11-26T06:00:00.1234567890Z")
        );
        assert!(!timestamp("2026-11-26 06:00:00Z") && !timestamp("2026-11-26T06:00:00+00:00"));
        assert!(
            resource_type("AWS::S3::Bucket")
                && !resource_type("AWS::S3")
                && !resource_type("AWS:::S3::Bucket")
        );
        assert!(!resource_type("AWS::S3::Bucket::X") && !resource_type("AWS::S-3::Bucket"));
        assert!(region("us-east-1") && region("us-gov-west-1") && region("us-gov-1"));
        assert!(!region("us-east-10") && !region("useast-1") && !region("US-east-1"));
        assert!(
            environment_suffix("dev")
                && environment_suffix("a-1")
                && !environment_suffix("-a")
                && !environment_suffix("a-")
        );
        assert!(!environment_suffix("abcdefghijklmnopq"));
        let key = "reports/2026/07/01/00000001-0b6f3c1e-8d2a-5f4e-9c1b-2a3d4e5f6a7b.json";
        assert!(previous_key(key));
        assert!(!previous_key(&key.replace("00000001", "0000001")));
        assert!(!previous_key(&key.replace("reports/", "report/")));
        let org = key.replace("reports/", "reports/123456789012/us-gov-west-1/");
        assert!(previous_key(&org));
        for bad in [
            "12345678901/us-east-1/",
            "123456789012/",
            "123456789012/us-east-12/",
        ] {
            assert!(!previous_key(
                &key.replace("reports/", &format!("reports/{bad}"))
            ));
        }
        assert!(len_within("ééé", 1, 3) && !len_within("éééé", 1, 3));
        assert!(date("2026-09-15") && !date("2026-9-15") && !date("2026-09-15T"));
        let sha = "0".repeat(64);
        assert!(register_key(&format!("exceptions/{sha}.json")));
        assert!(!register_key(&format!(
            "exceptions/{}.json",
            "A".repeat(64)
        )));
        assert!(!register_key(&format!("exceptions/x/{sha}.json")));
        let schema: serde_json::Value = serde_json::from_str(crate::report::SCHEMA_TEXT).unwrap();
        assert_eq!(
            schema.pointer("/$defs/exceptionId/pattern").unwrap(),
            "^[A-Za-z0-9._-]{1,64}$",
            "label() spells out this pattern"
        );
    }
}
