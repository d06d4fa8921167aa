"""One run of the report generator for one trigger: read the trail, collect, claim, store, alert, commit.

Order matters and is the reliability story (each step is covered by tests/integration); each numbered step
is one method of ``_Run``, and chain.py says why the chain cannot fork whatever order runs interleave in:

0. The exceptions register the function was deployed with (exceptions.py) is read from its layer and
   checked against its key; when it is unusable, the run stops before anything else.
1. ``start_reads``: in parallel, storing the register (unless the trigger already has a report), the
   trigger record (was this trigger already reported?), the chain head,
   the witness parameter, the listing of the trail, and every Config read; as soon as the first four are
   in, the newest report is read and hashed and checked against the head and the witness
   (``ChainStore.position``). A trigger that already has a report stops here (no second report); only a
   still-pending alert is re-sent (``finish_duplicate``).
2. ``collect``: wait for the reads until the deadline minus a reserve for storing; unfinished reads become
   ``deadline`` errors and the report is stored incomplete rather than the function being killed
   mid-write.
3. ``claim_while_drafting``: claim the next sequence (claim.py's per-sequence claim object) while the
   report is built and serialised from the reads (all but generatedAt and chain, which the claim
   decides; the exceptions are those in force on the run's UTC date, built again in the rare run
   whose claim dates the report on the next day), and it names the register object that step 1 stored
   (write-once, content-addressed) with its version id. Then ``store_report`` writes it once. A
   failed store releases the claim and fails the invocation, so the platform retries it.
4. ``alert_and_commit``: compare the report with the previous one (changes.py) and publish the alert
   while the trigger record is written; then move the head, publish the witness and, once the alert is
   out, mark it sent in the trigger record, all at once; last, release the claim (no run works on it
   any more). A failed publish leaves the report in place and fails the invocation; the retry finds the
   report and sends only the alert.
"""

from __future__ import annotations

import json
import random
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Any, Callable

from botocore.exceptions import BotoCoreError, ClientError

from . import alert, exceptions
from . import changes as changes_mod
from .chain import ChainStore, Position, Stored, lease_seconds
from .chain_records import Claim, Head, Link, TriggerRecord
from .clients import Clients
from .collect import Collection, Collector
from .errors import (
    AlertPublishFailed,
    ChainBusy,
    OutOfTime,
    ReportGeneratorError,
    ReportWriteFailed,
)
from .model import ChainPosition, Report
from .report import Draft, report_content
from .settings import Settings
from .timebox import Timebox
from .timefmt import utc_z
from .trail import TrailView
from .triggers import Trigger
from .witness import WitnessParameter

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
    # What the run found of the bookkeeping and the witness (a head behind the trail, a witness that
    # could not be written...): for its log line; none of it stopped the run.
    notes: tuple[str, ...] = field(default_factory=tuple)

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


@dataclass(frozen=True)
class _Reads:
    """What step 1 started: the trigger record, and the reads still in flight."""

    record: TriggerRecord | None
    head: Future[Head]
    view: Future[TrailView]
    witnessed: Future[tuple[Link | None, str | None]] | None
    position: Future[Position] | None
    register_version: Future[str | None] | None  # the stored register's version id


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
        self.witness = (
            WitnessParameter(clients.ssm, settings.witness_parameter)
            if settings.witness_parameter
            else None
        )
        self.stop = threading.Event()
        self.collector = Collector(clients.config, settings.rules, self.stop)
        self.pool = ThreadPoolExecutor(
            max_workers=2 * len(settings.rules) + 8, thread_name_prefix="report"
        )
        self.phases = _Phases()
        self.stored: Stored | None = None  # the report object this run wrote, once written
        self.register: exceptions.Register | None = None  # read by execute()
        self.notes: list[str] = []  # what the run found of the bookkeeping, for its log line

    def close(self) -> None:
        self.stop.set()
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.aws_calls.shutdown(wait=False, cancel_futures=True)

    def execute(self) -> RunResult:
        settings = self.settings
        if settings.exceptions_register_key and settings.exceptions_register_path:
            self.register = exceptions.load(
                settings.exceptions_register_path, settings.exceptions_register_key
            )
        reads = self.start_reads()
        if reads.record is not None:
            self.stop.set()
            # The trail's reads are not needed, but are let finish, so the run's figures (its AWS
            # calls) do not depend on how far they got.
            started: list[Future[Any]] = [reads.head, reads.view]
            wait(started + ([reads.witnessed] if reads.witnessed else []))
            record = reads.record
            now = self.clock()
            claim = Claim(record.sequence, record.key, record.report_id, now, None, 0)
            return self.finish_duplicate(Stored(claim, record.sha256), record)
        assert reads.position is not None  # read whenever the trigger has no record
        self.phases = _Phases()
        collection = self.collect()
        register = None
        if self.register is not None and reads.register_version is not None:
            register = self.register.ref(reads.register_version.result())
        claimed, draft = self.claim_while_drafting(reads.position, collection, register)
        if isinstance(claimed, Stored):
            found = self.store.find_trigger(self.trigger.report_id)
            return self.finish_duplicate(claimed, found)
        report, stored = self.store_report(claimed, draft)
        return self.alert_and_commit(report, stored, collection, reads.head.result())

    # 1 -----------------------------------------------------------------------------------------------
    def start_reads(self) -> _Reads:
        """The trigger record, and futures of the head, the trail, the witness and the trail's
        position (none when the trigger record exists: such a run writes nothing)."""
        known = self.pool.submit(self.store.find_trigger, self.trigger.report_id)
        head = self.pool.submit(self.store.read_head)
        view = self.pool.submit(self.store.list_trail)
        witnessed = self.pool.submit(self.witness.read) if self.witness else None
        self.collector.start(self.pool)
        record = known.result()
        # Read and hash the newest report while Config is being read.
        position = (
            self.pool.submit(self._position, head, view, witnessed) if record is None else None
        )
        register = self.register
        version = (
            self.pool.submit(self.store.store_once, register.key, register.body)
            if register is not None and record is None
            else None
        )
        return _Reads(record, head, view, witnessed, position, version)

    def _position(
        self,
        head: Future[Head],
        view: Future[TrailView],
        witnessed: Future[tuple[Link | None, str | None]] | None,
    ) -> Position:
        """The trail's newest report, checked against the head and the witness (chain.py)."""
        marks: list[tuple[Link, str]] = []
        found = head.result()
        if found.state != "present" or found.last is None:
            self.notes.append(f"chain head {found.state}: the trail alone decides the sequence")
        else:
            marks.append(
                (found.last, f"the chain head s3://{self.settings.bucket}/{self.store.head_key}")
            )
        if witnessed is not None:
            link, note = witnessed.result()
            if note:
                self.notes.append(note)
            if link is not None:
                marks.append((link, f"the witness parameter {self.settings.witness_parameter}"))
        return self.store.position(view.result(), marks)

    def finish_duplicate(self, stored: Stored, record: TriggerRecord | None) -> RunResult:
        """The trigger already has a report: never write another, only send an alert that never went
        out. While another run of the trigger may still be sending it (its claim is live on S3's
        clock), wait for that run rather than send a second e-mail."""
        delay = 0.05
        while (record is None or record.alert == "pending") and self.store.claim_is_live(
            stored.claim.sequence, self.trigger.report_id
        ):
            if time.monotonic() + delay > self.deadline.claim_give_up_at():
                raise ChainBusy(
                    f"report {stored.claim.key} of this trigger is stored and the run that stored it "
                    "is still within its lease; its alert is left to it"
                )
            time.sleep(delay * (0.5 + random.random()))  # noqa: S311 (jitter, not a secret)
            delay = min(delay * 2, 1.0)
            record = self.store.find_trigger(self.trigger.report_id)
        state = "pending" if record is None else record.alert
        report = Report.from_json(json.loads(self.store.read_report(stored.claim.key)))
        sent = "already-sent" if state == "sent" else "not-needed"
        if state == "pending":
            changes = self._changes(report, self._previous_of(report))
            if alert.needs_alert(report, changes):
                try:
                    self._publish(report, stored, changes)
                except (ClientError, BotoCoreError, OutOfTime) as e:
                    raise AlertPublishFailed(
                        f"report {stored.claim.key} is stored but its alert failed again: {e}"
                    ) from e
                sent = "sent"
            self.store.record_trigger(stored, sent)
        return _result(
            "duplicate", report, stored, sent, self.store.api_calls, False, notes=self.all_notes()
        )

    def all_notes(self) -> tuple[str, ...]:
        return tuple([*self.notes, *self.store.notes])

    def _previous_of(self, report: Report) -> bytes | None:
        key = report.chain.previous_key
        return None if key is None else self.store.read_report(key)

    # 2 -----------------------------------------------------------------------------------------------
    def collect(self) -> Collection:
        budget_ms = int(max(0.0, self.deadline.collect_timeout_s()) * 1000)
        return self.collector.finish(self.deadline.collect_timeout_s(), budget_ms)

    # 3 -----------------------------------------------------------------------------------------------
    def claim_while_drafting(
        self,
        position: Future[Position],
        collection: Collection,
        register: exceptions.RegisterRef | None,
    ) -> tuple[Claim | Stored, Draft]:
        self.phases.mark("collectMs")
        claiming = self.pool.submit(
            self.store.claim,
            self.trigger.report_id,
            lambda: lease_seconds(self.deadline.remaining_s()),
            self.deadline.claim_give_up_at(),
            position.result(),
        )
        day = self.clock().date()
        draft = self._draft(collection, register, day)
        claimed = claiming.result()
        if isinstance(claimed, Claim) and claimed.generated_at.date() != day:
            # The claim dates the report (generatedAt) on the next UTC day: the exceptions in force
            # are that day's.
            draft = self._draft(collection, register, claimed.generated_at.date())
        self.phases.mark("claimMs")
        return claimed, draft

    def _draft(
        self, collection: Collection, register: exceptions.RegisterRef | None, day: date
    ) -> Draft:
        labels = (
            self.register.labels(self.settings.environment_suffix, day.isoformat())
            if self.register is not None and register is not None
            else None
        )
        return Draft(
            report_content(
                report_id=self.trigger.report_id,
                trigger=self.trigger,
                account=self.account,
                region=self.settings.region,
                environment_suffix=self.settings.environment_suffix,
                collection=collection,
                labels=labels,
                register=register,
            )
        )

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
    def alert_and_commit(
        self, report: Report, stored: Stored, collection: Collection, head: Head
    ) -> RunResult:
        previous = self.store.previous
        changes = self._changes(report, None if previous is None else previous.body)
        wants_alert = alert.needs_alert(report, changes)
        published = (
            self.pool.submit(self._publish, report, stored, changes) if wants_alert else None
        )
        # The trigger record first (while the alert is published), then the head and the witness;
        # marking the alert sent only touches the trigger record, so it goes out with them.
        self.store.record_trigger(stored, "pending" if wants_alert else "not-needed")
        moving = self.pool.submit(self.store.advance_head, stored, head)
        witnessing = self.pool.submit(self.witness.publish, stored.link) if self.witness else None
        # The claim is released once the trigger record says the alert is out (or not needed): a run
        # of the same trigger that finds the record pending and the claim live leaves the alert to
        # this run; released, it knows no run is sending it.
        releasing = (
            self.pool.submit(self.store.release, stored.claim) if published is None else None
        )
        marking: Future[None] | None = None
        alert_error: Exception | None = None
        if published is not None:
            try:
                published.result()
            except (ClientError, BotoCoreError, OutOfTime) as e:
                alert_error = e
            else:
                marking = self.pool.submit(self.store.record_trigger, stored, "sent")
        for note in (moving.result(), witnessing.result() if witnessing else None):
            if note:
                self.notes.append(note)
        if marking is not None:
            marking.result()
            self.store.release(stored.claim)
        if releasing is not None:
            releasing.result()
        self.phases.mark("commitMs")
        result = _result(
            "stored",
            report,
            stored,
            alert_state="failed" if alert_error else ("sent" if wants_alert else "not-needed"),
            api_calls=collection.api_calls + self.store.api_calls + self._other_calls(wants_alert),
            built=True,
            phases=None if alert_error else self.phases.spent,
            notes=self.all_notes(),
        )
        if alert_error is not None:
            # Nobody sends this alert now: release the claim, so a retry sends it without waiting.
            self.store.release(stored.claim)
            raise AlertFailedAfterStore(
                f"report {stored.claim.key} is stored but publishing its alert to "
                f"{self.settings.topic_arn} failed: {alert_error}",
                result,
            ) from alert_error
        return result

    def _other_calls(self, alerted: bool) -> int:
        """The run's SNS publish and SSM calls (read and write of the witness)."""
        return (1 if alerted else 0) + (2 if self.witness else 0)

    def _changes(self, report: Report, previous: bytes | None) -> changes_mod.Changes:
        return changes_mod.compare(previous, report)

    def _expiring(self, report: Report) -> tuple[exceptions.Entry, ...]:
        """The register's entries in force on the report's date that end within 14 days."""
        if self.register is None or report.content.exception_register is None:
            return ()
        return self.register.expiring(report.generated_at[:10])

    def _publish(self, report: Report, stored: Stored, changes: changes_mod.Changes) -> None:
        settings = self.settings
        self.calls.run(
            f"Publish {settings.topic_arn}",
            alert.publish,
            self.clients.sns,
            settings.topic_arn,
            report,
            settings.bucket,
            stored.link,
            settings.alert_max_resources,
            changes,
            self._expiring(report),
        )


def _result(
    outcome: str,
    report: Report,
    stored: Stored,
    alert_state: str,
    api_calls: int,
    built: bool,
    phases: dict[str, float] | None = None,
    notes: tuple[str, ...] = (),
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
        notes=notes,
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
        # A run that fails gives its claim up at once (unless its report's PUT may be in flight).
        run.store.release_held()
        raise
    finally:
        run.close()
