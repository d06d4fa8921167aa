"""The real app's template, synthesized in-process, meets every rule of the contract.

A rule that skips has nothing to check in that variant: the default app has no e-mail
subscription, and with useExistingConfigRecorder the account's own recorder is used, so the
template has none. Any other skip would mean a rule silently stopped looking.
"""

from __future__ import annotations

import pytest

RECORDER_RULES = {
    "config_recorder_excludes_logs_destination",
    "config_recorder_role_has_aws_config_role",
    "config_recorder_role_not_deprecated_policy",
}


@pytest.mark.parametrize(
    ("variant", "expected_skips"),
    [
        ("default", {"sns_subscription_redrive_policy"}),
        ("alert-email", set()),
        ("existing-config-recorder", {"sns_subscription_redrive_policy", *RECORDER_RULES}),
    ],
)
def test_synthesized_template_meets_the_contract(
    variant, expected_skips, synthesized, run_policies, declared_rules
):
    template = synthesized(variant)

    report = run_policies(template)

    assert report.failed == set(), report.explain()
    assert report.skipped == expected_skips
    assert report.passed == set(declared_rules) - expected_skips
