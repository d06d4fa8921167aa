"""Build a schema-v1 report from what was collected, and serialise it to the exact bytes that are stored.

The bytes rule (docs/report-format.md): UTF-8 JSON, keys sorted, no insignificant white space, one trailing
newline. The chain hashes these bytes, so ``report_bytes`` is the only serialiser used for storing.
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import datetime
from typing import Any

from . import GENERATOR_NAME, GENERATOR_VERSION, SCHEMA_VERSION
from .collect import Collection
from .timefmt import utc_z
from .triggers import Trigger


def report_key(prefix: str, generated_at: datetime, sequence: int, report_id: str) -> str:
    """``reports/YYYY/MM/DD/<sequence, 8+ digits>-<reportId>.json``, dated by generatedAt (UTC)."""
    return f"{prefix}{generated_at:%Y/%m/%d}/{sequence:08d}-{report_id}.json"


def report_bytes(report: dict[str, Any]) -> bytes:
    text = json.dumps(report, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8") + b"\n"


def _rules(collection: Collection) -> list[dict[str, Any]]:
    unfinished = set(collection.unfinished_rules)
    rules = []
    for result in collection.rules:
        findings = result.sorted_findings()
        rules.append(
            {
                "name": result.rule.name,
                "managedIdentifier": result.rule.managed_identifier,
                "complianceType": result.compliance_type,
                "complete": result.complete and result.rule.name not in unfinished,
                "counts": {
                    "compliant": result.compliant,
                    "nonCompliant": len(findings),
                    "notApplicable": result.not_applicable,
                },
                "evaluationStatus": result.evaluation_status,
                "nonCompliant": findings,
            }
        )
    return rules


def summarise(rules: list[dict[str, Any]]) -> dict[str, Any]:
    by_type: Counter = Counter()
    for rule in rules:
        by_type.update(f["resourceType"] for f in rule["nonCompliant"])
    by_rule = {rule["name"]: rule["counts"]["nonCompliant"] for rule in rules}
    return {
        "totalNonCompliant": sum(by_rule.values()),
        "rulesNonCompliant": sum(1 for count in by_rule.values() if count > 0),
        "byRule": by_rule,
        "byResourceType": dict(sorted(by_type.items())),
    }


def build_report(
    *,
    report_id: str,
    generated_at: datetime,
    trigger: Trigger,
    account: str,
    region: str,
    environment_suffix: str,
    collection: Collection,
    sequence: int,
    previous_key: str | None,
    previous_sha256: str | None,
) -> dict[str, Any]:
    rules = _rules(collection)
    errors = list(collection.errors)
    # A missing rule is seen by several calls; say it once.
    problems = list({(p["code"], p["subject"]): p for p in collection.problems}.values())
    return {
        "schemaVersion": SCHEMA_VERSION,
        "reportId": report_id,
        "generatedAt": utc_z(generated_at),
        "generator": {"name": GENERATOR_NAME, "version": GENERATOR_VERSION},
        "trigger": {
            "type": trigger.type,
            "id": trigger.id,
            "receivedAt": utc_z(trigger.received_at),
            "note": trigger.note,
        },
        "account": account,
        "region": region,
        "environmentSuffix": environment_suffix,
        "complete": not errors,
        "rules": rules,
        "summary": summarise(rules),
        "monitoring": {
            "healthy": not problems,
            "recorders": list(collection.recorders),
            "deliveryChannels": list(collection.channels),
            "problems": problems,
        },
        "errors": errors,
        "chain": {
            "sequence": sequence,
            "previousKey": previous_key,
            "previousSha256": previous_sha256,
        },
    }
