"""Recognise what invoked the function: the daily schedule, an operator's on-demand request, or a message
from the queue in front of the function.

Everything else is rejected with a reason (the handler logs one line and makes no report). The trigger id is
chosen so that a retry of the same trigger carries the same id, which makes the report id (UUIDv5 of the
trigger id) and so the report idempotent:

* scheduled event: the EventBridge event ``id`` (also when the event arrives through the queue, so an
  event delivered twice to the queue, or redriven from its dead-letter queue, still yields one report);
* on-demand request through the queue: its ``id``, chosen when the request is made (``make
  report-now`` and the README's ``aws sqs send-message`` line give one). A request without one is
  refused with a reason: the only other candidate is the SQS ``messageId``, and SQS gives a message
  redriven from the dead-letter queue a new one, so the runbook's own recovery step would make a second
  report of one request;
* on-demand request invoked directly: its ``id``, else the Lambda request id, which Lambda keeps across
  its asynchronous retries (a direct invocation has no redrive into the function: its failure
  dead-letter queue is read by people, not replayed).
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from .errors import UnrecognisedEvent

ON_DEMAND_ACTION = "generate-report"
MAX_ID_LENGTH = 256
MAX_NOTE_LENGTH = 1024
# Namespace of report ids: uuid5(NAMESPACE_URL, "https://compliance-audit.invalid/report-generator").
REPORT_ID_NAMESPACE = uuid.uuid5(
    uuid.NAMESPACE_URL, "https://compliance-audit.invalid/report-generator"
)
_ON_DEMAND_KEYS = {"action", "note", "id"}


@dataclass(frozen=True)
class Trigger:
    type: str  # "schedule" | "on-demand" | "queue"
    id: str
    received_at: datetime
    note: str | None

    @property
    def report_id(self) -> str:
        return report_id_for(self.id)


@dataclass(frozen=True)
class QueueRecord:
    """One SQS record: its message id and either the trigger it carries or why it was rejected."""

    message_id: str
    trigger: Trigger | None
    rejection: str | None


@dataclass(frozen=True)
class Invocation:
    """A direct invocation carries one trigger; a queue invocation carries one entry per record."""

    source: str  # "direct" | "sqs"
    trigger: Trigger | None
    records: list[QueueRecord]


def report_id_for(trigger_id: str) -> str:
    return str(uuid.uuid5(REPORT_ID_NAMESPACE, trigger_id))


def _check_text(value: str, where: str) -> str:
    """JSON can carry a lone surrogate (``"\\ud800"``), which is no UTF-8 text: the report could not be
    stored with it, so the event is refused here rather than failing every retry later."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as e:
        raise UnrecognisedEvent(f"{where} is not valid Unicode text ({e.reason})") from e
    return value


def _check_id(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise UnrecognisedEvent(f"{where} must be a non-empty string")
    if len(value) > MAX_ID_LENGTH:
        raise UnrecognisedEvent(f"{where} is longer than {MAX_ID_LENGTH} characters")
    return _check_text(value, where)


def _parse_time(value: Any, where: str) -> datetime:
    if not isinstance(value, str):
        raise UnrecognisedEvent(f"{where} must be an RFC 3339 timestamp string")
    text = value[:-1] + "+00:00" if value.endswith("Z") else value
    try:
        parsed = datetime.fromisoformat(text)
        if parsed.tzinfo is None:
            raise UnrecognisedEvent(f"{where} {value!r} has no time zone")
        # OverflowError: an offset that moves year 1 or 9999 out of datetime's range.
        return parsed.astimezone(timezone.utc)
    except (ValueError, OverflowError) as e:
        raise UnrecognisedEvent(f"{where} {value!r} is not an RFC 3339 timestamp") from e


def _sent_at(record: dict[str, Any], now: datetime) -> datetime:
    """The record's SentTimestamp (epoch milliseconds, as SQS sets it) or ``now`` when absent."""
    attributes = record.get("attributes")
    if attributes is None:
        return now
    sent = attributes.get("SentTimestamp") if isinstance(attributes, dict) else ""
    if sent is None:
        return now
    try:
        # OverflowError / OSError: a number outside the platform's time_t; ValueError: a year outside
        # 1-9999, or not an integer at all.
        return datetime.fromtimestamp(int(sent) / 1000, tz=timezone.utc)
    except (TypeError, ValueError, OverflowError, OSError) as e:
        raise UnrecognisedEvent(
            f"queue record attribute SentTimestamp {str(sent)[:40]!r} is not epoch milliseconds"
        ) from e


def _is_scheduled(event: dict[str, Any]) -> bool:
    return event.get("detail-type") == "Scheduled Event" and event.get("source") == "aws.events"


def _scheduled(event: dict[str, Any], trigger_type: str, received_at: datetime | None) -> Trigger:
    event_id = _check_id(event.get("id"), "scheduled event 'id'")
    fired_at = _parse_time(event.get("time"), "scheduled event 'time'")
    return Trigger(trigger_type, event_id, received_at or fired_at, None)


def _on_demand(
    event: dict[str, Any], trigger_type: str, fallback_id: str | None, received_at: datetime
) -> Trigger:
    """``fallback_id`` None: the request must carry its own ``id``."""
    unknown = sorted(set(event) - _ON_DEMAND_KEYS)
    if unknown:
        raise UnrecognisedEvent(
            f"on-demand request has unknown field(s) {unknown}; allowed: action, note, id"
        )
    note = event.get("note")
    if note is not None and not isinstance(note, str):
        raise UnrecognisedEvent("on-demand 'note' must be a string")
    if note is not None and len(note) > MAX_NOTE_LENGTH:
        raise UnrecognisedEvent(f"on-demand 'note' is longer than {MAX_NOTE_LENGTH} characters")
    if note is not None:
        _check_text(note, "on-demand 'note'")
    if "id" in event:
        trigger_id = _check_id(event["id"], "on-demand 'id'")
    elif fallback_id is None:
        raise UnrecognisedEvent(
            "on-demand request from the queue has no 'id': give it one chosen when the request is "
            'made, e.g. {"action": "generate-report", "id": "<a new UUID>"} (make report-now does), '
            "so a retried or redriven message never makes a second report"
        )
    else:
        trigger_id = fallback_id
    return Trigger(trigger_type, trigger_id, received_at, note)


def _sqs_record(record: Any, now: datetime) -> QueueRecord:
    if not isinstance(record, dict):
        return QueueRecord("", None, "queue record is not an object")
    message_id = record.get("messageId")
    if not isinstance(message_id, str) or not message_id:
        return QueueRecord("", None, "queue record has no messageId")
    try:
        _check_id(message_id, "queue record messageId")
    except UnrecognisedEvent as e:
        return QueueRecord(message_id.encode("utf-8", "replace").decode(), None, str(e))
    raw_body = record.get("body")
    if not isinstance(raw_body, str):
        return QueueRecord(message_id, None, "queue message body is not JSON text")
    try:
        body = json.loads(raw_body)
    except ValueError:
        return QueueRecord(message_id, None, "queue message body is not JSON")
    try:
        received_at = _sent_at(record, now)
        if isinstance(body, dict) and _is_scheduled(body):
            trigger = _scheduled(body, "queue", received_at)
        elif isinstance(body, dict) and body.get("action") == ON_DEMAND_ACTION:
            trigger = _on_demand(body, "queue", None, received_at)
        else:
            raise UnrecognisedEvent(
                "queue message body is neither a scheduled event nor an on-demand 'generate-report' request"
            )
    except UnrecognisedEvent as e:
        return QueueRecord(message_id, None, str(e))
    return QueueRecord(message_id, trigger, None)


def parse_invocation(event: Any, request_id: str, now: datetime) -> Invocation:
    """Classify an invocation event; raise UnrecognisedEvent (one-line reason) for anything unknown."""
    if not isinstance(event, dict):
        raise UnrecognisedEvent(f"event must be a JSON object, got {type(event).__name__}")
    records = event.get("Records")
    if isinstance(records, list) and records:
        if not all(isinstance(r, dict) and r.get("eventSource") == "aws:sqs" for r in records):
            raise UnrecognisedEvent("event Records are not all from aws:sqs")
        return Invocation("sqs", None, [_sqs_record(r, now) for r in records])
    if _is_scheduled(event):
        return Invocation("direct", _scheduled(event, "schedule", None), [])
    if event.get("action") == ON_DEMAND_ACTION:
        fallback = _check_id(request_id, "Lambda request id")
        return Invocation("direct", _on_demand(event, "on-demand", fallback, now), [])
    keys = sorted(event)[:8]
    raise UnrecognisedEvent(
        f"event with keys {keys} is not a scheduled event, an on-demand 'generate-report' request "
        "or an SQS batch"
    )
