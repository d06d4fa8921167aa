"""The policy engine against the cases of the IAM User Guide's policy evaluation and element pages."""

import pytest

from tools.local_aws.iam import reference
from tools.local_aws.iam.conditions import PolicyError, parse_condition
from tools.local_aws.iam.globs import (
    action_pattern,
    arn_format,
    arn_like,
    literal,
    resource_pattern,
)
from tools.local_aws.iam.policy import (
    ALLOW,
    EXPLICIT_DENY_IDENTITY,
    EXPLICIT_DENY_RESOURCE,
    IDENTITY,
    IMPLICIT_DENY,
    RESOURCE,
    Principal,
    decide,
    parse_policy,
)

ROLE = Principal(
    "role",
    "arn:aws:iam::123456789012:role/reporter",
    "arn:aws:sts::123456789012:assumed-role/reporter/session",
    "123456789012",
)
OTHER = Principal(
    "role",
    "arn:aws:iam::123456789012:role/other",
    "arn:aws:sts::123456789012:assumed-role/other/session",
    "123456789012",
)
ANONYMOUS = Principal("anonymous", account="123456789012")
SECURE = {"aws:securetransport": ["true"], "s3:tlsversion": ["1.3"]}


def identity(*statements):
    return parse_policy({"Version": "2012-10-17", "Statement": list(statements)}, "test", IDENTITY)


def resource_policy(*statements):
    return parse_policy(
        {"Version": "2012-10-17", "Statement": list(statements)}, "bucket", RESOURCE
    )


def allow(action, resource="*", **extra):
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def outcome(action, resource, policies, context=SECURE, principal=ROLE, resource_policies=()):
    return decide(action, resource, principal, context, policies, resource_policies).outcome


# -- patterns ----------------------------------------------------------------------------------------


def test_action_patterns_ignore_case_and_take_wildcards():
    assert action_pattern("s3:Get*").matches("S3:GETOBJECT")
    assert action_pattern("config:Describe?onfigRules").matches("config:DescribeConfigRules")
    assert not action_pattern("s3:Get*").matches("s3:PutObject")


@pytest.mark.parametrize(
    ("pattern", "arn", "expected"),
    [
        # IAM User Guide, Resource: "*" also matches "/" inside a segment.
        ("arn:aws:s3:::bucket/*", "arn:aws:s3:::bucket/chain/head.json", True),
        ("arn:aws:s3:::bucket/chain/*", "arn:aws:s3:::bucket/reports/x.json", False),
        ("arn:aws:s3:::bucket/*/x.json", "arn:aws:s3:::bucket/a/b/x.json", True),
        # "?" is one character.
        ("arn:aws:s3:::bucket-?", "arn:aws:s3:::bucket-1", True),
        ("arn:aws:s3:::bucket-?", "arn:aws:s3:::bucket-12", False),
        # A "*" that ends a segment may run across colons; one inside a segment may not.
        ("arn:aws:sns:*", "arn:aws:sns:us-east-1:123456789012:topic", True),
        ("arn:aws:sns:us-*-1:123456789012:topic", "arn:aws:sns:us-east-1:123456789012:topic", True),
        (
            "arn:aws:logs:us-east-1:1:log-group:a*b",
            "arn:aws:logs:us-east-1:1:log-group:a:x:b",
            False,
        ),
        # Case matters in resources.
        ("arn:aws:s3:::Bucket", "arn:aws:s3:::bucket", False),
        ("*", "*", True),
        ("arn:aws:config:*", "*", False),
    ],
)
def test_resource_patterns_match_as_iam_documents(pattern, arn, expected):
    assert resource_pattern(pattern).matches(arn) is expected


def test_arn_formats_tell_a_bucket_from_an_object():
    bucket = arn_format("arn:${Partition}:s3:::${BucketName}")
    obj = arn_format("arn:${Partition}:s3:::${BucketName}/${ObjectName}")
    assert bucket.matches("arn:aws:s3:::reports") and not bucket.matches("arn:aws:s3:::reports/a")
    assert obj.matches("arn:aws:s3:::reports/a/b.json") and not obj.matches("arn:aws:s3:::reports")
    # A pattern overlaps a format when some ARN matches both.
    assert resource_pattern("arn:aws:s3:::reports/chain/*").overlaps(obj)
    assert not resource_pattern("arn:aws:s3:::reports/chain/*").overlaps(bucket)
    stream = arn_format(
        "arn:${Partition}:logs:${Region}:${Account}:log-group:${LogGroupName}:log-stream:${LogStreamName}"
    )
    assert resource_pattern("arn:aws:logs:us-east-1:1:log-group:/aws/lambda/f:*").overlaps(stream)
    assert not literal("arn:aws:logs:us-east-1:1:log-group:/aws/lambda/f").overlaps(stream)


def test_arn_like_compares_the_six_parts_separately():
    assert arn_like(
        "arn:aws:cloudwatch:us-east-1:1:alarm:*", "arn:aws:cloudwatch:us-east-1:1:alarm:x"
    )
    assert not arn_like("arn:aws:cloudwatch:*", "arn:aws:cloudwatch:us-east-1:1:alarm:x")
    assert arn_like("arn:aws:events:*:1:rule/*", "arn:aws:events:us-east-1:1:rule/daily")


# -- evaluation logic ----------------------------------------------------------------------------------


def test_implicit_deny_without_an_allow():
    policy = identity(allow("s3:GetObject", "arn:aws:s3:::reports/*"))
    assert outcome("s3:GetObject", "arn:aws:s3:::reports/a", [policy]) == ALLOW
    assert outcome("s3:PutObject", "arn:aws:s3:::reports/a", [policy]) == IMPLICIT_DENY
    assert outcome("s3:GetObject", "arn:aws:s3:::other/a", [policy]) == IMPLICIT_DENY


def test_explicit_deny_wins_over_any_allow():
    policy = identity(
        allow("s3:*", "*"),
        {"Effect": "Deny", "Action": "s3:DeleteObject", "Resource": "arn:aws:s3:::reports/*"},
    )
    assert outcome("s3:DeleteObject", "arn:aws:s3:::reports/a", [policy]) == EXPLICIT_DENY_IDENTITY
    assert outcome("s3:DeleteObject", "arn:aws:s3:::logs/a", [policy]) == ALLOW


def test_not_action_allows_everything_else_and_not_resource_everywhere_else():
    policy = identity(
        {"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"},
        {"Effect": "Deny", "Action": "s3:*", "NotResource": "arn:aws:s3:::reports/*"},
    )
    assert outcome("iam:CreateUser", "*", [policy]) == IMPLICIT_DENY
    assert outcome("sns:Publish", "arn:aws:sns:us-east-1:1:t", [policy]) == ALLOW
    assert outcome("s3:GetObject", "arn:aws:s3:::reports/a", [policy]) == ALLOW
    assert outcome("s3:GetObject", "arn:aws:s3:::secrets/a", [policy]) == EXPLICIT_DENY_IDENTITY


def test_resource_policy_allow_and_deny_in_one_account():
    # Same account: either policy's Allow is enough; a Deny in either wins.
    bucket = resource_policy(
        {
            "Effect": "Allow",
            "Principal": {"AWS": ROLE.arn},
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::b/*",
        },
        {
            "Effect": "Deny",
            "Principal": "*",
            "Action": "s3:*",
            "Resource": ["arn:aws:s3:::b", "arn:aws:s3:::b/*"],
            "Condition": {"Bool": {"aws:SecureTransport": "false"}},
        },
    )
    assert outcome("s3:GetObject", "arn:aws:s3:::b/a", [], resource_policies=[bucket]) == ALLOW
    assert (
        outcome("s3:GetObject", "arn:aws:s3:::b/a", [], principal=OTHER, resource_policies=[bucket])
        == IMPLICIT_DENY
    )
    plain_http = {"aws:securetransport": ["false"]}
    denied = outcome(
        "s3:GetObject",
        "arn:aws:s3:::b/a",
        [identity(allow("s3:*"))],
        plain_http,
        resource_policies=[bucket],
    )
    assert denied == EXPLICIT_DENY_RESOURCE


def test_an_account_principal_delegates_instead_of_granting():
    bucket = resource_policy(
        {
            "Effect": "Allow",
            "Principal": {"AWS": "arn:aws:iam::123456789012:root"},
            "Action": "s3:*",
            "Resource": "*",
        }
    )
    assert (
        outcome("s3:GetObject", "arn:aws:s3:::b/a", [], resource_policies=[bucket]) == IMPLICIT_DENY
    )


def test_anonymous_requests_see_only_resource_policies():
    public = resource_policy(
        {
            "Effect": "Allow",
            "Principal": "*",
            "Action": "s3:GetObject",
            "Resource": "arn:aws:s3:::b/*",
        }
    )
    named = resource_policy(
        {
            "Effect": "Allow",
            "Principal": {"AWS": ROLE.arn},
            "Action": "s3:GetObject",
            "Resource": "*",
        }
    )
    assert outcome("s3:GetObject", "arn:aws:s3:::b/a", [], {}, ANONYMOUS, [public]) == ALLOW
    assert outcome("s3:GetObject", "arn:aws:s3:::b/a", [], {}, ANONYMOUS, [named]) == IMPLICIT_DENY


# -- conditions ----------------------------------------------------------------------------------------


def holds(block, context):
    return all(clause.holds(context) for clause in parse_condition(block, "test"))


def test_string_and_arn_operators():
    assert holds({"StringEquals": {"AWS:SourceAccount": "1"}}, {"aws:sourceaccount": ["1"]})
    assert not holds({"StringEquals": {"s3:x-amz-acl": "private"}}, {"s3:x-amz-acl": ["Private"]})
    assert holds(
        {"StringEqualsIgnoreCase": {"s3:x-amz-acl": "private"}}, {"s3:x-amz-acl": ["Private"]}
    )
    assert holds(
        {"StringLike": {"s3:prefix": ["reports/*", "chain/*"]}}, {"s3:prefix": ["chain/x"]}
    )
    assert holds(
        {"ArnLike": {"aws:SourceArn": "arn:aws:cloudwatch:us-east-1:1:alarm:*"}},
        {"aws:sourcearn": ["arn:aws:cloudwatch:us-east-1:1:alarm:a"]},
    )
    assert not holds(
        {"ArnEquals": {"aws:SourceArn": "arn:aws:events:us-east-1:1:rule/a"}},
        {"aws:sourcearn": ["arn:aws:events:us-east-1:1:rule/b"]},
    )


def test_numeric_bool_and_date_operators():
    assert holds({"NumericLessThan": {"s3:TlsVersion": 1.2}}, {"s3:tlsversion": ["1.0"]})
    assert not holds({"NumericLessThan": {"s3:TlsVersion": 1.2}}, {"s3:tlsversion": ["1.3"]})
    assert holds({"Bool": {"aws:SecureTransport": "false"}}, {"aws:securetransport": ["false"]})
    assert not holds({"Bool": {"aws:SecureTransport": False}}, {"aws:securetransport": ["true"]})
    assert holds(
        {"DateLessThan": {"aws:CurrentTime": "2027-01-01T00:00:00Z"}},
        {"aws:currenttime": ["2026-07-01T06:00:00Z"]},
    )


def test_absent_keys_follow_the_documented_rules():
    # Positive operators fail, negated ones hold, IfExists holds, Null tests presence.
    assert not holds({"NumericLessThan": {"s3:TlsVersion": 1.2}}, {})
    assert holds({"StringNotEquals": {"s3:x-amz-acl": "public-read"}}, {})
    assert holds({"StringEqualsIfExists": {"s3:x-amz-acl": "private"}}, {})
    assert not holds(
        {"StringEqualsIfExists": {"s3:x-amz-acl": "private"}}, {"s3:x-amz-acl": ["public-read"]}
    )
    assert holds({"Null": {"s3:x-amz-acl": "true"}}, {})
    assert not holds({"Null": {"s3:x-amz-acl": "true"}}, {"s3:x-amz-acl": ["private"]})


def test_set_operators_over_multivalued_keys():
    tags = {"aws:tagkeys": ["team", "cost"]}
    assert holds({"ForAllValues:StringEquals": {"aws:TagKeys": ["team", "cost", "env"]}}, tags)
    assert not holds({"ForAllValues:StringEquals": {"aws:TagKeys": ["team"]}}, tags)
    assert holds({"ForAllValues:StringEquals": {"aws:TagKeys": ["team"]}}, {})  # nothing to check
    assert holds({"ForAnyValue:StringEquals": {"aws:TagKeys": ["cost"]}}, tags)
    assert not holds({"ForAnyValue:StringEquals": {"aws:TagKeys": ["cost"]}}, {})


@pytest.mark.parametrize(
    "block",
    [
        {"StringEqualz": {"aws:SourceAccount": "1"}},
        {"ForSomeValues:StringEquals": {"aws:TagKeys": "a"}},
        {"NullIfExists": {"s3:x-amz-acl": "true"}},
        {"NumericLessThan": {"s3:TlsVersion": "one point two"}},
        {"Bool": {"aws:SecureTransport": "yes"}},
    ],
)
def test_an_unknown_or_ill_typed_condition_is_an_error_not_an_allow(block):
    with pytest.raises(PolicyError):
        parse_condition(block, "test")


def test_malformed_statements_are_rejected_with_their_place():
    with pytest.raises(PolicyError, match=r"Statement\[0\]: exactly one of Action and NotAction"):
        identity({"Effect": "Allow", "Resource": "*"})
    with pytest.raises(PolicyError, match="cannot name a Principal"):
        identity({"Effect": "Allow", "Principal": "*", "Action": "s3:*", "Resource": "*"})
    with pytest.raises(PolicyError, match="Effect must be Allow or Deny"):
        identity({"Effect": "allow", "Action": "s3:*", "Resource": "*"})
    with pytest.raises(PolicyError, match="needs a Principal"):
        resource_policy({"Effect": "Allow", "Action": "s3:*", "Resource": "*"})


# -- the Service Authorization Reference -------------------------------------------------------------


def test_reference_resource_types_of_the_actions_the_code_calls():
    no_types = [
        "config:DescribeComplianceByConfigRule",
        "config:DescribeConfigRuleEvaluationStatus",
        "config:DescribeDeliveryChannelStatus",
    ]
    for name in no_types:
        assert reference.action(name).resource_types == (), name
    rule = reference.action("config:GetComplianceDetailsByConfigRule")
    assert [t.name for t in rule.resource_types] == ["ConfigRule"]
    assert rule.resource_type_of("arn:aws:config:us-east-1:1:config-rule/config-rule-ab12cd")
    assert reference.action("s3:ListBucket").resource_type_of("arn:aws:s3:::b").name == "bucket"
    assert reference.action("s3:ListBucket").resource_type_of("arn:aws:s3:::b/k") is None
    with pytest.raises(reference.UnknownAction):
        reference.action("config:DescribeEverything")


def test_an_action_without_resource_types_is_authorized_only_by_star():
    # The report generator's defect: the Describe action scoped to rule ARNs. The engine asks IAM
    # about "*" for such an action (enforce.py), which a rule ARN never matches.
    scoped = identity(
        allow(
            ["config:DescribeComplianceByConfigRule", "config:GetComplianceDetailsByConfigRule"],
            ["arn:aws:config:us-east-1:123456789012:config-rule/config-rule-ab12cd"],
        )
    )
    on_star = identity(allow("config:DescribeComplianceByConfigRule", "*"))
    action = reference.action("config:DescribeComplianceByConfigRule")
    resource = "*" if not action.resource_types else "unused"
    assert outcome(action.qualified, resource, [scoped]) == IMPLICIT_DENY
    assert outcome(action.qualified, resource, [on_star]) == ALLOW
    rule_arn = "arn:aws:config:us-east-1:123456789012:config-rule/config-rule-ab12cd"
    assert outcome("config:GetComplianceDetailsByConfigRule", rule_arn, [scoped]) == ALLOW
