"""Config monitoring: recorder scope, role, delivery, rules, ordering, and the daily evaluation schedule."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Match, Template

from lib.config_monitoring.infrastructure import (
    DELIVERY_BUCKET_LOGICAL_ID,
    DELIVERY_BUCKET_POLICY_LOGICAL_ID,
    DELIVERY_TOPIC_LOGICAL_ID,
    DELIVERY_TOPIC_POLICY_LOGICAL_ID,
    ConfigMonitoring,
)
from tests.unit.conftest import variant
from tests.unit.synth import make_app

MANAGED = {"S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED", "RDS_STORAGE_ENCRYPTED", "EC2_IMDSV2_CHECK"}


def logical_ids(template, resource_type):
    return list(template.find_resources(resource_type))


def bare(*, use_existing_recorder: bool) -> Template:
    """ConfigMonitoring alone, with the access-log bucket and schedule DLQ the stack would pass it."""
    stack = cdk.Stack(make_app(), "Bare")
    ConfigMonitoring(
        stack,
        "ConfigMonitoring",
        suffix="t1",
        use_existing_recorder=use_existing_recorder,
        access_logs=s3.Bucket(stack, "AccessLogs"),
        schedule_group_name="compliance-t1",
        schedule_dlq=sqs.Queue(stack, "ScheduleDlq"),
    )
    return Template.from_stack(stack)


@pytest.fixture(scope="module")
def own_recorder() -> Template:
    return bare(use_existing_recorder=False)


def test_delivery_bucket_policy_follows_the_config_documentation(own_recorder):
    own_recorder.has_resource_properties(
        "AWS::S3::BucketPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Sid": "AWSConfigBucketPermissionsCheck",
                                "Principal": {"Service": "config.amazonaws.com"},
                                "Action": ["s3:GetBucketAcl", "s3:ListBucket"],
                                "Condition": {
                                    "StringEquals": {"AWS:SourceAccount": {"Ref": "AWS::AccountId"}}
                                },
                            }
                        ),
                        Match.object_like(
                            {
                                "Sid": "AWSConfigBucketDelivery",
                                "Principal": {"Service": "config.amazonaws.com"},
                                "Action": "s3:PutObject",
                                "Condition": {
                                    "StringEquals": {
                                        "AWS:SourceAccount": {"Ref": "AWS::AccountId"},
                                        "s3:x-amz-acl": "bucket-owner-full-control",
                                    }
                                },
                            }
                        ),
                    ]
                )
            }
        },
    )


def test_delivery_bucket_is_kept_seven_years_and_logs_access_to_the_given_bucket(own_recorder):
    buckets = own_recorder.find_resources(
        "AWS::S3::Bucket", {"Properties": {"LoggingConfiguration": Match.any_value()}}
    )
    ((_, bucket),) = buckets.items()
    props = bucket["Properties"]
    assert props["LoggingConfiguration"]["LogFilePrefix"] == "config-bucket/"
    assert props["LoggingConfiguration"]["DestinationBucketName"]["Ref"].startswith("AccessLogs")
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    (rule,) = props["LifecycleConfiguration"]["Rules"]
    assert rule["ExpirationInDays"] == 2557


def test_delivery_topic_takes_config_publishing_from_this_account_only(own_recorder):
    own_recorder.has_resource_properties(
        "AWS::SNS::Topic", {"TopicName": "config-notifications-t1"}
    )
    (policy,) = own_recorder.find_resources("AWS::SNS::TopicPolicy").values()
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    (publish,) = [s for s in statements if s.get("Sid") == "AWSConfigSNSPolicy"]
    assert publish["Principal"] == {"Service": "config.amazonaws.com"}
    assert publish["Action"] == "sns:Publish"
    assert publish["Condition"] == {
        "StringEquals": {"AWS:SourceAccount": {"Ref": "AWS::AccountId"}}
    }
    assert any(
        s["Effect"] == "Deny" and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
        for s in statements
    )


def test_delivery_resources_keep_the_logical_ids_they_had_before_the_move(own_recorder):
    """A changed logical id makes CloudFormation replace the resource on update; for these it would fail
    (fixed names) or strip a bucket's or topic's only policy."""
    resources = own_recorder.to_json()["Resources"]
    kept = {
        DELIVERY_BUCKET_LOGICAL_ID: "AWS::S3::Bucket",
        DELIVERY_BUCKET_POLICY_LOGICAL_ID: "AWS::S3::BucketPolicy",
        DELIVERY_TOPIC_LOGICAL_ID: "AWS::SNS::Topic",
        DELIVERY_TOPIC_POLICY_LOGICAL_ID: "AWS::SNS::TopicPolicy",
    }
    assert {k: resources[k]["Type"] for k in kept if k in resources} == kept
    channel = own_recorder.find_resources("AWS::Config::DeliveryChannel")
    ((_, channel),) = channel.items()
    assert channel["Properties"]["S3BucketName"] == {"Ref": DELIVERY_BUCKET_LOGICAL_ID}
    assert channel["Properties"]["SnsTopicARN"] == {"Ref": DELIVERY_TOPIC_LOGICAL_ID}
    assert {DELIVERY_BUCKET_POLICY_LOGICAL_ID, DELIVERY_TOPIC_POLICY_LOGICAL_ID} <= set(
        channel["DependsOn"]
    )


def test_existing_recorder_gets_no_delivery_bucket_topic_or_role():
    template = bare(use_existing_recorder=True)
    template.resource_count_is("AWS::S3::Bucket", 1)  # the access-log bucket handed in
    template.resource_count_is("AWS::SNS::Topic", 0)
    template.resource_count_is("AWS::SNS::TopicPolicy", 0)
    roles = template.find_resources("AWS::IAM::Role")
    assert [r["Properties"]["RoleName"] for r in roles.values()] == [
        "compliance-daily-evaluation-t1"
    ]


def test_recorder_records_everything_but_cloudwatch_logs(template):
    template.has_resource_properties(
        "AWS::Config::ConfigurationRecorder",
        {
            "Name": "compliance-recorder-dev",
            "RecordingGroup": {
                "AllSupported": False,
                "IncludeGlobalResourceTypes": False,
                "RecordingStrategy": {"UseOnly": "EXCLUSION_BY_RESOURCE_TYPES"},
                "ExclusionByResourceTypes": {"ResourceTypes": ["AWS::Logs::Destination"]},
            },
        },
    )


def test_excluded_types_are_types_aws_config_knows():
    """An unknown type fails the deploy; botocore's Config model lists the valid ones."""
    import botocore.session

    from lib.config_monitoring.infrastructure import EXCLUDED_RESOURCE_TYPES

    model = botocore.session.get_session().get_service_model("config")
    known = set(model.shape_for("ResourceType").enum)
    assert set(EXCLUDED_RESOURCE_TYPES) <= known
    assert {t for t in known if t.startswith("AWS::Logs::")} == set(EXCLUDED_RESOURCE_TYPES)


def test_recorder_role_uses_aws_config_role_and_only_delivery_permissions(template):
    role = template.find_resources(
        "AWS::IAM::Role", {"Properties": {"RoleName": "compliance-config-recorder-dev"}}
    )
    (props,) = [r["Properties"] for r in role.values()]
    (arn,) = props["ManagedPolicyArns"]
    assert arn["Fn::Join"][1][-1] == ":iam::aws:policy/service-role/AWS_ConfigRole"
    policy = template.find_resources(
        "AWS::IAM::ManagedPolicy",
        {"Properties": {"ManagedPolicyName": "compliance-config-recorder-dev-policy"}},
    )
    (doc,) = [p["Properties"]["PolicyDocument"] for p in policy.values()]
    actions = sorted(s["Action"] for s in doc["Statement"])
    assert actions == ["s3:GetBucketAcl", "s3:PutObject", "sns:Publish"]


def test_three_aws_managed_rules_change_triggered_without_frequency(template):
    rules = template.find_resources("AWS::Config::ConfigRule")
    assert {r["Properties"]["Source"]["SourceIdentifier"] for r in rules.values()} == MANAGED
    for rule in rules.values():
        assert rule["Properties"]["Source"]["Owner"] == "AWS"
        assert "MaximumExecutionFrequency" not in rule["Properties"]
        assert rule["Properties"]["ConfigRuleName"].endswith("-dev")


def test_every_rule_depends_on_the_recorder(template):
    (recorder,) = logical_ids(template, "AWS::Config::ConfigurationRecorder")
    for logical_id, rule in template.find_resources("AWS::Config::ConfigRule").items():
        assert recorder in rule.get("DependsOn", []), logical_id


def test_delivery_channel_waits_for_the_recorder_and_every_permission_it_delivers_with(template):
    """Config checks delivery when the channel is created: PutDeliveryChannel answers
    NoAvailableConfigurationRecorderException without a recorder and InsufficientDeliveryPolicyException
    when it cannot write to the bucket. It delivers as the recorder's role (falling back to its service
    principal), so the role's delivery permissions, the bucket policy and the topic policy must all exist
    first."""
    (recorder_id,) = logical_ids(template, "AWS::Config::ConfigurationRecorder")
    (delivery_permissions,) = template.find_resources(
        "AWS::IAM::ManagedPolicy",
        {"Properties": {"ManagedPolicyName": "compliance-config-recorder-dev-policy"}},
    )
    channels = template.find_resources("AWS::Config::DeliveryChannel")
    ((channel_id, channel),) = channels.items()
    depends = set(channel.get("DependsOn", []))
    assert delivery_permissions in depends, (
        "channel must wait for the recorder role's delivery policy"
    )
    assert recorder_id in depends, "channel must wait for the recorder"
    assert depends & set(logical_ids(template, "AWS::S3::BucketPolicy")), "and the bucket policy"
    assert depends & set(logical_ids(template, "AWS::SNS::TopicPolicy")), "and the topic policy"
    recorder = template.to_json()["Resources"][recorder_id]
    assert channel_id not in recorder.get("DependsOn", []), "no cycle"
    assert channel["Properties"]["ConfigSnapshotDeliveryProperties"] == {
        "DeliveryFrequency": "TwentyFour_Hours"
    }


def test_daily_schedule_starts_evaluation_of_exactly_the_three_rules(template):
    template.has_resource_properties(
        "AWS::Scheduler::Schedule",
        {
            "ScheduleExpression": "cron(0 5 * * ? *)",
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "Target": Match.object_like(
                {
                    "Arn": "arn:aws:scheduler:::aws-sdk:config:startConfigRulesEvaluation",
                    "DeadLetterConfig": Match.any_value(),
                }
            ),
        },
    )
    (schedule,) = template.find_resources("AWS::Scheduler::Schedule").values()
    rule_refs = [
        p for p in schedule["Properties"]["Target"]["Input"]["Fn::Join"][1] if isinstance(p, dict)
    ]
    assert len(rule_refs) == 3
    policy = template.find_resources(
        "AWS::IAM::ManagedPolicy",
        {"Properties": {"ManagedPolicyName": "compliance-daily-evaluation-dev-policy"}},
    )
    (doc,) = [p["Properties"]["PolicyDocument"] for p in policy.values()]
    start = next(s for s in doc["Statement"] if s["Action"] == "config:StartConfigRulesEvaluation")
    assert len(start["Resource"]) == 3


def test_existing_recorder_mode_creates_rules_but_no_recorder_or_delivery(templates):
    template = variant(templates, "existing-recorder")
    template.resource_count_is("AWS::Config::ConfigurationRecorder", 0)
    template.resource_count_is("AWS::Config::DeliveryChannel", 0)
    template.resource_count_is("AWS::Config::ConfigRule", 3)
    names = [
        t["Properties"]["TopicName"] for t in template.find_resources("AWS::SNS::Topic").values()
    ]
    assert names == ["compliance-alerts-ct"]
    buckets = template.find_resources("AWS::S3::Bucket").values()
    assert not [b for b in buckets if "compliance-config" in str(b["Properties"]["BucketName"])]
    for rule in template.find_resources("AWS::Config::ConfigRule").values():
        assert "DependsOn" not in rule
