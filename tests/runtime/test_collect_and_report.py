"""GIVEN AWS Config answers (an in-memory Config with the real pagination contract, behind a real botocore
client) WHEN a run collects and builds its report THEN counts, findings, errors and the deadline are
reported, and the report is valid.

The real emulator, retries and HTTP are exercised in tests/integration.
"""

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import boto3
import pytest
from botocore.awsrequest import AWSResponse
from compliance_report.clients import client_config, raw_timestamp_session
from compliance_report.collect import Collector
from compliance_report.model import ChainPosition, Counts, Finding, Report, Rule
from compliance_report.report import (
    ENCODE_SLICE,
    Draft,
    report_bytes,
    report_content,
    report_key,
    summarise,
)
from compliance_report.settings import MonitoredRule
from compliance_report.triggers import Trigger

RECORDED = datetime(2026, 11, 26, 5, 40, 12, 345000, tzinfo=timezone.utc)
RULES = (
    MonitoredRule("s3-bucket-sse-dev", "S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED"),
    MonitoredRule("rds-storage-encrypted-dev", "RDS_STORAGE_ENCRYPTED"),
    MonitoredRule("ec2-imdsv2-check-dev", "EC2_IMDSV2_CHECK"),
)
TRIGGER = Trigger("schedule", "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa", RECORDED, None)
GENERATED_AT = "2026-11-26T06:00:01.250Z"
FIRST = ChainPosition(0, None, None)


def _evaluation(rule, resource_type, resource_id, compliance):
    return {
        "EvaluationResultIdentifier": {
            "EvaluationResultQualifier": {
                "ConfigRuleName": rule,
                "ResourceType": resource_type,
                "ResourceId": resource_id,
            }
        },
        "ComplianceType": compliance,
        "ResultRecordedTime": RECORDED.timestamp(),  # the JSON protocol's epoch seconds
        "Annotation": "Server-side encryption is not enabled."
        if compliance == "NON_COMPLIANT"
        else None,
    }


class _Body:
    def __init__(self, data):
        self.data = data

    def stream(self, **_):
        yield self.data


class InMemoryConfig:
    """Answers the five Config operations the collector uses, paginating like AWS (Limit, NextToken).

    It answers at the HTTP layer of a real botocore client (``client()``), so the collector's
    paginators, botocore's parser and its error handling are the ones that run in Lambda."""

    def __init__(self, evaluations, failing_rules=(), missing_rules=(), gate=None):
        self.evaluations = evaluations  # rule -> list of evaluation dicts
        self.failing_rules = set(failing_rules)
        self.missing_rules = set(missing_rules)
        self.gate = gate
        self.calls = []
        self.lock = threading.Lock()

    def client(self):
        session = boto3.session.Session(
            botocore_session=raw_timestamp_session(),
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name="eu-west-1",
        )
        config = session.client(
            "config", endpoint_url="http://127.0.0.1:9", config=client_config(1)
        )
        config.meta.events.register("before-send.config", self._answer)
        return config

    def _answer(self, request, **_):
        operation = request.headers["X-Amz-Target"].decode().split(".")[-1]
        params = json.loads(request.body or b"{}")
        try:
            status, payload = 200, getattr(self, operation)(**params)
        except _Refused as e:
            status, payload = 400, {"__type": e.code, "message": f"{e.code} from test"}
        return AWSResponse(request.url, status, {}, _Body(json.dumps(payload).encode()))

    def _record(self, name, **params):
        with self.lock:
            self.calls.append((name, params))

    def GetComplianceDetailsByConfigRule(  # noqa: N802 (the operation's name)
        self, ConfigRuleName, ComplianceTypes, Limit, NextToken=None
    ):
        self._record("details", rule=ConfigRuleName, types=tuple(ComplianceTypes), token=NextToken)
        if ConfigRuleName in self.missing_rules:
            raise _Refused("NoSuchConfigRuleException")
        if ConfigRuleName in self.failing_rules:
            raise _Refused("ThrottlingException")
        if self.gate is not None and NextToken is not None:
            self.gate.wait()
        matching = [
            e
            for e in self.evaluations.get(ConfigRuleName, [])
            if e["ComplianceType"] in ComplianceTypes
        ]
        start = int(NextToken or 0)
        page = {"EvaluationResults": matching[start : start + Limit]}
        if start + Limit < len(matching):
            page["NextToken"] = str(start + Limit)
        return page

    def DescribeComplianceByConfigRule(self, ConfigRuleNames, NextToken=None):  # noqa: N802
        self._record("compliance", names=tuple(ConfigRuleNames))
        if self.missing_rules & set(ConfigRuleNames):
            raise _Refused("NoSuchConfigRuleException")
        items = []
        for name in ConfigRuleNames:
            types = {e["ComplianceType"] for e in self.evaluations.get(name, [])}
            if "NON_COMPLIANT" in types:
                items.append(
                    {"ConfigRuleName": name, "Compliance": {"ComplianceType": "NON_COMPLIANT"}}
                )
            elif "COMPLIANT" in types:
                items.append(
                    {"ConfigRuleName": name, "Compliance": {"ComplianceType": "COMPLIANT"}}
                )
        return {"ComplianceByConfigRules": items}

    def DescribeConfigRuleEvaluationStatus(self, ConfigRuleNames, NextToken=None):  # noqa: N802
        self._record("status", names=tuple(ConfigRuleNames))
        if self.missing_rules & set(ConfigRuleNames):
            raise _Refused("NoSuchConfigRuleException")
        return {
            "ConfigRulesEvaluationStatus": [
                {
                    "ConfigRuleName": name,
                    "FirstEvaluationStarted": True,
                    "LastSuccessfulEvaluationTime": RECORDED.timestamp(),
                }
                for name in ConfigRuleNames
            ]
        }

    def DescribeConfigurationRecorderStatus(self):  # noqa: N802
        self._record("recorder")
        return {
            "ConfigurationRecordersStatus": [
                {"name": "default", "recording": True, "lastStatus": "Success"}
            ]
        }

    def DescribeDeliveryChannelStatus(self):  # noqa: N802
        self._record("channel")
        return {
            "DeliveryChannelsStatus": [
                {
                    "name": "default",
                    "configHistoryDeliveryInfo": {"lastStatus": "Success"},
                    "configSnapshotDeliveryInfo": {"lastStatus": "Success"},
                    "configStreamDeliveryInfo": {"lastStatus": "Not_Applicable"},
                }
            ]
        }


class _Refused(Exception):
    def __init__(self, code):
        super().__init__(code)
        self.code = code


def _estate(non_compliant_per_rule, compliant=3, not_applicable=2):
    evaluations = {}
    for rule, count in zip([r.name for r in RULES], non_compliant_per_rule):
        items = [
            _evaluation(rule, "AWS::S3::Bucket", f"bucket-{i:05d}", "NON_COMPLIANT")
            for i in range(count)
        ]
        items += [
            _evaluation(rule, "AWS::S3::Bucket", f"ok-{i}", "COMPLIANT") for i in range(compliant)
        ]
        items += [
            _evaluation(rule, "AWS::EC2::Instance", f"i-{i:017x}", "NOT_APPLICABLE")
            for i in range(not_applicable)
        ]
        evaluations[rule] = items
    return evaluations


def _collect(config, timeout_s=10.0):
    stop = threading.Event()
    collector = Collector(config.client(), RULES, stop)
    with ThreadPoolExecutor(max_workers=12) as pool:
        collector.start(pool)
        collection = collector.finish(timeout_s, int(timeout_s * 1000))
        stop.set()
    return collection


def _finished(collection, trigger=TRIGGER, chain=FIRST):
    """The report and its stored bytes, as a run writes them."""
    content = report_content(
        report_id="2c9d7a8e-5b1f-5e4a-9c3d-7f6e5d4c3b2a",
        trigger=trigger,
        account="123456789012",
        region="eu-west-1",
        environment_suffix="dev",
        collection=collection,
    )
    return Draft(content).finish(GENERATED_AT, chain)


def _report(collection, chain=FIRST):
    """The stored report, read back as JSON."""
    return json.loads(_finished(collection, chain=chain)[1])


def test_every_non_compliant_page_is_read_and_counted(assert_valid_report):
    config = InMemoryConfig(_estate([250, 100, 0]))

    collection = _collect(config)
    report = assert_valid_report(_report(collection))

    assert report["complete"] is True
    counts = {r["name"]: r["counts"] for r in report["rules"]}
    assert counts["s3-bucket-sse-dev"] == {
        "compliant": 3,
        "nonCompliant": 250,
        "notApplicable": 2,
        "excepted": 0,
    }
    assert counts["rds-storage-encrypted-dev"]["nonCompliant"] == 100
    assert counts["ec2-imdsv2-check-dev"]["nonCompliant"] == 0
    assert [r["complianceType"] for r in report["rules"]] == [
        "NON_COMPLIANT",
        "NON_COMPLIANT",
        "COMPLIANT",
    ]
    assert report["summary"] == {
        "totalNonCompliant": 350,
        "rulesNonCompliant": 2,
        "byRule": {
            "s3-bucket-sse-dev": 250,
            "rds-storage-encrypted-dev": 100,
            "ec2-imdsv2-check-dev": 0,
        },
        "byResourceType": {"AWS::S3::Bucket": 350},
        "totalExcepted": 0,
        "exceptedByRule": {
            "s3-bucket-sse-dev": 0,
            "rds-storage-encrypted-dev": 0,
            "ec2-imdsv2-check-dev": 0,
        },
    }
    first = report["rules"][0]["nonCompliant"][0]
    assert first == {
        "resourceType": "AWS::S3::Bucket",
        "resourceId": "bucket-00000",
        "annotation": "Server-side encryption is not enabled.",
        "resultRecordedTime": "2026-11-26T05:40:12.345Z",
    }
    # 250 findings at Limit 100 are 3 NON_COMPLIANT pages; each request used Limit 100 and the last token.
    pages = [c for c in config.calls if c[0] == "details" and c[1]["rule"] == "s3-bucket-sse-dev"]
    assert [p[1]["token"] for p in pages if p[1]["types"] == ("NON_COMPLIANT",)] == [
        None,
        "100",
        "200",
    ]


def test_a_rule_whose_api_keeps_failing_is_incomplete_and_named_in_errors(assert_valid_report):
    config = InMemoryConfig(_estate([5, 5, 5]), failing_rules=["rds-storage-encrypted-dev"])

    report = assert_valid_report(_report(_collect(config)))

    assert report["complete"] is False
    by_name = {r["name"]: r for r in report["rules"]}
    assert by_name["rds-storage-encrypted-dev"]["complete"] is False
    assert by_name["s3-bucket-sse-dev"]["complete"] is True
    assert {(e["scope"], e["subject"], e["code"]) for e in report["errors"]} == {
        ("rule", "rds-storage-encrypted-dev", "ThrottlingException")
    }


def test_a_missing_rule_is_a_monitoring_problem_and_the_others_are_still_read(assert_valid_report):
    config = InMemoryConfig(_estate([5, 5, 5]), missing_rules=["ec2-imdsv2-check-dev"])

    report = assert_valid_report(_report(_collect(config)))

    assert [(p["code"], p["subject"]) for p in report["monitoring"]["problems"]] == [
        ("RULE_MISSING", "ec2-imdsv2-check-dev")
    ]
    by_name = {r["name"]: r for r in report["rules"]}
    assert by_name["s3-bucket-sse-dev"]["complianceType"] == "NON_COMPLIANT"
    assert by_name["s3-bucket-sse-dev"]["evaluationStatus"]["firstEvaluationStarted"] is True
    assert by_name["ec2-imdsv2-check-dev"]["evaluationStatus"] is None
    assert by_name["ec2-imdsv2-check-dev"]["complianceType"] == "UNKNOWN"


def test_reads_still_running_at_the_deadline_become_deadline_errors_and_what_was_read_is_kept(
    assert_valid_report,
):
    gate = threading.Event()  # second pages block until released: the deadline falls first
    config = InMemoryConfig(_estate([150, 20, 0]), gate=gate)
    stop = threading.Event()
    collector = Collector(config.client(), RULES, stop)
    pool = ThreadPoolExecutor(max_workers=12)
    try:
        collector.start(pool)
        collection = collector.finish(0.3, 300)
    finally:
        gate.set()
        pool.shutdown(wait=True)

    report = assert_valid_report(_report(collection))

    assert report["complete"] is False
    assert [(e["scope"], e["subject"]) for e in report["errors"]] == [
        ("deadline", "s3-bucket-sse-dev")
    ]
    s3_rule = report["rules"][0]
    assert s3_rule["complete"] is False
    assert s3_rule["counts"]["nonCompliant"] == 100  # the first page, read before the deadline
    assert report["rules"][1]["complete"] is True


def _reference_bytes(report: Report) -> bytes:
    """The bytes rule, stated the simplest way: the whole report through json.dumps at once."""
    text = json.dumps(report.to_json(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8") + b"\n"


def test_a_report_drafted_before_its_claim_has_the_bytes_of_the_whole_report_serialised_at_once():
    estate = _estate([2 * ENCODE_SLICE + 234, 3, 0])  # findings over several encoding slices
    for evaluation in estate["s3-bucket-sse-dev"][:5]:
        evaluation["Annotation"] = 'Verschlüsselung fehlt — «SSE» 暗号化なし \u2028 "quoted" \\ end'
    collection = _collect(InMemoryConfig(estate, missing_rules=["ec2-imdsv2-check-dev"]))
    trigger = Trigger("on-demand", "ops-ticket-ü-17", RECORDED, "Prüfung für das Quartal ✓")
    chain = ChainPosition(
        7, "reports/2026/11/25/00000006-0b1c2d3e-4f50-5a6b-8c7d-9e0f1a2b3c4d.json", "ab" * 32
    )

    report, body = _finished(collection, trigger, chain)

    assert body == _reference_bytes(report)
    assert report_bytes(report) == body
    assert body.endswith(b"}\n") and b"\n" not in body[:-1]
    assert "Verschlüsselung".encode() in body
    assert Report.from_json(json.loads(body)) == report


def test_a_draft_finishes_once():
    draft = Draft(_finished(_collect(InMemoryConfig(_estate([1, 0, 0]))))[0].content)
    draft.finish(GENERATED_AT, ChainPosition(0, None, None))

    with pytest.raises(RuntimeError, match="finished once"):
        draft.finish(GENERATED_AT, ChainPosition(0, None, None))


@pytest.mark.parametrize(
    "text",
    [
        "plain ascii",
        "é",
        "DEL \x7f",
        "tab\tnew\nline \x01",
        "literal \\u00e9",
        "😀 surrogate pair",
        "",
    ],
)
def test_report_bytes_match_the_reference_serialiser_character_for_character(text):
    estate = _estate([3, 0, 0])
    for evaluation in estate["s3-bucket-sse-dev"]:
        evaluation["Annotation"] = text
    collection = _collect(InMemoryConfig(estate))

    report, body = _finished(collection, Trigger("on-demand", "t-1", RECORDED, text))

    assert body == _reference_bytes(report)
    assert report.content.rules[0].findings[0].annotation == text


def test_report_key_is_dated_by_generated_at_with_an_8_digit_sequence():
    key = report_key(
        "reports/",
        datetime(2026, 11, 26, 23, 59, 59, tzinfo=timezone.utc),
        42,
        "2c9d7a8e-5b1f-5e4a-9c3d-7f6e5d4c3b2a",
    )

    assert key == "reports/2026/11/26/00000042-2c9d7a8e-5b1f-5e4a-9c3d-7f6e5d4c3b2a.json"


def test_chain_fields_of_a_later_report_validate(assert_valid_report):
    previous_key = "reports/2026/11/25/00000041-0b1c2d3e-4f50-5a6b-8c7d-9e0f1a2b3c4d.json"

    report = assert_valid_report(
        _report(
            _collect(InMemoryConfig(_estate([0, 0, 0]))),
            ChainPosition(42, previous_key, "ab" * 32),
        )
    )

    assert report["chain"] == {
        "sequence": 42,
        "previousKey": previous_key,
        "previousSha256": "ab" * 32,
    }


@pytest.mark.parametrize("counts, expected", [([0, 0], 0), ([1, 0], 1), ([2, 3], 2)])
def test_rules_non_compliant_counts_rules_with_findings(counts, expected):
    finding = Finding("AWS::S3::Bucket", "b", None, "2026-11-26T05:40:12Z")
    rules = [
        Rule(f"r{i}", "X", "NON_COMPLIANT", True, Counts(0, n, 0), None, (finding,) * n)
        for i, n in enumerate(counts)
    ]

    assert summarise(rules).rules_non_compliant == expected


@pytest.mark.parametrize(
    "seconds",
    [
        0,
        1795672800,
        1795672800.123,
        1795672800.9996,
        1795672800.9999996,
        1795672800.0004,
        951782400.5,
    ],
)
def test_epoch_timestamps_format_exactly_like_their_datetime(seconds):
    from compliance_report.timefmt import utc_z

    as_datetime = datetime.fromtimestamp(seconds, tz=timezone.utc)

    assert utc_z(seconds) == utc_z(as_datetime)
