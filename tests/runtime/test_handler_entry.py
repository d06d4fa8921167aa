"""GIVEN the Lambda entry point WHEN it is invoked with what it must not act on THEN it logs exactly one
structured line and makes no AWS call (these paths never build a client)."""

import json
import logging

import pytest
from compliance_report.errors import SettingsError

from lib.report_generator import local_harness as harness
from tests.runtime.offline import function_environment

ENV = function_environment()
REQUEST_ID = "c6af9ac6-7b61-11e6-9a41-93e8deadbeef"


def _context():
    return harness.LambdaContext(request_id=REQUEST_ID, region="eu-west-1")


@pytest.fixture
def handler(monkeypatch):
    for name, value in ENV.items():
        monkeypatch.setenv(name, value)
    for name in harness.NOT_IN_LAMBDA:
        monkeypatch.delenv(name, raising=False)
    return harness.load_handler("report_generator_handler_unit")


def test_unknown_event_is_ignored_with_one_json_line_on_stdout(handler, load_event, capsys):
    result = handler.handler(load_event("s3_put_event.json"), _context())

    lines = capsys.readouterr().out.splitlines()
    assert result["status"] == "ignored"
    (line,) = [json.loads(x) for x in lines]
    assert line["level"] == "WARNING" and line["outcome"] == "ignored"
    assert line["requestId"] == REQUEST_ID
    assert "not all from aws:sqs" in line["reason"]


def test_under_lambda_json_logging_the_fields_go_to_the_log_record(
    handler, monkeypatch, caplog, capsys
):
    monkeypatch.setenv("AWS_LAMBDA_LOG_FORMAT", "JSON")

    with caplog.at_level(logging.INFO, logger="compliance_report"):
        handler.handler({"hello": "world"}, _context())

    (record,) = caplog.records
    assert record.outcome == "ignored" and record.requestId == REQUEST_ID
    assert capsys.readouterr().out == ""


def test_misconfigured_function_fails_loudly_with_the_variable_named(handler, monkeypatch, capsys):
    monkeypatch.setenv("MONITORED_RULES", "[]")

    with pytest.raises(SettingsError, match="MONITORED_RULES"):
        handler.handler({"action": "generate-report"}, _context())

    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    (line,) = [x for x in lines if "_aws" not in x]
    assert line["level"] == "ERROR" and "MONITORED_RULES" in line["error"]
