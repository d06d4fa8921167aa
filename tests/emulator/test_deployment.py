"""GIVEN the synthesized stack WHEN ``deployment.py`` reads it and creates what its deployment would
THEN the names are the template's, each role signs with the key the emulator gives it, and under IAM
enforcement each role can do its job with the resources so created."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

from tools.local_aws.deployment import Deployment, deploy, describe
from tools.local_aws.iam.enforce import role_access_key

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def synthesized():
    from tests.unit.synth import synthesize

    return synthesize()


@pytest.fixture(scope="module")
def deployment(synthesized):
    return describe(synthesized.template_path)


def test_the_names_and_roles_are_the_templates(deployment, synthesized):
    resources = synthesized.template["Resources"]

    def names(kind, prop):
        return {r["Properties"][prop] for r in resources.values() if r["Type"] == kind}

    assert deployment.suffix == "dev"
    assert deployment.report_bucket == "compliance-reports-dev-123456789012"
    assert deployment.request_queue in names("AWS::SQS::Queue", "QueueName")
    assert deployment.request_dlq in names("AWS::SQS::Queue", "QueueName")
    assert set(deployment.rule_names) == names("AWS::Config::ConfigRule", "ConfigRuleName")
    assert deployment.daily_evaluation_input == {"ConfigRuleNames": deployment.rule_names}
    assert set(deployment.roles.values()) == names("AWS::IAM::Role", "RoleName")
    for role in deployment.roles.values():
        assert deployment.access_keys[role] == role_access_key(role)
    env = json.loads(deployment.function_variables["MONITORED_RULES"])
    assert [r["name"] for r in env] == deployment.rule_names
    assert Deployment.from_json(json.loads(json.dumps(deployment.to_json()))) == deployment


def test_each_role_does_its_job_in_the_deployed_world(aws, clients, deployment):
    aws.load_iam(deployment.template)
    try:
        deploy(clients, deployment)

        def as_role(service, role):
            return boto3.client(
                service,
                endpoint_url=aws.endpoint_url,
                region_name=deployment.region,
                aws_access_key_id=deployment.access_key(role),
                aws_secret_access_key="x",
                config=Config(retries={"mode": "standard", "max_attempts": 1}),
            )

        as_role("config", "dailyEvaluation").start_config_rules_evaluation(
            **deployment.daily_evaluation_input
        )
        config = as_role("config", "reportGenerator")
        config.describe_compliance_by_config_rule(ConfigRuleNames=deployment.rule_names)
        config.describe_configuration_recorder_status()
        s3 = as_role("s3", "reportGenerator")
        s3.put_object(
            Bucket=deployment.report_bucket, Key="reports/x.json", Body=b"{}", IfNoneMatch="*"
        )
        as_role("sns", "reportGenerator").publish(
            TopicArn=deployment.alert_topic_arn, Message="report stored"
        )
        sqs = as_role("sqs", "reportGenerator")
        url = clients.sqs.get_queue_url(QueueName=deployment.request_queue)["QueueUrl"]
        sqs.receive_message(QueueUrl=url)
        # the alert formatter: names and status from Config, its two queues, the alert topic
        config = as_role("config", "alertFormatter")
        config.batch_get_resource_config(
            resourceKeys=[{"resourceType": "AWS::S3::Bucket", "resourceId": "x"}]
        )
        config.describe_config_rule_evaluation_status(ConfigRuleNames=deployment.rule_names)
        config.describe_configuration_recorder_status()
        sqs = as_role("sqs", "alertFormatter")
        for name in (deployment.changes_queue, deployment.monitoring_queue):
            url = clients.sqs.get_queue_url(QueueName=name)["QueueUrl"]
            sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])
            sqs.receive_message(QueueUrl=url)
        as_role("sns", "alertFormatter").publish(
            TopicArn=deployment.alert_topic_arn, Message="alert", Subject="[NON_COMPLIANT] x"
        )
        assert aws.iam()["denied"] == 0
        recorder = clients.config.describe_configuration_recorder_status()
        assert recorder["ConfigurationRecordersStatus"][0]["name"] == deployment.recorder["name"]
        assert recorder["ConfigurationRecordersStatus"][0]["recording"] is True
    finally:
        aws.clear_iam()


def test_the_command_reads_a_template_or_says_in_one_line_why_not(synthesized, tmp_path):
    def run(*args):
        return subprocess.run(
            [sys.executable, "-m", "tools.local_aws", "deployment", *args],
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=120,
        )

    read = run("--template", str(synthesized.template_path))
    assert read.returncode == 0, read.stderr
    assert json.loads(read.stdout)["report_bucket"] == "compliance-reports-dev-123456789012"

    missing = run("--template", str(tmp_path / "none.json"))
    assert missing.returncode == 2
    (line,) = missing.stderr.strip().splitlines()
    assert line.startswith("local_aws deployment: ") and "cannot read" in line


def test_config_s_events_reach_the_formatter_queues_through_the_template_s_rules(
    aws, clients, deployment
):
    deploy(clients, deployment)
    aws.set_trail(True)
    clients.s3.create_bucket(Bucket="unencrypted-bucket")
    clients.config.describe_compliance_by_config_rule(ConfigRuleNames=deployment.rule_names)
    clients.config.stop_configuration_recorder(
        ConfigurationRecorderName=deployment.recorder["name"]
    )

    def bodies(name):
        url = clients.sqs.get_queue_url(QueueName=name)["QueueUrl"]
        got = clients.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10)
        return [json.loads(m["Body"]) for m in got.get("Messages", [])]

    changes = bodies(deployment.changes_queue)
    assert [e["detail"]["resourceId"] for e in changes] == ["unencrypted-bucket"]
    assert changes[0]["detail"]["newEvaluationResult"]["complianceType"] == "NON_COMPLIANT"
    (stop,) = bodies(deployment.monitoring_queue)
    assert stop["detail"]["eventName"] == "StopConfigurationRecorder"
    assert deployment.changes_batch == {"BatchSize": 10_000, "MaximumBatchingWindowInSeconds": 300}
    assert deployment.status_check_rule_arn.endswith(":rule/compliance-status-check-dev")
