//! The exceptions register, as the auditor reads and checks it (docs/report-format.md,
//! "Exceptions").
//!
//! An exception is a risk someone accepted by name: one finding (rule, resource type, resource
//! id), why, who approved it, under which ticket, from `created` through `expires`. The register is
//! reviewed code in the repository; each deployment stores it in the report bucket as
//! `exceptions/<sha256 of the bytes>.json` (written once, so every register ever in force is
//! kept), in the format `compliance-exceptions/1`. A schema 1.1 report names the register it was
//! labelled with (`exceptionRegister`: key, S3 version id, SHA-256, entry count) and labels each
//! finding an exception in force covers with the exception's id, approver and expiry.
//!
//! # The in-force rule
//!
//! An entry is in force on day D (the UTC date of a report's `generatedAt`) when
//! `created <= D <= expires`: through the end of its expiry day, and plain non-compliant again
//! from the day after. It covers a finding when the register's `rule` + `-` + the report's
//! `environmentSuffix` is the report's rule name (the stack names rules `<rule>-<suffix>`) and
//! resource type and id are equal. There are no patterns: one entry, one resource.
//!
//! # What is checked
//!
//! For each schema 1.1 report that names a register: the object exists in the source under that
//! key (beside `reports/`, like `chain/`), with that version in S3, its stored bytes hash to that
//! SHA-256 (which the key also names), it reads as `compliance-exceptions/1` with that many
//! entries, and every label in the report matches an entry of it that is in force on the report's
//! date and covers the labelled finding, with the same approver and expiry. Each mismatch is a
//! finding named by the report's key. A register object with more than one version was
//! overwritten, and one with a delete marker was deleted: findings named by the register's key.
//! A report's `counts.excepted` must be the number of its labelled findings.
//!
//! What this check does not claim: that every finding an entry covers carries a label. A missing
//! label reads as plain non-compliance, the conservative reading, and is not a finding.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::chain::Problem;
use crate::error::SourceError;
use crate::report::{ExceptionLabel, Exceptions, RegisterRef, ReportDigest};
use crate::source::{RegisterLookup, ReportSource};

/// The register format this auditor reads.
pub const REGISTER_FORMAT: &str = "compliance-exceptions/1";

/// The largest register object read: a register of 10,000 entries with reasons of 500 characters
/// is about 7 MB. A larger object is refused without being held in memory.
pub const MAX_REGISTER_BYTES: u64 = 16 << 20;

/// Label mismatches listed per report; the rest of that report's are counted in one more finding.
pub const MISMATCHES_PER_REPORT: usize = 20;

/// One exception of a register.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RegisterEntry {
    pub id: String,
    /// The rule's name in the stack, without the environment suffix.
    pub rule: String,
    pub resource_type: String,
    pub resource_id: String,
    pub reason: String,
    pub approver: String,
    pub ticket: String,
    pub created: NaiveDate,
    pub expires: NaiveDate,
}

impl RegisterEntry {
    /// In force on `day`: `created <= day <= expires`.
    pub fn in_force(&self, day: NaiveDate) -> bool {
        self.created <= day && day <= self.expires
    }

    /// The rule's name in a report of the environment `suffix`: `<rule>-<suffix>`.
    pub fn rule_name(&self, suffix: &str) -> String {
        format!("{}-{suffix}", self.rule)
    }

    /// Whether this entry names the finding (rule name as the report has it, resource).
    pub fn names(&self, suffix: &str, rule: &str, resource_type: &str, resource_id: &str) -> bool {
        self.resource_type == resource_type
            && self.resource_id == resource_id
            && rule.strip_suffix(suffix).and_then(|r| r.strip_suffix('-'))
                == Some(self.rule.as_str())
    }
}

/// A deployed register: its entries, by id (ids are unique).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Register {
    pub max_days: u64,
    pub entries: Vec<RegisterEntry>,
}

impl Register {
    /// The entry with `id`.
    pub fn get(&self, id: &str) -> Option<&RegisterEntry> {
        self.entries
            .binary_search_by(|e| e.id.as_str().cmp(id))
            .ok()
            .map(|i| &self.entries[i])
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawRegister {
    format: String,
    max_days: u64,
    exceptions: Vec<RawEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawEntry {
    id: String,
    rule: String,
    resource_type: String,
    resource_id: String,
    reason: String,
    approver: String,
    ticket: String,
    created: String,
    expires: String,
}

/// `^[A-Za-z0-9._-]{1,64}$`, as the report schema's `exceptionId`.
pub fn valid_id(id: &str) -> bool {
    (1..=64).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b'-'))
}

/// Reads a register object; the error says which rule of `compliance-exceptions/1` it breaks.
pub fn parse_register(bytes: &[u8]) -> Result<Register, String> {
    if bytes.len() as u64 > MAX_REGISTER_BYTES {
        return Err(format!(
            "larger than {MAX_REGISTER_BYTES} bytes, the most a register may be; not read"
        ));
    }
    let raw: RawRegister = serde_json::from_slice(bytes)
        .map_err(|e| format!("not a {REGISTER_FORMAT} object: {e}"))?;
    if raw.format != REGISTER_FORMAT {
        return Err(format!(
            "format is {:?}, not {REGISTER_FORMAT:?}",
            raw.format
        ));
    }
    let mut entries = Vec::with_capacity(raw.exceptions.len());
    for (i, e) in raw.exceptions.into_iter().enumerate() {
        let date = |field: &str, s: &str| {
            NaiveDate::parse_from_str(s, "%Y-%m-%d")
                .ok()
                .filter(|_| s.len() == 10)
                .ok_or_else(|| {
                    format!(
                        "exceptions[{i}] ({}): {field} {s:?} is not a date YYYY-MM-DD",
                        e.id
                    )
                })
        };
        if !valid_id(&e.id) {
            return Err(format!(
                "exceptions[{i}]: id {:?} is not 1-64 of A-Z a-z 0-9 . _ -",
                e.id
            ));
        }
        let created = date("created", &e.created)?;
        let expires = date("expires", &e.expires)?;
        for (field, value) in [
            ("rule", &e.rule),
            ("resourceType", &e.resource_type),
            ("resourceId", &e.resource_id),
            ("approver", &e.approver),
        ] {
            if value.is_empty() {
                return Err(format!("exceptions[{i}] ({}): {field} is empty", e.id));
            }
        }
        entries.push(RegisterEntry {
            id: e.id,
            rule: e.rule,
            resource_type: e.resource_type,
            resource_id: e.resource_id,
            reason: e.reason,
            approver: e.approver,
            ticket: e.ticket,
            created,
            expires,
        });
    }
    entries.sort_by(|a, b| a.id.cmp(&b.id));
    if let Some(w) = entries.windows(2).find(|w| w[0].id == w[1].id) {
        return Err(format!("exception id {} is used twice", w[0].id));
    }
    Ok(Register {
        max_days: raw.max_days,
        entries,
    })
}

/// A labelled finding, kept until the register is read. A label usually stays on its finding
/// for weeks, so each distinct one is kept once and reports refer to it by index: memory grows
/// with the distinct labelled findings of the trail, not with its length.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
struct Labelled {
    rule: String,
    resource_type: String,
    resource_id: String,
    label: ExceptionLabel,
}

/// One report that named a register.
#[derive(Debug, Clone)]
struct Use {
    report_key: String,
    day: NaiveDate,
    suffix: String,
    register: RegisterRef,
    /// Indices into [`RegisterUses::labelled`].
    labels: Vec<u32>,
}

/// What became of one register reference.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RegisterState {
    pub key: String,
    pub version_id: Option<String>,
    pub sha256: String,
    pub entries: u64,
    /// Where it was looked for (null when the source keeps no registers).
    pub location: Option<String>,
    /// How many reports name it.
    pub referenced_by: usize,
    /// `verified` (found, that SHA-256, readable), `mismatch` (found with other bytes or another
    /// entry count), `missing`, `malformed`, `unreadable`, or `notLookedFor`.
    pub state: &'static str,
    /// Why it is not verified, or what could not be checked (the version in a folder copy).
    pub note: Option<String>,
}

/// The outcome of the register check.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct RegisterSummary {
    /// Reports of schema 1.0, which predate exceptions (every finding reads un-excepted).
    pub reports_without_exceptions: usize,
    /// Reports of schema 1.1.
    pub reports_with_exceptions: usize,
    /// Of those, how many say no register was configured (`exceptionRegister: null`).
    pub reports_without_register: usize,
    /// Every distinct register reference, in key order.
    pub registers: Vec<RegisterState>,
    /// Exception labels compared with their register, and how many matched an entry in force.
    pub labels_checked: usize,
    pub labels_matched: usize,
}

impl RegisterSummary {
    /// One sentence for people.
    pub fn sentence(&self) -> String {
        let total = self.reports_without_exceptions + self.reports_with_exceptions;
        if self.reports_with_exceptions == 0 {
            return format!(
                "not recorded: the {total} report(s) are of schema 1.0, which predates exceptions (every finding counts as non-compliant)"
            );
        }
        let verified = self
            .registers
            .iter()
            .filter(|r| r.state == "verified")
            .count();
        let mut s = format!(
            "{} of {total} report(s) of schema 1.1 name {} register(s), {verified} verified (found with the named SHA-256); {} of {} exception label(s) match an entry in force",
            self.reports_with_exceptions,
            self.registers.len(),
            self.labels_matched,
            self.labels_checked
        );
        if self.reports_without_register > 0 {
            s.push_str(&format!(
                "; {} report(s) had no register configured",
                self.reports_without_register
            ));
        }
        if self.reports_without_exceptions > 0 {
            s.push_str(&format!(
                "; {} report(s) of schema 1.0 predate exceptions",
                self.reports_without_exceptions
            ));
        }
        s
    }
}

/// The registers read for the timeline: the entries of each verified one.
pub type VerifiedRegisters = BTreeMap<RegisterRef, Register>;

/// Collects what the reports say about exceptions while they are scanned, then reads each
/// register they name once and checks them (see the module's documentation).
#[derive(Debug, Default)]
pub struct RegisterUses {
    uses: Vec<Use>,
    labelled: Vec<Labelled>,
    labelled_index: HashMap<Labelled, u32>,
    problems: Vec<Problem>,
    summary: RegisterSummary,
}

impl RegisterUses {
    /// Records one valid report that is part of the check.
    pub fn add(&mut self, key: &str, d: &ReportDigest) {
        let register = match &d.exceptions {
            Exceptions::NotRecorded => {
                self.summary.reports_without_exceptions += 1;
                return;
            }
            Exceptions::NoRegister => None,
            Exceptions::Register(r) => Some(r.clone()),
        };
        self.summary.reports_with_exceptions += 1;
        let mut labels = Vec::new();
        for rule in &d.rules {
            if rule.excepted != rule.labels.len() as u64 {
                self.problems.push(Problem {
                    code: "exception-count",
                    key: key.to_owned(),
                    detail: format!(
                        "rule {}: counts.excepted is {} but {} of its findings carry an exception",
                        rule.name,
                        rule.excepted,
                        rule.labels.len()
                    ),
                });
            }
            for (i, label) in &rule.labels {
                let Some(f) = rule.findings.get(*i) else {
                    continue;
                };
                let l = Labelled {
                    rule: rule.name.clone(),
                    resource_type: f.resource_type().to_owned(),
                    resource_id: f.resource_id().to_owned(),
                    label: label.clone(),
                };
                labels.push(match self.labelled_index.get(&l) {
                    Some(&i) => i,
                    None => {
                        let i = self.labelled.len() as u32;
                        self.labelled.push(l.clone());
                        self.labelled_index.insert(l, i);
                        i
                    }
                });
            }
        }
        match register {
            None => {
                self.summary.reports_without_register += 1;
                self.summary.labels_checked += labels.len();
                if let Some(&first) = labels.first() {
                    let l = &self.labelled[first as usize];
                    self.problems.push(Problem {
                        code: "exception-mismatch",
                        key: key.to_owned(),
                        detail: format!(
                            "{} finding(s) carry an exception (the first: {} on rule {} {} {}), but the report names no exceptions register",
                            labels.len(),
                            l.label.id,
                            l.rule,
                            l.resource_type,
                            l.resource_id
                        ),
                    });
                }
            }
            Some(register) => self.uses.push(Use {
                report_key: key.to_owned(),
                day: d.day(),
                suffix: d.environment_suffix.clone(),
                register,
                labels,
            }),
        }
    }

    /// Reads every register named, once each, and checks every report that named it. The
    /// problems are the check's findings; the verified registers feed the timeline.
    pub fn check(
        self,
        source: &dyn ReportSource,
    ) -> Result<(RegisterSummary, Vec<Problem>, VerifiedRegisters), SourceError> {
        let RegisterUses {
            uses,
            labelled,
            labelled_index: _,
            mut problems,
            mut summary,
        } = self;
        let mut by_ref: BTreeMap<RegisterRef, Vec<&Use>> = BTreeMap::new();
        for u in &uses {
            by_ref.entry(u.register.clone()).or_default().push(u);
        }
        // Several references (another entry count, another SHA-256) may name one object version:
        // it is read once, and its versions judged once.
        let mut lookups: BTreeMap<(String, Option<String>), RegisterLookup> = BTreeMap::new();
        let mut judged_objects: BTreeSet<String> = BTreeSet::new();
        let mut verified = VerifiedRegisters::new();
        for (reference, reports) in &by_ref {
            let at = (reference.key.clone(), reference.version_id.clone());
            if !lookups.contains_key(&at) {
                let lookup = source.register(&reference.key, reference.version_id.as_deref())?;
                lookups.insert(at.clone(), lookup);
            }
            let lookup = &lookups[&at];
            if judged_objects.insert(reference.key.clone()) {
                object_problems(&reference.key, lookup, &mut problems);
            }
            let (state, note, register) = judge_reference(reference, lookup);
            for u in reports {
                summary.labels_checked += u.labels.len();
                match &register {
                    Some(register) => {
                        summary.labels_matched +=
                            check_labels(u, &labelled, register, &mut problems);
                    }
                    None => reference_problem(u, state, note.as_deref(), &mut problems),
                }
            }
            summary.registers.push(RegisterState {
                key: reference.key.clone(),
                version_id: reference.version_id.clone(),
                sha256: reference.sha256.clone(),
                entries: reference.entries,
                location: match lookup {
                    RegisterLookup::Looked { location, .. } => Some(location.clone()),
                    RegisterLookup::NotLookedFor(_) => None,
                },
                referenced_by: reports.len(),
                state,
                note,
            });
            if let Some(register) = register {
                verified.insert(reference.clone(), register);
            }
        }
        Ok((summary, problems, verified))
    }
}

/// Version evidence about a register object: it is written once, so a second version means it
/// was overwritten and a delete marker that it was deleted.
fn object_problems(key: &str, lookup: &RegisterLookup, out: &mut Vec<Problem>) {
    let RegisterLookup::Looked {
        versions,
        delete_markers,
        deleted,
        ..
    } = lookup
    else {
        return;
    };
    if *versions > 1 {
        out.push(Problem {
            code: "overwritten",
            key: key.to_owned(),
            detail: format!(
                "{versions} object versions: the exceptions register was overwritten after it was written (it is written once, under the SHA-256 of its bytes)"
            ),
        });
    }
    if *delete_markers > 0 {
        out.push(Problem {
            code: "deleted",
            key: key.to_owned(),
            detail: if *deleted {
                "a delete marker is the current version: the exceptions register was deleted"
                    .to_owned()
            } else {
                "a delete marker in the history: the exceptions register was deleted and put back"
                    .to_owned()
            },
        });
    }
}

/// Whether the object found is the register `reference` names: its state, a note, and its
/// entries when verified.
fn judge_reference(
    reference: &RegisterRef,
    lookup: &RegisterLookup,
) -> (&'static str, Option<String>, Option<Register>) {
    let (bytes, versioned) = match lookup {
        RegisterLookup::NotLookedFor(why) => return ("notLookedFor", Some(why.clone()), None),
        RegisterLookup::Looked {
            bytes, versioned, ..
        } => (bytes, *versioned),
    };
    let named = reference
        .key
        .strip_prefix("exceptions/")
        .and_then(|k| k.strip_suffix(".json"));
    if named != Some(reference.sha256.as_str()) {
        return (
            "mismatch",
            Some(format!(
                "the key names SHA-256 {}, the reference says {}",
                named.unwrap_or("(none)"),
                reference.sha256
            )),
            None,
        );
    }
    let bytes = match bytes {
        None => {
            let what = match &reference.version_id {
                Some(v) if versioned => format!("version {v} of {} is", reference.key),
                _ => format!("{} is", reference.key),
            };
            return ("missing", Some(format!("{what} not in the source")), None);
        }
        Some(Err(reason)) => return ("unreadable", Some(reason.clone()), None),
        Some(Ok(bytes)) => bytes,
    };
    let sha = hex::encode(Sha256::digest(bytes));
    if sha != reference.sha256 {
        return (
            "mismatch",
            Some(format!(
                "the stored bytes hash to {sha}, not {}: the register changed after the report was written",
                reference.sha256
            )),
            None,
        );
    }
    let register = match parse_register(bytes) {
        Ok(r) => r,
        Err(e) => return ("malformed", Some(e), None),
    };
    if register.entries.len() as u64 != reference.entries {
        return (
            "mismatch",
            Some(format!(
                "the register holds {} exception(s), the reference says {}",
                register.entries.len(),
                reference.entries
            )),
            None,
        );
    }
    let note = match (&reference.version_id, versioned) {
        (Some(v), false) => Some(format!(
            "version {v} not checked: a folder keeps no object versions"
        )),
        _ => None,
    };
    ("verified", note, Some(register))
}

/// The finding for a report whose register could not be verified.
fn reference_problem(u: &Use, state: &str, note: Option<&str>, out: &mut Vec<Problem>) {
    let code = match state {
        "missing" => "register-missing",
        "malformed" => "register-malformed",
        "unreadable" => "unreadable",
        "notLookedFor" => "register-not-checked",
        _ => "register-mismatch",
    };
    let labels = if u.labels.is_empty() {
        String::new()
    } else {
        format!(
            "; its {} exception label(s) cannot be checked",
            u.labels.len()
        )
    };
    out.push(Problem {
        code,
        key: u.report_key.clone(),
        detail: format!(
            "exceptionRegister names {} (SHA-256 {}): {}{labels}",
            u.register.key,
            u.register.sha256,
            note.unwrap_or(state)
        ),
    });
}

/// Checks each label of one report against its register; the number that matched.
fn check_labels(
    u: &Use,
    labelled: &[Labelled],
    register: &Register,
    out: &mut Vec<Problem>,
) -> usize {
    let mut matched = 0;
    let mut mismatched = 0;
    for l in u.labels.iter().map(|&i| &labelled[i as usize]) {
        let finding = format!("rule {} {} {}", l.rule, l.resource_type, l.resource_id);
        let wrong = match register.get(&l.label.id) {
            None => vec![format!(
                "{} is not in the register {}",
                l.label.id, u.register.key
            )],
            Some(e) => label_differences(u, l, e),
        };
        if wrong.is_empty() {
            matched += 1;
            continue;
        }
        mismatched += 1;
        if mismatched <= MISMATCHES_PER_REPORT {
            out.push(Problem {
                code: "exception-mismatch",
                key: u.report_key.clone(),
                detail: format!(
                    "{finding} carries exception {}: {}",
                    l.label.id,
                    wrong.join("; ")
                ),
            });
        }
    }
    if mismatched > MISMATCHES_PER_REPORT {
        out.push(Problem {
            code: "exception-mismatch",
            key: u.report_key.clone(),
            detail: format!(
                "and {} more exception label(s) in this report that do not match the register",
                mismatched - MISMATCHES_PER_REPORT
            ),
        });
    }
    matched
}

/// How a label differs from the register's entry of the same id.
fn label_differences(u: &Use, l: &Labelled, e: &RegisterEntry) -> Vec<String> {
    let mut wrong = Vec::new();
    if !e.names(&u.suffix, &l.rule, &l.resource_type, &l.resource_id) {
        wrong.push(format!(
            "the register's {} covers rule {} {} {}",
            e.id,
            e.rule_name(&u.suffix),
            e.resource_type,
            e.resource_id
        ));
    }
    if e.approver != l.label.approver {
        wrong.push(format!(
            "approver {:?} in the report, {:?} in the register",
            l.label.approver, e.approver
        ));
    }
    if e.expires != l.label.expires {
        wrong.push(format!(
            "expires {} in the report, {} in the register",
            l.label.expires, e.expires
        ));
    }
    if !e.in_force(u.day) {
        wrong.push(format!(
            "not in force on {} (created {}, expires {})",
            u.day, e.created, e.expires
        ));
    }
    wrong
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(id: &str, created: &str, expires: &str) -> String {
        format!(
            r#"{{"approver":"a@example.com","created":"{created}","expires":"{expires}","id":"{id}","reason":"r","resourceId":"db-1","resourceType":"AWS::RDS::DBInstance","rule":"rds-storage-encrypted","ticket":"T-1"}}"#
        )
    }

    fn register(entries: &[String]) -> Vec<u8> {
        format!(
            r#"{{"exceptions":[{}],"format":"compliance-exceptions/1","maxDays":365}}"#,
            entries.join(",")
        )
        .into_bytes()
    }

    #[test]
    fn reads_the_register_format() {
        let r = parse_register(&register(&[
            entry("EXC-2", "2026-07-01", "2026-07-31"),
            entry("EXC-1", "2026-07-01", "2026-09-15"),
        ]))
        .unwrap();
        assert_eq!(r.max_days, 365);
        assert_eq!(r.get("EXC-1").unwrap().expires.to_string(), "2026-09-15");
        assert!(r.get("EXC-3").is_none());
        let e = r.get("EXC-2").unwrap();
        assert!(e.in_force("2026-07-31".parse().unwrap()));
        assert!(!e.in_force("2026-08-01".parse().unwrap()));
        assert!(!e.in_force("2026-06-30".parse().unwrap()));
        assert!(e.names(
            "dev",
            "rds-storage-encrypted-dev",
            "AWS::RDS::DBInstance",
            "db-1"
        ));
        assert!(!e.names(
            "dev",
            "rds-storage-encrypted",
            "AWS::RDS::DBInstance",
            "db-1"
        ));
        assert!(!e.names(
            "prod",
            "rds-storage-encrypted-dev",
            "AWS::RDS::DBInstance",
            "db-1"
        ));
        assert!(parse_register(&register(&[])).unwrap().entries.is_empty());
    }

    #[test]
    fn refuses_what_the_format_does_not_allow() {
        let cases = [
            (
                register(&vec![entry("EXC-1", "2026-07-01", "2026-07-31"); 2]),
                "used twice",
            ),
            (
                register(&[entry("EXC 1", "2026-07-01", "2026-07-31")]),
                "is not 1-64",
            ),
            (
                register(&[entry("EXC-1", "2026-07-01", "2026-02-30")]),
                "expires \"2026-02-30\" is not a date",
            ),
            (
                register(&[entry("EXC-1", "2026-7-1", "2026-07-31")]),
                "created \"2026-7-1\"",
            ),
            (
                br#"{"exceptions":[],"format":"compliance-exceptions/2","maxDays":365}"#.to_vec(),
                "format is",
            ),
            (
                br#"{"exceptions":[],"format":"compliance-exceptions/1","maxDays":365,"x":1}"#
                    .to_vec(),
                "unknown field",
            ),
            (b"[]".to_vec(), "not a compliance-exceptions/1 object"),
        ];
        for (bytes, expected) in cases {
            let e = parse_register(&bytes).unwrap_err();
            assert!(e.contains(expected), "{e}");
        }
    }
}
