"""Names and S3 keys the organization's parts agree on, defined once.

The central bucket holds one trail per account and region:

* ``reports/<account, 12 digits>/<region>/YYYY/MM/DD/<sequence>-<reportId>.json``: the reports;
* ``chain/<account>/<region>/``: that trail's ``head.json`` and ``triggers/``.

A member's report generator gets the two prefixes as ``REPORT_PREFIX`` and ``CHAIN_PREFIX``; the
bucket policy lets it write only under its own account's (``central_bucket_statements``). The
single-account shape keeps ``reports/YYYY/...`` and ``chain/``.

No CDK import: settings.py, the emulator tests and the SQL checks read this file too.
"""

from __future__ import annotations

REPORTS = "reports/"
CHAIN = "chain/"
# S3 bucket names are at most 63 characters ("Bucket naming rules", Amazon S3 User Guide): with a
# 16-character suffix, a 12-digit account and a region of 14 ("ap-southeast-5"), the asset bucket's
# name is 62. settings.py refuses a region that would make it longer.
ASSET_BUCKET_KIND = "compliance-assets"
# The member template's assets (their folders and object keys), written beside the template by its
# synthesizer (member.RegionalAssetsSynthesizer) and read by scripts/publish_member_assets.py.
ASSET_MANIFEST = "member-assets.json"
MAX_BUCKET_NAME = 63
# The evidence account's topics and queues carry this before the suffix, so a member stack deployed
# to the evidence account too (an OU may include it) never meets a name of the evidence part.
ORGANIZATION_NAME_PREFIX = "org-"


def member_report_prefix(account: str, region: str) -> str:
    return f"{REPORTS}{account}/{region}/"


def member_chain_prefix(account: str, region: str) -> str:
    return f"{CHAIN}{account}/{region}/"


def central_bucket_name(suffix: str, evidence_account: str) -> str:
    """The single shape's report bucket name, in the evidence account."""
    return f"compliance-reports-{suffix}-{evidence_account}"


def organization_suffix(suffix: str) -> str:
    """The name suffix of the evidence account's alerting (``compliance-alerts-org-<suffix>``)."""
    return f"{ORGANIZATION_NAME_PREFIX}{suffix}"


def organization_topic_name(suffix: str) -> str:
    return f"compliance-alerts-{organization_suffix(suffix)}"


def asset_bucket_prefix(suffix: str, evidence_account: str) -> str:
    """The regional asset buckets' names without the region: ``<prefix>-<region>``."""
    return f"{ASSET_BUCKET_KIND}-{suffix}-{evidence_account}"


def asset_bucket_name(suffix: str, evidence_account: str, region: str) -> str:
    return f"{asset_bucket_prefix(suffix, evidence_account)}-{region}"


def evidence_stack_name(suffix: str) -> str:
    return f"ComplianceAuditEvidence-{suffix}"


def regional_stack_name(suffix: str, region: str) -> str:
    return f"ComplianceAuditEvidence-{suffix}-{region}"


def member_stack_name(suffix: str) -> str:
    return f"ComplianceAuditMember-{suffix}"


def stack_set_name(suffix: str) -> str:
    """The StackSet; CloudFormation names its stack instances ``StackSet-<name>-<id>``."""
    return f"ComplianceAudit-{suffix}"


def glue_database_name(suffix: str) -> str:
    """Glue and Athena names: lowercase letters, digits and underscores ("Names for tables,
    databases, and columns", Athena User Guide), so the suffix's hyphens become underscores."""
    return f"compliance_audit_{suffix.replace('-', '_')}"


REPORTS_TABLE = "reports"
