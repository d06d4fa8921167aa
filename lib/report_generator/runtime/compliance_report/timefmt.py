"""RFC 3339 UTC timestamps with a Z suffix, the only time format a report uses."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any


def utc_z(moment: datetime) -> str:
    """``2026-11-26T06:00:00.123Z``: milliseconds kept when present, naive datetimes taken as UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    moment = moment.astimezone(timezone.utc)
    text = moment.strftime("%Y-%m-%dT%H:%M:%S")
    if moment.microsecond:
        text += f".{moment.microsecond // 1000:03d}"
    return text + "Z"


def optional_utc_z(value: Any) -> str | None:
    return utc_z(value) if isinstance(value, datetime) else None


def parse_utc_z(text: str) -> datetime:
    return datetime.fromisoformat(text[:-1] + "+00:00" if text.endswith("Z") else text)
