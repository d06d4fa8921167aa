"""GIVEN SNS's message limit, 262,144 bytes of body and attributes together (Amazon SNS API Reference,
Publish; the emulator counts as SNS does) WHEN a report has many findings with long resource ids and
ALERT_MAX_RESOURCES is as large as the settings allow THEN the alert still fits and reaches the team."""

import json

SNS_LIMIT = 262_144


def test_the_alert_fits_snss_limit_whatever_the_findings(
    estate,
    emulator,
    handler_module,
    context_factory,
    make_scheduled_event,
    verify_trail,
    monkeypatch,
):
    monkeypatch.setenv("ALERT_MAX_RESOURCES", "1000")  # the settings' maximum
    # 1,000 findings with 306-character ids (S3 allows 63; other types' ids run to 768): the list
    # alone is over 300,000 bytes.
    emulator.load_synthetic(
        estate.S3_RULE, "AWS::S3::Bucket", non_compliant=1000, id_prefix="archive-" + "x" * 292
    )

    result = handler_module.handler(make_scheduled_event(), context_factory())

    (report,) = verify_trail(estate)
    assert report["summary"]["totalNonCompliant"] == 1000
    assert result["outcome"] == "stored" and result["alert"] == "sent"
    (alert,) = estate.alerts()
    attributes = alert["MessageAttributes"]
    size = len(alert["Message"].encode("utf-8")) + sum(
        len(name) + len(value["Type"]) + len(value["Value"].encode("utf-8"))
        for name, value in attributes.items()
    )
    assert size <= SNS_LIMIT
    assert f"s3://{estate.BUCKET}/{result['reportKey']}" in alert["Message"]
    assert json.loads(attributes["nonCompliantCount"]["Value"]) == 1000
