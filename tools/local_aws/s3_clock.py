"""S3's clock: real time, or ahead of it by an amount set through the control API.

The report generator's claims rest on S3's own times, never on its host's clock: a claim's lease runs
from the claim object's ``Last-Modified`` and is over once the ``Date`` of a later S3 answer is past it
(lib/report_generator/runtime/compliance_report/chain.py). A test that needs a lease to run out moves
S3's clock forward instead of waiting minutes; a test of a host whose clock is wrong skews the host
(the runtime's injected clock) and leaves S3's alone.

``POST /_local_aws/s3/clock {"aheadSeconds": 600}`` puts S3's clock 600 s ahead of real time: objects
written from then on carry ``Last-Modified`` (and versions, delete markers) of that time, and every S3
answer's ``Date`` header says it. Moving it forward is time passing on S3; moving it back is allowed too
(a clock correction) but objects keep the times they were written with. ``POST /_local_aws/reset``
sets it back to real time. The emulator's other clock (``/_local_aws/clock``) is AWS Config's alone.
"""

from __future__ import annotations

import threading
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from typing import Any, Callable

from .clock import ControlError
from .control import route

# One year either way is far more than any test needs; beyond it a typo is the likelier cause.
MAX_AHEAD_S = 366 * 24 * 3600


class S3Clock:
    """The amount S3's clock is ahead of real time (process-wide, as moto's S3 backend is)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ahead = timedelta(0)

    def ahead(self) -> timedelta:
        with self._lock:
            return self._ahead

    def set_ahead(self, seconds: float) -> None:
        with self._lock:
            self._ahead = timedelta(seconds=seconds)

    def now(self) -> datetime:
        return datetime.now(timezone.utc) + self.ahead()

    def describe(self) -> dict[str, Any]:
        now = self.now()
        return {
            "aheadSeconds": self.ahead().total_seconds(),
            "now": now.strftime("%Y-%m-%dT%H:%M:%S.") + f"{now.microsecond // 1000:03d}Z",
        }


CLOCK = S3Clock()
_patched = False


def patch_moto_s3_time() -> None:
    """moto's S3 models stamp objects, versions and delete markers with ``utcnow()`` (a naive UTC
    datetime); give them S3's clock instead."""
    global _patched
    if _patched:
        return
    _patched = True
    from moto.s3 import models

    def utcnow() -> datetime:
        return CLOCK.now().replace(tzinfo=None)

    models.utcnow = utcnow  # type: ignore[attr-defined]


def with_s3_date(start_response: Callable[..., Any]) -> Callable[..., Any]:
    """``start_response`` for an S3 answer: its ``Date`` header is S3's clock (the server would
    otherwise add real time)."""

    def start(status: str, headers: list[tuple[str, str]], *args: Any) -> Any:
        kept = [(k, v) for k, v in headers if k.lower() != "date"]
        kept.append(("Date", format_datetime(CLOCK.now(), usegmt=True)))
        return start_response(status, kept, *args)

    return start


class S3ClockControl:
    """``GET`` / ``POST /_local_aws/s3/clock``."""

    def __init__(self, clock: S3Clock) -> None:
        self.clock = clock

    @route("GET", "s3/clock")
    def s3_clock(self, _: Any) -> dict[str, Any]:
        return self.clock.describe()

    @route("POST", "s3/clock")
    def set_s3_clock(self, body: Any) -> dict[str, Any]:
        if not isinstance(body, dict) or "aheadSeconds" not in body:
            raise ControlError("aheadSeconds: required, seconds S3's clock runs ahead of real time")
        extra = sorted(set(body) - {"aheadSeconds"})
        if extra:
            raise ControlError(f"{extra[0]}: unknown field (allowed: aheadSeconds)")
        ahead = body["aheadSeconds"]
        if isinstance(ahead, bool) or not isinstance(ahead, (int, float)):
            raise ControlError("aheadSeconds: must be a number of seconds")
        if abs(ahead) > MAX_AHEAD_S:
            raise ControlError(f"aheadSeconds: must be within {MAX_AHEAD_S} seconds of real time")
        self.clock.set_ahead(float(ahead))
        return self.clock.describe()
