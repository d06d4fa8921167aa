"""ReportStorage in a bare stack: encryption, versioning, privacy, TLS, 7-year lifecycle, Object Lock."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk.assertions import Template

from lib.report_storage.infrastructure import ReportStorage
from tests.unit.synth import make_app


def storage_template(**overrides) -> Template:
    stack = cdk.Stack(make_app(), "Bare")
    props = {"suffix": "t1", "object_lock_mode": "off", **overrides}
    ReportStorage(stack, "Storage", **props)
    return Template.from_stack(stack)


@pytest.fixture(scope="module")
def template() -> Template:
    return storage_template()


def test_two_buckets_both_sse_s3_versioned_private(template):
    buckets = template.find_resources("AWS::S3::Bucket")
    assert len(buckets) == 2
    for bucket in buckets.values():
        props = bucket["Properties"]
        rules = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
        assert [r["ServerSideEncryptionByDefault"]["SSEAlgorithm"] for r in rules] == ["AES256"]
        assert props["VersioningConfiguration"] == {"Status": "Enabled"}
        assert props["PublicAccessBlockConfiguration"] == {
            "BlockPublicAcls": True,
            "BlockPublicPolicy": True,
            "IgnorePublicAcls": True,
            "RestrictPublicBuckets": True,
        }
        assert bucket["DeletionPolicy"] == "Delete"


def test_lifecycle_keeps_current_and_noncurrent_versions_seven_years(template):
    for bucket in template.find_resources("AWS::S3::Bucket").values():
        (rule,) = bucket["Properties"]["LifecycleConfiguration"]["Rules"]
        assert rule["Status"] == "Enabled"
        assert rule["ExpirationInDays"] >= 2555
        assert rule["NoncurrentVersionExpiration"]["NoncurrentDays"] >= 2555
        assert all(t["TransitionInDays"] < rule["ExpirationInDays"] for t in rule["Transitions"])


def test_every_bucket_denies_plain_http(template):
    policies = template.find_resources("AWS::S3::BucketPolicy")
    assert len(policies) == 2
    for policy in policies.values():
        statements = policy["Properties"]["PolicyDocument"]["Statement"]
        assert any(
            s["Effect"] == "Deny" and s["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
            for s in statements
        )


def test_report_bucket_logs_access_to_the_log_bucket(template):
    (logs_id,) = [
        k
        for k, b in template.find_resources("AWS::S3::Bucket").items()
        if "LoggingConfiguration" not in b["Properties"]
    ]
    template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "LoggingConfiguration": {
                "DestinationBucketName": {"Ref": logs_id},
                "LogFilePrefix": "reports-bucket/",
            }
        },
    )


@pytest.mark.parametrize(
    "mode, cfn_mode", [("governance", "GOVERNANCE"), ("compliance", "COMPLIANCE")]
)
def test_object_lock_is_opt_in_with_seven_year_default_retention(mode, cfn_mode):
    template = storage_template(object_lock_mode=mode)
    template.has_resource_properties(
        "AWS::S3::Bucket",
        {
            "ObjectLockEnabled": True,
            "ObjectLockConfiguration": {
                "ObjectLockEnabled": "Enabled",
                "Rule": {"DefaultRetention": {"Mode": cfn_mode, "Days": 2557}},
            },
        },
    )


def test_object_lock_off_by_default(template):
    for bucket in template.find_resources("AWS::S3::Bucket").values():
        assert "ObjectLockConfiguration" not in bucket["Properties"]
