"""GIVEN the sample events AWS documents WHEN the function parses them THEN each is read as the alert it
is (or refused with the reason), from the fields AWS puts in it."""

import pytest
from realtime_alerts import events as ev
from realtime_alerts.timefmt import to_datetime

from tests.alert_formatter.conftest import load_event


def test_a_compliance_change_is_read_from_the_documented_detail():
    change = ev.parse_event(load_event("compliance_change_ec2_non_compliant.json"))

    assert change == ev.ComplianceChange(
        event_id="8a1c1d5e-0b3f-4c52-9e0d-5b1f3f6a7c01",
        rule_name="ec2-imdsv2-check-prod",
        resource_type="AWS::EC2::Instance",
        resource_id="i-0abc1234def567890",
        account="123456789012",
        region="us-east-1",
        new_compliance="NON_COMPLIANT",
        old_compliance="COMPLIANT",
        recorded_at="2026-07-05T06:00:01.405Z",
        annotation="HttpTokens is optional.",
    )
    assert change.non_compliant and not change.resolved


@pytest.mark.parametrize(
    ("name", "old", "resolved"),
    [
        ("compliance_change_rds_first_evaluation.json", None, False),
        ("compliance_change_s3_resolved.json", "NON_COMPLIANT", True),
        ("compliance_change_s3_deleted.json", "NON_COMPLIANT", True),
        ("compliance_change_compliant_first_evaluation.json", None, False),
    ],
)
def test_the_earlier_result_decides_whether_a_change_resolves_a_finding(name, old, resolved):
    change = ev.parse_event(load_event(name))

    assert change.old_compliance == old
    assert change.resolved is resolved


@pytest.mark.parametrize(
    ("name", "problem", "subject"),
    [
        ("cloudtrail_stop_configuration_recorder.json", ev.RECORDER_STOPPED, "default"),
        ("cloudtrail_delete_configuration_recorder.json", ev.RECORDER_DELETED, "default"),
        ("cloudtrail_delete_delivery_channel.json", ev.CHANNEL_DELETED, "default"),
        ("cloudtrail_delete_config_rule.json", ev.RULE_DELETED, "rds-storage-encrypted-prod"),
        ("cloudtrail_start_configuration_recorder.json", ev.RECORDER_STARTED, "default"),
    ],
)
def test_config_api_calls_through_cloudtrail_are_monitoring_events_with_the_caller(
    name, problem, subject
):
    event = ev.parse_event(load_event(name))

    assert isinstance(event, ev.MonitoringEvent)
    assert (event.problem, event.subject) == (problem, subject)
    assert event.actor == "arn:aws:iam::222222222222:user/JohnDoe"
    assert event.account == "222222222222" and event.region == "us-west-2"
    assert event.at.startswith("2014-12-11T18:3") and event.at.endswith("Z")


@pytest.mark.parametrize(
    ("name", "reason"),
    [
        ("cloudtrail_stop_configuration_recorder_denied.json", "failed (AccessDenied)"),
        ("cloudtrail_describe_configuration_recorders.json", "does not change what is monitored"),
    ],
)
def test_calls_that_change_nothing_are_refused_with_the_reason(name, reason):
    with pytest.raises(ev.UnrecognisedEvent, match=reason.replace("(", r"\(").replace(")", r"\)")):
        ev.parse_event(load_event(name))


def test_the_status_check_schedule_is_read_with_its_time():
    check = ev.parse_event(load_event("scheduled_status_check.json"))

    assert check == ev.StatusCheck(
        "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa", "2026-07-05T06:15:00Z", "123456789012", "us-east-1"
    )


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        ("not json", "not a JSON object"),
        ({"source": "aws.s3", "detail-type": "Object Created"}, "'aws.s3'"),
        (
            {"source": "aws.config", "detail-type": "Config Rules Compliance Change", "id": "x"},
            "detail is missing",
        ),
    ],
)
def test_anything_else_is_refused_in_one_line(event, reason):
    with pytest.raises(ev.UnrecognisedEvent) as caught:
        ev.parse_event(event)
    assert reason in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2026-07-05T06:00:01.405Z", "2026-07-05T06:00:01.405000+00:00"),
        ("2026-07-05T06:00:01.4Z", "2026-07-05T06:00:01.400000+00:00"),
        ("2026-07-05T06:00:01.123456789Z", "2026-07-05T06:00:01.123456+00:00"),
        ("2026-07-06T01:30:00.5+02:00", "2026-07-05T23:30:00.500000+00:00"),
        ("2026-07-05T06:00:01Z", "2026-07-05T06:00:01+00:00"),
    ],
)
def test_timestamps_with_fractions_and_zones_read_on_every_python(text, expected):
    """Python 3.9's fromisoformat (the Lambda runtime's) takes exactly 3 or 6 fraction digits and no
    "Z": an event's millisecond UTC time must still read as that instant."""
    assert to_datetime(text).isoformat() == expected
