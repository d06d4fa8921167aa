"""The named queries' figures compared with the auditor's: each function runs one query of
``sql/athena/`` on DuckDB (:mod:`tests.organization.athena_local`) over a central bucket's folder and
asserts it gives what ``auditor timeline <bucket> --format json`` says of each trail. The Athena
queries test runs them over a small generated organization, ``make bench-org`` over a sample of the
benchmark's; neither imports the CDK app, so the benchmark stays light.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from operator import itemgetter
from pathlib import Path

from tests.organization.athena_local import connect, run

ROOT = Path(__file__).resolve().parents[2]


def _finding_and(*more: str) -> itemgetter:
    """A row's finding (account, region, rule, resource type and id) and ``more`` columns."""
    return itemgetter("account", "region", "rule", "resource_type", "resource_id", *more)


def sql(key: str) -> str:
    """A named query's Trino SQL, as the stack deploys it."""
    return (ROOT / "sql" / "athena" / f"{key}.sql").read_text()


def _windows(timeline):
    for e in timeline["exposures"]:
        for w in e["windows"]:
            yield e, w


def daily_agreement(connection, first: str, last: str, timelines) -> tuple[int, int]:
    """The daily series per rule, account and region, and the carried days, equal to the
    auditor's: (counts compared, gap days)."""
    rows = run(connection, sql("daily_noncompliant_by_rule_and_account"), first, last)
    ours = {(r["day"], r["account"], r["region"], r["rule"]): r["non_compliant"] for r in rows}
    theirs = {
        (d["date"].replace("-", "/"), account, region, rule): count
        for (account, region), t in timelines.items()
        for d in t["days"]
        for rule, count in d["byRule"].items()
    }
    assert ours == theirs
    carried = {(r["day"], r["account"], r["region"]) for r in rows if r["carried"]}
    gaps = {
        (d["date"].replace("-", "/"), account, region)
        for (account, region), t in timelines.items()
        for d in t["days"]
        if d["gap"]
    }
    assert carried == gaps
    return len(ours), len(gaps)


def windows_agreement(connection, first: str, last: str, timelines) -> tuple[int, int, int]:
    """Every exposure window and the days non-compliant per finding equal to the auditor's:
    (windows, reopenings, finding-days)."""
    rows = run(connection, sql("exposure_windows"), first, last)
    ours = Counter(map(_finding_and("opened", "resolved"), rows))
    theirs = Counter(
        (
            account,
            region,
            e["rule"],
            e["resourceType"],
            e["resourceId"],
            w["opened"].replace("-", "/"),
            w["resolved"] and w["resolved"].replace("-", "/"),
        )
        for (account, region), t in timelines.items()
        for e, w in _windows(t)
    )
    assert ours == theirs
    days: Counter[tuple[str, ...]] = Counter()
    for r in rows:
        days[(r["account"], r["region"], r["rule"], r["resource_id"])] += r["days_non_compliant"]
    auditor_days = {
        (account, region, e["rule"], e["resourceId"]): e["daysNonCompliant"]
        for (account, region), t in timelines.items()
        for e in t["exposures"]
    }
    assert dict(days) == auditor_days
    reopened = sum(e["timesReopened"] for t in timelines.values() for e in t["exposures"])
    return sum(ours.values()), reopened, sum(auditor_days.values())


def _per_rule_on(timelines, iso: str, counts: str) -> dict[tuple[str, str, str], int]:
    """The auditor's non-zero ``counts`` (a day's ``byRule`` or ``exceptedByRule``) on day
    ``iso``, per account, region and rule."""
    return {
        (account, region, rule): count
        for (account, region), t in timelines.items()
        for d in t["days"]
        if d["date"] == iso
        for rule, count in d[counts].items()
        if count
    }


def open_findings_agreement(connection, first: str, last: str, timelines) -> int:
    """The open findings at the end of three days equal to the auditor's windows and daily
    counts: the findings compared."""
    start = dt.date.fromisoformat(first.replace("/", "-"))
    end = dt.date.fromisoformat(last.replace("/", "-"))
    checked = 0
    for day in (start + dt.timedelta(days=10), start + dt.timedelta(days=25), end):
        rows = run(connection, sql("open_findings_on_date"), first, day.strftime("%Y/%m/%d"))
        ours = {
            (r["account"], r["region"], r["rule"], r["resource_type"], r["resource_id"])
            for r in rows
        }
        iso = day.isoformat()
        theirs = {
            (account, region, e["rule"], e["resourceType"], e["resourceId"])
            for (account, region), t in timelines.items()
            for e, w in _windows(t)
            if w["opened"] <= iso and (w["resolved"] is None or w["resolved"] > iso)
        }
        assert ours == theirs
        per_rule = Counter((r["account"], r["region"], r["rule"]) for r in rows)
        assert dict(per_rule) == _per_rule_on(timelines, iso, "byRule")
        checked += len(ours)
    return checked


def _labels_on(timelines, iso: str):
    """The auditor's excepted findings on day ``iso``: each exposure window's run under one
    label (``exceptions[]``: id, approver, expires, first and last excepted day) covering it."""
    for (account, region), t in timelines.items():
        for e, w in _windows(t):
            for span in w["exceptions"]:
                if span["from"] <= iso <= span["to"]:
                    yield (
                        account,
                        region,
                        e["rule"],
                        e["resourceType"],
                        e["resourceId"],
                        span["id"],
                        span["approver"],
                        span["expires"],
                    )


def _registers_of(timeline) -> dict[tuple[str, ...], list[str]]:
    """(rule, resource type, resource id, exception id, expiry) -> the register keys the auditor
    lists for it among the exceptions in force in the timeline's period (an exception extended
    under the same id is a row per expiry)."""
    return {
        (x["rule"], x["resourceType"], x["resourceId"], x["id"], x["to"]): x["registers"]
        for x in timeline["exceptions"]["inForce"]
    }


def exceptions_agreement(
    connection, first: str, last: str, timelines, days=None, day_timelines=None
) -> tuple[int, int]:
    """The findings under an exception at the end of each of ``days`` (default: as
    :func:`open_findings_agreement`), with their label, equal to the auditor's excepted days, per
    finding and per rule; each register key one the auditor lists for that exception in the
    period, or, given ``day_timelines`` ({day: {(account, region): timeline of that day alone}}),
    the one register the auditor names for the day: (labelled findings compared, of them carried
    from an earlier day's report)."""
    start = dt.date.fromisoformat(first.replace("/", "-"))
    end = dt.date.fromisoformat(last.replace("/", "-"))
    if days is None:
        days = (start + dt.timedelta(days=10), start + dt.timedelta(days=25), end)
    registers = {trail: _registers_of(t) for trail, t in timelines.items()}
    checked = carried = 0
    for day in days:
        slashed, iso = day.strftime("%Y/%m/%d"), day.isoformat()
        rows = run(connection, sql("exceptions_in_force"), first, slashed, slashed)
        ours = Counter(map(_finding_and("exception_id", "approver", "expires"), rows))
        assert ours == Counter(_labels_on(timelines, iso)), iso
        per_rule = Counter((r["account"], r["region"], r["rule"]) for r in rows)
        assert dict(per_rule) == _per_rule_on(timelines, iso, "exceptedByRule"), iso
        for r in rows:
            finding = (
                r["rule"],
                r["resource_type"],
                r["resource_id"],
                r["exception_id"],
                r["expires"],
            )
            assert r["register_key"] in registers[(r["account"], r["region"])][finding], r
            if day_timelines is not None:
                one_day = _registers_of(day_timelines[day][(r["account"], r["region"])])
                assert one_day[finding] == [r["register_key"]], r
        checked += len(rows)
        carried += sum(1 for r in rows if r["state_from_report_of"] < slashed)
    return checked, carried


def agreement(root: Path | str, first: str, last: str, timelines) -> str:
    """Runs the four queries on DuckDB over ``root`` and compares each with the auditor's
    ``timelines`` ({(account, region): timeline JSON}); raises AssertionError on a difference and
    says what was compared."""
    connection = connect(Path(root))
    counts, gap_days = daily_agreement(connection, first, last, timelines)
    windows, reopened, finding_days = windows_agreement(connection, first, last, timelines)
    open_findings = open_findings_agreement(connection, first, last, timelines)
    excepted, carried = exceptions_agreement(connection, first, last, timelines)
    return (
        f"daily series {counts} (day, account, region, rule) counts ({gap_days} gap days), "
        f"exposure windows {windows} ({reopened} reopenings, {finding_days} finding-days), "
        f"open findings on 3 dates {open_findings}, findings under an exception on 3 dates "
        f"{excepted} ({carried} carried): all equal"
    )
