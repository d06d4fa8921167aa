#!/usr/bin/env python3
"""Ask a deployed stack for a report now: one message on its FIFO request queue.

The message joins the queue's single message group, so it runs after any report already in progress.
"""

from __future__ import annotations

import argparse
import json
import sys
import uuid

import boto3
from botocore.config import Config

QUEUE = "compliance-report-requests-{suffix}.fifo"
MESSAGE_GROUP = "report-generation"


def request_report(sqs, suffix: str, note: str) -> str:
    url = sqs.get_queue_url(QueueName=QUEUE.format(suffix=suffix))["QueueUrl"]
    response = sqs.send_message(
        QueueUrl=url,
        MessageGroupId=MESSAGE_GROUP,
        # A fresh id: two deliberate requests within SQS's 5-minute window are both kept.
        MessageDeduplicationId=str(uuid.uuid4()),
        MessageBody=json.dumps({"action": "generate-report", "note": note}),
    )
    return response["MessageId"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--suffix", required=True)
    parser.add_argument("--note", default="on-demand report")
    parser.add_argument("--region", default="us-east-1")
    args = parser.parse_args(argv)
    sqs = boto3.client("sqs", region_name=args.region, config=Config(retries={"mode": "standard"}))
    message_id = request_report(sqs, args.suffix, args.note)
    print(f"requested a report from ComplianceAudit-{args.suffix} (message {message_id})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
