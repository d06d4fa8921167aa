"""GIVEN a recorded invocation event WHEN it is parsed THEN the trigger (or a one-line rejection) is right."""

import json
import uuid
from datetime import datetime, timezone

import pytest
from compliance_report.errors import UnrecognisedEvent
from compliance_report.triggers import REPORT_ID_NAMESPACE, parse_invocation, report_id_for

NOW = datetime(2026, 11, 26, 7, 30, tzinfo=timezone.utc)


def test_scheduled_event_invoked_directly_is_a_schedule_trigger_with_the_event_id(load_event):
    invocation = parse_invocation(load_event("scheduled_event.json"), "req-1", NOW)

    assert invocation.source == "direct"
    trigger = invocation.trigger
    assert trigger.type == "schedule"
    assert trigger.id == "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa"
    assert trigger.received_at == datetime(2026, 11, 26, 6, 0, tzinfo=timezone.utc)
    assert trigger.note is None


def test_on_demand_invocation_keeps_the_note_and_uses_the_request_id(load_event):
    trigger = parse_invocation(load_event("on_demand.json"), "req-42", NOW).trigger

    assert (trigger.type, trigger.id, trigger.received_at) == ("on-demand", "req-42", NOW)
    assert trigger.note == "Q4 audit evidence requested by internal audit"


def test_on_demand_invocation_with_its_own_id_uses_that_id(load_event):
    trigger = parse_invocation(load_event("on_demand_with_id.json"), "req-42", NOW).trigger

    assert trigger.id == "operator-2026-11-26-001"
    assert trigger.note is None


def test_scheduled_event_through_the_queue_is_a_queue_trigger_keyed_by_the_event_id(load_event):
    invocation = parse_invocation(load_event("sqs_scheduled.json"), "req-1", NOW)

    assert invocation.source == "sqs" and invocation.trigger is None
    (record,) = invocation.records
    assert record.message_id == "8d1c3b5e-2f1a-4c3e-9d7a-1b2c3d4e5f60"
    assert record.rejection is None
    assert record.trigger.type == "queue"
    # The EventBridge event id, not the message id: the same event queued twice is one report.
    assert record.trigger.id == "0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"
    assert record.trigger.received_at == datetime(
        2026, 11, 26, 6, 0, 0, 123000, tzinfo=timezone.utc
    )


def test_on_demand_request_through_the_queue_is_keyed_by_its_own_id_and_keeps_its_note(
    load_event,
):
    (record,) = parse_invocation(load_event("sqs_on_demand.json"), "req-1", NOW).records

    assert record.trigger.type == "queue"
    # The id chosen when the request was made, not the message id, which a redrive replaces.
    assert record.trigger.id == "9b2f5a64-3f0e-4c1d-8e7a-6b5c4d3e2f10"
    assert record.trigger.note == "re-run after remediation of bucket logs-archive"


def test_on_demand_request_through_the_queue_without_an_id_is_refused_with_the_reason(load_event):
    event = load_event("sqs_on_demand.json")
    event["Records"][0]["body"] = json.dumps({"action": "generate-report", "note": "n"})

    (record,) = parse_invocation(event, "req-1", NOW).records

    assert record.trigger is None
    assert record.rejection.startswith("on-demand request from the queue has no 'id'")
    assert "redriven" in record.rejection


def test_queue_message_with_an_unknown_body_is_rejected_with_a_reason_not_an_exception(load_event):
    (record,) = parse_invocation(load_event("sqs_unrecognised_body.json"), "req-1", NOW).records

    assert record.trigger is None
    assert "neither a scheduled event nor an on-demand" in record.rejection


@pytest.mark.parametrize(
    "event, fragment",
    [
        ("s3_put_event.json", "not all from aws:sqs"),
        ({"detail-type": "Object Created", "source": "aws.s3"}, "is not a scheduled event"),
        ([1, 2, 3], "must be a JSON object"),
        ({"action": "generate-report", "note": 7}, "'note' must be a string"),
        ({"action": "generate-report", "note": "x" * 1025}, "longer than 1024"),
        ({"action": "generate-report", "force": True}, "unknown field(s) ['force']"),
        ({"action": "generate-report", "id": ""}, "'id' must be a non-empty string"),
        (
            {
                "detail-type": "Scheduled Event",
                "source": "aws.events",
                "id": "e1",
                "time": "yesterday",
            },
            "is not an RFC 3339 timestamp",
        ),
    ],
)
def test_anything_else_is_rejected_with_one_line_naming_the_rule(load_event, event, fragment):
    if isinstance(event, str):
        event = load_event(event)
    with pytest.raises(UnrecognisedEvent) as caught:
        parse_invocation(event, "req-1", NOW)

    assert fragment in str(caught.value)
    assert "\n" not in str(caught.value)


def test_report_id_is_uuid5_of_the_trigger_id_so_a_retry_gets_the_same_id():
    first = report_id_for("53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa")

    assert first == report_id_for("53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa")
    assert first != report_id_for("53dc4d37-cffa-4f76-80c9-8b7d4a4d2eab")
    assert uuid.UUID(first).version == 5
    assert first == str(uuid.uuid5(REPORT_ID_NAMESPACE, "53dc4d37-cffa-4f76-80c9-8b7d4a4d2eaa"))
