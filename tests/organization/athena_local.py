"""The Athena table, on this machine: a DuckDB view over the central bucket's folder layout, and the
named queries' Trino SQL translated to DuckDB with sqlglot.

``reports`` has the Glue table's columns (``lib/organization/report_table.py``, the same definition
the stack's table is built from) read with ``read_json`` from ``<root>/reports/<account>/<region>/
YYYY/MM/DD/*.json``, and the three projected partition columns taken from each file's path, as
``storage.location.template`` maps them. Struct fields keep the report's camelCase keys (DuckDB's
struct field access ignores case, as the SerDe's ``case.insensitive`` does), so ``r.noncompliant``
reads ``nonCompliant`` on both engines.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import sqlglot

from lib.organization import report_table

_SCALARS = {"string": "VARCHAR", "bigint": "BIGINT", "boolean": "BOOLEAN", "int": "INTEGER"}


def duckdb_type(hive: str) -> str:
    """A Hive DDL type (``array<struct<a:string>>``) as DuckDB spells it (``STRUCT("a" VARCHAR)[]``)."""
    text, rest = _parse(hive.replace(" ", ""))
    if rest:
        raise ValueError(f"{hive!r}: unexpected {rest!r}")
    return text


def _parse(text: str) -> tuple[str, str]:
    for scalar, duck in _SCALARS.items():
        if text.startswith(scalar) and not text[len(scalar) :][:1].isalnum():
            return duck, text[len(scalar) :]
    if text.startswith("array<"):
        inner, rest = _parse(text[len("array<") :])
        return f"{inner}[]", _expect(rest, ">")
    if text.startswith("map<"):
        key, rest = _parse(text[len("map<") :])
        value, rest = _parse(_expect(rest, ","))
        return f"MAP({key}, {value})", _expect(rest, ">")
    if text.startswith("struct<"):
        rest = text[len("struct<") :]
        fields = []
        while True:
            name, _, rest = rest.partition(":")
            kind, rest = _parse(rest)
            fields.append(f'"{name}" {kind}')
            if rest.startswith(","):
                rest = rest[1:]
                continue
            return f"STRUCT({', '.join(fields)})", _expect(rest, ">")
    raise ValueError(f"unknown Hive type at {text!r}")


def _expect(text: str, token: str) -> str:
    if not text.startswith(token):
        raise ValueError(f"expected {token!r} at {text!r}")
    return text[len(token) :]


def connect(root: Path) -> duckdb.DuckDBPyConnection:
    """A connection with the view ``reports`` over ``root`` (a copy of the central bucket)."""
    columns = {name: duckdb_type(kind) for name, kind in report_table.COLUMNS}
    columns.update({key: duckdb_type(kind) for _, key, kind in report_table.MAPPED})
    spec = ", ".join(f"'{name}': '{kind}'" for name, kind in columns.items())
    selected = ", ".join(
        [f'"{name}" AS {name.lower()}' for name, _ in report_table.COLUMNS]
        + [f'"{key}" AS {column}' for column, key, _ in report_table.MAPPED]
    )
    path = r"reports/([0-9]{12})/([^/]+)/([0-9]{4}/[0-9]{2}/[0-9]{2})/[^/]+\.json$"
    glob = (root / "reports" / "*" / "*" / "*" / "*" / "*" / "*.json").as_posix()
    connection = duckdb.connect()
    connection.execute(
        f"""CREATE VIEW reports AS
        SELECT {selected},
            regexp_extract(filename, '{path}', 1) AS account,
            regexp_extract(filename, '{path}', 2) AS region,
            regexp_extract(filename, '{path}', 3) AS day
        FROM read_json('{glob}', columns = {{{spec}}}, filename = true,
                       format = 'newline_delimited')"""
    )
    return connection


def to_duckdb(trino_sql: str) -> str:
    """The query as Athena runs it (Trino), parsed as Trino and written for DuckDB."""
    (statement,) = sqlglot.transpile(trino_sql, read="trino", write="duckdb")
    return statement


def run(
    connection: duckdb.DuckDBPyConnection, trino_sql: str, *parameters: Any
) -> list[dict[str, Any]]:
    cursor = connection.execute(to_duckdb(trino_sql), list(parameters))
    names = [d[0] for d in cursor.description]
    return [dict(zip(names, row)) for row in cursor.fetchall()]
