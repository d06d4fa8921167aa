"""GIVEN the stack's event rules, queues and policies in the emulator (IAM enforced) and an exceptions
register on the alert formatter (the layer's file, held to the key that names its SHA-256) WHEN AWS
Config's compliance changes flow through EventBridge to the formatter's queue and the real handler runs
as its role THEN a finding under an exception in force on the day does not page while another one in
the same batch does, the day after the exception expires the finding pages again, and a register that
is not the deployed one suppresses nothing and says so in the e-mail and the log."""

import json

import pytest

from lib.alert_formatter import local_harness as harness
from tests.alert_formatter.conftest import exception_entry, register_bytes, write_register
from tools.local_aws import estate as seeding

SUFFIX = "test"
ACCEPTED = "accepted-archive"
FORGOTTEN = "forgotten-exports"


@pytest.fixture(scope="module")
def formatter():
    return harness.load_handler("alert_formatter_exceptions")


@pytest.fixture
def deliver(estate, emulator, deployment, formatter, capsys):
    """The changes queue's event source mapping, once, as the formatter's role, with the register
    at ``path`` (and the key its bytes name, unless ``variables`` say otherwise); returns (the
    delivery, the handler's log lines)."""
    emulator.set_trail(True)
    sqs = estate.as_role("sqs", "alertFormatter")
    url = estate.sqs.get_queue_url(QueueName=deployment.changes_queue)["QueueUrl"]

    def run(path, variables=None):
        env = deployment.formatter_environment(
            emulator.endpoint_url, **(variables or harness.register_variables(path))
        )
        capsys.readouterr()
        with harness.environment(env):
            delivery = harness.deliver(
                sqs, url, formatter, lambda: harness.LambdaContext(harness.function_name(SUFFIX))
            )
        assert delivery is not None and delivery.failed == [], delivery and delivery.result
        lines = [json.loads(line) for line in capsys.readouterr().out.splitlines() if line]
        return delivery, lines

    return run


def register(estate, tmp_path, expires, *more):
    """The layer's file with one exception for ACCEPTED's finding, from 2026-07-01."""
    entry = exception_entry(
        "EXC-2026-042", rule(estate), "AWS::S3::Bucket", ACCEPTED, "2026-07-01", expires
    )
    path, _ = write_register(tmp_path, [entry, *more])
    return path


def rule(estate):
    """The S3 rule's name in the register: the stack's name without "-<suffix>"."""
    return estate.S3_RULE[: -len(f"-{SUFFIX}")]


def evaluate(estate):
    estate.daily_evaluation()


def sent_line(lines):
    (line,) = [line for line in lines if line["message"] == "alerts sent"]
    return line


def test_an_excepted_finding_does_not_page_while_another_in_its_batch_does(
    estate, deliver, tmp_path
):
    estate.emulator.set_clock("2026-07-05T06:00:00Z")  # the exception's last day
    seeding.create_bucket(estate.s3, ACCEPTED, encrypted=False)
    seeding.create_bucket(estate.s3, FORGOTTEN, encrypted=False)
    evaluate(estate)

    delivery, lines = deliver(register(estate, tmp_path, expires="2026-07-05"))

    assert sorted(b["detail"]["resourceId"] for b in delivery.bodies) == [ACCEPTED, FORGOTTEN]
    (note,) = estate.alerts()
    assert note["Subject"].endswith(f"{SUFFIX}: {FORGOTTEN}")
    assert "NOTE:" not in note["Message"]
    line = sent_line(lines)
    assert line["alertsSent"] == 1 and line["changes"] == {"NON_COMPLIANT": 1, "EXCEPTED": 1}
    (excepted,) = line["excepted"]
    assert excepted["exception"] == "EXC-2026-042" and excepted["resourceId"] == ACCEPTED
    assert excepted["rule"] == estate.S3_RULE and len(excepted["records"]) == 1
    assert line["exceptionsRegister"]["entries"] == 1


def test_the_day_after_the_exception_expires_the_finding_pages_again(estate, deliver, tmp_path):
    path = register(estate, tmp_path, expires="2026-07-05")
    estate.emulator.set_clock("2026-07-05T06:00:00Z")
    seeding.create_bucket(estate.s3, ACCEPTED, encrypted=False)
    evaluate(estate)
    deliver(path)
    assert estate.alerts(wait_s=0.5) == []  # in force through its expiry day: silent

    # The next day the bucket is fixed, then its encryption removed again: a new NON_COMPLIANT
    # change, recorded after the exception ended.
    estate.emulator.set_clock("2026-07-06T06:00:00Z")
    seeding.remediate_bucket(estate.s3, ACCEPTED)
    evaluate(estate)
    estate.emulator.set_clock("2026-07-06T07:00:00Z")
    seeding.drift_bucket(estate.s3, ACCEPTED)
    evaluate(estate)

    delivery, lines = deliver(path)

    assert any(
        b["detail"]["newEvaluationResult"]["complianceType"] == "NON_COMPLIANT"
        for b in delivery.bodies
    )
    (note,) = estate.alerts()
    assert note["Subject"].startswith("[NON_COMPLIANT] ")
    assert note["Subject"].endswith(f"{SUFFIX}: {ACCEPTED}")
    assert sent_line(lines)["excepted"] == []


def test_a_register_that_is_not_the_deployed_one_pages_and_says_so(estate, deliver, tmp_path):
    path = register(estate, tmp_path, expires="2026-07-31")
    variables = harness.register_variables(path)
    # the file changed after the key was taken: an entry for the other bucket slipped in
    entries = json.loads(path.read_bytes())["exceptions"]
    slipped = exception_entry(
        "EXC-2026-666", rule(estate), "AWS::S3::Bucket", FORGOTTEN, "2026-07-01", "2026-07-31"
    )
    path.write_bytes(register_bytes([*entries, slipped]))
    estate.emulator.set_clock("2026-07-05T06:00:00Z")
    seeding.create_bucket(estate.s3, ACCEPTED, encrypted=False)
    seeding.create_bucket(estate.s3, FORGOTTEN, encrypted=False)
    evaluate(estate)

    _, lines = deliver(path, variables)

    notes = estate.alerts()
    assert sorted(n["Subject"].rsplit(": ", 1)[1] for n in notes) == [ACCEPTED, FORGOTTEN]
    for note in notes:
        assert note["Message"].startswith("NOTE: exceptions register unusable: ")
        assert "no finding suppressed." in note["Message"].splitlines()[0]
    (error,) = [line for line in lines if line["level"] == "ERROR"]
    assert error["message"] == "exceptions register unusable: no finding suppressed"
    assert "SHA-256" in error["error"] and error["key"] == variables["EXCEPTIONS_REGISTER_KEY"]
    assert sent_line(lines)["excepted"] == []
