"""The daily e-mail sent to the security team: when to send it, its subject, body and message attributes.

The body leads with what changed since the previous report (changes.py: new, fixed, still open with its
age in days), then the totals per rule, monitoring problems and errors. Its first lines say which report
it is, where the full report is, and the new head of the trail as a witness line
(``witness: <sequence> <key> <sha256>``, witness.py); the same head is in the message attributes
``headSequence``, ``headKey`` and ``headSha256``. A report is sent when it has findings, monitoring
problems or errors, or when a finding opened or was fixed since the previous report (so the e-mail that
says the last finding was fixed is sent too); a clean day with nothing changed sends nothing.

Exceptions (schema 1.1, exceptions.py): a finding under an exception in force is listed on its own
"Excepted" lines, never under "New" (changes.py), and when every open finding is excepted the severity
is ``EXCEPTED``, not ``NON_COMPLIANT``, so a subscription filtered on NON_COMPLIANT is not paged by
accepted risk. The exceptions that end within 14 days are listed, so their owners renew or fix in time.

SNS limits the subject to 100 ASCII characters without line breaks. Message attributes let
subscriptions filter (e.g. only ``severity = NON_COMPLIANT`` for one environment); there are ten, the
most SNS delivers to an SQS subscription with raw message delivery ("For SQS subscriptions, a maximum of
10 message attributes can be sent when Raw Message Delivery is enabled": Amazon SNS Developer Guide,
"Amazon SNS message attributes").

SNS also limits the whole message — body plus every attribute's name, type and value — to 256 KiB
(262,144 bytes, not characters: https://docs.aws.amazon.com/sns/latest/api/API_Publish.html and
https://docs.aws.amazon.com/sns/latest/api/API_MessageAttributeValue.html). The subject is not named
there as counted; it is counted here too (at most 100 bytes) so that a message never depends on it.
With many rules, up to 1,000 resources shown per rule and category and resource ids of up to 768
characters (of up to 4 UTF-8 bytes each) the body could pass the limit, and SNS would refuse every
retry; such a body is cut after its last whole line that fits, counted in UTF-8 bytes, and says so.
The location of the full report and the witness are on the body's third and fourth lines, so they
always survive the cut.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Sequence
from typing import Any, Optional

from . import witness
from .chain_records import Link
from .changes import Changes, Item
from .exceptions import Entry
from .model import Report

SUBJECT_MAX = 100
MESSAGE_MAX_BYTES = 262_144


def needs_alert(report: Report, changes: Optional[Changes] = None) -> bool:
    content = report.content
    return (
        content.summary.total_non_compliant > 0
        or not content.monitoring.healthy
        or not content.complete
        or (changes is not None and changes.changed)
    )


def severity(report: Report) -> str:
    """NON_COMPLIANT beats MONITORING beats INCOMPLETE beats EXCEPTED (every open finding under an
    exception in force) beats RESOLVED (nothing open, something fixed since the previous report): the
    most actionable reason names the alert."""
    summary = report.content.summary
    if summary.total_unexcepted > 0:
        return "NON_COMPLIANT"
    if not report.content.monitoring.healthy:
        return "MONITORING"
    if not report.content.complete:
        return "INCOMPLETE"
    if summary.total_non_compliant > 0:
        return "EXCEPTED"
    return "RESOLVED"


def _ascii(text: str) -> str:
    return "".join(c if 32 <= ord(c) < 127 else "?" for c in text)


def subject(report: Report, changes: Optional[Changes] = None) -> str:
    content = report.content
    summary = content.summary
    parts = []
    if summary.total_non_compliant:
        parts.append(
            f"{summary.total_non_compliant} non-compliant in {summary.rules_non_compliant} rule(s)"
        )
    if summary.total_excepted:
        parts.append(f"{summary.total_excepted} excepted")
    if changes is not None and changes.previous_sequence is not None:
        parts += [f"{len(changes.new)} new"] if changes.new else []
        parts += [f"{len(changes.fixed)} fixed"] if changes.fixed else []
    problems = len(content.monitoring.problems)
    if problems:
        parts.append(f"{problems} monitoring problem(s)")
    if not content.complete:
        parts.append("incomplete")
    text = (
        f"[{severity(report)}] {content.environment_suffix}: "
        + ", ".join(parts)
        + f" (report {report.chain.sequence})"
    )
    text = _ascii(text)
    return text if len(text) <= SUBJECT_MAX else text[: SUBJECT_MAX - 3] + "..."


def _days(count: int) -> str:
    return "opened today" if count == 0 else f"open {count} day{'' if count == 1 else 's'}"


def _exception(item: Item) -> str:
    label = item.exception
    return (
        ""
        if label is None
        else f"  ({label.id}, approved by {label.approver}, until {label.expires})"
    )


def _listed(title: str, items: Sequence[Item], max_resources: int, with_age: bool) -> list[str]:
    """A section of findings, at most ``max_resources`` per rule, in the order given."""
    lines = [f"{title} ({len(items)}):"] if items else []
    shown: dict[str, int] = defaultdict(int)
    hidden = 0
    for item in items:
        if shown[item.rule] >= max_resources:
            hidden += 1
            continue
        shown[item.rule] += 1
        age = f"  ({_days(item.days_open)})" if with_age else ""
        lines.append(
            f"  {item.rule}  {item.resource_type}  {item.resource_id}{age}{_exception(item)}"
        )
    if hidden:
        lines.append(f"  ... and {hidden} more in the full report")
    return lines


def _excepted_lines(changes: Changes, max_resources: int) -> list[str]:
    return _listed(
        "Excepted (accepted risk, not paged)", changes.excepted, max_resources, with_age=True
    )


def _change_lines(changes: Optional[Changes], max_resources: int) -> list[str]:
    if changes is None:
        return []
    if changes.unreadable is not None:
        return [
            f"Changes since the previous report unknown: it could not be read ({changes.unreadable})",
            *_excepted_lines(changes, max_resources),
        ]
    excepted = f", {len(changes.excepted)} excepted" if changes.excepted else ""
    if changes.previous_sequence is None:
        return [
            f"First report of the trail: {len(changes.new)} open{excepted}",
            *_listed("Open", changes.new, max_resources, with_age=True),
            *_excepted_lines(changes, max_resources),
        ]
    lines = [
        f"Since report {changes.previous_sequence} of {changes.previous_generated_at}: "
        f"{len(changes.new)} new, {len(changes.fixed)} fixed, {len(changes.still_open)} still open"
        f"{excepted}"
    ]
    lines += _listed("New", changes.new, max_resources, with_age=False)
    lines += _listed("Fixed", changes.fixed, max_resources, with_age=False)
    lines += _listed("Still open, longest first", changes.still_open, max_resources, with_age=True)
    lines += _excepted_lines(changes, max_resources)
    if changes.not_compared:
        lines.append("Not compared (their findings are in the totals below):")
        lines += [f"  {reason}" for reason in changes.not_compared]
    return lines


def _expiring_lines(expiring: Sequence[Entry]) -> list[str]:
    if not expiring:
        return []
    return [
        f"Exceptions expiring within 14 days ({len(expiring)}): renew them in exceptions.yaml or fix",
        *(
            f"  {e.id}  expires {e.expires}  {e.rule}  {e.resource_type}  {e.resource_id}  "
            f"approved by {e.approver}, {e.ticket}"
            for e in expiring
        ),
        "",
    ]


def _lines(
    report: Report,
    bucket: str,
    key: str,
    max_resources: int,
    head: Link,
    changes: Optional[Changes],
    expiring: Sequence[Entry] = (),
) -> list[str]:
    content = report.content
    lines: list[str] = [
        (
            f"Compliance report {report.chain.sequence} for account {content.account} "
            f"({content.region}, environment {content.environment_suffix})"
        ),
        (
            f"Generated at {report.generated_at} by trigger {content.trigger.type} "
            f"{content.trigger.id}"
        ),
        f"Full report: s3://{bucket}/{key}",
        witness.line(head),
        f"Complete: {'yes' if content.complete else 'NO'}",
        "",
    ]
    changed = _change_lines(changes, max_resources)
    if changed:
        lines += [*changed, ""]
    lines += _expiring_lines(expiring)
    summary = content.summary
    lines.append(
        f"Totals: {summary.total_non_compliant} non-compliant in "
        f"{summary.rules_non_compliant} of {len(content.rules)} rule(s)"
    )
    for rule in content.rules:
        counts = rule.counts
        lines.append(
            f"  {rule.name} ({rule.managed_identifier}): {counts.non_compliant} non-compliant, "
            f"{counts.compliant} compliant, {counts.not_applicable} not applicable"
            + (f", {counts.excepted} of them excepted" if counts.excepted else "")
            + ("" if rule.complete else " [INCOMPLETE]")
        )
    problems = content.monitoring.problems
    if problems:
        lines += ["", "Monitoring problems:"]
        lines += [f"  {p.code} {p.subject}: {p.message}" for p in problems]
    if content.errors:
        lines += ["", "Errors (report is incomplete):"]
        lines += [f"  {e.scope} {e.subject}: {e.code} {e.message}" for e in content.errors]
    return lines


def body(
    report: Report,
    bucket: str,
    key: str,
    max_resources: int,
    head: Link,
    changes: Optional[Changes] = None,
    max_bytes: int = MESSAGE_MAX_BYTES,
    expiring: Sequence[Entry] = (),
) -> str:
    """The message text, at most ``max_bytes`` of UTF-8."""
    lines = _lines(report, bucket, key, max_resources, head, changes, expiring)
    text = "\n".join(lines) + "\n"
    if len(text.encode("utf-8")) <= max_bytes:
        return text
    cut = f"... (alert cut at SNS's message size limit; everything is in s3://{bucket}/{key})\n"
    budget = max_bytes - len(cut.encode("utf-8"))
    kept: list[str] = []
    for line in lines:
        size = len(line.encode("utf-8")) + 1
        if size > budget:
            break
        kept.append(line)
        budget -= size
    return "".join(line + "\n" for line in kept) + cut


def attributes(report: Report, key: str, head: Link) -> dict[str, dict[str, str]]:
    content = report.content
    noncompliant_rules = [r.name for r in content.rules if r.counts.non_compliant > 0]
    return {
        "severity": {"DataType": "String", "StringValue": severity(report)},
        "environment": {"DataType": "String", "StringValue": content.environment_suffix},
        "nonCompliantCount": {
            "DataType": "Number",
            "StringValue": str(content.summary.total_non_compliant),
        },
        "nonCompliantRules": {
            "DataType": "String.Array",
            "StringValue": json.dumps(noncompliant_rules),
        },
        "monitoringHealthy": {
            "DataType": "String",
            "StringValue": "true" if content.monitoring.healthy else "false",
        },
        "complete": {
            "DataType": "String",
            "StringValue": "true" if content.complete else "false",
        },
        "reportKey": {"DataType": "String", "StringValue": key},
        **witness.attributes(head),
    }


def _attributes_bytes(message_attributes: dict[str, dict[str, str]]) -> int:
    return sum(
        len(name.encode("utf-8"))
        + len(value["DataType"].encode("utf-8"))
        + len(value["StringValue"].encode("utf-8"))
        for name, value in message_attributes.items()
    )


def publish(
    sns: Any,
    topic_arn: str,
    report: Report,
    bucket: str,
    head: Link,
    max_resources: int,
    changes: Optional[Changes] = None,
    expiring: Sequence[Entry] = (),
) -> str:
    """Publish the report's alert; ``head`` is the report's own link (its key and stored SHA-256);
    ``expiring``: the register's entries in force that end within 14 days."""
    key = head.key
    message_attributes = attributes(report, key, head)
    title = subject(report, changes)
    message = body(
        report,
        bucket,
        key,
        max_resources,
        head,
        changes,
        max_bytes=MESSAGE_MAX_BYTES
        - _attributes_bytes(message_attributes)
        - len(title.encode("utf-8")),
        expiring=expiring,
    )
    response = sns.publish(
        TopicArn=topic_arn,
        Subject=title,
        Message=message,
        MessageAttributes=message_attributes,
    )
    return str(response["MessageId"])
