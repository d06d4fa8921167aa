"""The stack synthesized once per session (tests/unit/synth.py), for the loader, linter and emulator tests."""

import copy

import pytest


@pytest.fixture(scope="session")
def synthesized():
    from tests.unit.synth import synthesize

    return synthesize()


@pytest.fixture
def template(synthesized):
    """A private copy of the synthesized template, free to modify."""
    return copy.deepcopy(synthesized.template)


def report_generator_policy(template):
    """The report generator's customer managed policy document (AWS::IAM::ManagedPolicy)."""
    for resource in template["Resources"].values():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::IAM::ManagedPolicy" and "report-generator" in str(
            props.get("ManagedPolicyName")
        ):
            return props["PolicyDocument"]
    raise AssertionError("no report generator policy in the template")


DESCRIBE_ACTIONS = (
    "config:DescribeComplianceByConfigRule",
    "config:DescribeConfigRuleEvaluationStatus",
)


def describe_actions_on_rule_arns(template):
    """The defect the linter and the emulator must catch: the two Describe actions back in the
    statement that scopes config:GetComplianceDetailsByConfigRule to the rule ARNs (as the stack
    had them before issue 9), and no longer on "*". Returns a changed copy of the template."""
    template = copy.deepcopy(template)
    document = report_generator_policy(template)
    statements = document["Statement"]
    scoped = None
    for statement in statements:
        actions = (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
        if "config:GetComplianceDetailsByConfigRule" in actions:
            scoped = statement
        statement["Action"] = [a for a in actions if a not in DESCRIBE_ACTIONS]
    assert scoped is not None, "no statement grants config:GetComplianceDetailsByConfigRule"
    scoped["Action"] = sorted(scoped["Action"] + list(DESCRIBE_ACTIONS))
    document["Statement"] = [s for s in statements if s["Action"]]
    return template
