"""Run the alert formatter's Lambda handler on this machine, as Lambda and its SQS event source
mappings would run it.

What the tests and the demo give the handler, in one place: the handler module loaded from the
function's folder, the function's environment built with the same ``function_environment`` the stack
uses (``runtime/realtime_alerts/environment.py``), and ``deliver``, which does what an SQS event source
mapping does: receive a batch from a queue, invoke the handler with it, delete what succeeded, and
return what the handler reported as failed. The Lambda context and the environment switch are the
report generator harness's (``lib/report_generator/local_harness.py``).

Not part of the Lambda asset (that is ``runtime/`` alone), standard library only (the SQS client is
passed in), and importable on CPython 3.9 so the runtime's tests on the deployed Python use it too.

    handler = load_handler()
    env = function_environment(topic_arn=topic, suffix="dev", rules=rules, endpoint_url=url)
    env.update(register_variables(Path("exceptions/register.json")))  # a register of your own, or
    env.update(local_register(deployment.template, env))  # the synthesized stack's register layer
    with environment(env):
        result = deliver(sqs, queue_url, handler, LambdaContext(function_name("dev")))
"""

from __future__ import annotations

import hashlib
import importlib.util
import json
import sys
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path, PurePosixPath
from types import ModuleType
from typing import Any, Callable

from lib.alert_formatter.runtime.realtime_alerts import environment as variables
from lib.report_generator.local_harness import ACCOUNT, REGION, LambdaContext, environment

__all__ = [
    "ACCOUNT",
    "REGION",
    "LambdaContext",
    "Delivery",
    "deliver",
    "environment",
    "function_environment",
    "function_name",
    "layer_file",
    "load_handler",
    "local_register",
    "register_variables",
    "scheduled_event",
    "sqs_event",
]

RUNTIME_DIR = Path(__file__).resolve().parent / "runtime"
# SQS ReceiveMessage: MaxNumberOfMessages is 1-10 (Amazon SQS API Reference).
RECEIVE_MAX = 10


def function_name(suffix: str) -> str:
    """The function's name for an environment suffix (the stack's ``physical_name``)."""
    return f"compliance-alert-formatter-{suffix}"


def load_handler(module_name: str = "alert_formatter_handler") -> ModuleType:
    """A fresh instance of ``runtime/handler.py``, loaded as Lambda loads it: the function's folder
    first on ``sys.path`` (Lambda's task root), then the handler file."""
    root = str(RUNTIME_DIR)
    if root not in sys.path:
        sys.path.insert(0, root)
    spec = importlib.util.spec_from_file_location(module_name, RUNTIME_DIR / "handler.py")
    if spec is None or spec.loader is None:
        raise RuntimeError(f"cannot load the alert formatter handler from {RUNTIME_DIR}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def function_environment(
    *,
    topic_arn: str,
    suffix: str,
    rules: Sequence[Mapping[str, str]],
    region: str = REGION,
    endpoint_url: str | None = None,
    access_key: str = "testing",
    **settings: Any,
) -> dict[str, str]:
    """The environment the function sees: the stack's variables (``rules`` as the stack passes them,
    ``[{"name", "managedIdentifier"}]``; ``settings`` as ``function_environment`` takes them), the
    region Lambda sets, and with ``endpoint_url`` the emulator's endpoint and ``access_key``."""
    env = variables.function_environment(
        topic_arn=topic_arn, suffix=suffix, monitored_rules_json=json.dumps(list(rules)), **settings
    )
    env.update({"AWS_REGION": region, "AWS_DEFAULT_REGION": region})
    if endpoint_url is not None:
        env.update(
            {
                "AWS_ENDPOINT_URL": endpoint_url,
                "AWS_ACCESS_KEY_ID": access_key,
                "AWS_SECRET_ACCESS_KEY": "testing",  # noqa: S105 (the emulator checks no signature)
                "AWS_EC2_METADATA_DISABLED": "true",
            }
        )
    return env


def register_variables(path: Path) -> dict[str, str]:
    """The register variables for a register file on this machine (in AWS, the layer's file under
    /opt): its path, and the key its bytes are deployed as, ``exceptions/<sha256>.json``."""
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return {
        variables.EXCEPTIONS_REGISTER_PATH: str(path),
        variables.EXCEPTIONS_REGISTER_KEY: f"exceptions/{digest}.json",
    }


def layer_file(template_path: str | Path, opt_path: str) -> Path | None:
    """Where the file a layer puts at ``opt_path`` (under /opt, where Lambda extracts layers) is in
    a synthesized cloud assembly: the folder of the one layer asset of the template that holds it
    (the stack's ``<stack>.assets.json`` names each asset's folder by its object key). None when no
    layer, or more than one, holds such a file."""
    template = Path(template_path)
    inside = PurePosixPath(opt_path).relative_to("/opt")
    manifest = template.with_name(template.name.replace(".template.json", ".assets.json"))
    folders = {
        destination["objectKey"]: template.parent / asset["source"]["path"]
        for asset in json.loads(manifest.read_text(encoding="utf-8"))["files"].values()
        for destination in asset["destinations"].values()
    }
    found = []
    for resource in json.loads(template.read_text(encoding="utf-8"))["Resources"].values():
        if resource["Type"] != "AWS::Lambda::LayerVersion":
            continue
        folder = folders.get(resource["Properties"]["Content"].get("S3Key"))
        if folder is not None and (folder / inside).is_file():
            found.append(folder / inside)
    return found[0] if len(found) == 1 else None


def local_register(template_path: str | Path, env: Mapping[str, str]) -> dict[str, str]:
    """The register variable to add to a deployed function's ``env`` on this machine: the layer's
    file in the synthesized assembly instead of /opt. Nothing when ``env`` names no register under
    /opt or the assembly holds no such layer file (the function then says the register is
    unreadable, as it would in AWS)."""
    path = env.get(variables.EXCEPTIONS_REGISTER_PATH, "")
    if not path.startswith("/opt/"):
        return {}
    local = layer_file(template_path, path)
    return {} if local is None else {variables.EXCEPTIONS_REGISTER_PATH: str(local)}


def sqs_record(
    body: Mapping[str, Any] | str,
    message_id: str | None = None,
    queue_arn: str = f"arn:aws:sqs:{REGION}:{ACCOUNT}:compliance-changes-dev",
    sent_at: datetime | None = None,
    receive_count: int = 1,
) -> dict[str, Any]:
    """One record of an SQS event carrying ``body`` (an EventBridge event; JSON-encoded if not text)."""
    sent = sent_at or datetime.now(timezone.utc)
    return {
        "messageId": message_id or str(uuid.uuid4()),
        "body": body if isinstance(body, str) else json.dumps(body),
        "attributes": {
            "SentTimestamp": str(int(sent.timestamp() * 1000)),
            "ApproximateReceiveCount": str(receive_count),
        },
        "eventSource": "aws:sqs",
        "eventSourceARN": queue_arn,
        "awsRegion": queue_arn.split(":")[3],
    }


def sqs_event(records: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    return {"Records": [dict(r) for r in records]}


def scheduled_event(
    at: datetime | str,
    rule_arn: str,
    event_id: str | None = None,
    account: str = ACCOUNT,
    region: str = REGION,
) -> dict[str, Any]:
    """The EventBridge event a schedule rule sends at ``at`` (the status check's)."""
    text = at if isinstance(at, str) else at.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
    return {
        "version": "0",
        "id": event_id or str(uuid.uuid4()),
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account,
        "time": text,
        "region": region,
        "resources": [rule_arn],
        "detail": {},
    }


@dataclass
class Delivery:
    """One invocation by the local event source mapping."""

    records: int
    result: Any = None  # the handler's answer, or the exception it raised
    failed: list[str] = field(default_factory=list)  # message ids handed back to the queue
    bodies: list[Any] = field(default_factory=list)  # the EventBridge events delivered


def deliver(
    sqs: Any,
    queue_url: str,
    handler: Any,
    context_factory: Callable[[], Any],
    batch_size: int = 10_000,
) -> Delivery | None:
    """What a Lambda SQS event source mapping with ReportBatchItemFailures does once: gather up to
    ``batch_size`` messages that are visible now (the batching window is what the caller let
    accumulate), invoke the handler with them, delete the ones it did not report as failed, and make
    the failed ones visible again at once (in AWS they return when their visibility timeout ends).
    None when the queue is empty. A handler that raises fails the whole batch."""
    messages: list[dict[str, Any]] = []
    queue_arn = _queue_arn(sqs, queue_url)
    while len(messages) < batch_size:
        answer = sqs.receive_message(
            QueueUrl=queue_url,
            MaxNumberOfMessages=min(RECEIVE_MAX, batch_size - len(messages)),
            AttributeNames=["All"],
            WaitTimeSeconds=0,
        )
        got = answer.get("Messages", [])
        if not got:
            break
        messages.extend(got)
    if not messages:
        return None
    records = [
        sqs_record(
            m["Body"],
            m["MessageId"],
            queue_arn,
            datetime.fromtimestamp(int(m["Attributes"]["SentTimestamp"]) / 1000, timezone.utc),
            int(m["Attributes"]["ApproximateReceiveCount"]),
        )
        for m in messages
    ]
    delivery = Delivery(len(records), bodies=[_json(m["Body"]) for m in messages])
    try:
        delivery.result = handler.handler(sqs_event(records), context_factory())
        failed = {f["itemIdentifier"] for f in delivery.result.get("batchItemFailures", [])}
    except Exception as e:  # noqa: BLE001 (Lambda counts any exception as a failed batch)
        delivery.result, failed = e, {m["MessageId"] for m in messages}
    delivery.failed = sorted(failed)
    for message in messages:
        if message["MessageId"] in failed:
            sqs.change_message_visibility(
                QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
            )
        else:
            sqs.delete_message(QueueUrl=queue_url, ReceiptHandle=message["ReceiptHandle"])
    return delivery


def _queue_arn(sqs: Any, queue_url: str) -> str:
    answer = sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])
    return str(answer["Attributes"]["QueueArn"])


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        return text
