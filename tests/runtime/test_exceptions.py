"""GIVEN a deployed exceptions register WHEN a report is built, compared and mailed THEN the findings an
exception in force covers are labelled and counted (never removed), they are not "new" in the daily
e-mail, they page again the day after their exception ends, the e-mail lists the exceptions ending
within 14 days, and a register whose bytes are not its key's, here or in the bucket, stops the run."""

import hashlib
import json
from datetime import datetime, timezone

import pytest
from botocore.awsrequest import AWSResponse
from compliance_report import alert, changes, exceptions
from compliance_report.chain import ChainStore
from compliance_report.chain_records import Link
from compliance_report.collect import Collection, RuleReads
from compliance_report.errors import RegisterUnusable
from compliance_report.model import ChainPosition, Finding, Recorder, Report
from compliance_report.report import Draft, report_bytes, report_content
from compliance_report.settings import MonitoredRule
from compliance_report.triggers import Trigger

from tests.runtime.offline import offline_s3

S3 = "S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED"
RULE = "s3-bucket-sse-enabled-prod"
KEY = "reports/2026/07/01/00000001-2c9d7a8e-5b1f-5e4a-9c3d-7f6e5d4c3b2a.json"
HEAD = Link(1, KEY, "ef" * 32)


def _entry(
    id_, resource_id, created="2026-07-01", expires="2026-07-15", rule="s3-bucket-sse-enabled"
):
    return {
        "id": id_,
        "rule": rule,
        "resourceType": "AWS::S3::Bucket",
        "resourceId": resource_id,
        "reason": "Legacy bucket, decommissioned with the old SIEM",
        "approver": "jane.doe@example.com",
        "ticket": "RISK-1234",
        "created": created,
        "expires": expires,
    }


def _register_bytes(*entries) -> bytes:
    document = {"format": "compliance-exceptions/1", "maxDays": 365, "exceptions": list(entries)}
    return (json.dumps(document, sort_keys=True, separators=(",", ":")) + "\n").encode()


def _register(tmp_path, *entries) -> exceptions.Register:
    body = _register_bytes(*entries)
    path = tmp_path / "register.json"
    path.write_bytes(body)
    return exceptions.load(str(path), f"exceptions/{hashlib.sha256(body).hexdigest()}.json")


def _report(register, day, findings, sequence=1) -> Report:
    reads = RuleReads(MonitoredRule(RULE, S3))
    reads.findings_complete = reads.counts_complete = True
    reads.compliance_type = "NON_COMPLIANT" if findings else "COMPLIANT"
    reads.findings = [Finding("AWS::S3::Bucket", rid, None, f"{day}T05:00:00Z") for rid in findings]
    collection = Collection(rules=[reads])
    collection.recorders = [Recorder("default", True, "SUCCESS", None, None, None)]
    content = report_content(
        report_id="2c9d7a8e-5b1f-5e4a-9c3d-7f6e5d4c3b2a",
        trigger=Trigger("schedule", "evt-1", datetime(2026, 7, 1, 6, tzinfo=timezone.utc), None),
        account="123456789012",
        region="us-east-1",
        environment_suffix="prod",
        collection=collection,
        labels=None if register is None else register.labels("prod", day),
        register=None if register is None else register.ref("v1"),
    )
    previous = (KEY.replace("00000001", f"{sequence - 1:08d}"), "ab" * 32) if sequence else None
    chain = ChainPosition(sequence, *(previous or (None, None)))
    return Draft(content).finish(f"{day}T06:00:00Z", chain)[0]


def _json(report: Report) -> dict:
    return json.loads(report_bytes(report))


# -- the register file ---------------------------------------------------------------------------
def test_the_register_file_must_hash_to_its_key(tmp_path):
    body = _register_bytes(_entry("EXC-1", "legacy-logs"))
    path = tmp_path / "register.json"
    path.write_bytes(body)
    other = hashlib.sha256(body + b" ").hexdigest()

    with pytest.raises(RegisterUnusable, match=f"hashes to {hashlib.sha256(body).hexdigest()}"):
        exceptions.load(str(path), f"exceptions/{other}.json")
    with pytest.raises(RegisterUnusable, match="cannot be read"):
        exceptions.load(str(tmp_path / "missing.json"), f"exceptions/{other}.json")
    with pytest.raises(RegisterUnusable, match="is not exceptions/<sha256>.json"):
        exceptions.load(str(path), "exceptions/register.json")


def test_a_register_that_is_not_the_format_is_unusable(tmp_path):
    body = b'{"format":"something-else"}\n'
    path = tmp_path / "register.json"
    path.write_bytes(body)

    with pytest.raises(RegisterUnusable, match="not a compliance-exceptions/1 register"):
        exceptions.load(str(path), f"exceptions/{hashlib.sha256(body).hexdigest()}.json")


@pytest.mark.parametrize(
    "day, in_force",
    [("2026-06-30", False), ("2026-07-01", True), ("2026-07-15", True), ("2026-07-16", False)],
)
def test_in_force_from_the_start_of_created_through_the_end_of_expires(tmp_path, day, in_force):
    register = _register(tmp_path, _entry("EXC-1", "legacy-logs"))

    labels = register.labels("prod", day)

    assert bool(labels) == in_force
    if in_force:
        assert labels[(RULE, "AWS::S3::Bucket", "legacy-logs")] == exceptions.Label(
            "EXC-1", "jane.doe@example.com", "2026-07-15"
        )


# -- the report ----------------------------------------------------------------------------------
def test_a_covered_finding_is_labelled_and_counted_never_removed(tmp_path, assert_valid_report):
    register = _register(
        tmp_path,
        _entry("EXC-1", "legacy-logs"),
        _entry("EXC-2", "other-bucket"),  # covers nothing open
        _entry("EXC-3", "payments", rule="ec2-imdsv2-check"),  # another rule: no label
    )

    report = assert_valid_report(
        _json(_report(register, "2026-07-02", ["legacy-logs", "payments"]))
    )

    (rule,) = report["rules"]
    assert [f["resourceId"] for f in rule["nonCompliant"]] == ["legacy-logs", "payments"]
    assert rule["nonCompliant"][0]["exception"] == {
        "id": "EXC-1",
        "approver": "jane.doe@example.com",
        "expires": "2026-07-15",
    }
    assert "exception" not in rule["nonCompliant"][1]
    assert rule["counts"]["nonCompliant"] == 2 and rule["counts"]["excepted"] == 1
    assert report["summary"]["totalNonCompliant"] == 2
    assert (report["summary"]["totalExcepted"], report["summary"]["exceptedByRule"]) == (
        1,
        {RULE: 1},
    )
    assert report["schemaVersion"] == "1.1"
    assert report["exceptionRegister"] == {
        "key": register.key,
        "versionId": "v1",
        "sha256": register.sha256,
        "entries": 3,
    }
    assert Report.from_json(report).content.rules[0].findings[0].exception is not None


def test_without_a_register_the_report_is_1_1_with_a_null_register(assert_valid_report):
    report = assert_valid_report(_json(_report(None, "2026-07-02", ["legacy-logs"])))

    assert report["exceptionRegister"] is None
    assert report["summary"]["totalExcepted"] == 0
    assert "exception" not in report["rules"][0]["nonCompliant"][0]


# -- the daily e-mail ----------------------------------------------------------------------------
def test_an_excepted_finding_is_not_new_and_the_mail_does_not_page(tmp_path):
    register = _register(tmp_path, _entry("EXC-1", "legacy-logs"))
    before = _report(register, "2026-07-01", [], sequence=0)
    today = _report(register, "2026-07-02", ["legacy-logs"])

    found = changes.compare(report_bytes(before), today)
    text = alert.body(today, "b", KEY, 10, HEAD, found, expiring=register.expiring("2026-07-02"))

    assert found.new == () and found.still_open == ()
    assert [i.resource_id for i in found.excepted] == ["legacy-logs"]
    assert alert.severity(today) == "EXCEPTED"
    assert alert.subject(today, found).startswith("[EXCEPTED] prod: 1 non-compliant in 1 rule(s)")
    assert "0 new, 0 fixed, 0 still open, 1 excepted" in text
    assert "New (" not in text
    assert (
        f"Excepted (accepted risk, not paged) (1):\n  {RULE}  AWS::S3::Bucket  legacy-logs  "
        "(opened today)  (EXC-1, approved by jane.doe@example.com, until 2026-07-15)\n"
    ) in text
    assert (
        "Exceptions expiring within 14 days (1): renew them in exceptions.yaml or fix\n"
        "  EXC-1  expires 2026-07-15  s3-bucket-sse-enabled  AWS::S3::Bucket  legacy-logs  "
        "approved by jane.doe@example.com, RISK-1234\n"
    ) in text
    assert (
        f"  {RULE} ({S3}): 1 non-compliant, 0 compliant, 0 not applicable, 1 of them excepted"
        in text
    )


def test_the_day_after_expiry_the_finding_pages_again_as_new(tmp_path):
    register = _register(tmp_path, _entry("EXC-1", "legacy-logs"))
    last_day = _report(register, "2026-07-15", ["legacy-logs"])
    day_after = _report(register, "2026-07-16", ["legacy-logs"], sequence=2)

    found = changes.compare(report_bytes(last_day), day_after)
    text = alert.body(
        day_after, "b", KEY, 10, HEAD, found, expiring=register.expiring("2026-07-16")
    )

    assert [i.resource_id for i in found.new] == ["legacy-logs"]
    assert found.excepted == () and found.changed
    assert alert.severity(day_after) == "NON_COMPLIANT"
    assert f"New (1):\n  {RULE}  AWS::S3::Bucket  legacy-logs\n" in text
    assert "Exceptions expiring" not in text


def test_an_exception_granted_for_an_open_finding_moves_it_out_of_still_open(tmp_path):
    register = _register(tmp_path, _entry("EXC-1", "legacy-logs", created="2026-07-02"))
    yesterday = _report(register, "2026-07-01", ["legacy-logs"])
    today = _report(register, "2026-07-02", ["legacy-logs"], sequence=2)

    found = changes.compare(report_bytes(yesterday), today)

    assert (found.new, found.fixed, found.still_open) == ((), (), ())
    assert [i.exception.id for i in found.excepted if i.exception] == ["EXC-1"]


def test_expiring_lists_only_entries_in_force_ending_within_14_days(tmp_path):
    register = _register(
        tmp_path,
        _entry("EXC-SOON", "a", expires="2026-07-15"),
        _entry("EXC-EDGE", "b", expires="2026-07-15"),
        _entry("EXC-LATER", "c", expires="2026-07-16"),
        _entry("EXC-FUTURE", "d", created="2026-07-03", expires="2026-07-04"),
    )

    assert [e.id for e in register.expiring("2026-07-01")] == ["EXC-EDGE", "EXC-SOON"]
    assert [e.id for e in register.expiring("2026-07-02")] == ["EXC-EDGE", "EXC-SOON", "EXC-LATER"]


def test_a_1_0_previous_report_still_compares(tmp_path):
    register = _register(tmp_path, _entry("EXC-1", "legacy-logs"))
    old = _json(_report(None, "2026-07-01", ["legacy-logs", "payments"], sequence=0))
    old["schemaVersion"] = "1.0"
    for name in ("exceptionRegister",):
        old.pop(name)
    old["summary"].pop("totalExcepted"), old["summary"].pop("exceptedByRule")
    old["rules"][0]["counts"].pop("excepted")
    today = _report(register, "2026-07-02", ["legacy-logs", "payments"])

    found = changes.compare(json.dumps(old).encode(), today)

    assert [i.resource_id for i in found.still_open] == ["payments"]
    assert [i.resource_id for i in found.excepted] == ["legacy-logs"]
    assert Report.from_json(old).content.exception_register is None


# -- the register object in the bucket -----------------------------------------------------------
class _Raw:
    """An HTTP body botocore can read whole or as a stream (a GetObject body is streamed)."""

    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_):
        yield self._data

    def read(self, amt=None):
        data, self._data = self._data, b""
        return data


def _store(answers):
    sent = []

    def answer(request, **_):
        sent.append(request.method)
        status, body, headers = answers.pop(0)
        return AWSResponse(request.url, status, headers, _Raw(body))

    return ChainStore(offline_s3(1, answer), "bucket", "reports/", "chain/"), sent


PRECONDITION = b"<Error><Code>PreconditionFailed</Code><Message>m</Message></Error>"


def test_a_register_already_stored_is_read_back_and_its_version_named():
    body = _register_bytes(_entry("EXC-1", "legacy-logs"))
    store, sent = _store([(412, PRECONDITION, {}), (200, body, {"x-amz-version-id": "v-first"})])

    assert store.store_once("exceptions/x.json", body) == "v-first"
    assert sent == ["PUT", "GET"]


def test_a_register_written_now_names_the_new_version():
    store, _ = _store([(200, b"", {"x-amz-version-id": "v-new", "ETag": '"e"'})])

    assert store.store_once("exceptions/x.json", b"{}\n") == "v-new"


def test_other_bytes_under_the_register_key_stop_the_run():
    body = _register_bytes(_entry("EXC-1", "legacy-logs"))
    store, _ = _store([(412, PRECONDITION, {}), (200, body.replace(b"07-15", b"12-31"), {})])

    with pytest.raises(RegisterUnusable, match="the stored register was overwritten"):
        store.store_once("exceptions/x.json", body)


# -- the function's settings -----------------------------------------------------------------------
def test_the_register_variables_come_together_and_name_a_content_address():
    from compliance_report import environment as var
    from compliance_report.errors import SettingsError
    from compliance_report.settings import load_settings

    from tests.runtime.offline import function_environment

    env = function_environment()
    key = "exceptions/" + "a" * 64 + ".json"
    both = dict(env, **{var.EXCEPTIONS_REGISTER_KEY: key, var.EXCEPTIONS_REGISTER_PATH: "/opt/x"})

    settings = load_settings(both)

    assert (settings.exceptions_register_key, settings.exceptions_register_path) == (key, "/opt/x")
    assert load_settings(env).exceptions_register_key is None
    with pytest.raises(SettingsError, match="are set together or not at all"):
        load_settings(dict(env, **{var.EXCEPTIONS_REGISTER_KEY: key}))
    with pytest.raises(SettingsError, match="must be exceptions/<sha256>.json"):
        load_settings(dict(both, **{var.EXCEPTIONS_REGISTER_KEY: "exceptions/register.json"}))
