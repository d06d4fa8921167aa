"""Real-time alerts: a change to NON_COMPLIANT reaches an SQS queue subscribed to the topic."""

from __future__ import annotations

import json

from tools.local_aws import estate

S3, EC2 = "s3-encryption-dev", "ec2-imdsv2-dev"


def drain(sqs, url):
    messages = []
    while True:
        got = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get(
            "Messages", []
        )
        if not got:
            return messages
        for m in got:
            messages.append(json.loads(m["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=m["ReceiptHandle"])


def test_alert_published_once_per_change_to_non_compliant(aws, clients, rules):
    topic = clients.sns.create_topic(Name="compliance-alerts")["TopicArn"]
    queue = estate.subscribe_queue(clients.sns, clients.sqs, topic, "alert-inbox")
    aws.set_alert_topic(topic, [S3])
    aws.set_clock("2026-07-01T06:00:00Z")

    estate.create_bucket(clients.s3, "leaky-bucket", encrypted=False)
    estate.create_instance(clients.ec2, imdsv2_required=False)  # rule not in ruleNames: no alert
    clients.config.describe_compliance_by_config_rule()
    clients.config.describe_compliance_by_config_rule()  # no change, no second alert

    notes = drain(clients.sqs, queue)
    assert [n["Message"] for n in notes] == [
        "AWS Config: AWS::S3::Bucket leaky-bucket is NON_COMPLIANT with rule s3-encryption-dev "
        "in 123456789012/us-east-1 at 2026-07-01T06:00:00Z."
    ]
    assert "Subject" not in notes[0] or notes[0]["Subject"] in (None, "")

    # remediate, then drift again on another day: a second alert with the new time
    estate.remediate_bucket(clients.s3, "leaky-bucket")
    clients.config.start_config_rules_evaluation(ConfigRuleNames=[S3])
    aws.set_clock("2026-07-03T06:00:00Z")
    estate.drift_bucket(clients.s3, "leaky-bucket")
    clients.config.get_compliance_details_by_config_rule(ConfigRuleName=S3)
    notes = drain(clients.sqs, queue)
    assert len(notes) == 1
    assert notes[0]["Message"].endswith(
        "leaky-bucket is NON_COMPLIANT with rule s3-encryption-dev in 123456789012/us-east-1 "
        "at 2026-07-03T06:00:00Z."
    )
    assert aws.alert_topic()["published"] == 2


def test_no_topic_no_alerts_and_null_clears(aws, clients, rules):
    topic = clients.sns.create_topic(Name="compliance-alerts")["TopicArn"]
    queue = estate.subscribe_queue(clients.sns, clients.sqs, topic, "alert-inbox")
    aws.set_alert_topic(topic)
    aws.set_alert_topic(None)
    estate.create_bucket(clients.s3, "quiet-bucket", encrypted=False)
    clients.config.describe_compliance_by_config_rule()
    assert drain(clients.sqs, queue) == []
