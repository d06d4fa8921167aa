"""The real handler and real boto3 against the local AWS emulator over HTTP, with IAM enforced.

The stack is synthesized from the code under test (``tools/local_aws/deployment.py``, once per change
of ``lib/``), and the emulator enforces its policies: the handler signs as the report generator's
role, the daily evaluation as the scheduler's role, and any request their policies do not allow is
answered ``AccessDenied`` as AWS would. What the deployment itself creates (buckets, topics, queues,
rules, the recorder) is seeded with the admin key, under the template's physical names. A test whose
run is denied anything fails unless it says it expects denials (``@pytest.mark.denials_expected``).

The emulator (tools/local_aws, which needs moto and so the development Python) runs as a child
process (``client.spawn``; ``LOCAL_AWS_PYTHON`` overrides the interpreter) and is driven through its
HTTP control API, so these tests run unchanged on CPython 3.9 (the Lambda runtime) and on 3.11. The
handler, its context and events come from the local harness, as the demo and the benchmark get them.
"""

import base64
import hashlib
import json
import time
from datetime import datetime, timezone

import boto3
import pytest
from botocore.config import Config
from jsonschema import Draft202012Validator

from lib.report_generator import local_harness as harness
from tools.local_aws import estate as seeding
from tools.local_aws.client import spawn
from tools.local_aws.deployment import deploy, for_suffix

REPO = harness.RUNTIME_DIR.parents[2]
SCHEMA = REPO / "schema" / "compliance-report.v1.schema.json"
SUFFIX = "test"


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "denials_expected: the test provokes AccessDenied answers on purpose"
    )


@pytest.fixture(scope="session")
def deployment():
    """The stack synthesized from this checkout for suffix "test" (cached per change of lib/)."""
    return for_suffix(SUFFIX)


@pytest.fixture(scope="session")
def emulator(deployment):
    with spawn() as running:
        running.load_iam(deployment.template)
        yield running


class Estate:
    """The emulated account the generator reports on: the stack's resources, seeded as its
    deployment would create them, and an inbox queue subscribed to the alert topic."""

    def __init__(self, emulator, deployment) -> None:
        self.emulator = emulator
        self.deployment = deployment
        self.BUCKET = deployment.report_bucket
        self.S3_RULE = deployment.rule_for(seeding.S3_RULE)
        self.RDS_RULE = deployment.rule_for(seeding.RDS_RULE)
        self.EC2_RULE = deployment.rule_for(seeding.EC2_RULE)
        self.RECORDER = deployment.recorder["name"]
        self.topic_arn = deployment.alert_topic_arn
        self.clients = seeding.clients(emulator.endpoint_url)  # the admin key: the deployment's
        self.s3, self.sns, self.sqs = self.clients.s3, self.clients.sns, self.clients.sqs
        self.config, self.ec2, self.rds = self.clients.config, self.clients.ec2, self.clients.rds
        self.queue_url = ""

    def seed(self) -> "Estate":
        deploy(self.clients, self.deployment)
        self.queue_url = seeding.subscribe_queue(self.sns, self.sqs, self.topic_arn, "alerts-inbox")
        return self

    def as_role(self, service: str, role: str = "reportGenerator"):
        """A client that signs as one of the stack's roles ("reportGenerator", "dailyEvaluation",
        "configRecorder"), so the emulator evaluates that role's policies."""
        return boto3.client(
            service,
            endpoint_url=self.emulator.endpoint_url,
            region_name=self.deployment.region,
            aws_access_key_id=self.deployment.access_key(role),
            aws_secret_access_key="emulator",  # noqa: S106 (no signature is checked)
            config=Config(retries={"mode": "standard", "max_attempts": 3}),
        )

    def daily_evaluation(self) -> None:
        """What the EventBridge Scheduler schedule does at 05:00 UTC, as its role."""
        config = self.as_role("config", "dailyEvaluation")
        config.start_config_rules_evaluation(**self.deployment.daily_evaluation_input)

    def request_queue_url(self) -> str:
        return self.sqs.get_queue_url(QueueName=self.deployment.request_queue)["QueueUrl"]

    def dead_letter_queue_url(self) -> str:
        return self.sqs.get_queue_url(QueueName=self.deployment.request_dlq)["QueueUrl"]

    def deliver_requests(self, handler_module, context_factory, rounds: int = 10):
        """The function's SQS event source mapping (batch size 1), polling as the function's role:
        receive a message, invoke the handler with it, delete it when the handler returns. When the
        handler raises, the message comes back once its visibility timeout ends (here at once), and
        SQS moves it to the dead-letter queue after maxReceiveCount receives. Returns one
        (message id, handler result or the exception it raised) per invocation."""
        sqs, url, outcomes = self.as_role("sqs"), self.request_queue_url(), []
        for _ in range(rounds):
            answer = sqs.receive_message(
                QueueUrl=url, MaxNumberOfMessages=1, AttributeNames=["All"]
            )
            if not answer.get("Messages"):
                break
            (message,) = answer["Messages"]
            attributes = message["Attributes"]
            record = harness.sqs_record(
                message["Body"],
                message["MessageId"],
                datetime.fromtimestamp(int(attributes["SentTimestamp"]) / 1000, timezone.utc),
                int(attributes["ApproximateReceiveCount"]),
                suffix=SUFFIX,
            )
            try:
                outcome = handler_module.handler(harness.sqs_event(record), context_factory())
                sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
            except Exception as e:  # noqa: BLE001 (Lambda reports any exception as a failed batch)
                outcome = e
                sqs.change_message_visibility(
                    QueueUrl=url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                )
            outcomes.append((message["MessageId"], outcome))
        return outcomes

    def bucket(self, name: str, encrypted: bool) -> str:
        return seeding.create_bucket(self.s3, name, encrypted)

    # -- reading what the generator left ----------------------------------------------------------
    def report_versions(self):
        """Every object version and delete marker under reports/ (a write-once trail has one each)."""
        answer = self.s3.list_object_versions(Bucket=self.BUCKET, Prefix="reports/")
        return answer.get("Versions", []), answer.get("DeleteMarkers", [])

    def report_keys(self):
        versions, _ = self.report_versions()
        return sorted({v["Key"] for v in versions})

    def read(self, key: str) -> bytes:
        return self.s3.get_object(Bucket=self.BUCKET, Key=key)["Body"].read()

    def head(self):
        return self._json("chain/head.json")

    def claim(self, sequence: int):
        """The claim object of one sequence (runtime chain.py), or None."""
        return self._json(f"chain/claims/{sequence:08d}.json")

    def _json(self, key: str):
        try:
            raw = self.read(key)
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
def estate(emulator, deployment, monkeypatch, request):
    emulator.reset()
    emulator.clear_faults()
    seeded = Estate(emulator, deployment).seed()
    for name, value in deployment.function_environment(emulator.endpoint_url).items():
        monkeypatch.setenv(name, value)
    for name in harness.NOT_IN_LAMBDA:
        monkeypatch.delenv(name, raising=False)
    denied_before = emulator.iam()["denied"]
    yield seeded
    emulator.clear_faults()
    status = emulator.iam()
    if status["denied"] != denied_before and not request.node.get_closest_marker(
        "denials_expected"
    ):
        denials = status["recentDenials"][-(status["denied"] - denied_before) :]
        pytest.fail(f"the stack's own policies denied {len(denials)} request(s): {denials}")


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
            stored = estate.s3.head_object(Bucket=estate.BUCKET, Key=key, ChecksumMode="ENABLED")
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
