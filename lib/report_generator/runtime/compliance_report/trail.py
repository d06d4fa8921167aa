"""The trail as the writer reads it before extending it: every report key ever stored under ``reports/``.

The writer takes the next sequence from the trail itself, never from its own bookkeeping alone. One
listing (ListObjectVersions over the report prefix) shows every key that ever held a report: current
objects, overwritten (noncurrent) versions and delete markers. A key's sequence and report id are in
its name (``.../<sequence>-<reportId>.json``, docs/report-format.md), so the listing answers, without
reading a report:

* the newest sequence ever used: the next report is that plus one, whatever ``chain/head.json`` says;
* whether the newest report is still there. A delete marker (or nothing but deleted keys) at the
  newest sequence means the newest report was deleted; two live keys there mean the trail forked.
  The writer refuses to write in both cases (``ChainCorrupted``, which the function's
  ``ChainCorrupted`` metric and alarm count) rather than reuse the sequence or pick a branch;
* whether a trigger already has a report anywhere in the trail (its report id in a key);
* whether a head or a witness names a report the trail does not have (``check_mark``).

S3 lists strongly consistently (Amazon S3 User Guide, "Amazon S3 data consistency model": "After a
successful write of a new object ... any subsequent read request immediately receives the latest
version of the object", which includes LIST), so a report stored before the listing started is in it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Optional

from .chain_records import Link
from .errors import ChainCorrupted

# The key layout of schema v1 (report.report_key): <prefix>YYYY/MM/DD/<sequence, 8+ digits>-<reportId>.json
_KEY = re.compile(r"^\d{4}/\d{2}/\d{2}/(?P<sequence>\d{8,})-(?P<report_id>[0-9a-f-]{36})\.json$")


class MarkAhead(ChainCorrupted):
    """A head or witness names a sequence beyond the newest report of the listing. Either the newest
    reports were deleted, or the listing was taken before a report that the mark was written after
    (a concurrent run): the caller lists again before it concludes the former."""


@dataclass(frozen=True)
class Entry:
    """One key under the report prefix and what became of it."""

    key: str
    sequence: int
    report_id: str
    live: bool  # its newest entry is an object version, not a delete marker
    versions: int  # object versions (more than one: overwritten)


@dataclass(frozen=True)
class TrailView:
    """What one listing showed, by key; ``foreign`` counts keys that are no report key."""

    entries: tuple[Entry, ...]
    foreign: int = 0

    @property
    def newest_sequence(self) -> Optional[int]:
        return max((e.sequence for e in self.entries), default=None)

    def at(self, sequence: int) -> list[Entry]:
        return [e for e in self.entries if e.sequence == sequence]

    def entry(self, key: str) -> Optional[Entry]:
        return next((e for e in self.entries if e.key == key), None)

    def answered(self, report_id: str) -> Optional[Entry]:
        """The report of this report id, if the trail holds one (deleted or not)."""
        return next((e for e in self.entries if e.report_id == report_id), None)

    def tail(self) -> Optional[Entry]:
        """The newest report (None for an empty trail); ChainCorrupted when it was deleted or when two
        reports hold its sequence."""
        newest = self.newest_sequence
        if newest is None:
            return None
        there = self.at(newest)
        live = [e for e in there if e.live]
        if not live:
            keys = ", ".join(e.key for e in there)
            raise ChainCorrupted(
                f"the newest report of the trail, sequence {newest} ({keys}), was deleted (a delete "
                "marker is its current version): no report is written until it is restored, so its "
                "sequence is never used twice (README runbook, 'The chain is corrupted')"
            )
        if len(live) > 1:
            raise ChainCorrupted(
                f"{len(live)} reports hold sequence {newest} ({', '.join(e.key for e in live)}): the "
                "trail forked; no report is written until one of them is removed (README runbook)"
            )
        return live[0]


def view_of(pages: Iterable[dict[str, Any]], prefix: str) -> TrailView:
    """The view of ListObjectVersions pages over ``prefix``."""
    # key -> its entries as (is the latest, last modified, is an object version)
    seen: dict[str, list[tuple[bool, str, bool]]] = {}
    foreign: set[str] = set()
    for page in pages:
        for kind, live in (("Versions", True), ("DeleteMarkers", False)):
            for item in page.get(kind) or []:
                key = str(item.get("Key", ""))
                if not key.startswith(prefix) or not _KEY.match(key[len(prefix) :]):
                    foreign.add(key)
                    continue
                stamp = str(item.get("LastModified", ""))
                seen.setdefault(key, []).append((bool(item.get("IsLatest")), stamp, live))
    entries = []
    for key, items in sorted(seen.items()):
        match = _KEY.match(key[len(prefix) :])
        assert match is not None
        # S3 marks the current entry IsLatest; without the mark, the most recently modified one.
        newest = max(items, key=lambda item: (item[0], item[1]))
        entries.append(
            Entry(
                key,
                int(match.group("sequence")),
                match.group("report_id"),
                live=newest[2],
                versions=sum(1 for item in items if item[2]),
            )
        )
    return TrailView(tuple(entries), len(foreign))


def check_mark(view: TrailView, mark: Link, source: str) -> None:
    """A head or witness (``source`` names it) must name a report of the trail: MarkAhead when its
    sequence is beyond the newest, ChainCorrupted when the trail holds another key there."""
    newest = view.newest_sequence
    if newest is None or mark.sequence > newest:
        found = "the trail is empty" if newest is None else f"the newest report is {newest}"
        first = 0 if newest is None else newest + 1
        missing = str(first) if first == mark.sequence else f"{first}-{mark.sequence}"
        raise MarkAhead(
            f"{source} names sequence {mark.sequence} ({mark.key}) but {found}: report(s) {missing} "
            "were deleted; no report is written until they are restored (README runbook)"
        )
    keys = [e.key for e in view.at(mark.sequence)]
    if mark.key not in keys:
        held = ", ".join(keys) or "no report"
        raise ChainCorrupted(
            f"{source} names {mark.key} at sequence {mark.sequence} but the trail holds {held} "
            "there: the trail was rewritten; no report is written until it is investigated "
            "(README runbook)"
        )
