"""Fault injection, latency and call statistics, seen through real boto3 clients."""

from __future__ import annotations

import threading
import time

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tools.local_aws import estate

S3 = "s3-encryption-dev"


def client(aws, service, mode="standard", attempts=3):
    return boto3.client(
        service,
        endpoint_url=aws.endpoint_url,
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # noqa: S106 (dummy credentials for the emulator)
        config=Config(retries={"mode": mode, "total_max_attempts": attempts}),
    )


def test_throttling_is_retried_by_botocore_standard_mode(aws, rules):
    config = client(aws, "config", attempts=3)
    aws.set_faults(
        [
            {
                "service": "config",
                "operation": "GetComplianceDetailsByConfigRule",
                "error": "ThrottlingException",
                "status": 400,
                "count": 2,
            }
        ]
    )
    aws.reset_stats()
    response = config.get_compliance_details_by_config_rule(ConfigRuleName=S3)
    assert response["ResponseMetadata"]["RetryAttempts"] == 2
    stats = aws.stats()
    assert stats["calls"]["config.GetComplianceDetailsByConfigRule"] == 3
    assert stats["faults_fired"]["config.GetComplianceDetailsByConfigRule"] == 2


def test_count_limited_fault_then_success_and_error_code_parsed(aws, rules):
    config = client(aws, "config", attempts=1)
    aws.set_faults(
        [
            {
                "service": "config",
                "operation": "*",
                "error": "ServiceUnavailableException",
                "status": 503,
                "count": 1,
            }
        ]
    )
    with pytest.raises(ClientError) as e:
        config.describe_compliance_by_config_rule()
    assert e.value.response["Error"]["Code"] == "ServiceUnavailableException"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    config.describe_compliance_by_config_rule()  # the fault is spent


def test_fault_matched_by_request_parameter(aws, clients, rules):
    config = client(aws, "config", attempts=1)
    aws.set_faults(
        [
            {
                "service": "config",
                "operation": "GetComplianceDetailsByConfigRule",
                "match": {"ConfigRuleName": "rds-encryption-dev"},
                "error": "ServiceUnavailableException",
                "status": 503,
            }
        ]
    )
    config.get_compliance_details_by_config_rule(ConfigRuleName=S3)
    for _ in range(3):  # count null: fires every time
        with pytest.raises(ClientError):
            config.get_compliance_details_by_config_rule(ConfigRuleName="rds-encryption-dev")
    # list parameters match when they contain the value
    aws.set_faults(
        [
            {
                "service": "config",
                "operation": "DescribeComplianceByConfigRule",
                "match": {"ConfigRuleNames": S3},
                "error": "InternalException",
                "status": 500,
            }
        ]
    )
    config.describe_compliance_by_config_rule(ConfigRuleNames=["ec2-imdsv2-dev"])
    with pytest.raises(ClientError):
        config.describe_compliance_by_config_rule(ConfigRuleNames=["ec2-imdsv2-dev", S3])


def test_s3_fault_by_key_prefix_uses_s3_xml_errors(aws, clients):
    s3 = client(aws, "s3", attempts=1)
    estate.create_bucket(clients.s3, "report-bucket")
    aws.set_faults(
        [
            {
                "service": "s3",
                "operation": "PutObject",
                "match": {"Bucket": "report-bucket", "Key": {"prefix": "reports/"}},
                "error": "AccessDenied",
                "status": 403,
            }
        ]
    )
    s3.put_object(Bucket="report-bucket", Key="chain/head.json", Body=b"{}")
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket="report-bucket", Key="reports/2026/07/01/00000000-x.json", Body=b"{}")
    assert e.value.response["Error"]["Code"] == "AccessDenied"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_sns_query_protocol_error(aws, clients):
    sns = client(aws, "sns", attempts=1)
    topic = clients.sns.create_topic(Name="alerts")["TopicArn"]
    aws.set_faults(
        [
            {
                "service": "sns",
                "operation": "Publish",
                "error": "Throttled",
                "status": 429,
                "count": 1,
            }
        ]
    )
    with pytest.raises(sns.exceptions.ThrottledException):
        sns.publish(TopicArn=topic, Message="hello")
    sns.publish(TopicArn=topic, Message="hello")


def test_seeded_rate_is_reproducible(aws, rules):
    config = client(aws, "config", attempts=1)

    def run():
        aws.set_faults(
            [
                {
                    "service": "config",
                    "operation": "DescribeConfigRules",
                    "error": "ThrottlingException",
                    "rate": 0.5,
                }
            ],
            seed=7,
        )
        outcome = []
        for _ in range(20):
            try:
                config.describe_config_rules()
                outcome.append(True)
            except ClientError:
                outcome.append(False)
        return outcome

    first, second = run(), run()
    assert first == second
    assert 0 < first.count(False) < 20


def test_latency_applies_to_every_call_and_calls_overlap(aws, clients):
    clients.s3.create_bucket(Bucket="latency-bucket")
    aws.set_faults([], latency_ms=150)
    aws.reset_stats()
    started = time.monotonic()
    clients.s3.head_bucket(Bucket="latency-bucket")
    assert time.monotonic() - started >= 0.15

    s3 = clients.s3
    threads = [
        threading.Thread(target=s3.head_bucket, kwargs={"Bucket": "latency-bucket"})
        for _ in range(8)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    stats = aws.stats()
    assert stats["calls"]["s3.HeadBucket"] == 9
    assert stats["in_flight_max"] >= 2  # the latency sleep holds no global lock


def test_stats_name_operations_across_protocols(aws, clients):
    clients.s3.create_bucket(Bucket="stats-bucket")
    clients.s3.put_object(Bucket="stats-bucket", Key="a.json", Body=b"{}")
    clients.s3.get_object(Bucket="stats-bucket", Key="a.json")
    clients.s3.head_object(Bucket="stats-bucket", Key="a.json")
    clients.s3.list_objects_v2(Bucket="stats-bucket")
    clients.s3.list_object_versions(Bucket="stats-bucket")
    clients.s3.put_bucket_encryption(
        Bucket="stats-bucket",
        ServerSideEncryptionConfiguration={
            "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
        },
    )
    clients.s3.delete_bucket_encryption(Bucket="stats-bucket")
    clients.s3.delete_object(Bucket="stats-bucket", Key="a.json")
    clients.sqs.create_queue(QueueName="stats-queue")
    clients.sns.create_topic(Name="stats-topic")
    clients.ec2.describe_instances()
    clients.rds.describe_db_instances()
    clients.config.describe_config_rules()
    calls = aws.stats()["calls"]
    for key in (
        "s3.CreateBucket",
        "s3.PutObject",
        "s3.GetObject",
        "s3.HeadObject",
        "s3.ListObjectsV2",
        "s3.ListObjectVersions",
        "s3.PutBucketEncryption",
        "s3.DeleteBucketEncryption",
        "s3.DeleteObject",
        "sqs.CreateQueue",
        "sns.CreateTopic",
        "ec2.DescribeInstances",
        "rds.DescribeDBInstances",
        "config.DescribeConfigRules",
    ):
        assert calls.get(key) == 1, key
    aws.reset_stats()
    assert aws.stats()["calls"] == {}


def test_conditional_put_is_atomic(aws, clients, monkeypatch):
    # moto checks If-None-Match, then stores; a pause in the store widens that window so that, were
    # the emulator not serialising conditional writes, every writer would pass the check.
    from moto.s3.models import S3Backend

    store = S3Backend.put_object

    def slow_store(self, *args, **kwargs):
        time.sleep(0.1)
        return store(self, *args, **kwargs)

    monkeypatch.setattr(S3Backend, "put_object", slow_store)
    clients.s3.create_bucket(Bucket="chain-bucket")
    outcomes: list[str] = []
    lock = threading.Lock()

    def writer(i):
        try:
            clients.s3.put_object(
                Bucket="chain-bucket", Key="chain/head.json", Body=f"{i}".encode(), IfNoneMatch="*"
            )
            result = "ok"
        except ClientError as e:
            result = e.response["Error"]["Code"]
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=writer, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert outcomes.count("ok") == 1
    assert set(outcomes) - {"ok"} == {"PreconditionFailed"}


def test_head_request_fault_has_status_only(aws, clients):
    s3 = client(aws, "s3", attempts=1)
    clients.s3.create_bucket(Bucket="head-bucket")
    clients.s3.put_object(Bucket="head-bucket", Key="a.json", Body=b"{}")
    aws.set_faults(
        [{"service": "s3", "operation": "HeadObject", "error": "Forbidden", "status": 403}]
    )
    with pytest.raises(ClientError) as e:
        s3.head_object(Bucket="head-bucket", Key="a.json")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403
    s3.get_object(Bucket="head-bucket", Key="a.json")  # other operations unaffected
