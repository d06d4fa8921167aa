"""The hash chain in S3: who may write the next report, and how a retried trigger finds its report.

Three kinds of object (docs/report-format.md, "How the generator extends the chain"):

* the report, ``reports/YYYY/MM/DD/<sequence>-<reportId>.json``, written once (``If-None-Match: *``);
* the chain head, ``chain/head.json``: the last committed link ``{sequence, key, sha256}`` and at most one
  pending claim. It only changes by compare-and-swap (``If-Match: <ETag>``; ``If-None-Match: *`` for the
  first), so of two generators that read the same head only one can claim the next sequence;
* the trigger record, ``chain/triggers/<reportId>.json``: written before a claim is committed, so "a report
  exists for this trigger" is one GET, however far the chain has moved on since.

A claim carries a lease (the claimant's Lambda deadline plus a margin). A claimant never writes its report
after its lease, so once the lease is over another generator may roll the claim back; if the report exists
it is rolled forward instead. A crash at any step therefore delays the chain by at most one lease and never
wedges it.
"""

from __future__ import annotations

import base64
import hashlib
import json
import random
import threading
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, TypeVar

from botocore.exceptions import BotoCoreError, ClientError

from .errors import (
    ChainBusy,
    ChainCorrupted,
    OutOfTime,
    ReportGeneratorError,
    ReportWriteFailed,
)
from .report import report_key
from .timebox import Timebox
from .timefmt import parse_utc_z, utc_z

T = TypeVar("T")

LEASE_MARGIN = timedelta(seconds=60)
# The S3 writes left once a report is about to be stored, one after another: the report, its trigger
# record, the head. The report's PUT is only sent when the run has time for all three at the pace S3
# answered since the claim began; otherwise the claim is released untouched instead.
STORE_ROUND_TRIPS = 3
# Backoff between retries of a write S3 answered with a conflict (409): doubling, jittered.
CONFLICT_FIRST_DELAY_S = 0.05
CONFLICT_MAX_DELAY_S = 1.0
HEAD_FORMAT = "compliance-chain-head/1"
TRIGGER_FORMAT = "compliance-trigger/1"
ALERT_STATES = ("pending", "sent", "not-needed")


def _member(data: Any, name: str) -> Any:
    """``data[name]`` of a JSON object; ValueError (naming the member) for anything else. The chain's
    objects are read strictly: a value guessed from a damaged one could fork the chain."""
    if not isinstance(data, dict):
        raise ValueError(f"expected an object holding {name!r}, got {type(data).__name__}")
    if name not in data:
        raise ValueError(f"{name!r} is missing")
    return data[name]


def _sequence(data: Any) -> int:
    value = _member(data, "sequence")
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"'sequence' must be a non-negative integer, got {value!r}")
    return value


def _text(data: Any, name: str) -> str:
    value = _member(data, name)
    if not isinstance(value, str) or not value:
        raise ValueError(f"{name!r} must be a non-empty string, got {value!r}")
    return value


def _sha256(data: Any) -> str:
    value = _text(data, "sha256")
    if len(value) != 64 or value.strip("0123456789abcdef"):
        raise ValueError(f"'sha256' must be 64 lower-case hex digits, got {value[:80]!r}")
    return value


def _time(data: Any, name: str) -> datetime:
    value = _text(data, name)
    try:
        return parse_utc_z(value)
    except (ValueError, OverflowError) as e:
        raise ValueError(f"{name!r} is not an RFC 3339 time: {value[:40]!r}") from e


@dataclass(frozen=True)
class Link:
    sequence: int
    key: str
    sha256: str

    def to_json(self) -> dict[str, Any]:
        return {"sequence": self.sequence, "key": self.key, "sha256": self.sha256}

    @staticmethod
    def from_json(data: Any) -> Link | None:
        """None for JSON null; ValueError naming the member for a malformed link."""
        if data is None:
            return None
        return Link(_sequence(data), _text(data, "key"), _sha256(data))


@dataclass(frozen=True)
class Claim:
    sequence: int
    key: str
    report_id: str
    generated_at: datetime
    lease_expires_at: datetime
    previous: Link | None

    def to_json(self) -> dict[str, Any]:
        return {
            "sequence": self.sequence,
            "key": self.key,
            "reportId": self.report_id,
            "generatedAt": utc_z(self.generated_at),
            "leaseExpiresAt": utc_z(self.lease_expires_at),
            "previous": None if self.previous is None else self.previous.to_json(),
        }

    @staticmethod
    def from_json(data: Any) -> Claim | None:
        """None for JSON null; ValueError naming the member for a malformed claim."""
        if data is None:
            return None
        return Claim(
            _sequence(data),
            _text(data, "key"),
            _text(data, "reportId"),
            _time(data, "generatedAt"),
            _time(data, "leaseExpiresAt"),
            Link.from_json(_member(data, "previous")),
        )


@dataclass(frozen=True)
class Head:
    last: Link | None
    pending: Claim | None
    etag: str | None  # None: no head object yet

    def body(self) -> bytes:
        return _json_bytes(
            {
                "format": HEAD_FORMAT,
                "last": None if self.last is None else self.last.to_json(),
                "pending": None if self.pending is None else self.pending.to_json(),
            }
        )


@dataclass(frozen=True)
class Stored:
    """A report in the trail: its claim and the SHA-256 of its stored bytes."""

    claim: Claim
    sha256: str


@dataclass(frozen=True)
class TriggerRecord:
    """What ``chain/triggers/<reportId>.json`` says: the trigger's report and whether its alert is out
    (``pending``, ``sent`` or ``not-needed``)."""

    report_id: str
    sequence: int
    key: str
    sha256: str
    alert: str

    def body(self) -> bytes:
        return _json_bytes(
            {
                "format": TRIGGER_FORMAT,
                "reportId": self.report_id,
                "sequence": self.sequence,
                "key": self.key,
                "sha256": self.sha256,
                "alert": self.alert,
            }
        )

    @staticmethod
    def from_json(data: Any) -> TriggerRecord:
        if not isinstance(data, dict) or data.get("format") != TRIGGER_FORMAT:
            raise ValueError(f"not a {TRIGGER_FORMAT} document")
        alert = _text(data, "alert")
        if alert not in ALERT_STATES:
            raise ValueError(f"'alert' must be one of {', '.join(ALERT_STATES)}, got {alert!r}")
        return TriggerRecord(
            _text(data, "reportId"), _sequence(data), _text(data, "key"), _sha256(data), alert
        )


def _first_line(error: Exception) -> str:
    return (str(error).splitlines() or [type(error).__name__])[0][:300]


def _json_bytes(data: dict[str, Any]) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":")).encode("utf-8") + b"\n"


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


@dataclass(frozen=True)
class _Object:
    body: bytes
    etag: str


class ChainStore:
    """The chain's S3 objects. Every S3 call runs in a timebox (timebox.py): ``calls`` for the run's
    work, the later-ending ``cleanup`` for releasing a claim after the run's time for work is over."""

    def __init__(
        self,
        s3: Any,
        bucket: str,
        report_prefix: str,
        chain_prefix: str,
        clock: Callable[[], datetime] = lambda: datetime.now(timezone.utc),
        sleep: Callable[[float], None] = time.sleep,
        calls: Timebox | None = None,
        cleanup: Timebox | None = None,
    ) -> None:
        self.s3 = s3
        self.bucket = bucket
        self.report_prefix = report_prefix
        self.head_key = f"{chain_prefix}head.json"
        self.trigger_prefix = f"{chain_prefix}triggers/"
        self.clock = clock
        self.sleep = sleep
        self.calls = calls or Timebox.unlimited()
        self.cleanup = cleanup or self.calls
        self._calls_lock = threading.Lock()  # a run writes the trigger record and the head at once
        self.api_calls = 0
        # The slowest S3 answer since the claim began: the pace of S3 once collection is over (the
        # reads made during collection share the network with it, or pay for a new connection).
        self.slowest_call_s = 0.0
        # The head as our claim left it, for the commit's swap and a release.
        self.claimed_head: Head | None = None

    # -- small S3 helpers ---------------------------------------------------------------------------
    def _call(self, box: Timebox | None, what: str, call: Callable[..., T], **params: Any) -> T:
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

    def _get(self, key: str, box: Timebox | None = None) -> _Object | None:
        """The object's bytes, read whole inside the timebox (a slow body is as slow as a slow answer)."""

        def get() -> _Object | None:
            try:
                answer = self.s3.get_object(Bucket=self.bucket, Key=key)
            except ClientError as e:
                if _not_found(e):
                    return None
                raise
            return _Object(answer["Body"].read(), str(answer.get("ETag", "")))

        return self._call(box, f"GetObject s3://{self.bucket}/{key}", get)

    def _put(
        self, key: str, body: bytes, box: Timebox | None = None, **conditions: str
    ) -> dict[str, Any]:
        """One PUT; a conflict (409) is retried with jittered backoff while the timebox lasts.

        S3 answers ``409 ConditionalRequestConflict`` when a conditional write meets a concurrent
        operation on the same key, and its documented answer is to retry: "On a 409 failure you should
        retry the upload" (If-None-Match), "... fetch the object's ETag and retry the upload" (If-Match)
        (https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html,
        https://docs.aws.amazon.com/AmazonS3/latest/userguide/conditional-writes.html). Sending the same
        condition again is that: if the head's ETag changed meanwhile S3 answers 412, which the callers
        read as before (re-read the head; for the report, our own earlier write). ``OperationAborted``
        is S3's other 409, "a conflicting conditional operation is currently in progress against this
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

    def _exists(self, key: str) -> bool:
        def head() -> bool:
            try:
                self.s3.head_object(Bucket=self.bucket, Key=key)
                return True
            except ClientError as e:
                if _not_found(e):
                    return False
                raise

        return self._call(None, f"HeadObject s3://{self.bucket}/{key}", head)

    # -- head ---------------------------------------------------------------------------------------
    def read_head(self, box: Timebox | None = None) -> Head:
        """The head; ChainCorrupted when the object is not a well-formed head document."""
        got = self._get(self.head_key, box)
        if got is None:
            return Head(None, None, None)
        try:
            data = json.loads(got.body)  # ValueError: not JSON, or not UTF-8
            if not isinstance(data, dict) or data.get("format") != HEAD_FORMAT:
                raise ValueError(f"it is not a {HEAD_FORMAT} document")
            last = Link.from_json(_member(data, "last"))
            return Head(last, Claim.from_json(_member(data, "pending")), got.etag)
        except ValueError as e:
            raise ChainCorrupted(
                f"chain head s3://{self.bucket}/{self.head_key} is unreadable ({_first_line(e)}); "
                "restore its previous version (the bucket is versioned) to continue the chain"
            ) from e

    def _swap(
        self, old: Head, last: Link | None, pending: Claim | None, box: Timebox | None = None
    ) -> Head | None:
        """Replace the head if it is still ``old``; None when another generator changed it first."""
        new = Head(last, pending, None)
        conditions = {"IfMatch": old.etag} if old.etag else {"IfNoneMatch": "*"}
        try:
            answer = self._put(self.head_key, new.body(), box, **conditions)
        except ClientError as e:
            # 404 answers If-Match when the head was deleted; both mean "re-read and decide again".
            if _precondition_failed(e) or _not_found(e):
                return None
            raise
        return Head(last, pending, answer.get("ETag"))

    # -- trigger records ----------------------------------------------------------------------------
    def trigger_key(self, report_id: str) -> str:
        return f"{self.trigger_prefix}{report_id}.json"

    def find_trigger(self, report_id: str) -> TriggerRecord | None:
        key = self.trigger_key(report_id)
        got = self._get(key)
        if got is None:
            return None
        try:
            return TriggerRecord.from_json(json.loads(got.body))
        except ValueError as e:
            raise ChainCorrupted(
                f"trigger record s3://{self.bucket}/{key} is unreadable ({_first_line(e)}); "
                "restore its previous version (the bucket is versioned)"
            ) from e

    def record_trigger(self, stored: Stored, alert: str) -> None:
        """``alert`` is ``pending``, ``sent`` or ``not-needed``; a retry re-sends a pending alert."""
        claim = stored.claim
        record = TriggerRecord(claim.report_id, claim.sequence, claim.key, stored.sha256, alert)
        self._put(self.trigger_key(claim.report_id), record.body())

    def read_report(self, key: str) -> bytes:
        got = self._get(key)
        if got is None:
            raise ReportWriteFailed(
                f"report s3://{self.bucket}/{key} named by the chain does not exist"
            )
        return got.body

    # -- claiming -----------------------------------------------------------------------------------
    def claim(
        self,
        report_id: str,
        lease_expires_at: datetime,
        give_up_at: float,
        head: Head | None = None,
    ) -> Claim | Stored:
        """Claim the next sequence for ``report_id``.

        Returns the new Claim, or Stored when a previous attempt of the same trigger already stored its
        report (the caller then only finishes that run). Raises ChainBusy when another live claim still
        holds the chain at ``give_up_at`` (``time.monotonic()``).
        """
        delay = 0.05
        with self._calls_lock:
            self.slowest_call_s = 0.0
        head = head or self.read_head()
        while True:
            pending = head.pending
            if pending is None:
                now = self.clock()
                sequence = 0 if head.last is None else head.last.sequence + 1
                claim = Claim(
                    sequence,
                    report_key(self.report_prefix, now, sequence, report_id),
                    report_id,
                    now,
                    lease_expires_at,
                    head.last,
                )
                try:
                    self.claimed_head = self._swap(head, head.last, claim)
                except OutOfTime:
                    # The swap's outcome is unknown: undo it if it landed (a claim nobody works on
                    # would otherwise hold the chain for its whole lease).
                    self.release(claim)
                    raise
                if self.claimed_head is not None:
                    return claim
                head = self.read_head()
                continue
            if self._exists(pending.key):
                stored = self._roll_forward(head)
                if pending.report_id == report_id and stored is not None:
                    return stored
                head = self.read_head()
                continue
            if self.clock() > pending.lease_expires_at:
                # The claimant is past its deadline and never wrote its report: undo the claim.
                self._swap(head, pending.previous, None)
                head = self.read_head()
                continue
            if time.monotonic() + delay > give_up_at:
                raise ChainBusy(
                    f"chain head s3://{self.bucket}/{self.head_key} is claimed by report {pending.report_id} "
                    f"(sequence {pending.sequence}) until {utc_z(pending.lease_expires_at)}"
                )
            self.sleep(delay * (0.5 + random.random()))  # noqa: S311 (jitter, not a secret)
            delay = min(delay * 2, 1.0)
            head = self.read_head()

    def _roll_forward(self, head: Head) -> Stored | None:
        """Commit a pending claim whose report exists (its claimant stopped before committing)."""
        assert head.pending is not None
        stored = Stored(head.pending, sha256_hex(self.read_report(head.pending.key)))
        existing = self.find_trigger(head.pending.report_id)
        self.record_trigger(stored, existing.alert if existing else "pending")
        if (
            self._swap(head, Link(stored.claim.sequence, stored.claim.key, stored.sha256), None)
            is not None
        ):
            return stored
        return None

    # -- writing ------------------------------------------------------------------------------------
    def write_report(self, claim: Claim, body: bytes) -> Stored:
        """Store the report once. Before sending: release the claim and raise (ReportWriteFailed,
        OutOfTime) when its lease or the run's time would not last. After a definite refusal: release
        and raise ReportWriteFailed. When the PUT's outcome is unknown (no answer in time), the claim is
        left to its lease: the next run rolls it forward if the report landed, back otherwise.

        One PutObject: S3 takes up to 5 GB in a single PUT
        (https://docs.aws.amazon.com/AmazonS3/latest/userguide/upload-objects.html), and a report is
        ~170 bytes a finding (17 MB at 100,000), so no report comes near needing a multipart upload."""
        if self.clock() >= claim.lease_expires_at - LEASE_MARGIN:
            self.release(claim)
            raise ReportWriteFailed(
                f"claim on sequence {claim.sequence} ran past its deadline; nothing written"
            )
        needed, left = STORE_ROUND_TRIPS * self.slowest_call_s, self.calls.remaining_s()
        if left < needed:
            self.release(claim)
            raise OutOfTime(
                f"storing report {claim.key} needs ~{needed:.1f} s ({STORE_ROUND_TRIPS} S3 writes at up "
                f"to {self.slowest_call_s:.1f} s each since the claim), {max(left, 0.0):.1f} s left for AWS "
                "calls: claim released, nothing written"
            )
        try:
            self._put(claim.key, body, IfNoneMatch="*")
            return Stored(claim, sha256_hex(body))
        except OutOfTime as e:
            raise OutOfTime(
                f"{e}; the report may have landed, so its claim is left to its lease"
            ) from e
        except ClientError as e:
            if _precondition_failed(e):
                # Our own earlier attempt (e.g. a retried PUT whose first answer was lost) stored it.
                return Stored(claim, sha256_hex(self.read_report(claim.key)))
            self.release(claim)
            raise ReportWriteFailed(
                f"storing s3://{self.bucket}/{claim.key} failed ({_code(e) or _status(e)}); "
                "nothing was written"
            ) from e

    def commit_head(self, stored: Stored) -> None:
        """Move the head to the new report (unless someone rolled it forward); only after its trigger
        record is written (``record_trigger``), so a retry finds the report whatever the head says."""
        link = Link(stored.claim.sequence, stored.claim.key, stored.sha256)
        head = self.claimed_head
        if head is not None and head.etag and self._swap(head, link, None) is not None:
            return
        while True:
            head = self.read_head()
            if head.last == link:
                return
            if head.pending is None or head.pending.key != stored.claim.key:
                raise ReportWriteFailed(
                    f"chain head no longer holds the claim on {stored.claim.key}; the report is stored but "
                    "uncommitted (its lease must have expired)"
                )
            if self._swap(head, link, None) is not None:
                return

    def release(self, claim: Claim) -> None:
        """Best effort, in the cleanup timebox: undo our claim so the next run need not wait for the
        lease to run out. Only the exact claim is undone (every member, the lease included), never
        another run's claim on the same key."""
        try:
            head = self.claimed_head
            # The head as our claim left it: one conditional PUT, no read, when nothing changed since.
            if head is not None and head.pending == claim:
                if self._swap(head, claim.previous, None, self.cleanup) is not None:
                    return
            head = self.read_head(self.cleanup)
            if head.pending is not None and head.pending.to_json() == claim.to_json():
                self._swap(head, claim.previous, None, self.cleanup)
        except (ClientError, BotoCoreError, ReportGeneratorError):
            pass
