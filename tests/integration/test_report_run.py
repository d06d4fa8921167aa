"""GIVEN an emulated account WHEN the real handler runs THEN a valid, hash-chained report is stored once and
the security team is alerted about what is wrong."""

import json

import pytest

from lib.report_generator import local_harness as harness
from tools.local_aws import estate as seeding


def _lines(text):
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_scheduled_run_stores_a_valid_report_and_alerts(
    estate, handler_module, context_factory, make_scheduled_event, verify_trail, capsys
):
    estate.bucket("payments-ledger", encrypted=False)
    estate.bucket("payments-archive", encrypted=True)
    estate.daily_evaluation()  # the schedule's 05:00 evaluation, as the scheduler's role

    result = handler_module.handler(make_scheduled_event(), context_factory())

    (report,) = verify_trail(estate)
    assert result["outcome"] == "stored"
    assert result["reportKey"] == estate.report_keys()[0]
    assert report["trigger"]["type"] == "schedule"
    assert report["account"] == "123456789012"
    assert report["complete"] is True
    s3_rule = next(r for r in report["rules"] if r["managedIdentifier"].startswith("S3_"))
    ids = {f["resourceId"] for f in s3_rule["nonCompliant"]}
    assert "payments-ledger" in ids and "payments-archive" not in ids
    assert s3_rule["counts"]["compliant"] >= 1
    (alert,) = estate.alerts()
    assert len(alert["Subject"]) <= 100
    assert alert["Subject"].startswith("[NON_COMPLIANT] test:")
    assert f"s3://{estate.BUCKET}/{result['reportKey']}" in alert["Message"]
    assert "payments-ledger" in alert["Message"]
    attributes = alert["MessageAttributes"]
    assert attributes["severity"]["Value"] == "NON_COMPLIANT"
    assert int(attributes["nonCompliantCount"]["Value"]) == report["summary"]["totalNonCompliant"]
    out = _lines(capsys.readouterr().out)
    runs = [line for line in out if line.get("outcome") == "stored"]
    assert len(runs) == 1 and runs[0]["reportKey"] == result["reportKey"]
    metrics = {
        m["Name"]
        for line in out
        if "_aws" in line
        for d in line["_aws"]["CloudWatchMetrics"]
        for m in d["Metrics"]
    }
    assert metrics == {
        "NonCompliantResources",
        "ReportGenerationErrors",
        "ReportDurationMs",
        "ReportsStored",
        "ChainCorrupted",
    }


def test_consecutive_runs_form_a_hash_chain(
    estate, handler_module, context_factory, make_scheduled_event, verify_trail
):
    keys = [
        handler_module.handler(make_scheduled_event(), context_factory())["reportKey"]
        for _ in range(3)
    ]

    reports = verify_trail(estate)
    assert [r["chain"]["sequence"] for r in reports] == [0, 1, 2]
    assert estate.report_keys() == sorted(keys)
    head = estate.head()
    assert head["pending"] is None and head["last"]["key"] == keys[-1]


def test_retried_trigger_never_produces_a_second_report(
    estate, handler_module, context_factory, make_scheduled_event, verify_trail
):
    event = make_scheduled_event("7a1b0c9d-0000-4000-8000-000000000001")
    first = handler_module.handler(event, context_factory())
    handler_module.handler(
        make_scheduled_event(), context_factory()
    )  # the chain moves on meanwhile

    retry = handler_module.handler(event, context_factory())

    assert retry["outcome"] == "duplicate"
    assert retry["reportKey"] == first["reportKey"]
    assert len(verify_trail(estate)) == 2


def test_queue_message_carrying_the_schedule_is_reported_as_a_queue_trigger(
    estate, handler_module, context_factory, make_scheduled_event, verify_trail
):
    event = make_scheduled_event()
    record = harness.sqs_record(event, "5f0e9a3c-1111-4222-8333-944455566677", suffix="test")

    result = handler_module.handler(harness.sqs_event(record), context_factory())

    (report,) = verify_trail(estate)
    assert result["status"] == "ok"
    assert report["trigger"]["type"] == "queue"
    assert report["trigger"]["id"] == event["id"]


def test_unrecognised_events_make_no_report_and_do_not_raise(
    estate, handler_module, context_factory, capsys
):
    garbage_record = harness.sqs_record("not json", "m-1")

    ignored = handler_module.handler({"source": "aws.s3"}, context_factory())
    queued = handler_module.handler(harness.sqs_event(garbage_record), context_factory())

    assert ignored["status"] == "ignored"
    assert queued["records"][0]["outcome"] == "ignored"
    assert estate.report_keys() == []
    lines = _lines(capsys.readouterr().out)
    assert [line["outcome"] for line in lines if "outcome" in line] == ["ignored", "ignored"]
    assert "not a scheduled event" in lines[0]["reason"]


def test_recorder_off_with_zero_findings_says_so_and_alerts(
    estate, handler_module, context_factory, make_scheduled_event, verify_trail
):
    estate.config.stop_configuration_recorder(ConfigurationRecorderName=estate.RECORDER)

    handler_module.handler(make_scheduled_event(), context_factory())

    (report,) = verify_trail(estate)
    assert report["monitoring"]["healthy"] is False
    assert "RECORDER_NOT_RECORDING" in {p["code"] for p in report["monitoring"]["problems"]}
    (alert,) = estate.alerts()
    assert alert["MessageAttributes"]["monitoringHealthy"]["Value"] == "false"
    assert "RECORDER_NOT_RECORDING" in alert["Message"]


# The missing rule is not one of the stack's, so its policy (scoped to the stack's rule ARNs)
# denies reading its results, as AWS would; the rule still shows as missing.
@pytest.mark.denials_expected
def test_on_demand_run_keeps_the_note_and_a_missing_rule_is_a_monitoring_problem(
    estate, handler_module, context_factory, verify_trail, monkeypatch
):
    rules = [
        {"name": estate.S3_RULE, "managedIdentifier": "S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED"},
        {"name": "rule-deleted-by-someone", "managedIdentifier": "RDS_STORAGE_ENCRYPTED"},
    ]
    monkeypatch.setenv("MONITORED_RULES", json.dumps(rules))

    result = handler_module.handler(
        {"action": "generate-report", "note": "evidence for ticket AUD-1142"},
        context_factory(request_id="0d6c3f6e-aaaa-4bbb-8ccc-123456789abc"),
    )

    (report,) = verify_trail(estate)
    assert report["trigger"] == {
        "type": "on-demand",
        "id": "0d6c3f6e-aaaa-4bbb-8ccc-123456789abc",
        "receivedAt": report["trigger"]["receivedAt"],
        "note": "evidence for ticket AUD-1142",
    }
    assert [r["name"] for r in report["rules"]] == [estate.S3_RULE, "rule-deleted-by-someone"]
    assert [(p["code"], p["subject"]) for p in report["monitoring"]["problems"]] == [
        ("RULE_MISSING", "rule-deleted-by-someone")
    ]
    missing = report["rules"][1]
    assert missing["complete"] is False and missing["complianceType"] == "UNKNOWN"
    assert report["rules"][0]["complete"] is True
    assert result["alert"] == "sent"


def test_the_daily_email_leads_with_what_changed_since_the_previous_report(
    estate, handler_module, context_factory, make_scheduled_event
):
    """GIVEN yesterday's report listing an unencrypted bucket WHEN it is fixed and another bucket
    drifts THEN today's e-mail leads with 1 new, 1 fixed and the findings still open with their age,
    then the totals, and carries the new head as its witness line."""
    estate.bucket("payments-ledger", encrypted=False)
    handler_module.handler(make_scheduled_event(), context_factory())
    estate.alerts()
    seeding.remediate_bucket(estate.s3, "payments-ledger")
    estate.bucket("treasury-exports", encrypted=False)

    result = handler_module.handler(make_scheduled_event(), context_factory())

    (alert,) = estate.alerts()
    lines = alert["Message"].splitlines()
    assert lines[3] == f"witness: 1 {result['reportKey']} {result['sha256']}"
    since = next(i for i, line in enumerate(lines) if line.startswith("Since report 0 of "))
    assert lines[since].endswith(": 1 new, 1 fixed, 0 still open")
    assert lines[since + 1 : since + 5] == [
        "New (1):",
        f"  {estate.S3_RULE}  AWS::S3::Bucket  treasury-exports",
        "Fixed (1):",
        f"  {estate.S3_RULE}  AWS::S3::Bucket  payments-ledger",
    ]
    assert since < next(i for i, line in enumerate(lines) if line.startswith("Totals: "))
    assert ", 1 new, 1 fixed (report 1)" in alert["Subject"]
