"""RFC 3339 UTC timestamps with a Z suffix, the only time format a report uses.

The clients keep AWS timestamps raw (see clients.py: botocore's own timestamp parsing was 3/4 of the
client CPU of a 100-result page), so ``to_datetime`` accepts what AWS sends: epoch seconds in the JSON
protocols, ISO 8601 text elsewhere, or a datetime when a caller already has one.
"""

from __future__ import annotations

import re
import time
from datetime import datetime, timezone
from functools import lru_cache
from typing import Any

_FRACTION = re.compile(r"\.(\d+)")


def to_datetime(value: Any) -> datetime | None:
    """An aware UTC datetime from a raw AWS timestamp; None for a missing one."""
    if value is None:
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, tz=timezone.utc)
    elif isinstance(value, str):
        try:
            return datetime.fromtimestamp(float(value), tz=timezone.utc)
        except ValueError:
            pass
        text = value[:-1] + "+00:00" if value.endswith(("Z", "z")) else value
        # Python 3.9's fromisoformat takes exactly 3 or 6 fraction digits.
        text = _FRACTION.sub(lambda m: "." + (m.group(1) + "000000")[:6], text, count=1)
        try:
            moment = datetime.fromisoformat(text)
        except ValueError as e:
            raise ValueError(f"timestamp {value!r} is neither epoch seconds nor ISO 8601") from e
    else:
        raise ValueError(f"timestamp {value!r} is neither epoch seconds nor ISO 8601")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


@lru_cache(maxsize=4096)
def _epoch_utc_z(seconds: float) -> str:
    """Fast path for the JSON protocols' epoch seconds: one per finding, 10,000 in a large report.

    Cached: the results of one evaluation share their recording times, so most findings repeat one.
    """
    whole = int(seconds // 1)
    micros = int(round((seconds - whole) * 1_000_000))  # as datetime.fromtimestamp rounds
    if micros == 1_000_000:
        whole, micros = whole + 1, 0
    millis = micros // 1000  # then truncated to milliseconds, as utc_z does for datetimes
    t = time.gmtime(whole)
    text = f"{t.tm_year:04d}-{t.tm_mon:02d}-{t.tm_mday:02d}T{t.tm_hour:02d}:{t.tm_min:02d}:{t.tm_sec:02d}"
    return f"{text}.{millis:03d}Z" if millis else f"{text}Z"


def utc_z(moment: Any) -> str:
    """``2026-11-26T06:00:00.123Z``: milliseconds kept when present, naive datetimes taken as UTC."""
    if isinstance(moment, (int, float)) and not isinstance(moment, bool):
        return _epoch_utc_z(moment)
    parsed = to_datetime(moment)
    if parsed is None:
        raise ValueError("timestamp is missing")
    text = parsed.strftime("%Y-%m-%dT%H:%M:%S")
    if parsed.microsecond // 1000:
        text += f".{parsed.microsecond // 1000:03d}"
    return text + "Z"


def optional_utc_z(value: Any) -> str | None:
    return None if value is None else utc_z(value)


def parse_utc_z(text: str) -> datetime:
    parsed = to_datetime(text)
    if parsed is None:
        raise ValueError("timestamp is missing")
    return parsed
