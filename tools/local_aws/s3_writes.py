"""S3 object writes of one key: atomic compare-and-swap, and S3's ``409 ConditionalRequestConflict``.

Amazon S3 API Reference, PutObject (botocore's S3 model carries the same text for ``IfNoneMatch`` and
``IfMatch`` of PutObject, CopyObject and CompleteMultipartUpload): "If a conflicting operation occurs
during the upload S3 returns a 409 ConditionalRequestConflict response. On a 409 failure you should
retry the upload" (for ``If-Match``: "fetch the object's ETag and retry the upload"). A client that
writes conditionally must therefore expect a 409 besides the 412 of a failed precondition.

Every write of an object key (PutObject, CopyObject, CompleteMultipartUpload, DeleteObject) is *in
progress* from the moment its request reaches the emulator until its answer is built, including the
time its body takes to arrive, so a slow upload keeps it in progress as long as the client likes.
The emulator answers the conflict two ways, steered by ``/_local_aws/s3/conditional-conflicts``:

* **injected** (a fault kind): after the first ``skip`` of them, ``count`` (or a ``rate``) of the
  conditional writes to keys under ``prefix`` (optionally of one ``bucket``) are answered 409 before
  anything is stored;
* **racing** (the real cause): a conditional write of a key that another write is in progress on is
  answered 409, and so is a conditional write in progress when another write of its key arrives
  (its upload met a conflicting operation). Whichever else happens, nothing half-written is stored.

With racing off (the default) conditional writes of one key wait for each other instead, so
``If-None-Match`` / ``If-Match`` are an atomic compare-and-swap as in S3 (moto checks the condition
and stores the object in two steps, which concurrent writers could interleave).
"""

from __future__ import annotations

import random
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from .calls import AwsCall, error_response, read_body
from .clock import ControlError
from .control import route

# Conditional requests, Amazon S3 User Guide: If-None-Match / If-Match on these writes.
CONDITIONAL_WRITES = {"PutObject", "CopyObject", "CompleteMultipartUpload"}
KEY_WRITES = CONDITIONAL_WRITES | {"DeleteObject"}
CONFLICT_CODE = "ConditionalRequestConflict"
CONFLICT_MESSAGE = (
    "A conflicting conditional operation is currently in progress against this resource. "
    "Please try again."
)
_STRIPES = 64

Respond = Callable[[int, list[tuple[str, str]], bytes], Iterable[bytes]]
Moto = Callable[[], Iterable[bytes]]


@dataclass
class Injection:
    prefix: str
    bucket: str | None
    count: int | None
    rate: float
    seed: int | None
    skip: int = 0
    seen: int = 0
    fired: int = 0
    rng: random.Random = field(default_factory=random.Random, repr=False)

    def describe(self) -> dict[str, Any]:
        return {
            "bucket": self.bucket,
            "prefix": self.prefix,
            "count": self.count,
            "rate": self.rate,
            "seed": self.seed,
            "skip": self.skip,
            "fired": self.fired,
        }


@dataclass
class _Write:
    conditional: bool
    conflicted: bool = False


def is_conditional(call: AwsCall, environ: dict[str, Any]) -> bool:
    return call.operation in CONDITIONAL_WRITES and bool(
        environ.get("HTTP_IF_NONE_MATCH") or environ.get("HTTP_IF_MATCH")
    )


class S3Writes:
    """The writes in progress per (bucket, key), the conflict settings and their counters."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._in_progress: dict[tuple[str, str], list[_Write]] = {}
        self._stripes = [threading.Lock() for _ in range(_STRIPES)]
        self.injection: Injection | None = None
        self.racing = False
        self.raced = 0

    # -- control ------------------------------------------------------------------------------------
    def configure(self, body: Any) -> dict[str, Any]:
        """Validate a whole setting, then install it (``POST /_local_aws/s3/conditional-conflicts``)."""
        if not isinstance(body, dict):
            raise ControlError("body: must be a JSON object with inject and racing")
        extra = sorted(set(body) - {"inject", "racing"})
        if extra:
            raise ControlError(f"{extra[0]}: unknown field (allowed: inject, racing)")
        racing = body.get("racing", False)
        if not isinstance(racing, bool):
            raise ControlError("racing: must be true or false")
        injection = _injection(body.get("inject"))
        with self._lock:
            self.injection = injection
            self.racing = racing
            self.raced = 0
        return self.describe()

    def clear(self) -> None:
        with self._lock:
            self.injection = None
            self.racing = False
            self.raced = 0

    def describe(self) -> dict[str, Any]:
        with self._lock:
            return {
                "inject": None if self.injection is None else self.injection.describe(),
                "racing": self.racing,
                "raced": self.raced,
                "inProgress": sorted(f"{b}/{k}" for (b, k), w in self._in_progress.items() if w),
            }

    # -- the request path -------------------------------------------------------------------------
    def serve(
        self, call: AwsCall, environ: dict[str, Any], respond: Respond, moto: Moto
    ) -> Iterable[bytes]:
        """Answer one write of an object key: 409 when injected or raced, else moto's answer."""
        bucket, key = str(call.params.get("Bucket", "")), str(call.params.get("Key", ""))
        conditional = is_conditional(call, environ)
        if conditional and self._inject(bucket, key):
            read_body(environ)  # the request is answered whole, so the connection stays usable
            return respond(*error_response(call, CONFLICT_CODE, 409, CONFLICT_MESSAGE))
        target = (bucket, key)
        write = _Write(conditional)
        with self._lock:
            others = self._in_progress.setdefault(target, [])
            if self.racing and others:
                write.conflicted = conditional
                for other in others:
                    other.conflicted = other.conditional
            others.append(write)
        try:
            read_body(environ)  # a slow upload stays in progress while its body arrives
            if self.racing and write.conflicted:
                with self._lock:
                    self.raced += 1
                return respond(*error_response(call, CONFLICT_CODE, 409, CONFLICT_MESSAGE))
            if not conditional:
                return list(moto())
            with self._stripes[hash(target) % _STRIPES]:
                return list(moto())
        finally:
            with self._lock:
                others = self._in_progress[target]
                others.remove(write)
                if not others:
                    del self._in_progress[target]

    def _inject(self, bucket: str, key: str) -> bool:
        with self._lock:
            rule = self.injection
            if rule is None or not key.startswith(rule.prefix):
                return False
            if rule.bucket is not None and rule.bucket != bucket:
                return False
            rule.seen += 1
            if rule.seen <= rule.skip:
                return False
            if rule.count is not None and rule.fired >= rule.count:
                return False
            if rule.rate < 1.0 and rule.rng.random() >= rule.rate:
                return False
            rule.fired += 1
            return True


def _injection(raw: Any) -> Injection | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise ControlError(
            "inject: must be null or an object with prefix, bucket, skip, count, rate, seed"
        )
    allowed = {"prefix", "bucket", "skip", "count", "rate", "seed"}
    extra = sorted(set(raw) - allowed)
    if extra:
        raise ControlError(
            f"inject.{extra[0]}: unknown field (allowed: {', '.join(sorted(allowed))})"
        )
    prefix = raw.get("prefix", "")
    if not isinstance(prefix, str):
        raise ControlError('inject.prefix: must be a key prefix such as "chain/" ("" = any key)')
    bucket = raw.get("bucket")
    if bucket is not None and (not isinstance(bucket, str) or not bucket):
        raise ControlError("inject.bucket: must be null (any bucket) or a bucket name")
    count = raw.get("count")
    if count is not None and (not isinstance(count, int) or isinstance(count, bool) or count < 1):
        raise ControlError("inject.count: must be null (no limit) or an integer >= 1")
    rate = raw.get("rate", 1.0)
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0.0 <= rate <= 1.0:
        raise ControlError("inject.rate: must be a number from 0 to 1")
    seed = raw.get("seed")
    if seed is not None and (not isinstance(seed, int) or isinstance(seed, bool)):
        raise ControlError("inject.seed: must be null or an integer")
    skip = raw.get("skip", 0)
    if not isinstance(skip, int) or isinstance(skip, bool) or skip < 0:
        raise ControlError(
            "inject.skip: must be an integer >= 0 (matching writes let through first)"
        )
    rng = random.Random(seed)  # noqa: S311 (fault sampling, not cryptography)
    return Injection(prefix, bucket, count, float(rate), seed, skip, rng=rng)


class S3Control:
    """The ``s3/conditional-conflicts`` control routes over one ``S3Writes``."""

    def __init__(self, writes: S3Writes) -> None:
        self.writes = writes

    @route("GET", "s3/conditional-conflicts")
    def s3_conflicts(self, _: Any) -> dict[str, Any]:
        return self.writes.describe()

    @route("POST", "s3/conditional-conflicts")
    def set_s3_conflicts(self, body: Any) -> dict[str, Any]:
        return self.writes.configure(body)

    @route("DELETE", "s3/conditional-conflicts")
    def clear_s3_conflicts(self, _: Any) -> dict[str, Any]:
        self.writes.clear()
        return self.writes.describe()
