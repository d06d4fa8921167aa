"""GIVEN AWS Config evaluations as AWS shows them WHEN the real handler reports THEN a deleted resource is
no longer a finding, whether its result turns NOT_APPLICABLE (as AWS documents for managed rules) or drops
out of the results (as users also see), and a rule whose first evaluation has not finished never reads as
clean."""

import pytest


def rule_of(report, name):
    return next(r for r in report["rules"] if r["name"] == name)


@pytest.mark.parametrize("evaluation", ["not-applicable", "removed"])
def test_a_deleted_resource_is_no_longer_a_finding(
    estate,
    emulator,
    handler_module,
    context_factory,
    make_scheduled_event,
    verify_trail,
    evaluation,
):
    emulator.set_deleted_resources(evaluation)
    estate.bucket("payments-ledger", encrypted=False)
    handler_module.handler(make_scheduled_event(), context_factory())

    estate.s3.delete_bucket(Bucket="payments-ledger")
    estate.daily_evaluation()
    handler_module.handler(make_scheduled_event(), context_factory())

    before, after = (rule_of(r, estate.S3_RULE) for r in verify_trail(estate))
    assert [f["resourceId"] for f in before["nonCompliant"]] == ["payments-ledger"]
    assert after["nonCompliant"] == [] and after["counts"]["nonCompliant"] == 0
    assert after["complete"] is True and after["complianceType"] == "COMPLIANT"
    assert after["counts"]["notApplicable"] == (1 if evaluation == "not-applicable" else 0)


@pytest.mark.parametrize("pending", ["not-started", "started"])
def test_a_rule_not_yet_evaluated_never_reads_as_clean(
    estate,
    emulator,
    handler_module,
    context_factory,
    make_scheduled_event,
    verify_trail,
    pending,
):
    estate.bucket("payments-ledger", encrypted=False)  # exists, but the rule has not judged it
    emulator.set_rule_evaluation_pending(estate.S3_RULE, pending)

    result = handler_module.handler(make_scheduled_event(), context_factory())

    (report,) = verify_trail(estate)
    rule = rule_of(report, estate.S3_RULE)
    assert rule["complianceType"] == "INSUFFICIENT_DATA"
    assert rule["evaluationStatus"]["lastSuccessfulEvaluationTime"] is None
    problems = {(p["code"], p["subject"]) for p in report["monitoring"]["problems"]}
    assert ("RULE_NOT_EVALUATED", estate.S3_RULE) in problems
    assert report["monitoring"]["healthy"] is False and result["monitoringHealthy"] is False
    (alert,) = estate.alerts()
    assert alert["MessageAttributes"]["monitoringHealthy"]["Value"] == "false"
    assert "RULE_NOT_EVALUATED" in alert["Message"]
