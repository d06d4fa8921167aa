"""One run of the report generator for one trigger: collect, claim, store, commit, alert.

Order matters and is the reliability story (each step is covered by tests/integration); each numbered step
is one method of ``_Run``:

1. ``start_reads``: in parallel, the trigger record (was this trigger already reported?), the chain head,
   and every Config read. A trigger that already has a report stops here (no second report); only a
   still-pending alert is re-sent (``finish_duplicate``).
2. ``collect``: wait for the reads until the deadline minus a reserve for storing; unfinished reads become
   ``deadline`` errors and the report is stored incomplete rather than the function being killed
   mid-write.
3. ``claim_while_drafting``: claim the next sequence (compare-and-swap on the chain head) while the report
   is built and serialised from the reads (all but generatedAt and chain, which the claim decides); then
   ``store`` writes it once. A failed store releases the claim and fails the invocation, so the platform
   retries it.
4. ``alert_and_commit``: publish the alert (if the report has findings, monitoring problems or errors)
   while the trigger record is written; then commit the chain head, and, once the alert is out, mark it
   sent in the trigger record at the same time. A failed publish leaves the report in place and fails the
   invocation; the retry finds the report and sends only the alert.
"""

from __future__ import annotations

import json
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Callable

from botocore.exceptions import BotoCoreError, ClientError

from . import alert
from .chain import LEASE_MARGIN, ChainStore, Claim, Head, Stored, TriggerRecord
from .clients import Clients
from .collect import Collection, Collector
from .errors import AlertPublishFailed, OutOfTime, ReportGeneratorError, ReportWriteFailed
from .model import ChainPosition, Report
from .report import Draft, report_content
from .settings import Settings
from .timebox import Timebox
from .timefmt import utc_z
from .triggers import Trigger

MIN_RESERVE_MS = 2_000
MAX_RESERVE_MS = 30_000
# The end of a run, after its AWS calls: releasing a claim if the work ran out of time (a quarter of the
# reserve, within [0.5 s, 5 s]), and then the log line, the metrics and returning (FINISH_S).
MIN_CLEANUP_S = 0.5
MAX_CLEANUP_S = 5.0
FINISH_S = 0.25
# Threads for the AWS calls of the chain and the alert (timebox.py); at most four run at once (trigger
# record and head reads; or the alert, the trigger record, the head and the alert's mark), and a call
# abandoned at its window's end keeps its thread until botocore gives up on it.
AWS_CALL_WORKERS = 8


@dataclass(frozen=True)
class Deadline:
    """When the Lambda will be stopped (monotonic clock), from ``get_remaining_time_in_millis``."""

    ends: float
    reserve_s: float

    @staticmethod
    def from_remaining(remaining_ms: int, reserve_ms: int | None = None) -> Deadline:
        now = time.monotonic()
        if reserve_ms is None:
            # A fifth of the run, within [2 s, 30 s]: enough for the claim, two PUTs and a publish with
            # a few botocore retries each.
            reserve_ms = int(min(MAX_RESERVE_MS, max(MIN_RESERVE_MS, remaining_ms * 0.2)))
        return Deadline(now + remaining_ms / 1000.0, reserve_ms / 1000.0)

    def remaining_s(self) -> float:
        return self.ends - time.monotonic()

    def collect_timeout_s(self) -> float:
        return self.ends - self.reserve_s - time.monotonic()

    def claim_give_up_at(self) -> float:
        return self.ends - self.reserve_s / 2

    def cleanup_s(self) -> float:
        return min(MAX_CLEANUP_S, max(MIN_CLEANUP_S, self.reserve_s / 4))

    def calls_until(self) -> float:
        """No AWS call of the run's work (chain, report, alert) may run past this instant."""
        return self.ends - self.cleanup_s()

    def cleanup_until(self) -> float:
        """Releasing a claim after the work ran out of time may run until this instant."""
        return self.ends - FINISH_S


@dataclass(frozen=True)
class RunResult:
    outcome: str  # "stored" | "duplicate"
    report_id: str
    key: str
    sequence: int
    sha256: str
    complete: bool
    total_non_compliant: int
    monitoring_healthy: bool
    alert: str  # "sent" | "not-needed" | "already-sent" | "failed"
    # Per rule read in full (an incomplete rule's count is partial); None: this run built no report.
    non_compliant_by_rule: dict[str, int] | None
    error_count: int
    api_calls: int
    phases: dict[str, float] | None = None  # milliseconds per step of a stored run

    @property
    def reports_stored(self) -> int:
        """1 when this run wrote the report object (a duplicate found one already stored)."""
        return 1 if self.outcome == "stored" else 0


class AlertFailedAfterStore(AlertPublishFailed):
    def __init__(self, message: str, result: RunResult) -> None:
        super().__init__(message)
        self.result = result


class _Phases:
    """Milliseconds between marks, for the run's log line."""

    def __init__(self) -> None:
        self.spent: dict[str, float] = {}
        self._mark = time.monotonic()

    def mark(self, name: str) -> None:
        now = time.monotonic()
        self.spent[name] = round((now - self._mark) * 1000, 1)
        self._mark = now


class _Run:
    """The state one run shares between its steps: clients, chain store, reads and the thread pool."""

    def __init__(
        self,
        trigger: Trigger,
        settings: Settings,
        clients: Clients,
        account: str,
        deadline: Deadline,
        clock: Callable[[], datetime],
    ) -> None:
        self.trigger = trigger
        self.settings = settings
        self.clients = clients
        self.account = account
        self.deadline = deadline
        self.clock = clock
        self.aws_calls = ThreadPoolExecutor(
            max_workers=AWS_CALL_WORKERS, thread_name_prefix="aws-call"
        )
        self.calls = Timebox(deadline.calls_until(), self.aws_calls)
        self.store = ChainStore(
            clients.s3,
            settings.bucket,
            settings.report_prefix,
            settings.chain_prefix,
            clock=clock,
            calls=self.calls,
            cleanup=Timebox(deadline.cleanup_until(), self.aws_calls),
        )
        self.stop = threading.Event()
        self.collector = Collector(clients.config, settings.rules, self.stop)
        self.pool = ThreadPoolExecutor(
            max_workers=2 * len(settings.rules) + 8, thread_name_prefix="report"
        )
        self.phases = _Phases()
        self.stored: Stored | None = None  # the report object this run wrote, once written

    def close(self) -> None:
        self.stop.set()
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.aws_calls.shutdown(wait=False, cancel_futures=True)

    def execute(self) -> RunResult:
        record, head = self.start_reads()
        if record is not None:
            self.stop.set()
            now = self.clock()
            claim = Claim(record.sequence, record.key, record.report_id, now, now, None)
            return self.finish_duplicate(Stored(claim, record.sha256), record.alert)
        self.phases = _Phases()
        collection = self.collect()
        claimed, draft = self.claim_while_drafting(head, collection)
        if isinstance(claimed, Stored):
            found = self.store.find_trigger(self.trigger.report_id)
            return self.finish_duplicate(claimed, found.alert if found else "pending")
        report, stored = self.store_report(claimed, draft)
        return self.alert_and_commit(report, stored, collection)

    # 1 -----------------------------------------------------------------------------------------------
    def start_reads(self) -> tuple[TriggerRecord | None, Future[Head]]:
        known = self.pool.submit(self.store.find_trigger, self.trigger.report_id)
        head = self.pool.submit(self.store.read_head)
        self.collector.start(self.pool)
        return known.result(), head

    def finish_duplicate(self, stored: Stored, alert_state: str) -> RunResult:
        """The trigger already has a report: never write another, only re-send an alert that never
        went out."""
        sent = "already-sent" if alert_state == "sent" else "not-needed"
        report = Report.from_json(json.loads(self.store.read_report(stored.claim.key)))
        if alert_state == "pending" and alert.needs_alert(report):
            try:
                self._publish(report, stored.claim.key)
            except (ClientError, BotoCoreError, OutOfTime) as e:
                raise AlertPublishFailed(
                    f"report {stored.claim.key} is stored but its alert failed again: {e}"
                ) from e
            self.store.record_trigger(stored, "sent")
            sent = "sent"
        return _result("duplicate", report, stored, sent, self.store.api_calls, built=False)

    # 2 -----------------------------------------------------------------------------------------------
    def collect(self) -> Collection:
        budget_ms = int(max(0.0, self.deadline.collect_timeout_s()) * 1000)
        return self.collector.finish(self.deadline.collect_timeout_s(), budget_ms)

    # 3 -----------------------------------------------------------------------------------------------
    def claim_while_drafting(
        self, head: Future[Head], collection: Collection
    ) -> tuple[Claim | Stored, Draft]:
        remaining = timedelta(seconds=max(0.0, self.deadline.remaining_s()))
        lease = self.clock() + remaining + LEASE_MARGIN
        self.phases.mark("collectMs")
        claiming = self.pool.submit(
            self.store.claim,
            self.trigger.report_id,
            lease,
            self.deadline.claim_give_up_at(),
            head.result(),
        )
        draft = Draft(
            report_content(
                report_id=self.trigger.report_id,
                trigger=self.trigger,
                account=self.account,
                region=self.settings.region,
                environment_suffix=self.settings.environment_suffix,
                collection=collection,
            )
        )
        claimed = claiming.result()
        self.phases.mark("claimMs")
        return claimed, draft

    def store_report(self, claimed: Claim, draft: Draft) -> tuple[Report, Stored]:
        previous = claimed.previous
        report, body = draft.finish(
            utc_z(claimed.generated_at),
            ChainPosition(
                claimed.sequence,
                None if previous is None else previous.key,
                None if previous is None else previous.sha256,
            ),
        )
        self.phases.mark("buildMs")
        stored = self.store.write_report(claimed, body)
        self.stored = stored
        self.phases.mark("storeMs")
        return report, stored

    # 4 -----------------------------------------------------------------------------------------------
    def alert_and_commit(self, report: Report, stored: Stored, collection: Collection) -> RunResult:
        wants_alert = alert.needs_alert(report)
        published = (
            self.pool.submit(self._publish, report, stored.claim.key) if wants_alert else None
        )
        # The trigger record first (while the alert is published), then the head; marking the alert
        # sent only touches the trigger record, so it goes out together with the head's swap.
        self.store.record_trigger(stored, "pending" if wants_alert else "not-needed")
        committing = self.pool.submit(self.store.commit_head, stored)
        marking: Future[None] | None = None
        alert_error: Exception | None = None
        if published is not None:
            try:
                published.result()
            except (ClientError, BotoCoreError, OutOfTime) as e:
                alert_error = e
            else:
                marking = self.pool.submit(self.store.record_trigger, stored, "sent")
        try:
            committing.result()
        finally:
            if marking is not None:
                wait([marking])
        self.phases.mark("commitMs")
        if marking is not None:
            marking.result()
        result = _result(
            "stored",
            report,
            stored,
            alert_state="failed" if alert_error else ("sent" if wants_alert else "not-needed"),
            api_calls=collection.api_calls + self.store.api_calls + (1 if wants_alert else 0),
            built=True,
            phases=None if alert_error else self.phases.spent,
        )
        if alert_error is not None:
            raise AlertFailedAfterStore(
                f"report {stored.claim.key} is stored but publishing its alert to "
                f"{self.settings.topic_arn} failed: {alert_error}",
                result,
            ) from alert_error
        return result

    def _publish(self, report: Report, key: str) -> None:
        settings = self.settings
        self.calls.run(
            f"Publish {settings.topic_arn}",
            alert.publish,
            self.clients.sns,
            settings.topic_arn,
            report,
            settings.bucket,
            key,
            settings.alert_max_resources,
        )


def _result(
    outcome: str,
    report: Report,
    stored: Stored,
    alert_state: str,
    api_calls: int,
    built: bool,
    phases: dict[str, float] | None = None,
) -> RunResult:
    """The run's result; ``built``: this run built the report (so its counts are this run's metrics)."""
    content = report.content
    return RunResult(
        outcome=outcome,
        report_id=content.report_id,
        key=stored.claim.key,
        sequence=stored.claim.sequence,
        sha256=stored.sha256,
        complete=content.complete,
        total_non_compliant=content.summary.total_non_compliant,
        monitoring_healthy=content.monitoring.healthy,
        alert=alert_state,
        non_compliant_by_rule=(
            {rule.name: rule.counts.non_compliant for rule in content.rules if rule.complete}
            if built
            else None
        ),
        error_count=len(content.errors) if built else 0,
        api_calls=api_calls,
        phases=phases,
    )


def generate(
    trigger: Trigger,
    settings: Settings,
    clients: Clients,
    account: str,
    deadline: Deadline,
    clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
) -> RunResult:
    run = _Run(trigger, settings, clients, account, deadline, clock)
    try:
        try:
            return run.execute()
        except (ClientError, BotoCoreError) as e:
            raise ReportWriteFailed(
                f"run for report {trigger.report_id} failed before its report was committed: {e}"
            ) from e
    except ReportGeneratorError as e:
        if run.stored is not None and e.stored_key is None:
            e.stored_key = run.stored.claim.key
        raise
    finally:
        run.close()
