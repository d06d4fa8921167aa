"""GIVEN the synthesized stack WHEN the IAM linter reads every policy THEN it reports what a real
account would refuse, and nothing else."""

import json
import subprocess
import sys
from pathlib import Path

from lib.iam_acknowledgements import IamAck
from tests.iam.conftest import (
    DESCRIBE_ACTIONS,
    describe_actions_on_rule_arns,
    report_generator_policy,
)
from tools.local_aws.iam.lint import lint_template, summary
from tools.local_aws.iam.template import StackTemplate

ROOT = Path(__file__).resolve().parents[2]
DESCRIBE = sorted(DESCRIBE_ACTIONS)


def test_the_describe_actions_scoped_to_rule_arns_are_findings(template):
    report = lint_template(StackTemplate(describe_actions_on_rule_arns(template)))

    assert sorted(f.id for f in report.findings) == [f"RESOURCE_MISMATCH[{a}]" for a in DESCRIBE]
    for finding in report.findings:
        assert finding.statement.endswith("(ReadRuleResults)")
        assert 'only "*" authorizes it' in finding.detail
    assert not report.passed


def test_the_stacks_policies_lint_clean(template):
    report = lint_template(StackTemplate(template))

    assert report.findings == ()
    assert report.passed
    assert ": 0 findings, 0 acknowledged" in summary(report)


def test_each_kind_of_finding(template):
    document = report_generator_policy(template)
    bucket = "arn:aws:s3:::compliance-reports-dev-123456789012"
    document["Statement"] += [
        {"Sid": "Typo", "Effect": "Allow", "Action": "config:DescribeEverything", "Resource": "*"},
        {"Sid": "NoSuchFamily", "Effect": "Allow", "Action": "config:Frobnicate*", "Resource": "*"},
        {
            "Sid": "ListObjects",
            "Effect": "Allow",
            "Action": "s3:ListBucket",
            "Resource": f"{bucket}/*",
        },
        {
            "Sid": "OddKey",
            "Effect": "Allow",
            "Action": "s3:PutObject",
            "Resource": f"{bucket}/reports/*",
            "Condition": {"StringEquals": {"s3:x-amz-nonsense": "1"}},
        },
        {
            "Sid": "Lowercase",
            "Effect": "allow",
            "Action": "s3:GetObject",
            "Resource": f"{bucket}/*",
        },
        # Wildcards that fit some resource are fine: s3:Get* includes object actions.
        {"Sid": "Broad", "Effect": "Allow", "Action": "s3:Get*", "Resource": f"{bucket}/*"},
    ]

    found = {
        (f.code, f.subject, f.statement.split(" ")[-1])
        for f in lint_template(StackTemplate(template)).findings
    }

    assert found == {
        ("UNKNOWN_ACTION", "config:DescribeEverything", "(Typo)"),
        ("UNKNOWN_ACTION", "config:Frobnicate*", "(NoSuchFamily)"),
        ("RESOURCE_MISMATCH", "s3:ListBucket", "(ListObjects)"),
        ("UNKNOWN_CONDITION_KEY", "s3:x-amz-nonsense", "(OddKey)"),
        ("MALFORMED", "statement", "(Lowercase)"),
    }


def test_acknowledged_findings_pass_with_their_reason_and_stale_ones_fail(template):
    loaded = StackTemplate(describe_actions_on_rule_arns(template))
    holder = lint_template(loaded).findings[0].logical_id
    acks = [IamAck(holder, f"RESOURCE_MISMATCH[{a}]", "a reason") for a in DESCRIBE]

    accepted = lint_template(loaded, acks)
    assert accepted.passed and len(accepted.acknowledged) == 2

    fixed = lint_template(StackTemplate(template), acks)
    assert not fixed.passed
    assert len(fixed.stale) == 2 and "stale acknowledgement" in summary(fixed)


def test_the_command_line_exits_1_on_findings_and_prints_json(template, tmp_path):
    defective = tmp_path / "defective.template.json"
    defective.write_text(json.dumps(describe_actions_on_rule_arns(template)))
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "tools.local_aws.iam.lint",
            "--template",
            str(defective),
            "--json",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 1, proc.stderr
    assert sorted(f["subject"] for f in json.loads(proc.stdout)["findings"]) == DESCRIBE

    missing = subprocess.run(
        [
            sys.executable,
            "-m",
            "tools.local_aws.iam.lint",
            "--template",
            str(tmp_path / "none.json"),
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert missing.returncode == 2
    assert missing.stderr.startswith("iam-lint: ") and "cannot read" in missing.stderr
