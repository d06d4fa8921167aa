//! The exceptions register (schema 1.1) in `verify` and `timeline`: the hand-built mixed trail in
//! `tests/fixtures/mixed-trail/` (two 1.0 reports, three 1.1 reports, two registers; see
//! `build_mixed_trail.py` there) verifies clean, and each way a register reference or a label can
//! be wrong is a finding named by the report's key; then the timeline's reading of expiry over a
//! day without a report, of an extension under the same id, and of a period of 1.0 reports only.

mod common;

use std::fs;
use std::path::Path;

use auditor::synth::{DeployedRegister, ExceptionsSpec, ReportSpec, RuleSpec, exception};
use common::*;
use serde_json::{Value, json};

/// The moment the mixed trail speaks for: six hours after its last report.
const NOW: &str = "2026-07-05T12:00:00Z";

fn fixture() -> &'static Path {
    Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/mixed-trail"
    ))
}

fn copy(from: &Path, to: &Path) {
    fs::create_dir_all(to).unwrap();
    for entry in fs::read_dir(from).unwrap() {
        let entry = entry.unwrap();
        let target = to.join(entry.file_name());
        if entry.file_type().unwrap().is_dir() {
            copy(&entry.path(), &target);
        } else {
            fs::copy(entry.path(), target).unwrap();
        }
    }
}

/// A copy of the mixed trail to tamper with; its reports' keys in sequence order.
fn mixed_trail() -> Trail {
    let dir = tempfile::tempdir().unwrap();
    copy(fixture(), dir.path());
    let mut keys = Vec::new();
    for year in [
        "2026/07/01",
        "2026/07/02",
        "2026/07/03",
        "2026/07/04",
        "2026/07/05",
    ] {
        let folder = dir.path().join("reports").join(year);
        for f in fs::read_dir(&folder).unwrap() {
            let name = f.unwrap().file_name().into_string().unwrap();
            keys.push(format!("reports/{year}/{name}"));
        }
    }
    Trail { dir, keys }
}

fn verify(root: &Path) -> (i32, Value) {
    let (code, out, err) = run_at(NOW, &["verify", root.to_str().unwrap(), "--format", "json"]);
    assert!(code != 2, "{err}");
    (code, serde_json::from_str(&out).unwrap())
}

fn report(t: &Trail, i: usize) -> Value {
    serde_json::from_slice(&t.read(i)).unwrap()
}

/// The register object report `i` names, as (key, parsed JSON).
fn register_of(t: &Trail, i: usize) -> (String, Value) {
    let key = report(t, i)["exceptionRegister"]["key"]
        .as_str()
        .unwrap()
        .to_owned();
    let bytes = fs::read(t.root().join(&key)).unwrap();
    (key, serde_json::from_slice(&bytes).unwrap())
}

#[test]
fn the_mixed_trail_verifies_clean() {
    let (code, v) = verify(fixture());
    assert_eq!(code, 0, "{v:#}");
    let x = &v["exceptions"];
    assert_eq!(x["reportsWithoutExceptions"], 2);
    assert_eq!(x["reportsWithExceptions"], 3);
    assert_eq!(
        (x["labelsChecked"].as_u64(), x["labelsMatched"].as_u64()),
        (Some(5), Some(5))
    );
    let states: Vec<&str> = x["registers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["state"].as_str().unwrap())
        .collect();
    assert_eq!(states, ["verified", "verified"]);
    assert!(
        x["registers"][0]["note"]
            .as_str()
            .unwrap()
            .contains("not checked: a folder keeps no object versions")
    );
    let (_, text, _) = run_at(NOW, &["verify", fixture().to_str().unwrap()]);
    assert!(
        text.contains("exceptions:      3 of 5 report(s) of schema 1.1 name 2 register(s), 2 verified (found with the named SHA-256); 5 of 5 exception label(s) match an entry in force; 2 report(s) of schema 1.0 predate exceptions\n"),
        "{text}"
    );
}

#[test]
fn a_changed_register_is_a_mismatch_for_every_report_naming_it() {
    let t = mixed_trail();
    let (key, _) = register_of(&t, 2);
    let path = t.root().join(&key);
    let mut bytes = fs::read(&path).unwrap();
    bytes.insert(1, b' ');
    fs::write(&path, bytes).unwrap();
    let (code, v) = verify(&t.root());
    assert_eq!(code, 1);
    let found = problems_with(&v, "register-mismatch");
    assert_eq!(
        found.iter().map(|(k, _)| k.as_str()).collect::<Vec<_>>(),
        [t.keys[2].as_str(), t.keys[3].as_str()]
    );
    assert!(
        found[0]
            .1
            .contains("the register changed after the report was written"),
        "{}",
        found[0].1
    );
    assert!(
        found[0]
            .1
            .contains("its 2 exception label(s) cannot be checked"),
        "{}",
        found[0].1
    );
    assert_eq!(
        problem_codes(&v),
        ["register-mismatch", "register-mismatch"]
    );
}

#[test]
fn a_deleted_register_is_missing() {
    let t = mixed_trail();
    let (key, _) = register_of(&t, 4);
    fs::remove_file(t.root().join(&key)).unwrap();
    let (code, v) = verify(&t.root());
    assert_eq!(code, 1);
    let found = problems_with(&v, "register-missing");
    assert_eq!(found.len(), 1);
    assert_eq!(found[0].0, t.keys[4]);
    assert!(
        found[0].1.contains(&format!("{key} is not in the source")),
        "{}",
        found[0].1
    );
    // The timeline of the period says so too: a finding of its trail check.
    let (code, out, _) = run_at(
        NOW,
        &[
            "timeline",
            t.root().to_str().unwrap(),
            "--from",
            "2026-07-01",
            "--to",
            "2026-07-05",
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 1);
    let tl: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(problems_with(&tl["chain"], "register-missing").len(), 1);
    // Without its register, EXC-2026-003 is still listed from the report's label.
    let in_force = tl["exceptions"]["inForce"].as_array().unwrap();
    let third = in_force.iter().find(|e| e["id"] == "EXC-2026-003").unwrap();
    assert_eq!(
        (third["reason"].clone(), third["approver"].clone()),
        (Value::Null, json!("jane.doe@example.com"))
    );
}

#[test]
fn each_wrong_label_is_a_finding_named_by_report() {
    type Edit = Box<dyn Fn(&mut Value)>;
    let ec2 = 2; // rules[2]: ec2-imdsv2-check-dev, whose EXC-2026-002 expired on 2026-07-03
    let cases: Vec<(usize, Edit, &str, &str)> = vec![
        (
            3,
            Box::new(move |v| {
                v["rules"][ec2]["nonCompliant"][0]["exception"] = json!({"id": "EXC-2026-002", "approver": "sam.lee@example.com", "expires": "2026-07-03"});
                v["rules"][ec2]["counts"]["excepted"] = json!(1);
            }),
            "exception-mismatch",
            "carries exception EXC-2026-002: not in force on 2026-07-04 (created 2026-07-01, expires 2026-07-03)",
        ),
        (
            4,
            Box::new(|v| {
                v["rules"][1]["nonCompliant"][0]["exception"]["approver"] =
                    json!("someone.else@example.com")
            }),
            "exception-mismatch",
            "approver \"someone.else@example.com\" in the report, \"jane.doe@example.com\" in the register",
        ),
        (
            4,
            Box::new(|v| {
                v["rules"][1]["nonCompliant"][0]["exception"]["expires"] = json!("2027-09-15")
            }),
            "exception-mismatch",
            "expires 2027-09-15 in the report, 2026-09-15 in the register",
        ),
        (
            4,
            Box::new(|v| {
                v["rules"][1]["nonCompliant"][0]["exception"]["id"] = json!("EXC-2026-009")
            }),
            "exception-mismatch",
            "EXC-2026-009 is not in the register",
        ),
        (
            4,
            Box::new(|v| {
                v["rules"][1]["nonCompliant"][0]["exception"]["id"] = json!("EXC-2026-003")
            }),
            "exception-mismatch",
            "the register's EXC-2026-003 covers rule s3-bucket-sse-enabled-dev AWS::S3::Bucket legacy-logs-bucket",
        ),
        (
            4,
            Box::new(|v| v["rules"][1]["counts"]["excepted"] = json!(0)),
            "exception-count",
            "rule rds-storage-encrypted-dev: counts.excepted is 0 but 1 of its findings carry an exception",
        ),
        (
            4,
            Box::new(|v| v["exceptionRegister"] = Value::Null),
            "exception-mismatch",
            "2 finding(s) carry an exception (the first: EXC-2026-003 on rule s3-bucket-sse-enabled-dev AWS::S3::Bucket legacy-logs-bucket), but the report names no exceptions register",
        ),
        (
            4,
            Box::new(|v| v["exceptionRegister"]["entries"] = json!(2)),
            "register-mismatch",
            "the register holds 3 exception(s), the reference says 2",
        ),
        (
            4,
            Box::new(|v| v["exceptionRegister"]["sha256"] = json!("0".repeat(64))),
            "register-mismatch",
            "the key names SHA-256 eaabaf9f",
        ),
        (
            0,
            Box::new(|v| {
                v["rules"][0]["nonCompliant"][0]["exception"] =
                    json!({"id": "EXC-2026-001", "approver": "a", "expires": "2026-09-15"})
            }),
            "schema-violation",
            "/rules/0/nonCompliant/0/exception",
        ),
        (
            2,
            Box::new(|v| {
                v["rules"][1]["nonCompliant"][0]["exception"]["expires"] = json!("2026-02-30")
            }),
            "schema-violation",
            "\"2026-02-30\" is not a valid date",
        ),
    ];
    for (i, edit, code, detail) in cases {
        let t = mixed_trail();
        // Re-forged as a writer of the bucket would: every later link recomputed, and the head
        // (which would show the newest report rewritten) removed, so only the exceptions check
        // can tell.
        t.reforge(i, edit);
        fs::remove_file(t.root().join("chain/head.json")).unwrap();
        let (exit, v) = verify(&t.root());
        assert_eq!(exit, 1, "{code}: {v:#}");
        let found = problems_with(&v, code);
        assert!(
            found
                .iter()
                .any(|(k, d)| k == &t.keys[i] && d.contains(detail)),
            "{code} {detail}: {:#}",
            v["problems"]
        );
        assert_eq!(
            problem_codes(&v).len(),
            found.len(),
            "only {code}: {:#}",
            v["problems"]
        );
    }
}

#[test]
fn a_register_in_another_format_is_malformed() {
    let t = mixed_trail();
    let bytes = b"{\"entries\":[],\"format\":\"compliance-exceptions/2\"}\n";
    let sha = auditor::synth::sha256_hex(bytes);
    let key = format!("exceptions/{sha}.json");
    t.add(&key, bytes);
    t.reforge(4, |v| {
        v["exceptionRegister"]["key"] = json!(key);
        v["exceptionRegister"]["sha256"] = json!(sha);
    });
    let (code, v) = verify(&t.root());
    assert_eq!(code, 1);
    let found = problems_with(&v, "register-malformed");
    assert_eq!(found.len(), 1, "{:#}", v["problems"]);
    assert_eq!(found[0].0, t.keys[4]);
    assert!(
        found[0].1.contains("not a compliance-exceptions/1 object"),
        "{}",
        found[0].1
    );
}

#[test]
fn a_folder_without_the_trail_root_cannot_check_registers() {
    // Reports copied flat, without the folder that holds reports/ and exceptions/.
    let t = mixed_trail();
    let flat = tempfile::tempdir().unwrap();
    for k in &t.keys {
        let name = Path::new(k).file_name().unwrap();
        let day = &k["reports/".len()..k.len() - name.len() - 1];
        let target = flat.path().join("copy").join(day);
        fs::create_dir_all(&target).unwrap();
        fs::copy(t.root().join(k), target.join(name)).unwrap();
    }
    let (code, v) = verify(&flat.path().join("copy"));
    assert_eq!(code, 1);
    let found = problems_with(&v, "register-not-checked");
    assert_eq!(found.len(), 3, "{:#}", v["problems"]);
    assert!(
        found[0].1.contains("neither a copy of the bucket root"),
        "{}",
        found[0].1
    );
}

/// One rule (S3) with `ids`, at 06:00 on `day`, of schema 1.1 with `register`.
fn v11(day: &str, ids: &[&str], register: &DeployedRegister) -> ReportSpec {
    let mut s = ReportSpec::new(
        morning(day),
        vec![RuleSpec::standard(0, ids).in_environment("dev")],
    );
    s.exceptions = ExceptionsSpec::Register(register.clone());
    s
}

fn timeline(t: &Trail, from: &str, to: &str, now: &str) -> Value {
    let (code, out, err) = run_at(
        now,
        &[
            "timeline",
            t.root().to_str().unwrap(),
            "--from",
            from,
            "--to",
            to,
            "--format",
            "json",
        ],
    );
    assert!(code != 2, "{err}");
    serde_json::from_str(&out).unwrap()
}

fn series(tl: &Value, field: &str, rule: &str) -> Vec<u64> {
    tl["days"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d[field][rule].as_u64().unwrap())
        .collect()
}

#[test]
fn an_exception_expiring_on_a_day_without_a_report_ends_that_day() {
    let register = DeployedRegister::new(
        vec![exception("EXC-1", 0, "a", "2026-07-01", "2026-07-03")],
        None,
    );
    // Reports on 07-01 and 07-06 only: 07-02 to 07-05 are carried from 07-01.
    let t = write_trail(&[
        v11("2026-07-01", &["a"], &register),
        v11("2026-07-06", &["a"], &register),
    ]);
    t.add(&register.key, &register.bytes);
    let tl = timeline(&t, "2026-07-01", "2026-07-06", "2026-07-06T12:00:00Z");
    let rule = "s3-bucket-sse-enabled-dev";
    assert_eq!(series(&tl, "byRule", rule), [1, 1, 1, 1, 1, 1]);
    assert_eq!(series(&tl, "exceptedByRule", rule), [1, 1, 1, 0, 0, 0]);
    let w = &tl["exposures"][0]["windows"][0];
    assert_eq!(
        (w["exceptedDays"].as_u64(), w["days"].as_u64()),
        (Some(3), Some(6))
    );
    assert_eq!(w["exceptions"][0]["to"], "2026-07-03");
    let expired = &tl["exceptions"]["expiredWhileOpen"];
    assert_eq!(expired.as_array().unwrap().len(), 1);
    assert_eq!(
        (
            expired[0]["dayAfter"].clone(),
            expired[0]["stateDayAfter"].clone()
        ),
        (json!("2026-07-04"), json!("nonCompliant"))
    );
    // The 07-06 report labels nothing (EXC-1 is not in force): the labels agree with the
    // register (the only finding is the cadence gap).
    let (_, out, _) = run_at(
        "2026-07-06T12:00:00Z",
        &["verify", t.root().to_str().unwrap(), "--format", "json"],
    );
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["problems"], json!([]));
    assert_eq!(v["exceptions"]["labelsMatched"], 1);
}

#[test]
fn an_exception_extended_under_its_id_did_not_expire() {
    let first = DeployedRegister::new(
        vec![exception("EXC-1", 0, "a", "2026-07-01", "2026-07-02")],
        None,
    );
    let second = DeployedRegister::new(
        vec![exception("EXC-1", 0, "a", "2026-07-01", "2026-07-31")],
        None,
    );
    let t = write_trail(&[
        v11("2026-07-01", &["a"], &first),
        v11("2026-07-02", &["a"], &first),
        v11("2026-07-03", &["a"], &second),
        v11("2026-07-04", &["a"], &second),
    ]);
    for r in [&first, &second] {
        t.add(&r.key, &r.bytes);
    }
    let tl = timeline(&t, "2026-07-01", "2026-07-04", "2026-07-04T12:00:00Z");
    assert_eq!(
        series(&tl, "exceptedByRule", "s3-bucket-sse-enabled-dev"),
        [1, 1, 1, 1]
    );
    assert_eq!(tl["exceptions"]["expiredWhileOpen"], json!([]));
    let days: Vec<(String, u64)> = tl["exceptions"]["inForce"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            (
                e["to"].as_str().unwrap().to_owned(),
                e["daysExcepted"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        days,
        [("2026-07-02".to_owned(), 2), ("2026-07-31".to_owned(), 2)]
    );
}

#[test]
fn a_period_of_schema_1_0_reports_records_no_exception() {
    let t = clean_trail();
    let (_, md, _) = run_at(
        AS_OF,
        &[
            "timeline",
            t.root().to_str().unwrap(),
            "--from",
            "2026-07-01",
            "--to",
            "2026-07-10",
            "--format",
            "md",
        ],
    );
    assert!(md.contains("## Exceptions\n\nNot recorded: the 10 report(s) of the period are of schema 1.0, which predates exceptions, so every finding in them counts as non-compliant and none as excepted.\n"), "{md}");
    assert!(
        !md.contains("Excepted"),
        "no excepted column for a period without exceptions"
    );
    assert!(
        md.contains("none as excepted.\n\n## Longest-open findings"),
        "{md}"
    );
    let (_, csv, _) = run_at(
        AS_OF,
        &[
            "timeline",
            t.root().to_str().unwrap(),
            "--from",
            "2026-07-01",
            "--to",
            "2026-07-10",
            "--format",
            "csv",
        ],
    );
    // The data keeps its layout: the excepted columns are there, all zero.
    assert!(csv.contains(",excepted:s3-bucket-sse-enabled,"), "{csv}");
    let (code, text, _) = run_at(AS_OF, &["verify", t.root().to_str().unwrap()]);
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("exceptions:      not recorded: the 10 report(s) are of schema 1.0, which predates exceptions (every finding counts as non-compliant)\n"), "{text}");
}
