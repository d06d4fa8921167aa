//! Credentials for S3 sources, through the real binary with a clean environment: a temporary HOME
//! and shared config and credentials files, no AWS_* variable unless set here, and the instance
//! metadata service switched off (`AWS_EC2_METADATA_DISABLED`), as on a laptop without AWS access.
//! With no credentials at all, or an IAM Identity Center (SSO) profile without a sign-in, the run
//! stops with one line saying what to do; a `credential_process` profile works against the
//! project's emulator, picked by `--profile` or `AWS_PROFILE`.

mod common;

use std::path::Path;

use assert_cmd::Command;
use aws_sdk_s3::types::BucketVersioningStatus;
use common::emulator::{bucket_with, client, runtime, start_emulator};
use common::*;
use serde_json::Value;

/// A HOME with `~/.aws/config` holding `config` and an empty `~/.aws/credentials`.
fn home_with(config: &str) -> tempfile::TempDir {
    let home = tempfile::tempdir().unwrap();
    let aws = home.path().join(".aws");
    std::fs::create_dir_all(&aws).unwrap();
    std::fs::write(aws.join("config"), config).unwrap();
    std::fs::write(aws.join("credentials"), "").unwrap();
    home
}

/// The auditor with nothing from this process's environment but PATH, and `home` as HOME.
fn auditor(home: &Path) -> Command {
    let mut cmd = Command::cargo_bin("auditor").unwrap();
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", home)
        .env("AWS_CONFIG_FILE", home.join(".aws/config"))
        .env("AWS_SHARED_CREDENTIALS_FILE", home.join(".aws/credentials"))
        .env("AWS_EC2_METADATA_DISABLED", "true");
    cmd
}

/// Exit code and the one line on stderr (the test fails when there is more than one).
fn one_line(cmd: &mut Command) -> (i32, String) {
    let out = cmd.output().unwrap();
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(err.lines().count(), 1, "expected one line, got:\n{err}");
    assert!(out.stdout.is_empty());
    (out.status.code().unwrap(), err.trim_end().to_owned())
}

#[test]
fn no_credentials_at_all_is_one_line_saying_how_to_sign_in() {
    let home = home_with("");
    for args in [
        &["verify", "s3://acme-compliance-reports"][..],
        &["timeline", "s3://acme-compliance-reports", "-o", "q3.html"],
        &["status", "s3://acme-compliance-reports"],
    ] {
        let (code, line) = one_line(
            auditor(home.path())
                .args(args)
                .env("AWS_REGION", "us-east-1"),
        );
        assert_eq!(code, 2);
        assert_eq!(
            line,
            "auditor: error: s3://acme-compliance-reports: no AWS credentials found (looked in: environment, no profile default, web identity, container and instance role); set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or pass --profile NAME (`aws configure` or `aws configure sso` creates one)"
        );
    }
}

#[test]
fn an_sso_profile_without_a_sign_in_says_to_run_aws_sso_login() {
    let home = home_with(
        "[profile audit-sso]
sso_session = corp
sso_account_id = 123456789012
sso_role_name = ComplianceAuditor
region = us-east-1

[sso-session corp]
sso_start_url = https://example.awsapps.com/start
sso_region = us-east-1
sso_registration_scopes = sso:account:access

[profile audit-legacy-sso]
sso_start_url = https://example.awsapps.com/start
sso_region = us-east-1
sso_account_id = 123456789012
sso_role_name = ComplianceAuditor
region = us-east-1

[profile audit-role]
role_arn = arn:aws:iam::123456789012:role/ComplianceAuditor
source_profile = audit-sso
region = us-east-1
",
    );
    for profile in ["audit-sso", "audit-legacy-sso", "audit-role"] {
        let (code, line) = one_line(auditor(home.path()).args([
            "--profile",
            profile,
            "verify",
            "s3://acme-compliance-reports",
        ]));
        assert_eq!(code, 2, "{line}");
        assert!(
            line.starts_with(&format!(
                "auditor: error: s3://acme-compliance-reports: profile {profile} signs in with IAM Identity Center (SSO) and has no valid sign-in ("
            )),
            "{line}"
        );
        assert!(
            line.ends_with(&format!("); run `aws sso login --profile {profile}`")),
            "{line}"
        );
    }
    // AWS_PROFILE picks the profile as --profile does.
    let (code, line) = one_line(
        auditor(home.path())
            .args(["status", "s3://acme-compliance-reports"])
            .env("AWS_PROFILE", "audit-sso"),
    );
    assert_eq!(code, 2);
    assert!(
        line.ends_with("run `aws sso login --profile audit-sso`"),
        "{line}"
    );
    // A profile that is not there is named as such.
    let (code, line) = one_line(auditor(home.path()).args([
        "--profile",
        "audti",
        "verify",
        "s3://acme-compliance-reports",
    ]));
    assert_eq!(code, 2);
    assert_eq!(
        line,
        "auditor: error: s3://acme-compliance-reports: --profile audti: no such profile in the AWS config or credentials file (see `aws configure list-profiles`)"
    );
}

#[test]
fn a_credential_process_profile_reads_the_bucket() {
    let emulator = start_emulator();
    let trail = clean_trail();
    runtime().block_on(bucket_with(
        &client(&emulator.endpoint),
        "reports",
        Some(BucketVersioningStatus::Enabled),
        &trail.stored(),
    ));
    // The process prints the credentials as the AWS CLI documents (Version 1) and leaves a mark,
    // so the test knows they came from it.
    let home = tempfile::tempdir().unwrap();
    let mark = home.path().join("process-ran");
    let script = home.path().join("credentials.sh");
    std::fs::write(
        &script,
        format!(
            "#!/bin/sh\ntouch '{}'\necho '{{\"Version\": 1, \"AccessKeyId\": \"AKIDPROCESS\", \"SecretAccessKey\": \"process-secret\"}}'\n",
            mark.display()
        ),
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&script, std::fs::Permissions::from_mode(0o755)).unwrap();
    }
    let config = format!(
        "[profile audit]\ncredential_process = {}\nregion = us-east-1\n",
        script.display()
    );
    std::fs::create_dir_all(home.path().join(".aws")).unwrap();
    std::fs::write(home.path().join(".aws/config"), config).unwrap();
    std::fs::write(home.path().join(".aws/credentials"), "").unwrap();

    for (how, mut cmd) in [
        ("--profile", {
            let mut c = auditor(home.path());
            c.args(["--profile", "audit"]);
            c
        }),
        ("AWS_PROFILE", {
            let mut c = auditor(home.path());
            c.env("AWS_PROFILE", "audit");
            c
        }),
    ] {
        std::fs::remove_file(&mark).ok();
        let out = cmd
            .args([
                "status",
                "s3://reports",
                "--format",
                "json",
                "--as-of",
                AS_OF,
            ])
            .env("AWS_ENDPOINT_URL", &emulator.endpoint)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(0), "{how}: {err}");
        let v: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(v["newest"]["key"], trail.keys[9].as_str(), "{how}");
        assert_eq!(v["chain"]["linked"], true);
        assert!(
            mark.exists(),
            "{how}: the credentials did not come from the process"
        );
    }
}
