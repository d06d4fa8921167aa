"""Report generator: the Lambda that writes the daily hash-chained report, and what triggers it."""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

from aws_cdk import Aws, Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from lib.defaults import least_privilege_role, physical_name, secure_queue
from lib.report_generator.runtime.compliance_report.environment import (
    DEFAULT_METRICS_NAMESPACE,
    function_environment,
)
from lib.report_storage.infrastructure import CHAIN_PREFIX, REPORT_PREFIX

RUNTIME_DIR = Path(__file__).parent / "runtime"
HANDLER = "handler.handler"
METRICS_NAMESPACE = DEFAULT_METRICS_NAMESPACE

# The contract caps the timeout at 5 minutes; the handler watches its remaining time and writes an
# incomplete report before this runs out.
TIMEOUT = Duration.minutes(5)
MEMORY_MB = 512
# AWS recommends a source queue visibility timeout of at least six times the function timeout.
QUEUE_VISIBILITY = Duration.minutes(30)
# A request that fails this many times moves to the requests dead-letter queue.
MAX_RECEIVES = 3
# One message group: SQS FIFO hands the function one message of a group at a time, so two triggers can
# never run two report generations at once. (Reserved concurrency would also serialise, but setting it
# fails on new accounts whose whole concurrency limit is 10.)
MESSAGE_GROUP = "report-generation"
DAILY_REPORT_CRON = events.Schedule.cron(
    minute="0", hour="6"
)  # 06:00 UTC, after the 05:00 evaluation


class ReportGenerator(Construct):
    """The function, its log group, its least-privilege role, the FIFO request queue in front of it, the
    daily schedule, dead-letter queues for every failure path, and alarms on errors and missing reports."""

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        suffix: str,
        runtime: lambda_.Runtime,
        bucket: s3.IBucket,
        topic: sns.ITopic,
        rule_arns: Sequence[str],
        monitored_rules_json: str,
        alarm_action: cw_actions.SnsAction,
        failure_dlq: sqs.IQueue,
        requests_dlq: sqs.IQueue,
        schedule_dlq: sqs.IQueue,
    ) -> None:
        super().__init__(scope, id_)
        name = physical_name("compliance-report-generator", suffix)

        self.log_group = logs.LogGroup(
            self,
            "Logs",
            log_group_name=f"/aws/lambda/{name}",
            retention=logs.RetentionDays.ONE_MONTH,
            removal_policy=RemovalPolicy.DESTROY,
        )
        self.requests = secure_queue(
            self,
            "Requests",
            queue_name=physical_name("compliance-report-requests", suffix),
            fifo=True,
            content_based_deduplication=True,
            visibility_timeout=QUEUE_VISIBILITY,
            dead_letter_queue=sqs.DeadLetterQueue(
                queue=requests_dlq, max_receive_count=MAX_RECEIVES
            ),
        )
        self.role, self.policy = least_privilege_role(
            self,
            "Role",
            role_name=name,
            description="Report generator: read Config results, write reports, publish alerts",
            assumed_by=iam.ServicePrincipal(
                "lambda.amazonaws.com",
                conditions={"StringEquals": {"aws:SourceAccount": Aws.ACCOUNT_ID}},
            ),
            statements=self._statements(bucket, topic, rule_arns, failure_dlq),
        )

        self.function = lambda_.Function(
            self,
            "Function",
            function_name=name,
            description="Writes the daily hash-chained compliance report and alerts on findings",
            runtime=runtime,
            architecture=lambda_.Architecture.ARM_64,
            handler=HANDLER,
            code=lambda_.Code.from_asset(
                str(RUNTIME_DIR), exclude=["__pycache__", "*.pyc", "requirements*.txt"]
            ),
            timeout=TIMEOUT,
            memory_size=MEMORY_MB,
            role=self.role,
            log_group=self.log_group,
            logging_format=lambda_.LoggingFormat.JSON,
            application_log_level_v2=lambda_.ApplicationLogLevel.INFO,
            system_log_level_v2=lambda_.SystemLogLevel.WARN,
            dead_letter_queue=failure_dlq,
            retry_attempts=2,
            max_event_age=Duration.hours(6),
            # The names and defaults live with the code that reads them (the runtime's
            # environment.py); the local harness builds its environment with the same function.
            environment=function_environment(
                bucket=bucket.bucket_name,
                topic_arn=topic.topic_arn,
                monitored_rules_json=monitored_rules_json,
                suffix=suffix,
                report_prefix=REPORT_PREFIX,
                metrics_namespace=METRICS_NAMESPACE,
            ),
        )
        # The function references its log group, so it is created after it (else Lambda would make an
        # unmanaged group with no retention). The policy must be attached before the event source
        # mapping is created, since Lambda checks that the role can receive from the queue.
        # CDK also makes the function depend on its role, which the Role property's GetAtt already
        # orders (cfn-lint W3005), so DependsOn is set to exactly the policy.
        policy_resource = self.policy.node.default_child
        self.function.node.default_child.add_override(
            "DependsOn", [Stack.of(self).get_logical_id(policy_resource)]
        )
        self.function.add_event_source(
            sources.SqsEventSource(self.requests, batch_size=1, report_batch_item_failures=True)
        )

        self.daily = events.Rule(
            self,
            "Daily",
            rule_name=physical_name("compliance-daily-report", suffix),
            description="Request the daily compliance report",
            schedule=DAILY_REPORT_CRON,
        )
        self.daily.add_target(
            targets.SqsQueue(
                self.requests,
                message_group_id=MESSAGE_GROUP,
                dead_letter_queue=schedule_dlq,
                retry_attempts=10,
                max_event_age=Duration.hours(6),
            )
        )
        self._alarms(suffix, alarm_action)

    def _statements(
        self,
        bucket: s3.IBucket,
        topic: sns.ITopic,
        rule_arns: Sequence[str],
        failure_dlq: sqs.IQueue,
    ) -> list[iam.PolicyStatement]:
        return [
            # Lambda's own logging, to its own log group only (log-stream ARNs end in ":*").
            iam.PolicyStatement(
                sid="WriteOwnLogs",
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[f"{self.log_group.log_group_arn}:*"],
            ),
            # Read and write reports and the chain head; no delete, no ACL, no retention changes.
            iam.PolicyStatement(
                sid="ReadWriteReports",
                actions=["s3:GetObject", "s3:PutObject"],
                resources=[
                    bucket.arn_for_objects(f"{REPORT_PREFIX}*"),
                    bucket.arn_for_objects(f"{CHAIN_PREFIX}*"),
                ],
            ),
            # Never used to list: S3 answers a GET of a missing key with 404 only when the caller may
            # list the bucket, else 403, and the chain logic must tell "absent" from "forbidden". A
            # s3:prefix condition would not help: that key is absent from a GET's request context.
            iam.PolicyStatement(
                sid="ListReports",
                actions=["s3:ListBucket"],
                resources=[bucket.bucket_arn],
            ),
            # Compliance results of this stack's rules only.
            iam.PolicyStatement(
                sid="ReadRuleResults",
                actions=["config:GetComplianceDetailsByConfigRule"],
                resources=list(rule_arns),
            ),
            # The rule-level compliance and evaluation status calls support no resource-level
            # permissions (Service Authorization Reference, AWS Config: no resource type for
            # either), so only "*" authorizes them; scoped to the rule ARNs they are denied.
            iam.PolicyStatement(
                sid="ReadRuleStatus",
                actions=[
                    "config:DescribeComplianceByConfigRule",
                    "config:DescribeConfigRuleEvaluationStatus",
                ],
                resources=["*"],
            ),
            # These two status calls accept no resource-level permissions (Service Authorization
            # Reference: resource types column is empty), so "*" is the only value IAM allows.
            iam.PolicyStatement(
                sid="ReadMonitoringStatus",
                actions=[
                    "config:DescribeConfigurationRecorderStatus",
                    "config:DescribeDeliveryChannelStatus",
                ],
                resources=["*"],
            ),
            iam.PolicyStatement(
                sid="PublishAlerts", actions=["sns:Publish"], resources=[topic.topic_arn]
            ),
            # The SQS event source mapping polls the request queue with the function's role.
            iam.PolicyStatement(
                sid="ConsumeRequests",
                actions=[
                    "sqs:ReceiveMessage",
                    "sqs:DeleteMessage",
                    "sqs:ChangeMessageVisibility",
                    "sqs:GetQueueAttributes",
                ],
                resources=[self.requests.queue_arn],
            ),
            # Failed asynchronous invocations go to the failure dead-letter queue.
            iam.PolicyStatement(
                sid="DeadLetter", actions=["sqs:SendMessage"], resources=[failure_dlq.queue_arn]
            ),
        ]

    def _alarms(self, suffix: str, action: cw_actions.SnsAction) -> None:
        def runtime_metric(name: str, period: Duration, statistic: str) -> cloudwatch.Metric:
            """A metric the function writes in embedded metric format (dimension: Environment)."""
            return cloudwatch.Metric(
                namespace=METRICS_NAMESPACE,
                metric_name=name,
                dimensions_map={"Environment": suffix},
                period=period,
                statistic=statistic,
            )

        def alarm(
            id_: str, name: str, description: str, metric: cloudwatch.IMetric, *, when_absent=False
        ) -> None:
            """Fires at 1 or more, or with ``when_absent`` below 1, where no data counts as a breach."""
            created = cloudwatch.Alarm(
                self,
                id_,
                alarm_name=physical_name(name, suffix),
                alarm_description=description,
                metric=metric,
                threshold=1,
                evaluation_periods=1,
                comparison_operator=(
                    cloudwatch.ComparisonOperator.LESS_THAN_THRESHOLD
                    if when_absent
                    else cloudwatch.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD
                ),
                treat_missing_data=(
                    cloudwatch.TreatMissingData.BREACHING
                    if when_absent
                    else cloudwatch.TreatMissingData.NOT_BREACHING
                ),
            )
            created.add_alarm_action(action)

        alarm(
            "ErrorsAlarm",
            "compliance-report-generator-errors",
            "The report generator failed an invocation. See the README runbook, 'Re-running a report'.",
            self.function.metric_errors(period=Duration.minutes(5), statistic="Sum"),
        )
        alarm(
            "IncompleteAlarm",
            "compliance-report-incomplete",
            "A report was written incomplete (errors[] not empty). Read its errors[] section.",
            runtime_metric("ReportGenerationErrors", Duration.minutes(5), "Sum"),
        )
        alarm(
            "MissingAlarm",
            "compliance-report-missing",
            "No report was generated in the last 24 hours: the audit trail has a gap.",
            runtime_metric("ReportDurationMs", Duration.days(1), "SampleCount"),
            when_absent=True,
        )
