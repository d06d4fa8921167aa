//! Absence is a finding too, over fixture folders: a trail that stopped, reports from the future,
//! `--as-of`, the generator's `chain/head.json`, heads witnessed outside the bucket, periods
//! without evidence, the link from a period's last report to its successor, and entries that
//! cannot be read. The S3 counterparts are in `s3.rs`.

mod common;

use std::fs;

use assert_cmd::Command;
use chrono::{Duration, TimeZone, Utc};
use common::*;
use serde_json::Value;

/// `auditor verify --format json` with `args` (the real binary, the real clock).
fn verify(root: &std::path::Path, args: &[&str]) -> (i32, Value, String) {
    let out = Command::cargo_bin("auditor")
        .unwrap()
        .args(["verify", "--format", "json"])
        .args(args)
        .arg(root)
        .output()
        .unwrap();
    (
        out.status.code().unwrap(),
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn file(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let p = dir.path().join(name);
    fs::write(&p, text).unwrap();
    p.display().to_string()
}

#[test]
fn a_trail_that_stopped_is_a_finding_at_now() {
    let t = clean_trail();
    // Now is months after the last report (2026-07-10): the newest reports may have been deleted.
    let (code, v, _) = verify(&t.root(), &[]);
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(v["intact"], true, "the chain itself is intact");
    let gap = v["gaps"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(gap["afterKey"], t.keys[9].as_str());
    assert_eq!(gap["beforeKey"], Value::Null);
    assert!(gap["missingDays"].as_u64().unwrap() > 100, "{gap:#}");
    let text = Command::cargo_bin("auditor")
        .unwrap()
        .arg("verify")
        .arg(t.root())
        .output()
        .unwrap();
    let text = String::from_utf8(text.stdout).unwrap();
    assert!(
        text.contains("no report since 2026-07-10 06:00:00Z")
            && text.contains("the generator stopped or the newest reports were deleted"),
        "{text}"
    );
    // As of six hours after the last report, the same trail is complete.
    assert_eq!(verify(&t.root(), &["--as-of", AS_OF]).0, 0);
    // A fixed "now" gives the same finding in-process.
    let (code, out, _) = run_at(
        "2026-07-13T00:00:00Z",
        &[
            "verify",
            "--format",
            "json",
            &t.root().display().to_string(),
        ],
    );
    let v: Value = serde_json::from_str(&out).unwrap();
    assert_eq!((code, v["gaps"][0]["missingDays"].as_u64()), (1, Some(2)));
}

#[test]
fn a_report_from_the_future_is_a_finding() {
    let mut specs = daily("2026-07-01", 10, |_| vec!["bucket-a"]);
    let mut future = specs[9].clone();
    future.generated_at = Utc.with_ymd_and_hms(9000, 1, 1, 6, 0, 0).unwrap();
    specs.push(future);
    let t = write_trail(&specs);
    let (code, v, _) = verify(&t.root(), &[]);
    assert_eq!(code, 1);
    let future = problems_with(&v, "future-report");
    assert_eq!(future.len(), 1, "{v:#}");
    assert_eq!(future[0].0, t.keys[10]);
    assert!(
        future[0]
            .1
            .contains("generatedAt 9000-01-01 06:00:00Z is after now")
    );
    // With --as-of the report is not read, but its key alone is a finding.
    let (code, v, _) = verify(&t.root(), &["--as-of", AS_OF]);
    assert_eq!(
        (code, problem_codes(&v)),
        (1, vec!["future-report".to_owned()])
    );
    assert!(
        problems_with(&v, "future-report")[0]
            .1
            .contains("key is dated 9000-01-01")
    );
}

#[test]
fn as_of_leaves_later_reports_out_and_checks_the_link_into_them() {
    let t = clean_trail();
    let as_of = "2026-07-05T12:00:00Z";
    let (code, v, _) = verify(&t.root(), &["--as-of", as_of]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(
        (v["reports"].as_u64(), v["leftOutAfterAsOf"].as_u64()),
        (Some(5), Some(5))
    );
    assert_eq!(v["newestConfirmedBy"], t.keys[5].as_str());
    assert_eq!(v["provenance"]["asOf"], as_of);
    assert_eq!(v["provenance"]["newestReport"]["key"], t.keys[4].as_str());
    // The newest report before the moment was edited: its successor, though left out, says so.
    let mut bytes = t.read(4);
    bytes.insert(1, b' ');
    t.write(4, &bytes);
    let (code, v, _) = verify(&t.root(), &["--as-of", as_of]);
    assert_eq!(code, 1);
    assert_eq!(problems_with(&v, "hash-mismatch")[0].0, t.keys[5]);
    // A date means the end of that UTC day.
    let (code, v, _) = verify(&t.root(), &["--as-of", "2026-07-03"]);
    assert_eq!((code, v["reports"].as_u64()), (0, Some(3)));
}

#[test]
fn as_of_in_the_future_or_malformed_cannot_run() {
    let t = clean_trail();
    for bad in ["2999-01-01T00:00:00Z", "yesterday"] {
        let (code, _, err) = verify(&t.root(), &["--as-of", bad]);
        assert_eq!(code, 2, "{bad}");
        let first = err.lines().next().unwrap_or_default();
        assert!(first.contains(bad) && first.contains("--as-of"), "{err}");
    }
}

#[test]
fn witnesses_confirm_the_trail_and_catch_a_reforged_chain() {
    let t = clean_trail();
    let dir = tempfile::tempdir().unwrap();
    let heads = file(
        &dir,
        "mailbox.txt",
        &format!(
            "# grep '^witness: ' mailbox.txt\n{}\n\n{}\n",
            t.witness_line(3),
            t.witness_line(9)
        ),
    );
    let (code, v, _) = verify(&t.root(), &["--as-of", AS_OF, "--witness", &heads]);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(
        (
            v["witnesses"]["compared"].as_u64(),
            v["witnesses"]["matched"].as_u64()
        ),
        (Some(2), Some(2))
    );
    // Edit report 4 and recompute every later link: the trail is consistent in itself...
    t.reforge(4, |r| r["rules"][0]["nonCompliant"] = serde_json::json!([]));
    let (code, v, _) = verify(&t.root(), &["--as-of", AS_OF]);
    assert_eq!(
        code, 0,
        "a re-forged chain is undetectable without a witness: {v:#}"
    );
    // ...but not with the head the alert announced.
    let (code, v, _) = verify(&t.root(), &["--as-of", AS_OF, "--witness", &heads]);
    assert_eq!(code, 1);
    let mismatch = problems_with(&v, "witness-mismatch");
    assert_eq!(mismatch.len(), 1, "{v:#}");
    assert_eq!(mismatch[0].0, t.keys[9]);
    assert!(mismatch[0].1.contains("mailbox.txt:4"), "{}", mismatch[0].1);
    assert_eq!(v["witnesses"]["matched"], 1, "report 3 is untouched");
}

#[test]
fn a_deleted_tail_is_caught_by_a_witness() {
    let t = clean_trail();
    let dir = tempfile::tempdir().unwrap();
    let heads = file(&dir, "heads.txt", &format!("{}\n", t.witness_line(9)));
    for i in 7..10 {
        fs::remove_file(t.path(i)).unwrap();
    }
    let (code, v, _) = verify(&t.root(), &["--as-of", AS_OF, "--witness", &heads]);
    assert_eq!(code, 1);
    let ahead = problems_with(&v, "witness-ahead");
    assert_eq!(ahead.len(), 1, "{v:#}");
    assert_eq!(ahead[0].0, t.keys[9]);
    assert!(
        ahead[0].1.contains("sequences 7..9 are missing"),
        "{}",
        ahead[0].1
    );
}

#[test]
fn witnesses_from_sns_notifications_and_json() {
    let t = clean_trail();
    let dir = tempfile::tempdir().unwrap();
    let sns = |i: usize| {
        serde_json::json!({
            "Type": "Notification",
            "Message": "Compliance report stored.",
            "MessageAttributes": {
                "headSequence": {"Type": "Number", "Value": i.to_string()},
                "headKey": {"Type": "String", "Value": t.keys[i]},
                "headSha256": {"Type": "String", "Value": t.sha(i)},
            }
        })
        .to_string()
    };
    let jsonl = file(&dir, "sns.jsonl", &format!("{}\n{}\n", sns(1), sns(2)));
    let array = file(
        &dir,
        "heads.json",
        &serde_json::json!([{"head": {"sequence": 5, "key": t.keys[5], "sha256": t.sha(5)}}])
            .to_string(),
    );
    let (code, v, err) = verify(
        &t.root(),
        &["--as-of", AS_OF, "--witness", &jsonl, "--witness", &array],
    );
    assert_eq!(code, 0, "{err}{v:#}");
    assert_eq!(v["witnesses"]["matched"], 3);
    assert_eq!(v["witnessFiles"].as_array().unwrap().len(), 2);
}

#[test]
fn a_malformed_witness_file_cannot_run_and_names_the_line() {
    let t = clean_trail();
    let dir = tempfile::tempdir().unwrap();
    let bad = file(
        &dir,
        "heads.txt",
        &format!(
            "{}\nwitness: 4 {} not-a-hash\n",
            t.witness_line(3),
            t.keys[4]
        ),
    );
    let (code, _, err) = verify(&t.root(), &["--as-of", AS_OF, "--witness", &bad]);
    assert_eq!(code, 2);
    assert!(
        err.contains(&format!("{bad}:2: sha256")) && err.contains("64 hexadecimal"),
        "{err}"
    );
    assert_eq!(err.trim_end().lines().count(), 1, "{err}");
}

#[test]
fn the_generators_head_is_compared_with_the_trail() {
    let t = clean_trail();
    // Absent: stated, not a finding.
    let (code, v, _) = verify(&t.root(), &["--as-of", AS_OF]);
    assert_eq!((code, v["head"]["state"].as_str()), (0, Some("absent")));
    // Present and right, read beside reports/ whether the source is the bucket root or reports/.
    t.add("chain/head.json", &t.head_json(9));
    for root in [t.root(), t.root().join("reports")] {
        let (code, v, _) = verify(&root, &["--as-of", AS_OF]);
        assert_eq!(code, 0, "{v:#}");
        assert_eq!(v["headVersions"]["matched"], 1, "{root:?}");
    }
    // The newest reports deleted while the head still names them.
    fs::remove_file(t.path(9)).unwrap();
    fs::remove_file(t.path(8)).unwrap();
    let (code, v, _) = verify(&t.root(), &["--as-of", AS_OF]);
    assert_eq!(code, 1);
    let ahead = problems_with(&v, "head-ahead");
    assert_eq!(ahead.len(), 1, "{v:#}");
    assert_eq!(ahead[0].0, t.keys[9]);
    assert!(
        ahead[0]
            .1
            .contains("sequences 8..9 are missing: the newest reports were deleted")
    );
    // A head naming a report whose bytes differ.
    let t = clean_trail();
    let mut head: Value = serde_json::from_slice(&t.head_json(9)).unwrap();
    head["last"]["sha256"] = "0".repeat(64).into();
    t.add("chain/head.json", head.to_string().as_bytes());
    let (code, v, _) = verify(&t.root(), &["--as-of", AS_OF]);
    assert_eq!(
        (code, problem_codes(&v)),
        (1, vec!["head-mismatch".to_owned()])
    );
    // A head that is not what the generator writes.
    t.add(
        "chain/head.json",
        b"{\"format\": \"compliance-chain-head/1\", \"last\": 7}",
    );
    let (code, v, _) = verify(&t.root(), &["--as-of", AS_OF]);
    assert_eq!(
        (code, problem_codes(&v)),
        (1, vec!["head-malformed".to_owned()])
    );
}

/// A period with no report, one that has not started, and one whose end lies beyond the newest
/// report are stated first, in every format and on stderr, and never read as a clean trail.
#[test]
fn periods_without_evidence_are_stated_plainly() {
    let t = clean_trail();
    let root = t.root().display().to_string();
    let now = "2026-09-15T12:00:00Z";
    let timeline = |format: &str, period: &[&str]| {
        let mut args = vec!["timeline", root.as_str(), "--format", format];
        args.extend_from_slice(period);
        run_at(now, &args)
    };
    let cases: [(&[&str], &str, &str); 3] = [
        (
            &["--from", "2026-08-01", "--to", "2026-08-31"],
            "none",
            "NO EVIDENCE: no report in the period 2026-08-01 to 2026-08-31",
        ),
        (
            &["--quarter", "2026-Q4"],
            "notStarted",
            "NO EVIDENCE: the period 2026-Q4 has not started",
        ),
        (
            &["--from", "2026-07-01", "--to", "2026-08-31"],
            "partial",
            "no report from 2026-07-10 06:00 UTC to 2026-09-01 00:00 UTC (52 day(s) without a report)",
        ),
    ];
    for (period, state, words) in cases {
        let (code, json, err) = timeline("json", period);
        assert_eq!(code, 1, "{period:?}: {err}");
        let v: Value = serde_json::from_str(&json).unwrap();
        assert_eq!(v["evidence"]["state"], state, "{period:?}");
        assert!(err.starts_with("auditor: NO EVIDENCE"), "{err}");
        assert!(err.contains(words), "{period:?}: {err}");
        let (_, html, _) = timeline("html", period);
        let banner = html
            .split("<p class=\"noevidence\" role=\"alert\">")
            .nth(1)
            .unwrap();
        assert!(
            banner.starts_with(&words[..20]) || banner.contains(words),
            "{banner}"
        );
        assert!(
            !html.contains("Trail intact") || state == "partial",
            "{period:?}"
        );
        assert!(!html.contains("No finding is open"), "{period:?}");
        let (_, md, _) = timeline("md", period);
        let first = md
            .lines()
            .find(|l| !l.is_empty() && !l.starts_with('#'))
            .unwrap();
        assert!(first.starts_with("**NO EVIDENCE"), "{first}");
        let (_, csv, _) = timeline("csv", period);
        assert!(csv.contains(&format!("evidence,{state}")), "{csv}");
    }
    // "0 gaps" never stands beside days without a report.
    let (_, json, _) = timeline("json", &["--from", "2026-07-01", "--to", "2026-08-31"]);
    let v: Value = serde_json::from_str(&json).unwrap();
    let trailing = v["chain"]["gaps"]
        .as_array()
        .unwrap()
        .last()
        .unwrap()
        .clone();
    assert_eq!(
        (
            trailing["beforeKey"].clone(),
            trailing["missingDays"].as_u64()
        ),
        (Value::Null, Some(52))
    );
    assert_eq!(v["monitoring"]["daysWithoutReport"], 52);
}

#[test]
fn a_running_period_with_fresh_reports_is_not_missing_evidence() {
    let t = clean_trail();
    let (code, json, err) = run_at(
        "2026-07-10T12:00:00Z",
        &[
            "timeline",
            &t.root().display().to_string(),
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(
        (
            v["evidence"]["state"].as_str(),
            v["period"]["through"].as_str()
        ),
        (Some("complete"), Some("2026-07-10"))
    );
}

#[test]
fn timeline_checks_the_last_report_against_its_successor() {
    let t = clean_trail();
    let period = ["--from", "2026-07-01", "--to", "2026-07-06"];
    let run = || {
        let out = Command::cargo_bin("auditor")
            .unwrap()
            .args(["timeline", "--format", "json"])
            .args(period)
            .arg(t.root())
            .output()
            .unwrap();
        (
            out.status.code().unwrap(),
            serde_json::from_slice::<Value>(&out.stdout).unwrap(),
        )
    };
    let (code, v) = run();
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["chain"]["newestConfirmedBy"], t.keys[6].as_str());
    let mut bytes = t.read(5); // the period's last report
    bytes.insert(1, b' ');
    t.write(5, &bytes);
    let (code, v) = run();
    assert_eq!(code, 1);
    assert_eq!(problems_with(&v["chain"], "hash-mismatch")[0].0, t.keys[6]);
}

#[test]
fn timeline_reports_dated_after_now_in_the_period_are_findings() {
    let t = clean_trail();
    // Now is 2026-07-05 noon: the reports of 07-06 to 07-10 are dated in the future.
    let (code, json, _) = run_at(
        "2026-07-05T12:00:00Z",
        &[
            "timeline",
            &t.root().display().to_string(),
            "--format",
            "json",
            "--from",
            "2026-07-01",
            "--to",
            "2026-07-10",
        ],
    );
    assert_eq!(code, 1);
    let v: Value = serde_json::from_str(&json).unwrap();
    let future: Vec<String> = problems_with(&v["chain"], "future-report")
        .into_iter()
        .map(|p| p.0)
        .collect();
    assert_eq!(future, t.keys[5..].to_vec());
    assert_eq!(v["period"]["through"], "2026-07-05");
}

#[test]
fn entries_that_cannot_be_read_are_findings_and_the_rest_is_checked() {
    use std::os::unix::fs::symlink;
    let t = clean_trail();
    let day = t.root().join("reports/2026/07/05");
    symlink(day.join("gone"), day.join("00000099-dangling.json")).unwrap();
    symlink(
        t.root().join("reports/2026"),
        t.root().join("reports/2026/07/loop"),
    )
    .unwrap();
    let fifo = day.join("00000098-fifo.json");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success()
    );
    // A folder whose mode forbids reading; root reads it anyway, so the case is also made with a
    // folder behind a link to itself, which no one can list.
    let locked = t.root().join("reports/2026/07/locked");
    fs::create_dir(&locked).unwrap();
    fs::set_permissions(&locked, std::os::unix::fs::PermissionsExt::from_mode(0o000)).unwrap();
    let as_root = fs::read_dir(&locked).is_ok();
    if as_root {
        eprintln!(
            "NOTE: running as root, which reads any folder: the unreadable-folder case is made with a self-referencing link instead"
        );
    }
    symlink("self", t.root().join("reports/2026/07/self")).unwrap();
    let (code, v, _) = verify(&t.root(), &["--as-of", AS_OF]);
    fs::set_permissions(&locked, std::os::unix::fs::PermissionsExt::from_mode(0o755)).unwrap();
    assert_eq!(code, 1, "{v:#}");
    assert_eq!(v["validReports"], 10, "the rest of the trail was checked");
    let mut unreadable: Vec<String> = problems_with(&v, "unreadable")
        .into_iter()
        .map(|p| p.0)
        .collect();
    unreadable.sort();
    let mut expected = vec![
        "reports/2026/07/05/00000098-fifo.json".to_owned(),
        "reports/2026/07/05/00000099-dangling.json".to_owned(),
        "reports/2026/07/loop".to_owned(),
        "reports/2026/07/self".to_owned(),
    ];
    if !as_root {
        expected.push("reports/2026/07/locked".to_owned());
        expected.sort();
    }
    assert_eq!(unreadable, expected, "{v:#}");
}

#[test]
fn a_file_that_cannot_be_read_is_a_finding() {
    let t = clean_trail();
    // A report replaced by a link to a file the kernel refuses to read: whoever runs the test.
    fs::remove_file(t.path(4)).unwrap();
    std::os::unix::fs::symlink("/proc/self/mem", t.path(4)).unwrap();
    let (code, v, _) = verify(&t.root(), &["--as-of", AS_OF]);
    assert_eq!(code, 1);
    assert_eq!(problems_with(&v, "unreadable")[0].0, t.keys[4], "{v:#}");
    assert_eq!(v["validReports"], 9);
    assert!(
        problems_with(&v, "missing-sequence").is_empty(),
        "its sequence still counts"
    );
}

#[test]
fn an_object_over_the_size_limit_is_refused_unread() {
    let t = clean_trail();
    let f = fs::File::options().write(true).open(t.path(4)).unwrap();
    f.set_len(auditor::report::MAX_REPORT_BYTES + 1).unwrap(); // sparse: nothing is written
    let (code, v, _) = verify(&t.root(), &["--as-of", AS_OF]);
    assert_eq!(code, 1);
    assert_eq!(problem_codes(&v), vec!["too-large".to_owned()], "{v:#}");
    assert!(problems_with(&v, "too-large")[0].1.contains("134217728"));
}

#[test]
fn a_report_numbered_u64_max_does_not_panic() {
    let t = clean_trail();
    let mut v: Value = serde_json::from_slice(&t.read(9)).unwrap();
    v["chain"]["sequence"] = u64::MAX.into();
    let key = t.keys[9].replace("00000009-", &format!("{}-", u64::MAX));
    t.add(&key, &auditor::synth::encode(&v));
    fs::remove_file(t.path(9)).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let heads = file(
        &dir,
        "w.txt",
        &format!("{} {key} {}\n", u64::MAX, "a".repeat(64)),
    );
    let (code, v, err) = verify(&t.root(), &["--as-of", AS_OF, "--witness", &heads]);
    assert_eq!(code, 1, "{err}");
    let missing = problems_with(&v, "missing-sequence");
    assert!(
        missing[0]
            .1
            .contains(&format!("sequences 9..{} are", u64::MAX - 1)),
        "{v:#}"
    );
    assert_eq!(v["lastSequence"], u64::MAX);
    assert_eq!(problems_with(&v, "witness-mismatch").len(), 1);
}

#[test]
fn provenance_opens_every_output() {
    let t = clean_trail();
    let root = t.root().display().to_string();
    let (_, text, _) = run_at(AS_OF, &["verify", &root]);
    let first: Vec<&str> = text.lines().take(11).collect();
    for (i, label) in [
        "account:",
        "region:",
        "environment:",
        "period:",
        "source:",
        "generated:",
        "auditor version:",
        "reports checked:",
        "first report:",
        "newest report:",
    ]
    .iter()
    .enumerate()
    {
        assert!(
            first.iter().any(|l| l.starts_with(label)),
            "{label} ({i}) in:\n{text}"
        );
    }
    assert!(
        text.starts_with("account:         123456789012\n"),
        "{text}"
    );
    assert!(
        text.contains(&format!("{} (SHA-256 {})", t.keys[9], t.sha(9))),
        "{text}"
    );
    let (_, json, _) = run_at(AS_OF, &["verify", &root, "--format", "json"]);
    assert!(
        json.starts_with("{\n  \"format\": \"auditor-verify/1\",\n  \"provenance\": {"),
        "{json}"
    );
    let v: Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["provenance"]["firstReport"]["sha256"], t.sha(0).as_str());
    assert_eq!(v["provenance"]["auditorVersion"], env!("CARGO_PKG_VERSION"));
    assert_eq!(v["provenance"]["generatedAt"], AS_OF);
    for format in ["html", "md", "csv", "json"] {
        let (_, out, _) = run_at(
            AS_OF,
            &[
                "timeline",
                &root,
                "--format",
                format,
                "--from",
                "2026-07-01",
                "--to",
                "2026-07-10",
            ],
        );
        let head = &out[..out.len().min(4000)];
        for needle in [
            "123456789012",
            "us-east-1",
            "dev",
            &t.keys[0],
            &t.sha(9),
            env!("CARGO_PKG_VERSION"),
            "2026-07-10T12:00:00Z",
        ] {
            assert!(
                head.contains(needle),
                "{format}: {needle} not near the top:\n{head}"
            );
        }
    }
    let (_, csv, _) = run_at(
        AS_OF,
        &[
            "timeline",
            &root,
            "--format",
            "csv",
            "--from",
            "2026-07-01",
            "--to",
            "2026-07-10",
        ],
    );
    assert!(
        csv.starts_with("section,provenance\nfield,value\naccount,123456789012\n"),
        "{csv}"
    );
}

#[test]
fn a_clean_trail_as_of_a_moment_after_a_long_pause_names_the_pause() {
    let specs = daily("2026-07-01", 3, |_| vec![]);
    let t = write_trail(&specs);
    let at = (morning("2026-07-03") + Duration::hours(27)).to_rfc3339();
    let (code, v, _) = verify(&t.root(), &["--as-of", &at]);
    assert_eq!(code, 1, "27 hours after the last report, with 26 allowed");
    assert_eq!(v["gaps"][0]["missingDays"], 0);
    assert_eq!(v["gaps"][0]["hours"], 27.0);
}
