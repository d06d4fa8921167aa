"""SQS dead-letter-queue redrive: StartMessageMoveTask, ListMessageMoveTasks, CancelMessageMoveTask.

moto 5.2.5 does not implement these; the emulator answers them in SQS's JSON protocol on top of moto's
queues. Amazon SQS API Reference, StartMessageMoveTask: the source must be a dead-letter queue of other
SQS queues; without ``DestinationArn`` "the messages will be redriven back to their respective original
source queues"; "Only one active message movement task is supported per queue at any given time".
Amazon SQS Developer Guide, *Configuring a dead-letter queue redrive*: "All redriven messages are
considered new messages with a new messageID and enqueueTime", and the task resets the retention
period. So each moved message is sent anew (moto's ``send_message``): a new message id, a new
SentTimestamp, no receives yet; its body, message attributes and (FIFO) message group are kept, and its
deduplication id is its new message id, so a FIFO destination never drops it as a duplicate of the
original.

The move is done at once, inside the StartMessageMoveTask call (AWS runs it in the background at up
to 500 messages a second): a task is never seen RUNNING, so CancelMessageMoveTask finds nothing to
cancel. A message's original source queue is the one moto moved it from (recorded by
``moto_patches``); a message with none, redriven without ``DestinationArn``, stays in the
dead-letter queue and the task ends FAILED saying so.
"""

from __future__ import annotations

import base64
import json
import threading
import time
import uuid
from dataclasses import dataclass
from typing import Any

from .calls import AwsCall, error_response

Response = tuple[int, list[tuple[str, str]], bytes]
SOURCE_ATTRIBUTE = "_local_aws_dead_letter_source_arn"  # set on a message moto dead-letters
MAX_RATE = 500  # MaxNumberOfMessagesPerSecond: "maximum ... is 500"


class SqsApiError(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code, self.message = code, message


@dataclass
class MoveTask:
    handle: str
    source_arn: str
    destination_arn: str | None
    rate: int | None
    started_ms: int
    to_move: int
    moved: int = 0
    status: str = "COMPLETED"
    failure: str | None = None

    def describe(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "Status": self.status,
            "SourceArn": self.source_arn,
            "ApproximateNumberOfMessagesMoved": self.moved,
            "ApproximateNumberOfMessagesToMove": self.to_move,
            "StartedTimestamp": self.started_ms,
        }
        if self.destination_arn:
            out["DestinationArn"] = self.destination_arn
        if self.rate is not None:
            out["MaxNumberOfMessagesPerSecond"] = self.rate
        if self.failure:
            out["FailureReason"] = self.failure
        return out


def _backend(arn: str) -> tuple[Any, str]:
    """(moto's SQS backend, queue name) for a queue ARN; SqsApiError when there is no such queue."""
    from moto.sqs.models import sqs_backends

    parts = arn.split(":") if isinstance(arn, str) else []
    if len(parts) != 6 or parts[2] != "sqs":
        raise SqsApiError("InvalidParameterValue", f"Value {arn} for parameter is not a queue ARN.")
    region, account, name = parts[3], parts[4], parts[5]
    backend = sqs_backends[account][region]
    if name not in backend.queues:
        raise SqsApiError(
            "ResourceNotFoundException", "The resource that you requested couldn't be found."
        )
    return backend, name


class SqsRedrive:
    OPERATIONS = ("StartMessageMoveTask", "ListMessageMoveTasks", "CancelMessageMoveTask")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._tasks: list[MoveTask] = []

    def handles(self, operation: str) -> bool:
        return operation in self.OPERATIONS

    def reset(self) -> None:
        with self._lock:
            self._tasks = []

    def handle(self, call: AwsCall) -> Response:
        try:
            with self._lock:
                if call.operation == "StartMessageMoveTask":
                    result = self._start(call.params)
                elif call.operation == "ListMessageMoveTasks":
                    result = self._list(call.params)
                else:
                    result = self._cancel(call.params)
        except SqsApiError as e:
            status, headers, body = error_response(call, e.code, 400, e.message)
            headers.append(("x-amzn-query-error", f"{e.code};Sender"))
            return status, headers, body
        headers = [("Content-Type", call.content_type or "application/x-amz-json-1.0")]
        return 200, headers, json.dumps(result).encode()

    def _start(self, params: dict[str, Any]) -> dict[str, Any]:
        source_arn = params.get("SourceArn")
        backend, source_name = _backend(source_arn)
        destination_arn = params.get("DestinationArn") or None
        destination = _backend(destination_arn) if destination_arn else None
        rate = params.get("MaxNumberOfMessagesPerSecond")
        if rate is not None and (not isinstance(rate, int) or not 1 <= rate <= MAX_RATE):
            raise SqsApiError(
                "InvalidParameterValue",
                f"Value {rate} for parameter MaxNumberOfMessagesPerSecond is invalid. "
                f"Reason: must be between 1 and {MAX_RATE}.",
            )
        sources = [
            q
            for q in backend.queues.values()
            if q.redrive_policy and q.redrive_policy.get("deadLetterTargetArn") == source_arn
        ]
        if not sources:
            raise SqsApiError(
                "UnsupportedOperation",
                f"Source queue {source_arn} must be configured as a dead-letter queue "
                "of another Amazon SQS queue.",
            )
        dlq = backend.queues[source_name]
        waiting = list(dlq._messages)
        task = MoveTask(
            handle=_handle(source_arn),
            source_arn=source_arn,
            destination_arn=destination_arn,
            rate=rate,
            started_ms=int(time.time() * 1000),
            to_move=len(waiting),
        )
        for message in waiting:
            target_arn = destination_arn or getattr(message, SOURCE_ATTRIBUTE, None)
            if target_arn is None:
                continue
            target_backend, target_name = destination or _backend(target_arn)
            target = target_backend.queues[target_name]
            moved_id = str(uuid.uuid4())
            target_backend.send_message(
                target_name,
                message.body,
                message_attributes=message.message_attributes or None,
                deduplication_id=moved_id if target.fifo_queue else None,
                group_id=message.group_id if target.fifo_queue else None,
            )
            dlq._messages.remove(message)
            task.moved += 1
        if task.moved < task.to_move:
            task.status = "FAILED"
            task.failure = (
                f"{task.to_move - task.moved} message(s) have no original source queue; "
                "give DestinationArn to move them"
            )
        self._tasks.append(task)
        return {"TaskHandle": task.handle}

    def _list(self, params: dict[str, Any]) -> dict[str, Any]:
        source_arn = params.get("SourceArn")
        _backend(source_arn)
        limit = params.get("MaxResults", 1)
        if not isinstance(limit, int) or not 1 <= limit <= 10:
            raise SqsApiError(
                "InvalidParameterValue", "Value for parameter MaxResults must be from 1 to 10."
            )
        mine = [t for t in reversed(self._tasks) if t.source_arn == source_arn]
        return {"Results": [t.describe() for t in mine[:limit]]}

    def _cancel(self, params: dict[str, Any]) -> dict[str, Any]:
        handle = params.get("TaskHandle")
        if not any(t.handle == handle for t in self._tasks):
            raise SqsApiError("ResourceNotFoundException", "The task handle is not valid.")
        raise SqsApiError("UnsupportedOperation", "Only a task in RUNNING status can be cancelled.")


def _handle(source_arn: str) -> str:
    raw = json.dumps({"taskId": str(uuid.uuid4()), "sourceArn": source_arn}).encode()
    return base64.b64encode(raw).decode()
