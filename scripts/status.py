#!/usr/bin/env python3
"""The compliance state now: the newest report's summary and what changed since the report before it,
read through the auditor.

This script runs ``auditor status s3://<bucket>/reports/ --format json`` and prints the auditor's
stable JSON (``auditor-status/1``, auditor/README.md "What status says") for people. The auditor
orders the reports by sequence, not by day: the report before is the one with the next lower
sequence, whether it was written earlier the same day (make report-now) or days before. It checks
the link between the two (the newest report's previousSha256 is the SHA-256 of the previous
report's stored bytes), says which findings are new, fixed and still open, and dates each still-open
one back to where its run of reports began.

Exit status 0 when the auditor found the newest report recent and linked to the one before it. Its
findings (a broken link, a bad report, a gap between the two, or the absence rule: no report for
longer than ``MAX_GAP_HOURS``) follow the summary as one ``error:`` line, exit status 1. Anything
that stops the run is one line and exit status 1 too.

The auditor gets the credentials boto3 resolved (any profile kind boto3 supports, SSO included), as
environment variables, so it reads the bucket as the same identity that found the stack.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path
from typing import Any, Optional

import boto3

from lib.report_generator.runtime.compliance_report.environment import DEFAULT_REPORT_PREFIX
from lib.stack_outputs import REPORT_BUCKET
from scripts import deployment
from scripts.deployment import OpsError

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_AUDITOR = ROOT / "auditor" / "target" / "debug" / "auditor"
FORMAT = "auditor-status/1"
# The absence rule's limit: the compliance-report-overdue alarm's OVERDUE_HOURS (a day plus the time
# the daily request's retries may take; lib/report_generator/infrastructure.py), so make status calls
# a report missing exactly when the alarm pages. Not imported: that module loads the CDK, which starts
# node; tests/scripts/test_status_lines.py fails when the two differ.
MAX_GAP_HOURS = 26
LISTED = 20  # findings listed per kind of change; the rest are counted
INDENT = " " * 16  # the width of "newest report   ", for a section's further lines


def auditor_environment(aws: boto3.session.Session) -> dict[str, str]:
    """This process's environment with boto3's resolved credentials and region for the auditor."""
    env = {k: v for k, v in os.environ.items() if k not in ("AWS_PROFILE", "AWS_DEFAULT_PROFILE")}
    credentials = aws.get_credentials()
    frozen = credentials.get_frozen_credentials() if credentials is not None else None
    if frozen is None or not frozen.access_key or not frozen.secret_key:
        raise OpsError(f"no AWS credentials found: {deployment.SIGN_IN}")
    env["AWS_ACCESS_KEY_ID"] = frozen.access_key
    env["AWS_SECRET_ACCESS_KEY"] = frozen.secret_key
    env.pop("AWS_SESSION_TOKEN", None)
    if frozen.token:
        env["AWS_SESSION_TOKEN"] = frozen.token
    env["AWS_REGION"] = str(aws.region_name)
    return env


def run_status(auditor: Path, source: str, env: dict[str, str]) -> dict[str, Any]:
    """``auditor status SOURCE --format json``; exit 0 (clean) and 1 (findings) both answer."""
    if not os.access(auditor, os.X_OK):
        raise OpsError(f"the auditor is not built at {auditor}: run make auditor")
    command = [str(auditor), "--quiet", "status", source, "--format", "json"]
    command += ["--max-gap-hours", str(MAX_GAP_HOURS)]
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode not in (0, 1):
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        said = next((line for line in lines if "error:" in line), lines[-1] if lines else "")
        raise OpsError(f"auditor status {source} failed (exit {done.returncode}): {said.strip()}")
    try:
        parsed = json.loads(done.stdout)
    except ValueError:
        raise OpsError(f"auditor status {source} printed no JSON") from None
    written = parsed.get("format") if isinstance(parsed, dict) else None
    if written != FORMAT:
        raise OpsError(
            f"auditor status {source} printed {written!r}, not {FORMAT}: rebuild it with make auditor"
        )
    return dict(parsed)


def _time(stamp: str) -> datetime:
    return datetime.fromisoformat(stamp)  # RFC 3339 in UTC, as the auditor writes every time


def _when(stamp: str) -> str:
    return _time(stamp).strftime("%Y-%m-%d %H:%M:%SZ")


def _days(n: int) -> str:
    return f"{n} day" if n == 1 else f"{n} days"


def _finding(f: dict[str, Any]) -> str:
    return f"{f['rule']}  {f['resourceType']}  {f['resourceId']}"


def _listed(label: str, items: list[str]) -> list[str]:
    lines = [f"  {label:<6} {item}" for item in items[:LISTED]]
    if len(items) > LISTED:
        lines.append(
            f"  {label:<6} ... and {len(items) - LISTED} more (auditor status --format json)"
        )
    return lines


def _newest(status: dict[str, Any], bucket: str) -> list[str]:
    newest = status["newest"]
    where = f"s3://{bucket}/{newest['key']}"
    report = newest["report"]
    if report is None:
        return [f"newest report   {where} is not a valid report: {newest['problem']}"]
    provenance = status["provenance"]
    now = _time(provenance["asOf"] or provenance["generatedAt"])
    hours = (now - _time(report["generatedAt"])).total_seconds() / 3600
    by_rule = ", ".join(
        f"{rule['rule']} {rule['nonCompliant']}" + ("" if rule["complete"] else " (incomplete)")
        for rule in sorted(report["rules"], key=lambda r: str(r["rule"]))
    )
    return [
        f"newest report   {_when(report['generatedAt'])} ({hours:.1f} h ago)  {where}",
        f"open findings   {report['totalNonCompliant']} ({by_rule})",
    ]


def _changes(status: dict[str, Any]) -> list[str]:
    previous, changes = status["previous"], status["changes"]
    if previous is None:
        return ["changes         nothing to compare with: the newest report is the only one"]
    if not changes["compared"]:
        invalid = previous if previous["report"] is None else status["newest"]
        return [
            f"changes         not compared: {invalid['key']} is not a valid report "
            f"({invalid['problem']})"
        ]
    new, fixed, still_open = changes["new"], changes["fixed"], changes["stillOpen"]
    lines = [
        f"since {_when(previous['report']['generatedAt'])} (the report before, sequence "
        f"{previous['sequence']}): {len(new)} new, {len(fixed)} fixed, {len(still_open)} still open"
    ]
    lines += _listed("new", [_finding(f) for f in new])
    lines += _listed("fixed", [_finding(f) for f in fixed])
    opened = []
    for f in still_open:
        age = (
            f"(since {f['openSince']} or earlier: {_days(f['openDays'])} or more)"
            if f["openSinceOrEarlier"]
            else f"(since {f['openSince']}: {_days(f['openDays'])})"
        )
        opened.append(f"{_finding(f)}  {age}")
    lines += _listed("open", opened)
    lines += [f"  not known {n['rule']}: {n['reason']}" for n in changes["notCompared"]]
    return lines


def _monitoring(status: dict[str, Any]) -> list[str]:
    report = status["newest"]["report"]
    if report is None:
        return []
    issues = report["issues"]
    if not issues:
        return ["monitoring      in the newest report: recorder, rules and report all working"]
    described = "; ".join(f"{i['kind']} {i['subject']}: {i['detail']}" for i in issues)
    return [f"monitoring      {len(issues)} problem(s) in the newest report: {described}"]


def _trail(status: dict[str, Any], bucket: str) -> list[str]:
    chain = status["chain"]
    lines: list[str] = []
    if chain["problems"] or chain["linked"] is False:
        said = (
            chain["statement"]
            if chain["linked"] is False
            else f"{len(chain['problems'])} problem(s) in the two newest reports"
        )
        lines.append(f"trail           NOT intact: {said}")
        lines += [f"{INDENT}{p['code']} {p['key']}: {p['detail']}" for p in chain["problems"]]
        lines.append(
            f"{INDENT}auditor verify s3://{bucket}/{DEFAULT_REPORT_PREFIX} checks the whole trail"
        )
    elif chain["linked"] is None:
        lines.append("trail           nothing to link: the newest report is the only one")
    else:
        lines.append(
            "trail           linked: the newest report carries the SHA-256 of the one before "
            "(checked by auditor status)"
        )
    for gap in chain["gaps"]:
        if gap["beforeKey"] is None:
            continue  # the absence rule: the error line after the summary says it
        dates = gap["missingDates"]
        days = (
            "late report"
            if not dates
            else f"no report on {dates[0]}"
            if len(dates) == 1
            else f"no report from {dates[0]} to {dates[-1]}"
        )
        lines.append(f"gap             {days}: {gap['hours']} h between the two reports")
    return lines


def render(status: dict[str, Any], deployed: deployment.Deployment, bucket: str) -> list[str]:
    """The summary for people, from an ``auditor-status/1`` document."""
    return [
        f"{deployed.stack_name} in {deployed.where}",
        *_newest(status, bucket),
        *_changes(status),
        *_monitoring(status),
        *_trail(status, bucket),
    ]


def findings(status: dict[str, Any], suffix: str, bucket: str) -> Optional[str]:
    """The auditor's findings as one line, the absence rule first; None when there is none."""
    chain = status["chain"]
    absent = [gap for gap in chain["gaps"] if gap["beforeKey"] is None]
    others = len(chain["problems"]) + len(chain["gaps"]) - len(absent)
    if absent:
        gap = absent[0]
        line = (
            f"no report since {_when(gap['from'])} ({gap['hours']} h, more than the "
            f"{MAX_GAP_HOURS} h allowed): the generator stopped or the newest reports were "
            "deleted; see the compliance-report-overdue alarm in the runbook, and ask for a report "
            f"with make report-now ENV_SUFFIX={suffix}"
        )
        return line + (f"; and {others} more finding(s) above" if others else "")
    if others:
        return (
            f"{others} finding(s) in the two newest reports (above): auditor verify "
            f"s3://{bucket}/{DEFAULT_REPORT_PREFIX} checks the whole trail"
        )
    return None


def main(argv: Optional[list[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suffix", required=True, help="environment suffix, e.g. prod")
    parser.add_argument("--auditor", type=Path, default=DEFAULT_AUDITOR, help="the auditor binary")
    args = parser.parse_args(argv)
    aws = deployment.session()
    deployed = deployment.find(aws, args.suffix)
    bucket = deployed.output(REPORT_BUCKET)
    listing = deployment.client(aws, "s3").list_objects_v2(
        Bucket=bucket, Prefix=DEFAULT_REPORT_PREFIX, MaxKeys=1
    )
    if not listing.get("KeyCount"):
        raise OpsError(
            f"no report in s3://{bucket}/{DEFAULT_REPORT_PREFIX} yet: the first is written at "
            f"06:00 UTC, or ask for one now with make report-now ENV_SUFFIX={args.suffix}"
        )
    status = run_status(
        args.auditor, f"s3://{bucket}/{DEFAULT_REPORT_PREFIX}", auditor_environment(aws)
    )
    print("\n".join(render(status, deployed, bucket)), flush=True)
    found = findings(status, args.suffix, bucket)
    if found is None:
        return 0
    print(f"error: {found}", file=sys.stderr)
    return 1


if __name__ == "__main__":
    sys.exit(deployment.run(main))
