"""Report storage: the buckets that hold the audit trail and AWS Config's own deliveries."""

from __future__ import annotations

from aws_cdk import Aws
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from lib.defaults import global_bucket_name, secure_bucket

REPORT_PREFIX = "reports/"
CHAIN_PREFIX = "chain/"


class ReportStorage(Construct):
    """Three buckets, all versioned, SSE-S3 (AES256), private, TLS-only, kept 7 years:

    * ``reports``: the hash-chained compliance reports (optionally under S3 Object Lock);
    * ``config``: AWS Config's configuration history and snapshots (absent when an existing recorder is
      reused, since its delivery channel already has a bucket);
    * ``access_logs``: S3 server access logs of the other two, so every read of the trail is itself recorded.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        suffix: str,
        object_lock_mode: str,
        with_config_bucket: bool,
    ) -> None:
        super().__init__(scope, id_)
        self.access_logs = secure_bucket(
            self, "AccessLogs", bucket_name=global_bucket_name("compliance-access-logs", suffix)
        )
        self.reports = secure_bucket(
            self,
            "Reports",
            bucket_name=global_bucket_name("compliance-reports", suffix),
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix="reports-bucket/",
            object_lock_mode=object_lock_mode,
        )
        self.config = None
        if with_config_bucket:
            self.config = secure_bucket(
                self,
                "Config",
                bucket_name=global_bucket_name("compliance-config", suffix),
                server_access_logs_bucket=self.access_logs,
                server_access_logs_prefix="config-bucket/",
            )
            self._allow_config_delivery(self.config)

    @staticmethod
    def _allow_config_delivery(bucket: s3.Bucket) -> None:
        """The bucket policy AWS Config's documentation prescribes for delivery to a bucket in the same
        account, limited to this account with aws:SourceAccount (confused-deputy protection)."""
        config = iam.ServicePrincipal("config.amazonaws.com")
        same_account = {"StringEquals": {"AWS:SourceAccount": Aws.ACCOUNT_ID}}
        bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AWSConfigBucketPermissionsCheck",
                principals=[config],
                actions=["s3:GetBucketAcl", "s3:ListBucket"],
                resources=[bucket.bucket_arn],
                conditions=same_account,
            )
        )
        bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AWSConfigBucketDelivery",
                principals=[config],
                actions=["s3:PutObject"],
                resources=[bucket.arn_for_objects(f"AWSLogs/{Aws.ACCOUNT_ID}/Config/*")],
                conditions={
                    "StringEquals": {
                        "AWS:SourceAccount": Aws.ACCOUNT_ID,
                        "s3:x-amz-acl": "bucket-owner-full-control",
                    }
                },
            )
        )

    @property
    def report_objects_arn(self) -> str:
        return self.reports.arn_for_objects(f"{REPORT_PREFIX}*")

    @property
    def chain_objects_arn(self) -> str:
        return self.reports.arn_for_objects(f"{CHAIN_PREFIX}*")
