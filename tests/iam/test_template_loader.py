"""GIVEN the synthesized stack WHEN its policies are loaded THEN each role has exactly the policies
CloudFormation would attach, resolved to concrete ARNs for account 123456789012 in us-east-1."""

import pytest

from tools.local_aws.iam.policy import IDENTITY, RESOURCE, TRUST, parse_policy
from tools.local_aws.iam.template import (
    DeployTimeAttribute,
    StackTemplate,
    TemplateError,
    stand_in_ids,
)

ACCOUNT = "123456789012"


def rule_ids(attribute: DeployTimeAttribute) -> str:
    return {"s3-bucket-sse-enabled-dev": "config-rule-aaaaaa"}.get(
        attribute.physical_name, "config-rule-zzzzzz"
    )


def test_each_role_gets_its_identity_policies_and_trust_policy(template):
    roles = StackTemplate(template, deploy_time=rule_ids).roles()

    assert sorted(roles) == [
        "compliance-alert-formatter-dev",
        "compliance-config-recorder-dev",
        "compliance-daily-evaluation-dev",
        "compliance-report-generator-dev",
    ]
    generator = roles["compliance-report-generator-dev"]
    assert generator.arn == f"arn:aws:iam::{ACCOUNT}:role/compliance-report-generator-dev"
    (policy,) = generator.identity
    assert policy.kind == IDENTITY
    statements = {s["Sid"]: s for s in policy.document["Statement"]}
    assert sorted(statements["ReadReports"]["Resource"]) == [
        f"arn:aws:s3:::compliance-reports-dev-{ACCOUNT}/chain/*",
        f"arn:aws:s3:::compliance-reports-dev-{ACCOUNT}/reports/*",
    ]
    assert statements["WriteReportsOnce"]["Resource"] == (
        f"arn:aws:s3:::compliance-reports-dev-{ACCOUNT}/reports/*"
    )
    # The witness parameter: Ref of an AWS::SSM::Parameter is its name.
    assert statements["WitnessHead"]["Resource"] == (
        f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/compliance-chain-head-dev"
    )
    assert (
        statements["PublishAlerts"]["Resource"]
        == f"arn:aws:sns:us-east-1:{ACCOUNT}:compliance-alerts-dev"
    )
    # Config rules are named by the id AWS Config assigns, through the deploy-time callback.
    assert (
        f"arn:aws:config:us-east-1:{ACCOUNT}:config-rule/config-rule-aaaaaa"
        in statements["ReadRuleResults"]["Resource"]
    )
    # The LogGroup's Arn return value already ends in ":*" (CloudFormation docs), so ":*" is added twice.
    assert statements["WriteOwnLogs"]["Resource"] == (
        f"arn:aws:logs:us-east-1:{ACCOUNT}:log-group:/aws/lambda/compliance-report-generator-dev:*:*"
    )
    assert generator.trust.kind == TRUST
    for role in roles.values():
        for document in (*role.identity, role.trust):
            parse_policy(document.document, document.name, document.kind)


def test_the_config_role_gets_the_aws_managed_policy_from_the_pinned_copy(template):
    recorder = StackTemplate(template).roles()["compliance-config-recorder-dev"]

    managed, own = recorder.identity
    assert managed.name.startswith(
        "arn:aws:iam::aws:policy/service-role/AWS_ConfigRole (AWS managed"
    )
    actions = {a for s in managed.document["Statement"] for a in s["Action"]}
    assert {"config:Put*", "s3:GetBucketAcl", "sns:GetTopicAttributes"} <= actions
    assert own.logical_id.startswith("ConfigMonitoringRecorderRolePolicy")


def test_resource_policies_govern_their_bucket_topic_and_queue(template):
    policies = StackTemplate(template).resource_policies()

    governed = {arn for p in policies for arn in p.governs}
    assert f"arn:aws:s3:::compliance-reports-dev-{ACCOUNT}" in governed
    assert f"arn:aws:sns:us-east-1:{ACCOUNT}:compliance-alerts-dev" in governed
    assert f"arn:aws:sqs:us-east-1:{ACCOUNT}:compliance-report-requests-dev.fifo" in governed
    reports = next(p for p in policies if f"compliance-reports-dev-{ACCOUNT}" in p.governs[0])
    assert reports.covers(f"arn:aws:s3:::compliance-reports-dev-{ACCOUNT}/reports/a.json")
    assert not reports.covers(f"arn:aws:s3:::compliance-reports-dev-{ACCOUNT}-other/a")
    for policy in policies:
        assert policy.document.kind == RESOURCE
        parse_policy(policy.document.document, policy.document.name, RESOURCE)


def test_other_accounts_and_regions_resolve_too(template):
    roles = StackTemplate(template, account="210987654321", region="eu-west-1").roles()
    statements = roles["compliance-report-generator-dev"].identity[0].document["Statement"]
    resources = {
        r
        for s in statements
        for r in (s["Resource"] if isinstance(s["Resource"], list) else [s["Resource"]])
    }
    assert "arn:aws:sns:eu-west-1:210987654321:compliance-alerts-dev" in resources
    assert "arn:aws:s3:::compliance-reports-dev-210987654321/chain/*" in resources


def test_the_stand_in_ids_name_the_rule_for_offline_use(template):
    statements = (
        StackTemplate(template, deploy_time=stand_in_ids)
        .roles()["compliance-daily-evaluation-dev"]
        .identity[0]
        .document["Statement"]
    )
    assert any("<ConfigMonitoringEc2Imdsv2Check" in r for r in statements[0]["Resource"])


def logical_id(template, kind, text):
    """The logical id of the resource of this type whose properties mention ``text``."""
    for name, resource in template["Resources"].items():
        if resource["Type"] == kind and text in str(resource.get("Properties")):
            return name
    raise AssertionError(f"no {kind} mentioning {text}")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"ManagedPolicyArns": [{"Fn::ImportValue": "x"}]}, "{role}: intrinsic Fn::ImportValue"),
        ({"ManagedPolicyArns": [{"Fn::GetAtt": ["Missing", "Arn"]}]}, "Missing is not a resource"),
        (
            {"ManagedPolicyArns": ["arn:aws:iam::aws:policy/NoSuchPolicy"]},
            "NoSuchPolicy is not in moto",
        ),
        ({"RoleName": None}, "{role} has no RoleName"),
    ],
)
def test_an_unresolvable_template_is_an_error_naming_the_logical_id(template, change, message):
    role = logical_id(template, "AWS::IAM::Role", "compliance-report-generator-")
    props = template["Resources"][role]["Properties"]
    props.update(change)
    if props.get("RoleName") is None:
        props.pop("RoleName")

    with pytest.raises(TemplateError, match=message.format(role=role)):
        StackTemplate(template).roles()


def test_a_bucket_without_a_physical_name_cannot_be_resolved(template):
    bucket = logical_id(template, "AWS::S3::Bucket", "compliance-reports-")
    template["Resources"][bucket]["Properties"].pop("BucketName")

    with pytest.raises(TemplateError, match=f"{bucket} has no BucketName"):
        StackTemplate(template).resource_policies()
