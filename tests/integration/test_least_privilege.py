"""GIVEN the emulator enforcing the policies synthesized from this checkout WHEN the real handler runs as
the report generator's role THEN its report is complete; with the two Describe actions scoped back to
the rule ARNs (issue 9: the Service Authorization Reference gives them no resource type, so only "*"
authorizes them) the same run stores an incomplete report that names AccessDenied for each."""

import json
from pathlib import Path

import pytest

from tests.iam.conftest import DESCRIBE_ACTIONS, describe_actions_on_rule_arns


@pytest.mark.parametrize(
    "regressed",
    [False, pytest.param(True, marks=pytest.mark.denials_expected)],
    ids=["synthesized", "describe-on-rule-arns"],
)
def test_the_report_is_complete_only_with_the_describe_actions_on_star(
    estate,
    emulator,
    deployment,
    handler_module,
    context_factory,
    make_scheduled_event,
    verify_trail,
    regressed,
):
    if regressed:
        template = json.loads(Path(deployment.template).read_text(encoding="utf-8"))
        emulator.load_iam(describe_actions_on_rule_arns(template))
    estate.bucket("payments-ledger", encrypted=False)

    try:
        result = handler_module.handler(make_scheduled_event(), context_factory())
        denials = emulator.iam()["recentDenials"]
    finally:
        emulator.load_iam(deployment.template)

    (report,) = verify_trail(estate)
    assert result["outcome"] == "stored"
    denied = sorted(e["subject"] for e in report["errors"] if e["code"] == "AccessDeniedException")
    findings = {f["resourceId"] for r in report["rules"] for f in r["nonCompliant"]}
    assert "payments-ledger" in findings  # the findings themselves are readable either way
    if regressed:
        assert report["complete"] is False
        assert denied == ["DescribeComplianceByConfigRule", "DescribeConfigRuleEvaluationStatus"]
        assert sorted({d["action"] for d in denials}) == sorted(DESCRIBE_ACTIONS)
    else:
        assert report["complete"] is True and report["errors"] == []
        assert denials == []
