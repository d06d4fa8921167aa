"""Every AWS operation our code makes maps to an action the reference knows, on an ARN of a resource
type that action acts on (or on "*" where the action has none)."""

import pytest

from tools.local_aws.calls import AwsCall
from tools.local_aws.iam import reference
from tools.local_aws.iam.requests import Unmapped, World, authorizations

ACCOUNT, REGION = "123456789012", "us-east-1"
RULE_ARN = f"arn:aws:config:{REGION}:{ACCOUNT}:config-rule/config-rule-ab12cd"
WORLD = World(
    ACCOUNT,
    "aws",
    lambda region, name: RULE_ARN if name == "s3-rule" else None,
    lambda region: ["s3-rule"],
)
TOPIC = f"arn:aws:sns:{REGION}:{ACCOUNT}:alerts"
QUEUE_URL = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/requests.fifo"


def s3(operation, key="chain/head.json", query="", headers=None):
    params = {"Bucket": "reports"} | ({"Key": key} if key else {})
    environ = {"QUERY_STRING": query} | {
        f"HTTP_{k.upper().replace('-', '_')}": v for k, v in (headers or {}).items()
    }
    return AwsCall("s3", operation, REGION, "AK", "rest-xml", params), environ


def call(service, operation, protocol="json", **params):
    return AwsCall(service, operation, REGION, "AK", protocol, params), {}


# (request, expected [(action, resources)]); Amazon S3 User Guide, Required permissions for Amazon
# S3 API operations, for the S3 rows.
CASES = [
    (s3("GetObject"), [("s3:GetObject", ("arn:aws:s3:::reports/chain/head.json",))]),
    (s3("HeadObject"), [("s3:GetObject", ("arn:aws:s3:::reports/chain/head.json",))]),
    (
        s3("GetObject", query="versionId=v1"),
        [("s3:GetObjectVersion", ("arn:aws:s3:::reports/chain/head.json",))],
    ),
    (
        s3("PutObject", headers={"If-None-Match": "*"}),
        [("s3:PutObject", ("arn:aws:s3:::reports/chain/head.json",))],
    ),
    (
        s3("PutObject", key="AWSLogs/x", headers={"x-amz-acl": "bucket-owner-full-control"}),
        [("s3:PutObject", ("arn:aws:s3:::reports/AWSLogs/x",))],  # no s3:PutObjectAcl: requests.py
    ),
    (
        s3("ListObjectsV2", key="", query="list-type=2&prefix=reports/"),
        [("s3:ListBucket", ("arn:aws:s3:::reports",))],
    ),
    (
        s3("ListObjectVersions", key="", query="versions"),
        [("s3:ListBucketVersions", ("arn:aws:s3:::reports",))],
    ),
    (s3("GetBucketAcl", key=""), [("s3:GetBucketAcl", ("arn:aws:s3:::reports",))]),
    (s3("ListBuckets", key=""), [("s3:ListAllMyBuckets", ("*",))]),
    (
        call("config", "GetComplianceDetailsByConfigRule", ConfigRuleName="s3-rule"),
        [("config:GetComplianceDetailsByConfigRule", (RULE_ARN,))],
    ),
    (
        call("config", "DescribeComplianceByConfigRule", ConfigRuleNames=["s3-rule"]),
        [("config:DescribeComplianceByConfigRule", (RULE_ARN,))],
    ),
    (
        call("config", "DescribeConfigRuleEvaluationStatus", ConfigRuleNames=["s3-rule"]),
        [("config:DescribeConfigRuleEvaluationStatus", (RULE_ARN,))],
    ),
    (
        call("config", "StartConfigRulesEvaluation"),
        [("config:StartConfigRulesEvaluation", (RULE_ARN,))],
    ),
    (
        call("config", "DescribeConfigurationRecorderStatus"),
        [("config:DescribeConfigurationRecorderStatus", ("*",))],
    ),
    (
        call("config", "DescribeDeliveryChannelStatus"),
        [("config:DescribeDeliveryChannelStatus", ("*",))],
    ),
    (call("sns", "Publish", "query", TopicArn=TOPIC), [("sns:Publish", (TOPIC,))]),
    (
        call("sqs", "SendMessage", QueueUrl=QUEUE_URL),
        [("sqs:SendMessage", (f"arn:aws:sqs:{REGION}:{ACCOUNT}:requests.fifo",))],
    ),
    (
        call("sqs", "ReceiveMessage", QueueUrl=QUEUE_URL),
        [("sqs:ReceiveMessage", (f"arn:aws:sqs:{REGION}:{ACCOUNT}:requests.fifo",))],
    ),
    (
        call("monitoring", "PutMetricData", "query", Namespace="ComplianceAudit"),
        [("cloudwatch:PutMetricData", ("*",))],
    ),
    (
        call("logs", "PutLogEvents", logGroupName="/aws/lambda/f", logStreamName="s"),
        [
            (
                "logs:PutLogEvents",
                (f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:/aws/lambda/f:log-stream:s",),
            )
        ],
    ),
]


@pytest.mark.parametrize(("request_", "expected"), CASES, ids=[c[0][0].key for c in CASES])
def test_operations_map_to_reference_actions_on_their_resource_types(request_, expected):
    aws_call, environ = request_

    got = authorizations(aws_call, environ, WORLD)

    assert [(a.action, a.resources) for a in got] == expected
    for authorization in got:
        action = reference.action(authorization.action)
        for arn in authorization.resources:
            if arn != "*" and action.resource_types:
                assert action.resource_type_of(arn) is not None, (authorization.action, arn)


def test_s3_request_headers_and_list_parameters_become_condition_keys():
    (put,) = authorizations(*s3("PutObject", headers={"If-None-Match": "*"}), WORLD)
    (listing,) = authorizations(
        *s3("ListObjectsV2", key="", query="list-type=2&prefix=reports/"), WORLD
    )
    acl = authorizations(
        *s3("PutObject", headers={"x-amz-acl": "bucket-owner-full-control"}), WORLD
    )[0]

    assert put.context["s3:if-none-match"] == ["*"]
    assert listing.context["s3:prefix"] == ["reports/"]
    assert acl.context["s3:x-amz-acl"] == ["bucket-owner-full-control"]


def test_a_rule_that_does_not_exist_gets_an_arn_no_rule_can_have():
    (got,) = authorizations(
        *call("config", "GetComplianceDetailsByConfigRule", ConfigRuleName="gone"), WORLD
    )
    assert got.resources == (f"arn:aws:config:{REGION}:{ACCOUNT}:config-rule/gone",)


def test_unmapped_operations_are_refused_by_name():
    with pytest.raises(Unmapped, match="ec2.DescribeInstances"):
        authorizations(*call("ec2", "DescribeInstances", "ec2"), WORLD)
    assert authorizations(*call("sts", "GetCallerIdentity", "query"), WORLD) == []
