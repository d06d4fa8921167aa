"""UTC timestamps as ``2026-07-05T06:00:00Z`` (milliseconds kept when present), from what AWS sends."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Optional


def to_datetime(value: Any) -> Optional[datetime]:
    """An aware UTC datetime from an ISO 8601 text (EventBridge, CloudTrail), epoch seconds or a
    datetime (botocore); None for None or text that is not a timestamp."""
    if value is None:
        return None
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, (int, float)) and not isinstance(value, bool):
        return datetime.fromtimestamp(value, tz=timezone.utc)
    elif isinstance(value, str):
        text = value.strip()
        if text.endswith(("Z", "z")):
            text = text[:-1] + "+00:00"
        head, dot, rest = text.partition(".")
        if dot:  # Python 3.9's fromisoformat takes exactly 3 or 6 fraction digits
            # the fraction is the leading digits only: the zone's (+00:00) are not part of it
            zone = rest.lstrip("0123456789")
            digits = rest[: len(rest) - len(zone)]
            text = f"{head}.{(digits + '000000')[:6]}{zone}"
        try:
            moment = datetime.fromisoformat(text)
        except ValueError:
            return None
    else:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    return moment.astimezone(timezone.utc)


def utc_z(value: Any) -> str:
    """``2026-07-05T06:00:00Z`` (``.123Z`` when there are milliseconds); the input as text when it
    is not a timestamp, so an odd value is shown rather than lost."""
    moment = to_datetime(value)
    if moment is None:
        return str(value)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond // 1000:
        text += f".{moment.microsecond // 1000:03d}"
    return text + "Z"
