"""GIVEN the runtime's S3 client WHEN a conditional PUT is made THEN the condition reaches the wire on any
botocore; and chain records survive a JSON round trip."""

import json
import re
from datetime import datetime, timezone
from pathlib import Path

import pytest
from botocore.exceptions import ClientError
from compliance_report import environment
from compliance_report.chain_records import Claim, Head, Link, TriggerRecord
from compliance_report.clients import client_config, enable_conditional_put
from compliance_report.generator import Deadline
from compliance_report.settings import load_settings

from tests.runtime.offline import failing_s3, offline_s3, response

RUNTIME_README = Path(__file__).resolve().parents[2] / "lib/report_generator/runtime/README.md"


class _Recorder:
    """Answers every request with 200 and remembers its headers (botocore's before-send hook)."""

    def __init__(self):
        self.headers = []

    def __call__(self, request, **_):
        self.headers.append(
            {k: v.decode() if isinstance(v, bytes) else v for k, v in request.headers.items()}
        )
        return response(request, 200, headers={"ETag": '"abc"'})


@pytest.fixture
def s3_and_wire():
    wire = _Recorder()
    s3 = enable_conditional_put(offline_s3(1))
    s3.meta.events.register("before-send.s3.PutObject", wire)
    return s3, wire


@pytest.mark.parametrize(
    "condition, header, value",
    [({"IfNoneMatch": "*"}, "If-None-Match", "*"), ({"IfMatch": '"e1"'}, "If-Match", '"e1"')],
)
def test_conditional_put_sends_the_condition_header(s3_and_wire, condition, header, value):
    s3, wire = s3_and_wire

    s3.put_object(
        Bucket="b", Key="chain/head.json", Body=b"{}\n", ChecksumAlgorithm="SHA256", **condition
    )

    (sent,) = wire.headers
    assert sent[header] == value
    assert "x-amz-checksum-sha256" in {k.lower() for k in sent}


def test_unconditional_put_sends_no_condition(s3_and_wire):
    s3, wire = s3_and_wire

    s3.put_object(Bucket="b", Key="chain/triggers/x.json", Body=b"{}\n")

    assert not {"If-None-Match", "If-Match"} & set(wire.headers[0])


def test_retry_settings_use_botocore_standard_mode():
    config = client_config(environment.DEFAULT_MAX_ATTEMPTS)

    assert config.retries == {"mode": "standard", "total_max_attempts": 10}
    assert (config.connect_timeout, config.read_timeout) == (3, 15)


def test_a_failing_call_makes_exactly_the_configured_number_of_attempts():
    """AWS_MAX_ATTEMPTS counts attempts, the first included (the SDKs' retry behavior page); botocore's
    ``max_attempts`` client setting counts retries, so the runtime passes ``total_max_attempts``."""
    s3, sent = failing_s3(3)

    with pytest.raises(ClientError):
        s3.get_object(Bucket="b", Key="k")

    assert len(sent) == 3
    assert s3.meta.config.retries["total_max_attempts"] == 3


def test_the_documented_default_attempts_are_the_ones_botocore_makes(monkeypatch):
    monkeypatch.delenv(environment.MAX_ATTEMPTS, raising=False)
    settings = load_settings(
        {
            "REPORT_BUCKET": "b",
            "ALERT_TOPIC_ARN": "arn:aws:sns:eu-west-1:123456789012:t",
            "MONITORED_RULES": '[{"name": "r", "managedIdentifier": "R"}]',
            "ENVIRONMENT_SUFFIX": "dev",
            "AWS_REGION": "eu-west-1",
        }
    )
    s3, _ = failing_s3(settings.max_attempts)
    readme = RUNTIME_README.read_text(encoding="utf-8")

    assert settings.max_attempts == environment.DEFAULT_MAX_ATTEMPTS
    assert s3.meta.config.retries["total_max_attempts"] == environment.DEFAULT_MAX_ATTEMPTS
    documented = re.search(r"`AWS_MAX_ATTEMPTS` \(([^)]*)\)", readme)
    assert documented, "the runtime README no longer documents AWS_MAX_ATTEMPTS"
    assert f"default {environment.DEFAULT_MAX_ATTEMPTS}" in documented.group(1)
    assert "first included" in documented.group(1)


def test_head_and_claim_round_trip_through_json():
    previous = Link(
        6, "reports/2026/11/25/00000006-0b1c2d3e-4f50-5a6b-8c7d-9e0f1a2b3c4d.json", "ab" * 32
    )
    claim = Claim(
        7,
        "reports/2026/11/26/00000007-2c9d7a8e-5b1f-5e4a-9c3d-7f6e5d4c3b2a.json",
        "2c9d7a8e-5b1f-5e4a-9c3d-7f6e5d4c3b2a",
        datetime(2026, 11, 26, 6, 0, 1, 250000, tzinfo=timezone.utc),
        previous,
        360,
    )

    head_body, claim_body = Head.body(previous), claim.body()

    for body in (head_body, claim_body):
        assert body.endswith(b"\n") and b" " not in body
    data = json.loads(head_body)
    assert data == {
        "format": "compliance-chain-head/1",
        "last": previous.to_json(),
        "pending": None,
    }
    assert Head.parse(head_body, '"e1"') == Head("present", previous, '"e1"')
    assert json.loads(claim_body)["format"] == "compliance-claim/1"
    assert Claim.from_body(claim_body) == claim
    released = json.loads(claim_body)
    released["released"] = True
    assert Claim.from_body(json.dumps(released).encode()).released is True


@pytest.mark.parametrize(
    "body",
    [b"not json", b'{"format": "other/1"}', b'{"format": "compliance-chain-head/1", "last": 7}'],
)
def test_an_unreadable_head_is_a_cache_to_replace_not_a_reason_to_stop(body):
    head = Head.parse(body, '"e2"')

    assert (head.state, head.last, head.etag) == ("unreadable", None, '"e2"')
    assert head.note


def test_a_claim_is_read_strictly():
    with pytest.raises(ValueError, match="leaseSeconds"):
        Claim.from_body(
            json.dumps(
                {
                    "format": "compliance-claim/1",
                    "sequence": 1,
                    "key": "k",
                    "reportId": "r",
                    "generatedAt": "2026-11-26T06:00:00Z",
                    "previous": None,
                    "leaseSeconds": -1,
                    "released": False,
                }
            ).encode()
        )


def test_a_trigger_record_round_trips_and_a_foreign_document_is_refused():
    record = TriggerRecord(
        "2c9d7a8e-5b1f-5e4a-9c3d-7f6e5d4c3b2a",
        7,
        "reports/2026/11/26/00000007-2c9d7a8e-5b1f-5e4a-9c3d-7f6e5d4c3b2a.json",
        "ab" * 32,
        "pending",
    )

    data = json.loads(record.body())

    assert data["format"] == "compliance-trigger/1"
    assert TriggerRecord.from_json(data) == record
    with pytest.raises(ValueError, match="compliance-trigger/1"):
        TriggerRecord.from_json(dict(data, format="compliance-chain-head/1"))


@pytest.mark.parametrize("remaining_ms, reserve_s", [(4_000, 2.0), (60_000, 12.0), (900_000, 30.0)])
def test_store_reserve_is_a_fifth_of_the_run_within_2_and_30_seconds(remaining_ms, reserve_s):
    deadline = Deadline.from_remaining(remaining_ms)

    assert deadline.reserve_s == reserve_s
    assert deadline.collect_timeout_s() == pytest.approx(remaining_ms / 1000 - reserve_s, abs=0.5)


def _details_page(results=3, token="opaque-token"):
    page = {
        "EvaluationResults": [
            {
                "EvaluationResultIdentifier": {
                    "EvaluationResultQualifier": {
                        "ConfigRuleName": "s3-bucket-sse-dev",
                        "ResourceType": "AWS::S3::Bucket",
                        "ResourceId": f"bucket-{i:03d}",
                        "EvaluationMode": "DETECTIVE",
                    },
                    "OrderingTimestamp": 1795672800.123,
                },
                "ComplianceType": "NON_COMPLIANT",
                "ResultRecordedTime": 1795672800.123,
                "ConfigRuleInvokedTime": 1795672801,
                "Annotation": "Server-side encryption is not enabled. ü",
            }
            for i in range(results)
        ]
    }
    if token:
        page["NextToken"] = token
    return page


def _parse(session, operation, body, status=200):
    model = session.get_service_model("config").operation_model(operation)
    parser = session.get_component("response_parser_factory").create_parser("json")
    response = {"status_code": status, "headers": {"x-amzn-requestid": "r-1"}, "body": body}
    return parser.parse(response, model.output_shape)


def test_timestamps_stay_as_aws_sent_them_and_members_as_the_model_names_them():
    """timefmt reads AWS's epoch seconds itself; botocore turning them into datetimes cost ~3/4 of a
    page's client CPU."""
    from compliance_report.clients import raw_timestamp_session

    body = json.dumps(_details_page(results=2), ensure_ascii=False).encode()

    page = _parse(raw_timestamp_session(), "GetComplianceDetailsByConfigRule", body)

    (first, _) = page["EvaluationResults"]
    assert first["ResultRecordedTime"] == 1795672800.123
    assert first["EvaluationResultIdentifier"]["OrderingTimestamp"] == 1795672800.123
    assert first["Annotation"] == "Server-side encryption is not enabled. ü"
    assert page["NextToken"] == "opaque-token"
    error = _parse(
        raw_timestamp_session(),
        "GetComplianceDetailsByConfigRule",
        b'{"__type": "NoSuchConfigRuleException", "message": "no rule r"}',
        status=400,
    )
    assert error["Error"] == {"Code": "NoSuchConfigRuleException", "Message": "no rule r"}


def test_a_finding_tolerates_members_sent_as_null():
    from compliance_report.collect import finding_from

    assert finding_from({"EvaluationResultIdentifier": None, "ResultRecordedTime": 1}) is None
    identifier = {"EvaluationResultQualifier": None}
    assert finding_from({"EvaluationResultIdentifier": identifier}) is None
    (result,) = _details_page(results=1)["EvaluationResults"]
    result["Annotation"] = None
    assert finding_from(result).to_json() == {
        "resourceType": "AWS::S3::Bucket",
        "resourceId": "bucket-000",
        "annotation": None,
        "resultRecordedTime": "2026-11-26T06:00:00.123Z",
    }
