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

from compliance_report import environment as var
from compliance_report import metrics
from compliance_report.clients import Clients
from compliance_report.errors import (
    AlertPublishFailed,
    ChainCorrupted,
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
    """Clients are built once per execution environment (and per endpoint, which tests change); their
    connections outlive the invocation, their retry quotas do not."""
    cache_key = (settings.region, os.environ.get("AWS_ENDPOINT_URL", ""), settings.max_attempts)
    if cache_key not in _CLIENTS:
        _CLIENTS[cache_key] = Clients(settings.region, settings.max_attempts)
    clients = _CLIENTS[cache_key]
    clients.renew_retry_budgets()  # each run starts with a full retry quota, warm clients or not
    return clients


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
    if result.notes:
        fields["notes"] = list(result.notes)
    return fields


def _one_line(error: BaseException) -> str:
    lines = str(error).splitlines()
    return (lines[0] if lines else type(error).__name__)[:1000]


def _failure(outcome: str, error: BaseException) -> dict[str, Any]:
    return {"outcome": outcome, "error": _one_line(error), "errorType": type(error).__name__}


def _run(
    trigger: Trigger, settings: Settings, context: Any, base: dict[str, Any]
) -> dict[str, Any]:
    """One run: whatever happens, one log line and one set of metrics; a failure is raised again."""
    started = time.monotonic()
    fields = dict(base)
    fields.update(
        {"triggerType": trigger.type, "triggerId": trigger.id, "reportId": trigger.report_id}
    )
    by_rule: dict[str, int] | None = None
    errors = stored = corrupted = 0
    level, message = logging.ERROR, "report generation failed"
    try:
        deadline = Deadline.from_remaining(
            context.get_remaining_time_in_millis(), settings.store_reserve_ms
        )
        result = generate(trigger, settings, _clients(settings), _account(context), deadline)
        by_rule, errors, stored = (
            result.non_compliant_by_rule,
            result.error_count,
            result.reports_stored,
        )
        fields.update(_result_fields(result))
        level, message = logging.INFO, f"report {result.outcome}: {result.key}"
        return fields
    except AlertPublishFailed as e:
        if isinstance(e, AlertFailedAfterStore):
            by_rule, errors = e.result.non_compliant_by_rule, e.result.error_count
            stored = e.result.reports_stored
            fields.update(_result_fields(e.result))
        errors += 1
        fields.update(_failure("alert-failed", e))
        message = "report stored but alert failed"
        raise
    except ReportGeneratorError as e:
        errors += 1
        stored = 1 if e.stored_key else 0
        corrupted = 1 if isinstance(e, ChainCorrupted) else 0
        fields.update(_failure("chain-corrupted" if corrupted else "failed", e))
        if e.stored_key:
            fields["reportKey"] = e.stored_key
        raise
    except Exception as e:
        # Not one of the generator's own errors: a defect, still logged and counted like a failure.
        errors += 1
        fields.update(_failure("failed", e))
        message = "report generation failed unexpectedly"
        raise
    finally:
        fields["durationMs"] = round((time.monotonic() - started) * 1000, 1)
        log_run(level, message, fields)
        metrics.emit(
            metrics.run_documents(
                namespace=settings.metrics_namespace,
                environment=settings.environment_suffix,
                non_compliant_by_rule=by_rule,
                errors=errors,
                reports_stored=stored,
                chain_corrupted=corrupted,
                duration_ms=(time.monotonic() - started) * 1000,
                now_ms=int(time.time() * 1000),
            )
        )


def _misconfigured(error: SettingsError, base: dict[str, Any]) -> None:
    """The settings could not be read: the line, and the error metric under the names the variables
    give, as far as they are readable (the namespace has a default)."""
    log_run(
        logging.ERROR, "report generator misconfigured", dict(base, **_failure("failed", error))
    )
    metrics.emit(
        metrics.failure_documents(
            namespace=os.environ.get(var.METRICS_NAMESPACE, "").strip()
            or var.DEFAULT_METRICS_NAMESPACE,
            environment=os.environ.get(var.ENVIRONMENT_SUFFIX, "").strip() or "(unset)",
            now_ms=int(time.time() * 1000),
        )
    )


def handler(event: Any, context: Any) -> dict[str, Any]:
    request_id = getattr(context, "aws_request_id", "") or ""
    base = {"requestId": request_id}
    try:
        settings = load_settings(os.environ)
    except SettingsError as e:
        _misconfigured(e, base)
        raise
    try:
        invocation = parse_invocation(event, request_id, datetime.now(timezone.utc))
    except UnrecognisedEvent as e:
        # Not retried: raising would make the platform redeliver an event that can never succeed.
        log_run(logging.WARNING, "event ignored", dict(base, outcome="ignored", reason=str(e)))
        return {"status": "ignored", "reason": str(e)}
    except Exception as e:
        # A defect in recognising the event: fail (the platform retries, then dead-letters it).
        log_run(logging.ERROR, "event could not be read", dict(base, **_failure("failed", e)))
        metrics.emit(
            metrics.failure_documents(
                namespace=settings.metrics_namespace,
                environment=settings.environment_suffix,
                now_ms=int(time.time() * 1000),
            )
        )
        raise
    if invocation.trigger is not None:
        return _run(invocation.trigger, settings, context, base)

    results: list[dict[str, Any]] = []
    failures: list[Exception] = []
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
        except Exception as e:  # logged and counted by _run; raised once every record has run
            failures.append(e)
    if failures:
        # The run's own error, unchanged (its log line names the message): the whole batch fails,
        # which the stack's batch size of 1 makes one message.
        raise failures[0]
    # Every record succeeded or was ignored. The empty list keeps ReportBatchItemFailures mappings exact.
    return {"status": "ok", "records": results, "batchItemFailures": []}
