//! The S3 source against endpoints that misbehave (a stub on loopback, see `common/stub.rs`):
//! every way of stalling ends the run with exit 2 and one line naming the endpoint and what timed
//! out; the state of bucket versioning is stated as GetBucketVersioning answers it; an object
//! listed over the size limit is never fetched.

mod common;

use std::time::{Duration, Instant};

use assert_cmd::Command;
use common::stub::{Behaviour, StubS3};
use common::*;
use serde_json::Value;

/// The timeouts the stalling cases run with: each run must end within the operation timeout
/// (3 s) of the request that stalls, plus start-up.
const TIMEOUTS: [&str; 6] = [
    "--connect-timeout",
    "1",
    "--read-timeout",
    "1",
    "--operation-timeout",
    "3",
];

/// Runs `auditor verify s3://bucket` against `stub`; a run that has not ended after 60 s is
/// killed, and then has no exit code.
fn verify(stub: &StubS3, extra: &[&str]) -> (Option<i32>, Value, String, Duration) {
    let started = Instant::now();
    let out = Command::cargo_bin("auditor")
        .unwrap()
        .args([
            "verify",
            "s3://bucket",
            "--format",
            "json",
            "--as-of",
            AS_OF,
        ])
        .args(extra)
        .env("AWS_ENDPOINT_URL", &stub.endpoint)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .timeout(Duration::from_secs(60))
        .output()
        .unwrap();
    (
        out.status.code(),
        serde_json::from_slice(&out.stdout).unwrap_or(Value::Null),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        started.elapsed(),
    )
}

#[test]
fn a_stalled_endpoint_ends_the_run_with_one_line() {
    let t = clean_trail();
    let cases = [
        (
            Behaviour::Silent,
            "GetBucketVersioning did not complete within 3 s",
        ),
        (
            Behaviour::Drip,
            "GetBucketVersioning did not complete within 3 s",
        ),
        (
            Behaviour::SameMarker,
            "returned the continuation marker reports/same twice",
        ),
        (Behaviour::GetSilent, "GetObject of reports/"),
        (Behaviour::GetDrip, "GetObject of reports/"),
    ];
    std::thread::scope(|scope| {
        for (behaviour, what) in cases {
            let objects = t.stored();
            scope.spawn(move || {
                let stub = StubS3::start(objects, behaviour);
                let (code, _, err, took) = verify(&stub, &TIMEOUTS);
                eprintln!("{behaviour:?}: exit {code:?} after {took:?}: {err}");
                assert_eq!(code, Some(2), "{behaviour:?} did not end by itself: {err}");
                assert_eq!(err.lines().count(), 1, "{behaviour:?}: {err}");
                assert!(
                    err.starts_with(&format!("auditor: error: s3://bucket: {}: ", stub.endpoint)),
                    "{behaviour:?} must name the endpoint: {err}"
                );
                assert!(err.contains(what), "{behaviour:?}: {err}");
                assert!(err.contains("stopped"), "{err}");
            });
        }
    });
}

#[test]
fn bucket_versioning_is_stated_as_it_is() {
    let t = clean_trail();
    let cases = [
        (
            Some("Enabled"),
            "enabled",
            true,
            "checked: bucket versioning is enabled",
        ),
        (
            Some("Suspended"),
            "suspended",
            false,
            "NOT CHECKED: bucket versioning is suspended: overwrites and deletions cannot be detected in this bucket",
        ),
        (
            None,
            "disabled",
            false,
            "NOT CHECKED: bucket versioning is off: overwrites and deletions cannot be detected in this bucket",
        ),
        (
            Some("denied"),
            "unknown",
            false,
            "could not be determined (GetBucketVersioning was denied; grant s3:GetBucketVersioning)",
        ),
    ];
    for (status, state, checked, sentence) in cases {
        let stub = StubS3::start(t.stored(), Behaviour::Answers(status));
        let (code, v, err, _) = verify(&stub, &[]);
        assert_eq!(code, Some(0), "stated, not a finding: {err}{v:#}");
        assert_eq!(v["versioning"]["state"], state, "{status:?}");
        assert_eq!(v["versionsChecked"], checked, "{status:?}");
        let out = Command::cargo_bin("auditor")
            .unwrap()
            .args([
                "verify",
                "s3://bucket",
                "--as-of",
                AS_OF,
                "--endpoint-url",
                &stub.endpoint,
            ])
            .env("AWS_ACCESS_KEY_ID", "test")
            .env("AWS_SECRET_ACCESS_KEY", "test")
            .env("AWS_REGION", "us-east-1")
            .output()
            .unwrap();
        let text = String::from_utf8(out.stdout).unwrap();
        let line = text.lines().find(|l| l.starts_with("versions:")).unwrap();
        assert!(line.contains(sentence), "{status:?}: {line}");
        assert!(
            checked || !line.contains("checked:"),
            "never 'checked' unless enabled: {line}"
        );
    }
}

#[test]
fn an_object_listed_over_the_size_limit_is_never_fetched() {
    let t = clean_trail();
    let stub = StubS3::start(t.stored(), Behaviour::Oversized);
    let (code, v, err, _) = verify(&stub, &[]);
    assert_eq!(code, Some(1), "{err}");
    assert_eq!(problems_with(&v, "too-large").len(), 10, "{v:#}");
    let gets = stub
        .requests
        .lock()
        .unwrap()
        .iter()
        .filter(|r| r.contains("/bucket/reports/"))
        .count();
    assert_eq!(gets, 0, "no report was fetched");
}
