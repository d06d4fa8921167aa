"""Service principals: every trust policy pinned, and every condition on a service principal one that AWS
documents the service supplying in that place.

A condition key the calling service does not put in the request context makes the condition false, and
the service is refused: a Lambda execution role whose trust policy tests a key Lambda does not send makes
CreateFunction fail ("The role defined for the function cannot be assumed by Lambda"), so the function is
never created. The emulator does not evaluate trust policies, so this is where such a condition is caught.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterator

import pytest

from tests.unit.conftest import VARIANTS, variant
from tests.unit.test_stack import resolve

ACCOUNT = "123456789012"  # what tests.unit.test_stack.resolve renders AWS::AccountId as

TRUST = "role trust policy"
RESOURCE = "resource-based policy"


@dataclass(frozen=True)
class Documented:
    """The condition keys AWS documents a service supplying when it acts in ``place``, and where."""

    keys: frozenset[str]  # lower case: IAM compares condition key names case-insensitively
    document: str


# One row per (service principal, place) the stack uses; a new one must be looked up and added here.
DOCUMENTED: dict[tuple[str, str], Documented] = {
    ("lambda.amazonaws.com", TRUST): Documented(
        frozenset(),
        # Its trust policy names the Lambda principal with no condition, and no Lambda document says
        # Lambda supplies aws:SourceAccount or aws:SourceArn when it assumes an execution role; the IAM
        # User Guide ("AWS global condition context keys", aws:SourceAccount) says the key is present
        # only when the calling service passes it.
        "Defining Lambda function permissions with an execution role, "
        "https://docs.aws.amazon.com/lambda/latest/dg/lambda-intro-execution-role.html",
    ),
    ("config.amazonaws.com", TRUST): Documented(
        frozenset({"aws:sourceaccount"}),
        "Permissions for the IAM Role Assigned to AWS Config, "
        "https://docs.aws.amazon.com/config/latest/developerguide/iamrole-permissions.html",
    ),
    ("scheduler.amazonaws.com", TRUST): Documented(
        frozenset({"aws:sourceaccount", "aws:sourcearn"}),
        "Confused deputy prevention in EventBridge Scheduler, "
        "https://docs.aws.amazon.com/scheduler/latest/UserGuide/cross-service-confused-deputy-prevention.html",
    ),
    ("config.amazonaws.com", RESOURCE): Documented(
        # s3:x-amz-acl is the header Config's own PutObject sends, per the bucket page.
        frozenset({"aws:sourceaccount", "aws:sourcearn", "s3:x-amz-acl"}),
        "AWS Config: Cross-service confused deputy prevention, "
        "https://docs.aws.amazon.com/config/latest/developerguide/cross-service-confused-deputy-prevention.html"
        "; Permissions for the Amazon S3 Bucket for the AWS Config Delivery Channel, "
        "https://docs.aws.amazon.com/config/latest/developerguide/s3-bucket-policy.html",
    ),
    ("cloudwatch.amazonaws.com", RESOURCE): Documented(
        frozenset({"aws:sourceaccount", "aws:sourcearn"}),
        "Example cases for Amazon SNS access control (a CloudWatch alarm publishing to a topic), "
        "https://docs.aws.amazon.com/sns/latest/dg/sns-access-policy-use-cases.html",
    ),
    ("events.amazonaws.com", RESOURCE): Documented(
        frozenset({"aws:sourcearn"}),
        "Using resource-based policies for Amazon EventBridge (Amazon SQS permissions), "
        "https://docs.aws.amazon.com/eventbridge/latest/userguide/eb-use-resource-based.html",
    ),
    ("sns.amazonaws.com", RESOURCE): Documented(
        frozenset({"aws:sourcearn"}),
        "Configuring an Amazon SNS dead-letter queue for a subscription, "
        "https://docs.aws.amazon.com/sns/latest/dg/sns-configure-dead-letter-queue.html",
    ),
    ("logging.s3.amazonaws.com", RESOURCE): Documented(
        frozenset({"aws:sourceaccount", "aws:sourcearn"}),
        "Enabling Amazon S3 server access logging, "
        "https://docs.aws.amazon.com/AmazonS3/latest/userguide/enable-server-access-logging.html",
    ),
}

RESOURCE_POLICY_TYPES = {
    "AWS::S3::BucketPolicy",
    "AWS::SNS::TopicPolicy",
    "AWS::SQS::QueuePolicy",
}


@dataclass(frozen=True)
class ServiceStatement:
    logical_id: str
    place: str
    service: str
    statement: dict[str, Any]

    @property
    def condition_keys(self) -> set[str]:
        return {
            key.lower() for clause in self.statement.get("Condition", {}).values() for key in clause
        }


def service_statements(template) -> Iterator[ServiceStatement]:
    for logical_id, resource in template.to_json()["Resources"].items():
        props = resource.get("Properties", {})
        if resource["Type"] == "AWS::IAM::Role":
            documents = [(TRUST, props["AssumeRolePolicyDocument"])]
        elif resource["Type"] in RESOURCE_POLICY_TYPES:
            documents = [(RESOURCE, props["PolicyDocument"])]
        else:
            continue
        for place, document in documents:
            for statement in document["Statement"]:
                if statement.get("Effect") != "Allow":
                    continue
                services = statement.get("Principal", {}).get("Service", [])
                for service in [services] if isinstance(services, str) else services:
                    yield ServiceStatement(logical_id, place, service, statement)


def trust_policies(template) -> dict[str, dict[str, Any]]:
    return {
        resolve(role["Properties"]["RoleName"]): role["Properties"]["AssumeRolePolicyDocument"]
        for role in template.find_resources("AWS::IAM::Role").values()
    }


def only_service(service: str, condition: dict[str, Any] | None = None) -> dict[str, Any]:
    statement: dict[str, Any] = {
        "Action": "sts:AssumeRole",
        "Effect": "Allow",
        "Principal": {"Service": service},
    }
    if condition is not None:
        statement["Condition"] = condition
    return {"Version": "2012-10-17", "Statement": [statement]}


def resolved(document: dict[str, Any]) -> dict[str, Any]:
    """The trust policy with its intrinsic values rendered for account 123456789012, us-east-1."""

    def walk(value: Any) -> Any:
        if isinstance(value, dict) and len(value) == 1 and set(value) <= {"Ref", "Fn::Join"}:
            return resolve(value)
        if isinstance(value, dict):
            return {k: walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        return value

    return walk(document)


def test_every_trust_policy_is_pinned(template):
    assert {name: resolved(doc) for name, doc in trust_policies(template).items()} == {
        # No condition: Lambda is not documented to supply one (see DOCUMENTED).
        "compliance-report-generator-dev": only_service("lambda.amazonaws.com"),
        "compliance-alert-formatter-dev": only_service("lambda.amazonaws.com"),
        "compliance-config-recorder-dev": only_service(
            "config.amazonaws.com", {"StringEquals": {"AWS:SourceAccount": ACCOUNT}}
        ),
        # aws:SourceArn names the schedule group, never a schedule (the Scheduler page says so).
        "compliance-daily-evaluation-dev": only_service(
            "scheduler.amazonaws.com",
            {
                "StringEquals": {
                    "aws:SourceAccount": ACCOUNT,
                    "aws:SourceArn": f"arn:aws:scheduler:us-east-1:{ACCOUNT}:schedule-group/compliance-dev",
                }
            },
        ),
    }


@pytest.mark.parametrize("name", sorted(VARIANTS))
def test_service_principals_are_only_tested_on_keys_the_service_is_documented_to_supply(
    templates, name
):
    seen = set()
    for found in service_statements(variant(templates, name)):
        where = (found.service, found.place)
        assert where in DOCUMENTED, (
            f"{found.logical_id}: {found.service} in a {found.place}; find the AWS document that says "
            "which condition keys it supplies there and add a row to DOCUMENTED"
        )
        undocumented = found.condition_keys - DOCUMENTED[where].keys
        assert not undocumented, (
            f"{found.logical_id}: {found.service} is not documented to supply {sorted(undocumented)} "
            f"in a {found.place} ({DOCUMENTED[where].document})"
        )
        seen.add(where)
    assert ("lambda.amazonaws.com", TRUST) in seen


def test_the_check_catches_a_condition_lambda_does_not_supply():
    """The condition the execution role used to carry is exactly what the check above refuses."""
    statement = only_service(
        "lambda.amazonaws.com", {"StringEquals": {"aws:SourceAccount": ACCOUNT}}
    )["Statement"][0]
    found = ServiceStatement("Role", TRUST, "lambda.amazonaws.com", statement)
    assert found.condition_keys - DOCUMENTED[("lambda.amazonaws.com", TRUST)].keys == {
        "aws:sourceaccount"
    }
