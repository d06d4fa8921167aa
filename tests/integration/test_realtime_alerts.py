"""GIVEN the stack's event rules, queues and policies in the emulator (IAM enforced) WHEN AWS Config's
compliance changes and CloudTrail's Config calls flow through EventBridge to the alert formatter's
queues, and the real handler runs as its role on what the event source mappings would deliver THEN
the team's inbox gets the e-mails: one per change with the resource's name, one digest for a burst,
a CRITICAL alert for monitoring switched off, and nothing the role is not allowed to do."""

import json
from datetime import datetime, timezone

import boto3
import pytest
from botocore.config import Config

from lib.alert_formatter import local_harness as harness
from tools.local_aws import estate as seeding

SUFFIX = "test"


@pytest.fixture(scope="module")
def formatter():
    return harness.load_handler("alert_formatter_integration")


@pytest.fixture
def alerts(estate, emulator, deployment, formatter):
    """Runs the formatter's event source mappings once over what is queued, as its role; returns
    the SNS envelopes that reached the inbox."""
    emulator.set_trail(True)
    sqs = estate.as_role("sqs", "alertFormatter")
    env = deployment.formatter_environment(emulator.endpoint_url)

    def context():
        return harness.LambdaContext(harness.function_name(SUFFIX))

    def run(queue: str, expect_failed: int = 0):
        url = estate.sqs.get_queue_url(QueueName=queue)["QueueUrl"]
        with harness.environment(env):
            delivery = harness.deliver(sqs, url, formatter, context)
        assert delivery is not None, f"nothing was queued on {queue}"
        assert len(delivery.failed) == expect_failed, delivery.result
        return delivery

    run.changes = lambda **kw: run(deployment.changes_queue, **kw)
    run.monitoring = lambda **kw: run(deployment.monitoring_queue, **kw)
    run.inbox = estate.alerts
    return run


def evaluate(estate):
    estate.daily_evaluation()
    estate.config.describe_compliance_by_config_rule(ConfigRuleNames=estate.deployment.rule_names)


def test_a_non_compliant_instance_reaches_the_inbox_named_and_with_its_fix(estate, alerts):
    estate.emulator.set_clock("2026-07-05T06:00:00Z")
    instance = seeding.create_instance(estate.ec2, imdsv2_required=False, name="bastion")
    evaluate(estate)

    delivery = alerts.changes()

    assert delivery.records == 1 and delivery.bodies[0]["detail"]["resourceId"] == instance
    (note,) = alerts.inbox()
    rule = estate.EC2_RULE.removesuffix(f"-{SUFFIX}")
    assert note["Subject"] == f"[NON_COMPLIANT] {rule} {SUFFIX}: {instance} (bastion)"
    assert f"#/timeline/AWS::EC2::Instance/{instance}?time=2026-07-05T06:00:00Z" in note["Message"]
    assert f"--instance-id {instance} --http-tokens required" in note["Message"]
    assert note["MessageAttributes"]["severity"] == {"Type": "String", "Value": "NON_COMPLIANT"}


def test_rds_is_named_by_its_identifier_through_aws_config(estate, alerts):
    dbi = seeding.create_db_instance(estate.rds, "card-ledger", encrypted=False)
    evaluate(estate)

    alerts.changes()

    (note,) = alerts.inbox()
    assert note["Subject"].endswith(f"{SUFFIX}: {dbi} (card-ledger)")


def test_a_burst_above_the_threshold_is_one_digest(estate, alerts, deployment):
    threshold = int(deployment.formatter_variables["DIGEST_THRESHOLD"])
    names = [f"burst-{i:02d}" for i in range(threshold + 2)]
    for name in names:
        seeding.create_bucket(estate.s3, name, encrypted=False)
    evaluate(estate)

    delivery = alerts.changes()

    assert delivery.records == threshold + 2
    (note,) = alerts.inbox()
    assert note["Subject"].startswith(
        f"[DIGEST] {SUFFIX}: {threshold + 2} compliance changes within 5 min"
    )
    for name in names:
        assert f"AWS::S3::Bucket {name}" in note["Message"]


def test_stopping_the_recorder_is_a_critical_alert_naming_who_did_it(estate, alerts):
    estate.config.stop_configuration_recorder(ConfigurationRecorderName=estate.RECORDER)

    alerts.monitoring()

    (note,) = alerts.inbox()
    assert note["Subject"] == (
        f"[CRITICAL] {SUFFIX}: AWS Config recorder {estate.RECORDER} STOPPED - changes are not "
        "recorded"
    )
    assert "Who          arn:aws:iam::123456789012:user/local-aws-admin" in note["Message"]
    assert note["MessageAttributes"]["problem"]["Value"] == "RECORDER_STOPPED"


def test_a_rule_that_fails_to_evaluate_is_found_by_the_status_check(estate, alerts, deployment):
    estate.emulator.set_clock("2026-07-05T06:10:00Z")
    estate.emulator.set_rule_failure(estate.RDS_RULE, "InternalException", "evaluation broke")
    scheduled = harness.scheduled_event(
        datetime(2026, 7, 5, 6, 15, tzinfo=timezone.utc), deployment.status_check_rule_arn
    )
    url = estate.sqs.get_queue_url(QueueName=deployment.monitoring_queue)["QueueUrl"]
    estate.sqs.send_message(QueueUrl=url, MessageBody=json.dumps(scheduled))  # as EventBridge

    alerts.monitoring()

    (note,) = alerts.inbox()
    assert note["Subject"] == (
        f"[CRITICAL] {SUFFIX}: Config rule {estate.RDS_RULE} FAILS to evaluate (InternalException)"
    )
    assert "Error        InternalException: evaluation broke" in note["Message"]


def test_an_alert_sns_refuses_comes_back_and_goes_out_on_the_next_delivery(estate, alerts):
    seeding.create_bucket(estate.s3, "first-bucket", encrypted=False)
    seeding.create_bucket(estate.s3, "second-bucket", encrypted=False)
    evaluate(estate)
    # every attempt of the first publish (the client's 5, standard retries) fails
    estate.emulator.set_faults(
        [
            {
                "service": "sns",
                "operation": "Publish",
                "error": "InternalError",
                "status": 500,
                "count": 5,
            }
        ]
    )

    first = alerts.changes(expect_failed=1)
    second = alerts.changes()

    assert second.records == 1 and second.bodies[0] in first.bodies
    subjects = sorted(n["Subject"] for n in alerts.inbox())
    assert [s.rsplit(": ", 1)[1] for s in subjects] == ["first-bucket", "second-bucket"]


def test_the_role_is_refused_what_its_policy_does_not_grant(estate, deployment, emulator):
    """Enforcement is real: the formatter's role may publish to the alert topic only."""
    sns = boto3.client(
        "sns",
        endpoint_url=emulator.endpoint_url,
        region_name=deployment.region,
        aws_access_key_id=deployment.access_key("alertFormatter"),
        aws_secret_access_key="emulator",
        config=Config(retries={"mode": "standard", "max_attempts": 1}),
    )
    other = estate.sns.create_topic(Name="not-the-alert-topic")["TopicArn"]
    with pytest.raises(sns.exceptions.AuthorizationErrorException):
        sns.publish(TopicArn=other, Message="x")


test_the_role_is_refused_what_its_policy_does_not_grant = pytest.mark.denials_expected(
    test_the_role_is_refused_what_its_policy_does_not_grant
)
