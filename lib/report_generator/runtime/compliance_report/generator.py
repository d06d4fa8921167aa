"""One run of the report generator for one trigger: collect, claim, store, commit, alert.

Order matters and is the reliability story (each step is covered by tests/integration):

1. In parallel: the trigger record (was this trigger already reported?), the chain head, and every Config
   read. A trigger that already has a report stops here (no second report); only a still-pending alert is
   re-sent.
2. Wait for the reads until the deadline minus a reserve for storing; unfinished reads become
   ``deadline`` errors and the report is stored incomplete rather than the function being killed mid-write.
3. Claim the next sequence (compare-and-swap on the chain head) while the report is built from the reads
   (all but generatedAt and chain, which the claim decides), then store it write-once.
   A failed store releases the claim and fails the invocation, so the platform retries it.
4. Publish the alert (if the report has findings, monitoring problems or errors) while the trigger record
   is written; then commit the chain head, and, once the alert is out, mark it sent in the trigger record
   at the same time. A failed publish leaves the report in place and fails the invocation; the retry finds
   the report and sends only the alert.
"""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from botocore.exceptions import BotoCoreError, ClientError

from . import alert
from .chain import LEASE_MARGIN, ChainStore, Claim, Stored
from .clients import Clients
from .collect import Collector
from .errors import AlertPublishFailed, ReportWriteFailed
from .report import draft_report, finish_report, report_bytes
from .settings import Settings
from .triggers import Trigger

MIN_RESERVE_MS = 2_000
MAX_RESERVE_MS = 30_000


@dataclass
class Deadline:
    """When the Lambda will be stopped (monotonic clock), from ``get_remaining_time_in_millis``."""

    started: float
    ends: float
    reserve_s: float

    @staticmethod
    def from_remaining(remaining_ms: int, reserve_ms: int | None = None) -> Deadline:
        now = time.monotonic()
        if reserve_ms is None:
            # A fifth of the run, within [2 s, 30 s]: enough for the claim, two PUTs and a publish with
            # a few botocore retries each.
            reserve_ms = int(min(MAX_RESERVE_MS, max(MIN_RESERVE_MS, remaining_ms * 0.2)))
        return Deadline(now, now + remaining_ms / 1000.0, reserve_ms / 1000.0)

    def remaining_s(self) -> float:
        return self.ends - time.monotonic()

    def collect_timeout_s(self) -> float:
        return self.ends - self.reserve_s - time.monotonic()

    def claim_give_up_at(self) -> float:
        return self.ends - self.reserve_s / 2


@dataclass
class RunResult:
    outcome: str  # "stored" | "duplicate"
    report_id: str
    key: str
    sequence: int
    sha256: str
    complete: bool
    total_non_compliant: int
    monitoring_healthy: bool
    alert: str  # "sent" | "not-needed" | "already-sent"
    non_compliant_by_rule: dict[str, int] | None
    error_count: int
    api_calls: int
    fields: dict[str, Any] = field(default_factory=dict)


class AlertFailedAfterStore(AlertPublishFailed):
    def __init__(self, message: str, result: RunResult) -> None:
        super().__init__(message)
        self.result = result


def _publish(clients: Clients, settings: Settings, report: dict[str, Any], key: str) -> None:
    alert.publish(
        clients.sns, settings.topic_arn, report, settings.bucket, key, settings.alert_max_resources
    )


def _finish_duplicate(
    store: ChainStore, clients: Clients, settings: Settings, stored: Stored, alert_state: str
) -> RunResult:
    """The trigger already has a report: never write another, only re-send an alert that never went out."""
    sent = "already-sent" if alert_state == "sent" else "not-needed"
    report = json.loads(store.read_report(stored.claim.key))
    if alert_state == "pending" and alert.needs_alert(report):
        try:
            _publish(clients, settings, report, stored.claim.key)
        except (ClientError, BotoCoreError) as e:
            raise AlertPublishFailed(
                f"report {stored.claim.key} is stored but its alert failed again: {e}"
            ) from e
        store.record_trigger(stored, "sent")
        sent = "sent"
    return RunResult(
        "duplicate",
        report["reportId"],
        stored.claim.key,
        stored.claim.sequence,
        stored.sha256,
        report["complete"],
        report["summary"]["totalNonCompliant"],
        report["monitoring"]["healthy"],
        sent,
        None,
        0,
        store.api_calls,
    )


def generate(
    trigger: Trigger,
    settings: Settings,
    clients: Clients,
    account: str,
    deadline: Deadline,
    clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
) -> RunResult:
    report_id = trigger.report_id
    store = ChainStore(
        clients.s3, settings.bucket, settings.report_prefix, settings.chain_prefix, clock=clock
    )
    stop = threading.Event()
    collector = Collector(clients.config, settings.rules, stop)
    pool = ThreadPoolExecutor(max_workers=2 * len(settings.rules) + 8, thread_name_prefix="report")
    try:
        known = pool.submit(store.find_trigger, report_id)
        head = pool.submit(store.read_head)
        collector.start(pool)

        record = known.result()
        if record is not None:
            stop.set()
            claim = Claim(record["sequence"], record["key"], report_id, clock(), clock(), None)
            return _finish_duplicate(
                store, clients, settings, Stored(claim, record["sha256"]), record["alert"]
            )

        phases: dict[str, float] = {}
        mark = time.monotonic()

        def phase(name: str) -> None:
            nonlocal mark
            now = time.monotonic()
            phases[name] = round((now - mark) * 1000, 1)
            mark = now

        budget_ms = int(max(0.0, deadline.collect_timeout_s()) * 1000)
        collection = collector.finish(deadline.collect_timeout_s(), budget_ms)
        lease = clock() + timedelta(seconds=max(0.0, deadline.remaining_s())) + LEASE_MARGIN
        phase("collectMs")
        claiming = pool.submit(
            store.claim, report_id, lease, deadline.claim_give_up_at(), head.result()
        )
        # Everything but generatedAt and chain, serialised while the claim is in flight.
        draft = draft_report(
            report_id=report_id,
            trigger=trigger,
            account=account,
            region=settings.region,
            environment_suffix=settings.environment_suffix,
            collection=collection,
        )
        claimed = claiming.result()
        phase("claimMs")
        if isinstance(claimed, Stored):
            found = store.find_trigger(report_id) or {}
            return _finish_duplicate(
                store, clients, settings, claimed, found.get("alert", "pending")
            )

        report = finish_report(
            draft,
            generated_at=claimed.generated_at,
            sequence=claimed.sequence,
            previous_key=None if claimed.previous is None else claimed.previous.key,
            previous_sha256=None if claimed.previous is None else claimed.previous.sha256,
        )
        body = report_bytes(report, draft.encoded)
        phase("buildMs")
        stored = store.write_report(claimed, body)
        phase("storeMs")

        wants_alert = alert.needs_alert(report)
        published = (
            pool.submit(_publish, clients, settings, report, claimed.key) if wants_alert else None
        )
        # The trigger record first (while the alert is published), then the head; marking the alert
        # sent only touches the trigger record, so it goes out together with the head's swap.
        store.record_trigger(stored, "pending" if wants_alert else "not-needed")
        committing = pool.submit(store.commit_head, stored)
        marking = None
        alert_error: Exception | None = None
        if published is not None:
            try:
                published.result()
            except (ClientError, BotoCoreError) as e:
                alert_error = e
            else:
                marking = pool.submit(store.record_trigger, stored, "sent")
        try:
            committing.result()
        finally:
            if marking is not None:
                wait([marking])
        phase("commitMs")
        if marking is not None:
            marking.result()
        result = RunResult(
            "stored",
            report_id,
            claimed.key,
            claimed.sequence,
            stored.sha256,
            report["complete"],
            report["summary"]["totalNonCompliant"],
            report["monitoring"]["healthy"],
            "sent" if wants_alert else "not-needed",
            dict(report["summary"]["byRule"]),
            len(report["errors"]),
            collection.api_calls + store.api_calls + (1 if wants_alert else 0),
        )
        if alert_error is not None:
            result.alert = "failed"
            raise AlertFailedAfterStore(
                f"report {claimed.key} is stored but publishing its alert to {settings.topic_arn} "
                f"failed: {alert_error}",
                result,
            ) from alert_error
        result.fields["phases"] = phases
        return result
    except (ClientError, BotoCoreError) as e:
        raise ReportWriteFailed(
            f"run for report {report_id} failed before its report was committed: {e}"
        ) from e
    finally:
        stop.set()
        pool.shutdown(wait=False, cancel_futures=True)
