//! Builds reports the way the report generator stores them (v1 schema, keys sorted, no
//! insignificant white space, one trailing newline, chained by SHA-256 of the stored bytes). Used
//! by the test fixtures and by the `gen-history` benchmark generator; not by `verify` or `timeline`.

use chrono::{DateTime, Utc};
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

/// The three AWS managed rules the stack deploys: (rule name, identifier, resource type), named
/// as in `lib/config_monitoring/` without the environment suffix (a test holds the two together).
pub const RULES: [(&str, &str, &str); 3] = [
    (
        "s3-bucket-sse-enabled",
        "S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED",
        "AWS::S3::Bucket",
    ),
    (
        "rds-storage-encrypted",
        "RDS_STORAGE_ENCRYPTED",
        "AWS::RDS::DBInstance",
    ),
    ("ec2-imdsv2-check", "EC2_IMDSV2_CHECK", "AWS::EC2::Instance"),
];

/// One rule's part of a report.
#[derive(Debug, Clone)]
pub struct RuleSpec {
    pub name: String,
    pub identifier: String,
    pub complete: bool,
    /// (resourceType, resourceId) pairs; sorted on output.
    pub findings: Vec<(String, String)>,
    /// `counts.compliant` (100 unless set).
    pub compliant: u64,
}

impl RuleSpec {
    /// Rule `i` of [`RULES`] with non-compliant resource ids of its resource type.
    pub fn standard(i: usize, ids: &[&str]) -> Self {
        let (name, identifier, ty) = RULES[i];
        RuleSpec {
            name: name.to_owned(),
            identifier: identifier.to_owned(),
            complete: true,
            findings: ids
                .iter()
                .map(|id| (ty.to_owned(), (*id).to_owned()))
                .collect(),
            compliant: 100,
        }
    }
}

/// What one report says.
#[derive(Debug, Clone)]
pub struct ReportSpec {
    pub generated_at: DateTime<Utc>,
    pub rules: Vec<RuleSpec>,
    pub recorder_recording: bool,
    /// (code, subject, message) entries of `monitoring.problems`.
    pub problems: Vec<(String, String, String)>,
    /// `account` and `region` of the report.
    pub account: String,
    pub region: String,
}

/// The account and region of a report unless a spec says otherwise.
pub const ACCOUNT: &str = "123456789012";
pub const REGION: &str = "us-east-1";

impl ReportSpec {
    pub fn new(generated_at: DateTime<Utc>, rules: Vec<RuleSpec>) -> Self {
        ReportSpec {
            generated_at,
            rules,
            recorder_recording: true,
            problems: Vec::new(),
            account: ACCOUNT.to_owned(),
            region: REGION.to_owned(),
        }
    }
}

/// A deterministic lower-case UUID-shaped report id for a sequence number.
pub fn report_id(sequence: u64, salt: u64) -> String {
    let a = sequence.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ salt;
    format!(
        "{:08x}-{:04x}-5{:03x}-8{:03x}-{:012x}",
        (a >> 32) as u32,
        (a >> 16) & 0xffff,
        sequence & 0xfff,
        salt & 0xfff,
        sequence & 0xffff_ffff_ffff
    )
}

/// The object key of a report of a single-account trail.
pub fn key_for(generated_at: DateTime<Utc>, sequence: u64, id: &str) -> String {
    key_under("reports/", generated_at, sequence, id)
}

/// The object key of a report under `prefix` (`reports/`, or `reports/<account>/<region>/` for
/// an organization's trail).
pub fn key_under(prefix: &str, generated_at: DateTime<Utc>, sequence: u64, id: &str) -> String {
    format!(
        "{prefix}{}/{sequence:08}-{id}.json",
        generated_at.format("%Y/%m/%d")
    )
}

fn timestamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// The report document for `spec` at `sequence`, linked to `previous` = (key, sha256).
pub fn report_value(
    spec: &ReportSpec,
    sequence: u64,
    id: &str,
    previous: Option<(&str, &str)>,
) -> Value {
    let at = timestamp(spec.generated_at);
    let mut by_rule = serde_json::Map::new();
    let mut by_type: std::collections::BTreeMap<String, u64> = Default::default();
    let mut total = 0u64;
    let mut rules_nc = 0u64;
    let mut errors = Vec::new();
    let rules: Vec<Value> = spec
        .rules
        .iter()
        .map(|r| {
            let mut f = r.findings.clone();
            f.sort();
            let n = f.len() as u64;
            total += n;
            rules_nc += u64::from(n > 0);
            by_rule.insert(r.name.clone(), json!(n));
            for (t, _) in &f {
                *by_type.entry(t.clone()).or_default() += 1;
            }
            if !r.complete {
                errors.push(json!({"scope": "rule", "subject": r.name, "code": "ThrottlingException", "message": "Rate exceeded"}));
            }
            let findings: Vec<Value> = f
                .iter()
                .map(|(t, id)| json!({"resourceType": t, "resourceId": id, "annotation": "Resource is not compliant with the rule.", "resultRecordedTime": at}))
                .collect();
            json!({
                "name": r.name,
                "managedIdentifier": r.identifier,
                "complianceType": if n > 0 { "NON_COMPLIANT" } else { "COMPLIANT" },
                "complete": r.complete,
                "counts": {"compliant": r.compliant, "nonCompliant": n, "notApplicable": 0},
                "evaluationStatus": {
                    "firstEvaluationStarted": true,
                    "lastSuccessfulEvaluationTime": at,
                    "lastFailedEvaluationTime": null,
                    "lastErrorCode": null,
                    "lastErrorMessage": null
                },
                "nonCompliant": findings
            })
        })
        .collect();
    let mut problems: Vec<Value> = spec
        .problems
        .iter()
        .map(|(c, s, m)| json!({"code": c, "subject": s, "message": m}))
        .collect();
    if !spec.recorder_recording
        && !spec
            .problems
            .iter()
            .any(|p| p.0 == "RECORDER_NOT_RECORDING")
    {
        problems.push(json!({"code": "RECORDER_NOT_RECORDING", "subject": "default", "message": "The configuration recorder is stopped."}));
    }
    json!({
        "schemaVersion": "1.0",
        "reportId": id,
        "generatedAt": at,
        "generator": {"name": "compliance-report-generator", "version": "1.0.0"},
        "trigger": {"type": "schedule", "id": format!("schedule-{sequence}"), "receivedAt": at, "note": null},
        "account": spec.account,
        "region": spec.region,
        "environmentSuffix": "dev",
        "complete": errors.is_empty(),
        "rules": rules,
        "summary": {"totalNonCompliant": total, "rulesNonCompliant": rules_nc, "byRule": by_rule, "byResourceType": by_type},
        "monitoring": {
            "healthy": problems.is_empty(),
            "recorders": [{"name": "default", "recording": spec.recorder_recording, "lastStatus": "SUCCESS", "lastStatusChangeTime": at, "lastErrorCode": null, "lastErrorMessage": null}],
            "deliveryChannels": [{"name": "default", "configHistoryLastStatus": "Success", "configSnapshotLastStatus": "Success", "configStreamLastStatus": null, "lastErrorCode": null}],
            "problems": problems
        },
        "errors": errors,
        "chain": {"sequence": sequence, "previousKey": previous.map(|p| p.0), "previousSha256": previous.map(|p| p.1)}
    })
}

/// Stored bytes: compact JSON with sorted keys and one trailing newline.
pub fn encode(value: &Value) -> Vec<u8> {
    let mut out = serde_json::to_vec(value).unwrap_or_default();
    out.push(b'\n');
    out
}

/// Lower-case hex SHA-256.
pub fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Chains reports as the generator does: sequence numbers from 0, each linked to the previous.
#[derive(Debug)]
pub struct ChainWriter {
    next: u64,
    previous: Option<(String, String)>,
    salt: u64,
    /// Where the trail's keys start: `reports/`, or `reports/<account>/<region>/`.
    prefix: String,
}

impl ChainWriter {
    /// A single-account trail under `reports/`.
    pub fn new(salt: u64) -> Self {
        Self::under("reports/", salt)
    }

    /// A trail whose keys start with `prefix` (an organization's `reports/<account>/<region>/`).
    pub fn under(prefix: &str, salt: u64) -> Self {
        ChainWriter {
            next: 0,
            previous: None,
            salt,
            prefix: prefix.to_owned(),
        }
    }

    /// The newest report written: (sequence, key, SHA-256), as the generator's head names it.
    pub fn last(&self) -> Option<(u64, &str, &str)> {
        let (key, sha) = self.previous.as_ref()?;
        Some((self.next - 1, key, sha))
    }

    /// Returns the key and stored bytes of the next report.
    pub fn next(&mut self, spec: &ReportSpec) -> (String, Vec<u8>) {
        let seq = self.next;
        let id = report_id(seq, self.salt);
        let key = key_under(&self.prefix, spec.generated_at, seq, &id);
        let prev = self
            .previous
            .as_ref()
            .map(|(k, h)| (k.as_str(), h.as_str()));
        let bytes = encode(&report_value(spec, seq, &id, prev));
        self.previous = Some((key.clone(), sha256_hex(&bytes)));
        self.next += 1;
        (key, bytes)
    }
}

/// A small deterministic generator (SplitMix64) so fixtures and benchmark data are reproducible.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        Rng(seed)
    }
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
    /// Uniform in `0..n` (n > 0).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n.max(1)
    }
    /// True with probability `p`.
    pub fn chance(&mut self, p: f64) -> bool {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64 <= p
    }
}

#[cfg(test)]
mod tests {
    use super::RULES;

    /// The fixtures and the benchmark history name the rules as the stack does.
    #[test]
    fn rules_are_the_ones_the_stack_deploys() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../lib/config_monitoring");
        let mut stack = String::new();
        for entry in std::fs::read_dir(&dir).expect("lib/config_monitoring/ beside the crate") {
            let path = entry.unwrap().path();
            if path.extension().is_some_and(|e| e == "py") {
                stack += &std::fs::read_to_string(&path).unwrap();
            }
        }
        for (name, identifier, _) in RULES {
            for quoted in [format!("\"{name}\""), format!("\"{identifier}\"")] {
                assert!(
                    stack.contains(&quoted),
                    "{quoted} is not in {}",
                    dir.display()
                );
            }
        }
    }
}
