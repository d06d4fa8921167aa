"""Every cdk-nag finding this stack acknowledges, with the requirement or fact that forces it.

One table, so a reviewer reads every exception in one place. Each entry names a construct path under
the stack, the finding id (cdk-nag v3 ids carry the exact resource or policy in brackets) and the reason.
A path marked optional exists only for some settings (Config's delivery bucket, topic and recorder are
absent with useExistingConfigRecorder); any other path that does not resolve is a bug and fails synth.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Sequence

from aws_cdk import Acknowledgment, Stack, Validations
from constructs import IConstruct

from lib.config_monitoring.infrastructure import DELIVERY_BUCKET_LOGICAL_ID

SSE_S3 = (
    "The customer's contract mandates SSE-S3 (AES256, AWS-managed keys) for every bucket, not KMS; "
    "versioning, TLS-only access and the 7-year lifecycle are enforced by policy."
)
SINGLE_REGION = (
    "The contract fixes the deployment to us-east-1 only; replication would copy audit data to a second "
    "region the contract does not allow. Versioning plus S3's own durability protect the trail."
)
SNS_UNENCRYPTED = (
    "AWS Config's delivery channel cannot publish to an SSE-encrypted topic with the AWS managed key, and "
    "CloudWatch alarms need a customer managed KMS key to publish to an encrypted topic, "
    "which the contract's AWS-managed-keys-only rule excludes. Messages hold resource ids, not data; "
    "the topic policy denies non-TLS publishing."
)
LOGS_KMS = (
    "CloudWatch Logs encrypts every log group at rest with service-managed keys; the contract allows "
    "AWS-managed keys only, so no customer managed KMS key is created."
)
NO_VPC = (
    "The functions only call AWS APIs (Config, S3, SNS, SQS) over TLS and hold no network-reachable "
    "data; a VPC would need NAT or interface endpoints and adds no control over that traffic."
)
FORMATTER_CONCURRENCY = (
    "Reserved concurrency fails to deploy on new accounts whose concurrency limit is 10; the alert "
    "formatter's concurrency is capped instead by its SQS event sources' MaximumConcurrency (2 each)."
)
NO_RESERVED_CONCURRENCY = (
    "Reserved concurrency fails to deploy on new accounts whose concurrency limit is 10; runs are "
    "serialised instead by the FIFO request queue with a single message group."
)
PYTHON39 = (
    "The customer's contract fixes the runtime to python3.9; the lambdaRuntime context flag moves it to a "
    "newer runtime (see README, runtime deprecation dates)."
)
CONFIG_ROLE = (
    "The contract requires the AWS managed policy service-role/AWS_ConfigRole for the Config recorder, as "
    "AWS Config's documentation prescribes; delivery permissions are in a separate scoped policy."
)
OBJECT_PREFIX = (
    "S3 object ARNs need a key wildcard; the wildcard is confined to one prefix of one bucket of this "
    "stack."
)
LOG_STREAMS = (
    "Log stream ARNs are only known at run time; the wildcard is confined to this function's own log "
    "group."
)
FORMATTER_READS = (
    "config:BatchGetResourceConfig and DescribeConfigRuleEvaluationStatus support no resource-level "
    "permissions (Service Authorization Reference), so IAM accepts only Resource '*'; "
    "DescribeConfigurationRecorderStatus's recorder ARN ends in an id Config assigns, unknown to a stack "
    "that uses an existing recorder. All three are reads."
)
STATUS_CALLS = (
    "config:DescribeComplianceByConfigRule, DescribeConfigRuleEvaluationStatus and "
    "DescribeDeliveryChannelStatus support no resource-level permissions (Service Authorization "
    "Reference), so IAM accepts only Resource '*'; DescribeConfigurationRecorderStatus's recorder ARN "
    "ends in an id Config assigns, unknown to a stack that uses an existing recorder."
)
DLQ_ITSELF = (
    "This queue is itself a dead-letter queue (of an SNS subscription, EventBridge target or schedule); a "
    "DLQ of a DLQ would only move the problem. Its depth alarm notifies the security team."
)


@dataclass(frozen=True)
class Ack:
    path: str
    finding: str
    reason: str
    optional: bool = False


def _packs(rule: str) -> tuple[str, ...]:
    return (f"PCI.DSS.321-{rule}", f"NIST.800.53.R5-{rule}")


# Bucket path -> optional: Config's delivery bucket exists only when the stack creates the recorder.
BUCKETS = {
    "ReportStorage/AccessLogs": False,
    "ReportStorage/Reports": False,
    "ConfigMonitoring/DeliveryBucket": True,
}

# The stack's functions: each has its own log group, function and role policy, accepted alike.
FUNCTIONS = ("ReportGenerator", "AlertFormatter")

ACKS: tuple[Ack, ...] = (
    *(
        Ack(path, finding, SSE_S3, optional=optional)
        for path, optional in BUCKETS.items()
        for finding in _packs("S3DefaultEncryptionKMS")
    ),
    *(
        Ack(path, finding, SINGLE_REGION, optional=optional)
        for path, optional in BUCKETS.items()
        for finding in _packs("S3BucketReplicationEnabled")
    ),
    *(Ack("Alerting/Alerts", finding, SNS_UNENCRYPTED) for finding in _packs("SNSEncryptedKMS")),
    *(
        Ack("ConfigMonitoring/DeliveryTopic", finding, SNS_UNENCRYPTED, optional=True)
        for finding in _packs("SNSEncryptedKMS")
    ),
    *(
        Ack(f"{part}/Logs", f, LOGS_KMS)
        for part in FUNCTIONS
        for f in _packs("CloudWatchLogGroupEncrypted")
    ),
    *(Ack(f"{part}/Function", f, NO_VPC) for part in FUNCTIONS for f in _packs("LambdaInsideVPC")),
    *(Ack(f"{part}/Function", "AwsSolutions-L1", PYTHON39) for part in FUNCTIONS),
    *(
        Ack(f"{part}/RolePolicy", f"AwsSolutions-IAM5[Resource::<{part}Logs*.Arn>:*]", LOG_STREAMS)
        for part in FUNCTIONS
    ),
    Ack("ReportGenerator/Function", "NIST.800.53.R5-LambdaConcurrency", NO_RESERVED_CONCURRENCY),
    Ack(
        "ConfigMonitoring/RecorderRole",
        "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWS_ConfigRole]",
        CONFIG_ROLE,
        optional=True,
    ),
    Ack(
        "ConfigMonitoring/RecorderRolePolicy",
        f"AwsSolutions-IAM5[Resource::<{DELIVERY_BUCKET_LOGICAL_ID}.Arn>/AWSLogs/<AWS::AccountId>/Config/*]",
        OBJECT_PREFIX,
        optional=True,
    ),
    Ack(
        "ReportGenerator/RolePolicy",
        "AwsSolutions-IAM5[Resource::<ReportStorageReports*.Arn>/chain/*]",
        OBJECT_PREFIX,
    ),
    Ack(
        "ReportGenerator/RolePolicy",
        "AwsSolutions-IAM5[Resource::<ReportStorageReports*.Arn>/reports/*]",
        OBJECT_PREFIX,
    ),
    Ack(
        "ReportGenerator/RolePolicy",
        "AwsSolutions-IAM5[Resource::<ReportStorageReports*.Arn>/exceptions/*]",
        OBJECT_PREFIX,
    ),
    Ack("ReportGenerator/RolePolicy", "AwsSolutions-IAM5[Resource::*]", STATUS_CALLS),
    Ack("AlertFormatter/Function", "NIST.800.53.R5-LambdaConcurrency", FORMATTER_CONCURRENCY),
    Ack("AlertFormatter/RolePolicy", "AwsSolutions-IAM5[Resource::*]", FORMATTER_READS),
    Ack("Alerting/ScheduleDlq", "AwsSolutions-SQS3", DLQ_ITSELF),
    Ack("Alerting/EventsDlq", "AwsSolutions-SQS3", DLQ_ITSELF),
    Ack("Alerting/EmailDlq", "AwsSolutions-SQS3", DLQ_ITSELF, optional=True),
)


# -- the organization shape ---------------------------------------------------------------------------
AGGREGATOR_ROLE = (
    "An AWS Config organization aggregator's role needs the AWS managed policy "
    "service-role/AWSConfigRoleForOrganizations (AWS Config Developer Guide, aggregators); it only "
    "lists the organization's accounts and delegated administrators."
)
ASSET_BUCKET_LOGS = (
    "The bucket holds only the member template's Lambda code, content-addressed and readable by the "
    "whole organization on purpose; it is not evidence. A log bucket per region would be named "
    "compliance-assets-logs-<suffix>-<account>-<region>, longer than S3's 63 characters for a "
    "16-character suffix."
)
ASSET_BUCKET_REPLICATION = (
    "The bucket holds only code that every deploy publishes again from the repository; a copy in "
    "another region would add nothing. Each deployment region has its own bucket already."
)


def member_acks(central_bucket: str) -> tuple[Ack, ...]:
    """The member part is the single stack's account parts without its buckets: the same findings,
    minus the buckets', with the report generator's object prefixes in the central bucket. cdk-nag
    names the construct's ``reports/*`` and ``chain/*`` (the member narrows them to the trail's prefixes
    by an override, which the check does not see)."""
    return (
        *(
            a
            for a in ACKS
            if not a.path.startswith(tuple(BUCKETS)) and "ReportStorageReports" not in a.finding
        ),
        *(
            Ack(
                "ReportGenerator/RolePolicy",
                f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:s3:::{central_bucket}/{prefix}*]",
                OBJECT_PREFIX,
            )
            for prefix in ("reports/", "chain/", "exceptions/")
        ),
        *(Ack("AccessLogs", f, SSE_S3, optional=True) for f in _packs("S3DefaultEncryptionKMS")),
        *(
            Ack("AccessLogs", f, SINGLE_REGION, optional=True)
            for f in _packs("S3BucketReplicationEnabled")
        ),
    )


EVIDENCE_ACKS: tuple[Ack, ...] = (
    *(
        Ack(path, finding, reason)
        for path in ("ReportStorage/AccessLogs", "ReportStorage/Reports")
        for findings, reason in (
            (_packs("S3DefaultEncryptionKMS"), SSE_S3),
            (_packs("S3BucketReplicationEnabled"), SINGLE_REGION),
        )
        for finding in findings
    ),
    Ack(
        "AggregatorRole",
        "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/"
        "AWSConfigRoleForOrganizations]",
        AGGREGATOR_ROLE,
    ),
)

REGIONAL_ACKS: tuple[Ack, ...] = (
    *(Ack("MemberAssets", f, SSE_S3) for f in _packs("S3DefaultEncryptionKMS")),
    *(
        Ack("MemberAssets", f, ASSET_BUCKET_REPLICATION)
        for f in _packs("S3BucketReplicationEnabled")
    ),
    *(
        Ack("MemberAssets", f, ASSET_BUCKET_LOGS)
        for f in ("AwsSolutions-S1", *_packs("S3BucketLoggingEnabled"))
    ),
    *(Ack("Alerting/Alerts", f, SNS_UNENCRYPTED) for f in _packs("SNSEncryptedKMS")),
    Ack("Alerting/EmailDlq", "AwsSolutions-SQS3", DLQ_ITSELF, optional=True),
)


_REGION_END = re.compile(r"-[a-z]{2}(-gov)?-[a-z]+-[0-9]$")


def acks_for_stack(stack_name: str) -> tuple[Ack, ...]:
    """The table a stack of either shape was acknowledged with, by its name (for the validation
    summary, which counts the entries whose construct exists)."""
    if stack_name.startswith("ComplianceAuditMember-"):
        return member_acks("<central bucket>")
    if stack_name.startswith("ComplianceAuditEvidence-"):
        return REGIONAL_ACKS if _REGION_END.search(stack_name) else EVIDENCE_ACKS
    return ACKS


def acknowledge(stack: Stack, acks: Sequence[Ack] = ACKS) -> None:
    for ack in acks:
        target = _find(stack, ack.path)
        if target is None:
            if ack.optional:
                continue
            raise LookupError(
                f"nag acknowledgement names {ack.path!r}, which the stack does not have"
            )
        Validations.of(target).acknowledge(
            Acknowledgment(id=_resolve_finding(stack, ack.finding), reason=ack.reason)
        )


def _find(stack: Stack, path: str) -> IConstruct | None:
    node: IConstruct | None = stack
    for part in path.split("/"):
        node = node.node.try_find_child(part) if node is not None else None
    return node


def _resolve_finding(stack: Stack, finding: str) -> str:
    """Findings name resources by logical id (``<ReportStorageReports6849C2EB.Arn>``); the table writes the
    hash as ``*`` so it survives refactoring. Replace it with the real logical id here."""
    if "*." not in finding:
        return finding
    prefix, rest = finding.split("<", 1)
    token, tail = rest.split("*.", 1)
    tail = "." + tail
    path_ids = {_logical_id(stack, c): c for c in stack.node.find_all()}
    matches = [
        lid for lid in path_ids if lid and lid.startswith(token) and len(lid) == len(token) + 8
    ]
    if len(matches) != 1:
        raise LookupError(f"nag acknowledgement {finding!r} matches {len(matches)} logical ids")
    return f"{prefix}<{matches[0]}{tail}"


def _logical_id(stack: Stack, construct: IConstruct) -> str | None:
    from aws_cdk import CfnElement

    if isinstance(construct, CfnElement):
        return str(stack.resolve(construct.logical_id))
    return None
