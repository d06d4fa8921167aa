"""GIVEN the previous report and the new one WHEN the daily e-mail is written THEN it leads with what changed
(new, fixed, still open with its age in days), then the totals, carries the witness of the new head, and
stays within SNS's limits."""

from datetime import datetime, timezone

import pytest
from compliance_report import alert, changes
from compliance_report.chain_records import Link
from compliance_report.collect import Collection, RuleReads
from compliance_report.model import ChainPosition, Finding, PartialFailure, Recorder
from compliance_report.report import Draft, report_bytes, report_content
from compliance_report.settings import MonitoredRule
from compliance_report.triggers import Trigger

KEY = "reports/2026/12/01/00000007-2c9d7a8e-5b1f-5e4a-9c3d-7f6e5d4c3b2a.json"
HEAD = Link(7, KEY, "ef" * 32)
S3 = "S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED"


def _report(rules, sequence, generated_at, incomplete=()):
    """A report whose rules are ``{name: [(resource id, resultRecordedTime), ...]}``."""
    reads_list, errors = [], []
    for name, findings in rules.items():
        reads = RuleReads(MonitoredRule(name, S3))
        reads.findings_complete = name not in incomplete
        reads.counts_complete = True
        reads.compliance_type = "NON_COMPLIANT" if findings else "COMPLIANT"
        reads.findings = [Finding("AWS::S3::Bucket", rid, None, at) for rid, at in findings]
        reads_list.append(reads)
        if name in incomplete:
            errors.append(PartialFailure("rule", name, "Throttling", "failed after retries"))
    collection = Collection(rules=reads_list, errors=errors)
    collection.recorders = [Recorder("default", True, "SUCCESS", None, None, None)]
    content = report_content(
        report_id="2c9d7a8e-5b1f-5e4a-9c3d-7f6e5d4c3b2a",
        trigger=Trigger("schedule", "evt-1", datetime(2026, 12, 1, 6, tzinfo=timezone.utc), None),
        account="123456789012",
        region="us-east-1",
        environment_suffix="prod",
        collection=collection,
    )
    previous = (
        None if sequence == 0 else (KEY.replace("00000007", f"{sequence - 1:08d}"), "ab" * 32)
    )
    chain = ChainPosition(sequence, *(previous or (None, None)))
    report, _ = Draft(content).finish(generated_at, chain)
    return report


YESTERDAY = _report(
    {
        "s3-sse-prod": [
            ("payments-ledger", "2026-11-20T05:00:00Z"),
            ("legacy-archive", "2026-11-19T05:00:00Z"),
            ("treasury-old", "2026-11-29T05:00:00Z"),
        ],
        "ec2-imds-prod": [("i-0abc", "2026-11-28T05:00:00Z")],
    },
    6,
    "2026-11-30T06:00:01Z",
)


def test_the_email_leads_with_new_fixed_and_still_open_with_ages_then_the_totals(
    assert_valid_report,
):
    today = _report(
        {
            "s3-sse-prod": [
                ("legacy-archive", "2026-12-01T05:00:00Z"),  # re-recorded today: age from before
                ("treasury-exports", "2026-12-01T05:10:00Z"),
                ("treasury-old", "2026-11-29T05:00:00Z"),
            ],
            "ec2-imds-prod": [("i-0abc", "2026-11-28T05:00:00Z")],
        },
        7,
        "2026-12-01T06:00:02Z",
    )
    assert_valid_report(today.to_json())

    found = changes.compare(report_bytes(YESTERDAY), today)
    text = alert.body(today, "compliance-reports-prod", KEY, 10, HEAD, found)

    assert [(i.rule, i.resource_id) for i in found.new] == [("s3-sse-prod", "treasury-exports")]
    assert [(i.rule, i.resource_id) for i in found.fixed] == [("s3-sse-prod", "payments-ledger")]
    assert [(i.resource_id, i.days_open) for i in found.still_open] == [
        ("legacy-archive", 12),
        ("i-0abc", 3),
        ("treasury-old", 2),
    ]
    lines = text.splitlines()
    assert lines[3] == f"witness: 7 {KEY} {'ef' * 32}"
    since = lines.index("Since report 6 of 2026-11-30T06:00:01Z: 1 new, 1 fixed, 3 still open")
    assert since == 6, "the change since the previous report leads the e-mail"
    assert lines[since + 1 : since + 10] == [
        "New (1):",
        "  s3-sse-prod  AWS::S3::Bucket  treasury-exports",
        "Fixed (1):",
        "  s3-sse-prod  AWS::S3::Bucket  payments-ledger",
        "Still open, longest first (3):",
        "  s3-sse-prod  AWS::S3::Bucket  legacy-archive  (open 12 days)",
        "  ec2-imds-prod  AWS::S3::Bucket  i-0abc  (open 3 days)",
        "  s3-sse-prod  AWS::S3::Bucket  treasury-old  (open 2 days)",
        "",
    ]
    assert lines.index("Totals: 4 non-compliant in 2 of 2 rule(s)") > since
    assert alert.subject(today, found) == (
        "[NON_COMPLIANT] prod: 4 non-compliant in 2 rule(s), 1 new, 1 fixed (report 7)"
    )


def test_a_report_whose_last_finding_was_fixed_is_sent_as_resolved():
    today = _report({"s3-sse-prod": [], "ec2-imds-prod": []}, 7, "2026-12-01T06:00:02Z")
    found = changes.compare(report_bytes(YESTERDAY), today)

    assert alert.needs_alert(today, found) is True
    assert alert.needs_alert(today) is False  # without the comparison there would be no e-mail
    assert alert.severity(today) == "RESOLVED"
    assert alert.subject(today, found) == "[RESOLVED] prod: 4 fixed (report 7)"
    assert "Fixed (4):" in alert.body(today, "b", KEY, 10, HEAD, found)


def test_a_clean_day_with_nothing_changed_sends_nothing():
    clean = _report({"s3-sse-prod": []}, 6, "2026-11-30T06:00:01Z")
    today = _report({"s3-sse-prod": []}, 7, "2026-12-01T06:00:02Z")

    assert alert.needs_alert(today, changes.compare(report_bytes(clean), today)) is False


def test_a_rule_read_in_part_on_either_day_is_not_compared_but_named():
    yesterday = _report(
        {"s3-sse-prod": [("a", "2026-11-29T05:00:00Z")], "ec2-imds-prod": []},
        6,
        "2026-11-30T06:00:01Z",
        incomplete=("s3-sse-prod",),
    )
    today = _report(
        {"s3-sse-prod": [("b", "2026-11-30T05:00:00Z")], "rds-prod": []},
        7,
        "2026-12-01T06:00:02Z",
    )

    found = changes.compare(report_bytes(yesterday), today)
    text = alert.body(today, "b", KEY, 10, HEAD, found)

    assert found.new == found.fixed == found.still_open == ()
    assert found.not_compared == (
        "s3-sse-prod: read only in part by the previous report",
        "rds-prod: not monitored by the previous report",
        "ec2-imds-prod: no longer monitored",
    )
    assert "Not compared (their findings are in the totals below):" in text


def test_an_unreadable_previous_report_is_said_and_the_totals_still_follow():
    today = _report({"s3-sse-prod": [("a", "2026-11-29T05:00:00Z")]}, 7, "2026-12-01T06:00:02Z")

    found = changes.compare(b'{"schemaVersion": "0.9"}', today)
    text = alert.body(today, "b", KEY, 10, HEAD, found)

    assert found.unreadable == "not a schema 1.0 or 1.1 report"
    assert "Changes since the previous report unknown: it could not be read (not a schema" in text
    assert "Totals: 1 non-compliant in 1 of 1 rule(s)" in text


@pytest.mark.parametrize("limit, shown, hidden", [(0, 0, 30), (2, 2, 28), (50, 30, 0)])
def test_each_list_shows_at_most_the_configured_resources_per_rule(limit, shown, hidden):
    today = _report(
        {"s3-sse-prod": [(f"new-{n:02d}", "2026-11-30T05:00:00Z") for n in range(30)]},
        7,
        "2026-12-01T06:00:02Z",
    )
    found = changes.compare(
        report_bytes(_report({"s3-sse-prod": []}, 6, "2026-11-30T06:00:01Z")), today
    )

    text = alert.body(today, "b", KEY, limit, HEAD, found)

    assert text.count("  s3-sse-prod  AWS::S3::Bucket  new-") == shown
    assert ("... and 30 more" in text) == (limit == 0)
    if hidden:
        assert f"... and {hidden} more in the full report" in text


def test_a_day_of_thousands_of_changes_still_fits_sns_with_its_witness():
    """12 rules x 1,000 fixed and 1,000 new resources with 700-character ids, all listed: the body
    is cut at a whole line below SNS's 256 KiB and keeps its first lines, the witness among them."""
    stamp = "2026-11-30T05:00:00Z"
    old = {f"rule-{r}": [(f"{'o' * 700}-{n}", stamp) for n in range(1000)] for r in range(12)}
    new = {f"rule-{r}": [(f"{'n' * 700}-{n}", stamp) for n in range(1000)] for r in range(12)}
    today = _report(new, 7, "2026-12-01T06:00:02Z")
    found = changes.compare(report_bytes(_report(old, 6, "2026-11-30T06:00:01Z")), today)

    class Sns:
        def publish(self, **message):
            self.message = message
            return {"MessageId": "m-1"}

    sns = Sns()
    alert.publish(sns, "arn:aws:sns:us-east-1:123456789012:t", today, "b", HEAD, 1000, found)

    sent = sns.message
    size = (
        len(sent["Message"].encode())
        + len(sent["Subject"].encode())
        + sum(
            len(n) + len(v["DataType"]) + len(v["StringValue"].encode())
            for n, v in sent["MessageAttributes"].items()
        )
    )
    assert alert.MESSAGE_MAX_BYTES - 2000 < size <= alert.MESSAGE_MAX_BYTES
    assert sent["Message"].splitlines()[3] == f"witness: 7 {KEY} {'ef' * 32}"
    assert "12000 new, 12000 fixed, 0 still open" in sent["Message"]
    assert sent["MessageAttributes"]["headSha256"]["StringValue"] == "ef" * 32
