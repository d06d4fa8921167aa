"""The named queries (sql/athena/*.sql) parse as Trino (Athena engine version 3), and on the same
reports they give the auditor's figures: run on DuckDB over a generated organization (three trails of
the auditor's ``gen-history``, placed under ``reports/<account>/<region>/``) and compared with
``auditor timeline --format json`` of each trail.

Needs the auditor's binaries (AUDITOR_BINARY, else auditor/target/debug/auditor, with gen-history
beside it): `make test-e2e` runs this file once the auditor is built; `make test-python` leaves it out.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import subprocess
from collections import Counter
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

from lib.organization.analytics import QUERIES
from tests.organization.athena_local import connect, duckdb_type, run

ROOT = Path(__file__).resolve().parents[2]
AUDITOR = Path(os.environ.get("AUDITOR_BINARY", ROOT / "auditor" / "target" / "debug" / "auditor"))
GEN_HISTORY = AUDITOR.with_name("gen-history")
START, DAYS = dt.date(2026, 7, 1), 40
# (account, region, seed, days without a report)
TRAILS = (
    ("222222222222", "us-east-1", 11, 3),
    ("222222222222", "eu-west-1", 12, 0),
    ("333333333333", "us-east-1", 13, 4),
)


def sql(key: str) -> str:
    return (ROOT / "sql" / "athena" / f"{key}.sql").read_text()


# -- the dialect -------------------------------------------------------------------------------------


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: q.key)
def test_each_query_parses_as_trino_and_reads_the_reports_table(query):
    (tree,) = sqlglot.parse(query.sql(), read="trino", error_level=sqlglot.ErrorLevel.RAISE)
    tables = {t.name for t in tree.find_all(exp.Table)} - {
        cte.alias for cte in tree.find_all(exp.CTE)
    }
    if query.key == "exceptions_in_force":
        assert tables == set()  # the placeholder reads nothing (no register yet)
        return
    assert tables == {"reports"}
    # Every query bounds the projected day, so Athena projects only the days asked for.
    assert "WHERE day BETWEEN ? AND ?" in query.sql()


def test_a_query_athena_would_refuse_is_caught_by_the_parser():
    with pytest.raises(sqlglot.errors.ParseError):
        sqlglot.parse("SELECT account FROM reports WHERE day BETWEEN ? AND", read="trino")


def test_hive_types_become_duckdb_types():
    assert duckdb_type("array<struct<resourceType:string,n:bigint>>") == (
        'STRUCT("resourceType" VARCHAR, "n" BIGINT)[]'
    )
    assert duckdb_type("map<string,bigint>") == "MAP(VARCHAR, BIGINT)"
    with pytest.raises(ValueError):
        duckdb_type("struct<a:decimal>")


# -- the same numbers as the auditor ---------------------------------------------------------------------


@pytest.fixture(scope="module")
def organization(tmp_path_factory):
    if not (os.access(AUDITOR, os.X_OK) and os.access(GEN_HISTORY, os.X_OK)):
        pytest.skip(
            f"the comparison needs the auditor and gen-history, not built at {AUDITOR}: run "
            "`make auditor` or set AUDITOR_BINARY (make test-e2e runs this file with it)"
        )
    bucket = tmp_path_factory.mktemp("central-bucket")
    timelines = {}
    for account, region, seed, missing in TRAILS:
        scratch = tmp_path_factory.mktemp("trail")
        subprocess.run(
            [str(GEN_HISTORY), str(scratch), "--days", str(DAYS), "--findings", "60"]
            + ["--missing", str(missing), "--start", START.isoformat(), "--seed", str(seed)],
            check=True,
            capture_output=True,
        )
        trail = bucket / "reports" / account / region
        trail.parent.mkdir(parents=True, exist_ok=True)
        shutil.move(str(scratch / "reports"), str(trail))
        timelines[(account, region)] = trail
    days = sorted(
        {p.parent.relative_to(t).as_posix() for t in timelines.values() for p in t.rglob("*.json")}
    )
    first, last = days[0], days[-1]
    for key, trail in timelines.items():
        answer = subprocess.run(
            [str(AUDITOR), "timeline", str(trail), "--format", "json", "--quiet"]
            + ["--from", first.replace("/", "-"), "--to", last.replace("/", "-")],
            capture_output=True,
            text=True,
        )
        assert answer.returncode in (0, 1), answer.stderr  # 1: findings in the trail check
        timelines[key] = json.loads(answer.stdout)
    return {"root": bucket, "first": first, "last": last, "timelines": timelines}


def _windows(timeline):
    for e in timeline["exposures"]:
        for w in e["windows"]:
            yield e, w


def test_daily_counts_per_rule_and_account_match_the_auditors_series(organization):
    rows = run(
        connect(organization["root"]),
        sql("daily_noncompliant_by_rule_and_account"),
        organization["first"],
        organization["last"],
    )
    ours = {(r["day"], r["account"], r["region"], r["rule"]): r["non_compliant"] for r in rows}
    theirs = {
        (d["date"].replace("-", "/"), account, region, rule): count
        for (account, region), t in organization["timelines"].items()
        for d in t["days"]
        for rule, count in d["byRule"].items()
    }
    assert ours == theirs
    carried = {(r["day"], r["account"], r["region"]) for r in rows if r["carried"]}
    gaps = {
        (d["date"].replace("-", "/"), account, region)
        for (account, region), t in organization["timelines"].items()
        for d in t["days"]
        if d["gap"]
    }
    assert carried == gaps and gaps  # the generated trails have days without a report
    print(
        f"daily series: {len(ours)} (day, account, region, rule) counts equal, {len(gaps)} gap days"
    )


def test_exposure_windows_match_the_auditors(organization):
    rows = run(
        connect(organization["root"]),
        sql("exposure_windows"),
        organization["first"],
        organization["last"],
    )
    ours = Counter(
        (
            r["account"],
            r["region"],
            r["rule"],
            r["resource_type"],
            r["resource_id"],
            r["opened"],
            r["resolved"],
        )
        for r in rows
    )
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
        for (account, region), t in organization["timelines"].items()
        for e, w in _windows(t)
    )
    assert ours == theirs
    days: Counter[tuple[str, ...]] = Counter()
    for r in rows:
        days[(r["account"], r["region"], r["rule"], r["resource_id"])] += r["days_non_compliant"]
    auditor_days = {
        (account, region, e["rule"], e["resourceId"]): e["daysNonCompliant"]
        for (account, region), t in organization["timelines"].items()
        for e in t["exposures"]
    }
    assert dict(days) == auditor_days
    reopened = sum(
        e["timesReopened"] for t in organization["timelines"].values() for e in t["exposures"]
    )
    print(
        f"exposure windows: {sum(ours.values())} equal ({reopened} reopenings), "
        f"{sum(auditor_days.values())} finding-days"
    )


def test_open_findings_on_a_date_match_the_auditors(organization):
    connection = connect(organization["root"])
    first = dt.date.fromisoformat(organization["first"].replace("/", "-"))
    last = dt.date.fromisoformat(organization["last"].replace("/", "-"))
    checked = 0
    for day in (first + dt.timedelta(days=10), first + dt.timedelta(days=25), last):
        key = day.strftime("%Y/%m/%d")
        rows = run(connection, sql("open_findings_on_date"), organization["first"], key)
        ours = {
            (r["account"], r["region"], r["rule"], r["resource_type"], r["resource_id"])
            for r in rows
        }
        iso = day.isoformat()
        theirs = {
            (account, region, e["rule"], e["resourceType"], e["resourceId"])
            for (account, region), t in organization["timelines"].items()
            for e, w in _windows(t)
            if w["opened"] <= iso and (w["resolved"] is None or w["resolved"] > iso)
        }
        assert ours == theirs
        per_rule = Counter((r["account"], r["region"], r["rule"]) for r in rows)
        series = {
            (account, region, rule): count
            for (account, region), t in organization["timelines"].items()
            for d in t["days"]
            if d["date"] == iso
            for rule, count in d["byRule"].items()
            if count
        }
        assert dict(per_rule) == series
        checked += len(ours)
    print(f"open findings on 3 dates: {checked} equal")


def test_the_exceptions_placeholder_says_there_is_no_register(organization):
    (row,) = run(connect(organization["root"]), sql("exceptions_in_force"))
    assert "no exceptions register" in row["exceptions_in_force"]
