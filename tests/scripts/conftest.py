"""An emulated account holding a ComplianceAudit stack, for the operator scripts' tests.

The stack is deployed through the emulator's CloudFormation (moto's) from a small template with the
real stack's outputs (``lib/stack_outputs.py``) and physical names: the two report-storage buckets, the
alert topic, the FIFO request queue, and the Config recorder and channel as the real template names
them (moto does not model Config resources in CloudFormation; it keeps them in the template, which is
where the preflight looks). The scripts run as the operator runs them, as processes, with
``AWS_ENDPOINT_URL`` pointing botocore (and the auditor) at the emulator.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import boto3
import pytest

from lib.stack_outputs import (
    ALERT_FORMATTER,
    ALERT_TOPIC,
    REPORT_BUCKET,
    REPORT_GENERATOR,
    REQUEST_QUEUE,
)
from lib.stack_outputs import stack_name as stack_name_of
from tools.local_aws import LocalAws

ROOT = Path(__file__).resolve().parents[2]
ACCOUNT = "123456789012"  # the emulator's
REGION = "us-east-1"


def reports_bucket(suffix: str) -> str:
    return f"compliance-reports-{suffix}-{ACCOUNT}"


def logs_bucket(suffix: str) -> str:
    return f"compliance-access-logs-{suffix}-{ACCOUNT}"


def recorder_name(suffix: str) -> str:
    return f"compliance-recorder-{suffix}"


def stack_template(suffix: str, *, creates_recorder: bool = True) -> dict[str, Any]:
    resources: dict[str, Any] = {
        "ReportStorageReports": {
            "Type": "AWS::S3::Bucket",
            "Properties": {"BucketName": reports_bucket(suffix)},
        },
        "ReportStorageAccessLogs": {
            "Type": "AWS::S3::Bucket",
            "Properties": {"BucketName": logs_bucket(suffix)},
        },
        "AlertingAlerts": {
            "Type": "AWS::SNS::Topic",
            "Properties": {"TopicName": f"compliance-alerts-{suffix}"},
        },
        "ReportGeneratorRequests": {
            "Type": "AWS::SQS::Queue",
            "Properties": {
                "QueueName": f"compliance-report-requests-{suffix}.fifo",
                "FifoQueue": True,
            },
        },
    }
    if creates_recorder:
        resources["ConfigMonitoringRecorder"] = {
            "Type": "AWS::Config::ConfigurationRecorder",
            "Properties": {"Name": recorder_name(suffix)},
        }
        resources["ConfigMonitoringDeliveryChannel"] = {
            "Type": "AWS::Config::DeliveryChannel",
            "Properties": {"Name": f"compliance-delivery-{suffix}"},
        }
    return {
        "Resources": resources,
        "Outputs": {
            REPORT_BUCKET.key: {"Value": {"Ref": "ReportStorageReports"}},
            ALERT_TOPIC.key: {"Value": {"Ref": "AlertingAlerts"}},
            REQUEST_QUEUE.key: {"Value": {"Ref": "ReportGeneratorRequests"}},
            REPORT_GENERATOR.key: {"Value": f"compliance-report-generator-{suffix}"},
            ALERT_FORMATTER.key: {"Value": f"compliance-alert-formatter-{suffix}"},
        },
    }


def clean_environment() -> dict[str, str]:
    """This process's environment without any AWS setting, and no instance metadata service; also
    without the variables an enclosing `make test` exports (MAKEFLAGS, MAKELEVEL, ...), so a make
    target runs as an operator's shell would run it, not as a sub-make with its "make[2]:" lines."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith("AWS_")
        and k not in ("MAKEFLAGS", "MAKELEVEL", "MFLAGS", "MAKEOVERRIDES")
    }
    env["AWS_EC2_METADATA_DISABLED"] = "true"
    return env


@pytest.fixture
def no_credentials(tmp_path) -> dict[str, str]:
    """An environment with empty AWS config and credentials files and no credential variables."""
    (tmp_path / "config").write_text("")
    (tmp_path / "credentials").write_text("")
    return {
        **clean_environment(),
        "AWS_CONFIG_FILE": str(tmp_path / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
    }


@dataclass
class Account:
    """The emulated account: boto3 clients, the scripts' environment, and stacks to deploy."""

    aws: LocalAws
    cloudformation: Any
    s3: Any
    sqs: Any
    config: Any
    env: dict[str, str]

    def deploy(self, suffix: str, *, creates_recorder: bool = True) -> str:
        """Create ComplianceAudit-<suffix>; its reports bucket versioned, as the real one is."""
        stack_id = self.cloudformation.create_stack(
            StackName=stack_name_of(suffix),
            TemplateBody=json.dumps(stack_template(suffix, creates_recorder=creates_recorder)),
        )["StackId"]
        for bucket in (reports_bucket(suffix), logs_bucket(suffix)):
            self.s3.put_bucket_versioning(
                Bucket=bucket, VersioningConfiguration={"Status": "Enabled"}
            )
        return str(stack_id)

    def put_reports(self, bucket: str, count: int, deletes: int = 0) -> None:
        for i in range(count):
            self.s3.put_object(Bucket=bucket, Key=f"reports/{i:04d}.json", Body=b"{}")
        for i in range(deletes):
            self.s3.delete_object(Bucket=bucket, Key=f"reports/{i:04d}.json")

    def lock(self, bucket: str, days: int = 1) -> None:
        """S3 Object Lock with a default COMPLIANCE retention, as reportObjectLock=compliance sets."""
        self.s3.put_object_lock_configuration(
            Bucket=bucket,
            ObjectLockConfiguration={
                "ObjectLockEnabled": "Enabled",
                "Rule": {"DefaultRetention": {"Mode": "COMPLIANCE", "Days": days}},
            },
        )

    def stack_status(self, stack_id: str) -> str:
        return str(
            self.cloudformation.describe_stacks(StackName=stack_id)["Stacks"][0]["StackStatus"]
        )

    def buckets(self) -> set[str]:
        return {b["Name"] for b in self.s3.list_buckets().get("Buckets", [])}

    def versions(self, bucket: str) -> int:
        answer = self.s3.list_object_versions(Bucket=bucket)
        return len(answer.get("Versions", [])) + len(answer.get("DeleteMarkers", []))


@pytest.fixture(scope="session")
def emulator():
    with LocalAws(host="127.0.0.1", port=0) as running:
        yield running


@pytest.fixture
def account(emulator) -> Account:
    """An empty emulated account (every test starts from one)."""
    emulator.reset()
    session = boto3.session.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=REGION
    )

    def make(service: str) -> Any:
        return session.client(service, endpoint_url=emulator.endpoint_url)

    env = {
        **clean_environment(),
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_ENDPOINT_URL": emulator.endpoint_url,
    }
    return Account(emulator, make("cloudformation"), make("s3"), make("sqs"), make("config"), env)


def run_script(
    module: str, *args: str, env: dict[str, str], stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    """``python -m scripts.<module> ARGS`` from the checkout, as the Makefile runs it."""
    return _run([sys.executable, "-m", f"scripts.{module}", *args], env, stdin)


def run_make(
    target: str, *variables: str, env: dict[str, str], stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    """``make -s TARGET VARIABLES`` in the checkout."""
    return _run(["make", "--no-print-directory", "-s", target, *variables], env, stdin)


def _run(command: list[str], env: dict[str, str], stdin: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        command, cwd=ROOT, env=env, input=stdin, capture_output=True, text=True, timeout=300
    )


def own_lines(result: subprocess.CompletedProcess[str]) -> list[str]:
    """What a command printed, without make's own ``make: *** [...] Error 1`` trailer."""
    text = result.stdout + result.stderr
    return [line for line in text.splitlines() if line.strip() and not line.startswith("make: ***")]
