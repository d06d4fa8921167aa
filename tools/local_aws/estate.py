"""Seed and change an emulated AWS estate with ordinary boto3 calls (tests, benchmarks, the demo).

Every function takes the boto3 client it needs, so the same code works against any endpoint.
``clients()`` builds a set for an emulator endpoint with dummy credentials.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import boto3
from botocore.config import Config

ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
S3_RULE = "S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED"
RDS_RULE = "RDS_STORAGE_ENCRYPTED"
EC2_RULE = "EC2_IMDSV2_CHECK"
# moto's RunInstances accepts any well-formed image id, so no AMI catalogue has to be loaded.
IMAGE_ID = "ami-0abcdef1234567890"
RESOURCE_TYPES = {
    S3_RULE: "AWS::S3::Bucket",
    RDS_RULE: "AWS::RDS::DBInstance",
    EC2_RULE: "AWS::EC2::Instance",
}


@dataclass
class EstateClients:
    """boto3 clients for the services an estate is seeded through."""

    s3: Any
    rds: Any
    ec2: Any
    config: Any
    sns: Any
    sqs: Any
    ssm: Any
    events: Any = None


def clients(
    endpoint_url: str, region: str = REGION, max_attempts: int = 3, access_key: str = "testing"
) -> EstateClients:
    """boto3 clients for the emulator: standard retry mode, at most ``max_attempts`` calls, signed
    with ``access_key`` (the default account's administrator; ``accounts.admin_key(account)`` is
    another account's)."""
    session = boto3.session.Session(
        aws_access_key_id=access_key,
        aws_secret_access_key="testing",  # noqa: S106 (dummy credentials for the emulator)
        region_name=region,
    )
    cfg = Config(retries={"mode": "standard", "total_max_attempts": max_attempts})

    def make(service: str) -> Any:
        return session.client(service, endpoint_url=endpoint_url, config=cfg)

    return EstateClients(
        make("s3"),
        make("rds"),
        make("ec2"),
        make("config"),
        make("sns"),
        make("sqs"),
        make("ssm"),
        make("events"),
    )


# -- S3 --------------------------------------------------------------------------------------------
def create_bucket(s3: Any, name: str, encrypted: bool = True) -> str:
    """A bucket with SSE-S3 default encryption, or without when ``encrypted`` is false, in the
    client's region (outside us-east-1 CreateBucket names it as LocationConstraint, Amazon S3 API
    Reference)."""
    region = s3.meta.region_name
    if region and region != "us-east-1":
        s3.create_bucket(Bucket=name, CreateBucketConfiguration={"LocationConstraint": region})
    else:
        s3.create_bucket(Bucket=name)
    if encrypted:
        remediate_bucket(s3, name)
    return name


def drift_bucket(s3: Any, name: str) -> None:
    """Remove the bucket's default encryption configuration."""
    s3.delete_bucket_encryption(Bucket=name)


def remediate_bucket(s3: Any, name: str, kms_key_id: str | None = None) -> None:
    """Put SSE-S3 default encryption back (SSE-KMS when a key is given)."""
    rule: dict[str, Any] = {"SSEAlgorithm": "AES256"}
    if kms_key_id:
        rule = {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": kms_key_id}
    s3.put_bucket_encryption(
        Bucket=name,
        ServerSideEncryptionConfiguration={"Rules": [{"ApplyServerSideEncryptionByDefault": rule}]},
    )


# -- RDS -------------------------------------------------------------------------------------------
def create_db_instance(rds: Any, identifier: str, encrypted: bool = True) -> str:
    """A small PostgreSQL instance; returns its DbiResourceId (AWS Config's id for it)."""
    response = rds.create_db_instance(
        DBInstanceIdentifier=identifier,
        DBInstanceClass="db.t3.micro",
        Engine="postgres",
        MasterUsername="auditor",
        MasterUserPassword="not-a-real-password-1",  # noqa: S106 (emulated database)
        AllocatedStorage=20,
        StorageEncrypted=encrypted,
    )
    return response["DBInstance"]["DbiResourceId"]


def _replace_db_instance(rds: Any, identifier: str, encrypted: bool) -> str:
    rds.delete_db_instance(DBInstanceIdentifier=identifier, SkipFinalSnapshot=True)
    return create_db_instance(rds, identifier, encrypted=encrypted)


def drift_db_instance(rds: Any, identifier: str) -> str:
    """Replace the instance by an unencrypted one of the same name, as a restore from an
    unencrypted snapshot would (encryption cannot be switched off in place).

    Returns the new DbiResourceId."""
    return _replace_db_instance(rds, identifier, encrypted=False)


def remediate_db_instance(rds: Any, identifier: str) -> str:
    """Replace the instance by an encrypted one of the same name, standing in for AWS's
    snapshot -> encrypted copy -> restore procedure. Returns the new DbiResourceId."""
    return _replace_db_instance(rds, identifier, encrypted=True)


def db_instance_resource_id(rds: Any, identifier: str) -> str:
    return rds.describe_db_instances(DBInstanceIdentifier=identifier)["DBInstances"][0][
        "DbiResourceId"
    ]


# -- EC2 -------------------------------------------------------------------------------------------
def create_instance(
    ec2: Any, imdsv2_required: bool = True, image_id: str = IMAGE_ID, name: str | None = None
) -> str:
    """One running instance, with a Name tag when ``name`` is given; returns its instance id."""
    extra: dict[str, Any] = {}
    if name:
        extra["TagSpecifications"] = [
            {"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": name}]}
        ]
    response = ec2.run_instances(
        ImageId=image_id,
        InstanceType="t3.micro",
        MinCount=1,
        MaxCount=1,
        MetadataOptions={
            "HttpTokens": "required" if imdsv2_required else "optional",
            "HttpEndpoint": "enabled",
        },
        **extra,
    )
    return response["Instances"][0]["InstanceId"]


def drift_instance(ec2: Any, instance_id: str) -> None:
    """Allow IMDSv1 again (HttpTokens optional)."""
    ec2.modify_instance_metadata_options(InstanceId=instance_id, HttpTokens="optional")


def remediate_instance(ec2: Any, instance_id: str) -> None:
    """Require IMDSv2 (HttpTokens required)."""
    ec2.modify_instance_metadata_options(InstanceId=instance_id, HttpTokens="required")


def terminate_instance(ec2: Any, instance_id: str) -> None:
    ec2.terminate_instances(InstanceIds=[instance_id])


# -- AWS Config ------------------------------------------------------------------------------------
def put_managed_rules(config: Any, s3_rule: str, rds_rule: str, ec2_rule: str) -> dict[str, str]:
    """The three AWS managed rules under the given names; returns {rule name: SourceIdentifier}."""
    wanted = {s3_rule: S3_RULE, rds_rule: RDS_RULE, ec2_rule: EC2_RULE}
    for name, identifier in wanted.items():
        config.put_config_rule(
            ConfigRule={
                "ConfigRuleName": name,
                "Source": {"Owner": "AWS", "SourceIdentifier": identifier},
                "Scope": {"ComplianceResourceTypes": [RESOURCE_TYPES[identifier]]},
            }
        )
    return wanted


def start_recording(
    config: Any,
    bucket: str,
    recorder: str = "default",
    channel: str = "default",
    sns_topic_arn: str | None = None,
    role_arn: str = f"arn:aws:iam::{ACCOUNT_ID}:role/aws-config-recorder",
) -> None:
    """Put a recorder (all supported types) and a delivery channel to ``bucket``; start it."""
    config.put_configuration_recorder(
        ConfigurationRecorder={
            "name": recorder,
            "roleARN": role_arn,
            "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": False},
        }
    )
    channel_spec: dict[str, Any] = {
        "name": channel,
        "s3BucketName": bucket,
        "configSnapshotDeliveryProperties": {"deliveryFrequency": "TwentyFour_Hours"},
    }
    if sns_topic_arn:
        channel_spec["snsTopicARN"] = sns_topic_arn
    config.put_delivery_channel(DeliveryChannel=channel_spec)
    config.start_configuration_recorder(ConfigurationRecorderName=recorder)


def stop_recording(config: Any, recorder: str = "default") -> None:
    config.stop_configuration_recorder(ConfigurationRecorderName=recorder)


def resume_recording(config: Any, recorder: str = "default") -> None:
    config.start_configuration_recorder(ConfigurationRecorderName=recorder)


def route_to_queue(
    events: Any, sqs: Any, rule_name: str, pattern: dict[str, Any], queue_name: str
) -> str:
    """An EventBridge rule on the default bus sending the events ``pattern`` matches to a new SQS
    queue ``queue_name``; returns the queue URL."""
    url = sqs.create_queue(QueueName=queue_name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    events.put_rule(Name=rule_name, EventPattern=json.dumps(pattern))
    events.put_targets(Rule=rule_name, Targets=[{"Id": "queue", "Arn": arn}])
    return url


def subscribe_queue(sns: Any, sqs: Any, topic_arn: str, queue_name: str) -> str:
    """An SQS queue subscribed (raw delivery off) to ``topic_arn``; returns the queue URL."""
    url = sqs.create_queue(QueueName=queue_name)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    sns.subscribe(TopicArn=topic_arn, Protocol="sqs", Endpoint=arn)
    return url
