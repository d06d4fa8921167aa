"""The exceptions register as a run uses it: read from the layer, stored in the bucket, applied as labels.

docs/report-format.md, "Exceptions (schema 1.1)", is the contract. The stack's layer holds the deployed
register's bytes at ``EXCEPTIONS_REGISTER_PATH`` and names its object ``EXCEPTIONS_REGISTER_KEY``
(``exceptions/<sha256>.json``). A run:

1. reads the file and checks that its bytes hash to the key's SHA-256, and that it reads as
   ``compliance-exceptions/1``; a file that cannot be read, or bytes of another register, stop the run
   (``RegisterUnusable``): a report is never labelled from a register other than the one it names, and
   never written unlabelled because the register was missing;
2. stores the bytes at the key with ``If-None-Match: *`` (``ChainStore.store_once``): the first run after
   a deploy writes it, every later run gets 412 and checks that the stored bytes are the same, so the
   object a report names is the object the auditor reads. The bucket is versioned and under the 7-year
   lifecycle, so every register that was ever in force is kept;
3. labels each finding that an entry in force covers. In force on a report: ``created <= D <=
   expires``, D the UTC date of the report's ``generatedAt``; it covers a finding when the entry's
   ``rule`` + ``-`` + the environment suffix is the finding's rule name and the resource type and id are
   equal. A label never removes a finding.

Standard library only (the Lambda runtime); dates stay ``YYYY-MM-DD`` text, which compares in date order.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Optional

from .errors import RegisterUnusable

FORMAT = "compliance-exceptions/1"
KEY = re.compile(r"^exceptions/(?P<sha256>[0-9a-f]{64})\.json$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
# An entry's members, in the order the register's contract lists them (lib/exceptions validates them
# at synth with the same names).
ENTRY_FIELDS = (
    "id",
    "rule",
    "resourceType",
    "resourceId",
    "reason",
    "approver",
    "ticket",
    "created",
    "expires",
)
# The daily e-mail lists the exceptions that end within this many days (issue: "expiring within 14 days").
EXPIRING_WITHIN_DAYS = 14


@dataclass(frozen=True)
class Label:
    """What a 1.1 report's finding carries when an exception in force covers it."""

    id: str
    approver: str
    expires: str  # YYYY-MM-DD

    def to_json(self) -> dict[str, str]:
        return {"id": self.id, "approver": self.approver, "expires": self.expires}

    @staticmethod
    def from_json(data: Mapping[str, Any]) -> Label:
        return Label(str(data["id"]), str(data["approver"]), str(data["expires"]))


@dataclass(frozen=True)
class Entry:
    id: str
    rule: str  # without the environment suffix
    resource_type: str
    resource_id: str
    reason: str
    approver: str
    ticket: str
    created: str
    expires: str

    def in_force(self, day: str) -> bool:
        return self.created <= day <= self.expires

    def to_json(self) -> dict[str, str]:
        return {
            "id": self.id,
            "rule": self.rule,
            "resourceType": self.resource_type,
            "resourceId": self.resource_id,
            "reason": self.reason,
            "approver": self.approver,
            "ticket": self.ticket,
            "created": self.created,
            "expires": self.expires,
        }

    @property
    def label(self) -> Label:
        return Label(self.id, self.approver, self.expires)


@dataclass(frozen=True)
class RegisterRef:
    """A 1.1 report's ``exceptionRegister``: the stored object it was labelled from."""

    key: str
    version_id: Optional[str]
    sha256: str
    entries: int

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "versionId": self.version_id,
            "sha256": self.sha256,
            "entries": self.entries,
        }

    @staticmethod
    def from_json(data: Optional[Mapping[str, Any]]) -> Optional[RegisterRef]:
        if data is None:
            return None
        return RegisterRef(
            str(data["key"]), data["versionId"], str(data["sha256"]), int(data["entries"])
        )


@dataclass(frozen=True)
class Register:
    """The deployed register's bytes and entries."""

    key: str
    sha256: str
    body: bytes
    entries: tuple[Entry, ...]

    def ref(self, version_id: Optional[str]) -> RegisterRef:
        return RegisterRef(self.key, version_id, self.sha256, len(self.entries))

    def labels(self, suffix: str, day: str) -> Labels:
        """The labels of the entries in force on ``day`` (YYYY-MM-DD), by finding."""
        return {
            (f"{e.rule}-{suffix}", e.resource_type, e.resource_id): e.label
            for e in self.entries
            if e.in_force(day)
        }

    def expiring(self, day: str, within_days: int = EXPIRING_WITHIN_DAYS) -> tuple[Entry, ...]:
        """Entries in force on ``day`` whose last day is within ``within_days`` after it, soonest
        first."""
        last = (date.fromisoformat(day) + timedelta(days=within_days)).isoformat()
        return tuple(
            sorted(
                (e for e in self.entries if e.in_force(day) and e.expires <= last),
                key=lambda e: (e.expires, e.id),
            )
        )


# (rule name with suffix, resource type, resource id) -> label
Labels = dict[tuple[str, str, str], Label]


def _entry(index: int, item: Any) -> Entry:
    if not isinstance(item, dict) or set(item) != set(ENTRY_FIELDS):
        raise ValueError(f"exceptions[{index}] must have exactly {', '.join(ENTRY_FIELDS)}")
    if not all(isinstance(item[name], str) and item[name] for name in ENTRY_FIELDS):
        raise ValueError(f"exceptions[{index}]: every field must be non-empty text")
    for name in ("created", "expires"):
        if not _DATE.match(item[name]):
            raise ValueError(f"exceptions[{index}].{name} {item[name]!r} is not YYYY-MM-DD")
    return Entry(*(item[name] for name in ENTRY_FIELDS))


def parse(body: bytes) -> tuple[Entry, ...]:
    """The entries of a register's bytes; ValueError naming what is wrong."""
    data = json.loads(body)
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise ValueError(f"not a {FORMAT} register")
    items = data.get("exceptions")
    if not isinstance(items, list):
        raise ValueError("exceptions must be a list")
    return tuple(_entry(i, item) for i, item in enumerate(items))


def load(path: str, key: str) -> Register:
    """The register the function was deployed with: the file's bytes, which must hash to ``key``."""
    match = KEY.match(key)
    if match is None:
        raise RegisterUnusable(f"exceptions register key {key!r} is not exceptions/<sha256>.json")
    try:
        with open(path, "rb") as file:
            body = file.read()
    except OSError as e:
        raise RegisterUnusable(
            f"exceptions register {path} cannot be read ({e.strerror or e}): no report is written "
            f"without the register it would name ({key})"
        ) from e
    sha256 = hashlib.sha256(body).hexdigest()
    if sha256 != match.group("sha256"):
        raise RegisterUnusable(
            f"exceptions register {path} hashes to {sha256}, not the {match.group('sha256')} its key "
            f"{key} names: the layer and the function's environment are of different deploys"
        )
    try:
        entries = parse(body)
    except (ValueError, UnicodeDecodeError) as e:
        raise RegisterUnusable(f"exceptions register {path} is unreadable: {e}") from e
    return Register(key, sha256, body, entries)
