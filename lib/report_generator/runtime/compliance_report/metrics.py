"""CloudWatch metrics in embedded metric format (EMF), written as JSON lines to stdout.

Lambda sends stdout to CloudWatch Logs, which extracts the metrics. EMF lines go to stdout directly rather
than through ``logging``: with Lambda's JSON log format a logging record is wrapped in a ``message`` field,
and a wrapped EMF document is no longer recognised.
"""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO


def _document(
    namespace: str,
    dimensions: dict[str, str],
    metrics: dict[str, Any],
    units: dict[str, str],
    now_ms: int,
) -> dict[str, Any]:
    doc: dict[str, Any] = {
        "_aws": {
            "Timestamp": now_ms,
            "CloudWatchMetrics": [
                {
                    "Namespace": namespace,
                    "Dimensions": [sorted(dimensions)],
                    "Metrics": [{"Name": name, "Unit": units[name]} for name in sorted(metrics)],
                }
            ],
        }
    }
    doc.update(dimensions)
    doc.update(metrics)
    return doc


def run_documents(
    *,
    namespace: str,
    environment: str,
    non_compliant_by_rule: dict[str, int] | None,
    errors: int,
    duration_ms: float,
    now_ms: int,
) -> list[dict[str, Any]]:
    """NonCompliantResources per rule (when a report was built), ReportGenerationErrors, ReportDurationMs."""
    docs = []
    for rule, count in sorted((non_compliant_by_rule or {}).items()):
        docs.append(
            _document(
                namespace,
                {"Environment": environment, "Rule": rule},
                {"NonCompliantResources": count},
                {"NonCompliantResources": "Count"},
                now_ms,
            )
        )
    docs.append(
        _document(
            namespace,
            {"Environment": environment},
            {"ReportGenerationErrors": errors, "ReportDurationMs": round(duration_ms, 1)},
            {"ReportGenerationErrors": "Count", "ReportDurationMs": "Milliseconds"},
            now_ms,
        )
    )
    return docs


def failure_documents(*, namespace: str, environment: str, now_ms: int) -> list[dict[str, Any]]:
    """A failure before any run could start (unreadable settings or event): ReportGenerationErrors 1."""
    return [
        _document(
            namespace,
            {"Environment": environment},
            {"ReportGenerationErrors": 1},
            {"ReportGenerationErrors": "Count"},
            now_ms,
        )
    ]


def emit(docs: list[dict[str, Any]], stream: TextIO | None = None) -> None:
    out = stream or sys.stdout
    for doc in docs:
        out.write(json.dumps(doc, sort_keys=True, separators=(",", ":")) + "\n")
    out.flush()
