"""The real handler and real boto3 against the local AWS emulator over HTTP.

The emulator (tools/local_aws, which needs moto and so the development Python) runs as a child process
(``client.spawn``; ``LOCAL_AWS_PYTHON`` overrides the interpreter) and is driven through its HTTP control
API, so these tests run unchanged on CPython 3.9 (the Lambda runtime) and on 3.11. The handler, its
context, events and environment come from the local harness, as the demo and the benchmark get them.
"""

import base64
import hashlib
import json
import time

import boto3
import pytest
from botocore.config import Config
from jsonschema import Draft202012Validator

from lib.report_generator import local_harness as harness
from tools.local_aws.client import spawn

REPO = harness.RUNTIME_DIR.parents[2]
SCHEMA = REPO / "schema" / "compliance-report.v1.schema.json"

ACCOUNT = harness.ACCOUNT
REGION = harness.REGION
SUFFIX = "test"
BUCKET = "compliance-reports-test"
RULES = [
    {"name": "s3-bucket-sse-test", "managedIdentifier": "S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED"},
    {"name": "rds-storage-encrypted-test", "managedIdentifier": "RDS_STORAGE_ENCRYPTED"},
    {"name": "ec2-imdsv2-check-test", "managedIdentifier": "EC2_IMDSV2_CHECK"},
]
S3_RULE, RDS_RULE, EC2_RULE = (r["name"] for r in RULES)


@pytest.fixture(scope="session")
def emulator():
    with spawn() as running:
        yield running


class Estate:
    """The emulated account the generator reports on, seeded with ordinary boto3 calls."""

    BUCKET = BUCKET
    S3_RULE, RDS_RULE, EC2_RULE = S3_RULE, RDS_RULE, EC2_RULE

    def __init__(self, emulator) -> None:
        self.emulator = emulator
        session = boto3.session.Session(
            aws_access_key_id="testing",
            aws_secret_access_key="testing",  # noqa: S106 (the emulator's dummy credentials)
            region_name=REGION,
        )
        config = Config(retries={"mode": "standard", "max_attempts": 3})

        def make(service):
            return session.client(service, endpoint_url=emulator.endpoint_url, config=config)

        self.s3, self.sns, self.sqs, self.config = (
            make("s3"),
            make("sns"),
            make("sqs"),
            make("config"),
        )
        self.ec2, self.rds = make("ec2"), make("rds")
        self.topic_arn = ""
        self.queue_url = ""

    def seed(self) -> "Estate":
        self.s3.create_bucket(Bucket=BUCKET)
        self.s3.put_bucket_versioning(Bucket=BUCKET, VersioningConfiguration={"Status": "Enabled"})
        self.topic_arn = self.sns.create_topic(Name="compliance-alerts-test")["TopicArn"]
        self.queue_url = self.sqs.create_queue(QueueName="alerts-inbox")["QueueUrl"]
        queue_arn = self.sqs.get_queue_attributes(
            QueueUrl=self.queue_url, AttributeNames=["QueueArn"]
        )["Attributes"]["QueueArn"]
        self.sns.subscribe(TopicArn=self.topic_arn, Protocol="sqs", Endpoint=queue_arn)
        for rule in RULES:
            self.config.put_config_rule(
                ConfigRule={
                    "ConfigRuleName": rule["name"],
                    "Source": {"Owner": "AWS", "SourceIdentifier": rule["managedIdentifier"]},
                }
            )
        self.config.put_configuration_recorder(
            ConfigurationRecorder={
                "name": "default",
                "roleARN": f"arn:aws:iam::{ACCOUNT}:role/aws-config-recorder",
                "recordingGroup": {"allSupported": True, "includeGlobalResourceTypes": False},
            }
        )
        self.s3.create_bucket(Bucket="config-delivery-test")
        self.config.put_delivery_channel(
            DeliveryChannel={"name": "default", "s3BucketName": "config-delivery-test"}
        )
        self.config.start_configuration_recorder(ConfigurationRecorderName="default")
        return self

    def bucket(self, name: str, encrypted: bool) -> str:
        self.s3.create_bucket(Bucket=name)
        if encrypted:
            self.s3.put_bucket_encryption(
                Bucket=name,
                ServerSideEncryptionConfiguration={
                    "Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
                },
            )
        return name

    # -- reading what the generator left ----------------------------------------------------------
    def report_versions(self):
        """Every object version and delete marker under reports/ (a write-once trail has one each)."""
        answer = self.s3.list_object_versions(Bucket=BUCKET, Prefix="reports/")
        return answer.get("Versions", []), answer.get("DeleteMarkers", [])

    def report_keys(self):
        versions, _ = self.report_versions()
        return sorted({v["Key"] for v in versions})

    def read(self, key: str) -> bytes:
        return self.s3.get_object(Bucket=BUCKET, Key=key)["Body"].read()

    def head(self):
        try:
            raw = self.read("chain/head.json")
        except self.s3.exceptions.NoSuchKey:
            return None
        return json.loads(raw)

    def alerts(self, wait_s: float = 2.0):
        """SNS notifications that reached the subscribed queue (SNS envelope JSON)."""
        messages, deadline = [], time.monotonic() + wait_s
        while time.monotonic() < deadline:
            answer = self.sqs.receive_message(
                QueueUrl=self.queue_url, MaxNumberOfMessages=10, WaitTimeSeconds=0
            )
            batch = answer.get("Messages", [])
            for message in batch:
                messages.append(json.loads(message["Body"]))
                self.sqs.delete_message(
                    QueueUrl=self.queue_url, ReceiptHandle=message["ReceiptHandle"]
                )
            if not batch:
                if messages:
                    break
                time.sleep(0.1)
        return messages


@pytest.fixture
def estate(emulator, monkeypatch):
    emulator.reset()
    emulator.clear_faults()
    seeded = Estate(emulator).seed()
    env = harness.function_environment(
        endpoint_url=emulator.endpoint_url,
        bucket=BUCKET,
        topic_arn=seeded.topic_arn,
        rules=RULES,
        suffix=SUFFIX,
        alert_max_resources=5,
    )
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    for name in harness.NOT_IN_LAMBDA:
        monkeypatch.delenv(name, raising=False)
    yield seeded
    emulator.clear_faults()


@pytest.fixture(scope="session")
def handler_module():
    return harness.load_handler()


@pytest.fixture
def context_factory():
    def make(remaining_ms: int = harness.TIMEOUT_MS, request_id: str = ""):
        return harness.LambdaContext(
            harness.function_name(SUFFIX), remaining_ms, request_id or None
        )

    return make


@pytest.fixture
def make_scheduled_event():
    def make(event_id: str = "", time_text: str = "2026-11-26T06:00:00Z"):
        return harness.scheduled_event(time_text, event_id or None, suffix=SUFFIX)

    return make


@pytest.fixture(scope="session")
def report_validator():
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    return Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)


@pytest.fixture
def verify_trail(report_validator):
    """Check the whole trail in the bucket: write-once, schema-valid, and hash-chained without forks."""

    def verify(estate: Estate):
        versions, markers = estate.report_versions()
        assert not markers, f"delete markers in the trail: {markers}"
        keys = [v["Key"] for v in versions]
        assert len(keys) == len(set(keys)), "a report key has more than one version (overwritten)"
        reports = []
        for key in sorted(keys):
            raw = estate.read(key)
            report = json.loads(raw)
            errors = list(report_validator.iter_errors(report))
            assert not errors, f"{key}: {errors[0].message}"
            assert report["complete"] == (not report["errors"])
            sha = hashlib.sha256(raw).hexdigest()
            stored = estate.s3.head_object(Bucket=BUCKET, Key=key, ChecksumMode="ENABLED")
            assert stored.get("ChecksumSHA256") == base64.b64encode(bytes.fromhex(sha)).decode()
            reports.append((report["chain"]["sequence"], key, sha, report))
        reports.sort(key=lambda r: r[0])
        sequences = [r[0] for r in reports]
        assert sequences == list(range(len(reports))), f"sequences fork or skip: {sequences}"
        for (_, prev_key, prev_sha, _), (_, _, _, report) in zip(reports, reports[1:]):
            assert report["chain"]["previousKey"] == prev_key
            assert report["chain"]["previousSha256"] == prev_sha
        if reports:
            first = reports[0][3]["chain"]
            assert first["previousKey"] is None and first["previousSha256"] is None
        return [r[3] for r in reports]

    return verify


@pytest.fixture(autouse=True)
def _names_match_the_tests(request):
    """Test modules name the bucket and rules literally; keep them in step with the seeded estate."""
    module = request.module
    for name in ("BUCKET", "S3_RULE", "RDS_RULE"):
        if hasattr(module, name):
            assert getattr(module, name) == globals()[name], f"{module.__name__}.{name} is stale"
