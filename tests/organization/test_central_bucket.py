"""GIVEN the emulator enforcing the organization shape's policies across accounts (the evidence
template in the evidence account, the member template in two member accounts of the organization and
in one account outside it) WHEN members write, read, list, overwrite and delete in the central bucket
THEN each request is answered as IAM's cross-account evaluation answers it: a member writes and reads
only its own trail, never overwrites or deletes a report, and an account outside the organization
can do nothing.
"""

from __future__ import annotations

import boto3
import botocore
import pytest
from botocore.config import Config

from lib.organization import layout
from tests.organization.synth import (
    EVIDENCE,
    MEMBER_A,
    MEMBER_B,
    ORGANIZATION_ID,
    OUTSIDER,
)
from tools.local_aws import estate
from tools.local_aws.iam.enforce import role_access_key

REGION = "us-east-1"
BUCKET = layout.central_bucket_name("dev", EVIDENCE)
GENERATOR = (
    f"compliance-report-generator-dev-{REGION}"  # the member's role name ends with its region
)
REPORT = "2026/07/01/00000000-3c6ef372-fe94-5002-8003-000000000002.json"


@pytest.fixture
def enforced(aws, organization):
    member = str(organization.path(layout.member_stack_name("dev")))
    status = aws.load_iam(
        organization.path(layout.evidence_stack_name("dev")),
        account=EVIDENCE,
        region=REGION,
        members=[
            {"template": member, "account": account, "region": REGION}
            for account in (MEMBER_A, MEMBER_B, OUTSIDER)
        ],
        organization={"id": ORGANIZATION_ID, "accounts": [EVIDENCE, MEMBER_A, MEMBER_B]},
    )
    estate.create_bucket(estate.clients(aws.endpoint_url).s3, BUCKET)
    estate.clients(aws.endpoint_url).s3.put_bucket_versioning(
        Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"}
    )
    try:
        yield status
    finally:
        aws.clear_iam()


def s3_of(aws, account):
    return boto3.client(
        "s3",
        endpoint_url=aws.endpoint_url,
        region_name=REGION,
        aws_access_key_id=role_access_key(GENERATOR, account),
        aws_secret_access_key="secret",  # the emulator checks no signature
        config=Config(retries={"mode": "standard", "max_attempts": 1}),
    )


def own(account, key=REPORT, region=REGION):
    return layout.member_report_prefix(account, region) + key


def refused(call, **params):
    with pytest.raises(botocore.exceptions.ClientError) as denied:
        call(**params)
    return denied.value.response["Error"]["Code"], denied.value.response["Error"]["Message"]


def test_the_member_roles_are_principals_of_their_accounts(enforced):
    accounts = {m["account"]: m["roles"][GENERATOR]["sessionArn"] for m in enforced["members"]}
    assert accounts[MEMBER_A] == (
        f"arn:aws:sts::{MEMBER_A}:assumed-role/{GENERATOR}/compliance-report-generator-dev"
    )
    assert enforced["organization"] == {
        "id": ORGANIZATION_ID,
        "accounts": sorted([EVIDENCE, MEMBER_A, MEMBER_B]),
    }


def test_a_member_writes_and_reads_its_own_trail(aws, enforced):
    a = s3_of(aws, MEMBER_A)
    a.put_object(Bucket=BUCKET, Key=own(MEMBER_A), Body=b"{}\n", IfNoneMatch="*")
    head = layout.member_chain_prefix(MEMBER_A, REGION) + "head.json"
    a.put_object(Bucket=BUCKET, Key=head, Body=b"{}", IfNoneMatch="*")
    assert a.get_object(Bucket=BUCKET, Key=own(MEMBER_A))["Body"].read() == b"{}\n"
    listed = a.list_objects_v2(Bucket=BUCKET, Prefix=layout.member_report_prefix(MEMBER_A, REGION))
    assert [o["Key"] for o in listed["Contents"]] == [own(MEMBER_A)]
    assert aws.iam()["denied"] == 0


def test_a_member_cannot_write_another_accounts_trail(aws, enforced):
    code, message = refused(
        s3_of(aws, MEMBER_A).put_object,
        Bucket=BUCKET,
        Key=own(MEMBER_B),
        Body=b"{}\n",
        IfNoneMatch="*",
    )
    assert code == "AccessDenied"
    # The member's role is narrowed to its own prefixes, so its identity policy already refuses.
    assert "because no identity-based policy allows the s3:PutObject action" in message


def test_a_member_cannot_write_another_region_of_its_own_account(aws, enforced):
    """The bucket policy binds the account; the member's role binds the region."""
    code, _ = refused(
        s3_of(aws, MEMBER_A).put_object,
        Bucket=BUCKET,
        Key=own(MEMBER_A, region="eu-west-1"),
        Body=b"{}\n",
        IfNoneMatch="*",
    )
    assert code == "AccessDenied"


def test_a_report_is_written_once(aws, enforced):
    a = s3_of(aws, MEMBER_A)
    a.put_object(Bucket=BUCKET, Key=own(MEMBER_A), Body=b"first\n", IfNoneMatch="*")
    # Without If-None-Match the bucket policy denies the write outright...
    code, message = refused(a.put_object, Bucket=BUCKET, Key=own(MEMBER_A), Body=b"forged\n")
    assert code == "AccessDenied"
    assert "with an explicit deny in a resource-based policy" in message
    # ...and with it S3 refuses a key that exists.
    code, _ = refused(
        a.put_object, Bucket=BUCKET, Key=own(MEMBER_A), Body=b"forged\n", IfNoneMatch="*"
    )
    assert code == "PreconditionFailed"
    versions = estate.clients(aws.endpoint_url).s3.list_object_versions(
        Bucket=BUCKET, Prefix=own(MEMBER_A)
    )["Versions"]
    assert len(versions) == 1


def test_a_member_deletes_nothing(aws, enforced):
    a = s3_of(aws, MEMBER_A)
    a.put_object(Bucket=BUCKET, Key=own(MEMBER_A), Body=b"{}\n", IfNoneMatch="*")
    code, message = refused(a.delete_object, Bucket=BUCKET, Key=own(MEMBER_A))
    assert code == "AccessDenied"
    assert "s3:DeleteObject" in message


def test_a_member_cannot_read_or_list_another_accounts_trail(aws, enforced):
    s3_of(aws, MEMBER_B).put_object(Bucket=BUCKET, Key=own(MEMBER_B), Body=b"{}\n", IfNoneMatch="*")
    a = s3_of(aws, MEMBER_A)
    code, _ = refused(a.get_object, Bucket=BUCKET, Key=own(MEMBER_B))
    assert code == "AccessDenied"
    code, _ = refused(
        a.list_objects_v2, Bucket=BUCKET, Prefix=layout.member_report_prefix(MEMBER_B, REGION)
    )
    assert code == "AccessDenied"
    code, _ = refused(a.list_objects_v2, Bucket=BUCKET)  # no prefix: every trail's keys
    assert code == "AccessDenied"


def test_an_account_outside_the_organization_can_do_nothing(aws, enforced):
    """Its role has the same identity policy as a member's; only the bucket policy tells them apart."""
    outsider = s3_of(aws, OUTSIDER)
    code, message = refused(
        outsider.put_object, Bucket=BUCKET, Key=own(OUTSIDER), Body=b"{}\n", IfNoneMatch="*"
    )
    assert code == "AccessDenied"
    assert "because no resource-based policy allows the s3:PutObject action" in message
    code, _ = refused(outsider.get_object, Bucket=BUCKET, Key=own(OUTSIDER))
    assert code == "AccessDenied"


def test_the_bucket_policy_alone_keeps_a_member_out_of_another_trail(aws, organization):
    """A member whose own role allowed every trail (``reports/*``, as the single shape grants) is
    still refused another account's prefix: the cross-account half is the bucket policy's."""
    import copy

    member = copy.deepcopy(organization.template(layout.member_stack_name("dev")))
    widened = set()
    for resource in member["Resources"].values():
        for statement in (
            resource.get("Properties", {}).get("PolicyDocument", {}).get("Statement", [])
        ):
            if statement.get("Sid") in ("ReadReports", "WriteReportsOnce"):
                statement["Resource"] = f"arn:aws:s3:::{BUCKET}/reports/*"
                widened.add(statement["Sid"])
    assert widened == {"ReadReports", "WriteReportsOnce"}, "the member's statements were renamed"
    aws.load_iam(
        organization.path(layout.evidence_stack_name("dev")),
        account=EVIDENCE,
        members=[{"template": member, "account": MEMBER_A, "region": REGION}],
        organization={"id": ORGANIZATION_ID, "accounts": [EVIDENCE, MEMBER_A, MEMBER_B]},
    )
    try:
        estate.create_bucket(estate.clients(aws.endpoint_url).s3, BUCKET)
        a = s3_of(aws, MEMBER_A)
        a.put_object(Bucket=BUCKET, Key=own(MEMBER_A), Body=b"{}\n", IfNoneMatch="*")
        code, message = refused(
            a.put_object, Bucket=BUCKET, Key=own(MEMBER_B), Body=b"{}\n", IfNoneMatch="*"
        )
        assert code == "AccessDenied"
        assert "because no resource-based policy allows the s3:PutObject action" in message
    finally:
        aws.clear_iam()
