"""The alert sent to the security team: when to send it, its subject, body and message attributes.

SNS limits the subject to 100 ASCII characters without line breaks; the body names counts per rule, the
first N non-compliant resources of each rule, monitoring problems, errors, and where the full report is.
Message attributes let subscriptions filter (e.g. only ``severity = NON_COMPLIANT`` for one environment).

SNS also limits the whole message — body plus every attribute's name, type and value — to 256 KiB
(262,144 bytes, not characters: https://docs.aws.amazon.com/sns/latest/api/API_Publish.html and
https://docs.aws.amazon.com/sns/latest/api/API_MessageAttributeValue.html). The subject is not named
there as counted; it is counted here too (at most 100 bytes) so that a message never depends on it.
With many rules, up to 1,000 resources shown per rule and resource ids of up to 768 characters (of up
to 4 UTF-8 bytes each) the body could pass the limit, and SNS would refuse every retry; such a body is
cut after its last whole line that fits, counted in UTF-8 bytes, and says so. The location of the full
report is on the body's third line, so it always survives the cut.
"""

from __future__ import annotations

import json
from typing import Any

from .model import Report

SUBJECT_MAX = 100
MESSAGE_MAX_BYTES = 262_144


def needs_alert(report: Report) -> bool:
    content = report.content
    return (
        content.summary.total_non_compliant > 0
        or not content.monitoring.healthy
        or not content.complete
    )


def severity(report: Report) -> str:
    """NON_COMPLIANT beats MONITORING beats INCOMPLETE: the most actionable reason names the alert."""
    if report.content.summary.total_non_compliant > 0:
        return "NON_COMPLIANT"
    if not report.content.monitoring.healthy:
        return "MONITORING"
    return "INCOMPLETE"


def _ascii(text: str) -> str:
    return "".join(c if 32 <= ord(c) < 127 else "?" for c in text)


def subject(report: Report) -> str:
    content = report.content
    summary = content.summary
    parts = []
    if summary.total_non_compliant:
        parts.append(
            f"{summary.total_non_compliant} non-compliant in {summary.rules_non_compliant} rule(s)"
        )
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


def _lines(report: Report, bucket: str, key: str, max_resources: int) -> list[str]:
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
        f"Complete: {'yes' if content.complete else 'NO'}",
        "",
        "Non-compliant resources per rule:",
    ]
    for rule in content.rules:
        counts = rule.counts
        lines.append(
            f"  {rule.name} ({rule.managed_identifier}): {counts.non_compliant} non-compliant, "
            f"{counts.compliant} compliant, {counts.not_applicable} not applicable"
            + ("" if rule.complete else " [INCOMPLETE]")
        )
        shown = rule.findings[:max_resources]
        for finding in shown:
            lines.append(f"    - {finding.resource_type} {finding.resource_id}")
        hidden = len(rule.findings) - len(shown)
        if hidden > 0:
            lines.append(f"    ... and {hidden} more in the full report")
    problems = content.monitoring.problems
    if problems:
        lines += ["", "Monitoring problems:"]
        lines += [f"  {p.code} {p.subject}: {p.message}" for p in problems]
    if content.errors:
        lines += ["", "Errors (report is incomplete):"]
        lines += [f"  {e.scope} {e.subject}: {e.code} {e.message}" for e in content.errors]
    return lines


def body(
    report: Report, bucket: str, key: str, max_resources: int, max_bytes: int = MESSAGE_MAX_BYTES
) -> str:
    """The message text, at most ``max_bytes`` of UTF-8."""
    lines = _lines(report, bucket, key, max_resources)
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


def attributes(report: Report, key: str) -> dict[str, dict[str, str]]:
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
    }


def _attributes_bytes(message_attributes: dict[str, dict[str, str]]) -> int:
    return sum(
        len(name.encode("utf-8"))
        + len(value["DataType"].encode("utf-8"))
        + len(value["StringValue"].encode("utf-8"))
        for name, value in message_attributes.items()
    )


def publish(
    sns: Any, topic_arn: str, report: Report, bucket: str, key: str, max_resources: int
) -> str:
    message_attributes = attributes(report, key)
    title = subject(report)
    message = body(
        report,
        bucket,
        key,
        max_resources,
        max_bytes=MESSAGE_MAX_BYTES
        - _attributes_bytes(message_attributes)
        - len(title.encode("utf-8")),
    )
    response = sns.publish(
        TopicArn=topic_arn,
        Subject=title,
        Message=message,
        MessageAttributes=message_attributes,
    )
    return str(response["MessageId"])
