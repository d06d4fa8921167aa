"""The stack: builds the parts, passes each what it needs, and grants. No logic of its own."""

from __future__ import annotations

from typing import Optional

import jsii
from aws_cdk import Aspects, CfnOutput, Duration, Environment, IAspect, Stack, Tags
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_scheduler as scheduler
from constructs import Construct, IConstruct

from lib.alert_formatter.infrastructure import AlertFormatter
from lib.alerting.infrastructure import Alerting
from lib.config_monitoring.infrastructure import ConfigMonitoring
from lib.defaults import physical_name
from lib.nag_acknowledgements import acknowledge
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
        for key, value in TAGS.items():
            Tags.of(self).add(key, value)

        self.storage = ReportStorage(
            self, "ReportStorage", suffix=suffix, object_lock_mode=settings.report_object_lock
        )
        self.alerting = Alerting(self, "Alerting", suffix=suffix, alert_email=settings.alert_email)
        schedule_group_name = physical_name("compliance", suffix)
        self.schedule_group = scheduler.CfnScheduleGroup(
            self, "ScheduleGroup", name=schedule_group_name
        )
        schedule_dlq = self.alerting.dead_letter_queue("ScheduleDlq", "compliance-schedule-dlq")

        self.monitoring = ConfigMonitoring(
            self,
            "ConfigMonitoring",
            suffix=suffix,
            use_existing_recorder=settings.use_existing_config_recorder,
            access_logs=self.storage.access_logs,
            schedule_group_name=schedule_group_name,
            schedule_dlq=schedule_dlq,
        )
        self.monitoring.daily_evaluation.node.add_dependency(self.schedule_group)
        runtime = lambda_.Runtime(settings.lambda_runtime, lambda_.RuntimeFamily.PYTHON)

        self.alert_formatter = AlertFormatter(
            self,
            "AlertFormatter",
            suffix=suffix,
            runtime=runtime,
            topic=self.alerting.alerts,
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
            self,
            "ReportGenerator",
            suffix=suffix,
            runtime=runtime,
            bucket=self.storage.reports,
            topic=self.alerting.alerts,
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
        )

        for output, value in (
            (REPORT_BUCKET, self.storage.reports.bucket_name),
            (ALERT_TOPIC, self.alerting.alerts.topic_arn),
            (REQUEST_QUEUE, self.report_generator.requests.queue_url),
            (REPORT_GENERATOR, self.report_generator.function.function_name),
            (ALERT_FORMATTER, self.alert_formatter.function.function_name),
        ):
            CfnOutput(self, output.key, value=value, description=output.description)

        Aspects.of(self).add(_NamePolicies(suffix))
        acknowledge(self)


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
