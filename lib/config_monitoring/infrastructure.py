"""Config monitoring: the recorder and where it delivers, the three AWS managed rules and their daily run."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Optional

from aws_cdk import Aws, Stack
from aws_cdk import aws_config as config
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_scheduler as scheduler
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from constructs import Construct

from lib.defaults import (
    global_bucket_name,
    least_privilege_role,
    physical_name,
    resource_of,
    secure_bucket,
)

# The only CloudWatch Logs type AWS Config records (botocore's Config ResourceType enum lists
# AWS::Logs::Destination and no other AWS::Logs::* type); naming a type Config does not know fails the
# deploy with InvalidRecordingGroupException, so this list must not grow by guesswork.
EXCLUDED_RESOURCE_TYPES = ("AWS::Logs::Destination",)

# Daily evaluation, 05:00 UTC, an hour before the daily report, so the report sees fresh results.
DAILY_EVALUATION_CRON = "cron(0 5 * * ? *)"
# EventBridge Scheduler's universal target for the Config API.
START_EVALUATION_TARGET = "arn:aws:scheduler:::aws-sdk:config:startConfigRulesEvaluation"

# The delivery bucket and topic lived in ReportStorage and Alerting until the Config delivery moved here,
# and CDK derives a logical id from the construct path. These are the ids they had, kept on purpose: to
# CloudFormation a new logical id is a new resource, created before the old one is deleted. The bucket and
# topic carry fixed names, and a named resource cannot be replaced ("Name type", CloudFormation User
# Guide); the bucket also holds Config's history. A bucket or topic has exactly one policy, so deleting
# the old policy resource after the new one is in place would remove the new statements with it.
DELIVERY_BUCKET_LOGICAL_ID = "ReportStorageConfig1A5D0E1C"
DELIVERY_BUCKET_POLICY_LOGICAL_ID = "ReportStorageConfigPolicy9BA54D65"
DELIVERY_TOPIC_LOGICAL_ID = "AlertingConfigStream47A32954"
DELIVERY_TOPIC_POLICY_LOGICAL_ID = "AlertingConfigStreamPolicy4306271D"


@dataclass(frozen=True)
class ManagedRuleSpec:
    """An AWS managed rule the stack deploys: the short name its Config rule name starts with, its managed
    identifier, and the one resource type it is scoped to. (The report generator's record of a rule, the
    name and identifier it reads from its environment, is a different class in its runtime.)"""

    key: str
    identifier: str
    resource_type: config.ResourceType


MONITORED_RULES = (
    ManagedRuleSpec(
        "s3-bucket-sse-enabled",
        "S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED",
        config.ResourceType.S3_BUCKET,
    ),
    ManagedRuleSpec(
        "rds-storage-encrypted", "RDS_STORAGE_ENCRYPTED", config.ResourceType.RDS_DB_INSTANCE
    ),
    ManagedRuleSpec("ec2-imdsv2-check", "EC2_IMDSV2_CHECK", config.ResourceType.EC2_INSTANCE),
)


def exception_rules() -> dict[str, tuple[str, ...]]:
    """What an exceptions register may name (lib/exceptions): each rule by its name without the
    suffix, with the resource types it evaluates (its scope)."""
    return {spec.key: (spec.resource_type.compliance_resource_type,) for spec in MONITORED_RULES}


class ConfigMonitoring(Construct):
    """AWS Config for the account and region, built for CloudFormation's ordering rules:

    * every rule depends on the recorder (a rule created before any recorder exists never evaluates);
    * the delivery channel depends on the recorder, on the recorder role's delivery policy, and on the
      bucket policy and topic policy it delivers through. "Before you can create a delivery channel, you
      must create a configuration recorder" (CloudFormation, AWS::Config::DeliveryChannel), and
      PutDeliveryChannel answers NoAvailableConfigurationRecorderException otherwise; it answers
      InsufficientDeliveryPolicyException when Config cannot write to the bucket (Config API Reference,
      PutDeliveryChannel), and Config delivers as the recorder's role, falling back to its service principal
      ("Permissions for the Amazon S3 Bucket for the AWS Config Delivery Channel",
      https://docs.aws.amazon.com/config/latest/developerguide/s3-bucket-policy.html);
    * the recorder does not depend on the channel (CloudFormation starts the recorder once both exist).

    The channel delivers to a bucket of its own (``delivery_bucket``, ``compliance-config-<suffix>``, kept
    7 years like the reports, access-logged to ``access_logs``) and to ``delivery_topic``
    (``config-notifications-<suffix>``). That topic is AWS Config's raw stream: every configuration-item
    change as JSON, machine traffic that never reaches people (see Alerting for the topic people read).

    The three rules are change-triggered AWS managed rules: AWS rejects MaximumExecutionFrequency for them at
    deploy time, so the 24-hour evaluation comes from an EventBridge Scheduler schedule that calls
    StartConfigRulesEvaluation for exactly these rules every day.

    With ``use_existing_recorder`` (Control Tower and other accounts that already have the one recorder and
    one delivery channel Config allows per region) only the rules and the schedule are created: the
    existing channel already delivers to its own bucket and topic.
    """

    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        suffix: str,
        use_existing_recorder: bool,
        access_logs: s3.IBucket,
        schedule_group_name: str,
        schedule_dlq: sqs.IQueue,
    ) -> None:
        super().__init__(scope, id_)
        self.recorder: Optional[config.CfnConfigurationRecorder] = None
        self.delivery_channel: Optional[config.CfnDeliveryChannel] = None
        self.delivery_bucket: Optional[s3.Bucket] = None
        self.delivery_topic: Optional[sns.Topic] = None
        self.role: Optional[iam.IRole] = None

        if not use_existing_recorder:
            self.delivery_bucket, bucket_policy = self._delivery_bucket(suffix, access_logs)
            self.delivery_topic, topic_policy = self._delivery_topic(suffix)
            self.role, delivery_permissions = self._recorder_role(
                suffix, self.delivery_bucket, self.delivery_topic
            )
            self.recorder = config.CfnConfigurationRecorder(
                self,
                "Recorder",
                name=physical_name("compliance-recorder", suffix),
                role_arn=self.role.role_arn,
                recording_group=config.CfnConfigurationRecorder.RecordingGroupProperty(
                    all_supported=False,
                    include_global_resource_types=False,
                    exclusion_by_resource_types=config.CfnConfigurationRecorder.ExclusionByResourceTypesProperty(
                        resource_types=list(EXCLUDED_RESOURCE_TYPES)
                    ),
                    recording_strategy=config.CfnConfigurationRecorder.RecordingStrategyProperty(
                        use_only="EXCLUSION_BY_RESOURCE_TYPES"
                    ),
                ),
                recording_mode=config.CfnConfigurationRecorder.RecordingModeProperty(
                    recording_frequency="CONTINUOUS"
                ),
            )
            self.delivery_channel = config.CfnDeliveryChannel(
                self,
                "DeliveryChannel",
                name=physical_name("compliance-delivery", suffix),
                s3_bucket_name=self.delivery_bucket.bucket_name,
                sns_topic_arn=self.delivery_topic.topic_arn,
                config_snapshot_delivery_properties=config.CfnDeliveryChannel.ConfigSnapshotDeliveryPropertiesProperty(
                    delivery_frequency="TwentyFour_Hours"
                ),
            )
            self.delivery_channel.node.add_dependency(
                self.recorder, delivery_permissions, bucket_policy, topic_policy
            )

        self.rules: dict[str, config.ManagedRule] = {}
        for spec in MONITORED_RULES:
            rule = config.ManagedRule(
                self,
                spec.identifier.title().replace("_", ""),
                config_rule_name=physical_name(spec.key, suffix),
                identifier=spec.identifier,
                description=f"AWS managed rule {spec.identifier}, evaluated on change and daily",
                rule_scope=config.RuleScope.from_resources([spec.resource_type]),
            )
            if self.recorder is not None:
                rule.node.add_dependency(self.recorder)
            self.rules[spec.identifier] = rule

        self.daily_evaluation = self._daily_evaluation(suffix, schedule_group_name, schedule_dlq)

    @property
    def rule_names(self) -> list[str]:
        return [rule.config_rule_name for rule in self.rules.values()]

    @property
    def rule_arns(self) -> list[str]:
        return [rule.config_rule_arn for rule in self.rules.values()]

    def monitored_rules_json(self) -> str:
        """The rule list the report generator receives (name and managed identifier, stack order)."""
        return Stack.of(self).to_json_string(
            [
                {"name": rule.config_rule_name, "managedIdentifier": identifier}
                for identifier, rule in self.rules.items()
            ]
        )

    def _delivery_bucket(
        self, suffix: str, access_logs: s3.IBucket
    ) -> tuple[s3.Bucket, s3.BucketPolicy]:
        """The channel's bucket and its policy: TLS only, plus the statements AWS Config's documentation
        prescribes for delivery to a bucket in the same account, limited to this account with
        aws:SourceAccount (confused-deputy protection)."""
        bucket = secure_bucket(
            self,
            "DeliveryBucket",
            bucket_name=global_bucket_name("compliance-config", suffix),
            server_access_logs_bucket=access_logs,
            server_access_logs_prefix="config-bucket/",
        )
        principal = iam.ServicePrincipal("config.amazonaws.com")
        # Config delivers with the recorder's role first and falls back to its service principal, which
        # these statements admit. aws:SourceAccount on them is what "AWS Config: Cross-service confused
        # deputy prevention" recommends for resource policies,
        # https://docs.aws.amazon.com/config/latest/developerguide/cross-service-confused-deputy-prevention.html;
        # s3:x-amz-acl is the header Config's PutObject sends, per "Permissions for the Amazon S3 Bucket
        # for the AWS Config Delivery Channel",
        # https://docs.aws.amazon.com/config/latest/developerguide/s3-bucket-policy.html
        same_account = {"StringEquals": {"AWS:SourceAccount": Aws.ACCOUNT_ID}}
        bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AWSConfigBucketPermissionsCheck",
                principals=[principal],
                actions=["s3:GetBucketAcl", "s3:ListBucket"],
                resources=[bucket.bucket_arn],
                conditions=same_account,
            )
        )
        bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AWSConfigBucketDelivery",
                principals=[principal],
                actions=["s3:PutObject"],
                resources=[bucket.arn_for_objects(f"AWSLogs/{Aws.ACCOUNT_ID}/Config/*")],
                conditions={
                    "StringEquals": {
                        "AWS:SourceAccount": Aws.ACCOUNT_ID,
                        "s3:x-amz-acl": "bucket-owner-full-control",
                    }
                },
            )
        )
        policy = bucket.policy
        if policy is None:  # secure_bucket's enforce_ssl always writes one
            raise TypeError(f"{bucket.node.path}: expected a bucket policy")
        resource_of(bucket).override_logical_id(DELIVERY_BUCKET_LOGICAL_ID)
        resource_of(policy).override_logical_id(DELIVERY_BUCKET_POLICY_LOGICAL_ID)
        return bucket, policy

    def _delivery_topic(self, suffix: str) -> tuple[sns.Topic, sns.TopicPolicy]:
        """The channel's topic and its policy: TLS only, and AWS Config may publish from this account.

        Not SSE-encrypted: AWS Config cannot publish to a topic encrypted with the AWS managed SNS key, and
        the contract rules out customer managed keys."""
        topic = sns.Topic(
            self,
            "DeliveryTopic",
            topic_name=physical_name("config-notifications", suffix),
            display_name="AWS Config notifications",
            enforce_ssl=True,
        )
        # Config publishes as the recorder's role and, failing that, as its service principal ("Permissions
        # for the Amazon SNS Topic", https://docs.aws.amazon.com/config/latest/developerguide/sns-topic-policy.html);
        # aws:SourceAccount as for the bucket (see _delivery_bucket).
        added = topic.add_to_resource_policy(
            iam.PolicyStatement(
                sid="AWSConfigSNSPolicy",
                principals=[iam.ServicePrincipal("config.amazonaws.com")],
                actions=["sns:Publish"],
                resources=[topic.topic_arn],
                conditions={"StringEquals": {"AWS:SourceAccount": Aws.ACCOUNT_ID}},
            )
        )
        policy = added.policy_dependable
        if not isinstance(policy, sns.TopicPolicy):
            raise TypeError(f"{topic.node.path}: expected its topic policy, got {policy!r}")
        resource_of(topic).override_logical_id(DELIVERY_TOPIC_LOGICAL_ID)
        resource_of(policy).override_logical_id(DELIVERY_TOPIC_POLICY_LOGICAL_ID)
        return topic, policy

    def _recorder_role(
        self, suffix: str, bucket: s3.IBucket, topic: sns.ITopic
    ) -> tuple[iam.IRole, iam.ManagedPolicy]:
        """The recorder's role and the policy holding its delivery permissions."""
        name = physical_name("compliance-config-recorder", suffix)
        return least_privilege_role(
            self,
            "RecorderRole",
            role_name=name,
            description="AWS Config recorder: read resource configuration, deliver to S3 and SNS",
            # Config documents this condition on its role's trust policy: "Permissions for the IAM Role
            # Assigned to AWS Config", https://docs.aws.amazon.com/config/latest/developerguide/iamrole-permissions.html
            assumed_by=iam.ServicePrincipal(
                "config.amazonaws.com",
                conditions={"StringEquals": {"AWS:SourceAccount": Aws.ACCOUNT_ID}},
            ),
            # AWS_ConfigRole is the current managed policy; AWSConfigRole is deprecated.
            aws_managed_policies=["service-role/AWS_ConfigRole"],
            # Only what delivery needs: the bucket ACL check, objects under Config's own prefix, and the
            # delivery topic.
            statements=[
                iam.PolicyStatement(
                    sid="CheckDeliveryBucket",
                    actions=["s3:GetBucketAcl"],
                    resources=[bucket.bucket_arn],
                ),
                iam.PolicyStatement(
                    sid="DeliverToBucket",
                    actions=["s3:PutObject"],
                    resources=[bucket.arn_for_objects(f"AWSLogs/{Aws.ACCOUNT_ID}/Config/*")],
                    conditions={"StringEquals": {"s3:x-amz-acl": "bucket-owner-full-control"}},
                ),
                iam.PolicyStatement(
                    sid="DeliverToTopic", actions=["sns:Publish"], resources=[topic.topic_arn]
                ),
            ],
        )

    def _daily_evaluation(
        self, suffix: str, group_name: str, dlq: sqs.IQueue
    ) -> scheduler.CfnSchedule:
        role, policy = least_privilege_role(
            self,
            "DailyEvaluationRole",
            role_name=physical_name("compliance-daily-evaluation", suffix),
            description="EventBridge Scheduler: start the daily evaluation of the monitored rules",
            # Scheduler documents both keys on its execution role, with aws:SourceArn the ARN of the
            # schedule group, never of a schedule ("Do not scope the aws:SourceArn statement to a specific
            # schedule"; an older revision of the page said the schedule ARN): "Confused deputy prevention
            # in EventBridge Scheduler",
            # https://docs.aws.amazon.com/scheduler/latest/UserGuide/cross-service-confused-deputy-prevention.html
            assumed_by=iam.ServicePrincipal(
                "scheduler.amazonaws.com",
                conditions={
                    "StringEquals": {
                        "aws:SourceAccount": Aws.ACCOUNT_ID,
                        "aws:SourceArn": Stack.of(self).format_arn(
                            service="scheduler",
                            resource="schedule-group",
                            resource_name=group_name,
                        ),
                    }
                },
            ),
            statements=[
                iam.PolicyStatement(
                    sid="StartDailyEvaluation",
                    actions=["config:StartConfigRulesEvaluation"],
                    resources=self.rule_arns,
                ),
                # EventBridge Scheduler sends undeliverable invocations to the DLQ with this role.
                iam.PolicyStatement(
                    sid="DeadLetter", actions=["sqs:SendMessage"], resources=[dlq.queue_arn]
                ),
            ],
        )
        schedule = scheduler.CfnSchedule(
            self,
            "DailyEvaluation",
            name=physical_name("compliance-daily-evaluation", suffix),
            group_name=group_name,
            description="Re-evaluate the monitored AWS Config rules every 24 hours",
            schedule_expression=DAILY_EVALUATION_CRON,
            schedule_expression_timezone="UTC",
            flexible_time_window=scheduler.CfnSchedule.FlexibleTimeWindowProperty(mode="OFF"),
            state="ENABLED",
            target=scheduler.CfnSchedule.TargetProperty(
                arn=START_EVALUATION_TARGET,
                role_arn=role.role_arn,
                input=Stack.of(self).to_json_string({"ConfigRuleNames": self.rule_names}),
                retry_policy=scheduler.CfnSchedule.RetryPolicyProperty(
                    maximum_event_age_in_seconds=6 * 3600, maximum_retry_attempts=10
                ),
                dead_letter_config=scheduler.CfnSchedule.DeadLetterConfigProperty(
                    arn=dlq.queue_arn
                ),
            ),
        )
        # The rules are referenced by the input, so CloudFormation orders them already; the policy is not.
        schedule.node.add_dependency(policy)
        return schedule


def rules_json_literal(suffix: str) -> str:
    """The monitored rule list as plain JSON, for tools that run outside CloudFormation (the demo)."""
    return json.dumps(
        [
            {"name": physical_name(spec.key, suffix), "managedIdentifier": spec.identifier}
            for spec in MONITORED_RULES
        ]
    )
