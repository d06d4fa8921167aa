"""`make destroy` surveys buckets (versions, delete markers, Object Lock) and empties them completely,
against the local emulator over HTTP."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import scripts.bucket_contents as bucket_contents


def test_every_version_and_delete_marker_goes(account, monkeypatch):
    # GIVEN batches of 50 and a versioned bucket holding 123 versions and 10 delete markers
    monkeypatch.setattr(bucket_contents, "BATCH", 50)
    s3 = account.s3
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
    deleted, refused = bucket_contents.empty_bucket(s3, "to-empty")

    # THEN nothing is left, and the bucket itself can be deleted
    assert (deleted, refused) == (133, [])
    listing = s3.list_object_versions(Bucket="to-empty")
    assert not listing.get("Versions") and not listing.get("DeleteMarkers")
    s3.delete_bucket(Bucket="to-empty")


def _bucket(account, name: str, lock: bool) -> None:
    account.s3.create_bucket(Bucket=name)
    account.s3.put_bucket_versioning(Bucket=name, VersioningConfiguration={"Status": "Enabled"})
    if lock:
        account.s3.put_object_lock_configuration(
            Bucket=name, ObjectLockConfiguration={"ObjectLockEnabled": "Enabled"}
        )


def _put_locked(s3, bucket: str, key: str, mode: str, until: datetime) -> None:
    s3.put_object(
        Bucket=bucket, Key=key, Body=b"{}", ObjectLockMode=mode, ObjectLockRetainUntilDate=until
    )


def test_survey_counts_versions_and_delete_markers_without_object_lock(account):
    _bucket(account, "plain", lock=False)
    account.put_reports("plain", count=5, deletes=2)

    found = bucket_contents.survey(account.s3, "plain", datetime.now(timezone.utc))

    assert (found.exists, found.versions, found.delete_markers) == (True, 5, 2)
    assert not found.lock_enabled and found.locked is None


def test_survey_finds_the_version_under_retention_and_keeps_the_policy(account):
    # GIVEN a locked bucket: one version retained until tomorrow, another whose retention ended
    _bucket(account, "locked", lock=True)
    s3, now = account.s3, datetime.now(timezone.utc)
    _put_locked(s3, "locked", "reports/old.json", "GOVERNANCE", now - timedelta(days=1))
    _put_locked(s3, "locked", "reports/new.json", "COMPLIANCE", now + timedelta(days=1))
    policy = '{"Version":"2012-10-17","Statement":[]}'
    s3.put_bucket_policy(Bucket="locked", Policy=policy)

    found = bucket_contents.survey(s3, "locked", now)

    assert found.lock_enabled and found.locked is not None
    assert found.locked.key == "reports/new.json" and found.locked.mode == "COMPLIANCE"
    assert "COMPLIANCE retention until" in found.locked.describe()
    assert found.policy is not None and '"Version"' in found.policy


def test_expired_retention_does_not_lock_but_a_legal_hold_does(account):
    _bucket(account, "held", lock=True)
    s3, now = account.s3, datetime.now(timezone.utc)
    _put_locked(s3, "held", "reports/expired.json", "GOVERNANCE", now - timedelta(days=1))
    assert bucket_contents.survey(s3, "held", now).locked is None

    s3.put_object_legal_hold(Bucket="held", Key="reports/expired.json", LegalHold={"Status": "ON"})
    locked = bucket_contents.survey(s3, "held", now).locked

    assert locked is not None and locked.legal_hold and locked.retain_until is None
    assert locked.describe().startswith("a legal hold on reports/expired.json")


def test_a_bucket_already_gone_is_surveyed_as_gone(account):
    found = bucket_contents.survey(account.s3, "never-created", datetime.now(timezone.utc))
    assert not found.exists and found.versions == 0
