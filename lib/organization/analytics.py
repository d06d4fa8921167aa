"""Ad-hoc questions over the whole organization's trail: a Glue table over the central bucket's reports
with partition projection, an Athena workgroup and the named queries, whose SQL lives in
``sql/athena/*.sql`` (checked against the auditor's figures on DuckDB, and parsed as Trino, by
``tests/organization/test_athena_queries.py``).

The workgroup keeps query results in Athena's managed storage ("Managed query results", Athena User
Guide: results kept 24 hours, encrypted, no bucket to create or empty), so the contract's bucket rules
need no exception; it enforces its settings on every query and stops any query at
``SCAN_LIMIT_BYTES``. ``RecursiveDeleteOption`` lets a stack deletion remove it with its named
queries ("AWS::Athena::WorkGroup"), so the stack stays destroyable.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aws_cdk import Aws
from aws_cdk import aws_athena as athena
from aws_cdk import aws_glue as glue
from aws_cdk import aws_s3 as s3
from constructs import Construct

from lib.defaults import physical_name
from lib.organization import layout, report_table

SQL_DIR = Path(__file__).resolve().parents[2] / "sql" / "athena"
# Athena engine version 3 is Trino-based; the queries are written for it and parsed as Trino.
ENGINE_VERSION = "Athena engine version 3"
# 100 GB: about 300,000 reports of 340 KB (README, Organization: a quarter of 500 accounts x 3 regions
# is 136,500 reports, about 46 GB). A query that would read more is cancelled rather than billed.
SCAN_LIMIT_BYTES = 100 * 1024**3


@dataclass(frozen=True)
class NamedQuery:
    key: str  # the file's stem and the construct id's base
    title: str
    description: str

    @property
    def path(self) -> Path:
        return SQL_DIR / f"{self.key}.sql"

    def sql(self) -> str:
        return self.path.read_text(encoding="utf-8")


QUERIES = (
    NamedQuery(
        "open_findings_on_date",
        "open-findings-on-date",
        "Findings open at the end of a day in every account and region. Parameters: first day of "
        "reports to read, the day (YYYY/MM/DD).",
    ),
    NamedQuery(
        "daily_noncompliant_by_rule_and_account",
        "daily-noncompliant-by-rule-and-account",
        "Non-compliant resources per day, rule, account and region. Parameters: first and last day "
        "(YYYY/MM/DD).",
    ),
    NamedQuery(
        "exposure_windows",
        "exposure-windows",
        "Each finding's stretches of non-compliance: opened, resolved, days. Parameters: first and "
        "last day (YYYY/MM/DD).",
    ),
    NamedQuery(
        "exceptions_in_force",
        "exceptions-in-force",
        "Findings under an exception at the end of a day: the exception labelling each (id, "
        "approver, expires) and its register's key. Parameters: first day of reports to read, the "
        "day, the day again (YYYY/MM/DD).",
    ),
)


class OrganizationAnalytics(Construct):
    def __init__(
        self,
        scope: Construct,
        id_: str,
        *,
        suffix: str,
        bucket: s3.IBucket,
        accounts: tuple[str, ...],
        regions: tuple[str, ...],
    ) -> None:
        super().__init__(scope, id_)
        self.database_name = layout.glue_database_name(suffix)
        self.database = glue.CfnDatabase(
            self,
            "Database",
            catalog_id=Aws.ACCOUNT_ID,
            database_input=glue.CfnDatabase.DatabaseInputProperty(
                name=self.database_name,
                description="Compliance reports of every account and region of the organization",
            ),
        )
        serde_parameters = {"case.insensitive": "TRUE"}
        serde_parameters.update({f"mapping.{c}": key for c, key, _ in report_table.MAPPED})
        self.table = glue.CfnTable(
            self,
            "ReportsTable",
            catalog_id=Aws.ACCOUNT_ID,
            database_name=self.database_name,
            table_input=glue.CfnTable.TableInputProperty(
                name=layout.REPORTS_TABLE,
                description="One row per report: reports/<account>/<region>/YYYY/MM/DD/*.json",
                table_type="EXTERNAL_TABLE",
                parameters={
                    "classification": "json",
                    **report_table.projection_properties(bucket.bucket_name, accounts, regions),
                },
                partition_keys=[
                    glue.CfnTable.ColumnProperty(name=name, type=kind)
                    for name, kind in report_table.PARTITION_KEYS
                ],
                storage_descriptor=glue.CfnTable.StorageDescriptorProperty(
                    location=f"s3://{bucket.bucket_name}/{layout.REPORTS}",
                    input_format="org.apache.hadoop.mapred.TextInputFormat",
                    output_format="org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
                    serde_info=glue.CfnTable.SerdeInfoProperty(
                        serialization_library=report_table.SERDE, parameters=serde_parameters
                    ),
                    columns=[
                        glue.CfnTable.ColumnProperty(name=name.lower(), type=kind.lower())
                        for name, kind in report_table.COLUMNS
                    ]
                    + [
                        glue.CfnTable.ColumnProperty(name=name, type=kind)
                        for name, _, kind in report_table.MAPPED
                    ],
                ),
            ),
        )
        self.table.node.add_dependency(self.database)
        self.workgroup_name = physical_name("compliance-audit", suffix)
        self.workgroup = athena.CfnWorkGroup(
            self,
            "WorkGroup",
            name=self.workgroup_name,
            description="Questions over the organization's compliance reports",
            state="ENABLED",
            recursive_delete_option=True,
            work_group_configuration=athena.CfnWorkGroup.WorkGroupConfigurationProperty(
                enforce_work_group_configuration=True,
                publish_cloud_watch_metrics_enabled=True,
                bytes_scanned_cutoff_per_query=SCAN_LIMIT_BYTES,
                engine_version=athena.CfnWorkGroup.EngineVersionProperty(
                    selected_engine_version=ENGINE_VERSION
                ),
                managed_query_results_configuration=athena.CfnWorkGroup.ManagedQueryResultsConfigurationProperty(
                    enabled=True
                ),
            ),
        )
        self.queries: dict[str, athena.CfnNamedQuery] = {}
        for query in QUERIES:
            named = athena.CfnNamedQuery(
                self,
                "".join(part.title() for part in query.key.split("_")),
                name=physical_name(query.title, suffix),
                description=query.description,
                database=self.database_name,
                query_string=query.sql(),
                work_group=self.workgroup_name,
            )
            named.node.add_dependency(self.workgroup, self.database)
            self.queries[query.key] = named
