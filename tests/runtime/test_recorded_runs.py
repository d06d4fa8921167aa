"""GIVEN recorded AWS answers of varied runs WHEN the generator runs again on them THEN every object it
writes, its alert, its metric documents and its result are byte for byte those recorded.

The recordings (tests/runtime/recorded_runs/, made against the emulator by ``record.py``) pin down what
the runtime wrote before it was restructured: a refactoring that changes one byte of a report, a chain
record, a trigger record, an alert or an EMF line fails here. The answers are replayed through the real
clients and botocore's parser, without a network; the clock and the deadline are fixed.
"""

import json

import pytest

from lib.report_generator.local_harness import NOT_IN_LAMBDA
from tests.runtime.recorded_runs import harness

SCENARIOS = sorted(p.parent.name for p in harness.SCENARIOS.glob("*/scenario.json"))


@pytest.fixture
def offline_aws(monkeypatch, tmp_path):
    """Credentials to sign with and an endpoint nothing listens on; no profile or config file."""
    monkeypatch.setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:9")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))
    for name in (*NOT_IN_LAMBDA, "AWS_MAX_ATTEMPTS"):
        monkeypatch.delenv(name, raising=False)


def test_every_scenario_of_the_issue_is_recorded():
    assert set(SCENARIOS) == {
        "no_findings",
        "many_findings_paginated",
        "incomplete_rule_and_failing_status",
        "recorder_stopped",
        "chain_continues",
        "on_demand_with_note",
        "retry_sends_pending_alert",
    }


@pytest.mark.parametrize("name", SCENARIOS)
def test_a_replayed_run_writes_exactly_the_recorded_bytes(name, offline_aws, assert_valid_report):
    folder = harness.SCENARIOS / name
    expected = harness.read_expected(folder / "expected")

    produced, replayer = harness.replay(folder)

    assert sorted(produced) == sorted(expected)
    for file_name, data in expected.items():
        assert produced[file_name] == data, f"{name}/expected/{file_name} differs"
    for file_name, data in produced.items():
        if file_name.startswith("objects/1/reports/"):
            assert_valid_report(json.loads(data))
    if json.loads((folder / "scenario.json").read_text(encoding="utf-8"))["abandonsConfigReads"]:
        # A run whose trigger already has a report abandons its other reads: the Config reads, the
        # chain head's, the trail's listing and the witness's (any of which may not have started when
        # the run ends, and is then cancelled).
        bucket = "compliance-reports-test"
        abandoned = {
            harness.call_key("s3", "GetObject", {"Bucket": bucket, "Key": "chain/head.json"}),
            harness.call_key("s3", "ListObjectVersions", {"Bucket": bucket, "Prefix": "reports/"}),
            harness.call_key("ssm", "GetParameter", {"Name": "compliance-chain-head-test"}),
        }
        assert not [
            k for k in replayer.unused() if not k.startswith('["config"') and k not in abandoned
        ]
    else:
        assert replayer.unused() == [], "the run made fewer AWS calls than recorded"
        assert replayer.unrecorded == []
