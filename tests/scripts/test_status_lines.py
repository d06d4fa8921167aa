"""`make status` without the real auditor: its one-line failures (no report yet, auditor not built,
failing or of another output format), and how a status in the auditor's documented JSON format
(`auditor-status/1`, auditor/README.md "What status says") reads in the cases the end-to-end tests
(test_status.py) cannot easily stage: rules not compared, runs dated "or earlier", long lists, a gap
between the two reports, and a newest object that is not a valid report."""

from __future__ import annotations

import sys
from typing import Any

from lib.report_generator.infrastructure import OVERDUE_HOURS
from scripts.deployment import Deployment
from scripts.status import LISTED, MAX_GAP_HOURS, findings, render
from tests.scripts.conftest import own_lines, reports_bucket, run_make, run_script

DEPLOYED = Deployment("123456789012", "us-east-1", "ComplianceAudit-qa", "id", "UPDATE_COMPLETE")
NEWEST = "reports/2026/07/10/00000009-a.json"
PREVIOUS = "reports/2026/07/10/00000008-b.json"


def _auditor(tmp_path, script: str):
    path = tmp_path / "auditor"
    path.write_text("#!/bin/sh\n" + script)
    path.chmod(0o755)
    return path


def test_no_report_yet_says_when_the_first_comes(account):
    account.deploy("qa")

    result = run_make("status", "ENV_SUFFIX=qa", f"AUDITOR={sys.executable}", env=account.env)

    assert result.returncode != 0
    assert own_lines(result) == [
        f"error: no report in s3://{reports_bucket('qa')}/reports/ yet: the first is written at "
        "06:00 UTC, or ask for one now with make report-now ENV_SUFFIX=qa"
    ]


def test_an_auditor_that_fails_is_one_line(account, tmp_path):
    account.deploy("qa")
    account.put_reports(reports_bucket("qa"), count=1)
    failing = _auditor(
        tmp_path,
        "echo 'reading...' >&2\n"
        "echo 'auditor: error: s3://bucket/reports/: access denied (check s3:ListBucketVersions)' >&2\n"
        "exit 2\n",
    )

    result = run_make("status", "ENV_SUFFIX=qa", f"AUDITOR={failing}", env=account.env)

    assert result.returncode != 0
    assert own_lines(result) == [
        f"error: auditor status s3://{reports_bucket('qa')}/reports/ failed (exit 2): auditor: "
        "error: s3://bucket/reports/: access denied (check s3:ListBucketVersions)"
    ]


def test_an_auditor_of_another_output_format_is_one_line(account, tmp_path):
    account.deploy("qa")
    account.put_reports(reports_bucket("qa"), count=1)
    older = _auditor(tmp_path, 'echo \'{"format": "auditor-timeline/1"}\'\n')

    result = run_make("status", "ENV_SUFFIX=qa", f"AUDITOR={older}", env=account.env)

    assert result.returncode != 0
    assert own_lines(result) == [
        f"error: auditor status s3://{reports_bucket('qa')}/reports/ printed "
        "'auditor-timeline/1', not auditor-status/1: rebuild it with make auditor"
    ]


def test_an_auditor_not_built_is_one_line(account, tmp_path):
    account.deploy("qa")
    account.put_reports(reports_bucket("qa"), count=1)
    missing = tmp_path / "no-auditor"

    result = run_script("status", "--suffix", "qa", "--auditor", str(missing), env=account.env)

    assert result.returncode == 1
    assert result.stderr == f"error: the auditor is not built at {missing}: run make auditor\n"


def test_the_absence_limit_is_the_overdue_alarms():
    # make status calls a report missing exactly when compliance-report-overdue pages.
    assert MAX_GAP_HOURS == OVERDUE_HOURS


def _finding(resource: str, rule: str = "s3") -> dict[str, Any]:
    return {"rule": rule, "resourceType": "AWS::S3::Bucket", "resourceId": resource}


def _summary(key: str, sequence: int, generated: str, rules: list[dict[str, Any]]) -> dict:
    return {
        "key": key,
        "sequence": sequence,
        "sha256": "ab" * 32,
        "problem": None,
        "report": {
            "generatedAt": generated,
            "complete": all(r["complete"] for r in rules),
            "totalNonCompliant": sum(r["nonCompliant"] for r in rules),
            "rules": rules,
            "monitoringOn": True,
            "issues": [],
        },
    }


def _rule(name: str, non_compliant: int, complete: bool = True) -> dict[str, Any]:
    return {"rule": name, "complete": complete, "nonCompliant": non_compliant}


def _status(**changes: Any) -> dict[str, Any]:
    """A status of two reports on 2026-07-10, read at 12:00 UTC, with ``changes`` set."""
    rules = [_rule("s3", 2), _rule("ec2", 1, complete=False)]
    return {
        "format": "auditor-status/1",
        "provenance": {"generatedAt": "2026-07-10T12:00:00.123456789Z", "asOf": None},
        "newest": _summary(NEWEST, 9, "2026-07-10T06:00:00Z", rules),
        "previous": _summary(PREVIOUS, 8, "2026-07-10T01:30:00Z", rules),
        "changes": {
            "compared": True,
            "new": [],
            "fixed": [],
            "stillOpen": [],
            "notCompared": [],
            **changes,
        },
        "chain": {"linked": True, "statement": "verified", "problems": [], "gaps": []},
    }


def test_rules_not_compared_runs_dated_or_earlier_and_incomplete_rules():
    status = _status(
        stillOpen=[
            {
                **_finding("old"),
                "openSince": "2026-06-09",
                "openSinceOrEarlier": True,
                "openDays": 31,
            },
            {
                **_finding("young"),
                "openSince": "2026-07-09",
                "openSinceOrEarlier": False,
                "openDays": 1,
            },
        ],
        notCompared=[{"rule": "ec2", "reason": "incomplete in the newest report"}],
    )

    lines = render(status, DEPLOYED, "bucket")

    assert lines == [
        "ComplianceAudit-qa in account 123456789012, region us-east-1",
        f"newest report   2026-07-10 06:00:00Z (6.0 h ago)  s3://bucket/{NEWEST}",
        "open findings   3 (ec2 1 (incomplete), s3 2)",
        "since 2026-07-10 01:30:00Z (the report before, sequence 8): 0 new, 0 fixed, 2 still open",
        "  open   s3  AWS::S3::Bucket  old  (since 2026-06-09 or earlier: 31 days or more)",
        "  open   s3  AWS::S3::Bucket  young  (since 2026-07-09: 1 day)",
        "  not known ec2: incomplete in the newest report",
        "monitoring      in the newest report: recorder, rules and report all working",
        "trail           linked: the newest report carries the SHA-256 of the one before "
        "(checked by auditor status)",
    ]
    assert findings(status, "qa", "bucket") is None


def test_long_lists_are_cut_and_counted():
    status = _status(new=[_finding(f"bucket-{i:02d}") for i in range(LISTED + 5)])

    lines = render(status, DEPLOYED, "bucket")

    new = [line for line in lines if line.startswith("  new ")]
    assert len(new) == LISTED + 1
    assert new[0] == "  new    s3  AWS::S3::Bucket  bucket-00"
    assert new[-1] == "  new    ... and 5 more (auditor status --format json)"


def test_a_gap_between_the_two_and_the_absence_rule_are_findings():
    status = _status()
    status["chain"]["gaps"] = [
        {
            "beforeKey": NEWEST,
            "from": "2026-07-07T06:00:00Z",
            "hours": 72.0,
            "missingDates": ["2026-07-08", "2026-07-09"],
        },
        {"beforeKey": None, "from": "2026-07-10T06:00:00Z", "hours": 30.5, "missingDates": []},
    ]

    lines = render(status, DEPLOYED, "bucket")

    assert (
        lines[-1]
        == "gap             no report from 2026-07-08 to 2026-07-09: 72.0 h between the two reports"
    )
    assert findings(status, "qa", "bucket") == (
        f"no report since 2026-07-10 06:00:00Z (30.5 h, more than the {MAX_GAP_HOURS} h allowed): "
        "the generator stopped or the newest reports were deleted; see the "
        "compliance-report-overdue alarm in the runbook, and ask for a report with make "
        "report-now ENV_SUFFIX=qa; and 1 more finding(s) above"
    )


def test_a_newest_object_that_is_not_a_report_is_said_and_not_compared():
    status = _status(compared=False)
    status["newest"].update(report=None, problem="schema: generatedAt is missing")
    status["chain"].update(
        linked=False,
        statement="NOT VERIFIED: the newest report is not a valid report",
        problems=[{"code": "schema", "key": NEWEST, "detail": "generatedAt is missing"}],
    )

    lines = render(status, DEPLOYED, "bucket")

    assert lines[1:] == [
        f"newest report   s3://bucket/{NEWEST} is not a valid report: schema: generatedAt is missing",
        f"changes         not compared: {NEWEST} is not a valid report (schema: generatedAt is missing)",
        "trail           NOT intact: NOT VERIFIED: the newest report is not a valid report",
        f"                schema {NEWEST}: generatedAt is missing",
        "                auditor verify s3://bucket/reports/ checks the whole trail",
    ]
    assert findings(status, "qa", "bucket") == (
        "1 finding(s) in the two newest reports (above): auditor verify s3://bucket/reports/ "
        "checks the whole trail"
    )
