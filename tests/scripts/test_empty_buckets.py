"""`make destroy` empties versioned buckets completely, against the local emulator over HTTP."""

from __future__ import annotations

import boto3
import pytest

import scripts.empty_buckets as empty_buckets
from tools.local_aws import LocalAws


@pytest.fixture(scope="module")
def s3():
    with LocalAws(port=0) as aws:
        yield boto3.client(
            "s3",
            endpoint_url=aws.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )


def test_every_version_and_delete_marker_goes(s3, monkeypatch):
    # GIVEN batches of 50 and a versioned bucket holding 123 versions and 10 delete markers
    monkeypatch.setattr(empty_buckets, "BATCH", 50)
    s3.create_bucket(Bucket="to-empty")
    s3.put_bucket_versioning(Bucket="to-empty", VersioningConfiguration={"Status": "Enabled"})
    for i in range(41):
        for revision in range(3):
            s3.put_object(
                Bucket="to-empty", Key=f"reports/{i:04d}.json", Body=f"{revision}".encode()
            )
    for i in range(10):
        s3.delete_object(Bucket="to-empty", Key=f"reports/{i:04d}.json")

    # WHEN it is emptied
    deleted, refused = empty_buckets.empty_bucket(s3, "to-empty")

    # THEN nothing is left, and the bucket itself can be deleted
    assert (deleted, refused) == (133, [])
    listing = s3.list_object_versions(Bucket="to-empty")
    assert not listing.get("Versions") and not listing.get("DeleteMarkers")
    s3.delete_bucket(Bucket="to-empty")
