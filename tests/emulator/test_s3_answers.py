"""GIVEN the S3 API Reference's response syntax WHEN a client reads what the emulator answers THEN
the document has the shape AWS sends (SDKs stricter than botocore refuse anything else)."""

from __future__ import annotations

import urllib.request

import botocore.auth
import botocore.awsrequest
from botocore.credentials import Credentials

from tools.local_aws import estate


def _raw_get(aws, path: str) -> bytes:
    request = botocore.awsrequest.AWSRequest(method="GET", url=f"{aws.endpoint_url}{path}")
    botocore.auth.SigV4Auth(Credentials("testing", "testing"), "s3", "us-east-1").add_auth(request)
    raw = urllib.request.Request(request.url, headers=dict(request.headers))
    with urllib.request.urlopen(raw, timeout=10) as answer:  # noqa: S310 (loopback)
        return answer.read()


def test_get_bucket_versioning_answers_a_versioning_configuration(aws, clients):
    estate.create_bucket(clients.s3, "versioned-bucket")
    clients.s3.put_bucket_versioning(
        Bucket="versioned-bucket", VersioningConfiguration={"Status": "Suspended"}
    )
    estate.create_bucket(clients.s3, "never-versioned")

    suspended = _raw_get(aws, "/versioned-bucket?versioning")
    never = _raw_get(aws, "/never-versioned?versioning")

    assert b"<VersioningConfiguration" in suspended and b"<Status>Suspended</Status>" in suspended
    assert b"<VersioningConfiguration" in never and b"<Status>" not in never
    assert b"GetBucketVersioningResponse" not in suspended + never
