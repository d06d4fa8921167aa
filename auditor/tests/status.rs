//! `auditor status`: the newest report and the one before it by sequence, the link between them,
//! what changed, since when the still-open findings are open, and the absence rule.

mod common;

use auditor::synth::{ReportSpec, RuleSpec};
use chrono::Duration;
use common::*;
use serde_json::Value;

/// `auditor status` over `t` at `now` with `extra` arguments, as JSON: (exit code, document, stderr).
fn status(t: &Trail, now: &str, extra: &[&str]) -> (i32, Value, String) {
    let root = t.root();
    let mut args = vec!["status", root.to_str().unwrap(), "--format", "json"];
    args.extend_from_slice(extra);
    let (code, out, err) = run_at(now, &args);
    (code, serde_json::from_str(&out).unwrap_or(Value::Null), err)
}

/// (rule, resourceId) of each finding in a list of changes.
fn ids(v: &Value) -> Vec<(String, String)> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["rule"].as_str().unwrap().to_owned(),
                f["resourceId"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

const S3: &str = "s3-bucket-sse-enabled";

fn s3(id: &str) -> (String, String) {
    (S3.to_owned(), id.to_owned())
}

#[test]
fn newest_and_previous_linked_with_what_changed_and_since_when() {
    // Day 0-2: bucket-a; day 3-5: bucket-a, bucket-b; day 6-9: bucket-b.
    let t = clean_trail();
    let (code, v, err) = status(&t, AS_OF, &[]);
    assert_eq!(code, 0, "{err}\n{v:#}");
    // The document's top-level fields, in the order written: provenance first.
    let (_, raw, _) = run_at(
        AS_OF,
        &["status", t.root().to_str().unwrap(), "--format", "json"],
    );
    let at = |field: &str| raw.find(&format!("\n  \"{field}\": ")).unwrap();
    let order = [
        "format",
        "provenance",
        "newest",
        "previous",
        "changes",
        "chain",
    ];
    assert!(order.windows(2).all(|w| at(w[0]) < at(w[1])), "{raw}");
    assert_eq!(v.as_object().unwrap().len(), order.len());
    assert_eq!(v["format"], "auditor-status/1");
    assert_eq!(v["newest"]["key"], t.keys[9].as_str());
    assert_eq!(v["newest"]["sequence"], 9);
    assert_eq!(v["newest"]["sha256"], t.sha(9).as_str());
    assert_eq!(v["previous"]["key"], t.keys[8].as_str());
    let newest = &v["newest"]["report"];
    assert_eq!(newest["generatedAt"], "2026-07-10T06:00:00Z");
    assert_eq!(newest["complete"], true);
    assert_eq!(newest["monitoringOn"], true);
    assert_eq!(newest["totalNonCompliant"], 1);
    assert_eq!(
        newest["rules"][0],
        serde_json::json!({"rule": S3, "complete": true, "nonCompliant": 1, "compliant": 100, "evaluated": 101, "percent": 99.0})
    );
    assert_eq!(v["chain"]["linked"], true);
    assert_eq!(v["chain"]["problems"], serde_json::json!([]));
    assert_eq!(v["chain"]["gaps"], serde_json::json!([]));
    let c = &v["changes"];
    assert_eq!((ids(&c["new"]), ids(&c["fixed"])), (vec![], vec![]));
    assert_eq!(ids(&c["stillOpen"]), [s3("bucket-b")]);
    // bucket-b's run of reports began on day 3 (2026-07-04): read back through reports 7..3, ended by 2.
    assert_eq!(c["stillOpen"][0]["openSince"], "2026-07-04");
    assert_eq!(c["stillOpen"][0]["openSinceOrEarlier"], false);
    assert_eq!(c["stillOpen"][0]["openDays"], 6);
    assert_eq!(
        c["openSince"],
        "from the 6 report(s) before the previous one, read back by sequence to 2026-07-03; every date is where the finding's run of reports began"
    );

    // One step back (--as-of day 6): bucket-a fixed, bucket-b still open; on day 3, bucket-b new.
    let (code, v, _) = status(&t, AS_OF, &["--as-of", "2026-07-07"]);
    assert_eq!(code, 0);
    assert_eq!(v["newest"]["key"], t.keys[6].as_str());
    assert_eq!(ids(&v["changes"]["fixed"]), [s3("bucket-a")]);
    assert_eq!(ids(&v["changes"]["stillOpen"]), [s3("bucket-b")]);
    let (_, v, _) = status(&t, AS_OF, &["--as-of", "2026-07-04"]);
    assert_eq!(ids(&v["changes"]["new"]), [s3("bucket-b")]);
    // bucket-a is open since the first report: the start of the trail, not "or earlier".
    assert_eq!(v["changes"]["stillOpen"][0]["openSince"], "2026-07-01");
    assert_eq!(v["changes"]["stillOpen"][0]["openSinceOrEarlier"], false);
}

#[test]
fn the_previous_report_is_the_one_before_by_sequence_not_by_day() {
    // Two reports on 07-02 (the on-demand one at 03:00 lists c, the scheduled one does not),
    // then nothing until 07-04.
    let mut specs = daily("2026-07-01", 2, |_| vec!["a"]);
    specs[1].rules[0] = RuleSpec::standard(0, &["a", "c"]);
    specs[1].generated_at -= Duration::hours(3);
    specs.extend(daily("2026-07-02", 1, |_| vec!["a"]));
    specs.extend(daily("2026-07-04", 1, |_| vec!["a", "d"]));
    let t = write_trail(&specs);

    let (code, v, _) = status(&t, "2026-07-04T12:00:00Z", &["--as-of", "2026-07-02"]);
    assert_eq!(code, 0);
    assert_eq!(v["newest"]["key"], t.keys[2].as_str());
    assert_eq!(
        v["previous"]["key"],
        t.keys[1].as_str(),
        "same day, one sequence before"
    );
    assert_eq!(ids(&v["changes"]["fixed"]), [s3("c")]);

    // 07-04 against 07-02: a gap of two days between them is a finding.
    let (code, v, _) = status(&t, "2026-07-04T12:00:00Z", &[]);
    assert_eq!(code, 1);
    assert_eq!(v["previous"]["key"], t.keys[2].as_str());
    assert_eq!(ids(&v["changes"]["new"]), [s3("d")]);
    assert_eq!(v["chain"]["linked"], true);
    let gaps = v["chain"]["gaps"].as_array().unwrap();
    assert_eq!(gaps.len(), 1);
    assert_eq!(gaps[0]["missingDates"], serde_json::json!(["2026-07-03"]));
}

#[test]
fn a_changed_previous_report_breaks_the_link() {
    let t = clean_trail();
    let mut bytes = t.read(8);
    bytes.insert(1, b' ');
    t.write(8, &bytes);
    let (code, v, _) = status(&t, AS_OF, &[]);
    assert_eq!(code, 1);
    assert_eq!(v["chain"]["linked"], false);
    assert!(
        v["chain"]["statement"]
            .as_str()
            .unwrap()
            .starts_with("BROKEN: the newest report's previousSha256 is ")
    );
    assert_eq!(problem_codes(&v["chain"]), ["hash-mismatch"]);
    let (code, text, _) = run_at(AS_OF, &["status", t.root().to_str().unwrap()]);
    assert_eq!(code, 1);
    assert!(text.contains("\nlink:            BROKEN: "), "{text}");
    assert!(
        text.ends_with("result:          FINDINGS: 1 (see above)\n"),
        "{text}"
    );
}

#[test]
fn a_newest_report_older_than_allowed_is_a_finding() {
    let t = clean_trail();
    // Two days after the newest report (07-10 06:00).
    let (code, v, _) = status(&t, "2026-07-12T07:00:00Z", &[]);
    assert_eq!(code, 1);
    let gaps = v["chain"]["gaps"].as_array().unwrap();
    assert_eq!(gaps.len(), 1);
    assert_eq!(gaps[0]["afterKey"], t.keys[9].as_str());
    assert!(gaps[0]["beforeKey"].is_null());
    let (code, text, _) = run_at(
        "2026-07-12T07:00:00Z",
        &["status", t.root().to_str().unwrap()],
    );
    assert_eq!(code, 1);
    assert!(
        text.contains(
            "  no report since 2026-07-10 06:00:00Z (49 h before 2026-07-12 07:00:00Z; 1 day(s) without a report): the generator stopped or the newest reports were deleted"
        ),
        "{text}"
    );
    // Within the allowed gap it is not.
    let (code, _, _) = status(&t, "2026-07-12T07:00:00Z", &["--max-gap-hours", "50"]);
    assert_eq!(code, 0);
}

#[test]
fn open_since_stops_at_the_lookback_limit_and_says_or_earlier() {
    let t = write_trail(&daily("2026-07-01", 10, |_| vec!["a"]));
    let (_, v, _) = status(&t, AS_OF, &["--lookback-days", "3"]);
    let s = &v["changes"]["stillOpen"][0];
    assert_eq!(
        (&s["openSince"], &s["openSinceOrEarlier"], &s["openDays"]),
        (
            &Value::from("2026-07-07"),
            &Value::from(true),
            &Value::from(3)
        )
    );
    assert!(
        v["changes"]["openSince"]
            .as_str()
            .unwrap()
            .contains("(the --lookback-days limit)")
    );
    let (_, text, _) = run_at(
        AS_OF,
        &["status", t.root().to_str().unwrap(), "--lookback-days", "3"],
    );
    assert!(
        text.contains(&format!(
            "  still open {S3} AWS::S3::Bucket a (open since 2026-07-07 or earlier, 3+ day(s))"
        )),
        "{text}"
    );
}

#[test]
fn an_incomplete_rule_neither_fixes_nor_opens() {
    let mut specs = daily("2026-07-01", 3, |d| {
        if d < 2 { vec!["a", "b"] } else { vec!["b"] }
    });
    specs[2].rules[0].complete = false; // lists b only, but was not read in full
    specs[2].rules[1] = RuleSpec::standard(1, &["db-1"]);
    let t = write_trail(&specs);
    let (code, v, _) = status(&t, "2026-07-03T12:00:00Z", &[]);
    assert_eq!(code, 0);
    let c = &v["changes"];
    assert_eq!(
        ids(&c["fixed"]),
        Vec::<(String, String)>::new(),
        "a is not known fixed"
    );
    assert_eq!(
        ids(&c["new"]),
        [("rds-storage-encrypted".to_owned(), "db-1".to_owned())]
    );
    assert_eq!(ids(&c["stillOpen"]), [s3("b")]);
    assert_eq!(c["notCompared"][0]["rule"], S3);
    assert!(
        c["notCompared"][0]["reason"]
            .as_str()
            .unwrap()
            .starts_with("incomplete in the newest report")
    );
    let rule = &v["newest"]["report"]["rules"][0];
    assert_eq!(
        (rule["complete"].clone(), rule["percent"].clone()),
        (Value::from(false), Value::Null)
    );
    assert_eq!(v["newest"]["report"]["monitoringOn"], false);
}

#[test]
fn the_text_opens_with_provenance_and_states_the_state() {
    let mut specs = daily("2026-07-01", 3, |d| {
        if d == 0 { vec!["a"] } else { vec!["a", "b"] }
    });
    specs[2] = ReportSpec {
        recorder_recording: false,
        ..specs[2].clone()
    };
    let t = write_trail(&specs);
    let (code, text, err) = run_at(
        "2026-07-03T12:00:00Z",
        &["status", t.root().to_str().unwrap()],
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        text.starts_with("account:         123456789012\n"),
        "{text}"
    );
    for line in [
        format!("newest:          {} (sequence 2, SHA-256 {})", t.keys[2], t.sha(2)),
        "generated at:    2026-07-03T06:00:00Z (6.0 h before now)".to_owned(),
        "completeness:    complete: every rule and status read in full".to_owned(),
        "monitoring:      NOT FULLY ON: recorder not recording: default (RECORDER_NOT_RECORDING: The configuration recorder is stopped.), default (recording is false)".to_owned(),
        "non-compliant:   2 in 3 rule(s)".to_owned(),
        format!("  {S3}       2 non-compliant    98.0% compliant  (100 of 102 evaluated compliant)"),
        "since previous:  0 new, 0 fixed, 2 still open".to_owned(),
        format!("  still open {S3} AWS::S3::Bucket a (open since 2026-07-01, 2 day(s))"),
        format!("  still open {S3} AWS::S3::Bucket b (open since 2026-07-02, 1 day(s))"),
        "chain:           INTACT between the two reports".to_owned(),
        "result:          OK: the newest report is recent and linked to the one before it".to_owned(),
    ] {
        assert!(text.contains(&format!("{line}\n")), "missing {line:?} in\n{text}");
    }
}

#[test]
fn a_single_report_has_no_previous_and_a_source_without_reports_cannot_run() {
    let t = write_trail(&daily("2026-07-01", 1, |_| vec!["a"]));
    let (code, v, _) = status(&t, "2026-07-01T12:00:00Z", &[]);
    assert_eq!(code, 0);
    assert!(v["previous"].is_null());
    assert!(v["chain"]["linked"].is_null());
    assert_eq!(v["changes"]["compared"], false);

    let empty = tempfile::tempdir().unwrap();
    let (code, out, err) = run_at(AS_OF, &["status", empty.path().to_str().unwrap()]);
    assert_eq!((code, out.as_str()), (2, ""));
    assert_eq!(err.lines().count(), 1, "{err}");
}
