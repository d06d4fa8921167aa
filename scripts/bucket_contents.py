"""What a bucket of the stack holds, whether S3 Object Lock protects any of it, and emptying it.

``make destroy`` (``scripts/destroy.py``) surveys every bucket first, to say what it will delete
before it asks, and to find a bucket it must keep: one version under Object Lock retention (or a
legal hold) is enough, since S3 refuses to delete that version and so the bucket. A kept bucket is
left exactly as it is; the others are emptied, every version and delete marker, so CloudFormation
can delete them. (The stack avoids CDK's auto_delete_objects, which adds an untagged Node.js Lambda.)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Optional

from botocore.exceptions import ClientError

BATCH = 1000  # DeleteObjects takes at most 1,000 keys per request (S3 API reference, DeleteObjects)


@dataclass(frozen=True)
class LockedVersion:
    """A version S3 will not delete now: retention until a date, or a legal hold."""

    key: str
    version_id: str
    mode: Optional[str]  # GOVERNANCE | COMPLIANCE, when under retention
    retain_until: Optional[datetime]
    legal_hold: bool

    def describe(self) -> str:
        held = []
        if self.retain_until is not None:
            held.append(f"{self.mode} retention until {self.retain_until:%Y-%m-%d %H:%M} UTC")
        if self.legal_hold:
            held.append("a legal hold")
        return f"{' and '.join(held)} on {self.key} (version {self.version_id})"


@dataclass(frozen=True)
class BucketSurvey:
    name: str
    exists: bool
    versions: int = 0
    delete_markers: int = 0
    lock_enabled: bool = False
    locked: Optional[LockedVersion] = None
    policy: Optional[str] = None  # the bucket policy, kept to put back on a bucket the stack leaves


def survey(s3: Any, bucket: str, now: datetime) -> BucketSurvey:
    """Count the bucket's object versions and delete markers; find a locked version if it has any.

    With Object Lock on, versions are checked newest first (a default retention locks the newest
    longest) with HeadObject, which returns the version's lock mode, retain-until date and legal
    hold status (with s3:GetObjectRetention and s3:GetObjectLegalHold), and the check stops at the
    first locked version: one is enough to keep the bucket.
    """
    try:
        s3.head_bucket(Bucket=bucket)
    except ClientError as e:
        if e.response.get("Error", {}).get("Code") in ("404", "NoSuchBucket", "NotFound"):
            return BucketSurvey(bucket, exists=False)
        raise
    versions: list[dict[str, Any]] = []
    delete_markers = 0
    for page in s3.get_paginator("list_object_versions").paginate(Bucket=bucket):
        versions.extend(page.get("Versions", []))
        delete_markers += len(page.get("DeleteMarkers", []))
    lock_enabled = _object_lock_enabled(s3, bucket)
    locked = _first_locked(s3, bucket, versions, now) if lock_enabled else None
    return BucketSurvey(
        bucket,
        exists=True,
        versions=len(versions),
        delete_markers=delete_markers,
        lock_enabled=lock_enabled,
        locked=locked,
        policy=_policy(s3, bucket) if locked else None,
    )


def _object_lock_enabled(s3: Any, bucket: str) -> bool:
    try:
        answer = s3.get_object_lock_configuration(Bucket=bucket)
    except ClientError as e:
        # A bucket created without Object Lock answers ObjectLockConfigurationNotFoundError.
        if e.response.get("Error", {}).get("Code") == "ObjectLockConfigurationNotFoundError":
            return False
        raise
    return bool(answer.get("ObjectLockConfiguration", {}).get("ObjectLockEnabled") == "Enabled")


def _first_locked(
    s3: Any, bucket: str, versions: list[dict[str, Any]], now: datetime
) -> Optional[LockedVersion]:
    for version in sorted(versions, key=lambda v: v["LastModified"], reverse=True):
        head = s3.head_object(Bucket=bucket, Key=version["Key"], VersionId=version["VersionId"])
        until = head.get("ObjectLockRetainUntilDate")
        retained = until is not None and until > now
        held = head.get("ObjectLockLegalHoldStatus") == "ON"
        if retained or held:
            return LockedVersion(
                key=version["Key"],
                version_id=version["VersionId"],
                mode=head.get("ObjectLockMode") if retained else None,
                retain_until=until if retained else None,
                legal_hold=held,
            )
    return None


def _policy(s3: Any, bucket: str) -> Optional[str]:
    try:
        return str(s3.get_bucket_policy(Bucket=bucket)["Policy"])
    except ClientError as e:
        if e.response.get("Error", {}).get("Code") == "NoSuchBucketPolicy":
            return None
        raise


def empty_bucket(s3: Any, bucket: str) -> tuple[int, list[str]]:
    """Delete every version and delete marker; return (deleted, keys that could not be deleted).

    Lists the first page again after each batch rather than paging on: markers that point at versions
    just deleted are not followed reliably by every S3 implementation. Refused versions are skipped past
    with the markers so a locked bucket still terminates.
    """
    deleted, refused = 0, list[str]()
    markers: dict[str, str] = {}
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
