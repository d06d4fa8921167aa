"""GIVEN an emulated account WHEN the real handler runs THEN a valid, hash-chained report is stored once and
the security team is alerted about what is wrong."""

import json


def _lines(text):
    return [json.loads(line) for line in text.splitlines() if line.startswith("{")]


def test_scheduled_run_stores_a_valid_report_and_alerts(
    estate, handler_module, context_factory, make_scheduled_event, verify_trail, capsys
):
    estate.bucket("payments-ledger", encrypted=False)
    estate.bucket("payments-archive", encrypted=True)

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
    assert f"s3://compliance-reports-test/{result['reportKey']}" in alert["Message"]
    assert "payments-ledger" in alert["Message"]
    attributes = alert["MessageAttributes"]
    assert attributes["severity"]["Value"] == "NON_COMPLIANT"
    assert int(attributes["nonCompliantCount"]["Value"]) == report["summary"]["totalNonCompliant"]
    out = _lines(capsys.readouterr().out)
    runs = [line for line in out if line.get("outcome") == "stored"]
    assert len(runs) == 1 and runs[0]["reportKey"] == result["reportKey"]
    metrics = {m["Name"] for line in out if "_aws" in line for d in line["_aws"]["CloudWatchMetrics"] for m in d["Metrics"]}
    assert metrics == {"NonCompliantResources", "ReportGenerationErrors", "ReportDurationMs"}
