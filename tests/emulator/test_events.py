"""What AWS Config and CloudTrail send to EventBridge, as the emulator delivers it: compliance changes
always, Config's write calls when the account has a trail; moto's EventBridge rules route them."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError

from tools.local_aws import estate
from tools.local_aws.client import LocalAwsError

S3, EC2 = "s3-encryption-dev", "ec2-imdsv2-dev"
COMPLIANCE = {"source": ["aws.config"], "detail-type": ["Config Rules Compliance Change"]}
API_CALLS = {"source": ["aws.config"], "detail-type": ["AWS API Call via CloudTrail"]}


def drain(sqs, url):
    events = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not got:
            return events
        for m in got:
            events.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


@pytest.fixture
def changes(clients):
    return estate.route_to_queue(clients.events, clients.sqs, "changes", COMPLIANCE, "changes")


@pytest.fixture
def calls(clients):
    return estate.route_to_queue(clients.events, clients.sqs, "calls", API_CALLS, "calls")


def test_each_compliance_change_is_one_event_in_aws_configs_documented_shape(
    aws, clients, rules, changes
):
    aws.set_clock("2026-07-01T06:00:00Z")
    estate.create_bucket(clients.s3, "leaky-bucket", encrypted=False)
    clients.config.describe_compliance_by_config_rule(ConfigRuleNames=[S3])
    clients.config.describe_compliance_by_config_rule(ConfigRuleNames=[S3])  # no change: no event

    by_resource = {e["detail"]["resourceId"]: e for e in drain(clients.sqs, changes)}
    event = by_resource["leaky-bucket"]
    assert event["source"] == "aws.config"
    assert event["detail-type"] == "Config Rules Compliance Change"
    assert event["account"] == "123456789012" and event["region"] == "us-east-1"
    assert event["time"] == "2026-07-01T06:00:00Z"
    detail = event["detail"]
    assert detail["messageType"] == "ComplianceChangeNotification"
    assert detail["configRuleName"] == S3 and detail["resourceType"] == "AWS::S3::Bucket"
    assert detail["configRuleARN"].startswith("arn:aws:config:us-east-1:123456789012:config-rule/")
    new = detail["newEvaluationResult"]
    assert new["complianceType"] == "NON_COMPLIANT"
    assert new["resultRecordedTime"] == "2026-07-01T06:00:00Z"
    assert new["evaluationResultIdentifier"]["evaluationResultQualifier"] == {
        "configRuleName": S3,
        "resourceType": "AWS::S3::Bucket",
        "resourceId": "leaky-bucket",
    }
    assert "oldEvaluationResult" not in detail  # its first result
    # the delivery bucket of the fixture's recorder is encrypted: a COMPLIANT first result
    assert (
        by_resource["config-delivery-bucket"]["detail"]["newEvaluationResult"]["complianceType"]
        == "COMPLIANT"
    )

    aws.set_clock("2026-07-02T06:00:00Z")
    estate.remediate_bucket(clients.s3, "leaky-bucket")
    clients.config.start_config_rules_evaluation(ConfigRuleNames=[S3])

    (fixed,) = drain(clients.sqs, changes)
    assert fixed["detail"]["newEvaluationResult"]["complianceType"] == "COMPLIANT"
    old = fixed["detail"]["oldEvaluationResult"]
    assert old["complianceType"] == "NON_COMPLIANT"
    assert old["resultRecordedTime"] == "2026-07-01T06:00:00Z"
    assert aws.events()["delivered"]["Config Rules Compliance Change"] == 3


def test_a_pattern_on_the_new_result_routes_only_what_it_names(aws, clients, rules):
    pattern = {
        **COMPLIANCE,
        "detail": {"newEvaluationResult": {"complianceType": ["NON_COMPLIANT"]}},
    }
    url = estate.route_to_queue(clients.events, clients.sqs, "bad", pattern, "bad-only")
    estate.create_bucket(clients.s3, "leaky-bucket", encrypted=False)
    estate.create_instance(clients.ec2, imdsv2_required=True)
    clients.config.describe_compliance_by_config_rule()

    assert [e["detail"]["resourceId"] for e in drain(clients.sqs, url)] == ["leaky-bucket"]


def test_without_a_trail_config_calls_reach_eventbridge_not_at_all(aws, clients, rules, calls):
    clients.config.stop_configuration_recorder(ConfigurationRecorderName="default")

    assert drain(clients.sqs, calls) == []
    assert aws.events()["trail"] == {"managementEvents": False}


def test_with_a_trail_each_config_write_call_is_a_cloudtrail_event_with_its_caller(
    aws, clients, rules, calls
):
    aws.set_trail(True)
    aws.set_clock("2026-07-05T06:00:00Z")
    clients.config.stop_configuration_recorder(ConfigurationRecorderName="default")
    clients.config.describe_configuration_recorders()  # read-only: not sent
    clients.config.delete_config_rule(ConfigRuleName=EC2)  # served by moto itself
    with pytest.raises(ClientError):
        clients.config.stop_configuration_recorder(ConfigurationRecorderName="nope")

    stop, delete, failed = drain(clients.sqs, calls)
    assert stop["detail-type"] == "AWS API Call via CloudTrail" and stop["source"] == "aws.config"
    detail = stop["detail"]
    assert detail["eventSource"] == "config.amazonaws.com"
    assert detail["eventName"] == "StopConfigurationRecorder"
    assert detail["requestParameters"] == {"configurationRecorderName": "default"}
    assert detail["eventTime"] == "2026-07-05T06:00:00Z"
    assert detail["userIdentity"]["arn"] == "arn:aws:iam::123456789012:user/local-aws-admin"
    assert detail["readOnly"] is False and "errorCode" not in detail
    assert delete["detail"]["eventName"] == "DeleteConfigRule"
    assert delete["detail"]["requestParameters"] == {"configRuleName": EC2}
    assert failed["detail"]["errorCode"] == "NoSuchConfigurationRecorderException"
    assert aws.events()["delivered"]["AWS API Call via CloudTrail"] == 3


def test_a_reset_removes_the_trail(aws):
    aws.set_trail(True)
    aws.reset()
    assert aws.events() == {
        "trail": {"managementEvents": False},
        "delivered": {},
        "failed": 0,
        "lastError": None,
    }


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ({}, "managementEvents: required, and the only field: true or false"),
        ({"managementEvents": "yes"}, "managementEvents: must be true or false"),
        ({"managementEvents": True, "region": "x"}, "managementEvents: required, and the only"),
    ],
)
def test_the_trail_switch_refuses_bad_input_in_one_line(aws, body, message):
    with pytest.raises(LocalAwsError) as refused:
        aws.call("POST", "events/trail", body)
    assert refused.value.status == 400 and message in str(refused.value)


def test_resource_names_come_from_the_recorded_configuration_items(aws, clients, rules):
    instance = estate.create_instance(clients.ec2, name="bastion")
    unnamed = estate.create_instance(clients.ec2)
    dbi = estate.create_db_instance(clients.rds, "core-banking")
    estate.create_bucket(clients.s3, "ledger")
    gone = estate.create_instance(clients.ec2, name="gone")
    clients.config.describe_compliance_by_config_rule()  # records
    estate.terminate_instance(clients.ec2, gone)

    answer = clients.config.batch_get_resource_config(
        resourceKeys=[
            {"resourceType": "AWS::EC2::Instance", "resourceId": instance},
            {"resourceType": "AWS::EC2::Instance", "resourceId": unnamed},
            {"resourceType": "AWS::RDS::DBInstance", "resourceId": dbi},
            {"resourceType": "AWS::S3::Bucket", "resourceId": "ledger"},
            {"resourceType": "AWS::EC2::Instance", "resourceId": gone},
        ]
    )

    items = {i["resourceId"]: i for i in answer["baseConfigurationItems"]}
    assert set(items) == {instance, unnamed, dbi, "ledger"}  # no result for a deleted resource
    assert json.loads(items[instance]["configuration"])["tags"] == [
        {"key": "Name", "value": "bastion"}
    ]
    assert "resourceName" not in items[instance]
    assert json.loads(items[unnamed]["configuration"])["tags"] == []
    assert items[dbi]["resourceName"] == "core-banking" and dbi.startswith("db-")
    assert items["ledger"]["resourceName"] == "ledger"
    assert "unprocessedResourceKeys" not in answer


def test_batch_get_resource_config_takes_1_to_100_keys(clients, rules):
    keys = [{"resourceType": "AWS::S3::Bucket", "resourceId": f"b{i}"} for i in range(101)]
    with pytest.raises(ClientError) as refused:
        clients.config.batch_get_resource_config(resourceKeys=keys)
    assert refused.value.response["Error"]["Code"] == "ValidationException"
