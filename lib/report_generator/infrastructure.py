"""Report generator: the Lambda that writes the daily hash-chained report, and what triggers it."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Sequence

from aws_cdk import Duration, RemovalPolicy, Stack
from aws_cdk import aws_cloudwatch as cloudwatch
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_lambda_event_sources as sources
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk import aws_ssm as ssm
from constructs import Construct

from lib.alerting.infrastructure import alarm_to_team
from lib.defaults import least_privilege_role, physical_name, resource_of, secure_queue
from lib.exceptions.infrastructure import REGISTER_PATH
from lib.exceptions.register import KEY_PREFIX as EXCEPTIONS_PREFIX
from lib.report_generator.runtime.compliance_report.environment import (
    DEFAULT_METRICS_NAMESPACE,
    WITNESS_NO_REPORT_YET,
    function_environment,
)
from lib.report_generator.runtime.compliance_report.metrics import CHAIN_CORRUPTED, REPORTS_STORED
from lib.report_storage.infrastructure import CHAIN_PREFIX, REPORT_PREFIX

RUNTIME_DIR = Path(__file__).parent / "runtime"
# Config reads the function makes that a statement scoped to an ARN cannot authorize. Service
# Authorization Reference, "Actions defined by AWS Config": DescribeComplianceByConfigRule,
# DescribeConfigRuleEvaluationStatus and DescribeDeliveryChannelStatus list no resource type, so only
# Resource "*" matches them (scoping them to the rule ARNs made every report incomplete in a real
# account). DescribeConfigurationRecorderStatus lists configuration-recorder, whose ARN ends in an id
# Config assigns at creation and that a stack using an existing recorder cannot know; it is a
# read-only status call, so it shares "*". `make validate`'s IAM lint checks the first three against
# the reference data; tests/unit/test_report_generator.py pins this list.
UNSCOPED_CONFIG_READS = (
    "config:DescribeComplianceByConfigRule",
    "config:DescribeConfigRuleEvaluationStatus",
    "config:DescribeConfigurationRecorderStatus",
    "config:DescribeDeliveryChannelStatus",
)
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
# The daily report lands up to this long after its schedule: MAX_RECEIVES attempts QUEUE_VISIBILITY apart,
# each at most TIMEOUT. A day-to-day shift that large must not read as a missing report, so the overdue
# alarm waits a day plus this, in whole hours (26). Its hourly periods keep CloudWatch's look-back past
# the last report short; Period x EvaluationPeriods may reach 7 days for periods of an hour or more
# (PutMetricAlarm, CloudWatch API Reference).
OVERDUE_HOURS = math.ceil(
    (
        Duration.days(1).to_seconds()
        + (MAX_RECEIVES - 1) * QUEUE_VISIBILITY.to_seconds()
        + TIMEOUT.to_seconds()
    )
    / Duration.hours(1).to_seconds()
)
DAILY_REPORT_CRON = events.Schedule.cron(
    minute="0", hour="6"
)  # 06:00 UTC, after the 05:00 evaluation


class ReportGenerator(Construct):
    """The function, its log group, its least-privilege role, the FIFO request queue in front of it, the
    daily schedule, dead-letter queues for every failure path, the witness parameter (the newest head of
    the trail, outside the bucket), and alarms on errors, missing reports and a corrupted chain."""

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
        alarm_action: cloudwatch.IAlarmAction,
        failure_dlq: sqs.IQueue,
        requests_dlq: sqs.IQueue,
        schedule_dlq: sqs.IQueue,
        exceptions_layer: lambda_.ILayerVersion,
        exceptions_register_key: str,
    ) -> None:
        """``exceptions_layer`` holds the exceptions register at ``REGISTER_PATH``, the bytes of the
        object ``exceptions_register_key`` (lib/exceptions); the function stores it in ``bucket`` and
        labels each report's findings with it."""
        super().__init__(scope, id_)
        name = physical_name("compliance-report-generator", suffix)

        self.log_group = logs.LogGroup(
            self,
            "Logs",
            log_group_name=f"/aws/lambda/{name}",
            retention=logs.RetentionDays.ONE_MONTH,
            removal_policy=RemovalPolicy.DESTROY,
        )
        # The newest head of the trail, kept outside the bucket (runtime witness.py says what it proves):
        # every run writes a new version; Parameter Store keeps the 100 most recent, and CloudTrail's
        # Event history records every change or deletion for 90 days. A standard-tier String parameter
        # (no charge, up to 4 KB); the stack owns it, so a destroy deletes it with the rest. The function
        # overwrites the initial value with its first report's head.
        self.witness = ssm.StringParameter(
            self,
            "Witness",
            parameter_name=physical_name("compliance-chain-head", suffix),
            description="Newest head of the compliance trail: witness: <sequence> <key> <sha256>",
            string_value=WITNESS_NO_REPORT_YET,
            tier=ssm.ParameterTier.STANDARD,
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
            # No condition. A trust condition on a key Lambda does not supply makes CreateFunction fail
            # ("The role defined for the function cannot be assumed by Lambda"), and no Lambda document
            # says Lambda supplies aws:SourceAccount or aws:SourceArn when it assumes an execution role:
            # "Defining Lambda function permissions with an execution role",
            # https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html, shows the
            # trust policy with the Lambda principal alone, and the IAM User Guide ("AWS global condition
            # context keys", aws:SourceAccount) says the key is present only if the calling service passes
            # it. Only this account's Lambda can use the role anyway: passing it needs iam:PassRole here.
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            statements=self._statements(bucket, topic, rule_arns, failure_dlq, self.witness),
        )

        self.function = lambda_.Function(
            self,
            "Function",
            function_name=name,
            description="Writes the daily hash-chained compliance report and alerts on findings",
            runtime=runtime,
            architecture=lambda_.Architecture.ARM_64,
            handler=HANDLER,
            # The README stays out of the asset, so a documentation edit does not redeploy the function.
            code=lambda_.Code.from_asset(
                str(RUNTIME_DIR), exclude=["__pycache__", "*.pyc", "requirements*.txt", "*.md"]
            ),
            timeout=TIMEOUT,
            memory_size=MEMORY_MB,
            layers=[exceptions_layer],
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
                witness_parameter=self.witness.parameter_name,
                report_prefix=REPORT_PREFIX,
                metrics_namespace=METRICS_NAMESPACE,
                exceptions_register_key=exceptions_register_key,
                exceptions_register_path=REGISTER_PATH,
            ),
        )
        # The function references its log group, so it is created after it (else Lambda would make an
        # unmanaged group with no retention). The policy must be attached before the event source
        # mapping is created, since Lambda checks that the role can receive from the queue.
        # CDK also makes the function depend on its role, which the Role property's GetAtt already
        # orders (cfn-lint W3005), so DependsOn is set to exactly the policy.
        resource_of(self.function).add_override(
            "DependsOn", [Stack.of(self).get_logical_id(resource_of(self.policy))]
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
        # CDK lets events.amazonaws.com send to the queue and its DLQ on aws:SourceArn = this rule, the
        # condition "Using resource-based policies for Amazon EventBridge" (Amazon SQS permissions)
        # documents, https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html
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
        witness: ssm.StringParameter,
    ) -> list[iam.PolicyStatement]:
        return [
            # Lambda's own logging, to its own log group only (log-stream ARNs end in ":*").
            iam.PolicyStatement(
                sid="WriteOwnLogs",
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[f"{self.log_group.log_group_arn}:*"],
            ),
            # Read reports and the chain's bookkeeping; no delete, no ACL, no retention changes.
            iam.PolicyStatement(
                sid="ReadReports",
                actions=["s3:GetObject"],
                resources=[
                    bucket.arn_for_objects(f"{REPORT_PREFIX}*"),
                    bucket.arn_for_objects(f"{CHAIN_PREFIX}*"),
                ],
            ),
            # Reports are written once: only a PUT carrying If-None-Match, which S3 refuses when the
            # key holds an object ("Enforce conditional writes on Amazon S3 buckets", S3 User Guide:
            # the s3:if-none-match condition key), so this role can never overwrite a report.
            iam.PolicyStatement(
                sid="WriteReportsOnce",
                actions=["s3:PutObject"],
                resources=[bucket.arn_for_objects(f"{REPORT_PREFIX}*")],
                conditions={"Null": {"s3:if-none-match": "false"}},
            ),
            # The exceptions register each report is labelled with (runtime exceptions.py): written
            # once under its content address, as reports are (If-None-Match, so never overwritten),
            # and read back when it is already there, to check its bytes.
            iam.PolicyStatement(
                sid="ReadRegisters",
                actions=["s3:GetObject"],
                resources=[bucket.arn_for_objects(f"{EXCEPTIONS_PREFIX}*")],
            ),
            iam.PolicyStatement(
                sid="WriteRegistersOnce",
                actions=["s3:PutObject"],
                resources=[bucket.arn_for_objects(f"{EXCEPTIONS_PREFIX}*")],
                conditions={"Null": {"s3:if-none-match": "false"}},
            ),
            # Claims, trigger records and the head (runtime chain.py).
            iam.PolicyStatement(
                sid="WriteChainBookkeeping",
                actions=["s3:PutObject"],
                resources=[bucket.arn_for_objects(f"{CHAIN_PREFIX}*")],
            ),
            # Never used to list: S3 answers a GET of a missing key with 404 only when the caller may
            # list the bucket, else 403, and the chain logic must tell "absent" from "forbidden". A
            # s3:prefix condition would not help: that key is absent from a GET's request context.
            iam.PolicyStatement(
                sid="ListReports",
                actions=["s3:ListBucket"],
                resources=[bucket.bucket_arn],
            ),
            # The trail decides the next sequence: every report key ever stored, with overwritten
            # versions and delete markers (ListObjectVersions needs s3:ListBucketVersions: S3 User
            # Guide, "Required permissions for Amazon S3 API operations"), and only under reports/.
            iam.PolicyStatement(
                sid="ListReportVersions",
                actions=["s3:ListBucketVersions"],
                resources=[bucket.bucket_arn],
                conditions={"StringLike": {"s3:prefix": f"{REPORT_PREFIX}*"}},
            ),
            # The witness: read it back (a witness beyond the trail stops the run) and write each head.
            iam.PolicyStatement(
                sid="WitnessHead",
                actions=["ssm:GetParameter", "ssm:PutParameter"],
                resources=[witness.parameter_arn],
            ),
            # Compliance details of this stack's rules only: GetComplianceDetailsByConfigRule is the
            # one read that the Service Authorization Reference gives a resource type (config-rule,
            # whose ARN carries the id Config assigns, hence the GetAtt).
            iam.PolicyStatement(
                sid="ReadRuleResults",
                actions=["config:GetComplianceDetailsByConfigRule"],
                resources=list(rule_arns),
            ),
            # Actions that IAM authorizes only on "*" (UNSCOPED_CONFIG_READS says why, per action).
            iam.PolicyStatement(
                sid="ReadUnscopedStatus",
                actions=list(UNSCOPED_CONFIG_READS),
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

    def _alarms(self, suffix: str, action: cloudwatch.IAlarmAction) -> None:
        def runtime_metric(name: str, period: Duration, statistic: str) -> cloudwatch.Metric:
            """A metric the function writes in embedded metric format (dimension: Environment)."""
            return cloudwatch.Metric(
                namespace=METRICS_NAMESPACE,
                metric_name=name,
                dimensions_map={"Environment": suffix},
                period=period,
                statistic=statistic,
            )

        alarm_to_team(
            self,
            "ErrorsAlarm",
            alarm_name=physical_name("compliance-report-generator-errors", suffix),
            description=(
                "The report generator failed an invocation. "
                "See the README runbook, 'Re-running a report'."
            ),
            metric=self.function.metric_errors(period=Duration.minutes(5), statistic="Sum"),
            action=action,
        )
        alarm_to_team(
            self,
            "IncompleteAlarm",
            alarm_name=physical_name("compliance-report-incomplete", suffix),
            description=(
                "A report was written incomplete (errors[] not empty). Read its errors[] section."
            ),
            metric=runtime_metric("ReportGenerationErrors", Duration.minutes(5), "Sum"),
            action=action,
        )
        # A missing report, two ways (replayed over days of runs with CloudWatch's evaluation rules in
        # tests/unit/test_report_alarms.py). Only ReportsStored counts reports: ReportDurationMs is
        # emitted by every run, failed ones too. The alarm they replace, "compliance-report-missing",
        # counted runs and treated no data as breaching, so a fresh deploy paged at once; their names
        # are new because an updated alarm keeps its state (PutMetricAlarm), and an old alarm's OK
        # turning into the heartbeat's INSUFFICIENT_DATA would page on the upgrade.
        #
        # Failed runs: one day's request is received MAX_RECEIVES times before it goes to the requests
        # DLQ; that many runs in 24 hours with nothing stored means every attempt failed. Fewer do not
        # page here: a retry may still store the report. 1 day is the longest period.
        runs = runtime_metric("ReportDurationMs", Duration.days(1), "SampleCount")
        stored = runtime_metric(REPORTS_STORED, Duration.days(1), "Sum")
        alarm_to_team(
            self,
            "NotStoredAlarm",
            alarm_name=physical_name("compliance-report-not-stored", suffix),
            description=(
                f"The report generator ran at least {MAX_RECEIVES} times in 24 hours and stored no "
                "report: a report request failed every attempt. See the README runbook."
            ),
            metric=cloudwatch.MathExpression(
                expression=f"IF(FILL(runs, 0) >= {MAX_RECEIVES} AND FILL(stored, 0) < 1, 1, 0)",
                using_metrics={"runs": runs, "stored": stored},
                period=Duration.days(1),
                label="Runs in 24 hours, none storing a report",
            ),
            action=action,
        )
        # The trail shows deleted or rewritten reports, so the generator refused to extend it.
        alarm_to_team(
            self,
            "ChainCorruptedAlarm",
            alarm_name=physical_name("compliance-chain-corrupted", suffix),
            description=(
                "The report generator refused to extend the audit trail: reports were deleted or "
                "rewritten. No report is written until it is resolved. See the README runbook, "
                "'The chain is corrupted'."
            ),
            metric=runtime_metric(CHAIN_CORRUPTED, Duration.minutes(5), "Sum"),
            action=action,
        )
        # No report at all: a heartbeat on ReportsStored (see alarm_to_team), which a fresh deploy has
        # not armed yet; it pages once reports have been stored and then none is for OVERDUE_HOURS.
        alarm_to_team(
            self,
            "OverdueAlarm",
            alarm_name=physical_name("compliance-report-overdue", suffix),
            description=(
                f"No report was stored for {OVERDUE_HOURS} hours: the audit trail has a gap. "
                "See the README runbook."
            ),
            metric=runtime_metric(REPORTS_STORED, Duration.hours(1), "Sum"),
            action=action,
            evaluation_periods=OVERDUE_HOURS,
            heartbeat=True,
        )
