"""The hash chain in S3: which sequence a run writes, so that concurrent, retried and crashed runs never
fork the trail, whatever happens to the bookkeeping beside it.

The objects (docs/report-format.md, "How the generator extends the chain"):

* the report, ``reports/YYYY/MM/DD/<sequence>-<reportId>.json``, written once (``If-None-Match: *``;
  the function's role may not write a report any other way). The reports are the trail, and the trail
  is the one thing the writer trusts: the next sequence is the newest one ever listed under
  ``reports/`` plus one (trail.py), never what a bookkeeping object says;
* the claim, ``chain/claims/<sequence>.json``: who writes the report of one sequence. It is created with
  ``If-None-Match: *``, so of all the runs that want sequence *n* exactly one creates claim *n*. It holds
  a lease of ``leaseSeconds`` counted from the claim object's ``Last-Modified``, on S3's clock;
* the trigger record, ``chain/triggers/<reportId>.json``, written after the report: which report
  answers a trigger and whether its alert went out;
* the head, ``chain/head.json``: a cache of the newest report ``{sequence, key, sha256}``, replaced by
  compare-and-swap and only ever moved forward. It is evidence for the auditor and a check for the
  writer, never the source of a sequence: deleting it, restoring an older version of it or corrupting
  it leads to the same next report.

One run (generator.py does the steps in this order):

1. List the trail, read the head and the witness (the SSM parameter, witness.py). The newest report
   must be there (not deleted, not overwritten, not forked: trail.py); a head or witness that names a
   sequence beyond it, or another report at its sequence, or other bytes than the newest report's,
   means reports were deleted or rewritten, and the run refuses (``ChainCorrupted``). A head or
   witness that is merely behind is fine (a restored old head; a lost update).
2. If the trail already holds a report with this trigger's report id, stop: no second report.
3. Create claim *n* = newest + 1. If it exists (412): when its report exists, the trail moved on: list
   again; while its lease lasts, wait; once its lease is over, or its run released it, with no report
   under its key, take it over by replacing it with ``If-Match: <its ETag>``. A claim of this very
   trigger is the same trigger running twice (a direct invocation and the queue, a retried message):
   the run waits for it, and takes it over only if it was abandoned.
4. Write the report (once), then its trigger record, then move the head and publish the witness.

Why the trail cannot fork. Two reports of sequence *n* need two runs holding claim *n* while each
writes. Claim *n* is created once; it changes hands only by a compare-and-swap made after S3's own clock
shows its lease over (the ``Date`` of an S3 answer later than the claim's ``Last-Modified`` plus the
lease, each to the second) and with no report under its key. A claimant never sends its report after
its own lease ends, measured on its monotonic clock from the moment before it sent the claim, which is
before S3 stamped it; the lease is the run's remaining Lambda time plus ``LEASE_MARGIN``, so the old
holder has stopped (or Lambda has stopped it) before anyone may take over. No host's wall clock enters
this: a host whose clock runs ahead cannot take over a live claim. The wall clock only dates the report
(``generatedAt`` and the key's day).

Why one trigger makes one report. Claim *n* is only made on a listing whose newest report is *n* - 1,
and report *k* is only claimed once report *k* - 1 exists, so every report of a sequence below *n*
existed before that listing and is in it. The run checks that listing for its report id (before it
claims, so on the listing the claim rests on): a report of its trigger anywhere below,
and it stops. Two runs of one trigger that race meet at the same claim.

Why a crash cannot wedge it. A run releases its claim when it is done with it (one conditional PUT): after
its trigger record says the alert is out, or at once when it fails; a run that is killed leaves its
claim to the lease. Either way the next run takes the claim over (no report under it) or moves past it
(the report exists: it is the newest of the next listing). A run of the same trigger that finds the
report stored and its alert pending waits while the claim is live, so one report is announced once.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
import random
import threading
import time
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, timezone
from email.utils import parsedate_to_datetime
from typing import Any, Callable, Optional, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from . import trail
from .chain_records import Claim, Head, Link, TriggerRecord
from .errors import (
    ChainBusy,
    ChainCorrupted,
    OutOfTime,
    RegisterUnusable,
    ReportGeneratorError,
    ReportWriteFailed,
)
from .report import report_key
from .timebox import Timebox

T = TypeVar("T")

# A claimant stops sending its report this long before its lease ends, so a request in flight, and
# any difference between the rates of its monotonic clock and S3's, cannot reach into the next holder.
LEASE_MARGIN = timedelta(seconds=60)
# A claim's lease never counts as longer than Lambda's longest timeout (900 s: Lambda Developer Guide,
# "Lambda quotas", function timeout) plus the margin, so a claim with an absurd lease cannot hold the
# chain for longer.
MAX_LEASE_S = 900 + int(LEASE_MARGIN.total_seconds())
# Date and Last-Modified are HTTP dates, to the second (RFC 9110, section 5.6.7): a claim stamped at
# 10:00:00.9 reads 10:00:00, so a lease counts as over only a second after the stamps say so.
HTTP_DATE_GRANULARITY_S = 1
# The S3 writes left once a report is about to be stored, one after another: the report, its trigger
# record, the head. The report's PUT is only sent when the run has time for all three at the pace S3
# answered since the claim began; otherwise the claim is released untouched instead.
STORE_ROUND_TRIPS = 3
# Backoff between retries of a write S3 answered with a conflict (409): doubling, jittered.
CONFLICT_FIRST_DELAY_S = 0.05
CONFLICT_MAX_DELAY_S = 1.0
# Backoff while another run's live claim holds the next sequence.
WAIT_FIRST_DELAY_S = 0.05
WAIT_MAX_DELAY_S = 1.0
# Head swaps a run tries before it leaves the head to the next run (it is a cache; the trail is written).
HEAD_ATTEMPTS = 5


def _first_line(error: Exception) -> str:
    return (str(error).splitlines() or [type(error).__name__])[0][:300]


def _code(error: ClientError) -> str:
    return str(error.response.get("Error", {}).get("Code", ""))


def _status(error: ClientError) -> int:
    return int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))


def _not_found(error: ClientError) -> bool:
    return _code(error) in ("NoSuchKey", "404", "NotFound") or _status(error) == 404


def _precondition_failed(error: ClientError) -> bool:
    return _code(error) in ("PreconditionFailed", "412") or _status(error) == 412


def _conflict(error: ClientError) -> bool:
    """S3's 409s that ask for a retry (see ``ChainStore._put``)."""
    return _code(error) in ("ConditionalRequestConflict", "OperationAborted")


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _http_time(headers: dict[str, Any], name: str) -> Optional[datetime]:
    value = headers.get(name)
    if not value:
        return None
    try:
        return parsedate_to_datetime(str(value)).astimezone(timezone.utc)
    except (TypeError, ValueError, IndexError):
        return None


@dataclass(frozen=True)
class _Object:
    body: bytes
    etag: str
    last_modified: Optional[datetime]  # S3's Last-Modified of the object
    date: Optional[datetime]  # S3's Date of the answer: "now" on S3's clock
    version_id: Optional[str] = None  # S3's version id of the object (None: unversioned bucket)


@dataclass(frozen=True)
class Stored:
    """A report in the trail: its claim and the SHA-256 of its stored bytes."""

    claim: Claim
    sha256: str

    @property
    def link(self) -> Link:
        return Link(self.claim.sequence, self.claim.key, self.sha256)


@dataclass(frozen=True)
class Previous:
    """The newest report of the trail, which the next report links to: its link and stored bytes."""

    link: Link
    body: bytes


@dataclass(frozen=True)
class Position:
    """Where the trail stands for a run: the listing, and the report the next one links to."""

    view: trail.TrailView
    previous: Optional[Previous]

    @property
    def next_sequence(self) -> int:
        return 0 if self.previous is None else self.previous.link.sequence + 1


class ChainStore:
    """The chain's S3 objects. Every S3 call runs in a timebox (timebox.py): ``calls`` for the run's
    work, the later-ending ``cleanup`` for releasing a claim after the run's time for work is over.
    ``clock`` is the host's wall clock, used only to date the report."""

    def __init__(
        self,
        s3: Any,
        bucket: str,
        report_prefix: str,
        chain_prefix: str,
        clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
        sleep: Callable[[float], None] = time.sleep,
        calls: Optional[Timebox] = None,
        cleanup: Optional[Timebox] = None,
    ) -> None:
        self.s3 = s3
        self.bucket = bucket
        self.report_prefix = report_prefix
        self.head_key = f"{chain_prefix}head.json"
        self.claim_prefix = f"{chain_prefix}claims/"
        self.trigger_prefix = f"{chain_prefix}triggers/"
        self.clock = clock
        self.sleep = sleep
        self.calls = calls or Timebox.unlimited()
        self.cleanup = cleanup or self.calls
        self._calls_lock = threading.Lock()  # a run writes the trigger record and the head at once
        self.api_calls = 0
        # The slowest S3 answer since the claim began: the pace of S3 once collection is over.
        self.slowest_call_s = 0.0
        # The claim this run holds: its ETag, and when (monotonic) this run's lease on it ends; the
        # report it links to; and whether its report is unsent, in flight (outcome unknown) or stored.
        self.held: Optional[tuple[Claim, str, float]] = None
        self.previous: Optional[Previous] = None
        self.report_state = "unsent"
        # What the run found of the bookkeeping (an absent or stale head...), for its log line.
        self.notes: list[str] = []
        self._reports_read: dict[str, bytes] = {}

    # -- small S3 helpers ---------------------------------------------------------------------------
    def _call(self, box: Optional[Timebox], what: str, call: Callable[..., T], **params: Any) -> T:
        """One S3 call in its timebox, counted and timed."""
        with self._calls_lock:
            self.api_calls += 1
        started = time.monotonic()
        try:
            return (box or self.calls).run(what, call, **params)
        finally:
            spent = time.monotonic() - started
            with self._calls_lock:
                self.slowest_call_s = max(self.slowest_call_s, spent)

    def _get(self, key: str, box: Optional[Timebox] = None) -> Optional[_Object]:
        """The object's bytes, read whole inside the timebox (a slow body is as slow as a slow answer)."""

        def get() -> Optional[_Object]:
            try:
                answer = self.s3.get_object(Bucket=self.bucket, Key=key)
            except ClientError as e:
                if _not_found(e):
                    return None
                raise
            headers = answer.get("ResponseMetadata", {}).get("HTTPHeaders", {})
            return _Object(
                answer["Body"].read(),
                str(answer.get("ETag", "")),
                _http_time(headers, "last-modified"),
                _http_time(headers, "date"),
                answer.get("VersionId"),
            )

        return self._call(box, f"GetObject s3://{self.bucket}/{key}", get)

    def _put(
        self, key: str, body: bytes, box: Optional[Timebox] = None, **conditions: Any
    ) -> dict[str, Any]:
        """One PUT; a conflict (409) is retried with jittered backoff while the timebox lasts.

        S3 answers ``409 ConditionalRequestConflict`` when a conditional write meets a concurrent
        operation on the same key, and its documented answer is to retry: "On a 409 failure you should
        retry the upload" (If-None-Match), "... fetch the object's ETag and retry the upload" (If-Match)
        (https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html,
        https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html). Sending the same
        condition again is that: if the object changed meanwhile S3 answers 412, which the callers
        read as before (re-read; for the report, our own earlier write). ``OperationAborted`` is S3's
        other 409, "a conflicting conditional operation is currently in progress against this
        resource. Try again" (https://docs.aws.amazon.com/AmazonS3/latest/API/ErrorResponses.html).
        botocore's retry modes do not retry a 409, so it is done here."""
        box = box or self.calls
        delay = CONFLICT_FIRST_DELAY_S
        while True:
            try:
                answer: dict[str, Any] = self._call(
                    box,
                    f"PutObject s3://{self.bucket}/{key}",
                    self.s3.put_object,
                    Bucket=self.bucket,
                    Key=key,
                    Body=body,
                    ContentType="application/json",
                    ChecksumAlgorithm="SHA256",
                    ChecksumSHA256=base64.b64encode(hashlib.sha256(body).digest()).decode("ascii"),
                    **conditions,
                )
                return answer
            except ClientError as e:
                pause = delay * (0.5 + random.random())  # noqa: S311 (jitter, not a secret)
                if not _conflict(e) or box.remaining_s() <= pause:
                    raise
            self.sleep(pause)
            delay = min(delay * 2, CONFLICT_MAX_DELAY_S)

    def _pages(self, prefix: str) -> list[dict[str, Any]]:
        """Every ListObjectVersions page of ``prefix`` (botocore's paginator; each page one call)."""
        pages: list[dict[str, Any]] = []
        paginator = self.s3.get_paginator("list_object_versions")

        def walk() -> None:
            for page in paginator.paginate(Bucket=self.bucket, Prefix=prefix):
                with self._calls_lock:
                    self.api_calls += 1
                pages.append(page)

        self.calls.run(f"ListObjectVersions s3://{self.bucket}/{prefix}", walk)
        return pages

    # -- reading the trail --------------------------------------------------------------------------
    def list_trail(self) -> trail.TrailView:
        return trail.view_of(self._pages(self.report_prefix), self.report_prefix)

    def read_head(self, box: Optional[Timebox] = None) -> Head:
        """The head as found: absent, unreadable (it will be replaced), or what it names."""
        got = self._get(self.head_key, box)
        if got is None:
            return Head("absent", None, None)
        return Head.parse(got.body, got.etag)

    def read_report(self, key: str) -> bytes:
        """A report's stored bytes (read once per run: the newest report is hashed, then compared)."""
        if key in self._reports_read:
            return self._reports_read[key]
        got = self._get(key)
        if got is None:
            raise ChainCorrupted(
                f"report s3://{self.bucket}/{key} is in the trail's bookkeeping but its object is gone"
            )
        self._reports_read[key] = got.body
        return got.body

    def position(
        self, view: trail.TrailView, marks: list[tuple[Link, str]], relist: bool = True
    ) -> Position:
        """Where the trail stands, checked against the head and the witness (``marks``, each with the
        name of its source): the newest report, read and hashed. ChainCorrupted when the trail lost or
        changed a report that a mark or the listing shows."""
        try:
            for mark, source in marks:
                trail.check_mark(view, mark, source)
        except trail.MarkAhead:
            if not relist:
                raise
            # The mark may have been written after a report this listing predates: list again.
            return self.position(self.list_trail(), marks, relist=False)
        tail = view.tail()
        if tail is None:
            return Position(view, None)
        if tail.versions > 1:
            raise ChainCorrupted(
                f"the newest report {tail.key} has {tail.versions} stored versions: it was "
                "overwritten after it was written; no report is written until it is investigated "
                "(README runbook, 'The chain is corrupted')"
            )
        body = self.read_report(tail.key)
        link = Link(tail.sequence, tail.key, sha256_hex(body))
        for mark, source in marks:
            if mark.sequence == link.sequence and mark.sha256 != link.sha256:
                raise ChainCorrupted(
                    f"the newest report {link.key} hashes to {link.sha256}, but {source} recorded "
                    f"{mark.sha256}: its bytes changed after it was written; no report is written "
                    "until it is investigated (README runbook, 'The chain is corrupted')"
                )
        return Position(view, Previous(link, body))

    # -- content-addressed objects ------------------------------------------------------------------
    def store_once(self, key: str, body: bytes) -> Optional[str]:
        """Store ``body`` at ``key`` once (``If-None-Match: *``) and return the stored version's id.

        For objects named by their own SHA-256 (the exceptions register): the first run writes it;
        any later one gets 412 (the key holds an object) and reads the object back, whose bytes must
        be ``body`` — other bytes under the key mean it was overwritten, and a report naming it would
        name bytes it was not labelled from (RegisterUnusable). A 409 is retried by ``_put``."""
        try:
            answer = self._put(key, body, IfNoneMatch="*")
            version = answer.get("VersionId")
            return None if version is None else str(version)
        except ClientError as e:
            if not _precondition_failed(e):
                raise
        got = self._get(key)
        if got is None:
            raise RegisterUnusable(
                f"s3://{self.bucket}/{key} was refused as existing (412) but cannot be read back"
            )
        if sha256_hex(got.body) != sha256_hex(body):
            raise RegisterUnusable(
                f"s3://{self.bucket}/{key} holds bytes hashing to {sha256_hex(got.body)}, not the "
                f"register deployed with this function ({sha256_hex(body)}): the stored register was "
                "overwritten; no report is written until it is restored (the bucket is versioned)"
            )
        return got.version_id

    # -- trigger records ----------------------------------------------------------------------------
    def trigger_key(self, report_id: str) -> str:
        return f"{self.trigger_prefix}{report_id}.json"

    def find_trigger(self, report_id: str) -> Optional[TriggerRecord]:
        """The trigger's record; None when there is none or it cannot be read (it is a cache: the
        trail says whether the trigger has a report)."""
        key = self.trigger_key(report_id)
        got = self._get(key)
        if got is None:
            return None
        try:
            return TriggerRecord.from_json(json.loads(got.body))
        except ValueError as e:
            self.notes.append(f"trigger record {key} unreadable ({_first_line(e)}), ignored")
            return None

    def record_trigger(self, stored: Stored, alert: str) -> None:
        """``alert`` is ``pending``, ``sent`` or ``not-needed``; a retry re-sends a pending alert."""
        claim = stored.claim
        record = TriggerRecord(claim.report_id, claim.sequence, claim.key, stored.sha256, alert)
        self._put(self.trigger_key(claim.report_id), record.body())

    # -- claims -------------------------------------------------------------------------------------
    def claim_key(self, sequence: int) -> str:
        return f"{self.claim_prefix}{sequence:08d}.json"

    def _read_claim(self, sequence: int) -> Optional[tuple[Claim, _Object]]:
        got = self._get(self.claim_key(sequence))
        if got is None:
            return None
        try:
            claim = Claim.from_body(got.body)
            if claim.sequence != sequence or not claim.key.startswith(self.report_prefix):
                raise ValueError(
                    f"it claims sequence {claim.sequence} under {claim.key[:120]!r}, not a report "
                    f"of sequence {sequence}"
                )
            return claim, got
        except ValueError as e:
            raise ChainCorrupted(
                f"claim s3://{self.bucket}/{self.claim_key(sequence)} is unreadable "
                f"({_first_line(e)}): sequence {sequence} cannot be decided; restore its previous "
                "version (the bucket is versioned)"
            ) from e

    @staticmethod
    def _lease_over(claim: Claim, got: _Object) -> bool:
        """Over on S3's clock: the claim's Last-Modified plus its lease is before the Date of the
        answer that returned it. Without both times S3 gave no evidence, and the lease lasts."""
        if claim.released:
            return True
        if got.last_modified is None or got.date is None:
            return False
        lease = min(claim.lease_s, MAX_LEASE_S) + HTTP_DATE_GRANULARITY_S
        return (got.date - got.last_modified).total_seconds() > lease

    def _report_state(self, key: str) -> str:
        """``live``, ``deleted`` (versions or delete markers, none current) or ``never`` stored."""
        view = trail.view_of(self._pages(key), self.report_prefix)
        entry = view.entry(key)
        if entry is None:
            return "never"
        return "live" if entry.live else "deleted"

    def claim_is_live(self, sequence: int, report_id: str) -> bool:
        """Whether a run of ``report_id`` may still be working on sequence ``sequence``: its claim is
        there, not released, and its lease is not over on S3's clock."""
        found = self._read_claim(sequence)
        if found is None:
            return False
        claim, got = found
        return claim.report_id == report_id and not self._lease_over(claim, got)

    def claim(
        self, report_id: str, lease: Callable[[], int], give_up_at: float, position: Position
    ) -> Claim | Stored:
        """Claim the next sequence for ``report_id``; ``lease()`` gives the lease of a claim made now
        (the run's remaining time plus the margin, ``lease_seconds``: a wait for another run's claim
        uses up the run's time, so each attempt asks again).

        Returns this run's Claim, or Stored when the trail already holds this trigger's report (the
        caller then only finishes that run). Raises ChainBusy when another live claim still holds the
        next sequence at ``give_up_at`` (``time.monotonic()``), ChainCorrupted when taking over a claim
        would reuse a sequence whose report was deleted."""
        with self._calls_lock:
            self.slowest_call_s = 0.0
        delay = WAIT_FIRST_DELAY_S
        while True:
            answered = position.view.answered(report_id)
            if answered is not None:
                return self._answered(answered)
            now = self.clock()
            sequence = position.next_sequence
            previous = None if position.previous is None else position.previous.link
            mine = Claim(
                sequence,
                report_key(self.report_prefix, now, sequence, report_id),
                report_id,
                now,
                previous,
                lease(),
            )
            key = self.claim_key(sequence)
            started = time.monotonic()
            try:
                answer = self._put(key, mine.body(), IfNoneMatch="*")
                return self._hold(mine, answer, started, position)
            except OutOfTime:
                # The claim may have landed: its lease (or the next run's takeover) resolves it.
                raise
            except ClientError as e:
                if not _precondition_failed(e):
                    raise
            found = self._read_claim(sequence)
            if found is None:
                continue  # deleted between our PUT and the GET: try to create it again
            theirs, got = found
            state = self._report_state(theirs.key)
            if state == "live":
                if theirs.report_id == report_id:
                    return Stored(theirs, sha256_hex(self.read_report(theirs.key)))
                position = self.position(self.list_trail(), [])  # the trail moved on
                continue
            if state == "deleted":
                raise ChainCorrupted(
                    f"sequence {sequence}'s report {theirs.key} was deleted: it is never written "
                    "again (README runbook, 'The chain is corrupted')"
                )
            if not self._lease_over(theirs, got):
                if time.monotonic() + delay > give_up_at:
                    raise ChainBusy(
                        f"sequence {sequence} is claimed by report {theirs.report_id} "
                        f"(s3://{self.bucket}/{key}, lease {theirs.lease_s} s from its "
                        "Last-Modified on S3's clock) and its run is still within its lease"
                    )
                self.sleep(delay * (0.5 + random.random()))  # noqa: S311 (jitter, not a secret)
                delay = min(delay * 2, WAIT_MAX_DELAY_S)
                continue
            self._refuse_if_once_written(theirs)
            started = time.monotonic()
            try:
                answer = self._put(key, mine.body(), IfMatch=got.etag)
            except ClientError as e:
                if _precondition_failed(e) or _not_found(e):
                    continue  # someone else took it over, or it was deleted: decide again
                raise
            self.notes.append(f"took over the abandoned claim on sequence {sequence}")
            return self._hold(mine, answer, started, position)

    def _hold(
        self, claim: Claim, answer: dict[str, Any], started: float, position: Position
    ) -> Claim:
        # This run's lease ends lease_s after the moment before it sent the claim, which is before S3
        # stamped it; it stops sending its report LEASE_MARGIN before that.
        until = started + claim.lease_s - LEASE_MARGIN.total_seconds()
        self.held = (claim, str(answer.get("ETag", "")), until)
        self.previous = position.previous
        return claim

    def _answered(self, entry: trail.Entry) -> Stored:
        """The stored report of a trigger the trail already answers."""
        if not entry.live:
            raise ChainCorrupted(
                f"the report of this trigger, {entry.key}, was deleted: the trigger is never "
                "answered twice (README runbook, 'The chain is corrupted')"
            )
        body = self.read_report(entry.key)
        claim = Claim(entry.sequence, entry.key, entry.report_id, self.clock(), None, 0)
        return Stored(claim, sha256_hex(body))

    def _refuse_if_once_written(self, claim: Claim) -> None:
        """A claim whose report is absent may only be taken over if that report was never written: its
        trigger record names the sequence only once the report existed."""
        record = self.find_trigger(claim.report_id)
        if record is not None and (record.sequence, record.key) == (claim.sequence, claim.key):
            raise ChainCorrupted(
                f"sequence {claim.sequence}'s report {claim.key} was written (its trigger record "
                f"says so) and is gone from the trail with all its versions: the sequence is never "
                "used again (README runbook, 'The chain is corrupted')"
            )

    # -- writing ------------------------------------------------------------------------------------
    def write_report(self, claim: Claim, body: bytes) -> Stored:
        """Store the report once. Before sending: release the claim and raise (ReportWriteFailed,
        OutOfTime) when its lease or the run's time would not last. After a definite refusal: release
        and raise ReportWriteFailed. When the PUT's outcome is unknown (no answer in time), the claim is
        left to its lease: the next run finds the report if it landed, and takes the claim over if not.

        One PutObject: S3 takes up to 5 GB in a single PUT
        (https://docs.aws.amazon.com/AmazonS3/latest/userguide/upload-objects.html), and a report is
        ~170 bytes a finding (17 MB at 100,000), so no report comes near needing a multipart upload."""
        held = self.held
        if held is None or held[0] != claim or time.monotonic() >= held[2]:
            self.release(claim)
            raise ReportWriteFailed(
                f"claim on sequence {claim.sequence} ran past its lease; nothing written"
            )
        needed, left = STORE_ROUND_TRIPS * self.slowest_call_s, self.calls.remaining_s()
        if left < needed:
            self.release(claim)
            raise OutOfTime(
                f"storing report {claim.key} needs ~{needed:.1f} s ({STORE_ROUND_TRIPS} S3 writes at up "
                f"to {self.slowest_call_s:.1f} s each since the claim), {max(left, 0.0):.1f} s left for AWS "
                "calls: claim released, nothing written"
            )
        self.report_state = "in-flight"
        try:
            self._put(claim.key, body, IfNoneMatch="*")
            self.report_state = "stored"
            return Stored(claim, sha256_hex(body))
        except OutOfTime as e:
            raise OutOfTime(
                f"{e}; the report may have landed, so its claim is left to its lease"
            ) from e
        except ClientError as e:
            if _precondition_failed(e):
                # Our own earlier attempt (e.g. a retried PUT whose first answer was lost) stored it.
                self.report_state = "stored"
                return Stored(claim, sha256_hex(self.read_report(claim.key)))
            self.report_state = "unsent"
            self.release(claim)
            raise ReportWriteFailed(
                f"storing s3://{self.bucket}/{claim.key} failed ({_code(e) or _status(e)}); "
                "nothing was written"
            ) from e

    def advance_head(self, stored: Stored, head: Head) -> Optional[str]:
        """Move the head forward to the new report (never back). The head is a cache the trail
        overrules, so a failure only leaves a note for the run's log line."""
        link = stored.link
        try:
            for _ in range(HEAD_ATTEMPTS):
                if head.last is not None and head.last.sequence >= link.sequence:
                    return None
                conditions = {"IfMatch": head.etag} if head.etag else {"IfNoneMatch": "*"}
                try:
                    self._put(self.head_key, Head.body(link), None, **conditions)
                    return None
                except ClientError as e:
                    # 412: changed since read; 404 answers If-Match when it was deleted meanwhile.
                    if not (_precondition_failed(e) or _not_found(e)):
                        raise
                head = self.read_head()
            return f"chain head not moved to sequence {link.sequence}: it kept changing"
        except (ClientError, BotoCoreError, OutOfTime) as e:
            return f"chain head not moved to sequence {link.sequence} ({_first_line(e)})"

    def release_held(self) -> None:
        """Release the claim this run holds, if any (a failed run's last step)."""
        if self.held is not None:
            self.release(self.held[0])

    def release(self, claim: Claim) -> None:
        """Best effort, in the cleanup timebox: mark our claim released, so the next run need not wait
        for its lease (it takes the claim over if no report is under it, and otherwise knows that no
        run is still sending that report's alert). Only our exact claim version is replaced, and never
        while the report's PUT may be in flight: a run taking the claim over before that PUT lands
        would write a second report of the sequence."""
        held = self.held
        if held is None or held[0] != claim or self.report_state == "in-flight":
            return
        try:
            self._put(
                self.claim_key(claim.sequence),
                replace(claim, released=True).body(),
                self.cleanup,
                IfMatch=held[1],
            )
        except (ClientError, BotoCoreError, ReportGeneratorError):
            pass


def lease_seconds(remaining_s: float) -> int:
    """A claim's lease: the run's remaining Lambda time, plus the margin."""
    return min(MAX_LEASE_S, math.ceil(max(0.0, remaining_s)) + int(LEASE_MARGIN.total_seconds()))
