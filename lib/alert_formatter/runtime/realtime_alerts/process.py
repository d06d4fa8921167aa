"""One invocation's work: records in, alerts out, and which records must come back.

The function reads two queues (``lib/alert_formatter/infrastructure.py``): compliance changes, which
Lambda gathers for up to the batching window before it invokes, and monitoring events (CloudTrail
calls, the status check), delivered at once. Within one invocation:

1. Every record is parsed (``events.py``); one that is not an alert (a COMPLIANT first evaluation, a
   resolved change while resolved changes are off, a rule the stack does not monitor, a failed API
   call) is logged and dropped: retrying it could never turn it into one.
2. Monitoring problems go first, one e-mail each, never folded into a digest.
3. A NON_COMPLIANT change of a finding under an exception in force on the day Config recorded it
   (``register.py``) does not page: it is logged as ``excepted`` with the exception's id, and is not
   named, sent or counted toward the digest threshold. Changes out of NON_COMPLIANT and monitoring
   problems are never excepted.
4. The other compliance changes (duplicates of one EventBridge event id counted once) are named with
   one ``BatchGetResourceConfig`` call per 100 resources, then sent one e-mail each, or, when there
   are more than ``DIGEST_THRESHOLD`` of them, as one digest.

When the register is unusable nothing is excepted, and every e-mail says so (``Register.note``).

A record whose alert SNS would not take (after the client's retries) is reported back, so the event
source mapping returns it to its queue (``ReportBatchItemFailures``); after the queue's
``maxReceiveCount`` it lands in the queue's dead-letter queue, whose depth alarm pages the team.
Retrying a record may repeat an alert that did go out (a digest covers all its records); SNS and
EventBridge deliver at least once anyway, so an alert may arrive twice, never not at all.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

from botocore.exceptions import BotoCoreError, ClientError

from . import events as ev
from . import health
from .messages import Alert, change_alert, digest_alert, monitoring_alert, summarise
from .names import Names, look_up
from .publish import publish
from .register import Entry, Register
from .settings import Settings
from .timefmt import to_datetime

EXCEPTED = "EXCEPTED"  # the log line's count of changes an exception kept from paging
Item = Tuple[str, Any]  # (record id: the SQS message id, the EventBridge event it carries)


@dataclass
class Outcome:
    sent: List[Tuple[Alert, str]] = field(default_factory=list)  # (alert, SNS message id)
    failed: List[str] = field(default_factory=list)  # record ids to hand back to the queue
    errors: List[str] = field(default_factory=list)
    ignored: List[Tuple[str, str]] = field(default_factory=list)  # (record id, why)
    changes: Dict[str, int] = field(default_factory=dict)
    excepted: List[Dict[str, Any]] = field(default_factory=list)  # changes that did not page
    digest: bool = False
    name_lookups: int = 0
    name_error: str = ""

    def fail(self, record_ids: Sequence[str], why: str) -> None:
        self.failed.extend(r for r in record_ids if r not in self.failed)
        self.errors.append(why)


def _wanted(change: ev.ComplianceChange, settings: Settings) -> str:
    """Why a change is not alerted, or "" when it is."""
    if settings.rule(change.rule_name) is None:
        return f"rule {change.rule_name!r} is not one of the stack's rules"
    if change.non_compliant:
        return ""
    if change.resolved:
        return "" if settings.send_resolved else "resolved changes are off (alertResolved)"
    return f"{change.new_compliance} without an earlier NON_COMPLIANT result is not alerted"


def _exception(
    change: ev.ComplianceChange, settings: Settings, register: Register
) -> Optional[Entry]:
    """The exception in force that keeps ``change`` from paging, if any."""
    recorded = to_datetime(change.recorded_at)
    if not change.non_compliant or recorded is None:
        return None  # an undated change cannot be shown to fall in an exception: it pages
    return register.covering(
        change.rule_name,
        settings.environment_suffix,
        change.resource_type,
        change.resource_id,
        recorded.date(),
    )


def process(
    items: Sequence[Item],
    settings: Settings,
    config: Any,
    sns: Any,
    register: Optional[Register] = None,
) -> Outcome:
    """``register``: the exceptions register in force (None: no register, nothing excepted)."""
    out = Outcome()
    register = register or Register()
    note = register.note
    changes: Dict[str, Tuple[ev.ComplianceChange, List[str]]] = {}
    monitoring: List[Tuple[ev.MonitoringEvent, str]] = []
    checks: List[Tuple[ev.StatusCheck, str]] = []
    for record_id, body in items:
        try:
            parsed = ev.parse_event(body)
        except ev.UnrecognisedEvent as e:
            out.ignored.append((record_id, str(e)))
            continue
        if isinstance(parsed, ev.ComplianceChange):
            why = _wanted(parsed, settings)
            if why:
                out.ignored.append((record_id, why))
            elif parsed.event_id in changes:
                changes[parsed.event_id][1].append(record_id)  # the same event delivered twice
            else:
                changes[parsed.event_id] = (parsed, [record_id])
        elif isinstance(parsed, ev.MonitoringEvent):
            if parsed.problem == ev.RULE_DELETED and settings.rule(parsed.subject) is None:
                out.ignored.append((record_id, f"rule {parsed.subject!r} is not the stack's"))
            else:
                monitoring.append((parsed, record_id))
        else:
            checks.append((parsed, record_id))

    for event, record_id in monitoring:
        _send(out, sns, settings, monitoring_alert(event, settings, note), [record_id])
    for request, record_id in checks:
        try:
            problems = health.check(config, settings, request)
        except (ClientError, BotoCoreError, ValueError) as e:
            out.fail([record_id], f"status check: {e}")
            continue
        for problem in problems:
            _send(out, sns, settings, monitoring_alert(problem, settings, note), [record_id])

    paging: Dict[str, Tuple[ev.ComplianceChange, List[str]]] = {}
    for event_id, (change, ids) in changes.items():
        entry = _exception(change, settings, register)
        if entry is None:
            paging[event_id] = (change, ids)
        else:
            out.excepted.append(
                {
                    "exception": entry.id,
                    "expires": entry.expires.isoformat(),
                    "rule": change.rule_name,
                    "resourceType": change.resource_type,
                    "resourceId": change.resource_id,
                    "records": ids,
                }
            )
    if out.excepted:
        out.changes[EXCEPTED] = len(out.excepted)
    if paging:
        found = [c for c, _ in paging.values()]
        names: Names = look_up(config, [(c.resource_type, c.resource_id) for c in found])
        out.name_lookups, out.name_error = names.calls, names.error or ""
        out.changes.update(summarise(found))
        if len(found) > settings.digest_threshold:
            out.digest = True
            records = [r for _, ids in paging.values() for r in ids]
            _send(out, sns, settings, digest_alert(found, settings, names, note), records)
        else:
            for change, ids in paging.values():
                _send(out, sns, settings, change_alert(change, settings, names, note), ids)
    return out


def _send(out: Outcome, sns: Any, settings: Settings, alert: Alert, records: List[str]) -> None:
    try:
        out.sent.append((alert, publish(sns, settings.topic_arn, alert)))
    except (ClientError, BotoCoreError) as e:
        out.fail(records, f"publish {alert.subject!r}: {e}")
