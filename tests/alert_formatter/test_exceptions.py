"""GIVEN the exceptions register the stack deploys WHEN compliance changes arrive THEN a NON_COMPLIANT
change of a finding under an exception in force on the day Config recorded it does not page (no e-mail,
not counted toward the digest, logged as excepted with the exception's id), from the day after expiry
it pages again, changes out of NON_COMPLIANT and monitoring problems are never excepted, and a register
that is not the deployed one suppresses nothing and says so in every e-mail."""

import copy
import dataclasses
import hashlib
import json
from datetime import date

import pytest
from realtime_alerts import environment as variables
from realtime_alerts import register as reg
from realtime_alerts.events import parse_event
from realtime_alerts.process import EXCEPTED, process
from realtime_alerts.timefmt import to_datetime

from tests.alert_formatter.conftest import (
    exception_entry,
    load_event,
    make_settings,
    register_bytes,
    write_register,
)

INSTANCE = "i-0abc1234def567890"
BASE = load_event("compliance_change_ec2_non_compliant.json")  # recorded 2026-07-05T06:00:01.405Z


def instance_exception(id_="EXC-2026-001", created="2026-07-01", expires="2026-07-05", **kw):
    entry = exception_entry(
        id_, "ec2-imdsv2-check", "AWS::EC2::Instance", INSTANCE, created, expires
    )
    entry.update(kw)
    return entry


def loaded(tmp_path, *entries):
    path, key = write_register(tmp_path, list(entries))
    register = reg.load(str(path), key)
    assert register.problem is None, register.problem
    return register


def change(recorded="2026-07-05T06:00:01.405Z", resource_id=INSTANCE, event_id=None):
    event = copy.deepcopy(BASE)
    event["id"] = event_id or f"event-{resource_id}-{recorded}"
    detail = event["detail"]
    detail["resourceId"] = resource_id
    detail["newEvaluationResult"]["evaluationResultIdentifier"]["evaluationResultQualifier"][
        "resourceId"
    ] = resource_id
    detail["newEvaluationResult"]["resultRecordedTime"] = recorded
    return event


# -- the in-force rule ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("recorded", "pages"),
    [
        ("2026-06-30T23:59:59.999Z", True),  # the day before created
        ("2026-07-01T00:00:00.000Z", False),  # created day, first instant
        ("2026-07-05T23:59:59.999Z", False),  # expires day, last instant
        ("2026-07-06T00:00:00.000Z", True),  # the day after expiry: pages again
    ],
)
def test_an_exception_is_in_force_from_its_created_day_through_its_expiry_day(
    tmp_path, stubbed, settings, recorded, pages
):
    register = loaded(tmp_path, instance_exception())
    if pages:
        stubbed.names([])
        stubbed.accept()

    out = process([("r1", change(recorded))], settings, stubbed.config, stubbed.sns, register)

    assert len(stubbed.published) == (1 if pages else 0)
    if pages:
        assert out.excepted == [] and stubbed.published[0]["Subject"].startswith("[NON_COMPLIANT]")
    else:
        assert out.excepted == [
            {
                "exception": "EXC-2026-001",
                "expires": "2026-07-05",
                "rule": "ec2-imdsv2-check-prod",
                "resourceType": "AWS::EC2::Instance",
                "resourceId": INSTANCE,
                "records": ["r1"],
            }
        ]
        assert out.changes == {EXCEPTED: 1} and out.name_lookups == 0 and out.failed == []


def test_the_day_is_the_utc_date_config_recorded_the_result():
    entry = reg.parse(register_bytes([instance_exception(expires="2026-07-05")]))[0]
    assert entry.in_force(date(2026, 7, 5)) and not entry.in_force(date(2026, 7, 6))
    # 2026-07-06T01:30+02:00 is 2026-07-05 in UTC: still in force
    recorded = parse_event(change("2026-07-06T01:30:00+02:00")).recorded_at
    assert to_datetime(recorded).date() == date(2026, 7, 5)


# -- which finding an exception covers -----------------------------------------------------------------
@pytest.mark.parametrize(
    ("rule", "resource_type", "resource_id", "covers"),
    [
        ("ec2-imdsv2-check", "AWS::EC2::Instance", INSTANCE, True),
        ("ec2-imdsv2-check-prod", "AWS::EC2::Instance", INSTANCE, False),  # suffix written in
        ("ec2-imdsv2", "AWS::EC2::Instance", INSTANCE, False),  # a prefix of the rule's name
        ("ec2-imdsv2-check", "AWS::EC2::Instance", INSTANCE + "0", False),  # another instance
        ("ec2-imdsv2-check", "AWS::EC2::Instance", INSTANCE[:-1], False),  # no prefixes of ids
        ("ec2-imdsv2-check", "AWS::RDS::DBInstance", INSTANCE, False),  # another type
    ],
)
def test_an_exception_covers_its_rule_in_this_environment_and_exactly_its_resource(
    tmp_path, rule, resource_type, resource_id, covers
):
    entry = exception_entry("EXC-1", rule, resource_type, resource_id, "2026-07-01", "2026-07-05")
    register = loaded(tmp_path, entry)
    day = date(2026, 7, 5)

    found = register.covering("ec2-imdsv2-check-prod", "prod", "AWS::EC2::Instance", INSTANCE, day)

    assert (found is not None) == covers
    # the same entry never covers the rule of another environment
    assert (
        register.covering("ec2-imdsv2-check-dev", "prod", resource_type, resource_id, day) is None
    )


def test_an_exception_does_not_cover_the_same_rule_in_another_environment(tmp_path, stubbed):
    register = loaded(tmp_path, instance_exception())
    staging = dataclasses.replace(make_settings(), environment_suffix="staging")
    stubbed.names([])
    stubbed.accept()

    out = process([("r1", change())], staging, stubbed.config, stubbed.sns, register)

    # ec2-imdsv2-check + "-staging" is not the event's ec2-imdsv2-check-prod
    assert out.excepted == [] and len(stubbed.published) == 1


# -- a batch -------------------------------------------------------------------------------------------
def test_an_excepted_change_is_left_out_while_the_others_in_its_batch_page(tmp_path, stubbed):
    register = loaded(tmp_path, instance_exception())
    stubbed.names([], [{"resourceType": "AWS::EC2::Instance", "resourceId": "i-0fff"}])
    stubbed.accept()

    out = process(
        [("r1", change()), ("r2", change(resource_id="i-0fff"))],
        make_settings(),
        stubbed.config,
        stubbed.sns,
        register,
    )

    (sent,) = stubbed.published
    assert sent["Subject"] == "[NON_COMPLIANT] ec2-imdsv2-check prod: i-0fff"
    assert [e["exception"] for e in out.excepted] == ["EXC-2026-001"]
    assert out.changes == {"NON_COMPLIANT": 1, EXCEPTED: 1}


def test_excepted_changes_do_not_count_toward_the_digest_threshold(tmp_path, stubbed):
    # 12 changes at a threshold of 10: a digest without the register, but 2 are excepted
    ids = [f"i-{index:017x}" for index in range(12)]
    entries = [
        exception_entry(
            f"EXC-{i}", "ec2-imdsv2-check", "AWS::EC2::Instance", ids[i], "2026-07-01", "2026-07-31"
        )
        for i in (0, 1)
    ]
    register = loaded(tmp_path, *entries)
    stubbed.names([])
    stubbed.accept(10)

    out = process(
        [(f"r{i}", change(resource_id=rid)) for i, rid in enumerate(ids)],
        make_settings(digest_threshold=10),
        stubbed.config,
        stubbed.sns,
        register,
    )

    assert out.digest is False and len(stubbed.published) == 10
    assert all(ids[0] not in p["Subject"] and ids[1] not in p["Subject"] for p in stubbed.published)
    assert sorted(e["exception"] for e in out.excepted) == ["EXC-0", "EXC-1"]


def test_a_batch_of_only_excepted_changes_sends_nothing(tmp_path, stubbed):
    register = loaded(tmp_path, instance_exception())
    # the same event delivered twice, both records excepted, no lookup, no publish
    event = change()

    out = process(
        [("r1", event), ("r2", copy.deepcopy(event))],
        make_settings(),
        stubbed.config,
        stubbed.sns,
        register,
    )

    assert stubbed.published == [] and out.sent == [] and out.name_lookups == 0
    assert [e["records"] for e in out.excepted] == [["r1", "r2"]]


def test_a_fix_of_an_excepted_finding_is_still_sent_when_fixes_are_alerted(tmp_path, stubbed):
    resolved = load_event("compliance_change_s3_resolved.json")
    bucket = resolved["detail"]["resourceId"]
    entry = exception_entry(
        "EXC-S3", "s3-bucket-sse-enabled", "AWS::S3::Bucket", bucket, "2026-07-01", "2026-07-31"
    )
    register = loaded(tmp_path, entry)
    stubbed.names([])
    stubbed.accept()

    out = process(
        [("r1", resolved)], make_settings(send_resolved=True), stubbed.config, stubbed.sns, register
    )

    (sent,) = stubbed.published
    assert sent["Subject"].startswith("[RESOLVED] s3-bucket-sse-enabled prod: ")
    assert out.excepted == []


def test_monitoring_problems_are_never_excepted(tmp_path, stubbed):
    event = load_event("cloudtrail_stop_configuration_recorder.json")
    recorder = event["detail"]["requestParameters"]["configurationRecorderName"]
    entry = exception_entry(
        "EXC-REC",
        "ec2-imdsv2-check",
        "AWS::Config::ConfigurationRecorder",
        recorder,
        "2026-01-01",
        "2026-12-31",
    )
    stubbed.accept()

    process([("r1", event)], make_settings(), stubbed.config, stubbed.sns, loaded(tmp_path, entry))

    (sent,) = stubbed.published
    assert sent["Subject"].startswith("[CRITICAL] prod: ")


# -- a register that is not the deployed one -----------------------------------------------------------
def test_a_tampered_register_suppresses_nothing_and_every_e_mail_says_so(tmp_path, stubbed):
    path, key = write_register(tmp_path, [instance_exception(expires="2026-07-31")])
    # the file on the function is not the one deployed: an entry added after the hash was taken
    tampered = json.loads(path.read_bytes())
    tampered["exceptions"].append(instance_exception("EXC-2026-999", resourceId="i-0fff"))
    path.write_bytes(register_bytes(tampered["exceptions"]))
    register = reg.load(str(path), key)
    stubbed.names([])
    stubbed.accept(3)

    out = process(
        [
            ("r1", change()),
            ("r2", change(resource_id="i-0fff")),
            ("r3", load_event("cloudtrail_stop_configuration_recorder.json")),
        ],
        make_settings(),
        stubbed.config,
        stubbed.sns,
        register,
    )

    assert register.entries == () and "not the " + key[11:75] in register.problem
    assert out.excepted == [] and len(stubbed.published) == 3
    for sent in stubbed.published:
        first = sent["Message"].splitlines()[0]
        assert first.startswith("NOTE: exceptions register unusable: ")
        assert first.endswith(" - no finding suppressed."), first


def test_a_digest_under_an_unusable_register_leads_with_the_note(stubbed):
    register = reg.load("/nonexistent/exceptions/register.json", "exceptions/" + "0" * 64 + ".json")
    stubbed.names([])
    stubbed.accept()

    out = process(
        [(f"r{i}", change(resource_id=f"i-{i:017x}")) for i in range(3)],
        make_settings(digest_threshold=2),
        stubbed.config,
        stubbed.sns,
        register,
    )

    (sent,) = stubbed.published
    assert out.digest is True
    assert sent["Message"].splitlines()[0] == (
        "NOTE: exceptions register unusable: /nonexistent/exceptions/register.json unreadable: "
        "No such file or directory - no finding suppressed."
    )


def broken(tmp_path, body):
    path = tmp_path / "register.json"
    path.write_bytes(body)
    return reg.load(str(path), f"exceptions/{hashlib.sha256(body).hexdigest()}.json")


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"not json", "not a compliance-exceptions/1 object"),
        (b'{"exceptions":[],"format":"compliance-exceptions/2","maxDays":365}\n', "format is"),
        (b'{"exceptions":[],"format":"compliance-exceptions/1"}\n', "want exactly exceptions"),
        (
            register_bytes([instance_exception(), instance_exception(resourceId="i-1")]),
            "exception id EXC-2026-001 is used twice",
        ),
        (register_bytes([instance_exception(expires="2026-7-5")]), "expires '2026-7-5' is not"),
        (register_bytes([instance_exception(approver="")]), "approver is empty"),
        (register_bytes([instance_exception(id_="EXC 1")]), "id 'EXC 1' is not 1-64"),
    ],
)
def test_a_register_that_is_not_compliance_exceptions_1_suppresses_nothing(tmp_path, body, problem):
    register = broken(tmp_path, body)

    assert register.entries == ()
    assert problem in (register.problem or ""), register.problem


@pytest.mark.parametrize(
    ("env", "problem"),
    [
        ({variables.EXCEPTIONS_REGISTER_KEY: "exceptions/" + "a" * 64 + ".json"}, "PATH is not"),
        ({variables.EXCEPTIONS_REGISTER_PATH: "/opt/exceptions/register.json"}, "KEY is not"),
        (
            {
                variables.EXCEPTIONS_REGISTER_PATH: "/opt/exceptions/register.json",
                variables.EXCEPTIONS_REGISTER_KEY: "register.json",
            },
            "is not exceptions/<64 hex>.json",
        ),
    ],
)
def test_half_a_configuration_is_a_problem_not_a_silent_empty_register(env, problem):
    register = reg.from_environment(env)

    assert register.entries == () and problem in (register.problem or ""), register.problem


def test_no_register_configured_excepts_nothing_and_says_nothing():
    register = reg.from_environment({})

    assert register.problem is None and register.note is None and register.log_fields() is None


def test_the_register_is_read_once_per_execution_environment(tmp_path):
    path, key = write_register(tmp_path, [instance_exception()])
    env = {variables.EXCEPTIONS_REGISTER_PATH: str(path), variables.EXCEPTIONS_REGISTER_KEY: key}
    first = reg.for_environment(env)
    path.unlink()  # a later read would fail; the container keeps what it checked

    assert reg.for_environment(env) is first and first.problem is None
    assert first.log_fields() == {"key": key, "sha256": key[11:75], "entries": 1}
