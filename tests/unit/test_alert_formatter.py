"""Alert formatter infrastructure: the contract of every function (runtime, arm64, timeout, 30-day logs,
DLQ, least privilege), the queues in front of it with their batching, the status-check schedule, and the
settings that reach it."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_sns as sns
from aws_cdk import aws_sqs as sqs
from aws_cdk.assertions import Match, Template

from lib.alert_formatter import local_harness as harness
from lib.alert_formatter.infrastructure import (
    CHANGES_BATCH_SIZE,
    MAX_CONCURRENCY,
    TIMEOUT,
    UNSCOPED_CONFIG_READS,
    AlertFormatter,
)
from lib.alert_formatter.runtime.realtime_alerts import environment as variables
from tests.unit.conftest import variant
from tests.unit.synth import make_app

REGISTER_KEY = "exceptions/" + "ab" * 32 + ".json"

NAME = "compliance-alert-formatter-dev"


def function(template, name=NAME):
    ((logical_id, fn),) = template.find_resources(
        "AWS::Lambda::Function", {"Properties": {"FunctionName": name}}
    ).items()
    return logical_id, fn


def queue_id(template, name):
    (logical_id,) = template.find_resources("AWS::SQS::Queue", {"Properties": {"QueueName": name}})
    return logical_id


def mappings(template, function_id):
    return {
        m["Properties"]["EventSourceArn"]["Fn::GetAtt"][0]: m["Properties"]
        for m in template.find_resources("AWS::Lambda::EventSourceMapping").values()
        if m["Properties"]["FunctionName"] == {"Ref": function_id}
    }


def test_the_function_meets_the_contract(template):
    function_id, fn = function(template)
    props = fn["Properties"]
    assert props["Runtime"] == "python3.9"
    assert props["Architectures"] == ["arm64"]
    assert props["Timeout"] == TIMEOUT.to_seconds() <= 300
    assert props["Handler"] == "handler.handler"
    assert props["LoggingConfig"]["LogFormat"] == "JSON"
    assert "DeadLetterConfig" in props and "ReservedConcurrentExecutions" not in props
    groups = template.find_resources(
        "AWS::Logs::LogGroup", {"Properties": {"LogGroupName": f"/aws/lambda/{NAME}"}}
    )
    ((group_id, group),) = groups.items()
    assert group["Properties"]["RetentionInDays"] == 30 and group["DeletionPolicy"] == "Delete"
    assert props["LoggingConfig"]["LogGroup"] == {"Ref": group_id}
    (policy_id,) = template.find_resources(
        "AWS::IAM::ManagedPolicy", {"Properties": {"ManagedPolicyName": f"{NAME}-policy"}}
    )
    assert fn["DependsOn"] == [policy_id]
    template.has_resource_properties(
        "AWS::Lambda::EventInvokeConfig",
        {"FunctionName": {"Ref": function_id}, "MaximumRetryAttempts": 2},
    )


def test_the_new_runtime_setting_moves_this_function_too(templates):
    _, fn = function(variant(templates, "new-runtime"), "compliance-alert-formatter-py314")
    assert fn["Properties"]["Runtime"] == "python3.14"


def test_the_role_has_exactly_the_actions_the_code_calls(template):
    (policy,) = template.find_resources(
        "AWS::IAM::ManagedPolicy", {"Properties": {"ManagedPolicyName": f"{NAME}-policy"}}
    ).values()
    statements = {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}
    actions = {
        sid: sorted(s["Action"]) if isinstance(s["Action"], list) else [s["Action"]]
        for sid, s in statements.items()
    }
    assert actions == {
        "WriteOwnLogs": ["logs:CreateLogStream", "logs:PutLogEvents"],
        "ReadNamesAndStatus": sorted(UNSCOPED_CONFIG_READS),
        "PublishAlerts": ["sns:Publish"],
        "ConsumeEvents": [
            "sqs:ChangeMessageVisibility",
            "sqs:DeleteMessage",
            "sqs:GetQueueAttributes",
            "sqs:ReceiveMessage",
        ],
        "DeadLetter": ["sqs:SendMessage"],
    }
    assert statements["ReadNamesAndStatus"]["Resource"] == "*"
    changes = queue_id(template, "compliance-changes-dev")
    monitoring = queue_id(template, "compliance-monitoring-events-dev")
    assert statements["ConsumeEvents"]["Resource"] == [
        {"Fn::GetAtt": [changes, "Arn"]},
        {"Fn::GetAtt": [monitoring, "Arn"]},
    ]
    failures = queue_id(template, "compliance-alert-formatter-failures-dlq-dev")
    assert statements["DeadLetter"]["Resource"] == {"Fn::GetAtt": [failures, "Arn"]}


def test_changes_are_batched_for_the_window_and_monitoring_events_go_at_once(template):
    function_id, _ = function(template)
    by_queue = mappings(template, function_id)
    changes = by_queue[queue_id(template, "compliance-changes-dev")]
    monitoring = by_queue[queue_id(template, "compliance-monitoring-events-dev")]
    assert changes["BatchSize"] == CHANGES_BATCH_SIZE == 10_000
    assert changes["MaximumBatchingWindowInSeconds"] == 300
    assert monitoring["BatchSize"] == 10 and "MaximumBatchingWindowInSeconds" not in monitoring
    for mapping in (changes, monitoring):
        assert mapping["FunctionResponseTypes"] == ["ReportBatchItemFailures"]
        assert mapping["ScalingConfig"] == {"MaximumConcurrency": MAX_CONCURRENCY}


def test_queues_outlast_six_timeouts_plus_the_window_and_dead_letter_after_three_receives(template):
    queues = template.find_resources("AWS::SQS::Queue")
    for name, visibility in (
        ("compliance-changes-dev", 6 * 120 + 300),
        ("compliance-monitoring-events-dev", 6 * 120),
    ):
        props = queues[queue_id(template, name)]["Properties"]
        assert props["VisibilityTimeout"] == visibility
        dlq = queue_id(template, name.replace("-dev", "-dlq-dev"))
        assert props["RedrivePolicy"] == {
            "deadLetterTargetArn": {"Fn::GetAtt": [dlq, "Arn"]},
            "maxReceiveCount": 3,
        }


def test_the_status_check_runs_every_15_minutes_into_the_monitoring_queue(template):
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "Name": "compliance-status-check-dev",
            "ScheduleExpression": "rate(15 minutes)",
            "Targets": [
                Match.object_like(
                    {
                        "Arn": {
                            "Fn::GetAtt": [
                                queue_id(template, "compliance-monitoring-events-dev"),
                                "Arn",
                            ]
                        }
                    }
                )
            ],
        },
    )


def test_the_settings_reach_the_queue_and_the_function(templates):
    template = variant(templates, "alerts")
    function_id, fn = function(template, "compliance-alert-formatter-alerts")
    env = fn["Properties"]["Environment"]["Variables"]
    assert env[variables.DIGEST_THRESHOLD] == "25"
    assert env[variables.DIGEST_WINDOW_SECONDS] == "120"
    assert env[variables.SEND_RESOLVED] == "true"
    changes = mappings(template, function_id)[queue_id(template, "compliance-changes-alerts")]
    assert changes["MaximumBatchingWindowInSeconds"] == 120
    props = template.find_resources("AWS::SQS::Queue")[
        queue_id(template, "compliance-changes-alerts")
    ]["Properties"]
    assert props["VisibilityTimeout"] == 6 * 120 + 120
    (rule,) = [
        r["Properties"]
        for r in template.find_resources("AWS::Events::Rule").values()
        if r["Properties"].get("Name") == "config-noncompliant-alerts"
    ]
    assert "$or" in rule["EventPattern"]["detail"]


def test_the_harness_sets_exactly_the_variables_the_stack_sets_with_the_same_defaults(template):
    _, fn = function(template)
    deployed = fn["Properties"]["Environment"]["Variables"]
    # The stack may or may not be given a register; the harness, given the same key, agrees.
    local = harness.function_environment(
        topic_arn="arn:aws:sns:us-east-1:123456789012:compliance-alerts-dev",
        suffix="dev",
        rules=[{"name": "r", "managedIdentifier": "R"}],
        exceptions_register_key=deployed[variables.EXCEPTIONS_REGISTER_KEY],
        exceptions_register_path=deployed[variables.EXCEPTIONS_REGISTER_PATH],
    )
    assert set(deployed) == set(local) - {"AWS_REGION", "AWS_DEFAULT_REGION"}
    for name in (
        variables.DIGEST_THRESHOLD,
        variables.DIGEST_WINDOW_SECONDS,
        variables.SEND_RESOLVED,
        variables.HEALTH_CHECK_MINUTES,
        variables.ENVIRONMENT_SUFFIX,
    ):
        assert deployed[name] == local[name], name
    assert fn["Properties"]["FunctionName"] == harness.function_name("dev")


def test_a_crashed_batch_pages_the_team(template):
    function_id, _ = function(template)
    template.has_resource_properties(
        "AWS::CloudWatch::Alarm",
        {
            "AlarmName": "compliance-alert-formatter-errors-dev",
            "MetricName": "Errors",
            "Dimensions": [{"Name": "FunctionName", "Value": {"Ref": function_id}}],
            "Threshold": 1,
            "AlarmActions": Match.any_value(),
        },
    )


def formatter_in_a_bare_stack(tmp_path, **register):
    """The construct alone, with the register's layer and key when given."""
    return Template.from_stack(bare_stack(tmp_path, **register))


def bare_stack(tmp_path, **register):
    stack = cdk.Stack(make_app(outdir=str(tmp_path / "out")), "Bare")
    topic = sns.Topic(stack, "Topic")
    if register.pop("layer", False):
        folder = tmp_path / "layer" / "exceptions"
        folder.mkdir(parents=True)
        (folder / "register.json").write_text('{"the": "layer\'s file"}\n')
        register["exceptions_layer"] = lambda_.LayerVersion(
            stack, "Register", code=lambda_.Code.from_asset(str(tmp_path / "layer"))
        )
    AlertFormatter(
        stack,
        "AlertFormatter",
        suffix="dev",
        runtime=lambda_.Runtime.PYTHON_3_9,
        topic=topic,
        monitored_rules_json="[]",
        digest_threshold=10,
        digest_window=cdk.Duration.minutes(5),
        send_resolved=False,
        changes_dlq=sqs.Queue(stack, "ChangesDlq"),
        monitoring_dlq=sqs.Queue(stack, "MonitoringDlq"),
        failure_dlq=sqs.Queue(stack, "FailureDlq"),
        events_dlq=sqs.Queue(stack, "EventsDlq"),
        alarm_action=cw_actions.SnsAction(topic),
        **register,
    )
    return stack


def test_given_the_register_the_function_carries_its_layer_and_both_variables(tmp_path):
    template = formatter_in_a_bare_stack(tmp_path, layer=True, exceptions_register_key=REGISTER_KEY)

    (layer_id,) = template.find_resources("AWS::Lambda::LayerVersion")
    _, fn = function(template)
    assert fn["Properties"]["Layers"] == [{"Ref": layer_id}]
    env = fn["Properties"]["Environment"]["Variables"]
    assert env[variables.EXCEPTIONS_REGISTER_PATH] == "/opt/exceptions/register.json"
    assert env[variables.EXCEPTIONS_REGISTER_KEY] == REGISTER_KEY
    local = harness.function_environment(
        topic_arn="arn:aws:sns:us-east-1:123456789012:t",
        suffix="dev",
        rules=[{"name": "r", "managedIdentifier": "R"}],
        exceptions_register_key=REGISTER_KEY,
    )
    assert set(env) == set(local) - {"AWS_REGION", "AWS_DEFAULT_REGION"}


def test_without_the_register_the_function_has_no_layer_and_no_register_variables(tmp_path):
    _, fn = function(formatter_in_a_bare_stack(tmp_path))

    assert "Layers" not in fn["Properties"]
    env = fn["Properties"]["Environment"]["Variables"]
    assert variables.EXCEPTIONS_REGISTER_PATH not in env
    assert variables.EXCEPTIONS_REGISTER_KEY not in env


def test_a_layer_without_a_key_is_refused_at_synth(tmp_path):
    with pytest.raises(
        ValueError, match="exceptions_layer and exceptions_register_key go together"
    ):
        formatter_in_a_bare_stack(tmp_path, layer=True)


def test_on_this_machine_the_register_is_read_from_the_layer_in_the_synthesized_assembly(tmp_path):
    stack = bare_stack(tmp_path, layer=True, exceptions_register_key=REGISTER_KEY)
    template_path = cdk.App.of(stack).synth().get_stack_by_name("Bare").template_full_path
    _, fn = function(Template.from_stack(stack))
    env = fn["Properties"]["Environment"]["Variables"]

    local = harness.local_register(template_path, env)

    (path,) = local.values()
    assert path != env[variables.EXCEPTIONS_REGISTER_PATH] and path.startswith(str(tmp_path))
    assert open(path, encoding="utf-8").read() == '{"the": "layer\'s file"}\n'
    assert harness.local_register(template_path, {}) == {}
