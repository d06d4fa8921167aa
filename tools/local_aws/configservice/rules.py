"""The three AWS managed rules, as pure functions of a configuration item.

Each returns (ComplianceType, Annotation). AWS managed rules often leave Annotation empty; the
emulator states the reason for NON_COMPLIANT results so the demo's reports are readable (consumers
must still accept a missing annotation).
"""

from __future__ import annotations

from typing import Any, Callable

from .resources import EC2_INSTANCE, RDS_DB_INSTANCE, S3_BUCKET, ConfigurationItem

Verdict = tuple[str, str | None]
Parameters = dict[str, Any]  # the rule's InputParameters

_SSE_ALGORITHMS = {"AES256", "aws:kms", "aws:kms:dsse"}


def _default_algorithms(frozen: Any) -> set[str]:
    """SSE algorithms named by a (frozen) bucket encryption configuration; {} when there is none."""
    found: set[str] = set()

    def walk(node: Any, key: str | None = None) -> None:
        if key == "SSEAlgorithm" and isinstance(node, str):
            found.add(node)
        elif isinstance(node, tuple):
            for item in node:
                if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
                    walk(item[1], item[0])
                else:
                    walk(item)

    walk(frozen)
    return found


def s3_bucket_server_side_encryption_enabled(item: ConfigurationItem, _: Parameters) -> Verdict:
    algorithms = _default_algorithms(item.get("encryption"))
    if algorithms & _SSE_ALGORITHMS:
        return "COMPLIANT", None
    return "NON_COMPLIANT", "The bucket has no default server-side encryption configuration."


def _same_key(actual: str, wanted: str) -> bool:
    """A key id matches its own ARN (``arn:aws:kms:...:key/<id>``) and vice versa."""
    return actual == wanted or actual.endswith("/" + wanted) or wanted.endswith("/" + actual)


def rds_storage_encrypted(item: ConfigurationItem, params: Parameters) -> Verdict:
    if not item.get("storage_encrypted"):
        return "NON_COMPLIANT", f"DB instance {item.resource_name} has StorageEncrypted false."
    wanted = params.get("kmsKeyId")
    actual = item.get("kms_key_id") or ""
    if wanted and not _same_key(actual, str(wanted)):
        return (
            "NON_COMPLIANT",
            f"DB instance {item.resource_name} is encrypted with another KMS key.",
        )
    return "COMPLIANT", None


def ec2_imdsv2_check(item: ConfigurationItem, _: Parameters) -> Verdict:
    if item.get("http_tokens") == "required":
        return "COMPLIANT", None
    return "NON_COMPLIANT", f"HttpTokens is {item.get('http_tokens')}; IMDSv2 is not required."


MANAGED_RULES: dict[str, tuple[str, Callable[[ConfigurationItem, Parameters], Verdict]]] = {
    "S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED": (
        S3_BUCKET,
        s3_bucket_server_side_encryption_enabled,
    ),
    "RDS_STORAGE_ENCRYPTED": (RDS_DB_INSTANCE, rds_storage_encrypted),
    "EC2_IMDSV2_CHECK": (EC2_INSTANCE, ec2_imdsv2_check),
}
