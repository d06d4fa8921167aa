"""The exceptions register: validating its entries, and the canonical bytes that are deployed.

The contract (docs/report-format.md, "Exceptions (schema 1.1)"): ``exceptions.yaml`` at the repository
root holds ``maxDays`` (optional, default 365) and ``exceptions``, one entry per accepted risk. Every
entry is checked at synth, and every bad entry is reported on one line naming it (its index and, when it
has a readable one, its id) and each rule it broke, so a reviewer fixes them all in one pass:

* ``id``: 1-64 of ``A-Z a-z 0-9 . _ -``, unique in the register;
* ``rule``: a rule of this stack by its name without the environment suffix, and ``resourceType`` a type
  that rule evaluates (each rule is scoped to one type: lib/config_monitoring);
* ``resourceId``: exact, as AWS Config reports it (no patterns); one entry per (rule, type, id);
* ``reason``, ``approver``, ``ticket``: present and not blank;
* ``created``, ``expires``: ``YYYY-MM-DD`` calendar dates; ``expires`` not before ``created``, not more
  than ``maxDays`` after it, and not before the synth date (an expired exception is removed, not kept).

The deployed object is canonical JSON (keys sorted, no insignificant white space, one trailing newline,
UTF-8) of ``{"format", "maxDays", "exceptions"}`` with the entries sorted by id; its key is
``exceptions/<sha256 of the bytes>.json``. An empty register (no file, or no entries) is deployed too.

Standard library only, Python 3.9 syntax: the Lambda runtime's tests on CPython 3.9 and the demo build
registers with it; reading YAML is ``source.py``'s job. An entry is the runtime's own record
(``compliance_report/exceptions.py``), so the register written here is the one the function reads.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Optional

from lib.report_generator.runtime.compliance_report.exceptions import ENTRY_FIELDS as FIELDS
from lib.report_generator.runtime.compliance_report.exceptions import FORMAT, Entry

KEY_PREFIX = "exceptions/"
DEFAULT_MAX_DAYS = 365
# maxDays itself: at least a day, and at most the trail's 7-year retention (lib/defaults.RETENTION_DAYS),
# past which no report could show the exception anyway.
MAX_DAYS_LIMIT = 2557
_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_DATE = re.compile(r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$")
# The report schema's limits on what a label or a finding carries (schema/compliance-report.v1.schema.json).
_RESOURCE_ID_MAX = 768
# The label carries the approver, at most 256 characters (exceptionLabel.approver); reason and ticket
# stay in the register, where 1,024 is room for a sentence and any ticket reference.
_TEXT_MAX = {"reason": 1024, "approver": 256, "ticket": 1024}


class RegisterError(ValueError):
    """The register breaks the contract; ``lines`` holds one line per bad entry (or file-level rule)."""

    def __init__(self, lines: Sequence[str]) -> None:
        super().__init__("\n".join(lines))
        self.lines = tuple(lines)


@dataclass(frozen=True)
class Register:
    """A validated register: its entries sorted by id, and its deployed bytes and key."""

    max_days: int
    entries: tuple[Entry, ...]

    @staticmethod
    def empty(max_days: int = DEFAULT_MAX_DAYS) -> Register:
        return Register(max_days, ())

    def to_json(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "maxDays": self.max_days,
            "exceptions": [e.to_json() for e in self.entries],
        }

    def canonical_bytes(self) -> bytes:
        text = json.dumps(self.to_json(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return (text + "\n").encode("utf-8")

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.canonical_bytes()).hexdigest()

    @property
    def key(self) -> str:
        """``exceptions/<sha256>.json``: content-addressed, so a changed register is a new object."""
        return register_key(self.sha256)


def register_key(sha256: str) -> str:
    return f"{KEY_PREFIX}{sha256}.json"


def _date(value: Any) -> Optional[date]:
    if not isinstance(value, str) or not _DATE.match(value):
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        return None


def _max_days(document: Mapping[str, Any], source: str) -> tuple[int, list[str]]:
    raw = document.get("maxDays", DEFAULT_MAX_DAYS)
    if isinstance(raw, bool) or not isinstance(raw, int) or not 1 <= raw <= MAX_DAYS_LIMIT:
        return DEFAULT_MAX_DAYS, [
            f"{source}: maxDays {raw!r} must be a whole number of days from 1 to {MAX_DAYS_LIMIT}"
        ]
    return raw, []


def _entry_problems(
    item: Mapping[str, Any],
    today: date,
    max_days: int,
    rules: Mapping[str, Sequence[str]],
) -> list[str]:
    """Every rule one entry breaks, each as a short clause; empty when the entry is good."""
    problems: list[str] = []
    unknown = sorted(str(k) for k in item if k not in FIELDS)
    if unknown:
        problems.append(f"unknown field(s) {', '.join(unknown)} (allowed: {', '.join(FIELDS)})")
    missing = [name for name in FIELDS if item.get(name) is None or item.get(name) == ""]
    if missing:
        problems.append(f"missing {', '.join(missing)}")
    entry_id = item.get("id")
    if (
        entry_id is not None
        and entry_id != ""
        and not (isinstance(entry_id, str) and _ID.match(entry_id))
    ):
        problems.append(f"malformed id {entry_id!r} (1-64 of A-Z a-z 0-9 . _ -)")
    rule = item.get("rule")
    if rule is not None and rule != "":
        if rule not in rules:
            problems.append(
                f"unknown rule {rule!r} (this stack's rules: {', '.join(sorted(rules))})"
            )
        else:
            resource_type = item.get("resourceType")
            if resource_type not in (None, "") and resource_type not in rules[str(rule)]:
                problems.append(
                    f"rule {rule} does not evaluate resource type {resource_type!r} "
                    f"(it evaluates {', '.join(rules[str(rule)])})"
                )
    resource_id = item.get("resourceId")
    if resource_id not in (None, "") and (
        not isinstance(resource_id, str) or len(resource_id) > _RESOURCE_ID_MAX
    ):
        problems.append(f"resourceId must be text of at most {_RESOURCE_ID_MAX} characters")
    for name, longest in _TEXT_MAX.items():
        value = item.get(name)
        if value in (None, ""):
            continue
        if not isinstance(value, str) or not value.strip() or len(value) > longest:
            problems.append(f"{name} must be non-blank text of at most {longest} characters")
    dates: dict[str, date] = {}
    for name in ("created", "expires"):
        value = item.get(name)
        if value in (None, ""):
            continue
        parsed = _date(value)
        if parsed is None:
            problems.append(f"malformed {name} {value!r} (a calendar date YYYY-MM-DD)")
        else:
            dates[name] = parsed
    created, expires = dates.get("created"), dates.get("expires")
    if created is not None and expires is not None:
        if expires < created:
            problems.append(f"expires {expires} is before created {created}")
        elif (expires - created).days > max_days:
            problems.append(
                f"expires {expires} is {(expires - created).days} days after created {created}, "
                f"beyond maxDays {max_days}"
            )
    if expires is not None and expires < today:
        problems.append(
            f"expires {expires} is in the past (synth date {today}): remove or renew it"
        )
    return problems


def _name(index: int, item: Any) -> str:
    entry_id = item.get("id") if isinstance(item, Mapping) else None
    return (
        f"exceptions[{index}] ({entry_id})"
        if isinstance(entry_id, str) and entry_id
        else (f"exceptions[{index}]")
    )


def validate(
    document: Optional[Mapping[str, Any]],
    *,
    today: date,
    rules: Mapping[str, Sequence[str]],
    source: str = "exceptions.yaml",
) -> Register:
    """The register ``document`` states (None: no file, the empty register), checked against the
    stack's ``rules`` (name without suffix -> resource types it evaluates) on the synth date ``today``.
    Raises RegisterError with one line per bad entry."""
    if document is None:
        return Register.empty()
    if not isinstance(document, Mapping):
        raise RegisterError([f"{source}: must be a mapping with maxDays and exceptions"])
    lines: list[str] = []
    unknown = sorted(str(k) for k in document if k not in ("maxDays", "exceptions"))
    if unknown:
        lines.append(f"{source}: unknown top-level key(s) {', '.join(unknown)}")
    max_days, bad_max = _max_days(document, source)
    lines += bad_max
    items = document.get("exceptions")
    if items is None:
        items = []
    if not isinstance(items, list):
        raise RegisterError([*lines, f"{source}: exceptions must be a list of entries"])
    seen_ids: dict[str, int] = {}
    seen_findings: dict[tuple[str, str, str], int] = {}
    entries: list[Entry] = []
    for index, item in enumerate(items):
        if not isinstance(item, Mapping):
            lines.append(f"{source}: exceptions[{index}]: must be a mapping of {', '.join(FIELDS)}")
            continue
        problems = _entry_problems(item, today, max_days, rules)
        entry_id = item.get("id")
        if isinstance(entry_id, str) and entry_id:
            if entry_id in seen_ids:
                problems.append(f"duplicate id (also exceptions[{seen_ids[entry_id]}])")
            else:
                seen_ids[entry_id] = index
        finding = (item.get("rule"), item.get("resourceType"), item.get("resourceId"))
        if all(isinstance(part, str) and part for part in finding):
            key = (str(finding[0]), str(finding[1]), str(finding[2]))
            if key in seen_findings:
                problems.append(
                    f"duplicate (rule, resourceType, resourceId) {key[0]} {key[1]} {key[2]} "
                    f"(also exceptions[{seen_findings[key]}])"
                )
            else:
                seen_findings[key] = index
        if problems:
            lines.append(f"{source}: {_name(index, item)}: {'; '.join(problems)}")
            continue
        entries.append(Entry(*(str(item[name]) for name in FIELDS)))
    if lines:
        raise RegisterError(lines)
    return Register(max_days, tuple(sorted(entries, key=lambda e: e.id)))
