"""The real handler and real boto3 against the local AWS emulator over HTTP.

The emulator (tools/local_aws, Python 3.11 only) runs as a subprocess of the development interpreter
(``.venv/bin/python -m tools.local_aws serve``; override with LOCAL_AWS_PYTHON) and is driven through its
HTTP control API, so these tests run unchanged on CPython 3.9 (the Lambda runtime) and on 3.11.
"""

import base64
import hashlib
import importlib.util
import json
import os
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import boto3
import pytest
from botocore.config import Config
from jsonschema import Draft202012Validator

REPO = Path(__file__).resolve().parents[2]
RUNTIME = REPO / "lib" / "report_generator" / "runtime"
SCHEMA = REPO / "schema" / "compliance-report.v1.schema.json"
EMULATOR_PYTHON = os.environ.get("LOCAL_AWS_PYTHON", str(REPO / ".venv" / "bin" / "python"))

ACCOUNT = "123456789012"
REGION = "us-east-1"
BUCKET = "compliance-reports-test"
RULES = [
    {"name": "s3-bucket-sse-test", "managedIdentifier": "S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED"},
    {"name": "rds-storage-encrypted-test", "managedIdentifier": "RDS_STORAGE_ENCRYPTED"},
    {"name": "ec2-imdsv2-check-test", "managedIdentifier": "EC2_IMDSV2_CHECK"},
]
S3_RULE, RDS_RULE, EC2_RULE = (r["name"] for r in RULES)

if str(RUNTIME) not in sys.path:
    sys.path.insert(0, str(RUNTIME))


class Emulator:
    """Client of the emulator's control API (``/_local_aws/...``)."""

    def __init__(self, endpoint_url: str, process: subprocess.Popen) -> None:
        self.endpoint_url = endpoint_url
        self.process = process

    def control(self, method: str, path: str, body=None):
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(  # noqa: S310 (loopback emulator only)
            f"{self.endpoint_url}/_local_aws/{path}",
            data=data,
            method=method,
            headers={"Content-Type": "application/json"},
        )
        # Only ever the emulator on loopback (http://127.0.0.1:<port>).
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
            raw = answer.read()
        return json.loads(raw) if raw else None

    def reset(self):
        return self.control("POST", "reset")

    def set_faults(self, rules=(), latency_ms=0, seed=7):
        return self.control(
            "POST", "faults", {"latency_ms": latency_ms, "seed": seed, "rules": list(rules)}
        )

    def clear_faults(self):
        return self.control("DELETE", "faults")

    def stats(self):
        return self.control("GET", "stats")

    def reset_stats(self):
        return self.control("DELETE", "stats")

    def load_synthetic(self, rule, resource_type, non_compliant=0, compliant=0, not_applicable=0):
        return self.control(
            "POST",
            "config/synthetic",
            {
                "ruleName": rule,
                "resourceType": resource_type,
                "nonCompliant": non_compliant,
                "compliant": compliant,
                "notApplicable": not_applicable,
            },
        )


def start_emulator(port_file: Path) -> Emulator:
    process = subprocess.Popen(  # noqa: S603
        [EMULATOR_PYTHON, "-m", "tools.local_aws", "serve", "--host", "127.0.0.1", "--port", "0"]
        + ["--port-file", str(port_file)],
        cwd=str(REPO),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"emulator exited with {process.returncode} before listening")
        if port_file.exists() and port_file.read_text().strip():
            emulator = Emulator(f"http://127.0.0.1:{int(port_file.read_text())}", process)
            emulator.control("GET", "health")
            return emulator
        time.sleep(0.1)
    process.kill()
    raise RuntimeError("emulator did not write its port file within 60 s")


@pytest.fixture(scope="session")
def emulator(tmp_path_factory):
    emulator = start_emulator(tmp_path_factory.mktemp("local_aws") / "port")
    try:
        yield emulator
    finally:
        emulator.process.terminate()
        try:
            emulator.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            emulator.process.kill()


class Estate:
    """The emulated account the generator reports on, seeded with ordinary boto3 calls."""

    BUCKET = BUCKET
    S3_RULE, RDS_RULE, EC2_RULE = S3_RULE, RDS_RULE, EC2_RULE

    def __init__(self, emulator: Emulator) -> None:
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
    env = {
        "AWS_ENDPOINT_URL": emulator.endpoint_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": REGION,
        "AWS_DEFAULT_REGION": REGION,
        "REPORT_BUCKET": BUCKET,
        "REPORT_PREFIX": "reports/",
        "ALERT_TOPIC_ARN": seeded.topic_arn,
        "MONITORED_RULES": json.dumps(RULES),
        "ENVIRONMENT_SUFFIX": "test",
        "METRICS_NAMESPACE": "ComplianceAudit",
        "ALERT_MAX_RESOURCES": "5",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "STORE_RESERVE_MS", "AWS_LAMBDA_LOG_FORMAT"):
        monkeypatch.delenv(name, raising=False)
    yield seeded
    emulator.clear_faults()


@pytest.fixture(scope="session")
def handler_module():
    spec = importlib.util.spec_from_file_location(
        "report_generator_handler", RUNTIME / "handler.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class LambdaContext:
    """What the generator reads from the Lambda context object."""

    def __init__(self, remaining_ms: int = 300_000, request_id: str = "") -> None:
        self.invoked_function_arn = (
            f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:compliance-report-generator-test"
        )
        self.aws_request_id = request_id or str(uuid.uuid4())
        self.deadline = time.monotonic() + remaining_ms / 1000.0

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self.deadline - time.monotonic()) * 1000))


@pytest.fixture
def context_factory():
    return LambdaContext


def scheduled_event(event_id: str = "", time_text: str = "2026-11-26T06:00:00Z"):
    return {
        "version": "0",
        "id": event_id or str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": ACCOUNT,
        "time": time_text,
        "region": REGION,
        "resources": [f"arn:aws:events:{REGION}:{ACCOUNT}:rule/compliance-daily-report-test"],
        "detail": {},
    }


@pytest.fixture
def make_scheduled_event():
    return scheduled_event


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
