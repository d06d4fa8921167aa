"""What changed since the previous report: the findings that are new, fixed and still open.

The daily e-mail leads with this (alert.py). The previous report is the one the new report links to,
which the writer reads anyway to hash it (chain.py), so the comparison costs no extra AWS call. A finding
is a (rule, resource type, resource id), as in docs/report-format.md ("A finding"):

* **new**: listed by this report, not by the previous one;
* **fixed**: listed by the previous report, not by this one;
* **still open**: listed by both, with its age in whole days: from the earliest ``resultRecordedTime``
  either report gives it (when AWS Config recorded the resource NON_COMPLIANT) to this report's
  ``generatedAt``. Of the two, the previous report's time is the one that survives a re-evaluation that
  records the same result again, so the age is at least the time since the previous report;
* **excepted**: listed by this report with an exception in force (schema 1.1's label). Accepted risk
  does not page: such a finding is in neither "new" nor "still open", whatever the previous report
  said. One whose exception has ended is un-excepted again and counts as **new** when the previous
  report still carried the label, so it pages again the day after its exception expired.

A rule read only in part (``complete: false``) in either report is not compared: its missing findings
would read as fixed and its returning ones as new. Such rules are named instead, as are rules the
previous report did not monitor or this one no longer does.

Memory: the previous report is parsed once, and only each finding's identity and time are kept.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Optional

from . import READABLE_SCHEMA_VERSIONS
from .exceptions import Label
from .model import Report
from .timefmt import parse_utc_z

# (resource type, resource id) -> (resultRecordedTime, carried an exception label), per rule
_Findings = dict[str, dict[tuple[str, str], tuple[str, bool]]]


@dataclass(frozen=True)
class Item:
    rule: str
    resource_type: str
    resource_id: str
    days_open: int
    exception: Optional[Label] = None  # the exception in force (excepted items only)


@dataclass(frozen=True)
class Changes:
    """The comparison with the previous report (``previous_sequence`` None: this is the first report,
    and every open finding is new)."""

    previous_sequence: Optional[int]
    previous_generated_at: Optional[str]
    new: tuple[Item, ...]
    fixed: tuple[Item, ...]
    still_open: tuple[Item, ...]  # longest open first
    not_compared: tuple[str, ...]  # "<rule>: <why>"
    unreadable: Optional[str] = None  # why the previous report could not be compared
    excepted: tuple[Item, ...] = ()  # open under an exception in force, soonest expiry first

    @property
    def changed(self) -> bool:
        return bool(self.new or self.fixed)


@dataclass(frozen=True)
class _Previous:
    sequence: int
    generated_at: str
    complete: dict[str, bool]
    findings: _Findings


def _parse_previous(body: bytes) -> _Previous:
    """The parts of a stored report the comparison needs; ValueError (or KeyError, TypeError) for a
    report that is not schema v1."""
    data = json.loads(body)
    if not isinstance(data, dict) or data.get("schemaVersion") not in READABLE_SCHEMA_VERSIONS:
        raise ValueError(f"not a schema {' or '.join(READABLE_SCHEMA_VERSIONS)} report")
    complete: dict[str, bool] = {}
    findings: _Findings = {}
    for rule in data["rules"]:
        name = str(rule["name"])
        complete[name] = bool(rule["complete"])
        findings[name] = {
            (str(f["resourceType"]), str(f["resourceId"])): (
                str(f["resultRecordedTime"]),
                f.get("exception") is not None,
            )
            for f in rule["nonCompliant"]
        }
    return _Previous(int(data["chain"]["sequence"]), str(data["generatedAt"]), complete, findings)


def _days(since: str, until: datetime) -> int:
    try:
        return max(0, (until - parse_utc_z(since)).days)
    except (ValueError, OverflowError):
        return 0


def compare(previous_body: Optional[bytes], current: Report) -> Changes:
    """Compare ``current`` with the report stored as ``previous_body`` (None: there is none)."""
    now = parse_utc_z(current.generated_at)
    rules = current.content.rules
    excepted = tuple(
        sorted(
            (
                Item(
                    r.name,
                    f.resource_type,
                    f.resource_id,
                    _days(f.result_recorded_time, now),
                    f.exception,
                )
                for r in rules
                for f in r.findings
                if f.exception is not None
            ),
            key=lambda i: (i.exception.expires if i.exception else "", _by_name(i)),
        )
    )
    if previous_body is None:
        first = [
            Item(r.name, f.resource_type, f.resource_id, _days(f.result_recorded_time, now))
            for r in rules
            for f in r.findings
            if f.exception is None
        ]
        return Changes(None, None, tuple(first), (), (), (), excepted=excepted)
    try:
        previous = _parse_previous(previous_body)
    except (ValueError, KeyError, TypeError) as e:
        reason = (str(e).splitlines() or [type(e).__name__])[0][:200]
        return Changes(None, None, (), (), (), (), unreadable=reason, excepted=excepted)
    new: list[Item] = []
    fixed: list[Item] = []
    still_open: list[Item] = []
    not_compared: list[str] = []
    for rule in rules:
        before = previous.findings.get(rule.name)
        if before is None:
            not_compared.append(f"{rule.name}: not monitored by the previous report")
            continue
        if not rule.complete or not previous.complete.get(rule.name, False):
            which = "this" if not rule.complete else "the previous"
            not_compared.append(f"{rule.name}: read only in part by {which} report")
            continue
        now_open = {(f.resource_type, f.resource_id): f for f in rule.findings}
        for resource, finding in now_open.items():
            if finding.exception is not None:
                continue  # in ``excepted``
            recorded = finding.result_recorded_time
            earlier = before.get(resource)
            if earlier is None or earlier[1]:
                # Not open before, or open under an exception that has ended since: it pages.
                new.append(Item(rule.name, *resource, _days(recorded, now)))
            else:
                still_open.append(Item(rule.name, *resource, _days(min(earlier[0], recorded), now)))
        for resource, (recorded, _) in before.items():
            if resource not in now_open:
                fixed.append(Item(rule.name, *resource, _days(recorded, now)))
    monitored = {rule.name for rule in rules}
    not_compared += [
        f"{name}: no longer monitored" for name in previous.findings if name not in monitored
    ]

    def longest_first(item: Item) -> tuple[int, str, str, str]:
        return -item.days_open, item.rule, item.resource_type, item.resource_id

    return Changes(
        previous.sequence,
        previous.generated_at,
        tuple(sorted(new, key=_by_name)),
        tuple(sorted(fixed, key=_by_name)),
        tuple(sorted(still_open, key=longest_first)),
        tuple(not_compared),
        excepted=excepted,
    )


def _by_name(item: Item) -> tuple[str, str, str]:
    return item.rule, item.resource_type, item.resource_id
