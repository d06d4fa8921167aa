"""The control API over plain HTTP: clock, reset, and one-line 400s naming the bad field."""

from __future__ import annotations

import json
import urllib.error
import urllib.request

import pytest

from tools.local_aws.client import LocalAwsError


def call(aws, method, path, body=None, raw=None):
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    request = urllib.request.Request(  # noqa: S310 (http URL of the emulator under test)
        f"{aws.endpoint_url}/_local_aws/{path}", data=data, method=method
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("faults", {"latency_ms": -1}, "latency_ms"),
        ("faults", {"latency_ms": "20"}, "latency_ms"),
        ("faults", {"seed": "x"}, "seed"),
        ("faults", {"rules": {}}, "rules"),
        ("faults", {"rules": [{"operation": "*", "error": "X"}]}, "rules[0].service"),
        ("faults", {"rules": [{"service": "s3", "error": "X"}]}, "rules[0].operation"),
        ("faults", {"rules": [{"service": "s3", "operation": "*"}]}, "rules[0].error"),
        (
            "faults",
            {"rules": [{"service": "s3", "operation": "*", "error": "X", "rate": 1.5}]},
            "rules[0].rate",
        ),
        (
            "faults",
            {"rules": [{"service": "s3", "operation": "*", "error": "X", "count": 0}]},
            "rules[0].count",
        ),
        (
            "faults",
            {"rules": [{"service": "s3", "operation": "*", "error": "X", "status": 200}]},
            "rules[0].status",
        ),
        (
            "faults",
            {"rules": [{"service": "s3", "operation": "*", "error": "X", "match": {"Key": []}}]},
            "rules[0].match.Key",
        ),
        (
            "faults",
            {"rules": [{"service": "s3", "operation": "*", "error": "X", "colour": 1}]},
            "rules[0].colour",
        ),
        ("faults", {"latency": 20}, "latency"),
        ("clock", {"now": "2026-07-01 06:00"}, "now"),
        ("clock", {}, "now"),
        ("events/trail", {"managementEvents": "on"}, "managementEvents"),
        ("events/trail", {}, "managementEvents"),
        ("config/rule-failure", {"ruleName": "missing", "errorCode": "X"}, "ruleName"),
        ("config/rule-failure", {"ruleName": "x"}, "errorCode"),
        ("config/synthetic", {"ruleName": "x", "resourceType": "S3 bucket"}, "resourceType"),
        (
            "config/synthetic",
            {"ruleName": "x", "resourceType": "AWS::S3::Bucket", "nonCompliant": -1},
            "nonCompliant",
        ),
        (
            "config/synthetic",
            {"ruleName": "missing", "resourceType": "AWS::S3::Bucket"},
            "ruleName",
        ),
        (
            "config/synthetic",
            {"ruleName": "x", "resourceType": "AWS::S3::Bucket", "region": "mars"},
            "region",
        ),
    ],
)
def test_bad_input_is_a_one_line_400_naming_the_field(aws, path, body, field):
    before = call(aws, "GET", "faults")[1]
    status, payload = call(aws, "POST", path, body)
    assert status == 400
    message = payload["error"]
    assert "\n" not in message
    assert message.startswith(f"{field}:"), message
    assert call(aws, "GET", "faults")[1] == before  # nothing half-applied


def test_bad_json_unknown_path_and_method(aws):
    status, payload = call(aws, "POST", "faults", raw=b"{not json")
    assert status == 400 and payload["error"].startswith("body: not valid JSON")
    status, payload = call(aws, "GET", "nothing-here")
    assert status == 404 and "no such control endpoint" in payload["error"]
    status, payload = call(aws, "PUT", "stats", body={})
    assert status == 405 and "DELETE, GET" in payload["error"]


def test_client_raises_with_the_server_message(aws):
    with pytest.raises(LocalAwsError, match="rules\\[0\\].rate: must be a number from 0 to 1"):
        aws.set_faults([{"service": "s3", "operation": "*", "error": "X", "rate": 2}])


def test_fault_plan_round_trip_and_clear(aws):
    plan = aws.set_faults(
        [{"service": "config", "operation": "*", "error": "ThrottlingException", "count": 3}],
        latency_ms=20,
        seed=7,
    )
    assert plan["latency_ms"] == 20 and plan["seed"] == 7 and plan["rules"][0]["count"] == 3
    cleared = aws.clear_faults()
    assert cleared == {"latency_ms": 0.0, "seed": None, "rules": []}


def test_clock_set_and_release(aws):
    assert aws.set_clock("2026-07-01T06:00:00Z") == {"now": "2026-07-01T06:00:00Z", "fixed": True}
    assert call(aws, "GET", "clock")[1]["now"] == "2026-07-01T06:00:00Z"
    released = aws.set_clock(None)
    assert released["fixed"] is False and released["now"] != "2026-07-01T06:00:00Z"


def test_reset_forgets_resources(aws, clients):
    clients.s3.create_bucket(Bucket="doomed-bucket")
    aws.reset()
    assert clients.s3.list_buckets()["Buckets"] == []


def test_health(aws):
    assert call(aws, "GET", "health") == (200, {"ok": True})
