"""Configuration items: what the configuration recorder has captured of moto's resources.

AWS Config evaluates rules against recorded configuration items, not live resources. The emulator
keeps one snapshot per (account, region) and refreshes it from moto's in-process backends only while
a recorder is recording (and not failing), so stopping the recorder freezes what the rules see.
"""

from __future__ import annotations

import base64
import hashlib
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Callable

S3_BUCKET = "AWS::S3::Bucket"
RDS_DB_INSTANCE = "AWS::RDS::DBInstance"
EC2_INSTANCE = "AWS::EC2::Instance"
RECORDED_TYPES = (S3_BUCKET, RDS_DB_INSTANCE, EC2_INSTANCE)

# moto 5.2.5 gives every DB instance the same DbiResourceId; AWS Config names DB instances by it.
MOTO_SHARED_DBI_RESOURCE_ID = "db-M5ENSHXFPU6XHZ4G4ZEI5QIO2U"


@dataclass(frozen=True)
class ConfigurationItem:
    resource_type: str
    resource_id: str
    resource_name: str
    attributes: tuple[tuple[str, Any], ...]

    def get(self, name: str, default: Any = None) -> Any:
        for key, value in self.attributes:
            if key == name:
                return value
        return default


def unique_dbi_resource_id(account_id: str, region: str, identifier: str, created: str) -> str:
    """A stable, AWS-shaped DbiResourceId ("db-" + 26 base32 characters) for one DB instance."""
    digest = hashlib.sha256(f"{account_id}/{region}/{identifier}/{created}".encode()).digest()
    return "db-" + base64.b32encode(digest).decode()[:26]


def _freeze(value: Any) -> Any:
    if isinstance(value, dict):
        return tuple(sorted((k, _freeze(v)) for k, v in value.items()))
    if isinstance(value, list):
        return tuple(_freeze(v) for v in value)
    return value


def _retry(read: Callable[[], list[ConfigurationItem]]) -> list[ConfigurationItem]:
    """moto mutates its dicts in other request threads; a read that races one is simply repeated."""
    for _ in range(5):
        try:
            return read()
        except RuntimeError:  # "dictionary changed size during iteration"
            continue
    return read()


def _s3_buckets(account_id: str, region: str) -> list[ConfigurationItem]:
    from moto.s3.models import s3_backends

    if account_id not in s3_backends:
        return []
    backend = s3_backends[account_id]["aws"]
    items = []
    for name, bucket in list(backend.buckets.items()):
        if getattr(bucket, "region_name", region) != region:
            continue
        items.append(
            ConfigurationItem(S3_BUCKET, name, name, (("encryption", _freeze(bucket.encryption)),))
        )
    return items


def _rds_instances(account_id: str, region: str) -> list[ConfigurationItem]:
    from moto.rds.models import rds_backends

    if account_id not in rds_backends or region not in rds_backends[account_id]:
        return []
    backend = rds_backends[account_id][region]
    items = []
    for identifier, db in list(backend.databases.items()):
        resource_id = getattr(db, "dbi_resource_id", None)
        if not resource_id or resource_id == MOTO_SHARED_DBI_RESOURCE_ID:
            resource_id = unique_dbi_resource_id(
                account_id, region, identifier, str(getattr(db, "created", ""))
            )
            db.dbi_resource_id = resource_id  # so DescribeDBInstances agrees with Config
        items.append(
            ConfigurationItem(
                RDS_DB_INSTANCE,
                resource_id,
                db.db_instance_identifier,
                (
                    ("storage_encrypted", bool(db.storage_encrypted)),
                    ("kms_key_id", getattr(db, "kms_key_id", None)),
                    ("identifier", identifier),
                ),
            )
        )
    return items


def _ec2_instances(account_id: str, region: str) -> list[ConfigurationItem]:
    from moto.ec2.models import ec2_backends

    if account_id not in ec2_backends or region not in ec2_backends[account_id]:
        return []
    backend = ec2_backends[account_id][region]
    items = []
    for reservation in list(backend.reservations.values()):
        for instance in list(reservation.instances):
            if instance._state.name == "terminated":
                continue  # AWS Config does not evaluate terminated instances
            tokens = getattr(getattr(instance, "metadata_options", None), "http_tokens", None)
            tags = tuple((t["key"], t["value"]) for t in instance.get_tags())
            items.append(
                ConfigurationItem(
                    EC2_INSTANCE,
                    instance.id,
                    instance.id,
                    (("http_tokens", tokens or "optional"), ("tags", tags)),
                )
            )
    return items


_READERS = {S3_BUCKET: _s3_buckets, RDS_DB_INSTANCE: _rds_instances, EC2_INSTANCE: _ec2_instances}


def capture(
    account_id: str, region: str, resource_types: set[str] | None
) -> dict[tuple[str, str], ConfigurationItem]:
    """Read the current state of every recorded resource type (``None`` = all supported types)."""
    captured: dict[tuple[str, str], ConfigurationItem] = {}
    for resource_type, reader in _READERS.items():
        if resource_types is not None and resource_type not in resource_types:
            continue
        for item in _retry(lambda reader=reader: reader(account_id, region)):
            captured[(item.resource_type, item.resource_id)] = item
    return captured


def base_configuration_item(
    item: ConfigurationItem, scope: tuple[str, str], captured: datetime
) -> dict[str, Any]:
    """``item`` as AWS Config's BaseConfigurationItem (API Reference): ``configuration`` is JSON text,
    ``resourceName`` "the custom name of the resource, if available" - the bucket's name, the DB
    instance identifier (its ``resourceId`` is the DbiResourceId), none for an EC2 instance, whose
    ``configuration`` carries its tags as ``[{"key", "value"}]`` (the AWS Config Developer Guide's
    example configuration items)."""
    account, region = scope
    name: str | None = item.resource_name
    if item.resource_type == S3_BUCKET:
        arn = f"arn:aws:s3:::{item.resource_id}"
        configuration: dict[str, Any] = {"name": item.resource_id}
    elif item.resource_type == RDS_DB_INSTANCE:
        arn = f"arn:aws:rds:{region}:{account}:db:{item.resource_name}"
        configuration = {
            "dBInstanceIdentifier": item.resource_name,
            "dbiResourceId": item.resource_id,
            "storageEncrypted": item.get("storage_encrypted"),
            "kmsKeyId": item.get("kms_key_id"),
        }
    else:
        name = None
        arn = f"arn:aws:ec2:{region}:{account}:instance/{item.resource_id}"
        configuration = {
            "instanceId": item.resource_id,
            "metadataOptions": {"httpTokens": item.get("http_tokens")},
            "tags": [{"key": k, "value": v} for k, v in item.get("tags", ())],
        }
    return {
        "version": "1.3",
        "accountId": account,
        "configurationItemCaptureTime": captured.timestamp(),
        "configurationItemStatus": "OK",
        "arn": arn,
        "resourceType": item.resource_type,
        "resourceId": item.resource_id,
        **({"resourceName": name} if name else {}),
        "awsRegion": region,
        "configuration": json.dumps(configuration),
        "supplementaryConfiguration": {},
    }
