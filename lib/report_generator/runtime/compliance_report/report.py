"""Build a schema-v1 report from what was collected, and serialise it to the exact bytes that are stored.

The bytes rule (docs/report-format.md): UTF-8 JSON, keys sorted, no insignificant white space, one trailing
newline. The chain hashes these bytes, so ``report_bytes`` is the only serialiser used for storing.

Everything but ``generatedAt`` and ``chain`` is known once the reads are over, while those two come from
the chain claim. ``draft_report`` therefore builds and serialises the rest (the findings are nearly all of
the bytes) while the claim is in flight, and ``finish_report`` adds the two members. A member serialised
on its own is the same text ``json.dumps`` writes for it inside the whole report, so the bytes are those of
serialising the finished report in one go.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from . import GENERATOR_NAME, GENERATOR_VERSION, SCHEMA_VERSION
from .collect import Collection
from .timefmt import utc_z
from .triggers import Trigger


def report_key(prefix: str, generated_at: datetime, sequence: int, report_id: str) -> str:
    """``reports/YYYY/MM/DD/<sequence, 8+ digits>-<reportId>.json``, dated by generatedAt (UTC)."""
    return f"{prefix}{generated_at:%Y/%m/%d}/{sequence:08d}-{report_id}.json"


def _json_text(value: Any) -> str:
    """Sorted, compact JSON with non-ASCII characters as themselves (``ensure_ascii=False``).

    Tried first with ``ensure_ascii=True``, which json's C encoder writes markedly faster. The two only
    differ on characters the ASCII form writes as ``\\uXXXX`` escapes, so a result without ``\\u`` is
    already the answer; otherwise the value is serialised again the exact way.
    """
    text = json.dumps(value, sort_keys=True, separators=(",", ":"))
    if "\\u" in text:
        text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text


# Findings serialised per json.dumps call. One call over 10,000 findings holds the GIL for tens of
# milliseconds, stalling the chain claim that runs meanwhile; slices let it in between.
ENCODE_SLICE = 500


def _object_text(obj: dict[str, Any], encoded: dict[str, str]) -> str:
    """``_json_text(obj)``, with the members in ``encoded`` taken as already serialised."""
    members = []
    for key in sorted(obj):
        value = encoded[key] if key in encoded else _json_text(obj[key])
        members.append(f"{_json_text(key)}:{value}")
    return "{" + ",".join(members) + "}"


def _findings_text(findings: list[dict[str, Any]]) -> str:
    """``_json_text(findings)``, serialised ``ENCODE_SLICE`` findings at a time."""
    parts = [
        _json_text(findings[i : i + ENCODE_SLICE])[1:-1]
        for i in range(0, len(findings), ENCODE_SLICE)
    ]
    return "[" + ",".join(parts) + "]"


def _rules_text(rules: list[dict[str, Any]]) -> str:
    texts = [
        _object_text(rule, {"nonCompliant": _findings_text(rule["nonCompliant"])}) for rule in rules
    ]
    return "[" + ",".join(texts) + "]"


def report_bytes(report: dict[str, Any], encoded: dict[str, str] | None = None) -> bytes:
    """The stored bytes. ``encoded``: top-level members already serialised (``_json_text`` of the
    member's value, as ``draft_report`` keeps them), reused instead of serialised again."""
    if not encoded:
        return _json_text(report).encode("utf-8") + b"\n"
    return _object_text(report, encoded).encode("utf-8") + b"\n"


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


@dataclass
class Draft:
    """A report without ``generatedAt`` and ``chain``, and its members already serialised."""

    members: dict[str, Any]
    encoded: dict[str, str] = field(default_factory=dict)


def draft_report(
    *,
    report_id: str,
    trigger: Trigger,
    account: str,
    region: str,
    environment_suffix: str,
    collection: Collection,
) -> Draft:
    rules = _rules(collection)
    errors = list(collection.errors)
    # A missing rule is seen by several calls; say it once.
    problems = list({(p["code"], p["subject"]): p for p in collection.problems}.values())
    members = {
        "schemaVersion": SCHEMA_VERSION,
        "reportId": report_id,
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
    }
    encoded = {key: _json_text(value) for key, value in members.items() if key != "rules"}
    encoded["rules"] = _rules_text(rules)
    return Draft(members, encoded)


def finish_report(
    draft: Draft,
    *,
    generated_at: datetime,
    sequence: int,
    previous_key: str | None,
    previous_sha256: str | None,
) -> dict[str, Any]:
    report = dict(draft.members)
    report["generatedAt"] = utc_z(generated_at)
    report["chain"] = {
        "sequence": sequence,
        "previousKey": previous_key,
        "previousSha256": previous_sha256,
    }
    return report


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
    """The whole report in one step (``draft_report`` then ``finish_report``)."""
    draft = draft_report(
        report_id=report_id,
        trigger=trigger,
        account=account,
        region=region,
        environment_suffix=environment_suffix,
        collection=collection,
    )
    return finish_report(
        draft,
        generated_at=generated_at,
        sequence=sequence,
        previous_key=previous_key,
        previous_sha256=previous_sha256,
    )
