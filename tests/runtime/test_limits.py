"""GIVEN AWS answers whose strings and lists exceed the report schema's size limits WHEN the report is built
THEN every value is cut to its limit and the report validates: the writer never stores a report that its
own schema, and so the auditor, refuses."""

import json
from datetime import datetime, timezone
from pathlib import Path

from compliance_report import limits, monitoring
from compliance_report.collect import Collection, RuleReads, finding_from
from compliance_report.model import ChainPosition, Finding, PartialFailure, Problem
from compliance_report.report import Draft, report_content
from compliance_report.settings import MonitoredRule
from compliance_report.triggers import Trigger

SCHEMA = json.loads(
    (
        Path(__file__).resolve().parents[2] / "schema" / "compliance-report.v1.schema.json"
    ).read_text()
)
DEFS = SCHEMA["$defs"]
MONITORING = DEFS["monitoring"]["properties"]


def test_the_limits_are_the_schemas():
    recorder = MONITORING["recorders"]["items"]["properties"]
    rule = DEFS["rule"]["properties"]
    assert limits.NAME == recorder["name"]["maxLength"] == DEFS["resourceType"]["maxLength"]
    assert limits.NAME == DEFS["error"]["properties"]["subject"]["maxLength"]
    assert limits.RULE_NAME == rule["name"]["maxLength"]
    assert limits.RESOURCE_ID == DEFS["finding"]["properties"]["resourceId"]["maxLength"]
    assert limits.ANNOTATION == DEFS["finding"]["properties"]["annotation"]["maxLength"]
    assert (
        limits.CODE
        == DEFS["errorCode"]["maxLength"]
        == DEFS["error"]["properties"]["code"]["maxLength"]
    )
    assert limits.MESSAGE == DEFS["errorMessage"]["maxLength"]
    assert limits.MESSAGE == DEFS["error"]["properties"]["message"]["maxLength"]
    assert limits.MESSAGE == MONITORING["problems"]["items"]["properties"]["message"]["maxLength"]
    assert limits.FINDINGS_PER_RULE == rule["nonCompliant"]["maxItems"]
    assert limits.ERRORS == SCHEMA["properties"]["errors"]["maxItems"]
    assert limits.PROBLEMS == MONITORING["problems"]["maxItems"]
    assert limits.RECORDERS == MONITORING["recorders"]["maxItems"]
    assert limits.CHANNELS == MONITORING["deliveryChannels"]["maxItems"]


def _report(collection):
    content = report_content(
        report_id="2c9d7a8e-5b1f-5e4a-9c3d-7f6e5d4c3b2a",
        trigger=Trigger("on-demand", "r", datetime(2026, 1, 1, tzinfo=timezone.utc), None),
        account="123456789012",
        region="us-east-1",
        environment_suffix="prod",
        collection=collection,
    )
    return Draft(content).finish("2026-11-26T06:00:01Z", ChainPosition(0, None, None))[0]


def test_aws_strings_beyond_the_schema_are_cut_to_its_limits(assert_valid_report):
    """A recorder, a channel and a rule's evaluation status whose error code and message are far
    longer than the schema allows (the API model gives them no limit), a problem and an error of
    10,000 characters, and a finding with an over-long type, id and annotation."""
    huge = "é" * 10_000
    recorders = monitoring.recorder_records(
        [
            {
                "name": "r" * 300,
                "recording": False,
                "lastStatus": "Failure",
                "lastErrorCode": huge,
                "lastErrorMessage": huge,
            }
        ]
    )
    channels = monitoring.channel_records(
        [
            {
                "name": "c",
                "configHistoryDeliveryInfo": {"lastStatus": "Failure", "lastErrorCode": huge},
            }
        ]
    )
    status = monitoring.evaluation_record(
        {"FirstEvaluationStarted": True, "LastErrorCode": huge, "LastErrorMessage": huge}
    )
    reads = RuleReads(MonitoredRule("rule-0", "S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED"))
    reads.findings_complete = reads.counts_complete = True
    reads.evaluation_status = status
    finding = finding_from(
        {
            "EvaluationResultIdentifier": {
                "EvaluationResultQualifier": {"ResourceType": "AWS::S3::Bucket", "ResourceId": huge}
            },
            "Annotation": huge,
            "ResultRecordedTime": "2026-11-26T05:00:00Z",
        }
    )
    reads.findings = [finding]
    collection = Collection(
        rules=[reads],
        problems=[Problem("RECORDER_FAILURE", huge, huge)],
        errors=[PartialFailure("monitoring", huge, huge, huge)],
    )
    collection.recorders, collection.channels = recorders, channels

    report = assert_valid_report(_report(collection).to_json())

    (recorder,) = report["monitoring"]["recorders"]
    assert len(recorder["name"]) == limits.NAME
    assert len(recorder["lastErrorCode"]) == limits.CODE
    assert len(recorder["lastErrorMessage"]) == limits.MESSAGE
    assert len(report["monitoring"]["deliveryChannels"][0]["lastErrorCode"]) == limits.CODE
    evaluation = report["rules"][0]["evaluationStatus"]
    assert (len(evaluation["lastErrorCode"]), len(evaluation["lastErrorMessage"])) == (256, 4096)
    (found,) = report["rules"][0]["nonCompliant"]
    assert (len(found["resourceId"]), len(found["annotation"])) == (768, 256)
    (error,) = report["errors"]
    assert (len(error["subject"]), len(error["code"]), len(error["message"])) == (256, 256, 4096)


def test_more_findings_than_a_report_holds_keep_the_first_and_mark_the_rule_incomplete(
    assert_valid_report, monkeypatch
):
    monkeypatch.setattr(limits, "FINDINGS_PER_RULE", 5)  # the schema's 250,000, scaled down
    reads = RuleReads(MonitoredRule("rule-0", "S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED"))
    reads.findings_complete = reads.counts_complete = True
    reads.findings = [
        Finding("AWS::S3::Bucket", f"b-{n}", None, "2026-11-26T05:00:00Z") for n in range(8)
    ]

    report = _report(Collection(rules=[reads])).to_json()

    (rule,) = report["rules"]
    assert [f["resourceId"] for f in rule["nonCompliant"]] == [f"b-{n}" for n in range(5)]
    assert rule["complete"] is False and report["complete"] is False
    (error,) = report["errors"]
    assert error["code"] == "TooManyFindings" and "8 non-compliant resources" in error["message"]


def test_lists_beyond_the_schema_keep_their_first_items(monkeypatch):
    monkeypatch.setattr(limits, "PROBLEMS", 3)
    monkeypatch.setattr(limits, "ERRORS", 2)
    problems = [Problem("RULE_MISSING", f"rule-{n}", "m") for n in range(10)]
    errors = [PartialFailure("rule", f"rule-{n}", "C", "m") for n in range(10)]

    report = _report(Collection(rules=[], problems=problems, errors=errors)).to_json()

    assert [p["subject"] for p in report["monitoring"]["problems"]] == [
        "rule-0",
        "rule-1",
        "rule-2",
    ]
    assert [e["subject"] for e in report["errors"]] == ["rule-0", "rule-1"]
