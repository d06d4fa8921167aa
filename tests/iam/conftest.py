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


def describe_actions_on_star(template):
    """The fix the linter asks for: the two Describe actions in a statement of their own on "*"."""
    document = report_generator_policy(template)
    describe = {
        "config:DescribeComplianceByConfigRule",
        "config:DescribeConfigRuleEvaluationStatus",
    }
    for statement in document["Statement"]:
        actions = (
            statement["Action"] if isinstance(statement["Action"], list) else [statement["Action"]]
        )
        if describe & set(actions):
            statement["Action"] = sorted(set(actions) - describe)
    document["Statement"].append(
        {"Sid": "ReadRuleStatus", "Effect": "Allow", "Action": sorted(describe), "Resource": "*"}
    )
    return template
