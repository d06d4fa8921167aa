"""The rule files themselves: every rule explains itself, and the compliant fixture exercises all."""

from __future__ import annotations


def test_every_rule_carries_a_message_naming_the_contract(declared_rules):
    missing = [name for name, (_, text) in declared_rules.items() if "<< Contract:" not in text]
    assert not missing, f"rules without a << Contract: ... >> message: {missing}"


def test_each_area_has_its_own_rule_file(declared_rules):
    files = {file for file, _ in declared_rules.values()}
    assert files == {
        "s3.guard",
        "lambda.guard",
        "messaging.guard",
        "tags.guard",
        "retention.guard",
        "config.guard",
        "iam.guard",
    }


def test_compliant_fixture_passes_every_rule_and_skips_none(
    run_policies, compliant, declared_rules
):
    report = run_policies(compliant)
    # Evaluated, not skipped: a rule that skips here is never shown to pass on real input.
    assert set(report.statuses) == set(declared_rules), (
        "cfn-guard and the rule files disagree on the rule names"
    )
    assert report.passed == set(declared_rules), (
        report.explain() + f"\nskipped: {sorted(report.skipped)}"
    )
