"""Shared fixtures of the alert formatter's runtime tests: the sample events, settings, and boto3
clients whose answers come from botocore's Stubber (which also checks every request against the API
model, so a Publish the real SNS would refuse for its shape fails here).

The function's folder is put first on ``sys.path``, as Lambda's task root is, so ``realtime_alerts``
imports as the handler imports it. Runs on the development Python and on CPython 3.9 (the Lambda
runtime): ``make test-py39`` includes this folder.
"""

import hashlib
import json
import sys
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber

from lib.alert_formatter import local_harness as harness

if str(harness.RUNTIME_DIR) not in sys.path:
    sys.path.insert(0, str(harness.RUNTIME_DIR))

from realtime_alerts.settings import load_settings  # noqa: E402

EVENTS = Path(__file__).resolve().parent / "events"
TOPIC = "arn:aws:sns:us-east-1:123456789012:compliance-alerts-prod"
RULES = [
    {
        "name": "s3-bucket-sse-enabled-prod",
        "managedIdentifier": "S3_BUCKET_SERVER_SIDE_ENCRYPTION_ENABLED",
    },
    {"name": "rds-storage-encrypted-prod", "managedIdentifier": "RDS_STORAGE_ENCRYPTED"},
    {"name": "ec2-imdsv2-check-prod", "managedIdentifier": "EC2_IMDSV2_CHECK"},
]


def load_event(name: str):
    return json.loads((EVENTS / name).read_text(encoding="utf-8"))


def make_settings(**overrides):
    env = harness.function_environment(topic_arn=TOPIC, suffix="prod", rules=RULES, **overrides)
    return load_settings(env)


@pytest.fixture
def settings():
    return make_settings()


class Stubbed:
    """A Config and an SNS client, each with a Stubber; ``published`` collects every Publish."""

    def __init__(self) -> None:
        kwargs = dict(
            region_name="us-east-1", aws_access_key_id="testing", aws_secret_access_key="testing"
        )
        self.config = boto3.client("config", **kwargs)
        self.sns = boto3.client("sns", **kwargs)
        self.config_stub = Stubber(self.config)
        self.sns_stub = Stubber(self.sns)
        self.published = []
        self.sns.meta.events.register("provide-client-params.sns.Publish", self._record)

    def _record(self, params, **_):
        self.published.append(dict(params))

    def names(self, items, expected_keys=None, unprocessed=()):
        """Answer one BatchGetResourceConfig with ``items`` (base configuration items)."""
        expected = None if expected_keys is None else {"resourceKeys": expected_keys}
        answer = {"baseConfigurationItems": items}
        if unprocessed:  # the API model gives the list a minimum length of 1: absent when empty
            answer["unprocessedResourceKeys"] = list(unprocessed)
        self.config_stub.add_response("batch_get_resource_config", answer, expected)

    def accept(self, count=1):
        for index in range(count):
            self.sns_stub.add_response("publish", {"MessageId": f"m-{index}"})

    def refuse(self, code="InternalError"):
        self.sns_stub.add_client_error("publish", service_error_code=code, http_status_code=500)

    def __enter__(self):
        self.config_stub.activate()
        self.sns_stub.activate()
        return self

    def __exit__(self, *exc):
        self.config_stub.deactivate()
        self.sns_stub.deactivate()


@pytest.fixture
def stubbed():
    with Stubbed() as clients:
        yield clients
    clients.config_stub.assert_no_pending_responses()
    clients.sns_stub.assert_no_pending_responses()


def ec2_item(instance_id, name=None):
    tags = [{"key": "Name", "value": name}] if name else []
    return {
        "resourceType": "AWS::EC2::Instance",
        "resourceId": instance_id,
        "configuration": json.dumps({"instanceId": instance_id, "tags": tags}),
    }


def rds_item(dbi_resource_id, identifier):
    return {
        "resourceType": "AWS::RDS::DBInstance",
        "resourceId": dbi_resource_id,
        "resourceName": identifier,
        "configuration": json.dumps({"dBInstanceIdentifier": identifier}),
    }


def s3_item(bucket):
    return {
        "resourceType": "AWS::S3::Bucket",
        "resourceId": bucket,
        "resourceName": bucket,
        "configuration": json.dumps({"name": bucket}),
    }


# -- the exceptions register ---------------------------------------------------------------------------
def exception_entry(id_, rule, resource_type, resource_id, created, expires):
    """One register entry (docs/report-format.md, "The register object"); dates as YYYY-MM-DD."""
    return {
        "id": id_,
        "rule": rule,
        "resourceType": resource_type,
        "resourceId": resource_id,
        "reason": "Accepted for the test",
        "approver": "jane.doe@example.com",
        "ticket": "RISK-1234",
        "created": created,
        "expires": expires,
    }


def register_bytes(entries, max_days=365):
    """The deployed register's canonical bytes: keys sorted, compact, UTF-8, one trailing newline."""
    document = {
        "format": "compliance-exceptions/1",
        "maxDays": max_days,
        "exceptions": sorted(entries, key=lambda e: e["id"]),
    }
    text = json.dumps(document, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return (text + "\n").encode("utf-8")


def write_register(folder, entries):
    """The register as the layer holds it, under ``folder``: (its path, the key it deploys as)."""
    path = Path(folder) / "exceptions" / "register.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    body = register_bytes(entries)
    path.write_bytes(body)
    return path, f"exceptions/{hashlib.sha256(body).hexdigest()}.json"
