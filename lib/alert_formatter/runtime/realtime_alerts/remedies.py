"""One line on how to fix a finding, per AWS managed rule, with the AWS document it comes from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Optional


@dataclass(frozen=True)
class Remedy:
    what: str  # the rule's requirement, in words
    how: str  # one line; {id} and {name} are the resource's id and human name
    doc: str  # the AWS document the line comes from


REMEDIES = {
    # Amazon S3 User Guide, "Setting default server-side encryption behavior for Amazon S3 buckets".
    "S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED": Remedy(
        "the bucket must have default server-side encryption",
        "aws s3api put-bucket-encryption --bucket {id} --server-side-encryption-configuration "
        '\'{{"Rules":[{{"ApplyServerSideEncryptionByDefault":{{"SSEAlgorithm":"AES256"}}}}]}}\'',
        "https://docs.aws.amazon.com/AmazonS3/latest/userguide/default-bucket-encryption.html",
    ),
    # Amazon RDS User Guide, "Encrypting Amazon RDS resources", limitations: encryption cannot be
    # turned on for an existing DB instance; copy a snapshot with encryption and restore it.
    "RDS_STORAGE_ENCRYPTED": Remedy(
        "the DB instance's storage must be encrypted",
        "storage encryption cannot be turned on in place: snapshot {name}, copy the snapshot with "
        "aws rds copy-db-snapshot --kms-key-id <key>, restore the encrypted copy and move clients to it",
        "https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/Overview.Encryption.html",
    ),
    # Amazon EC2 User Guide, "Modify instance metadata options for existing instances", Require IMDSv2.
    "EC2_IMDSV2_CHECK": Remedy(
        "the instance must require IMDSv2 (HttpTokens required)",
        "aws ec2 modify-instance-metadata-options --instance-id {id} --http-tokens required "
        "--http-endpoint enabled",
        "https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/configuring-IMDS-existing-instances.html",
    ),
}


def remedy(managed_identifier: Optional[str]) -> Optional[Remedy]:
    return REMEDIES.get(managed_identifier or "")


def fix_line(managed_identifier: Optional[str], resource_id: str, name: Optional[str]) -> str:
    found = remedy(managed_identifier)
    if found is None:
        return "see the rule's description in the AWS Config console"
    return found.how.format(id=resource_id, name=name or resource_id)
