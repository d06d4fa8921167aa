//! The project's local AWS emulator for the tests that talk to S3: started as a child process,
//! ended when dropped; and the tests' own S3 client to fill its buckets.

use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command as Process, Stdio};
use std::time::{Duration, Instant};

use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use aws_sdk_s3::primitives::ByteStream;
use aws_sdk_s3::types::{BucketVersioningStatus, VersioningConfiguration};

/// The project's emulator (`python -m tools.local_aws serve`) running as a child process of the
/// test, and the endpoint it listens on; dropping it ends the process.
pub struct EmulatorProcess {
    child: Child,
    pub endpoint: String,
}

impl Drop for EmulatorProcess {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts the emulator on a free port, which it writes to a port file once it listens.
pub fn start_emulator() -> EmulatorProcess {
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

/// The runtime the test's own S3 calls run on.
pub fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// The HTTP client the auditor uses (rustls with ring), for the tests' own SDK clients.
fn http_client() -> aws_sdk_s3::config::SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
            aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https()
}

/// The auditor's output with `args`, pointed at `endpoint` with test credentials.
pub fn auditor_output(endpoint: &str, args: &[&str]) -> std::process::Output {
    assert_cmd::Command::cargo_bin("auditor")
        .unwrap()
        .args(args)
        .env("AWS_ENDPOINT_URL", endpoint)
        .env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .output()
        .unwrap()
}

/// [`auditor_output`] as (exit code, stdout as JSON or null, stderr).
pub fn auditor(endpoint: &str, args: &[&str]) -> (i32, serde_json::Value, String) {
    let out = auditor_output(endpoint, args);
    (
        out.status.code().unwrap(),
        serde_json::from_slice(&out.stdout).unwrap_or(serde_json::Value::Null),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// An AWS Organizations client of the emulator, to create an organization and its accounts.
pub fn organizations(endpoint: &str) -> aws_sdk_organizations::Client {
    let conf = aws_sdk_organizations::Config::builder()
        .behavior_version(aws_sdk_organizations::config::BehaviorVersion::latest())
        .region(aws_sdk_organizations::config::Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_organizations::config::Credentials::new(
            "test", "test", None, None, "test",
        ))
        .http_client(http_client())
        .build();
    aws_sdk_organizations::Client::from_conf(conf)
}

pub fn client(endpoint: &str) -> aws_sdk_s3::Client {
    let http = http_client();
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

/// Creates `bucket` (versioning as given: "Enabled", "Suspended" or never set) and stores
/// `objects` in it, in order.
pub async fn bucket_with(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    versioning: Option<BucketVersioningStatus>,
    objects: &[(String, Vec<u8>)],
) {
    s3.create_bucket().bucket(bucket).send().await.unwrap();
    if let Some(status) = versioning {
        s3.put_bucket_versioning()
            .bucket(bucket)
            .versioning_configuration(VersioningConfiguration::builder().status(status).build())
            .send()
            .await
            .unwrap();
    }
    put(s3, bucket, objects).await;
}

pub async fn put(s3: &aws_sdk_s3::Client, bucket: &str, objects: &[(String, Vec<u8>)]) {
    for (key, bytes) in objects {
        s3.put_object()
            .bucket(bucket)
            .key(key)
            .body(ByteStream::from(bytes.clone()))
            .send()
            .await
            .unwrap();
    }
}
