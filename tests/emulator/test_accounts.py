"""GIVEN the emulator WHEN requests are signed with an account's administrator key or a member role's key
THEN each is made in that account: its own AWS Config and parameters and estate, while the default key
keeps the default account, and another account's bucket and topic are reached by name and ARN."""

from __future__ import annotations

import boto3
import pytest

from tools.local_aws import accounts, estate
from tools.local_aws.iam.enforce import role_access_key

MEMBER, OTHER = "210987654321", "310987654321"
ROLE = "member-reader"
# A member template with one role allowed to read its account's rules and parameters.
MEMBER_TEMPLATE = {
    "Resources": {
        "Role": {
            "Type": "AWS::IAM::Role",
            "Properties": {
                "RoleName": ROLE,
                "AssumeRolePolicyDocument": {"Version": "2012-10-17", "Statement": []},
                "Policies": [
                    {
                        "PolicyName": "read",
                        "PolicyDocument": {
                            "Version": "2012-10-17",
                            "Statement": [
                                {
                                    "Effect": "Allow",
                                    "Action": [
                                        "config:DescribeConfigRules",
                                        "ssm:GetParameter",
                                        "s3:PutObject",
                                    ],
                                    "Resource": "*",
                                }
                            ],
                        },
                    }
                ],
            },
        }
    }
}
PRIMARY_TEMPLATE = {"Resources": {"Topic": {"Type": "AWS::SNS::Topic", "Properties": {}}}}


def test_an_admin_key_names_its_account():
    key = accounts.admin_key(MEMBER)
    assert len(key) == 20 and key.isalnum() and key.isupper()  # the shape moto reads
    assert accounts.admin_account(key) == MEMBER
    assert accounts.account_of(key) == MEMBER
    assert accounts.account_of("testing") == accounts.DEFAULT_ACCOUNT
    assert accounts.admin_account("testing") is None
    with pytest.raises(ValueError, match="must be 12 digits"):
        accounts.admin_key("12345")


def test_each_account_has_its_own_config_parameters_and_estate(aws):
    home = estate.clients(aws.endpoint_url)
    member = estate.clients(aws.endpoint_url, "eu-west-1", access_key=accounts.admin_key(MEMBER))
    estate.put_managed_rules(member.config, "s3-rule", "rds-rule", "ec2-rule")
    estate.create_bucket(member.s3, "member-bucket")
    member.ssm.put_parameter(Name="witness", Value="# none", Type="String")
    estate.start_recording(member.config, "member-bucket", role_arn=f"arn:aws:iam::{MEMBER}:role/r")

    rules = member.config.describe_config_rules()["ConfigRules"]
    assert {r["ConfigRuleArn"].split(":")[4] for r in rules} == {MEMBER}
    west = estate.clients(aws.endpoint_url, "eu-west-1")
    assert west.config.describe_config_rules()["ConfigRules"] == []
    with pytest.raises(west.ssm.exceptions.ParameterNotFound):
        west.ssm.get_parameter(Name="witness")
    # AWS Config evaluates the member's own estate, in its own account.
    details = member.config.get_compliance_details_by_config_rule(ConfigRuleName="s3-rule")
    ids = [
        r["EvaluationResultIdentifier"]["EvaluationResultQualifier"]["ResourceId"]
        for r in details["EvaluationResults"]
    ]
    assert ids == ["member-bucket"]
    assert "member-bucket" not in {b["Name"] for b in home.s3.list_buckets()["Buckets"]}


def test_a_bucket_and_topic_of_another_account_are_reached_by_name_and_arn(aws):
    home = estate.clients(aws.endpoint_url)
    home.s3.create_bucket(Bucket="central")
    topic = home.sns.create_topic(Name="alerts")["TopicArn"]
    member = estate.clients(aws.endpoint_url, access_key=accounts.admin_key(MEMBER))

    member.s3.put_object(Bucket="central", Key="reports/x", Body=b"1")
    member.sns.publish(TopicArn=topic, Message="hello")

    assert home.s3.get_object(Bucket="central", Key="reports/x")["Body"].read() == b"1"


def test_a_member_roles_key_is_its_accounts_while_enforcement_knows_it(aws):
    member = estate.clients(aws.endpoint_url, access_key=accounts.admin_key(MEMBER))
    member.ssm.put_parameter(Name="witness", Value="member's", Type="String")
    key = role_access_key(ROLE, MEMBER)
    aws.load_iam(
        PRIMARY_TEMPLATE,
        members=[{"template": MEMBER_TEMPLATE, "account": MEMBER, "region": "us-east-1"}],
    )
    try:
        ssm = boto3.client(
            "ssm",
            endpoint_url=aws.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id=key,
            aws_secret_access_key="x",
        )
        assert ssm.get_parameter(Name="witness")["Parameter"]["Value"] == "member's"
        assert accounts.account_of(key) == MEMBER
        assert aws.iam()["denied"] == 0
    finally:
        aws.clear_iam()
    assert accounts.account_of(key) == accounts.DEFAULT_ACCOUNT  # forgotten with enforcement


def test_an_admin_key_of_any_account_is_not_evaluated(aws):
    aws.load_iam(PRIMARY_TEMPLATE)
    try:
        other = estate.clients(aws.endpoint_url, access_key=accounts.admin_key(OTHER))
        other.s3.create_bucket(Bucket="others")
        assert aws.iam()["denied"] == 0
    finally:
        aws.clear_iam()
