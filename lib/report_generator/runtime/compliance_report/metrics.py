"""CloudWatch metrics in embedded metric format (EMF), written as JSON lines to stdout.

Lambda sends stdout to CloudWatch Logs, which extracts the metrics. EMF lines go to stdout directly rather
than through ``logging``: with Lambda's JSON log format a logging record is wrapped in a ``message`` field,
and a wrapped EMF document is no longer recognised.

The metric names are defined here once; the stack's alarms import them (standard library only, so the
CDK app can). Per run, dimension Environment unless said otherwise:

* ``ReportsStored``: 1 when this run wrote a report object (also when its alert or its commit failed
  afterwards: the report is in the trail, or is rolled forward into it by the next run), else 0 — a
  failed run, and a repeated trigger whose report already exists, store nothing new. What the "no report
  in 24 hours" alarm must count: the sum over a day is the reports stored that day.
* ``ReportGenerationErrors``: the report's ``errors[]`` entries, plus 1 when the run failed.
* ``ReportDurationMs``: the run's duration, every run.
* ``ChainCorrupted``: 1 when the run refused to extend the trail because the trail, the head or a
  witness shows deleted or rewritten reports (``errors.ChainCorrupted``), else 0. The stack's alarm on
  it points at the README runbook ("The chain is corrupted").
* ``NonCompliantResources`` (dimensions Environment, Rule): per rule *read in full* by this run. A rule
  whose read was cut short gets no data point that day rather than a partial count that would look like
  resolved findings; a CloudWatch metric has no per-datapoint flag, and a third dimension would start a
  separate metric that the existing graphs do not show, so leaving the point out is the honest signal.
"""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO

NON_COMPLIANT_RESOURCES = "NonCompliantResources"
REPORT_GENERATION_ERRORS = "ReportGenerationErrors"
REPORT_DURATION_MS = "ReportDurationMs"
REPORTS_STORED = "ReportsStored"
CHAIN_CORRUPTED = "ChainCorrupted"


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
    reports_stored: int = 0,
    chain_corrupted: int = 0,
) -> list[dict[str, Any]]:
    """NonCompliantResources per rule read in full (``non_compliant_by_rule``, None when this run built
    no report), then ReportGenerationErrors, ReportsStored (``reports_stored``: 1 when the run wrote a
    report object, else 0), ChainCorrupted (1 when the run refused a corrupted trail) and
    ReportDurationMs."""
    docs = []
    for rule, count in sorted((non_compliant_by_rule or {}).items()):
        docs.append(
            _document(
                namespace,
                {"Environment": environment, "Rule": rule},
                {NON_COMPLIANT_RESOURCES: count},
                {NON_COMPLIANT_RESOURCES: "Count"},
                now_ms,
            )
        )
    docs.append(
        _document(
            namespace,
            {"Environment": environment},
            {
                REPORT_GENERATION_ERRORS: errors,
                REPORTS_STORED: reports_stored,
                CHAIN_CORRUPTED: chain_corrupted,
                REPORT_DURATION_MS: round(duration_ms, 1),
            },
            {
                REPORT_GENERATION_ERRORS: "Count",
                REPORTS_STORED: "Count",
                CHAIN_CORRUPTED: "Count",
                REPORT_DURATION_MS: "Milliseconds",
            },
            now_ms,
        )
    )
    return docs


def failure_documents(*, namespace: str, environment: str, now_ms: int) -> list[dict[str, Any]]:
    """A failure before any run could start (unreadable settings or event): an error, no report."""
    return [
        _document(
            namespace,
            {"Environment": environment},
            {REPORT_GENERATION_ERRORS: 1, REPORTS_STORED: 0},
            {REPORT_GENERATION_ERRORS: "Count", REPORTS_STORED: "Count"},
            now_ms,
        )
    ]


def emit(docs: list[dict[str, Any]], stream: TextIO | None = None) -> None:
    out = stream or sys.stdout
    for doc in docs:
        out.write(json.dumps(doc, sort_keys=True, separators=(",", ":")) + "\n")
    out.flush()
