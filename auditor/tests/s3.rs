//! The S3 source against the project's local AWS emulator, with real S3 calls: a versioned
//! bucket, an overwritten report, a deleted report (delete marker), a prefix, and unreachable
//! buckets; then every case of absence, witnesses, the generator's head, periods without
//! evidence, bad objects and hostile content, against versions and delete markers. The emulator
//! is started as a child process and killed when the test ends.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};

use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::BucketVersioningStatus;
use common::emulator::{
    auditor, auditor_output, bucket_with, client, put, runtime, start_emulator,
};
use common::*;
use serde_json::Value;

/// `auditor verify SOURCE --format json --as-of AS_OF` against the emulator.
fn verify_json(ep: &str, source: &str, as_of: &str) -> (i32, Value, String) {
    auditor(
        ep,
        &["verify", source, "--format", "json", "--as-of", as_of],
    )
}

/// A port that was free a moment ago (the listener is closed on return).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// One call to the emulator's control API (faults), which must succeed.
fn control(endpoint: &str, method: &str, path: &str, body: &str) {
    let addr = endpoint.trim_start_matches("http://");
    let mut stream = TcpStream::connect(addr).unwrap();
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

#[test]
fn s3_source_against_the_emulator() {
    let emulator = start_emulator();
    let s3 = client(&emulator.endpoint);
    let rt = runtime();
    let trail = clean_trail();
    rt.block_on(async {
        for bucket in ["clean", "tampered"] {
            bucket_with(
                &s3,
                bucket,
                Some(BucketVersioningStatus::Enabled),
                &trail.stored(),
            )
            .await;
        }
        // Overwrite report 2 with one changed byte, delete report 6.
        let mut edited = trail.read(2);
        edited.insert(1, b' ');
        s3.put_object()
            .bucket("tampered")
            .key(&trail.keys[2])
            .body(ByteStream::from(edited))
            .send()
            .await
            .unwrap();
        s3.delete_object()
            .bucket("tampered")
            .key(&trail.keys[6])
            .send()
            .await
            .unwrap();
    });
    let ep = emulator.endpoint.as_str();

    let (code, v, err) = verify_json(ep, "s3://clean", AS_OF);
    assert_eq!(code, 0, "{err}\n{v:#}");
    assert_eq!(v["reports"].as_u64(), Some(10));

    let (code, v, _) = verify_json(ep, "s3://clean/reports/2026/07/", AS_OF);
    assert_eq!(
        (code, v["reports"].as_u64()),
        (0, Some(10)),
        "a prefix is a source too"
    );

    let (code, v, err) = verify_json(ep, "s3://tampered", AS_OF);
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        problem_codes(&v),
        vec![
            "deleted",
            "hash-mismatch",
            "missing-sequence",
            "overwritten"
        ],
        "{v:#}"
    );
    let overwritten = v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["code"] == "overwritten")
        .unwrap();
    assert_eq!(overwritten["key"], trail.keys[2].as_str());

    let (code, v, err) = auditor(
        ep,
        &[
            "timeline",
            "s3://clean",
            "--from",
            "2026-07-01",
            "--to",
            "2026-07-10",
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(v["days"].as_array().unwrap().len(), 10);
    assert_eq!(v["ruleStats"][0]["opened"], 2);

    let (code, _, err) = auditor(ep, &["verify", "s3://no-such-bucket"]);
    assert_eq!(code, 2);
    assert!(
        err.contains("s3://no-such-bucket") && err.contains("NoSuchBucket"),
        "{err}"
    );
    assert_eq!(err.lines().count(), 1, "{err}");
}

#[test]
fn unreachable_endpoint_cannot_run() {
    let port = free_port(); // nothing listens there any more
    let (code, _, err) = auditor(
        &format!("http://127.0.0.1:{port}"),
        &["verify", "s3://bucket"],
    );
    assert_eq!(code, 2);
    assert!(
        err.starts_with("auditor: error: s3://bucket: S3 request failed"),
        "{err}"
    );
}

/// A file in `dir` holding `text`; its path.
fn witness_file(dir: &tempfile::TempDir, name: &str, text: &str) -> String {
    let p = dir.path().join(name);
    std::fs::write(&p, text).unwrap();
    p.display().to_string()
}

#[test]
fn s3_absence_witnesses_head_and_bad_objects() {
    let emulator = start_emulator();
    let ep = emulator.endpoint.as_str();
    let s3 = client(ep);
    let rt = runtime();
    let t = clean_trail();
    let dir = tempfile::tempdir().unwrap();
    let heads = witness_file(&dir, "heads.txt", &format!("{}\n", t.witness_line(9)));
    // The reforged copy: report 4 edited, every later link recomputed.
    let forged = clean_trail();
    forged.reforge(4, |r| r["rules"][0]["nonCompliant"] = serde_json::json!([]));
    let mut specs = daily("2026-07-01", 10, |_| vec!["bucket-a"]);
    let mut later = specs[9].clone();
    later.generated_at =
        chrono::TimeZone::with_ymd_and_hms(&chrono::Utc, 9000, 1, 15, 6, 0, 0).unwrap();
    specs.push(later);
    let future = write_trail(&specs);
    let enabled = Some(BucketVersioningStatus::Enabled);
    rt.block_on(async {
        for bucket in [
            "trail",
            "deleted-tail",
            "reforged",
            "edited-last",
            "unreadable",
        ] {
            bucket_with(&s3, bucket, enabled.clone(), &t.stored()).await;
            // The head, rewritten as the generator commits: its versions name reports 8 and 9.
            for i in [8, 9] {
                put(
                    &s3,
                    bucket,
                    &[("chain/head.json".to_owned(), t.head_json(i))],
                )
                .await;
            }
        }
        for i in [8, 9] {
            s3.delete_object()
                .bucket("deleted-tail")
                .key(&t.keys[i])
                .send()
                .await
                .unwrap();
        }
        put(&s3, "reforged", &forged.stored()[4..]).await;
        let mut edited = t.read(5);
        edited.insert(1, b' ');
        put(&s3, "edited-last", &[(t.keys[5].clone(), edited)]).await;
        bucket_with(&s3, "future", enabled.clone(), &future.stored()).await;
        bucket_with(&s3, "plain", None, &t.stored()).await;
        bucket_with(
            &s3,
            "suspended",
            Some(BucketVersioningStatus::Suspended),
            &t.stored(),
        )
        .await;
    });

    // A trail that stopped months ago is a finding at now; as of its last day it is complete,
    // and the head's versions agree with it.
    let (code, v, _) = auditor(ep, &["verify", "s3://trail", "--format", "json"]);
    assert_eq!(code, 1, "{v:#}");
    let stale = v["gaps"].as_array().unwrap().last().unwrap();
    assert_eq!(
        (stale["afterKey"].as_str(), stale["beforeKey"].clone()),
        (Some(t.keys[9].as_str()), Value::Null)
    );
    let (code, v, err) = auditor(
        ep,
        &[
            "verify",
            "s3://trail",
            "--format",
            "json",
            "--as-of",
            AS_OF,
            "--witness",
            &heads,
        ],
    );
    assert_eq!(code, 0, "{err}{v:#}");
    assert_eq!(
        (v["head"]["state"].as_str(), v["head"]["versions"].as_u64()),
        (Some("present"), Some(2))
    );
    assert_eq!(
        (
            v["headVersions"]["compared"].as_u64(),
            v["headVersions"]["matched"].as_u64()
        ),
        (Some(2), Some(2))
    );
    assert_eq!(v["witnesses"]["matched"], 1);
    assert_eq!(v["provenance"]["source"], "s3://trail");
    assert_eq!(
        v["provenance"]["accounts"],
        serde_json::json!(["123456789012"])
    );
    assert_eq!(v["provenance"]["newestReport"]["sha256"], t.sha(9).as_str());
    // As of an earlier moment: later reports left out, the next one confirms the link, the
    // head's versions speak for a later trail.
    let (code, v, _) = verify_json(ep, "s3://trail", "2026-07-05T12:00:00Z");
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(
        (
            v["leftOutAfterAsOf"].as_u64(),
            v["newestConfirmedBy"].as_str()
        ),
        (Some(5), Some(t.keys[5].as_str()))
    );
    assert_eq!(v["headVersions"]["afterAsOf"], 2);

    // The newest reports deleted (delete markers) while the head and a witness name them.
    let (code, v, _) = auditor(
        ep,
        &[
            "verify",
            "s3://deleted-tail",
            "--format",
            "json",
            "--as-of",
            AS_OF,
            "--witness",
            &heads,
        ],
    );
    assert_eq!(code, 1);
    for code in ["deleted", "head-ahead", "witness-ahead"] {
        assert!(
            problem_codes(&v).contains(&code.to_owned()),
            "{code}: {v:#}"
        );
    }
    assert!(
        problems_with(&v, "witness-ahead")[0]
            .1
            .contains("sequences 8..9 are missing")
    );
    assert_eq!(problems_with(&v, "head-ahead")[0].0, t.keys[9]);

    // A re-forged chain: consistent in itself, but not with the head's versions or the witness.
    let (code, v, _) = auditor(
        ep,
        &[
            "verify",
            "s3://reforged",
            "--format",
            "json",
            "--as-of",
            AS_OF,
            "--witness",
            &heads,
        ],
    );
    assert_eq!(code, 1);
    assert_eq!(problems_with(&v, "overwritten").len(), 6, "{v:#}");
    assert!(
        problems_with(&v, "hash-mismatch").is_empty(),
        "the links were recomputed"
    );
    assert_eq!(problems_with(&v, "witness-mismatch")[0].0, t.keys[9]);
    assert_eq!(
        problems_with(&v, "head-mismatch").len(),
        2,
        "both head versions: {v:#}"
    );

    // Reports from the future: a finding in verify, and in a period that has not started.
    let (code, v, _) = verify_json(ep, "s3://future", AS_OF);
    assert_eq!(
        (code, problems_with(&v, "future-report")[0].0.clone()),
        (1, future.keys[10].clone())
    );
    let (code, v, err) = auditor(
        ep,
        &[
            "timeline",
            "s3://future",
            "--from",
            "9000-01-01",
            "--to",
            "9000-01-31",
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 1);
    assert_eq!(v["evidence"]["state"], "notStarted");
    assert!(err.starts_with("auditor: NO EVIDENCE: the period"), "{err}");
    assert_eq!(
        problems_with(&v["chain"], "future-report")[0].0,
        future.keys[10]
    );

    // Periods: none, partial; and the successor link of a period's last report.
    let (code, v, err) = auditor(
        ep,
        &[
            "timeline",
            "s3://trail",
            "--from",
            "2026-08-01",
            "--to",
            "2026-08-31",
            "--format",
            "json",
        ],
    );
    assert_eq!(
        (code, v["evidence"]["state"].as_str()),
        (1, Some("none")),
        "{err}"
    );
    assert!(
        err.contains("NO EVIDENCE: no report in the period"),
        "{err}"
    );
    let (code, v, _) = auditor(
        ep,
        &[
            "timeline",
            "s3://trail",
            "--from",
            "2026-07-01",
            "--to",
            "2026-08-31",
            "--format",
            "json",
        ],
    );
    assert_eq!(
        (code, v["evidence"]["state"].as_str()),
        (1, Some("partial"))
    );
    assert_eq!(
        v["chain"]["gaps"].as_array().unwrap().last().unwrap()["missingDays"],
        52
    );
    let (code, v, _) = auditor(
        ep,
        &[
            "timeline",
            "s3://trail",
            "--from",
            "2026-07-01",
            "--to",
            "2026-07-06",
            "--format",
            "json",
        ],
    );
    assert_eq!(
        (code, v["chain"]["newestConfirmedBy"].as_str()),
        (0, Some(t.keys[6].as_str())),
        "{v:#}"
    );
    let (code, v, _) = auditor(
        ep,
        &[
            "timeline",
            "s3://edited-last",
            "--from",
            "2026-07-01",
            "--to",
            "2026-07-06",
            "--format",
            "json",
        ],
    );
    assert_eq!(code, 1);
    assert_eq!(problems_with(&v["chain"], "hash-mismatch")[0].0, t.keys[6]);
    assert_eq!(problems_with(&v["chain"], "overwritten")[0].0, t.keys[5]);

    // Versioning off or suspended is never "versions checked". (The emulator answers
    // GetBucketVersioning with a root element S3 does not use, which the SDK refuses, so the
    // exact states are tested against a stub in s3_stub.rs.)
    for bucket in ["plain", "suspended"] {
        let (code, v, _) = verify_json(ep, &format!("s3://{bucket}"), AS_OF);
        assert_eq!(
            (code, v["versionsChecked"].as_bool()),
            (0, Some(false)),
            "{bucket}: {v:#}"
        );
    }
    // GetBucketVersioning denied: could not be determined.
    control(
        ep,
        "POST",
        "/_local_aws/faults",
        r#"{"rules": [{"service": "s3", "operation": "GetBucketVersioning", "error": "AccessDenied", "status": 403}]}"#,
    );
    let (code, v, _) = verify_json(ep, "s3://trail", AS_OF);
    control(ep, "DELETE", "/_local_aws/faults", "");
    assert_eq!(
        (code, v["versioning"]["state"].as_str()),
        (0, Some("unknown")),
        "{v:#}"
    );
    assert!(
        v["versioning"]["reason"]
            .as_str()
            .unwrap()
            .contains("denied"),
        "{v:#}"
    );

    // An object whose GET fails is a finding named by its key; the rest is checked.
    let fault = format!(
        r#"{{"rules": [{{"service": "s3", "operation": "GetObject", "match": {{"Key": "{}"}}, "error": "AccessDenied", "status": 403}}]}}"#,
        t.keys[3]
    );
    control(ep, "POST", "/_local_aws/faults", &fault);
    let (code, v, err) = verify_json(ep, "s3://unreadable", AS_OF);
    control(ep, "DELETE", "/_local_aws/faults", "");
    assert_eq!(code, 1, "{err}");
    assert_eq!(problems_with(&v, "unreadable")[0].0, t.keys[3], "{v:#}");
    assert!(
        problems_with(&v, "unreadable")[0]
            .1
            .contains("AccessDenied")
    );
    assert_eq!(v["validReports"], 9);
}

#[test]
fn s3_limits_and_hostile_content() {
    let emulator = start_emulator();
    let ep = emulator.endpoint.as_str();
    let s3 = client(ep);
    let rt = runtime();
    // A report numbered 2^64 - 1, and a hostile resource id.
    let t = write_trail(&daily("2026-07-01", 3, |_| {
        vec!["=HYPERLINK(\"http://evil.example\",\"x\")", "<script>"]
    }));
    let mut max: Value = serde_json::from_slice(&t.read(2)).unwrap();
    max["chain"]["sequence"] = u64::MAX.into();
    let max_key = t.keys[2].replace("00000002-", &format!("{}-", u64::MAX));
    // An object over the schema's size limit (128 MiB): refused from its listed size, unread.
    let big_key =
        "reports/2026/07/04/00000003-aaaaaaaa-aaaa-5aaa-8aaa-aaaaaaaaaaaa.json".to_owned();
    let big = vec![b' '; auditor::report::MAX_REPORT_BYTES as usize + 1];
    rt.block_on(async {
        bucket_with(
            &s3,
            "limits",
            Some(BucketVersioningStatus::Enabled),
            &t.stored(),
        )
        .await;
        put(
            &s3,
            "limits",
            &[
                (max_key.clone(), auditor::synth::encode(&max)),
                (big_key.clone(), big),
            ],
        )
        .await;
    });
    let timeline = |format: &str| {
        let args = [
            "timeline",
            "s3://limits",
            "--from",
            "2026-07-01",
            "--to",
            "2026-07-03",
        ];
        auditor_output(ep, &[&args[..], &["--format", format]].concat())
    };
    let (code, v, err) = verify_json(ep, "s3://limits", "2026-07-04T12:00:00Z");
    assert_eq!(code, 1, "{err}");
    assert_eq!(v["lastSequence"], u64::MAX);
    assert_eq!(problems_with(&v, "too-large")[0].0, big_key);
    assert!(
        problems_with(&v, "missing-sequence")
            .iter()
            .any(|(_, d)| d.contains(&format!("{}", u64::MAX - 1))),
        "{v:#}"
    );
    let out = timeline("csv");
    let csv = String::from_utf8(out.stdout).unwrap();
    assert!(
        csv.contains("\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\")\""),
        "{csv}"
    );
    assert!(
        !csv.contains(",=HYPERLINK") && !csv.contains(",\"=HYPERLINK"),
        "{csv}"
    );
    let out = timeline("md");
    let md = String::from_utf8(out.stdout).unwrap();
    assert!(
        !md.contains("<script>") && md.contains("&lt;script&gt;"),
        "{md}"
    );
}

/// Schema 1.1 reports in a versioned bucket name their register by key, version id and SHA-256:
/// the version named is read (`GetObject` with `VersionId`), a register overwritten (a second
/// version) or deleted (a delete marker) is a finding named by its key, and a version that is not
/// stored is a finding named by the report's key.
#[test]
fn s3_registers_by_version() {
    use auditor::synth::{DeployedRegister, ExceptionsSpec, ReportSpec, RuleSpec, exception};
    let emulator = start_emulator();
    let s3 = client(&emulator.endpoint);
    let rt = runtime();
    let entries = vec![exception(
        "EXC-1",
        0,
        "bucket-a",
        "2026-07-01",
        "2026-07-31",
    )];
    let unversioned = DeployedRegister::new(entries, None);
    let bucket_for = |bucket: &str, version: Option<String>| {
        let mut register = unversioned.clone();
        register.version_id = version;
        let specs: Vec<ReportSpec> = daily("2026-07-01", 3, |_| vec!["bucket-a"])
            .into_iter()
            .map(|mut s| {
                s.rules = vec![RuleSpec::standard(0, &["bucket-a"]).in_environment("dev")];
                s.exceptions = ExceptionsSpec::Register(register.clone());
                s
            })
            .collect();
        let t = write_trail(&specs);
        rt.block_on(put(&s3, bucket, &t.stored()));
    };
    let register_version = |bucket: &str| {
        rt.block_on(async {
            bucket_with(&s3, bucket, Some(BucketVersioningStatus::Enabled), &[]).await;
            let out = s3
                .put_object()
                .bucket(bucket)
                .key(&unversioned.key)
                .body(ByteStream::from(unversioned.bytes.clone()))
                .send()
                .await
                .unwrap();
            out.version_id().unwrap().to_owned()
        })
    };
    let ep = emulator.endpoint.as_str();
    let now = "2026-07-03T12:00:00Z";
    let verify = |bucket: &str| verify_json(ep, &format!("s3://{bucket}"), now);

    // Clean: the version named is read and its labels match.
    let v1 = register_version("clean");
    bucket_for("clean", Some(v1.clone()));
    let (code, v, err) = verify("clean");
    assert_eq!(code, 0, "{err}\n{v:#}");
    let reg = &v["exceptions"]["registers"][0];
    assert_eq!(
        (
            reg["state"].as_str(),
            reg["note"].clone(),
            reg["versionId"].as_str()
        ),
        (Some("verified"), Value::Null, Some(v1.as_str()))
    );
    assert_eq!(reg["location"], format!("s3://clean/{}", unversioned.key));
    assert_eq!(v["exceptions"]["labelsMatched"], 3);

    // Overwritten and then deleted: both findings, named by the register's key; the version the
    // reports name is still read, so their labels are still checked.
    let v1 = register_version("tampered");
    bucket_for("tampered", Some(v1));
    rt.block_on(async {
        put(
            &s3,
            "tampered",
            &[(unversioned.key.clone(), unversioned.bytes.clone())],
        )
        .await;
        s3.delete_object()
            .bucket("tampered")
            .key(&unversioned.key)
            .send()
            .await
            .unwrap();
    });
    let (code, v, err) = verify("tampered");
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        problem_codes(&v),
        ["deleted", "overwritten"],
        "{:#}",
        v["problems"]
    );
    for code in ["deleted", "overwritten"] {
        let found = problems_with(&v, code);
        assert_eq!(found[0].0, unversioned.key);
        assert!(
            found[0].1.contains("the exceptions register was"),
            "{}",
            found[0].1
        );
    }
    assert_eq!(v["exceptions"]["labelsMatched"], 3);

    // A version id the bucket does not hold: missing, for each report naming it.
    register_version("unknown-version");
    bucket_for("unknown-version", Some("no-such-version".to_owned()));
    let (code, v, err) = verify("unknown-version");
    assert_eq!(code, 1, "{err}");
    let missing = problems_with(&v, "register-missing");
    assert_eq!(missing.len(), 3, "{:#}", v["problems"]);
    assert!(
        missing[0].1.contains(&format!(
            "version no-such-version of {} is not in the source",
            unversioned.key
        )),
        "{}",
        missing[0].1
    );
}
