//! The S3 source against the project's local AWS emulator, with real S3 calls: a versioned
//! bucket, an overwritten report, a deleted report (delete marker), a prefix, and unreachable
//! buckets. The emulator is started as a child process and killed when the test ends.

mod common;

use std::net::{TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command as Process, Stdio};
use std::time::{Duration, Instant};

use assert_cmd::Command;
use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{BucketVersioningStatus, VersioningConfiguration};
use common::*;
use serde_json::Value;

/// The project's emulator (`python -m tools.local_aws serve`) running as a child process of the
/// test, and the endpoint it listens on; dropping it ends the process.
struct EmulatorProcess {
    child: Child,
    endpoint: String,
}

impl Drop for EmulatorProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the emulator on a free port, which it writes to a port file once it listens.
fn start_emulator() -> EmulatorProcess {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
    let python = root.join(".venv/bin/python");
    assert!(
        python.exists(),
        "{} is missing: run `make bootstrap` first",
        python.display()
    );
    let port_file = tempfile::NamedTempFile::new().unwrap().into_temp_path();
    std::fs::remove_file(&port_file).ok();
    let child = Process::new(&python)
        .args([
            "-m",
            "tools.local_aws",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--port-file",
        ])
        .arg(&port_file)
        .current_dir(&root)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start tools.local_aws");
    let mut emulator = EmulatorProcess {
        child,
        endpoint: String::new(),
    };
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let port: Option<u16> = std::fs::read_to_string(&port_file)
            .ok()
            .and_then(|s| s.trim().parse().ok());
        if let Some(port) = port {
            if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                emulator.endpoint = format!("http://127.0.0.1:{port}");
                return emulator;
            }
        }
        if let Ok(Some(status)) = emulator.child.try_wait() {
            panic!("the emulator exited early with {status}");
        }
        assert!(
            Instant::now() < deadline,
            "the emulator did not start within 60 s"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A port that was free a moment ago (the listener is closed on return).
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn client(endpoint: &str) -> aws_sdk_s3::Client {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
            aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    let conf = aws_sdk_s3::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .force_path_style(true)
        .credentials_provider(Credentials::new("test", "test", None, None, "test"))
        .http_client(http)
        .build();
    aws_sdk_s3::Client::from_conf(conf)
}

fn auditor(endpoint: &str, args: &[&str]) -> (i32, Value, String) {
    let out = Command::cargo_bin("auditor")
        .unwrap()
        .args(args)
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap();
    let json = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (
        out.status.code().unwrap(),
        json,
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn codes(v: &Value) -> Vec<String> {
    let mut c: Vec<String> = v["problems"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["code"].as_str().unwrap().to_owned())
        .collect();
    c.sort();
    c
}

#[test]
fn s3_source_against_the_emulator() {
    let emulator = start_emulator();
    let s3 = client(&emulator.endpoint);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let trail = clean_trail();
    rt.block_on(async {
        for bucket in ["clean", "tampered"] {
            s3.create_bucket().bucket(bucket).send().await.unwrap();
            s3.put_bucket_versioning()
                .bucket(bucket)
                .versioning_configuration(
                    VersioningConfiguration::builder()
                        .status(BucketVersioningStatus::Enabled)
                        .build(),
                )
                .send()
                .await
                .unwrap();
            for (i, key) in trail.keys.iter().enumerate() {
                s3.put_object()
                    .bucket(bucket)
                    .key(key)
                    .body(ByteStream::from(trail.read(i)))
                    .send()
                    .await
                    .unwrap();
            }
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

    let (code, v, err) = auditor(ep, &["verify", "s3://clean", "--format", "json", "--as-of", AS_OF]);
    assert_eq!(code, 0, "{err}\n{v:#}");
    assert_eq!(v["reports"].as_u64(), Some(10));

    let (code, v, _) = auditor(
        ep,
        &[
            "verify",
            "s3://clean/reports/2026/07/",
            "--format",
            "json",
            "--as-of",
            AS_OF,
        ],
    );
    assert_eq!(
        (code, v["reports"].as_u64()),
        (0, Some(10)),
        "a prefix is a source too"
    );

    let (code, v, err) = auditor(ep, &["verify", "s3://tampered", "--format", "json", "--as-of", AS_OF]);
    assert_eq!(code, 1, "{err}");
    assert_eq!(
        codes(&v),
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
