"""Lambda entry point of the report generator: recognise the trigger, run the generator, log and measure.

Kept thin on purpose; the work is in ``compliance_report``. One structured JSON log line and one set of
EMF metrics per run. SQS deliveries (batch size 1 in the stack) report failure by raising: the message
returns to the FIFO queue, is retried, and ends in the queue's dead-letter queue. Raising for a batch is
safe even with several records, because a retried trigger never produces a second report.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from datetime import datetime, timezone
from typing import Any

from compliance_report import metrics
from compliance_report.clients import Clients
from compliance_report.errors import (
    AlertPublishFailed,
    ReportGeneratorError,
    SettingsError,
    UnrecognisedEvent,
)
from compliance_report.generator import AlertFailedAfterStore, Deadline, RunResult, generate
from compliance_report.settings import Settings, load_settings
from compliance_report.timefmt import utc_z
from compliance_report.triggers import Trigger, parse_invocation

LOGGER = logging.getLogger("compliance_report")
LOGGER.setLevel(logging.INFO)
_CLIENTS: dict[tuple[str, str, int], Clients] = {}


def _clients(settings: Settings) -> Clients:
    """Clients are built once per execution environment (and per endpoint, which tests change)."""
    cache_key = (settings.region, os.environ.get("AWS_ENDPOINT_URL", ""), settings.max_attempts)
    if cache_key not in _CLIENTS:
        _CLIENTS[cache_key] = Clients(settings.region, settings.max_attempts)
    return _CLIENTS[cache_key]


def log_run(level: int, message: str, fields: dict[str, Any]) -> None:
    """One structured line. Under Lambda's JSON log format the runtime adds the fields to its JSON record;
    otherwise (Text format, local runs) the same record is written as one JSON line to stdout."""
    if os.environ.get("AWS_LAMBDA_LOG_FORMAT", "").upper() == "JSON":
        LOGGER.log(level, message, extra=fields)
        return
    record = {
        "timestamp": utc_z(datetime.now(timezone.utc)),
        "level": logging.getLevelName(level),
        "logger": LOGGER.name,
        "message": message,
    }
    record.update(fields)
    sys.stdout.write(json.dumps(record, sort_keys=True, default=str) + "\n")
    sys.stdout.flush()


def _account(context: Any) -> str:
    arn = getattr(context, "invoked_function_arn", "") or ""
    parts = arn.split(":")
    if len(parts) < 7 or not parts[4].isdigit() or len(parts[4]) != 12:
        raise SettingsError(
            f"context.invoked_function_arn {arn!r} does not name a 12-digit account"
        )
    return parts[4]


def _result_fields(result: RunResult) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "outcome": result.outcome,
        "reportId": result.report_id,
        "reportKey": result.key,
        "sequence": result.sequence,
        "sha256": result.sha256,
        "complete": result.complete,
        "totalNonCompliant": result.total_non_compliant,
        "monitoringHealthy": result.monitoring_healthy,
        "alert": result.alert,
        "errorCount": result.error_count,
        "apiCalls": result.api_calls,
    }
    if result.phases is not None:
        fields["phases"] = result.phases
    return fields


def _run(
    trigger: Trigger, settings: Settings, context: Any, base: dict[str, Any]
) -> dict[str, Any]:
    started = time.monotonic()
    fields = dict(base)
    fields.update(
        {"triggerType": trigger.type, "triggerId": trigger.id, "reportId": trigger.report_id}
    )
    by_rule: dict[str, int] | None = None
    errors = 0
    try:
        deadline = Deadline.from_remaining(
            context.get_remaining_time_in_millis(), settings.store_reserve_ms
        )
        result = generate(trigger, settings, _clients(settings), _account(context), deadline)
        by_rule, errors = result.non_compliant_by_rule, result.error_count
        fields.update(_result_fields(result))
        fields["durationMs"] = round((time.monotonic() - started) * 1000, 1)
        log_run(logging.INFO, f"report {result.outcome}: {result.key}", fields)
        return fields
    except AlertPublishFailed as e:
        if isinstance(e, AlertFailedAfterStore):
            by_rule, errors = e.result.non_compliant_by_rule, e.result.error_count
            fields.update(_result_fields(e.result))
        errors += 1
        fields.update({"outcome": "alert-failed", "error": str(e), "errorType": type(e).__name__})
        fields["durationMs"] = round((time.monotonic() - started) * 1000, 1)
        log_run(logging.ERROR, "report stored but alert failed", fields)
        raise
    except ReportGeneratorError as e:
        errors += 1
        fields.update({"outcome": "failed", "error": str(e), "errorType": type(e).__name__})
        fields["durationMs"] = round((time.monotonic() - started) * 1000, 1)
        log_run(logging.ERROR, "report generation failed", fields)
        raise
    finally:
        metrics.emit(
            metrics.run_documents(
                namespace=settings.metrics_namespace,
                environment=settings.environment_suffix,
                non_compliant_by_rule=by_rule,
                errors=errors,
                duration_ms=(time.monotonic() - started) * 1000,
                now_ms=int(time.time() * 1000),
            )
        )


def handler(event: Any, context: Any) -> dict[str, Any]:
    request_id = getattr(context, "aws_request_id", "") or ""
    base = {"requestId": request_id}
    try:
        settings = load_settings(os.environ)
    except SettingsError as e:
        log_run(
            logging.ERROR,
            "report generator misconfigured",
            dict(base, outcome="failed", error=str(e)),
        )
        raise
    try:
        invocation = parse_invocation(event, request_id, datetime.now(timezone.utc))
    except UnrecognisedEvent as e:
        # Not retried: raising would make the platform redeliver an event that can never succeed.
        log_run(logging.WARNING, "event ignored", dict(base, outcome="ignored", reason=str(e)))
        return {"status": "ignored", "reason": str(e)}
    if invocation.trigger is not None:
        return _run(invocation.trigger, settings, context, base)

    results, failures = [], []
    for record in invocation.records:
        record_base = dict(base, messageId=record.message_id)
        if record.trigger is None:
            log_run(
                logging.WARNING,
                "queue message ignored",
                dict(record_base, outcome="ignored", reason=record.rejection),
            )
            results.append(
                {"messageId": record.message_id, "outcome": "ignored", "reason": record.rejection}
            )
            continue
        try:
            results.append(_run(record.trigger, settings, context, record_base))
        except ReportGeneratorError as e:
            failures.append((record.message_id, e))
    if failures:
        message_id, error = failures[0]
        raise error.__class__(f"queue message {message_id}: {error}") from error
    # Every record succeeded or was ignored; failures raised above (the whole batch, which the stack's
    # batch size of 1 makes one message). The empty list keeps ReportBatchItemFailures mappings exact.
    return {"status": "ok", "records": results, "batchItemFailures": []}
