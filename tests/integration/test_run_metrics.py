"""GIVEN an emulated account WHEN runs store reports, fail, repeat a trigger or read a rule only in part
THEN the metrics say what happened: ``ReportsStored`` counts report objects written (what the "no report
in 24 hours" alarm must count), and ``NonCompliantResources`` is emitted only for rules read in full."""

import pytest
from compliance_report.errors import AlertPublishFailed, ReportWriteFailed
from compliance_report.metrics import (
    NON_COMPLIANT_RESOURCES,
    REPORT_GENERATION_ERRORS,
    REPORTS_STORED,
)

from tests.integration.runs import metric, run_output


def _emf(capsys):
    return run_output(capsys)[1]


@pytest.fixture
def two_attempts(monkeypatch):
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "2")


def test_a_rule_read_in_part_emits_no_non_compliant_count(
    two_attempts, estate, emulator, handler_module, context_factory, make_scheduled_event, capsys
):
    estate.bucket("ledger-unencrypted", encrypted=False)
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

    docs = _emf(capsys)
    counted = {doc["Rule"]: doc[NON_COMPLIANT_RESOURCES] for doc in docs if "Rule" in doc}
    assert result["complete"] is False
    assert estate.RDS_RULE not in counted, "a partial count was emitted for a rule read in part"
    assert counted[estate.S3_RULE] >= 1
    assert set(counted) == {estate.S3_RULE, estate.EC2_RULE}
    assert metric(docs, REPORT_GENERATION_ERRORS) == [result["errorCount"]] != [0]
    assert metric(docs, REPORTS_STORED) == [1]


def test_reports_stored_counts_report_objects_written_and_nothing_else(
    two_attempts, estate, emulator, handler_module, context_factory, make_scheduled_event, capsys
):
    estate.bucket("ledger-unencrypted", encrypted=False)
    first = make_scheduled_event()

    handler_module.handler(first, context_factory())
    stored = metric(_emf(capsys), REPORTS_STORED)
    handler_module.handler(first, context_factory())  # the same trigger again: no second report
    duplicate = metric(_emf(capsys), REPORTS_STORED)
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
    with pytest.raises(ReportWriteFailed):
        handler_module.handler(make_scheduled_event(), context_factory())
    failed = metric(_emf(capsys), REPORTS_STORED)
    emulator.set_faults(
        [{"service": "sns", "operation": "Publish", "error": "InternalError", "status": 500}]
    )
    alert_fails = make_scheduled_event()
    with pytest.raises(AlertPublishFailed):
        handler_module.handler(alert_fails, context_factory())
    stored_alert_failed = metric(_emf(capsys), REPORTS_STORED)
    emulator.clear_faults()
    handler_module.handler(alert_fails, context_factory())  # only sends the alert
    alert_resent = metric(_emf(capsys), REPORTS_STORED)

    assert (stored, duplicate, failed, stored_alert_failed, alert_resent) == (
        [1],
        [0],
        [0],
        [1],
        [0],
    )
    assert len(estate.report_keys()) == 2
