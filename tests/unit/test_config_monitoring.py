"""Config monitoring: recorder scope, role, rules, ordering, and the daily evaluation schedule."""

from __future__ import annotations

from aws_cdk.assertions import Match

from tests.unit.conftest import variant

MANAGED = {"S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED", "RDS_STORAGE_ENCRYPTED", "EC2_IMDSV2_CHECK"}


def logical_ids(template, resource_type):
    return list(template.find_resources(resource_type))


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


def test_delivery_channel_after_its_policies_and_independent_of_the_recorder(template):
    (recorder_id,) = logical_ids(template, "AWS::Config::ConfigurationRecorder")
    channels = template.find_resources("AWS::Config::DeliveryChannel")
    ((channel_id, channel),) = channels.items()
    depends = set(channel.get("DependsOn", []))
    bucket_policies = set(logical_ids(template, "AWS::S3::BucketPolicy"))
    topic_policies = set(logical_ids(template, "AWS::SNS::TopicPolicy"))
    assert depends & bucket_policies, "channel must wait for the Config bucket policy"
    assert depends & topic_policies, "channel must wait for the delivery topic policy"
    assert recorder_id not in depends
    recorder = template.to_json()["Resources"][recorder_id]
    assert channel_id not in recorder.get("DependsOn", [])
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


def test_existing_recorder_mode_creates_rules_but_no_recorder_or_channel(templates):
    template = variant(templates, "existing-recorder")
    template.resource_count_is("AWS::Config::ConfigurationRecorder", 0)
    template.resource_count_is("AWS::Config::DeliveryChannel", 0)
    template.resource_count_is("AWS::Config::ConfigRule", 3)
    for rule in template.find_resources("AWS::Config::ConfigRule").values():
        assert "DependsOn" not in rule
