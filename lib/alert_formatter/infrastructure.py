"""Alert formatter: the function between EventBridge and the alert topic that turns AWS Config's events
into e-mails a security team can sort and act on, and the queues that feed it.

Why a function at all: an EventBridge rule that targets SNS cannot set the message's Subject, so every
real-time e-mail arrived as "AWS Notification Message"; and a rule's input transformer cannot look up a
resource's name or fold a burst of changes into one message.

Two queues feed it, both standard SQS queues with a dead-letter queue:

* **changes** (``compliance-changes-<suffix>``): "Config Rules Compliance Change" events. Its event
  source mapping gathers records for up to ``digest_window`` (MaximumBatchingWindowInSeconds, at most
  300 s) and up to ``CHANGES_BATCH_SIZE`` records, so a burst reaches the function as one batch and
  becomes one digest. Limits, stated in the README: a burst that straddles two windows is two batches;
  Lambda polls a queue with several pollers, so a large burst may arrive as a few batches
  (``MaximumConcurrency`` 2, the smallest SQS allows, keeps that to two at a time); a batch also ends at
  6 MB of payload (about 3,000 Config events). A lone change waits for the window before it is sent.
* **monitoring** (``compliance-monitoring-events-<suffix>``): CloudTrail events of Config calls that
  turn monitoring off, and the status check's schedule; no batching window, so they go out at once.

The function meets the contract of every function here: the runtime from the settings (python3.9 by
default), arm64, a timeout within 5 minutes, a 30-day log group of its own, one customer managed
policy with exactly what the code calls, and a dead-letter queue for a failed asynchronous invocation.

Given the exceptions register's layer and the key of the object it was deployed as, the function
carries the layer and is told both (``EXCEPTIONS_REGISTER_PATH``, ``EXCEPTIONS_REGISTER_KEY``), and a
finding under an exception in force does not page (``runtime/realtime_alerts/register.py``). Reading
a file of a layer needs no permission, so the role is the same either way.
"""

from __future__ import annotations

from pathlib import Path

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from lib.alert_formatter.runtime.realtime_alerts.environment import function_environment
from lib.alerting.infrastructure import alarm_to_team
from lib.defaults import least_privilege_role, physical_name, resource_of, secure_queue
from lib.exceptions.infrastructure import REGISTER_PATH

RUNTIME_DIR = Path(__file__).parent / "runtime"
HANDLER = "handler.handler"
TIMEOUT = Duration.minutes(
    2
)  # 100 publishes and 100 name lookups take seconds; the contract allows 5
MEMORY_MB = 256
# SQS standard queues: a batch of up to 10,000 records (Lambda CreateEventSourceMapping, BatchSize).
CHANGES_BATCH_SIZE = 10_000
MONITORING_BATCH_SIZE = 10
# ScalingConfig.MaximumConcurrency of an SQS event source: 2-1000 (Lambda API Reference). Two keeps a
# burst in as few digests as SQS allows, without reserved concurrency (which fails on new accounts
# whose concurrency limit is 10).
MAX_CONCURRENCY = 2
# A record that fails this many receives moves to its queue's dead-letter queue.
MAX_RECEIVES = 3
STATUS_CHECK = Duration.minutes(15)
# Config reads that IAM authorizes only on "*": the Service Authorization Reference gives
# BatchGetResourceConfig and DescribeConfigRuleEvaluationStatus no resource type;
# DescribeConfigurationRecorderStatus's recorder ARN ends in an id Config assigns, unknown to a stack
# that uses an existing recorder (as for the report generator's UNSCOPED_CONFIG_READS). All are reads.
UNSCOPED_CONFIG_READS = (
    "config:BatchGetResourceConfig",
    "config:DescribeConfigRuleEvaluationStatus",
    "config:DescribeConfigurationRecorderStatus",
)


def visibility_timeout(window: Duration) -> Duration:
    """At least six times the function's timeout ("Creating and configuring an Amazon SQS event source
    mapping", Lambda Developer Guide), plus the batching window, during which the first records of a
    batch are already received."""
    return Duration.seconds(6 * TIMEOUT.to_seconds() + window.to_seconds())


class AlertFormatter(Construct):
    """The function, its log group and least-privilege role, the two queues in front of it with their
    event source mappings, and the schedule of the status check."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        suffix: str,
        runtime: lambda_.Runtime,
        topic: sns.ITopic,
        monitored_rules_json: str,
        digest_threshold: int,
        digest_window: Duration,
        send_resolved: bool,
        changes_dlq: sqs.IQueue,
        monitoring_dlq: sqs.IQueue,
        failure_dlq: sqs.IQueue,
        events_dlq: sqs.IQueue,
        alarm_action: cloudwatch.IAlarmAction,
        exceptions_layer: lambda_.ILayerVersion | None = None,
        exceptions_register_key: str | None = None,
    ) -> None:
        super().__init__(scope, id_)
        if (exceptions_layer is None) != (exceptions_register_key is None):
            raise ValueError(
                "AlertFormatter: exceptions_layer and exceptions_register_key go together "
                "(the register's file and the key that names its SHA-256)"
            )
        name = physical_name("compliance-alert-formatter", suffix)
        self.log_group = logs.LogGroup(
            self,
            "Logs",
            log_group_name=f"/aws/lambda/{name}",
            retention=logs.RetentionDays.ONE_MONTH,
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.changes = secure_queue(
            self,
            "Changes",
            queue_name=physical_name("compliance-changes", suffix),
            visibility_timeout=visibility_timeout(digest_window),
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=changes_dlq, max_receive_count=MAX_RECEIVES
            ),
        )
        self.monitoring = secure_queue(
            self,
            "Monitoring",
            queue_name=physical_name("compliance-monitoring-events", suffix),
            visibility_timeout=visibility_timeout(Duration.seconds(0)),
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=monitoring_dlq, max_receive_count=MAX_RECEIVES
            ),
        )
        self.role, self.policy = least_privilege_role(
            self,
            "Role",
            role_name=name,
            description="Alert formatter: read resource names and Config status, publish alerts",
            # No condition, as for the report generator's role (see lib/report_generator): no Lambda
            # document says Lambda supplies a source key when it assumes an execution role.
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            statements=self._statements(topic, failure_dlq),
        )
        self.function = lambda_.Function(
            self,
            "Function",
            function_name=name,
            description="Formats AWS Config compliance changes and monitoring events as e-mails",
            runtime=runtime,
            architecture=lambda_.Architecture.ARM_64,
            handler=HANDLER,
            code=lambda_.Code.from_asset(
                str(RUNTIME_DIR), exclude=["__pycache__", "*.pyc", "requirements*.txt", "*.md"]
            ),
            timeout=TIMEOUT,
            memory_size=MEMORY_MB,
            role=self.role,
            log_group=self.log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            application_log_level_v2=lambda_.ApplicationLogLevel.INFO,
            system_log_level_v2=lambda_.SystemLogLevel.WARN,
            # The queues' event source mappings invoke synchronously; this catches an asynchronous
            # invocation (an operator's test event) that failed every retry.
            dead_letter_queue=failure_dlq,
            # The exceptions register at REGISTER_PATH (lib/exceptions), when the stack has one.
            layers=[exceptions_layer] if exceptions_layer is not None else None,
            retry_attempts=2,
            max_event_age=Duration.hours(6),
            environment=function_environment(
                topic_arn=topic.topic_arn,
                suffix=suffix,
                monitored_rules_json=monitored_rules_json,
                digest_threshold=digest_threshold,
                digest_window_seconds=int(digest_window.to_seconds()),
                send_resolved=send_resolved,
                health_check_minutes=int(STATUS_CHECK.to_minutes()),
                exceptions_register_key=exceptions_register_key,
                exceptions_register_path=REGISTER_PATH,
            ),
        )
        # As for the report generator: the function depends on exactly its policy, which must exist
        # before the event source mappings (Lambda checks that the role can receive from the queue).
        resource_of(self.function).add_override(
            "DependsOn", [Stack.of(self).get_logical_id(resource_of(self.policy))]
        )
        self.function.add_event_source(
            sources.SqsEventSource(
                self.changes,
                batch_size=CHANGES_BATCH_SIZE,
                max_batching_window=digest_window,
                max_concurrency=MAX_CONCURRENCY,
                report_batch_item_failures=True,
            )
        )
        self.function.add_event_source(
            sources.SqsEventSource(
                self.monitoring,
                batch_size=MONITORING_BATCH_SIZE,
                max_concurrency=MAX_CONCURRENCY,
                report_batch_item_failures=True,
            )
        )
        self.status_check = events.Rule(
            self,
            "StatusCheck",
            rule_name=physical_name("compliance-status-check", suffix),
            description="Ask the alert formatter to check the Config rules' and recorder's status",
            schedule=events.Schedule.rate(STATUS_CHECK),
        )
        # CDK lets events.amazonaws.com send to the queue and the DLQ on aws:SourceArn = this rule
        # ("Using resource-based policies for Amazon EventBridge", Amazon SQS permissions).
        self.status_check.add_target(
            targets.SqsQueue(
                self.monitoring,
                dead_letter_queue=events_dlq,
                retry_attempts=10,
                max_event_age=Duration.hours(1),
            )
        )

        # A batch the handler could not process at all (it raised): the records go back to their
        # queue; records whose alerts failed are handed back without an error and end in the DLQs,
        # whose depth alarms page (Alerting.dead_letter_queue).
        alarm_to_team(
            self,
            "ErrorsAlarm",
            alarm_name=physical_name("compliance-alert-formatter-errors", suffix),
            description=(
                "The alert formatter failed an invocation: real-time alerts may be late. "
                "See the README runbook."
            ),
            metric=self.function.metric_errors(period=Duration.minutes(5), statistic="Sum"),
            action=alarm_action,
        )

    def _statements(self, topic: sns.ITopic, failure_dlq: sqs.IQueue) -> list[iam.PolicyStatement]:
        return [
            iam.PolicyStatement(
                sid="WriteOwnLogs",
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[f"{self.log_group.log_group_arn}:*"],
            ),
            # Resource names from AWS Config's recorded configuration items, and the status of the
            # rules and the recorder for the status check: authorized on "*" only
            # (UNSCOPED_CONFIG_READS says why, per action).
            iam.PolicyStatement(
                sid="ReadNamesAndStatus", actions=list(UNSCOPED_CONFIG_READS), resources=["*"]
            ),
            iam.PolicyStatement(
                sid="PublishAlerts", actions=["sns:Publish"], resources=[topic.topic_arn]
            ),
            # The event source mappings poll the queues with the function's role.
            iam.PolicyStatement(
                sid="ConsumeEvents",
                actions=[
                    "sqs:ReceiveMessage",
                    "sqs:DeleteMessage",
                    "sqs:ChangeMessageVisibility",
                    "sqs:GetQueueAttributes",
                ],
                resources=[self.changes.queue_arn, self.monitoring.queue_arn],
            ),
            iam.PolicyStatement(
                sid="DeadLetter", actions=["sqs:SendMessage"], resources=[failure_dlq.queue_arn]
            ),
        ]
