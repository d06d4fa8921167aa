"""`make diff` checks that the stack is deployed, then runs cdk diff against it (the emulator's
CloudFormation answers GetTemplate); the failure lines are in test_failure_lines.py."""

from __future__ import annotations

from tests.scripts.conftest import run_make


def test_diff_names_the_stack_then_shows_what_deploy_would_change(account):
    account.deploy("qa")  # a stack of this app, deployed from a much smaller template

    result = run_make("diff", "ENV_SUFFIX=qa", "ALERT_EMAIL=none", env=account.env)

    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.splitlines()[0] == (
        "ComplianceAudit-qa in account 123456789012, region us-east-1: CREATE_COMPLETE"
    )
    printed = result.stdout + result.stderr
    assert "[+] AWS::Lambda::Function ReportGenerator/Function" in printed
    assert "[-] AWS::SNS::Topic AlertingAlerts" in printed
    assert "Number of stacks with differences: 1" in printed
