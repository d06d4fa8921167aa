"""The emulator's clock: real UTC time, or a fixed instant set through the control API.

Only the Config extension reads it (result times, evaluation times, recorder and channel status
times), so a demo can replay a quarter day by day while S3, SNS and the rest keep moto's real
timestamps.
"""

from __future__ import annotations

import threading
from datetime import datetime, timezone


class ControlError(ValueError):
    """Bad input to the control API; the message is one line: the field and the rule it broke."""


def parse_instant(value: str, field: str) -> datetime:
    """Parse an RFC 3339 UTC instant ending in Z, e.g. 2026-07-01T06:00:00Z."""
    if not isinstance(value, str) or not value.endswith("Z"):
        raise ControlError(f"{field}: must be an RFC 3339 UTC time ending in Z, got {value!r}")
    try:
        parsed = datetime.fromisoformat(value[:-1] + "+00:00")
    except ValueError:
        raise ControlError(
            f"{field}: must be an RFC 3339 UTC time ending in Z, got {value!r}"
        ) from None
    return parsed.astimezone(timezone.utc)


def format_instant(moment: datetime) -> str:
    """RFC 3339 with a Z suffix; milliseconds only when the instant has them."""
    moment = moment.astimezone(timezone.utc)
    if moment.microsecond:
        return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


class Clock:
    """Thread-safe clock. While an instant is set, time stands still at it until set again."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._fixed: datetime | None = None

    def now(self) -> datetime:
        with self._lock:
            fixed = self._fixed
        return fixed if fixed is not None else datetime.now(timezone.utc)

    def set(self, instant: datetime | None) -> None:
        with self._lock:
            self._fixed = instant

    def describe(self) -> dict[str, object]:
        with self._lock:
            fixed = self._fixed
        now = fixed if fixed is not None else datetime.now(timezone.utc)
        return {"now": format_instant(now), "fixed": fixed is not None}
