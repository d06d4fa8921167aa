"""GIVEN a message dead-lettered by an SQS redrive policy WHEN StartMessageMoveTask redrives the
dead-letter queue (moto lacks it; the emulator adds it) THEN the message reaches its original source
queue, or the given destination, as a new message with a new message id, as the SQS Developer Guide
says ("All redriven messages are considered new messages with a new messageID and enqueueTime")."""

from __future__ import annotations

import json

import pytest
from botocore.exceptions import ClientError


def arn(sqs, url):
    return sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]


def queues(sqs, fifo=False):
    suffix = ".fifo" if fifo else ""
    extra = {"FifoQueue": "true", "ContentBasedDeduplication": "true"} if fifo else {}
    dlq = sqs.create_queue(QueueName=f"requests-dlq{suffix}", Attributes=extra)["QueueUrl"]
    policy = json.dumps({"deadLetterTargetArn": arn(sqs, dlq), "maxReceiveCount": 1})
    source = sqs.create_queue(
        QueueName=f"requests{suffix}", Attributes={**extra, "RedrivePolicy": policy}
    )["QueueUrl"]
    return source, dlq


def dead_letter(sqs, source, **send):
    """Send one message and fail it once (maxReceiveCount 1): moto moves it on the next receive."""
    sent = sqs.send_message(QueueUrl=source, **send)["MessageId"]
    (first,) = sqs.receive_message(QueueUrl=source, AttributeNames=["All"])["Messages"]
    sqs.change_message_visibility(
        QueueUrl=source, ReceiptHandle=first["ReceiptHandle"], VisibilityTimeout=0
    )
    assert sqs.receive_message(QueueUrl=source).get("Messages", []) == []
    return sent


def one(sqs, url):
    (message,) = sqs.receive_message(
        QueueUrl=url, AttributeNames=["All"], MessageAttributeNames=["All"]
    )["Messages"]
    return message


def test_a_redriven_message_returns_to_its_source_with_a_new_message_id(clients):
    sqs = clients.sqs
    source, dlq = queues(sqs)
    sent = dead_letter(
        sqs,
        source,
        MessageBody='{"action": "generate-report"}',
        MessageAttributes={"origin": {"DataType": "String", "StringValue": "operator"}},
    )
    dead = one(sqs, dlq)
    assert dead["MessageId"] == sent  # moving to the dead-letter queue keeps the id
    sqs.change_message_visibility(
        QueueUrl=dlq, ReceiptHandle=dead["ReceiptHandle"], VisibilityTimeout=0
    )

    handle = sqs.start_message_move_task(SourceArn=arn(sqs, dlq))["TaskHandle"]

    redriven = one(sqs, source)
    assert redriven["MessageId"] != sent
    assert redriven["Body"] == '{"action": "generate-report"}'
    assert redriven["MessageAttributes"]["origin"]["StringValue"] == "operator"
    assert redriven["Attributes"]["ApproximateReceiveCount"] == "1"
    assert int(redriven["Attributes"]["SentTimestamp"]) >= int(dead["Attributes"]["SentTimestamp"])
    (task,) = sqs.list_message_move_tasks(SourceArn=arn(sqs, dlq))["Results"]
    assert task["Status"] == "COMPLETED" and "TaskHandle" not in task
    assert (
        task["ApproximateNumberOfMessagesMoved"] == task["ApproximateNumberOfMessagesToMove"] == 1
    )
    assert sqs.receive_message(QueueUrl=dlq).get("Messages", []) == []
    with pytest.raises(ClientError) as cancel:
        sqs.cancel_message_move_task(TaskHandle=handle)
    assert cancel.value.response["Error"]["Code"] == "UnsupportedOperation"


def test_a_fifo_redrive_keeps_the_group_and_is_not_dropped_as_a_duplicate(clients):
    sqs = clients.sqs
    source, dlq = queues(sqs, fifo=True)
    sent = dead_letter(sqs, source, MessageBody="same body", MessageGroupId="report-generation")

    sqs.start_message_move_task(SourceArn=arn(sqs, dlq))

    # Within the 5-minute deduplication interval and with content-based deduplication on: still kept.
    redriven = one(sqs, source)
    assert redriven["MessageId"] != sent and redriven["Body"] == "same body"
    assert redriven["Attributes"]["MessageGroupId"] == "report-generation"


def test_a_redrive_to_a_given_destination(clients):
    sqs = clients.sqs
    source, dlq = queues(sqs)
    elsewhere = sqs.create_queue(QueueName="inspection")["QueueUrl"]
    dead_letter(sqs, source, MessageBody="look at me")

    sqs.start_message_move_task(
        SourceArn=arn(sqs, dlq), DestinationArn=arn(sqs, elsewhere), MaxNumberOfMessagesPerSecond=5
    )

    assert one(sqs, elsewhere)["Body"] == "look at me"
    assert sqs.receive_message(QueueUrl=source).get("Messages", []) == []
    (task,) = sqs.list_message_move_tasks(SourceArn=arn(sqs, dlq))["Results"]
    assert (
        task["DestinationArn"] == arn(sqs, elsewhere) and task["MaxNumberOfMessagesPerSecond"] == 5
    )


def test_only_a_dead_letter_queue_of_another_queue_can_be_redriven(clients):
    sqs = clients.sqs
    source, _ = queues(sqs)
    for source_arn, code in (
        (arn(sqs, source), "UnsupportedOperation"),
        ("arn:aws:sqs:us-east-1:123456789012:no-such-queue", "ResourceNotFoundException"),
    ):
        with pytest.raises(ClientError) as refused:
            sqs.start_message_move_task(SourceArn=source_arn)
        assert refused.value.response["Error"]["Code"] == code
