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
    """The first wave's defect, put back: the two Describe actions scoped to the rule ARNs (beside
    GetComplianceDetailsByConfigRule) instead of "*", where only "*" authorizes them."""
    template = copy.deepcopy(template)
    document = report_generator_policy(template)
    by_sid = {statement.get("Sid"): statement for statement in document["Statement"]}
    unscoped, scoped = by_sid["ReadUnscopedStatus"], by_sid["ReadRuleResults"]
    unscoped["Action"] = sorted(set(unscoped["Action"]) - set(DESCRIBE_ACTIONS))
    scoped["Action"] = sorted({*_actions(scoped), *DESCRIBE_ACTIONS})
    return template


def _actions(statement):
    action = statement["Action"]
    return [action] if isinstance(action, str) else action
