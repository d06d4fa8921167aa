"""Alerting: how non-compliance and platform trouble reach the security team in real time."""

from __future__ import annotations

from typing import Optional, Sequence

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

# The words the security team reads for a compliance change. The local emulator publishes the same
# sentence, so the demo inbox shows what a real inbox would.
COMPLIANCE_CHANGE_TEMPLATE = (
    "AWS Config: <resourceType> <resourceId> is NON_COMPLIANT with rule <rule> "
    "in <account>/<region> at <time>."
)


class Alerting(Construct):
    """The topic for people, ``alerts`` (``compliance-alerts-<suffix>``). It carries a readable sentence for
    each NON_COMPLIANT change of the monitored rules (an EventBridge rule on "Config Rules Compliance
    Change" with an input transformer), the report generator's summaries, and CloudWatch alarms. The
    security team subscribes here.

    AWS Config's own delivery stream goes to a separate topic (ConfigMonitoring's ``delivery_topic``): every
    configuration-item change as raw JSON, machine traffic never routed to people. Why not one topic with a
    filter policy: Config's notifications and the generator's summaries would then both have to be JSON for
    a MessageBody filter to tell them apart, and e-mail would show raw JSON. With the EventBridge rule the
    filter lives in the event pattern (rule names and NON_COMPLIANT only) and the message is a sentence.

    The topic is not SSE-encrypted: EventBridge and CloudWatch need a customer managed key policy to publish
    to an encrypted topic, which the contract's AWS-managed-keys-only encryption rules out. It denies
    non-TLS publishing.

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

    def route_compliance_changes(self, *, rule_names: Sequence[str]) -> events.Rule:
        """Real-time path: a NON_COMPLIANT evaluation of one of ``rule_names`` becomes a sentence on the
        alert topic within seconds of AWS Config recording it."""
        rule = events.Rule(
            self,
            "NonCompliantChanges",
            rule_name=physical_name("config-noncompliant", self._suffix),
            description="NON_COMPLIANT results of the monitored AWS Config rules, to the security team",
            event_pattern=events.EventPattern(
                source=["aws.config"],
                detail_type=["Config Rules Compliance Change"],
                detail={
                    "messageType": ["ComplianceChangeNotification"],
                    "configRuleName": list(rule_names),
                    "newEvaluationResult": {"complianceType": ["NON_COMPLIANT"]},
                },
            ),
        )
        dlq = self.dead_letter_queue("EventsDlq", "compliance-events-dlq")
        # CDK adds events.amazonaws.com to the topic policy without a condition, and to the DLQ's policy on
        # aws:SourceArn = this rule, the condition "Using resource-based policies for Amazon EventBridge"
        # documents, https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html
        rule.add_target(
            targets.SnsTopic(
                self.alerts,
                message=events.RuleTargetInput.from_text(
                    f"AWS Config: {events.EventField.from_path('$.detail.resourceType')} "
                    f"{events.EventField.from_path('$.detail.resourceId')} is NON_COMPLIANT with rule "
                    f"{events.EventField.from_path('$.detail.configRuleName')} in "
                    f"{events.EventField.account}/{events.EventField.region} at "
                    f"{events.EventField.time}."
                ),
                dead_letter_queue=dlq,
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
