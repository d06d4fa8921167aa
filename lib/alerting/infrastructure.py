"""Alerting: how non-compliance and platform trouble reach the security team in real time."""

from __future__ import annotations

from typing import Any, Optional, Sequence

from aws_cdk import Aws, Duration
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sns_subscriptions as subs
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from lib.defaults import physical_name, secure_queue

# The AWS Config API calls through CloudTrail that turn monitoring off, or back on (see
# lib/alert_formatter/runtime/realtime_alerts/events.py, which reads them). DeleteConfigRule is matched for
# the stack's own rules only.
RECORDER_AND_CHANNEL_CALLS = (
    "StopConfigurationRecorder",
    "DeleteConfigurationRecorder",
    "DeleteDeliveryChannel",
    "StartConfigurationRecorder",
)


def compliance_change_pattern(rule_names: Sequence[str], send_resolved: bool) -> dict[str, Any]:
    """ "Config Rules Compliance Change" events of ``rule_names`` that became NON_COMPLIANT, and with
    ``send_resolved`` also those that left NON_COMPLIANT: AWS Config sends the event when a result
    changes, so an earlier NON_COMPLIANT means the new one is not ("$or" matching, Amazon EventBridge
    User Guide, "Content filtering in Amazon EventBridge event patterns")."""
    detail: dict[str, Any] = {
        "messageType": ["ComplianceChangeNotification"],
        "configRuleName": list(rule_names),
    }
    non_compliant = {"newEvaluationResult": {"complianceType": ["NON_COMPLIANT"]}}
    if send_resolved:
        detail["$or"] = [
            non_compliant,
            {"oldEvaluationResult": {"complianceType": ["NON_COMPLIANT"]}},
        ]
    else:
        detail.update(non_compliant)
    return {
        "source": ["aws.config"],
        "detail-type": ["Config Rules Compliance Change"],
        "detail": detail,
    }


def monitoring_change_pattern(rule_names: Sequence[str]) -> dict[str, Any]:
    """Successful AWS Config calls, as CloudTrail delivers them to EventBridge ("AWS API Call via
    CloudTrail", source aws.config, eventSource config.amazonaws.com: "AWS Config events", Amazon
    EventBridge Events Reference), that stop, delete or restart the recorder, delete the delivery
    channel, or delete one of ``rule_names``. A call that failed carries errorCode and changed nothing.
    These events reach EventBridge only when a CloudTrail trail logs management events in the region
    (README, "Real-time alerts")."""
    return {
        "source": ["aws.config"],
        "detail-type": ["AWS API Call via CloudTrail"],
        "detail": {
            "eventSource": ["config.amazonaws.com"],
            "errorCode": [{"exists": False}],
            "$or": [
                {"eventName": list(RECORDER_AND_CHANNEL_CALLS)},
                {
                    "eventName": ["DeleteConfigRule"],
                    "requestParameters": {"configRuleName": list(rule_names)},
                },
            ],
        },
    }


class Alerting(Construct):
    """The topic for people, ``alerts`` (``compliance-alerts-<suffix>``). It carries the real-time alerts
    (the alert formatter's e-mails: each NON_COMPLIANT change of the monitored rules, digests, monitoring
    problems; EventBridge rules here route AWS Config's events to the formatter's queues), the report
    generator's summaries, and CloudWatch alarms. The security team subscribes here.

    AWS Config's own delivery stream goes to a separate topic (ConfigMonitoring's ``delivery_topic``): every
    configuration-item change as raw JSON, machine traffic never routed to people. Why not one topic with a
    filter policy: Config's notifications and the generator's summaries would then both have to be JSON for
    a MessageBody filter to tell them apart, and e-mail would show raw JSON. With the EventBridge rule the
    filter lives in the event pattern (rule names and NON_COMPLIANT only) and the message is a sentence.

    The topic is not SSE-encrypted: CloudWatch alarms need a customer managed key policy to publish to an
    encrypted topic, which the contract's AWS-managed-keys-only encryption rules out. It denies non-TLS
    publishing.

    Every subscription gets an SQS dead-letter queue, and an alarm on that queue's depth.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        suffix: str,
        alert_email: Optional[str],
    ) -> None:
        super().__init__(scope, id_)
        self._suffix = suffix
        self._events_dlq: Optional[sqs.Queue] = None
        self.alerts = sns.Topic(
            self,
            "Alerts",
            topic_name=physical_name("compliance-alerts", suffix),
            display_name="Compliance alerts",
            enforce_ssl=True,
        )
        # A topic policy replaces SNS's default policy, and CloudWatch alarms publish as the
        # cloudwatch.amazonaws.com service, which then needs its own statement; without it every alarm
        # action fails with "no resource-based policy allows the SNS:Publish action". CloudWatch supplies
        # the alarm's ARN and account: "Example cases for Amazon SNS access control" (a CloudWatch alarm
        # publishing to a topic), https://docs.aws.amazon.com/sns/latest/dg/sns-access-policy-use-cases.html
        self.alerts.add_to_resource_policy(
            iam.PolicyStatement(
                sid="CloudWatchAlarmsPublish",
                principals=[iam.ServicePrincipal("cloudwatch.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[self.alerts.topic_arn],
                conditions={
                    "ArnLike": {
                        "aws:SourceArn": (
                            f"arn:{Aws.PARTITION}:cloudwatch:{Aws.REGION}:{Aws.ACCOUNT_ID}:alarm:*"
                        )
                    },
                    "StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID},
                },
            )
        )
        self.alarm_action = cw_actions.SnsAction(self.alerts)

        if alert_email:
            dlq = self.dead_letter_queue("EmailDlq", "compliance-alerts-email-dlq")
            # CDK lets sns.amazonaws.com send to the DLQ on aws:SourceArn = this topic, as "Configuring an
            # Amazon SNS dead-letter queue for a subscription" documents,
            # https://docs.aws.amazon.com/sns/latest/dg/sns-configure-dead-letter-queue.html
            self.alerts.add_subscription(subs.EmailSubscription(alert_email, dead_letter_queue=dlq))

    def dead_letter_queue(self, id_: str, name: str, *, fifo: bool = False) -> sqs.Queue:
        """A DLQ with a depth alarm that notifies the security team."""
        queue = secure_queue(self, id_, queue_name=physical_name(name, self._suffix), fifo=fifo)
        alarm_to_team(
            self,
            f"{id_}Depth",
            alarm_name=physical_name(f"{name}-not-empty", self._suffix),
            description=(
                f"Messages are waiting in {name}-{self._suffix}: a delivery failed. "
                "See the README runbook, 'Draining a dead-letter queue'."
            ),
            metric=queue.metric_approximate_number_of_messages_visible(
                period=Duration.minutes(5), statistic="Maximum"
            ),
            action=self.alarm_action,
        )
        return queue

    @property
    def events_dlq(self) -> sqs.Queue:
        """The dead-letter queue of every EventBridge target of the stack (an event EventBridge could
        not deliver after its retries), created on first use."""
        if self._events_dlq is None:
            self._events_dlq = self.dead_letter_queue("EventsDlq", "compliance-events-dlq")
        return self._events_dlq

    def route_compliance_changes(
        self, *, rule_names: Sequence[str], queue: sqs.IQueue, send_resolved: bool
    ) -> events.Rule:
        """Real-time path: a NON_COMPLIANT evaluation of one of ``rule_names`` (and with
        ``send_resolved`` a finding resolved) goes to ``queue``, the alert formatter's, within seconds
        of AWS Config recording it."""
        return self._route(
            "NonCompliantChanges",
            "config-noncompliant",
            "Compliance changes of the monitored AWS Config rules, to the alert formatter",
            compliance_change_pattern(rule_names, send_resolved),
            queue,
        )

    def route_monitoring_changes(
        self, *, rule_names: Sequence[str], queue: sqs.IQueue
    ) -> events.Rule:
        """AWS Config calls that turn monitoring off (recorder stopped or deleted, delivery channel or
        one of ``rule_names`` deleted) or the recorder back on, to ``queue``, the alert formatter's."""
        return self._route(
            "MonitoringChanges",
            "config-monitoring-changes",
            "AWS Config calls that stop or delete what monitors compliance, to the alert formatter",
            monitoring_change_pattern(rule_names),
            queue,
        )

    def _route(
        self, id_: str, name: str, description: str, pattern: dict[str, Any], queue: sqs.IQueue
    ) -> events.Rule:
        rule = events.Rule(
            self,
            id_,
            rule_name=physical_name(name, self._suffix),
            description=description,
            event_pattern=events.EventPattern(
                source=pattern["source"],
                detail_type=pattern["detail-type"],
                detail=pattern["detail"],
            ),
        )
        # CDK lets events.amazonaws.com send to the queue and to the DLQ on aws:SourceArn = this rule,
        # the condition "Using resource-based policies for Amazon EventBridge" (Amazon SQS
        # permissions) documents, https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html
        rule.add_target(
            targets.SqsQueue(
                queue,
                dead_letter_queue=self.events_dlq,
                retry_attempts=10,
                max_event_age=Duration.hours(24),
            )
        )
        return rule


def alarm_to_team(
    scope: Construct,
    id_: str,
    *,
    alarm_name: str,
    description: str,
    metric: cloudwatch.IMetric,
    action: cloudwatch.IAlarmAction,
    evaluation_periods: int = 1,
    heartbeat: bool = False,
) -> cloudwatch.Alarm:
    """An alarm to the security team: ``action`` (Alerting's ``alarm_action``, the alert topic) runs when
    the value is 1 or more in each of ``evaluation_periods`` periods, and no data is no trouble.

    With ``heartbeat``, for a metric that must keep arriving: the action runs when the value stays below 1,
    and when the metric has arrived and then nothing arrives for the whole evaluation range. Missing data
    is ``missing``, so such a range sets INSUFFICIENT_DATA, which runs the action too. A new alarm starts in
    INSUFFICIENT_DATA and actions run on transitions only ("InsufficientDataActions: the actions to execute
    when this alarm transitions to the INSUFFICIENT_DATA state from any other state", PutMetricAlarm,
    CloudWatch API Reference), so a metric that has not arrived yet since the alarm was created never
    pages: the heartbeat arms itself with the first datapoint."""
    alarm = cloudwatch.Alarm(
        scope,
        id_,
        alarm_name=alarm_name,
        alarm_description=description,
        metric=metric,
        threshold=1,
        evaluation_periods=evaluation_periods,
        comparison_operator=(
            cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD
            if heartbeat
            else cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
        ),
        treat_missing_data=(
            cloudwatch.TreatMissingData.MISSING
            if heartbeat
            else cloudwatch.TreatMissingData.NOT_BREACHING
        ),
    )
    alarm.add_alarm_action(action)
    if heartbeat:
        alarm.add_insufficient_data_action(action)
    return alarm
