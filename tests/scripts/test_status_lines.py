"""`make status` without the real auditor: its one-line failures (no report yet, auditor not built or
failing) and how a timeline in the auditor's documented JSON format (auditor/README.md) is read."""

from __future__ import annotations

import sys

import pytest

from scripts.deployment import Deployment, OpsError
from scripts.status import render, summarize
from tests.scripts.conftest import own_lines, reports_bucket, run_make, run_script


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
    failing = tmp_path / "auditor"
    failing.write_text(
        "#!/bin/sh\necho 'reading...' >&2\n"
        "echo 'auditor: error: s3://bucket/reports/: access denied (check s3:ListBucketVersions)' >&2\n"
        "exit 2\n"
    )
    failing.chmod(0o755)

    result = run_make("status", "ENV_SUFFIX=qa", f"AUDITOR={failing}", env=account.env)

    assert result.returncode != 0
    assert own_lines(result) == [
        f"error: auditor timeline s3://{reports_bucket('qa')}/reports/ failed (exit 2): auditor: "
        "error: s3://bucket/reports/: access denied (check s3:ListBucketVersions)"
    ]


def test_an_auditor_not_built_is_one_line(account, tmp_path):
    account.deploy("qa")
    account.put_reports(reports_bucket("qa"), count=1)
    missing = tmp_path / "no-auditor"

    result = run_script("status", "--suffix", "qa", "--auditor", str(missing), env=account.env)

    assert result.returncode == 1
    assert result.stderr == f"error: the auditor is not built at {missing}: run make auditor\n"


def _day(date, state, total, by_rule, report="reports/x.json"):
    return {"date": date, "state": state, "report": report, "total": total, "byRule": by_rule}


def _exposure(resource, windows):
    return {
        "rule": "s3",
        "resourceType": "AWS::S3::Bucket",
        "resourceId": resource,
        "windows": [
            {"opened": o, "resolved": r, "openedBeforePeriod": before} for o, r, before in windows
        ],
    }


TIMELINE = {
    "period": {"from": "2026-07-03", "to": "2026-07-10", "through": "2026-07-10"},
    "days": [
        _day("2026-07-08", "reported", 2, {"s3": 2}),
        _day("2026-07-09", "carried", 2, {"s3": 2}, report=None),
        _day("2026-07-10", "reported", 2, {"s3": 2}, report="reports/2026/07/10/00000009-a.json"),
    ],
    "exposures": [
        _exposure("old", [("2026-07-03", None, True)]),
        _exposure("fixed", [("2026-07-08", "2026-07-10", False)]),
        _exposure("reopened", [("2026-07-03", "2026-07-05", True), ("2026-07-10", None, False)]),
        _exposure("earlier-fix", [("2026-07-04", "2026-07-06", False)]),
    ],
    "monitoring": {
        "days": [
            {
                "date": "2026-07-10",
                "issues": [{"kind": "ruleNotEvaluating", "subject": "s3", "detail": "failed"}],
            }
        ]
    },
    "chain": {
        "intact": False,
        "reports": 4,
        "problems": [{"code": "hash-mismatch"}],
        "gaps": [{"missingDates": ["2026-07-09"]}],
    },
}


def test_changes_come_from_the_windows_opened_and_resolved_on_the_newest_day():
    status = summarize(TIMELINE)

    assert status.newest["date"] == "2026-07-10" and status.previous["date"] == "2026-07-08"
    assert [f.resource_id for f in status.new] == ["reopened"]
    assert [f.resource_id for f in status.fixed] == ["fixed"]
    assert [f.resource_id for f in status.still_open] == ["old"]


def test_render_flags_a_broken_trail_a_gap_and_a_monitoring_problem():
    deployed = Deployment(
        "123456789012", "us-east-1", "ComplianceAudit-qa", "id", "UPDATE_COMPLETE"
    )

    lines = render(summarize(TIMELINE), deployed, "bucket")

    assert lines[1] == "newest report   2026-07-10  s3://bucket/reports/2026/07/10/00000009-a.json"
    assert lines[4:7] == [
        "  new    s3  AWS::S3::Bucket  reopened",
        "  fixed  s3  AWS::S3::Bucket  fixed",
        "  open   s3  AWS::S3::Bucket  old  (since before 2026-07-03: over 7 days)",
    ]
    assert lines[-3] == "monitoring      1 problem(s) that day: ruleNotEvaluating s3: failed"
    assert lines[-2] == (
        "trail           NOT intact: 1 problem(s) in 4 reports from 2026-07-03 to 2026-07-10; "
        "run auditor verify s3://bucket/reports/"
    )
    assert lines[-1] == "                days without a report: 2026-07-09"


def test_a_window_without_any_report_is_one_line():
    empty = {**TIMELINE, "days": [_day("2026-07-10", "unknown", 0, {}, report=None)]}

    with pytest.raises(OpsError, match="no report from 2026-07-03 to 2026-07-10"):
        summarize(empty)
