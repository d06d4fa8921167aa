"""The stack: builds the parts, passes each what it needs, and grants. No logic of its own."""

from __future__ import annotations

from typing import Optional, Sequence

import jsii
from aws_cdk import Aspects, CfnOutput, Duration, Environment, IAspect, Stack, Tags
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sns as sns
from constructs import Construct, IConstruct

from lib.alert_formatter.infrastructure import AlertFormatter
from lib.alerting.infrastructure import Alerting
from lib.config_monitoring.infrastructure import ConfigMonitoring
from lib.defaults import physical_name
from lib.exceptions.infrastructure import ExceptionsRegister
from lib.nag_acknowledgements import ACKS, Ack, acknowledge
from lib.report_generator.infrastructure import ReportGenerator
from lib.report_storage.infrastructure import ReportStorage
from lib.settings import StackSettings
from lib.stack_outputs import (
    ALERT_FORMATTER,
    ALERT_TOPIC,
    REPORT_BUCKET,
    REPORT_GENERATOR,
    REQUEST_QUEUE,
)

TAGS = {"Environment": "audit", "CostCenter": "compliance"}


class ComplianceAuditStack(Stack):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        settings: StackSettings,
        env: Optional[Environment] = None,
        description: Optional[str] = None,
    ) -> None:
        super().__init__(scope, id_, env=env, description=description)
        suffix = settings.environment_suffix
        tag(self)

        self.storage = ReportStorage(
            self, "ReportStorage", suffix=suffix, object_lock_mode=settings.report_object_lock
        )
        parts = AccountParts(
            self, settings, reports=self.storage.reports, access_logs=self.storage.access_logs
        )
        self.alerting = parts.alerting
        self.schedule_group = parts.schedule_group
        self.monitoring = parts.monitoring
        self.alert_formatter = parts.alert_formatter
        self.report_generator = parts.report_generator

        for output, value in (
            (REPORT_BUCKET, self.storage.reports.bucket_name),
            (ALERT_TOPIC, self.alerting.alerts.topic_arn),
            (REQUEST_QUEUE, self.report_generator.requests.queue_url),
            (REPORT_GENERATOR, self.report_generator.function.function_name),
            (ALERT_FORMATTER, self.alert_formatter.function.function_name),
        ):
            CfnOutput(self, output.key, value=value, description=output.description)

        finish(self, suffix)


@jsii.implements(IAspect)
class _NamePolicies:
    """Inline policy names CDK generates (``RoleDefaultPolicy1234``) get the suffix too, so every name in
    the account says which environment it belongs to."""

    def __init__(self, suffix: str) -> None:
        self._suffix = suffix

    def visit(self, node: IConstruct) -> None:
        if isinstance(node, iam.CfnPolicy):
            parts = node.node.path.split("/")[1:-1]
            node.policy_name = "-".join(parts + [self._suffix])[:128]


def tag(stack: Stack) -> None:
    """The contract's tags on every taggable resource of ``stack``."""
    for key, value in TAGS.items():
        Tags.of(stack).add(key, value)


def finish(stack: Stack, suffix: str, acks: Sequence[Ack] = ACKS) -> None:
    """What every stack of either shape gets last: suffixed policy names, cdk-nag acknowledgements."""
    Aspects.of(stack).add(_NamePolicies(suffix))
    acknowledge(stack, acks)


class AccountParts:
    """What watches one account and region, built at the top level of ``stack`` (so construct paths,
    and with them logical ids, are the same in either shape): alerting, AWS Config monitoring, the
    alert formatter and the report generator.

    The single-account stack passes its own report bucket. An organization member passes the central
    bucket of the evidence account and ``alerts``, the organization's alert topic there: the report
    summaries (with the witness line) and the real-time alerts go to it. Alarms stay on the local
    topic: a CloudWatch alarm publishes as the cloudwatch.amazonaws.com service of its own account.
    ``access_logs`` is used only when the stack creates the Config recorder (its delivery bucket logs
    there).
    """

    def __init__(
        self,
        stack: Stack,
        settings: StackSettings,
        *,
        reports: s3.IBucket,
        access_logs: s3.IBucket,
        alerts: Optional[sns.ITopic] = None,
    ) -> None:
        suffix = settings.environment_suffix
        self.alerting = Alerting(stack, "Alerting", suffix=suffix, alert_email=settings.alert_email)
        schedule_group_name = physical_name("compliance", suffix)
        self.schedule_group = scheduler.CfnScheduleGroup(
            stack, "ScheduleGroup", name=schedule_group_name
        )
        alerts = alerts or self.alerting.alerts
        schedule_dlq = self.alerting.dead_letter_queue("ScheduleDlq", "compliance-schedule-dlq")

        self.monitoring = ConfigMonitoring(
            stack,
            "ConfigMonitoring",
            suffix=suffix,
            use_existing_recorder=settings.use_existing_config_recorder,
            access_logs=access_logs,
            schedule_group_name=schedule_group_name,
            schedule_dlq=schedule_dlq,
        )
        self.monitoring.daily_evaluation.node.add_dependency(self.schedule_group)
        runtime = lambda_.Runtime(settings.lambda_runtime, lambda_.RuntimeFamily.PYTHON)
        # The reviewed exceptions register, as a layer both functions read it from.
        self.exceptions = ExceptionsRegister(
            stack, "Exceptions", suffix=suffix, runtime=runtime, register=settings.exceptions
        )

        self.alert_formatter = AlertFormatter(
            stack,
            "AlertFormatter",
            suffix=suffix,
            runtime=runtime,
            topic=alerts,
            monitored_rules_json=self.monitoring.monitored_rules_json(),
            digest_threshold=settings.alert_digest_threshold,
            digest_window=Duration.minutes(settings.alert_digest_window_minutes),
            send_resolved=settings.alert_resolved,
            changes_dlq=self.alerting.dead_letter_queue("ChangesDlq", "compliance-changes-dlq"),
            monitoring_dlq=self.alerting.dead_letter_queue(
                "MonitoringEventsDlq", "compliance-monitoring-events-dlq"
            ),
            failure_dlq=self.alerting.dead_letter_queue(
                "AlertFormatterFailuresDlq", "compliance-alert-formatter-failures-dlq"
            ),
            events_dlq=self.alerting.events_dlq,
            alarm_action=self.alerting.alarm_action,
            exceptions_layer=self.exceptions.layer,
            exceptions_register_key=self.exceptions.key,
        )
        self.alerting.route_compliance_changes(
            rule_names=self.monitoring.rule_names,
            queue=self.alert_formatter.changes,
            send_resolved=settings.alert_resolved,
        )
        self.alerting.route_monitoring_changes(
            rule_names=self.monitoring.rule_names, queue=self.alert_formatter.monitoring
        )

        self.report_generator = ReportGenerator(
            stack,
            "ReportGenerator",
            suffix=suffix,
            runtime=runtime,
            bucket=reports,
            topic=alerts,
            rule_arns=self.monitoring.rule_arns,
            monitored_rules_json=self.monitoring.monitored_rules_json(),
            alarm_action=self.alerting.alarm_action,
            failure_dlq=self.alerting.dead_letter_queue(
                "ReportFailuresDlq", "compliance-report-failures-dlq"
            ),
            requests_dlq=self.alerting.dead_letter_queue(
                "RequestsDlq", "compliance-report-requests-dlq", fifo=True
            ),
            schedule_dlq=schedule_dlq,
            exceptions_layer=self.exceptions.layer,
            exceptions_register_key=self.exceptions.key,
        )
