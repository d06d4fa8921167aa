"""Report generator infrastructure: runtime, logs, least privilege, triggers, serialisation, failures."""

from __future__ import annotations

from aws_cdk.assertions import Match

FUNCTION_NAME = "compliance-report-generator-dev"


def function(template):
    (fn,) = template.find_resources(
        "AWS::Lambda::Function", {"Properties": {"FunctionName": FUNCTION_NAME}}
    ).values()
    return fn["Properties"]


def test_function_runtime_architecture_timeout_and_json_logs(template):
    props = function(template)
    assert props["FunctionName"] == FUNCTION_NAME
    assert props["Runtime"] == "python3.9"
    assert props["Architectures"] == ["arm64"]
    assert props["Timeout"] == 300
    assert props["Handler"] == "handler.handler"
    assert props["LoggingConfig"]["LogFormat"] == "JSON"
    assert "ReservedConcurrentExecutions" not in props
    assert "DeadLetterConfig" in props


def test_log_group_keeps_30_days_and_is_destroyable(template):
    groups = template.find_resources(
        "AWS::Logs::LogGroup", {"Properties": {"LogGroupName": f"/aws/lambda/{FUNCTION_NAME}"}}
    )
    ((logical_id, group),) = groups.items()
    assert group["Properties"]["LogGroupName"] == f"/aws/lambda/{FUNCTION_NAME}"
    assert group["Properties"]["RetentionInDays"] == 30
    assert group["DeletionPolicy"] == "Delete"
    assert function(template)["LoggingConfig"]["LogGroup"] == {"Ref": logical_id}


def test_environment_names_the_bucket_topic_and_rules(template):
    env = function(template)["Environment"]["Variables"]
    assert set(env) == {
        "REPORT_BUCKET",
        "REPORT_PREFIX",
        "ALERT_TOPIC_ARN",
        "MONITORED_RULES",
        "ENVIRONMENT_SUFFIX",
        "METRICS_NAMESPACE",
        "ALERT_MAX_RESOURCES",
        "WITNESS_PARAMETER",
        "EXCEPTIONS_REGISTER_KEY",
        "EXCEPTIONS_REGISTER_PATH",
    }
    assert env["REPORT_PREFIX"] == "reports/"
    assert env["ENVIRONMENT_SUFFIX"] == "dev"
    (parameter_id,) = template.find_resources("AWS::SSM::Parameter")
    assert env["WITNESS_PARAMETER"] == {"Ref": parameter_id}


def test_the_witness_parameter_is_a_standard_string_named_with_the_suffix_and_destroyable(template):
    """The newest head outside the bucket (runtime witness.py): the stack owns it, so nothing stays
    behind after a destroy; its first value is a comment line, which a witness file may hold."""
    ((_, parameter),) = template.find_resources("AWS::SSM::Parameter").items()
    props = parameter["Properties"]
    assert props["Name"] == "compliance-chain-head-dev"
    assert (props["Type"], props["Tier"]) == ("String", "Standard")
    assert props["Value"].startswith("#")
    assert parameter.get("DeletionPolicy", "Delete") == "Delete"
    assert props["Tags"] == {"CostCenter": "compliance", "Environment": "audit"}


def generator_policy(template):
    policies = template.find_resources(
        "AWS::IAM::ManagedPolicy", {"Properties": {"ManagedPolicyName": f"{FUNCTION_NAME}-policy"}}
    )
    (policy,) = policies.values()
    return {s["Sid"]: s for s in policy["Properties"]["PolicyDocument"]["Statement"]}


def test_role_has_exactly_the_actions_the_code_needs(template):
    statements = generator_policy(template)
    actions = {
        sid: sorted([s["Action"]] if isinstance(s["Action"], str) else s["Action"])
        for sid, s in statements.items()
    }
    assert actions == {
        "WriteOwnLogs": ["logs:CreateLogStream", "logs:PutLogEvents"],
        "ReadReports": ["s3:GetObject"],
        "WriteReportsOnce": ["s3:PutObject"],
        "ReadRegisters": ["s3:GetObject"],
        "WriteRegistersOnce": ["s3:PutObject"],
        "WriteChainBookkeeping": ["s3:PutObject"],
        "ListReports": ["s3:ListBucket"],
        "ListReportVersions": ["s3:ListBucketVersions"],
        "WitnessHead": ["ssm:GetParameter", "ssm:PutParameter"],
        "ReadRuleResults": ["config:GetComplianceDetailsByConfigRule"],
        "ReadUnscopedStatus": [
            "config:DescribeComplianceByConfigRule",
            "config:DescribeConfigRuleEvaluationStatus",
            "config:DescribeConfigurationRecorderStatus",
            "config:DescribeDeliveryChannelStatus",
        ],
        "PublishAlerts": ["sns:Publish"],
        "ConsumeRequests": [
            "sqs:ChangeMessageVisibility",
            "sqs:DeleteMessage",
            "sqs:GetQueueAttributes",
            "sqs:ReceiveMessage",
        ],
        "DeadLetter": ["sqs:SendMessage"],
    }


def test_role_resources_are_scoped(template):
    statements = generator_policy(template)
    assert len(statements["ReadRuleResults"]["Resource"]) == 3
    bucket_id, attribute = statements["ListReports"]["Resource"]["Fn::GetAtt"]
    assert (bucket_id.startswith("ReportStorageReports"), attribute) == (True, "Arn")
    for sid in (
        "ReadReports",
        "WriteReportsOnce",
        "WriteChainBookkeeping",
        "WitnessHead",
        "PublishAlerts",
        "ConsumeRequests",
        "DeadLetter",
        "WriteOwnLogs",
    ):
        assert statements[sid]["Resource"] != "*", sid
    # Reports are write-once for this role: a PUT without If-None-Match is not allowed.
    assert statements["WriteReportsOnce"]["Condition"] == {"Null": {"s3:if-none-match": "false"}}
    assert statements["WriteReportsOnce"]["Resource"]["Fn::Join"][1][-1] == "/reports/*"
    assert statements["WriteChainBookkeeping"]["Resource"]["Fn::Join"][1][-1] == "/chain/*"
    # The exceptions registers: read, and written once (content-addressed, never overwritten).
    for sid in ("ReadRegisters", "WriteRegistersOnce"):
        assert statements[sid]["Resource"]["Fn::Join"][1][-1] == "/exceptions/*", sid
    assert statements["WriteRegistersOnce"]["Condition"] == {"Null": {"s3:if-none-match": "false"}}
    # Versions are listed under reports/ only.
    assert statements["ListReportVersions"]["Condition"] == {
        "StringLike": {"s3:prefix": "reports/*"}
    }
    (parameter_id,) = template.find_resources("AWS::SSM::Parameter")
    assert "Fn::Join" in statements["WitnessHead"]["Resource"], statements["WitnessHead"]
    assert {"Ref": parameter_id} in statements["WitnessHead"]["Resource"]["Fn::Join"][1]
    # The role carries nothing but this policy.
    (role,) = template.find_resources(
        "AWS::IAM::Role", {"Properties": {"RoleName": FUNCTION_NAME}}
    ).values()
    assert "ManagedPolicyArns" not in role["Properties"]
    assert "Policies" not in role["Properties"]
    template.resource_count_is("AWS::IAM::Policy", 0)


def test_requests_go_through_a_fifo_queue_one_at_a_time(template):
    template.has_resource_properties(
        "AWS::SQS::Queue",
        {
            "QueueName": "compliance-report-requests-dev.fifo",
            "FifoQueue": True,
            "ContentBasedDeduplication": True,
            "VisibilityTimeout": 1800,
            "RedrivePolicy": {"deadLetterTargetArn": Match.any_value(), "maxReceiveCount": 3},
        },
    )
    template.has_resource_properties(
        "AWS::Lambda::EventSourceMapping",
        {"BatchSize": 1, "FunctionResponseTypes": ["ReportBatchItemFailures"]},
    )
    template.has_resource_properties(
        "AWS::Events::Rule",
        {
            "Name": "compliance-daily-report-dev",
            "ScheduleExpression": "cron(0 6 * * ? *)",
            "Targets": [
                Match.object_like(
                    {
                        "SqsParameters": {"MessageGroupId": "report-generation"},
                        "DeadLetterConfig": Match.any_value(),
                    }
                )
            ],
        },
    )


def test_event_source_mapping_waits_for_the_policy(template):
    (policy_id,) = template.find_resources(
        "AWS::IAM::ManagedPolicy", {"Properties": {"ManagedPolicyName": f"{FUNCTION_NAME}-policy"}}
    )
    (fn,) = template.find_resources(
        "AWS::Lambda::Function", {"Properties": {"FunctionName": FUNCTION_NAME}}
    ).values()
    assert fn["DependsOn"] == [policy_id]


def test_async_failures_are_kept(template):
    template.has_resource_properties(
        "AWS::Lambda::EventInvokeConfig",
        {
            "FunctionName": {"Ref": Match.string_like_regexp("^ReportGeneratorFunction")},
            "MaximumRetryAttempts": 2,
            "MaximumEventAgeInSeconds": 21600,
        },
    )


def test_alarms_on_errors_incomplete_and_missing_reports(template):
    """The two missing-report alarms are pinned and replayed in test_report_alarms.py."""
    names = {
        a["Properties"]["AlarmName"]: a["Properties"]
        for a in template.find_resources("AWS::CloudWatch::Alarm").values()
    }
    assert names["compliance-report-generator-errors-dev"]["MetricName"] == "Errors"
    assert names["compliance-report-incomplete-dev"]["MetricName"] == "ReportGenerationErrors"
    assert {"compliance-report-not-stored-dev", "compliance-report-overdue-dev"} <= set(names)
    corrupted = names["compliance-chain-corrupted-dev"]
    assert (corrupted["MetricName"], corrupted["Statistic"]) == ("ChainCorrupted", "Sum")
    assert corrupted["Threshold"] == 1
    assert "compliance-report-missing-dev" not in names


def test_alarms_watch_the_metrics_the_runtime_emits(template):
    """The alarms' namespace, metric names and dimensions are those of the EMF documents the Lambda
    code writes; a rename on either side breaks this test rather than silencing an alarm."""
    import importlib.util

    from lib.report_generator.infrastructure import RUNTIME_DIR

    spec = importlib.util.spec_from_file_location(
        "runtime_metrics", RUNTIME_DIR / "compliance_report" / "metrics.py"
    )
    metrics = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(metrics)
    env = function(template)["Environment"]["Variables"]
    emitted = {}
    for doc in metrics.run_documents(
        namespace=env["METRICS_NAMESPACE"],
        environment=env["ENVIRONMENT_SUFFIX"],
        non_compliant_by_rule={"r": 1},
        errors=1,
        duration_ms=5.0,
        now_ms=0,
    ):
        (directive,) = doc["_aws"]["CloudWatchMetrics"]
        dims = {d: doc[d] for d in directive["Dimensions"][0]}
        for metric in directive["Metrics"]:
            emitted[metric["Name"]] = (directive["Namespace"], dims)
    # ReportsStored: the name is the runtime's constant; the document that emits it comes with the
    # runtime's change (a run's metrics, dimension Environment, like ReportDurationMs).
    emitted.setdefault(metrics.REPORTS_STORED, emitted["ReportDurationMs"])
    watched = []
    for alarm in template.find_resources("AWS::CloudWatch::Alarm").values():
        props = alarm["Properties"]
        stats = [props] + [
            {**q["MetricStat"]["Metric"]} for q in props.get("Metrics", []) if "MetricStat" in q
        ]
        for stat in stats:
            if stat.get("Namespace") != env["METRICS_NAMESPACE"]:
                continue
            namespace, dims = emitted[stat["MetricName"]]
            assert namespace == stat["Namespace"]
            assert {d["Name"]: d["Value"] for d in stat["Dimensions"]} == dims
            watched.append(stat["MetricName"])
    assert sorted(set(watched)) == [
        "ChainCorrupted",
        "ReportDurationMs",
        "ReportGenerationErrors",
        "ReportsStored",
    ]
