"""The exceptions register, as the alert formatter reads it: which findings do not page in real time.

An exception is a risk someone accepted by name for a while: one finding (rule, resource type,
resource id), why, who approved it, under which ticket, from ``created`` through ``expires``
(docs/report-format.md, "The register object"; README, "Real-time alerts"). The stack deploys the
register twice over: as the object ``exceptions/<sha256 of the bytes>.json`` in the report bucket
(the evidence) and as a Lambda layer holding the same bytes, which Lambda extracts under ``/opt``.
The function is told the file (``EXCEPTIONS_REGISTER_PATH``) and the key of the object it was
deployed as (``EXCEPTIONS_REGISTER_KEY``), so the file can be held to the hash the key names.

The rules, stated once:

* **In force** on day D (UTC): ``created <= D <= expires``, through the end of the expiry day; the
  day after, the finding pages again. D is the UTC date on which AWS Config recorded the change
  (``resultRecordedTime``), so a change redelivered after midnight is judged by its own day.
* **Covers** a change when the register's ``rule`` + ``-`` + the environment suffix is the change's
  Config rule name (the stack names rules ``<rule>-<suffix>``), and resource type and id are equal.
  No patterns: one entry, one resource.
* **Never suppress by accident.** The register is read and checked once per execution environment.
  A file that cannot be read, whose SHA-256 is not the one the key names, or that is not
  ``compliance-exceptions/1`` suppresses nothing: the register is treated as empty, and the
  ``problem`` line goes into the log and into every e-mail the function sends. A key without a path
  (or the other way round) is such a problem too. No variables at all is a stack without a register:
  nothing is suppressed and nothing is said.

Standard library only, as the rest of the runtime.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Dict, Mapping, Optional, Tuple

from . import environment as var

FORMAT = "compliance-exceptions/1"
# A register of 10,000 entries with 500-character reasons is about 7 MB; the auditor refuses larger
# than 16 MiB (auditor/src/register.rs, MAX_REGISTER_BYTES), and so does this reader.
MAX_REGISTER_BYTES = 16 << 20
_KEY = re.compile(r"^exceptions/([0-9a-f]{64})\.json$")
_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
FIELDS = frozenset(
    (
        "approver",
        "created",
        "expires",
        "id",
        "reason",
        "resourceId",
        "resourceType",
        "rule",
        "ticket",
    )
)
NON_EMPTY = ("rule", "resourceType", "resourceId", "approver")


@dataclass(frozen=True)
class Entry:
    """One exception of the register."""

    id: str
    rule: str  # without the environment suffix
    resource_type: str
    resource_id: str
    approver: str
    ticket: str
    created: date
    expires: date

    def in_force(self, day: date) -> bool:
        return self.created <= day <= self.expires


@dataclass(frozen=True)
class Register:
    """The register in force for this execution environment; empty when none is configured or
    when the configured one is unusable (``problem`` then says why, in one line)."""

    key: Optional[str] = None
    sha256: Optional[str] = None
    entries: Tuple[Entry, ...] = ()
    problem: Optional[str] = None
    # entries by (rule, resource type, resource id): a batch of 10,000 changes asks once each
    _by_finding: Dict[Tuple[str, str, str], Tuple[Entry, ...]] = field(
        init=False, repr=False, compare=False, default_factory=dict
    )

    def __post_init__(self) -> None:
        for entry in self.entries:
            found = (entry.rule, entry.resource_type, entry.resource_id)
            self._by_finding[found] = self._by_finding.get(found, ()) + (entry,)

    def covering(
        self, rule_name: str, suffix: str, resource_type: str, resource_id: str, day: date
    ) -> Optional[Entry]:
        """The exception in force on ``day`` that covers the finding, or None."""
        tail = f"-{suffix}"
        if not rule_name.endswith(tail):
            return None  # not a rule of this environment: no entry names it
        rule = rule_name[: -len(tail)]
        for entry in self._by_finding.get((rule, resource_type, resource_id), ()):
            if entry.in_force(day):
                return entry
        return None

    @property
    def note(self) -> Optional[str]:
        """The line the e-mails carry when the register is unusable."""
        if self.problem is None:
            return None
        return f"exceptions register unusable: {self.problem} - no finding suppressed"

    def log_fields(self) -> Optional[Dict[str, Any]]:
        if self.key is None and self.problem is None:
            return None
        fields: Dict[str, Any] = {"key": self.key}
        if self.problem is not None:
            fields["problem"] = self.problem
        else:
            fields.update(sha256=self.sha256, entries=len(self.entries))
        return fields


class RegisterError(ValueError):
    """The register breaks one rule of ``compliance-exceptions/1``; the message names it."""


def parse(raw: bytes) -> Tuple[Entry, ...]:
    """The entries of a register's bytes; RegisterError names the first rule broken."""
    try:
        document = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as e:
        raise RegisterError(f"not a {FORMAT} object: {e}") from e
    if not isinstance(document, dict) or set(document) != {"exceptions", "format", "maxDays"}:
        raise RegisterError(f"not a {FORMAT} object: want exactly exceptions, format, maxDays")
    if document["format"] != FORMAT:
        raise RegisterError(f"format is {document['format']!r}, not {FORMAT!r}")
    days = document["maxDays"]
    if not isinstance(days, int) or isinstance(days, bool) or days < 1:
        raise RegisterError(f"maxDays {days!r} is not a positive integer")
    items = document["exceptions"]
    if not isinstance(items, list):
        raise RegisterError("exceptions is not a list")
    entries = [_entry(index, item) for index, item in enumerate(items)]
    ids = [e.id for e in entries]
    if len(set(ids)) != len(ids):
        twice = sorted({i for i in ids if ids.count(i) > 1})
        raise RegisterError(f"exception id {twice[0]} is used twice")
    return tuple(entries)


def _entry(index: int, item: Any) -> Entry:
    if not isinstance(item, dict) or set(item) != FIELDS:
        raise RegisterError(f"exceptions[{index}] must have exactly {', '.join(sorted(FIELDS))}")
    where = f"exceptions[{index}] ({item.get('id')!r})"
    for name in sorted(FIELDS):
        if not isinstance(item[name], str):
            raise RegisterError(f"{where}: {name} is not a string")
    if not _ID.match(item["id"]):
        raise RegisterError(f"exceptions[{index}]: id {item['id']!r} is not 1-64 of A-Za-z0-9._-")
    for name in NON_EMPTY:
        if not item[name]:
            raise RegisterError(f"{where}: {name} is empty")
    return Entry(
        id=item["id"],
        rule=item["rule"],
        resource_type=item["resourceType"],
        resource_id=item["resourceId"],
        approver=item["approver"],
        ticket=item["ticket"],
        created=_date(where, "created", item["created"]),
        expires=_date(where, "expires", item["expires"]),
    )


def _date(where: str, name: str, text: str) -> date:
    try:
        if _DATE.match(text):
            return date.fromisoformat(text)
    except ValueError:
        pass
    raise RegisterError(f"{where}: {name} {text!r} is not a date YYYY-MM-DD")


def load(path: str, key: str) -> Register:
    """Read the file at ``path`` and hold it to ``key``; an unusable register comes back empty,
    with its problem."""
    matched = _KEY.match(key)
    if matched is None:
        return Register(
            key=key,
            problem=f"{var.EXCEPTIONS_REGISTER_KEY} {key!r} is not exceptions/<64 hex>.json",
        )
    try:
        with open(path, "rb") as file:
            raw = file.read(MAX_REGISTER_BYTES + 1)
    except OSError as e:
        return Register(key=key, problem=f"{path} unreadable: {e.strerror or e}")
    if len(raw) > MAX_REGISTER_BYTES:
        return Register(key=key, problem=f"{path} is larger than {MAX_REGISTER_BYTES} bytes")
    digest = hashlib.sha256(raw).hexdigest()
    if digest != matched.group(1):
        return Register(
            key=key,
            sha256=digest,
            problem=f"{path} has SHA-256 {digest}, not the {matched.group(1)} its key names",
        )
    try:
        entries = parse(raw)
    except RegisterError as e:
        return Register(key=key, sha256=digest, problem=f"{path}: {e}")
    return Register(key=key, sha256=digest, entries=entries)


def from_environment(env: Mapping[str, str]) -> Register:
    path = env.get(var.EXCEPTIONS_REGISTER_PATH, "").strip()
    key = env.get(var.EXCEPTIONS_REGISTER_KEY, "").strip()
    if not path and not key:
        return Register()
    if not path or not key:
        missing, given = (
            (var.EXCEPTIONS_REGISTER_PATH, var.EXCEPTIONS_REGISTER_KEY)
            if not path
            else (var.EXCEPTIONS_REGISTER_KEY, var.EXCEPTIONS_REGISTER_PATH)
        )
        return Register(key=key or None, problem=f"{given} is set but {missing} is not")
    return load(path, key)


_LOADED: Dict[Tuple[str, str], Register] = {}


def for_environment(env: Mapping[str, str]) -> Register:
    """The register, read and checked once per execution environment (and per path and key, which
    tests change)."""
    cache_key = (
        env.get(var.EXCEPTIONS_REGISTER_PATH, ""),
        env.get(var.EXCEPTIONS_REGISTER_KEY, ""),
    )
    if cache_key not in _LOADED:
        _LOADED[cache_key] = from_environment(env)
    return _LOADED[cache_key]
