"""GIVEN the Lambda entry point WHEN it is invoked with what it must not act on THEN it logs exactly one
structured line and makes no AWS call (these paths never build a client)."""

import importlib.util
import json
import logging
from pathlib import Path

import pytest
from compliance_report.errors import SettingsError

RUNTIME = Path(__file__).resolve().parents[2] / "lib" / "report_generator" / "runtime"
ENV = {
    "REPORT_BUCKET": "compliance-reports-dev",
    "ALERT_TOPIC_ARN": "arn:aws:sns:eu-west-1:123456789012:compliance-alerts-dev",
    "MONITORED_RULES": json.dumps(
        [{"name": "s3-sse", "managedIdentifier": "S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED"}]
    ),
    "ENVIRONMENT_SUFFIX": "dev",
    "AWS_REGION": "eu-west-1",
}


class Context:
    invoked_function_arn = (
        "arn:aws:lambda:eu-west-1:123456789012:function:compliance-report-generator-dev"
    )
    aws_request_id = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"

    def get_remaining_time_in_millis(self):
        return 300_000


@pytest.fixture
def handler(monkeypatch):
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("AWS_LAMBDA_LOG_FORMAT", raising=False)
    spec = importlib.util.spec_from_file_location(
        "report_generator_handler_unit", RUNTIME / "handler.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_unknown_event_is_ignored_with_one_json_line_on_stdout(handler, load_event, capsys):
    result = handler.handler(load_event("s3_put_event.json"), Context())

    lines = capsys.readouterr().out.splitlines()
    assert result["status"] == "ignored"
    (line,) = [json.loads(x) for x in lines]
    assert line["level"] == "WARNING" and line["outcome"] == "ignored"
    assert line["requestId"] == Context.aws_request_id
    assert "not all from aws:sqs" in line["reason"]


def test_under_lambda_json_logging_the_fields_go_to_the_log_record(
    handler, monkeypatch, caplog, capsys
):
    monkeypatch.setenv("AWS_LAMBDA_LOG_FORMAT", "JSON")

    with caplog.at_level(logging.INFO, logger="compliance_report"):
        handler.handler({"hello": "world"}, Context())

    (record,) = caplog.records
    assert record.outcome == "ignored" and record.requestId == Context.aws_request_id
    assert capsys.readouterr().out == ""


def test_misconfigured_function_fails_loudly_with_the_variable_named(handler, monkeypatch, capsys):
    monkeypatch.setenv("MONITORED_RULES", "[]")

    with pytest.raises(SettingsError, match="MONITORED_RULES"):
        handler.handler({"action": "generate-report"}, Context())

    (line,) = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert line["level"] == "ERROR" and "MONITORED_RULES" in line["error"]
