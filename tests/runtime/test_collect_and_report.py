"""GIVEN AWS Config answers (an in-memory Config with the real pagination contract) WHEN a run collects and
builds its report THEN counts, findings, errors and the deadline are reported, and the report is valid.

The real clients, retries and HTTP are exercised in tests/integration against the emulator.
"""

import json
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone

import pytest
from botocore.exceptions import ClientError
from compliance_report.collect import Collector
from compliance_report.report import (
    build_report,
    draft_report,
    finish_report,
    report_bytes,
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
        "ResultRecordedTime": RECORDED,
        "Annotation": "Server-side encryption is not enabled."
        if compliance == "NON_COMPLIANT"
        else None,
    }


class InMemoryConfig:
    """Answers the five Config operations the collector uses, paginating like AWS (Limit, NextToken)."""

    def __init__(self, evaluations, failing_rules=(), missing_rules=(), gate=None):
        self.evaluations = evaluations  # rule -> list of evaluation dicts
        self.failing_rules = set(failing_rules)
        self.missing_rules = set(missing_rules)
        self.gate = gate
        self.calls = []
        self.lock = threading.Lock()

    def _record(self, name, **params):
        with self.lock:
            self.calls.append((name, params))

    @staticmethod
    def _error(code, operation):
        return ClientError({"Error": {"Code": code, "Message": f"{code} from test"}}, operation)

    def get_compliance_details_by_config_rule(
        self, ConfigRuleName, ComplianceTypes, Limit, NextToken=None
    ):
        self._record("details", rule=ConfigRuleName, types=tuple(ComplianceTypes), token=NextToken)
        if ConfigRuleName in self.missing_rules:
            raise self._error("NoSuchConfigRuleException", "GetComplianceDetailsByConfigRule")
        if ConfigRuleName in self.failing_rules:
            raise self._error("ThrottlingException", "GetComplianceDetailsByConfigRule")
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

    def describe_compliance_by_config_rule(self, ConfigRuleNames, NextToken=None):
        self._record("compliance", names=tuple(ConfigRuleNames))
        if self.missing_rules & set(ConfigRuleNames):
            raise self._error("NoSuchConfigRuleException", "DescribeComplianceByConfigRule")
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

    def describe_config_rule_evaluation_status(self, ConfigRuleNames, NextToken=None):
        self._record("status", names=tuple(ConfigRuleNames))
        if self.missing_rules & set(ConfigRuleNames):
            raise self._error("NoSuchConfigRuleException", "DescribeConfigRuleEvaluationStatus")
        return {
            "ConfigRulesEvaluationStatus": [
                {
                    "ConfigRuleName": name,
                    "FirstEvaluationStarted": True,
                    "LastSuccessfulEvaluationTime": RECORDED,
                }
                for name in ConfigRuleNames
            ]
        }

    def describe_configuration_recorder_status(self):
        self._record("recorder")
        return {
            "ConfigurationRecordersStatus": [
                {"name": "default", "recording": True, "lastStatus": "Success"}
            ]
        }

    def describe_delivery_channel_status(self):
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
    collector = Collector(config, RULES, stop)
    with ThreadPoolExecutor(max_workers=12) as pool:
        collector.start(pool)
        collection = collector.finish(timeout_s, int(timeout_s * 1000))
        stop.set()
    return collection


def _report(collection, sequence=0, previous=(None, None)):
    return build_report(
        report_id="2c9d7a8e-5b1f-5e4a-9c3d-7f6e5d4c3b2a",
        generated_at=datetime(2026, 11, 26, 6, 0, 1, 250000, tzinfo=timezone.utc),
        trigger=TRIGGER,
        account="123456789012",
        region="eu-west-1",
        environment_suffix="dev",
        collection=collection,
        sequence=sequence,
        previous_key=previous[0],
        previous_sha256=previous[1],
    )


def test_every_non_compliant_page_is_read_and_counted(assert_valid_report):
    config = InMemoryConfig(_estate([250, 100, 0]))

    collection = _collect(config)
    report = assert_valid_report(_report(collection))

    assert report["complete"] is True
    counts = {r["name"]: r["counts"] for r in report["rules"]}
    assert counts["s3-bucket-sse-dev"] == {"compliant": 3, "nonCompliant": 250, "notApplicable": 2}
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
    collector = Collector(config, RULES, stop)
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


def test_report_bytes_are_sorted_compact_utf8_with_one_trailing_newline():
    report = {"b": 1, "a": {"z": "é", "y": [1, 2]}}

    assert report_bytes(report) == '{"a":{"y":[1,2],"z":"é"},"b":1}\n'.encode()


def test_a_report_drafted_before_its_claim_has_the_bytes_of_the_whole_report_serialised_at_once():
    estate = _estate([1234, 3, 0])  # more findings than one ENCODE_SLICE
    for evaluation in estate["s3-bucket-sse-dev"][:5]:
        evaluation["Annotation"] = 'Verschlüsselung fehlt — «SSE» 暗号化なし \u2028 "quoted" \\ end'
    collection = _collect(InMemoryConfig(estate, missing_rules=["ec2-imdsv2-check-dev"]))
    trigger = Trigger("on-demand", "ops-ticket-ü-17", RECORDED, "Prüfung für das Quartal ✓")
    identity = {
        "report_id": "2c9d7a8e-5b1f-5e4a-9c3d-7f6e5d4c3b2a",
        "trigger": trigger,
        "account": "123456789012",
        "region": "eu-west-1",
        "environment_suffix": "dev",
        "collection": collection,
    }
    chain = {
        "generated_at": datetime(2026, 11, 26, 6, 0, 1, 250000, tzinfo=timezone.utc),
        "sequence": 7,
        "previous_key": "reports/2026/11/25/00000006-0b1c2d3e-4f50-5a6b-8c7d-9e0f1a2b3c4d.json",
        "previous_sha256": "ab" * 32,
    }

    draft = draft_report(**identity)
    report = finish_report(draft, **chain)

    assert report == build_report(**identity, **chain)
    assert set(draft.encoded) == set(report) - {"generatedAt", "chain"}
    reference = json.dumps(report, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert report_bytes(report, draft.encoded) == reference.encode("utf-8") + b"\n"
    assert report_bytes(report) == reference.encode("utf-8") + b"\n"
    assert "Verschlüsselung".encode() in report_bytes(report, draft.encoded)


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
    report = {"b": [{"annotation": text, "z": 1}] * 3, "a": text}

    expected = json.dumps(report, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    assert report_bytes(report) == expected.encode("utf-8") + b"\n"


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
        _report(_collect(InMemoryConfig(_estate([0, 0, 0]))), 42, (previous_key, "ab" * 32))
    )

    assert report["chain"] == {
        "sequence": 42,
        "previousKey": previous_key,
        "previousSha256": "ab" * 32,
    }


@pytest.mark.parametrize("counts, expected", [([0, 0], 0), ([1, 0], 1), ([2, 3], 2)])
def test_rules_non_compliant_counts_rules_with_findings(counts, expected):
    rules = [
        {
            "name": f"r{i}",
            "counts": {"nonCompliant": n},
            "nonCompliant": [{"resourceType": "AWS::S3::Bucket"}] * n,
        }
        for i, n in enumerate(counts)
    ]

    assert summarise(rules)["rulesNonCompliant"] == expected


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
