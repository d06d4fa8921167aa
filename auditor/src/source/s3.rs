//! Reports in S3 (`s3://bucket/prefix`), read with the AWS SDK for Rust: the standard credential
//! chain and region, and `--endpoint-url` / `AWS_ENDPOINT_URL` for a local emulator (path-style
//! addressing is used whenever an endpoint is given, as emulators expect).
//!
//! The listing comes from `ListObjectVersions`, so overwritten reports (more than one version)
//! and deleted ones (delete markers) are reported, not just what is current. Needs
//! `s3:ListBucket`, `s3:ListBucketVersions`, `s3:GetObject` and `s3:GetObjectVersion`.

use std::collections::BTreeMap;
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_s3::config::Region;
use aws_sdk_s3::error::DisplayErrorContext;
use aws_smithy_http_client::tls;

use super::{Listing, ReportSource, StoredObject, VersionAnomaly};
use crate::error::SourceError;

/// Connection settings for S3 sources.
#[derive(Debug, Clone, Default)]
pub struct S3Options {
    /// Overrides the endpoint (a local emulator); implies path-style addressing.
    pub endpoint_url: Option<String>,
    /// Overrides the region from the environment or profile.
    pub region: Option<String>,
}

/// A bucket and key prefix.
pub struct S3Source {
    name: String,
    bucket: String,
    prefix: String,
    client: aws_sdk_s3::Client,
    runtime: tokio::runtime::Runtime,
}

#[derive(Default)]
struct KeyVersions {
    versions: usize,
    latest: Option<(String, u64)>,
    latest_is_marker: bool,
    markers: usize,
}

impl S3Source {
    /// Builds the client; makes no request yet.
    pub fn connect(
        name: &str,
        bucket: &str,
        prefix: &str,
        opts: &S3Options,
    ) -> Result<Self, SourceError> {
        let fail = |reason: String| SourceError::S3 {
            source_name: name.to_owned(),
            reason,
        };
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| fail(format!("cannot start the I/O runtime: {e}")))?;
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(
                tls::rustls_provider::CryptoMode::Ring,
            ))
            .build_https();
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .http_client(http)
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(Duration::from_secs(5))
                    .build(),
            );
        if let Some(region) = &opts.region {
            loader = loader.region(Region::new(region.clone()));
        }
        if let Some(endpoint) = &opts.endpoint_url {
            loader = loader.endpoint_url(endpoint);
        }
        let shared = runtime.block_on(loader.load());
        let mut conf = aws_sdk_s3::config::Builder::from(&shared);
        if opts.endpoint_url.is_some() {
            conf = conf.force_path_style(true);
            if shared.region().is_none() {
                conf = conf.region(Region::new("us-east-1"));
            }
        } else if shared.region().is_none() {
            return Err(fail(
                "no AWS region configured; set AWS_REGION or pass --region".to_owned(),
            ));
        }
        Ok(S3Source {
            name: name.to_owned(),
            bucket: bucket.to_owned(),
            prefix: prefix.to_owned(),
            client: aws_sdk_s3::Client::from_conf(conf.build()),
            runtime,
        })
    }

    async fn list_versions(&self) -> Result<BTreeMap<String, KeyVersions>, String> {
        let mut keys: BTreeMap<String, KeyVersions> = BTreeMap::new();
        let (mut key_marker, mut version_marker) = (None::<String>, None::<String>);
        loop {
            let page = self
                .client
                .list_object_versions()
                .bucket(&self.bucket)
                .prefix(&self.prefix)
                .set_key_marker(key_marker.take())
                .set_version_id_marker(version_marker.take())
                .send()
                .await
                .map_err(|e| DisplayErrorContext(e).to_string())?;
            for v in page.versions() {
                let Some(key) = v.key() else { continue };
                let entry = keys.entry(key.to_owned()).or_default();
                entry.versions += 1;
                if v.is_latest() == Some(true) {
                    let size = v.size().unwrap_or(0).max(0) as u64;
                    entry.latest = Some((v.version_id().unwrap_or("null").to_owned(), size));
                }
            }
            for m in page.delete_markers() {
                let Some(key) = m.key() else { continue };
                let entry = keys.entry(key.to_owned()).or_default();
                entry.markers += 1;
                if m.is_latest() == Some(true) {
                    entry.latest_is_marker = true;
                }
            }
            if page.is_truncated() != Some(true) {
                break;
            }
            key_marker = page.next_key_marker().map(str::to_owned);
            version_marker = page.next_version_id_marker().map(str::to_owned);
            if key_marker.is_none() {
                break;
            }
        }
        Ok(keys)
    }

    async fn get(
        client: aws_sdk_s3::Client,
        bucket: String,
        object: StoredObject,
    ) -> Result<Vec<u8>, String> {
        let out = client
            .get_object()
            .bucket(bucket)
            .key(&object.key)
            .set_version_id(object.version_id.clone())
            .send()
            .await
            .map_err(|e| DisplayErrorContext(e).to_string())?;
        let body = out
            .body
            .collect()
            .await
            .map_err(|e| format!("reading the body: {e}"))?;
        Ok(body.into_bytes().to_vec())
    }
}

impl ReportSource for S3Source {
    fn name(&self) -> &str {
        &self.name
    }

    fn list(&self) -> Result<Listing, SourceError> {
        let keys = self
            .runtime
            .block_on(self.list_versions())
            .map_err(|reason| SourceError::S3 {
                source_name: self.name.clone(),
                reason,
            })?;
        let mut listing = Listing {
            versions_checked: true,
            ..Listing::default()
        };
        for (key, kv) in keys {
            if !key.ends_with(".json") {
                continue;
            }
            // Keys stay as stored: the chain check rebuilds the canonical form from their tail.
            let rel = key;
            if kv.versions > 1 {
                listing.anomalies.push(VersionAnomaly::Overwritten {
                    key: rel.clone(),
                    versions: kv.versions,
                });
            }
            if kv.markers > 0 {
                listing.anomalies.push(VersionAnomaly::Deleted {
                    key: rel.clone(),
                    current: kv.latest_is_marker,
                });
            }
            if let (false, Some((version, size))) = (kv.latest_is_marker, kv.latest) {
                listing.objects.push(StoredObject {
                    key: rel,
                    size,
                    version_id: Some(version),
                });
            }
        }
        Ok(listing)
    }

    fn fetch(&self, object: &StoredObject) -> Result<Vec<u8>, String> {
        self.fetch_batch(std::slice::from_ref(object))
            .pop()
            .unwrap_or_else(|| Err("no result".into()))
    }

    fn fetch_batch(&self, objects: &[StoredObject]) -> Vec<Result<Vec<u8>, String>> {
        self.runtime.block_on(async {
            let mut set = tokio::task::JoinSet::new();
            for (i, o) in objects.iter().enumerate() {
                let full = o.clone();
                let (client, bucket) = (self.client.clone(), self.bucket.clone());
                set.spawn(async move { (i, Self::get(client, bucket, full).await) });
            }
            let mut out: Vec<Result<Vec<u8>, String>> = (0..objects.len())
                .map(|_| Err("not fetched".into()))
                .collect();
            while let Some(joined) = set.join_next().await {
                if let Ok((i, result)) = joined {
                    out[i] = result;
                }
            }
            out
        })
    }
}
