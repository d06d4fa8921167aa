"""The Athena table over the central bucket's reports: its columns, partition keys and projection,
defined once for the Glue table (``analytics.py``) and for the local check of the SQL on DuckDB
(``tests/organization/athena_local.py``). No CDK import.

Column types are Hive DDL types as Glue stores them. The names are the report's JSON keys
(``docs/report-format.md``); Glue lower-cases them, and the OpenX JSON SerDe matches JSON keys to
columns and struct fields case-insensitively ("case.insensitive", default true: "the SerDe converts
all uppercase columns to lowercase", Athena User Guide, "OpenX JSON SerDe"), so ``nonCompliant`` is
read as ``noncompliant``. Fields a query does not need (evaluation status, recorder details) are left
out: the SerDe ignores JSON keys that name no column.

Schema 1.1 (the exceptions register: ``exceptionRegister``, ``rules[].counts.excepted``,
``rules[].nonCompliant[].exception``, ``summary.totalExcepted`` and ``exceptedByRule``) adds columns
and struct fields that a 1.0 report does not have. One table reads both: a JSON key a report lacks
reads NULL, at the top level and inside a struct. Athena's "Handle schema updates" (Athena User
Guide, "Add columns at the beginning or in the middle of the table") lists JSON among the formats
whose tables keep reading their existing data after a column is added, with the OpenX SerDe in its
example; the SerDe itself gives NULL for every struct field whose key the JSON object does not hold
(``JsonStructObjectInspector.getStructFieldsDataAsList``, rcongiu/Hive-JSON-Serde). So a 1.0 report
reads ``exceptionregister`` NULL and each finding's ``exception`` NULL (un-excepted, as
docs/report-format.md says a 1.0 report reads), and the local check reads the same files the same way
(``tests/organization/test_athena_queries.py`` runs the queries over 1.0 and 1.1 reports together).

Partitions: ``account``, ``region`` and ``day`` (``YYYY/MM/DD``) come from the object key
``reports/<account>/<region>/YYYY/MM/DD/<sequence>-<reportId>.json`` through partition projection
("Use partition projection with Amazon Athena", Athena User Guide): ``enum`` for the accounts and
regions of the settings, ``date`` for the day, as AWS's own example for ``yyyy/MM/dd`` paths names it
``day`` ("Because date is a reserved word in SQL", Amazon Data Firehose example). The report's own
``account`` and ``region`` fields are columns ``report_account`` and ``report_region`` (a column may not
share a partition key's name), mapped by the SerDe's ``mapping.<column>`` properties.
"""

from __future__ import annotations

COLUMNS: tuple[tuple[str, str], ...] = (
    ("schemaVersion", "string"),
    ("reportId", "string"),
    ("generatedAt", "string"),
    ("generator", "struct<name:string,version:string>"),
    ("trigger", "struct<type:string,id:string,receivedAt:string,note:string>"),
    ("environmentSuffix", "string"),
    ("complete", "boolean"),
    (
        "rules",
        "array<struct<name:string,managedIdentifier:string,complianceType:string,complete:boolean,"
        "counts:struct<compliant:bigint,nonCompliant:bigint,notApplicable:bigint,excepted:bigint>,"
        "nonCompliant:array<struct<resourceType:string,resourceId:string,annotation:string,"
        "resultRecordedTime:string,exception:struct<id:string,approver:string,expires:string>>>>>",
    ),
    (
        "summary",
        "struct<totalNonCompliant:bigint,rulesNonCompliant:bigint,byRule:map<string,bigint>,"
        "totalExcepted:bigint,exceptedByRule:map<string,bigint>>",
    ),
    (
        "monitoring",
        "struct<healthy:boolean,problems:array<struct<code:string,subject:string,message:string>>>",
    ),
    ("errors", "array<struct<scope:string,subject:string,code:string,message:string>>"),
    ("chain", "struct<sequence:bigint,previousKey:string,previousSha256:string>"),
    # 1.1 only (NULL in a 1.0 report, and when the function has no register configured).
    ("exceptionRegister", "struct<key:string,versionId:string,sha256:string,entries:bigint>"),
)
# (column, JSON key, type): the report's own fields under names that do not clash with the partitions.
MAPPED: tuple[tuple[str, str, str], ...] = (
    ("report_account", "account", "string"),
    ("report_region", "region", "string"),
)
PARTITION_KEYS: tuple[tuple[str, str], ...] = (
    ("account", "string"),
    ("region", "string"),
    ("day", "string"),
)
DAY_FORMAT = "yyyy/MM/dd"  # Java DateTimeFormatter, as projection.<column>.format reads it
# The first day the table projects. Every named query bounds its days (a query without a day
# predicate would project every account x region x day since then), so an early start costs nothing.
FIRST_DAY = "2020/01/01"
SERDE = "org.openx.data.jsonserde.JsonSerDe"


def projection_properties(
    bucket: str, accounts: tuple[str, ...], regions: tuple[str, ...]
) -> dict[str, str]:
    """The table properties that turn on partition projection (Athena User Guide, "Supported types
    for partition projection"); ``bucket`` may be a CloudFormation token."""
    return {
        "projection.enabled": "true",
        "projection.account.type": "enum",
        "projection.account.values": ",".join(accounts),
        "projection.region.type": "enum",
        "projection.region.values": ",".join(regions),
        "projection.day.type": "date",
        "projection.day.format": DAY_FORMAT,
        "projection.day.range": f"{FIRST_DAY},NOW",
        "projection.day.interval": "1",
        "projection.day.interval.unit": "DAYS",
        "storage.location.template": f"s3://{bucket}/reports/${{account}}/${{region}}/${{day}}/",
    }
