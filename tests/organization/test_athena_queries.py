"""The named queries (sql/athena/*.sql) parse as Trino (Athena engine version 3), and on the same
reports they give the auditor's figures: run on DuckDB over a generated organization (the
auditor's ``gen-history --org-accounts``: trails under ``reports/<account>/<region>/`` with their
own account, region and chain, some days without a report) and compared with each trail's
timeline in ``auditor timeline <bucket> --format json``. ``make bench-org`` runs the same
comparison (:func:`agreement`) over a sample of the benchmark organization.

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
    open_findings_agreement,
    sql,
    windows_agreement,
)
from tests.organization.athena_local import connect, duckdb_type, run

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
    subprocess.run(
        [str(GEN_HISTORY), str(bucket), "--days", str(DAYS), "--findings", "60"]
        + ["--missing", str(MISSING), "--start", START.isoformat(), "--seed", str(SEED)]
        + ["--org-accounts", str(ORG_ACCOUNTS), "--org-regions", ORG_REGIONS],
        check=True,
        capture_output=True,
    )
    days = sorted({p.parent.relative_to(p.parents[3]).as_posix() for p in _reports(bucket)})
    first, last = days[0], days[-1]
    answer = subprocess.run(
        [str(AUDITOR), "timeline", str(bucket), "--format", "json", "--quiet"]
        + ["--from", first.replace("/", "-"), "--to", last.replace("/", "-")],
        capture_output=True,
        text=True,
    )
    assert answer.returncode in (0, 1), answer.stderr  # 1: findings (the days without a report)
    document = json.loads(answer.stdout)
    timelines = {(t["account"], t["region"]): t["timeline"] for t in document["trails"]}
    assert len(timelines) == ORG_ACCOUNTS * len(ORG_REGIONS.split(","))
    return {"root": bucket, "first": first, "last": last, "timelines": timelines}


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
    assert said.endswith("all equal") and "exposure windows" in said, said


def test_the_exceptions_placeholder_says_there_is_no_register(organization):
    (row,) = run(connect(organization["root"]), sql("exceptions_in_force"))
    assert "no exceptions register" in row["exceptions_in_force"]


def test_the_organizations_trails_carry_their_own_account_and_region(organization):
    for (account, region), t in organization["timelines"].items():
        assert t["provenance"]["accounts"] == [account]
        assert t["provenance"]["regions"] == [region]
        assert t["chain"]["intact"], (account, region)
