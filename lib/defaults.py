"""Secure defaults shared by the parts: buckets, queues and the names built from the suffix."""

from __future__ import annotations

from typing import Optional, Sequence

from aws_cdk import Aws, CfnResource, Duration, RemovalPolicy
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from constructs import Construct, IConstruct

# "Kept for 7 years": 7 * 365 + 2 = 2,557 days, since any 7 consecutive years hold at most two leap days.
RETENTION_DAYS = 2557
# Reports older than this move to S3 Glacier Instant Retrieval: millisecond reads for auditors at a lower
# storage price. Its minimum storage duration is 90 days, so objects are never moved twice within it.
# S3 skips transitions of objects under 128 KiB by default, so small reports simply stay in Standard.
COLD_AFTER_DAYS = 90
# Queues hold messages for the SQS maximum, 14 days, so a weekend outage loses nothing.
QUEUE_RETENTION = Duration.days(14)


def physical_name(kind: str, suffix: str) -> str:
    """``<kind>-<suffix>``: every physical name carries the environment suffix."""
    return f"{kind}-{suffix}"


def global_bucket_name(kind: str, suffix: str) -> str:
    """S3 names are global: ``<kind>-<suffix>-<account>``; the account resolves at deploy time."""
    return f"{kind}-{suffix}-{Aws.ACCOUNT_ID}"


def secure_bucket(
    scope: Construct,
    id_: str,
    *,
    bucket_name: str,
    server_access_logs_bucket: Optional[s3.IBucket] = None,
    server_access_logs_prefix: Optional[str] = None,
    object_lock_mode: str = "off",
) -> s3.Bucket:
    """Versioned, SSE-S3, private, TLS-only bucket whose objects live 7 years, then expire.

    Destroyable: RemovalPolicy.DESTROY, and no ``auto_delete_objects`` (it adds an untagged Node.js
    Lambda); ``make destroy`` empties the buckets first.
    """
    lock_retention = None
    if object_lock_mode == "governance":
        lock_retention = s3.ObjectLockRetention.governance(Duration.days(RETENTION_DAYS))
    elif object_lock_mode == "compliance":
        lock_retention = s3.ObjectLockRetention.compliance(Duration.days(RETENTION_DAYS))
    return s3.Bucket(
        scope,
        id_,
        bucket_name=bucket_name,
        encryption=s3.BucketEncryption.S3_MANAGED,
        bucket_key_enabled=False,
        versioned=True,
        block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
        object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
        enforce_ssl=True,
        minimum_tls_version=1.2,
        # CDK grants logging.s3.amazonaws.com on the log bucket with aws:SourceArn (this bucket) and
        # aws:SourceAccount, the conditions "Enabling Amazon S3 server access logging" documents,
        # https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html
        server_access_logs_bucket=server_access_logs_bucket,
        server_access_logs_prefix=server_access_logs_prefix,
        object_lock_enabled=True if lock_retention else None,
        object_lock_default_retention=lock_retention,
        lifecycle_rules=[
            s3.LifecycleRule(
                id="retain-7-years",
                enabled=True,
                transitions=[
                    s3.Transition(
                        storage_class=s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
                        transition_after=Duration.days(COLD_AFTER_DAYS),
                    )
                ],
                noncurrent_version_transitions=[
                    s3.NoncurrentVersionTransition(
                        storage_class=s3.StorageClass.GLACIER_INSTANT_RETRIEVAL,
                        transition_after=Duration.days(COLD_AFTER_DAYS),
                    )
                ],
                expiration=Duration.days(RETENTION_DAYS),
                noncurrent_version_expiration=Duration.days(RETENTION_DAYS),
                abort_incomplete_multipart_upload_after=Duration.days(7),
            )
        ],
        removal_policy=RemovalPolicy.DESTROY,
    )


def secure_queue(
    scope: Construct,
    id_: str,
    *,
    queue_name: str,
    fifo: bool = False,
    visibility_timeout: Optional[Duration] = None,
    dead_letter_queue: Optional[sqs.DeadLetterQueue] = None,
    content_based_deduplication: Optional[bool] = None,
) -> sqs.Queue:
    """SQS-managed SSE, TLS-only, 14-day retention, destroyable."""
    return sqs.Queue(
        scope,
        id_,
        queue_name=f"{queue_name}.fifo" if fifo else queue_name,
        fifo=True if fifo else None,
        content_based_deduplication=content_based_deduplication,
        encryption=sqs.QueueEncryption.SQS_MANAGED,
        enforce_ssl=True,
        retention_period=QUEUE_RETENTION,
        visibility_timeout=visibility_timeout,
        dead_letter_queue=dead_letter_queue,
        removal_policy=RemovalPolicy.DESTROY,
    )


def least_privilege_role(
    scope: Construct,
    id_: str,
    *,
    role_name: str,
    description: str,
    assumed_by: iam.IPrincipal,
    statements: Sequence[iam.PolicyStatement],
    aws_managed_policies: Sequence[str] = (),
) -> tuple[iam.IRole, iam.ManagedPolicy]:
    """A role whose permissions are exactly ``statements``, in one customer managed policy named after it.

    The role handed out is immutable (``without_policy_updates``): CDK's automatic grants (event sources,
    dead-letter queues) cannot widen it behind the reader's back, so what ``statements`` says is all the
    role can do, and the tests can check it statement by statement. PCI DSS and NIST 800-53 also prefer
    managed over inline policies. Resources that need the permissions at creation time (an event source
    mapping checks sqs:ReceiveMessage when it is created) must depend on the returned policy.
    """
    role = iam.Role(
        scope,
        id_,
        role_name=role_name,
        description=description,
        assumed_by=assumed_by,
        managed_policies=[
            iam.ManagedPolicy.from_aws_managed_policy_name(n) for n in aws_managed_policies
        ],
    )
    policy = iam.ManagedPolicy(
        scope,
        f"{id_}Policy",
        managed_policy_name=f"{role_name}-policy",
        description=f"Least-privilege permissions of {role_name}",
        statements=list(statements),
        roles=[role],
    )
    return role.without_policy_updates(), policy


def resource_of(construct: IConstruct) -> CfnResource:
    """The CloudFormation resource behind an L2 construct, for the few settings the L2 does not offer."""
    resource = construct.node.default_child
    if not isinstance(resource, CfnResource):
        raise TypeError(f"{construct.node.path} has no CloudFormation resource behind it")
    return resource
