"""What IAM authorizes for an AWS request: its action(s), resource ARN(s) and context keys.

For most services the IAM action is the API operation's name under the service's IAM prefix
(``config:DescribeComplianceByConfigRule``, ``sns:Publish``, ``sqs:SendMessage``). S3 is the
exception; its table below follows the Amazon S3 User Guide, *Required permissions for Amazon S3
API operations* (e.g. HeadObject needs ``s3:GetObject``, ListObjectsV2 ``s3:ListBucket``,
ListObjectVersions ``s3:ListBucketVersions``, a versionId turns GetObject into
``s3:GetObjectVersion``).

The resource is the ARN of what the request touches: the object or bucket, the topic, the queue,
the AWS Config rule. A Config rule's ARN ends in ``config-rule/config-rule-<id>``, the id AWS
Config assigned when the rule was created (AWS Config API Reference, ``ConfigRule.ConfigRuleArn``;
moto assigns one the same way), so it is looked up in the emulator's state by the rule name; a
rule that does not exist gets ``config-rule/<name>``, which no real rule's ARN equals. Whether
IAM sees that ARN or ``*`` is the policy engine's business: an action with no resource type in the
Service Authorization Reference is authorized against ``*`` whatever the request names.

An operation missing from this mapping raises ``Unmapped``: the emulator then refuses the request
(fails closed) with a message naming the operation, rather than guessing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, unquote

from ..calls import AwsCall

# SigV4 signing name -> IAM service prefix, where they differ.
_PREFIX = {"monitoring": "cloudwatch", "email": "ses", "states": "states"}

# AWS STS API Reference, GetCallerIdentity: "No permissions are required to perform this operation."
UNAUTHORIZED_OPERATIONS = {("sts", "GetCallerIdentity")}


class Unmapped(LookupError):
    """An operation the IAM mapping does not cover."""


@dataclass(frozen=True)
class Authorization:
    action: str  # e.g. "s3:GetObject"
    resources: tuple[str, ...]  # ARNs, or ("*",)
    context: dict[str, list[str]] = field(
        default_factory=dict
    )  # service condition keys, lower-case


@dataclass(frozen=True)
class World:
    """What the mapping needs to know about the emulator's state."""

    account: str
    partition: str
    config_rule_arn: Callable[[str, str], str | None]  # (region, rule name) -> ARN or None
    config_rule_names: Callable[[str], list[str]]  # region -> every rule name


def authorizations(call: AwsCall, environ: Mapping[str, Any], world: World) -> list[Authorization]:
    """Every (action, resources, context) IAM checks for this request, in order."""
    prefix = _PREFIX.get(call.service, call.service)
    if call.service == "s3":
        return _s3(call, environ, world)
    mapper = _MAPPERS.get(prefix)
    if mapper is None:
        raise Unmapped(f"{call.key}: no IAM mapping for the {call.service} service")
    return mapper(call, world)


# -- S3 -------------------------------------------------------------------------------------------

# Operation -> (action, on the object (True) or the bucket (False)); versioned variant when a
# versionId is given. Amazon S3 User Guide, "Required permissions for Amazon S3 API operations".
_S3_OBJECT = {
    "GetObject": ("s3:GetObject", "s3:GetObjectVersion"),
    "HeadObject": ("s3:GetObject", "s3:GetObjectVersion"),
    "PutObject": ("s3:PutObject", "s3:PutObject"),
    "CreateMultipartUpload": ("s3:PutObject", "s3:PutObject"),
    "UploadPart": ("s3:PutObject", "s3:PutObject"),
    "CompleteMultipartUpload": ("s3:PutObject", "s3:PutObject"),
    "AbortMultipartUpload": ("s3:AbortMultipartUpload", "s3:AbortMultipartUpload"),
    "ListParts": ("s3:ListMultipartUploadParts", "s3:ListMultipartUploadParts"),
    "CopyObject": ("s3:PutObject", "s3:PutObject"),
    "DeleteObject": ("s3:DeleteObject", "s3:DeleteObjectVersion"),
    "GetObjectTagging": ("s3:GetObjectTagging", "s3:GetObjectVersionTagging"),
    "PutObjectTagging": ("s3:PutObjectTagging", "s3:PutObjectVersionTagging"),
    "GetObjectAcl": ("s3:GetObjectAcl", "s3:GetObjectVersionAcl"),
    "PutObjectAcl": ("s3:PutObjectAcl", "s3:PutObjectVersionAcl"),
    "GetObjectAttributes": ("s3:GetObjectAttributes", "s3:GetObjectVersionAttributes"),
    "GetObjectRetention": ("s3:GetObjectRetention", "s3:GetObjectRetention"),
    "PutObjectRetention": ("s3:PutObjectRetention", "s3:PutObjectRetention"),
    "GetObjectLegalHold": ("s3:GetObjectLegalHold", "s3:GetObjectLegalHold"),
    "PutObjectLegalHold": ("s3:PutObjectLegalHold", "s3:PutObjectLegalHold"),
}
_S3_BUCKET = {
    "ListObjects": "s3:ListBucket",
    "ListObjectsV2": "s3:ListBucket",
    "HeadBucket": "s3:ListBucket",
    "ListObjectVersions": "s3:ListBucketVersions",
    "ListMultipartUploads": "s3:ListBucketMultipartUploads",
    "CreateBucket": "s3:CreateBucket",
    "DeleteBucket": "s3:DeleteBucket",
    "GetBucketLocation": "s3:GetBucketLocation",
    "GetBucketAcl": "s3:GetBucketAcl",
    "PutBucketAcl": "s3:PutBucketAcl",
    "GetBucketPolicy": "s3:GetBucketPolicy",
    "PutBucketPolicy": "s3:PutBucketPolicy",
    "DeleteBucketPolicy": "s3:DeleteBucketPolicy",
    "GetBucketVersioning": "s3:GetBucketVersioning",
    "PutBucketVersioning": "s3:PutBucketVersioning",
    "GetBucketEncryption": "s3:GetEncryptionConfiguration",
    "PutBucketEncryption": "s3:PutEncryptionConfiguration",
    "DeleteBucketEncryption": "s3:PutEncryptionConfiguration",
    "GetBucketLifecycleConfiguration": "s3:GetLifecycleConfiguration",
    "PutBucketLifecycleConfiguration": "s3:PutLifecycleConfiguration",
    "DeleteBucketLifecycleConfiguration": "s3:PutLifecycleConfiguration",
    "GetBucketTagging": "s3:GetBucketTagging",
    "PutBucketTagging": "s3:PutBucketTagging",
    "DeleteBucketTagging": "s3:PutBucketTagging",
    "GetObjectLockConfiguration": "s3:GetBucketObjectLockConfiguration",
    "PutObjectLockConfiguration": "s3:PutBucketObjectLockConfiguration",
    "GetPublicAccessBlock": "s3:GetBucketPublicAccessBlock",
    "PutPublicAccessBlock": "s3:PutBucketPublicAccessBlock",
    "GetBucketNotificationConfiguration": "s3:GetBucketNotification",
    "PutBucketNotificationConfiguration": "s3:PutBucketNotification",
    "GetBucketLogging": "s3:GetBucketLogging",
    "PutBucketLogging": "s3:PutBucketLogging",
    "GetBucketOwnershipControls": "s3:GetBucketOwnershipControls",
    "PutBucketOwnershipControls": "s3:PutBucketOwnershipControls",
}
# Request headers that become S3 condition keys (Service Authorization Reference, Amazon S3,
# condition keys s3:x-amz-acl, s3:x-amz-server-side-encryption, s3:if-none-match, ...).
_S3_HEADER_KEYS = (
    "x-amz-acl",
    "x-amz-server-side-encryption",
    "x-amz-storage-class",
    "x-amz-copy-source",
    "x-amz-metadata-directive",
    "x-amz-content-sha256",
    "if-match",
    "if-none-match",
)


def _s3(call: AwsCall, environ: Mapping[str, Any], world: World) -> list[Authorization]:
    bucket, key = call.params.get("Bucket", ""), call.params.get("Key", "")
    query = parse_qs(environ.get("QUERY_STRING", ""), keep_blank_values=True)
    headers = {
        k[5:].replace("_", "-").lower(): v for k, v in environ.items() if k.startswith("HTTP_")
    }
    context: dict[str, list[str]] = {
        f"s3:{name}": [headers[name]] for name in _S3_HEADER_KEYS if name in headers
    }
    context["s3:resourceaccount"] = [world.account]
    bucket_arn = f"arn:{world.partition}:s3:::{bucket}"
    operation = call.operation
    if operation == "ListBuckets":
        return [Authorization("s3:ListAllMyBuckets", ("*",), context)]
    if operation in _S3_OBJECT and key:
        plain, versioned = _S3_OBJECT[operation]
        version = query.get("versionId", [""])[0]
        if version:
            context["s3:versionid"] = [version]
        out = [Authorization(versioned if version else plain, (f"{bucket_arn}/{key}",), context)]
        # The PutObject API reference says ACL headers also need s3:PutObjectAcl, while AWS's own
        # delivery bucket policies (AWS Config, CloudTrail) grant s3:PutObject alone with an
        # s3:x-amz-acl condition, and deliveries work. The two disagree; the emulator accepts
        # both, so an ACL header asks for s3:PutObject only.
        if operation in ("PutObject", "CopyObject") and "x-amz-tagging" in headers:
            out.append(Authorization("s3:PutObjectTagging", (f"{bucket_arn}/{key}",), context))
        if operation == "CopyObject":
            source = unquote(headers.get("x-amz-copy-source", "")).lstrip("/").split("?", 1)[0]
            out.append(
                Authorization("s3:GetObject", (f"arn:{world.partition}:s3:::{source}",), context)
            )
        return out
    if operation in _S3_BUCKET and bucket:
        for name in ("prefix", "delimiter", "max-keys"):
            if name in query:
                context[f"s3:{name}"] = [query[name][0]]
        return [Authorization(_S3_BUCKET[operation], (bucket_arn,), context)]
    raise Unmapped(f"s3.{operation}: no IAM mapping")


# -- AWS Config -----------------------------------------------------------------------------------


def _config(call: AwsCall, world: World) -> list[Authorization]:
    names: list[str] = []
    if isinstance(call.params.get("ConfigRuleName"), str):
        names = [call.params["ConfigRuleName"]]
    elif isinstance(call.params.get("ConfigRule"), dict):
        names = [str(call.params["ConfigRule"].get("ConfigRuleName", ""))]
    elif isinstance(call.params.get("ConfigRuleNames"), list):
        names = [str(n) for n in call.params["ConfigRuleNames"]]
    if not names and call.operation in ("StartConfigRulesEvaluation",):
        names = world.config_rule_names(call.region)  # "none = every rule" (API Reference)
    resources = tuple(_rule_arn(call.region, name, world) for name in names) or ("*",)
    return [Authorization(f"config:{call.operation}", resources)]


def _rule_arn(region: str, name: str, world: World) -> str:
    arn = world.config_rule_arn(region, name)
    return arn or f"arn:{world.partition}:config:{region}:{world.account}:config-rule/{name}"


# -- SNS, SQS, CloudWatch, CloudWatch Logs, SSM, STS ----------------------------------------------


def _sns(call: AwsCall, world: World) -> list[Authorization]:
    p = call.params
    arn = p.get("TopicArn") or p.get("TargetArn") or p.get("ResourceArn")
    if not arn and call.operation == "CreateTopic" and p.get("Name"):
        arn = f"arn:{world.partition}:sns:{call.region}:{world.account}:{p['Name']}"
    if not arn and p.get("SubscriptionArn"):
        arn = p["SubscriptionArn"].rsplit(":", 1)[0]  # a subscription ARN is <topic ARN>:<id>
    return [Authorization(f"sns:{call.operation}", (arn or "*",))]


def _sqs(call: AwsCall, world: World) -> list[Authorization]:
    p = call.params
    name = ""
    if p.get("QueueUrl"):
        name = str(p["QueueUrl"]).rstrip("/").rsplit("/", 1)[-1]
    elif p.get("QueueName"):
        name = str(p["QueueName"])
    arn = f"arn:{world.partition}:sqs:{call.region}:{world.account}:{name}" if name else "*"
    if p.get("SourceArn"):  # the message move tasks name the dead-letter queue by its ARN
        arn = str(p["SourceArn"])
    return [Authorization(f"sqs:{call.operation}", (arn,))]


def _cloudwatch(call: AwsCall, world: World) -> list[Authorization]:
    p = call.params
    context = {"cloudwatch:namespace": [p["Namespace"]]} if p.get("Namespace") else {}
    names = p.get("AlarmNames") or ([p["AlarmName"]] if p.get("AlarmName") else [])
    if isinstance(names, str):
        names = [names]
    arns = tuple(
        f"arn:{world.partition}:cloudwatch:{call.region}:{world.account}:alarm:{n}" for n in names
    )
    return [Authorization(f"cloudwatch:{call.operation}", arns or ("*",), context)]


def _logs(call: AwsCall, world: World) -> list[Authorization]:
    p = call.params
    group, stream = p.get("logGroupName"), p.get("logStreamName")
    base = f"arn:{world.partition}:logs:{call.region}:{world.account}:log-group:{group}"
    if group and stream:
        arn = f"{base}:log-stream:{stream}"
    elif group:
        arn = base
    else:
        arn = "*"
    return [Authorization(f"logs:{call.operation}", (arn,))]


def _ssm(call: AwsCall, world: World) -> list[Authorization]:
    """Parameter Store: a parameter's ARN is ``parameter/<name without its leading slash>`` (Service
    Authorization Reference, AWS Systems Manager, resource type ``parameter``)."""
    p = call.params
    names = p.get("Names") or ([p["Name"]] if p.get("Name") else [])
    if isinstance(names, str):
        names = [names]
    arns = tuple(
        f"arn:{world.partition}:ssm:{call.region}:{world.account}:parameter/{str(n).lstrip('/')}"
        for n in names
    )
    return [Authorization(f"ssm:{call.operation}", arns or ("*",))]


def _sts(call: AwsCall, world: World) -> list[Authorization]:
    if (call.service, call.operation) in UNAUTHORIZED_OPERATIONS:
        return []
    raise Unmapped(f"{call.key}: no IAM mapping")


_MAPPERS: dict[str, Callable[[AwsCall, World], list[Authorization]]] = {
    "config": _config,
    "sns": _sns,
    "sqs": _sqs,
    "cloudwatch": _cloudwatch,
    "logs": _logs,
    "ssm": _ssm,
    "sts": _sts,
}
