"""Lambda entry point of the alert formatter: take a batch of EventBridge events from SQS (or one event
invoked directly), send the alerts, hand failed records back to the queue.

Kept thin on purpose; the work is in ``realtime_alerts.process``. One structured JSON log line per
invocation. The event source mappings use ``ReportBatchItemFailures``, so the answer names the records
to retry; a direct (asynchronous) invocation raises instead, so Lambda retries it and then keeps it in
the function's dead-letter queue.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from datetime import datetime, timezone
from typing import Any, Dict, List, Tuple

from realtime_alerts.clients import clients_for
from realtime_alerts.errors import PublishFailed, SettingsError
from realtime_alerts.process import Item, Outcome, process
from realtime_alerts.register import Register, for_environment
from realtime_alerts.settings import load_settings

LOGGER = logging.getLogger("realtime_alerts")
LOGGER.setLevel(logging.INFO)


def log(level: int, message: str, fields: Dict[str, Any]) -> None:
    """One structured line: under Lambda's JSON log format the fields join the runtime's JSON record;
    otherwise (Text format, local runs) the record is one JSON line on stdout."""
    if os.environ.get("AWS_LAMBDA_LOG_FORMAT", "").upper() == "JSON":
        LOGGER.log(level, message, extra=fields)
        return
    record = {
        "timestamp": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "level": logging.getLevelName(level),
        "logger": LOGGER.name,
        "message": message,
    }
    record.update(fields)
    sys.stdout.write(json.dumps(record, sort_keys=True, default=str) + "\n")
    sys.stdout.flush()


def _items(event: Any) -> Tuple[List[Item], bool]:
    """(items, from SQS?): SQS records carry the EventBridge event as JSON text in their body."""
    records = event.get("Records") if isinstance(event, dict) else None
    if isinstance(records, list):
        items: List[Item] = []
        for record in records:
            record_id = str(record.get("messageId", ""))
            try:
                items.append((record_id, json.loads(record.get("body") or "")))
            except ValueError:
                items.append((record_id, None))
        return items, True
    event_id = str(event.get("id", "direct")) if isinstance(event, dict) else "direct"
    return [(event_id, event)], False


def _fields(out: Outcome, records: int, register: Register) -> Dict[str, Any]:
    return {
        "records": records,
        "alertsSent": len(out.sent),
        "subjects": [alert.subject for alert, _ in out.sent],
        "changes": out.changes,
        "excepted": out.excepted,
        "exceptionsRegister": register.log_fields(),
        "digest": out.digest,
        "nameLookups": out.name_lookups,
        "nameError": out.name_error or None,
        "ignored": [{"record": r, "reason": why} for r, why in out.ignored],
        "failedRecords": out.failed,
        "errors": out.errors,
    }


def handler(event: Any, context: Any) -> Dict[str, Any]:
    request_id = getattr(context, "aws_request_id", "") or ""
    try:
        settings = load_settings(os.environ)
    except SettingsError as e:
        log(
            logging.ERROR,
            "alert formatter misconfigured",
            {"requestId": request_id, "error": str(e)},
        )
        raise
    items, from_queue = _items(event)
    register = for_environment(os.environ)
    if register.problem is not None:
        log(
            logging.ERROR,
            "exceptions register unusable: no finding suppressed",
            {"requestId": request_id, "key": register.key, "error": register.problem},
        )
    clients = clients_for(settings.region)
    out = process(items, settings, clients.config, clients.sns, register)
    fields = dict(_fields(out, len(items), register), requestId=request_id)
    log(logging.ERROR if out.failed else logging.INFO, "alerts sent", fields)
    if not from_queue and out.failed:
        raise PublishFailed(f"event {items[0][0]}: {'; '.join(out.errors)}")
    return {
        "alertsSent": len(out.sent),
        "batchItemFailures": [{"itemIdentifier": r} for r in out.failed],
    }
