//! An organization's central bucket in the project's emulator, read over S3: trails found by
//! folder listing, the organization's accounts from its Organizations `ListAccounts`, a missing
//! account, an overwritten report in one trail among many, and an exposure across the whole
//! organization in the timeline's roll-up.

mod common;

use aws_sdk_s3::types::BucketVersioningStatus;
use common::emulator::{auditor, bucket_with, client, organizations, put, runtime, start_emulator};
use common::*;

const BUCKET: &str = "central-reports";

#[test]
fn an_organizations_bucket_over_s3() {
    let emulator = start_emulator();
    let rt = runtime();
    // The organization: its management account and two members, one of which never reports.
    let org = organizations(&emulator.endpoint);
    let (payments, data) = rt.block_on(async {
        org.create_organization().send().await.unwrap();
        let mut ids = Vec::new();
        for name in ["payments", "data"] {
            let made = org
                .create_account()
                .email(format!("{name}@example.com"))
                .account_name(name)
                .send()
                .await
                .unwrap();
            ids.push(
                made.create_account_status()
                    .and_then(|s| s.account_id())
                    .unwrap()
                    .to_owned(),
            );
        }
        (ids[0].clone(), ids[1].clone())
    });
    let management = rt.block_on(async {
        let listed = org.list_accounts().send().await.unwrap();
        listed
            .accounts()
            .iter()
            .filter_map(|a| a.id())
            .find(|id| *id != payments && *id != data)
            .unwrap()
            .to_owned()
    });
    // Every trail lists `public-bucket` every day: one exposure across the organization.
    let specs = || daily("2026-07-01", 10, |_| vec!["public-bucket"]);
    let o = write_organization(&[
        (&management, "us-east-1", specs()),
        (&management, "eu-west-1", specs()),
        (&payments, "us-east-1", specs()),
        (&payments, "eu-west-1", specs()),
    ]);
    let s3 = client(&emulator.endpoint);
    // One report of one trail is overwritten: its trailing newline became a space.
    let key = o.trails[&(payments.clone(), "eu-west-1".to_owned())][3].clone();
    let mut changed = std::fs::read(o.root().join(&key)).unwrap();
    let last = changed.len() - 1;
    changed[last] = b' ';
    rt.block_on(async {
        bucket_with(
            &s3,
            BUCKET,
            Some(BucketVersioningStatus::Enabled),
            &o.stored(),
        )
        .await;
        put(&s3, BUCKET, &[(key.clone(), changed)]).await;
    });
    let source = format!("s3://{BUCKET}/");
    let (code, v, err) = auditor(
        &emulator.endpoint,
        &[
            "verify",
            &source,
            "--format",
            "json",
            "--as-of",
            AS_OF,
            "--accounts",
            "organizations",
        ],
    );
    assert_eq!(code, 1, "{err}");
    assert_eq!(v["summary"]["trails"], 4, "{v:#}");
    assert_eq!(v["summary"]["trailsWithFindings"], 1);
    let accounts_from = v["provenance"]["accountsFrom"].as_str().unwrap();
    assert!(
        accounts_from.starts_with("AWS Organizations ListAccounts (3 active accounts"),
        "{accounts_from}"
    );
    assert_eq!(problem_codes(&v), ["missing-account"]);
    assert_eq!(v["problems"][0]["key"], format!("reports/{data}/"));
    assert!(
        v["problems"][0]["detail"]
            .as_str()
            .unwrap()
            .contains("(data)")
    );
    for t in v["trails"].as_array().unwrap() {
        assert_eq!(t["versioning"]["state"], "enabled");
        assert_eq!(t["headVersions"]["matched"], 1, "{t:#}");
        if t["account"] == payments.as_str() && t["region"] == "eu-west-1" {
            assert_eq!(problem_codes(t), ["hash-mismatch", "overwritten"]);
        } else {
            assert_eq!(t["findings"], 0, "{t:#}");
        }
    }
    // The timeline's roll-up: the exposure in every trail, the missing account said first.
    let (code, v, err) = auditor(
        &emulator.endpoint,
        &[
            "timeline",
            &source,
            "--from",
            "2026-07-01",
            "--to",
            "2026-07-10",
            "--as-of",
            AS_OF,
            "--format",
            "json",
            "--accounts",
            "organizations",
        ],
    );
    assert_eq!(code, 1);
    assert!(
        err.starts_with("auditor: NO EVIDENCE for part of the organization"),
        "{err}"
    );
    let worst = v["worstExposures"].as_array().unwrap();
    assert_eq!(worst.len(), 4);
    assert!(
        worst
            .iter()
            .all(|e| e["resourceId"] == "public-bucket" && e["daysNonCompliant"] == 10)
    );
    let day = &v["days"][9];
    assert_eq!(day["byRule"]["s3-bucket-sse-enabled"], 4);
    assert_eq!(day["trailsReported"], 4);
    assert_eq!(v["trails"].as_array().unwrap().len(), 4);
}
