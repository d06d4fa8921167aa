//! Reports in S3 (`s3://bucket/prefix`), read with the AWS SDK for Rust: the standard credential
//! chain (see `credentials.rs`; `--profile` picks a profile) and region, and `--endpoint-url` /
//! `AWS_ENDPOINT_URL` for a local emulator (path-style addressing is used whenever an endpoint is
//! given, as emulators expect).
//!
//! The listing comes from `ListObjectVersions`, so overwritten reports (more than one version)
//! and deleted ones (delete markers) are reported, not just what is current; `GetBucketVersioning`
//! says whether that evidence can exist at all (a bucket with versioning off or suspended keeps
//! no old versions). Needs `s3:ListBucket`, `s3:ListBucketVersions`, `s3:GetObject`,
//! `s3:GetObjectVersion` and `s3:GetBucketVersioning`.
//!
//! # Bounded time, whatever the endpoint does
//!
//! Every request has a connect timeout, a read timeout (until the response's headers) and an
//! operation timeout (the whole request, its retries, and for `GetObject` the body), so an
//! endpoint that accepts connections and never answers, or answers a byte every few seconds,
//! ends the run (exit 2) within the operation timeout of the request that stalled. A listing that
//! hands back a continuation marker it gave before, or says it is truncated without a marker,
//! is refused instead of being followed forever.

use std::collections::{BTreeMap, HashSet};
use std::fmt::Display;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use aws_config::BehaviorVersion;
use aws_config::timeout::TimeoutConfig;
use aws_sdk_s3::config::Region;
use aws_sdk_s3::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_s3::types::BucketVersioningStatus;
use aws_smithy_http_client::tls;

use super::layout::{self, Entry, FolderListing, Layout};
use super::{
    Fanout, FetchError, HEAD_MAX_BYTES, HeadCopy, HeadLookup, Listing, RegisterLookup,
    ReportSource, StoredObject, VersionAnomaly, Versioning, register_key_is_safe,
};
use crate::error::SourceError;
use crate::key::TrailId;
use crate::report::MAX_REPORT_BYTES;

/// How long any S3 request may take. The defaults are the command line's.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Timeouts {
    /// Opening the TCP (and TLS) connection.
    pub connect: Duration,
    /// From sending a request to receiving the response's headers, per attempt.
    pub read: Duration,
    /// One whole request: every retry, and for `GetObject` the body too.
    pub operation: Duration,
}

impl Default for Timeouts {
    fn default() -> Self {
        Timeouts {
            connect: Duration::from_secs(5),
            read: Duration::from_secs(20),
            operation: Duration::from_secs(60),
        }
    }
}

/// Connection settings for S3 sources.
#[derive(Debug, Clone, Default)]
pub struct S3Options {
    /// Overrides the endpoint (a local emulator); implies path-style addressing.
    pub endpoint_url: Option<String>,
    /// Overrides the region from the environment or profile.
    pub region: Option<String>,
    /// The shared-config profile to use instead of `AWS_PROFILE` (or `default`).
    pub profile: Option<String>,
    pub timeouts: Timeouts,
}

/// A bucket and key prefix. The trails of an organization's bucket share its client, its I/O
/// runtime and its one `GetBucketVersioning` answer.
pub struct S3Source {
    bucket: Bucket,
    prefix: String,
    runtime: Arc<tokio::runtime::Runtime>,
    versioning: Arc<OnceLock<Versioning>>,
}

/// Folder listings of the layout in flight at once.
const FOLDERS_IN_FLIGHT: usize = 32;

/// What a request needs: cheap to clone, so concurrent requests run as their own tasks.
#[derive(Clone)]
struct Bucket {
    /// The source as the user named it, for messages.
    name: String,
    bucket: String,
    /// The endpoint as people know it, for messages.
    endpoint: String,
    timeouts: Timeouts,
    client: aws_sdk_s3::Client,
}

#[derive(Default)]
struct KeyVersions {
    versions: Vec<(String, bool)>,
    latest: Option<(String, u64)>,
    latest_is_marker: bool,
    markers: usize,
}

/// How a request went wrong.
enum Failure {
    /// The endpoint stopped answering: nothing more can be read from it.
    Stalled(String),
    /// The request could not be sent (no connection, no credentials): nothing can be read.
    Unsent(String),
    /// The endpoint answered with an error (denied, missing, malformed): about this request only.
    Refused { code: Option<String>, text: String },
}

fn seconds(d: Duration) -> String {
    format!("{} s", d.as_secs_f64())
}

/// Error texts of the SDK may span lines; a message here is one line.
fn one_line(text: impl Display) -> String {
    text.to_string()
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// An SDK error in a few words, on one line: the service's code and message when it answered
/// with one, else the chain of causes, cut at 300 characters (the SDK's own rendering carries
/// the whole raw response).
pub(crate) fn short<E>(e: &SdkError<E>) -> String
where
    E: std::error::Error + ProvideErrorMetadata + Send + Sync + 'static,
{
    if let SdkError::ServiceError(s) = e {
        if let Some(code) = s.err().code() {
            let message = s.err().message().unwrap_or("(no message)");
            return one_line(format!("{code}: {message}"));
        }
    }
    super::causes(e, 300)
}

/// The single-threaded runtime an AWS client of the auditor runs on (`name`: the source, in the
/// error).
pub(crate) fn io_runtime(name: &str) -> Result<tokio::runtime::Runtime, SourceError> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| SourceError::S3 {
            source_name: name.to_owned(),
            reason: format!("cannot start the I/O runtime: {e}"),
        })
}

/// The SDK's shared configuration for `opts` (profile, region, endpoint, the timeouts, rustls),
/// with credentials resolved once: a missing sign-in is one line naming `name`.
pub(crate) async fn sdk_config(
    name: &str,
    opts: &S3Options,
) -> Result<aws_config::SdkConfig, SourceError> {
    let http = aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(
            tls::rustls_provider::CryptoMode::Ring,
        ))
        .build_https();
    let t = opts.timeouts;
    let mut loader = aws_config::defaults(BehaviorVersion::latest())
        .http_client(http)
        .timeout_config(
            TimeoutConfig::builder()
                .connect_timeout(t.connect)
                .read_timeout(t.read)
                .operation_timeout(t.operation)
                .build(),
        );
    if let Some(profile) = &opts.profile {
        loader = loader.profile_name(profile);
    }
    if let Some(region) = &opts.region {
        loader = loader.region(Region::new(region.clone()));
    }
    if let Some(endpoint) = &opts.endpoint_url {
        loader = loader.endpoint_url(endpoint);
    }
    let shared = loader.load().await;
    super::credentials::check(&shared, opts.profile.as_deref())
        .await
        .map_err(|reason| SourceError::Credentials {
            source_name: name.to_owned(),
            reason,
        })?;
    Ok(shared)
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
        let runtime = io_runtime(name)?;
        let t = opts.timeouts;
        let shared = runtime.block_on(sdk_config(name, opts))?;
        let mut conf = aws_sdk_s3::config::Builder::from(&shared);
        let region = if opts.endpoint_url.is_some() {
            conf = conf.force_path_style(true);
            if shared.region().is_none() {
                conf = conf.region(Region::new("us-east-1"));
            }
            shared
                .region()
                .map_or("us-east-1".to_owned(), |r| r.to_string())
        } else {
            match shared.region() {
                Some(r) => r.to_string(),
                None => {
                    return Err(fail(
                        "no AWS region configured; set AWS_REGION or pass --region".to_owned(),
                    ));
                }
            }
        };
        let endpoint = opts
            .endpoint_url
            .clone()
            .unwrap_or_else(|| format!("https://{bucket}.s3.{region}.amazonaws.com"));
        Ok(S3Source {
            bucket: Bucket {
                name: name.to_owned(),
                bucket: bucket.to_owned(),
                endpoint,
                timeouts: t,
                client: aws_sdk_s3::Client::from_conf(conf.build()),
            },
            prefix: prefix.to_owned(),
            runtime: Arc::new(runtime),
            versioning: Arc::new(OnceLock::new()),
        })
    }

    /// Where the generator keeps its head for this prefix: beside `reports/`
    /// (`chain/<account>/<region>/head.json` for an organization's trail).
    fn head_key(&self) -> String {
        layout::head_key(&self.prefix)
    }

    /// The key of `rel` (relative to the trail root) for this prefix: beside `reports/`.
    fn beside_reports(&self, rel: &str) -> String {
        let segments: Vec<&str> = self.prefix.split('/').collect();
        if let Some(i) = segments.iter().position(|s| *s == "reports") {
            let base = segments[..i].join("/");
            return if base.is_empty() {
                rel.to_owned()
            } else {
                format!("{base}/{rel}")
            };
        }
        match self.prefix.as_str() {
            "" => rel.to_owned(),
            p if p.ends_with('/') => format!("{p}{rel}"),
            p => format!("{p}/{rel}"),
        }
    }
}

impl Bucket {
    fn classify<E>(&self, operation: &str, e: SdkError<E>) -> Failure
    where
        E: std::error::Error + ProvideErrorMetadata + Send + Sync + 'static,
    {
        let t = &self.timeouts;
        match &e {
            SdkError::TimeoutError(_) => Failure::Stalled(format!(
                "{operation} did not complete within {} (--operation-timeout)",
                seconds(t.operation)
            )),
            SdkError::DispatchFailure(d) if d.is_timeout() => {
                let text = DisplayErrorContext(&e).to_string();
                Failure::Stalled(if text.contains("connect timeout") {
                    format!(
                        "no connection for {operation} within {} (--connect-timeout)",
                        seconds(t.connect)
                    )
                } else {
                    format!(
                        "no answer to {operation} within {} (--read-timeout)",
                        seconds(t.read)
                    )
                })
            }
            SdkError::DispatchFailure(_) | SdkError::ConstructionFailure(_) => {
                Failure::Unsent(format!("{operation}: {}", short(&e)))
            }
            SdkError::ServiceError(s) => Failure::Refused {
                code: s.err().code().map(str::to_owned),
                text: format!("{operation}: {}", short(&e)),
            },
            _ => Failure::Refused {
                code: None,
                text: format!("{operation}: {}", short(&e)),
            },
        }
    }

    fn stalled(&self, what: String) -> SourceError {
        SourceError::Stalled {
            source_name: self.name.clone(),
            endpoint: self.endpoint.clone(),
            what,
        }
    }

    /// A failure that ends the run: a stalled endpoint, or an error answer to a request the run
    /// cannot do without (the listing).
    fn fatal(&self, f: Failure) -> SourceError {
        match f {
            Failure::Stalled(what) => self.stalled(what),
            Failure::Refused { text, .. } | Failure::Unsent(text) => SourceError::S3 {
                source_name: self.name.clone(),
                reason: text,
            },
        }
    }

    async fn versioning(&self) -> Result<Versioning, SourceError> {
        // GetBucketVersioning: Status is Enabled or Suspended, and absent for a bucket whose
        // versioning was never turned on (Amazon S3 API Reference, GetBucketVersioning).
        match self
            .client
            .get_bucket_versioning()
            .bucket(&self.bucket)
            .send()
            .await
        {
            Ok(out) => Ok(match out.status() {
                Some(BucketVersioningStatus::Enabled) => Versioning::Enabled,
                Some(BucketVersioningStatus::Suspended) => Versioning::Suspended,
                None => Versioning::Disabled,
                Some(other) => Versioning::Unknown {
                    reason: format!("GetBucketVersioning answered status {other}"),
                },
            }),
            Err(e) => match self.classify("GetBucketVersioning", e) {
                Failure::Refused { code, text } => match code.as_deref() {
                    // The bucket itself is missing: nothing else will work either.
                    Some("NoSuchBucket") => Err(SourceError::S3 {
                        source_name: self.name.clone(),
                        reason: text,
                    }),
                    Some("AccessDenied") => Ok(Versioning::Unknown {
                        reason: "GetBucketVersioning was denied; grant s3:GetBucketVersioning"
                            .to_owned(),
                    }),
                    _ => Ok(Versioning::Unknown { reason: text }),
                },
                stalled => Err(self.fatal(stalled)),
            },
        }
    }

    /// Every version and delete marker under `prefix`, by key.
    async fn list_versions(
        &self,
        prefix: &str,
    ) -> Result<BTreeMap<String, KeyVersions>, SourceError> {
        let mut keys: BTreeMap<String, KeyVersions> = BTreeMap::new();
        let (mut key_marker, mut version_marker) = (None::<String>, None::<String>);
        let mut seen: HashSet<(Option<String>, Option<String>)> = HashSet::new();
        loop {
            let page = self
                .client
                .list_object_versions()
                .bucket(&self.bucket)
                .prefix(prefix)
                .set_key_marker(key_marker.clone())
                .set_version_id_marker(version_marker.clone())
                .send()
                .await
                .map_err(|e| self.fatal(self.classify("ListObjectVersions", e)))?;
            for v in page.versions() {
                let Some(key) = v.key() else { continue };
                let entry = keys.entry(key.to_owned()).or_default();
                let version = v.version_id().unwrap_or("null").to_owned();
                let latest = v.is_latest() == Some(true);
                if latest {
                    let size = u64::try_from(v.size().unwrap_or(0)).unwrap_or(0);
                    entry.latest = Some((version.clone(), size));
                }
                entry.versions.push((version, latest));
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
            // ListObjectVersions: a truncated page names where the next one starts
            // (NextKeyMarker, NextVersionIdMarker). Without one, or with one already followed,
            // the listing would never end or would silently stop short: both are refused.
            key_marker = page.next_key_marker().map(str::to_owned);
            version_marker = page.next_version_id_marker().map(str::to_owned);
            if key_marker.is_none() {
                return Err(self.stalled(
                    "ListObjectVersions said the listing is truncated but gave no NextKeyMarker; the listing would be incomplete".to_owned(),
                ));
            }
            if !seen.insert((key_marker.clone(), version_marker.clone())) {
                return Err(self.stalled(format!(
                    "ListObjectVersions returned the continuation marker {} twice; the listing does not advance",
                    key_marker.as_deref().unwrap_or_default()
                )));
            }
        }
        Ok(keys)
    }

    /// The entries of one folder (`prefix` ends in `/`): `ListObjectVersions` with the delimiter
    /// `/` answers its subfolders as common prefixes and only the objects directly in it, however
    /// many reports lie below (Amazon S3 API Reference, ListObjectVersions: Delimiter,
    /// CommonPrefixes). A refusal is about this folder only; a stalled endpoint ends the run.
    async fn list_folder(self, prefix: String) -> Result<FolderListing, SourceError> {
        let mut keys: Vec<String> = Vec::new();
        let (mut key_marker, mut version_marker) = (None::<String>, None::<String>);
        let mut seen: HashSet<(Option<String>, Option<String>)> = HashSet::new();
        loop {
            let page = match self
                .client
                .list_object_versions()
                .bucket(&self.bucket)
                .prefix(&prefix)
                .delimiter("/")
                .set_key_marker(key_marker.clone())
                .set_version_id_marker(version_marker.clone())
                .send()
                .await
            {
                Ok(page) => page,
                Err(e) => {
                    return match self.classify(&format!("ListObjectVersions of {prefix}"), e) {
                        Failure::Refused { text, .. } => Ok(Err(text)),
                        other => Err(self.fatal(other)),
                    };
                }
            };
            keys.extend(
                page.common_prefixes()
                    .iter()
                    .filter_map(|p| p.prefix().map(str::to_owned)),
            );
            keys.extend(
                page.versions()
                    .iter()
                    .filter_map(|v| v.key().map(str::to_owned)),
            );
            keys.extend(
                page.delete_markers()
                    .iter()
                    .filter_map(|m| m.key().map(str::to_owned)),
            );
            if page.is_truncated() != Some(true) {
                break;
            }
            key_marker = page.next_key_marker().map(str::to_owned);
            version_marker = page.next_version_id_marker().map(str::to_owned);
            let Some(marker) = key_marker.clone() else {
                return Err(self.stalled(format!(
                    "ListObjectVersions of {prefix} said the listing is truncated but gave no NextKeyMarker; the listing would be incomplete"
                )));
            };
            if !seen.insert((key_marker.clone(), version_marker.clone())) {
                return Err(self.stalled(format!(
                    "ListObjectVersions of {prefix} returned the continuation marker {marker} twice; the listing does not advance"
                )));
            }
        }
        Ok(Ok(Entry::from_keys(
            &prefix,
            keys.iter().map(String::as_str),
        )))
    }

    /// Every version and delete marker of exactly `key`, for an object kept beside the reports
    /// (the head, a register). A listing refused (a policy scoped to `reports/`) is `Err` with
    /// the sentence to state; only an endpoint that stopped answering ends the run.
    async fn list_one(
        &self,
        key: &str,
        location: &str,
    ) -> Result<Result<Option<KeyVersions>, String>, SourceError> {
        match self.list_versions(key).await {
            Ok(mut listed) => Ok(Ok(listed.remove(key))),
            Err(SourceError::S3 { reason, .. }) => {
                Ok(Err(format!("{location} could not be listed: {reason}")))
            }
            Err(e) => Err(e),
        }
    }

    /// Reads (key, version, limit) requests concurrently; results in the order asked.
    async fn get_all(
        &self,
        requests: impl Iterator<Item = (String, Option<String>, u64)>,
    ) -> Vec<Result<Vec<u8>, FetchError>> {
        let mut set = tokio::task::JoinSet::new();
        let mut count = 0;
        for (i, (key, version, limit)) in requests.enumerate() {
            let bucket = self.clone();
            set.spawn(async move { (i, bucket.get(key, version, limit).await) });
            count += 1;
        }
        let mut out: Vec<Result<Vec<u8>, FetchError>> = (0..count)
            .map(|_| Err(FetchError::Object("not read".into())))
            .collect();
        while let Some(joined) = set.join_next().await {
            if let Ok((i, result)) = joined {
                out[i] = result;
            }
        }
        out
    }

    /// One object version's bytes, at most `limit` of them. The whole request, body included, is
    /// bounded by the operation timeout: the SDK's own bound ends when the headers arrive.
    async fn get(
        self,
        key: String,
        version: Option<String>,
        limit: u64,
    ) -> Result<Vec<u8>, FetchError> {
        let read = async {
            let out = self
                .client
                .get_object()
                .bucket(&self.bucket)
                .key(&key)
                .set_version_id(version)
                .send()
                .await
                .map_err(|e| match self.classify(&format!("GetObject of {key}"), e) {
                    Failure::Refused { text, .. } => FetchError::Object(text),
                    stalled => FetchError::Source(self.fatal(stalled)),
                })?;
            let mut body = out.body;
            let mut bytes = Vec::new();
            while let Some(chunk) = body.next().await {
                let chunk = chunk.map_err(|e| {
                    FetchError::Object(format!("reading the body: {}", one_line(e)))
                })?;
                bytes.extend_from_slice(&chunk);
                // One byte over the limit is enough to refuse the object as too large.
                if bytes.len() as u64 > limit {
                    break;
                }
            }
            Ok(bytes)
        };
        match tokio::time::timeout(self.timeouts.operation, read).await {
            Ok(result) => result,
            Err(_) => Err(FetchError::Source(self.stalled(format!(
                "GetObject of {key} did not complete within {} (--operation-timeout)",
                seconds(self.timeouts.operation)
            )))),
        }
    }
}

impl S3Source {
    /// `GetBucketVersioning`, asked once for the bucket and its trails.
    async fn bucket_versioning(&self) -> Result<Versioning, SourceError> {
        if let Some(v) = self.versioning.get() {
            return Ok(v.clone());
        }
        let v = self.bucket.versioning().await?;
        Ok(self.versioning.get_or_init(|| v).clone())
    }

    /// Lists `folders` a few dozen at a time; answers in the order asked.
    fn list_folders(&self, folders: &[String]) -> Result<Vec<FolderListing>, SourceError> {
        let mut out = Vec::with_capacity(folders.len());
        for chunk in folders.chunks(FOLDERS_IN_FLIGHT) {
            let listed = self.runtime.block_on(async {
                let mut set = tokio::task::JoinSet::new();
                for (i, folder) in chunk.iter().enumerate() {
                    let bucket = self.bucket.clone();
                    let folder = folder.clone();
                    set.spawn(async move { (i, bucket.list_folder(folder).await) });
                }
                let mut listed: Vec<FolderListing> = (0..chunk.len())
                    .map(|_| Err("not listed".to_owned()))
                    .collect();
                while let Some(joined) = set.join_next().await {
                    if let Ok((i, result)) = joined {
                        listed[i] = result?;
                    }
                }
                Ok::<_, SourceError>(listed)
            })?;
            out.extend(listed);
        }
        Ok(out)
    }
}

impl ReportSource for S3Source {
    fn name(&self) -> &str {
        &self.bucket.name
    }

    fn list(&self) -> Result<Listing, SourceError> {
        let (versioning, keys) = self.runtime.block_on(async {
            let versioning = self.bucket_versioning().await?;
            let keys = self.bucket.list_versions(&self.prefix).await?;
            Ok::<_, SourceError>((versioning, keys))
        })?;
        let mut listing = Listing {
            objects: Vec::new(),
            anomalies: Vec::new(),
            unreadable: Vec::new(),
            versioning,
        };
        for (key, kv) in keys {
            if !key.ends_with(".json") {
                continue;
            }
            // Keys stay as stored: the chain check rebuilds the canonical form from their tail.
            if kv.versions.len() > 1 {
                listing.anomalies.push(VersionAnomaly::Overwritten {
                    key: key.clone(),
                    versions: kv.versions.len(),
                });
            }
            if kv.markers > 0 {
                listing.anomalies.push(VersionAnomaly::Deleted {
                    key: key.clone(),
                    current: kv.latest_is_marker,
                });
            }
            if let (false, Some((version, size))) = (kv.latest_is_marker, kv.latest) {
                listing.objects.push(StoredObject {
                    key,
                    size,
                    version_id: Some(version),
                });
            }
        }
        Ok(listing)
    }

    fn fetch(&self, object: &StoredObject) -> Result<Vec<u8>, FetchError> {
        self.fetch_batch(std::slice::from_ref(object), Fanout::ThisThread)
            .pop()
            .unwrap_or_else(|| Err(FetchError::Object("no result".into())))
    }

    /// Every request of the batch is in flight at once, whatever the fan-out: the wait is the
    /// network's, not a core's.
    fn fetch_batch(
        &self,
        objects: &[StoredObject],
        _fanout: Fanout,
    ) -> Vec<Result<Vec<u8>, FetchError>> {
        let requests = objects
            .iter()
            .map(|o| (o.key.clone(), o.version_id.clone(), MAX_REPORT_BYTES));
        self.runtime.block_on(self.bucket.get_all(requests))
    }

    fn head(&self) -> Result<HeadLookup, SourceError> {
        let key = self.head_key();
        let location = format!("s3://{}/{key}", self.bucket.bucket);
        self.runtime.block_on(async {
            // The head is bookkeeping: a listing refused is stated.
            let kv = match self.bucket.list_one(&key, &location).await? {
                Ok(kv) => kv,
                Err(why) => return Ok(HeadLookup::NotLookedFor(why)),
            };
            let Some(kv) = kv else {
                return Ok(HeadLookup::Looked {
                    location,
                    copies: Vec::new(),
                    deleted: false,
                });
            };
            let mut copies = Vec::with_capacity(kv.versions.len());
            // The head is rewritten a few times per report: read its versions a batch at a time.
            for batch in kv.versions.chunks(crate::scan::BATCH) {
                let reads = batch
                    .iter()
                    .map(|(version, _)| (key.clone(), Some(version.clone()), HEAD_MAX_BYTES));
                let read = self.bucket.get_all(reads).await;
                for ((version, latest), read) in batch.iter().zip(read) {
                    let bytes = match read {
                        Ok(bytes) => Ok(bytes),
                        Err(FetchError::Object(reason)) => Err(reason),
                        Err(FetchError::Source(e)) => return Err(e),
                    };
                    copies.push(HeadCopy {
                        version: version.clone(),
                        latest: *latest,
                        bytes,
                    });
                }
            }
            Ok(HeadLookup::Looked {
                location,
                copies,
                deleted: kv.latest_is_marker,
            })
        })
    }

    fn layout(&self) -> Result<Layout, SourceError> {
        let Some((reports, only)) = layout::scope(&self.prefix) else {
            return Ok(Layout::Single);
        };
        // GetBucketVersioning first, as for one trail: a bucket that is missing, or an endpoint
        // that does not answer, is said in the same words.
        self.runtime.block_on(self.bucket_versioning())?;
        layout::discover(&reports, only.as_deref(), |folders| {
            self.list_folders(folders)
        })
    }

    fn trail(&self, id: &TrailId) -> Result<Box<dyn ReportSource>, SourceError> {
        let reports = match layout::scope(&self.prefix) {
            Some((reports, _)) => reports,
            None => {
                return Err(SourceError::BadLocation(format!(
                    "{}: holds no trail {id}",
                    self.bucket.name
                )));
            }
        };
        let prefix = format!("{reports}{}/{}/", id.account, id.region);
        let mut bucket = self.bucket.clone();
        bucket.name = format!("s3://{}/{prefix}", bucket.bucket);
        Ok(Box::new(S3Source {
            bucket,
            prefix,
            runtime: Arc::clone(&self.runtime),
            versioning: Arc::clone(&self.versioning),
        }))
    }

    /// Lists the key's versions and delete markers, then reads the version the report names, or
    /// the current one. `GetObject` with `VersionId` needs `s3:GetObjectVersion` (Amazon S3 API
    /// Reference, GetObject: "If you supply a versionId, you need the s3:GetObjectVersion
    /// permission to access a specific version of an object").
    fn register(&self, key: &str, version_id: Option<&str>) -> Result<RegisterLookup, SourceError> {
        if !register_key_is_safe(key) {
            return Ok(RegisterLookup::NotLookedFor(format!(
                "{key} is not a key under exceptions/"
            )));
        }
        let full = self.beside_reports(key);
        let location = format!("s3://{}/{full}", self.bucket.bucket);
        self.runtime.block_on(async {
            let kv = match self.bucket.list_one(&full, &location).await? {
                Ok(kv) => kv,
                Err(why) => return Ok(RegisterLookup::NotLookedFor(why)),
            };
            let Some(kv) = kv else {
                return Ok(RegisterLookup::Looked {
                    location,
                    versioned: true,
                    versions: 0,
                    delete_markers: 0,
                    deleted: false,
                    bytes: None,
                });
            };
            let wanted = match version_id {
                Some(v) => kv
                    .versions
                    .iter()
                    .find(|(id, _)| id == v)
                    .map(|(id, _)| id.clone()),
                None if kv.latest_is_marker => None,
                None => kv.latest.as_ref().map(|(id, _)| id.clone()),
            };
            let bytes = match wanted {
                None => None,
                Some(v) => {
                    let limit = crate::register::MAX_REGISTER_BYTES;
                    let mut read = self
                        .bucket
                        .get_all(std::iter::once((full.clone(), Some(v), limit)))
                        .await;
                    match read.pop() {
                        Some(Ok(bytes)) => Some(Ok(bytes)),
                        Some(Err(FetchError::Object(reason))) => Some(Err(reason)),
                        Some(Err(FetchError::Source(e))) => return Err(e),
                        None => Some(Err("no result".to_owned())),
                    }
                }
            };
            Ok(RegisterLookup::Looked {
                location,
                versioned: true,
                versions: kv.versions.len(),
                delete_markers: kv.markers,
                deleted: kv.latest_is_marker,
                bytes,
            })
        })
    }
}
