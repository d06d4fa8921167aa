"""The alert sent to the security team: when to send it, its subject, body and message attributes.

SNS limits the subject to 100 ASCII characters without line breaks; the body names counts per rule, the
first N non-compliant resources of each rule, monitoring problems, errors, and where the full report is.
Message attributes let subscriptions filter (e.g. only ``severity = NON_COMPLIANT`` for one environment).
"""

import json
from typing import Any

SUBJECT_MAX = 100


def needs_alert(report: dict[str, Any]) -> bool:
    return (
        report["summary"]["totalNonCompliant"] > 0
        or not report["monitoring"]["healthy"]
        or not report["complete"]
    )


def severity(report: dict[str, Any]) -> str:
    """NON_COMPLIANT beats MONITORING beats INCOMPLETE: the most actionable reason names the alert."""
    if report["summary"]["totalNonCompliant"] > 0:
        return "NON_COMPLIANT"
    if not report["monitoring"]["healthy"]:
        return "MONITORING"
    return "INCOMPLETE"


def _ascii(text: str) -> str:
    return "".join(c if 32 <= ord(c) < 127 else "?" for c in text)


def subject(report: dict[str, Any]) -> str:
    summary = report["summary"]
    parts = []
    if summary["totalNonCompliant"]:
        parts.append(
            f"{summary['totalNonCompliant']} non-compliant in {summary['rulesNonCompliant']} rule(s)"
        )
    problems = len(report["monitoring"]["problems"])
    if problems:
        parts.append(f"{problems} monitoring problem(s)")
    if not report["complete"]:
        parts.append("incomplete")
    text = (
        f"[{severity(report)}] {report['environmentSuffix']}: "
        + ", ".join(parts)
        + f" (report {report['chain']['sequence']})"
    )
    text = _ascii(text)
    return text if len(text) <= SUBJECT_MAX else text[: SUBJECT_MAX - 3] + "..."


def body(report: dict[str, Any], bucket: str, key: str, max_resources: int) -> str:
    lines: list[str] = [
        (
            f"Compliance report {report['chain']['sequence']} for account {report['account']} "
            f"({report['region']}, environment {report['environmentSuffix']})"
        ),
        (
            f"Generated at {report['generatedAt']} by trigger {report['trigger']['type']} "
            f"{report['trigger']['id']}"
        ),
        f"Full report: s3://{bucket}/{key}",
        f"Complete: {'yes' if report['complete'] else 'NO'}",
        "",
        "Non-compliant resources per rule:",
    ]
    for rule in report["rules"]:
        counts = rule["counts"]
        lines.append(
            f"  {rule['name']} ({rule['managedIdentifier']}): {counts['nonCompliant']} non-compliant, "
            f"{counts['compliant']} compliant, {counts['notApplicable']} not applicable"
            + ("" if rule["complete"] else " [INCOMPLETE]")
        )
        shown = rule["nonCompliant"][:max_resources]
        for finding in shown:
            lines.append(f"    - {finding['resourceType']} {finding['resourceId']}")
        hidden = len(rule["nonCompliant"]) - len(shown)
        if hidden > 0:
            lines.append(f"    ... and {hidden} more in the full report")
    problems = report["monitoring"]["problems"]
    if problems:
        lines += ["", "Monitoring problems:"]
        lines += [f"  {p['code']} {p['subject']}: {p['message']}" for p in problems]
    if report["errors"]:
        lines += ["", "Errors (report is incomplete):"]
        lines += [
            f"  {e['scope']} {e['subject']}: {e['code']} {e['message']}" for e in report["errors"]
        ]
    return "\n".join(lines) + "\n"


def attributes(report: dict[str, Any], key: str) -> dict[str, dict[str, str]]:
    noncompliant_rules = [r["name"] for r in report["rules"] if r["counts"]["nonCompliant"] > 0]
    return {
        "severity": {"DataType": "String", "StringValue": severity(report)},
        "environment": {"DataType": "String", "StringValue": report["environmentSuffix"]},
        "nonCompliantCount": {
            "DataType": "Number",
            "StringValue": str(report["summary"]["totalNonCompliant"]),
        },
        "nonCompliantRules": {
            "DataType": "String.Array",
            "StringValue": json.dumps(noncompliant_rules),
        },
        "monitoringHealthy": {
            "DataType": "String",
            "StringValue": "true" if report["monitoring"]["healthy"] else "false",
        },
        "complete": {
            "DataType": "String",
            "StringValue": "true" if report["complete"] else "false",
        },
        "reportKey": {"DataType": "String", "StringValue": key},
    }


def publish(
    sns: Any, topic_arn: str, report: dict[str, Any], bucket: str, key: str, max_resources: int
) -> str:
    response = sns.publish(
        TopicArn=topic_arn,
        Subject=subject(report),
        Message=body(report, bucket, key, max_resources),
        MessageAttributes=attributes(report, key),
    )
    return response["MessageId"]
