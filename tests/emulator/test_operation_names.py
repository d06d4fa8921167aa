"""How S3 REST requests are named (pure function; the live naming is covered in test_faults)."""

from __future__ import annotations

import pytest

from tools.local_aws.calls import s3_operation


@pytest.mark.parametrize(
    ("method", "path", "query", "headers", "expected"),
    [
        ("GET", "/", {}, {}, "ListBuckets"),
        ("PUT", "/b", {}, {}, "CreateBucket"),
        ("HEAD", "/b", {}, {}, "HeadBucket"),
        ("DELETE", "/b", {}, {}, "DeleteBucket"),
        ("GET", "/b", {"list-type": ["2"]}, {}, "ListObjectsV2"),
        ("GET", "/b", {}, {}, "ListObjects"),
        ("GET", "/b", {"versions": [""]}, {}, "ListObjectVersions"),
        ("PUT", "/b", {"encryption": [""]}, {}, "PutBucketEncryption"),
        ("DELETE", "/b", {"encryption": [""]}, {}, "DeleteBucketEncryption"),
        ("GET", "/b", {"versioning": [""]}, {}, "GetBucketVersioning"),
        ("PUT", "/b", {"object-lock": [""]}, {}, "PutObjectLockConfiguration"),
        ("POST", "/b", {"delete": [""]}, {}, "DeleteObjects"),
        ("PUT", "/b/k/x.json", {}, {}, "PutObject"),
        ("PUT", "/b/k", {}, {"x-amz-copy-source": "/a/b"}, "CopyObject"),
        ("GET", "/b/k", {}, {}, "GetObject"),
        ("HEAD", "/b/k", {}, {}, "HeadObject"),
        ("DELETE", "/b/k", {}, {}, "DeleteObject"),
        ("GET", "/b/k", {"tagging": [""]}, {}, "GetObjectTagging"),
        ("POST", "/b/k", {"uploads": [""]}, {}, "CreateMultipartUpload"),
        ("PUT", "/b/k", {"partNumber": ["1"], "uploadId": ["u"]}, {}, "UploadPart"),
        ("POST", "/b/k", {"uploadId": ["u"]}, {}, "CompleteMultipartUpload"),
    ],
)
def test_s3_operation_names(method, path, query, headers, expected):
    assert s3_operation(method, path, query, headers)[0] == expected


def test_s3_parameters_are_unquoted_bucket_and_key():
    _, params = s3_operation("PUT", "/reports/reports/2026/07/01/a%20b.json", {}, {})
    assert params == {"Bucket": "reports", "Key": "reports/2026/07/01/a b.json"}
