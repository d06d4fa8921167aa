//! `auditor verify` over fixture folders: a clean trail, and one tampered trail per way a trail
//! can go wrong. Runs the real binary and checks exit codes and the JSON result.

mod common;

use assert_cmd::Command;
use common::*;
use serde_json::Value;

fn verify(root: &std::path::Path) -> (i32, Value) {
    let out = Command::cargo_bin("auditor")
        .unwrap()
        .args(["verify", "--format", "json", "--as-of", AS_OF])
        .arg(root)
        .output()
        .unwrap();
    let json = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code().unwrap(), json)
}

fn codes(v: &Value) -> Vec<String> {
    v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].as_str().unwrap().to_owned())
        .collect()
}

fn problem_keys(v: &Value, code: &str) -> Vec<String> {
    v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|p| p["code"] == code)
        .map(|p| p["key"].as_str().unwrap().to_owned())
        .collect()
}

#[test]
fn clean_trail_passes_with_exit_0() {
    let t = clean_trail();
    let (code, v) = verify(&t.root());
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["intact"], true);
    assert_eq!(v["reports"], 10);
    assert_eq!(v["validReports"], 10);
    assert_eq!(v["lastSequence"], 9);
    assert_eq!(v["findings"], 0);
}

#[test]
fn human_summary_names_the_verdict() {
    let t = clean_trail();
    let out = Command::cargo_bin("auditor")
        .unwrap()
        .args(["verify", "--as-of", AS_OF])
        .arg(t.root())
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("\nchain:           INTACT\n"), "{text}");
    assert!(text.contains("\nresult:          OK"), "{text}");
}

#[test]
fn folder_rooted_below_reports_still_links() {
    let t = clean_trail();
    let (code, v) = verify(&t.root().join("reports/2026"));
    assert_eq!(code, 0, "{v:#}");
}

#[test]
fn bucket_root_with_the_generators_bookkeeping_still_passes() {
    // The report bucket also holds chain/head.json and chain/triggers/*.json: not reports.
    let t = clean_trail();
    t.add(
        "chain/head.json",
        br#"{"format": "compliance-chain-head/1"}"#,
    );
    t.add(
        "chain/triggers/0b6f3c1e-8d2a-5f4e-9c1b-2a3d4e5f6a7b.json",
        b"{}",
    );
    let (code, v) = verify(&t.root());
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["reports"], 10);
}

#[test]
fn edited_report_breaks_the_next_link() {
    let t = clean_trail();
    let mut bytes = t.read(4);
    bytes.insert(bytes.len() - 1, b' '); // white space only: still valid JSON
    t.write(4, &bytes);
    let (code, v) = verify(&t.root());
    assert_eq!(code, 1);
    assert_eq!(codes(&v), vec!["hash-mismatch"]);
    assert_eq!(problem_keys(&v, "hash-mismatch"), vec![t.keys[5].clone()]);
}

#[test]
fn deleted_report_is_a_missing_sequence() {
    let t = clean_trail();
    std::fs::remove_file(t.path(3)).unwrap();
    let (code, v) = verify(&t.root());
    assert_eq!(code, 1);
    assert_eq!(codes(&v), vec!["missing-sequence"]);
    assert!(
        v["problems"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("sequence 3")
    );
    assert_eq!(
        v["gaps"].as_array().unwrap().len(),
        1,
        "the missing day is also a cadence gap"
    );
}

#[test]
fn deleted_first_report_is_reported() {
    let t = clean_trail();
    std::fs::remove_file(t.path(0)).unwrap();
    let (code, v) = verify(&t.root());
    assert_eq!(code, 1);
    assert_eq!(codes(&v), vec!["missing-sequence"]);
}

#[test]
fn two_reports_with_one_sequence() {
    let t = clean_trail();
    // A second generator wrote its own sequence-5 report the same day.
    let raw = String::from_utf8(t.read(5)).unwrap();
    let other_id = "ffffffff-ffff-5fff-8fff-ffffffffffff";
    let id = t.keys[5]
        .rsplit('-')
        .take(5)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect::<Vec<_>>()
        .join("-")
        .replace(".json", "");
    let forged = raw.replace(&id, other_id);
    t.add(&t.keys[5].replace(&id, other_id), forged.as_bytes());
    let (code, v) = verify(&t.root());
    assert_eq!(code, 1);
    assert!(
        codes(&v).contains(&"duplicate-sequence".to_owned()),
        "{v:#}"
    );
}

#[test]
fn malformed_and_truncated_json() {
    let t = clean_trail();
    let bytes = t.read(2);
    t.write(2, &bytes[..bytes.len() / 2]);
    let (code, v) = verify(&t.root());
    assert_eq!(code, 1);
    assert_eq!(problem_keys(&v, "malformed-json"), vec![t.keys[2].clone()]);
    // The truncated report still has bytes: its successor's link is checked against them.
    assert_eq!(problem_keys(&v, "hash-mismatch"), vec![t.keys[3].clone()]);
    assert_eq!(
        v["validReports"], 9,
        "the run went on over the other reports"
    );
}

#[test]
fn non_utf8_bytes() {
    let t = clean_trail();
    let mut bytes = t.read(6);
    bytes[10] = 0xff;
    t.write(6, &bytes);
    let (code, v) = verify(&t.root());
    assert_eq!(code, 1);
    assert_eq!(problem_keys(&v, "not-utf8"), vec![t.keys[6].clone()]);
}

#[test]
fn wrong_schema_version() {
    let t = clean_trail();
    let text = String::from_utf8(t.read(9))
        .unwrap()
        .replace("\"schemaVersion\":\"1.0\"", "\"schemaVersion\":\"2.0\"");
    t.write(9, text.as_bytes());
    let (code, v) = verify(&t.root());
    assert_eq!(code, 1);
    assert_eq!(codes(&v), vec!["wrong-schema-version"]);
    assert!(
        v["problems"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("\"2.0\"")
    );
}

#[test]
fn unknown_field_and_wrong_type_break_the_schema() {
    let t = clean_trail();
    let text = String::from_utf8(t.read(9)).unwrap();
    t.write(
        9,
        text.replacen("{\"account\"", "{\"extra\":1,\"account\"", 1)
            .as_bytes(),
    );
    let text = String::from_utf8(t.read(8)).unwrap();
    t.write(
        8,
        text.replacen("\"complete\":true", "\"complete\":\"yes\"", 1)
            .as_bytes(),
    );
    let (code, v) = verify(&t.root());
    assert_eq!(code, 1);
    let bad = problem_keys(&v, "schema-violation");
    assert_eq!(bad, vec![t.keys[8].clone(), t.keys[9].clone()], "{v:#}");
    let details: Vec<&str> = v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(|p| p["detail"].as_str())
        .collect();
    assert!(details.iter().any(|d| d.contains("extra")), "{details:?}");
}

#[test]
fn missing_day_with_intact_chain_is_a_cadence_gap() {
    let mut specs = daily("2026-07-01", 10, |_| vec!["bucket-a"]);
    specs.remove(4); // no report on 2026-07-05; sequences stay contiguous
    let t = write_trail(&specs);
    let (code, v) = verify(&t.root());
    assert_eq!(code, 1);
    assert_eq!(v["intact"], true, "the chain itself is intact");
    assert_eq!(
        v["gaps"][0]["missingDates"],
        serde_json::json!(["2026-07-05"])
    );
    assert_eq!(v["gaps"][0]["hours"], 48.0);
    // A looser cadence accepts it.
    let out = Command::cargo_bin("auditor")
        .unwrap()
        .args(["verify", "--max-gap-hours", "50", "--as-of", AS_OF])
        .arg(t.root())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(0));
}

#[test]
fn report_stored_out_of_order() {
    let t = clean_trail();
    // Move sequence 6 under an earlier date folder: the key no longer matches generatedAt, and the
    // listing puts it before sequence 5.
    let key = t.keys[6].replace("2026/07/07", "2026/07/02");
    t.add(&key, &t.read(6));
    std::fs::remove_file(t.path(6)).unwrap();
    let (code, v) = verify(&t.root());
    assert_eq!(code, 1);
    let c = codes(&v);
    assert!(c.contains(&"out-of-order".to_owned()), "{c:?}");
    assert!(c.contains(&"key-mismatch".to_owned()), "{c:?}");
}

#[test]
fn key_off_the_naming_rule() {
    let t = clean_trail();
    t.add("reports/2026/07/11/latest.json", &t.read(9));
    let (code, v) = verify(&t.root());
    assert_eq!(code, 1);
    assert!(codes(&v).contains(&"key-name".to_owned()));
}

#[test]
fn empty_source_cannot_run() {
    let dir = tempfile::tempdir().unwrap();
    let out = Command::cargo_bin("auditor")
        .unwrap()
        .arg("verify")
        .arg(dir.path())
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8(out.stderr).unwrap();
    assert!(err.contains("holds no reports"), "{err}");
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn missing_folder_cannot_run() {
    let out = Command::cargo_bin("auditor")
        .unwrap()
        .args(["verify", "/nonexistent/auditor-test"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(
        String::from_utf8(out.stderr)
            .unwrap()
            .contains("/nonexistent/auditor-test")
    );
}

#[test]
fn bad_arguments_exit_2() {
    let out = Command::cargo_bin("auditor")
        .unwrap()
        .args(["verify", ".", "--max-gap-hours", "-3"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = Command::cargo_bin("auditor")
        .unwrap()
        .args(["timeline", ".", "--quarter", "2026-Q9"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8(out.stderr).unwrap().contains("2026-Q9"));
}

#[test]
fn help_has_examples() {
    for args in [
        vec!["--help"],
        vec!["verify", "--help"],
        vec!["timeline", "--help"],
    ] {
        let out = Command::cargo_bin("auditor")
            .unwrap()
            .args(&args)
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(0));
        assert!(
            String::from_utf8(out.stdout).unwrap().contains("Examples:"),
            "{args:?}"
        );
    }
}

#[test]
fn broken_pipe_exits_quietly() {
    let t = clean_trail();
    let bin = assert_cmd::cargo::cargo_bin("auditor");
    let mut child = std::process::Command::new(bin)
        .args([
            "timeline",
            "--format",
            "json",
            "--from",
            "2026-07-01",
            "--to",
            "2026-07-10",
        ])
        .arg(t.root())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take()); // the reader goes away before the output is written
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(0));
    assert!(
        out.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}
