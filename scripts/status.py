#!/usr/bin/env python3
"""The compliance state now: the newest report's summary and what changed since the report before it,
read through the auditor.

The auditor has no command that answers this directly, so this script runs
``auditor timeline s3://<bucket>/reports/ --from <today - 7 days> --to <today> --format json`` and reads
its stable JSON (auditor/README.md, "Output formats"). The timeline works in UTC days: the state of a
day is the last report generated that day, so "the report before" is the last report of the previous
day that has one, and the change is what the timeline's exposure windows say happened on the newest
day: a window opened that day is a new finding, a window resolved that day is a fixed one. The
timeline checks the chain of the reports it read, so the trail verdict comes with it.

The auditor gets the credentials boto3 resolved (any profile kind boto3 supports, SSO included), as
environment variables, so it reads the bucket as the same identity that found the stack.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Optional

import boto3

from lib.report_generator.runtime.compliance_report.environment import DEFAULT_REPORT_PREFIX
from lib.stack_outputs import REPORT_BUCKET
from scripts import deployment
from scripts.deployment import OpsError

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_AUDITOR = ROOT / "auditor" / "target" / "debug" / "auditor"
WINDOW_DAYS = 7  # how far back the report before may be (a weekend outage still finds it)
LISTED = 20  # findings listed per kind of change; the rest are counted


@dataclass(frozen=True)
class Finding:
    rule: str
    resource_type: str
    resource_id: str
    since: str  # the date its current (or last) window opened
    before_window: bool  # opened before the timeline's first day: "since" is an upper bound


@dataclass(frozen=True)
class Status:
    newest: dict[str, Any]  # the timeline's day entry of the newest report
    previous: Optional[dict[str, Any]]
    new: list[Finding]
    fixed: list[Finding]
    still_open: list[Finding]
    issues: list[dict[str, Any]]  # monitoring issues on the newest day
    chain: dict[str, Any]
    period: dict[str, Any]


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


def run_timeline(
    auditor: Path, source: str, first: date, last: date, env: dict[str, str]
) -> dict[str, Any]:
    """``auditor timeline ... --format json``; exit 0 and 1 (findings in the trail) both answer."""
    if not os.access(auditor, os.X_OK):
        raise OpsError(f"the auditor is not built at {auditor}: run make auditor")
    command = [str(auditor), "--quiet", "timeline", source, "--format", "json"]
    command += ["--from", first.isoformat(), "--to", last.isoformat()]
    done = subprocess.run(command, env=env, capture_output=True, text=True)
    if done.returncode not in (0, 1):
        lines = [line for line in done.stderr.splitlines() if line.strip()]
        said = next((line for line in lines if "error:" in line), lines[-1] if lines else "")
        raise OpsError(f"auditor timeline {source} failed (exit {done.returncode}): {said.strip()}")
    try:
        parsed: dict[str, Any] = json.loads(done.stdout)
    except ValueError:
        raise OpsError(f"auditor timeline {source} printed no JSON") from None
    return parsed


def summarize(timeline: dict[str, Any]) -> Status:
    period = timeline["period"]
    reported = [day for day in timeline["days"] if day["state"] == "reported"]
    if not reported:
        raise OpsError(
            f"no report from {period['from']} to {period['through']}: see the "
            "compliance-report-missing alarm and the runbook; make report-now asks for one"
        )
    newest, previous = reported[-1], (reported[-2] if len(reported) > 1 else None)
    day = newest["date"]
    new: list[Finding] = []
    fixed: list[Finding] = []
    still_open: list[Finding] = []
    for exposure in timeline["exposures"]:
        for window in exposure["windows"]:
            finding = Finding(
                exposure["rule"],
                exposure["resourceType"],
                exposure["resourceId"],
                window["opened"],
                bool(window["openedBeforePeriod"]),
            )
            if window["resolved"] == day:
                fixed.append(finding)
            elif window["resolved"] is None and window["opened"] <= day:
                opened_today = window["opened"] == day and not window["openedBeforePeriod"]
                (new if opened_today and previous is not None else still_open).append(finding)
    issues: list[dict[str, Any]] = next(
        (d["issues"] for d in timeline["monitoring"]["days"] if d["date"] == day),
        [],
    )
    return Status(newest, previous, new, fixed, still_open, issues, timeline["chain"], period)


def render(status: Status, deployed: deployment.Deployment, bucket: str) -> list[str]:
    newest, day = status.newest, status.newest["date"]
    by_rule = ", ".join(f"{rule} {count}" for rule, count in sorted(newest["byRule"].items()))
    lines = [
        f"{deployed.stack_name} in {deployed.where}",
        f"newest report   {day}  s3://{bucket}/{newest['report']}",
        f"open findings   {newest['total']} ({by_rule})",
    ]
    if status.previous is None:
        lines.append(
            f"changes         no earlier report since {status.period['from']} to compare with"
        )
    else:
        lines.append(
            f"since {status.previous['date']} (the report before): {len(status.new)} new, "
            f"{len(status.fixed)} fixed, {len(status.still_open)} still open"
        )
    today = date.fromisoformat(day)
    for label, findings in (
        ("new", status.new),
        ("fixed", status.fixed),
        ("open", status.still_open),
    ):
        for finding in findings[:LISTED]:
            detail = ""
            if label == "open":
                age = (today - date.fromisoformat(finding.since)).days
                days = "day" if age == 1 else "days"
                detail = (
                    f"  (since before {finding.since}: over {age} {days})"
                    if finding.before_window
                    else f"  (since {finding.since}: {age} {days})"
                )
            lines.append(
                f"  {label:<6} {finding.rule}  {finding.resource_type}  {finding.resource_id}{detail}"
            )
        if len(findings) > LISTED:
            lines.append(f"  {label:<6} ... and {len(findings) - LISTED} more (auditor timeline)")
    if status.issues:
        described = "; ".join(f"{i['kind']} {i['subject']}: {i['detail']}" for i in status.issues)
        lines.append(f"monitoring      {len(status.issues)} problem(s) that day: {described}")
    else:
        lines.append("monitoring      on that day: recorder, rules and report all working")
    chain = status.chain
    checked = (
        f"{chain['reports']} reports from {status.period['from']} to {status.period['through']}"
    )
    if chain["intact"]:
        lines.append(f"trail           intact ({checked}, checked by auditor timeline)")
    else:
        lines.append(
            f"trail           NOT intact: {len(chain['problems'])} problem(s) in {checked}; "
            f"run auditor verify s3://{bucket}/{DEFAULT_REPORT_PREFIX}"
        )
    if chain.get("gaps"):
        missing = [d for gap in chain["gaps"] for d in gap["missingDates"]]
        lines.append(f"                days without a report: {', '.join(missing)}")
    return lines


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
    today = datetime.now(timezone.utc).date()
    timeline = run_timeline(
        args.auditor,
        f"s3://{bucket}/{DEFAULT_REPORT_PREFIX}",
        today - timedelta(days=WINDOW_DAYS),
        today,
        auditor_environment(aws),
    )
    print("\n".join(render(summarize(timeline), deployed, bucket)))
    return 0


if __name__ == "__main__":
    sys.exit(deployment.run(main))
