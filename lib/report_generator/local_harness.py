"""Run the report generator's Lambda handler on this machine, as Lambda would run it.

What the tests, the demo and the benchmark give the handler, in one place: the handler module loaded
from the function's folder, a Lambda context, a scheduled event, an SQS record, and the function's
environment built with the same ``function_environment`` the stack uses (the runtime's
``compliance_report/environment.py``), pointed at the local emulator when given its endpoint.

Not part of the Lambda asset (that is ``runtime/`` alone), standard library only, and importable on
CPython 3.9 so the runtime's tests on the deployed Python use it too.

    handler = load_handler()
    env = function_environment(endpoint_url=aws.endpoint_url, bucket="reports-dev", ...)
    with environment(env):
        handler.handler(scheduled_event(suffix="dev"), LambdaContext("compliance-report-generator-dev"))
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import sys
import time
import uuid
from collections.abc import Iterator, Mapping, Sequence
from datetime import datetime, timezone
from pathlib import Path
from types import ModuleType
from typing import Any

from lib.report_generator.runtime.compliance_report import environment as variables

RUNTIME_DIR = Path(__file__).resolve().parent / "runtime"
ACCOUNT = "123456789012"  # the emulator's (moto's) default account
REGION = "us-east-1"
# The function's timeout (infrastructure.TIMEOUT, 5 minutes): a fresh context has this much left.
TIMEOUT_MS = 300_000
# Set in a developer's shell but never in Lambda, and each would change the run: a profile or session
# token instead of the emulator's dummy keys, a store reserve meant for one test, Lambda's JSON logging.
NOT_IN_LAMBDA = (
    "AWS_PROFILE",
    "AWS_SESSION_TOKEN",
    variables.STORE_RESERVE_MS,
    "AWS_LAMBDA_LOG_FORMAT",
)


def function_name(suffix: str) -> str:
    """The function's name for an environment suffix (the stack's ``physical_name``)."""
    return f"compliance-report-generator-{suffix}"


def witness_parameter_name(suffix: str) -> str:
    """The witness parameter's name for an environment suffix (the stack's ``physical_name``)."""
    return f"compliance-chain-head-{suffix}"


def load_handler(module_name: str = "report_generator_handler") -> ModuleType:
    """A fresh instance of ``runtime/handler.py``, loaded as Lambda loads it: the function's folder
    first on ``sys.path`` (Lambda's task root), then the handler file. Each call returns a new
    module, so its module-level client cache belongs to the caller."""
    root = str(RUNTIME_DIR)
    if root not in sys.path:
        sys.path.insert(0, root)
    spec = importlib.util.spec_from_file_location(module_name, RUNTIME_DIR / "handler.py")
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load the report generator handler from {RUNTIME_DIR}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


class LambdaContext:
    """The parts of Lambda's context object the handler reads; the deadline starts now."""

    def __init__(
        self,
        function_name: str = "compliance-report-generator-dev",
        remaining_ms: int = TIMEOUT_MS,
        request_id: str | None = None,
        account: str = ACCOUNT,
        region: str = REGION,
    ) -> None:
        self.function_name = function_name
        self.invoked_function_arn = f"arn:aws:lambda:{region}:{account}:function:{function_name}"
        self.aws_request_id = request_id or str(uuid.uuid4())
        self._deadline = time.monotonic() + remaining_ms / 1000.0

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


def _utc_text(moment: datetime | str | None) -> str:
    if isinstance(moment, str):
        return moment
    moment = moment or datetime.now(timezone.utc)
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def scheduled_event(
    at: datetime | str | None = None,
    event_id: str | None = None,
    suffix: str = "dev",
    account: str = ACCOUNT,
    region: str = REGION,
) -> dict[str, Any]:
    """The EventBridge event the daily schedule sends, at ``at`` (default now), with a new id unless
    given one (a retried delivery carries the same id)."""
    return {
        "version": "0",
        "id": event_id or str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account,
        "time": _utc_text(at),
        "region": region,
        "resources": [f"arn:aws:events:{region}:{account}:rule/compliance-daily-report-{suffix}"],
        "detail": {},
    }


def sqs_record(
    body: Mapping[str, Any] | str,
    message_id: str | None = None,
    sent_at: datetime | None = None,
    receive_count: int = 1,
    suffix: str = "dev",
    account: str = ACCOUNT,
    region: str = REGION,
) -> dict[str, Any]:
    """One record of an SQS event from the request queue, carrying ``body`` (JSON-encoded if not
    already text)."""
    sent = sent_at or datetime.now(timezone.utc)
    return {
        "messageId": message_id or str(uuid.uuid4()),
        "body": body if isinstance(body, str) else json.dumps(body),
        "attributes": {
            "SentTimestamp": str(int(sent.timestamp() * 1000)),
            "ApproximateReceiveCount": str(receive_count),
        },
        "eventSource": "aws:sqs",
        "eventSourceARN": f"arn:aws:sqs:{region}:{account}:compliance-report-requests-{suffix}.fifo",
        "awsRegion": region,
    }


def sqs_event(*records: dict[str, Any]) -> dict[str, Any]:
    return {"Records": list(records)}


def function_environment(
    *,
    bucket: str,
    topic_arn: str,
    rules: Sequence[Mapping[str, str]],
    suffix: str,
    region: str = REGION,
    endpoint_url: str | None = None,
    alert_max_resources: int = variables.DEFAULT_ALERT_MAX_RESOURCES,
    witness_parameter: str | None = None,
    exceptions_register: str | Path | None = None,
) -> dict[str, str]:
    """The environment the function sees: the stack's variables (``rules`` as the stack passes
    them, ``[{"name", "managedIdentifier"}]``; the witness parameter named as the stack names it
    unless given; ``exceptions_register``, a file holding a register's bytes, as the layer's file and
    its content-addressed key), the region Lambda sets, and with ``endpoint_url`` the emulator's
    endpoint and dummy credentials."""
    register_key = register_path = None
    if exceptions_register is not None:
        register_path = str(exceptions_register)
        digest = hashlib.sha256(Path(register_path).read_bytes()).hexdigest()
        register_key = f"exceptions/{digest}.json"
    env = variables.function_environment(
        bucket=bucket,
        topic_arn=topic_arn,
        monitored_rules_json=json.dumps(list(rules)),
        suffix=suffix,
        witness_parameter=witness_parameter or witness_parameter_name(suffix),
        alert_max_resources=alert_max_resources,
        exceptions_register_key=register_key,
        exceptions_register_path=register_path,
    )
    env.update({"AWS_REGION": region, "AWS_DEFAULT_REGION": region})
    if endpoint_url is not None:
        env.update(
            {
                "AWS_ENDPOINT_URL": endpoint_url,
                "AWS_ACCESS_KEY_ID": "testing",
                "AWS_SECRET_ACCESS_KEY": "testing",  # noqa: S105 (the emulator accepts any key)
                "AWS_EC2_METADATA_DISABLED": "true",
            }
        )
    return env


@contextlib.contextmanager
def environment(values: Mapping[str, str]) -> Iterator[None]:
    """``values`` in ``os.environ`` for the block, without the ``NOT_IN_LAMBDA`` variables; every
    variable is restored afterwards."""
    saved = {name: os.environ.get(name) for name in (*values, *NOT_IN_LAMBDA)}
    try:
        for name in NOT_IN_LAMBDA:
            os.environ.pop(name, None)
        os.environ.update(values)
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
