"""GIVEN an exceptions register deployed with the function WHEN daily reports run across an exception's
life THEN a finding under an exception in force is labelled, counted as excepted and not paged; it pages
again the day after the exception expires; a new register (a new deploy) is named by the next report;
and the auditor verifies the trail and shows the excepted days (docs/report-format.md, "Exceptions")."""

import functools
import hashlib
import json
import os
import subprocess
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from lib.exceptions.register import Entry, Register
from lib.report_generator.runtime.compliance_report import environment as variables

REPO = Path(__file__).resolve().parents[2]
DAY_1 = date(2026, 7, 1)


def _register(*entries: Entry) -> Register:
    return Register(365, tuple(sorted(entries, key=lambda e: e.id)))


def _entry(id_: str, rule: str, resource_id: str, expires: str) -> Entry:
    return Entry(
        id=id_,
        rule=rule,
        resource_type="AWS::S3::Bucket",
        resource_id=resource_id,
        reason="Legacy log bucket, decommissioned with the old SIEM",
        approver="jane.doe@example.com",
        ticket="RISK-1234",
        created="2026-07-01",
        expires=expires,
    )


class Days:
    """One scheduled report a day, as the demo runs them: the handler's ``generate`` gets a clock at
    06:00 UTC of the day, so ``generatedAt`` (and with it the exceptions in force) is that day's."""

    def __init__(self, estate, handler_module, context_factory, make_scheduled_event, monkeypatch):
        self.estate = estate
        self.module = handler_module
        self.context = context_factory
        self.event = make_scheduled_event
        self.monkeypatch = monkeypatch
        self.original = handler_module.generate

    def deploy(self, register: Register, folder: Path) -> None:
        """What a deploy with ``register`` gives the function: the layer's file and the two variables
        (a new register is a new layer and a new key)."""
        path = folder / register.sha256 / "exceptions" / "register.json"
        path.parent.mkdir(parents=True)
        path.write_bytes(register.canonical_bytes())
        self.monkeypatch.setenv(variables.EXCEPTIONS_REGISTER_KEY, register.key)
        self.monkeypatch.setenv(variables.EXCEPTIONS_REGISTER_PATH, str(path))

    def run(self, day: date) -> tuple[dict, list]:
        instant = datetime(day.year, day.month, day.day, 6, 0, tzinfo=timezone.utc)
        self.estate.emulator.set_clock(instant.strftime("%Y-%m-%dT%H:%M:%SZ"))
        self.estate.daily_evaluation()
        self.monkeypatch.setattr(
            self.module, "generate", functools.partial(self.original, clock=lambda: instant)
        )
        try:
            result = self.module.handler(
                self.event(time_text=instant.strftime("%Y-%m-%dT%H:%M:%SZ")), self.context()
            )
        finally:
            self.monkeypatch.setattr(self.module, "generate", self.original)
        assert result["outcome"] == "stored", result
        report = json.loads(self.estate.read(result["reportKey"]))
        return report, self.estate.alerts()


@pytest.fixture
def days(estate, handler_module, context_factory, make_scheduled_event, monkeypatch):
    return Days(estate, handler_module, context_factory, make_scheduled_event, monkeypatch)


def _rule(report: dict, name: str) -> dict:
    return next(r for r in report["rules"] if r["name"] == name)


def _finding(report: dict, rule: str, resource_id: str) -> dict:
    return next(f for f in _rule(report, rule)["nonCompliant"] if f["resourceId"] == resource_id)


def _short(rule_name: str) -> str:
    return rule_name.rsplit("-", 1)[0]  # the register names rules without the suffix


def test_an_exception_labels_counts_and_silences_until_it_expires(days, estate, tmp_path):
    s3_rule = estate.S3_RULE
    estate.bucket("legacy-logs", encrypted=False)
    register = _register(_entry("EXC-2026-001", _short(s3_rule), "legacy-logs", "2026-07-02"))
    days.deploy(register, tmp_path)

    first, (first_alert,) = days.run(DAY_1)

    finding = _finding(first, s3_rule, "legacy-logs")
    assert finding["exception"] == {
        "id": "EXC-2026-001",
        "approver": "jane.doe@example.com",
        "expires": "2026-07-02",
    }
    assert _rule(first, s3_rule)["counts"]["excepted"] == 1
    assert first["summary"]["totalExcepted"] == 1
    assert first["summary"]["exceptedByRule"][s3_rule] == 1
    assert first["summary"]["totalNonCompliant"] == 1  # labelled, never removed
    stored = estate.s3.get_object(Bucket=estate.BUCKET, Key=register.key)
    body = stored["Body"].read()
    assert body == register.canonical_bytes()
    assert first["exceptionRegister"] == {
        "key": register.key,
        "versionId": stored["VersionId"],
        "sha256": hashlib.sha256(body).hexdigest(),
        "entries": 1,
    }
    # Not paged: no NON_COMPLIANT severity, not under "Open"/"New", listed as excepted and expiring.
    attributes = first_alert["MessageAttributes"]
    assert attributes["severity"]["Value"] == "EXCEPTED"
    assert first_alert["Subject"].startswith("[EXCEPTED] test: 1 non-compliant")
    message = first_alert["Message"]
    assert "First report of the trail: 0 open, 1 excepted" in message
    assert (
        f"  {s3_rule}  AWS::S3::Bucket  legacy-logs  (opened today)  "
        "(EXC-2026-001, approved by jane.doe@example.com, until 2026-07-02)"
    ) in message
    assert "Exceptions expiring within 14 days (1)" in message
    assert "  EXC-2026-001  expires 2026-07-02" in message

    second, (second_alert,) = days.run(DAY_1 + timedelta(days=1))  # the last day in force

    assert _finding(second, s3_rule, "legacy-logs")["exception"]["id"] == "EXC-2026-001"
    assert second_alert["MessageAttributes"]["severity"]["Value"] == "EXCEPTED"
    assert "0 new, 0 fixed, 0 still open, 1 excepted" in second_alert["Message"]
    assert "New (" not in second_alert["Message"]

    third, (third_alert,) = days.run(DAY_1 + timedelta(days=2))  # the day after expiry

    assert "exception" not in _finding(third, s3_rule, "legacy-logs")
    assert _rule(third, s3_rule)["counts"]["excepted"] == 0
    assert third["summary"]["totalExcepted"] == 0
    assert third_alert["MessageAttributes"]["severity"]["Value"] == "NON_COMPLIANT"
    assert "1 new, 0 fixed, 0 still open" in third_alert["Message"]
    assert f"New (1):\n  {s3_rule}  AWS::S3::Bucket  legacy-logs\n" in third_alert["Message"]
    assert "Exceptions expiring" not in third_alert["Message"]


def test_a_new_register_mid_quarter_is_named_by_the_next_report(
    days, estate, tmp_path, verify_trail
):
    s3_rule = estate.S3_RULE
    estate.bucket("legacy-logs", encrypted=False)
    estate.bucket("sftp-drop", encrypted=False)
    before = _register(_entry("EXC-2026-001", _short(s3_rule), "legacy-logs", "2026-09-30"))
    days.deploy(before, tmp_path / "first")
    first, _ = days.run(DAY_1)
    # A reviewed change adds an exception; the deploy ships a new layer and key.
    after = _register(
        _entry("EXC-2026-001", _short(s3_rule), "legacy-logs", "2026-09-30"),
        _entry("EXC-2026-002", _short(s3_rule), "sftp-drop", "2026-08-31"),
    )
    days.deploy(after, tmp_path / "second")

    second, _ = days.run(DAY_1 + timedelta(days=1))

    assert first["exceptionRegister"]["key"] == before.key
    assert second["exceptionRegister"]["key"] == after.key != before.key
    assert second["exceptionRegister"]["entries"] == 2
    assert "exception" not in _finding(first, s3_rule, "sftp-drop")
    assert _finding(second, s3_rule, "sftp-drop")["exception"]["id"] == "EXC-2026-002"
    assert (first["summary"]["totalExcepted"], second["summary"]["totalExcepted"]) == (1, 2)
    # Both registers are kept, each once (write-once, content-addressed).
    listed = estate.s3.list_object_versions(Bucket=estate.BUCKET, Prefix="exceptions/")
    assert sorted(v["Key"] for v in listed["Versions"]) == sorted([before.key, after.key])
    assert not listed.get("DeleteMarkers")
    assert len(verify_trail(estate)) == 2

    _auditor_reads(estate, first_day=DAY_1, last_day=DAY_1 + timedelta(days=1))


def test_a_register_whose_bytes_are_not_its_key_stops_the_run(days, estate, tmp_path, capsys):
    register = _register(
        _entry("EXC-2026-001", _short(estate.S3_RULE), "legacy-logs", "2026-09-30")
    )
    days.deploy(register, tmp_path)
    path = Path(os.environ[variables.EXCEPTIONS_REGISTER_PATH])
    path.write_bytes(path.read_bytes().replace(b"2026-09-30", b"2027-06-30"))

    with pytest.raises(Exception, match="hashes to .* not the .* its key"):
        days.run(DAY_1)

    assert estate.report_keys() == []  # never written unlabelled or labelled from other bytes


def _auditor_binary() -> Path:
    given = os.environ.get("AUDITOR_BINARY")
    binary = Path(given) if given else REPO / "auditor" / "target" / "debug" / "auditor"
    if not binary.is_file():
        pytest.skip(
            f"AUDITOR NOT BUILT: {binary} is missing, so the auditor's half of this test did not run; "
            "build it with `make auditor` (cargo build in auditor/) or set AUDITOR_BINARY"
        )
    return binary


def _auditor_reads(estate, first_day: date, last_day: date) -> None:
    """The auditor verifies the trail through the S3 API (each report's register by key, version id
    and hash) and its timeline shows the excepted findings per day."""
    binary = _auditor_binary()
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        {
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_REGION": "us-east-1",
            "AWS_EC2_METADATA_DISABLED": "true",
            "AWS_ENDPOINT_URL": estate.emulator.endpoint_url,
        }
    )
    source = f"s3://{estate.BUCKET}/reports/"
    as_of = ["--as-of", last_day.isoformat()]

    def run(*args: str) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(binary), *args, *as_of], capture_output=True, text=True, env=env, timeout=300
        )

    verify = run("verify", source, "--format", "json")
    assert verify.returncode == 0, verify.stdout + verify.stderr
    assert json.loads(verify.stdout)["intact"] is True
    period = ["--from", first_day.isoformat(), "--to", last_day.isoformat()]
    timeline = run("timeline", source, *period, "--format", "json")
    assert timeline.returncode == 0, timeline.stderr
    by_day = {d["date"]: d for d in json.loads(timeline.stdout)["days"]}
    assert by_day[first_day.isoformat()]["excepted"] == 1
    assert by_day[last_day.isoformat()]["excepted"] == 2
    assert by_day[last_day.isoformat()]["exceptedByRule"][estate.S3_RULE] == 2
