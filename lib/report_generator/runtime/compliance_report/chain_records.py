"""The chain's bookkeeping documents as frozen records: how each reads and writes its JSON.

chain.py says what each object is for and when it is written. They are read strictly: a value guessed
from a damaged document could fork the trail, so a malformed one raises ValueError naming the member,
and the caller decides (a head or trigger record is only a cache and is then ignored; a claim that
cannot be read is never taken over).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Optional

from .timefmt import parse_utc_z, utc_z

HEAD_FORMAT = "compliance-chain-head/1"
CLAIM_FORMAT = "compliance-claim/1"
TRIGGER_FORMAT = "compliance-trigger/1"
ALERT_STATES = ("pending", "sent", "not-needed")


def _member(data: Any, name: str) -> Any:
    """``data[name]`` of a JSON object; ValueError (naming the member) for anything else."""
    if not isinstance(data, dict):
        raise ValueError(f"expected an object holding {name!r}, got {type(data).__name__}")
    if name not in data:
        raise ValueError(f"{name!r} is missing")
    return data[name]


def _integer(data: Any, name: str) -> int:
    value = _member(data, name)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise ValueError(f"{name!r} must be a non-negative integer, got {value!r}")
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


def json_bytes(data: dict[str, Any]) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":")).encode("utf-8") + b"\n"


def load_object(body: bytes, expected_format: str) -> dict[str, Any]:
    """The JSON object of a bookkeeping document of ``expected_format``; ValueError otherwise."""
    data = json.loads(body)  # ValueError: not JSON, or not UTF-8
    if not isinstance(data, dict) or data.get("format") != expected_format:
        raise ValueError(f"it is not a {expected_format} document")
    return data


@dataclass(frozen=True)
class Link:
    """A report in the trail: its sequence, key and the SHA-256 of its stored bytes."""

    sequence: int
    key: str
    sha256: str

    def to_json(self) -> dict[str, Any]:
        return {"sequence": self.sequence, "key": self.key, "sha256": self.sha256}

    @staticmethod
    def from_json(data: Any) -> Optional[Link]:
        """None for JSON null; ValueError naming the member for a malformed link."""
        if data is None:
            return None
        return Link(_integer(data, "sequence"), _text(data, "key"), _sha256(data))


@dataclass(frozen=True)
class Claim:
    """``chain/claims/<sequence>.json``: who writes the report of one sequence, and for how long.

    ``lease_s`` counts from the claim object's Last-Modified time, on S3's clock; ``released`` says its
    run stopped working on it (before or after storing its report)."""

    sequence: int
    key: str
    report_id: str
    generated_at: datetime
    previous: Optional[Link]
    lease_s: int
    released: bool = False

    def body(self) -> bytes:
        return json_bytes(
            {
                "format": CLAIM_FORMAT,
                "sequence": self.sequence,
                "key": self.key,
                "reportId": self.report_id,
                "generatedAt": utc_z(self.generated_at),
                "previous": None if self.previous is None else self.previous.to_json(),
                "leaseSeconds": self.lease_s,
                "released": self.released,
            }
        )

    @staticmethod
    def from_body(body: bytes) -> Claim:
        data = load_object(body, CLAIM_FORMAT)
        released = _member(data, "released")
        if not isinstance(released, bool):
            raise ValueError(f"'released' must be true or false, got {released!r}")
        return Claim(
            _integer(data, "sequence"),
            _text(data, "key"),
            _text(data, "reportId"),
            _time(data, "generatedAt"),
            Link.from_json(_member(data, "previous")),
            _integer(data, "leaseSeconds"),
            released,
        )


@dataclass(frozen=True)
class Head:
    """``chain/head.json`` as read: ``state`` is ``absent``, ``unreadable`` or ``present``; ``last`` the
    newest report it names; ``etag`` for replacing it by compare-and-swap (None when absent)."""

    state: str
    last: Optional[Link]
    etag: Optional[str]
    note: str = ""

    @staticmethod
    def body(last: Link) -> bytes:
        # ``pending`` stays in the format (the auditor reads it, and ignores what it does not know):
        # claims now live in objects of their own, so it is always null.
        return json_bytes({"format": HEAD_FORMAT, "last": last.to_json(), "pending": None})

    @staticmethod
    def parse(body: bytes, etag: str) -> Head:
        try:
            data = load_object(body, HEAD_FORMAT)
            return Head("present", Link.from_json(_member(data, "last")), etag)
        except ValueError as e:
            return Head("unreadable", None, etag, str(e).splitlines()[0][:200] if str(e) else "")


@dataclass(frozen=True)
class TriggerRecord:
    """``chain/triggers/<reportId>.json``: the trigger's report and whether its alert is out
    (``pending``, ``sent`` or ``not-needed``)."""

    report_id: str
    sequence: int
    key: str
    sha256: str
    alert: str

    @property
    def link(self) -> Link:
        return Link(self.sequence, self.key, self.sha256)

    def body(self) -> bytes:
        return json_bytes(
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
            _text(data, "reportId"),
            _integer(data, "sequence"),
            _text(data, "key"),
            _sha256(data),
            alert,
        )
