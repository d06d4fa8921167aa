"""Each rule against the compliant fixture and against one targeted change to it.

GIVEN fixtures/compliant.json (every rule passes), WHEN one change is made, THEN exactly the
rules listed fail, each with a ``<< Contract: ... >>`` message containing the listed fragment.
Pass cases show the other shapes a rule accepts (a newer runtime, KMS queues, ARN spellings).
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from typing import Any, Callable, Dict, FrozenSet, Iterable, List

import pytest

Template = Dict[str, Any]


@dataclass(frozen=True)
class Case:
    id: str
    change: Callable[[Template], None]
    fails: FrozenSet[str] = frozenset()
    message: str = ""


def fail(id_: str, change: Callable[[Template], None], rules: Iterable[str], message: str) -> Case:
    return Case(id_, change, frozenset(rules), message)


def accept(id_: str, change: Callable[[Template], None]) -> Case:
    return Case(id_, change)


def props(t: Template, logical_id: str) -> Dict[str, Any]:
    return t["Resources"][logical_id]["Properties"]


def set_prop(logical_id: str, path: str, value: Any) -> Callable[[Template], None]:
    """Set Properties.<path> (dot separated; digits index lists) of one resource."""

    def change(t: Template) -> None:
        node: Any = props(t, logical_id)
        *parents, last = path.split(".")
        for key in parents:
            node = node[int(key)] if key.isdigit() else node[key]
        if last.isdigit():
            node[int(last)] = value
        else:
            node[last] = value

    return change


def drop_prop(logical_id: str, path: str) -> Callable[[Template], None]:
    def change(t: Template) -> None:
        node: Any = props(t, logical_id)
        *parents, last = path.split(".")
        for key in parents:
            node = node[int(key)] if key.isdigit() else node[key]
        del node[last]

    return change


def set_attr(logical_id: str, attribute: str, value: Any) -> Callable[[Template], None]:
    def change(t: Template) -> None:
        t["Resources"][logical_id][attribute] = value

    return change


def add_resource(logical_id: str, resource: Dict[str, Any]) -> Callable[[Template], None]:
    def change(t: Template) -> None:
        t["Resources"][logical_id] = resource

    return change


def drop_resource(logical_id: str) -> Callable[[Template], None]:
    def change(t: Template) -> None:
        del t["Resources"][logical_id]

    return change


def both(*changes: Callable[[Template], None]) -> Callable[[Template], None]:
    def change(t: Template) -> None:
        for each in changes:
            each(t)

    return change


def copy_resource(source: str, logical_id: str) -> Callable[[Template], None]:
    def change(t: Template) -> None:
        t["Resources"][logical_id] = copy.deepcopy(t["Resources"][source])

    return change


def statements(t: Template, logical_id: str) -> List[Dict[str, Any]]:
    return props(t, logical_id)["PolicyDocument"]["Statement"]


def add_statement(logical_id: str, statement: Dict[str, Any]) -> Callable[[Template], None]:
    def change(t: Template) -> None:
        statements(t, logical_id).append(statement)

    return change


def add_inline_statement(statement: Dict[str, Any]) -> Callable[[Template], None]:
    def change(t: Template) -> None:
        props(t, "GeneratorRole")["Policies"][0]["PolicyDocument"]["Statement"].append(statement)

    return change


def add_lifecycle_rules(*rules: Dict[str, Any]) -> Callable[[Template], None]:
    def change(t: Template) -> None:
        props(t, "Reports")["LifecycleConfiguration"]["Rules"].extend(rules)

    return change


def remove_tag(key: str, logical_id: str) -> Callable[[Template], None]:
    def change(t: Template) -> None:
        p = props(t, logical_id)
        p["Tags"] = [tag for tag in p["Tags"] if tag["Key"] != key]

    return change


S3_ENCRYPTION = "BucketEncryption.ServerSideEncryptionConfiguration.0.ServerSideEncryptionByDefault"
LIFECYCLE_RULE = "LifecycleConfiguration.Rules.0"
TLS_STATEMENT = "PolicyDocument.Statement.0"
MANAGED_POLICY_ARNS = "ManagedPolicyArns"
CONFIG_ROLE_JOIN = {
    "Fn::Join": [
        "",
        ["arn:", {"Ref": "AWS::Partition"}, ":iam::aws:policy/service-role/AWS_ConfigRole"],
    ]
}
DEPRECATED_CONFIG_ROLE_JOIN = {
    "Fn::Join": [
        "",
        ["arn:", {"Ref": "AWS::Partition"}, ":iam::aws:policy/service-role/AWSConfigRole"],
    ]
}
TAGGED_TYPES = {
    "AWS::S3::Bucket": "Reports",
    "AWS::SQS::Queue": "FailuresDlq",
    "AWS::SNS::Topic": "Alerts",
    "AWS::Lambda::Function": "Generator",
    "AWS::Logs::LogGroup": "GeneratorLogs",
    "AWS::IAM::Role": "RecorderRole",
    "AWS::CloudWatch::Alarm": "FailuresDlqDepth",
    "AWS::Events::Rule": "DailyReport",
    "AWS::Scheduler::ScheduleGroup": "Schedules",
    "AWS::Lambda::EventSourceMapping": "GeneratorRequests",
}

S3 = [
    fail(
        "sse-kms",
        set_prop("Reports", f"{S3_ENCRYPTION}.SSEAlgorithm", "aws:kms"),
        ["s3_bucket_sse_s3"],
        "SSEAlgorithm AES256",
    ),
    fail("sse-absent", drop_prop("Reports", "BucketEncryption"), ["s3_bucket_sse_s3"], "SSE-S3"),
    fail(
        "sse-with-kms-key",
        set_prop("Reports", f"{S3_ENCRYPTION}.KMSMasterKeyID", "alias/aws/s3"),
        ["s3_bucket_sse_s3"],
        "KMSMasterKeyID",
    ),
    fail(
        "versioning-suspended",
        set_prop("Reports", "VersioningConfiguration.Status", "Suspended"),
        ["s3_bucket_versioning_enabled"],
        "versioning Enabled",
    ),
    fail(
        "versioning-absent",
        drop_prop("Reports", "VersioningConfiguration"),
        ["s3_bucket_versioning_enabled"],
        "versioning Enabled",
    ),
    *[
        fail(
            f"public-access-{flag}-false",
            set_prop("Reports", f"PublicAccessBlockConfiguration.{flag}", False),
            ["s3_bucket_public_access_blocked"],
            f"{flag} must be true",
        )
        for flag in (
            "BlockPublicAcls",
            "BlockPublicPolicy",
            "IgnorePublicAcls",
            "RestrictPublicBuckets",
        )
    ],
    fail(
        "public-access-block-absent",
        drop_prop("Reports", "PublicAccessBlockConfiguration"),
        ["s3_bucket_public_access_blocked"],
        "blocks public access",
    ),
    fail(
        "expiration-1-year",
        set_prop("Reports", f"{LIFECYCLE_RULE}.ExpirationInDays", 365),
        ["s3_bucket_lifecycle_seven_years"],
        "2555",
    ),
    fail(
        "expiration-absent",
        drop_prop("Reports", f"{LIFECYCLE_RULE}.ExpirationInDays"),
        ["s3_bucket_lifecycle_seven_years"],
        "ExpirationInDays and NoncurrentVersionExpiration",
    ),
    fail(
        "noncurrent-expiration-90-days",
        set_prop("Reports", f"{LIFECYCLE_RULE}.NoncurrentVersionExpiration.NoncurrentDays", 90),
        ["s3_bucket_lifecycle_seven_years"],
        "noncurrent versions before 2555 days",
    ),
    fail(
        "noncurrent-expiration-absent",
        drop_prop("Reports", f"{LIFECYCLE_RULE}.NoncurrentVersionExpiration"),
        ["s3_bucket_lifecycle_seven_years"],
        "NoncurrentVersionExpiration both >= 2555",
    ),
    fail(
        "lifecycle-rule-disabled",
        set_prop("Reports", f"{LIFECYCLE_RULE}.Status", "Disabled"),
        ["s3_bucket_lifecycle_seven_years"],
        "enabled, whole-bucket lifecycle rule",
    ),
    fail(
        "lifecycle-absent",
        drop_prop("Reports", "LifecycleConfiguration"),
        ["s3_bucket_lifecycle_seven_years"],
        "lifecycle rule",
    ),
    fail(
        "lifecycle-only-for-a-prefix",
        set_prop("Reports", f"{LIFECYCLE_RULE}.Prefix", "reports/"),
        ["s3_bucket_lifecycle_seven_years"],
        "whole-bucket",
    ),
    fail(
        "second-rule-expires-a-prefix-after-30-days",
        add_lifecycle_rules(
            {"Id": "scratch", "Status": "Enabled", "Prefix": "tmp/", "ExpirationInDays": 30}
        ),
        ["s3_bucket_lifecycle_seven_years"],
        "no enabled lifecycle rule may expire them before 2555 days",
    ),
    fail(
        "expiration-date",
        set_prop("Reports", f"{LIFECYCLE_RULE}.ExpirationDate", "2030-01-01T00:00:00Z"),
        ["s3_bucket_lifecycle_seven_years"],
        "ExpirationDate",
    ),
    fail(
        "no-bucket-policy",
        drop_resource("ReportsPolicy"),
        ["s3_bucket_policy_denies_insecure_transport"],
        "aws:SecureTransport is false",
    ),
    fail(
        "policy-denies-secure-transport-true",
        set_prop(
            "ReportsPolicy", f"{TLS_STATEMENT}.Condition", {"Bool": {"aws:SecureTransport": "true"}}
        ),
        ["s3_bucket_policy_denies_insecure_transport"],
        "aws:SecureTransport is false",
    ),
    fail(
        "policy-allows-instead-of-denying",
        set_prop("ReportsPolicy", f"{TLS_STATEMENT}.Effect", "Allow"),
        ["s3_bucket_policy_denies_insecure_transport"],
        "aws:SecureTransport is false",
    ),
    fail(
        "policy-denies-only-put-object",
        set_prop("ReportsPolicy", f"{TLS_STATEMENT}.Action", "s3:PutObject"),
        ["s3_bucket_policy_denies_insecure_transport"],
        "aws:SecureTransport is false",
    ),
    fail(
        "policy-denies-one-principal",
        set_prop(
            "ReportsPolicy", f"{TLS_STATEMENT}.Principal", {"AWS": "arn:aws:iam::123456789012:root"}
        ),
        ["s3_bucket_policy_denies_insecure_transport"],
        "aws:SecureTransport is false",
    ),
    fail(
        "second-bucket-without-policy",
        copy_resource("Reports", "Scratch"),
        ["s3_bucket_policy_denies_insecure_transport"],
        "Deny statement for all principals",
    ),
    accept(
        "tls-condition-as-boolean",
        set_prop(
            "ReportsPolicy", f"{TLS_STATEMENT}.Condition", {"Bool": {"aws:SecureTransport": False}}
        ),
    ),
    accept(
        "tls-deny-principal-star-and-action-list",
        both(
            set_prop("ReportsPolicy", f"{TLS_STATEMENT}.Principal", "*"),
            set_prop("ReportsPolicy", f"{TLS_STATEMENT}.Action", ["s3:*"]),
        ),
    ),
    accept(
        "legacy-noncurrent-expiration-in-days",
        both(
            drop_prop("Reports", f"{LIFECYCLE_RULE}.NoncurrentVersionExpiration"),
            set_prop("Reports", f"{LIFECYCLE_RULE}.NoncurrentVersionExpirationInDays", 2555),
        ),
    ),
    accept(
        "disabled-short-rule-and-transition-rule",
        add_lifecycle_rules(
            {"Id": "old", "Status": "Disabled", "ExpirationInDays": 1},
            {
                "Id": "cold",
                "Status": "Enabled",
                "Transitions": [{"StorageClass": "GLACIER_IR", "TransitionInDays": 90}],
            },
        ),
    ),
]

LAMBDA = [
    *[
        fail(
            f"runtime-{runtime}",
            set_prop("Generator", "Runtime", runtime),
            ["lambda_runtime_python39_or_newer"],
            "python3.9 or a newer python3.x",
        )
        for runtime in ("python3.8", "python2.7", "nodejs20.x", "python3.9-custom")
    ],
    fail(
        "runtime-absent",
        drop_prop("Generator", "Runtime"),
        ["lambda_runtime_python39_or_newer"],
        "python3.9",
    ),
    *[
        accept(f"runtime-{runtime}", set_prop("Generator", "Runtime", runtime))
        for runtime in ("python3.10", "python3.13", "python3.14")
    ],
    fail(
        "architecture-x86-64",
        set_prop("Generator", "Architectures", ["x86_64"]),
        ["lambda_architecture_arm64"],
        "Architectures [arm64]",
    ),
    fail(
        "architecture-empty",
        set_prop("Generator", "Architectures", []),
        ["lambda_architecture_arm64"],
        "Architectures [arm64]",
    ),
    fail(
        "architecture-absent",
        drop_prop("Generator", "Architectures"),
        ["lambda_architecture_arm64"],
        "defaults to x86_64",
    ),
    fail(
        "timeout-301",
        set_prop("Generator", "Timeout", 301),
        ["lambda_timeout_at_most_300"],
        "within 300 seconds",
    ),
    fail(
        "timeout-900",
        set_prop("Generator", "Timeout", 900),
        ["lambda_timeout_at_most_300"],
        "within 300 seconds",
    ),
    fail(
        "timeout-absent",
        drop_prop("Generator", "Timeout"),
        ["lambda_timeout_at_most_300"],
        "states its Timeout",
    ),
    accept("timeout-60", set_prop("Generator", "Timeout", 60)),
    fail(
        "logging-config-absent",
        drop_prop("Generator", "LoggingConfig"),
        ["lambda_log_group_reference"],
        "LoggingConfig.LogGroup is a Ref",
    ),
    fail(
        "log-group-by-name",
        set_prop("Generator", "LoggingConfig.LogGroup", "/aws/lambda/report-generator"),
        ["lambda_log_group_reference"],
        "LoggingConfig.LogGroup is a Ref",
    ),
    fail(
        "log-group-ref-to-a-queue",
        set_prop("Generator", "LoggingConfig.LogGroup", {"Ref": "FailuresDlq"}),
        ["lambda_log_group_reference"],
        "must reference an AWS::Logs::LogGroup",
    ),
    fail(
        "dead-letter-config-absent",
        drop_prop("Generator", "DeadLetterConfig"),
        ["lambda_dead_letter_config"],
        "DeadLetterConfig with a TargetArn",
    ),
    *[
        fail(
            f"log-retention-{days}-days",
            set_prop("GeneratorLogs", "RetentionInDays", days),
            ["logs_retention_30_days"],
            "RetentionInDays 30",
        )
        for days in (14, 3653)
    ],
    fail(
        "log-retention-absent",
        drop_prop("GeneratorLogs", "RetentionInDays"),
        ["logs_retention_30_days"],
        "logs never expire",
    ),
]

MESSAGING = [
    fail(
        "subscription-without-redrive-policy",
        drop_prop("AlertsEmail", "RedrivePolicy"),
        ["sns_subscription_redrive_policy"],
        "deadLetterTargetArn",
    ),
    fail(
        "redrive-policy-without-target",
        set_prop("AlertsEmail", "RedrivePolicy", {}),
        ["sns_subscription_redrive_policy"],
        "deadLetterTargetArn",
    ),
    fail(
        "queue-sse-disabled",
        set_prop("Requests", "SqsManagedSseEnabled", False),
        ["sqs_queue_encrypted"],
        "encrypted at rest",
    ),
    fail(
        "queue-sse-absent",
        drop_prop("FailuresDlq", "SqsManagedSseEnabled"),
        ["sqs_queue_encrypted"],
        "encrypted at rest",
    ),
    accept(
        "queue-with-kms-key",
        both(
            drop_prop("Requests", "SqsManagedSseEnabled"),
            set_prop("Requests", "KmsMasterKeyId", "alias/aws/sqs"),
        ),
    ),
]

TAGS = [
    *[
        fail(
            f"{kind.split('::', 1)[1].replace('::', '-').lower()}-without-{key.lower()}",
            remove_tag(key, logical_id),
            [rule],
            f"{key}={value}",
        )
        for kind, logical_id in TAGGED_TYPES.items()
        for key, value, rule in (
            ("Environment", "audit", "tags_environment_audit"),
            ("CostCenter", "compliance", "tags_cost_center_compliance"),
        )
    ],
    fail(
        "environment-prod",
        set_prop("Alerts", "Tags.0", {"Key": "Environment", "Value": "prod"}),
        ["tags_environment_audit"],
        "Environment=audit",
    ),
    fail(
        "no-tags",
        drop_prop("Generator", "Tags"),
        ["tags_environment_audit", "tags_cost_center_compliance"],
        "has Tags",
    ),
    fail(
        "other-type-with-tags-list",
        add_resource(
            "Key",
            {
                "Type": "AWS::KMS::Key",
                "Properties": {
                    "KeyPolicy": {"Version": "2012-10-17", "Statement": []},
                    "Tags": [{"Key": "Environment", "Value": "audit"}],
                },
            },
        ),
        ["tags_cost_center_compliance"],
        "CostCenter=compliance",
    ),
]

RETENTION = [
    *[
        fail(
            f"{attribute}-{policy}",
            set_attr("Reports", attribute, policy),
            [rule],
            f"{attribute} Retain, RetainExceptOnCreate and Snapshot are not allowed",
        )
        for attribute, rule in (
            ("DeletionPolicy", "retention_no_retain_deletion_policy"),
            ("UpdateReplacePolicy", "retention_no_retain_update_replace_policy"),
        )
        for policy in ("Retain", "RetainExceptOnCreate", "Snapshot")
    ],
    *[
        fail(
            f"log-group-deletion-protection-{value}",
            set_prop("GeneratorLogs", "DeletionProtectionEnabled", value),
            ["retention_no_deletion_protection"],
            "DeletionProtectionEnabled must not be true",
        )
        for value in (True, "true")
    ],
    fail(
        "database-deletion-protection",
        add_resource(
            "Database",
            {
                "Type": "AWS::RDS::DBInstance",
                "Properties": {
                    "DBInstanceClass": "db.t4g.micro",
                    "Engine": "postgres",
                    "AllocatedStorage": "20",
                    "StorageEncrypted": True,
                    "DeletionProtection": True,
                },
            },
        ),
        ["retention_no_deletion_protection"],
        "DeletionProtection must not be enabled",
    ),
    fail(
        "user-pool-deletion-protection-active",
        add_resource(
            "Users",
            {"Type": "AWS::Cognito::UserPool", "Properties": {"DeletionProtection": "ACTIVE"}},
        ),
        ["retention_no_deletion_protection"],
        "DeletionProtection must not be enabled",
    ),
    fail(
        "global-table-replica-deletion-protection",
        add_resource(
            "Table",
            {
                "Type": "AWS::DynamoDB::GlobalTable",
                "Properties": {
                    "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
                    "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
                    "BillingMode": "PAY_PER_REQUEST",
                    "Replicas": [{"Region": "us-east-1", "DeletionProtectionEnabled": True}],
                },
            },
        ),
        ["retention_no_deletion_protection"],
        "no replica may set DeletionProtectionEnabled",
    ),
    fail(
        "load-balancer-deletion-protection",
        add_resource(
            "Balancer",
            {
                "Type": "AWS::ElasticLoadBalancingV2::LoadBalancer",
                "Properties": {
                    "Subnets": ["subnet-1", "subnet-2"],
                    "LoadBalancerAttributes": [
                        {"Key": "deletion_protection.enabled", "Value": "true"}
                    ],
                },
            },
        ),
        ["retention_no_deletion_protection"],
        "deletion_protection.enabled",
    ),
    accept(
        "deletion-protection-off", set_prop("GeneratorLogs", "DeletionProtectionEnabled", False)
    ),
    accept(
        "no-deletion-policies-at-all",
        lambda t: [
            r.pop(a, None)
            for r in t["Resources"].values()
            for a in ("DeletionPolicy", "UpdateReplacePolicy")
        ],
    ),
]

CONFIG = [
    fail(
        "recorder-records-all-types",
        set_prop(
            "Recorder", "RecordingGroup.RecordingStrategy.UseOnly", "ALL_SUPPORTED_RESOURCE_TYPES"
        ),
        ["config_recorder_excludes_logs_destination"],
        "EXCLUSION_BY_RESOURCE_TYPES",
    ),
    fail(
        "recorder-excludes-another-type",
        set_prop(
            "Recorder", "RecordingGroup.ExclusionByResourceTypes.ResourceTypes", ["AWS::EC2::VPC"]
        ),
        ["config_recorder_excludes_logs_destination"],
        "excludes AWS::Logs::Destination",
    ),
    fail(
        "recorder-excludes-nothing",
        set_prop("Recorder", "RecordingGroup.ExclusionByResourceTypes.ResourceTypes", []),
        ["config_recorder_excludes_logs_destination"],
        "excludes AWS::Logs::Destination",
    ),
    fail(
        "recorder-all-supported-true",
        set_prop("Recorder", "RecordingGroup.AllSupported", True),
        ["config_recorder_excludes_logs_destination"],
        "AllSupported false",
    ),
    fail(
        "recorder-role-deprecated-policy",
        set_prop("RecorderRole", MANAGED_POLICY_ARNS, [DEPRECATED_CONFIG_ROLE_JOIN]),
        ["config_recorder_role_has_aws_config_role", "config_recorder_role_not_deprecated_policy"],
        "deprecated managed policy AWSConfigRole",
    ),
    fail(
        "recorder-role-also-deprecated-policy-literal",
        set_prop(
            "RecorderRole",
            MANAGED_POLICY_ARNS,
            [CONFIG_ROLE_JOIN, "arn:aws:iam::aws:policy/service-role/AWSConfigRole"],
        ),
        ["config_recorder_role_not_deprecated_policy"],
        "deprecated managed policy AWSConfigRole",
    ),
    fail(
        "recorder-role-also-deprecated-policy-sub",
        set_prop(
            "RecorderRole",
            MANAGED_POLICY_ARNS,
            [
                CONFIG_ROLE_JOIN,
                {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/AWSConfigRole"},
            ],
        ),
        ["config_recorder_role_not_deprecated_policy"],
        "deprecated managed policy AWSConfigRole",
    ),
    fail(
        "recorder-role-without-managed-policies",
        drop_prop("RecorderRole", MANAGED_POLICY_ARNS),
        ["config_recorder_role_has_aws_config_role"],
        "service-role/AWS_ConfigRole in ManagedPolicyArns",
    ),
    fail(
        "recorder-role-other-managed-policy",
        set_prop("RecorderRole", MANAGED_POLICY_ARNS, ["arn:aws:iam::aws:policy/ReadOnlyAccess"]),
        ["config_recorder_role_has_aws_config_role"],
        "service-role/AWS_ConfigRole in ManagedPolicyArns",
    ),
    fail(
        "recorder-role-outside-template",
        set_prop("Recorder", "RoleARN", "arn:aws:iam::123456789012:role/config"),
        ["config_recorder_role_has_aws_config_role"],
        "Fn::GetAtt [<role>, Arn] of a role in this template",
    ),
    fail(
        "recorder-role-is-a-queue",
        set_prop("Recorder", "RoleARN", {"Fn::GetAtt": ["FailuresDlq", "Arn"]}),
        ["config_recorder_role_has_aws_config_role"],
        "must point at an AWS::IAM::Role",
    ),
    *[
        accept(f"config-role-arn-{name}", set_prop("RecorderRole", MANAGED_POLICY_ARNS, [arn]))
        for name, arn in (
            ("literal", "arn:aws:iam::aws:policy/service-role/AWS_ConfigRole"),
            ("govcloud-literal", "arn:aws-us-gov:iam::aws:policy/service-role/AWS_ConfigRole"),
            (
                "sub",
                {"Fn::Sub": "arn:${AWS::Partition}:iam::aws:policy/service-role/AWS_ConfigRole"},
            ),
        )
    ],
    fail(
        "rule-custom-lambda",
        set_prop("Ec2Imdsv2Rule", "Source.Owner", "CUSTOM_LAMBDA"),
        ["config_rules_aws_managed_allowed"],
        "Source.Owner AWS",
    ),
    fail(
        "extra-rule-outside-contract",
        add_resource(
            "VersioningRule",
            {
                "Type": "AWS::Config::ConfigRule",
                "Properties": {
                    "Source": {"Owner": "AWS", "SourceIdentifier": "S3_BUCKET_VERSIONING_ENABLED"}
                },
            },
        ),
        ["config_rules_aws_managed_allowed"],
        "no other SourceIdentifier",
    ),
    fail(
        "rule-periodic",
        set_prop("S3SseRule", "MaximumExecutionFrequency", "TwentyFour_Hours"),
        ["config_rules_no_maximum_execution_frequency"],
        "MaximumExecutionFrequency must not be set",
    ),
    fail(
        "no-config-rules",
        both(
            drop_resource("S3SseRule"),
            drop_resource("RdsEncryptedRule"),
            drop_resource("Ec2Imdsv2Rule"),
        ),
        ["config_rules_cover_contract"],
        "S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED",
    ),
    fail(
        "rule-missing",
        drop_resource("Ec2Imdsv2Rule"),
        ["config_rules_cover_contract"],
        "EC2_IMDSV2_CHECK",
    ),
]

IAM = [
    fail(
        "managed-policy-service-wildcard",
        set_prop("GeneratorPolicy", "PolicyDocument.Statement.0.Action", "s3:*"),
        ["iam_no_wildcard_actions"],
        '"<service>:*"',
    ),
    fail(
        "policy-service-wildcard-in-list",
        set_prop(
            "GeneratorQueuePolicy",
            "PolicyDocument.Statement.0.Action",
            ["sqs:ReceiveMessage", "sqs:*"],
        ),
        ["iam_no_wildcard_actions"],
        '"<service>:*"',
    ),
    fail(
        "inline-policy-star",
        add_inline_statement(
            {"Effect": "Allow", "Action": "*", "Resource": {"Fn::GetAtt": ["Requests", "Arn"]}}
        ),
        ["iam_no_wildcard_actions"],
        "no inline IAM policy statement",
    ),
    fail(
        "deny-star",
        add_statement(
            "GeneratorPolicy",
            {"Effect": "Deny", "Action": "*", "Resource": {"Fn::GetAtt": ["Requests", "Arn"]}},
        ),
        ["iam_no_wildcard_actions"],
        '"*"',
    ),
    fail(
        "allow-not-action",
        add_statement(
            "GeneratorPolicy",
            {
                "Effect": "Allow",
                "NotAction": "iam:*",
                "Resource": {"Fn::GetAtt": ["Requests", "Arn"]},
            },
        ),
        ["iam_no_wildcard_actions"],
        "NotAction",
    ),
    fail(
        "allow-get-object-on-star",
        add_statement(
            "GeneratorPolicy", {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}
        ),
        ["iam_wildcard_resource_only_config_status"],
        'Allow on Resource "*"',
    ),
    fail(
        "config-status-plus-another-action-on-star",
        set_prop(
            "GeneratorPolicy",
            "PolicyDocument.Statement.1.Action",
            [
                "config:DescribeConfigurationRecorderStatus",
                "config:DescribeDeliveryChannelStatus",
                "config:DescribeConfigRules",
            ],
        ),
        ["iam_wildcard_resource_only_config_status"],
        'Allow on Resource "*"',
    ),
    fail(
        "inline-star-among-resources",
        add_inline_statement(
            {
                "Effect": "Allow",
                "Action": "sqs:SendMessage",
                "Resource": [{"Fn::GetAtt": ["FailuresDlq", "Arn"]}, "*"],
            }
        ),
        ["iam_wildcard_resource_only_config_status"],
        'Allow on Resource "*"',
    ),
    fail(
        "standalone-policy-star-resource",
        set_prop("GeneratorQueuePolicy", "PolicyDocument.Statement.1.Resource", "*"),
        ["iam_wildcard_resource_only_config_status"],
        'Allow on Resource "*"',
    ),
    fail(
        "allow-not-resource",
        add_statement(
            "GeneratorPolicy",
            {"Effect": "Allow", "Action": "s3:GetObject", "NotResource": "arn:aws:s3:::secret/*"},
        ),
        ["iam_wildcard_resource_only_config_status"],
        "NotResource",
    ),
    accept(
        "resource-names-read-on-star",
        add_statement(
            "GeneratorPolicy",
            {"Effect": "Allow", "Action": "config:BatchGetResourceConfig", "Resource": "*"},
        ),
    ),
    fail(
        "resource-history-read-on-star",
        add_statement(
            "GeneratorPolicy",
            {"Effect": "Allow", "Action": "config:GetResourceConfigHistory", "Resource": "*"},
        ),
        ["iam_wildcard_resource_only_config_status"],
        'Allow on Resource "*"',
    ),
    accept(
        "deny-not-action",
        add_statement(
            "GeneratorPolicy",
            {
                "Effect": "Deny",
                "NotAction": "s3:GetObject",
                "Resource": {"Fn::GetAtt": ["Reports", "Arn"]},
            },
        ),
    ),
    accept(
        "deny-on-star",
        add_statement(
            "GeneratorPolicy", {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "*"}
        ),
    ),
    accept(
        "statement-as-single-object",
        lambda t: props(t, "GeneratorQueuePolicy")["PolicyDocument"].update(
            Statement=props(t, "GeneratorQueuePolicy")["PolicyDocument"]["Statement"][0]
        ),
    ),
    # The contract bans "*" and "<service>:*"; narrower patterns are a review matter, not a violation.
    accept(
        "action-prefix-pattern",
        set_prop("GeneratorPolicy", "PolicyDocument.Statement.0.Action", "s3:Get*"),
    ),
]

CASES = [*S3, *LAMBDA, *MESSAGING, *TAGS, *RETENTION, *CONFIG, *IAM]


def test_case_ids_are_unique():
    ids = [case.id for case in CASES]
    assert len(ids) == len(set(ids)), sorted({i for i in ids if ids.count(i) > 1})


def test_every_rule_has_a_failing_case(declared_rules):
    covered = set().union(*(case.fails for case in CASES))
    assert covered == set(declared_rules), (
        f"rules with no failing case: {sorted(set(declared_rules) - covered)}"
    )


# One cfn-guard process per case: cfn-guard's time grows with the number of templates, so one
# process for all is no faster, and separate cases let pytest-xdist spread them over workers.
@pytest.mark.parametrize("case", [c for c in CASES if c.fails], ids=lambda c: c.id)
def test_change_fails_exactly_the_intended_rules(case, compliant, run_policies):
    case.change(compliant)

    report = run_policies(compliant)

    assert report.failed == case.fails, report.explain()
    silent = sorted(rule for rule in case.fails if not report.messages[rule])
    assert not silent, f"rules failed without saying why: {silent}"
    said = set().union(*(report.messages[rule] for rule in case.fails))
    assert any(case.message in m for m in said), (
        f"no message contains {case.message!r}: {sorted(said)}"
    )


@pytest.mark.parametrize("case", [c for c in CASES if not c.fails], ids=lambda c: c.id)
def test_accepted_variant_passes(case, compliant, run_policies):
    case.change(compliant)

    report = run_policies(compliant)

    assert report.failed == set(), report.explain()


def test_rules_skip_when_their_resources_are_absent(compliant, run_policies):
    # GIVEN an existing account recorder (useExistingConfigRecorder) and no e-mail subscription
    for logical_id in ("Recorder", "RecorderRole", "AlertsEmail"):
        del compliant["Resources"][logical_id]

    report = run_policies(compliant)

    assert report.failed == set(), report.explain()
    assert report.skipped == {
        "config_recorder_excludes_logs_destination",
        "config_recorder_role_has_aws_config_role",
        "config_recorder_role_not_deprecated_policy",
        "sns_subscription_redrive_policy",
    }
