#!/usr/bin/env python3
"""Empty every bucket of a deployed stack, all object versions and delete markers, so `cdk destroy` can
delete the buckets. (The stack avoids CDK's auto_delete_objects, which adds an untagged Node.js Lambda.)

A bucket under S3 Object Lock keeps locked versions until their retention ends: that is the point of the
lock. The script reports those keys and exits 1, and the stack deletion will then fail on that bucket.
"""

from __future__ import annotations

import argparse
import sys

import boto3
from botocore.config import Config
from botocore.exceptions import ClientError

CLIENT_CONFIG = Config(retries={"mode": "standard", "max_attempts": 8})
BATCH = 1000  # DeleteObjects takes at most 1,000 keys per request


def stack_buckets(cloudformation, stack_name: str) -> list[str]:
    try:
        pages = cloudformation.get_paginator("list_stack_resources").paginate(StackName=stack_name)
        return [
            r["PhysicalResourceId"]
            for page in pages
            for r in page["StackResourceSummaries"]
            if r["ResourceType"] == "AWS::S3::Bucket" and r.get("PhysicalResourceId")
        ]
    except ClientError as e:
        if "does not exist" in str(e):
            return []
        raise


def empty_bucket(s3, bucket: str) -> tuple[int, list[str]]:
    """Delete every version and delete marker; return (deleted, keys that could not be deleted).

    Lists the first page again after each batch rather than paging on: markers that point at versions
    just deleted are not followed reliably by every S3 implementation. Refused versions are skipped past
    with the markers so a locked bucket still terminates.
    """
    deleted, refused = 0, []
    markers: dict = {}
    while True:
        page = s3.list_object_versions(Bucket=bucket, MaxKeys=BATCH, **markers)
        batch = [
            {"Key": item["Key"], "VersionId": item["VersionId"]}
            for item in page.get("Versions", []) + page.get("DeleteMarkers", [])
        ]
        if not batch:
            return deleted, refused
        result = s3.delete_objects(Bucket=bucket, Delete={"Objects": batch, "Quiet": True})
        errors = result.get("Errors", [])
        refused.extend(f"{e['Key']} ({e.get('Code', 'error')})" for e in errors)
        deleted += len(batch) - len(errors)
        if errors:
            if not page.get("IsTruncated"):
                return deleted, refused
            markers = {
                "KeyMarker": page["NextKeyMarker"],
                "VersionIdMarker": page["NextVersionIdMarker"],
            }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stack", required=True, help="stack name, e.g. ComplianceAudit-dev")
    parser.add_argument("--region", default="us-east-1")
    args = parser.parse_args(argv)
    session = boto3.session.Session(region_name=args.region)
    buckets = stack_buckets(session.client("cloudformation", config=CLIENT_CONFIG), args.stack)
    if not buckets:
        print(f"{args.stack}: no deployed buckets to empty")
        return 0
    s3 = session.client("s3", config=CLIENT_CONFIG)
    status = 0
    for bucket in buckets:
        deleted, refused = empty_bucket(s3, bucket)
        print(f"{bucket}: deleted {deleted} object versions")
        if refused:
            status = 1
            print(
                f"{bucket}: {len(refused)} versions kept (Object Lock?): {', '.join(refused[:5])}"
            )
    return status


if __name__ == "__main__":
    sys.exit(main())
