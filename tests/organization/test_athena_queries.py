"""The named queries (sql/athena/*.sql) parse as Trino (Athena engine version 3), and on the same
reports they give the auditor's figures: run on DuckDB over a generated organization (the
auditor's ``gen-history --org-accounts``: trails under ``reports/<account>/<region>/`` with their
own account, region and chain, some days without a report; then given the exceptions register by
:mod:`tests.organization.exceptions_org`, so schema 1.0 and 1.1 reports are read together) and
compared with each trail's timeline in ``auditor timeline <bucket> --format json``. ``make
bench-org`` runs the same comparison (:func:`agreement`) over a sample of the benchmark organization.

Needs the auditor's binaries (AUDITOR_BINARY, else auditor/target/debug/auditor, with gen-history
beside it): `make test-e2e` runs this file once the auditor is built; `make test-python` leaves it out.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
from pathlib import Path

import pytest
import sqlglot
from sqlglot import exp

from lib.organization.analytics import QUERIES
from tests.organization.agreement import (
    agreement,
    daily_agreement,
    exceptions_agreement,
    open_findings_agreement,
    windows_agreement,
)
from tests.organization.athena_local import connect, duckdb_type
from tests.organization.exceptions_org import (
    NO_REGISTER_DAYS,
    REGISTER_A_FROM,
    REGISTER_B_FROM,
    add_exceptions,
)

ROOT = Path(__file__).resolve().parents[2]
AUDITOR = Path(os.environ.get("AUDITOR_BINARY", ROOT / "auditor" / "target" / "debug" / "auditor"))
GEN_HISTORY = AUDITOR.with_name("gen-history")
START, DAYS = dt.date(2026, 7, 1), 40
# Two accounts in two regions, each trail with days without a report and incomplete rules.
ORG_ACCOUNTS, ORG_REGIONS, MISSING, SEED = 2, "us-east-1,eu-west-1", 3, 11


# -- the dialect -------------------------------------------------------------------------------------


@pytest.mark.parametrize("query", QUERIES, ids=lambda q: q.key)
def test_each_query_parses_as_trino_and_reads_the_reports_table(query):
    (tree,) = sqlglot.parse(query.sql(), read="trino", error_level=sqlglot.ErrorLevel.RAISE)
    tables = {t.name for t in tree.find_all(exp.Table)} - {
        cte.alias for cte in tree.find_all(exp.CTE)
    }
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
    subprocess.run(
        [str(GEN_HISTORY), str(bucket), "--days", str(DAYS), "--findings", "60"]
        + ["--missing", str(MISSING), "--start", START.isoformat(), "--seed", str(SEED)]
        + ["--org-accounts", str(ORG_ACCOUNTS), "--org-regions", ORG_REGIONS],
        check=True,
        capture_output=True,
    )
    rewritten = add_exceptions(bucket, START)
    days = sorted({p.parent.relative_to(p.parents[3]).as_posix() for p in _reports(bucket)})
    first, last = days[0], days[-1]
    timelines = _timelines(bucket, first.replace("/", "-"), last.replace("/", "-"))
    assert len(timelines) == ORG_ACCOUNTS * len(ORG_REGIONS.split(","))
    return {
        "root": bucket,
        "first": first,
        "last": last,
        "timelines": timelines,
        "rewritten": rewritten,
    }


def _timelines(bucket: Path, first: str, last: str):
    """{(account, region): the trail's timeline} from ``auditor timeline`` of first..last."""
    answer = subprocess.run(
        [str(AUDITOR), "timeline", str(bucket), "--format", "json", "--quiet"]
        + ["--from", first, "--to", last],
        capture_output=True,
        text=True,
    )
    assert answer.returncode in (0, 1), answer.stderr  # 1: findings (the days without a report)
    document = json.loads(answer.stdout)
    return {(t["account"], t["region"]): t["timeline"] for t in document["trails"]}


def _reports(bucket: Path):
    return (bucket / "reports").glob("*/*/*/*/*/*.json")


def test_daily_counts_per_rule_and_account_match_the_auditors_series(organization):
    counts, gaps = daily_agreement(
        connect(organization["root"]),
        organization["first"],
        organization["last"],
        organization["timelines"],
    )
    assert gaps  # the generated trails have days without a report
    print(f"daily series: {counts} (day, account, region, rule) counts equal, {gaps} gap days")


def test_exposure_windows_match_the_auditors(organization):
    windows, reopened, days = windows_agreement(
        connect(organization["root"]),
        organization["first"],
        organization["last"],
        organization["timelines"],
    )
    assert windows and reopened
    print(f"exposure windows: {windows} equal ({reopened} reopenings), {days} finding-days")


def test_open_findings_on_a_date_match_the_auditors(organization):
    checked = open_findings_agreement(
        connect(organization["root"]),
        organization["first"],
        organization["last"],
        organization["timelines"],
    )
    assert checked
    print(f"open findings on 3 dates: {checked} equal")


def test_the_benchmarks_check_runs_every_query(organization):
    # make bench-org calls agreement() on a sample of its organization: the same comparisons.
    said = agreement(
        organization["root"],
        organization["first"],
        organization["last"],
        organization["timelines"],
    )
    assert said.endswith("all equal") and "under an exception" in said, said


def test_the_generated_organization_holds_what_the_exceptions_check_needs(organization):
    # Labels the auditor accepted (verified registers, no trail problem beyond the days without
    # a report), in 1.0 and 1.1 reports, with an exception expiring while its finding was open.
    exceptions = [t["exceptions"] for t in organization["timelines"].values()]
    assert organization["rewritten"].labelled
    assert {r["state"] for e in exceptions for r in e["registers"]} == {"verified"}
    assert {r["key"] for e in exceptions for r in e["registers"]} == set(
        organization["rewritten"].registers
    )
    assert sum(e["reportsWithoutExceptions"] for e in exceptions)
    assert sum(e["reportsWithExceptions"] for e in exceptions)
    assert any(e["expiredWhileOpen"] for e in exceptions)
    for t in organization["timelines"].values():
        assert not t["chain"]["problems"], t["chain"]["problems"]


def test_a_report_of_schema_1_0_reads_null_where_1_1_has_the_register_fields(organization):
    rows = (
        connect(organization["root"])
        .execute(
            """SELECT schemaversion AS version, exceptionregister IS NULL AS no_register,
               summary.totalexcepted IS NULL AS no_total,
               bool_and(r.counts.excepted IS NULL) AS no_counts
        FROM reports, unnest(rules) AS t (r)
        GROUP BY ALL"""
        )
        .fetchall()
    )
    seen = {(v, a, b, c) for v, a, b, c in rows}
    # 1.0: every new field NULL. 1.1: the counts and totals always, the register but on the
    # second trail's first days of 1.1 (no register configured: exceptionRegister null).
    assert seen == {
        ("1.0", True, True, True),
        ("1.1", False, False, False),
        ("1.1", True, False, False),
    }


def test_exceptions_in_force_match_the_auditors_on_every_day(organization):
    # Every day of the period against the auditor's excepted days, per finding and per rule.
    start = dt.date.fromisoformat(organization["first"].replace("/", "-"))
    end = dt.date.fromisoformat(organization["last"].replace("/", "-"))
    days = [start + dt.timedelta(days=n) for n in range((end - start).days + 1)]
    checked, carried = exceptions_agreement(
        connect(organization["root"]),
        organization["first"],
        organization["last"],
        organization["timelines"],
        days,
    )
    assert checked and carried  # labels from the day's report, and carried over a day without
    print(f"findings under an exception on {len(days)} days: {checked} equal ({carried} carried)")


def test_exceptions_in_force_name_the_register_the_auditor_names_for_the_day(organization):
    # The days where something changes: registers deployed (none, A, B), labels expiring, and
    # each trail's days without a report; for each, the auditor's timeline of that day alone
    # names the one register in force that day.
    start = dt.date.fromisoformat(organization["first"].replace("/", "-"))
    offsets = {REGISTER_A_FROM, REGISTER_A_FROM + NO_REGISTER_DAYS, REGISTER_A_FROM + 5}
    offsets |= {REGISTER_A_FROM + 6, REGISTER_B_FROM - 1, REGISTER_B_FROM, REGISTER_B_FROM + 3}
    gaps = {
        dt.date.fromisoformat(d["date"])
        for t in organization["timelines"].values()
        for d in t["days"]
        if d["gap"]
    }
    days = sorted({start + dt.timedelta(days=n) for n in offsets} | gaps)
    root = organization["root"]
    day_timelines = {d: _timelines(root, d.isoformat(), d.isoformat()) for d in days}
    checked, carried = exceptions_agreement(
        connect(root),
        organization["first"],
        organization["last"],
        organization["timelines"],
        days,
        day_timelines,
    )
    assert checked and carried
    print(f"register keys on {len(days)} days: {checked} equal ({carried} carried)")


def test_the_organizations_trails_carry_their_own_account_and_region(organization):
    for (account, region), t in organization["timelines"].items():
        assert t["provenance"]["accounts"] == [account]
        assert t["provenance"]["regions"] == [region]
        assert t["chain"]["intact"], (account, region)
