"""`make status` end to end: the real report generator writes reports into the emulated stack's
bucket, and the newest one's summary and the change since the one before are read through the real
auditor (`auditor status`).

Needs the auditor binary (AUDITOR_BINARY, else auditor/target/debug/auditor): `make test-e2e` runs
this file once the auditor is built; `make test-python` leaves it out.
"""

from __future__ import annotations

import json
import os
import re
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from demo.generator import SimulatedSchedule
from lib.report_generator import local_harness as harness
from scripts.status import MAX_GAP_HOURS
from tests.scripts.conftest import ROOT, logs_bucket, own_lines, reports_bucket, run_make
from tools.local_aws import estate

AUDITOR = Path(os.environ.get("AUDITOR_BINARY", ROOT / "auditor" / "target" / "debug" / "auditor"))
RULES = {
    "s3-bucket-sse-qa": estate.S3_RULE,
    "rds-storage-encrypted-qa": estate.RDS_RULE,
    "ec2-imdsv2-check-qa": estate.EC2_RULE,
}
BUCKET = reports_bucket("qa")
STACK = "ComplianceAudit-qa in account 123456789012, region us-east-1"
ALL_WORKING = "monitoring      in the newest report: recorder, rules and report all working"
LINKED = (
    "trail           linked: the newest report carries the SHA-256 of the one before "
    "(checked by auditor status)"
)
AGE = re.compile(r" \((\d+\.\d) h ago\)  ")


@pytest.fixture(scope="module")
def auditor() -> Path:
    if not os.access(AUDITOR, os.X_OK):
        pytest.skip(
            f"make status reads through the auditor, which is not built at {AUDITOR}: run "
            "`make auditor` or set AUDITOR_BINARY (make test-e2e runs these tests with it)"
        )
    return AUDITOR


def _utc(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


@pytest.fixture
def platform(account, tmp_path):
    """ComplianceAudit-qa with AWS Config recording and the three rules; a daily schedule to run."""
    account.deploy("qa")
    s3 = account.s3
    for bucket in (reports_bucket("qa"), logs_bucket("qa")):
        estate.remediate_bucket(s3, bucket)
    estate.put_managed_rules(account.config, *RULES)
    estate.create_bucket(s3, "qa-config-delivery")
    estate.start_recording(account.config, "qa-config-delivery")
    env = harness.function_environment(
        endpoint_url=account.aws.endpoint_url,
        bucket=BUCKET,
        topic_arn="arn:aws:sns:us-east-1:123456789012:compliance-alerts-qa",
        rules=[{"name": name, "managedIdentifier": rule} for name, rule in RULES.items()],
        suffix="qa",
    )
    with open(tmp_path / "generator.jsonl", "w", encoding="utf-8") as log:
        schedule = SimulatedSchedule(env, "qa", seed=11, log=log)

        def run_day(moment: datetime) -> dict:
            account.aws.set_clock(_utc(moment))
            try:
                result = schedule.run_day(moment)
            finally:
                account.aws.set_clock(None)
            assert result["outcome"] == "stored", result
            return result

        yield run_day


def _generated(account, result: dict) -> str:
    """The stored report's generatedAt, as make status prints times."""
    body = account.s3.get_object(Bucket=BUCKET, Key=result["reportKey"])["Body"].read()
    stamp = datetime.fromisoformat(json.loads(body)["generatedAt"])
    return stamp.strftime("%Y-%m-%d %H:%M:%SZ")


def _newest_line(account, result: dict) -> str:
    """The newest report line, its age left out (see _without_age)."""
    return f"newest report   {_generated(account, result)}  s3://{BUCKET}/{result['reportKey']}"


def _status(account, auditor: Path):
    return run_make("status", "ENV_SUFFIX=qa", f"AUDITOR={auditor}", env=account.env)


def _without_age(lines: list[str]) -> tuple[list[str], float]:
    """The lines with the newest report's age left out, and that age in hours."""
    found = AGE.search(lines[1])
    assert found, lines[1]
    return [lines[0], AGE.sub("  ", lines[1]), *lines[2:]], float(found.group(1))


def test_status_shows_the_newest_report_and_what_changed_since_the_one_before(
    account, platform, auditor
):
    # GIVEN three daily reports: two unencrypted buckets from the first; then one fixed and another
    # drifted before the newest
    s3 = account.s3
    now = datetime.now(timezone.utc)
    first_day = (now - timedelta(days=2)).date()
    estate.create_bucket(s3, "payments-ledger", encrypted=False)
    estate.create_bucket(s3, "legacy-archive", encrypted=False)
    estate.create_bucket(s3, "treasury-exports", encrypted=True)
    platform(now - timedelta(days=2, hours=2))
    previous = platform(now - timedelta(days=1, hours=2))
    estate.remediate_bucket(s3, "payments-ledger")
    estate.drift_bucket(s3, "treasury-exports")
    newest = platform(now - timedelta(hours=2))

    # WHEN the operator asks for the status
    result = _status(account, auditor)

    # THEN the newest report's summary leads, then what changed, monitoring and the link check
    assert result.returncode == 0, result.stderr
    lines, age = _without_age(result.stdout.splitlines())
    assert lines == [
        STACK,
        _newest_line(account, newest),
        "open findings   2 (ec2-imdsv2-check-qa 0, rds-storage-encrypted-qa 0, s3-bucket-sse-qa 2)",
        f"since {_generated(account, previous)} (the report before, sequence 1): "
        "1 new, 1 fixed, 1 still open",
        "  new    s3-bucket-sse-qa  AWS::S3::Bucket  treasury-exports",
        "  fixed  s3-bucket-sse-qa  AWS::S3::Bucket  payments-ledger",
        # Dated back through the report before the previous one, to where its run began.
        f"  open   s3-bucket-sse-qa  AWS::S3::Bucket  legacy-archive  (since {first_day}: 2 days)",
        ALL_WORKING,
        LINKED,
    ]
    assert 2.0 <= age < 2.5
    assert result.stderr == ""


def test_two_reports_on_one_day_are_compared_by_sequence_not_by_day(account, platform, auditor):
    # GIVEN yesterday's report, today's scheduled one after a fix, and one asked for later today
    # after a drift: by day, today's last report would be compared with yesterday's
    s3 = account.s3
    now = datetime.now(timezone.utc)
    morning = max(now - timedelta(hours=1), now.replace(hour=0, minute=0, second=0, microsecond=0))
    estate.create_bucket(s3, "payments-ledger", encrypted=False)
    estate.create_bucket(s3, "legacy-archive", encrypted=False)
    estate.create_bucket(s3, "treasury-exports", encrypted=True)
    platform(now - timedelta(days=1))
    estate.remediate_bucket(s3, "payments-ledger")
    earlier_today = platform(morning)
    estate.drift_bucket(s3, "treasury-exports")
    newest = platform(now)

    result = _status(account, auditor)

    # THEN the report before is this morning's (sequence 1), so the fix is not news any more
    assert result.returncode == 0, result.stderr
    lines, _ = _without_age(result.stdout.splitlines())
    yesterday = (now - timedelta(days=1)).date()
    assert lines[1] == _newest_line(account, newest)
    assert lines[3:7] == [
        f"since {_generated(account, earlier_today)} (the report before, sequence 1): "
        "1 new, 0 fixed, 1 still open",
        "  new    s3-bucket-sse-qa  AWS::S3::Bucket  treasury-exports",
        f"  open   s3-bucket-sse-qa  AWS::S3::Bucket  legacy-archive  (since {yesterday}: 1 day)",
        ALL_WORKING,
    ]
    assert earlier_today["reportKey"].split("/")[1:4] == newest["reportKey"].split("/")[1:4]


def test_a_newest_report_older_than_allowed_is_reported_and_fails(account, platform, auditor):
    # GIVEN reports that stopped three days ago
    now = datetime.now(timezone.utc)
    estate.create_bucket(account.s3, "legacy-archive", encrypted=False)
    platform(now - timedelta(days=4))
    newest = platform(now - timedelta(days=3))

    result = _status(account, auditor)

    # THEN the summary is printed, and the absence is one error line with what to do; exit 1
    assert result.returncode != 0
    lines, age = _without_age(result.stdout.splitlines())
    assert 72.0 <= age < 72.5
    assert lines[1] == _newest_line(account, newest)
    assert lines[-1] == LINKED
    errors = [line for line in own_lines(result) if line.startswith("error:")]
    assert len(errors) == 1
    found = re.fullmatch(
        rf"error: no report since {re.escape(_generated(account, newest))} \((\d+\.\d) h, more "
        rf"than the {MAX_GAP_HOURS} h allowed\): the generator stopped or the newest reports were "
        r"deleted; see the compliance-report-overdue alarm in the runbook, and ask for a report "
        r"with make report-now ENV_SUFFIX=qa",
        errors[0],
    )
    assert found, errors[0]
    assert 72.0 <= float(found.group(1)) < 72.5


def test_a_report_changed_after_it_was_written_breaks_the_link(account, platform, auditor):
    # GIVEN yesterday's report overwritten (with one byte more) after today's was chained to it
    now = datetime.now(timezone.utc)
    previous = platform(now - timedelta(days=1))
    platform(now)
    key = previous["reportKey"]
    body = account.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()
    account.s3.put_object(Bucket=BUCKET, Key=key, Body=body + b"\n")

    result = _status(account, auditor)

    # THEN the trail is NOT intact, each problem is named by key, and the run fails in one line
    assert result.returncode != 0
    lines = result.stdout.splitlines()
    trail = next(i for i, line in enumerate(lines) if line.startswith("trail "))
    assert lines[trail].startswith(
        "trail           NOT intact: BROKEN: the newest report's previousSha256 is "
    )
    problems = lines[trail + 1 : -1]
    assert problems and all(line.startswith(" " * 16) and key in line for line in problems)
    assert lines[-1] == f"{' ' * 16}auditor verify s3://{BUCKET}/reports/ checks the whole trail"
    assert own_lines(result)[-1] == (
        f"error: {len(problems)} finding(s) in the two newest reports (above): auditor verify "
        f"s3://{BUCKET}/reports/ checks the whole trail"
    )


def test_monitoring_problems_of_the_newest_report_are_shown(account, platform, auditor):
    now = datetime.now(timezone.utc)
    platform(now - timedelta(days=1))
    estate.stop_recording(account.config)
    platform(now)

    result = _status(account, auditor)

    assert result.returncode == 0, result.stderr
    monitoring = next(line for line in result.stdout.splitlines() if line.startswith("monitoring "))
    assert re.match(
        r"monitoring      \d+ problem\(s\) in the newest report: recorderNotRecording default: ",
        monitoring,
    ), monitoring


def test_status_with_one_report_has_nothing_to_compare(account, platform, auditor):
    estate.create_bucket(account.s3, "payments-ledger", encrypted=False)
    platform(datetime.now(timezone.utc))

    result = _status(account, auditor)

    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[2:] == [
        "open findings   1 (ec2-imdsv2-check-qa 0, rds-storage-encrypted-qa 0, s3-bucket-sse-qa 1)",
        "changes         nothing to compare with: the newest report is the only one",
        ALL_WORKING,
        "trail           nothing to link: the newest report is the only one",
    ]
