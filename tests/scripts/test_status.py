"""`make status` end to end: the real report generator writes yesterday's and today's reports into the
emulated stack's bucket, and the newest one's summary and the change since the one before are read
through the real auditor.

Needs the auditor binary (AUDITOR_BINARY, else auditor/target/debug/auditor): `make test-e2e` runs
this file once the auditor is built; `make test-python` leaves it out.
"""

from __future__ import annotations

import os
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from demo.generator import SimulatedSchedule
from lib.report_generator import local_harness as harness
from tests.scripts.conftest import ROOT, logs_bucket, reports_bucket, run_make
from tools.local_aws import estate

AUDITOR = Path(os.environ.get("AUDITOR_BINARY", ROOT / "auditor" / "target" / "debug" / "auditor"))
RULES = {
    "s3-bucket-sse-qa": estate.S3_RULE,
    "rds-storage-encrypted-qa": estate.RDS_RULE,
    "ec2-imdsv2-check-qa": estate.EC2_RULE,
}


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
        bucket=reports_bucket("qa"),
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


def test_status_shows_the_newest_report_and_what_changed_since_the_one_before(
    account, platform, auditor
):
    # GIVEN yesterday's report with two unencrypted buckets, then one fixed and another drifted
    s3 = account.s3
    now = datetime.now(timezone.utc)
    yesterday, today = (now - timedelta(days=1)).date(), now.date()
    estate.create_bucket(s3, "payments-ledger", encrypted=False)
    estate.create_bucket(s3, "legacy-archive", encrypted=False)
    estate.create_bucket(s3, "treasury-exports", encrypted=True)
    platform(now - timedelta(days=1))
    estate.remediate_bucket(s3, "payments-ledger")
    estate.drift_bucket(s3, "treasury-exports")
    newest = platform(now)

    # WHEN the operator asks for the status
    result = run_make("status", "ENV_SUFFIX=qa", f"AUDITOR={auditor}", env=account.env)

    # THEN the newest report's summary leads, then what changed, monitoring and the trail check
    assert result.returncode == 0, result.stderr
    first = (today - timedelta(days=7)).isoformat()
    assert result.stdout.splitlines() == [
        "ComplianceAudit-qa in account 123456789012, region us-east-1",
        f"newest report   {today}  s3://{reports_bucket('qa')}/{newest['reportKey']}",
        "open findings   2 (ec2-imdsv2-check-qa 0, rds-storage-encrypted-qa 0, s3-bucket-sse-qa 2)",
        f"since {yesterday} (the report before): 1 new, 1 fixed, 1 still open",
        "  new    s3-bucket-sse-qa  AWS::S3::Bucket  treasury-exports",
        "  fixed  s3-bucket-sse-qa  AWS::S3::Bucket  payments-ledger",
        f"  open   s3-bucket-sse-qa  AWS::S3::Bucket  legacy-archive  (since {yesterday}: 1 day)",
        "monitoring      on that day: recorder, rules and report all working",
        f"trail           intact (2 reports from {first} to {today}, checked by auditor timeline)",
        # The week before the first report has no evidence, and the auditor says so (issue 10).
        "                days without a report: "
        + ", ".join((today - timedelta(days=d)).isoformat() for d in range(7, 1, -1)),
    ]


def test_status_with_one_report_has_nothing_to_compare(account, platform, auditor):
    estate.create_bucket(account.s3, "payments-ledger", encrypted=False)
    platform(datetime.now(timezone.utc))

    result = run_make("status", "ENV_SUFFIX=qa", f"AUDITOR={auditor}", env=account.env)

    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[3].startswith("changes         no earlier report since ")
    assert lines[4].startswith(
        "  open   s3-bucket-sse-qa  AWS::S3::Bucket  payments-ledger  (since "
    )
