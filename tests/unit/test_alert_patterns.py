"""GIVEN the EventBridge rules of the synthesized stack WHEN AWS's documented sample events are matched
against their patterns by a real EventBridge pattern matcher (moto's, ``moto.events.models.EventPattern``,
the one the emulator delivers events with) THEN exactly the events that must become alerts reach the
alert formatter's queues. The samples and where each comes from: tests/alert_formatter/events/README.md."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from moto.events.models import EventPattern

from tests.unit.synth import synth_template
from tools.local_aws.iam.template import StackTemplate

EVENTS = Path(__file__).resolve().parents[1] / "alert_formatter" / "events"
ALL = sorted(p.name for p in EVENTS.glob("*.json"))
# The samples use the stack's rule names for suffix "prod".
OVERRIDES = {"environmentSuffix": "prod"}


def sample(name: str) -> dict:
    return json.loads((EVENTS / name).read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def patterns():
    out = {}
    for resolved in (False, True):
        template = synth_template({**OVERRIDES, "alertResolved": str(resolved).lower()})
        # The patterns name the rules by Ref, which CloudFormation resolves to their names; moto's
        # matcher would take {"Ref": ...} for a filter it does not know and match anything.
        stack = StackTemplate(template.to_json())
        out[resolved] = {
            r["Properties"]["Name"].removesuffix("-prod"): EventPattern.load(
                json.dumps(stack.resolve(r["Properties"]["EventPattern"], lid))
            )
            for lid, r in stack.resources.items()
            if r["Type"] == "AWS::Events::Rule" and "EventPattern" in r["Properties"]
        }
    return out


def routed(patterns, name: str, resolved: bool = False) -> list[str]:
    event = sample(name)
    return sorted(rule for rule, p in patterns[resolved].items() if p.matches_event(event))


NON_COMPLIANT = {
    "compliance_change_ec2_non_compliant.json",
    "compliance_change_rds_first_evaluation.json",
}
RESOLVED = {"compliance_change_s3_resolved.json", "compliance_change_s3_deleted.json"}
MONITORING = {
    "cloudtrail_stop_configuration_recorder.json",
    "cloudtrail_delete_configuration_recorder.json",
    "cloudtrail_delete_delivery_channel.json",
    "cloudtrail_delete_config_rule.json",
    "cloudtrail_start_configuration_recorder.json",
}


@pytest.mark.parametrize("name", ALL)
def test_by_default_only_non_compliant_changes_and_monitoring_calls_are_routed(patterns, name):
    if name in NON_COMPLIANT:
        expected = ["config-noncompliant"]
    elif name in MONITORING:
        expected = ["config-monitoring-changes"]
    else:
        expected = []
    assert routed(patterns, name) == expected


@pytest.mark.parametrize("name", ALL)
def test_with_resolved_changes_on_a_finding_that_ends_is_routed_too(patterns, name):
    if name in NON_COMPLIANT | RESOLVED:
        expected = ["config-noncompliant"]
    elif name in MONITORING:
        expected = ["config-monitoring-changes"]
    else:
        expected = []
    assert routed(patterns, name, resolved=True) == expected


def test_the_samples_cover_every_kind_the_patterns_must_tell_apart():
    kinds = {name.split("_")[0] for name in ALL}
    assert kinds == {"compliance", "cloudtrail", "scheduled"}
    refused = set(ALL) - NON_COMPLIANT - RESOLVED - MONITORING
    assert refused == {
        "cloudtrail_delete_other_config_rule.json",  # not the stack's rule
        "cloudtrail_describe_configuration_recorders.json",  # read-only
        "cloudtrail_stop_configuration_recorder_denied.json",  # failed: errorCode
        "compliance_change_compliant_first_evaluation.json",  # never non-compliant
        "compliance_change_other_rule.json",  # not the stack's rule
        "scheduled_status_check.json",  # the schedule's own rule sends it, by no pattern
    }


def test_the_matcher_is_strict_enough_to_fail():
    """A pattern that forgot the NON_COMPLIANT filter would route a COMPLIANT first evaluation."""
    loose = EventPattern.load(
        json.dumps({"source": ["aws.config"], "detail-type": ["Config Rules Compliance Change"]})
    )
    assert loose.matches_event(sample("compliance_change_compliant_first_evaluation.json"))
