"""Alerting: AWS Config's events routed to the alert formatter, DLQs on every subscription and target,
alarms to the team."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Match, Template

from lib.alerting.infrastructure import Alerting, alarm_to_team
from tests.unit.conftest import variant
from tests.unit.synth import make_app


def bare(alert_email=None, send_resolved=False) -> Template:
    stack = cdk.Stack(make_app(), "Bare")
    alerting = Alerting(stack, "Alerting", suffix="t1", alert_email=alert_email)
    changes, monitoring = sqs.Queue(stack, "Changes"), sqs.Queue(stack, "Monitoring")
    alerting.route_compliance_changes(
        rule_names=["r1-t1", "r2-t1"], queue=changes, send_resolved=send_resolved
    )
    alerting.route_monitoring_changes(rule_names=["r1-t1", "r2-t1"], queue=monitoring)
    return Template.from_stack(stack)


def rules_by_name(template: Template) -> dict:
    return {
        r["Properties"]["Name"]: r["Properties"]
        for r in template.find_resources("AWS::Events::Rule").values()
    }


def test_every_subscription_has_a_dead_letter_queue(templates):
    template = variant(templates, "email")
    subscriptions = template.find_resources("AWS::SNS::Subscription")
    assert subscriptions, "alertEmail creates a subscription"
    queues = set(template.find_resources("AWS::SQS::Queue"))
    for logical_id, sub in subscriptions.items():
        target = sub["Properties"]["RedrivePolicy"]["deadLetterTargetArn"]
        assert target["Fn::GetAtt"][0] in queues, logical_id


def test_email_subscription_only_when_configured(template):
    template.resource_count_is("AWS::SNS::Subscription", 0)
    bare("sec@example.com").has_resource_properties(
        "AWS::SNS::Subscription", {"Protocol": "email", "Endpoint": "sec@example.com"}
    )


def test_compliance_changes_are_filtered_to_noncompliant_monitored_rules():
    rule = rules_by_name(bare())["config-noncompliant-t1"]
    assert rule["EventPattern"] == {
        "source": ["aws.config"],
        "detail-type": ["Config Rules Compliance Change"],
        "detail": {
            "messageType": ["ComplianceChangeNotification"],
            "configRuleName": ["r1-t1", "r2-t1"],
            "newEvaluationResult": {"complianceType": ["NON_COMPLIANT"]},
        },
    }


def test_with_resolved_changes_on_a_change_out_of_non_compliant_is_routed_too():
    detail = rules_by_name(bare(send_resolved=True))["config-noncompliant-t1"]["EventPattern"][
        "detail"
    ]
    assert detail["$or"] == [
        {"newEvaluationResult": {"complianceType": ["NON_COMPLIANT"]}},
        {"oldEvaluationResult": {"complianceType": ["NON_COMPLIANT"]}},
    ]
    assert "newEvaluationResult" not in detail


def test_monitoring_changes_are_successful_config_calls_that_switch_monitoring_off_or_on():
    rule = rules_by_name(bare())["config-monitoring-changes-t1"]
    assert rule["EventPattern"] == {
        "source": ["aws.config"],
        "detail-type": ["AWS API Call via CloudTrail"],
        "detail": {
            "eventSource": ["config.amazonaws.com"],
            "errorCode": [{"exists": False}],
            "$or": [
                {
                    "eventName": [
                        "StopConfigurationRecorder",
                        "DeleteConfigurationRecorder",
                        "DeleteDeliveryChannel",
                        "StartConfigurationRecorder",
                    ]
                },
                {
                    "eventName": ["DeleteConfigRule"],
                    "requestParameters": {"configRuleName": ["r1-t1", "r2-t1"]},
                },
            ],
        },
    }


def test_events_go_unchanged_to_the_formatter_queues_with_one_shared_target_dlq():
    template = bare()
    queues = {
        k: v for k, v in template.find_resources("AWS::SQS::Queue").items() if "Alerting" not in k
    }
    (dlq,) = [
        k
        for k, v in template.find_resources("AWS::SQS::Queue").items()
        if v.get("Properties", {}).get("QueueName") == "compliance-events-dlq-t1"
    ]
    targets = []
    for rule in rules_by_name(template).values():
        (target,) = rule["Targets"]
        targets.append(target["Arn"]["Fn::GetAtt"][0])
        assert "InputTransformer" not in target and "Input" not in target
        assert target["DeadLetterConfig"]["Arn"] == {"Fn::GetAtt": [dlq, "Arn"]}
        assert target["RetryPolicy"]["MaximumRetryAttempts"] == 10
    assert sorted(targets) == sorted(queues)


def test_topics_deny_plain_http_and_config_may_publish_only_from_this_account(template):
    template.has_resource_properties(
        "AWS::SNS::TopicPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Sid": "AWSConfigSNSPolicy",
                                "Principal": {"Service": "config.amazonaws.com"},
                                "Condition": {
                                    "StringEquals": {"AWS:SourceAccount": {"Ref": "AWS::AccountId"}}
                                },
                            }
                        )
                    ]
                )
            }
        },
    )
    for policy in template.find_resources("AWS::SNS::TopicPolicy").values():
        assert any(
            s["Effect"] == "Deny"
            and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
            for s in policy["Properties"]["PolicyDocument"]["Statement"]
        )


def test_every_dead_letter_queue_has_a_depth_alarm_to_the_team(templates):
    template = variant(templates, "email")
    resources = template.to_json()["Resources"]
    dlqs = {
        k
        for k, r in resources.items()
        if r["Type"] == "AWS::SQS::Queue" and "dlq" in str(r["Properties"]["QueueName"])
    }
    alarmed = set()
    for alarm in template.find_resources("AWS::CloudWatch::Alarm").values():
        props = alarm["Properties"]
        for dim in props.get("Dimensions", []):
            if dim["Name"] == "QueueName":
                alarmed.add(dim["Value"]["Fn::GetAtt"][0])
        assert props["AlarmActions"], "every alarm notifies the team"
    assert dlqs and dlqs == alarmed


def test_queues_are_encrypted_and_tls_only(template):
    for queue in template.find_resources("AWS::SQS::Queue").values():
        assert queue["Properties"]["SqsManagedSseEnabled"] is True
    for policy in template.find_resources("AWS::SQS::QueuePolicy").values():
        assert any(
            s["Effect"] == "Deny"
            and s.get("Condition") == {"Bool": {"aws:SecureTransport": "false"}}
            for s in policy["Properties"]["PolicyDocument"]["Statement"]
        )


def test_cloudwatch_alarms_may_publish_to_the_alert_topic(template):
    """The topic policy replaces SNS's default one, so the alarms' service principal needs a statement."""
    alert_policies = [
        p["Properties"]["PolicyDocument"]["Statement"]
        for p in template.find_resources("AWS::SNS::TopicPolicy").values()
        if any(
            s.get("Sid") == "CloudWatchAlarmsPublish"
            for s in p["Properties"]["PolicyDocument"]["Statement"]
        )
    ]
    assert len(alert_policies) == 1
    (statement,) = [s for s in alert_policies[0] if s.get("Sid") == "CloudWatchAlarmsPublish"]
    assert statement["Principal"] == {"Service": "cloudwatch.amazonaws.com"}
    assert statement["Action"] == "sns:Publish"
    assert statement["Condition"]["StringEquals"] == {
        "aws:SourceAccount": {"Ref": "AWS::AccountId"}
    }
    # and every alarm's action is that topic
    (topic_id,) = [
        k
        for k, r in template.find_resources("AWS::SNS::Topic").items()
        if r["Properties"]["TopicName"] == "compliance-alerts-dev"
    ]
    for alarm in template.find_resources("AWS::CloudWatch::Alarm").values():
        assert alarm["Properties"]["AlarmActions"] == [{"Ref": topic_id}]


def test_alarm_to_team_fires_on_trouble_or_on_a_heartbeat_that_stops():
    stack = cdk.Stack(make_app(), "Bare")
    action = cw_actions.SnsAction(sns.Topic(stack, "Team"))
    metric = cloudwatch.Metric(namespace="N", metric_name="M")
    alarm_to_team(stack, "Trouble", alarm_name="t", description="d", metric=metric, action=action)
    alarm_to_team(
        stack,
        "Heartbeat",
        alarm_name="h",
        description="d",
        metric=metric,
        action=action,
        evaluation_periods=26,
        heartbeat=True,
    )
    alarms = {
        a["Properties"]["AlarmName"]: a["Properties"]
        for a in Template.from_stack(stack).find_resources("AWS::CloudWatch::Alarm").values()
    }
    shape = {
        name: (
            p["ComparisonOperator"],
            p["Threshold"],
            p["EvaluationPeriods"],
            p["TreatMissingData"],
            p["AlarmActions"],
            p.get("InsufficientDataActions"),
        )
        for name, p in alarms.items()
    }
    (topic,) = Template.from_stack(stack).find_resources("AWS::SNS::Topic")
    team = [{"Ref": topic}]
    assert shape == {
        "t": ("GreaterThanOrEqualToThreshold", 1, 1, "notBreaching", team, None),
        # missing, not breaching: a heartbeat that never arrived leaves the alarm in INSUFFICIENT_DATA,
        # where a new alarm starts, so it does not page until it has arrived once and then stopped.
        "h": ("LessThanThreshold", 1, 26, "missing", team, team),
    }
