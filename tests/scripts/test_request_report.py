"""`make report-now` puts one on-demand request in the stack's FIFO queue, in the one message group."""

from __future__ import annotations

import json

import boto3

from scripts.request_report import MESSAGE_GROUP, request_report
from tools.local_aws import LocalAws


def test_request_lands_in_the_fifo_queue_with_the_note():
    with LocalAws(port=0) as aws:
        # GIVEN the stack's request queue
        sqs = boto3.client(
            "sqs",
            endpoint_url=aws.endpoint_url,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        url = sqs.create_queue(
            QueueName="compliance-report-requests-qa.fifo",
            Attributes={"FifoQueue": "true", "ContentBasedDeduplication": "true"},
        )["QueueUrl"]

        # WHEN two reports are requested with the same note
        first = request_report(sqs, "qa", "after remediation")
        second = request_report(sqs, "qa", "after remediation")

        # THEN both are queued (deliberate requests are not deduplicated), in order, in the one group
        received = sqs.receive_message(
            QueueUrl=url, MaxNumberOfMessages=10, AttributeNames=["MessageGroupId"]
        )["Messages"]
        assert [m["MessageId"] for m in received] == [first, second]
        for message in received:
            assert json.loads(message["Body"]) == {
                "action": "generate-report",
                "note": "after remediation",
            }
            assert message["Attributes"]["MessageGroupId"] == MESSAGE_GROUP
