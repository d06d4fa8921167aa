"""Reliability cases of the issue, each against the emulator with injected faults: throttling, a rule
whose API keeps failing, the deadline, S3 and SNS failures, crashed claims and concurrent generators."""

import json
import threading
import time
from datetime import datetime, timedelta, timezone

import pytest
from compliance_report.errors import AlertPublishFailed, ReportWriteFailed


@pytest.fixture
def short_retries(monkeypatch):
    """Permanent failures: 3 attempts instead of 10, so botocore's backoff does not dominate the run time.
    What is tested (the failure still being a failure after retries) does not depend on the count."""
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "3")


def _emf_value(text, name):
    values = []
    for line in text.splitlines():
        if line.startswith("{") and '"_aws"' in line:
            doc = json.loads(line)
            if name in doc:
                values.append(doc[name])
    return values


def test_thirty_percent_throttled_config_calls_still_give_a_complete_report(
    estate, emulator, handler_module, context_factory, make_scheduled_event, verify_trail
):
    estate.bucket("ledger-unencrypted", encrypted=False)
    emulator.load_synthetic(estate.S3_RULE, "AWS::S3::Bucket", non_compliant=450, compliant=120)
    emulator.set_faults(
        [{"service": "config", "operation": "*", "error": "ThrottlingException", "rate": 0.3}],
        seed=11,
    )

    result = handler_module.handler(make_scheduled_event(), context_factory())

    (report,) = verify_trail(estate)
    assert report["complete"] is True and report["errors"] == []
    s3_rule = next(r for r in report["rules"] if r["name"] == estate.S3_RULE)
    assert s3_rule["counts"]["nonCompliant"] >= 451
    fired = sum(v for k, v in emulator.stats()["faults_fired"].items() if k.startswith("config."))
    assert fired > 0, "the fault plan never throttled: the test proved nothing"
    assert result["complete"] is True


def test_a_rule_whose_api_keeps_failing_is_stored_incomplete_and_alerted(
    short_retries,
    estate,
    emulator,
    handler_module,
    context_factory,
    make_scheduled_event,
    verify_trail,
):
    emulator.set_faults(
        [
            {
                "service": "config",
                "operation": "GetComplianceDetailsByConfigRule",
                "match": {"ConfigRuleName": estate.RDS_RULE},
                "error": "ServiceUnavailableException",
                "status": 503,
            }
        ]
    )

    result = handler_module.handler(make_scheduled_event(), context_factory())

    (report,) = verify_trail(estate)
    assert report["complete"] is False
    rds = next(r for r in report["rules"] if r["name"] == estate.RDS_RULE)
    assert rds["complete"] is False
    assert {(e["scope"], e["subject"]) for e in report["errors"]} == {("rule", estate.RDS_RULE)}
    assert all(r["complete"] for r in report["rules"] if r["name"] != estate.RDS_RULE)
    (alert,) = estate.alerts()
    assert alert["MessageAttributes"]["complete"]["Value"] == "false"
    assert estate.RDS_RULE in alert["Message"]
    assert result["outcome"] == "stored"


def test_running_out_of_time_stores_an_incomplete_report_before_the_deadline(
    estate, emulator, handler_module, context_factory, make_scheduled_event, verify_trail
):
    # 30,000 findings at 100 per page and 40 ms per call need ~12 s; the function has 6 s, of which
    # 2 s are the store's reserve: the reads get ~4 s, several pages even on a loaded machine.
    emulator.load_synthetic(estate.S3_RULE, "AWS::S3::Bucket", non_compliant=30_000)
    emulator.set_faults([], latency_ms=40)
    context = context_factory(remaining_ms=6_000)

    result = handler_module.handler(make_scheduled_event(), context)

    assert context.get_remaining_time_in_millis() > 0, "the handler outlived its Lambda deadline"
    (report,) = verify_trail(estate)
    assert result["outcome"] == "stored" and report["complete"] is False
    assert ("deadline", estate.S3_RULE) in {(e["scope"], e["subject"]) for e in report["errors"]}
    s3_rule = next(r for r in report["rules"] if r["name"] == estate.S3_RULE)
    assert s3_rule["complete"] is False
    assert 0 < s3_rule["counts"]["nonCompliant"] < 30_000
    assert estate.head()["pending"] is None


def test_failed_report_write_leaves_nothing_fails_the_invocation_and_the_retry_stores_once(
    short_retries,
    estate,
    emulator,
    handler_module,
    context_factory,
    make_scheduled_event,
    verify_trail,
):
    handler_module.handler(make_scheduled_event(), context_factory())  # sequence 0 exists
    emulator.set_faults(
        [
            {
                "service": "s3",
                "operation": "PutObject",
                "match": {"Key": {"prefix": "reports/"}},
                "error": "InternalError",
                "status": 500,
            }
        ]
    )
    event = make_scheduled_event()

    with pytest.raises(ReportWriteFailed):
        handler_module.handler(event, context_factory())

    assert len(estate.report_keys()) == 1, "a failed write left an object behind"
    assert estate.head()["pending"] is None, "the failed run did not release its claim"
    emulator.clear_faults()
    retry = handler_module.handler(event, context_factory())
    again = handler_module.handler(event, context_factory())
    reports = verify_trail(estate)
    assert [r["chain"]["sequence"] for r in reports] == [0, 1]
    assert retry["outcome"] == "stored" and again["outcome"] == "duplicate"


def test_failed_alert_keeps_the_report_counts_the_error_and_the_retry_only_alerts(
    short_retries,
    estate,
    emulator,
    handler_module,
    context_factory,
    make_scheduled_event,
    verify_trail,
    capsys,
):
    estate.bucket("ledger-unencrypted", encrypted=False)
    emulator.set_faults(
        [{"service": "sns", "operation": "Publish", "error": "InternalError", "status": 500}]
    )
    event = make_scheduled_event()

    with pytest.raises(AlertPublishFailed):
        handler_module.handler(event, context_factory())

    (report,) = verify_trail(estate)
    out = capsys.readouterr().out
    assert _emf_value(out, "ReportGenerationErrors") == [1]
    failed = [json.loads(x) for x in out.splitlines() if '"alert-failed"' in x]
    assert failed and failed[0]["level"] == "ERROR"
    assert estate.alerts(wait_s=0.5) == []
    emulator.clear_faults()
    retry = handler_module.handler(event, context_factory())
    assert retry["outcome"] == "duplicate" and retry["alert"] == "sent"
    assert len(estate.alerts()) == 1
    assert len(verify_trail(estate)) == 1
    assert handler_module.handler(event, context_factory())["alert"] == "already-sent"


@pytest.mark.parametrize("generators", [2, 4])
def test_concurrent_generators_never_fork_the_chain(
    estate,
    emulator,
    handler_module,
    context_factory,
    make_scheduled_event,
    verify_trail,
    generators,
):
    handler_module.handler(make_scheduled_event(), context_factory())
    emulator.set_faults(
        [], latency_ms=15
    )  # widens the window between reading and swapping the head
    start = threading.Barrier(generators)
    results, failures = [], []

    def run():
        event = make_scheduled_event()
        start.wait()
        try:
            results.append(handler_module.handler(event, context_factory(remaining_ms=120_000)))
        except Exception as e:  # noqa: BLE001 (reported below)
            failures.append(e)

    threads = [threading.Thread(target=run) for _ in range(generators)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)

    assert failures == []
    reports = verify_trail(estate)
    assert [r["chain"]["sequence"] for r in reports] == list(range(generators + 1))
    assert sorted(r["sequence"] for r in results) == list(range(1, generators + 1))
    swaps = emulator.stats()["calls"].get("s3.PutObject", 0)
    assert swaps > 0


def _write_head(estate, last, pending):
    body = json.dumps(
        {"format": "compliance-chain-head/1", "last": last, "pending": pending},
        sort_keys=True,
        separators=(",", ":"),
    )
    estate.s3.put_object(Bucket=estate.BUCKET, Key="chain/head.json", Body=body.encode() + b"\n")


def test_a_crashed_claim_without_report_is_rolled_back_once_its_lease_is_over(
    estate, handler_module, context_factory, make_scheduled_event, verify_trail
):
    first = handler_module.handler(make_scheduled_event(), context_factory())
    last = estate.head()["last"]
    expired = datetime.now(timezone.utc) - timedelta(minutes=1)
    _write_head(
        estate,
        last,
        {
            "sequence": 1,
            "key": "reports/2026/11/26/00000001-11111111-2222-5333-8444-555555555555.json",
            "reportId": "11111111-2222-5333-8444-555555555555",
            "generatedAt": (expired - timedelta(minutes=15)).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "leaseExpiresAt": expired.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "previous": last,
        },
    )

    result = handler_module.handler(make_scheduled_event(), context_factory())

    reports = verify_trail(estate)
    assert [r["chain"]["sequence"] for r in reports] == [0, 1]
    assert reports[1]["chain"]["previousKey"] == first["reportKey"]
    assert result["sequence"] == 1


def test_a_crashed_claim_whose_report_exists_is_rolled_forward(
    estate, handler_module, context_factory, make_scheduled_event, verify_trail
):
    first = handler_module.handler(make_scheduled_event(), context_factory())
    second = handler_module.handler(make_scheduled_event(), context_factory())
    head = estate.head()
    # Make it look as if the second run stopped after storing its report, before committing the head.
    crashed = {
        "sequence": 1,
        "key": second["reportKey"],
        "reportId": second["reportId"],
        "generatedAt": "2026-11-26T06:00:00Z",
        "leaseExpiresAt": (datetime.now(timezone.utc) + timedelta(minutes=10)).strftime(
            "%Y-%m-%dT%H:%M:%SZ"
        ),
        "previous": {"sequence": 0, "key": first["reportKey"], "sha256": head["last"]["sha256"]},
    }
    assert head["last"]["key"] == second["reportKey"]
    _write_head(estate, crashed["previous"], crashed)

    started = time.monotonic()
    third = handler_module.handler(make_scheduled_event(), context_factory())

    assert time.monotonic() - started < 60, (
        "the run waited for the lease instead of rolling forward"
    )
    reports = verify_trail(estate)
    assert [r["chain"]["sequence"] for r in reports] == [0, 1, 2]
    assert third["sequence"] == 2
