"""DeleteStack as AWS runs it when a bucket still holds objects (cloudformation_delete.py): the bucket
fails, the stack is DELETE_FAILED, and DeleteStack with RetainResources then deletes the stack and keeps
the bucket."""

from __future__ import annotations

import json

import boto3
import pytest
from botocore.exceptions import ClientError

from tools.local_aws.cloudformation_delete import BUCKET_NOT_EMPTY

TEMPLATE = {
    "Resources": {
        "Kept": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "cfn-kept"}},
        "Emptied": {"Type": "AWS::S3::Bucket", "Properties": {"BucketName": "cfn-emptied"}},
        "Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "cfn-topic"}},
    },
    "Outputs": {"KeptName": {"Value": {"Ref": "Kept"}}},
}


@pytest.fixture
def cfn_and_s3(aws):
    def make(service):
        return boto3.client(
            service,
            endpoint_url=aws.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )

    return make("cloudformation"), make("s3"), make("sns")


def _stack(cfn, s3) -> str:
    stack_id = cfn.create_stack(StackName="cfn-delete", TemplateBody=json.dumps(TEMPLATE))[
        "StackId"
    ]
    s3.put_object(Bucket="cfn-kept", Key="report.json", Body=b"{}")
    return stack_id


def _status(cfn, stack_id):
    stack = cfn.describe_stacks(StackName=stack_id)["Stacks"][0]
    return stack["StackStatus"], stack.get("StackStatusReason")


def test_a_bucket_with_objects_fails_the_delete_and_stays_in_the_stack(cfn_and_s3):
    cfn, s3, sns = cfn_and_s3
    stack_id = _stack(cfn, s3)

    cfn.delete_stack(StackName="cfn-delete")

    assert _status(cfn, stack_id) == (
        "DELETE_FAILED",
        "The following resource(s) failed to delete: [Kept]. ",
    )
    (failed,) = cfn.list_stack_resources(StackName=stack_id)["StackResourceSummaries"]
    assert (failed["LogicalResourceId"], failed["ResourceStatus"]) == ("Kept", "DELETE_FAILED")
    assert failed["ResourceStatusReason"] == BUCKET_NOT_EMPTY
    names = {b["Name"] for b in s3.list_buckets()["Buckets"]}
    assert "cfn-kept" in names and "cfn-emptied" not in names
    assert not sns.list_topics()["Topics"]
    outputs = cfn.describe_stacks(StackName=stack_id)["Stacks"][0]["Outputs"]
    assert outputs == [{"OutputKey": "KeptName", "OutputValue": "cfn-kept"}]


def test_retain_resources_deletes_the_stack_and_keeps_the_bucket(cfn_and_s3):
    cfn, s3, _ = cfn_and_s3
    stack_id = _stack(cfn, s3)
    cfn.delete_stack(StackName=stack_id)

    cfn.delete_stack(StackName=stack_id, RetainResources=["Kept"])

    assert _status(cfn, stack_id) == ("DELETE_COMPLETE", None)
    assert s3.get_object(Bucket="cfn-kept", Key="report.json")["Body"].read() == b"{}"
    with pytest.raises(ClientError, match="does not exist"):
        cfn.describe_stacks(StackName="cfn-delete")


def test_an_emptied_bucket_is_deleted_on_the_next_attempt(cfn_and_s3):
    cfn, s3, _ = cfn_and_s3
    stack_id = _stack(cfn, s3)
    cfn.delete_stack(StackName=stack_id)

    s3.delete_object(Bucket="cfn-kept", Key="report.json")  # unversioned: gone
    cfn.delete_stack(StackName=stack_id)

    assert _status(cfn, stack_id)[0] == "DELETE_COMPLETE"
    assert "cfn-kept" not in {b["Name"] for b in s3.list_buckets()["Buckets"]}


def test_retain_resources_is_refused_unless_the_stack_is_delete_failed(cfn_and_s3):
    cfn, s3, _ = cfn_and_s3
    stack_id = _stack(cfn, s3)

    with pytest.raises(ClientError, match="only when the stack is in the DELETE_FAILED state"):
        cfn.delete_stack(StackName=stack_id, RetainResources=["Kept"])
    assert _status(cfn, stack_id)[0] == "CREATE_COMPLETE"


def test_retaining_a_resource_already_deleted_is_refused(cfn_and_s3):
    cfn, s3, _ = cfn_and_s3
    stack_id = _stack(cfn, s3)
    cfn.delete_stack(StackName=stack_id)

    with pytest.raises(ClientError, match="must be in a valid state"):
        cfn.delete_stack(StackName=stack_id, RetainResources=["Kept", "Topic"])
    assert _status(cfn, stack_id)[0] == "DELETE_FAILED"
