"""GIVEN a built report WHEN the alert and the metrics are made THEN they stay within SNS and EMF limits and
say what an on-call engineer needs."""

import io
import json
from datetime import datetime, timezone

import pytest
from compliance_report import alert, changes, metrics
from compliance_report.chain_records import Link
from compliance_report.collect import Collection, RuleReads
from compliance_report.model import ChainPosition, Finding, PartialFailure, Problem, Recorder
from compliance_report.report import Draft, report_content
from compliance_report.settings import MonitoredRule
from compliance_report.triggers import Trigger

KEY = "reports/2026/11/26/00000007-2c9d7a8e-5b1f-5e4a-9c3d-7f6e5d4c3b2a.json"
HEAD = Link(7, KEY, "ef" * 32)


def _report(findings_per_rule, problems=(), errors=(), suffix="prod-eu", resource_id="bucket"):
    rules = []
    for index, count in enumerate(findings_per_rule):
        reads = RuleReads(
            MonitoredRule(f"rule-{index}", "S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED")
        )
        reads.compliance_type = "NON_COMPLIANT" if count else "COMPLIANT"
        reads.findings_complete = reads.counts_complete = True
        reads.compliant = 4
        reads.findings = [
            Finding(
                "AWS::S3::Bucket", f"{resource_id}-{index}-{n:03d}", None, "2026-11-26T05:40:00Z"
            )
            for n in range(count)
        ]
        rules.append(reads)
    collection = Collection(
        rules=rules,
        problems=[Problem(**p) for p in problems],
        errors=[PartialFailure(**e) for e in errors],
    )
    collection.recorders = [Recorder("default", True, "SUCCESS", None, None, None)]
    content = report_content(
        report_id="2c9d7a8e-5b1f-5e4a-9c3d-7f6e5d4c3b2a",
        trigger=Trigger(
            "on-demand", "req-1", datetime(2026, 11, 26, 6, 0, tzinfo=timezone.utc), "Q4 é"
        ),
        account="123456789012",
        region="eu-west-1",
        environment_suffix=suffix,
        collection=collection,
    )
    chain = ChainPosition(
        7, "reports/2026/11/25/00000006-0b1c2d3e-4f50-5a6b-8c7d-9e0f1a2b3c4d.json", "cd" * 32
    )
    report, _ = Draft(content).finish("2026-11-26T06:00:01Z", chain)
    return report


def test_clean_report_needs_no_alert(assert_valid_report):
    report = _report([0, 0])
    assert_valid_report(report.to_json())

    assert alert.needs_alert(report) is False


def test_non_compliant_alert_has_short_subject_counts_first_n_and_location(assert_valid_report):
    report = _report([25, 0, 3])
    assert_valid_report(report.to_json())

    first = changes.compare(None, report)
    subject = alert.subject(report, first)
    body = alert.body(report, "compliance-reports-prod", KEY, 10, HEAD, first)

    assert alert.needs_alert(report) is True
    assert subject == "[NON_COMPLIANT] prod-eu: 28 non-compliant in 2 rule(s) (report 7)"
    lines = body.splitlines()
    assert lines[2] == f"Full report: s3://compliance-reports-prod/{KEY}"
    assert lines[3] == f"witness: 7 {KEY} {'ef' * 32}"
    assert (
        "rule-0 (S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED): 25 non-compliant, 4 compliant" in body
    )
    assert "First report of the trail: 28 open" in body
    assert "bucket-0-009" in body and "bucket-0-010" not in body
    assert "... and 15 more in the full report" in body
    assert "bucket-2-002" in body


def test_subject_never_exceeds_100_ascii_characters(assert_valid_report):
    problems = [
        {"code": "RECORDER_NOT_RECORDING", "subject": "default", "message": "recorder stopped"}
    ] * 12
    errors = [{"scope": "rule", "subject": "rule-0", "code": "Throttling", "message": "x"}]
    report = _report([3] * 9, problems, errors, "a" * 16)
    assert_valid_report(report.to_json())

    subject = alert.subject(report)

    assert len(subject) <= alert.SUBJECT_MAX
    assert subject.isascii() and "\n" not in subject


@pytest.mark.parametrize(
    "findings, problems, errors, expected",
    [
        ([1], [], [], "NON_COMPLIANT"),
        (
            [0],
            [{"code": "RECORDER_MISSING", "subject": "(none)", "message": "m"}],
            [],
            "MONITORING",
        ),
        (
            [0],
            [],
            [{"scope": "deadline", "subject": "rule-0", "code": "D", "message": "m"}],
            "INCOMPLETE",
        ),
    ],
)
def test_message_attributes_let_subscriptions_filter(findings, problems, errors, expected):
    report = _report(findings, problems, errors)

    attributes = alert.attributes(report, KEY, HEAD)

    assert len(attributes) <= 10  # what SNS delivers to an SQS subscription with raw delivery
    assert attributes["severity"] == {"DataType": "String", "StringValue": expected}
    assert attributes["headSequence"] == {"DataType": "Number", "StringValue": "7"}
    assert attributes["headKey"] == {"DataType": "String", "StringValue": KEY}
    assert attributes["headSha256"] == {"DataType": "String", "StringValue": "ef" * 32}
    assert attributes["environment"]["StringValue"] == "prod-eu"
    assert attributes["nonCompliantCount"] == {
        "DataType": "Number",
        "StringValue": str(sum(findings)),
    }
    assert json.loads(attributes["nonCompliantRules"]["StringValue"]) == (
        ["rule-0"] if sum(findings) else []
    )
    assert attributes["nonCompliantRules"]["DataType"] == "String.Array"
    assert attributes["reportKey"]["StringValue"] == KEY


def test_an_alert_too_large_for_sns_is_cut_at_a_whole_line_and_still_says_where_the_report_is():
    # 12 rules x 1,000 shown resources with 700-character ids: ~8.5 MB of text before the cut.
    report = _report([1000] * 12, resource_id="r" * 700)

    class Sns:
        def publish(self, **message):
            self.message = message
            return {"MessageId": "m-1"}

    sns = Sns()
    alert.publish(
        sns, "arn:aws:sns:eu-west-1:123456789012:t", report, "b", HEAD, 1000, _first(report)
    )

    sent = sns.message
    size = len(sent["Message"].encode()) + sum(
        len(name) + len(v["DataType"]) + len(v["StringValue"].encode())
        for name, v in sent["MessageAttributes"].items()
    )
    assert size <= alert.MESSAGE_MAX_BYTES
    assert size > alert.MESSAGE_MAX_BYTES - 1000  # filled up to the limit, not cut far short
    assert f"Full report: s3://b/{KEY}\nwitness: 7 {KEY} {'ef' * 32}\n" in sent["Message"]
    assert sent["Message"].endswith(f"everything is in s3://b/{KEY})\n")
    *lines, _ = sent["Message"].splitlines()
    assert lines[-1].startswith("  rule-") and " AWS::S3::Bucket  r" in lines[-1]
    assert len(lines[-1]) > 700


def _first(report):
    """The comparison of a first report (every open finding listed, as a new trail's e-mail does)."""
    return changes.compare(None, report)


class _Sns:
    def publish(self, **message):
        self.message = message
        return {"MessageId": "m-1"}


def _sns_bytes(message):
    """What the Publish request carries as text, in UTF-8 bytes: the message, the subject and every
    attribute's name, type and value (the API reference counts the message and the attributes
    toward the limit; the subject, at most 100 bytes, is counted too, to be safe)."""
    return (
        len(message["Message"].encode("utf-8"))
        + len(message["Subject"].encode("utf-8"))
        + sum(
            len(name.encode("utf-8"))
            + len(v["DataType"].encode("utf-8"))
            + len(v["StringValue"].encode("utf-8"))
            for name, v in message["MessageAttributes"].items()
        )
    )


@pytest.mark.parametrize("wide", ["é", "日", "😀"])
def test_an_alert_of_multi_byte_resource_ids_at_the_most_resources_fits_sns_in_bytes(wide):
    """Resource ids of up to 768 characters (limits.RESOURCE_ID) of 2-, 3- and 4-byte UTF-8, the
    most resources ALERT_MAX_RESOURCES allows (1,000 per rule): every id length gives a message
    that fits, however little room its last whole line leaves."""
    sizes = []
    for length in range(560, 768, 7):
        resource_id = (wide * length)[:length]
        report = _report([1000, 1000], resource_id=resource_id)
        sns = _Sns()

        alert.publish(
            sns, "arn:aws:sns:eu-west-1:123456789012:t", report, "b", HEAD, 1000, _first(report)
        )

        size = _sns_bytes(sns.message)
        sizes.append(size)
        assert size <= alert.MESSAGE_MAX_BYTES, (length, size)
        assert sns.message["Message"].endswith(f"everything is in s3://b/{KEY})\n")
    assert min(sizes) > alert.MESSAGE_MAX_BYTES - 4 * 800  # filled up to the limit, not far short


def test_an_alert_within_the_limit_is_not_cut():
    report = _report([40, 3])

    text = alert.body(report, "b", KEY, 1000, HEAD, _first(report))

    assert "cut" not in text and text.count("  AWS::S3::Bucket  ") == 43


def test_emf_documents_carry_the_run_metrics_with_units_and_dimensions():
    docs = metrics.run_documents(
        namespace="ComplianceAudit",
        environment="prod",
        non_compliant_by_rule={"rule-b": 2, "rule-a": 0},
        errors=1,
        reports_stored=1,
        duration_ms=1234.56,
        now_ms=1795672800000,
    )
    out = io.StringIO()

    metrics.emit(docs, out)

    lines = [json.loads(line) for line in out.getvalue().splitlines()]
    assert [line.get("Rule") for line in lines] == ["rule-a", "rule-b", None]
    for line in lines:
        (directive,) = line["_aws"]["CloudWatchMetrics"]
        assert directive["Namespace"] == "ComplianceAudit"
        assert line["_aws"]["Timestamp"] == 1795672800000
        for dimension_set in directive["Dimensions"]:
            assert all(name in line for name in dimension_set)
        for metric in directive["Metrics"]:
            assert isinstance(line[metric["Name"]], (int, float))
    assert lines[1][metrics.NON_COMPLIANT_RESOURCES] == 2
    assert lines[2][metrics.REPORT_GENERATION_ERRORS] == 1
    assert lines[2][metrics.REPORTS_STORED] == 1
    assert lines[2][metrics.REPORT_DURATION_MS] == 1234.6
    assert lines[2][metrics.CHAIN_CORRUPTED] == 0
    units = {m["Name"]: m["Unit"] for m in lines[2]["_aws"]["CloudWatchMetrics"][0]["Metrics"]}
    assert units == {
        "ReportGenerationErrors": "Count",
        "ReportsStored": "Count",
        "ChainCorrupted": "Count",
        "ReportDurationMs": "Milliseconds",
    }


def test_metric_names_are_importable_without_the_lambdas_dependencies():
    """The stack imports the names from this module: it must need nothing but the standard library."""
    import ast
    from pathlib import Path

    tree = ast.parse(Path(metrics.__file__).read_text(encoding="utf-8"))
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            imported.add("." if node.level else (node.module or "").split(".")[0])
    assert imported <= {"__future__", "json", "sys", "typing"}, imported
    assert metrics.REPORTS_STORED == "ReportsStored"
    assert metrics.CHAIN_CORRUPTED == "ChainCorrupted"
